//! Whether an application may be submitted: the window, a verified company, the required materials, a
//! complete form, eligibility and an amount within the maximum award, checked in that order.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use crate::domain::company::VerificationStatus;
use crate::domain::eligibility::Check;
use crate::domain::error::{Error as Refusal, FieldError};
use crate::domain::money::{MAX_FEN, yuan};
use crate::domain::program::{FormField, Material, check_form};
use crate::i18n::Text;

/// Everything the submission check reads, gathered by the caller.
#[derive(Debug)]
pub struct Submission<'a> {
    /// The programme is published and its window contains now.
    pub window_open: bool,
    pub opens_at: DateTime<Utc>,
    pub closes_at: DateTime<Utc>,
    pub verification: VerificationStatus,
    pub materials: &'a [Material],
    /// The material keys of the files uploaded so far.
    pub uploaded: &'a [String],
    pub fields: &'a [FormField],
    pub form: &'a Map<String, Value>,
    /// The programme's eligibility rules evaluated for the company.
    pub eligibility: &'a [Check],
    pub requested_amount_fen: i64,
    pub max_award_fen: i64,
}

/// `Ok` when the application may be submitted, the first failing check's refusal otherwise.
pub fn check(s: &Submission<'_>) -> Result<(), Refusal> {
    if !s.window_open {
        return Err(Refusal::conflict(
            "window_closed",
            Text::owned(
                format!("本项目的申报时间为 {} 至 {}，现在不在申报期内。", s.opens_at, s.closes_at),
                format!(
                    "Applications are accepted from {} to {}; the window is not open now.",
                    s.opens_at, s.closes_at
                ),
            ),
        ));
    }
    if s.verification != VerificationStatus::Verified {
        return Err(Refusal::Invalid {
            code: "company_not_verified",
            detail: Text::new(
                "企业信息尚未通过园区审核，审核通过后方可提交申报。",
                "Your company has not been verified by the park yet; you can submit once it is.",
            ),
            errors: Vec::new(),
        });
    }
    let missing: Vec<_> = s.materials.iter().filter(|m| m.required && !s.uploaded.contains(&m.key)).collect();
    if !missing.is_empty() {
        let names = missing.iter().map(|m| m.name.as_str()).collect::<Vec<_>>().join("、");
        return Err(Refusal::Invalid {
            code: "missing_materials",
            detail: Text::owned(
                format!("请先上传以下必需材料：{names}。"),
                format!("Upload these required materials first: {names}."),
            ),
            errors: missing
                .iter()
                .map(|m| {
                    FieldError::new(
                        format!("materials.{}", m.key),
                        "missing",
                        Text::owned(format!("请上传“{}”。", m.name), format!("Upload “{}”.", m.name)),
                    )
                })
                .collect(),
        });
    }
    Refusal::unless_any(check_form(s.fields, s.form, true))?;
    let failing: Vec<_> = s.eligibility.iter().filter(|c| !c.passed).collect();
    if !failing.is_empty() {
        return Err(Refusal::Invalid {
            code: "not_eligible",
            detail: Text::new(
                "贵公司不符合本项目的申报条件，详见各项说明。",
                "Your company does not meet this programme's conditions; see each check.",
            ),
            errors: failing
                .into_iter()
                .map(|c| FieldError::new(format!("eligibility.{}", c.rule), "not_met", c.message.clone()))
                .collect(),
        });
    }
    if s.requested_amount_fen > s.max_award_fen {
        return Err(Refusal::field(
            "requested_amount_fen",
            "exceeds_max_award",
            Text::owned(
                format!("申请金额不能超过本项目单项最高支持额 {} 元。", yuan(s.max_award_fen)),
                format!(
                    "The requested amount cannot exceed the programme's maximum award of {} yuan.",
                    yuan(s.max_award_fen)
                ),
            ),
        ));
    }
    Ok(())
}

/// The amount a company may ask for: above nothing, and at most [`MAX_FEN`].
pub fn check_requested_amount(requested_amount_fen: i64) -> Result<(), Refusal> {
    if (1..=MAX_FEN).contains(&requested_amount_fen) {
        return Ok(());
    }
    Err(Refusal::field(
        "requested_amount_fen",
        "out_of_range",
        Text::new(
            "申请金额须大于 0 且不超过 10 万亿元（单位：分）。",
            "The requested amount must be above 0 and at most 10 trillion yuan (in fen).",
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::files::FileType;
    use crate::domain::program::FieldType;

    fn material(key: &str, required: bool) -> Material {
        Material {
            key: key.into(),
            name: key.to_uppercase(),
            required,
            accepted_types: vec![FileType::ALL[0]],
            max_size_bytes: 1024,
        }
    }

    fn check_of(passed: bool) -> Check {
        let t = Text::new("x", "x");
        Check { rule: "min_revenue", passed, expected: t.clone(), actual: t.clone(), message: t }
    }

    struct Owned {
        materials: Vec<Material>,
        uploaded: Vec<String>,
        fields: Vec<FormField>,
        form: Map<String, Value>,
        eligibility: Vec<Check>,
    }

    fn owned() -> Owned {
        let mut form = Map::new();
        form.insert("summary".into(), Value::String("a plan".into()));
        Owned {
            materials: vec![material("licence", true), material("extra", false)],
            uploaded: vec!["licence".into()],
            fields: vec![FormField {
                key: "summary".into(),
                label: "Summary".into(),
                field_type: FieldType::Text,
                required: true,
                max_length: None,
                min: None,
                max: None,
                options: None,
            }],
            form,
            eligibility: vec![check_of(true)],
        }
    }

    fn submission(o: &Owned) -> Submission<'_> {
        Submission {
            window_open: true,
            opens_at: DateTime::<Utc>::MIN_UTC,
            closes_at: DateTime::<Utc>::MAX_UTC,
            verification: VerificationStatus::Verified,
            materials: &o.materials,
            uploaded: &o.uploaded,
            fields: &o.fields,
            form: &o.form,
            eligibility: &o.eligibility,
            requested_amount_fen: 100,
            max_award_fen: 100,
        }
    }

    fn code(result: Result<(), Refusal>) -> &'static str {
        match result {
            Ok(()) => "ok",
            Err(Refusal::Conflict { code, .. } | Refusal::Invalid { code, .. }) => code,
            Err(other) => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn a_complete_application_may_be_submitted() {
        assert_eq!(code(check(&submission(&owned()))), "ok");
    }

    #[test]
    fn each_failing_check_answers_its_own_code() {
        let o = owned();
        let closed = Submission { window_open: false, ..submission(&o) };
        assert_eq!(code(check(&closed)), "window_closed");
        for status in [VerificationStatus::Pending, VerificationStatus::Rejected] {
            assert_eq!(code(check(&Submission { verification: status, ..submission(&o) })), "company_not_verified");
        }
        let nothing: Vec<String> = Vec::new();
        assert_eq!(code(check(&Submission { uploaded: &nothing, ..submission(&o) })), "missing_materials");
        let empty = Map::new();
        assert_eq!(code(check(&Submission { form: &empty, ..submission(&o) })), "validation_failed");
        let failing = vec![check_of(true), check_of(false)];
        assert_eq!(code(check(&Submission { eligibility: &failing, ..submission(&o) })), "not_eligible");
        assert_eq!(code(check(&Submission { requested_amount_fen: 101, ..submission(&o) })), "validation_failed");
    }

    #[test]
    fn a_requested_amount_is_above_nothing_and_at_most_the_ceiling() {
        assert!(check_requested_amount(1).is_ok());
        assert!(check_requested_amount(MAX_FEN).is_ok());
        for bad in [0, -1, MAX_FEN + 1] {
            assert!(check_requested_amount(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_window_is_checked_before_the_company() {
        let o = owned();
        let both = Submission { window_open: false, verification: VerificationStatus::Pending, ..submission(&o) };
        assert_eq!(code(check(&both)), "window_closed");
    }
}
