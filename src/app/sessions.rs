//! Signing in and out: a session per sign-in, a short-lived access token, and a refresh token that works
//! once.

use std::net::IpAddr;
use std::sync::Arc;

use chrono::{Duration, Utc};
use secrecy::SecretString;
use serde_json::json;

use crate::app::caller::anonymous;
use crate::app::mfa as second_factor;
use crate::app::users::UserView;
use crate::app::{Result, SignedIn};
use crate::auth::password::Passwords;
use crate::auth::secret;
use crate::auth::tokens::Tokens;
use crate::db::audit::{self, Event};
use crate::db::users::{self, Refresh, UserRow};
use crate::db::{Db, mfa, throttle};
use crate::domain::account::Email;
use crate::domain::audit::Actor;
use crate::domain::error::Error as Refusal;
use crate::domain::limits;
use crate::domain::role::UserStatus;
use crate::domain::time;
use crate::i18n::Text;

const REFRESH_TOKEN_DAYS: i64 = 30;
/// How long the second step of a sign-in may take.
const MFA_TOKEN_SECS: i64 = 300;

/// A session's tokens and its user.
#[derive(Debug)]
pub struct Session {
    pub session_id: i64,
    pub access_token: String,
    /// Seconds until the access token expires.
    pub expires_in: i64,
    pub refresh_token: String,
    pub user: UserView,
}

fn session(tokens: &Tokens, user: UserRow, session_id: i64, refresh_token: String) -> Result<Session> {
    Ok(Session {
        session_id,
        access_token: tokens.issue(user.id, user.role()?, session_id, Utc::now().timestamp())?,
        expires_in: tokens.ttl_secs,
        refresh_token,
        user: user.try_into()?,
    })
}

/// What a right password leads to: a session, or (for a user with a second factor) the second step.
#[derive(Debug)]
pub enum SignIn {
    Session(Session),
    /// Present a code with `mfa_token` to [`complete_second_factor`] within `expires_in` seconds.
    SecondFactorNeeded {
        mfa_token: String,
        expires_in: i64,
    },
}

/// What the second step of a sign-in led to.
#[derive(Debug)]
pub enum SecondStep {
    Session(Session),
    /// The code is not a current TOTP code not used before, nor an unused recovery code.
    WrongCode,
    /// The `mfa_token` is unknown, used or expired: sign in again.
    Expired,
}

/// The limits a sign-in counts against: one account from one address, and one address over all accounts
/// (both refuse once used up); and one account from everywhere (which only slows guessing down).
struct LoginKeys {
    account_and_address: String,
    address: String,
    account: String,
}

impl LoginKeys {
    fn new(email: &Email, client: IpAddr) -> Self {
        let (email, client) = (email.as_str(), limits::client_key(client));
        Self {
            account_and_address: format!("login:account:{email}:addr:{client}"),
            address: format!("login:addr:{client}"),
            account: format!("login:account:{email}"),
        }
    }
}

/// Signs in with email and password from the client at `client`: the new session (or, for a user with a
/// second factor, the token of the second step), or `None` when the email and password do not match an
/// active account. Each attempt takes one of its address's tries
/// before the password is checked, and gives it back when the password is right; an account guessed at
/// from many addresses is slowed down, never locked.
pub async fn login(
    db: &Db,
    passwords: &Passwords,
    tokens: &Tokens,
    request_id: &str,
    client: IpAddr,
    email: &str,
    password: SecretString,
) -> Result<Option<SignIn>> {
    let email = Email::parse("email", email).map_err(|e| Refusal::invalid(vec![e]))?;
    let keys = Arc::new(LoginKeys::new(&email, client));
    let (attempt, lookup) = (keys.clone(), email.clone());
    let (found, slowed) = db
        .write(move |conn| {
            let now = time::now();
            let mut limit = |key: &str, limit| throttle::consume(conn, key, limit, now);
            let blocked = limit(&attempt.account_and_address, limits::LOGIN_FAILURES_PER_ACCOUNT_AND_ADDRESS)?
                .or(limit(&attempt.address, limits::LOGIN_FAILURES_PER_ADDRESS)?);
            if let Some(retry_after_secs) = blocked {
                return Err(Refusal::RateLimited { retry_after_secs }.into());
            }
            let slowed = throttle::blocked_for(conn, &attempt.account, limits::LOGIN_FAILURES_BEFORE_SLOWDOWN, now)?;
            Ok::<_, crate::app::Error>((users::find_by_email(conn, lookup.as_str())?, slowed.is_some()))
        })
        .await?;
    if slowed {
        tokio::time::sleep(limits::LOGIN_SLOWDOWN).await;
    }
    let verified = passwords.verify(password.clone(), found.as_ref().and_then(|u| u.password_hash.clone())).await?;
    let user = match found {
        Some(user) if verified.matches && user.status == UserStatus::Active.as_str() => user,
        found => {
            let (actor, failed) = (anonymous(request_id), keys.clone());
            db.write(move |conn| {
                throttle::hit(conn, &failed.account, limits::LOGIN_FAILURES_BEFORE_SLOWDOWN, time::now())?;
                let event = Event {
                    action: "auth.login_failed",
                    object_type: "user",
                    object_id: found.map(|u| u.id),
                    summary: json!({ "email": email.as_str(), "client": client.to_string() }),
                };
                audit::append(conn, &actor, event)
            })
            .await?;
            return Ok(None);
        }
    };
    if user.email_verified_at.is_none() {
        return Err(Refusal::Forbidden {
            code: "email_not_verified",
            detail: Text::new(
                "请先点击验证邮件中的链接完成邮箱验证；如未收到，可重新发送。",
                "Verify your email address first, using the link we sent; you can ask for a new one.",
            ),
        }
        .into());
    }
    let rehash = if verified.outdated { Some(passwords.hash(password).await?) } else { None };
    let refresh_token = secret::generate();
    let refresh_hash = secret::digest(&refresh_token);
    let actor = Actor { user_id: Some(user.id), role: user.role().ok(), request_id: Some(request_id.to_owned()) };
    let second_factor = user.mfa_enabled;
    let (user, started) = db
        .write(move |conn| {
            let now = time::now();
            if let Some(hash) = rehash {
                users::set_password_hash(conn, user.id, &hash, now)?;
            }
            throttle::clear(conn, &keys.account_and_address)?;
            throttle::give_back(conn, &keys.address)?;
            if second_factor {
                let token = mfa::issue_challenge(conn, user.id, now, Duration::seconds(MFA_TOKEN_SECS))?;
                let summary = json!({ "client": client.to_string() });
                audit::append(conn, &actor, Event::new("auth.login_second_step", "user", user.id, summary))?;
                return Ok::<_, crate::app::Error>((user, Started::SecondStep(token)));
            }
            let expires = now + Duration::days(REFRESH_TOKEN_DAYS);
            let session_id = users::start_session(conn, user.id, &refresh_hash, now, expires)?;
            let summary = json!({ "session_id": session_id });
            audit::append(conn, &actor, Event::new("auth.login", "user", user.id, summary))?;
            Ok((user, Started::Session(session_id)))
        })
        .await?;
    match started {
        Started::Session(session_id) => Ok(Some(SignIn::Session(session(tokens, user, session_id, refresh_token)?))),
        Started::SecondStep(mfa_token) => {
            Ok(Some(SignIn::SecondFactorNeeded { mfa_token, expires_in: MFA_TOKEN_SECS }))
        }
    }
}

/// What a sign-in's transaction started: a session, or the second step with its token.
enum Started {
    Session(i64),
    SecondStep(String),
}

/// The second step of a sign-in: `mfa_token` from [`login`] and a code from the user's authenticator app
/// (or one of their recovery codes). Each code is accepted once; each wrong one takes one of the account's
/// few tries, after which it waits (429).
pub async fn complete_second_factor(
    db: &Db,
    tokens: &Tokens,
    request_id: &str,
    mfa_token: &str,
    code: &str,
) -> Result<SecondStep> {
    let (mfa_token, code, keys) = (mfa_token.trim().to_owned(), code.to_owned(), db.keys());
    let refresh_token = secret::generate();
    let refresh_hash = secret::digest(&refresh_token);
    let request_id = request_id.to_owned();
    let outcome = db
        .write(move |conn| {
            let now = time::now();
            let Some(challenge) = mfa::live_challenge(conn, &mfa_token, now)? else { return Ok(Checked::Expired) };
            let user = users::find(conn, challenge.user_id)?;
            let actor = Actor { user_id: Some(user.id), role: user.role().ok(), request_id: Some(request_id) };
            second_factor::take_try(conn, user.id, now)?;
            let Some(factor) = second_factor::spend_code(conn, &keys, &actor, user.id, &code, now)? else {
                let summary = json!({ "reason": "wrong_code" });
                audit::append(conn, &actor, Event::new("auth.login_failed", "user", user.id, summary))?;
                return Ok(Checked::WrongCode);
            };
            if !mfa::spend_challenge(conn, challenge.id, now)? {
                // Completed meanwhile by another request: this one changes nothing.
                return Err(Refusal::conflict(
                    "conflict",
                    Text::new("此次登录已完成。", "This sign-in was completed already."),
                )
                .into());
            }
            second_factor::right_code(conn, user.id)?;
            let session_id =
                users::start_session(conn, user.id, &refresh_hash, now, now + Duration::days(REFRESH_TOKEN_DAYS))?;
            let summary = json!({ "session_id": session_id, "second_factor": factor.as_str() });
            audit::append(conn, &actor, Event::new("auth.login", "user", user.id, summary))?;
            Ok::<_, crate::app::Error>(Checked::Session(user, session_id))
        })
        .await?;
    Ok(match outcome {
        Checked::Expired => SecondStep::Expired,
        Checked::WrongCode => SecondStep::WrongCode,
        Checked::Session(user, session_id) => SecondStep::Session(session(tokens, user, session_id, refresh_token)?),
    })
}

/// What the second step's transaction found: it commits in every case, so a wrong code stays counted.
enum Checked {
    Session(UserRow, i64),
    WrongCode,
    Expired,
}

/// Exchanges a refresh token for a new session's tokens, or `None` when the token is unknown, expired
/// or spent. Each refresh token works once: presenting a spent one ends its whole session, since someone
/// else must have it.
pub async fn refresh(db: &Db, tokens: &Tokens, request_id: &str, refresh_token: &str) -> Result<Option<Session>> {
    let presented = secret::digest(refresh_token.trim());
    let refresh_token = secret::generate();
    let new_hash = secret::digest(&refresh_token);
    let request_id = request_id.to_owned();
    let outcome = db
        .write(move |conn| {
            let outcome = users::rotate_refresh_token(conn, &presented, &new_hash, time::now())?;
            if let Refresh::Reused { session_id, user_id } = &outcome {
                let actor = Actor { user_id: Some(*user_id), role: None, request_id: Some(request_id) };
                let summary = json!({ "session_id": session_id });
                audit::append(conn, &actor, Event::new("auth.refresh_token_reused", "user", *user_id, summary))?;
            }
            Ok::<_, crate::app::Error>(outcome)
        })
        .await?;
    match outcome {
        Refresh::Rotated { session_id, user } => Ok(Some(session(tokens, user, session_id, refresh_token)?)),
        Refresh::Reused { .. } | Refresh::Invalid => Ok(None),
    }
}

/// Signs out: the caller's session ends, and so does the session of `refresh_token` if it is another of
/// the caller's (another device).
pub async fn logout(db: &Db, caller: &SignedIn, refresh_token: &str) -> Result<()> {
    let presented = secret::digest(refresh_token.trim());
    let (actor, user_id, session_id) = (caller.actor(), caller.user_id, caller.session_id);
    db.write(move |conn| {
        let now = time::now();
        users::end_session(conn, session_id, now)?;
        if let Some(other) = users::session_of_refresh_token(conn, &presented)?.filter(|s| s.user_id == user_id) {
            users::end_session(conn, other.id, now)?;
        }
        audit::append(conn, &actor, Event::new("auth.logout", "user", user_id, json!({ "session_id": session_id })))?;
        Ok(())
    })
    .await
}

/// Turns a session just signed in into the console's, and answers the secret for its cookie. The refresh
/// token of the sign-in stops working: a console cookie is never a way to API tokens.
pub async fn for_console(db: &Db, session: &Session) -> Result<String> {
    let (session_id, old_hash) = (session.session_id, secret::digest(&session.refresh_token));
    let cookie_secret = secret::generate();
    let new_hash = secret::digest(&cookie_secret);
    let made = db.write(move |conn| users::make_console_session(conn, session_id, &old_hash, &new_hash)).await?;
    if !made {
        return Err(anyhow::anyhow!("session {session_id} ended before the console took it").into());
    }
    Ok(cookie_secret)
}

/// A console session found from its cookie's secret: the caller, and their name to greet them by.
#[derive(Debug, Clone)]
pub struct ConsoleSession {
    pub caller: SignedIn,
    pub display_name: String,
    pub mfa_enabled: bool,
}

/// The console session whose cookie holds `secret`, or `None` when it ended, expired or lay unused for
/// `idle_timeout`. Using it keeps it alive; the use is written down at most once a minute.
pub async fn resume(db: &Db, secret: &str, request_id: &str, idle_timeout: Duration) -> Result<Option<ConsoleSession>> {
    let presented = secret::digest(secret.trim());
    let now = time::now();
    let found = db.read(move |conn| users::console_caller(conn, &presented, now, now - idle_timeout)).await?;
    let Some(found) = found else { return Ok(None) };
    let fresh_since = now - Duration::minutes(1);
    if found.last_seen_at < fresh_since {
        let session_id = found.session_id;
        db.write(move |conn| Ok::<_, crate::app::Error>(users::touch_session(conn, session_id, now, fresh_since)?))
            .await?;
    }
    let caller = SignedIn {
        user_id: found.user_id,
        role: found.role,
        company_id: found.company_id,
        session_id: found.session_id,
        request_id: request_id.to_owned(),
    };
    Ok(Some(ConsoleSession { caller, display_name: found.display_name, mfa_enabled: found.mfa_enabled }))
}
