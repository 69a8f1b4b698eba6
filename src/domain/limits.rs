//! How often an address or an account may try something before it has to wait.

use chrono::Duration;

#[derive(Debug, Clone, Copy)]
pub struct Limit {
    pub max_hits: i32,
    pub window: Duration,
}

const fn per(max_hits: i32, minutes: i64) -> Limit {
    Limit { max_hits, window: Duration::minutes(minutes) }
}

/// Wrong passwords for one account: guessing stops here, whoever guesses.
pub const LOGIN_FAILURES_PER_ACCOUNT: Limit = per(5, 15);
/// Wrong passwords from one client address, over all accounts.
pub const LOGIN_FAILURES_PER_ADDRESS: Limit = per(20, 15);
pub const REGISTRATIONS_PER_ADDRESS: Limit = per(10, 60);
pub const EMAILS_PER_ACCOUNT: Limit = per(3, 60);
pub const EMAILS_PER_ADDRESS: Limit = per(20, 60);
/// Objections to public notices from one client address.
pub const OBJECTIONS_PER_ADDRESS: Limit = per(5, 60);
