//! A company registers itself and its first account, and proves the account's email address.

use std::net::IpAddr;

use chrono::NaiveDate;
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;

use crate::app::Result;
use crate::app::companies::CompanyView;
use crate::app::throttle;
use crate::app::users::UserView;
use crate::auth::password::Passwords;
use crate::config::PortalSettings;
use crate::db::audit::{self, Event};
use crate::db::tokens::{self, Purpose};
use crate::db::{Db, companies, outbox, users};
use crate::domain::account::{CheckedRegistration, Email, RegistrationForm, check_registration};
use crate::domain::audit::Actor;
use crate::domain::company::Industry;
use crate::domain::error::{Error as Refusal, FieldError};
use crate::domain::limits;
use crate::domain::role::{Role, UserStatus};
use crate::domain::time;
use crate::domain::validation::Choice;
use crate::email::templates;
use crate::i18n::Text;

/// The page of the frontend a emailed link opens, with its token.
pub(crate) fn link(portal: &PortalSettings, page: &str, token: &str) -> String {
    format!("{}/{page}?token={token}", portal.frontend_base_url.trim_end_matches('/'))
}

/// An emailed token that is unknown, spent or expired.
pub(crate) fn invalid_link() -> Refusal {
    Refusal::field(
        "token",
        "invalid_token",
        Text::new(
            "链接无效、已使用或已过期，请重新申请。",
            "This link is invalid, already used or expired; request a new one.",
        ),
    )
}

/// The company as it registers.
#[derive(Debug)]
pub struct NewCompany {
    pub credit_code: String,
    pub name: String,
    pub legal_representative: String,
    pub industry: Choice<Industry>,
    pub park_zone: String,
    pub established_on: NaiveDate,
    pub registered_capital_fen: i64,
    pub address: String,
    pub contact_phone: String,
}

/// Its first account.
#[derive(Debug)]
pub struct NewAccount {
    pub email: String,
    pub password: SecretString,
    pub display_name: String,
}

/// A registration. `form_errors` are the problems the edge already found in the input's form (lengths,
/// blank text); they are reported with every other problem, so the company can fix them in one go.
#[derive(Debug)]
pub struct Registration {
    pub company: NewCompany,
    pub account: NewAccount,
    pub form_errors: Vec<FieldError>,
}

#[derive(Debug)]
pub struct Registered {
    pub user: UserView,
    pub company: CompanyView,
}

/// Registers a company and its first account, from the client at `client`; a verification email follows.
pub async fn register(
    db: &Db,
    passwords: &Passwords,
    portal: &PortalSettings,
    request_id: &str,
    client: IpAddr,
    registration: Registration,
) -> Result<Registered> {
    let Registration { company, account, form_errors } = registration;
    let form = RegistrationForm {
        credit_code: &company.credit_code,
        company_name: &company.name,
        industry: &company.industry,
        established_on: company.established_on,
        contact_phone: &company.contact_phone,
        email: &account.email,
        password: account.password.expose_secret(),
        display_name: &account.display_name,
    };
    let CheckedRegistration { credit_code, industry, email } =
        check_registration(&form, time::today(portal.utc_offset), form_errors)?;
    // Committed on its own, before the hash: a refused registration counts too, so asking which credit
    // codes and emails are registered is as limited as registering.
    db.write(move |conn| {
        throttle::consume(
            conn,
            &format!("register:addr:{}", limits::client_key(client)),
            limits::REGISTRATIONS_PER_ADDRESS,
            time::now(),
        )
    })
    .await?;
    let hash = passwords.hash(account.password.clone()).await?;
    let (portal, request_id) = (portal.clone(), request_id.to_owned());
    let (user, company) = db
        .write(move |conn| {
            let now = time::now();
            if companies::credit_code_taken(conn, credit_code.as_str())? {
                return Err(Refusal::conflict(
                    "credit_code_taken",
                    Text::new(
                        "该统一社会信用代码已注册。如为贵公司注册，请用已注册的账号登录，或联系园区工作人员。",
                        "This credit code is already registered. Sign in with that account, or contact the park staff.",
                    ),
                )
                .into());
            }
            if users::email_taken(conn, email.as_str())? {
                return Err(Refusal::conflict(
                    "email_taken",
                    Text::new(
                        "该邮箱已注册账号，请直接登录或找回密码。",
                        "This email already has an account; sign in or reset the password.",
                    ),
                )
                .into());
            }
            let company = companies::insert(
                conn,
                &companies::NewCompany {
                    credit_code: credit_code.as_str(),
                    name: company.name.trim(),
                    legal_representative: company.legal_representative.trim(),
                    industry: industry.as_str(),
                    park_zone: company.park_zone.trim(),
                    established_on: company.established_on,
                    registered_capital_fen: company.registered_capital_fen,
                    address: company.address.trim(),
                    contact_phone: company.contact_phone.trim(),
                    created_at: now,
                    updated_at: now,
                },
            )?;
            let user = users::insert(
                conn,
                &users::NewUser {
                    email: email.as_str(),
                    password_hash: Some(&hash),
                    display_name: account.display_name.trim(),
                    role: Role::Applicant.as_str(),
                    status: UserStatus::Active.as_str(),
                    email_verified_at: None,
                    company_id: Some(company.id),
                    created_at: now,
                    updated_at: now,
                },
            )?;
            let token = tokens::issue(conn, user.id, Purpose::VerifyEmail, now)?;
            let message =
                templates::verify_email(&user.email, &user.display_name, &link(&portal, "verify-email", &token));
            outbox::enqueue(conn, &message, now)?;
            let actor = Actor { user_id: Some(user.id), role: Some(Role::Applicant), request_id: Some(request_id) };
            let summary = json!({ "credit_code": company.credit_code, "name": company.name, "user_id": user.id });
            audit::append(conn, &actor, Event::new("company.register", "company", company.id, summary))?;
            Ok::<_, crate::app::Error>((user, company))
        })
        .await?;
    Ok(Registered { user: user.try_into()?, company: CompanyView::new(company, None, Role::Applicant)? })
}

/// Confirms an email address with the token from the verification email.
pub async fn verify_email(db: &Db, request_id: &str, token: &str) -> Result<()> {
    let (token, request_id) = (token.trim().to_owned(), request_id.to_owned());
    db.write(move |conn| {
        let now = time::now();
        let (user_id, _) = tokens::spend(conn, &token, &[Purpose::VerifyEmail], now)?.ok_or_else(invalid_link)?;
        users::mark_email_verified(conn, user_id, now)?;
        let actor = Actor { user_id: Some(user_id), role: None, request_id: Some(request_id) };
        audit::append(conn, &actor, Event::new("user.verify_email", "user", user_id, json!({})))?;
        Ok(())
    })
    .await
}

/// Sends a new verification email if `email` has an active unverified account; the outcome is the same
/// either way, so nobody learns which addresses have accounts.
pub async fn resend_verification(db: &Db, portal: &PortalSettings, client: IpAddr, email: &str) -> Result<()> {
    let email = Email::parse("email", email).map_err(|e| Refusal::invalid(vec![e]))?;
    let portal = portal.clone();
    db.write(move |conn| {
        throttle::consume_email_sending(conn, "resend", email.as_str(), client)?;
        let user = users::find_by_email(conn, email.as_str())?;
        if let Some(user) = user.filter(|u| u.email_verified_at.is_none() && u.status == UserStatus::Active.as_str()) {
            let now = time::now();
            let token = tokens::issue(conn, user.id, Purpose::VerifyEmail, now)?;
            let message =
                templates::verify_email(&user.email, &user.display_name, &link(&portal, "verify-email", &token));
            outbox::enqueue(conn, &message, now)?;
        }
        Ok(())
    })
    .await
}
