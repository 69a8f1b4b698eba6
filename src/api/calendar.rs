//! The working-day calendar: holidays and make-up working days, per year.

use actix_web::{get, put, web};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::api::extract::Json;
use crate::api::session::SignedIn;
use crate::app::calendar;
use crate::db::Db;
use crate::domain::calendar::YearDays;
use crate::error::ApiError;

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CalendarYear {
    /// Public holidays (weekdays off).
    pub holidays: Vec<NaiveDate>,
    /// Make-up working days (调休): weekend days worked instead.
    pub workdays: Vec<NaiveDate>,
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
    let days = calendar::year(&db, year.into_inner()).await?;
    Ok(web::Json(days.into()))
}

/// Replaces one year's holidays and make-up working days; deadlines computed afterwards use them.
#[utoipa::path(tag = "calendar", security(("bearer" = [])),
    params(("year" = i32, Path, description = "calendar year", minimum = 2000, maximum = 2100)),
    request_body = CalendarYear, responses((status = 200, description = "the year's days", body = CalendarYear)))]
#[put("/calendar/{year}")]
pub async fn put_calendar(
    user: SignedIn,
    db: web::Data<Db>,
    year: web::Path<i32>,
    body: Json<CalendarYear>,
) -> Result<web::Json<CalendarYear>, ApiError> {
    let CalendarYear { holidays, workdays } = body.into_inner();
    let saved = calendar::replace_year(&db, &user, year.into_inner(), holidays, workdays).await?;
    Ok(web::Json(saved.into()))
}

impl From<YearDays> for CalendarYear {
    fn from(days: YearDays) -> Self {
        Self { holidays: days.holidays, workdays: days.workdays }
    }
}
