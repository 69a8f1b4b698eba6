//! Housekeeping: the claim on a run (one instance per run), the deletion of rows past their retention, and
//! the attachment keys the storage sweep compares the stored files with.

use std::collections::HashSet;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConnection;
use super::schema::{
    attachments, housekeeping_runs, idempotency_keys, mfa_challenges, one_time_tokens, outbox, sessions,
    spent_refresh_tokens, throttles,
};
use crate::db::error::Result;

const JOB: &str = "housekeeping";
/// Keys asked about per query: far under both backends' parameter limits.
const BATCH: usize = 500;

/// Claims the run when it is due (the last one started before `due_before`, or never finished and started
/// before `stale_before`); false when another instance holds it or ran it recently.
pub fn claim(
    conn: &mut DbConnection,
    token: &str,
    now: NaiveDateTime,
    due_before: NaiveDateTime,
    stale_before: NaiveDateTime,
) -> Result<bool> {
    let claimed = diesel::update(
        housekeeping_runs::table.find(JOB).filter(
            housekeeping_runs::finished_at
                .is_not_null()
                .and(housekeeping_runs::started_at.le(due_before))
                .or(housekeeping_runs::finished_at.is_null().and(housekeeping_runs::started_at.le(stale_before))),
        ),
    )
    .set((
        housekeeping_runs::claim_token.eq(token),
        housekeeping_runs::started_at.eq(now),
        housekeeping_runs::finished_at.eq(None::<NaiveDateTime>),
    ))
    .execute(conn)?;
    Ok(claimed == 1)
}

/// Marks the run `token` holds finished.
pub fn finish(conn: &mut DbConnection, token: &str, now: NaiveDateTime) -> Result<()> {
    diesel::update(housekeeping_runs::table.find(JOB).filter(housekeeping_runs::claim_token.eq(token)))
        .set(housekeeping_runs::finished_at.eq(now))
        .execute(conn)?;
    Ok(())
}

/// Sessions that ended (expired or signed out) before `before`, with their spent refresh tokens.
pub fn delete_ended_sessions(conn: &mut DbConnection, before: NaiveDateTime) -> Result<usize> {
    let ended = sessions::table
        .filter(sessions::expires_at.lt(before).or(sessions::revoked_at.lt(before)))
        .select(sessions::id);
    diesel::delete(spent_refresh_tokens::table.filter(spent_refresh_tokens::session_id.eq_any(ended))).execute(conn)?;
    Ok(diesel::delete(sessions::table.filter(sessions::expires_at.lt(before).or(sessions::revoked_at.lt(before))))
        .execute(conn)?)
}

/// One-time tokens and sign-in challenges used or expired before `before`.
pub fn delete_spent_tokens(conn: &mut DbConnection, before: NaiveDateTime) -> Result<usize> {
    let tokens = diesel::delete(
        one_time_tokens::table.filter(one_time_tokens::expires_at.lt(before).or(one_time_tokens::used_at.lt(before))),
    )
    .execute(conn)?;
    let challenges = diesel::delete(
        mfa_challenges::table.filter(mfa_challenges::expires_at.lt(before).or(mfa_challenges::used_at.lt(before))),
    )
    .execute(conn)?;
    Ok(tokens + challenges)
}

/// Rate-limit windows that started before `before`.
pub fn delete_throttle_windows(conn: &mut DbConnection, before: NaiveDateTime) -> Result<usize> {
    Ok(diesel::delete(throttles::table.filter(throttles::window_started_at.lt(before))).execute(conn)?)
}

/// Email sent before `before` (unsent and failed email stays).
pub fn delete_sent_mail(conn: &mut DbConnection, before: NaiveDateTime) -> Result<usize> {
    Ok(diesel::delete(outbox::table.filter(outbox::sent_at.lt(before))).execute(conn)?)
}

/// Idempotency keys claimed before `before`.
pub fn delete_idempotency_keys(conn: &mut DbConnection, before: NaiveDateTime) -> Result<usize> {
    Ok(diesel::delete(idempotency_keys::table.filter(idempotency_keys::claimed_at.lt(before))).execute(conn)?)
}

/// Which of `keys` an attachment row points at.
pub fn referenced_keys(conn: &mut DbConnection, keys: &[String]) -> Result<HashSet<String>> {
    let mut found = HashSet::new();
    for batch in keys.chunks(BATCH) {
        let rows: Vec<String> = attachments::table
            .filter(attachments::storage_key.eq_any(batch))
            .select(attachments::storage_key)
            .load(conn)?;
        found.extend(rows);
    }
    Ok(found)
}

/// Attachment rows `(id, storage_key)` created before `before`, after `after_id`, by id, `limit` at a time.
pub fn attachment_keys(
    conn: &mut DbConnection,
    after_id: i64,
    before: NaiveDateTime,
    limit: i64,
) -> Result<Vec<(i64, String)>> {
    Ok(attachments::table
        .filter(attachments::id.gt(after_id))
        .filter(attachments::created_at.lt(before))
        .order(attachments::id.asc())
        .select((attachments::id, attachments::storage_key))
        .limit(limit)
        .load(conn)?)
}
