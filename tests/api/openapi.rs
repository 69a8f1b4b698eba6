//! The OpenAPI document describes exactly what the service serves; any change to it shows up in review.

use serde_json::Value;

use crate::helpers::{Auth, spawn_app};

#[tokio::test]
async fn the_document_is_openapi_3_1_and_matches_its_snapshot() {
    let app = spawn_app().await;
    let response = app.get("/api/openapi.json", Auth::None).await;
    assert_eq!(response.status(), 200);
    let document: Value = response.json();
    assert_eq!(document["openapi"], "3.1.0");
    insta::assert_json_snapshot!("openapi", document);
}

#[tokio::test]
async fn every_documented_operation_is_routed() {
    let app = spawn_app().await;
    let document: Value = app.get("/api/openapi.json", Auth::None).await.json();
    let paths = document["paths"].as_object().unwrap();
    assert_eq!(paths.len(), portal::api::openapi().paths.paths.len(), "the served document is the built one");
    for (path, item) in paths {
        // A parameter that cannot parse: a routed request fails in its extractors (400, 401, 403, 422),
        // never in the fallback (404 or 405).
        let concrete: String = path
            .split('/')
            .map(|segment| if segment.starts_with('{') { "x" } else { segment })
            .collect::<Vec<_>>()
            .join("/");
        for method in item.as_object().unwrap().keys() {
            let method: reqwest::Method = method.to_uppercase().parse().unwrap();
            let response = app.request(method.clone(), &concrete, Auth::None).await;
            let status = response.status().as_u16();
            assert!(![404, 405].contains(&status), "{method} {path} is documented but no route answers it ({status})");
        }
    }
}

fn references(value: &Value, found: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(target)) = map.get("$ref") {
                found.push(target.clone());
            }
            map.values().for_each(|v| references(v, found));
        }
        Value::Array(items) => items.iter().for_each(|v| references(v, found)),
        _ => {}
    }
}

#[test]
fn every_schema_the_document_refers_to_is_in_it() {
    let document = serde_json::to_value(portal::api::openapi()).unwrap();
    let mut found = Vec::new();
    references(&document, &mut found);
    assert!(found.len() > 50);
    for target in found {
        let name =
            target.strip_prefix("#/components/schemas/").unwrap_or_else(|| panic!("unexpected reference {target}"));
        assert!(document["components"]["schemas"].get(name).is_some(), "{target} is referred to but not defined");
    }
}
