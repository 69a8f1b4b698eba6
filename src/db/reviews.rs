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
