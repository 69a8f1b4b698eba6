//! The workflow's actions on one application: the request as sent, the use case does the rest.

use actix_web::{post, web};
use chrono::Utc;
use serde::Deserialize;
use utoipa::ToSchema;

use crate::api::extract::Json;
use crate::api::session::SignedIn;
use crate::app::applications::ApplicationView;
use crate::app::workflow;
use crate::config::PortalSettings;
use crate::db::Db;
use crate::domain::actions::{ActionInput, Experts};
use crate::domain::time;
use crate::error::ApiError;

/// One workflow action, with the `version` the caller saw and the details the action needs.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(tag = "action", rename_all = "snake_case", deny_unknown_fields)]
pub enum ActionRequest {
    /// The company submits (or resubmits after a return).
    Submit { version: i32 },
    /// The company withdraws.
    Withdraw { version: i32, comment: Option<String> },
    /// A reviewer returns it for correction, with the reason and the working days allowed (the
    /// programme's default when absent).
    Return { version: i32, comment: String, correction_days: Option<u32> },
    /// A reviewer accepts it for expert review, naming experts or drawing some at random.
    Accept { version: i32, expert_ids: Option<Vec<i64>>, draw: Option<u32> },
    /// A reviewer adds experts during expert review, e.g. to replace a recused one.
    Assign { version: i32, expert_ids: Option<Vec<i64>>, draw: Option<u32> },
    /// An assigned expert declares whether they have a conflict of interest.
    Declare { version: i32, conflict_of_interest: bool, statement: Option<String> },
    /// An expert without conflict scores it, 0 to 100, once.
    Score { version: i32, score: i32, opinion: String },
    /// A reviewer proposes the award: it is reserved against the budget and the public notice starts.
    /// With `supersede`, a lower award the company holds in the programme's support family, on which
    /// nothing was paid, is rejected and its reservation released in the same step.
    Propose { version: i32, approved_amount_fen: i64, comment: Option<String>, supersede: Option<bool> },
    /// A reviewer approves once the notice is over and every objection is settled.
    Approve { version: i32, comment: Option<String> },
    /// A reviewer rejects, with the reason; a reservation is released.
    Reject { version: i32, comment: String },
}

impl From<ActionRequest> for ActionInput {
    fn from(request: ActionRequest) -> Self {
        match request {
            ActionRequest::Submit { version } => Self::Submit { version },
            ActionRequest::Withdraw { version, comment } => Self::Withdraw { version, comment },
            ActionRequest::Return { version, comment, correction_days } => {
                Self::Return { version, comment, correction_days }
            }
            ActionRequest::Accept { version, expert_ids, draw } => {
                Self::Accept { version, experts: Experts { named: expert_ids, draw } }
            }
            ActionRequest::Assign { version, expert_ids, draw } => {
                Self::Assign { version, experts: Experts { named: expert_ids, draw } }
            }
            ActionRequest::Declare { version, conflict_of_interest, statement } => {
                Self::Declare { version, conflict_of_interest, statement }
            }
            ActionRequest::Score { version, score, opinion } => Self::Score { version, score, opinion },
            ActionRequest::Propose { version, approved_amount_fen, comment, supersede } => {
                Self::Propose { version, approved_amount_fen, comment, supersede: supersede.unwrap_or(false) }
            }
            ActionRequest::Approve { version, comment } => Self::Approve { version, comment },
            ActionRequest::Reject { version, comment } => Self::Reject { version, comment },
        }
    }
}

/// Takes a workflow action on an application.
#[utoipa::path(tag = "applications", security(("bearer" = [])), params(("id" = i64, Path, description = "application id")),
    request_body = ActionRequest, responses(
        (status = 200, description = "the application after the action", body = ApplicationView),
        (status = 409, description = "`conflict` (stale version, or not allowed now), `window_closed`, `budget_exceeded`, `not_enough_experts`, `double_funding`", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`, `missing_materials`, `not_eligible`, `company_not_verified`, `over_support_ratio`", body = crate::error::Problem, content_type = "application/problem+json"),
    ))]
#[post("/applications/{id}/actions")]
pub async fn act(
    user: SignedIn,
    db: web::Data<Db>,
    portal: web::Data<PortalSettings>,
    id: web::Path<i64>,
    body: Json<ActionRequest>,
) -> Result<web::Json<ApplicationView>, ApiError> {
    let (id, input) = (id.into_inner(), ActionInput::from(body.into_inner()));
    let today = time::today(portal.utc_offset);
    let seen = workflow::act(&db, &user, id, input, today, Utc::now()).await?;
    Ok(web::Json(seen.into()))
}
