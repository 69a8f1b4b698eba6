//! The audit trail's chain: `hash = SHA-256(prev_hash ‖ canonical event)`, so changing, removing or
//! reordering any event breaks every hash after it; from the event where the chain is keyed on,
//! `hash = HMAC-SHA-256(chain key, prev_hash ‖ canonical event)`, so rewriting history needs the key too.

use chrono::NaiveDateTime;
use hmac::{Hmac, Mac};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::domain::role::Role;

/// The `prev_hash` of the first event.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Who did something, and in which request.
#[derive(Debug, Clone, Default)]
pub struct Actor {
    pub user_id: Option<i64>,
    pub role: Option<Role>,
    pub request_id: Option<String>,
}

/// One event as it is hashed; field order and formats are fixed, so the same event always hashes alike.
#[derive(Debug, Clone, Serialize)]
pub struct CanonicalEvent<'a> {
    pub seq: i64,
    #[serde(serialize_with = "rfc3339_micros")]
    pub occurred_at: NaiveDateTime,
    pub actor_id: Option<i64>,
    pub actor_role: Option<&'a str>,
    pub action: &'a str,
    pub object_type: &'a str,
    pub object_id: Option<i64>,
    pub summary: &'a str,
    pub request_id: Option<&'a str>,
}

fn rfc3339_micros<S: serde::Serializer>(time: &NaiveDateTime, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&time.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string())
}

/// How an event's link is sealed: plainly, or with the chain key.
#[derive(Clone, Copy)]
pub enum Seal<'a> {
    Plain,
    Keyed(&'a [u8]),
}

impl CanonicalEvent<'_> {
    pub fn chain_hash(&self, prev_hash: &str, seal: Seal<'_>) -> String {
        let canonical = serde_json::to_string(self).expect("an event always serialises");
        match seal {
            Seal::Plain => {
                let mut hasher = Sha256::new();
                hasher.update(prev_hash.as_bytes());
                hasher.update(canonical.as_bytes());
                hex::encode(hasher.finalize())
            }
            Seal::Keyed(key) => {
                let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes a key of any length");
                mac.update(prev_hash.as_bytes());
                mac.update(canonical.as_bytes());
                hex::encode(mac.finalize().into_bytes())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(summary: &str) -> CanonicalEvent<'_> {
        CanonicalEvent {
            seq: 1,
            occurred_at: chrono::DateTime::from_timestamp(1_795_000_000, 123_456_000).unwrap().naive_utc(),
            actor_id: Some(7),
            actor_role: Some("admin"),
            action: "user.create",
            object_type: "user",
            object_id: Some(9),
            summary,
            request_id: Some("r-1"),
        }
    }

    #[test]
    fn the_hash_depends_on_the_previous_hash_and_every_field() {
        let base = event("{}").chain_hash(GENESIS_HASH, Seal::Plain);
        assert_eq!(base.len(), 64);
        assert_eq!(base, event("{}").chain_hash(GENESIS_HASH, Seal::Plain), "deterministic");
        assert_ne!(base, event("{\"x\":1}").chain_hash(GENESIS_HASH, Seal::Plain));
        assert_ne!(base, event("{}").chain_hash(&base, Seal::Plain));
        let mut later = event("{}");
        later.occurred_at += chrono::Duration::microseconds(1);
        assert_ne!(base, later.chain_hash(GENESIS_HASH, Seal::Plain));
    }

    #[test]
    fn a_keyed_hash_needs_the_key() {
        let plain = event("{}").chain_hash(GENESIS_HASH, Seal::Plain);
        let keyed = event("{}").chain_hash(GENESIS_HASH, Seal::Keyed(b"the chain key"));
        assert_eq!(keyed.len(), 64);
        assert_ne!(keyed, plain);
        assert_eq!(keyed, event("{}").chain_hash(GENESIS_HASH, Seal::Keyed(b"the chain key")));
        assert_ne!(keyed, event("{}").chain_hash(GENESIS_HASH, Seal::Keyed(b"another key")));
    }
}
