//! Builds the running service from settings: pool, migrations, shared state and the HTTP server.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::middleware::from_fn;
use actix_web::{App, HttpServer, web};
use utoipa::OpenApi;
use utoipa_actix_web::AppExt;

use crate::api::middleware::{DefaultLang, request_context};
use crate::api::{self, RouteTable, docs, extract};
use crate::app::{housekeeping, outreach, requests};
use crate::auth::password::Passwords;
use crate::auth::tokens::Tokens;
use crate::config::{HousekeepingSettings, OutreachSettings, PortalSettings, RequestSettings, Settings};
use crate::db::{Db, migrations};
use crate::email::{Mailbox, Transport, worker};
use crate::storage::Storage;

pub struct Application {
    port: u16,
    server: Server,
    mailbox: Option<Mailbox>,
}

impl Application {
    /// Everything the service needs, ready to run; tests call this too, on port 0.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let db = open(&settings).await?;
        let transport = Arc::new(Transport::from_settings(&settings.mail)?);
        let mailbox = transport.mailbox();
        tokio::spawn(worker::run(db.clone(), transport, Duration::from_millis(settings.mail.poll_interval_ms)));
        tokio::spawn(sweep_requests(db.clone(), settings.requests.clone(), settings.portal.utc_offset));
        tokio::spawn(run_outreach(db.clone(), settings.outreach, settings.portal.clone()));
        let storage = Storage::from_settings(&settings.storage)?;
        tokio::spawn(run_housekeeping(db.clone(), storage.clone(), settings.housekeeping));
        let storage = web::Data::new(storage);
        let passwords = web::Data::new(Passwords::new(&settings.auth)?);
        let tokens = web::Data::new(Tokens::new(&settings.auth));
        let doc = api::openapi();
        let route_table = web::Data::new(RouteTable::from_openapi(&doc));
        let doc = web::Data::new(doc);
        let db = web::Data::new(db);
        let default_lang = web::Data::new(DefaultLang(settings.portal.default_language));
        let portal = web::Data::new(settings.portal.clone());
        let request_settings = web::Data::new(settings.requests.clone());
        let server_settings = web::Data::new(settings.server.clone());
        let storage_settings = web::Data::new(settings.storage.clone());
        let json_limit = settings.server.json_limit_bytes;
        let docs_enabled = settings.server.docs_enabled;

        let listener = TcpListener::bind((settings.server.host.as_str(), settings.server.port))?;
        let address = listener.local_addr()?;
        let mut server = HttpServer::new(move || {
            let (app, _) =
                App::new().into_utoipa_app().openapi(docs::ApiDoc::openapi()).configure(api::routes).split_for_parts();
            let app = app
                .app_data(db.clone())
                .app_data(passwords.clone())
                .app_data(tokens.clone())
                .app_data(doc.clone())
                .app_data(route_table.clone())
                .app_data(default_lang.clone())
                .app_data(portal.clone())
                .app_data(request_settings.clone())
                .app_data(server_settings.clone())
                .app_data(storage.clone())
                .app_data(storage_settings.clone())
                .app_data(web::PayloadConfig::new(json_limit))
                .app_data(extract::path_config())
                .app_data(extract::query_config())
                .default_service(web::to(api::fallback));
            let app = if docs_enabled {
                app.service(docs::swagger_ui()).route("/docs", web::get().to(docs::docs_redirect))
            } else {
                app
            };
            app.wrap(from_fn(request_context))
        })
        .listen(listener)?;
        if settings.server.workers > 0 {
            server = server.workers(settings.server.workers);
        }
        if settings.server.trusted_proxies.is_empty() {
            tracing::info!(
                "no trusted proxies: rate limits count each connection's own address, X-Forwarded-For is ignored"
            );
        } else {
            tracing::info!(proxies = ?settings.server.trusted_proxies, "X-Forwarded-For is read behind these proxies only");
        }
        if docs_enabled {
            tracing::info!("listening on http://{address}; API docs at http://{address}/docs/");
        } else {
            tracing::info!("listening on http://{address}; API document at http://{address}/api/openapi.json");
        }
        Ok(Self { port: address.port(), server: server.run(), mailbox })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// What the memory mail transport has sent, when it is the one configured.
    pub fn mailbox(&self) -> Option<Mailbox> {
        self.mailbox.clone()
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}

/// The database, migrated, with this process sealing the audit chain with `audit.chain_key` (and keying
/// the chain from its next event, the first time a key is set).
pub async fn open(settings: &Settings) -> anyhow::Result<Db> {
    let db = Db::new(&settings.database)?;
    migrate(&db).await?;
    let key = secrecy::ExposeSecret::expose_secret(&settings.audit.chain_key);
    if !key.is_empty() {
        crate::db::audit::use_chain_key(key.as_bytes())?;
        db.write(|conn| crate::db::audit::key_the_chain(conn, &crate::domain::audit::Actor::default())).await?;
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

/// Every `sweep_interval_secs`, escalates overdue company requests and closes unrated resolved ones.
async fn sweep_requests(db: Db, settings: RequestSettings, offset: chrono::FixedOffset) {
    let mut ticks = tokio::time::interval(Duration::from_secs(settings.sweep_interval_secs.max(1)));
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        match requests::sweep(&db, settings.deadlines, requests::Clock::now(offset)).await {
            Ok(swept) if swept != requests::Swept::default() => {
                tracing::info!(escalated = swept.escalated, closed = swept.closed, "company requests swept");
            }
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "sweeping company requests failed; trying again later"),
        }
    }
}

/// Every `poll_interval_secs`, runs the outreach of each programme whose run is due (政策精准推送).
async fn run_outreach(db: Db, settings: OutreachSettings, portal: PortalSettings) {
    let mut ticks = tokio::time::interval(Duration::from_secs(settings.poll_interval_secs.max(1)));
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
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
async fn run_housekeeping(db: Db, storage: Storage, settings: HousekeepingSettings) {
    // The first look comes one interval after the start, so a restart adds no work to its busiest moment.
    let every = Duration::from_secs(settings.poll_interval_secs.max(1));
    let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
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
