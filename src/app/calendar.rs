//! The working-day calendar: the administrator keeps each year's holidays and make-up working days.

use chrono::NaiveDate;
use serde_json::json;

use crate::app::{Result, SignedIn};
use crate::db::audit::{self, Event};
use crate::db::{Db, calendar};
use crate::domain::calendar::{YearDays, check_year};
use crate::domain::role::Role;

/// One year's days, for any signed-in user.
pub async fn year(db: &Db, year: i32) -> Result<YearDays> {
    check_year(year)?;
    let (holidays, workdays) = db.read(move |conn| calendar::year(conn, year)).await?;
    Ok(YearDays { year, holidays, workdays })
}

/// Replaces one year's days (admin only); deadlines computed afterwards use them.
pub async fn replace_year(
    db: &Db,
    caller: &SignedIn,
    year: i32,
    holidays: Vec<NaiveDate>,
    workdays: Vec<NaiveDate>,
) -> Result<YearDays> {
    caller.require(&[Role::Admin])?;
    let days = YearDays::parse(year, holidays, workdays)?;
    let actor = caller.actor();
    db.write(move |conn| {
        calendar::replace_year(conn, days.year, &days.holidays, &days.workdays)?;
        let summary = json!({ "year": days.year, "holidays": days.holidays.len(), "workdays": days.workdays.len() });
        let event = Event {
            action: "calendar.update",
            object_type: "calendar",
            object_id: Some(i64::from(days.year)),
            summary,
        };
        audit::append(conn, &actor, event)?;
        let (holidays, workdays) = calendar::year(conn, days.year)?;
        Ok(YearDays { year: days.year, holidays, workdays })
    })
    .await
}
