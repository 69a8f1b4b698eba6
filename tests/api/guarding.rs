//! Guarding the money: verified facts stay verified, payouts go to a confirmed account, uploads stay within
//! a company's quota, and every date and amount given to the service is bounded.

use chrono::NaiveDate;
use portal::domain::role::Role;
use serde_json::{Value, json};

use crate::helpers::{TestApp, approved, problem, quick_program, spawn_app};

struct Staff {
    admin: String,
    reviewer: String,
    finance: String,
    program: i64,
}

async fn staff(app: &TestApp) -> Staff {
    let admin = app.token_for(Role::Admin).await;
    let reviewer = app.token_for(Role::Reviewer).await;
    let finance = app.token_for(Role::Finance).await;
    let program = app.publish_program(&admin, &quick_program("IC-2026", 0, 0)).await;
    Staff { admin, reviewer, finance, program }
}

/// The first field error of a 422 `validation_failed`: `(field, code)`.
fn first_error(body: &Value) -> (String, String) {
    let error = &body["errors"][0];
    (error["field"].as_str().unwrap().to_owned(), error["code"].as_str().unwrap().to_owned())
}

#[tokio::test]
async fn dates_outside_2000_to_2100_and_overflowing_amounts_are_422_never_a_crash() {
    let app = spawn_app().await;
    let s = staff(&app).await;
    let case = approved(&app, &s.reviewer, s.program, "甲公司", 90_000_000).await;
    let (earliest, latest) = (NaiveDate::MIN.to_string(), NaiveDate::MAX.to_string().replace('+', "%2B"));

    // The timeliness report once subtracted the park's offset from the earliest date there is.
    for query in [
        format!("approved_from={earliest}&approved_to=2025-01-01"),
        format!("approved_from=2025-01-01&approved_to={latest}"),
        "approved_from=1999-12-31&approved_to=2025-01-01".to_owned(),
    ] {
        let answer = app.get(&format!("/api/v1/reports/timeliness?{query}"), &s.finance).await;
        let body = problem(answer, 422, "validation_failed").await;
        assert_eq!(first_error(&body).1, "out_of_range", "{query}");
    }
    let fine = app.get("/api/v1/reports/timeliness?approved_from=2000-01-01&approved_to=2100-12-31", &s.finance).await;
    assert_eq!(fine.expect(200).json()["approvals"], 1);

    for (path, field, token) in [
        (format!("/api/v1/reports/disbursements?group_by=program&paid_from={earliest}"), "paid_from", &s.finance),
        ("/api/v1/reports/disbursements?group_by=program&paid_to=2101-01-01".to_owned(), "paid_to", &s.finance),
        (format!("/api/v1/disbursements?paid_to={latest}"), "paid_to", &s.finance),
        ("/api/v1/applications?submitted_from=1999-12-31".to_owned(), "submitted_from", &s.reviewer),
        ("/api/v1/reports/requests?from=1900-01-01".to_owned(), "from", &s.admin),
    ] {
        let body = problem(app.get(&path, token).await, 422, "validation_failed").await;
        assert_eq!(first_error(&body), (field.to_owned(), "out_of_range".to_owned()), "{path}");
    }

    // Two instalments whose sum overflows 64 bits are refused, not wrapped round to the award.
    let plan = format!("/api/v1/applications/{}/payment-plan", case.id);
    let overflowing = json!({ "instalments": [{ "due_on": "2027-01-15", "amount_fen": i64::MAX }, { "due_on": "2027-06-15", "amount_fen": 90_000_001 }] });
    let body = problem(app.put(&plan, &s.finance, &overflowing).await, 422, "validation_failed").await;
    assert_eq!(first_error(&body), ("instalments[0].amount_fen".to_owned(), "out_of_range".to_owned()));
    let ancient = json!({ "instalments": [{ "due_on": earliest, "amount_fen": 90_000_000 }] });
    let body = problem(app.put(&plan, &s.finance, &ancient).await, 422, "validation_failed").await;
    assert_eq!(first_error(&body), ("instalments[0].due_on".to_owned(), "out_of_range".to_owned()));

    let payment = json!({ "amount_fen": 1, "paid_on": "1999-12-31", "voucher_no": "V-OLD" });
    let answer = app
        .post(&format!("/api/v1/applications/{}/disbursements", case.id), &s.finance, &payment)
        .header("idempotency-key", "old")
        .await;
    let body = problem(answer, 422, "validation_failed").await;
    assert_eq!(first_error(&body), ("paid_on".to_owned(), "out_of_range".to_owned()));
    let plan_now: Value = app.get(&plan, &s.finance).await.json();
    assert_eq!(plan_now["planned"], false, "nothing changed");

    // A company's own amounts are bounded too, so nothing summing them can overflow.
    let year = chrono::Datelike::year(&chrono::Utc::now()) - 1;
    let figures = json!({ "revenue_fen": i64::MAX, "rd_expense_fen": 0, "employee_count": 1, "rd_staff_count": 0 });
    let answer = app.put(&format!("/api/v1/companies/me/financials/{year}"), &case.company, &figures).await;
    assert_eq!(first_error(&problem(answer, 422, "validation_failed").await).0, "revenue_fen");
    let capital = json!({ "registered_capital_fen": i64::MAX });
    let answer = app.patch("/api/v1/companies/me", &case.company, &capital).await;
    assert_eq!(first_error(&problem(answer, 422, "validation_failed").await).0, "registered_capital_fen");
}

#[tokio::test]
async fn a_verified_company_changing_a_verified_fact_is_pending_again_and_the_reviewers_are_told() {
    let app = spawn_app().await;
    let s = staff(&app).await;
    let reviewer_email = format!("{}@park.example", uuid::Uuid::new_v4().simple());
    app.create_user(Role::Reviewer, &reviewer_email).await;
    let (company, company_id) = app.eligible_company("甲公司").await;

    // Facts that were not verified, or a fact set to what it was, keep the company verified.
    let same = json!({ "name": "甲公司", "address": "珠海市高新区科技七路 2 号", "contact_phone": "13812345678" });
    let kept: Value = app.patch("/api/v1/companies/me", &company, &same).await.expect(200).json();
    assert_eq!(kept["verification_status"], "verified");

    let changed = json!({ "registered_capital_fen": 2_000_000_000, "industry": "software", "address": "珠海市金湾区" });
    let pending: Value = app.patch("/api/v1/companies/me", &company, &changed).await.expect(200).json();
    assert_eq!(pending["verification_status"], "pending");
    let staff_view: Value = app.get(&format!("/api/v1/companies/{company_id}"), &s.reviewer).await.expect(200).json();
    assert_eq!(staff_view["verification_status"], "pending");

    let mail = app.mail_to(&reviewer_email, 1).await;
    assert!(mail[0].subject.contains("甲公司"), "{}", mail[0].subject);
    assert!(mail[0].body.contains("registered_capital_fen") && mail[0].body.contains("industry"), "{}", mail[0].body);

    let events: Value =
        app.get("/api/v1/audit-events?action=company.update&per_page=100", &s.admin).await.expect(200).json();
    let latest = &events["items"][0]["summary"];
    assert_eq!(latest["changed"], json!(["industry", "registered_capital_fen", "address"]));
    assert_eq!(latest["before"]["registered_capital_fen"], 1_000_000_000);
    assert_eq!(latest["after"]["registered_capital_fen"], 2_000_000_000);
    assert_eq!(
        (latest["before"]["industry"].as_str(), latest["after"]["industry"].as_str()),
        (Some("integrated_circuit"), Some("software"))
    );
    assert_eq!(latest["verification_status"], "pending");

    // Eligibility now judges the company unverified: it cannot submit until a reviewer verifies it again.
    let draft = json!({ "program_id": s.program, "requested_amount_fen": 300_000_000, "form_data": { "project_name": "项目", "rd_budget_fen": 1 } });
    let created: Value = app.post("/api/v1/applications", &company, &draft).await.expect(201).json();
    let submit = json!({ "action": "submit", "version": created["version"] });
    let refused = crate::helpers::act(&app, &company, created["id"].as_i64().unwrap(), submit).await;
    assert_eq!(refused.status(), 422, "{}", refused.text());

    // A pending company changing its facts does not tell the reviewers again.
    app.patch("/api/v1/companies/me", &company, &json!({ "name": "甲科技公司" })).await.expect(200);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    app.mail_to(&reviewer_email, 1).await;
}

/// Waits for a message to `to` whose subject contains `subject`, and returns its body.
async fn mail_about(app: &TestApp, to: &str, subject: &str) -> String {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let mail = app.mailbox.as_ref().expect("the memory mail transport").to(to);
        if let Some(found) = mail.iter().find(|m| m.subject.contains(subject)) {
            return found.body.clone();
        }
        assert!(std::time::Instant::now() < deadline, "no mail to {to} about {subject}");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

async fn pay(app: &TestApp, finance: &str, id: i64, key: &str, voucher: &str) -> crate::helpers::Answer {
    let body = json!({ "amount_fen": 30_000_000, "paid_on": chrono::Utc::now().date_naive().pred_opt().unwrap(), "voucher_no": voucher });
    app.post(&format!("/api/v1/applications/{id}/disbursements"), finance, &body).header("idempotency-key", key).await
}

async fn audited(app: &TestApp, admin: &str, action: &str) -> Vec<Value> {
    let events: Value =
        app.get(&format!("/api/v1/audit-events?action={action}&per_page=100"), admin).await.expect(200).json();
    events["items"].as_array().unwrap().clone()
}

#[tokio::test]
async fn a_changed_bank_account_is_paid_only_once_finance_has_confirmed_it() {
    let app = spawn_app().await;
    let s = staff(&app).await;
    let case = approved(&app, &s.reviewer, s.program, "甲公司", 90_000_000).await;
    let me: Value = app.get("/api/v1/companies/me", &case.company).await.expect(200).json();
    let company_id = me["id"].as_i64().unwrap();
    assert_eq!(me["bank_account_status"], "confirmed");

    // Whoever holds the company's account redirects the award: every user of the company hears of it.
    let account = json!({ "bank_name": "某某银行", "account_name": "甲公司", "account_no": "6222 0299 8877 6543" });
    app.put("/api/v1/companies/me/bank-account", &case.company, &account).await.expect(200);
    let body = mail_about(&app, &case.company_email, "收款银行账户已变更").await;
    assert!(body.contains("****6543") && !body.contains("6222029988776543"), "{body}");
    let me: Value = app.get("/api/v1/companies/me", &case.company).await.json();
    assert_eq!(me["bank_account_status"], "unconfirmed");

    // No payment goes to it, and the refusal does not spend the key.
    let refused = pay(&app, &s.finance, case.id, "pay-1", "V-1").await;
    problem(refused, 409, "bank_account_unconfirmed").await;
    let entries: Value = app.get(&format!("/api/v1/applications/{}/disbursements", case.id), &s.finance).await.json();
    assert_eq!(entries, json!([]), "nothing paid");
    let application: Value = app.get(&format!("/api/v1/applications/{}", case.id), &s.finance).await.json();
    assert_eq!(application["disbursed_fen"], 0);

    // Finance reads the full number (audited) and confirms it; reviewers cannot.
    let company: Value = app.get(&format!("/api/v1/companies/{company_id}"), &s.finance).await.expect(200).json();
    assert_eq!(company["bank_account"]["account_no"], "6222029988776543");
    let reads = audited(&app, &s.admin, "company.bank_account_read").await;
    assert_eq!((reads.len(), reads[0]["object_id"].as_i64()), (1, Some(company_id)));
    let confirm = format!("/api/v1/companies/{company_id}/bank-account/confirmation");
    problem(app.post(&confirm, &s.reviewer, &json!({})).await, 403, "forbidden").await;
    app.post(&confirm, &s.finance, &json!({})).await.expect(204);
    let confirmations = audited(&app, &s.admin, "company.bank_account_confirmation").await;
    assert_eq!(confirmations[0]["summary"]["account_no"], "****6543");
    let me: Value = app.get("/api/v1/companies/me", &case.company).await.json();
    assert_eq!(me["bank_account_status"], "confirmed");

    // The same request now pays, into the confirmed account, with a digest of its full number kept.
    let paid: Value = pay(&app, &s.finance, case.id, "pay-1", "V-1").await.expect(201).json();
    assert_eq!(paid["paid_to"], "****6543");
    let stored = {
        use diesel::prelude::*;
        use portal::db::schema::disbursements;
        let mut conn = app.db.connection().unwrap();
        disbursements::table
            .find(paid["id"].as_i64().unwrap())
            .select(disbursements::paid_to_sha256)
            .first::<Option<String>>(&mut *conn)
            .unwrap()
    };
    assert_eq!(stored, Some(portal::domain::company::account_no_sha256("6222029988776543")));
    let replay: Value = pay(&app, &s.finance, case.id, "pay-1", "V-1").await.expect(201).json();
    assert_eq!(replay["id"], paid["id"], "the key's answer is the payment");

    // A reversal names the account the money came back from.
    let reversal = app
        .post(&format!("/api/v1/disbursements/{}/reversal", paid["id"]), &s.finance, &json!({ "reason": "退票" }))
        .header("idempotency-key", "reverse-1")
        .await;
    assert_eq!(reversal.expect(201).json()["paid_to"], "****6543");

    // Another change needs another confirmation.
    app.put("/api/v1/companies/me/bank-account", &case.company, &account).await.expect(200);
    problem(pay(&app, &s.finance, case.id, "pay-2", "V-2").await, 409, "bank_account_unconfirmed").await;
    let replay: Value = pay(&app, &s.finance, case.id, "pay-1", "V-1").await.expect(201).json();
    assert_eq!(replay["id"], paid["id"], "a key already answered keeps its answer");
}

#[tokio::test]
async fn a_confirmation_naming_the_account_seen_refuses_one_changed_since_and_confirms_nothing() {
    let app = spawn_app().await;
    let finance = app.token_for(Role::Finance).await;
    let reviewer = app.token_for(Role::Reviewer).await;
    let (company, company_id) = app.signed_in_company("乙公司").await;
    let first = json!({ "bank_name": "某某银行", "account_name": "乙公司", "account_no": "6222 0299 8877 6543" });
    app.put("/api/v1/companies/me/bank-account", &company, &first).await.expect(200);
    let path = format!("/api/v1/companies/{company_id}");
    let seen: Value = app.get(&path, &finance).await.expect(200).json();
    let seen_sha256 = seen["bank_account"]["sha256"].as_str().unwrap().to_owned();
    let as_reviewer: Value = app.get(&path, &reviewer).await.expect(200).json();
    assert!(as_reviewer["bank_account"].get("sha256").is_none(), "only finance gets the digest");

    let second = json!({ "bank_name": "某某银行", "account_name": "乙公司", "account_no": "6222 0299 0000 1111" });
    app.put("/api/v1/companies/me/bank-account", &company, &second).await.expect(200);
    let confirm = format!("/api/v1/companies/{company_id}/bank-account/confirmation");
    let stale = app.post(&confirm, &finance, &json!({ "account_sha256": seen_sha256 })).await;
    let body = problem(stale, 409, "conflict").await;
    assert!(body["detail"].as_str().unwrap().contains("变更"), "{body}");
    let malformed = app.post(&confirm, &finance, &json!({ "account_sha256": "abc" })).await;
    assert_eq!(problem(malformed, 422, "validation_failed").await["errors"][0]["field"], "account_sha256");
    let now: Value = app.get(&path, &finance).await.json();
    assert_eq!(now["bank_account_status"], "unconfirmed", "nothing confirmed");

    let current = now["bank_account"]["sha256"].as_str().unwrap().to_owned();
    assert_ne!(current, seen_sha256);
    app.post(&confirm, &finance, &json!({ "account_sha256": current })).await.expect(204);
    let now: Value = app.get(&path, &finance).await.json();
    assert_eq!(now["bank_account_status"], "confirmed");

    app.put("/api/v1/companies/me/bank-account", &company, &first).await.expect(200);
    app.request(reqwest::Method::POST, &confirm, &finance).await.expect(204);
    let now: Value = app.get(&path, &finance).await.json();
    assert_eq!(now["bank_account_status"], "confirmed", "without a body the current account is confirmed, as before");
}

#[tokio::test]
async fn a_company_without_a_bank_account_has_nothing_to_confirm() {
    let app = spawn_app().await;
    let finance = app.token_for(Role::Finance).await;
    let (company, company_id) = app.signed_in_company("乙公司").await;
    let me: Value = app.get("/api/v1/companies/me", &company).await.json();
    assert_eq!(me["bank_account_status"], "none");
    let confirm = format!("/api/v1/companies/{company_id}/bank-account/confirmation");
    problem(app.post(&confirm, &finance, &json!({})).await, 409, "no_bank_account").await;
    problem(
        app.post("/api/v1/companies/999999/bank-account/confirmation", &finance, &json!({})).await,
        404,
        "not_found",
    )
    .await;
    let company_view: Value = app.get(&format!("/api/v1/companies/{company_id}"), &finance).await.json();
    assert_eq!(company_view["bank_account_status"], "none");
}

#[tokio::test]
async fn only_a_verified_company_uploads_and_its_files_stay_within_its_quota() {
    use crate::helpers::{PDF, program_body, upload};

    let app = crate::helpers::spawn_app_with(|settings| settings.storage.company_quota_bytes = 2_500).await;
    let admin = app.token_for(Role::Admin).await;
    let first = app.publish_program(&admin, &program_body("IC-2026")).await;
    let second = app.publish_program(&admin, &program_body("IC-2027")).await;
    let draft = |token: String, program: i64| {
        let app = &app;
        async move {
            let body = json!({ "program_id": program, "requested_amount_fen": 300_000_000, "form_data": { "project_name": "项目", "rd_budget_fen": 1 } });
            app.post("/api/v1/applications", &token, &body).await.expect(201).json()["id"].as_i64().unwrap()
        }
    };
    let mut file = PDF.to_vec();
    file.resize(1_000, b' ');

    // A company whose registration nobody has checked keeps no files here.
    let (pending, _) = app.signed_in_company("未审核公司").await;
    let id = draft(pending.clone(), first).await;
    let refused = upload(&app, &pending, id, "business_license", "l.pdf", &file, "application/pdf").await;
    problem(refused, 403, "company_not_verified").await;

    // The quota counts every application of the company.
    let (company, _) = app.eligible_company("甲公司").await;
    let (one, two) = (draft(company.clone(), first).await, draft(company.clone(), second).await);
    let kept: Value =
        upload(&app, &company, one, "business_license", "a.pdf", &file, "application/pdf").await.expect(201).json();
    upload(&app, &company, two, "business_license", "b.pdf", &file, "application/pdf").await.expect(201);
    let over = upload(&app, &company, two, "business_license", "c.pdf", &file, "application/pdf").await;
    let body = problem(over, 422, "quota_exceeded").await;
    assert_eq!(first_error(&body), ("file".to_owned(), "quota_exceeded".to_owned()));
    let listed: Value = app.get(&format!("/api/v1/applications/{two}/attachments"), &company).await.json();
    assert_eq!(listed.as_array().unwrap().len(), 1, "nothing stored");
    let stored = walkdir(app.uploads.path());
    assert_eq!(stored, 2, "no stray file");

    // What fits in the rest still goes, and removing a file makes room.
    upload(&app, &company, two, "business_license", "small.pdf", PDF, "application/pdf").await.expect(201);
    app.delete(&format!("/api/v1/applications/{one}/attachments/{}", kept["id"]), &company).await.expect(204);
    upload(&app, &company, two, "business_license", "c.pdf", &file, "application/pdf").await.expect(201);

    // Another company has a quota of its own.
    let (other, _) = app.eligible_company("乙公司").await;
    let theirs = draft(other.clone(), first).await;
    upload(&app, &other, theirs, "business_license", "a.pdf", &file, "application/pdf").await.expect(201);
}

/// How many files are stored under `dir`.
fn walkdir(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .map(|path| if path.is_dir() { walkdir(&path) } else { 1 })
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_racing_for_the_last_of_the_quota_fit_in_it_and_no_more() {
    use crate::helpers::{PDF, program_body, upload};

    let app = std::sync::Arc::new(
        crate::helpers::spawn_app_with(|settings| settings.storage.company_quota_bytes = 2_500).await,
    );
    let admin = app.token_for(Role::Admin).await;
    let (company, _) = app.eligible_company("甲公司").await;
    let mut drafts = Vec::new();
    for n in 0..6 {
        let program = app.publish_program(&admin, &program_body(&format!("IC-{n}"))).await;
        let body = json!({ "program_id": program, "requested_amount_fen": 300_000_000, "form_data": { "project_name": "项目", "rd_budget_fen": 1 } });
        drafts.push(app.post("/api/v1/applications", &company, &body).await.expect(201).json()["id"].as_i64().unwrap());
    }
    let mut file = PDF.to_vec();
    file.resize(1_000, b' ');
    let uploads = drafts.into_iter().map(|id| {
        let (app, company, file) = (app.clone(), company.clone(), file.clone());
        tokio::spawn(async move {
            let answer = upload(&app, &company, id, "business_license", "a.pdf", &file, "application/pdf").await;
            let code =
                if answer.status().is_success() { None } else { answer.json()["code"].as_str().map(ToOwned::to_owned) };
            (answer.status().as_u16(), code)
        })
    });
    let outcomes: Vec<_> = futures_util::future::join_all(uploads).await.into_iter().map(Result::unwrap).collect();
    assert_eq!(outcomes.iter().filter(|(status, _)| *status == 201).count(), 2, "{outcomes:?}");
    assert!(
        outcomes.iter().all(|o| o.0 == 201 || (o.0 == 422 && o.1.as_deref() == Some("quota_exceeded"))),
        "{outcomes:?}"
    );
}
