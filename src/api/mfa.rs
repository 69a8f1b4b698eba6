//! A second factor for sign-in (TOTP): the caller's own, and an admin's reset of someone else's.

use actix_web::{HttpResponse, delete, post, web};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::api::extract::Json;
use crate::api::session::SignedIn;
use crate::app::mfa::{self, Policy};
use crate::auth::password::Passwords;
use crate::db::Db;
use crate::error::ApiError;

#[derive(Debug, Serialize, ToSchema)]
pub struct EnrolmentView {
    /// The shared secret in base32 (SHA-1, 6 digits, 30 s), for typing into an app by hand.
    #[schema(example = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")]
    pub secret: String,
    /// The same as a URI, for an app to read from a QR code.
    #[schema(
        example = "otpauth://totp/portal:admin%40park.example?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=portal&algorithm=SHA1&digits=6&period=30"
    )]
    pub otpauth_uri: String,
}

/// Starts setting up a TOTP second factor (or starts again, replacing a pending secret). It is not on
/// until confirmed with a code.
#[utoipa::path(tag = "users", security(("bearer" = [])), responses(
    (status = 200, description = "the secret for the authenticator app", body = EnrolmentView),
    (status = 409, description = "`mfa_already_enabled`: turn it off first", body = crate::error::Problem, content_type = "application/problem+json"),
))]
#[post("/me/mfa/totp")]
pub async fn start_totp(
    user: SignedIn,
    db: web::Data<Db>,
    policy: web::Data<Policy>,
) -> Result<web::Json<EnrolmentView>, ApiError> {
    let enrolment = mfa::start_enrolment(&db, policy.issuer(), &user).await?;
    Ok(web::Json(EnrolmentView { secret: enrolment.secret, otpauth_uri: enrolment.otpauth_uri }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CodeRequest {
    /// The 6-digit code the authenticator app shows now.
    #[schema(example = "492039")]
    pub code: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RecoveryCodes {
    /// Ten single-use codes for when the phone is lost; shown this once.
    pub recovery_codes: Vec<String>,
}

/// Turns the pending TOTP factor on with a code from the app; answers ten single-use recovery codes.
#[utoipa::path(tag = "users", security(("bearer" = [])), request_body = CodeRequest, responses(
    (status = 200, description = "on from now", body = RecoveryCodes),
    (status = 409, description = "`conflict`: no set-up was started", body = crate::error::Problem, content_type = "application/problem+json"),
    (status = 422, description = "`invalid_mfa_code`", body = crate::error::Problem, content_type = "application/problem+json"),
    (status = 429, description = "`rate_limited`: too many wrong codes; see `Retry-After`", body = crate::error::Problem, content_type = "application/problem+json"),
))]
#[post("/me/mfa/totp/confirm")]
pub async fn confirm_totp(
    user: SignedIn,
    db: web::Data<Db>,
    body: Json<CodeRequest>,
) -> Result<web::Json<RecoveryCodes>, ApiError> {
    let recovery_codes = mfa::confirm(&db, &user, &body.into_inner().code).await?;
    Ok(web::Json(RecoveryCodes { recovery_codes }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DisableRequest {
    #[schema(value_type = String, format = Password)]
    pub password: SecretString,
    /// A current code from the app, or an unused recovery code.
    pub code: String,
}

/// Turns the second factor off, with the password and a code.
#[utoipa::path(tag = "users", security(("bearer" = [])), request_body = DisableRequest, responses(
    (status = 204, description = "off"),
    (status = 409, description = "`mfa_required_for_role`: the caller's role must keep it; `conflict`: it is not on", body = crate::error::Problem, content_type = "application/problem+json"),
    (status = 422, description = "`invalid_mfa_code`; `validation_failed` for a wrong password", body = crate::error::Problem, content_type = "application/problem+json"),
    (status = 429, description = "`rate_limited`: too many wrong passwords or codes; see `Retry-After`", body = crate::error::Problem, content_type = "application/problem+json"),
))]
#[delete("/me/mfa/totp")]
pub async fn disable_totp(
    user: SignedIn,
    db: web::Data<Db>,
    passwords: web::Data<Passwords>,
    policy: web::Data<Policy>,
    body: Json<DisableRequest>,
) -> Result<HttpResponse, ApiError> {
    let DisableRequest { password, code } = body.into_inner();
    mfa::disable(&db, &passwords, &policy, &user, password, &code).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Clears a user's second factor (a lost phone) and ends all their sessions.
#[utoipa::path(tag = "users", security(("bearer" = [])), params(("id" = i64, Path, description = "user id")),
    responses((status = 204, description = "cleared; the user signs in again with the password")))]
#[post("/users/{id}/mfa/reset")]
pub async fn reset_mfa(user: SignedIn, db: web::Data<Db>, id: web::Path<i64>) -> Result<HttpResponse, ApiError> {
    mfa::reset(&db, &user, id.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}
