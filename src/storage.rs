//! Where uploaded files live: a folder on the local disk (the default), or a bucket of an S3-compatible
//! object store (through the `object_store` crate) that several app instances share.
//!
//! One contract for both: a [`Writer`] receives an upload in chunks, holding at most one part in memory, and
//! [`Writer::commit`] puts it, whole, under a new key and never over an existing object; an upload that is not
//! committed leaves nothing under a key. [`Storage::list`] shows every stored object with its age, so the
//! housekeeping sweep can remove those no row points at (an upload whose row never committed).

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use futures_util::stream::{BoxStream, StreamExt, TryStreamExt};
use object_store::aws::{AmazonS3, AmazonS3Builder, S3ConditionalPut, S3CopyIfNotExists};
use object_store::path::Path as ObjectPath;
use object_store::{
    BackoffConfig, ClientOptions, CopyMode, CopyOptions, MultipartUpload, ObjectStore, ObjectStoreExt, PutMode,
    PutOptions, PutPayload, RetryConfig,
};
use secrecy::ExposeSecret;

use crate::config::{StorageBackend, StorageSettings};

/// Bytes an S3 upload holds before it sends them as one part (S3's smallest part is 5 MiB). A file up to this
/// size is one conditional PUT; a larger one is a multipart upload under a staging key, then a conditional copy.
pub const PART_BYTES: usize = 5 * 1024 * 1024;
/// Where objects live in a bucket, and where large uploads are assembled before their conditional copy.
/// Bytes a local upload gathers before one blocking write.
const LOCAL_WRITE_BYTES: usize = 1024 * 1024;
const OBJECTS: &str = "attachments";
const STAGING: &str = "staging";

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The local disk is full.
    #[error("upload storage is full: {0}")]
    Full(String),
    /// The object store cannot be reached, or refuses the service (credentials, bucket, a server error).
    #[error("object storage is unavailable: {0}")]
    Unavailable(String),
    #[error("no stored object {0}")]
    NotFound(String),
    /// A commit found an object under its key already, and left it as it was.
    #[error("an object is stored under {0} already")]
    AlreadyExists(String),
    #[error("upload storage: {0}")]
    Other(String),
}

pub type Result<T> = std::result::Result<T, Error>;

fn io_error(error: &io::Error, what: &str) -> Error {
    match error.kind() {
        _ if error.kind() == io::ErrorKind::StorageFull || error.raw_os_error() == Some(28) => {
            Error::Full(error.to_string())
        }
        io::ErrorKind::NotFound => Error::NotFound(what.to_owned()),
        io::ErrorKind::AlreadyExists => Error::AlreadyExists(what.to_owned()),
        _ => Error::Other(format!("{what}: {error}")),
    }
}

fn store_error(error: object_store::Error) -> Error {
    match error {
        object_store::Error::NotFound { path, .. } => Error::NotFound(path),
        object_store::Error::AlreadyExists { path, .. } | object_store::Error::Precondition { path, .. } => {
            Error::AlreadyExists(path)
        }
        other => Error::Unavailable(other.to_string()),
    }
}

async fn blocking<T: Send + 'static>(work: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(work).await.map_err(|e| Error::Other(e.to_string()))?
}

/// A stored object, as the sweep sees it: its key (`None` for an upload left in staging) and when it was
/// written.
#[derive(Debug, Clone)]
pub struct StoredObject {
    pub key: Option<String>,
    /// Where it is, to name it in logs and to remove it.
    pub location: String,
    pub modified: DateTime<Utc>,
}

/// A stored file to send: a local file (served with ranges and its length) or an object's byte stream.
pub enum Download {
    File(PathBuf),
    Stream { size: u64, bytes: BoxStream<'static, Result<Bytes>> },
}

#[derive(Clone)]
pub enum Storage {
    Local(Arc<LocalDisk>),
    S3(Arc<AmazonS3>),
}

impl Storage {
    pub fn from_settings(settings: &StorageSettings) -> anyhow::Result<Self> {
        Ok(match settings.backend {
            StorageBackend::Local => Self::Local(Arc::new(LocalDisk::new(&settings.upload_dir)?)),
            StorageBackend::S3 => Self::S3(Arc::new(s3(settings)?)),
        })
    }

    pub fn local(root: impl Into<PathBuf>) -> io::Result<Self> {
        Ok(Self::Local(Arc::new(LocalDisk::new(root)?)))
    }

    /// A new writer to receive an upload.
    pub async fn writer(&self) -> Result<Writer> {
        match self {
            Self::Local(disk) => {
                let disk = disk.clone();
                let staged = blocking(move || disk.stage().map_err(|e| io_error(&e, "staging"))).await?;
                Ok(Writer::Local { disk: self.clone(), staged: Some(staged), buffer: Vec::new() })
            }
            Self::S3(store) => {
                Ok(Writer::S3(S3Writer { store: store.clone(), buffer: PutPayloadBuffer::default(), multipart: None }))
            }
        }
    }

    /// The stored file of `key`, to stream out.
    pub async fn get(&self, key: &str) -> Result<Download> {
        match self {
            Self::Local(disk) => {
                let path = disk.path(key);
                let found = path.clone();
                blocking(move || fs::metadata(&found).map_err(|e| io_error(&e, &found.display().to_string()))).await?;
                Ok(Download::File(path))
            }
            Self::S3(store) => {
                let object = store.get(&object_path(key)).await.map_err(store_error)?;
                let size = object.meta.size;
                let bytes = object.into_stream().map_err(store_error).boxed();
                Ok(Download::Stream { size, bytes })
            }
        }
    }

    /// Removes the file of `key`; one that is not there is no error.
    pub async fn delete(&self, key: &str) -> Result<()> {
        match self {
            Self::Local(disk) => {
                let (disk, key) = (disk.clone(), key.to_owned());
                blocking(move || disk.remove(&key).map_err(|e| io_error(&e, &key))).await
            }
            Self::S3(store) => match store.delete(&object_path(key)).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
                Err(error) => Err(store_error(error)),
            },
        }
    }

    /// Removes an object the sweep found, by its location in [`StoredObject`].
    pub async fn delete_location(&self, location: &str) -> Result<()> {
        match self {
            Self::Local(disk) => {
                let (path, location) = (disk.root.join(location), location.to_owned());
                blocking(move || match fs::remove_file(path) {
                    Err(e) if e.kind() != io::ErrorKind::NotFound => Err(io_error(&e, &location)),
                    _ => Ok(()),
                })
                .await
            }
            Self::S3(store) => match store.delete(&ObjectPath::from(location)).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
                Err(error) => Err(store_error(error)),
            },
        }
    }

    /// Every stored object, committed or left in staging.
    pub async fn list(&self) -> Result<Vec<StoredObject>> {
        match self {
            Self::Local(disk) => {
                let disk = disk.clone();
                blocking(move || disk.list().map_err(|e| io_error(&e, "listing the upload folder"))).await
            }
            Self::S3(store) => {
                let mut objects = Vec::new();
                // Only the service's own prefixes: anything else in the bucket is not the sweep's business.
                for (prefix, keyed) in [(OBJECTS, true), (STAGING, false)] {
                    let mut listed = store.list(Some(&ObjectPath::from(prefix)));
                    while let Some(meta) = listed.next().await {
                        let meta = meta.map_err(store_error)?;
                        let location = meta.location.to_string();
                        let key = keyed
                            .then(|| {
                                location.strip_prefix(prefix).and_then(|k| k.strip_prefix('/')).map(ToOwned::to_owned)
                            })
                            .flatten();
                        objects.push(StoredObject { key, location, modified: meta.last_modified });
                    }
                }
                Ok(objects)
            }
        }
    }
}

fn object_path(key: &str) -> ObjectPath {
    ObjectPath::from(format!("{OBJECTS}/{key}"))
}

/// The bucket of the settings, with short timeouts and few retries: an upload that cannot be stored is
/// answered 503 within seconds rather than held for minutes.
fn s3(settings: &StorageSettings) -> anyhow::Result<AmazonS3> {
    let timeout = Duration::from_secs(settings.s3_timeout_secs.max(1));
    let mut builder = AmazonS3Builder::new()
        .with_bucket_name(&settings.s3_bucket)
        .with_region(&settings.s3_region)
        .with_access_key_id(&settings.s3_access_key_id)
        .with_secret_access_key(settings.s3_secret_access_key.expose_secret())
        .with_conditional_put(S3ConditionalPut::ETagMatch)
        .with_copy_if_not_exists(S3CopyIfNotExists::Multipart)
        .with_client_options(
            ClientOptions::new()
                .with_timeout(timeout)
                .with_connect_timeout(Duration::from_secs(2).min(timeout))
                .with_allow_http(settings.s3_endpoint.starts_with("http://")),
        )
        .with_retry(RetryConfig {
            backoff: BackoffConfig {
                init_backoff: Duration::from_millis(50),
                max_backoff: Duration::from_millis(500),
                base: 2.0,
            },
            max_retries: 2,
            retry_timeout: timeout,
        });
    if !settings.s3_endpoint.is_empty() {
        builder = builder.with_endpoint(&settings.s3_endpoint);
    }
    Ok(builder.build()?)
}

#[derive(Default)]
struct PutPayloadBuffer {
    chunks: Vec<Bytes>,
    len: usize,
}

impl PutPayloadBuffer {
    fn push(&mut self, bytes: Bytes) {
        self.len += bytes.len();
        self.chunks.push(bytes);
    }

    fn take(&mut self) -> PutPayload {
        self.len = 0;
        std::mem::take(&mut self.chunks).into_iter().collect()
    }
}

/// An upload being received into S3: one part in memory at a time.
pub struct S3Writer {
    store: Arc<AmazonS3>,
    buffer: PutPayloadBuffer,
    /// Once the upload is larger than one part: its staging location and multipart upload.
    multipart: Option<(ObjectPath, Box<dyn MultipartUpload>)>,
}

impl S3Writer {
    async fn write(&mut self, bytes: Bytes) -> Result<()> {
        self.buffer.push(bytes);
        if self.buffer.len >= PART_BYTES {
            if self.multipart.is_none() {
                let staging = ObjectPath::from(format!("{STAGING}/{}", uuid::Uuid::new_v4().simple()));
                let upload = self.store.put_multipart(&staging).await.map_err(store_error)?;
                self.multipart = Some((staging, upload));
            }
            let (_, upload) = self.multipart.as_mut().expect("started above");
            upload.put_part(self.buffer.take()).await.map_err(store_error)?;
        }
        Ok(())
    }

    async fn commit(mut self, key: &str) -> Result<()> {
        let target = object_path(key);
        let Some((staging, mut upload)) = self.multipart.take() else {
            let options = PutOptions { mode: PutMode::Create, ..PutOptions::default() };
            self.store.put_opts(&target, self.buffer.take(), options).await.map_err(store_error)?;
            return Ok(());
        };
        let assembled = async {
            if self.buffer.len > 0 {
                upload.put_part(self.buffer.take()).await?;
            }
            upload.complete().await
        }
        .await;
        if let Err(error) = assembled {
            let _ = upload.abort().await;
            return Err(store_error(error));
        }
        let copied = self
            .store
            .copy_opts(&staging, &target, CopyOptions { mode: CopyMode::Create, ..CopyOptions::default() })
            .await
            .map_err(store_error);
        // A staging object left behind by a failure here is old within the hour, and the sweep removes it.
        if let Err(error) = self.store.delete(&staging).await {
            tracing::warn!(%error, %staging, "a staged upload could not be removed; the sweep will");
        }
        copied
    }

    async fn abort(mut self) {
        if let Some((staging, mut upload)) = self.multipart.take()
            && let Err(error) = upload.abort().await
        {
            tracing::warn!(%error, %staging, "an abandoned multipart upload could not be aborted");
        }
    }
}

/// An upload being received: chunk by chunk, then committed under its key or aborted.
pub enum Writer {
    Local { disk: Storage, staged: Option<Staged>, buffer: Vec<u8> },
    S3(S3Writer),
}

impl Writer {
    /// Adds the next bytes of the upload.
    pub async fn write(&mut self, bytes: Bytes) -> Result<()> {
        match self {
            Self::Local { staged, buffer, .. } => {
                buffer.extend_from_slice(&bytes);
                if buffer.len() >= LOCAL_WRITE_BYTES {
                    let mut file = staged.take().expect("a writer has its staged file until it ends");
                    let bytes = std::mem::take(buffer);
                    let file = blocking(move || file.write(&bytes).map(|()| file).map_err(|e| io_error(&e, "staging")))
                        .await?;
                    *staged = Some(file);
                }
                Ok(())
            }
            Self::S3(writer) => writer.write(bytes).await,
        }
    }

    /// Stores the whole upload under `key`, unless an object is there already ([`Error::AlreadyExists`]).
    pub async fn commit(self, key: &str) -> Result<()> {
        match self {
            Self::Local { disk: Storage::Local(disk), staged, buffer } => {
                let mut staged = staged.expect("a writer has its staged file until it ends");
                let key = key.to_owned();
                blocking(move || {
                    staged.write(&buffer).map_err(|e| io_error(&e, "staging"))?;
                    disk.commit(staged, &key).map_err(|e| io_error(&e, &key))
                })
                .await
            }
            Self::Local { .. } => unreachable!("a local writer belongs to local storage"),
            Self::S3(writer) => writer.commit(key).await,
        }
    }

    /// Gives up the upload, leaving nothing behind (a local staged file is removed when dropped).
    pub async fn abort(self) {
        if let Self::S3(writer) = self {
            writer.abort().await;
        }
    }
}

/// A file being received: written and synced under a temporary name, then handed to [`LocalDisk::commit`].
pub struct Staged {
    path: PathBuf,
    file: File,
}

impl Staged {
    pub fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.file.write_all(bytes)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for Staged {
    /// A staged file that was never committed (an error, a refused upload) is removed.
    fn drop(&mut self) {
        if !self.path.as_os_str().is_empty() {
            let _ = fs::remove_file(&self.path);
        }
    }
}

/// Files under one folder, fanned out by the first characters of their generated keys.
pub struct LocalDisk {
    root: PathBuf,
}

impl LocalDisk {
    pub fn new(root: impl Into<PathBuf>) -> io::Result<Self> {
        let root = root.into();
        fs::create_dir_all(root.join(".staging"))?;
        Ok(Self { root })
    }

    /// A new temporary file to receive an upload.
    pub fn stage(&self) -> io::Result<Staged> {
        let path = self.root.join(".staging").join(uuid::Uuid::new_v4().simple().to_string());
        let file = File::options().write(true).create_new(true).open(&path)?;
        Ok(Staged { path, file })
    }

    /// Syncs the staged file and links it, whole, under `key`; a file already there stays as it was and the
    /// commit fails with `AlreadyExists`.
    pub fn commit(&self, mut staged: Staged, key: &str) -> io::Result<()> {
        staged.file.flush()?;
        staged.file.sync_all()?;
        let target = self.path(key);
        let folder = target.parent().expect("a key path has a folder");
        fs::create_dir_all(folder)?;
        // A hard link, unlike a rename, never replaces what is there.
        fs::hard_link(&staged.path, &target)?;
        // The link itself is made durable by syncing the folder; the staged name goes when `staged` drops.
        File::open(folder)?.sync_all()?;
        Ok(())
    }

    /// Where the file of `key` is.
    pub fn path(&self, key: &str) -> PathBuf {
        let fan = key.get(..2).unwrap_or("__");
        self.root.join(fan).join(key)
    }

    pub fn remove(&self, key: &str) -> io::Result<()> {
        match fs::remove_file(self.path(key)) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }

    /// Every file the service wrote under the folder: committed ones (in their fan-out folder) by key, staged
    /// ones without. Anything else under the folder is left out, so the sweep never touches it.
    fn list(&self) -> io::Result<Vec<StoredObject>> {
        let mut objects = Vec::new();
        for folder in fs::read_dir(&self.root)? {
            let folder = folder?;
            let folder_name = folder.file_name().to_string_lossy().into_owned();
            let staging = folder_name == ".staging";
            let fan = folder_name.len() == 2 && folder_name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
            if !folder.file_type()?.is_dir() || !(staging || fan) {
                continue;
            }
            for file in fs::read_dir(folder.path())? {
                let file = file?;
                let metadata = match file.metadata() {
                    Ok(metadata) if metadata.is_file() => metadata,
                    Ok(_) => continue,
                    // Removed since it was listed.
                    Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                    Err(e) => return Err(e),
                };
                let name = file.file_name().to_string_lossy().into_owned();
                if !staging && self.path(&name) != file.path() {
                    continue;
                }
                objects.push(StoredObject {
                    key: (!staging).then(|| name.clone()),
                    location: format!("{folder_name}/{name}"),
                    modified: metadata.modified()?.into(),
                });
            }
        }
        Ok(objects)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_committed_file_is_whole_under_its_key_and_an_abandoned_one_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let disk = LocalDisk::new(dir.path()).unwrap();
        let mut staged = disk.stage().unwrap();
        staged.write(b"%PDF-1.7 content").unwrap();
        disk.commit(staged, "ab12cd").unwrap();
        assert_eq!(fs::read(disk.path("ab12cd")).unwrap(), b"%PDF-1.7 content");
        assert_eq!(fs::read_dir(dir.path().join(".staging")).unwrap().count(), 0);

        let mut again = disk.stage().unwrap();
        again.write(b"other").unwrap();
        assert_eq!(disk.commit(again, "ab12cd").unwrap_err().kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(fs::read(disk.path("ab12cd")).unwrap(), b"%PDF-1.7 content");

        let mut abandoned = disk.stage().unwrap();
        abandoned.write(b"half").unwrap();
        drop(abandoned);
        assert_eq!(fs::read_dir(dir.path().join(".staging")).unwrap().count(), 0);

        disk.remove("ab12cd").unwrap();
        disk.remove("ab12cd").unwrap();
        assert!(!disk.path("ab12cd").exists());
    }
}
