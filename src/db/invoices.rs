//! The invoices applications claim as their eligible cost. A claim is live until its application is
//! withdrawn or rejected; the partial unique index `application_invoices_live_claim` lets one live claim
//! hold an invoice in the whole system, so concurrent claims on the same invoice get exactly one success.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};

use super::DbConnection;
use super::schema::{application_invoices, applications};
use crate::db::error::Result;
use crate::domain::funding::Invoice;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = application_invoices)]
pub struct InvoiceRow {
    pub id: i64,
    pub application_id: i64,
    pub seller_tax_id: String,
    pub invoice_no: String,
    pub issued_on: NaiveDate,
    pub amount_fen: i64,
    pub claimed_at: NaiveDateTime,
    pub released_at: Option<NaiveDateTime>,
}

/// The invoices an application claims (or claimed, once it was withdrawn or rejected), in list order.
pub fn of_application(conn: &mut DbConnection, application_id: i64) -> Result<Vec<InvoiceRow>> {
    Ok(application_invoices::table
        .filter(application_invoices::application_id.eq(application_id))
        .order(application_invoices::id.asc())
        .select(InvoiceRow::as_select())
        .load(conn)?)
}

/// Replaces an application's live claims with `invoices`. Each insert runs in a savepoint, so a clash
/// with another live claim (one committed meanwhile included: PostgreSQL waits for it) is noted and the
/// transaction goes on; answers the places in `invoices` that clashed. The caller refuses the whole
/// change when any did.
pub fn replace(
    conn: &mut DbConnection,
    application_id: i64,
    invoices: &[Invoice],
    now: NaiveDateTime,
) -> Result<Vec<usize>> {
    diesel::delete(
        application_invoices::table
            .filter(application_invoices::application_id.eq(application_id))
            .filter(application_invoices::released_at.is_null()),
    )
    .execute(conn)?;
    let mut clashes = Vec::new();
    for (index, invoice) in invoices.iter().enumerate() {
        let inserted = conn.transaction(|c| {
            diesel::insert_into(application_invoices::table)
                .values((
                    application_invoices::application_id.eq(application_id),
                    application_invoices::seller_tax_id.eq(&invoice.seller_tax_id),
                    application_invoices::invoice_no.eq(&invoice.invoice_no),
                    application_invoices::issued_on.eq(invoice.issued_on),
                    application_invoices::amount_fen.eq(invoice.amount_fen),
                    application_invoices::claimed_at.eq(now),
                ))
                .execute(c)
        });
        match inserted {
            Ok(_) => {}
            Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => clashes.push(index),
            Err(other) => return Err(other.into()),
        }
    }
    Ok(clashes)
}

/// Frees an application's invoices (it was withdrawn or rejected); answers how many were held.
pub fn release(conn: &mut DbConnection, application_id: i64, now: NaiveDateTime) -> Result<usize> {
    Ok(diesel::update(
        application_invoices::table
            .filter(application_invoices::application_id.eq(application_id))
            .filter(application_invoices::released_at.is_null()),
    )
    .set(application_invoices::released_at.eq(now))
    .execute(conn)?)
}

/// Removes a draft's claims with the draft.
pub fn delete_of(conn: &mut DbConnection, application_id: i64) -> Result<()> {
    diesel::delete(application_invoices::table.filter(application_invoices::application_id.eq(application_id)))
        .execute(conn)?;
    Ok(())
}

/// The sum of an application's live claims: its eligible cost.
pub fn eligible_cost(conn: &mut DbConnection, application_id: i64) -> Result<i64> {
    let sum: Option<i64> = application_invoices::table
        .filter(application_invoices::application_id.eq(application_id))
        .filter(application_invoices::released_at.is_null())
        .select(diesel::dsl::sql::<diesel::sql_types::Nullable<diesel::sql_types::BigInt>>(
            "CAST(SUM(amount_fen) AS BIGINT)",
        ))
        .first(conn)?;
    Ok(sum.unwrap_or(0))
}

/// Another submitted application that claims, or once claimed, one of the same invoices.
#[derive(Debug, Clone, Queryable)]
pub struct OtherClaim {
    pub seller_tax_id: String,
    pub invoice_no: String,
    pub application_id: i64,
    pub reference_no: String,
    pub status: String,
    pub released_at: Option<NaiveDateTime>,
}

/// The other submitted applications that claim or claimed the invoices of `application_id`, for staff.
pub fn other_claims(conn: &mut DbConnection, application_id: i64) -> Result<Vec<OtherClaim>> {
    let mine = of_application(conn, application_id)?;
    if mine.is_empty() {
        return Ok(Vec::new());
    }
    let numbers: Vec<&str> = mine.iter().map(|i| i.invoice_no.as_str()).collect();
    let rows: Vec<OtherClaim> = application_invoices::table
        .inner_join(applications::table)
        .filter(application_invoices::invoice_no.eq_any(numbers))
        .filter(application_invoices::application_id.ne(application_id))
        .filter(applications::reference_no.is_not_null())
        .order((application_invoices::id.asc(),))
        .select((
            application_invoices::seller_tax_id,
            application_invoices::invoice_no,
            applications::id,
            applications::reference_no.assume_not_null(),
            applications::status,
            application_invoices::released_at,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter(|other| mine.iter().any(|i| i.seller_tax_id == other.seller_tax_id && i.invoice_no == other.invoice_no))
        .collect())
}
