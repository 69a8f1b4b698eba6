//! The workflow's actions on one application. Each is one transaction: the conditional move on status
//! and version, the action's own changes (assignments, scores, the budget reservation), the audit event
//! and the emails. A refused action changes nothing.

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{Value, json};

use crate::app::applications::{Seen, context, find_visible, form_of, status_of, view};
use crate::app::companies::CompanyFacts;
use crate::app::notify;
use crate::app::programs::Program;
use crate::app::{Result, SignedIn};
use crate::db::applications::{self, ApplicationRecord, Award, TransitionChanges};
use crate::db::audit::{self, Event};
use crate::db::{self, Db, DbConnection, attachments, calendar, expert_reviews, invoices, outbox, programs, users};
use crate::domain::actions::{ActionInput, Experts};
use crate::domain::company::VerificationStatus;
use crate::domain::error::Error as Refusal;
use crate::domain::money::yuan;
use crate::domain::role::Role;
use crate::domain::submission::{self, Submission};
use crate::domain::workflow::{self, Action, Status};
use crate::domain::{experts, funding, time};
use crate::email::{Email, templates};
use crate::i18n::Text;

/// Not enough budget left for `amount`.
pub(crate) fn budget_exceeded(available_fen: i64, amount: i64) -> Refusal {
    Refusal::AmountUnavailable {
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
    }
}

impl Award {
    /// The award's reference number, for staff.
    fn name(&self) -> String {
        self.reference_no.clone().unwrap_or_else(|| format!("#{}", self.id))
    }

    /// What is still reserved for it: the approved amount less what was paid.
    fn unpaid_fen(&self) -> i64 {
        self.approved_amount_fen.unwrap_or(0) - self.disbursed_fen
    }
}

fn stale() -> Refusal {
    Refusal::conflict(
        "conflict",
        Text::new("申报已被他人更新，请刷新后重试。", "The application changed meanwhile; reload it and try again."),
    )
}

/// Takes a workflow action on an application, as of `today` in the park and `now`.
pub async fn act(
    db: &Db,
    caller: &SignedIn,
    id: i64,
    input: ActionInput,
    today: NaiveDate,
    now: DateTime<Utc>,
) -> Result<Seen> {
    input.check_details()?;
    let user = caller.clone();
    db.write(move |conn| {
        act_in(conn, &user, id, &input, today, now)?;
        view(conn, &user, id, today)
    })
    .await
}

/// [`act`] inside the caller's transaction, once the action's details are checked.
pub(crate) fn act_in(
    conn: &mut DbConnection,
    user: &SignedIn,
    id: i64,
    input: &ActionInput,
    today: NaiveDate,
    now: DateTime<Utc>,
) -> Result<()> {
    let record = find_visible(conn, user, id)?;
    let from = status_of(&record)?;
    let guards = context(conn, &record, user, today)?;
    let to = workflow::next(from, input.action(), user.role, &guards).map_err(|refusal| match refusal {
        workflow::Refusal::NotYourRole => Refusal::Forbidden {
            code: "forbidden",
            detail: Text::new("您的角色不能执行此操作。", "Your role cannot take this action."),
        },
        workflow::Refusal::NotNow(reason) => Refusal::conflict("conflict", reason),
    })?;
    if input.version() != record.application.version {
        return Err(stale().into());
    }
    let step = Step { record: &record, user, today, now };
    let (changes, mut summary) = step.apply(conn, input, from)?;
    let a = &record.application;
    if !applications::transition(conn, id, from, a.version, to, &changes, time::now())? {
        return Err(stale().into());
    }
    if !to.is_live() {
        summary["invoices_released"] = json!(invoices::release(conn, id, time::now())?);
    }
    summary["from"] = json!(from.as_str());
    summary["to"] = json!(to.as_str());
    audit::append(conn, &user.actor(), Event::new(input.action().audit_name(), "application", id, summary))?;
    Ok(())
}

/// One action on one application, inside its transaction.
struct Step<'a> {
    record: &'a ApplicationRecord,
    user: &'a SignedIn,
    today: NaiveDate,
    now: DateTime<Utc>,
}

type Outcome = Result<(TransitionChanges, Value)>;

impl Step<'_> {
    /// The action's own work; answers the application's changes and the audit summary.
    fn apply(&self, conn: &mut DbConnection, input: &ActionInput, from: Status) -> Outcome {
        match input {
            ActionInput::Submit { .. } => self.submit(conn),
            ActionInput::Withdraw { comment, .. } => Ok((TransitionChanges::default(), json!({ "comment": comment }))),
            ActionInput::Return { comment, correction_days, .. } => {
                self.return_for_correction(conn, comment, *correction_days)
            }
            ActionInput::Accept { experts, .. } | ActionInput::Assign { experts, .. } => {
                self.assign_experts(conn, experts)
            }
            ActionInput::Declare { conflict_of_interest, statement, .. } => {
                self.declare(conn, *conflict_of_interest, statement.as_deref())
            }
            ActionInput::Score { score, opinion, .. } => self.score(conn, *score, opinion),
            ActionInput::Propose { approved_amount_fen, comment, supersede, .. } => {
                self.propose(conn, *approved_amount_fen, comment.as_deref(), *supersede)
            }
            ActionInput::Approve { comment, .. } => self.approve(conn, comment.as_deref()),
            ActionInput::Reject { comment, .. } => self.reject(conn, from, comment),
        }
    }

    fn reference(&self) -> String {
        let a = &self.record.application;
        a.reference_no.clone().unwrap_or_else(|| format!("#{}", a.id))
    }

    fn notify_company(&self, conn: &mut DbConnection, email: impl Fn(&str) -> Email) -> Result<()> {
        notify::company(conn, self.record.application.company_id, email, time::now())
    }

    fn notify_reviewers(conn: &mut DbConnection, email: impl Fn(&str) -> Email) -> Result<()> {
        notify::role(conn, Role::Reviewer, email, time::now())
    }

    /// The submission check on what is stored now; answers the programme and the company's facts.
    fn check_submission(&self, conn: &mut DbConnection) -> Result<(Program, CompanyFacts)> {
        let a = &self.record.application;
        let program = Program::load(conn, a.program_id)?;
        let facts = CompanyFacts::load(conn, a.company_id, self.today)?;
        let stored = &facts.company.verification_status;
        let verification = VerificationStatus::parse(stored).ok_or_else(|| {
            db::Error::damaged("companies", facts.company.id, format!("unknown verification status `{stored}`"))
        })?;
        let uploaded: Vec<String> =
            attachments::of_application(conn, a.id)?.into_iter().map(|f| f.material_key).collect();
        let form = form_of(self.record)?;
        let eligibility = facts.evaluate(&program.rules);
        submission::check(&Submission {
            window_open: program.is_open(self.now),
            opens_at: time::to_utc(program.opens_at),
            closes_at: time::to_utc(program.closes_at),
            verification,
            materials: &program.materials,
            uploaded: &uploaded,
            fields: &program.fields,
            form: &form,
            eligibility: &eligibility,
            requested_amount_fen: a.requested_amount_fen,
            max_award_fen: program.max_award_fen,
        })?;
        Ok((program, facts))
    }

    /// Submits after the submission check: assigns the reference number on the first submission, freezes
    /// the company's profile into the application and queues the receipt and the reviewers' notice.
    fn submit(&self, conn: &mut DbConnection) -> Outcome {
        let (program, facts) = self.check_submission(conn)?;
        let a = &self.record.application;
        let snapshot = json!({
            "company": facts.company_json(),
            "figures_year": facts.figures_year,
            "figures": facts.figures.as_ref().map(|f| json!({
                "revenue_fen": f.revenue_fen, "rd_expense_fen": f.rd_expense_fen,
                "employee_count": f.employee_count, "rd_staff_count": f.rd_staff_count,
            })),
        });
        let company_users = notify::company_addresses(conn, a.company_id)?;
        let reviewers = notify::role_addresses(conn, Role::Reviewer)?;
        // Numbering locks the programme's row until commit, so everything that can come before it does.
        let reference_no = match &a.reference_no {
            Some(existing) => existing.clone(),
            None => format!("{}-{:04}", program.code, programs::next_reference_seq(conn, program.id)?),
        };
        let (company, program_title) = (&self.record.company_name, &self.record.program_title);
        let received = |to: &str| templates::application_received(to, company, program_title, &reference_no);
        notify::each(conn, &company_users, received, time::now())?;
        let to_review = |to: &str| templates::application_to_review(to, company, program_title, &reference_no);
        notify::each(conn, &reviewers, to_review, time::now())?;
        let changes = TransitionChanges {
            reference_no: Some(reference_no.clone()),
            company_snapshot: Some(snapshot.to_string()),
            submitted_at: Some(a.submitted_at.unwrap_or_else(time::now)),
            ..TransitionChanges::default()
        };
        Ok((changes, json!({ "reference_no": reference_no })))
    }

    fn return_for_correction(&self, conn: &mut DbConnection, comment: &str, correction_days: Option<u32>) -> Outcome {
        let program = Program::load(conn, self.record.application.program_id)?;
        let days = workflow::correction_days(correction_days, program.correction_days);
        let due_on = calendar::load(conn)?.add_working_days(self.today, days);
        let (reference_no, reason) = (self.reference(), comment.trim().to_owned());
        self.notify_company(conn, |to| templates::returned(to, &reference_no, &reason, due_on))?;
        let changes = TransitionChanges { correction_due_on: Some(due_on), ..TransitionChanges::default() };
        Ok((changes, json!({ "comment": reason, "correction_due_on": due_on, "correction_days": days })))
    }

    fn assign_experts(&self, conn: &mut DbConnection, wanted: &Experts) -> Outcome {
        let id = self.record.application.id;
        let already: Vec<i64> = expert_reviews::assignments(conn, id)?.into_iter().map(|a| a.expert_id).collect();
        let pool: Vec<i64> = users::active_with_role(conn, Role::Expert)?.into_iter().map(|u| u.id).collect();
        let (chosen, drawn) = match (&wanted.named, wanted.draw) {
            (Some(ids), _) if !ids.is_empty() => (experts::check_named(ids, &pool, &already)?, false),
            (_, Some(n)) => (experts::draw(&mut rand::rng(), n, &pool, &already)?, true),
            _ => unreachable!("check_details requires names or a draw"),
        };
        let now = time::now();
        let (program_title, reference_no) = (&self.record.program_title, self.reference());
        for expert in &chosen {
            expert_reviews::assign(conn, id, *expert, self.user.user_id, drawn, now)?;
            let address = users::find(conn, *expert)?.email;
            outbox::enqueue(conn, &templates::expert_assigned(&address, program_title, &reference_no), now)?;
        }
        Ok((
            TransitionChanges::default(),
            json!({ "expert_ids": chosen, "drawn": drawn, "pool_size": already.len() + chosen.len() }),
        ))
    }

    fn declare(&self, conn: &mut DbConnection, conflict: bool, statement: Option<&str>) -> Outcome {
        let statement = statement.map(str::trim).filter(|s| !s.is_empty());
        let (id, expert) = (self.record.application.id, self.user.user_id);
        if !expert_reviews::declare(conn, id, expert, conflict, statement, time::now())? {
            return Err(Refusal::conflict("conflict", Text::new("您已作出声明。", "You have declared already.")).into());
        }
        if conflict {
            let reference_no = self.reference();
            Self::notify_reviewers(conn, |to| templates::expert_recused(to, &reference_no))?;
        }
        Ok((TransitionChanges::default(), json!({ "conflict_of_interest": conflict })))
    }

    fn score(&self, conn: &mut DbConnection, score: i32, opinion: &str) -> Outcome {
        let (id, expert) = (self.record.application.id, self.user.user_id);
        if !expert_reviews::score(conn, id, expert, score, opinion.trim(), time::now())? {
            return Err(Refusal::conflict(
                "conflict",
                Text::new("您已评分或尚未声明无利益冲突。", "You have scored already, or not declared yet."),
            )
            .into());
        }
        Ok((TransitionChanges::default(), json!({})))
    }

    /// Proposes the award: within the request, the programme's maximum and its support ratio; alone in
    /// its support family (or superseding the lower, unpaid award held there); reserved against the budget.
    fn propose(&self, conn: &mut DbConnection, amount: i64, comment: Option<&str>, supersede: bool) -> Outcome {
        let a = &self.record.application;
        let program = Program::load(conn, a.program_id)?;
        if let Err(limit) = workflow::check_award(amount, a.requested_amount_fen, program.max_award_fen) {
            return Err(Refusal::field(
                "approved_amount_fen",
                "exceeds_limit",
                Text::owned(
                    format!("拟支持金额不能超过申请金额和项目单项上限中的较小者（{} 元）。", yuan(limit)),
                    format!(
                        "The amount cannot exceed the requested amount or the programme's maximum award, whichever is less ({} yuan).",
                        yuan(limit)
                    ),
                ),
            )
            .into());
        }
        if let Some(percent) = program.max_support_ratio_percent {
            let cost = invoices::eligible_cost(conn, a.id)?;
            let cap = funding::ratio_cap(cost, Some(percent)).unwrap_or(i64::MAX);
            if amount > cap {
                return Err(funding::over_support_ratio(percent, cost, cap).into());
            }
        }
        let replaced = self.awards_to_supersede(conn, &program, amount, supersede)?;
        let mut events = Vec::new();
        for award in &replaced {
            events.push(self.supersede(conn, award)?);
        }
        // Programme rows are locked in the order of their ids, so two supersessions across the same two
        // programmes in opposite directions never wait for each other.
        let (before, after): (Vec<&Award>, Vec<&Award>) = replaced.iter().partition(|r| r.program_id < a.program_id);
        for award in before {
            programs::release(conn, award.program_id, award.unpaid_fen())?;
        }
        if !programs::reserve(conn, a.program_id, amount)? {
            return Err(budget_exceeded(programs::available(conn, a.program_id)?, amount).into());
        }
        for award in after {
            programs::release(conn, award.program_id, award.unpaid_fen())?;
        }
        // The audit chain's head is locked last, after the applications and the programmes, as every
        // other writer does.
        for event in events {
            audit::append(conn, &self.user.actor(), event)?;
        }
        let days = u32::try_from(program.public_notice_days).unwrap_or(0);
        let ends_on = calendar::load(conn)?.add_working_days(self.today, days);
        let (reference_no, shown) = (self.reference(), yuan(amount));
        self.notify_company(conn, |to| templates::proposed(to, &reference_no, &shown, ends_on))?;
        let changes = TransitionChanges {
            approved_amount_fen: Some(amount),
            notice_starts_on: Some(self.today),
            notice_ends_on: Some(ends_on),
            ..TransitionChanges::default()
        };
        let superseded: Vec<String> = replaced.iter().map(Award::name).collect();
        Ok((
            changes,
            json!({ "approved_amount_fen": amount, "notice_ends_on": ends_on, "comment": comment, "superseded": superseded }),
        ))
    }

    /// The awards the company holds in the programme's support family, which this proposal replaces:
    /// none outside a family; refused (`double_funding`) when there are some and the reviewer did not
    /// ask to supersede them, or one of them is not lower or has money paid on it. Takes the company's
    /// lock first, so two proposals in one family are decided one after the other.
    fn awards_to_supersede(
        &self,
        conn: &mut DbConnection,
        program: &Program,
        amount: i64,
        supersede: bool,
    ) -> Result<Vec<Award>> {
        let Some(family) = program.support_family.as_deref() else { return Ok(Vec::new()) };
        let a = &self.record.application;
        applications::lock_company(conn, a.company_id)?;
        let held = applications::awards_in_family(conn, a.company_id, family, a.id)?;
        if let Some(first) = held.first()
            && !supersede
        {
            return Err(funding::double_funding(family, &first.name()).into());
        }
        for award in &held {
            let approved = award.approved_amount_fen.unwrap_or(0);
            if let Some(refusal) = funding::cannot_supersede(&award.name(), approved, award.disbursed_fen, amount) {
                return Err(refusal.into());
            }
        }
        Ok(held)
    }

    /// Rejects an award a higher one in its family replaces, frees its invoices and tells its company;
    /// answers its audit event. The caller releases its reservation and appends the event.
    fn supersede(&self, conn: &mut DbConnection, award: &Award) -> Result<Event> {
        let from = Status::parse(&award.status).ok_or_else(|| {
            db::Error::damaged("applications", award.id, format!("unknown status `{}`", award.status))
        })?;
        let Some(to) = workflow::system_next(from, Action::Supersede) else {
            return Err(stale().into());
        };
        let now = time::now();
        let changes = TransitionChanges { decided_at: Some(now), ..TransitionChanges::default() };
        if !applications::transition(conn, award.id, from, award.version, to, &changes, now)? {
            return Err(stale().into());
        }
        let released_invoices = invoices::release(conn, award.id, now)?;
        let (other, comment) = (award.name(), funding::superseded_by(&self.reference()));
        self.notify_company(conn, |to| templates::rejected(to, &other, &comment))?;
        let summary = json!({
            "from": from.as_str(), "to": to.as_str(), "comment": comment,
            "released_fen": award.unpaid_fen(), "superseded_by": self.record.application.id,
            "invoices_released": released_invoices,
        });
        Ok(Event::new(Action::Supersede.audit_name(), "application", award.id, summary))
    }

    fn approve(&self, conn: &mut DbConnection, comment: Option<&str>) -> Outcome {
        let a = &self.record.application;
        let program = Program::load(conn, a.program_id)?;
        let days = u32::try_from(program.payment_due_days).unwrap_or(0);
        let due_on = calendar::load(conn)?.add_working_days(self.today, days);
        let amount = a
            .approved_amount_fen
            .ok_or_else(|| db::Error::damaged("applications", a.id, "in public notice without an amount"))?;
        let (reference_no, shown) = (self.reference(), yuan(amount));
        self.notify_company(conn, |to| templates::approved(to, &reference_no, &shown, due_on))?;
        let changes = TransitionChanges {
            payment_due_on: Some(due_on),
            decided_at: Some(time::now()),
            ..TransitionChanges::default()
        };
        Ok((changes, json!({ "approved_amount_fen": amount, "payment_due_on": due_on, "comment": comment })))
    }

    fn reject(&self, conn: &mut DbConnection, from: Status, comment: &str) -> Outcome {
        let a = &self.record.application;
        let released = match (from, a.approved_amount_fen) {
            (Status::PublicNotice, Some(amount)) => {
                programs::release(conn, a.program_id, amount)?;
                amount
            }
            _ => 0,
        };
        let (reference_no, reason) = (self.reference(), comment.trim().to_owned());
        self.notify_company(conn, |to| templates::rejected(to, &reference_no, &reason))?;
        let changes = TransitionChanges { decided_at: Some(time::now()), ..TransitionChanges::default() };
        Ok((changes, json!({ "comment": reason, "released_fen": released })))
    }
}
