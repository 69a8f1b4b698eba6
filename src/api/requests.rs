//! Company requests (企业诉求): filed by a company, answered by the park's staff, rated by the company.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::api::export::{CSV, Format, XLSX, csv_text, download, inert};
use crate::api::extract::{Json, Query};
use crate::api::pagination::Page;
use crate::api::session::SignedIn;
use crate::app::requests::{self, Clock, NewRequestInput, Report, Request};
use crate::config::{PortalSettings, RequestSettings};
use crate::db::Db;
use crate::db::requests::{Filter, MessageRecord};
use crate::domain::requests::{RequestCategory, RequestFigures, RequestStatus};
use crate::domain::time;
use crate::error::ApiError;

#[derive(Debug, Serialize, ToSchema)]
pub struct RequestCompany {
    pub id: i64,
    pub name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StaffRef {
    pub id: i64,
    pub display_name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MessageAuthor {
    /// `applicant` for the company, otherwise the staff member's role.
    pub role: String,
    pub display_name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MessageView {
    pub id: i64,
    pub author: MessageAuthor,
    pub body: String,
    /// A staff note the company never sees.
    pub internal: bool,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RequestView {
    pub id: i64,
    #[schema(example = "Q2026-00042")]
    pub reference_no: String,
    pub company: RequestCompany,
    pub category: RequestCategory,
    pub subject: String,
    pub content: String,
    pub program_id: Option<i64>,
    pub application_id: Option<i64>,
    pub status: RequestStatus,
    pub assignee: Option<StaffRef>,
    pub first_response_due_on: NaiveDate,
    /// The resolution deadline; it moves on by the working days spent waiting on the company.
    pub due_on: NaiveDate,
    pub first_responded_at: Option<DateTime<Utc>>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub resolution: Option<String>,
    /// The company's rating of the latest resolution, 1 to 5.
    pub rating: Option<i32>,
    /// Past a deadline with the clock running.
    pub overdue: bool,
    /// The thread, oldest first; only in the answer about one request.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub messages: Option<Vec<MessageView>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl RequestView {
    fn new(request: Request, with_messages: bool) -> Self {
        let Request { record, category, status, overdue, messages } = request;
        let r = record.request;
        Self {
            id: r.id,
            reference_no: r.reference_no,
            company: RequestCompany { id: r.company_id, name: record.company_name },
            category,
            subject: r.subject,
            content: r.content,
            program_id: r.program_id,
            application_id: r.application_id,
            status,
            assignee: r.assignee_id.zip(record.assignee_name).map(|(id, display_name)| StaffRef { id, display_name }),
            first_response_due_on: r.first_response_due_on,
            due_on: r.due_on,
            first_responded_at: r.first_responded_at.map(time::to_utc),
            resolved_at: r.resolved_at.map(time::to_utc),
            resolution: r.resolution,
            rating: r.rating,
            overdue,
            messages: with_messages.then(|| messages.into_iter().map(MessageView::from).collect()),
            created_at: time::to_utc(r.created_at),
            updated_at: time::to_utc(r.updated_at),
        }
    }
}

impl From<MessageRecord> for MessageView {
    fn from(m: MessageRecord) -> Self {
        Self {
            id: m.id,
            author: MessageAuthor { role: m.author_role, display_name: m.author_name },
            body: m.body,
            internal: m.internal,
            created_at: time::to_utc(m.created_at),
        }
    }
}

fn clock(portal: &PortalSettings) -> Clock {
    Clock::now(portal.utc_offset)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRequestBody {
    /// `policy_consultation` (政策咨询), `application_help` (申报求助), `payment_inquiry` (资金兑付),
    /// `complaint` (投诉) or `suggestion` (建议).
    #[schema(example = "policy_consultation")]
    pub category: String,
    #[schema(pattern = r"\S", max_length = 200)]
    pub subject: String,
    #[schema(pattern = r"\S", max_length = 5000)]
    pub content: String,
    pub program_id: Option<i64>,
    /// One of the company's own applications.
    pub application_id: Option<i64>,
}

/// A company files a request; its deadlines count in working days from today.
#[utoipa::path(tag = "requests", security(("bearer" = [])), request_body = NewRequestBody, responses(
    (status = 201, description = "the request", body = RequestView),
    (status = 422, description = "`validation_failed`: a field, an unknown category, application or programme", body = crate::error::Problem, content_type = "application/problem+json"),
))]
#[post("/requests")]
pub async fn file_request(
    user: SignedIn,
    db: web::Data<Db>,
    portal: web::Data<PortalSettings>,
    settings: web::Data<RequestSettings>,
    body: Json<NewRequestBody>,
) -> Result<(web::Json<RequestView>, StatusCode), ApiError> {
    let NewRequestBody { category, subject, content, program_id, application_id } = body.into_inner();
    let input = NewRequestInput { category, subject, content, program_id, application_id };
    let request = requests::file(&db, &user, input, settings.deadlines, clock(&portal)).await?;
    Ok((web::Json(RequestView::new(request, false)), StatusCode::CREATED))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct RequestQuery {
    pub status: Option<RequestStatus>,
    pub category: Option<RequestCategory>,
    pub assignee_id: Option<i64>,
    /// `true`: only requests past a deadline with the clock running.
    pub overdue: Option<bool>,
    /// Part of the reference number or of the subject, in any case.
    pub q: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
    /// The `next_cursor` of the page before: the page after it (`page` is then ignored).
    pub after: Option<String>,
}

/// Requests: a company its own, staff all; newest first, page by page or cursor by cursor.
#[utoipa::path(tag = "requests", security(("bearer" = [])), params(RequestQuery),
    responses((status = 200, description = "a page of requests", body = Page<RequestView>)))]
#[get("/requests")]
pub async fn list_requests(
    user: SignedIn,
    db: web::Data<Db>,
    portal: web::Data<PortalSettings>,
    query: Query<RequestQuery>,
) -> Result<web::Json<Page<RequestView>>, ApiError> {
    let query = query.into_inner();
    let today = time::today(portal.utc_offset);
    let filter = Filter {
        company_id: None,
        status: query.status.map(|s| s.as_str().to_owned()),
        category: query.category.map(|c| c.as_str().to_owned()),
        assignee_id: query.assignee_id,
        overdue_on: query.overdue.unwrap_or(false).then_some(today),
        q: query.q,
    };
    let (items, window, total) =
        requests::list(&db, &user, filter, query.page, query.per_page, query.after, today).await?;
    let view = |r| RequestView::new(r, false);
    Ok(web::Json(Page::of(
        items,
        window.page,
        window.per_page,
        total,
        |r: &requests::Request| r.record.request.id,
        view,
    )))
}

/// One request with its thread; a company never sees staff's internal notes.
#[utoipa::path(tag = "requests", security(("bearer" = [])), params(("id" = i64, Path, description = "request id")),
    responses((status = 200, description = "the request and its messages", body = RequestView)))]
#[get("/requests/{id}")]
pub async fn get_request(
    user: SignedIn,
    db: web::Data<Db>,
    portal: web::Data<PortalSettings>,
    id: web::Path<i64>,
) -> Result<web::Json<RequestView>, ApiError> {
    let request = requests::get(&db, &user, id.into_inner(), time::today(portal.utc_offset)).await?;
    Ok(web::Json(RequestView::new(request, true)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MessageBody {
    #[schema(pattern = r"\S", max_length = 5000)]
    pub body: String,
    /// Staff only: a note the company never sees.
    pub internal: Option<bool>,
}

/// Adds a message to the thread.
#[utoipa::path(tag = "requests", security(("bearer" = [])), params(("id" = i64, Path, description = "request id")),
    request_body = MessageBody, responses(
        (status = 201, description = "the request and its messages", body = RequestView),
        (status = 409, description = "`conflict`: the request is resolved or closed", body = crate::error::Problem, content_type = "application/problem+json"),
    ))]
#[post("/requests/{id}/messages")]
pub async fn post_message(
    user: SignedIn,
    db: web::Data<Db>,
    portal: web::Data<PortalSettings>,
    id: web::Path<i64>,
    body: Json<MessageBody>,
) -> Result<(web::Json<RequestView>, StatusCode), ApiError> {
    let MessageBody { body, internal } = body.into_inner();
    let request =
        requests::post_message(&db, &user, id.into_inner(), body, internal.unwrap_or(false), clock(&portal)).await?;
    Ok((web::Json(RequestView::new(request, true)), StatusCode::CREATED))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignBody {
    /// An active reviewer, finance or admin user.
    pub assignee_id: i64,
}

/// Names the request's owner, who is emailed.
#[utoipa::path(tag = "requests", security(("bearer" = [])), params(("id" = i64, Path, description = "request id")),
    request_body = AssignBody, responses(
        (status = 200, description = "the request", body = RequestView),
        (status = 409, description = "`conflict`: not possible in the request's status, or it changed meanwhile", body = crate::error::Problem, content_type = "application/problem+json"),
    ))]
#[post("/requests/{id}/assign")]
pub async fn assign_request(
    user: SignedIn,
    db: web::Data<Db>,
    portal: web::Data<PortalSettings>,
    id: web::Path<i64>,
    body: Json<AssignBody>,
) -> Result<web::Json<RequestView>, ApiError> {
    let request = requests::assign(&db, &user, id.into_inner(), body.into_inner().assignee_id, clock(&portal)).await?;
    Ok(web::Json(RequestView::new(request, false)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WaitBody {
    /// What the company is asked for; it is sent to the company.
    #[schema(pattern = r"\S", max_length = 5000)]
    pub body: String,
}

/// The owner asks the company for more; the clock stops until the company answers.
#[utoipa::path(tag = "requests", security(("bearer" = [])), params(("id" = i64, Path, description = "request id")),
    request_body = WaitBody, responses(
        (status = 200, description = "the request and its messages", body = RequestView),
        (status = 409, description = "`conflict`: not possible in the request's status, or it changed meanwhile", body = crate::error::Problem, content_type = "application/problem+json"),
    ))]
#[post("/requests/{id}/wait")]
pub async fn wait_for_company(
    user: SignedIn,
    db: web::Data<Db>,
    portal: web::Data<PortalSettings>,
    id: web::Path<i64>,
    body: Json<WaitBody>,
) -> Result<web::Json<RequestView>, ApiError> {
    let request =
        requests::wait_for_company(&db, &user, id.into_inner(), body.into_inner().body, clock(&portal)).await?;
    Ok(web::Json(RequestView::new(request, true)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResolveBody {
    /// How the request was resolved; it is sent to the company.
    #[schema(pattern = r"\S", max_length = 5000)]
    pub resolution: String,
}

/// The owner resolves the request; the company is emailed and asked to rate it.
#[utoipa::path(tag = "requests", security(("bearer" = [])), params(("id" = i64, Path, description = "request id")),
    request_body = ResolveBody, responses(
        (status = 200, description = "the request", body = RequestView),
        (status = 409, description = "`conflict`: not possible in the request's status, or it changed meanwhile", body = crate::error::Problem, content_type = "application/problem+json"),
    ))]
#[post("/requests/{id}/resolve")]
pub async fn resolve_request(
    user: SignedIn,
    db: web::Data<Db>,
    portal: web::Data<PortalSettings>,
    id: web::Path<i64>,
    body: Json<ResolveBody>,
) -> Result<web::Json<RequestView>, ApiError> {
    let request = requests::resolve(&db, &user, id.into_inner(), body.into_inner().resolution, clock(&portal)).await?;
    Ok(web::Json(RequestView::new(request, false)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RatingBody {
    /// 1 (非常不满意, very dissatisfied) to 5 (非常满意, very satisfied); 1 or 2 reopens the request.
    #[schema(minimum = 1, maximum = 5)]
    pub rating: i32,
    #[schema(max_length = 1000)]
    pub comment: Option<String>,
}

/// The company rates the resolution, once per resolution.
#[utoipa::path(tag = "requests", security(("bearer" = [])), params(("id" = i64, Path, description = "request id")),
    request_body = RatingBody, responses(
        (status = 200, description = "the request, closed or reopened", body = RequestView),
        (status = 409, description = "`conflict`: not resolved, or rated already", body = crate::error::Problem, content_type = "application/problem+json"),
    ))]
#[post("/requests/{id}/rating")]
pub async fn rate_request(
    user: SignedIn,
    db: web::Data<Db>,
    portal: web::Data<PortalSettings>,
    settings: web::Data<RequestSettings>,
    id: web::Path<i64>,
    body: Json<RatingBody>,
) -> Result<web::Json<RequestView>, ApiError> {
    let RatingBody { rating, comment } = body.into_inner();
    let request =
        requests::rate(&db, &user, id.into_inner(), rating, comment, settings.deadlines, clock(&portal)).await?;
    Ok(web::Json(RequestView::new(request, false)))
}

// ---------------------------------------------------------------------------------------------------
// The report

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct RequestReportQuery {
    /// Requests received on or after this day; the first of this year when absent.
    pub from: Option<NaiveDate>,
    /// Requests received on or before this day; today when absent.
    pub to: Option<NaiveDate>,
    pub format: Option<Format>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CategoryLine {
    pub category: RequestCategory,
    pub label: String,
    #[serde(flatten)]
    pub figures: RequestFigures,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AssigneeLine {
    /// `null` for requests nobody owns yet.
    pub assignee: Option<StaffRef>,
    #[serde(flatten)]
    pub figures: RequestFigures,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RequestReport {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub by_category: Vec<CategoryLine>,
    pub by_assignee: Vec<AssigneeLine>,
    pub totals: RequestFigures,
}

impl RequestReport {
    fn new(report: Report) -> Self {
        Self {
            from: report.from,
            to: report.to,
            by_category: report
                .by_category
                .into_iter()
                .map(|(category, figures)| CategoryLine { category, label: category.label().zh.into_owned(), figures })
                .collect(),
            by_assignee: report
                .by_assignee
                .into_iter()
                .map(|(owner, figures)| AssigneeLine {
                    assignee: owner.map(|(id, display_name)| StaffRef { id, display_name }),
                    figures,
                })
                .collect(),
            totals: report.totals,
        }
    }

    /// Every line as the spreadsheet shows it: group, name, then the figures.
    fn lines(&self) -> Vec<(&'static str, String, &RequestFigures)> {
        let categories = self.by_category.iter().map(|l| ("类别", l.label.clone(), &l.figures));
        let owners = self.by_assignee.iter().map(|l| {
            ("承办人", l.assignee.as_ref().map_or_else(|| "未分派".to_owned(), |p| p.display_name.clone()), &l.figures)
        });
        categories.chain(owners).chain([("合计", "全部".to_owned(), &self.totals)]).collect()
    }
}

const HEADERS: [&str; 11] = [
    "分组",
    "名称",
    "受理数",
    "按时首次答复",
    "按时办结",
    "超期未办结",
    "首次答复用时中位数（工作日）",
    "办结用时中位数（工作日）",
    "评价数",
    "平均评分",
    "差评数",
];

fn cells(figures: &RequestFigures) -> [String; 9] {
    let optional = |value: Option<f64>| value.map_or_else(String::new, |v| v.to_string());
    [
        figures.received.to_string(),
        figures.first_response_on_time.to_string(),
        figures.resolved_on_time.to_string(),
        figures.open_overdue.to_string(),
        optional(figures.median_days_to_first_response),
        optional(figures.median_days_to_resolution),
        figures.ratings.to_string(),
        optional(figures.mean_rating),
        figures.bad_ratings.to_string(),
    ]
}

fn csv(report: &RequestReport) -> String {
    let mut out = String::from("\u{feff}");
    out.push_str(&HEADERS.join(","));
    out.push_str("\r\n");
    for (group, name, figures) in report.lines() {
        let mut row = vec![group.to_owned(), csv_text(&name)];
        row.extend(cells(figures));
        out.push_str(&row.join(","));
        out.push_str("\r\n");
    }
    out
}

fn xlsx(report: &RequestReport) -> Result<Vec<u8>, ApiError> {
    use rust_xlsxwriter::{Format as CellFormat, Workbook};
    let failed = |e: rust_xlsxwriter::XlsxError| ApiError::Internal(anyhow::anyhow!("writing the workbook: {e}"));
    let mut workbook = Workbook::new();
    let bold = CellFormat::new().set_bold();
    let sheet = workbook.add_worksheet_with_constant_memory().map_err(failed)?;
    sheet.set_name("诉求办理统计").map_err(failed)?;
    for (column, title) in (0u16..).zip(HEADERS) {
        sheet.write_string_with_format(0, column, title, &bold).map_err(failed)?;
    }
    for (row, (group, name, figures)) in (1u32..).zip(report.lines()) {
        sheet.write_string(row, 0, group).map_err(failed)?;
        sheet.write_string(row, 1, inert(&name)).map_err(failed)?;
        for (column, cell) in (2u16..).zip(cells(figures)) {
            match cell.parse::<f64>() {
                Ok(number) => sheet.write_number(row, column, number).map_err(failed)?,
                Err(_) => sheet.write_string(row, column, cell).map_err(failed)?,
            };
        }
    }
    workbook.save_to_buffer().map_err(failed)
}

/// How the park handles companies' requests, per category and per owner: on-time rates, working days to
/// answer, ratings. As JSON, CSV (UTF-8 with BOM) or XLSX.
#[utoipa::path(tag = "reports", security(("bearer" = [])), params(RequestReportQuery), responses(
    (status = 200, description = "the report: JSON, or with `format` a CSV or XLSX download", content(
        (RequestReport = "application/json"),
        (String = "text/csv"),
        (String = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    )),
    (status = 422, description = "`validation_failed`: dates out of order or outside 2000–2100", body = crate::error::Problem, content_type = "application/problem+json"),
))]
#[get("/reports/requests")]
pub async fn request_report(
    user: SignedIn,
    db: web::Data<Db>,
    portal: web::Data<PortalSettings>,
    query: Query<RequestReportQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    let today = time::today(portal.utc_offset);
    let report = requests::report(&db, &user, query.from, query.to, portal.utc_offset, today).await?;
    let report = RequestReport::new(report);
    Ok(match query.format.unwrap_or_default() {
        Format::Json => HttpResponse::Ok().json(report),
        Format::Csv => download(csv(&report).into_bytes(), CSV, "requests.csv"),
        Format::Xlsx => {
            let bytes = web::block(move || xlsx(&report)).await.map_err(|e| ApiError::Internal(e.into()))??;
            download(bytes, XLSX, "requests.xlsx")
        }
    })
}
