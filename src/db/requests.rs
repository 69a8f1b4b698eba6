//! Company requests, their threads and their yearly reference counter.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer};

use super::DbConnection;
use super::schema::{companies, company_requests, request_messages, users};
use crate::db::error::Result;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = company_requests)]
pub struct RequestRow {
    pub id: i64,
    pub reference_no: String,
    pub company_id: i64,
    pub created_by: i64,
    pub category: String,
    pub subject: String,
    pub content: String,
    pub program_id: Option<i64>,
    pub application_id: Option<i64>,
    pub status: String,
    pub assignee_id: Option<i64>,
    pub received_on: NaiveDate,
    pub first_response_due_on: NaiveDate,
    pub due_on: NaiveDate,
    pub first_responded_at: Option<NaiveDateTime>,
    pub waiting_since: Option<NaiveDate>,
    pub paused_days: i32,
    pub resolution: Option<String>,
    pub resolved_at: Option<NaiveDateTime>,
    pub resolved_on: Option<NaiveDate>,
    pub rating: Option<i32>,
    pub rating_comment: Option<String>,
    pub ratings_given: i32,
    pub rating_sum: i32,
    pub bad_ratings: i32,
    pub escalated_at: Option<NaiveDateTime>,
    pub closed_at: Option<NaiveDateTime>,
    pub version: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// A request with the names it is shown with.
#[derive(Debug, Clone, Queryable)]
pub struct RequestRecord {
    pub request: RequestRow,
    pub company_name: String,
    pub assignee_name: Option<String>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = company_requests)]
pub struct NewRequest<'a> {
    pub reference_no: &'a str,
    pub company_id: i64,
    pub created_by: i64,
    pub category: &'a str,
    pub subject: &'a str,
    pub content: &'a str,
    pub program_id: Option<i64>,
    pub application_id: Option<i64>,
    pub received_on: NaiveDate,
    pub first_response_due_on: NaiveDate,
    pub due_on: NaiveDate,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// What a step changes; `None` leaves a column as it is, `Some(None)` clears it.
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = company_requests)]
pub struct Changes {
    pub status: Option<String>,
    pub assignee_id: Option<Option<i64>>,
    pub first_response_due_on: Option<NaiveDate>,
    pub due_on: Option<NaiveDate>,
    pub first_responded_at: Option<Option<NaiveDateTime>>,
    pub waiting_since: Option<Option<NaiveDate>>,
    pub paused_days: Option<i32>,
    pub resolution: Option<Option<String>>,
    pub resolved_at: Option<Option<NaiveDateTime>>,
    pub resolved_on: Option<Option<NaiveDate>>,
    pub rating: Option<Option<i32>>,
    pub rating_comment: Option<Option<String>>,
    pub ratings_given: Option<i32>,
    pub rating_sum: Option<i32>,
    pub bad_ratings: Option<i32>,
    pub escalated_at: Option<Option<NaiveDateTime>>,
    pub closed_at: Option<Option<NaiveDateTime>>,
}

#[derive(Debug, Clone, Queryable)]
pub struct MessageRecord {
    pub id: i64,
    pub author_id: i64,
    pub author_role: String,
    pub author_name: String,
    pub body: String,
    pub internal: bool,
    pub created_at: NaiveDateTime,
}

#[derive(QueryableByName)]
struct Seq {
    #[diesel(sql_type = BigInt)]
    last_seq: i64,
}

/// The next sequence number of `year`'s references: one statement that both backends run atomically, so
/// concurrent requests get consecutive numbers and none twice.
pub fn next_reference_seq(conn: &mut DbConnection, year: i32) -> Result<i64> {
    let seq: Seq = diesel::sql_query(
        "INSERT INTO request_counters (year, last_seq) VALUES ($1, 1) \
         ON CONFLICT (year) DO UPDATE SET last_seq = request_counters.last_seq + 1 RETURNING last_seq",
    )
    .bind::<Integer, _>(year)
    .get_result(conn)?;
    Ok(seq.last_seq)
}

pub fn insert(conn: &mut DbConnection, request: &NewRequest<'_>) -> Result<RequestRow> {
    Ok(diesel::insert_into(company_requests::table).values(request).get_result(conn)?)
}

macro_rules! record_columns {
    () => {
        (RequestRow::as_select(), companies::name, users::display_name.nullable())
    };
}

pub fn find(conn: &mut DbConnection, id: i64) -> Result<RequestRecord> {
    Ok(company_requests::table
        .inner_join(companies::table)
        .left_join(users::table.on(company_requests::assignee_id.eq(users::id.nullable())))
        .filter(company_requests::id.eq(id))
        .select(record_columns!())
        .first(conn)?)
}

#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub company_id: Option<i64>,
    pub status: Option<String>,
    pub category: Option<String>,
    pub assignee_id: Option<i64>,
    /// Only those past a deadline on this day, with their clock running.
    pub overdue_on: Option<NaiveDate>,
    /// Part of the reference number or of the subject, in any case.
    pub q: Option<String>,
}

/// A page of requests, newest first, and how many match.
/// Requests newest first from `start`: up to `limit` + 1 (the extra one tells that more follow), with the total.
pub fn list(
    conn: &mut DbConnection,
    filter: &Filter,
    start: super::Start<i64>,
    limit: i64,
) -> Result<(Vec<RequestRecord>, i64)> {
    let query = || {
        let mut query = company_requests::table
            .inner_join(companies::table)
            .left_join(users::table.on(company_requests::assignee_id.eq(users::id.nullable())))
            .into_boxed();
        if let Some(id) = filter.company_id {
            query = query.filter(company_requests::company_id.eq(id));
        }
        if let Some(status) = &filter.status {
            query = query.filter(company_requests::status.eq(status.clone()));
        }
        if let Some(category) = &filter.category {
            query = query.filter(company_requests::category.eq(category.clone()));
        }
        if let Some(id) = filter.assignee_id {
            query = query.filter(company_requests::assignee_id.eq(id));
        }
        if let Some(today) = filter.overdue_on {
            query = query.filter(company_requests::status.eq_any(RUNNING)).filter(
                company_requests::due_on.lt(today).or(company_requests::first_responded_at
                    .is_null()
                    .and(company_requests::first_response_due_on.lt(today))),
            );
        }
        if let Some(q) = filter.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
            let pattern = format!("%{}%", super::escape_like(&q.to_lowercase()));
            query = query.filter(
                super::lower(company_requests::reference_no).like(pattern.clone()).escape('\\').or(super::lower(
                    company_requests::subject,
                )
                .like(pattern)
                .escape('\\')),
            );
        }
        query
    };
    let total = query().count().get_result(conn)?;
    let page = match start {
        super::Start::Offset(offset) => query().offset(offset),
        super::Start::After(id) => query().filter(company_requests::id.lt(id)),
    };
    let rows = page.order(company_requests::id.desc()).limit(limit + 1).select(record_columns!()).load(conn)?;
    Ok((rows, total))
}

/// The statuses in which the clock runs (see `RequestStatus::clock_runs`).
const RUNNING: [&str; 3] = ["open", "assigned", "reopened"];

/// Applies `changes` if the request is still at `version`; false if someone changed it meanwhile.
pub fn update(conn: &mut DbConnection, id: i64, version: i32, changes: &Changes, now: NaiveDateTime) -> Result<bool> {
    let updated = diesel::update(
        company_requests::table.filter(company_requests::id.eq(id)).filter(company_requests::version.eq(version)),
    )
    .set((changes, company_requests::version.eq(version + 1), company_requests::updated_at.eq(now)))
    .execute(conn)?;
    Ok(updated == 1)
}

pub fn add_message(
    conn: &mut DbConnection,
    request_id: i64,
    author_id: i64,
    body: &str,
    internal: bool,
    now: NaiveDateTime,
) -> Result<()> {
    diesel::insert_into(request_messages::table)
        .values((
            request_messages::request_id.eq(request_id),
            request_messages::author_id.eq(author_id),
            request_messages::body.eq(body),
            request_messages::internal.eq(internal),
            request_messages::created_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

/// The thread, oldest first; internal notes only when `with_internal`.
pub fn messages(conn: &mut DbConnection, request_id: i64, with_internal: bool) -> Result<Vec<MessageRecord>> {
    let mut query = request_messages::table
        .inner_join(users::table.on(request_messages::author_id.eq(users::id)))
        .filter(request_messages::request_id.eq(request_id))
        .into_boxed();
    if !with_internal {
        query = query.filter(request_messages::internal.eq(false));
    }
    Ok(query
        .order(request_messages::id.asc())
        .select((
            request_messages::id,
            request_messages::author_id,
            users::role,
            users::display_name,
            request_messages::body,
            request_messages::internal,
            request_messages::created_at,
        ))
        .load(conn)?)
}

/// How many requests are past a deadline on `today` with their clock running (for the metrics).
pub fn count_overdue(conn: &mut DbConnection, today: NaiveDate) -> Result<i64> {
    Ok(company_requests::table
        .filter(company_requests::status.eq_any(RUNNING))
        .filter(
            company_requests::due_on.lt(today).or(company_requests::first_responded_at
                .is_null()
                .and(company_requests::first_response_due_on.lt(today))),
        )
        .count()
        .get_result(conn)?)
}

/// Requests past a deadline on `today`, with their clock running, whose owner and admins were not told yet.
pub fn unescalated_overdue(conn: &mut DbConnection, today: NaiveDate) -> Result<Vec<RequestRecord>> {
    Ok(company_requests::table
        .inner_join(companies::table)
        .left_join(users::table.on(company_requests::assignee_id.eq(users::id.nullable())))
        .filter(company_requests::status.eq_any(RUNNING))
        .filter(company_requests::escalated_at.is_null())
        .filter(
            company_requests::due_on.lt(today).or(company_requests::first_responded_at
                .is_null()
                .and(company_requests::first_response_due_on.lt(today))),
        )
        .order(company_requests::id.asc())
        .select(record_columns!())
        .load(conn)?)
}

/// Marks the request escalated unless another instance did first, or it is no longer overdue on `today`;
/// true for the one instance that did.
pub fn claim_escalation(conn: &mut DbConnection, id: i64, today: NaiveDate, now: NaiveDateTime) -> Result<bool> {
    let claimed = diesel::update(
        company_requests::table
            .filter(company_requests::id.eq(id))
            .filter(company_requests::escalated_at.is_null())
            .filter(company_requests::status.eq_any(RUNNING))
            .filter(company_requests::due_on.lt(today).or(
                company_requests::first_responded_at.is_null().and(company_requests::first_response_due_on.lt(today)),
            )),
    )
    .set(company_requests::escalated_at.eq(now))
    .execute(conn)?;
    Ok(claimed == 1)
}

/// Resolved requests nobody rated, with the day each was resolved: `(id, version, resolved_on)`.
pub fn unrated_resolved(conn: &mut DbConnection) -> Result<Vec<(i64, i32, Option<NaiveDate>)>> {
    Ok(company_requests::table
        .filter(company_requests::status.eq("resolved"))
        .select((company_requests::id, company_requests::version, company_requests::resolved_on))
        .load(conn)?)
}

/// Every request received from `from` to `to` (inclusive), with its owner's name.
pub fn received_between(conn: &mut DbConnection, from: NaiveDate, to: NaiveDate) -> Result<Vec<RequestRecord>> {
    Ok(company_requests::table
        .inner_join(companies::table)
        .left_join(users::table.on(company_requests::assignee_id.eq(users::id.nullable())))
        .filter(company_requests::received_on.between(from, to))
        .order(company_requests::id.asc())
        .select(record_columns!())
        .load(conn)?)
}
