//! Company requests (企业诉求): a company files, staff assign an owner, the owner answers, asks for more or
//! resolves, the company rates. Each step is one transaction with its audit event and its emails; the sweep
//! every instance runs escalates overdue requests once (催办) and closes unrated resolved ones.

use chrono::{Datelike, FixedOffset, NaiveDate, NaiveDateTime};
use serde_json::json;

use crate::app::{Result, SignedIn, notify};
use crate::db::audit::{self, Event};
use crate::db::requests::{self, Changes, Filter, MessageRecord, NewRequest, RequestRecord};
use crate::db::{self, Db, DbConnection, applications, calendar, companies, outbox, programs, users};
use crate::domain::audit::Actor;
use crate::domain::error::{Error as Refusal, FieldError};
use crate::domain::requests::{
    self as rules, Deadlines, DueDates, Handled, RequestCategory, RequestFigures, RequestStatus, Step,
};
use crate::domain::role::{Role, UserStatus};
use crate::domain::time;
use crate::domain::validation::Window;
use crate::email::{Email, templates};
use crate::i18n::Text;

/// Staff who may read every request and its internal notes.
const STAFF: [Role; 3] = [Role::Reviewer, Role::Finance, Role::Admin];

/// A request as the caller sees it, with its thread when one was asked for.
#[derive(Debug, Clone)]
pub struct Request {
    pub record: RequestRecord,
    pub category: RequestCategory,
    pub status: RequestStatus,
    pub overdue: bool,
    pub messages: Vec<MessageRecord>,
}

/// What a company writes to open a request.
#[derive(Debug, Clone)]
pub struct NewRequestInput {
    pub category: String,
    pub subject: String,
    pub content: String,
    pub program_id: Option<i64>,
    pub application_id: Option<i64>,
}

/// The clock the use cases read: the park's today and the time now.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    pub today: NaiveDate,
    pub now: NaiveDateTime,
}

impl Clock {
    pub fn now(offset: FixedOffset) -> Self {
        Self { today: time::today(offset), now: time::now() }
    }
}

fn category_of(text: &str) -> std::result::Result<RequestCategory, FieldError> {
    RequestCategory::parse(text).ok_or_else(|| {
        let (zh, en): (Vec<_>, Vec<_>) = RequestCategory::ALL
            .iter()
            .map(|c| (format!("{}（{}）", c.as_str(), c.label().zh), format!("{} ({})", c.as_str(), c.label().en)))
            .unzip();
        FieldError::new(
            "category",
            "invalid_choice",
            Text::owned(
                format!("诉求类别须为：{}。", zh.join("、")),
                format!("The category is one of: {}.", en.join(", ")),
            ),
        )
    })
}

fn stored<T>(parsed: Option<T>, record: &RequestRecord, what: &str) -> Result<T> {
    let row = &record.request;
    parsed.ok_or_else(|| db::Error::damaged("company_requests", row.id, format!("unknown {what}")).into())
}

fn request(record: RequestRecord, messages: Vec<MessageRecord>, today: NaiveDate) -> Result<Request> {
    let status = stored(RequestStatus::parse(&record.request.status), &record, "status")?;
    let category = stored(RequestCategory::parse(&record.request.category), &record, "category")?;
    let row = &record.request;
    let due = DueDates { first_response_due_on: row.first_response_due_on, due_on: row.due_on };
    let overdue = rules::is_overdue(status, row.first_responded_at.is_some(), due, today);
    Ok(Request { record, category, status, overdue, messages })
}

/// The request if the caller may see it: a company its own, staff all; experts none.
fn find_visible(conn: &mut DbConnection, caller: &SignedIn, id: i64) -> Result<RequestRecord> {
    if caller.role == Role::Expert {
        return Err(Refusal::forbidden(Text::new(
            "专家无权查看企业诉求。",
            "Experts have no access to company requests.",
        ))
        .into());
    }
    let record = requests::find(conn, id)?;
    if caller.role == Role::Applicant && caller.company_id != Some(record.request.company_id) {
        return Err(Refusal::NotFound.into());
    }
    Ok(record)
}

/// `None` for a row that does not exist; any other failure stays one.
fn optional<T>(found: db::Result<T>) -> db::Result<Option<T>> {
    match found {
        Ok(row) => Ok(Some(row)),
        Err(db::Error::NotFound) => Ok(None),
        Err(error) => Err(error),
    }
}

fn changed_meanwhile() -> Refusal {
    Refusal::conflict(
        "conflict",
        Text::new("诉求已被他人更新，请刷新后重试。", "The request changed meanwhile; reload it and try again."),
    )
}

/// Emails the request's owner, if it has one, and every administrator; once each.
fn notify_owner_and_admins(
    conn: &mut DbConnection,
    owner: Option<i64>,
    email: impl Fn(&str) -> Email,
    now: NaiveDateTime,
) -> Result<()> {
    let mut recipients: Vec<String> =
        users::active_with_role(conn, Role::Admin)?.into_iter().map(|u| u.email).collect();
    if let Some(owner) = owner {
        recipients.push(users::find(conn, owner)?.email);
    }
    recipients.sort();
    recipients.dedup();
    for to in recipients {
        outbox::enqueue(conn, &email(&to), now)?;
    }
    Ok(())
}

/// Files a request for the caller's company; its deadlines count from today.
pub async fn file(
    db: &Db,
    caller: &SignedIn,
    input: NewRequestInput,
    deadlines: Deadlines,
    clock: Clock,
) -> Result<Request> {
    let company_id = caller.company_id()?;
    let mut errors = Vec::new();
    let category = category_of(&input.category).map_err(|e| errors.push(e)).ok();
    let subject = rules::check_text("subject", &input.subject, rules::SUBJECT_MAX).map_err(|e| errors.push(e)).ok();
    let content = rules::check_text("content", &input.content, rules::BODY_MAX).map_err(|e| errors.push(e)).ok();
    let (Some(category), Some(subject), Some(content)) = (category, subject, content) else {
        return Err(Refusal::invalid(errors).into());
    };
    let (user_id, actor) = (caller.user_id, caller.actor());
    db.write(move |conn| {
        let mut errors = Vec::new();
        if let Some(id) = input.application_id {
            let own = optional(applications::find(conn, id))?.is_some_and(|r| r.application.company_id == company_id);
            if !own {
                errors.push(FieldError::new(
                    "application_id",
                    "unknown_application",
                    Text::new("没有找到贵公司的这份申报。", "Your company has no application with this id."),
                ));
            }
        }
        if let Some(id) = input.program_id {
            let published = optional(programs::find(conn, id))?
                .is_some_and(|p| p.status != crate::domain::program::ProgramStatus::Draft);
            if !published {
                errors.push(FieldError::new(
                    "program_id",
                    "unknown_program",
                    Text::new("没有找到这个政策项目。", "There is no programme with this id."),
                ));
            }
        }
        Refusal::unless_any(errors)?;
        let calendar = calendar::load(conn)?;
        let due = deadlines.due_dates(&calendar, category, clock.today);
        let reference_no =
            rules::reference_no(clock.today.year(), requests::next_reference_seq(conn, clock.today.year())?);
        let row = requests::insert(
            conn,
            &NewRequest {
                reference_no: &reference_no,
                company_id,
                created_by: user_id,
                category: category.as_str(),
                subject: &subject,
                content: &content,
                program_id: input.program_id,
                application_id: input.application_id,
                received_on: clock.today,
                first_response_due_on: due.first_response_due_on,
                due_on: due.due_on,
                created_at: clock.now,
                updated_at: clock.now,
            },
        )?;
        let summary = json!({ "reference_no": reference_no, "category": category.as_str() });
        audit::append(conn, &actor, Event::new("request.create", "request", row.id, summary))?;
        request(requests::find(conn, row.id)?, Vec::new(), clock.today)
    })
    .await
}

/// A page of requests: a company's own, or for staff all of them; newest first.
pub async fn list(
    db: &Db,
    caller: &SignedIn,
    mut filter: Filter,
    page: Option<i64>,
    per_page: Option<i64>,
    after: Option<String>,
    today: NaiveDate,
) -> Result<(Vec<Request>, Window, i64)> {
    match caller.role {
        Role::Applicant => filter.company_id = Some(caller.company_id()?),
        Role::Expert => caller.require(&STAFF)?,
        Role::Reviewer | Role::Finance | Role::Admin => {}
    }
    let window = Window::parse(page, per_page)?;
    let start = crate::db::Start::of(window, after.as_deref())?;
    db.read(move |conn| {
        let (records, total) = requests::list(conn, &filter, start, window.per_page)?;
        let items = records.into_iter().map(|r| request(r, Vec::new(), today)).collect::<Result<_>>()?;
        Ok((items, window, total))
    })
    .await
}

/// One request with its thread; a company never sees the internal notes.
pub async fn get(db: &Db, caller: &SignedIn, id: i64, today: NaiveDate) -> Result<Request> {
    let caller = caller.clone();
    db.read(move |conn| {
        let record = find_visible(conn, &caller, id)?;
        let messages = requests::messages(conn, id, caller.role != Role::Applicant)?;
        request(record, messages, today)
    })
    .await
}

/// The changes that start the clock again on `today` after waiting on the company since `since`: each
/// deadline moves on by the working days waited, which add to the request's paused days.
fn resume_clock(
    conn: &mut DbConnection,
    row: &requests::RequestRow,
    since: NaiveDate,
    today: NaiveDate,
    changes: &mut Changes,
) -> Result<u32> {
    let due = DueDates { first_response_due_on: row.first_response_due_on, due_on: row.due_on };
    let (moved, paused) = due.resumed(&calendar::load(conn)?, since, today);
    changes.first_response_due_on = Some(moved.first_response_due_on);
    changes.due_on = Some(moved.due_on);
    changes.paused_days = Some(row.paused_days.saturating_add(i32::try_from(paused).unwrap_or(i32::MAX)));
    changes.waiting_since = Some(None);
    Ok(paused)
}

/// Applies `step` to the request as it was read, with `changes`; refused when the step does not fit its
/// status or the request changed meanwhile.
fn advance(
    conn: &mut DbConnection,
    record: &RequestRecord,
    step: Step,
    mut changes: Changes,
    now: NaiveDateTime,
) -> Result<RequestStatus> {
    let row = &record.request;
    let from = stored(RequestStatus::parse(&row.status), record, "status")?;
    let to = rules::next(from, step, row.assignee_id.is_some())?;
    changes.status = Some(to.as_str().to_owned());
    if !requests::update(conn, row.id, row.version, &changes, now)? {
        return Err(changed_meanwhile().into());
    }
    Ok(to)
}

/// A message in the thread. A staff member's first public message is the first response; a company's
/// answer to a request for more starts the clock again, moving the deadlines by the working days waited.
pub async fn post_message(
    db: &Db,
    caller: &SignedIn,
    id: i64,
    body: String,
    internal: bool,
    clock: Clock,
) -> Result<Request> {
    caller.require(&[Role::Applicant, Role::Reviewer, Role::Finance, Role::Admin])?;
    let mut errors = Vec::new();
    let body = rules::check_text("body", &body, rules::BODY_MAX).map_err(|e| errors.push(e)).ok();
    if internal && caller.role == Role::Applicant {
        errors.push(FieldError::new(
            "internal",
            "staff_only",
            Text::new("只有工作人员可以添加内部备注。", "Only staff write internal notes."),
        ));
    }
    let Some(body) = body.filter(|_| errors.is_empty()) else {
        return Err(Refusal::invalid(errors).into());
    };
    let caller = caller.clone();
    db.write(move |conn| {
        let record = find_visible(conn, &caller, id)?;
        let row = &record.request;
        let mut changes = Changes::default();
        let step = if caller.role == Role::Applicant {
            if let Some(since) = row.waiting_since {
                let paused = resume_clock(conn, row, since, clock.today, &mut changes)?;
                let summary = json!({ "reference_no": row.reference_no, "paused_working_days": paused });
                audit::append(conn, &caller.actor(), Event::new("request.resume", "request", id, summary))?;
            }
            Step::CompanyAnswers
        } else {
            if !internal && row.first_responded_at.is_none() {
                changes.first_responded_at = Some(Some(clock.now));
            }
            Step::StaffMessage
        };
        advance(conn, &record, step, changes, clock.now)?;
        requests::add_message(conn, id, caller.user_id, &body, internal, clock.now)?;
        if caller.role != Role::Applicant && !internal {
            let reference_no = record.request.reference_no.clone();
            notify::company(
                conn,
                row.company_id,
                |to| templates::request_replied(to, &reference_no, &body),
                clock.now,
            )?;
        }
        let messages = requests::messages(conn, id, caller.role != Role::Applicant)?;
        request(requests::find(conn, id)?, messages, clock.today)
    })
    .await
}

/// Names the owner, an active reviewer, finance officer or administrator, who is emailed.
pub async fn assign(db: &Db, caller: &SignedIn, id: i64, assignee_id: i64, clock: Clock) -> Result<Request> {
    caller.require(&STAFF)?;
    let caller = caller.clone();
    db.write(move |conn| {
        let record = find_visible(conn, &caller, id)?;
        let assignee = optional(users::find(conn, assignee_id))?.filter(|u| {
            matches!(u.role().ok(), Some(Role::Reviewer | Role::Finance | Role::Admin))
                && u.status().ok() == Some(UserStatus::Active)
        });
        let Some(assignee) = assignee else {
            return Err(Refusal::field(
                "assignee_id",
                "invalid_assignee",
                Text::new(
                    "承办人须为在职的审核、财务或管理员账号。",
                    "The owner must be an active reviewer, finance or admin user.",
                ),
            )
            .into());
        };
        let changes = Changes { assignee_id: Some(Some(assignee.id)), ..Changes::default() };
        advance(conn, &record, Step::Assign, changes, clock.now)?;
        let summary = json!({ "assignee_id": assignee.id, "previous_assignee_id": record.request.assignee_id });
        audit::append(conn, &caller.actor(), Event::new("request.assign", "request", id, summary))?;
        let r = &record.request;
        outbox::enqueue(
            conn,
            &templates::request_assigned(&assignee.email, &r.reference_no, &r.subject, r.due_on),
            clock.now,
        )?;
        request(requests::find(conn, id)?, Vec::new(), clock.today)
    })
    .await
}

/// The staff a request may be assigned to: active reviewers, finance officers and administrators, by id,
/// name and role (staff only).
pub async fn assignees(db: &Db, caller: &SignedIn) -> Result<Vec<(i64, String, Role)>> {
    caller.require(&STAFF)?;
    db.read(|conn| {
        let mut staff = Vec::new();
        for role in STAFF {
            staff.extend(users::active_with_role(conn, role)?.into_iter().map(|u| (u.id, u.display_name, role)));
        }
        Ok(staff)
    })
    .await
}

/// Refused unless the caller owns the request or is an administrator.
fn require_owner(caller: &SignedIn, record: &RequestRecord) -> Result<()> {
    if caller.role == Role::Admin || record.request.assignee_id == Some(caller.user_id) {
        return Ok(());
    }
    Err(Refusal::forbidden(Text::new(
        "只有承办人或管理员可以办理此诉求。",
        "Only the request's owner or an administrator may do this.",
    ))
    .into())
}

/// The owner asks the company for more: the message goes to the company and the clock stops.
pub async fn wait_for_company(db: &Db, caller: &SignedIn, id: i64, body: String, clock: Clock) -> Result<Request> {
    caller.require(&STAFF)?;
    let caller = caller.clone();
    db.write(move |conn| {
        let record = find_visible(conn, &caller, id)?;
        require_owner(&caller, &record)?;
        let body = rules::check_text("body", &body, rules::BODY_MAX).map_err(|e| Refusal::invalid(vec![e]))?;
        let mut changes = Changes { waiting_since: Some(Some(clock.today)), ..Changes::default() };
        if record.request.first_responded_at.is_none() {
            changes.first_responded_at = Some(Some(clock.now));
        }
        advance(conn, &record, Step::Wait, changes, clock.now)?;
        requests::add_message(conn, id, caller.user_id, &body, false, clock.now)?;
        let r = &record.request;
        audit::append(
            conn,
            &caller.actor(),
            Event::new("request.wait", "request", id, json!({ "reference_no": r.reference_no })),
        )?;
        notify::company(conn, r.company_id, |to| templates::request_needs_more(to, &r.reference_no, &body), clock.now)?;
        let messages = requests::messages(conn, id, true)?;
        request(requests::find(conn, id)?, messages, clock.today)
    })
    .await
}

/// The owner resolves the request; the company is emailed and may rate it.
pub async fn resolve(db: &Db, caller: &SignedIn, id: i64, resolution: String, clock: Clock) -> Result<Request> {
    caller.require(&STAFF)?;
    let resolution =
        rules::check_text("resolution", &resolution, rules::BODY_MAX).map_err(|e| Refusal::invalid(vec![e]))?;
    let caller = caller.clone();
    db.write(move |conn| {
        let record = find_visible(conn, &caller, id)?;
        require_owner(&caller, &record)?;
        let r = &record.request;
        let mut changes = Changes {
            resolution: Some(Some(resolution.clone())),
            resolved_at: Some(Some(clock.now)),
            resolved_on: Some(Some(clock.today)),
            rating: Some(None),
            rating_comment: Some(None),
            ..Changes::default()
        };
        if r.first_responded_at.is_none() {
            changes.first_responded_at = Some(Some(clock.now));
        }
        if let Some(since) = r.waiting_since {
            resume_clock(conn, r, since, clock.today, &mut changes)?;
        }
        advance(conn, &record, Step::Resolve, changes, clock.now)?;
        audit::append(
            conn,
            &caller.actor(),
            Event::new("request.resolve", "request", id, json!({ "reference_no": r.reference_no })),
        )?;
        notify::company(
            conn,
            r.company_id,
            |to| templates::request_resolved(to, &r.reference_no, &resolution),
            clock.now,
        )?;
        request(requests::find(conn, id)?, Vec::new(), clock.today)
    })
    .await
}

/// The company rates a resolution, once: 3 to 5 close the request, 1 or 2 reopen it with fresh deadlines
/// and tell the owner and the administrators.
pub async fn rate(
    db: &Db,
    caller: &SignedIn,
    id: i64,
    rating: i32,
    comment: Option<String>,
    deadlines: Deadlines,
    clock: Clock,
) -> Result<Request> {
    caller.company_id()?;
    let mut errors = Vec::new();
    let rating = rules::check_rating(rating).map_err(|e| errors.push(e)).ok();
    let comment = comment.map(|c| c.trim().to_owned()).filter(|c| !c.is_empty());
    if comment.as_ref().is_some_and(|c| c.chars().count() > 1000) {
        errors.push(FieldError::new(
            "comment",
            "too_long",
            Text::new("最多 1000 个字符。", "At most 1000 characters."),
        ));
    }
    let Some(rating) = rating.filter(|_| errors.is_empty()) else {
        return Err(Refusal::invalid(errors).into());
    };
    let caller = caller.clone();
    db.write(move |conn| {
        let record = find_visible(conn, &caller, id)?;
        let r = &record.request;
        let bad = rules::is_bad_rating(rating);
        let mut changes = Changes {
            rating: Some(Some(rating)),
            rating_comment: Some(comment.clone()),
            ratings_given: Some(r.ratings_given + 1),
            rating_sum: Some(r.rating_sum + rating),
            bad_ratings: Some(r.bad_ratings + i32::from(bad)),
            ..Changes::default()
        };
        if bad {
            let category = stored(RequestCategory::parse(&r.category), &record, "category")?;
            let due = deadlines.due_dates(&calendar::load(conn)?, category, clock.today);
            changes.due_on = Some(due.due_on);
            changes.escalated_at = Some(None);
            changes.resolution = Some(None);
            changes.resolved_at = Some(None);
            changes.resolved_on = Some(None);
        } else {
            changes.closed_at = Some(Some(clock.now));
        }
        let to = advance(conn, &record, Step::Rate { bad }, changes, clock.now)?;
        let summary = json!({ "rating": rating, "to": to.as_str() });
        audit::append(conn, &caller.actor(), Event::new("request.rate", "request", id, summary))?;
        if bad {
            let reopened =
                |to: &str| templates::request_reopened(to, &r.reference_no, rating, comment.as_deref().unwrap_or(""));
            notify_owner_and_admins(conn, r.assignee_id, reopened, clock.now)?;
        }
        request(requests::find(conn, id)?, Vec::new(), clock.today)
    })
    .await
}

/// What one sweep did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Swept {
    pub escalated: usize,
    pub closed: usize,
}

/// Escalates each overdue request once (its owner and the administrators are emailed) and closes resolved
/// requests left unrated for the settings' working days. Every instance runs it; each request is claimed by
/// a conditional update, so one instance does each.
pub async fn sweep(db: &Db, deadlines: Deadlines, clock: Clock) -> Result<Swept> {
    let mut swept = Swept::default();
    let overdue = db.read(move |conn| requests::unescalated_overdue(conn, clock.today)).await?;
    for record in overdue {
        let claimed = db
            .write(move |conn| {
                let r = &record.request;
                if !requests::claim_escalation(conn, r.id, clock.today, clock.now)? {
                    return Ok::<_, crate::app::Error>(false);
                }
                let email = |to: &str| {
                    templates::request_overdue(to, &r.reference_no, &record.company_name, &r.subject, r.due_on)
                };
                notify_owner_and_admins(conn, r.assignee_id, email, clock.now)?;
                let actor = Actor::default();
                audit::append(
                    conn,
                    &actor,
                    Event::new("request.escalate", "request", r.id, json!({ "reference_no": r.reference_no })),
                )?;
                Ok(true)
            })
            .await?;
        swept.escalated += usize::from(claimed);
    }
    let resolved =
        db.read(|conn| Ok::<_, db::Error>((requests::unrated_resolved(conn)?, calendar::load(conn)?))).await?;
    let (resolved, calendar) = resolved;
    for (id, version, resolved_on) in resolved {
        let due =
            resolved_on.is_some_and(|day| calendar.working_days_between(day, clock.today) >= deadlines.auto_close_days);
        if !due {
            continue;
        }
        let closed = db
            .write(move |conn| {
                let to = rules::next(RequestStatus::Resolved, Step::AutoClose, true)?;
                let changes = Changes {
                    status: Some(to.as_str().to_owned()),
                    closed_at: Some(Some(clock.now)),
                    ..Changes::default()
                };
                if !requests::update(conn, id, version, &changes, clock.now)? {
                    return Ok::<_, crate::app::Error>(false);
                }
                audit::append(conn, &Actor::default(), Event::new("request.auto_close", "request", id, json!({})))?;
                Ok(true)
            })
            .await?;
        swept.closed += usize::from(closed);
    }
    Ok(swept)
}

/// The report's figures per category, per owner and in total.
#[derive(Debug, Clone)]
pub struct Report {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub by_category: Vec<(RequestCategory, RequestFigures)>,
    /// `None` for requests nobody owns yet.
    pub by_assignee: Vec<(Option<(i64, String)>, RequestFigures)>,
    pub totals: RequestFigures,
}

/// How the bureau answered the requests received in a period.
/// Requests received from `from` (the first of the year when absent) to `to` (today when absent).
pub async fn report(
    db: &Db,
    caller: &SignedIn,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    offset: FixedOffset,
    today: NaiveDate,
) -> Result<Report> {
    caller.require(&STAFF)?;
    time::check_days(&[("from", from), ("to", to)])?;
    let (from, to) = rules::report_period(from, to, today)?;
    let (records, calendar) = db
        .read(move |conn| Ok::<_, db::Error>((requests::received_between(conn, from, to)?, calendar::load(conn)?)))
        .await?;
    let local_day = |at: NaiveDateTime| at.and_utc().with_timezone(&offset).date_naive();
    let handled = records
        .into_iter()
        .map(|record| {
            let request = request(record, Vec::new(), today)?;
            let r = &request.record.request;
            Ok(Handled {
                category: request.category,
                assignee: r.assignee_id.zip(request.record.assignee_name.clone()),
                status: request.status,
                received_on: r.received_on,
                due: DueDates { first_response_due_on: r.first_response_due_on, due_on: r.due_on },
                first_responded_on: r.first_responded_at.map(local_day),
                resolved_on: r.resolved_on,
                paused_days: u32::try_from(r.paused_days).unwrap_or(0),
                ratings_given: i64::from(r.ratings_given),
                rating_sum: i64::from(r.rating_sum),
                bad_ratings: i64::from(r.bad_ratings),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let by_category = RequestCategory::ALL
        .iter()
        .map(|&c| (c, rules::figures(handled.iter().filter(|h| h.category == c), &calendar, today)))
        .collect();
    let mut owners: Vec<Option<(i64, String)>> = handled.iter().map(|h| h.assignee.clone()).collect();
    owners.sort();
    owners.dedup();
    let by_assignee = owners
        .into_iter()
        .map(|owner| {
            let figures = rules::figures(handled.iter().filter(|h| h.assignee == owner), &calendar, today);
            (owner, figures)
        })
        .collect();
    let totals = rules::figures(&handled, &calendar, today);
    Ok(Report { from, to, by_category, by_assignee, totals })
}

/// The demo company `portal seed-demo` files its example requests from. Its account has no password, so
/// nobody signs in with it.
const DEMO_CREDIT_CODE: &str = "91350100M000100Y43";

/// A few example requests from a demo company, so a new installation's inbox has something in it; none
/// when the demo company exists already. Answers how many were filed.
pub async fn seed_examples(db: &Db, deadlines: Deadlines, clock: Clock) -> Result<usize> {
    let demo = db
        .write(move |conn| {
            if companies::credit_code_taken(conn, DEMO_CREDIT_CODE)? {
                return Ok::<_, db::Error>(None);
            }
            let company = companies::insert(
                conn,
                &companies::NewCompany {
                    credit_code: DEMO_CREDIT_CODE,
                    name: "珠海示例微电子有限公司",
                    legal_representative: "陈明",
                    industry: "integrated_circuit",
                    park_zone: "唐家湾主园区",
                    established_on: NaiveDate::from_ymd_opt(2018, 3, 1).unwrap_or(clock.today),
                    registered_capital_fen: 500_000_000,
                    address: "珠海市高新区科技六路 1 号",
                    contact_phone: "0756-3612345",
                    created_at: clock.now,
                    updated_at: clock.now,
                },
            )?;
            let user =
                users::insert_demo_applicant(conn, company.id, "demo-company@company.example", "陈明", clock.now)?;
            Ok(Some(SignedIn {
                user_id: user.id,
                role: Role::Applicant,
                company_id: Some(company.id),
                session_id: 0,
                request_id: "seed-demo".to_owned(),
            }))
        })
        .await?;
    let Some(company) = demo else {
        return Ok(0);
    };
    let examples = [
        (
            "policy_consultation",
            "研发费用加计扣除与专项资金能否同时享受？",
            "我司 2025 年研发费用 1,200 万元，已享受加计扣除，能否再申报集成电路产业发展专项资金？",
        ),
        (
            "application_help",
            "申报系统上传审计报告失败",
            "上传 PDF 格式的审计报告（约 12 MB）时提示文件过大，请问如何处理？",
        ),
        (
            "payment_inquiry",
            "高企认定奖励何时拨付？",
            "我司去年通过高新技术企业认定，奖励公示已结束，请问资金预计何时到账？",
        ),
    ];
    for (category, subject, content) in examples {
        let input = NewRequestInput {
            category: category.to_owned(),
            subject: subject.to_owned(),
            content: content.to_owned(),
            program_id: None,
            application_id: None,
        };
        file(db, &company, input, deadlines, clock).await?;
    }
    Ok(examples.len())
}
