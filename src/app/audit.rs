//! The audit trail, for administrators: read it, and check that it is intact.

use crate::app::{Result, SignedIn};
use crate::db::Db;
use crate::db::audit::{self, EventRow, Filter, Verification};
use crate::domain::role::Role;

/// Who may read the trail.
pub const READERS: &[Role] = &[Role::Admin];

/// A page of events, newest first, and how many match in all.
pub async fn list(
    db: &Db,
    caller: &SignedIn,
    filter: Filter,
    start: crate::db::Start<i64>,
    limit: i64,
) -> Result<(Vec<EventRow>, i64)> {
    caller.require(READERS)?;
    Ok(db.read(move |conn| audit::list(conn, &filter, start, limit)).await?)
}

/// Recomputes the whole hash chain and names the first event that does not fit.
pub async fn verify(db: &Db, caller: &SignedIn) -> Result<Verification> {
    caller.require(READERS)?;
    Ok(db.read(audit::verify).await?)
}
