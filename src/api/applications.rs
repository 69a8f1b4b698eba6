//! Applications: a company's drafts, and the lists and views of the review workflow.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, delete, get, patch, post, web};
use chrono::NaiveDate;
use serde::Deserialize;
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use crate::api::extract::{Json, Query};
use crate::api::pagination::{Page, PageQuery};
use crate::api::session::{Bearer, SignedIn};
use crate::app::applications::ApplicationView;
use crate::app::applications::{self, DraftChanges, ListQuery, NewDraft};
use crate::config::PortalSettings;
use crate::db::Db;
use crate::domain::time;
use crate::domain::workflow::Status;
use crate::error::ApiError;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewApplication {
    pub program_id: i64,
    pub requested_amount_fen: i64,
    /// Answers to the programme's form, by field key; checked on every save, for completeness on submit.
    #[schema(value_type = Object)]
    pub form_data: Option<Value>,
}

/// Starts a draft application to a published programme.
#[utoipa::path(tag = "applications", security(("bearer" = [])), request_body = NewApplication, responses(
    (status = 201, description = "the draft", body = ApplicationView),
    (status = 409, description = "`duplicate_application`: the company already has a live application to this programme; `program_not_open`", body = crate::error::Problem, content_type = "application/problem+json"),
))]
#[post("/applications")]
pub async fn create_application(
    user: SignedIn,
    db: web::Data<Db>,
    portal: web::Data<PortalSettings>,
    body: Json<NewApplication>,
) -> Result<(web::Json<ApplicationView>, StatusCode), ApiError> {
    let NewApplication { program_id, requested_amount_fen, form_data } = body.into_inner();
    let draft = NewDraft { program_id, requested_amount_fen, form_data };
    let seen = applications::create(&db, &user, draft, time::today(portal.utc_offset)).await?;
    Ok((web::Json(seen.into()), StatusCode::CREATED))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ApplicationQuery {
    pub status: Option<Status>,
    pub program_id: Option<i64>,
    pub company_id: Option<i64>,
    /// Submitted on or after this date (the park's calendar).
    pub submitted_from: Option<NaiveDate>,
    /// Submitted on or before this date.
    pub submitted_to: Option<NaiveDate>,
    /// Part of the reference number, of the company's name or of its credit code, in any case.
    pub q: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
    /// The `next_cursor` of the page before: the page after it (`page` is then ignored).
    pub after: Option<String>,
}

/// Applications the caller may see, newest first: a company its own (drafts included), an expert those
/// assigned, staff all submitted ones (a draft is the company's own until submitted). Newest means last
/// created, or, in a list filtered by `submitted_from` or `submitted_to`, last submitted. Page by page, or
/// cursor by cursor (`after`): following cursors visits every application once, at the same cost at any depth.
#[utoipa::path(tag = "applications", security(("bearer" = [])), params(ApplicationQuery),
    responses((status = 200, description = "a page of applications", body = Page<ApplicationView>)))]
#[get("/applications")]
pub async fn list_applications(
    user: SignedIn,
    db: web::Data<Db>,
    portal: web::Data<PortalSettings>,
    query: Query<ApplicationQuery>,
) -> Result<web::Json<Page<ApplicationView>>, ApiError> {
    let q = query.into_inner();
    let (page, per_page, start) = PageQuery { page: q.page, per_page: q.per_page }.start(q.after.as_deref())?;
    let query = ListQuery {
        status: q.status,
        program_id: q.program_id,
        company_id: q.company_id,
        submitted_from: q.submitted_from,
        submitted_to: q.submitted_to,
        q: q.q,
        start,
        limit: per_page,
    };
    let (today, by_submission) = (time::today(portal.utc_offset), query.by_submission());
    let (seen, total) = applications::list(&db, &user, query, portal.utc_offset, today).await?;
    Ok(web::Json(Page::of(seen, page, per_page, total, |s| s.key(by_submission), Into::into)))
}

/// One application, with what the caller may do to it now.
#[utoipa::path(tag = "applications", security(("bearer" = [])), params(("id" = i64, Path, description = "application id")),
    responses((status = 200, description = "the application", body = ApplicationView)))]
#[get("/applications/{id}")]
pub async fn get_application(
    caller: Bearer,
    db: web::Data<Db>,
    portal: web::Data<PortalSettings>,
    id: web::Path<i64>,
) -> Result<web::Json<ApplicationView>, ApiError> {
    let (id, today) = (id.into_inner(), time::today(portal.utc_offset));
    // The session is checked on the connection the view is read with: one trip for the busiest read.
    let seen = caller.read(&db, move |conn, user| Ok(applications::view(conn, &user, id, today)?)).await?;
    Ok(web::Json(seen.into()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApplicationPatch {
    pub requested_amount_fen: Option<i64>,
    /// Replaces the answers as a whole.
    #[schema(value_type = Object)]
    pub form_data: Option<Value>,
}

/// Changes a draft or a returned application.
#[utoipa::path(tag = "applications", security(("bearer" = [])), params(("id" = i64, Path, description = "application id")),
    request_body = ApplicationPatch, responses(
        (status = 200, description = "the application", body = ApplicationView),
        (status = 409, description = "`conflict`: no longer editable", body = crate::error::Problem, content_type = "application/problem+json"),
    ))]
#[patch("/applications/{id}")]
pub async fn update_application(
    user: SignedIn,
    db: web::Data<Db>,
    portal: web::Data<PortalSettings>,
    id: web::Path<i64>,
    body: Json<ApplicationPatch>,
) -> Result<web::Json<ApplicationView>, ApiError> {
    let ApplicationPatch { requested_amount_fen, form_data } = body.into_inner();
    let changes = DraftChanges { requested_amount_fen, form_data };
    let seen = applications::update(&db, &user, id.into_inner(), changes, time::today(portal.utc_offset)).await?;
    Ok(web::Json(seen.into()))
}

/// Deletes a draft with its files.
#[utoipa::path(tag = "applications", security(("bearer" = [])), params(("id" = i64, Path, description = "application id")), responses(
    (status = 204, description = "deleted"),
    (status = 409, description = "`conflict`: only drafts can be deleted; withdraw a submitted application instead", body = crate::error::Problem, content_type = "application/problem+json"),
))]
#[delete("/applications/{id}")]
pub async fn delete_application(
    user: SignedIn,
    db: web::Data<Db>,
    storage: web::Data<crate::storage::Storage>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    applications::delete(&db, &storage, &user, id.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}
