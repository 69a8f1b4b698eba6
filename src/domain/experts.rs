//! Choosing the experts for an application: named by a reviewer from the active experts, or drawn at
//! random from those not yet on it.

use rand::Rng;
use rand::seq::IndexedRandom;

use crate::domain::error::{Error as Refusal, FieldError};
use crate::i18n::Text;

/// The named experts, each once, if every one is an active expert (`pool`) not yet assigned (`already`).
pub fn check_named(named: &[i64], pool: &[i64], already: &[i64]) -> Result<Vec<i64>, Refusal> {
    let mut errors = Vec::new();
    for expert in named {
        if !pool.contains(expert) {
            errors.push(FieldError::new(
                "expert_ids",
                "unknown_expert",
                Text::owned(
                    format!("用户 {expert} 不是在岗的评审专家。"),
                    format!("User {expert} is not an active expert."),
                ),
            ));
        } else if already.contains(expert) {
            errors.push(FieldError::new(
                "expert_ids",
                "already_assigned",
                Text::owned(
                    format!("专家 {expert} 已在本申报的评审名单中。"),
                    format!("Expert {expert} is already assigned."),
                ),
            ));
        }
    }
    Refusal::unless_any(errors)?;
    let mut unique = named.to_vec();
    unique.sort_unstable();
    unique.dedup();
    Ok(unique)
}

/// `n` experts drawn at random from the active ones (`pool`) not yet assigned (`already`), with `rng` as
/// the source of chance; refused when there are fewer than `n` to draw from.
pub fn draw(rng: &mut impl Rng, n: u32, pool: &[i64], already: &[i64]) -> Result<Vec<i64>, Refusal> {
    let candidates: Vec<i64> = pool.iter().copied().filter(|e| !already.contains(e)).collect();
    let wanted = usize::try_from(n).unwrap_or(usize::MAX);
    if candidates.len() < wanted {
        return Err(Refusal::conflict(
            "not_enough_experts",
            Text::owned(
                format!("可抽取的专家只有 {} 位，不足 {n} 位。", candidates.len()),
                format!("Only {} experts can be drawn, fewer than {n}.", candidates.len()),
            ),
        ));
    }
    Ok(candidates.choose_multiple(rng, wanted).copied().collect())
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    use super::*;

    #[test]
    fn a_draw_takes_distinct_experts_not_yet_assigned() {
        let pool: Vec<i64> = (1..=10).collect();
        let already = [2, 4];
        for seed in 0..50 {
            let drawn = draw(&mut StdRng::seed_from_u64(seed), 8, &pool, &already).unwrap();
            let mut unique = drawn.clone();
            unique.sort_unstable();
            unique.dedup();
            assert_eq!(unique.len(), 8);
            assert!(drawn.iter().all(|e| pool.contains(e) && !already.contains(e)), "{drawn:?}");
        }
    }

    #[test]
    fn the_same_seed_draws_the_same_experts() {
        let pool: Vec<i64> = (1..=30).collect();
        let first = draw(&mut StdRng::seed_from_u64(7), 5, &pool, &[]).unwrap();
        let second = draw(&mut StdRng::seed_from_u64(7), 5, &pool, &[]).unwrap();
        assert_eq!(first, second);
    }

    #[test]
    fn a_draw_larger_than_the_candidates_is_refused() {
        let refused = draw(&mut StdRng::seed_from_u64(1), 3, &[1, 2, 3], &[3]).unwrap_err();
        assert!(matches!(refused, Refusal::Conflict { code: "not_enough_experts", .. }), "{refused:?}");
    }

    #[test]
    fn named_experts_must_be_active_and_new_and_count_once() {
        assert_eq!(check_named(&[3, 1, 3], &[1, 2, 3], &[2]).unwrap(), vec![1, 3]);
        let Err(Refusal::Invalid { errors, .. }) = check_named(&[9, 2], &[1, 2], &[2]) else { panic!() };
        let codes: Vec<_> = errors.iter().map(|e| e.code.as_ref()).collect();
        assert_eq!(codes, ["unknown_expert", "already_assigned"]);
    }
}
