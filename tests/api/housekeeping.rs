//! Housekeeping: each retention deletes what is old and keeps what is young, one instance does each run, the
//! job runs by itself, and the storage sweep removes old orphaned files, keeps young and referenced ones and
//! reports rows whose file is missing (also as `portal storage sweep`).

use std::sync::Arc;
use std::time::Duration;

use chrono::{Duration as Span, NaiveDateTime};
use diesel::prelude::*;
use portal::app::housekeeping::{self, MissingFile};
use portal::db::schema::{
    idempotency_keys, mfa_challenges, one_time_tokens, outbox, sessions, spent_refresh_tokens, throttles,
};
use portal::domain::role::Role;
use portal::domain::time;
use portal::storage::Storage;
use serde_json::{Value, json};

use crate::helpers::{PDF, TestApp, program_body, spawn_app, spawn_app_with, upload};

/// Rows of every kind housekeeping deletes, one old and one young (or live) each, named by what they are.
async fn seed_rows(app: &TestApp, user_id: i64, now: NaiveDateTime) {
    let ago = move |days: i64| now - Span::days(days);
    app.db
        .write(move |conn| {
            for (name, expires_at, revoked_at) in [
                ("expired-long-ago", ago(40), None),
                ("revoked-long-ago", now + Span::days(10), Some(ago(31))),
                ("expired-yesterday", ago(1), None),
                ("revoked-yesterday", ago(-1), Some(ago(1))),
                ("live", now + Span::days(10), None),
            ] {
                let id: i64 = diesel::insert_into(sessions::table)
                    .values((
                        sessions::user_id.eq(user_id),
                        sessions::refresh_token_hash.eq(name),
                        sessions::created_at.eq(ago(60)),
                        sessions::expires_at.eq(expires_at),
                        sessions::revoked_at.eq(revoked_at),
                    ))
                    .returning(sessions::id)
                    .get_result(conn)?;
                diesel::insert_into(spent_refresh_tokens::table)
                    .values((
                        spent_refresh_tokens::token_hash.eq(format!("spent-of-{name}")),
                        spent_refresh_tokens::session_id.eq(id),
                        spent_refresh_tokens::spent_at.eq(ago(50)),
                    ))
                    .execute(conn)?;
            }
            for (name, expires_at, used_at) in [
                ("expired-long-ago", ago(31), None),
                ("used-long-ago", now + Span::hours(1), Some(ago(31))),
                ("expired-yesterday", ago(1), None),
                ("used-yesterday", now + Span::hours(1), Some(ago(1))),
                ("unused", now + Span::hours(1), None),
            ] {
                diesel::insert_into(one_time_tokens::table)
                    .values((
                        one_time_tokens::user_id.eq(user_id),
                        one_time_tokens::purpose.eq("password_reset"),
                        one_time_tokens::token_hash.eq(name),
                        one_time_tokens::created_at.eq(ago(40)),
                        one_time_tokens::expires_at.eq(expires_at),
                        one_time_tokens::used_at.eq(used_at),
                    ))
                    .execute(conn)?;
                diesel::insert_into(mfa_challenges::table)
                    .values((
                        mfa_challenges::user_id.eq(user_id),
                        mfa_challenges::token_hash.eq(format!("challenge-{name}")),
                        mfa_challenges::created_at.eq(ago(40)),
                        mfa_challenges::expires_at.eq(expires_at),
                        mfa_challenges::used_at.eq(used_at),
                    ))
                    .execute(conn)?;
            }
            for (name, started) in [("two-days-old", now - Span::hours(48)), ("an-hour-old", now - Span::hours(1))] {
                diesel::insert_into(throttles::table)
                    .values((throttles::key.eq(name), throttles::window_started_at.eq(started), throttles::hits.eq(3)))
                    .execute(conn)?;
            }
            for (name, sent_at, failed_at) in [
                ("sent-long-ago", Some(ago(31)), None),
                ("sent-yesterday", Some(ago(1)), None),
                ("failed-long-ago", None, Some(ago(31))),
            ] {
                diesel::insert_into(outbox::table)
                    .values((
                        outbox::recipient.eq("someone@company.example"),
                        outbox::subject.eq(name),
                        outbox::body.eq("body"),
                        outbox::created_at.eq(ago(40)),
                        outbox::attempts.eq(1),
                        outbox::next_attempt_at.eq(ago(40)),
                        outbox::sent_at.eq(sent_at),
                        outbox::failed_at.eq(failed_at),
                    ))
                    .execute(conn)?;
            }
            for (name, claimed_at) in [("claimed-long-ago", ago(31)), ("claimed-yesterday", ago(1))] {
                diesel::insert_into(idempotency_keys::table)
                    .values((
                        idempotency_keys::user_id.eq(user_id),
                        idempotency_keys::key.eq(name),
                        idempotency_keys::fingerprint.eq("f"),
                        idempotency_keys::claimed_at.eq(claimed_at),
                        idempotency_keys::response_status.eq(Some(201)),
                        idempotency_keys::response_body.eq(Some("{}")),
                        idempotency_keys::completed_at.eq(Some(claimed_at)),
                    ))
                    .execute(conn)?;
            }
            Ok::<_, portal::db::Error>(())
        })
        .await
        .unwrap();
}

/// What is left of the seeded rows: `(sessions, spent refresh tokens, one-time tokens and sign-in challenges,
/// throttle windows, outbox
/// subjects, idempotency keys)`, each sorted.
type Left = (Vec<String>, Vec<String>, Vec<String>, Vec<String>, Vec<String>, Vec<String>);

async fn left(app: &TestApp) -> Left {
    app.db
        .read(|conn| {
            let sorted = |mut v: Vec<String>| {
                v.sort();
                v
            };
            Ok::<_, portal::db::Error>((
                sorted(sessions::table.select(sessions::refresh_token_hash).load(conn)?),
                sorted(spent_refresh_tokens::table.select(spent_refresh_tokens::token_hash).load(conn)?),
                sorted(
                    [
                        one_time_tokens::table.select(one_time_tokens::token_hash).load(conn)?,
                        mfa_challenges::table.select(mfa_challenges::token_hash).load(conn)?,
                    ]
                    .concat(),
                ),
                sorted(throttles::table.select(throttles::key).load(conn)?),
                sorted(outbox::table.select(outbox::subject).load(conn)?),
                sorted(idempotency_keys::table.select(idempotency_keys::key).load(conn)?),
            ))
        })
        .await
        .unwrap()
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

#[tokio::test]
async fn each_retention_deletes_what_is_old_and_keeps_what_is_young() {
    let app = spawn_app().await;
    let user_id = app.create_user(Role::Finance, "finance@park.example").await;
    let now = time::now();
    seed_rows(&app, user_id, now).await;

    let purged = housekeeping::purge(&app.db, app.settings.housekeeping, now).await.unwrap();
    assert_eq!(
        purged,
        housekeeping::Purged { sessions: 2, tokens: 4, throttle_windows: 1, sent_mail: 1, idempotency_keys: 1 }
    );
    let (sessions, spent, tokens, throttles, mail, keys) = left(&app).await;
    assert_eq!(sessions, strings(&["expired-yesterday", "live", "revoked-yesterday"]));
    assert_eq!(spent, strings(&["spent-of-expired-yesterday", "spent-of-live", "spent-of-revoked-yesterday"]));
    let young = ["expired-yesterday", "unused", "used-yesterday"];
    let challenges = young.map(|name| format!("challenge-{name}"));
    assert_eq!(tokens, [challenges.as_slice(), &strings(&young)].concat());
    assert_eq!(throttles, strings(&["an-hour-old"]));
    assert_eq!(mail, strings(&["failed-long-ago", "sent-yesterday"]), "unsent and failed email stays");
    assert_eq!(keys, strings(&["claimed-yesterday"]));

    // A day later by a retention of a day, what was young is old.
    let mut shorter = app.settings.housekeeping;
    shorter.session_retention_days = 0;
    shorter.idempotency_retention_days = 0;
    housekeeping::purge(&app.db, shorter, now).await.unwrap();
    let (sessions, _, _, _, _, keys) = left(&app).await;
    assert_eq!(sessions, strings(&["live"]));
    assert!(keys.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_instance_claims_each_housekeeping_run_however_many_race_for_it() {
    let app = Arc::new(spawn_app().await);
    let storage = Storage::local(app.uploads.path()).unwrap();
    // The run is due an hour after the last one started; the background job has not run yet.
    let later = time::now() + Span::hours(2);
    let runs: Vec<_> = (0..6)
        .map(|_| {
            let (app, storage) = (app.clone(), storage.clone());
            let settings = app.settings.housekeeping;
            std::thread::spawn(move || {
                tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async move {
                    housekeeping::run_due(&app.db, &storage, settings, later).await.unwrap().is_some()
                })
            })
        })
        .collect();
    let claimed = runs.into_iter().map(|r| r.join().unwrap()).filter(|c| *c).count();
    assert_eq!(claimed, 1, "exactly one of the racing instances ran housekeeping");
    let again = housekeeping::run_due(&app.db, &storage, app.settings.housekeeping, later + Span::minutes(1)).await;
    assert!(again.unwrap().is_none(), "the next run is not due before the interval has passed");
    let next = housekeeping::run_due(&app.db, &storage, app.settings.housekeeping, later + Span::hours(1)).await;
    assert!(next.unwrap().is_some(), "it is due again an interval later");
}

#[tokio::test]
async fn the_housekeeping_job_runs_by_itself_in_every_instance() {
    let app = spawn_app_with(|s| s.housekeeping.poll_interval_secs = 1).await;
    let old = time::now() - Span::days(3);
    app.db
        .write(move |conn| {
            diesel::insert_into(throttles::table)
                .values((throttles::key.eq("old-window"), throttles::window_started_at.eq(old), throttles::hits.eq(1)))
                .execute(conn)
                .map_err(portal::db::Error::from)
        })
        .await
        .unwrap();
    for _ in 0..300 {
        if left(&app).await.3.is_empty() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the housekeeping job never deleted the old throttle window");
}

/// Sets the modification time of the stored file at `path` to `ago` in the past.
fn age(path: &std::path::Path, ago: Duration) {
    let file = std::fs::File::options().write(true).open(path).unwrap();
    file.set_modified(std::time::SystemTime::now() - ago).unwrap();
}

fn stored(app: &TestApp, location: &str) -> std::path::PathBuf {
    app.uploads.path().join(location)
}

#[tokio::test]
async fn the_sweep_removes_old_orphans_keeps_young_and_referenced_files_and_reports_missing_ones() {
    let app = spawn_app().await;
    let admin = app.token_for(Role::Admin).await;
    let program = app.publish_program(&admin, &program_body("IC-2026")).await;
    let (token, _) = app.eligible_company("珠海芯源微电子有限公司").await;
    let body = json!({ "program_id": program, "requested_amount_fen": 100_000_000, "form_data": { "project_name": "项目", "rd_budget_fen": 1, "stage": "研发" } });
    let id = app.post("/api/v1/applications", &token, &body).await.expect(201).json()["id"].as_i64().unwrap();
    let mut uploaded = Vec::new();
    for name in ["kept.pdf", "lost.pdf"] {
        let answer = upload(&app, &token, id, "business_license", name, PDF, "application/pdf").await.expect(201);
        uploaded.push(answer.json()["id"].as_i64().unwrap());
    }
    let keys: Vec<(i64, String)> = app
        .db
        .read(move |conn| portal::db::attachments::of_application(conn, id))
        .await
        .unwrap()
        .into_iter()
        .map(|row| (row.id, row.storage_key))
        .collect();
    let location = |key: &str| format!("{}/{key}", &key[..2]);
    // A referenced file, old: stays. A referenced file gone from the disk: reported.
    age(&stored(&app, &location(&keys[0].1)), Duration::from_secs(3 * 3600));
    std::fs::remove_file(stored(&app, &location(&keys[1].1))).unwrap();
    // Files no row points at: committed but never recorded, two hours old and a minute old; a staged upload
    // abandoned two hours ago.
    let (old_orphan, young_orphan) = ("ab0123456789abcdef0123456789abcd", "cd0123456789abcdef0123456789abcd");
    for (name, ago) in [(old_orphan, 7200), (young_orphan, 60)] {
        let path = stored(&app, &location(name));
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, b"%PDF-1.7 orphan").unwrap();
        age(&path, Duration::from_secs(ago));
    }
    // Not the service's: something else an operator keeps under the folder.
    let foreign = stored(&app, "backups/portal.dump");
    std::fs::create_dir_all(foreign.parent().unwrap()).unwrap();
    std::fs::write(&foreign, b"dump").unwrap();
    age(&foreign, Duration::from_secs(7200));
    let staged = stored(&app, ".staging/0f0e0d0c0b0a");
    std::fs::write(&staged, b"half an upl").unwrap();
    age(&staged, Duration::from_secs(7200));

    let storage = Storage::local(app.uploads.path()).unwrap();
    let swept = housekeeping::sweep(&app.db, &storage, Duration::from_secs(3600), time::now()).await.unwrap();
    let mut removed = swept.removed.clone();
    removed.sort();
    assert_eq!(removed, vec![".staging/0f0e0d0c0b0a".to_owned(), location(old_orphan)]);
    assert_eq!(swept.young_orphans, 1);
    assert_eq!(swept.missing, vec![MissingFile { attachment_id: keys[1].0, storage_key: keys[1].1.clone() }]);
    assert!(!stored(&app, &location(old_orphan)).exists() && !staged.exists());
    assert!(stored(&app, &location(young_orphan)).exists());
    assert!(foreign.exists(), "what the service did not write is never swept");
    let kept = format!("/api/v1/applications/{id}/attachments/{}", keys[0].0);
    assert_eq!(app.get(&kept, token.as_str()).await.expect(200).bytes(), PDF, "the referenced file stays whole");

    // By hand, as an operator: the young orphan an hour later is gone, the missing file is reported again.
    age(&stored(&app, &location(young_orphan)), Duration::from_secs(2 * 3600));
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_portal"))
        .args(["storage", "sweep"])
        .env("APP_ENV", "test")
        .env("APP_DATABASE__URL", app.database_url())
        .env("APP_STORAGE__UPLOAD_DIR", app.uploads.path())
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let printed: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(printed["removed"], json!([location(young_orphan)]));
    assert_eq!(printed["missing"], json!([{ "attachment_id": keys[1].0, "storage_key": keys[1].1 }]));
    assert!(!stored(&app, &location(young_orphan)).exists());
}
