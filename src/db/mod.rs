//! The only part of the service that knows diesel: connections, schema, rows and one query module per
//! aggregate. Everything here runs on the blocking pool through [`Db::read`] and [`Db::write`].

pub mod applications;
pub mod audit;
pub mod bulk;
pub mod calendar;
pub mod companies;
mod connection;
pub mod migrations;
pub mod money;
pub mod outbox;
pub mod programs;
pub mod reports;
pub mod reviews;
pub mod schema;
pub mod throttle;
pub mod tokens;
pub mod users;

use std::time::Duration;

use secrecy::ExposeSecret;

pub(crate) use connection::on_backend;
pub use connection::{Backend, DatabaseUrl, DatabaseUrlError, DbConnection, Manager, write_transaction};

use crate::config::DatabaseSettings;
use crate::error::ApiError;

pub type Pool = diesel::r2d2::Pool<Manager>;

diesel::define_sql_function!(fn lower(text: diesel::sql_types::Text) -> diesel::sql_types::Text);

/// `text` with the wildcards of `LIKE` made literal, for patterns escaped with a backslash.
fn escape_like(text: &str) -> String {
    text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
}

/// The handle handlers hold: a pool, and the two ways to use it off the async workers.
#[derive(Clone)]
pub struct Db {
    pool: Pool,
    backend: Backend,
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
        let pool = diesel::r2d2::Pool::builder()
            .max_size(settings.pool_size)
            .min_idle(Some(1))
            .connection_timeout(Duration::from_millis(settings.acquire_timeout_ms))
            // No ping per check-out: `Pooled::run` checks a connection after it fails instead.
            .test_on_check_out(false)
            .error_handler(Box::new(LogPoolErrors))
            .build_unchecked(manager);
        Ok(Self { pool, backend })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Runs `f` with a pooled connection on the blocking pool.
    pub async fn read<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        let pool = self.pool.clone();
        run_blocking(move || pool.get()?.run(f)).await
    }

    /// Runs `f` as exactly one write transaction (`BEGIN IMMEDIATE` on SQLite) on the blocking pool:
    /// all of it is committed, or none of it.
    pub async fn write<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        let pool = self.pool.clone();
        run_blocking(move || pool.get()?.run(|conn| write_transaction(conn, f))).await
    }

    /// A connection for commands and tests that run outside a request.
    pub fn connection(&self) -> Result<Connection, ApiError> {
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

async fn run_blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("database task failed: {e}")))?
}

#[derive(Debug)]
struct LogPoolErrors;

impl diesel::r2d2::HandleError<diesel::r2d2::Error> for LogPoolErrors {
    fn handle_error(&self, error: diesel::r2d2::Error) {
        tracing::warn!(%error, "database connection failed");
    }
}
