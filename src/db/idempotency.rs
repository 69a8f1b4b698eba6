//! Idempotency-Keys: each remembers the request it first came with and the answer that request got, so a
//! retried payment gets the first answer instead of paying twice.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use super::DbConnection;
use super::schema::idempotency_keys;
use crate::db::error::Result;

/// What an Idempotency-Key says about a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// First use (or a crashed attempt's leftover): go ahead.
    Fresh,
    /// Used before for the same request, which got this answer.
    Replay { status: u16, body: String },
    /// Used before for a different request.
    Mismatch,
    /// The first request with this key is still running.
    InProgress,
}

/// An unfinished claim older than this belongs to a request that died: its payment transaction never
/// committed, since the answer is stored in that same transaction.
const ABANDONED_AFTER: Duration = Duration::seconds(60);

pub fn claim(conn: &mut DbConnection, user_id: i64, key: &str, fingerprint: &str, now: NaiveDateTime) -> Result<Claim> {
    let existing: Option<(String, NaiveDateTime, Option<i32>, Option<String>)> = idempotency_keys::table
        .find((user_id, key))
        .select((
            idempotency_keys::fingerprint,
            idempotency_keys::claimed_at,
            idempotency_keys::response_status,
            idempotency_keys::response_body,
        ))
        .first(conn)
        .optional()?;
    let Some((stored_fingerprint, claimed_at, status, body)) = existing else {
        diesel::insert_into(idempotency_keys::table)
            .values((
                idempotency_keys::user_id.eq(user_id),
                idempotency_keys::key.eq(key),
                idempotency_keys::fingerprint.eq(fingerprint),
                idempotency_keys::claimed_at.eq(now),
            ))
            .execute(conn)?;
        return Ok(Claim::Fresh);
    };
    if stored_fingerprint != fingerprint {
        return Ok(Claim::Mismatch);
    }
    if let (Some(status), Some(body)) = (status, body) {
        return Ok(Claim::Replay { status: u16::try_from(status).unwrap_or(500), body });
    }
    let taken_over = diesel::update(
        idempotency_keys::table
            .find((user_id, key))
            .filter(idempotency_keys::claimed_at.eq(claimed_at))
            .filter(idempotency_keys::claimed_at.lt(now - ABANDONED_AFTER))
            .filter(idempotency_keys::completed_at.is_null()),
    )
    .set(idempotency_keys::claimed_at.eq(now))
    .execute(conn)?;
    Ok(if taken_over == 1 { Claim::Fresh } else { Claim::InProgress })
}

/// Stores the answer a key's request got.
pub fn complete(
    conn: &mut DbConnection,
    user_id: i64,
    key: &str,
    status: u16,
    body: &str,
    now: NaiveDateTime,
) -> Result<()> {
    diesel::update(idempotency_keys::table.find((user_id, key)))
        .set((
            idempotency_keys::response_status.eq(i32::from(status)),
            idempotency_keys::response_body.eq(body),
            idempotency_keys::completed_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

/// Frees a key whose request failed for a reason a retry may not meet again (an outage).
pub fn release(conn: &mut DbConnection, user_id: i64, key: &str) -> Result<()> {
    diesel::delete(idempotency_keys::table.find((user_id, key)).filter(idempotency_keys::completed_at.is_null()))
        .execute(conn)?;
    Ok(())
}
