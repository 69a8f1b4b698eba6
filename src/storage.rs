//! Where uploaded files live. The local disk is the default; the trait is what an S3-compatible store
//! (e.g. through the `object_store` crate) would implement when several app servers share files.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// A file being received: written and synced under a temporary name, then handed to [`Storage::commit`].
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
        let _ = fs::remove_file(&self.path);
    }
}

pub trait Storage: Send + Sync {
    /// A new temporary file to receive an upload.
    fn stage(&self) -> io::Result<Staged>;
    /// Syncs the staged file and moves it, whole, to `key`.
    fn commit(&self, staged: Staged, key: &str) -> io::Result<()>;
    /// Where the file of `key` can be read.
    fn path(&self, key: &str) -> PathBuf;
    fn remove(&self, key: &str) -> io::Result<()>;
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
}

impl Storage for LocalDisk {
    fn stage(&self) -> io::Result<Staged> {
        let path = self.root.join(".staging").join(uuid::Uuid::new_v4().simple().to_string());
        let file = File::options().write(true).create_new(true).open(&path)?;
        Ok(Staged { path, file })
    }

    fn commit(&self, mut staged: Staged, key: &str) -> io::Result<()> {
        staged.file.flush()?;
        staged.file.sync_all()?;
        let target = self.path(key);
        let folder = target.parent().expect("a key path has a folder");
        fs::create_dir_all(folder)?;
        fs::rename(&staged.path, &target)?;
        // The rename itself is made durable by syncing the folder.
        File::open(folder)?.sync_all()?;
        staged.path = PathBuf::new();
        Ok(())
    }

    fn path(&self, key: &str) -> PathBuf {
        let fan = key.get(..2).unwrap_or("__");
        self.root.join(fan).join(key)
    }

    fn remove(&self, key: &str) -> io::Result<()> {
        match fs::remove_file(self.path(key)) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
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

        let mut abandoned = disk.stage().unwrap();
        abandoned.write(b"half").unwrap();
        drop(abandoned);
        assert_eq!(fs::read_dir(dir.path().join(".staging")).unwrap().count(), 0);

        disk.remove("ab12cd").unwrap();
        disk.remove("ab12cd").unwrap();
        assert!(!disk.path("ab12cd").exists());
    }
}
