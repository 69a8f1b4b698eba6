//! The application list and the application page: what reviewers, experts, finance and admins read, and
//! the workflow's buttons, exactly the caller's `allowed_actions`, each with its form.

use actix_web::http::StatusCode;
use actix_web::http::header::DispositionType;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use chrono::{NaiveDate, Utc};
use serde::Deserialize;
use serde_json::Value;

use crate::app::applications::{self, ApplicationView, ListQuery};
use crate::app::companies::{self, CompanyView};
use crate::app::payments::{self, DisbursementView};
use crate::app::{attachments, objections, programs, reviews, users, workflow};
use crate::config::PortalSettings;
use crate::console::dashboard::html;
use crate::console::failure::{Failure, explain, refused_status};
use crate::console::session::{Posted, Staff, see_other};
use crate::console::view::Frame;
use crate::db::attachments::AttachmentRow;
use crate::db::objections::ObjectionRow;
use crate::db::{Db, Start};
use crate::domain::actions::{ActionInput, Experts};
use crate::domain::company::{BankAccountStatus, Industry};
use crate::domain::error::{Error as Refusal, FieldError};
use crate::domain::money::parse_yuan;
use crate::domain::paging;
use crate::domain::program::{FieldType, FormField};
use crate::domain::role::Role;
use crate::domain::time;
use crate::domain::workflow::{Action, Status};
use crate::i18n::Text;
use crate::storage::Storage;

const PER_PAGE: i64 = 25;

#[derive(Debug, Default, Deserialize)]
pub struct ListParams {
    status: Option<String>,
    program_id: Option<String>,
    q: Option<String>,
    submitted_from: Option<String>,
    submitted_to: Option<String>,
    after: Option<String>,
}

/// One row of the list.
struct Row {
    view: ApplicationView,
}

#[derive(Template)]
#[template(path = "console/applications.html")]
struct ListPage {
    frame: Frame,
    rows: Vec<Row>,
    total: i64,
    params: ListParams,
    statuses: Vec<(String, Text)>,
    /// The next page's address, when there is one.
    next: Option<String>,
    problem: Vec<Text>,
}

impl ListParams {
    #[expect(clippy::ref_option, reason = "templates hand fields over by reference")]
    fn value(field: &Option<String>) -> &str {
        field.as_deref().unwrap_or_default()
    }

    /// This list from `after` on.
    fn href_after(&self, cursor: &str) -> String {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        for (key, value) in [
            ("status", &self.status),
            ("program_id", &self.program_id),
            ("q", &self.q),
            ("submitted_from", &self.submitted_from),
            ("submitted_to", &self.submitted_to),
        ] {
            if let Some(value) = value.as_deref().filter(|v| !v.is_empty()) {
                query.append_pair(key, value);
            }
        }
        query.append_pair("after", cursor);
        format!("/console/applications?{}", query.finish())
    }
}

/// A filter or field left blank is `None`; one that does not parse is `None` with its error.
pub fn optional<T>(
    field: &'static str,
    raw: Option<&str>,
    parse: impl Fn(&str) -> Option<T>,
    errors: &mut Vec<FieldError>,
) -> Option<T> {
    let raw = raw.map(str::trim).filter(|v| !v.is_empty())?;
    let parsed = parse(raw);
    if parsed.is_none() {
        errors.push(FieldError::new(
            field,
            "invalid",
            Text::owned(format!("无法识别“{raw}”。"), format!("“{raw}” is not understood.")),
        ));
    }
    parsed
}

fn day(text: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()
}

/// The applications the caller may see, filtered as the JSON list is, newest first, a cursor per page.
pub async fn list(
    staff: Staff,
    db: web::Data<Db>,
    portal: web::Data<PortalSettings>,
    params: web::Query<ListParams>,
) -> Result<HttpResponse, Failure> {
    let params = params.into_inner();
    let mut errors = Vec::new();
    let status = optional("status", params.status.as_deref(), Status::parse, &mut errors);
    let program_id = optional("program_id", params.program_id.as_deref(), |v| v.parse().ok(), &mut errors);
    let submitted_from = optional("submitted_from", params.submitted_from.as_deref(), day, &mut errors);
    let submitted_to = optional("submitted_to", params.submitted_to.as_deref(), day, &mut errors);
    let after = paging::start_after(params.after.as_deref().filter(|a| !a.is_empty())).map_err(Failure::Refused)?;
    let start = after.map_or(Start::Offset(0), Start::After);
    let statuses =
        Status::ALL.iter().filter(|s| s.implies_submitted()).map(|s| (s.as_str().to_owned(), s.label())).collect();
    let frame = Frame::new(&staff, Text::new("申报列表", "Applications"), "/console/applications");
    if !errors.is_empty() {
        let problem = explain(&Refusal::invalid(errors));
        let page = ListPage { frame, rows: Vec::new(), total: 0, params, statuses, next: None, problem };
        return Ok(HttpResponse::UnprocessableEntity().content_type(mime::TEXT_HTML_UTF_8).body(page.render()?));
    }
    let query = ListQuery {
        status,
        program_id,
        company_id: None,
        submitted_from,
        submitted_to,
        q: params.q.clone().filter(|q| !q.trim().is_empty()),
        start,
        limit: PER_PAGE,
    };
    let today = time::today(portal.utc_offset);
    let by_submission = query.by_submission();
    let (mut seen, total) = applications::list(&db, &staff.caller, query, portal.utc_offset, today).await?;
    let more = seen.len() > usize::try_from(PER_PAGE).unwrap_or(usize::MAX);
    seen.truncate(usize::try_from(PER_PAGE).unwrap_or(usize::MAX));
    let next = seen.last().filter(|_| more).map(|last| params.href_after(&paging::cursor(&last.key(by_submission))));
    let rows = seen.into_iter().map(|s| Row { view: s.into() }).collect();
    let page = ListPage { frame, rows, total, params, statuses, next, problem: Vec::new() };
    Ok(html(page.render()?))
}

/// One line of the timeline, in words.
struct Line {
    at: String,
    what: Text,
    comment: Option<String>,
}

#[derive(Template)]
#[template(path = "console/application.html")]
struct ApplicationPage {
    frame: Frame,
    app: ApplicationView,
    withheld: bool,
    form: Vec<(String, String)>,
    snapshot: Vec<(String, String)>,
    attachments: Vec<AttachmentRow>,
    timeline: Vec<Line>,
    reviews: Vec<reviews::Review>,
    objections: Vec<ObjectionRow>,
    payments: Vec<DisbursementView>,
    experts: Vec<(i64, String)>,
    problem: Vec<Text>,
    /// A fresh key for the payment form: a double click or a resent form pays once.
    payment_key: String,
    today: NaiveDate,
    finance: bool,
    role: Role,
    /// For finance: the company with its bank account, to check before paying.
    company: Option<CompanyView>,
}

impl ApplicationPage {
    fn may(&self, action: &str) -> bool {
        self.app.allowed_actions.iter().any(|a| a.as_str() == action)
    }

    fn payable(&self) -> bool {
        self.finance
            && self.app.status == Status::Approved
            && self.app.approved_amount_fen.unwrap_or(0) > self.app.disbursed_fen.unwrap_or(0)
    }

    fn account_confirmed(company: &CompanyView) -> bool {
        company.bank_account_status == BankAccountStatus::Confirmed
    }

    /// A payment a reversal already took back cannot be reversed again.
    fn reversible(&self, payment: &DisbursementView) -> bool {
        self.finance && payment.kind == "payment" && !self.payments.iter().any(|p| p.reverses_id == Some(payment.id))
    }

    fn may_resolve(&self) -> bool {
        self.role == Role::Reviewer
    }

    fn unpaid_yuan(&self) -> String {
        let unpaid = self.app.approved_amount_fen.unwrap_or(0) - self.app.disbursed_fen.unwrap_or(0);
        crate::domain::money::yuan(unpaid).replace(',', "")
    }

    fn inline(attachment: &AttachmentRow) -> Option<&'static str> {
        match attachment.content_type.as_str() {
            "application/pdf" => Some("pdf"),
            "image/png" | "image/jpeg" => Some("image"),
            _ => None,
        }
    }
}

fn shown(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => "—".to_owned(),
        Value::Bool(true) => "✓".to_owned(),
        Value::Bool(false) => "✗".to_owned(),
        other => other.to_string(),
    }
}

/// The answers under the programme's own labels, in the form's order; amounts in yuan.
fn answers(frame: &Frame, form: &serde_json::Map<String, Value>, fields: &[FormField]) -> Vec<(String, String)> {
    let mut shown_keys = Vec::new();
    let mut pairs: Vec<(String, String)> = fields
        .iter()
        .filter_map(|field| {
            let value = form.get(&field.key)?;
            shown_keys.push(field.key.as_str());
            let text = match (field.field_type, value.as_i64()) {
                (FieldType::MoneyFen, Some(fen)) => frame.money(&fen),
                _ => shown(value),
            };
            Some((field.label.clone(), text))
        })
        .collect();
    pairs.extend(form.iter().filter(|(k, _)| !shown_keys.contains(&k.as_str())).map(|(k, v)| (k.clone(), shown(v))));
    pairs
}

/// The company as it stood when it submitted, in words.
fn snapshot(frame: &Frame, stored: Option<&str>) -> Vec<(String, String)> {
    let Some(Value::Object(snapshot)) = stored.and_then(|s| serde_json::from_str(s).ok()) else {
        return Vec::new();
    };
    let company = snapshot.get("company").and_then(Value::as_object);
    let labels: [(&str, &str, &str); 8] = [
        ("name", "企业名称", "Name"),
        ("credit_code", "统一社会信用代码", "Credit code"),
        ("legal_representative", "法定代表人", "Legal representative"),
        ("industry", "行业", "Industry"),
        ("park_zone", "园区", "Park zone"),
        ("established_on", "成立日期", "Established"),
        ("registered_capital_fen", "注册资本", "Registered capital"),
        ("high_tech_certificate_no", "高新技术企业证书", "High-tech certificate"),
    ];
    let mut pairs: Vec<(String, String)> = labels
        .iter()
        .filter_map(|(key, zh, en)| {
            let value = company?.get(*key)?;
            let industry = value.as_str().and_then(Industry::parse).filter(|_| *key == "industry");
            let text = match (*key, value.as_i64(), industry) {
                ("registered_capital_fen", Some(fen), _) => frame.money(&fen),
                (_, _, Some(industry)) => frame.text(&industry.label()).to_owned(),
                _ => shown(value),
            };
            Some((frame.t(zh, en).to_owned(), text))
        })
        .collect();
    if let Some(year) = snapshot.get("figures_year").and_then(Value::as_i64) {
        let figures = snapshot.get("figures").and_then(Value::as_object);
        let money = |key: &str| figures.and_then(|f| f.get(key)).and_then(Value::as_i64).map(|fen| frame.money(&fen));
        pairs.push((
            frame.t("年度经营数据", "Figures of the year").to_owned() + &format!(" {year}"),
            match (money("revenue_fen"), money("rd_expense_fen")) {
                (Some(revenue), Some(rd)) => {
                    format!("{} {revenue} · {} {rd}", frame.t("营收", "revenue"), frame.t("研发", "R&D"))
                }
                _ => frame.t("未填报", "not given").to_owned(),
            },
        ));
    }
    pairs
}

/// What an event of the timeline that is not a workflow action did.
fn event_label(name: &str) -> Option<Text> {
    let (zh, en) = match name {
        "application.create" => ("创建草稿", "Draft created"),
        "application.update" => ("修改申报", "Application changed"),
        "application.attachment_upload" => ("上传材料", "Material uploaded"),
        "application.attachment_delete" => ("删除材料", "Material removed"),
        "application.invoices" => ("登记发票", "Invoices listed"),
        "disbursement.payment" => ("资金拨付", "Payment"),
        "disbursement.reversal" => ("拨付冲正", "Payment reversed"),
        "objection.lodge" => ("收到异议", "Objection lodged"),
        "objection.resolve" => ("处理异议", "Objection resolved"),
        _ => return None,
    };
    Some(Text::new(zh, en))
}

fn timeline_line(frame: &Frame, event: reviews::TimelineEvent) -> Line {
    let seen = event.seen;
    let name = seen.action.strip_prefix("application.").unwrap_or(&seen.action);
    let action = Action::parse(name)
        .map(Action::label)
        .or_else(|| event_label(&seen.action))
        .unwrap_or_else(|| Text::owned(seen.action.clone(), seen.action.clone()));
    let status = |s: &Option<String>| s.as_deref().and_then(Status::parse).map(Status::label);
    let what = match (status(&seen.from), status(&seen.to)) {
        (Some(from), Some(to)) => Text::owned(
            format!("{}（{} → {}）", action.zh, from.zh, to.zh),
            format!("{} ({} → {})", action.en, from.en, to.en),
        ),
        _ => action,
    };
    Line { at: frame.moment(&Some(time::to_utc(event.occurred_at))), what, comment: seen.comment }
}

/// Everything the page shows of application `id` to `staff`, with `problem` at the top when an action was
/// just refused.
async fn page(
    staff: &Staff,
    db: &Db,
    portal: &PortalSettings,
    id: i64,
    problem: Vec<Text>,
    notice: Option<Text>,
) -> Result<String, Failure> {
    let today = time::today(portal.utc_offset);
    let user = staff.caller.clone();
    let seen = db.read(move |conn| applications::view(conn, &user, id, today)).await?;
    let withheld = seen.withheld;
    let program = programs::get(db, Some(&staff.caller), seen.record.application.program_id).await?;
    let stored_snapshot = seen.record.application.company_snapshot.clone();
    let form_data = seen.form.clone();
    let app: ApplicationView = seen.into();
    let role = staff.caller.role;
    let title = Text::owned(format!("申报 {}", reference(&app)), format!("Application {}", reference(&app)));
    let frame = Frame::new(staff, title, "/console/applications").with_notice(notice);
    let form = answers(&frame, &form_data, &program.fields);
    let snapshot = snapshot(&frame, stored_snapshot.as_deref());
    let (attachments, timeline) = if withheld {
        (Vec::new(), Vec::new())
    } else {
        let files = attachments::list(db, &staff.caller, id).await?;
        let events = reviews::timeline(db, &staff.caller, id).await?;
        (files, events.into_iter().map(|e| timeline_line(&frame, e)).collect())
    };
    let reviewing = matches!(role, Role::Reviewer | Role::Admin);
    let reviews = if reviewing { reviews::list(db, &staff.caller, id).await? } else { Vec::new() };
    let objections = if reviewing { objections::list(db, &staff.caller, id).await? } else { Vec::new() };
    let company =
        if role == Role::Finance { Some(companies::get(db, &staff.caller, app.company.id).await?) } else { None };
    let payments = if matches!(role, Role::Finance | Role::Admin) {
        payments::of_application(db, &staff.caller, id).await?
    } else {
        Vec::new()
    };
    let naming = app.allowed_actions.iter().any(|a| matches!(a, Action::Accept | Action::Assign));
    let experts = if naming { users::experts(db, &staff.caller).await? } else { Vec::new() };
    let page = ApplicationPage {
        frame,
        app,
        withheld,
        form,
        snapshot,
        attachments,
        timeline,
        reviews,
        objections,
        payments,
        experts,
        problem,
        payment_key: uuid::Uuid::new_v4().to_string(),
        today,
        finance: role == Role::Finance,
        role,
        company,
    };
    Ok(page.render()?)
}

fn reference(app: &ApplicationView) -> String {
    app.reference_no.clone().unwrap_or_else(|| format!("#{}", app.id))
}

#[derive(Debug, Deserialize)]
pub struct Done {
    done: Option<String>,
}

/// What the last form did, from the `done` of the redirect after it.
pub fn done_notice(done: Option<&str>) -> Option<Text> {
    let done = done?;
    if let Some(action) = Action::parse(done) {
        let label = action.label();
        return Some(Text::owned(format!("已完成：{}。", label.zh), format!("Done: {}.", label.en)));
    }
    let (zh, en) = match done {
        "paid" => ("拨付已登记。", "The payment is recorded."),
        "reversed" => ("冲正已登记。", "The reversal is recorded."),
        "resolved" => ("异议已处理。", "The objection is resolved."),
        "bank_account_confirmed" => ("收款账户已核实。", "The bank account is confirmed."),
        _ => return None,
    };
    Some(Text::new(zh, en))
}

pub async fn show(
    staff: Staff,
    db: web::Data<Db>,
    portal: web::Data<PortalSettings>,
    id: web::Path<i64>,
    done: web::Query<Done>,
) -> Result<HttpResponse, Failure> {
    let notice = done_notice(done.done.as_deref());
    Ok(html(page(&staff, &db, &portal, id.into_inner(), Vec::new(), notice).await?))
}

/// A form's fields as sent, repeated ones (the experts named) included.
pub struct Fields(Vec<(String, String)>);

impl Fields {
    pub fn new(pairs: Vec<(String, String)>) -> Self {
        Self(pairs)
    }

    /// The field's trimmed value, `None` when missing or blank.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim()).filter(|v| !v.is_empty())
    }

    pub fn all(&self, name: &str) -> impl Iterator<Item = &str> {
        self.0.iter().filter(move |(k, _)| k == name).map(|(_, v)| v.trim())
    }

    pub fn text(&self, name: &str) -> Option<String> {
        self.get(name).map(ToOwned::to_owned)
    }

    pub fn number<T: std::str::FromStr>(&self, name: &'static str, errors: &mut Vec<FieldError>) -> Option<T> {
        optional(name, self.get(name), |v| v.parse().ok(), errors)
    }

    pub fn required<T>(&self, name: &'static str, value: Option<T>, errors: &mut Vec<FieldError>) -> Option<T> {
        if value.is_none() && self.get(name).is_none() {
            errors.push(FieldError::new(name, "required", Text::new("此项必填。", "This is required.")));
        }
        value
    }
}

/// The action the form asks for, with its details as the workflow takes them.
fn action_input(fields: &Fields) -> Result<ActionInput, Refusal> {
    let mut errors = Vec::new();
    let version = fields.number::<i32>("version", &mut errors);
    let version = fields.required("version", version, &mut errors).unwrap_or_default();
    let comment = fields.text("comment");
    let experts = |errors: &mut Vec<FieldError>| {
        let named: Vec<i64> = fields.all("expert_ids").filter_map(|v| v.parse().ok()).collect();
        let draw = fields.number::<u32>("draw", errors);
        Experts { named: (!named.is_empty()).then_some(named), draw }
    };
    let action = fields.get("action").and_then(Action::parse);
    let input = match action {
        Some(Action::Return) => {
            let correction_days = fields.number("correction_days", &mut errors);
            ActionInput::Return { version, comment: comment.unwrap_or_default(), correction_days }
        }
        Some(Action::Accept) => ActionInput::Accept { version, experts: experts(&mut errors) },
        Some(Action::Assign) => ActionInput::Assign { version, experts: experts(&mut errors) },
        Some(Action::Declare) => {
            let conflict = fields.get("conflict_of_interest").map(|v| v == "yes");
            let conflict = fields.required("conflict_of_interest", conflict, &mut errors);
            ActionInput::Declare {
                version,
                conflict_of_interest: conflict.unwrap_or(true),
                statement: fields.text("statement"),
            }
        }
        Some(Action::Score) => {
            let score = fields.number("score", &mut errors);
            let score = fields.required("score", score, &mut errors);
            ActionInput::Score {
                version,
                score: score.unwrap_or(-1),
                opinion: fields.text("opinion").unwrap_or_default(),
            }
        }
        Some(Action::Propose) => {
            let amount = optional("approved_amount", fields.get("approved_amount"), parse_yuan, &mut errors);
            let amount = fields.required("approved_amount", amount, &mut errors);
            let supersede = fields.get("supersede") == Some("yes");
            ActionInput::Propose { version, approved_amount_fen: amount.unwrap_or(0), comment, supersede }
        }
        Some(Action::Approve) => ActionInput::Approve { version, comment },
        Some(Action::Reject) => ActionInput::Reject { version, comment: comment.unwrap_or_default() },
        _ => {
            errors.push(FieldError::new("action", "invalid", Text::new("未知的操作。", "Unknown action.")));
            ActionInput::Approve { version, comment: None }
        }
    };
    Refusal::unless_any(errors)?;
    Ok(input)
}

/// Takes one workflow action through the same use case as `POST /api/v1/applications/{id}/actions`.
pub async fn act(
    posted: Posted<Vec<(String, String)>>,
    db: web::Data<Db>,
    portal: web::Data<PortalSettings>,
    id: web::Path<i64>,
) -> Result<HttpResponse, Failure> {
    let (staff, fields, id) = (posted.staff, Fields::new(posted.form), id.into_inner());
    let today = time::today(portal.utc_offset);
    let outcome = match action_input(&fields) {
        Ok(input) => {
            let action = input.action();
            workflow::act(&db, &staff.caller, id, input, today, Utc::now()).await.map(|seen| (action, seen))
        }
        Err(refusal) => Err(refusal.into()),
    };
    match outcome {
        Ok((action, seen)) if seen.withheld && staff.caller.role == Role::Expert => {
            // An expert who declared a conflict no longer sees the application.
            Ok(see_other(&format!("/console/?done={}", action.as_str())))
        }
        Ok((action, _)) => Ok(see_other(&format!("/console/applications/{id}?done={}", action.as_str()))),
        Err(crate::app::Error::Refused(Refusal::NotFound)) => Err(Failure::NotFound),
        Err(crate::app::Error::Refused(refusal)) => refused_page(&staff, &db, &portal, id, &refusal).await,
        Err(error) => Err(error.into()),
    }
}

/// After a form on the application's page: back to it with what was `done`, or the page again with why it
/// was refused.
pub async fn back_to_application<T>(
    outcome: crate::app::Result<T>,
    staff: &Staff,
    db: &Db,
    portal: &PortalSettings,
    id: i64,
    done: &str,
) -> Result<HttpResponse, Failure> {
    match outcome {
        Ok(_) => Ok(see_other(&format!("/console/applications/{id}?done={done}"))),
        Err(crate::app::Error::Refused(refusal)) if refusal != Refusal::NotFound => {
            refused_page(staff, db, portal, id, &refusal).await
        }
        Err(error) => Err(error.into()),
    }
}

/// The application page again, with why the action was refused at the top.
pub async fn refused_page(
    staff: &Staff,
    db: &Db,
    portal: &PortalSettings,
    id: i64,
    refusal: &Refusal,
) -> Result<HttpResponse, Failure> {
    let status: StatusCode = refused_status(refusal);
    let body = page(staff, db, portal, id, explain(refusal), None).await?;
    Ok(HttpResponse::build(status).content_type(mime::TEXT_HTML_UTF_8).body(body))
}

#[derive(Debug, Deserialize)]
pub struct Preview {
    inline: Option<String>,
}

/// A material: shown in the page (PDF, images) or downloaded, to whoever may see the application's files.
pub async fn attachment(
    staff: Staff,
    db: web::Data<Db>,
    storage: web::Data<Storage>,
    request: HttpRequest,
    path: web::Path<(i64, i64)>,
    preview: web::Query<Preview>,
) -> Result<HttpResponse, Failure> {
    let (id, attachment_id) = path.into_inner();
    let row = attachments::find(&db, &staff.caller, id, attachment_id).await?;
    let inline = preview.inline.is_some() && ApplicationPage::inline(&row).is_some();
    let disposition = if inline { DispositionType::Inline } else { DispositionType::Attachment };
    crate::api::attachments::file_response(row, &storage, &request, disposition).await.map_err(|e| match e {
        crate::error::ApiError::Unavailable(cause) => Failure::Unavailable(cause),
        other => Failure::Internal(anyhow::anyhow!("{other}")),
    })
}

/// Resolves an objection to the application's public notice, upheld or not, with the reasons.
pub async fn resolve_objection(
    posted: Posted<Vec<(String, String)>>,
    db: web::Data<Db>,
    portal: web::Data<PortalSettings>,
    path: web::Path<(i64, i64)>,
) -> Result<HttpResponse, Failure> {
    let (staff, fields) = (posted.staff, Fields::new(posted.form));
    let (id, objection_id) = path.into_inner();
    let upheld = fields.get("upheld") == Some("yes");
    let comment = fields.get("comment").unwrap_or_default();
    let outcome = objections::resolve(&db, &staff.caller, id, objection_id, upheld, comment).await;
    back_to_application(outcome, &staff, &db, &portal, id, "resolved").await
}

/// Finance confirms the company's bank account, once checked with the company outside the portal; back to
/// the application it was confirmed from.
pub async fn confirm_bank_account(
    posted: Posted<Vec<(String, String)>>,
    db: web::Data<Db>,
    portal: web::Data<PortalSettings>,
    path: web::Path<(i64, i64)>,
) -> Result<HttpResponse, Failure> {
    let (staff, fields) = (posted.staff, Fields::new(posted.form));
    let (id, company_id) = path.into_inner();
    let seen = fields.get("account_sha256").unwrap_or_default().to_owned();
    let outcome = companies::confirm_bank_account(&db, &staff.caller, company_id, Some(seen)).await;
    back_to_application(outcome, &staff, &db, &portal, id, "bank_account_confirmed").await
}
