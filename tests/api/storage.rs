//! Uploaded files in storage: one contract for the local disk and an S3-compatible store (`SeaweedFS`, which
//! checks request signatures), two instances sharing one bucket, and an object store that is gone or
//! refuses the service answered 503 with nothing half-written.

use bytes::Bytes;
use futures_util::TryStreamExt;
use portal::config::StorageSettings;
use portal::domain::role::Role;
use portal::storage::{Download, Error, PART_BYTES, Storage};
use secrecy::SecretString;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::helpers::{PDF, TestApp, program_body, s3_settings, spawn_app_with, upload};

async fn read_all(storage: &Storage, key: &str) -> Result<Vec<u8>, Error> {
    match storage.get(key).await? {
        Download::File(path) => Ok(std::fs::read(path).unwrap()),
        Download::Stream { size, bytes } => {
            let chunks: Vec<Bytes> = bytes.try_collect().await?;
            let all = chunks.concat();
            assert_eq!(all.len() as u64, size, "the announced size is the streamed size");
            Ok(all)
        }
    }
}

/// Writes `content` in chunks of 64 KiB and commits it under `key`.
async fn put(storage: &Storage, key: &str, content: &[u8]) -> Result<(), Error> {
    let mut writer = storage.writer().await?;
    for chunk in content.chunks(64 * 1024) {
        writer.write(Bytes::copy_from_slice(chunk)).await?;
    }
    writer.commit(key).await
}

fn new_key() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// What every backend promises: a whole file under a new key (one part or many), never over another, read
/// back as written, listed for the sweep, and deleted (twice without error).
async fn keeps_the_contract(storage: &Storage) {
    let (small, large) = (new_key(), new_key());
    put(storage, &small, PDF).await.unwrap();
    assert_eq!(read_all(storage, &small).await.unwrap(), PDF);

    let overwrite = put(storage, &small, b"%PDF-1.7 another file").await;
    assert!(matches!(overwrite, Err(Error::AlreadyExists(_))), "{overwrite:?}");
    assert_eq!(read_all(storage, &small).await.unwrap(), PDF, "the first file stays as it was");

    // Larger than one part: assembled from parts, then put under its key, again never over another.
    let content: Vec<u8> = (0..PART_BYTES + 700_000).map(|i| u8::try_from(i % 251).unwrap()).collect();
    put(storage, &large, &content).await.unwrap();
    let back = read_all(storage, &large).await.unwrap();
    assert_eq!(Sha256::digest(&back), Sha256::digest(&content));
    let overwrite = put(storage, &large, &content[1..]).await;
    assert!(matches!(overwrite, Err(Error::AlreadyExists(_))), "{overwrite:?}");

    let listed: Vec<Option<String>> = storage.list().await.unwrap().into_iter().map(|o| o.key).collect();
    assert!(listed.contains(&Some(small.clone())) && listed.contains(&Some(large.clone())), "{listed:?}");

    storage.delete(&small).await.unwrap();
    storage.delete(&small).await.unwrap();
    assert!(matches!(read_all(storage, &small).await, Err(Error::NotFound(_))));
    storage.delete(&large).await.unwrap();
    let listed: Vec<Option<String>> = storage.list().await.unwrap().into_iter().map(|o| o.key).collect();
    assert!(!listed.contains(&Some(small)) && !listed.contains(&Some(large)));
}

#[tokio::test]
async fn the_local_disk_keeps_the_storage_contract_and_an_abandoned_upload_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let storage = Storage::local(dir.path()).unwrap();
    keeps_the_contract(&storage).await;

    let mut abandoned = storage.writer().await.unwrap();
    abandoned.write(Bytes::from(vec![7_u8; PART_BYTES + 1])).await.unwrap();
    abandoned.abort().await;
    assert!(storage.list().await.unwrap().is_empty(), "nothing stored, nothing staged");
}

#[tokio::test]
async fn an_s3_compatible_store_keeps_the_storage_contract() {
    let Some(settings) = s3_settings() else { return };
    keeps_the_contract(&Storage::from_settings(&settings).unwrap()).await;
}

fn unreachable_store() -> StorageSettings {
    let mut settings = s3_settings().unwrap_or_else(|| {
        let mut settings = portal::config::Settings::for_tests().unwrap().storage;
        settings.backend = portal::config::StorageBackend::S3;
        settings.s3_bucket = "portal-test".into();
        settings.s3_access_key_id = "portal-test-key".into();
        settings.s3_secret_access_key = SecretString::from("portal-test-secret");
        settings
    });
    // The discard port: nothing listens there.
    settings.s3_endpoint = "http://127.0.0.1:9".into();
    settings
}

#[tokio::test]
async fn an_unreachable_object_store_is_unavailable_for_every_operation() {
    let storage = Storage::from_settings(&unreachable_store()).unwrap();
    let key = new_key();
    assert!(matches!(put(&storage, &key, PDF).await, Err(Error::Unavailable(_))));
    assert!(matches!(read_all(&storage, &key).await, Err(Error::Unavailable(_))));
    assert!(matches!(storage.delete(&key).await, Err(Error::Unavailable(_))));
    assert!(matches!(storage.list().await, Err(Error::Unavailable(_))));
}

/// A draft of a new verified company to a new programme: `(company token, application id)`.
async fn draft(app: &TestApp, code: &str) -> (String, i64) {
    let admin = app.token_for(Role::Admin).await;
    let program = app.publish_program(&admin, &program_body(code)).await;
    let (token, _) = app.eligible_company("珠海芯源微电子有限公司").await;
    let body = json!({ "program_id": program, "requested_amount_fen": 100_000_000, "form_data": { "project_name": "项目", "rd_budget_fen": 1, "stage": "研发" } });
    let created = app.post("/api/v1/applications", &token, &body).await.expect(201).json();
    (token, created["id"].as_i64().unwrap())
}

async fn attachments(app: &TestApp, token: &str, id: i64) -> Vec<Value> {
    let listed = app.get(&format!("/api/v1/applications/{id}/attachments"), token).await.expect(200).json();
    listed.as_array().unwrap().clone()
}

#[tokio::test]
async fn with_the_object_store_unreachable_an_upload_is_503_unavailable_and_leaves_no_row() {
    let store = unreachable_store();
    let app = spawn_app_with(move |s| s.storage = store).await;
    let (token, id) = draft(&app, "IC-2026").await;
    let refused = upload(&app, &token, id, "business_license", "licence.pdf", PDF, "application/pdf").await;
    assert_eq!(refused.header("content-type"), "application/problem+json");
    refused.problem(503, "unavailable");
    assert!(attachments(&app, &token, id).await.is_empty(), "no row without its object");
}

#[tokio::test]
async fn seaweedfs_refuses_a_wrong_secret_and_the_upload_is_503_with_no_row() {
    let Some(mut settings) = s3_settings() else { return };
    let key = new_key();
    put(&Storage::from_settings(&settings).unwrap(), &key, PDF).await.expect("the right secret is let in");
    settings.s3_secret_access_key = SecretString::from("not-the-secret-of-this-key");
    let storage = Storage::from_settings(&settings).unwrap();
    let refused = put(&storage, &new_key(), PDF).await;
    assert!(matches!(&refused, Err(Error::Unavailable(why)) if why.contains("403")), "{refused:?}");
    assert!(matches!(read_all(&storage, &key).await, Err(Error::Unavailable(_))), "nor read with a wrong one");
    assert!(matches!(storage.list().await, Err(Error::Unavailable(_))));

    let app = spawn_app_with(move |s| s.storage = settings).await;
    let (token, id) = draft(&app, "IC-2026").await;
    let refused = upload(&app, &token, id, "business_license", "licence.pdf", PDF, "application/pdf").await;
    refused.problem(503, "unavailable");
    assert!(attachments(&app, &token, id).await.is_empty(), "no row without its object");
}

#[tokio::test]
async fn a_file_uploaded_through_one_instance_downloads_through_another_sharing_the_bucket() {
    let Some(settings) = s3_settings() else { return };
    let app = spawn_app_with(move |s| s.storage = settings).await;
    let (other, _) = app.another_instance().await;
    let (token, id) = draft(&app, "IC-2026").await;

    let uploaded = upload(&app, &token, id, "business_license", "营业执照.pdf", PDF, "application/pdf").await;
    assert_eq!(uploaded.status(), 201, "{}", uploaded.text());
    let attachment = uploaded.json()["id"].as_i64().unwrap();
    let path = format!("/api/v1/applications/{id}/attachments/{attachment}");
    let downloaded = app.on(&other).get(&path, token.as_str()).await.expect(200);
    assert_eq!(downloaded.bytes(), PDF);
    assert_eq!(downloaded.header("content-type"), "application/pdf");
    assert!(downloaded.header("content-disposition").contains("attachment"));
    assert_eq!(downloaded.header("x-content-type-options"), "nosniff");

    // Deleted through the other instance: gone for both.
    app.on(&other).delete(&path, token.as_str()).await.expect(204);
    app.get(&path, token.as_str()).await.problem(404, "not_found");
    assert!(attachments(&app, &token, id).await.is_empty());
}
