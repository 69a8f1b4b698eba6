//! One closed error type for the whole service and its one wire form, `application/problem+json`.
//!
//! JSON handlers return `ApiError` (use cases' `app::Error` converts into it); the request middleware writes it in the caller's language with
//! the request id (see `api::middleware`). A 500 never carries internal detail: its cause goes to the log.

use actix_web::http::{Method, StatusCode, header};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

use crate::domain::error::Error as Refusal;
pub use crate::domain::error::FieldError;
use crate::i18n::{Lang, Text};

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("malformed request: {}", .0.en)]
    Malformed(Text),
    #[error("unauthenticated ({code})")]
    Unauthenticated { code: &'static str, detail: Text },
    #[error("forbidden ({code})")]
    Forbidden { code: &'static str, detail: Text },
    #[error("not found")]
    NotFound,
    #[error("method not allowed")]
    MethodNotAllowed { allowed: Vec<Method> },
    #[error("conflict ({code})")]
    Conflict { code: &'static str, detail: Text },
    /// A 409 whose `errors` name the fields in the way.
    #[error("conflict ({code})")]
    ConflictIn { code: &'static str, detail: Text, errors: Vec<FieldError> },
    /// A 409 about money: the amount asked for is more than what is left, which `available_fen` says.
    #[error("amount unavailable ({code})")]
    AmountUnavailable { code: &'static str, detail: Text, available_fen: i64 },
    #[error("payload too large")]
    PayloadTooLarge(Text),
    #[error("unsupported media type")]
    UnsupportedMediaType(Text),
    #[error("validation failed ({code})")]
    Validation { code: &'static str, detail: Text, errors: Vec<FieldError> },
    #[error("rate limited")]
    RateLimited { retry_after_secs: u64 },
    #[error("unavailable: {0}")]
    Unavailable(String),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// The problem document of RFC 9457 with the fields `API.md` fixes.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    pub type_: &'static str,
    pub title: String,
    pub status: u16,
    pub code: String,
    pub detail: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<ProblemField>,
    /// With `budget_exceeded` and `over_disbursement`: the amount still available, in fen.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub available_fen: Option<i64>,
    pub request_id: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ProblemField {
    pub field: String,
    pub code: String,
    pub message: String,
}

pub const PROBLEM_JSON: &str = "application/problem+json";

impl ApiError {
    pub fn validation(errors: Vec<FieldError>) -> Self {
        Self::Validation {
            code: "validation_failed",
            detail: Text::new("提交的内容有误，请按各字段提示修改后重试。", "Some fields are invalid; see `errors`."),
            errors,
        }
    }

    pub fn field(field: &'static str, code: &'static str, message: Text) -> Self {
        Self::validation(vec![FieldError::new(field, code, message)])
    }

    pub fn conflict(code: &'static str, detail: Text) -> Self {
        Self::Conflict { code, detail }
    }

    pub fn code(&self) -> &str {
        match self {
            Self::Malformed(_) => "malformed_request",
            Self::Unauthenticated { code, .. }
            | Self::Forbidden { code, .. }
            | Self::Conflict { code, .. }
            | Self::ConflictIn { code, .. }
            | Self::AmountUnavailable { code, .. }
            | Self::Validation { code, .. } => code,
            Self::NotFound => "not_found",
            Self::MethodNotAllowed { .. } => "method_not_allowed",
            Self::PayloadTooLarge(_) => "payload_too_large",
            Self::UnsupportedMediaType(_) => "unsupported_media_type",
            Self::RateLimited { .. } => "rate_limited",
            Self::Unavailable(_) => "unavailable",
            Self::Internal(_) => "internal",
        }
    }

    fn detail(&self) -> Text {
        match self {
            Self::Malformed(detail)
            | Self::PayloadTooLarge(detail)
            | Self::UnsupportedMediaType(detail)
            | Self::Unauthenticated { detail, .. }
            | Self::Forbidden { detail, .. }
            | Self::Conflict { detail, .. }
            | Self::ConflictIn { detail, .. }
            | Self::AmountUnavailable { detail, .. }
            | Self::Validation { detail, .. } => detail.clone(),
            Self::NotFound => Text::new("请求的资源不存在。", "The requested resource does not exist."),
            Self::MethodNotAllowed { allowed } => {
                let list = allowed.iter().map(Method::as_str).collect::<Vec<_>>().join(", ");
                Text::owned(
                    format!("该地址不支持此请求方法，可用：{list}。"),
                    format!("This path accepts only {list}."),
                )
            }
            Self::RateLimited { retry_after_secs } => Text::owned(
                format!("操作过于频繁，请在 {retry_after_secs} 秒后重试。"),
                format!("Too many attempts; try again in {retry_after_secs} seconds."),
            ),
            Self::Unavailable(_) => Text::new(
                "服务暂时不可用，请稍后重试。",
                "The service is temporarily unavailable; please try again shortly.",
            ),
            Self::Internal(_) => Text::new(
                "服务器内部错误，请稍后重试；如问题持续，请联系管理员并提供请求编号。",
                "Internal error; if it persists, contact the administrator with the request id.",
            ),
        }
    }

    /// The problem document in `lang`, for the request `request_id`.
    pub fn problem(&self, lang: Lang, request_id: &str) -> Problem {
        let status = self.status_code();
        let errors = match self {
            Self::Validation { errors, .. } | Self::ConflictIn { errors, .. } => errors
                .iter()
                .map(|e| ProblemField {
                    field: e.field.to_string(),
                    code: e.code.to_string(),
                    message: e.message.get(lang).to_owned(),
                })
                .collect(),
            _ => Vec::new(),
        };
        Problem {
            type_: "about:blank",
            title: title(status, lang).to_owned(),
            status: status.as_u16(),
            code: self.code().to_owned(),
            detail: self.detail().get(lang).to_owned(),
            errors,
            available_fen: match self {
                Self::AmountUnavailable { available_fen, .. } => Some(*available_fen),
                _ => None,
            },
            request_id: request_id.to_owned(),
        }
    }

    /// The full response in `lang`; the middleware calls this once it knows the request.
    pub fn render(&self, lang: Lang, request_id: &str) -> HttpResponse {
        let mut response = HttpResponse::build(self.status_code());
        response.content_type(PROBLEM_JSON);
        match self {
            Self::Unauthenticated { .. } => {
                response.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
            }
            Self::RateLimited { retry_after_secs } => {
                response.insert_header((header::RETRY_AFTER, retry_after_secs.to_string()));
            }
            Self::Unavailable(_) => {
                response.insert_header((header::RETRY_AFTER, "1"));
            }
            Self::MethodNotAllowed { allowed } => {
                let list = allowed.iter().map(Method::as_str).collect::<Vec<_>>().join(", ");
                response.insert_header((header::ALLOW, list));
            }
            _ => {}
        }
        response.json(self.problem(lang, request_id))
    }
}

fn title(status: StatusCode, lang: Lang) -> &'static str {
    let (zh, en) = match status.as_u16() {
        400 => ("请求格式错误", "Malformed request"),
        401 => ("未登录或登录已失效", "Unauthenticated"),
        403 => ("无权操作", "Forbidden"),
        404 => ("未找到", "Not found"),
        405 => ("不支持的请求方法", "Method not allowed"),
        409 => ("操作冲突", "Conflict"),
        413 => ("内容过大", "Payload too large"),
        415 => ("不支持的内容类型", "Unsupported media type"),
        422 => ("内容校验未通过", "Validation failed"),
        429 => ("请求过于频繁", "Too many requests"),
        503 => ("服务暂不可用", "Service unavailable"),
        _ => ("服务器内部错误", "Internal error"),
    };
    match lang {
        Lang::Zh => zh,
        Lang::En => en,
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::Malformed(_) => StatusCode::BAD_REQUEST,
            Self::Unauthenticated { .. } => StatusCode::UNAUTHORIZED,
            Self::Forbidden { .. } => StatusCode::FORBIDDEN,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            Self::Conflict { .. } | Self::ConflictIn { .. } | Self::AmountUnavailable { .. } => StatusCode::CONFLICT,
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Validation { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Self::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// A plain rendering for the rare response that bypasses the middleware; the middleware replaces it.
    fn error_response(&self) -> HttpResponse {
        self.render(Lang::Zh, "")
    }
}

impl From<Refusal> for ApiError {
    fn from(refusal: Refusal) -> Self {
        match refusal {
            Refusal::NotFound => Self::NotFound,
            Refusal::Forbidden { code, detail } => Self::Forbidden { code, detail },
            Refusal::Conflict { code, detail } => Self::Conflict { code, detail },
            Refusal::ConflictIn { code, detail, errors } => Self::ConflictIn { code, detail, errors },
            Refusal::AmountUnavailable { code, detail, available_fen } => {
                Self::AmountUnavailable { code, detail, available_fen }
            }
            Refusal::Invalid { code, detail, errors } => Self::Validation { code, detail, errors },
            Refusal::RateLimited { retry_after_secs } => Self::RateLimited { retry_after_secs },
        }
    }
}

impl From<crate::app::Error> for ApiError {
    fn from(error: crate::app::Error) -> Self {
        match error {
            crate::app::Error::Refused(refusal) => refusal.into(),
            crate::app::Error::Malformed(detail) => Self::Malformed(detail),
            crate::app::Error::Unavailable(message) => Self::Unavailable(message),
            crate::app::Error::Internal(error) => Self::Internal(error),
        }
    }
}

impl From<crate::db::Error> for ApiError {
    fn from(error: crate::db::Error) -> Self {
        crate::app::Error::from(error).into()
    }
}

impl crate::db::Failure for ApiError {
    fn may_mean_lost_connection(&self) -> bool {
        matches!(self, Self::Unavailable(_) | Self::Internal(_))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_the_database_said_becomes_the_status_a_client_can_act_on() {
        let closed = crate::db::Error::Unavailable("server closed".to_owned());
        assert_eq!(ApiError::from(closed).status_code(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(ApiError::from(crate::db::Error::NotFound).status_code(), StatusCode::NOT_FOUND);
        let taken = crate::db::Error::UniqueViolation { constraint: "users.email".to_owned() };
        assert_eq!(ApiError::from(taken).status_code(), StatusCode::CONFLICT);
        let damaged = crate::db::Error::damaged("programs", 7, "guide does not parse");
        assert_eq!(ApiError::from(damaged).status_code(), StatusCode::INTERNAL_SERVER_ERROR);
    }

    #[test]
    fn an_internal_error_shows_no_cause_to_the_client() {
        let problem = ApiError::Internal(anyhow::anyhow!("password column missing")).problem(Lang::En, "r1");
        let body = serde_json::to_string(&problem).unwrap();
        assert!(!body.contains("password column"), "{body}");
        assert_eq!(problem.code, "internal");
        assert_eq!(problem.request_id, "r1");
    }
}
