//! One event, start to finish: parse, normalize, key, then store and forward at once.
//!
//! Success is reported only after the store confirmed the write and every forward target
//! accepted the callback; every other outcome is an error, so the platform delivers the event
//! again instead of losing it (delivery to targets is therefore at least once). A broken
//! archive never holds back the consumers: the forwards run concurrently with the write.

use std::time::Instant;

use bytes::Bytes;
use chrono::{DateTime, FixedOffset, Utc};
use serde::Serialize;
use tracing::{error, info, warn};

use crate::event::{self, Event, EventError};
use crate::forward::{Delivery, ForwardError, Forwarder};
use crate::layout::{self, KeyParts, KeyTemplate, LayoutError};
use crate::record::{self, Outcome, Source};
use crate::store::{Object, Store, StoreError};

/// How events become objects (shared by the COS and local stores): the key layout, the
/// archived event types and redaction.
#[derive(Debug, Clone)]
pub struct ArchiveConfig {
    /// `COS_KEY_PREFIX`.
    pub key_prefix: String,
    /// `COS_KEY_TEMPLATE`, parsed.
    pub key_template: KeyTemplate,
    /// `ARCHIVE_UTC_OFFSET`.
    pub utc_offset: FixedOffset,
    /// `ARCHIVE_EVENT_TYPES`; `None` = all.
    pub event_types: Option<Vec<String>>,
    /// `ARCHIVE_REDACT`.
    pub redact: bool,
}

/// What was done with one event; the body of the response post.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Handled {
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
    /// Where the callback was forwarded; absent when no target is configured.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub forwarded: Vec<Delivery>,
}

/// Why an event was not handled; displays as the one-line error post.
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
    /// At least one forward failed (and maybe the archive too): all of it on one line, the
    /// archive's failure first.
    #[error("{}", forward_line(.archive.as_deref(), .failed))]
    Forward {
        /// The archive's own failure, when it failed too.
        archive: Option<Box<HandleError>>,
        /// The failed forwards, in configuration order.
        failed: Vec<ForwardError>,
    },
}

fn forward_line(archive: Option<&HandleError>, failed: &[ForwardError]) -> String {
    let mut parts: Vec<String> = archive.map(ToString::to_string).into_iter().collect();
    parts.extend(failed.iter().map(ToString::to_string));
    parts.join("; ")
}

impl HandleError {
    /// Whether a server refused this instance's credentials themselves (an unknown or expired
    /// key or token): temporary role keys may have run out, and only a fresh instance gets
    /// fresh ones. A missing permission is not such a refusal: it fails this event only.
    pub fn credentials_rejected(&self) -> bool {
        match self {
            HandleError::Store(e) => e.credentials_rejected(),
            HandleError::Forward { archive, failed } => {
                archive.as_ref().is_some_and(|a| a.credentials_rejected())
                    || failed.iter().any(ForwardError::is_credentials_rejected)
            }
            _ => false,
        }
    }
}

/// Facts about one delivery that are not in the event.
#[derive(Debug, Clone, Copy)]
pub struct Invocation<'a> {
    /// Platform request id, when there is one.
    pub request_id: Option<&'a str>,
    /// When the event was received.
    pub received_at: DateTime<Utc>,
    /// How the event reached this process (the record's `source`).
    pub source: Source,
    /// When the store and the targets must have answered.
    pub deadline: Instant,
}

/// Archives events into a [`Store`] and forwards them to the configured targets.
#[derive(Debug)]
pub struct Handler<S> {
    store: S,
    cfg: ArchiveConfig,
    forwarder: Option<Forwarder>,
}

/// What to do with a parsed callback's record.
enum Plan {
    /// Write it.
    Write(Prepared),
    /// Its type is not archived: why.
    Skip(String),
}

/// What the store confirmed for one record.
struct Written {
    key: String,
    etag: String,
    bytes: usize,
    attempts: u32,
}

/// A record ready to be written: everything but the I/O.
struct Prepared {
    key: String,
    body: Bytes,
    event_type: String,
    task_id: Option<String>,
    status: Option<String>,
    outcome: Outcome,
}

impl<S: Store> Handler<S> {
    /// A handler writing to `store` with the key layout and filters of `cfg`, forwarding
    /// nowhere.
    pub fn new(store: S, cfg: ArchiveConfig) -> Self {
        Handler {
            store,
            cfg,
            forwarder: None,
        }
    }

    /// The same handler, also forwarding every callback through `forwarder`.
    pub fn forwarding(mut self, forwarder: Forwarder) -> Self {
        self.forwarder = Some(forwarder).filter(|f| !f.is_empty());
        self
    }

    /// Handles one raw event body; `Ok` only once the store confirmed the object and every
    /// target accepted the callback.
    pub async fn handle(&self, body: Bytes, inv: &Invocation<'_>) -> Result<Handled, HandleError> {
        let started = Instant::now();
        // Only a JSON object is a callback: anything else is neither stored nor forwarded. A
        // callback whose record cannot be built is still forwarded: the consumers do not wait
        // on the archive.
        let prepared = match self.prepare(&body, inv) {
            Err(HandleError::Event(e)) => return Err(HandleError::Event(e)),
            other => other,
        };
        let archive = async {
            match prepared {
                Ok(Plan::Write(p)) => self.put(p, inv.deadline, started).await.map(Ok),
                Ok(Plan::Skip(why)) => Ok(Err(why)),
                Err(e) => Err(e),
            }
        };
        let forward = async {
            match &self.forwarder {
                Some(f) => f.forward(&body, inv.deadline).await,
                None => Vec::new(),
            }
        };
        let (archived, forwards) = tokio::join!(archive, forward);
        let mut forwarded = Vec::with_capacity(forwards.len());
        let mut failed = Vec::new();
        for f in forwards {
            match f {
                Ok(d) => forwarded.push(d),
                Err(e) => failed.push(e),
            }
        }
        if !failed.is_empty() {
            let line = forward_line(archived.as_ref().err(), &failed);
            error!(error = %line, duration_ms = elapsed_ms(started), "event not forwarded everywhere");
            return Err(HandleError::Forward {
                archive: archived.err().map(Box::new),
                failed,
            });
        }
        let bucket = self.store.location().to_string();
        Ok(match archived? {
            Ok(w) => Handled {
                bucket,
                key: Some(w.key),
                etag: Some(w.etag),
                bytes: w.bytes,
                attempts: w.attempts,
                skipped: None,
                forwarded,
            },
            Err(why) => Handled {
                bucket,
                key: None,
                etag: None,
                bytes: 0,
                attempts: 0,
                skipped: Some(why),
                forwarded,
            },
        })
    }

    /// The key `body` would be stored under, without storing or forwarding anything; `None`
    /// when its event type is not archived (`ARCHIVE_EVENT_TYPES`).
    pub fn key_for(
        &self,
        body: &[u8],
        inv: &Invocation<'_>,
    ) -> Result<Option<String>, HandleError> {
        Ok(match self.prepare(body, inv)? {
            Plan::Write(p) => Some(p.key),
            Plan::Skip(_) => None,
        })
    }

    /// Whether callbacks of `event_type` are archived (`ARCHIVE_EVENT_TYPES`).
    pub fn archives_type(&self, event_type: &str) -> bool {
        self.cfg
            .event_types
            .as_ref()
            .is_none_or(|types| types.iter().any(|t| t.eq_ignore_ascii_case(event_type)))
    }

    /// The key layout and filters this handler writes with.
    pub fn archive_config(&self) -> &ArchiveConfig {
        &self.cfg
    }

    /// Parses and normalizes the event and builds its key and record, unless its type is not
    /// archived.
    fn prepare(&self, body: &[u8], inv: &Invocation<'_>) -> Result<Plan, HandleError> {
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
                return Ok(Plan::Skip(format!(
                    "event type {event_type} is not in ARCHIVE_EVENT_TYPES"
                )));
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
        let record = record::build_owned(
            parsed,
            inv.received_at,
            inv.request_id,
            inv.source,
            self.cfg.redact,
        );
        let digest = layout::digest(masked_for_digest.as_ref().unwrap_or(&record.event));
        let key = self.cfg.key_template.render(&KeyParts {
            prefix: &self.cfg.key_prefix,
            event_type: &record.event_type,
            task_id: record.task_id.as_deref(),
            status: record.status.as_deref(),
            outcome: record.outcome,
            time: record.event_time.unwrap_or(inv.received_at),
            offset: self.cfg.utc_offset,
            digest: &digest,
        })?;
        let body = Bytes::from(serde_json::to_vec(&record)?);
        Ok(Plan::Write(Prepared {
            key,
            body,
            event_type: record.event_type,
            task_id: record.task_id,
            status: record.status,
            outcome: record.outcome,
        }))
    }

    /// Writes a prepared record; what the store confirmed, once it did.
    async fn put(
        &self,
        p: Prepared,
        deadline: Instant,
        started: Instant,
    ) -> Result<Written, HandleError> {
        let (event_type, task_id, status) =
            (&p.event_type, p.task_id.as_deref(), p.status.as_deref());
        let bytes = p.body.len();
        let meta_type = layout::sanitize(event_type, layout::MAX_EVENT_TYPE_BYTES, "unrecognized");
        let meta_status =
            layout::sanitize(status.unwrap_or(""), layout::MAX_STATUS_BYTES, "unknown");
        let metadata = [
            ("event-type", meta_type.as_str()),
            ("task-status", meta_status.as_str()),
            ("task-outcome", p.outcome.as_str()),
        ];
        let obj = Object {
            key: &p.key,
            body: p.body.clone(),
            content_type: "application/json",
            metadata: &metadata,
        };
        match self.store.put(obj, deadline).await {
            Ok(stored) => {
                info!(
                    event_type, task_id, status, outcome = p.outcome.as_str(), key = %p.key, bytes,
                    attempts = stored.attempts,
                    duration_ms = elapsed_ms(started), "event archived"
                );
                Ok(Written {
                    key: p.key,
                    etag: stored.etag,
                    bytes,
                    attempts: stored.attempts,
                })
            }
            Err(e) => {
                error!(
                    event_type, task_id, status, key = %p.key, bytes,
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
