//! A second factor for sign-in (TOTP) and secrets at rest: enrolment, the two-step sign-in, codes that
//! work once, throttling, the roles that must have one, an admin's reset, and what a dump of the database
//! shows.

use diesel::sql_types::Text;
use diesel::{QueryableByName, RunQueryDsl};
use portal::auth::totp;
use portal::domain::role::Role;
use secrecy::SecretString;
use serde_json::{Value, json};

use crate::helpers::{Auth, PASSWORD, TestApp, spawn_app, spawn_app_with};

/// The code the user's app shows `steps_ahead` steps from now. Each use in a test takes a later step than
/// the one before, since a step is accepted once; the service accepts one step either side of its own.
fn code(secret: &str, steps_ahead: i64) -> String {
    totp::code_at(secret, chrono::Utc::now().timestamp() + steps_ahead * totp::STEP_SECS).unwrap()
}

/// A code that is none of those the service accepts now.
fn wrong_code(secret: &str) -> String {
    let near: Vec<String> = (-2..=2).map(|k| code(secret, k)).collect();
    (0..10).map(|d| format!("{d}{d}{d}{d}{d}{d}")).find(|c| !near.contains(c)).unwrap()
}

/// A signed-in staff account with `role`: `(email, access token, user id)`.
async fn staff(app: &TestApp, role: Role) -> (String, String, i64) {
    let email = format!("{}-{}@park.example", role.as_str(), uuid::Uuid::new_v4().simple());
    let id = app.create_user(role, &email).await;
    let body = app.login(&email, PASSWORD).await.expect(200).json();
    (email, body["access_token"].as_str().unwrap().to_owned(), id)
}

/// Sets up and confirms a TOTP factor for the holder of `token` with a code of the current step; answers
/// the secret and the recovery codes.
async fn enrol(app: &TestApp, token: &str) -> (String, Vec<String>) {
    let started = app.post("/api/v1/me/mfa/totp", token, &json!({})).await.expect(200).json();
    let secret = started["secret"].as_str().unwrap().to_owned();
    let confirmed =
        app.post("/api/v1/me/mfa/totp/confirm", token, &json!({ "code": code(&secret, 0) })).await.expect(200).json();
    let codes = confirmed["recovery_codes"].as_array().unwrap().iter().map(|c| c.as_str().unwrap().to_owned());
    (secret, codes.collect())
}

/// The first step of a sign-in for a user with a second factor: its `mfa_token`.
async fn first_step(app: &TestApp, email: &str) -> String {
    let body = app.login(email, PASSWORD).await.expect(200).json();
    assert_eq!(body["mfa_required"], true, "{body}");
    assert!(body.get("access_token").is_none() && body.get("refresh_token").is_none(), "{body}");
    body["mfa_token"].as_str().unwrap().to_owned()
}

async fn second_step(app: &TestApp, mfa_token: &str, code: &str) -> crate::helpers::Answer {
    app.post("/api/v1/auth/login/mfa", Auth::None, &json!({ "mfa_token": mfa_token, "code": code })).await
}

#[tokio::test]
async fn a_staff_member_enrols_and_then_signs_in_in_two_steps_each_code_once() {
    let app = spawn_app().await;
    let (email, token, _) = staff(&app, Role::Reviewer).await;
    let me = app.get("/api/v1/me", &token).await.expect(200).json();
    assert_eq!(me["mfa_enabled"], false);

    let started = app.post("/api/v1/me/mfa/totp", &token, &json!({})).await.expect(200).json();
    let secret = started["secret"].as_str().unwrap();
    let uri = started["otpauth_uri"].as_str().unwrap();
    assert!(uri.starts_with("otpauth://totp/portal:"), "{uri}");
    assert!(uri.contains(&format!("secret={secret}&issuer=portal&algorithm=SHA1&digits=6&period=30")), "{uri}");
    // Not on until confirmed: the password alone still signs in.
    assert!(app.login(&email, PASSWORD).await.expect(200).json()["access_token"].is_string());
    // Starting again replaces the pending secret.
    let restarted = app.post("/api/v1/me/mfa/totp", &token, &json!({})).await.expect(200).json();
    let secret = restarted["secret"].as_str().unwrap().to_owned();

    let wrong = app.post("/api/v1/me/mfa/totp/confirm", &token, &json!({ "code": wrong_code(&secret) })).await;
    wrong.problem(422, "invalid_mfa_code");
    let confirmed =
        app.post("/api/v1/me/mfa/totp/confirm", &token, &json!({ "code": code(&secret, 0) })).await.expect(200).json();
    let recovery: Vec<&str> =
        confirmed["recovery_codes"].as_array().unwrap().iter().map(|c| c.as_str().unwrap()).collect();
    assert_eq!(recovery.len(), 10);
    assert_eq!(app.get("/api/v1/me", &token).await.expect(200).json()["mfa_enabled"], true);
    app.post("/api/v1/me/mfa/totp", &token, &json!({})).await.problem(409, "mfa_already_enabled");

    // The code that confirmed it does not sign in: its step was used.
    let mfa_token = first_step(&app, &email).await;
    second_step(&app, &mfa_token, &code(&secret, 0)).await.problem(401, "invalid_mfa_code");
    let fresh = code(&secret, 1);
    let session = second_step(&app, &mfa_token, &fresh).await.expect(200).json();
    assert_eq!(session["token_type"], "Bearer");
    assert_eq!(session["user"]["mfa_enabled"], true);
    let access = session["access_token"].as_str().unwrap();
    app.get("/api/v1/me", access).await.expect(200);
    assert!(session["refresh_token"].is_string());

    // The same code again, in a new sign-in, is a replay; so is the spent mfa_token.
    let again = first_step(&app, &email).await;
    second_step(&app, &again, &fresh).await.problem(401, "invalid_mfa_code");
    second_step(&app, &mfa_token, &code(&secret, 1)).await.problem(401, "unauthenticated");
    second_step(&app, "not-a-token", &code(&secret, 1)).await.problem(401, "unauthenticated");
}

#[tokio::test]
async fn two_sign_ins_racing_with_one_code_give_one_session() {
    let app = spawn_app().await;
    let (email, token, _) = staff(&app, Role::Admin).await;
    let (secret, _) = enrol(&app, &token).await;
    let mut mfa_tokens = Vec::new();
    for _ in 0..4 {
        mfa_tokens.push(first_step(&app, &email).await);
    }
    let shared = code(&secret, 1);
    let racers: Vec<_> = mfa_tokens
        .into_iter()
        .map(|mfa_token| {
            let (client, url, shared) = (app.client.clone(), app.url("/api/v1/auth/login/mfa"), shared.clone());
            tokio::spawn(async move {
                let body = json!({ "mfa_token": mfa_token, "code": shared });
                client.post(url).json(&body).send().await.unwrap().status().as_u16()
            })
        })
        .collect();
    let mut statuses = Vec::new();
    for racer in racers {
        statuses.push(racer.await.unwrap());
    }
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 401, 401, 401], "exactly one of the racing sign-ins gets a session");
}

#[tokio::test]
async fn a_recovery_code_signs_in_once_and_its_use_is_audited() {
    let app = spawn_app().await;
    let (email, token, id) = staff(&app, Role::Admin).await;
    let (_, recovery) = enrol(&app, &token).await;
    let typed = recovery[3].to_uppercase().replace('-', " ");
    let session = second_step(&app, &first_step(&app, &email).await, &typed).await.expect(200).json();
    assert!(session["access_token"].is_string());
    second_step(&app, &first_step(&app, &email).await, &recovery[3]).await.problem(401, "invalid_mfa_code");
    let events = app
        .get(&format!("/api/v1/audit-events?action=user.mfa_recovery_code_use&object_id={id}"), &token)
        .await
        .expect(200)
        .json();
    assert_eq!(events["total"], 1, "{events}");
    assert_eq!(events["items"][0]["summary"]["left"], 9);
}

#[tokio::test]
async fn five_wrong_codes_and_the_account_waits_even_with_the_right_one() {
    let app = spawn_app().await;
    let (email, token, _) = staff(&app, Role::Finance).await;
    let (secret, _) = enrol(&app, &token).await;
    let mfa_token = first_step(&app, &email).await;
    for _ in 0..5 {
        second_step(&app, &mfa_token, &wrong_code(&secret)).await.problem(401, "invalid_mfa_code");
    }
    let refused = second_step(&app, &mfa_token, &code(&secret, 1)).await;
    refused.problem(429, "rate_limited");
    assert!(refused.header("retry-after").parse::<u64>().unwrap() > 0);
    // A new first step does not give new tries.
    let again = first_step(&app, &email).await;
    second_step(&app, &again, &code(&secret, 1)).await.problem(429, "rate_limited");
}

#[tokio::test]
async fn a_role_that_must_have_a_second_factor_may_only_set_it_up_until_it_has() {
    let app = spawn_app_with(|s| s.auth.mfa_required_roles = vec![Role::Finance]).await;
    let (_, token, _) = staff(&app, Role::Finance).await;
    for path in ["/api/v1/disbursements", "/api/v1/companies", "/api/v1/reports/summary"] {
        app.get(path, &token).await.problem(403, "mfa_enrollment_required");
    }
    app.post("/api/v1/me/password", &token, &json!({ "current_password": PASSWORD, "new_password": "x" }))
        .await
        .problem(403, "mfa_enrollment_required");
    assert_eq!(app.get("/api/v1/me", &token).await.expect(200).json()["mfa_enabled"], false);
    let (secret, _) = enrol(&app, &token).await;
    // The same session works from now on.
    app.get("/api/v1/disbursements", &token).await.expect(200);
    let off = json!({ "password": PASSWORD, "code": code(&secret, 1) });
    app.request(reqwest::Method::DELETE, "/api/v1/me/mfa/totp", &token)
        .json(&off)
        .await
        .problem(409, "mfa_required_for_role");

    // Other roles are not held up, and signing out stays open.
    let (_, reviewer, _) = staff(&app, Role::Reviewer).await;
    app.get("/api/v1/companies", &reviewer).await.expect(200);
    let (_, other_finance, _) = staff(&app, Role::Finance).await;
    app.post("/api/v1/auth/logout", &other_finance, &json!({ "refresh_token": "none" })).await.expect(204);
}

#[tokio::test]
async fn an_admin_reset_clears_the_factor_and_ends_the_users_sessions() {
    let app = spawn_app().await;
    let (email, token, id) = staff(&app, Role::Reviewer).await;
    enrol(&app, &token).await;
    let (_, admin, _) = staff(&app, Role::Admin).await;
    let path = format!("/api/v1/users/{id}/mfa/reset");
    app.post(&path, &token, &json!({})).await.problem(403, "forbidden");
    app.post("/api/v1/users/999999/mfa/reset", &admin, &json!({})).await.problem(404, "not_found");
    app.post(&path, &admin, &json!({})).await.expect(204);

    app.get("/api/v1/me", &token).await.problem(401, "unauthenticated");
    let body = app.login(&email, PASSWORD).await.expect(200).json();
    assert!(body["access_token"].is_string(), "the password alone signs in again: {body}");
    assert_eq!(body["user"]["mfa_enabled"], false);
    let user = app.get(&format!("/api/v1/users/{id}"), &admin).await.expect(200).json();
    assert_eq!(user["mfa_enabled"], false);
    let events = app.get(&format!("/api/v1/audit-events?action=user.mfa_reset&object_id={id}"), &admin).await;
    assert_eq!(events.expect(200).json()["total"], 1);
    let mail = app.mail_to(&email, 2).await;
    assert!(mail[0].body.contains("Two-step verification is now on"), "{}", mail[0].body);
    assert!(mail[1].body.contains("An administrator has cleared two-step verification"), "{}", mail[1].body);
}

#[tokio::test]
async fn turning_the_factor_off_takes_the_password_and_a_code() {
    let app = spawn_app().await;
    let (email, token, _) = staff(&app, Role::Expert).await;
    let (secret, _) = enrol(&app, &token).await;
    let off = |password: &str, code: &str| json!({ "password": password, "code": code });
    let delete = |body: Value| app.request(reqwest::Method::DELETE, "/api/v1/me/mfa/totp", &token).json(&body);
    let wrong_password = delete(off("not my password", &code(&secret, 1))).await;
    assert_eq!(wrong_password.problem(422, "validation_failed")["errors"][0]["field"], "password");
    delete(off(PASSWORD, &wrong_code(&secret))).await.problem(422, "invalid_mfa_code");
    delete(off(PASSWORD, &code(&secret, 1))).await.expect(204);
    assert!(app.login(&email, PASSWORD).await.expect(200).json()["access_token"].is_string());
    delete(off(PASSWORD, &code(&secret, 1))).await.problem(409, "conflict");
    let mail = app.mail_to(&email, 2).await;
    assert!(mail[1].subject.contains("两步验证已变更"), "{}", mail[1].subject);
    assert!(mail[1].body.contains("Two-step verification is now off"), "{}", mail[1].body);
}

#[derive(QueryableByName)]
struct Stored {
    #[diesel(sql_type = Text)]
    value: String,
}

/// Every value of `column` in `table`, read with plain SQL as a dump would.
async fn dump(app: &TestApp, table: &str, column: &str) -> Vec<String> {
    let query = format!("SELECT {column} AS value FROM {table}");
    app.db
        .read(move |conn| diesel::sql_query(query).load::<Stored>(conn).map_err(portal::db::Error::from))
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.value)
        .collect()
}

/// A company (with an account set through the API) and a finance token: `(company token, company id,
/// finance token)`.
async fn company_with_account(app: &TestApp, account_no: &str) -> (String, i64, String) {
    let (company, company_id) = app.eligible_company("星河微电子有限公司").await;
    let account =
        json!({ "bank_name": "中国银行珠海分行", "account_name": "星河微电子有限公司", "account_no": account_no });
    app.put("/api/v1/companies/me/bank-account", &company, &account).await.expect(200);
    (company, company_id, app.token_for(Role::Finance).await)
}

#[tokio::test]
async fn a_dump_of_the_database_shows_neither_bank_numbers_nor_totp_secrets() {
    let app = spawn_app().await;
    let (company, company_id, finance) = company_with_account(&app, "6217 0000 1234 5678 901").await;
    let (_, token, _) = staff(&app, Role::Admin).await;
    let (secret, _) = enrol(&app, &token).await;

    let numbers = dump(&app, "company_bank_accounts", "account_no").await;
    assert!(!numbers.is_empty());
    for stored in &numbers {
        assert!(stored.starts_with("s1:test1:"), "{stored}");
        assert!(!stored.contains("6217000012345678901") && !stored.contains("6222021234567890"), "{stored}");
    }
    let secrets = dump(&app, "user_totp", "secret").await;
    assert_eq!(secrets.len(), 1);
    assert!(secrets[0].starts_with("s1:test1:") && !secrets[0].contains(&secret), "{}", secrets[0]);
    let hashes = dump(&app, "mfa_recovery_codes", "code_hash").await;
    assert_eq!(hashes.len(), 10);

    // Read through the service, the number is there for finance, masked for the company.
    let seen = app.get(&format!("/api/v1/companies/{company_id}"), &finance).await.expect(200).json();
    assert_eq!(seen["bank_account"]["account_no"], "6217000012345678901");
    let own = app.get("/api/v1/companies/me", &company).await.expect(200).json();
    assert_eq!(own["bank_account"]["account_no"], "****8901");
}

#[tokio::test]
async fn values_sealed_with_an_old_key_still_read_after_rotation_and_are_sealed_again() {
    let app = spawn_app().await;
    let (_, company_id, finance) = company_with_account(&app, "6217000012345678901").await;
    let (email, token, _) = staff(&app, Role::Reviewer).await;
    let (secret, _) = enrol(&app, &token).await;

    let new_key = portal::crypto::generate_key();
    let (rotated, _) = app
        .another_instance_with(|s| {
            s.crypto.keys.insert("k2".into(), SecretString::from(new_key));
            s.crypto.current_key = "k2".into();
        })
        .await;
    let rotated = app.on(&rotated);
    let seen = rotated.get(&format!("/api/v1/companies/{company_id}"), &finance).await.expect(200).json();
    assert_eq!(seen["bank_account"]["account_no"], "6217000012345678901");
    for stored in dump(&app, "company_bank_accounts", "account_no").await {
        assert!(stored.starts_with("s1:k2:"), "start-up sealed it again under the current key: {stored}");
    }
    assert!(dump(&app, "user_totp", "secret").await[0].starts_with("s1:k2:"));
    let body = rotated.post("/api/v1/auth/login", Auth::None, &json!({ "email": email, "password": PASSWORD })).await;
    let mfa_token = body.expect(200).json()["mfa_token"].as_str().unwrap().to_owned();
    let second = json!({ "mfa_token": mfa_token, "code": code(&secret, 1) });
    rotated.post("/api/v1/auth/login/mfa", Auth::None, &second).await.expect(200);
}

#[tokio::test]
async fn a_bank_number_stored_before_sealing_reads_and_is_sealed_at_the_next_start() {
    let app = spawn_app().await;
    let (_, company_id, finance) = company_with_account(&app, "6217000012345678901").await;
    app.db
        .write(move |conn| {
            diesel::sql_query(
                "UPDATE company_bank_accounts SET account_no = '6217000099998888777' WHERE company_id = $1",
            )
            .bind::<diesel::sql_types::BigInt, _>(company_id)
            .execute(conn)
            .map_err(portal::db::Error::from)
        })
        .await
        .unwrap();
    let path = format!("/api/v1/companies/{company_id}");
    assert_eq!(app.get(&path, &finance).await.expect(200).json()["bank_account"]["account_no"], "6217000099998888777");
    let (restarted, _) = app.another_instance().await;
    assert_eq!(
        app.on(&restarted).get(&path, &finance).await.expect(200).json()["bank_account"]["account_no"],
        "6217000099998888777"
    );
    let stored = dump(&app, "company_bank_accounts", "account_no").await;
    assert!(stored.iter().all(|s| s.starts_with("s1:test1:") && !s.contains("99998888")), "{stored:?}");
}
