//! The review workflow over HTTP: formal check, expert review, public notice and decision.

use std::sync::Arc;

use diesel::prelude::*;
use portal::db::schema::{applications, programs};
use portal::domain::role::Role;
use serde_json::{Value, json};

use crate::helpers::{
    Auth, TestApp, act, application, expert, problem, quick_program, spawn_app, step, submitted, version,
};

fn program_money(app: &TestApp, program: i64) -> (i64, i64, i64) {
    let mut conn = app.db.connection().unwrap();
    programs::table
        .find(program)
        .select((programs::budget_fen, programs::reserved_fen, programs::disbursed_fen))
        .first(&mut *conn)
        .unwrap()
}

#[tokio::test]
async fn an_application_goes_from_submission_to_approval_and_everyone_is_told() {
    let app = spawn_app().await;
    let admin = app.token_for(Role::Admin).await;
    app.create_user(Role::Reviewer, "reviewer@park.example").await;
    let reviewer = app.token_for(Role::Reviewer).await;
    let program = app.publish_program(&admin, &quick_program("IC-2026", 0, 2)).await;
    let (first_id, first) = expert(&app, "e1@park.example").await;
    let (second_id, second) = expert(&app, "e2@park.example").await;
    let case = submitted(&app, program, "珠海芯源微电子有限公司").await;
    let id = case.id;

    let accepted = step(&app, &reviewer, id, json!({ "action": "accept", "expert_ids": [first_id, second_id] })).await;
    assert_eq!(accepted["status"], "expert_review");
    assert_eq!(
        app.mail_to("e1@park.example", 1).await[0].subject,
        format!("评审邀请：IC-2026-0001 / Review invitation: IC-2026-0001")
    );

    let before = app.get(&format!("/api/v1/applications/{id}"), &first).await.json();
    assert_eq!(before["form_data"], Value::Null, "an expert sees no content before declaring");
    assert_eq!(before["company"]["name"], "珠海芯源微电子有限公司");
    assert_eq!(before["allowed_actions"], json!(["declare"]));
    for content in ["attachments", "disbursements", "payment-plan", "events"] {
        let read = app.get(&format!("/api/v1/applications/{id}/{content}"), &first).await;
        problem(read, 403, "declaration_required").await;
    }
    let early = step(&app, &first, id, json!({ "action": "declare", "conflict_of_interest": false })).await;
    assert_eq!(early["form_data"]["project_name"], "项目");
    assert_eq!(early["allowed_actions"], json!(["score"]));
    for content in ["attachments", "disbursements", "payment-plan", "events"] {
        app.get(&format!("/api/v1/applications/{id}/{content}"), &first).await.expect(200);
    }

    let proposal = json!({ "action": "propose", "approved_amount_fen": 250_000_000 });
    let not_yet = act(&app, &reviewer, id, json!({ "action": "propose", "approved_amount_fen": 250_000_000, "version": version(&app, &reviewer, id).await })).await;
    assert!(problem(not_yet, 409, "conflict").await["detail"].as_str().unwrap().contains('2'));
    step(&app, &first, id, json!({ "action": "score", "score": 88, "opinion": "技术路线清晰" })).await;
    step(&app, &second, id, json!({ "action": "declare", "conflict_of_interest": false })).await;
    step(&app, &second, id, json!({ "action": "score", "score": 80, "opinion": "市场前景好" })).await;

    let proposed = step(&app, &reviewer, id, proposal).await;
    assert_eq!(proposed["status"], "public_notice");
    assert_eq!(proposed["approved_amount_fen"], 250_000_000);
    assert_eq!(program_money(&app, program).1, 250_000_000, "reserved");
    let approved = step(&app, &reviewer, id, json!({ "action": "approve", "comment": "同意支持" })).await;
    assert_eq!(approved["status"], "approved");
    assert!(approved["payment_due_on"].as_str().is_some());
    assert_eq!(approved["status_label"]["en"], "Approved, awaiting payment");

    let mail = app.mail_to(&case.company_email, 3).await;
    let subjects: Vec<&str> = mail.iter().map(|m| m.subject.as_str()).collect();
    assert!(subjects[0].starts_with("申报已受理"), "{subjects:?}");
    assert!(subjects[1].starts_with("拟支持公示"), "{subjects:?}");
    assert!(subjects[2].starts_with("申报已批准"), "{subjects:?}");

    let timeline: Value = app.get(&format!("/api/v1/applications/{id}/events"), &case.company).await.json();
    let actions: Vec<&str> = timeline.as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(
        actions,
        [
            "application.create",
            "application.submit",
            "application.accept",
            "application.propose",
            "application.approve"
        ]
    );
    for event in timeline.as_array().unwrap() {
        assert_eq!(
            (&event["actor_id"], &event["details"]),
            (&Value::Null, &Value::Null),
            "no identities or records: {event}"
        );
    }
    assert!(!timeline.to_string().contains("技术路线"), "no expert opinions");
    let staff: Value = app.get(&format!("/api/v1/applications/{id}/events"), &reviewer).await.json();
    assert!(staff.as_array().unwrap().iter().any(|e| e["action"] == "application.score"));
    let reviews: Value = app.get(&format!("/api/v1/applications/{id}/reviews"), &reviewer).await.json();
    assert_eq!(reviews.as_array().unwrap().iter().map(|r| r["score"].as_i64().unwrap()).sum::<i64>(), 168);
    problem(app.get(&format!("/api/v1/applications/{id}/reviews"), &first).await, 403, "forbidden").await;

    let verified: Value = app.get("/api/v1/audit-events/verify", &admin).await.json();
    assert_eq!(verified["valid"], true);
}

#[tokio::test]
async fn a_returned_application_is_corrected_and_resubmitted_by_its_working_day_deadline() {
    let app = spawn_app().await;
    let admin = app.token_for(Role::Admin).await;
    let reviewer = app.token_for(Role::Reviewer).await;
    let program = app.publish_program(&admin, &quick_program("IC-2026", 5, 0)).await;
    let case = submitted(&app, program, "甲公司").await;

    let blank = act(
        &app,
        &reviewer,
        case.id,
        json!({ "action": "return", "comment": "  ", "version": version(&app, &reviewer, case.id).await }),
    )
    .await;
    assert_eq!(problem(blank, 422, "validation_failed").await["errors"][0]["field"], "comment");
    let returned = step(
        &app,
        &reviewer,
        case.id,
        json!({ "action": "return", "comment": "请补充研发预算明细", "correction_days": 3 }),
    )
    .await;
    assert_eq!(returned["status"], "returned");
    let due = returned["correction_due_on"].as_str().unwrap().to_owned();
    let mail = app.mail_to(&case.company_email, 2).await;
    assert!(mail[1].body.contains("请补充研发预算明细") && mail[1].body.contains(&due));
    let mine = app.get(&format!("/api/v1/applications/{}", case.id), &case.company).await.json();
    assert_eq!(mine["allowed_actions"], json!(["submit", "withdraw"]));
    let timeline: Value = app.get(&format!("/api/v1/applications/{}/events", case.id), &case.company).await.json();
    assert!(timeline.as_array().unwrap().iter().any(|e| e["comment"] == "请补充研发预算明细"));

    let edited = app
        .patch(
            &format!("/api/v1/applications/{}", case.id),
            &case.company,
            &json!({ "form_data": { "project_name": "项目", "rd_budget_fen": 5_000_000 } }),
        )
        .await;
    assert_eq!(edited.status(), 200);
    let resubmitted = step(&app, &case.company, case.id, json!({ "action": "submit" })).await;
    assert_eq!(resubmitted["status"], "submitted");
    assert_eq!(resubmitted["reference_no"], "IC-2026-0001", "the reference number is kept");

    let again = step(&app, &reviewer, case.id, json!({ "action": "return", "comment": "预算仍不完整" })).await;
    assert!(again["correction_due_on"].as_str().unwrap() >= due.as_str(), "recomputed from the new return");
}

#[tokio::test]
async fn the_calendar_moves_deadlines_past_holidays_and_onto_make_up_days() {
    use chrono::{Datelike, NaiveDate, Weekday};
    let app = spawn_app().await;
    let admin = app.token_for(Role::Admin).await;
    let today = chrono::Utc::now().with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).unwrap()).date_naive();
    let is_weekend = |d: &NaiveDate| matches!(d.weekday(), Weekday::Sat | Weekday::Sun);
    // Every weekday of the next three weeks and more off, then a weekend day worked instead: one working
    // day after today is exactly that make-up day, whichever years the dates fall in.
    let mut make_up = today + chrono::Duration::days(22);
    while !is_weekend(&make_up) {
        make_up = make_up.succ_opt().unwrap();
    }
    let days_off = (make_up - today).num_days();
    let holidays: Vec<NaiveDate> =
        (1..days_off).map(|d| today + chrono::Duration::days(d)).filter(|d| !is_weekend(d)).collect();
    let mut years: Vec<i32> = holidays.iter().map(Datelike::year).chain([make_up.year()]).collect();
    years.dedup();
    for year in &years {
        let in_year: Vec<&NaiveDate> = holidays.iter().filter(|d| d.year() == *year).collect();
        let workdays: Vec<NaiveDate> = Some(make_up).filter(|d| d.year() == *year).into_iter().collect();
        let body = json!({ "holidays": in_year, "workdays": workdays });
        let put = app.put(&format!("/api/v1/calendar/{year}"), &admin, &body).await;
        assert_eq!(put.status(), 200);
        let read: Value = app.get(&format!("/api/v1/calendar/{year}"), &admin).await.json();
        assert_eq!(read["holidays"], body["holidays"]);
    }

    let reviewer = app.token_for(Role::Reviewer).await;
    let program = app.publish_program(&admin, &quick_program("IC-2026", 5, 0)).await;
    let case = submitted(&app, program, "甲公司").await;
    let returned =
        step(&app, &reviewer, case.id, json!({ "action": "return", "comment": "补正", "correction_days": 1 })).await;
    assert_eq!(returned["correction_due_on"], make_up.to_string());

    let weekday_made_workday = app
        .put(
            "/api/v1/calendar/2025",
            &admin,
            &json!({ "holidays": ["2025-10-01"], "workdays": ["2025-10-01", "2025-10-08"] }),
        )
        .await;
    let errors = problem(weekday_made_workday, 422, "validation_failed").await;
    let codes: Vec<&str> = errors["errors"].as_array().unwrap().iter().map(|e| e["code"].as_str().unwrap()).collect();
    assert!(codes.contains(&"both") && codes.contains(&"not_weekend"), "{codes:?}");
    let refused = app.put("/api/v1/calendar/2025", &reviewer, &json!({ "holidays": [], "workdays": [] })).await;
    problem(refused, 403, "forbidden").await;
}

#[tokio::test]
async fn illegal_moves_are_refused_and_change_nothing() {
    let app = spawn_app().await;
    let admin = app.token_for(Role::Admin).await;
    let reviewer = app.token_for(Role::Reviewer).await;
    let (_, expert_token) = expert(&app, "e@park.example").await;
    let program = app.publish_program(&admin, &quick_program("IC-2026", 5, 1)).await;
    let case = submitted(&app, program, "甲公司").await;
    let before: Value = app.get(&format!("/api/v1/applications/{}", case.id), &reviewer).await.json();
    let v = before["version"].clone();
    let attempts = [
        (&reviewer, json!({ "action": "approve", "version": v }), 409, "conflict"),
        (&reviewer, json!({ "action": "propose", "approved_amount_fen": 1, "version": v }), 409, "conflict"),
        (&reviewer, json!({ "action": "submit", "version": v }), 403, "forbidden"),
        (&case.company, json!({ "action": "accept", "draw": 1, "version": v }), 403, "forbidden"),
        (&case.company, json!({ "action": "submit", "version": v }), 409, "conflict"),
        (&expert_token, json!({ "action": "score", "score": 90, "opinion": "好", "version": v }), 404, "not_found"),
        (&reviewer, json!({ "action": "accept", "version": v }), 422, "validation_failed"),
        (&reviewer, json!({ "action": "accept", "draw": 5, "version": v }), 409, "not_enough_experts"),
        (&reviewer, json!({ "action": "fly", "version": v }), 422, "validation_failed"),
        (&reviewer, json!({ "action": "reject", "version": v }), 422, "validation_failed"),
    ];
    for (token, body, status, code) in attempts {
        let response = act(&app, token, case.id, body.clone()).await;
        assert_eq!(response.status().as_u16(), status, "{body}");
        problem(response, status, code).await;
    }
    let after: Value = app.get(&format!("/api/v1/applications/{}", case.id), &reviewer).await.json();
    assert_eq!(after, before, "nothing changed");

    step(&app, &reviewer, case.id, json!({ "action": "accept", "draw": 1 })).await;
    let score_first = act(
        &app,
        &expert_token,
        case.id,
        json!({ "action": "score", "score": 90, "opinion": "好", "version": version(&app, &reviewer, case.id).await }),
    )
    .await;
    problem(score_first, 409, "conflict").await;
    step(&app, &expert_token, case.id, json!({ "action": "declare", "conflict_of_interest": false })).await;
    let out_of_range = act(
        &app,
        &expert_token,
        case.id,
        json!({ "action": "score", "score": 101, "opinion": "好", "version": version(&app, &reviewer, case.id).await }),
    )
    .await;
    problem(out_of_range, 422, "validation_failed").await;
    step(&app, &expert_token, case.id, json!({ "action": "score", "score": 70, "opinion": "一般" })).await;
    let twice = act(
        &app,
        &expert_token,
        case.id,
        json!({ "action": "score", "score": 75, "opinion": "改", "version": version(&app, &reviewer, case.id).await }),
    )
    .await;
    problem(twice, 409, "conflict").await;
}

#[tokio::test]
async fn an_expert_with_a_conflict_is_recused_and_the_reviewer_assigns_another() {
    let app = spawn_app().await;
    let admin = app.token_for(Role::Admin).await;
    app.create_user(Role::Reviewer, "reviewer@park.example").await;
    let reviewer = app.token_for(Role::Reviewer).await;
    let (first_id, first) = expert(&app, "e1@park.example").await;
    let (second_id, second) = expert(&app, "e2@park.example").await;
    let program = app.publish_program(&admin, &quick_program("IC-2026", 5, 1)).await;
    let case = submitted(&app, program, "甲公司").await;
    step(&app, &reviewer, case.id, json!({ "action": "accept", "expert_ids": [first_id] })).await;

    let recused = step(
        &app,
        &first,
        case.id,
        json!({ "action": "declare", "conflict_of_interest": true, "statement": "曾任该公司顾问" }),
    )
    .await;
    assert_eq!(recused["form_data"], Value::Null);
    assert_eq!(recused["allowed_actions"], json!([]));
    for content in ["attachments", "disbursements", "payment-plan", "events"] {
        problem(app.get(&format!("/api/v1/applications/{}/{content}", case.id), &first).await, 403, "recused").await;
    }
    let told = app.mail_to("reviewer@park.example", 2).await;
    assert!(told[1].subject.starts_with("专家回避"));

    let not_assigned = app.get(&format!("/api/v1/applications/{}", case.id), &second).await;
    problem(not_assigned, 404, "not_found").await;
    let listed: Value = app.get("/api/v1/applications", &second).await.json();
    assert_eq!(listed["total"], 0);
    step(&app, &reviewer, case.id, json!({ "action": "assign", "expert_ids": [second_id] })).await;
    let dup = act(
        &app,
        &reviewer,
        case.id,
        json!({ "action": "assign", "expert_ids": [second_id], "version": version(&app, &reviewer, case.id).await }),
    )
    .await;
    problem(dup, 422, "validation_failed").await;
    let listed: Value = app.get("/api/v1/applications", &second).await.json();
    assert_eq!(listed["total"], 1);
    assert_eq!(listed["items"][0]["requested_amount_fen"], Value::Null);
}

#[tokio::test]
async fn objections_are_taken_only_during_the_notice_and_hold_up_approval_until_resolved() {
    let app = spawn_app().await;
    let admin = app.token_for(Role::Admin).await;
    app.create_user(Role::Reviewer, "reviewer@park.example").await;
    let reviewer = app.token_for(Role::Reviewer).await;
    let program = app.publish_program(&admin, &quick_program("IC-2026", 5, 0)).await;
    let case = submitted(&app, program, "甲公司").await;
    let objection = json!({ "name": "李四", "contact": "13800000000", "content": "该公司研发人员数据不实" });
    let path = format!("/api/v1/public-notices/{}/objections", case.id);
    problem(app.post(&path, Auth::None, &objection).await, 409, "notice_closed").await;

    let (expert_id, _) = expert(&app, "e@park.example").await;
    step(&app, &reviewer, case.id, json!({ "action": "accept", "expert_ids": [expert_id] })).await;
    step(&app, &reviewer, case.id, json!({ "action": "propose", "approved_amount_fen": 100_000_000 })).await;

    let notices: Value = app.get("/api/v1/public-notices", Auth::None).await.json();
    assert_eq!(notices["total"], 1);
    assert_eq!(notices["items"][0]["company_name"], "甲公司");
    assert_eq!(notices["items"][0]["approved_amount_fen"], 100_000_000);

    let anonymous = app.post(&path, Auth::None, &json!({ "name": " ", "contact": "x", "content": "y" })).await;
    assert_eq!(problem(anonymous, 422, "validation_failed").await["errors"][0]["field"], "name");
    let lodged = app.post(&path, Auth::None, &objection).await;
    assert_eq!(lodged.status(), 201);
    let lodged: Value = lodged.json();
    assert!(app.mail_to("reviewer@park.example", 2).await[1].body.contains("研发人员数据不实"));

    let too_early = act(
        &app,
        &reviewer,
        case.id,
        json!({ "action": "approve", "version": version(&app, &reviewer, case.id).await }),
    )
    .await;
    assert!(problem(too_early, 409, "conflict").await["detail"].as_str().unwrap().contains("公示期尚未结束"));

    // The notice ended yesterday.
    let mut conn = app.db.connection().unwrap();
    let yesterday = chrono::Utc::now().naive_utc().date() - chrono::Duration::days(2);
    diesel::update(applications::table.find(case.id))
        .set(applications::notice_ends_on.eq(yesterday))
        .execute(&mut *conn)
        .unwrap();
    problem(app.post(&path, Auth::None, &objection).await, 409, "notice_closed").await;
    let open = act(
        &app,
        &reviewer,
        case.id,
        json!({ "action": "approve", "version": version(&app, &reviewer, case.id).await }),
    )
    .await;
    assert!(problem(open, 409, "conflict").await["detail"].as_str().unwrap().contains("异议"));

    let resolve = format!("/api/v1/applications/{}/objections/{}/resolve", case.id, lodged["id"]);
    let resolved = app.post(&resolve, &reviewer, &json!({ "upheld": false, "comment": "经核实，数据属实" })).await;
    assert_eq!(resolved.json()["upheld"], false);
    problem(app.post(&resolve, &reviewer, &json!({ "upheld": true, "comment": "再改" })).await, 409, "conflict").await;
    let approved = step(&app, &reviewer, case.id, json!({ "action": "approve" })).await;
    assert_eq!(approved["status"], "approved");
}

#[tokio::test]
async fn an_upheld_objection_blocks_approval_and_rejection_releases_the_reservation() {
    let app = spawn_app().await;
    let admin = app.token_for(Role::Admin).await;
    let reviewer = app.token_for(Role::Reviewer).await;
    let program = app.publish_program(&admin, &quick_program("IC-2026", 5, 0)).await;
    let (expert_id, _) = expert(&app, "e@park.example").await;
    let case = submitted(&app, program, "甲公司").await;
    step(&app, &reviewer, case.id, json!({ "action": "accept", "expert_ids": [expert_id] })).await;
    step(&app, &reviewer, case.id, json!({ "action": "propose", "approved_amount_fen": 100_000_000 })).await;
    assert_eq!(program_money(&app, program).1, 100_000_000);
    let lodged: Value = app
        .post(
            &format!("/api/v1/public-notices/{}/objections", case.id),
            Auth::None,
            &json!({ "name": "李四", "contact": "13800000000", "content": "重复申报" }),
        )
        .await
        .json();
    app.post(
        &format!("/api/v1/applications/{}/objections/{}/resolve", case.id, lodged["id"]),
        &reviewer,
        &json!({ "upheld": true, "comment": "属实" }),
    )
    .await;
    let mut conn = app.db.connection().unwrap();
    let past = chrono::Utc::now().naive_utc().date() - chrono::Duration::days(2);
    diesel::update(applications::table.find(case.id))
        .set(applications::notice_ends_on.eq(past))
        .execute(&mut *conn)
        .unwrap();

    let refused = act(
        &app,
        &reviewer,
        case.id,
        json!({ "action": "approve", "version": version(&app, &reviewer, case.id).await }),
    )
    .await;
    assert!(problem(refused, 409, "conflict").await["detail"].as_str().unwrap().contains("成立"));
    let rejected = step(&app, &reviewer, case.id, json!({ "action": "reject", "comment": "异议成立：重复申报" })).await;
    assert_eq!(rejected["status"], "rejected");
    assert_eq!(program_money(&app, program).1, 0, "the reservation is released");
    let mail = app.mail_to(&case.company_email, 3).await;
    assert!(mail[2].body.contains("异议成立：重复申报"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_reviewers_acting_on_the_same_version_one_wins_the_other_gets_409() {
    let app = Arc::new(spawn_app().await);
    let admin = app.token_for(Role::Admin).await;
    let program = app.publish_program(&admin, &quick_program("IC-2026", 5, 0)).await;
    let (first_expert, _) = expert(&app, "e1@park.example").await;
    let experts = [expert(&app, "e2@park.example").await.0, expert(&app, "e3@park.example").await.0];
    for round in 0..5 {
        let case = submitted(&app, program, &format!("第{round}号公司")).await;
        let lead = app.token_for(Role::Reviewer).await;
        step(&app, &lead, case.id, json!({ "action": "accept", "expert_ids": [first_expert] })).await;
        // Each racer adds an expert: an action that stays legal after the other's, so the loser is refused by
        // the version check and not by the workflow. Both read the version before either writes.
        let barrier = Arc::new(tokio::sync::Barrier::new(2));
        let racers = experts.map(|expert_id| {
            let (app, barrier) = (app.clone(), barrier.clone());
            tokio::spawn(async move {
                let reviewer = app.token_for(Role::Reviewer).await;
                let read = version(&app, &reviewer, case.id).await;
                barrier.wait().await;
                let body = json!({ "action": "assign", "expert_ids": [expert_id], "version": read });
                (read, act(&app, &reviewer, case.id, body).await)
            })
        });
        let [(first_read, first), (second_read, second)] = futures_util::future::join_all(racers)
            .await
            .into_iter()
            .map(Result::unwrap)
            .collect::<Vec<_>>()
            .try_into()
            .unwrap();
        assert_eq!(first_read, second_read, "round {round}: both read the same version");
        let (won, lost) = if first.status() == 200 { (first, second) } else { (second, first) };
        assert_eq!(won.status(), 200, "round {round}: {}", won.text());
        let refusal = lost.problem(409, "conflict");
        assert_eq!(refusal["detail"], "申报已被他人更新，请刷新后重试。", "round {round}: refused as stale");
        let after = application(&app, &lead, case.id).await;
        assert_eq!(after["version"], first_read.as_i64().unwrap() + 1, "round {round}: one write");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_proposals_on_a_budget_for_ten_reserve_exactly_ten() {
    let app = Arc::new(spawn_app().await);
    let admin = app.token_for(Role::Admin).await;
    let reviewer = app.token_for(Role::Reviewer).await;
    let mut body = quick_program("IC-2026", 5, 0);
    body["budget_fen"] = json!(3_000_000_000_i64);
    body["max_award_fen"] = json!(300_000_000);
    let program = app.publish_program(&admin, &body).await;
    let (expert_id, _) = expert(&app, "e@park.example").await;
    let mut ready = Vec::new();
    for n in 0..50 {
        let case = submitted(&app, program, &format!("第{n}号公司")).await;
        let accepted = step(&app, &reviewer, case.id, json!({ "action": "accept", "expert_ids": [expert_id] })).await;
        ready.push((case.id, accepted["version"].clone()));
    }
    let proposals = ready.into_iter().map(|(id, v)| {
        let (app, reviewer) = (app.clone(), reviewer.clone());
        tokio::spawn(async move {
            let response = act(
                &app,
                &reviewer,
                id,
                json!({ "action": "propose", "approved_amount_fen": 300_000_000, "version": v }),
            )
            .await;
            let status = response.status().as_u16();
            let body: Value = response.json();
            (status, body["code"].as_str().map(ToOwned::to_owned))
        })
    });
    let outcomes: Vec<(u16, Option<String>)> =
        futures_util::future::join_all(proposals).await.into_iter().map(Result::unwrap).collect();
    assert_eq!(outcomes.iter().filter(|(s, _)| *s == 200).count(), 10);
    assert_eq!(outcomes.iter().filter(|(s, c)| *s == 409 && c.as_deref() == Some("budget_exceeded")).count(), 40);
    let (budget, reserved, disbursed) = program_money(&app, program);
    assert_eq!((reserved, disbursed), (budget, 0));
    let in_notice: Value = app.get("/api/v1/applications?status=public_notice", &reviewer).await.json();
    assert_eq!(in_notice["total"], 10);
}
