//! Accounts: the caller's own, and (for admins) everyone's.

use actix_web::{get, web};
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::api::session::SignedIn;
use crate::db::Db;
use crate::db::users::{self, UserRow};
use crate::domain::role::{Role, UserStatus};
use crate::domain::time;
use crate::error::{ApiError, Problem};

#[derive(Debug, Serialize, ToSchema)]
pub struct UserView {
    pub id: i64,
    pub email: String,
    pub display_name: String,
    pub role: Role,
    pub status: UserStatus,
    pub email_verified: bool,
    pub company_id: Option<i64>,
    pub created_at: DateTime<Utc>,
}

impl TryFrom<UserRow> for UserView {
    type Error = ApiError;

    fn try_from(row: UserRow) -> Result<Self, ApiError> {
        Ok(Self {
            role: row.role()?,
            status: row.status()?,
            id: row.id,
            email: row.email,
            display_name: row.display_name,
            email_verified: row.email_verified_at.is_some(),
            company_id: row.company_id,
            created_at: time::to_utc(row.created_at),
        })
    }
}

/// The signed-in user.
#[utoipa::path(tag = "users", security(("bearer" = [])), responses(
    (status = 200, description = "the signed-in user", body = UserView),
    (status = 401, description = "`unauthenticated`", body = Problem, content_type = "application/problem+json"),
))]
#[get("/me")]
pub async fn me(user: SignedIn, db: web::Data<Db>) -> Result<web::Json<UserView>, ApiError> {
    let row = db.read(move |conn| users::find(conn, user.user_id)).await?;
    Ok(web::Json(row.try_into()?))
}

/// One account (admin).
#[utoipa::path(tag = "users", security(("bearer" = [])), params(("id" = i64, Path, description = "user id")), responses(
    (status = 200, description = "the user", body = UserView),
    (status = 400, description = "the id is not a number", body = Problem, content_type = "application/problem+json"),
    (status = 401, description = "`unauthenticated`", body = Problem, content_type = "application/problem+json"),
    (status = 403, description = "`forbidden`: admins only", body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "`not_found`", body = Problem, content_type = "application/problem+json"),
))]
#[get("/users/{id}")]
pub async fn get_user(user: SignedIn, db: web::Data<Db>, id: web::Path<i64>) -> Result<web::Json<UserView>, ApiError> {
    user.require(&[Role::Admin])?;
    let id = id.into_inner();
    let row = db.read(move |conn| users::find(conn, id)).await?;
    Ok(web::Json(row.try_into()?))
}
