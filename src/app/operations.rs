//! What operators watch: the work waiting in the database, read for `GET /metrics` in one short read.
//! The caller is the scrape's token, checked at the edge; nothing here is per user.

use chrono::FixedOffset;

use crate::app::Result;
use crate::db::{Db, outbox, queues, requests};
use crate::domain::time;
use crate::metrics::Backlog;

/// The outbox, the awards past their payment due date and the company requests past a deadline, now.
pub async fn backlog(db: &Db, offset: FixedOffset) -> Result<Backlog> {
    let (now, today) = (time::now(), time::today(offset));
    db.read(move |conn| {
        let outbox = outbox::backlog(conn, now)?;
        let (_, payments_overdue) = queues::payments(conn, today)?;
        Ok(Backlog {
            outbox_pending: outbox.pending,
            outbox_oldest_due_secs: outbox.oldest_due_since.map_or(0, |since| (now - since).num_seconds().max(0)),
            outbox_failed: outbox.failed,
            payments_overdue,
            requests_overdue: requests::count_overdue(conn, today)?,
        })
    })
    .await
}
