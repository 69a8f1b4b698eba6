//! Who is told: the messages a use case queues in the outbox, in its own transaction.

use chrono::NaiveDateTime;

use crate::app::Result;
use crate::db::{DbConnection, outbox, users};
use crate::domain::role::Role;
use crate::email::Email;

/// The addresses of every active user of the company.
pub fn company_addresses(conn: &mut DbConnection, company_id: i64) -> Result<Vec<String>> {
    Ok(users::of_company(conn, company_id)?.into_iter().map(|u| u.email).collect())
}

/// The addresses of every active user with `role`.
pub fn role_addresses(conn: &mut DbConnection, role: Role) -> Result<Vec<String>> {
    Ok(users::active_with_role(conn, role)?.into_iter().map(|u| u.email).collect())
}

/// Queues `email` for every user of the company.
pub fn company(
    conn: &mut DbConnection,
    company_id: i64,
    email: impl Fn(&str) -> Email,
    now: NaiveDateTime,
) -> Result<()> {
    let addresses = company_addresses(conn, company_id)?;
    each(conn, &addresses, email, now)
}

/// Queues `email` for every active user with `role`.
pub fn role(conn: &mut DbConnection, role: Role, email: impl Fn(&str) -> Email, now: NaiveDateTime) -> Result<()> {
    let addresses = role_addresses(conn, role)?;
    each(conn, &addresses, email, now)
}

/// Queues `email` for each of `addresses`, in one insert.
pub fn each(
    conn: &mut DbConnection,
    addresses: &[String],
    email: impl Fn(&str) -> Email,
    now: NaiveDateTime,
) -> Result<()> {
    let emails: Vec<Email> = addresses.iter().map(|to| email(to)).collect();
    Ok(outbox::enqueue_all(conn, &emails, now)?)
}
