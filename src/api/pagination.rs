//! `page` and `per_page` in, `{items, page, per_page, total}` out.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::domain::validation::Window;
use crate::error::ApiError;

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
        let window = Window::parse(self.page, self.per_page)?;
        Ok((window.page, window.per_page, window.offset()))
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T: ToSchema> {
    pub items: Vec<T>,
    pub page: i64,
    pub per_page: i64,
    pub total: i64,
}
