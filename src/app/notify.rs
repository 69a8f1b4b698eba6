//! Who is told: the messages a use case queues in the outbox, in its own transaction.

use chrono::NaiveDateTime;

use crate::app::Result;
use crate::db::{DbConnection, outbox, users};
use crate::domain::role::Role;
use crate::email::Email;

/// Queues `email` for every user of the company.
pub fn company(
    conn: &mut DbConnection,
    company_id: i64,
    email: impl Fn(&str) -> Email,
    now: NaiveDateTime,
) -> Result<()> {
    for user in users::of_company(conn, company_id)? {
        outbox::enqueue(conn, &email(&user.email), now)?;
    }
    Ok(())
}

/// Queues `email` for every active user with `role`.
pub fn role(conn: &mut DbConnection, role: Role, email: impl Fn(&str) -> Email, now: NaiveDateTime) -> Result<()> {
    for user in users::active_with_role(conn, role)? {
        outbox::enqueue(conn, &email(&user.email), now)?;
    }
    Ok(())
}
