//! Rate limits as use cases meet them: a hit counted, or a refusal saying how long to wait.

use chrono::NaiveDateTime;

use crate::app::Result;
use crate::db::{DbConnection, throttle};
use crate::domain::error::Error as Refusal;
use crate::domain::limits::Limit;

/// Counts a hit on `key`, or refuses once it is over `limit` (the refused hit is not counted).
pub fn consume(conn: &mut DbConnection, key: &str, limit: Limit, now: NaiveDateTime) -> Result<()> {
    match throttle::consume(conn, key, limit, now)? {
        Some(retry_after_secs) => Err(Refusal::RateLimited { retry_after_secs }.into()),
        None => Ok(()),
    }
}
