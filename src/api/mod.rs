//! The HTTP edge: the route table below is the table of contents of the API. No SQL and no rules here.

pub mod actions;
pub mod allocation;
pub mod applications;
pub mod attachments;
pub mod audit;
#[cfg(feature = "bench")]
pub mod bench;
pub mod calendar;
pub mod client;
pub mod companies;
pub mod docs;
pub mod export;
pub mod extract;
pub mod health;
pub mod invoices;
pub mod metrics;
pub mod mfa;
pub mod middleware;
pub mod notices;
pub mod outreach;
pub mod pagination;
pub mod passwords;
pub mod payments;
pub mod plans;
pub mod programs;
pub mod queues;
pub mod registration;
pub mod reports;
pub mod requests;
pub mod reviews;
pub mod session;
pub mod sessions;
pub mod users;

use actix_web::http::Method;
use actix_web::{App, HttpRequest, HttpResponse, web};
use utoipa::OpenApi;
use utoipa::openapi::PathItem;
use utoipa_actix_web::service_config::ServiceConfig;
use utoipa_actix_web::{AppExt, scope};

use crate::error::ApiError;

/// Every documented route; a route and its OpenAPI entry are registered together. `cors`, when some
/// origins are allowed, answers their browsers on `/api/v1` (see [`middleware::cors`]).
pub fn routes(cors: Option<actix_cors::Cors>) -> impl FnOnce(&mut ServiceConfig) {
    move |cfg| {
        #[cfg(feature = "bench")]
        cfg.service(bench::primary_key);
        cfg.service(health::live).service(health::ready).service(docs::openapi_json).service(json_api(cors));
    }
}

/// The JSON API under `/api/v1`.
fn json_api(
    cors: Option<actix_cors::Cors>,
) -> utoipa_actix_web::scope::Scope<
    impl actix_web::dev::ServiceFactory<
        actix_web::dev::ServiceRequest,
        Config = (),
        Response = actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    scope("/api/v1")
        // Accounts and sign-in
        .service(registration::register)
        .service(registration::verify_email)
        .service(registration::resend_verification)
        .service(sessions::login)
        .service(sessions::login_second_step)
        .service(sessions::refresh)
        .service(sessions::logout)
        .service(passwords::password_reset)
        .service(passwords::password_reset_confirm)
        .service(users::me)
        .service(passwords::change_password)
        .service(mfa::start_totp)
        .service(mfa::confirm_totp)
        .service(mfa::disable_totp)
        // Staff accounts
        .service(users::create_user)
        .service(users::list_users)
        .service(users::get_user)
        .service(users::update_user)
        .service(mfa::reset_mfa)
        // Companies
        .service(companies::get_own_company)
        .service(companies::update_own_company)
        .service(companies::put_financials)
        .service(companies::get_financials)
        .service(companies::put_bank_account)
        .service(companies::confirm_bank_account)
        .service(companies::put_certifications)
        .service(companies::list_companies)
        .service(companies::get_company)
        .service(companies::verify_company)
        // Programmes
        .service(programs::list_programs)
        .service(programs::program_matches)
        .service(programs::get_program)
        .service(programs::create_program)
        .service(programs::update_program)
        .service(programs::publish_program)
        .service(programs::close_program)
        .service(programs::program_eligibility)
        .service(allocation::allocate)
        .service(outreach::program_outreach)
        // Applications
        .service(applications::create_application)
        .service(applications::list_applications)
        .service(applications::get_application)
        .service(applications::update_application)
        .service(applications::delete_application)
        .service(actions::act)
        .service(attachments::upload_attachment)
        .service(attachments::list_attachments)
        .service(attachments::download_attachment)
        .service(attachments::delete_attachment)
        .service(invoices::put_invoices)
        .service(invoices::get_invoices)
        .service(reviews::list_reviews)
        .service(reviews::list_events)
        // Money
        .service(plans::get_plan)
        .service(plans::put_plan)
        .service(payments::pay)
        .service(payments::list_for_application)
        .service(payments::reverse)
        .service(payments::list_disbursements)
        // Reports
        .service(reports::disbursement_report)
        .service(reports::timeliness_report)
        .service(reports::summary_report)
        .service(queues::queue_counts)
        .service(requests::request_report)
        // Company requests
        .service(requests::file_request)
        .service(requests::list_requests)
        .service(requests::get_request)
        .service(requests::post_message)
        .service(requests::assign_request)
        .service(requests::wait_for_company)
        .service(requests::resolve_request)
        .service(requests::rate_request)
        // Public notices
        .service(notices::list_notices)
        .service(notices::lodge_objection)
        .service(notices::list_objections)
        .service(notices::resolve_objection)
        // Administration
        .service(calendar::get_calendar)
        .service(calendar::put_calendar)
        .service(audit::list_audit_events)
        .service(audit::verify_audit_chain)
        .wrap(actix_web::middleware::Condition::new(cors.is_some(), cors.unwrap_or_default()))
}

/// The OpenAPI document of exactly the routes [`routes`] registers.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut doc =
        App::new().into_utoipa_app().openapi(docs::ApiDoc::openapi()).configure(routes(None)).split_for_parts().1;
    docs::add_problem_responses(&mut doc);
    docs::add_field_rules(&mut doc);
    doc
}

/// Paths and methods the service answers, to tell a wrong method (405) from an unknown path (404).
#[derive(Debug)]
pub struct RouteTable(Vec<(Vec<String>, Vec<Method>)>);

impl RouteTable {
    pub fn from_openapi(doc: &utoipa::openapi::OpenApi) -> Self {
        let routes = doc
            .paths
            .paths
            .iter()
            .map(|(path, item)| (segments(path).map(str::to_owned).collect(), methods(item)))
            .collect();
        Self(routes)
    }

    /// The table with a route the document does not show (such as `/metrics`).
    #[must_use]
    pub fn with(mut self, path: &str, methods: Vec<Method>) -> Self {
        self.0.push((segments(path).map(str::to_owned).collect(), methods));
        self
    }

    fn allowed(&self, path: &str) -> Option<Vec<Method>> {
        let requested: Vec<&str> = segments(path).collect();
        self.0
            .iter()
            .find(|(template, _)| {
                template.len() == requested.len()
                    && template.iter().zip(&requested).all(|(t, r)| t.starts_with('{') || t == r)
            })
            .map(|(_, methods)| methods.clone())
    }
}

fn segments(path: &str) -> impl Iterator<Item = &str> {
    path.split('/').filter(|s| !s.is_empty())
}

fn methods(item: &PathItem) -> Vec<Method> {
    [
        (item.get.is_some(), Method::GET),
        (item.post.is_some(), Method::POST),
        (item.put.is_some(), Method::PUT),
        (item.patch.is_some(), Method::PATCH),
        (item.delete.is_some(), Method::DELETE),
    ]
    .into_iter()
    .filter_map(|(present, method)| present.then_some(method))
    .collect()
}

/// Answers what no route matched: 405 with `Allow` for a known path, 404 otherwise.
pub async fn fallback(req: HttpRequest, routes: web::Data<RouteTable>) -> Result<HttpResponse, ApiError> {
    Err(match routes.allowed(req.path()) {
        Some(allowed) => ApiError::MethodNotAllowed { allowed },
        None => ApiError::NotFound,
    })
}
