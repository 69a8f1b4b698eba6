//! Everything that goes wrong is answered in one envelope, with its documented status and code.

use portal::domain::role::Role;
use reqwest::Method;

use crate::helpers::{Auth, problem, spawn_app};

struct Case {
    name: &'static str,
    method: Method,
    path: &'static str,
    content_type: Option<&'static str>,
    body: String,
    status: u16,
    code: &'static str,
    field: Option<&'static str>,
}

fn case(name: &'static str, method: Method, path: &'static str, status: u16, code: &'static str) -> Case {
    Case { name, method, path, content_type: None, body: String::new(), status, code, field: None }
}

fn login(name: &'static str, content_type: &'static str, body: String, status: u16, code: &'static str) -> Case {
    Case { content_type: Some(content_type), body, ..case(name, Method::POST, "/api/v1/auth/login", status, code) }
}

fn bad_requests(json_limit_bytes: usize) -> Vec<Case> {
    let json = "application/json";
    let over_limit = format!(r#"{{"email":"a@park.example","password":"{}"}}"#, "x".repeat(json_limit_bytes));
    vec![
        login("malformed JSON", json, r#"{"email": "a@park.example", "password": "#.into(), 400, "malformed_request"),
        login(
            "trailing garbage",
            json,
            r#"{"email":"a@park.example","password":"p"} x"#.into(),
            400,
            "malformed_request",
        ),
        login("empty body", json, String::new(), 400, "malformed_request"),
        login(
            "wrong content type",
            "text/plain",
            r#"{"email":"a@park.example","password":"p"}"#.into(),
            415,
            "unsupported_media_type",
        ),
        login("body over the limit", json, over_limit, 413, "payload_too_large"),
        Case {
            field: Some("role"),
            ..login(
                "unknown field",
                json,
                r#"{"email":"a@park.example","password":"p","role":"admin"}"#.into(),
                422,
                "validation_failed",
            )
        },
        Case {
            field: Some("password"),
            ..login("missing field", json, r#"{"email":"a@park.example"}"#.into(), 422, "validation_failed")
        },
        Case {
            field: Some("email"),
            ..login("wrong type", json, r#"{"email":42,"password":"p"}"#.into(), 422, "validation_failed")
        },
        Case {
            field: Some("q"),
            ..case("a NUL character in a query", Method::GET, "/api/v1/companies?q=a%00b", 422, "validation_failed")
        },
        case("bad path parameter", Method::GET, "/api/v1/users/abc", 400, "malformed_request"),
        case(
            "path parameter out of range",
            Method::GET,
            "/api/v1/users/99999999999999999999",
            400,
            "malformed_request",
        ),
        case("unknown route", Method::GET, "/api/v1/nothing-here", 404, "not_found"),
        case("unknown object", Method::GET, "/api/v1/users/424242", 404, "not_found"),
        case("wrong method", Method::DELETE, "/api/v1/auth/login", 405, "method_not_allowed"),
        case("wrong method on a templated path", Method::POST, "/api/v1/users/7", 405, "method_not_allowed"),
    ]
}

#[tokio::test]
async fn each_kind_of_bad_request_gets_its_status_and_the_problem_envelope() {
    let app = spawn_app().await;
    let token = app.token_for(Role::Admin).await;
    for case in bad_requests(app.settings.server.json_limit_bytes) {
        let mut request = app.request(case.method.clone(), case.path, &token);
        if let Some(content_type) = case.content_type {
            request = request.body(content_type, case.body.clone());
        }
        let response = request.await;
        assert_eq!(response.status().as_u16(), case.status, "{}", case.name);
        let body = problem(response, case.status, case.code).await;
        if let Some(field) = case.field {
            assert_eq!(body["errors"][0]["field"], field, "{}: {body}", case.name);
            assert!(body["errors"][0]["message"].as_str().is_some_and(|m| !m.is_empty()), "{}", case.name);
        }
    }
}

#[tokio::test]
async fn a_wrong_method_names_the_methods_that_work() {
    let app = spawn_app().await;
    let response = app.request(Method::PUT, "/health/live", Auth::None).await;
    assert_eq!(response.headers()["allow"], "GET");
    problem(response, 405, "method_not_allowed").await;
}

#[tokio::test]
async fn messages_follow_the_callers_language_with_chinese_by_default() {
    let app = spawn_app().await;
    let chinese = app.get("/nowhere", Auth::None).await;
    let chinese = problem(chinese, 404, "not_found").await;
    assert_eq!(chinese["detail"], "请求的资源不存在。");

    let english = app.get("/nowhere", Auth::None).header("accept-language", "en-GB,en;q=0.9").await;
    let english = problem(english, 404, "not_found").await;
    assert_eq!(english["detail"], "The requested resource does not exist.");
    assert_eq!(english["title"], "Not found");
}

#[tokio::test]
async fn a_missing_or_forged_token_is_401_with_a_bearer_challenge() {
    let app = spawn_app().await;
    let cases = [None, Some("Bearer not-a-jwt"), Some("Basic YWRtaW46YWRtaW4="), Some("Bearer ")];
    for authorization in cases {
        let auth = authorization.map_or(Auth::None, Auth::Header);
        let response = app.get("/api/v1/me", auth).await;
        assert_eq!(response.headers()["www-authenticate"], "Bearer", "{authorization:?}");
        problem(response, 401, "unauthenticated").await;
    }
}
