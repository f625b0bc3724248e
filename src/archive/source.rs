//! Where archived objects are read from: the [`Source`] trait.

use std::future::Future;

use bytes::Bytes;
use chrono::{DateTime, Utc};

/// Largest object a reader fetches (the same bound for COS and the local mirror): records
/// are a callback plus its normalized summary, far below this.
pub(crate) const MAX_OBJECT_BYTES: usize = crate::cos::MAX_OBJECT_BYTES;

/// One object a listing found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Object key (decoded).
    pub(crate) key: String,
    /// Size in bytes.
    pub(crate) size: u64,
    /// When the object was last written, when the source says.
    pub(crate) last_modified: Option<DateTime<Utc>>,
}

/// What one listing returned, all pages together.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Listing {
    /// Objects under the prefix (with a delimiter: only those before the next delimiter), in
    /// key order.
    pub(crate) entries: Vec<Entry>,
    /// With a delimiter: the distinct `prefix + segment + delimiter` beneath the prefix, in
    /// key order ("common prefixes", the folders).
    pub(crate) folders: Vec<String>,
    /// Requests the listing took (pages), for reports.
    pub(crate) requests: u64,
}

/// One page of a listing, as the source answered it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Page {
    /// Objects, in key order (with a delimiter: only those before the next delimiter).
    pub(crate) entries: Vec<Entry>,
    /// With a delimiter: the folders beneath the prefix, in key order.
    pub(crate) folders: Vec<String>,
    /// Whether the source says more pages follow.
    pub(crate) truncated: bool,
    /// Where the next page starts, when the source says (else after the last key).
    pub(crate) next_marker: Option<String>,
}

/// Truncated pages in a row that add no key before a listing is given up: a bucket (or a
/// proxy) that keeps saying "more" without giving any would otherwise be asked forever.
pub(crate) const MAX_BARREN_PAGES: u32 = 3;

/// Walks the pages of one listing, following the markers, and refuses a listing that
/// stops moving: [`MAX_BARREN_PAGES`] truncated pages in a row without a key, or a page
/// whose next marker does not move forward.
#[derive(Debug)]
pub(crate) struct Pager {
    prefix: String,
    delimiter: Option<char>,
    marker: Option<String>,
    done: bool,
    barren: u32,
    /// Pages asked for so far.
    pub(crate) requests: u64,
}

impl Pager {
    /// A listing of `prefix`, from its first page.
    pub(crate) fn new(prefix: &str, delimiter: Option<char>) -> Pager {
        Pager {
            prefix: prefix.to_string(),
            delimiter,
            marker: None,
            done: false,
            barren: 0,
            requests: 0,
        }
    }

    /// The next page; `None` once the last page was returned.
    pub(crate) async fn next<S: Source + ?Sized>(
        &mut self,
        source: &S,
    ) -> Result<Option<Page>, SourceError> {
        if self.done {
            return Ok(None);
        }
        let page = source
            .list_page(&self.prefix, self.delimiter, self.marker.as_deref())
            .await?;
        self.requests += 1;
        if !page.truncated {
            self.done = true;
            return Ok(Some(page));
        }
        let stuck = || SourceError::Stalled {
            location: source.location().to_string(),
            prefix: self.prefix.clone(),
        };
        let adds = !page.entries.is_empty() || !page.folders.is_empty();
        if adds {
            self.barren = 0;
        } else {
            self.barren += 1;
            if self.barren >= MAX_BARREN_PAGES {
                return Err(stuck());
            }
        }
        // Without NextMarker (no delimiter), the next page starts after the last key.
        let next = page
            .next_marker
            .clone()
            .or_else(|| page.entries.last().map(|e| e.key.clone()))
            .or_else(|| page.folders.last().cloned());
        match next {
            // Keys come in byte order: a marker that does not move forward would loop.
            Some(n) if self.marker.as_deref().is_none_or(|m| n.as_str() > m) => {
                self.marker = Some(n);
            }
            // An empty page may be asked again, up to the barren bound.
            _ if !adds => {}
            _ => return Err(stuck()),
        }
        Ok(Some(page))
    }
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
    /// A listing kept saying "more" without moving on.
    #[error(
        "listing of {location} under prefix {prefix:?} does not move on: truncated pages add no key; giving up"
    )]
    Stalled {
        /// Bucket or directory.
        location: String,
        /// Prefix listed.
        prefix: String,
    },
    /// COS did not answer as asked (after the COS client's retries). Boxed: a listing's
    /// result is passed around far more often than it fails.
    #[error(transparent)]
    Cos(Box<crate::cos::CosError>),
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

    /// One page of the objects whose key starts with `prefix`, in key order, after
    /// `marker`. With a `delimiter`, keys that contain it after the prefix are rolled up
    /// into [`Page::folders`] instead.
    fn list_page(
        &self,
        prefix: &str,
        delimiter: Option<char>,
        marker: Option<&str>,
    ) -> impl Future<Output = Result<Page, SourceError>> + Send;

    /// Every page of a listing together. Only for listings known to be small (folder
    /// discovery): records are listed a page at a time, following the markers.
    fn list(
        &self,
        prefix: &str,
        delimiter: Option<char>,
    ) -> impl Future<Output = Result<Listing, SourceError>> + Send {
        async move {
            let mut pager = Pager::new(prefix, delimiter);
            let mut out = Listing::default();
            while let Some(page) = pager.next(self).await? {
                out.entries.extend(page.entries);
                // When a page ends in a folder, the next may start with it again.
                for f in page.folders {
                    if out.folders.last() != Some(&f) {
                        out.folders.push(f);
                    }
                }
            }
            out.requests = pager.requests;
            Ok(out)
        }
    }

    /// The bytes of one object, checked against the integrity data the source gives.
    fn get(&self, key: &str) -> impl Future<Output = Result<Bytes, SourceError>> + Send;
}

/// Rolls up `entries` (all under `prefix`, in key order) at `delimiter`: the last page COS
/// answers for `prefix` + `delimiter`.
pub(crate) fn roll_up(prefix: &str, entries: Vec<Entry>, delimiter: Option<char>) -> Page {
    let Some(delim) = delimiter else {
        return Page {
            entries,
            ..Page::default()
        };
    };
    let mut out = Page::default();
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

impl From<crate::cos::CosError> for SourceError {
    fn from(e: crate::cos::CosError) -> SourceError {
        SourceError::Cos(Box::new(e))
    }
}
