//! [`SubtaskResult`]: what all six media-processing subtask results carry, so that readers
//! walk them through one interface, and the one walk over the six result fields that both a
//! `MediaProcessResultSet` entry and an orchestration activity hold.

use super::media::TaskOutputStorage;
use super::media_process::{
    MediaProcessTaskAdaptiveDynamicStreamingResult, MediaProcessTaskAnimatedGraphicResult,
    MediaProcessTaskImageSpriteResult, MediaProcessTaskResult,
    MediaProcessTaskSampleSnapshotResult, MediaProcessTaskSnapshotByTimeOffsetResult,
    MediaProcessTaskTranscodeResult,
};

/// What every media-processing subtask result (`MediaProcessTask*Result`) carries, whatever
/// its kind, so that readers walk the six kinds through one interface.
pub trait SubtaskResult {
    /// PROCESSING | SUCCESS | FAIL, as sent.
    fn status(&self) -> Option<&str>;
    /// Error code string, empty on success.
    fn err_code_ext(&self) -> Option<&str>;
    /// Legacy numeric error code.
    fn err_code(&self) -> Option<i64>;
    /// Error message.
    fn message(&self) -> Option<&str>;
    /// ISO-8601 end of processing, as sent.
    fn finish_time(&self) -> Option<&str>;
    /// Storage the output names (`OutputStorage` or `Storage`, depending on the kind).
    fn output_storage(&self) -> Option<&TaskOutputStorage>;
    /// Storage the subtask's input asked for (`Input.OutputStorage`).
    fn input_storage(&self) -> Option<&TaskOutputStorage>;
    /// Every object path the output names, in the order sent.
    fn paths(&self) -> Vec<&str>;
}

/// Implements [`SubtaskResult`] for one kind: the common fields have the same names in all
/// six; the output's storage field and its paths differ.
macro_rules! subtask_result {
    ($ty:ty, storage: $storage:ident, paths: |$o:ident| $paths:expr) => {
        impl SubtaskResult for $ty {
            fn status(&self) -> Option<&str> {
                self.status.as_deref()
            }
            fn err_code_ext(&self) -> Option<&str> {
                self.err_code_ext.as_deref()
            }
            fn err_code(&self) -> Option<i64> {
                self.err_code
            }
            fn message(&self) -> Option<&str> {
                self.message.as_deref()
            }
            fn finish_time(&self) -> Option<&str> {
                self.finish_time.as_deref()
            }
            fn output_storage(&self) -> Option<&TaskOutputStorage> {
                self.output.as_ref()?.$storage.as_ref()
            }
            fn input_storage(&self) -> Option<&TaskOutputStorage> {
                self.input.as_ref()?.output_storage.as_ref()
            }
            fn paths(&self) -> Vec<&str> {
                match &self.output {
                    Some($o) => $paths,
                    None => Vec::new(),
                }
            }
        }
    };
}

subtask_result!(MediaProcessTaskTranscodeResult, storage: output_storage,
    paths: |o| o.path.as_deref().into_iter().collect());
subtask_result!(MediaProcessTaskAnimatedGraphicResult, storage: storage,
    paths: |o| o.path.as_deref().into_iter().collect());
subtask_result!(MediaProcessTaskSnapshotByTimeOffsetResult, storage: storage,
    paths: |o| o.pic_info_set.iter().flatten().filter_map(|p| p.path.as_deref()).collect());
subtask_result!(MediaProcessTaskSampleSnapshotResult, storage: storage,
    paths: |o| o.image_path_set.iter().flatten().map(String::as_str).collect());
subtask_result!(MediaProcessTaskImageSpriteResult, storage: storage,
paths: |o| {
    let sheets = o.image_path_set.iter().flatten().map(String::as_str);
    sheets.chain(o.web_vtt_path.as_deref()).collect()
});
subtask_result!(MediaProcessTaskAdaptiveDynamicStreamingResult, storage: storage,
    paths: |o| o.path.as_deref().into_iter().collect());

/// The filled results among the six media-processing fields of `$holder` (one of the
/// structures that carry all six under the SDK's names), in the SDK's field order, as an
/// iterator of [`SubtaskResult`]s.
macro_rules! filled_subtasks {
    ($holder:expr) => {{
        let h = $holder;
        let all: [Option<&dyn $crate::event::SubtaskResult>; 6] = [
            h.transcode_task.as_ref().map(|t| t as _),
            h.animated_graphic_task.as_ref().map(|t| t as _),
            h.snapshot_by_time_offset_task.as_ref().map(|t| t as _),
            h.sample_snapshot_task.as_ref().map(|t| t as _),
            h.image_sprite_task.as_ref().map(|t| t as _),
            h.adaptive_dynamic_streaming_task.as_ref().map(|t| t as _),
        ];
        all.into_iter().flatten()
    }};
}

impl MediaProcessTaskResult {
    /// The filled subtask results of this entry, in the SDK's field order. MPS fills the
    /// one `Type` names; `CoverBySnapshot` and unknown types fill none.
    pub fn subtasks(&self) -> impl Iterator<Item = &dyn SubtaskResult> {
        filled_subtasks!(self)
    }
}
