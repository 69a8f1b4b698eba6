//! Recovering a forgotten password, choosing the first one of an invited account, and changing one's own.

use actix_web::{HttpResponse, post, web};
use secrecy::SecretString;
use serde::Deserialize;
use utoipa::ToSchema;

use crate::api::client::ClientAddr;
use crate::api::extract::Json;
use crate::api::middleware::RequestContext;
use crate::api::session::SignedIn;
use crate::app::passwords;
use crate::auth::password::Passwords;
use crate::config::PortalSettings;
use crate::db::Db;
use crate::error::ApiError;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EmailRequest {
    pub email: String,
}

/// Emails a single-use link to choose a new password; the answer is the same whether or not the address
/// has an account.
#[utoipa::path(tag = "auth", request_body = EmailRequest, responses(
    (status = 202, description = "if the address has an account, an email is on its way"),
    (status = 429, description = "`rate_limited`", body = crate::error::Problem, content_type = "application/problem+json"),
))]
#[post("/auth/password-reset")]
pub async fn password_reset(
    db: web::Data<Db>,
    portal: web::Data<PortalSettings>,
    ctx: RequestContext,
    client: ClientAddr,
    body: Json<EmailRequest>,
) -> Result<HttpResponse, ApiError> {
    passwords::request_reset(&db, &portal, &ctx.id, client.0, &body.into_inner().email).await?;
    Ok(HttpResponse::Accepted().finish())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetConfirmRequest {
    pub token: String,
    #[schema(value_type = String, format = Password)]
    pub new_password: SecretString,
}

/// Sets a new password with a reset token, or the first password of an invited staff account. Every
/// session of the account ends.
#[utoipa::path(tag = "auth", request_body = ResetConfirmRequest, responses((status = 204, description = "the password is set")))]
#[post("/auth/password-reset/confirm")]
pub async fn password_reset_confirm(
    db: web::Data<Db>,
    passwords: web::Data<Passwords>,
    ctx: RequestContext,
    body: Json<ResetConfirmRequest>,
) -> Result<HttpResponse, ApiError> {
    let ResetConfirmRequest { token, new_password } = body.into_inner();
    passwords::confirm_reset(&db, &passwords, &ctx.id, &token, new_password).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChangeRequest {
    #[schema(value_type = String, format = Password)]
    pub current_password: SecretString,
    #[schema(value_type = String, format = Password)]
    pub new_password: SecretString,
}

/// Changes the caller's password; every other session of the account ends.
#[utoipa::path(tag = "users", security(("bearer" = [])), request_body = PasswordChangeRequest,
    responses(
        (status = 204, description = "changed"),
        (status = 429, description = "`rate_limited`: too many wrong current passwords; see `Retry-After`", body = crate::error::Problem, content_type = "application/problem+json"),
    ))]
#[post("/me/password")]
pub async fn change_password(
    user: SignedIn,
    db: web::Data<Db>,
    passwords: web::Data<Passwords>,
    body: Json<PasswordChangeRequest>,
) -> Result<HttpResponse, ApiError> {
    let PasswordChangeRequest { current_password, new_password } = body.into_inner();
    passwords::change(&db, &passwords, &user, current_password, new_password).await?;
    Ok(HttpResponse::NoContent().finish())
}
