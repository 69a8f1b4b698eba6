//! Passwords: recovering a forgotten one by email, the first one of an invited staff account, and
//! changing one's own.

use std::net::IpAddr;

use secrecy::{ExposeSecret, SecretString};
use serde_json::json;

use crate::app::registration::{invalid_link, link};
use crate::app::{Result, SignedIn, throttle};
use crate::auth::password::Passwords;
use crate::config::PortalSettings;
use crate::db::audit::{self, Event};
use crate::db::tokens::{self, Purpose};
use crate::db::users::UserRow;
use crate::db::{self, Db, outbox, users};
use crate::domain::account::{Email, check_password};
use crate::domain::audit::Actor;
use crate::domain::error::Error as Refusal;
use crate::domain::role::UserStatus;
use crate::domain::{limits, time};
use crate::email::templates;
use crate::i18n::Text;

/// Emails a single-use link to choose a new password if `email` has an active account; the outcome is
/// the same either way.
pub async fn request_reset(
    db: &Db,
    portal: &PortalSettings,
    request_id: &str,
    client: IpAddr,
    email: &str,
) -> Result<()> {
    let email = Email::parse("email", email).map_err(|e| Refusal::invalid(vec![e]))?;
    let (portal, request_id) = (portal.clone(), request_id.to_owned());
    db.write(move |conn| {
        throttle::consume_email_sending(conn, "reset", email.as_str(), client)?;
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
        Ok(())
    })
    .await
}

/// Sets a new password with a reset token, or the first password of an invited staff account (whose
/// email is thereby verified). Every session of the account ends.
pub async fn confirm_reset(
    db: &Db,
    passwords: &Passwords,
    request_id: &str,
    token: &str,
    new_password: SecretString,
) -> Result<()> {
    const SETS_PASSWORD: &[Purpose] = &[Purpose::PasswordReset, Purpose::Invitation];
    let token = token.trim().to_owned();
    // The token first: a made-up one must not cost a password hash.
    let probe = token.clone();
    if !db.read(move |conn| tokens::is_live(conn, &probe, SETS_PASSWORD, time::now())).await? {
        return Err(invalid_link().into());
    }
    check_password("new_password", new_password.expose_secret(), &[]).map_err(|e| Refusal::invalid(vec![e]))?;
    let hash = passwords.hash(new_password.clone()).await?;
    let request_id = request_id.to_owned();
    db.write(move |conn| {
        let now = time::now();
        let (user_id, purpose) = tokens::spend(conn, &token, SETS_PASSWORD, now)?.ok_or_else(invalid_link)?;
        tokens::spend_all(conn, user_id, SETS_PASSWORD, now)?;
        let user = users::find(conn, user_id)?;
        check_password("new_password", new_password.expose_secret(), &[&user.email, &user.display_name])
            .map_err(|e| Refusal::invalid(vec![e]))?;
        users::set_password_hash(conn, user_id, &hash, now)?;
        if purpose == Purpose::Invitation {
            users::mark_email_verified(conn, user_id, now)?;
        }
        users::end_sessions(conn, user_id, None, now)?;
        let actor = Actor { user_id: Some(user_id), role: user.role().ok(), request_id: Some(request_id) };
        let action = if purpose == Purpose::Invitation { "user.invitation_accept" } else { "user.password_reset" };
        audit::append(conn, &actor, Event::new(action, "user", user_id, json!({})))?;
        Ok(())
    })
    .await
}

/// The limit the checks of an account's own password count against.
pub(crate) fn own_password_tries(user_id: i64) -> String {
    format!("password:account:{user_id}")
}

/// The caller's account, once `password` is found to be its password. Like a sign-in, each check takes one of
/// the account's tries first, so a stolen session cannot be used to guess the password at full speed; the
/// operation that follows clears them ([`own_password_tries`]) in its own transaction. A wrong password is
/// refused on `field` with `wrong`.
pub(crate) async fn confirm_own(
    db: &Db,
    passwords: &Passwords,
    user_id: i64,
    password: SecretString,
    field: &'static str,
    wrong: Text,
) -> Result<UserRow> {
    let attempt = own_password_tries(user_id);
    let row = db
        .write(move |conn| {
            throttle::consume(conn, &attempt, limits::LOGIN_FAILURES_PER_ACCOUNT_AND_ADDRESS, time::now())?;
            Ok::<_, crate::app::Error>(users::find(conn, user_id)?)
        })
        .await?;
    if !passwords.verify(password, row.password_hash.clone()).await?.matches {
        return Err(Refusal::field(field, "incorrect", wrong).into());
    }
    Ok(row)
}

/// Changes the caller's password; every other session of the account ends.
pub async fn change(
    db: &Db,
    passwords: &Passwords,
    caller: &SignedIn,
    current_password: SecretString,
    new_password: SecretString,
) -> Result<()> {
    let user_id = caller.user_id;
    let wrong = Text::new("当前密码不正确。", "The current password is not correct.");
    let row = confirm_own(db, passwords, user_id, current_password, "current_password", wrong).await?;
    let tries = own_password_tries(user_id);
    check_password("new_password", new_password.expose_secret(), &[&row.email, &row.display_name])
        .map_err(|e| Refusal::invalid(vec![e]))?;
    let hash = passwords.hash(new_password).await?;
    let (actor, session_id) = (caller.actor(), caller.session_id);
    db.write(move |conn| {
        let now = time::now();
        users::set_password_hash(conn, user_id, &hash, now)?;
        db::throttle::clear(conn, &tries)?;
        users::end_sessions(conn, user_id, Some(session_id), now)?;
        audit::append(conn, &actor, Event::new("user.password_change", "user", user_id, json!({})))
    })
    .await?;
    Ok(())
}
