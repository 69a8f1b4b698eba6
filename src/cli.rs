//! The command line: `portal serve` (the default), `portal migrate`, `portal create-admin`, `portal openapi`,
//! `portal storage sweep`.
//! `portal seed-bench` exists only in builds with the `bench` feature: it creates accounts with a known
//! password, so the binary people run never has it.

use std::io::{BufRead, IsTerminal};

#[cfg(feature = "bench")]
use chrono::NaiveDateTime;
use clap::{Parser, Subcommand};
use secrecy::SecretString;
use serde_json::json;

use crate::auth::password::Passwords;
use crate::config::Settings;
#[cfg(feature = "bench")]
use crate::db::DbConnection;
use crate::db::audit::{self, Event};
use crate::db::{Db, users};
use crate::domain::account::{Email, check_password_length};
use crate::domain::audit::Actor;
use crate::domain::program::ProgramInput;
use crate::domain::role::Role;
use crate::domain::time;
use crate::startup::{self, Application};

#[derive(Debug, Parser)]
#[command(
    name = "portal",
    version,
    about = "Policy-application portal: support-fund applications from submission to payment"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP service (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate {
        /// PostgreSQL: then give this role what the service needs (reading and writing rows) and no DDL,
        /// so the service can run as it while this command runs as the schema's owner.
        #[arg(long, value_name = "ROLE")]
        grant_to: Option<String>,
    },
    /// Create an administrator; the password is read from a prompt, or from standard input when piped.
    CreateAdmin {
        #[arg(long)]
        email: String,
        #[arg(long, default_value = "系统管理员")]
        display_name: String,
    },
    /// Print the OpenAPI document.
    Openapi,
    /// Publish four example programmes (integrated circuits, biomedicine, high-tech certification,
    /// patents), open from yesterday for 60 days; programmes whose code exists are left alone. Adds a few
    /// verified demo companies and tells those that qualify, so each programme's outreach ledger shows them.
    SeedDemo,
    /// Fill an empty portal with a large data set for benchmarks: companies with signed-in accounts
    /// (password `bench-password-violet-42`), programmes, applications in every status, payments.
    /// Only in builds with the `bench` feature.
    #[cfg(feature = "bench")]
    SeedBench {
        #[arg(long, default_value_t = 10_000)]
        companies: usize,
        #[arg(long, default_value_t = 20)]
        programs: usize,
        #[arg(long, default_value_t = 100_000)]
        applications: usize,
        #[arg(long, default_value_t = 1_000_000)]
        payments: usize,
    },
    /// The audit trail.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Uploaded files in storage.
    Storage {
        #[command(subcommand)]
        command: StorageCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum StorageCommand {
    /// Removes stored files no row points at once older than `housekeeping.orphan_file_min_age_secs` (an
    /// upload whose row never committed), reports rows whose file is missing, and prints what it did as JSON.
    /// The housekeeping job does the same every run.
    Sweep,
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Recompute the hash chain; exits with an error naming the first broken event, if any.
    Verify,
    /// Print the chain's head (sequence, hash, time), to be kept somewhere the database's writers cannot
    /// reach: a later chain that does not pass through it was rewritten.
    Anchor,
}

pub async fn run(cli: Cli, settings: Settings) -> anyhow::Result<()> {
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => Application::build(settings).await?.run_until(crate::shutdown::signalled()).await?,
        Command::Migrate { grant_to } => migrate(&settings, grant_to).await?,
        Command::CreateAdmin { email, display_name } => create_admin(&settings, &email, &display_name).await?,
        Command::Openapi => println!("{}", serde_json::to_string_pretty(&crate::api::openapi())?),
        Command::Audit { command: AuditCommand::Verify } => verify_audit(&settings).await?,
        Command::Audit { command: AuditCommand::Anchor } => {
            let anchor = startup::open(&settings).await?.read(crate::db::audit::anchor).await?;
            println!("{}", serde_json::to_string(&anchor)?);
        }
        Command::Storage { command: StorageCommand::Sweep } => sweep_storage(&settings).await?,
        Command::SeedDemo => seed_demo(&settings).await?,
        #[cfg(feature = "bench")]
        Command::SeedBench { companies, programs, applications, payments } => {
            let size = crate::db::bulk::Size { companies, programs, applications, payments };
            seed_bench(&settings, size).await?;
        }
    }
    Ok(())
}

async fn migrate(settings: &Settings, grant_to: Option<String>) -> anyhow::Result<()> {
    let db = Db::new(&settings.database)?;
    startup::migrate(&db).await?;
    if let Some(role) = grant_to {
        tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
            let mut conn = db.connection().map_err(|e| anyhow::anyhow!("the database is unreachable: {e}"))?;
            crate::db::migrations::grant_to(&mut conn, &role)?;
            tracing::info!(%role, "rows granted to the service's role, no DDL");
            Ok(())
        })
        .await??;
    }
    Ok(())
}

async fn create_admin(settings: &Settings, email: &str, display_name: &str) -> anyhow::Result<()> {
    let email = Email::parse("email", email).map_err(|e| anyhow::anyhow!("{}", e.message.en))?;
    let display_name = display_name.trim().to_owned();
    anyhow::ensure!(!display_name.is_empty(), "--display-name must not be blank");
    let password = read_password()?;
    check_password_length("password", secrecy::ExposeSecret::expose_secret(&password))
        .map_err(|e| anyhow::anyhow!("{}", e.message.en))?;

    let db = startup::open(settings).await?;
    let hash = Passwords::new(&settings.auth)?.hash(password).await?;
    let address = email.as_str().to_owned();
    let created = db
        .write(move |conn| {
            if users::email_taken(conn, email.as_str())? {
                return Ok(None);
            }
            let user = users::insert(
                conn,
                &users::NewUser::active_staff(email.as_str(), &hash, &display_name, Role::Admin, time::now()),
            )?;
            let summary = json!({ "email": user.email, "role": Role::Admin.as_str(), "by": "create-admin" });
            audit::append(conn, &Actor::default(), Event::new("user.create", "user", user.id, summary))?;
            Ok::<_, crate::db::Error>(Some(user.id))
        })
        .await?;
    let Some(id) = created else { anyhow::bail!("An account with this email already exists.") };
    println!("created administrator {address} (id {id})");
    Ok(())
}

const DEMO_PROGRAMS: &str = include_str!("../seed/demo-programs.json");

async fn seed_demo(settings: &Settings) -> anyhow::Result<()> {
    let now = chrono::Utc::now();
    let mut definitions: Vec<serde_json::Value> = serde_json::from_str(DEMO_PROGRAMS)?;
    let mut programmes = Vec::new();
    for definition in &mut definitions {
        definition["opens_at"] = serde_json::json!(now - chrono::Duration::days(1));
        definition["closes_at"] = serde_json::json!(now + chrono::Duration::days(60));
        let ProgramInput(terms) = serde_json::from_value(definition.clone())?;
        programmes.push(terms);
    }
    let db = startup::open(settings).await?;
    let created: Vec<String> = crate::app::programs::seed(&db, programmes)
        .await?
        .into_iter()
        .map(|program| format!("{} {}", program.code, program.title))
        .collect();
    if created.is_empty() {
        println!("the demo programmes exist already");
    }
    for line in created {
        println!("published {line}");
    }
    let clock = crate::app::requests::Clock::now(settings.portal.utc_offset);
    let filed = crate::app::requests::seed_examples(&db, settings.requests.deadlines, clock).await?;
    if filed > 0 {
        println!("filed {filed} example company requests from a demo company nobody can sign in as");
    }
    let added = crate::app::outreach::seed_examples(&db, clock).await?;
    if added > 0 {
        println!("added {added} verified demo companies nobody can sign in as");
    }
    for run in crate::app::outreach::run_due(&db, settings.outreach, &settings.portal, clock).await? {
        println!(
            "programme {}: {} companies qualify and were told of it; staff see the ledger at GET /api/v1/programs/{}/outreach",
            run.program_id, run.notified, run.program_id
        );
    }
    Ok(())
}

#[cfg(feature = "bench")]
async fn seed_bench(settings: &Settings, size: crate::db::bulk::Size) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let db = startup::open(settings).await?;
    let hash = Passwords::new(&settings.auth)?.hash(SecretString::from(crate::db::bulk::BENCH_PASSWORD)).await?;
    let keys = db.keys();
    db.write(move |conn| {
        let now = time::now();
        let finance = bench_staff(conn, Role::Finance, &hash, now)?;
        bench_staff(conn, Role::Reviewer, &hash, now)?;
        bench_staff(conn, Role::Expert, &hash, now)?;
        crate::db::bulk::seed(conn, size, &hash, finance, now)?;
        // The bulk insert writes plain numbers; they are sealed before anyone reads them.
        crate::db::companies::reseal_account_numbers(conn, &keys).map(|_| ())
    })
    .await
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    println!("seeded {size:?} in {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}

/// The benchmark's staff account with `role`, created unless it exists.
#[cfg(feature = "bench")]
fn bench_staff(conn: &mut DbConnection, role: Role, hash: &str, now: NaiveDateTime) -> crate::db::Result<i64> {
    let email = crate::db::bulk::staff_email(role);
    if let Some(user) = users::find_by_email(conn, &email)? {
        return Ok(user.id);
    }
    let user = users::NewUser::active_staff(&email, hash, role.as_str(), role, now);
    Ok(users::insert(conn, &user)?.id)
}

async fn sweep_storage(settings: &Settings) -> anyhow::Result<()> {
    let db = startup::open(settings).await?;
    let storage = crate::storage::Storage::from_settings(&settings.storage)?;
    let min_age = std::time::Duration::from_secs(settings.housekeeping.orphan_file_min_age_secs);
    let swept = crate::app::housekeeping::sweep(&db, &storage, min_age, time::now()).await?;
    println!("{}", serde_json::to_string(&swept)?);
    Ok(())
}

async fn verify_audit(settings: &Settings) -> anyhow::Result<()> {
    let db = startup::open(settings).await?;
    let result = db.read(crate::db::audit::verify).await.map_err(|e| anyhow::anyhow!(e))?;
    println!("{}", serde_json::to_string(&result)?);
    match result.first_invalid_seq {
        None => Ok(()),
        Some(seq) => {
            anyhow::bail!("the audit trail is broken at event {seq} ({} events before it are intact)", result.checked)
        }
    }
}

/// A password from a prompt (asked twice, not echoed) or the first line of piped standard input.
fn read_password() -> anyhow::Result<SecretString> {
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("Password: ")?;
        let second = rpassword::prompt_password("Repeat the password: ")?;
        anyhow::ensure!(first == second, "the two passwords differ");
        return Ok(SecretString::from(first));
    }
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    let password = line.trim_end_matches(['\r', '\n']).to_owned();
    anyhow::ensure!(!password.is_empty(), "no password on standard input");
    Ok(SecretString::from(password))
}
