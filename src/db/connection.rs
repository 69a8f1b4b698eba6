//! The one connection type: SQLite or PostgreSQL, chosen by the database URL's scheme.

use std::path::{Path, PathBuf};
use std::time::Duration;

use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::pg::PgConnection;
use diesel::r2d2::{self, ManageConnection, R2D2Connection};
use diesel::sqlite::SqliteConnection;
use diesel::{Connection, QueryResult};

use crate::db::Failure;
use crate::db::error::Error;

#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Sqlite(SqliteConnection),
    Postgres(PgConnection),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl DbConnection {
    pub fn backend(&self) -> Backend {
        match self {
            Self::Sqlite(_) => Backend::Sqlite,
            Self::Postgres(_) => Backend::Postgres,
        }
    }
}

/// Evaluates `$body` with `$inner` bound to the backend's own connection. diesel finds such a statement in
/// its cache by the query's type; through [`DbConnection`] it renders the SQL text on every call to look
/// it up. Used for the queries every signed-in request runs.
macro_rules! on_backend {
    ($conn:expr, $inner:ident => $body:expr) => {
        match $conn {
            $crate::db::DbConnection::Sqlite($inner) => $body,
            $crate::db::DbConnection::Postgres($inner) => $body,
        }
    };
}
pub(crate) use on_backend;

/// A database location whose scheme has been checked; nothing is opened or created by parsing it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    Sqlite(PathBuf),
    Postgres(String),
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DatabaseUrlError {
    #[error("database.url is empty; use sqlite://<path> or postgres://user@host/name")]
    Empty,
    #[error("database.url `sqlite://` names no file; use e.g. sqlite://data/portal.db")]
    NoSqlitePath,
    #[error("database.url is not a valid PostgreSQL URL: {0}")]
    BadPostgres(String),
    #[error("database.url has the unsupported scheme `{0}`; use sqlite:// or postgres://")]
    UnknownScheme(String),
}

impl DatabaseUrl {
    pub fn parse(text: &str) -> Result<Self, DatabaseUrlError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(DatabaseUrlError::Empty);
        }
        if let Some(path) = text.strip_prefix("sqlite://").or_else(|| text.strip_prefix("sqlite:")) {
            if path.is_empty() || path == ":memory:" {
                return Err(DatabaseUrlError::NoSqlitePath);
            }
            return Ok(Self::Sqlite(PathBuf::from(path)));
        }
        if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            let url = url::Url::parse(text).map_err(|e| DatabaseUrlError::BadPostgres(e.to_string()))?;
            if url.host_str().is_none_or(str::is_empty) || url.path().trim_start_matches('/').is_empty() {
                return Err(DatabaseUrlError::BadPostgres("it needs a host and a database name".into()));
            }
            return Ok(Self::Postgres(text.to_owned()));
        }
        if let Some((scheme, _)) = text.split_once(':') {
            let looks_like_scheme =
                scheme.len() > 1 && scheme.chars().all(|c| c.is_ascii_alphanumeric() || "+.-".contains(c));
            if looks_like_scheme {
                return Err(DatabaseUrlError::UnknownScheme(scheme.to_owned()));
            }
        }
        Ok(Self::Sqlite(PathBuf::from(text)))
    }

    pub fn backend(&self) -> Backend {
        match self {
            Self::Sqlite(_) => Backend::Sqlite,
            Self::Postgres(_) => Backend::Postgres,
        }
    }

    /// The same location without credentials, for logs.
    pub fn redacted(&self) -> String {
        match self {
            Self::Sqlite(path) => format!("sqlite://{}", path.display()),
            Self::Postgres(text) => match url::Url::parse(text) {
                Ok(mut url) => {
                    if url.password().is_some() {
                        let _ = url.set_password(Some("****"));
                    }
                    url.to_string()
                }
                Err(_) => "postgres://(unparseable)".to_owned(),
            },
        }
    }
}

/// Opens connections of the URL's backend only, so PostgreSQL's own error reaches the log, and gives
/// every SQLite connection the pragmas the service relies on.
#[derive(Debug)]
pub struct Manager {
    url: DatabaseUrl,
    sqlite_busy_timeout: Duration,
}

impl Manager {
    pub fn new(url: DatabaseUrl, sqlite_busy_timeout: Duration) -> Self {
        Self { url, sqlite_busy_timeout }
    }

    pub fn establish(&self) -> Result<DbConnection, r2d2::Error> {
        match &self.url {
            DatabaseUrl::Sqlite(path) => {
                let mut conn = SqliteConnection::establish(&path_text(path)).map_err(r2d2::Error::ConnectionError)?;
                conn.batch_execute(&format!(
                    "PRAGMA busy_timeout = {}; PRAGMA foreign_keys = ON; PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;",
                    self.sqlite_busy_timeout.as_millis()
                ))
                .map_err(r2d2::Error::QueryError)?;
                Ok(DbConnection::Sqlite(conn))
            }
            DatabaseUrl::Postgres(url) => {
                PgConnection::establish(url).map(DbConnection::Postgres).map_err(r2d2::Error::ConnectionError)
            }
        }
    }
}

fn path_text(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}

/// A connection as the pool keeps it, marked `lost` once it has failed and no longer answers, so that the
/// pool closes it instead of lending it again. Checking after a failure, instead of pinging at every
/// check-out, spares each request a round trip; the cost is one refused request per connection that a
/// database restart cut, after which the pool opens fresh ones.
pub struct Pooled {
    conn: DbConnection,
    lost: bool,
}

impl Pooled {
    /// Runs `f` on the connection and, when it fails as a lost connection would (503 or 500), checks
    /// whether the connection still answers.
    pub fn run<T, E: Failure>(&mut self, f: impl FnOnce(&mut DbConnection) -> Result<T, E>) -> Result<T, E> {
        let result = f(&mut self.conn);
        if let Err(error) = &result
            && error.may_mean_lost_connection()
            && self.conn.ping().is_err()
        {
            tracing::warn!("a database connection stopped answering; closing it");
            self.lost = true;
        }
        result
    }
}

impl std::ops::Deref for Pooled {
    type Target = DbConnection;

    fn deref(&self) -> &DbConnection {
        &self.conn
    }
}

impl std::ops::DerefMut for Pooled {
    fn deref_mut(&mut self) -> &mut DbConnection {
        &mut self.conn
    }
}

impl ManageConnection for Manager {
    type Connection = Pooled;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<Pooled, r2d2::Error> {
        self.establish().map(|conn| Pooled { conn, lost: false })
    }

    fn is_valid(&self, pooled: &mut Pooled) -> Result<(), r2d2::Error> {
        pooled.conn.ping().map_err(r2d2::Error::QueryError)
    }

    fn has_broken(&self, pooled: &mut Pooled) -> bool {
        pooled.lost || pooled.conn.is_broken()
    }
}

/// Runs `f` in one write transaction: `BEGIN IMMEDIATE` on SQLite, so a transaction that reads before it
/// writes takes the write lock first and waits for it (a deferred one fails with "database is locked").
pub fn write_transaction<T, E, F>(conn: &mut DbConnection, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConnection) -> Result<T, E>,
    E: From<Error>,
{
    let database = |error: diesel::result::Error| E::from(Error::from(error));
    if matches!(conn, DbConnection::Postgres(_)) {
        return conn.transaction(|c| f(c).map_err(Rollback::Because)).map_err(|rollback| match rollback {
            Rollback::Because(error) => error,
            Rollback::Database(error) => database(error),
        });
    }
    sqlite_inner(conn, |c| AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE")).map_err(database)?;
    match f(conn) {
        Ok(value) => {
            sqlite_inner(conn, AnsiTransactionManager::commit_transaction).map_err(database)?;
            Ok(value)
        }
        Err(error) => {
            sqlite_inner(conn, AnsiTransactionManager::rollback_transaction).map_err(database)?;
            Err(error)
        }
    }
}

/// Why diesel rolled a transaction back: the closure's own error, or the database's.
enum Rollback<E> {
    Because(E),
    Database(diesel::result::Error),
}

impl<E> From<diesel::result::Error> for Rollback<E> {
    fn from(error: diesel::result::Error) -> Self {
        Self::Database(error)
    }
}

fn sqlite_inner(conn: &mut DbConnection, op: impl FnOnce(&mut SqliteConnection) -> QueryResult<()>) -> QueryResult<()> {
    match conn {
        DbConnection::Sqlite(inner) => op(inner),
        DbConnection::Postgres(_) => unreachable!("only called for SQLite"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scheme_picks_the_backend_and_anything_else_is_refused() {
        let ok = [
            ("sqlite://data/portal.db", DatabaseUrl::Sqlite("data/portal.db".into())),
            ("sqlite:portal.db", DatabaseUrl::Sqlite("portal.db".into())),
            ("./data/portal.db", DatabaseUrl::Sqlite("./data/portal.db".into())),
            ("/var/lib/portal.db", DatabaseUrl::Sqlite("/var/lib/portal.db".into())),
            ("postgres://u:p@db:5432/portal", DatabaseUrl::Postgres("postgres://u:p@db:5432/portal".into())),
            ("postgresql://db/portal", DatabaseUrl::Postgres("postgresql://db/portal".into())),
        ];
        for (text, expected) in ok {
            assert_eq!(DatabaseUrl::parse(text), Ok(expected), "{text}");
        }
        let bad = [
            ("", DatabaseUrlError::Empty),
            ("sqlite://", DatabaseUrlError::NoSqlitePath),
            ("sqlite://:memory:", DatabaseUrlError::NoSqlitePath),
            ("mysql://db/portal", DatabaseUrlError::UnknownScheme("mysql".into())),
            ("postgress://db/portal", DatabaseUrlError::UnknownScheme("postgress".into())),
        ];
        for (text, expected) in bad {
            assert_eq!(DatabaseUrl::parse(text), Err(expected), "{text}");
        }
        assert!(matches!(DatabaseUrl::parse("postgres://"), Err(DatabaseUrlError::BadPostgres(_))));
        assert!(matches!(DatabaseUrl::parse("postgres://host"), Err(DatabaseUrlError::BadPostgres(_))));
    }

    #[test]
    fn logs_never_see_the_database_password() {
        let url = DatabaseUrl::parse("postgres://portal:s3cret@db:5432/portal").unwrap();
        assert_eq!(url.redacted(), "postgres://portal:****@db:5432/portal");
    }
}
