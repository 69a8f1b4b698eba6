//! The follow-up ledger of a programme (辅导跟进台账): the companies that qualify today, whether each was told
//! and applied, with the funnel's counts; as JSON, or as a CSV or XLSX download.

use actix_web::{HttpResponse, get, web};
use chrono::{DateTime, FixedOffset, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::api::export::{CSV, Format, XLSX, csv_text, download, inert};
use crate::api::extract::Query;
use crate::api::session::SignedIn;
use crate::app::outreach::{self, Ledger, LedgerEntry, LedgerFilter, Rows};
use crate::config::PortalSettings;
use crate::db::Db;
use crate::domain::company::Industry;
use crate::domain::outreach::Funnel;
use crate::domain::time;
use crate::domain::workflow::Status;
use crate::error::ApiError;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct OutreachQuery {
    /// `true`: only companies with a live application to the programme; `false`: only those without.
    pub applied: Option<bool>,
    pub industry: Option<Industry>,
    pub park_zone: Option<String>,
    /// Part of the company's name or credit code, in any case.
    pub q: Option<String>,
    /// `csv` or `xlsx`: every matching row as a download, without paging.
    pub format: Option<Format>,
    #[param(minimum = 1)]
    pub page: Option<i64>,
    #[param(minimum = 1, maximum = 100)]
    pub per_page: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OutreachProgram {
    pub id: i64,
    pub code: String,
    pub title: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OutreachCompany {
    pub id: i64,
    pub name: String,
    pub credit_code: String,
}

/// A company that passes the programme's rules today.
#[derive(Debug, Serialize, ToSchema)]
pub struct OutreachEntry {
    pub company: OutreachCompany,
    pub industry: Industry,
    pub park_zone: String,
    /// Whether the company takes announcements of new programmes.
    pub notify_new_programs: bool,
    /// When the company was emailed about the programme; `null` if it was not (yet).
    pub notified_at: Option<DateTime<Utc>>,
    /// The company has a live application to the programme.
    pub applied: bool,
    pub application_id: Option<i64>,
    pub reference_no: Option<String>,
    pub status: Option<Status>,
}

impl From<LedgerEntry> for OutreachEntry {
    fn from(e: LedgerEntry) -> Self {
        let (application_id, reference_no, status) = match e.application {
            Some((id, reference_no, status)) => (Some(id), reference_no, Some(status)),
            None => (None, None, None),
        };
        Self {
            company: OutreachCompany { id: e.company_id, name: e.company_name, credit_code: e.credit_code },
            industry: e.industry,
            park_zone: e.park_zone,
            notify_new_programs: e.notify_new_programs,
            notified_at: e.notified_at.map(time::to_utc),
            applied: application_id.is_some(),
            application_id,
            reference_no,
            status,
        }
    }
}

/// A page of the ledger, and the counts of the companies the `industry`, `park_zone` and `q` filters
/// select (whatever `applied` asks): eligible, notified, applied.
#[derive(Debug, Serialize, ToSchema)]
pub struct OutreachLedger {
    pub program: OutreachProgram,
    pub items: Vec<OutreachEntry>,
    pub page: i64,
    pub per_page: i64,
    pub total: i64,
    #[serde(flatten)]
    pub counts: Funnel,
}

/// The follow-up ledger of a programme (辅导跟进台账): the verified companies whose profile passes its rules
/// today, whether each was emailed about it and whether it has applied; with the counts eligible, notified
/// and applied. As JSON, CSV (UTF-8 with BOM) or XLSX.
#[utoipa::path(tag = "programs", security(("bearer" = [])), params(("id" = i64, Path, description = "programme id"), OutreachQuery),
    responses(
        (status = 200, description = "the ledger: JSON, or with `format` a CSV or XLSX download", content(
            (OutreachLedger = "application/json"),
            (String = "text/csv"),
            (String = XLSX),
        )),
    ))]
#[get("/programs/{id}/outreach")]
pub async fn program_outreach(
    user: SignedIn,
    db: web::Data<Db>,
    portal: web::Data<PortalSettings>,
    id: web::Path<i64>,
    query: Query<OutreachQuery>,
) -> Result<HttpResponse, ApiError> {
    let OutreachQuery { applied, industry, park_zone, q, format, page, per_page } = query.into_inner();
    let format = format.unwrap_or_default();
    let rows = if format == Format::Json { Rows::Page { page, per_page } } else { Rows::All };
    let filter = LedgerFilter { applied, industry, park_zone, q };
    let today = time::today(portal.utc_offset);
    let ledger = outreach::ledger(&db, &user, id.into_inner(), filter, rows, today).await?;
    let name = format!("outreach-{}", ledger.program.id);
    let offset = portal.utc_offset;
    Ok(match format {
        Format::Json => HttpResponse::Ok().json(view(ledger)),
        Format::Csv => download(csv(&ledger, offset).into_bytes(), CSV, &format!("{name}.csv")),
        Format::Xlsx => {
            let bytes = web::block(move || xlsx(&ledger, offset)).await.map_err(|e| ApiError::Internal(e.into()))??;
            download(bytes, XLSX, &format!("{name}.xlsx"))
        }
    })
}

fn view(ledger: Ledger) -> OutreachLedger {
    let window = ledger.window.unwrap_or(crate::domain::validation::Window { page: 1, per_page: ledger.total });
    OutreachLedger {
        program: OutreachProgram { id: ledger.program.id, code: ledger.program.code, title: ledger.program.title },
        items: ledger.entries.into_iter().map(Into::into).collect(),
        page: window.page,
        per_page: window.per_page,
        total: ledger.total,
        counts: ledger.funnel,
    }
}

const HEADERS: [&str; 9] = [
    "企业名称",
    "统一社会信用代码",
    "所属行业",
    "所在园区",
    "接收政策推送",
    "推送时间",
    "是否申报",
    "申报编号",
    "申报状态",
];

/// One ledger row as the spreadsheet shows it, times in the park's offset.
fn cells(e: &LedgerEntry, offset: FixedOffset) -> [String; 9] {
    let yes_no = |b: bool| if b { "是" } else { "否" }.to_owned();
    let notified = e.notified_at.map(|at| time::to_utc(at).with_timezone(&offset).format("%Y-%m-%d %H:%M").to_string());
    let (reference_no, status) = e.application.as_ref().map_or((String::new(), String::new()), |(_, no, status)| {
        (no.clone().unwrap_or_default(), status.label().zh.into_owned())
    });
    [
        e.company_name.clone(),
        e.credit_code.clone(),
        e.industry.label().zh.into_owned(),
        e.park_zone.clone(),
        yes_no(e.notify_new_programs),
        notified.unwrap_or_default(),
        yes_no(e.application.is_some()),
        reference_no,
        status,
    ]
}

fn csv(ledger: &Ledger, offset: FixedOffset) -> String {
    let mut out = String::from("\u{feff}");
    out.push_str(&HEADERS.join(","));
    out.push_str("\r\n");
    for entry in &ledger.entries {
        let row: Vec<String> = cells(entry, offset).iter().map(|c| csv_text(c)).collect();
        out.push_str(&row.join(","));
        out.push_str("\r\n");
    }
    out
}

fn xlsx(ledger: &Ledger, offset: FixedOffset) -> Result<Vec<u8>, ApiError> {
    use rust_xlsxwriter::{Format as CellFormat, Workbook};
    let failed = |e: rust_xlsxwriter::XlsxError| ApiError::Internal(anyhow::anyhow!("writing the workbook: {e}"));
    let mut workbook = Workbook::new();
    let bold = CellFormat::new().set_bold();
    let sheet = workbook.add_worksheet_with_constant_memory().map_err(failed)?;
    sheet.set_name("辅导跟进台账").map_err(failed)?;
    for (column, title) in (0u16..).zip(HEADERS) {
        sheet.write_string_with_format(0, column, title, &bold).map_err(failed)?;
    }
    for (row, entry) in (1u32..).zip(&ledger.entries) {
        for (column, cell) in (0u16..).zip(cells(entry, offset)) {
            sheet.write_string(row, column, inert(&cell)).map_err(failed)?;
        }
    }
    let counts = workbook.add_worksheet_with_constant_memory().map_err(failed)?;
    counts.set_name("汇总").map_err(failed)?;
    let funnel = ledger.funnel;
    let lines = [("符合条件", funnel.eligible), ("已推送", funnel.notified), ("已申报", funnel.applied)];
    for (row, (label, count)) in (0u32..).zip(lines) {
        counts.write_string_with_format(row, 0, label, &bold).map_err(failed)?;
        #[expect(clippy::cast_precision_loss, reason = "counts of companies are far below 2^52")]
        counts.write_number(row, 1, count as f64).map_err(failed)?;
    }
    workbook.save_to_buffer().map_err(failed)
}
