//! The counts the console's dashboards and queues show: read from the per-programme status counters, the
//! per-day counters of the dated queues and the indexes that cover the others, never by counting the
//! applications table.

use chrono::NaiveDate;
use diesel::dsl::count_star;
use diesel::prelude::*;

use super::DbConnection;
use super::schema::{application_counts, application_day_counts, objections, programs};
use crate::db::error::Result;
use crate::domain::workflow::Status;

/// Each programme with its submitted applications per stored status, `(id, code, title, status, n)`;
/// `status` and `n` are absent for a programme with none.
pub type ProgramCount = (i64, String, String, Option<String>, Option<i64>);

pub fn by_program(conn: &mut DbConnection) -> Result<Vec<ProgramCount>> {
    Ok(programs::table
        .left_join(
            application_counts::table
                .on(application_counts::program_id.eq(programs::id).and(application_counts::submitted.eq(true))),
        )
        .order((programs::id.asc(), application_counts::status.asc()))
        .select((
            programs::id,
            programs::code,
            programs::title,
            application_counts::status.nullable(),
            application_counts::n.nullable(),
        ))
        .load(conn)?)
}

/// Submitted applications in `status` (optionally of one programme), from the counters.
pub fn submitted_in(conn: &mut DbConnection, status: Option<&str>, program_id: Option<i64>) -> Result<i64> {
    let mut query = application_counts::table.filter(application_counts::submitted.eq(true)).into_boxed();
    if let Some(status) = status {
        query = query.filter(application_counts::status.eq(status.to_owned()));
    }
    if let Some(id) = program_id {
        query = query.filter(application_counts::program_id.eq(id));
    }
    let counts: Vec<i64> = query.select(application_counts::n).load(conn)?;
    Ok(counts.into_iter().sum())
}

/// Applications in expert review with at least their programme's minimum number of scores: from the
/// counters for programmes that need none, and by counting the scores of the others' applications only
/// (`CROSS JOIN` keeps SQLite reading from the programmes, through the programme and status index).
pub fn ready_to_propose(conn: &mut DbConnection) -> Result<i64> {
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let count: Count = diesel::sql_query(
        "SELECT (SELECT CAST(COALESCE(SUM(c.n), 0) AS BIGINT) FROM application_counts c JOIN programs p ON p.id = c.program_id \
                  WHERE c.status = 'expert_review' AND c.submitted AND p.min_expert_reviews = 0) \
              + (SELECT COUNT(*) FROM programs p CROSS JOIN applications a \
                  WHERE a.program_id = p.id AND p.min_expert_reviews > 0 AND a.status = 'expert_review' \
                    AND p.min_expert_reviews <= \
                    (SELECT COUNT(*) FROM expert_assignments e WHERE e.application_id = a.id AND e.score IS NOT NULL)) \
           AS n",
    )
    .get_result(conn)?;
    Ok(count.n)
}

/// Applications in `status` (public notice, returned or approved) whose date of that status (the notice's
/// end, the correction deadline, the payment due date) lies in `from..=to` (either end open), from the
/// per-day counters.
fn dated(conn: &mut DbConnection, status: Status, from: Option<NaiveDate>, to: Option<NaiveDate>) -> Result<i64> {
    let mut query =
        application_day_counts::table.filter(application_day_counts::status.eq(status.as_str())).into_boxed();
    if let Some(from) = from {
        query = query.filter(application_day_counts::day.ge(from));
    }
    if let Some(to) = to {
        query = query.filter(application_day_counts::day.le(to));
    }
    let counts: Vec<i64> = query.select(application_day_counts::n).load(conn)?;
    Ok(counts.into_iter().sum())
}

/// Awards still owed on `today`: `(due from today on, past their due date)`.
pub fn payments(conn: &mut DbConnection, today: NaiveDate) -> Result<(i64, i64)> {
    let due = dated(conn, Status::Approved, Some(today), None)?;
    let overdue = dated(conn, Status::Approved, None, today.pred_opt())?;
    Ok((due, overdue))
}

/// The counts of the reviewer's and finance's queues on `today`; `soon` is the last day a notice may
/// end on to count as ending soon.
#[derive(Debug, Clone, Copy)]
pub struct Queues {
    pub awaiting_formal_check: i64,
    pub ready_to_propose: i64,
    pub notices_ending_soon: i64,
    pub open_objections: i64,
    pub corrections_overdue: i64,
    pub payments_due: i64,
    pub payments_overdue: i64,
}

pub fn queues(conn: &mut DbConnection, today: NaiveDate, soon: NaiveDate) -> Result<Queues> {
    let yesterday = today.pred_opt();
    let (payments_due, payments_overdue) = payments(conn, today)?;
    Ok(Queues {
        awaiting_formal_check: submitted_in(conn, Some(Status::Submitted.as_str()), None)?,
        ready_to_propose: ready_to_propose(conn)?,
        notices_ending_soon: dated(conn, Status::PublicNotice, Some(today), Some(soon))?,
        open_objections: objections::table
            .filter(objections::resolved_at.is_null())
            .select(count_star())
            .get_result(conn)?,
        corrections_overdue: dated(conn, Status::Returned, None, yesterday)?,
        payments_due,
        payments_overdue,
    })
}
