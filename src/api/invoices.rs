//! The invoices an application claims as its eligible cost (同一发票不得重复申报).

use actix_web::{get, put, web};
use chrono::{NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::api::extract::Json;
use crate::api::session::SignedIn;
use crate::app::invoices::{self, Claims};
use crate::config::PortalSettings;
use crate::db::Db;
use crate::domain::funding::Invoice;
use crate::domain::time;
use crate::error::ApiError;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InvoicesRequest {
    /// Replaces the invoices claimed so far; an empty list claims none.
    pub invoices: Vec<Invoice>,
}

/// Another submitted application that claims (or claimed) the same invoice; staff only.
#[derive(Debug, Serialize, ToSchema)]
pub struct InvoiceClaimView {
    pub application_id: i64,
    pub reference_no: String,
    pub status: String,
    /// It holds the invoice now.
    pub live: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InvoiceView {
    pub seller_tax_id: String,
    pub invoice_no: String,
    pub issued_on: NaiveDate,
    pub amount_fen: i64,
    pub claimed_at: chrono::DateTime<chrono::Utc>,
    /// When the application was withdrawn or rejected and the invoice freed.
    pub released_at: Option<chrono::DateTime<chrono::Utc>>,
    /// For staff: other applications that claim or claimed this invoice.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub other_claims: Vec<InvoiceClaimView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InvoicesView {
    pub invoices: Vec<InvoiceView>,
    /// The sum of the invoices the application holds.
    pub eligible_cost_fen: i64,
}

fn utc(at: NaiveDateTime) -> chrono::DateTime<chrono::Utc> {
    time::to_utc(at)
}

impl From<Claims> for InvoicesView {
    fn from(claims: Claims) -> Self {
        let Claims { invoices, eligible_cost_fen, elsewhere } = claims;
        let invoices = invoices
            .into_iter()
            .map(|i| InvoiceView {
                other_claims: elsewhere
                    .iter()
                    .filter(|o| o.seller_tax_id == i.seller_tax_id && o.invoice_no == i.invoice_no)
                    .map(|o| InvoiceClaimView {
                        application_id: o.application_id,
                        reference_no: o.reference_no.clone(),
                        status: o.status.clone(),
                        live: o.released_at.is_none(),
                    })
                    .collect(),
                seller_tax_id: i.seller_tax_id,
                invoice_no: i.invoice_no,
                issued_on: i.issued_on,
                amount_fen: i.amount_fen,
                claimed_at: utc(i.claimed_at),
                released_at: i.released_at.map(utc),
            })
            .collect();
        Self { invoices, eligible_cost_fen }
    }
}

/// Replaces the invoices a draft or returned application claims. An invoice (seller's credit code and
/// number) is held by one live application in the whole system.
#[utoipa::path(tag = "applications", security(("bearer" = [])), params(("id" = i64, Path, description = "application id")),
    request_body = InvoicesRequest, responses(
        (status = 200, description = "the invoices claimed", body = InvoicesView),
        (status = 409, description = "`invoice_already_claimed`: another live application holds an invoice (one entry per clash in `errors`); `conflict`: no longer editable", body = crate::error::Problem, content_type = "application/problem+json"),
    ))]
#[put("/applications/{id}/invoices")]
pub async fn put_invoices(
    user: SignedIn,
    db: web::Data<Db>,
    portal: web::Data<PortalSettings>,
    id: web::Path<i64>,
    body: Json<InvoicesRequest>,
) -> Result<web::Json<InvoicesView>, ApiError> {
    let today = time::today(portal.utc_offset);
    let claims = invoices::put(&db, &user, id.into_inner(), body.into_inner().invoices, today).await?;
    Ok(web::Json(claims.into()))
}

/// The invoices an application claims and their sum, the eligible cost.
#[utoipa::path(tag = "applications", security(("bearer" = [])), params(("id" = i64, Path, description = "application id")),
    responses((status = 200, description = "the invoices claimed", body = InvoicesView)))]
#[get("/applications/{id}/invoices")]
pub async fn get_invoices(
    user: SignedIn,
    db: web::Data<Db>,
    id: web::Path<i64>,
) -> Result<web::Json<InvoicesView>, ApiError> {
    Ok(web::Json(invoices::get(&db, &user, id.into_inner()).await?.into()))
}
