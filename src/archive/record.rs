//! An archived record as readers need it: checked to be JSON, its times, and its `event`
//! exactly as stored (never re-serialized, so every number stays as MPS sent it).

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::record::Outcome;

/// Why stored bytes are not a usable record.
#[derive(Debug, thiserror::Error)]
pub(crate) enum RecordError {
    /// Not JSON at all (or truncated).
    #[error("not valid JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// JSON, but without an `event` object.
    #[error("not an archive record: no \"event\" object")]
    NoEvent,
}

impl RecordError {
    /// The one line every reader gives for the record at `key`.
    pub(crate) fn about(&self, key: &str) -> String {
        format!("record {key:?}: {self}")
    }
}

/// The fields of a record that readers use; the rest is checked to be JSON and skipped.
#[derive(Debug)]
pub(crate) struct StoredRecord<'a> {
    /// `event_time`, when the record has one.
    pub(crate) event_time: Option<DateTime<Utc>>,
    /// `received_at`, when the record has one.
    pub(crate) received_at: Option<DateTime<Utc>>,
    /// `outcome`, when the record has one this version knows (records archived before
    /// there was one have none).
    pub(crate) outcome: Option<Outcome>,
    /// `task_id`, when the record has one.
    pub(crate) task_id: Option<String>,
    /// `event`: the callback's JSON text as stored.
    pub(crate) event: &'a RawValue,
}

impl StoredRecord<'_> {
    /// When the callback happened: its `event_time`, else when it was received. Replays
    /// are sent in this order.
    pub(crate) fn time(&self) -> Option<DateTime<Utc>> {
        self.event_time.or(self.received_at)
    }
}

#[derive(Deserialize)]
struct Shape<'a> {
    #[serde(default)]
    event_time: Option<String>,
    #[serde(default)]
    received_at: Option<String>,
    #[serde(default)]
    outcome: Option<String>,
    // Any JSON: a record is not refused over a field readers only use to group sends.
    #[serde(default)]
    task_id: Option<serde_json::Value>,
    #[serde(borrow, default)]
    event: Option<&'a RawValue>,
}

/// The digest the key of a record holding `event` was made with: the function's own rule
/// (the digest of the event with its credentials masked, [`crate::record::redact`] then
/// [`crate::digest::digest`]), so a stored event, redacted or not, gives its key's digest
/// back unless its content was changed.
pub(crate) fn content_digest(event: &RawValue) -> Result<String, RecordError> {
    let v: serde_json::Value = serde_json::from_str(event.get())?;
    Ok(crate::digest::digest_masked(&v))
}

/// Whether `event` no longer matches `key_digest`, the digest its key was made with.
pub(crate) fn is_modified(event: &RawValue, key_digest: &str) -> Result<bool, RecordError> {
    Ok(content_digest(event)? != key_digest)
}

/// Reads a stored record's bytes; the whole document must be JSON, with an `event` object.
pub(crate) fn parse(body: &[u8]) -> Result<StoredRecord<'_>, RecordError> {
    let shape: Shape<'_> = serde_json::from_slice(body)?;
    let event = shape
        .event
        .filter(|e| e.get().starts_with('{'))
        .ok_or(RecordError::NoEvent)?;
    // A time that does not parse orders like a missing one; it never hides the record.
    let time = |t: Option<String>| {
        t.and_then(|t| DateTime::parse_from_rfc3339(&t).ok())
            .map(|t| t.with_timezone(&Utc))
    };
    Ok(StoredRecord {
        event_time: time(shape.event_time),
        received_at: time(shape.received_at),
        outcome: shape.outcome.as_deref().and_then(Outcome::parse),
        task_id: shape.task_id.and_then(|v| v.as_str().map(str::to_string)),
        event,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_event_text_exactly() {
        let body = br#"{"schema":"mps-cos-backup/record/v1","event_time":"2026-11-24T07:54:20Z",
            "received_at":"2026-11-24T07:54:21.318Z","event":{"N":123456789012345678901234567890,"F":1.10}}"#;
        let r = parse(body).unwrap();
        assert_eq!(
            r.event.get(),
            r#"{"N":123456789012345678901234567890,"F":1.10}"#
        );
        assert_eq!(
            r.time().map(|t| t.to_rfc3339()),
            Some("2026-11-24T07:54:20+00:00".to_string())
        );
        let r = parse(br#"{"event_time":null,"received_at":"2026-11-24T07:54:21Z","event":{}}"#)
            .unwrap();
        assert_eq!(
            r.time().map(|t| t.to_rfc3339()),
            Some("2026-11-24T07:54:21+00:00".to_string())
        );
    }

    #[test]
    fn the_digest_is_the_keys_whether_or_not_the_event_was_redacted() {
        let raw = serde_json::json!({"EventType": "WorkflowTask", "SecretKey": "s3cret",
            "Timestamp": 1, "N": 12345678901234567890123u128});
        let mut masked = raw.clone();
        crate::record::redact(&mut masked);
        let key_digest = crate::digest::digest(&masked);
        for stored in [&raw, &masked] {
            let body = serde_json::to_vec(&serde_json::json!({"event": stored})).unwrap();
            let r = parse(&body).unwrap();
            assert!(!is_modified(r.event, &key_digest).unwrap());
        }
        let body = br#"{"event":{"EventType":"WorkflowTask","SecretKey":"***","N":2}}"#;
        assert!(is_modified(parse(body).unwrap().event, &key_digest).unwrap());
    }

    #[test]
    fn rejects_what_is_not_a_record() {
        for bad in [&b"{\"event\":{}"[..], b"", b"nope", b"{\"event\":{}} x"] {
            let e = parse(bad).unwrap_err().to_string();
            assert!(e.starts_with("not valid JSON"), "{e}");
        }
        for bad in [&b"{}"[..], b"{\"event\":[1]}", b"[]"] {
            let e = parse(bad).map(|_| ()).unwrap_err();
            assert!(matches!(e, RecordError::NoEvent) || bad == b"[]", "{e}");
        }
    }
}
