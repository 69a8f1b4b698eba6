//! Payments and reversals of awards, and the ledger of both. Paying and reversing take an
//! `Idempotency-Key` header; a retry with the same key gets the first answer as it was sent.

use actix_web::http::StatusCode;
use actix_web::http::header::ContentType;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::api::extract::{Json, Query};
use crate::api::middleware::RequestContext;
use crate::api::pagination::Page;
use crate::api::session::SignedIn;
use crate::app::idempotency::{Answer, Key, Keyed, Replies, Stored};
use crate::app::payments::{self, DisbursementView, LedgerFilter, Reversal};
use crate::config::PortalSettings;
use crate::db::Db;
use crate::domain::error::Error as Refusal;
use crate::domain::money::Payment;
use crate::domain::time;
use crate::error::{ApiError, PROBLEM_JSON};
use crate::i18n::Lang;

/// Answers to keyed requests as this edge sends them: JSON, and problems in the caller's language.
#[derive(Clone)]
struct JsonReplies {
    lang: Lang,
    request_id: String,
}

impl JsonReplies {
    fn new(ctx: &RequestContext) -> Self {
        Self { lang: ctx.lang, request_id: ctx.id.clone() }
    }
}

impl Replies for JsonReplies {
    fn created<T: Serialize>(&self, value: &T) -> Stored {
        Stored { status: StatusCode::CREATED.as_u16(), body: serde_json::to_string(value).expect("views serialise") }
    }

    fn refused(&self, refusal: &Refusal) -> Stored {
        let error = ApiError::from(refusal.clone());
        let problem = error.problem(self.lang, &self.request_id);
        Stored { status: problem.status, body: serde_json::to_string(&problem).expect("problems serialise") }
    }
}

/// The request's key and what it asks, as the idempotency check compares them.
fn keyed(request: &HttpRequest, body: &impl Serialize) -> Keyed {
    let key = request.headers().get("idempotency-key").and_then(|v| v.to_str().ok()).and_then(Key::parse);
    Keyed::new(key, request.method().as_str(), request.path(), body)
}

/// A new entry as 201, or the key's stored answer as it was first sent.
fn render(answer: Answer<DisbursementView>) -> HttpResponse {
    match answer {
        Answer::New(view) => HttpResponse::Created().json(view),
        Answer::Replay(Stored { status, body }) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let content_type =
                if status.is_success() { ContentType::json().to_string() } else { PROBLEM_JSON.to_owned() };
            HttpResponse::build(status).content_type(content_type).body(body)
        }
    }
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PaymentRequest {
    pub amount_fen: i64,
    /// The day the bank paid it (the park's calendar).
    pub paid_on: NaiveDate,
    /// The accounting voucher; unique.
    pub voucher_no: String,
    pub note: Option<String>,
}

/// Records a payment of an approved award. The net paid never exceeds the approved amount, whatever the
/// concurrency; the programme's reserved money becomes disbursed; the company is told.
#[utoipa::path(tag = "money", security(("bearer" = [])), params(
        ("id" = i64, Path, description = "application id"),
        ("Idempotency-Key" = String, Header, description = "unique per payment; send the same key when retrying"),
    ), request_body = PaymentRequest, responses(
        (status = 201, description = "paid (or the first answer again, for a retried key)", body = DisbursementView),
        (status = 400, description = "`malformed_request`: no Idempotency-Key", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "`over_disbursement` (with `available_fen`), `voucher_taken`, `conflict` (not approved), `bank_account_unconfirmed` (the company's account is not confirmed by finance; the key is not spent, so the same request can be sent again once it is)", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`, `idempotency_key_reused`", body = crate::error::Problem, content_type = "application/problem+json"),
    ))]
#[post("/applications/{id}/disbursements")]
pub async fn pay(
    user: SignedIn,
    ctx: RequestContext,
    db: web::Data<Db>,
    portal: web::Data<PortalSettings>,
    request: HttpRequest,
    id: web::Path<i64>,
    body: Json<PaymentRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let keyed = keyed(&request, &body);
    let PaymentRequest { amount_fen, paid_on, voucher_no, note } = body;
    let payment = Payment { amount_fen, paid_on, voucher_no, note };
    let today = time::today(portal.utc_offset);
    let answer = payments::pay(&db, &user, keyed, JsonReplies::new(&ctx), id.into_inner(), payment, today).await?;
    Ok(render(answer))
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReversalRequest {
    /// Why: a bank return, a mistake.
    pub reason: String,
}

/// Reverses a payment with a new entry; the payment itself is never edited or deleted. The amount is
/// owed again, and a fully paid application goes back to approved.
#[utoipa::path(tag = "money", security(("bearer" = [])), params(
        ("id" = i64, Path, description = "payment id"),
        ("Idempotency-Key" = String, Header, description = "unique per reversal"),
    ), request_body = ReversalRequest, responses(
        (status = 201, description = "the reversal entry", body = DisbursementView),
        (status = 409, description = "`conflict`: not a payment, or reversed already", body = crate::error::Problem, content_type = "application/problem+json"),
    ))]
#[post("/disbursements/{id}/reversal")]
pub async fn reverse(
    user: SignedIn,
    ctx: RequestContext,
    db: web::Data<Db>,
    portal: web::Data<PortalSettings>,
    request: HttpRequest,
    id: web::Path<i64>,
    body: Json<ReversalRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let keyed = keyed(&request, &body);
    let today = time::today(portal.utc_offset);
    let reversal = Reversal { payment_id: id.into_inner(), application_id: None, reason: body.reason };
    let answer = payments::reverse(&db, &user, keyed, JsonReplies::new(&ctx), reversal, today).await?;
    Ok(render(answer))
}

/// The payments and reversals of one application.
#[utoipa::path(tag = "money", security(("bearer" = [])), params(("id" = i64, Path, description = "application id")),
    responses((status = 200, description = "oldest first", body = Vec<DisbursementView>)))]
#[get("/applications/{id}/disbursements")]
pub async fn list_for_application(
    user: SignedIn,
    db: web::Data<Db>,
    id: web::Path<i64>,
) -> Result<web::Json<Vec<DisbursementView>>, ApiError> {
    Ok(web::Json(payments::of_application(&db, &user, id.into_inner()).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct DisbursementQuery {
    pub program_id: Option<i64>,
    pub company_id: Option<i64>,
    pub paid_from: Option<NaiveDate>,
    pub paid_to: Option<NaiveDate>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
    /// The `next_cursor` of the page before: the page after it (`page` is then ignored).
    pub after: Option<String>,
}

/// Every payment and reversal, newest first (finance and admins), page by page or cursor by cursor.
#[utoipa::path(tag = "money", security(("bearer" = [])), params(DisbursementQuery),
    responses((status = 200, description = "a page of entries", body = Page<DisbursementView>)))]
#[get("/disbursements")]
pub async fn list_disbursements(
    user: SignedIn,
    db: web::Data<Db>,
    query: Query<DisbursementQuery>,
) -> Result<web::Json<Page<DisbursementView>>, ApiError> {
    let DisbursementQuery { program_id, company_id, paid_from, paid_to, page, per_page, after } = query.into_inner();
    let filter = LedgerFilter { program_id, company_id, paid_from, paid_to, page, per_page, after };
    let (items, window, total) = payments::ledger(&db, &user, filter).await?;
    Ok(web::Json(Page::of(items, window.page, window.per_page, total, |d| d.id, |d| d)))
}
