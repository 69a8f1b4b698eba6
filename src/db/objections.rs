//! Objections to applications in public notice, and their resolution.

use std::collections::HashMap;

use diesel::prelude::*;

use super::DbConnection;
use super::schema::objections;
use crate::db::error::Result;

/// For each of `application_ids` with objections: how many are still open, and how many were upheld.
pub fn open_and_upheld(conn: &mut DbConnection, application_ids: &[i64]) -> Result<HashMap<i64, (i64, i64)>> {
    if application_ids.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(objections::table
        .filter(objections::application_id.eq_any(application_ids))
        .group_by(objections::application_id)
        .select((
            objections::application_id,
            diesel::dsl::sql::<diesel::sql_types::BigInt>("CAST(COUNT(*) - COUNT(resolved_at) AS BIGINT)"),
            diesel::dsl::sql::<diesel::sql_types::BigInt>(
                "CAST(COALESCE(SUM(CASE WHEN upheld THEN 1 ELSE 0 END), 0) AS BIGINT)",
            ),
        ))
        .load::<(i64, i64, i64)>(conn)?
        .into_iter()
        .map(|(id, open, upheld)| (id, (open, upheld)))
        .collect())
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = objections)]
pub struct ObjectionRow {
    pub id: i64,
    pub application_id: i64,
    pub name: String,
    pub contact: String,
    pub organization: Option<String>,
    pub content: String,
    pub created_at: chrono::NaiveDateTime,
    pub resolved_at: Option<chrono::NaiveDateTime>,
    pub resolved_by: Option<i64>,
    pub upheld: Option<bool>,
    pub resolution_comment: Option<String>,
}

pub struct NewObjection<'a> {
    pub application_id: i64,
    pub name: &'a str,
    pub contact: &'a str,
    pub organization: Option<&'a str>,
    pub content: &'a str,
}

pub fn lodge(
    conn: &mut DbConnection,
    objection: &NewObjection<'_>,
    now: chrono::NaiveDateTime,
) -> Result<ObjectionRow> {
    Ok(diesel::insert_into(objections::table)
        .values((
            objections::application_id.eq(objection.application_id),
            objections::name.eq(objection.name),
            objections::contact.eq(objection.contact),
            objections::organization.eq(objection.organization),
            objections::content.eq(objection.content),
            objections::created_at.eq(now),
        ))
        .get_result(conn)?)
}

pub fn of_application(conn: &mut DbConnection, application_id: i64) -> Result<Vec<ObjectionRow>> {
    Ok(objections::table
        .filter(objections::application_id.eq(application_id))
        .order(objections::id.asc())
        .select(ObjectionRow::as_select())
        .load(conn)?)
}

/// Resolves an open objection; false if it does not exist or was resolved already.
pub fn resolve(
    conn: &mut DbConnection,
    application_id: i64,
    id: i64,
    resolved_by: i64,
    upheld: bool,
    comment: &str,
    now: chrono::NaiveDateTime,
) -> Result<bool> {
    let resolved = diesel::update(
        objections::table
            .find(id)
            .filter(objections::application_id.eq(application_id))
            .filter(objections::resolved_at.is_null()),
    )
    .set((
        objections::resolved_at.eq(now),
        objections::resolved_by.eq(resolved_by),
        objections::upheld.eq(upheld),
        objections::resolution_comment.eq(comment),
    ))
    .execute(conn)?;
    Ok(resolved == 1)
}
