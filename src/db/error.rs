//! What the database said, in the service's own words: callers learn that a row is missing or a unique
//! constraint was hit without knowing diesel, and decide what that means for their operation.

use diesel::result::{DatabaseErrorKind, Error as DieselError};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("no such row")]
    NotFound,
    /// A unique constraint refused the write: PostgreSQL's constraint name, or SQLite's `table.column`
    /// list (SQLite names no constraint).
    #[error("unique constraint `{constraint}` violated")]
    UniqueViolation { constraint: String },
    /// The database cannot be reached, or is too busy to answer in time.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// A stored value the code cannot read: damaged data, logged with where it was found.
    #[error("damaged data in {table} row {id}: {reason}")]
    Damaged { table: &'static str, id: i64, reason: String },
    #[error(transparent)]
    Other(anyhow::Error),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn damaged(table: &'static str, id: i64, reason: impl std::fmt::Display) -> Self {
        Self::Damaged { table, id, reason: reason.to_string() }
    }

    /// Something that must not happen in a consistent database, e.g. a reservation released twice.
    pub fn inconsistent(message: impl std::fmt::Display) -> Self {
        Self::Other(anyhow::anyhow!("{message}"))
    }

    /// Whether this is the unique violation of `constraint` (a PostgreSQL constraint name or, for SQLite,
    /// one of the columns it names, e.g. `companies.credit_code`).
    pub fn violates(&self, constraint_or_column: &str) -> bool {
        matches!(self, Self::UniqueViolation { constraint } if constraint.split(", ").any(|c| c == constraint_or_column))
    }

    /// Whether the connection may have been lost, so the pool should check it before lending it again.
    pub fn may_mean_lost_connection(&self) -> bool {
        matches!(self, Self::Unavailable(_) | Self::Other(_))
    }
}

impl From<DieselError> for Error {
    fn from(error: DieselError) -> Self {
        match error {
            DieselError::NotFound => Self::NotFound,
            DieselError::DatabaseError(
                DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
                info,
            ) => Self::Unavailable(info.message().to_owned()),
            DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
                let constraint = info.constraint_name().map_or_else(
                    || info.message().trim_start_matches("UNIQUE constraint failed: ").to_owned(),
                    str::to_owned,
                );
                Self::UniqueViolation { constraint }
            }
            DieselError::DatabaseError(_, ref info) if info.message().contains("database is locked") => {
                Self::Unavailable(info.message().to_owned())
            }
            other => Self::Other(other.into()),
        }
    }
}

impl From<diesel::r2d2::PoolError> for Error {
    fn from(error: diesel::r2d2::PoolError) -> Self {
        Self::Unavailable(error.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_database_that_went_away_is_unavailable() {
        let closed =
            DieselError::DatabaseError(DatabaseErrorKind::ClosedConnection, Box::new("server closed".to_owned()));
        assert!(matches!(Error::from(closed), Error::Unavailable(_)));
        assert!(matches!(Error::from(DieselError::NotFound), Error::NotFound));
        let other = DieselError::DatabaseError(DatabaseErrorKind::Unknown, Box::new("syntax error".to_owned()));
        assert!(matches!(Error::from(other), Error::Other(_)));
    }

    #[test]
    fn sqlites_unique_violation_names_its_columns() {
        let sqlite = DieselError::DatabaseError(
            DatabaseErrorKind::UniqueViolation,
            Box::new("UNIQUE constraint failed: companies.credit_code".to_owned()),
        );
        let error = Error::from(sqlite);
        assert!(error.violates("companies.credit_code"), "{error}");
        assert!(!error.violates("users.email"));
    }
}
