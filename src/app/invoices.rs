//! The invoices an application claims as its eligible cost (同一发票不得重复申报): the company lists them
//! while it may still edit the application; an invoice is held by one live application in the whole
//! system, and a withdrawn or rejected application frees its invoices (see `app::workflow`).

use chrono::NaiveDate;
use serde_json::json;

use crate::app::applications::{find_visible, status_of};
use crate::app::reviews::require_full_view;
use crate::app::{Result, SignedIn};
use crate::db::audit::{self, Event};
use crate::db::invoices::{self, InvoiceRow, OtherClaim};
use crate::db::{Db, DbConnection, applications};
use crate::domain::error::Error as Refusal;
use crate::domain::funding::{self, Invoice};
use crate::domain::role::Role;
use crate::domain::time;
use crate::domain::timeline::is_staff;
use crate::i18n::Text;

/// An application's invoices as one caller sees them.
#[derive(Debug)]
pub struct Claims {
    pub invoices: Vec<InvoiceRow>,
    /// The sum of the invoices it holds.
    pub eligible_cost_fen: i64,
    /// For staff: the other submitted applications that claim or claimed the same invoices.
    pub elsewhere: Vec<OtherClaim>,
}

fn claims(conn: &mut DbConnection, user: &SignedIn, id: i64) -> Result<Claims> {
    Ok(Claims {
        invoices: invoices::of_application(conn, id)?,
        eligible_cost_fen: invoices::eligible_cost(conn, id)?,
        elsewhere: if is_staff(user.role) { invoices::other_claims(conn, id)? } else { Vec::new() },
    })
}

/// Replaces the invoices a draft or returned application claims (the company's applicants). Refused as a
/// whole, naming each invoice, when another live application holds any of them.
pub async fn put(db: &Db, caller: &SignedIn, id: i64, list: Vec<Invoice>, today: NaiveDate) -> Result<Claims> {
    caller.require(&[Role::Applicant])?;
    let (user, actor) = (caller.clone(), caller.actor());
    db.write(move |conn| {
        let record = find_visible(conn, &user, id)?;
        if !status_of(&record)?.is_editable() {
            return Err(Refusal::conflict(
                "conflict",
                Text::new(
                    "申报已提交，不能再更改发票；如被退回补正，可在退回后更改。",
                    "The application has been submitted; its invoices can change only if it is returned.",
                ),
            )
            .into());
        }
        let list = funding::check_invoices(list, today)?;
        let now = time::now();
        let clashes = invoices::replace(conn, id, &list, now)?;
        if !clashes.is_empty() {
            return Err(funding::already_claimed(&clashes).into());
        }
        applications::touch(conn, id, now)?;
        let found = claims(conn, &user, id)?;
        let summary = json!({ "invoices": list.len(), "eligible_cost_fen": found.eligible_cost_fen });
        audit::append(conn, &actor, Event::new("application.invoices", "application", id, summary))?;
        Ok(found)
    })
    .await
}

/// The invoices an application claims, for whoever may read its content.
pub async fn get(db: &Db, caller: &SignedIn, id: i64) -> Result<Claims> {
    let user = caller.clone();
    db.read(move |conn| {
        let record = find_visible(conn, &user, id)?;
        require_full_view(conn, &user, &record)?;
        claims(conn, &user, id)
    })
    .await
}
