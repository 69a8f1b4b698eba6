//! Second factors: a user's TOTP secret (sealed), their recovery codes (digests) and the pending second
//! steps of sign-ins.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};

use super::DbConnection;
use super::schema::{mfa_challenges, mfa_recovery_codes, user_totp, users};
use crate::auth::secret;
use crate::crypto::Keyring;
use crate::db::error::{Error, Result};

/// A user's TOTP secret, opened.
#[derive(Debug, Clone)]
pub struct Totp {
    pub secret: String,
    pub confirmed: bool,
}

/// Where a user's TOTP secret is stored: what its sealed value is bound to.
fn secret_place(user_id: i64) -> String {
    format!("user_totp.secret:{user_id}")
}

fn seal(keys: &Keyring, user_id: i64, secret: &str) -> Result<String> {
    keys.seal(secret, &secret_place(user_id)).map_err(|e| Error::Other(e.into()))
}

/// Stores `secret` as the user's pending TOTP secret, replacing a pending one; `false` when the user has a
/// confirmed one already (which only turning it off removes).
pub fn start_enrolment(
    conn: &mut DbConnection,
    keys: &Keyring,
    user_id: i64,
    secret: &str,
    now: NaiveDateTime,
) -> Result<bool> {
    let sealed = seal(keys, user_id, secret)?;
    let replaced = diesel::update(user_totp::table.find(user_id).filter(user_totp::confirmed_at.is_null()))
        .set((user_totp::secret.eq(&sealed), user_totp::last_used_step.eq(None::<i64>), user_totp::created_at.eq(now)))
        .execute(conn)?;
    if replaced == 1 {
        return Ok(true);
    }
    // In a savepoint, so PostgreSQL's transaction survives the unique violation of a confirmed secret.
    let inserted = conn.transaction(|c| {
        diesel::insert_into(user_totp::table)
            .values((user_totp::user_id.eq(user_id), user_totp::secret.eq(&sealed), user_totp::created_at.eq(now)))
            .execute(c)
    });
    match inserted {
        Ok(_) => Ok(true),
        Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// The user's TOTP secret, pending or confirmed.
pub fn totp(conn: &mut DbConnection, keys: &Keyring, user_id: i64) -> Result<Option<Totp>> {
    let row: Option<(String, Option<NaiveDateTime>)> =
        user_totp::table.find(user_id).select((user_totp::secret, user_totp::confirmed_at)).first(conn).optional()?;
    row.map(|(stored, confirmed_at)| {
        let opened = keys.open(&stored, &secret_place(user_id)).map_err(|e| Error::damaged("user_totp", user_id, e))?;
        Ok(Totp { secret: opened.text, confirmed: confirmed_at.is_some() })
    })
    .transpose()
}

/// Takes the time step `step` for the user's confirmed secret: `false` when a code of that step or a later
/// one was accepted already. One conditional update, so of two requests racing with one code, one wins.
pub fn use_step(conn: &mut DbConnection, user_id: i64, step: i64) -> Result<bool> {
    let fresh = user_totp::last_used_step.is_null().or(user_totp::last_used_step.lt(step));
    let taken =
        diesel::update(user_totp::table.find(user_id).filter(user_totp::confirmed_at.is_not_null()).filter(fresh))
            .set(user_totp::last_used_step.eq(step))
            .execute(conn)?;
    Ok(taken == 1)
}

/// Confirms the user's pending secret with a code of `step`, turning the second factor on; `false` when
/// there is no pending secret (or that step was used).
pub fn confirm(conn: &mut DbConnection, user_id: i64, step: i64, now: NaiveDateTime) -> Result<bool> {
    let fresh = user_totp::last_used_step.is_null().or(user_totp::last_used_step.lt(step));
    let confirmed =
        diesel::update(user_totp::table.find(user_id).filter(user_totp::confirmed_at.is_null()).filter(fresh))
            .set((user_totp::confirmed_at.eq(now), user_totp::last_used_step.eq(step)))
            .execute(conn)?;
    if confirmed == 0 {
        return Ok(false);
    }
    diesel::update(users::table.find(user_id))
        .set((users::mfa_enabled.eq(true), users::updated_at.eq(now)))
        .execute(conn)?;
    Ok(true)
}

/// Replaces the user's recovery codes with the codes whose digests are `digests`.
pub fn replace_recovery_codes(
    conn: &mut DbConnection,
    user_id: i64,
    digests: &[String],
    now: NaiveDateTime,
) -> Result<()> {
    diesel::delete(mfa_recovery_codes::table.filter(mfa_recovery_codes::user_id.eq(user_id))).execute(conn)?;
    for digest in digests {
        diesel::insert_into(mfa_recovery_codes::table)
            .values((
                mfa_recovery_codes::user_id.eq(user_id),
                mfa_recovery_codes::code_hash.eq(digest),
                mfa_recovery_codes::created_at.eq(now),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Spends the user's unused recovery code whose digest is `digest`; `false` when there is none. One
/// conditional update, so a code works once even when two requests race with it.
pub fn use_recovery_code(conn: &mut DbConnection, user_id: i64, digest: &str, now: NaiveDateTime) -> Result<bool> {
    let spent = diesel::update(
        mfa_recovery_codes::table
            .filter(mfa_recovery_codes::user_id.eq(user_id))
            .filter(mfa_recovery_codes::code_hash.eq(digest))
            .filter(mfa_recovery_codes::used_at.is_null()),
    )
    .set(mfa_recovery_codes::used_at.eq(now))
    .execute(conn)?;
    Ok(spent == 1)
}

/// How many of the user's recovery codes are still unused.
pub fn recovery_codes_left(conn: &mut DbConnection, user_id: i64) -> Result<i64> {
    Ok(mfa_recovery_codes::table
        .filter(mfa_recovery_codes::user_id.eq(user_id))
        .filter(mfa_recovery_codes::used_at.is_null())
        .count()
        .get_result(conn)?)
}

/// Removes the user's second factor: secret, recovery codes and pending second steps. Answers whether one
/// was on.
pub fn remove(conn: &mut DbConnection, user_id: i64, now: NaiveDateTime) -> Result<bool> {
    let was_on: bool = users::table.find(user_id).select(users::mfa_enabled).first(conn)?;
    diesel::delete(user_totp::table.find(user_id)).execute(conn)?;
    diesel::delete(mfa_recovery_codes::table.filter(mfa_recovery_codes::user_id.eq(user_id))).execute(conn)?;
    diesel::update(
        mfa_challenges::table.filter(mfa_challenges::user_id.eq(user_id)).filter(mfa_challenges::used_at.is_null()),
    )
    .set(mfa_challenges::used_at.eq(now))
    .execute(conn)?;
    diesel::update(users::table.find(user_id))
        .set((users::mfa_enabled.eq(false), users::updated_at.eq(now)))
        .execute(conn)?;
    Ok(was_on)
}

/// Starts the second step of a sign-in for `user_id`: the token (given once, stored as a digest) that a
/// code turns into a session within `lifetime`.
pub fn issue_challenge(
    conn: &mut DbConnection,
    user_id: i64,
    now: NaiveDateTime,
    lifetime: Duration,
) -> Result<String> {
    let token = secret::generate();
    diesel::insert_into(mfa_challenges::table)
        .values((
            mfa_challenges::user_id.eq(user_id),
            mfa_challenges::token_hash.eq(secret::digest(&token)),
            mfa_challenges::created_at.eq(now),
            mfa_challenges::expires_at.eq(now + lifetime),
        ))
        .execute(conn)?;
    Ok(token)
}

/// A pending second step: its id and user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Challenge {
    pub id: i64,
    pub user_id: i64,
}

/// The pending second step `token` stands for: unused, unexpired, and of an active user whose second
/// factor is on.
pub fn live_challenge(conn: &mut DbConnection, token: &str, now: NaiveDateTime) -> Result<Option<Challenge>> {
    let found: Option<(i64, i64)> = mfa_challenges::table
        .inner_join(users::table)
        .filter(mfa_challenges::token_hash.eq(secret::digest(token)))
        .filter(mfa_challenges::used_at.is_null())
        .filter(mfa_challenges::expires_at.gt(now))
        .filter(users::status.eq(crate::domain::role::UserStatus::Active.as_str()))
        .filter(users::mfa_enabled.eq(true))
        .select((mfa_challenges::id, mfa_challenges::user_id))
        .first(conn)
        .optional()?;
    Ok(found.map(|(id, user_id)| Challenge { id, user_id }))
}

/// Spends a pending second step; `false` when it was spent already.
pub fn spend_challenge(conn: &mut DbConnection, id: i64, now: NaiveDateTime) -> Result<bool> {
    let spent = diesel::update(mfa_challenges::table.find(id).filter(mfa_challenges::used_at.is_null()))
        .set(mfa_challenges::used_at.eq(now))
        .execute(conn)?;
    Ok(spent == 1)
}

/// Seals again, under the current key, every TOTP secret not sealed under it yet; each row only if it
/// still holds what was read. Answers how many were sealed.
pub fn reseal_secrets(conn: &mut DbConnection, keys: &Keyring) -> Result<usize> {
    let Some(current) = keys.current_prefix() else { return Ok(0) };
    let stale: Vec<(i64, String)> = user_totp::table
        .filter(user_totp::secret.not_like(format!("{}%", super::escape_like(&current))).escape('\\'))
        .select((user_totp::user_id, user_totp::secret))
        .load(conn)?;
    let mut sealed = 0;
    for (user_id, stored) in stale {
        let plain = keys.open(&stored, &secret_place(user_id)).map_err(|e| Error::damaged("user_totp", user_id, e))?;
        sealed += diesel::update(user_totp::table.find(user_id).filter(user_totp::secret.eq(&stored)))
            .set(user_totp::secret.eq(seal(keys, user_id, &plain.text)?))
            .execute(conn)?;
    }
    Ok(sealed)
}
