//! Policy outreach (政策精准推送): when a programme is published, and every day while it runs, each verified
//! company that qualifies and has not turned the announcements off is emailed once, with why it qualifies;
//! staff follow up from the ledger of who qualifies and who applied (辅导跟进台账).
//!
//! A run never holds a write transaction while it evaluates: it reads the candidates, decides in Rust with
//! the eligibility rules, then records and queues the announcements in short transactions. The database
//! keeps one row per programme and company, so a company is told once however many runs and instances.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration as StdDuration, Instant};

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime};

use crate::app::programs::Program;
use crate::app::requests::Clock;
use crate::app::{Result, SignedIn};
use crate::config::{OutreachSettings, PortalSettings};
use crate::db::outreach::{self as store, CompanyFacts, Selection};
use crate::db::{self, Db, outbox};
use crate::domain::company::{Industry, VerificationStatus};
use crate::domain::eligibility::{Facts, Figures};
use crate::domain::error::Error as Refusal;
use crate::domain::outreach::{Funnel, Standing, reasons};
use crate::domain::program::ProgramStatus;
use crate::domain::role::Role;
use crate::domain::validation::Window;
use crate::domain::workflow::Status;
use crate::email::templates::{self, Announcement};
use crate::i18n::Text;

/// How long a run may stay unfinished before another instance takes it over, its holder presumed gone.
const STALE_RUN: Duration = Duration::minutes(15);
/// Companies recorded per write transaction: short enough that other writers hardly wait.
const CHUNK: usize = 500;
/// Attempts at one chunk when a concurrent run recorded some of the same companies (PostgreSQL).
const CHUNK_ATTEMPTS: usize = 3;

/// The rules read the last full year's figures.
fn figures_year(today: NaiveDate) -> i32 {
    today.year() - 1
}

fn facts(row: &CompanyFacts, today: NaiveDate) -> Facts<'_> {
    Facts {
        today,
        verified: row.verification_status == VerificationStatus::Verified.as_str(),
        industry: Industry::parse(&row.industry).unwrap_or(Industry::Other),
        park_zone: &row.park_zone,
        established_on: row.established_on,
        registered_capital_fen: row.registered_capital_fen,
        high_tech_valid_until: row.high_tech_valid_until,
        tech_sme: row.tech_sme,
        figures: row.figures.map(|(revenue_fen, rd_expense_fen, employee_count, rd_staff_count)| Figures {
            revenue_fen,
            rd_expense_fen,
            employee_count,
            rd_staff_count,
        }),
        figures_year: figures_year(today),
    }
}

/// What one run did, and how long each part took.
#[derive(Debug, Clone, Copy, Default)]
pub struct RunReport {
    pub program_id: i64,
    /// Verified companies that want announcements and were neither told nor applied yet.
    pub candidates: usize,
    /// Those of them that pass every rule.
    pub qualified: usize,
    /// Those told by this run (the others have no active user, or a concurrent run told them).
    pub notified: usize,
    pub read: StdDuration,
    pub decide: StdDuration,
    pub write: StdDuration,
}

/// Runs the outreach of every programme whose run is due: one just published, or one whose last run started
/// `run_interval_secs` ago. Every instance calls this; each run is claimed, so one instance does it.
pub async fn run_due(
    db: &Db,
    settings: OutreachSettings,
    portal: &PortalSettings,
    clock: Clock,
) -> Result<Vec<RunReport>> {
    let interval = i64::try_from(settings.run_interval_secs).ok().and_then(Duration::try_seconds);
    let due_before = interval.and_then(|i| clock.now.checked_sub_signed(i)).unwrap_or(NaiveDateTime::MIN);
    let stale_before = clock.now - STALE_RUN;
    let due = db.read(move |conn| store::due_programs(conn, clock.now, due_before, stale_before)).await?;
    let mut reports = Vec::new();
    for program_id in due {
        let token = uuid::Uuid::new_v4().to_string();
        let claim_token = token.clone();
        let claimed = db
            .write(move |conn| store::claim(conn, program_id, &claim_token, clock.now, due_before, stale_before))
            .await;
        match claimed {
            Ok(true) => {}
            // Another instance inserted the first claim at the same moment (PostgreSQL).
            Ok(false) | Err(db::Error::UniqueViolation { .. }) => continue,
            Err(error) => return Err(error.into()),
        }
        // A run that fails stays unfinished, and is taken up again once it is stale.
        let report = run(db, program_id, portal, clock).await?;
        let notified = i32::try_from(report.notified).unwrap_or(i32::MAX);
        db.write(move |conn| store::finish(conn, program_id, &token, notified, crate::domain::time::now())).await?;
        reports.push(report);
    }
    Ok(reports)
}

/// Tells every company still to be told of `program_id` that qualifies for it on `clock.today`, while the
/// programme is published.
pub async fn run(db: &Db, program_id: i64, portal: &PortalSettings, clock: Clock) -> Result<RunReport> {
    let started = Instant::now();
    let selection = Selection { year: figures_year(clock.today), listening: true, ..Selection::default() };
    let (program, candidates) = db
        .read(move |conn| {
            let program = Program::load(conn, program_id)?;
            // Left out in Rust rather than by `NOT IN` in SQL: PostgreSQL cannot hash a subquery of 10^5
            // told companies in its default work memory and would compare every company with each of them.
            let told: HashSet<i64> = store::notified(conn, program_id)?.into_iter().map(|(id, _)| id).collect();
            let applied: HashSet<i64> =
                store::live_applications(conn, program_id)?.into_iter().map(|(id, ..)| id).collect();
            let mut candidates = store::verified_companies(conn, &selection)?;
            candidates.retain(|c| !told.contains(&c.id) && !applied.contains(&c.id));
            Ok::<_, crate::app::Error>((program, candidates))
        })
        .await?;
    let read = started.elapsed();
    if program.status() != ProgramStatus::Published {
        return Ok(RunReport { program_id, read, ..RunReport::default() });
    }

    let started = Instant::now();
    let qualified: Vec<(i64, String, Vec<Text>)> = candidates
        .iter()
        .filter_map(|row| reasons(&program.rules, &facts(row, clock.today)).map(|why| (row.id, row.name.clone(), why)))
        .collect();
    let decide = started.elapsed();

    let started = Instant::now();
    let announcement = Arc::new(announcement(&program, portal));
    let mut report =
        RunReport { program_id, candidates: candidates.len(), qualified: qualified.len(), ..RunReport::default() };
    drop(candidates);
    let mut remaining = qualified.into_iter();
    loop {
        let chunk: Vec<_> = remaining.by_ref().take(CHUNK).collect();
        if chunk.is_empty() {
            break;
        }
        report.notified += tell(db, program_id, Arc::new(chunk), announcement.clone()).await?;
    }
    report.write = started.elapsed();
    report.read = read;
    report.decide = decide;
    Ok(report)
}

/// Records and queues the announcement to one chunk of qualifying companies in one short transaction;
/// answers how many were told. A company told meanwhile by a concurrent run is left out.
async fn tell(
    db: &Db,
    program_id: i64,
    chunk: Arc<Vec<(i64, String, Vec<Text>)>>,
    announcement: Arc<Announcement>,
) -> Result<usize> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        let (chunk, announcement) = (chunk.clone(), announcement.clone());
        let told = db
            .write(move |conn| {
                let now = crate::domain::time::now();
                let ids: Vec<i64> = chunk.iter().map(|(id, _, _)| *id).collect();
                let recipients = store::recipients(conn, &ids)?;
                // A company with several users is recorded once.
                let mut reachable: Vec<i64> = recipients.iter().map(|(company, _)| *company).collect();
                reachable.sort_unstable();
                reachable.dedup();
                let fresh = store::record_told(conn, program_id, &reachable, now)?;
                let by_id: HashMap<i64, (&str, &[Text])> =
                    chunk.iter().map(|(id, name, why)| (*id, (name.as_str(), why.as_slice()))).collect();
                let fresh_set: HashSet<i64> = fresh.iter().copied().collect();
                let emails: Vec<_> = recipients
                    .iter()
                    .filter(|(company, _)| fresh_set.contains(company))
                    .filter_map(|(company, to)| {
                        by_id.get(company).map(|(name, why)| templates::program_outreach(to, name, &announcement, why))
                    })
                    .collect();
                outbox::enqueue_all(conn, &emails, now)?;
                Ok::<_, db::Error>(fresh.len())
            })
            .await;
        match told {
            Err(db::Error::UniqueViolation { .. }) if attempt < CHUNK_ATTEMPTS => {}
            other => return Ok(other?),
        }
    }
}

/// The parts of the announcement every company of a programme reads alike.
fn announcement(program: &Program, portal: &PortalSettings) -> Announcement {
    let local = |at: NaiveDateTime| {
        crate::domain::time::to_utc(at).with_timezone(&portal.utc_offset).format("%Y-%m-%d %H:%M").to_string()
    };
    let base = portal.frontend_base_url.trim_end_matches('/');
    Announcement {
        program_title: program.title.clone(),
        program_code: program.code.clone(),
        opens: local(program.opens_at),
        closes: local(program.closes_at),
        zone: format!("UTC{}", portal.utc_offset),
        guide_link: format!("{base}/programs/{}", program.id),
        settings_link: format!("{base}/company"),
    }
}

// ---------------------------------------------------------------------------------------------------
// The follow-up ledger

/// Staff who follow up on programmes.
const FOLLOWERS: [Role; 2] = [Role::Reviewer, Role::Admin];

/// Which qualifying companies the ledger shows.
#[derive(Debug, Clone, Default)]
pub struct LedgerFilter {
    /// `true`: only those with a live application; `false`: only those without.
    pub applied: Option<bool>,
    pub industry: Option<Industry>,
    pub park_zone: Option<String>,
    /// Part of the name or of the credit code, in any case.
    pub q: Option<String>,
}

/// One page of the ledger, or all of it for a download.
#[derive(Debug, Clone, Copy)]
pub enum Rows {
    Page { page: Option<i64>, per_page: Option<i64> },
    All,
}

/// A company that qualifies for the programme today, and where it stands.
#[derive(Debug, Clone)]
pub struct LedgerEntry {
    pub company_id: i64,
    pub company_name: String,
    pub credit_code: String,
    pub industry: Industry,
    pub park_zone: String,
    pub notify_new_programs: bool,
    pub notified_at: Option<NaiveDateTime>,
    /// The company's live application: `(id, reference_no, status)`.
    pub application: Option<(i64, Option<String>, Status)>,
}

#[derive(Debug, Clone)]
pub struct Ledger {
    pub program: Program,
    pub entries: Vec<LedgerEntry>,
    /// The page asked for; `None` for all rows.
    pub window: Option<Window>,
    /// Rows matching every filter.
    pub total: i64,
    /// Counts of the companies the `industry`, `park_zone` and `q` filters select, whatever `applied` asks,
    /// so the funnel stays whole while staff look at one part of it.
    pub funnel: Funnel,
}

/// The verified companies that pass the programme's rules today, with whether each was told and applied
/// (reviewers and administrators).
pub async fn ledger(
    db: &Db,
    caller: &SignedIn,
    program_id: i64,
    filter: LedgerFilter,
    rows: Rows,
    today: NaiveDate,
) -> Result<Ledger> {
    caller.require(&FOLLOWERS)?;
    let window = match rows {
        Rows::Page { page, per_page } => Some(Window::parse(page, per_page)?),
        Rows::All => None,
    };
    let caller = caller.clone();
    let selection = Selection {
        year: figures_year(today),
        industry: filter.industry.map(|i| i.as_str().to_owned()),
        park_zone: filter.park_zone.clone(),
        q: filter.q.clone(),
        listening: false,
    };
    let (program, companies, applications, told) = db
        .read(move |conn| {
            let program = Program::load(conn, program_id)?;
            if !program.visible_to(Some(&caller)) {
                return Err(Refusal::NotFound.into());
            }
            let companies = store::verified_companies(conn, &selection)?;
            let applications = store::live_applications(conn, program_id)?;
            let told = store::notified(conn, program_id)?;
            Ok::<_, crate::app::Error>((program, companies, applications, told))
        })
        .await?;
    let told: HashMap<i64, NaiveDateTime> = told.into_iter().collect();
    let mut applied = HashMap::new();
    for (company_id, id, reference_no, status) in applications {
        let status = Status::parse(&status)
            .ok_or_else(|| db::Error::damaged("applications", id, format!("unknown status `{status}`")))?;
        // A draft is the company's own until it is submitted: staff see it as not applied yet.
        if status != Status::Draft {
            applied.insert(company_id, (id, reference_no, status));
        }
    }
    let qualifying: Vec<LedgerEntry> = companies
        .into_iter()
        .filter(|row| reasons(&program.rules, &facts(row, today)).is_some())
        .map(|row| LedgerEntry {
            notified_at: told.get(&row.id).copied(),
            application: applied.remove(&row.id),
            industry: Industry::parse(&row.industry).unwrap_or(Industry::Other),
            company_id: row.id,
            company_name: row.name,
            credit_code: row.credit_code,
            park_zone: row.park_zone,
            notify_new_programs: row.notify_new_programs,
        })
        .collect();
    let funnel = Funnel::of(
        qualifying.iter().map(|e| Standing { notified: e.notified_at.is_some(), applied: e.application.is_some() }),
    );
    let matching: Vec<LedgerEntry> =
        qualifying.into_iter().filter(|e| filter.applied.is_none_or(|a| a == e.application.is_some())).collect();
    let total = i64::try_from(matching.len()).unwrap_or(i64::MAX);
    let entries = match window {
        Some(w) => matching
            .into_iter()
            .skip(usize::try_from(w.offset()).unwrap_or(usize::MAX))
            .take(usize::try_from(w.per_page).unwrap_or(0))
            .collect(),
        None => matching,
    };
    Ok(Ledger { program, entries, window, total, funnel })
}

// ---------------------------------------------------------------------------------------------------
// Demonstration

/// A demo company and what it has done.
struct Demo {
    name: &'static str,
    industry: Industry,
    park_zone: &'static str,
    founded: i32,
    /// Last year's revenue and R&D expense in fen, employees and R&D staff.
    figures: (i64, i64, i32, i32),
    certified: bool,
    tech_sme: bool,
    /// Takes announcements of new programmes.
    listening: bool,
    /// The code of the demo programme it has started an application to.
    applied_to: Option<&'static str>,
}

const fn demo_company(name: &'static str, industry: Industry, park_zone: &'static str, founded: i32) -> Demo {
    Demo {
        name,
        industry,
        park_zone,
        founded,
        figures: (0, 0, 0, 0),
        certified: false,
        tech_sme: false,
        listening: true,
        applied_to: None,
    }
}

const DEMO_COMPANIES: [Demo; 5] = [
    Demo {
        figures: (8_000_000_000, 800_000_000, 150, 45),
        certified: true,
        tech_sme: true,
        ..demo_company("珠海示例芯片设计有限公司", Industry::IntegratedCircuit, "唐家湾主园区", 2016)
    },
    Demo {
        figures: (2_000_000_000, 200_000_000, 35, 10),
        applied_to: Some("IC-2026"),
        ..demo_company("珠海示例微纳电子有限公司", Industry::IntegratedCircuit, "唐家湾主园区", 2020)
    },
    Demo {
        figures: (30_000_000_000, 1_200_000_000, 400, 50),
        ..demo_company("珠海示例封装测试有限公司", Industry::IntegratedCircuit, "金鼎", 2012)
    },
    Demo {
        figures: (3_000_000_000, 300_000_000, 60, 15),
        tech_sme: true,
        ..demo_company("珠海示例生物科技有限公司", Industry::Biomedicine, "唐家湾主园区", 2019)
    },
    Demo {
        figures: (5_000_000_000, 400_000_000, 90, 18),
        listening: false,
        ..demo_company("珠海示例医疗器械有限公司", Industry::Biomedicine, "金鼎", 2017)
    },
];

/// A few verified demo companies with last year's figures, so a new installation's outreach ledgers have
/// something in them: some qualify for the demo programmes, one of them has started an application, one
/// has turned the announcements off, one qualifies for none. Their accounts have no password, so nobody
/// signs in with them. None when they exist already; answers how many were added.
pub async fn seed_examples(db: &Db, clock: Clock) -> Result<usize> {
    use crate::db::{applications, companies, programs, users};
    use crate::domain::credit_code::CreditCode;

    let code = |n: usize| CreditCode::complete(&format!("91440400DEM00000{n}")).map(|c| c.as_str().to_owned());
    db.write(move |conn| {
        let first = code(0).ok_or_else(|| db::Error::inconsistent("the demo credit codes are valid"))?;
        if companies::credit_code_taken(conn, &first)? {
            return Ok(0);
        }
        let year = figures_year(clock.today);
        for (n, demo) in DEMO_COMPANIES.iter().enumerate() {
            let credit_code = code(n).ok_or_else(|| db::Error::inconsistent("the demo credit codes are valid"))?;
            let company = companies::insert(
                conn,
                &companies::NewCompany {
                    credit_code: &credit_code,
                    name: demo.name,
                    legal_representative: "李华",
                    industry: demo.industry.as_str(),
                    park_zone: demo.park_zone,
                    established_on: NaiveDate::from_ymd_opt(demo.founded, 3, 1).unwrap_or(clock.today),
                    registered_capital_fen: 2_000_000_000,
                    address: "珠海市高新区科技创新海岸",
                    contact_phone: "0756-3612345",
                    created_at: clock.now,
                    updated_at: clock.now,
                },
            )?;
            let (revenue_fen, rd_expense_fen, employee_count, rd_staff_count) = demo.figures;
            companies::put_financials(
                conn,
                &companies::FinancialsRow {
                    company_id: company.id,
                    year,
                    revenue_fen,
                    rd_expense_fen,
                    employee_count,
                    rd_staff_count,
                    updated_at: clock.now,
                },
            )?;
            let valid_until = demo.certified.then(|| clock.today + Duration::days(700));
            let certificate = demo.certified.then_some("GR202544000123");
            companies::set_certifications(conn, company.id, certificate, valid_until, demo.tech_sme, clock.now)?;
            let changes = companies::ProfileChanges { notify_new_programs: Some(demo.listening), ..Default::default() };
            companies::update_profile(conn, company.id, &changes)?;
            companies::set_verification(conn, company.id, VerificationStatus::Verified.as_str(), "", clock.now)?;
            let email = format!("demo-{n}@company.example");
            let user = users::insert_demo_applicant(conn, company.id, &email, "李华", clock.now)?;
            if let Some(program_code) = demo.applied_to {
                let filter = programs::Filter { statuses: vec![ProgramStatus::Published], ..Default::default() };
                let (published, _) = programs::list(conn, &filter, db::Start::Offset(0), i64::MAX - 1)?;
                if let Some(program) = published.iter().find(|p| p.code == program_code) {
                    applications::insert_draft(conn, program.id, company.id, user.id, 300_000_000, "{}", clock.now)?;
                }
            }
        }
        Ok::<_, db::Error>(DEMO_COMPANIES.len())
    })
    .await
    .map_err(Into::into)
}
