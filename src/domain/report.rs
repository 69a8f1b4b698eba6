//! What the reports can group by.

use serde::{Deserialize, Serialize};

/// How the disbursement report groups approved awards.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum GroupBy {
    Program,
    Company,
    Industry,
    ParkZone,
    /// The month the award was approved, in the park's time.
    Month,
    Year,
}
