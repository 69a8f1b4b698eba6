//! The audit trail, for administrators: read it, and check that it is intact.

use actix_web::{get, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::api::extract::Query;
use crate::api::pagination::{Page, PageQuery};
use crate::api::session::SignedIn;
use crate::app::audit;
use crate::db::Db;
use crate::db::audit::{EventRow, Filter, Verification};
use crate::domain::time;
use crate::error::ApiError;

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEventView {
    pub seq: i64,
    pub occurred_at: DateTime<Utc>,
    pub actor_id: Option<i64>,
    pub actor_role: Option<String>,
    pub action: String,
    pub object_type: String,
    pub object_id: Option<i64>,
    /// What changed; never a password, token or full bank account.
    #[schema(value_type = Object)]
    pub summary: serde_json::Value,
    pub request_id: Option<String>,
    pub prev_hash: String,
    pub hash: String,
}

impl From<EventRow> for AuditEventView {
    fn from(row: EventRow) -> Self {
        Self {
            summary: serde_json::from_str(&row.summary).unwrap_or(serde_json::Value::String(row.summary)),
            seq: row.seq,
            occurred_at: time::to_utc(row.occurred_at),
            actor_id: row.actor_id,
            actor_role: row.actor_role,
            action: row.action,
            object_type: row.object_type,
            object_id: row.object_id,
            request_id: row.request_id,
            prev_hash: row.prev_hash,
            hash: row.hash,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    pub object_type: Option<String>,
    pub object_id: Option<i64>,
    pub actor_id: Option<i64>,
    pub action: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
    /// The `next_cursor` of the page before: the page after it (`page` is then ignored).
    pub after: Option<String>,
}

/// Events, newest first, page by page or cursor by cursor.
#[utoipa::path(tag = "audit", security(("bearer" = [])), params(AuditQuery),
    responses((status = 200, description = "a page of events", body = Page<AuditEventView>)))]
#[get("/audit-events")]
pub async fn list_audit_events(
    user: SignedIn,
    db: web::Data<Db>,
    query: Query<AuditQuery>,
) -> Result<web::Json<Page<AuditEventView>>, ApiError> {
    // The access check comes before the paging numbers are checked, so a wrong role always gets 403.
    user.require(audit::READERS)?;
    let query = query.into_inner();
    let (page, per_page, start) =
        PageQuery { page: query.page, per_page: query.per_page }.start(query.after.as_deref())?;
    let filter = Filter {
        object_type: query.object_type,
        object_id: query.object_id,
        actor_id: query.actor_id,
        action: query.action,
    };
    let (rows, total) = audit::list(&db, &user, filter, start, per_page).await?;
    Ok(web::Json(Page::of(rows, page, per_page, total, |e| e.seq, Into::into)))
}

/// Recomputes the whole hash chain and names the first event that does not fit.
#[utoipa::path(tag = "audit", security(("bearer" = [])), responses((status = 200, description = "the result", body = Verification)))]
#[get("/audit-events/verify")]
pub async fn verify_audit_chain(user: SignedIn, db: web::Data<Db>) -> Result<web::Json<Verification>, ApiError> {
    Ok(web::Json(audit::verify(&db, &user).await?))
}
