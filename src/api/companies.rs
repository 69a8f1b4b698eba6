//! A company's own profile, figures, bank account and certifications; staff search and verification.

use actix_web::{HttpResponse, get, patch, post, put, web};
use chrono::NaiveDate;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::api::extract::{Json, OptionalJson, Query};
use crate::api::pagination::Page;
use crate::api::session::SignedIn;
use crate::app::companies::{
    self, BankAccount, BankAccountView, Certifications, CompanyFilter, CompanyView, FinancialsView, ProfilePatch,
    Verification, YearFigures,
};
use crate::config::PortalSettings;
use crate::db::Db;
use crate::domain::company::{Decision, Industry, VerificationStatus};
use crate::domain::money::MAX_FEN;
use crate::domain::validation::{Choice, form_errors, not_blank};
use crate::error::ApiError;

/// The caller's own company.
#[utoipa::path(tag = "companies", security(("bearer" = [])), responses((status = 200, description = "the company", body = CompanyView)))]
#[get("/companies/me")]
pub async fn get_own_company(user: SignedIn, db: web::Data<Db>) -> Result<web::Json<CompanyView>, ApiError> {
    Ok(web::Json(companies::own(&db, &user).await?))
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CompanyPatch {
    #[validate(custom(function = not_blank), length(max = 200))]
    #[schema(pattern = r"\S", min_length = 1, max_length = 200)]
    pub name: Option<String>,
    #[validate(custom(function = not_blank), length(max = 50))]
    #[schema(pattern = r"\S", min_length = 1, max_length = 50)]
    pub legal_representative: Option<String>,
    #[schema(value_type = Option<Industry>)]
    pub industry: Option<Choice<Industry>>,
    #[validate(custom(function = not_blank), length(max = 50))]
    #[schema(pattern = r"\S", min_length = 1, max_length = 50)]
    pub park_zone: Option<String>,
    pub established_on: Option<NaiveDate>,
    #[validate(range(min = 0, max = MAX_FEN))]
    #[schema(minimum = 0, maximum = 1_000_000_000_000_000_i64)]
    pub registered_capital_fen: Option<i64>,
    #[validate(custom(function = not_blank), length(max = 200))]
    #[schema(pattern = r"\S", min_length = 1, max_length = 200)]
    pub address: Option<String>,
    pub contact_phone: Option<String>,
    /// `false` stops the emails about new programmes the company qualifies for.
    pub notify_new_programs: Option<bool>,
}

impl From<CompanyPatch> for ProfilePatch {
    fn from(patch: CompanyPatch) -> Self {
        Self {
            form_errors: form_errors(&patch),
            name: patch.name,
            legal_representative: patch.legal_representative,
            industry: patch.industry,
            park_zone: patch.park_zone,
            established_on: patch.established_on,
            registered_capital_fen: patch.registered_capital_fen,
            address: patch.address,
            contact_phone: patch.contact_phone,
            notify_new_programs: patch.notify_new_programs,
        }
    }
}

/// Changes the caller's company profile; the credit code cannot change. A verified company that changes
/// its name, industry, park zone, establishment date or registered capital is `pending` verification
/// again, and the reviewers are told.
#[utoipa::path(tag = "companies", security(("bearer" = [])), request_body = CompanyPatch,
    responses((status = 200, description = "the changed company", body = CompanyView)))]
#[patch("/companies/me")]
pub async fn update_own_company(
    user: SignedIn,
    db: web::Data<Db>,
    portal: web::Data<PortalSettings>,
    body: Json<CompanyPatch>,
) -> Result<web::Json<CompanyView>, ApiError> {
    Ok(web::Json(companies::update_own(&db, &portal, &user, body.into_inner().into()).await?))
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FinancialsInput {
    #[validate(range(min = 0, max = MAX_FEN))]
    #[schema(minimum = 0, maximum = 1_000_000_000_000_000_i64)]
    pub revenue_fen: i64,
    #[validate(range(min = 0, max = MAX_FEN))]
    #[schema(minimum = 0, maximum = 1_000_000_000_000_000_i64)]
    pub rd_expense_fen: i64,
    #[validate(range(min = 0, max = 10_000_000))]
    #[schema(minimum = 0, maximum = 10_000_000)]
    pub employee_count: i32,
    #[validate(range(min = 0, max = 10_000_000))]
    #[schema(minimum = 0, maximum = 10_000_000)]
    pub rd_staff_count: i32,
}

/// Records one year's figures (revenue, R&D expense, staff), replacing what that year had.
#[utoipa::path(tag = "companies", security(("bearer" = [])), request_body = FinancialsInput,
    params(("year" = i32, Path, description = "the financial year")),
    responses((status = 200, description = "the year's figures", body = FinancialsView)))]
#[put("/companies/me/financials/{year}")]
pub async fn put_financials(
    user: SignedIn,
    db: web::Data<Db>,
    portal: web::Data<PortalSettings>,
    year: web::Path<i32>,
    body: Json<FinancialsInput>,
) -> Result<web::Json<FinancialsView>, ApiError> {
    let input = body.into_inner();
    let figures = YearFigures {
        form_errors: form_errors(&input),
        year: year.into_inner(),
        revenue_fen: input.revenue_fen,
        rd_expense_fen: input.rd_expense_fen,
        employee_count: input.employee_count,
        rd_staff_count: input.rd_staff_count,
    };
    Ok(web::Json(companies::put_financials(&db, &portal, &user, figures).await?))
}

/// Every year's figures, newest first.
#[utoipa::path(tag = "companies", security(("bearer" = [])),
    responses((status = 200, description = "the figures by year", body = Vec<FinancialsView>)))]
#[get("/companies/me/financials")]
pub async fn get_financials(user: SignedIn, db: web::Data<Db>) -> Result<web::Json<Vec<FinancialsView>>, ApiError> {
    Ok(web::Json(companies::financials(&db, &user).await?))
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BankAccountInput {
    #[validate(custom(function = not_blank), length(max = 100))]
    #[schema(pattern = r"\S", min_length = 1, max_length = 100)]
    pub bank_name: String,
    #[validate(custom(function = not_blank), length(max = 200))]
    #[schema(pattern = r"\S", min_length = 1, max_length = 200)]
    pub account_name: String,
    /// 8 to 34 digits; spaces and hyphens between them are ignored.
    #[schema(example = "6222021234567890", pattern = r"^[\s-]*(?:[0-9][\s-]*){8,34}$")]
    pub account_no: String,
}

/// Sets the account awards are paid into; it is read back masked. Every user of the company is emailed,
/// and the company's `bank_account_status` is `unconfirmed` until finance confirms the account.
#[utoipa::path(tag = "companies", security(("bearer" = [])), request_body = BankAccountInput,
    responses((status = 200, description = "the account, masked", body = BankAccountView)))]
#[put("/companies/me/bank-account")]
pub async fn put_bank_account(
    user: SignedIn,
    db: web::Data<Db>,
    body: Json<BankAccountInput>,
) -> Result<web::Json<BankAccountView>, ApiError> {
    let input = body.into_inner();
    let account = BankAccount {
        form_errors: form_errors(&input),
        bank_name: input.bank_name,
        account_name: input.account_name,
        account_no: input.account_no,
    };
    Ok(web::Json(companies::put_bank_account(&db, &user, account).await?))
}

/// The account finance checked, named so that one changed meanwhile is not confirmed.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BankAccountSeen {
    /// The `bank_account.sha256` of the company as finance read it. Left out, the current account is confirmed.
    #[schema(
        example = "16ce3525f4acd0b9f2a7a0f99bc6593ba62dbe586c837de05ccb8094d5ae58d0",
        pattern = "^[0-9a-fA-F]{64}$"
    )]
    pub account_sha256: Option<String>,
}

/// Confirms the company's current bank account for payments (finance), once it has been checked with the
/// company; the account's next change makes it unconfirmed again. The body is optional: naming the account
/// seen, an account changed since is refused (409) and nothing is confirmed.
#[utoipa::path(tag = "companies", security(("bearer" = [])), params(("id" = i64, Path, description = "company id")),
    request_body = Option<BankAccountSeen>,
    responses(
        (status = 204, description = "confirmed"),
        (status = 409, description = "`no_bank_account`: the company has given no bank account; `conflict`: the account is not the one named in `account_sha256` (changed since it was read)", body = crate::error::Problem, content_type = "application/problem+json"),
    ))]
#[post("/companies/{id}/bank-account/confirmation")]
pub async fn confirm_bank_account(
    user: SignedIn,
    db: web::Data<Db>,
    id: web::Path<i64>,
    body: OptionalJson<BankAccountSeen>,
) -> Result<HttpResponse, ApiError> {
    let seen = body.into_inner().and_then(|b| b.account_sha256);
    companies::confirm_bank_account(&db, &user, id.into_inner(), seen).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CertificationsInput {
    #[validate(custom(function = not_blank), length(max = 50))]
    #[schema(pattern = r"\S", min_length = 1, max_length = 50)]
    pub high_tech_certificate_no: Option<String>,
    pub high_tech_valid_until: Option<NaiveDate>,
    pub tech_sme: Option<bool>,
}

/// Replaces the company's certifications: high-tech enterprise certificate and tech-SME status.
#[utoipa::path(tag = "companies", security(("bearer" = [])), request_body = CertificationsInput,
    responses((status = 200, description = "the company", body = CompanyView)))]
#[put("/companies/me/certifications")]
pub async fn put_certifications(
    user: SignedIn,
    db: web::Data<Db>,
    body: Json<CertificationsInput>,
) -> Result<web::Json<CompanyView>, ApiError> {
    let input = body.into_inner();
    let certifications = Certifications {
        form_errors: form_errors(&input),
        high_tech_certificate_no: input.high_tech_certificate_no,
        high_tech_valid_until: input.high_tech_valid_until,
        tech_sme: input.tech_sme,
    };
    Ok(web::Json(companies::put_certifications(&db, &user, certifications).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct CompanyQuery {
    /// Part of the name or of the credit code, in any case.
    pub q: Option<String>,
    pub industry: Option<Industry>,
    pub park_zone: Option<String>,
    pub verification_status: Option<VerificationStatus>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
    /// The `next_cursor` of the page before: the page after it (`page` is then ignored).
    pub after: Option<String>,
}

/// Companies, for staff, newest first: search by name or credit code, filter, page or cursor.
#[utoipa::path(tag = "companies", security(("bearer" = [])), params(CompanyQuery),
    responses((status = 200, description = "a page of companies", body = Page<CompanyView>)))]
#[get("/companies")]
pub async fn list_companies(
    user: SignedIn,
    db: web::Data<Db>,
    query: Query<CompanyQuery>,
) -> Result<web::Json<Page<CompanyView>>, ApiError> {
    let query = query.into_inner();
    let filter = CompanyFilter {
        q: query.q,
        industry: query.industry,
        park_zone: query.park_zone,
        verification_status: query.verification_status,
        page: query.page,
        per_page: query.per_page,
        after: query.after,
    };
    let (items, window, total) = companies::list(&db, &user, filter).await?;
    Ok(web::Json(Page::of(items, window.page, window.per_page, total, |c| c.id, |c| c)))
}

/// One company, for staff; finance sees the full bank account, and each such read is audited.
#[utoipa::path(tag = "companies", security(("bearer" = [])), params(("id" = i64, Path, description = "company id")),
    responses((status = 200, description = "the company", body = CompanyView)))]
#[get("/companies/{id}")]
pub async fn get_company(
    user: SignedIn,
    db: web::Data<Db>,
    id: web::Path<i64>,
) -> Result<web::Json<CompanyView>, ApiError> {
    Ok(web::Json(companies::get(&db, &user, id.into_inner()).await?))
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerificationRequest {
    #[schema(value_type = Decision)]
    pub decision: Choice<Decision>,
    /// Required when rejecting: what the company must correct.
    #[validate(length(max = 1000))]
    #[schema(max_length = 1000)]
    pub comment: Option<String>,
}

/// Verifies or rejects a company's registration; the company is told by email.
#[utoipa::path(tag = "companies", security(("bearer" = [])), params(("id" = i64, Path, description = "company id")),
    request_body = VerificationRequest, responses((status = 200, description = "the company", body = CompanyView)))]
#[post("/companies/{id}/verification")]
pub async fn verify_company(
    user: SignedIn,
    db: web::Data<Db>,
    id: web::Path<i64>,
    body: Json<VerificationRequest>,
) -> Result<web::Json<CompanyView>, ApiError> {
    let request = body.into_inner();
    let verification =
        Verification { form_errors: form_errors(&request), decision: request.decision, comment: request.comment };
    Ok(web::Json(companies::verify(&db, &user, id.into_inner(), verification).await?))
}
