//! The SDK-shaped models of the notifications that reach the function only as URL callbacks:
//! `ScheduleTask` (orchestrations), `ExtractBlindWatermark`, `BatchTask` and the live-stream
//! notifications (`ParseLiveStreamProcessNotification` shape).
//!
//! Field names and types follow the official SDK models (`tencentcloud.mps.v20190612.models`:
//! `ScheduleTask`, `ActivityResult`, `ActivityResItem`, `ExtractBlindWatermarkTask`,
//! `BatchSubTaskResult`, `ParseLiveStreamProcessNotificationResponse`,
//! `LiveStreamProcessErrorInfo`). As in `model`, every field is optional and lenient. The
//! media-processing results of an activity are the same structures a WorkflowTask carries;
//! the AI, rule and erase results are kept as raw JSON like the WorkflowTask's AI results.

use serde_json::{Map, Value};

use super::lenient;
use super::model::{
    MediaInputInfo, MediaMetaData, MediaProcessTaskAdaptiveDynamicStreamingResult,
    MediaProcessTaskAnimatedGraphicResult, MediaProcessTaskImageSpriteResult,
    MediaProcessTaskSampleSnapshotResult, MediaProcessTaskSnapshotByTimeOffsetResult,
    MediaProcessTaskTranscodeResult, SubtaskResult,
};

model! {
    /// `ScheduleTask`: the payload of `EventType` = `ScheduleTask` (`ScheduleTaskEvent`).
    #[derive(Debug)]
    pub struct ScheduleTask {
        /// Task id.
        pub task_id: String,
        /// WAITING | PROCESSING | FINISH.
        pub status: String,
        /// Non-zero only when the source failed; activities carry their own errors.
        pub err_code: i64,
        /// Error code string; not in the SDK model, honoured when non-empty.
        pub err_code_ext: String,
        /// Error message.
        pub message: String,
        /// Source media.
        pub input_info: MediaInputInfo,
        /// Source metadata.
        pub meta_data: MediaMetaData,
        /// One result per activity of the orchestration.
        pub activity_result_set: Vec<ActivityResult>,
    }
}

model! {
    /// `ActivityResult`: one activity of an orchestration and its result.
    #[derive(Debug)]
    pub struct ActivityResult {
        /// `Transcode`, `SnapshotByTimeOffset`, `AiRecognition`, ...
        pub activity_type: String,
        /// The result; one of its fields is filled.
        pub activity_res_item: ActivityResItem,
    }
}

model! {
    /// `ActivityResItem`: the media-processing results typed, the others raw.
    #[derive(Debug)]
    pub struct ActivityResItem {
        /// Transcode result.
        pub transcode_task: MediaProcessTaskTranscodeResult,
        /// Animated-graphics result.
        pub animated_graphic_task: MediaProcessTaskAnimatedGraphicResult,
        /// Snapshot-by-time-offset result.
        pub snapshot_by_time_offset_task: MediaProcessTaskSnapshotByTimeOffsetResult,
        /// Sampled-snapshot result.
        pub sample_snapshot_task: MediaProcessTaskSampleSnapshotResult,
        /// Image-sprite result.
        pub image_sprite_task: MediaProcessTaskImageSpriteResult,
        /// Adaptive-streaming result.
        pub adaptive_dynamic_streaming_task: MediaProcessTaskAdaptiveDynamicStreamingResult,
        /// `ScheduleRecognitionTaskResult`, raw.
        pub recognition_task: Value,
        /// `ScheduleReviewTaskResult`, raw.
        pub review_task: Value,
        /// `ScheduleAnalysisTaskResult`, raw.
        pub analysis_task: Value,
        /// `ScheduleQualityControlTaskResult`, raw.
        pub quality_control_task: Value,
        /// `ScheduleExecRuleTaskResult`, raw.
        pub exec_rule_task: Value,
        /// `ScheduleSmartSubtitleTaskResult`, raw.
        pub smart_subtitles_task: Value,
        /// `SmartEraseTaskResult`, raw.
        pub smart_erase_task: Value,
        /// `AIDubbingTaskResult`, raw (the SDK spells it `AIDubbingTask`).
        #[serde(rename = "AIDubbingTask")]
        pub ai_dubbing_task: Value,
    }
}

impl ActivityResItem {
    /// The filled media-processing result, when the activity is one.
    pub fn media(&self) -> Option<&dyn SubtaskResult> {
        filled_subtasks!(self).next()
    }

    /// The filled raw result (AI, rule, erase, dubbing), with its SDK field name.
    pub fn raw(&self) -> Option<(&'static str, &Map<String, Value>)> {
        [
            ("RecognitionTask", &self.recognition_task),
            ("ReviewTask", &self.review_task),
            ("AnalysisTask", &self.analysis_task),
            ("QualityControlTask", &self.quality_control_task),
            ("ExecRuleTask", &self.exec_rule_task),
            ("SmartSubtitlesTask", &self.smart_subtitles_task),
            ("SmartEraseTask", &self.smart_erase_task),
            ("AIDubbingTask", &self.ai_dubbing_task),
        ]
        .into_iter()
        .find_map(|(name, v)| match v {
            Some(Value::Object(m)) => Some((name, m)),
            _ => None,
        })
    }
}

model! {
    /// `ExtractBlindWatermarkTask`: the payload of `EventType` = `ExtractBlindWatermark`.
    #[derive(Debug)]
    pub struct ExtractBlindWatermarkTask {
        /// Task id.
        pub task_id: String,
        /// WAITING | PROCESSING | FINISH.
        pub status: String,
        /// 0 = success.
        pub err_code: i64,
        /// Error message.
        pub message: String,
        /// Source media.
        pub input_info: MediaInputInfo,
        /// `blind-basic` | `blind-ab`.
        pub r#type: String,
        /// Whether a watermark was found.
        pub is_detected: bool,
        /// The watermark's content, when found.
        pub result: String,
    }
}

model! {
    /// `BatchSubTaskResult`: the payload of `EventType` = `BatchTask`. It has no TaskId and
    /// no Status.
    #[derive(Debug)]
    pub struct BatchSubTaskResult {
        /// Source media, one per file of the batch.
        pub input_infos: Vec<MediaInputInfo>,
        /// Their metadata.
        pub metadatas: Vec<MediaMetaData>,
        /// `BatchSmartSubtitlesResult`, raw.
        pub smart_subtitles_task_result: Value,
    }
}

model! {
    /// A live-stream processing notification (`ParseLiveStreamProcessNotification` shape):
    /// the object itself, `NotificationType` telling which `*Info` is filled.
    #[derive(Debug)]
    pub struct LiveStreamNotification {
        /// `AiReviewResult`, `AiRecognitionResult`, `AiAnalysisResult`,
        /// `AiQualityControlResult`, `LiveRecordResult`, `AiSmartSubtitleResult`, `ProcessEof`.
        pub notification_type: String,
        /// The live-stream processing task.
        pub task_id: String,
        /// Why processing ended (`ProcessEof` only).
        pub process_eof_info: LiveStreamProcessErrorInfo,
    }
}

model! {
    /// `LiveStreamProcessErrorInfo`.
    #[derive(Debug)]
    pub struct LiveStreamProcessErrorInfo {
        /// 0 = the stream ended normally.
        pub err_code: i64,
        /// Message.
        pub message: String,
    }
}
