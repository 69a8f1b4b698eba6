//! Expert review: who may see what of an application.

use crate::api::session::SignedIn;
use crate::db::applications::ApplicationRecord;
use crate::db::{DbConnection, reviews};
use crate::domain::role::Role;
use crate::domain::workflow::ExpertStanding;
use crate::error::ApiError;
use crate::i18n::Text;

/// An expert sees an application's content and files only after declaring no conflict of interest.
pub fn require_full_view(conn: &mut DbConnection, user: &SignedIn, record: &ApplicationRecord) -> Result<(), ApiError> {
    if user.role != Role::Expert {
        return Ok(());
    }
    match reviews::standing(conn, record.application.id, user.user_id)? {
        ExpertStanding::Cleared { .. } => Ok(()),
        ExpertStanding::Recused => Err(ApiError::Forbidden {
            code: "recused",
            detail: Text::new(
                "您已声明存在利益冲突并回避，不能查看申报内容。",
                "You declared a conflict of interest and are recused.",
            ),
        }),
        ExpertStanding::Undeclared | ExpertStanding::NotAssigned => Err(ApiError::Forbidden {
            code: "declaration_required",
            detail: Text::new(
                "请先声明与申报单位无利益冲突，然后才能查看申报内容。",
                "Declare that you have no conflict of interest before reading the application.",
            ),
        }),
    }
}
