//! The materials a company uploads: one file per request, checked by what it is rather than what it is
//! called, written whole to storage before its row is committed.

use actix_multipart::Multipart;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, ContentDisposition, DispositionParam, DispositionType, ExtendedValue};
use actix_web::{HttpRequest, HttpResponse, delete, get, post, web};
use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use serde::Serialize;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use crate::api::session::SignedIn;
use crate::app::attachments::{self, Stored, Upload, storage_failed};
use crate::config::StorageSettings;
use crate::db::Db;
use crate::db::attachments::AttachmentRow;
use crate::domain::files::{self, FileType, SNIFF_BYTES};
use crate::domain::program::Material;
use crate::domain::time;
use crate::error::ApiError;
use crate::i18n::Text;
use crate::storage::{Download, Storage, Writer};

/// Room for the multipart framing and the `material_key` part around the file itself.
const MULTIPART_OVERHEAD: u64 = 64 * 1024;

#[derive(Debug, Serialize, ToSchema)]
pub struct AttachmentView {
    pub id: i64,
    pub material_key: String,
    /// The uploaded file's name, for display only.
    pub file_name: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub sha256: String,
    pub created_at: DateTime<Utc>,
}

impl From<AttachmentRow> for AttachmentView {
    fn from(row: AttachmentRow) -> Self {
        Self {
            id: row.id,
            material_key: row.material_key,
            file_name: row.file_name,
            content_type: row.content_type,
            size_bytes: row.size_bytes,
            sha256: row.sha256,
            created_at: time::to_utc(row.created_at),
        }
    }
}

/// The multipart form of an upload, for the documentation.
#[derive(ToSchema)]
#[expect(dead_code, reason = "only describes the multipart form in the API document")]
pub struct UploadForm {
    /// Which of the programme's required materials this file is.
    material_key: String,
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}

fn too_large(limit: i64) -> ApiError {
    ApiError::PayloadTooLarge(Text::owned(
        format!("文件超过大小上限 {limit} 字节（约 {:.1} MiB）。", megabytes(limit)),
        format!("The file is over the limit of {limit} bytes (about {:.1} MiB).", megabytes(limit)),
    ))
}

#[expect(clippy::cast_precision_loss, reason = "for display only")]
fn megabytes(bytes: i64) -> f64 {
    bytes as f64 / 1024.0 / 1024.0
}

/// The most an upload may weigh, and what its being over it means.
#[derive(Clone, Copy)]
struct Cap {
    bytes: i64,
    /// `Some(quota)` when the company's storage quota is what binds.
    quota: Option<i64>,
}

impl Cap {
    fn new(plan: &attachments::UploadPlan) -> Self {
        if plan.quota_left < plan.cap {
            Self { bytes: plan.quota_left, quota: Some(plan.quota) }
        } else {
            Self { bytes: plan.cap, quota: None }
        }
    }

    /// The answer to an upload over the cap: the quota's 422, or 413.
    fn exceeded(self) -> ApiError {
        match self.quota {
            Some(quota) => files::quota_exceeded(quota).into(),
            None => too_large(self.bytes),
        }
    }
}

fn malformed(zh: &'static str, en: &'static str) -> ApiError {
    ApiError::Malformed(Text::new(zh, en))
}

/// An upload as received: a staged file and what was learnt while receiving it.
struct Received {
    material_key: Option<String>,
    file: Option<ReceivedFile>,
}

struct ReceivedFile {
    writer: Writer,
    name: String,
    size: i64,
    sha256: String,
    head: Vec<u8>,
}

/// Reads the multipart body, streaming the file to storage, and stops as soon as it is over `cap`.
async fn receive(mut multipart: Multipart, storage: &Storage, cap: Cap) -> Result<Received, ApiError> {
    let mut received = Received { material_key: None, file: None };
    while let Some(part) = multipart.next().await {
        let mut part = part.map_err(|e| {
            ApiError::Malformed(Text::owned(
                format!("上传内容格式错误：{e}。"),
                format!("The upload is malformed: {e}."),
            ))
        })?;
        let name = part.content_disposition().and_then(|d| d.get_name()).map(ToOwned::to_owned);
        match name.as_deref() {
            None => return Err(malformed("上传内容中有未命名的部分。", "A part of the upload has no name.")),
            Some("material_key") => {
                let mut text = Vec::new();
                while let Some(chunk) = part.next().await {
                    text.extend_from_slice(&chunk.map_err(|_| malformed("上传中断。", "The upload was interrupted."))?);
                    if text.len() > 100 {
                        return Err(ApiError::field(
                            "material_key",
                            "too_long",
                            Text::new("材料键名过长。", "The material key is too long."),
                        ));
                    }
                }
                received.material_key = Some(String::from_utf8_lossy(&text).trim().to_owned());
            }
            Some("file") => {
                if received.file.is_some() {
                    return Err(ApiError::field(
                        "file",
                        "duplicate",
                        Text::new("每次只能上传一个文件。", "Upload one file per request."),
                    ));
                }
                let file_name = part.content_disposition().and_then(|d| d.get_filename()).unwrap_or("file");
                let name = files::display_name(file_name);
                received.file = Some(receive_file(&mut part, storage, cap, name).await?);
            }
            Some(other) => {
                return Err(ApiError::field(
                    "file",
                    "unknown_field",
                    Text::owned(
                        format!("不接受名为“{other}”的部分。"),
                        format!("A part named `{other}` is not accepted."),
                    ),
                ));
            }
        }
    }
    Ok(received)
}

async fn receive_file(
    part: &mut actix_multipart::Field,
    storage: &Storage,
    cap: Cap,
    name: String,
) -> Result<ReceivedFile, ApiError> {
    let mut writer = storage.writer().await.map_err(storage_failed)?;
    let (mut hasher, mut size, mut head) = (Sha256::new(), 0_i64, Vec::new());
    let received = async {
        while let Some(chunk) = part.next().await {
            let chunk = chunk.map_err(|_| malformed("上传中断。", "The upload was interrupted."))?;
            size += i64::try_from(chunk.len()).unwrap_or(i64::MAX);
            if size > cap.bytes {
                return Err(cap.exceeded());
            }
            hasher.update(&chunk);
            if head.len() < SNIFF_BYTES {
                head.extend(chunk.iter().take(SNIFF_BYTES - head.len()));
            }
            writer.write(chunk).await.map_err(storage_failed)?;
        }
        Ok(())
    }
    .await;
    match received {
        Ok(()) => Ok(ReceivedFile { writer, name, size, sha256: hex::encode(hasher.finalize()), head }),
        Err(error) => {
            writer.abort().await;
            Err(error)
        }
    }
}

/// The material, file and type of a received upload, or why it is refused.
fn accept(received: Received, materials: Vec<Material>) -> Result<(Material, ReceivedFile, FileType), ApiError> {
    let material_key = received.material_key.ok_or_else(|| {
        ApiError::field(
            "material_key",
            "required",
            Text::new("请注明上传的是哪项材料（material_key）。", "Say which material this is (material_key)."),
        )
    })?;
    let material = materials.into_iter().find(|m| m.key == material_key).ok_or_else(|| {
        ApiError::field(
            "material_key",
            "invalid_choice",
            Text::owned(
                format!("本项目没有“{material_key}”这项材料。"),
                format!("This programme has no material `{material_key}`."),
            ),
        )
    })?;
    let file = received.file.ok_or_else(|| {
        ApiError::field("file", "required", Text::new("请选择要上传的文件。", "Choose a file to upload."))
    })?;
    if file.size == 0 {
        return Err(ApiError::field(
            "file",
            "empty",
            Text::new("文件是空的，请重新选择。", "The file is empty; choose another."),
        ));
    }
    if file.size > material.max_size_bytes {
        return Err(too_large(material.max_size_bytes));
    }
    let Some(file_type) = files::recognise(&material.accepted_types, &file.head) else {
        let accepted = material.accepted_types.iter().map(|t| t.as_str()).collect::<Vec<_>>().join(", ");
        return Err(ApiError::UnsupportedMediaType(Text::owned(
            format!("“{}”只接受以下格式的文件：{accepted}。所传文件的内容不是这些格式。", material.name),
            format!("“{}” accepts only {accepted}; the uploaded file's content is none of these.", material.name),
        )));
    };
    Ok((material, file, file_type))
}

/// Uploads one material file, for a verified company. It must be one of the material's accepted types, by
/// its content; its size is limited per material, per application and by the company's storage quota.
#[utoipa::path(tag = "applications", security(("bearer" = [])), params(("id" = i64, Path, description = "application id")),
    request_body(content = UploadForm, content_type = "multipart/form-data"), responses(
        (status = 201, description = "stored", body = AttachmentView),
        (status = 400, description = "`malformed_request`: not a valid multipart body", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "`forbidden`: the caller's role may not do this; `company_not_verified`: the company's registration is not verified (yet, or again after a change of its verified details)", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "`conflict`: the application is no longer editable", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 413, description = "`payload_too_large`", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 415, description = "`unsupported_media_type`: the content is not an accepted type", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: no file, an empty file or an unknown material; `quota_exceeded`: the company's files would weigh more than its storage quota together", body = crate::error::Problem, content_type = "application/problem+json"),
    ))]
#[post("/applications/{id}/attachments")]
pub async fn upload_attachment(
    user: SignedIn,
    db: web::Data<Db>,
    storage: web::Data<Storage>,
    settings: web::Data<StorageSettings>,
    request: HttpRequest,
    id: web::Path<i64>,
    multipart: Multipart,
) -> Result<(web::Json<AttachmentView>, StatusCode), ApiError> {
    let (id, quota) = (id.into_inner(), settings.company_quota_bytes);
    let plan = attachments::plan_upload(&db, &user, id, quota).await?;
    let cap = Cap::new(&plan);
    let declared =
        request.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|length| length > u64::try_from(cap.bytes).unwrap_or(0) + MULTIPART_OVERHEAD) {
        return Err(cap.exceeded());
    }
    let (material, file, file_type) = accept(receive(multipart, &storage, cap).await?, plan.materials)?;
    let upload = Upload {
        writer: file.writer,
        material_key: material.key,
        file_name: file.name,
        content_type: file_type.content_type(),
        size: file.size,
        sha256: file.sha256,
    };
    match attachments::store(&db, &storage, &user, id, upload, quota).await? {
        Stored::Saved(row) => Ok((web::Json(row.into()), StatusCode::CREATED)),
        Stored::TooLarge { limit } => Err(too_large(limit)),
    }
}

/// The application's uploaded materials.
#[utoipa::path(tag = "applications", security(("bearer" = [])), params(("id" = i64, Path, description = "application id")),
    responses((status = 200, description = "the attachments", body = Vec<AttachmentView>)))]
#[get("/applications/{id}/attachments")]
pub async fn list_attachments(
    user: SignedIn,
    db: web::Data<Db>,
    id: web::Path<i64>,
) -> Result<web::Json<Vec<AttachmentView>>, ApiError> {
    let rows = attachments::list(&db, &user, id.into_inner()).await?;
    Ok(web::Json(rows.into_iter().map(Into::into).collect()))
}

/// Downloads one material, as an attachment under its original name.
#[utoipa::path(tag = "applications", security(("bearer" = [])),
    params(("id" = i64, Path, description = "application id"), ("attachment_id" = i64, Path, description = "attachment id")),
    responses((status = 200, description = "the file", content_type = "application/octet-stream")))]
#[get("/applications/{id}/attachments/{attachment_id}")]
pub async fn download_attachment(
    user: SignedIn,
    db: web::Data<Db>,
    storage: web::Data<Storage>,
    request: HttpRequest,
    path: web::Path<(i64, i64)>,
) -> Result<HttpResponse, ApiError> {
    let (id, attachment_id) = path.into_inner();
    let row = attachments::find(&db, &user, id, attachment_id).await?;
    file_response(row, &storage, &request, DispositionType::Attachment).await
}

/// An attachment's file as a download (`Attachment`) or for a browser to show (`Inline`), under its own name.
pub async fn file_response(
    row: AttachmentRow,
    storage: &web::Data<Storage>,
    request: &HttpRequest,
    disposition: DispositionType,
) -> Result<HttpResponse, ApiError> {
    let stored = match storage.get(&row.storage_key).await {
        Ok(stored) => stored,
        Err(crate::storage::Error::NotFound(_)) => {
            return Err(ApiError::Internal(anyhow::anyhow!("attachment {} is missing from storage", row.id)));
        }
        Err(error) => return Err(storage_failed(error).into()),
    };
    let ascii: String = row
        .file_name
        .chars()
        .map(|c| if c.is_ascii_graphic() || c == ' ' { c } else { '_' })
        .filter(|c| *c != '"')
        .collect();
    let disposition = ContentDisposition {
        disposition,
        parameters: vec![
            DispositionParam::Filename(ascii),
            DispositionParam::FilenameExt(ExtendedValue {
                charset: header::Charset::Ext("UTF-8".into()),
                language_tag: None,
                value: row.file_name.into_bytes(),
            }),
        ],
    };
    let mime: mime::Mime = row.content_type.parse().unwrap_or(mime::APPLICATION_OCTET_STREAM);
    let mut response = match stored {
        Download::File(path) => web::block(move || actix_files::NamedFile::open(path))
            .await
            .map_err(|e| ApiError::Internal(e.into()))?
            .map_err(|e| ApiError::Internal(anyhow::anyhow!("attachment {} is missing from storage: {e}", row.id)))?
            .set_content_type(mime)
            .set_content_disposition(disposition)
            .use_etag(false)
            .use_last_modified(false)
            .into_response(request),
        Download::Stream { size, bytes } => HttpResponse::Ok()
            .content_type(mime)
            .insert_header((header::CONTENT_DISPOSITION, disposition))
            .no_chunking(size)
            .streaming(bytes),
    };
    response.headers_mut().insert(header::X_CONTENT_TYPE_OPTIONS, header::HeaderValue::from_static("nosniff"));
    Ok(response)
}

/// Removes a material while the application is editable.
#[utoipa::path(tag = "applications", security(("bearer" = [])),
    params(("id" = i64, Path, description = "application id"), ("attachment_id" = i64, Path, description = "attachment id")), responses(
        (status = 204, description = "removed"),
        (status = 409, description = "`conflict`: the application is no longer editable", body = crate::error::Problem, content_type = "application/problem+json"),
    ))]
#[delete("/applications/{id}/attachments/{attachment_id}")]
pub async fn delete_attachment(
    user: SignedIn,
    db: web::Data<Db>,
    storage: web::Data<Storage>,
    path: web::Path<(i64, i64)>,
) -> Result<HttpResponse, ApiError> {
    let (id, attachment_id) = path.into_inner();
    attachments::delete(&db, &storage, &user, id, attachment_id).await?;
    Ok(HttpResponse::NoContent().finish())
}
