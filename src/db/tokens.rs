//! Single-use tokens sent by email (verification, password reset, invitation), stored as digests.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use super::DbConnection;
use super::schema::one_time_tokens;
use crate::auth::secret;
use crate::db::error::Result;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    VerifyEmail,
    PasswordReset,
    Invitation,
}

impl Purpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::VerifyEmail => "verify_email",
            Purpose::PasswordReset => "password_reset",
            Purpose::Invitation => "invitation",
        }
    }

    pub fn lifetime(self) -> Duration {
        match self {
            Purpose::VerifyEmail => Duration::hours(24),
            Purpose::PasswordReset => Duration::minutes(30),
            Purpose::Invitation => Duration::hours(72),
        }
    }
}

/// Issues a token for `user_id`; the plain value is returned once, for the email, and never stored.
pub fn issue(conn: &mut DbConnection, user_id: i64, purpose: Purpose, now: NaiveDateTime) -> Result<String> {
    let token = secret::generate();
    diesel::insert_into(one_time_tokens::table)
        .values((
            one_time_tokens::user_id.eq(user_id),
            one_time_tokens::purpose.eq(purpose.as_str()),
            one_time_tokens::token_hash.eq(secret::digest(&token)),
            one_time_tokens::created_at.eq(now),
            one_time_tokens::expires_at.eq(now + purpose.lifetime()),
        ))
        .execute(conn)?;
    Ok(token)
}

/// Whether `token` is a live token of one of `purposes`, without spending it.
pub fn is_live(conn: &mut DbConnection, token: &str, purposes: &[Purpose], now: NaiveDateTime) -> Result<bool> {
    let names: Vec<&str> = purposes.iter().map(|p| p.as_str()).collect();
    let live: i64 = one_time_tokens::table
        .filter(one_time_tokens::token_hash.eq(secret::digest(token)))
        .filter(one_time_tokens::purpose.eq_any(&names))
        .filter(one_time_tokens::used_at.is_null())
        .filter(one_time_tokens::expires_at.gt(now))
        .count()
        .get_result(conn)?;
    Ok(live > 0)
}

/// Spends every live token of `purposes` that `user_id` still holds.
pub fn spend_all(conn: &mut DbConnection, user_id: i64, purposes: &[Purpose], now: NaiveDateTime) -> Result<()> {
    let names: Vec<&str> = purposes.iter().map(|p| p.as_str()).collect();
    diesel::update(
        one_time_tokens::table
            .filter(one_time_tokens::user_id.eq(user_id))
            .filter(one_time_tokens::purpose.eq_any(&names))
            .filter(one_time_tokens::used_at.is_null()),
    )
    .set(one_time_tokens::used_at.eq(now))
    .execute(conn)?;
    Ok(())
}

/// Spends a live token of one of `purposes` and names its user and purpose; `None` for a token that is
/// unknown, expired or already used. The conditional update makes a race spend it once.
pub fn spend(
    conn: &mut DbConnection,
    token: &str,
    purposes: &[Purpose],
    now: NaiveDateTime,
) -> Result<Option<(i64, Purpose)>> {
    let digest = secret::digest(token);
    let names: Vec<&str> = purposes.iter().map(|p| p.as_str()).collect();
    let found: Option<(i64, i64, String)> = one_time_tokens::table
        .filter(one_time_tokens::token_hash.eq(&digest))
        .filter(one_time_tokens::purpose.eq_any(&names))
        .select((one_time_tokens::id, one_time_tokens::user_id, one_time_tokens::purpose))
        .first(conn)
        .optional()?;
    let Some((id, user_id, purpose)) = found else { return Ok(None) };
    let spent = diesel::update(
        one_time_tokens::table
            .find(id)
            .filter(one_time_tokens::used_at.is_null())
            .filter(one_time_tokens::expires_at.gt(now)),
    )
    .set(one_time_tokens::used_at.eq(now))
    .execute(conn)?;
    let purpose = purposes.iter().copied().find(|p| p.as_str() == purpose);
    Ok(purpose.filter(|_| spent == 1).map(|p| (user_id, p)))
}
