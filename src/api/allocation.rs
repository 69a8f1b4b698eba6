//! Allocating a programme's budget over a batch of applications (按比例核减).

use actix_web::{post, web};
use chrono::Utc;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::api::extract::Json;
use crate::api::session::SignedIn;
use crate::app::allocation::{self, Batch, Outcome};
use crate::config::PortalSettings;
use crate::db::Db;
use crate::domain::allocation::AllocationMethod;
use crate::domain::time;
use crate::error::ApiError;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AllocationRequest {
    /// Applications of this programme in expert review with enough scores.
    pub application_ids: Vec<i64>,
    pub method: AllocationMethod,
    /// Answer the figures and change nothing.
    pub dry_run: bool,
    /// The `version` of each listed application as the dry run answered it, in the same order: an
    /// application that moved since refuses the real run (409).
    pub versions: Option<Vec<i32>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AllocationItemView {
    pub application_id: i64,
    pub reference_no: String,
    /// The application's version the allocation read.
    pub version: i32,
    pub requested_fen: i64,
    /// The least of the request, the programme's maximum and the support ratio's cap.
    pub capped_fen: i64,
    pub approved_fen: i64,
    /// What the allocation cut from the cap.
    pub cut_fen: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AllocationView {
    pub items: Vec<AllocationItemView>,
    pub capped_total_fen: i64,
    pub approved_total_fen: i64,
    /// What the programme had left before this allocation.
    pub available_fen: i64,
    /// The capped total exceeds the available budget.
    pub oversubscribed: bool,
    pub dry_run: bool,
}

impl AllocationView {
    fn new(outcome: Outcome, dry_run: bool) -> Self {
        Self {
            items: outcome
                .items
                .into_iter()
                .map(|i| AllocationItemView {
                    cut_fen: i.capped_fen - i.approved_fen,
                    application_id: i.application_id,
                    reference_no: i.reference_no,
                    version: i.version,
                    requested_fen: i.requested_fen,
                    capped_fen: i.capped_fen,
                    approved_fen: i.approved_fen,
                })
                .collect(),
            capped_total_fen: outcome.capped_total_fen,
            approved_total_fen: outcome.approved_total_fen,
            available_fen: outcome.available_fen,
            oversubscribed: outcome.oversubscribed,
            dry_run,
        }
    }
}

/// Allocates the programme's budget over a batch: `as_capped` gives each its cap, `pro_rata` cuts every
/// cap by the same factor when they exceed the budget (leftover fen by largest remainder, ties by
/// reference number). Without `dry_run` every listed application is proposed in one transaction, all or
/// nothing.
#[utoipa::path(tag = "programs", security(("bearer" = [])), params(("id" = i64, Path, description = "programme id")),
    request_body = AllocationRequest, responses(
        (status = 200, description = "the allocation", body = AllocationView),
        (status = 409, description = "`conflict` naming the first application not in expert review, short of scores, changed since or given nothing; `double_funding`; `budget_exceeded`", body = crate::error::Problem, content_type = "application/problem+json"),
    ))]
#[post("/programs/{id}/allocation")]
pub async fn allocate(
    user: SignedIn,
    db: web::Data<Db>,
    portal: web::Data<PortalSettings>,
    id: web::Path<i64>,
    body: Json<AllocationRequest>,
) -> Result<web::Json<AllocationView>, ApiError> {
    let request = body.into_inner();
    let dry_run = request.dry_run;
    let batch =
        Batch { application_ids: request.application_ids, method: request.method, dry_run, versions: request.versions };
    let today = time::today(portal.utc_offset);
    let outcome = allocation::allocate_batch(&db, &user, id.into_inner(), batch, today, Utc::now()).await?;
    Ok(web::Json(AllocationView::new(outcome, dry_run)))
}
