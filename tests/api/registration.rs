//! A company registers itself, proves its email address and signs in.

use diesel::prelude::*;
use portal::db::schema::{companies, outbox, users};
use serde_json::{Value, json};

use crate::helpers::{
    Auth, COMPANY_PASSWORD, TestApp, link_token, problem, registration, spawn_app, unique_credit_code,
};

fn counts(app: &TestApp) -> (i64, i64, i64) {
    let mut conn = app.db.connection().unwrap();
    (
        companies::table.count().get_result(&mut *conn).unwrap(),
        users::table.count().get_result(&mut *conn).unwrap(),
        outbox::table.count().get_result(&mut *conn).unwrap(),
    )
}

#[tokio::test]
async fn a_company_registers_verifies_its_email_and_signs_in() {
    let app = spawn_app().await;
    let code = unique_credit_code();
    let body = registration(&code.to_lowercase(), "珠海芯源微电子有限公司", "Finance@XinYuan.example");
    let response = app.post("/api/v1/auth/register", Auth::None, &body).await;
    assert_eq!(response.status(), 201);
    let created: Value = response.json();
    assert_eq!(created["company"]["credit_code"], code.as_str(), "stored normalised");
    assert_eq!(created["company"]["verification_status"], "pending");
    assert_eq!(created["user"]["role"], "applicant");
    assert_eq!(created["user"]["email"], "finance@xinyuan.example");
    assert_eq!(created["user"]["email_verified"], false);
    assert_eq!(created["user"]["company_id"], created["company"]["id"]);

    problem(app.login("finance@xinyuan.example", COMPANY_PASSWORD).await, 403, "email_not_verified").await;

    let mail = app.mail_to("finance@xinyuan.example", 1).await;
    assert!(mail[0].subject.starts_with("请验证您的邮箱"), "{}", mail[0].subject);
    assert!(mail[0].body.find("24 小时").unwrap() < mail[0].body.find("24 hours").unwrap(), "Chinese first");
    let token = link_token(&mail[0].body);
    assert!(mail[0].body.contains(&format!("{}/verify-email?token={token}", app.settings.portal.frontend_base_url)));

    let verified = app.post("/api/v1/auth/verify-email", Auth::None, &json!({ "token": token })).await;
    assert_eq!(verified.status(), 204);
    let again = app.post("/api/v1/auth/verify-email", Auth::None, &json!({ "token": token })).await;
    let again = problem(again, 422, "validation_failed").await;
    assert_eq!(again["errors"][0]["field"], "token");

    let signed_in = app.login("finance@xinyuan.example", COMPANY_PASSWORD).await;
    assert_eq!(signed_in.status(), 200);
    let token = signed_in.json()["access_token"].as_str().unwrap().to_owned();
    let me: Value = app.get("/api/v1/me", &token).await.json();
    assert_eq!(me["company"]["name"], "珠海芯源微电子有限公司");
}

struct Bad {
    name: &'static str,
    change: fn(&mut Value),
    field: &'static str,
    code: &'static str,
}

#[expect(clippy::too_many_lines, reason = "a table of cases, one per line")]
fn bad_registrations() -> Vec<Bad> {
    vec![
        Bad {
            name: "code too short",
            change: |b| b["company"]["credit_code"] = json!("9111000080210043"),
            field: "company.credit_code",
            code: "invalid_length",
        },
        Bad {
            name: "letter I in the code",
            change: |b| b["company"]["credit_code"] = json!("91110000802I00433B"),
            field: "company.credit_code",
            code: "invalid_character",
        },
        Bad {
            name: "check character wrong",
            change: |b| b["company"]["credit_code"] = json!("911100001000000000"),
            field: "company.credit_code",
            code: "invalid_checksum",
        },
        Bad {
            name: "blank name",
            change: |b| b["company"]["name"] = json!("   "),
            field: "company.name",
            code: "blank",
        },
        Bad {
            name: "name too long",
            change: |b| b["company"]["name"] = json!("长".repeat(201)),
            field: "company.name",
            code: "length",
        },
        Bad {
            name: "blank legal representative",
            change: |b| b["company"]["legal_representative"] = json!(""),
            field: "company.legal_representative",
            code: "blank",
        },
        Bad {
            name: "unknown industry",
            change: |b| b["company"]["industry"] = json!("banking"),
            field: "company.industry",
            code: "invalid_choice",
        },
        Bad {
            name: "established in the future",
            change: |b| b["company"]["established_on"] = json!("2999-01-01"),
            field: "company.established_on",
            code: "in_future",
        },
        Bad {
            name: "not a date",
            change: |b| b["company"]["established_on"] = json!("2019-13-40"),
            field: "company.established_on",
            code: "invalid_type",
        },
        Bad {
            name: "negative capital",
            change: |b| b["company"]["registered_capital_fen"] = json!(-1),
            field: "company.registered_capital_fen",
            code: "range",
        },
        Bad {
            name: "capital as text",
            change: |b| b["company"]["registered_capital_fen"] = json!("lots"),
            field: "company.registered_capital_fen",
            code: "invalid_type",
        },
        Bad {
            name: "bad phone",
            change: |b| b["company"]["contact_phone"] = json!("call us"),
            field: "company.contact_phone",
            code: "invalid_phone",
        },
        Bad {
            name: "bad email",
            change: |b| b["account"]["email"] = json!("finance-at-company"),
            field: "account.email",
            code: "invalid_email",
        },
        Bad {
            name: "short password",
            change: |b| b["account"]["password"] = json!("short1!"),
            field: "account.password",
            code: "too_short",
        },
        Bad {
            name: "weak password",
            change: |b| b["account"]["password"] = json!("password1234"),
            field: "account.password",
            code: "weak_password",
        },
        Bad {
            name: "oversized password",
            change: |b| b["account"]["password"] = json!("x".repeat(129)),
            field: "account.password",
            code: "too_long",
        },
        Bad {
            name: "blank display name",
            change: |b| b["account"]["display_name"] = json!(" "),
            field: "account.display_name",
            code: "blank",
        },
        Bad {
            name: "a NUL character in the name",
            change: |b| b["company"]["name"] = json!("珠海\u{0}示例科技有限公司"),
            field: "company.name",
            code: "invalid_character",
        },
        Bad {
            name: "unknown field",
            change: |b| b["company"]["status"] = json!("verified"),
            field: "company.status",
            code: "unknown_field",
        },
        Bad {
            name: "missing account",
            change: |b| {
                b.as_object_mut().unwrap().remove("account");
            },
            field: "account",
            code: "required",
        },
    ]
}

#[tokio::test]
async fn every_bad_registration_is_refused_on_its_field_and_leaves_nothing_behind() {
    let app = spawn_app().await;
    for case in bad_registrations() {
        let mut body = registration(&unique_credit_code(), "珠海示例科技有限公司", "someone@company.example");
        (case.change)(&mut body);
        let response = app.post("/api/v1/auth/register", Auth::None, &body).await;
        let problem = problem(response, 422, "validation_failed").await;
        let errors = problem["errors"].as_array().unwrap();
        assert!(
            errors.iter().any(|e| e["field"] == case.field && e["code"] == case.code),
            "{}: expected {} {} in {problem}",
            case.name,
            case.field,
            case.code
        );
        assert!(errors.iter().all(|e| !e["message"].as_str().unwrap().is_empty()), "{}", case.name);
    }
    assert_eq!(counts(&app), (0, 0, 0), "no company, user or email was written");
}

#[tokio::test]
async fn a_wrong_industry_is_one_more_problem_in_the_callers_language() {
    let app = spawn_app().await;
    let mut body = registration(&unique_credit_code(), "珠海示例科技有限公司", "someone@company.example");
    body["company"]["industry"] = json!("banking");
    body["company"]["contact_phone"] = json!("call us");
    body["account"]["email"] = json!("finance-at-company");
    for (lang, choice) in
        [("en", "integrated_circuit (integrated circuits)"), ("zh-CN", "integrated_circuit（集成电路）")]
    {
        let response = app.post("/api/v1/auth/register", Auth::None, &body).header("accept-language", lang).await;
        let problem = response.problem(422, "validation_failed");
        let found: Vec<(&str, &str)> = problem["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| (e["field"].as_str().unwrap(), e["code"].as_str().unwrap()))
            .collect();
        assert_eq!(
            found,
            [
                ("account.email", "invalid_email"),
                ("company.contact_phone", "invalid_phone"),
                ("company.industry", "invalid_choice"),
            ],
            "{problem}"
        );
        let message = problem["errors"][2]["message"].as_str().unwrap();
        assert!(message.contains(choice), "{lang}: {message}");
        assert!(!message.contains('`'), "no serde wording: {message}");
    }
    assert_eq!(counts(&app), (0, 0, 0));
}

#[tokio::test]
async fn a_credit_code_or_email_already_registered_is_a_conflict_that_changes_nothing() {
    let app = spawn_app().await;
    let code = unique_credit_code();
    let first =
        app.post("/api/v1/auth/register", Auth::None, &registration(&code, "甲公司", "a@company.example")).await;
    assert_eq!(first.status(), 201);
    let before = counts(&app);

    let same_code =
        app.post("/api/v1/auth/register", Auth::None, &registration(&code, "乙公司", "b@company.example")).await;
    problem(same_code, 409, "credit_code_taken").await;
    let same_email = app
        .post("/api/v1/auth/register", Auth::None, &registration(&unique_credit_code(), "丙公司", "A@company.example"))
        .await;
    problem(same_email, 409, "email_taken").await;
    assert_eq!(counts(&app), before);
}

#[tokio::test]
async fn the_credit_code_message_tells_the_company_what_to_fix() {
    let app = spawn_app().await;
    let body = registration("911100001000000000", "甲公司", "a@company.example");
    let response = app.post("/api/v1/auth/register", Auth::None, &body).header("accept-language", "en").await;
    let problem = problem(response, 422, "validation_failed").await;
    let message = problem["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("should be “R”"), "{message}");
}

#[tokio::test]
async fn resending_verification_answers_the_same_for_unknown_addresses_and_sends_only_to_real_ones() {
    let app = spawn_app().await;
    let (_, email) = app.register_company("甲公司").await;
    for address in [email.as_str(), "nobody@company.example"] {
        let response = app.post("/api/v1/auth/resend-verification", Auth::None, &json!({ "email": address })).await;
        assert_eq!(response.status(), 202);
    }
    let mail = app.mail_to(&email, 2).await;
    assert_ne!(link_token(&mail[0].body), link_token(&mail[1].body));
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    assert!(app.mailbox.as_ref().unwrap().to("nobody@company.example").is_empty());
}

#[tokio::test]
async fn one_address_can_register_only_so_many_companies_an_hour() {
    let app = spawn_app().await;
    for n in 0..10 {
        app.register_company(&format!("第{n}号公司")).await;
    }
    let body = registration(&unique_credit_code(), "第十一号公司", "eleven@company.example");
    let refused = app.post("/api/v1/auth/register", Auth::None, &body).await;
    assert!(refused.headers().contains_key("retry-after"));
    problem(refused, 429, "rate_limited").await;
}

#[tokio::test]
async fn refused_registrations_count_against_the_limit_so_taken_emails_cannot_be_probed_freely() {
    let app = spawn_app().await;
    let (_, taken) = app.register_company("甲公司").await;
    for n in 1..10 {
        let body = registration(&unique_credit_code(), &format!("第{n}号公司"), &taken);
        problem(app.post("/api/v1/auth/register", Auth::None, &body).await, 409, "email_taken").await;
    }
    let body = registration(&unique_credit_code(), "第十号公司", &taken);
    problem(app.post("/api/v1/auth/register", Auth::None, &body).await, 429, "rate_limited").await;
}
