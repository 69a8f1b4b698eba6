//! Access tokens, refresh tokens and sessions: only a genuine, current access token gets in.

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Utc;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use portal::domain::role::Role;
use secrecy::ExposeSecret;
use serde_json::{Value, json};

use crate::helpers::{Auth, PASSWORD, TestApp, link_token, problem, spawn_app, spawn_app_with};

struct Signed {
    access: String,
    refresh: String,
    claims: Value,
}

async fn sign_in(app: &TestApp, email: &str) -> Signed {
    let body: Value = app.login(email, PASSWORD).await.json();
    let access = body["access_token"].as_str().unwrap().to_owned();
    let payload = access.split('.').nth(1).unwrap();
    let claims = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    Signed { access, refresh: body["refresh_token"].as_str().unwrap().to_owned(), claims }
}

async fn status_with(app: &TestApp, token: &str) -> u16 {
    app.get("/api/v1/me", token).await.status().as_u16()
}

fn sign(claims: &Value, algorithm: Algorithm, secret: &[u8]) -> String {
    jsonwebtoken::encode(&Header::new(algorithm), claims, &EncodingKey::from_secret(secret)).unwrap()
}

fn with(claims: &Value, key: &str, value: Value) -> Value {
    let mut claims = claims.clone();
    claims[key] = value;
    claims
}

fn without(claims: &Value, key: &str) -> Value {
    let mut claims = claims.clone();
    claims.as_object_mut().unwrap().remove(key);
    claims
}

/// A token with any header, signed or not.
fn raw(header: &Value, claims: &Value, signature: &str) -> String {
    let encode = |v: &Value| URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap());
    format!("{}.{}.{signature}", encode(header), encode(claims))
}

#[tokio::test]
async fn forged_altered_and_misused_tokens_are_all_refused() {
    let app = spawn_app().await;
    app.create_user(Role::Admin, "admin@park.example").await;
    let signed = sign_in(&app, "admin@park.example").await;
    assert_eq!(status_with(&app, &signed.access).await, 200);

    let secret = app.settings.auth.jwt_secret.expose_secret().as_bytes().to_vec();
    let claims = &signed.claims;
    let now = Utc::now().timestamp();
    let reset_mail_token = {
        app.post("/api/v1/auth/password-reset", Auth::None, &json!({ "email": "admin@park.example" })).await;
        link_token(&app.mail_to("admin@park.example", 1).await[0].body)
    };
    let cases: Vec<(&str, String)> = vec![
        ("signed with another secret", sign(claims, Algorithm::HS256, b"another secret that is long enough!!")),
        ("alg none", raw(&json!({"alg": "none", "typ": "JWT"}), claims, "")),
        ("HS384 with the right secret", sign(claims, Algorithm::HS384, &secret)),
        ("RS256 header", raw(&json!({"alg": "RS256", "typ": "JWT"}), claims, "c2lnbmF0dXJl")),
        ("expired a few seconds ago", sign(&with(claims, "exp", json!(now - 10)), Algorithm::HS256, &secret)),
        ("not valid yet", sign(&with(claims, "nbf", json!(now + 600)), Algorithm::HS256, &secret)),
        ("exp as a string", sign(&with(claims, "exp", json!((now + 600).to_string())), Algorithm::HS256, &secret)),
        ("no exp", sign(&without(claims, "exp"), Algorithm::HS256, &secret)),
        ("wrong audience", sign(&with(claims, "aud", json!("another-api")), Algorithm::HS256, &secret)),
        ("wrong issuer", sign(&with(claims, "iss", json!("someone-else")), Algorithm::HS256, &secret)),
        ("another token type", sign(&with(claims, "typ", json!("refresh")), Algorithm::HS256, &secret)),
        ("another user's id", sign(&with(claims, "sub", json!("999999")), Algorithm::HS256, &secret)),
        ("a session that does not exist", sign(&with(claims, "sid", json!(0)), Algorithm::HS256, &secret)),
        ("the refresh token", signed.refresh.clone()),
        ("a password-reset token", reset_mail_token),
        ("a truncated token", signed.access[..signed.access.len() - 3].to_owned()),
    ];
    for (name, token) in cases {
        let response = app.get("/api/v1/me", &token).await;
        assert_eq!(response.status(), 401, "{name}");
        assert_eq!(response.headers()["www-authenticate"], "Bearer", "{name}");
    }
    assert_eq!(status_with(&app, &signed.access).await, 200, "the genuine token still works");
}

#[tokio::test]
async fn a_refresh_token_works_once_and_its_replay_ends_the_session() {
    let app = spawn_app().await;
    app.create_user(Role::Finance, "finance@park.example").await;
    let first = sign_in(&app, "finance@park.example").await;

    let rotated = app.post("/api/v1/auth/refresh", Auth::None, &json!({ "refresh_token": first.refresh })).await;
    assert_eq!(rotated.status(), 200);
    let rotated: Value = rotated.json();
    let (second_access, second_refresh) =
        (rotated["access_token"].as_str().unwrap().to_owned(), rotated["refresh_token"].as_str().unwrap().to_owned());
    assert_ne!(second_refresh, first.refresh);
    assert_eq!(status_with(&app, &second_access).await, 200);

    let replay = app.post("/api/v1/auth/refresh", Auth::None, &json!({ "refresh_token": first.refresh })).await;
    problem(replay, 401, "unauthenticated").await;
    assert_eq!(status_with(&app, &second_access).await, 401, "the whole family is revoked");
    let after = app.post("/api/v1/auth/refresh", Auth::None, &json!({ "refresh_token": second_refresh })).await;
    problem(after, 401, "unauthenticated").await;

    let other = sign_in(&app, "finance@park.example").await;
    assert_eq!(status_with(&app, &other.access).await, 200, "a new sign-in is unaffected");
}

#[tokio::test]
async fn logout_ends_the_access_token_and_the_refresh_token_at_once() {
    let app = spawn_app().await;
    app.create_user(Role::Reviewer, "reviewer@park.example").await;
    let signed = sign_in(&app, "reviewer@park.example").await;
    let other_device = sign_in(&app, "reviewer@park.example").await;

    let logout = app.post("/api/v1/auth/logout", &signed.access, &json!({ "refresh_token": signed.refresh })).await;
    assert_eq!(logout.status(), 204);
    assert_eq!(status_with(&app, &signed.access).await, 401);
    let refresh = app.post("/api/v1/auth/refresh", Auth::None, &json!({ "refresh_token": signed.refresh })).await;
    problem(refresh, 401, "unauthenticated").await;
    assert_eq!(status_with(&app, &other_device.access).await, 200, "other devices stay signed in");
}

#[tokio::test]
async fn a_password_change_ends_the_other_sessions_and_keeps_this_one() {
    let app = spawn_app().await;
    app.create_user(Role::Expert, "expert@park.example").await;
    let here = sign_in(&app, "expert@park.example").await;
    let elsewhere = sign_in(&app, "expert@park.example").await;

    let wrong = app
        .post(
            "/api/v1/me/password",
            &here.access,
            &json!({ "current_password": "not it at all", "new_password": "amber-quarry-violin-58" }),
        )
        .await;
    assert_eq!(problem(wrong, 422, "validation_failed").await["errors"][0]["field"], "current_password");

    let change = app
        .post(
            "/api/v1/me/password",
            &here.access,
            &json!({ "current_password": PASSWORD, "new_password": "amber-quarry-violin-58" }),
        )
        .await;
    assert_eq!(change.status(), 204);
    assert_eq!(status_with(&app, &here.access).await, 200);
    assert_eq!(status_with(&app, &elsewhere.access).await, 401);
    problem(app.login("expert@park.example", PASSWORD).await, 401, "invalid_credentials").await;
    assert_eq!(app.login("expert@park.example", "amber-quarry-violin-58").await.status(), 200);
}

#[tokio::test]
async fn disabling_a_user_ends_its_sessions_on_every_instance() {
    let app = spawn_app().await;
    let admin = app.token_for(Role::Admin).await;
    let reviewer_id = app.create_user(Role::Reviewer, "reviewer@park.example").await;
    let reviewer = sign_in(&app, "reviewer@park.example").await;
    let (other_instance, _) = app.another_instance().await;

    let disable = app.patch(&format!("/api/v1/users/{reviewer_id}"), &admin, &json!({ "status": "disabled" })).await;
    assert_eq!(disable.status(), 200);
    for base in [app.address.as_str(), other_instance.as_str()] {
        let me = app.on(base).get("/api/v1/me", &reviewer.access).await;
        assert_eq!(me.status(), 401, "{base}");
    }
}

#[tokio::test]
async fn two_administrators_disabling_each_other_at_once_leave_one_active() {
    let app = spawn_app().await;
    let first_id = app.create_user(Role::Admin, "first-admin@park.example").await;
    let second_id = app.create_user(Role::Admin, "second-admin@park.example").await;
    let first = sign_in(&app, "first-admin@park.example").await;
    let second = sign_in(&app, "second-admin@park.example").await;

    let disabled = json!({ "status": "disabled" });
    let (one, other) = tokio::join!(
        app.patch(&format!("/api/v1/users/{second_id}"), &first.access, &disabled).send(),
        app.patch(&format!("/api/v1/users/{first_id}"), &second.access, &disabled).send(),
    );
    let statuses = [one.status().as_u16(), other.status().as_u16()];
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 1, "{statuses:?}");
    for answer in [one, other] {
        if answer.status() == 409 {
            let body = answer.problem(409, "conflict");
            assert!(body["detail"].as_str().unwrap().contains("最后一位"), "{body}");
        }
    }
    let active: i64 = app
        .db
        .read(|conn| {
            use diesel::prelude::*;
            use portal::db::schema::users;
            Ok::<_, portal::db::Error>(
                users::table
                    .filter(users::role.eq("admin"))
                    .filter(users::status.eq("active"))
                    .count()
                    .get_result(conn)?,
            )
        })
        .await
        .unwrap();
    assert_eq!(active, 1, "the park keeps one active administrator");
}

#[tokio::test]
async fn repeated_wrong_passwords_are_throttled_and_stay_throttled_after_a_restart() {
    let app = spawn_app().await;
    app.create_user(Role::Finance, "finance@park.example").await;
    for attempt in 1..=5 {
        let response = app.login("finance@park.example", "a wrong password").await;
        assert_eq!(response.status(), 401, "attempt {attempt}");
    }
    let blocked = app.login("finance@park.example", "a wrong password").await;
    let retry_after: u64 = blocked.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=900).contains(&retry_after), "{retry_after}");
    problem(blocked, 429, "rate_limited").await;
    let correct = app.login("finance@park.example", PASSWORD).await;
    problem(correct, 429, "rate_limited").await;

    let (restarted, _) = app.another_instance().await;
    let after_restart = app
        .on(&restarted)
        .post("/api/v1/auth/login", Auth::None, &json!({ "email": "finance@park.example", "password": PASSWORD }))
        .await;
    problem(after_restart, 429, "rate_limited").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_simultaneous_wrong_passwords_reach_the_password_check_five_times() {
    let app = Arc::new(spawn_app().await);
    app.create_user(Role::Finance, "finance@park.example").await;
    let guesses = (0..50).map(|n| {
        let app = app.clone();
        tokio::spawn(async move { app.login("finance@park.example", &format!("guess number {n}")).await.status() })
    });
    let statuses: Vec<u16> =
        futures_util::future::join_all(guesses).await.into_iter().map(|s| s.unwrap().as_u16()).collect();
    // A loaded machine may answer some with 503 before their try is taken; those are sent again one by one.
    assert!(statuses.iter().all(|s| [401, 429, 503].contains(s)), "{statuses:?}");
    let mut checked = statuses.iter().filter(|s| **s == 401).count();
    assert!(checked <= 5, "{statuses:?}");
    loop {
        match app.login("finance@park.example", "one more guess").await.status().as_u16() {
            401 => checked += 1,
            429 => break,
            other => assert_eq!(other, 503),
        }
    }
    assert_eq!(checked, 5, "five guesses in all reached the password check");
    problem(app.login("finance@park.example", PASSWORD).await, 429, "rate_limited").await;

    let admin = app.token_for(Role::Admin).await;
    let failed: Value = app.get("/api/v1/audit-events?action=auth.login_failed", &admin).await.json();
    assert_eq!(failed["total"], 5, "only five guesses were checked against the password");
}

#[tokio::test]
async fn another_address_still_signs_in_while_one_is_locked_out_and_an_ipv6_network_counts_as_one() {
    let app = spawn_app_with(|s| s.server.trusted_proxies = vec!["127.0.0.1".parse().unwrap()]).await;
    app.create_user(Role::Finance, "finance@park.example").await;
    let login_from = |address: &'static str, password: &'static str| {
        app.post("/api/v1/auth/login", Auth::None, &json!({ "email": "finance@park.example", "password": password }))
            .header("x-forwarded-for", address)
    };
    for address in ["2001:db8:1:2::1", "2001:db8:1:2::2", "2001:db8:1:2:ffff::3", "2001:db8:1:2::4", "2001:db8:1:2::5"]
    {
        login_from(address, "a wrong password").await.expect(401);
    }
    problem(login_from("2001:db8:1:2::99", PASSWORD).await, 429, "rate_limited").await;
    login_from("2001:db8:1:3::1", PASSWORD).await.expect(200);
    login_from("203.0.113.7", PASSWORD).await.expect(200);
}

#[tokio::test]
async fn the_current_password_check_is_throttled_too() {
    let app = spawn_app().await;
    app.create_user(Role::Reviewer, "reviewer@park.example").await;
    let me = sign_in(&app, "reviewer@park.example").await;
    let change = |current: &'static str| {
        app.post(
            "/api/v1/me/password",
            &me.access,
            &json!({ "current_password": current, "new_password": "granite-orchid-tempo-91" }),
        )
    };
    for _ in 0..5 {
        problem(change("not my password").await, 422, "validation_failed").await;
    }
    problem(change(PASSWORD).await, 429, "rate_limited").await;
}

#[tokio::test]
async fn a_password_reset_goes_through_the_email_and_works_once() {
    let app = spawn_app().await;
    app.create_user(Role::Reviewer, "reviewer@park.example").await;
    let before = sign_in(&app, "reviewer@park.example").await;
    for address in ["reviewer@park.example", "nobody@park.example"] {
        let response = app.post("/api/v1/auth/password-reset", Auth::None, &json!({ "email": address })).await;
        assert_eq!(response.status(), 202);
    }
    let mail = app.mail_to("reviewer@park.example", 1).await;
    assert!(mail[0].body.contains("30 分钟"));
    let token = link_token(&mail[0].body);
    app.post("/api/v1/auth/password-reset", Auth::None, &json!({ "email": "reviewer@park.example" })).await.expect(202);
    let later = link_token(&app.mail_to("reviewer@park.example", 2).await[1].body);

    let weak = app
        .post(
            "/api/v1/auth/password-reset/confirm",
            Auth::None,
            &json!({ "token": token, "new_password": "reviewer123" }),
        )
        .await;
    assert_eq!(problem(weak, 422, "validation_failed").await["errors"][0]["field"], "new_password");
    let confirm = app
        .post(
            "/api/v1/auth/password-reset/confirm",
            Auth::None,
            &json!({ "token": token, "new_password": "granite-orchid-tempo-91" }),
        )
        .await;
    assert_eq!(confirm.status(), 204);
    let reuse = app
        .post(
            "/api/v1/auth/password-reset/confirm",
            Auth::None,
            &json!({ "token": token, "new_password": "another-granite-tempo-92" }),
        )
        .await;
    assert_eq!(problem(reuse, 422, "validation_failed").await["errors"][0]["code"], "invalid_token");
    let other_link = app
        .post(
            "/api/v1/auth/password-reset/confirm",
            Auth::None,
            &json!({ "token": later, "new_password": "another-granite-tempo-92" }),
        )
        .await;
    let refused = problem(other_link, 422, "validation_failed").await;
    assert_eq!(refused["errors"][0]["code"], "invalid_token", "a reset spends every other reset link");

    assert_eq!(status_with(&app, &before.access).await, 401, "a reset ends every session");
    problem(app.login("reviewer@park.example", PASSWORD).await, 401, "invalid_credentials").await;
    assert_eq!(app.login("reviewer@park.example", "granite-orchid-tempo-91").await.status(), 200);
    assert!(app.mailbox.as_ref().unwrap().to("nobody@park.example").is_empty());
}

#[tokio::test]
async fn an_invited_staff_member_sets_a_password_from_the_invitation_and_signs_in() {
    let app = spawn_app().await;
    let admin = app.token_for(Role::Admin).await;
    let created = app
        .post(
            "/api/v1/users",
            &admin,
            &json!({ "email": "New.Expert@Park.example", "display_name": "李教授", "role": "expert" }),
        )
        .await;
    assert_eq!(created.status(), 201);
    let created: Value = created.json();
    assert_eq!(created["role"], "expert");
    assert_eq!(created["email_verified"], false);
    problem(app.login("new.expert@park.example", "anything at all").await, 401, "invalid_credentials").await;

    let mail = app.mail_to("new.expert@park.example", 1).await;
    assert!(mail[0].body.contains("评审专家"));
    let token = link_token(&mail[0].body);
    let confirm = app
        .post(
            "/api/v1/auth/password-reset/confirm",
            Auth::None,
            &json!({ "token": token, "new_password": "copper-willow-signal-33" }),
        )
        .await;
    assert_eq!(confirm.status(), 204);
    let signed_in: Value = app.login("new.expert@park.example", "copper-willow-signal-33").await.json();
    assert_eq!(signed_in["user"]["role"], "expert");
    assert_eq!(signed_in["user"]["email_verified"], true);

    let duplicate = app
        .post(
            "/api/v1/users",
            &admin,
            &json!({ "email": "new.expert@park.example", "display_name": "李", "role": "reviewer" }),
        )
        .await;
    problem(duplicate, 409, "email_taken").await;
    let applicant = app
        .post("/api/v1/users", &admin, &json!({ "email": "x@park.example", "display_name": "李", "role": "applicant" }))
        .await;
    assert_eq!(problem(applicant, 422, "validation_failed").await["errors"][0]["field"], "role");
}
