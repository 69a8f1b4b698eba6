//! Cursors: a cursor names the last item of a page; the next page starts after it, however many items
//! were added or removed since, and costs the same at any depth. It is opaque to clients: the list's sort
//! key, in hex.

use std::fmt::Write;

use chrono::{NaiveDate, NaiveDateTime};

use crate::domain::error::Error as Refusal;
use crate::i18n::Text;

/// A list's sort key, as a cursor carries it.
pub trait Key: Sized {
    fn to_text(&self) -> String;
    fn from_text(text: &str) -> Option<Self>;
}

impl Key for i64 {
    fn to_text(&self) -> String {
        self.to_string()
    }
    fn from_text(text: &str) -> Option<Self> {
        text.parse().ok()
    }
}

impl Key for (NaiveDate, i64) {
    fn to_text(&self) -> String {
        format!("{}/{}", self.0, self.1)
    }
    fn from_text(text: &str) -> Option<Self> {
        let (day, id) = text.split_once('/')?;
        Some((day.parse().ok()?, id.parse().ok()?))
    }
}

impl Key for (NaiveDateTime, i64) {
    fn to_text(&self) -> String {
        format!("{}/{}", self.0.and_utc().timestamp_micros(), self.1)
    }
    fn from_text(text: &str) -> Option<Self> {
        let (at, id) = text.split_once('/')?;
        Some((chrono::DateTime::from_timestamp_micros(at.parse().ok()?)?.naive_utc(), id.parse().ok()?))
    }
}

/// The cursor that continues after `key`.
pub fn cursor<K: Key>(key: &K) -> String {
    hex(&format!("c1:{}", key.to_text()))
}

fn hex(text: &str) -> String {
    text.bytes().fold(String::with_capacity(text.len() * 2), |mut out, b| {
        let _ = write!(out, "{b:02x}");
        out
    })
}

fn decode<K: Key>(cursor: &str) -> Option<K> {
    if !cursor.len().is_multiple_of(2) || cursor.len() > 200 {
        return None;
    }
    let bytes: Option<Vec<u8>> =
        (0..cursor.len()).step_by(2).map(|i| u8::from_str_radix(cursor.get(i..i + 2)?, 16).ok()).collect();
    K::from_text(std::str::from_utf8(&bytes?).ok()?.strip_prefix("c1:")?)
}

/// The key a request's `after` names, if it sent one; refused (field `after`) if the list did not give it.
pub fn start_after<K: Key>(after: Option<&str>) -> Result<Option<K>, Refusal> {
    after.map(|cursor| decode(cursor).ok_or_else(bad_cursor)).transpose()
}

/// A cursor that reads as one but that this list did not give, e.g. one of a list in another order.
pub fn bad_cursor() -> Refusal {
    Refusal::field(
        "after",
        "invalid",
        Text::new(
            "翻页游标无效，请从第一页重新开始。",
            "This cursor is not one the list gave; start again from the first page.",
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_reads_back_as_its_key_and_nothing_else_reads_as_one() {
        assert_eq!(decode::<i64>(&cursor(&42_i64)), Some(42));
        let day = NaiveDate::from_ymd_opt(2026, 11, 29).unwrap();
        assert_eq!(decode::<(NaiveDate, i64)>(&cursor(&(day, 7_i64))), Some((day, 7)));
        let at = day.and_hms_micro_opt(8, 30, 1, 250).unwrap();
        assert_eq!(decode::<(NaiveDateTime, i64)>(&cursor(&(at, 7_i64))), Some((at, 7)));
        for bad in ["", "42", "!!", "+1", "é1", &hex("c1:x"), &hex("c2:42"), &hex("c1:")] {
            assert_eq!(decode::<i64>(bad), None, "{bad}");
        }
    }
}
