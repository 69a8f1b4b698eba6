//! Money is integer fen; yuan exist only for people to read. What a payment, a reversal and a payment
//! plan must look like before any money moves.

use chrono::NaiveDate;

use crate::domain::error::{Error as Refusal, FieldError};
use crate::domain::time;
use crate::i18n::Text;

/// The largest amount anything may be: 10 trillion yuan. Far above any budget, and far enough below
/// `i64::MAX` that sums of amounts never overflow in SQL.
pub const MAX_FEN: i64 = 1_000_000_000_000_000;

/// What a person types as yuan (`12,345.67`, `12345.6`, `12345`) in fen; `None` for anything else,
/// negative amounts and more than two decimals included.
pub fn parse_yuan(text: &str) -> Option<i64> {
    let text: String = text.trim().chars().filter(|c| *c != ',').collect();
    let (whole, fraction) = text.split_once('.').unwrap_or((&text, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || whole.len() > 16 || fraction.len() > 2 || !digits(whole) || !digits(fraction) {
        return None;
    }
    let cents = format!("{fraction:0<2}").parse::<i64>().ok()?;
    whole.parse::<i64>().ok()?.checked_mul(100)?.checked_add(cents)
}

/// `1234567` fen → `12,345.67`.
pub fn yuan(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    let fen = fen.unsigned_abs();
    let whole = (fen / 100).to_string();
    let mut grouped = String::new();
    for (index, digit) in whole.chars().enumerate() {
        if index > 0 && (whole.len() - index).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    format!("{sign}{grouped}.{:02}", fen % 100)
}

/// A payment finance records: the bank paid `amount_fen` on `paid_on` under the voucher `voucher_no`.
#[derive(Debug, Clone)]
pub struct Payment {
    pub amount_fen: i64,
    pub paid_on: NaiveDate,
    pub voucher_no: String,
    pub note: Option<String>,
}

impl Payment {
    /// Every problem of the payment at once; `today` in the park's calendar.
    pub fn check(&self, today: NaiveDate) -> Result<(), Refusal> {
        let mut errors = Vec::new();
        if !(1..=MAX_FEN).contains(&self.amount_fen) {
            errors.push(FieldError::new(
                "amount_fen",
                "out_of_range",
                Text::new(
                    "付款金额须大于 0 且不超过 10 万亿元（单位：分）。",
                    "The amount must be above 0 and at most 10 trillion yuan (in fen).",
                ),
            ));
        }
        if self.paid_on > today {
            errors.push(FieldError::new(
                "paid_on",
                "in_future",
                Text::new("付款日期不能晚于今天。", "The payment date cannot be after today."),
            ));
        } else if let Err(error) = time::check_day("paid_on", self.paid_on) {
            errors.push(error);
        }
        let voucher = self.voucher_no.trim();
        if voucher.is_empty() || voucher.chars().count() > 50 {
            errors.push(FieldError::new(
                "voucher_no",
                "length",
                Text::new("凭证号须为 1–50 个字符。", "The voucher number has 1 to 50 characters."),
            ));
        }
        if self.note.as_ref().is_some_and(|n| n.chars().count() > 500) {
            errors.push(FieldError::new(
                "note",
                "too_long",
                Text::new("备注最多 500 个字符。", "At most 500 characters."),
            ));
        }
        Refusal::unless_any(errors)
    }

    /// The voucher number as stored.
    pub fn voucher(&self) -> &str {
        self.voucher_no.trim()
    }

    /// The note as stored: none when blank.
    pub fn note(&self) -> Option<&str> {
        self.note.as_deref().map(str::trim).filter(|n| !n.is_empty())
    }
}

/// Why a payment is reversed, as stored; refused when blank.
pub fn reversal_reason(reason: &str) -> Result<&str, Refusal> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(Refusal::field(
            "reason",
            "required",
            Text::new("请说明冲正原因。", "Say why the payment is reversed."),
        ));
    }
    Ok(reason)
}

/// One instalment of a payment plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Instalment {
    pub due_on: NaiveDate,
    pub amount_fen: i64,
}

/// The instalments' own problems: from 1 to 60 of them, each above 0 and at most [`MAX_FEN`], each due
/// on a day within [`time::check_day`]'s bounds.
pub fn check_instalments(instalments: &[Instalment]) -> Result<(), Refusal> {
    let mut errors = Vec::new();
    if instalments.is_empty() || instalments.len() > 60 {
        errors.push(FieldError::new(
            "instalments",
            "length",
            Text::new("须有 1–60 期。", "Between 1 and 60 instalments."),
        ));
    }
    for (index, instalment) in instalments.iter().enumerate() {
        if instalment.amount_fen <= 0 {
            errors.push(FieldError::new(
                format!("instalments[{index}].amount_fen"),
                "not_positive",
                Text::new("每期金额须大于 0。", "Each instalment is above 0."),
            ));
        } else if instalment.amount_fen > MAX_FEN {
            errors.push(FieldError::new(
                format!("instalments[{index}].amount_fen"),
                "out_of_range",
                Text::new(
                    "每期金额不能超过 10 万亿元（单位：分）。",
                    "An instalment is at most 10 trillion yuan (in fen).",
                ),
            ));
        }
        errors.extend(time::check_day(format!("instalments[{index}].due_on"), instalment.due_on).err());
    }
    Refusal::unless_any(errors)
}

/// A plan pays exactly the approved amount; the sum is checked, so no list of amounts can overflow it.
pub fn check_plan_total(instalments: &[Instalment], approved_fen: i64) -> Result<(), Refusal> {
    let total = instalments.iter().try_fold(0_i64, |sum, i| sum.checked_add(i.amount_fen));
    if total == Some(approved_fen) {
        return Ok(());
    }
    let Some(total) = total else {
        return Err(Refusal::field(
            "instalments",
            "sum_mismatch",
            Text::owned(
                format!("各期合计超出可表示的金额，须等于批准金额 {} 元。", yuan(approved_fen)),
                format!(
                    "The instalments add up to more than any amount; they must add up to the approved {} yuan.",
                    yuan(approved_fen)
                ),
            ),
        ));
    };
    Err(Refusal::field(
        "instalments",
        "sum_mismatch",
        Text::owned(
            format!("各期合计 {} 元，须等于批准金额 {} 元。", yuan(total), yuan(approved_fen)),
            format!(
                "The instalments add up to {} yuan; they must add up to the approved {} yuan.",
                yuan(total),
                yuan(approved_fen)
            ),
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yuan_as_people_type_them_become_fen_and_anything_else_is_refused() {
        let cases = [
            ("12,345.67", Some(1_234_567)),
            ("12345.6", Some(1_234_560)),
            (" 12345 ", Some(1_234_500)),
            ("0.01", Some(1)),
            ("1.234", None),
            ("-5", None),
            ("", None),
            ("1e5", None),
            (".5", None),
            ("99999999999999999", None),
        ];
        for (text, fen) in cases {
            assert_eq!(parse_yuan(text), fen, "{text:?}");
        }
        assert_eq!(yuan(parse_yuan("98,765.43").unwrap()), "98,765.43");
    }

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2025, 6, d).unwrap()
    }

    #[test]
    fn a_payment_names_every_problem_at_once() {
        let payment = Payment { amount_fen: 0, paid_on: day(2), voucher_no: "  ".into(), note: Some("x".repeat(501)) };
        let Err(Refusal::Invalid { errors, .. }) = payment.check(day(1)) else { panic!("refused") };
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_ref()).collect();
        assert_eq!(fields, ["amount_fen", "paid_on", "voucher_no", "note"]);
        let fine = Payment { amount_fen: 1, paid_on: day(1), voucher_no: " V-1 ".into(), note: Some(" ".into()) };
        assert_eq!(fine.check(day(1)), Ok(()));
        assert_eq!((fine.voucher(), fine.note()), ("V-1", None));
    }

    #[test]
    fn a_plan_has_positive_instalments_adding_up_to_the_award() {
        let plan = [Instalment { due_on: day(1), amount_fen: 60 }, Instalment { due_on: day(2), amount_fen: 40 }];
        assert_eq!(check_instalments(&plan), Ok(()));
        assert_eq!(check_plan_total(&plan, 100), Ok(()));
        assert!(check_plan_total(&plan, 99).is_err());
        assert!(check_instalments(&[]).is_err());
        assert!(check_instalments(&[Instalment { due_on: day(1), amount_fen: 0 }]).is_err());
        assert!(reversal_reason("  ").is_err());
    }

    #[test]
    fn amounts_and_days_past_the_bounds_are_refused_without_overflow() {
        let huge = [Instalment { due_on: day(1), amount_fen: i64::MAX }, Instalment { due_on: day(2), amount_fen: 2 }];
        assert!(check_instalments(&huge).is_err());
        assert!(check_plan_total(&huge, 100).is_err(), "the sum overflows and is refused, not wrapped");
        let ancient = [Instalment { due_on: NaiveDate::MIN, amount_fen: 1 }];
        let Err(Refusal::Invalid { errors, .. }) = check_instalments(&ancient) else { panic!("refused") };
        assert_eq!(errors[0].field, "instalments[0].due_on");
        let old = Payment { amount_fen: 1, paid_on: NaiveDate::MIN, voucher_no: "V".into(), note: None };
        assert!(old.check(day(1)).is_err());
    }

    #[test]
    fn fen_read_as_yuan_with_thousands_separated() {
        assert_eq!(yuan(0), "0.00");
        assert_eq!(yuan(5), "0.05");
        assert_eq!(yuan(1_234_567), "12,345.67");
        assert_eq!(yuan(500_000_000_000), "5,000,000,000.00");
        assert_eq!(yuan(-150), "-1.50");
    }
}
