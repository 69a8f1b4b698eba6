//! Column types of the service's own: JSON kept in a `Text` column and read back as a typed value
//! ([`JsonText`]), and the domain's text enums stored as their text ([`text_column!`]), on both backends.
//!
//! A stored value that does not parse is a deserialisation error, never a default; the query module that
//! loaded it names the table and row with [`damaged_row`] (or [`first_damaged`] for a list).

use std::io::Write;

use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql, FromSqlRow};
use diesel::expression::AsExpression;
use diesel::pg::Pg;
use diesel::result::Error as DieselError;
use diesel::serialize::{self, IsNull, Output, ToSql};
use diesel::sql_types::Text;
use diesel::sqlite::Sqlite;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::connection::MultiBackend;
use crate::db::error::Error;

/// A value stored as JSON text. Rows name it in `#[diesel(deserialize_as, serialize_as)]`, so their field
/// is the plain value.
#[derive(Debug, Clone, PartialEq, AsExpression, FromSqlRow)]
#[diesel(sql_type = Text)]
pub struct JsonText<T>(pub T);

impl<T> JsonText<T> {
    /// The value; named as diesel's `deserialize_as` expects.
    pub fn try_into(self) -> Result<T, std::convert::Infallible> {
        Ok(self.0)
    }
}

impl<T> From<T> for JsonText<T> {
    fn from(value: T) -> Self {
        Self(value)
    }
}

impl<T, DB> FromSql<Text, DB> for JsonText<T>
where
    T: DeserializeOwned,
    DB: Backend,
    String: FromSql<Text, DB>,
{
    fn from_sql(bytes: DB::RawValue<'_>) -> deserialize::Result<Self> {
        let text = String::from_sql(bytes)?;
        Ok(Self(serde_json::from_str(&text).map_err(|e| format!("stored JSON does not parse: {e}"))?))
    }
}

impl<T: Serialize + std::fmt::Debug> ToSql<Text, Sqlite> for JsonText<T> {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
        out.set_value(serde_json::to_string(&self.0)?);
        Ok(IsNull::No)
    }
}

impl<T: Serialize + std::fmt::Debug> ToSql<Text, Pg> for JsonText<T> {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
        serde_json::to_writer(&mut *out, &self.0)?;
        out.flush()?;
        Ok(IsNull::No)
    }
}

impl<T: Serialize + std::fmt::Debug + Send + Sync + 'static> ToSql<Text, MultiBackend> for JsonText<T> {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, MultiBackend>) -> serialize::Result {
        out.set_value((Text, self));
        Ok(IsNull::No)
    }
}

/// Stores each of the domain's text enums (made by `text_enum!`, with `as_str` and `parse`) as its text
/// in a `Text` column: bound as the text, read back with `parse`, and refused when the stored text is not
/// one of its values.
macro_rules! text_column {
    ($($name:ty),+ $(,)?) => {$(
        impl diesel::expression::AsExpression<diesel::sql_types::Text> for $name {
            type Expression = diesel::dsl::AsExprOf<&'static str, diesel::sql_types::Text>;

            fn as_expression(self) -> Self::Expression {
                diesel::expression::AsExpression::<diesel::sql_types::Text>::as_expression(self.as_str())
            }
        }

        impl diesel::expression::AsExpression<diesel::sql_types::Text> for &$name {
            type Expression = diesel::dsl::AsExprOf<&'static str, diesel::sql_types::Text>;

            fn as_expression(self) -> Self::Expression {
                diesel::expression::AsExpression::<diesel::sql_types::Text>::as_expression(self.as_str())
            }
        }

        impl<DB> diesel::deserialize::FromSql<diesel::sql_types::Text, DB> for $name
        where
            DB: diesel::backend::Backend,
            String: diesel::deserialize::FromSql<diesel::sql_types::Text, DB>,
        {
            fn from_sql(bytes: DB::RawValue<'_>) -> diesel::deserialize::Result<Self> {
                let text = String::from_sql(bytes)?;
                Self::parse(&text).ok_or_else(|| format!("`{text}` is not a {}", stringify!($name)).into())
            }
        }

        impl<DB> diesel::serialize::ToSql<diesel::sql_types::Text, DB> for $name
        where
            DB: diesel::backend::Backend,
            str: diesel::serialize::ToSql<diesel::sql_types::Text, DB>,
        {
            fn to_sql<'b>(&'b self, out: &mut diesel::serialize::Output<'b, '_, DB>) -> diesel::serialize::Result {
                <str as diesel::serialize::ToSql<diesel::sql_types::Text, DB>>::to_sql(self.as_str(), out)
            }
        }

        impl<ST, DB> diesel::deserialize::Queryable<ST, DB> for $name
        where
            DB: diesel::backend::Backend,
            ST: diesel::sql_types::SingleValue,
            Self: diesel::deserialize::FromSql<ST, DB>,
        {
            type Row = Self;

            fn build(row: Self) -> diesel::deserialize::Result<Self> {
                Ok(row)
            }
        }
    )+};
}
#[allow(unused_imports, reason = "for the query modules that store their own enums")]
pub(crate) use text_column;

text_column!(crate::domain::program::ProgramStatus, crate::domain::program::Category);

/// The error of a query that loaded row `id` of `table`: a stored value that does not parse becomes
/// [`Error::Damaged`] naming the row.
pub fn damaged_row(table: &'static str, id: i64) -> impl FnOnce(DieselError) -> Error {
    move |error| match error {
        DieselError::DeserializationError(reason) => Error::damaged(table, id, with_causes(&*reason)),
        other => other.into(),
    }
}

/// An error with the causes diesel wraps it around, e.g. which field, then why it does not parse.
fn with_causes(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(inner) = cause {
        text = format!("{text}: {inner}");
        cause = inner.source();
    }
    text
}

/// The error of a query that loaded several rows of `table` at once: when a stored value did not parse,
/// `locate` loads them again one by one (each reporting through [`damaged_row`]) to name the first damaged
/// row.
pub fn first_damaged(error: DieselError, table: &'static str, locate: impl FnOnce() -> Result<(), Error>) -> Error {
    let DieselError::DeserializationError(reason) = error else { return error.into() };
    match locate() {
        Ok(()) => Error::damaged(table, 0, with_causes(&*reason)),
        Err(error) => error,
    }
}
