//! The reports finance lives in: where the money went, what is late, and where each programme stands.

use std::collections::BTreeMap;

use actix_web::http::header::{self, ContentDisposition, DispositionParam, DispositionType};
use actix_web::{HttpResponse, get, web};
use chrono::{NaiveDate, NaiveTime};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::api::extract::Query;
use crate::api::session::SignedIn;
use crate::config::PortalSettings;
use crate::db::reports::{self, ReportRow};
use crate::db::{Db, calendar};
use crate::domain::company::Industry;
use crate::domain::report::GroupBy;
use crate::domain::role::Role;
use crate::domain::time;
use crate::domain::workflow::Status;
use crate::error::ApiError;
use crate::i18n::Text;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    #[default]
    Json,
    Csv,
    Xlsx,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct DisbursementReportQuery {
    pub group_by: GroupBy,
    pub program_id: Option<i64>,
    /// Payments on or after this day count as disbursed.
    pub paid_from: Option<NaiveDate>,
    /// Payments on or before this day count; what is owed is as of this day.
    pub paid_to: Option<NaiveDate>,
    pub format: Option<Format>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReportLine {
    pub key: String,
    pub label: String,
    pub applications: i64,
    pub approved_fen: i64,
    pub disbursed_fen: i64,
    pub outstanding_fen: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DisbursementReport {
    pub rows: Vec<ReportLine>,
    pub totals: ReportLine,
}

const READERS: [Role; 2] = [Role::Finance, Role::Admin];

/// Approved awards grouped by programme, company, industry, park zone, or the month or year of approval:
/// the number, the approved amount, what was paid net of reversals in the period, and what is still owed.
/// As JSON, CSV (UTF-8 with BOM) or XLSX.
#[utoipa::path(tag = "reports", security(("bearer" = [])), params(DisbursementReportQuery), responses(
    (status = 200, description = "the report: JSON, or with `format` a CSV or XLSX download", content(
        (DisbursementReport = "application/json"),
        (String = "text/csv"),
        (String = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    )),
))]
#[get("/reports/disbursements")]
pub async fn disbursement_report(
    user: SignedIn,
    db: web::Data<Db>,
    portal: web::Data<PortalSettings>,
    query: Query<DisbursementReportQuery>,
) -> Result<HttpResponse, ApiError> {
    user.require(&READERS)?;
    let query = query.into_inner();
    let group_by = query.group_by;
    let paid_from = query.paid_from.unwrap_or(NaiveDate::MIN);
    let paid_to = query.paid_to.unwrap_or(NaiveDate::MAX);
    let offset_minutes = portal.utc_offset.local_minus_utc() / 60;
    let rows = db
        .read(move |conn| {
            reports::disbursements(
                conn,
                group_by,
                query.program_id,
                paid_from.max(date(1, 1, 1)),
                paid_to.min(date(9999, 12, 31)),
                offset_minutes,
            )
        })
        .await?;
    let report = build(rows, group_by);
    match query.format.unwrap_or_default() {
        Format::Json => Ok(HttpResponse::Ok().json(report)),
        Format::Csv => Ok(download(csv(&report).into_bytes(), "text/csv; charset=utf-8", "disbursements.csv")),
        Format::Xlsx => {
            let bytes = web::block(move || xlsx(&report)).await.map_err(|e| ApiError::Internal(e.into()))??;
            Ok(download(
                bytes,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                "disbursements.xlsx",
            ))
        }
    }
}

fn date(year: i32, month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, month, day).expect("a valid date")
}

fn build(rows: Vec<ReportRow>, group_by: GroupBy) -> DisbursementReport {
    let mut totals = ReportLine {
        key: "total".into(),
        label: "合计".into(),
        applications: 0,
        approved_fen: 0,
        disbursed_fen: 0,
        outstanding_fen: 0,
    };
    let rows = rows
        .into_iter()
        .map(|row| {
            totals.applications += row.applications;
            totals.approved_fen += row.approved_fen;
            totals.disbursed_fen += row.disbursed_fen;
            totals.outstanding_fen += row.outstanding_fen;
            let label = match group_by {
                GroupBy::Industry => Industry::parse(&row.label).map_or(row.label, |i| i.label().zh.into_owned()),
                _ => row.label,
            };
            ReportLine {
                key: row.key,
                label,
                applications: row.applications,
                approved_fen: row.approved_fen,
                disbursed_fen: row.disbursed_fen,
                outstanding_fen: row.outstanding_fen,
            }
        })
        .collect();
    DisbursementReport { rows, totals }
}

fn download(bytes: Vec<u8>, content_type: &str, name: &str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header(ContentDisposition {
            disposition: DispositionType::Attachment,
            parameters: vec![DispositionParam::Filename(name.to_owned())],
        })
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .body(bytes)
}

const HEADERS: [&str; 6] = ["编码", "名称", "项目数", "批准金额（元）", "已拨付（元）", "未拨付（元）"];

/// Fen as yuan with two decimals and no grouping, as spreadsheets read numbers.
fn plain_yuan(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    format!("{sign}{}.{:02}", fen.unsigned_abs() / 100, fen.unsigned_abs() % 100)
}

/// A text cell a spreadsheet will not run: one that starts like a formula gets a leading apostrophe.
fn inert(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{text}") } else { text.to_owned() }
}

fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) { format!("\"{}\"", text.replace('"', "\"\"")) } else { text.to_owned() }
}

fn csv(report: &DisbursementReport) -> String {
    let mut out = String::from("\u{feff}");
    out.push_str(&HEADERS.join(","));
    out.push_str("\r\n");
    for line in report.rows.iter().chain(std::iter::once(&report.totals)) {
        let cells = [
            csv_field(&inert(&line.key)),
            csv_field(&inert(&line.label)),
            line.applications.to_string(),
            plain_yuan(line.approved_fen),
            plain_yuan(line.disbursed_fen),
            plain_yuan(line.outstanding_fen),
        ];
        out.push_str(&cells.join(","));
        out.push_str("\r\n");
    }
    out
}

#[expect(clippy::cast_precision_loss, reason = "yuan amounts stay far below 2^53 fen")]
fn as_yuan(fen: i64) -> f64 {
    fen as f64 / 100.0
}

/// The report as a workbook written row by row in constant memory, amounts as numbers in yuan.
fn xlsx(report: &DisbursementReport) -> Result<Vec<u8>, ApiError> {
    use rust_xlsxwriter::{Format as CellFormat, Workbook};
    let failed = |e: rust_xlsxwriter::XlsxError| ApiError::Internal(anyhow::anyhow!("writing the workbook: {e}"));
    let mut workbook = Workbook::new();
    let bold = CellFormat::new().set_bold();
    let money = CellFormat::new().set_num_format("#,##0.00");
    let money_bold = CellFormat::new().set_num_format("#,##0.00").set_bold();
    let sheet = workbook.add_worksheet_with_constant_memory().map_err(failed)?;
    sheet.set_name("拨付统计").map_err(failed)?;
    for (column, title) in (0u16..).zip(HEADERS) {
        sheet.write_string_with_format(0, column, title, &bold).map_err(failed)?;
    }
    let last = u32::try_from(report.rows.len()).unwrap_or(u32::MAX) + 1;
    let lines =
        (1u32..).zip(&report.rows).map(|(row, line)| (row, line, &money)).chain([(last, &report.totals, &money_bold)]);
    for (row, line, number) in lines {
        sheet.write_string(row, 0, inert(&line.key)).map_err(failed)?;
        sheet.write_string(row, 1, inert(&line.label)).map_err(failed)?;
        #[expect(clippy::cast_precision_loss, reason = "counts stay far below 2^53")]
        sheet.write_number(row, 2, line.applications as f64).map_err(failed)?;
        sheet.write_number_with_format(row, 3, as_yuan(line.approved_fen), number).map_err(failed)?;
        sheet.write_number_with_format(row, 4, as_yuan(line.disbursed_fen), number).map_err(failed)?;
        sheet.write_number_with_format(row, 5, as_yuan(line.outstanding_fen), number).map_err(failed)?;
    }
    workbook.save_to_buffer().map_err(failed)
}

// ---------------------------------------------------------------------------------------------------
// Timeliness

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct TimelinessQuery {
    /// Approvals on or after this day (the park's calendar).
    pub approved_from: NaiveDate,
    /// Approvals on or before this day.
    pub approved_to: NaiveDate,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OverdueLine {
    pub application_id: i64,
    pub reference_no: Option<String>,
    pub company_name: String,
    pub approved_amount_fen: i64,
    pub approved_on: NaiveDate,
    pub payment_due_on: NaiveDate,
    /// Working days past the due date, today included.
    pub working_days_overdue: u32,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TimelinessReport {
    pub approved_from: NaiveDate,
    pub approved_to: NaiveDate,
    pub approvals: usize,
    /// First payment on or before the due date.
    pub paid_on_time: usize,
    pub paid_late: usize,
    /// Not paid yet, and not due yet.
    pub unpaid_not_due: usize,
    pub unpaid_overdue: Vec<OverdueLine>,
    /// Working days from approval to the first payment, over the awards paid; `null` when none was.
    pub median_working_days_to_first_payment: Option<f64>,
}

/// For awards approved in a period: paid on time, paid late, and unpaid past the due date.
#[utoipa::path(tag = "reports", security(("bearer" = [])), params(TimelinessQuery),
    responses((status = 200, description = "the report", body = TimelinessReport)))]
#[get("/reports/timeliness")]
pub async fn timeliness_report(
    user: SignedIn,
    db: web::Data<Db>,
    portal: web::Data<PortalSettings>,
    query: Query<TimelinessQuery>,
) -> Result<web::Json<TimelinessReport>, ApiError> {
    user.require(&READERS)?;
    let TimelinessQuery { approved_from, approved_to } = query.into_inner();
    if approved_to < approved_from {
        return Err(ApiError::field(
            "approved_to",
            "before_start",
            Text::new("结束日期不能早于开始日期。", "The period ends before it starts."),
        ));
    }
    let offset = portal.utc_offset;
    let start_of = move |day: NaiveDate| {
        day.and_time(NaiveTime::MIN) - chrono::Duration::seconds(i64::from(offset.local_minus_utc()))
    };
    let (from, before) = (start_of(approved_from), start_of(approved_to.succ_opt().unwrap_or(approved_to)));
    let today = time::today(offset);
    let (rows, calendar) = db
        .read(move |conn| Ok::<_, ApiError>((reports::approvals(conn, from, before)?, calendar::load(conn)?)))
        .await?;

    let mut report = TimelinessReport {
        approved_from,
        approved_to,
        approvals: rows.len(),
        paid_on_time: 0,
        paid_late: 0,
        unpaid_not_due: 0,
        unpaid_overdue: Vec::new(),
        median_working_days_to_first_payment: None,
    };
    let mut waits = Vec::new();
    for row in rows {
        let approved_on = (row.decided_at + chrono::Duration::seconds(i64::from(offset.local_minus_utc()))).date();
        match row.first_paid_on {
            Some(paid) => {
                waits.push(calendar.working_days_between(approved_on, paid));
                if paid <= row.payment_due_on { report.paid_on_time += 1 } else { report.paid_late += 1 }
            }
            None if today > row.payment_due_on => report.unpaid_overdue.push(OverdueLine {
                application_id: row.id,
                reference_no: row.reference_no,
                company_name: row.company_name,
                approved_amount_fen: row.approved_amount_fen,
                approved_on,
                payment_due_on: row.payment_due_on,
                working_days_overdue: calendar.working_days_between(row.payment_due_on, today),
            }),
            None => report.unpaid_not_due += 1,
        }
    }
    report.median_working_days_to_first_payment = median(&mut waits);
    Ok(web::Json(report))
}

fn median(values: &mut [u32]) -> Option<f64> {
    values.sort_unstable();
    let middle = values.len() / 2;
    match values.len() {
        0 => None,
        n if n % 2 == 1 => Some(f64::from(values[middle])),
        _ => Some(f64::from(values[middle - 1] + values[middle]) / 2.0),
    }
}

// ---------------------------------------------------------------------------------------------------
// Summary

#[derive(Debug, Serialize, ToSchema)]
pub struct ProgramSummary {
    pub program_id: i64,
    pub code: String,
    pub title: String,
    /// Applications by status; statuses with none are 0.
    pub counts: BTreeMap<String, i64>,
    pub budget_fen: i64,
    pub reserved_fen: i64,
    pub disbursed_fen: i64,
    pub available_fen: i64,
}

/// Every programme: applications by status and where its budget stands.
#[utoipa::path(tag = "reports", security(("bearer" = [])), responses((status = 200, description = "one line per programme", body = Vec<ProgramSummary>)))]
#[get("/reports/summary")]
pub async fn summary_report(user: SignedIn, db: web::Data<Db>) -> Result<web::Json<Vec<ProgramSummary>>, ApiError> {
    user.require(&[Role::Reviewer, Role::Finance, Role::Admin])?;
    let (money, counts) =
        db.read(|conn| Ok::<_, ApiError>((reports::program_money(conn)?, reports::status_counts(conn)?))).await?;
    let summaries = money
        .into_iter()
        .map(|p| {
            let mut by_status: BTreeMap<String, i64> = Status::ALL.iter().map(|s| (s.as_str().to_owned(), 0)).collect();
            for (_, status, count) in counts.iter().filter(|(program, ..)| *program == p.id) {
                by_status.insert(status.clone(), *count);
            }
            ProgramSummary {
                program_id: p.id,
                code: p.code,
                title: p.title,
                counts: by_status,
                available_fen: p.budget_fen - p.reserved_fen - p.disbursed_fen,
                budget_fen: p.budget_fen,
                reserved_fen: p.reserved_fen,
                disbursed_fen: p.disbursed_fen,
            }
        })
        .collect();
    Ok(web::Json(summaries))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_that_look_like_formulas_are_made_inert() {
        for risky in ["=HYPERLINK(\"x\")", "+1", "-2+3", "@SUM(A1)", "\tcmd"] {
            assert!(inert(risky).starts_with('\''), "{risky}");
        }
        assert_eq!(inert("珠海芯源"), "珠海芯源");
        assert_eq!(csv_field("a,\"b\""), "\"a,\"\"b\"\"\"");
    }

    #[test]
    fn amounts_are_yuan_with_two_decimals() {
        assert_eq!(plain_yuan(123_456), "1234.56");
        assert_eq!(plain_yuan(5), "0.05");
        assert_eq!(plain_yuan(-100), "-1.00");
    }

    #[test]
    fn the_median_of_an_even_count_is_the_mean_of_the_middle_two() {
        assert_eq!(median(&mut []), None);
        assert_eq!(median(&mut [5, 1, 3]), Some(3.0));
        assert_eq!(median(&mut [4, 1, 3, 10]), Some(3.5));
    }
}
