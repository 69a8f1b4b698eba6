//! The files uploaded for an application: their rows (the files themselves are in storage).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConnection;
use super::schema::{applications, attachments};
use crate::db::error::Result;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = attachments)]
pub struct AttachmentRow {
    pub id: i64,
    pub application_id: i64,
    pub material_key: String,
    pub file_name: String,
    pub storage_key: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub sha256: String,
    pub uploaded_by: i64,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = attachments)]
pub struct NewAttachment<'a> {
    pub application_id: i64,
    pub material_key: &'a str,
    pub file_name: &'a str,
    pub storage_key: &'a str,
    pub content_type: &'a str,
    pub size_bytes: i64,
    pub sha256: &'a str,
    pub uploaded_by: i64,
    pub created_at: NaiveDateTime,
}

pub fn of_application(conn: &mut DbConnection, application_id: i64) -> Result<Vec<AttachmentRow>> {
    Ok(attachments::table
        .filter(attachments::application_id.eq(application_id))
        .order(attachments::id.asc())
        .select(AttachmentRow::as_select())
        .load(conn)?)
}

pub fn total_bytes(conn: &mut DbConnection, application_id: i64) -> Result<i64> {
    let total: Option<i64> = attachments::table
        .filter(attachments::application_id.eq(application_id))
        .select(diesel::dsl::sql::<diesel::sql_types::Nullable<diesel::sql_types::BigInt>>(
            "CAST(SUM(size_bytes) AS BIGINT)",
        ))
        .first(conn)?;
    Ok(total.unwrap_or(0))
}

/// What the company's uploaded files weigh together, over all its applications.
pub fn company_total_bytes(conn: &mut DbConnection, company_id: i64) -> Result<i64> {
    let total: Option<i64> = attachments::table
        .inner_join(applications::table)
        .filter(applications::company_id.eq(company_id))
        .select(diesel::dsl::sql::<diesel::sql_types::Nullable<diesel::sql_types::BigInt>>(
            "CAST(SUM(attachments.size_bytes) AS BIGINT)",
        ))
        .first(conn)?;
    Ok(total.unwrap_or(0))
}

pub fn insert(conn: &mut DbConnection, attachment: &NewAttachment<'_>) -> Result<AttachmentRow> {
    Ok(diesel::insert_into(attachments::table).values(attachment).get_result(conn)?)
}

pub fn delete(conn: &mut DbConnection, application_id: i64, id: i64) -> Result<Option<AttachmentRow>> {
    let row = attachments::table
        .filter(attachments::id.eq(id))
        .filter(attachments::application_id.eq(application_id))
        .select(AttachmentRow::as_select())
        .first(conn)
        .optional()?;
    if let Some(row) = &row {
        diesel::delete(attachments::table.find(row.id)).execute(conn)?;
    }
    Ok(row)
}
