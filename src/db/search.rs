//! `q` on the applications list: part of the reference number, of the company's name or of its credit
//! code, in any case, found through an index on both databases (PostgreSQL: `pg_trgm` GIN indexes on the
//! lowered text; SQLite: FTS5 trigram tables kept by triggers), with the same answers.
//!
//! A trigram index needs three characters; shorter text (two Chinese characters are a common query) is
//! looked up in the tables themselves, which is still right, only not indexed.

use diesel::dsl::sql;
use diesel::expression::BoxableExpression;
use diesel::sql_types::{Bool, Text};

use super::{Backend, Multi};

/// Where to look for `q` (already lowered and trimmed): the SQL selecting the ids of the applications whose
/// reference number, and of the companies whose name and whose credit code, match the bound pattern; the
/// pattern; and the ESCAPE clause it needs.
fn sources(backend: Backend, q: &str) -> ([&'static str; 3], String, &'static str) {
    let escaped = super::escape_like(q);
    let indexed = q.chars().count() >= 3;
    // The FTS5 index answers LIKE without an ESCAPE clause only; text with a wildcard in it is rare enough
    // to be looked up without the index. PostgreSQL's trigram indexes serve `lower(..) LIKE` as it is.
    if matches!(backend, Backend::Sqlite) && indexed && escaped == q {
        (
            [
                "SELECT rowid FROM applications_search WHERE reference_no LIKE ",
                "SELECT rowid FROM companies_search WHERE name LIKE ",
                "SELECT rowid FROM companies_search WHERE credit_code LIKE ",
            ],
            format!("%{q}%"),
            "",
        )
    } else {
        (
            [
                "SELECT id FROM applications WHERE lower(reference_no) LIKE ",
                "SELECT id FROM companies WHERE lower(name) LIKE ",
                "SELECT id FROM companies WHERE lower(credit_code) LIKE ",
            ],
            format!("%{escaped}%"),
            " ESCAPE '\\'",
        )
    }
}

/// The condition "this application matches `q`" (already lowered and trimmed), for any query over
/// `applications`.
pub fn matching_applications<QS>(backend: Backend, q: &str) -> Box<dyn BoxableExpression<QS, Multi, SqlType = Bool>> {
    let ([references, names, codes], pattern, escape) = sources(backend, q);
    Box::new(
        sql::<Bool>("applications.id IN (")
            .sql(references)
            .bind::<Text, _>(pattern.clone())
            .sql(&format!("{escape} UNION SELECT a.id FROM applications a WHERE a.company_id IN ({names}"))
            .bind::<Text, _>(pattern.clone())
            .sql(&format!("{escape} UNION {codes}"))
            .bind::<Text, _>(pattern)
            .sql(&format!("{escape}))")),
    )
}

/// The condition "this company's name or credit code matches `q`" (already lowered and trimmed), for any
/// query over `companies`.
pub fn matching_companies<QS>(backend: Backend, q: &str) -> Box<dyn BoxableExpression<QS, Multi, SqlType = Bool>> {
    let ([_, names, codes], pattern, escape) = sources(backend, q);
    Box::new(
        sql::<Bool>("companies.id IN (")
            .sql(names)
            .bind::<Text, _>(pattern.clone())
            .sql(&format!("{escape} UNION {codes}"))
            .bind::<Text, _>(pattern)
            .sql(&format!("{escape})")),
    )
}
