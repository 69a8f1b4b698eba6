//! The application workflow as one table: action × role × from-status → to-status, with the guard that
//! must hold. The same table answers `allowed_actions` and enforces every action, so the buttons a
//! frontend shows and the moves the server accepts can never differ.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::domain::role::Role;
use crate::i18n::Text;

text_enum!(
    /// Where an application stands.
    Status {
        Draft => "draft",
        Submitted => "submitted",
        Returned => "returned",
        ExpertReview => "expert_review",
        PublicNotice => "public_notice",
        Approved => "approved",
        Disbursed => "disbursed",
        Rejected => "rejected",
        Withdrawn => "withdrawn",
    }
);

text_enum!(
    /// What someone can do to an application.
    Action {
        Submit => "submit",
        Withdraw => "withdraw",
        Return => "return",
        Accept => "accept",
        Assign => "assign",
        Declare => "declare",
        Score => "score",
        Propose => "propose",
        Approve => "approve",
        Reject => "reject",
        /// The service marks an award paid in full when a payment completes it; nobody asks for it.
        #[serde(skip)]
        Settle => "settle",
        /// The service reopens a paid award when a reversal makes money owed again; nobody asks for it.
        #[serde(skip)]
        Reopen => "reopen",
        /// The service rejects an unpaid award when a higher one in its support family replaces it
        /// (就高不重复), inside that proposal; nobody asks for it.
        #[serde(skip)]
        Supersede => "supersede",
    }
);

impl Action {
    /// The action's name in the audit trail.
    pub fn audit_name(self) -> &'static str {
        match self {
            Action::Submit => "application.submit",
            Action::Withdraw => "application.withdraw",
            Action::Return => "application.return",
            Action::Accept => "application.accept",
            Action::Assign => "application.assign",
            Action::Declare => "application.declare",
            Action::Score => "application.score",
            Action::Propose => "application.propose",
            Action::Approve => "application.approve",
            Action::Reject => "application.reject",
            Action::Settle => "application.settle",
            Action::Reopen => "application.reopen",
            Action::Supersede => "application.supersede",
        }
    }
}

impl Action {
    /// The action's name on a button.
    pub fn label(self) -> Text {
        let (zh, en) = match self {
            Action::Submit => ("提交", "Submit"),
            Action::Withdraw => ("撤回", "Withdraw"),
            Action::Return => ("退回补正", "Return for correction"),
            Action::Accept => ("受理并送专家评审", "Accept for expert review"),
            Action::Assign => ("增派专家", "Assign more experts"),
            Action::Declare => ("利益冲突声明", "Declare conflicts of interest"),
            Action::Score => ("评分", "Score"),
            Action::Propose => ("拟支持并公示", "Propose the award and start the notice"),
            Action::Approve => ("批准", "Approve"),
            Action::Reject => ("不予支持", "Reject"),
            Action::Settle => ("全部拨付", "Paid in full"),
            Action::Reopen => ("冲正后重新待拨付", "Reopened by a reversal"),
            Action::Supersede => ("被更高支持替代", "Superseded by a higher award"),
        };
        Text::new(zh, en)
    }
}

impl Status {
    /// In plain words for the company.
    pub fn label(self) -> Text {
        let (zh, en) = match self {
            Status::Draft => ("草稿，尚未提交", "Draft, not submitted yet"),
            Status::Submitted => ("已提交，等待形式审查", "Submitted, awaiting the formal check"),
            Status::Returned => ("已退回，请按意见补正后重新提交", "Returned: correct it as asked and submit again"),
            Status::ExpertReview => ("专家评审中", "Under expert review"),
            Status::PublicNotice => ("拟支持，公示中", "Proposed for support, in public notice"),
            Status::Approved => ("已批准，等待资金拨付", "Approved, awaiting payment"),
            Status::Disbursed => ("资金已全部拨付", "Paid in full"),
            Status::Rejected => ("未获支持", "Not supported"),
            Status::Withdrawn => ("已撤回", "Withdrawn"),
        };
        Text::new(zh, en)
    }

    /// A live application blocks another one by the same company for the same programme.
    pub fn is_live(self) -> bool {
        !matches!(self, Status::Withdrawn | Status::Rejected)
    }

    /// The company may still change its form and materials.
    pub fn is_editable(self) -> bool {
        matches!(self, Status::Draft | Status::Returned)
    }

    /// Only a submitted application reaches this status (a draft may be withdrawn unsubmitted).
    pub fn implies_submitted(self) -> bool {
        !matches!(self, Status::Draft | Status::Withdrawn)
    }
}

/// What must hold, beyond role and status, for an action to be open to a caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Guard {
    /// The caller's company owns the application.
    OwnCompany,
    /// The caller is a staff member of the right role.
    Staff,
    /// The caller is an assigned expert who has not declared yet.
    AssignedUndeclared,
    /// The caller is an assigned expert who declared no conflict and has not scored yet.
    ClearedNotScored,
    /// The programme's minimum number of expert scores is in.
    EnoughScores,
    /// The public notice has ended, every objection is resolved and none was upheld.
    NoticeSettled,
    /// A step the service takes itself, inside another operation (a payment, a reversal): never offered
    /// to anyone and never taken on request; see [`system_next`].
    System,
}

#[derive(Debug, Clone, Copy)]
pub struct Transition {
    pub action: Action,
    pub role: Role,
    pub from: &'static [Status],
    /// `None`: the application stays where it is.
    pub to: Option<Status>,
    pub guard: Guard,
}

use Status::{Draft, ExpertReview, PublicNotice, Returned, Submitted};

pub const TRANSITIONS: [Transition; 13] = [
    Transition {
        action: Action::Submit,
        role: Role::Applicant,
        from: &[Draft, Returned],
        to: Some(Submitted),
        guard: Guard::OwnCompany,
    },
    Transition {
        action: Action::Withdraw,
        role: Role::Applicant,
        from: &[Draft, Submitted, Returned],
        to: Some(Status::Withdrawn),
        guard: Guard::OwnCompany,
    },
    Transition {
        action: Action::Return,
        role: Role::Reviewer,
        from: &[Submitted],
        to: Some(Returned),
        guard: Guard::Staff,
    },
    Transition {
        action: Action::Accept,
        role: Role::Reviewer,
        from: &[Submitted],
        to: Some(ExpertReview),
        guard: Guard::Staff,
    },
    Transition { action: Action::Assign, role: Role::Reviewer, from: &[ExpertReview], to: None, guard: Guard::Staff },
    Transition {
        action: Action::Declare,
        role: Role::Expert,
        from: &[ExpertReview],
        to: None,
        guard: Guard::AssignedUndeclared,
    },
    Transition {
        action: Action::Score,
        role: Role::Expert,
        from: &[ExpertReview],
        to: None,
        guard: Guard::ClearedNotScored,
    },
    Transition {
        action: Action::Propose,
        role: Role::Reviewer,
        from: &[ExpertReview],
        to: Some(PublicNotice),
        guard: Guard::EnoughScores,
    },
    Transition {
        action: Action::Approve,
        role: Role::Reviewer,
        from: &[PublicNotice],
        to: Some(Status::Approved),
        guard: Guard::NoticeSettled,
    },
    Transition {
        action: Action::Reject,
        role: Role::Reviewer,
        from: &[Submitted, ExpertReview, PublicNotice],
        to: Some(Status::Rejected),
        guard: Guard::Staff,
    },
    // Moved by the service: a payment that completes the award settles it, a reversal reopens it.
    Transition {
        action: Action::Settle,
        role: Role::Finance,
        from: &[Status::Approved],
        to: Some(Status::Disbursed),
        guard: Guard::System,
    },
    Transition {
        action: Action::Reopen,
        role: Role::Finance,
        from: &[Status::Disbursed],
        to: Some(Status::Approved),
        guard: Guard::System,
    },
    // A higher proposal in the same support family rejects an award on which nothing was paid.
    Transition {
        action: Action::Supersede,
        role: Role::Reviewer,
        from: &[PublicNotice, Status::Approved],
        to: Some(Status::Rejected),
        guard: Guard::System,
    },
];

/// An assigned expert's standing on one application.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ExpertStanding {
    #[default]
    NotAssigned,
    Undeclared,
    Recused,
    Cleared {
        scored: bool,
    },
}

/// Where a public notice stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Notice {
    #[default]
    Running,
    /// Ended, with objections still to resolve.
    ObjectionsOpen,
    /// Ended, and an objection was upheld.
    ObjectionUpheld,
    /// Ended, every objection resolved and none upheld.
    Settled,
}

/// What the guards read about one application and one caller.
#[derive(Debug, Clone, Copy, Default)]
pub struct Context {
    pub own_company: bool,
    pub expert: ExpertStanding,
    pub scores: i32,
    pub min_scores: i32,
    pub notice: Notice,
}

impl Guard {
    /// `Err` with the reason, in words for the caller, when the guard does not hold.
    pub fn check(self, ctx: &Context) -> Result<(), Text> {
        let fail = |zh: &'static str, en: &'static str| Err(Text::new(zh, en));
        match self {
            Guard::Staff => Ok(()),
            Guard::OwnCompany if ctx.own_company => Ok(()),
            Guard::OwnCompany => fail("这不是贵公司的申报。", "This is not your company's application."),
            Guard::AssignedUndeclared => match ctx.expert {
                ExpertStanding::Undeclared => Ok(()),
                ExpertStanding::NotAssigned => {
                    fail("您未被指派评审此申报。", "You are not assigned to this application.")
                }
                _ => fail("您已作出利益冲突声明。", "You have already declared."),
            },
            Guard::ClearedNotScored => match ctx.expert {
                ExpertStanding::Cleared { scored: false } => Ok(()),
                ExpertStanding::Cleared { scored: true } => {
                    fail("您已评分，每位专家只能评分一次。", "You have already scored; each expert scores once.")
                }
                ExpertStanding::Undeclared => {
                    fail("请先声明与申报单位无利益冲突。", "Declare that you have no conflict of interest first.")
                }
                ExpertStanding::Recused => {
                    fail("您已声明存在利益冲突，已回避。", "You declared a conflict of interest and are recused.")
                }
                ExpertStanding::NotAssigned => {
                    fail("您未被指派评审此申报。", "You are not assigned to this application.")
                }
            },
            Guard::EnoughScores if ctx.scores >= ctx.min_scores => Ok(()),
            Guard::EnoughScores => Err(Text::owned(
                format!("至少需要 {} 份专家评分，目前只有 {} 份。", ctx.min_scores, ctx.scores),
                format!("At least {} expert scores are needed; there are {}.", ctx.min_scores, ctx.scores),
            )),
            Guard::NoticeSettled => match ctx.notice {
                Notice::Settled => Ok(()),
                Notice::Running => fail("公示期尚未结束。", "The public notice has not ended yet."),
                Notice::ObjectionsOpen => fail("还有未处理的异议，请先处理。", "Some objections are still unresolved."),
                Notice::ObjectionUpheld => {
                    fail("有异议经核实成立，不能批准。", "An objection was upheld; the application cannot be approved.")
                }
            },
            Guard::System => fail("此步骤随付款记录自动完成。", "This step follows from the payments recorded."),
        }
    }
}

/// Why an action is refused: not the caller's to take (403), or not possible now (409).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    NotYourRole,
    NotNow(Text),
}

/// Where `action` by `role` takes an application in `status`, or why it cannot.
pub fn next(status: Status, action: Action, role: Role, ctx: &Context) -> Result<Status, Refusal> {
    let mut for_role = TRANSITIONS.iter().filter(|t| t.action == action && t.role == role).peekable();
    if for_role.peek().is_none() {
        return Err(Refusal::NotYourRole);
    }
    let Some(transition) = for_role.find(|t| t.from.contains(&status)) else {
        let label = status.label();
        return Err(Refusal::NotNow(Text::owned(
            format!("申报当前状态为“{}”，不能执行此操作。", label.zh),
            format!("The application is “{}”; this action is not possible now.", label.en),
        )));
    };
    transition.guard.check(ctx).map_err(Refusal::NotNow)?;
    Ok(transition.to.unwrap_or(status))
}

/// Where a step the service takes itself ([`Guard::System`]) leads from `status`; `None` when the table
/// has no such step from there.
pub fn system_next(status: Status, action: Action) -> Option<Status> {
    TRANSITIONS
        .iter()
        .find(|t| t.action == action && t.guard == Guard::System && t.from.contains(&status))
        .map(|t| t.to.unwrap_or(status))
}

/// The actions open to `role` on an application in `status`.
pub fn allowed(status: Status, role: Role, ctx: &Context) -> Vec<Action> {
    TRANSITIONS
        .iter()
        .filter(|t| t.role == role && t.from.contains(&status) && t.guard.check(ctx).is_ok())
        .map(|t| t.action)
        .collect()
}

/// The working days a company gets to correct a returned application when neither the reviewer nor the
/// programme says otherwise.
pub const DEFAULT_CORRECTION_DAYS: i32 = 10;

/// The working days allowed for a correction: the reviewer's choice, else the programme's setting, else
/// [`DEFAULT_CORRECTION_DAYS`] when the stored setting is not a count of days.
pub fn correction_days(requested: Option<u32>, programme_days: i32) -> u32 {
    requested
        .unwrap_or_else(|| u32::try_from(programme_days).unwrap_or_else(|_| DEFAULT_CORRECTION_DAYS.unsigned_abs()))
}

/// Whether the public notice of an application has ended on `today`: it runs to the end of its last day,
/// and a programme without a notice period has none to wait for.
pub fn notice_ended(notice_ends_on: Option<NaiveDate>, public_notice_days: i32, today: NaiveDate) -> bool {
    notice_ends_on.is_some_and(|ends| ends < today || public_notice_days == 0)
}

/// Whether an application's public notice runs on `today`, so objections are accepted.
pub fn notice_running(
    status: Status,
    notice_ends_on: Option<NaiveDate>,
    public_notice_days: i32,
    today: NaiveDate,
) -> bool {
    status == Status::PublicNotice && public_notice_days > 0 && notice_ends_on.is_some_and(|end| today <= end)
}

impl ExpertStanding {
    /// An expert's standing from their assignment: none, or its declaration (a conflict of interest or
    /// not, none yet) and whether they have scored.
    pub fn of(assignment: Option<(Option<bool>, bool)>) -> Self {
        match assignment {
            None => ExpertStanding::NotAssigned,
            Some((None, _)) => ExpertStanding::Undeclared,
            Some((Some(true), _)) => ExpertStanding::Recused,
            Some((Some(false), scored)) => ExpertStanding::Cleared { scored },
        }
    }

    /// An expert sees an application's content and files only after declaring no conflict of interest.
    pub fn may_read_content(self) -> Result<(), crate::domain::error::Error> {
        match self {
            ExpertStanding::Cleared { .. } => Ok(()),
            ExpertStanding::Recused => Err(crate::domain::error::Error::Forbidden {
                code: "recused",
                detail: Text::new(
                    "您已声明存在利益冲突并回避，不能查看申报内容。",
                    "You declared a conflict of interest and are recused.",
                ),
            }),
            ExpertStanding::Undeclared | ExpertStanding::NotAssigned => Err(crate::domain::error::Error::Forbidden {
                code: "declaration_required",
                detail: Text::new(
                    "请先声明与申报单位无利益冲突，然后才能查看申报内容。",
                    "Declare that you have no conflict of interest before reading the application.",
                ),
            }),
        }
    }
}

impl Notice {
    /// Where the notice stands: running until it has `ended`, then by its objections still `open` and
    /// those `upheld`.
    pub fn after(ended: bool, open: i64, upheld: i64) -> Self {
        match (ended, open, upheld) {
            (false, _, _) => Notice::Running,
            (true, 0, 0) => Notice::Settled,
            (true, 0, _) => Notice::ObjectionUpheld,
            (true, _, _) => Notice::ObjectionsOpen,
        }
    }
}

/// Who may see an application: a company its own, an expert those assigned to them, staff all once it has
/// been submitted (a draft is the company's own until then, and stays so if withdrawn unsubmitted).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Visibility {
    Visible,
    Hidden,
    /// Visible if the caller is assigned to it as an expert.
    IfAssigned,
}

/// Whether `role` (acting for `caller_company`) may see an application of `owner_company`, `submitted`
/// at least once.
pub fn visibility(role: Role, caller_company: Option<i64>, owner_company: i64, submitted: bool) -> Visibility {
    match role {
        Role::Applicant if caller_company == Some(owner_company) => Visibility::Visible,
        Role::Applicant => Visibility::Hidden,
        _ if !submitted => Visibility::Hidden,
        Role::Expert => Visibility::IfAssigned,
        Role::Reviewer | Role::Finance | Role::Admin => Visibility::Visible,
    }
}

/// The most a reviewer may propose: the amount requested, and never more than the programme's maximum
/// award. `Err` with that limit when `amount` is above it.
pub fn check_award(amount: i64, requested_fen: i64, max_award_fen: i64) -> Result<(), i64> {
    let limit = requested_fen.min(max_award_fen);
    if amount > limit { Err(limit) } else { Ok(()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Where each (status, action, role) leads when every guard holds; `None` means refused.
    fn expected(status: Status, action: Action, role: Role) -> Option<Status> {
        use Action as A;
        use Role as R;
        use Status as S;
        match (action, role, status) {
            (A::Submit, R::Applicant, S::Draft | S::Returned) => Some(S::Submitted),
            (A::Withdraw, R::Applicant, S::Draft | S::Submitted | S::Returned) => Some(S::Withdrawn),
            (A::Return, R::Reviewer, S::Submitted) => Some(S::Returned),
            (A::Accept, R::Reviewer, S::Submitted) => Some(S::ExpertReview),
            (A::Assign, R::Reviewer, S::ExpertReview) | (A::Declare | A::Score, R::Expert, S::ExpertReview) => {
                Some(S::ExpertReview)
            }
            (A::Propose, R::Reviewer, S::ExpertReview) => Some(S::PublicNotice),
            (A::Approve, R::Reviewer, S::PublicNotice) => Some(S::Approved),
            (A::Reject, R::Reviewer, S::Submitted | S::ExpertReview | S::PublicNotice) => Some(S::Rejected),
            _ => None,
        }
    }

    fn permissive(action: Action) -> Context {
        let expert = if action == Action::Declare {
            ExpertStanding::Undeclared
        } else {
            ExpertStanding::Cleared { scored: false }
        };
        Context { own_company: true, expert, scores: 3, min_scores: 3, notice: Notice::Settled }
    }

    #[test]
    fn every_status_action_and_role_goes_where_the_workflow_says() {
        for &status in Status::ALL {
            for &action in Action::ALL {
                for role in Role::ALL {
                    let got = next(status, action, role, &permissive(action)).ok();
                    assert_eq!(got, expected(status, action, role), "{status:?} {action:?} {role:?}");
                }
            }
        }
    }

    #[test]
    fn allowed_actions_are_exactly_the_moves_that_succeed() {
        for &status in Status::ALL {
            for role in Role::ALL {
                for &action in Action::ALL {
                    let ctx = permissive(action);
                    assert_eq!(
                        allowed(status, role, &ctx).contains(&action),
                        next(status, action, role, &ctx).is_ok(),
                        "{status:?} {action:?} {role:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn payments_settle_and_reversals_reopen_an_award_but_nobody_asks_for_either() {
        for &status in Status::ALL {
            let settled = (status == Status::Approved).then_some(Status::Disbursed);
            let reopened = (status == Status::Disbursed).then_some(Status::Approved);
            assert_eq!(system_next(status, Action::Settle), settled, "{status:?}");
            assert_eq!(system_next(status, Action::Reopen), reopened, "{status:?}");
            let superseded = matches!(status, Status::PublicNotice | Status::Approved).then_some(Status::Rejected);
            assert_eq!(system_next(status, Action::Supersede), superseded, "{status:?}");
            for role in Role::ALL {
                let allowed = allowed(status, role, &permissive(Action::Settle));
                assert!(
                    !allowed.contains(&Action::Settle)
                        && !allowed.contains(&Action::Reopen)
                        && !allowed.contains(&Action::Supersede),
                    "{status:?} {role:?}"
                );
            }
        }
        for &action in Action::ALL.iter().filter(|a| !matches!(a, Action::Settle | Action::Reopen | Action::Supersede))
        {
            assert_eq!(system_next(Status::Approved, action), None, "{action:?}");
        }
    }

    #[test]
    fn guards_close_actions_with_a_reason() {
        for notice in [Notice::Running, Notice::ObjectionsOpen, Notice::ObjectionUpheld] {
            let ctx = Context { notice, ..permissive(Action::Approve) };
            assert!(matches!(
                next(Status::PublicNotice, Action::Approve, Role::Reviewer, &ctx),
                Err(Refusal::NotNow(_))
            ));
        }

        let few = Context { scores: 1, min_scores: 2, ..Context::default() };
        let Err(Refusal::NotNow(reason)) = next(Status::ExpertReview, Action::Propose, Role::Reviewer, &few) else {
            panic!()
        };
        assert!(reason.en.contains("At least 2"));

        let stranger = Context::default();
        assert!(next(Status::Draft, Action::Submit, Role::Applicant, &stranger).is_err());
        assert_eq!(next(Status::Draft, Action::Approve, Role::Applicant, &stranger), Err(Refusal::NotYourRole));
        for standing in [
            ExpertStanding::NotAssigned,
            ExpertStanding::Undeclared,
            ExpertStanding::Recused,
            ExpertStanding::Cleared { scored: true },
        ] {
            let ctx = Context { expert: standing, ..Context::default() };
            assert!(next(Status::ExpertReview, Action::Score, Role::Expert, &ctx).is_err(), "{standing:?}");
        }
    }

    #[test]
    fn the_correction_period_is_the_reviewers_then_the_programmes_then_ten_days() {
        assert_eq!(correction_days(Some(3), 15), 3);
        assert_eq!(correction_days(None, 15), 15);
        assert_eq!(correction_days(None, -1), 10);
    }

    #[test]
    fn a_notice_runs_to_the_end_of_its_last_day() {
        let day = |d| NaiveDate::from_ymd_opt(2025, 3, d).unwrap();
        assert!(notice_running(Status::PublicNotice, Some(day(10)), 5, day(10)));
        assert!(!notice_ended(Some(day(10)), 5, day(10)));
        assert!(!notice_running(Status::PublicNotice, Some(day(10)), 5, day(11)));
        assert!(notice_ended(Some(day(10)), 5, day(11)));
        assert!(!notice_running(Status::Approved, Some(day(10)), 5, day(9)));
        assert!(!notice_running(Status::PublicNotice, None, 5, day(9)));
        // Without a notice period there is nothing to object to or to wait for.
        assert!(!notice_running(Status::PublicNotice, Some(day(10)), 0, day(9)));
        assert!(notice_ended(Some(day(10)), 0, day(9)));
        assert!(!notice_ended(None, 0, day(9)));
    }

    #[test]
    fn a_notice_settles_once_ended_with_no_open_or_upheld_objection() {
        assert_eq!(Notice::after(false, 0, 0), Notice::Running);
        assert_eq!(Notice::after(true, 0, 0), Notice::Settled);
        assert_eq!(Notice::after(true, 0, 1), Notice::ObjectionUpheld);
        assert_eq!(Notice::after(true, 2, 1), Notice::ObjectionsOpen);
    }

    #[test]
    fn an_experts_standing_follows_their_declaration() {
        assert_eq!(ExpertStanding::of(None), ExpertStanding::NotAssigned);
        assert_eq!(ExpertStanding::of(Some((None, false))), ExpertStanding::Undeclared);
        assert_eq!(ExpertStanding::of(Some((Some(true), false))), ExpertStanding::Recused);
        assert_eq!(ExpertStanding::of(Some((Some(false), true))), ExpertStanding::Cleared { scored: true });
        assert!(ExpertStanding::Cleared { scored: false }.may_read_content().is_ok());
        let code = |standing: ExpertStanding| match standing.may_read_content() {
            Err(crate::domain::error::Error::Forbidden { code, .. }) => code,
            other => panic!("{other:?}"),
        };
        assert_eq!(code(ExpertStanding::Recused), "recused");
        for standing in [ExpertStanding::Undeclared, ExpertStanding::NotAssigned] {
            assert_eq!(code(standing), "declaration_required");
        }
    }

    #[test]
    fn a_company_sees_its_own_an_expert_those_assigned_staff_all_submitted() {
        for submitted in [false, true] {
            assert_eq!(visibility(Role::Applicant, Some(1), 1, submitted), Visibility::Visible);
            assert_eq!(visibility(Role::Applicant, Some(2), 1, submitted), Visibility::Hidden);
            assert_eq!(visibility(Role::Applicant, None, 1, submitted), Visibility::Hidden);
        }
        assert_eq!(visibility(Role::Expert, None, 1, true), Visibility::IfAssigned);
        assert_eq!(visibility(Role::Expert, None, 1, false), Visibility::Hidden);
        for staff in [Role::Reviewer, Role::Finance, Role::Admin] {
            assert_eq!(visibility(staff, None, 1, true), Visibility::Visible);
            assert_eq!(visibility(staff, None, 1, false), Visibility::Hidden, "a draft is the company's own");
        }
    }

    #[test]
    fn an_award_is_capped_by_the_request_and_the_maximum() {
        assert_eq!(check_award(100, 100, 200), Ok(()));
        assert_eq!(check_award(101, 100, 200), Err(100));
        assert_eq!(check_award(101, 300, 100), Err(100));
    }

    #[test]
    fn live_and_editable_statuses() {
        let live: Vec<_> = Status::ALL.iter().filter(|s| !s.is_live()).collect();
        assert_eq!(live, [&Status::Rejected, &Status::Withdrawn]);
        let editable: Vec<_> = Status::ALL.iter().filter(|s| s.is_editable()).collect();
        assert_eq!(editable, [&Status::Draft, &Status::Returned]);
    }
}
