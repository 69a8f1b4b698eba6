use std::borrow::Cow;

use chrono::{DateTime, NaiveDate, NaiveDateTime, SubsecRound, Utc};

use crate::domain::error::{Error as Refusal, FieldError};
use crate::i18n::Text;

/// Now, in UTC, to the microsecond: PostgreSQL keeps microseconds and SQLite would keep more, so both
/// backends store and return the same instant.
pub fn now() -> NaiveDateTime {
    Utc::now().naive_utc().trunc_subsecs(6)
}

/// A stored UTC time as the RFC 3339 instant the API speaks.
pub fn to_utc(time: NaiveDateTime) -> DateTime<Utc> {
    time.and_utc()
}

/// Today's calendar date in the park (dates are counted in its offset, times are stored in UTC).
pub fn today(offset: chrono::FixedOffset) -> NaiveDate {
    Utc::now().with_timezone(&offset).date_naive()
}

/// The first day a date given to the service may name (report periods, filters, payments, plans).
pub fn first_day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2000, 1, 1).expect("a valid date")
}

/// The last day a date given to the service may name.
pub fn last_day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2100, 12, 31).expect("a valid date")
}

/// `day` lies from [`first_day`] to [`last_day`], so that no arithmetic on it can overflow.
pub fn check_day(field: impl Into<Cow<'static, str>>, day: NaiveDate) -> Result<(), FieldError> {
    if (first_day()..=last_day()).contains(&day) {
        return Ok(());
    }
    Err(FieldError::new(
        field,
        "out_of_range",
        Text::owned(
            format!("日期须在 {} 至 {} 之间。", first_day(), last_day()),
            format!("The date must be from {} to {}.", first_day(), last_day()),
        ),
    ))
}

/// Every given day of `days` (`(field, day)`) within the bounds of [`check_day`], or the refusal naming
/// each that is not.
pub fn check_days(days: &[(&'static str, Option<NaiveDate>)]) -> Result<(), Refusal> {
    let errors =
        days.iter().filter_map(|&(field, day)| day.and_then(|day| check_day(field, day).err())).collect::<Vec<_>>();
    Refusal::unless_any(errors)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_from_2000_to_2100_pass_and_others_are_named() {
        assert!(check_day("d", first_day()).is_ok());
        assert!(check_day("d", last_day()).is_ok());
        assert_eq!(check_day("d", first_day().pred_opt().unwrap()).unwrap_err().code, "out_of_range");
        assert!(check_day("d", NaiveDate::MAX).is_err());
        assert!(check_days(&[("a", None), ("b", Some(first_day()))]).is_ok());
        let Err(Refusal::Invalid { errors, .. }) =
            check_days(&[("a", Some(NaiveDate::MIN)), ("b", Some(last_day())), ("c", Some(NaiveDate::MAX))])
        else {
            panic!("refused")
        };
        assert_eq!(errors.iter().map(|e| e.field.as_ref()).collect::<Vec<_>>(), ["a", "c"]);
    }
}
