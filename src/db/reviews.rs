//! Expert assignments, declarations and scores.

use std::collections::HashMap;

use chrono::NaiveDate;
use diesel::prelude::*;

use super::DbConnection;
use super::on_backend;
use super::schema::{expert_assignments, objections};
use crate::db::error::Result;
use crate::domain::workflow::{Context, ExpertStanding, Notice};

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

/// An application as its workflow context needs it.
#[derive(Debug, Clone, Copy)]
pub struct Reviewed {
    pub application_id: i64,
    pub company_id: i64,
    pub notice_ends_on: Option<NaiveDate>,
    /// The programme's settings.
    pub min_expert_reviews: i32,
    pub public_notice_days: i32,
}

/// Who is looking: a user, and the company they act for if any.
#[derive(Debug, Clone, Copy)]
pub struct Viewer {
    pub user_id: i64,
    pub company_id: Option<i64>,
}

/// One expert's assignment: application, expert, conflict of interest declared (none yet), score.
pub type Assignment = (i64, i64, Option<bool>, Option<i32>);

/// The workflow context each application's reviews give: the caller's standing as an expert, the scores
/// in, and where the public notice stands; in at most two queries, whatever their number.
pub fn contexts(
    conn: &mut DbConnection,
    applications: &[Reviewed],
    viewer: Viewer,
    today: NaiveDate,
) -> Result<HashMap<i64, Context>> {
    let ids: Vec<i64> = applications.iter().map(|a| a.application_id).collect();
    let assignments: Vec<Assignment> = on_backend!(conn, inner => expert_assignments::table
        .filter(expert_assignments::application_id.eq_any(&ids))
        .select((
            expert_assignments::application_id,
            expert_assignments::expert_id,
            expert_assignments::conflict_of_interest,
            expert_assignments::score,
        ))
        .load(inner))?;
    contexts_given(conn, applications, &assignments, viewer, today)
}

/// [`contexts`] from assignments already read (all of these applications' assignments).
pub fn contexts_given(
    conn: &mut DbConnection,
    applications: &[Reviewed],
    assignments: &[Assignment],
    viewer: Viewer,
    today: NaiveDate,
) -> Result<HashMap<i64, Context>> {
    // A notice runs to the end of its last day; a programme without a notice period has none to wait for.
    let ended = |a: &Reviewed| a.notice_ends_on.is_some_and(|ends| ends < today || a.public_notice_days == 0);
    let ended_ids: Vec<i64> = applications.iter().filter(|a| ended(a)).map(|a| a.application_id).collect();
    let objections: HashMap<i64, (i64, i64)> = if ended_ids.is_empty() {
        HashMap::new()
    } else {
        objections::table
            .filter(objections::application_id.eq_any(&ended_ids))
            .group_by(objections::application_id)
            .select((
                objections::application_id,
                diesel::dsl::sql::<diesel::sql_types::BigInt>("CAST(COUNT(*) - COUNT(resolved_at) AS BIGINT)"),
                diesel::dsl::sql::<diesel::sql_types::BigInt>(
                    "CAST(COALESCE(SUM(CASE WHEN upheld THEN 1 ELSE 0 END), 0) AS BIGINT)",
                ),
            ))
            .load::<(i64, i64, i64)>(conn)?
            .into_iter()
            .map(|(id, open, upheld)| (id, (open, upheld)))
            .collect()
    };
    Ok(applications
        .iter()
        .map(|a| {
            let mine: Vec<_> = assignments.iter().filter(|row| row.0 == a.application_id).collect();
            let expert = mine.iter().find(|row| row.1 == viewer.user_id).map_or(ExpertStanding::NotAssigned, |row| {
                match row.2 {
                    None => ExpertStanding::Undeclared,
                    Some(true) => ExpertStanding::Recused,
                    Some(false) => ExpertStanding::Cleared { scored: row.3.is_some() },
                }
            });
            let scores = i32::try_from(mine.iter().filter(|row| row.3.is_some()).count()).unwrap_or(i32::MAX);
            let notice = if ended(a) {
                match objections.get(&a.application_id).copied().unwrap_or((0, 0)) {
                    (0, 0) => Notice::Settled,
                    (0, _) => Notice::ObjectionUpheld,
                    _ => Notice::ObjectionsOpen,
                }
            } else {
                Notice::Running
            };
            (
                a.application_id,
                Context {
                    own_company: viewer.company_id == Some(a.company_id),
                    expert,
                    scores,
                    min_scores: a.min_expert_reviews,
                    notice,
                },
            )
        })
        .collect())
}

/// An expert's standing on one application.
pub fn standing(conn: &mut DbConnection, application_id: i64, expert_id: i64) -> Result<ExpertStanding> {
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
) -> Result<ObjectionRow> {
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

pub fn objections_of(conn: &mut DbConnection, application_id: i64) -> Result<Vec<ObjectionRow>> {
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
) -> Result<bool> {
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
