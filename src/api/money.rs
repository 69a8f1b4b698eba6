//! Paying awards out: payment plans, payments and reversals. Every payment carries the finance user's
//! `Idempotency-Key`, so a retried request returns the first answer and never pays twice.

use actix_web::http::StatusCode;
use actix_web::http::header::ContentType;
use actix_web::{HttpRequest, HttpResponse, ResponseError, get, post, put, web};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};
use utoipa::{IntoParams, ToSchema};

use crate::api::extract::{Json, Query};
use crate::api::middleware::RequestContext;
use crate::api::pagination::{Page, PageQuery};
use crate::api::session::SignedIn;
use crate::app::applications::{find_visible, status_of};
use crate::config::PortalSettings;
use crate::db::audit::{self, Event};
use crate::db::money::{self, Claim, DisbursementRow, NewDisbursement};
use crate::db::{Db, DbConnection, applications, outbox, users};
use crate::domain::error::Error as Refusal;
use crate::domain::money::{MAX_FEN, yuan};
use crate::domain::role::Role;
use crate::domain::time;
use crate::domain::workflow::Status;
use crate::email::templates;
use crate::error::{ApiError, FieldError, PROBLEM_JSON};
use crate::i18n::Text;

const FINANCE: [Role; 1] = [Role::Finance];

#[derive(Debug, Serialize, ToSchema)]
pub struct DisbursementView {
    pub id: i64,
    pub application_id: i64,
    /// Always positive; a reversal takes this amount back.
    pub amount_fen: i64,
    pub paid_on: NaiveDate,
    pub voucher_no: Option<String>,
    pub note: Option<String>,
    /// `payment` or `reversal`.
    pub kind: String,
    pub reverses_id: Option<i64>,
    pub recorded_by: i64,
    pub created_at: DateTime<Utc>,
}

impl From<DisbursementRow> for DisbursementView {
    fn from(row: DisbursementRow) -> Self {
        Self {
            id: row.id,
            application_id: row.application_id,
            amount_fen: row.amount_fen,
            paid_on: row.paid_on,
            voucher_no: row.voucher_no,
            note: row.note,
            kind: row.kind,
            reverses_id: row.reverses_id,
            recorded_by: row.recorded_by,
            created_at: time::to_utc(row.created_at),
        }
    }
}

// ---------------------------------------------------------------------------------------------------
// Idempotency

fn idempotency_key(request: &HttpRequest) -> Result<String, ApiError> {
    let key = request.headers().get("idempotency-key").and_then(|v| v.to_str().ok()).map(str::trim).unwrap_or_default();
    if key.is_empty() || key.len() > 255 {
        return Err(ApiError::Malformed(Text::new(
            "请在 Idempotency-Key 请求头中提供本次付款的唯一标识（1–255 个字符），重试时使用同一标识。",
            "Send an Idempotency-Key header (1 to 255 characters) unique to this payment, and the same one on every retry.",
        )));
    }
    Ok(key.to_owned())
}

fn fingerprint(request: &HttpRequest, body: &impl Serialize) -> String {
    let mut hasher = Sha256::new();
    hasher.update(request.method().as_str());
    hasher.update(request.path());
    hasher.update(serde_json::to_vec(body).expect("requests serialise"));
    hex::encode(hasher.finalize())
}

fn stored_response(status: u16, body: String) -> HttpResponse {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let content_type = if status.is_success() { ContentType::json().to_string() } else { PROBLEM_JSON.to_owned() };
    HttpResponse::build(status).content_type(content_type).body(body)
}

/// Runs `work` at most once per Idempotency-Key. `work` stores its own answer with
/// [`money::complete`] in its transaction; a refusal (4xx) is stored here, an outage frees the key.
async fn idempotent<F, Fut>(
    db: &Db,
    ctx: &RequestContext,
    user_id: i64,
    key: String,
    fingerprint: String,
    work: F,
) -> Result<HttpResponse, ApiError>
where
    F: FnOnce(String) -> Fut,
    Fut: std::future::Future<Output = Result<(StatusCode, String), ApiError>>,
{
    let claim_key = key.clone();
    let claim =
        db.write(move |conn| money::claim(conn, user_id, &claim_key, &fingerprint, time::now())).await.or_else(
            |e| if matches!(e, crate::db::Error::UniqueViolation { .. }) { Ok(Claim::InProgress) } else { Err(e) },
        )?;
    match claim {
        Claim::Replay { status, body } => return Ok(stored_response(status, body)),
        Claim::Mismatch => {
            return Err(ApiError::Validation {
                code: "idempotency_key_reused",
                detail: Text::new(
                    "该 Idempotency-Key 已用于另一笔不同的请求；新的付款请使用新的标识。",
                    "This Idempotency-Key was used for a different request; use a new key for a new payment.",
                ),
                errors: vec![FieldError::new(
                    "Idempotency-Key",
                    "reused",
                    Text::new("标识已被使用。", "Already used."),
                )],
            });
        }
        Claim::InProgress => {
            return Err(ApiError::conflict(
                "conflict",
                Text::new(
                    "使用该 Idempotency-Key 的请求正在处理中，请稍后查询结果。",
                    "A request with this Idempotency-Key is still being processed; check again shortly.",
                ),
            ));
        }
        Claim::Fresh => {}
    }
    match work(key.clone()).await {
        Ok((status, body)) => Ok(stored_response(status.as_u16(), body)),
        Err(error) if error.status_code().as_u16() < 500 => {
            let body = serde_json::to_string(&error.problem(ctx.lang, &ctx.id)).expect("problems serialise");
            let status = error.status_code().as_u16();
            db.write(move |conn| money::complete(conn, user_id, &key, status, &body, time::now())).await?;
            Err(error)
        }
        Err(error) => {
            if let Err(release) = db.write(move |conn| money::release(conn, user_id, &key)).await {
                tracing::warn!(%release, "an Idempotency-Key could not be freed after a failure");
            }
            Err(error)
        }
    }
}

/// The 201 answer for a new entry, stored as its key's answer in the entry's own transaction.
fn created(
    conn: &mut DbConnection,
    user_id: i64,
    key: &str,
    row: DisbursementRow,
) -> Result<(StatusCode, String), ApiError> {
    let body = serde_json::to_string(&DisbursementView::from(row)).expect("views serialise");
    money::complete(conn, user_id, key, StatusCode::CREATED.as_u16(), &body, time::now())?;
    Ok((StatusCode::CREATED, body))
}

// ---------------------------------------------------------------------------------------------------
// Payments

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

fn check_payment(request: &PaymentRequest, today: NaiveDate) -> Result<(), ApiError> {
    let mut errors = Vec::new();
    if !(1..=MAX_FEN).contains(&request.amount_fen) {
        errors.push(FieldError::new(
            "amount_fen",
            "out_of_range",
            Text::new(
                "付款金额须大于 0 且不超过 10 万亿元（单位：分）。",
                "The amount must be above 0 and at most 10 trillion yuan (in fen).",
            ),
        ));
    }
    if request.paid_on > today {
        errors.push(FieldError::new(
            "paid_on",
            "in_future",
            Text::new("付款日期不能晚于今天。", "The payment date cannot be after today."),
        ));
    }
    let voucher = request.voucher_no.trim();
    if voucher.is_empty() || voucher.chars().count() > 50 {
        errors.push(FieldError::new(
            "voucher_no",
            "length",
            Text::new("凭证号须为 1–50 个字符。", "The voucher number has 1 to 50 characters."),
        ));
    }
    if request.note.as_ref().is_some_and(|n| n.chars().count() > 500) {
        errors.push(FieldError::new("note", "too_long", Text::new("备注最多 500 个字符。", "At most 500 characters.")));
    }
    Ok(Refusal::unless_any(errors)?)
}

/// Records a payment of an approved award. The net paid never exceeds the approved amount, whatever the
/// concurrency; the programme's reserved money becomes disbursed; the company is told.
#[utoipa::path(tag = "money", security(("bearer" = [])), params(
        ("id" = i64, Path, description = "application id"),
        ("Idempotency-Key" = String, Header, description = "unique per payment; send the same key when retrying"),
    ), request_body = PaymentRequest, responses(
        (status = 201, description = "paid (or the first answer again, for a retried key)", body = DisbursementView),
        (status = 400, description = "`malformed_request`: no Idempotency-Key", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "`over_disbursement` (with `available_fen`), `voucher_taken`, `conflict` (not approved, or the key's first request still running)", body = crate::error::Problem, content_type = "application/problem+json"),
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
    user.require(&FINANCE)?;
    let key = idempotency_key(&request)?;
    let (id, payment) = (id.into_inner(), body.into_inner());
    check_payment(&payment, time::today(portal.utc_offset))?;
    let fingerprint = fingerprint(&request, &payment);
    let actor = user.actor();
    let store = db.clone();
    idempotent(&db, &ctx, user.user_id, key, fingerprint, move |key| async move {
        store
            .write(move |conn| {
                let row = record_payment(conn, &user, id, &payment)?;
                let summary = json!({ "disbursement_id": row.id, "amount_fen": row.amount_fen, "voucher_no": row.voucher_no, "idempotency_key": key });
                audit::append(conn, &actor, Event::new("disbursement.payment", "application", id, summary))?;
                created(conn, user.user_id, &key, row)
            })
            .await
    })
    .await
}

fn record_payment(
    conn: &mut DbConnection,
    user: &SignedIn,
    id: i64,
    payment: &PaymentRequest,
) -> Result<DisbursementRow, ApiError> {
    let record = applications::find(conn, id)?;
    let a = &record.application;
    match status_of(&record)? {
        Status::Approved => {}
        Status::Disbursed => {
            return Err(ApiError::AmountUnavailable {
                code: "over_disbursement",
                detail: Text::new("该项目资金已全部拨付。", "This award has been paid in full."),
                available_fen: 0,
            });
        }
        _ => {
            return Err(ApiError::conflict(
                "conflict",
                Text::new("只有已批准的申报才能拨付。", "Only approved applications can be paid."),
            ));
        }
    }
    let voucher = payment.voucher_no.trim();
    if money::voucher_taken(conn, voucher)? {
        return Err(ApiError::conflict(
            "voucher_taken",
            Text::owned(format!("凭证号 {voucher} 已被使用。"), format!("Voucher {voucher} is already recorded.")),
        ));
    }
    let now = time::now();
    if !money::add_payment(conn, id, payment.amount_fen, now)? {
        let fresh = applications::find(conn, id)?.application;
        let available_fen = fresh.approved_amount_fen.unwrap_or(0) - fresh.disbursed_fen;
        return Err(ApiError::AmountUnavailable {
            code: "over_disbursement",
            detail: Text::owned(
                format!("付款金额超出尚未拨付的金额：尚可拨付 {} 元。", yuan(available_fen)),
                format!("The payment exceeds what is still payable: {} yuan.", yuan(available_fen)),
            ),
            available_fen,
        });
    }
    money::move_reserved_to_disbursed(conn, a.program_id, payment.amount_fen)?;
    let row = money::insert(
        conn,
        &NewDisbursement {
            application_id: id,
            kind: "payment",
            amount_fen: payment.amount_fen,
            paid_on: payment.paid_on,
            voucher_no: Some(voucher),
            note: payment.note.as_deref().map(str::trim).filter(|n| !n.is_empty()),
            reverses_id: None,
            recorded_by: user.user_id,
        },
        now,
    )?;
    money::settle_if_paid(conn, id)?;
    let reference_no = a.reference_no.clone().unwrap_or_default();
    for applicant in users::of_company(conn, a.company_id)? {
        let email = templates::payment_made(&applicant.email, &reference_no, &yuan(row.amount_fen), row.paid_on);
        outbox::enqueue(conn, &email, now)?;
    }
    Ok(row)
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
    user.require(&FINANCE)?;
    let key = idempotency_key(&request)?;
    let (id, reversal) = (id.into_inner(), body.into_inner());
    if reversal.reason.trim().is_empty() {
        return Err(ApiError::field(
            "reason",
            "required",
            Text::new("请说明冲正原因。", "Say why the payment is reversed."),
        ));
    }
    let fingerprint = fingerprint(&request, &reversal);
    let (actor, today) = (user.actor(), time::today(portal.utc_offset));
    let store = db.clone();
    idempotent(&db, &ctx, user.user_id, key, fingerprint, move |key| async move {
        store
            .write(move |conn| {
                let original = money::find(conn, id)?;
                if original.kind != "payment" || money::is_reversed(conn, id)? {
                    return Err(ApiError::conflict("conflict", Text::new("只能冲正尚未冲正的付款。", "Only a payment not yet reversed can be reversed.")));
                }
                let record = applications::find(conn, original.application_id)?;
                let now = time::now();
                money::take_back(conn, original.application_id, original.amount_fen, now)?;
                money::move_reserved_to_disbursed(conn, record.application.program_id, -original.amount_fen)?;
                let row = money::insert(
                    conn,
                    &NewDisbursement {
                        application_id: original.application_id,
                        kind: "reversal",
                        amount_fen: original.amount_fen,
                        paid_on: today,
                        voucher_no: None,
                        note: Some(reversal.reason.trim()),
                        reverses_id: Some(original.id),
                        recorded_by: user.user_id,
                    },
                    now,
                )?;
                let summary = json!({ "disbursement_id": row.id, "reverses_id": original.id, "amount_fen": row.amount_fen, "reason": reversal.reason.trim() });
                audit::append(conn, &actor, Event::new("disbursement.reversal", "application", original.application_id, summary))?;
                created(conn, user.user_id, &key, row)
            })
            .await
    })
    .await
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
    let id = id.into_inner();
    let rows = db
        .read(move |conn| {
            find_visible(conn, &user, id)?;
            Ok::<_, ApiError>(money::of_application(conn, id)?)
        })
        .await?;
    Ok(web::Json(rows.into_iter().map(Into::into).collect()))
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
}

/// Every payment and reversal, newest first (finance and admins).
#[utoipa::path(tag = "money", security(("bearer" = [])), params(DisbursementQuery),
    responses((status = 200, description = "a page of entries", body = Page<DisbursementView>)))]
#[get("/disbursements")]
pub async fn list_disbursements(
    user: SignedIn,
    db: web::Data<Db>,
    query: Query<DisbursementQuery>,
) -> Result<web::Json<Page<DisbursementView>>, ApiError> {
    user.require(&[Role::Finance, Role::Admin])?;
    let query = query.into_inner();
    let (page, per_page, offset) = PageQuery { page: query.page, per_page: query.per_page }.resolve()?;
    let filter = money::Filter {
        program_id: query.program_id,
        company_id: query.company_id,
        paid_from: query.paid_from,
        paid_to: query.paid_to,
    };
    let (rows, total) = db.read(move |conn| money::list(conn, &filter, offset, per_page)).await?;
    Ok(web::Json(Page { items: rows.into_iter().map(Into::into).collect(), page, per_page, total }))
}

// ---------------------------------------------------------------------------------------------------
// Payment plans

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Instalment {
    pub due_on: NaiveDate,
    pub amount_fen: i64,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanRequest {
    /// Summing to the approved amount.
    pub instalments: Vec<Instalment>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PlanView {
    pub instalments: Vec<Instalment>,
    /// False when no plan was set: then the whole amount is due on `payment_due_on`.
    pub planned: bool,
}

fn plan_view(conn: &mut DbConnection, id: i64) -> Result<PlanView, ApiError> {
    let rows = money::plan(conn, id)?;
    if !rows.is_empty() {
        let instalments = rows.into_iter().map(|r| Instalment { due_on: r.due_on, amount_fen: r.amount_fen }).collect();
        return Ok(PlanView { instalments, planned: true });
    }
    let a = applications::find(conn, id)?.application;
    let instalments = a
        .payment_due_on
        .zip(a.approved_amount_fen)
        .map(|(due_on, amount_fen)| Instalment { due_on, amount_fen })
        .into_iter()
        .collect();
    Ok(PlanView { instalments, planned: false })
}

/// Plans an approved award's payment in instalments.
#[utoipa::path(tag = "money", security(("bearer" = [])), params(("id" = i64, Path, description = "application id")),
    request_body = PlanRequest, responses(
        (status = 200, description = "the plan", body = PlanView),
        (status = 409, description = "`conflict`: not approved", body = crate::error::Problem, content_type = "application/problem+json"),
    ))]
#[put("/applications/{id}/payment-plan")]
pub async fn put_plan(
    user: SignedIn,
    db: web::Data<Db>,
    id: web::Path<i64>,
    body: Json<PlanRequest>,
) -> Result<web::Json<PlanView>, ApiError> {
    user.require(&FINANCE)?;
    let (id, plan) = (id.into_inner(), body.into_inner());
    let mut errors = Vec::new();
    if plan.instalments.is_empty() || plan.instalments.len() > 60 {
        errors.push(FieldError::new(
            "instalments",
            "length",
            Text::new("须有 1–60 期。", "Between 1 and 60 instalments."),
        ));
    }
    for (index, instalment) in plan.instalments.iter().enumerate() {
        if instalment.amount_fen <= 0 {
            errors.push(FieldError::new(
                format!("instalments[{index}].amount_fen"),
                "not_positive",
                Text::new("每期金额须大于 0。", "Each instalment is above 0."),
            ));
        }
    }
    Refusal::unless_any(errors)?;
    let actor = user.actor();
    let view = db
        .write(move |conn| {
            let record = applications::find(conn, id)?;
            if status_of(&record)? != Status::Approved {
                return Err(ApiError::conflict(
                    "conflict",
                    Text::new(
                        "只能为已批准、尚未付清的申报制定付款计划。",
                        "Only an approved award not yet paid in full can be planned.",
                    ),
                ));
            }
            let approved = record.application.approved_amount_fen.unwrap_or(0);
            let total: i64 = plan.instalments.iter().map(|i| i.amount_fen).sum();
            if total != approved {
                return Err(ApiError::field(
                    "instalments",
                    "sum_mismatch",
                    Text::owned(
                        format!("各期合计 {} 元，须等于批准金额 {} 元。", yuan(total), yuan(approved)),
                        format!(
                            "The instalments add up to {} yuan; they must add up to the approved {} yuan.",
                            yuan(total),
                            yuan(approved)
                        ),
                    ),
                ));
            }
            let pairs: Vec<(NaiveDate, i64)> = plan.instalments.iter().map(|i| (i.due_on, i.amount_fen)).collect();
            money::replace_plan(conn, id, &pairs, time::now())?;
            audit::append(
                conn,
                &actor,
                Event::new("payment_plan.update", "application", id, json!({ "instalments": pairs.len() })),
            )?;
            plan_view(conn, id)
        })
        .await?;
    Ok(web::Json(view))
}

/// An approved award's payment plan.
#[utoipa::path(tag = "money", security(("bearer" = [])), params(("id" = i64, Path, description = "application id")),
    responses((status = 200, description = "the plan", body = PlanView)))]
#[get("/applications/{id}/payment-plan")]
pub async fn get_plan(user: SignedIn, db: web::Data<Db>, id: web::Path<i64>) -> Result<web::Json<PlanView>, ApiError> {
    let id = id.into_inner();
    Ok(web::Json(
        db.read(move |conn| {
            find_visible(conn, &user, id)?;
            plan_view(conn, id)
        })
        .await?,
    ))
}
