//! Idempotency-Keys: an operation sent again with the same key runs at most once, and the retry gets the
//! first answer. No HTTP here: an edge reads the key wherever its requests carry it, says how its answers
//! are written down ([`Replies`]), and gives a stored answer back as it was.

use chrono::NaiveDateTime;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::app::{Error, Result};
use crate::db::idempotency::{self, Earlier};
use crate::db::{self, Db, DbConnection};
use crate::domain::error::{Error as Refusal, FieldError};
use crate::domain::time;
use crate::i18n::Text;

/// A caller's key for one operation: 1 to 255 characters, surrounding spaces ignored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key(String);

impl Key {
    pub const MAX_LEN: usize = 255;

    pub fn parse(raw: &str) -> Option<Self> {
        let key = raw.trim();
        (!key.is_empty() && key.len() <= Self::MAX_LEN).then(|| Self(key.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A keyed request: its key (if it came with a usable one) and a digest of what it asks, so that a key
/// reused for a different request is told apart from a retry.
#[derive(Debug, Clone)]
pub struct Keyed {
    pub key: Option<Key>,
    pub fingerprint: String,
}

impl Keyed {
    /// `operation` and `target` name what is asked (e.g. a method and a path), `input` is what it carries.
    pub fn new(key: Option<Key>, operation: &str, target: &str, input: &impl Serialize) -> Self {
        let mut hasher = Sha256::new();
        hasher.update(operation);
        hasher.update(target);
        hasher.update(serde_json::to_vec(input).expect("requests serialise"));
        Self { key, fingerprint: hex::encode(hasher.finalize()) }
    }

    /// The request with its key, or the refusal an edge shows as a malformed request. A use case calls it
    /// after its access check and before it validates the input.
    pub fn check(self) -> Result<Request> {
        let key = self.key.ok_or_else(|| {
            Error::Malformed(Text::new(
                "请在 Idempotency-Key 请求头中提供本次付款的唯一标识（1–255 个字符），重试时使用同一标识。",
                "Send an Idempotency-Key header (1 to 255 characters) unique to this payment, and the same one on every retry.",
            ))
        })?;
        Ok(Request { key, fingerprint: self.fingerprint })
    }
}

/// A keyed request whose key is there.
#[derive(Debug, Clone)]
pub struct Request {
    key: Key,
    fingerprint: String,
}

/// An answer as an edge wrote it down, given again as it is to every retry with the same key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    pub status: u16,
    pub body: String,
}

/// How an edge writes down its answers to a keyed request: the success it will send, and a refusal in
/// the caller's words.
pub trait Replies: Clone + Send + 'static {
    fn created<T: Serialize>(&self, value: &T) -> Stored;
    fn refused(&self, refusal: &Refusal) -> Stored;
}

/// What a keyed operation answers: its result, or the answer an earlier request with the key got.
#[derive(Debug)]
pub enum Answer<T> {
    New(T),
    Replay(Stored),
}

/// Runs `work` once per key: as one transaction that also takes the key and stores the answer, so a key is
/// never held by a request that did not commit. A retry gets the stored answer; a retry racing the first
/// request waits for it (on SQLite the write lock, on PostgreSQL the key's unique index) and then gets its
/// answer. A refusal is stored as the key's answer too (but see [`run_checked`]); an outage stores nothing,
/// so a retry runs again.
pub async fn run<T, R, F>(db: &Db, user_id: i64, request: Request, replies: R, work: F) -> Result<Answer<T>>
where
    T: Serialize + Send + 'static,
    R: Replies,
    F: FnOnce(&mut DbConnection, &Key) -> Result<T> + Send + 'static,
{
    run_checked(db, user_id, request, replies, |_| Ok(()), move |conn, key, ()| work(conn, key)).await
}

/// [`run`], with `check` first in the keyed transaction, once the key is taken. `check` refuses what
/// someone can put right without changing the request (e.g. an account not confirmed yet): its refusal is
/// answered but not stored, so the same key runs again once it is put right. What it answers goes to `work`.
pub async fn run_checked<C, T, R, K, F>(
    db: &Db,
    user_id: i64,
    request: Request,
    replies: R,
    check: K,
    work: F,
) -> Result<Answer<T>>
where
    T: Serialize + Send + 'static,
    R: Replies,
    K: FnOnce(&mut DbConnection) -> Result<C> + Send + 'static,
    F: FnOnce(&mut DbConnection, &Key, C) -> Result<T> + Send + 'static,
{
    let Request { key, fingerprint } = request;
    if let Some(earlier) = answered(db, user_id, &key).await? {
        return replay(earlier, &fingerprint);
    }
    let (work_key, work_fingerprint, writer) = (key.clone(), fingerprint.clone(), replies.clone());
    let done = db
        .write(move |conn| {
            let now = time::now();
            take(conn, user_id, &work_key, &work_fingerprint, now)?;
            let checked = check(conn).map_err(Attempt::NotNow)?;
            let value = work(conn, &work_key, checked).map_err(Attempt::Failed)?;
            let answer = writer.created(&value);
            idempotency::answer(conn, user_id, work_key.as_str(), answer.status, &answer.body, now)?;
            Ok(value)
        })
        .await;
    let refusal = match done {
        Ok(value) => return Ok(Answer::New(value)),
        Err(Attempt::KeyTaken) => return replay_committed(db, user_id, &key, &fingerprint).await,
        Err(Attempt::Failed(Error::Refused(refusal))) => refusal,
        Err(Attempt::NotNow(error) | Attempt::Failed(error)) => return Err(error),
    };
    let Stored { status, body } = replies.refused(&refusal);
    let (refused_key, refused_fingerprint) = (key.clone(), fingerprint.clone());
    let stored = db
        .write(move |conn| {
            let now = time::now();
            take(conn, user_id, &refused_key, &refused_fingerprint, now)?;
            idempotency::answer(conn, user_id, refused_key.as_str(), status, &body, now)?;
            Ok(())
        })
        .await;
    match stored {
        Ok(()) => Err(refusal.into()),
        Err(Attempt::KeyTaken) => replay_committed(db, user_id, &key, &fingerprint).await,
        Err(Attempt::NotNow(error) | Attempt::Failed(error)) => Err(error),
    }
}

/// Why a keyed transaction did not commit.
enum Attempt {
    /// Another request with the key committed first.
    KeyTaken,
    /// The check refused: answered, not stored.
    NotNow(Error),
    Failed(Error),
}

impl From<db::Error> for Attempt {
    fn from(error: db::Error) -> Self {
        Self::Failed(error.into())
    }
}

impl db::Failure for Attempt {
    fn may_mean_lost_connection(&self) -> bool {
        matches!(self, Self::Failed(error) | Self::NotNow(error) if error.may_mean_lost_connection())
    }
}

fn take(
    conn: &mut DbConnection,
    user_id: i64,
    key: &Key,
    fingerprint: &str,
    now: NaiveDateTime,
) -> Result<(), Attempt> {
    idempotency::take(conn, user_id, key.as_str(), fingerprint, now).map_err(|error| match error {
        db::Error::UniqueViolation { .. } => Attempt::KeyTaken,
        other => other.into(),
    })
}

async fn answered(db: &Db, user_id: i64, key: &Key) -> Result<Option<Earlier>> {
    let key = key.clone();
    Ok(db.read(move |conn| idempotency::find(conn, user_id, key.as_str())).await?)
}

/// The answer of the request that took the key first.
async fn replay_committed<T>(db: &Db, user_id: i64, key: &Key, fingerprint: &str) -> Result<Answer<T>> {
    let earlier = answered(db, user_id, key)
        .await?
        .ok_or_else(|| Error::Internal(anyhow::anyhow!("an Idempotency-Key was taken but holds no answer")))?;
    replay(earlier, fingerprint)
}

fn replay<T>(earlier: Earlier, fingerprint: &str) -> Result<Answer<T>> {
    if earlier.fingerprint != fingerprint {
        return Err(Refusal::Invalid {
            code: "idempotency_key_reused",
            detail: Text::new(
                "该 Idempotency-Key 已用于另一笔不同的请求；新的付款请使用新的标识。",
                "This Idempotency-Key was used for a different request; use a new key for a new payment.",
            ),
            errors: vec![FieldError::new("Idempotency-Key", "reused", Text::new("标识已被使用。", "Already used."))],
        }
        .into());
    }
    Ok(Answer::Replay(Stored { status: earlier.status, body: earlier.body }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_has_one_to_255_characters_without_surrounding_spaces() {
        assert_eq!(Key::parse("  k-1 ").map(|k| k.as_str().to_owned()), Some("k-1".to_owned()));
        assert_eq!(Key::parse("   "), None);
        assert_eq!(Key::parse(&"x".repeat(256)), None);
        assert!(Key::parse(&"x".repeat(255)).is_some());
    }

    #[test]
    fn the_same_request_has_the_same_fingerprint_and_another_does_not() {
        let first = Keyed::new(None, "POST", "/a", &1);
        assert_eq!(first.fingerprint, Keyed::new(None, "POST", "/a", &1).fingerprint);
        assert_ne!(first.fingerprint, Keyed::new(None, "POST", "/a", &2).fingerprint);
        assert_ne!(first.fingerprint, Keyed::new(None, "POST", "/b", &1).fingerprint);
    }
}
