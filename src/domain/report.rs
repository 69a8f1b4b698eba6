//! What the reports can group by, and the arithmetic they share.

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

/// The median of `values` (sorted in place): the mean of the middle two for an even count.
pub fn median(values: &mut [u32]) -> Option<f64> {
    values.sort_unstable();
    let middle = values.len() / 2;
    match values.len() {
        0 => None,
        n if n % 2 == 1 => Some(f64::from(values[middle])),
        _ => Some(f64::from(values[middle - 1] + values[middle]) / 2.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_median_of_an_even_count_is_the_mean_of_the_middle_two() {
        assert_eq!(median(&mut []), None);
        assert_eq!(median(&mut [5, 1, 3]), Some(3.0));
        assert_eq!(median(&mut [4, 1, 3, 10]), Some(3.5));
    }
}
