//! A COS bucket as a [`Source`]: GET Bucket for listings, GET Object for records, with the
//! COS client's signing, retry classes and integrity check.

use std::time::{Duration, Instant};

use bytes::Bytes;

use super::source::{Entry, Page, Source, SourceError};
use crate::cos::{CosClient, CosError, CosFailure, MAX_KEYS};
use crate::retry::{Ending, GaveUp};

/// Time one listing page or one object may take, retries included. A reader has no
/// invocation deadline; this bounds a hanging bucket instead.
const REQUEST_TIME: Duration = Duration::from_secs(60);

/// Reads the archive from its bucket.
#[derive(Debug, Clone)]
pub struct CosSource {
    client: CosClient,
    label: String,
}

impl CosSource {
    /// A source over the bucket `client` talks to.
    pub fn new(client: CosClient) -> CosSource {
        let label = format!("bucket {}", client.bucket().name());
        CosSource { client, label }
    }
}

impl Source for CosSource {
    fn location(&self) -> &str {
        &self.label
    }

    async fn list_page(
        &self,
        prefix: &str,
        delimiter: Option<char>,
        marker: Option<&str>,
    ) -> Result<Page, SourceError> {
        let out = self
            .client
            .list_page(prefix, delimiter, marker, MAX_KEYS, REQUEST_TIME)
            .await?;
        Ok(Page {
            entries: out
                .objects
                .into_iter()
                .map(|o| Entry {
                    key: o.key,
                    size: o.size,
                    last_modified: o.last_modified,
                })
                .collect(),
            folders: out.prefixes,
            truncated: out.truncated,
            next_marker: out.next_marker,
        })
    }

    async fn get(&self, key: &str) -> Result<Bytes, SourceError> {
        match self
            .client
            .get_object(key, Instant::now() + REQUEST_TIME)
            .await
        {
            Ok(body) => Ok(body),
            Err(CosError::GaveUp {
                gave_up:
                    GaveUp {
                        ending: Ending::Rejected(CosFailure::Status { status: 404, error }),
                        ..
                    },
                ..
            }) if error.code.as_deref() == Some("NoSuchKey") => Err(SourceError::NotFound {
                key: key.to_string(),
                location: self.label.clone(),
            }),
            Err(e) => Err(e.into()),
        }
    }
}
