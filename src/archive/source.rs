//! Where archived objects are read from: the [`Source`] trait.

use std::future::Future;

use bytes::Bytes;
use chrono::{DateTime, Utc};

/// Largest object a reader fetches (the same bound for COS and the local mirror): records
/// are a callback plus its normalized summary, far below this.
pub const MAX_OBJECT_BYTES: usize = crate::cos::MAX_OBJECT_BYTES;

/// One object a listing found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Object key (decoded).
    pub key: String,
    /// Size in bytes.
    pub size: u64,
    /// When the object was last written, when the source says.
    pub last_modified: Option<DateTime<Utc>>,
}

/// What one listing returned, all pages together.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Listing {
    /// Objects under the prefix (with a delimiter: only those before the next delimiter), in
    /// key order.
    pub entries: Vec<Entry>,
    /// With a delimiter: the distinct `prefix + segment + delimiter` beneath the prefix, in
    /// key order ("common prefixes", the folders).
    pub folders: Vec<String>,
    /// Requests the listing took (pages), for reports.
    pub requests: u64,
}

/// Why a read failed; one line each, never a secret.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The key is not in the archive.
    #[error("no object {key:?} in {location}")]
    NotFound {
        /// Key asked for.
        key: String,
        /// Bucket or directory.
        location: String,
    },
    /// A key that cannot name an object of the local mirror.
    #[error("key {key:?} cannot be read: {reason}")]
    BadKey {
        /// Key asked for.
        key: String,
        /// Why.
        reason: String,
    },
    /// The object is larger than [`MAX_OBJECT_BYTES`].
    #[error("object {key:?} is larger than {limit} bytes; not read")]
    TooLarge {
        /// Key asked for.
        key: String,
        /// The bound.
        limit: usize,
    },
    /// COS did not answer as asked (after the COS client's retries).
    #[error(transparent)]
    Cos(#[from] crate::cos::CosError),
    /// The local mirror could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// File or directory.
        path: String,
        /// OS error.
        #[source]
        source: std::io::Error,
    },
}

/// A read-only view of an archive: a bucket or its local mirror, keyed the same way.
pub trait Source: Send + Sync {
    /// Bucket name or directory, for messages.
    fn location(&self) -> &str;

    /// Every object whose key starts with `prefix`, in key order, following pages to the
    /// end. With a `delimiter`, keys that contain it after the prefix are rolled up into
    /// [`Listing::folders`] instead.
    fn list(
        &self,
        prefix: &str,
        delimiter: Option<char>,
    ) -> impl Future<Output = Result<Listing, SourceError>> + Send;

    /// The bytes of one object, checked against the integrity data the source gives.
    fn get(&self, key: &str) -> impl Future<Output = Result<Bytes, SourceError>> + Send;
}

/// Rolls up `entries` (all under `prefix`, in key order) at `delimiter`: the listing COS
/// answers for `prefix` + `delimiter`.
pub(crate) fn roll_up(prefix: &str, entries: Vec<Entry>, delimiter: Option<char>) -> Listing {
    let Some(delim) = delimiter else {
        return Listing {
            entries,
            folders: Vec::new(),
            requests: 1,
        };
    };
    let mut out = Listing {
        requests: 1,
        ..Listing::default()
    };
    for e in entries {
        let rest = &e.key[prefix.len()..];
        match rest.find(delim) {
            Some(i) => {
                let folder = &e.key[..prefix.len() + i + delim.len_utf8()];
                if out.folders.last().map(String::as_str) != Some(folder) {
                    out.folders.push(folder.to_string());
                }
            }
            None => out.entries.push(e),
        }
    }
    out
}
