//! Payment plans: an approved award paid in instalments.

use actix_web::{get, put, web};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::api::extract::Json;
use crate::api::session::SignedIn;
use crate::app::plans::{self, Plan};
use crate::db::Db;
use crate::domain::money;
use crate::error::ApiError;

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Instalment {
    pub due_on: NaiveDate,
    pub amount_fen: i64,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanRequest {
    /// Summing to the approved amount.
    pub instalments: Vec<Instalment>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PlanView {
    pub instalments: Vec<Instalment>,
    /// False when no plan was set: then the whole amount is due on `payment_due_on`.
    pub planned: bool,
}

impl From<Plan> for PlanView {
    fn from(plan: Plan) -> Self {
        let instalments =
            plan.instalments.into_iter().map(|i| Instalment { due_on: i.due_on, amount_fen: i.amount_fen }).collect();
        Self { instalments, planned: plan.planned }
    }
}

/// Plans an approved award's payment in instalments.
#[utoipa::path(tag = "money", security(("bearer" = [])), params(("id" = i64, Path, description = "application id")),
    request_body = PlanRequest, responses(
        (status = 200, description = "the plan", body = PlanView),
        (status = 409, description = "`conflict`: not approved", body = crate::error::Problem, content_type = "application/problem+json"),
    ))]
#[put("/applications/{id}/payment-plan")]
pub async fn put_plan(
    user: SignedIn,
    db: web::Data<Db>,
    id: web::Path<i64>,
    body: Json<PlanRequest>,
) -> Result<web::Json<PlanView>, ApiError> {
    let instalments = body
        .into_inner()
        .instalments
        .into_iter()
        .map(|i| money::Instalment { due_on: i.due_on, amount_fen: i.amount_fen })
        .collect();
    Ok(web::Json(plans::replace(&db, &user, id.into_inner(), instalments).await?.into()))
}

/// An approved award's payment plan.
#[utoipa::path(tag = "money", security(("bearer" = [])), params(("id" = i64, Path, description = "application id")),
    responses((status = 200, description = "the plan", body = PlanView)))]
#[get("/applications/{id}/payment-plan")]
pub async fn get_plan(user: SignedIn, db: web::Data<Db>, id: web::Path<i64>) -> Result<web::Json<PlanView>, ApiError> {
    Ok(web::Json(plans::get(&db, &user, id.into_inner()).await?.into()))
}
