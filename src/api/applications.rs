//! Applications: a company's drafts, their submission, and every move of the review workflow.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use utoipa::{IntoParams, ToSchema};

use crate::api::extract::{Json, Query};
use crate::api::pagination::{Page, PageQuery};
use crate::api::session::{Bearer, SignedIn};
use crate::app::applications::{find_visible, may_see, status_of};
use crate::app::programs::Program;
use crate::config::PortalSettings;
use crate::db::applications::{self, ApplicationRecord, Scope};
use crate::db::audit::{self, Event};
use crate::db::{Db, DbConnection, reviews};
use crate::domain::error::Error as Refusal;
use crate::domain::money::MAX_FEN;
use crate::domain::program::{ProgramStatus, check_form};
use crate::domain::role::Role;
use crate::domain::time;
use crate::domain::workflow::{self, Action, Context, ExpertStanding, Status};
use crate::error::ApiError;
use crate::i18n::Text;

#[derive(Debug, Serialize, ToSchema)]
pub struct ProgramRef {
    pub id: i64,
    pub code: String,
    pub title: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CompanyRef {
    pub id: i64,
    pub name: String,
    pub credit_code: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StatusLabel {
    pub zh: String,
    pub en: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ApplicationView {
    pub id: i64,
    /// Assigned at the first submission: `<programme code>-<sequence>`.
    pub reference_no: Option<String>,
    pub program: ProgramRef,
    pub company: CompanyRef,
    pub status: Status,
    pub status_label: StatusLabel,
    /// `null` for an expert who has not declared yet: until then they see only the programme, the
    /// reference number and the company.
    pub requested_amount_fen: Option<i64>,
    pub approved_amount_fen: Option<i64>,
    pub disbursed_fen: Option<i64>,
    #[schema(value_type = Option<Object>)]
    pub form_data: Option<Value>,
    pub correction_due_on: Option<NaiveDate>,
    pub notice_ends_on: Option<NaiveDate>,
    pub payment_due_on: Option<NaiveDate>,
    pub submitted_at: Option<DateTime<Utc>>,
    pub decided_at: Option<DateTime<Utc>>,
    /// Send it back with every action; a stale one is refused with 409.
    pub version: i32,
    /// What the caller may do now, from the same table that enforces the actions.
    pub allowed_actions: Vec<Action>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl ApplicationView {
    pub fn new(record: ApplicationRecord, allowed_actions: Vec<Action>) -> Result<Self, ApiError> {
        let status = status_of(&record)?;
        let label = status.label();
        let a = record.application;
        Ok(Self {
            id: a.id,
            reference_no: a.reference_no,
            program: ProgramRef { id: a.program_id, code: record.program_code, title: record.program_title },
            company: CompanyRef {
                id: a.company_id,
                name: record.company_name,
                credit_code: record.company_credit_code,
            },
            status,
            status_label: StatusLabel { zh: label.zh.into_owned(), en: label.en.into_owned() },
            requested_amount_fen: Some(a.requested_amount_fen),
            approved_amount_fen: a.approved_amount_fen,
            disbursed_fen: Some(a.disbursed_fen),
            form_data: Some(serde_json::from_str(&a.form_data).unwrap_or_else(|_| json!({}))),
            correction_due_on: a.correction_due_on,
            notice_ends_on: a.notice_ends_on,
            payment_due_on: a.payment_due_on,
            submitted_at: a.submitted_at.map(time::to_utc),
            decided_at: a.decided_at.map(time::to_utc),
            version: a.version,
            allowed_actions,
            created_at: time::to_utc(a.created_at),
            updated_at: time::to_utc(a.updated_at),
        })
    }
}

impl ApplicationView {
    /// What an expert sees before declaring no conflict of interest.
    fn withheld(self) -> Self {
        Self { requested_amount_fen: None, approved_amount_fen: None, disbursed_fen: None, form_data: None, ..self }
    }
}

/// What the workflow's guards read about this application and this caller.
pub fn context(
    conn: &mut DbConnection,
    record: &ApplicationRecord,
    user: &SignedIn,
    today: NaiveDate,
) -> Result<Context, ApiError> {
    let mut contexts = reviews::contexts(conn, &[reviewed(record)], viewer(user), today)?;
    Ok(contexts.remove(&record.application.id).unwrap_or_default())
}

fn reviewed(record: &ApplicationRecord) -> reviews::Reviewed {
    let a = &record.application;
    reviews::Reviewed {
        application_id: a.id,
        company_id: a.company_id,
        notice_ends_on: a.notice_ends_on,
        min_expert_reviews: record.program_min_expert_reviews,
        public_notice_days: record.program_public_notice_days,
    }
}

fn viewer(user: &SignedIn) -> reviews::Viewer {
    reviews::Viewer { user_id: user.user_id, company_id: user.company_id }
}

/// The application as `user` sees it, read with its expert assignments in one query.
pub fn view(conn: &mut DbConnection, user: &SignedIn, id: i64, today: NaiveDate) -> Result<ApplicationView, ApiError> {
    let (record, assignments) = applications::find_with_assignments(conn, id)?;
    if !may_see(user, &record, || Ok(assignments.iter().any(|a| a.1 == user.user_id)))? {
        return Err(ApiError::NotFound);
    }
    let mut contexts = reviews::contexts_given(conn, &[reviewed(&record)], &assignments, viewer(user), today)?;
    let ctx = contexts.remove(&id).unwrap_or_default();
    seen_by(user, record, &ctx)
}

/// [`view`] for a page of applications, reading their workflow contexts together.
fn views(
    conn: &mut DbConnection,
    user: &SignedIn,
    records: Vec<ApplicationRecord>,
    today: NaiveDate,
) -> Result<Vec<ApplicationView>, ApiError> {
    let reviewed: Vec<_> = records.iter().map(reviewed).collect();
    let mut contexts = reviews::contexts(conn, &reviewed, viewer(user), today)?;
    records
        .into_iter()
        .map(|record| {
            let ctx = contexts.remove(&record.application.id).unwrap_or_default();
            seen_by(user, record, &ctx)
        })
        .collect()
}

/// The application as `user` sees it: the actions open to them, and for an expert who has not declared
/// no conflict, only the programme, the reference number and the company.
fn seen_by(user: &SignedIn, record: ApplicationRecord, ctx: &Context) -> Result<ApplicationView, ApiError> {
    let allowed = workflow::allowed(status_of(&record)?, user.role, ctx);
    let view = ApplicationView::new(record, allowed)?;
    let cleared = user.role != Role::Expert || matches!(ctx.expert, ExpertStanding::Cleared { .. });
    Ok(if cleared { view } else { view.withheld() })
}

pub fn form_object(value: Option<Value>) -> Result<Map<String, Value>, ApiError> {
    match value.unwrap_or_else(|| json!({})) {
        Value::Object(map) => Ok(map),
        _ => Err(ApiError::field(
            "form_data",
            "invalid_type",
            Text::new("申报表内容须为对象（键值对）。", "form_data must be an object of answers."),
        )),
    }
}

fn check_amount(requested_amount_fen: i64) -> Result<(), ApiError> {
    if (1..=MAX_FEN).contains(&requested_amount_fen) {
        return Ok(());
    }
    Err(ApiError::field(
        "requested_amount_fen",
        "out_of_range",
        Text::new(
            "申请金额须大于 0 且不超过 10 万亿元（单位：分）。",
            "The requested amount must be above 0 and at most 10 trillion yuan (in fen).",
        ),
    ))
}

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
    let company_id = user.company_id()?;
    let request = body.into_inner();
    check_amount(request.requested_amount_fen)?;
    let form = form_object(request.form_data)?;
    let (actor, today) = (user.actor(), time::today(portal.utc_offset));
    let view = db
        .write(move |conn| {
            let program = Program::load(conn, request.program_id)
                .ok()
                .filter(|p| p.visible_to(Some(&user)))
                .ok_or_else(|| {
                    ApiError::field(
                        "program_id",
                        "unknown",
                        Text::new("没有这个政策项目。", "There is no such programme."),
                    )
                })?;
            if program.status() != ProgramStatus::Published {
                return Err(ApiError::conflict(
                    "program_not_open",
                    Text::new("该项目已截止或尚未发布，不能申报。", "This programme is not open for applications."),
                ));
            }
            Refusal::unless_any(check_form(&program.fields, &form, false))?;
            if applications::live_for(conn, program.id, company_id)?.is_some() {
                return Err(duplicate_application());
            }
            let form_text = Value::Object(form).to_string();
            let now = time::now();
            let id = applications::insert_draft(
                conn,
                program.id,
                company_id,
                user.user_id,
                request.requested_amount_fen,
                &form_text,
                now,
            )
            .map_err(|e| {
                if matches!(e, crate::db::Error::UniqueViolation { .. }) { duplicate_application() } else { e.into() }
            })?;
            let summary = json!({ "program_id": program.id, "requested_amount_fen": request.requested_amount_fen });
            audit::append(conn, &actor, Event::new("application.create", "application", id, summary))?;
            view(conn, &user, id, today)
        })
        .await?;
    Ok((web::Json(view), StatusCode::CREATED))
}

fn duplicate_application() -> ApiError {
    ApiError::conflict(
        "duplicate_application",
        Text::new(
            "贵公司已有该项目的申报（未撤回），请在原申报上继续。",
            "Your company already has an application to this programme; continue with that one.",
        ),
    )
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
    /// Part of the reference number or the company's name.
    pub q: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

/// Applications the caller may see: a company its own, an expert those assigned, staff all.
#[utoipa::path(tag = "applications", security(("bearer" = [])), params(ApplicationQuery),
    responses((status = 200, description = "a page of applications", body = Page<ApplicationView>)))]
#[get("/applications")]
pub async fn list_applications(
    user: SignedIn,
    db: web::Data<Db>,
    portal: web::Data<PortalSettings>,
    query: Query<ApplicationQuery>,
) -> Result<web::Json<Page<ApplicationView>>, ApiError> {
    let query = query.into_inner();
    let (page, per_page, offset) = PageQuery { page: query.page, per_page: query.per_page }.resolve()?;
    let scope = match user.role {
        Role::Applicant => Scope::Company(user.company_id()?),
        Role::Expert => Scope::AssignedTo(user.user_id),
        Role::Reviewer | Role::Finance | Role::Admin => Scope::All,
    };
    let offset_of = portal.utc_offset;
    let day_start = move |day: NaiveDate| {
        day.and_hms_opt(0, 0, 0).and_then(|t| t.and_local_timezone(offset_of).single()).map(|t| t.naive_utc())
    };
    let filter = applications::Filter {
        status: query.status.map(|s| s.as_str().to_owned()),
        program_id: query.program_id,
        company_id: query.company_id,
        submitted_from: query.submitted_from.and_then(day_start),
        submitted_before: query.submitted_to.and_then(|d| d.succ_opt()).and_then(day_start),
        q: query.q,
    };
    let today = time::today(portal.utc_offset);
    let (items, total) = db
        .read(move |conn| {
            let (records, total) = applications::list(conn, scope, &filter, offset, per_page)?;
            Ok::<_, ApiError>((views(conn, &user, records, today)?, total))
        })
        .await?;
    Ok(web::Json(Page { items, page, per_page, total }))
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
    Ok(web::Json(caller.read(&db, move |conn, user| view(conn, &user, id, today)).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApplicationPatch {
    pub requested_amount_fen: Option<i64>,
    /// Replaces the answers as a whole.
    #[schema(value_type = Object)]
    pub form_data: Option<Value>,
}

fn not_editable() -> ApiError {
    ApiError::conflict(
        "conflict",
        Text::new(
            "申报已提交，不能再修改；如被退回补正，可在退回后修改。",
            "The application has been submitted and cannot change, unless it is returned for correction.",
        ),
    )
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
    user.require(&[Role::Applicant])?;
    let (id, patch) = (id.into_inner(), body.into_inner());
    let (actor, today) = (user.actor(), time::today(portal.utc_offset));
    let view = db
        .write(move |conn| {
            let record = find_visible(conn, &user, id)?;
            if !status_of(&record)?.is_editable() {
                return Err(not_editable());
            }
            let program = Program::load(conn, record.application.program_id)?;
            let amount = patch.requested_amount_fen.unwrap_or(record.application.requested_amount_fen);
            check_amount(amount)?;
            let form = match patch.form_data {
                Some(value) => form_object(Some(value))?,
                None => form_object(serde_json::from_str(&record.application.form_data).ok())?,
            };
            Refusal::unless_any(check_form(&program.fields, &form, false))?;
            if !applications::update_draft(conn, id, amount, &Value::Object(form).to_string(), time::now())? {
                return Err(not_editable());
            }
            audit::append(
                conn,
                &actor,
                Event::new("application.update", "application", id, json!({ "requested_amount_fen": amount })),
            )?;
            view(conn, &user, id, today)
        })
        .await?;
    Ok(web::Json(view))
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
    storage: web::Data<dyn crate::storage::Storage>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    user.require(&[Role::Applicant])?;
    let id = id.into_inner();
    let actor = user.actor();
    let keys = db
        .write(move |conn| {
            find_visible(conn, &user, id)?;
            let keys = applications::delete_draft(conn, id)?.ok_or_else(|| {
                ApiError::conflict(
                    "conflict",
                    Text::new(
                        "只能删除草稿；已提交的申报请撤回。",
                        "Only drafts can be deleted; withdraw a submitted application instead.",
                    ),
                )
            })?;
            audit::append(conn, &actor, Event::new("application.delete", "application", id, json!({})))?;
            Ok::<_, ApiError>(keys)
        })
        .await?;
    crate::api::attachments::discard(&storage, keys).await;
    Ok(HttpResponse::NoContent().finish())
}
