//! The archive record (README "The archive record") and credential redaction.
//!
//! Normalization rules:
//! - `error` of a WorkflowTask: the task-level `ErrCode`/`Message` when `ErrCode` is
//!   non-zero (deprecated there, but honoured); else the error of the first failed
//!   subtask, media-processing subtasks first, then AI results in the order review,
//!   analysis, recognition, quality control, subtitles, erase, dubbing. A subtask
//!   failed when `Status` is `FAIL`, or `ErrCodeExt` is non-empty, or `ErrCode` is
//!   non-zero. Its code is `ErrCodeExt` when non-empty, else `ErrCode` as a decimal
//!   string (so `code` is always a string).
//! - `error` of an EditMediaTask: `ErrCode` when non-zero. Other events: null.
//! - `inputs`: WorkflowTask `InputInfo`; EditMediaTask one per `FileInfoSet` entry.
//! - `outputs`: one per `MediaProcessResultSet` entry and per AI result entry
//!   (`kind` = `AiContentReview/<Type>`, ...); EditMediaTask one for its `Output` (or its
//!   failure when the task finished without one).

use std::fmt;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Serialize, Serializer};
use serde_json::{Map, Value};

use crate::event::{
    EditMediaTask, Event, MediaInputInfo, MediaProcessTaskResult, ParsedEvent, TaskOutputStorage,
    WorkflowTask,
};

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

/// Builds the record. `redact` replaces credential values in `event`.
pub fn build(
    parsed: &ParsedEvent,
    received_at: DateTime<Utc>,
    request_id: Option<&str>,
    redact: bool,
) -> Record {
    let mut rec = normalize(parsed, received_at, request_id);
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
    redact: bool,
) -> Record {
    let mut rec = normalize(&parsed, received_at, request_id);
    rec.event = parsed.raw;
    if redact {
        self::redact(&mut rec.event);
    }
    rec
}

/// Every field but `event` (left null).
fn normalize(parsed: &ParsedEvent, received_at: DateTime<Utc>, request_id: Option<&str>) -> Record {
    let (error, inputs, outputs) = match &parsed.event {
        Event::WorkflowTask(t) => normalize_workflow(t),
        Event::EditMediaTask(t) => normalize_edit(t),
        Event::Other => (None, Vec::new(), Vec::new()),
    };
    Record {
        schema: SCHEMA,
        event_type: parsed.event_type().to_owned(),
        task_id: parsed.task_id().map(str::to_owned),
        status: parsed.status().map(str::to_owned),
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
    let error = error_of(t.err_code, t.message.as_deref(), None, None)
        .or_else(|| outputs.iter().find_map(|o| o.error.clone()));
    (error, inputs, outputs)
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
    let error = error_of(t.err_code, t.message.as_deref(), None, None);
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
/// have no `ErrCodeExt` or `Status` to consult (`None`).
fn error_of(
    err_code: Option<i64>,
    message: Option<&str>,
    err_code_ext: Option<&str>,
    status: Option<&str>,
) -> Option<ErrorInfo> {
    let code_ext = err_code_ext.filter(|c| !c.is_empty());
    let num = err_code.filter(|c| *c != 0);
    let failed = code_ext.is_some() || num.is_some() || status == Some("FAIL");
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
    // CoverBySnapshot has no result field in the SDK model; unknown types likewise.
    let Some(t) = r.subtasks().next() else {
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

    #[test]
    fn redact_deep_value_does_not_overflow() {
        let mut v = json!("SecretToken-leaf");
        for _ in 0..500 {
            v = json!({ "Token": "t", "n": [v] });
        }
        assert_eq!(redact(&mut v), 500);
    }
}
