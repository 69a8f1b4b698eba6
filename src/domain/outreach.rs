//! Policy outreach (政策精准推送): who is told of a programme and why, and the follow-up ledger's funnel
//! (辅导跟进台账): of the companies that qualify, how many were told and how many applied.

use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::eligibility::{self, Check, Facts, Rule};
use crate::i18n::Text;

/// Why a company qualifies for a programme: the explanation of every rule, each passed. `None` when the
/// company fails a rule.
pub fn reasons(rules: &[Rule], facts: &Facts<'_>) -> Option<Vec<Text>> {
    let checks: Vec<Check> = eligibility::evaluate(rules, facts);
    checks.iter().all(|c| c.passed).then(|| checks.into_iter().map(|c| c.message).collect())
}

/// Where a qualifying company stands in the follow-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Standing {
    pub notified: bool,
    pub applied: bool,
}

/// The ledger's counts: companies that qualify, how many of them were told, how many applied.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct Funnel {
    pub eligible: i64,
    pub notified: i64,
    pub applied: i64,
}

impl Funnel {
    pub fn of(standings: impl IntoIterator<Item = Standing>) -> Self {
        standings.into_iter().fold(Self::default(), |funnel, s| Self {
            eligible: funnel.eligible + 1,
            notified: funnel.notified + i64::from(s.notified),
            applied: funnel.applied + i64::from(s.applied),
        })
    }
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::*;
    use crate::domain::company::Industry;
    use crate::domain::eligibility::Figures;

    fn facts(industry: Industry) -> Facts<'static> {
        Facts {
            today: NaiveDate::from_ymd_opt(2026, 11, 29).unwrap(),
            verified: true,
            industry,
            park_zone: "唐家湾主园区",
            established_on: NaiveDate::from_ymd_opt(2019, 5, 20).unwrap(),
            registered_capital_fen: 1_000_000_000,
            high_tech_valid_until: None,
            tech_sme: false,
            figures: Some(Figures {
                revenue_fen: 4_000_000_000,
                rd_expense_fen: 240_000_000,
                employee_count: 80,
                rd_staff_count: 20,
            }),
            figures_year: 2025,
        }
    }

    #[test]
    fn a_company_that_passes_every_rule_gets_each_rules_explanation_and_one_that_fails_any_gets_none() {
        let rules = [
            Rule::CompanyVerified,
            Rule::IndustryIn { values: vec![Industry::IntegratedCircuit] },
            Rule::MinEmployees { count: 50 },
        ];
        let why = reasons(&rules, &facts(Industry::IntegratedCircuit)).expect("qualifies");
        assert_eq!(why.len(), 3);
        assert_eq!(why[1].zh, "贵公司所属行业“集成电路”符合要求。");
        assert_eq!(why[2].en, "Qualifies: 80 employees.");
        assert_eq!(reasons(&rules, &facts(Industry::Marine)), None);
        assert_eq!(reasons(&[], &facts(Industry::Marine)), Some(vec![]), "a programme without rules is for everyone");
    }

    #[test]
    fn the_funnel_counts_each_company_once_in_each_stage_it_reached() {
        let standings = [
            Standing { notified: true, applied: true },
            Standing { notified: true, applied: false },
            Standing { notified: false, applied: true },
            Standing { notified: false, applied: false },
        ];
        assert_eq!(Funnel::of(standings), Funnel { eligible: 4, notified: 2, applied: 2 });
        assert_eq!(Funnel::of([]), Funnel::default());
    }
}
