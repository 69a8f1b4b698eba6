//! Accounts and their sessions.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConnection;
use super::on_backend;
use super::schema::{sessions, spent_refresh_tokens, user_counts, users};
use crate::db::error::{Error, Result};
use crate::domain::role::{Role, UserStatus};

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
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
    /// Whether the user has confirmed a second factor (see [`crate::db::mfa`]).
    pub mfa_enabled: bool,
}

impl UserRow {
    pub fn role(&self) -> Result<Role> {
        stored_role(&self.role)
    }

    pub fn status(&self) -> Result<UserStatus> {
        UserStatus::parse(&self.status)
            .ok_or_else(|| Error::inconsistent(format!("unknown user status `{}`", self.status)))
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

impl<'a> NewUser<'a> {
    /// An active staff account with a verified email and a password: what the command line creates.
    pub fn active_staff(
        email: &'a str,
        password_hash: &'a str,
        display_name: &'a str,
        role: Role,
        now: NaiveDateTime,
    ) -> Self {
        Self {
            email,
            password_hash: Some(password_hash),
            display_name,
            role: role.as_str(),
            status: UserStatus::Active.as_str(),
            email_verified_at: Some(now),
            company_id: None,
            created_at: now,
            updated_at: now,
        }
    }
}

pub fn insert(conn: &mut DbConnection, user: &NewUser<'_>) -> Result<UserRow> {
    diesel::insert_into(users::table).values(user).get_result::<UserRow>(conn).map_err(Error::from)
}

/// A demo company's account, verified and without a password, so nobody can sign in as it.
pub fn insert_demo_applicant(
    conn: &mut DbConnection,
    company_id: i64,
    email: &str,
    display_name: &str,
    now: NaiveDateTime,
) -> Result<UserRow> {
    let user = NewUser {
        email,
        password_hash: None,
        display_name,
        role: Role::Applicant.as_str(),
        status: UserStatus::Active.as_str(),
        email_verified_at: Some(now),
        company_id: Some(company_id),
        created_at: now,
        updated_at: now,
    };
    insert(conn, &user)
}

pub fn find(conn: &mut DbConnection, id: i64) -> Result<UserRow> {
    Ok(users::table.find(id).select(UserRow::as_select()).first(conn)?)
}

pub fn find_by_email(conn: &mut DbConnection, email: &str) -> Result<Option<UserRow>> {
    Ok(users::table.filter(users::email.eq(email)).select(UserRow::as_select()).first(conn).optional()?)
}

pub fn email_taken(conn: &mut DbConnection, email: &str) -> Result<bool> {
    Ok(diesel::select(diesel::dsl::exists(users::table.filter(users::email.eq(email)))).get_result(conn)?)
}

pub fn set_password_hash(conn: &mut DbConnection, id: i64, hash: &str, now: NaiveDateTime) -> Result<()> {
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
    /// `api` or `console`.
    pub kind: String,
    pub last_seen_at: Option<NaiveDateTime>,
}

const API_SESSION: &str = "api";
const CONSOLE_SESSION: &str = "console";

pub fn start_session(
    conn: &mut DbConnection,
    user_id: i64,
    refresh_token_hash: &str,
    now: NaiveDateTime,
    expires_at: NaiveDateTime,
) -> Result<i64> {
    Ok(diesel::insert_into(sessions::table)
        .values((
            sessions::user_id.eq(user_id),
            sessions::refresh_token_hash.eq(refresh_token_hash),
            sessions::created_at.eq(now),
            sessions::expires_at.eq(expires_at),
            sessions::last_seen_at.eq(now),
        ))
        .get_result::<SessionRow>(conn)?
        .id)
}

/// A console session: the signed-in user's session, found by the digest of the secret its cookie holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsoleCaller {
    pub session_id: i64,
    pub user_id: i64,
    pub role: Role,
    pub company_id: Option<i64>,
    pub display_name: String,
    pub mfa_enabled: bool,
    pub last_seen_at: NaiveDateTime,
}

/// The caller behind a live session used since `idle_since`, found by the digest of its secret.
pub fn console_caller(
    conn: &mut DbConnection,
    token_hash: &str,
    now: NaiveDateTime,
    idle_since: NaiveDateTime,
) -> Result<Option<ConsoleCaller>> {
    type Found = (i64, i64, String, Option<i64>, String, bool, Option<NaiveDateTime>);
    let active: &'static str = UserStatus::Active.as_str();
    let found: Option<Found> = on_backend!(conn, inner => sessions::table
        .inner_join(users::table)
        .filter(sessions::refresh_token_hash.eq(token_hash))
        .filter(sessions::kind.eq(CONSOLE_SESSION))
        .filter(sessions::revoked_at.is_null())
        .filter(sessions::expires_at.gt(now))
        .filter(sessions::last_seen_at.ge(idle_since))
        .filter(users::status.eq(active))
        .select((
            sessions::id,
            users::id,
            users::role,
            users::company_id,
            users::display_name,
            users::mfa_enabled,
            sessions::last_seen_at,
        ))
        .first(inner)
        .optional())?;
    found
        .map(|(session_id, user_id, role, company_id, display_name, mfa_enabled, last_seen_at)| {
            Ok(ConsoleCaller {
                session_id,
                user_id,
                role: stored_role(&role)?,
                company_id,
                display_name,
                mfa_enabled,
                last_seen_at: last_seen_at.unwrap_or(now),
            })
        })
        .transpose()
}

/// Makes a session just started the console's: its secret becomes `new_hash`'s, so the refresh token the
/// sign-in answered is dead, and the API never exchanges the console's secret for tokens.
pub fn make_console_session(conn: &mut DbConnection, session_id: i64, old_hash: &str, new_hash: &str) -> Result<bool> {
    let changed = diesel::update(
        sessions::table
            .find(session_id)
            .filter(sessions::refresh_token_hash.eq(old_hash))
            .filter(sessions::revoked_at.is_null()),
    )
    .set((sessions::kind.eq(CONSOLE_SESSION), sessions::refresh_token_hash.eq(new_hash)))
    .execute(conn)?;
    Ok(changed == 1)
}

/// Marks a live session as used at `now`, unless it was marked since `fresh_since` (one write a minute,
/// not one per page).
pub fn touch_session(
    conn: &mut DbConnection,
    session_id: i64,
    now: NaiveDateTime,
    fresh_since: NaiveDateTime,
) -> Result<()> {
    diesel::update(
        sessions::table
            .find(session_id)
            .filter(sessions::revoked_at.is_null())
            .filter(sessions::last_seen_at.lt(fresh_since)),
    )
    .set(sessions::last_seen_at.eq(now))
    .execute(conn)?;
    Ok(())
}

/// Sessions joined with their users, kept to the one that is live: not revoked, not expired, and its user
/// active.
#[diesel::dsl::auto_type(no_type_alias)]
fn live_session(user_id: i64, session_id: i64, now: NaiveDateTime) -> _ {
    let active: &'static str = UserStatus::Active.as_str();
    sessions::table
        .inner_join(users::table)
        .filter(sessions::id.eq(session_id))
        .filter(sessions::user_id.eq(user_id))
        .filter(sessions::revoked_at.is_null())
        .filter(sessions::expires_at.gt(now))
        .filter(users::status.eq(active))
}

/// The user behind a live session.
pub fn find_by_live_session(
    conn: &mut DbConnection,
    user_id: i64,
    session_id: i64,
    now: NaiveDateTime,
) -> Result<Option<UserRow>> {
    Ok(live_session(user_id, session_id, now).select(UserRow::as_select()).first(conn).optional()?)
}

/// The user behind a live session, as every signed-in request checks it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LiveCaller {
    pub role: Role,
    pub company_id: Option<i64>,
    /// Whether the user has confirmed a second factor.
    pub mfa_enabled: bool,
}

/// The role, company and second factor of the user behind a live session.
pub fn caller_of_live_session(
    conn: &mut DbConnection,
    user_id: i64,
    session_id: i64,
    now: NaiveDateTime,
) -> Result<Option<LiveCaller>> {
    let caller: Option<(String, Option<i64>, bool)> = on_backend!(conn, inner => live_session(user_id, session_id, now)
        .select((users::role, users::company_id, users::mfa_enabled))
        .first(inner)
        .optional())?;
    caller
        .map(|(role, company_id, mfa_enabled)| Ok(LiveCaller { role: stored_role(&role)?, company_id, mfa_enabled }))
        .transpose()
}

fn stored_role(name: &str) -> Result<Role> {
    Role::parse(name).ok_or_else(|| Error::inconsistent(format!("unknown role `{name}`")))
}

#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub role: Option<String>,
    pub status: Option<String>,
}

/// Accounts newest first from `start`: up to `limit` + 1 (the extra one tells that more follow), with the total
/// from the counters.
pub fn list(
    conn: &mut DbConnection,
    filter: &Filter,
    start: super::Start<i64>,
    limit: i64,
) -> Result<(Vec<UserRow>, i64)> {
    let query = || {
        let mut query = users::table.into_boxed();
        if let Some(role) = &filter.role {
            query = query.filter(users::role.eq(role.clone()));
        }
        if let Some(status) = &filter.status {
            query = query.filter(users::status.eq(status.clone()));
        }
        query
    };
    let mut counted = user_counts::table.into_boxed();
    if let Some(role) = &filter.role {
        counted = counted.filter(user_counts::role.eq(role.clone()));
    }
    if let Some(status) = &filter.status {
        counted = counted.filter(user_counts::status.eq(status.clone()));
    }
    let total = counted.select(user_counts::n).load::<i64>(conn)?.into_iter().sum();
    let page = match start {
        super::Start::Offset(offset) => query().offset(offset),
        super::Start::After(id) => query().filter(users::id.lt(id)),
    };
    let rows = page.order(users::id.desc()).limit(limit + 1).select(UserRow::as_select()).load(conn)?;
    Ok((rows, total))
}

#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = users)]
pub struct UserChanges {
    pub display_name: Option<String>,
    pub status: Option<String>,
    pub updated_at: Option<NaiveDateTime>,
}

pub fn update(conn: &mut DbConnection, id: i64, changes: &UserChanges) -> Result<UserRow> {
    diesel::update(users::table.find(id)).set(changes).execute(conn)?;
    find(conn, id)
}

/// Locks every active administrator's row and counts them, so two administrators disabling each other at
/// once cannot both see the other still active.
pub fn lock_active_admins(conn: &mut DbConnection) -> Result<i64> {
    let locked = diesel::update(
        users::table.filter(users::role.eq(Role::Admin.as_str())).filter(users::status.eq(UserStatus::Active.as_str())),
    )
    .set(users::updated_at.eq(users::updated_at))
    .execute(conn)?;
    Ok(i64::try_from(locked).unwrap_or(i64::MAX))
}

pub fn mark_email_verified(conn: &mut DbConnection, id: i64, now: NaiveDateTime) -> Result<()> {
    diesel::update(users::table.find(id).filter(users::email_verified_at.is_null()))
        .set((users::email_verified_at.eq(now), users::updated_at.eq(now)))
        .execute(conn)?;
    Ok(())
}

/// Ends every live session of `user_id` but `keep`; their access and refresh tokens stop working at once.
pub fn end_sessions(conn: &mut DbConnection, user_id: i64, keep: Option<i64>, now: NaiveDateTime) -> Result<usize> {
    let live = sessions::table.filter(sessions::user_id.eq(user_id)).filter(sessions::revoked_at.is_null());
    let ended = match keep {
        Some(keep) => {
            diesel::update(live.filter(sessions::id.ne(keep))).set(sessions::revoked_at.eq(now)).execute(conn)?
        }
        None => diesel::update(live).set(sessions::revoked_at.eq(now)).execute(conn)?,
    };
    Ok(ended)
}

pub fn end_session(conn: &mut DbConnection, session_id: i64, now: NaiveDateTime) -> Result<()> {
    diesel::update(sessions::table.find(session_id).filter(sessions::revoked_at.is_null()))
        .set(sessions::revoked_at.eq(now))
        .execute(conn)?;
    Ok(())
}

/// What presenting a refresh token led to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refresh {
    /// Exchanged: the session and its user, now holding the new token.
    Rotated {
        session_id: i64,
        user: UserRow,
    },
    /// The token was already exchanged once: someone replayed it, so its session has been ended.
    Reused {
        session_id: i64,
        user_id: i64,
    },
    Invalid,
}

/// Exchanges `old_hash` for `new_hash` with one conditional update, so two requests racing with the same
/// token cannot both succeed; a spent token ends its whole session.
pub fn rotate_refresh_token(
    conn: &mut DbConnection,
    old_hash: &str,
    new_hash: &str,
    now: NaiveDateTime,
) -> Result<Refresh> {
    let spent: Option<(i64, i64)> = spent_refresh_tokens::table
        .inner_join(sessions::table)
        .filter(spent_refresh_tokens::token_hash.eq(old_hash))
        .select((sessions::id, sessions::user_id))
        .first(conn)
        .optional()?;
    if let Some((session_id, user_id)) = spent {
        end_session(conn, session_id, now)?;
        return Ok(Refresh::Reused { session_id, user_id });
    }
    let session: Option<SessionRow> = sessions::table
        .filter(sessions::refresh_token_hash.eq(old_hash))
        .filter(sessions::kind.eq(API_SESSION))
        .filter(sessions::revoked_at.is_null())
        .filter(sessions::expires_at.gt(now))
        .first(conn)
        .optional()?;
    let Some(session) = session else { return Ok(Refresh::Invalid) };
    let rotated = diesel::update(
        sessions::table
            .find(session.id)
            .filter(sessions::refresh_token_hash.eq(old_hash))
            .filter(sessions::revoked_at.is_null()),
    )
    .set(sessions::refresh_token_hash.eq(new_hash))
    .execute(conn)?;
    if rotated != 1 {
        return Ok(Refresh::Invalid);
    }
    diesel::insert_into(spent_refresh_tokens::table)
        .values((
            spent_refresh_tokens::token_hash.eq(old_hash),
            spent_refresh_tokens::session_id.eq(session.id),
            spent_refresh_tokens::spent_at.eq(now),
        ))
        .execute(conn)?;
    match find_by_live_session(conn, session.user_id, session.id, now)? {
        Some(user) => Ok(Refresh::Rotated { session_id: session.id, user }),
        None => Ok(Refresh::Invalid),
    }
}

/// The active accounts of a company, to tell it about decisions.
pub fn of_company(conn: &mut DbConnection, company_id: i64) -> Result<Vec<UserRow>> {
    Ok(users::table
        .filter(users::company_id.eq(company_id))
        .filter(users::status.eq(UserStatus::Active.as_str()))
        .order(users::id.asc())
        .select(UserRow::as_select())
        .load(conn)?)
}

pub fn session_of_refresh_token(conn: &mut DbConnection, token_hash: &str) -> Result<Option<SessionRow>> {
    Ok(sessions::table.filter(sessions::refresh_token_hash.eq(token_hash)).first(conn).optional()?)
}

/// Active staff of one role, to tell them about work waiting for them.
pub fn active_with_role(conn: &mut DbConnection, role: Role) -> Result<Vec<UserRow>> {
    Ok(users::table
        .filter(users::role.eq(role.as_str()))
        .filter(users::status.eq(UserStatus::Active.as_str()))
        .order(users::id.asc())
        .select(UserRow::as_select())
        .load(conn)?)
}
