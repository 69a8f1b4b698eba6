//! Companies: their fixed vocabularies and the rules their profile follows.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::domain::error::{Error as Refusal, FieldError};
use crate::domain::validation::Vocabulary;
use crate::i18n::Text;

text_enum!(
    /// The industries the park's programmes are written for.
    Industry {
        IntegratedCircuit => "integrated_circuit",
        Biomedicine => "biomedicine",
        IntelligentManufacturing => "intelligent_manufacturing",
        Software => "software",
        NewEnergy => "new_energy",
        NewMaterials => "new_materials",
        Marine => "marine",
        Other => "other",
    }
);

text_enum!(
    /// Where a company stands with the park's staff.
    VerificationStatus {
        Pending => "pending",
        Verified => "verified",
        Rejected => "rejected",
    }
);

text_enum!(
    /// Whether awards may be paid into the company's bank account: `none` (no account), `unconfirmed` (set,
    /// or changed since finance last confirmed it) or `confirmed`.
    BankAccountStatus {
        None => "none",
        Unconfirmed => "unconfirmed",
        Confirmed => "confirmed",
    }
);

/// The profile fields staff verify: changing any of them sends a verified company back to `pending`.
pub const VERIFIED_FACTS: [&str; 5] = ["name", "industry", "park_zone", "established_on", "registered_capital_fen"];

impl Industry {
    pub fn label(self) -> Text {
        let (zh, en) = match self {
            Industry::IntegratedCircuit => ("集成电路", "integrated circuits"),
            Industry::Biomedicine => ("生物医药", "biomedicine"),
            Industry::IntelligentManufacturing => ("智能制造", "intelligent manufacturing"),
            Industry::Software => ("软件和信息服务", "software and IT services"),
            Industry::NewEnergy => ("新能源", "new energy"),
            Industry::NewMaterials => ("新材料", "new materials"),
            Industry::Marine => ("海洋经济", "marine economy"),
            Industry::Other => ("其他", "other"),
        };
        Text::new(zh, en)
    }
}

impl Vocabulary for Industry {
    const CHOICES: &'static [Self] = Industry::ALL;

    fn as_str(self) -> &'static str {
        Industry::as_str(self)
    }

    fn label(self) -> Text {
        Industry::label(self)
    }
}

// What the staff decide about a company's registration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Verified,
    Rejected,
}

impl Decision {
    /// The status the company has once decided.
    pub fn status(self) -> VerificationStatus {
        match self {
            Decision::Verified => VerificationStatus::Verified,
            Decision::Rejected => VerificationStatus::Rejected,
        }
    }
}

impl Vocabulary for Decision {
    const CHOICES: &'static [Self] = &[Decision::Verified, Decision::Rejected];

    fn as_str(self) -> &'static str {
        self.status().as_str()
    }

    fn label(self) -> Text {
        match self {
            Decision::Verified => Text::new("通过", "verified"),
            Decision::Rejected => Text::new("不通过", "rejected"),
        }
    }
}

/// A rejection tells the company what to correct; `comment` is already trimmed.
pub fn check_decision_comment(decision: Decision, comment: &str) -> Result<(), FieldError> {
    if decision == Decision::Rejected && comment.is_empty() {
        return Err(FieldError::new(
            "comment",
            "required",
            Text::new(
                "不通过时须填写审核意见，告诉企业如何修改。",
                "A rejection needs a comment telling the company what to correct.",
            ),
        ));
    }
    Ok(())
}

/// `check_account_no` as a pattern for the API document.
pub const ACCOUNT_NO_PATTERN: &str = r"^[\s-]*(?:[0-9][\s-]*){8,34}$";

/// A bank account number has 8 to 34 digits; spaces and dashes between them are allowed.
pub fn check_account_no(account_no: &str) -> Result<(), FieldError> {
    let digits: String = account_no.chars().filter(|c| !c.is_whitespace() && *c != '-').collect();
    let valid = (8..=34).contains(&digits.len()) && digits.chars().all(|c| c.is_ascii_digit());
    if valid {
        Ok(())
    } else {
        Err(FieldError::new(
            "account_no",
            "invalid_account_no",
            Text::new("银行账号应为 8–34 位数字。", "A bank account number has 8 to 34 digits."),
        ))
    }
}

/// The account number as stored: its digits only.
pub fn account_no_digits(account_no: &str) -> String {
    account_no.chars().filter(char::is_ascii_digit).collect()
}

/// The first financial year figures may be given for.
pub const FIRST_FINANCIAL_YEAR: i32 = 1949;

/// Figures are for a year from 1949 up to the current one, and R&D staff are some of the employees.
pub fn check_financials(year: i32, this_year: i32, employee_count: i32, rd_staff_count: i32) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if !(FIRST_FINANCIAL_YEAR..=this_year).contains(&year) {
        errors.push(FieldError::new(
            "year",
            "out_of_range",
            Text::owned(
                format!("年度须在 {FIRST_FINANCIAL_YEAR}–{this_year} 之间。"),
                format!("The year must be from {FIRST_FINANCIAL_YEAR} to {this_year}."),
            ),
        ));
    }
    if rd_staff_count > employee_count {
        errors.push(FieldError::new(
            "rd_staff_count",
            "exceeds_employees",
            Text::new("研发人员数不能多于职工总数。", "R&D staff cannot outnumber all employees."),
        ));
    }
    errors
}

/// A high-tech enterprise certificate has both a number and an expiry date, or neither.
pub fn check_certificate(has_number: bool, has_expiry: bool) -> Result<(), FieldError> {
    if has_number == has_expiry {
        return Ok(());
    }
    Err(FieldError::new(
        "high_tech_valid_until",
        "incomplete_certificate",
        Text::new(
            "高新技术企业证书编号与有效期须同时填写。",
            "A high-tech enterprise certificate needs both its number and its expiry date.",
        ),
    ))
}

/// A bank account number as everyone but finance sees it: `****1234`.
pub fn mask_account_no(account_no: &str) -> String {
    let digits: Vec<char> = account_no.chars().filter(|c| !c.is_whitespace()).collect();
    let tail: String = digits[digits.len().saturating_sub(4)..].iter().collect();
    format!("****{tail}")
}

/// The SHA-256 of an account number (its digits), kept with each payment so the account paid can be
/// matched later without keeping the number again.
pub fn account_no_sha256(account_no: &str) -> String {
    hex::encode(Sha256::digest(account_no_digits(account_no).as_bytes()))
}

/// The SHA-256 of a whole bank account (bank, account name and number): what finance saw, named in a
/// confirmation so that an account changed since is not confirmed unseen.
pub fn bank_account_sha256(bank_name: &str, account_name: &str, account_no: &str) -> String {
    let mut digest = Sha256::new();
    for part in [bank_name, account_name, &account_no_digits(account_no)] {
        digest.update(part.as_bytes());
        digest.update([0x1f]);
    }
    hex::encode(digest.finalize())
}

/// Finance confirms the account it saw: when the confirmation names one (`seen`, its
/// [`bank_account_sha256`]), it must be the company's account now.
pub fn check_account_seen(seen: Option<&str>, current_sha256: &str) -> Result<(), Refusal> {
    let is_sha256 = |s: &str| s.len() == 64 && s.chars().all(|c| c.is_ascii_hexdigit());
    match seen.map(str::trim) {
        Some(seen) if !is_sha256(seen) => Err(Refusal::field(
            "account_sha256",
            "invalid",
            Text::new(
                "account_sha256 须为 64 位十六进制的 SHA-256。",
                "account_sha256 must be a SHA-256 in 64 hexadecimal digits.",
            ),
        )),
        Some(seen) if !seen.eq_ignore_ascii_case(current_sha256) => Err(Refusal::conflict(
            "conflict",
            Text::new(
                "企业在您查看之后变更了收款账户，未作确认；请核对新的账户后再确认。",
                "The company changed its bank account after you looked at it; nothing was confirmed. Check the new account first.",
            ),
        )),
        _ => Ok(()),
    }
}

/// A company cannot have been established after today (the park's today).
pub fn check_established_on(
    field: &'static str,
    established_on: NaiveDate,
    today: NaiveDate,
) -> Result<(), FieldError> {
    if established_on > today {
        return Err(FieldError::new(
            field,
            "in_future",
            Text::owned(
                format!("成立日期不能晚于今天（{today}），请按营业执照填写。"),
                format!(
                    "The date of establishment cannot be after today ({today}); use the date on the business licence."
                ),
            ),
        ));
    }
    Ok(())
}

pub const PHONE_MAX_CHARS: usize = 30;
/// `check_phone` as a pattern for the API document (its length is `PHONE_MAX_CHARS`).
pub const PHONE_PATTERN: &str = r"^\s*[ ()+-]*(?:[0-9][ ()+-]*){7,20}\s*$";

/// Mobile (13812345678), landline (0756-3612345, with an optional extension) or +86 numbers.
pub fn check_phone(field: &'static str, phone: &str) -> Result<(), FieldError> {
    let phone = phone.trim();
    let digits = phone.chars().filter(char::is_ascii_digit).count();
    let allowed = phone.chars().all(|c| c.is_ascii_digit() || " -+()".contains(c));
    if allowed && (7..=20).contains(&digits) && phone.len() <= PHONE_MAX_CHARS {
        Ok(())
    } else {
        Err(FieldError::new(
            field,
            "invalid_phone",
            Text::new(
                "联系电话格式不正确，请填写手机号（如 13812345678）或座机号（如 0756-3612345）。",
                "Not a phone number: use a mobile (13812345678) or landline (0756-3612345) number.",
            ),
        ))
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use regex_lite::Regex;

    use super::*;

    #[test]
    fn a_confirmation_binds_to_the_whole_account_it_names() {
        let seen = bank_account_sha256("中国银行", "甲公司", "6222 0212 3456 7890");
        assert_eq!(seen, bank_account_sha256("中国银行", "甲公司", "6222021234567890"));
        assert!(check_account_seen(Some(&seen), &seen).is_ok());
        assert!(check_account_seen(Some(&seen.to_uppercase()), &seen).is_ok());
        assert!(check_account_seen(None, &seen).is_ok(), "naming no account confirms the current one");
        for changed in [
            bank_account_sha256("中国银行", "甲公司", "6222021234567891"),
            bank_account_sha256("工商银行", "甲公司", "6222021234567890"),
            bank_account_sha256("中国银行", "乙公司", "6222021234567890"),
        ] {
            assert!(check_account_seen(Some(&seen), &changed).is_err());
        }
        for malformed in ["", "abc", &"g".repeat(64)] {
            assert!(matches!(check_account_seen(Some(malformed), &seen), Err(Refusal::Invalid { .. })), "{malformed}");
        }
    }

    proptest! {
        #[test]
        fn the_phone_pattern_accepts_what_check_phone_accepts(phone in "[0-9 ()+x-]{0,30}") {
            let pattern = Regex::new(PHONE_PATTERN).unwrap();
            prop_assert_eq!(pattern.is_match(&phone), check_phone("p", &phone).is_ok());
        }

        #[test]
        fn the_account_number_pattern_accepts_what_check_account_no_accepts(number in "[0-9 x-]{0,40}") {
            let pattern = Regex::new(ACCOUNT_NO_PATTERN).unwrap();
            prop_assert_eq!(pattern.is_match(&number), check_account_no(&number).is_ok());
        }
    }

    #[test]
    fn account_numbers_show_only_their_last_four_digits() {
        assert_eq!(mask_account_no("6222 0212 3456 7890"), "****7890");
        assert_eq!(mask_account_no("12"), "****12");
    }

    #[test]
    fn phones_in_the_usual_forms_pass() {
        for ok in ["13812345678", "0756-3612345", "+86 138 1234 5678", "(0756) 3612345-801"] {
            assert!(check_phone("p", ok).is_ok(), "{ok}");
        }
        for bad in ["", "12345", "call me", "1381234567812345678901"] {
            assert!(check_phone("p", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn bank_account_numbers_have_8_to_34_digits() {
        for ok in ["62220212", "6222 0212 3456 7890", "6222-0212-3456-7890", &"1".repeat(34)] {
            assert!(check_account_no(ok).is_ok(), "{ok}");
        }
        for bad in ["", "1234567", "6222O21234567890", &"1".repeat(35)] {
            assert_eq!(check_account_no(bad).unwrap_err().code, "invalid_account_no", "{bad}");
        }
        assert_eq!(account_no_digits("6222 0212-3456"), "622202123456");
    }

    #[test]
    fn figures_are_for_a_past_or_current_year_with_no_more_rd_staff_than_employees() {
        assert!(check_financials(2025, 2026, 10, 10).is_empty());
        assert!(check_financials(1949, 2026, 0, 0).is_empty());
        let codes = |errors: Vec<FieldError>| errors.into_iter().map(|e| e.code).collect::<Vec<_>>();
        assert_eq!(codes(check_financials(1948, 2026, 1, 0)), ["out_of_range"]);
        assert_eq!(codes(check_financials(2027, 2026, 1, 2)), ["out_of_range", "exceeds_employees"]);
    }

    #[test]
    fn a_certificate_has_its_number_and_expiry_together() {
        assert!(check_certificate(true, true).is_ok());
        assert!(check_certificate(false, false).is_ok());
        assert_eq!(check_certificate(true, false).unwrap_err().code, "incomplete_certificate");
        assert_eq!(check_certificate(false, true).unwrap_err().field, "high_tech_valid_until");
    }

    #[test]
    fn only_a_rejection_needs_a_comment() {
        assert!(check_decision_comment(Decision::Verified, "").is_ok());
        assert!(check_decision_comment(Decision::Rejected, "补充营业执照").is_ok());
        assert_eq!(check_decision_comment(Decision::Rejected, "").unwrap_err().code, "required");
        assert_eq!(Decision::Rejected.status(), VerificationStatus::Rejected);
    }

    #[test]
    fn every_industry_reads_back_from_its_name() {
        for industry in Industry::ALL {
            assert_eq!(Industry::parse(industry.as_str()), Some(*industry));
        }
    }
}
