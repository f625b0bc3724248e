//! The media-processing subtask results (`MediaProcessTaskResult` and the six kinds it
//! holds: transcode, animated graphics, snapshots by time offset, sampled snapshots, image
//! sprites, adaptive streaming), each with its input and its output item. A WorkflowTask
//! carries a list of them; an orchestration's activity carries one. `subtask` reads them all
//! through one interface.

use serde_json::Value;

use super::media::{MediaAudioStreamItem, MediaVideoStreamItem, TaskOutputStorage};
use crate::event::lenient;

model! {
    /// `MediaProcessTaskResult`: one media-processing subtask; `Type` tells which field is set.
    #[derive(Debug)]
    pub struct MediaProcessTaskResult {
        /// Transcode | AnimatedGraphics | SnapshotByTimeOffset | SampleSnapshot | ImageSprites | CoverBySnapshot | AdaptiveDynamicStreaming.
        pub r#type: String,
        /// Transcode result.
        pub transcode_task: MediaProcessTaskTranscodeResult,
        /// Animated-graphics result (singular in the API).
        pub animated_graphic_task: MediaProcessTaskAnimatedGraphicResult,
        /// Snapshot-by-time-offset result.
        pub snapshot_by_time_offset_task: MediaProcessTaskSnapshotByTimeOffsetResult,
        /// Sampled-snapshot result.
        pub sample_snapshot_task: MediaProcessTaskSampleSnapshotResult,
        /// Image-sprite result (singular in the API).
        pub image_sprite_task: MediaProcessTaskImageSpriteResult,
        /// Adaptive-streaming result.
        pub adaptive_dynamic_streaming_task: MediaProcessTaskAdaptiveDynamicStreamingResult,
    }
}

model! {
    /// `MediaProcessTaskTranscodeResult`.
    #[derive(Debug)]
    pub struct MediaProcessTaskTranscodeResult {
        /// PROCESSING | SUCCESS | FAIL.
        pub status: String,
        /// Error code string, empty on success.
        pub err_code_ext: String,
        /// Legacy numeric error code.
        pub err_code: i64,
        /// Error message.
        pub message: String,
        /// Task input.
        pub input: TranscodeTaskInput,
        /// Result.
        pub output: MediaTranscodeItem,
        /// Percent.
        pub progress: i64,
        /// ISO-8601. Not in the SDK model for transcode; read when present, like the others.
        pub begin_process_time: String,
        /// ISO-8601. Not in the SDK model for transcode; read when present, like the others.
        pub finish_time: String,
    }
}

model! {
    /// `TranscodeTaskInput` (templates and overrides kept as raw JSON).
    #[derive(Debug)]
    pub struct TranscodeTaskInput {
        /// Template id.
        pub definition: i64,
        /// Custom parameters.
        pub raw_parameter: Value,
        /// Overriding parameters.
        pub override_parameter: Value,
        /// Watermarks.
        pub watermark_set: Value,
        /// Blind watermark.
        pub blind_watermark: Value,
        /// Mosaics.
        pub mosaic_set: Value,
        /// Seconds.
        pub start_time_offset: f64,
        /// Seconds.
        pub end_time_offset: f64,
        /// Target storage.
        pub output_storage: TaskOutputStorage,
        /// Output path template.
        pub output_object_path: String,
        /// Segment name template.
        pub segment_object_name: String,
        /// Numbering format.
        pub object_number_format: Value,
        /// Head/tail parameters.
        pub head_tail_parameter: Value,
    }
}

model! {
    /// `MediaTranscodeItem`.
    #[derive(Debug)]
    pub struct MediaTranscodeItem {
        /// Storage of the output.
        pub output_storage: TaskOutputStorage,
        /// Object path.
        pub path: String,
        /// Template id.
        pub definition: i64,
        /// Bits per second.
        pub bitrate: i64,
        /// Pixels.
        pub height: i64,
        /// Pixels.
        pub width: i64,
        /// Bytes.
        pub size: i64,
        /// Seconds.
        pub duration: f64,
        /// Container.
        pub container: String,
        /// MD5 of the file.
        pub md5: String,
        /// Audio streams.
        pub audio_stream_set: Vec<MediaAudioStreamItem>,
        /// Video streams.
        pub video_stream_set: Vec<MediaVideoStreamItem>,
        /// Callback extension info.
        pub call_back_ext_info: String,
        /// Usage figures.
        pub usage: Value,
    }
}

model! {
    /// `MediaProcessTaskAnimatedGraphicResult`.
    #[derive(Debug)]
    pub struct MediaProcessTaskAnimatedGraphicResult {
        /// PROCESSING | SUCCESS | FAIL.
        pub status: String,
        /// Error code string, empty on success.
        pub err_code_ext: String,
        /// Legacy numeric error code.
        pub err_code: i64,
        /// Error message.
        pub message: String,
        /// Task input.
        pub input: AnimatedGraphicTaskInput,
        /// Result.
        pub output: MediaAnimatedGraphicsItem,
        /// ISO-8601.
        pub begin_process_time: String,
        /// ISO-8601.
        pub finish_time: String,
    }
}

model! {
    /// `AnimatedGraphicTaskInput`.
    #[derive(Debug)]
    pub struct AnimatedGraphicTaskInput {
        /// Template id.
        pub definition: i64,
        /// Seconds.
        pub start_time_offset: f64,
        /// Seconds.
        pub end_time_offset: f64,
        /// Target storage.
        pub output_storage: TaskOutputStorage,
        /// Output path template.
        pub output_object_path: String,
        /// Extension info.
        pub ext_info: String,
    }
}

model! {
    /// `MediaAnimatedGraphicsItem`.
    #[derive(Debug)]
    pub struct MediaAnimatedGraphicsItem {
        /// Storage of the output.
        pub storage: TaskOutputStorage,
        /// Object path.
        pub path: String,
        /// Template id.
        pub definition: i64,
        /// gif | webp.
        pub container: String,
        /// Pixels.
        pub height: i64,
        /// Pixels.
        pub width: i64,
        /// Bits per second.
        pub bitrate: i64,
        /// Bytes.
        pub size: i64,
        /// MD5 of the file.
        pub md5: String,
        /// Seconds.
        pub start_time_offset: f64,
        /// Seconds.
        pub end_time_offset: f64,
    }
}

model! {
    /// `MediaProcessTaskSnapshotByTimeOffsetResult`.
    #[derive(Debug)]
    pub struct MediaProcessTaskSnapshotByTimeOffsetResult {
        /// PROCESSING | SUCCESS | FAIL.
        pub status: String,
        /// Error code string, empty on success.
        pub err_code_ext: String,
        /// Legacy numeric error code.
        pub err_code: i64,
        /// Error message.
        pub message: String,
        /// Task input.
        pub input: SnapshotByTimeOffsetTaskInput,
        /// Result.
        pub output: MediaSnapshotByTimeOffsetItem,
        /// ISO-8601.
        pub begin_process_time: String,
        /// ISO-8601.
        pub finish_time: String,
    }
}

model! {
    /// `SnapshotByTimeOffsetTaskInput`.
    #[derive(Debug)]
    pub struct SnapshotByTimeOffsetTaskInput {
        /// Template id.
        pub definition: i64,
        /// Offsets as strings (`"1s"`, `"10%"`).
        pub ext_time_offset_set: Vec<String>,
        /// Offsets in seconds.
        pub time_offset_set: Vec<f64>,
        /// Watermarks.
        pub watermark_set: Value,
        /// Target storage.
        pub output_storage: TaskOutputStorage,
        /// Output path template.
        pub output_object_path: String,
        /// Numbering format.
        pub object_number_format: Value,
        /// Extension info.
        pub ext_info: String,
    }
}

model! {
    /// `MediaSnapshotByTimeOffsetItem`.
    #[derive(Debug)]
    pub struct MediaSnapshotByTimeOffsetItem {
        /// Template id.
        pub definition: i64,
        /// One entry per picture.
        pub pic_info_set: Vec<MediaSnapshotByTimePicInfoItem>,
        /// Storage of the output.
        pub storage: TaskOutputStorage,
    }
}

model! {
    /// `MediaSnapshotByTimePicInfoItem`.
    #[derive(Debug)]
    pub struct MediaSnapshotByTimePicInfoItem {
        /// Seconds.
        pub time_offset: f64,
        /// Object path.
        pub path: String,
        /// Watermark templates applied.
        pub water_mark_definition: Vec<i64>,
    }
}

model! {
    /// `MediaProcessTaskSampleSnapshotResult`.
    #[derive(Debug)]
    pub struct MediaProcessTaskSampleSnapshotResult {
        /// PROCESSING | SUCCESS | FAIL.
        pub status: String,
        /// Error code string, empty on success.
        pub err_code_ext: String,
        /// Legacy numeric error code.
        pub err_code: i64,
        /// Error message.
        pub message: String,
        /// Task input.
        pub input: SampleSnapshotTaskInput,
        /// Result.
        pub output: MediaSampleSnapshotItem,
        /// ISO-8601.
        pub begin_process_time: String,
        /// ISO-8601.
        pub finish_time: String,
    }
}

model! {
    /// `SampleSnapshotTaskInput`.
    #[derive(Debug)]
    pub struct SampleSnapshotTaskInput {
        /// Template id.
        pub definition: i64,
        /// Watermarks.
        pub watermark_set: Value,
        /// Target storage.
        pub output_storage: TaskOutputStorage,
        /// Output path template.
        pub output_object_path: String,
        /// Numbering format.
        pub object_number_format: Value,
        /// Extension info.
        pub ext_info: String,
    }
}

model! {
    /// `MediaSampleSnapshotItem`.
    #[derive(Debug)]
    pub struct MediaSampleSnapshotItem {
        /// Template id.
        pub definition: i64,
        /// Percent | Time.
        pub sample_type: String,
        /// Interval.
        pub interval: i64,
        /// Storage of the output.
        pub storage: TaskOutputStorage,
        /// Object paths.
        pub image_path_set: Vec<String>,
        /// Watermark templates applied.
        pub water_mark_definition: Vec<i64>,
    }
}

model! {
    /// `MediaProcessTaskImageSpriteResult`.
    #[derive(Debug)]
    pub struct MediaProcessTaskImageSpriteResult {
        /// PROCESSING | SUCCESS | FAIL.
        pub status: String,
        /// Error code string, empty on success.
        pub err_code_ext: String,
        /// Legacy numeric error code.
        pub err_code: i64,
        /// Error message.
        pub message: String,
        /// Task input.
        pub input: ImageSpriteTaskInput,
        /// Result.
        pub output: MediaImageSpriteItem,
        /// ISO-8601.
        pub begin_process_time: String,
        /// ISO-8601.
        pub finish_time: String,
    }
}

model! {
    /// `ImageSpriteTaskInput`.
    #[derive(Debug)]
    pub struct ImageSpriteTaskInput {
        /// Template id.
        pub definition: i64,
        /// Target storage.
        pub output_storage: TaskOutputStorage,
        /// Output path template.
        pub output_object_path: String,
        /// WebVTT name template.
        pub web_vtt_object_name: String,
        /// Numbering format.
        pub object_number_format: Value,
        /// Extension info.
        pub ext_info: String,
    }
}

model! {
    /// `MediaImageSpriteItem`.
    #[derive(Debug)]
    pub struct MediaImageSpriteItem {
        /// Template id.
        pub definition: i64,
        /// Pixels of one small image.
        pub height: i64,
        /// Pixels of one small image.
        pub width: i64,
        /// Number of small images.
        pub total_count: i64,
        /// Sprite sheet paths.
        pub image_path_set: Vec<String>,
        /// WebVTT index path.
        pub web_vtt_path: String,
        /// Storage of the output.
        pub storage: TaskOutputStorage,
    }
}

model! {
    /// `MediaProcessTaskAdaptiveDynamicStreamingResult`.
    #[derive(Debug)]
    pub struct MediaProcessTaskAdaptiveDynamicStreamingResult {
        /// PROCESSING | SUCCESS | FAIL.
        pub status: String,
        /// Error code string, empty on success.
        pub err_code_ext: String,
        /// Legacy numeric error code.
        pub err_code: i64,
        /// Error message.
        pub message: String,
        /// Task input.
        pub input: AdaptiveDynamicStreamingTaskInput,
        /// Result.
        pub output: AdaptiveDynamicStreamingInfoItem,
        /// ISO-8601.
        pub begin_process_time: String,
        /// ISO-8601.
        pub finish_time: String,
    }
}

model! {
    /// `AdaptiveDynamicStreamingTaskInput` (DRM, subtitles and the like kept as raw JSON).
    #[derive(Debug)]
    pub struct AdaptiveDynamicStreamingTaskInput {
        /// Template id.
        pub definition: i64,
        /// Watermarks.
        pub watermark_set: Value,
        /// Blind watermark.
        pub blind_watermark: Value,
        /// Target storage.
        pub output_storage: TaskOutputStorage,
        /// Manifest path template.
        pub output_object_path: String,
        /// Sub-stream name template.
        pub sub_stream_object_name: String,
        /// Segment name template.
        pub segment_object_name: String,
        /// Extra subtitles.
        pub add_on_subtitles: Value,
        /// DRM settings.
        pub drm_info: Value,
        /// Definition type.
        pub definition_type: String,
        /// Subtitle template.
        pub subtitle_template: Value,
        /// Extension info.
        pub std_ext_info: String,
        /// Key PTS list.
        #[serde(rename = "KeyPTSList")]
        pub key_pts_list: Vec<i64>,
        /// Extra audio tracks.
        pub add_on_audios: Value,
        /// Extra stream templates.
        pub std_ext_stream_infos: Value,
    }
}

model! {
    /// `AdaptiveDynamicStreamingInfoItem`.
    #[derive(Debug)]
    pub struct AdaptiveDynamicStreamingInfoItem {
        /// Template id.
        pub definition: i64,
        /// HLS | DASH.
        pub package: String,
        /// Manifest (playlist) path.
        pub path: String,
        /// Storage of the output.
        pub storage: TaskOutputStorage,
    }
}
