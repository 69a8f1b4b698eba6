//! Programmes and their budget counters.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConnection;
use super::schema::programs;
use crate::db::error::{Error, Result};
use crate::db::types::{JsonText, damaged_row, first_damaged};
use crate::domain::eligibility::Rule;
use crate::domain::program::{Category, FormField, Guide, Material, ProgramStatus};

/// A programme as stored: the one shape every part of the service reads. The structured parts are JSON
/// in their columns and the enums their text; a stored value that does not parse is [`Error::Damaged`].
/// Inserting skips the id; an update changes what an administrator writes and `updated_at`, never the
/// status, the budget counters or the reference sequence.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = programs, treat_none_as_null = true)]
pub struct Program {
    #[diesel(skip_insertion)]
    pub id: i64,
    pub code: String,
    pub title: String,
    pub category: Category,
    pub summary: String,
    #[diesel(deserialize_as = JsonText<Guide>, serialize_as = JsonText<Guide>)]
    pub guide: Guide,
    pub opens_at: NaiveDateTime,
    pub closes_at: NaiveDateTime,
    pub budget_fen: i64,
    #[diesel(skip_update)]
    pub reserved_fen: i64,
    #[diesel(skip_update)]
    pub disbursed_fen: i64,
    pub max_award_fen: i64,
    pub public_notice_days: i32,
    pub payment_due_days: i32,
    pub correction_days: i32,
    pub min_expert_reviews: i32,
    pub max_total_upload_bytes: i64,
    #[diesel(column_name = eligibility_rules)]
    #[diesel(deserialize_as = JsonText<Vec<Rule>>, serialize_as = JsonText<Vec<Rule>>)]
    pub rules: Vec<Rule>,
    #[diesel(column_name = required_materials)]
    #[diesel(deserialize_as = JsonText<Vec<Material>>, serialize_as = JsonText<Vec<Material>>)]
    pub materials: Vec<Material>,
    #[diesel(column_name = form_fields)]
    #[diesel(deserialize_as = JsonText<Vec<FormField>>, serialize_as = JsonText<Vec<FormField>>)]
    pub fields: Vec<FormField>,
    #[diesel(skip_update)]
    pub status: ProgramStatus,
    #[diesel(skip_update)]
    pub last_reference_seq: i64,
    #[diesel(skip_update)]
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub support_family: Option<String>,
    pub max_support_ratio_percent: Option<i32>,
}

pub fn insert(conn: &mut DbConnection, program: Program) -> Result<Program> {
    let id = diesel::insert_into(programs::table).values(program).returning(programs::id).get_result(conn)?;
    find(conn, id)
}

pub fn code_taken(conn: &mut DbConnection, code: &str, other_than: Option<i64>) -> Result<bool> {
    let same_code = programs::table.filter(programs::code.eq(code)).filter(programs::id.ne(other_than.unwrap_or(0)));
    Ok(diesel::select(diesel::dsl::exists(same_code)).get_result(conn)?)
}

pub fn find(conn: &mut DbConnection, id: i64) -> Result<Program> {
    programs::table.find(id).select(Program::as_select()).first(conn).map_err(damaged_row("programs", id))
}

/// Saves `program` (as it was read at `read_at`, with the changes made since) only if it is still in
/// `status` and unchanged since.
pub fn update(
    conn: &mut DbConnection,
    program: Program,
    status: ProgramStatus,
    read_at: NaiveDateTime,
) -> Result<bool> {
    let saved = diesel::update(
        programs::table.find(program.id).filter(programs::status.eq(status)).filter(programs::updated_at.eq(read_at)),
    )
    .set(program)
    .execute(conn)?;
    Ok(saved == 1)
}

/// Moves the programme from `from` to `to`; false if it was not in `from`.
pub fn set_status(
    conn: &mut DbConnection,
    id: i64,
    from: ProgramStatus,
    to: ProgramStatus,
    now: NaiveDateTime,
) -> Result<bool> {
    let moved = diesel::update(programs::table.find(id).filter(programs::status.eq(from)))
        .set((programs::status.eq(to), programs::updated_at.eq(now)))
        .execute(conn)?;
    Ok(moved == 1)
}

#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub statuses: Vec<ProgramStatus>,
    pub category: Option<Category>,
    /// Only programmes whose window contains this instant.
    pub open_at: Option<NaiveDateTime>,
    /// Only programmes whose window does not contain this instant.
    pub closed_at: Option<NaiveDateTime>,
}

/// Programmes soonest closing first, from `start` (keyed by the closing time and the id): up to `limit` + 1
/// (the extra one tells that more follow), with the total.
pub fn list(
    conn: &mut DbConnection,
    filter: &Filter,
    start: super::Start<(NaiveDateTime, i64)>,
    limit: i64,
) -> Result<(Vec<Program>, i64)> {
    let query = || {
        let mut query = programs::table.filter(programs::status.eq_any(filter.statuses.clone())).into_boxed();
        if let Some(category) = filter.category {
            query = query.filter(programs::category.eq(category));
        }
        if let Some(now) = filter.open_at {
            query = query.filter(programs::opens_at.le(now)).filter(programs::closes_at.gt(now));
        }
        if let Some(now) = filter.closed_at {
            query = query.filter(programs::opens_at.gt(now).or(programs::closes_at.le(now)));
        }
        query
    };
    let total = query().count().get_result(conn)?;
    let page = || {
        let query = match start {
            super::Start::Offset(offset) => query().offset(offset),
            super::Start::After((closes_at, id)) => query().filter(
                programs::closes_at.gt(closes_at).or(programs::closes_at.eq(closes_at).and(programs::id.gt(id))),
            ),
        };
        query.order((programs::closes_at.asc(), programs::id.asc())).limit(limit + 1)
    };
    let rows = page().select(Program::as_select()).load(conn).map_err(|error| {
        first_damaged(error, "programs", || {
            let ids: Vec<i64> = page().select(programs::id).load(conn)?;
            ids.into_iter().try_for_each(|id| find(conn, id).map(drop))
        })
    })?;
    Ok((rows, total))
}

/// Takes the next reference number of a programme. The increment takes the row's write lock, so
/// concurrent submissions get distinct, consecutive numbers.
pub fn next_reference_seq(conn: &mut DbConnection, id: i64) -> Result<i64> {
    Ok(diesel::update(programs::table.find(id))
        .set(programs::last_reference_seq.eq(programs::last_reference_seq + 1))
        .returning(programs::last_reference_seq)
        .get_result(conn)?)
}

/// Reserves `amount_fen` of the budget with one conditional update, so concurrent reservations can
/// never take `reserved + disbursed` past the budget; false when it does not fit.
pub fn reserve(conn: &mut DbConnection, id: i64, amount_fen: i64) -> Result<bool> {
    let reserved = diesel::update(
        programs::table
            .find(id)
            .filter((programs::reserved_fen + programs::disbursed_fen + amount_fen).le(programs::budget_fen)),
    )
    .set(programs::reserved_fen.eq(programs::reserved_fen + amount_fen))
    .execute(conn)?;
    Ok(reserved == 1)
}

/// Gives a reservation back to the budget.
pub fn release(conn: &mut DbConnection, id: i64, amount_fen: i64) -> Result<()> {
    let released = diesel::update(programs::table.find(id).filter(programs::reserved_fen.ge(amount_fen)))
        .set(programs::reserved_fen.eq(programs::reserved_fen - amount_fen))
        .execute(conn)?;
    if released == 1 {
        Ok(())
    } else {
        Err(Error::inconsistent(format!("programme {id} has less than {amount_fen} fen reserved")))
    }
}

/// The budget not yet reserved or paid.
pub fn available(conn: &mut DbConnection, id: i64) -> Result<i64> {
    let (budget, reserved, disbursed): (i64, i64, i64) = programs::table
        .find(id)
        .select((programs::budget_fen, programs::reserved_fen, programs::disbursed_fen))
        .first(conn)?;
    Ok(budget - reserved - disbursed)
}
