use diesel::prelude::*;
use portal::db::schema::users;
use portal::domain::role::Role;
use secrecy::SecretString;
use serde_json::Value;

use crate::helpers::{PASSWORD, problem, spawn_app, spawn_app_with};

#[tokio::test]
async fn staff_sign_in_and_see_themselves() {
    let app = spawn_app().await;
    let id = app.create_user(Role::Reviewer, "Reviewer@Park.Example").await;

    let response = app.login("  reviewer@park.example ", PASSWORD).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.header("cache-control"), "no-store", "tokens stay out of caches");
    let body: Value = response.json();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 900);
    assert!(body["refresh_token"].as_str().is_some_and(|t| t.len() == 64));
    assert_eq!(body["user"]["id"], id);
    assert!(body["user"].get("password_hash").is_none());

    let me = app.get("/api/v1/me", body["access_token"].as_str().unwrap()).await.expect(200);
    assert_eq!(me.header("cache-control"), "no-store", "personal data stays out of caches");
    let me: Value = me.json();
    assert_eq!(me["email"], "reviewer@park.example");
    assert_eq!(me["role"], "reviewer");
    assert_eq!(me["status"], "active");
    assert_eq!(me["email_verified"], true);
    assert!(me["created_at"].as_str().unwrap().ends_with('Z'));
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_account_get_the_same_answer() {
    let app = spawn_app().await;
    app.create_user(Role::Finance, "finance@park.example").await;
    let wrong = problem(app.login("finance@park.example", "not the password").await, 401, "invalid_credentials").await;
    let unknown = problem(app.login("nobody@park.example", PASSWORD).await, 401, "invalid_credentials").await;
    assert_eq!(wrong["detail"], unknown["detail"]);
}

#[tokio::test]
async fn a_disabled_account_cannot_sign_in_and_its_tokens_stop_working() {
    let app = spawn_app().await;
    let id = app.create_user(Role::Expert, "expert@park.example").await;
    let body: Value = app.login("expert@park.example", PASSWORD).await.json();
    let token = body["access_token"].as_str().unwrap().to_owned();

    let mut conn = app.db.connection().unwrap();
    diesel::update(users::table.find(id)).set(users::status.eq("disabled")).execute(&mut *conn).unwrap();

    problem(app.login("expert@park.example", PASSWORD).await, 401, "invalid_credentials").await;
    let me = app.get("/api/v1/me", &token).await;
    problem(me, 401, "unauthenticated").await;
}

#[tokio::test]
async fn an_unverified_email_is_told_to_verify_first() {
    let app = spawn_app().await;
    let id = app.create_user(Role::Admin, "new-admin@park.example").await;
    let mut conn = app.db.connection().unwrap();
    diesel::update(users::table.find(id))
        .set(users::email_verified_at.eq(None::<chrono::NaiveDateTime>))
        .execute(&mut *conn)
        .unwrap();
    problem(app.login("new-admin@park.example", PASSWORD).await, 403, "email_not_verified").await;
}

#[tokio::test]
async fn a_hash_made_with_old_parameters_is_replaced_at_sign_in() {
    let app = spawn_app().await;
    let id = app.create_user(Role::Admin, "admin@park.example").await;
    let mut cheaper = app.settings.auth.clone();
    cheaper.argon2_memory_kib = 32;
    let old_hash =
        portal::auth::password::Passwords::new(&cheaper).unwrap().hash(SecretString::from(PASSWORD)).await.unwrap();
    let mut conn = app.db.connection().unwrap();
    diesel::update(users::table.find(id)).set(users::password_hash.eq(&old_hash)).execute(&mut *conn).unwrap();

    assert_eq!(app.login("admin@park.example", PASSWORD).await.status(), 200);

    let stored: Option<String> = users::table.find(id).select(users::password_hash).first(&mut *conn).unwrap();
    let stored = stored.unwrap();
    assert_ne!(stored, old_hash);
    assert!(stored.contains(&format!("m={}", app.settings.auth.argon2_memory_kib)), "{stored}");
    assert_eq!(app.login("admin@park.example", PASSWORD).await.status(), 200, "the new hash still verifies");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_ins_beyond_the_hashing_queue_are_turned_away_at_once_and_a_real_user_gets_in_after() {
    let app = std::sync::Arc::new(
        spawn_app_with(|s| {
            s.auth.argon2_memory_kib = 19_456;
            s.auth.argon2_iterations = 2;
            s.auth.max_queued_hashes = 2;
        })
        .await,
    );
    app.create_user(Role::Reviewer, "reviewer@park.example").await;
    let flood = (0..15).map(|n| {
        let app = app.clone();
        tokio::spawn(async move {
            let answer = app.login(&format!("nobody{n}@park.example"), "a guessed password").await;
            (answer.status().as_u16(), answer.headers().get("retry-after").is_some())
        })
    });
    let answers: Vec<(u16, bool)> =
        futures_util::future::join_all(flood).await.into_iter().map(Result::unwrap).collect();
    assert!(answers.iter().all(|(status, _)| *status == 401 || *status == 503), "{answers:?}");
    assert!(answers.iter().any(|(status, _)| *status == 503), "the queue of two overflowed: {answers:?}");
    assert!(answers.iter().filter(|(status, _)| *status == 503).all(|(_, retry)| *retry), "{answers:?}");
    assert_eq!(app.login("reviewer@park.example", PASSWORD).await.status(), 200);
}
