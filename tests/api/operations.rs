//! What operators and other frontends see: `GET /metrics` behind its token, and CORS on `/api/v1` for the
//! origins an operator allows.

use std::time::{Duration, Instant};

use portal::config::{MailTransportKind, SmtpSecurity};
use portal::domain::role::Role;
use reqwest::Method;
use secrecy::SecretString;

use crate::helpers::{Answer, Auth, TestApp, problem, spawn_app, spawn_app_with};

const TOKEN: &str = "a metrics token only the scraper knows";

async fn with_metrics() -> TestApp {
    spawn_app_with(|s| s.telemetry.metrics_token = SecretString::from(TOKEN)).await
}

async fn scrape(app: &TestApp) -> String {
    let response = app.get("/metrics", TOKEN).await.expect(200);
    assert_eq!(response.header("content-type"), "text/plain; version=0.0.4; charset=utf-8");
    response.text()
}

/// The value of the sample `series` (its name and labels exactly as written), if present.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines().find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

#[tokio::test]
async fn metrics_need_their_token_and_without_one_the_route_does_not_exist() {
    let off = spawn_app().await;
    problem(off.get("/metrics", TOKEN).await, 404, "not_found").await;
    problem(off.get("/metrics", Auth::None).await, 404, "not_found").await;

    let app = with_metrics().await;
    let missing = app.get("/metrics", Auth::None).await;
    assert_eq!(missing.header("www-authenticate"), "Bearer");
    problem(missing, 401, "unauthenticated").await;
    problem(app.get("/metrics", "a guess").await, 401, "unauthenticated").await;
    problem(app.get("/metrics", Auth::Header(&format!("Basic {TOKEN}"))).await, 401, "unauthenticated").await;
    // A user's access token is no metrics token.
    let admin = app.token_for(Role::Admin).await;
    problem(app.get("/metrics", &admin).await, 401, "unauthenticated").await;
    let wrong_method = app.post("/metrics", TOKEN, &serde_json::json!({})).await;
    assert_eq!(wrong_method.header("allow"), "GET");
    problem(wrong_method, 405, "method_not_allowed").await;

    let text = scrape(&app).await;
    assert_eq!(sample(&text, "portal_database_up"), Some(1.0), "{text}");
    for family in [
        "portal_db_pool_connections",
        "portal_db_pool_wait_seconds",
        "portal_blocking_db_tasks",
        "portal_password_hashes",
        "portal_outbox_pending",
        "portal_outbox_oldest_due_age_seconds",
        "portal_payments_overdue",
        "portal_requests_overdue",
    ] {
        assert!(text.contains(&format!("# TYPE {family} ")), "{family} missing from\n{text}");
    }
}

#[tokio::test]
async fn a_request_is_counted_under_its_route_template_never_its_id() {
    let app = with_metrics().await;
    let (company, _) = app.eligible_company("甲公司").await;
    for _ in 0..2 {
        problem(app.get("/api/v1/applications/987654321", &company).await, 404, "not_found").await;
    }
    app.get("/api/v1/me", &company).await.expect(200);
    problem(app.get("/no/such/path/555444333", Auth::None).await, 404, "not_found").await;

    let text = scrape(&app).await;
    let route = r#"method="GET",route="/api/v1/applications/{id}""#;
    assert_eq!(sample(&text, &format!("portal_http_requests_total{{{route},status=\"404\"}}")), Some(2.0), "{text}");
    assert_eq!(sample(&text, &format!("portal_http_request_duration_seconds_count{{{route}}}")), Some(2.0), "{text}");
    assert_eq!(
        sample(&text, "portal_http_requests_total{method=\"GET\",route=\"/api/v1/me\",status=\"200\"}"),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        sample(&text, "portal_http_requests_total{method=\"GET\",route=\"unmatched\",status=\"404\"}"),
        Some(1.0),
        "{text}"
    );
    assert!(!text.contains("987654321") && !text.contains("555444333"), "an id reached a label:\n{text}");
}

#[tokio::test]
async fn the_outbox_gauge_shows_email_a_mail_server_outage_holds_back() {
    // A mail server that refuses connections: the verification email stays queued, retried.
    let closed_port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let app = spawn_app_with(|s| {
        s.telemetry.metrics_token = SecretString::from(TOKEN);
        s.mail.transport = MailTransportKind::Smtp;
        s.mail.smtp_host = "127.0.0.1".into();
        s.mail.smtp_port = closed_port;
        s.mail.smtp_security = SmtpSecurity::None;
        s.mail.smtp_timeout_secs = 1;
    })
    .await;
    assert_eq!(sample(&scrape(&app).await, "portal_outbox_pending"), Some(0.0));

    app.register_company("甲公司").await;
    let text = scrape(&app).await;
    assert_eq!(sample(&text, "portal_outbox_pending"), Some(1.0), "{text}");
    // The worker tries it and fails; it stays pending, not given up.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let attempts: i32 = app
            .db
            .read(|conn| {
                use diesel::prelude::*;
                use portal::db::schema::outbox;
                Ok::<_, portal::db::Error>(outbox::table.select(outbox::attempts).first(conn)?)
            })
            .await
            .unwrap();
        if attempts > 0 {
            break;
        }
        assert!(Instant::now() < deadline, "the worker never tried the message");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let text = scrape(&app).await;
    assert_eq!(sample(&text, "portal_outbox_pending"), Some(1.0), "{text}");
    assert_eq!(sample(&text, "portal_outbox_failed"), Some(0.0), "{text}");
}

const FRONTEND: &str = "https://review.park.example";

async fn with_cors() -> TestApp {
    spawn_app_with(|s| s.server.cors_allowed_origins = vec![FRONTEND.to_owned(), "http://127.0.0.1:3000".into()]).await
}

async fn preflight(app: &TestApp, path: &str, origin: &str) -> Answer {
    app.request(Method::OPTIONS, path, Auth::None)
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "authorization, content-type, idempotency-key, accept-language")
        .await
}

fn cors_headers(response: &Answer) -> Vec<String> {
    response
        .headers()
        .keys()
        .map(|name| name.as_str().to_owned())
        .filter(|name| name.starts_with("access-control-"))
        .collect()
}

fn listed(response: &Answer, header: &str) -> Vec<String> {
    response.header(header).split(',').map(|s| s.trim().to_ascii_lowercase()).collect()
}

#[tokio::test]
async fn an_allowed_origins_preflight_and_requests_get_the_cors_headers() {
    let app = with_cors().await;
    let answer = preflight(&app, "/api/v1/applications/7/disbursements", FRONTEND).await;
    assert_eq!(answer.status(), 200);
    assert_eq!(answer.header("access-control-allow-origin"), FRONTEND);
    assert_eq!(answer.header("access-control-max-age"), "7200");
    assert!(listed(&answer, "access-control-allow-methods").contains(&"post".to_owned()));
    let allowed = listed(&answer, "access-control-allow-headers");
    for header in ["authorization", "content-type", "idempotency-key", "accept-language"] {
        assert!(allowed.contains(&header.to_owned()), "{header} not in {allowed:?}");
    }
    assert!(answer.headers().get("access-control-allow-credentials").is_none(), "bearer tokens, no cookies");

    let programs = app.get("/api/v1/programs", Auth::None).header("origin", FRONTEND).await.expect(200);
    assert_eq!(programs.header("access-control-allow-origin"), FRONTEND);
    let exposed = listed(&programs, "access-control-expose-headers");
    for header in ["x-request-id", "retry-after", "content-disposition"] {
        assert!(exposed.contains(&header.to_owned()), "{header} not in {exposed:?}");
    }
    // A refusal is readable too, so the frontend can show why.
    let refused = app.get("/api/v1/me", Auth::None).header("origin", FRONTEND).await;
    assert_eq!(refused.header("access-control-allow-origin"), FRONTEND);
    problem(refused, 401, "unauthenticated").await;
    let unknown = app.get("/api/v1/nothing-here", Auth::None).header("origin", FRONTEND).await;
    assert_eq!(unknown.header("access-control-allow-origin"), FRONTEND);
    problem(unknown, 404, "not_found").await;
    // Only the JSON API: the service's own pages and probes send none.
    let health = app.get("/health/live", Auth::None).header("origin", FRONTEND).await.expect(200);
    assert_eq!(cors_headers(&health), Vec::<String>::new());
}

#[tokio::test]
async fn another_origin_gets_no_cors_headers_and_its_preflight_is_refused() {
    let app = with_cors().await;
    for origin in ["https://evil.example", "https://review.park.example.evil.example", "http://review.park.example"] {
        let answer = preflight(&app, "/api/v1/applications", origin).await;
        assert!(!answer.status().is_success(), "{origin}: {}", answer.status());
        assert_eq!(cors_headers(&answer), Vec::<String>::new(), "{origin}");

        let programs = app.get("/api/v1/programs", Auth::None).header("origin", origin).await.expect(200);
        assert_eq!(cors_headers(&programs), Vec::<String>::new(), "{origin}");
    }
    // A header outside the list is refused in a preflight from an allowed origin.
    let odd = app
        .request(Method::OPTIONS, "/api/v1/applications", Auth::None)
        .header("origin", FRONTEND)
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "x-debug")
        .await;
    assert!(!odd.status().is_success());
    assert!(odd.headers().get("access-control-allow-origin").is_none());
}

#[tokio::test]
async fn without_allowed_origins_no_cors_header_is_ever_sent() {
    let app = spawn_app().await;
    let answer = preflight(&app, "/api/v1/applications", FRONTEND).await;
    assert_eq!(cors_headers(&answer), Vec::<String>::new());
    problem(answer, 405, "method_not_allowed").await;
    let programs = app.get("/api/v1/programs", Auth::None).header("origin", FRONTEND).await.expect(200);
    assert_eq!(cors_headers(&programs), Vec::<String>::new());
    assert!(programs.headers().get("vary").is_none_or(|v| !v.to_str().unwrap().to_lowercase().contains("origin")));
}

#[tokio::test]
async fn an_award_past_its_payment_due_date_shows_as_overdue() {
    let app = with_metrics().await;
    let admin = app.token_for(Role::Admin).await;
    let reviewer = app.token_for(Role::Reviewer).await;
    let program = app.publish_program(&admin, &crate::helpers::quick_program("IC-2026", 0, 0)).await;
    let case = crate::helpers::approved(&app, &reviewer, program, "甲公司", 1_000_000).await;
    assert_eq!(sample(&scrape(&app).await, "portal_payments_overdue"), Some(0.0), "due in 60 days");

    let id = case.id;
    app.db
        .write(move |conn| {
            use diesel::prelude::*;
            use portal::db::schema::applications;
            let past = chrono::NaiveDate::from_ymd_opt(2026, 1, 5).unwrap();
            diesel::update(applications::table.find(id)).set(applications::payment_due_on.eq(past)).execute(conn)?;
            Ok::<_, portal::db::Error>(())
        })
        .await
        .unwrap();
    assert_eq!(sample(&scrape(&app).await, "portal_payments_overdue"), Some(1.0));
}
