//! Request extractors whose failures are `ApiError`s, so a bad body, path or query gets the same envelope
//! as every other error, with the offending field named where there is one.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::{FromRequest, HttpRequest, web};
use serde::de::DeserializeOwned;

use crate::error::{ApiError, FieldError};
use crate::i18n::Text;

/// A JSON body, read within the configured limit and deserialised with the path of any bad field.
#[derive(Debug)]
pub struct Json<T>(pub T);

impl<T> Json<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for Json<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let is_json = is_json(req);
        let body = web::Bytes::from_request(req, payload);
        Box::pin(async move {
            if !is_json {
                return Err(not_json());
            }
            parse(&read(body).await?).map(Json)
        })
    }
}

/// A JSON body the request may leave out: no body at all is `None`; a body is read as [`Json`] reads it.
#[derive(Debug)]
pub struct OptionalJson<T>(pub Option<T>);

impl<T> OptionalJson<T> {
    pub fn into_inner(self) -> Option<T> {
        self.0
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for OptionalJson<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let is_json = is_json(req);
        let body = web::Bytes::from_request(req, payload);
        Box::pin(async move {
            let bytes = read(body).await?;
            if bytes.iter().all(u8::is_ascii_whitespace) {
                return Ok(OptionalJson(None));
            }
            if !is_json {
                return Err(not_json());
            }
            parse(&bytes).map(|value| OptionalJson(Some(value)))
        })
    }
}

fn is_json(req: &HttpRequest) -> bool {
    req.headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .is_some_and(|v| v == "application/json" || (v.starts_with("application/") && v.ends_with("+json")))
}

fn not_json() -> ApiError {
    ApiError::UnsupportedMediaType(Text::new(
        "请求内容须为 JSON（Content-Type: application/json）。",
        "The request body must be JSON (Content-Type: application/json).",
    ))
}

async fn read(body: <web::Bytes as FromRequest>::Future) -> Result<web::Bytes, ApiError> {
    body.await.map_err(|e| {
        if e.as_response_error().status_code() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::PayloadTooLarge(Text::new("请求内容超过大小上限。", "The request body is over the size limit."))
        } else {
            ApiError::Malformed(Text::new("无法读取请求内容。", "The request body could not be read."))
        }
    })
}

/// Deserialises JSON, telling syntax errors (400) from content errors (422 on the field concerned). Every
/// body this API takes is an object: serde would otherwise fill a struct from an array, in field order.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    if first.is_some_and(|b| *b != b'{') && serde_json::from_slice::<serde::de::IgnoredAny>(bytes).is_ok() {
        return Err(ApiError::validation(vec![FieldError::new(
            "",
            "invalid_type",
            Text::new("请求内容须为 JSON 对象（{…}）。", "The request body must be a JSON object ({…})."),
        )]));
    }
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|e| {
        let path = e.path().to_string();
        content_error(&path, e.inner())
    })?;
    deserializer.end().map_err(|e| content_error("", &e))?;
    // JSON can carry U+0000 only escaped; PostgreSQL text cannot store it and no field here means it.
    if bytes.windows(6).any(|w| w == b"\\u0000")
        && let Some(field) = serde_json::from_slice(bytes).ok().and_then(|v| nul_in_json(&v, ""))
    {
        return Err(nul_character(field));
    }
    Ok(value)
}

/// The path of the first string or key in `value` that holds U+0000, as `company.name` or `items[2]`.
fn nul_in_json(value: &serde_json::Value, path: &str) -> Option<String> {
    use serde_json::Value;
    match value {
        Value::String(text) => text.contains('\0').then(|| path.to_owned()),
        Value::Array(items) => {
            items.iter().enumerate().find_map(|(i, item)| nul_in_json(item, &format!("{path}[{i}]")))
        }
        Value::Object(fields) => fields.iter().find_map(|(key, item)| {
            let field = if path.is_empty() { key.clone() } else { format!("{path}.{key}") };
            if key.contains('\0') { Some(field.replace('\0', "")) } else { nul_in_json(item, &field) }
        }),
        _ => None,
    }
}

fn nul_character(field: String) -> ApiError {
    ApiError::validation(vec![FieldError::new(
        field,
        "invalid_character",
        Text::new("不能包含空字符（U+0000），请删除。", "Must not contain the NUL character (U+0000); remove it."),
    )])
}

/// A query string, deserialised like `web::Query`, with parameters holding U+0000 refused (422).
#[derive(Debug)]
pub struct Query<T>(pub T);

impl<T> Query<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T: DeserializeOwned> FromRequest for Query<T> {
    type Error = actix_web::Error;
    type Future = std::future::Ready<Result<Self, actix_web::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let with_nul = url::form_urlencoded::parse(req.query_string().as_bytes())
            .find(|(name, value)| name.contains('\0') || value.contains('\0'));
        if let Some((name, _)) = with_nul {
            return std::future::ready(Err(nul_character(name.replace('\0', "")).into()));
        }
        let query = web::Query::<T>::from_request(req, payload).into_inner();
        std::future::ready(query.map(|q| Query(q.into_inner())))
    }
}

fn content_error(path: &str, error: &serde_json::Error) -> ApiError {
    if !error.is_data() {
        return ApiError::Malformed(Text::owned(
            format!("请求内容不是有效的 JSON：第 {} 行第 {} 列。", error.line(), error.column()),
            format!("The request body is not valid JSON: {error}."),
        ));
    }
    let message = error.to_string();
    let quoted = message.split('`').nth(1).unwrap_or_default();
    let join = |name: &str| match path {
        "" | "." => name.to_owned(),
        parent => format!("{parent}.{name}"),
    };
    let field_error = if message.starts_with("unknown field") {
        // The path already ends at the unknown key.
        let field = if path.rsplit('.').next() == Some(quoted) { path.to_owned() } else { join(quoted) };
        FieldError::new(
            field,
            "unknown_field",
            Text::new("不接受此字段，请删除。", "This field is not accepted; remove it."),
        )
    } else if message.starts_with("missing field") {
        FieldError::new(join(quoted), "required", Text::new("此项为必填项。", "This field is required."))
    } else if message.starts_with("unknown variant") {
        let field = if path == "." { String::new() } else { path.to_owned() };
        let expected =
            message.split("expected ").nth(1).unwrap_or_default().split(" at line").next().unwrap_or_default();
        FieldError::new(
            field,
            "invalid_choice",
            Text::owned(
                format!("不是可选的值，须为：{expected}。"),
                format!("Not one of the allowed values: {expected}."),
            ),
        )
    } else {
        let field = if path == "." { String::new() } else { path.to_owned() };
        let detail = message.split(" at line ").next().unwrap_or(&message).to_owned();
        FieldError::new(
            field,
            "invalid_type",
            Text::owned(format!("格式不正确：{detail}。"), format!("Wrong type or value: {detail}.")),
        )
    };
    ApiError::validation(vec![field_error])
}

pub fn path_config() -> web::PathConfig {
    web::PathConfig::default().error_handler(|error, _| {
        ApiError::Malformed(Text::owned(
            format!("路径参数不正确：{error}。"),
            format!("A path parameter is not valid: {error}."),
        ))
        .into()
    })
}

pub fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|error, _| {
        ApiError::Malformed(Text::owned(
            format!("查询参数不正确：{error}。"),
            format!("A query parameter is not valid: {error}."),
        ))
        .into()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[expect(dead_code, reason = "the fields are only deserialised")]
    struct Outer {
        company: Inner,
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[expect(dead_code, reason = "the fields are only deserialised")]
    struct Inner {
        name: String,
        capital_fen: i64,
    }

    fn field_of(body: &str) -> (String, String) {
        match parse::<Outer>(body.as_bytes()) {
            Err(ApiError::Validation { errors, .. }) => (errors[0].field.to_string(), errors[0].code.to_string()),
            other => panic!("expected a validation error for {body}, got {other:?}"),
        }
    }

    #[test]
    fn content_errors_name_the_field_they_concern() {
        assert_eq!(
            field_of(r#"{"company":{"name":"A","capital_fen":1,"x":1}}"#),
            ("company.x".into(), "unknown_field".into())
        );
        assert_eq!(field_of(r#"{"company":{"name":"A"}}"#), ("company.capital_fen".into(), "required".into()));
        assert_eq!(
            field_of(r#"{"company":{"name":"A","capital_fen":"1"}}"#),
            ("company.capital_fen".into(), "invalid_type".into())
        );
    }

    #[test]
    fn a_body_that_is_not_an_object_is_refused_even_where_its_array_would_fill_the_struct() {
        for body in [r#"[{"name":"A","capital_fen":1}]"#, "null", " 1"] {
            assert_eq!(field_of(body), (String::new(), "invalid_type".into()), "{body}");
        }
    }

    #[test]
    fn broken_json_is_malformed_not_invalid() {
        for body in ["", "{", r#"{"company":}"#, r#"{"company":{"name":"A","capital_fen":1}} trailing"#] {
            assert!(matches!(parse::<Outer>(body.as_bytes()), Err(ApiError::Malformed(_))), "{body}");
        }
    }
}
