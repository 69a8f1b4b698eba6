//! Payment plans and disbursements.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::backend::Backend;
use diesel::expression::{AppearsOnTable, Expression, SelectableExpression, ValidGrouping, is_aggregate};
use diesel::prelude::*;
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::serialize::ToSql;
use diesel::sql_types::{BigInt, Bool, HasSqlType};

use super::DbConnection;
use super::schema::{applications, disbursement_counts, disbursements, payment_instalments, programs};
use crate::db::error::{Error, Result};
use crate::domain::workflow::Status;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = payment_instalments)]
pub struct InstalmentRow {
    pub id: i64,
    pub application_id: i64,
    pub due_on: NaiveDate,
    pub amount_fen: i64,
    pub created_at: NaiveDateTime,
}

pub fn plan(conn: &mut DbConnection, application_id: i64) -> Result<Vec<InstalmentRow>> {
    Ok(payment_instalments::table
        .filter(payment_instalments::application_id.eq(application_id))
        .order((payment_instalments::due_on.asc(), payment_instalments::id.asc()))
        .select(InstalmentRow::as_select())
        .load(conn)?)
}

pub fn replace_plan(
    conn: &mut DbConnection,
    application_id: i64,
    instalments: &[(NaiveDate, i64)],
    now: NaiveDateTime,
) -> Result<()> {
    diesel::delete(payment_instalments::table.filter(payment_instalments::application_id.eq(application_id)))
        .execute(conn)?;
    for (due_on, amount_fen) in instalments {
        diesel::insert_into(payment_instalments::table)
            .values((
                payment_instalments::application_id.eq(application_id),
                payment_instalments::due_on.eq(due_on),
                payment_instalments::amount_fen.eq(amount_fen),
                payment_instalments::created_at.eq(now),
            ))
            .execute(conn)?;
    }
    Ok(())
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = disbursements)]
pub struct DisbursementRow {
    pub id: i64,
    pub application_id: i64,
    pub kind: String,
    pub amount_fen: i64,
    pub paid_on: NaiveDate,
    pub voucher_no: Option<String>,
    pub note: Option<String>,
    pub reverses_id: Option<i64>,
    pub recorded_by: i64,
    pub created_at: NaiveDateTime,
    /// The account paid into, masked (`****7890`); `None` for entries recorded before it was kept.
    pub paid_to: Option<String>,
    /// The SHA-256 of the account's full number.
    pub paid_to_sha256: Option<String>,
}

pub struct NewDisbursement<'a> {
    pub application_id: i64,
    pub kind: &'a str,
    pub amount_fen: i64,
    pub paid_on: NaiveDate,
    pub voucher_no: Option<&'a str>,
    pub note: Option<&'a str>,
    pub reverses_id: Option<i64>,
    pub recorded_by: i64,
    pub paid_to: Option<&'a str>,
    pub paid_to_sha256: Option<&'a str>,
}

pub fn insert(conn: &mut DbConnection, entry: &NewDisbursement<'_>, now: NaiveDateTime) -> Result<DisbursementRow> {
    Ok(diesel::insert_into(disbursements::table)
        .values((
            disbursements::application_id.eq(entry.application_id),
            disbursements::kind.eq(entry.kind),
            disbursements::amount_fen.eq(entry.amount_fen),
            disbursements::paid_on.eq(entry.paid_on),
            disbursements::voucher_no.eq(entry.voucher_no),
            disbursements::note.eq(entry.note),
            disbursements::reverses_id.eq(entry.reverses_id),
            disbursements::recorded_by.eq(entry.recorded_by),
            disbursements::created_at.eq(now),
            disbursements::paid_to.eq(entry.paid_to),
            disbursements::paid_to_sha256.eq(entry.paid_to_sha256),
        ))
        .get_result(conn)?)
}

pub fn find(conn: &mut DbConnection, id: i64) -> Result<DisbursementRow> {
    Ok(disbursements::table.find(id).select(DisbursementRow::as_select()).first(conn)?)
}

pub fn voucher_taken(conn: &mut DbConnection, voucher_no: &str) -> Result<bool> {
    Ok(diesel::select(diesel::dsl::exists(disbursements::table.filter(disbursements::voucher_no.eq(voucher_no))))
        .get_result(conn)?)
}

pub fn is_reversed(conn: &mut DbConnection, id: i64) -> Result<bool> {
    Ok(diesel::select(diesel::dsl::exists(disbursements::table.filter(disbursements::reverses_id.eq(id))))
        .get_result(conn)?)
}

pub fn of_application(conn: &mut DbConnection, application_id: i64) -> Result<Vec<DisbursementRow>> {
    Ok(disbursements::table
        .filter(disbursements::application_id.eq(application_id))
        .order(disbursements::id.asc())
        .select(DisbursementRow::as_select())
        .load(conn)?)
}

#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub program_id: Option<i64>,
    pub company_id: Option<i64>,
    pub paid_from: Option<NaiveDate>,
    pub paid_to: Option<NaiveDate>,
}

/// Entries newest first from `start`: up to `limit` + 1 (the extra one tells that more follow), with the total.
pub fn list(
    conn: &mut DbConnection,
    filter: &Filter,
    start: super::Start<i64>,
    limit: i64,
) -> Result<(Vec<DisbursementRow>, i64)> {
    let query = || {
        let mut query = disbursements::table.inner_join(applications::table).into_boxed();
        if let Some(id) = filter.program_id {
            query = query.filter(OfProgram(id));
        }
        if let Some(id) = filter.company_id {
            query = query.filter(applications::company_id.eq(id));
        }
        if let Some(from) = filter.paid_from {
            query = query.filter(disbursements::paid_on.ge(from));
        }
        if let Some(to) = filter.paid_to {
            query = query.filter(disbursements::paid_on.le(to));
        }
        query
    };
    // The whole ledger, or one programme's, is counted by the counters; narrower filters on their indexes.
    let total = if filter.company_id.is_none() && filter.paid_from.is_none() && filter.paid_to.is_none() {
        let mut counts = disbursement_counts::table.select(disbursement_counts::n).into_boxed();
        if let Some(id) = filter.program_id {
            counts = counts.filter(disbursement_counts::program_id.eq(id));
        }
        counts.load::<i64>(conn)?.into_iter().sum()
    } else {
        query().count().get_result(conn)?
    };
    let page = match start {
        super::Start::Offset(offset) => query().offset(offset),
        super::Start::After(id) => query().filter(disbursements::id.lt(id)),
    };
    let rows = page.order(disbursements::id.desc()).limit(limit + 1).select(DisbursementRow::as_select()).load(conn)?;
    Ok((rows, total))
}

/// "This ledger entry pays an application of programme `.0`", checked entry by entry on the application's
/// key, so that one programme's page walks the ledger newest first and stops once it is full. (Written as a
/// join filter, SQLite gathers and sorts the programme's entries first; as `IN`, it lists the programme's
/// applications at every request.) Its text is fixed, so the statement stays prepared.
#[derive(Debug, Clone, Copy, QueryId)]
struct OfProgram(i64);

impl Expression for OfProgram {
    type SqlType = Bool;
}

impl<DB: Backend + HasSqlType<BigInt>> QueryFragment<DB> for OfProgram
where
    i64: ToSql<BigInt, DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        out.push_sql(
            "EXISTS (SELECT 1 FROM applications a WHERE a.id = disbursements.application_id AND a.program_id = ",
        );
        out.push_bind_param::<BigInt, _>(&self.0)?;
        out.push_sql(")");
        Ok(())
    }
}

impl<QS> AppearsOnTable<QS> for OfProgram where disbursements::application_id: AppearsOnTable<QS> {}

impl<QS> SelectableExpression<QS> for OfProgram where disbursements::application_id: SelectableExpression<QS> {}

impl<GroupBy> ValidGrouping<GroupBy> for OfProgram {
    type IsAggregate = is_aggregate::Never;
}

/// Adds a payment to an approved application's paid total with one conditional update, so concurrent
/// payments can never take it past the approved amount; false when it would.
pub fn add_payment(conn: &mut DbConnection, application_id: i64, amount_fen: i64, now: NaiveDateTime) -> Result<bool> {
    let paid = diesel::update(
        applications::table
            .find(application_id)
            .filter(applications::status.eq(Status::Approved.as_str()))
            .filter((applications::disbursed_fen + amount_fen).le(applications::approved_amount_fen.assume_not_null())),
    )
    .set((
        applications::disbursed_fen.eq(applications::disbursed_fen + amount_fen),
        applications::version.eq(applications::version + 1),
        applications::updated_at.eq(now),
    ))
    .execute(conn)?;
    Ok(paid == 1)
}

/// Moves an application from `from` to `to` once its net payments equal the approved amount (the
/// workflow's settle step); false when it is not paid in full or not in `from`.
pub fn settle_if_paid(conn: &mut DbConnection, application_id: i64, from: Status, to: Status) -> Result<bool> {
    let settled = diesel::update(
        applications::table
            .find(application_id)
            .filter(applications::status.eq(from.as_str()))
            .filter(applications::disbursed_fen.nullable().eq(applications::approved_amount_fen)),
    )
    .set(applications::status.eq(to.as_str()))
    .execute(conn)?;
    Ok(settled == 1)
}

/// Takes a reversed payment off the paid total of an approved or settled award.
pub fn take_back(conn: &mut DbConnection, application_id: i64, amount_fen: i64, now: NaiveDateTime) -> Result<()> {
    let taken = diesel::update(
        applications::table
            .find(application_id)
            .filter(applications::status.eq_any([Status::Approved.as_str(), Status::Disbursed.as_str()]))
            .filter(applications::disbursed_fen.ge(amount_fen)),
    )
    .set((
        applications::disbursed_fen.eq(applications::disbursed_fen - amount_fen),
        applications::version.eq(applications::version + 1),
        applications::updated_at.eq(now),
    ))
    .execute(conn)?;
    if taken == 1 {
        Ok(())
    } else {
        Err(Error::inconsistent(format!("application {application_id} has less than {amount_fen} fen paid")))
    }
}

/// Moves an application from `from` to `to` (the workflow's reopen step); false when it is not in `from`.
pub fn reopen(conn: &mut DbConnection, application_id: i64, from: Status, to: Status) -> Result<bool> {
    let reopened =
        diesel::update(applications::table.find(application_id).filter(applications::status.eq(from.as_str())))
            .set(applications::status.eq(to.as_str()))
            .execute(conn)?;
    Ok(reopened == 1)
}

/// Moves money between a programme's reserved and disbursed counters (`amount_fen` negative moves it
/// back), keeping both non-negative.
pub fn move_reserved_to_disbursed(conn: &mut DbConnection, program_id: i64, amount_fen: i64) -> Result<()> {
    let moved = diesel::update(
        programs::table
            .find(program_id)
            .filter(programs::reserved_fen.ge(amount_fen))
            .filter((programs::disbursed_fen + amount_fen).ge(0)),
    )
    .set((
        programs::reserved_fen.eq(programs::reserved_fen - amount_fen),
        programs::disbursed_fen.eq(programs::disbursed_fen + amount_fen),
    ))
    .execute(conn)?;
    if moved == 1 {
        Ok(())
    } else {
        Err(Error::inconsistent(format!("programme {program_id} cannot move {amount_fen} fen")))
    }
}

/// An approved award not yet paid in full, as finance's work queue shows it.
#[derive(Debug, Clone, Queryable)]
pub struct AwaitingPayment {
    pub application_id: i64,
    pub reference_no: Option<String>,
    pub program_code: String,
    pub company_name: String,
    pub approved_amount_fen: Option<i64>,
    pub disbursed_fen: i64,
    pub payment_due_on: Option<NaiveDate>,
}

/// Approved awards not paid in full, soonest due first, so the overdue ones lead: up to `limit`.
pub fn awaiting_payment(conn: &mut DbConnection, limit: i64) -> Result<Vec<AwaitingPayment>> {
    use super::schema::companies;
    Ok(applications::table
        .inner_join(programs::table)
        .inner_join(companies::table)
        .filter(applications::status.eq(Status::Approved.as_str()))
        .filter(applications::approved_amount_fen.gt(applications::disbursed_fen.nullable()))
        .order((applications::payment_due_on.asc(), applications::id.asc()))
        .select((
            applications::id,
            applications::reference_no,
            programs::code,
            companies::name,
            applications::approved_amount_fen,
            applications::disbursed_fen,
            applications::payment_due_on,
        ))
        .limit(limit)
        .load(conn)?)
}
