//! The reports finance lives in: where the money went, what is late, and where each programme stands.

use std::collections::BTreeMap;

use chrono::{FixedOffset, NaiveDate, NaiveTime};
use serde::Serialize;
use utoipa::ToSchema;

use crate::app::{Result, SignedIn};
use crate::db::reports::{self, ReportRow};
use crate::db::{Db, calendar};
use crate::domain::company::Industry;
use crate::domain::error::Error as Refusal;
use crate::domain::report::{GroupBy, median};
use crate::domain::role::Role;
use crate::domain::time;
use crate::domain::workflow::Status;
use crate::i18n::Text;

const READERS: [Role; 2] = [Role::Finance, Role::Admin];

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReportLine {
    pub key: String,
    pub label: String,
    pub applications: i64,
    pub approved_fen: i64,
    pub disbursed_fen: i64,
    pub outstanding_fen: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DisbursementReport {
    pub rows: Vec<ReportLine>,
    pub totals: ReportLine,
}

/// What the disbursement report covers.
#[derive(Debug, Clone, Copy)]
pub struct DisbursementQuery {
    pub group_by: GroupBy,
    pub program_id: Option<i64>,
    /// Payments on or after this day count as disbursed.
    pub paid_from: Option<NaiveDate>,
    /// Payments on or before this day count; what is owed is as of this day.
    pub paid_to: Option<NaiveDate>,
}

/// Approved awards grouped as asked (finance and admins): the number, the approved amount, what was paid
/// net of reversals in the period, and what is still owed. `offset` is the park's, for months and years.
pub async fn disbursements(
    db: &Db,
    caller: &SignedIn,
    query: DisbursementQuery,
    offset: FixedOffset,
) -> Result<DisbursementReport> {
    caller.require(&READERS)?;
    let DisbursementQuery { group_by, program_id, paid_from, paid_to } = query;
    time::check_days(&[("paid_from", paid_from), ("paid_to", paid_to)])?;
    let paid_from = paid_from.unwrap_or(NaiveDate::MIN).max(date(1, 1, 1));
    let paid_to = paid_to.unwrap_or(NaiveDate::MAX).min(date(9999, 12, 31));
    let offset_minutes = offset.local_minus_utc() / 60;
    let rows = db
        .read(move |conn| reports::disbursements(conn, group_by, program_id, paid_from, paid_to, offset_minutes))
        .await?;
    Ok(build(rows, group_by))
}

fn date(year: i32, month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, month, day).expect("a valid date")
}

fn build(rows: Vec<ReportRow>, group_by: GroupBy) -> DisbursementReport {
    let mut totals = ReportLine {
        key: "total".into(),
        label: "合计".into(),
        applications: 0,
        approved_fen: 0,
        disbursed_fen: 0,
        outstanding_fen: 0,
    };
    let rows = rows
        .into_iter()
        .map(|row| {
            totals.applications += row.applications;
            totals.approved_fen += row.approved_fen;
            totals.disbursed_fen += row.disbursed_fen;
            totals.outstanding_fen += row.outstanding_fen;
            let label = match group_by {
                GroupBy::Industry => Industry::parse(&row.label).map_or(row.label, |i| i.label().zh.into_owned()),
                _ => row.label,
            };
            ReportLine {
                key: row.key,
                label,
                applications: row.applications,
                approved_fen: row.approved_fen,
                disbursed_fen: row.disbursed_fen,
                outstanding_fen: row.outstanding_fen,
            }
        })
        .collect();
    DisbursementReport { rows, totals }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OverdueLine {
    pub application_id: i64,
    pub reference_no: Option<String>,
    pub company_name: String,
    pub approved_amount_fen: i64,
    pub approved_on: NaiveDate,
    pub payment_due_on: NaiveDate,
    /// Working days past the due date, today included.
    pub working_days_overdue: u32,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TimelinessReport {
    pub approved_from: NaiveDate,
    pub approved_to: NaiveDate,
    pub approvals: usize,
    /// First payment on or before the due date.
    pub paid_on_time: usize,
    pub paid_late: usize,
    /// Not paid yet, and not due yet.
    pub unpaid_not_due: usize,
    pub unpaid_overdue: Vec<OverdueLine>,
    /// Working days from approval to the first payment, over the awards paid; `null` when none was.
    pub median_working_days_to_first_payment: Option<f64>,
}

/// For awards approved from `approved_from` to `approved_to` in the park's calendar (finance and admins):
/// paid on time, paid late, and unpaid past the due date.
pub async fn timeliness(
    db: &Db,
    caller: &SignedIn,
    approved_from: NaiveDate,
    approved_to: NaiveDate,
    offset: FixedOffset,
) -> Result<TimelinessReport> {
    caller.require(&READERS)?;
    time::check_days(&[("approved_from", Some(approved_from)), ("approved_to", Some(approved_to))])?;
    if approved_to < approved_from {
        return Err(Refusal::field(
            "approved_to",
            "before_start",
            Text::new("结束日期不能早于开始日期。", "The period ends before it starts."),
        )
        .into());
    }
    let local = chrono::Duration::seconds(i64::from(offset.local_minus_utc()));
    let start_of = move |day: NaiveDate| day.and_time(NaiveTime::MIN) - local;
    let (from, before) = (start_of(approved_from), start_of(approved_to.succ_opt().unwrap_or(approved_to)));
    let today = time::today(offset);
    let (rows, calendar) = db
        .read(move |conn| Ok::<_, crate::app::Error>((reports::approvals(conn, from, before)?, calendar::load(conn)?)))
        .await?;

    let mut report = TimelinessReport {
        approved_from,
        approved_to,
        approvals: rows.len(),
        paid_on_time: 0,
        paid_late: 0,
        unpaid_not_due: 0,
        unpaid_overdue: Vec::new(),
        median_working_days_to_first_payment: None,
    };
    let mut waits = Vec::new();
    for row in rows {
        let approved_on = (row.decided_at + local).date();
        match row.first_paid_on {
            Some(paid) => {
                waits.push(calendar.working_days_between(approved_on, paid));
                if paid <= row.payment_due_on { report.paid_on_time += 1 } else { report.paid_late += 1 }
            }
            None if today > row.payment_due_on => report.unpaid_overdue.push(OverdueLine {
                application_id: row.id,
                reference_no: row.reference_no,
                company_name: row.company_name,
                approved_amount_fen: row.approved_amount_fen,
                approved_on,
                payment_due_on: row.payment_due_on,
                working_days_overdue: calendar.working_days_between(row.payment_due_on, today),
            }),
            None => report.unpaid_not_due += 1,
        }
    }
    report.median_working_days_to_first_payment = median(&mut waits);
    Ok(report)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProgramSummary {
    pub program_id: i64,
    pub code: String,
    pub title: String,
    /// Applications by status; statuses with none are 0.
    pub counts: BTreeMap<String, i64>,
    pub budget_fen: i64,
    pub reserved_fen: i64,
    pub disbursed_fen: i64,
    pub available_fen: i64,
}

/// Every programme: applications by status and where its budget stands (staff but experts).
pub async fn summary(db: &Db, caller: &SignedIn) -> Result<Vec<ProgramSummary>> {
    caller.require(&[Role::Reviewer, Role::Finance, Role::Admin])?;
    let (money, counts) = db
        .read(|conn| Ok::<_, crate::app::Error>((reports::program_money(conn)?, reports::status_counts(conn)?)))
        .await?;
    let summaries = money
        .into_iter()
        .map(|p| {
            let mut by_status: BTreeMap<String, i64> = Status::ALL.iter().map(|s| (s.as_str().to_owned(), 0)).collect();
            for (_, status, count) in counts.iter().filter(|(program, ..)| *program == p.id) {
                by_status.insert(status.clone(), *count);
            }
            ProgramSummary {
                program_id: p.id,
                code: p.code,
                title: p.title,
                counts: by_status,
                available_fen: p.budget_fen - p.reserved_fen - p.disbursed_fen,
                budget_fen: p.budget_fen,
                reserved_fen: p.reserved_fen,
                disbursed_fen: p.disbursed_fen,
            }
        })
        .collect();
    Ok(summaries)
}
