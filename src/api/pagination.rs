//! `page` and `per_page` in, `{items, page, per_page, total}` out.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::error::{ApiError, FieldError};
use crate::i18n::Text;

pub const DEFAULT_PER_PAGE: i64 = 20;
pub const MAX_PER_PAGE: i64 = 100;

#[derive(Debug, Clone, Copy, Deserialize, IntoParams)]
pub struct PageQuery {
    /// From 1.
    #[param(minimum = 1)]
    pub page: Option<i64>,
    /// At most 100; 20 when absent.
    #[param(minimum = 1, maximum = 100)]
    pub per_page: Option<i64>,
}

impl PageQuery {
    /// `(page, per_page, offset)`, or 422 for numbers out of range.
    pub fn resolve(self) -> Result<(i64, i64, i64), ApiError> {
        let page = self.page.unwrap_or(1);
        let per_page = self.per_page.unwrap_or(DEFAULT_PER_PAGE);
        let mut errors = Vec::new();
        if page < 1 || page > i64::from(i32::MAX) {
            errors.push(FieldError::new("page", "out_of_range", Text::new("页码须从 1 开始。", "Pages start at 1.")));
        }
        if !(1..=MAX_PER_PAGE).contains(&per_page) {
            errors.push(FieldError::new(
                "per_page",
                "out_of_range",
                Text::new("每页条数须为 1–100。", "per_page must be between 1 and 100."),
            ));
        }
        if errors.is_empty() { Ok((page, per_page, (page - 1) * per_page)) } else { Err(ApiError::validation(errors)) }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T: ToSchema> {
    pub items: Vec<T>,
    pub page: i64,
    pub per_page: i64,
    pub total: i64,
}
