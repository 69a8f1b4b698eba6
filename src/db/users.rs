//! Accounts and their sessions.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConnection;
use super::schema::{sessions, users};
use crate::domain::role::{Role, UserStatus};
use crate::error::ApiError;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = users)]
pub struct UserRow {
    pub id: i64,
    pub email: String,
    pub password_hash: Option<String>,
    pub display_name: String,
    pub role: String,
    pub status: String,
    pub email_verified_at: Option<NaiveDateTime>,
    pub company_id: Option<i64>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl UserRow {
    pub fn role(&self) -> Result<Role, ApiError> {
        Role::parse(&self.role).ok_or_else(|| ApiError::Internal(anyhow::anyhow!("unknown role `{}`", self.role)))
    }

    pub fn status(&self) -> Result<UserStatus, ApiError> {
        UserStatus::parse(&self.status)
            .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("unknown user status `{}`", self.status)))
    }
}

#[derive(Debug, Insertable)]
#[diesel(table_name = users)]
pub struct NewUser<'a> {
    pub email: &'a str,
    pub password_hash: Option<&'a str>,
    pub display_name: &'a str,
    pub role: &'a str,
    pub status: &'a str,
    pub email_verified_at: Option<NaiveDateTime>,
    pub company_id: Option<i64>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

pub fn insert(conn: &mut DbConnection, user: &NewUser<'_>) -> Result<UserRow, ApiError> {
    diesel::insert_into(users::table).values(user).get_result::<UserRow>(conn).map_err(ApiError::from)
}

pub fn find(conn: &mut DbConnection, id: i64) -> Result<UserRow, ApiError> {
    Ok(users::table.find(id).select(UserRow::as_select()).first(conn)?)
}

pub fn find_by_email(conn: &mut DbConnection, email: &str) -> Result<Option<UserRow>, ApiError> {
    Ok(users::table.filter(users::email.eq(email)).select(UserRow::as_select()).first(conn).optional()?)
}

pub fn email_taken(conn: &mut DbConnection, email: &str) -> Result<bool, ApiError> {
    Ok(diesel::select(diesel::dsl::exists(users::table.filter(users::email.eq(email)))).get_result(conn)?)
}

pub fn set_password_hash(conn: &mut DbConnection, id: i64, hash: &str, now: NaiveDateTime) -> Result<(), ApiError> {
    diesel::update(users::table.find(id))
        .set((users::password_hash.eq(hash), users::updated_at.eq(now)))
        .execute(conn)?;
    Ok(())
}

#[derive(Debug, Clone, Queryable)]
pub struct SessionRow {
    pub id: i64,
    pub user_id: i64,
    pub refresh_token_hash: String,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub revoked_at: Option<NaiveDateTime>,
}

pub fn start_session(
    conn: &mut DbConnection,
    user_id: i64,
    refresh_token_hash: &str,
    now: NaiveDateTime,
    expires_at: NaiveDateTime,
) -> Result<i64, ApiError> {
    Ok(diesel::insert_into(sessions::table)
        .values((
            sessions::user_id.eq(user_id),
            sessions::refresh_token_hash.eq(refresh_token_hash),
            sessions::created_at.eq(now),
            sessions::expires_at.eq(expires_at),
        ))
        .get_result::<SessionRow>(conn)?
        .id)
}

/// The user behind a live session: the session is not revoked or expired and the user is active.
pub fn find_by_live_session(
    conn: &mut DbConnection,
    user_id: i64,
    session_id: i64,
    now: NaiveDateTime,
) -> Result<Option<UserRow>, ApiError> {
    Ok(sessions::table
        .inner_join(users::table)
        .filter(sessions::id.eq(session_id))
        .filter(sessions::user_id.eq(user_id))
        .filter(sessions::revoked_at.is_null())
        .filter(sessions::expires_at.gt(now))
        .filter(users::status.eq(UserStatus::Active.as_str()))
        .select(UserRow::as_select())
        .first(conn)
        .optional()?)
}
