//! Finance's screens: the awards waiting for payment, paying and reversing (each form with its own
//! `Idempotency-Key`, so a double click or a resent form pays once), and the reports with their charts.

use actix_web::{HttpResponse, web};
use askama::Template;
use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::app::idempotency::{Answer, Key, Keyed, Replies, Stored};
use crate::app::payments::{self, Reversal};
use crate::app::reports::{self, DisbursementQuery, DisbursementReport, ReportLine, TimelinessReport};
use crate::config::PortalSettings;
use crate::console::applications::{Fields, back_to_application, refused_page};
use crate::console::dashboard::html;
use crate::console::failure::Failure;
use crate::console::session::{Posted, Staff};
use crate::console::view::Frame;
use crate::db::Db;
use crate::db::money::AwaitingPayment;
use crate::domain::error::{Error as Refusal, FieldError};
use crate::domain::money::{Payment, parse_yuan};
use crate::domain::report::GroupBy;
use crate::domain::time;
use crate::i18n::Text;

#[derive(Template)]
#[template(path = "console/payments.html")]
struct PaymentsPage {
    frame: Frame,
    awaiting: Vec<AwaitingPayment>,
    today: NaiveDate,
}

pub async fn awaiting_payment(
    staff: Staff,
    db: web::Data<Db>,
    portal: web::Data<PortalSettings>,
) -> Result<HttpResponse, Failure> {
    let awaiting = payments::awaiting(&db, &staff.caller, 200).await?;
    let frame = Frame::new(&staff, Text::new("待拨付", "Awaiting payment"), "/console/payments");
    Ok(html(PaymentsPage { frame, awaiting, today: time::today(portal.utc_offset) }.render()?))
}

/// How the console writes down the answers to keyed requests: a payment as it was recorded, a refusal
/// as the reasons shown to the staff member.
#[derive(Clone)]
struct PageReplies;

impl Replies for PageReplies {
    fn created<T: Serialize>(&self, value: &T) -> Stored {
        Stored { status: 201, body: serde_json::to_string(value).expect("views serialise") }
    }

    fn refused(&self, refusal: &Refusal) -> Stored {
        let status = crate::console::failure::refused_status(refusal).as_u16();
        let reasons: Vec<(String, String)> = crate::console::failure::explain(refusal)
            .into_iter()
            .map(|t| (t.zh.into_owned(), t.en.into_owned()))
            .collect();
        Stored { status, body: serde_json::to_string(&reasons).expect("reasons serialise") }
    }
}

/// What a keyed form asks, as the idempotency check compares a retry with the first request.
#[derive(Serialize)]
struct PaymentForm<'a> {
    amount_fen: i64,
    paid_on: NaiveDate,
    voucher_no: &'a str,
    note: Option<&'a str>,
}

fn key(fields: &Fields) -> Option<Key> {
    fields.get("idempotency_key").and_then(Key::parse)
}

/// The page after a keyed form: the application with what was done, or with why it was refused, the
/// first time or as the key's stored answer.
async fn after_keyed<T>(
    staff: &Staff,
    db: &Db,
    portal: &PortalSettings,
    id: i64,
    done: &str,
    answer: crate::app::Result<Answer<T>>,
) -> Result<HttpResponse, Failure> {
    match answer {
        Ok(Answer::Replay(Stored { status: 404, .. })) => Err(Failure::NotFound),
        Ok(Answer::Replay(Stored { status, body })) if status >= 300 => {
            let reasons: Vec<(String, String)> = serde_json::from_str(&body).unwrap_or_default();
            let errors =
                reasons.into_iter().map(|(zh, en)| FieldError::new("form", "refused", Text::owned(zh, en))).collect();
            refused_page(staff, db, portal, id, &Refusal::invalid(errors)).await
        }
        outcome => back_to_application(outcome, staff, db, portal, id, done).await,
    }
}

/// Records a payment through the same use case as `POST /api/v1/applications/{id}/disbursements`.
pub async fn pay(
    posted: Posted<Vec<(String, String)>>,
    db: web::Data<Db>,
    portal: web::Data<PortalSettings>,
    id: web::Path<i64>,
) -> Result<HttpResponse, Failure> {
    let (staff, fields, id) = (posted.staff, Fields::new(posted.form), id.into_inner());
    let mut errors = Vec::new();
    let amount = fields.get("amount").map(|a| (a, parse_yuan(a)));
    let amount_fen = match amount {
        Some((_, Some(fen))) => fen,
        Some((raw, None)) => {
            errors.push(FieldError::new(
                "amount",
                "invalid",
                Text::owned(
                    format!("金额“{raw}”无法识别，请填写如 12345.67。"),
                    format!("“{raw}” is not an amount; write e.g. 12345.67."),
                ),
            ));
            0
        }
        None => {
            errors.push(FieldError::new("amount", "required", Text::new("请填写金额。", "Enter the amount.")));
            0
        }
    };
    let paid_on = fields.get("paid_on").and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok());
    if paid_on.is_none() {
        errors.push(FieldError::new("paid_on", "invalid", Text::new("请填写拨付日期。", "Enter the day it was paid.")));
    }
    if let Err(refusal) = Refusal::unless_any(errors) {
        return refused_page(&staff, &db, &portal, id, &refusal).await;
    }
    let paid_on = paid_on.unwrap_or_default();
    let voucher_no = fields.get("voucher_no").unwrap_or_default();
    let note = fields.get("note");
    let form = PaymentForm { amount_fen, paid_on, voucher_no, note };
    let keyed = Keyed::new(key(&fields), "POST", &format!("/console/applications/{id}/payments"), &form);
    let payment = Payment { amount_fen, paid_on, voucher_no: voucher_no.to_owned(), note: note.map(ToOwned::to_owned) };
    let today = time::today(portal.utc_offset);
    let answer = payments::pay(&db, &staff.caller, keyed, PageReplies, id, payment, today).await;
    after_keyed(&staff, &db, &portal, id, "paid", answer).await
}

/// Reverses a payment, with the reason, through the same use case as the API.
pub async fn reverse(
    posted: Posted<Vec<(String, String)>>,
    db: web::Data<Db>,
    portal: web::Data<PortalSettings>,
    path: web::Path<(i64, i64)>,
) -> Result<HttpResponse, Failure> {
    let (staff, fields) = (posted.staff, Fields::new(posted.form));
    let (id, disbursement_id) = path.into_inner();
    let reason = fields.get("reason").unwrap_or_default().to_owned();
    let target = format!("/console/applications/{id}/payments/{disbursement_id}/reversal");
    let keyed = Keyed::new(key(&fields), "POST", &target, &reason);
    let today = time::today(portal.utc_offset);
    let reversal = Reversal { payment_id: disbursement_id, application_id: Some(id), reason };
    let answer = payments::reverse(&db, &staff.caller, keyed, PageReplies, reversal, today).await;
    after_keyed(&staff, &db, &portal, id, "reversed", answer).await
}

/// One bar of a chart: its label, its length in the chart's units and the amount written beside it.
pub struct Bar {
    pub label: String,
    pub y: i64,
    pub width: i64,
    pub amount: String,
}

/// A horizontal bar chart drawn on the server, as SVG.
pub struct Chart {
    pub title: Text,
    pub bars: Vec<Bar>,
    pub height: i64,
}

const CHART_WIDTH: i64 = 400;

impl Chart {
    fn of(title: Text, lines: &[ReportLine], frame: &Frame) -> Self {
        let largest = lines.iter().map(|l| l.disbursed_fen).max().unwrap_or(0).max(1);
        let bars = lines
            .iter()
            .enumerate()
            .map(|(i, line)| Bar {
                label: line.key.clone(),
                y: i64::try_from(i).unwrap_or(0) * 28,
                width: i64::try_from(
                    i128::from(line.disbursed_fen.max(0)) * i128::from(CHART_WIDTH) / i128::from(largest),
                )
                .unwrap_or(0),
                amount: frame.money(&line.disbursed_fen),
            })
            .collect::<Vec<_>>();
        let height = i64::try_from(bars.len()).unwrap_or(0) * 28 + 4;
        Self { title, bars, height }
    }
}

#[derive(Template)]
#[template(path = "console/reports.html")]
struct ReportsPage {
    frame: Frame,
    from: NaiveDate,
    to: NaiveDate,
    by_program: DisbursementReport,
    charts: Vec<Chart>,
    timeliness: TimelinessReport,
}

#[derive(Debug, Deserialize)]
pub struct Period {
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
}

impl Period {
    /// The period asked for; this year so far when none was.
    fn days(&self, today: NaiveDate) -> (NaiveDate, NaiveDate) {
        let start_of_year = NaiveDate::from_ymd_opt(today.year(), 1, 1).unwrap_or(today);
        (self.from.unwrap_or(start_of_year), self.to.unwrap_or(today))
    }
}

/// What was paid, per programme and per month, with charts; what is late; downloads of the same.
pub async fn reports(
    staff: Staff,
    db: web::Data<Db>,
    portal: web::Data<PortalSettings>,
    period: web::Query<Period>,
) -> Result<HttpResponse, Failure> {
    let (from, to) = period.days(time::today(portal.utc_offset));
    let query = |group_by| DisbursementQuery { group_by, program_id: None, paid_from: Some(from), paid_to: Some(to) };
    let by_program = reports::disbursements(&db, &staff.caller, query(GroupBy::Program), portal.utc_offset).await?;
    let by_month = reports::disbursements(&db, &staff.caller, query(GroupBy::Month), portal.utc_offset).await?;
    let timeliness = reports::timeliness(&db, &staff.caller, from, to, portal.utc_offset).await?;
    let frame = Frame::new(&staff, Text::new("报表", "Reports"), "/console/reports");
    let charts = vec![
        Chart::of(Text::new("各项目已拨付", "Paid per programme"), &by_program.rows, &frame),
        Chart::of(Text::new("各月已拨付（按批准月份）", "Paid per month of approval"), &by_month.rows, &frame),
    ];
    Ok(html(ReportsPage { frame, from, to, by_program, charts, timeliness }.render()?))
}

/// The per-programme report as a CSV or XLSX download.
pub async fn report_download(
    staff: Staff,
    db: web::Data<Db>,
    portal: web::Data<PortalSettings>,
    format: web::Path<String>,
    period: web::Query<Period>,
) -> Result<HttpResponse, Failure> {
    use crate::api::export::{CSV, XLSX, download};
    let (from, to) = period.days(time::today(portal.utc_offset));
    let query =
        DisbursementQuery { group_by: GroupBy::Program, program_id: None, paid_from: Some(from), paid_to: Some(to) };
    let report = reports::disbursements(&db, &staff.caller, query, portal.utc_offset).await?;
    match format.as_str() {
        "csv" => Ok(download(crate::api::reports::csv(&report).into_bytes(), CSV, "disbursements.csv")),
        "xlsx" => {
            let bytes = web::block(move || crate::api::reports::xlsx(&report))
                .await
                .map_err(|e| Failure::Internal(e.into()))?
                .map_err(|e| Failure::Internal(anyhow::anyhow!("{e}")))?;
            Ok(download(bytes, XLSX, "disbursements.xlsx"))
        }
        _ => Err(Failure::NotFound),
    }
}
