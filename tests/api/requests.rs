//! Company requests: filed, assigned, answered, asked for more, resolved and rated, with working-day
//! deadlines that stop while the park waits on the company, escalation once however many instances run, and
//! the report that shows who answers late.

use std::time::{Duration, Instant};

use chrono::NaiveDate;
use diesel::RunQueryDsl;
use portal::app::SignedIn;
use portal::app::requests::{self, Clock, NewRequestInput};
use portal::domain::role::Role;
use serde_json::{Value, json};

use crate::helpers::{TestApp, problem, spawn_app};

fn day(text: &str) -> NaiveDate {
    text.parse().unwrap()
}

fn clock_on(today: &str) -> Clock {
    Clock { today: day(today), now: day(today).and_hms_opt(2, 0, 0).unwrap() }
}

/// A signed-in company and who it is: `(token, company id, user id)`.
async fn company(app: &TestApp, name: &str) -> (String, i64, i64) {
    let (token, company_id) = app.signed_in_company(name).await;
    let me: Value = app.get("/api/v1/me", &token).await.json();
    (token, company_id, me["id"].as_i64().unwrap())
}

/// A staff account: `(token, user id, email)`.
async fn staff(app: &TestApp, role: Role) -> (String, i64, String) {
    let email = format!("{}-{}@park.example", role.as_str(), uuid::Uuid::new_v4().simple());
    let id = app.create_user(role, &email).await;
    let body: Value = app.login(&email, crate::helpers::PASSWORD).await.json();
    (body["access_token"].as_str().unwrap().to_owned(), id, email)
}

fn applicant(user_id: i64, company_id: i64) -> SignedIn {
    SignedIn { user_id, role: Role::Applicant, company_id: Some(company_id), session_id: 0, request_id: "test".into() }
}

fn caller(user_id: i64, role: Role) -> SignedIn {
    SignedIn { user_id, role, company_id: None, session_id: 0, request_id: "test".into() }
}

fn consultation(subject: &str) -> Value {
    json!({ "category": "policy_consultation", "subject": subject, "content": "我司是否符合集成电路专项的申报条件？" })
}

async fn file(app: &TestApp, token: &str, body: &Value) -> Value {
    let response = app.post("/api/v1/requests", token, body).await;
    assert_eq!(response.status(), 201);
    response.json()
}

async fn get(app: &TestApp, token: &str, path: &str) -> Value {
    let response = app.get(path, token).await;
    assert_eq!(response.status(), 200, "{path}");
    response.json()
}

fn input(category: &str) -> NewRequestInput {
    NewRequestInput {
        category: category.into(),
        subject: "拨付进度".into(),
        content: "请问资金何时拨付？".into(),
        program_id: None,
        application_id: None,
    }
}

fn deadlines(app: &TestApp) -> portal::domain::requests::Deadlines {
    app.settings.requests.deadlines
}

#[tokio::test]
async fn the_loop_runs_from_filing_to_a_good_rating_with_emails_and_audit_events() {
    let app = spawn_app().await;
    let (company_token, _, _) = company(&app, "珠海芯动科技有限公司").await;
    let (reviewer, reviewer_id, reviewer_email) = staff(&app, Role::Reviewer).await;

    let filed = file(&app, &company_token, &consultation("申报条件咨询")).await;
    let id = filed["id"].as_i64().unwrap();
    assert_eq!(filed["status"], "open");
    assert!(filed["reference_no"].as_str().unwrap().starts_with("Q20"), "{filed}");
    assert_eq!(filed["overdue"], false);
    assert!(filed["due_on"].as_str().unwrap() > filed["first_response_due_on"].as_str().unwrap());

    let assigned =
        app.post(&format!("/api/v1/requests/{id}/assign"), &reviewer, &json!({ "assignee_id": reviewer_id })).await;
    assert_eq!(assigned.status(), 200);
    let assigned: Value = assigned.json();
    assert_eq!(assigned["status"], "assigned");
    assert_eq!(assigned["assignee"]["id"], reviewer_id);
    let mail = app.mail_to(&reviewer_email, 1).await;
    assert!(mail[0].subject.contains(filed["reference_no"].as_str().unwrap()), "{}", mail[0].subject);

    let reply = app
        .post(&format!("/api/v1/requests/{id}/messages"), &reviewer, &json!({ "body": "符合条件，请按指南准备材料。" }))
        .await;
    assert_eq!(reply.status(), 201);
    let replied: Value = reply.json();
    assert!(replied["first_responded_at"].is_string(), "the first public answer is the first response");

    let resolved = app
        .post(
            &format!("/api/v1/requests/{id}/resolve"),
            &reviewer,
            &json!({ "resolution": "已电话答复并发送申报指南。" }),
        )
        .await;
    assert_eq!(resolved.status(), 200);
    let rated = app.post(&format!("/api/v1/requests/{id}/rating"), &company_token, &json!({ "rating": 5 })).await;
    assert_eq!(rated.status(), 200);
    let rated: Value = rated.json();
    assert_eq!((rated["status"].as_str(), rated["rating"].as_i64()), (Some("closed"), Some(5)));

    let admin = app.token_for(Role::Admin).await;
    let events = get(&app, &admin, &format!("/api/v1/audit-events?object_type=request&object_id={id}")).await;
    let actions: Vec<&str> =
        events["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    for expected in ["request.create", "request.assign", "request.resolve", "request.rate"] {
        assert!(actions.contains(&expected), "{expected} missing from {actions:?}");
    }
}

#[tokio::test]
async fn deadlines_count_working_days_across_the_national_day_week() {
    let app = spawn_app().await;
    let admin = app.token_for(Role::Admin).await;
    let holidays: Vec<String> = (1..=7).map(|d| format!("2026-10-0{d}")).collect();
    app.put(
        "/api/v1/calendar/2026",
        &admin,
        &json!({ "holidays": holidays, "workdays": ["2026-09-27", "2026-10-10"] }),
    )
    .await
    .expect(200);
    let (_, company_id, user_id) = company(&app, "横琴生物医药有限公司").await;
    let deadlines = deadlines(&app);

    let filed = requests::file(
        &app.db,
        &applicant(user_id, company_id),
        input("payment_inquiry"),
        deadlines,
        clock_on("2026-09-30"),
    )
    .await
    .unwrap();
    let row = &filed.record.request;
    // Wednesday 30 September: the holiday week follows, so the first working day after it is Thursday 8 October.
    assert_eq!(row.first_response_due_on, day("2026-10-08"));
    // Five working days: 8, 9, Saturday 10 (made up), 12, 13 October.
    assert_eq!(row.due_on, day("2026-10-13"));
    // Filed on the make-up Sunday 27 September, the clock counts from that working day.
    let filed =
        requests::file(&app.db, &applicant(user_id, company_id), input("complaint"), deadlines, clock_on("2026-09-27"))
            .await
            .unwrap();
    assert_eq!(filed.record.request.first_response_due_on, day("2026-09-28"));
    // 28, 29, 30 September, 8, 9, 10 (made up), 12, 13, 14, 15 October.
    assert_eq!(filed.record.request.due_on, day("2026-10-15"));
}

#[tokio::test]
async fn waiting_on_the_company_stops_the_clock_until_it_answers() {
    let app = spawn_app().await;
    let (company_token, company_id, user_id) = company(&app, "金鼎智能装备有限公司").await;
    let (_, reviewer_id, _) = staff(&app, Role::Reviewer).await;
    let reviewer = caller(reviewer_id, Role::Reviewer);
    let deadlines = deadlines(&app);

    // A complaint received on Monday 2 November 2026: resolution due Monday 16 November.
    let filed =
        requests::file(&app.db, &applicant(user_id, company_id), input("complaint"), deadlines, clock_on("2026-11-02"))
            .await
            .unwrap();
    let id = filed.record.request.id;
    assert_eq!(filed.record.request.due_on, day("2026-11-16"));
    requests::assign(&app.db, &reviewer, id, reviewer_id, clock_on("2026-11-02")).await.unwrap();
    let waiting = requests::wait_for_company(&app.db, &reviewer, id, "请提供付款凭证。".into(), clock_on("2026-11-04"))
        .await
        .unwrap();
    assert_eq!(waiting.status.as_str(), "waiting_company");
    assert!(!waiting.overdue);
    // Waiting, nothing is overdue however late it gets.
    let later = requests::get(&app.db, &reviewer, id, day("2026-12-20")).await.unwrap();
    assert!(!later.overdue, "the clock is stopped");

    // The company answers on Monday 9 November: 3 working days (5, 6, 9) waited.
    let answered = requests::post_message(
        &app.db,
        &applicant(user_id, company_id),
        id,
        "凭证已上传。".into(),
        false,
        clock_on("2026-11-09"),
    )
    .await
    .unwrap();
    assert_eq!(answered.status.as_str(), "assigned", "the clock runs again");
    assert_eq!(answered.record.request.due_on, day("2026-11-19"));
    assert_eq!(answered.record.request.paused_days, 3);
    let over = requests::get(&app.db, &reviewer, id, day("2026-11-20")).await.unwrap();
    assert!(over.overdue);
    // The company asked for more received the question by email.
    let me: Value = app.get("/api/v1/me", &company_token).await.json();
    let mail = app.mail_to(me["email"].as_str().unwrap(), 2).await;
    assert!(mail.iter().any(|m| m.body.contains("请提供付款凭证。")));
}

#[tokio::test]
async fn internal_notes_never_reach_the_company() {
    let app = spawn_app().await;
    let (company_token, _, _) = company(&app, "海岸数据服务有限公司").await;
    let me: Value = app.get("/api/v1/me", &company_token).await.json();
    let company_email = me["email"].as_str().unwrap().to_owned();
    let (reviewer, reviewer_id, _) = staff(&app, Role::Reviewer).await;
    let id = file(&app, &company_token, &consultation("研发费用口径")).await["id"].as_i64().unwrap();
    let secret = "内部备注：该企业去年有违规记录";

    app.post(&format!("/api/v1/requests/{id}/assign"), &reviewer, &json!({ "assignee_id": reviewer_id })).await;
    let note = app
        .post(&format!("/api/v1/requests/{id}/messages"), &reviewer, &json!({ "body": secret, "internal": true }))
        .await;
    assert_eq!(note.status(), 201);
    let staff_view = get(&app, &reviewer, &format!("/api/v1/requests/{id}")).await;
    assert!(staff_view.to_string().contains(secret), "staff see their note");
    assert!(staff_view["first_responded_at"].is_null(), "a note is not an answer");

    app.post(&format!("/api/v1/requests/{id}/messages"), &reviewer, &json!({ "body": "按指南口径归集即可。" })).await;
    app.post(&format!("/api/v1/requests/{id}/resolve"), &reviewer, &json!({ "resolution": "已答复。" })).await;
    let company_view = get(&app, &company_token, &format!("/api/v1/requests/{id}")).await;
    assert_eq!(company_view["messages"].as_array().unwrap().len(), 1, "{company_view}");
    let list = get(&app, &company_token, "/api/v1/requests").await;
    for output in [company_view.to_string(), list.to_string()] {
        assert!(!output.contains(secret), "{output}");
    }
    let mail = app.mail_to(&company_email, 3).await;
    assert!(mail.iter().all(|m| !m.body.contains(secret) && !m.subject.contains(secret)));
    // A company cannot write one.
    let attempt = app
        .post(&format!("/api/v1/requests/{id}/messages"), &company_token, &json!({ "body": "x", "internal": true }))
        .await;
    let body = problem(attempt, 422, "validation_failed").await;
    assert_eq!(body["errors"][0]["field"], "internal");
}

#[tokio::test]
async fn a_company_sees_only_its_own_requests_and_experts_none() {
    let app = spawn_app().await;
    let (first, _, _) = company(&app, "唐家湾光电有限公司").await;
    let (second, _, _) = company(&app, "唐家湾材料有限公司").await;
    let id = file(&app, &first, &consultation("高企认定")).await["id"].as_i64().unwrap();
    file(&app, &second, &consultation("专利资助")).await;

    problem(app.get(&format!("/api/v1/requests/{id}"), &second).await, 404, "not_found").await;
    problem(
        app.post(&format!("/api/v1/requests/{id}/messages"), &second, &json!({ "body": "?" })).await,
        404,
        "not_found",
    )
    .await;
    problem(
        app.post(&format!("/api/v1/requests/{id}/rating"), &second, &json!({ "rating": 1 })).await,
        404,
        "not_found",
    )
    .await;
    let own = get(&app, &second, "/api/v1/requests").await;
    assert_eq!(own["total"], 1);
    assert_eq!(own["items"][0]["subject"], "专利资助");

    let expert = app.token_for(Role::Expert).await;
    problem(app.get("/api/v1/requests", &expert).await, 403, "forbidden").await;
    problem(app.get(&format!("/api/v1/requests/{id}"), &expert).await, 403, "forbidden").await;
    problem(app.post("/api/v1/requests", &expert, &consultation("x")).await, 403, "forbidden").await;
    let reviewer = app.token_for(Role::Reviewer).await;
    problem(app.post("/api/v1/requests", &reviewer, &consultation("x")).await, 403, "forbidden").await;
    problem(
        app.post(&format!("/api/v1/requests/{id}/assign"), &first, &json!({ "assignee_id": 1 })).await,
        403,
        "forbidden",
    )
    .await;
    let all = get(&app, &reviewer, "/api/v1/requests").await;
    assert_eq!(all["total"], 2);
}

#[tokio::test]
async fn bad_input_gets_one_error_per_field_and_files_nothing() {
    let app = spawn_app().await;
    let (token, _, _) = company(&app, "科技六路软件有限公司").await;
    let (other, _, _) = company(&app, "科技六路硬件有限公司").await;
    let body = json!({ "category": "gossip", "subject": " ", "content": "x".repeat(5001), "application_id": 999_999 });
    let refused = problem(app.post("/api/v1/requests", &token, &body).await, 422, "validation_failed").await;
    let fields: Vec<&str> =
        refused["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["category", "subject", "content"], "{refused}");
    assert!(refused["errors"][0]["message"].as_str().unwrap().contains("政策咨询"), "the choices in words: {refused}");
    let unknown = json!({ "category": "complaint", "subject": "s", "content": "c", "application_id": 999_999, "program_id": 999_999 });
    let refused = problem(app.post("/api/v1/requests", &token, &unknown).await, 422, "validation_failed").await;
    let codes: Vec<&str> = refused["errors"].as_array().unwrap().iter().map(|e| e["code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["unknown_application", "unknown_program"]);
    assert_eq!(get(&app, &token, "/api/v1/requests").await["total"], 0, "nothing was filed");

    let id = file(&app, &other, &consultation("s")).await["id"].as_i64().unwrap();
    let reviewer = app.token_for(Role::Reviewer).await;
    let expert_id = app.create_user(Role::Expert, "expert-requests@park.example").await;
    let refused = problem(
        app.post(&format!("/api/v1/requests/{id}/assign"), &reviewer, &json!({ "assignee_id": expert_id })).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(refused["errors"][0]["code"], "invalid_assignee");
    problem(app.post(&format!("/api/v1/requests/{id}/rating"), &other, &json!({ "rating": 4 })).await, 409, "conflict")
        .await;
    let out_of_range = problem(
        app.post(&format!("/api/v1/requests/{id}/rating"), &other, &json!({ "rating": 6 })).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(out_of_range["errors"][0]["field"], "rating");
}

#[tokio::test]
async fn a_bad_rating_reopens_with_fresh_deadlines_and_a_second_rating_is_refused() {
    let app = spawn_app().await;
    let (token, _, _) = company(&app, "金湾航空部件有限公司").await;
    let (reviewer, reviewer_id, reviewer_email) = staff(&app, Role::Reviewer).await;
    let (_, _, admin_email) = staff(&app, Role::Admin).await;
    let id = file(&app, &token, &consultation("补贴标准")).await["id"].as_i64().unwrap();
    app.post(&format!("/api/v1/requests/{id}/assign"), &reviewer, &json!({ "assignee_id": reviewer_id })).await;
    // The owner is someone else's: a second reviewer may not resolve it.
    let (other_reviewer, _, _) = staff(&app, Role::Reviewer).await;
    let resolve = json!({ "resolution": "已答复。" });
    problem(app.post(&format!("/api/v1/requests/{id}/resolve"), &other_reviewer, &resolve).await, 403, "forbidden")
        .await;
    app.post(&format!("/api/v1/requests/{id}/resolve"), &reviewer, &resolve).await;
    // Pretend it was due long ago, so a fresh deadline is visible.
    set(&app, id, "due_on = '2026-01-05'").await;

    let rated = app
        .post(&format!("/api/v1/requests/{id}/rating"), &token, &json!({ "rating": 2, "comment": "答非所问" }))
        .await;
    assert_eq!(rated.status(), 200);
    let rated: Value = rated.json();
    assert_eq!(rated["status"], "reopened");
    assert!(rated["due_on"].as_str().unwrap() > "2026-11-01", "fresh deadlines: {rated}");
    assert!(app.mail_to(&reviewer_email, 2).await.iter().any(|m| m.body.contains("答非所问")));
    assert!(app.mail_to(&admin_email, 1).await[0].subject.contains("重新办理"));
    problem(app.post(&format!("/api/v1/requests/{id}/rating"), &token, &json!({ "rating": 3 })).await, 409, "conflict")
        .await;

    // Handled again and rated well, it closes; then nothing more may be added.
    app.post(&format!("/api/v1/requests/{id}/resolve"), &reviewer, &json!({ "resolution": "已补充说明。" })).await;
    let closed: Value =
        app.post(&format!("/api/v1/requests/{id}/rating"), &token, &json!({ "rating": 4 })).await.json();
    assert_eq!(closed["status"], "closed");
    problem(
        app.post(&format!("/api/v1/requests/{id}/messages"), &token, &json!({ "body": "谢谢" })).await,
        409,
        "conflict",
    )
    .await;
    problem(
        app.post(&format!("/api/v1/requests/{id}/messages"), &reviewer, &json!({ "body": "不客气" })).await,
        409,
        "conflict",
    )
    .await;
}

/// Sets columns of request `id` directly (`assignments` as in SQL), to stand a request at a date the test
/// cannot wait for.
async fn set(app: &TestApp, id: i64, assignments: &'static str) {
    app.db
        .write(move |conn| {
            diesel::sql_query(format!("UPDATE company_requests SET {assignments} WHERE id = {id}")).execute(conn)?;
            Ok::<_, portal::db::Error>(())
        })
        .await
        .unwrap();
}

#[tokio::test]
async fn an_overdue_request_is_escalated_once_with_three_instances_running() {
    let app = spawn_app().await;
    let (token, _, _) = company(&app, "高新区催办测试有限公司").await;
    let (reviewer, reviewer_id, reviewer_email) = staff(&app, Role::Reviewer).await;
    let (_, _, admin_email) = staff(&app, Role::Admin).await;
    let id = file(&app, &token, &consultation("催办")).await["id"].as_i64().unwrap();
    app.post(&format!("/api/v1/requests/{id}/assign"), &reviewer, &json!({ "assignee_id": reviewer_id })).await;
    // The company signs up on the first instance (its verification mail is read there); then two more start.
    let (_second, second_mailbox) = app.another_instance().await;
    let (_third, third_mailbox) = app.another_instance().await;
    set(&app, id, "due_on = '2026-01-05', first_response_due_on = '2026-01-02'").await;
    assert_eq!(get(&app, &reviewer, "/api/v1/requests?overdue=true").await["total"], 1);

    // Each instance sweeps every second; wait for the escalation, then for any second copy to show up.
    let mailboxes = [app.mailbox.clone().unwrap(), second_mailbox.unwrap(), third_mailbox.unwrap()];
    let overdue_to = |address: &str| -> usize {
        mailboxes.iter().map(|m| m.to(address).iter().filter(|mail| mail.subject.contains("催办")).count()).sum()
    };
    let deadline = Instant::now() + Duration::from_secs(15);
    while overdue_to(&admin_email) == 0 || overdue_to(&reviewer_email) == 0 {
        assert!(Instant::now() < deadline, "no escalation arrived");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(overdue_to(&admin_email), 1);
    assert_eq!(overdue_to(&reviewer_email), 1);
}

#[tokio::test]
async fn a_resolved_request_nobody_rates_closes_after_five_working_days() {
    let app = spawn_app().await;
    let (token, _, _) = company(&app, "自动办结测试有限公司").await;
    let (reviewer, reviewer_id, _) = staff(&app, Role::Reviewer).await;
    let id = file(&app, &token, &consultation("办结")).await["id"].as_i64().unwrap();
    let recent = file(&app, &token, &consultation("刚办结")).await["id"].as_i64().unwrap();
    for request in [id, recent] {
        app.post(&format!("/api/v1/requests/{request}/assign"), &reviewer, &json!({ "assignee_id": reviewer_id }))
            .await;
        app.post(&format!("/api/v1/requests/{request}/resolve"), &reviewer, &json!({ "resolution": "已答复。" })).await;
    }
    set(&app, id, "resolved_on = '2026-01-05'").await;

    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let status = get(&app, &token, &format!("/api/v1/requests/{id}")).await["status"].clone();
        if status == "closed" {
            break;
        }
        assert!(Instant::now() < deadline, "still {status}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(get(&app, &token, &format!("/api/v1/requests/{recent}")).await["status"], "resolved");
}

#[tokio::test]
async fn fifty_companies_filing_at_once_get_fifty_consecutive_references() {
    let app = spawn_app().await;
    let mut tokens = Vec::new();
    for n in 0..50 {
        tokens.push(app.eligible_company(&format!("并发诉求企业{n:02}有限公司")).await.0);
    }
    let filings = tokens.iter().map(|token| {
        let (api, token) = (app.api(), token.clone());
        tokio::spawn(async move {
            let answer = api.post("/api/v1/requests", &token, &consultation("并发")).await.expect(201);
            answer.json()["reference_no"].as_str().unwrap().to_owned()
        })
    });
    let mut numbers: Vec<i64> = futures_util::future::join_all(filings)
        .await
        .into_iter()
        .map(|r| r.unwrap().rsplit('-').next().unwrap().parse().unwrap())
        .collect();
    numbers.sort_unstable();
    assert_eq!(numbers, (1..=50).collect::<Vec<i64>>());
}

#[tokio::test]
async fn the_report_adds_up_to_the_raw_requests() {
    let app = spawn_app().await;
    let (_, company_id, user_id) = company(&app, "报表诉求测试有限公司").await;
    let company = applicant(user_id, company_id);
    let (reviewer_token, reviewer_id, _) = staff(&app, Role::Reviewer).await;
    let reviewer = caller(reviewer_id, Role::Reviewer);
    let deadlines = deadlines(&app);
    let on = |d: &str| clock_on(d);

    // Answered the next working day, resolved in time, rated 5.
    let quick = requests::file(&app.db, &company, input("policy_consultation"), deadlines, on("2026-11-02"))
        .await
        .unwrap()
        .record
        .request
        .id;
    requests::assign(&app.db, &reviewer, quick, reviewer_id, on("2026-11-02")).await.unwrap();
    requests::post_message(&app.db, &reviewer, quick, "答复".into(), false, on("2026-11-03")).await.unwrap();
    requests::resolve(&app.db, &reviewer, quick, "办结".into(), on("2026-11-04")).await.unwrap();
    requests::rate(&app.db, &company, quick, 5, None, deadlines, on("2026-11-04")).await.unwrap();
    // Answered late and resolved late, rated 1 (reopened), then resolved again and rated 3.
    let slow = requests::file(&app.db, &company, input("payment_inquiry"), deadlines, on("2026-11-02"))
        .await
        .unwrap()
        .record
        .request
        .id;
    requests::assign(&app.db, &reviewer, slow, reviewer_id, on("2026-11-02")).await.unwrap();
    requests::post_message(&app.db, &reviewer, slow, "答复".into(), false, on("2026-11-05")).await.unwrap();
    requests::resolve(&app.db, &reviewer, slow, "办结".into(), on("2026-11-12")).await.unwrap();
    requests::rate(&app.db, &company, slow, 1, None, deadlines, on("2026-11-12")).await.unwrap();
    requests::resolve(&app.db, &reviewer, slow, "重新办结".into(), on("2026-11-13")).await.unwrap();
    requests::rate(&app.db, &company, slow, 3, None, deadlines, on("2026-11-13")).await.unwrap();
    // Never answered, long overdue; and one outside the period.
    requests::file(&app.db, &company, input("complaint"), deadlines, on("2026-11-03")).await.unwrap();
    requests::file(&app.db, &company, input("complaint"), deadlines, on("2026-10-30")).await.unwrap();

    let report = get(&app, &reviewer_token, "/api/v1/reports/requests?from=2026-11-01&to=2026-11-30").await;
    let totals = &report["totals"];
    assert_eq!(totals["received"], 3, "{report}");
    assert_eq!(totals["first_response_on_time"], 1);
    // The slow one was late, but its second resolution kept the fresh deadline its reopening set.
    assert_eq!(totals["resolved_on_time"], 2);
    assert_eq!(totals["open_overdue"], 1);
    // Working days to the first answer: 1 and 3; to resolution: 2 and 9.
    assert_eq!(totals["median_days_to_first_response"], 2.0);
    assert_eq!(totals["median_days_to_resolution"], 5.5);
    assert_eq!(
        (totals["ratings"].as_i64(), totals["mean_rating"].as_f64(), totals["bad_ratings"].as_i64()),
        (Some(3), Some(3.0), Some(1))
    );
    let by_category: Vec<(&str, i64)> = report["by_category"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (l["category"].as_str().unwrap(), l["received"].as_i64().unwrap()))
        .collect();
    assert_eq!(
        by_category,
        [
            ("policy_consultation", 1),
            ("application_help", 0),
            ("payment_inquiry", 1),
            ("complaint", 1),
            ("suggestion", 0)
        ]
    );
    let owners = report["by_assignee"].as_array().unwrap();
    assert_eq!(owners.len(), 2, "the reviewer and nobody: {report}");
    let received: i64 = owners.iter().map(|l| l["received"].as_i64().unwrap()).sum();
    assert_eq!(received, 3, "the owners' lines add up to the total");

    let text = app
        .get("/api/v1/reports/requests?from=2026-11-01&to=2026-11-30&format=csv", &reviewer_token)
        .await
        .expect(200)
        .text();
    assert!(text.starts_with('\u{feff}'), "a BOM, so Excel reads UTF-8");
    assert!(text.lines().last().unwrap().starts_with("合计,全部,3,1,2,1,2,5.5,3,3,1"), "{text}");
    let xlsx = app.get("/api/v1/reports/requests?format=xlsx", &reviewer_token).await.expect(200);
    assert!(xlsx.bytes().starts_with(b"PK"), "a workbook is a zip");

    let backwards = app.get("/api/v1/reports/requests?from=2026-12-01&to=2026-11-01", &reviewer_token).await;
    assert_eq!(problem(backwards, 422, "validation_failed").await["errors"][0]["code"], "after_to");
    problem(
        app.get("/api/v1/reports/requests", &app.signed_in_company("报表外企业有限公司").await.0).await,
        403,
        "forbidden",
    )
    .await;
}
