//! `spawn_app()`: the real service on a random port with a database of its own, SQLite by default and
//! PostgreSQL when `TEST_POSTGRES_URL` is set (a fresh database per test, dropped afterwards).

use std::sync::Once;

use diesel::{Connection, PgConnection, RunQueryDsl};
use portal::config::Settings;
use portal::db::{Db, users};
use portal::domain::role::{Role, UserStatus};
use portal::domain::time;
use portal::startup::Application;
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;

pub const PASSWORD: &str = "correct horse battery staple";

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub settings: Settings,
    pub db: Db,
    pub database: TestDatabase,
}

/// The database a test owns; dropping it removes it.
pub enum TestDatabase {
    Sqlite(tempfile::TempDir),
    Postgres { admin_url: String, name: String },
}

impl TestDatabase {
    /// A new, empty database and the URL to reach it.
    pub fn create() -> (Self, String) {
        if let Ok(admin_url) = std::env::var("TEST_POSTGRES_URL") {
            let name = format!("portal_test_{}", uuid::Uuid::new_v4().simple());
            let mut admin = PgConnection::establish(&admin_url).expect("TEST_POSTGRES_URL does not answer");
            diesel::sql_query(format!("CREATE DATABASE {name}")).execute(&mut admin).unwrap();
            let url = with_database(&admin_url, &name);
            (Self::Postgres { admin_url, name }, url)
        } else {
            let dir = tempfile::tempdir().unwrap();
            let url = format!("sqlite://{}", dir.path().join("portal.db").display());
            (Self::Sqlite(dir), url)
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Self::Postgres { admin_url, name } = self
            && let Ok(mut admin) = PgConnection::establish(admin_url)
        {
            let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&mut admin);
        }
    }
}

/// `url` with its database name replaced by `name`.
pub fn with_database(url: &str, name: &str) -> String {
    let mut parsed = url::Url::parse(url).expect("TEST_POSTGRES_URL is a URL");
    parsed.set_path(&format!("/{name}"));
    parsed.to_string()
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

pub async fn spawn_app_with(customize: impl FnOnce(&mut Settings)) -> TestApp {
    static TELEMETRY: Once = Once::new();
    let mut settings = Settings::for_tests().unwrap();
    TELEMETRY.call_once(|| {
        if std::env::var("TEST_LOG").is_ok() {
            settings.log.filter = "info".into();
        }
        portal::telemetry::init(&settings.log).unwrap();
    });
    let (database, url) = TestDatabase::create();
    settings.database.url = SecretString::from(url);
    customize(&mut settings);

    let app = Application::build(settings.clone()).await.expect("the app builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    let db = Db::new(&settings.database).unwrap();
    TestApp {
        address,
        client: reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap(),
        settings,
        db,
        database,
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub fn database_url(&self) -> &str {
        self.settings.database.url.expose_secret()
    }

    /// An active, verified account with [`PASSWORD`], made directly in the database.
    pub async fn create_user(&self, role: Role, email: &str) -> i64 {
        let hash = portal::auth::password::Passwords::new(&self.settings.auth)
            .unwrap()
            .hash(SecretString::from(PASSWORD))
            .await
            .unwrap();
        let email = portal::domain::account::Email::parse("email", email).unwrap().as_str().to_owned();
        self.db
            .write(move |conn| {
                let now = time::now();
                let user = users::insert(
                    conn,
                    &users::NewUser {
                        email: &email,
                        password_hash: Some(&hash),
                        display_name: "测试用户",
                        role: role.as_str(),
                        status: UserStatus::Active.as_str(),
                        email_verified_at: Some(now),
                        company_id: None,
                        created_at: now,
                        updated_at: now,
                    },
                )?;
                Ok(user.id)
            })
            .await
            .unwrap()
    }

    pub async fn login(&self, email: &str, password: &str) -> reqwest::Response {
        self.client
            .post(self.url("/api/v1/auth/login"))
            .json(&serde_json::json!({ "email": email, "password": password }))
            .send()
            .await
            .unwrap()
    }

    /// An access token for a new staff account with `role`.
    pub async fn token_for(&self, role: Role) -> String {
        let email = format!("{}-{}@park.example", role.as_str(), uuid::Uuid::new_v4().simple());
        self.create_user(role, &email).await;
        let response = self.login(&email, PASSWORD).await;
        assert_eq!(response.status(), 200);
        let body: Value = response.json().await.unwrap();
        body["access_token"].as_str().unwrap().to_owned()
    }
}

/// Asserts the problem+json envelope and returns it.
pub async fn problem(response: reqwest::Response, status: u16, code: &str) -> Value {
    assert_eq!(response.status().as_u16(), status, "status");
    let content_type = response.headers()["content-type"].to_str().unwrap().to_owned();
    assert_eq!(content_type, "application/problem+json");
    let request_id = response.headers()["x-request-id"].to_str().unwrap().to_owned();
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], code, "{body}");
    assert_eq!(body["status"], status);
    assert_eq!(body["request_id"], request_id.as_str(), "the body names the request of the header");
    assert!(body["title"].as_str().is_some_and(|t| !t.is_empty()));
    assert!(body["detail"].as_str().is_some_and(|t| !t.is_empty()));
    body
}
