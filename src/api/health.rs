//! Liveness and readiness, for load balancers and orchestrators.

use actix_web::get;
use serde::Serialize;
use utoipa::ToSchema;

use crate::db::Db;
use crate::error::{ApiError, Problem};

#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// Always `ok` when the answer is 200.
    #[schema(example = "ok")]
    pub status: &'static str,
}

/// The process is running.
#[utoipa::path(tag = "service", responses((status = 200, description = "the process runs", body = Health)))]
#[get("/health/live")]
pub async fn live() -> actix_web::web::Json<Health> {
    actix_web::web::Json(Health { status: "ok" })
}

/// The database answers; 503 `unavailable` while it does not.
#[utoipa::path(tag = "service", responses(
    (status = 200, description = "the database answers", body = Health),
    (status = 503, description = "the database does not answer", body = Problem, content_type = "application/problem+json"),
))]
#[get("/health/ready")]
pub async fn ready(db: actix_web::web::Data<Db>) -> Result<actix_web::web::Json<Health>, ApiError> {
    db.answers().await?;
    Ok(actix_web::web::Json(Health { status: "ok" }))
}
