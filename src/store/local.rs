//! A directory that mirrors bucket keys: `invoke` without a bucket, and tests.
//!
//! Writes go to a temporary file in the target folder, are flushed to disk, then renamed
//! over the key, so a reader never sees half an object and a crash leaves no torn file.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use md5::{Digest, Md5};
use tokio::io::AsyncWriteExt;

use super::{Object, Store, StoreError, Stored};
use crate::key::{key_path, TEMP_PREFIX};
use crate::text::hex;

/// Why a local write failed.
#[derive(Debug, thiserror::Error)]
pub enum LocalError {
    /// The key would leave the store's directory or is not a plain relative path.
    #[error("local store refused key {key:?}: {reason}")]
    UnsafeKey {
        /// The key (keys never contain secrets).
        key: String,
        /// Why.
        reason: String,
    },
    /// The filesystem said no.
    #[error("local store write failed for {path}: {source}")]
    Io {
        /// File that could not be written.
        path: String,
        /// OS error.
        source: std::io::Error,
    },
    /// The deadline passed before the write finished.
    #[error("local store write did not finish before the deadline")]
    Deadline,
}

/// Stores objects as files under one directory, `DIR/<key>`.
#[derive(Debug)]
pub(crate) struct LocalStore {
    root: PathBuf,
    label: String,
    seq: AtomicU64,
}

impl LocalStore {
    /// A store rooted at `root` (created on first write).
    pub(crate) fn new(root: impl Into<PathBuf>) -> Self {
        let root = root.into();
        let label = root.display().to_string();
        LocalStore {
            root,
            label,
            seq: AtomicU64::new(0),
        }
    }

    /// The file a key maps to, or why it may not be written: the archive's key rules keep
    /// every key inside the directory ([`crate::key::check_archive_key`]).
    pub(crate) fn path_for(&self, key: &str) -> Result<PathBuf, LocalError> {
        key_path(&self.root, key).map_err(|e| LocalError::UnsafeKey {
            key: key.to_string(),
            reason: e.to_string(),
        })
    }

    async fn write(&self, obj: &Object<'_>) -> Result<Stored, LocalError> {
        let path = self.path_for(obj.key)?;
        let io = |p: &Path| {
            let shown = p.display().to_string();
            move |source| LocalError::Io {
                path: shown,
                source,
            }
        };
        let dir = path.parent().unwrap_or(&self.root);
        tokio::fs::create_dir_all(dir).await.map_err(io(dir))?;
        let n = self.seq.fetch_add(1, Ordering::Relaxed);
        let tmp = dir.join(format!("{TEMP_PREFIX}{}-{n}", std::process::id()));
        let result = async {
            let mut f = tokio::fs::File::create(&tmp).await.map_err(io(&tmp))?;
            f.write_all(&obj.body).await.map_err(io(&tmp))?;
            f.sync_all().await.map_err(io(&tmp))?;
            drop(f);
            tokio::fs::rename(&tmp, &path).await.map_err(io(&path))
        }
        .await;
        if result.is_err() {
            let _ = tokio::fs::remove_file(&tmp).await;
        }
        result?;
        Ok(Stored {
            etag: hex(&Md5::digest(&obj.body)),
            attempts: 1,
        })
    }
}

impl Store for LocalStore {
    fn location(&self) -> &str {
        &self.label
    }

    async fn put(&self, obj: Object<'_>, deadline: Instant) -> Result<Stored, StoreError> {
        match tokio::time::timeout_at(deadline.into(), self.write(&obj)).await {
            Ok(r) => Ok(r?),
            Err(_) => Err(LocalError::Deadline.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use std::time::Duration;

    fn tmpdir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("mcb-local-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    fn obj<'a>(key: &'a str, body: &'static [u8]) -> Object<'a> {
        Object {
            key,
            body: Bytes::from_static(body),
            content_type: "application/json",
            metadata: &[],
        }
    }

    #[tokio::test]
    async fn writes_mirror_keys_atomically_and_overwrite_in_place(
    ) -> Result<(), Box<dyn std::error::Error>> {
        let root = tmpdir("write");
        let store = LocalStore::new(&root);
        let deadline = Instant::now() + Duration::from_secs(5);
        let s = store.put(obj("a/b/c.json", b"{\"x\":1}"), deadline).await?;
        assert_eq!(
            s.etag, "ac3ef48caa08fa3ed5e025da69edc645",
            "etag is the MD5 of the body, as COS gives for a simple PUT"
        );
        assert_eq!(std::fs::read(root.join("a/b/c.json"))?, b"{\"x\":1}");
        store.put(obj("a/b/c.json", b"{\"x\":2}"), deadline).await?;
        assert_eq!(std::fs::read(root.join("a/b/c.json"))?, b"{\"x\":2}");
        let mut leftovers = Vec::new();
        for entry in std::fs::read_dir(root.join("a/b"))? {
            leftovers.push(entry?.file_name());
        }
        assert_eq!(leftovers, ["c.json"], "no temp files left behind");
        let _ = std::fs::remove_dir_all(&root);
        Ok(())
    }

    #[tokio::test]
    async fn refuses_keys_that_escape_the_directory() {
        let root = tmpdir("escape");
        let store = LocalStore::new(&root);
        let deadline = Instant::now() + Duration::from_secs(5);
        for key in [
            "../x.json",
            "a/../../x",
            "/etc/x",
            "a//b",
            "./a",
            "a/",
            "",
            "a\\b",
            "a\nb",
        ] {
            let result = store.put(obj(key, b"x"), deadline).await;
            let Err(err) = result else {
                panic!("{key:?} was written");
            };
            assert!(err.to_string().contains("refused key"), "{key:?}: {err}");
        }
        assert!(!root.exists(), "nothing written for refused keys");
    }
}
