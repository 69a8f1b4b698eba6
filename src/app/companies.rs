//! Companies: the tenants, their profile and the facts eligibility rules read.

use chrono::{Datelike, NaiveDate};
use serde_json::json;

use crate::app::Result;
use crate::db::DbConnection;
use crate::db::companies::{self, CompanyRow, FinancialsRow};
use crate::domain::company::{Industry, VerificationStatus};
use crate::domain::eligibility::{self, Check, Facts, Figures, Rule};

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
