use crate::helpers::spawn_app;

#[tokio::test]
async fn a_running_service_is_live_and_ready() {
    let app = spawn_app().await;
    for path in ["/health/live", "/health/ready"] {
        let response = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
        assert!(response.headers().contains_key("x-request-id"));
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body, serde_json::json!({"status": "ok"}));
    }
}

#[tokio::test]
async fn every_response_carries_a_request_id_and_a_plain_client_id_is_kept() {
    let app = spawn_app().await;
    let mine = app.client.get(app.url("/health/live")).header("x-request-id", "frontend-42").send().await.unwrap();
    assert_eq!(mine.headers()["x-request-id"], "frontend-42");

    let hostile =
        app.client.get(app.url("/nowhere")).header("x-request-id", "bad id\twith<html>").send().await.unwrap();
    let id = hostile.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert_ne!(id, "bad id\twith<html>");
    assert_eq!(id.len(), 36, "a generated UUID replaces an unusable one");
}

#[tokio::test]
async fn the_docs_page_is_served_from_the_binary() {
    let app = spawn_app().await;
    let redirect = app.client.get(app.url("/docs")).send().await.unwrap();
    assert_eq!(redirect.status(), 308);
    assert_eq!(redirect.headers()["location"], "/docs/");

    let page = app.client.get(app.url("/docs/")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("swagger-ui"), "{html}");
    assert!(!html.contains("https://"), "nothing is loaded from elsewhere");

    let initializer = app.client.get(app.url("/docs/swagger-initializer.js")).send().await.unwrap();
    assert_eq!(initializer.status(), 200);
    assert!(initializer.text().await.unwrap().contains("/api/openapi.json"));
}

#[tokio::test]
async fn the_docs_page_can_be_switched_off() {
    let app = crate::helpers::spawn_app_with(|s| s.server.docs_enabled = false).await;
    let page = app.client.get(app.url("/docs/")).send().await.unwrap();
    assert_eq!(page.status(), 404);
    let document = app.client.get(app.url("/api/openapi.json")).send().await.unwrap();
    assert_eq!(document.status(), 200, "the document stays available to clients");
}
