//! One event, start to finish: parse, normalize, key, store, answer.
//!
//! Success is reported only after the store confirmed the write; every other outcome is an
//! error, so the platform delivers the event again instead of losing it.

use std::time::Instant;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use serde::Serialize;
use tracing::{error, info, warn};

use crate::config::ArchiveConfig;
use crate::event::{self, Event, EventError};
use crate::layout::{self, KeyParts, LayoutError};
use crate::record;
use crate::store::{Object, Store, StoreError};

/// What was done with one event; the body of the response post.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Archived {
    /// Bucket (or local directory) written to.
    pub bucket: String,
    /// Object key; `None` when the event type is filtered out.
    pub key: Option<String>,
    /// ETag of the stored object.
    pub etag: Option<String>,
    /// Bytes of the stored record.
    pub bytes: usize,
    /// Store attempts.
    pub attempts: u32,
    /// Why nothing was stored (filtered event type); absent when stored.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skipped: Option<String>,
}

/// Why an event was not archived; displays as the one-line error post.
#[derive(Debug, thiserror::Error)]
pub enum HandleError {
    /// The body is not a JSON object.
    #[error(transparent)]
    Event(#[from] EventError),
    /// The key could not be built.
    #[error(transparent)]
    Layout(#[from] LayoutError),
    /// The record could not be serialized.
    #[error("could not serialize the archive record: {0}")]
    Serialize(#[from] serde_json::Error),
    /// The store did not confirm the write.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Facts about one delivery that are not in the event.
#[derive(Debug, Clone, Copy)]
pub struct Invocation<'a> {
    /// Platform request id, when there is one.
    pub request_id: Option<&'a str>,
    /// When the event was received.
    pub received_at: DateTime<Utc>,
    /// When the store must have answered.
    pub deadline: Instant,
}

/// Archives events into a [`Store`].
#[derive(Debug)]
pub struct Archiver<S> {
    store: S,
    cfg: ArchiveConfig,
}

impl<S: Store> Archiver<S> {
    /// An archiver writing to `store` with the key layout and filters of `cfg`.
    pub fn new(store: S, cfg: ArchiveConfig) -> Self {
        Archiver { store, cfg }
    }

    /// Archives one raw event body; `Ok` only once the store confirmed the object.
    pub async fn archive(
        &self,
        body: &[u8],
        inv: &Invocation<'_>,
    ) -> Result<Archived, HandleError> {
        let started = Instant::now();
        let parsed = match event::parse(body) {
            Ok(p) => p,
            Err(e) => {
                warn!(bytes = body.len(), error = %e, "event rejected");
                return Err(e.into());
            }
        };
        if let Some(why) = &parsed.warning {
            warn!(event_type = parsed.event_type(), task_id = parsed.task_id(), warning = %why,
                "event did not fit the typed model; stored raw");
        } else if matches!(parsed.event, Event::Other) {
            warn!(
                event_type = parsed.event_type(),
                task_id = parsed.task_id(),
                "unrecognized event type; stored raw"
            );
        }
        if let Some(types) = &self.cfg.event_types {
            let event_type = parsed.event_type();
            if !types.iter().any(|t| t.eq_ignore_ascii_case(event_type)) {
                info!(
                    event_type,
                    task_id = parsed.task_id(),
                    status = parsed.status(),
                    "event type not in ARCHIVE_EVENT_TYPES; acknowledged, not stored"
                );
                return Ok(Archived {
                    bucket: self.store.location().to_string(),
                    key: None,
                    etag: None,
                    bytes: 0,
                    attempts: 0,
                    skipped: Some(format!(
                        "event type {event_type} is not in ARCHIVE_EVENT_TYPES"
                    )),
                });
            }
        }

        // Without redaction the digest still comes from a masked copy, so keys never depend
        // on a secret; with it, the record's own event is that masked copy.
        let masked_for_digest = (!self.cfg.redact).then(|| {
            let mut masked = parsed.raw.clone();
            record::redact(&mut masked);
            masked
        });
        // The record takes the event by move: copying a large event costs more than the rest.
        let record = record::build_owned(parsed, inv.received_at, inv.request_id, self.cfg.redact);
        let digest = layout::digest(masked_for_digest.as_ref().unwrap_or(&record.event));
        let event_type = record.event_type.as_str();
        let task_id = record.task_id.as_deref();
        let status = record.status.as_deref();
        let key = self.cfg.key_template.render(&KeyParts {
            prefix: &self.cfg.key_prefix,
            event_type,
            task_id,
            status,
            time: record.event_time.unwrap_or(inv.received_at),
            offset: self.cfg.utc_offset,
            digest: &digest,
        })?;
        let body = Bytes::from(serde_json::to_vec(&record)?);
        let bytes = body.len();
        let meta_type = layout::sanitize(event_type, layout::MAX_EVENT_TYPE_BYTES, "unrecognized");
        let meta_status =
            layout::sanitize(status.unwrap_or(""), layout::MAX_STATUS_BYTES, "unknown");
        let metadata = [
            ("event-type", meta_type.as_str()),
            ("task-status", meta_status.as_str()),
        ];
        let obj = Object {
            key: &key,
            body,
            content_type: "application/json",
            metadata: &metadata,
        };

        match self.store.put(obj, inv.deadline).await {
            Ok(stored) => {
                info!(
                    event_type, task_id, status, key = %key, bytes, attempts = stored.attempts,
                    duration_ms = elapsed_ms(started), "event archived"
                );
                Ok(Archived {
                    bucket: self.store.location().to_string(),
                    key: Some(key),
                    etag: Some(stored.etag),
                    bytes,
                    attempts: stored.attempts,
                    skipped: None,
                })
            }
            Err(e) => {
                error!(
                    event_type, task_id, status, key = %key, bytes,
                    duration_ms = elapsed_ms(started), error = %e, "event not archived"
                );
                Err(e.into())
            }
        }
    }
}

fn elapsed_ms(since: Instant) -> u64 {
    u64::try_from(since.elapsed().as_millis()).unwrap_or(u64::MAX)
}
