//! The record's `error`, `inputs` and `outputs`, read from the typed event.
//!
//! Rules:
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
//!
//! Credentials never reach these fields: S3 inputs and storages keep bucket, region and
//! object only.

use serde_json::{Map, Value};

use super::outcome::error_of;
use super::{ErrorInfo, Input, Output, Storage};
use crate::event::{
    EditMediaTask, MediaInputInfo, MediaProcessTaskResult, SubtaskResult, TaskOutputStorage,
    WorkflowTask,
};

/// What normalizing an event gives: its `error`, `inputs` and `outputs`.
pub(super) type Normalized = (Option<ErrorInfo>, Vec<Input>, Vec<Output>);

pub(super) fn normalize_workflow(t: &WorkflowTask) -> Normalized {
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
pub(super) fn task_error(
    err_code: Option<i64>,
    message: Option<&str>,
    err_code_ext: Option<&str>,
    outputs: &[Output],
) -> Option<ErrorInfo> {
    error_of(err_code, message, err_code_ext, None)
        .or_else(|| outputs.iter().find_map(|o| o.error.clone()))
}

pub(super) fn normalize_edit(t: &EditMediaTask) -> Normalized {
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

pub(super) fn input_of(i: &MediaInputInfo) -> Input {
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
pub(super) fn subtask_output(kind: String, result: Option<&dyn SubtaskResult>) -> Output {
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
pub(super) fn raw_output(kind: String, task: Option<&Map<String, Value>>) -> Output {
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
