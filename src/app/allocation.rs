//! Allocating a programme's budget over a batch of applications in expert review (按比例核减): a dry run
//! shows each one's cap and award; the real run proposes every one of them in one transaction, each on
//! the version the reviewer saw, so one conflict changes nothing.

use std::collections::HashSet;

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::json;

use crate::app::applications::{context, status_of};
use crate::app::programs::Program;
use crate::app::workflow::{act_in, budget_exceeded};
use crate::app::{Error, Result, SignedIn};
use crate::db::applications::{self, ApplicationRecord};
use crate::db::audit::{self, Event};
use crate::db::{Db, DbConnection, expert_reviews, invoices};
use crate::domain::actions::ActionInput;
use crate::domain::allocation::{AllocationMethod, Claim, allocate};
use crate::domain::error::{Error as Refusal, FieldError};
use crate::domain::funding;
use crate::domain::role::Role;
use crate::domain::workflow::Status;
use crate::i18n::Text;

/// The most applications one allocation may take.
pub const MAX_BATCH: usize = 500;

/// A batch to allocate, as the reviewer asks for it.
#[derive(Debug, Clone)]
pub struct Batch {
    pub application_ids: Vec<i64>,
    pub method: AllocationMethod,
    pub dry_run: bool,
    /// The version of each listed application as the reviewer saw it (in the same order); an
    /// application that moved since refuses the real run.
    pub versions: Option<Vec<i32>>,
}

/// One application of the batch and what it gets.
#[derive(Debug, Clone)]
pub struct Item {
    pub application_id: i64,
    pub reference_no: String,
    pub version: i32,
    pub requested_fen: i64,
    pub capped_fen: i64,
    pub approved_fen: i64,
}

/// The batch allocated.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub items: Vec<Item>,
    pub capped_total_fen: i64,
    pub approved_total_fen: i64,
    /// What the programme had left before this allocation.
    pub available_fen: i64,
    /// The caps exceed the available budget.
    pub oversubscribed: bool,
}

impl Batch {
    /// The batch's own checks, before anything is read.
    fn check(&self) -> Result<(), Refusal> {
        let mut errors = Vec::new();
        let count = self.application_ids.len();
        if count == 0 || count > MAX_BATCH {
            errors.push(FieldError::new(
                "application_ids",
                "out_of_range",
                Text::owned(format!("请列出 1–{MAX_BATCH} 份申报。"), format!("List 1 to {MAX_BATCH} applications.")),
            ));
        }
        let mut seen = HashSet::new();
        if let Some(twice) = self.application_ids.iter().find(|id| !seen.insert(**id)) {
            errors.push(FieldError::new(
                "application_ids",
                "duplicate",
                Text::owned(format!("申报 #{twice} 重复列出。"), format!("Application #{twice} is listed twice.")),
            ));
        }
        if self.versions.as_ref().is_some_and(|v| v.len() != count) {
            errors.push(FieldError::new(
                "versions",
                "length_mismatch",
                Text::new(
                    "versions 须与 application_ids 一一对应。",
                    "`versions` must give one version per listed application, in the same order.",
                ),
            ));
        }
        Refusal::unless_any(errors)
    }
}

fn refused_item(reference: &str, zh: &str, en: &str) -> Refusal {
    Refusal::conflict("conflict", Text::owned(format!("{reference}：{zh}"), format!("{reference}: {en}")))
}

/// Allocates the programme's budget over the batch (reviewers): a dry run answers the figures and
/// changes nothing; the real run proposes each application at its award, all or nothing.
pub async fn allocate_batch(
    db: &Db,
    caller: &SignedIn,
    program_id: i64,
    batch: Batch,
    today: NaiveDate,
    now: DateTime<Utc>,
) -> Result<Outcome> {
    caller.require(&[Role::Reviewer])?;
    batch.check()?;
    let user = caller.clone();
    if batch.dry_run {
        return db.read(move |conn| plan(conn, &user, program_id, &batch, today).map(|(outcome, _)| outcome)).await;
    }
    db.write(move |conn| {
        let (outcome, records) = plan(conn, &user, program_id, &batch, today)?;
        if let Some(item) = outcome.items.iter().find(|i| i.approved_fen <= 0) {
            return Err(refused_item(
                &item.reference_no,
                "按预算分配后支持金额为 0，请将其移出本批次。",
                "the allocation gives it nothing; leave it out of the batch.",
            )
            .into());
        }
        if outcome.approved_total_fen > outcome.available_fen {
            return Err(budget_exceeded(outcome.available_fen, outcome.approved_total_fen).into());
        }
        let mut companies: Vec<i64> = records.iter().map(|r| r.application.company_id).collect();
        companies.sort_unstable();
        companies.dedup();
        // Locks in the order a single proposal takes them: its company, its application, then the counters.
        for company in companies {
            applications::lock_company(conn, company)?;
        }
        applications::lock(conn, &records.iter().map(|r| r.application.id).collect::<Vec<_>>())?;
        expert_reviews::lock_review_counts(conn, program_id)?;
        for item in &outcome.items {
            let input = ActionInput::Propose {
                version: item.version,
                approved_amount_fen: item.approved_fen,
                comment: None,
                supersede: false,
            };
            act_in(conn, &user, item.application_id, &input, today, now).map_err(|error| match error {
                Error::Refused(Refusal::Conflict { code, detail }) => Refusal::Conflict {
                    code,
                    detail: Text::owned(
                        format!("{}：{}", item.reference_no, detail.zh),
                        format!("{}: {}", item.reference_no, detail.en),
                    ),
                }
                .into(),
                other => other,
            })?;
        }
        let summary = json!({
            "method": batch.method.as_str(),
            "application_ids": batch.application_ids,
            "capped_total_fen": outcome.capped_total_fen,
            "approved_total_fen": outcome.approved_total_fen,
            "available_fen": outcome.available_fen,
        });
        audit::append(conn, &user.actor(), Event::new("program.allocation", "program", program_id, summary))?;
        Ok(outcome)
    })
    .await
}

/// Checks every listed application (in expert review with enough scores, of this programme, at the
/// version seen, without an award in the programme's family) and allocates the budget over them.
fn plan(
    conn: &mut DbConnection,
    user: &SignedIn,
    program_id: i64,
    batch: &Batch,
    today: NaiveDate,
) -> Result<(Outcome, Vec<ApplicationRecord>)> {
    let program = Program::load(conn, program_id)?;
    if !program.visible_to(Some(user)) {
        return Err(Refusal::NotFound.into());
    }
    let mut records = Vec::with_capacity(batch.application_ids.len());
    let mut items = Vec::with_capacity(batch.application_ids.len());
    for (index, &id) in batch.application_ids.iter().enumerate() {
        let record = match applications::find(conn, id) {
            // A draft is the company's own: staff are told no more about it than about a stranger's.
            Ok(record) if record.application.program_id == program_id && record.application.submitted_at.is_some() => {
                record
            }
            Ok(_) | Err(crate::db::Error::NotFound) => {
                return Err(refused_item(
                    &format!("#{id}"),
                    "不是本项目的申报。",
                    "not an application of this programme.",
                )
                .into());
            }
            Err(other) => return Err(other.into()),
        };
        let a = &record.application;
        let reference = a.reference_no.clone().unwrap_or_else(|| format!("#{id}"));
        if status_of(&record)? != Status::ExpertReview {
            let label = status_of(&record)?.label();
            return Err(refused_item(
                &reference,
                &format!("当前为“{}”，不在专家评审阶段。", label.zh),
                &format!("it is “{}”, not in expert review.", label.en),
            )
            .into());
        }
        let ctx = context(conn, &record, user, today)?;
        if ctx.scores < ctx.min_scores {
            return Err(refused_item(
                &reference,
                &format!("至少需要 {} 份专家评分，目前只有 {} 份。", ctx.min_scores, ctx.scores),
                &format!("at least {} expert scores are needed; there are {}.", ctx.min_scores, ctx.scores),
            )
            .into());
        }
        if batch.versions.as_ref().is_some_and(|v| v[index] != a.version) {
            return Err(refused_item(
                &reference,
                "申报已被他人更新，请重新试算后再确认。",
                "it changed since you saw it; run the dry run again.",
            )
            .into());
        }
        if let Some(family) = program.support_family.as_deref()
            && let Some(held) = applications::awards_in_family(conn, a.company_id, family, a.id)?.first()
        {
            let other = held.reference_no.clone().unwrap_or_else(|| format!("#{}", held.id));
            let Refusal::Conflict { code, detail } = funding::double_funding(family, &other) else {
                unreachable!("double funding is a conflict")
            };
            return Err(Refusal::Conflict {
                code,
                detail: Text::owned(format!("{reference}：{}", detail.zh), format!("{reference}: {}", detail.en)),
            }
            .into());
        }
        let ratio_cap = match program.max_support_ratio_percent {
            Some(percent) => funding::ratio_cap(invoices::eligible_cost(conn, id)?, Some(percent)),
            None => None,
        };
        items.push(Item {
            application_id: id,
            reference_no: reference,
            version: a.version,
            requested_fen: a.requested_amount_fen,
            capped_fen: funding::award_cap(a.requested_amount_fen, program.max_award_fen, ratio_cap),
            approved_fen: 0,
        });
        records.push(record);
    }
    let claims: Vec<Claim> =
        items.iter().map(|i| Claim { reference_no: i.reference_no.clone(), capped_fen: i.capped_fen }).collect();
    let available_fen = crate::db::programs::available(conn, program_id)?;
    let allocation = allocate(batch.method, &claims, available_fen);
    for (item, approved) in items.iter_mut().zip(&allocation.approved_fen) {
        item.approved_fen = *approved;
    }
    let outcome = Outcome {
        items,
        capped_total_fen: allocation.capped_total_fen,
        approved_total_fen: allocation.approved_total_fen,
        available_fen,
        oversubscribed: allocation.oversubscribed,
    };
    Ok((outcome, records))
}
