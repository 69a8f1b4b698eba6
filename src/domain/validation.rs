//! Turns the validator crate's findings into field errors with a message in both languages.

use validator::{ValidationError, ValidationErrors, ValidationErrorsKind};

use crate::domain::error::FieldError;
use crate::i18n::Text;

/// Every problem `errors` holds, one per field and rule, with dotted paths (`company.name`).
pub fn field_errors(errors: &ValidationErrors) -> Vec<FieldError> {
    let mut out = Vec::new();
    collect(errors, "", &mut out);
    out.sort_by(|a, b| a.field.cmp(&b.field));
    out
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
