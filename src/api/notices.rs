//! Public notices (公示): anyone may read what is proposed for support and lodge a real-name objection
//! while the notice runs; reviewers resolve each objection.

use actix_web::http::StatusCode;
use actix_web::{get, post, web};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::api::client::ClientAddr;
use crate::api::extract::{Json, Query};
use crate::api::middleware::RequestContext;
use crate::api::pagination::{Page, PageQuery};
use crate::api::session::SignedIn;
use crate::app::applications::ProgramRef;
use crate::app::objections::{self, Objection};
use crate::config::PortalSettings;
use crate::db::Db;
use crate::db::objections::ObjectionRow;
use crate::domain::error::Error as Refusal;
use crate::domain::time;
use crate::domain::validation::{field_errors, not_blank};
use crate::error::ApiError;

#[derive(Debug, Serialize, ToSchema)]
pub struct NoticeView {
    pub application_id: i64,
    pub reference_no: Option<String>,
    pub company_name: String,
    pub program: ProgramRef,
    pub approved_amount_fen: Option<i64>,
    pub notice_starts_on: Option<NaiveDate>,
    /// Objections are accepted to the end of this day.
    pub notice_ends_on: Option<NaiveDate>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct NoticeQuery {
    pub page: Option<i64>,
    pub per_page: Option<i64>,
    /// The `next_cursor` of the page before: the page after it (`page` is then ignored).
    pub after: Option<String>,
}

/// Applications in public notice now, for anyone, soonest ending first; page by page or cursor by cursor.
#[utoipa::path(tag = "public notices", params(NoticeQuery), responses((status = 200, description = "a page of notices", body = Page<NoticeView>)))]
#[get("/public-notices")]
pub async fn list_notices(
    db: web::Data<Db>,
    portal: web::Data<PortalSettings>,
    query: Query<NoticeQuery>,
) -> Result<web::Json<Page<NoticeView>>, ApiError> {
    let query = query.into_inner();
    let (page, per_page, start) =
        PageQuery { page: query.page, per_page: query.per_page }.start(query.after.as_deref())?;
    let today = time::today(portal.utc_offset);
    let (records, total) = objections::notices(&db, today, start, per_page).await?;
    let key = |r: &crate::db::applications::ApplicationRecord| {
        (r.application.notice_ends_on.unwrap_or(NaiveDate::MIN), r.application.id)
    };
    Ok(web::Json(Page::of(records, page, per_page, total, key, |r| NoticeView {
        application_id: r.application.id,
        reference_no: r.application.reference_no,
        company_name: r.company_name,
        program: ProgramRef { id: r.application.program_id, code: r.program_code, title: r.program_title },
        approved_amount_fen: r.application.approved_amount_fen,
        notice_starts_on: r.application.notice_starts_on,
        notice_ends_on: r.application.notice_ends_on,
    })))
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ObjectionInput {
    /// The objector's real name; anonymous objections are not accepted.
    #[validate(custom(function = not_blank), length(max = 50))]
    #[schema(pattern = r"\S", min_length = 1, max_length = 50)]
    pub name: String,
    /// A phone number or email address to reach the objector.
    #[validate(custom(function = not_blank), length(max = 100))]
    #[schema(pattern = r"\S", min_length = 1, max_length = 100)]
    pub contact: String,
    #[validate(length(max = 200))]
    #[schema(max_length = 200)]
    pub organization: Option<String>,
    #[validate(custom(function = not_blank), length(max = 5000))]
    #[schema(pattern = r"\S", min_length = 1, max_length = 5000)]
    pub content: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ObjectionReceipt {
    pub id: i64,
    pub created_at: DateTime<Utc>,
}

/// Lodges an objection to an application in public notice; only while the notice runs.
#[utoipa::path(tag = "public notices", params(("application_id" = i64, Path, description = "application id")),
    request_body = ObjectionInput, responses(
        (status = 201, description = "received; reviewers are told", body = ObjectionReceipt),
        (status = 409, description = "`notice_closed`: the application is not in public notice now", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 429, description = "`rate_limited`", body = crate::error::Problem, content_type = "application/problem+json"),
    ))]
#[post("/public-notices/{application_id}/objections")]
pub async fn lodge_objection(
    ctx: RequestContext,
    db: web::Data<Db>,
    portal: web::Data<PortalSettings>,
    client: ClientAddr,
    id: web::Path<i64>,
    body: Json<ObjectionInput>,
) -> Result<(web::Json<ObjectionReceipt>, StatusCode), ApiError> {
    let (id, input) = (id.into_inner(), body.into_inner());
    Refusal::unless_any(input.validate().err().map(|e| field_errors(&e)).unwrap_or_default())?;
    let ObjectionInput { name, contact, organization, content } = input;
    let objection = Objection { name, contact, organization, content };
    let today = time::today(portal.utc_offset);
    let row = objections::lodge(&db, &ctx.id, client.0, id, objection, today).await?;
    Ok((web::Json(ObjectionReceipt { id: row.id, created_at: time::to_utc(row.created_at) }), StatusCode::CREATED))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ObjectionView {
    pub id: i64,
    pub name: String,
    pub contact: String,
    pub organization: Option<String>,
    pub content: String,
    pub created_at: DateTime<Utc>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub resolved_by: Option<i64>,
    pub upheld: Option<bool>,
    pub resolution_comment: Option<String>,
}

impl From<ObjectionRow> for ObjectionView {
    fn from(row: ObjectionRow) -> Self {
        Self {
            id: row.id,
            name: row.name,
            contact: row.contact,
            organization: row.organization,
            content: row.content,
            created_at: time::to_utc(row.created_at),
            resolved_at: row.resolved_at.map(time::to_utc),
            resolved_by: row.resolved_by,
            upheld: row.upheld,
            resolution_comment: row.resolution_comment,
        }
    }
}

/// The objections to an application (reviewers and admins).
#[utoipa::path(tag = "public notices", security(("bearer" = [])), params(("id" = i64, Path, description = "application id")),
    responses((status = 200, description = "the objections", body = Vec<ObjectionView>)))]
#[get("/applications/{id}/objections")]
pub async fn list_objections(
    user: SignedIn,
    db: web::Data<Db>,
    id: web::Path<i64>,
) -> Result<web::Json<Vec<ObjectionView>>, ApiError> {
    let rows = objections::list(&db, &user, id.into_inner()).await?;
    Ok(web::Json(rows.into_iter().map(Into::into).collect()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Resolution {
    /// The objection was found to be true.
    pub upheld: bool,
    pub comment: String,
}

/// Resolves an objection, once.
#[utoipa::path(tag = "public notices", security(("bearer" = [])),
    params(("id" = i64, Path, description = "application id"), ("objection_id" = i64, Path, description = "objection id")),
    request_body = Resolution, responses(
        (status = 200, description = "the resolved objection", body = ObjectionView),
        (status = 409, description = "`conflict`: resolved already", body = crate::error::Problem, content_type = "application/problem+json"),
    ))]
#[post("/applications/{id}/objections/{objection_id}/resolve")]
pub async fn resolve_objection(
    user: SignedIn,
    db: web::Data<Db>,
    path: web::Path<(i64, i64)>,
    body: Json<Resolution>,
) -> Result<web::Json<ObjectionView>, ApiError> {
    let ((id, objection_id), resolution) = (path.into_inner(), body.into_inner());
    let row = objections::resolve(&db, &user, id, objection_id, resolution.upheld, &resolution.comment).await?;
    Ok(web::Json(row.into()))
}
