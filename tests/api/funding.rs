//! Funding integrity: an invoice backs one live application in the whole system, a company holds one
//! award per support family (a higher one may supersede an unpaid lower one), an award is capped at a
//! share of the claimed invoices, and a batch is allocated pro rata to the fen, all or nothing.

use std::sync::Arc;

use portal::domain::role::Role;
use serde_json::{Value, json};

use diesel::RunQueryDsl;
use diesel::connection::SimpleConnection;

use crate::helpers::{
    Answer, TestApp, TestDatabase, act, application, expert, problem, quick_program, spawn_app, step,
};

const SELLER: &str = "91350100M000100Y43";
const OTHER_SELLER: &str = "91110000802100433B";

fn invoice(seller: &str, number: &str, amount_fen: i64) -> Value {
    let issued_on = chrono::Utc::now().date_naive().pred_opt().unwrap();
    json!({ "seller_tax_id": seller, "invoice_no": number, "issued_on": issued_on, "amount_fen": amount_fen })
}

async fn claim(app: &TestApp, token: &str, id: i64, invoices: &[Value]) -> Answer {
    app.put(&format!("/api/v1/applications/{id}/invoices"), token, &json!({ "invoices": invoices })).await
}

/// A draft of `company` in `program` asking for `requested_fen`: its id.
async fn draft(app: &TestApp, company: &str, program: i64, requested_fen: i64) -> i64 {
    let body = json!({ "program_id": program, "requested_amount_fen": requested_fen, "form_data": { "project_name": "项目", "rd_budget_fen": 1 } });
    app.post("/api/v1/applications", company, &body).await.expect(201).json()["id"].as_i64().unwrap()
}

/// `draft`, submitted and accepted for expert review (the programme needs no scores): its id.
async fn in_review(app: &TestApp, reviewer: &str, company: &str, program: i64, requested_fen: i64) -> i64 {
    let id = draft(app, company, program, requested_fen).await;
    in_review_from_draft(app, reviewer, company, id).await
}

async fn in_review_from_draft(app: &TestApp, reviewer: &str, company: &str, id: i64) -> i64 {
    step(app, company, id, json!({ "action": "submit" })).await;
    let (expert_id, _) = expert(app, &format!("{}@expert.example", uuid::Uuid::new_v4().simple())).await;
    step(app, reviewer, id, json!({ "action": "accept", "expert_ids": [expert_id] })).await;
    id
}

async fn program(app: &TestApp, admin: &str, id: i64) -> Value {
    app.get(&format!("/api/v1/programs/{id}"), admin).await.expect(200).json()
}

/// A published programme without notice period or scores to wait for, with `changes` to its body.
async fn publish(app: &TestApp, admin: &str, code: &str, changes: &Value) -> i64 {
    let mut body = quick_program(code, 0, 0);
    for (key, value) in changes.as_object().unwrap() {
        body[key] = value.clone();
    }
    app.publish_program(admin, &body).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_racing_claims_by_two_companies_on_one_invoice_get_exactly_one_success() {
    let app = Arc::new(spawn_app().await);
    let admin = app.token_for(Role::Admin).await;
    let (first, _) = app.eligible_company("甲集成电路有限公司").await;
    let (second, _) = app.eligible_company("乙微电子有限公司").await;
    // A company has one live application per programme, so twenty applications need ten programmes.
    let mut drafts = Vec::new();
    for n in 0..10 {
        let program = publish(&app, &admin, &format!("RACE-{n}"), &json!({})).await;
        drafts.push((first.clone(), draft(&app, &first, program, 300_000_000).await));
        drafts.push((second.clone(), draft(&app, &second, program, 300_000_000).await));
    }
    let attempts = drafts.iter().enumerate().map(|(n, (company, id))| {
        let (app, company, id) = (app.clone(), company.clone(), *id);
        tokio::spawn(async move {
            let own = invoice(OTHER_SELLER, &format!("{:08}", 10_000_000 + n), 500_000);
            let answer = claim(&app, &company, id, &[invoice(SELLER, "24442000000012345678", 1_000_000), own]).await;
            (id, answer.status().as_u16(), answer.text())
        })
    });
    let outcomes: Vec<(i64, u16, String)> =
        futures_util::future::join_all(attempts).await.into_iter().map(Result::unwrap).collect();

    let winners: Vec<i64> = outcomes.iter().filter(|(_, s, _)| *s == 200).map(|(id, _, _)| *id).collect();
    assert_eq!(winners.len(), 1, "{outcomes:?}");
    for (_, status, text) in outcomes.iter().filter(|(_, s, _)| *s != 200) {
        assert_eq!(*status, 409, "{text}");
        let body: Value = serde_json::from_str(text).unwrap();
        assert_eq!(body["code"], "invoice_already_claimed");
        let fields: Vec<&str> =
            body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
        assert_eq!(fields, ["invoices[0].invoice_no"], "one entry per clash, the company's own invoice is fine");
        assert!(!text.contains("甲集成电路") && !text.contains("乙微电子"), "names no company: {text}");
    }
    for (company, id) in &drafts {
        let held: Value = app.get(&format!("/api/v1/applications/{id}/invoices"), company).await.expect(200).json();
        let expected = if winners.contains(id) { 1_500_000 } else { 0 };
        assert_eq!(held["eligible_cost_fen"], expected, "a refused claim keeps nothing");
    }
}

#[tokio::test]
async fn withdrawing_or_rejecting_frees_the_invoices_for_another_application() {
    let app = spawn_app().await;
    let admin = app.token_for(Role::Admin).await;
    let reviewer = app.token_for(Role::Reviewer).await;
    let program = publish(&app, &admin, "FREE-2026", &json!({})).await;
    let (first, _) = app.eligible_company("甲公司").await;
    let (second, _) = app.eligible_company("乙公司").await;
    let (third, _) = app.eligible_company("丙公司").await;
    let shared = invoice(SELLER, "12345678", 2_000_000);

    let held = draft(&app, &first, program, 300_000_000).await;
    let claimed = claim(&app, &first, held, std::slice::from_ref(&shared)).await.expect(200).json();
    assert_eq!(claimed["eligible_cost_fen"], 2_000_000);
    let taken = draft(&app, &second, program, 300_000_000).await;
    problem(claim(&app, &second, taken, std::slice::from_ref(&shared)).await, 409, "invoice_already_claimed").await;

    step(&app, &first, held, json!({ "action": "withdraw" })).await;
    let released: Value = app.get(&format!("/api/v1/applications/{held}/invoices"), &first).await.expect(200).json();
    assert!(released["invoices"][0]["released_at"].is_string(), "{released}");
    assert_eq!(released["eligible_cost_fen"], 0);
    claim(&app, &second, taken, std::slice::from_ref(&shared)).await.expect(200);

    step(&app, &second, taken, json!({ "action": "submit" })).await;
    let reference = application(&app, &second, taken).await["reference_no"].as_str().unwrap().to_owned();
    problem(claim(&app, &second, taken, &[]).await, 409, "conflict").await;
    let blocked = draft(&app, &third, program, 300_000_000).await;
    problem(claim(&app, &third, blocked, std::slice::from_ref(&shared)).await, 409, "invoice_already_claimed").await;
    step(&app, &reviewer, taken, json!({ "action": "reject", "comment": "不符合支持方向" })).await;
    claim(&app, &third, blocked, std::slice::from_ref(&shared)).await.expect(200);

    // Staff see which other applications claimed the same invoice; the company does not.
    let staff: Value = app.get(&format!("/api/v1/applications/{taken}/invoices"), &reviewer).await.expect(200).json();
    assert_eq!(staff["invoices"][0]["other_claims"], Value::Null, "drafts are not named: {staff}");
    step(&app, &third, blocked, json!({ "action": "submit" })).await;
    let staff: Value = app.get(&format!("/api/v1/applications/{blocked}/invoices"), &reviewer).await.expect(200).json();
    let others = &staff["invoices"][0]["other_claims"];
    assert_eq!(others.as_array().unwrap().len(), 1, "{staff}");
    assert_eq!(
        (others[0]["reference_no"].as_str(), others[0]["live"].as_bool()),
        (Some(reference.as_str()), Some(false))
    );
    let own: Value = app.get(&format!("/api/v1/applications/{blocked}/invoices"), &third).await.expect(200).json();
    assert_eq!(own["invoices"][0]["other_claims"], Value::Null);
}

#[tokio::test]
async fn bad_invoices_are_refused_each_by_its_place() {
    let app = spawn_app().await;
    let admin = app.token_for(Role::Admin).await;
    let program = publish(&app, &admin, "BAD-2026", &json!({})).await;
    let (company, _) = app.eligible_company("甲公司").await;
    let id = draft(&app, &company, program, 300_000_000).await;
    let tomorrow = (chrono::Utc::now() + chrono::Duration::days(2)).date_naive();
    let bad = [
        invoice("911100001000000000", "12345678", 1),
        invoice(SELLER, "1234567", 1),
        json!({ "seller_tax_id": SELLER, "invoice_no": "12345678", "issued_on": tomorrow, "amount_fen": 1 }),
        invoice(SELLER, "87654321", 0),
        invoice(SELLER, "1234567890123456789012", 1),
    ];
    let refused = problem(claim(&app, &company, id, &bad).await, 422, "validation_failed").await;
    let fields: Vec<&str> =
        refused["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(
        fields,
        [
            "invoices[0].seller_tax_id",
            "invoices[1].invoice_no",
            "invoices[2].issued_on",
            "invoices[3].amount_fen",
            "invoices[4].invoice_no"
        ]
    );
    let reviewer = app.token_for(Role::Reviewer).await;
    problem(claim(&app, &reviewer, id, &[]).await, 403, "forbidden").await;
    let (stranger, _) = app.eligible_company("乙公司").await;
    problem(claim(&app, &stranger, id, &[]).await, 404, "not_found").await;
}

#[tokio::test]
async fn a_second_award_in_a_family_is_double_funding_and_a_higher_one_supersedes_the_unpaid_lower_one() {
    let app = spawn_app().await;
    let admin = app.token_for(Role::Admin).await;
    let reviewer = app.token_for(Role::Reviewer).await;
    let finance = app.token_for(Role::Finance).await;
    let family = json!({ "support_family": "rd-subsidy-2026" });
    let lower = publish(&app, &admin, "RD-A", &family).await;
    let higher = publish(&app, &admin, "RD-B", &family).await;
    let third = publish(&app, &admin, "RD-C", &family).await;
    let unrelated = publish(&app, &admin, "PAT-2026", &json!({})).await;
    let (company, _) = app.eligible_company("甲公司").await;

    let first = in_review(&app, &reviewer, &company, lower, 300_000_000).await;
    step(&app, &reviewer, first, json!({ "action": "propose", "approved_amount_fen": 100_000_000 })).await;
    let first_ref = application(&app, &reviewer, first).await["reference_no"].as_str().unwrap().to_owned();
    let elsewhere = in_review(&app, &reviewer, &company, unrelated, 300_000_000).await;
    step(&app, &reviewer, elsewhere, json!({ "action": "propose", "approved_amount_fen": 100_000_000 })).await;

    let eligibility: Value =
        app.get(&format!("/api/v1/programs/{higher}/eligibility"), &company).await.expect(200).json();
    let notes = eligibility["notes"].to_string();
    assert!(notes.contains("rd-subsidy-2026") && notes.contains(&first_ref), "{notes}");

    let second = in_review(&app, &reviewer, &company, higher, 300_000_000).await;
    let v = application(&app, &reviewer, second).await["version"].clone();
    let propose = |amount: i64, supersede: bool| json!({ "action": "propose", "version": v, "approved_amount_fen": amount, "supersede": supersede });
    let refused = problem(act(&app, &reviewer, second, propose(150_000_000, false)).await, 409, "double_funding").await;
    assert!(refused["detail"].as_str().unwrap().contains(&first_ref), "{refused}");
    problem(act(&app, &reviewer, second, propose(100_000_000, true)).await, 409, "double_funding").await;
    assert_eq!(program(&app, &admin, higher).await["reserved_fen"], 0, "a refusal reserves nothing");

    let proposed = act(&app, &reviewer, second, propose(150_000_000, true)).await.expect(200).json();
    assert_eq!(proposed["status"], "public_notice");
    let second_ref = proposed["reference_no"].as_str().unwrap().to_owned();
    let replaced = application(&app, &reviewer, first).await;
    assert_eq!(replaced["status"], "rejected");
    let (lower_now, higher_now) = (program(&app, &admin, lower).await, program(&app, &admin, higher).await);
    assert_eq!(
        (lower_now["reserved_fen"].as_i64(), lower_now["available_fen"].as_i64()),
        (Some(0), Some(5_000_000_000))
    );
    assert_eq!(
        (higher_now["reserved_fen"].as_i64(), higher_now["available_fen"].as_i64()),
        (Some(150_000_000), Some(4_850_000_000))
    );
    assert_eq!(application(&app, &reviewer, elsewhere).await["status"], "public_notice", "another family is untouched");
    let events: Value = app.get(&format!("/api/v1/applications/{first}/events"), &company).await.expect(200).json();
    let events = events.to_string();
    assert!(events.contains(&format!("superseded by {second_ref}")), "{events}");

    // Once money is paid on the award, nothing supersedes it.
    step(&app, &reviewer, second, json!({ "action": "approve" })).await;
    let today = chrono::Utc::now().date_naive().pred_opt().unwrap();
    let payment = json!({ "amount_fen": 1, "paid_on": today, "voucher_no": "V-FAMILY-1" });
    app.post(&format!("/api/v1/applications/{second}/disbursements"), &finance, &payment)
        .header("idempotency-key", "family-1")
        .await
        .expect(201);
    let last = in_review(&app, &reviewer, &company, third, 300_000_000).await;
    let v = application(&app, &reviewer, last).await["version"].clone();
    let body = json!({ "action": "propose", "version": v, "approved_amount_fen": 200_000_000, "supersede": true });
    let refused = problem(act(&app, &reviewer, last, body).await, 409, "double_funding").await;
    assert!(refused["detail"].as_str().unwrap().contains(&second_ref), "{refused}");
    assert_eq!(application(&app, &reviewer, second).await["status"], "approved");
    assert_eq!(program(&app, &admin, third).await["reserved_fen"], 0);
}

#[tokio::test]
async fn the_support_ratio_caps_an_award_to_the_fen() {
    let app = spawn_app().await;
    let admin = app.token_for(Role::Admin).await;
    let reviewer = app.token_for(Role::Reviewer).await;
    let capped = publish(&app, &admin, "RATIO-2026", &json!({ "max_support_ratio_percent": 20 })).await;
    let shown = program(&app, &admin, capped).await;
    assert_eq!(shown["max_support_ratio_percent"], 20);
    assert!(shown["funding_rules"].to_string().contains("20%"), "{shown}");
    let (company, _) = app.eligible_company("甲公司").await;
    let eligibility: Value =
        app.get(&format!("/api/v1/programs/{capped}/eligibility"), &company).await.expect(200).json();
    assert!(eligibility["notes"][0].as_str().unwrap().contains("20%"), "{eligibility}");

    let id = draft(&app, &company, capped, 300_000_000).await;
    let invoices = [invoice(SELLER, "11110000", 600_000), invoice(OTHER_SELLER, "22220000", 400_003)];
    assert_eq!(claim(&app, &company, id, &invoices).await.expect(200).json()["eligible_cost_fen"], 1_000_003);
    in_review_from_draft(&app, &reviewer, &company, id).await;
    // 20 % of 1,000,003 fen is 200,000.6: the cap is 200,000 fen.
    let v = application(&app, &reviewer, id).await["version"].clone();
    let over = json!({ "action": "propose", "version": v, "approved_amount_fen": 200_001 });
    let refused = problem(act(&app, &reviewer, id, over).await, 422, "over_support_ratio").await;
    assert_eq!(refused["errors"][0]["field"], "approved_amount_fen");
    let at = json!({ "action": "propose", "version": v, "approved_amount_fen": 200_000 });
    assert_eq!(act(&app, &reviewer, id, at).await.expect(200).json()["approved_amount_fen"], 200_000);
    assert_eq!(program(&app, &admin, capped).await["reserved_fen"], 200_000);
}

struct Batch {
    admin: String,
    reviewer: String,
    program: i64,
    ids: Vec<i64>,
}

/// A programme with `budget_fen` and applications in expert review asking for `requests`.
async fn batch(app: &TestApp, code: &str, budget_fen: i64, requests: &[i64]) -> Batch {
    let admin = app.token_for(Role::Admin).await;
    let reviewer = app.token_for(Role::Reviewer).await;
    let program = publish(app, &admin, code, &json!({ "budget_fen": budget_fen, "max_award_fen": budget_fen })).await;
    let mut ids = Vec::new();
    for (n, requested) in requests.iter().enumerate() {
        let (company, _) = app.eligible_company(&format!("公司{n}")).await;
        ids.push(in_review(app, &reviewer, &company, program, *requested).await);
    }
    Batch { admin, reviewer, program, ids }
}

async fn allocate(app: &TestApp, b: &Batch, method: &str, dry_run: bool, versions: Option<&Value>) -> Answer {
    let mut body = json!({ "application_ids": b.ids, "method": method, "dry_run": dry_run });
    if let Some(versions) = versions {
        body["versions"] = versions.clone();
    }
    app.post(&format!("/api/v1/programs/{}/allocation", b.program), &b.reviewer, &body).await
}

#[tokio::test]
async fn an_oversubscribed_batch_is_cut_pro_rata_and_spends_the_budget_to_the_fen() {
    let app = spawn_app().await;
    let b = batch(&app, "ALLOC-2026", 1_000_000, &[500_000, 600_000, 400_000]).await;

    let dry = allocate(&app, &b, "pro_rata", true, None).await.expect(200).json();
    let approved: Vec<i64> =
        dry["items"].as_array().unwrap().iter().map(|i| i["approved_fen"].as_i64().unwrap()).collect();
    // Factor 2/3: 333,333.33, 400,000 and 266,666.67; the leftover fen goes to the largest remainder.
    assert_eq!(approved, [333_333, 400_000, 266_667]);
    assert_eq!(
        (dry["capped_total_fen"].as_i64(), dry["approved_total_fen"].as_i64(), dry["available_fen"].as_i64()),
        (Some(1_500_000), Some(1_000_000), Some(1_000_000))
    );
    assert_eq!(program(&app, &b.admin, b.program).await["reserved_fen"], 0, "a dry run changes nothing");
    assert_eq!(application(&app, &b.reviewer, b.ids[0]).await["status"], "expert_review");

    let as_capped = allocate(&app, &b, "as_capped", false, None).await;
    assert_eq!(problem(as_capped, 409, "budget_exceeded").await["available_fen"], 1_000_000);

    let versions: Value = dry["items"].as_array().unwrap().iter().map(|i| i["version"].clone()).collect();
    let done = allocate(&app, &b, "pro_rata", false, Some(&versions)).await.expect(200).json();
    assert_eq!(done["approved_total_fen"], 1_000_000);
    for (id, expected) in b.ids.iter().zip(approved) {
        let seen = application(&app, &b.reviewer, *id).await;
        assert_eq!(
            (seen["status"].as_str(), seen["approved_amount_fen"].as_i64()),
            (Some("public_notice"), Some(expected))
        );
    }
    let after = program(&app, &b.admin, b.program).await;
    assert_eq!((after["reserved_fen"].as_i64(), after["available_fen"].as_i64()), (Some(1_000_000), Some(0)));
}

#[tokio::test]
async fn an_allocation_changes_nothing_when_one_application_moved_since_the_dry_run() {
    let app = spawn_app().await;
    let b = batch(&app, "MOVED-2026", 1_000_000, &[500_000, 600_000, 400_000]).await;
    let dry = allocate(&app, &b, "pro_rata", true, None).await.expect(200).json();
    let versions: Value = dry["items"].as_array().unwrap().iter().map(|i| i["version"].clone()).collect();
    let (extra, _) = expert(&app, "late-expert@park.example").await;
    step(&app, &b.reviewer, b.ids[1], json!({ "action": "assign", "expert_ids": [extra] })).await;

    let moved = problem(allocate(&app, &b, "pro_rata", false, Some(&versions)).await, 409, "conflict").await;
    let reference = application(&app, &b.reviewer, b.ids[1]).await["reference_no"].as_str().unwrap().to_owned();
    assert!(moved["detail"].as_str().unwrap().contains(&reference), "{moved}");
    for id in &b.ids {
        assert_eq!(application(&app, &b.reviewer, *id).await["status"], "expert_review");
    }
    assert_eq!(program(&app, &b.admin, b.program).await["reserved_fen"], 0);

    step(&app, &b.reviewer, b.ids[2], json!({ "action": "reject", "comment": "不符合条件" })).await;
    let not_in_review = problem(allocate(&app, &b, "pro_rata", false, None).await, 409, "conflict").await;
    let reference = application(&app, &b.reviewer, b.ids[2]).await["reference_no"].as_str().unwrap().to_owned();
    assert!(not_in_review["detail"].as_str().unwrap().contains(&reference), "{not_in_review}");
    assert_eq!(application(&app, &b.reviewer, b.ids[0]).await["status"], "expert_review");
    assert_eq!(program(&app, &b.admin, b.program).await["reserved_fen"], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_allocation_racing_single_proposals_never_exceeds_the_budget() {
    let app = Arc::new(spawn_app().await);
    let b = batch(&app, "RACE-2026", 1_000_000, &[300_000; 8]).await;
    let (batched, singles) = b.ids.split_at(4);
    let mut versions = Vec::new();
    for id in singles {
        versions.push(application(&app, &b.reviewer, *id).await["version"].clone());
    }
    let allocation = {
        let (app, body) = (app.clone(), json!({ "application_ids": batched, "method": "pro_rata", "dry_run": false }));
        let (reviewer, path) = (b.reviewer.clone(), format!("/api/v1/programs/{}/allocation", b.program));
        tokio::spawn(async move {
            let answer = app.post(&path, &reviewer, &body).await;
            (answer.status().as_u16(), answer.text())
        })
    };
    let proposals = singles.iter().zip(versions).map(|(id, version)| {
        let (app, reviewer, id) = (app.clone(), b.reviewer.clone(), *id);
        tokio::spawn(async move {
            let body = json!({ "action": "propose", "version": version, "approved_amount_fen": 300_000 });
            let answer = act(&app, &reviewer, id, body).await;
            (answer.status().as_u16(), answer.text())
        })
    });
    let mut outcomes = vec![allocation.await.unwrap()];
    outcomes.extend(futures_util::future::join_all(proposals).await.into_iter().map(Result::unwrap));
    assert!(outcomes.iter().all(|(status, _)| matches!(status, 200 | 409)), "{outcomes:?}");

    let mut awarded = 0;
    for id in &b.ids {
        let seen = application(&app, &b.reviewer, *id).await;
        if seen["status"] == "public_notice" {
            awarded += seen["approved_amount_fen"].as_i64().unwrap();
        } else {
            assert_eq!(seen["status"], "expert_review");
        }
    }
    let after = program(&app, &b.admin, b.program).await;
    assert_eq!(after["reserved_fen"], awarded, "the reservations are exactly the awards");
    assert!(awarded <= 1_000_000, "{awarded} over the budget");
    assert!(awarded >= 900_000, "something was awarded: {outcomes:?}");
}

/// A scorer takes its application's row (the score's trigger), then the programme's review counters. A batch
/// holding the counters before it reached that application waited for the scorer while the scorer waited for
/// it, until PostgreSQL failed one of them. The scorer here holds the row and then asks for the counters.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_allocation_waits_for_a_scorer_holding_one_of_its_applications_and_then_goes_through() {
    let app = Arc::new(spawn_app().await);
    let b = batch(&app, "HELD-2026", 1_000_000, &[300_000; 3]).await;
    let postgres = matches!(app.database, TestDatabase::Postgres { .. });
    let mut scorer = app.db.connection().unwrap();
    let begin = if postgres { "BEGIN" } else { "BEGIN IMMEDIATE" };
    scorer
        .batch_execute(&format!("{begin}; UPDATE applications SET updated_at = updated_at WHERE id = {}", b.ids[2]))
        .unwrap();
    let allocation = {
        let (app, body) = (app.clone(), json!({ "application_ids": b.ids, "method": "as_capped", "dry_run": false }));
        let (reviewer, path) = (b.reviewer.clone(), format!("/api/v1/programs/{}/allocation", b.program));
        tokio::spawn(async move {
            let answer = app.post(&path, &reviewer, &body).await;
            (answer.status().as_u16(), answer.text())
        })
    };
    if postgres {
        // Until the allocation waits for a lock the scorer holds.
        #[derive(diesel::QueryableByName)]
        struct Waiting {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let mut watcher = app.db.connection().unwrap();
        let waiting = "SELECT COUNT(*) AS n FROM pg_stat_activity \
                       WHERE wait_event_type = 'Lock' AND datname = current_database()";
        let mut waited = false;
        for _ in 0..250 {
            waited = diesel::sql_query(waiting).get_result::<Waiting>(&mut *watcher).unwrap().n > 0;
            if waited {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        assert!(waited, "the allocation came to the application the scorer holds");
    } else {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let program = b.program;
    let committed = tokio::task::spawn_blocking(move || {
        scorer.batch_execute(&format!("UPDATE expert_review_counts SET n = n WHERE program_id = {program}; COMMIT"))
    })
    .await
    .unwrap();
    assert!(committed.is_ok(), "the scorer went through: {committed:?}");
    let (status, body) = allocation.await.unwrap();
    assert_eq!(status, 200, "{body}");
    for id in &b.ids {
        assert_eq!(application(&app, &b.reviewer, *id).await["status"], "public_notice");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_proposals_in_one_family_leave_each_company_one_award() {
    let app = Arc::new(spawn_app().await);
    let admin = app.token_for(Role::Admin).await;
    let reviewer = app.token_for(Role::Reviewer).await;
    let family = json!({ "support_family": "rd-subsidy-2026" });
    let programs = [publish(&app, &admin, "FAM-A", &family).await, publish(&app, &admin, "FAM-B", &family).await];
    let mut proposals = Vec::new();
    for n in 0..5 {
        let (company, _) = app.eligible_company(&format!("公司{n}")).await;
        for program in programs {
            let id = in_review(&app, &reviewer, &company, program, 300_000_000).await;
            proposals.push((n, id, application(&app, &reviewer, id).await["version"].clone()));
        }
    }
    let attempts = proposals.iter().map(|(n, id, version)| {
        let (app, reviewer, n, id, version) = (app.clone(), reviewer.clone(), *n, *id, version.clone());
        tokio::spawn(async move {
            let body = json!({ "action": "propose", "version": version, "approved_amount_fen": 100_000_000 });
            let answer = act(&app, &reviewer, id, body).await;
            let code = answer.json()["code"].as_str().map(ToOwned::to_owned);
            (n, answer.status().as_u16(), code)
        })
    });
    let outcomes: Vec<(i32, u16, Option<String>)> =
        futures_util::future::join_all(attempts).await.into_iter().map(Result::unwrap).collect();
    for n in 0..5 {
        let mine: Vec<_> = outcomes.iter().filter(|o| o.0 == n).collect();
        assert_eq!(mine.iter().filter(|o| o.1 == 200).count(), 1, "{mine:?}");
        assert!(mine.iter().any(|o| o.1 == 409 && o.2.as_deref() == Some("double_funding")), "{mine:?}");
    }
    let reserved: i64 = {
        let mut sum = 0;
        for program in programs {
            sum +=
                app.get(&format!("/api/v1/programs/{program}"), &admin).await.json()["reserved_fen"].as_i64().unwrap();
        }
        sum
    };
    assert_eq!(reserved, 500_000_000, "one award of each company is reserved");
}
