//! Signing in and out of the console, and its language switch.

use actix_web::cookie::Cookie;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use secrecy::SecretString;
use serde::Deserialize;

use crate::api::client::ClientAddr;
use crate::api::middleware::RequestContext;
use crate::app::mfa::{self, Enrolment, Policy};
use crate::app::sessions::{self, SecondStep, Session, SignIn};
use crate::auth::password::Passwords;
use crate::auth::tokens::Tokens;
use crate::console::dashboard::html;
use crate::console::failure::{Failure, explain, refused_status};
use crate::console::session::Staff;
use crate::console::session::{
    CookiePolicy, LANG_COOKIE, PATH, Posted, SESSION_COOKIE, lang_of, local, same_origin, see_other,
};
use crate::console::view::Frame;
use crate::db::Db;
use crate::domain::error::Error as Refusal;
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
        Ok(Some(SignIn::Session(session))) => session,
        Ok(Some(SignIn::SecondFactorNeeded { mfa_token, .. })) => {
            let page = code_page(lang, &next, &mfa_token, None)?;
            return Ok(HttpResponse::Ok().content_type(mime::TEXT_HTML_UTF_8).body(page));
        }
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
    start(&db, &policy, &ctx, session, &next).await
}

/// The console's cookie for a new session, or, for a company's account, the session ended at once.
async fn start(
    db: &Db,
    policy: &CookiePolicy,
    ctx: &RequestContext,
    session: Session,
    next: &str,
) -> Result<HttpResponse, Failure> {
    if session.user.role == Role::Applicant {
        let caller = crate::app::SignedIn {
            user_id: session.user.id,
            role: Role::Applicant,
            company_id: None,
            session_id: session.session_id,
            request_id: ctx.id.clone(),
        };
        sessions::logout(db, &caller, &session.refresh_token).await?;
        return Err(Failure::StaffOnly);
    }
    let secret = sessions::for_console(db, &session).await?;
    let mut response = see_other(next);
    response.add_cookie(&policy.session_cookie(&secret)).map_err(|e| Failure::Internal(e.into()))?;
    Ok(response)
}

#[derive(Template)]
#[template(path = "console/login_code.html")]
struct CodePage {
    frame: Frame,
    next: String,
    mfa_token: String,
    problem: Option<Text>,
}

fn code_page(lang: Lang, next: &str, mfa_token: &str, problem: Option<Text>) -> Result<String, Failure> {
    let frame = Frame::bare(lang, Text::new("第二步：动态验证码", "Second step: your code").get(lang).to_owned());
    Ok(CodePage { frame, next: local(next), mfa_token: mfa_token.to_owned(), problem }.render()?)
}

#[derive(Deserialize)]
pub struct SecondFactor {
    mfa_token: String,
    code: String,
    next: Option<String>,
}

/// The second step of signing in: a code from the authenticator app, or one of the recovery codes.
pub async fn second_step(
    req: HttpRequest,
    ctx: RequestContext,
    db: web::Data<Db>,
    tokens: web::Data<Tokens>,
    policy: web::Data<CookiePolicy>,
    form: web::Form<SecondFactor>,
) -> Result<HttpResponse, Failure> {
    if !same_origin(&req) {
        return Err(Failure::CrossSite);
    }
    let SecondFactor { mfa_token, code, next } = form.into_inner();
    let next = local(next.as_deref().unwrap_or("/console/"));
    let lang = lang_of(&req);
    match sessions::complete_second_factor(&db, &tokens, &ctx.id, &mfa_token, &code).await {
        Ok(SecondStep::Session(session)) => start(&db, &policy, &ctx, session, &next).await,
        Ok(SecondStep::WrongCode) => {
            let problem = Text::new(
                "验证码不正确或已使用过，请输入新的验证码。",
                "The code is wrong or was used already; enter a new one.",
            );
            let page = code_page(lang, &next, &mfa_token, Some(problem))?;
            Ok(HttpResponse::Unauthorized().content_type(mime::TEXT_HTML_UTF_8).body(page))
        }
        Ok(SecondStep::Expired) => {
            let problem = Text::new(
                "登录已超时，请重新输入邮箱和密码。",
                "The sign-in timed out; enter your email and password again.",
            );
            let page = login_page(lang, &next, "", Some(problem))?;
            Ok(HttpResponse::Unauthorized().content_type(mime::TEXT_HTML_UTF_8).body(page))
        }
        Err(crate::app::Error::Refused(refusal)) => {
            let problem = explain(&refusal).into_iter().next().unwrap_or(Text::new("无法登录。", "Cannot sign in."));
            let page = code_page(lang, &next, &mfa_token, Some(problem))?;
            Ok(HttpResponse::build(refused_status(&refusal)).content_type(mime::TEXT_HTML_UTF_8).body(page))
        }
        Err(error) => Err(error.into()),
    }
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

#[derive(Template)]
#[template(path = "console/mfa.html")]
struct SecondFactorPage {
    frame: Frame,
    enabled: bool,
    required: bool,
    enrolment: Option<Enrolment>,
    recovery_codes: Vec<String>,
    problem: Option<Text>,
}

fn factor_frame(staff: &Staff) -> Frame {
    let mut frame = Frame::new(staff, Text::new("两步验证", "Two-step sign-in"), "/console/mfa");
    frame.nav.clear();
    frame
}

/// Whether the caller signs in with a second factor, and the way to set one up.
pub async fn second_factor(
    staff: Staff,
    db: web::Data<Db>,
    policy: web::Data<Policy>,
) -> Result<HttpResponse, Failure> {
    let me = crate::app::users::me(&db, &staff.caller).await?;
    let required = policy.check(staff.caller.role, false).is_err();
    let page = SecondFactorPage {
        frame: factor_frame(&staff),
        enabled: me.user.mfa_enabled,
        required,
        enrolment: None,
        recovery_codes: Vec::new(),
        problem: None,
    };
    Ok(html(page.render()?))
}

/// Starts setting up the factor: the secret to add to an authenticator app, and the form for its first code.
pub async fn start_second_factor(
    posted: Posted<Nothing>,
    db: web::Data<Db>,
    policy: web::Data<Policy>,
) -> Result<HttpResponse, Failure> {
    let staff = posted.staff;
    let enrolment = mfa::start_enrolment(&db, policy.issuer(), &staff.caller).await?;
    let page = SecondFactorPage {
        frame: factor_frame(&staff),
        enabled: false,
        required: policy.check(staff.caller.role, false).is_err(),
        enrolment: Some(enrolment),
        recovery_codes: Vec::new(),
        problem: None,
    };
    Ok(html(page.render()?))
}

/// Turns the factor on with a first code, and shows the recovery codes once.
pub async fn confirm_second_factor(
    posted: Posted<Vec<(String, String)>>,
    db: web::Data<Db>,
    policy: web::Data<Policy>,
) -> Result<HttpResponse, Failure> {
    let (staff, fields) = (posted.staff, crate::console::applications::Fields::new(posted.form));
    let code = fields.get("code").unwrap_or_default();
    let required = policy.check(staff.caller.role, false).is_err();
    match mfa::confirm(&db, &staff.caller, code).await {
        Ok(recovery_codes) => {
            let page = SecondFactorPage {
                frame: factor_frame(&staff),
                enabled: true,
                required,
                enrolment: None,
                recovery_codes,
                problem: None,
            };
            Ok(html(page.render()?))
        }
        Err(crate::app::Error::Refused(refusal)) if refusal != Refusal::NotFound => {
            let problem = explain(&refusal).into_iter().next();
            let page = SecondFactorPage {
                frame: factor_frame(&staff),
                enabled: false,
                required,
                enrolment: None,
                recovery_codes: Vec::new(),
                problem,
            };
            Ok(HttpResponse::build(refused_status(&refusal)).content_type(mime::TEXT_HTML_UTF_8).body(page.render()?))
        }
        Err(error) => Err(error.into()),
    }
}
