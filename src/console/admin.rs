//! Companies' verification (reviewers), and the administrators' screens: staff accounts, programmes,
//! the working-day calendar and the audit log.

use actix_web::{HttpResponse, web};
use askama::Template;
use chrono::Datelike;
use serde::Deserialize;

use crate::app::companies::{self, CompanyFilter, CompanyView, Verification};
use crate::app::programs::{self, Listing, Program};
use crate::app::users::{self, NewStaff, UserFilter, UserPatch, UserView};
use crate::app::{audit, calendar};
use crate::config::PortalSettings;
use crate::console::applications::Fields;
use crate::console::dashboard::html;
use crate::console::failure::{Failure, explain, refused_status};
use crate::console::session::{Posted, Staff, see_other};
use crate::console::sign_in::Nothing;
use crate::console::view::Frame;
use crate::db::Db;
use crate::db::Start;
use crate::db::audit::{EventRow, Filter, Verification as ChainCheck};
use crate::domain::calendar::YearDays;
use crate::domain::company::VerificationStatus;
use crate::domain::error::Error as Refusal;
use crate::domain::paging;
use crate::domain::program::ProgramStatus;
use crate::domain::role::{Role, UserStatus};
use crate::domain::time;
use crate::domain::validation::{Choice, Vocabulary};
use crate::i18n::Text;

/// A page rendered after a refused form: the same page, with the reasons at the top.
fn refused(status: actix_web::http::StatusCode, body: String) -> HttpResponse {
    HttpResponse::build(status).content_type(mime::TEXT_HTML_UTF_8).body(body)
}

#[derive(Debug, Default, Deserialize)]
pub struct CompanyParams {
    verification: Option<String>,
    q: Option<String>,
    done: Option<String>,
}

#[derive(Template)]
#[template(path = "console/companies.html")]
struct CompaniesPage {
    frame: Frame,
    companies: Vec<CompanyView>,
    total: i64,
    pending_only: bool,
    q: String,
    problem: Vec<Text>,
}

async fn companies_page(staff: &Staff, db: &Db, params: CompanyParams, problem: Vec<Text>) -> Result<String, Failure> {
    let pending_only = params.verification.as_deref() == Some("pending");
    let filter = CompanyFilter {
        q: params.q.clone().filter(|q| !q.trim().is_empty()),
        verification_status: pending_only.then_some(VerificationStatus::Pending),
        per_page: Some(50),
        ..CompanyFilter::default()
    };
    let (companies, _, total) = companies::list(db, &staff.caller, filter).await?;
    let notice = (params.done.as_deref() == Some("verified")).then(|| {
        Text::new("认证结果已保存，企业已收到邮件通知。", "The decision is saved and the company was emailed.")
    });
    let frame = Frame::new(staff, Text::new("企业认证", "Companies"), "/console/companies").with_notice(notice);
    let q = params.q.unwrap_or_default();
    Ok(CompaniesPage { frame, companies, total, pending_only, q, problem }.render()?)
}

pub async fn companies(
    staff: Staff,
    db: web::Data<Db>,
    params: web::Query<CompanyParams>,
) -> Result<HttpResponse, Failure> {
    Ok(html(companies_page(&staff, &db, params.into_inner(), Vec::new()).await?))
}

/// Verifies or rejects a company's registration, with the same use case as the API.
pub async fn verify_company(
    posted: Posted<Vec<(String, String)>>,
    db: web::Data<Db>,
    id: web::Path<i64>,
) -> Result<HttpResponse, Failure> {
    let (staff, fields) = (posted.staff, Fields::new(posted.form));
    let input = Verification {
        decision: Choice::parse(fields.get("decision").unwrap_or_default()),
        comment: fields.text("comment"),
        form_errors: Vec::new(),
    };
    match companies::verify(&db, &staff.caller, id.into_inner(), input).await {
        Ok(_) => Ok(see_other("/console/companies?verification=pending&done=verified")),
        Err(crate::app::Error::Refused(refusal)) if refusal != Refusal::NotFound => {
            let params = CompanyParams { verification: Some("pending".to_owned()), ..CompanyParams::default() };
            let body = companies_page(&staff, &db, params, explain(&refusal)).await?;
            Ok(refused(refused_status(&refusal), body))
        }
        Err(error) => Err(error.into()),
    }
}

const STAFF_ROLES: [Role; 4] = [Role::Reviewer, Role::Expert, Role::Finance, Role::Admin];

#[derive(Template)]
#[template(path = "console/users.html")]
struct UsersPage {
    frame: Frame,
    users: Vec<UserView>,
    /// The signed-in administrator, whose own account offers no button to disable it.
    me: i64,
    roles: Vec<(&'static str, Text)>,
    problem: Vec<Text>,
}

#[derive(Debug, Deserialize)]
pub struct UsersParams {
    done: Option<String>,
}

async fn users_page(staff: &Staff, db: &Db, notice: Option<Text>, problem: Vec<Text>) -> Result<String, Failure> {
    let mut users = Vec::new();
    for role in STAFF_ROLES {
        let filter = UserFilter { role: Some(role), status: None, page: None, per_page: Some(100), after: None };
        users.extend(users::list(db, &staff.caller, filter).await?.0);
    }
    let roles =
        [Role::Reviewer, Role::Expert, Role::Finance, Role::Admin].iter().map(|r| (r.as_str(), r.label())).collect();
    let frame = Frame::new(staff, Text::new("工作人员账号", "Staff accounts"), "/console/users").with_notice(notice);
    Ok(UsersPage { frame, users, me: staff.caller.user_id, roles, problem }.render()?)
}

pub async fn users(staff: Staff, db: web::Data<Db>, params: web::Query<UsersParams>) -> Result<HttpResponse, Failure> {
    let notice = match params.done.as_deref() {
        Some("invited") => {
            Some(Text::new("账号已创建，邀请邮件已发出。", "The account is created and the invitation is sent."))
        }
        Some("changed") => Some(Text::new("账号已更新。", "The account is updated.")),
        Some("mfa_reset") => Some(Text::new(
            "两步验证已清除，该账号的登录已全部结束。",
            "The second factor is cleared and the account's sessions ended.",
        )),
        _ => None,
    };
    Ok(html(users_page(&staff, &db, notice, Vec::new()).await?))
}

async fn users_refused(staff: &Staff, db: &Db, error: crate::app::Error) -> Result<HttpResponse, Failure> {
    match error {
        crate::app::Error::Refused(refusal) if refusal != Refusal::NotFound => {
            let body = users_page(staff, db, None, explain(&refusal)).await?;
            Ok(refused(refused_status(&refusal), body))
        }
        error => Err(error.into()),
    }
}

/// Invites a staff member: the account, and an email to choose a password with.
pub async fn invite(
    posted: Posted<Vec<(String, String)>>,
    db: web::Data<Db>,
    portal: web::Data<PortalSettings>,
) -> Result<HttpResponse, Failure> {
    let (staff, fields) = (posted.staff, Fields::new(posted.form));
    let input = NewStaff {
        email: fields.text("email").unwrap_or_default(),
        display_name: fields.text("display_name").unwrap_or_default(),
        role: Choice::parse(fields.get("role").unwrap_or_default()),
        form_errors: Vec::new(),
    };
    match users::create_staff(&db, &portal, &staff.caller, input).await {
        Ok(_) => Ok(see_other("/console/users?done=invited")),
        Err(error) => users_refused(&staff, &db, error).await,
    }
}

/// Clears an account's second factor (a lost phone) and ends its sessions.
pub async fn reset_second_factor(
    posted: Posted<Nothing>,
    db: web::Data<Db>,
    id: web::Path<i64>,
) -> Result<HttpResponse, Failure> {
    let staff = posted.staff;
    match crate::app::mfa::reset(&db, &staff.caller, id.into_inner()).await {
        Ok(()) => Ok(see_other("/console/users?done=mfa_reset")),
        Err(error) => users_refused(&staff, &db, error).await,
    }
}

/// Disables or enables an account; disabling ends its sessions at once.
pub async fn change_user(
    posted: Posted<Vec<(String, String)>>,
    db: web::Data<Db>,
    id: web::Path<i64>,
) -> Result<HttpResponse, Failure> {
    let (staff, fields) = (posted.staff, Fields::new(posted.form));
    let patch = UserPatch {
        display_name: None,
        status: Some(Choice::parse(fields.get("status").unwrap_or_default())),
        form_errors: Vec::new(),
    };
    match users::update(&db, &staff.caller, id.into_inner(), patch).await {
        Ok(_) => Ok(see_other("/console/users?done=changed")),
        Err(error) => users_refused(&staff, &db, error).await,
    }
}

#[derive(Template)]
#[template(path = "console/programs.html")]
struct ProgramsPage {
    frame: Frame,
    groups: Vec<(Text, Vec<Program>)>,
    problem: Vec<Text>,
}

impl ProgramsPage {
    fn status_of(program: &Program) -> ProgramStatus {
        program.status()
    }
}

async fn programs_page(staff: &Staff, db: &Db, notice: Option<Text>, problem: Vec<Text>) -> Result<String, Failure> {
    let mut groups = Vec::new();
    for (status, label) in [
        (ProgramStatus::Draft, Text::new("草稿", "Drafts")),
        (ProgramStatus::Published, Text::new("已发布", "Published")),
        (ProgramStatus::Closed, Text::new("已关闭", "Closed")),
    ] {
        let listing = Listing { status: Some(status), ..Listing::default() };
        let (list, _) = programs::list(db, Some(&staff.caller), listing, Start::Offset(0), 100).await?;
        groups.push((label, list));
    }
    let frame = Frame::new(staff, Text::new("项目", "Programmes"), "/console/programs").with_notice(notice);
    Ok(ProgramsPage { frame, groups, problem }.render()?)
}

#[derive(Debug, Deserialize)]
pub struct ProgramsParams {
    done: Option<String>,
}

pub async fn programs(
    staff: Staff,
    db: web::Data<Db>,
    params: web::Query<ProgramsParams>,
) -> Result<HttpResponse, Failure> {
    let notice = match params.done.as_deref() {
        Some("publish") => Some(Text::new("项目已发布。", "The programme is published.")),
        Some("close") => Some(Text::new("项目已关闭。", "The programme is closed.")),
        _ => None,
    };
    Ok(html(programs_page(&staff, &db, notice, Vec::new()).await?))
}

/// Publishes or closes a programme.
pub async fn program_step(
    posted: Posted<Vec<(String, String)>>,
    db: web::Data<Db>,
    path: web::Path<(i64, String)>,
) -> Result<HttpResponse, Failure> {
    let staff = posted.staff;
    let (id, step) = path.into_inner();
    let outcome = match step.as_str() {
        "publish" => programs::publish(&db, &staff.caller, id).await,
        "close" => programs::close(&db, &staff.caller, id).await,
        _ => return Err(Failure::NotFound),
    };
    match outcome {
        Ok(_) => Ok(see_other(&format!("/console/programs?done={step}"))),
        Err(crate::app::Error::Refused(refusal)) if refusal != Refusal::NotFound => {
            let body = programs_page(&staff, &db, None, explain(&refusal)).await?;
            Ok(refused(refused_status(&refusal), body))
        }
        Err(error) => Err(error.into()),
    }
}

#[derive(Template)]
#[template(path = "console/calendar.html")]
struct CalendarPage {
    frame: Frame,
    days: YearDays,
    problem: Vec<Text>,
}

impl CalendarPage {
    /// Days one per line, as the form takes them back.
    fn lines(days: &[chrono::NaiveDate]) -> String {
        days.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n")
    }
}

fn calendar_frame(staff: &Staff, year: i32, notice: Option<Text>) -> Frame {
    let title = Text::owned(format!("{year} 年工作日"), format!("Working days in {year}"));
    Frame::new(staff, title, "/console/calendar").with_notice(notice)
}

#[derive(Debug, Deserialize)]
pub struct YearParam {
    year: Option<i32>,
    done: Option<String>,
}

/// One year's holidays and the weekend days worked instead, as the deadlines count them.
pub async fn calendar(
    staff: Staff,
    db: web::Data<Db>,
    portal: web::Data<PortalSettings>,
    params: web::Query<YearParam>,
) -> Result<HttpResponse, Failure> {
    staff.caller.require(&[Role::Admin]).map_err(Failure::Refused)?;
    let year = params.year.unwrap_or_else(|| time::today(portal.utc_offset).year());
    let days = calendar::year(&db, year).await?;
    let notice = params.done.is_some().then(|| Text::new("日历已保存。", "The calendar is saved."));
    Ok(html(CalendarPage { frame: calendar_frame(&staff, year, notice), days, problem: Vec::new() }.render()?))
}

/// Replaces a year's holidays and weekend working days, one date per line.
pub async fn save_calendar(
    posted: Posted<Vec<(String, String)>>,
    db: web::Data<Db>,
    year: web::Path<i32>,
) -> Result<HttpResponse, Failure> {
    let (staff, fields, year) = (posted.staff, Fields::new(posted.form), year.into_inner());
    let mut errors = Vec::new();
    let mut days = |field: &'static str| -> Vec<chrono::NaiveDate> {
        let text = fields.get(field).unwrap_or_default();
        text.split(|c: char| c.is_whitespace() || c == ',' || c == '，')
            .filter(|d| !d.is_empty())
            .filter_map(|d| {
                let day = chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok();
                if day.is_none() {
                    errors.push(crate::domain::error::FieldError::new(
                        field,
                        "invalid",
                        Text::owned(
                            format!("“{d}”不是日期（如 {year}-10-01）。"),
                            format!("“{d}” is not a date (e.g. {year}-10-01)."),
                        ),
                    ));
                }
                day
            })
            .collect()
    };
    let (holidays, workdays) = (days("holidays"), days("workdays"));
    let outcome = match Refusal::unless_any(errors) {
        Ok(()) => calendar::replace_year(&db, &staff.caller, year, holidays, workdays).await,
        Err(refusal) => Err(refusal.into()),
    };
    match outcome {
        Ok(_) => Ok(see_other(&format!("/console/calendar?year={year}&done=saved"))),
        Err(crate::app::Error::Refused(refusal)) if refusal != Refusal::NotFound => {
            let days = calendar::year(&db, year).await?;
            let page = CalendarPage { frame: calendar_frame(&staff, year, None), days, problem: explain(&refusal) };
            Ok(refused(refused_status(&refusal), page.render()?))
        }
        Err(error) => Err(error.into()),
    }
}

#[derive(Template)]
#[template(path = "console/audit.html")]
struct AuditPage {
    frame: Frame,
    events: Vec<EventRow>,
    check: Option<ChainCheck>,
    next: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct AuditParams {
    after: Option<String>,
    verify: Option<String>,
}

/// The audit trail, newest first, and on request the check of its whole chain.
pub async fn audit(staff: Staff, db: web::Data<Db>, params: web::Query<AuditParams>) -> Result<HttpResponse, Failure> {
    const PER_PAGE: i64 = 50;
    let after = paging::start_after(params.after.as_deref().filter(|a| !a.is_empty())).map_err(Failure::Refused)?;
    let start = after.map_or(Start::Offset(0), Start::After);
    let filter = Filter { object_type: None, object_id: None, actor_id: None, action: None };
    let (mut events, _) = audit::list(&db, &staff.caller, filter, start, PER_PAGE).await?;
    let more = events.len() > usize::try_from(PER_PAGE).unwrap_or(usize::MAX);
    events.truncate(usize::try_from(PER_PAGE).unwrap_or(usize::MAX));
    let next = events.last().filter(|_| more).map(|e| format!("/console/audit?after={}", paging::cursor(&e.seq)));
    let check = if params.verify.is_some() { Some(audit::verify(&db, &staff.caller).await?) } else { None };
    let frame = Frame::new(&staff, Text::new("审计日志", "Audit log"), "/console/audit");
    Ok(html(AuditPage { frame, events, check, next }.render()?))
}

impl UsersPage {
    fn active(user: &UserView) -> bool {
        user.status == UserStatus::Active
    }
}
