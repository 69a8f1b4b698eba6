//! Rate limits as use cases meet them: a hit counted, or a refusal saying how long to wait.

use std::net::IpAddr;

use chrono::NaiveDateTime;

use crate::app::Result;
use crate::db::{DbConnection, throttle};
use crate::domain::error::Error as Refusal;
use crate::domain::limits::{self, Limit};
use crate::domain::time;

/// Counts a hit on `key`, or refuses once it is over `limit` (the refused hit is not counted).
pub fn consume(conn: &mut DbConnection, key: &str, limit: Limit, now: NaiveDateTime) -> Result<()> {
    match throttle::consume(conn, key, limit, now)? {
        Some(retry_after_secs) => Err(Refusal::RateLimited { retry_after_secs }.into()),
        None => Ok(()),
    }
}

/// Counts one email-sending request (`purpose`: `resend`, `reset`) for an address and a client; refused
/// when either is over its limit.
pub fn consume_email_sending(conn: &mut DbConnection, purpose: &str, email: &str, client: IpAddr) -> Result<()> {
    let now = time::now();
    consume(conn, &format!("{purpose}:account:{email}"), limits::EMAILS_PER_ACCOUNT, now)?;
    consume(conn, &format!("{purpose}:addr:{}", limits::client_key(client)), limits::EMAILS_PER_ADDRESS, now)
}
