//! Who is at the console: a cookie holding the secret of a session in the same sessions table the API
//! uses, so signing out, disabling an account or changing a password ends it at once on every instance.
//! Every state-changing request carries the session's form token and comes from our own pages.

use std::future::Future;
use std::pin::Pin;

use actix_web::cookie::{Cookie, SameSite};
use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpMessage, HttpRequest, HttpResponse, web};
use chrono::{Duration, FixedOffset};
use serde::de::DeserializeOwned;

use crate::api::middleware::RequestContext;
use crate::app::SignedIn;
use crate::app::sessions;
use crate::auth::secret;
use crate::config::PortalSettings;
use crate::console::failure::Failure;
use crate::db::Db;
use crate::domain::role::Role;
use crate::i18n::Lang;

pub const SESSION_COOKIE: &str = "portal_console";
pub const LANG_COOKIE: &str = "portal_console_lang";
pub const PATH: &str = "/console";

/// How the console's cookies are set and how long an unused session lasts.
#[derive(Debug, Clone, Copy)]
pub struct CookiePolicy {
    /// `Secure` everywhere but on a developer's machine, where the console is served over plain HTTP.
    pub secure: bool,
    pub idle_timeout: Duration,
}

impl CookiePolicy {
    /// The session cookie holding `secret`; an empty secret with no lifetime removes it.
    pub fn session_cookie(&self, secret: &str) -> Cookie<'static> {
        let mut cookie = Cookie::build(SESSION_COOKIE, secret.to_owned())
            .path(PATH)
            .http_only(true)
            .same_site(SameSite::Strict)
            .secure(self.secure)
            .finish();
        if secret.is_empty() {
            cookie.make_removal();
        }
        cookie
    }
}

/// The language the console speaks to this browser: the one chosen with the switch, Chinese otherwise.
pub fn lang_of(req: &HttpRequest) -> Lang {
    match req.cookie(LANG_COOKIE).as_ref().map(Cookie::value) {
        Some("en") => Lang::En,
        _ => Lang::Zh,
    }
}

/// A staff member with a live console session.
#[derive(Debug, Clone)]
pub struct Staff {
    pub caller: SignedIn,
    pub display_name: String,
    /// The token this session's forms carry.
    pub csrf: String,
    pub lang: Lang,
    pub utc_offset: FixedOffset,
    /// The page asked for, query included: where the language switch comes back to.
    pub here: String,
}

/// The form token of the session whose cookie holds `secret`: only a page of ours, read with the cookie,
/// can know it.
fn csrf_token(secret: &str) -> String {
    secret::digest(&format!("console-form:{secret}"))
}

impl FromRequest for Staff {
    type Error = Failure;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Failure>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { staff(&req).await })
    }
}

async fn staff(req: &HttpRequest) -> Result<Staff, Failure> {
    let sign_in = || Failure::SignIn { next: next_of(req) };
    let secret = req.cookie(SESSION_COOKIE).map(|c| c.value().to_owned()).filter(|s| !s.is_empty());
    let secret = secret.ok_or_else(sign_in)?;
    let db = app_data::<Db>(req)?;
    let policy = app_data::<CookiePolicy>(req)?;
    let portal = app_data::<PortalSettings>(req)?;
    let request_id = req.extensions().get::<RequestContext>().map(|c| c.id.clone()).unwrap_or_default();
    let session = sessions::resume(&db, &secret, &request_id, policy.idle_timeout).await?.ok_or_else(sign_in)?;
    if session.caller.role == Role::Applicant {
        return Err(Failure::StaffOnly);
    }
    // A role that must have a second factor sets one up before anything else.
    let policy_of_factors = app_data::<crate::app::mfa::Policy>(req)?;
    let exempt = req.path().starts_with("/console/mfa") || req.path() == "/console/logout";
    if !exempt && policy_of_factors.check(session.caller.role, session.mfa_enabled).is_err() {
        return Err(Failure::SecondFactorFirst);
    }
    Ok(Staff {
        caller: session.caller,
        display_name: session.display_name,
        csrf: csrf_token(&secret),
        lang: lang_of(req),
        utc_offset: portal.utc_offset,
        here: local(req.uri().path_and_query().map_or(PATH, |p| p.as_str())),
    })
}

fn app_data<T: 'static>(req: &HttpRequest) -> Result<web::Data<T>, Failure> {
    req.app_data::<web::Data<T>>()
        .cloned()
        .ok_or_else(|| Failure::Internal(anyhow::anyhow!("{} missing from app data", std::any::type_name::<T>())))
}

/// Where to come back to after signing in: this page, when it is a console page.
fn next_of(req: &HttpRequest) -> String {
    let target = req.uri().path_and_query().map_or(PATH, |p| p.as_str());
    if req.method() == actix_web::http::Method::GET { local(target) } else { "/console/".to_owned() }
}

/// `target` if it is a console address, the dashboard otherwise: a link cannot send anyone elsewhere.
pub fn local(target: &str) -> String {
    let is_console = target == PATH || target.starts_with("/console/") || target.starts_with("/console?");
    let plain = !target.contains("//") && !target.contains('\\') && !target.chars().any(char::is_control);
    if is_console && plain { target.to_owned() } else { "/console/".to_owned() }
}

/// A state-changing request is ours only if the browser says it comes from a page of this host: `Origin`,
/// or `Referer` when a browser sends no `Origin`.
pub fn same_origin(req: &HttpRequest) -> bool {
    let Some(host) = req.headers().get(header::HOST).and_then(|h| h.to_str().ok()) else {
        return false;
    };
    let from = req
        .headers()
        .get(header::ORIGIN)
        .or_else(|| req.headers().get(header::REFERER))
        .and_then(|h| h.to_str().ok())
        .and_then(|v| url::Url::parse(v).ok());
    from.is_some_and(|url| {
        let authority = match (url.host_str(), url.port()) {
            (Some(h), Some(p)) => format!("{h}:{p}"),
            (Some(h), None) => h.to_owned(),
            _ => return false,
        };
        authority.eq_ignore_ascii_case(host)
    })
}

/// A form posted by a signed-in staff member from one of this session's pages: its origin and token are
/// checked before anything else is read.
pub struct Posted<T> {
    pub staff: Staff,
    pub form: T,
}

#[derive(serde::Deserialize)]
struct Token {
    csrf: Option<String>,
}

impl<T: DeserializeOwned + 'static> FromRequest for Posted<T> {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, actix_web::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let body = web::Bytes::from_request(&req, payload);
        Box::pin(async move {
            let staff = staff(&req).await?;
            let body = body.await?;
            let token: Token = serde_urlencoded::from_bytes(&body).map_err(|_| Failure::CrossSite)?;
            let matches = token.csrf.is_some_and(|t| constant_time_eq(t.as_bytes(), staff.csrf.as_bytes()));
            if !matches || !same_origin(&req) {
                tracing::warn!(path = %req.path(), "console form refused: no valid form token or not from this site");
                return Err(Failure::CrossSite.into());
            }
            let form = serde_urlencoded::from_bytes(&body).map_err(|e| {
                Failure::Refused(crate::domain::error::Error::field(
                    "form",
                    "malformed",
                    crate::i18n::Text::owned(format!("表单内容有误：{e}"), format!("The form is malformed: {e}")),
                ))
            })?;
            Ok(Posted { staff, form })
        })
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A redirect after a form was handled, so reloading the page does not send it again.
pub fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther().insert_header((header::LOCATION, location.to_owned())).finish()
}
