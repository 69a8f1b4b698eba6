//! The working-day calendar: holidays and make-up working days, per year.

use std::collections::BTreeSet;

use actix_web::{get, put, web};
use chrono::{Datelike, NaiveDate, Weekday};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use crate::api::extract::Json;
use crate::api::middleware::RequestContext;
use crate::api::session::SignedIn;
use crate::db::audit::{self, Event};
use crate::db::{Db, calendar};
use crate::domain::role::Role;
use crate::error::{ApiError, FieldError};
use crate::i18n::Text;

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CalendarYear {
    /// Public holidays (weekdays off).
    pub holidays: Vec<NaiveDate>,
    /// Make-up working days (调休): weekend days worked instead.
    pub workdays: Vec<NaiveDate>,
}

fn check_year(year: i32) -> Result<(), ApiError> {
    if (2000..=2100).contains(&year) {
        return Ok(());
    }
    Err(ApiError::field(
        "year",
        "out_of_range",
        Text::new("年份须在 2000–2100 之间。", "The year must be from 2000 to 2100."),
    ))
}

/// One year's calendar.
#[utoipa::path(tag = "calendar", security(("bearer" = [])),
    params(("year" = i32, Path, description = "calendar year", minimum = 2000, maximum = 2100)),
    responses(
        (status = 200, description = "the year's days", body = CalendarYear),
        (status = 422, description = "`validation_failed`: the year is not from 2000 to 2100", body = crate::error::Problem, content_type = "application/problem+json"),
    ))]
#[get("/calendar/{year}")]
pub async fn get_calendar(
    _user: SignedIn,
    db: web::Data<Db>,
    year: web::Path<i32>,
) -> Result<web::Json<CalendarYear>, ApiError> {
    let year = year.into_inner();
    check_year(year)?;
    let (holidays, workdays) = db.read(move |conn| calendar::year(conn, year)).await?;
    Ok(web::Json(CalendarYear { holidays, workdays }))
}

/// Replaces one year's holidays and make-up working days; deadlines computed afterwards use them.
#[utoipa::path(tag = "calendar", security(("bearer" = [])),
    params(("year" = i32, Path, description = "calendar year", minimum = 2000, maximum = 2100)),
    request_body = CalendarYear, responses((status = 200, description = "the year's days", body = CalendarYear)))]
#[put("/calendar/{year}")]
pub async fn put_calendar(
    user: SignedIn,
    ctx: RequestContext,
    db: web::Data<Db>,
    year: web::Path<i32>,
    body: Json<CalendarYear>,
) -> Result<web::Json<CalendarYear>, ApiError> {
    user.require(&[Role::Admin])?;
    let year = year.into_inner();
    check_year(year)?;
    let input = body.into_inner();
    let holidays: BTreeSet<NaiveDate> = input.holidays.into_iter().collect();
    let workdays: BTreeSet<NaiveDate> = input.workdays.into_iter().collect();
    let mut errors = Vec::new();
    for (field, days) in [("holidays", &holidays), ("workdays", &workdays)] {
        if let Some(day) = days.iter().find(|d| d.year() != year) {
            errors.push(FieldError::new(
                field,
                "other_year",
                Text::owned(format!("{day} 不在 {year} 年。"), format!("{day} is not in {year}.")),
            ));
        }
    }
    if let Some(day) = holidays.intersection(&workdays).next() {
        errors.push(FieldError::new(
            "workdays",
            "both",
            Text::owned(
                format!("{day} 不能既是假日又是调休工作日。"),
                format!("{day} cannot be both a holiday and a working day."),
            ),
        ));
    }
    if let Some(day) = workdays.iter().find(|d| !matches!(d.weekday(), Weekday::Sat | Weekday::Sun)) {
        errors.push(FieldError::new(
            "workdays",
            "not_weekend",
            Text::owned(
                format!("{day} 本来就是工作日；调休工作日须为周六或周日。"),
                format!("{day} is a weekday already; make-up working days are Saturdays or Sundays."),
            ),
        ));
    }
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let (holidays, workdays): (Vec<_>, Vec<_>) = (holidays.into_iter().collect(), workdays.into_iter().collect());
    let actor = user.actor(&ctx);
    let saved = db
        .write(move |conn| {
            calendar::replace_year(conn, year, &holidays, &workdays)?;
            let summary = json!({ "year": year, "holidays": holidays.len(), "workdays": workdays.len() });
            audit::append(
                conn,
                &actor,
                Event { action: "calendar.update", object_type: "calendar", object_id: Some(i64::from(year)), summary },
            )?;
            calendar::year(conn, year)
        })
        .await?;
    Ok(web::Json(CalendarYear { holidays: saved.0, workdays: saved.1 }))
}
