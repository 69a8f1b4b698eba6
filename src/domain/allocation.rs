//! Allocating a programme's budget over a batch of good applications (按比例核减). Each application's
//! cap is the least of what it asked for, the programme's maximum and its ratio cap. When the caps fit
//! the available budget each gets its cap; when they do not, `pro_rata` cuts every one by the same
//! factor, rounded down to the fen, and hands the leftover fen one by one by largest remainder (ties by
//! reference number), so the batch spends the available budget exactly. Integers only.

use std::cmp::Ordering;

use serde::{Deserialize, Serialize};

text_enum!(
    /// How a batch is allocated.
    AllocationMethod {
        /// Each gets its cap, cut by the same factor when the caps exceed the budget.
        ProRata => "pro_rata",
        /// Each gets its cap, and the batch is refused when the caps exceed the budget.
        AsCapped => "as_capped",
    }
);

/// One application of the batch: its reference number and its cap.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    pub reference_no: String,
    pub capped_fen: i64,
}

/// What each application of the batch gets, in the order given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Allocation {
    pub approved_fen: Vec<i64>,
    pub capped_total_fen: i64,
    pub approved_total_fen: i64,
    /// The caps exceed the available budget (with `pro_rata` the awards were cut to fit it).
    pub oversubscribed: bool,
}

impl Allocation {
    /// The awards fit the available budget.
    pub fn fits(&self, available_fen: i64) -> bool {
        self.approved_total_fen <= available_fen
    }
}

/// Reference numbers in their natural order: `P-9999` before `P-10000`.
fn by_reference(a: &str, b: &str) -> Ordering {
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

/// Allocates `available_fen` over `claims` by `method`; every cap must be at least 0.
pub fn allocate(method: AllocationMethod, claims: &[Claim], available_fen: i64) -> Allocation {
    let capped: Vec<i64> = claims.iter().map(|c| c.capped_fen.max(0)).collect();
    let capped_total: i128 = capped.iter().copied().map(i128::from).sum();
    let available = i128::from(available_fen.max(0));
    let oversubscribed = capped_total > i128::from(available_fen);
    let approved = if method == AllocationMethod::ProRata && oversubscribed {
        cut(claims, &capped, capped_total, available)
    } else {
        capped
    };
    let approved_total: i128 = approved.iter().copied().map(i128::from).sum();
    Allocation {
        capped_total_fen: i64::try_from(capped_total).unwrap_or(i64::MAX),
        approved_total_fen: i64::try_from(approved_total).unwrap_or(i64::MAX),
        approved_fen: approved,
        oversubscribed,
    }
}

/// `floor(cap × available / total)` each, then one more fen to each of the largest remainders until the
/// total is `available` (fewer leftover fen than claims, so each gets at most one).
fn cut(claims: &[Claim], capped: &[i64], capped_total: i128, available: i128) -> Vec<i64> {
    let shares: Vec<(i128, i128)> = capped
        .iter()
        .map(|&cap| {
            let product = i128::from(cap) * available;
            (product / capped_total, product % capped_total)
        })
        .collect();
    let floors: i128 = shares.iter().map(|(floor, _)| floor).sum();
    let leftover = usize::try_from(available - floors).expect("fewer leftover fen than claims");
    let mut order: Vec<usize> = (0..claims.len()).collect();
    order.sort_by(|&a, &b| {
        shares[b].1.cmp(&shares[a].1).then_with(|| by_reference(&claims[a].reference_no, &claims[b].reference_no))
    });
    let mut awards: Vec<i64> =
        shares.iter().map(|(floor, _)| i64::try_from(*floor).expect("an award is at most its cap")).collect();
    for &index in order.iter().take(leftover) {
        awards[index] += 1;
    }
    awards
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn claims(caps: &[i64]) -> Vec<Claim> {
        caps.iter()
            .enumerate()
            .map(|(i, &cap)| Claim { reference_no: format!("IC-2026-{:04}", i + 1), capped_fen: cap })
            .collect()
    }

    #[test]
    fn caps_that_fit_are_granted_as_they_are() {
        let batch = claims(&[300, 200]);
        for method in AllocationMethod::ALL.iter().copied() {
            let allocation = allocate(method, &batch, 500);
            assert_eq!(allocation.approved_fen, [300, 200]);
            assert!(!allocation.oversubscribed);
            assert!(allocation.fits(500));
        }
    }

    #[test]
    fn as_capped_does_not_cut_and_so_does_not_fit() {
        let allocation = allocate(AllocationMethod::AsCapped, &claims(&[300, 200]), 499);
        assert_eq!(allocation.approved_fen, [300, 200]);
        assert!(allocation.oversubscribed && !allocation.fits(499));
    }

    #[test]
    fn pro_rata_cuts_by_one_factor_and_hands_out_the_leftover_fen_by_largest_remainder() {
        // 1000 available of 1500: factor 2/3. 500 → 333.33, 600 → 400, 400 → 266.67.
        let allocation = allocate(AllocationMethod::ProRata, &claims(&[500, 600, 400]), 1000);
        assert_eq!(allocation.approved_fen, [333, 400, 267]);
        assert_eq!((allocation.capped_total_fen, allocation.approved_total_fen), (1500, 1000));
    }

    #[test]
    fn equal_remainders_go_by_reference_number_in_natural_order() {
        // Three equal caps, 2 fen: each 0.67, the first two references get a fen.
        let mut batch = claims(&[1, 1, 1]);
        batch[0].reference_no = "IC-2026-10000".into();
        batch[1].reference_no = "IC-2026-9999".into();
        batch[2].reference_no = "IC-2026-9998".into();
        assert_eq!(allocate(AllocationMethod::ProRata, &batch, 2).approved_fen, [0, 1, 1]);
    }

    #[test]
    fn nothing_available_gives_nothing() {
        for available in [0, -5] {
            let allocation = allocate(AllocationMethod::ProRata, &claims(&[100, 1]), available);
            assert_eq!(allocation.approved_fen, [0, 0]);
        }
    }

    #[test]
    fn sums_near_the_largest_amounts_do_not_overflow() {
        let big = crate::domain::money::MAX_FEN;
        let allocation = allocate(AllocationMethod::ProRata, &claims(&[big, big, big]), big);
        assert_eq!(allocation.approved_total_fen, big);
        assert_eq!(allocation.capped_total_fen, 3 * big);
    }

    fn batch() -> impl Strategy<Value = (Vec<i64>, i64)> {
        (prop::collection::vec(0..2_000_000_000_i64, 1..60), 0..60_000_000_000_i64)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn an_oversubscribed_batch_spends_exactly_the_available_budget((caps, available) in batch()) {
            let allocation = allocate(AllocationMethod::ProRata, &claims(&caps), available);
            if allocation.oversubscribed {
                prop_assert_eq!(allocation.approved_total_fen, available);
            } else {
                prop_assert_eq!(&allocation.approved_fen, &caps);
            }
        }

        #[test]
        fn each_award_lies_between_its_floor_and_its_cap((caps, available) in batch()) {
            let allocation = allocate(AllocationMethod::ProRata, &claims(&caps), available);
            let total: i128 = caps.iter().copied().map(i128::from).sum();
            for (cap, award) in caps.iter().zip(&allocation.approved_fen) {
                prop_assert!(award <= cap, "{award} > {cap}");
                if allocation.oversubscribed {
                    let floor = i64::try_from(i128::from(*cap) * i128::from(available) / total).unwrap();
                    prop_assert!(*award == floor || *award == floor + 1, "{award} not {floor} or one more");
                }
            }
        }

        #[test]
        fn the_same_batch_in_any_order_gets_the_same_awards(
            (caps, available) in batch(),
            seed in any::<u64>(),
        ) {
            let batch = claims(&caps);
            let first = allocate(AllocationMethod::ProRata, &batch, available);
            let mut shuffled: Vec<(Claim, i64)> = batch.into_iter().zip(first.approved_fen.clone()).collect();
            let mut state = seed;
            for i in (1..shuffled.len()).rev() {
                state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
                let j = usize::try_from(state >> 33).unwrap() % (i + 1);
                shuffled.swap(i, j);
            }
            let (again, expected): (Vec<Claim>, Vec<i64>) = shuffled.into_iter().unzip();
            prop_assert_eq!(allocate(AllocationMethod::ProRata, &again, available).approved_fen, expected);
        }

        #[test]
        fn equal_caps_get_equal_awards_give_or_take_a_fen((caps, available) in batch(), twins in 2..10_usize) {
            let mut caps = caps;
            let twin = caps[0];
            caps.extend(std::iter::repeat_n(twin, twins));
            let allocation = allocate(AllocationMethod::ProRata, &claims(&caps), available);
            let awards: Vec<i64> =
                caps.iter().zip(&allocation.approved_fen).filter(|(c, _)| **c == twin).map(|(_, a)| *a).collect();
            let (low, high) = (awards.iter().min().unwrap(), awards.iter().max().unwrap());
            prop_assert!(high - low <= 1, "{awards:?}");
        }
    }
}
