//! `page`, `per_page` and `after` in, `{items, page, per_page, total, next_cursor}` out (cursors:
//! `domain::paging`).

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::db::Start;
use crate::domain::paging::{Key, cursor};
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

    /// `(page, per_page, start)`: after the cursor `after` when one is given (`page` is then ignored),
    /// else at the page's offset; 422 for numbers out of range or a cursor this list did not give.
    pub fn start<K: Key>(self, after: Option<&str>) -> Result<(i64, i64, Start<K>), ApiError> {
        let window = Window::parse(self.page, self.per_page)?;
        Ok((window.page, window.per_page, Start::of(window, after)?))
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T: ToSchema> {
    pub items: Vec<T>,
    pub page: i64,
    pub per_page: i64,
    pub total: i64,
    /// Pass as `after` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

impl<T: ToSchema> Page<T> {
    /// A page of `items` (up to `per_page` + 1 asked for: the extra one tells that more follow), with the
    /// cursor after its last item, keyed by `key`.
    pub fn of<R, K: Key>(
        mut rows: Vec<R>,
        page: i64,
        per_page: i64,
        total: i64,
        key: impl Fn(&R) -> K,
        item: impl FnMut(R) -> T,
    ) -> Self {
        let more = i64::try_from(rows.len()).unwrap_or(i64::MAX) > per_page;
        rows.truncate(usize::try_from(per_page).unwrap_or(0));
        let next_cursor = if more { rows.last().map(|r| cursor(&key(r))) } else { None };
        Self { items: rows.into_iter().map(item).collect(), page, per_page, total, next_cursor }
    }
}
