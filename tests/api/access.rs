//! Who may use what, for every operation of the OpenAPI document: without a token every secured operation
//! answers 401, and each role gets 403 for what it may not use (404 for another company's application).
//! The outcomes are a snapshot, so a change in who may do what shows up in review.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use portal::domain::role::Role;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Auth, PDF, TestApp, expert, program_body, quick_program, spawn_app, step, upload};

/// The objects the walk fills path parameters with; none of them belongs to the applicant who probes.
struct Seed {
    /// The applicant's own company's token, then one token per staff role.
    tokens: Vec<(Role, String)>,
    /// A published programme with a running notice period.
    program: i64,
    /// A published programme the walk may close.
    closable: i64,
    company: i64,
    /// Another company's application in public notice, with an attachment and an objection; the expert is
    /// assigned to it and declared no conflict.
    in_notice: i64,
    attachment: i64,
    objection: i64,
    /// Another company's approved application with a payment; the expert is assigned as above.
    awarded: i64,
    awarded_fen: i64,
    payment: i64,
    /// Another company's request.
    request: i64,
    /// A staff account nobody signs in with.
    spare_user: i64,
    last_year: i32,
}

/// Who may use an operation (API.md) and what a probe sends.
struct Rule {
    allowed: &'static [Role],
    query: &'static str,
    body: Body,
    /// Said in the table where the probe is not the plain request.
    note: &'static str,
}

enum Body {
    None,
    Json(Value),
    /// A PDF as material `business_license`.
    Upload,
}

const ANYONE: &[Role] = &Role::ALL;
const APPLICANT: &[Role] = &[Role::Applicant];
const REVIEWER: &[Role] = &[Role::Reviewer];
const FINANCE: &[Role] = &[Role::Finance];
const ADMIN: &[Role] = &[Role::Admin];
const REVIEWER_ADMIN: &[Role] = &[Role::Reviewer, Role::Admin];
const FINANCE_ADMIN: &[Role] = &[Role::Finance, Role::Admin];
const STAFF_BUT_EXPERTS: &[Role] = &[Role::Reviewer, Role::Finance, Role::Admin];
const ALL_BUT_EXPERTS: &[Role] = &[Role::Applicant, Role::Reviewer, Role::Finance, Role::Admin];
const NOBODY_HERE: &[Role] = &[];

fn rule(allowed: &'static [Role]) -> Rule {
    Rule { allowed, query: "", body: Body::None, note: "" }
}

fn with_body(allowed: &'static [Role], body: Value) -> Rule {
    Rule { body: Body::Json(body), ..rule(allowed) }
}

/// The rule of every secured operation. A secured operation missing here fails the walk.
#[expect(clippy::too_many_lines, reason = "one line per operation reads best as one table")]
fn rules(seed: &Seed) -> Vec<(&'static str, Rule)> {
    let today = chrono::Utc::now().date_naive().to_string();
    let figures = json!({ "revenue_fen": 4_000_000_000_i64, "rd_expense_fen": 240_000_000, "employee_count": 80, "rd_staff_count": 20 });
    vec![
        ("GET /api/v1/applications", rule(ANYONE)),
        (
            "POST /api/v1/applications",
            with_body(
                APPLICANT,
                json!({ "program_id": seed.program, "requested_amount_fen": 1_000, "form_data": { "project_name": "项目", "rd_budget_fen": 1 } }),
            ),
        ),
        ("DELETE /api/v1/applications/{id}", Rule { note: "only the owning company may", ..rule(NOBODY_HERE) }),
        ("GET /api/v1/applications/{id}", rule(ANYONE)),
        (
            "PATCH /api/v1/applications/{id}",
            Rule {
                note: "only the owning company may",
                ..with_body(NOBODY_HERE, json!({ "requested_amount_fen": 1_000 }))
            },
        ),
        (
            "POST /api/v1/applications/{id}/actions",
            Rule {
                note: "action withdraw, the owning company's",
                ..with_body(NOBODY_HERE, json!({ "action": "withdraw", "version": 0 }))
            },
        ),
        ("GET /api/v1/applications/{id}/attachments", rule(ANYONE)),
        (
            "POST /api/v1/applications/{id}/attachments",
            Rule { body: Body::Upload, note: "multipart PDF; only the owning company may", ..rule(NOBODY_HERE) },
        ),
        (
            "DELETE /api/v1/applications/{id}/attachments/{attachment_id}",
            Rule { note: "only the owning company may", ..rule(NOBODY_HERE) },
        ),
        ("GET /api/v1/applications/{id}/attachments/{attachment_id}", rule(ANYONE)),
        ("GET /api/v1/applications/{id}/disbursements", rule(ANYONE)),
        (
            "POST /api/v1/applications/{id}/disbursements",
            Rule {
                note: "over the award, so finance gets a refusal and nothing is paid",
                ..with_body(
                    FINANCE,
                    json!({ "amount_fen": seed.awarded_fen + 1, "paid_on": today, "voucher_no": "V-ACCESS-1" }),
                )
            },
        ),
        ("GET /api/v1/applications/{id}/events", rule(ANYONE)),
        ("GET /api/v1/applications/{id}/invoices", rule(ANYONE)),
        (
            "PUT /api/v1/applications/{id}/invoices",
            Rule { note: "only the owning company may", ..with_body(NOBODY_HERE, json!({ "invoices": [] })) },
        ),
        ("GET /api/v1/applications/{id}/objections", rule(REVIEWER_ADMIN)),
        (
            "POST /api/v1/applications/{id}/objections/{objection_id}/resolve",
            with_body(REVIEWER, json!({ "upheld": false, "comment": "经核实，异议不成立" })),
        ),
        ("GET /api/v1/applications/{id}/payment-plan", rule(ANYONE)),
        (
            "PUT /api/v1/applications/{id}/payment-plan",
            with_body(FINANCE, json!({ "instalments": [{ "due_on": "2031-01-15", "amount_fen": seed.awarded_fen }] })),
        ),
        ("GET /api/v1/applications/{id}/reviews", rule(REVIEWER_ADMIN)),
        ("GET /api/v1/audit-events", rule(ADMIN)),
        ("GET /api/v1/audit-events/verify", rule(ADMIN)),
        (
            "POST /api/v1/auth/logout",
            Rule {
                note: "probed last: it ends the caller's session",
                ..with_body(ANYONE, json!({ "refresh_token": "not-a-refresh-token" }))
            },
        ),
        ("GET /api/v1/calendar/{year}", rule(ANYONE)),
        ("PUT /api/v1/calendar/{year}", with_body(ADMIN, json!({ "holidays": ["2031-10-01"], "workdays": [] }))),
        ("GET /api/v1/companies", rule(STAFF_BUT_EXPERTS)),
        ("GET /api/v1/companies/me", rule(APPLICANT)),
        ("PATCH /api/v1/companies/me", with_body(APPLICANT, json!({ "contact_phone": "0756-3612345" }))),
        (
            "PUT /api/v1/companies/me/bank-account",
            with_body(
                APPLICANT,
                json!({ "bank_name": "中国银行珠海分行", "account_name": "甲公司", "account_no": "6222021234567890" }),
            ),
        ),
        ("PUT /api/v1/companies/me/certifications", with_body(APPLICANT, json!({ "tech_sme": true }))),
        ("GET /api/v1/companies/me/financials", rule(APPLICANT)),
        ("PUT /api/v1/companies/me/financials/{year}", with_body(APPLICANT, figures)),
        ("GET /api/v1/companies/{id}", rule(STAFF_BUT_EXPERTS)),
        ("POST /api/v1/companies/{id}/bank-account/confirmation", with_body(FINANCE, json!({}))),
        ("POST /api/v1/companies/{id}/verification", with_body(REVIEWER_ADMIN, json!({ "decision": "verified" }))),
        ("GET /api/v1/disbursements", rule(FINANCE_ADMIN)),
        ("POST /api/v1/disbursements/{id}/reversal", with_body(FINANCE, json!({ "reason": "银行退票" }))),
        ("GET /api/v1/me", rule(ANYONE)),
        ("POST /api/v1/me/mfa/totp", Rule { note: "starts a set-up nobody confirms", ..rule(ANYONE) }),
        (
            "POST /api/v1/me/mfa/totp/confirm",
            Rule {
                note: "a wrong code, so no second factor is turned on",
                ..with_body(ANYONE, json!({ "code": "000000" }))
            },
        ),
        (
            "DELETE /api/v1/me/mfa/totp",
            Rule {
                note: "a wrong password",
                ..with_body(ANYONE, json!({ "password": "not the password", "code": "000000" }))
            },
        ),
        (
            "POST /api/v1/me/password",
            Rule {
                note: "a wrong current password, so nobody's password changes",
                ..with_body(
                    ANYONE,
                    json!({ "current_password": "not the current password", "new_password": "a-fresh-passphrase-for-access-97" }),
                )
            },
        ),
        ("POST /api/v1/programs", with_body(ADMIN, program_body("ACC-NEW"))),
        ("GET /api/v1/programs/matches", rule(APPLICANT)),
        ("PATCH /api/v1/programs/{id}", with_body(ADMIN, json!({ "summary": "支持园区企业的研发投入。" }))),
        (
            "POST /api/v1/programs/{id}/allocation",
            Rule {
                note: "a dry run over the application in notice, so the reviewer gets a refusal",
                ..with_body(
                    REVIEWER,
                    json!({ "application_ids": [seed.in_notice], "method": "pro_rata", "dry_run": true }),
                )
            },
        ),
        ("POST /api/v1/programs/{id}/close", Rule { note: "a programme of its own", ..rule(ADMIN) }),
        ("GET /api/v1/programs/{id}/eligibility", rule(APPLICANT)),
        ("GET /api/v1/programs/{id}/outreach", rule(REVIEWER_ADMIN)),
        ("POST /api/v1/programs/{id}/publish", Rule { note: "the closed programme", ..rule(ADMIN) }),
        ("GET /api/v1/reports/disbursements", Rule { query: "?group_by=program", ..rule(FINANCE_ADMIN) }),
        ("GET /api/v1/queues", rule(STAFF_BUT_EXPERTS)),
        ("GET /api/v1/reports/requests", rule(STAFF_BUT_EXPERTS)),
        ("GET /api/v1/reports/summary", rule(STAFF_BUT_EXPERTS)),
        (
            "GET /api/v1/reports/timeliness",
            Rule { query: "?approved_from=2026-01-01&approved_to=2026-12-31", ..rule(FINANCE_ADMIN) },
        ),
        ("GET /api/v1/requests", rule(ALL_BUT_EXPERTS)),
        (
            "POST /api/v1/requests",
            with_body(
                APPLICANT,
                json!({ "category": "policy_consultation", "subject": "咨询", "content": "申报条件" }),
            ),
        ),
        ("GET /api/v1/requests/{id}", rule(ALL_BUT_EXPERTS)),
        ("POST /api/v1/requests/{id}/messages", with_body(ALL_BUT_EXPERTS, json!({ "body": "已收到。" }))),
        ("POST /api/v1/requests/{id}/assign", with_body(STAFF_BUT_EXPERTS, json!({ "assignee_id": seed.spare_user }))),
        (
            "POST /api/v1/requests/{id}/wait",
            Rule {
                note: "its owner or an admin; the owner is the spare account",
                ..with_body(ADMIN, json!({ "body": "请补充材料。" }))
            },
        ),
        (
            "POST /api/v1/requests/{id}/resolve",
            Rule {
                note: "its owner or an admin; the owner is the spare account",
                ..with_body(ADMIN, json!({ "resolution": "已答复。" }))
            },
        ),
        ("POST /api/v1/requests/{id}/rating", with_body(APPLICANT, json!({ "rating": 5 }))),
        ("GET /api/v1/users", rule(ADMIN)),
        (
            "POST /api/v1/users",
            with_body(ADMIN, json!({ "email": "invited@park.example", "display_name": "新同事", "role": "reviewer" })),
        ),
        ("GET /api/v1/users/{id}", rule(ADMIN)),
        ("PATCH /api/v1/users/{id}", with_body(ADMIN, json!({ "display_name": "改名" }))),
        ("POST /api/v1/users/{id}/mfa/reset", with_body(ADMIN, json!({}))),
    ]
}

/// `template` with its parameters filled from `seed`.
fn concrete(template: &str, seed: &Seed) -> String {
    let id = if template.starts_with("/api/v1/applications/{id}/disbursements")
        || template.starts_with("/api/v1/applications/{id}/payment-plan")
    {
        seed.awarded
    } else if template.starts_with("/api/v1/applications/") {
        seed.in_notice
    } else if template.ends_with("/close") || template.ends_with("/publish") {
        seed.closable
    } else if template.starts_with("/api/v1/programs/") {
        seed.program
    } else if template.starts_with("/api/v1/companies/") {
        seed.company
    } else if template.starts_with("/api/v1/requests/") {
        seed.request
    } else if template.starts_with("/api/v1/disbursements/") {
        seed.payment
    } else if template.starts_with("/api/v1/users/") {
        seed.spare_user
    } else {
        0
    };
    let year = if template.starts_with("/api/v1/calendar/") { 2031 } else { seed.last_year };
    template
        .replace("{id}", &id.to_string())
        .replace("{attachment_id}", &seed.attachment.to_string())
        .replace("{objection_id}", &seed.objection.to_string())
        .replace("{year}", &year.to_string())
}

/// Another company's application in `program` with an attachment, submitted, accepted with the expert, who
/// declares no conflict (before that an expert may not see the materials): `(application id, attachment id)`.
async fn accepted(app: &TestApp, company: &str, reviewer: &str, program: i64, expert: &(i64, String)) -> (i64, i64) {
    let body = json!({ "program_id": program, "requested_amount_fen": 100_000_000, "form_data": { "project_name": "项目", "rd_budget_fen": 1 } });
    let id = app.post("/api/v1/applications", company, &body).await.expect(201).json()["id"].as_i64().unwrap();
    let attachment = upload(app, company, id, "business_license", "营业执照.pdf", PDF, "application/pdf").await;
    let attachment = attachment.expect(201).json()["id"].as_i64().unwrap();
    step(app, company, id, json!({ "action": "submit" })).await;
    step(app, reviewer, id, json!({ "action": "accept", "expert_ids": [expert.0] })).await;
    step(app, &expert.1, id, json!({ "action": "declare", "conflict_of_interest": false })).await;
    (id, attachment)
}

async fn seed(app: &TestApp) -> Seed {
    let admin = app.token_for(Role::Admin).await;
    let reviewer = app.token_for(Role::Reviewer).await;
    let finance = app.token_for(Role::Finance).await;
    let expert = expert(app, "expert@park.example").await;
    let (applicant, _) = app.eligible_company("甲公司").await;
    let (other, company) = app.eligible_company("乙公司").await;

    let optional_license =
        json!([{ "key": "business_license", "name": "营业执照", "required": false, "accepted_types": ["pdf"] }]);
    let mut noticed = quick_program("ACC-NOTICE", 5, 0);
    noticed["required_materials"] = optional_license.clone();
    let program = app.publish_program(&admin, &noticed).await;
    let mut immediate = quick_program("ACC-AWARD", 0, 0);
    immediate["required_materials"] = optional_license;
    let award_program = app.publish_program(&admin, &immediate).await;
    let closable = app.publish_program(&admin, &quick_program("ACC-CLOSE", 0, 0)).await;

    let (in_notice, attachment) = accepted(app, &other, &reviewer, program, &expert).await;
    step(app, &reviewer, in_notice, json!({ "action": "propose", "approved_amount_fen": 50_000_000 })).await;
    let objection = json!({ "name": "李明", "contact": "13800000000", "content": "该企业研发人员数量与申报不符。" });
    let objection = app.post(&format!("/api/v1/public-notices/{in_notice}/objections"), Auth::None, &objection).await;
    let objection = objection.expect(201).json()["id"].as_i64().unwrap();

    let awarded_fen = 80_000_000;
    let (awarded, _) = accepted(app, &other, &reviewer, award_program, &expert).await;
    step(app, &reviewer, awarded, json!({ "action": "propose", "approved_amount_fen": awarded_fen })).await;
    step(app, &reviewer, awarded, json!({ "action": "approve" })).await;
    let today = chrono::Utc::now().date_naive().to_string();
    let payment = json!({ "amount_fen": 10_000_000, "paid_on": today, "voucher_no": "V-ACCESS-0" });
    let payment = app
        .post(&format!("/api/v1/applications/{awarded}/disbursements"), &finance, &payment)
        .header("idempotency-key", "access-seed")
        .await
        .expect(201)
        .json()["id"]
        .as_i64()
        .unwrap();

    let request = json!({ "category": "payment_inquiry", "subject": "拨付进度", "content": "资金何时到账？" });
    let request = app.post("/api/v1/requests", &other, &request).await.expect(201).json()["id"].as_i64().unwrap();
    let spare_user = app.create_user(Role::Reviewer, "spare@park.example").await;
    let last_year = chrono::Datelike::year(&chrono::Utc::now()) - 1;
    let tokens = vec![
        (Role::Applicant, applicant),
        (Role::Reviewer, reviewer),
        (Role::Expert, expert.1),
        (Role::Finance, finance),
        (Role::Admin, admin),
    ];
    Seed {
        tokens,
        program,
        closable,
        company,
        in_notice,
        attachment,
        objection,
        awarded,
        awarded_fen,
        payment,
        request,
        spare_user,
        last_year,
    }
}

/// `METHOD path` of every operation in the document, and whether it has a security requirement.
fn operations(document: &Value) -> Vec<(String, bool)> {
    let mut found = Vec::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let secured = operation["security"].as_array().is_some_and(|s| !s.is_empty());
            found.push((format!("{} {path}", method.to_uppercase()), secured));
        }
    }
    found
}

async fn probe(app: &TestApp, operation: &str, rule: &Rule, seed: &Seed, auth: Auth<'_>, n: usize) -> u16 {
    let (method, template) = operation.split_once(' ').unwrap();
    let path = format!("{}{}", concrete(template, seed), rule.query);
    let call =
        app.request(method.parse::<Method>().unwrap(), &path, auth).header("idempotency-key", &format!("access-{n}"));
    let answer = match &rule.body {
        Body::None => call.await,
        Body::Json(body) => call.json(body).await,
        Body::Upload => {
            let form = reqwest::multipart::Form::new().text("material_key", "business_license").part(
                "file",
                reqwest::multipart::Part::bytes(PDF).file_name("x.pdf").mime_str("application/pdf").unwrap(),
            );
            call.multipart(form).await
        }
    };
    answer.status().as_u16()
}

#[tokio::test]
async fn every_secured_operation_refuses_strangers_and_the_roles_it_is_not_for() {
    let app = spawn_app().await;
    let seed = seed(&app).await;
    let document = app.get("/api/openapi.json", Auth::None).await.expect(200).json();
    let operations = operations(&document);
    let mut rules = rules(&seed);

    let secured: BTreeSet<&str> = operations.iter().filter(|(_, s)| *s).map(|(o, _)| o.as_str()).collect();
    let covered: BTreeSet<&str> = rules.iter().map(|(o, _)| *o).collect();
    assert_eq!(secured, covered, "every secured operation, and only those, has a rule here");
    // Signing out ends the session the rest of the walk uses.
    rules.sort_by_key(|(operation, _)| *operation == "POST /api/v1/auth/logout");

    let mut table = format!("{:<66} | {:<9}", "operation", "anonymous");
    for (role, _) in &seed.tokens {
        let _ = write!(table, " | {:<9}", role.as_str());
    }
    table.push_str(" | note\n");
    let mut wrong = Vec::new();
    let mut n = 0;
    for (operation, rule) in &rules {
        n += 1;
        let anonymous = probe(&app, operation, rule, &seed, Auth::None, n).await;
        if anonymous != 401 {
            wrong.push(format!("{operation} without a token: {anonymous}"));
        }
        let _ = write!(table, "{operation:<66} | {anonymous:<9}");
        for (role, token) in &seed.tokens {
            n += 1;
            let status = probe(&app, operation, rule, &seed, Auth::Bearer(token), n).await;
            let allowed = rule.allowed.contains(role);
            // The applicant probes another company's applications and requests: those are not found.
            let another_companys = *role == Role::Applicant
                && (operation.contains("/applications/{id}") || operation.contains("/requests/{id}"));
            let (fine, mark) = if another_companys {
                (status == 404 || (!allowed && status == 403), '*')
            } else if allowed {
                (!matches!(status, 401 | 403 | 404) && status < 500, '+')
            } else {
                (status == 403, '-')
            };
            if !fine {
                wrong.push(format!("{operation} as {} ({mark}): {status}", role.as_str()));
            }
            let cell = format!("{mark}{status}");
            let _ = write!(table, " | {cell:<9}");
        }
        let _ = writeln!(table, " | {}", rule.note);
    }
    let public: Vec<&str> = operations.iter().filter(|(_, s)| !*s).map(|(o, _)| o.as_str()).collect();
    let _ = write!(
        table,
        "\n+ the role may use the operation, - it may not, * another company's application or request (404 due).\nPublic, not probed: {}\n",
        public.join(", ")
    );

    insta::assert_snapshot!("role_by_operation", table);
    assert!(wrong.is_empty(), "{} unexpected answers:\n{}", wrong.len(), wrong.join("\n"));
}
