//! A company's own data, what staff see of it, and who may see what.

use portal::domain::role::Role;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Auth, problem, spawn_app};

#[tokio::test]
async fn a_company_keeps_its_profile_figures_bank_account_and_certifications() {
    let app = spawn_app().await;
    let (token, _) = app.signed_in_company("珠海芯源微电子有限公司").await;

    let patched = app.patch("/api/v1/companies/me", &token, &json!({ "employee_count": 5 })).await;
    assert_eq!(problem(patched, 422, "validation_failed").await["errors"][0]["field"], "employee_count");
    let patched = app.patch("/api/v1/companies/me", &token, &json!({ "credit_code": "91110000802100433B" })).await;
    assert_eq!(problem(patched, 422, "validation_failed").await["errors"][0]["code"], "unknown_field");
    let patched = app
        .patch("/api/v1/companies/me", &token, &json!({ "park_zone": "金鼎", "contact_phone": "13812345678" }))
        .await;
    assert_eq!(patched.status(), 200);
    let company: Value = patched.json();
    assert_eq!(company["park_zone"], "金鼎");
    assert_eq!(company["name"], "珠海芯源微电子有限公司");

    let figures = json!({ "revenue_fen": 8_000_000_000_i64, "rd_expense_fen": 500_000_000_i64, "employee_count": 120, "rd_staff_count": 40 });
    assert_eq!(app.put("/api/v1/companies/me/financials/2025", &token, &figures).await.status(), 200);
    let mut more = figures.clone();
    more["employee_count"] = json!(130);
    assert_eq!(app.put("/api/v1/companies/me/financials/2025", &token, &more).await.status(), 200);
    assert_eq!(app.put("/api/v1/companies/me/financials/2024", &token, &figures).await.status(), 200);
    let mut impossible = figures.clone();
    impossible["rd_staff_count"] = json!(500);
    let refused = app.put("/api/v1/companies/me/financials/2023", &token, &impossible).await;
    assert_eq!(problem(refused, 422, "validation_failed").await["errors"][0]["field"], "rd_staff_count");
    let future = app.put("/api/v1/companies/me/financials/2999", &token, &figures).await;
    assert_eq!(problem(future, 422, "validation_failed").await["errors"][0]["field"], "year");
    let years: Value = app.get("/api/v1/companies/me/financials", &token).await.json();
    assert_eq!(years.as_array().unwrap().len(), 2);
    assert_eq!(years[0]["year"], 2025);
    assert_eq!(years[0]["employee_count"], 130);

    let account = json!({ "bank_name": "中国银行珠海分行", "account_name": "珠海芯源微电子有限公司", "account_no": "6222 0212 3456 7890" });
    let saved: Value = app.put("/api/v1/companies/me/bank-account", &token, &account).await.json();
    assert_eq!(saved["account_no"], "****7890");
    let bad = json!({ "bank_name": "中国银行", "account_name": "芯源", "account_no": "not a number" });
    let bad = app.put("/api/v1/companies/me/bank-account", &token, &bad).await;
    assert_eq!(problem(bad, 422, "validation_failed").await["errors"][0]["field"], "account_no");

    let half = json!({ "high_tech_certificate_no": "GR202544000123" });
    let half = app.put("/api/v1/companies/me/certifications", &token, &half).await;
    problem(half, 422, "validation_failed").await;
    let full = json!({ "high_tech_certificate_no": "GR202544000123", "high_tech_valid_until": "2028-12-31", "tech_sme": true });
    let company: Value = app.put("/api/v1/companies/me/certifications", &token, &full).await.json();
    assert_eq!(company["high_tech_valid_until"], "2028-12-31");
    assert_eq!(company["tech_sme"], true);
    assert_eq!(company["bank_account"]["account_no"], "****7890");
}

#[tokio::test]
async fn only_finance_sees_the_whole_bank_account() {
    let app = spawn_app().await;
    let (token, company_id) = app.signed_in_company("甲公司").await;
    let account = json!({ "bank_name": "中国银行", "account_name": "甲公司", "account_no": "6222021234567890" });
    app.put("/api/v1/companies/me/bank-account", &token, &account).await;
    for (role, expected) in
        [(Role::Reviewer, "****7890"), (Role::Admin, "****7890"), (Role::Finance, "6222021234567890")]
    {
        let staff = app.token_for(role).await;
        let company: Value = app.get(&format!("/api/v1/companies/{company_id}"), &staff).await.json();
        assert_eq!(company["bank_account"]["account_no"], expected, "{role:?}");
    }
    let own: Value = app.get("/api/v1/companies/me", &token).await.json();
    assert_eq!(own["bank_account"]["account_no"], "****7890");
}

#[tokio::test]
async fn staff_search_companies_by_name_or_code_in_any_case() {
    let app = spawn_app().await;
    app.register_company("ABC Microelectronics 珠海有限公司").await;
    app.register_company("珠海生物医药 Bio 有限公司").await;
    app.register_company("100%_Precise 仪器公司").await;
    let reviewer = app.token_for(Role::Reviewer).await;
    let search = |q: &str| {
        let path =
            format!("/api/v1/companies?q={}", url::form_urlencoded::byte_serialize(q.as_bytes()).collect::<String>());
        let (app, reviewer) = (&app, &reviewer);
        async move { app.get(&path, reviewer).await.json() }
    };
    assert_eq!(search("abc micro").await["total"], 1);
    assert_eq!(search("BIO").await["total"], 1);
    assert_eq!(search("珠海").await["total"], 2);
    assert_eq!(search("%").await["total"], 1, "LIKE wildcards are literal");
    assert_eq!(search("_").await["total"], 1);

    let all: Value = app.get("/api/v1/companies?per_page=2", &reviewer).await.json();
    assert_eq!(
        (all["total"].as_i64(), all["items"].as_array().unwrap().len(), all["per_page"].as_i64()),
        (Some(3), 2, Some(2))
    );
    let code = all["items"][0]["credit_code"].as_str().unwrap().to_lowercase();
    assert_eq!(search(&code).await["total"], 1);
    let pending: Value = app.get("/api/v1/companies?verification_status=pending", &reviewer).await.json();
    assert_eq!(pending["total"], 3);
    problem(app.get("/api/v1/companies?per_page=101", &reviewer).await, 422, "validation_failed").await;
    problem(app.get("/api/v1/companies?industry=banking", &reviewer).await, 400, "malformed_request").await;
}

#[tokio::test]
async fn a_reviewer_verifies_or_rejects_a_company_and_the_company_is_told() {
    let app = spawn_app().await;
    let (company_id, email) = app.register_company("甲公司").await;
    let reviewer = app.token_for(Role::Reviewer).await;
    let path = format!("/api/v1/companies/{company_id}/verification");

    let no_reason = app.post(&path, &reviewer, &json!({ "decision": "rejected" })).await;
    assert_eq!(problem(no_reason, 422, "validation_failed").await["errors"][0]["field"], "comment");
    let rejected =
        app.post(&path, &reviewer, &json!({ "decision": "rejected", "comment": "营业执照照片不清晰" })).await;
    assert_eq!(rejected.json()["verification_status"], "rejected");
    let verified = app.post(&path, &reviewer, &json!({ "decision": "verified" })).await;
    assert_eq!(verified.json()["verification_status"], "verified");

    let mail = app.mail_to(&email, 3).await;
    assert!(mail[1].body.contains("营业执照照片不清晰"));
    assert!(mail[2].body.contains("已通过审核"));
    let missing =
        app.post("/api/v1/companies/999999/verification", &reviewer, &json!({ "decision": "verified" })).await;
    problem(missing, 404, "not_found").await;
}

/// Every staff route, with a body where it takes one.
fn staff_routes(company_id: i64, user_id: i64) -> Vec<(Method, String, Option<Value>)> {
    vec![
        (Method::GET, "/api/v1/companies".into(), None),
        (Method::GET, format!("/api/v1/companies/{company_id}"), None),
        (Method::POST, format!("/api/v1/companies/{company_id}/verification"), Some(json!({ "decision": "verified" }))),
        (Method::GET, "/api/v1/users".into(), None),
        (
            Method::POST,
            "/api/v1/users".into(),
            Some(json!({ "email": "x@park.example", "display_name": "x", "role": "admin" })),
        ),
        (Method::GET, format!("/api/v1/users/{user_id}"), None),
        (Method::PATCH, format!("/api/v1/users/{user_id}"), Some(json!({ "status": "disabled" }))),
        (Method::GET, "/api/v1/audit-events".into(), None),
        (Method::GET, "/api/v1/audit-events/verify".into(), None),
    ]
}

#[tokio::test]
async fn companies_are_refused_every_staff_route_and_strangers_every_route() {
    let app = spawn_app().await;
    let (company_a, id_of_a) = app.signed_in_company("甲公司").await;
    let (company_b, company_b_id) = app.signed_in_company("乙公司").await;
    let admin_id = app.create_user(Role::Admin, "admin@park.example").await;
    for (method, path, body) in staff_routes(company_b_id, admin_id) {
        let send = |auth: Auth<'_>| {
            let call = app.request(method.clone(), &path, auth);
            match &body {
                Some(body) => call.json(body),
                None => call,
            }
        };
        send(Auth::Bearer(&company_a)).await.problem(403, "forbidden");
        let anonymous = send(Auth::None).await;
        assert_eq!(anonymous.status(), 401, "{method} {path}");
    }
    let own_b: Value = app.get("/api/v1/companies/me", &company_b).await.json();
    let own_a: Value = app.get("/api/v1/companies/me", &company_a).await.json();
    assert_eq!((own_a["id"].as_i64(), own_a["name"].as_str()), (Some(id_of_a), Some("甲公司")));
    assert_eq!((own_b["id"].as_i64(), own_b["name"].as_str()), (Some(company_b_id), Some("乙公司")));
    let staff_only = app.token_for(Role::Reviewer).await;
    problem(app.get("/api/v1/companies/me", &staff_only).await, 403, "forbidden").await;
}

#[tokio::test]
async fn admins_list_and_filter_accounts() {
    let app = spawn_app().await;
    let admin = app.token_for(Role::Admin).await;
    app.create_user(Role::Expert, "e1@park.example").await;
    app.create_user(Role::Expert, "e2@park.example").await;
    app.register_company("甲公司").await;
    let experts: Value = app.get("/api/v1/users?role=expert", &admin).await.json();
    assert_eq!(experts["total"], 2);
    let applicants: Value = app.get("/api/v1/users?role=applicant", &admin).await.json();
    assert_eq!(applicants["total"], 1);
    assert_eq!(applicants["items"][0]["email_verified"], false);
    let me: Value = app.get("/api/v1/me", &admin).await.json();
    let self_disable =
        app.patch(&format!("/api/v1/users/{}", me["id"]), &admin, &json!({ "status": "disabled" })).await;
    problem(self_disable, 409, "conflict").await;
}
