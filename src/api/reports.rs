//! The reports finance lives in: where the money went, what is late, and where each programme stands.

use actix_web::http::header::{self, ContentDisposition, DispositionParam, DispositionType};
use actix_web::{HttpResponse, get, web};
use chrono::NaiveDate;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::api::extract::Query;
use crate::api::session::SignedIn;
use crate::app::reports::{self, DisbursementReport, ProgramSummary, TimelinessReport};
use crate::config::PortalSettings;
use crate::db::Db;
use crate::domain::report::GroupBy;
use crate::error::ApiError;

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
    let DisbursementReportQuery { group_by, program_id, paid_from, paid_to, format } = query.into_inner();
    let query = reports::DisbursementQuery { group_by, program_id, paid_from, paid_to };
    let report = reports::disbursements(&db, &user, query, portal.utc_offset).await?;
    match format.unwrap_or_default() {
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
    let TimelinessQuery { approved_from, approved_to } = query.into_inner();
    Ok(web::Json(reports::timeliness(&db, &user, approved_from, approved_to, portal.utc_offset).await?))
}

// ---------------------------------------------------------------------------------------------------
// Summary

/// Every programme: applications by status and where its budget stands.
#[utoipa::path(tag = "reports", security(("bearer" = [])), responses((status = 200, description = "one line per programme", body = Vec<ProgramSummary>)))]
#[get("/reports/summary")]
pub async fn summary_report(user: SignedIn, db: web::Data<Db>) -> Result<web::Json<Vec<ProgramSummary>>, ApiError> {
    Ok(web::Json(reports::summary(&db, &user).await?))
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
}
