//! Signing in and out, and exchanging a refresh token for a new pair.

use actix_web::{HttpResponse, post, web};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::api::client::ClientAddr;
use crate::api::extract::Json;
use crate::api::middleware::RequestContext;
use crate::api::session::SignedIn;
use crate::app::sessions::{self, SecondStep, Session, SignIn};
use crate::app::users::UserView;
use crate::auth::password::Passwords;
use crate::auth::tokens::{Tokens, invalid_token};
use crate::db::Db;
use crate::error::ApiError;
use crate::i18n::Text;

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
    /// Exchange it at `/auth/refresh` for a new pair; it works once.
    pub refresh_token: String,
    pub user: UserView,
}

impl From<Session> for LoginResponse {
    fn from(session: Session) -> Self {
        Self {
            access_token: session.access_token,
            token_type: "Bearer",
            expires_in: session.expires_in,
            refresh_token: session.refresh_token,
            user: session.user,
        }
    }
}

/// The first step of a sign-in with a second factor: no tokens yet.
#[derive(Debug, Serialize, ToSchema)]
pub struct SecondFactorNeeded {
    #[schema(value_type = bool, example = true)]
    pub mfa_required: bool,
    /// Present it with a code at `/auth/login/mfa`.
    pub mfa_token: String,
    /// Seconds until `mfa_token` expires.
    pub expires_in: i64,
}

/// A session, or (for a user with a second factor) the token of the second step.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum LoginAnswer {
    Session(LoginResponse),
    SecondFactorNeeded(SecondFactorNeeded),
}

impl From<SignIn> for LoginAnswer {
    fn from(sign_in: SignIn) -> Self {
        match sign_in {
            SignIn::Session(session) => Self::Session(session.into()),
            SignIn::SecondFactorNeeded { mfa_token, expires_in } => {
                Self::SecondFactorNeeded(SecondFactorNeeded { mfa_required: true, mfa_token, expires_in })
            }
        }
    }
}

fn invalid_credentials() -> ApiError {
    ApiError::Unauthenticated {
        code: "invalid_credentials",
        detail: Text::new("邮箱或密码不正确。", "The email or password is not correct."),
    }
}

/// Signs in with email and password. Repeated failures, per account and per client address, are
/// refused with 429 for a while. A user with a second factor gets no tokens yet, but an `mfa_token` to
/// present with a code at `/auth/login/mfa`.
#[utoipa::path(tag = "auth", request_body = LoginRequest, responses(
    (status = 200, description = "signed in, or the second step to take", body = LoginAnswer),
    (status = 401, description = "`invalid_credentials`", body = crate::error::Problem, content_type = "application/problem+json"),
    (status = 403, description = "`email_not_verified`", body = crate::error::Problem, content_type = "application/problem+json"),
    (status = 429, description = "`rate_limited`: too many failed attempts; see `Retry-After`", body = crate::error::Problem, content_type = "application/problem+json"),
))]
#[post("/auth/login")]
pub async fn login(
    db: web::Data<Db>,
    passwords: web::Data<Passwords>,
    tokens: web::Data<Tokens>,
    ctx: RequestContext,
    client: ClientAddr,
    body: Json<LoginRequest>,
) -> Result<web::Json<LoginAnswer>, ApiError> {
    let LoginRequest { email, password } = body.into_inner();
    let sign_in = sessions::login(&db, &passwords, &tokens, &ctx.id, client.0, &email, password).await?;
    Ok(web::Json(sign_in.ok_or_else(invalid_credentials)?.into()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SecondStepRequest {
    pub mfa_token: String,
    /// The 6-digit code the authenticator app shows now, or an unused recovery code.
    #[schema(example = "492039")]
    pub code: String,
}

/// The second step of a sign-in: the `mfa_token` of the first and a current code (each accepted once) or
/// an unused recovery code. After 5 wrong codes the account waits (429).
#[utoipa::path(tag = "auth", request_body = SecondStepRequest, responses(
    (status = 200, description = "signed in", body = LoginResponse),
    (status = 401, description = "`invalid_mfa_code`; `unauthenticated` when the `mfa_token` is unknown, used or expired (sign in again)", body = crate::error::Problem, content_type = "application/problem+json"),
    (status = 429, description = "`rate_limited`: too many wrong codes; see `Retry-After`", body = crate::error::Problem, content_type = "application/problem+json"),
))]
#[post("/auth/login/mfa")]
pub async fn login_second_step(
    db: web::Data<Db>,
    tokens: web::Data<Tokens>,
    ctx: RequestContext,
    body: Json<SecondStepRequest>,
) -> Result<web::Json<LoginResponse>, ApiError> {
    let SecondStepRequest { mfa_token, code } = body.into_inner();
    match sessions::complete_second_factor(&db, &tokens, &ctx.id, &mfa_token, &code).await? {
        SecondStep::Session(session) => Ok(web::Json(session.into())),
        SecondStep::WrongCode => Err(ApiError::Unauthenticated {
            code: "invalid_mfa_code",
            detail: Text::new("验证码不正确或已使用过。", "The code is not right, or it was used already."),
        }),
        SecondStep::Expired => Err(ApiError::Unauthenticated {
            code: "unauthenticated",
            detail: Text::new(
                "登录已过期，请重新输入密码登录。",
                "This sign-in has expired; sign in with your password again.",
            ),
        }),
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    pub refresh_token: String,
}

/// Exchanges a refresh token for a new pair. Each refresh token works once: presenting a spent one ends
/// its whole session, since someone else must have it.
#[utoipa::path(tag = "auth", request_body = RefreshRequest, responses(
    (status = 200, description = "a new pair; the old refresh token is spent", body = LoginResponse),
    (status = 401, description = "`unauthenticated`: unknown, expired or spent refresh token", body = crate::error::Problem, content_type = "application/problem+json"),
))]
#[post("/auth/refresh")]
pub async fn refresh(
    db: web::Data<Db>,
    tokens: web::Data<Tokens>,
    ctx: RequestContext,
    body: Json<RefreshRequest>,
) -> Result<web::Json<LoginResponse>, ApiError> {
    let session = sessions::refresh(&db, &tokens, &ctx.id, &body.into_inner().refresh_token).await?;
    Ok(web::Json(session.ok_or_else(invalid_token)?.into()))
}

/// Signs out: the session ends, so its refresh token and the access token stop working at once.
#[utoipa::path(tag = "auth", security(("bearer" = [])), request_body = RefreshRequest,
    responses((status = 204, description = "signed out")))]
#[post("/auth/logout")]
pub async fn logout(user: SignedIn, db: web::Data<Db>, body: Json<RefreshRequest>) -> Result<HttpResponse, ApiError> {
    sessions::logout(&db, &user, &body.into_inner().refresh_token).await?;
    Ok(HttpResponse::NoContent().finish())
}
