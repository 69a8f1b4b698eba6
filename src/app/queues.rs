//! The console's dashboard: per programme, how many applications are in each status, and the counts of
//! the reviewer's and finance's queues.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::Serialize;
use utoipa::ToSchema;

use crate::app::{Result, SignedIn};
use crate::db::{Db, calendar, queues};
use crate::domain::role::Role;
use crate::domain::workflow::Status;

/// A notice ending within this many working days counts as ending soon.
pub const NOTICE_SOON_WORKING_DAYS: u32 = 5;

#[derive(Debug, Serialize, ToSchema)]
pub struct ProgramQueue {
    pub program_id: i64,
    pub code: String,
    pub title: String,
    /// Submitted applications in each status (drafts are the companies' own and never counted), zeros included.
    pub by_status: BTreeMap<String, i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct QueueCounts {
    /// Submitted, waiting for the formal check.
    pub awaiting_formal_check: i64,
    /// In expert review with the programme's minimum number of scores in.
    pub ready_to_propose: i64,
    /// In public notice, ending today or within the next 5 working days.
    pub notices_ending_soon: i64,
    /// Objections not yet resolved.
    pub open_objections: i64,
    /// Returned for correction, the correction deadline passed.
    pub corrections_overdue: i64,
    /// Approved, not yet paid in full, due today or later.
    pub payments_due: i64,
    /// Approved, not yet paid in full, the due date passed.
    pub payments_overdue: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Queues {
    pub programs: Vec<ProgramQueue>,
    pub queues: QueueCounts,
}

/// The dashboard's counts on `today` (reviewers, finance and admins).
pub async fn counts(db: &Db, caller: &SignedIn, today: NaiveDate) -> Result<Queues> {
    caller.require(&[Role::Reviewer, Role::Finance, Role::Admin])?;
    db.read(move |conn| {
        let soon = calendar::load(conn)?.add_working_days(today, NOTICE_SOON_WORKING_DAYS);
        let q = queues::queues(conn, today, soon)?;
        let mut programs: Vec<ProgramQueue> = Vec::new();
        for (program_id, code, title, status, n) in queues::by_program(conn)? {
            if programs.last().is_none_or(|p| p.program_id != program_id) {
                let by_status =
                    Status::ALL.iter().filter(|s| **s != Status::Draft).map(|s| (s.as_str().to_owned(), 0)).collect();
                programs.push(ProgramQueue { program_id, code, title, by_status });
            }
            if let (Some(status), Some(n), Some(program)) = (status, n, programs.last_mut()) {
                program.by_status.insert(status, n);
            }
        }
        Ok(Queues {
            programs,
            queues: QueueCounts {
                awaiting_formal_check: q.awaiting_formal_check,
                ready_to_propose: q.ready_to_propose,
                notices_ending_soon: q.notices_ending_soon,
                open_objections: q.open_objections,
                corrections_overdue: q.corrections_overdue,
                payments_due: q.payments_due,
                payments_overdue: q.payments_overdue,
            },
        })
    })
    .await
}
