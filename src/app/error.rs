//! What a use case answers when it does not succeed: a refusal the caller can act on, or a failure of the
//! service itself. Either way nothing was committed.

use crate::auth::password::HashError;
use crate::db;
use crate::domain::error::Error as Refusal;
use crate::i18n::Text;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Refused(#[from] Refusal),
    /// The request itself is unusable, e.g. a payment without its Idempotency-Key.
    #[error("malformed request: {}", .0.en)]
    Malformed(Text),
    /// The database (or another service the operation needs) cannot be reached now; try again.
    #[error("unavailable: {0}")]
    Unavailable(String),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<db::Error> for Error {
    fn from(error: db::Error) -> Self {
        match error {
            db::Error::NotFound => Self::Refused(Refusal::NotFound),
            db::Error::UniqueViolation { .. } => {
                Self::Refused(Refusal::conflict("conflict", Text::new("该记录已存在。", "This already exists.")))
            }
            db::Error::Unavailable(message) => Self::Unavailable(message),
            damaged @ db::Error::Damaged { .. } => Self::Internal(anyhow::Error::new(damaged)),
            db::Error::Other(error) => Self::Internal(error),
        }
    }
}

impl From<HashError> for Error {
    fn from(error: HashError) -> Self {
        match error {
            HashError::Busy => Self::Unavailable("the password checks are busy".to_owned()),
            HashError::Failed(error) => Self::Internal(error),
        }
    }
}

impl db::Failure for Error {
    fn may_mean_lost_connection(&self) -> bool {
        matches!(self, Self::Unavailable(_) | Self::Internal(_))
    }
}
