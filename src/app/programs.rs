//! Programmes: the support funds companies apply to.

use chrono::{DateTime, Utc};

use crate::app::{Result, SignedIn};
use crate::db::programs::{self, ProgramRow};
use crate::db::{self, DbConnection};
use crate::domain::eligibility::Rule;
use crate::domain::program::{FormField, Guide, Material, ProgramStatus};
use crate::domain::role::Role;
use crate::domain::time;

pub use crate::domain::workflow::DEFAULT_CORRECTION_DAYS;
pub const DEFAULT_MAX_TOTAL_UPLOAD_BYTES: i64 = 200 * 1024 * 1024;

/// A programme with its structured parts read back from storage.
#[derive(Debug, Clone)]
pub struct Program {
    pub row: ProgramRow,
    pub guide: Guide,
    pub rules: Vec<Rule>,
    pub materials: Vec<Material>,
    pub fields: Vec<FormField>,
}

impl Program {
    pub fn from_row(row: ProgramRow) -> Result<Self> {
        let parse = |what: &str, text: &str| {
            db::Error::damaged("programs", row.id, format!("stored {what} do not parse: {text}"))
        };
        Ok(Self {
            guide: serde_json::from_str(&row.guide).map_err(|e| parse("guide", &e.to_string()))?,
            rules: serde_json::from_str(&row.eligibility_rules).map_err(|e| parse("rules", &e.to_string()))?,
            materials: serde_json::from_str(&row.required_materials).map_err(|e| parse("materials", &e.to_string()))?,
            fields: serde_json::from_str(&row.form_fields).map_err(|e| parse("fields", &e.to_string()))?,
            row,
        })
    }

    pub fn load(conn: &mut DbConnection, id: i64) -> Result<Self> {
        Self::from_row(programs::find(conn, id)?)
    }

    pub fn status(&self) -> ProgramStatus {
        ProgramStatus::parse(&self.row.status).unwrap_or(ProgramStatus::Draft)
    }

    /// Published, and its window contains `now`.
    pub fn is_open(&self, now: DateTime<Utc>) -> bool {
        self.status() == ProgramStatus::Published
            && time::to_utc(self.row.opens_at) <= now
            && now < time::to_utc(self.row.closes_at)
    }

    /// Anyone sees published and closed programmes; drafts are for administrators only.
    pub fn visible_to(&self, viewer: Option<&SignedIn>) -> bool {
        self.status() != ProgramStatus::Draft || viewer.is_some_and(|v| v.role == Role::Admin)
    }
}
