//! Who is calling: the `SignedIn` extractor checks the access token and, in the database, its session.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};

use crate::api::middleware::RequestContext;
use crate::auth::tokens::{Tokens, invalid_token};
use crate::db::{Db, users};
use crate::domain::audit::Actor;
use crate::domain::role::Role;
use crate::domain::time;
use crate::error::ApiError;
use crate::i18n::Text;

#[derive(Debug, Clone)]
pub struct SignedIn {
    pub user_id: i64,
    pub role: Role,
    pub company_id: Option<i64>,
    pub session_id: i64,
}

impl SignedIn {
    /// The caller as the audit trail names them.
    pub fn actor(&self, context: &RequestContext) -> Actor {
        Actor { user_id: Some(self.user_id), role: Some(self.role), request_id: Some(context.id.clone()) }
    }

    /// The caller's company; staff have none, so a company route answers them 403.
    pub fn company_id(&self) -> Result<i64, ApiError> {
        self.require(&[Role::Applicant])?;
        self.company_id.ok_or_else(|| ApiError::Internal(anyhow::anyhow!("applicant {} has no company", self.user_id)))
    }

    /// 403 unless the caller has one of `roles`.
    pub fn require(&self, roles: &[Role]) -> Result<(), ApiError> {
        if roles.contains(&self.role) {
            Ok(())
        } else {
            Err(ApiError::Forbidden {
                code: "forbidden",
                detail: Text::new("您的账号无权执行此操作。", "Your account may not do this."),
            })
        }
    }
}

impl FromRequest for SignedIn {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let token = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(|t| t.trim().to_owned());
        let tokens = req.app_data::<web::Data<Tokens>>().cloned();
        let db = req.app_data::<web::Data<Db>>().cloned();
        Box::pin(async move {
            let (Some(tokens), Some(db)) = (tokens, db) else {
                return Err(ApiError::Internal(anyhow::anyhow!("tokens or database missing from app data")));
            };
            let claims = tokens.verify(&token.ok_or_else(invalid_token)?)?;
            let user_id: i64 = claims.sub.parse().map_err(|_| invalid_token())?;
            let session_id = claims.sid;
            let user = db
                .read(move |conn| users::find_by_live_session(conn, user_id, session_id, time::now()))
                .await?
                .ok_or_else(invalid_token)?;
            Ok(SignedIn { user_id, role: user.role()?, company_id: user.company_id, session_id })
        })
    }
}
