//! Company requests (企业诉求): a closed loop of receive → assign → handle → reply → rate, with deadlines in
//! working days that stop while the park waits on the company.

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::domain::calendar::{Calendar, YEARS};
use crate::domain::error::{Error as Refusal, FieldError};
use crate::domain::report::median;
use crate::i18n::Text;

text_enum! {
    /// What a request is about; each has its own resolution deadline.
    RequestCategory {
        PolicyConsultation => "policy_consultation",
        ApplicationHelp => "application_help",
        PaymentInquiry => "payment_inquiry",
        Complaint => "complaint",
        Suggestion => "suggestion",
    }
}

impl RequestCategory {
    pub fn label(self) -> Text {
        match self {
            Self::PolicyConsultation => Text::new("政策咨询", "policy consultation"),
            Self::ApplicationHelp => Text::new("申报求助", "help with an application"),
            Self::PaymentInquiry => Text::new("资金兑付", "payment inquiry"),
            Self::Complaint => Text::new("投诉", "complaint"),
            Self::Suggestion => Text::new("建议", "suggestion"),
        }
    }
}

text_enum! {
    RequestStatus {
        Open => "open",
        Assigned => "assigned",
        WaitingCompany => "waiting_company",
        Resolved => "resolved",
        Reopened => "reopened",
        Closed => "closed",
    }
}

impl RequestStatus {
    pub fn label(self) -> Text {
        match self {
            Self::Open => Text::new("待分派", "open"),
            Self::Assigned => Text::new("办理中", "assigned"),
            Self::WaitingCompany => Text::new("待企业补充", "waiting for the company"),
            Self::Resolved => Text::new("已办结待评价", "resolved"),
            Self::Reopened => Text::new("已重办", "reopened"),
            Self::Closed => Text::new("已关闭", "closed"),
        }
    }

    /// Staff still owe the company an answer: the clock runs.
    pub fn clock_runs(self) -> bool {
        matches!(self, Self::Open | Self::Assigned | Self::Reopened)
    }

    /// Messages may still be added.
    pub fn is_active(self) -> bool {
        !matches!(self, Self::Closed)
    }
}

/// Working days allowed, per category, as the settings give them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Deadlines {
    pub first_response_days: u32,
    pub policy_consultation_days: u32,
    pub application_help_days: u32,
    pub payment_inquiry_days: u32,
    pub complaint_days: u32,
    pub suggestion_days: u32,
    /// A resolved request nobody rated closes after this many working days.
    pub auto_close_days: u32,
}

impl Deadlines {
    pub fn resolution_days(&self, category: RequestCategory) -> u32 {
        match category {
            RequestCategory::PolicyConsultation => self.policy_consultation_days,
            RequestCategory::ApplicationHelp => self.application_help_days,
            RequestCategory::PaymentInquiry => self.payment_inquiry_days,
            RequestCategory::Complaint => self.complaint_days,
            RequestCategory::Suggestion => self.suggestion_days,
        }
    }

    /// The first-response and resolution due dates of a request whose clock starts on `start`.
    pub fn due_dates(&self, calendar: &Calendar, category: RequestCategory, start: NaiveDate) -> DueDates {
        DueDates {
            first_response_due_on: calendar.add_working_days(start, self.first_response_days),
            due_on: calendar.add_working_days(start, self.resolution_days(category)),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DueDates {
    pub first_response_due_on: NaiveDate,
    pub due_on: NaiveDate,
}

impl DueDates {
    /// The due dates once the company answers on `today` a request that waited on it since `since`:
    /// each moves on by the working days spent waiting, which the answer also returns.
    pub fn resumed(self, calendar: &Calendar, since: NaiveDate, today: NaiveDate) -> (Self, u32) {
        let paused = calendar.working_days_between(since, today);
        let moved = Self {
            first_response_due_on: calendar.add_working_days(self.first_response_due_on, paused),
            due_on: calendar.add_working_days(self.due_on, paused),
        };
        (moved, paused)
    }
}

/// Whether a request is past a deadline on `today`: the first response when none was given, the resolution
/// otherwise. Only while the clock runs: waiting on the company, resolved or closed, nothing is overdue.
pub fn is_overdue(status: RequestStatus, responded: bool, due: DueDates, today: NaiveDate) -> bool {
    status.clock_runs() && (today > due.due_on || (!responded && today > due.first_response_due_on))
}

/// What a person may do with a request, and the status it leaves the request in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Staff name an owner.
    Assign,
    /// The owner asks the company for more; the clock stops.
    Wait,
    /// The company answers; when it was asked for more, the clock starts again.
    CompanyAnswers,
    /// Staff answer or note; the status stays.
    StaffMessage,
    Resolve,
    /// The company rates a resolution; `bad` (1 or 2) reopens it.
    Rate {
        bad: bool,
    },
    /// Unrated for the settings' working days after resolution.
    AutoClose,
}

/// The status after `step` from `from`, or why it cannot happen now.
pub fn next(from: RequestStatus, step: Step, has_assignee: bool) -> Result<RequestStatus, Refusal> {
    use RequestStatus::{Assigned, Closed, Open, Reopened, Resolved, WaitingCompany};
    let to = match (step, from) {
        (Step::Assign, Open | Assigned | Reopened) => Some(Assigned),
        (Step::Assign, WaitingCompany) | (Step::Wait, Open | Assigned | Reopened) => Some(WaitingCompany),
        (Step::CompanyAnswers, WaitingCompany) => Some(if has_assignee { Assigned } else { Open }),
        (Step::CompanyAnswers | Step::StaffMessage, Open | Assigned | Reopened | WaitingCompany) => Some(from),
        (Step::Resolve, Open | Assigned | Reopened | WaitingCompany) => Some(Resolved),
        (Step::Rate { bad: true }, Resolved) => Some(Reopened),
        (Step::Rate { bad: false } | Step::AutoClose, Resolved) => Some(Closed),
        _ => None,
    };
    to.ok_or_else(|| {
        let (zh, en) = match (step, from) {
            (_, Closed) => (
                "该诉求已办结关闭，不能再操作；如有新问题请另行提交。",
                "This request is closed; file a new one for a new question.",
            ),
            (Step::Rate { .. }, _) => (
                "诉求办结后才能评价，且每次办结只能评价一次。",
                "A request is rated once per resolution, after it is resolved.",
            ),
            (_, Resolved) => {
                ("该诉求已办结，等待企业评价。", "This request is resolved and awaits the company's rating.")
            }
            _ => ("该诉求当前状态不允许此操作。", "This is not possible in the request's current status."),
        };
        Refusal::conflict("conflict", Text::new(zh, en))
    })
}

/// What a staff member may do with a request now: name an owner, write in the thread, and, as its owner
/// or an administrator, ask the company for more or resolve it.
pub fn staff_steps(status: RequestStatus, has_assignee: bool, owner_or_admin: bool) -> Vec<Step> {
    [Step::StaffMessage, Step::Assign, Step::Wait, Step::Resolve]
        .into_iter()
        .filter(|step| owner_or_admin || matches!(step, Step::StaffMessage | Step::Assign))
        .filter(|step| next(status, *step, has_assignee).is_ok())
        .collect()
}

/// The limits of what a company or staff member writes.
pub const SUBJECT_MAX: usize = 200;
pub const BODY_MAX: usize = 5000;

/// A required text of at most `max` characters, trimmed.
pub fn check_text(field: &'static str, text: &str, max: usize) -> Result<String, FieldError> {
    let trimmed = text.trim();
    let length = trimmed.chars().count();
    if length == 0 {
        return Err(FieldError::new(field, "required", Text::new("请填写此项。", "This is required.")));
    }
    if length > max {
        return Err(FieldError::new(
            field,
            "too_long",
            Text::owned(format!("最多 {max} 个字符。"), format!("At most {max} characters.")),
        ));
    }
    Ok(trimmed.to_owned())
}

/// A rating from 1 (非常不满意, very dissatisfied) to 5 (非常满意, very satisfied).
pub fn check_rating(rating: i32) -> Result<i32, FieldError> {
    if (1..=5).contains(&rating) {
        Ok(rating)
    } else {
        Err(FieldError::new(
            "rating",
            "out_of_range",
            Text::new(
                "评价须为 1（非常不满意）到 5（非常满意）。",
                "The rating is from 1 (very dissatisfied) to 5 (very satisfied).",
            ),
        ))
    }
}

/// A bad rating reopens the request: it is checked and handled again.
pub fn is_bad_rating(rating: i32) -> bool {
    rating <= 2
}

/// `Q<year>-<seq:05>`, e.g. `Q2026-00042`.
pub fn reference_no(year: i32, seq: i64) -> String {
    format!("Q{year}-{seq:05}")
}

/// The report's period: from the first of `to`'s year (when absent) to `to` (today when absent), inside the
/// years the calendar holds, in order.
pub fn report_period(
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    today: NaiveDate,
) -> Result<(NaiveDate, NaiveDate), Refusal> {
    let to = to.unwrap_or(today);
    let from = from.unwrap_or_else(|| to.with_day(1).and_then(|d| d.with_month(1)).unwrap_or(to));
    let mut errors = Vec::new();
    for (field, day) in [("from", from), ("to", to)] {
        if !YEARS.contains(&day.year()) {
            errors.push(FieldError::new(
                field,
                "out_of_range",
                Text::new("日期须在 2000–2100 年之间。", "Dates are from 2000 to 2100."),
            ));
        }
    }
    if errors.is_empty() && from > to {
        errors.push(FieldError::new(
            "from",
            "after_to",
            Text::new("开始日期不能晚于结束日期。", "`from` is after `to`."),
        ));
    }
    Refusal::unless_any(errors)?;
    Ok((from, to))
}

/// One request as the report reads it.
#[derive(Debug, Clone)]
pub struct Handled {
    pub category: RequestCategory,
    pub assignee: Option<(i64, String)>,
    pub status: RequestStatus,
    pub received_on: NaiveDate,
    pub due: DueDates,
    pub first_responded_on: Option<NaiveDate>,
    pub resolved_on: Option<NaiveDate>,
    pub paused_days: u32,
    pub ratings_given: i64,
    pub rating_sum: i64,
    pub bad_ratings: i64,
}

/// The report's figures for one group of requests, or for all of them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct RequestFigures {
    pub received: i64,
    pub first_response_on_time: i64,
    pub resolved_on_time: i64,
    pub open_overdue: i64,
    /// Working days from receipt to the first answer, the median; null without answers.
    pub median_days_to_first_response: Option<f64>,
    /// Working days from receipt to resolution, less the days spent waiting on the company.
    pub median_days_to_resolution: Option<f64>,
    pub ratings: i64,
    pub mean_rating: Option<f64>,
    pub bad_ratings: i64,
}

/// The figures of `requests` on `today`.
pub fn figures<'a>(
    requests: impl IntoIterator<Item = &'a Handled>,
    calendar: &Calendar,
    today: NaiveDate,
) -> RequestFigures {
    let mut out = RequestFigures::default();
    let (mut to_first, mut to_resolution) = (Vec::new(), Vec::new());
    let mut rating_sum = 0;
    for r in requests {
        out.received += 1;
        if let Some(day) = r.first_responded_on {
            out.first_response_on_time += i64::from(day <= r.due.first_response_due_on);
            to_first.push(calendar.working_days_between(r.received_on, day));
        }
        if let Some(day) = r.resolved_on {
            out.resolved_on_time += i64::from(day <= r.due.due_on);
            to_resolution.push(calendar.working_days_between(r.received_on, day).saturating_sub(r.paused_days));
        }
        out.open_overdue += i64::from(is_overdue(r.status, r.first_responded_on.is_some(), r.due, today));
        out.ratings += r.ratings_given;
        rating_sum += r.rating_sum;
        out.bad_ratings += r.bad_ratings;
    }
    out.median_days_to_first_response = median(&mut to_first);
    out.median_days_to_resolution = median(&mut to_resolution);
    #[expect(clippy::cast_precision_loss, reason = "counts of ratings are far below 2^52")]
    let mean = (out.ratings > 0).then(|| (rating_sum as f64 / out.ratings as f64 * 100.0).round() / 100.0);
    out.mean_rating = mean;
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn staff_may_write_and_assign_while_open_and_only_the_owner_waits_or_resolves() {
        use RequestStatus::{Closed, Open, Resolved, WaitingCompany};
        let all = vec![Step::StaffMessage, Step::Assign, Step::Wait, Step::Resolve];
        assert_eq!(super::staff_steps(Open, false, true), all);
        assert_eq!(super::staff_steps(Open, true, false), vec![Step::StaffMessage, Step::Assign]);
        assert_eq!(
            super::staff_steps(WaitingCompany, true, true),
            vec![Step::StaffMessage, Step::Assign, Step::Resolve]
        );
        assert!(super::staff_steps(Resolved, true, true).is_empty());
        assert!(super::staff_steps(Closed, true, true).is_empty());
    }

    use super::*;

    fn day(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    /// The deadlines `config/default.toml` sets.
    const DEADLINES: Deadlines = Deadlines {
        first_response_days: 1,
        policy_consultation_days: 3,
        application_help_days: 3,
        payment_inquiry_days: 5,
        complaint_days: 10,
        suggestion_days: 13,
        auto_close_days: 5,
    };

    /// 2026's National Day week: 1–7 October off, Saturday 10 October worked.
    fn national_day() -> Calendar {
        Calendar::new((1..=7).map(|d| NaiveDate::from_ymd_opt(2026, 10, d).unwrap()), [day("2026-10-10")])
    }

    #[test]
    fn deadlines_skip_the_national_day_week_and_count_its_make_up_saturday() {
        let calendar = national_day();
        let due = DEADLINES.due_dates(&calendar, RequestCategory::PaymentInquiry, day("2026-09-30"));
        // Received Wednesday 30 September: the next working day is Thursday 8 October.
        assert_eq!(due.first_response_due_on, day("2026-10-08"));
        // 8, 9, 10 (the make-up Saturday), 12, 13 October.
        assert_eq!(due.due_on, day("2026-10-13"));
    }

    #[test]
    fn waiting_on_the_company_moves_each_deadline_by_the_working_days_waited() {
        let calendar = Calendar::default();
        let due = DEADLINES.due_dates(&calendar, RequestCategory::Complaint, day("2026-11-02"));
        assert_eq!(due.due_on, day("2026-11-16"));
        // Asked on Wednesday 4 November, answered on Monday 9 November: 3 working days waited.
        let (moved, paused) = due.resumed(&calendar, day("2026-11-04"), day("2026-11-09"));
        assert_eq!(paused, 3);
        assert_eq!(moved.due_on, day("2026-11-19"));
        assert_eq!(moved.first_response_due_on, day("2026-11-06"));
    }

    #[test]
    fn only_a_running_clock_makes_a_request_overdue() {
        let due = DueDates { first_response_due_on: day("2026-11-03"), due_on: day("2026-11-05") };
        assert!(!is_overdue(RequestStatus::Open, false, due, day("2026-11-03")));
        assert!(is_overdue(RequestStatus::Open, false, due, day("2026-11-04")));
        assert!(!is_overdue(RequestStatus::Assigned, true, due, day("2026-11-04")));
        assert!(is_overdue(RequestStatus::Assigned, true, due, day("2026-11-06")));
        for stopped in [RequestStatus::WaitingCompany, RequestStatus::Resolved, RequestStatus::Closed] {
            assert!(!is_overdue(stopped, false, due, day("2026-12-01")), "{stopped:?}");
        }
    }

    #[test]
    fn the_loop_allows_each_step_only_where_it_belongs() {
        use RequestStatus::{Assigned, Closed, Open, Reopened, Resolved, WaitingCompany};
        let cases = [
            (Open, Step::Assign, false, Some(Assigned)),
            (Assigned, Step::Wait, true, Some(WaitingCompany)),
            (WaitingCompany, Step::CompanyAnswers, true, Some(Assigned)),
            (WaitingCompany, Step::CompanyAnswers, false, Some(Open)),
            (Assigned, Step::CompanyAnswers, true, Some(Assigned)),
            (Assigned, Step::Resolve, true, Some(Resolved)),
            (Resolved, Step::Rate { bad: true }, true, Some(Reopened)),
            (Resolved, Step::Rate { bad: false }, true, Some(Closed)),
            (Resolved, Step::AutoClose, true, Some(Closed)),
            (Reopened, Step::Resolve, true, Some(Resolved)),
            (Assigned, Step::Rate { bad: false }, true, None),
            (Closed, Step::Rate { bad: false }, true, None),
            (Closed, Step::StaffMessage, true, None),
            (Closed, Step::CompanyAnswers, true, None),
            (Resolved, Step::StaffMessage, true, None),
            (Resolved, Step::Wait, true, None),
            (WaitingCompany, Step::Wait, true, None),
        ];
        for (from, step, assigned, expected) in cases {
            assert_eq!(next(from, step, assigned).ok(), expected, "{from:?} {step:?}");
        }
    }

    #[test]
    fn figures_count_on_time_answers_and_every_rating() {
        let calendar = Calendar::default();
        let due = DueDates { first_response_due_on: day("2026-11-03"), due_on: day("2026-11-05") };
        let base = Handled {
            category: RequestCategory::PolicyConsultation,
            assignee: None,
            status: RequestStatus::Closed,
            received_on: day("2026-11-02"),
            due,
            first_responded_on: Some(day("2026-11-03")),
            resolved_on: Some(day("2026-11-05")),
            paused_days: 0,
            ratings_given: 1,
            rating_sum: 5,
            bad_ratings: 0,
        };
        let late = Handled {
            status: RequestStatus::Reopened,
            first_responded_on: Some(day("2026-11-04")),
            resolved_on: Some(day("2026-11-09")),
            paused_days: 1,
            ratings_given: 1,
            rating_sum: 1,
            bad_ratings: 1,
            ..base.clone()
        };
        let figures = figures([&base, &late], &calendar, day("2026-11-10"));
        assert_eq!(figures.received, 2);
        assert_eq!(figures.first_response_on_time, 1);
        assert_eq!(figures.resolved_on_time, 1);
        assert_eq!(figures.open_overdue, 1, "the reopened one is past 5 November");
        assert_eq!(figures.median_days_to_first_response, Some(1.5));
        // 3 working days, and 5 less the one spent waiting.
        assert_eq!(figures.median_days_to_resolution, Some(3.5));
        assert_eq!((figures.ratings, figures.mean_rating, figures.bad_ratings), (2, Some(3.0), 1));
    }

    #[test]
    fn references_are_zero_padded_per_year() {
        assert_eq!(reference_no(2026, 42), "Q2026-00042");
    }
}
