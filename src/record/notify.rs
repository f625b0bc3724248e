//! Normalizing the kinds that reach the archive as URL callbacks.
//!
//! - `ScheduleTask`: `inputs` its `InputInfo`; `outputs` one per activity (`kind` its
//!   `ActivityType`), a media-processing result read like a WorkflowTask's, an AI, rule or
//!   erase result like a WorkflowTask's AI results; `error` the task's own (non-zero
//!   `ErrCode`), else the first failed activity's.
//! - `ExtractBlindWatermark`: `inputs` its `InputInfo`, no outputs, `error` its `ErrCode`.
//! - `BatchTask`: `inputs` its `InputInfos`; no outputs and no error (it carries neither a
//!   status nor an error of its own), so its outcome is `unknown`.
//! - Live-stream notifications: no inputs or outputs; `error` a `ProcessEof` with a non-zero
//!   `ErrCode`, which is also the one live notification whose outcome is `failed`.

use super::normalize::{input_of, raw_output, subtask_output, task_error, Normalized};
use super::outcome::error_of;
use super::{Outcome, Output};
use crate::event::{
    BatchSubTaskResult, ExtractBlindWatermarkTask, LiveStreamNotification, ScheduleTask,
};

pub(super) fn normalize_schedule(t: &ScheduleTask) -> Normalized {
    let inputs = t.input_info.as_ref().map(input_of).into_iter().collect();
    let outputs: Vec<Output> = t
        .activity_result_set
        .iter()
        .flatten()
        .map(|a| {
            let kind = a
                .activity_type
                .clone()
                .unwrap_or_else(|| "unknown".to_owned());
            let Some(item) = &a.activity_res_item else {
                return subtask_output(kind, None);
            };
            match (item.media(), item.raw()) {
                (Some(media), _) => subtask_output(kind, Some(media)),
                (None, Some((_, raw))) => raw_output(kind, Some(raw)),
                (None, None) => subtask_output(kind, None),
            }
        })
        .collect();
    let error = task_error(
        t.err_code,
        t.message.as_deref(),
        t.err_code_ext.as_deref(),
        &outputs,
    );
    (error, inputs, outputs)
}

pub(super) fn normalize_watermark(t: &ExtractBlindWatermarkTask) -> Normalized {
    let inputs = t.input_info.as_ref().map(input_of).into_iter().collect();
    let error = error_of(t.err_code, t.message.as_deref(), None, None);
    (error, inputs, Vec::new())
}

pub(super) fn normalize_batch(t: &BatchSubTaskResult) -> Normalized {
    let inputs = t.input_infos.iter().flatten().map(input_of).collect();
    (None, inputs, Vec::new())
}

pub(super) fn normalize_live(n: &LiveStreamNotification) -> Normalized {
    (live_error(n), Vec::new(), Vec::new())
}

fn live_error(n: &LiveStreamNotification) -> Option<super::ErrorInfo> {
    let is_eof = n
        .notification_type
        .as_deref()
        .is_some_and(|t| t.eq_ignore_ascii_case("ProcessEof"));
    let info = n.process_eof_info.as_ref().filter(|_| is_eof)?;
    error_of(info.err_code, info.message.as_deref(), None, None)
}

/// A live-stream notification: `failed` for a `ProcessEof` with a non-zero `ErrCode`, `ok`
/// for every other one (each reports a result, not a state), `unknown` without a type.
pub(super) fn live_outcome(n: &LiveStreamNotification) -> Outcome {
    match n.notification_type.as_deref() {
        None | Some("") => Outcome::Unknown,
        Some(_) if live_error(n).is_some() => Outcome::Failed,
        Some(_) => Outcome::Ok,
    }
}
