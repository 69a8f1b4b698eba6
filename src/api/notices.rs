//! Public notices (公示): anyone may read what is proposed for support and lodge a real-name objection
//! while the notice runs; reviewers resolve each objection.

use actix_web::http::StatusCode;
use actix_web::{get, post, web};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::api::applications::ProgramRef;
use crate::api::client::ClientAddr;
use crate::api::extract::{Json, Query};
use crate::api::middleware::RequestContext;
use crate::api::pagination::{Page, PageQuery};
use crate::api::session::SignedIn;
use crate::app::applications::find_visible;
use crate::app::programs::Program;
use crate::config::PortalSettings;
use crate::db::audit::{self, Event};
use crate::db::reviews::{self, NewObjection, ObjectionRow};
use crate::db::{Db, applications, outbox, users};
use crate::domain::audit::Actor;
use crate::domain::error::Error as Refusal;
use crate::domain::role::Role;
use crate::domain::validation::{field_errors, not_blank};
use crate::domain::{limits, time};
use crate::email::templates;
use crate::error::ApiError;
use crate::i18n::Text;

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
}

/// Applications in public notice now, for anyone.
#[utoipa::path(tag = "public notices", params(NoticeQuery), responses((status = 200, description = "a page of notices", body = Page<NoticeView>)))]
#[get("/public-notices")]
pub async fn list_notices(
    db: web::Data<Db>,
    portal: web::Data<PortalSettings>,
    query: Query<NoticeQuery>,
) -> Result<web::Json<Page<NoticeView>>, ApiError> {
    let query = query.into_inner();
    let (page, per_page, offset) = PageQuery { page: query.page, per_page: query.per_page }.resolve()?;
    let today = time::today(portal.utc_offset);
    let (records, total) = db.read(move |conn| applications::in_notice(conn, today, offset, per_page)).await?;
    let items = records
        .into_iter()
        .map(|r| NoticeView {
            application_id: r.application.id,
            reference_no: r.application.reference_no,
            company_name: r.company_name,
            program: ProgramRef { id: r.application.program_id, code: r.program_code, title: r.program_title },
            approved_amount_fen: r.application.approved_amount_fen,
            notice_starts_on: r.application.notice_starts_on,
            notice_ends_on: r.application.notice_ends_on,
        })
        .collect();
    Ok(web::Json(Page { items, page, per_page, total }))
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ObjectionInput {
    /// The objector's real name; anonymous objections are not accepted.
    #[validate(custom(function = not_blank), length(max = 50))]
    pub name: String,
    /// A phone number or email address to reach the objector.
    #[validate(custom(function = not_blank), length(max = 100))]
    pub contact: String,
    #[validate(length(max = 200))]
    pub organization: Option<String>,
    #[validate(custom(function = not_blank), length(max = 5000))]
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
    let today = time::today(portal.utc_offset);
    let actor = Actor { user_id: None, role: None, request_id: Some(ctx.id.clone()) };
    let row = db
        .write(move |conn| {
            let record = applications::find(conn, id)?;
            let notice_days = Program::load(conn, record.application.program_id)?.public_notice_days;
            let a = &record.application;
            let running =
                a.status == "public_notice" && notice_days > 0 && a.notice_ends_on.is_some_and(|end| today <= end);
            if !running {
                return Err(ApiError::conflict(
                    "notice_closed",
                    Text::new(
                        "该申报现不在公示期内，不受理异议。",
                        "This application is not in public notice now; objections are not accepted.",
                    ),
                ));
            }
            let now = time::now();
            crate::app::throttle::consume(
                conn,
                &format!("objection:addr:{}", client.0),
                limits::OBJECTIONS_PER_ADDRESS,
                now,
            )?;
            let objection = NewObjection {
                application_id: id,
                name: input.name.trim(),
                contact: input.contact.trim(),
                organization: input.organization.as_deref().map(str::trim).filter(|o| !o.is_empty()),
                content: input.content.trim(),
            };
            let row = reviews::lodge(conn, &objection, now)?;
            let reference_no = record.application.reference_no.clone().unwrap_or_default();
            for reviewer in users::active_with_role(conn, Role::Reviewer)? {
                outbox::enqueue(
                    conn,
                    &templates::objection_lodged(&reviewer.email, &reference_no, &row.name, &row.content),
                    now,
                )?;
            }
            audit::append(
                conn,
                &actor,
                Event::new("objection.lodge", "application", id, json!({ "objection_id": row.id })),
            )?;
            Ok(row)
        })
        .await?;
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
    user.require(&[Role::Reviewer, Role::Admin])?;
    let id = id.into_inner();
    let rows = db
        .read(move |conn| {
            find_visible(conn, &user, id)?;
            Ok::<_, ApiError>(reviews::objections_of(conn, id)?)
        })
        .await?;
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
    user.require(&[Role::Reviewer])?;
    let ((id, objection_id), resolution) = (path.into_inner(), body.into_inner());
    let comment = resolution.comment.trim().to_owned();
    if comment.is_empty() {
        return Err(ApiError::field(
            "comment",
            "required",
            Text::new("请填写处理意见。", "Say how the objection was resolved."),
        ));
    }
    let actor = user.actor();
    let row = db
        .write(move |conn| {
            find_visible(conn, &user, id)?;
            let exists = reviews::objections_of(conn, id)?.into_iter().any(|o| o.id == objection_id);
            if !exists {
                return Err(ApiError::NotFound);
            }
            if !reviews::resolve(conn, id, objection_id, user.user_id, resolution.upheld, &comment, time::now())? {
                return Err(ApiError::conflict(
                    "conflict",
                    Text::new("该异议已处理。", "This objection has been resolved already."),
                ));
            }
            let summary = json!({ "objection_id": objection_id, "upheld": resolution.upheld, "comment": comment });
            audit::append(conn, &actor, Event::new("objection.resolve", "application", id, summary))?;
            reviews::objections_of(conn, id)?.into_iter().find(|o| o.id == objection_id).ok_or(ApiError::NotFound)
        })
        .await?;
    Ok(web::Json(row.into()))
}
