//! Companies: their fixed vocabularies and the rules their profile follows.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::domain::error::FieldError;
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

/// A bank account number as everyone but finance sees it: `****1234`.
pub fn mask_account_no(account_no: &str) -> String {
    let digits: Vec<char> = account_no.chars().filter(|c| !c.is_whitespace()).collect();
    let tail: String = digits[digits.len().saturating_sub(4)..].iter().collect();
    format!("****{tail}")
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

/// Mobile (13812345678), landline (0756-3612345, with an optional extension) or +86 numbers.
pub fn check_phone(field: &'static str, phone: &str) -> Result<(), FieldError> {
    let phone = phone.trim();
    let digits = phone.chars().filter(char::is_ascii_digit).count();
    let allowed = phone.chars().all(|c| c.is_ascii_digit() || " -+()".contains(c));
    if allowed && (7..=20).contains(&digits) && phone.len() <= 30 {
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
    use super::*;

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
    fn every_industry_reads_back_from_its_name() {
        for industry in Industry::ALL {
            assert_eq!(Industry::parse(industry.as_str()), Some(*industry));
        }
    }
}
