//! Working days: Monday to Friday, minus public holidays, plus the weekend days made working days to
//! make up for them (调休), as the administrator keeps them per year.

use std::collections::BTreeSet;

use chrono::{Datelike, NaiveDate, Weekday};

use crate::domain::error::{Error as Refusal, FieldError};
use crate::i18n::Text;

/// One year of the calendar as the administrator keeps it: holidays (weekdays off) and make-up working
/// days (weekend days worked instead), each sorted and without repeats.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YearDays {
    pub year: i32,
    pub holidays: Vec<NaiveDate>,
    pub workdays: Vec<NaiveDate>,
}

/// The years a calendar may hold.
pub const YEARS: std::ops::RangeInclusive<i32> = 2000..=2100;

/// Refused unless `year` is one the calendar may hold.
pub fn check_year(year: i32) -> Result<(), Refusal> {
    if YEARS.contains(&year) {
        return Ok(());
    }
    Err(Refusal::field(
        "year",
        "out_of_range",
        Text::new("年份须在 2000–2100 之间。", "The year must be from 2000 to 2100."),
    ))
}

impl YearDays {
    /// The year's days as given, deduplicated and sorted, once they are consistent: every day in `year`, no
    /// day both a holiday and a working day, and make-up working days on weekends only.
    pub fn parse(year: i32, holidays: Vec<NaiveDate>, workdays: Vec<NaiveDate>) -> Result<Self, Refusal> {
        check_year(year)?;
        let holidays: BTreeSet<NaiveDate> = holidays.into_iter().collect();
        let workdays: BTreeSet<NaiveDate> = workdays.into_iter().collect();
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
        Refusal::unless_any(errors)?;
        Ok(Self { year, holidays: holidays.into_iter().collect(), workdays: workdays.into_iter().collect() })
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Calendar {
    holidays: BTreeSet<NaiveDate>,
    workdays: BTreeSet<NaiveDate>,
}

impl Calendar {
    pub fn new(holidays: impl IntoIterator<Item = NaiveDate>, workdays: impl IntoIterator<Item = NaiveDate>) -> Self {
        Self { holidays: holidays.into_iter().collect(), workdays: workdays.into_iter().collect() }
    }

    pub fn is_working_day(&self, day: NaiveDate) -> bool {
        if self.workdays.contains(&day) {
            return true;
        }
        !matches!(day.weekday(), Weekday::Sat | Weekday::Sun) && !self.holidays.contains(&day)
    }

    /// The `n`-th working day after `start` (`start` itself does not count); `start` when `n` is 0.
    pub fn add_working_days(&self, start: NaiveDate, n: u32) -> NaiveDate {
        let mut day = start;
        let mut left = n;
        while left > 0 {
            day = day.succ_opt().expect("dates stay far inside chrono's range");
            if self.is_working_day(day) {
                left -= 1;
            }
        }
        day
    }

    /// Working days after `from` up to and including `to`; 0 when `to` is not after `from`.
    pub fn working_days_between(&self, from: NaiveDate, to: NaiveDate) -> u32 {
        let mut count = 0;
        let mut day = from;
        while day < to {
            day = day.succ_opt().expect("dates stay far inside chrono's range");
            if self.is_working_day(day) {
                count += 1;
            }
        }
        count
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn date(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    /// China's National Day week of 2025: 1–8 October off, Sunday 28 September and Saturday
    /// 11 October worked instead.
    fn national_day_2025() -> Calendar {
        let holidays = (1..=8).map(|d| NaiveDate::from_ymd_opt(2025, 10, d).unwrap());
        Calendar::new(holidays, [date("2025-09-28"), date("2025-10-11")])
    }

    #[test]
    fn a_holiday_week_with_make_up_days_counts_as_people_work_it() {
        let calendar = national_day_2025();
        let cases = [
            ("2025-09-26", 1, "2025-09-28"), // Friday → the make-up Sunday
            ("2025-09-26", 2, "2025-09-29"),
            ("2025-09-29", 1, "2025-09-30"),
            ("2025-09-30", 1, "2025-10-09"), // across the whole holiday
            ("2025-09-30", 3, "2025-10-11"), // Thursday, Friday, then the make-up Saturday
            ("2025-10-01", 5, "2025-10-14"),
            ("2025-10-03", 0, "2025-10-03"),
        ];
        for (start, n, expected) in cases {
            assert_eq!(calendar.add_working_days(date(start), n), date(expected), "{start} + {n}");
        }
        assert_eq!(calendar.working_days_between(date("2025-09-30"), date("2025-10-11")), 3);
        assert!(!calendar.is_working_day(date("2025-10-06")), "a Monday off");
        assert!(calendar.is_working_day(date("2025-10-11")), "a Saturday on");
    }

    fn any_calendar() -> impl Strategy<Value = Calendar> {
        let day = (0u32..730).prop_map(|offset| date("2025-01-01") + chrono::Duration::days(i64::from(offset)));
        (proptest::collection::vec(day.clone(), 0..40), proptest::collection::vec(day, 0..10))
            .prop_map(|(holidays, workdays)| Calendar::new(holidays, workdays))
    }

    proptest! {
        #[test]
        fn adding_working_days_never_lands_on_a_day_off(calendar in any_calendar(), offset in 0u32..700, n in 1u32..60) {
            let start = date("2025-01-01") + chrono::Duration::days(i64::from(offset));
            prop_assert!(calendar.is_working_day(calendar.add_working_days(start, n)));
        }

        #[test]
        fn adding_n_then_m_is_adding_n_plus_m(calendar in any_calendar(), offset in 0u32..700, n in 0u32..40, m in 0u32..40) {
            let start = date("2025-01-01") + chrono::Duration::days(i64::from(offset));
            prop_assert_eq!(
                calendar.add_working_days(calendar.add_working_days(start, n), m),
                calendar.add_working_days(start, n + m)
            );
        }

        #[test]
        fn the_days_between_undo_the_addition(calendar in any_calendar(), offset in 0u32..700, n in 0u32..60) {
            let start = date("2025-01-01") + chrono::Duration::days(i64::from(offset));
            prop_assert_eq!(calendar.working_days_between(start, calendar.add_working_days(start, n)), n);
        }
    }
}
