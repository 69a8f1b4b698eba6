//! Sends what the outbox holds, with retries and backoff, off the request path.

use std::sync::Arc;
use std::time::Duration;

use crate::db::{Db, outbox};
use crate::domain::time;
use crate::email::Transport;
use crate::error::ApiError;
use crate::shutdown::Stop;

const BATCH: i64 = 20;

/// Runs until `stop`: sends every due message, then waits `poll` before looking again. Once stopping is
/// asked for, the message being sent is finished and recorded, and the rest of its batch given back.
pub async fn run(db: Db, transport: Arc<Transport>, poll: Duration, mut stop: Stop) {
    loop {
        if let Err(error) = send_due(&db, &transport, &stop).await {
            tracing::warn!(%error, "outbox: could not process due email");
        }
        tokio::select! {
            biased;
            () = stop.requested() => return,
            () = tokio::time::sleep(poll) => {}
        }
    }
}

/// Sends every message that is due now, until `stop` is asked for; returns how many were sent.
pub async fn send_due(db: &Db, transport: &Arc<Transport>, stop: &Stop) -> Result<usize, ApiError> {
    let mut sent = 0;
    while !stop.is_requested() {
        let lease = uuid::Uuid::new_v4().to_string();
        let claim = lease.clone();
        let batch = db.write(move |conn| outbox::claim_due(conn, &claim, time::now(), BATCH)).await?;
        if batch.is_empty() {
            return Ok(sent);
        }
        for row in batch {
            if stop.is_requested() {
                let lease = lease.clone();
                let released = db.write(move |conn| outbox::release(conn, &lease)).await?;
                tracing::info!(released, "outbox: stopping; unsent claimed email given back");
                return Ok(sent);
            }
            let transport = transport.clone();
            let message = row.clone();
            let result = tokio::task::spawn_blocking(move || {
                let message_id = format!("<outbox-{}@policy-portal>", message.id);
                transport.send(&message_id, &message.recipient, &message.subject, &message.body)
            })
            .await
            .map_err(|e| ApiError::Internal(e.into()))?;
            let lease = lease.clone();
            match result {
                Ok(()) => {
                    let id = row.id;
                    db.write(move |conn| outbox::mark_sent(conn, id, &lease, time::now())).await?;
                    tracing::info!(outbox_id = id, "email sent");
                    sent += 1;
                }
                Err(error) => {
                    let error = format!("{error:#}");
                    tracing::warn!(outbox_id = row.id, attempt = row.attempts, %error, "email not sent; will retry");
                    db.write(move |conn| outbox::mark_failed(conn, &row, &lease, &error, time::now())).await?;
                }
            }
        }
    }
    Ok(sent)
}
