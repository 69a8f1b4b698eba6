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
        let mut statuses = vec![
            ("500", "`internal`"),
            ("503", "`unavailable`: the database does not answer, or the service is too busy; see `Retry-After`"),
        ];
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

/// A text field's rule in the document, taken from the constants the domain checks with.
struct TextRule {
    pattern: Option<&'static str>,
    min_chars: Option<usize>,
    max_chars: Option<usize>,
    note: Option<&'static str>,
}

/// The rule a request-body property of this name gets wherever it appears.
fn text_rule(property: &str) -> Option<TextRule> {
    use crate::domain::{account, company, credit_code};
    let rule = match property {
        "email" => TextRule {
            pattern: Some(account::EMAIL_PATTERN),
            min_chars: None,
            max_chars: Some(account::EMAIL_MAX_CHARS),
            note: None,
        },
        "password" | "new_password" => TextRule {
            pattern: None,
            min_chars: Some(account::PASSWORD_MIN_CHARS),
            max_chars: Some(account::PASSWORD_MAX_CHARS),
            note: None,
        },
        "credit_code" => TextRule {
            pattern: Some(credit_code::PATTERN),
            min_chars: None,
            max_chars: None,
            note: Some("The 18th character is a check character computed from the first 17 (GB 32100-2015)."),
        },
        // Its length is left out: a bound on top of the pattern leaves a generator little to draw.
        "contact_phone" => TextRule {
            pattern: Some(company::PHONE_PATTERN),
            min_chars: None,
            max_chars: None,
            note: Some("At most 30 characters."),
        },
        "account_no" => {
            TextRule { pattern: Some(company::ACCOUNT_NO_PATTERN), min_chars: None, max_chars: None, note: None }
        }
        _ => return None,
    };
    Some(rule)
}

/// Writes the rules the service checks into the document, so clients and fuzzers learn them from it: the
/// page bounds of every list, and the patterns and lengths of the text fields `text_rule` names in every
/// schema a request body uses.
pub fn add_field_rules(doc: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::{RefOr, Schema};

    use crate::domain::validation::{MAX_PAGE, MAX_PER_PAGE};

    let mut request_schemas = Vec::new();
    for item in doc.paths.paths.values_mut() {
        for operation in
            [&mut item.get, &mut item.put, &mut item.post, &mut item.patch, &mut item.delete].into_iter().flatten()
        {
            for parameter in operation.parameters.iter_mut().flatten() {
                let RefOr::T(parameter) = parameter else { continue };
                let maximum = match parameter.name.as_str() {
                    "page" => MAX_PAGE,
                    "per_page" => MAX_PER_PAGE,
                    _ => continue,
                };
                if let Some(RefOr::T(Schema::Object(schema))) = &mut parameter.schema {
                    schema.minimum = Some(utoipa::Number::Int(1));
                    schema.maximum = Some(utoipa::Number::Int(maximum.try_into().expect("a bound that fits")));
                }
            }
            for content in operation.request_body.iter().flat_map(|body| match body {
                RefOr::T(body) => body.content.values().collect(),
                RefOr::Ref(_) => Vec::new(),
            }) {
                if let RefOr::T(utoipa::openapi::Content { schema: Some(schema), .. }) = content {
                    request_schemas.extend(referenced(schema));
                }
            }
        }
    }
    let Some(components) = doc.components.as_mut() else { return };
    name_choices::<crate::domain::company::Industry>(components);
    name_choices::<crate::domain::company::Decision>(components);
    name_choices::<crate::domain::role::Role>(components);
    name_choices::<crate::domain::role::UserStatus>(components);
    list_request_categories(components);
    let mut seen = std::collections::BTreeSet::new();
    while let Some(name) = request_schemas.pop() {
        if !seen.insert(name.clone()) {
            continue;
        }
        let Some(RefOr::T(schema)) = components.schemas.get_mut(&name) else { continue };
        request_schemas.extend(referenced(&RefOr::T(schema.clone())));
        let Schema::Object(object) = schema else { continue };
        for (property, value) in &mut object.properties {
            let (Some(rule), RefOr::T(Schema::Object(field))) = (text_rule(property), value) else { continue };
            field.pattern = rule.pattern.map(str::to_owned);
            field.min_length = rule.min_chars;
            field.max_length = rule.max_chars;
            if let Some(note) = rule.note {
                field.description = Some(match field.description.take() {
                    Some(description) => format!("{description} {note}"),
                    None => note.to_owned(),
                });
            }
        }
    }
}

/// A new request's `category` is read as text (an unknown one is a field error in the caller's language), so
/// its schema is a string: the document lists the categories there, with their names.
fn list_request_categories(components: &mut utoipa::openapi::Components) {
    use utoipa::openapi::{RefOr, Schema};

    use crate::domain::requests::RequestCategory;

    let Some(RefOr::T(Schema::Object(body))) = components.schemas.get_mut("NewRequestBody") else { return };
    let Some(RefOr::T(Schema::Object(category))) = body.properties.get_mut("category") else { return };
    category.enum_values = Some(RequestCategory::ALL.iter().map(|c| c.as_str().into()).collect());
}

/// Appends each choice's names in both languages to the description of the vocabulary's schema.
fn name_choices<T: crate::domain::validation::Vocabulary>(components: &mut utoipa::openapi::Components) {
    use utoipa::openapi::{RefOr, Schema};

    let name = std::any::type_name::<T>().rsplit("::").next().expect("a type has a name");
    let Some(RefOr::T(Schema::Object(schema))) = components.schemas.get_mut(name) else { return };
    let choices: Vec<String> = T::CHOICES
        .iter()
        .map(|choice| {
            let label = choice.label();
            format!("`{}` {} ({})", choice.as_str(), label.zh, label.en)
        })
        .collect();
    let listed = format!("Choices: {}.", choices.join(", "));
    schema.description = Some(match schema.description.take() {
        Some(description) => format!("{description}\n\n{listed}"),
        None => listed,
    });
}

/// The component schemas a schema names, directly or through its properties, items and alternatives.
fn referenced(schema: &utoipa::openapi::RefOr<utoipa::openapi::Schema>) -> Vec<String> {
    use utoipa::openapi::schema::ArrayItems;
    use utoipa::openapi::{RefOr, Schema};

    match schema {
        RefOr::Ref(reference) => {
            reference.ref_location.strip_prefix("#/components/schemas/").map(str::to_owned).into_iter().collect()
        }
        RefOr::T(Schema::Object(object)) => object.properties.values().flat_map(referenced).collect(),
        RefOr::T(Schema::Array(array)) => match &array.items {
            ArrayItems::RefOrSchema(items) => referenced(items),
            ArrayItems::False => Vec::new(),
        },
        RefOr::T(Schema::OneOf(one_of)) => one_of.items.iter().flat_map(referenced).collect(),
        RefOr::T(Schema::AllOf(all_of)) => all_of.items.iter().flat_map(referenced).collect(),
        RefOr::T(Schema::AnyOf(any_of)) => any_of.items.iter().flat_map(referenced).collect(),
        RefOr::T(_) => Vec::new(),
    }
}
