//! Signing in.

use actix_web::{post, web};
use chrono::{Duration, Utc};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::api::extract::Json;
use crate::api::users::UserView;
use crate::auth::password::Passwords;
use crate::auth::secret;
use crate::auth::tokens::Tokens;
use crate::db::{Db, users};
use crate::domain::account::Email;
use crate::domain::role::UserStatus;
use crate::domain::time;
use crate::error::{ApiError, Problem};
use crate::i18n::Text;

const REFRESH_TOKEN_DAYS: i64 = 30;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    #[schema(example = "admin@park.example")]
    pub email: String,
    #[schema(value_type = String, format = Password)]
    pub password: SecretString,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LoginResponse {
    pub access_token: String,
    #[schema(example = "Bearer")]
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: i64,
    pub refresh_token: String,
    pub user: UserView,
}

fn invalid_credentials() -> ApiError {
    ApiError::Unauthenticated {
        code: "invalid_credentials",
        detail: Text::new("邮箱或密码不正确。", "The email or password is not correct."),
    }
}

/// Signs in with email and password.
#[utoipa::path(tag = "auth", request_body = LoginRequest, responses(
    (status = 200, description = "signed in", body = LoginResponse),
    (status = 400, description = "`malformed_request`: the body is not JSON", body = Problem, content_type = "application/problem+json"),
    (status = 401, description = "`invalid_credentials`", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "`email_not_verified`", body = Problem, content_type = "application/problem+json"),
    (status = 415, description = "`unsupported_media_type`: the body is not declared as JSON", body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "`validation_failed`, per field", body = Problem, content_type = "application/problem+json"),
))]
#[post("/auth/login")]
pub async fn login(
    db: web::Data<Db>,
    passwords: web::Data<Passwords>,
    tokens: web::Data<Tokens>,
    body: Json<LoginRequest>,
) -> Result<web::Json<LoginResponse>, ApiError> {
    let LoginRequest { email, password } = body.into_inner();
    let email = Email::parse("email", &email).map_err(|e| ApiError::validation(vec![e]))?;
    let found = db.read(move |conn| users::find_by_email(conn, email.as_str())).await?;
    let verified = passwords.verify(password.clone(), found.as_ref().and_then(|u| u.password_hash.clone())).await?;
    let user = match found {
        Some(user) if verified.matches && user.status()? == UserStatus::Active => user,
        _ => return Err(invalid_credentials()),
    };
    if user.email_verified_at.is_none() {
        return Err(ApiError::Forbidden {
            code: "email_not_verified",
            detail: Text::new(
                "请先点击验证邮件中的链接完成邮箱验证。",
                "Verify your email address first, using the link we sent.",
            ),
        });
    }
    let rehash = if verified.outdated { Some(passwords.hash(password).await?) } else { None };

    let refresh_token = secret::generate();
    let refresh_hash = secret::digest(&refresh_token);
    let now = time::now();
    let user_id = user.id;
    let session_id = db
        .write(move |conn| {
            if let Some(hash) = rehash {
                users::set_password_hash(conn, user_id, &hash, now)?;
            }
            users::start_session(conn, user_id, &refresh_hash, now, now + Duration::days(REFRESH_TOKEN_DAYS))
        })
        .await?;
    let access_token = tokens.issue(user.id, user.role()?, session_id, Utc::now().timestamp())?;
    Ok(web::Json(LoginResponse {
        access_token,
        token_type: "Bearer",
        expires_in: tokens.ttl_secs,
        refresh_token,
        user: user.try_into()?,
    }))
}
