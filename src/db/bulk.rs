//! A large, realistic data set for benchmarks: companies, programmes, applications in every status and
//! payments over five years, inserted in batches on the backend's own connection.

use chrono::{Duration, NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::DbConnection;
use super::schema::{
    applications, companies, company_bank_accounts, company_financials, disbursements, outreach_runs, programs, users,
};
use crate::db::error::{Error, Result};
use crate::domain::credit_code::CreditCode;
use crate::domain::program::{Category, FieldType, FormField, Guide};
use crate::domain::role::Role;
use crate::domain::workflow::Status;

/// How much to make.
#[derive(Debug, Clone, Copy)]
pub struct Size {
    pub companies: usize,
    pub programs: usize,
    pub applications: usize,
    pub payments: usize,
}

pub const BENCH_PROGRAM_PREFIX: &str = "BENCH-";
pub const BENCH_PASSWORD: &str = "bench-password-violet-42";
/// Rows per INSERT: under SQLite's 32 766 and PostgreSQL's 65 535 bound parameters for every table here.
const BATCH: usize = 2_000;
const UNIT_FEN: i64 = 1_000_000;

/// The email of the benchmark's staff account with `role`, e.g. `finance@bench.example`.
pub fn staff_email(role: Role) -> String {
    format!("{}@bench.example", role.as_str())
}

/// The email of the `n`-th benchmark company's account.
pub fn company_email(n: usize) -> String {
    format!("company{n}@bench.example")
}

/// Inserts `rows` in batches on the inner connection; the enum cannot take a multi-row insert.
macro_rules! insert_batches {
    ($conn:expr, $table:expr, $rows:expr) => {{
        for chunk in $rows.chunks(BATCH) {
            match $conn {
                DbConnection::Sqlite(c) => diesel::insert_into($table).values(chunk).execute(c)?,
                DbConnection::Postgres(c) => diesel::insert_into($table).values(chunk).execute(c)?,
            };
        }
    }};
}

#[derive(Insertable)]
#[diesel(table_name = companies)]
struct NewCompany {
    credit_code: String,
    name: String,
    legal_representative: &'static str,
    industry: &'static str,
    park_zone: &'static str,
    established_on: NaiveDate,
    registered_capital_fen: i64,
    address: &'static str,
    contact_phone: &'static str,
    verification_status: &'static str,
    bank_account_status: &'static str,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

#[derive(Insertable)]
#[diesel(table_name = company_bank_accounts)]
struct NewAccount {
    company_id: i64,
    bank_name: &'static str,
    account_name: String,
    account_no: String,
    updated_at: NaiveDateTime,
    confirmed_at: Option<NaiveDateTime>,
    confirmed_by: Option<i64>,
}

#[derive(Insertable)]
#[diesel(table_name = users)]
struct NewUser<'a> {
    email: String,
    password_hash: Option<&'a str>,
    display_name: &'static str,
    role: &'static str,
    status: &'static str,
    email_verified_at: Option<NaiveDateTime>,
    company_id: Option<i64>,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

#[derive(Insertable)]
#[diesel(table_name = company_financials)]
struct NewFigures {
    company_id: i64,
    year: i32,
    revenue_fen: i64,
    rd_expense_fen: i64,
    employee_count: i32,
    rd_staff_count: i32,
    updated_at: NaiveDateTime,
}

#[derive(Insertable)]
#[diesel(table_name = applications)]
struct NewApplication {
    program_id: i64,
    company_id: i64,
    created_by: i64,
    reference_no: Option<String>,
    status: &'static str,
    requested_amount_fen: i64,
    approved_amount_fen: Option<i64>,
    disbursed_fen: i64,
    form_data: &'static str,
    submitted_at: Option<NaiveDateTime>,
    decided_at: Option<NaiveDateTime>,
    payment_due_on: Option<NaiveDate>,
    notice_ends_on: Option<NaiveDate>,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

#[derive(Insertable)]
#[diesel(table_name = disbursements)]
struct NewPayment {
    application_id: i64,
    kind: &'static str,
    amount_fen: i64,
    paid_on: NaiveDate,
    voucher_no: Option<String>,
    recorded_by: i64,
    created_at: NaiveDateTime,
}

/// The status of the `n`-th application: every status, weighted roughly as a busy year leaves them.
fn status_of(n: usize) -> Status {
    match n % 20 {
        0 | 1 => Status::Draft,
        2 | 3 => Status::Submitted,
        4 => Status::Returned,
        5 | 6 => Status::ExpertReview,
        7 => Status::PublicNotice,
        8..=12 => Status::Approved,
        13..=17 => Status::Disbursed,
        18 => Status::Rejected,
        _ => Status::Withdrawn,
    }
}

/// Seeds `size` in the caller's transaction; refuses if benchmark programmes exist already.
pub fn seed(
    conn: &mut DbConnection,
    size: Size,
    password_hash: &str,
    finance_user: i64,
    now: NaiveDateTime,
) -> Result<()> {
    {
        let existing: i64 =
            programs::table.filter(programs::code.like(format!("{BENCH_PROGRAM_PREFIX}%"))).count().get_result(conn)?;
        if existing > 0 {
            return Err(Error::inconsistent("the benchmark data exists already"));
        }
        let program_ids = seed_programs(conn, size.programs, now)?;
        counting(conn, false)?;
        let (company_ids, user_ids) = seed_companies(conn, size.companies, password_hash, finance_user, now)?;
        let paid = seed_applications(conn, size, &program_ids, &company_ids, &user_ids, now)?;
        seed_payments(conn, &paid, size.payments, finance_user, now)?;
        counting(conn, true)?;
        settle_programs(conn)
    }
}

fn seed_programs(conn: &mut DbConnection, count: usize, now: NaiveDateTime) -> Result<Vec<i64>> {
    let guide = Guide {
        beneficiaries: "园区企业".into(),
        conditions: "企业信息已通过审核".into(),
        award_standard: "按项目评审结果给予支持".into(),
        deadline_note: "逾期不予受理".into(),
        contact_phone: "0756-3612345".into(),
        consulting_address: "高新区科技产业局".into(),
        policy_basis: "《高新区产业扶持办法》".into(),
    };
    let fields = [FormField {
        key: "project_name".into(),
        label: "项目名称".into(),
        field_type: FieldType::Text,
        required: true,
        max_length: Some(100),
        min: None,
        max: None,
        options: None,
    }];
    let mut ids = Vec::with_capacity(count);
    for n in 1..=count {
        let category = Category::ALL[n % Category::ALL.len()];
        let row: super::programs::Program = diesel::insert_into(programs::table)
            .values((
                programs::code.eq(format!("{BENCH_PROGRAM_PREFIX}{n:02}")),
                programs::title.eq(format!("基准测试专项资金 {n:02}")),
                programs::category.eq(category.as_str()),
                programs::summary.eq("用于性能测试的政策项目"),
                programs::guide.eq(serde_json::to_string(&guide).expect("guides serialise")),
                programs::opens_at.eq(now - Duration::days(30)),
                programs::closes_at.eq(now + Duration::days(30)),
                programs::budget_fen.eq(1_000_000_000_000_000_i64),
                programs::max_award_fen.eq(10_000_000_000_i64),
                programs::public_notice_days.eq(5),
                programs::payment_due_days.eq(60),
                programs::correction_days.eq(10),
                programs::min_expert_reviews.eq(0),
                programs::max_total_upload_bytes.eq(209_715_200_i64),
                programs::eligibility_rules.eq(r#"[{"type":"company_verified"}]"#),
                programs::required_materials.eq("[]"),
                programs::form_fields.eq(serde_json::to_string(&fields).expect("fields serialise")),
                programs::status.eq("published"),
                programs::created_at.eq(now),
                programs::updated_at.eq(now),
            ))
            .get_result(conn)?;
        // Announced as if at publication, so a service started on this data is in its steady state rather
        // than emailing every company about every programme first.
        diesel::insert_into(outreach_runs::table)
            .values((
                outreach_runs::program_id.eq(row.id),
                outreach_runs::claim_token.eq("seed-bench"),
                outreach_runs::started_at.eq(now),
                outreach_runs::finished_at.eq(Some(now)),
                outreach_runs::runs.eq(1),
            ))
            .execute(conn)?;
        ids.push(row.id);
    }
    Ok(ids)
}

fn seed_companies(
    conn: &mut DbConnection,
    count: usize,
    password_hash: &str,
    finance_user: i64,
    now: NaiveDateTime,
) -> Result<(Vec<i64>, Vec<i64>)> {
    const INDUSTRIES: [&str; 8] = [
        "integrated_circuit",
        "biomedicine",
        "intelligent_manufacturing",
        "software",
        "new_energy",
        "new_materials",
        "marine",
        "other",
    ];
    const ZONES: [&str; 3] = ["唐家湾主园区", "金鼎", "海岸"];
    let rows: Vec<NewCompany> = (0..count)
        .map(|n| NewCompany {
            credit_code: CreditCode::complete(&format!("91440400{n:09}"))
                .expect("digits are valid")
                .as_str()
                .to_owned(),
            name: format!("基准测试企业{n:05}有限公司"),
            legal_representative: "张伟",
            industry: INDUSTRIES[n % INDUSTRIES.len()],
            park_zone: ZONES[n % ZONES.len()],
            established_on: NaiveDate::from_ymd_opt(2015, 6, 1).expect("a date"),
            registered_capital_fen: 1_000_000_000,
            address: "珠海市高新区",
            contact_phone: "0756-3612345",
            verification_status: "verified",
            bank_account_status: "confirmed",
            created_at: now,
            updated_at: now,
        })
        .collect();
    insert_batches!(conn, companies::table, rows);
    let company_ids: Vec<i64> = companies::table
        .filter(companies::name.like("基准测试企业%"))
        .order(companies::id.asc())
        .select(companies::id)
        .load(conn)?;
    let figures: Vec<NewFigures> = company_ids
        .iter()
        .map(|&company_id| NewFigures {
            company_id,
            year: chrono::Datelike::year(&now) - 1,
            revenue_fen: 4_000_000_000,
            rd_expense_fen: 240_000_000,
            employee_count: 80,
            rd_staff_count: 20,
            updated_at: now,
        })
        .collect();
    insert_batches!(conn, company_financials::table, figures);
    // Every company is paid, so finance has confirmed its account.
    let bank_accounts: Vec<NewAccount> = company_ids
        .iter()
        .enumerate()
        .map(|(n, &company_id)| NewAccount {
            company_id,
            bank_name: "中国银行珠海分行",
            account_name: format!("基准测试企业{n:05}有限公司"),
            account_no: format!("6222{n:012}"),
            updated_at: now,
            confirmed_at: Some(now),
            confirmed_by: Some(finance_user),
        })
        .collect();
    insert_batches!(conn, company_bank_accounts::table, bank_accounts);
    let accounts: Vec<NewUser> = company_ids
        .iter()
        .enumerate()
        .map(|(n, &company_id)| NewUser {
            email: company_email(n),
            password_hash: Some(password_hash),
            display_name: "王芳",
            role: "applicant",
            status: "active",
            email_verified_at: Some(now),
            company_id: Some(company_id),
            created_at: now,
            updated_at: now,
        })
        .collect();
    insert_batches!(conn, users::table, accounts);
    let user_ids: Vec<i64> = users::table
        .filter(users::email.like("company%@bench.example"))
        .order(users::company_id.asc())
        .select(users::id)
        .load(conn)?;
    Ok((company_ids, user_ids))
}

/// Answers the paid applications: `(id, approved, fully paid, approved on)`.
fn seed_applications(
    conn: &mut DbConnection,
    size: Size,
    program_ids: &[i64],
    company_ids: &[i64],
    user_ids: &[i64],
    now: NaiveDateTime,
) -> Result<Vec<(i64, i64, bool, NaiveDate)>> {
    let per_company = size.applications.div_ceil(company_ids.len().max(1)).min(program_ids.len());
    let mut sequences = vec![0_i64; program_ids.len()];
    let mut rows = Vec::with_capacity(size.applications);
    let five_years = 5 * 365 * 24 * 3600_i64;
    for n in 0..size.applications {
        let company = n / per_company.max(1);
        let Some((&company_id, &user_id)) = company_ids.get(company).zip(user_ids.get(company)) else { break };
        let program_index = (company + n % per_company) % program_ids.len();
        let status = status_of(n);
        let submitted = status != Status::Draft;
        let reference_no = submitted.then(|| {
            sequences[program_index] += 1;
            format!("{BENCH_PROGRAM_PREFIX}{:02}-{:06}", program_index + 1, sequences[program_index])
        });
        let at = now - Duration::seconds(i64::try_from(n).unwrap_or(0).wrapping_mul(7919) % five_years + 86_400 * 40);
        let decided = matches!(status, Status::Approved | Status::Disbursed | Status::Rejected);
        let paid = matches!(status, Status::Approved | Status::Disbursed);
        let approved_amount = match status {
            Status::Disbursed => Some(20 * UNIT_FEN),
            Status::Approved | Status::PublicNotice => Some(25 * UNIT_FEN),
            _ => None,
        };
        rows.push(NewApplication {
            program_id: program_ids[program_index],
            company_id,
            created_by: user_id,
            reference_no,
            status: status.as_str(),
            requested_amount_fen: 30 * UNIT_FEN,
            approved_amount_fen: approved_amount,
            disbursed_fen: 0,
            form_data: r#"{"project_name":"基准测试项目"}"#,
            submitted_at: submitted.then_some(at),
            decided_at: decided.then(|| at + Duration::days(20)),
            payment_due_on: paid.then(|| (at + Duration::days(80)).date()),
            notice_ends_on: (status == Status::PublicNotice).then(|| (now + Duration::days(3)).date()),
            created_at: at,
            updated_at: at,
        });
    }
    insert_batches!(conn, applications::table, rows);
    for (index, &program_id) in program_ids.iter().enumerate() {
        diesel::update(programs::table.find(program_id))
            .set(programs::last_reference_seq.eq(sequences[index]))
            .execute(conn)?;
    }
    let paid: Vec<(i64, Option<i64>, String, Option<NaiveDateTime>)> = applications::table
        .filter(applications::status.eq_any(["approved", "disbursed"]))
        .filter(applications::reference_no.like(format!("{BENCH_PROGRAM_PREFIX}%")))
        .order(applications::id.asc())
        .select((applications::id, applications::approved_amount_fen, applications::status, applications::decided_at))
        .load(conn)?;
    Ok(paid
        .into_iter()
        .map(|(id, amount, status, decided)| {
            (id, amount.unwrap_or(0), status == "disbursed", decided.unwrap_or(now).date())
        })
        .collect())
}

/// Spreads `count` payments over the paid applications, a unit each; a fully paid one gets exactly its
/// approved amount, the others less.
fn seed_payments(
    conn: &mut DbConnection,
    paid: &[(i64, i64, bool, NaiveDate)],
    count: usize,
    recorded_by: i64,
    now: NaiveDateTime,
) -> Result<()> {
    if paid.is_empty() {
        return Ok(());
    }
    let per_application = (count / paid.len()).max(1);
    let mut batch = Vec::with_capacity(BATCH);
    let mut voucher = 0_u64;
    for &(application_id, approved, _, approved_on) in paid {
        let units = usize::try_from(approved / UNIT_FEN).unwrap_or(0).min(per_application);
        let days_since = (now.date() - approved_on).num_days().max(1);
        for k in 0..units {
            voucher += 1;
            let offset = i64::try_from(k).unwrap_or(0) * days_since / i64::try_from(units).unwrap_or(1).max(1);
            batch.push(NewPayment {
                application_id,
                kind: "payment",
                amount_fen: UNIT_FEN,
                paid_on: approved_on + Duration::days(offset),
                voucher_no: Some(format!("BENCH-V{voucher:08}")),
                recorded_by,
                created_at: now,
            });
            if batch.len() == BATCH {
                insert_batches!(conn, disbursements::table, batch);
                batch.clear();
            }
        }
    }
    insert_batches!(conn, disbursements::table, batch);
    Ok(())
}

/// On PostgreSQL, stops (`false`) or restarts (`true`) the triggers that keep the counters (applications,
/// their dated queues, submission hours and expert reviews, ledger entries, companies, accounts) one row
/// at a time, and recounts them all on restart: millions of rows are counted faster at once. SQLite's
/// triggers are cheap enough to keep.
fn counting(conn: &mut DbConnection, on: bool) -> Result<()> {
    if let DbConnection::Postgres(_) = conn {
        let switch = if on { "ENABLE" } else { "DISABLE" };
        for (table, trigger) in [
            ("applications", "application_counts_insert_delete"),
            ("applications", "application_counts_update"),
            ("applications", "application_day_counts_insert_delete"),
            ("applications", "application_day_counts_update"),
            ("applications", "submitted_hour_counts_insert"),
            ("applications", "submitted_hour_counts_delete"),
            ("applications", "submitted_hour_counts_update"),
            ("applications", "expert_review_counts_insert"),
            ("applications", "expert_review_counts_delete"),
            ("applications", "expert_review_counts_update"),
            ("disbursements", "disbursement_counts_follow"),
            ("companies", "company_counts_insert_delete"),
            ("companies", "company_counts_update"),
            ("users", "user_counts_insert_delete"),
            ("users", "user_counts_update"),
        ] {
            diesel::sql_query(format!("ALTER TABLE {table} {switch} TRIGGER {trigger}")).execute(conn)?;
        }
        if on {
            for recount in [
                "DELETE FROM application_counts",
                "INSERT INTO application_counts (program_id, status, submitted, n) \
                 SELECT program_id, status, submitted_at IS NOT NULL, COUNT(*) FROM applications GROUP BY 1, 2, 3",
                "DELETE FROM application_day_counts",
                "INSERT INTO application_day_counts (status, day, n) \
                 SELECT status, application_day(status, notice_ends_on, correction_due_on, payment_due_on), COUNT(*) \
                 FROM applications \
                 WHERE application_day(status, notice_ends_on, correction_due_on, payment_due_on) IS NOT NULL \
                 GROUP BY 1, 2",
                "DELETE FROM submitted_hour_counts",
                "INSERT INTO submitted_hour_counts (hour, n) SELECT date_trunc('hour', submitted_at), COUNT(*) \
                 FROM applications WHERE submitted_at IS NOT NULL GROUP BY 1",
                "DELETE FROM expert_review_counts",
                "INSERT INTO expert_review_counts (program_id, scores, n) \
                 SELECT program_id, expert_scores, COUNT(*) FROM applications WHERE status = 'expert_review' GROUP BY 1, 2",
                "DELETE FROM disbursement_counts",
                "INSERT INTO disbursement_counts (program_id, n) SELECT a.program_id, COUNT(*) \
                 FROM disbursements d JOIN applications a ON a.id = d.application_id GROUP BY 1",
                "DELETE FROM company_counts",
                "INSERT INTO company_counts (industry, park_zone, verification_status, n) \
                 SELECT industry, park_zone, verification_status, COUNT(*) FROM companies GROUP BY 1, 2, 3",
                "DELETE FROM user_counts",
                "INSERT INTO user_counts (role, status, n) SELECT role, status, COUNT(*) FROM users GROUP BY 1, 2",
            ] {
                diesel::sql_query(recount).execute(conn)?;
            }
        }
    }
    Ok(())
}

/// Brings every counter in line with the rows: paid totals per application, reserved and disbursed
/// money per programme.
fn settle_programs(conn: &mut DbConnection) -> Result<()> {
    diesel::sql_query(
        "UPDATE applications SET disbursed_fen = COALESCE((SELECT SUM(d.amount_fen) FROM disbursements d \
         WHERE d.application_id = applications.id AND d.kind = 'payment'), 0) \
         WHERE status IN ('approved', 'disbursed')",
    )
    .execute(conn)?;
    diesel::sql_query(
        "UPDATE programs SET \
           disbursed_fen = COALESCE((SELECT SUM(a.disbursed_fen) FROM applications a WHERE a.program_id = programs.id), 0), \
           reserved_fen = COALESCE((SELECT SUM(a.approved_amount_fen - a.disbursed_fen) FROM applications a \
               WHERE a.program_id = programs.id AND a.status IN ('approved', 'public_notice')), 0) \
         WHERE code LIKE 'BENCH-%'",
    )
    .execute(conn)?;
    Ok(())
}
