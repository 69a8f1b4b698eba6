//! The first page after signing in: the queues a role works through, with their counts; an expert's own
//! assignments.

use actix_web::{HttpResponse, web};
use askama::Template;

use crate::app::applications::{self, ListQuery, Seen};
use crate::app::companies::{self, CompanyFilter};
use crate::app::queues::{self, Queues};
use crate::config::PortalSettings;
use crate::console::failure::Failure;
use crate::console::session::Staff;
use crate::console::view::Frame;
use crate::db::{Db, Start};
use crate::domain::company::VerificationStatus;
use crate::domain::role::Role;
use crate::domain::time;
use crate::domain::workflow::{Action, Status};
use crate::i18n::Text;

/// One count on the dashboard, linking to the list it counts.
pub struct Count {
    pub label: Text,
    pub n: i64,
    pub href: &'static str,
    /// Something is late: shown in red when above zero.
    pub alert: bool,
}

#[derive(Template)]
#[template(path = "console/dashboard.html")]
struct DashboardPage {
    frame: Frame,
    counts: Vec<Count>,
    queues: Option<Queues>,
    statuses: Vec<(String, Text)>,
}

#[derive(Template)]
#[template(path = "console/assignments.html")]
struct AssignmentsPage {
    frame: Frame,
    assignments: Vec<Assignment>,
}

/// One application assigned to the expert, and what they still have to do.
struct Assignment {
    id: i64,
    reference: String,
    program: String,
    company: String,
    todo: Text,
}

impl From<Seen> for Assignment {
    fn from(seen: Seen) -> Self {
        let todo = if seen.allowed.contains(&Action::Declare) {
            Text::new("请先作利益冲突声明", "Declare conflicts of interest first")
        } else if seen.allowed.contains(&Action::Score) {
            Text::new("待评分", "To score")
        } else {
            Text::new("已完成", "Done")
        };
        let r = seen.record;
        Self {
            id: r.application.id,
            reference: r.application.reference_no.unwrap_or_else(|| "—".to_owned()),
            program: format!("{} {}", r.program_code, r.program_title),
            company: r.company_name,
            todo,
        }
    }
}

pub async fn show(staff: Staff, db: web::Data<Db>, portal: web::Data<PortalSettings>) -> Result<HttpResponse, Failure> {
    let today = time::today(portal.utc_offset);
    if staff.caller.role == Role::Expert {
        return assignments(&staff, &db).await;
    }
    let q = queues::counts(&db, &staff.caller, today).await?;
    let c = &q.queues;
    let mut counts = Vec::new();
    if matches!(staff.caller.role, Role::Reviewer | Role::Admin) {
        let pending = CompanyFilter {
            verification_status: Some(VerificationStatus::Pending),
            per_page: Some(1),
            ..CompanyFilter::default()
        };
        let (_, _, awaiting_verification) = companies::list(&db, &staff.caller, pending).await?;
        counts.extend([
            count(
                ("待形式审查", "Awaiting the formal check"),
                c.awaiting_formal_check,
                "/console/applications?status=submitted",
                false,
            ),
            count(
                ("专家评分已齐、待拟定", "Scored, ready to propose"),
                c.ready_to_propose,
                "/console/applications?status=expert_review",
                false,
            ),
            count(
                ("公示将于 5 个工作日内结束", "Notices ending within 5 working days"),
                c.notices_ending_soon,
                "/console/applications?status=public_notice",
                false,
            ),
            count(
                ("未处理的异议", "Open objections"),
                c.open_objections,
                "/console/applications?status=public_notice",
                c.open_objections > 0,
            ),
            count(
                ("补正逾期", "Corrections overdue"),
                c.corrections_overdue,
                "/console/applications?status=returned",
                c.corrections_overdue > 0,
            ),
            count(
                ("待认证企业", "Companies awaiting verification"),
                awaiting_verification,
                "/console/companies?verification=pending",
                false,
            ),
        ]);
    }
    if matches!(staff.caller.role, Role::Finance | Role::Admin) {
        counts.extend([
            count(("待拨付", "Payments due"), c.payments_due, "/console/payments", false),
            count(("拨付逾期", "Payments overdue"), c.payments_overdue, "/console/payments", c.payments_overdue > 0),
        ]);
    }
    let statuses =
        Status::ALL.iter().filter(|s| s.implies_submitted()).map(|s| (s.as_str().to_owned(), s.label())).collect();
    let frame = Frame::new(&staff, Text::new("工作台", "Dashboard"), "/console/");
    let page = DashboardPage { frame, counts, queues: Some(q), statuses };
    Ok(html(page.render()?))
}

fn count(label: (&'static str, &'static str), n: i64, href: &'static str, alert: bool) -> Count {
    Count { label: Text::new(label.0, label.1), n, href, alert }
}

async fn assignments(staff: &Staff, db: &Db) -> Result<HttpResponse, Failure> {
    let portal_offset = staff.utc_offset;
    let today = time::today(portal_offset);
    let query = ListQuery {
        status: None,
        program_id: None,
        company_id: None,
        submitted_from: None,
        submitted_to: None,
        q: None,
        start: Start::Offset(0),
        limit: 100,
    };
    let (mut assignments, _) = applications::list(db, &staff.caller, query, portal_offset, today).await?;
    // Work still to do first: a declaration, then a score.
    assignments.sort_by_key(|s| (!s.allowed.contains(&Action::Declare), !s.allowed.contains(&Action::Score)));
    let frame = Frame::new(staff, Text::new("我的评审", "My reviews"), "/console/");
    let assignments = assignments.into_iter().map(Assignment::from).collect();
    Ok(html(AssignmentsPage { frame, assignments }.render()?))
}

pub fn html(body: String) -> HttpResponse {
    HttpResponse::Ok().content_type(mime::TEXT_HTML_UTF_8).body(body)
}
