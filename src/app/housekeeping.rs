//! Housekeeping, in every instance, one instance per run (claimed like the outreach runs): rows past their
//! retention are deleted (ended sessions, spent or expired one-time tokens and sign-in challenges, old
//! rate-limit windows, sent email, old idempotency keys), and the storage sweep removes stored files no row
//! points at once they are old enough (an upload whose row never committed) and reports rows whose file is
//! missing.

use std::collections::HashSet;
use std::time::Duration as StdDuration;

use chrono::{Duration, NaiveDateTime};
use serde::Serialize;

use crate::app::Result;
use crate::app::attachments::storage_failed;
use crate::config::HousekeepingSettings;
use crate::db::{Db, housekeeping as store};
use crate::storage::Storage;

/// How long a run may stay unfinished before another instance takes it over, its holder presumed gone.
const STALE_RUN: Duration = Duration::minutes(30);
/// Attachment rows read per query while looking for missing files.
const ROWS_PER_READ: i64 = 1_000;

/// Rows each retention deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Purged {
    pub sessions: usize,
    pub tokens: usize,
    pub throttle_windows: usize,
    pub sent_mail: usize,
    pub idempotency_keys: usize,
}

/// A row whose stored file is gone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MissingFile {
    pub attachment_id: i64,
    pub storage_key: String,
}

/// What the storage sweep found and did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Swept {
    /// Objects in storage, committed or staged.
    pub stored: usize,
    /// Locations of the objects removed: no row points at them (or an abandoned upload) and they were old.
    pub removed: Vec<String>,
    /// Objects no row points at yet, too young to remove: possibly an upload whose row is committing.
    pub young_orphans: usize,
    /// Rows whose file is not in storage (reported, never changed).
    pub missing: Vec<MissingFile>,
    /// Orphans that could not be removed this time (logged).
    pub failed: usize,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    pub purged: Purged,
    pub swept: Swept,
}

fn days(n: u32) -> Duration {
    Duration::days(i64::from(n))
}

/// Runs housekeeping when its run is due and this instance claims it; `None` when it is not due or another
/// instance has it.
pub async fn run_due(
    db: &Db,
    storage: &Storage,
    settings: HousekeepingSettings,
    now: NaiveDateTime,
) -> Result<Option<Report>> {
    let interval = i64::try_from(settings.run_interval_secs).ok().and_then(Duration::try_seconds);
    let due_before = interval.and_then(|i| now.checked_sub_signed(i)).unwrap_or(NaiveDateTime::MIN);
    let stale_before = now - STALE_RUN;
    let token = uuid::Uuid::new_v4().to_string();
    let claim_token = token.clone();
    if !db.write(move |conn| store::claim(conn, &claim_token, now, due_before, stale_before)).await? {
        return Ok(None);
    }
    let purged = purge(db, settings, now).await?;
    let min_age = StdDuration::from_secs(settings.orphan_file_min_age_secs);
    let swept = sweep(db, storage, min_age, now).await?;
    db.write(move |conn| store::finish(conn, &token, crate::domain::time::now())).await?;
    Ok(Some(Report { purged, swept }))
}

/// Deletes the rows past their retention at `now`, each kind in its own short transaction.
pub async fn purge(db: &Db, settings: HousekeepingSettings, now: NaiveDateTime) -> Result<Purged> {
    let sessions_before = now - days(settings.session_retention_days);
    let tokens_before = now - days(settings.token_retention_days);
    let throttles_before = now - Duration::hours(i64::from(settings.throttle_retention_hours));
    let mail_before = now - days(settings.outbox_retention_days);
    let keys_before = now - days(settings.idempotency_retention_days);
    Ok(Purged {
        sessions: db.write(move |conn| store::delete_ended_sessions(conn, sessions_before)).await?,
        tokens: db.write(move |conn| store::delete_spent_tokens(conn, tokens_before)).await?,
        throttle_windows: db.write(move |conn| store::delete_throttle_windows(conn, throttles_before)).await?,
        sent_mail: db.write(move |conn| store::delete_sent_mail(conn, mail_before)).await?,
        idempotency_keys: db.write(move |conn| store::delete_idempotency_keys(conn, keys_before)).await?,
    })
}

/// Compares storage with the attachment rows: removes what no row points at once it is older than
/// `min_age` (abandoned staged uploads too), and reports rows, older than the listing, whose file is missing.
pub async fn sweep(db: &Db, storage: &Storage, min_age: StdDuration, now: NaiveDateTime) -> Result<Swept> {
    let min_age = Duration::from_std(min_age).unwrap_or(Duration::MAX);
    let old_before = now.checked_sub_signed(min_age).unwrap_or(NaiveDateTime::MIN).and_utc();
    // A row created from here on may point at an object the listing below does not show yet.
    let listed_at = crate::domain::time::now();
    let objects = storage.list().await.map_err(storage_failed)?;
    let mut swept = Swept { stored: objects.len(), ..Swept::default() };

    let keys: Vec<String> = objects.iter().filter_map(|o| o.key.clone()).collect();
    let referenced = db.read(move |conn| store::referenced_keys(conn, &keys)).await?;
    for object in &objects {
        if object.key.as_ref().is_some_and(|key| referenced.contains(key)) {
            continue;
        }
        if object.modified >= old_before {
            swept.young_orphans += 1;
            continue;
        }
        match storage.delete_location(&object.location).await {
            Ok(()) => {
                tracing::info!(location = %object.location, modified = %object.modified, "an orphaned stored file was removed");
                swept.removed.push(object.location.clone());
            }
            Err(error) => {
                tracing::warn!(%error, location = %object.location, "an orphaned stored file could not be removed");
                swept.failed += 1;
            }
        }
    }

    let stored: HashSet<String> = objects.into_iter().filter_map(|o| o.key).collect();
    let mut after_id = 0;
    loop {
        let rows = db.read(move |conn| store::attachment_keys(conn, after_id, listed_at, ROWS_PER_READ)).await?;
        let Some((last, _)) = rows.last() else { break };
        after_id = *last;
        for (attachment_id, storage_key) in rows {
            if !stored.contains(&storage_key) {
                tracing::error!(attachment_id, %storage_key, "an attachment's stored file is missing");
                swept.missing.push(MissingFile { attachment_id, storage_key });
            }
        }
    }
    Ok(swept)
}
