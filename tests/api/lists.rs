//! Lists, queues and search at province scale: drafts stay the company's own, cursors, queue counts and
//! search that answers the same on both databases.

use portal::domain::role::Role;
use serde_json::{Value, json};

use diesel::RunQueryDsl;
use diesel::connection::SimpleConnection;
use portal::db::DbConnection;

use crate::helpers::{Auth, TestApp, act, approved, expert, problem, quick_program, spawn_app, step, submitted};

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

/// Runs `sql` straight on the database: the days passing that a test cannot wait for.
fn on_database(app: &TestApp, sql: &str) {
    let mut conn = app.db.connection().unwrap();
    conn.batch_execute(sql).unwrap();
}

#[derive(diesel::QueryableByName, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Counted {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    program_id: i64,
    #[diesel(sql_type = diesel::sql_types::Text)]
    status: String,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

#[tokio::test]
async fn the_queues_count_each_status_and_each_queue_exactly() {
    let app = spawn_app().await;
    let admin = app.token_for(Role::Admin).await;
    let reviewer = app.token_for(Role::Reviewer).await;
    let a = app.publish_program(&admin, &quick_program("QUEUE-A", 5, 1)).await;
    let b = app.publish_program(&admin, &quick_program("QUEUE-B", 0, 0)).await;
    let (_, first_expert) = expert(&app, "q1@expert.example").await;
    let expert_id = app.get("/api/v1/me", &first_expert).await.json()["id"].as_i64().unwrap();

    // Programme A: two waiting for the formal check, a draft, two returned (one overdue), two in expert
    // review (one scored), two in notice (one ending soon, with an objection).
    for name in ["待审一有限公司", "待审二有限公司"] {
        submitted(&app, a, name).await;
    }
    draft_of(&app, a, "草稿有限公司").await;
    let mut returned = Vec::new();
    for name in ["补正一有限公司", "补正二有限公司"] {
        let case = submitted(&app, a, name).await;
        step(&app, &reviewer, case.id, json!({ "action": "return", "comment": "请补充材料" })).await;
        returned.push(case.id);
    }
    let mut reviewed = Vec::new();
    for (n, name) in ["评审一有限公司", "评审二有限公司", "公示一有限公司", "公示二有限公司"].into_iter().enumerate()
    {
        let case = submitted(&app, a, name).await;
        step(&app, &reviewer, case.id, json!({ "action": "accept", "expert_ids": [expert_id] })).await;
        if n > 0 {
            step(&app, &first_expert, case.id, json!({ "action": "declare", "conflict_of_interest": false })).await;
            step(&app, &first_expert, case.id, json!({ "action": "score", "score": 80, "opinion": "可行" })).await;
        }
        if n > 1 {
            step(&app, &reviewer, case.id, json!({ "action": "propose", "approved_amount_fen": 100_000_000 })).await;
        }
        reviewed.push(case.id);
    }
    let objection = json!({ "name": "李四", "contact": "13800000000", "content": "数据不实" });
    app.post(&format!("/api/v1/public-notices/{}/objections", reviewed[2]), Auth::None, &objection).await.expect(201);
    // Programme B (no notice): two approved awards (one overdue), one rejected, one withdrawn.
    let paid_late = approved(&app, &reviewer, b, "批准一有限公司", 50_000_000).await;
    approved(&app, &reviewer, b, "批准二有限公司", 50_000_000).await;
    let rejected = submitted(&app, b, "驳回有限公司").await;
    step(&app, &reviewer, rejected.id, json!({ "action": "reject", "comment": "不符合条件" })).await;
    let withdrawn = submitted(&app, b, "撤回有限公司").await;
    step(&app, &withdrawn.company, withdrawn.id, json!({ "action": "withdraw" })).await;
    on_database(
        &app,
        &format!(
            "UPDATE applications SET correction_due_on = '2020-01-06' WHERE id = {}; \
             UPDATE applications SET notice_ends_on = '2099-12-31' WHERE id = {}; \
             UPDATE applications SET payment_due_on = '2020-01-06' WHERE id = {};",
            returned[0], reviewed[3], paid_late.id
        ),
    );

    for role in [Role::Reviewer, Role::Finance, Role::Admin] {
        let token = app.token_for(role).await;
        let counts = app.get("/api/v1/queues", &token).await.expect(200).json();
        let zero = |set: &[(&str, i64)]| {
            let mut by_status = json!({ "submitted": 0, "returned": 0, "expert_review": 0, "public_notice": 0,
                "approved": 0, "disbursed": 0, "rejected": 0, "withdrawn": 0 });
            for (status, n) in set {
                by_status[*status] = json!(n);
            }
            by_status
        };
        assert_eq!(
            counts["programs"],
            json!([
                { "program_id": a, "code": "QUEUE-A", "title": counts["programs"][0]["title"],
                  "by_status": zero(&[("submitted", 2), ("returned", 2), ("expert_review", 2), ("public_notice", 2)]) },
                { "program_id": b, "code": "QUEUE-B", "title": counts["programs"][1]["title"],
                  "by_status": zero(&[("approved", 2), ("rejected", 1), ("withdrawn", 1)]) },
            ]),
            "{role:?}"
        );
        assert_eq!(
            counts["queues"],
            json!({ "awaiting_formal_check": 2, "ready_to_propose": 1, "notices_ending_soon": 1, "open_objections": 1,
                    "corrections_overdue": 1, "payments_due": 1, "payments_overdue": 1 }),
            "{role:?}"
        );
    }
    // The counters agree with the rows they count.
    let mut conn = app.db.connection().unwrap();
    let rows = |sql: &str, conn: &mut DbConnection| {
        let mut rows: Vec<Counted> = diesel::sql_query(sql).load(conn).unwrap();
        rows.retain(|r| r.n > 0);
        rows.sort();
        rows
    };
    let counted = rows("SELECT program_id, status, n FROM application_counts WHERE submitted", &mut conn);
    let actual = rows(
        "SELECT program_id, status, COUNT(*) AS n FROM applications WHERE submitted_at IS NOT NULL GROUP BY 1, 2",
        &mut conn,
    );
    assert_eq!(counted, actual);
    for role in [Role::Applicant, Role::Expert] {
        let token =
            if role == Role::Expert { first_expert.clone() } else { draft_of(&app, b, "旁观有限公司").await.0 };
        problem(app.get("/api/v1/queues", &token).await, 403, "forbidden").await;
    }
}
