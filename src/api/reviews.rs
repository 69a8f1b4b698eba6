//! Expert review and the timeline: who may see what of an application's review.

use actix_web::{get, web};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::api::session::SignedIn;
use crate::app::applications::find_visible;
use crate::db::applications::ApplicationRecord;
use crate::db::{Db, DbConnection, audit, reviews, users};
use crate::domain::role::Role;
use crate::domain::time;
use crate::domain::workflow::ExpertStanding;
use crate::error::ApiError;
use crate::i18n::Text;

/// An expert sees an application's content and files only after declaring no conflict of interest.
pub fn require_full_view(conn: &mut DbConnection, user: &SignedIn, record: &ApplicationRecord) -> Result<(), ApiError> {
    if user.role != Role::Expert {
        return Ok(());
    }
    match reviews::standing(conn, record.application.id, user.user_id)? {
        ExpertStanding::Cleared { .. } => Ok(()),
        ExpertStanding::Recused => Err(ApiError::Forbidden {
            code: "recused",
            detail: Text::new(
                "您已声明存在利益冲突并回避，不能查看申报内容。",
                "You declared a conflict of interest and are recused.",
            ),
        }),
        ExpertStanding::Undeclared | ExpertStanding::NotAssigned => Err(ApiError::Forbidden {
            code: "declaration_required",
            detail: Text::new(
                "请先声明与申报单位无利益冲突，然后才能查看申报内容。",
                "Declare that you have no conflict of interest before reading the application.",
            ),
        }),
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReviewView {
    pub expert_id: i64,
    pub expert_name: String,
    /// Drawn at random rather than named.
    pub drawn: bool,
    pub assigned_at: DateTime<Utc>,
    pub declared_at: Option<DateTime<Utc>>,
    pub conflict_of_interest: Option<bool>,
    pub statement: Option<String>,
    pub score: Option<i32>,
    pub opinion: Option<String>,
    pub scored_at: Option<DateTime<Utc>>,
}

/// The experts on an application, their declarations and their scores (reviewers and admins).
#[utoipa::path(tag = "applications", security(("bearer" = [])), params(("id" = i64, Path, description = "application id")),
    responses((status = 200, description = "the reviews", body = Vec<ReviewView>)))]
#[get("/applications/{id}/reviews")]
pub async fn list_reviews(
    user: SignedIn,
    db: web::Data<Db>,
    id: web::Path<i64>,
) -> Result<web::Json<Vec<ReviewView>>, ApiError> {
    user.require(&[Role::Reviewer, Role::Admin])?;
    let id = id.into_inner();
    let reviews = db
        .read(move |conn| {
            find_visible(conn, &user, id)?;
            let mut views = Vec::new();
            for a in reviews::assignments(conn, id)? {
                views.push(ReviewView {
                    expert_name: users::find(conn, a.expert_id)?.display_name,
                    expert_id: a.expert_id,
                    drawn: a.drawn,
                    assigned_at: time::to_utc(a.assigned_at),
                    declared_at: a.declared_at.map(time::to_utc),
                    conflict_of_interest: a.conflict_of_interest,
                    statement: a.statement,
                    score: a.score,
                    opinion: a.opinion,
                    scored_at: a.scored_at.map(time::to_utc),
                });
            }
            Ok::<_, ApiError>(views)
        })
        .await?;
    Ok(web::Json(reviews))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EventView {
    pub seq: i64,
    pub occurred_at: DateTime<Utc>,
    pub action: String,
    pub from: Option<String>,
    pub to: Option<String>,
    /// A reason or comment addressed to the company (a return, a rejection).
    pub comment: Option<String>,
    /// Staff only: who acted.
    pub actor_id: Option<i64>,
    pub actor_role: Option<String>,
    /// Staff only: the full record of the event.
    #[schema(value_type = Option<Object>)]
    pub details: Option<Value>,
}

/// What a company (or an expert) sees of the review: decisions and what was said to the company, never
/// who the experts are or what they scored.
const PUBLIC_ACTIONS: [&str; 10] = [
    "application.create",
    "application.update",
    "application.attachment_upload",
    "application.attachment_delete",
    "application.submit",
    "application.withdraw",
    "application.return",
    "application.accept",
    "application.propose",
    "application.approve",
];

/// The application's timeline.
#[utoipa::path(tag = "applications", security(("bearer" = [])), params(("id" = i64, Path, description = "application id")),
    responses((status = 200, description = "the timeline, oldest first", body = Vec<EventView>)))]
#[get("/applications/{id}/events")]
pub async fn list_events(
    user: SignedIn,
    db: web::Data<Db>,
    id: web::Path<i64>,
) -> Result<web::Json<Vec<EventView>>, ApiError> {
    let id = id.into_inner();
    let staff = matches!(user.role, Role::Reviewer | Role::Finance | Role::Admin);
    let rows = db
        .read(move |conn| {
            find_visible(conn, &user, id)?;
            Ok::<_, ApiError>(audit::of_object(conn, "application", id)?)
        })
        .await?;
    let events = rows
        .into_iter()
        .filter(|row| staff || PUBLIC_ACTIONS.contains(&row.action.as_str()) || row.action == "application.reject")
        .map(|row| {
            let summary: Value = serde_json::from_str(&row.summary).unwrap_or(Value::Null);
            let text = |key: &str| summary.get(key).and_then(Value::as_str).map(ToOwned::to_owned);
            let addressed =
                matches!(row.action.as_str(), "application.return" | "application.reject" | "application.approve");
            EventView {
                seq: row.seq,
                occurred_at: time::to_utc(row.occurred_at),
                from: text("from"),
                to: text("to"),
                comment: if addressed || staff { text("comment") } else { None },
                actor_id: if staff { row.actor_id } else { None },
                actor_role: if staff { row.actor_role } else { None },
                details: staff.then_some(summary),
                action: row.action,
            }
        })
        .collect();
    Ok(web::Json(events))
}
