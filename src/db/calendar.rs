//! The working-day calendar the administrator keeps: a few dozen days a year, read whole.

use chrono::NaiveDate;
use diesel::prelude::*;

use super::DbConnection;
use super::schema::calendar_days;
use crate::db::error::{Error, Result};
use crate::domain::calendar::Calendar;

const HOLIDAY: &str = "holiday";
const WORKDAY: &str = "workday";

pub fn load(conn: &mut DbConnection) -> Result<Calendar> {
    let days: Vec<(NaiveDate, String)> =
        calendar_days::table.select((calendar_days::day, calendar_days::kind)).load(conn)?;
    let (holidays, workdays): (Vec<_>, Vec<_>) = days.into_iter().partition(|(_, kind)| kind == HOLIDAY);
    Ok(Calendar::new(holidays.into_iter().map(|(d, _)| d), workdays.into_iter().map(|(d, _)| d)))
}

/// One year's holidays and make-up working days, each sorted.
pub fn year(conn: &mut DbConnection, year: i32) -> Result<(Vec<NaiveDate>, Vec<NaiveDate>)> {
    let (first, last) = bounds(year)?;
    let days: Vec<(NaiveDate, String)> = calendar_days::table
        .filter(calendar_days::day.between(first, last))
        .order(calendar_days::day.asc())
        .select((calendar_days::day, calendar_days::kind))
        .load(conn)?;
    let pick = |kind: &str| days.iter().filter(|(_, k)| k == kind).map(|(d, _)| *d).collect();
    Ok((pick(HOLIDAY), pick(WORKDAY)))
}

/// Replaces one year's days.
pub fn replace_year(conn: &mut DbConnection, year: i32, holidays: &[NaiveDate], workdays: &[NaiveDate]) -> Result<()> {
    let (first, last) = bounds(year)?;
    diesel::delete(calendar_days::table.filter(calendar_days::day.between(first, last))).execute(conn)?;
    for (days, kind) in [(holidays, HOLIDAY), (workdays, WORKDAY)] {
        for day in days {
            diesel::insert_into(calendar_days::table)
                .values((calendar_days::day.eq(day), calendar_days::kind.eq(kind)))
                .execute(conn)?;
        }
    }
    Ok(())
}

fn bounds(year: i32) -> Result<(NaiveDate, NaiveDate)> {
    NaiveDate::from_ymd_opt(year, 1, 1)
        .zip(NaiveDate::from_ymd_opt(year, 12, 31))
        .ok_or_else(|| Error::inconsistent(format!("year {year} out of range")))
}
