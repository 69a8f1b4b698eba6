//! The materials a company uploads: the file is written whole to storage before its row is committed,
//! and removed again if the row never comes (or, should the process die in between, by the housekeeping
//! sweep once it is an hour old).

use serde_json::json;

use crate::app::applications::{find_visible, status_of};
use crate::app::programs::Program;
use crate::app::reviews::require_full_view;
use crate::app::{Error, Result, SignedIn};
use crate::db::attachments::{self, AttachmentRow, NewAttachment};
use crate::db::audit::{self, Event};
use crate::db::{Db, DbConnection, applications, companies};
use crate::domain::company::VerificationStatus;
use crate::domain::error::Error as Refusal;
use crate::domain::files::quota_exceeded;
use crate::domain::program::Material;
use crate::domain::role::Role;
use crate::domain::time;
use crate::i18n::Text;
use crate::storage::{self, Storage, Writer};

fn not_editable() -> Refusal {
    Refusal::conflict(
        "conflict",
        Text::new(
            "申报已提交，不能再更改材料；如被退回补正，可在退回后更改。",
            "The application has been submitted; its materials can change only if it is returned.",
        ),
    )
}

/// A storage failure: a full disk or an object store that cannot be reached or refuses is a passing
/// unavailability (503), anything else an internal error.
pub fn storage_failed(error: storage::Error) -> Error {
    match error {
        storage::Error::Full(_) | storage::Error::Unavailable(_) => Error::Unavailable(error.to_string()),
        other => Error::Internal(other.into()),
    }
}

/// Removes stored files whose rows are gone (or never came); a failure is logged, since the request's
/// outcome no longer depends on it (and the housekeeping sweep removes the file later).
pub async fn discard(storage: &Storage, keys: Vec<String>) {
    for key in keys {
        if let Err(error) = storage.delete(&key).await {
            tracing::error!(%error, storage_key = %key, "a stored file without a row could not be removed");
        }
    }
}

/// The application as the company may still change it, with its programme.
fn editable(conn: &mut DbConnection, user: &SignedIn, id: i64) -> Result<Program> {
    let record = find_visible(conn, user, id)?;
    if !status_of(&record)?.is_editable() {
        return Err(not_editable().into());
    }
    Program::load(conn, record.application.program_id)
}

/// What an upload to this application may be: one of these materials, at most `cap` bytes, and at most
/// `quota_left` bytes, what is left of the company's storage quota.
#[derive(Debug)]
pub struct UploadPlan {
    pub materials: Vec<Material>,
    pub cap: i64,
    pub quota_left: i64,
    pub quota: i64,
}

/// Only a verified company uploads: files are kept for companies whose registration the park has checked.
fn require_verified(conn: &mut DbConnection, company_id: i64) -> Result<()> {
    let company = companies::find(conn, company_id)?;
    if company.verification_status == VerificationStatus::Verified.as_str() {
        return Ok(());
    }
    Err(Refusal::Forbidden {
        code: "company_not_verified",
        detail: Text::new(
            "企业信息通过审核后才能上传材料。",
            "Materials can be uploaded once the company's registration is verified.",
        ),
    }
    .into())
}

/// Before an upload is read: the materials it may be and the most it may weigh (the largest per-file
/// limit, what is left of the application's total, and what is left of the company's `quota` bytes).
pub async fn plan_upload(db: &Db, caller: &SignedIn, id: i64, quota: i64) -> Result<UploadPlan> {
    caller.require(&[Role::Applicant])?;
    let (user, company_id) = (caller.clone(), caller.company_id()?);
    db.read(move |conn| {
        let program = editable(conn, &user, id)?;
        require_verified(conn, company_id)?;
        let quota_left = quota - attachments::company_total_bytes(conn, company_id)?;
        if quota_left <= 0 {
            return Err(quota_exceeded(quota).into());
        }
        let already_stored = attachments::total_bytes(conn, id)?;
        let per_file = program.materials.iter().map(|m| m.max_size_bytes).max().unwrap_or(0);
        let cap = per_file.min(program.max_total_upload_bytes - already_stored).max(0);
        Ok(UploadPlan { materials: program.materials, cap, quota_left, quota })
    })
    .await
}

/// A received and accepted upload, written but not yet committed to storage.
pub struct Upload {
    pub writer: Writer,
    pub material_key: String,
    pub file_name: String,
    pub content_type: &'static str,
    pub size: i64,
    pub sha256: String,
}

/// What storing an upload came to.
#[derive(Debug)]
pub enum Stored {
    Saved(AttachmentRow),
    /// The application's total would be over `limit` bytes (another upload came first).
    TooLarge {
        limit: i64,
    },
}

/// Stores an accepted upload under a new key and commits its row; without the row the file is removed.
/// The company's files together stay within `quota` bytes, whatever the concurrency.
pub async fn store(
    db: &Db,
    storage: &Storage,
    caller: &SignedIn,
    id: i64,
    upload: Upload,
    quota: i64,
) -> Result<Stored> {
    caller.require(&[Role::Applicant])?;
    let company_id = caller.company_id()?;
    let key = uuid::Uuid::new_v4().simple().to_string();
    upload.writer.commit(&key).await.map_err(storage_failed)?;
    let (user, actor, row_key) = (caller.clone(), caller.actor(), key.clone());
    let (material_key, name, content_type, size, sha256) =
        (upload.material_key, upload.file_name, upload.content_type, upload.size, upload.sha256);
    let saved = db
        .write(move |conn| {
            let program = editable(conn, &user, id)?;
            // One upload of the company at a time past this point, so two cannot both fit the quota's rest.
            applications::lock_company(conn, company_id)?;
            require_verified(conn, company_id)?;
            if attachments::company_total_bytes(conn, company_id)? + size > quota {
                return Err(quota_exceeded(quota).into());
            }
            let limit = program.max_total_upload_bytes;
            if attachments::total_bytes(conn, id)? + size > limit {
                return Ok(Stored::TooLarge { limit });
            }
            let now = time::now();
            let row = attachments::insert(
                conn,
                &NewAttachment {
                    application_id: id,
                    material_key: &material_key,
                    file_name: &name,
                    storage_key: &row_key,
                    content_type,
                    size_bytes: size,
                    sha256: &sha256,
                    uploaded_by: user.user_id,
                    created_at: now,
                },
            )?;
            applications::touch(conn, id, now)?;
            let summary = json!({ "attachment_id": row.id, "material_key": row.material_key, "size_bytes": size, "sha256": sha256 });
            audit::append(conn, &actor, Event::new("application.attachment_upload", "application", id, summary))?;
            Ok::<_, Error>(Stored::Saved(row))
        })
        .await;
    if !matches!(saved, Ok(Stored::Saved(_))) {
        // No row, so no file either.
        discard(storage, vec![key]).await;
    }
    saved
}

/// The application's uploaded materials, for whoever may read its content.
pub async fn list(db: &Db, caller: &SignedIn, id: i64) -> Result<Vec<AttachmentRow>> {
    let user = caller.clone();
    db.read(move |conn| {
        let record = find_visible(conn, &user, id)?;
        require_full_view(conn, &user, &record)?;
        Ok(attachments::of_application(conn, id)?)
    })
    .await
}

/// One uploaded material, for whoever may read the application's content.
pub async fn find(db: &Db, caller: &SignedIn, id: i64, attachment_id: i64) -> Result<AttachmentRow> {
    list(db, caller, id).await?.into_iter().find(|a| a.id == attachment_id).ok_or_else(|| Refusal::NotFound.into())
}

/// Removes a material while the application is editable, then its file.
pub async fn delete(db: &Db, storage: &Storage, caller: &SignedIn, id: i64, attachment_id: i64) -> Result<()> {
    caller.require(&[Role::Applicant])?;
    let (user, actor) = (caller.clone(), caller.actor());
    let removed = db
        .write(move |conn| {
            let record = find_visible(conn, &user, id)?;
            if !status_of(&record)?.is_editable() {
                return Err(not_editable().into());
            }
            let row = attachments::delete(conn, id, attachment_id)?.ok_or(Refusal::NotFound)?;
            applications::touch(conn, id, time::now())?;
            let summary = json!({ "attachment_id": row.id, "material_key": row.material_key });
            audit::append(conn, &actor, Event::new("application.attachment_delete", "application", id, summary))?;
            Ok::<_, Error>(row)
        })
        .await?;
    discard(storage, vec![removed.storage_key]).await;
    Ok(())
}
