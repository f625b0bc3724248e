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

use crate::digest::{digest, digest_masked};
use crate::event::{self, Event, EventError};
use crate::forward::{Delivery, ForwardError, Forwarder};
use crate::key::{
    sanitize, KeyError, KeyParts, KeyTemplate, MAX_EVENT_TYPE_BYTES, MAX_STATUS_BYTES,
};
use crate::record::{self, Outcome, RecordSource};
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
    pub(crate) bucket: String,
    /// Object key; `None` when the event type is filtered out.
    pub(crate) key: Option<String>,
    /// ETag of the stored object.
    pub(crate) etag: Option<String>,
    /// Bytes of the stored record.
    pub(crate) bytes: usize,
    /// Store attempts.
    pub(crate) attempts: u32,
    /// Why nothing was stored (filtered event type); absent when stored.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) skipped: Option<String>,
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
    #[error("object key rejected: {0}")]
    Key(#[from] KeyError),
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
    pub(crate) fn credentials_rejected(&self) -> bool {
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
    pub source: RecordSource,
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
enum Decision {
    /// Write it.
    Write(PreparedWrite),
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
struct PreparedWrite {
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
    pub(crate) fn forwarding(mut self, forwarder: Forwarder) -> Self {
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
                Ok(Decision::Write(p)) => self.put(p, inv.deadline, started).await.map(Ok),
                Ok(Decision::Skip(why)) => Ok(Err(why)),
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
    pub(crate) fn key_for(
        &self,
        body: &[u8],
        inv: &Invocation<'_>,
    ) -> Result<Option<String>, HandleError> {
        Ok(match self.prepare(body, inv)? {
            Decision::Write(p) => Some(p.key),
            Decision::Skip(_) => None,
        })
    }

    /// Whether callbacks of `event_type` are archived (`ARCHIVE_EVENT_TYPES`).
    pub(crate) fn archives_type(&self, event_type: &str) -> bool {
        self.cfg
            .event_types
            .as_ref()
            .is_none_or(|types| types.iter().any(|t| t.eq_ignore_ascii_case(event_type)))
    }

    /// The key layout and filters this handler writes with.
    pub(crate) fn archive_config(&self) -> &ArchiveConfig {
        &self.cfg
    }

    /// Parses and normalizes the event and builds its key and record, unless its type is not
    /// archived.
    fn prepare(&self, body: &[u8], inv: &Invocation<'_>) -> Result<Decision, HandleError> {
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
        if self.cfg.event_types.is_some() {
            let event_type = parsed.event_type();
            if !self.archives_type(event_type) {
                info!(
                    event_type,
                    task_id = parsed.task_id(),
                    status = parsed.status(),
                    "event type not in ARCHIVE_EVENT_TYPES; acknowledged, not stored"
                );
                return Ok(Decision::Skip(format!(
                    "event type {event_type} is not in ARCHIVE_EVENT_TYPES"
                )));
            }
        }

        // The record takes the event by move: copying a large event costs more than the rest.
        let record = record::build_owned(
            parsed,
            inv.received_at,
            inv.request_id,
            inv.source,
            self.cfg.redact,
        );
        // Keys never depend on a secret: with redaction the record's event is already masked;
        // without it the digest masks as it reads.
        let digest = if self.cfg.redact {
            digest(&record.event)
        } else {
            digest_masked(&record.event)
        };
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
        Ok(Decision::Write(PreparedWrite {
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
        p: PreparedWrite,
        deadline: Instant,
        started: Instant,
    ) -> Result<Written, HandleError> {
        let (event_type, task_id, status) =
            (&p.event_type, p.task_id.as_deref(), p.status.as_deref());
        let bytes = p.body.len();
        let meta_type = sanitize(event_type, MAX_EVENT_TYPE_BYTES, "unrecognized");
        let meta_status = sanitize(status.unwrap_or(""), MAX_STATUS_BYTES, "unknown");
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

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use chrono::TimeZone;
    use serde_json::Value;

    use super::*;
    use crate::cos::{CosError, CosFailure, ErrorBody};
    use crate::forward::target::parse_targets;
    use crate::forward::ForwarderConfig;
    use crate::key::DEFAULT_TEMPLATE;
    use crate::record::RecordSource;
    use crate::retry::RetryPolicy;
    use crate::store::memory::MemoryStore;
    use crate::store::StoreError;
    use crate::transport::HttpClient;

    const EVENT: &[u8] = br#"{"EventType":"WorkflowTask","WorkflowTaskEvent":{"TaskId":"1253112233-WorkflowTask-abc","Status":"FINISH","ErrCode":0,"MediaProcessResultSet":[{"Type":"Transcode","TranscodeTask":{"Status":"FAIL","ErrCodeExt":"InternalError","Message":"x"}}],"InputInfo":{"Type":"S3","S3InputInfo":{"S3Bucket":"b","S3SecretKey":"s3cretValue"}}}}"#;

    fn cfg(event_types: Option<&[&str]>, redact: bool) -> ArchiveConfig {
        ArchiveConfig {
            key_prefix: "mps-events/".into(),
            key_template: KeyTemplate::parse(DEFAULT_TEMPLATE).unwrap(),
            utc_offset: FixedOffset::east_opt(8 * 3600).unwrap(),
            event_types: event_types.map(|t| t.iter().map(|s| s.to_string()).collect()),
            redact,
        }
    }

    fn inv() -> Invocation<'static> {
        Invocation {
            request_id: Some("req-1"),
            received_at: Utc.with_ymd_and_hms(2026, 11, 24, 23, 30, 0).unwrap(),
            source: RecordSource::Trigger,
            deadline: Instant::now() + Duration::from_secs(5),
        }
    }

    fn rt() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    }

    #[test]
    fn a_callback_is_stored_at_its_key_with_its_record_and_metadata() {
        let h = Handler::new(MemoryStore::default(), cfg(None, true));
        let done = rt()
            .block_on(h.handle(Bytes::from_static(EVENT), &inv()))
            .unwrap();
        // Dated in +08:00: received 23:30 UTC on the 24th is the 25th there.
        let key = "mps-events/WorkflowTask/2026/11/25/1253112233-WorkflowTask-abc.finish.failed.";
        let stored = h.store.objects();
        let (k, kept) = stored.iter().next().unwrap();
        assert_eq!(stored.len(), 1);
        assert!(k.starts_with(key) && k.ends_with(".json"), "{k}");
        assert_eq!(done.key.as_deref(), Some(k.as_str()));
        assert_eq!((done.bytes, done.attempts), (kept.body.len(), 1));
        assert_eq!(kept.content_type, "application/json");
        let meta: Vec<(&str, &str)> = kept
            .metadata
            .iter()
            .map(|(a, b)| (a.as_str(), b.as_str()))
            .collect();
        assert!(meta.contains(&("task-outcome", "failed")), "{meta:?}");
        assert!(meta.contains(&("event-type", "WorkflowTask")), "{meta:?}");
        let record: Value = serde_json::from_slice(&kept.body).unwrap();
        assert_eq!(record["source"], "trigger");
        assert_eq!(record["request_id"], "req-1");
        assert_eq!(
            record["event"]["WorkflowTaskEvent"]["InputInfo"]["S3InputInfo"]["S3SecretKey"],
            "***"
        );
        assert!(!String::from_utf8_lossy(&kept.body).contains("s3cretValue"));
    }

    #[test]
    fn redaction_off_keeps_the_secret_but_not_the_key() {
        let on = Handler::new(MemoryStore::default(), cfg(None, true));
        let off = Handler::new(MemoryStore::default(), cfg(None, false));
        let a = rt()
            .block_on(on.handle(Bytes::from_static(EVENT), &inv()))
            .unwrap();
        let b = rt()
            .block_on(off.handle(Bytes::from_static(EVENT), &inv()))
            .unwrap();
        assert_eq!(a.key, b.key, "the key never depends on a secret");
        let kept = off.store.objects();
        assert!(
            String::from_utf8_lossy(&kept.values().next().unwrap().body).contains("s3cretValue")
        );
    }

    #[test]
    fn a_type_outside_archive_event_types_is_acknowledged_and_not_stored() {
        let h = Handler::new(MemoryStore::default(), cfg(Some(&["EditMediaTask"]), true));
        let done = rt()
            .block_on(h.handle(Bytes::from_static(EVENT), &inv()))
            .unwrap();
        assert_eq!(done.key, None);
        assert!(done
            .skipped
            .unwrap_or_default()
            .contains("ARCHIVE_EVENT_TYPES"));
        assert!(h.store.objects().is_empty());
    }

    #[test]
    fn a_body_that_is_not_an_object_is_refused_and_nothing_is_stored() {
        let h = Handler::new(MemoryStore::default(), cfg(None, true));
        for body in [&b"[1]"[..], b"", b"not json"] {
            let e = rt()
                .block_on(h.handle(Bytes::copy_from_slice(body), &inv()))
                .unwrap_err();
            assert!(matches!(e, HandleError::Event(_)), "{e}");
        }
        assert!(h.store.objects().is_empty());
    }

    fn refused_credentials() -> StoreError {
        StoreError::Cos(CosError::GaveUp {
            op: "PUT",
            at: "".into(),
            gave_up: crate::retry::GaveUp {
                attempts: 1,
                ending: crate::retry::Ending::CredentialsRejected(CosFailure::Status {
                    status: 403,
                    error: Box::new(ErrorBody::default()),
                }),
            },
        })
    }

    #[test]
    fn a_store_failure_is_the_events_failure_and_says_whether_the_instance_must_stop() {
        let h = Handler::new(MemoryStore::failing(refused_credentials), cfg(None, true));
        let e = rt()
            .block_on(h.handle(Bytes::from_static(EVENT), &inv()))
            .unwrap_err();
        assert!(
            matches!(e, HandleError::Store(_)) && e.credentials_rejected(),
            "{e}"
        );
        let h = Handler::new(
            MemoryStore::failing(|| StoreError::Local(crate::store::local::LocalError::Deadline)),
            cfg(None, true),
        );
        let e = rt()
            .block_on(h.handle(Bytes::from_static(EVENT), &inv()))
            .unwrap_err();
        assert!(
            matches!(e, HandleError::Store(_)) && !e.credentials_rejected(),
            "{e}"
        );
    }

    /// A forward target that cannot be reached (a closed loopback port): the archive is
    /// still written, the event fails naming the target, and the archive's own failure comes
    /// first when both fail.
    #[test]
    fn a_failed_forward_fails_the_event_but_not_the_archive() {
        let rt = rt();
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = closed.local_addr().unwrap().port();
        drop(closed);
        let forwarder = |_: ()| {
            let cfg = ForwarderConfig {
                targets: parse_targets(&format!("http://127.0.0.1:{port}/hook")).unwrap(),
                scf: None,
                notify_key: None,
                policy: RetryPolicy {
                    max_attempts: 2,
                    base_backoff: Duration::from_millis(1),
                    max_backoff: Duration::from_millis(2),
                    ..RetryPolicy::default()
                },
            };
            rt.block_on(async { Forwarder::new(HttpClient::new(), cfg).unwrap() })
        };
        let h = Handler::new(MemoryStore::default(), cfg(None, true)).forwarding(forwarder(()));
        let e = rt
            .block_on(h.handle(Bytes::from_static(EVENT), &inv()))
            .unwrap_err();
        let line = e.to_string();
        assert!(
            matches!(&e, HandleError::Forward { archive: None, failed } if failed.len() == 1),
            "{line}"
        );
        assert!(line.contains(&format!("127.0.0.1:{port}")), "{line}");
        assert_eq!(h.store.objects().len(), 1, "archived all the same");

        let h = Handler::new(MemoryStore::failing(refused_credentials), cfg(None, true))
            .forwarding(forwarder(()));
        let e = rt
            .block_on(h.handle(Bytes::from_static(EVENT), &inv()))
            .unwrap_err();
        assert!(matches!(
            &e,
            HandleError::Forward {
                archive: Some(_),
                ..
            }
        ));
        assert!(e.credentials_rejected());
        assert!(
            e.to_string().starts_with("COS PUT"),
            "the archive's failure first: {e}"
        );
    }
}
