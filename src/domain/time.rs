use chrono::{DateTime, NaiveDateTime, SubsecRound, Utc};

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
pub fn today(offset: chrono::FixedOffset) -> chrono::NaiveDate {
    Utc::now().with_timezone(&offset).date_naive()
}
