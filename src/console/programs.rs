//! Administrators write programmes here: a draft with its guide, window, money and the three structured
//! parts (eligibility rules, required materials, form fields), each edited as rows of inputs. "Add row" and
//! "remove" post the form back to itself and save nothing; only "save" calls the use case. Amounts are
//! typed in yuan, sizes in MB, times in the park's time zone.

use actix_web::{HttpResponse, web};
use askama::Template;
use chrono::{DateTime, FixedOffset, NaiveDateTime, TimeZone, Utc};
use serde::Deserialize;

use crate::app::programs::{self, Program};
use crate::console::dashboard::html;
use crate::console::failure::{Failure, explain, refused_status};
use crate::console::session::{Posted, Staff, see_other};
use crate::console::view::Frame;
use crate::db::Db;
use crate::domain::company::Industry;
use crate::domain::eligibility::Rule;
use crate::domain::error::{Error as Refusal, FieldError};
use crate::domain::files::FileType;
use crate::domain::money::{parse_yuan, yuan};
use crate::domain::program::{
    Category, FieldType, FormField, Guide, Material, ProgramPatch, ProgramStatus, ProgramTerms,
};
use crate::domain::role::Role;
use crate::i18n::Text;

const MIB: i64 = 1024 * 1024;

/// The guide's parts in the order the form shows them, with their labels; `true` for a long text.
const GUIDE: [(&str, &str, &str, bool); 7] = [
    ("beneficiaries", "支持对象", "Who may apply", true),
    ("conditions", "申报条件", "Conditions", true),
    ("award_standard", "支持标准", "Award standard", true),
    ("deadline_note", "申报时间说明", "About the deadline", false),
    ("contact_phone", "咨询电话", "Contact phone", false),
    ("consulting_address", "咨询地址", "Consulting address", false),
    ("policy_basis", "政策依据", "Policy basis", false),
];

/// The rule types an administrator picks from, with what the value next to it means.
const RULES: [(&str, &str, &str); 12] = [
    ("company_verified", "企业已通过园区认证", "Company verified by the park"),
    ("industry_in", "所属行业属于（填行业，用“、”分隔）", "Industry is one of (industries, comma-separated)"),
    ("park_zone_in", "位于园区（填园区，用“、”分隔）", "Located in (park zones, comma-separated)"),
    ("min_years_established", "注册成立满（年）", "Established at least (years)"),
    ("min_employees", "职工人数不少于（人）", "Employees at least (people)"),
    ("min_rd_staff_ratio", "研发人员占比不低于（%）", "R&D staff at least (%)"),
    ("min_rd_expense_ratio", "研发投入占营业收入比例不低于（%）", "R&D expense of revenue at least (%)"),
    (
        "rd_expense_ratio_by_revenue_band",
        "研发投入占比符合高企分档（5%/4%/3%）",
        "R&D expense by the high-tech revenue bands (5/4/3 %)",
    ),
    ("revenue_between", "上年度营业收入区间（元，如 0-50,000,000）", "Last year's revenue (yuan, e.g. 0-50,000,000)"),
    ("high_tech_certified", "持有有效的高新技术企业证书", "Holds a valid high-tech certificate"),
    ("tech_sme", "已入库科技型中小企业", "Registered tech-based SME"),
    ("min_registered_capital", "注册资本不低于（元）", "Registered capital at least (yuan)"),
];

/// One eligibility rule as typed: its type and one value whose meaning the type gives.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RuleRow {
    pub kind: String,
    pub value: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MaterialRow {
    pub key: String,
    pub name: String,
    pub required: bool,
    pub types: Vec<String>,
    pub max_mb: String,
}

impl MaterialRow {
    pub fn accepts(&self, file_type: &&FileType) -> bool {
        self.types.iter().any(|t| t == file_type.as_str())
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldRow {
    pub key: String,
    pub label: String,
    pub kind: String,
    pub required: bool,
    pub max_length: String,
    pub min: String,
    pub max: String,
    pub options: String,
}

/// A programme as its form shows it: text as typed, so a refused form comes back as it was sent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProgramForm {
    pub code: String,
    pub title: String,
    pub category: String,
    pub summary: String,
    pub guide: Vec<String>,
    pub opens_at: String,
    pub closes_at: String,
    pub budget_yuan: String,
    pub max_award_yuan: String,
    pub public_notice_days: String,
    pub payment_due_days: String,
    pub correction_days: String,
    pub min_expert_reviews: String,
    pub max_total_upload_mb: String,
    pub support_family: String,
    pub max_support_ratio_percent: String,
    pub rules: Vec<RuleRow>,
    pub materials: Vec<MaterialRow>,
    pub fields: Vec<FieldRow>,
}

fn moment_text(at: DateTime<Utc>, offset: FixedOffset) -> String {
    at.with_timezone(&offset).format("%Y-%m-%dT%H:%M").to_string()
}

/// Bytes as MB: whole when they are, to two decimals otherwise.
fn mib_text(bytes: i64) -> String {
    if bytes % MIB == 0 { (bytes / MIB).to_string() } else { format!("{}.{:02}", bytes / MIB, bytes % MIB * 100 / MIB) }
}

/// A plain amount in yuan, without grouping, as a form field holds it.
fn yuan_text(fen: i64) -> String {
    yuan(fen).replace(',', "")
}

fn list_text(values: &[String]) -> String {
    values.join("、")
}

impl RuleRow {
    fn of(rule: &Rule) -> Self {
        let value = match rule {
            Rule::IndustryIn { values } => {
                values.iter().map(|i| i.label().zh.into_owned()).collect::<Vec<_>>().join("、")
            }
            Rule::ParkZoneIn { values } => list_text(values),
            Rule::MinYearsEstablished { years } => years.to_string(),
            Rule::MinEmployees { count } => count.to_string(),
            Rule::MinRdStaffRatio { percent } | Rule::MinRdExpenseRatio { percent } => percent.to_string(),
            Rule::RevenueBetween { min_fen, max_fen } => format!("{}-{}", yuan_text(*min_fen), yuan_text(*max_fen)),
            Rule::MinRegisteredCapital { fen } => yuan_text(*fen),
            Rule::CompanyVerified | Rule::RdExpenseRatioByRevenueBand | Rule::HighTechCertified | Rule::TechSme => {
                String::new()
            }
        };
        Self { kind: rule.name().to_owned(), value }
    }
}

impl ProgramForm {
    /// A new draft's form: a month-long window from tomorrow and the usual terms.
    fn blank(offset: FixedOffset) -> Self {
        let opens = (Utc::now() + chrono::Duration::days(1)).with_timezone(&offset).date_naive();
        let at_nine = |day: chrono::NaiveDate| format!("{}T09:00", day.format("%Y-%m-%d"));
        Self {
            category: Category::Other.as_str().to_owned(),
            guide: vec![String::new(); GUIDE.len()],
            opens_at: at_nine(opens),
            closes_at: at_nine(opens + chrono::Duration::days(30)),
            public_notice_days: "5".into(),
            payment_due_days: "60".into(),
            correction_days: programs::DEFAULT_CORRECTION_DAYS.to_string(),
            min_expert_reviews: "2".into(),
            max_total_upload_mb: mib_text(programs::DEFAULT_MAX_TOTAL_UPLOAD_BYTES),
            rules: vec![RuleRow { kind: "company_verified".into(), value: String::new() }],
            ..Self::default()
        }
    }

    fn of(input: &ProgramTerms, offset: FixedOffset) -> Self {
        let g = &input.guide;
        Self {
            code: input.code.clone(),
            title: input.title.clone(),
            category: input.category.as_str().to_owned(),
            summary: input.summary.clone(),
            guide: [
                &g.beneficiaries,
                &g.conditions,
                &g.award_standard,
                &g.deadline_note,
                &g.contact_phone,
                &g.consulting_address,
                &g.policy_basis,
            ]
            .into_iter()
            .cloned()
            .collect(),
            opens_at: moment_text(input.opens_at, offset),
            closes_at: moment_text(input.closes_at, offset),
            budget_yuan: yuan_text(input.budget_fen),
            max_award_yuan: yuan_text(input.max_award_fen),
            public_notice_days: input.public_notice_days.to_string(),
            payment_due_days: input.payment_due_days.to_string(),
            correction_days: input.correction_days.to_string(),
            min_expert_reviews: input.min_expert_reviews.to_string(),
            max_total_upload_mb: mib_text(input.max_total_upload_bytes),
            support_family: input.support_family.clone().unwrap_or_default(),
            max_support_ratio_percent: input.max_support_ratio_percent.map(|p| p.to_string()).unwrap_or_default(),
            rules: input.eligibility_rules.iter().map(RuleRow::of).collect(),
            materials: input
                .required_materials
                .iter()
                .map(|m| MaterialRow {
                    key: m.key.clone(),
                    name: m.name.clone(),
                    required: m.required,
                    types: m.accepted_types.iter().map(|t| t.as_str().to_owned()).collect(),
                    max_mb: mib_text(m.max_size_bytes),
                })
                .collect(),
            fields: input
                .form_fields
                .iter()
                .map(|f| {
                    let number = |n: Option<i64>| {
                        n.map(|n| if f.field_type == FieldType::MoneyFen { yuan_text(n) } else { n.to_string() })
                            .unwrap_or_default()
                    };
                    FieldRow {
                        key: f.key.clone(),
                        label: f.label.clone(),
                        kind: f.field_type.as_str().to_owned(),
                        required: f.required,
                        max_length: f.max_length.map(|n| n.to_string()).unwrap_or_default(),
                        min: number(f.min),
                        max: number(f.max),
                        options: f.options.as_deref().map(list_text).unwrap_or_default(),
                    }
                })
                .collect(),
        }
    }

    /// The form as posted: every value as typed, rows in their order.
    fn posted(pairs: &[(String, String)]) -> Self {
        let get = |name: &str| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim().to_owned());
        let text = |name: &str| get(name).unwrap_or_default();
        let checked = |name: &str| get(name).is_some();
        let rows = |probe: &dyn Fn(usize) -> String| (0..pairs.len()).take_while(|i| get(&probe(*i)).is_some()).count();
        let rules = (0..rows(&|i| format!("rule.{i}.type")))
            .map(|i| RuleRow { kind: text(&format!("rule.{i}.type")), value: text(&format!("rule.{i}.value")) })
            .collect();
        let materials = (0..rows(&|i| format!("material.{i}.key")))
            .map(|i| {
                let at = |name: &str| format!("material.{i}.{name}");
                let types_name = at("types");
                MaterialRow {
                    key: text(&at("key")),
                    name: text(&at("name")),
                    required: checked(&at("required")),
                    types: pairs.iter().filter(|(k, _)| *k == types_name).map(|(_, v)| v.trim().to_owned()).collect(),
                    max_mb: text(&at("max_mb")),
                }
            })
            .collect();
        let fields = (0..rows(&|i| format!("field.{i}.key")))
            .map(|i| {
                let at = |name: &str| format!("field.{i}.{name}");
                FieldRow {
                    key: text(&at("key")),
                    label: text(&at("label")),
                    kind: text(&at("type")),
                    required: checked(&at("required")),
                    max_length: text(&at("max_length")),
                    min: text(&at("min")),
                    max: text(&at("max")),
                    options: text(&at("options")),
                }
            })
            .collect();
        Self {
            code: text("code"),
            title: text("title"),
            category: text("category"),
            summary: text("summary"),
            guide: GUIDE.iter().map(|(name, ..)| text(&format!("guide.{name}"))).collect(),
            opens_at: text("opens_at"),
            closes_at: text("closes_at"),
            budget_yuan: text("budget_yuan"),
            max_award_yuan: text("max_award_yuan"),
            public_notice_days: text("public_notice_days"),
            payment_due_days: text("payment_due_days"),
            correction_days: text("correction_days"),
            min_expert_reviews: text("min_expert_reviews"),
            max_total_upload_mb: text("max_total_upload_mb"),
            support_family: text("support_family"),
            max_support_ratio_percent: text("max_support_ratio_percent"),
            rules,
            materials,
            fields,
        }
    }

    /// Adds or removes a row as `edit` (`add:rule`, `remove:material:2`) asks; `false` when it asks neither.
    fn edit_rows(&mut self, edit: &str) -> bool {
        let mut parts = edit.split(':');
        let (what, part, index) = (parts.next(), parts.next(), parts.next().and_then(|i| i.parse::<usize>().ok()));
        match (what, part, index) {
            (Some("add"), Some("rule"), None) => self.rules.push(RuleRow::default()),
            (Some("add"), Some("material"), None) => self.materials.push(MaterialRow {
                required: true,
                types: vec!["pdf".into()],
                max_mb: "20".into(),
                ..MaterialRow::default()
            }),
            (Some("add"), Some("field"), None) => {
                self.fields.push(FieldRow { kind: "text".into(), required: true, ..FieldRow::default() });
            }
            (Some("remove"), Some("rule"), Some(i)) if i < self.rules.len() => drop(self.rules.remove(i)),
            (Some("remove"), Some("material"), Some(i)) if i < self.materials.len() => drop(self.materials.remove(i)),
            (Some("remove"), Some("field"), Some(i)) if i < self.fields.len() => drop(self.fields.remove(i)),
            _ => return false,
        }
        true
    }

    /// The programme this form describes, or every value that cannot be read, each on its field. Values
    /// shown unchanged from `before` keep its exact value (times to the second, sizes to the byte).
    #[expect(clippy::too_many_lines, reason = "one form, read field by field in the order the page shows it")]
    fn terms(
        &self,
        offset: FixedOffset,
        before: Option<(&ProgramForm, &ProgramTerms)>,
    ) -> Result<ProgramTerms, Refusal> {
        let mut errors = Vec::new();
        let mut problem = |field: String, zh: &str, en: &str| {
            errors.push(FieldError::new(field, "invalid", Text::owned(zh.to_owned(), en.to_owned())));
        };
        let category = Category::parse(&self.category).unwrap_or_else(|| {
            problem("category".into(), "请选择类别。", "Choose a category.");
            Category::Other
        });
        let moment = |text: &str, kept: Option<DateTime<Utc>>| {
            kept.or_else(|| {
                ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]
                    .iter()
                    .find_map(|f| NaiveDateTime::parse_from_str(text, f).ok())
                    .and_then(|local| offset.from_local_datetime(&local).single())
                    .map(|t| t.with_timezone(&Utc))
            })
        };
        let kept_moment = |shown: fn(&ProgramForm) -> &String, value: fn(&ProgramTerms) -> DateTime<Utc>, now: &str| {
            before.filter(|(form, _)| shown(form) == now).map(|(_, input)| value(input))
        };
        let opens_at = moment(&self.opens_at, kept_moment(|f| &f.opens_at, |i| i.opens_at, &self.opens_at));
        let closes_at = moment(&self.closes_at, kept_moment(|f| &f.closes_at, |i| i.closes_at, &self.closes_at));
        for (field, at) in [("opens_at", opens_at), ("closes_at", closes_at)] {
            if at.is_none() {
                problem(
                    field.into(),
                    "请填写日期和时间，如 2026-03-01 09:00。",
                    "Enter a date and time, e.g. 2026-03-01 09:00.",
                );
            }
        }
        let mut amount = |field: &str, text: &str| {
            parse_yuan(text).unwrap_or_else(|| {
                problem(
                    field.into(),
                    "请填写金额（元），如 5000000 或 12.50。",
                    "Enter an amount in yuan, e.g. 5000000 or 12.50.",
                );
                0
            })
        };
        let budget_fen = amount("budget_fen", &self.budget_yuan);
        let max_award_fen = amount("max_award_fen", &self.max_award_yuan);
        let mut whole = |field: &str, text: &str, optional: bool| -> Option<i32> {
            if optional && text.is_empty() {
                return None;
            }
            let number = text.parse::<i32>().ok();
            if number.is_none() {
                problem(field.into(), "请填写整数。", "Enter a whole number.");
            }
            number
        };
        let public_notice_days = whole("public_notice_days", &self.public_notice_days, false).unwrap_or_default();
        let payment_due_days = whole("payment_due_days", &self.payment_due_days, false).unwrap_or_default();
        let correction_days =
            whole("correction_days", &self.correction_days, true).unwrap_or(programs::DEFAULT_CORRECTION_DAYS);
        let min_expert_reviews = whole("min_expert_reviews", &self.min_expert_reviews, false).unwrap_or_default();
        let max_support_ratio_percent = whole("max_support_ratio_percent", &self.max_support_ratio_percent, true);
        let max_total_upload_bytes = match before {
            Some((form, input)) if form.max_total_upload_mb == self.max_total_upload_mb => input.max_total_upload_bytes,
            _ if self.max_total_upload_mb.is_empty() => programs::DEFAULT_MAX_TOTAL_UPLOAD_BYTES,
            _ => {
                let bytes = mib(&self.max_total_upload_mb);
                if bytes.is_none() {
                    problem(
                        "max_total_upload_bytes".into(),
                        "请填写大小（MB），如 200。",
                        "Enter a size in MB, e.g. 200.",
                    );
                }
                bytes.unwrap_or_default()
            }
        };
        let mut eligibility_rules = Vec::new();
        for (index, row) in self.rules.iter().enumerate() {
            let kept = before.and_then(|(form, input)| {
                (form.rules.get(index) == Some(row)).then(|| input.eligibility_rules.get(index).cloned()).flatten()
            });
            match kept.map_or_else(|| rule(row), Ok) {
                Ok(rule) => eligibility_rules.push(rule),
                Err((zh, en)) => problem(format!("eligibility_rules[{index}]"), &zh, &en),
            }
        }
        let mut required_materials = Vec::new();
        for (index, row) in self.materials.iter().enumerate() {
            if let Some((form, input)) = before
                && form.materials.get(index) == Some(row)
                && let Some(material) = input.required_materials.get(index)
            {
                required_materials.push(material.clone());
                continue;
            }
            let accepted_types = row.types.iter().filter_map(|t| FileType::parse(t)).collect();
            let max_size_bytes = mib(&row.max_mb).unwrap_or_else(|| {
                problem(
                    format!("required_materials[{index}].max_size_bytes"),
                    "请填写大小（MB），如 20。",
                    "Enter a size in MB, e.g. 20.",
                );
                0
            });
            required_materials.push(Material {
                key: row.key.clone(),
                name: row.name.clone(),
                required: row.required,
                accepted_types,
                max_size_bytes,
            });
        }
        let mut form_fields = Vec::new();
        for (index, row) in self.fields.iter().enumerate() {
            let Some(field_type) = FieldType::parse(&row.kind) else {
                problem(format!("form_fields[{index}].type"), "请选择字段类型。", "Choose the field's type.");
                continue;
            };
            let money = field_type == FieldType::MoneyFen;
            let mut number = |name: &str, text: &str| -> Option<i64> {
                if text.is_empty() {
                    return None;
                }
                let value = if money { parse_yuan(text) } else { text.parse().ok() };
                if value.is_none() {
                    let (zh, en) = if money {
                        ("请填写金额（元）。", "Enter an amount in yuan.")
                    } else {
                        ("请填写整数。", "Enter a whole number.")
                    };
                    problem(format!("form_fields[{index}].{name}"), zh, en);
                }
                value
            };
            let (min, max) = (number("min", &row.min), number("max", &row.max));
            let max_length = if row.max_length.is_empty() {
                None
            } else {
                let length = row.max_length.parse().ok();
                if length.is_none() {
                    problem(format!("form_fields[{index}].max_length"), "请填写整数。", "Enter a whole number.");
                }
                length
            };
            let options = split_list(&row.options);
            form_fields.push(FormField {
                key: row.key.clone(),
                label: row.label.clone(),
                field_type,
                required: row.required,
                max_length,
                min,
                max,
                options: (!options.is_empty()).then_some(options),
            });
        }
        let [beneficiaries, conditions, award_standard, deadline_note, contact_phone, consulting_address, policy_basis] =
            std::array::from_fn(|i| self.guide.get(i).cloned().unwrap_or_default());
        Refusal::unless_any(errors)?;
        Ok(ProgramTerms {
            code: self.code.clone(),
            title: self.title.clone(),
            category,
            summary: self.summary.clone(),
            guide: Guide {
                beneficiaries,
                conditions,
                award_standard,
                deadline_note,
                contact_phone,
                consulting_address,
                policy_basis,
            },
            opens_at: opens_at.unwrap_or_default(),
            closes_at: closes_at.unwrap_or_default(),
            budget_fen,
            max_award_fen,
            public_notice_days,
            payment_due_days,
            correction_days,
            min_expert_reviews,
            max_total_upload_bytes,
            eligibility_rules,
            required_materials,
            form_fields,
            support_family: Some(self.support_family.clone()).filter(|f| !f.is_empty()),
            max_support_ratio_percent,
        })
    }
}

/// `12` or `12.5` MB in bytes.
fn mib(text: &str) -> Option<i64> {
    parse_yuan(text).and_then(|hundredths| hundredths.checked_mul(MIB)).map(|b| b / 100)
}

/// A list typed with Chinese or Western separators.
fn split_list(text: &str) -> Vec<String> {
    text.split(['、', ',', '，', ';', '；', '\n'])
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(ToOwned::to_owned)
        .collect()
}

/// The rule a row describes, or why it cannot be read.
fn rule(row: &RuleRow) -> Result<Rule, (String, String)> {
    let value = row.value.trim();
    let whole = || value.parse::<u32>().map_err(|_| ("请填写整数。".to_owned(), "Enter a whole number.".to_owned()));
    let percent = || {
        value
            .trim_end_matches(['%', '％'])
            .parse::<f64>()
            .map_err(|_| ("请填写百分比，如 5 或 2.5。".to_owned(), "Enter a percentage, e.g. 5 or 2.5.".to_owned()))
    };
    let amount = |text: &str| {
        parse_yuan(text).ok_or_else(|| ("请填写金额（元）。".to_owned(), "Enter an amount in yuan.".to_owned()))
    };
    Ok(match row.kind.as_str() {
        "company_verified" => Rule::CompanyVerified,
        "rd_expense_ratio_by_revenue_band" => Rule::RdExpenseRatioByRevenueBand,
        "high_tech_certified" => Rule::HighTechCertified,
        "tech_sme" => Rule::TechSme,
        "industry_in" => {
            let mut values = Vec::new();
            for name in split_list(value) {
                let industry = Industry::ALL.iter().copied().find(|i| {
                    let label = i.label();
                    i.as_str() == name || label.zh == name || label.en.eq_ignore_ascii_case(&name)
                });
                let Some(industry) = industry else {
                    let known = Industry::ALL.iter().map(|i| i.label().zh.into_owned()).collect::<Vec<_>>();
                    return Err((
                        format!("没有“{name}”这个行业；可填：{}。", known.join("、")),
                        format!("There is no industry “{name}”; use one of: {}.", known.join(", ")),
                    ));
                };
                values.push(industry);
            }
            Rule::IndustryIn { values }
        }
        "park_zone_in" => Rule::ParkZoneIn { values: split_list(value) },
        "min_years_established" => Rule::MinYearsEstablished { years: whole()? },
        "min_employees" => Rule::MinEmployees { count: whole()? },
        "min_rd_staff_ratio" => Rule::MinRdStaffRatio { percent: percent()? },
        "min_rd_expense_ratio" => Rule::MinRdExpenseRatio { percent: percent()? },
        "revenue_between" => {
            let Some((min, max)) = value.split_once(['-', '–', '~', '～', '至']) else {
                return Err((
                    "请填写区间（元），如 0-50,000,000。".to_owned(),
                    "Enter a range in yuan, e.g. 0-50,000,000.".to_owned(),
                ));
            };
            Rule::RevenueBetween { min_fen: amount(min)?, max_fen: amount(max)? }
        }
        "min_registered_capital" => Rule::MinRegisteredCapital { fen: amount(value)? },
        _ => return Err(("请选择条件类型。".to_owned(), "Choose the rule's type.".to_owned())),
    })
}

#[derive(Template)]
#[template(path = "console/program.html")]
struct ProgramPage {
    frame: Frame,
    /// Where the form posts: `/console/programs/new` or the programme's own address.
    action: String,
    status: Option<ProgramStatus>,
    form: ProgramForm,
    problem: Vec<Text>,
    errors: Vec<FieldError>,
}

impl ProgramPage {
    fn categories(&self) -> Vec<(&'static str, String)> {
        let label = |c: Category| match c {
            Category::IntegratedCircuit => self.frame.t("集成电路", "Integrated circuits"),
            Category::Biomedicine => self.frame.t("生物医药", "Biomedicine"),
            Category::HighTechCertification => self.frame.t("高新技术企业认定", "High-tech certification"),
            Category::Patent => self.frame.t("专利", "Patents"),
            Category::Other => self.frame.t("其他", "Other"),
        };
        Category::ALL.iter().map(|c| (c.as_str(), label(*c).to_owned())).collect()
    }

    fn guide(&self) -> Vec<(&'static str, &'static str, &str, bool)> {
        GUIDE
            .iter()
            .enumerate()
            .map(|(i, (name, zh, en, long))| {
                (*name, self.frame.t(zh, en), self.form.guide.get(i).map_or("", String::as_str), *long)
            })
            .collect()
    }

    fn rule_types(&self) -> Vec<(&'static str, &'static str)> {
        RULES.iter().map(|(name, zh, en)| (*name, self.frame.t(zh, en))).collect()
    }

    fn field_types() -> Vec<(&'static str, Text)> {
        FieldType::ALL.iter().map(|t| (t.as_str(), t.label())).collect()
    }

    fn file_types() -> &'static [FileType] {
        FileType::ALL
    }

    fn is_published(&self) -> bool {
        self.status.is_some_and(|s| s != ProgramStatus::Draft)
    }

    /// The messages of `field`, in the page's language; empty when it has none.
    fn error(&self, field: &str) -> String {
        let messages: Vec<&str> =
            self.errors.iter().filter(|e| e.field == field).map(|e| self.frame.text(&e.message)).collect();
        messages.join(" ")
    }

    #[expect(clippy::trivially_copy_pass_by_ref, reason = "templates pass their values by reference")]
    fn row_error(&self, part: &str, index: &usize, name: &str) -> String {
        if name.is_empty() {
            self.error(&format!("{part}[{index}]"))
        } else {
            self.error(&format!("{part}[{index}].{name}"))
        }
    }
}

fn frame(staff: &Staff, program: Option<&Program>, notice: Option<Text>) -> Frame {
    let title = match program {
        Some(p) => Text::owned(format!("编辑项目 {}", p.code), format!("Edit programme {}", p.code)),
        None => Text::new("新建项目", "New programme"),
    };
    Frame::new(staff, title, "/console/programs").with_notice(notice)
}

/// A refused form shown again as it was sent, with each field's message beside it.
fn refused_page(mut page: ProgramPage, refusal: &Refusal) -> Result<HttpResponse, Failure> {
    match refusal {
        Refusal::Invalid { errors, .. } if !errors.is_empty() => {
            page.problem = vec![Text::owned(
                format!("有 {} 处需要修改，见各项旁的说明；尚未保存。", errors.len()),
                format!("{} things need changing, see the notes beside them; nothing is saved.", errors.len()),
            )];
            page.errors.clone_from(errors);
        }
        refusal => page.problem = explain(refusal),
    }
    Ok(HttpResponse::build(refused_status(refusal)).content_type(mime::TEXT_HTML_UTF_8).body(page.render()?))
}

#[derive(Debug, Deserialize)]
pub struct EditParams {
    done: Option<String>,
}

/// The form for a new draft.
pub async fn new(staff: Staff) -> Result<HttpResponse, Failure> {
    staff.caller.require(&[Role::Admin]).map_err(Failure::Refused)?;
    let form = ProgramForm::blank(staff.utc_offset);
    let page = ProgramPage {
        frame: frame(&staff, None, None),
        action: "/console/programs/new".into(),
        status: None,
        form,
        problem: Vec::new(),
        errors: Vec::new(),
    };
    Ok(html(page.render()?))
}

/// Creates the draft, or adds or removes a row of the form and shows it again unsaved.
pub async fn create(posted: Posted<Vec<(String, String)>>, db: web::Data<Db>) -> Result<HttpResponse, Failure> {
    let staff = posted.staff;
    staff.caller.require(&[Role::Admin]).map_err(Failure::Refused)?;
    let mut form = ProgramForm::posted(&posted.form);
    let edit = posted.form.iter().find(|(k, _)| k == "edit").map_or("save", |(_, v)| v.as_str());
    let mut page = ProgramPage {
        frame: frame(&staff, None, None),
        action: "/console/programs/new".into(),
        status: None,
        form: form.clone(),
        problem: Vec::new(),
        errors: Vec::new(),
    };
    if form.edit_rows(edit) {
        page.form = form;
        return Ok(html(page.render()?));
    }
    let outcome = match form.terms(staff.utc_offset, None) {
        Ok(input) => programs::create(&db, &staff.caller, input).await,
        Err(refusal) => Err(refusal.into()),
    };
    match outcome {
        Ok(program) => Ok(see_other(&format!("/console/programs/{}?done=created", program.id))),
        Err(crate::app::Error::Refused(refusal)) if refusal != Refusal::NotFound => refused_page(page, &refusal),
        Err(error) => Err(error.into()),
    }
}

/// A programme's form, as stored.
pub async fn edit(
    staff: Staff,
    db: web::Data<Db>,
    id: web::Path<i64>,
    params: web::Query<EditParams>,
) -> Result<HttpResponse, Failure> {
    staff.caller.require(&[Role::Admin]).map_err(Failure::Refused)?;
    let program = programs::get(&db, Some(&staff.caller), id.into_inner()).await?;
    let notice = match params.done.as_deref() {
        Some("created") => {
            Some(Text::new("草稿已创建，发布前仍可修改。", "The draft is created; it can change until published."))
        }
        Some("saved") => Some(Text::new("已保存。", "Saved.")),
        _ => None,
    };
    let page = ProgramPage {
        frame: frame(&staff, Some(&program), notice),
        action: format!("/console/programs/{}", program.id),
        status: Some(program.status()),
        form: ProgramForm::of(&program.terms(), staff.utc_offset),
        problem: Vec::new(),
        errors: Vec::new(),
    };
    Ok(html(page.render()?))
}

/// Saves what changed, or adds or removes a row of the form and shows it again unsaved. A published
/// programme's frozen terms are refused by the use case, as in the API.
pub async fn save(
    posted: Posted<Vec<(String, String)>>,
    db: web::Data<Db>,
    id: web::Path<i64>,
) -> Result<HttpResponse, Failure> {
    let staff = posted.staff;
    staff.caller.require(&[Role::Admin]).map_err(Failure::Refused)?;
    let program = programs::get(&db, Some(&staff.caller), id.into_inner()).await?;
    let mut form = ProgramForm::posted(&posted.form);
    let edit = posted.form.iter().find(|(k, _)| k == "edit").map_or("save", |(_, v)| v.as_str());
    let mut page = ProgramPage {
        frame: frame(&staff, Some(&program), None),
        action: format!("/console/programs/{}", program.id),
        status: Some(program.status()),
        form: form.clone(),
        problem: Vec::new(),
        errors: Vec::new(),
    };
    if form.edit_rows(edit) {
        page.form = form;
        return Ok(html(page.render()?));
    }
    let before = program.terms();
    let shown = ProgramForm::of(&before, staff.utc_offset);
    let outcome = match form.terms(staff.utc_offset, Some((&shown, &before))) {
        Ok(after) => programs::update(&db, &staff.caller, program.id, ProgramPatch::between(&before, after)).await,
        Err(refusal) => Err(refusal.into()),
    };
    match outcome {
        Ok(program) => Ok(see_other(&format!("/console/programs/{}?done=saved", program.id))),
        Err(crate::app::Error::Refused(refusal)) if refusal != Refusal::NotFound => refused_page(page, &refusal),
        Err(error) => Err(error.into()),
    }
}
