//! The reports finance lives in: where the money went, what is late, and where each programme stands.

use actix_web::{HttpResponse, get, web};
use chrono::NaiveDate;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::api::export::{CSV, Format, XLSX, csv_text, download, inert};
use crate::api::extract::Query;
use crate::api::session::SignedIn;
use crate::app::reports::{self, DisbursementReport, ProgramSummary, TimelinessReport};
use crate::config::PortalSettings;
use crate::db::Db;
use crate::domain::report::GroupBy;
use crate::error::ApiError;

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
        (String = XLSX),
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
        Format::Csv => Ok(download(csv(&report).into_bytes(), CSV, "disbursements.csv")),
        Format::Xlsx => {
            let bytes = web::block(move || xlsx(&report)).await.map_err(|e| ApiError::Internal(e.into()))??;
            Ok(download(bytes, XLSX, "disbursements.xlsx"))
        }
    }
}

const HEADERS: [&str; 6] = ["编码", "名称", "项目数", "批准金额（元）", "已拨付（元）", "未拨付（元）"];

/// Fen as yuan with two decimals and no grouping, as spreadsheets read numbers.
fn plain_yuan(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    format!("{sign}{}.{:02}", fen.unsigned_abs() / 100, fen.unsigned_abs() % 100)
}

/// The disbursement report as CSV, UTF-8 with a BOM so spreadsheets read the Chinese.
pub fn csv(report: &DisbursementReport) -> String {
    let mut out = String::from("\u{feff}");
    out.push_str(&HEADERS.join(","));
    out.push_str("\r\n");
    for line in report.rows.iter().chain(std::iter::once(&report.totals)) {
        let cells = [
            csv_text(&line.key),
            csv_text(&line.label),
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
pub fn xlsx(report: &DisbursementReport) -> Result<Vec<u8>, ApiError> {
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
    fn amounts_are_yuan_with_two_decimals() {
        assert_eq!(plain_yuan(123_456), "1234.56");
        assert_eq!(plain_yuan(5), "0.05");
        assert_eq!(plain_yuan(-100), "-1.00");
    }
}
