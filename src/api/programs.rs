//! Support-fund programmes: anyone reads the published ones, admins write them, companies see whether
//! they qualify and why.

use actix_web::http::StatusCode;
use actix_web::{get, patch, post, web};
use chrono::{DateTime, SubsecRound, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};

use crate::api::extract::{Json, Query};
use crate::api::middleware::RequestContext;
use crate::api::pagination::{Page, PageQuery};
use crate::api::session::SignedIn;
use crate::app::companies::CompanyFacts;
pub use crate::app::programs::{DEFAULT_CORRECTION_DAYS, DEFAULT_MAX_TOTAL_UPLOAD_BYTES, Program};
use crate::config::PortalSettings;
use crate::db::Db;
use crate::db::audit::{self, Event};
use crate::db::programs::{self, ProgramFields};
use crate::domain::eligibility::{Check, Rule};
use crate::domain::program::{self, Category, Definition, FormField, Guide, Material, ProgramStatus};
use crate::domain::role::Role;
use crate::domain::time;
use crate::error::ApiError;
use crate::i18n::{Lang, Text};

#[derive(Debug, Serialize, ToSchema)]
pub struct ProgramView {
    pub id: i64,
    #[schema(example = "IC-2026")]
    pub code: String,
    pub title: String,
    pub category: Category,
    pub summary: String,
    pub guide: Guide,
    pub opens_at: DateTime<Utc>,
    pub closes_at: DateTime<Utc>,
    /// The window is open now.
    pub is_open: bool,
    pub budget_fen: i64,
    pub reserved_fen: i64,
    pub disbursed_fen: i64,
    pub available_fen: i64,
    pub max_award_fen: i64,
    pub public_notice_days: i32,
    pub payment_due_days: i32,
    pub correction_days: i32,
    pub min_expert_reviews: i32,
    pub max_total_upload_bytes: i64,
    pub eligibility_rules: Vec<Rule>,
    pub required_materials: Vec<Material>,
    pub form_fields: Vec<FormField>,
    pub status: ProgramStatus,
}

impl ProgramView {
    pub fn new(program: Program, now: DateTime<Utc>) -> Self {
        let is_open = program.is_open(now);
        let status = program.status();
        let Program { row, guide, rules, materials, fields } = program;
        Self {
            id: row.id,
            category: Category::parse(&row.category).unwrap_or(Category::Other),
            code: row.code,
            title: row.title,
            summary: row.summary,
            guide,
            opens_at: time::to_utc(row.opens_at),
            closes_at: time::to_utc(row.closes_at),
            is_open,
            available_fen: row.budget_fen - row.reserved_fen - row.disbursed_fen,
            budget_fen: row.budget_fen,
            reserved_fen: row.reserved_fen,
            disbursed_fen: row.disbursed_fen,
            max_award_fen: row.max_award_fen,
            public_notice_days: row.public_notice_days,
            payment_due_days: row.payment_due_days,
            correction_days: row.correction_days,
            min_expert_reviews: row.min_expert_reviews,
            max_total_upload_bytes: row.max_total_upload_bytes,
            eligibility_rules: rules,
            required_materials: materials,
            form_fields: fields,
            status,
        }
    }
}

/// A programme as an administrator writes it.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProgramInput {
    pub code: String,
    pub title: String,
    pub category: Category,
    pub summary: String,
    pub guide: Guide,
    pub opens_at: DateTime<Utc>,
    pub closes_at: DateTime<Utc>,
    pub budget_fen: i64,
    pub max_award_fen: i64,
    pub public_notice_days: i32,
    pub payment_due_days: i32,
    /// Working days a returned application has for its correction; 10 when absent.
    pub correction_days: Option<i32>,
    pub min_expert_reviews: i32,
    /// All of an application's files together; 200 MiB when absent.
    pub max_total_upload_bytes: Option<i64>,
    pub eligibility_rules: Vec<Rule>,
    pub required_materials: Vec<Material>,
    pub form_fields: Vec<FormField>,
}

/// Changes to a programme; once it is published, only the title, summary, guide and closing time.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProgramPatch {
    pub code: Option<String>,
    pub title: Option<String>,
    pub category: Option<Category>,
    pub summary: Option<String>,
    pub guide: Option<Guide>,
    pub opens_at: Option<DateTime<Utc>>,
    pub closes_at: Option<DateTime<Utc>>,
    pub budget_fen: Option<i64>,
    pub max_award_fen: Option<i64>,
    pub public_notice_days: Option<i32>,
    pub payment_due_days: Option<i32>,
    pub correction_days: Option<i32>,
    pub min_expert_reviews: Option<i32>,
    pub max_total_upload_bytes: Option<i64>,
    pub eligibility_rules: Option<Vec<Rule>>,
    pub required_materials: Option<Vec<Material>>,
    pub form_fields: Option<Vec<FormField>>,
}

impl ProgramPatch {
    /// The fields this patch sets that a published programme no longer accepts.
    fn frozen_fields(&self) -> Vec<&'static str> {
        [
            ("code", self.code.is_some()),
            ("category", self.category.is_some()),
            ("opens_at", self.opens_at.is_some()),
            ("budget_fen", self.budget_fen.is_some()),
            ("max_award_fen", self.max_award_fen.is_some()),
            ("public_notice_days", self.public_notice_days.is_some()),
            ("payment_due_days", self.payment_due_days.is_some()),
            ("correction_days", self.correction_days.is_some()),
            ("min_expert_reviews", self.min_expert_reviews.is_some()),
            ("max_total_upload_bytes", self.max_total_upload_bytes.is_some()),
            ("eligibility_rules", self.eligibility_rules.is_some()),
            ("required_materials", self.required_materials.is_some()),
            ("form_fields", self.form_fields.is_some()),
        ]
        .into_iter()
        .filter_map(|(name, set)| set.then_some(name))
        .collect()
    }

    fn apply(self, input: &mut ProgramInput) {
        macro_rules! take {
            ($($field:ident),+) => { $(if let Some(value) = self.$field { input.$field = value; })+ };
        }
        take!(code, title, category, summary, guide, opens_at, closes_at, budget_fen, max_award_fen);
        take!(
            public_notice_days,
            payment_due_days,
            min_expert_reviews,
            eligibility_rules,
            required_materials,
            form_fields
        );
        if self.correction_days.is_some() {
            input.correction_days = self.correction_days;
        }
        if self.max_total_upload_bytes.is_some() {
            input.max_total_upload_bytes = self.max_total_upload_bytes;
        }
    }
}

impl ProgramInput {
    fn from_program(program: &Program) -> Self {
        let row = &program.row;
        Self {
            code: row.code.clone(),
            title: row.title.clone(),
            category: Category::parse(&row.category).unwrap_or(Category::Other),
            summary: row.summary.clone(),
            guide: program.guide.clone(),
            opens_at: time::to_utc(row.opens_at),
            closes_at: time::to_utc(row.closes_at),
            budget_fen: row.budget_fen,
            max_award_fen: row.max_award_fen,
            public_notice_days: row.public_notice_days,
            payment_due_days: row.payment_due_days,
            correction_days: Some(row.correction_days),
            min_expert_reviews: row.min_expert_reviews,
            max_total_upload_bytes: Some(row.max_total_upload_bytes),
            eligibility_rules: program.rules.clone(),
            required_materials: program.materials.clone(),
            form_fields: program.fields.clone(),
        }
    }

    /// The programme as stored, or every problem with it at once.
    pub fn validated(&self) -> Result<ProgramFields, ApiError> {
        let code = self.code.trim().to_uppercase();
        let correction_days = self.correction_days.unwrap_or(DEFAULT_CORRECTION_DAYS);
        let max_total_upload_bytes = self.max_total_upload_bytes.unwrap_or(DEFAULT_MAX_TOTAL_UPLOAD_BYTES);
        let mut errors = program::check(&Definition {
            code: &code,
            opens_at: self.opens_at,
            closes_at: self.closes_at,
            budget_fen: self.budget_fen,
            max_award_fen: self.max_award_fen,
            public_notice_days: self.public_notice_days,
            payment_due_days: self.payment_due_days,
            correction_days,
            min_expert_reviews: self.min_expert_reviews,
            max_total_upload_bytes,
            rules: &self.eligibility_rules,
            materials: &self.required_materials,
            fields: &self.form_fields,
        });
        for (field, text, limit) in [("title", &self.title, 200), ("summary", &self.summary, 2000)] {
            let length = text.trim().chars().count();
            if length == 0 || length > limit {
                errors.push(crate::error::FieldError::new(
                    field,
                    "length",
                    Text::owned(format!("须为 1–{limit} 个字符。"), format!("Must be 1 to {limit} characters.")),
                ));
            }
        }
        if !errors.is_empty() {
            return Err(ApiError::validation(errors));
        }
        Ok(ProgramFields {
            code,
            title: self.title.trim().to_owned(),
            category: self.category.as_str().to_owned(),
            summary: self.summary.trim().to_owned(),
            guide: json(&self.guide),
            opens_at: self.opens_at.naive_utc().trunc_subsecs(6),
            closes_at: self.closes_at.naive_utc().trunc_subsecs(6),
            budget_fen: self.budget_fen,
            max_award_fen: self.max_award_fen,
            public_notice_days: self.public_notice_days,
            payment_due_days: self.payment_due_days,
            correction_days,
            min_expert_reviews: self.min_expert_reviews,
            max_total_upload_bytes,
            eligibility_rules: json(&self.eligibility_rules),
            required_materials: json(&self.required_materials),
            form_fields: json(&self.form_fields),
            updated_at: time::now(),
        })
    }
}

/// A programme part as the JSON text it is stored as.
fn json<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("programme parts always serialise")
}

fn code_taken() -> ApiError {
    ApiError::conflict("code_taken", Text::new("该项目编号已被使用。", "This programme code is already in use."))
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
}

/// Published programmes, for anyone.
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
    let (page, per_page, offset) = PageQuery { page: query.page, per_page: query.per_page }.resolve()?;
    let status = query.status.unwrap_or(ProgramStatus::Published);
    if status != ProgramStatus::Published {
        viewer.as_ref().map_or(Err(crate::auth::tokens::invalid_token()), |v| Ok(v.require(&[Role::Admin])?))?;
    }
    let now = Utc::now();
    let filter = programs::Filter {
        statuses: vec![status.as_str().to_owned()],
        category: query.category.map(|c| c.as_str().to_owned()),
        open_at: (query.open == Some(true)).then(|| now.naive_utc()),
        closed_at: (query.open == Some(false)).then(|| now.naive_utc()),
    };
    let (rows, total) = db.read(move |conn| programs::list(conn, &filter, offset, per_page)).await?;
    let items = rows
        .into_iter()
        .map(|row| Program::from_row(row).map(|p| ProgramView::new(p, now)))
        .collect::<Result<_, _>>()?;
    Ok(web::Json(Page { items, page, per_page, total }))
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
    let id = id.into_inner();
    let program = db.read(move |conn| Program::load(conn, id)).await?;
    if !program.visible_to(viewer.as_ref()) {
        return Err(ApiError::NotFound);
    }
    Ok(web::Json(ProgramView::new(program, Utc::now())))
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
    user.require(&[Role::Admin])?;
    let fields = body.into_inner().validated()?;
    let actor = user.actor();
    let row = db
        .write(move |conn| {
            if programs::code_taken(conn, &fields.code, None)? {
                return Err(code_taken());
            }
            let row = programs::insert(conn, &fields, time::now())?;
            audit::append(conn, &actor, Event::new("program.create", "program", row.id, json!({ "code": row.code })))?;
            Ok(row)
        })
        .await?;
    Ok((web::Json(ProgramView::new(Program::from_row(row)?, Utc::now())), StatusCode::CREATED))
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
    user.require(&[Role::Admin])?;
    let (id, patch) = (id.into_inner(), body.into_inner());
    let actor = user.actor();
    let program = db
        .write(move |conn| {
            let current = Program::load(conn, id)?;
            let frozen = patch.frozen_fields();
            if current.status() != ProgramStatus::Draft && !frozen.is_empty() {
                return Err(ApiError::conflict(
                    "program_frozen",
                    Text::owned(
                        format!("项目已发布，以下内容不能再修改：{}。", frozen.join("、")),
                        format!("The programme is published; these can no longer change: {}.", frozen.join(", ")),
                    ),
                ));
            }
            let changed: Vec<&str> = patch_names(&patch);
            let mut input = ProgramInput::from_program(&current);
            patch.apply(&mut input);
            let fields = input.validated()?;
            if programs::code_taken(conn, &fields.code, Some(id))? {
                return Err(code_taken());
            }
            if !programs::update(conn, id, &fields, &current.row.status, current.row.updated_at)? {
                return Err(ApiError::conflict(
                    "conflict",
                    Text::new(
                        "项目刚被他人修改，请刷新后重试。",
                        "The programme changed meanwhile; reload and try again.",
                    ),
                ));
            }
            audit::append(conn, &actor, Event::new("program.update", "program", id, json!({ "changed": changed })))?;
            Ok::<_, ApiError>(Program::load(conn, id)?)
        })
        .await?;
    Ok(web::Json(ProgramView::new(program, Utc::now())))
}

fn patch_names(patch: &ProgramPatch) -> Vec<&'static str> {
    let mut names = patch.frozen_fields();
    for (name, set) in [
        ("title", patch.title.is_some()),
        ("summary", patch.summary.is_some()),
        ("guide", patch.guide.is_some()),
        ("closes_at", patch.closes_at.is_some()),
    ] {
        if set {
            names.push(name);
        }
    }
    names
}

async fn move_status(
    user: SignedIn,
    db: web::Data<Db>,
    id: i64,
    from: ProgramStatus,
    to: ProgramStatus,
) -> Result<web::Json<ProgramView>, ApiError> {
    user.require(&[Role::Admin])?;
    let actor = user.actor();
    let program = db
        .write(move |conn| {
            let current = Program::load(conn, id)?;
            if !programs::set_status(conn, id, from.as_str(), to.as_str(), time::now())? {
                return Err(ApiError::conflict(
                    "conflict",
                    Text::owned(
                        format!("项目当前为“{}”状态，不能执行此操作。", current.row.status),
                        format!("The programme is {}; this is not possible now.", current.row.status),
                    ),
                ));
            }
            let summary = json!({ "from": from.as_str(), "to": to.as_str() });
            audit::append(conn, &actor, Event::new("program.status", "program", id, summary))?;
            Ok::<_, ApiError>(Program::load(conn, id)?)
        })
        .await?;
    Ok(web::Json(ProgramView::new(program, Utc::now())))
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
    move_status(user, db, id.into_inner(), ProgramStatus::Draft, ProgramStatus::Published).await
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
    move_status(user, db, id.into_inner(), ProgramStatus::Published, ProgramStatus::Closed).await
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
}

impl EligibilityView {
    pub fn new(checks: Vec<Check>, lang: Lang) -> Self {
        Self {
            eligible: checks.iter().all(|c| c.passed),
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
    let company_id = user.company_id()?;
    let (id, today) = (id.into_inner(), time::today(portal.utc_offset));
    let checks = db
        .read(move |conn| {
            let program = Program::load(conn, id)?;
            if !program.visible_to(Some(&user)) {
                return Err(ApiError::NotFound);
            }
            Ok(CompanyFacts::load(conn, company_id, today)?.evaluate(&program.rules))
        })
        .await?;
    Ok(web::Json(EligibilityView::new(checks, ctx.lang)))
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
    let company_id = user.company_id()?;
    let today = time::today(portal.utc_offset);
    let now = Utc::now();
    let found = db
        .read(move |conn| {
            let filter = programs::Filter {
                statuses: vec![ProgramStatus::Published.as_str().to_owned()],
                open_at: Some(now.naive_utc()),
                ..programs::Filter::default()
            };
            let (rows, _) = programs::list(conn, &filter, 0, i64::MAX)?;
            let facts = CompanyFacts::load(conn, company_id, today)?;
            rows.into_iter()
                .map(|row| {
                    let program = Program::from_row(row)?;
                    let checks = facts.evaluate(&program.rules);
                    Ok((program, checks))
                })
                .collect::<Result<Vec<_>, ApiError>>()
        })
        .await?;
    let mut matches: Vec<MatchView> = found
        .into_iter()
        .map(|(program, checks)| MatchView {
            program: ProgramView::new(program, now),
            eligibility: EligibilityView::new(checks, ctx.lang),
        })
        .collect();
    matches.sort_by_key(|m| (!m.eligibility.eligible, m.program.closes_at));
    Ok(web::Json(matches))
}
