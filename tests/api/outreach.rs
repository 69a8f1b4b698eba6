//! Policy outreach (政策精准推送): publishing a programme tells every verified company that qualifies, once,
//! with why it qualifies; later runs tell the companies that have come to qualify since; however many runs and
//! instances, a company hears of a programme once. Staff follow up from the ledger (辅导跟进台账).

use std::sync::Arc;
use std::time::{Duration, Instant};

use portal::app::outreach;
use portal::app::requests::Clock;
use portal::domain::role::Role;
use portal::email::Mailbox;
use serde_json::{Value, json};

use crate::helpers::{TestApp, act, expert, problem, quick_program, spawn_app, spawn_app_with};

const SUBJECT: &str = "政策申报提醒";

/// A programme for integrated-circuit companies of at least 50 employees, open now, with nothing to upload.
fn outreach_program(code: &str) -> Value {
    let mut body = quick_program(code, 0, 0);
    body["eligibility_rules"] = json!([
        { "type": "company_verified" },
        { "type": "industry_in", "values": ["integrated_circuit"] },
        { "type": "min_years_established", "years": 1 },
        { "type": "min_employees", "count": 50 }
    ]);
    body
}

fn last_year() -> i32 {
    chrono::Datelike::year(&portal::domain::time::today(chrono::FixedOffset::east_opt(8 * 3600).unwrap())) - 1
}

/// Files last year's figures with `employees` employees.
async fn figures(app: &TestApp, token: &str, employees: i32) {
    let body = json!({ "revenue_fen": 4_000_000_000_i64, "rd_expense_fen": 240_000_000, "employee_count": employees, "rd_staff_count": 10 });
    app.put(&format!("/api/v1/companies/me/financials/{}", last_year()), token, &body).await.expect(200);
}

async fn email_of(app: &TestApp, token: &str) -> String {
    app.get("/api/v1/me", token).await.expect(200).json()["email"].as_str().unwrap().to_owned()
}

/// A verified, eligible company that has turned the announcements on: `(token, company id, email)`.
async fn listening(app: &TestApp, name: &str) -> (String, i64, String) {
    let (token, id) = app.eligible_company(name).await;
    let company = app.patch("/api/v1/companies/me", &token, &json!({ "notify_new_programs": true })).await;
    assert_eq!(company.expect(200).json()["notify_new_programs"], true);
    let email = email_of(app, &token).await;
    (token, id, email)
}

/// The announcements `address` received, over every mailbox.
fn announcements(mailboxes: &[Mailbox], address: &str) -> usize {
    mailboxes.iter().map(|m| m.to(address).iter().filter(|mail| mail.subject.starts_with(SUBJECT)).count()).sum()
}

fn mailbox(app: &TestApp) -> Vec<Mailbox> {
    vec![app.mailbox.clone().expect("the memory mail transport")]
}

/// Waits until every one of `addresses` has an announcement.
async fn until_told(mailboxes: &[Mailbox], addresses: &[&str]) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while addresses.iter().any(|a| announcements(mailboxes, a) == 0) {
        assert!(Instant::now() < deadline, "not everyone was told");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn finished_runs(app: &TestApp, program: i64) -> i32 {
    app.db.read(move |conn| portal::db::outreach::finished_runs(conn, program)).await.unwrap()
}

/// Waits until `count` more runs of `program` have finished, then for their mail to leave the outbox.
async fn more_runs(app: &TestApp, program: i64, count: i32) {
    let target = finished_runs(app, program).await + count;
    let deadline = Instant::now() + Duration::from_secs(20);
    while finished_runs(app, program).await < target {
        assert!(Instant::now() < deadline, "the outreach job did not run again");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
}

#[tokio::test]
async fn publishing_tells_each_qualifying_company_once_with_why_and_a_company_verified_later_on_the_next_run() {
    let app = spawn_app().await;
    let admin = app.token_for(Role::Admin).await;
    let reviewer = app.token_for(Role::Reviewer).await;
    let (_, _, first) = listening(&app, "珠海芯源微电子有限公司").await;
    let (_, _, second) = listening(&app, "珠海芯动科技有限公司").await;
    let (small, _, third) = listening(&app, "珠海小微芯片有限公司").await;
    figures(&app, &small, 10).await;
    let (quiet, _) = app.eligible_company("珠海静默电子有限公司").await;
    let quiet = email_of(&app, &quiet).await;
    let (late, late_id) = app.signed_in_company("珠海后来电子有限公司").await;
    figures(&app, &late, 80).await;
    let late_email = email_of(&app, &late).await;
    let own = app.get("/api/v1/companies/me", &late).await.expect(200).json();
    assert_eq!(own["notify_new_programs"], true, "on unless the company turns it off");

    let program = app.publish_program(&admin, &outreach_program("OUT-2026")).await;
    let mail = app.mail_to(&first, 1).await;
    let (subject, body) = (&mail[0].subject, &mail[0].body);
    assert_eq!(
        subject,
        "政策申报提醒：2026年度集成电路产业发展专项资金 / A programme you qualify for: 2026年度集成电路产业发展专项资金"
    );
    for part in [
        "珠海芯源微电子有限公司：",
        "“2026年度集成电路产业发展专项资金”（OUT-2026）",
        "申报时间：",
        "- 企业信息已通过园区审核。",
        "- 贵公司所属行业“集成电路”符合要求。",
        "- 符合要求：80 人。",
        "- Qualifies: 80 employees.",
        &format!("http://127.0.0.1:3000/programs/{program}"),
        "关闭“新政策推送”（notify_new_programs）",
        "turn off “New programme announcements” (notify_new_programs)",
    ] {
        assert!(body.contains(part), "{part} is missing from:\n{body}");
    }
    assert!(body.find("贵公司符合的条件").unwrap() < body.find("Why your company qualifies").unwrap(), "Chinese first");
    app.mail_to(&second, 1).await;

    // A second run, and publishing again, tell nobody anything new.
    more_runs(&app, program, 1).await;
    problem(app.post(&format!("/api/v1/programs/{program}/publish"), &admin, &json!({})).await, 409, "conflict").await;
    more_runs(&app, program, 1).await;
    let mailboxes = mailbox(&app);
    let told = |address: &str| announcements(&mailboxes, address);
    assert_eq!(
        [told(&first), told(&second), told(&third), told(&quiet), told(&late_email)],
        [1, 1, 0, 0, 0],
        "two qualify and listen; one has too few employees, one turned it off, one is not verified"
    );

    // Verified after the first runs: the next run tells it, once.
    app.post(&format!("/api/v1/companies/{late_id}/verification"), &reviewer, &json!({ "decision": "verified" }))
        .await
        .expect(200);
    until_told(&mailboxes, &[&late_email]).await;
    more_runs(&app, program, 1).await;
    assert_eq!([told(&first), told(&second), told(&late_email)], [1, 1, 1]);
}

#[tokio::test]
async fn three_instances_running_the_job_tell_each_company_once() {
    let app = spawn_app().await;
    let admin = app.token_for(Role::Admin).await;
    let mut addresses = Vec::new();
    for n in 0..3 {
        addresses.push(listening(&app, &format!("多实例推送企业{n}有限公司")).await.2);
    }
    let (_second, second_mailbox) = app.another_instance().await;
    let (_third, third_mailbox) = app.another_instance().await;
    let mailboxes = [app.mailbox.clone().unwrap(), second_mailbox.unwrap(), third_mailbox.unwrap()];

    let program = app.publish_program(&admin, &outreach_program("OUT-MULTI")).await;
    let addresses: Vec<&str> = addresses.iter().map(String::as_str).collect();
    until_told(&mailboxes, &addresses).await;
    more_runs(&app, program, 3).await;
    let counts: Vec<usize> = addresses.iter().map(|a| announcements(&mailboxes, a)).collect();
    assert_eq!(counts, [1, 1, 1]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_runs_of_one_programme_at_once_tell_each_company_once() {
    // The job waits an hour between looks, so only the test's own runs tell anyone.
    let app = Arc::new(spawn_app_with(|settings| settings.outreach.poll_interval_secs = 3600).await);
    let admin = app.token_for(Role::Admin).await;
    let mut addresses = Vec::new();
    for n in 0..20 {
        addresses.push(listening(&app, &format!("并发推送企业{n:02}有限公司")).await.2);
    }
    // One company has a second user: both are told, the company is counted once.
    let first_company = app
        .db
        .read(|conn| {
            portal::db::companies::list(
                conn,
                &portal::db::companies::Filter::default(),
                portal::db::Start::Offset(0),
                1,
            )
        })
        .await;
    let first_company = first_company.unwrap().0[0].id;
    app.db
        .write(move |conn| {
            let now = portal::domain::time::now();
            let user = portal::db::users::NewUser {
                email: "second-user@company.example",
                password_hash: None,
                display_name: "李雷",
                role: Role::Applicant.as_str(),
                status: portal::domain::role::UserStatus::Active.as_str(),
                email_verified_at: Some(now),
                company_id: Some(first_company),
                created_at: now,
                updated_at: now,
            };
            portal::db::users::insert(conn, &user)
        })
        .await
        .unwrap();
    addresses.push("second-user@company.example".to_owned());
    let program = app.publish_program(&admin, &outreach_program("OUT-RACE")).await;

    let runs = (0..2).map(|_| {
        let app = app.clone();
        tokio::spawn(async move {
            let clock = Clock::now(app.settings.portal.utc_offset);
            outreach::run(&app.db, program, &app.settings.portal, clock).await.unwrap()
        })
    });
    let reports: Vec<_> = futures_util::future::join_all(runs).await.into_iter().map(Result::unwrap).collect();
    assert_eq!(reports.iter().map(|r| r.notified).sum::<usize>(), 20, "{reports:?}");
    let mailboxes = mailbox(&app);
    let addresses: Vec<&str> = addresses.iter().map(String::as_str).collect();
    until_told(&mailboxes, &addresses).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(addresses.iter().all(|a| announcements(&mailboxes, a) == 1));
    let again = outreach::run(&app.db, program, &app.settings.portal, Clock::now(app.settings.portal.utc_offset));
    assert_eq!(again.await.unwrap().notified, 0, "nobody is left to tell");
}

fn ids(ledger: &Value) -> Vec<i64> {
    ledger["items"].as_array().unwrap().iter().map(|i| i["company"]["id"].as_i64().unwrap()).collect()
}

fn counts(ledger: &Value) -> [i64; 3] {
    ["eligible", "notified", "applied"].map(|k| ledger[k].as_i64().unwrap())
}

#[tokio::test]
async fn the_ledger_shows_who_qualifies_who_was_told_and_who_applied_and_its_counts_add_up() {
    let app = spawn_app().await;
    let admin = app.token_for(Role::Admin).await;
    let reviewer = app.token_for(Role::Reviewer).await;
    let (_, told_id, told_email) = listening(&app, "珠海甲芯片有限公司").await;
    let (applicant, applicant_id) = app.eligible_company("珠海乙芯片有限公司").await;
    let (small, _, _) = listening(&app, "珠海丙芯片有限公司").await;
    figures(&app, &small, 10).await;
    let (pending, _) = app.signed_in_company("珠海丁芯片有限公司").await;
    figures(&app, &pending, 80).await;
    let program = app.publish_program(&admin, &outreach_program("OUT-LEDGER")).await;
    app.mail_to(&told_email, 1).await;
    let path = format!("/api/v1/programs/{program}/outreach");

    let ledger = app.get(&path, &reviewer).await.expect(200).json();
    assert_eq!(ledger["program"]["code"], "OUT-LEDGER");
    assert_eq!(ids(&ledger), [told_id, applicant_id], "neither the small company nor the unverified one");
    assert_eq!((counts(&ledger), ledger["total"].as_i64()), ([2, 1, 0], Some(2)));
    let told = &ledger["items"][0];
    assert!(told["notified_at"].as_str().is_some_and(|t| t.ends_with('Z')), "{told}");
    assert_eq!((told["applied"].as_bool(), told["application_id"].as_i64()), (Some(false), None));
    let quiet = &ledger["items"][1];
    assert_eq!((quiet["notified_at"].is_null(), quiet["notify_new_programs"].as_bool()), (true, Some(false)));

    // The quiet company applies: its row says so, and the counts follow.
    let draft = json!({ "program_id": program, "requested_amount_fen": 100_000_000, "form_data": { "project_name": "项目", "rd_budget_fen": 1 } });
    let draft = app.post("/api/v1/applications", &applicant, &draft).await.expect(201).json();
    let id = draft["id"].as_i64().unwrap();
    let submitted = act(&app, &applicant, id, json!({ "action": "submit", "version": draft["version"] })).await;
    let reference_no = submitted.expect(200).json()["reference_no"].as_str().unwrap().to_owned();
    let ledger = app.get(&path, &admin).await.expect(200).json();
    let row = &ledger["items"][1];
    assert_eq!(
        (
            row["applied"].as_bool(),
            row["application_id"].as_i64(),
            row["reference_no"].as_str(),
            row["status"].as_str()
        ),
        (Some(true), Some(id), Some(reference_no.as_str()), Some("submitted"))
    );
    assert_eq!(counts(&ledger), [2, 1, 1]);
    let items = ledger["items"].as_array().unwrap();
    let applied = items.iter().filter(|i| i["applied"] == true).count();
    let notified = items.iter().filter(|i| i["notified_at"].is_string()).count();
    assert_eq!([items.len(), notified, applied].map(|n| i64::try_from(n).unwrap()), counts(&ledger));

    // Filters narrow the rows; `applied` leaves the funnel whole, the others narrow it too.
    let with = |query: &str| {
        let (api, reviewer, url) = (app.api(), reviewer.clone(), format!("{path}?{query}"));
        async move { api.get(&url, &reviewer).await.expect(200).json() }
    };
    let applied = with("applied=true").await;
    assert_eq!((ids(&applied), counts(&applied), applied["total"].as_i64()), (vec![applicant_id], [2, 1, 1], Some(1)));
    assert_eq!(ids(&with("applied=false").await), [told_id]);
    let by_name = with("q=%E7%94%B2").await;
    assert_eq!((ids(&by_name), counts(&by_name)), (vec![told_id], [1, 1, 0]));
    let other_industry = with("industry=biomedicine").await;
    assert_eq!((ids(&other_industry), counts(&other_industry)), (vec![], [0, 0, 0]));
    let second_page = with("per_page=1&page=2").await;
    assert_eq!((ids(&second_page), second_page["total"].as_i64()), (vec![applicant_id], Some(2)));
    problem(app.get(&format!("{path}?per_page=101"), &reviewer).await, 422, "validation_failed").await;

    // The downloads hold every row, for Excel and WPS.
    let csv = app.get(&format!("{path}?format=csv"), &reviewer).await.expect(200);
    assert_eq!(csv.header("content-type"), "text/csv; charset=utf-8");
    assert!(csv.header("content-disposition").starts_with("attachment"));
    assert!(csv.bytes().starts_with(&[0xEF, 0xBB, 0xBF]), "a BOM, so Excel reads UTF-8");
    let text = csv.text();
    let lines: Vec<&str> = text.trim_start_matches('\u{feff}').lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert!(lines[0].starts_with("企业名称,统一社会信用代码"));
    assert!(lines[2].starts_with("珠海乙芯片有限公司,") && lines[2].contains(&reference_no), "{}", lines[2]);
    assert!(
        lines[2].ends_with(",否,,是,%s,已提交，等待形式审查".replace("%s", &reference_no).as_str()),
        "{}",
        lines[2]
    );
    let xlsx = app.get(&format!("{path}?format=xlsx&applied=true"), &reviewer).await.expect(200);
    let mut workbook: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(xlsx.bytes().to_vec())).unwrap();
    let sheet = calamine::Reader::worksheet_range(&mut workbook, "辅导跟进台账").unwrap();
    let rows: Vec<Vec<String>> = sheet.rows().map(|r| r.iter().map(ToString::to_string).collect()).collect();
    assert_eq!(rows.len(), 2, "the header and the one company that applied: {rows:?}");
    assert_eq!((rows[1][0].as_str(), rows[1][7].as_str()), ("珠海乙芯片有限公司", reference_no.as_str()));
    let summary = calamine::Reader::worksheet_range(&mut workbook, "汇总").unwrap();
    let summary: Vec<Vec<String>> = summary.rows().map(|r| r.iter().map(ToString::to_string).collect()).collect();
    assert_eq!(summary, [["符合条件", "2"], ["已推送", "1"], ["已申报", "1"]]);

    // Staff who follow up, and nobody else.
    let (_, expert_token) = expert(&app, "ledger.expert@park.example").await;
    problem(app.get(&path, &applicant).await, 403, "forbidden").await;
    problem(app.get(&path, &expert_token).await, 403, "forbidden").await;
    problem(app.get(&path, &app.token_for(Role::Finance).await).await, 403, "forbidden").await;
    problem(app.get("/api/v1/programs/999999/outreach", &reviewer).await, 404, "not_found").await;
}
