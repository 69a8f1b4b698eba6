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
        // Only a window that has passed starts again: a row a concurrent first hit committed meanwhile has
        // an open window, and its count must stand.
        let window_passed = throttles::window_started_at.le(now - limit.window);
        let restarted = diesel::update(throttles::table.find(key).filter(window_passed))
            .set((throttles::window_started_at.eq(now), throttles::hits.eq(1)))
            .execute(conn)?;
        if restarted == 0 {
            // No row, or one a concurrent first hit inserted: the insert runs in a savepoint, so
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

/// Takes one of `key`'s attempts in the current window, or answers the seconds to wait when none is left
/// (a refused attempt is not counted). Check and count are one conditional update, so simultaneous
/// attempts cannot all pass a check made before any of them was counted.
pub fn consume(conn: &mut DbConnection, key: &str, limit: Limit, now: NaiveDateTime) -> Result<Option<u64>> {
    let window_open = throttles::window_started_at.gt(now - limit.window);
    let taken =
        diesel::update(throttles::table.find(key).filter(window_open).filter(throttles::hits.lt(limit.max_hits)))
            .set(throttles::hits.eq(throttles::hits + 1))
            .execute(conn)?;
    if taken == 1 {
        return Ok(None);
    }
    if let Some(retry_after_secs) = blocked_for(conn, key, limit, now)? {
        return Ok(Some(retry_after_secs));
    }
    // No row yet, or its window has passed: a new window starts with this attempt, unless simultaneous
    // attempts started it first and used it up.
    if hit(conn, key, limit, now)? > limit.max_hits {
        give_back(conn, key)?;
        return blocked_for(conn, key, limit, now);
    }
    Ok(None)
}

/// Gives back an attempt `consume` took.
pub fn give_back(conn: &mut DbConnection, key: &str) -> Result<()> {
    diesel::update(throttles::table.find(key).filter(throttles::hits.gt(0)))
        .set(throttles::hits.eq(throttles::hits - 1))
        .execute(conn)?;
    Ok(())
}

pub fn clear(conn: &mut DbConnection, key: &str) -> Result<()> {
    diesel::delete(throttles::table.find(key)).execute(conn)?;
    Ok(())
}
