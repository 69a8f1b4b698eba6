//! The staff console's sessions and guards over HTTP. What staff do with it is walked through in a real
//! browser by `tests/browser/console.py`.

use diesel::prelude::*;
use portal::db::schema::sessions;
use portal::domain::role::Role;
use reqwest::header::{COOKIE, LOCATION, ORIGIN, SET_COOKIE};
use serde_json::json;

use crate::helpers::{
    Auth, COMPANY_PASSWORD, PASSWORD, TestApp, application, approved, expert, quick_program, spawn_app, spawn_app_with,
    step, submitted,
};

/// A browser that never follows redirects, so each answer can be read.
struct Browser<'a> {
    app: &'a TestApp,
    http: reqwest::Client,
    cookie: Option<String>,
}

impl<'a> Browser<'a> {
    fn new(app: &'a TestApp) -> Self {
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        Self { app, http, cookie: None }
    }

    fn origin(&self) -> String {
        self.app.address.clone()
    }

    /// Signs in through the form; the answer, with the session cookie kept.
    async fn sign_in(&mut self, email: &str, password: &str) -> reqwest::Response {
        let response = self
            .http
            .post(self.app.url("/console/login"))
            .header(ORIGIN, self.origin())
            .form(&[("email", email), ("password", password), ("next", "/console/applications")])
            .send()
            .await
            .unwrap();
        self.cookie = response
            .headers()
            .get_all(SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with("portal_console="))
            .map(|v| v.split(';').next().unwrap().to_owned());
        response
    }

    async fn get(&self, path: &str) -> reqwest::Response {
        let mut request = self.http.get(self.app.url(path));
        if let Some(cookie) = &self.cookie {
            request = request.header(COOKIE, cookie);
        }
        request.send().await.unwrap()
    }

    async fn post(&self, path: &str, origin: &str, form: &[(&str, &str)]) -> reqwest::Response {
        let mut request = self.http.post(self.app.url(path)).header(ORIGIN, origin).form(form);
        if let Some(cookie) = &self.cookie {
            request = request.header(COOKIE, cookie);
        }
        request.send().await.unwrap()
    }

    /// The form token of the session, as the page at `path` renders it.
    async fn csrf(&self, path: &str) -> String {
        between(&self.get(path).await.text().await.unwrap(), "name=\"csrf\" value=\"", "\"")
    }
}

/// The text of `page` from `before` up to `after`.
fn between(page: &str, before: &str, after: &str) -> String {
    let start = page.find(before).unwrap_or_else(|| panic!("no {before} in {page}")) + before.len();
    page[start..].split(after).next().unwrap().to_owned()
}

fn location(response: &reqwest::Response) -> &str {
    response.headers().get(LOCATION).and_then(|v| v.to_str().ok()).unwrap_or_default()
}

#[tokio::test]
async fn a_console_session_lives_in_an_http_only_strict_cookie_for_the_console_alone() {
    let app = spawn_app().await;
    app.create_user(Role::Reviewer, "reviewer@park.example").await;
    let mut browser = Browser::new(&app);

    assert_eq!(
        location(&browser.get("/console/applications?status=submitted").await),
        "/console/login?next=%2Fconsole%2Fapplications%3Fstatus%3Dsubmitted"
    );
    let signed_in = browser.sign_in("reviewer@park.example", PASSWORD).await;
    assert_eq!(signed_in.status(), 303);
    assert_eq!(location(&signed_in), "/console/applications");
    let cookie = signed_in.headers().get(SET_COOKIE).unwrap().to_str().unwrap().to_owned();
    for part in ["HttpOnly", "SameSite=Strict", "Path=/console", "Secure"] {
        assert!(cookie.contains(part), "the session cookie lacks {part}: {cookie}");
    }

    let secret = browser.cookie.as_deref().unwrap().trim_start_matches("portal_console=").to_owned();
    let as_refresh = app.post("/api/v1/auth/refresh", Auth::None, &json!({ "refresh_token": secret })).await;
    assert_eq!(as_refresh.status(), 401, "a console cookie is never a way to API tokens");

    let page = browser.get("/console/").await;
    assert_eq!(page.status(), 200);
    let csp = page.headers()["content-security-policy"].to_str().unwrap().to_owned();
    assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"), "{csp}");
    assert_eq!(page.headers()["cache-control"], "no-store");
    assert!(page.text().await.unwrap().contains("待形式审查"));
}

#[tokio::test]
async fn a_wrong_password_keeps_the_sign_in_page_and_gives_no_session() {
    let app = spawn_app().await;
    app.create_user(Role::Reviewer, "reviewer@park.example").await;
    let mut browser = Browser::new(&app);
    let refused = browser.sign_in("reviewer@park.example", "not the password").await;
    assert_eq!(refused.status(), 401);
    assert!(browser.cookie.is_none());
    assert!(refused.text().await.unwrap().contains("邮箱或密码不正确"));
}

#[tokio::test]
async fn a_company_account_is_told_the_console_is_for_staff_and_keeps_no_session() {
    let app = spawn_app().await;
    let (company_token, _) = app.eligible_company("甲公司").await;
    let email = app.get("/api/v1/me", &company_token).await.json()["email"].as_str().unwrap().to_owned();
    let mut browser = Browser::new(&app);

    let refused = browser.sign_in(&email, COMPANY_PASSWORD).await;
    assert_eq!(refused.status(), 403);
    assert!(browser.cookie.is_none());
    assert!(refused.text().await.unwrap().contains("控制台仅供园区工作人员使用"));
    let live: i64 = app
        .db
        .read(|conn| {
            Ok::<_, portal::db::Error>(sessions::table.filter(sessions::revoked_at.is_null()).count().get_result(conn)?)
        })
        .await
        .unwrap();
    assert_eq!(live, 1, "only the test's own API session is live");
}

#[tokio::test]
async fn disabling_an_account_ends_its_console_session_at_once() {
    let app = spawn_app().await;
    let id = app.create_user(Role::Reviewer, "reviewer@park.example").await;
    let admin = app.token_for(Role::Admin).await;
    let mut browser = Browser::new(&app);
    browser.sign_in("reviewer@park.example", PASSWORD).await;
    assert_eq!(browser.get("/console/").await.status(), 200);

    app.patch(&format!("/api/v1/users/{id}"), &admin, &json!({ "status": "disabled" })).await.expect(200);

    let after = browser.get("/console/").await;
    assert_eq!(after.status(), 303);
    assert_eq!(location(&after), "/console/login?next=%2Fconsole%2F");
}

#[tokio::test]
async fn a_console_session_left_idle_for_the_timeout_is_over() {
    let app = spawn_app().await;
    app.create_user(Role::Reviewer, "reviewer@park.example").await;
    let mut browser = Browser::new(&app);
    browser.sign_in("reviewer@park.example", PASSWORD).await;
    assert_eq!(browser.get("/console/").await.status(), 200);

    let idle = i64::from(app.settings.console.idle_timeout_mins) + 1;
    app.db
        .write(move |conn| {
            let long_ago = portal::domain::time::now() - chrono::Duration::minutes(idle);
            diesel::update(sessions::table).set(sessions::last_seen_at.eq(long_ago)).execute(conn)?;
            Ok::<_, portal::db::Error>(())
        })
        .await
        .unwrap();

    assert_eq!(browser.get("/console/").await.status(), 303, "an idle session no longer opens the console");
}

#[tokio::test]
async fn a_console_form_needs_the_sessions_token_and_its_own_origin() {
    let app = spawn_app().await;
    app.create_user(Role::Reviewer, "reviewer@park.example").await;
    let mut browser = Browser::new(&app);
    browser.sign_in("reviewer@park.example", PASSWORD).await;
    let token = browser.csrf("/console/").await;
    let origin = browser.origin();

    let cases: [(&str, &[(&str, &str)]); 3] = [
        (origin.as_str(), &[]),
        (origin.as_str(), &[("csrf", "0000")]),
        ("https://elsewhere.example", &[("csrf", token.as_str())]),
    ];
    for (from, form) in cases {
        let refused = browser.post("/console/logout", from, form).await;
        assert_eq!(refused.status(), 403, "signed out from {from} with {form:?}");
        assert_eq!(browser.get("/console/").await.status(), 200, "the session survives a refused form");
    }

    let signed_out = browser.post("/console/logout", &origin, &[("csrf", token.as_str())]).await;
    assert_eq!(signed_out.status(), 303);
    assert_eq!(browser.get("/console/").await.status(), 303, "signing out ends the session");
}

#[tokio::test]
async fn a_role_that_needs_a_second_factor_sets_it_up_first_and_then_signs_in_with_a_code() {
    let app = spawn_app_with(|s| s.auth.mfa_required_roles = vec![Role::Finance]).await;
    app.create_user(Role::Finance, "finance@park.example").await;
    let origin = app.address.clone();
    let mut browser = Browser::new(&app);
    browser.sign_in("finance@park.example", PASSWORD).await;
    assert_eq!(location(&browser.get("/console/payments").await), "/console/mfa", "nothing before the second factor");

    let token = browser.csrf("/console/mfa").await;
    let started = browser.post("/console/mfa/start", &origin, &[("csrf", &token)]).await.text().await.unwrap();
    let secret = between(&started, "id=\"totp-secret\">", "<");
    let now = chrono::Utc::now().timestamp();
    let first = portal::auth::totp::code_at(&secret, now).unwrap();
    let confirmed = browser.post("/console/mfa/confirm", &origin, &[("csrf", &token), ("code", &first)]).await;
    assert_eq!(confirmed.status(), 200);
    assert_eq!(confirmed.text().await.unwrap().matches("<li><code>").count(), 10, "ten recovery codes");
    assert_eq!(browser.get("/console/payments").await.status(), 200);

    let mut again = Browser::new(&app);
    let password_step = again.sign_in("finance@park.example", PASSWORD).await;
    assert_eq!(password_step.status(), 200, "a password alone opens no session");
    assert!(again.cookie.is_none());
    let mfa_token = between(&password_step.text().await.unwrap(), "name=\"mfa_token\" value=\"", "\"");
    let next = portal::auth::totp::code_at(&secret, now + portal::auth::totp::STEP_SECS).unwrap();
    for (code, status) in [("000000", 401), (first.as_str(), 401), (next.as_str(), 303)] {
        let answer = again
            .http
            .post(app.url("/console/login/code"))
            .header(ORIGIN, &origin)
            .form(&[("mfa_token", mfa_token.as_str()), ("code", code), ("next", "/console/payments")])
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), status, "code {code}");
        if status == 303 {
            assert_eq!(location(&answer), "/console/payments");
            let cookie = answer.headers().get(SET_COOKIE).unwrap().to_str().unwrap();
            again.cookie = Some(cookie.split(';').next().unwrap().to_owned());
        }
    }
    assert_eq!(again.get("/console/payments").await.status(), 200);
}

#[tokio::test]
async fn an_admin_keeps_the_calendar_in_the_console_and_a_bad_date_changes_nothing() {
    let app = spawn_app().await;
    app.create_user(Role::Admin, "admin@park.example").await;
    let admin = app.token_for(Role::Admin).await;
    let origin = app.address.clone();
    let mut browser = Browser::new(&app);
    browser.sign_in("admin@park.example", PASSWORD).await;
    let token = browser.csrf("/console/calendar?year=2027").await;

    let refused = browser
        .post(
            "/console/calendar/2027",
            &origin,
            &[("csrf", &token), ("holidays", "2027-10-01\n2027-13-01"), ("workdays", "")],
        )
        .await;
    assert_eq!(refused.status(), 422);
    assert!(refused.text().await.unwrap().contains("“2027-13-01”不是日期"));
    let stored = app.get("/api/v1/calendar/2027", &admin).await.expect(200).json();
    assert_eq!(stored["holidays"], json!([]), "a refused form changes nothing");

    let saved = browser
        .post(
            "/console/calendar/2027",
            &origin,
            &[("csrf", &token), ("holidays", "2027-10-01 2027-10-04"), ("workdays", "2027-10-09")],
        )
        .await;
    assert_eq!(saved.status(), 303);
    let stored = app.get("/api/v1/calendar/2027", &admin).await.expect(200).json();
    assert_eq!(stored["holidays"], json!(["2027-10-01", "2027-10-04"]));
    assert_eq!(stored["workdays"], json!(["2027-10-09"]));
}

#[tokio::test]
async fn an_address_the_console_cannot_read_is_answered_with_a_page_not_json() {
    let app = spawn_app().await;
    app.create_user(Role::Finance, "finance@park.example").await;
    let mut browser = Browser::new(&app);
    browser.sign_in("finance@park.example", PASSWORD).await;

    for (path, status) in
        [("/console/applications/abc", 404), ("/console/reports?from=2025-13-01", 422), ("/console/nowhere", 404)]
    {
        let answer = browser.get(path).await;
        assert_eq!(answer.status(), status, "{path}");
        let content_type = answer.headers()["content-type"].to_str().unwrap().to_owned();
        assert!(content_type.starts_with("text/html"), "{path} answered {content_type}");
    }
}

#[tokio::test]
async fn an_admin_cannot_disable_their_own_account_from_the_console() {
    let app = spawn_app().await;
    let id = app.create_user(Role::Admin, "admin@park.example").await;
    let mut browser = Browser::new(&app);
    browser.sign_in("admin@park.example", PASSWORD).await;
    let page = browser.get("/console/users").await.text().await.unwrap();
    assert!(!page.contains(&format!("action=\"/console/users/{id}\"")), "no button disables one's own account");
    let token = between(&page, "name=\"csrf\" value=\"", "\"");

    let refused = browser
        .post(&format!("/console/users/{id}"), &browser.origin(), &[("csrf", &token), ("status", "disabled")])
        .await;
    assert_eq!(refused.status(), 409);
    assert!(refused.text().await.unwrap().contains("不能停用自己的账号"));
    assert_eq!(browser.get("/console/users").await.status(), 200, "the account and its session stay");
}

/// Two approved applications, each paid once through the API by finance: the finance officer's console,
/// the ids of the applications and of their payments.
async fn two_paid_awards(app: &TestApp) -> (Browser<'_>, [(i64, i64); 2]) {
    let admin = app.token_for(Role::Admin).await;
    let reviewer = app.token_for(Role::Reviewer).await;
    app.create_user(Role::Finance, "finance@park.example").await;
    let finance = app.login("finance@park.example", PASSWORD).await.expect(200).json()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let program = app.publish_program(&admin, &quick_program("IC-2026", 0, 0)).await;
    let mut paid = Vec::new();
    for (n, name) in ["甲公司", "乙公司"].into_iter().enumerate() {
        let case = approved(app, &reviewer, program, name, 1_000_000).await;
        let body = json!({ "amount_fen": 1_000_000, "paid_on": chrono::Utc::now().date_naive().pred_opt().unwrap(), "voucher_no": format!("V-{n}") });
        let payment = app
            .post(&format!("/api/v1/applications/{}/disbursements", case.id), &finance, &body)
            .header("idempotency-key", &format!("pay-{n}"))
            .await
            .expect(201)
            .json();
        paid.push((case.id, payment["id"].as_i64().unwrap()));
    }
    let mut browser = Browser::new(app);
    browser.sign_in("finance@park.example", PASSWORD).await;
    (browser, [paid[0], paid[1]])
}

#[tokio::test]
async fn a_reversal_form_reverses_only_a_payment_of_the_application_in_its_address() {
    let app = spawn_app().await;
    let (browser, [(first, first_payment), (second, _)]) = two_paid_awards(&app).await;
    let token = browser.csrf(&format!("/console/applications/{second}")).await;
    let origin = browser.origin();
    let form = [("csrf", token.as_str()), ("idempotency_key", "reverse-elsewhere"), ("reason", "退回重付")];

    let elsewhere = browser
        .post(&format!("/console/applications/{second}/payments/{first_payment}/reversal"), &origin, &form)
        .await;
    assert_eq!(elsewhere.status(), 404);
    let again = browser
        .post(&format!("/console/applications/{second}/payments/{first_payment}/reversal"), &origin, &form)
        .await;
    assert_eq!(again.status(), 404, "the same key answers the same");
    let page = browser.get(&format!("/console/applications/{first}")).await.text().await.unwrap();
    assert!(page.contains(&format!("/payments/{first_payment}/reversal")), "the payment is still reversible");

    let form = [("csrf", token.as_str()), ("idempotency_key", "reverse-here"), ("reason", "退回重付")];
    let reversed =
        browser.post(&format!("/console/applications/{first}/payments/{first_payment}/reversal"), &origin, &form).await;
    assert_eq!(reversed.status(), 303);
    let page = browser.get(&format!("/console/applications/{first}")).await.text().await.unwrap();
    assert!(!page.contains(&format!("/payments/{first_payment}/reversal")), "reversed once");
}

async fn bank_account_status(app: &TestApp, company: &str) -> String {
    app.get("/api/v1/companies/me", company).await.json()["bank_account_status"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn finance_confirms_the_bank_account_it_was_shown_and_not_one_changed_since() {
    let app = spawn_app().await;
    let admin = app.token_for(Role::Admin).await;
    let reviewer = app.token_for(Role::Reviewer).await;
    app.create_user(Role::Finance, "finance@park.example").await;
    let program = app.publish_program(&admin, &quick_program("IC-2026", 0, 0)).await;
    let case = approved(&app, &reviewer, program, "甲公司", 1_000_000).await;
    let account = |no: &str| json!({ "bank_name": "某某银行", "account_name": "甲公司", "account_no": no });
    app.put("/api/v1/companies/me/bank-account", &case.company, &account("6222 0299 8877 6543")).await.expect(200);
    let company_id = app.get("/api/v1/companies/me", &case.company).await.json()["id"].as_i64().unwrap();
    let mut browser = Browser::new(&app);
    browser.sign_in("finance@park.example", PASSWORD).await;
    let (origin, page_path) = (browser.origin(), format!("/console/applications/{}", case.id));
    let confirm = format!("{page_path}/bank-account/{company_id}");
    let page = browser.get(&page_path).await.text().await.unwrap();
    assert!(page.contains(&format!("action=\"{confirm}\"")));
    let token = between(&page, "name=\"csrf\" value=\"", "\"");
    let seen = between(&page, "name=\"account_sha256\" value=\"", "\"");
    assert_eq!(seen.len(), 64, "the form names the account shown");

    app.put("/api/v1/companies/me/bank-account", &case.company, &account("6222 0299 0000 1111")).await.expect(200);
    let stale = browser.post(&confirm, &origin, &[("csrf", token.as_str()), ("account_sha256", seen.as_str())]).await;
    assert_eq!(stale.status(), 409);
    assert!(stale.text().await.unwrap().contains("企业在您查看之后变更了收款账户"));
    assert_eq!(bank_account_status(&app, &case.company).await, "unconfirmed", "nothing confirmed");

    let page = browser.get(&page_path).await.text().await.unwrap();
    let shown = between(&page, "name=\"account_sha256\" value=\"", "\"");
    assert_ne!(shown, seen);
    let confirmed =
        browser.post(&confirm, &origin, &[("csrf", token.as_str()), ("account_sha256", shown.as_str())]).await;
    assert_eq!(confirmed.status(), 303);
    assert_eq!(bank_account_status(&app, &case.company).await, "confirmed");
}

/// Files a policy consultation as the company; its id.
async fn filed(app: &TestApp, company: &str, subject: &str) -> i64 {
    let body = json!({ "category": "policy_consultation", "subject": subject, "content": "我司是否符合集成电路专项的申报条件？" });
    app.post("/api/v1/requests", company, &body).await.expect(201).json()["id"].as_i64().unwrap()
}

#[tokio::test]
async fn staff_work_the_requests_inbox_overdue_first_and_answer_in_the_thread() {
    let app = spawn_app().await;
    let (company, _) = app.signed_in_company("甲公司").await;
    let reviewer_id = app.create_user(Role::Reviewer, "reviewer@park.example").await;
    let on_time = filed(&app, &company, "按时的咨询").await;
    let late = filed(&app, &company, "逾期的咨询").await;
    filed(&app, &company, "最新的咨询").await;
    app.db
        .write(move |conn| {
            diesel::sql_query(format!(
                "UPDATE company_requests SET due_on = '2026-01-05', first_response_due_on = '2026-01-02' WHERE id = {late}"
            ))
            .execute(conn)?;
            Ok::<_, portal::db::Error>(())
        })
        .await
        .unwrap();
    let mut browser = Browser::new(&app);
    browser.sign_in("reviewer@park.example", PASSWORD).await;

    let inbox = browser.get("/console/requests").await.text().await.unwrap();
    let position = |subject: &str| inbox.find(subject).unwrap_or_else(|| panic!("{subject} not listed"));
    assert!(position("逾期的咨询") < position("最新的咨询"), "the overdue request comes first");
    assert!(position("最新的咨询") < position("按时的咨询"), "then newest first");
    assert!(inbox.contains("2026-01-02 已逾期"), "its first-response deadline is marked");
    let overdue_only = browser.get("/console/requests?overdue=true").await.text().await.unwrap();
    assert!(overdue_only.contains("逾期的咨询") && !overdue_only.contains("按时的咨询"));
    let refused = browser.get("/console/requests?category=gossip").await;
    assert_eq!(refused.status(), 422);

    let thread = format!("/console/requests/{on_time}");
    let token = browser.csrf(&thread).await;
    let origin = browser.origin();
    let page = browser.get(&thread).await.text().await.unwrap();
    assert!(page.contains("/assign\"") && !page.contains("/resolve\""), "only the owner resolves");

    let blank = browser.post(&format!("{thread}/messages"), &origin, &[("csrf", &token), ("body", "  ")]).await;
    assert_eq!(blank.status(), 422);
    let note = browser
        .post(
            &format!("{thread}/messages"),
            &origin,
            &[("csrf", &token), ("body", "先查一下企业资质"), ("internal", "true")],
        )
        .await;
    assert_eq!(note.status(), 303);
    let reply = browser
        .post(&format!("{thread}/messages"), &origin, &[("csrf", &token), ("body", "符合条件，请按指南准备材料。")])
        .await;
    assert_eq!(reply.status(), 303);
    let assigned = browser
        .post(&format!("{thread}/assign"), &origin, &[("csrf", &token), ("assignee_id", &reviewer_id.to_string())])
        .await;
    assert_eq!(location(&assigned), format!("{thread}?done=assign"));
    let page = browser.get(&thread).await.text().await.unwrap();
    assert!(page.contains("内部备注，企业不可见") && page.contains("符合条件"));
    assert!(page.contains("/resolve\""), "the owner now may resolve");
    let resolved = browser
        .post(&format!("{thread}/resolve"), &origin, &[("csrf", &token), ("resolution", "已答复，按指南申报。")])
        .await;
    assert_eq!(resolved.status(), 303);

    let seen: serde_json::Value = app.get(&format!("/api/v1/requests/{on_time}"), &company).await.expect(200).json();
    assert_eq!(seen["status"], "resolved");
    assert_eq!(seen["assignee"]["id"], reviewer_id);
    let bodies: Vec<&str> = seen["messages"].as_array().unwrap().iter().map(|m| m["body"].as_str().unwrap()).collect();
    assert_eq!(bodies, ["符合条件，请按指南准备材料。"], "the company never sees the internal note");
    let page = browser.get(&thread).await.text().await.unwrap();
    assert!(!page.contains("/messages\""), "nothing more to do once resolved");
}

#[tokio::test]
async fn a_reviewer_previews_a_pro_rata_allocation_and_confirms_the_awards_seen() {
    let app = spawn_app().await;
    let admin = app.token_for(Role::Admin).await;
    app.create_user(Role::Reviewer, "reviewer@park.example").await;
    let reviewer = app.login("reviewer@park.example", PASSWORD).await.expect(200).json()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut body = quick_program("ALLOC-2026", 5, 0);
    body["budget_fen"] = json!(300_000_000);
    body["max_award_fen"] = json!(300_000_000);
    let program = app.publish_program(&admin, &body).await;
    let (expert_id, _) = expert(&app, "expert@park.example").await;
    let mut ids = Vec::new();
    for name in ["甲公司", "乙公司"] {
        let case = submitted(&app, program, name).await;
        step(&app, &reviewer, case.id, json!({ "action": "accept", "expert_ids": [expert_id] })).await;
        ids.push(case.id);
    }
    let mut browser = Browser::new(&app);
    browser.sign_in("reviewer@park.example", PASSWORD).await;
    let origin = browser.origin();

    let path =
        format!("/console/allocation?program_id={program}&ids={}&ids={}&method=pro_rata&preview=1", ids[0], ids[1]);
    let preview = browser.get(&path).await;
    assert_eq!(preview.status(), 200);
    let page = preview.text().await.unwrap();
    assert_eq!(
        page.matches("<td class=\"num\">1,500,000.00 元</td>").count(),
        4,
        "each cut by half of its cap: {page}"
    );
    assert!(between(&page, "id=\"approved-total\">", "<").contains("3,000,000.00"));
    let token = between(&page, "name=\"csrf\" value=\"", "\"");
    let versions: Vec<String> =
        page.split("name=\"versions\" value=\"").skip(1).map(|v| v.split('"').next().unwrap().to_owned()).collect();
    assert_eq!(versions.len(), 2);
    let (first, second) = (ids[0].to_string(), ids[1].to_string());
    let form = |version: &str| -> Vec<(&str, String)> {
        vec![
            ("csrf", token.clone()),
            ("program_id", program.to_string()),
            ("method", "pro_rata".into()),
            ("ids", first.clone()),
            ("versions", versions[0].clone()),
            ("ids", second.clone()),
            ("versions", version.to_owned()),
        ]
    };
    let stale: Vec<(&str, String)> = form("999");
    let stale: Vec<(&str, &str)> = stale.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let refused = browser.post("/console/allocation", &origin, &stale).await;
    assert_eq!(refused.status(), 409);
    assert!(refused.text().await.unwrap().contains("请重新试算"));
    assert_eq!(application(&app, &reviewer, ids[0]).await["status"], "expert_review", "all or nothing");

    let seen: Vec<(&str, String)> = form(&versions[1]);
    let seen: Vec<(&str, &str)> = seen.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let confirmed = browser.post("/console/allocation", &origin, &seen).await;
    assert_eq!(location(&confirmed), format!("/console/allocation?program_id={program}&done=allocated"));
    for id in ids {
        let after = application(&app, &reviewer, id).await;
        assert_eq!(
            (after["status"].as_str(), after["approved_amount_fen"].as_i64()),
            (Some("public_notice"), Some(150_000_000))
        );
    }
}

/// What a browser would send for the programme form on `page`: every input's value, the checked boxes and
/// the selected options, in the order of the page.
fn program_form(page: &str) -> Vec<(String, String)> {
    let form = &page[page.find("class=\"program-form\"").expect("a programme form")..];
    let form = &form[..form.find("</form>").unwrap()];
    let unescape = |v: &str| {
        v.replace("&#34;", "\"").replace("&#39;", "'").replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    };
    let attr = |tag: &str, name: &str| {
        regex_lite::Regex::new(&format!(r#"\s{name}="([^"]*)""#)).unwrap().captures(tag).map(|c| unescape(&c[1]))
    };
    let element =
        regex_lite::Regex::new(r"(?s)<input[^>]*>|<textarea[^>]*>.*?</textarea>|<select[^>]*>.*?</select>").unwrap();
    let mut pairs = Vec::new();
    for found in element.find_iter(form) {
        let tag = found.as_str();
        let Some(name) = attr(tag, "name") else { continue };
        if tag.starts_with("<textarea") {
            let text = &tag[tag.find('>').unwrap() + 1..tag.rfind("</textarea>").unwrap()];
            pairs.push((name, unescape(text)));
        } else if tag.starts_with("<select") {
            let selected = regex_lite::Regex::new(r#"<option value="([^"]*)" selected>"#).unwrap();
            let value = selected.captures(tag).map(|c| c[1].to_owned());
            let first = regex_lite::Regex::new(r#"<option value="([^"]*)""#).unwrap();
            pairs.push((name, value.unwrap_or_else(|| first.captures(tag).unwrap()[1].to_owned())));
        } else if attr(tag, "type").as_deref() == Some("checkbox") {
            if tag.contains(" checked") {
                pairs.push((name, attr(tag, "value").unwrap_or_default()));
            }
        } else {
            pairs.push((name, attr(tag, "value").unwrap_or_default()));
        }
    }
    pairs
}

/// `pairs` with `name` set to `value`, added when missing.
fn with(mut pairs: Vec<(String, String)>, changes: &[(&str, &str)]) -> Vec<(String, String)> {
    for (name, value) in changes {
        match pairs.iter_mut().find(|(k, _)| k == name) {
            Some(pair) => (*value).clone_into(&mut pair.1),
            None => pairs.push(((*name).to_owned(), (*value).to_owned())),
        }
    }
    pairs
}

fn borrowed(pairs: &[(String, String)]) -> Vec<(&str, &str)> {
    pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

#[tokio::test]
async fn an_admin_creates_a_draft_programme_with_its_rules_materials_and_form_in_the_console() {
    let app = spawn_app().await;
    app.create_user(Role::Admin, "admin@park.example").await;
    let admin = app.token_for(Role::Admin).await;
    let mut browser = Browser::new(&app);
    browser.sign_in("admin@park.example", PASSWORD).await;
    let origin = browser.origin();

    let blank = program_form(&browser.get("/console/programs/new").await.text().await.unwrap());
    let one_more =
        browser.post("/console/programs/new", &origin, &borrowed(&with(blank, &[("edit", "add:material")]))).await;
    assert_eq!(one_more.status(), 200, "adding a row shows the form again");
    let form = program_form(&one_more.text().await.unwrap());
    assert!(form.iter().any(|(k, _)| k == "material.0.key"), "the form has a material row now");
    let drafts = app.get("/api/v1/programs?status=draft", &admin).await.expect(200).json();
    assert_eq!(drafts["total"], 0, "adding a row saves nothing");

    let form = with(
        form,
        &[
            ("code", "BIO-2027"),
            ("title", "2027年度生物医药研发补助"),
            ("category", "biomedicine"),
            ("summary", "支持园区生物医药企业开展临床前研究。"),
            ("guide.beneficiaries", "园区生物医药企业"),
            ("opens_at", "2027-03-01T09:00"),
            ("closes_at", "2027-04-30T17:30"),
            ("budget_yuan", "3,000,000"),
            ("max_award_yuan", "500000.50"),
            ("rule.0.type", "industry_in"),
            ("rule.0.value", "生物医药、集成电路"),
            ("material.0.key", "clinical_plan"),
            ("material.0.name", "临床前研究方案"),
            ("material.0.max_mb", "30"),
            ("edit", "add:field"),
        ],
    );
    let with_field = browser.post("/console/programs/new", &origin, &borrowed(&form)).await;
    let form = with(
        program_form(&with_field.text().await.unwrap()),
        &[
            ("field.0.key", "rd_budget"),
            ("field.0.label", "研发预算"),
            ("field.0.type", "money_fen"),
            ("field.0.min", "1000"),
            ("edit", "save"),
        ],
    );
    let created = browser.post("/console/programs/new", &origin, &borrowed(&form)).await;
    assert_eq!(created.status(), 303, "{}", created.text().await.unwrap());
    let id: i64 = between(location(&created), "/console/programs/", "?").parse().unwrap();

    let stored = app.get(&format!("/api/v1/programs/{id}"), &admin).await.expect(200).json();
    assert_eq!(stored["status"], "draft");
    assert_eq!(stored["code"], "BIO-2027");
    assert_eq!(stored["budget_fen"], 300_000_000, "yuan in the form, fen stored");
    assert_eq!(stored["max_award_fen"], 50_000_050);
    assert_eq!(stored["opens_at"], "2027-03-01T01:00:00Z", "times are the park's");
    assert_eq!(
        stored["eligibility_rules"],
        json!([{ "type": "industry_in", "values": ["biomedicine", "integrated_circuit"] }])
    );
    assert_eq!(
        stored["required_materials"],
        json!([{ "key": "clinical_plan", "name": "临床前研究方案", "required": true, "accepted_types": ["pdf"], "max_size_bytes": 31_457_280 }])
    );
    assert_eq!(
        stored["form_fields"],
        json!([{ "key": "rd_budget", "label": "研发预算", "type": "money_fen", "required": true, "min": 100_000 }])
    );
}

#[tokio::test]
async fn a_refused_programme_form_shows_each_message_beside_its_field_and_changes_nothing() {
    let app = spawn_app().await;
    app.create_user(Role::Admin, "admin@park.example").await;
    let admin = app.token_for(Role::Admin).await;
    let id =
        app.post("/api/v1/programs", &admin, &crate::helpers::program_body("IC-2027")).await.expect(201).json()["id"]
            .as_i64()
            .unwrap();
    let before = app.get(&format!("/api/v1/programs/{id}"), &admin).await.expect(200).json();
    let mut browser = Browser::new(&app);
    browser.sign_in("admin@park.example", PASSWORD).await;
    let path = format!("/console/programs/{id}");
    let form = program_form(&browser.get(&path).await.text().await.unwrap());
    assert!(form.contains(&("budget_yuan".to_owned(), "50000000.00".to_owned())), "amounts are shown in yuan");

    let bad = with(
        form.clone(),
        &[
            ("title", "新标题"),
            ("max_award_yuan", "60000000"),
            ("material.1.key", "Audit Report"),
            ("rule.1.value", ""),
        ],
    );
    let refused = browser.post(&path, &browser.origin(), &borrowed(&bad)).await;
    assert_eq!(refused.status(), 422);
    let page = refused.text().await.unwrap();
    for (id, message) in [
        ("max_award_yuan-error", "单个项目最高支持金额须大于 0 且不超过总预算。"),
        ("material-1-key-error", "键名须为小写字母开头"),
        ("rule-1-error", "须列出至少一个行业。"),
    ] {
        assert!(between(&page, &format!("id=\"{id}\">"), "</span>").contains(message), "{id}: {page}");
    }
    assert!(page.contains("value=\"新标题\""), "the form comes back as it was sent");
    let after = app.get(&format!("/api/v1/programs/{id}"), &admin).await.expect(200).json();
    assert_eq!(after, before, "a refused form changes nothing");

    let good = with(form, &[("title", "2027年度集成电路专项"), ("rule.2.value", "2"), ("public_notice_days", "7")]);
    let saved = browser.post(&path, &browser.origin(), &borrowed(&good)).await;
    assert_eq!(saved.status(), 303, "{}", saved.text().await.unwrap());
    let after = app.get(&format!("/api/v1/programs/{id}"), &admin).await.expect(200).json();
    assert_eq!(after["title"], "2027年度集成电路专项");
    assert_eq!(after["public_notice_days"], 7);
    assert_eq!(after["eligibility_rules"][2], json!({ "type": "min_years_established", "years": 2 }));
    assert_eq!(after["required_materials"], before["required_materials"], "untouched rows stay as they were");
    assert_eq!(after["opens_at"], before["opens_at"], "an untouched time keeps its seconds");
}

#[tokio::test]
async fn a_published_programmes_frozen_terms_are_refused_in_the_console_as_in_the_api() {
    let app = spawn_app().await;
    app.create_user(Role::Admin, "admin@park.example").await;
    let admin = app.token_for(Role::Admin).await;
    let id = app.publish_program(&admin, &crate::helpers::program_body("IC-2028")).await;
    let before = app.get(&format!("/api/v1/programs/{id}"), &admin).await.expect(200).json();
    let mut browser = Browser::new(&app);
    browser.sign_in("admin@park.example", PASSWORD).await;
    let path = format!("/console/programs/{id}");
    let form = program_form(&browser.get(&path).await.text().await.unwrap());

    let frozen = with(form.clone(), &[("title", "改名"), ("budget_yuan", "60000000"), ("field.0.required", "")]);
    let refused = browser.post(&path, &browser.origin(), &borrowed(&frozen)).await;
    assert_eq!(refused.status(), 409);
    assert!(refused.text().await.unwrap().contains("项目已发布，以下内容不能再修改：budget_fen"));
    let api = app.patch(&format!("/api/v1/programs/{id}"), &admin, &json!({ "budget_fen": 6_000_000_000_i64 })).await;
    assert_eq!(api.expect(409).json()["code"], "program_frozen", "the API refuses the same change");
    assert_eq!(app.get(&format!("/api/v1/programs/{id}"), &admin).await.expect(200).json(), before);

    let text_only = with(form, &[("title", "2028年度集成电路专项（延期）"), ("closes_at", "2099-12-31T17:00")]);
    let saved = browser.post(&path, &browser.origin(), &borrowed(&text_only)).await;
    assert_eq!(saved.status(), 303, "{}", saved.text().await.unwrap());
    let after = app.get(&format!("/api/v1/programs/{id}"), &admin).await.expect(200).json();
    assert_eq!(after["title"], "2028年度集成电路专项（延期）");
    assert_eq!(after["closes_at"], "2099-12-31T09:00:00Z");
    assert_eq!(after["budget_fen"], before["budget_fen"]);
}
