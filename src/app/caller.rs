//! Who asks for an operation: a signed-in user with a live session, as either edge found them.

use crate::domain::audit::Actor;
use crate::domain::error::Error as Refusal;
use crate::domain::role::Role;
use crate::i18n::Text;

#[derive(Debug, Clone)]
pub struct SignedIn {
    pub user_id: i64,
    pub role: Role,
    pub company_id: Option<i64>,
    pub session_id: i64,
    /// The request this operation serves, for the audit trail and the logs.
    pub request_id: String,
}

impl SignedIn {
    /// The caller as the audit trail names them.
    pub fn actor(&self) -> Actor {
        Actor { user_id: Some(self.user_id), role: Some(self.role), request_id: Some(self.request_id.clone()) }
    }

    /// The caller's company; staff have none, so a company operation refuses them.
    pub fn company_id(&self) -> Result<i64, crate::app::Error> {
        self.require(&[Role::Applicant])?;
        self.company_id
            .ok_or_else(|| crate::app::Error::Internal(anyhow::anyhow!("applicant {} has no company", self.user_id)))
    }

    /// Refused unless the caller has one of `roles`.
    pub fn require(&self, roles: &[Role]) -> Result<(), Refusal> {
        if roles.contains(&self.role) {
            Ok(())
        } else {
            Err(Refusal::forbidden(Text::new("您的账号无权执行此操作。", "Your account may not do this.")))
        }
    }
}

/// Nobody signed in: a registration, a login, an objection from the public.
pub fn anonymous(request_id: &str) -> Actor {
    Actor { user_id: None, role: None, request_id: Some(request_id.to_owned()) }
}
