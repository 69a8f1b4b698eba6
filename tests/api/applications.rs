//! A company's application from draft to submission: its rules, its materials, and who may see it.

use std::sync::Arc;

use portal::domain::role::Role;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{PDF, TestApp, act, application as read_application, problem, program_body, spawn_app, upload};

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR";
const JPEG: &[u8] = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00";

fn answers() -> Value {
    json!({ "project_name": "车规级 MCU 研发", "rd_budget_fen": 300_000_000, "stage": "研发" })
}

async fn draft(app: &TestApp, token: &str, program_id: i64) -> Value {
    let body = json!({ "program_id": program_id, "requested_amount_fen": 200_000_000, "form_data": answers() });
    let response = app.post("/api/v1/applications", token, &body).await;
    assert_eq!(response.status(), 201, "{}", response.text());
    response.json()
}

/// Files in the upload folder, staging included.
fn stored_files(app: &TestApp) -> usize {
    fn count(dir: &std::path::Path) -> usize {
        std::fs::read_dir(dir).map_or(0, |entries| {
            entries.map(|e| e.unwrap().path()).map(|p| if p.is_dir() { count(&p) } else { 1 }).sum()
        })
    }
    count(app.uploads.path())
}

#[tokio::test]
async fn a_company_drafts_uploads_and_submits_and_gets_a_receipt() {
    let app = spawn_app().await;
    let admin = app.token_for(Role::Admin).await;
    app.create_user(Role::Reviewer, "reviewer@park.example").await;
    let program = app.publish_program(&admin, &program_body("IC-2026")).await;
    let (token, _) = app.eligible_company("珠海芯源微电子有限公司").await;

    let created = draft(&app, &token, program).await;
    let id = created["id"].as_i64().unwrap();
    assert_eq!(created["status"], "draft");
    assert_eq!(created["status_label"]["zh"], "草稿，尚未提交");
    assert_eq!(created["reference_no"], Value::Null);
    assert_eq!(created["allowed_actions"], json!(["submit", "withdraw"]));
    assert_eq!(created["program"]["code"], "IC-2026");

    let uploaded = upload(&app, &token, id, "business_license", "营业执照.pdf", PDF, "application/pdf").await;
    assert_eq!(uploaded.status(), 201);
    let uploaded: Value = uploaded.json();
    assert_eq!(uploaded["content_type"], "application/pdf");
    assert_eq!(uploaded["size_bytes"], PDF.len());

    let version = read_application(&app, &token, id).await["version"].clone();
    let submitted = act(&app, &token, id, json!({ "action": "submit", "version": version })).await;
    assert_eq!(submitted.status(), 200);
    let submitted: Value = submitted.json();
    assert_eq!(submitted["status"], "submitted");
    assert_eq!(submitted["reference_no"], "IC-2026-0001");
    assert!(submitted["submitted_at"].as_str().is_some());
    assert_eq!(submitted["allowed_actions"], json!(["withdraw"]));

    let me: Value = app.get("/api/v1/me", &token).await.json();
    let receipt = app.mail_to(me["email"].as_str().unwrap(), 1).await;
    assert!(receipt[0].subject.contains("IC-2026-0001"));
    let notice = app.mail_to("reviewer@park.example", 1).await;
    assert!(notice[0].body.contains("珠海芯源微电子有限公司"));

    let edit = app.patch(&format!("/api/v1/applications/{id}"), &token, &json!({ "requested_amount_fen": 1 })).await;
    problem(edit, 409, "conflict").await;
    let late_upload = upload(&app, &token, id, "business_license", "again.pdf", PDF, "application/pdf").await;
    problem(late_upload, 409, "conflict").await;
    let stale = act(&app, &token, id, json!({ "action": "withdraw", "version": version })).await;
    problem(stale, 409, "conflict").await;

    let reviewer = app.token_for(Role::Reviewer).await;
    let as_reviewer = read_application(&app, &reviewer, id).await;
    assert_eq!(as_reviewer["company"]["name"], "珠海芯源微电子有限公司");
    let audit: Value =
        app.get(&format!("/api/v1/audit-events?object_type=application&object_id={id}"), &admin).await.json();
    let actions: Vec<&str> = audit["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["application.submit", "application.attachment_upload", "application.create"]);
}

#[tokio::test]
async fn one_live_application_per_company_and_programme() {
    let app = spawn_app().await;
    let admin = app.token_for(Role::Admin).await;
    let program = app.publish_program(&admin, &program_body("IC-2026")).await;
    let (token, _) = app.eligible_company("甲公司").await;
    let absurd = app
        .post("/api/v1/applications", &token, &json!({ "program_id": program, "requested_amount_fen": i64::MAX }))
        .await;
    assert_eq!(problem(absurd, 422, "validation_failed").await["errors"][0]["code"], "out_of_range");
    let first = draft(&app, &token, program).await;
    let again =
        app.post("/api/v1/applications", &token, &json!({ "program_id": program, "requested_amount_fen": 1 })).await;
    problem(again, 409, "duplicate_application").await;

    let withdrawn = act(
        &app,
        &token,
        first["id"].as_i64().unwrap(),
        json!({ "action": "withdraw", "version": first["version"], "comment": "重新准备" }),
    )
    .await;
    assert_eq!(withdrawn.json()["status"], "withdrawn");
    draft(&app, &token, program).await;
}

struct Refused {
    name: &'static str,
    status: u16,
    code: &'static str,
    field: Option<&'static str>,
}

#[tokio::test]
async fn a_submission_that_misses_anything_is_refused_with_its_reason_and_changes_nothing() {
    let app = spawn_app().await;
    let admin = app.token_for(Role::Admin).await;
    let program = app.publish_program(&admin, &program_body("IC-2026")).await;
    let mut marine = program_body("MAR-2026");
    marine["eligibility_rules"] = json!([{ "type": "industry_in", "values": ["marine"] }]);
    marine["required_materials"] = json!([]);
    let marine = app.publish_program(&admin, &marine).await;
    let mut future = program_body("FUT-2026");
    future["opens_at"] = json!((chrono::Utc::now() + chrono::Duration::days(1)).to_rfc3339());
    let future = app.publish_program(&admin, &future).await;
    let (token, _) = app.eligible_company("甲公司").await;

    let no_material = draft(&app, &token, program).await;
    let not_open = draft(&app, &token, future).await;
    let not_eligible = draft(&app, &token, marine).await;
    let cases = [
        (
            no_material.clone(),
            Refused {
                name: "required material missing",
                status: 422,
                code: "missing_materials",
                field: Some("materials.business_license"),
            },
        ),
        (not_open.clone(), Refused { name: "window not open", status: 409, code: "window_closed", field: None }),
        (
            not_eligible.clone(),
            Refused { name: "not eligible", status: 422, code: "not_eligible", field: Some("eligibility.industry_in") },
        ),
    ];
    for (application, case) in cases {
        let id = application["id"].as_i64().unwrap();
        let response = act(&app, &token, id, json!({ "action": "submit", "version": application["version"] })).await;
        let body = problem(response, case.status, case.code).await;
        if let Some(field) = case.field {
            assert_eq!(body["errors"][0]["field"], field, "{}: {body}", case.name);
            assert!(!body["errors"][0]["message"].as_str().unwrap().is_empty());
        }
        let after = read_application(&app, &token, id).await;
        assert_eq!(
            (after["status"].as_str(), after["version"].clone(), after["reference_no"].clone()),
            (Some("draft"), application["version"].clone(), Value::Null),
            "{}",
            case.name
        );
    }

    let incomplete = app
        .patch(
            &format!("/api/v1/applications/{}", no_material["id"]),
            &token,
            &json!({ "form_data": { "project_name": "只填了名称" } }),
        )
        .await;
    assert_eq!(incomplete.status(), 200, "saving an incomplete form is fine");
    let id = no_material["id"].as_i64().unwrap();
    upload(&app, &token, id, "business_license", "l.pdf", PDF, "application/pdf").await;
    let current = read_application(&app, &token, id).await;
    let refused = act(&app, &token, id, json!({ "action": "submit", "version": current["version"] })).await;
    assert_eq!(problem(refused, 422, "validation_failed").await["errors"][0]["field"], "form_data.rd_budget_fen");
    let invalid = app
        .patch(
            &format!("/api/v1/applications/{id}"),
            &token,
            &json!({ "form_data": { "project_name": "x", "rd_budget_fen": "很多", "stage": "上市" } }),
        )
        .await;
    let invalid = problem(invalid, 422, "validation_failed").await;
    let fields: Vec<&str> =
        invalid["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["form_data.rd_budget_fen", "form_data.stage"]);
    let greedy = app
        .patch(
            &format!("/api/v1/applications/{id}"),
            &token,
            &json!({ "form_data": answers(), "requested_amount_fen": 500_000_001 }),
        )
        .await;
    let greedy: Value = greedy.json();
    let refused = act(&app, &token, id, json!({ "action": "submit", "version": greedy["version"] })).await;
    assert_eq!(problem(refused, 422, "validation_failed").await["errors"][0]["code"], "exceeds_max_award");
}

/// What is uploaded, its file name, content and claimed type, and the status and code it gets.
type UploadCase = (&'static str, &'static str, Vec<u8>, &'static str, u16, &'static str);

#[tokio::test]
async fn uploads_are_judged_by_their_content_and_limits_and_leave_no_stray_file() {
    let app = spawn_app().await;
    let admin = app.token_for(Role::Admin).await;
    let program = app.publish_program(&admin, &program_body("IC-2026")).await;
    let (token, _) = app.eligible_company("甲公司").await;
    let id = draft(&app, &token, program).await["id"].as_i64().unwrap();

    for (name, bytes, claimed) in
        [("a.pdf", PDF, "application/pdf"), ("b.png", PNG, "image/png"), ("c.jpg", JPEG, "image/jpeg")]
    {
        let response = upload(&app, &token, id, "business_license", name, bytes, claimed).await;
        assert_eq!(response.status(), 201, "{name}");
    }
    let files_after_good = stored_files(&app);
    assert_eq!(files_after_good, 3);

    let one_mib = 1_048_576;
    let mut too_big = PDF.to_vec();
    too_big.resize(one_mib + 1, b' ');
    let mut at_limit = PDF.to_vec();
    at_limit.resize(one_mib, b' ');
    let cases: Vec<UploadCase> = vec![
        (
            "an executable renamed .pdf",
            "setup.pdf",
            b"MZ\x90\x00\x03\x00\x00\x00".to_vec(),
            "application/pdf",
            415,
            "unsupported_media_type",
        ),
        (
            "HTML claiming to be a PDF",
            "invoice.pdf",
            b"<html><script>alert(1)</script></html>".to_vec(),
            "application/pdf",
            415,
            "unsupported_media_type",
        ),
        (
            "a PNG where only PDF is accepted",
            "report.pdf",
            PNG.to_vec(),
            "application/pdf",
            415,
            "unsupported_media_type",
        ),
        ("an empty file", "empty.pdf", Vec::new(), "application/pdf", 422, "validation_failed"),
        ("one byte over the limit", "big.pdf", too_big, "application/pdf", 413, "payload_too_large"),
    ];
    for (name, file_name, bytes, claimed, status, code) in cases {
        let key = if name.contains("only PDF") { "audit_report" } else { "business_license" };
        let response = upload(&app, &token, id, key, file_name, &bytes, claimed).await;
        problem(response, status, code).await;
        assert_eq!(stored_files(&app), files_after_good, "{name} left a file behind");
    }
    let exact = upload(&app, &token, id, "business_license", "exact.pdf", &at_limit, "application/pdf").await;
    assert_eq!(exact.status(), 201, "a file exactly at the limit is fine");

    let traversal =
        upload(&app, &token, id, "business_license", "../../../etc/passwd.pdf", PDF, "application/pdf").await;
    let traversal: Value = traversal.json();
    assert_eq!(traversal["file_name"], "passwd.pdf");
    assert!(!app.uploads.path().join("../../../etc/passwd.pdf").exists());

    let unknown = upload(&app, &token, id, "tax_return", "t.pdf", PDF, "application/pdf").await;
    assert_eq!(problem(unknown, 422, "validation_failed").await["errors"][0]["field"], "material_key");

    let nameless = "--XyZ\r\nContent-Disposition: form-data; filename=\"a.pdf\"\r\nContent-Type: application/pdf\r\n\r\n%PDF-1.7\r\n--XyZ--\r\n";
    let response = app
        .request(Method::POST, &format!("/api/v1/applications/{id}/attachments"), &token)
        .body("multipart/form-data; boundary=XyZ", nameless)
        .await;
    problem(response, 400, "malformed_request").await;
    let not_multipart =
        app.post(&format!("/api/v1/applications/{id}/attachments"), &token, &json!({ "file": "x" })).await;
    assert_eq!(not_multipart.status(), 400);
    assert_eq!(stored_files(&app), files_after_good + 2);
}

#[tokio::test]
async fn a_download_is_the_same_file_under_its_chinese_name_and_cannot_be_sniffed() {
    let app = spawn_app().await;
    let admin = app.token_for(Role::Admin).await;
    let program = app.publish_program(&admin, &program_body("IC-2026")).await;
    let (token, _) = app.eligible_company("甲公司").await;
    let id = draft(&app, &token, program).await["id"].as_i64().unwrap();
    let uploaded: Value =
        upload(&app, &token, id, "business_license", "营业执照 副本.pdf", PDF, "text/html").await.json();

    let response = app.get(&format!("/api/v1/applications/{id}/attachments/{}", uploaded["id"]), &token).await;
    assert_eq!(response.status(), 200);
    let headers = response.headers().clone();
    assert_eq!(headers["content-type"], "application/pdf");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    let disposition = headers["content-disposition"].to_str().unwrap();
    assert!(disposition.starts_with("attachment"), "{disposition}");
    assert!(
        disposition.contains("filename*=UTF-8''%E8%90%A5%E4%B8%9A%E6%89%A7%E7%85%A7%20%E5%89%AF%E6%9C%AC.pdf"),
        "{disposition}"
    );
    assert_eq!(response.bytes(), PDF);

    let listed: Value = app.get(&format!("/api/v1/applications/{id}/attachments"), &token).await.json();
    assert_eq!(listed[0]["sha256"], uploaded["sha256"]);
    let removed = app.delete(&format!("/api/v1/applications/{id}/attachments/{}", uploaded["id"]), &token).await;
    assert_eq!(removed.status(), 204);
    assert_eq!(stored_files(&app), 0);
}

#[tokio::test]
async fn another_company_cannot_list_read_download_or_act_on_an_application() {
    let app = spawn_app().await;
    let admin = app.token_for(Role::Admin).await;
    let program = app.publish_program(&admin, &program_body("IC-2026")).await;
    let (owner, _) = app.eligible_company("甲公司").await;
    let (stranger, _) = app.eligible_company("乙公司").await;
    let application = draft(&app, &owner, program).await;
    let id = application["id"].as_i64().unwrap();
    let file: Value = upload(&app, &owner, id, "business_license", "l.pdf", PDF, "application/pdf").await.json();

    let listed: Value = app.get("/api/v1/applications", &stranger).await.json();
    assert_eq!(listed["total"], 0);
    let attempts = [
        app.get(&format!("/api/v1/applications/{id}"), &stranger).await,
        app.get(&format!("/api/v1/applications/{id}/attachments"), &stranger).await,
        app.get(&format!("/api/v1/applications/{id}/attachments/{}", file["id"]), &stranger).await,
        act(&app, &stranger, id, json!({ "action": "withdraw", "version": application["version"] })).await,
        app.patch(&format!("/api/v1/applications/{id}"), &stranger, &json!({ "requested_amount_fen": 1 })).await,
        app.delete(&format!("/api/v1/applications/{id}"), &stranger).await,
        upload(&app, &stranger, id, "business_license", "x.pdf", PDF, "application/pdf").await,
    ];
    for response in attempts {
        problem(response, 404, "not_found").await;
    }
    let mine = read_application(&app, &owner, id).await;
    assert_eq!(mine["version"], application["version"].as_i64().unwrap() + 1, "only the upload changed it");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_companies_submitting_at_once_get_fifty_consecutive_reference_numbers() {
    let app = Arc::new(spawn_app().await);
    let admin = app.token_for(Role::Admin).await;
    let mut body = program_body("RUSH-2026");
    body["required_materials"] = json!([]);
    let program = app.publish_program(&admin, &body).await;
    let mut drafts = Vec::new();
    for n in 0..50 {
        let (token, _) = app.eligible_company(&format!("第{n}号公司")).await;
        let application = draft(&app, &token, program).await;
        drafts.push((token, application["id"].as_i64().unwrap(), application["version"].clone()));
    }
    let submissions = drafts.into_iter().map(|(token, id, version)| {
        let app = app.clone();
        tokio::spawn(async move {
            let response = act(&app, &token, id, json!({ "action": "submit", "version": version })).await;
            assert_eq!(response.status(), 200);
            response.json()["reference_no"].as_str().unwrap().to_owned()
        })
    });
    let mut numbers: Vec<String> =
        futures_util::future::join_all(submissions).await.into_iter().map(Result::unwrap).collect();
    numbers.sort();
    let expected: Vec<String> = (1..=50).map(|n| format!("RUSH-2026-{n:04}")).collect();
    assert_eq!(numbers, expected);
}
