//! Programmes as data: validated as a whole, frozen once published, readable by anyone, and explaining
//! to each company whether it qualifies.

use portal::domain::role::Role;
use serde_json::{Value, json};

use crate::helpers::{Auth, TestApp, problem, program_body, spawn_app};

struct Bad {
    name: &'static str,
    change: fn(&mut Value),
    field: &'static str,
    code: &'static str,
}

#[expect(clippy::too_many_lines, reason = "a table of cases, one per line")]
fn bad_programs() -> Vec<Bad> {
    vec![
        Bad {
            name: "window closes before it opens",
            change: |b| b["closes_at"] = b["opens_at"].clone(),
            field: "closes_at",
            code: "before_opening",
        },
        Bad { name: "no budget", change: |b| b["budget_fen"] = json!(0), field: "budget_fen", code: "out_of_range" },
        Bad {
            name: "a budget past any sum",
            change: |b| b["budget_fen"] = json!(i64::MAX),
            field: "budget_fen",
            code: "out_of_range",
        },
        Bad {
            name: "award above budget",
            change: |b| b["max_award_fen"] = json!(5_000_000_001_i64),
            field: "max_award_fen",
            code: "exceeds_budget",
        },
        Bad {
            name: "duplicate material key",
            change: |b| b["required_materials"][1]["key"] = json!("business_license"),
            field: "required_materials[1].key",
            code: "duplicate_key",
        },
        Bad {
            name: "duplicate field key",
            change: |b| b["form_fields"][2]["key"] = json!("project_name"),
            field: "form_fields[2].key",
            code: "duplicate_key",
        },
        Bad {
            name: "badly formed key",
            change: |b| b["form_fields"][0]["key"] = json!("Project Name"),
            field: "form_fields[0].key",
            code: "invalid_key",
        },
        Bad {
            name: "unknown rule type",
            change: |b| b["eligibility_rules"][0] = json!({ "type": "min_profit", "fen": 1 }),
            field: "eligibility_rules[0].type",
            code: "invalid_choice",
        },
        Bad {
            name: "rule without its parameter",
            change: |b| b["eligibility_rules"][2] = json!({ "type": "min_years_established" }),
            field: "eligibility_rules[2].years",
            code: "required",
        },
        Bad {
            name: "rule with a nonsense percentage",
            change: |b| b["eligibility_rules"][0] = json!({ "type": "min_rd_expense_ratio", "percent": 150 }),
            field: "eligibility_rules[0]",
            code: "out_of_range",
        },
        Bad {
            name: "industry list empty",
            change: |b| b["eligibility_rules"][1]["values"] = json!([]),
            field: "eligibility_rules[1]",
            code: "empty",
        },
        Bad {
            name: "unknown field type",
            change: |b| b["form_fields"][0]["type"] = json!("signature"),
            field: "form_fields[0].type",
            code: "invalid_choice",
        },
        Bad {
            name: "select without options",
            change: |b| {
                b["form_fields"][2].as_object_mut().unwrap().remove("options");
            },
            field: "form_fields[2].options",
            code: "options_mismatch",
        },
        Bad {
            name: "unknown file type",
            change: |b| b["required_materials"][0]["accepted_types"] = json!(["exe"]),
            field: "required_materials[0].accepted_types[0]",
            code: "invalid_choice",
        },
        Bad {
            name: "no accepted types",
            change: |b| b["required_materials"][0]["accepted_types"] = json!([]),
            field: "required_materials[0].accepted_types",
            code: "empty",
        },
        Bad {
            name: "notice too long",
            change: |b| b["public_notice_days"] = json!(31),
            field: "public_notice_days",
            code: "out_of_range",
        },
        Bad {
            name: "badly formed code",
            change: |b| b["code"] = json!("集成电路 2026"),
            field: "code",
            code: "invalid_code",
        },
        Bad { name: "blank title", change: |b| b["title"] = json!(" "), field: "title", code: "length" },
        Bad {
            name: "unknown field",
            change: |b| b["status"] = json!("published"),
            field: "status",
            code: "unknown_field",
        },
    ]
}

#[tokio::test]
async fn a_programme_definition_is_checked_as_a_whole_with_a_message_per_problem() {
    let app = spawn_app().await;
    let admin = app.token_for(Role::Admin).await;
    for case in bad_programs() {
        let mut body = program_body("IC-2026");
        (case.change)(&mut body);
        let response = app.post("/api/v1/programs", &admin, &body).await;
        let body = problem(response, 422, "validation_failed").await;
        let errors = body["errors"].as_array().unwrap();
        assert!(
            errors.iter().any(|e| e["field"] == case.field && e["code"] == case.code),
            "{}: expected {} {} in {body}",
            case.name,
            case.field,
            case.code
        );
    }
    let mut many = program_body("IC-2026");
    many["budget_fen"] = json!(0);
    many["public_notice_days"] = json!(-1);
    many["form_fields"][2]["key"] = json!("project_name");
    let all = problem(app.post("/api/v1/programs", &admin, &many).await, 422, "validation_failed").await;
    let problems: Vec<(&str, &str)> = all["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["field"].as_str().unwrap(), e["code"].as_str().unwrap()))
        .collect();
    assert_eq!(
        problems,
        [
            ("budget_fen", "out_of_range"),
            ("max_award_fen", "exceeds_budget"),
            ("public_notice_days", "out_of_range"),
            ("form_fields[2].key", "duplicate_key"),
        ],
        "every problem at once"
    );
    let listed: Value = app.get("/api/v1/programs?status=draft", &admin).await.json();
    assert_eq!(listed["total"], 0, "nothing was saved");
}

#[tokio::test]
async fn once_published_only_the_text_and_closing_time_may_change() {
    let app = spawn_app().await;
    let admin = app.token_for(Role::Admin).await;
    let created: Value = app.post("/api/v1/programs", &admin, &program_body("IC-2026")).await.json();
    let id = created["id"].as_i64().unwrap();
    assert_eq!(created["status"], "draft");
    assert_eq!(created["available_fen"], 5_000_000_000_i64);
    assert_eq!(created["correction_days"], 10);

    let path = format!("/api/v1/programs/{id}");
    let send_patch = |body: Value| {
        let (app, admin, path) = (&app, &admin, &path);
        async move { app.patch(path, admin, &body).await }
    };
    assert_eq!(send_patch(json!({ "min_expert_reviews": 3 })).await.status(), 200, "a draft may change anything");
    app.post(&format!("{path}/publish"), &admin, &json!({})).await;

    for frozen in [
        json!({ "eligibility_rules": [] }),
        json!({ "required_materials": [] }),
        json!({ "form_fields": [] }),
        json!({ "budget_fen": 1 }),
    ] {
        let refused = problem(send_patch(frozen.clone()).await, 409, "program_frozen").await;
        assert!(refused["detail"].as_str().unwrap().contains(frozen.as_object().unwrap().keys().next().unwrap()));
    }
    let later = (chrono::Utc::now() + chrono::Duration::days(60)).to_rfc3339();
    let edited = send_patch(json!({ "title": "2026年度集成电路专项（第二批）", "closes_at": later })).await;
    assert_eq!(edited.status(), 200);
    let edited: Value = edited.json();
    assert_eq!(edited["title"], "2026年度集成电路专项（第二批）");
    assert_eq!(edited["min_expert_reviews"], 3);
    let too_early = send_patch(json!({ "closes_at": "2000-01-01T00:00:00Z" })).await;
    problem(too_early, 422, "validation_failed").await;

    problem(app.post(&format!("{path}/publish"), &admin, &json!({})).await, 409, "conflict").await;
    assert_eq!(app.post(&format!("{path}/close"), &admin, &json!({})).await.status(), 200);
}

#[tokio::test]
async fn anyone_reads_published_programmes_and_nobody_but_admins_sees_drafts() {
    let app = spawn_app().await;
    let admin = app.token_for(Role::Admin).await;
    let published = app.publish_program(&admin, &program_body("IC-2026")).await;
    let draft: Value = app.post("/api/v1/programs", &admin, &program_body("BIO-2026")).await.json();

    let anonymous = app.get(&format!("/api/v1/programs/{published}"), Auth::None).await;
    let anonymous: Value = anonymous.json();
    assert_eq!(anonymous["guide"]["consulting_address"], "高新区科技产业局 302 室");
    assert_eq!(anonymous["is_open"], true);
    let hidden = app.get(&format!("/api/v1/programs/{}", draft["id"]), Auth::None).await;
    problem(hidden, 404, "not_found").await;
    let reviewer = app.token_for(Role::Reviewer).await;
    problem(app.get(&format!("/api/v1/programs/{}", draft["id"]), &reviewer).await, 404, "not_found").await;
    assert_eq!(app.get(&format!("/api/v1/programs/{}", draft["id"]), &admin).await.status(), 200);

    let list: Value = app.get("/api/v1/programs", Auth::None).await.json();
    assert_eq!(list["total"], 1);
    let open: Value = app.get("/api/v1/programs?open=true&category=integrated_circuit", Auth::None).await.json();
    assert_eq!(open["total"], 1);
    let not_open: Value = app.get("/api/v1/programs?open=false", Auth::None).await.json();
    assert_eq!(not_open["total"], 0);
    let drafts = app.get("/api/v1/programs?status=draft", Auth::None).await;
    problem(drafts, 401, "unauthenticated").await;
    problem(app.get("/api/v1/programs?status=draft", &reviewer).await, 403, "forbidden").await;
}

async fn with_figures(app: &TestApp, token: &str, year: i32) {
    let figures = json!({ "revenue_fen": 4_000_000_000_i64, "rd_expense_fen": 240_000_000, "employee_count": 80, "rd_staff_count": 20 });
    let saved = app.put(&format!("/api/v1/companies/me/financials/{year}"), token, &figures).await;
    assert_eq!(saved.status(), 200);
}

#[tokio::test]
async fn a_company_sees_which_programmes_it_qualifies_for_and_why_not() {
    let app = spawn_app().await;
    let admin = app.token_for(Role::Admin).await;
    let mut ic = program_body("IC-2026");
    ic["eligibility_rules"] = json!([
        { "type": "company_verified" },
        { "type": "industry_in", "values": ["integrated_circuit"] },
        { "type": "min_employees", "count": 50 },
        { "type": "rd_expense_ratio_by_revenue_band" }
    ]);
    let ic = app.publish_program(&admin, &ic).await;
    let mut bio = program_body("BIO-2026");
    bio["eligibility_rules"] = json!([{ "type": "industry_in", "values": ["biomedicine"] }]);
    app.publish_program(&admin, &bio).await;

    let (token, company_id) = app.signed_in_company("珠海芯源微电子有限公司").await;
    let before: Value =
        app.get(&format!("/api/v1/programs/{ic}/eligibility"), &token).header("accept-language", "en").await.json();
    assert_eq!(before["eligible"], false);
    let by_rule = |body: &Value, rule: &str| {
        body["checks"].as_array().unwrap().iter().find(|c| c["rule"] == rule).unwrap().clone()
    };
    assert_eq!(by_rule(&before, "company_verified")["passed"], false);
    assert_eq!(by_rule(&before, "industry_in")["passed"], true);
    let last_year = chrono::Utc::now().naive_utc().date().format("%Y").to_string().parse::<i32>().unwrap() - 1;
    assert_eq!(by_rule(&before, "min_employees")["actual"], format!("no {last_year} financials on file"));

    app.post(&format!("/api/v1/companies/{company_id}/verification"), &admin, &json!({ "decision": "verified" })).await;
    with_figures(&app, &token, last_year).await;
    let after: Value = app.get(&format!("/api/v1/programs/{ic}/eligibility"), &token).await.json();
    assert_eq!(after["eligible"], true, "{after}");
    assert!(by_rule(&after, "min_employees")["message"].as_str().unwrap().starts_with("符合要求"));

    let matches: Value = app.get("/api/v1/programs/matches", &token).await.json();
    let codes: Vec<&str> = matches.as_array().unwrap().iter().map(|m| m["program"]["code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["IC-2026", "BIO-2026"], "eligible first");
    assert_eq!(matches[1]["eligible"], false);

    let staff = app.token_for(Role::Reviewer).await;
    problem(app.get(&format!("/api/v1/programs/{ic}/eligibility"), &staff).await, 403, "forbidden").await;
}

#[tokio::test]
async fn a_damaged_stored_programme_is_an_internal_error_never_a_default() {
    use diesel::prelude::*;
    use portal::db::schema::programs;

    let app = spawn_app().await;
    let admin = app.token_for(Role::Admin).await;
    let id = app.publish_program(&admin, &program_body("IC-2026")).await;
    let path = format!("/api/v1/programs/{id}");
    let mut conn = app.db.connection().unwrap();
    let guide: String = programs::table.find(id).select(programs::guide).first(&mut *conn).unwrap();
    // The enums are guarded by CHECK constraints; the JSON parts are only text to the database.
    diesel::update(programs::table.find(id)).set(programs::guide.eq("{")).execute(&mut *conn).unwrap();

    problem(app.get(&path, &admin).await, 500, "internal").await;
    problem(app.get("/api/v1/programs", Auth::None).await, 500, "internal").await;

    diesel::update(programs::table.find(id)).set(programs::guide.eq(guide)).execute(&mut *conn).unwrap();
    assert_eq!(app.get(&path, &admin).await.status(), 200);
}
