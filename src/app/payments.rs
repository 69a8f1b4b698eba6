//! Paying awards out: payments, reversals and the ledger of both. Paying and reversing carry the finance
//! user's Idempotency-Key, so a retried request gets the first answer and never pays twice.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;

use crate::app::applications::{find_submitted, status_of};
use crate::app::idempotency::{self, Answer, Keyed, Replies};
use crate::app::notify;
use crate::app::reviews::find_with_content;
use crate::app::{Result, SignedIn};
use crate::crypto::Keyring;
use crate::db::audit::{self, Event};
use crate::db::companies::{self, BankAccountRow};
use crate::db::money::{self, DisbursementRow, NewDisbursement};
use crate::db::{Db, DbConnection, applications};
use crate::domain::company::{account_no_sha256, mask_account_no};
use crate::domain::error::Error as Refusal;
use crate::domain::money::{Payment, reversal_reason, yuan};
use crate::domain::role::Role;
use crate::domain::time;
use crate::domain::validation::Window;
use crate::domain::workflow::{self, Action, Status};
use crate::email::templates;
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
    /// The account paid into (a reversal: the account it came back from), masked as `****7890`; `null`
    /// for entries recorded before accounts were kept with payments.
    #[schema(example = "****7890")]
    pub paid_to: Option<String>,
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
            paid_to: row.paid_to,
        }
    }
}

/// Records a payment of an approved award (finance only) into the company's confirmed bank account. The net
/// paid never exceeds the approved amount, whatever the concurrency; the programme's reserved money becomes
/// disbursed; the company is told. An account not confirmed is refused without spending the key, so the
/// same request goes through once finance has confirmed it.
pub async fn pay(
    db: &Db,
    caller: &SignedIn,
    keyed: Keyed,
    replies: impl Replies,
    application_id: i64,
    payment: Payment,
    today: NaiveDate,
) -> Result<Answer<DisbursementView>> {
    caller.require(&FINANCE)?;
    let request = keyed.check()?;
    payment.check(today)?;
    let (caller, actor) = (caller.clone(), caller.actor());
    let keys = db.keys();
    let check = move |conn: &mut DbConnection| payable_account(conn, &keys, application_id);
    idempotency::run_checked(db, caller.user_id, request, replies, check, move |conn, key, account| {
        let row = record_payment(conn, &caller, application_id, &payment, &account)?;
        let summary = json!({ "disbursement_id": row.id, "amount_fen": row.amount_fen, "voucher_no": row.voucher_no, "paid_to": row.paid_to, "idempotency_key": key.as_str() });
        audit::append(conn, &actor, Event::new("disbursement.payment", "application", application_id, summary))?;
        Ok(row.into())
    })
    .await
}

/// The account a payment of the application goes to: its company's, as finance confirmed it. The company's
/// row is locked first, so the account cannot change before the payment commits.
fn payable_account(conn: &mut DbConnection, keys: &Keyring, application_id: i64) -> Result<BankAccountRow> {
    let company_id = find_submitted(conn, application_id)?.application.company_id;
    applications::lock_company(conn, company_id)?;
    let account = companies::confirmed_bank_account(conn, keys, company_id)?;
    account.ok_or_else(|| {
        Refusal::conflict(
            "bank_account_unconfirmed",
            Text::new(
                "企业的收款银行账户尚未经财务核实（或已变更），核实后才能拨付。",
                "The company's bank account is not confirmed by finance (or changed since); confirm it before paying.",
            ),
        )
        .into()
    })
}

fn record_payment(
    conn: &mut DbConnection,
    caller: &SignedIn,
    id: i64,
    payment: &Payment,
    account: &BankAccountRow,
) -> Result<DisbursementRow> {
    let record = find_submitted(conn, id)?;
    let a = &record.application;
    match status_of(&record)? {
        Status::Approved => {}
        Status::Disbursed => {
            return Err(Refusal::AmountUnavailable {
                code: "over_disbursement",
                detail: Text::new("该项目资金已全部拨付。", "This award has been paid in full."),
                available_fen: 0,
            }
            .into());
        }
        _ => {
            return Err(Refusal::conflict(
                "conflict",
                Text::new("只有已批准的申报才能拨付。", "Only approved applications can be paid."),
            )
            .into());
        }
    }
    let voucher = payment.voucher();
    if money::voucher_taken(conn, voucher)? {
        return Err(Refusal::conflict(
            "voucher_taken",
            Text::owned(format!("凭证号 {voucher} 已被使用。"), format!("Voucher {voucher} is already recorded.")),
        )
        .into());
    }
    let now = time::now();
    let (paid_to, paid_to_sha256) = (mask_account_no(&account.account_no), account_no_sha256(&account.account_no));
    if !money::add_payment(conn, id, payment.amount_fen, now)? {
        let fresh = applications::find(conn, id)?.application;
        let available_fen = fresh.approved_amount_fen.unwrap_or(0) - fresh.disbursed_fen;
        return Err(Refusal::AmountUnavailable {
            code: "over_disbursement",
            detail: Text::owned(
                format!("付款金额超出尚未拨付的金额：尚可拨付 {} 元。", yuan(available_fen)),
                format!("The payment exceeds what is still payable: {} yuan.", yuan(available_fen)),
            ),
            available_fen,
        }
        .into());
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
            note: payment.note(),
            reverses_id: None,
            recorded_by: caller.user_id,
            paid_to: Some(&paid_to),
            paid_to_sha256: Some(&paid_to_sha256),
        },
        now,
    )?;
    let (approved, settled) = system_step(Status::Approved, Action::Settle)?;
    money::settle_if_paid(conn, id, approved, settled)?;
    let reference_no = a.reference_no.clone().unwrap_or_default();
    let amount = yuan(row.amount_fen);
    notify::company(conn, a.company_id, |to| templates::payment_made(to, &reference_no, &amount, row.paid_on), now)?;
    Ok(row)
}

/// The workflow's step `action` from `from`: `(from, to)`.
fn system_step(from: Status, action: Action) -> Result<(Status, Status)> {
    let to = workflow::system_next(from, action)
        .ok_or_else(|| anyhow::anyhow!("the workflow has no {} step from {}", action.as_str(), from.as_str()))?;
    Ok((from, to))
}

/// A payment to reverse and why; `application_id`, when the caller names one, is the application the
/// payment must belong to.
#[derive(Debug, Clone)]
pub struct Reversal {
    pub payment_id: i64,
    pub application_id: Option<i64>,
    pub reason: String,
}

/// Reverses a payment with a new entry (finance only); the payment itself is never edited or deleted.
/// The amount is owed again, and a fully paid application goes back to approved. A payment of another
/// application than the one named is not found.
pub async fn reverse(
    db: &Db,
    caller: &SignedIn,
    keyed: Keyed,
    replies: impl Replies,
    reversal: Reversal,
    today: NaiveDate,
) -> Result<Answer<DisbursementView>> {
    caller.require(&FINANCE)?;
    let request = keyed.check()?;
    let Reversal { payment_id, application_id, reason } = reversal;
    reversal_reason(&reason)?;
    let (user_id, actor) = (caller.user_id, caller.actor());
    idempotency::run(db, user_id, request, replies, move |conn, _key| {
        let reason = reason.trim();
        let original = money::find(conn, payment_id)?;
        if application_id.is_some_and(|id| id != original.application_id) {
            return Err(Refusal::NotFound.into());
        }
        if original.kind != "payment" || money::is_reversed(conn, payment_id)? {
            return Err(Refusal::conflict(
                "conflict",
                Text::new("只能冲正尚未冲正的付款。", "Only a payment not yet reversed can be reversed."),
            )
            .into());
        }
        let record = applications::find(conn, original.application_id)?;
        let now = time::now();
        money::take_back(conn, original.application_id, original.amount_fen, now)?;
        let (disbursed, reopened) = system_step(Status::Disbursed, Action::Reopen)?;
        money::reopen(conn, original.application_id, disbursed, reopened)?;
        money::move_reserved_to_disbursed(conn, record.application.program_id, -original.amount_fen)?;
        let row = money::insert(
            conn,
            &NewDisbursement {
                application_id: original.application_id,
                kind: "reversal",
                amount_fen: original.amount_fen,
                paid_on: today,
                voucher_no: None,
                note: Some(reason),
                reverses_id: Some(original.id),
                recorded_by: user_id,
                paid_to: original.paid_to.as_deref(),
                paid_to_sha256: original.paid_to_sha256.as_deref(),
            },
            now,
        )?;
        let summary = json!({ "disbursement_id": row.id, "reverses_id": original.id, "amount_fen": row.amount_fen, "reason": reason });
        audit::append(conn, &actor, Event::new("disbursement.reversal", "application", original.application_id, summary))?;
        Ok(row.into())
    })
    .await
}

/// The payments and reversals of one application the caller may see, with its content, oldest first.
pub async fn of_application(db: &Db, caller: &SignedIn, application_id: i64) -> Result<Vec<DisbursementView>> {
    let caller = caller.clone();
    let rows = db
        .read(move |conn| {
            find_with_content(conn, &caller, application_id)?;
            Ok::<_, crate::app::Error>(money::of_application(conn, application_id)?)
        })
        .await?;
    Ok(rows.into_iter().map(Into::into).collect())
}

/// Which entries to list, and which page of them.
#[derive(Debug, Clone, Default)]
pub struct LedgerFilter {
    pub program_id: Option<i64>,
    pub company_id: Option<i64>,
    pub paid_from: Option<NaiveDate>,
    pub paid_to: Option<NaiveDate>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
    pub after: Option<String>,
}

/// Every payment and reversal matching `filter`, newest first (finance and admins), and how many in all.
pub async fn ledger(db: &Db, caller: &SignedIn, filter: LedgerFilter) -> Result<(Vec<DisbursementView>, Window, i64)> {
    caller.require(&[Role::Finance, Role::Admin])?;
    let window = Window::parse(filter.page, filter.per_page)?;
    time::check_days(&[("paid_from", filter.paid_from), ("paid_to", filter.paid_to)])?;
    let start = crate::db::Start::of(window, filter.after.as_deref())?;
    let query = money::Filter {
        program_id: filter.program_id,
        company_id: filter.company_id,
        paid_from: filter.paid_from,
        paid_to: filter.paid_to,
    };
    let (rows, total) = db.read(move |conn| money::list(conn, &query, start, window.per_page)).await?;
    Ok((rows.into_iter().map(Into::into).collect(), window, total))
}

/// Finance's work queue: approved awards not paid in full, soonest due first (finance and admins).
pub async fn awaiting(db: &Db, caller: &SignedIn, limit: i64) -> Result<Vec<money::AwaitingPayment>> {
    caller.require(&[Role::Finance, Role::Admin])?;
    Ok(db.read(move |conn| money::awaiting_payment(conn, limit)).await?)
}
