//! Expert assignments, declarations and scores.

use chrono::NaiveDate;
use diesel::prelude::*;

use super::DbConnection;
use super::schema::{expert_assignments, objections, programs};
use crate::domain::workflow::{Context, ExpertStanding, Notice};
use crate::error::ApiError;

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

pub fn is_assigned(conn: &mut DbConnection, application_id: i64, expert_id: i64) -> Result<bool, ApiError> {
    Ok(diesel::select(diesel::dsl::exists(
        expert_assignments::table
            .filter(expert_assignments::application_id.eq(application_id))
            .filter(expert_assignments::expert_id.eq(expert_id)),
    ))
    .get_result(conn)?)
}

/// The workflow context an application's reviews give: the caller's standing as an expert, the scores
/// in, and where the public notice stands.
pub fn context(
    conn: &mut DbConnection,
    application_id: i64,
    program_id: i64,
    notice_ends_on: Option<NaiveDate>,
    viewer_id: i64,
    today: NaiveDate,
) -> Result<Context, ApiError> {
    let assignments: Vec<(i64, Option<bool>, Option<i32>)> = expert_assignments::table
        .filter(expert_assignments::application_id.eq(application_id))
        .select((expert_assignments::expert_id, expert_assignments::conflict_of_interest, expert_assignments::score))
        .load(conn)?;
    let expert = assignments.iter().find(|(id, ..)| *id == viewer_id).map_or(
        ExpertStanding::NotAssigned,
        |(_, conflict, score)| match conflict {
            None => ExpertStanding::Undeclared,
            Some(true) => ExpertStanding::Recused,
            Some(false) => ExpertStanding::Cleared { scored: score.is_some() },
        },
    );
    let scores = i32::try_from(assignments.iter().filter(|(_, _, score)| score.is_some()).count()).unwrap_or(i32::MAX);
    let (min_scores, notice_days): (i32, i32) = programs::table
        .find(program_id)
        .select((programs::min_expert_reviews, programs::public_notice_days))
        .first(conn)?;
    // A notice runs to the end of its last day; a programme without a notice period has none to wait for.
    let notice = match notice_ends_on {
        Some(ends) if ends < today || notice_days == 0 => {
            let (open, upheld): (i64, i64) = objections::table
                .filter(objections::application_id.eq(application_id))
                .select((
                    diesel::dsl::sql::<diesel::sql_types::BigInt>("CAST(COUNT(*) - COUNT(resolved_at) AS BIGINT)"),
                    diesel::dsl::sql::<diesel::sql_types::BigInt>(
                        "CAST(COALESCE(SUM(CASE WHEN upheld THEN 1 ELSE 0 END), 0) AS BIGINT)",
                    ),
                ))
                .first(conn)?;
            match (open, upheld) {
                (0, 0) => Notice::Settled,
                (0, _) => Notice::ObjectionUpheld,
                _ => Notice::ObjectionsOpen,
            }
        }
        _ => Notice::Running,
    };
    Ok(Context { own_company: false, expert, scores, min_scores, notice })
}

/// An expert's standing on one application.
pub fn standing(conn: &mut DbConnection, application_id: i64, expert_id: i64) -> Result<ExpertStanding, ApiError> {
    let row: Option<(Option<bool>, Option<i32>)> = expert_assignments::table
        .filter(expert_assignments::application_id.eq(application_id))
        .filter(expert_assignments::expert_id.eq(expert_id))
        .select((expert_assignments::conflict_of_interest, expert_assignments::score))
        .first(conn)
        .optional()?;
    Ok(match row {
        None => ExpertStanding::NotAssigned,
        Some((None, _)) => ExpertStanding::Undeclared,
        Some((Some(true), _)) => ExpertStanding::Recused,
        Some((Some(false), score)) => ExpertStanding::Cleared { scored: score.is_some() },
    })
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

pub fn assignments(conn: &mut DbConnection, application_id: i64) -> Result<Vec<AssignmentRow>, ApiError> {
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
) -> Result<(), ApiError> {
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
) -> Result<bool, ApiError> {
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
) -> Result<bool, ApiError> {
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

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = objections)]
pub struct ObjectionRow {
    pub id: i64,
    pub application_id: i64,
    pub name: String,
    pub contact: String,
    pub organization: Option<String>,
    pub content: String,
    pub created_at: chrono::NaiveDateTime,
    pub resolved_at: Option<chrono::NaiveDateTime>,
    pub resolved_by: Option<i64>,
    pub upheld: Option<bool>,
    pub resolution_comment: Option<String>,
}

pub struct NewObjection<'a> {
    pub application_id: i64,
    pub name: &'a str,
    pub contact: &'a str,
    pub organization: Option<&'a str>,
    pub content: &'a str,
}

pub fn lodge(
    conn: &mut DbConnection,
    objection: &NewObjection<'_>,
    now: chrono::NaiveDateTime,
) -> Result<ObjectionRow, ApiError> {
    Ok(diesel::insert_into(objections::table)
        .values((
            objections::application_id.eq(objection.application_id),
            objections::name.eq(objection.name),
            objections::contact.eq(objection.contact),
            objections::organization.eq(objection.organization),
            objections::content.eq(objection.content),
            objections::created_at.eq(now),
        ))
        .get_result(conn)?)
}

pub fn objections_of(conn: &mut DbConnection, application_id: i64) -> Result<Vec<ObjectionRow>, ApiError> {
    Ok(objections::table
        .filter(objections::application_id.eq(application_id))
        .order(objections::id.asc())
        .select(ObjectionRow::as_select())
        .load(conn)?)
}

/// Resolves an open objection; false if it does not exist or was resolved already.
pub fn resolve(
    conn: &mut DbConnection,
    application_id: i64,
    id: i64,
    resolved_by: i64,
    upheld: bool,
    comment: &str,
    now: chrono::NaiveDateTime,
) -> Result<bool, ApiError> {
    let resolved = diesel::update(
        objections::table
            .find(id)
            .filter(objections::application_id.eq(application_id))
            .filter(objections::resolved_at.is_null()),
    )
    .set((
        objections::resolved_at.eq(now),
        objections::resolved_by.eq(resolved_by),
        objections::upheld.eq(upheld),
        objections::resolution_comment.eq(comment),
    ))
    .execute(conn)?;
    Ok(resolved == 1)
}
