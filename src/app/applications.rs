//! Applications: a company's request for support from one programme, and who may see it.

use crate::app::{Result, SignedIn};
use crate::db::applications::{self, ApplicationRecord};
use crate::db::{self, DbConnection, reviews};
use crate::domain::error::Error as Refusal;
use crate::domain::role::Role;
use crate::domain::workflow::Status;

pub fn status_of(record: &ApplicationRecord) -> Result<Status> {
    let stored = &record.application.status;
    Status::parse(stored).ok_or_else(|| {
        db::Error::damaged("applications", record.application.id, format!("unknown status `{stored}`")).into()
    })
}

/// The application if the caller may see it: a company its own, an expert those assigned to them,
/// staff all. Anything else is not found, so its existence is not confirmed.
pub fn find_visible(conn: &mut DbConnection, user: &SignedIn, id: i64) -> Result<ApplicationRecord> {
    let record = applications::find(conn, id)?;
    if may_see(user, &record, || Ok(reviews::is_assigned(conn, id, user.user_id)?))? {
        Ok(record)
    } else {
        Err(Refusal::NotFound.into())
    }
}

/// Whether `user` may see `record`; `assigned` tells whether an expert is assigned to it.
pub fn may_see(user: &SignedIn, record: &ApplicationRecord, assigned: impl FnOnce() -> Result<bool>) -> Result<bool> {
    Ok(match user.role {
        Role::Applicant => user.company_id == Some(record.application.company_id),
        Role::Expert => assigned()?,
        Role::Reviewer | Role::Finance | Role::Admin => true,
    })
}
