//! Programmes are data: a guide, a window, money, and three structured parts (eligibility rules, required
//! materials and form fields) that are checked here as a whole before a programme is saved.

use std::collections::HashSet;

use chrono::{DateTime, NaiveDate, SubsecRound, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

use crate::domain::eligibility::Rule;
use crate::domain::error::{Error as Refusal, FieldError};
use crate::domain::files::FileType;
use crate::domain::funding;
use crate::domain::money::MAX_FEN;
use crate::i18n::Text;

text_enum!(
    /// What a programme supports.
    Category {
        IntegratedCircuit => "integrated_circuit",
        Biomedicine => "biomedicine",
        HighTechCertification => "high_tech_certification",
        Patent => "patent",
        Other => "other",
    }
);

text_enum!(
    /// A programme is written as a draft, published for applications, and closed at the end.
    ProgramStatus {
        Draft => "draft",
        Published => "published",
        Closed => "closed",
    }
);

/// The guide (申兑指南) every programme carries, so a company knows what it is applying for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Guide {
    /// 支持对象
    pub beneficiaries: String,
    /// 申报条件
    pub conditions: String,
    /// 支持标准
    pub award_standard: String,
    /// 申报时间说明
    pub deadline_note: String,
    pub contact_phone: String,
    pub consulting_address: String,
    /// 政策依据
    pub policy_basis: String,
}

pub const DEFAULT_MAX_FILE_BYTES: i64 = 20 * 1024 * 1024;

/// A document the company uploads (营业执照, audit report, ...).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Material {
    pub key: String,
    pub name: String,
    pub required: bool,
    pub accepted_types: Vec<FileType>,
    #[serde(default = "default_max_file_bytes")]
    pub max_size_bytes: i64,
}

fn default_max_file_bytes() -> i64 {
    DEFAULT_MAX_FILE_BYTES
}

text_enum!(
    /// The kinds of form field a programme can ask for.
    FieldType {
        Text => "text",
        Textarea => "textarea",
        Integer => "integer",
        MoneyFen => "money_fen",
        Date => "date",
        Boolean => "boolean",
        Select => "select",
    }
);

impl FieldType {
    pub fn label(self) -> Text {
        match self {
            Self::Text => Text::new("单行文字", "Text"),
            Self::Textarea => Text::new("多行文字", "Long text"),
            Self::Integer => Text::new("整数", "Whole number"),
            Self::MoneyFen => Text::new("金额（元）", "Amount (yuan)"),
            Self::Date => Text::new("日期", "Date"),
            Self::Boolean => Text::new("是/否", "Yes/no"),
            Self::Select => Text::new("下拉选择", "Choice"),
        }
    }
}

/// One question of a programme's form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FormField {
    pub key: String,
    pub label: String,
    #[serde(rename = "type")]
    pub field_type: FieldType,
    pub required: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_length: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub options: Option<Vec<String>>,
}

pub use crate::domain::workflow::DEFAULT_CORRECTION_DAYS;
/// All of an application's files together, when the programme does not say.
pub const DEFAULT_MAX_TOTAL_UPLOAD_BYTES: i64 = 200 * 1024 * 1024;

/// A programme's terms: what an administrator writes, and what everyone reads back with the budget's
/// state beside it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ProgramTerms {
    #[schema(example = "IC-2026")]
    pub code: String,
    pub title: String,
    pub category: Category,
    pub summary: String,
    pub guide: Guide,
    pub opens_at: DateTime<Utc>,
    pub closes_at: DateTime<Utc>,
    pub budget_fen: i64,
    pub max_award_fen: i64,
    pub public_notice_days: i32,
    pub payment_due_days: i32,
    /// Working days a returned application has for its correction; 10 when absent.
    #[serde(default = "default_correction_days")]
    pub correction_days: i32,
    pub min_expert_reviews: i32,
    /// All of an application's files together; 200 MiB when absent.
    #[serde(default = "default_max_total_upload_bytes")]
    pub max_total_upload_bytes: i64,
    pub eligibility_rules: Vec<Rule>,
    pub required_materials: Vec<Material>,
    pub form_fields: Vec<FormField>,
    /// Programmes that fund the same thing share a support family (e.g. `rd-subsidy-2026`): a company
    /// holds at most one live award in it, the higher one (就高不重复).
    #[serde(default)]
    pub support_family: Option<String>,
    /// An award is at most this share (1–100 %) of the invoices the application claims.
    #[serde(default)]
    pub max_support_ratio_percent: Option<i32>,
}

fn default_correction_days() -> i32 {
    DEFAULT_CORRECTION_DAYS
}

fn default_max_total_upload_bytes() -> i64 {
    DEFAULT_MAX_TOTAL_UPLOAD_BYTES
}

impl ProgramTerms {
    /// The programme as it is stored (code in capitals, text trimmed, times to the microsecond), or every
    /// problem with it at once.
    pub fn validated(mut self) -> Result<Self, Refusal> {
        self.code = self.code.trim().to_uppercase();
        self.title = self.title.trim().to_owned();
        self.summary = self.summary.trim().to_owned();
        self.opens_at = self.opens_at.trunc_subsecs(6);
        self.closes_at = self.closes_at.trunc_subsecs(6);
        self.support_family = self.support_family.map(|f| f.trim().to_lowercase()).filter(|f| !f.is_empty());
        let mut errors = check(&self);
        for (field, text, limit) in [("title", &self.title, 200), ("summary", &self.summary, 2000)] {
            let length = text.chars().count();
            if length == 0 || length > limit {
                errors.push(FieldError::new(
                    field,
                    "length",
                    Text::owned(format!("须为 1–{limit} 个字符。"), format!("Must be 1 to {limit} characters.")),
                ));
            }
        }
        Refusal::unless_any(errors)?;
        Ok(self)
    }
}

/// A programme's terms as a request body or a seed file gives them: a field the terms do not have is
/// refused, not ignored.
#[derive(Debug, Clone)]
pub struct ProgramInput(pub ProgramTerms);

impl<'de> Deserialize<'de> for ProgramInput {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let mut unknown = None;
        let terms = serde_ignored::deserialize(deserializer, |path| {
            unknown.get_or_insert_with(|| path.to_string());
        })?;
        match unknown {
            Some(field) => Err(serde::de::Error::custom(format_args!("unknown field `{field}`"))),
            None => Ok(Self(terms)),
        }
    }
}

impl utoipa::PartialSchema for ProgramInput {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{AdditionalProperties, Schema};
        let mut schema = ProgramTerms::schema();
        if let utoipa::openapi::RefOr::T(Schema::Object(object)) = &mut schema {
            object.additional_properties = Some(Box::new(AdditionalProperties::FreeForm(false)));
        }
        schema
    }
}

impl ToSchema for ProgramInput {
    fn schemas(schemas: &mut Vec<(String, utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>)>) {
        ProgramTerms::schemas(schemas);
    }
}

/// Changes to a programme; once it is published, only the title, summary, guide and closing time.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProgramPatch {
    pub code: Option<String>,
    pub title: Option<String>,
    pub category: Option<Category>,
    pub summary: Option<String>,
    pub guide: Option<Guide>,
    pub opens_at: Option<DateTime<Utc>>,
    pub closes_at: Option<DateTime<Utc>>,
    pub budget_fen: Option<i64>,
    pub max_award_fen: Option<i64>,
    pub public_notice_days: Option<i32>,
    pub payment_due_days: Option<i32>,
    pub correction_days: Option<i32>,
    pub min_expert_reviews: Option<i32>,
    pub max_total_upload_bytes: Option<i64>,
    pub eligibility_rules: Option<Vec<Rule>>,
    pub required_materials: Option<Vec<Material>>,
    pub form_fields: Option<Vec<FormField>>,
    /// `null` takes the programme out of its family.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub support_family: Option<Option<String>>,
    /// `null` removes the cap.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<i32>)]
    pub max_support_ratio_percent: Option<Option<i32>>,
}

/// A field that may be set to `null`: absent is `None`, `null` is `Some(None)`.
#[expect(clippy::option_option, reason = "absent, `null` and a value are three different patches")]
fn nullable<'de, D: serde::Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

impl ProgramPatch {
    /// The patch that turns `before` into `after`: only the fields whose values differ, so a form that
    /// shows every field sets only what the administrator changed.
    pub fn between(before: &ProgramTerms, after: ProgramTerms) -> Self {
        fn changed<T: PartialEq>(before: &T, after: T) -> Option<T> {
            (*before != after).then_some(after)
        }
        Self {
            code: changed(&before.code, after.code),
            title: changed(&before.title, after.title),
            category: changed(&before.category, after.category),
            summary: changed(&before.summary, after.summary),
            guide: changed(&before.guide, after.guide),
            opens_at: changed(&before.opens_at, after.opens_at),
            closes_at: changed(&before.closes_at, after.closes_at),
            budget_fen: changed(&before.budget_fen, after.budget_fen),
            max_award_fen: changed(&before.max_award_fen, after.max_award_fen),
            public_notice_days: changed(&before.public_notice_days, after.public_notice_days),
            payment_due_days: changed(&before.payment_due_days, after.payment_due_days),
            correction_days: changed(&before.correction_days, after.correction_days),
            min_expert_reviews: changed(&before.min_expert_reviews, after.min_expert_reviews),
            max_total_upload_bytes: changed(&before.max_total_upload_bytes, after.max_total_upload_bytes),
            eligibility_rules: changed(&before.eligibility_rules, after.eligibility_rules),
            required_materials: changed(&before.required_materials, after.required_materials),
            form_fields: changed(&before.form_fields, after.form_fields),
            support_family: changed(&before.support_family, after.support_family),
            max_support_ratio_percent: changed(&before.max_support_ratio_percent, after.max_support_ratio_percent),
        }
    }

    /// The fields this patch sets that a published programme no longer accepts.
    fn frozen_fields(&self) -> Vec<&'static str> {
        [
            ("code", self.code.is_some()),
            ("category", self.category.is_some()),
            ("opens_at", self.opens_at.is_some()),
            ("budget_fen", self.budget_fen.is_some()),
            ("max_award_fen", self.max_award_fen.is_some()),
            ("public_notice_days", self.public_notice_days.is_some()),
            ("payment_due_days", self.payment_due_days.is_some()),
            ("correction_days", self.correction_days.is_some()),
            ("min_expert_reviews", self.min_expert_reviews.is_some()),
            ("max_total_upload_bytes", self.max_total_upload_bytes.is_some()),
            ("eligibility_rules", self.eligibility_rules.is_some()),
            ("required_materials", self.required_materials.is_some()),
            ("form_fields", self.form_fields.is_some()),
            ("support_family", self.support_family.is_some()),
            ("max_support_ratio_percent", self.max_support_ratio_percent.is_some()),
        ]
        .into_iter()
        .filter_map(|(name, set)| set.then_some(name))
        .collect()
    }

    /// The names of the fields this patch sets, for the audit trail.
    pub fn changed(&self) -> Vec<&'static str> {
        let mut names = self.frozen_fields();
        for (name, set) in [
            ("title", self.title.is_some()),
            ("summary", self.summary.is_some()),
            ("guide", self.guide.is_some()),
            ("closes_at", self.closes_at.is_some()),
        ] {
            if set {
                names.push(name);
            }
        }
        names
    }

    /// The programme `terms` with this patch's fields in place of its own.
    pub fn apply(self, terms: &mut ProgramTerms) {
        macro_rules! take {
            ($($field:ident),+) => { $(if let Some(value) = self.$field { terms.$field = value; })+ };
        }
        take!(code, title, category, summary, guide, opens_at, closes_at, budget_fen, max_award_fen);
        take!(public_notice_days, payment_due_days, correction_days, min_expert_reviews, max_total_upload_bytes);
        take!(eligibility_rules, required_materials, form_fields, support_family, max_support_ratio_percent);
    }
}

/// What a programme in `status` lets `patch` change: a draft anything, a published or closed programme
/// only its title, summary, guide and closing time; refused naming every frozen field the patch sets.
pub fn check_patch(status: ProgramStatus, patch: &ProgramPatch) -> Result<(), Refusal> {
    let frozen = patch.frozen_fields();
    if status == ProgramStatus::Draft || frozen.is_empty() {
        return Ok(());
    }
    Err(Refusal::conflict(
        "program_frozen",
        Text::owned(
            format!("项目已发布，以下内容不能再修改：{}。", frozen.join("、")),
            format!("The programme is published; these can no longer change: {}.", frozen.join(", ")),
        ),
    ))
}

fn problem(field: impl Into<String>, code: &'static str, zh: String, en: String) -> FieldError {
    FieldError::new(field.into(), code, Text::owned(zh, en))
}

fn is_key(key: &str) -> bool {
    let mut chars = key.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && key.len() <= 50
}

fn in_range(errors: &mut Vec<FieldError>, field: &'static str, value: i64, min: i64, max: i64) {
    if !(min..=max).contains(&value) {
        errors.push(problem(
            field,
            "out_of_range",
            format!("须在 {min}–{max} 之间。"),
            format!("Must be from {min} to {max}."),
        ));
    }
}

/// Every problem of a programme's code, window, money and structured parts, each on its own field.
fn check(d: &ProgramTerms) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let code_ok = !d.code.is_empty()
        && d.code.len() <= 20
        && d.code.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '-');
    if !code_ok {
        errors.push(problem(
            "code",
            "invalid_code",
            "项目编号须为 1–20 位大写字母、数字或连字符，如 IC-2026。".into(),
            "The code is 1 to 20 capital letters, digits or hyphens, e.g. IC-2026.".into(),
        ));
    }
    if d.closes_at <= d.opens_at {
        errors.push(problem(
            "closes_at",
            "before_opening",
            "申报截止时间须晚于开始时间。".into(),
            "The window must close after it opens.".into(),
        ));
    }
    if d.budget_fen <= 0 || d.budget_fen > MAX_FEN {
        errors.push(problem(
            "budget_fen",
            "out_of_range",
            "预算须大于 0 且不超过 10 万亿元。".into(),
            "The budget must be above 0 and at most 10 trillion yuan.".into(),
        ));
    }
    if d.max_award_fen <= 0 || d.max_award_fen > d.budget_fen {
        errors.push(problem(
            "max_award_fen",
            "exceeds_budget",
            "单个项目最高支持金额须大于 0 且不超过总预算。".into(),
            "The maximum award must be above 0 and at most the budget.".into(),
        ));
    }
    in_range(&mut errors, "public_notice_days", d.public_notice_days.into(), 0, 30);
    in_range(&mut errors, "payment_due_days", d.payment_due_days.into(), 1, 365);
    in_range(&mut errors, "correction_days", d.correction_days.into(), 1, 60);
    in_range(&mut errors, "min_expert_reviews", d.min_expert_reviews.into(), 0, 20);
    in_range(&mut errors, "max_total_upload_bytes", d.max_total_upload_bytes, 1, 2 * 1024 * 1024 * 1024);
    if let Some(percent) = d.max_support_ratio_percent {
        in_range(&mut errors, "max_support_ratio_percent", percent.into(), 1, 100);
    }
    if d.support_family.as_deref().is_some_and(|f| !funding::is_family(f)) {
        errors.push(problem(
            "support_family",
            "invalid_family",
            "同类支持标识须为 1–50 位小写字母、数字或连字符，如 rd-subsidy-2026。".into(),
            "A support family is 1 to 50 lower-case letters, digits or hyphens, e.g. rd-subsidy-2026.".into(),
        ));
    }
    check_parts(d, &mut errors);
    errors
}

/// The structured parts: typed rules, materials and form fields with unique, well-formed keys.
fn check_parts(d: &ProgramTerms, errors: &mut Vec<FieldError>) {
    for (index, rule) in d.eligibility_rules.iter().enumerate() {
        errors.extend(
            rule.check()
                .into_iter()
                .map(|(code, text)| FieldError::new(format!("eligibility_rules[{index}]"), code, text)),
        );
    }
    let mut keys = HashSet::new();
    for (index, material) in d.required_materials.iter().enumerate() {
        let at = |name: &str| format!("required_materials[{index}].{name}");
        if !is_key(&material.key) {
            errors.push(problem(
                at("key"),
                "invalid_key",
                "键名须为小写字母开头的小写字母、数字或下划线。".into(),
                "Keys are lower-case letters, digits and underscores, starting with a letter.".into(),
            ));
        } else if !keys.insert(material.key.as_str()) {
            errors.push(problem(
                at("key"),
                "duplicate_key",
                format!("材料键名“{}”重复。", material.key),
                format!("The material key `{}` is used twice.", material.key),
            ));
        }
        if material.name.trim().is_empty() {
            errors.push(problem(at("name"), "blank", "材料名称不能为空。".into(), "A material needs a name.".into()));
        }
        if material.accepted_types.is_empty() {
            errors.push(problem(
                at("accepted_types"),
                "empty",
                "至少接受一种文件类型。".into(),
                "Accept at least one file type.".into(),
            ));
        }
        if !(1..=500 * 1024 * 1024).contains(&material.max_size_bytes) {
            errors.push(problem(
                at("max_size_bytes"),
                "out_of_range",
                "单个文件上限须在 1 字节到 500 MiB 之间。".into(),
                "A file limit is from 1 byte to 500 MiB.".into(),
            ));
        }
    }
    let mut keys = HashSet::new();
    for (index, field) in d.form_fields.iter().enumerate() {
        let at = |name: &str| format!("form_fields[{index}].{name}");
        if !is_key(&field.key) {
            errors.push(problem(
                at("key"),
                "invalid_key",
                "键名须为小写字母开头的小写字母、数字或下划线。".into(),
                "Keys are lower-case letters, digits and underscores, starting with a letter.".into(),
            ));
        } else if !keys.insert(field.key.as_str()) {
            errors.push(problem(
                at("key"),
                "duplicate_key",
                format!("字段键名“{}”重复。", field.key),
                format!("The field key `{}` is used twice.", field.key),
            ));
        }
        if field.label.trim().is_empty() {
            errors.push(problem(at("label"), "blank", "字段名称不能为空。".into(), "A field needs a label.".into()));
        }
        let has_options = field.options.as_ref().is_some_and(|o| !o.is_empty());
        if (field.field_type == FieldType::Select) != has_options {
            errors.push(problem(
                at("options"),
                "options_mismatch",
                "下拉选择字段须列出选项，其他类型不设选项。".into(),
                "A select field lists its options; other types have none.".into(),
            ));
        }
        if let (Some(min), Some(max)) = (field.min, field.max)
            && min > max
        {
            errors.push(problem(at("max"), "below_min", "最大值不能小于最小值。".into(), "max is below min.".into()));
        }
    }
}

fn field_problem(key: &str, code: &'static str, zh: String, en: String) -> FieldError {
    FieldError::new(format!("form_data.{key}"), code, Text::owned(zh, en))
}

/// Checks `data` against the form: types, limits and options always; required answers when `complete`.
pub fn check_form(fields: &[FormField], data: &Map<String, Value>, complete: bool) -> Vec<FieldError> {
    let mut errors = Vec::new();
    for key in data.keys().filter(|k| !fields.iter().any(|f| &f.key == *k)) {
        errors.push(field_problem(
            key,
            "unknown_field",
            "此项目的申报表中没有这一项。".into(),
            "This programme's form has no such field.".into(),
        ));
    }
    for field in fields {
        let value = data.get(&field.key).filter(|v| !v.is_null() && *v != &Value::String(String::new()));
        let Some(value) = value else {
            if complete && field.required {
                errors.push(field_problem(
                    &field.key,
                    "required",
                    format!("请填写“{}”。", field.label),
                    format!("“{}” is required.", field.label),
                ));
            }
            continue;
        };
        if let Some(error) = check_value(field, value) {
            errors.push(error);
        }
    }
    errors
}

fn check_value(field: &FormField, value: &Value) -> Option<FieldError> {
    let wrong = |zh: &str, en: &str| {
        Some(field_problem(
            &field.key,
            "invalid_type",
            format!("“{}”{zh}", field.label),
            format!("“{}” {en}", field.label),
        ))
    };
    match field.field_type {
        FieldType::Text | FieldType::Textarea => {
            let Some(text) = value.as_str() else { return wrong("须为文字。", "must be text.") };
            let limit = field.max_length.unwrap_or(if field.field_type == FieldType::Text { 200 } else { 5000 });
            let length = u32::try_from(text.chars().count()).unwrap_or(u32::MAX);
            (length > limit).then(|| {
                field_problem(
                    &field.key,
                    "too_long",
                    format!("“{}”最多 {limit} 个字符。", field.label),
                    format!("“{}” has at most {limit} characters.", field.label),
                )
            })
        }
        FieldType::Integer | FieldType::MoneyFen => {
            let Some(number) = value.as_i64() else { return wrong("须为整数。", "must be a whole number.") };
            let below = field.min.is_some_and(|min| number < min);
            let above = field.max.is_some_and(|max| number > max);
            let negative_money = field.field_type == FieldType::MoneyFen && number < 0;
            (below || above || negative_money).then(|| {
                let min = field.min.unwrap_or(0);
                let max = field.max.map_or_else(|| "∞".to_owned(), |m| m.to_string());
                field_problem(
                    &field.key,
                    "out_of_range",
                    format!("“{}”须在 {min}–{max} 之间。", field.label),
                    format!("“{}” must be from {min} to {max}.", field.label),
                )
            })
        }
        FieldType::Date => match value.as_str().map(|t| NaiveDate::parse_from_str(t, "%Y-%m-%d")) {
            Some(Ok(_)) => None,
            _ => wrong("须为日期，格式 YYYY-MM-DD。", "must be a date, YYYY-MM-DD."),
        },
        FieldType::Boolean => {
            if value.is_boolean() {
                None
            } else {
                wrong("须为是或否。", "must be true or false.")
            }
        }
        FieldType::Select => {
            let options = field.options.as_deref().unwrap_or_default();
            match value.as_str() {
                Some(choice) if options.iter().any(|o| o == choice) => None,
                _ => Some(field_problem(
                    &field.key,
                    "invalid_choice",
                    format!("“{}”须从以下选项中选择：{}。", field.label, options.join("、")),
                    format!("“{}” must be one of: {}.", field.label, options.join(", ")),
                )),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn field(key: &str, field_type: FieldType) -> FormField {
        FormField {
            key: key.into(),
            label: key.into(),
            field_type,
            required: true,
            max_length: None,
            min: None,
            max: None,
            options: None,
        }
    }

    #[test]
    fn form_answers_are_checked_by_type_limit_and_option() {
        let mut budget = field("budget", FieldType::MoneyFen);
        budget.max = Some(100);
        let mut stage = field("stage", FieldType::Select);
        stage.options = Some(vec!["研发".into(), "量产".into()]);
        let mut name = field("name", FieldType::Text);
        name.max_length = Some(3);
        let fields = [budget, stage, name, field("start", FieldType::Date), field("new", FieldType::Boolean)];
        let data = json!({ "budget": 101, "stage": "试产", "name": "四个字啊", "start": "2026-02-30", "new": "yes", "extra": 1 });
        let errors = check_form(&fields, data.as_object().unwrap(), false);
        let got: Vec<(&str, &str)> = errors.iter().map(|e| (e.field.as_ref(), e.code.as_ref())).collect();
        assert_eq!(
            got,
            [
                ("form_data.extra", "unknown_field"),
                ("form_data.budget", "out_of_range"),
                ("form_data.stage", "invalid_choice"),
                ("form_data.name", "too_long"),
                ("form_data.start", "invalid_type"),
                ("form_data.new", "invalid_type"),
            ]
        );
    }

    #[test]
    fn a_published_programme_keeps_its_terms_and_changes_only_its_text_and_closing_time() {
        let text_only =
            ProgramPatch { title: Some("新标题".into()), closes_at: Some(Utc::now()), ..Default::default() };
        let terms = ProgramPatch { budget_fen: Some(1), form_fields: Some(Vec::new()), ..text_only.clone() };
        for status in ProgramStatus::ALL.iter().copied() {
            assert_eq!(check_patch(status, &text_only), Ok(()), "{status:?}");
        }
        assert_eq!(check_patch(ProgramStatus::Draft, &terms), Ok(()));
        for status in [ProgramStatus::Published, ProgramStatus::Closed] {
            let Err(Refusal::Conflict { code, detail }) = check_patch(status, &terms) else { panic!("{status:?}") };
            assert_eq!(code, "program_frozen");
            assert!(detail.en.ends_with("these can no longer change: budget_fen, form_fields."), "{}", detail.en);
        }
        assert_eq!(terms.changed(), ["budget_fen", "form_fields", "title", "closes_at"]);
    }

    #[test]
    fn a_patch_tells_a_cleared_funding_rule_from_an_untouched_one_and_freezes_both_once_published() {
        let patch = |body: serde_json::Value| serde_json::from_value::<ProgramPatch>(body).unwrap();
        let untouched = patch(json!({ "title": "新标题" }));
        assert_eq!((untouched.support_family.clone(), untouched.max_support_ratio_percent), (None, None));
        let cleared = patch(json!({ "support_family": null, "max_support_ratio_percent": null }));
        assert_eq!((cleared.support_family.clone(), cleared.max_support_ratio_percent), (Some(None), Some(None)));
        let set = patch(json!({ "support_family": "rd-2026", "max_support_ratio_percent": 20 }));
        assert_eq!(set.support_family, Some(Some("rd-2026".to_owned())));
        assert_eq!(check_patch(ProgramStatus::Draft, &cleared), Ok(()));
        assert_eq!(check_patch(ProgramStatus::Published, &untouched), Ok(()));
        let Err(Refusal::Conflict { detail, .. }) = check_patch(ProgramStatus::Published, &set) else { panic!() };
        assert!(detail.en.ends_with("support_family, max_support_ratio_percent."), "{}", detail.en);
    }

    fn written_terms() -> serde_json::Value {
        json!({
            "code": "IC-2026", "title": "集成电路", "category": "integrated_circuit", "summary": "支持研发。",
            "guide": { "beneficiaries": "企业", "conditions": "满一年", "award_standard": "10%", "deadline_note": "",
                       "contact_phone": "", "consulting_address": "", "policy_basis": "" },
            "opens_at": "2026-01-01T00:00:00Z", "closes_at": "2026-03-01T00:00:00Z",
            "budget_fen": 100, "max_award_fen": 10, "public_notice_days": 5, "payment_due_days": 60,
            "min_expert_reviews": 2, "eligibility_rules": [], "required_materials": [], "form_fields": []
        })
    }

    #[test]
    fn a_patch_between_two_versions_sets_only_what_differs() {
        let ProgramInput(before) = serde_json::from_value(written_terms()).unwrap();
        let mut after = before.clone();
        after.title = "集成电路（第二批）".into();
        after.budget_fen = 200;
        after.correction_days = DEFAULT_CORRECTION_DAYS;
        let patch = ProgramPatch::between(&before, after);
        assert_eq!(patch.changed(), ["budget_fen", "title"]);
        assert!(check_patch(ProgramStatus::Published, &patch).is_err());
    }

    #[test]
    fn terms_given_with_a_field_they_do_not_have_are_refused_naming_it() {
        let mut body = written_terms();
        body["budget_yuan"] = json!(1);
        let error = serde_json::from_value::<ProgramInput>(body).unwrap_err();
        assert_eq!(error.to_string(), "unknown field `budget_yuan`");
    }

    #[test]
    fn missing_answers_matter_only_for_a_complete_form() {
        let fields = [field("a", FieldType::Text)];
        let empty = Map::new();
        assert!(check_form(&fields, &empty, false).is_empty());
        assert_eq!(check_form(&fields, &empty, true)[0].code, "required");
    }
}
