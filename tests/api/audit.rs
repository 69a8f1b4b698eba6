//! The audit trail records who did what, cannot be edited, and any tampering is found at its exact event.

use std::process::Command;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use portal::db::DbConnection;
use portal::db::schema::{audit_events, audit_head};
use portal::domain::audit::{CanonicalEvent, Seal};
use portal::domain::role::Role;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};

use crate::helpers::{Auth, COMPANY_PASSWORD, PASSWORD, TestApp, problem, spawn_app, spawn_app_with};

/// Registration, verification, sign-ins (one failed), a profile change, a staff invitation and a
/// company verification: a little of everything that writes an event.
async fn a_busy_morning(app: &TestApp) -> String {
    let admin = app.token_for(Role::Admin).await;
    let (company, company_id) = app.signed_in_company("甲公司").await;
    app.patch("/api/v1/companies/me", &company, &json!({ "park_zone": "海岸" })).await;
    app.login("admin-nobody@park.example", "wrong password here").await;
    app.post(
        "/api/v1/users",
        &admin,
        &json!({ "email": "r@park.example", "display_name": "审核员", "role": "reviewer" }),
    )
    .await;
    let verification = format!("/api/v1/companies/{company_id}/verification");
    app.post(&verification, &admin, &json!({ "decision": "verified" })).await;
    admin
}

async fn verification(app: &TestApp, admin: &str) -> Value {
    app.get("/api/v1/audit-events/verify", admin).await.json()
}

/// Lifts the database's refusal to change or delete events, as someone with direct access could.
fn allow_tampering(conn: &mut DbConnection) {
    let sql = match conn {
        DbConnection::Sqlite(_) => "DROP TRIGGER audit_events_no_update; DROP TRIGGER audit_events_no_delete;",
        DbConnection::Postgres(_) => "ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update;",
    };
    conn.batch_execute(sql).unwrap();
}

#[tokio::test]
async fn the_chain_verifies_after_a_mix_of_operations_and_names_the_tampered_event() {
    let app = spawn_app().await;
    let admin = a_busy_morning(&app).await;
    let intact = verification(&app, &admin).await;
    let checked = intact["checked"].as_i64().unwrap();
    assert_eq!(intact, json!({ "valid": true, "checked": checked, "first_invalid_seq": null }));

    let events: Value = app.get("/api/v1/audit-events?per_page=100", &admin).await.json();
    let actions: Vec<&str> =
        events["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(
        actions,
        [
            "company.verification",
            "user.create",
            "auth.login_failed",
            "company.update",
            "auth.login",
            "user.verify_email",
            "company.register",
            "auth.login",
            "audit.chain_keyed",
        ],
        "newest first, from the event that keyed the chain at the first start"
    );
    assert_eq!(usize::try_from(checked).unwrap(), actions.len(), "every event is checked");
    let text = events.to_string();
    for secret in [PASSWORD, COMPANY_PASSWORD, "wrong password here", "$argon2id"] {
        assert!(!text.contains(secret), "the trail holds `{secret}`");
    }

    let target = checked / 2;
    let mut conn = app.db.connection().unwrap();
    allow_tampering(&mut conn);
    diesel::update(audit_events::table.find(target))
        .set(audit_events::summary.eq("{\"decision\":\"verified\"}"))
        .execute(&mut *conn)
        .unwrap();
    let broken = verification(&app, &admin).await;
    assert_eq!(broken, json!({ "valid": false, "checked": target - 1, "first_invalid_seq": target }));

    let cli = Command::new(env!("CARGO_BIN_EXE_portal"))
        .args(["audit", "verify"])
        .env("APP_ENV", "test")
        .env("APP_DATABASE__URL", app.database_url())
        .output()
        .unwrap();
    assert!(!cli.status.success());
    assert!(String::from_utf8_lossy(&cli.stderr).contains(&format!("broken at event {target}")));
}

#[tokio::test]
async fn events_cannot_be_edited_or_deleted_in_the_database() {
    let app = spawn_app().await;
    a_busy_morning(&app).await;
    let mut conn = app.db.connection().unwrap();
    let edit = diesel::update(audit_events::table.find(1)).set(audit_events::action.eq("nothing")).execute(&mut *conn);
    assert!(edit.is_err(), "an update went through");
    let delete = diesel::delete(audit_events::table.find(1)).execute(&mut *conn);
    assert!(delete.is_err(), "a delete went through");
}

/// An event's stored fields, as someone editing the table reads them.
type StoredEvent =
    (chrono::NaiveDateTime, Option<i64>, Option<String>, String, String, Option<i64>, Option<String>, String);

#[tokio::test]
async fn an_event_rewritten_with_a_recomputed_hash_is_found_without_the_chain_key() {
    let app = spawn_app().await;
    let admin = a_busy_morning(&app).await;
    let last = verification(&app, &admin).await["checked"].as_i64().unwrap();
    let mut conn = app.db.connection().unwrap();
    allow_tampering(&mut conn);
    let (occurred_at, actor_id, actor_role, action, object_type, object_id, request_id, prev_hash): StoredEvent =
        audit_events::table
            .find(last)
            .select((
                audit_events::occurred_at,
                audit_events::actor_id,
                audit_events::actor_role,
                audit_events::action,
                audit_events::object_type,
                audit_events::object_id,
                audit_events::request_id,
                audit_events::prev_hash,
            ))
            .first(&mut *conn)
            .unwrap();
    let forged_summary = "{\"decision\":\"rejected\"}";
    let forged = CanonicalEvent {
        seq: last,
        occurred_at,
        actor_id,
        actor_role: actor_role.as_deref(),
        action: &action,
        object_type: &object_type,
        object_id,
        summary: forged_summary,
        request_id: request_id.as_deref(),
    }
    .chain_hash(&prev_hash, Seal::Plain);
    diesel::update(audit_events::table.find(last))
        .set((audit_events::summary.eq(forged_summary), audit_events::hash.eq(&forged)))
        .execute(&mut *conn)
        .unwrap();
    diesel::update(audit_head::table.find(1)).set(audit_head::hash.eq(&forged)).execute(&mut *conn).unwrap();
    let result = verification(&app, &admin).await;
    assert_eq!(result["first_invalid_seq"], last, "a plain SHA-256 no longer passes for a keyed event: {result}");
}

#[tokio::test]
async fn a_chain_begun_without_a_key_keeps_verifying_once_a_key_is_set() {
    let app = spawn_app_with(|s| s.audit.chain_key = SecretString::from("")).await;
    let admin = a_busy_morning(&app).await;
    let plain = verification(&app, &admin).await["checked"].as_i64().unwrap();
    let key = app.settings.audit.chain_key.clone();
    let test_key = portal::config::Settings::for_tests().unwrap().audit.chain_key;
    assert_eq!(key.expose_secret(), "", "this app started without a key");

    let (keyed, _) = app.another_instance_with(|s| s.audit.chain_key = test_key).await;
    let guess = json!({ "email": "nobody@park.example", "password": "a keyed guess" });
    app.on(&keyed).post("/api/v1/auth/login", Auth::None, &guess).await.expect(401);
    let result: Value = app.on(&keyed).get("/api/v1/audit-events/verify", &admin).await.json();
    assert_eq!(result, json!({ "valid": true, "checked": plain + 2, "first_invalid_seq": null }));
    let events: Value = app.on(&keyed).get("/api/v1/audit-events?per_page=2", &admin).await.json();
    assert_eq!(events["items"][1]["action"], "audit.chain_keyed");
}

#[tokio::test]
async fn a_missing_event_is_found_too() {
    let app = spawn_app().await;
    let admin = a_busy_morning(&app).await;
    let checked = verification(&app, &admin).await["checked"].as_i64().unwrap();
    let mut conn = app.db.connection().unwrap();
    allow_tampering(&mut conn);
    diesel::delete(audit_events::table.find(checked)).execute(&mut *conn).unwrap();
    let result = verification(&app, &admin).await;
    assert_eq!(result["first_invalid_seq"], checked, "{result}");
}

#[tokio::test]
async fn the_audit_list_filters_by_object_actor_and_action() {
    let app = spawn_app().await;
    let admin = a_busy_morning(&app).await;
    let logins: Value = app.get("/api/v1/audit-events?action=auth.login", &admin).await.json();
    assert_eq!(logins["total"], 2, "the admin's and the company's");
    let first = &logins["items"][0];
    let by_actor: Value = app.get(&format!("/api/v1/audit-events?actor_id={}", first["actor_id"]), &admin).await.json();
    assert!(by_actor["items"].as_array().unwrap().iter().all(|e| e["actor_id"] == first["actor_id"]));
    let company: Value = app.get("/api/v1/audit-events?object_type=company", &admin).await.json();
    assert!(company["items"].as_array().unwrap().iter().all(|e| e["object_type"] == "company"));
    assert!(first["request_id"].as_str().is_some_and(|id| !id.is_empty()));
    problem(app.get("/api/v1/audit-events?page=0", &admin).await, 422, "validation_failed").await;
}

#[tokio::test]
async fn audit_events_carry_the_services_request_id_not_the_one_a_client_chose() {
    let app = spawn_app().await;
    let admin = app.token_for(Role::Admin).await;
    let body = json!({ "email": "nobody@park.example", "password": "a wrong password" });
    let refused =
        app.post("/api/v1/auth/login", Auth::None, &body).header("x-request-id", "someone-elses-request").await;
    let ours = refused.header("x-request-id").to_owned();
    let events: Value = app.get("/api/v1/audit-events?action=auth.login_failed", &admin).await.json();
    assert_eq!(events["items"][0]["request_id"], ours);
}
