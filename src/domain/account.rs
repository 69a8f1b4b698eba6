//! Rules for e-mail addresses and passwords, the same for companies and staff.

use crate::error::FieldError;
use crate::i18n::Text;

pub const PASSWORD_MIN_CHARS: usize = 10;
pub const PASSWORD_MAX_CHARS: usize = 128;

/// An address as stored: trimmed and lower-cased, so one mailbox is one account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(field: &'static str, text: &str) -> Result<Email, FieldError> {
        let email = text.trim().to_lowercase();
        let valid = email.len() <= 254
            && email.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty()
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
                    && !email.contains(char::is_whitespace)
                    && !domain.contains('@')
            });
        if valid {
            Ok(Email(email))
        } else {
            Err(FieldError::new(
                field,
                "invalid_email",
                Text::new(
                    "邮箱地址格式不正确，例如 name@example.com。",
                    "Not a valid email address, e.g. name@example.com.",
                ),
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Length is the only composition rule: at least 10 and at most 128 characters.
pub fn check_password_length(field: &'static str, password: &str) -> Result<(), FieldError> {
    let chars = password.chars().count();
    if chars < PASSWORD_MIN_CHARS {
        return Err(FieldError::new(
            field,
            "too_short",
            Text::owned(
                format!("密码至少需要 {PASSWORD_MIN_CHARS} 个字符。"),
                format!("The password needs at least {PASSWORD_MIN_CHARS} characters."),
            ),
        ));
    }
    if chars > PASSWORD_MAX_CHARS {
        return Err(FieldError::new(
            field,
            "too_long",
            Text::owned(
                format!("密码最多 {PASSWORD_MAX_CHARS} 个字符。"),
                format!("The password may have at most {PASSWORD_MAX_CHARS} characters."),
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_normalised_and_nonsense_is_refused() {
        assert_eq!(Email::parse("email", "  Admin@Park.Example ").unwrap().as_str(), "admin@park.example");
        for bad in ["", "admin", "admin@", "@park.example", "a b@park.example", "admin@park", "a@b@c.d"] {
            assert!(Email::parse("email", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn passwords_are_bounded_by_length_in_characters() {
        assert!(check_password_length("p", "短密码").is_err());
        assert!(check_password_length("p", "十个汉字的密码正好十").is_ok());
        assert!(check_password_length("p", &"x".repeat(129)).is_err());
    }
}
