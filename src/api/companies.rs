//! A company's own profile, figures, bank account and certifications; staff search and verification.

use actix_web::{get, patch, post, put, web};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::api::extract::{Json, Query};
use crate::api::pagination::{Page, PageQuery};
use crate::api::session::SignedIn;
use crate::config::PortalSettings;
use crate::db::audit::{self, Event};
use crate::db::companies::{self, BankAccountRow, CompanyRow, FinancialsRow, ProfileChanges};
use crate::db::{Db, DbConnection, outbox, users};
use crate::domain::company::{Industry, VerificationStatus, check_established_on, check_phone, mask_account_no};
use crate::domain::role::Role;
use crate::domain::time;
use crate::domain::validation::{field_errors, not_blank};
use crate::email::templates;
use crate::error::{ApiError, FieldError};
use crate::i18n::Text;

#[derive(Debug, Serialize, ToSchema)]
pub struct CompanyView {
    pub id: i64,
    #[schema(example = "91350100M000100Y43")]
    pub credit_code: String,
    pub name: String,
    pub legal_representative: String,
    pub industry: Industry,
    pub park_zone: String,
    pub established_on: NaiveDate,
    pub registered_capital_fen: i64,
    pub address: String,
    pub contact_phone: String,
    pub verification_status: VerificationStatus,
    pub verification_comment: Option<String>,
    pub high_tech_certificate_no: Option<String>,
    pub high_tech_valid_until: Option<NaiveDate>,
    pub tech_sme: bool,
    /// Masked as `****1234` for everyone but finance.
    pub bank_account: Option<BankAccountView>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BankAccountView {
    pub bank_name: String,
    pub account_name: String,
    pub account_no: String,
}

impl BankAccountView {
    fn new(row: BankAccountRow, viewer: Role) -> Self {
        let account_no = if viewer == Role::Finance { row.account_no } else { mask_account_no(&row.account_no) };
        Self { bank_name: row.bank_name, account_name: row.account_name, account_no }
    }
}

impl CompanyView {
    pub fn new(row: CompanyRow, bank_account: Option<BankAccountRow>, viewer: Role) -> Result<Self, ApiError> {
        let unknown =
            |what: &str, value: &str| ApiError::Internal(anyhow::anyhow!("stored {what} `{value}` is unknown"));
        Ok(Self {
            industry: Industry::parse(&row.industry).ok_or_else(|| unknown("industry", &row.industry))?,
            verification_status: VerificationStatus::parse(&row.verification_status)
                .ok_or_else(|| unknown("verification status", &row.verification_status))?,
            bank_account: bank_account.map(|b| BankAccountView::new(b, viewer)),
            id: row.id,
            credit_code: row.credit_code,
            name: row.name,
            legal_representative: row.legal_representative,
            park_zone: row.park_zone,
            established_on: row.established_on,
            registered_capital_fen: row.registered_capital_fen,
            address: row.address,
            contact_phone: row.contact_phone,
            verification_comment: row.verification_comment,
            high_tech_certificate_no: row.high_tech_certificate_no,
            high_tech_valid_until: row.high_tech_valid_until,
            tech_sme: row.tech_sme,
            created_at: time::to_utc(row.created_at),
        })
    }
}

/// The company with its bank account, as `viewer` may see it.
fn load_view(conn: &mut DbConnection, id: i64, viewer: Role) -> Result<CompanyView, ApiError> {
    let row = companies::find(conn, id)?;
    let bank = companies::bank_account(conn, id)?;
    CompanyView::new(row, bank, viewer)
}

fn validated(input: &impl Validate, mut extra: Vec<FieldError>) -> Result<(), ApiError> {
    let mut errors = input.validate().err().map(|e| field_errors(&e)).unwrap_or_default();
    errors.append(&mut extra);
    if errors.is_empty() { Ok(()) } else { Err(ApiError::validation(errors)) }
}

/// The caller's own company.
#[utoipa::path(tag = "companies", security(("bearer" = [])), responses((status = 200, description = "the company", body = CompanyView)))]
#[get("/companies/me")]
pub async fn get_own_company(user: SignedIn, db: web::Data<Db>) -> Result<web::Json<CompanyView>, ApiError> {
    let id = user.company_id()?;
    Ok(web::Json(db.read(move |conn| load_view(conn, id, user.role)).await?))
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CompanyPatch {
    #[validate(custom(function = not_blank), length(max = 200))]
    pub name: Option<String>,
    #[validate(custom(function = not_blank), length(max = 50))]
    pub legal_representative: Option<String>,
    pub industry: Option<Industry>,
    #[validate(custom(function = not_blank), length(max = 50))]
    pub park_zone: Option<String>,
    pub established_on: Option<NaiveDate>,
    #[validate(range(min = 0))]
    pub registered_capital_fen: Option<i64>,
    #[validate(custom(function = not_blank), length(max = 200))]
    pub address: Option<String>,
    pub contact_phone: Option<String>,
}

/// Changes the caller's company profile; the credit code cannot change.
#[utoipa::path(tag = "companies", security(("bearer" = [])), request_body = CompanyPatch,
    responses((status = 200, description = "the changed company", body = CompanyView)))]
#[patch("/companies/me")]
pub async fn update_own_company(
    user: SignedIn,
    db: web::Data<Db>,
    portal: web::Data<PortalSettings>,
    body: Json<CompanyPatch>,
) -> Result<web::Json<CompanyView>, ApiError> {
    let id = user.company_id()?;
    let patch = body.into_inner();
    let mut extra = Vec::new();
    if let Some(date) = patch.established_on {
        extra.extend(check_established_on("established_on", date, time::today(portal.utc_offset)).err());
    }
    if let Some(phone) = &patch.contact_phone {
        extra.extend(check_phone("contact_phone", phone).err());
    }
    validated(&patch, extra)?;
    let trimmed = |v: Option<String>| v.map(|s| s.trim().to_owned());
    let changes = ProfileChanges {
        name: trimmed(patch.name),
        legal_representative: trimmed(patch.legal_representative),
        industry: patch.industry.map(|i| i.as_str().to_owned()),
        park_zone: trimmed(patch.park_zone),
        established_on: patch.established_on,
        registered_capital_fen: patch.registered_capital_fen,
        address: trimmed(patch.address),
        contact_phone: trimmed(patch.contact_phone),
        updated_at: Some(time::now()),
    };
    let actor = user.actor();
    let view = db
        .write(move |conn| {
            companies::update_profile(conn, id, &changes)?;
            audit::append(
                conn,
                &actor,
                Event::new("company.update", "company", id, json!({ "changed": changes.names() })),
            )?;
            load_view(conn, id, user.role)
        })
        .await?;
    Ok(web::Json(view))
}

impl ProfileChanges {
    fn names(&self) -> Vec<&'static str> {
        [
            ("name", self.name.is_some()),
            ("legal_representative", self.legal_representative.is_some()),
            ("industry", self.industry.is_some()),
            ("park_zone", self.park_zone.is_some()),
            ("established_on", self.established_on.is_some()),
            ("registered_capital_fen", self.registered_capital_fen.is_some()),
            ("address", self.address.is_some()),
            ("contact_phone", self.contact_phone.is_some()),
        ]
        .into_iter()
        .filter_map(|(name, changed)| changed.then_some(name))
        .collect()
    }
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FinancialsInput {
    #[validate(range(min = 0))]
    pub revenue_fen: i64,
    #[validate(range(min = 0))]
    pub rd_expense_fen: i64,
    #[validate(range(min = 0, max = 10_000_000))]
    pub employee_count: i32,
    #[validate(range(min = 0, max = 10_000_000))]
    pub rd_staff_count: i32,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FinancialsView {
    pub year: i32,
    pub revenue_fen: i64,
    pub rd_expense_fen: i64,
    pub employee_count: i32,
    pub rd_staff_count: i32,
    pub updated_at: DateTime<Utc>,
}

impl From<FinancialsRow> for FinancialsView {
    fn from(row: FinancialsRow) -> Self {
        Self {
            year: row.year,
            revenue_fen: row.revenue_fen,
            rd_expense_fen: row.rd_expense_fen,
            employee_count: row.employee_count,
            rd_staff_count: row.rd_staff_count,
            updated_at: time::to_utc(row.updated_at),
        }
    }
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
    let id = user.company_id()?;
    let (year, input) = (year.into_inner(), body.into_inner());
    let this_year = time::today(portal.utc_offset).year();
    let mut extra = Vec::new();
    if !(1949..=this_year).contains(&year) {
        extra.push(FieldError::new(
            "year",
            "out_of_range",
            Text::owned(
                format!("年度须在 1949–{this_year} 之间。"),
                format!("The year must be from 1949 to {this_year}."),
            ),
        ));
    }
    if input.rd_staff_count > input.employee_count {
        extra.push(FieldError::new(
            "rd_staff_count",
            "exceeds_employees",
            Text::new("研发人员数不能多于职工总数。", "R&D staff cannot outnumber all employees."),
        ));
    }
    validated(&input, extra)?;
    let row = FinancialsRow {
        company_id: id,
        year,
        revenue_fen: input.revenue_fen,
        rd_expense_fen: input.rd_expense_fen,
        employee_count: input.employee_count,
        rd_staff_count: input.rd_staff_count,
        updated_at: time::now(),
    };
    let actor = user.actor();
    let saved = row.clone();
    db.write(move |conn| {
        companies::put_financials(conn, &row)?;
        audit::append(conn, &actor, Event::new("company.financials_update", "company", id, json!({ "year": year })))
    })
    .await?;
    Ok(web::Json(saved.into()))
}

/// Every year's figures, newest first.
#[utoipa::path(tag = "companies", security(("bearer" = [])),
    responses((status = 200, description = "the figures by year", body = Vec<FinancialsView>)))]
#[get("/companies/me/financials")]
pub async fn get_financials(user: SignedIn, db: web::Data<Db>) -> Result<web::Json<Vec<FinancialsView>>, ApiError> {
    let id = user.company_id()?;
    let rows = db.read(move |conn| companies::financials(conn, id)).await?;
    Ok(web::Json(rows.into_iter().map(Into::into).collect()))
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BankAccountInput {
    #[validate(custom(function = not_blank), length(max = 100))]
    pub bank_name: String,
    #[validate(custom(function = not_blank), length(max = 200))]
    pub account_name: String,
    #[schema(example = "6222021234567890")]
    pub account_no: String,
}

fn check_account_no(account_no: &str) -> Option<FieldError> {
    let digits: String = account_no.chars().filter(|c| !c.is_whitespace() && *c != '-').collect();
    let valid = (8..=34).contains(&digits.len()) && digits.chars().all(|c| c.is_ascii_digit());
    (!valid).then(|| {
        FieldError::new(
            "account_no",
            "invalid_account_no",
            Text::new("银行账号应为 8–34 位数字。", "A bank account number has 8 to 34 digits."),
        )
    })
}

/// Sets the account awards are paid into; it is read back masked.
#[utoipa::path(tag = "companies", security(("bearer" = [])), request_body = BankAccountInput,
    responses((status = 200, description = "the account, masked", body = BankAccountView)))]
#[put("/companies/me/bank-account")]
pub async fn put_bank_account(
    user: SignedIn,
    db: web::Data<Db>,
    body: Json<BankAccountInput>,
) -> Result<web::Json<BankAccountView>, ApiError> {
    let id = user.company_id()?;
    let input = body.into_inner();
    validated(&input, check_account_no(&input.account_no).into_iter().collect())?;
    let row = BankAccountRow {
        company_id: id,
        bank_name: input.bank_name.trim().to_owned(),
        account_name: input.account_name.trim().to_owned(),
        account_no: input.account_no.chars().filter(char::is_ascii_digit).collect(),
        updated_at: time::now(),
    };
    let actor = user.actor();
    let view = BankAccountView::new(row.clone(), user.role);
    db.write(move |conn| {
        companies::put_bank_account(conn, &row)?;
        let summary = json!({ "bank_name": row.bank_name, "account_no": mask_account_no(&row.account_no) });
        audit::append(conn, &actor, Event::new("company.bank_account_update", "company", id, summary))
    })
    .await?;
    Ok(web::Json(view))
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CertificationsInput {
    #[validate(custom(function = not_blank), length(max = 50))]
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
    let id = user.company_id()?;
    let input = body.into_inner();
    let mut extra = Vec::new();
    if input.high_tech_certificate_no.is_some() != input.high_tech_valid_until.is_some() {
        extra.push(FieldError::new(
            "high_tech_valid_until",
            "incomplete_certificate",
            Text::new(
                "高新技术企业证书编号与有效期须同时填写。",
                "A high-tech enterprise certificate needs both its number and its expiry date.",
            ),
        ));
    }
    validated(&input, extra)?;
    let actor = user.actor();
    let view = db
        .write(move |conn| {
            let number = input.high_tech_certificate_no.as_deref().map(str::trim);
            let tech_sme = input.tech_sme.unwrap_or(false);
            companies::set_certifications(conn, id, number, input.high_tech_valid_until, tech_sme, time::now())?;
            let summary = json!({
                "high_tech_certificate_no": number,
                "high_tech_valid_until": input.high_tech_valid_until,
                "tech_sme": tech_sme,
            });
            audit::append(conn, &actor, Event::new("company.certifications_update", "company", id, summary))?;
            load_view(conn, id, user.role)
        })
        .await?;
    Ok(web::Json(view))
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
}

const COMPANY_READERS: [Role; 3] = [Role::Reviewer, Role::Finance, Role::Admin];

/// Companies, for staff: search by name or credit code, filter, page.
#[utoipa::path(tag = "companies", security(("bearer" = [])), params(CompanyQuery),
    responses((status = 200, description = "a page of companies", body = Page<CompanyView>)))]
#[get("/companies")]
pub async fn list_companies(
    user: SignedIn,
    db: web::Data<Db>,
    query: Query<CompanyQuery>,
) -> Result<web::Json<Page<CompanyView>>, ApiError> {
    user.require(&COMPANY_READERS)?;
    let query = query.into_inner();
    let (page, per_page, offset) = PageQuery { page: query.page, per_page: query.per_page }.resolve()?;
    let filter = companies::Filter {
        q: query.q,
        industry: query.industry.map(|i| i.as_str().to_owned()),
        park_zone: query.park_zone,
        verification_status: query.verification_status.map(|s| s.as_str().to_owned()),
    };
    let (rows, total) = db.read(move |conn| companies::list(conn, &filter, offset, per_page)).await?;
    let items = rows.into_iter().map(|row| CompanyView::new(row, None, user.role)).collect::<Result<_, _>>()?;
    Ok(web::Json(Page { items, page, per_page, total }))
}

/// One company, for staff; finance sees the full bank account.
#[utoipa::path(tag = "companies", security(("bearer" = [])), params(("id" = i64, Path, description = "company id")),
    responses((status = 200, description = "the company", body = CompanyView)))]
#[get("/companies/{id}")]
pub async fn get_company(
    user: SignedIn,
    db: web::Data<Db>,
    id: web::Path<i64>,
) -> Result<web::Json<CompanyView>, ApiError> {
    user.require(&COMPANY_READERS)?;
    let id = id.into_inner();
    Ok(web::Json(db.read(move |conn| load_view(conn, id, user.role)).await?))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Verified,
    Rejected,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerificationRequest {
    pub decision: Decision,
    /// Required when rejecting: what the company must correct.
    #[validate(length(max = 1000))]
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
    user.require(&[Role::Reviewer, Role::Admin])?;
    let (id, request) = (id.into_inner(), body.into_inner());
    let comment = request.comment.as_deref().map(str::trim).unwrap_or_default().to_owned();
    let mut extra = Vec::new();
    if request.decision == Decision::Rejected && comment.is_empty() {
        extra.push(FieldError::new(
            "comment",
            "required",
            Text::new(
                "不通过时须填写审核意见，告诉企业如何修改。",
                "A rejection needs a comment telling the company what to correct.",
            ),
        ));
    }
    validated(&request, extra)?;
    let status = match request.decision {
        Decision::Verified => VerificationStatus::Verified,
        Decision::Rejected => VerificationStatus::Rejected,
    };
    let actor = user.actor();
    let view = db
        .write(move |conn| {
            let company = companies::set_verification(conn, id, status.as_str(), &comment, time::now())?;
            for applicant in users::of_company(conn, id)? {
                let email = templates::company_verification(
                    &applicant.email,
                    &company.name,
                    status == VerificationStatus::Verified,
                    &comment,
                );
                outbox::enqueue(conn, &email, time::now())?;
            }
            let summary = json!({ "decision": status.as_str(), "comment": comment });
            audit::append(conn, &actor, Event::new("company.verification", "company", id, summary))?;
            load_view(conn, id, user.role)
        })
        .await?;
    Ok(web::Json(view))
}
