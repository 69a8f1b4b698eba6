//! Programmes: the support funds companies apply to. Anyone reads the published ones, administrators
//! write them, companies see whether they qualify and why.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde_json::json;

use crate::app::companies::CompanyFacts;
use crate::app::{Result, SignedIn};
use crate::db::audit::{self, Event};
pub use crate::db::programs::Program;
use crate::db::programs::{self, Filter};
use crate::db::{Db, DbConnection, applications};
use crate::domain::eligibility::Check;
use crate::domain::error::Error as Refusal;
use crate::domain::funding;
use crate::domain::program::{Category, ProgramPatch, ProgramStatus, ProgramTerms, check_patch};
pub use crate::domain::program::{DEFAULT_CORRECTION_DAYS, DEFAULT_MAX_TOTAL_UPLOAD_BYTES};
use crate::domain::role::Role;
use crate::domain::time;
use crate::i18n::Text;

impl Program {
    pub fn load(conn: &mut DbConnection, id: i64) -> Result<Self> {
        Ok(programs::find(conn, id)?)
    }

    pub fn status(&self) -> ProgramStatus {
        self.status
    }

    /// Published, and its window contains `now`.
    pub fn is_open(&self, now: DateTime<Utc>) -> bool {
        self.status == ProgramStatus::Published
            && time::to_utc(self.opens_at) <= now
            && now < time::to_utc(self.closes_at)
    }

    /// Anyone sees published and closed programmes; drafts are for administrators only.
    pub fn visible_to(&self, viewer: Option<&SignedIn>) -> bool {
        self.status != ProgramStatus::Draft || viewer.is_some_and(|v| v.role == Role::Admin)
    }

    /// The budget not yet reserved or paid.
    pub fn available_fen(&self) -> i64 {
        self.budget_fen - self.reserved_fen - self.disbursed_fen
    }

    /// A new draft on `terms` (validated).
    fn draft(terms: ProgramTerms, now: NaiveDateTime) -> Self {
        Self {
            id: 0,
            correction_days: terms.correction_days,
            max_total_upload_bytes: terms.max_total_upload_bytes,
            opens_at: terms.opens_at.naive_utc(),
            closes_at: terms.closes_at.naive_utc(),
            code: terms.code,
            title: terms.title,
            category: terms.category,
            summary: terms.summary,
            guide: terms.guide,
            budget_fen: terms.budget_fen,
            max_award_fen: terms.max_award_fen,
            public_notice_days: terms.public_notice_days,
            payment_due_days: terms.payment_due_days,
            min_expert_reviews: terms.min_expert_reviews,
            rules: terms.eligibility_rules,
            materials: terms.required_materials,
            fields: terms.form_fields,
            support_family: terms.support_family,
            max_support_ratio_percent: terms.max_support_ratio_percent,
            reserved_fen: 0,
            disbursed_fen: 0,
            status: ProgramStatus::Draft,
            last_reference_seq: 0,
            created_at: now,
            updated_at: now,
        }
    }

    /// This programme with what an administrator writes taken from `terms` (validated).
    fn redefined(self, terms: ProgramTerms, now: NaiveDateTime) -> Self {
        Self {
            id: self.id,
            reserved_fen: self.reserved_fen,
            disbursed_fen: self.disbursed_fen,
            status: self.status,
            last_reference_seq: self.last_reference_seq,
            created_at: self.created_at,
            ..Self::draft(terms, now)
        }
    }

    /// What an administrator wrote, as they would write it again.
    pub fn terms(&self) -> ProgramTerms {
        ProgramTerms {
            code: self.code.clone(),
            title: self.title.clone(),
            category: self.category,
            summary: self.summary.clone(),
            guide: self.guide.clone(),
            opens_at: time::to_utc(self.opens_at),
            closes_at: time::to_utc(self.closes_at),
            budget_fen: self.budget_fen,
            max_award_fen: self.max_award_fen,
            public_notice_days: self.public_notice_days,
            payment_due_days: self.payment_due_days,
            correction_days: self.correction_days,
            min_expert_reviews: self.min_expert_reviews,
            max_total_upload_bytes: self.max_total_upload_bytes,
            eligibility_rules: self.rules.clone(),
            required_materials: self.materials.clone(),
            form_fields: self.fields.clone(),
            support_family: self.support_family.clone(),
            max_support_ratio_percent: self.max_support_ratio_percent,
        }
    }
}

/// Which programmes a list shows.
#[derive(Debug, Clone, Copy, Default)]
pub struct Listing {
    pub category: Option<Category>,
    /// `true`: only programmes whose window is open now; `false`: only those whose window is not.
    pub open: Option<bool>,
    /// Published when absent; other statuses for administrators only.
    pub status: Option<ProgramStatus>,
}

/// A page of programmes and how many there are in all.
pub async fn list(
    db: &Db,
    viewer: Option<&SignedIn>,
    listing: Listing,
    start: crate::db::Start<(chrono::NaiveDateTime, i64)>,
    limit: i64,
) -> Result<(Vec<Program>, i64)> {
    let status = listing.status.unwrap_or(ProgramStatus::Published);
    if status != ProgramStatus::Published {
        let viewer = viewer.ok_or_else(|| Refusal::forbidden(Text::new("请先登录。", "Sign in first.")))?;
        viewer.require(&[Role::Admin])?;
    }
    let now = Utc::now().naive_utc();
    let filter = Filter {
        statuses: vec![status],
        category: listing.category,
        open_at: (listing.open == Some(true)).then_some(now),
        closed_at: (listing.open == Some(false)).then_some(now),
    };
    Ok(db.read(move |conn| programs::list(conn, &filter, start, limit)).await?)
}

/// One programme, if the viewer may see it.
pub async fn get(db: &Db, viewer: Option<&SignedIn>, id: i64) -> Result<Program> {
    let program = db.read(move |conn| Program::load(conn, id)).await?;
    if program.visible_to(viewer) { Ok(program) } else { Err(Refusal::NotFound.into()) }
}

fn code_taken() -> Refusal {
    Refusal::conflict("code_taken", Text::new("该项目编号已被使用。", "This programme code is already in use."))
}

/// Creates a programme as a draft (administrators).
pub async fn create(db: &Db, caller: &SignedIn, terms: ProgramTerms) -> Result<Program> {
    caller.require(&[Role::Admin])?;
    let terms = terms.validated()?;
    let actor = caller.actor();
    db.write(move |conn| create_in(conn, &actor, terms, json!({}))).await
}

/// Inserts a draft with its audit event, in the caller's transaction; `summary` is added to the event's.
fn create_in(
    conn: &mut DbConnection,
    actor: &crate::domain::audit::Actor,
    terms: ProgramTerms,
    mut summary: serde_json::Value,
) -> Result<Program> {
    if programs::code_taken(conn, &terms.code, None)? {
        return Err(code_taken().into());
    }
    let program = programs::insert(conn, Program::draft(terms, time::now()))?;
    summary["code"] = json!(program.code);
    audit::append(conn, actor, Event::new("program.create", "program", program.id, summary))?;
    Ok(program)
}

/// Edits a programme (administrators). Once published, its rules, materials, form and money are frozen:
/// only the title, summary, guide and closing time may change.
pub async fn update(db: &Db, caller: &SignedIn, id: i64, patch: ProgramPatch) -> Result<Program> {
    caller.require(&[Role::Admin])?;
    let actor = caller.actor();
    db.write(move |conn| {
        let program = Program::load(conn, id)?;
        check_patch(program.status, &patch)?;
        let changed = patch.changed();
        let mut terms = program.terms();
        patch.apply(&mut terms);
        let terms = terms.validated()?;
        if programs::code_taken(conn, &terms.code, Some(id))? {
            return Err(code_taken().into());
        }
        let (status, read_at) = (program.status, program.updated_at);
        if !programs::update(conn, program.redefined(terms, time::now()), status, read_at)? {
            return Err(Refusal::conflict(
                "conflict",
                Text::new("项目刚被他人修改，请刷新后重试。", "The programme changed meanwhile; reload and try again."),
            )
            .into());
        }
        audit::append(conn, &actor, Event::new("program.update", "program", id, json!({ "changed": changed })))?;
        Program::load(conn, id)
    })
    .await
}

/// Publishes a draft (administrators): companies can read it and apply inside its window.
pub async fn publish(db: &Db, caller: &SignedIn, id: i64) -> Result<Program> {
    move_status(db, caller, id, ProgramStatus::Draft, ProgramStatus::Published).await
}

/// Closes a published programme to new applications (administrators).
pub async fn close(db: &Db, caller: &SignedIn, id: i64) -> Result<Program> {
    move_status(db, caller, id, ProgramStatus::Published, ProgramStatus::Closed).await
}

async fn move_status(db: &Db, caller: &SignedIn, id: i64, from: ProgramStatus, to: ProgramStatus) -> Result<Program> {
    caller.require(&[Role::Admin])?;
    let actor = caller.actor();
    db.write(move |conn| {
        let current = Program::load(conn, id)?;
        if !programs::set_status(conn, id, from, to, time::now())? {
            let status = current.status.as_str();
            return Err(Refusal::conflict(
                "conflict",
                Text::owned(
                    format!("项目当前为“{status}”状态，不能执行此操作。"),
                    format!("The programme is {status}; this is not possible now."),
                ),
            )
            .into());
        }
        let summary = json!({ "from": from.as_str(), "to": to.as_str() });
        audit::append(conn, &actor, Event::new("program.status", "program", id, summary))?;
        Program::load(conn, id)
    })
    .await
}

/// A company's eligibility for a programme: its checks, and the programme's funding rules in plain
/// words with the award the company already holds in the programme's support family.
#[derive(Debug)]
pub struct Eligibility {
    pub checks: Vec<Check>,
    pub notes: Vec<Text>,
}

impl Program {
    /// The funding rules (support family, support ratio) in plain words, for the guide.
    pub fn funding_rules(&self) -> Vec<Text> {
        funding::rules_in_words(self.support_family.as_deref(), self.max_support_ratio_percent)
    }
}

/// [`Program::funding_rules`] and, in a support family, the awards the company holds in it elsewhere.
fn funding_notes(conn: &mut DbConnection, program: &Program, company_id: i64) -> Result<Vec<Text>> {
    let mut notes = program.funding_rules();
    if let Some(family) = program.support_family.as_deref() {
        for award in applications::awards_in_family(conn, company_id, family, 0)? {
            if award.program_id != program.id {
                let reference = award.reference_no.unwrap_or_else(|| format!("#{}", award.id));
                let amount = award.approved_amount_fen.unwrap_or(0);
                notes.push(funding::held_in_family(family, &reference, &award.program_title, amount));
            }
        }
    }
    Ok(notes)
}

/// Whether the caller's company qualifies for a programme, rule by rule (applicants).
pub async fn eligibility(db: &Db, caller: &SignedIn, id: i64, today: NaiveDate) -> Result<Eligibility> {
    let company_id = caller.company_id()?;
    let caller = caller.clone();
    db.read(move |conn| {
        let program = Program::load(conn, id)?;
        if !program.visible_to(Some(&caller)) {
            return Err(Refusal::NotFound.into());
        }
        let checks = CompanyFacts::load(conn, company_id, today)?.evaluate(&program.rules);
        Ok(Eligibility { checks, notes: funding_notes(conn, &program, company_id)? })
    })
    .await
}

/// Every programme open at `now` with the caller's eligibility for it (applicants), in no particular order.
pub async fn matches(
    db: &Db,
    caller: &SignedIn,
    now: DateTime<Utc>,
    today: NaiveDate,
) -> Result<Vec<(Program, Eligibility)>> {
    let company_id = caller.company_id()?;
    db.read(move |conn| {
        let filter =
            Filter { statuses: vec![ProgramStatus::Published], open_at: Some(now.naive_utc()), ..Filter::default() };
        let (programs, _) = programs::list(conn, &filter, crate::db::Start::Offset(0), i64::MAX - 1)?;
        let facts = CompanyFacts::load(conn, company_id, today)?;
        programs
            .into_iter()
            .map(|program| {
                let checks = facts.evaluate(&program.rules);
                let notes = funding_notes(conn, &program, company_id)?;
                Ok((program, Eligibility { checks, notes }))
            })
            .collect()
    })
    .await
}

/// Creates and publishes each of `definitions` whose code is not taken yet, for a demonstration; nobody
/// signed in, so the audit events name no actor. Answers the programmes created.
pub async fn seed(db: &Db, definitions: Vec<ProgramTerms>) -> Result<Vec<Program>> {
    let definitions = definitions
        .into_iter()
        .map(|terms| {
            let code = terms.code.clone();
            terms.validated().map_err(|refusal| anyhow::anyhow!("demo programme {code}: {refusal:?}"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    db.write(move |conn| {
        let mut created = Vec::new();
        let actor = crate::domain::audit::Actor::default();
        for terms in definitions {
            if programs::code_taken(conn, &terms.code, None)? {
                continue;
            }
            let program = create_in(conn, &actor, terms, json!({ "seeded": true }))?;
            programs::set_status(conn, program.id, ProgramStatus::Draft, ProgramStatus::Published, time::now())?;
            created.push(Program::load(conn, program.id)?);
        }
        Ok(created)
    })
    .await
}
