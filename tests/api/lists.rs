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

/// A park on a busy day: two programmes with applications in every stage and each queue, a draft, a
/// payment, a company request. Answers the first expert's token.
async fn busy_park(app: &TestApp) -> (i64, i64, String) {
    let admin = app.token_for(Role::Admin).await;
    let reviewer = app.token_for(Role::Reviewer).await;
    let a = app.publish_program(&admin, &quick_program("QUEUE-A", 5, 1)).await;
    let b = app.publish_program(&admin, &quick_program("QUEUE-B", 0, 0)).await;
    let (_, first_expert) = expert(app, "q1@expert.example").await;
    let expert_id = app.get("/api/v1/me", &first_expert).await.json()["id"].as_i64().unwrap();

    // Programme A: two waiting for the formal check, a draft, two returned (one overdue), two in expert
    // review (one scored), two in notice (one ending soon, with an objection).
    for name in ["待审一有限公司", "待审二有限公司"] {
        submitted(app, a, name).await;
    }
    draft_of(app, a, "草稿有限公司").await;
    let mut returned = Vec::new();
    for name in ["补正一有限公司", "补正二有限公司"] {
        let case = submitted(app, a, name).await;
        step(app, &reviewer, case.id, json!({ "action": "return", "comment": "请补充材料" })).await;
        returned.push(case.id);
    }
    let mut in_review = Vec::new();
    for (n, name) in ["评审一有限公司", "评审二有限公司", "公示一有限公司", "公示二有限公司"].into_iter().enumerate()
    {
        let case = submitted(app, a, name).await;
        step(app, &reviewer, case.id, json!({ "action": "accept", "expert_ids": [expert_id] })).await;
        if n > 0 {
            step(app, &first_expert, case.id, json!({ "action": "declare", "conflict_of_interest": false })).await;
            step(app, &first_expert, case.id, json!({ "action": "score", "score": 80, "opinion": "可行" })).await;
        }
        if n > 1 {
            step(app, &reviewer, case.id, json!({ "action": "propose", "approved_amount_fen": 100_000_000 })).await;
        }
        in_review.push(case.id);
    }
    let objection = json!({ "name": "李四", "contact": "13800000000", "content": "数据不实" });
    app.post(&format!("/api/v1/public-notices/{}/objections", in_review[2]), Auth::None, &objection).await.expect(201);
    // Programme B (no notice, no scores needed): two approved awards (one overdue), one rejected, one in
    // expert review (ready to propose at once), one withdrawn.
    let paid_late = approved(app, &reviewer, b, "批准一有限公司", 50_000_000).await;
    approved(app, &reviewer, b, "批准二有限公司", 50_000_000).await;
    let rejected = submitted(app, b, "驳回有限公司").await;
    step(app, &reviewer, rejected.id, json!({ "action": "reject", "comment": "不符合条件" })).await;
    let waiting = submitted(app, b, "待提议有限公司").await;
    step(app, &reviewer, waiting.id, json!({ "action": "accept", "expert_ids": [expert_id] })).await;
    let withdrawn = submitted(app, b, "撤回有限公司").await;
    step(app, &withdrawn.company, withdrawn.id, json!({ "action": "withdraw" })).await;
    on_database(
        app,
        &format!(
            "UPDATE applications SET correction_due_on = '2020-01-06' WHERE id = {}; \
             UPDATE applications SET notice_ends_on = '2099-12-31' WHERE id = {}; \
             UPDATE applications SET payment_due_on = '2020-01-06' WHERE id = {};",
            returned[0], in_review[3], paid_late.id
        ),
    );

    let finance = app.token_for(Role::Finance).await;
    for voucher in ["V-PARK-1", "V-PARK-2"] {
        let payment = json!({ "amount_fen": 1_000_000, "paid_on": "2026-01-05", "voucher_no": voucher });
        let path = format!("/api/v1/applications/{}/disbursements", paid_late.id);
        app.post(&path, &finance, &payment).header("idempotency-key", voucher).await.expect(201);
    }
    let request = json!({ "category": "policy_consultation", "subject": "申报条件咨询", "content": "是否符合条件？" });
    app.post("/api/v1/requests", &withdrawn.company, &request).await.expect(201);
    app.post("/api/v1/requests", &rejected.company, &request).await.expect(201);
    (a, b, first_expert)
}

#[tokio::test]
async fn the_queues_count_each_status_and_each_queue_exactly() {
    let app = spawn_app().await;
    let (a, b, first_expert) = busy_park(&app).await;
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
                  "by_status": zero(&[("expert_review", 1), ("approved", 2), ("rejected", 1), ("withdrawn", 1)]) },
            ]),
            "{role:?}"
        );
        assert_eq!(
            counts["queues"],
            json!({ "awaiting_formal_check": 2, "ready_to_propose": 2, "notices_ending_soon": 1, "open_objections": 1,
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
    let counted = rows("SELECT program_id, CAST(scores AS TEXT) AS status, n FROM expert_review_counts", &mut conn);
    let actual = rows(
        "SELECT a.program_id, CAST((SELECT COUNT(*) FROM expert_assignments e \
                                    WHERE e.application_id = a.id AND e.score IS NOT NULL) AS TEXT) AS status, \
                COUNT(*) AS n \
         FROM applications a WHERE a.status = 'expert_review' GROUP BY 1, 2",
        &mut conn,
    );
    assert_eq!((counted.len(), &counted), (3, &actual));
    let counted = rows("SELECT program_id, CAST('ledger' AS TEXT) AS status, n FROM disbursement_counts", &mut conn);
    let actual = rows(
        "SELECT a.program_id, CAST('ledger' AS TEXT) AS status, COUNT(*) AS n \
         FROM disbursements d JOIN applications a ON a.id = d.application_id GROUP BY 1",
        &mut conn,
    );
    assert_eq!((counted.len(), &counted), (1, &actual));
    let counted = rows(
        "SELECT CAST(0 AS BIGINT) AS program_id, status || ' ' || CAST(day AS TEXT) AS status, n FROM application_day_counts",
        &mut conn,
    );
    let actual = rows(
        "SELECT CAST(0 AS BIGINT) AS program_id, status || ' ' || CAST(day AS TEXT) AS status, COUNT(*) AS n FROM ( \
           SELECT status, CASE status WHEN 'public_notice' THEN notice_ends_on WHEN 'returned' THEN correction_due_on \
                                      WHEN 'approved' THEN payment_due_on END AS day FROM applications) dated \
         WHERE day IS NOT NULL GROUP BY 1, 2",
        &mut conn,
    );
    assert_eq!((counted.len(), &counted), (6, &actual));
    let counted = rows(
        "SELECT CAST(0 AS BIGINT) AS program_id, industry || ' ' || park_zone || ' ' || verification_status AS status, n \
         FROM company_counts",
        &mut conn,
    );
    let actual = rows(
        "SELECT CAST(0 AS BIGINT) AS program_id, industry || ' ' || park_zone || ' ' || verification_status AS status, COUNT(*) AS n \
         FROM companies GROUP BY 2",
        &mut conn,
    );
    assert_eq!(counted, actual);
    let counted =
        rows("SELECT CAST(0 AS BIGINT) AS program_id, role || ' ' || status AS status, n FROM user_counts", &mut conn);
    let actual = rows(
        "SELECT CAST(0 AS BIGINT) AS program_id, role || ' ' || status AS status, COUNT(*) AS n FROM users GROUP BY 2",
        &mut conn,
    );
    assert_eq!(counted, actual);
    for role in [Role::Applicant, Role::Expert] {
        let token =
            if role == Role::Expert { first_expert.clone() } else { draft_of(&app, b, "旁观有限公司").await.0 };
        problem(app.get("/api/v1/queues", &token).await, 403, "forbidden").await;
    }
}

/// Follows `path`'s cursors `per_page` at a time: every item's id (or `key`), in order, checking that each
/// page tells the same total and that the last one has no cursor.
async fn walk(app: &TestApp, token: &str, path: &str, per_page: usize, key: &str) -> Vec<Value> {
    let joiner = if path.contains('?') { '&' } else { '?' };
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    let mut total = None;
    for _ in 0..100 {
        let cursor = after.as_ref().map(|c| format!("&after={c}&page=7")).unwrap_or_default();
        let page = app.get(&format!("{path}{joiner}per_page={per_page}{cursor}"), token).await.expect(200).json();
        let items = page["items"].as_array().unwrap();
        assert!(items.len() <= per_page, "{path}");
        seen.extend(items.iter().map(|item| item[key].clone()));
        assert_eq!(*total.get_or_insert(page["total"].clone()), page["total"], "{path}: the total holds");
        let Some(next) = page["next_cursor"].as_str() else {
            assert_eq!(total.unwrap().as_u64(), Some(seen.len() as u64), "{path}: the total is what the walk saw");
            return seen;
        };
        assert_eq!(items.len(), per_page, "{path}: only a full page has a next one");
        after = Some(next.to_owned());
    }
    panic!("{path}: the cursors never ended")
}

#[tokio::test]
async fn following_cursors_visits_every_item_of_every_list_once_in_its_order() {
    let app = spawn_app().await;
    let (a, b, _) = busy_park(&app).await;
    let reviewer = app.token_for(Role::Reviewer).await;
    let finance = app.token_for(Role::Finance).await;
    let admin = app.token_for(Role::Admin).await;
    let lists = [
        (&reviewer, "/api/v1/applications".to_owned(), "id"),
        (&reviewer, format!("/api/v1/applications?program_id={a}"), "id"),
        (&reviewer, format!("/api/v1/applications?status=returned&program_id={a}"), "id"),
        (&reviewer, "/api/v1/applications?q=有限".to_owned(), "id"),
        (&finance, "/api/v1/disbursements".to_owned(), "id"),
        (&finance, format!("/api/v1/disbursements?program_id={b}"), "id"),
        (&reviewer, "/api/v1/companies".to_owned(), "id"),
        (&admin, "/api/v1/users".to_owned(), "id"),
        (&admin, "/api/v1/audit-events".to_owned(), "seq"),
        (&reviewer, "/api/v1/requests".to_owned(), "id"),
        (&reviewer, "/api/v1/public-notices".to_owned(), "application_id"),
        (&reviewer, "/api/v1/programs".to_owned(), "id"),
    ];
    for (token, path, key) in lists {
        let joiner = if path.contains('?') { '&' } else { '?' };
        let whole = app.get(&format!("{path}{joiner}per_page=100"), token).await.expect(200).json();
        let everything: Vec<Value> = whole["items"].as_array().unwrap().iter().map(|item| item[key].clone()).collect();
        assert!(everything.len() >= 2 && everything.len() < 100, "{path}: {}", everything.len());
        assert_eq!(whole["next_cursor"], Value::Null, "{path}");
        for per_page in [1, 2, 3] {
            assert_eq!(walk(&app, token, &path, per_page, key).await, everything, "{path} by {per_page}");
        }
        if key != "application_id" && !path.contains("programs") {
            let ids: Vec<i64> = everything.iter().map(|id| id.as_i64().unwrap()).collect();
            assert!(ids.windows(2).all(|w| w[0] > w[1]), "{path}: newest first");
        }
    }
    // A cursor stays good when newer items arrive: the next page is still the one after it.
    let first = app.get("/api/v1/applications?per_page=2", &reviewer).await.json();
    let rest = walk(&app, &reviewer, "/api/v1/applications", 100, "id").await;
    submitted(&app, a, "后来有限公司").await;
    let next = app
        .get(&format!("/api/v1/applications?per_page=100&after={}", first["next_cursor"].as_str().unwrap()), &reviewer)
        .await
        .json();
    let after_first: Vec<Value> = rest.into_iter().skip(2).collect();
    assert_eq!(next["items"].as_array().unwrap().iter().map(|i| i["id"].clone()).collect::<Vec<_>>(), after_first);
    for bad in ["zz", "6331", "not-a-cursor"] {
        let refused =
            problem(app.get(&format!("/api/v1/applications?after={bad}"), &reviewer).await, 422, "validation_failed")
                .await;
        assert_eq!(refused["errors"][0]["field"], "after");
    }
}

#[tokio::test]
async fn a_list_by_submission_dates_is_in_order_of_submission_and_its_cursors_follow_that_order() {
    let app = spawn_app().await;
    busy_park(&app).await;
    let reviewer = app.token_for(Role::Reviewer).await;
    // The newest applications were submitted first, two of them at the same second.
    let newest = ids(&app.get("/api/v1/applications?per_page=4", &reviewer).await.json());
    on_database(
        &app,
        &format!(
            "UPDATE applications SET submitted_at = '2020-01-05 16:00:00' WHERE id IN ({}, {}); \
             UPDATE applications SET submitted_at = '2020-01-06 09:30:00' WHERE id = {}; \
             UPDATE applications SET submitted_at = '2020-01-07 02:00:00' WHERE id = {};",
            newest[0], newest[1], newest[2], newest[3]
        ),
    );
    for path in [
        "/api/v1/applications?submitted_from=2020-01-01",
        "/api/v1/applications?submitted_from=2020-01-01&submitted_to=2099-12-31",
        "/api/v1/applications?submitted_to=2099-12-31&q=有限",
    ] {
        let whole = app.get(&format!("{path}&per_page=100"), &reviewer).await.expect(200).json();
        let keys: Vec<(chrono::DateTime<chrono::FixedOffset>, i64)> = whole["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| {
                (
                    chrono::DateTime::parse_from_rfc3339(a["submitted_at"].as_str().unwrap()).unwrap(),
                    a["id"].as_i64().unwrap(),
                )
            })
            .collect();
        assert!(keys.len() >= 10, "{path}: {}", keys.len());
        assert!(keys.windows(2).all(|w| w[0] > w[1]), "{path}: last submitted first, then the higher id: {keys:?}");
        let last_four: Vec<i64> = keys.iter().rev().take(4).map(|k| k.1).collect();
        assert_eq!(last_four, [newest[1], newest[0], newest[2], newest[3]], "{path}");
        let everything: Vec<Value> = keys.iter().map(|k| json!(k.1)).collect();
        for per_page in [1, 2, 3] {
            assert_eq!(walk(&app, &reviewer, path, per_page, "id").await, everything, "{path} by {per_page}");
        }
    }
    // A cursor past a list's end date starts it from its end: up to 6 January 2020, local time.
    let early = app.get("/api/v1/applications?per_page=1&submitted_from=2020-01-01", &reviewer).await.json();
    let path = format!("/api/v1/applications?submitted_to=2020-01-06&after={}", early["next_cursor"].as_str().unwrap());
    assert_eq!(ids(&app.get(&path, &reviewer).await.expect(200).json()), [newest[2], newest[0], newest[1]]);
    // A cursor of one order is refused by a list in the other: it would skip or repeat items.
    let by_creation = app.get("/api/v1/applications?per_page=1", &reviewer).await.json()["next_cursor"].clone();
    for path in [
        format!("/api/v1/applications?submitted_from=2020-01-01&after={}", by_creation.as_str().unwrap()),
        format!("/api/v1/applications?after={}", early["next_cursor"].as_str().unwrap()),
    ] {
        let refused = problem(app.get(&path, &reviewer).await, 422, "validation_failed").await;
        assert_eq!(refused["errors"][0]["field"], "after", "{path}");
    }
}

/// The ids `token` finds with `q`, and the total the list tells.
async fn search(app: &TestApp, token: &str, q: &str) -> (Vec<i64>, i64) {
    let q: String = url::form_urlencoded::byte_serialize(q.as_bytes()).collect();
    let page = app.get(&format!("/api/v1/applications?per_page=100&q={q}"), token).await.expect(200).json();
    (ids(&page), page["total"].as_i64().unwrap())
}

#[tokio::test]
async fn search_finds_part_of_a_reference_a_name_or_a_credit_code_in_any_case_the_same_on_both_databases() {
    let app = spawn_app().await;
    let admin = app.token_for(Role::Admin).await;
    let reviewer = app.token_for(Role::Reviewer).await;
    let program = app.publish_program(&admin, &quick_program("SEEK-2026", 0, 0)).await;
    let mut found = Vec::new();
    for name in ["珠海芯源微电子有限公司", "芯源科技有限公司", "华发集团有限公司", "Zhuhai ABC Semiconductor 有限公司"]
    {
        let case = submitted(&app, program, name).await;
        let seen = app.get(&format!("/api/v1/applications/{}", case.id), &reviewer).await.json();
        let reference = seen["reference_no"].as_str().unwrap().to_owned();
        let code = seen["company"]["credit_code"].as_str().unwrap().to_owned();
        found.push((case.id, reference, code));
    }
    let (company, draft) = draft_of(&app, program, "芯源草稿有限公司").await;
    let id = |n: usize| found[n].0;
    let reference = found[2].1.to_lowercase();
    let code_part = found[1].2[4..14].to_lowercase();
    let expectations: Vec<(&str, Vec<i64>)> = vec![
        ("芯源", vec![id(1), id(0)]),
        ("芯源微", vec![id(0)]),
        ("  芯源微电子  ", vec![id(0)]),
        ("semiconductor", vec![id(3)]),
        ("SEMICONDUCTOR", vec![id(3)]),
        ("abc semi", vec![id(3)]),
        ("seek-2026", vec![id(3), id(2), id(1), id(0)]),
        (&reference, vec![id(2)]),
        (&code_part, vec![id(1)]),
        ("集团有限", vec![id(2)]),
        ("%", vec![]),
        ("_", vec![]),
        ("有限公司%", vec![]),
        ("华为", vec![]),
    ];
    for (q, expected) in &expectations {
        let total = i64::try_from(expected.len()).unwrap();
        assert_eq!(search(&app, &reviewer, q).await, (expected.clone(), total), "q={q}");
    }
    // A company finds only its own, its draft included; staff never find the draft.
    assert_eq!(search(&app, &company, "芯源").await, (vec![draft["id"].as_i64().unwrap()], 1));
    assert_eq!(search(&app, &reviewer, "草稿").await, (vec![], 0));
    // The companies list searches the same way.
    let companies = app.get("/api/v1/companies?q=SEMICONDUCTOR", &reviewer).await.expect(200).json();
    assert_eq!(companies["total"], 1);
    assert_eq!(companies["items"][0]["name"], "Zhuhai ABC Semiconductor 有限公司");
}

/// The total `path` tells, checked against the items it lists in one page.
async fn total_of(app: &TestApp, token: &str, path: &str) -> u64 {
    let joiner = if path.contains('?') { '&' } else { '?' };
    let page = app.get(&format!("{path}{joiner}per_page=100"), token).await.expect(200).json();
    let total = page["total"].as_u64().unwrap();
    assert_eq!(
        Some(total),
        u64::try_from(page["items"].as_array().unwrap().len()).ok(),
        "{path}: the total is what it lists"
    );
    total
}

#[tokio::test]
async fn the_totals_by_submission_dates_and_of_running_notices_are_what_the_lists_hold() {
    let app = spawn_app().await;
    let (_, b, _) = busy_park(&app).await;
    let reviewer = app.token_for(Role::Reviewer).await;
    let everything = total_of(&app, &reviewer, "/api/v1/applications").await;
    // Two applications submitted on 6 January 2020, local time (UTC+8): at its first and its last second.
    let newest = ids(&app.get("/api/v1/applications?per_page=2", &reviewer).await.json());
    on_database(
        &app,
        &format!(
            "UPDATE applications SET submitted_at = '2020-01-05 16:00:00' WHERE id = {}; \
             UPDATE applications SET submitted_at = '2020-01-06 15:59:59' WHERE id = {};",
            newest[0], newest[1]
        ),
    );
    for (days, expected) in [
        ("submitted_from=2020-01-06&submitted_to=2020-01-06", 2),
        ("submitted_to=2020-01-05", 0),
        ("submitted_to=2020-01-06", 2),
        ("submitted_from=2020-01-07", everything - 2),
        ("submitted_from=2020-01-06", everything),
        ("submitted_from=2020-01-06&status=withdrawn&submitted_to=2020-01-06", 1),
    ] {
        assert_eq!(total_of(&app, &reviewer, &format!("/api/v1/applications?{days}")).await, expected, "{days}");
    }
    // The hourly counters agree with a fresh count of the submissions per hour.
    let hour = match app.database {
        crate::helpers::TestDatabase::Sqlite(_) => "substr(submitted_at, 1, 13) || ':00:00'",
        crate::helpers::TestDatabase::Postgres { .. } => "CAST(date_trunc('hour', submitted_at) AS TEXT)",
    };
    let mut conn = app.db.connection().unwrap();
    let mut hours = |sql: &str| {
        let mut rows: Vec<Counted> = diesel::sql_query(sql).load(&mut *conn).unwrap();
        rows.retain(|r| r.n > 0);
        rows.sort();
        rows
    };
    let counted =
        hours("SELECT CAST(0 AS BIGINT) AS program_id, CAST(hour AS TEXT) AS status, n FROM submitted_hour_counts");
    let actual = hours(&format!(
        "SELECT CAST(0 AS BIGINT) AS program_id, {hour} AS status, COUNT(*) AS n FROM applications \
         WHERE submitted_at IS NOT NULL GROUP BY 2"
    ));
    assert!(counted.len() >= 3, "{counted:?}");
    assert_eq!(counted, actual);

    // An award proposed in a programme without a notice period is in public notice in name only.
    let running = total_of(&app, &reviewer, "/api/v1/public-notices").await;
    assert_eq!(running, 2);
    let (expert_id, _) = expert(&app, "no-notice@expert.example").await;
    let proposed = submitted(&app, b, "无公示有限公司").await;
    step(&app, &reviewer, proposed.id, json!({ "action": "accept", "expert_ids": [expert_id] })).await;
    let moved =
        step(&app, &reviewer, proposed.id, json!({ "action": "propose", "approved_amount_fen": 1_000_000 })).await;
    assert_eq!(moved["status"], "public_notice");
    assert_eq!(total_of(&app, &reviewer, "/api/v1/public-notices").await, running);
}

#[tokio::test]
async fn the_totals_of_companies_and_accounts_follow_each_filter_through_changes() {
    let app = spawn_app().await;
    let admin = app.token_for(Role::Admin).await;
    let reviewer = app.token_for(Role::Reviewer).await;
    let mut companies = Vec::new();
    for name in ["甲一有限公司", "甲二有限公司", "甲三有限公司"] {
        companies.push(app.register_company(name).await.0);
    }
    let verify = |id: i64, decision: &'static str| {
        let (app, reviewer) = (&app, &reviewer);
        async move {
            let path = format!("/api/v1/companies/{id}/verification");
            let body = json!({ "decision": decision, "comment": "营业执照照片不清晰" });
            app.post(&path, reviewer, &body).await.expect(200);
        }
    };
    verify(companies[0], "verified").await;
    verify(companies[1], "rejected").await;
    verify(companies[1], "verified").await;
    let pending = total_of(&app, &reviewer, "/api/v1/companies?verification_status=pending").await;
    let verified = total_of(&app, &reviewer, "/api/v1/companies?verification_status=verified").await;
    assert_eq!((pending, verified), (1, 2));
    assert_eq!(total_of(&app, &reviewer, "/api/v1/companies").await, 3);
    let company = app.get(&format!("/api/v1/companies/{}", companies[2]), &reviewer).await.expect(200).json();
    let (industry, zone) = (company["industry"].as_str().unwrap(), company["park_zone"].as_str().unwrap());
    let zone = url::form_urlencoded::byte_serialize(zone.as_bytes()).collect::<String>();
    let same = format!("/api/v1/companies?industry={industry}&park_zone={zone}&verification_status=pending");
    assert_eq!(total_of(&app, &reviewer, &same).await, 1);
    assert_eq!(total_of(&app, &reviewer, "/api/v1/companies?q=甲二").await, 1);

    let accounts = total_of(&app, &admin, "/api/v1/users").await;
    let invited = app
        .post(
            "/api/v1/users",
            &admin,
            &json!({ "email": "new@park.example", "display_name": "新同事", "role": "finance" }),
        )
        .await
        .expect(201)
        .json();
    assert_eq!(total_of(&app, &admin, "/api/v1/users").await, accounts + 1);
    let finance = total_of(&app, &admin, "/api/v1/users?role=finance").await;
    let path = format!("/api/v1/users/{}", invited["id"]);
    app.patch(&path, &admin, &json!({ "status": "disabled" })).await.expect(200);
    assert_eq!(total_of(&app, &admin, "/api/v1/users?role=finance&status=disabled").await, 1);
    assert_eq!(total_of(&app, &admin, "/api/v1/users?role=finance&status=active").await, finance - 1);
    assert_eq!(total_of(&app, &admin, "/api/v1/users?role=reviewer&status=disabled").await, 0);
    assert_eq!(total_of(&app, &admin, "/api/v1/users?status=disabled").await, 1);
    assert_eq!(total_of(&app, &admin, "/api/v1/users").await, accounts + 1);
}
