//! Paying awards out, safely under retries and concurrency, and the reports that account for it.

use std::sync::Arc;

use portal::domain::role::Role;
use serde_json::{Value, json};

use crate::helpers::{Answer, Auth, TestApp, application, approved, problem, quick_program, spawn_app};

async fn pay(app: &TestApp, finance: &str, id: i64, key: &str, body: &Value) -> Answer {
    app.post(&format!("/api/v1/applications/{id}/disbursements"), finance, body).header("idempotency-key", key).await
}

fn payment(amount_fen: i64, voucher: &str) -> Value {
    json!({ "amount_fen": amount_fen, "paid_on": chrono::Utc::now().date_naive().pred_opt().unwrap(), "voucher_no": voucher })
}

struct Setup {
    admin: String,
    reviewer: String,
    finance: String,
    program: i64,
}

async fn setup(app: &TestApp) -> Setup {
    let admin = app.token_for(Role::Admin).await;
    let reviewer = app.token_for(Role::Reviewer).await;
    let finance = app.token_for(Role::Finance).await;
    let program = app.publish_program(&admin, &quick_program("IC-2026", 0, 0)).await;
    Setup { admin, reviewer, finance, program }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_payments_on_an_award_that_fits_ten_pay_exactly_ten() {
    let app = Arc::new(spawn_app().await);
    let s = setup(&app).await;
    let case = approved(&app, &s.reviewer, s.program, "甲公司", 100_000_000).await;
    let attempts = (0..50).map(|n| {
        let (app, finance) = (app.clone(), s.finance.clone());
        tokio::spawn(async move {
            let response =
                pay(&app, &finance, case.id, &format!("key-{n}"), &payment(10_000_000, &format!("V-{n}"))).await;
            let status = response.status().as_u16();
            let body: Value = response.json();
            (status, body["code"].as_str().map(ToOwned::to_owned))
        })
    });
    let outcomes: Vec<_> = futures_util::future::join_all(attempts).await.into_iter().map(Result::unwrap).collect();
    assert_eq!(outcomes.iter().filter(|(s, _)| *s == 201).count(), 10);
    assert_eq!(outcomes.iter().filter(|(s, c)| *s == 409 && c.as_deref() == Some("over_disbursement")).count(), 40);
    let after = application(&app, &s.finance, case.id).await;
    assert_eq!((after["disbursed_fen"].as_i64(), after["status"].as_str()), (Some(100_000_000), Some("disbursed")));
    let program: Value = app.get(&format!("/api/v1/programs/{}", s.program), &s.admin).await.json();
    assert_eq!((program["reserved_fen"].as_i64(), program["disbursed_fen"].as_i64()), (Some(0), Some(100_000_000)));
    let mail = app.mail_to(&case.company_email, 13).await;
    assert_eq!(mail.iter().filter(|m| m.subject.starts_with("资金已拨付")).count(), 10);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_idempotency_key_sent_twenty_times_at_once_pays_once_and_answers_all_alike() {
    let app = Arc::new(spawn_app().await);
    let s = setup(&app).await;
    let case = approved(&app, &s.reviewer, s.program, "甲公司", 100_000_000).await;
    let body = payment(30_000_000, "V-2026-0001");
    let attempts = (0..20).map(|_| {
        let (app, finance, body) = (app.clone(), s.finance.clone(), body.clone());
        tokio::spawn(async move {
            let response = pay(&app, &finance, case.id, "pay-once", &body).await;
            (response.status().as_u16(), response.text())
        })
    });
    let outcomes: Vec<(u16, String)> =
        futures_util::future::join_all(attempts).await.into_iter().map(Result::unwrap).collect();
    let first = &outcomes[0];
    assert!(
        outcomes.iter().all(|(status, body)| *status == 201 && body == &first.1),
        "a retry racing the first request waits for it and gets its answer, never 'in progress': {outcomes:?}"
    );
    let entries: Value = app.get(&format!("/api/v1/applications/{}/disbursements", case.id), &s.finance).await.json();
    assert_eq!(entries.as_array().unwrap().len(), 1, "paid once");

    let replay = pay(&app, &s.finance, case.id, "pay-once", &body).await;
    assert_eq!(replay.status(), 201);
    assert_eq!(replay.text(), first.1);
    let other = pay(&app, &s.finance, case.id, "pay-once", &payment(20_000_000, "V-2026-0002")).await;
    problem(other, 422, "idempotency_key_reused").await;
    let missing = app.post(&format!("/api/v1/applications/{}/disbursements", case.id), &s.finance, &body).await;
    problem(missing, 400, "malformed_request").await;
    let refused_again = pay(&app, &s.finance, case.id, "too-much", &payment(80_000_000, "V-2026-0003")).await;
    assert_eq!(problem(refused_again, 409, "over_disbursement").await["available_fen"], 70_000_000);
    let replayed_refusal = pay(&app, &s.finance, case.id, "too-much", &payment(80_000_000, "V-2026-0003")).await;
    assert_eq!(replayed_refusal.status(), 409, "a refusal is the key's answer too");
    let replayed: Value = replayed_refusal.json();
    assert_eq!(
        (replayed["code"].as_str(), replayed["available_fen"].as_i64()),
        (Some("over_disbursement"), Some(70_000_000))
    );
}

#[tokio::test]
async fn a_reversal_restores_the_amounts_and_the_status() {
    let app = spawn_app().await;
    let s = setup(&app).await;
    let case = approved(&app, &s.reviewer, s.program, "甲公司", 50_000_000).await;
    let paid: Value = pay(&app, &s.finance, case.id, "k1", &payment(50_000_000, "V-1")).await.json();
    assert_eq!(application(&app, &s.finance, case.id).await["status"], "disbursed");
    problem(pay(&app, &s.finance, case.id, "k2", &payment(1, "V-2")).await, 409, "over_disbursement").await;
    let absurd = pay(&app, &s.finance, case.id, "k2b", &payment(i64::MAX, "V-2b")).await;
    assert_eq!(problem(absurd, 422, "validation_failed").await["errors"][0]["field"], "amount_fen");
    problem(pay(&app, &s.finance, case.id, "k3", &payment(1, "V-1")).await, 409, "over_disbursement").await;

    let path = format!("/api/v1/disbursements/{}/reversal", paid["id"]);
    let reverse = |key: &'static str| {
        let (app, finance, path) = (&app, &s.finance, &path);
        async move { app.post(path, finance, &json!({ "reason": "银行退票" })).header("idempotency-key", key).await }
    };
    let reversal = reverse("r1").await;
    assert_eq!(reversal.status(), 201);
    let reversal: Value = reversal.json();
    assert_eq!((reversal["kind"].as_str(), reversal["reverses_id"].clone()), (Some("reversal"), paid["id"].clone()));
    problem(reverse("r2").await, 409, "conflict").await;

    let after = application(&app, &s.finance, case.id).await;
    assert_eq!((after["status"].as_str(), after["disbursed_fen"].as_i64()), (Some("approved"), Some(0)));
    let program: Value = app.get(&format!("/api/v1/programs/{}", s.program), &s.admin).await.json();
    assert_eq!((program["reserved_fen"].as_i64(), program["disbursed_fen"].as_i64()), (Some(50_000_000), Some(0)));
    problem(pay(&app, &s.finance, case.id, "k4", &payment(10, "V-1")).await, 409, "voucher_taken").await;
    assert_eq!(pay(&app, &s.finance, case.id, "k5", &payment(50_000_000, "V-1b")).await.status(), 201);
}

#[tokio::test]
async fn a_payment_plan_adds_up_to_the_approved_amount() {
    let app = spawn_app().await;
    let s = setup(&app).await;
    let case = approved(&app, &s.reviewer, s.program, "甲公司", 90_000_000).await;
    let path = format!("/api/v1/applications/{}/payment-plan", case.id);
    let default: Value = app.get(&path, &s.finance).await.json();
    assert_eq!(
        (default["planned"].as_bool(), default["instalments"][0]["amount_fen"].as_i64()),
        (Some(false), Some(90_000_000))
    );
    let put = |body: Value| {
        let (app, finance, path) = (&app, &s.finance, &path);
        async move { app.put(path, finance, &body).await }
    };
    let short = put(json!({ "instalments": [{ "due_on": "2027-01-15", "amount_fen": 30_000_000 }] })).await;
    assert_eq!(problem(short, 422, "validation_failed").await["errors"][0]["code"], "sum_mismatch");
    let plan = put(json!({ "instalments": [{ "due_on": "2027-01-15", "amount_fen": 30_000_000 }, { "due_on": "2027-06-15", "amount_fen": 60_000_000 }] })).await;
    assert_eq!(plan.json()["planned"], true);
    let mine: Value = app.get(&path, &case.company).await.json();
    assert_eq!(mine["instalments"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn only_finance_pays_and_reads_the_money_and_companies_see_only_their_own() {
    let app = spawn_app().await;
    let s = setup(&app).await;
    let case = approved(&app, &s.reviewer, s.program, "甲公司", 50_000_000).await;
    let other = approved(&app, &s.reviewer, s.program, "乙公司", 50_000_000).await;
    pay(&app, &s.finance, case.id, "k1", &payment(10_000_000, "V-1")).await;
    let expert_token = app.token_for(Role::Expert).await;
    for token in [&case.company, &expert_token, &s.reviewer] {
        problem(pay(&app, token, case.id, "k9", &payment(1, "V-9")).await, 403, "forbidden").await;
        problem(app.get("/api/v1/disbursements", token).await, 403, "forbidden").await;
        problem(app.get("/api/v1/reports/disbursements?group_by=program", token).await, 403, "forbidden").await;
    }
    let own: Value = app.get(&format!("/api/v1/applications/{}/disbursements", case.id), &case.company).await.json();
    assert_eq!(own.as_array().unwrap().len(), 1);
    problem(
        app.get(&format!("/api/v1/applications/{}/disbursements", case.id), &other.company).await,
        404,
        "not_found",
    )
    .await;
    let anonymous = app.get("/api/v1/reports/summary", Auth::None).await;
    problem(anonymous, 401, "unauthenticated").await;
    let summary: Value = app.get("/api/v1/reports/summary", &s.reviewer).await.json();
    assert_eq!(summary[0]["counts"]["approved"], 2);
    assert_eq!(summary[0]["disbursed_fen"], 10_000_000);
    assert_eq!(summary[0]["available_fen"], summary[0]["budget_fen"].as_i64().unwrap() - 100_000_000);
}

fn report_totals(report: &Value) -> (i64, i64, i64) {
    let t = &report["totals"];
    (t["approved_fen"].as_i64().unwrap(), t["disbursed_fen"].as_i64().unwrap(), t["outstanding_fen"].as_i64().unwrap())
}

#[tokio::test]
async fn the_reports_add_up_to_the_fen_in_json_csv_and_xlsx() {
    let app = spawn_app().await;
    let s = setup(&app).await;
    let first = approved(&app, &s.reviewer, s.program, "=HYPERLINK(\"http://x\",\"点我\")", 123_456_789).await;
    let second = approved(&app, &s.reviewer, s.program, "珠海生物医药有限公司", 50_000_001).await;
    let p1: Value = pay(&app, &s.finance, first.id, "a", &payment(23_456_789, "V-1")).await.json();
    pay(&app, &s.finance, first.id, "b", &payment(100_000_000, "V-2")).await;
    pay(&app, &s.finance, second.id, "c", &payment(1, "V-3")).await;
    app.post(&format!("/api/v1/disbursements/{}/reversal", p1["id"]), &s.finance, &json!({ "reason": "退票" }))
        .header("idempotency-key", "r")
        .await;

    let entries: Value = app.get("/api/v1/disbursements?per_page=100", &s.finance).await.json();
    let net: i64 = entries["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            if e["kind"] == "payment" { e["amount_fen"].as_i64().unwrap() } else { -e["amount_fen"].as_i64().unwrap() }
        })
        .sum();
    assert_eq!(net, 100_000_001);

    for group_by in ["program", "company", "industry", "park_zone", "month", "year"] {
        let report: Value =
            app.get(&format!("/api/v1/reports/disbursements?group_by={group_by}"), &s.finance).await.json();
        assert_eq!(report_totals(&report), (173_456_790, net, 73_456_789), "{group_by}");
        let rows = report["rows"].as_array().unwrap();
        assert_eq!(rows.iter().map(|r| r["disbursed_fen"].as_i64().unwrap()).sum::<i64>(), net, "{group_by}");
    }
    let windowed: Value = app
        .get("/api/v1/reports/disbursements?group_by=program&paid_from=2000-01-01&paid_to=2000-12-31", &s.finance)
        .await
        .json();
    assert_eq!(report_totals(&windowed), (173_456_790, 0, 173_456_790), "nothing was paid in 2000");

    let csv = app.get("/api/v1/reports/disbursements?group_by=company&format=csv", &s.finance).await;
    assert!(csv.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
    let bytes = csv.bytes();
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"), "a BOM so spreadsheets read UTF-8");
    let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "编码,名称,项目数,批准金额（元）,已拨付（元）,未拨付（元）");
    assert!(text.contains("\"'=HYPERLINK(\"\"http://x\"\",\"\"点我\"\")\""), "{text}");
    assert_eq!(*lines.last().unwrap(), "total,合计,2,1734567.90,1000000.01,734567.89");

    let xlsx = app.get("/api/v1/reports/disbursements?group_by=company&format=xlsx", &s.finance).await;
    let mut workbook: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(xlsx.bytes().to_vec())).unwrap();
    let sheet = calamine::Reader::worksheet_range(&mut workbook, "拨付统计").unwrap();
    let rows: Vec<Vec<String>> = sheet.rows().map(|r| r.iter().map(ToString::to_string).collect()).collect();
    assert_eq!(rows[0][3], "批准金额（元）");
    assert_eq!(rows.last().unwrap()[1], "合计");
    let number = |text: &str| text.parse::<f64>().unwrap();
    assert!((number(&rows.last().unwrap()[4]) - 1_000_000.01).abs() < 0.001);
    assert!(rows.iter().any(|r| r[1].starts_with("'=HYPERLINK")), "{rows:?}");
}

#[tokio::test]
async fn timeliness_counts_working_days_across_a_holiday_week_with_make_up_days() {
    use diesel::prelude::*;
    use portal::db::schema::applications;

    let app = spawn_app().await;
    let s = setup(&app).await;
    let holidays: Vec<String> = (1..=8).map(|d| format!("2025-10-0{d}")).collect();
    let put = app
        .put(
            "/api/v1/calendar/2025",
            &s.admin,
            &json!({ "holidays": holidays, "workdays": ["2025-09-28", "2025-10-11"] }),
        )
        .await;
    assert_eq!(put.status(), 200);

    let on_time = approved(&app, &s.reviewer, s.program, "准时公司", 10_000_000).await;
    let late = approved(&app, &s.reviewer, s.program, "迟付公司", 10_000_000).await;
    let unpaid = approved(&app, &s.reviewer, s.program, "未付公司", 10_000_000).await;
    let not_in_period = approved(&app, &s.reviewer, s.program, "期外公司", 10_000_000).await;
    let date = |text: &str| text.parse::<chrono::NaiveDate>().unwrap();
    let mut conn = app.db.connection().unwrap();
    for (id, approved_at, due) in [
        (on_time.id, "2025-09-26 02:00:00", "2025-10-10"),
        (late.id, "2025-09-29 02:00:00", "2025-10-10"),
        (unpaid.id, "2025-09-30 02:00:00", "2025-10-09"),
        (not_in_period.id, "2025-11-03 02:00:00", "2025-11-20"),
    ] {
        let approved_at = chrono::NaiveDateTime::parse_from_str(approved_at, "%Y-%m-%d %H:%M:%S").unwrap();
        diesel::update(applications::table.find(id))
            .set((applications::decided_at.eq(approved_at), applications::payment_due_on.eq(date(due))))
            .execute(&mut *conn)
            .unwrap();
    }
    let dated = |amount: i64, voucher: &str, paid_on: &str| json!({ "amount_fen": amount, "paid_on": paid_on, "voucher_no": voucher });
    assert_eq!(pay(&app, &s.finance, on_time.id, "a", &dated(10_000_000, "V-1", "2025-10-09")).await.status(), 201);
    assert_eq!(pay(&app, &s.finance, late.id, "b", &dated(5_000_000, "V-2", "2025-10-11")).await.status(), 201);

    let report: Value =
        app.get("/api/v1/reports/timeliness?approved_from=2025-09-01&approved_to=2025-09-30", &s.finance).await.json();
    assert_eq!(report["approvals"], 3);
    assert_eq!(
        (report["paid_on_time"].as_i64(), report["paid_late"].as_i64(), report["unpaid_not_due"].as_i64()),
        (Some(1), Some(1), Some(0))
    );
    let overdue = &report["unpaid_overdue"][0];
    assert_eq!(
        (overdue["application_id"].as_i64(), overdue["payment_due_on"].as_str()),
        (Some(unpaid.id), Some("2025-10-09"))
    );
    let calendar = portal::domain::calendar::Calendar::new(
        (1..=8).map(|d| date(&format!("2025-10-0{d}"))),
        [date("2025-09-28"), date("2025-10-11")],
    );
    let today = chrono::Utc::now().with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).unwrap()).date_naive();
    assert_eq!(overdue["working_days_overdue"], calendar.working_days_between(date("2025-10-09"), today));
    // 26 Sep → 9 Oct and 29 Sep → 11 Oct are both four working days, make-up days included.
    assert_eq!(report["median_working_days_to_first_payment"], 4.0);
    let backwards =
        app.get("/api/v1/reports/timeliness?approved_from=2025-10-01&approved_to=2025-09-01", &s.finance).await;
    problem(backwards, 422, "validation_failed").await;
}
