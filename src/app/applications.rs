//! Applications: a company's drafts, who may see them, and each as its caller sees it.

use std::collections::HashMap;

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use serde_json::{Map, Value, json};

use crate::app::programs::Program;
use crate::app::{Result, SignedIn, attachments};
use crate::db::applications::{self, ApplicationRecord, Filter, ListKey, Scope};
use crate::db::audit::{self, Event};
use crate::db::expert_reviews::{self, Assignment};
use crate::db::{self, Db, DbConnection, objections};
use crate::domain::error::Error as Refusal;
use crate::domain::paging;
use crate::domain::program::{ProgramStatus, check_form};
use crate::domain::role::Role;
use crate::domain::submission::check_requested_amount;
use crate::domain::time;
use crate::domain::workflow::{self, Action, Context, ExpertStanding, Notice, Status, Visibility};
use crate::i18n::Text;
use crate::storage::Storage;

pub fn status_of(record: &ApplicationRecord) -> Result<Status> {
    let stored = &record.application.status;
    Status::parse(stored).ok_or_else(|| {
        db::Error::damaged("applications", record.application.id, format!("unknown status `{stored}`")).into()
    })
}

/// The stored answers of the application's form; anything but a JSON object is damaged data.
pub fn form_of(record: &ApplicationRecord) -> Result<Map<String, Value>> {
    let a = &record.application;
    match serde_json::from_str(&a.form_data) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(db::Error::damaged("applications", a.id, "form_data is not an object").into()),
        Err(error) => {
            Err(db::Error::damaged("applications", a.id, format!("form_data does not parse: {error}")).into())
        }
    }
}

/// The answers a caller sent: an object, or none at all.
pub fn form_object(value: Option<Value>) -> Result<Map<String, Value>, Refusal> {
    match value.unwrap_or_else(|| json!({})) {
        Value::Object(map) => Ok(map),
        _ => Err(Refusal::field(
            "form_data",
            "invalid_type",
            Text::new("申报表内容须为对象（键值对）。", "form_data must be an object of answers."),
        )),
    }
}

/// The application if the caller may see it: a company its own, an expert those assigned to them,
/// staff all. Anything else is not found, so its existence is not confirmed.
pub fn find_visible(conn: &mut DbConnection, user: &SignedIn, id: i64) -> Result<ApplicationRecord> {
    let record = applications::find(conn, id)?;
    if may_see(user, &record, || Ok(expert_reviews::is_assigned(conn, id, user.user_id)?))? {
        Ok(record)
    } else {
        Err(Refusal::NotFound.into())
    }
}

/// The application as staff act on it: never a draft (not found, like an application that does not exist).
pub fn find_submitted(conn: &mut DbConnection, id: i64) -> Result<ApplicationRecord> {
    let record = applications::find(conn, id)?;
    if record.application.submitted_at.is_some() { Ok(record) } else { Err(Refusal::NotFound.into()) }
}

/// Whether `user` may see `record`; `assigned` tells whether an expert is assigned to it.
pub fn may_see(user: &SignedIn, record: &ApplicationRecord, assigned: impl FnOnce() -> Result<bool>) -> Result<bool> {
    Ok(
        match workflow::visibility(
            user.role,
            user.company_id,
            record.application.company_id,
            record.application.submitted_at.is_some(),
        ) {
            Visibility::Visible => true,
            Visibility::Hidden => false,
            Visibility::IfAssigned => assigned()?,
        },
    )
}

/// An application as one caller sees it.
#[derive(Debug)]
pub struct Seen {
    pub record: ApplicationRecord,
    pub status: Status,
    pub form: Map<String, Value>,
    /// What the caller may do now, from the same table that enforces the actions.
    pub allowed: Vec<Action>,
    /// An expert who has not declared no conflict of interest sees only the programme, the reference
    /// number and the company.
    pub withheld: bool,
}

/// The workflow contexts of `records` for `user`: their standing as an expert, the scores in, and where
/// each public notice stands. `assignments` are all of these applications' assignments.
fn contexts(
    conn: &mut DbConnection,
    records: &[&ApplicationRecord],
    assignments: &[Assignment],
    user: &SignedIn,
    today: NaiveDate,
) -> Result<HashMap<i64, Context>> {
    let ended = |r: &ApplicationRecord| {
        workflow::notice_ended(r.application.notice_ends_on, r.program_public_notice_days, today)
    };
    let ended_ids: Vec<i64> = records.iter().filter(|r| ended(r)).map(|r| r.application.id).collect();
    let objections = objections::open_and_upheld(conn, &ended_ids)?;
    Ok(records
        .iter()
        .map(|r| {
            let id = r.application.id;
            let mine: Vec<_> = assignments.iter().filter(|row| row.0 == id).collect();
            let standing =
                ExpertStanding::of(mine.iter().find(|row| row.1 == user.user_id).map(|row| (row.2, row.3.is_some())));
            let (open, upheld) = objections.get(&id).copied().unwrap_or((0, 0));
            let context = Context {
                own_company: user.company_id == Some(r.application.company_id),
                expert: standing,
                scores: i32::try_from(mine.iter().filter(|row| row.3.is_some()).count()).unwrap_or(i32::MAX),
                min_scores: r.program_min_expert_reviews,
                notice: Notice::after(ended(r), open, upheld),
            };
            (id, context)
        })
        .collect())
}

/// What the workflow's guards read about this application and this caller.
pub fn context(
    conn: &mut DbConnection,
    record: &ApplicationRecord,
    user: &SignedIn,
    today: NaiveDate,
) -> Result<Context> {
    let assignments = expert_reviews::of_applications(conn, &[record.application.id])?;
    let mut contexts = contexts(conn, &[record], &assignments, user, today)?;
    Ok(contexts.remove(&record.application.id).unwrap_or_default())
}

/// The application as `user` sees it, read with its expert assignments in one query.
pub fn view(conn: &mut DbConnection, user: &SignedIn, id: i64, today: NaiveDate) -> Result<Seen> {
    let (record, assignments) = applications::find_with_assignments(conn, id)?;
    if !may_see(user, &record, || Ok(assignments.iter().any(|a| a.1 == user.user_id)))? {
        return Err(Refusal::NotFound.into());
    }
    let mut contexts = contexts(conn, &[&record], &assignments, user, today)?;
    let ctx = contexts.remove(&id).unwrap_or_default();
    seen_by(user, record, &ctx)
}

/// [`view`] for a page of applications, reading their workflow contexts together.
fn views(
    conn: &mut DbConnection,
    user: &SignedIn,
    records: Vec<ApplicationRecord>,
    today: NaiveDate,
) -> Result<Vec<Seen>> {
    let ids: Vec<i64> = records.iter().map(|r| r.application.id).collect();
    let assignments = expert_reviews::of_applications(conn, &ids)?;
    let mut contexts = contexts(conn, &records.iter().collect::<Vec<_>>(), &assignments, user, today)?;
    records
        .into_iter()
        .map(|record| {
            let ctx = contexts.remove(&record.application.id).unwrap_or_default();
            seen_by(user, record, &ctx)
        })
        .collect()
}

fn seen_by(user: &SignedIn, record: ApplicationRecord, ctx: &Context) -> Result<Seen> {
    let status = status_of(&record)?;
    let form = form_of(&record)?;
    let cleared = user.role != Role::Expert || matches!(ctx.expert, ExpertStanding::Cleared { .. });
    Ok(Seen { allowed: workflow::allowed(status, user.role, ctx), status, form, record, withheld: !cleared })
}

/// A new draft as the company sends it.
#[derive(Debug)]
pub struct NewDraft {
    pub program_id: i64,
    pub requested_amount_fen: i64,
    pub form_data: Option<Value>,
}

fn duplicate_application() -> Refusal {
    Refusal::conflict(
        "duplicate_application",
        Text::new(
            "贵公司已有该项目的申报（未撤回），请在原申报上继续。",
            "Your company already has an application to this programme; continue with that one.",
        ),
    )
}

/// Starts a draft application to a published programme (a company only, one live application per
/// programme).
pub async fn create(db: &Db, caller: &SignedIn, draft: NewDraft, today: NaiveDate) -> Result<Seen> {
    let company_id = caller.company_id()?;
    check_requested_amount(draft.requested_amount_fen)?;
    let form = form_object(draft.form_data)?;
    let (user, actor) = (caller.clone(), caller.actor());
    db.write(move |conn| {
        let program =
            Program::load(conn, draft.program_id).ok().filter(|p| p.visible_to(Some(&user))).ok_or_else(|| {
                Refusal::field("program_id", "unknown", Text::new("没有这个政策项目。", "There is no such programme."))
            })?;
        if program.status() != ProgramStatus::Published {
            return Err(Refusal::conflict(
                "program_not_open",
                Text::new("该项目已截止或尚未发布，不能申报。", "This programme is not open for applications."),
            )
            .into());
        }
        Refusal::unless_any(check_form(&program.fields, &form, false))?;
        if applications::live_for(conn, program.id, company_id)?.is_some() {
            return Err(duplicate_application().into());
        }
        let form_text = Value::Object(form).to_string();
        let amount = draft.requested_amount_fen;
        let id =
            applications::insert_draft(conn, program.id, company_id, user.user_id, amount, &form_text, time::now())
                .map_err(|e| -> crate::app::Error {
                    if matches!(e, db::Error::UniqueViolation { .. }) {
                        duplicate_application().into()
                    } else {
                        e.into()
                    }
                })?;
        let summary = json!({ "program_id": program.id, "requested_amount_fen": amount });
        audit::append(conn, &actor, Event::new("application.create", "application", id, summary))?;
        view(conn, &user, id, today)
    })
    .await
}

/// Which applications to list, in the park's calendar days.
#[derive(Debug)]
pub struct ListQuery {
    pub status: Option<Status>,
    pub program_id: Option<i64>,
    pub company_id: Option<i64>,
    pub submitted_from: Option<NaiveDate>,
    pub submitted_to: Option<NaiveDate>,
    pub q: Option<String>,
    pub start: db::Start<ListKey>,
    pub limit: i64,
}

impl ListQuery {
    /// Whether the list is in order of submission, newest first, rather than of creation: a list filtered by
    /// submission dates is.
    pub fn by_submission(&self) -> bool {
        self.submitted_from.is_some() || self.submitted_to.is_some()
    }
}

impl Seen {
    /// The key of a cursor after this application, in a list in order of submission or of creation.
    pub fn key(&self, by_submission: bool) -> ListKey {
        ListKey::of(&self.record.application, by_submission)
    }
}

/// Applications the caller may see: a company its own, an expert those assigned, staff all submitted ones;
/// newest first, up to `limit` + 1 (the extra one tells that more follow), with the total.
pub async fn list(
    db: &Db,
    caller: &SignedIn,
    query: ListQuery,
    utc_offset: FixedOffset,
    today: NaiveDate,
) -> Result<(Vec<Seen>, i64)> {
    let scope = match caller.role {
        Role::Applicant => Scope::Company(caller.company_id()?),
        Role::Expert => Scope::AssignedTo(caller.user_id),
        Role::Reviewer | Role::Finance | Role::Admin => Scope::All,
    };
    time::check_days(&[("submitted_from", query.submitted_from), ("submitted_to", query.submitted_to)])?;
    let day_start = move |day: NaiveDate| {
        day.and_hms_opt(0, 0, 0).and_then(|t| t.and_local_timezone(utc_offset).single()).map(|t| t.naive_utc())
    };
    let filter = Filter {
        status: query.status.map(|s| s.as_str().to_owned()),
        program_id: query.program_id,
        company_id: query.company_id,
        submitted_from: query.submitted_from.and_then(day_start),
        submitted_before: query.submitted_to.and_then(|d| d.succ_opt()).and_then(day_start),
        q: query.q,
    };
    if let db::Start::After(key) = query.start
        && key.submitted_at.is_some() != filter.by_submission()
    {
        return Err(paging::bad_cursor().into());
    }
    let (user, start, limit) = (caller.clone(), query.start, query.limit);
    db.read(move |conn| {
        let (records, total) = applications::list(conn, scope, &filter, start, limit)?;
        Ok((views(conn, &user, records, today)?, total))
    })
    .await
}

fn not_editable() -> Refusal {
    Refusal::conflict(
        "conflict",
        Text::new(
            "申报已提交，不能再修改；如被退回补正，可在退回后修改。",
            "The application has been submitted and cannot change, unless it is returned for correction.",
        ),
    )
}

/// A company's changes to its draft: either part may be left out.
#[derive(Debug, Default)]
pub struct DraftChanges {
    pub requested_amount_fen: Option<i64>,
    /// Replaces the answers as a whole.
    pub form_data: Option<Value>,
}

/// Changes a draft or a returned application.
pub async fn update(db: &Db, caller: &SignedIn, id: i64, changes: DraftChanges, today: NaiveDate) -> Result<Seen> {
    caller.require(&[Role::Applicant])?;
    let (user, actor) = (caller.clone(), caller.actor());
    db.write(move |conn| {
        let record = find_visible(conn, &user, id)?;
        if !status_of(&record)?.is_editable() {
            return Err(not_editable().into());
        }
        let program = Program::load(conn, record.application.program_id)?;
        let amount = changes.requested_amount_fen.unwrap_or(record.application.requested_amount_fen);
        check_requested_amount(amount)?;
        let form = match changes.form_data {
            Some(value) => form_object(Some(value))?,
            None => form_of(&record)?,
        };
        Refusal::unless_any(check_form(&program.fields, &form, false))?;
        if !applications::update_draft(conn, id, amount, &Value::Object(form).to_string(), time::now())? {
            return Err(not_editable().into());
        }
        let summary = json!({ "requested_amount_fen": amount });
        audit::append(conn, &actor, Event::new("application.update", "application", id, summary))?;
        view(conn, &user, id, today)
    })
    .await
}

/// Deletes a draft with its files; a submitted application is withdrawn instead.
pub async fn delete(db: &Db, storage: &Storage, caller: &SignedIn, id: i64) -> Result<()> {
    caller.require(&[Role::Applicant])?;
    let (user, actor) = (caller.clone(), caller.actor());
    let keys = db
        .write(move |conn| {
            find_visible(conn, &user, id)?;
            let keys = applications::delete_draft(conn, id)?.ok_or_else(|| {
                Refusal::conflict(
                    "conflict",
                    Text::new(
                        "只能删除草稿；已提交的申报请撤回。",
                        "Only drafts can be deleted; withdraw a submitted application instead.",
                    ),
                )
            })?;
            audit::append(conn, &actor, Event::new("application.delete", "application", id, json!({})))?;
            Ok::<_, crate::app::Error>(keys)
        })
        .await?;
    attachments::discard(storage, keys).await;
    Ok(())
}

// An application as the edges render it for one caller. No doc comment: it would become the schema's description.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
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

#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ProgramRef {
    pub id: i64,
    pub code: String,
    pub title: String,
}

#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct CompanyRef {
    pub id: i64,
    pub name: String,
    pub credit_code: String,
}

#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct StatusLabel {
    pub zh: String,
    pub en: String,
}

impl From<Seen> for ApplicationView {
    fn from(seen: Seen) -> Self {
        let label = seen.status.label();
        let record = seen.record;
        let a = &record.application;
        let view = Self {
            id: a.id,
            reference_no: a.reference_no.clone(),
            program: ProgramRef { id: a.program_id, code: record.program_code, title: record.program_title },
            company: CompanyRef {
                id: a.company_id,
                name: record.company_name,
                credit_code: record.company_credit_code,
            },
            status: seen.status,
            status_label: StatusLabel { zh: label.zh.into_owned(), en: label.en.into_owned() },
            requested_amount_fen: Some(a.requested_amount_fen),
            approved_amount_fen: a.approved_amount_fen,
            disbursed_fen: Some(a.disbursed_fen),
            form_data: Some(Value::Object(seen.form)),
            correction_due_on: a.correction_due_on,
            notice_ends_on: a.notice_ends_on,
            payment_due_on: a.payment_due_on,
            submitted_at: a.submitted_at.map(time::to_utc),
            decided_at: a.decided_at.map(time::to_utc),
            version: a.version,
            allowed_actions: seen.allowed,
            created_at: time::to_utc(a.created_at),
            updated_at: time::to_utc(a.updated_at),
        };
        if seen.withheld {
            Self { requested_amount_fen: None, approved_amount_fen: None, disbursed_fen: None, form_data: None, ..view }
        } else {
            view
        }
    }
}
