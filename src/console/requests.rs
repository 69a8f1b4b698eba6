//! Company requests (企业诉求) for staff: the inbox with the API's filters, overdue first, and each thread
//! with the replies and the steps the staff member may take, through the same use cases as the API.

use actix_web::{HttpResponse, web};
use askama::Template;
use chrono::NaiveDate;
use serde::Deserialize;

use crate::app::requests::{self, Clock, Request};
use crate::config::PortalSettings;
use crate::console::applications::{Fields, optional};
use crate::console::dashboard::html;
use crate::console::failure::{Failure, explain, refused_status};
use crate::console::session::{Posted, Staff, see_other};
use crate::console::view::Frame;
use crate::db::Db;
use crate::db::requests::{Filter, MessageRecord};
use crate::domain::error::Error as Refusal;
use crate::domain::paging;
use crate::domain::requests::{RequestCategory, RequestStatus, Step, staff_steps};
use crate::domain::role::Role;
use crate::domain::time;
use crate::domain::validation::Vocabulary;
use crate::i18n::Text;

const PER_PAGE: i64 = 25;

#[derive(Debug, Default, Deserialize)]
pub struct InboxParams {
    status: Option<String>,
    category: Option<String>,
    /// `me`, or a staff member's id.
    assignee: Option<String>,
    overdue: Option<String>,
    q: Option<String>,
    after: Option<String>,
}

impl InboxParams {
    #[expect(clippy::ref_option, reason = "templates hand fields over by reference")]
    fn value(field: &Option<String>) -> &str {
        field.as_deref().unwrap_or_default()
    }

    fn overdue_only(&self) -> bool {
        self.overdue.as_deref() == Some("true")
    }

    /// This inbox from `after` on.
    fn href_after(&self, cursor: &str) -> String {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        for (key, value) in [
            ("status", &self.status),
            ("category", &self.category),
            ("assignee", &self.assignee),
            ("overdue", &self.overdue),
            ("q", &self.q),
        ] {
            if let Some(value) = value.as_deref().filter(|v| !v.is_empty()) {
                query.append_pair(key, value);
            }
        }
        query.append_pair("after", cursor);
        format!("/console/requests?{}", query.finish())
    }
}

/// One request of the inbox.
struct Row {
    id: i64,
    reference_no: String,
    subject: String,
    company: String,
    category: Text,
    status: Text,
    assignee: Option<String>,
    /// The deadline that counts now: the first response until there is one, then the resolution.
    due_on: NaiveDate,
    overdue: bool,
}

impl From<Request> for Row {
    fn from(request: Request) -> Self {
        let r = request.record.request;
        let due_on = if r.first_responded_at.is_none() { r.first_response_due_on } else { r.due_on };
        Self {
            id: r.id,
            reference_no: r.reference_no,
            subject: r.subject,
            company: request.record.company_name,
            category: request.category.label(),
            status: request.status.label(),
            assignee: request.record.assignee_name,
            due_on,
            overdue: request.overdue,
        }
    }
}

#[derive(Template)]
#[template(path = "console/requests.html")]
struct InboxPage {
    frame: Frame,
    rows: Vec<Row>,
    total: i64,
    params: InboxParams,
    statuses: Vec<(&'static str, Text)>,
    categories: Vec<(&'static str, Text)>,
    assignees: Vec<(i64, String)>,
    next: Option<String>,
    problem: Vec<Text>,
}

/// The requests staff see, filtered as the JSON list is, overdue ones first on each page and marked.
pub async fn inbox(
    staff: Staff,
    db: web::Data<Db>,
    portal: web::Data<PortalSettings>,
    params: web::Query<InboxParams>,
) -> Result<HttpResponse, Failure> {
    let params = params.into_inner();
    let today = time::today(portal.utc_offset);
    let mut errors = Vec::new();
    let status = optional("status", params.status.as_deref(), RequestStatus::parse, &mut errors);
    let category = optional("category", params.category.as_deref(), RequestCategory::parse, &mut errors);
    let me = staff.caller.user_id;
    let assignee_id = optional(
        "assignee",
        params.assignee.as_deref(),
        |v| if v == "me" { Some(me) } else { v.parse().ok() },
        &mut errors,
    );
    let after = params.after.clone().filter(|a| !a.is_empty());
    let assignees =
        requests::assignees(&db, &staff.caller).await?.into_iter().map(|(id, name, _)| (id, name)).collect();
    let statuses = RequestStatus::ALL.iter().map(|s| (s.as_str(), s.label())).collect();
    let categories = RequestCategory::ALL.iter().map(|c| (c.as_str(), c.label())).collect();
    let frame = Frame::new(&staff, Text::new("企业诉求", "Company requests"), "/console/requests");
    if !errors.is_empty() {
        let problem = explain(&Refusal::invalid(errors));
        let page = InboxPage {
            frame,
            rows: Vec::new(),
            total: 0,
            params,
            statuses,
            categories,
            assignees,
            next: None,
            problem,
        };
        return Ok(HttpResponse::UnprocessableEntity().content_type(mime::TEXT_HTML_UTF_8).body(page.render()?));
    }
    let filter = Filter {
        company_id: None,
        status: status.map(|s| s.as_str().to_owned()),
        category: category.map(|c| c.as_str().to_owned()),
        assignee_id,
        overdue_on: params.overdue_only().then_some(today),
        q: params.q.clone().filter(|q| !q.trim().is_empty()),
    };
    let (mut found, _, total) = requests::list(&db, &staff.caller, filter, None, Some(PER_PAGE), after, today).await?;
    let more = found.len() > usize::try_from(PER_PAGE).unwrap_or(usize::MAX);
    found.truncate(usize::try_from(PER_PAGE).unwrap_or(usize::MAX));
    let next = found.last().filter(|_| more).map(|last| params.href_after(&paging::cursor(&last.record.request.id)));
    let mut rows: Vec<Row> = found.into_iter().map(Row::from).collect();
    rows.sort_by_key(|row| !row.overdue);
    let page = InboxPage { frame, rows, total, params, statuses, categories, assignees, next, problem: Vec::new() };
    Ok(html(page.render()?))
}

/// One message of the thread, with its author in words.
struct Message {
    author: String,
    role: Text,
    body: String,
    internal: bool,
    at: Option<chrono::DateTime<chrono::Utc>>,
}

impl From<MessageRecord> for Message {
    fn from(m: MessageRecord) -> Self {
        let role = Role::parse(&m.author_role)
            .map_or_else(|| Text::owned(m.author_role.clone(), m.author_role.clone()), Role::label);
        Self { author: m.author_name, role, body: m.body, internal: m.internal, at: Some(time::to_utc(m.created_at)) }
    }
}

#[derive(Template)]
#[template(path = "console/request.html")]
struct ThreadPage {
    frame: Frame,
    request: Row,
    content: String,
    first_response_due_on: NaiveDate,
    due_on: NaiveDate,
    responded: bool,
    resolution: Option<String>,
    rating: Option<i32>,
    application_id: Option<i64>,
    messages: Vec<Message>,
    steps: Vec<Step>,
    assignees: Vec<(i64, String, Text)>,
    assignee_id: Option<i64>,
    problem: Vec<Text>,
}

impl ThreadPage {
    #[expect(clippy::trivially_copy_pass_by_ref, reason = "templates hand fields over by reference")]
    fn is_owner(&self, id: &i64) -> bool {
        self.assignee_id == Some(*id)
    }

    fn may(&self, step: &str) -> bool {
        self.steps.iter().any(|s| step_name(*s) == step)
    }
}

fn step_name(step: Step) -> &'static str {
    match step {
        Step::StaffMessage => "messages",
        Step::Assign => "assign",
        Step::Wait => "wait",
        Step::Resolve => "resolve",
        _ => "",
    }
}

async fn thread_page(
    staff: &Staff,
    db: &Db,
    portal: &PortalSettings,
    id: i64,
    notice: Option<Text>,
    problem: Vec<Text>,
) -> Result<String, Failure> {
    let today = time::today(portal.utc_offset);
    let request = requests::get(db, &staff.caller, id, today).await?;
    let assignees = requests::assignees(db, &staff.caller)
        .await?
        .into_iter()
        .map(|(id, name, role)| (id, name, role.label()))
        .collect();
    let r = &request.record.request;
    let owner_or_admin = staff.caller.role == Role::Admin || r.assignee_id == Some(staff.caller.user_id);
    let steps = staff_steps(request.status, r.assignee_id.is_some(), owner_or_admin);
    let title = Text::owned(format!("诉求 {}", r.reference_no), format!("Request {}", r.reference_no));
    let frame = Frame::new(staff, title, "/console/requests").with_notice(notice);
    let (content, first_response_due_on, due_on) = (r.content.clone(), r.first_response_due_on, r.due_on);
    let (responded, resolution, rating) = (r.first_responded_at.is_some(), r.resolution.clone(), r.rating);
    let (application_id, assignee_id) = (r.application_id, r.assignee_id);
    let messages = request.messages.clone().into_iter().map(Message::from).collect();
    let page = ThreadPage {
        frame,
        request: Row::from(request),
        content,
        first_response_due_on,
        due_on,
        responded,
        resolution,
        rating,
        application_id,
        messages,
        steps,
        assignees,
        assignee_id,
        problem,
    };
    Ok(page.render()?)
}

#[derive(Debug, Deserialize)]
pub struct ThreadParams {
    done: Option<String>,
}

/// A request with its thread and the forms of what the staff member may do now.
pub async fn thread(
    staff: Staff,
    db: web::Data<Db>,
    portal: web::Data<PortalSettings>,
    id: web::Path<i64>,
    params: web::Query<ThreadParams>,
) -> Result<HttpResponse, Failure> {
    let notice = match params.done.as_deref() {
        Some("messages") => Some(Text::new("回复已保存。", "The message is saved.")),
        Some("assign") => Some(Text::new("已分派承办人，并已邮件通知。", "The owner is named and was emailed.")),
        Some("wait") => {
            Some(Text::new("已请企业补充材料，计时暂停。", "The company is asked for more; the clock stops."))
        }
        Some("resolve") => {
            Some(Text::new("诉求已办结，企业已收到邮件。", "The request is resolved and the company was emailed."))
        }
        _ => None,
    };
    Ok(html(thread_page(&staff, &db, &portal, id.into_inner(), notice, Vec::new()).await?))
}

/// One step on a request: a reply or note, naming its owner, asking the company for more, resolving.
pub async fn step(
    posted: Posted<Vec<(String, String)>>,
    db: web::Data<Db>,
    portal: web::Data<PortalSettings>,
    path: web::Path<(i64, String)>,
) -> Result<HttpResponse, Failure> {
    let (staff, fields) = (posted.staff, Fields::new(posted.form));
    let (id, step) = path.into_inner();
    let clock = Clock::now(portal.utc_offset);
    let text = |name: &str| fields.get(name).unwrap_or_default().to_owned();
    let outcome = match step.as_str() {
        "messages" => {
            let internal = fields.get("internal").is_some();
            requests::post_message(&db, &staff.caller, id, text("body"), internal, clock).await
        }
        "assign" => match fields.get("assignee_id").and_then(|v| v.parse().ok()) {
            Some(assignee_id) => requests::assign(&db, &staff.caller, id, assignee_id, clock).await,
            None => {
                Err(Refusal::field("assignee_id", "required", Text::new("请选择承办人。", "Choose the owner.")).into())
            }
        },
        "wait" => requests::wait_for_company(&db, &staff.caller, id, text("body"), clock).await,
        "resolve" => requests::resolve(&db, &staff.caller, id, text("resolution"), clock).await,
        _ => return Err(Failure::NotFound),
    };
    match outcome {
        Ok(_) => Ok(see_other(&format!("/console/requests/{id}?done={step}"))),
        Err(crate::app::Error::Refused(refusal)) if refusal != Refusal::NotFound => {
            let body = thread_page(&staff, &db, &portal, id, None, explain(&refusal)).await?;
            Ok(HttpResponse::build(refused_status(&refusal)).content_type(mime::TEXT_HTML_UTF_8).body(body))
        }
        Err(error) => Err(error.into()),
    }
}
