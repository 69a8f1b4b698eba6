//! Support-fund programmes: anyone reads the published ones, admins write them, companies see whether
//! they qualify and why.

use actix_web::http::StatusCode;
use actix_web::{get, patch, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::api::extract::{Json, Query};
use crate::api::middleware::RequestContext;
use crate::api::pagination::{Page, PageQuery};
use crate::api::session::SignedIn;
use crate::app::programs::{self, Eligibility, Listing, Program};
use crate::config::PortalSettings;
use crate::db::Db;
use crate::domain::program::{Category, ProgramStatus, ProgramTerms};
pub use crate::domain::program::{ProgramInput, ProgramPatch};
use crate::domain::time;
use crate::error::ApiError;
use crate::i18n::{Lang, Text};

#[derive(Debug, Serialize, ToSchema)]
pub struct ProgramView {
    pub id: i64,
    #[serde(flatten)]
    pub terms: ProgramTerms,
    /// The window is open now.
    pub is_open: bool,
    pub reserved_fen: i64,
    pub disbursed_fen: i64,
    pub available_fen: i64,
    pub status: ProgramStatus,
    /// The support family and ratio in plain words, as the guide states them.
    pub funding_rules: Vec<FundingRule>,
}

/// A funding rule of the programme in plain words, in Chinese and English.
#[derive(Debug, Serialize, ToSchema)]
pub struct FundingRule {
    pub zh: String,
    pub en: String,
}

impl From<Text> for FundingRule {
    fn from(text: Text) -> Self {
        Self { zh: text.zh.into_owned(), en: text.en.into_owned() }
    }
}

impl ProgramView {
    pub fn new(program: &Program, now: DateTime<Utc>) -> Self {
        Self {
            id: program.id,
            terms: program.terms(),
            is_open: program.is_open(now),
            reserved_fen: program.reserved_fen,
            disbursed_fen: program.disbursed_fen,
            available_fen: program.available_fen(),
            status: program.status,
            funding_rules: program.funding_rules().into_iter().map(FundingRule::from).collect(),
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ProgramQuery {
    pub category: Option<Category>,
    /// `true`: only programmes whose window is open now; `false`: only those whose window is not.
    pub open: Option<bool>,
    /// Administrators may list drafts and closed programmes too.
    pub status: Option<ProgramStatus>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
    /// The `next_cursor` of the page before: the page after it (`page` is then ignored).
    pub after: Option<String>,
}

/// Published programmes, for anyone, soonest closing first; page by page or cursor by cursor.
#[utoipa::path(tag = "programs", params(ProgramQuery), responses(
    (status = 200, description = "a page of programmes", body = Page<ProgramView>),
    (status = 401, description = "`unauthenticated`: listing other statuses needs an administrator's token", body = crate::error::Problem, content_type = "application/problem+json"),
    (status = 403, description = "`forbidden`: only administrators list other statuses", body = crate::error::Problem, content_type = "application/problem+json"),
))]
#[get("/programs")]
pub async fn list_programs(
    viewer: Option<SignedIn>,
    db: web::Data<Db>,
    query: Query<ProgramQuery>,
) -> Result<web::Json<Page<ProgramView>>, ApiError> {
    let query = query.into_inner();
    let (page, per_page, start) =
        PageQuery { page: query.page, per_page: query.per_page }.start(query.after.as_deref())?;
    if query.status.is_some_and(|s| s != ProgramStatus::Published) && viewer.is_none() {
        return Err(crate::auth::tokens::invalid_token());
    }
    let listing = Listing { category: query.category, open: query.open, status: query.status };
    let (found, total) = programs::list(&db, viewer.as_ref(), listing, start, per_page).await?;
    let now = Utc::now();
    let key = |p: &programs::Program| (p.closes_at, p.id);
    Ok(web::Json(Page::of(found, page, per_page, total, key, |program| ProgramView::new(&program, now))))
}

/// One programme with its guide, rules, materials, form and budget figures.
#[utoipa::path(tag = "programs", params(("id" = i64, Path, description = "programme id")),
    responses((status = 200, description = "the programme", body = ProgramView)))]
#[get("/programs/{id}")]
pub async fn get_program(
    viewer: Option<SignedIn>,
    db: web::Data<Db>,
    id: web::Path<i64>,
) -> Result<web::Json<ProgramView>, ApiError> {
    let program = programs::get(&db, viewer.as_ref(), id.into_inner()).await?;
    Ok(web::Json(ProgramView::new(&program, Utc::now())))
}

/// Creates a programme as a draft.
#[utoipa::path(tag = "programs", security(("bearer" = [])), request_body = ProgramInput, responses(
    (status = 201, description = "the draft", body = ProgramView),
    (status = 409, description = "`code_taken`", body = crate::error::Problem, content_type = "application/problem+json"),
))]
#[post("/programs")]
pub async fn create_program(
    user: SignedIn,
    db: web::Data<Db>,
    body: Json<ProgramInput>,
) -> Result<(web::Json<ProgramView>, StatusCode), ApiError> {
    let program = programs::create(&db, &user, body.into_inner().0).await?;
    Ok((web::Json(ProgramView::new(&program, Utc::now())), StatusCode::CREATED))
}

/// Edits a programme. Once published, its rules, materials, form and money are frozen: only the
/// title, summary, guide and closing time may change.
#[utoipa::path(tag = "programs", security(("bearer" = [])), params(("id" = i64, Path, description = "programme id")),
    request_body = ProgramPatch, responses(
        (status = 200, description = "the programme", body = ProgramView),
        (status = 409, description = "`program_frozen`, `code_taken`, or changed meanwhile", body = crate::error::Problem, content_type = "application/problem+json"),
    ))]
#[patch("/programs/{id}")]
pub async fn update_program(
    user: SignedIn,
    db: web::Data<Db>,
    id: web::Path<i64>,
    body: Json<ProgramPatch>,
) -> Result<web::Json<ProgramView>, ApiError> {
    let program = programs::update(&db, &user, id.into_inner(), body.into_inner()).await?;
    Ok(web::Json(ProgramView::new(&program, Utc::now())))
}

/// Publishes a draft: companies can read it and apply inside its window.
#[utoipa::path(tag = "programs", security(("bearer" = [])), params(("id" = i64, Path, description = "programme id")), responses(
    (status = 200, description = "published", body = ProgramView),
    (status = 409, description = "`conflict`: not a draft", body = crate::error::Problem, content_type = "application/problem+json"),
))]
#[post("/programs/{id}/publish")]
pub async fn publish_program(
    user: SignedIn,
    db: web::Data<Db>,
    id: web::Path<i64>,
) -> Result<web::Json<ProgramView>, ApiError> {
    let program = programs::publish(&db, &user, id.into_inner()).await?;
    Ok(web::Json(ProgramView::new(&program, Utc::now())))
}

/// Closes a published programme to new applications.
#[utoipa::path(tag = "programs", security(("bearer" = [])), params(("id" = i64, Path, description = "programme id")), responses(
    (status = 200, description = "closed", body = ProgramView),
    (status = 409, description = "`conflict`: not published", body = crate::error::Problem, content_type = "application/problem+json"),
))]
#[post("/programs/{id}/close")]
pub async fn close_program(
    user: SignedIn,
    db: web::Data<Db>,
    id: web::Path<i64>,
) -> Result<web::Json<ProgramView>, ApiError> {
    let program = programs::close(&db, &user, id.into_inner()).await?;
    Ok(web::Json(ProgramView::new(&program, Utc::now())))
}

// ---------------------------------------------------------------------------------------------------
// Eligibility

#[derive(Debug, Serialize, ToSchema)]
pub struct CheckView {
    pub rule: &'static str,
    pub passed: bool,
    pub expected: String,
    pub actual: String,
    pub message: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EligibilityView {
    pub eligible: bool,
    pub checks: Vec<CheckView>,
    /// The programme's funding rules in plain words (support family, support ratio), and the award the
    /// company already holds in its support family.
    pub notes: Vec<String>,
}

impl EligibilityView {
    pub fn new(eligibility: Eligibility, lang: Lang) -> Self {
        let Eligibility { checks, notes } = eligibility;
        Self {
            eligible: checks.iter().all(|c| c.passed),
            notes: notes.iter().map(|n| n.get(lang).to_owned()).collect(),
            checks: checks
                .into_iter()
                .map(|c| CheckView {
                    rule: c.rule,
                    passed: c.passed,
                    expected: c.expected.get(lang).to_owned(),
                    actual: c.actual.get(lang).to_owned(),
                    message: c.message.get(lang).to_owned(),
                })
                .collect(),
        }
    }
}

/// Whether the caller's company qualifies for a programme, rule by rule.
#[utoipa::path(tag = "programs", security(("bearer" = [])), params(("id" = i64, Path, description = "programme id")),
    responses((status = 200, description = "the checks", body = EligibilityView)))]
#[get("/programs/{id}/eligibility")]
pub async fn program_eligibility(
    user: SignedIn,
    ctx: RequestContext,
    db: web::Data<Db>,
    portal: web::Data<PortalSettings>,
    id: web::Path<i64>,
) -> Result<web::Json<EligibilityView>, ApiError> {
    let today = time::today(portal.utc_offset);
    let eligibility = programs::eligibility(&db, &user, id.into_inner(), today).await?;
    Ok(web::Json(EligibilityView::new(eligibility, ctx.lang)))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MatchView {
    pub program: ProgramView,
    #[serde(flatten)]
    pub eligibility: EligibilityView,
}

/// Every programme open now with the caller's eligibility, eligible ones first.
#[utoipa::path(tag = "programs", security(("bearer" = [])), responses((status = 200, description = "the open programmes", body = Vec<MatchView>)))]
#[get("/programs/matches")]
pub async fn program_matches(
    user: SignedIn,
    ctx: RequestContext,
    db: web::Data<Db>,
    portal: web::Data<PortalSettings>,
) -> Result<web::Json<Vec<MatchView>>, ApiError> {
    let (now, today) = (Utc::now(), time::today(portal.utc_offset));
    let found = programs::matches(&db, &user, now, today).await?;
    let mut matches: Vec<MatchView> = found
        .into_iter()
        .map(|(program, eligibility)| MatchView {
            program: ProgramView::new(&program, now),
            eligibility: EligibilityView::new(eligibility, ctx.lang),
        })
        .collect();
    matches.sort_by_key(|m| (!m.eligibility.eligible, m.program.terms.closes_at));
    Ok(web::Json(matches))
}
