//! The workflow's actions on one application. Each is one transaction: the conditional move on status
//! and version, the action's own changes (assignments, scores, the budget reservation), the audit event
//! and the emails. A refused action changes nothing.

use actix_web::{post, web};
use chrono::{DateTime, NaiveDate, Utc};
use rand::seq::IndexedRandom;
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::api::applications::{ApplicationView, context, form_object, view};
use crate::api::extract::Json;
use crate::api::session::SignedIn;
use crate::app::applications::{find_visible, status_of};
use crate::app::companies::CompanyFacts;
use crate::app::programs::Program;
use crate::config::PortalSettings;
use crate::db::applications::{self, ApplicationRecord, TransitionChanges};
use crate::db::audit::{self, Event};
use crate::db::{Db, DbConnection, calendar, outbox, programs, reviews, users};
use crate::domain::error::Error as Rejection;
use crate::domain::money::yuan;
use crate::domain::program::check_form;
use crate::domain::role::Role;
use crate::domain::time;
use crate::domain::workflow::{self, Action, Refusal, Status};
use crate::email::{Email, templates};
use crate::error::{ApiError, FieldError};
use crate::i18n::Text;

/// One workflow action, with the `version` the caller saw and the details the action needs.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(tag = "action", rename_all = "snake_case", deny_unknown_fields)]
pub enum ActionRequest {
    /// The company submits (or resubmits after a return).
    Submit { version: i32 },
    /// The company withdraws.
    Withdraw { version: i32, comment: Option<String> },
    /// A reviewer returns it for correction, with the reason and the working days allowed (the
    /// programme's default when absent).
    Return { version: i32, comment: String, correction_days: Option<u32> },
    /// A reviewer accepts it for expert review, naming experts or drawing some at random.
    Accept { version: i32, expert_ids: Option<Vec<i64>>, draw: Option<u32> },
    /// A reviewer adds experts during expert review, e.g. to replace a recused one.
    Assign { version: i32, expert_ids: Option<Vec<i64>>, draw: Option<u32> },
    /// An assigned expert declares whether they have a conflict of interest.
    Declare { version: i32, conflict_of_interest: bool, statement: Option<String> },
    /// An expert without conflict scores it, 0 to 100, once.
    Score { version: i32, score: i32, opinion: String },
    /// A reviewer proposes the award: it is reserved against the budget and the public notice starts.
    Propose { version: i32, approved_amount_fen: i64, comment: Option<String> },
    /// A reviewer approves once the notice is over and every objection is settled.
    Approve { version: i32, comment: Option<String> },
    /// A reviewer rejects, with the reason; a reservation is released.
    Reject { version: i32, comment: String },
}

impl ActionRequest {
    fn action(&self) -> Action {
        match self {
            Self::Submit { .. } => Action::Submit,
            Self::Withdraw { .. } => Action::Withdraw,
            Self::Return { .. } => Action::Return,
            Self::Accept { .. } => Action::Accept,
            Self::Assign { .. } => Action::Assign,
            Self::Declare { .. } => Action::Declare,
            Self::Score { .. } => Action::Score,
            Self::Propose { .. } => Action::Propose,
            Self::Approve { .. } => Action::Approve,
            Self::Reject { .. } => Action::Reject,
        }
    }

    fn version(&self) -> i32 {
        match self {
            Self::Submit { version }
            | Self::Withdraw { version, .. }
            | Self::Return { version, .. }
            | Self::Accept { version, .. }
            | Self::Assign { version, .. }
            | Self::Declare { version, .. }
            | Self::Score { version, .. }
            | Self::Propose { version, .. }
            | Self::Approve { version, .. }
            | Self::Reject { version, .. } => *version,
        }
    }
}

/// Everything an action needs from outside its transaction.
pub struct ActionInput {
    pub user: SignedIn,
    pub actor: crate::domain::audit::Actor,
    pub today: NaiveDate,
    pub now: DateTime<Utc>,
}

fn stale() -> ApiError {
    ApiError::conflict(
        "conflict",
        Text::new("申报已被他人更新，请刷新后重试。", "The application changed meanwhile; reload it and try again."),
    )
}

/// Takes a workflow action on an application.
#[utoipa::path(tag = "applications", security(("bearer" = [])), params(("id" = i64, Path, description = "application id")),
    request_body = ActionRequest, responses(
        (status = 200, description = "the application after the action", body = ApplicationView),
        (status = 409, description = "`conflict` (stale version, or not allowed now), `window_closed`, `budget_exceeded`, `not_enough_experts`", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`, `missing_materials`, `not_eligible`, `company_not_verified`", body = crate::error::Problem, content_type = "application/problem+json"),
    ))]
#[post("/applications/{id}/actions")]
pub async fn act(
    user: SignedIn,
    db: web::Data<Db>,
    portal: web::Data<PortalSettings>,
    id: web::Path<i64>,
    body: Json<ActionRequest>,
) -> Result<web::Json<ApplicationView>, ApiError> {
    let (id, request) = (id.into_inner(), body.into_inner());
    check_details(&request)?;
    let input = ActionInput { actor: user.actor(), today: time::today(portal.utc_offset), now: Utc::now(), user };
    let view = db
        .write(move |conn| {
            let record = find_visible(conn, &input.user, id)?;
            let from = status_of(&record)?;
            let guards = context(conn, &record, &input.user, input.today)?;
            let to =
                workflow::next(from, request.action(), input.user.role, &guards).map_err(|refusal| match refusal {
                    Refusal::NotYourRole => ApiError::Forbidden {
                        code: "forbidden",
                        detail: Text::new("您的角色不能执行此操作。", "Your role cannot take this action."),
                    },
                    Refusal::NotNow(reason) => ApiError::conflict("conflict", reason),
                })?;
            if request.version() != record.application.version {
                return Err(stale());
            }
            let (changes, mut summary) = apply(conn, &request, &record, from, &input)?;
            let a = &record.application;
            if !applications::transition(conn, id, from.as_str(), a.version, to.as_str(), &changes, time::now())? {
                return Err(stale());
            }
            summary["from"] = json!(from.as_str());
            summary["to"] = json!(to.as_str());
            audit::append(conn, &input.actor, Event::new(request.action().audit_name(), "application", id, summary))?;
            view(conn, &input.user, id, input.today)
        })
        .await?;
    Ok(web::Json(view))
}

/// The action's own work; answers the application's changes and the audit summary.
fn apply(
    conn: &mut DbConnection,
    request: &ActionRequest,
    record: &ApplicationRecord,
    from: Status,
    input: &ActionInput,
) -> Result<(TransitionChanges, Value), ApiError> {
    match request {
        ActionRequest::Submit { .. } => submit(conn, record, input),
        ActionRequest::Withdraw { comment, .. } => Ok((TransitionChanges::default(), json!({ "comment": comment }))),
        ActionRequest::Return { comment, correction_days, .. } => {
            return_for_correction(conn, record, comment, *correction_days, input)
        }
        ActionRequest::Accept { expert_ids, draw, .. } | ActionRequest::Assign { expert_ids, draw, .. } => {
            assign_experts(conn, record, expert_ids.as_deref(), *draw, input)
        }
        ActionRequest::Declare { conflict_of_interest, statement, .. } => {
            declare(conn, record, *conflict_of_interest, statement.as_deref(), input)
        }
        ActionRequest::Score { score, opinion, .. } => {
            if !reviews::score(conn, record.application.id, input.user.user_id, *score, opinion.trim(), time::now())? {
                return Err(ApiError::conflict(
                    "conflict",
                    Text::new("您已评分或尚未声明无利益冲突。", "You have scored already, or not declared yet."),
                ));
            }
            Ok((TransitionChanges::default(), json!({})))
        }
        ActionRequest::Propose { approved_amount_fen, comment, .. } => {
            propose(conn, record, *approved_amount_fen, comment.as_deref(), input)
        }
        ActionRequest::Approve { comment, .. } => approve(conn, record, comment.as_deref(), input),
        ActionRequest::Reject { comment, .. } => reject(conn, record, from, comment, input),
    }
}

fn required_text(field: &'static str, text: &str, limit: usize) -> Option<FieldError> {
    let length = text.trim().chars().count();
    if length == 0 {
        return Some(FieldError::new(field, "required", Text::new("请填写此项。", "This is required.")));
    }
    (length > limit).then(|| {
        FieldError::new(
            field,
            "too_long",
            Text::owned(format!("最多 {limit} 个字符。"), format!("At most {limit} characters.")),
        )
    })
}

/// The checks of an action's own details that need no database: 422 before anything is read.
fn check_details(request: &ActionRequest) -> Result<(), ApiError> {
    let mut errors = Vec::new();
    match request {
        ActionRequest::Return { comment, correction_days, .. } => {
            errors.extend(required_text("comment", comment, 2000));
            if correction_days.is_some_and(|d| !(1..=60).contains(&d)) {
                errors.push(FieldError::new(
                    "correction_days",
                    "out_of_range",
                    Text::new("补正期限须为 1–60 个工作日。", "Between 1 and 60 working days."),
                ));
            }
        }
        ActionRequest::Accept { expert_ids, draw, .. } | ActionRequest::Assign { expert_ids, draw, .. } => {
            let named = expert_ids.as_ref().is_some_and(|ids| !ids.is_empty());
            let drawn = draw.is_some_and(|n| n > 0);
            if named == drawn {
                errors.push(FieldError::new(
                    "expert_ids",
                    "one_of",
                    Text::new(
                        "请指定专家（expert_ids）或随机抽取的人数（draw），二者选一。",
                        "Name experts (expert_ids) or draw some (draw), not both.",
                    ),
                ));
            }
            if draw.is_some_and(|n| n > 20) {
                errors.push(FieldError::new(
                    "draw",
                    "out_of_range",
                    Text::new("一次最多抽取 20 位专家。", "Draw at most 20 experts."),
                ));
            }
        }
        ActionRequest::Score { score, opinion, .. } => {
            if !(0..=100).contains(score) {
                errors.push(FieldError::new(
                    "score",
                    "out_of_range",
                    Text::new("评分须在 0–100 之间。", "The score is from 0 to 100."),
                ));
            }
            errors.extend(required_text("opinion", opinion, 5000));
        }
        ActionRequest::Propose { approved_amount_fen, .. } if *approved_amount_fen <= 0 => {
            errors.push(FieldError::new(
                "approved_amount_fen",
                "not_positive",
                Text::new("拟支持金额须大于 0。", "The amount must be above 0."),
            ));
        }
        ActionRequest::Reject { comment, .. } => errors.extend(required_text("comment", comment, 2000)),
        _ => {}
    }
    Ok(Rejection::unless_any(errors)?)
}

fn notify_company(conn: &mut DbConnection, company_id: i64, email: impl Fn(&str) -> Email) -> Result<(), ApiError> {
    let now = time::now();
    for applicant in users::of_company(conn, company_id)? {
        outbox::enqueue(conn, &email(&applicant.email), now)?;
    }
    Ok(())
}

fn notify_reviewers(conn: &mut DbConnection, email: impl Fn(&str) -> Email) -> Result<(), ApiError> {
    let now = time::now();
    for reviewer in users::active_with_role(conn, Role::Reviewer)? {
        outbox::enqueue(conn, &email(&reviewer.email), now)?;
    }
    Ok(())
}

fn reference(record: &ApplicationRecord) -> String {
    record.application.reference_no.clone().unwrap_or_else(|| format!("#{}", record.application.id))
}

fn return_for_correction(
    conn: &mut DbConnection,
    record: &ApplicationRecord,
    comment: &str,
    correction_days: Option<u32>,
    input: &ActionInput,
) -> Result<(TransitionChanges, Value), ApiError> {
    let program = Program::load(conn, record.application.program_id)?;
    let days = correction_days.unwrap_or_else(|| u32::try_from(program.correction_days).unwrap_or(10));
    let due_on = calendar::load(conn)?.add_working_days(input.today, days);
    let (reference_no, reason) = (reference(record), comment.trim().to_owned());
    notify_company(conn, record.application.company_id, |to| templates::returned(to, &reference_no, &reason, due_on))?;
    let changes = TransitionChanges { correction_due_on: Some(due_on), ..TransitionChanges::default() };
    Ok((changes, json!({ "comment": reason, "correction_due_on": due_on, "correction_days": days })))
}

fn assign_experts(
    conn: &mut DbConnection,
    record: &ApplicationRecord,
    expert_ids: Option<&[i64]>,
    draw: Option<u32>,
    input: &ActionInput,
) -> Result<(TransitionChanges, Value), ApiError> {
    let id = record.application.id;
    let already: Vec<i64> = reviews::assignments(conn, id)?.into_iter().map(|a| a.expert_id).collect();
    let pool: Vec<i64> = users::active_with_role(conn, Role::Expert)?.into_iter().map(|u| u.id).collect();
    let (chosen, drawn) = match (expert_ids, draw) {
        (Some(ids), _) if !ids.is_empty() => {
            let mut errors = Vec::new();
            for expert in ids {
                if !pool.contains(expert) {
                    errors.push(FieldError::new(
                        "expert_ids",
                        "unknown_expert",
                        Text::owned(
                            format!("用户 {expert} 不是在岗的评审专家。"),
                            format!("User {expert} is not an active expert."),
                        ),
                    ));
                } else if already.contains(expert) {
                    errors.push(FieldError::new(
                        "expert_ids",
                        "already_assigned",
                        Text::owned(
                            format!("专家 {expert} 已在本申报的评审名单中。"),
                            format!("Expert {expert} is already assigned."),
                        ),
                    ));
                }
            }
            Rejection::unless_any(errors)?;
            let mut unique = ids.to_vec();
            unique.sort_unstable();
            unique.dedup();
            (unique, false)
        }
        (_, Some(n)) => {
            let candidates: Vec<i64> = pool.into_iter().filter(|e| !already.contains(e)).collect();
            let wanted = usize::try_from(n).unwrap_or(usize::MAX);
            if candidates.len() < wanted {
                return Err(ApiError::conflict(
                    "not_enough_experts",
                    Text::owned(
                        format!("可抽取的专家只有 {} 位，不足 {n} 位。", candidates.len()),
                        format!("Only {} experts can be drawn, fewer than {n}.", candidates.len()),
                    ),
                ));
            }
            (candidates.choose_multiple(&mut rand::rng(), wanted).copied().collect(), true)
        }
        _ => unreachable!("check_details requires names or a draw"),
    };
    let now = time::now();
    let (program_title, reference_no) = (record.program_title.clone(), reference(record));
    for expert in &chosen {
        reviews::assign(conn, id, *expert, input.user.user_id, drawn, now)?;
        let address = users::find(conn, *expert)?.email;
        outbox::enqueue(conn, &templates::expert_assigned(&address, &program_title, &reference_no), now)?;
    }
    Ok((
        TransitionChanges::default(),
        json!({ "expert_ids": chosen, "drawn": drawn, "pool_size": already.len() + chosen.len() }),
    ))
}

fn declare(
    conn: &mut DbConnection,
    record: &ApplicationRecord,
    conflict: bool,
    statement: Option<&str>,
    input: &ActionInput,
) -> Result<(TransitionChanges, Value), ApiError> {
    let statement = statement.map(str::trim).filter(|s| !s.is_empty());
    if !reviews::declare(conn, record.application.id, input.user.user_id, conflict, statement, time::now())? {
        return Err(ApiError::conflict("conflict", Text::new("您已作出声明。", "You have declared already.")));
    }
    if conflict {
        let reference_no = reference(record);
        notify_reviewers(conn, |to| templates::expert_recused(to, &reference_no))?;
    }
    Ok((TransitionChanges::default(), json!({ "conflict_of_interest": conflict })))
}

fn propose(
    conn: &mut DbConnection,
    record: &ApplicationRecord,
    amount: i64,
    comment: Option<&str>,
    input: &ActionInput,
) -> Result<(TransitionChanges, Value), ApiError> {
    let a = &record.application;
    let program = Program::load(conn, a.program_id)?;
    let limit = a.requested_amount_fen.min(program.max_award_fen);
    if amount > limit {
        return Err(ApiError::field(
            "approved_amount_fen",
            "exceeds_limit",
            Text::owned(
                format!("拟支持金额不能超过申请金额和项目单项上限中的较小者（{} 元）。", yuan(limit)),
                format!(
                    "The amount cannot exceed the requested amount or the programme's maximum award, whichever is less ({} yuan).",
                    yuan(limit)
                ),
            ),
        ));
    }
    if !programs::reserve(conn, a.program_id, amount)? {
        let available_fen = programs::available(conn, a.program_id)?;
        return Err(ApiError::AmountUnavailable {
            code: "budget_exceeded",
            detail: Text::owned(
                format!("项目预算不足：尚可安排 {} 元，拟支持 {} 元。", yuan(available_fen), yuan(amount)),
                format!(
                    "Not enough budget left: {} yuan is available, {} yuan was proposed.",
                    yuan(available_fen),
                    yuan(amount)
                ),
            ),
            available_fen,
        });
    }
    let days = u32::try_from(program.public_notice_days).unwrap_or(0);
    let ends_on = calendar::load(conn)?.add_working_days(input.today, days);
    let (reference_no, shown) = (reference(record), yuan(amount));
    notify_company(conn, a.company_id, |to| templates::proposed(to, &reference_no, &shown, ends_on))?;
    let changes = TransitionChanges {
        approved_amount_fen: Some(amount),
        notice_starts_on: Some(input.today),
        notice_ends_on: Some(ends_on),
        ..TransitionChanges::default()
    };
    Ok((changes, json!({ "approved_amount_fen": amount, "notice_ends_on": ends_on, "comment": comment })))
}

fn approve(
    conn: &mut DbConnection,
    record: &ApplicationRecord,
    comment: Option<&str>,
    input: &ActionInput,
) -> Result<(TransitionChanges, Value), ApiError> {
    let a = &record.application;
    let program = Program::load(conn, a.program_id)?;
    let days = u32::try_from(program.payment_due_days).unwrap_or(0);
    let due_on = calendar::load(conn)?.add_working_days(input.today, days);
    let amount = a
        .approved_amount_fen
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("application {} in notice without an amount", a.id)))?;
    let (reference_no, shown) = (reference(record), yuan(amount));
    notify_company(conn, a.company_id, |to| templates::approved(to, &reference_no, &shown, due_on))?;
    let changes = TransitionChanges {
        payment_due_on: Some(due_on),
        decided_at: Some(time::now()),
        ..TransitionChanges::default()
    };
    Ok((changes, json!({ "approved_amount_fen": amount, "payment_due_on": due_on, "comment": comment })))
}

fn reject(
    conn: &mut DbConnection,
    record: &ApplicationRecord,
    from: Status,
    comment: &str,
    _input: &ActionInput,
) -> Result<(TransitionChanges, Value), ApiError> {
    let a = &record.application;
    let released = match (from, a.approved_amount_fen) {
        (Status::PublicNotice, Some(amount)) => {
            programs::release(conn, a.program_id, amount)?;
            amount
        }
        _ => 0,
    };
    let (reference_no, reason) = (reference(record), comment.trim().to_owned());
    notify_company(conn, a.company_id, |to| templates::rejected(to, &reference_no, &reason))?;
    let changes = TransitionChanges { decided_at: Some(time::now()), ..TransitionChanges::default() };
    Ok((changes, json!({ "comment": reason, "released_fen": released })))
}

/// Everything a submission needs: the window, a verified company, the materials, a complete form,
/// eligibility and an amount within the maximum award. Answers the programme and the company's facts.
fn check_submission(
    conn: &mut DbConnection,
    record: &ApplicationRecord,
    input: &ActionInput,
) -> Result<(Program, CompanyFacts), ApiError> {
    let a = &record.application;
    let program = Program::load(conn, a.program_id)?;
    if !program.is_open(input.now) {
        return Err(ApiError::conflict(
            "window_closed",
            Text::owned(
                format!(
                    "本项目的申报时间为 {} 至 {}，现在不在申报期内。",
                    time::to_utc(program.opens_at),
                    time::to_utc(program.closes_at)
                ),
                format!(
                    "Applications are accepted from {} to {}; the window is not open now.",
                    time::to_utc(program.opens_at),
                    time::to_utc(program.closes_at)
                ),
            ),
        ));
    }
    let facts = CompanyFacts::load(conn, a.company_id, input.today)?;
    if facts.company.verification_status != "verified" {
        return Err(ApiError::Validation {
            code: "company_not_verified",
            detail: Text::new(
                "企业信息尚未通过园区审核，审核通过后方可提交申报。",
                "Your company has not been verified by the park yet; you can submit once it is.",
            ),
            errors: Vec::new(),
        });
    }
    let uploaded: Vec<String> = applications::attachments_of(conn, a.id)?.into_iter().map(|f| f.material_key).collect();
    let missing: Vec<_> = program.materials.iter().filter(|m| m.required && !uploaded.contains(&m.key)).collect();
    if !missing.is_empty() {
        let names = missing.iter().map(|m| m.name.as_str()).collect::<Vec<_>>().join("、");
        return Err(ApiError::Validation {
            code: "missing_materials",
            detail: Text::owned(
                format!("请先上传以下必需材料：{names}。"),
                format!("Upload these required materials first: {names}."),
            ),
            errors: missing
                .iter()
                .map(|m| {
                    FieldError::new(
                        format!("materials.{}", m.key),
                        "missing",
                        Text::owned(format!("请上传“{}”。", m.name), format!("Upload “{}”.", m.name)),
                    )
                })
                .collect(),
        });
    }
    let form = form_object(serde_json::from_str(&a.form_data).ok())?;
    Rejection::unless_any(check_form(&program.fields, &form, true))?;
    let failing: Vec<_> = facts.evaluate(&program.rules).into_iter().filter(|c| !c.passed).collect();
    if !failing.is_empty() {
        return Err(ApiError::Validation {
            code: "not_eligible",
            detail: Text::new(
                "贵公司不符合本项目的申报条件，详见各项说明。",
                "Your company does not meet this programme's conditions; see each check.",
            ),
            errors: failing
                .into_iter()
                .map(|c| FieldError::new(format!("eligibility.{}", c.rule), "not_met", c.message))
                .collect(),
        });
    }
    if a.requested_amount_fen > program.max_award_fen {
        return Err(ApiError::field(
            "requested_amount_fen",
            "exceeds_max_award",
            Text::owned(
                format!(
                    "申请金额不能超过本项目单项最高支持额 {} 元。",
                    crate::domain::money::yuan(program.max_award_fen)
                ),
                format!(
                    "The requested amount cannot exceed the programme's maximum award of {} yuan.",
                    crate::domain::money::yuan(program.max_award_fen)
                ),
            ),
        ));
    }
    Ok((program, facts))
}

/// Submits after [`check_submission`]: assigns the reference number on the first submission, freezes the
/// company's profile into the application and queues the receipt and the reviewers' notice.
fn submit(
    conn: &mut DbConnection,
    record: &ApplicationRecord,
    input: &ActionInput,
) -> Result<(TransitionChanges, Value), ApiError> {
    let (program, facts) = check_submission(conn, record, input)?;
    let a = &record.application;
    let reference_no = match &a.reference_no {
        Some(existing) => existing.clone(),
        None => format!("{}-{:04}", program.code, programs::next_reference_seq(conn, program.id)?),
    };
    let snapshot = json!({
        "company": facts.company_json(),
        "figures_year": facts.figures_year,
        "figures": facts.figures.as_ref().map(|f| json!({
            "revenue_fen": f.revenue_fen, "rd_expense_fen": f.rd_expense_fen,
            "employee_count": f.employee_count, "rd_staff_count": f.rd_staff_count,
        })),
    });
    let (company, program_title) = (&record.company_name, &record.program_title);
    notify_company(conn, a.company_id, |to| {
        templates::application_received(to, company, program_title, &reference_no)
    })?;
    notify_reviewers(conn, |to| templates::application_to_review(to, company, program_title, &reference_no))?;
    let now = time::now();
    let changes = TransitionChanges {
        reference_no: Some(reference_no.clone()),
        company_snapshot: Some(snapshot.to_string()),
        submitted_at: Some(a.submitted_at.unwrap_or(now)),
        ..TransitionChanges::default()
    };
    Ok((changes, json!({ "reference_no": reference_no })))
}
