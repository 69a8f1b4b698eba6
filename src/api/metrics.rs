//! `GET /metrics` for Prometheus, with `Authorization: Bearer <telemetry.metrics_token>`. It is not part of
//! the API document (it answers text, to operators, not to the portal's users) and it is registered only
//! when a token is set: without one the path is unknown (404), like any other.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

use crate::app::operations;
use crate::auth::password::Passwords;
use crate::config::PortalSettings;
use crate::db::Db;
use crate::error::ApiError;
use crate::i18n::Text;
use crate::metrics::{self, HttpMetrics, Scrape};

pub const PATH: &str = "/metrics";
const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The token a scrape must present, kept as its SHA-256: comparing digests takes the same time whatever
/// the presented token shares with the real one.
#[derive(Debug)]
pub struct MetricsToken([u8; 32]);

impl MetricsToken {
    /// `None` when the setting is empty: the service then has no `/metrics`.
    pub fn from_setting(token: &SecretString) -> Option<Self> {
        let token = token.expose_secret();
        (!token.is_empty()).then(|| Self(Sha256::digest(token.as_bytes()).into()))
    }

    fn admits(&self, req: &HttpRequest) -> bool {
        let presented = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim);
        presented.is_some_and(|token| <[u8; 32]>::from(Sha256::digest(token.as_bytes())) == self.0)
    }
}

/// Every figure in the Prometheus text format. The database's figures come from one read; when the
/// database does not answer, the rest is still reported with `portal_database_up 0`.
pub async fn scrape(
    req: HttpRequest,
    token: web::Data<MetricsToken>,
    http: web::Data<HttpMetrics>,
    db: web::Data<Db>,
    passwords: web::Data<Passwords>,
    portal: web::Data<PortalSettings>,
) -> Result<HttpResponse, ApiError> {
    if !token.admits(&req) {
        return Err(ApiError::Unauthenticated {
            code: "unauthenticated",
            detail: Text::new("需要监控令牌。", "The metrics token is required."),
        });
    }
    let backlog = match operations::backlog(&db, portal.utc_offset).await {
        Ok(backlog) => Some(backlog),
        Err(error) => {
            tracing::warn!(%error, "metrics: the database did not answer");
            None
        }
    };
    let body = metrics::render(&Scrape {
        http: &http,
        pool: db.stats(),
        pool_wait: db.pool_wait(),
        hashes: passwords.stats(),
        backlog,
    });
    Ok(HttpResponse::Ok().content_type(CONTENT_TYPE).insert_header((header::CACHE_CONTROL, "no-store")).body(body))
}
