//! The archive record (README "The archive record"): what one archived callback is stored
//! as, built from its parsed event ([`build`]).
//!
//! Its parts, each in its own file: `normalize` reads the event's `error`, `inputs` and
//! `outputs` (the kinds that come by URL in `notify`); `outcome` classifies how the task
//! ended ([`Outcome`]); `redact` masks the credentials that travel inside events. Here:
//! the record's shape, and the dispatch on the event's kind that [`build`] and [`outcome()`]
//! share.

use std::fmt;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Serialize, Serializer};
use serde_json::Value;

use crate::event::{Event, ParsedEvent};

mod normalize;
mod notify;
mod outcome;
mod redact;

use normalize::Normalized;
pub use outcome::Outcome;
use outcome::{error_of, outcome_from};
pub use redact::{is_credential_key, redact, REDACTED};

/// Value of the record's `schema` field.
pub const SCHEMA: &str = "mps-cos-backup/record/v1";

/// One archived callback, serialized as the object body.
#[derive(Clone, Serialize)]
pub struct Record {
    /// Always [`SCHEMA`].
    pub(crate) schema: &'static str,
    /// `EventType`, or `unrecognized`.
    pub(crate) event_type: String,
    /// TaskId as sent (not sanitized).
    pub(crate) task_id: Option<String>,
    /// Status as sent.
    pub(crate) status: Option<String>,
    /// How the task ended (the rule is in `outcome`'s docs).
    pub outcome: Outcome,
    /// How the callback reached the archive.
    pub(crate) source: RecordSource,
    /// Latest subtask `FinishTime`, RFC 3339 UTC.
    #[serde(serialize_with = "ser_opt_time")]
    pub event_time: Option<DateTime<Utc>>,
    /// When the function received the event, RFC 3339 UTC.
    #[serde(serialize_with = "ser_time")]
    pub(crate) received_at: DateTime<Utc>,
    /// SCF request id of the invocation.
    pub request_id: Option<String>,
    /// Error of the task (the rule is in `normalize`'s docs).
    pub(crate) error: Option<ErrorInfo>,
    /// `SessionId`.
    pub(crate) session_id: Option<String>,
    /// `SessionContext`.
    pub(crate) session_context: Option<String>,
    /// Normalized source media.
    pub(crate) inputs: Vec<Input>,
    /// One per subtask result.
    pub(crate) outputs: Vec<Output>,
    /// The original event (redacted when configured).
    pub event: Value,
}

impl fmt::Debug for Record {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `event` may be unredacted: never print it.
        f.debug_struct("Record")
            .field("event_type", &self.event_type)
            .field("task_id", &self.task_id)
            .field("status", &self.status)
            .field("outcome", &self.outcome)
            .field("source", &self.source)
            .field("event_time", &self.event_time)
            .field("error", &self.error)
            .field("inputs", &self.inputs)
            .field("outputs", &self.outputs)
            .finish_non_exhaustive()
    }
}

fn ser_time<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&t.to_rfc3339_opts(SecondsFormat::AutoSi, true))
}

fn ser_opt_time<S: Serializer>(t: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => ser_time(t, s),
        None => s.serialize_none(),
    }
}

/// How a callback reached the archive (the record's `source`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RecordSource {
    /// Delivered by the MPS trigger (runtime mode).
    Trigger,
    /// POSTed to the function's URL by an MPS task's `NotifyUrl`.
    Url,
    /// Rebuilt from MPS's task details by a reconcile run.
    Reconcile,
    /// Read from a local file by the `invoke` command.
    Invoke,
}

/// `{code, message}` of a failed task or subtask.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct ErrorInfo {
    /// `ErrCodeExt`, or `ErrCode` as a decimal string.
    pub(crate) code: String,
    /// `Message` (empty when absent).
    pub(crate) message: String,
}

/// Normalized source media. Never carries credentials.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type")]
pub(crate) enum Input {
    /// COS object.
    #[serde(rename = "cos")]
    Cos {
        /// Bucket.
        bucket: Option<String>,
        /// Region.
        region: Option<String>,
        /// Object path.
        object: Option<String>,
    },
    /// URL.
    #[serde(rename = "url")]
    Url {
        /// URL.
        url: Option<String>,
    },
    /// AWS S3 object (secrets deliberately dropped).
    #[serde(rename = "aws-s3")]
    AwsS3 {
        /// Bucket.
        bucket: Option<String>,
        /// Region.
        region: Option<String>,
        /// Object key.
        object: Option<String>,
    },
    /// VOD media.
    #[serde(rename = "vod")]
    Vod {
        /// Bucket.
        bucket: Option<String>,
        /// Region.
        region: Option<String>,
        /// Object.
        object: Option<String>,
        /// VOD file id.
        file_id: Option<String>,
        /// VOD sub-application id.
        sub_app_id: Option<i64>,
    },
    /// A `Type` this model does not know, or none.
    #[serde(rename = "other")]
    Other {
        /// The `Type` string as sent.
        source_type: Option<String>,
    },
}

/// Where an output was written. Never carries credentials.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Storage {
    /// `cos`, `aws-s3`, `vod`, or the `Type` as sent lowercased.
    #[serde(rename = "type")]
    pub(crate) kind: String,
    /// Bucket.
    pub(crate) bucket: Option<String>,
    /// Region.
    pub(crate) region: Option<String>,
}

/// One subtask result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Output {
    /// Subtask type, e.g. `Transcode`, `AiAnalysis/Classification`, `EditMedia`.
    pub(crate) kind: String,
    /// Subtask status as sent.
    pub(crate) status: Option<String>,
    /// Output storage (from the output, else the subtask input's `OutputStorage`).
    pub(crate) storage: Option<Storage>,
    /// Every object path the subtask produced.
    pub(crate) paths: Vec<String>,
    /// Subtask error.
    pub(crate) error: Option<ErrorInfo>,
}

/// Builds the record of a callback that reached the archive through `source`. `redact`
/// replaces credential values in `event`.
pub fn build(
    parsed: &ParsedEvent,
    received_at: DateTime<Utc>,
    request_id: Option<&str>,
    source: RecordSource,
    redact: bool,
) -> Record {
    let mut rec = normalize(parsed, received_at, request_id, source);
    rec.event = parsed.raw.clone();
    if redact {
        self::redact(&mut rec.event);
    }
    rec
}

/// Like [`build`], but takes the parsed event by value and moves its JSON into the record
/// instead of copying it (saves a deep clone per event on the hot path).
pub fn build_owned(
    parsed: ParsedEvent,
    received_at: DateTime<Utc>,
    request_id: Option<&str>,
    source: RecordSource,
    redact: bool,
) -> Record {
    let mut rec = normalize(&parsed, received_at, request_id, source);
    rec.event = parsed.raw;
    if redact {
        self::redact(&mut rec.event);
    }
    rec
}

/// Every field but `event` (left null).
fn normalize(
    parsed: &ParsedEvent,
    received_at: DateTime<Utc>,
    request_id: Option<&str>,
    source: RecordSource,
) -> Record {
    let (error, inputs, outputs) = normalized(parsed);
    Record {
        schema: SCHEMA,
        event_type: parsed.event_type().to_owned(),
        task_id: parsed.task_id().map(str::to_owned),
        status: parsed.status().map(str::to_owned),
        outcome: classify(parsed, &outputs),
        source,
        event_time: parsed.event_time(),
        received_at,
        request_id: request_id.map(str::to_owned),
        error,
        session_id: parsed.session_id().map(str::to_owned),
        session_context: parsed.session_context().map(str::to_owned),
        inputs,
        outputs,
        event: Value::Null,
    }
}

fn normalized(parsed: &ParsedEvent) -> Normalized {
    match &parsed.event {
        Event::WorkflowTask(t) => normalize::normalize_workflow(t),
        Event::EditMediaTask(t) => normalize::normalize_edit(t),
        Event::ScheduleTask(t) => notify::normalize_schedule(t),
        Event::ExtractBlindWatermark(t) => notify::normalize_watermark(t),
        Event::BatchTask(t) => notify::normalize_batch(t),
        Event::LiveStreamProcess(n) => notify::normalize_live(n),
        Event::Other => (None, Vec::new(), Vec::new()),
    }
}

/// The record's `outcome` for an event (the rule is in `outcome`'s docs); what readers use
/// for records archived before the record had one.
pub(crate) fn outcome(parsed: &ParsedEvent) -> Outcome {
    classify(parsed, &normalized(parsed).2)
}

/// [`outcome()`], given the event's normalized outputs.
fn classify(parsed: &ParsedEvent, outputs: &[Output]) -> Outcome {
    let (status, err_code, err_code_ext) = match &parsed.event {
        Event::WorkflowTask(t) => (t.status.as_deref(), t.err_code, t.err_code_ext.as_deref()),
        Event::EditMediaTask(t) => (t.status.as_deref(), t.err_code, t.err_code_ext.as_deref()),
        Event::ScheduleTask(t) => (t.status.as_deref(), t.err_code, t.err_code_ext.as_deref()),
        Event::ExtractBlindWatermark(t) => (t.status.as_deref(), t.err_code, None),
        Event::LiveStreamProcess(n) => return notify::live_outcome(n),
        // A BatchTask has no Status; anything else has no typed model.
        Event::BatchTask(_) | Event::Other => return Outcome::Unknown,
    };
    let task_failed = error_of(err_code, None, err_code_ext, None).is_some();
    outcome_from(status, task_failed, outputs)
}
