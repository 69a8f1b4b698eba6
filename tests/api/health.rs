use crate::helpers::{Auth, spawn_app};

#[tokio::test]
async fn a_running_service_is_live_and_ready() {
    let app = spawn_app().await;
    for path in ["/health/live", "/health/ready"] {
        let response = app.get(path, Auth::None).await;
        assert_eq!(response.status(), 200, "{path}");
        assert!(response.headers().contains_key("x-request-id"));
        let body: serde_json::Value = response.json();
        assert_eq!(body, serde_json::json!({"status": "ok"}));
    }
}

#[tokio::test]
async fn every_response_carries_the_services_own_request_id_whatever_the_client_sent() {
    let app = spawn_app().await;
    let mine = app.get("/health/live", Auth::None).header("x-request-id", "frontend-42").await;
    let id = mine.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert_eq!(id.len(), 36, "the service's own UUID, not the client's {id}");
    let again = app.get("/health/live", Auth::None).header("x-request-id", "frontend-42").await;
    assert_ne!(again.headers()["x-request-id"].to_str().unwrap(), id, "one id per request");

    let hostile = app.get("/nowhere", Auth::None).header("x-request-id", "bad id\twith<html>").await;
    let id = hostile.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert_ne!(id, "bad id\twith<html>");
    assert_eq!(id.len(), 36, "a generated UUID, as always");
}

#[tokio::test]
async fn the_docs_page_is_served_from_the_binary() {
    let app = spawn_app().await;
    let redirect = app.get("/docs", Auth::None).await;
    assert_eq!(redirect.status(), 308);
    assert_eq!(redirect.headers()["location"], "/docs/");

    let page = app.get("/docs/", Auth::None).await;
    assert_eq!(page.status(), 200);
    let html = page.text();
    assert!(html.contains("swagger-ui"), "{html}");
    assert!(!html.contains("https://"), "nothing is loaded from elsewhere");

    let initializer = app.get("/docs/swagger-initializer.js", Auth::None).await;
    assert_eq!(initializer.status(), 200);
    assert!(initializer.text().contains("/api/openapi.json"));
}

#[tokio::test]
async fn the_docs_page_can_be_switched_off() {
    let app = crate::helpers::spawn_app_with(|s| s.server.docs_enabled = false).await;
    let page = app.get("/docs/", Auth::None).await;
    assert_eq!(page.status(), 404);
    let document = app.get("/api/openapi.json", Auth::None).await;
    assert_eq!(document.status(), 200, "the document stays available to clients");
}
