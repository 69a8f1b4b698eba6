//! Funding integrity (不重复享受, 按比例核减): the invoices an application claims as its eligible cost,
//! the support ratio that caps an award at a share of them, and the support family in which a company
//! holds at most one live award. Each rule also in plain words, so a company knows it before applying.

use std::collections::HashMap;

use chrono::{Months, NaiveDate};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::domain::credit_code::CreditCode;
use crate::domain::error::{Error as Refusal, FieldError};
use crate::domain::money::yuan;
use crate::i18n::Text;

/// The most invoices one application may claim.
pub const MAX_INVOICES: usize = 500;
/// The largest single invoice: 10 billion yuan.
pub const MAX_INVOICE_FEN: i64 = 1_000_000_000_000;
/// How old an invoice may be, in months.
pub const MAX_INVOICE_AGE_MONTHS: u32 = 120;

/// One invoice (发票) of the eligible cost, as the company claims it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Invoice {
    /// The seller's unified social credit code (销售方纳税人识别号).
    #[schema(example = "91350100M000100Y43")]
    pub seller_tax_id: String,
    /// The invoice number: 8 to 20 digits.
    #[schema(example = "24442000000012345678")]
    pub invoice_no: String,
    pub issued_on: NaiveDate,
    /// The amount the invoice is for, tax included.
    pub amount_fen: i64,
}

fn problem(index: usize, field: &str, code: &'static str, message: Text) -> FieldError {
    FieldError::new(format!("invoices[{index}].{field}"), code, message)
}

/// The invoices normalised (codes trimmed and upper-case, numbers trimmed), or every problem with them at
/// once; `today` in the park's calendar.
pub fn check_invoices(invoices: Vec<Invoice>, today: NaiveDate) -> Result<Vec<Invoice>, Refusal> {
    if invoices.len() > MAX_INVOICES {
        return Err(Refusal::field(
            "invoices",
            "too_many",
            Text::owned(
                format!("一份申报最多列明 {MAX_INVOICES} 张发票。"),
                format!("An application claims at most {MAX_INVOICES} invoices."),
            ),
        ));
    }
    let oldest = today.checked_sub_months(Months::new(MAX_INVOICE_AGE_MONTHS)).unwrap_or(NaiveDate::MIN);
    let mut errors = Vec::new();
    let mut seen: HashMap<(String, String), usize> = HashMap::new();
    let mut checked = Vec::with_capacity(invoices.len());
    for (index, invoice) in invoices.into_iter().enumerate() {
        let seller = match CreditCode::parse(&invoice.seller_tax_id) {
            Ok(code) => code.as_str().to_owned(),
            Err(error) => {
                errors.push(problem(index, "seller_tax_id", error.code(), error.message()));
                invoice.seller_tax_id.trim().to_uppercase()
            }
        };
        let number = invoice.invoice_no.trim().to_owned();
        if !(8..=20).contains(&number.len()) || !number.bytes().all(|b| b.is_ascii_digit()) {
            errors.push(problem(
                index,
                "invoice_no",
                "invalid_invoice_no",
                Text::new("发票号码须为 8–20 位数字。", "An invoice number is 8 to 20 digits."),
            ));
        }
        if invoice.issued_on > today || invoice.issued_on < oldest {
            errors.push(problem(
                index,
                "issued_on",
                "out_of_range",
                Text::owned(
                    format!("开票日期须在 {oldest} 至今天之间。"),
                    format!("The invoice date must be from {oldest} to today."),
                ),
            ));
        }
        if !(1..=MAX_INVOICE_FEN).contains(&invoice.amount_fen) {
            errors.push(problem(
                index,
                "amount_fen",
                "out_of_range",
                Text::new(
                    "发票金额须大于 0 且不超过 100 亿元（单位：分）。",
                    "The amount must be above 0 and at most 10 billion yuan (in fen).",
                ),
            ));
        }
        if let Some(first) = seen.insert((seller.clone(), number.clone()), index) {
            errors.push(problem(
                index,
                "invoice_no",
                "duplicate",
                Text::owned(
                    format!("与第 {} 张发票重复。", first + 1),
                    format!("The same invoice as number {} of the list.", first + 1),
                ),
            ));
        }
        checked.push(Invoice { seller_tax_id: seller, invoice_no: number, ..invoice });
    }
    Refusal::unless_any(errors)?;
    Ok(checked)
}

/// The refusal of a claim on invoices other live applications hold: one error per clashing invoice,
/// by its place in the list, naming no one else.
pub fn already_claimed(indexes: &[usize]) -> Refusal {
    let errors = indexes
        .iter()
        .map(|&index| {
            problem(
                index,
                "invoice_no",
                "invoice_already_claimed",
                Text::new(
                    "该发票已被其他申报使用；同一发票不得重复申报。",
                    "Another application already claims this invoice; an invoice may back only one claim.",
                ),
            )
        })
        .collect();
    Refusal::ConflictIn {
        code: "invoice_already_claimed",
        detail: Text::new(
            "部分发票已被其他申报使用，同一发票不得重复申报，见 errors。",
            "Some invoices are already claimed by another application; an invoice may back only one claim. See `errors`.",
        ),
        errors,
    }
}

/// The most an award may be under a support ratio: `floor(eligible_cost × percent / 100)`, to the fen;
/// no cap without a ratio.
pub fn ratio_cap(eligible_cost_fen: i64, percent: Option<i32>) -> Option<i64> {
    let percent = i128::from(percent?);
    let cap = i128::from(eligible_cost_fen.max(0)) * percent / 100;
    Some(i64::try_from(cap).unwrap_or(i64::MAX))
}

/// What an award may be at most: the amount requested, the programme's maximum and the ratio cap,
/// whichever is least.
pub fn award_cap(requested_fen: i64, max_award_fen: i64, ratio_cap_fen: Option<i64>) -> i64 {
    requested_fen.min(max_award_fen).min(ratio_cap_fen.unwrap_or(i64::MAX))
}

/// The refusal of an award above the support ratio's cap.
pub fn over_support_ratio(percent: i32, eligible_cost_fen: i64, cap_fen: i64) -> Refusal {
    Refusal::Invalid {
        code: "over_support_ratio",
        detail: Text::owned(
            format!(
                "支持金额不能超过所申报发票金额（{} 元）的 {percent}%，即 {} 元。",
                yuan(eligible_cost_fen),
                yuan(cap_fen)
            ),
            format!(
                "The award cannot exceed {percent}% of the claimed invoices ({} yuan), that is {} yuan.",
                yuan(eligible_cost_fen),
                yuan(cap_fen)
            ),
        ),
        errors: vec![FieldError::new(
            "approved_amount_fen",
            "over_support_ratio",
            Text::owned(format!("最多 {} 元。", yuan(cap_fen)), format!("At most {} yuan.", yuan(cap_fen))),
        )],
    }
}

/// A support family's name: 1–50 lower-case letters, digits and hyphens, e.g. `rd-subsidy-2026`.
pub fn is_family(name: &str) -> bool {
    (1..=50).contains(&name.len())
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.starts_with('-')
}

/// The programme's funding rules in plain words, for its guide and a company's eligibility explanation:
/// nothing when it has neither a support family nor a support ratio.
pub fn rules_in_words(family: Option<&str>, ratio_percent: Option<i32>) -> Vec<Text> {
    let mut words = Vec::new();
    if let Some(family) = family {
        words.push(Text::owned(
            format!(
                "本项目属于同类支持“{family}”：同一企业在同类项目中只能获得一项支持，就高不重复；已获同类支持且尚未拨付的，如本项目拟支持金额更高，原支持将被取消。"
            ),
            format!(
                "This programme belongs to the support family “{family}”: a company holds at most one award in the family, the higher one. An unpaid award in the family is cancelled if this programme proposes a higher one."
            ),
        ));
    }
    if let Some(percent) = ratio_percent {
        words.push(Text::owned(
            format!(
                "支持金额不超过申报所列发票合计金额的 {percent}%，请在申报中列明相关发票；同一张发票只能用于一项申报，申报撤回或未获支持后可重新使用。"
            ),
            format!(
                "The award is at most {percent}% of the invoices the application lists, so list them in the application. An invoice may back only one application anywhere, until that application is withdrawn or rejected."
            ),
        ));
    }
    words
}

/// For a company that already holds a live award in the family: which one, in plain words.
pub fn held_in_family(family: &str, reference_no: &str, program_title: &str, approved_fen: i64) -> Text {
    Text::owned(
        format!(
            "贵公司已在同类支持“{family}”中获得“{program_title}”支持（编号 {reference_no}，{} 元）；本项目只有拟支持金额更高且原支持尚未拨付时才能替代原支持。",
            yuan(approved_fen)
        ),
        format!(
            "Your company already holds an award in the support family “{family}”: “{program_title}” ({reference_no}, {} yuan). This programme can replace it only with a higher award, and only while nothing of it has been paid.",
            yuan(approved_fen)
        ),
    )
}

/// The refusal of a second live award in a family; `other` names the award held, for staff.
pub fn double_funding(family: &str, other: &str) -> Refusal {
    Refusal::conflict(
        "double_funding",
        Text::owned(
            format!(
                "该企业已在同类支持“{family}”中获得支持（{other}），同类支持就高不重复；如拟支持金额更高且原支持尚未拨付，可选择替代（supersede）。"
            ),
            format!(
                "The company already holds an award in the support family “{family}” ({other}); a family pays once, the higher award. Propose with `supersede` to replace it with a higher one on which nothing was paid."
            ),
        ),
    )
}

/// Why an award in the family cannot be superseded: the new one is not higher, or money was paid on it.
pub fn cannot_supersede(other: &str, other_fen: i64, paid_fen: i64, proposed_fen: i64) -> Option<Refusal> {
    let (zh, en) = if paid_fen > 0 {
        (
            format!("同类支持 {other} 已拨付 {} 元，不能被替代。", yuan(paid_fen)),
            format!("{} yuan of the award {other} has been paid; it cannot be superseded.", yuan(paid_fen)),
        )
    } else if proposed_fen <= other_fen {
        (
            format!("拟支持金额须高于同类支持 {other} 的 {} 元才能替代（就高不重复）。", yuan(other_fen)),
            format!("Only a higher award can supersede {other} ({} yuan).", yuan(other_fen)),
        )
    } else {
        return None;
    };
    Some(Refusal::conflict("double_funding", Text::owned(zh, en)))
}

/// The comment on an award rejected because a higher one in its family replaced it.
pub fn superseded_by(reference_no: &str) -> String {
    format!("superseded by {reference_no}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn invoice(seller: &str, number: &str, issued_on: NaiveDate, amount_fen: i64) -> Invoice {
        Invoice { seller_tax_id: seller.into(), invoice_no: number.into(), issued_on, amount_fen }
    }

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn fields(refusal: Refusal) -> Vec<(String, String)> {
        let Refusal::Invalid { errors, .. } = refusal else { panic!("{refusal:?}") };
        errors.into_iter().map(|e| (e.field.into_owned(), e.code.into_owned())).collect()
    }

    #[test]
    fn good_invoices_are_normalised() {
        let today = day(2026, 11, 29);
        let checked =
            check_invoices(vec![invoice(" 91350100m000100y43 ", " 12345678 ", day(2016, 11, 29), 1)], today).unwrap();
        assert_eq!(checked[0].seller_tax_id, "91350100M000100Y43");
        assert_eq!(checked[0].invoice_no, "12345678");
    }

    #[test]
    fn every_bad_invoice_detail_is_named_by_its_place() {
        let today = day(2026, 11, 29);
        let good = "91350100M000100Y43";
        let cases = [
            (invoice("911100001000000000", "12345678", today, 1), "invoices[0].seller_tax_id", "invalid_checksum"),
            (invoice(good, "1234567", today, 1), "invoices[0].invoice_no", "invalid_invoice_no"),
            (invoice(good, "123456789012345678901", today, 1), "invoices[0].invoice_no", "invalid_invoice_no"),
            (invoice(good, "1234567A", today, 1), "invoices[0].invoice_no", "invalid_invoice_no"),
            (invoice(good, "12345678", day(2026, 11, 30), 1), "invoices[0].issued_on", "out_of_range"),
            (invoice(good, "12345678", day(2016, 11, 28), 1), "invoices[0].issued_on", "out_of_range"),
            (invoice(good, "12345678", today, 0), "invoices[0].amount_fen", "out_of_range"),
            (invoice(good, "12345678", today, MAX_INVOICE_FEN + 1), "invoices[0].amount_fen", "out_of_range"),
        ];
        for (bad, field, code) in cases {
            let refusal = check_invoices(vec![bad.clone()], today).unwrap_err();
            assert_eq!(fields(refusal), [(field.to_owned(), code.to_owned())], "{bad:?}");
        }
    }

    #[test]
    fn the_same_invoice_twice_in_one_list_is_refused_at_its_second_place() {
        let today = day(2026, 11, 29);
        let a = invoice("91350100M000100Y43", "12345678", today, 100);
        let same = invoice("91350100m000100y43", "12345678 ", today, 200);
        let refusal = check_invoices(vec![a.clone(), same], today).unwrap_err();
        assert_eq!(fields(refusal), [("invoices[1].invoice_no".to_owned(), "duplicate".to_owned())]);
        let too_many = vec![a; MAX_INVOICES + 1];
        assert_eq!(fields(check_invoices(too_many, today).unwrap_err()), [("invoices".into(), "too_many".into())]);
    }

    #[test]
    fn the_ratio_cap_rounds_down_to_the_fen() {
        assert_eq!(ratio_cap(1_000_000, None), None);
        assert_eq!(ratio_cap(1_000_000, Some(20)), Some(200_000));
        assert_eq!(ratio_cap(1_000_004, Some(20)), Some(200_000));
        assert_eq!(ratio_cap(1_000_005, Some(20)), Some(200_001));
        assert_eq!(ratio_cap(0, Some(100)), Some(0));
        assert_eq!(ratio_cap(MAX_INVOICE_FEN * 500, Some(100)), Some(MAX_INVOICE_FEN * 500));
        assert_eq!(award_cap(300, 500, Some(200)), 200);
        assert_eq!(award_cap(300, 250, None), 250);
        assert_eq!(award_cap(100, 250, Some(200)), 100);
    }

    #[test]
    fn family_names_are_short_lower_case_words() {
        for good in ["rd-subsidy-2026", "ic", "a1"] {
            assert!(is_family(good), "{good}");
        }
        for bad in ["", "RD", "rd subsidy", "-rd", &"a".repeat(51), "研发"] {
            assert!(!is_family(bad), "{bad}");
        }
    }

    #[test]
    fn a_higher_unpaid_award_may_supersede_and_nothing_else() {
        assert!(cannot_supersede("P-0001", 100, 0, 101).is_none());
        assert!(cannot_supersede("P-0001", 100, 0, 100).is_some());
        assert!(cannot_supersede("P-0001", 100, 1, 200).is_some());
    }

    #[test]
    fn the_rules_in_words_name_the_family_and_the_ratio_only_when_set() {
        assert!(rules_in_words(None, None).is_empty());
        let words = rules_in_words(Some("rd-subsidy-2026"), Some(20));
        assert!(words[0].zh.contains("rd-subsidy-2026") && words[0].en.contains("rd-subsidy-2026"));
        assert!(words[1].zh.contains("20%") && words[1].en.contains("20%"));
        assert_eq!(rules_in_words(None, Some(20)).len(), 1);
    }
}
