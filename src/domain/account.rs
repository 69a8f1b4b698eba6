//! Rules for e-mail addresses and passwords, the same for companies and staff.

use chrono::NaiveDate;

use crate::domain::company::{Industry, check_established_on, check_phone};
use crate::domain::credit_code::CreditCode;
use crate::domain::error::{Error as Refusal, FieldError};
use crate::domain::role::{Role, UserStatus};
use crate::domain::validation::{Choice, Vocabulary};
use crate::i18n::Text;

pub const PASSWORD_MIN_CHARS: usize = 10;
pub const PASSWORD_MAX_CHARS: usize = 128;
pub const EMAIL_MAX_CHARS: usize = 254;
/// What `Email::parse` accepts, as a pattern for the API document: one `@`, no space inside, a dot inside
/// the domain, and space around it trimmed.
pub const EMAIL_PATTERN: &str = r"^\s*[^@\s]+@[^@\s.][^@\s]*\.[^@\s]*[^@\s.]\s*$";

/// An address as stored: trimmed and lower-cased, so one mailbox is one account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(field: &'static str, text: &str) -> Result<Email, FieldError> {
        let email = text.trim().to_lowercase();
        let valid = email.len() <= EMAIL_MAX_CHARS
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

/// The minimum zxcvbn score (0–4) a password must reach: 3 means about 10^10 guesses.
const MIN_STRENGTH: u8 = 3;

/// Length first, then a strength estimate that knows the account's own words (email, names), so
/// `parkcompany2026` for 园区公司 is recognised as guessable.
pub fn check_password(field: &'static str, password: &str, own_words: &[&str]) -> Result<(), FieldError> {
    check_password_length(field, password)?;
    let estimate = zxcvbn::zxcvbn(password, own_words);
    if u8::from(estimate.score()) >= MIN_STRENGTH {
        return Ok(());
    }
    let advice: Vec<String> = estimate
        .feedback()
        .map(|f| {
            f.warning()
                .map(|w| w.to_string())
                .into_iter()
                .chain(f.suggestions().iter().map(ToString::to_string))
                .collect()
        })
        .unwrap_or_default();
    let advice = if advice.is_empty() { "Add more words that are less common.".to_owned() } else { advice.join(" ") };
    Err(FieldError::new(
        field,
        "weak_password",
        Text::owned(
            format!("密码太容易被猜到，请换用更长、更不常见的密码，例如几个不相关词语的组合。（{advice}）"),
            format!("This password is too easy to guess. {advice}"),
        ),
    ))
}

impl Vocabulary for Role {
    const CHOICES: &'static [Self] = &Role::ALL;

    fn as_str(self) -> &'static str {
        Role::as_str(self)
    }

    fn label(self) -> Text {
        match self {
            Role::Applicant => Text::new("企业", "company"),
            Role::Reviewer => Text::new("审核人员", "reviewer"),
            Role::Expert => Text::new("评审专家", "expert"),
            Role::Finance => Text::new("财务人员", "finance"),
            Role::Admin => Text::new("系统管理员", "administrator"),
        }
    }
}

impl Vocabulary for UserStatus {
    const CHOICES: &'static [Self] = &[UserStatus::Active, UserStatus::Disabled];

    fn as_str(self) -> &'static str {
        UserStatus::as_str(self)
    }

    fn label(self) -> Text {
        match self {
            UserStatus::Active => Text::new("启用", "active"),
            UserStatus::Disabled => Text::new("停用", "disabled"),
        }
    }
}

/// A company's registration as the rules read it: the company's fields they check and its first account.
#[derive(Debug)]
pub struct RegistrationForm<'a> {
    pub credit_code: &'a str,
    pub company_name: &'a str,
    pub industry: &'a Choice<Industry>,
    pub established_on: NaiveDate,
    pub contact_phone: &'a str,
    pub email: &'a str,
    pub password: &'a str,
    pub display_name: &'a str,
}

/// The parts of a registration its checks turn into typed values.
#[derive(Debug)]
pub struct CheckedRegistration {
    pub credit_code: CreditCode,
    pub industry: Industry,
    pub email: Email,
}

/// Every problem with a registration at once (with `errors`, those already found in its form), sorted by
/// field, so the company can fix them in one go.
pub fn check_registration(
    form: &RegistrationForm<'_>,
    today: NaiveDate,
    mut errors: Vec<FieldError>,
) -> Result<CheckedRegistration, Refusal> {
    let credit_code = CreditCode::parse(form.credit_code)
        .map_err(|e| errors.push(FieldError::new("company.credit_code", e.code(), e.message())))
        .ok();
    let industry = form.industry.check("company.industry").map_err(|e| errors.push(e)).ok();
    errors.extend(check_established_on("company.established_on", form.established_on, today).err());
    errors.extend(check_phone("company.contact_phone", form.contact_phone).err());
    let email = Email::parse("account.email", form.email).map_err(|e| errors.push(e)).ok();
    let own_words = [form.email, form.company_name, form.display_name];
    errors.extend(check_password("account.password", form.password, &own_words).err());
    errors.sort_by(|a, b| a.field.cmp(&b.field));
    errors.dedup_by(|a, b| a.field == b.field && a.code == b.code);
    match (credit_code, industry, email) {
        (Some(credit_code), Some(industry), Some(email)) if errors.is_empty() => {
            Ok(CheckedRegistration { credit_code, industry, email })
        }
        _ => Err(Refusal::invalid(errors)),
    }
}

/// Accounts created by an administrator are staff accounts: companies register themselves.
pub fn check_staff_role(role: Role) -> Result<(), FieldError> {
    if role.is_staff() {
        return Ok(());
    }
    Err(FieldError::new(
        "role",
        "not_staff",
        Text::new(
            "企业账号由企业自行注册，这里只能创建工作人员账号。",
            "Companies register themselves; create staff accounts here.",
        ),
    ))
}

/// What a change of status would do to an account: who asks, whose account, its role and status now.
#[derive(Debug, Clone, Copy)]
pub struct StatusChange {
    pub by_user_id: i64,
    pub user_id: i64,
    pub role: Role,
    pub from: UserStatus,
    pub to: Option<UserStatus>,
}

/// The park always keeps an administrator who can act: nobody disables their own account, and the last
/// active administrator stays active. `active_admins` counts the active administrators now, this one included.
pub fn check_status_change(change: StatusChange, active_admins: i64) -> Result<(), Refusal> {
    let disabling = change.to == Some(UserStatus::Disabled) && change.from == UserStatus::Active;
    if change.by_user_id == change.user_id && change.to == Some(UserStatus::Disabled) {
        return Err(Refusal::conflict(
            "conflict",
            Text::new(
                "不能停用自己的账号，请由另一位管理员操作。",
                "You cannot disable your own account; ask another administrator.",
            ),
        ));
    }
    if disabling && change.role == Role::Admin && active_admins <= 1 {
        return Err(Refusal::conflict(
            "conflict",
            Text::new(
                "这是最后一位在用的管理员，不能停用；请先启用或邀请另一位管理员。",
                "This is the last active administrator and cannot be disabled; enable or invite another first.",
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use regex_lite::Regex;

    use super::*;

    proptest! {
        #[test]
        fn the_email_pattern_accepts_what_email_parse_accepts(email in "[ a.@Z-]{0,12}") {
            let pattern = Regex::new(EMAIL_PATTERN).unwrap();
            prop_assert_eq!(pattern.is_match(&email), Email::parse("email", &email).is_ok());
        }
    }

    fn form<'a>(industry: &'a Choice<Industry>, email: &'a str, phone: &'a str) -> RegistrationForm<'a> {
        RegistrationForm {
            credit_code: "91350100M000100Y43",
            company_name: "珠海示例微电子有限公司",
            industry,
            established_on: NaiveDate::from_ymd_opt(2019, 3, 1).unwrap(),
            contact_phone: phone,
            email,
            password: "qingdao-harbour-lantern-17",
            display_name: "张伟",
        }
    }

    #[test]
    fn a_sound_registration_gives_its_typed_parts() {
        let today = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        let industry = Choice::Known(Industry::Marine);
        let checked = check_registration(&form(&industry, " A@B.example ", "0756-3612345"), today, vec![]).unwrap();
        assert_eq!(checked.credit_code.as_str(), "91350100M000100Y43");
        assert_eq!(checked.industry, Industry::Marine);
        assert_eq!(checked.email.as_str(), "a@b.example");
    }

    #[test]
    fn a_registration_answers_every_problem_at_once_sorted_by_field() {
        let today = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        let industry = Choice::parse("banking");
        let earlier = vec![FieldError::new("company.name", "blank", Text::new("空", "blank"))];
        let Err(Refusal::Invalid { errors, .. }) =
            check_registration(&form(&industry, "nobody", "call us"), today, earlier)
        else {
            panic!("refused")
        };
        let found: Vec<_> = errors.iter().map(|e| (e.field.as_ref(), e.code.as_ref())).collect();
        assert_eq!(
            found,
            [
                ("account.email", "invalid_email"),
                ("company.contact_phone", "invalid_phone"),
                ("company.industry", "invalid_choice"),
                ("company.name", "blank"),
            ]
        );
    }

    #[test]
    fn only_staff_roles_are_created_by_administrators() {
        for role in Role::ALL {
            assert_eq!(check_staff_role(role).is_ok(), role != Role::Applicant, "{role:?}");
        }
    }

    fn change(by_user_id: i64, user_id: i64, role: Role, to: Option<UserStatus>) -> StatusChange {
        StatusChange { by_user_id, user_id, role, from: UserStatus::Active, to }
    }

    #[test]
    fn administrators_cannot_disable_themselves() {
        let disable = Some(UserStatus::Disabled);
        assert!(check_status_change(change(1, 1, Role::Admin, disable), 3).is_err());
        assert!(check_status_change(change(1, 1, Role::Admin, Some(UserStatus::Active)), 3).is_ok());
        assert!(check_status_change(change(1, 1, Role::Admin, None), 3).is_ok());
        assert!(check_status_change(change(1, 2, Role::Admin, disable), 3).is_ok());
    }

    #[test]
    fn the_last_active_administrator_stays_active() {
        let disable = Some(UserStatus::Disabled);
        assert!(check_status_change(change(1, 2, Role::Admin, disable), 1).is_err());
        assert!(check_status_change(change(1, 2, Role::Admin, disable), 2).is_ok());
        assert!(check_status_change(change(1, 2, Role::Finance, disable), 1).is_ok());
        let already_disabled = StatusChange { from: UserStatus::Disabled, ..change(1, 2, Role::Admin, disable) };
        assert!(check_status_change(already_disabled, 1).is_ok());
        assert!(check_status_change(change(1, 2, Role::Admin, Some(UserStatus::Active)), 1).is_ok());
    }

    #[test]
    fn addresses_are_normalised_and_nonsense_is_refused() {
        assert_eq!(Email::parse("email", "  Admin@Park.Example ").unwrap().as_str(), "admin@park.example");
        for bad in ["", "admin", "admin@", "@park.example", "a b@park.example", "admin@park", "a@b@c.d"] {
            assert!(Email::parse("email", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn guessable_passwords_are_refused_with_advice() {
        let weak = check_password("p", "password123", &[]).unwrap_err();
        assert_eq!(weak.code, "weak_password");
        assert!(weak.message.en.len() > "This password is too easy to guess. ".len());
        assert!(check_password("p", "qingdao-harbour-lantern-17", &[]).is_ok());
        let own = check_password("p", "zhangwei@park.example", &["zhangwei@park.example"]).unwrap_err();
        assert_eq!(own.code, "weak_password");
    }

    #[test]
    fn passwords_are_bounded_by_length_in_characters() {
        assert!(check_password_length("p", "短密码").is_err());
        assert!(check_password_length("p", "十个汉字的密码正好十").is_ok());
        assert!(check_password_length("p", &"x".repeat(129)).is_err());
    }
}
