//! The unified social credit code (统一社会信用代码, GB 32100-2015) that identifies a company.

use crate::i18n::Text;

const ALPHABET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
const WEIGHTS: [u32; 17] = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];
pub const LENGTH: usize = 18;
/// What `CreditCode::parse` accepts short of the check character, as a pattern for the API document:
/// 18 characters of the alphabet in either case, with space around them.
pub const PATTERN: &str = r"^\s*[0-9A-HJ-NPQRTUWXYa-hj-npqrtuwxy]{18}\s*$";

/// A code that passed every check, normalised (trimmed, upper-case).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreditCode(String);

/// What is wrong with a code, each with a message that tells the company how to fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CreditCodeError {
    WrongLength { found: usize },
    InvalidCharacter { position: usize, character: char },
    InvalidChecksum { expected: char, found: char },
}

impl CreditCodeError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::WrongLength { .. } => "invalid_length",
            Self::InvalidCharacter { .. } => "invalid_character",
            Self::InvalidChecksum { .. } => "invalid_checksum",
        }
    }

    pub fn message(&self) -> Text {
        match self {
            Self::WrongLength { found } => Text::owned(
                format!("统一社会信用代码应为 18 位，您填写了 {found} 位，请对照营业执照核对。"),
                format!(
                    "A unified social credit code has 18 characters; this one has {found}. Check it against the business licence."
                ),
            ),
            Self::InvalidCharacter { position, character } => Text::owned(
                format!(
                    "第 {position} 位的“{character}”不是统一社会信用代码中允许的字符（只含数字和除 I、O、S、V、Z 以外的大写字母），请核对。"
                ),
                format!(
                    "Character {position}, “{character}”, cannot appear in a unified social credit code (digits and capital letters except I, O, S, V, Z)."
                ),
            ),
            Self::InvalidChecksum { expected, found } => Text::owned(
                format!(
                    "统一社会信用代码校验位不符：按前 17 位计算，第 18 位应为“{expected}”而不是“{found}”，请检查是否有输错的字符。"
                ),
                format!(
                    "The check character does not match: from the first 17 characters the 18th should be “{expected}”, not “{found}”. One of the characters is probably mistyped."
                ),
            ),
        }
    }
}

impl CreditCode {
    pub fn parse(text: &str) -> Result<CreditCode, CreditCodeError> {
        let code = text.trim().to_uppercase();
        let found = code.chars().count();
        if found != LENGTH {
            return Err(CreditCodeError::WrongLength { found });
        }
        let mut values = Vec::with_capacity(LENGTH);
        for (index, character) in code.chars().enumerate() {
            let value = u8::try_from(character)
                .ok()
                .and_then(|byte| ALPHABET.iter().position(|&c| c == byte))
                .ok_or(CreditCodeError::InvalidCharacter { position: index + 1, character })?;
            values.push(u32::try_from(value).expect("the alphabet has 31 symbols"));
        }
        let expected = check_character(&values[..17]);
        let found = code.chars().last().expect("18 characters");
        if expected != found {
            return Err(CreditCodeError::InvalidChecksum { expected, found });
        }
        Ok(CreditCode(code))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The valid code that begins with these 17 characters, e.g. to make sample data.
    pub fn complete(prefix: &str) -> Option<CreditCode> {
        let values: Option<Vec<u32>> = prefix
            .chars()
            .map(|c| u8::try_from(c).ok().and_then(|b| ALPHABET.iter().position(|&a| a == b)))
            .map(|v| v.and_then(|v| u32::try_from(v).ok()))
            .collect();
        let values = values.filter(|v| v.len() == LENGTH - 1)?;
        Some(CreditCode(format!("{prefix}{}", check_character(&values))))
    }
}

/// `(31 - Σ value × weight mod 31) mod 31`: the final `mod 31` makes a multiple of 31 give `0`, not an
/// out-of-range 31.
fn check_character(values: &[u32]) -> char {
    let sum: u32 = values.iter().zip(WEIGHTS).map(|(value, weight)| value * weight).sum();
    let index = (31 - sum % 31) % 31;
    char::from(ALPHABET[index as usize])
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use regex_lite::Regex;

    use super::*;

    proptest! {
        #[test]
        fn the_pattern_accepts_every_code_that_fails_at_most_its_check_character(code in " ?[09AHah]{17,19}[IOz]? ?") {
            let pattern = Regex::new(PATTERN).unwrap();
            let short_of_checksum = !matches!(
                CreditCode::parse(&code),
                Err(CreditCodeError::WrongLength { .. } | CreditCodeError::InvalidCharacter { .. })
            );
            prop_assert_eq!(pattern.is_match(&code), short_of_checksum);
        }
    }

    #[test]
    fn valid_codes_pass_including_a_check_character_of_zero() {
        for code in ["91350100M000100Y43", "91110000802100433B", "9151010000000000G0"] {
            assert_eq!(CreditCode::parse(code).unwrap().as_str(), code);
        }
    }

    #[test]
    fn codes_are_trimmed_and_upper_cased() {
        assert_eq!(CreditCode::parse("  91110000802100433b ").unwrap().as_str(), "91110000802100433B");
    }

    #[test]
    fn completing_a_prefix_gives_the_valid_code() {
        assert_eq!(CreditCode::complete("91110000802100433").unwrap().as_str(), "91110000802100433B");
        assert_eq!(CreditCode::complete("9151010000000000G").unwrap().as_str(), "9151010000000000G0");
        assert!(CreditCode::complete("9111000080210043").is_none());
        assert!(CreditCode::complete("9111000080210043I").is_none());
    }

    #[test]
    fn each_kind_of_mistake_is_named() {
        assert_eq!(
            CreditCode::parse("911100001000000000"),
            Err(CreditCodeError::InvalidChecksum { expected: 'R', found: '0' })
        );
        assert_eq!(CreditCode::parse("9111000080210043"), Err(CreditCodeError::WrongLength { found: 16 }));
        assert_eq!(
            CreditCode::parse("91110000802I00433B"),
            Err(CreditCodeError::InvalidCharacter { position: 12, character: 'I' })
        );
        assert_eq!(
            CreditCode::parse("9111000080210043统B"),
            Err(CreditCodeError::InvalidCharacter { position: 17, character: '统' })
        );
    }

    #[test]
    fn the_check_character_of_every_prefix_is_the_one_that_validates() {
        // A generated code with each possible check value must be accepted, and no other ending.
        for seed in 0u32..310 {
            let prefix: Vec<u32> = (0..17).map(|i| (seed * 7 + i * 13) % 31).collect();
            let check = check_character(&prefix);
            let mut code: String = prefix.iter().map(|&v| char::from(ALPHABET[v as usize])).collect();
            code.push(check);
            assert!(CreditCode::parse(&code).is_ok(), "{code}");
            for wrong in ALPHABET.iter().map(|&c| char::from(c)).filter(|&c| c != check) {
                let mut other = code.clone();
                other.pop();
                other.push(wrong);
                assert!(CreditCode::parse(&other).is_err(), "{other}");
            }
        }
    }
}
