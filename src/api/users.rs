//! Accounts: the caller's own, and (for admins) the park's staff.

use actix_web::http::StatusCode;
use actix_web::{get, patch, post, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::api::extract::{Json, Query};
use crate::api::pagination::Page;
use crate::api::session::SignedIn;
use crate::app::companies::CompanyView;
use crate::app::users::{self, NewStaff, UserFilter, UserView};
use crate::config::PortalSettings;
use crate::db::Db;
use crate::domain::role::{Role, UserStatus};
use crate::domain::validation::{Choice, form_errors, not_blank};
use crate::error::ApiError;

/// The signed-in user, with `company` for applicants.
#[derive(Debug, Serialize, ToSchema)]
pub struct MeView {
    #[serde(flatten)]
    pub user: UserView,
    pub company: Option<CompanyView>,
}

/// The signed-in user.
#[utoipa::path(tag = "users", security(("bearer" = [])), responses((status = 200, description = "the signed-in user", body = MeView)))]
#[get("/me")]
pub async fn me(user: SignedIn, db: web::Data<Db>) -> Result<web::Json<MeView>, ApiError> {
    let me = users::me(&db, &user).await?;
    Ok(web::Json(MeView { user: me.user, company: me.company }))
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewStaffRequest {
    pub email: String,
    #[validate(custom(function = not_blank), length(max = 50))]
    #[schema(pattern = r"\S", min_length = 1, max_length = 50)]
    pub display_name: String,
    /// reviewer, expert, finance or admin; company accounts register themselves.
    #[schema(value_type = Role)]
    pub role: Choice<Role>,
}

/// Creates a staff account; an invitation email lets its owner choose a password.
#[utoipa::path(tag = "users", security(("bearer" = [])), request_body = NewStaffRequest, responses(
    (status = 201, description = "created and invited", body = UserView),
    (status = 409, description = "`email_taken`", body = crate::error::Problem, content_type = "application/problem+json"),
))]
#[post("/users")]
pub async fn create_user(
    user: SignedIn,
    db: web::Data<Db>,
    portal: web::Data<PortalSettings>,
    body: Json<NewStaffRequest>,
) -> Result<(web::Json<UserView>, StatusCode), ApiError> {
    let request = body.into_inner();
    let form_errors = form_errors(&request);
    let input = NewStaff { email: request.email, display_name: request.display_name, role: request.role, form_errors };
    let created = users::create_staff(&db, &portal, &user, input).await?;
    Ok((web::Json(created), StatusCode::CREATED))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct UserQuery {
    pub role: Option<Role>,
    pub status: Option<UserStatus>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
    /// The `next_cursor` of the page before: the page after it (`page` is then ignored).
    pub after: Option<String>,
}

/// Every account, filtered by role and status, newest first.
#[utoipa::path(tag = "users", security(("bearer" = [])), params(UserQuery),
    responses((status = 200, description = "a page of accounts", body = Page<UserView>)))]
#[get("/users")]
pub async fn list_users(
    user: SignedIn,
    db: web::Data<Db>,
    query: Query<UserQuery>,
) -> Result<web::Json<Page<UserView>>, ApiError> {
    let query = query.into_inner();
    let filter = UserFilter {
        role: query.role,
        status: query.status,
        page: query.page,
        per_page: query.per_page,
        after: query.after,
    };
    let (items, window, total) = users::list(&db, &user, filter).await?;
    Ok(web::Json(Page::of(items, window.page, window.per_page, total, |u| u.id, |u| u)))
}

/// One account.
#[utoipa::path(tag = "users", security(("bearer" = [])), params(("id" = i64, Path, description = "user id")),
    responses((status = 200, description = "the account", body = UserView)))]
#[get("/users/{id}")]
pub async fn get_user(user: SignedIn, db: web::Data<Db>, id: web::Path<i64>) -> Result<web::Json<UserView>, ApiError> {
    Ok(web::Json(users::get(&db, &user, id.into_inner()).await?))
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserPatch {
    #[validate(custom(function = not_blank), length(max = 50))]
    #[schema(pattern = r"\S", min_length = 1, max_length = 50)]
    pub display_name: Option<String>,
    /// `disabled` ends every session of the account at once.
    #[schema(value_type = Option<UserStatus>)]
    pub status: Option<Choice<UserStatus>>,
}

/// Renames, disables or re-enables an account.
#[utoipa::path(tag = "users", security(("bearer" = [])), params(("id" = i64, Path, description = "user id")),
    request_body = UserPatch, responses(
        (status = 200, description = "the account", body = UserView),
        (status = 409, description = "`conflict`: administrators cannot disable themselves", body = crate::error::Problem, content_type = "application/problem+json"),
    ))]
#[patch("/users/{id}")]
pub async fn update_user(
    user: SignedIn,
    db: web::Data<Db>,
    id: web::Path<i64>,
    body: Json<UserPatch>,
) -> Result<web::Json<UserView>, ApiError> {
    let patch = body.into_inner();
    let form_errors = form_errors(&patch);
    let input = users::UserPatch { display_name: patch.display_name, status: patch.status, form_errors };
    Ok(web::Json(users::update(&db, &user, id.into_inner(), input).await?))
}
