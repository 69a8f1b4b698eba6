//! The OpenAPI document and the interactive docs page, both served from the binary.

use actix_web::{HttpResponse, get, web};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Policy-application portal API",
        description = "Companies apply for a high-tech park's support funds; reviewers, experts and finance take each \
                       application from submission to payment. Money is integer fen; errors are application/problem+json.",
        license(name = "MIT OR Apache-2.0", identifier = "MIT OR Apache-2.0"),
    ),
    modifiers(&BearerAuth),
    components(schemas(
        crate::error::Problem,
        crate::error::ProblemField,
        crate::domain::report::GroupBy,
        crate::api::export::Format,
    )),
    tags(
        (name = "service", description = "Health and documentation"),
        (name = "auth", description = "Sign-in and tokens"),
        (name = "users", description = "Accounts"),
        (name = "companies", description = "Companies: profile, yearly figures, bank account, certifications"),
        (name = "programs", description = "Support-fund programmes, their guides and eligibility"),
        (name = "applications", description = "Applications, their materials and the review workflow"),
        (name = "money", description = "Payment plans, payments and reversals"),
        (name = "reports", description = "Where the money went, what is late, where each programme stands"),
        (name = "requests", description = "Company requests (企业诉求): questions and complaints, answered on time"),
        (name = "public notices", description = "Public notices (公示) and objections"),
        (name = "calendar", description = "The working-day calendar"),
        (name = "audit", description = "The tamper-evident audit trail"),
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme("bearer", SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)));
    }
}

/// The OpenAPI 3.1 document of every route this service serves.
#[utoipa::path(tag = "service", responses((status = 200, description = "the OpenAPI document", content_type = "application/json")))]
#[get("/api/openapi.json")]
pub async fn openapi_json(doc: web::Data<utoipa::openapi::OpenApi>) -> HttpResponse {
    HttpResponse::Ok().json(doc.get_ref())
}

/// The docs page lives under `/docs/` so its relative asset links resolve.
pub async fn docs_redirect() -> HttpResponse {
    HttpResponse::PermanentRedirect().insert_header(("location", "/docs/")).finish()
}

pub fn swagger_ui() -> utoipa_swagger_ui::SwaggerUi {
    utoipa_swagger_ui::SwaggerUi::new("/docs/{_:.*}").config(utoipa_swagger_ui::Config::new(["/api/openapi.json"]))
}

/// Documents the error answers every operation can give, from what the operation takes: any request can
/// meet a database outage (503) or a fault (500); a signed-in one can be refused (401, 403); a path
/// parameter can be malformed (400) or name nothing visible (404); a body can be malformed (400), too
/// large (413), not JSON (415) or invalid (422); a query can be malformed (400) or out of range (422).
/// An operation's own description of a status is kept.
pub fn add_problem_responses(doc: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::path::{Operation, ParameterIn};
    use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};

    let problem = |description: &str| {
        RefOr::T(
            ResponseBuilder::new()
                .description(description)
                .content(
                    crate::error::PROBLEM_JSON,
                    ContentBuilder::new().schema(Some(Ref::from_schema_name("Problem"))).build(),
                )
                .build(),
        )
    };
    let add = |operation: &mut Operation| {
        let takes = |place: ParameterIn| {
            operation.parameters.iter().flatten().any(|p| matches!(p, RefOr::T(p) if p.parameter_in == place))
        };
        let mut statuses = vec![("500", "`internal`"), ("503", "`unavailable`: the database does not answer")];
        if operation.security.as_ref().is_some_and(|s| !s.is_empty()) {
            statuses.push(("401", "`unauthenticated`: no valid access token"));
            statuses.push(("403", "`forbidden`: the caller's role may not do this"));
        }
        if takes(ParameterIn::Path) {
            statuses.push(("400", "`malformed_request`: a path parameter is not valid"));
            statuses.push(("404", "`not_found`: nothing the caller may see has this id"));
        }
        if takes(ParameterIn::Query) {
            statuses.push(("400", "`malformed_request`: a query parameter is not valid"));
            statuses.push(("422", "`validation_failed`: a query parameter is out of range"));
        }
        if operation.request_body.is_some() {
            statuses.push(("400", "`malformed_request`: the body is not valid JSON"));
            statuses.push(("413", "`payload_too_large`"));
            statuses.push(("415", "`unsupported_media_type`: the body is not declared as JSON"));
            statuses.push(("422", "`validation_failed`: see `errors` for each field"));
        }
        for (status, description) in statuses {
            operation.responses.responses.entry(status.to_owned()).or_insert_with(|| problem(description));
        }
    };
    for item in doc.paths.paths.values_mut() {
        for operation in
            [&mut item.get, &mut item.put, &mut item.post, &mut item.patch, &mut item.delete].into_iter().flatten()
        {
            add(operation);
        }
    }
}
