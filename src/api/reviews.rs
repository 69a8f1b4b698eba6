//! Expert review and the timeline, as the use cases let each caller see them.

use actix_web::{get, web};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::api::session::SignedIn;
use crate::app::reviews::{self, Review, TimelineEvent};
use crate::db::Db;
use crate::domain::time;
use crate::error::ApiError;

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

impl From<Review> for ReviewView {
    fn from(review: Review) -> Self {
        let a = review.assignment;
        Self {
            expert_id: a.expert_id,
            expert_name: review.expert_name,
            drawn: a.drawn,
            assigned_at: time::to_utc(a.assigned_at),
            declared_at: a.declared_at.map(time::to_utc),
            conflict_of_interest: a.conflict_of_interest,
            statement: a.statement,
            score: a.score,
            opinion: a.opinion,
            scored_at: a.scored_at.map(time::to_utc),
        }
    }
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
    let reviews = reviews::list(&db, &user, id.into_inner()).await?;
    Ok(web::Json(reviews.into_iter().map(Into::into).collect()))
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

impl From<TimelineEvent> for EventView {
    fn from(event: TimelineEvent) -> Self {
        let seen = event.seen;
        Self {
            seq: event.seq,
            occurred_at: time::to_utc(event.occurred_at),
            action: seen.action,
            from: seen.from,
            to: seen.to,
            comment: seen.comment,
            actor_id: seen.actor_id,
            actor_role: seen.actor_role,
            details: seen.details,
        }
    }
}

/// The application's timeline.
#[utoipa::path(tag = "applications", security(("bearer" = [])), params(("id" = i64, Path, description = "application id")),
    responses((status = 200, description = "the timeline, oldest first", body = Vec<EventView>)))]
#[get("/applications/{id}/events")]
pub async fn list_events(
    user: SignedIn,
    db: web::Data<Db>,
    id: web::Path<i64>,
) -> Result<web::Json<Vec<EventView>>, ApiError> {
    let events = reviews::timeline(&db, &user, id.into_inner()).await?;
    Ok(web::Json(events.into_iter().map(Into::into).collect()))
}
