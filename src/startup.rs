//! Builds the running service from settings: pool, migrations, shared state and the HTTP server; and
//! stops it in order.

use std::future::Future;
use std::net::TcpListener;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::dev::Server;
use actix_web::http::Method;
use actix_web::middleware::from_fn;
use actix_web::{App, HttpServer, web};
use tokio::task::JoinHandle;
use utoipa::OpenApi;
use utoipa_actix_web::AppExt;

use crate::api::metrics::MetricsToken;
use crate::api::middleware::{DefaultLang, request_context};
use crate::api::{self, RouteTable, docs, extract};
use crate::app::{housekeeping, outreach, requests};
use crate::auth::password::Passwords;
use crate::auth::tokens::Tokens;
use crate::config::{Environment, HousekeepingSettings, OutreachSettings, PortalSettings, RequestSettings, Settings};
use crate::console::{self, session::CookiePolicy};
use crate::crypto::Keyring;
use crate::db::{Db, migrations};
use crate::email::{Mailbox, Transport, worker};
use crate::metrics::HttpMetrics;
use crate::shutdown::{self, Stop, Trigger};
use crate::storage::Storage;

pub struct Application {
    port: u16,
    server: Server,
    mailbox: Option<Mailbox>,
    http_metrics: web::Data<HttpMetrics>,
    jobs: Vec<(&'static str, JoinHandle<()>)>,
    stop_jobs: Trigger,
    shutdown_timeout: Duration,
}

impl Application {
    /// Everything the service needs, ready to run; tests call this too, on port 0.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let db = open(&settings).await?;
        let transport = Arc::new(Transport::from_settings(&settings.mail)?);
        let mailbox = transport.mailbox();
        let storage = Storage::from_settings(&settings.storage)?;
        let (stop_jobs, stop) = shutdown::channel();
        let jobs = spawn_jobs(&db, transport, storage.clone(), &settings, &stop);
        let storage = web::Data::new(storage);
        let passwords = web::Data::new(Passwords::new(&settings.auth)?);
        let tokens = web::Data::new(Tokens::new(&settings.auth));
        let second_factor = web::Data::new(crate::app::mfa::Policy::new(
            settings.auth.mfa_required_roles.clone(),
            settings.auth.totp_issuer.clone(),
        ));
        let doc = api::openapi();
        let metrics_token = MetricsToken::from_setting(&settings.telemetry.metrics_token).map(web::Data::new);
        let mut route_table = RouteTable::from_openapi(&doc);
        if metrics_token.is_some() {
            route_table = route_table.with(api::metrics::PATH, vec![Method::GET]);
        }
        let route_table = web::Data::new(route_table);
        let doc = web::Data::new(doc);
        let db = web::Data::new(db);
        let http_metrics = web::Data::new(HttpMetrics::default());
        let default_lang = web::Data::new(DefaultLang(settings.portal.default_language));
        let portal = web::Data::new(settings.portal.clone());
        let request_settings = web::Data::new(settings.requests.clone());
        let server_settings = web::Data::new(settings.server.clone());
        let storage_settings = web::Data::new(settings.storage.clone());
        let cookie_policy = web::Data::new(CookiePolicy {
            secure: settings.environment != Environment::Development,
            idle_timeout: chrono::Duration::minutes(i64::from(settings.console.idle_timeout_mins)),
        });
        let json_limit = settings.server.json_limit_bytes;
        let docs_enabled = settings.server.docs_enabled;
        let cors_origins = settings.server.cors_allowed_origins.clone();

        let listener = TcpListener::bind((settings.server.host.as_str(), settings.server.port))?;
        let address = listener.local_addr()?;
        let app_metrics = http_metrics.clone();
        let mut server = HttpServer::new(move || {
            let (app, _) = App::new()
                .into_utoipa_app()
                .openapi(docs::ApiDoc::openapi())
                .configure(api::routes(api::middleware::cors(&cors_origins)))
                .split_for_parts();
            let app = app
                .app_data(db.clone())
                .app_data(passwords.clone())
                .app_data(tokens.clone())
                .app_data(second_factor.clone())
                .app_data(doc.clone())
                .app_data(route_table.clone())
                .app_data(default_lang.clone())
                .app_data(portal.clone())
                .app_data(request_settings.clone())
                .app_data(server_settings.clone())
                .app_data(storage.clone())
                .app_data(storage_settings.clone())
                .app_data(cookie_policy.clone())
                .app_data(app_metrics.clone())
                .app_data(web::PayloadConfig::new(json_limit))
                .app_data(extract::path_config())
                .app_data(extract::query_config())
                .configure(console::routes)
                .default_service(web::to(api::fallback));
            let app = match &metrics_token {
                Some(token) => {
                    app.app_data(token.clone()).route(api::metrics::PATH, web::get().to(api::metrics::scrape))
                }
                None => app,
            };
            let app = if docs_enabled {
                app.service(docs::swagger_ui()).route("/docs", web::get().to(docs::docs_redirect))
            } else {
                app
            };
            app.wrap(from_fn(request_context))
        })
        // Signals are handled by `run_until`, so that Ctrl-C stops as gracefully as SIGTERM.
        .disable_signals()
        .shutdown_timeout(settings.server.shutdown_timeout_secs)
        .listen(listener)?;
        if settings.server.workers > 0 {
            server = server.workers(settings.server.workers);
        }
        log_start(&settings, address);
        Ok(Self {
            port: address.port(),
            server: server.run(),
            mailbox,
            http_metrics,
            jobs,
            stop_jobs,
            shutdown_timeout: Duration::from_secs(settings.server.shutdown_timeout_secs),
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// What the memory mail transport has sent, when it is the one configured.
    pub fn mailbox(&self) -> Option<Mailbox> {
        self.mailbox.clone()
    }

    /// Serves until the process is stopped from outside (as the tests run it).
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.run_until(std::future::pending()).await
    }

    /// Serves until `signal` resolves (with its name), then stops in order: no new connections; requests in
    /// flight get `server.shutdown_timeout_secs` to finish, and are cut after it; the mail worker finishes
    /// the message it is sending and the other jobs stop between two runs, within the same time. A second
    /// signal exits at once (status 1).
    pub async fn run_until(self, signal: impl Future<Output = &'static str>) -> std::io::Result<()> {
        let Self { server, http_metrics, jobs, stop_jobs, shutdown_timeout, .. } = self;
        let handle = server.handle();
        let mut server = std::pin::pin!(server);
        let reason = tokio::select! {
            stopped = &mut server => {
                stopped?;
                "the server stopped"
            }
            reason = signal => reason,
        };
        let started = Instant::now();
        let in_flight = http_metrics.in_flight();
        tracing::info!(
            signal = reason,
            in_flight,
            timeout_secs = shutdown_timeout.as_secs(),
            "stopping: no new connections; requests in flight may finish"
        );
        let abandoned_before = http_metrics.abandoned();
        stop_jobs.pull();
        // The command is sent at once; the server future, polled below, carries it out and then ends.
        drop(handle.stop(true));
        tokio::select! {
            stopped = &mut server => stopped?,
            second = shutdown::signalled() => {
                // What is cut here is what a crash would cut: every transaction commits whole or not at all.
                tracing::warn!(signal = second, "second signal: exiting at once, cutting the requests still running");
                std::process::exit(1);
            }
        }
        let requests_cut = http_metrics.abandoned() - abandoned_before;
        let deadline = tokio::time::Instant::from_std(started + shutdown_timeout);
        let mut jobs_cut = Vec::new();
        for (name, mut job) in jobs {
            if tokio::time::timeout_at(deadline, &mut job).await.is_err() {
                job.abort();
                jobs_cut.push(name);
            }
        }
        let elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        if requests_cut == 0 && jobs_cut.is_empty() {
            tracing::info!(
                signal = reason,
                elapsed_ms,
                "stopped gracefully: every request in flight was answered and every background job stopped"
            );
        } else {
            tracing::warn!(
                signal = reason,
                elapsed_ms,
                requests_cut,
                jobs_cut = ?jobs_cut,
                "stopped: the shutdown timeout cut what was still running"
            );
        }
        Ok(())
    }
}

/// The background jobs of every instance, each with its name and the flag that stops it.
fn spawn_jobs(
    db: &Db,
    transport: Arc<Transport>,
    storage: Storage,
    settings: &Settings,
    stop: &Stop,
) -> Vec<(&'static str, JoinHandle<()>)> {
    let poll = Duration::from_millis(settings.mail.poll_interval_ms);
    let (requests, offset) = (settings.requests.clone(), settings.portal.utc_offset);
    vec![
        ("mail worker", tokio::spawn(worker::run(db.clone(), transport, poll, stop.clone()))),
        ("request sweep", tokio::spawn(sweep_requests(db.clone(), requests, offset, stop.clone()))),
        ("outreach", tokio::spawn(run_outreach(db.clone(), settings.outreach, settings.portal.clone(), stop.clone()))),
        ("housekeeping", tokio::spawn(run_housekeeping(db.clone(), storage, settings.housekeeping, stop.clone()))),
    ]
}

fn log_start(settings: &Settings, address: std::net::SocketAddr) {
    if settings.server.trusted_proxies.is_empty() {
        tracing::info!(
            "no trusted proxies: rate limits count each connection's own address, X-Forwarded-For is ignored"
        );
    } else {
        tracing::info!(proxies = ?settings.server.trusted_proxies, "X-Forwarded-For is read behind these proxies only");
    }
    if !settings.server.cors_allowed_origins.is_empty() {
        tracing::info!(origins = ?settings.server.cors_allowed_origins, "browsers on these origins may call /api/v1");
    }
    if settings.server.docs_enabled {
        tracing::info!("listening on http://{address}; API docs at http://{address}/docs/");
    } else {
        tracing::info!("listening on http://{address}; API document at http://{address}/api/openapi.json");
    }
}

/// The database, migrated, with this process sealing the audit chain with `audit.chain_key` (and keying
/// the chain from its next event, the first time a key is set), and sealing secrets at rest with the key
/// ring of `crypto`: any secret not sealed under its current key yet is sealed now, in one pass.
pub async fn open(settings: &Settings) -> anyhow::Result<Db> {
    let keys = Keyring::from_settings(&settings.crypto)?;
    let db = Db::new(&settings.database)?.sealing_with(keys);
    migrate(&db).await?;
    let key = secrecy::ExposeSecret::expose_secret(&settings.audit.chain_key);
    if !key.is_empty() {
        crate::db::audit::use_chain_key(key.as_bytes())?;
        db.write(|conn| crate::db::audit::key_the_chain(conn, &crate::domain::audit::Actor::default())).await?;
    }
    let keys = db.keys();
    let (accounts, totp) = db
        .write(move |conn| {
            let accounts = crate::db::companies::reseal_account_numbers(conn, &keys)?;
            Ok::<_, crate::db::Error>((accounts, crate::db::mfa::reseal_secrets(conn, &keys)?))
        })
        .await?;
    if accounts + totp > 0 {
        tracing::info!(accounts, totp, "secrets at rest sealed under the current key");
    }
    Ok(db)
}

/// Applies pending migrations, naming each one in the log.
pub async fn migrate(db: &Db) -> anyhow::Result<()> {
    let db = db.clone();
    let applied = tokio::task::spawn_blocking(move || -> anyhow::Result<Vec<String>> {
        let mut conn = db.connection().map_err(|e| anyhow::anyhow!("the database is unreachable: {e}"))?;
        migrations::run_pending(&mut conn)
    })
    .await??;
    for name in &applied {
        tracing::info!(migration = %name, "migration applied");
    }
    Ok(())
}

/// Every `sweep_interval_secs`, escalates overdue company requests and closes unrated resolved ones; stops
/// between two sweeps.
async fn sweep_requests(db: Db, settings: RequestSettings, offset: chrono::FixedOffset, mut stop: Stop) {
    let mut ticks = tokio::time::interval(Duration::from_secs(settings.sweep_interval_secs.max(1)));
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            biased;
            () = stop.requested() => return,
            _ = ticks.tick() => {}
        }
        match requests::sweep(&db, settings.deadlines, requests::Clock::now(offset)).await {
            Ok(swept) if swept != requests::Swept::default() => {
                tracing::info!(escalated = swept.escalated, closed = swept.closed, "company requests swept");
            }
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "sweeping company requests failed; trying again later"),
        }
    }
}

/// Every `poll_interval_secs`, runs the outreach of each programme whose run is due (政策精准推送); stops
/// between two runs.
async fn run_outreach(db: Db, settings: OutreachSettings, portal: PortalSettings, mut stop: Stop) {
    let mut ticks = tokio::time::interval(Duration::from_secs(settings.poll_interval_secs.max(1)));
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            biased;
            () = stop.requested() => return,
            _ = ticks.tick() => {}
        }
        match outreach::run_due(&db, settings, &portal, requests::Clock::now(portal.utc_offset)).await {
            Ok(runs) => {
                for run in runs {
                    tracing::info!(
                        program_id = run.program_id,
                        candidates = run.candidates,
                        qualified = run.qualified,
                        notified = run.notified,
                        read_ms = run.read.as_millis(),
                        decide_ms = run.decide.as_millis(),
                        write_ms = run.write.as_millis(),
                        "programme outreach run"
                    );
                }
            }
            Err(error) => tracing::warn!(%error, "programme outreach failed; trying again later"),
        }
    }
}

/// Every `poll_interval_secs` (from one interval after the start), runs housekeeping when its run is due and this instance claims it.
async fn run_housekeeping(db: Db, storage: Storage, settings: HousekeepingSettings, mut stop: Stop) {
    // The first look comes one interval after the start, so a restart adds no work to its busiest moment.
    let every = Duration::from_secs(settings.poll_interval_secs.max(1));
    let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            biased;
            () = stop.requested() => return,
            _ = ticks.tick() => {}
        }
        match housekeeping::run_due(&db, &storage, settings, crate::domain::time::now()).await {
            Ok(Some(report)) => {
                let (purged, swept) = (report.purged, report.swept);
                tracing::info!(
                    sessions = purged.sessions,
                    tokens = purged.tokens,
                    throttle_windows = purged.throttle_windows,
                    sent_mail = purged.sent_mail,
                    idempotency_keys = purged.idempotency_keys,
                    stored_files = swept.stored,
                    orphans_removed = swept.removed.len(),
                    young_orphans = swept.young_orphans,
                    missing_files = swept.missing.len(),
                    "housekeeping run"
                );
            }
            Ok(None) => {}
            Err(error) => tracing::warn!(%error, "housekeeping failed; trying again later"),
        }
    }
}
