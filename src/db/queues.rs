//! The counts the console's dashboards, queues and lists show: read from counters kept by triggers (per
//! programme and status, per programme and number of expert scores, per day of the dated queues, per hour of
//! submission) and the indexes that cover the others. Applications are counted only where a programme
//! without a notice period has some in notice.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::backend::Backend;
use diesel::dsl::exists;
use diesel::expression::{AppearsOnTable, Expression, SelectableExpression, ValidGrouping, is_aggregate};
use diesel::prelude::*;
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::sql_types::BigInt;

use super::schema::{
    application_counts, application_day_counts, applications, expert_review_counts, objections, programs,
    submitted_hour_counts,
};
use super::{DbConnection, Multi};
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
    Ok(query.select(Total(application_counts::n)).get_result(conn)?)
}

/// Applications submitted from `from` on and before `before`, both the start of an hour, from the hourly
/// counters.
pub fn submitted_between(
    conn: &mut DbConnection,
    from: Option<NaiveDateTime>,
    before: Option<NaiveDateTime>,
) -> Result<i64> {
    let mut query = submitted_hour_counts::table.into_boxed();
    if let Some(from) = from {
        query = query.filter(submitted_hour_counts::hour.ge(from));
    }
    if let Some(before) = before {
        query = query.filter(submitted_hour_counts::hour.lt(before));
    }
    Ok(query.select(Total(submitted_hour_counts::n)).get_result(conn)?)
}

/// `CAST(COALESCE(SUM(counter), 0) AS BIGINT)`: a counter column's total as a `BIGINT` on both backends
/// (PostgreSQL sums a `BIGINT` as `NUMERIC`). Unlike the same text as a literal, it lets diesel keep the
/// statement prepared, so PostgreSQL plans it once per connection rather than at every request.
#[derive(Debug, Clone, Copy, QueryId)]
pub struct Total<E>(pub E);

impl<E: Expression<SqlType = BigInt>> Expression for Total<E> {
    type SqlType = BigInt;
}

impl<E: QueryFragment<DB>, DB: Backend> QueryFragment<DB> for Total<E> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        out.push_sql("CAST(COALESCE(SUM(");
        self.0.walk_ast(out.reborrow())?;
        out.push_sql("), 0) AS BIGINT)");
        Ok(())
    }
}

impl<E: AppearsOnTable<QS>, QS> AppearsOnTable<QS> for Total<E> where Self: Expression {}

impl<E: SelectableExpression<QS>, QS> SelectableExpression<QS> for Total<E> where Self: AppearsOnTable<QS> {}

impl<E, GroupBy> ValidGrouping<GroupBy> for Total<E> {
    type IsAggregate = is_aggregate::Yes;
}

/// Applications whose public notice runs on `today`: those in notice to a day from `today` on, from the
/// per-day counters, less those of programmes without a notice period, whose notice ends the day it starts
/// (both read by one statement, so they agree).
pub fn notices_running(conn: &mut DbConnection, today: NaiveDate) -> Result<i64> {
    let in_notice = || {
        dated(Status::PublicNotice)
            .filter(application_day_counts::day.ge(today))
            .select(Total(application_day_counts::n))
    };
    let without_notice = || programs::table.filter(programs::public_notice_days.le(0)).select(programs::id);
    if !diesel::select(exists(without_notice())).get_result::<bool>(conn)? {
        return Ok(in_notice().get_result(conn)?);
    }
    let not_running = applications::table
        .filter(applications::status.eq(Status::PublicNotice.as_str()))
        .filter(applications::notice_ends_on.ge(today))
        .filter(applications::program_id.eq_any(without_notice()))
        .count();
    let (in_notice, not_running) = diesel::select((in_notice().single_value(), not_running.single_value()))
        .get_result::<(Option<i64>, Option<i64>)>(conn)?;
    Ok(in_notice.unwrap_or_default() - not_running.unwrap_or_default())
}

/// Awards still owed on `today`: `(due from today on, past their due date)`, from the per-day counters.
pub fn payments(conn: &mut DbConnection, today: NaiveDate) -> Result<(i64, i64)> {
    let owed = || dated(Status::Approved);
    Ok(diesel::select((
        owed().filter(application_day_counts::day.ge(today)).select(Total(application_day_counts::n)).single_value(),
        owed().filter(application_day_counts::day.lt(today)).select(Total(application_day_counts::n)).single_value(),
    ))
    .get_result::<(Option<i64>, Option<i64>)>(conn)
    .map(|(due, overdue)| (due.unwrap_or_default(), overdue.unwrap_or_default()))?)
}

/// The per-day counters of applications in `status` (public notice, returned or approved), by the date
/// of that status: the notice's end, the correction deadline, the payment due date.
fn dated(status: Status) -> application_day_counts::BoxedQuery<'static, Multi> {
    application_day_counts::table.filter(application_day_counts::status.eq(status.as_str())).into_boxed()
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

/// The queue counts, from the counters, in one prepared statement.
pub fn queues(conn: &mut DbConnection, today: NaiveDate, soon: NaiveDate) -> Result<Queues> {
    use application_day_counts::{day, n};
    let submitted = |status: Status| {
        application_counts::table
            .filter(application_counts::status.eq(status.as_str()))
            .filter(application_counts::submitted.eq(true))
    };
    let counted: [Option<i64>; 7] = diesel::select((
        submitted(Status::Submitted).select(Total(application_counts::n)).single_value(),
        expert_review_counts::table
            .inner_join(programs::table)
            .filter(expert_review_counts::scores.ge(programs::min_expert_reviews))
            .select(Total(expert_review_counts::n))
            .single_value(),
        dated(Status::PublicNotice).filter(day.between(today, soon)).select(Total(n)).single_value(),
        objections::table.filter(objections::resolved_at.is_null()).count().single_value(),
        dated(Status::Returned).filter(day.lt(today)).select(Total(n)).single_value(),
        dated(Status::Approved).filter(day.ge(today)).select(Total(n)).single_value(),
        dated(Status::Approved).filter(day.lt(today)).select(Total(n)).single_value(),
    ))
    .get_result::<(Option<i64>, Option<i64>, Option<i64>, Option<i64>, Option<i64>, Option<i64>, Option<i64>)>(conn)?
    .into();
    let [
        awaiting_formal_check,
        ready_to_propose,
        notices_ending_soon,
        open_objections,
        corrections_overdue,
        payments_due,
        payments_overdue,
    ] = counted.map(Option::unwrap_or_default);
    Ok(Queues {
        awaiting_formal_check,
        ready_to_propose,
        notices_ending_soon,
        open_objections,
        corrections_overdue,
        payments_due,
        payments_overdue,
    })
}
