//! Who is calling: the `SignedIn` extractor checks the access token and, in the database, its session.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};

use crate::api::middleware::RequestContext;
pub use crate::app::SignedIn;
use crate::app::mfa::Policy;
use crate::auth::tokens::{Tokens, invalid_token};
use crate::db::{Db, DbConnection, users};
use crate::domain::time;
use crate::error::ApiError;

/// A caller whose access token is valid and whose session is still to be checked. [`Bearer::read`]
/// checks it on the connection the handler reads with: one check-out and one trip to the blocking pool
/// instead of two, for the most requested reads.
#[derive(Debug, Clone)]
pub struct Bearer {
    user_id: i64,
    session_id: i64,
    /// The id of the request it came with.
    request: String,
    /// Who must have a second factor, unless the route is one of those open before enrolment.
    second_factor: Option<web::Data<Policy>>,
}

/// What a user who must set a second factor up may still do: read their account, set the factor up, and
/// sign out.
fn open_before_enrolment(req: &HttpRequest) -> bool {
    let pattern = req.match_pattern();
    match pattern.as_deref() {
        Some("/api/v1/me") => req.method() == actix_web::http::Method::GET,
        Some("/api/v1/auth/logout") => true,
        Some(path) => path.starts_with("/api/v1/me/mfa/"),
        None => false,
    }
}

impl Bearer {
    /// Runs `f` as `db.read` does, once the session is found live and the user active; 401 otherwise.
    pub async fn read<T, F>(self, db: &Db, f: F) -> Result<T, ApiError>
    where
        F: FnOnce(&mut DbConnection, SignedIn) -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        db.read(move |conn| {
            let caller = users::caller_of_live_session(conn, self.user_id, self.session_id, time::now())?
                .ok_or_else(invalid_token)?;
            let (role, company_id) = (caller.role, caller.company_id);
            if let Some(policy) = &self.second_factor {
                policy.check(role, caller.mfa_enabled)?;
            }
            let signed_in = SignedIn {
                user_id: self.user_id,
                role,
                company_id,
                session_id: self.session_id,
                request_id: self.request,
            };
            f(conn, signed_in)
        })
        .await
    }
}

impl FromRequest for Bearer {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(bearer(req))
    }
}

fn bearer(req: &HttpRequest) -> Result<Bearer, ApiError> {
    let tokens = req
        .app_data::<web::Data<Tokens>>()
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("tokens missing from app data")))?;
    let token = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or_else(invalid_token)?;
    let claims = tokens.verify(token.trim())?;
    let user_id = claims.sub.parse().map_err(|_| invalid_token())?;
    let request_id = req.extensions().get::<RequestContext>().map(|c| c.id.clone()).unwrap_or_default();
    let second_factor = if open_before_enrolment(req) { None } else { req.app_data::<web::Data<Policy>>().cloned() };
    Ok(Bearer { user_id, session_id: claims.sid, request: request_id, second_factor })
}

impl FromRequest for SignedIn {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let bearer = bearer(req);
        let db = req.app_data::<web::Data<Db>>().cloned();
        Box::pin(async move {
            let db = db.ok_or_else(|| ApiError::Internal(anyhow::anyhow!("database missing from app data")))?;
            bearer?.read(&db, |_, user| Ok(user)).await
        })
    }
}
