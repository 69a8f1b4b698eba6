//! The only part of the service that knows diesel: connections, schema, rows and one query module per
//! aggregate. Everything here runs on the blocking pool through [`Db::read`] and [`Db::write`].

pub mod applications;
pub mod attachments;
pub mod audit;
#[cfg(feature = "bench")]
pub mod bulk;
pub mod calendar;
pub mod companies;
mod connection;
pub mod error;
pub mod expert_reviews;
pub mod housekeeping;
pub mod idempotency;
pub mod invoices;
pub mod mfa;
pub mod migrations;
pub mod money;
pub mod objections;
pub mod outbox;
pub mod outreach;
pub mod programs;
pub mod queues;
pub mod reports;
pub mod requests;
pub mod schema;
pub mod search;
pub mod throttle;
pub mod tokens;
pub mod types;
pub mod users;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use secrecy::ExposeSecret;

use crate::metrics::{Histogram, PoolStats};

pub(crate) use connection::on_backend;
pub use connection::{Backend, DatabaseUrl, DatabaseUrlError, DbConnection, Manager, write_transaction};
pub use error::{Error, Result};

pub type Pool = diesel::r2d2::Pool<Manager>;

/// The backend type of `DbConnection`, for boxed queries and expressions that work on either database.
pub(crate) type Multi = <DbConnection as diesel::Connection>::Backend;

/// Where a page of a list starts: after so many rows, or after the row with this sort key (a cursor).
/// Lists answer one row more than asked for when more follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start<K> {
    Offset(i64),
    After(K),
}

impl<K: crate::domain::paging::Key> Start<K> {
    /// After the cursor `after` when a request sent one (its page number is then ignored), else at the
    /// window's page; refused if the cursor is not one a list gave.
    pub fn of(
        window: crate::domain::validation::Window,
        after: Option<&str>,
    ) -> Result<Self, crate::domain::error::Error> {
        Ok(crate::domain::paging::start_after(after)?.map_or(Self::Offset(window.offset()), Self::After))
    }
}

diesel::define_sql_function!(fn lower(text: diesel::sql_types::Text) -> diesel::sql_types::Text);

/// `text` with the wildcards of `LIKE` made literal, for patterns escaped with a backslash.
fn escape_like(text: &str) -> String {
    text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
}

/// Where the database is and how the pool uses it: the `[database]` section of the settings.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseSettings {
    pub url: secrecy::SecretString,
    pub pool_size: u32,
    pub acquire_timeout_ms: u64,
    pub sqlite_busy_timeout_ms: u32,
}

/// The handle handlers hold: a pool, the two ways to use it off the async workers, and the key ring that
/// seals the secrets stored in it.
#[derive(Clone)]
pub struct Db {
    pool: Pool,
    backend: Backend,
    observed: Arc<Observed>,
    keys: Arc<crate::crypto::Keyring>,
    /// SQLite: this process's writers take turns here, first come first served, before they ask SQLite
    /// for its write lock. SQLite itself lets a waiting writer only retry after growing sleeps, so a job
    /// writing in a loop (the outbox sending a backlog) kept others waiting until their busy timeout.
    sqlite_turns: Option<Arc<tokio::sync::Mutex<()>>>,
}

/// What the metrics report of the pool and the blocking pool, counted as it happens.
#[derive(Debug)]
struct Observed {
    wait: Histogram,
    timeouts: AtomicU64,
    tasks_queued: AtomicU64,
    tasks_running: AtomicU64,
}

/// Waiting for a connection: up to `database.acquire_timeout_ms` (2 s by default), usually far less.
const POOL_WAIT_BUCKETS: [f64; 10] = [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 2.0];

#[derive(Debug)]
struct ObservePool(Arc<Observed>);

impl diesel::r2d2::HandleEvent for ObservePool {
    fn handle_checkout(&self, event: diesel::r2d2::event::CheckoutEvent) {
        self.0.wait.observe(event.duration());
    }

    fn handle_timeout(&self, event: diesel::r2d2::event::TimeoutEvent) {
        self.0.wait.observe(event.timeout());
        self.0.timeouts.fetch_add(1, Ordering::Relaxed);
    }
}

impl Db {
    /// A pool that opens its connections lazily, so the service starts (and reports itself unready)
    /// while the database is still coming up.
    pub fn new(settings: &DatabaseSettings) -> Result<Self, DatabaseUrlError> {
        let url = DatabaseUrl::parse(settings.url.expose_secret())?;
        let backend = url.backend();
        if let DatabaseUrl::Sqlite(path) = &url
            && let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
        {
            // Only the folder of an explicitly configured SQLite file is ever created.
            let _ = std::fs::create_dir_all(dir);
        }
        tracing::info!(database = %url.redacted(), "database configured");
        let manager = Manager::new(url, Duration::from_millis(u64::from(settings.sqlite_busy_timeout_ms)));
        let observed = Arc::new(Observed {
            wait: Histogram::new(&POOL_WAIT_BUCKETS),
            timeouts: AtomicU64::new(0),
            tasks_queued: AtomicU64::new(0),
            tasks_running: AtomicU64::new(0),
        });
        let pool = diesel::r2d2::Pool::builder()
            .max_size(settings.pool_size)
            .min_idle(Some(1))
            .connection_timeout(Duration::from_millis(settings.acquire_timeout_ms))
            // No ping per check-out: `Pooled::run` checks a connection after it fails instead.
            .test_on_check_out(false)
            .error_handler(Box::new(LogPoolErrors))
            .event_handler(Box::new(ObservePool(observed.clone())))
            .build_unchecked(manager);
        let sqlite_turns = matches!(backend, Backend::Sqlite).then(Arc::default);
        Ok(Self { pool, backend, observed, keys: Arc::default(), sqlite_turns })
    }

    /// The pool and the database tasks now, for the metrics.
    pub fn stats(&self) -> PoolStats {
        let state = self.pool.state();
        PoolStats {
            max: self.pool.max_size(),
            in_use: state.connections - state.idle_connections,
            idle: state.idle_connections,
            tasks_queued: self.observed.tasks_queued.load(Ordering::Relaxed),
            tasks_running: self.observed.tasks_running.load(Ordering::Relaxed),
            timeouts: self.observed.timeouts.load(Ordering::Relaxed),
        }
    }

    /// How long database tasks waited for a connection.
    pub fn pool_wait(&self) -> &Histogram {
        &self.observed.wait
    }

    /// The same database, sealing and opening its secrets with `keys` (without, nothing can be sealed).
    #[must_use]
    pub fn sealing_with(mut self, keys: crate::crypto::Keyring) -> Self {
        self.keys = Arc::new(keys);
        self
    }

    /// The key ring, for a closure that writes or reads a sealed column.
    pub fn keys(&self) -> Arc<crate::crypto::Keyring> {
        self.keys.clone()
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Runs `f` with a pooled connection on the blocking pool.
    pub async fn read<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: Failure,
    {
        let pool = self.pool.clone();
        run_blocking(&self.observed, move || pool.get().map_err(|e| E::from(e.into()))?.run(f)).await
    }

    /// Runs `f` as exactly one write transaction (`BEGIN IMMEDIATE` on SQLite) on the blocking pool:
    /// all of it is committed, or none of it.
    pub async fn write<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: Failure,
    {
        let pool = self.pool.clone();
        // Held until the transaction ends, even when the request that asked for it is gone meanwhile.
        let turn = match &self.sqlite_turns {
            Some(turns) => Some(turns.clone().lock_owned().await),
            None => None,
        };
        run_blocking(&self.observed, move || {
            let _turn = turn;
            pool.get().map_err(|e| E::from(e.into()))?.run(|conn| write_transaction(conn, f))
        })
        .await
    }

    /// Whether the database answers a query now.
    pub async fn answers(&self) -> Result<()> {
        self.read(|conn| {
            diesel::RunQueryDsl::execute(diesel::sql_query("SELECT 1"), conn)?;
            Ok(())
        })
        .await
    }

    /// A connection for commands and tests that run outside a request.
    pub fn connection(&self) -> Result<Connection> {
        Ok(Connection(self.pool.get()?))
    }
}

/// A connection checked out of the pool until dropped.
pub struct Connection(diesel::r2d2::PooledConnection<Manager>);

impl std::ops::Deref for Connection {
    type Target = DbConnection;

    fn deref(&self) -> &DbConnection {
        &self.0
    }
}

impl std::ops::DerefMut for Connection {
    fn deref_mut(&mut self) -> &mut DbConnection {
        &mut self.0
    }
}

/// An error a database closure may return: made from the database's own error, and telling whether it
/// may mean the connection was lost, so the pool checks that connection before lending it again.
pub trait Failure: From<Error> + Send + 'static {
    fn may_mean_lost_connection(&self) -> bool;
}

impl Failure for Error {
    fn may_mean_lost_connection(&self) -> bool {
        Error::may_mean_lost_connection(self)
    }
}

/// Runs `f` on the blocking pool, counted as queued until a thread takes it and as running until it ends.
async fn run_blocking<T: Send + 'static, E: Failure>(
    observed: &Arc<Observed>,
    f: impl FnOnce() -> Result<T, E> + Send + 'static,
) -> Result<T, E> {
    observed.tasks_queued.fetch_add(1, Ordering::Relaxed);
    let counts = observed.clone();
    // Counted down by a guard, so a task that panics or is never started (the runtime shutting down)
    // leaves no count behind.
    let queued = Count(observed.clone(), Which::Queued);
    tokio::task::spawn_blocking(move || {
        drop(queued);
        counts.tasks_running.fetch_add(1, Ordering::Relaxed);
        let _running = Count(counts, Which::Running);
        f()
    })
    .await
    .map_err(|e| E::from(Error::Other(anyhow::anyhow!("database task failed: {e}"))))?
}

enum Which {
    Queued,
    Running,
}

/// Takes one off its count when dropped.
struct Count(Arc<Observed>, Which);

impl Drop for Count {
    fn drop(&mut self) {
        let counter = match self.1 {
            Which::Queued => &self.0.tasks_queued,
            Which::Running => &self.0.tasks_running,
        };
        counter.fetch_sub(1, Ordering::Relaxed);
    }
}

#[derive(Debug)]
struct LogPoolErrors;

impl diesel::r2d2::HandleError<diesel::r2d2::Error> for LogPoolErrors {
    fn handle_error(&self, error: diesel::r2d2::Error) {
        tracing::warn!(%error, "database connection failed");
    }
}
