//! Turns the validator crate's findings into field errors with a message in both languages.

use std::borrow::Cow;

use serde::{Deserialize, Deserializer};
use validator::{Validate, ValidationError, ValidationErrors, ValidationErrorsKind};

use crate::domain::error::{Error as Refusal, FieldError};
use crate::i18n::Text;

/// Every problem `errors` holds, one per field and rule, with dotted paths (`company.name`).
pub fn field_errors(errors: &ValidationErrors) -> Vec<FieldError> {
    let mut out = Vec::new();
    collect(errors, "", &mut out);
    out.sort_by(|a, b| a.field.cmp(&b.field));
    out
}

/// Every problem the input's declared rules (`#[validate(..)]`) find; none when it passes.
pub fn form_errors(input: &impl Validate) -> Vec<FieldError> {
    input.validate().err().map(|e| field_errors(&e)).unwrap_or_default()
}

fn collect(errors: &ValidationErrors, prefix: &str, out: &mut Vec<FieldError>) {
    for (field, kind) in errors.errors() {
        let path = if prefix.is_empty() { field.to_string() } else { format!("{prefix}.{field}") };
        match kind {
            ValidationErrorsKind::Field(list) => {
                out.extend(list.iter().map(|e| FieldError::new(path.clone(), e.code.clone(), message(e))));
            }
            ValidationErrorsKind::Struct(inner) => collect(inner, &path, out),
            ValidationErrorsKind::List(items) => {
                for (index, inner) in items {
                    collect(inner, &format!("{path}[{index}]"), out);
                }
            }
        }
    }
}

fn param(error: &ValidationError, name: &str) -> Option<String> {
    error.params.get(name).map(|v| v.to_string().trim_matches('"').to_owned())
}

fn message(error: &ValidationError) -> Text {
    match error.code.as_ref() {
        "length" => match (param(error, "min"), param(error, "max")) {
            (Some(min), Some(max)) => Text::owned(
                format!("长度须为 {min}–{max} 个字符。"),
                format!("Must be {min} to {max} characters long."),
            ),
            (None, Some(max)) => Text::owned(format!("最多 {max} 个字符。"), format!("At most {max} characters.")),
            (Some(min), None) => Text::owned(format!("至少 {min} 个字符。"), format!("At least {min} characters.")),
            _ => Text::new("长度不符合要求。", "The length is not allowed."),
        },
        "range" => match (param(error, "min"), param(error, "max")) {
            (Some(min), Some(max)) => {
                Text::owned(format!("须在 {min} 到 {max} 之间。"), format!("Must be between {min} and {max}."))
            }
            (Some(min), None) => Text::owned(format!("不能小于 {min}。"), format!("Must be at least {min}.")),
            (None, Some(max)) => Text::owned(format!("不能大于 {max}。"), format!("Must be at most {max}.")),
            _ => Text::new("数值超出范围。", "Out of range."),
        },
        "email" => Text::new(
            "邮箱地址格式不正确，例如 name@example.com。",
            "Not a valid email address, e.g. name@example.com.",
        ),
        "blank" => Text::new("此项不能为空。", "This field cannot be blank."),
        other => Text::owned(format!("内容不符合要求（{other}）。"), format!("Not valid ({other}).")),
    }
}

/// A custom rule for the derive: text that is empty once trimmed.
pub fn not_blank(text: &str) -> Result<(), ValidationError> {
    if text.trim().is_empty() { Err(ValidationError::new("blank")) } else { Ok(()) }
}

pub const DEFAULT_PER_PAGE: i64 = 20;
pub const MAX_PER_PAGE: i64 = 100;
/// The last page number a list takes (`i32::MAX`).
pub const MAX_PAGE: i64 = 2_147_483_647;

/// Which page of a list to show: `page` from 1, `per_page` items on each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub page: i64,
    pub per_page: i64,
}

impl Window {
    /// The page asked for (the first, of 20, when absent), or the refusal naming what is out of range.
    pub fn parse(page: Option<i64>, per_page: Option<i64>) -> Result<Self, Refusal> {
        let page = page.unwrap_or(1);
        let per_page = per_page.unwrap_or(DEFAULT_PER_PAGE);
        let mut errors = Vec::new();
        if !(1..=MAX_PAGE).contains(&page) {
            errors.push(FieldError::new("page", "out_of_range", Text::new("页码须从 1 开始。", "Pages start at 1.")));
        }
        if !(1..=MAX_PER_PAGE).contains(&per_page) {
            errors.push(FieldError::new(
                "per_page",
                "out_of_range",
                Text::new("每页条数须为 1–100。", "per_page must be between 1 and 100."),
            ));
        }
        Refusal::unless_any(errors)?;
        Ok(Self { page, per_page })
    }

    /// How many items come before the page.
    pub fn offset(self) -> i64 {
        (self.page - 1) * self.per_page
    }
}

/// A fixed vocabulary a request picks from, each choice with its wire name and its names in both languages.
pub trait Vocabulary: Copy + Sized + 'static {
    const CHOICES: &'static [Self];

    fn as_str(self) -> &'static str;

    fn label(self) -> Text;
}

/// A choice as a request sent it: one of `T`'s, or text that is none of them. Deserialising never fails
/// on an unknown choice, so it is refused together with every other problem of the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Choice<T> {
    Known(T),
    Unknown(String),
}

impl<T: Vocabulary> Choice<T> {
    pub fn parse(text: &str) -> Self {
        T::CHOICES
            .iter()
            .copied()
            .find(|c| c.as_str() == text)
            .map_or_else(|| Self::Unknown(text.to_owned()), Self::Known)
    }

    /// The choice, or the field error listing every allowed choice by its names in both languages.
    pub fn check(&self, field: impl Into<Cow<'static, str>>) -> Result<T, FieldError> {
        match self {
            Self::Known(choice) => Ok(*choice),
            Self::Unknown(_) => Err(invalid_choice::<T>(field)),
        }
    }
}

/// The field is not one of `T`'s choices: the message lists them, `integrated_circuit（集成电路）`.
pub fn invalid_choice<T: Vocabulary>(field: impl Into<Cow<'static, str>>) -> FieldError {
    let zh = T::CHOICES.iter().map(|c| format!("{}（{}）", c.as_str(), c.label().zh)).collect::<Vec<_>>().join("、");
    let en = T::CHOICES.iter().map(|c| format!("{} ({})", c.as_str(), c.label().en)).collect::<Vec<_>>().join(", ");
    FieldError::new(
        field,
        "invalid_choice",
        Text::owned(format!("不是可选的值，须为以下之一：{zh}。"), format!("Not one of the allowed values: {en}.")),
    )
}

impl<'de, T: Vocabulary> Deserialize<'de> for Choice<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Ok(Self::parse(&text))
    }
}

/// Each optional choice checked, its error (if any) added to `errors`.
pub fn checked<T: Vocabulary>(
    choice: Option<&Choice<T>>,
    field: &'static str,
    errors: &mut Vec<FieldError>,
) -> Option<T> {
    choice.and_then(|c| c.check(field).map_err(|e| errors.push(e)).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Fruit {
        Apple,
        Pear,
    }

    impl Vocabulary for Fruit {
        const CHOICES: &'static [Self] = &[Fruit::Apple, Fruit::Pear];

        fn as_str(self) -> &'static str {
            match self {
                Fruit::Apple => "apple",
                Fruit::Pear => "pear",
            }
        }

        fn label(self) -> Text {
            match self {
                Fruit::Apple => Text::new("苹果", "apple"),
                Fruit::Pear => Text::new("梨", "pear"),
            }
        }
    }

    #[test]
    fn pages_start_at_1_and_hold_at_most_100() {
        assert_eq!(Window::parse(None, None), Ok(Window { page: 1, per_page: 20 }));
        assert_eq!(Window::parse(Some(3), Some(10)).unwrap().offset(), 20);
        let Err(Refusal::Invalid { errors, .. }) = Window::parse(Some(0), Some(101)) else { panic!("out of range") };
        assert_eq!(errors.iter().map(|e| e.field.as_ref()).collect::<Vec<_>>(), ["page", "per_page"]);
    }

    #[test]
    fn a_known_choice_reads_back_and_an_unknown_one_waits_to_be_refused() {
        let known: Choice<Fruit> = serde_json::from_str(r#""pear""#).unwrap();
        assert_eq!(known.check("fruit"), Ok(Fruit::Pear));
        let unknown: Choice<Fruit> = serde_json::from_str(r#""banana""#).unwrap();
        assert_eq!(unknown, Choice::Unknown("banana".to_owned()));
        assert!(serde_json::from_str::<Choice<Fruit>>("5").is_err(), "not text at all is a type error");
    }

    #[test]
    fn an_unknown_choice_lists_every_choice_in_both_languages() {
        let error = Choice::<Fruit>::parse("banana").check("basket.fruit").unwrap_err();
        assert_eq!(error.field, "basket.fruit");
        assert_eq!(error.code, "invalid_choice");
        assert_eq!(error.message.zh, "不是可选的值，须为以下之一：apple（苹果）、pear（梨）。");
        assert_eq!(error.message.en, "Not one of the allowed values: apple (apple), pear (pear).");
    }

    #[test]
    fn optional_choices_add_their_errors_to_the_others() {
        let mut errors = vec![];
        assert_eq!(checked(Some(&Choice::Known(Fruit::Apple)), "a", &mut errors), Some(Fruit::Apple));
        assert_eq!(checked::<Fruit>(None, "b", &mut errors), None);
        assert_eq!(checked(Some(&Choice::<Fruit>::parse("kiwi")), "c", &mut errors), None);
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].field, "c");
    }
}
