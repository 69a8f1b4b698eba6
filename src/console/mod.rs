//! The staff console: server-rendered pages at `/console/` for reviewers, experts, finance and admins. A
//! second edge on the same use cases as the JSON API: pages parse forms, call one use case, render. No SQL
//! and no rules here. The route table below is the console's table of contents.

pub mod admin;
pub mod allocation;
pub mod applications;
pub mod dashboard;
pub mod failure;
pub mod finance;
pub mod programs;
pub mod requests;
pub mod session;
pub mod sign_in;
pub mod view;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::{Next, from_fn};
use actix_web::{HttpRequest, HttpResponse, web};

use crate::console::failure::Failure;

/// No inline script or style, nothing from elsewhere, never framed by another site.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
     connect-src 'self'; form-action 'self'; frame-src 'self'; frame-ancestors 'self'; base-uri 'none'";

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/console", web::get().to(|| async { session::see_other("/console/") })).service(
        web::scope("/console")
            .wrap(from_fn(pages))
            .app_data(web::PathConfig::default().error_handler(|_, _| Failure::NotFound.into()))
            .app_data(web::QueryConfig::default().error_handler(|e, _| malformed("query", &e).into()))
            .app_data(web::FormConfig::default().error_handler(|e, _| malformed("form", &e).into()))
            .route("/static/{file}", web::get().to(asset))
            // Signing in and out
            .route("/login", web::get().to(sign_in::form))
            .route("/login", web::post().to(sign_in::sign_in))
            .route("/login/code", web::post().to(sign_in::second_step))
            .route("/logout", web::post().to(sign_in::sign_out))
            .route("/mfa", web::get().to(sign_in::second_factor))
            .route("/mfa/start", web::post().to(sign_in::start_second_factor))
            .route("/mfa/confirm", web::post().to(sign_in::confirm_second_factor))
            .route("/lang", web::get().to(sign_in::switch_language))
            // Reviewers, experts
            .route("/", web::get().to(dashboard::show))
            .route("/applications", web::get().to(applications::list))
            .route("/applications/{id}", web::get().to(applications::show))
            .route("/applications/{id}/actions", web::post().to(applications::act))
            .route("/applications/{id}/attachments/{attachment_id}", web::get().to(applications::attachment))
            .route("/applications/{id}/objections/{objection_id}", web::post().to(applications::resolve_objection))
            .route("/allocation", web::get().to(allocation::show))
            .route("/allocation", web::post().to(allocation::confirm))
            .route("/companies", web::get().to(admin::companies))
            .route("/companies/{id}/verification", web::post().to(admin::verify_company))
            // Company requests (企业诉求)
            .route("/requests", web::get().to(requests::inbox))
            .route("/requests/{id}", web::get().to(requests::thread))
            .route("/requests/{id}/{step}", web::post().to(requests::step))
            // Finance
            .route("/payments", web::get().to(finance::awaiting_payment))
            .route("/applications/{id}/bank-account/{company_id}", web::post().to(applications::confirm_bank_account))
            .route("/applications/{id}/payments", web::post().to(finance::pay))
            .route("/applications/{id}/payments/{disbursement_id}/reversal", web::post().to(finance::reverse))
            .route("/reports", web::get().to(finance::reports))
            .route("/reports/disbursements.{format}", web::get().to(finance::report_download))
            // Administration
            .route("/users", web::get().to(admin::users))
            .route("/users", web::post().to(admin::invite))
            .route("/users/{id}", web::post().to(admin::change_user))
            .route("/users/{id}/mfa-reset", web::post().to(admin::reset_second_factor))
            .route("/programs", web::get().to(admin::programs))
            .route("/programs/new", web::get().to(programs::new))
            .route("/programs/new", web::post().to(programs::create))
            .route("/programs/{id}", web::get().to(programs::edit))
            .route("/programs/{id}", web::post().to(programs::save))
            .route("/programs/{id}/{step}", web::post().to(admin::program_step))
            .route("/calendar", web::get().to(admin::calendar))
            .route("/calendar/{year}", web::post().to(admin::save_calendar))
            .route("/audit", web::get().to(admin::audit))
            .default_service(web::to(|| async { Err::<HttpResponse, _>(Failure::NotFound) })),
    );
}

/// An address or form the console cannot read, as a refusal shown on a page.
fn malformed(field: &'static str, error: &dyn std::fmt::Display) -> Failure {
    Failure::Refused(crate::domain::error::Error::field(
        field,
        "malformed",
        crate::i18n::Text::owned(format!("无法识别：{error}"), format!("Not understood: {error}")),
    ))
}

/// Every console response: failures rendered as pages in the staff member's language, the security
/// headers, and nothing kept in a cache.
async fn pages(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let lang = session::lang_of(req.request());
    let response = next.call(req).await?.map_into_boxed_body();
    let mut response = match response.response().error().and_then(|e| e.as_error::<Failure>()) {
        Some(failure) => {
            let page = failure.page(lang);
            response.into_response(page)
        }
        None => response,
    };
    let is_page = response.headers().get(header::CONTENT_TYPE).is_some_and(|v| v.as_bytes().starts_with(b"text/html"));
    let headers = response.headers_mut();
    if is_page {
        headers.insert(
            header::HeaderName::from_static("content-security-policy"),
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        );
    }
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("SAMEORIGIN"));
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    Ok(response)
}

/// The stylesheet and htmx, compiled into the binary.
async fn asset(req: HttpRequest) -> Result<HttpResponse, Failure> {
    let (body, content_type): (&'static [u8], &str) = match req.match_info().query("file") {
        "console.css" => (include_bytes!("../../static/console/console.css"), "text/css; charset=utf-8"),
        "htmx.min.js" => (include_bytes!("../../static/console/htmx.min.js"), "text/javascript; charset=utf-8"),
        _ => return Err(Failure::NotFound),
    };
    Ok(HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(body))
}
