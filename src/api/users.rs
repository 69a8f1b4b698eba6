//! Accounts: the caller's own, and (for admins) the park's staff.

use actix_web::http::StatusCode;
use actix_web::{get, patch, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::api::extract::{Json, Query};
use crate::api::pagination::{Page, PageQuery};
use crate::api::session::SignedIn;
use crate::config::PortalSettings;
use crate::db::audit::{self, Event};
use crate::db::tokens::{self, Purpose};
use crate::db::users::{self, UserChanges, UserRow};
use crate::db::{Db, outbox};
use crate::domain::account::Email;
use crate::domain::role::{Role, UserStatus};
use crate::domain::time;
use crate::domain::validation::{field_errors, not_blank};
use crate::email::templates;
use crate::error::ApiError;
use crate::i18n::Text;

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

/// The signed-in user, with `company` for applicants.
#[derive(Debug, Serialize, ToSchema)]
pub struct MeView {
    #[serde(flatten)]
    pub user: UserView,
    pub company: Option<crate::api::companies::CompanyView>,
}

/// The signed-in user.
#[utoipa::path(tag = "users", security(("bearer" = [])), responses((status = 200, description = "the signed-in user", body = MeView)))]
#[get("/me")]
pub async fn me(user: SignedIn, db: web::Data<Db>) -> Result<web::Json<MeView>, ApiError> {
    let (row, company) = db
        .read(move |conn| {
            let row = users::find(conn, user.user_id)?;
            let company = match row.company_id {
                Some(id) => {
                    Some((crate::db::companies::find(conn, id)?, crate::db::companies::bank_account(conn, id)?))
                }
                None => None,
            };
            Ok::<_, ApiError>((row, company))
        })
        .await?;
    let company = company.map(|(c, bank)| crate::api::companies::CompanyView::new(c, bank, user.role)).transpose()?;
    Ok(web::Json(MeView { user: row.try_into()?, company }))
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewStaffRequest {
    pub email: String,
    #[validate(custom(function = not_blank), length(max = 50))]
    pub display_name: String,
    /// reviewer, expert, finance or admin; company accounts register themselves.
    pub role: Role,
}

fn role_names(role: Role) -> (&'static str, &'static str) {
    match role {
        Role::Applicant => ("企业", "company"),
        Role::Reviewer => ("审核人员", "reviewer"),
        Role::Expert => ("评审专家", "expert"),
        Role::Finance => ("财务人员", "finance"),
        Role::Admin => ("系统管理员", "administrator"),
    }
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
    user.require(&[Role::Admin])?;
    let request = body.into_inner();
    let mut errors = request.validate().err().map(|e| field_errors(&e)).unwrap_or_default();
    if request.role == Role::Applicant {
        errors.push(crate::error::FieldError::new(
            "role",
            "not_staff",
            Text::new(
                "企业账号由企业自行注册，这里只能创建工作人员账号。",
                "Companies register themselves; create staff accounts here.",
            ),
        ));
    }
    let email = Email::parse("email", &request.email);
    if let Err(e) = &email {
        errors.push(e.clone());
    }
    let (Ok(email), true) = (email, errors.is_empty()) else { return Err(ApiError::validation(errors)) };
    let actor = user.actor();
    let created = db
        .write(move |conn| {
            if users::email_taken(conn, email.as_str())? {
                return Err(ApiError::conflict(
                    "email_taken",
                    Text::new("该邮箱已有账号。", "An account with this email already exists."),
                ));
            }
            let now = time::now();
            let created = users::insert(
                conn,
                &users::NewUser {
                    email: email.as_str(),
                    password_hash: None,
                    display_name: request.display_name.trim(),
                    role: request.role.as_str(),
                    status: UserStatus::Active.as_str(),
                    email_verified_at: None,
                    company_id: None,
                    created_at: now,
                    updated_at: now,
                },
            )?;
            let token = tokens::issue(conn, created.id, Purpose::Invitation, now)?;
            let (role_zh, role_en) = role_names(request.role);
            let link = format!("{}/accept-invitation?token={token}", portal.frontend_base_url.trim_end_matches('/'));
            outbox::enqueue(
                conn,
                &templates::invitation(&created.email, &created.display_name, role_zh, role_en, &link),
                now,
            )?;
            let summary = json!({ "email": created.email, "role": created.role });
            audit::append(conn, &actor, Event::new("user.create", "user", created.id, summary))?;
            Ok(created)
        })
        .await?;
    Ok((web::Json(created.try_into()?), StatusCode::CREATED))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct UserQuery {
    pub role: Option<Role>,
    pub status: Option<UserStatus>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

/// Every account, filtered by role and status.
#[utoipa::path(tag = "users", security(("bearer" = [])), params(UserQuery),
    responses((status = 200, description = "a page of accounts", body = Page<UserView>)))]
#[get("/users")]
pub async fn list_users(
    user: SignedIn,
    db: web::Data<Db>,
    query: Query<UserQuery>,
) -> Result<web::Json<Page<UserView>>, ApiError> {
    user.require(&[Role::Admin])?;
    let query = query.into_inner();
    let (page, per_page, offset) = PageQuery { page: query.page, per_page: query.per_page }.resolve()?;
    let filter = users::Filter {
        role: query.role.map(|r| r.as_str().to_owned()),
        status: query.status.map(|s| s.as_str().to_owned()),
    };
    let (rows, total) = db.read(move |conn| users::list(conn, &filter, offset, per_page)).await?;
    let items = rows.into_iter().map(UserView::try_from).collect::<Result<_, _>>()?;
    Ok(web::Json(Page { items, page, per_page, total }))
}

/// One account.
#[utoipa::path(tag = "users", security(("bearer" = [])), params(("id" = i64, Path, description = "user id")),
    responses((status = 200, description = "the account", body = UserView)))]
#[get("/users/{id}")]
pub async fn get_user(user: SignedIn, db: web::Data<Db>, id: web::Path<i64>) -> Result<web::Json<UserView>, ApiError> {
    user.require(&[Role::Admin])?;
    let id = id.into_inner();
    let row = db.read(move |conn| users::find(conn, id)).await?;
    Ok(web::Json(row.try_into()?))
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserPatch {
    #[validate(custom(function = not_blank), length(max = 50))]
    pub display_name: Option<String>,
    /// `disabled` ends every session of the account at once.
    pub status: Option<UserStatus>,
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
    user.require(&[Role::Admin])?;
    let (id, patch) = (id.into_inner(), body.into_inner());
    if let Err(errors) = patch.validate() {
        return Err(ApiError::validation(field_errors(&errors)));
    }
    if id == user.user_id && patch.status == Some(UserStatus::Disabled) {
        return Err(ApiError::conflict(
            "conflict",
            Text::new(
                "不能停用自己的账号，请由另一位管理员操作。",
                "You cannot disable your own account; ask another administrator.",
            ),
        ));
    }
    let actor = user.actor();
    let updated = db
        .write(move |conn| {
            let before = users::find(conn, id)?;
            let now = time::now();
            let changes = UserChanges {
                display_name: patch.display_name.map(|n| n.trim().to_owned()),
                status: patch.status.map(|s| s.as_str().to_owned()),
                updated_at: Some(now),
            };
            let after = users::update(conn, id, &changes)?;
            if patch.status == Some(UserStatus::Disabled) {
                users::end_sessions(conn, id, None, now)?;
            }
            let summary = json!({
                "display_name": changes.display_name,
                "status": { "from": before.status, "to": after.status },
            });
            audit::append(conn, &actor, Event::new("user.update", "user", id, summary))?;
            Ok::<_, ApiError>(after)
        })
        .await?;
    Ok(web::Json(updated.try_into()?))
}
