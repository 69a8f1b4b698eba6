//! The middleware every request passes: a request id, a span, the caller's language, and one rendering of
//! every error as `application/problem+json`.

use std::time::Instant;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use tracing::Instrument;

use crate::error::{ApiError, PROBLEM_JSON};
use crate::i18n::{Lang, Text};
use crate::metrics::HttpMetrics;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The language used when a request states none we speak.
#[derive(Debug, Clone, Copy)]
pub struct DefaultLang(pub Lang);

/// What every handler may know about its request: its id (also in the logs) and its language.
#[derive(Debug, Clone)]
pub struct RequestContext {
    pub id: String,
    pub lang: Lang,
}

impl FromRequest for RequestContext {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        std::future::ready(
            req.extensions()
                .get::<RequestContext>()
                .cloned()
                .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("request context middleware is not installed"))),
        )
    }
}

pub async fn request_context(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let fallback = req.app_data::<web::Data<DefaultLang>>().map_or(Lang::Zh, |d| d.0);
    let accept_language = req.headers().get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok());
    let context =
        RequestContext { id: uuid::Uuid::new_v4().to_string(), lang: Lang::negotiate(accept_language, fallback) };
    req.extensions_mut().insert(context.clone());

    let personal = req.path().starts_with("/api/v1/");
    let span = tracing::info_span!(
        "request",
        request_id = %context.id,
        client_request_id = client_request_id(&req),
        method = %req.method(),
        path = %req.path(),
    );
    let started = Instant::now();
    let in_flight = req.app_data::<web::Data<HttpMetrics>>().map(|metrics| metrics.clone().into_inner().begin());
    // Handlers' errors arrive as responses; an `Err` here comes from the framework itself and is passed on.
    let response = match next.call(req).instrument(span.clone()).await {
        Ok(response) => response.map_into_boxed_body(),
        Err(error) => {
            if let Some(in_flight) = in_flight {
                in_flight.failed();
            }
            return Err(error);
        }
    };
    let mut response = as_problem(response, &context, &span);
    // actix-cors names the exposed headers even to an origin it does not allow; without an allowed origin
    // no CORS header means anything, so none is sent.
    if !response.headers().contains_key(header::ACCESS_CONTROL_ALLOW_ORIGIN) {
        response.headers_mut().remove(header::ACCESS_CONTROL_EXPOSE_HEADERS);
    }
    response.headers_mut().insert(REQUEST_ID, HeaderValue::from_str(&context.id).expect("request ids are ASCII"));
    // Tokens and companies' data must not stay in a browser's or a proxy's cache.
    if personal && !response.headers().contains_key(header::CACHE_CONTROL) {
        response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }

    let status = response.status().as_u16();
    let elapsed = started.elapsed();
    if let Some(in_flight) = in_flight {
        let request = response.request();
        in_flight.answered(request.method().as_str(), request.match_pattern(), status, elapsed);
    }
    let elapsed_ms = elapsed.as_secs_f64() * 1000.0;
    span.in_scope(|| tracing::info!(status, elapsed_ms, "request finished"));
    Ok(response)
}

/// The id a client sent in `x-request-id`, when it is short and plain, logged beside the service's own id
/// so a frontend's log line can be matched with ours. Only the service's own id goes into the audit trail:
/// a client chooses its id, and may choose another request's.
fn client_request_id(req: &ServiceRequest) -> Option<String> {
    req.headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|id| !id.is_empty() && id.len() <= 64)
        .filter(|id| id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.'))
        .map(ToOwned::to_owned)
}

/// Writes any error response, ours or the framework's, as the problem document in the caller's language.
fn as_problem(response: ServiceResponse, context: &RequestContext, span: &tracing::Span) -> ServiceResponse {
    let status = response.status();
    if let Some(error) = response.response().error().and_then(|e| e.as_error::<ApiError>()) {
        log_failure(error, span);
        let rendered = keep_cors(&response, error.render(context.lang, &context.id));
        return response.into_response(rendered);
    }
    let content_type = response.headers().get(header::CONTENT_TYPE).map(HeaderValue::as_bytes).unwrap_or_default();
    // A console page explains its own failures.
    let explained = content_type.starts_with(PROBLEM_JSON.as_bytes()) || content_type.starts_with(b"text/html");
    if !(status.is_client_error() || status.is_server_error()) || explained {
        return response;
    }
    if let Some(cause) = response.response().error() {
        span.in_scope(|| tracing::warn!(%cause, "framework error"));
    }
    let error = from_status(status);
    log_failure(&error, span);
    let rendered = keep_cors(&response, error.render(context.lang, &context.id));
    response.into_response(rendered)
}

/// The rendered problem with the CORS headers the CORS middleware gave the original answer, so a frontend
/// on another origin can read why its request was refused.
fn keep_cors(original: &ServiceResponse, mut rendered: actix_web::HttpResponse) -> actix_web::HttpResponse {
    for (name, value) in original.headers() {
        if name.as_str().starts_with("access-control-") || name == header::VARY {
            rendered.headers_mut().append(name.clone(), value.clone());
        }
    }
    rendered
}

fn log_failure(error: &ApiError, span: &tracing::Span) {
    span.in_scope(|| match error {
        ApiError::Internal(cause) => tracing::error!(cause = format!("{cause:#}"), "internal error"),
        ApiError::Unavailable(cause) => tracing::warn!(%cause, "dependency unavailable"),
        _ => {}
    });
}

fn from_status(status: StatusCode) -> ApiError {
    match status.as_u16() {
        400 => ApiError::Malformed(Text::new("请求格式错误。", "The request is malformed.")),
        401 => ApiError::Unauthenticated {
            code: "unauthenticated", detail: Text::new("请先登录。", "Sign in first.")
        },
        403 => ApiError::Forbidden {
            code: "forbidden", detail: Text::new("无权执行此操作。", "You may not do this.")
        },
        404 => ApiError::NotFound,
        405 => ApiError::MethodNotAllowed { allowed: Vec::new() },
        409 => ApiError::conflict(
            "conflict",
            Text::new("操作与当前状态冲突。", "The request conflicts with the current state."),
        ),
        413 => ApiError::PayloadTooLarge(Text::new("请求内容过大。", "The request body is too large.")),
        415 => ApiError::UnsupportedMediaType(Text::new("不支持的内容类型。", "Unsupported content type.")),
        422 => ApiError::validation(Vec::new()),
        429 => ApiError::RateLimited { retry_after_secs: 60 },
        503 => ApiError::Unavailable(format!("upstream answered {status}")),
        _ => ApiError::Internal(anyhow::anyhow!("unexpected status {status}")),
    }
}

/// How long a browser may keep a preflight's answer (Chromium keeps it at most two hours).
const PREFLIGHT_MAX_AGE_SECS: usize = 7200;

/// CORS for the frontends of `origins` (`server.cors_allowed_origins`, exact origins checked at start-up);
/// `None` when there are none, so the service sends no CORS headers at all. No credentials: the API is
/// called with bearer tokens, never cookies.
pub fn cors(origins: &[String]) -> Option<actix_cors::Cors> {
    if origins.is_empty() {
        return None;
    }
    let cors = origins
        .iter()
        .fold(actix_cors::Cors::default(), |cors, origin| cors.allowed_origin(origin))
        .allowed_methods(["GET", "POST", "PUT", "PATCH", "DELETE"])
        .allowed_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            HeaderName::from_static("idempotency-key"),
            header::ACCEPT_LANGUAGE,
        ])
        .expose_headers([REQUEST_ID, header::RETRY_AFTER, header::CONTENT_DISPOSITION])
        .max_age(PREFLIGHT_MAX_AGE_SECS);
    Some(cors)
}
