//! Accounts: the caller's own, and (for admins) the park's staff.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;

use crate::app::companies::CompanyView;
use crate::app::{Result, SignedIn};
use crate::config::PortalSettings;
use crate::db::audit::{self, Event};
use crate::db::tokens::{self, Purpose};
use crate::db::users::{self, UserChanges, UserRow};
use crate::db::{self, Db, outbox};
use crate::domain::account::{Email, StatusChange, check_staff_role, check_status_change};
use crate::domain::error::{Error as Refusal, FieldError};
use crate::domain::role::{Role, UserStatus};
use crate::domain::time;
use crate::domain::validation::{Choice, Vocabulary, Window, checked};
use crate::email::templates;
use crate::i18n::Text;

#[derive(Debug, Serialize, ToSchema)]
pub struct UserView {
    pub id: i64,
    pub email: String,
    pub display_name: String,
    pub role: Role,
    pub status: UserStatus,
    pub email_verified: bool,
    pub company_id: Option<i64>,
    /// Whether a second factor (TOTP) is on for the account.
    pub mfa_enabled: bool,
    pub created_at: DateTime<Utc>,
}

impl TryFrom<UserRow> for UserView {
    type Error = db::Error;

    fn try_from(row: UserRow) -> db::Result<Self> {
        Ok(Self {
            role: row.role()?,
            status: row.status()?,
            id: row.id,
            email: row.email,
            display_name: row.display_name,
            email_verified: row.email_verified_at.is_some(),
            company_id: row.company_id,
            mfa_enabled: row.mfa_enabled,
            created_at: time::to_utc(row.created_at),
        })
    }
}

/// The signed-in user and, for applicants, their company.
#[derive(Debug)]
pub struct Me {
    pub user: UserView,
    pub company: Option<CompanyView>,
}

/// The caller's own account.
pub async fn me(db: &Db, caller: &SignedIn) -> Result<Me> {
    let (caller, keys) = (caller.clone(), db.keys());
    db.read(move |conn| {
        let user: UserView = users::find(conn, caller.user_id)?.try_into()?;
        let company = match user.company_id {
            Some(id) => Some(CompanyView::load(conn, &keys, id, caller.role)?),
            None => None,
        };
        Ok(Me { user, company })
    })
    .await
}

/// A staff account to create. `form_errors` are the problems the edge already found in the input's form
/// (lengths, blank text); they are reported with the rest, after the access check.
#[derive(Debug)]
pub struct NewStaff {
    pub email: String,
    pub display_name: String,
    pub role: Choice<Role>,
    pub form_errors: Vec<FieldError>,
}

/// Creates a staff account (admin only); an invitation email lets its owner choose a password.
pub async fn create_staff(db: &Db, portal: &PortalSettings, caller: &SignedIn, input: NewStaff) -> Result<UserView> {
    caller.require(&[Role::Admin])?;
    let NewStaff { email, display_name, role, form_errors: mut errors } = input;
    let role = checked(Some(&role), "role", &mut errors);
    if let Some(role) = role {
        errors.extend(check_staff_role(role).err());
    }
    let email = Email::parse("email", &email).map_err(|e| errors.push(e)).ok();
    let (Some(email), Some(role), true) = (email, role, errors.is_empty()) else {
        return Err(Refusal::invalid(errors).into());
    };
    let actor = caller.actor();
    let base_url = portal.frontend_base_url.trim_end_matches('/').to_owned();
    let created = db
        .write(move |conn| {
            if users::email_taken(conn, email.as_str())? {
                return Err(Refusal::conflict(
                    "email_taken",
                    Text::new("该邮箱已有账号。", "An account with this email already exists."),
                )
                .into());
            }
            let now = time::now();
            let created = users::insert(
                conn,
                &users::NewUser {
                    email: email.as_str(),
                    password_hash: None,
                    display_name: display_name.trim(),
                    role: role.as_str(),
                    status: UserStatus::Active.as_str(),
                    email_verified_at: None,
                    company_id: None,
                    created_at: now,
                    updated_at: now,
                },
            )?;
            let token = tokens::issue(conn, created.id, Purpose::Invitation, now)?;
            let label = Vocabulary::label(role);
            let link = format!("{base_url}/accept-invitation?token={token}");
            outbox::enqueue(
                conn,
                &templates::invitation(&created.email, &created.display_name, &label.zh, &label.en, &link),
                now,
            )?;
            let summary = json!({ "email": created.email, "role": created.role });
            audit::append(conn, &actor, Event::new("user.create", "user", created.id, summary))?;
            Ok::<_, crate::app::Error>(created)
        })
        .await?;
    Ok(created.try_into()?)
}

/// Which accounts to list, and which page of them.
#[derive(Debug)]
pub struct UserFilter {
    pub role: Option<Role>,
    pub status: Option<UserStatus>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
    pub after: Option<String>,
}

/// A page of the accounts matching `filter` (admin only), and how many there are in all.
pub async fn list(db: &Db, caller: &SignedIn, filter: UserFilter) -> Result<(Vec<UserView>, Window, i64)> {
    caller.require(&[Role::Admin])?;
    let window = Window::parse(filter.page, filter.per_page)?;
    let start = crate::db::Start::of(window, filter.after.as_deref())?;
    let query = users::Filter {
        role: filter.role.map(|r| r.as_str().to_owned()),
        status: filter.status.map(|s| s.as_str().to_owned()),
    };
    let (rows, total) = db.read(move |conn| users::list(conn, &query, start, window.per_page)).await?;
    let items = rows.into_iter().map(UserView::try_from).collect::<db::Result<_>>()?;
    Ok((items, window, total))
}

/// The active experts a reviewer may name for a review, by id and name (reviewers and admins).
pub async fn experts(db: &Db, caller: &SignedIn) -> Result<Vec<(i64, String)>> {
    caller.require(&[Role::Reviewer, Role::Admin])?;
    let rows = db.read(|conn| users::active_with_role(conn, Role::Expert)).await?;
    Ok(rows.into_iter().map(|u| (u.id, u.display_name)).collect())
}

/// One account (admin only).
pub async fn get(db: &Db, caller: &SignedIn, id: i64) -> Result<UserView> {
    caller.require(&[Role::Admin])?;
    let row = db.read(move |conn| users::find(conn, id)).await?;
    Ok(row.try_into()?)
}

/// A change to an account; `form_errors` as in [`NewStaff`].
#[derive(Debug)]
pub struct UserPatch {
    pub display_name: Option<String>,
    pub status: Option<Choice<UserStatus>>,
    pub form_errors: Vec<FieldError>,
}

/// Renames, disables or re-enables an account (admin only); disabling ends its sessions at once.
pub async fn update(db: &Db, caller: &SignedIn, id: i64, patch: UserPatch) -> Result<UserView> {
    caller.require(&[Role::Admin])?;
    let UserPatch { display_name, status, form_errors: mut errors } = patch;
    let status = checked(status.as_ref(), "status", &mut errors);
    Refusal::unless_any(errors)?;
    let (actor, by_user_id) = (caller.actor(), caller.user_id);
    let updated = db
        .write(move |conn| {
            let active_admins = users::lock_active_admins(conn)?;
            let before = users::find(conn, id)?;
            let change =
                StatusChange { by_user_id, user_id: id, role: before.role()?, from: before.status()?, to: status };
            check_status_change(change, active_admins)?;
            let now = time::now();
            let changes = UserChanges {
                display_name: display_name.map(|n| n.trim().to_owned()),
                status: status.map(|s| s.as_str().to_owned()),
                updated_at: Some(now),
            };
            let after = users::update(conn, id, &changes)?;
            if status == Some(UserStatus::Disabled) {
                users::end_sessions(conn, id, None, now)?;
            }
            let summary = json!({
                "display_name": changes.display_name,
                "status": { "from": before.status, "to": after.status },
            });
            audit::append(conn, &actor, Event::new("user.update", "user", id, summary))?;
            Ok::<_, crate::app::Error>(after)
        })
        .await?;
    Ok(updated.try_into()?)
}
