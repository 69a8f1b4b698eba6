//! The reports finance reads, each one aggregate query; the only SQL that differs between the backends
//! is how a time is put into its month or year.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Date, Nullable, Text, Timestamp};

use super::DbConnection;
use super::schema::{applications, programs};
use crate::db::error::Result;
use crate::domain::report::GroupBy;

#[derive(Debug, Clone, PartialEq, Eq, QueryableByName)]
pub struct ReportRow {
    #[diesel(sql_type = Text)]
    pub key: String,
    #[diesel(sql_type = Text)]
    pub label: String,
    #[diesel(sql_type = BigInt)]
    pub applications: i64,
    #[diesel(sql_type = BigInt)]
    pub approved_fen: i64,
    #[diesel(sql_type = BigInt)]
    pub disbursed_fen: i64,
    #[diesel(sql_type = BigInt)]
    pub outstanding_fen: i64,
}

/// `time` (a UTC timestamp column) as the park's `YYYY-MM` or `YYYY`.
fn bucket(conn: &DbConnection, time: &str, offset_minutes: i32, month: bool) -> String {
    match conn {
        DbConnection::Sqlite(_) => {
            let format = if month { "%Y-%m" } else { "%Y" };
            format!("strftime('{format}', {time}, '{offset_minutes:+} minutes')")
        }
        DbConnection::Postgres(_) => {
            let format = if month { "YYYY-MM" } else { "YYYY" };
            format!("to_char({time} + make_interval(mins => {offset_minutes}), '{format}')")
        }
    }
}

/// Approved awards grouped by `group_by`: how many, how much approved, how much paid net of reversals
/// between `paid_from` and `paid_to`, and how much is still owed as of `paid_to`.
pub fn disbursements(
    conn: &mut DbConnection,
    group_by: GroupBy,
    program_id: Option<i64>,
    paid_from: NaiveDate,
    paid_to: NaiveDate,
    offset_minutes: i32,
) -> Result<Vec<ReportRow>> {
    let (key, label) = match group_by {
        GroupBy::Program => ("pr.code".to_owned(), "pr.title".to_owned()),
        GroupBy::Company => ("c.credit_code".to_owned(), "c.name".to_owned()),
        GroupBy::Industry => ("c.industry".to_owned(), "c.industry".to_owned()),
        GroupBy::ParkZone => ("c.park_zone".to_owned(), "c.park_zone".to_owned()),
        GroupBy::Month | GroupBy::Year => {
            let expression = bucket(conn, "a.decided_at", offset_minutes, group_by == GroupBy::Month);
            (expression.clone(), expression)
        }
    };
    let signed = "CASE WHEN d.kind = 'payment' THEN d.amount_fen ELSE -d.amount_fen END";
    let sql = format!(
        "SELECT {key} AS key, {label} AS label, \
                CAST(COUNT(*) AS BIGINT) AS applications, \
                CAST(COALESCE(SUM(a.approved_amount_fen), 0) AS BIGINT) AS approved_fen, \
                CAST(COALESCE(SUM(p.in_window), 0) AS BIGINT) AS disbursed_fen, \
                CAST(COALESCE(SUM(a.approved_amount_fen - COALESCE(p.to_date, 0)), 0) AS BIGINT) AS outstanding_fen \
         FROM applications a \
         JOIN programs pr ON pr.id = a.program_id \
         JOIN companies c ON c.id = a.company_id \
         LEFT JOIN ( \
             SELECT d.application_id, \
                    SUM(CASE WHEN d.paid_on >= $1 AND d.paid_on <= $2 THEN {signed} ELSE 0 END) AS in_window, \
                    SUM(CASE WHEN d.paid_on <= $2 THEN {signed} ELSE 0 END) AS to_date \
             FROM disbursements d GROUP BY d.application_id \
         ) p ON p.application_id = a.id \
         WHERE a.status IN ('approved', 'disbursed') AND ($3 = 0 OR a.program_id = $3) \
         GROUP BY {key}, {label} \
         ORDER BY {key}"
    );
    Ok(diesel::sql_query(sql)
        .bind::<Date, _>(paid_from)
        .bind::<Date, _>(paid_to)
        .bind::<BigInt, _>(program_id.unwrap_or(0))
        .load(conn)?)
}

#[derive(Debug, Clone, QueryableByName)]
pub struct ApprovalRow {
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    #[diesel(sql_type = Nullable<Text>)]
    pub reference_no: Option<String>,
    #[diesel(sql_type = Text)]
    pub company_name: String,
    #[diesel(sql_type = BigInt)]
    pub approved_amount_fen: i64,
    #[diesel(sql_type = Timestamp)]
    pub decided_at: NaiveDateTime,
    #[diesel(sql_type = Date)]
    pub payment_due_on: NaiveDate,
    #[diesel(sql_type = Nullable<Date>)]
    pub first_paid_on: Option<NaiveDate>,
}

/// Awards approved in `[from, before)`, with the date of their first payment.
pub fn approvals(conn: &mut DbConnection, from: NaiveDateTime, before: NaiveDateTime) -> Result<Vec<ApprovalRow>> {
    Ok(diesel::sql_query(
        "SELECT a.id, a.reference_no, c.name AS company_name, a.approved_amount_fen, a.decided_at, a.payment_due_on, \
                (SELECT MIN(d.paid_on) FROM disbursements d WHERE d.application_id = a.id AND d.kind = 'payment') AS first_paid_on \
         FROM applications a JOIN companies c ON c.id = a.company_id \
         WHERE a.status IN ('approved', 'disbursed') AND a.decided_at >= $1 AND a.decided_at < $2 \
         ORDER BY a.decided_at, a.id",
    )
    .bind::<Timestamp, _>(from)
    .bind::<Timestamp, _>(before)
    .load(conn)?)
}

/// Applications per programme and status.
pub fn status_counts(conn: &mut DbConnection) -> Result<Vec<(i64, String, i64)>> {
    Ok(applications::table
        .group_by((applications::program_id, applications::status))
        .select((applications::program_id, applications::status, diesel::dsl::count_star()))
        .load(conn)?)
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = programs)]
pub struct ProgramMoney {
    pub id: i64,
    pub code: String,
    pub title: String,
    pub budget_fen: i64,
    pub reserved_fen: i64,
    pub disbursed_fen: i64,
}

/// Every programme's budget and where it stands.
pub fn program_money(conn: &mut DbConnection) -> Result<Vec<ProgramMoney>> {
    Ok(programs::table.order(programs::id.asc()).select(ProgramMoney::as_select()).load(conn)?)
}
