//! Registering a company and proving its account's email address.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, post, web};
use chrono::NaiveDate;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use crate::api::client::ClientAddr;
use crate::api::extract::Json;
use crate::api::middleware::RequestContext;
use crate::app::companies::CompanyView;
use crate::app::registration::{self, NewAccount, NewCompany, Registration};
use crate::app::users::UserView;
use crate::auth::password::Passwords;
use crate::config::PortalSettings;
use crate::db::Db;
use crate::domain::company::Industry;
use crate::domain::money::MAX_FEN;
use crate::domain::validation::{Choice, form_errors, not_blank};
use crate::error::ApiError;

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterRequest {
    #[validate(nested)]
    pub company: CompanyInput,
    #[validate(nested)]
    pub account: AccountInput,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CompanyInput {
    /// The 18-character unified social credit code on the business licence.
    #[schema(example = "91350100M000100Y43")]
    pub credit_code: String,
    #[validate(custom(function = not_blank), length(max = 200))]
    #[schema(pattern = r"\S", min_length = 1, max_length = 200)]
    #[schema(example = "珠海示例微电子有限公司")]
    pub name: String,
    #[validate(custom(function = not_blank), length(max = 50))]
    #[schema(pattern = r"\S", min_length = 1, max_length = 50)]
    pub legal_representative: String,
    #[schema(value_type = Industry)]
    pub industry: Choice<Industry>,
    #[validate(custom(function = not_blank), length(max = 50))]
    #[schema(pattern = r"\S", min_length = 1, max_length = 50)]
    #[schema(example = "唐家湾主园区")]
    pub park_zone: String,
    pub established_on: NaiveDate,
    #[validate(range(min = 0, max = MAX_FEN))]
    #[schema(minimum = 0, maximum = 1_000_000_000_000_000_i64)]
    pub registered_capital_fen: i64,
    #[validate(custom(function = not_blank), length(max = 200))]
    #[schema(pattern = r"\S", min_length = 1, max_length = 200)]
    pub address: String,
    #[schema(example = "0756-3612345")]
    pub contact_phone: String,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AccountInput {
    pub email: String,
    /// 10 to 128 characters, and not easy to guess.
    #[schema(value_type = String, format = Password)]
    pub password: SecretString,
    #[validate(custom(function = not_blank), length(max = 50))]
    #[schema(pattern = r"\S", min_length = 1, max_length = 50)]
    pub display_name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RegisterResponse {
    pub user: UserView,
    pub company: CompanyView,
}

impl From<RegisterRequest> for Registration {
    fn from(request: RegisterRequest) -> Self {
        let form_errors = form_errors(&request);
        let RegisterRequest { company: c, account: a } = request;
        Self {
            company: NewCompany {
                credit_code: c.credit_code,
                name: c.name,
                legal_representative: c.legal_representative,
                industry: c.industry,
                park_zone: c.park_zone,
                established_on: c.established_on,
                registered_capital_fen: c.registered_capital_fen,
                address: c.address,
                contact_phone: c.contact_phone,
            },
            account: NewAccount { email: a.email, password: a.password, display_name: a.display_name },
            form_errors,
        }
    }
}

/// Registers a company and its first account; a verification email follows.
#[utoipa::path(tag = "auth", request_body = RegisterRequest, responses(
    (status = 201, description = "registered; verify the email address before signing in", body = RegisterResponse),
    (status = 409, description = "`credit_code_taken` or `email_taken`", body = crate::error::Problem, content_type = "application/problem+json"),
    (status = 429, description = "`rate_limited`: too many registrations from this address", body = crate::error::Problem, content_type = "application/problem+json"),
))]
#[post("/auth/register")]
pub async fn register(
    db: web::Data<Db>,
    passwords: web::Data<Passwords>,
    portal: web::Data<PortalSettings>,
    ctx: RequestContext,
    client: ClientAddr,
    body: Json<RegisterRequest>,
) -> Result<(web::Json<RegisterResponse>, StatusCode), ApiError> {
    let registration = body.into_inner().into();
    let registered = registration::register(&db, &passwords, &portal, &ctx.id, client.0, registration).await?;
    let response = RegisterResponse { user: registered.user, company: registered.company };
    Ok((web::Json(response), StatusCode::CREATED))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    /// The token from the link in the email.
    pub token: String,
}

/// Confirms an email address with the token from the verification email.
#[utoipa::path(tag = "auth", request_body = TokenRequest, responses((status = 204, description = "verified")))]
#[post("/auth/verify-email")]
pub async fn verify_email(
    db: web::Data<Db>,
    ctx: RequestContext,
    body: Json<TokenRequest>,
) -> Result<HttpResponse, ApiError> {
    registration::verify_email(&db, &ctx.id, &body.into_inner().token).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EmailRequest {
    pub email: String,
}

/// Sends a new verification email; the answer is the same whether or not the address has an account.
#[utoipa::path(tag = "auth", request_body = EmailRequest, responses(
    (status = 202, description = "if the address has an unverified account, a new email is on its way"),
    (status = 429, description = "`rate_limited`", body = crate::error::Problem, content_type = "application/problem+json"),
))]
#[post("/auth/resend-verification")]
pub async fn resend_verification(
    db: web::Data<Db>,
    portal: web::Data<PortalSettings>,
    client: ClientAddr,
    body: Json<EmailRequest>,
) -> Result<HttpResponse, ApiError> {
    registration::resend_verification(&db, &portal, client.0, &body.into_inner().email).await?;
    Ok(HttpResponse::Accepted().finish())
}
