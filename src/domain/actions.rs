//! One workflow action as the caller asked for it, and the checks of its own details that need nothing
//! stored: a bad comment or score is refused before anything is read.

use crate::domain::error::{Error as Refusal, FieldError};
use crate::domain::workflow::Action;
use crate::i18n::Text;

/// One workflow action, with the `version` the caller saw and the details the action needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActionInput {
    Submit {
        version: i32,
    },
    Withdraw {
        version: i32,
        comment: Option<String>,
    },
    Return {
        version: i32,
        comment: String,
        correction_days: Option<u32>,
    },
    Accept {
        version: i32,
        experts: Experts,
    },
    Assign {
        version: i32,
        experts: Experts,
    },
    Declare {
        version: i32,
        conflict_of_interest: bool,
        statement: Option<String>,
    },
    Score {
        version: i32,
        score: i32,
        opinion: String,
    },
    /// `supersede`: replace a lower, unpaid award the company holds in the programme's support family.
    Propose {
        version: i32,
        approved_amount_fen: i64,
        comment: Option<String>,
        supersede: bool,
    },
    Approve {
        version: i32,
        comment: Option<String>,
    },
    Reject {
        version: i32,
        comment: String,
    },
}

/// Which experts to add: named, or a number drawn at random (exactly one of the two, once checked).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Experts {
    pub named: Option<Vec<i64>>,
    pub draw: Option<u32>,
}

/// The most experts one draw may add.
pub const MAX_DRAW: u32 = 20;

impl ActionInput {
    pub fn action(&self) -> Action {
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

    pub fn version(&self) -> i32 {
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

    /// The checks of the action's own details: every problem at once, as field errors.
    pub fn check_details(&self) -> Result<(), Refusal> {
        let mut errors = Vec::new();
        match self {
            Self::Return { comment, correction_days, .. } => {
                errors.extend(required_text("comment", comment, 2000));
                if correction_days.is_some_and(|d| !(1..=60).contains(&d)) {
                    errors.push(FieldError::new(
                        "correction_days",
                        "out_of_range",
                        Text::new("补正期限须为 1–60 个工作日。", "Between 1 and 60 working days."),
                    ));
                }
            }
            Self::Accept { experts, .. } | Self::Assign { experts, .. } => {
                let named = experts.named.as_ref().is_some_and(|ids| !ids.is_empty());
                let drawn = experts.draw.is_some_and(|n| n > 0);
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
                if experts.draw.is_some_and(|n| n > MAX_DRAW) {
                    errors.push(FieldError::new(
                        "draw",
                        "out_of_range",
                        Text::new("一次最多抽取 20 位专家。", "Draw at most 20 experts."),
                    ));
                }
            }
            Self::Score { score, opinion, .. } => {
                if !(0..=100).contains(score) {
                    errors.push(FieldError::new(
                        "score",
                        "out_of_range",
                        Text::new("评分须在 0–100 之间。", "The score is from 0 to 100."),
                    ));
                }
                errors.extend(required_text("opinion", opinion, 5000));
            }
            Self::Propose { approved_amount_fen, .. } if *approved_amount_fen <= 0 => {
                errors.push(FieldError::new(
                    "approved_amount_fen",
                    "not_positive",
                    Text::new("拟支持金额须大于 0。", "The amount must be above 0."),
                ));
            }
            Self::Reject { comment, .. } => errors.extend(required_text("comment", comment, 2000)),
            _ => {}
        }
        Refusal::unless_any(errors)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(input: &ActionInput) -> Vec<(String, String)> {
        match input.check_details() {
            Ok(()) => Vec::new(),
            Err(Refusal::Invalid { errors, .. }) => {
                errors.into_iter().map(|e| (e.field.into_owned(), e.code.into_owned())).collect()
            }
            Err(other) => panic!("unexpected refusal {other:?}"),
        }
    }

    fn pair(field: &str, code: &str) -> (String, String) {
        (field.to_owned(), code.to_owned())
    }

    #[test]
    fn good_details_pass() {
        let good = [
            ActionInput::Submit { version: 1 },
            ActionInput::Return { version: 1, comment: "补充材料".into(), correction_days: Some(60) },
            ActionInput::Accept { version: 1, experts: Experts { named: None, draw: Some(20) } },
            ActionInput::Assign { version: 1, experts: Experts { named: Some(vec![3]), draw: None } },
            ActionInput::Score { version: 1, score: 100, opinion: "good".into() },
            ActionInput::Propose { version: 1, approved_amount_fen: 1, comment: None, supersede: false },
            ActionInput::Reject { version: 1, comment: "no".into() },
        ];
        for input in good {
            assert_eq!(codes(&input), Vec::new(), "{input:?}");
        }
    }

    #[test]
    fn each_bad_detail_is_named() {
        let cases = [
            (
                ActionInput::Return { version: 1, comment: " ".into(), correction_days: Some(0) },
                vec![pair("comment", "required"), pair("correction_days", "out_of_range")],
            ),
            (ActionInput::Accept { version: 1, experts: Experts::default() }, vec![pair("expert_ids", "one_of")]),
            (
                ActionInput::Assign { version: 1, experts: Experts { named: Some(vec![1]), draw: Some(21) } },
                vec![pair("expert_ids", "one_of"), pair("draw", "out_of_range")],
            ),
            (
                ActionInput::Score { version: 1, score: 101, opinion: "x".repeat(5001) },
                vec![pair("score", "out_of_range"), pair("opinion", "too_long")],
            ),
            (
                ActionInput::Propose { version: 1, approved_amount_fen: 0, comment: None, supersede: true },
                vec![pair("approved_amount_fen", "not_positive")],
            ),
            (ActionInput::Reject { version: 1, comment: String::new() }, vec![pair("comment", "required")]),
        ];
        for (input, expected) in cases {
            assert_eq!(codes(&input), expected, "{input:?}");
        }
    }
}
