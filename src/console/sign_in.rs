//! Signing in and out of the console, and its language switch.

use actix_web::cookie::Cookie;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use secrecy::SecretString;
use serde::Deserialize;

use crate::api::client::ClientAddr;
use crate::api::middleware::RequestContext;
use crate::app::sessions;
use crate::auth::password::Passwords;
use crate::auth::tokens::Tokens;
use crate::console::failure::{Failure, explain, refused_status};
use crate::console::session::{
    CookiePolicy, LANG_COOKIE, PATH, Posted, SESSION_COOKIE, lang_of, local, same_origin, see_other,
};
use crate::console::view::Frame;
use crate::db::Db;
use crate::domain::role::Role;
use crate::i18n::{Lang, Text};

#[derive(Template)]
#[template(path = "console/login.html")]
struct LoginPage {
    frame: Frame,
    next: String,
    email: String,
    problem: Option<Text>,
}

fn login_page(lang: Lang, next: &str, email: &str, problem: Option<Text>) -> Result<String, Failure> {
    let frame = Frame::bare(lang, Text::new("登录", "Sign in").get(lang).to_owned());
    Ok(LoginPage { frame, next: local(next), email: email.to_owned(), problem }.render()?)
}

#[derive(Debug, Deserialize)]
pub struct Next {
    next: Option<String>,
}

pub async fn form(req: HttpRequest, query: web::Query<Next>) -> Result<HttpResponse, Failure> {
    let next = query.into_inner().next.unwrap_or_default();
    let page = login_page(lang_of(&req), &next, "", None)?;
    Ok(HttpResponse::Ok().content_type(mime::TEXT_HTML_UTF_8).body(page))
}

#[derive(Deserialize)]
pub struct Credentials {
    email: String,
    password: SecretString,
    next: Option<String>,
}

/// Signs in with the same use case as the API; the session's secret goes into an `HttpOnly` cookie that
/// only `/console` receives. A company's account is signed out again at once: the console is for staff.
#[allow(clippy::too_many_arguments)]
pub async fn sign_in(
    req: HttpRequest,
    ctx: RequestContext,
    client: ClientAddr,
    db: web::Data<Db>,
    passwords: web::Data<Passwords>,
    tokens: web::Data<Tokens>,
    policy: web::Data<CookiePolicy>,
    form: web::Form<Credentials>,
) -> Result<HttpResponse, Failure> {
    if !same_origin(&req) {
        return Err(Failure::CrossSite);
    }
    let Credentials { email, password, next } = form.into_inner();
    let next = local(next.as_deref().unwrap_or("/console/"));
    let lang = lang_of(&req);
    let refused = |status, problem| -> Result<HttpResponse, Failure> {
        let page = login_page(lang, &next, &email, Some(problem))?;
        Ok(HttpResponse::build(status).content_type(mime::TEXT_HTML_UTF_8).body(page))
    };
    let session = match sessions::login(&db, &passwords, &tokens, &ctx.id, client.0, &email, password).await {
        Ok(Some(session)) => session,
        Ok(None) => {
            let problem = Text::new("邮箱或密码不正确。", "The email or password is wrong.");
            return refused(actix_web::http::StatusCode::UNAUTHORIZED, problem);
        }
        Err(crate::app::Error::Refused(refusal)) => {
            let problem = explain(&refusal).into_iter().next().unwrap_or(Text::new("无法登录。", "Cannot sign in."));
            return refused(refused_status(&refusal), problem);
        }
        Err(error) => return Err(error.into()),
    };
    if session.user.role == Role::Applicant {
        let caller = crate::app::SignedIn {
            user_id: session.user.id,
            role: Role::Applicant,
            company_id: None,
            session_id: session.session_id,
            request_id: ctx.id.clone(),
        };
        sessions::logout(&db, &caller, &session.refresh_token).await?;
        return Err(Failure::StaffOnly);
    }
    let mut response = see_other(&next);
    response.add_cookie(&policy.session_cookie(&session.refresh_token)).map_err(|e| Failure::Internal(e.into()))?;
    Ok(response)
}

#[derive(Deserialize)]
pub struct Nothing {}

/// Ends the session on every tab and every instance, and forgets the cookie.
pub async fn sign_out(
    req: HttpRequest,
    posted: Posted<Nothing>,
    db: web::Data<Db>,
    policy: web::Data<CookiePolicy>,
) -> Result<HttpResponse, Failure> {
    let secret = req.cookie(SESSION_COOKIE).map(|c| c.value().to_owned()).unwrap_or_default();
    sessions::logout(&db, &posted.staff.caller, &secret).await?;
    let mut response = see_other("/console/login");
    response.add_cookie(&policy.session_cookie("")).map_err(|e| Failure::Internal(e.into()))?;
    Ok(response)
}

#[derive(Deserialize)]
pub struct Switch {
    to: String,
    back: Option<String>,
}

/// Chinese or English from now on, back on the same page.
pub async fn switch_language(
    query: web::Query<Switch>,
    policy: web::Data<CookiePolicy>,
) -> Result<HttpResponse, Failure> {
    let Switch { to, back } = query.into_inner();
    let value = if to == "en" { "en" } else { "zh" };
    let cookie = Cookie::build(LANG_COOKIE, value)
        .path(PATH)
        .same_site(actix_web::cookie::SameSite::Lax)
        .secure(policy.secure)
        .permanent()
        .finish();
    let mut response = see_other(&local(back.as_deref().unwrap_or("/console/")));
    response.add_cookie(&cookie).map_err(|e| Failure::Internal(e.into()))?;
    Ok(response)
}
