//! Registering a company, proving an email address, signing in and out, and recovering a password.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, post, web};
use chrono::{Duration, NaiveDate, Utc};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use validator::Validate;

use crate::api::client::ClientAddr;
use crate::api::companies::CompanyView;
use crate::api::extract::Json;
use crate::api::middleware::RequestContext;
use crate::api::session::SignedIn;
use crate::api::users::UserView;
use crate::auth::password::Passwords;
use crate::auth::secret;
use crate::auth::tokens::{Tokens, invalid_token};
use crate::config::PortalSettings;
use crate::db::audit::{self, Event};
use crate::db::tokens::{self, Purpose};
use crate::db::users::{self, Refresh, UserRow};
use crate::db::{Db, DbConnection, companies, outbox, throttle};
use crate::domain::account::{Email, check_password};
use crate::domain::audit::Actor;
use crate::domain::company::{Industry, check_established_on, check_phone};
use crate::domain::credit_code::CreditCode;
use crate::domain::limits;
use crate::domain::role::{Role, UserStatus};
use crate::domain::time;
use crate::domain::validation::{field_errors, not_blank};
use crate::email::templates;
use crate::error::{ApiError, FieldError};
use crate::i18n::Text;

const REFRESH_TOKEN_DAYS: i64 = 30;

fn anonymous(ctx: &RequestContext) -> Actor {
    Actor { user_id: None, role: None, request_id: Some(ctx.id.clone()) }
}

fn actor_for(user: &UserRow, ctx: &RequestContext) -> Actor {
    Actor { user_id: Some(user.id), role: user.role().ok(), request_id: Some(ctx.id.clone()) }
}

fn link(portal: &PortalSettings, page: &str, token: &str) -> String {
    format!("{}/{page}?token={token}", portal.frontend_base_url.trim_end_matches('/'))
}

fn invalid_link() -> ApiError {
    ApiError::field(
        "token",
        "invalid_token",
        Text::new(
            "链接无效、已使用或已过期，请重新申请。",
            "This link is invalid, already used or expired; request a new one.",
        ),
    )
}

// ---------------------------------------------------------------------------------------------------
// Registration

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
    #[schema(example = "珠海示例微电子有限公司")]
    pub name: String,
    #[validate(custom(function = not_blank), length(max = 50))]
    pub legal_representative: String,
    pub industry: Industry,
    #[validate(custom(function = not_blank), length(max = 50))]
    #[schema(example = "唐家湾主园区")]
    pub park_zone: String,
    pub established_on: NaiveDate,
    #[validate(range(min = 0))]
    pub registered_capital_fen: i64,
    #[validate(custom(function = not_blank), length(max = 200))]
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
    pub display_name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RegisterResponse {
    pub user: UserView,
    pub company: CompanyView,
}

/// Every problem with a registration at once, so the company can fix them in one go.
fn check_registration(request: &RegisterRequest, today: NaiveDate) -> Result<(CreditCode, Email), ApiError> {
    let mut errors = request.validate().err().map(|e| field_errors(&e)).unwrap_or_default();
    let company = &request.company;
    let credit_code = CreditCode::parse(&company.credit_code)
        .map_err(|e| errors.push(FieldError::new("company.credit_code", e.code(), e.message())))
        .ok();
    errors.extend(check_established_on("company.established_on", company.established_on, today).err());
    errors.extend(check_phone("company.contact_phone", &company.contact_phone).err());
    let email = Email::parse("account.email", &request.account.email).map_err(|e| errors.push(e)).ok();
    let own_words = [request.account.email.as_str(), company.name.as_str(), request.account.display_name.as_str()];
    errors.extend(check_password("account.password", request.account.password.expose_secret(), &own_words).err());
    errors.sort_by(|a, b| a.field.cmp(&b.field));
    errors.dedup_by(|a, b| a.field == b.field && a.code == b.code);
    match (credit_code, email) {
        (Some(code), Some(email)) if errors.is_empty() => Ok((code, email)),
        _ => Err(ApiError::validation(errors)),
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
    let request = body.into_inner();
    let (credit_code, email) = check_registration(&request, time::today(portal.utc_offset))?;
    let hash = passwords.hash(request.account.password.clone()).await?;
    let (company, account) = (request.company, request.account);
    let request_id = ctx.id.clone();
    let (user, company) = db
        .write(move |conn| {
            let now = time::now();
            crate::app::throttle::consume(
                conn,
                &format!("register:addr:{}", client.0),
                limits::REGISTRATIONS_PER_ADDRESS,
                now,
            )?;
            if companies::credit_code_taken(conn, credit_code.as_str())? {
                return Err(ApiError::conflict(
                    "credit_code_taken",
                    Text::new(
                        "该统一社会信用代码已注册。如为贵公司注册，请用已注册的账号登录，或联系园区工作人员。",
                        "This credit code is already registered. Sign in with that account, or contact the park staff.",
                    ),
                ));
            }
            if users::email_taken(conn, email.as_str())? {
                return Err(ApiError::conflict(
                    "email_taken",
                    Text::new(
                        "该邮箱已注册账号，请直接登录或找回密码。",
                        "This email already has an account; sign in or reset the password.",
                    ),
                ));
            }
            let company = companies::insert(
                conn,
                &companies::NewCompany {
                    credit_code: credit_code.as_str(),
                    name: company.name.trim(),
                    legal_representative: company.legal_representative.trim(),
                    industry: company.industry.as_str(),
                    park_zone: company.park_zone.trim(),
                    established_on: company.established_on,
                    registered_capital_fen: company.registered_capital_fen,
                    address: company.address.trim(),
                    contact_phone: company.contact_phone.trim(),
                    created_at: now,
                    updated_at: now,
                },
            )?;
            let user = users::insert(
                conn,
                &users::NewUser {
                    email: email.as_str(),
                    password_hash: Some(&hash),
                    display_name: account.display_name.trim(),
                    role: Role::Applicant.as_str(),
                    status: UserStatus::Active.as_str(),
                    email_verified_at: None,
                    company_id: Some(company.id),
                    created_at: now,
                    updated_at: now,
                },
            )?;
            let token = tokens::issue(conn, user.id, Purpose::VerifyEmail, now)?;
            let message =
                templates::verify_email(&user.email, &user.display_name, &link(&portal, "verify-email", &token));
            outbox::enqueue(conn, &message, now)?;
            let actor = Actor { user_id: Some(user.id), role: Some(Role::Applicant), request_id: Some(request_id) };
            let summary = json!({ "credit_code": company.credit_code, "name": company.name, "user_id": user.id });
            audit::append(conn, &actor, Event::new("company.register", "company", company.id, summary))?;
            Ok((user, company))
        })
        .await?;
    let response =
        RegisterResponse { user: user.try_into()?, company: CompanyView::new(company, None, Role::Applicant)? };
    Ok((web::Json(response), StatusCode::CREATED))
}

// ---------------------------------------------------------------------------------------------------
// Email verification

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
    let token = body.into_inner().token;
    let request_id = ctx.id.clone();
    db.write(move |conn| {
        let now = time::now();
        let (user_id, _) = tokens::spend(conn, token.trim(), &[Purpose::VerifyEmail], now)?.ok_or_else(invalid_link)?;
        users::mark_email_verified(conn, user_id, now)?;
        let actor = Actor { user_id: Some(user_id), role: None, request_id: Some(request_id) };
        audit::append(conn, &actor, Event::new("user.verify_email", "user", user_id, json!({})))?;
        Ok::<_, ApiError>(())
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EmailRequest {
    pub email: String,
}

/// Counts one email-sending request for an address and a client; 429 when either is over its limit.
fn consume_email_limits(
    conn: &mut DbConnection,
    purpose: &str,
    email: &str,
    client: ClientAddr,
) -> Result<(), ApiError> {
    let now = time::now();
    crate::app::throttle::consume(conn, &format!("{purpose}:account:{email}"), limits::EMAILS_PER_ACCOUNT, now)?;
    crate::app::throttle::consume(conn, &format!("{purpose}:addr:{}", client.0), limits::EMAILS_PER_ADDRESS, now)?;
    Ok(())
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
    let email = Email::parse("email", &body.into_inner().email).map_err(|e| ApiError::validation(vec![e]))?;
    db.write(move |conn| {
        consume_email_limits(conn, "resend", email.as_str(), client)?;
        let user = users::find_by_email(conn, email.as_str())?;
        if let Some(user) = user.filter(|u| u.email_verified_at.is_none() && u.status == UserStatus::Active.as_str()) {
            let now = time::now();
            let token = tokens::issue(conn, user.id, Purpose::VerifyEmail, now)?;
            let message =
                templates::verify_email(&user.email, &user.display_name, &link(&portal, "verify-email", &token));
            outbox::enqueue(conn, &message, now)?;
        }
        Ok::<_, ApiError>(())
    })
    .await?;
    Ok(HttpResponse::Accepted().finish())
}

// ---------------------------------------------------------------------------------------------------
// Signing in and out

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

fn invalid_credentials() -> ApiError {
    ApiError::Unauthenticated {
        code: "invalid_credentials",
        detail: Text::new("邮箱或密码不正确。", "The email or password is not correct."),
    }
}

fn token_pair(
    tokens: &Tokens,
    user: UserRow,
    session_id: i64,
    refresh_token: String,
) -> Result<LoginResponse, ApiError> {
    Ok(LoginResponse {
        access_token: tokens.issue(user.id, user.role()?, session_id, Utc::now().timestamp())?,
        token_type: "Bearer",
        expires_in: tokens.ttl_secs,
        refresh_token,
        user: user.try_into()?,
    })
}

fn login_keys(email: &Email, client: ClientAddr) -> (String, String) {
    (format!("login:account:{}", email.as_str()), format!("login:addr:{}", client.0))
}

/// Signs in with email and password. Repeated failures, per account and per client address, are
/// refused with 429 for a while.
#[utoipa::path(tag = "auth", request_body = LoginRequest, responses(
    (status = 200, description = "signed in", body = LoginResponse),
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
) -> Result<web::Json<LoginResponse>, ApiError> {
    let LoginRequest { email, password } = body.into_inner();
    let email = Email::parse("email", &email).map_err(|e| ApiError::validation(vec![e]))?;
    let (account_key, address_key) = login_keys(&email, client);
    let lookup = email.clone();
    let found = db
        .read(move |conn| {
            let now = time::now();
            let blocked = throttle::blocked_for(conn, &account_key, limits::LOGIN_FAILURES_PER_ACCOUNT, now)?
                .max(throttle::blocked_for(conn, &address_key, limits::LOGIN_FAILURES_PER_ADDRESS, now)?);
            if let Some(retry_after_secs) = blocked {
                return Err(ApiError::RateLimited { retry_after_secs });
            }
            Ok(users::find_by_email(conn, lookup.as_str())?)
        })
        .await?;
    let verified = passwords.verify(password.clone(), found.as_ref().and_then(|u| u.password_hash.clone())).await?;
    let user = match found {
        Some(user) if verified.matches && user.status == UserStatus::Active.as_str() => user,
        found => {
            let actor = anonymous(&ctx);
            db.write(move |conn| {
                let now = time::now();
                let (account_key, address_key) = login_keys(&email, client);
                throttle::hit(conn, &account_key, limits::LOGIN_FAILURES_PER_ACCOUNT, now)?;
                throttle::hit(conn, &address_key, limits::LOGIN_FAILURES_PER_ADDRESS, now)?;
                let event = Event {
                    action: "auth.login_failed",
                    object_type: "user",
                    object_id: found.map(|u| u.id),
                    summary: json!({ "email": email.as_str(), "client": client.0.to_string() }),
                };
                audit::append(conn, &actor, event)
            })
            .await?;
            return Err(invalid_credentials());
        }
    };
    if user.email_verified_at.is_none() {
        return Err(ApiError::Forbidden {
            code: "email_not_verified",
            detail: Text::new(
                "请先点击验证邮件中的链接完成邮箱验证；如未收到，可重新发送。",
                "Verify your email address first, using the link we sent; you can ask for a new one.",
            ),
        });
    }
    let rehash = if verified.outdated { Some(passwords.hash(password).await?) } else { None };
    let refresh_token = secret::generate();
    let refresh_hash = secret::digest(&refresh_token);
    let actor = actor_for(&user, &ctx);
    let (account_key, _) = login_keys(&email, client);
    let (user, session_id) = db
        .write(move |conn| {
            let now = time::now();
            if let Some(hash) = rehash {
                users::set_password_hash(conn, user.id, &hash, now)?;
            }
            throttle::clear(conn, &account_key)?;
            let expires = now + Duration::days(REFRESH_TOKEN_DAYS);
            let session_id = users::start_session(conn, user.id, &refresh_hash, now, expires)?;
            audit::append(
                conn,
                &actor,
                Event::new("auth.login", "user", user.id, json!({ "session_id": session_id })),
            )?;
            Ok::<_, ApiError>((user, session_id))
        })
        .await?;
    Ok(web::Json(token_pair(&tokens, user, session_id, refresh_token)?))
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
    let presented = secret::digest(body.into_inner().refresh_token.trim());
    let refresh_token = secret::generate();
    let new_hash = secret::digest(&refresh_token);
    let request_id = ctx.id.clone();
    let outcome = db
        .write(move |conn| {
            let outcome = users::rotate_refresh_token(conn, &presented, &new_hash, time::now())?;
            if let Refresh::Reused { session_id, user_id } = &outcome {
                let actor = Actor { user_id: Some(*user_id), role: None, request_id: Some(request_id) };
                let summary = json!({ "session_id": session_id });
                audit::append(conn, &actor, Event::new("auth.refresh_token_reused", "user", *user_id, summary))?;
            }
            Ok::<_, ApiError>(outcome)
        })
        .await?;
    match outcome {
        Refresh::Rotated { session_id, user } => Ok(web::Json(token_pair(&tokens, user, session_id, refresh_token)?)),
        Refresh::Reused { .. } | Refresh::Invalid => Err(invalid_token()),
    }
}

/// Signs out: the session ends, so its refresh token and the access token stop working at once.
#[utoipa::path(tag = "auth", security(("bearer" = [])), request_body = RefreshRequest,
    responses((status = 204, description = "signed out")))]
#[post("/auth/logout")]
pub async fn logout(user: SignedIn, db: web::Data<Db>, body: Json<RefreshRequest>) -> Result<HttpResponse, ApiError> {
    let presented = secret::digest(body.into_inner().refresh_token.trim());
    let actor = user.actor();
    db.write(move |conn| {
        let now = time::now();
        users::end_session(conn, user.session_id, now)?;
        // The refresh token may belong to another of the caller's sessions (another device): end that too.
        if let Some(other) = users::session_of_refresh_token(conn, &presented)?.filter(|s| s.user_id == user.user_id) {
            users::end_session(conn, other.id, now)?;
        }
        audit::append(
            conn,
            &actor,
            Event::new("auth.logout", "user", user.user_id, json!({ "session_id": user.session_id })),
        )
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

// ---------------------------------------------------------------------------------------------------
// Passwords

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
    let email = Email::parse("email", &body.into_inner().email).map_err(|e| ApiError::validation(vec![e]))?;
    let request_id = ctx.id.clone();
    db.write(move |conn| {
        consume_email_limits(conn, "reset", email.as_str(), client)?;
        let user = users::find_by_email(conn, email.as_str())?;
        if let Some(user) = user.filter(|u| u.status == UserStatus::Active.as_str()) {
            let now = time::now();
            let token = tokens::issue(conn, user.id, Purpose::PasswordReset, now)?;
            let message =
                templates::password_reset(&user.email, &user.display_name, &link(&portal, "reset-password", &token));
            outbox::enqueue(conn, &message, now)?;
            let actor = Actor { user_id: None, role: None, request_id: Some(request_id) };
            audit::append(conn, &actor, Event::new("auth.password_reset_requested", "user", user.id, json!({})))?;
        }
        Ok::<_, ApiError>(())
    })
    .await?;
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
    check_password("new_password", new_password.expose_secret(), &[]).map_err(|e| ApiError::validation(vec![e]))?;
    let hash = passwords.hash(new_password.clone()).await?;
    let request_id = ctx.id.clone();
    db.write(move |conn| {
        let now = time::now();
        let (user_id, purpose) =
            tokens::spend(conn, token.trim(), &[Purpose::PasswordReset, Purpose::Invitation], now)?
                .ok_or_else(invalid_link)?;
        let user = users::find(conn, user_id)?;
        check_password("new_password", new_password.expose_secret(), &[&user.email, &user.display_name])
            .map_err(|e| ApiError::validation(vec![e]))?;
        users::set_password_hash(conn, user_id, &hash, now)?;
        if purpose == Purpose::Invitation {
            users::mark_email_verified(conn, user_id, now)?;
        }
        users::end_sessions(conn, user_id, None, now)?;
        let actor = Actor { user_id: Some(user_id), role: user.role().ok(), request_id: Some(request_id) };
        let action = if purpose == Purpose::Invitation { "user.invitation_accept" } else { "user.password_reset" };
        audit::append(conn, &actor, Event::new(action, "user", user_id, json!({})))?;
        Ok::<_, ApiError>(())
    })
    .await?;
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
    responses((status = 204, description = "changed")))]
#[post("/me/password")]
pub async fn change_password(
    user: SignedIn,
    db: web::Data<Db>,
    passwords: web::Data<Passwords>,
    body: Json<PasswordChangeRequest>,
) -> Result<HttpResponse, ApiError> {
    let PasswordChangeRequest { current_password, new_password } = body.into_inner();
    let user_id = user.user_id;
    let row = db.read(move |conn| users::find(conn, user_id)).await?;
    if !passwords.verify(current_password, row.password_hash.clone()).await?.matches {
        return Err(ApiError::field(
            "current_password",
            "incorrect",
            Text::new("当前密码不正确。", "The current password is not correct."),
        ));
    }
    check_password("new_password", new_password.expose_secret(), &[&row.email, &row.display_name])
        .map_err(|e| ApiError::validation(vec![e]))?;
    let hash = passwords.hash(new_password).await?;
    let actor = user.actor();
    db.write(move |conn| {
        let now = time::now();
        users::set_password_hash(conn, user_id, &hash, now)?;
        users::end_sessions(conn, user_id, Some(user.session_id), now)?;
        audit::append(conn, &actor, Event::new("user.password_change", "user", user_id, json!({})))
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
