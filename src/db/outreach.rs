//! Policy outreach (政策精准推送): the facts the rules read of every verified company, the record of who was
//! told of which programme (one row per programme and company, so nobody is told twice), and the claim on a
//! programme's periodic run, so one instance does each run.

use std::collections::HashSet;

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::schema::{applications, companies, company_financials, outreach_runs, program_outreach, programs, users};
use super::{DbConnection, on_backend};
use crate::db::error::Result;
use crate::domain::company::VerificationStatus;
use crate::domain::program::ProgramStatus;
use crate::domain::role::UserStatus;
use crate::domain::workflow::Status;

/// Rows per multi-row INSERT: three parameters each, far under both backends' limits.
const BATCH: usize = 1_000;

/// What the eligibility rules read of a company, with its figures of the year asked for when filed:
/// `(revenue_fen, rd_expense_fen, employee_count, rd_staff_count)`.
#[derive(Debug, Clone, Queryable)]
pub struct CompanyFacts {
    pub id: i64,
    pub name: String,
    pub credit_code: String,
    pub industry: String,
    pub park_zone: String,
    pub established_on: NaiveDate,
    pub registered_capital_fen: i64,
    pub verification_status: String,
    pub high_tech_valid_until: Option<NaiveDate>,
    pub tech_sme: bool,
    pub notify_new_programs: bool,
    pub figures: Option<(i64, i64, i32, i32)>,
}

/// Which verified companies to read.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// The year whose figures the rules read.
    pub year: i32,
    pub industry: Option<String>,
    pub park_zone: Option<String>,
    /// Part of the name or of the credit code, in any case.
    pub q: Option<String>,
    /// Only the companies that take announcements of new programmes.
    pub listening: bool,
}

/// The verified companies `selection` picks, by id.
pub fn verified_companies(conn: &mut DbConnection, selection: &Selection) -> Result<Vec<CompanyFacts>> {
    let figures = company_financials::table
        .on(company_financials::company_id.eq(companies::id).and(company_financials::year.eq(selection.year)));
    let mut query = companies::table
        .left_join(figures)
        .filter(companies::verification_status.eq(VerificationStatus::Verified.as_str()))
        .into_boxed();
    if let Some(industry) = &selection.industry {
        query = query.filter(companies::industry.eq(industry.clone()));
    }
    if let Some(zone) = &selection.park_zone {
        query = query.filter(companies::park_zone.eq(zone.clone()));
    }
    if let Some(q) = selection.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
        // `lower(..) LIKE lower(..)` is case-insensitive on both backends; `%` and `_` in `q` are literal.
        let pattern = format!("%{}%", super::escape_like(&q.to_lowercase()));
        query = query.filter(
            super::lower(companies::name)
                .like(pattern.clone())
                .escape('\\')
                .or(super::lower(companies::credit_code).like(pattern).escape('\\')),
        );
    }
    if selection.listening {
        query = query.filter(companies::notify_new_programs.eq(true));
    }
    Ok(query
        .order(companies::id.asc())
        .select((
            companies::id,
            companies::name,
            companies::credit_code,
            companies::industry,
            companies::park_zone,
            companies::established_on,
            companies::registered_capital_fen,
            companies::verification_status,
            companies::high_tech_valid_until,
            companies::tech_sme,
            companies::notify_new_programs,
            (
                company_financials::revenue_fen,
                company_financials::rd_expense_fen,
                company_financials::employee_count,
                company_financials::rd_staff_count,
            )
                .nullable(),
        ))
        .load(conn)?)
}

/// The stored names of the statuses that no longer count as an application.
fn not_live() -> Vec<&'static str> {
    Status::ALL.iter().filter(|s| !s.is_live()).map(|s| s.as_str()).collect()
}

/// A company's live application to a programme: `(company_id, id, reference_no, status)`.
pub type LiveApplication = (i64, i64, Option<String>, String);

/// Every live application to `program_id`.
pub fn live_applications(conn: &mut DbConnection, program_id: i64) -> Result<Vec<LiveApplication>> {
    Ok(applications::table
        .filter(applications::program_id.eq(program_id))
        .filter(applications::status.ne_all(not_live()))
        .select((applications::company_id, applications::id, applications::reference_no, applications::status))
        .load(conn)?)
}

/// When each company told of `program_id` was told: `(company_id, notified_at)`.
pub fn notified(conn: &mut DbConnection, program_id: i64) -> Result<Vec<(i64, NaiveDateTime)>> {
    Ok(program_outreach::table
        .filter(program_outreach::program_id.eq(program_id))
        .select((program_outreach::company_id, program_outreach::notified_at))
        .load(conn)?)
}

/// The addresses of the active users of `company_ids`: `(company_id, email)`.
pub fn recipients(conn: &mut DbConnection, company_ids: &[i64]) -> Result<Vec<(i64, String)>> {
    let rows: Vec<(Option<i64>, String)> = users::table
        .filter(users::company_id.eq_any(company_ids))
        .filter(users::status.eq(UserStatus::Active.as_str()))
        .order(users::id.asc())
        .select((users::company_id, users::email))
        .load(conn)?;
    Ok(rows.into_iter().filter_map(|(company, email)| company.map(|id| (id, email))).collect())
}

#[derive(Insertable)]
#[diesel(table_name = program_outreach)]
struct Told {
    program_id: i64,
    company_id: i64,
    notified_at: NaiveDateTime,
}

/// Records that `company_ids` are told of `program_id` now, except those told already; answers the ones
/// recorded. In a write transaction nobody else records the same rows meanwhile on SQLite; on PostgreSQL a
/// concurrent run that does fails the transaction with a unique violation, and nothing of it is kept.
pub fn record_told(
    conn: &mut DbConnection,
    program_id: i64,
    company_ids: &[i64],
    now: NaiveDateTime,
) -> Result<Vec<i64>> {
    let already: HashSet<i64> = program_outreach::table
        .filter(program_outreach::program_id.eq(program_id))
        .filter(program_outreach::company_id.eq_any(company_ids))
        .select(program_outreach::company_id)
        .load::<i64>(conn)?
        .into_iter()
        .collect();
    let fresh: Vec<i64> = company_ids.iter().copied().filter(|id| !already.contains(id)).collect();
    let rows: Vec<Told> = fresh.iter().map(|&company_id| Told { program_id, company_id, notified_at: now }).collect();
    for chunk in rows.chunks(BATCH) {
        on_backend!(conn, inner => diesel::insert_into(program_outreach::table).values(chunk).execute(inner))?;
    }
    Ok(fresh)
}

/// The programmes whose outreach run is due at `now`: published and not yet over, and never run, or last
/// run started before `due_before`, or a run left unfinished since before `stale_before` (its instance died).
pub fn due_programs(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    due_before: NaiveDateTime,
    stale_before: NaiveDateTime,
) -> Result<Vec<i64>> {
    Ok(programs::table
        .left_join(outreach_runs::table)
        .filter(programs::status.eq(ProgramStatus::Published))
        .filter(programs::closes_at.gt(now))
        .filter(
            outreach_runs::program_id
                .is_null()
                .or(outreach_runs::finished_at.is_not_null().and(outreach_runs::started_at.le(due_before)))
                .or(outreach_runs::finished_at.is_null().and(outreach_runs::started_at.le(stale_before))),
        )
        .order(programs::id.asc())
        .select(programs::id)
        .load(conn)?)
}

/// Takes the run of `program_id` for `token`, if it is still due (see [`due_programs`]); false when another
/// instance took it first.
pub fn claim(
    conn: &mut DbConnection,
    program_id: i64,
    token: &str,
    now: NaiveDateTime,
    due_before: NaiveDateTime,
    stale_before: NaiveDateTime,
) -> Result<bool> {
    let reclaimed = diesel::update(
        outreach_runs::table.find(program_id).filter(
            outreach_runs::finished_at
                .is_not_null()
                .and(outreach_runs::started_at.le(due_before))
                .or(outreach_runs::finished_at.is_null().and(outreach_runs::started_at.le(stale_before))),
        ),
    )
    .set((
        outreach_runs::claim_token.eq(token),
        outreach_runs::started_at.eq(now),
        outreach_runs::finished_at.eq(None::<NaiveDateTime>),
    ))
    .execute(conn)?;
    if reclaimed == 1 {
        return Ok(true);
    }
    let exists = diesel::select(diesel::dsl::exists(outreach_runs::table.find(program_id))).get_result(conn)?;
    if exists {
        return Ok(false);
    }
    diesel::insert_into(outreach_runs::table)
        .values((
            outreach_runs::program_id.eq(program_id),
            outreach_runs::claim_token.eq(token),
            outreach_runs::started_at.eq(now),
        ))
        .execute(conn)?;
    Ok(true)
}

/// Marks the run `token` holds finished, with how many companies it told.
pub fn finish(conn: &mut DbConnection, program_id: i64, token: &str, notified: i32, now: NaiveDateTime) -> Result<()> {
    diesel::update(outreach_runs::table.find(program_id).filter(outreach_runs::claim_token.eq(token)))
        .set((
            outreach_runs::finished_at.eq(now),
            outreach_runs::runs.eq(outreach_runs::runs + 1),
            outreach_runs::last_notified.eq(notified),
        ))
        .execute(conn)?;
    Ok(())
}

/// How many runs of `program_id` have finished.
pub fn finished_runs(conn: &mut DbConnection, program_id: i64) -> Result<i32> {
    Ok(outreach_runs::table.find(program_id).select(outreach_runs::runs).first(conn).optional()?.unwrap_or(0))
}
