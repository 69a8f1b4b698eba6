//! Expert reviews: assignments, declarations of conflict of interest, and scores.

use diesel::prelude::*;

use super::DbConnection;
use super::on_backend;
use super::schema::{expert_assignments, expert_review_counts};
use crate::db::error::Result;

/// The applications `expert_id` is assigned to, as a subquery for filters.
pub fn assigned_to(
    expert_id: i64,
) -> diesel::dsl::Select<
    diesel::dsl::Filter<expert_assignments::table, diesel::dsl::Eq<expert_assignments::expert_id, i64>>,
    expert_assignments::application_id,
> {
    expert_assignments::table
        .filter(expert_assignments::expert_id.eq(expert_id))
        .select(expert_assignments::application_id)
}

pub fn is_assigned(conn: &mut DbConnection, application_id: i64, expert_id: i64) -> Result<bool> {
    Ok(diesel::select(diesel::dsl::exists(
        expert_assignments::table
            .filter(expert_assignments::application_id.eq(application_id))
            .filter(expert_assignments::expert_id.eq(expert_id)),
    ))
    .get_result(conn)?)
}

/// One expert's assignment: application, expert, conflict of interest declared (none yet), score.
pub type Assignment = (i64, i64, Option<bool>, Option<i32>);

/// The assignments of all of `application_ids`, in one query.
pub fn of_applications(conn: &mut DbConnection, application_ids: &[i64]) -> Result<Vec<Assignment>> {
    Ok(on_backend!(conn, inner => expert_assignments::table
        .filter(expert_assignments::application_id.eq_any(application_ids))
        .select((
            expert_assignments::application_id,
            expert_assignments::expert_id,
            expert_assignments::conflict_of_interest,
            expert_assignments::score,
        ))
        .load(inner))?)
}

/// An expert's assignment to one application, if any: their declaration (none yet) and whether they
/// have scored.
pub fn declaration(
    conn: &mut DbConnection,
    application_id: i64,
    expert_id: i64,
) -> Result<Option<(Option<bool>, bool)>> {
    let row: Option<(Option<bool>, Option<i32>)> = expert_assignments::table
        .filter(expert_assignments::application_id.eq(application_id))
        .filter(expert_assignments::expert_id.eq(expert_id))
        .select((expert_assignments::conflict_of_interest, expert_assignments::score))
        .first(conn)
        .optional()?;
    Ok(row.map(|(declared, score)| (declared, score.is_some())))
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = expert_assignments)]
pub struct AssignmentRow {
    pub id: i64,
    pub application_id: i64,
    pub expert_id: i64,
    pub assigned_by: i64,
    pub drawn: bool,
    pub assigned_at: chrono::NaiveDateTime,
    pub declared_at: Option<chrono::NaiveDateTime>,
    pub conflict_of_interest: Option<bool>,
    pub statement: Option<String>,
    pub score: Option<i32>,
    pub opinion: Option<String>,
    pub scored_at: Option<chrono::NaiveDateTime>,
}

pub fn assignments(conn: &mut DbConnection, application_id: i64) -> Result<Vec<AssignmentRow>> {
    Ok(expert_assignments::table
        .filter(expert_assignments::application_id.eq(application_id))
        .order(expert_assignments::id.asc())
        .select(AssignmentRow::as_select())
        .load(conn)?)
}

pub fn assign(
    conn: &mut DbConnection,
    application_id: i64,
    expert_id: i64,
    assigned_by: i64,
    drawn: bool,
    now: chrono::NaiveDateTime,
) -> Result<()> {
    diesel::insert_into(expert_assignments::table)
        .values((
            expert_assignments::application_id.eq(application_id),
            expert_assignments::expert_id.eq(expert_id),
            expert_assignments::assigned_by.eq(assigned_by),
            expert_assignments::drawn.eq(drawn),
            expert_assignments::assigned_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

/// Records an expert's declaration, once; false if they had declared already.
pub fn declare(
    conn: &mut DbConnection,
    application_id: i64,
    expert_id: i64,
    conflict: bool,
    statement: Option<&str>,
    now: chrono::NaiveDateTime,
) -> Result<bool> {
    let declared = diesel::update(
        expert_assignments::table
            .filter(expert_assignments::application_id.eq(application_id))
            .filter(expert_assignments::expert_id.eq(expert_id))
            .filter(expert_assignments::declared_at.is_null()),
    )
    .set((
        expert_assignments::declared_at.eq(now),
        expert_assignments::conflict_of_interest.eq(conflict),
        expert_assignments::statement.eq(statement),
    ))
    .execute(conn)?;
    Ok(declared == 1)
}

/// Records an expert's score, once, and only after declaring no conflict; false otherwise.
pub fn score(
    conn: &mut DbConnection,
    application_id: i64,
    expert_id: i64,
    score: i32,
    opinion: &str,
    now: chrono::NaiveDateTime,
) -> Result<bool> {
    let scored = diesel::update(
        expert_assignments::table
            .filter(expert_assignments::application_id.eq(application_id))
            .filter(expert_assignments::expert_id.eq(expert_id))
            .filter(expert_assignments::conflict_of_interest.eq(false))
            .filter(expert_assignments::score.is_null()),
    )
    .set((
        expert_assignments::score.eq(score),
        expert_assignments::opinion.eq(opinion),
        expert_assignments::scored_at.eq(now),
    ))
    .execute(conn)?;
    Ok(scored == 1)
}

/// Takes the row locks of the programme's counts of applications in expert review, in key order, until the
/// transaction ends. A batch moving many applications out of review holds the audit chain's head from its
/// first move on; locked up front, it never waits for a counter that a scorer holds while waiting for that
/// head. (SQLite's write transaction holds every lock already.)
pub fn lock_review_counts(conn: &mut DbConnection, program_id: i64) -> Result<()> {
    if let DbConnection::Postgres(postgres) = conn {
        expert_review_counts::table
            .filter(expert_review_counts::program_id.eq(program_id))
            .order(expert_review_counts::scores.asc())
            .select(expert_review_counts::scores)
            .for_update()
            .load::<i32>(postgres)?;
    }
    Ok(())
}
