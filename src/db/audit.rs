//! Appending to and checking the audit trail.

use std::sync::OnceLock;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use super::DbConnection;
use super::schema::{audit_events, audit_head};
use crate::db::error::{Error, Result};
use crate::domain::audit::{Actor, CanonicalEvent, GENESIS_HASH, Seal};
use crate::domain::time;

/// What happened, to what; `summary` names what changed and never holds a secret.
#[derive(Debug, Clone)]
pub struct Event {
    pub action: &'static str,
    pub object_type: &'static str,
    pub object_id: Option<i64>,
    pub summary: serde_json::Value,
}

impl Event {
    pub fn new(action: &'static str, object_type: &'static str, object_id: i64, summary: serde_json::Value) -> Self {
        Self { action, object_type, object_id: Some(object_id), summary }
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Serialize, utoipa::ToSchema)]
#[diesel(table_name = audit_events)]
pub struct EventRow {
    pub seq: i64,
    pub occurred_at: NaiveDateTime,
    pub actor_id: Option<i64>,
    pub actor_role: Option<String>,
    pub action: String,
    pub object_type: String,
    pub object_id: Option<i64>,
    pub summary: String,
    pub request_id: Option<String>,
    pub prev_hash: String,
    pub hash: String,
}

impl EventRow {
    fn canonical(&self) -> CanonicalEvent<'_> {
        CanonicalEvent {
            seq: self.seq,
            occurred_at: self.occurred_at,
            actor_id: self.actor_id,
            actor_role: self.actor_role.as_deref(),
            action: &self.action,
            object_type: &self.object_type,
            object_id: self.object_id,
            summary: &self.summary,
            request_id: self.request_id.as_deref(),
        }
    }
}

/// The key this process seals and checks the chain with (`audit.chain_key`), set once at start-up.
static CHAIN_KEY: OnceLock<Vec<u8>> = OnceLock::new();

/// Sets the chain key for this process; every instance of a deployment has the same one.
pub fn use_chain_key(key: &[u8]) -> Result<()> {
    if CHAIN_KEY.get_or_init(|| key.to_vec()) != key {
        return Err(Error::inconsistent("a process seals the audit chain with one key only"));
    }
    Ok(())
}

/// How the event at `seq` is sealed, in a chain keyed from `keyed_from` on.
fn seal(seq: i64, keyed_from: Option<i64>) -> Result<Seal<'static>> {
    if keyed_from.is_none_or(|from| seq < from) {
        return Ok(Seal::Plain);
    }
    let key = CHAIN_KEY.get().ok_or_else(|| {
        Error::inconsistent("the audit chain is keyed: audit.chain_key (APP_AUDIT__CHAIN_KEY) must be set")
    })?;
    Ok(Seal::Keyed(key))
}

/// Appends `event` in the caller's transaction. Taking the chain's head row first serialises appends, so
/// two transactions can never both extend the same hash.
pub fn append(conn: &mut DbConnection, actor: &Actor, event: Event) -> Result<i64> {
    let (seq, prev_hash, keyed_from): (i64, String, Option<i64>) = diesel::update(audit_head::table.find(1))
        .set(audit_head::seq.eq(audit_head::seq + 1))
        .returning((audit_head::seq, audit_head::hash, audit_head::keyed_from))
        .get_result(conn)
        .optional()?
        .ok_or_else(|| Error::inconsistent("the audit chain has no head row"))?;
    let seal = seal(seq, keyed_from)?;
    let Event { action, object_type, object_id, summary } = event;
    let row = EventRow {
        seq,
        occurred_at: time::now(),
        actor_id: actor.user_id,
        actor_role: actor.role.map(|r| r.as_str().to_owned()),
        action: action.to_owned(),
        object_type: object_type.to_owned(),
        object_id,
        summary: summary.to_string(),
        request_id: actor.request_id.clone(),
        hash: String::new(),
        prev_hash,
    };
    let hash = row.canonical().chain_hash(&row.prev_hash, seal);
    diesel::insert_into(audit_events::table)
        .values((
            audit_events::seq.eq(row.seq),
            audit_events::occurred_at.eq(row.occurred_at),
            audit_events::actor_id.eq(row.actor_id),
            audit_events::actor_role.eq(&row.actor_role),
            audit_events::action.eq(&row.action),
            audit_events::object_type.eq(&row.object_type),
            audit_events::object_id.eq(row.object_id),
            audit_events::summary.eq(&row.summary),
            audit_events::request_id.eq(&row.request_id),
            audit_events::prev_hash.eq(&row.prev_hash),
            audit_events::hash.eq(&hash),
        ))
        .execute(conn)?;
    diesel::update(audit_head::table.find(1)).set(audit_head::hash.eq(&hash)).execute(conn)?;
    Ok(seq)
}

/// Keys the chain from the next event on, once, when this process has a chain key and the chain is not
/// keyed yet. The change is itself an event, sealed plainly, so anyone can see where the key applies from.
pub fn key_the_chain(conn: &mut DbConnection, actor: &Actor) -> Result<()> {
    if CHAIN_KEY.get().is_none() {
        return Ok(());
    }
    // The same no-op update as an append: it takes the head row, so two instances cannot both key the chain.
    diesel::update(audit_head::table.find(1)).set(audit_head::seq.eq(audit_head::seq)).execute(conn)?;
    let keyed_from: Option<i64> = audit_head::table.find(1).select(audit_head::keyed_from).first(conn)?;
    if keyed_from.is_some() {
        return Ok(());
    }
    let marker = Event {
        action: "audit.chain_keyed",
        object_type: "audit",
        object_id: None,
        summary: serde_json::json!({ "from": "the next event" }),
    };
    let seq = append(conn, actor, marker)?;
    diesel::update(audit_head::table.find(1)).set(audit_head::keyed_from.eq(seq + 1)).execute(conn)?;
    Ok(())
}

/// The chain's head, to be kept outside the database: `portal audit anchor` prints it, and a later head that
/// does not descend from it shows that history was rewritten.
#[derive(Debug, Clone, Serialize)]
pub struct Anchor {
    pub seq: i64,
    pub hash: String,
    pub occurred_at: Option<NaiveDateTime>,
}

pub fn anchor(conn: &mut DbConnection) -> Result<Anchor> {
    let (seq, hash): (i64, String) =
        audit_head::table.find(1).select((audit_head::seq, audit_head::hash)).first(conn)?;
    let occurred_at = audit_events::table.find(seq).select(audit_events::occurred_at).first(conn).optional()?;
    Ok(Anchor { seq, hash, occurred_at })
}

#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub object_type: Option<String>,
    pub object_id: Option<i64>,
    pub actor_id: Option<i64>,
    pub action: Option<String>,
}

/// Events newest first from `start`: up to `limit` + 1 (the extra one tells that more follow), with the total.
pub fn list(
    conn: &mut DbConnection,
    filter: &Filter,
    start: super::Start<i64>,
    limit: i64,
) -> Result<(Vec<EventRow>, i64)> {
    let query = || {
        let mut query = audit_events::table.into_boxed();
        if let Some(object_type) = &filter.object_type {
            query = query.filter(audit_events::object_type.eq(object_type.clone()));
        }
        if let Some(object_id) = filter.object_id {
            query = query.filter(audit_events::object_id.eq(object_id));
        }
        if let Some(actor_id) = filter.actor_id {
            query = query.filter(audit_events::actor_id.eq(actor_id));
        }
        if let Some(action) = &filter.action {
            query = query.filter(audit_events::action.eq(action.clone()));
        }
        query
    };
    let total = query().count().get_result(conn)?;
    let page = match start {
        super::Start::Offset(offset) => query().offset(offset),
        super::Start::After(seq) => query().filter(audit_events::seq.lt(seq)),
    };
    let rows = page.order(audit_events::seq.desc()).limit(limit + 1).select(EventRow::as_select()).load(conn)?;
    Ok((rows, total))
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Verification {
    pub valid: bool,
    pub checked: i64,
    /// The first event whose sequence, link or hash is wrong; `null` when the chain is intact.
    pub first_invalid_seq: Option<i64>,
}

const VERIFY_BATCH: i64 = 1000;

/// Recomputes the whole chain, a batch at a time, and names the first event that does not fit.
pub fn verify(conn: &mut DbConnection) -> Result<Verification> {
    let keyed_from: Option<i64> = audit_head::table.find(1).select(audit_head::keyed_from).first(conn)?;
    let mut expected_seq = 1;
    let mut prev_hash = GENESIS_HASH.to_owned();
    let mut checked = 0;
    loop {
        let batch: Vec<EventRow> = audit_events::table
            .filter(audit_events::seq.ge(expected_seq))
            .order(audit_events::seq.asc())
            .limit(VERIFY_BATCH)
            .select(EventRow::as_select())
            .load(conn)?;
        let done = i64::try_from(batch.len()).unwrap_or(i64::MAX) < VERIFY_BATCH;
        for row in batch {
            let intact = row.seq == expected_seq
                && row.prev_hash == prev_hash
                && row.canonical().chain_hash(&prev_hash, seal(row.seq, keyed_from)?) == row.hash;
            if !intact {
                return Ok(Verification { valid: false, checked, first_invalid_seq: Some(expected_seq) });
            }
            checked += 1;
            expected_seq += 1;
            prev_hash = row.hash;
        }
        if done {
            break;
        }
    }
    let (head_seq, head_hash): (i64, String) =
        audit_head::table.find(1).select((audit_head::seq, audit_head::hash)).first(conn)?;
    if head_seq != checked || head_hash != prev_hash {
        // Events at the end of the chain are missing.
        return Ok(Verification { valid: false, checked, first_invalid_seq: Some(expected_seq) });
    }
    Ok(Verification { valid: true, checked, first_invalid_seq: None })
}

/// Every event of one object, oldest first.
pub fn of_object(conn: &mut DbConnection, object_type: &str, object_id: i64) -> Result<Vec<EventRow>> {
    Ok(audit_events::table
        .filter(audit_events::object_type.eq(object_type))
        .filter(audit_events::object_id.eq(object_id))
        .order(audit_events::seq.asc())
        .select(EventRow::as_select())
        .load(conn)?)
}
