//! The archive record (README "The archive record") and credential redaction.
//!
//! Normalization rules:
//! - `error` of a WorkflowTask: the task-level `ErrCode`/`Message` when `ErrCode` is
//!   non-zero (deprecated there, but honoured); else the error of the first failed
//!   subtask, media-processing subtasks first, then AI results in the order review,
//!   analysis, recognition, quality control, subtitles, erase, dubbing. A subtask
//!   failed when `Status` is `FAIL` (in any case), or `ErrCodeExt` is non-empty, or
//!   `ErrCode` is non-zero. Its code is `ErrCodeExt` when non-empty, else `ErrCode` as a
//!   decimal string (so `code` is always a string). A task's own non-empty `ErrCodeExt`
//!   counts like its non-zero `ErrCode`.
//! - `error` of an EditMediaTask: `ErrCode` when non-zero. Other events: null.
//! - `inputs`: WorkflowTask `InputInfo`; EditMediaTask one per `FileInfoSet` entry.
//! - `outputs`: one per `MediaProcessResultSet` entry and per AI result entry
//!   (`kind` = `AiContentReview/<Type>`, ...); EditMediaTask one for its `Output` (or its
//!   failure when the task finished without one).
//! - `outcome` ([`Outcome`]): from the task's `Status` (case-insensitive): `WAITING` or
//!   `PROCESSING` is `running`; `FAIL`, `FAILED` or `ERROR` is `failed`; `FINISH` or
//!   `SUCCESS` is `failed` when the task itself failed (`ErrCode` non-zero or `ErrCodeExt`
//!   non-empty) or every subtask result failed, `partial` when some failed and others did
//!   not, else `ok`; anything else, no `Status`, or an event without a typed model, is
//!   `unknown`. A subtask result counts when it has a status or an error, and failed by the
//!   `error` rule above. A `ScheduleTask` is classified the same way, its activities as the
//!   subtasks; the other kinds that come by URL are in `notify`.

use std::fmt;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Serialize, Serializer};
use serde_json::{Map, Value};

use crate::event::{
    EditMediaTask, Event, MediaInputInfo, MediaProcessTaskResult, ParsedEvent, SubtaskResult,
    TaskOutputStorage, WorkflowTask,
};

mod notify;

/// Value of the record's `schema` field.
pub const SCHEMA: &str = "mps-cos-backup/record/v1";

/// Replacement written over credential values.
pub const REDACTED: &str = "***";

/// One archived callback, serialized as the object body.
#[derive(Clone, Serialize)]
pub struct Record {
    /// Always [`SCHEMA`].
    pub schema: &'static str,
    /// `EventType`, or `unrecognized`.
    pub event_type: String,
    /// TaskId as sent (not sanitized).
    pub task_id: Option<String>,
    /// Status as sent.
    pub status: Option<String>,
    /// How the task ended (see module docs).
    pub outcome: Outcome,
    /// How the callback reached the archive.
    pub source: Source,
    /// Latest subtask `FinishTime`, RFC 3339 UTC.
    #[serde(serialize_with = "ser_opt_time")]
    pub event_time: Option<DateTime<Utc>>,
    /// When the function received the event, RFC 3339 UTC.
    #[serde(serialize_with = "ser_time")]
    pub received_at: DateTime<Utc>,
    /// SCF request id of the invocation.
    pub request_id: Option<String>,
    /// Error of the task (see module docs for the rule).
    pub error: Option<ErrorInfo>,
    /// `SessionId`.
    pub session_id: Option<String>,
    /// `SessionContext`.
    pub session_context: Option<String>,
    /// Normalized source media.
    pub inputs: Vec<Input>,
    /// One per subtask result.
    pub outputs: Vec<Output>,
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

/// How a task ended, as the record's `outcome`, the key's `{outcome}` and the
/// `x-cos-meta-task-outcome` metadata show it (lowercase).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// Finished and nothing failed.
    Ok,
    /// The task failed, or every subtask result did.
    Failed,
    /// The task finished, some subtask results failed and others did not.
    Partial,
    /// Waiting or processing: not ended yet.
    Running,
    /// No typed model, no `Status`, or a `Status` this rule does not know.
    Unknown,
}

impl Outcome {
    /// Every outcome, in the order readers sort them.
    pub const ALL: [Outcome; 5] = [
        Outcome::Ok,
        Outcome::Failed,
        Outcome::Partial,
        Outcome::Running,
        Outcome::Unknown,
    ];

    /// The lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Failed => "failed",
            Outcome::Partial => "partial",
            Outcome::Running => "running",
            Outcome::Unknown => "unknown",
        }
    }

    /// The outcome named `name` (case-insensitive).
    pub fn parse(name: &str) -> Option<Outcome> {
        Outcome::ALL
            .into_iter()
            .find(|o| o.as_str().eq_ignore_ascii_case(name))
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a callback reached the archive (the record's `source`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
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
pub struct ErrorInfo {
    /// `ErrCodeExt`, or `ErrCode` as a decimal string.
    pub code: String,
    /// `Message` (empty when absent).
    pub message: String,
}

/// Normalized source media. Never carries credentials.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type")]
pub enum Input {
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
pub struct Storage {
    /// `cos`, `aws-s3`, `vod`, or the `Type` as sent lowercased.
    #[serde(rename = "type")]
    pub kind: String,
    /// Bucket.
    pub bucket: Option<String>,
    /// Region.
    pub region: Option<String>,
}

/// One subtask result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Output {
    /// Subtask type, e.g. `Transcode`, `AiAnalysis/Classification`, `EditMedia`.
    pub kind: String,
    /// Subtask status as sent.
    pub status: Option<String>,
    /// Output storage (from the output, else the subtask input's `OutputStorage`).
    pub storage: Option<Storage>,
    /// Every object path the subtask produced.
    pub paths: Vec<String>,
    /// Subtask error.
    pub error: Option<ErrorInfo>,
}

/// Builds the record of a callback that reached the archive through `source`. `redact`
/// replaces credential values in `event`.
pub fn build(
    parsed: &ParsedEvent,
    received_at: DateTime<Utc>,
    request_id: Option<&str>,
    source: Source,
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
    source: Source,
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
    source: Source,
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

type Normalized = (Option<ErrorInfo>, Vec<Input>, Vec<Output>);

fn normalized(parsed: &ParsedEvent) -> Normalized {
    match &parsed.event {
        Event::WorkflowTask(t) => normalize_workflow(t),
        Event::EditMediaTask(t) => normalize_edit(t),
        Event::ScheduleTask(t) => notify::normalize_schedule(t),
        Event::ExtractBlindWatermark(t) => notify::normalize_watermark(t),
        Event::BatchTask(t) => notify::normalize_batch(t),
        Event::LiveStreamProcess(n) => notify::normalize_live(n),
        Event::Other => (None, Vec::new(), Vec::new()),
    }
}

/// The record's `outcome` for an event (see module docs); what readers use for records
/// archived before the record had one.
pub fn outcome(parsed: &ParsedEvent) -> Outcome {
    classify(parsed, &normalized(parsed).2)
}

/// [`outcome`], given the event's normalized outputs.
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

/// The outcome rule: the task's `Status`, whether the task itself failed, and its subtask
/// results (a result without status or error, like `CoverBySnapshot`'s, does not count).
fn outcome_from(status: Option<&str>, task_failed: bool, results: &[Output]) -> Outcome {
    let Some(status) = status else {
        return Outcome::Unknown;
    };
    let is = |name: &str| status.eq_ignore_ascii_case(name);
    if is("WAITING") || is("PROCESSING") {
        return Outcome::Running;
    }
    if is("FAIL") || is("FAILED") || is("ERROR") {
        return Outcome::Failed;
    }
    if !is("FINISH") && !is("SUCCESS") {
        return Outcome::Unknown;
    }
    if task_failed {
        return Outcome::Failed;
    }
    let counted = results
        .iter()
        .filter(|o| o.status.is_some() || o.error.is_some());
    let (total, failed) = counted.fold((0usize, 0usize), |(n, f), o| {
        (n + 1, f + usize::from(o.error.is_some()))
    });
    match failed {
        0 => Outcome::Ok,
        f if f == total => Outcome::Failed,
        _ => Outcome::Partial,
    }
}

fn normalize_workflow(t: &WorkflowTask) -> Normalized {
    let inputs = t.input_info.as_ref().map(input_of).into_iter().collect();
    let mut outputs: Vec<Output> = t
        .media_process_result_set
        .iter()
        .flatten()
        .map(media_output)
        .collect();
    let ai_sets = [
        ("AiContentReview", &t.ai_content_review_result_set),
        ("AiAnalysis", &t.ai_analysis_result_set),
        ("AiRecognition", &t.ai_recognition_result_set),
    ];
    for (family, set) in ai_sets {
        for ai in set.iter().flatten() {
            let kind = format!("{family}/{}", ai.r#type.as_deref().unwrap_or("unknown"));
            outputs.push(raw_output(kind, ai.task().map(|(_, m)| m)));
        }
    }
    if let Some(Value::Object(m)) = &t.ai_quality_control_task_result {
        outputs.push(raw_output("AiQualityControl".to_owned(), Some(m)));
    }
    for ai in t.smart_subtitles_task_result.iter().flatten() {
        let kind = format!(
            "SmartSubtitles/{}",
            ai.r#type.as_deref().unwrap_or("unknown")
        );
        outputs.push(raw_output(kind, ai.task().map(|(_, m)| m)));
    }
    if let Some(Value::Object(m)) = &t.smart_erase_task_result {
        outputs.push(raw_output("SmartErase".to_owned(), Some(m)));
    }
    if let Some(Value::Object(m)) = &t.ai_dubbing_task_result {
        outputs.push(raw_output("AiDubbing".to_owned(), Some(m)));
    }
    let error = task_error(
        t.err_code,
        t.message.as_deref(),
        t.err_code_ext.as_deref(),
        &outputs,
    );
    (error, inputs, outputs)
}

/// The `error` of a task with subtasks (WorkflowTask, ScheduleTask): its own when it failed,
/// else the first failed subtask's, in the order of `outputs`.
fn task_error(
    err_code: Option<i64>,
    message: Option<&str>,
    err_code_ext: Option<&str>,
    outputs: &[Output],
) -> Option<ErrorInfo> {
    error_of(err_code, message, err_code_ext, None)
        .or_else(|| outputs.iter().find_map(|o| o.error.clone()))
}

fn normalize_edit(t: &EditMediaTask) -> Normalized {
    let inputs = t
        .input
        .as_ref()
        .and_then(|i| i.file_info_set.as_ref())
        .into_iter()
        .flatten()
        .map(|f| match &f.input_info {
            Some(i) => input_of(i),
            None => Input::Other { source_type: None },
        })
        .collect();
    let error = error_of(
        t.err_code,
        t.message.as_deref(),
        t.err_code_ext.as_deref(),
        None,
    );
    let mut outputs = Vec::new();
    if t.output.is_some() || error.is_some() {
        let out = t.output.clone().unwrap_or_default();
        outputs.push(Output {
            kind: "EditMedia".to_owned(),
            status: t.status.clone(),
            storage: out.output_storage.as_ref().map(storage_of),
            paths: out.path.into_iter().collect(),
            error: error.clone(),
        });
    }
    (error, inputs, outputs)
}

/// `{code, message}` when the (sub)task failed; see the module docs. Task-level errors
/// have no `Status` to consult (`None`): a task's `Status` says whether it ended, not how.
fn error_of(
    err_code: Option<i64>,
    message: Option<&str>,
    err_code_ext: Option<&str>,
    status: Option<&str>,
) -> Option<ErrorInfo> {
    let code_ext = err_code_ext.filter(|c| !c.is_empty());
    let num = err_code.filter(|c| *c != 0);
    let failed = code_ext.is_some()
        || num.is_some()
        || status.is_some_and(|s| s.eq_ignore_ascii_case("FAIL"));
    failed.then(|| ErrorInfo {
        code: code_ext
            .map(str::to_owned)
            .or_else(|| num.map(|n| n.to_string()))
            .unwrap_or_else(|| "FAIL".to_owned()),
        message: message.unwrap_or_default().to_owned(),
    })
}

fn input_of(i: &MediaInputInfo) -> Input {
    let ty = i.r#type.as_deref().map(str::to_ascii_uppercase);
    // `Type` decides; when it is absent the filled info object does.
    let ty = ty.as_deref().or(if i.cos_input_info.is_some() {
        Some("COS")
    } else if i.url_input_info.is_some() {
        Some("URL")
    } else if i.s3_input_info.is_some() {
        Some("AWS-S3")
    } else if i.vod_input_info.is_some() {
        Some("VOD")
    } else {
        None
    });
    match ty {
        Some("COS") => {
            let c = i.cos_input_info.clone().unwrap_or_default();
            Input::Cos {
                bucket: c.bucket,
                region: c.region,
                object: c.object,
            }
        }
        Some("URL") => Input::Url {
            url: i.url_input_info.as_ref().and_then(|u| u.url.clone()),
        },
        Some("AWS-S3") => {
            let s = i.s3_input_info.as_ref();
            Input::AwsS3 {
                bucket: s.and_then(|s| s.s3_bucket.clone()),
                region: s.and_then(|s| s.s3_region.clone()),
                object: s.and_then(|s| s.s3_object.clone()),
            }
        }
        Some("VOD") => {
            let v = i.vod_input_info.clone().unwrap_or_default();
            Input::Vod {
                bucket: v.bucket,
                region: v.region,
                object: v.object,
                file_id: v.file_id,
                sub_app_id: v.sub_app_id,
            }
        }
        _ => Input::Other {
            source_type: i.r#type.clone(),
        },
    }
}

fn storage_of(s: &TaskOutputStorage) -> Storage {
    let ty = s.r#type.as_deref().map(str::to_ascii_uppercase);
    let ty = ty.as_deref().or(if s.cos_output_storage.is_some() {
        Some("COS")
    } else if s.s3_output_storage.is_some() {
        Some("AWS-S3")
    } else if s.vod_output_storage.is_some() {
        Some("VOD")
    } else {
        None
    });
    let (kind, bucket, region) = match ty {
        Some("COS") => {
            let c = s.cos_output_storage.as_ref();
            (
                "cos".to_owned(),
                c.and_then(|c| c.bucket.clone()),
                c.and_then(|c| c.region.clone()),
            )
        }
        Some("AWS-S3") => {
            let c = s.s3_output_storage.as_ref();
            (
                "aws-s3".to_owned(),
                c.and_then(|c| c.s3_bucket.clone()),
                c.and_then(|c| c.s3_region.clone()),
            )
        }
        Some("VOD") => {
            let c = s.vod_output_storage.as_ref();
            (
                "vod".to_owned(),
                c.and_then(|c| c.bucket.clone()),
                c.and_then(|c| c.region.clone()),
            )
        }
        Some(other) => (other.to_ascii_lowercase(), None, None),
        None => ("unknown".to_owned(), None, None),
    };
    Storage {
        kind,
        bucket,
        region,
    }
}

/// Output of a media-processing subtask: the first filled subtask result of the entry.
fn media_output(r: &MediaProcessTaskResult) -> Output {
    let kind = r.r#type.clone().unwrap_or_else(|| "unknown".to_owned());
    subtask_output(kind, r.subtasks().next())
}

/// Output of one media-processing result (`None`: the entry filled none).
fn subtask_output(kind: String, result: Option<&dyn SubtaskResult>) -> Output {
    // CoverBySnapshot has no result field in the SDK model; unknown types likewise.
    let Some(t) = result else {
        return Output {
            kind,
            status: None,
            storage: None,
            paths: Vec::new(),
            error: None,
        };
    };
    Output {
        kind,
        status: t.status().map(str::to_owned),
        storage: t.output_storage().or(t.input_storage()).map(storage_of),
        paths: t.paths().into_iter().map(str::to_owned).collect(),
        error: error_of(t.err_code(), t.message(), t.err_code_ext(), t.status()),
    }
}

/// Output of an AI / raw-kept subtask: status, error and, best effort, its storage and paths.
fn raw_output(kind: String, task: Option<&Map<String, Value>>) -> Output {
    let Some(task) = task else {
        return Output {
            kind,
            status: None,
            storage: None,
            paths: Vec::new(),
            error: None,
        };
    };
    let s = |k: &str| task.get(k).and_then(Value::as_str);
    let status = s("Status");
    let err_code = task.get("ErrCode").and_then(Value::as_i64);
    let error = error_of(err_code, s("Message"), s("ErrCodeExt"), status);
    let status = status.map(str::to_owned);
    let out = task.get("Output").and_then(Value::as_object);
    let storage_val = out
        .and_then(|o| o.get("OutputStorage").or_else(|| o.get("Storage")))
        .or_else(|| task.get("Input").and_then(|i| i.get("OutputStorage")));
    let storage = storage_val
        .and_then(|v| serde::Deserialize::deserialize(v).ok())
        .map(|s: TaskOutputStorage| storage_of(&s));
    let paths = out.map(ai_paths).unwrap_or_default();
    Output {
        kind,
        status,
        storage,
        paths,
        error,
    }
}

/// Object paths of an AI output: string values of keys ending in `Path` (`Path`,
/// `SubtitlePath`, ...) in the output and in the objects of its arrays (`CoverSet[].CoverPath`).
/// `Url` values are not paths in the user's storage and are left out.
fn ai_paths(out: &Map<String, Value>) -> Vec<String> {
    let mut paths = Vec::new();
    let mut take = |m: &Map<String, Value>| {
        for (k, v) in m {
            if let Value::String(p) = v {
                if k.ends_with("Path") && !p.is_empty() {
                    paths.push(p.clone());
                }
            }
        }
    };
    take(out);
    for v in out.values() {
        if let Value::Array(items) = v {
            items
                .iter()
                .filter_map(Value::as_object)
                .for_each(&mut take);
        }
    }
    paths
}

/// Replaces, in place and at any depth, the value of every credential-named key (see
/// [`is_credential_key`]) with [`REDACTED`]; returns how many values it replaced.
///
/// The value's type does not matter: a string, number, boolean, array or object under such
/// a key becomes `"***"` as a whole, because a secret can hide in any of them
/// (`"Token": ["..."]`, `"SecretKey": {"v": "..."}`). `null` stays `null`: it carries
/// nothing, and keeping it tells a reader the field was empty. A value that already is
/// `"***"` is neither replaced nor counted, so redacting twice changes nothing.
pub fn redact(value: &mut Value) -> usize {
    // Explicit stack: events may nest up to the parser's limit, this never recurses.
    let mut count = 0;
    let mut stack: Vec<&mut Value> = vec![value];
    while let Some(v) = stack.pop() {
        match v {
            Value::Object(m) => {
                for (k, child) in m.iter_mut() {
                    if is_credential_key(k) {
                        let masked = match child {
                            Value::Null => true,
                            Value::String(s) => s == REDACTED,
                            _ => false,
                        };
                        if !masked {
                            *child = Value::String(REDACTED.to_owned());
                            count += 1;
                        }
                    } else if child.is_object() || child.is_array() {
                        stack.push(child);
                    }
                }
            }
            Value::Array(a) => stack.extend(a.iter_mut().filter(|c| c.is_object() || c.is_array())),
            _ => {}
        }
    }
    count
}

/// True when a key names a credential: it ends, compared case-insensitively, in `SecretId`,
/// `SecretKey`, `Token`, `Password`, `NotifyKey` or `StreamKey` (`S3SecretId`, `s3secretkey`,
/// `SessionToken`; not `TokenType`).
pub fn is_credential_key(name: &str) -> bool {
    const SUFFIXES: [&str; 6] = [
        "secretid",
        "secretkey",
        "token",
        "password",
        "notifykey",
        "streamkey",
    ];
    let b = name.as_bytes();
    SUFFIXES
        .iter()
        .any(|s| b.len() >= s.len() && b[b.len() - s.len()..].eq_ignore_ascii_case(s.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn credential_keys() {
        for k in [
            "S3SecretId",
            "s3secretkey",
            "SECRETID",
            "Token",
            "SessionToken",
            "x-password",
            "NotifyKey",
            "streamKEY",
        ] {
            assert!(is_credential_key(k), "{k}");
        }
        for k in [
            "",
            "Secret",
            "SecretIdx",
            "Tokens",
            "Key",
            "Bucket",
            "TokenType",
            "ToKe",
        ] {
            assert!(!is_credential_key(k), "{k}");
        }
    }

    #[test]
    fn redact_counts_and_rules() {
        let mut v = json!({
            "S3SecretId": "AKID1", "S3SecretKey": "", "Token": 123, "Password": null,
            "NotifyKey": true, "deep": [{"a": {"StreamKey": "sk"}}, {"x": [{"secretid": 4.5}]}],
            "SessionToken": {"Inner": "kept", "InnerToken": "gone"}, "Plain": "AKID1",
            "AccessToken": ["a", {"b": 1}], "StreamKeys": "not a credential key"
        });
        assert_eq!(redact(&mut v), 8);
        assert_eq!(
            v,
            json!({
                "S3SecretId": "***", "S3SecretKey": "***", "Token": "***", "Password": null,
                "NotifyKey": "***", "deep": [{"a": {"StreamKey": "***"}}, {"x": [{"secretid": "***"}]}],
                "SessionToken": "***", "Plain": "AKID1",
                "AccessToken": "***", "StreamKeys": "not a credential key"
            })
        );
        assert_eq!(redact(&mut v), 0, "idempotent");
    }

    fn outcome_of(body: &str) -> Outcome {
        match crate::event::parse(body.as_bytes()) {
            Ok(p) => {
                let built = build(&p, DateTime::<Utc>::UNIX_EPOCH, None, Source::Invoke, true);
                assert_eq!(built.outcome, outcome(&p), "{body}");
                built.outcome
            }
            Err(e) => panic!("{body}: {e}"),
        }
    }

    /// A WorkflowTask event with task fields `task` and media subtasks `subs` (JSON text).
    fn workflow(task: &str, subs: &[&str]) -> String {
        let set: Vec<String> = subs
            .iter()
            .map(|s| format!(r#"{{"Type":"Transcode","TranscodeTask":{s}}}"#))
            .collect();
        format!(
            r#"{{"EventType":"WorkflowTask","WorkflowTaskEvent":{{"TaskId":"t"{task},"MediaProcessResultSet":[{}]}}}}"#,
            set.join(",")
        )
    }

    const OK: &str = r#"{"Status":"SUCCESS","ErrCode":0,"ErrCodeExt":""}"#;
    const FAIL: &str = r#"{"Status":"FAIL","ErrCode":0,"ErrCodeExt":"SourceFileError"}"#;

    #[test]
    fn workflow_outcomes() {
        let fin = r#","Status":"FINISH""#;
        for (task, subs, want) in [
            (fin, &[OK, OK][..], Outcome::Ok),
            (fin, &[][..], Outcome::Ok),
            (r#","Status":"success""#, &[OK][..], Outcome::Ok),
            // One subtask failed, another succeeded.
            (fin, &[FAIL, OK][..], Outcome::Partial),
            // Every subtask failed.
            (fin, &[FAIL, FAIL][..], Outcome::Failed),
            // The task's own error, whatever its subtasks say.
            (
                r#","Status":"FINISH","ErrCode":70000"#,
                &[OK][..],
                Outcome::Failed,
            ),
            (
                r#","Status":"FINISH","ErrCodeExt":"InternalError""#,
                &[OK][..],
                Outcome::Failed,
            ),
            (
                r#","Status":"FINISH","ErrCode":0,"ErrCodeExt":"""#,
                &[OK][..],
                Outcome::Ok,
            ),
            // A subtask fails by a non-zero ErrCode, a non-empty ErrCodeExt or Status FAIL,
            // in any case.
            (
                fin,
                &[r#"{"Status":"SUCCESS","ErrCode":30010}"#, OK][..],
                Outcome::Partial,
            ),
            (
                fin,
                &[r#"{"Status":"SUCCESS","ErrCodeExt":"X"}"#, OK][..],
                Outcome::Partial,
            ),
            (fin, &[r#"{"Status":"fail"}"#, OK][..], Outcome::Partial),
            // Still running.
            (r#","Status":"PROCESSING""#, &[FAIL][..], Outcome::Running),
            (r#","Status":"processing""#, &[][..], Outcome::Running),
            (r#","Status":"WAITING""#, &[][..], Outcome::Running),
            (r#","Status":"Waiting""#, &[][..], Outcome::Running),
            // A status that says failure.
            (r#","Status":"FAIL""#, &[OK][..], Outcome::Failed),
            (r#","Status":"failed""#, &[][..], Outcome::Failed),
            (r#","Status":"Error""#, &[][..], Outcome::Failed),
            // No status, one not listed, or one of the wrong type.
            ("", &[OK][..], Outcome::Unknown),
            (r#","Status":"PAUSED""#, &[][..], Outcome::Unknown),
            (r#","Status":7"#, &[][..], Outcome::Unknown),
        ] {
            let body = workflow(task, subs);
            assert_eq!(outcome_of(&body), want, "{body}");
        }
    }

    #[test]
    fn results_without_status_or_error_do_not_count() {
        // CoverBySnapshot has no result object: beside a failed transcode, nothing succeeded.
        let body = r#"{"EventType":"WorkflowTask","WorkflowTaskEvent":{"Status":"FINISH",
            "MediaProcessResultSet":[{"Type":"Transcode","TranscodeTask":{"Status":"FAIL"}},
            {"Type":"CoverBySnapshot"}]}}"#;
        assert_eq!(outcome_of(body), Outcome::Failed);
    }

    #[test]
    fn ai_results_are_subtask_results() {
        let body = r#"{"EventType":"WorkflowTask","WorkflowTaskEvent":{"Status":"FINISH",
            "MediaProcessResultSet":[{"Type":"Transcode","TranscodeTask":{"Status":"SUCCESS"}}],
            "AiContentReviewResultSet":[{"Type":"Porn","PornTask":{"Status":"FAIL","ErrCodeExt":"InternalError"}}]}}"#;
        assert_eq!(outcome_of(body), Outcome::Partial);
        let body = r#"{"EventType":"WorkflowTask","WorkflowTaskEvent":{"Status":"FINISH",
            "AiAnalysisResultSet":[{"Type":"Tag","TagTask":{"Status":"FAIL","ErrCode":10}}]}}"#;
        assert_eq!(outcome_of(body), Outcome::Failed);
    }

    #[test]
    fn edit_media_outcomes() {
        let edit = |task: &str| {
            format!(
                r#"{{"EventType":"EditMediaTask","EditMediaTaskEvent":{{"TaskId":"e"{task}}}}}"#
            )
        };
        for (task, want) in [
            (
                r#","Status":"FINISH","ErrCode":0,"Output":{"Path":"/a.mp4"}"#,
                Outcome::Ok,
            ),
            (
                r#","Status":"FINISH","ErrCode":40000,"Output":null"#,
                Outcome::Failed,
            ),
            (
                r#","Status":"FINISH","ErrCodeExt":"SourceError""#,
                Outcome::Failed,
            ),
            (r#","Status":"PROCESSING""#, Outcome::Running),
            (r#","Status":"finish""#, Outcome::Ok),
            ("", Outcome::Unknown),
        ] {
            let body = edit(task);
            assert_eq!(outcome_of(&body), want, "{body}");
        }
    }

    #[test]
    fn schedule_task_outcomes() {
        let sched = |task: &str, acts: &[&str]| {
            let acts: Vec<String> = acts
                .iter()
                .map(|t| format!(r#"{{"ActivityType":"Transcode","ActivityResItem":{{"TranscodeTask":{t},"ReviewTask":null}}}}"#))
                .collect();
            format!(
                r#"{{"EventType":"ScheduleTask","ScheduleTaskEvent":{{"TaskId":"s"{task},"ActivityResultSet":[{}]}}}}"#,
                acts.join(",")
            )
        };
        let fin = r#","Status":"FINISH","ErrCode":0"#;
        for (task, acts, want) in [
            (fin, &[OK, OK][..], Outcome::Ok),
            (fin, &[FAIL, OK][..], Outcome::Partial),
            (fin, &[FAIL][..], Outcome::Failed),
            (
                r#","Status":"FINISH","ErrCode":10"#,
                &[OK][..],
                Outcome::Failed,
            ),
            (r#","Status":"PROCESSING""#, &[][..], Outcome::Running),
            ("", &[OK][..], Outcome::Unknown),
        ] {
            let body = sched(task, acts);
            assert_eq!(outcome_of(&body), want, "{body}");
        }
        assert_eq!(
            outcome_of(r#"{"EventType":"ScheduleTask","ScheduleTaskEvent":null}"#),
            Outcome::Unknown
        );
    }

    #[test]
    fn events_without_a_typed_model_are_unknown() {
        for body in [
            r#"{"EventType":"LiveScheduleTask","LiveScheduleTaskEvent":{"TaskId":"l","Status":"FINISH"}}"#,
            r#"{"EventType":"WorkflowTask","WorkflowTaskEvent":null}"#,
            r#"{"Status":"FINISH"}"#,
        ] {
            assert_eq!(outcome_of(body), Outcome::Unknown, "{body}");
        }
    }

    #[test]
    fn outcome_and_source_names() {
        for o in Outcome::ALL {
            assert_eq!(serde_json::to_value(o).ok(), Some(json!(o.as_str())));
            assert_eq!(Outcome::parse(&o.as_str().to_ascii_uppercase()), Some(o));
        }
        assert_eq!(Outcome::parse("fail"), None);
        let names: Vec<Value> = [
            Source::Trigger,
            Source::Url,
            Source::Reconcile,
            Source::Invoke,
        ]
        .iter()
        .filter_map(|s| serde_json::to_value(s).ok())
        .collect();
        assert_eq!(
            names,
            [
                json!("trigger"),
                json!("url"),
                json!("reconcile"),
                json!("invoke")
            ]
        );
    }

    #[test]
    fn redact_deep_value_does_not_overflow() {
        let mut v = json!("SecretToken-leaf");
        for _ in 0..500 {
            v = json!({ "Token": "t", "n": [v] });
        }
        assert_eq!(redact(&mut v), 500);
    }
}
