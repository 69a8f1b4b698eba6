//! Every message a company can read exists in Chinese and English.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Lang {
    #[serde(rename = "zh-CN", alias = "zh")]
    Zh,
    #[serde(rename = "en")]
    En,
}

impl Lang {
    /// The first language of an `Accept-Language` header that we speak, in the client's order of preference.
    pub fn negotiate(accept_language: Option<&str>, fallback: Lang) -> Lang {
        let Some(header) = accept_language else {
            return fallback;
        };
        let mut ranked: Vec<(f32, Lang)> = header
            .split(',')
            .filter_map(|item| {
                let mut parts = item.trim().split(';');
                let tag = parts.next()?.trim().to_ascii_lowercase();
                let quality =
                    parts.find_map(|p| p.trim().strip_prefix("q=")).and_then(|q| q.parse::<f32>().ok()).unwrap_or(1.0);
                let lang = if tag == "zh" || tag.starts_with("zh-") {
                    Lang::Zh
                } else if tag == "en" || tag.starts_with("en-") {
                    Lang::En
                } else {
                    return None;
                };
                (quality > 0.0).then_some((quality, lang))
            })
            .collect();
        ranked.sort_by(|a, b| b.0.total_cmp(&a.0));
        ranked.first().map_or(fallback, |(_, lang)| *lang)
    }
}

/// A message in both languages; the request's language picks one when the response is written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Text {
    pub zh: Cow<'static, str>,
    pub en: Cow<'static, str>,
}

impl Text {
    pub const fn new(zh: &'static str, en: &'static str) -> Self {
        Self { zh: Cow::Borrowed(zh), en: Cow::Borrowed(en) }
    }

    pub fn owned(zh: String, en: String) -> Self {
        Self { zh: Cow::Owned(zh), en: Cow::Owned(en) }
    }

    /// The message in `lang`, as an owned string.
    pub fn into_string(self, lang: Lang) -> String {
        match lang {
            Lang::Zh => self.zh.into_owned(),
            Lang::En => self.en.into_owned(),
        }
    }

    pub fn get(&self, lang: Lang) -> &str {
        match lang {
            Lang::Zh => &self.zh,
            Lang::En => &self.en,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_clients_preferred_language_wins_and_unknown_ones_fall_back() {
        let cases = [
            (None, Lang::Zh),
            (Some("en"), Lang::En),
            (Some("en-US,en;q=0.9"), Lang::En),
            (Some("zh-CN,zh;q=0.9,en;q=0.8"), Lang::Zh),
            (Some("fr-FR, en;q=0.5, zh;q=0.7"), Lang::Zh),
            (Some("de"), Lang::Zh),
            (Some("en;q=0"), Lang::Zh),
        ];
        for (header, expected) in cases {
            assert_eq!(Lang::negotiate(header, Lang::Zh), expected, "{header:?}");
        }
    }
}
