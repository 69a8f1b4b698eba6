//! What each role sees of an application's timeline: staff everything; the company (and an expert) the
//! decisions and what was said to the company, never who the experts are or what they scored.

use serde_json::Value;

use crate::domain::role::Role;

/// The events shown to the company and experts.
const PUBLIC_ACTIONS: [&str; 12] = [
    "application.create",
    "application.update",
    "application.attachment_upload",
    "application.attachment_delete",
    "application.submit",
    "application.withdraw",
    "application.return",
    "application.accept",
    "application.propose",
    "application.approve",
    "application.reject",
    "application.supersede",
];

/// The events whose comment is addressed to the company.
const ADDRESSED_ACTIONS: [&str; 4] =
    ["application.return", "application.reject", "application.approve", "application.supersede"];

/// One event of the timeline as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub action: String,
    pub actor_id: Option<i64>,
    pub actor_role: Option<String>,
    pub summary: Value,
}

/// One event as a viewer sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Seen {
    pub action: String,
    pub from: Option<String>,
    pub to: Option<String>,
    pub comment: Option<String>,
    pub actor_id: Option<i64>,
    pub actor_role: Option<String>,
    pub details: Option<Value>,
}

pub fn is_staff(role: Role) -> bool {
    matches!(role, Role::Reviewer | Role::Finance | Role::Admin)
}

/// `event` as `role` sees it, or `None` when it is not theirs to see.
pub fn seen_by(role: Role, event: Event) -> Option<Seen> {
    let staff = is_staff(role);
    if !staff && !PUBLIC_ACTIONS.contains(&event.action.as_str()) {
        return None;
    }
    let text = |key: &str| event.summary.get(key).and_then(Value::as_str).map(ToOwned::to_owned);
    let addressed = ADDRESSED_ACTIONS.contains(&event.action.as_str());
    Some(Seen {
        from: text("from"),
        to: text("to"),
        comment: if addressed || staff { text("comment") } else { None },
        actor_id: if staff { event.actor_id } else { None },
        actor_role: if staff { event.actor_role } else { None },
        details: staff.then_some(event.summary),
        action: event.action,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn event(action: &str) -> Event {
        Event {
            action: action.into(),
            actor_id: Some(7),
            actor_role: Some("reviewer".into()),
            summary: json!({ "from": "submitted", "to": "returned", "comment": "fix it", "expert_ids": [3] }),
        }
    }

    #[test]
    fn staff_see_every_event_in_full() {
        for role in [Role::Reviewer, Role::Finance, Role::Admin] {
            let seen = seen_by(role, event("application.assign")).unwrap();
            assert_eq!(seen.actor_id, Some(7));
            assert_eq!(seen.comment.as_deref(), Some("fix it"));
            assert!(seen.details.is_some());
        }
    }

    #[test]
    fn the_company_and_experts_never_see_the_experts() {
        for role in [Role::Applicant, Role::Expert] {
            for hidden in ["application.assign", "application.declare", "application.score", "objection.lodge"] {
                assert_eq!(seen_by(role, event(hidden)), None, "{role:?} {hidden}");
            }
            let seen = seen_by(role, event("application.accept")).unwrap();
            assert_eq!((seen.actor_id, seen.actor_role, seen.details), (None, None, None));
            assert_eq!(seen.comment, None, "an acceptance's comment is not addressed to the company");
            assert_eq!(seen.to.as_deref(), Some("returned"));
        }
    }

    #[test]
    fn comments_addressed_to_the_company_are_shown_to_it() {
        for addressed in ADDRESSED_ACTIONS {
            assert_eq!(seen_by(Role::Applicant, event(addressed)).unwrap().comment.as_deref(), Some("fix it"));
        }
    }
}
