//! Lists, queues and search at province scale: drafts stay the company's own, cursors, queue counts and
//! search that answers the same on both databases.

use portal::domain::role::Role;
use serde_json::{Value, json};

use crate::helpers::{TestApp, act, expert, problem, quick_program, spawn_app, submitted};

fn answers(program: i64) -> Value {
    json!({ "program_id": program, "requested_amount_fen": 300_000_000, "form_data": { "project_name": "项目", "rd_budget_fen": 1 } })
}

/// A draft of a new eligible company: its token and the draft.
async fn draft_of(app: &TestApp, program: i64, name: &str) -> (String, Value) {
    let (company, _) = app.eligible_company(name).await;
    let draft = app.post("/api/v1/applications", &company, &answers(program)).await.expect(201).json();
    (company, draft)
}

fn ids(page: &Value) -> Vec<i64> {
    page["items"].as_array().unwrap().iter().map(|a| a["id"].as_i64().unwrap()).collect()
}

#[tokio::test]
async fn staff_and_experts_never_see_a_draft_in_lists_or_by_id() {
    let app = spawn_app().await;
    let admin = app.token_for(Role::Admin).await;
    let program = app.publish_program(&admin, &quick_program("DRAFTS-2026", 0, 0)).await;
    let sent = submitted(&app, program, "已提交科技有限公司").await;
    let (company, draft) = draft_of(&app, program, "草稿科技有限公司").await;
    let (quitter, abandoned) = draft_of(&app, program, "放弃科技有限公司").await;
    act(
        &app,
        &quitter,
        abandoned["id"].as_i64().unwrap(),
        json!({ "action": "withdraw", "version": abandoned["version"] }),
    )
    .await
    .expect(200);

    let own = app.get("/api/v1/applications", &company).await.expect(200).json();
    assert_eq!(
        (ids(&own), own["total"].as_i64()),
        (vec![draft["id"].as_i64().unwrap()], Some(1)),
        "the company sees its draft"
    );

    let (_, expert_token) = expert(&app, "drafts@expert.example").await;
    let mut callers = vec![(Role::Expert, expert_token)];
    for role in [Role::Reviewer, Role::Finance, Role::Admin] {
        callers.push((role, app.token_for(role).await));
    }
    for (role, token) in &callers {
        let listed = app.get("/api/v1/applications", token).await.expect(200).json();
        let expected = if *role == Role::Expert { vec![] } else { vec![sent.id] };
        assert_eq!(ids(&listed), expected, "{role:?}");
        assert_eq!(listed["total"].as_i64(), Some(i64::try_from(expected.len()).unwrap()), "{role:?}");
        let drafts = app.get("/api/v1/applications?status=draft", token).await.expect(200).json();
        assert_eq!(drafts["total"], 0, "{role:?}");
        // Each read of a draft answers what the same read of an application that does not exist answers.
        for path in ["", "/attachments", "/events", "/reviews", "/invoices", "/disbursements", "/payment-plan"] {
            let nowhere = app.get(&format!("/api/v1/applications/999999{path}"), token).await.status();
            assert!(nowhere == 404 || nowhere == 403, "{role:?} {path}: {nowhere}");
            for hidden in [&draft, &abandoned] {
                let response = app.get(&format!("/api/v1/applications/{}{path}", hidden["id"]), token).await;
                assert_eq!(response.status(), nowhere, "{role:?} {path}: {}", response.text());
            }
        }
    }
    let finance = &callers.iter().find(|(role, _)| *role == Role::Finance).unwrap().1;
    let payment = json!({ "amount_fen": 1, "paid_on": "2026-01-05", "voucher_no": "V-DRAFT-1" });
    let paid = app
        .post(&format!("/api/v1/applications/{}/disbursements", draft["id"]), finance, &payment)
        .header("idempotency-key", "draft-payment-1")
        .await;
    problem(paid, 404, "not_found").await;
}
