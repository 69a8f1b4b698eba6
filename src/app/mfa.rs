//! A second factor for sign-in (TOTP): enrolment, confirmation with recovery codes, turning it off, an
//! admin's reset after a lost phone, and who must have one.

use chrono::{NaiveDateTime, Utc};
use secrecy::SecretString;
use serde_json::json;

use crate::app::{Result, SignedIn, throttle};
use crate::auth::password::Passwords;
use crate::auth::{secret, totp};
use crate::crypto::Keyring;
use crate::db::audit::{self, Event};
use crate::db::{self, Db, DbConnection, mfa, outbox, users};
use crate::domain::audit::Actor;
use crate::domain::error::Error as Refusal;
use crate::domain::role::Role;
use crate::domain::{limits, time};
use crate::email::templates::{self, SecondFactor};
use crate::i18n::Text;

/// Which roles must turn a second factor on before they may do anything else (`auth.mfa_required_roles`),
/// and the name authenticator apps show (`auth.totp_issuer`).
#[derive(Debug, Clone)]
pub struct Policy {
    required_roles: Vec<Role>,
    issuer: String,
}

impl Policy {
    pub fn new(required_roles: Vec<Role>, issuer: String) -> Self {
        Self { required_roles, issuer }
    }

    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    pub fn requires(&self, role: Role) -> bool {
        self.required_roles.contains(&role)
    }

    /// Refused (403 `mfa_enrollment_required`) when `role` must have a second factor and has none. Each
    /// edge calls it for every operation except reading one's own account, setting the factor up and
    /// signing out.
    pub fn check(&self, role: Role, enrolled: bool) -> Result<(), Refusal> {
        if enrolled || !self.requires(role) {
            return Ok(());
        }
        Err(Refusal::Forbidden {
            code: "mfa_enrollment_required",
            detail: Text::new(
                "您的账号须先启用两步验证（身份验证器应用），才能继续操作。",
                "Your account must turn on two-step verification (an authenticator app) before going on.",
            ),
        })
    }
}

fn invalid_code() -> Refusal {
    Refusal::Invalid {
        code: "invalid_mfa_code",
        detail: Text::new("验证码不正确或已使用过。", "The code is not right, or it was used already."),
        errors: vec![],
    }
}

/// What a presented code turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Factor {
    Totp,
    /// An unused recovery code, now spent; `left` are still unused.
    RecoveryCode {
        left: i64,
    },
}

impl Factor {
    pub fn as_str(self) -> &'static str {
        match self {
            Factor::Totp => "totp",
            Factor::RecoveryCode { .. } => "recovery_code",
        }
    }
}

/// The user's tries at codes, shared by sign-in, confirmation and turning the factor off.
fn tries_key(user_id: i64) -> String {
    format!("mfa:account:{user_id}")
}

/// Takes one of the user's tries at a code (refused with 429 once they are used up). A right code gives the
/// tries back with [`right_code`]; a wrong one keeps it taken, so the caller must commit the transaction.
pub(crate) fn take_try(conn: &mut DbConnection, user_id: i64, now: NaiveDateTime) -> Result<()> {
    throttle::consume(conn, &tries_key(user_id), limits::MFA_CODE_FAILURES, now)
}

pub(crate) fn right_code(conn: &mut DbConnection, user_id: i64) -> Result<()> {
    Ok(db::throttle::clear(conn, &tries_key(user_id))?)
}

/// Checks `code` against the user's confirmed second factor and spends it: a TOTP code of a step not used
/// before, or an unused recovery code (audited). `None` when it is neither.
pub(crate) fn spend_code(
    conn: &mut DbConnection,
    keys: &Keyring,
    actor: &Actor,
    user_id: i64,
    code: &str,
    now: NaiveDateTime,
) -> Result<Option<Factor>> {
    if totp::is_totp_code(code) {
        let Some(secret) = mfa::totp(conn, keys, user_id)?.filter(|t| t.confirmed) else { return Ok(None) };
        let Some(step) = totp::matching_step(&secret.secret, code, Utc::now().timestamp()) else { return Ok(None) };
        return Ok(mfa::use_step(conn, user_id, step)?.then_some(Factor::Totp));
    }
    let digest = secret::digest(&totp::normalize_recovery_code(code));
    if !mfa::use_recovery_code(conn, user_id, &digest, now)? {
        return Ok(None);
    }
    let left = mfa::recovery_codes_left(conn, user_id)?;
    audit::append(conn, actor, Event::new("user.mfa_recovery_code_use", "user", user_id, json!({ "left": left })))?;
    Ok(Some(Factor::RecoveryCode { left }))
}

/// A started enrolment: what the user's authenticator app takes.
#[derive(Debug)]
pub struct Enrolment {
    /// The shared secret in base32, for typing in by hand.
    pub secret: String,
    pub otpauth_uri: String,
}

/// Starts (or starts again) setting up the caller's TOTP factor; it is on only once confirmed with a code.
pub async fn start_enrolment(db: &Db, issuer: &str, caller: &SignedIn) -> Result<Enrolment> {
    let (user_id, keys, issuer) = (caller.user_id, db.keys(), issuer.to_owned());
    let secret = totp::generate_secret();
    let stored = secret.clone();
    let email = db
        .write(move |conn| {
            let user = users::find(conn, user_id)?;
            if !mfa::start_enrolment(conn, &keys, user_id, &stored, time::now())? {
                return Err(Refusal::conflict(
                    "mfa_already_enabled",
                    Text::new(
                        "两步验证已启用；如需更换，请先停用。",
                        "Two-step verification is on; turn it off first to replace it.",
                    ),
                )
                .into());
            }
            Ok::<_, crate::app::Error>(user.email)
        })
        .await?;
    Ok(Enrolment { otpauth_uri: totp::otpauth_uri(&issuer, &email, &secret), secret })
}

/// Turns the caller's pending TOTP factor on with a code from their app, and answers ten new single-use
/// recovery codes (shown this once; only their digests are kept).
pub async fn confirm(db: &Db, caller: &SignedIn, code: &str) -> Result<Vec<String>> {
    let (user_id, keys, actor) = (caller.user_id, db.keys(), caller.actor());
    let codes = totp::generate_recovery_codes();
    let digests: Vec<String> = codes.iter().map(|c| secret::digest(&totp::normalize_recovery_code(c))).collect();
    let code = code.to_owned();
    let confirmed = db
        .write(move |conn| {
            let now = time::now();
            let pending = mfa::totp(conn, &keys, user_id)?.filter(|t| !t.confirmed).ok_or_else(|| {
                Refusal::conflict(
                    "conflict",
                    Text::new(
                        "没有待确认的两步验证设置，请先开始设置。",
                        "There is no set-up to confirm; start one first.",
                    ),
                )
            })?;
            take_try(conn, user_id, now)?;
            let step = totp::matching_step(&pending.secret, &code, Utc::now().timestamp());
            let Some(step) = step.filter(|_| totp::is_totp_code(&code)) else { return Ok(false) };
            if !mfa::confirm(conn, user_id, step, now)? {
                return Ok(false);
            }
            mfa::replace_recovery_codes(conn, user_id, &digests, now)?;
            right_code(conn, user_id)?;
            audit::append(conn, &actor, Event::new("user.mfa_enable", "user", user_id, json!({ "factor": "totp" })))?;
            let owner = users::find(conn, user_id)?.email;
            outbox::enqueue(conn, &templates::second_factor_changed(&owner, SecondFactor::TurnedOn), now)?;
            Ok::<_, crate::app::Error>(true)
        })
        .await?;
    if confirmed { Ok(codes) } else { Err(invalid_code().into()) }
}

/// Turns the caller's second factor off, with their password and a code (or a recovery code); refused for
/// a role that must keep one.
pub async fn disable(
    db: &Db,
    passwords: &Passwords,
    policy: &Policy,
    caller: &SignedIn,
    password: SecretString,
    code: &str,
) -> Result<()> {
    if policy.requires(caller.role) {
        return Err(Refusal::conflict(
            "mfa_required_for_role",
            Text::new("您的角色必须启用两步验证，不能停用。", "Your role must keep two-step verification on."),
        )
        .into());
    }
    let user_id = caller.user_id;
    let wrong = Text::new("密码不正确。", "The password is not correct.");
    let row = crate::app::passwords::confirm_own(db, passwords, user_id, password, "password", wrong).await?;
    let tries = crate::app::passwords::own_password_tries(user_id);
    if !row.mfa_enabled {
        return Err(
            Refusal::conflict("conflict", Text::new("两步验证尚未启用。", "Two-step verification is not on.")).into()
        );
    }
    let (keys, actor, code, owner) = (db.keys(), caller.actor(), code.to_owned(), row.email);
    let disabled = db
        .write(move |conn| {
            let now = time::now();
            db::throttle::clear(conn, &tries)?;
            take_try(conn, user_id, now)?;
            let Some(factor) = spend_code(conn, &keys, &actor, user_id, &code, now)? else { return Ok(false) };
            right_code(conn, user_id)?;
            mfa::remove(conn, user_id, now)?;
            let summary = json!({ "with": factor.as_str() });
            audit::append(conn, &actor, Event::new("user.mfa_disable", "user", user_id, summary))?;
            outbox::enqueue(conn, &templates::second_factor_changed(&owner, SecondFactor::TurnedOff), now)?;
            Ok::<_, crate::app::Error>(true)
        })
        .await?;
    if disabled { Ok(()) } else { Err(invalid_code().into()) }
}

/// Clears a user's second factor (an admin, for a lost phone) and ends every session of theirs, so they
/// sign in again with their password and set a new one up.
pub async fn reset(db: &Db, caller: &SignedIn, user_id: i64) -> Result<()> {
    caller.require(&[Role::Admin])?;
    let actor = caller.actor();
    db.write(move |conn| {
        let now = time::now();
        let owner = users::find(conn, user_id)?.email;
        let was_on = mfa::remove(conn, user_id, now)?;
        let ended = users::end_sessions(conn, user_id, None, now)?;
        let summary = json!({ "was_on": was_on, "sessions_ended": ended });
        audit::append(conn, &actor, Event::new("user.mfa_reset", "user", user_id, summary))?;
        if was_on {
            let email = templates::second_factor_changed(&owner, SecondFactor::ResetByAdministrator);
            outbox::enqueue(conn, &email, now)?;
        }
        Ok(())
    })
    .await
}
