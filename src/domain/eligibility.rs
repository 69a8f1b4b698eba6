//! Eligibility rules, evaluated against a company's profile, certifications and last full year's figures.
//! Every check explains itself: what was expected, what the company has, and what to do about it.

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::company::Industry;
use crate::domain::money::yuan;
use crate::i18n::Text;

/// One typed rule of a programme, as `API.md` lists them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Rule {
    CompanyVerified,
    IndustryIn {
        values: Vec<Industry>,
    },
    ParkZoneIn {
        values: Vec<String>,
    },
    MinYearsEstablished {
        years: u32,
    },
    MinEmployees {
        count: u32,
    },
    MinRdStaffRatio {
        percent: f64,
    },
    MinRdExpenseRatio {
        percent: f64,
    },
    /// The high-tech certification's bands: R&D expense at least 5 % of revenue up to 50 M yuan, 4 % up to
    /// 200 M yuan, 3 % above.
    RdExpenseRatioByRevenueBand,
    RevenueBetween {
        min_fen: i64,
        max_fen: i64,
    },
    HighTechCertified,
    TechSme,
    MinRegisteredCapital {
        fen: i64,
    },
}

/// A year's figures as the rules read them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Figures {
    pub revenue_fen: i64,
    pub rd_expense_fen: i64,
    pub employee_count: i32,
    pub rd_staff_count: i32,
}

/// What is known of a company on the day of the check.
#[derive(Debug, Clone)]
pub struct Facts<'a> {
    pub today: NaiveDate,
    pub verified: bool,
    pub industry: Industry,
    pub park_zone: &'a str,
    pub established_on: NaiveDate,
    pub registered_capital_fen: i64,
    pub high_tech_valid_until: Option<NaiveDate>,
    pub tech_sme: bool,
    /// The figures of `figures_year`, the last full year, if filed.
    pub figures: Option<Figures>,
    pub figures_year: i32,
}

/// The answer of one rule for one company.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    pub rule: &'static str,
    pub passed: bool,
    pub expected: Text,
    pub actual: Text,
    pub message: Text,
}

const BAND_ONE_MAX_FEN: i64 = 5_000_000_000;
const BAND_TWO_MAX_FEN: i64 = 20_000_000_000;

/// Percent as basis points, so ratios compare in integers: 5 % → 500, 2.5 % → 250.
fn basis_points(percent: f64) -> i64 {
    #[expect(clippy::cast_possible_truncation, reason = "rules are checked to lie within 0–100 %")]
    let points = (percent * 100.0).round() as i64;
    points
}

/// `part / whole ≥ points / 10 000`, exactly.
fn ratio_at_least(part: i64, whole: i64, points: i64) -> bool {
    i128::from(part) * 10_000 >= i128::from(points) * i128::from(whole)
}

fn percent_text(part: i64, whole: i64) -> String {
    if whole == 0 {
        return "—".to_owned();
    }
    #[expect(clippy::cast_precision_loss, reason = "for display only")]
    let percent = part as f64 * 100.0 / whole as f64;
    format!("{percent:.2}%")
}

fn full_years(from: NaiveDate, to: NaiveDate) -> i32 {
    let years = to.year() - from.year();
    if (to.month(), to.day()) < (from.month(), from.day()) { years - 1 } else { years }
}

impl Rule {
    pub fn name(&self) -> &'static str {
        match self {
            Rule::CompanyVerified => "company_verified",
            Rule::IndustryIn { .. } => "industry_in",
            Rule::ParkZoneIn { .. } => "park_zone_in",
            Rule::MinYearsEstablished { .. } => "min_years_established",
            Rule::MinEmployees { .. } => "min_employees",
            Rule::MinRdStaffRatio { .. } => "min_rd_staff_ratio",
            Rule::MinRdExpenseRatio { .. } => "min_rd_expense_ratio",
            Rule::RdExpenseRatioByRevenueBand => "rd_expense_ratio_by_revenue_band",
            Rule::RevenueBetween { .. } => "revenue_between",
            Rule::HighTechCertified => "high_tech_certified",
            Rule::TechSme => "tech_sme",
            Rule::MinRegisteredCapital { .. } => "min_registered_capital",
        }
    }

    /// Problems with the rule's own parameters, for a programme being saved.
    pub fn check(&self) -> Vec<(&'static str, Text)> {
        let mut problems = Vec::new();
        let percent_ok = |p: f64| p.is_finite() && p > 0.0 && p <= 100.0;
        match self {
            Rule::IndustryIn { values } if values.is_empty() => {
                problems.push(("empty", Text::new("须列出至少一个行业。", "List at least one industry.")));
            }
            Rule::ParkZoneIn { values } if values.iter().all(|v| v.trim().is_empty()) => {
                problems.push(("empty", Text::new("须列出至少一个园区。", "List at least one park zone.")));
            }
            Rule::MinYearsEstablished { years } if *years > 100 => {
                problems.push(("out_of_range", Text::new("年限须在 0–100 之间。", "Years must be from 0 to 100.")));
            }
            Rule::MinRdStaffRatio { percent } | Rule::MinRdExpenseRatio { percent } if !percent_ok(*percent) => {
                problems.push((
                    "out_of_range",
                    Text::new("比例须大于 0 且不超过 100。", "The percentage must be above 0 and at most 100."),
                ));
            }
            Rule::RevenueBetween { min_fen, max_fen } if *min_fen < 0 || min_fen > max_fen => {
                problems.push((
                    "out_of_range",
                    Text::new("营业收入区间须满足 0 ≤ 下限 ≤ 上限。", "The revenue range needs 0 ≤ min ≤ max."),
                ));
            }
            Rule::MinRegisteredCapital { fen } if *fen < 0 => {
                problems.push(("out_of_range", Text::new("注册资本下限不能为负。", "The capital cannot be negative.")));
            }
            _ => {}
        }
        problems
    }

    pub fn evaluate(&self, facts: &Facts<'_>) -> Check {
        let (passed, expected, actual, message) = match self {
            Rule::CompanyVerified => company_verified(facts),
            Rule::IndustryIn { values } => industry_in(values, facts),
            Rule::ParkZoneIn { values } => park_zone_in(values, facts),
            Rule::MinYearsEstablished { years } => min_years_established(*years, facts),
            Rule::HighTechCertified => high_tech_certified(facts),
            Rule::TechSme => tech_sme(facts),
            Rule::MinRegisteredCapital { fen } => min_registered_capital(*fen, facts),
            Rule::MinEmployees { .. }
            | Rule::MinRdStaffRatio { .. }
            | Rule::MinRdExpenseRatio { .. }
            | Rule::RdExpenseRatioByRevenueBand
            | Rule::RevenueBetween { .. } => return self.evaluate_figures(facts),
        };
        Check { rule: self.name(), passed, expected, actual, message }
    }

    /// The rules that read a year's figures, which may be missing.
    fn evaluate_figures(&self, facts: &Facts<'_>) -> Check {
        let year = facts.figures_year;
        let (expected, outcome) = match self {
            Rule::MinEmployees { count } => min_employees(*count, year, facts.figures),
            Rule::MinRdStaffRatio { percent } => min_rd_staff_ratio(*percent, year, facts.figures),
            Rule::MinRdExpenseRatio { percent } => min_rd_expense_ratio(*percent, year, facts.figures),
            Rule::RdExpenseRatioByRevenueBand => rd_expense_by_band(year, facts.figures),
            Rule::RevenueBetween { min_fen, max_fen } => revenue_between(*min_fen, *max_fen, year, facts.figures),
            _ => unreachable!("only rules that read figures come here"),
        };
        let rule = self.name();
        match outcome {
            None => Check {
                rule,
                passed: false,
                expected,
                actual: Text::owned(format!("未填报 {year} 年度数据"), format!("no {year} financials on file")),
                message: Text::owned(
                    format!("尚未填报 {year} 年度的营业收入、研发投入和职工人数，请先在企业信息中填报。"),
                    format!(
                        "There are no {year} financials on file: add revenue, R&D expense and staff for {year} to your company profile first."
                    ),
                ),
            },
            Some((passed, actual)) => {
                let message = if passed {
                    Text::owned(format!("符合要求：{}。", actual.zh), format!("Qualifies: {}.", actual.en))
                } else {
                    Text::owned(
                        format!("不符合要求：要求{}，贵公司{}。", expected.zh, actual.zh),
                        format!("Does not qualify: {} required; yours: {}.", expected.en, actual.en),
                    )
                };
                Check { rule, passed, expected, actual, message }
            }
        }
    }
}

/// `(passed, expected, actual, message)` of a rule that reads the profile.
type Answer = (bool, Text, Text, Text);
/// What a figures rule expects, and — when the figures are on file — whether they pass and what they are.
type FiguresAnswer = (Text, Option<(bool, Text)>);

fn company_verified(facts: &Facts<'_>) -> Answer {
    let actual = if facts.verified {
        Text::new("已通过审核", "verified")
    } else {
        Text::new("尚未通过审核", "not verified")
    };
    let message = if facts.verified {
        Text::new("企业信息已通过园区审核。", "Your company has been verified by the park.")
    } else {
        Text::new(
            "企业信息尚未通过园区审核，审核通过后方可提交申报。",
            "Your company has not been verified by the park yet; you can apply once it is.",
        )
    };
    (facts.verified, Text::new("企业信息已通过园区审核", "company verified by the park"), actual, message)
}

fn industry_in(values: &[Industry], facts: &Facts<'_>) -> Answer {
    let passed = values.contains(&facts.industry);
    let zh = values.iter().map(|i| i.label().zh.into_owned()).collect::<Vec<_>>().join("、");
    let en = values.iter().map(|i| i.label().en.into_owned()).collect::<Vec<_>>().join(", ");
    let own = facts.industry.label();
    let message = if passed {
        Text::owned(format!("贵公司所属行业“{}”符合要求。", own.zh), format!("Your industry, {}, qualifies.", own.en))
    } else {
        Text::owned(
            format!("本项目只支持{zh}行业，贵公司所属行业为“{}”。", own.zh),
            format!("This programme is for {en}; your industry is {}.", own.en),
        )
    };
    (passed, Text::owned(format!("所属行业为：{zh}"), format!("industry is one of: {en}")), own, message)
}

fn park_zone_in(values: &[String], facts: &Facts<'_>) -> Answer {
    let passed = values.iter().any(|v| v == facts.park_zone);
    let (list, zone) = (values.join("、"), facts.park_zone);
    let message = if passed {
        Text::owned(format!("贵公司位于{zone}，符合要求。"), format!("Your company is in {zone}, which qualifies."))
    } else {
        Text::owned(
            format!("本项目只面向{list}的企业，贵公司位于{zone}。"),
            format!("This programme is for companies in {list}; yours is in {zone}."),
        )
    };
    (
        passed,
        Text::owned(format!("位于：{list}"), format!("located in: {list}")),
        Text::owned(zone.to_owned(), zone.to_owned()),
        message,
    )
}

fn min_years_established(years: u32, facts: &Facts<'_>) -> Answer {
    let passed = full_years(facts.established_on, facts.today) >= i32::try_from(years).unwrap_or(i32::MAX);
    let date = facts.established_on;
    let message = if passed {
        Text::owned(
            format!("贵公司成立于 {date}，已满 {years} 年。"),
            format!("Established on {date}: at least {years} year(s) ago."),
        )
    } else {
        Text::owned(
            format!("注册成立需满 {years} 年，贵公司成立于 {date}，不足 {years} 年。"),
            format!(
                "The company must have been established at least {years} year(s) ago; yours was established on {date}."
            ),
        )
    };
    let expected = Text::owned(format!("注册成立满 {years} 年"), format!("established at least {years} year(s)"));
    (passed, expected, Text::owned(format!("成立于 {date}"), format!("established on {date}")), message)
}

fn high_tech_certified(facts: &Facts<'_>) -> Answer {
    let valid = facts.high_tech_valid_until.is_some_and(|until| until >= facts.today);
    let actual = match facts.high_tech_valid_until {
        None => Text::new("未填报高新技术企业证书", "no high-tech enterprise certificate on file"),
        Some(until) => Text::owned(format!("证书有效期至 {until}"), format!("certificate valid until {until}")),
    };
    let message = match (valid, facts.high_tech_valid_until) {
        (true, _) => Text::new("贵公司持有有效的高新技术企业证书。", "Your high-tech enterprise certificate is valid."),
        (false, None) => Text::new(
            "须持有有效的高新技术企业证书；如已取得，请在企业信息中填报证书编号和有效期。",
            "A valid high-tech enterprise certificate is required; if you have one, add its number and expiry to your company profile.",
        ),
        (false, Some(until)) => Text::owned(
            format!("贵公司的高新技术企业证书已于 {until} 到期。"),
            format!("Your high-tech enterprise certificate expired on {until}."),
        ),
    };
    let expected = Text::new(
        "申报当日持有有效的高新技术企业证书",
        "a high-tech enterprise certificate valid on the day of application",
    );
    (valid, expected, actual, message)
}

fn tech_sme(facts: &Facts<'_>) -> Answer {
    let actual = if facts.tech_sme {
        Text::new("已入库科技型中小企业", "registered tech-based SME")
    } else {
        Text::new("未登记为科技型中小企业", "not registered as a tech-based SME")
    };
    let message = if facts.tech_sme {
        Text::new("贵公司为科技型中小企业。", "Your company is a registered tech-based SME.")
    } else {
        Text::new(
            "须为入库科技型中小企业；如已入库，请在企业信息中更新。",
            "The company must be a registered tech-based SME; if it is, update your company profile.",
        )
    };
    (facts.tech_sme, Text::new("入库科技型中小企业", "a registered tech-based SME"), actual, message)
}

fn min_registered_capital(fen: i64, facts: &Facts<'_>) -> Answer {
    let passed = facts.registered_capital_fen >= fen;
    let (need, have) = (yuan(fen), yuan(facts.registered_capital_fen));
    let message = if passed {
        Text::owned(format!("注册资本 {have} 元，符合要求。"), format!("Registered capital {have} yuan qualifies."))
    } else {
        Text::owned(
            format!("注册资本须不低于 {need} 元，贵公司为 {have} 元。"),
            format!("Registered capital must be at least {need} yuan; yours is {have} yuan."),
        )
    };
    let expected = Text::owned(format!("注册资本不低于 {need} 元"), format!("registered capital at least {need} yuan"));
    (passed, expected, Text::owned(format!("{have} 元"), format!("{have} yuan")), message)
}

fn min_employees(count: u32, year: i32, figures: Option<Figures>) -> FiguresAnswer {
    let expected =
        Text::owned(format!("{year} 年度职工人数不少于 {count} 人"), format!("at least {count} employees in {year}"));
    let outcome = figures.map(|f| {
        let actual = Text::owned(format!("{} 人", f.employee_count), format!("{} employees", f.employee_count));
        (i64::from(f.employee_count) >= i64::from(count), actual)
    });
    (expected, outcome)
}

fn min_rd_staff_ratio(percent: f64, year: i32, figures: Option<Figures>) -> FiguresAnswer {
    let expected = Text::owned(
        format!("{year} 年度研发人员占职工总数不低于 {percent}%"),
        format!("R&D staff at least {percent}% of employees in {year}"),
    );
    let outcome = figures.map(|f| {
        let (part, whole) = (i64::from(f.rd_staff_count), i64::from(f.employee_count));
        let share = percent_text(part, whole);
        let passed = whole > 0 && ratio_at_least(part, whole, basis_points(percent));
        (passed, Text::owned(format!("研发人员占比 {share}"), format!("R&D staff {share}")))
    });
    (expected, outcome)
}

fn min_rd_expense_ratio(percent: f64, year: i32, figures: Option<Figures>) -> FiguresAnswer {
    let expected = Text::owned(
        format!("{year} 年度研发投入占营业收入不低于 {percent}%"),
        format!("R&D expense at least {percent}% of revenue in {year}"),
    );
    let outcome = figures.map(|f| {
        let share = percent_text(f.rd_expense_fen, f.revenue_fen);
        let passed = f.revenue_fen > 0 && ratio_at_least(f.rd_expense_fen, f.revenue_fen, basis_points(percent));
        (passed, Text::owned(format!("研发投入占比 {share}"), format!("R&D expense {share} of revenue")))
    });
    (expected, outcome)
}

fn rd_expense_by_band(year: i32, figures: Option<Figures>) -> FiguresAnswer {
    let expected = Text::owned(
        format!(
            "{year} 年度研发投入占营业收入：收入 5000 万元及以下不低于 5%，5000 万至 2 亿元不低于 4%，2 亿元以上不低于 3%"
        ),
        format!("R&D expense in {year} at least 5% of revenue up to 50 M yuan, 4% up to 200 M yuan, 3% above"),
    );
    let outcome = figures.map(|f| {
        let points = match f.revenue_fen {
            r if r <= BAND_ONE_MAX_FEN => 500,
            r if r <= BAND_TWO_MAX_FEN => 400,
            _ => 300,
        };
        let (share, revenue) = (percent_text(f.rd_expense_fen, f.revenue_fen), yuan(f.revenue_fen));
        let actual = Text::owned(
            format!("营业收入 {revenue} 元，研发投入占比 {share}，适用标准 {}%", points / 100),
            format!("revenue {revenue} yuan, R&D expense {share}, threshold {}%", points / 100),
        );
        (f.revenue_fen > 0 && ratio_at_least(f.rd_expense_fen, f.revenue_fen, points), actual)
    });
    (expected, outcome)
}

fn revenue_between(min_fen: i64, max_fen: i64, year: i32, figures: Option<Figures>) -> FiguresAnswer {
    let (min, max) = (yuan(min_fen), yuan(max_fen));
    let expected = Text::owned(
        format!("{year} 年度营业收入在 {min} 至 {max} 元之间"),
        format!("revenue in {year} from {min} to {max} yuan"),
    );
    let outcome = figures.map(|f| {
        let revenue = yuan(f.revenue_fen);
        (
            (min_fen..=max_fen).contains(&f.revenue_fen),
            Text::owned(format!("营业收入 {revenue} 元"), format!("revenue {revenue} yuan")),
        )
    });
    (expected, outcome)
}

/// Every rule's answer, in the programme's order.
pub fn evaluate(rules: &[Rule], facts: &Facts<'_>) -> Vec<Check> {
    rules.iter().map(|rule| rule.evaluate(facts)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    fn facts() -> Facts<'static> {
        Facts {
            today: date("2026-11-26"),
            verified: true,
            industry: Industry::IntegratedCircuit,
            park_zone: "唐家湾主园区",
            established_on: date("2020-03-01"),
            registered_capital_fen: 1_000_000_000,
            high_tech_valid_until: Some(date("2027-12-31")),
            tech_sme: true,
            figures: Some(Figures {
                revenue_fen: 4_000_000_000,
                rd_expense_fen: 240_000_000,
                employee_count: 100,
                rd_staff_count: 20,
            }),
            figures_year: 2025,
        }
    }

    fn passes(rule: &Rule, facts: &Facts<'_>) -> bool {
        rule.evaluate(facts).passed
    }

    #[test]
    fn every_rule_passes_for_a_company_that_meets_it_and_fails_for_one_that_does_not() {
        type Spoil = fn(&mut Facts<'static>);
        let cases: Vec<(Rule, Spoil)> = vec![
            (Rule::CompanyVerified, |f| f.verified = false),
            (Rule::IndustryIn { values: vec![Industry::IntegratedCircuit, Industry::Software] }, |f| {
                f.industry = Industry::Marine;
            }),
            (Rule::ParkZoneIn { values: vec!["唐家湾主园区".into(), "金鼎".into()] }, |f| f.park_zone = "海岸"),
            (Rule::MinYearsEstablished { years: 3 }, |f| f.established_on = date("2024-01-01")),
            (Rule::MinEmployees { count: 50 }, |f| f.figures.as_mut().unwrap().employee_count = 49),
            (Rule::MinRdStaffRatio { percent: 10.0 }, |f| f.figures.as_mut().unwrap().rd_staff_count = 9),
            (Rule::MinRdExpenseRatio { percent: 5.0 }, |f| f.figures.as_mut().unwrap().rd_expense_fen = 199_999_999),
            (Rule::RdExpenseRatioByRevenueBand, |f| f.figures.as_mut().unwrap().rd_expense_fen = 100_000_000),
            (Rule::RevenueBetween { min_fen: 0, max_fen: 5_000_000_000 }, |f| {
                f.figures.as_mut().unwrap().revenue_fen = 5_000_000_001;
            }),
            (Rule::HighTechCertified, |f| f.high_tech_valid_until = Some(date("2026-11-25"))),
            (Rule::TechSme, |f| f.tech_sme = false),
            (Rule::MinRegisteredCapital { fen: 500_000_000 }, |f| f.registered_capital_fen = 499_999_999),
        ];
        for (rule, spoil) in cases {
            let pass = rule.evaluate(&facts());
            assert!(pass.passed, "{rule:?}: {}", pass.message.en);
            let mut bad = facts();
            spoil(&mut bad);
            let fail = rule.evaluate(&bad);
            assert!(!fail.passed, "{rule:?}");
            assert_ne!(fail.message, pass.message, "{rule:?}");
            assert!(!fail.expected.zh.is_empty() && !fail.actual.en.is_empty());
        }
    }

    #[test]
    fn missing_figures_are_their_own_answer_naming_the_year() {
        let mut f = facts();
        f.figures = None;
        for rule in [
            Rule::MinEmployees { count: 1 },
            Rule::MinRdStaffRatio { percent: 1.0 },
            Rule::MinRdExpenseRatio { percent: 1.0 },
            Rule::RdExpenseRatioByRevenueBand,
            Rule::RevenueBetween { min_fen: 0, max_fen: 1 },
        ] {
            let check = rule.evaluate(&f);
            assert!(!check.passed);
            assert_eq!(check.actual.en, "no 2025 financials on file", "{rule:?}");
            assert!(check.message.zh.contains("2025 年度"), "{}", check.message.zh);
        }
        let mut uncertified = facts();
        uncertified.high_tech_valid_until = None;
        assert!(Rule::HighTechCertified.evaluate(&uncertified).message.en.contains("add its number"));
    }

    #[test]
    fn years_established_count_whole_years_to_the_day() {
        let rule = Rule::MinYearsEstablished { years: 1 };
        let mut f = facts();
        f.established_on = date("2025-11-26");
        assert!(passes(&rule, &f), "exactly one year");
        f.established_on = date("2025-11-27");
        let check = rule.evaluate(&f);
        assert!(!check.passed);
        assert_eq!(check.message.zh, "注册成立需满 1 年，贵公司成立于 2025-11-27，不足 1 年。");
    }

    #[test]
    fn the_revenue_bands_switch_exactly_at_50_and_200_million_yuan() {
        let rule = Rule::RdExpenseRatioByRevenueBand;
        let at = |revenue_fen: i64, rd_expense_fen: i64| {
            let mut f = facts();
            f.figures = Some(Figures { revenue_fen, rd_expense_fen, employee_count: 10, rd_staff_count: 1 });
            passes(&rule, &f)
        };
        // Up to and including 50 M yuan: 5 %.
        assert!(at(5_000_000_000, 250_000_000));
        assert!(!at(5_000_000_000, 249_999_999));
        // Just above 50 M yuan: 4 %.
        assert!(at(5_000_000_001, 200_000_001));
        assert!(!at(5_000_000_001, 200_000_000));
        // Up to and including 200 M yuan: 4 %.
        assert!(at(20_000_000_000, 800_000_000));
        assert!(!at(20_000_000_000, 799_999_999));
        // Above 200 M yuan: 3 %.
        assert!(at(20_000_000_100, 600_000_003));
        assert!(!at(20_000_000_100, 600_000_002));
        assert!(!at(0, 0), "no revenue, no ratio");
    }

    #[test]
    fn a_certificate_is_valid_through_its_last_day() {
        let mut f = facts();
        f.high_tech_valid_until = Some(f.today);
        assert!(passes(&Rule::HighTechCertified, &f));
    }

    #[test]
    fn rules_with_nonsense_parameters_are_refused() {
        assert!(!Rule::MinRdExpenseRatio { percent: 0.0 }.check().is_empty());
        assert!(!Rule::MinRdExpenseRatio { percent: 101.0 }.check().is_empty());
        assert!(!Rule::IndustryIn { values: vec![] }.check().is_empty());
        assert!(!Rule::RevenueBetween { min_fen: 10, max_fen: 5 }.check().is_empty());
        assert!(Rule::MinRdExpenseRatio { percent: 2.5 }.check().is_empty());
        let unknown: Result<Rule, _> = serde_json::from_str(r#"{"type": "min_profit", "fen": 1}"#);
        assert!(unknown.is_err());
        let extra: Result<Rule, _> = serde_json::from_str(r#"{"type": "min_employees", "count": 1, "x": 2}"#);
        assert!(extra.is_err());
    }
}
