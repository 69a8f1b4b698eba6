//! Rate limits kept in the database, so every app instance shares them and a restart forgets nothing.
//! Each key counts hits in a fixed window.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::result::DatabaseErrorKind;

use super::DbConnection;
use super::schema::throttles;
use crate::db::error::Result;
use crate::domain::limits::Limit;

/// Seconds until `key` may be used again, if it is over `limit` now.
pub fn blocked_for(conn: &mut DbConnection, key: &str, limit: Limit, now: NaiveDateTime) -> Result<Option<u64>> {
    let row: Option<(NaiveDateTime, i32)> =
        throttles::table.find(key).select((throttles::window_started_at, throttles::hits)).first(conn).optional()?;
    Ok(row.and_then(|(started, hits)| {
        let ends = started + limit.window;
        (hits >= limit.max_hits && ends > now).then(|| u64::try_from((ends - now).num_seconds()).unwrap_or(0).max(1))
    }))
}

/// Counts one hit on `key` and returns the hits in the current window (a new window starts at 1).
pub fn hit(conn: &mut DbConnection, key: &str, limit: Limit, now: NaiveDateTime) -> Result<i32> {
    let window_open = throttles::window_started_at.gt(now - limit.window);
    let counted = diesel::update(throttles::table.find(key).filter(window_open))
        .set(throttles::hits.eq(throttles::hits + 1))
        .execute(conn)?;
    if counted == 0 {
        let restarted = diesel::update(throttles::table.find(key))
            .set((throttles::window_started_at.eq(now), throttles::hits.eq(1)))
            .execute(conn)?;
        if restarted == 0 {
            // A concurrent first hit may insert the key first: the insert runs in a savepoint, so
            // PostgreSQL's transaction survives the unique violation, and the hit is counted on that row.
            let inserted = conn.transaction(|c| {
                diesel::insert_into(throttles::table)
                    .values((throttles::key.eq(key), throttles::window_started_at.eq(now), throttles::hits.eq(1)))
                    .execute(c)
            });
            if let Err(diesel::result::Error::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) = inserted {
                diesel::update(throttles::table.find(key))
                    .set(throttles::hits.eq(throttles::hits + 1))
                    .execute(conn)?;
            } else {
                inserted?;
            }
        }
    }
    Ok(throttles::table.find(key).select(throttles::hits).first(conn)?)
}

/// Counts a hit unless `key` is over `limit` already; then answers the seconds to wait, and the refused hit
/// is not counted.
pub fn consume(conn: &mut DbConnection, key: &str, limit: Limit, now: NaiveDateTime) -> Result<Option<u64>> {
    if let Some(retry_after_secs) = blocked_for(conn, key, limit, now)? {
        return Ok(Some(retry_after_secs));
    }
    hit(conn, key, limit, now)?;
    Ok(None)
}

pub fn clear(conn: &mut DbConnection, key: &str) -> Result<()> {
    diesel::delete(throttles::table.find(key)).execute(conn)?;
    Ok(())
}
