//! Companies, their yearly figures and their bank account.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::DbConnection;
use super::schema::{companies, company_bank_accounts, company_counts, company_financials};
use crate::crypto::Keyring;
use crate::db::error::{Error, Result};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = companies)]
pub struct CompanyRow {
    pub id: i64,
    pub credit_code: String,
    pub name: String,
    pub legal_representative: String,
    pub industry: String,
    pub park_zone: String,
    pub established_on: NaiveDate,
    pub registered_capital_fen: i64,
    pub address: String,
    pub contact_phone: String,
    pub verification_status: String,
    pub verification_comment: Option<String>,
    pub high_tech_certificate_no: Option<String>,
    pub high_tech_valid_until: Option<NaiveDate>,
    pub tech_sme: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub notify_new_programs: bool,
    /// `none`, `unconfirmed` or `confirmed`: whether finance confirmed the current bank account.
    pub bank_account_status: String,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = companies)]
pub struct NewCompany<'a> {
    pub credit_code: &'a str,
    pub name: &'a str,
    pub legal_representative: &'a str,
    pub industry: &'a str,
    pub park_zone: &'a str,
    pub established_on: NaiveDate,
    pub registered_capital_fen: i64,
    pub address: &'a str,
    pub contact_phone: &'a str,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// The profile fields a company may change; `None` leaves a field as it is.
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = companies)]
pub struct ProfileChanges {
    pub name: Option<String>,
    pub legal_representative: Option<String>,
    pub industry: Option<String>,
    pub park_zone: Option<String>,
    pub established_on: Option<NaiveDate>,
    pub registered_capital_fen: Option<i64>,
    pub address: Option<String>,
    pub contact_phone: Option<String>,
    pub notify_new_programs: Option<bool>,
    pub updated_at: Option<NaiveDateTime>,
}

pub fn insert(conn: &mut DbConnection, company: &NewCompany<'_>) -> Result<CompanyRow> {
    Ok(diesel::insert_into(companies::table).values(company).get_result(conn)?)
}

pub fn find(conn: &mut DbConnection, id: i64) -> Result<CompanyRow> {
    Ok(companies::table.find(id).select(CompanyRow::as_select()).first(conn)?)
}

pub fn credit_code_taken(conn: &mut DbConnection, credit_code: &str) -> Result<bool> {
    Ok(diesel::select(diesel::dsl::exists(companies::table.filter(companies::credit_code.eq(credit_code))))
        .get_result(conn)?)
}

pub fn update_profile(conn: &mut DbConnection, id: i64, changes: &ProfileChanges) -> Result<CompanyRow> {
    diesel::update(companies::table.find(id)).set(changes).execute(conn)?;
    find(conn, id)
}

pub fn set_certifications(
    conn: &mut DbConnection,
    id: i64,
    certificate_no: Option<&str>,
    valid_until: Option<NaiveDate>,
    tech_sme: bool,
    now: NaiveDateTime,
) -> Result<CompanyRow> {
    diesel::update(companies::table.find(id))
        .set((
            companies::high_tech_certificate_no.eq(certificate_no),
            companies::high_tech_valid_until.eq(valid_until),
            companies::tech_sme.eq(tech_sme),
            companies::updated_at.eq(now),
        ))
        .execute(conn)?;
    find(conn, id)
}

pub fn set_verification(
    conn: &mut DbConnection,
    id: i64,
    status: &str,
    comment: &str,
    now: NaiveDateTime,
) -> Result<CompanyRow> {
    let updated = diesel::update(companies::table.find(id))
        .set((
            companies::verification_status.eq(status),
            companies::verification_comment.eq(comment),
            companies::updated_at.eq(now),
        ))
        .execute(conn)?;
    if updated == 0 {
        return Err(Error::NotFound);
    }
    find(conn, id)
}

/// Sends a verified company back to `pending`; false when it was not verified.
pub fn reopen_verification(conn: &mut DbConnection, id: i64, now: NaiveDateTime) -> Result<bool> {
    let reopened = diesel::update(companies::table.find(id).filter(companies::verification_status.eq("verified")))
        .set((companies::verification_status.eq("pending"), companies::updated_at.eq(now)))
        .execute(conn)?;
    Ok(reopened == 1)
}

#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Part of the name or of the credit code, in any case.
    pub q: Option<String>,
    pub industry: Option<String>,
    pub park_zone: Option<String>,
    pub verification_status: Option<String>,
}

/// The companies `filter` selects, but for `q`, from the counters.
fn counted(conn: &mut DbConnection, filter: &Filter) -> Result<i64> {
    let mut query = company_counts::table.into_boxed();
    if let Some(industry) = &filter.industry {
        query = query.filter(company_counts::industry.eq(industry.clone()));
    }
    if let Some(zone) = &filter.park_zone {
        query = query.filter(company_counts::park_zone.eq(zone.clone()));
    }
    if let Some(status) = &filter.verification_status {
        query = query.filter(company_counts::verification_status.eq(status.clone()));
    }
    let counts: Vec<i64> = query.select(company_counts::n).load(conn)?;
    Ok(counts.into_iter().sum())
}

/// Companies newest first from `start`: up to `limit` + 1 (the extra one tells that more follow), with the total
/// (from the counters unless `q` is given).
pub fn list(
    conn: &mut DbConnection,
    filter: &Filter,
    start: super::Start<i64>,
    limit: i64,
) -> Result<(Vec<CompanyRow>, i64)> {
    let search = filter.q.as_deref().map(str::trim).filter(|q| !q.is_empty()).map(str::to_lowercase);
    let backend = conn.backend();
    let query = || {
        let mut query = companies::table.into_boxed();
        if let Some(q) = &search {
            query = query.filter(super::search::matching_companies(backend, q));
        }
        if let Some(industry) = &filter.industry {
            query = query.filter(companies::industry.eq(industry.clone()));
        }
        if let Some(zone) = &filter.park_zone {
            query = query.filter(companies::park_zone.eq(zone.clone()));
        }
        if let Some(status) = &filter.verification_status {
            query = query.filter(companies::verification_status.eq(status.clone()));
        }
        query
    };
    let total = if search.is_some() { query().count().get_result(conn)? } else { counted(conn, filter)? };
    let page = match start {
        super::Start::Offset(offset) => query().offset(offset),
        super::Start::After(id) => query().filter(companies::id.lt(id)),
    };
    let rows = page.order(companies::id.desc()).limit(limit + 1).select(CompanyRow::as_select()).load(conn)?;
    Ok((rows, total))
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = company_financials)]
pub struct FinancialsRow {
    pub company_id: i64,
    pub year: i32,
    pub revenue_fen: i64,
    pub rd_expense_fen: i64,
    pub employee_count: i32,
    pub rd_staff_count: i32,
    pub updated_at: NaiveDateTime,
}

/// Replaces (or adds) one year's figures.
pub fn put_financials(conn: &mut DbConnection, row: &FinancialsRow) -> Result<()> {
    let updated = diesel::update(company_financials::table.find((row.company_id, row.year))).set(row).execute(conn)?;
    if updated == 0 {
        diesel::insert_into(company_financials::table).values(row).execute(conn)?;
    }
    Ok(())
}

pub fn financials(conn: &mut DbConnection, company_id: i64) -> Result<Vec<FinancialsRow>> {
    Ok(company_financials::table
        .filter(company_financials::company_id.eq(company_id))
        .order(company_financials::year.desc())
        .select(FinancialsRow::as_select())
        .load(conn)?)
}

/// A company's bank account, its number opened (it is stored sealed, see [`crate::crypto`]).
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = company_bank_accounts)]
pub struct BankAccountRow {
    pub company_id: i64,
    pub bank_name: String,
    pub account_name: String,
    pub account_no: String,
    pub updated_at: NaiveDateTime,
    pub confirmed_at: Option<NaiveDateTime>,
    pub confirmed_by: Option<i64>,
}

/// A company's bank account as it sets it.
#[derive(Debug, Clone, Insertable, AsChangeset)]
#[diesel(table_name = company_bank_accounts)]
pub struct NewBankAccount {
    pub company_id: i64,
    pub bank_name: String,
    pub account_name: String,
    pub account_no: String,
    pub updated_at: NaiveDateTime,
}

/// Where a company's account number is stored: what its sealed value is bound to.
fn account_no_place(company_id: i64) -> String {
    format!("company_bank_accounts.account_no:{company_id}")
}

fn seal_account_no(keys: &Keyring, company_id: i64, account_no: &str) -> Result<String> {
    keys.seal(account_no, &account_no_place(company_id)).map_err(|e| Error::Other(e.into()))
}

/// The row as read, its account number opened.
fn opened(keys: &Keyring, mut row: BankAccountRow) -> Result<BankAccountRow> {
    let id = row.company_id;
    row.account_no = keys
        .open(&row.account_no, &account_no_place(id))
        .map_err(|e| Error::damaged("company_bank_accounts", id, e))?
        .text;
    Ok(row)
}

/// Sets (or replaces) the company's bank account, its number sealed; it is unconfirmed until finance
/// confirms it.
pub fn put_bank_account(conn: &mut DbConnection, keys: &Keyring, row: &NewBankAccount) -> Result<()> {
    let row = &NewBankAccount { account_no: seal_account_no(keys, row.company_id, &row.account_no)?, ..row.clone() };
    let unconfirmed = (
        company_bank_accounts::confirmed_at.eq(None::<NaiveDateTime>),
        company_bank_accounts::confirmed_by.eq(None::<i64>),
    );
    let updated =
        diesel::update(company_bank_accounts::table.find(row.company_id)).set((row, unconfirmed)).execute(conn)?;
    if updated == 0 {
        diesel::insert_into(company_bank_accounts::table).values(row).execute(conn)?;
    }
    let marked = diesel::update(companies::table.find(row.company_id))
        .set(companies::bank_account_status.eq("unconfirmed"))
        .execute(conn)?;
    if marked == 1 { Ok(()) } else { Err(Error::NotFound) }
}

/// Confirms the company's current bank account for payments; `None` when it has none.
pub fn confirm_bank_account(
    conn: &mut DbConnection,
    keys: &Keyring,
    company_id: i64,
    confirmed_by: i64,
    now: NaiveDateTime,
) -> Result<Option<BankAccountRow>> {
    let confirmed = diesel::update(company_bank_accounts::table.find(company_id))
        .set((company_bank_accounts::confirmed_at.eq(now), company_bank_accounts::confirmed_by.eq(confirmed_by)))
        .execute(conn)?;
    if confirmed == 0 {
        return Ok(None);
    }
    diesel::update(companies::table.find(company_id))
        .set(companies::bank_account_status.eq("confirmed"))
        .execute(conn)?;
    bank_account(conn, keys, company_id)
}

/// The account a payment to the company may go to: its bank account, when finance has confirmed it.
pub fn confirmed_bank_account(
    conn: &mut DbConnection,
    keys: &Keyring,
    company_id: i64,
) -> Result<Option<BankAccountRow>> {
    company_bank_accounts::table
        .inner_join(companies::table)
        .filter(company_bank_accounts::company_id.eq(company_id))
        .filter(companies::bank_account_status.eq("confirmed"))
        .filter(company_bank_accounts::confirmed_at.is_not_null())
        .select(BankAccountRow::as_select())
        .first(conn)
        .optional()?
        .map(|row| opened(keys, row))
        .transpose()
}

pub fn bank_account(conn: &mut DbConnection, keys: &Keyring, company_id: i64) -> Result<Option<BankAccountRow>> {
    company_bank_accounts::table
        .find(company_id)
        .select(BankAccountRow::as_select())
        .first(conn)
        .optional()?
        .map(|row| opened(keys, row))
        .transpose()
}

/// Seals again, under the current key, every account number that is not sealed under it yet (written
/// before numbers were sealed, or under an older key). Each row is changed only if it still holds what was
/// read, so a number set meanwhile is never overwritten. Answers how many were sealed.
pub fn reseal_account_numbers(conn: &mut DbConnection, keys: &Keyring) -> Result<usize> {
    let Some(current) = keys.current_prefix() else { return Ok(0) };
    let stale: Vec<(i64, String)> = company_bank_accounts::table
        .filter(company_bank_accounts::account_no.not_like(format!("{}%", super::escape_like(&current))).escape('\\'))
        .select((company_bank_accounts::company_id, company_bank_accounts::account_no))
        .load(conn)?;
    let mut sealed = 0;
    for (company_id, stored) in stale {
        let plain = keys
            .open(&stored, &account_no_place(company_id))
            .map_err(|e| Error::damaged("company_bank_accounts", company_id, e))?;
        sealed += diesel::update(
            company_bank_accounts::table.find(company_id).filter(company_bank_accounts::account_no.eq(&stored)),
        )
        .set(company_bank_accounts::account_no.eq(seal_account_no(keys, company_id, &plain.text)?))
        .execute(conn)?;
    }
    Ok(sealed)
}

pub fn financials_for_year(conn: &mut DbConnection, company_id: i64, year: i32) -> Result<Option<FinancialsRow>> {
    Ok(company_financials::table.find((company_id, year)).select(FinancialsRow::as_select()).first(conn).optional()?)
}
