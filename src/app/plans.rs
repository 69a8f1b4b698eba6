//! Payment plans: an approved award paid in instalments.

use serde_json::json;

use crate::app::applications::{find_submitted, status_of};
use crate::app::reviews::find_with_content;
use crate::app::{Result, SignedIn};
use crate::db::audit::{self, Event};
use crate::db::{Db, DbConnection, applications, money};
use crate::domain::error::Error as Refusal;
use crate::domain::money::{Instalment, check_instalments, check_plan_total};
use crate::domain::role::Role;
use crate::domain::time;
use crate::domain::workflow::Status;
use crate::i18n::Text;

/// An award's plan: its instalments, or when none were set, the whole amount on its payment due date.
#[derive(Debug, Clone)]
pub struct Plan {
    pub instalments: Vec<Instalment>,
    /// False when no plan was set.
    pub planned: bool,
}

fn load(conn: &mut DbConnection, id: i64) -> Result<Plan> {
    let rows = money::plan(conn, id)?;
    if !rows.is_empty() {
        let instalments = rows.into_iter().map(|r| Instalment { due_on: r.due_on, amount_fen: r.amount_fen }).collect();
        return Ok(Plan { instalments, planned: true });
    }
    let a = applications::find(conn, id)?.application;
    let instalments = a
        .payment_due_on
        .zip(a.approved_amount_fen)
        .map(|(due_on, amount_fen)| Instalment { due_on, amount_fen })
        .into_iter()
        .collect();
    Ok(Plan { instalments, planned: false })
}

/// The payment plan of an application the caller may see, with its content.
pub async fn get(db: &Db, caller: &SignedIn, application_id: i64) -> Result<Plan> {
    let caller = caller.clone();
    db.read(move |conn| {
        find_with_content(conn, &caller, application_id)?;
        load(conn, application_id)
    })
    .await
}

/// Plans an approved award's payment in instalments adding up to the approved amount (finance only).
pub async fn replace(db: &Db, caller: &SignedIn, application_id: i64, instalments: Vec<Instalment>) -> Result<Plan> {
    caller.require(&[Role::Finance])?;
    check_instalments(&instalments)?;
    let actor = caller.actor();
    db.write(move |conn| {
        let record = find_submitted(conn, application_id)?;
        if status_of(&record)? != Status::Approved {
            return Err(Refusal::conflict(
                "conflict",
                Text::new(
                    "只能为已批准、尚未付清的申报制定付款计划。",
                    "Only an approved award not yet paid in full can be planned.",
                ),
            )
            .into());
        }
        check_plan_total(&instalments, record.application.approved_amount_fen.unwrap_or(0))?;
        let pairs: Vec<_> = instalments.iter().map(|i| (i.due_on, i.amount_fen)).collect();
        money::replace_plan(conn, application_id, &pairs, time::now())?;
        let summary = json!({ "instalments": pairs.len() });
        audit::append(conn, &actor, Event::new("payment_plan.update", "application", application_id, summary))?;
        load(conn, application_id)
    })
    .await
}
