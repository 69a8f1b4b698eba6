//! `spawn_app()`: the real service on a random port with a database of its own, SQLite by default and
//! PostgreSQL when `TEST_POSTGRES_URL` is set (a fresh database per test, dropped afterwards).

use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::sync::Once;
use std::time::{Duration, Instant};

use diesel::{Connection, PgConnection, RunQueryDsl};
use portal::config::Settings;
use portal::db::{Db, users};
use portal::domain::credit_code::CreditCode;
use portal::domain::role::{Role, UserStatus};
use portal::domain::time;
use portal::email::{Mailbox, SentMail};
use portal::startup::Application;
use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};

pub const PASSWORD: &str = "correct horse battery staple";
pub const COMPANY_PASSWORD: &str = "violet-ledger-harbour-42";

/// A registration body that passes every check.
pub fn registration(credit_code: &str, name: &str, email: &str) -> Value {
    serde_json::json!({
        "company": {
            "credit_code": credit_code,
            "name": name,
            "legal_representative": "张伟",
            "industry": "integrated_circuit",
            "park_zone": "唐家湾主园区",
            "established_on": "2019-05-20",
            "registered_capital_fen": 1_000_000_000,
            "address": "珠海市高新区唐家湾镇科技六路 1 号",
            "contact_phone": "0756-3612345",
        },
        "account": { "email": email, "password": COMPANY_PASSWORD, "display_name": "王芳" },
    })
}

/// A valid credit code no other test uses.
pub fn unique_credit_code() -> String {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
    let random = uuid::Uuid::new_v4().as_u128();
    let body: String = (0..9).map(|i| char::from(ALPHABET[((random >> (i * 5)) % 31) as usize])).collect();
    CreditCode::complete(&format!("91440400{body}")).unwrap().as_str().to_owned()
}

/// The token in the link of an email.
pub fn link_token(body: &str) -> String {
    let start = body.find("token=").expect("a link with a token") + "token=".len();
    body[start..].chars().take_while(char::is_ascii_alphanumeric).collect()
}

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub settings: Settings,
    pub db: Db,
    pub database: TestDatabase,
    /// What the app sent, when the memory mail transport is configured (the test default).
    pub mailbox: Option<Mailbox>,
    /// The app's upload folder, removed with the test.
    pub uploads: tempfile::TempDir,
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

/// The S3-compatible server the storage tests use (`SeaweedFS` in CI, which checks request signatures):
/// `TEST_S3_ENDPOINT`, with `TEST_S3_BUCKET`, `TEST_S3_ACCESS_KEY_ID` and `TEST_S3_SECRET_ACCESS_KEY` (the
/// defaults are what `.ci/run` starts it with). Without it a test that needs it is skipped on a laptop, and
/// fails in CI (`CI` set), so a missing server never passes there silently.
pub fn s3_settings() -> Option<portal::config::StorageSettings> {
    let Ok(endpoint) = std::env::var("TEST_S3_ENDPOINT") else {
        assert!(std::env::var("CI").is_err(), "CI runs the S3 tests: set TEST_S3_ENDPOINT (see .ci/run)");
        eprintln!("TEST_S3_ENDPOINT is not set: skipping a test that needs an S3-compatible server");
        return None;
    };
    let var = |name: &str, default: &str| std::env::var(name).unwrap_or_else(|_| default.to_owned());
    let mut storage = Settings::for_tests().unwrap().storage;
    storage.backend = portal::config::StorageBackend::S3;
    storage.s3_endpoint = endpoint;
    storage.s3_bucket = var("TEST_S3_BUCKET", "portal-test");
    storage.s3_access_key_id = var("TEST_S3_ACCESS_KEY_ID", "portal-test-key");
    storage.s3_secret_access_key = SecretString::from(var("TEST_S3_SECRET_ACCESS_KEY", "portal-test-secret"));
    Some(storage)
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
    let uploads = tempfile::tempdir().unwrap();
    settings.storage.upload_dir = uploads.path().display().to_string();
    customize(&mut settings);

    let (address, mailbox) = start(&settings).await;
    let keys = portal::crypto::Keyring::from_settings(&settings.crypto).unwrap();
    let db = Db::new(&settings.database).unwrap().sealing_with(keys);
    TestApp {
        address,
        client: reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap(),
        settings,
        db,
        database,
        mailbox,
        uploads,
    }
}

async fn start(settings: &Settings) -> (String, Option<Mailbox>) {
    let app = Application::build(settings.clone()).await.expect("the app builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    let mailbox = app.mailbox();
    tokio::spawn(app.run_until_stopped());
    (address, mailbox)
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// A client of another instance of the service (see [`TestApp::another_instance`]).
    pub fn on(&self, address: &str) -> Client {
        Client { http: self.client.clone(), base: address.to_owned() }
    }

    /// A client of this instance.
    pub fn api(&self) -> Client {
        self.on(&self.address)
    }

    pub fn request<'a>(&self, method: Method, path: &str, auth: impl Into<Auth<'a>>) -> Call {
        self.api().request(method, path, auth)
    }

    pub fn get<'a>(&self, path: &str, auth: impl Into<Auth<'a>>) -> Call {
        self.api().get(path, auth)
    }

    pub fn delete<'a>(&self, path: &str, auth: impl Into<Auth<'a>>) -> Call {
        self.api().delete(path, auth)
    }

    pub fn post<'a>(&self, path: &str, auth: impl Into<Auth<'a>>, body: &Value) -> Call {
        self.api().post(path, auth, body)
    }

    pub fn put<'a>(&self, path: &str, auth: impl Into<Auth<'a>>, body: &Value) -> Call {
        self.api().put(path, auth, body)
    }

    pub fn patch<'a>(&self, path: &str, auth: impl Into<Auth<'a>>, body: &Value) -> Call {
        self.api().patch(path, auth, body)
    }

    /// A second app instance on the same database, as after a restart or behind a load balancer.
    pub async fn another_instance(&self) -> (String, Option<Mailbox>) {
        start(&self.settings).await
    }

    /// Another instance on the same database, started with changed settings (as after a reconfiguration).
    pub async fn another_instance_with(&self, customize: impl FnOnce(&mut Settings)) -> (String, Option<Mailbox>) {
        let mut settings = self.settings.clone();
        customize(&mut settings);
        start(&settings).await
    }

    /// Waits until `to` has received `count` messages and returns them; more than `count` fails.
    pub async fn mail_to(&self, to: &str, count: usize) -> Vec<SentMail> {
        let mailbox = self.mailbox.as_ref().expect("the memory mail transport");
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let received = mailbox.to(to);
            if received.len() >= count {
                let subjects: Vec<&str> = received.iter().map(|m| m.subject.as_str()).collect();
                assert_eq!(received.len(), count, "{to} received more than expected: {subjects:?}");
                return received;
            }
            assert!(Instant::now() < deadline, "{to} received {} of {count} messages", received.len());
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Registers a company with valid details and answers `(company id, account email)`.
    pub async fn register_company(&self, name: &str) -> (i64, String) {
        let email = format!("{}@company.example", uuid::Uuid::new_v4().simple());
        let body = self
            .post("/api/v1/auth/register", Auth::None, &registration(&unique_credit_code(), name, &email))
            .await
            .expect(201)
            .json();
        (body["company"]["id"].as_i64().unwrap(), email)
    }

    /// A verified company with figures for last year and a bank account finance has confirmed (so it can be
    /// paid), made directly in the database, and its signed-in account: `(access token, company id)`. For
    /// tests that need many companies at once. It has turned the announcements of new programmes off, so the
    /// outreach job never adds to the mail a test counts; the outreach tests turn them on.
    pub async fn eligible_company(&self, name: &str) -> (String, i64) {
        let email = format!("{}@company.example", uuid::Uuid::new_v4().simple());
        let hash = portal::auth::password::Passwords::new(&self.settings.auth)
            .unwrap()
            .hash(SecretString::from(COMPANY_PASSWORD))
            .await
            .unwrap();
        let (name, address, keys) = (name.to_owned(), email.clone(), self.db.keys());
        let company_id = self
            .db
            .write(move |conn| {
                let now = time::now();
                let code = unique_credit_code();
                let company = portal::db::companies::insert(
                    conn,
                    &portal::db::companies::NewCompany {
                        credit_code: &code,
                        name: &name,
                        legal_representative: "张伟",
                        industry: "integrated_circuit",
                        park_zone: "唐家湾主园区",
                        established_on: chrono::NaiveDate::from_ymd_opt(2019, 5, 20).unwrap(),
                        registered_capital_fen: 1_000_000_000,
                        address: "珠海市高新区",
                        contact_phone: "0756-3612345",
                        created_at: now,
                        updated_at: now,
                    },
                )?;
                portal::db::companies::set_verification(conn, company.id, "verified", "", now)?;
                let quiet =
                    portal::db::companies::ProfileChanges { notify_new_programs: Some(false), ..Default::default() };
                portal::db::companies::update_profile(conn, company.id, &quiet)?;
                confirmed_bank_account(conn, &keys, company.id, &name, now)?;
                let year = chrono::Datelike::year(&time::today(chrono::FixedOffset::east_opt(8 * 3600).unwrap())) - 1;
                portal::db::companies::put_financials(
                    conn,
                    &portal::db::companies::FinancialsRow {
                        company_id: company.id,
                        year,
                        revenue_fen: 4_000_000_000,
                        rd_expense_fen: 240_000_000,
                        employee_count: 80,
                        rd_staff_count: 20,
                        updated_at: now,
                    },
                )?;
                users::insert(
                    conn,
                    &users::NewUser {
                        email: &address,
                        password_hash: Some(&hash),
                        display_name: "王芳",
                        role: Role::Applicant.as_str(),
                        status: UserStatus::Active.as_str(),
                        email_verified_at: Some(now),
                        company_id: Some(company.id),
                        created_at: now,
                        updated_at: now,
                    },
                )?;
                Ok::<_, portal::db::Error>(company.id)
            })
            .await
            .unwrap();
        let body: Value = self.login(&email, COMPANY_PASSWORD).await.expect(200).json();
        (body["access_token"].as_str().unwrap().to_owned(), company_id)
    }

    /// A registered company whose account has verified its email and signed in: `(access token, company id)`.
    pub async fn signed_in_company(&self, name: &str) -> (String, i64) {
        let (company_id, email) = self.register_company(name).await;
        let mail = self.mail_to(&email, 1).await;
        let token = link_token(&mail[0].body);
        self.post("/api/v1/auth/verify-email", Auth::None, &json!({ "token": token })).await.expect(204);
        let body: Value = self.login(&email, COMPANY_PASSWORD).await.expect(200).json();
        (body["access_token"].as_str().unwrap().to_owned(), company_id)
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
                let user = users::insert(conn, &users::NewUser::active_staff(&email, &hash, "测试用户", role, now))?;
                Ok::<_, portal::db::Error>(user.id)
            })
            .await
            .unwrap()
    }

    pub async fn login(&self, email: &str, password: &str) -> Answer {
        self.post("/api/v1/auth/login", Auth::None, &json!({ "email": email, "password": password })).await
    }

    /// An access token for a new staff account with `role`.
    pub async fn token_for(&self, role: Role) -> String {
        let email = format!("{}-{}@park.example", role.as_str(), uuid::Uuid::new_v4().simple());
        self.create_user(role, &email).await;
        let body = self.login(&email, PASSWORD).await.expect(200).json();
        body["access_token"].as_str().unwrap().to_owned()
    }
}

/// Gives the company a bank account, confirmed as finance would confirm it.
fn confirmed_bank_account(
    conn: &mut portal::db::DbConnection,
    keys: &portal::crypto::Keyring,
    company_id: i64,
    name: &str,
    now: chrono::NaiveDateTime,
) -> Result<(), portal::db::Error> {
    use diesel::{ExpressionMethods, QueryDsl};
    use portal::db::schema::{companies, company_bank_accounts};

    let account = portal::db::companies::NewBankAccount {
        company_id,
        bank_name: "中国银行珠海分行".into(),
        account_name: name.to_owned(),
        account_no: "6222021234567890".into(),
        updated_at: now,
    };
    portal::db::companies::put_bank_account(conn, keys, &account)?;
    diesel::update(company_bank_accounts::table.find(company_id))
        .set(company_bank_accounts::confirmed_at.eq(now))
        .execute(conn)
        .map_err(portal::db::Error::from)?;
    diesel::update(companies::table.find(company_id))
        .set(companies::bank_account_status.eq("confirmed"))
        .execute(conn)
        .map_err(portal::db::Error::from)?;
    Ok(())
}

/// Asserts the problem+json envelope and returns it; [`Answer::problem`] for callers that hold a reference.
#[expect(clippy::needless_pass_by_value, reason = "callers pass the answer they have just awaited")]
pub fn problem(response: Answer, status: u16, code: &str) -> std::future::Ready<Value> {
    std::future::ready(response.problem(status, code))
}

/// A programme that passes every check, open from an hour ago for thirty days.
pub fn program_body(code: &str) -> Value {
    let now = chrono::Utc::now();
    serde_json::json!({
        "code": code,
        "title": "2026年度集成电路产业发展专项资金",
        "category": "integrated_circuit",
        "summary": "支持园区集成电路设计、制造和封测企业的研发投入。",
        "guide": {
            "beneficiaries": "在园区注册、从事集成电路业务的企业",
            "conditions": "注册满一年，研发投入占比不低于 5%",
            "award_standard": "按研发投入的 10% 给予支持，最高 500 万元",
            "deadline_note": "申报截止后不再受理",
            "contact_phone": "0756-3612345",
            "consulting_address": "高新区科技产业局 302 室",
            "policy_basis": "《高新区促进集成电路产业发展若干措施》"
        },
        "opens_at": (now - chrono::Duration::hours(1)).to_rfc3339(),
        "closes_at": (now + chrono::Duration::days(30)).to_rfc3339(),
        "budget_fen": 5_000_000_000_i64,
        "max_award_fen": 500_000_000,
        "public_notice_days": 5,
        "payment_due_days": 60,
        "min_expert_reviews": 2,
        "eligibility_rules": [
            { "type": "company_verified" },
            { "type": "industry_in", "values": ["integrated_circuit"] },
            { "type": "min_years_established", "years": 1 }
        ],
        "required_materials": [
            { "key": "business_license", "name": "营业执照", "required": true, "accepted_types": ["pdf", "jpg", "png"], "max_size_bytes": 1_048_576 },
            { "key": "audit_report", "name": "上年度审计报告", "required": false, "accepted_types": ["pdf"] }
        ],
        "form_fields": [
            { "key": "project_name", "label": "项目名称", "type": "text", "required": true, "max_length": 100 },
            { "key": "rd_budget_fen", "label": "研发预算", "type": "money_fen", "required": true, "min": 1 },
            { "key": "stage", "label": "所处阶段", "type": "select", "required": false, "options": ["研发", "试产", "量产"] }
        ]
    })
}

impl TestApp {
    /// Creates and publishes a programme from `body`; answers its id.
    pub async fn publish_program(&self, admin: &str, body: &Value) -> i64 {
        let id = self.post("/api/v1/programs", admin, body).await.expect(201).json()["id"].as_i64().unwrap();
        self.post(&format!("/api/v1/programs/{id}/publish"), admin, &json!({})).await.expect(200);
        id
    }
}

// The review workflow, for tests that need an application at some stage.

/// A programme without required materials or experts to wait for, unless a test asks.
pub fn quick_program(code: &str, notice_days: u32, min_reviews: u32) -> Value {
    let mut body = program_body(code);
    body["required_materials"] = json!([]);
    body["public_notice_days"] = json!(notice_days);
    body["min_expert_reviews"] = json!(min_reviews);
    body
}

pub struct Case {
    pub company: String,
    pub company_email: String,
    pub id: i64,
}

/// A submitted application of a new eligible company.
pub async fn submitted(app: &TestApp, program: i64, name: &str) -> Case {
    let (company, _) = app.eligible_company(name).await;
    let body = json!({ "program_id": program, "requested_amount_fen": 300_000_000, "form_data": { "project_name": "项目", "rd_budget_fen": 1 } });
    let draft = app.post("/api/v1/applications", &company, &body).await.expect(201).json();
    let id = draft["id"].as_i64().unwrap();
    act(app, &company, id, json!({ "action": "submit", "version": draft["version"] })).await.expect(200);
    let me = app.get("/api/v1/me", &company).await.json();
    Case { company, company_email: me["email"].as_str().unwrap().to_owned(), id }
}

pub async fn act(app: &TestApp, token: &str, id: i64, body: Value) -> Answer {
    app.post(&format!("/api/v1/applications/{id}/actions"), token, &body).await
}

/// The application as `token` sees it.
pub async fn application(app: &TestApp, token: &str, id: i64) -> Value {
    app.get(&format!("/api/v1/applications/{id}"), token).await.expect(200).json()
}

/// A small valid PDF.
pub const PDF: &[u8] = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n";

/// Uploads `bytes` as material `key` of application `id`, named `name` and claimed to be of type `claimed`.
pub async fn upload(app: &TestApp, token: &str, id: i64, key: &str, name: &str, bytes: &[u8], claimed: &str) -> Answer {
    let form = reqwest::multipart::Form::new().text("material_key", key.to_owned()).part(
        "file",
        reqwest::multipart::Part::bytes(bytes.to_vec()).file_name(name.to_owned()).mime_str(claimed).unwrap(),
    );
    app.request(Method::POST, &format!("/api/v1/applications/{id}/attachments"), token).multipart(form).await
}

pub async fn version(app: &TestApp, token: &str, id: i64) -> Value {
    application(app, token, id).await["version"].clone()
}

/// Takes `action` with the current version and expects 200; answers the application.
pub async fn step(app: &TestApp, token: &str, id: i64, mut body: Value) -> Value {
    body["version"] = version(app, token, id).await;
    let response = act(app, token, id, body.clone()).await;
    assert_eq!(response.status(), 200, "{body}: {}", response.text());
    response.json()
}

pub async fn expert(app: &TestApp, email: &str) -> (i64, String) {
    let id = app.create_user(Role::Expert, email).await;
    let body = app.login(email, PASSWORD).await.expect(200).json();
    (id, body["access_token"].as_str().unwrap().to_owned())
}

/// An application approved for `amount_fen` (no notice period, no scores to wait for): its case.
pub async fn approved(app: &TestApp, reviewer: &str, program: i64, name: &str, amount_fen: i64) -> Case {
    let case = submitted(app, program, name).await;
    let (expert_id, _) = expert(app, &format!("{}@expert.example", uuid::Uuid::new_v4().simple())).await;
    step(app, reviewer, case.id, json!({ "action": "accept", "expert_ids": [expert_id] })).await;
    step(app, reviewer, case.id, json!({ "action": "propose", "approved_amount_fen": amount_fen })).await;
    let done = step(app, reviewer, case.id, json!({ "action": "approve" })).await;
    assert_eq!(done["status"], "approved");
    case
}

// The one HTTP client of the tests: every request goes through `Client` (or the `TestApp` methods that use it).

/// How a request identifies its caller.
#[derive(Clone, Copy, Debug)]
pub enum Auth<'a> {
    /// No `Authorization` header.
    None,
    /// `Authorization: Bearer <token>`.
    Bearer(&'a str),
    /// The `Authorization` header exactly as given (`Basic ...`, a malformed bearer).
    Header(&'a str),
}

impl<'a> From<&'a str> for Auth<'a> {
    fn from(token: &'a str) -> Self {
        Self::Bearer(token)
    }
}

impl<'a> From<&'a String> for Auth<'a> {
    fn from(token: &'a String) -> Self {
        Self::Bearer(token)
    }
}

/// Requests to one instance of the service.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    base: String,
}

impl Client {
    pub fn request<'a>(&self, method: Method, path: &str, auth: impl Into<Auth<'a>>) -> Call {
        let request = self.http.request(method, format!("{}{path}", self.base));
        let request = match auth.into() {
            Auth::None => request,
            Auth::Bearer(token) => request.bearer_auth(token),
            Auth::Header(value) => request.header(reqwest::header::AUTHORIZATION, value),
        };
        Call(request)
    }

    pub fn get<'a>(&self, path: &str, auth: impl Into<Auth<'a>>) -> Call {
        self.request(Method::GET, path, auth)
    }

    pub fn delete<'a>(&self, path: &str, auth: impl Into<Auth<'a>>) -> Call {
        self.request(Method::DELETE, path, auth)
    }

    pub fn post<'a>(&self, path: &str, auth: impl Into<Auth<'a>>, body: &Value) -> Call {
        self.request(Method::POST, path, auth).json(body)
    }

    pub fn put<'a>(&self, path: &str, auth: impl Into<Auth<'a>>, body: &Value) -> Call {
        self.request(Method::PUT, path, auth).json(body)
    }

    pub fn patch<'a>(&self, path: &str, auth: impl Into<Auth<'a>>, body: &Value) -> Call {
        self.request(Method::PATCH, path, auth).json(body)
    }
}

/// A request being built; awaiting it sends it and reads the whole answer.
#[must_use = "a call does nothing until it is awaited"]
pub struct Call(reqwest::RequestBuilder);

impl Call {
    pub fn header(self, name: &str, value: &str) -> Self {
        Self(self.0.header(name, value))
    }

    pub fn json(self, body: &Value) -> Self {
        Self(self.0.json(body))
    }

    /// A body sent as it is, with its content type.
    pub fn body(self, content_type: &str, body: impl Into<reqwest::Body>) -> Self {
        Self(self.0.header(reqwest::header::CONTENT_TYPE, content_type).body(body))
    }

    pub fn multipart(self, form: reqwest::multipart::Form) -> Self {
        Self(self.0.multipart(form))
    }

    /// The answer, or `None` when the service refused or dropped the connection (a stopping instance).
    pub async fn try_send(self) -> Option<Answer> {
        let response = self.0.send().await.ok()?;
        let (status, headers) = (response.status(), response.headers().clone());
        let body = response.bytes().await.ok()?.to_vec();
        Some(Answer { status, headers, body })
    }

    pub async fn send(self) -> Answer {
        let response = self.0.send().await.expect("the service answers");
        let (status, headers) = (response.status(), response.headers().clone());
        let body = response.bytes().await.expect("the whole body").to_vec();
        Answer { status, headers, body }
    }
}

impl IntoFuture for Call {
    type Output = Answer;
    type IntoFuture = Pin<Box<dyn Future<Output = Answer> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.send())
    }
}

/// A response read in full: its status, headers and body.
#[derive(Debug)]
pub struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Answer {
    pub fn status(&self) -> StatusCode {
        self.status
    }

    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The value of header `name`, which must be present.
    pub fn header(&self, name: &str) -> &str {
        self.headers.get(name).unwrap_or_else(|| panic!("no {name} header")).to_str().unwrap()
    }

    pub fn bytes(&self) -> &[u8] {
        &self.body
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body as JSON, which it must be.
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("{} answered a body that is not JSON ({e}): {}", self.status, self.text()))
    }

    /// Asserts the status, showing the body when it is another, and passes the answer on.
    #[track_caller]
    pub fn expect(self, status: u16) -> Self {
        assert_eq!(self.status.as_u16(), status, "{}", self.text());
        self
    }

    /// Asserts the problem+json envelope with `status` and `code` and returns it.
    #[track_caller]
    pub fn problem(&self, status: u16, code: &str) -> Value {
        assert_eq!(self.status.as_u16(), status, "status: {}", self.text());
        assert_eq!(self.header("content-type"), "application/problem+json");
        let request_id = self.header("x-request-id");
        let body = self.json();
        assert_eq!(body["code"], code, "{body}");
        assert_eq!(body["status"], status);
        assert_eq!(body["request_id"], request_id, "the body names the request of the header");
        assert!(body["title"].as_str().is_some_and(|t| !t.is_empty()));
        assert!(body["detail"].as_str().is_some_and(|t| !t.is_empty()));
        body
    }
}
