//! What a rule or a business operation can refuse, in words for the person who asked. No HTTP here: the
//! edges (JSON API, console) decide how each refusal is shown.

use std::borrow::Cow;

use crate::i18n::Text;

/// One problem with one field of an input, e.g. `company.credit_code`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: Cow<'static, str>,
    pub code: Cow<'static, str>,
    pub message: Text,
}

impl FieldError {
    pub fn new(field: impl Into<Cow<'static, str>>, code: impl Into<Cow<'static, str>>, message: Text) -> Self {
        Self { field: field.into(), code: code.into(), message }
    }

    /// The same problem under `prefix`, e.g. `name` → `company.name`.
    #[must_use]
    pub fn under(mut self, prefix: &str) -> Self {
        self.field = Cow::Owned(format!("{prefix}.{}", self.field));
        self
    }
}

/// A refusal: the operation was not done, and nothing changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The object does not exist, or the caller may not know that it does.
    #[error("not found")]
    NotFound,
    #[error("forbidden ({code})")]
    Forbidden { code: &'static str, detail: Text },
    /// Not now: the object's state, a concurrent change or a uniqueness rule stands in the way.
    #[error("conflict ({code})")]
    Conflict { code: &'static str, detail: Text },
    /// A conflict with stored data that `errors` names field by field, e.g. each invoice another
    /// application already claims.
    #[error("conflict ({code})")]
    ConflictIn { code: &'static str, detail: Text, errors: Vec<FieldError> },
    /// Money: the amount asked for is more than what is left, which `available_fen` says.
    #[error("amount unavailable ({code})")]
    AmountUnavailable { code: &'static str, detail: Text, available_fen: i64 },
    /// The input breaks a rule; `errors` names each field.
    #[error("invalid ({code})")]
    Invalid { code: &'static str, detail: Text, errors: Vec<FieldError> },
    #[error("rate limited")]
    RateLimited { retry_after_secs: u64 },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// The input is invalid for the reasons in `errors`.
    pub fn invalid(errors: Vec<FieldError>) -> Self {
        Self::Invalid {
            code: "validation_failed",
            detail: Text::new("提交的内容有误，请按各字段提示修改后重试。", "Some fields are invalid; see `errors`."),
            errors,
        }
    }

    pub fn field(field: &'static str, code: &'static str, message: Text) -> Self {
        Self::invalid(vec![FieldError::new(field, code, message)])
    }

    pub fn conflict(code: &'static str, detail: Text) -> Self {
        Self::Conflict { code, detail }
    }

    pub fn forbidden(detail: Text) -> Self {
        Self::Forbidden { code: "forbidden", detail }
    }

    /// `Ok` when `errors` is empty, the refusal naming them all otherwise.
    pub fn unless_any(errors: Vec<FieldError>) -> Result<()> {
        if errors.is_empty() { Ok(()) } else { Err(Self::invalid(errors)) }
    }
}
