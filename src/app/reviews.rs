//! Expert review and the timeline: who may see what of an application's review.

use crate::app::applications::find_visible;
use crate::app::{Result, SignedIn};
use crate::db::applications::ApplicationRecord;
use crate::db::expert_reviews::{self, AssignmentRow};
use crate::db::{self, Db, DbConnection, audit, users};
use crate::domain::role::Role;
use crate::domain::timeline::{self, Seen};
use crate::domain::workflow::ExpertStanding;

/// An expert sees an application's content and files only after declaring no conflict of interest.
pub fn require_full_view(conn: &mut DbConnection, user: &SignedIn, record: &ApplicationRecord) -> Result<()> {
    if user.role != Role::Expert {
        return Ok(());
    }
    let declaration = expert_reviews::declaration(conn, record.application.id, user.user_id)?;
    Ok(ExpertStanding::of(declaration).may_read_content()?)
}

/// The application if the caller may see it and its content: for an expert, only after declaring no
/// conflict of interest (its money and timeline are content too).
pub fn find_with_content(conn: &mut DbConnection, user: &SignedIn, id: i64) -> Result<ApplicationRecord> {
    let record = find_visible(conn, user, id)?;
    require_full_view(conn, user, &record)?;
    Ok(record)
}

/// One expert's review with the expert's name.
#[derive(Debug)]
pub struct Review {
    pub assignment: AssignmentRow,
    pub expert_name: String,
}

/// The experts on an application, their declarations and their scores (reviewers and admins).
pub async fn list(db: &Db, caller: &SignedIn, id: i64) -> Result<Vec<Review>> {
    caller.require(&[Role::Reviewer, Role::Admin])?;
    let user = caller.clone();
    db.read(move |conn| {
        find_visible(conn, &user, id)?;
        let mut reviews = Vec::new();
        for assignment in expert_reviews::assignments(conn, id)? {
            let expert_name = users::find(conn, assignment.expert_id)?.display_name;
            reviews.push(Review { assignment, expert_name });
        }
        Ok(reviews)
    })
    .await
}

/// One event of the timeline as the caller sees it.
#[derive(Debug)]
pub struct TimelineEvent {
    pub seq: i64,
    pub occurred_at: chrono::NaiveDateTime,
    pub seen: Seen,
}

/// The application's timeline as the caller may see it, oldest first.
pub async fn timeline(db: &Db, caller: &SignedIn, id: i64) -> Result<Vec<TimelineEvent>> {
    let user = caller.clone();
    let rows = db
        .read(move |conn| {
            find_with_content(conn, &user, id)?;
            Ok::<_, crate::app::Error>(audit::of_object(conn, "application", id)?)
        })
        .await?;
    let mut events = Vec::new();
    for row in rows {
        let summary = serde_json::from_str(&row.summary)
            .map_err(|e| db::Error::damaged("audit_events", row.seq, format!("summary does not parse: {e}")))?;
        let event = timeline::Event { action: row.action, actor_id: row.actor_id, actor_role: row.actor_role, summary };
        if let Some(seen) = timeline::seen_by(caller.role, event) {
            events.push(TimelineEvent { seq: row.seq, occurred_at: row.occurred_at, seen });
        }
    }
    Ok(events)
}
