//! What a console page answers when it cannot show what was asked: a page in the staff member's words,
//! never a JSON problem. The console's middleware renders it in the request's language.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use askama::Template;

use crate::app;
use crate::console::view::Frame;
use crate::domain::error::Error as Refusal;
use crate::i18n::{Lang, Text};

#[derive(Debug, thiserror::Error)]
pub enum Failure {
    /// No live console session: to the sign-in page, then back to `next`.
    #[error("not signed in")]
    SignIn { next: String },
    /// A role that must sign in with a second factor has not set one up: to the page that does.
    #[error("a second factor is required first")]
    SecondFactorFirst,
    /// A company's account: the console is for the park's staff.
    #[error("the console is for staff")]
    StaffOnly,
    /// A state-changing request without this session's token, or from another site.
    #[error("cross-site request refused")]
    CrossSite,
    #[error("not found")]
    NotFound,
    #[error(transparent)]
    Refused(Refusal),
    #[error("unavailable: {0}")]
    Unavailable(String),
    #[error(transparent)]
    Internal(anyhow::Error),
}

impl From<app::Error> for Failure {
    fn from(error: app::Error) -> Self {
        match error {
            app::Error::Refused(Refusal::NotFound) => Self::NotFound,
            app::Error::Refused(refusal) => Self::Refused(refusal),
            app::Error::Malformed(text) => Self::Refused(Refusal::field("form", "malformed", text)),
            app::Error::Unavailable(cause) => Self::Unavailable(cause),
            app::Error::Internal(cause) => Self::Internal(cause),
        }
    }
}

impl From<askama::Error> for Failure {
    fn from(error: askama::Error) -> Self {
        Self::Internal(error.into())
    }
}

impl ResponseError for Failure {
    fn status_code(&self) -> StatusCode {
        match self {
            Failure::SignIn { .. } | Failure::SecondFactorFirst => StatusCode::SEE_OTHER,
            Failure::StaffOnly | Failure::CrossSite => StatusCode::FORBIDDEN,
            Failure::NotFound => StatusCode::NOT_FOUND,
            Failure::Refused(refusal) => refused_status(refusal),
            Failure::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Failure::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// Rendered in Chinese here; [`Failure::page`] renders it in the request's language.
    fn error_response(&self) -> HttpResponse {
        self.page(Lang::Zh)
    }
}

/// The status a refusal is shown with, as the JSON API would answer it.
pub fn refused_status(refusal: &Refusal) -> StatusCode {
    match refusal {
        Refusal::NotFound => StatusCode::NOT_FOUND,
        Refusal::Forbidden { .. } => StatusCode::FORBIDDEN,
        Refusal::Conflict { .. } | Refusal::ConflictIn { .. } | Refusal::AmountUnavailable { .. } => {
            StatusCode::CONFLICT
        }
        Refusal::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
        Refusal::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
    }
}

/// A refusal in the staff member's words: the reason, then each field's problem.
pub fn explain(refusal: &Refusal) -> Vec<Text> {
    let fields = |errors: &[crate::domain::error::FieldError]| {
        errors
            .iter()
            .map(|e| Text::owned(format!("{}：{}", e.field, e.message.zh), format!("{}: {}", e.field, e.message.en)))
            .collect::<Vec<_>>()
    };
    match refusal {
        Refusal::NotFound => vec![Text::new("未找到，或您无权查看。", "Not found, or not yours to see.")],
        Refusal::ConflictIn { errors, .. } | Refusal::Invalid { errors, .. } if !errors.is_empty() => fields(errors),
        Refusal::Forbidden { detail, .. }
        | Refusal::Conflict { detail, .. }
        | Refusal::AmountUnavailable { detail, .. }
        | Refusal::ConflictIn { detail, .. }
        | Refusal::Invalid { detail, .. } => vec![detail.clone()],
        Refusal::RateLimited { retry_after_secs } => vec![Text::owned(
            format!("操作过于频繁，请 {retry_after_secs} 秒后再试。"),
            format!("Too many attempts; try again in {retry_after_secs} seconds."),
        )],
    }
}

#[derive(Template)]
#[template(path = "console/failure.html")]
struct FailurePage {
    frame: Frame,
    reasons: Vec<Text>,
    sign_in: bool,
}

impl Failure {
    /// The page this failure shows, in `lang`.
    pub fn page(&self, lang: Lang) -> HttpResponse {
        if let Failure::SignIn { next } = self {
            let location = format!("/console/login?next={}", urlencode(next));
            return HttpResponse::SeeOther().insert_header((header::LOCATION, location)).finish();
        }
        if let Failure::SecondFactorFirst = self {
            return HttpResponse::SeeOther().insert_header((header::LOCATION, "/console/mfa")).finish();
        }
        let (heading, reasons) = match self {
            Failure::StaffOnly => (
                Text::new("控制台仅供园区工作人员使用", "The console is for the park's staff"),
                vec![Text::new(
                    "企业用户请通过园区的企业申报平台办理申报事项。",
                    "Companies apply through the park's application portal, not here.",
                )],
            ),
            Failure::CrossSite => (
                Text::new("请求已被拒绝", "The request was refused"),
                vec![Text::new(
                    "表单已过期或来自其他网站。请返回页面刷新后重试。",
                    "The form has expired or came from another site. Go back, reload the page and try again.",
                )],
            ),
            Failure::NotFound => (Text::new("未找到", "Not found"), explain(&Refusal::NotFound)),
            Failure::Refused(refusal) => (Text::new("无法完成操作", "This could not be done"), explain(refusal)),
            Failure::Unavailable(cause) => {
                tracing::warn!(%cause, "dependency unavailable");
                (
                    Text::new("服务暂时不可用", "The service is unavailable for a moment"),
                    vec![Text::new("请稍后重试。", "Try again in a moment.")],
                )
            }
            Failure::Internal(cause) => {
                tracing::error!(cause = format!("{cause:#}"), "internal error");
                (
                    Text::new("服务出错", "Something went wrong"),
                    vec![Text::new(
                        "请稍后重试；如仍有问题，请联系管理员。",
                        "Try again; if it persists, tell an administrator.",
                    )],
                )
            }
            Failure::SignIn { .. } | Failure::SecondFactorFirst => unreachable!("answered above"),
        };
        let page = FailurePage {
            frame: Frame::bare(lang, heading.get(lang).to_owned()),
            reasons,
            sign_in: matches!(self, Failure::StaffOnly | Failure::CrossSite),
        };
        let body = page.render().unwrap_or_else(|e| format!("<!doctype html><title>error</title><p>{e}</p>"));
        let mut response = HttpResponse::build(self.status_code()).content_type(mime::TEXT_HTML_UTF_8).body(body);
        if let Failure::Refused(Refusal::RateLimited { retry_after_secs }) = self
            && let Ok(value) = HeaderValue::from_str(&retry_after_secs.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        response
    }
}

/// `text` for a URL's query string.
pub fn urlencode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}
