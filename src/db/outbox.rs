//! The email outbox. Several app instances may run workers: a row is claimed with a lease by a
//! conditional update, so only one of them sends it.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use super::schema::outbox;
use super::{DbConnection, on_backend};
use crate::db::error::Result;
use crate::email::Email;

/// How long a claim lasts; longer than any SMTP timeout, so a live claim is never taken over mid-send.
pub const LEASE: Duration = Duration::seconds(120);
/// After this many failed attempts a message is given up (and stays in the table, marked failed).
pub const MAX_ATTEMPTS: i32 = 12;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = outbox)]
pub struct OutboxRow {
    pub id: i64,
    pub recipient: String,
    pub subject: String,
    pub body: String,
    pub attempts: i32,
    pub lease_token: Option<String>,
}

pub fn enqueue(conn: &mut DbConnection, email: &Email, now: NaiveDateTime) -> Result<()> {
    diesel::insert_into(outbox::table)
        .values((
            outbox::recipient.eq(&email.to),
            outbox::subject.eq(&email.subject),
            outbox::body.eq(&email.body),
            outbox::created_at.eq(now),
            outbox::next_attempt_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

#[derive(Insertable)]
#[diesel(table_name = outbox)]
struct NewMessage<'a> {
    recipient: &'a str,
    subject: &'a str,
    body: &'a str,
    created_at: NaiveDateTime,
    next_attempt_at: NaiveDateTime,
}

/// Queues many messages with a few multi-row inserts, for mailings to many companies at once.
pub fn enqueue_all(conn: &mut DbConnection, emails: &[Email], now: NaiveDateTime) -> Result<()> {
    let rows: Vec<NewMessage<'_>> = emails
        .iter()
        .map(|e| NewMessage {
            recipient: &e.to,
            subject: &e.subject,
            body: &e.body,
            created_at: now,
            next_attempt_at: now,
        })
        .collect();
    // Five parameters a row: far under both backends' limits.
    for chunk in rows.chunks(1_000) {
        on_backend!(conn, inner => diesel::insert_into(outbox::table).values(chunk).execute(inner))?;
    }
    Ok(())
}

/// Claims up to `limit` of the messages due soonest (on the `outbox_pending` index) for `lease_token`;
/// answers those whose claim succeeded, oldest first.
pub fn claim_due(conn: &mut DbConnection, lease_token: &str, now: NaiveDateTime, limit: i64) -> Result<Vec<OutboxRow>> {
    let unleased = outbox::lease_until.is_null().or(outbox::lease_until.lt(now));
    let due: Vec<i64> = outbox::table
        .filter(outbox::sent_at.is_null())
        .filter(outbox::failed_at.is_null())
        .filter(outbox::next_attempt_at.le(now))
        .filter(unleased)
        .order((outbox::next_attempt_at.asc(), outbox::id.asc()))
        .limit(limit)
        .select(outbox::id)
        .load(conn)?;
    let mut claimed = Vec::with_capacity(due.len());
    for id in due {
        let taken = diesel::update(
            outbox::table
                .find(id)
                .filter(outbox::sent_at.is_null())
                .filter(outbox::lease_until.is_null().or(outbox::lease_until.lt(now))),
        )
        .set((
            outbox::lease_token.eq(lease_token),
            outbox::lease_until.eq(now + LEASE),
            outbox::attempts.eq(outbox::attempts + 1),
        ))
        .execute(conn)?;
        if taken == 1 {
            claimed.push(id);
        }
    }
    Ok(outbox::table
        .filter(outbox::id.eq_any(claimed))
        .order(outbox::id.asc())
        .select(OutboxRow::as_select())
        .load(conn)?)
}

/// The outbox as the metrics report it, at `now`.
#[derive(Debug, Clone, Copy)]
pub struct Backlog {
    /// Not sent and not given up.
    pub pending: i64,
    /// When the oldest message due at `now` was queued.
    pub oldest_due_since: Option<NaiveDateTime>,
    /// Given up after [`MAX_ATTEMPTS`].
    pub failed: i64,
}

/// Three reads on the partial indexes of the pending and the given-up messages.
pub fn backlog(conn: &mut DbConnection, now: NaiveDateTime) -> Result<Backlog> {
    let unsent = || outbox::table.filter(outbox::sent_at.is_null());
    Ok(Backlog {
        pending: unsent().filter(outbox::failed_at.is_null()).count().get_result(conn)?,
        oldest_due_since: unsent()
            .filter(outbox::failed_at.is_null())
            .filter(outbox::next_attempt_at.le(now))
            .select(diesel::dsl::min(outbox::created_at))
            .first(conn)?,
        failed: unsent().filter(outbox::failed_at.is_not_null()).count().get_result(conn)?,
    })
}

/// Gives back the messages this worker claimed and did not get to (the service is stopping), so another
/// instance sends them at once instead of after the lease; their attempt is not counted.
pub fn release(conn: &mut DbConnection, lease_token: &str) -> Result<usize> {
    Ok(diesel::update(outbox::table.filter(outbox::lease_token.eq(lease_token)).filter(outbox::sent_at.is_null()))
        .set((
            outbox::lease_token.eq(None::<String>),
            outbox::lease_until.eq(None::<NaiveDateTime>),
            outbox::attempts.eq(outbox::attempts - 1),
        ))
        .execute(conn)?)
}

/// Marks a message sent, if this worker still holds its lease.
pub fn mark_sent(conn: &mut DbConnection, id: i64, lease_token: &str, now: NaiveDateTime) -> Result<bool> {
    let updated = diesel::update(outbox::table.find(id).filter(outbox::lease_token.eq(lease_token)))
        .set((
            outbox::sent_at.eq(now),
            outbox::lease_token.eq(None::<String>),
            outbox::lease_until.eq(None::<NaiveDateTime>),
            outbox::last_error.eq(None::<String>),
        ))
        .execute(conn)?;
    Ok(updated == 1)
}

/// Schedules another attempt with exponential backoff, or gives up after [`MAX_ATTEMPTS`].
pub fn mark_failed(
    conn: &mut DbConnection,
    row: &OutboxRow,
    lease_token: &str,
    error: &str,
    now: NaiveDateTime,
) -> Result<()> {
    let backoff = Duration::seconds(2_i64.saturating_pow(u32::try_from(row.attempts).unwrap_or(0)).min(3600));
    let gave_up = (row.attempts >= MAX_ATTEMPTS).then_some(now);
    diesel::update(outbox::table.find(row.id).filter(outbox::lease_token.eq(lease_token)))
        .set((
            outbox::next_attempt_at.eq(now + backoff),
            outbox::lease_token.eq(None::<String>),
            outbox::lease_until.eq(None::<NaiveDateTime>),
            outbox::last_error.eq(error),
            outbox::failed_at.eq(gave_up),
        ))
        .execute(conn)?;
    Ok(())
}
