//! Companies: the tenants, their profile, figures, bank account and certifications; staff search and
//! verification; and the facts eligibility rules read.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;

use crate::app::notify;
use crate::app::{Result, SignedIn};
use crate::config::PortalSettings;
use crate::crypto::Keyring;
use crate::db::audit::{self, Event};
use crate::db::companies::{self, BankAccountRow, CompanyRow, FinancialsRow, NewBankAccount, ProfileChanges};
use crate::db::{self, Db, DbConnection};
use crate::domain::company::{
    BankAccountStatus, Decision, Industry, VERIFIED_FACTS, VerificationStatus, account_no_digits, account_no_sha256,
    bank_account_sha256, check_account_no, check_account_seen, check_certificate, check_decision_comment,
    check_established_on, check_financials, check_phone, mask_account_no,
};
use crate::domain::eligibility::{self, Check, Facts, Figures, Rule};
use crate::domain::error::{Error as Refusal, FieldError};
use crate::domain::role::Role;
use crate::domain::time;
use crate::domain::validation::{Choice, Window, checked};
use crate::email::templates;
use crate::i18n::Text;

/// A company and its last full year's figures, as the rules read them.
pub struct CompanyFacts {
    pub company: CompanyRow,
    pub figures: Option<FinancialsRow>,
    pub figures_year: i32,
    pub today: NaiveDate,
}

impl CompanyFacts {
    pub fn load(conn: &mut DbConnection, company_id: i64, today: NaiveDate) -> Result<Self> {
        let figures_year = today.year() - 1;
        Ok(Self {
            company: companies::find(conn, company_id)?,
            figures: companies::financials_for_year(conn, company_id, figures_year)?,
            figures_year,
            today,
        })
    }

    pub fn facts(&self) -> Facts<'_> {
        let c = &self.company;
        Facts {
            today: self.today,
            verified: c.verification_status == VerificationStatus::Verified.as_str(),
            industry: Industry::parse(&c.industry).unwrap_or(Industry::Other),
            park_zone: &c.park_zone,
            established_on: c.established_on,
            registered_capital_fen: c.registered_capital_fen,
            high_tech_valid_until: c.high_tech_valid_until,
            tech_sme: c.tech_sme,
            figures: self.figures.as_ref().map(|f| Figures {
                revenue_fen: f.revenue_fen,
                rd_expense_fen: f.rd_expense_fen,
                employee_count: f.employee_count,
                rd_staff_count: f.rd_staff_count,
            }),
            figures_year: self.figures_year,
        }
    }

    /// The profile as it stood, frozen into an application when it is submitted.
    pub fn company_json(&self) -> serde_json::Value {
        let c = &self.company;
        json!({
            "id": c.id, "credit_code": c.credit_code, "name": c.name, "legal_representative": c.legal_representative,
            "industry": c.industry, "park_zone": c.park_zone, "established_on": c.established_on,
            "registered_capital_fen": c.registered_capital_fen, "address": c.address, "contact_phone": c.contact_phone,
            "verification_status": c.verification_status, "high_tech_certificate_no": c.high_tech_certificate_no,
            "high_tech_valid_until": c.high_tech_valid_until, "tech_sme": c.tech_sme,
        })
    }

    pub fn evaluate(&self, rules: &[Rule]) -> Vec<Check> {
        eligibility::evaluate(rules, &self.facts())
    }
}

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
    /// The company's users are emailed when a programme it qualifies for opens (政策精准推送).
    pub notify_new_programs: bool,
    /// Masked as `****1234` for everyone but finance.
    pub bank_account: Option<BankAccountView>,
    /// Awards are paid only into a `confirmed` account; every change makes it `unconfirmed` again.
    pub bank_account_status: BankAccountStatus,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BankAccountView {
    pub bank_name: String,
    pub account_name: String,
    pub account_no: String,
    /// For finance: the SHA-256 of this account as shown (bank, name, number), to name in the confirmation
    /// so that an account changed meanwhile is not confirmed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
}

impl BankAccountView {
    fn new(bank_name: String, account_name: String, account_no: String, viewer: Role) -> Self {
        let finance = viewer == Role::Finance;
        let sha256 = finance.then(|| bank_account_sha256(&bank_name, &account_name, &account_no));
        let account_no = if finance { account_no } else { mask_account_no(&account_no) };
        Self { bank_name, account_name, account_no, sha256 }
    }

    fn of(row: BankAccountRow, viewer: Role) -> Self {
        Self::new(row.bank_name, row.account_name, row.account_no, viewer)
    }
}

impl CompanyView {
    /// The stored company as `viewer` may see it; an unknown stored industry or status is damaged data.
    pub fn new(row: CompanyRow, bank_account: Option<BankAccountRow>, viewer: Role) -> db::Result<Self> {
        let (id, industry, status) = (row.id, &row.industry, &row.verification_status);
        let bank_status = &row.bank_account_status;
        Ok(Self {
            bank_account_status: BankAccountStatus::parse(bank_status).ok_or_else(|| {
                db::Error::damaged("companies", id, format!("unknown bank account status `{bank_status}`"))
            })?,
            industry: Industry::parse(industry)
                .ok_or_else(|| db::Error::damaged("companies", id, format!("unknown industry `{industry}`")))?,
            verification_status: VerificationStatus::parse(status).ok_or_else(|| {
                db::Error::damaged("companies", id, format!("unknown verification status `{status}`"))
            })?,
            bank_account: bank_account.map(|b| BankAccountView::of(b, viewer)),
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
            notify_new_programs: row.notify_new_programs,
            created_at: time::to_utc(row.created_at),
        })
    }

    /// The company with its bank account, as `viewer` may see it.
    pub fn load(conn: &mut DbConnection, keys: &Keyring, id: i64, viewer: Role) -> db::Result<Self> {
        let row = companies::find(conn, id)?;
        let bank = companies::bank_account(conn, keys, id)?;
        Self::new(row, bank, viewer)
    }
}

/// The caller's own company.
pub async fn own(db: &Db, caller: &SignedIn) -> Result<CompanyView> {
    let id = caller.company_id()?;
    let role = caller.role;
    let keys = db.keys();
    Ok(db.read(move |conn| CompanyView::load(conn, &keys, id, role)).await?)
}

/// A change to the caller's profile; absent fields stay. `form_errors` are the problems the edge already
/// found in the input's form (lengths, blank text), reported with the rest after the access check.
#[derive(Debug, Default)]
pub struct ProfilePatch {
    pub name: Option<String>,
    pub legal_representative: Option<String>,
    pub industry: Option<Choice<Industry>>,
    pub park_zone: Option<String>,
    pub established_on: Option<NaiveDate>,
    pub registered_capital_fen: Option<i64>,
    pub address: Option<String>,
    pub contact_phone: Option<String>,
    pub notify_new_programs: Option<bool>,
    pub form_errors: Vec<FieldError>,
}

/// Changes the caller's company profile; the credit code cannot change. A verified company that changes a
/// verified fact ([`VERIFIED_FACTS`]) is pending verification again, and the reviewers are told.
pub async fn update_own(
    db: &Db,
    portal: &PortalSettings,
    caller: &SignedIn,
    patch: ProfilePatch,
) -> Result<CompanyView> {
    let id = caller.company_id()?;
    let ProfilePatch { form_errors: mut errors, .. } = patch;
    let industry = checked(patch.industry.as_ref(), "industry", &mut errors);
    if let Some(date) = patch.established_on {
        errors.extend(check_established_on("established_on", date, time::today(portal.utc_offset)).err());
    }
    if let Some(phone) = &patch.contact_phone {
        errors.extend(check_phone("contact_phone", phone).err());
    }
    Refusal::unless_any(errors)?;
    let trimmed = |v: Option<String>| v.map(|s| s.trim().to_owned());
    let changes = ProfileChanges {
        name: trimmed(patch.name),
        legal_representative: trimmed(patch.legal_representative),
        industry: industry.map(|i| i.as_str().to_owned()),
        park_zone: trimmed(patch.park_zone),
        established_on: patch.established_on,
        registered_capital_fen: patch.registered_capital_fen,
        address: trimmed(patch.address),
        contact_phone: trimmed(patch.contact_phone),
        notify_new_programs: patch.notify_new_programs,
        updated_at: Some(time::now()),
    };
    let (actor, role) = (caller.actor(), caller.role);
    let keys = db.keys();
    db.write(move |conn| {
        let before = companies::find(conn, id)?;
        let differences = differences(&before, &changes);
        let facts: Vec<&str> = differences.iter().map(|d| d.field).filter(|f| VERIFIED_FACTS.contains(f)).collect();
        let now = time::now();
        let after = companies::update_profile(conn, id, &changes)?;
        // Eligibility trusts a verified company's facts, so changed facts are checked again first.
        let reopened = !facts.is_empty() && companies::reopen_verification(conn, id, now)?;
        if reopened {
            let email = |to: &str| templates::company_facts_changed(to, &after.name, &after.credit_code, &facts);
            notify::role(conn, Role::Reviewer, email, now)?;
        }
        let field = |d: &Difference, value: fn(&Difference) -> &serde_json::Value| (d.field.to_owned(), value(d).clone());
        let summary = json!({
            "changed": differences.iter().map(|d| d.field).collect::<Vec<_>>(),
            "before": differences.iter().map(|d| field(d, |d| &d.before)).collect::<serde_json::Map<_, _>>(),
            "after": differences.iter().map(|d| field(d, |d| &d.after)).collect::<serde_json::Map<_, _>>(),
            "verification_status": if reopened { VerificationStatus::Pending.as_str() } else { &after.verification_status },
        });
        audit::append(conn, &actor, Event::new("company.update", "company", id, summary))?;
        Ok(CompanyView::load(conn, &keys, id, role)?)
    })
    .await
}

/// One profile field a change gives a new value, with the value before and after.
struct Difference {
    field: &'static str,
    before: serde_json::Value,
    after: serde_json::Value,
}

/// The profile fields `changes` gives a value other than the one stored, for the audit trail.
fn differences(before: &CompanyRow, changes: &ProfileChanges) -> Vec<Difference> {
    let c = changes;
    [
        ("name", json!(before.name), c.name.as_ref().map(|v| json!(v))),
        ("legal_representative", json!(before.legal_representative), c.legal_representative.as_ref().map(|v| json!(v))),
        ("industry", json!(before.industry), c.industry.as_ref().map(|v| json!(v))),
        ("park_zone", json!(before.park_zone), c.park_zone.as_ref().map(|v| json!(v))),
        ("established_on", json!(before.established_on), c.established_on.map(|v| json!(v))),
        ("registered_capital_fen", json!(before.registered_capital_fen), c.registered_capital_fen.map(|v| json!(v))),
        ("address", json!(before.address), c.address.as_ref().map(|v| json!(v))),
        ("contact_phone", json!(before.contact_phone), c.contact_phone.as_ref().map(|v| json!(v))),
        ("notify_new_programs", json!(before.notify_new_programs), c.notify_new_programs.map(|v| json!(v))),
    ]
    .into_iter()
    .filter_map(|(field, before, after)| {
        after.filter(|after| *after != before).map(|after| Difference { field, before, after })
    })
    .collect()
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

/// One year's figures; `form_errors` as in [`ProfilePatch`].
#[derive(Debug)]
pub struct YearFigures {
    pub year: i32,
    pub revenue_fen: i64,
    pub rd_expense_fen: i64,
    pub employee_count: i32,
    pub rd_staff_count: i32,
    pub form_errors: Vec<FieldError>,
}

/// Records one year's figures for the caller's company, replacing what that year had.
pub async fn put_financials(
    db: &Db,
    portal: &PortalSettings,
    caller: &SignedIn,
    input: YearFigures,
) -> Result<FinancialsView> {
    let id = caller.company_id()?;
    let this_year = time::today(portal.utc_offset).year();
    let mut errors = check_financials(input.year, this_year, input.employee_count, input.rd_staff_count);
    let mut form_errors = input.form_errors;
    form_errors.append(&mut errors);
    Refusal::unless_any(form_errors)?;
    let row = FinancialsRow {
        company_id: id,
        year: input.year,
        revenue_fen: input.revenue_fen,
        rd_expense_fen: input.rd_expense_fen,
        employee_count: input.employee_count,
        rd_staff_count: input.rd_staff_count,
        updated_at: time::now(),
    };
    let actor = caller.actor();
    let saved = row.clone();
    db.write(move |conn| {
        companies::put_financials(conn, &row)?;
        let summary = json!({ "year": row.year });
        audit::append(conn, &actor, Event::new("company.financials_update", "company", id, summary))
    })
    .await?;
    Ok(saved.into())
}

/// Every year's figures of the caller's company, newest first.
pub async fn financials(db: &Db, caller: &SignedIn) -> Result<Vec<FinancialsView>> {
    let id = caller.company_id()?;
    let rows = db.read(move |conn| companies::financials(conn, id)).await?;
    Ok(rows.into_iter().map(Into::into).collect())
}

/// The account awards are paid into; `form_errors` as in [`ProfilePatch`].
#[derive(Debug)]
pub struct BankAccount {
    pub bank_name: String,
    pub account_name: String,
    pub account_no: String,
    pub form_errors: Vec<FieldError>,
}

/// Sets the caller's company's bank account; it is read back masked. Every user of the company is told,
/// and no award is paid into it until finance confirms it.
pub async fn put_bank_account(db: &Db, caller: &SignedIn, input: BankAccount) -> Result<BankAccountView> {
    let id = caller.company_id()?;
    let mut errors = input.form_errors;
    errors.extend(check_account_no(&input.account_no).err());
    Refusal::unless_any(errors)?;
    let now = time::now();
    let row = NewBankAccount {
        company_id: id,
        bank_name: input.bank_name.trim().to_owned(),
        account_name: input.account_name.trim().to_owned(),
        account_no: account_no_digits(&input.account_no),
        updated_at: now,
    };
    let actor = caller.actor();
    let view =
        BankAccountView::new(row.bank_name.clone(), row.account_name.clone(), row.account_no.clone(), caller.role);
    let keys = db.keys();
    db.write(move |conn| {
        let company = companies::find(conn, id)?;
        companies::put_bank_account(conn, &keys, &row)?;
        let masked = mask_account_no(&row.account_no);
        let email = |to: &str| templates::bank_account_changed(to, &company.name, &row.bank_name, &masked);
        notify::company(conn, id, email, now)?;
        let summary = json!({
            "bank_name": row.bank_name,
            "account_no": masked,
            "account_no_sha256": account_no_sha256(&row.account_no),
            "previous_status": company.bank_account_status,
        });
        audit::append(conn, &actor, Event::new("company.bank_account_update", "company", id, summary))?;
        Ok::<_, crate::app::Error>(())
    })
    .await?;
    Ok(view)
}

/// Confirms the company's bank account for payments (finance), once they have checked it with the company
/// outside the portal. `seen`, when given, is the [`BankAccountView::sha256`] of the account finance
/// checked: an account changed since is refused and nothing is confirmed.
pub async fn confirm_bank_account(db: &Db, caller: &SignedIn, id: i64, seen: Option<String>) -> Result<()> {
    caller.require(&[Role::Finance])?;
    let (actor, user_id) = (caller.actor(), caller.user_id);
    let keys = db.keys();
    db.write(move |conn| {
        db::applications::lock_company(conn, id)?;
        let no_account = || {
            Refusal::conflict(
                "no_bank_account",
                Text::new("该企业尚未填写收款银行账户。", "The company has not given a bank account."),
            )
        };
        let current = companies::bank_account(conn, &keys, id)?.ok_or_else(no_account)?;
        let sha256 = bank_account_sha256(&current.bank_name, &current.account_name, &current.account_no);
        check_account_seen(seen.as_deref(), &sha256)?;
        let account = companies::confirm_bank_account(conn, &keys, id, user_id, time::now())?.ok_or_else(no_account)?;
        let summary = json!({
            "bank_name": account.bank_name,
            "account_no": mask_account_no(&account.account_no),
            "account_no_sha256": account_no_sha256(&account.account_no),
        });
        audit::append(conn, &actor, Event::new("company.bank_account_confirmation", "company", id, summary))?;
        Ok(())
    })
    .await
}

/// The company's certifications; `form_errors` as in [`ProfilePatch`].
#[derive(Debug)]
pub struct Certifications {
    pub high_tech_certificate_no: Option<String>,
    pub high_tech_valid_until: Option<NaiveDate>,
    pub tech_sme: Option<bool>,
    pub form_errors: Vec<FieldError>,
}

/// Replaces the caller's company's certifications: high-tech enterprise certificate and tech-SME status.
pub async fn put_certifications(db: &Db, caller: &SignedIn, input: Certifications) -> Result<CompanyView> {
    let id = caller.company_id()?;
    let mut errors = input.form_errors;
    errors.extend(
        check_certificate(input.high_tech_certificate_no.is_some(), input.high_tech_valid_until.is_some()).err(),
    );
    Refusal::unless_any(errors)?;
    let (actor, role) = (caller.actor(), caller.role);
    let keys = db.keys();
    db.write(move |conn| {
        let number = input.high_tech_certificate_no.as_deref().map(str::trim);
        let tech_sme = input.tech_sme.unwrap_or(false);
        companies::set_certifications(conn, id, number, input.high_tech_valid_until, tech_sme, time::now())?;
        let summary = json!({
            "high_tech_certificate_no": number,
            "high_tech_valid_until": input.high_tech_valid_until,
            "tech_sme": tech_sme,
        });
        audit::append(conn, &actor, Event::new("company.certifications_update", "company", id, summary))?;
        Ok(CompanyView::load(conn, &keys, id, role)?)
    })
    .await
}

/// Staff who may read every company.
const COMPANY_READERS: [Role; 3] = [Role::Reviewer, Role::Finance, Role::Admin];

/// Which companies to list, and which page of them.
#[derive(Debug, Default)]
pub struct CompanyFilter {
    /// Part of the name or of the credit code, in any case.
    pub q: Option<String>,
    pub industry: Option<Industry>,
    pub park_zone: Option<String>,
    pub verification_status: Option<VerificationStatus>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
    pub after: Option<String>,
}

/// A page of the companies matching `filter`, for staff, and how many there are in all.
pub async fn list(db: &Db, caller: &SignedIn, filter: CompanyFilter) -> Result<(Vec<CompanyView>, Window, i64)> {
    caller.require(&COMPANY_READERS)?;
    let window = Window::parse(filter.page, filter.per_page)?;
    let start = crate::db::Start::of(window, filter.after.as_deref())?;
    let query = companies::Filter {
        q: filter.q,
        industry: filter.industry.map(|i| i.as_str().to_owned()),
        park_zone: filter.park_zone,
        verification_status: filter.verification_status.map(|s| s.as_str().to_owned()),
    };
    let (rows, total) = db.read(move |conn| companies::list(conn, &query, start, window.per_page)).await?;
    let role = caller.role;
    let items = rows.into_iter().map(|row| CompanyView::new(row, None, role)).collect::<db::Result<_>>()?;
    Ok((items, window, total))
}

/// One company, for staff; finance sees the full bank account, and each such read is audited.
pub async fn get(db: &Db, caller: &SignedIn, id: i64) -> Result<CompanyView> {
    caller.require(&COMPANY_READERS)?;
    let (role, actor) = (caller.role, caller.actor());
    let keys = db.keys();
    if role != Role::Finance {
        return Ok(db.read(move |conn| CompanyView::load(conn, &keys, id, role)).await?);
    }
    db.write(move |conn| {
        let view = CompanyView::load(conn, &keys, id, role)?;
        if let Some(account) = &view.bank_account {
            let summary = json!({ "account_no": mask_account_no(&account.account_no) });
            audit::append(conn, &actor, Event::new("company.bank_account_read", "company", id, summary))?;
        }
        Ok(view)
    })
    .await
}

/// A verification decision; `form_errors` as in [`ProfilePatch`].
#[derive(Debug)]
pub struct Verification {
    pub decision: Choice<Decision>,
    pub comment: Option<String>,
    pub form_errors: Vec<FieldError>,
}

/// Verifies or rejects a company's registration (reviewers and admins); its accounts are told by email.
pub async fn verify(db: &Db, caller: &SignedIn, id: i64, input: Verification) -> Result<CompanyView> {
    caller.require(&[Role::Reviewer, Role::Admin])?;
    let comment = input.comment.as_deref().map(str::trim).unwrap_or_default().to_owned();
    let mut errors = input.form_errors;
    let decision = checked(Some(&input.decision), "decision", &mut errors);
    if let Some(decision) = decision {
        errors.extend(check_decision_comment(decision, &comment).err());
    }
    let (Some(decision), true) = (decision, errors.is_empty()) else {
        return Err(Refusal::invalid(errors).into());
    };
    let status = decision.status();
    let (actor, role) = (caller.actor(), caller.role);
    let keys = db.keys();
    db.write(move |conn| {
        let company = companies::set_verification(conn, id, status.as_str(), &comment, time::now())?;
        let verified = status == VerificationStatus::Verified;
        let email = |to: &str| templates::company_verification(to, &company.name, verified, &comment);
        notify::company(conn, id, email, time::now())?;
        let summary = json!({ "decision": status.as_str(), "comment": comment });
        audit::append(conn, &actor, Event::new("company.verification", "company", id, summary))?;
        Ok(CompanyView::load(conn, &keys, id, role)?)
    })
    .await
}
