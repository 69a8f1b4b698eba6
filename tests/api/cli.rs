//! The `portal` command line, run as an operator would run it.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use diesel::{Connection, PgConnection, RunQueryDsl};
use portal::domain::role::Role;
use secrecy::SecretString;
use serde_json::Value;

use crate::helpers::{Auth, TestDatabase, problem, spawn_app, spawn_app_with};

fn portal(args: &[&str], database_url: &str, stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_portal"))
        .args(args)
        .env("APP_ENV", "test")
        .env("APP_DATABASE__URL", database_url)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

#[tokio::test]
async fn an_administrator_created_on_the_command_line_can_sign_in() {
    let app = spawn_app().await;
    let output =
        portal(&["create-admin", "--email", "Root@Park.Example"], app.database_url(), "a long admin passphrase\n");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(String::from_utf8_lossy(&output.stdout).contains("root@park.example"));

    let response = app.login("root@park.example", "a long admin passphrase").await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json();
    assert_eq!(body["user"]["role"], "admin");

    let again = portal(&["create-admin", "--email", "root@park.example"], app.database_url(), "another passphrase!\n");
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));
}

#[tokio::test]
async fn a_short_password_creates_no_account() {
    let app = spawn_app().await;
    let output = portal(&["create-admin", "--email", "root@park.example"], app.database_url(), "short\n");
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("at least 10 characters"));
    problem(app.login("root@park.example", "short").await, 401, "invalid_credentials").await;
}

#[test]
fn a_malformed_database_url_is_a_clear_error_and_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlit://{}", dir.path().join("portal.db").display());
    let output = portal(&["migrate"], &url, "");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("unsupported scheme `sqlit`"), "{stderr}");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "no file was created");
}

#[test]
fn migrate_applies_every_migration_once() {
    let (_database, url) = TestDatabase::create();
    let first = portal(&["migrate"], &url, "");
    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
    let second = portal(&["migrate"], &url, "");
    assert!(second.status.success(), "{}", String::from_utf8_lossy(&second.stderr));
}

#[test]
fn help_lists_the_commands() {
    let output = Command::new(env!("CARGO_BIN_EXE_portal")).arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&output.stdout);
    for command in ["serve", "migrate", "create-admin", "openapi"] {
        assert!(help.contains(command), "{help}");
    }
}

#[tokio::test]
async fn the_demo_programmes_are_published_once_and_readable_by_anyone() {
    let app = spawn_app().await;
    let mut said = Vec::new();
    for _ in 0..2 {
        let output = portal(&["seed-demo"], app.database_url(), "");
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        said.push(String::from_utf8_lossy(&output.stdout).into_owned());
    }
    assert!(said[0].contains("added 5 verified demo companies") && !said[1].contains("demo companies"), "{said:?}");
    let list: Value = app.get("/api/v1/programs?open=true", Auth::None).await.json();
    assert_eq!(list["total"], 4);
    let codes: Vec<&str> = list["items"].as_array().unwrap().iter().map(|p| p["code"].as_str().unwrap()).collect();
    for code in ["IC-2026", "BIO-2026", "HTE-2026", "PAT-2026"] {
        assert!(codes.contains(&code), "{codes:?}");
    }
    assert!(list["items"][0]["guide"]["policy_basis"].as_str().unwrap().contains('《'));
    // Staff find three example requests in their inbox, filed once.
    let reviewer = app.token_for(Role::Reviewer).await;
    let requests: Value = app.get("/api/v1/requests", &reviewer).await.expect(200).json();
    assert_eq!(requests["total"], 3, "{requests}");
    assert_eq!(requests["items"][0]["company"]["name"], "珠海示例微电子有限公司");
    assert!(requests["items"].as_array().unwrap().iter().all(|r| r["status"] == "open"));
    // The integrated-circuit programme's outreach ledger shows the two demo companies that qualify: one was
    // told, the other has started an application (and is not told of what it applies to).
    let ic = list["items"].as_array().unwrap().iter().find(|p| p["code"] == "IC-2026").unwrap()["id"].clone();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let ledger = loop {
        let ledger: Value = app.get(&format!("/api/v1/programs/{ic}/outreach"), &reviewer).await.expect(200).json();
        if ledger["notified"] == 1 || std::time::Instant::now() > deadline {
            break ledger;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    let names: Vec<&str> =
        ledger["items"].as_array().unwrap().iter().map(|i| i["company"]["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["珠海示例芯片设计有限公司", "珠海示例微纳电子有限公司"], "{ledger}");
    assert_eq!(["eligible", "notified", "applied"].map(|k| ledger[k].as_i64().unwrap()), [2, 1, 0], "{ledger}");
    assert_eq!(
        (ledger["items"][1]["applied"].as_bool(), ledger["items"][1]["status"].as_str()),
        (Some(false), None),
        "the company's draft is its own until submitted: {ledger}"
    );
}

/// A PostgreSQL login role without DDL rights, removed (with its grants) when dropped.
struct ServiceRole {
    name: String,
    owner_url: String,
    admin_url: String,
}

impl ServiceRole {
    fn create(owner_url: &str, admin_url: &str) -> Self {
        let name = format!("portal_app_{}", uuid::Uuid::new_v4().simple());
        let mut admin = PgConnection::establish(admin_url).unwrap();
        diesel::sql_query(format!("CREATE ROLE {name} LOGIN")).execute(&mut admin).unwrap();
        Self { name, owner_url: owner_url.to_owned(), admin_url: admin_url.to_owned() }
    }

    fn url(&self, database_url: &str) -> String {
        let mut url = url::Url::parse(database_url).unwrap();
        url.set_username(&self.name).unwrap();
        url.to_string()
    }
}

impl Drop for ServiceRole {
    fn drop(&mut self) {
        if let Ok(mut owner) = PgConnection::establish(&self.owner_url) {
            let _ = diesel::sql_query(format!("DROP OWNED BY {}", self.name)).execute(&mut owner);
        }
        if let Ok(mut admin) = PgConnection::establish(&self.admin_url) {
            let _ = diesel::sql_query(format!("DROP ROLE IF EXISTS {}", self.name)).execute(&mut admin);
        }
    }
}

#[tokio::test]
async fn the_service_runs_as_a_role_that_can_change_neither_the_schema_nor_the_audit_trail() {
    let (database, owner_url) = TestDatabase::create();
    let TestDatabase::Postgres { admin_url, .. } = &database else {
        let output = portal(&["migrate", "--grant-to", "portal_app"], &owner_url, "");
        assert!(!output.status.success());
        assert!(String::from_utf8_lossy(&output.stderr).contains("SQLite has no roles"));
        return;
    };
    let role = ServiceRole::create(&owner_url, admin_url);
    let service_url = role.url(&owner_url);

    // Before the owner has migrated, the service's role cannot start, and says who must act.
    let refused = portal(&["audit", "verify"], &service_url, "");
    assert!(!refused.status.success());
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(said.contains("`portal migrate` run first by the schema's owner"), "{said}");

    let migrated = portal(&["migrate", "--grant-to", &role.name], &owner_url, "");
    assert!(migrated.status.success(), "{}", String::from_utf8_lossy(&migrated.stderr));

    // As that role the service starts, people sign in and work, and every step is in the audit trail.
    let app = spawn_app_with(|s| s.database.url = SecretString::from(service_url.clone())).await;
    let (company, _) = app.signed_in_company("珠海角色测试科技有限公司").await;
    app.get("/api/v1/companies/me", &company).await.expect(200);
    let reviewer = app.token_for(Role::Reviewer).await;
    app.get("/api/v1/queues", &reviewer).await.expect(200);
    let verified = portal(&["audit", "verify"], &service_url, "");
    assert!(verified.status.success(), "{}", String::from_utf8_lossy(&verified.stderr));

    // It may not change the schema, rewrite the audit trail, or forge the migrations' bookkeeping.
    let mut service = PgConnection::establish(&service_url).unwrap();
    let events = |conn: &mut PgConnection| {
        diesel::sql_query("SELECT COUNT(*) AS n FROM audit_events").get_result::<Count>(conn).unwrap().n
    };
    let before = events(&mut service);
    assert!(before > 0);
    for (statement, refusal) in [
        ("DROP TRIGGER audit_events_no_update ON audit_events", "must be owner"),
        ("ALTER TABLE audit_events DISABLE TRIGGER ALL", "must be owner"),
        ("CREATE TABLE intruder (id INTEGER)", "permission denied"),
        ("DELETE FROM audit_events", "permission denied"),
        ("UPDATE audit_events SET summary = '{}'", "permission denied"),
        ("INSERT INTO __diesel_schema_migrations (version) VALUES ('99999999999999')", "permission denied"),
    ] {
        let error = diesel::sql_query(statement).execute(&mut service).unwrap_err().to_string();
        assert!(error.contains(refusal), "{statement}: {error}");
    }
    assert_eq!(events(&mut service), before);
}

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}
