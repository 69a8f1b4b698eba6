//! Idempotency-Keys: each remembers the request it first came with and the answer that request got, so a
//! retried payment gets the first answer instead of paying twice. A key's row is written in the same
//! transaction as the operation it answers, so no key outlives a request that died before committing.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConnection;
use super::schema::idempotency_keys;
use crate::db::error::Result;

/// A key's earlier use: the request it came with, and the answer that request got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Earlier {
    pub fingerprint: String,
    pub status: u16,
    pub body: String,
}

/// The committed answer for this key, if a request with it has been answered.
pub fn find(conn: &mut DbConnection, user_id: i64, key: &str) -> Result<Option<Earlier>> {
    let row: Option<(String, Option<i32>, Option<String>)> = idempotency_keys::table
        .find((user_id, key))
        .filter(idempotency_keys::completed_at.is_not_null())
        .select((idempotency_keys::fingerprint, idempotency_keys::response_status, idempotency_keys::response_body))
        .first(conn)
        .optional()?;
    Ok(row.and_then(|(fingerprint, status, body)| {
        Some(Earlier { fingerprint, status: u16::try_from(status?).ok()?, body: body? })
    }))
}

/// Takes the key inside the operation's transaction. Fails with a unique violation when another request
/// committed it first; on PostgreSQL a request holding it uncommitted makes this wait for its outcome.
pub fn take(conn: &mut DbConnection, user_id: i64, key: &str, fingerprint: &str, now: NaiveDateTime) -> Result<()> {
    // Unanswered rows are left only by versions that took keys in a transaction of their own.
    diesel::delete(idempotency_keys::table.find((user_id, key)).filter(idempotency_keys::completed_at.is_null()))
        .execute(conn)?;
    diesel::insert_into(idempotency_keys::table)
        .values((
            idempotency_keys::user_id.eq(user_id),
            idempotency_keys::key.eq(key),
            idempotency_keys::fingerprint.eq(fingerprint),
            idempotency_keys::claimed_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

/// Stores the answer a key's request got, in the transaction that took the key.
pub fn answer(
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
