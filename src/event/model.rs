//! The SDK-shaped data model of the two typed events, `WorkflowTask` and `EditMediaTask`.
//!
//! Field names and types follow the official SDK models (`tencentcloud.mps.v20190612.models`).
//! Every field is optional and lenient (see `lenient`): a value of an unexpected JSON type
//! becomes `None` instead of failing the whole typed view, because a callback must never be
//! lost over a detail of its shape.

use std::fmt;

use serde::Deserialize;
use serde_json::{Map, Value};

use super::lenient;

/// Declares a model struct whose fields are all `Option` and lenient, plus its `LenientDe`.
macro_rules! model {
    ($(#[$m:meta])* pub struct $name:ident { $($(#[$fm:meta])* pub $field:ident : $ty:ty,)* }) => {
        $(#[$m])*
        #[derive(Clone, Default, PartialEq, serde::Deserialize)]
        #[serde(rename_all = "PascalCase")]
        pub struct $name {
            $(
                $(#[$fm])*
                #[serde(default, deserialize_with = "lenient::opt")]
                pub $field: Option<$ty>,
            )*
        }
        impl lenient::LenientDe for $name {
            fn lenient<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Self>, D::Error> {
                d.deserialize_any(lenient::ObjV::<$name>(std::marker::PhantomData))
            }
        }
    };
}

model! {
    /// `MediaInputInfo`: where the source media came from.
    #[derive(Debug)]
    pub struct MediaInputInfo {
        /// COS | URL | AWS-S3 | VOD.
        pub r#type: String,
        /// Set when `Type` = COS.
        pub cos_input_info: CosInputInfo,
        /// Set when `Type` = URL.
        pub url_input_info: UrlInputInfo,
        /// Set when `Type` = AWS-S3 (carries third-party credentials).
        pub s3_input_info: S3InputInfo,
        /// Set when `Type` = VOD.
        #[serde(rename = "VODInputInfo")]
        pub vod_input_info: VodInputInfo,
    }
}

model! {
    /// `CosInputInfo`.
    #[derive(Debug)]
    pub struct CosInputInfo {
        /// Bucket with APPID.
        pub bucket: String,
        /// Region, e.g. `ap-guangzhou`.
        pub region: String,
        /// Object path, starting with `/`.
        pub object: String,
    }
}

model! {
    /// `UrlInputInfo`.
    #[derive(Debug)]
    pub struct UrlInputInfo {
        /// Source URL.
        pub url: String,
    }
}

model! {
    /// `S3InputInfo` (Debug hides the secrets).
    pub struct S3InputInfo {
        /// S3 bucket.
        pub s3_bucket: String,
        /// S3 region.
        pub s3_region: String,
        /// S3 object key.
        pub s3_object: String,
        /// Third-party credential: never logged.
        pub s3_secret_id: String,
        /// Third-party credential: never logged.
        pub s3_secret_key: String,
    }
}

impl fmt::Debug for S3InputInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("S3InputInfo")
            .field("s3_bucket", &self.s3_bucket)
            .field("s3_region", &self.s3_region)
            .field("s3_object", &self.s3_object)
            .field("s3_secret_id", &self.s3_secret_id.as_ref().map(|_| "***"))
            .field("s3_secret_key", &self.s3_secret_key.as_ref().map(|_| "***"))
            .finish()
    }
}

model! {
    /// `VODInputInfo`.
    #[derive(Debug)]
    pub struct VodInputInfo {
        /// VOD bucket.
        pub bucket: String,
        /// VOD region.
        pub region: String,
        /// VOD object.
        pub object: String,
        /// VOD sub-application id.
        pub sub_app_id: i64,
        /// VOD basic flag.
        pub vod_basic: i64,
        /// VOD file id.
        pub file_id: String,
    }
}

model! {
    /// `TaskOutputStorage`: where a result was written.
    #[derive(Debug)]
    pub struct TaskOutputStorage {
        /// COS | AWS-S3 | VOD.
        pub r#type: String,
        /// Set when `Type` = COS.
        pub cos_output_storage: CosOutputStorage,
        /// Set when `Type` = AWS-S3 (carries third-party credentials).
        pub s3_output_storage: S3OutputStorage,
        /// Set when `Type` = VOD.
        #[serde(rename = "VODOutputStorage")]
        pub vod_output_storage: VodOutputStorage,
    }
}

model! {
    /// `CosOutputStorage`.
    #[derive(Debug)]
    pub struct CosOutputStorage {
        /// Bucket with APPID.
        pub bucket: String,
        /// Region.
        pub region: String,
    }
}

model! {
    /// `S3OutputStorage` (Debug hides the secrets).
    pub struct S3OutputStorage {
        /// S3 bucket.
        pub s3_bucket: String,
        /// S3 region.
        pub s3_region: String,
        /// Third-party credential: never logged.
        pub s3_secret_id: String,
        /// Third-party credential: never logged.
        pub s3_secret_key: String,
    }
}

impl fmt::Debug for S3OutputStorage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("S3OutputStorage")
            .field("s3_bucket", &self.s3_bucket)
            .field("s3_region", &self.s3_region)
            .field("s3_secret_id", &self.s3_secret_id.as_ref().map(|_| "***"))
            .field("s3_secret_key", &self.s3_secret_key.as_ref().map(|_| "***"))
            .finish()
    }
}

model! {
    /// `VODOutputStorage`.
    #[derive(Debug)]
    pub struct VodOutputStorage {
        /// VOD bucket.
        pub bucket: String,
        /// VOD region.
        pub region: String,
        /// VOD sub-application id.
        pub sub_app_id: i64,
        /// VOD basic flag.
        pub vod_basic: i64,
    }
}

model! {
    /// `MediaMetaData` of the source or of an output.
    #[derive(Debug)]
    pub struct MediaMetaData {
        /// Bytes.
        pub size: i64,
        /// Container, e.g. `mov,mp4,m4a,3gp,3g2,mj2`.
        pub container: String,
        /// Bits per second.
        pub bitrate: i64,
        /// Pixels.
        pub height: i64,
        /// Pixels.
        pub width: i64,
        /// Seconds.
        pub duration: f64,
        /// Degrees.
        pub rotate: i64,
        /// Video streams.
        pub video_stream_set: Vec<MediaVideoStreamItem>,
        /// Audio streams.
        pub audio_stream_set: Vec<MediaAudioStreamItem>,
        /// Seconds.
        pub video_duration: f64,
        /// Seconds.
        pub audio_duration: f64,
    }
}

model! {
    /// `MediaVideoStreamItem`.
    #[derive(Debug)]
    pub struct MediaVideoStreamItem {
        /// Bits per second.
        pub bitrate: i64,
        /// Pixels.
        pub height: i64,
        /// Pixels.
        pub width: i64,
        /// Codec name.
        pub codec: String,
        /// Frames per second.
        pub fps: i64,
        /// Colour primaries.
        pub color_primaries: String,
        /// Colour space.
        pub color_space: String,
        /// Colour transfer.
        pub color_transfer: String,
        /// HDR type.
        pub hdr_type: String,
        /// RFC 6381 codecs string.
        pub codecs: String,
        /// Frame rate numerator.
        pub fps_numerator: i64,
        /// Frame rate denominator.
        pub fps_denominator: i64,
    }
}

model! {
    /// `MediaAudioStreamItem`.
    #[derive(Debug)]
    pub struct MediaAudioStreamItem {
        /// Bits per second.
        pub bitrate: i64,
        /// Hz.
        pub sampling_rate: i64,
        /// Codec name.
        pub codec: String,
        /// Channel count.
        pub channel: i64,
        /// RFC 6381 codecs string.
        pub codecs: String,
        /// Loudness.
        pub loudness: f64,
    }
}

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

/// One AI result entry (`AiContentReviewResult`, `AiAnalysisResult`, `AiRecognitionResult`,
/// `SmartSubtitlesResult`): its `Type` and the whole object kept as raw JSON, because the
/// dozens of AI task shapes change often and the archive keeps them verbatim anyway.
#[derive(Clone, Default, PartialEq)]
pub struct AiResult {
    /// The `Type` string, e.g. `Porn`, `Classification`, `FaceRecognition`.
    pub r#type: Option<String>,
    /// The whole entry, `Type` included.
    pub content: Value,
}

impl fmt::Debug for AiResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Content is arbitrary: show its shape only, never its values.
        let keys: Vec<&str> = match &self.content {
            Value::Object(m) => m.keys().map(String::as_str).collect(),
            _ => Vec::new(),
        };
        f.debug_struct("AiResult")
            .field("type", &self.r#type)
            .field("keys", &keys)
            .finish()
    }
}

impl AiResult {
    /// The filled `...Task` object of this entry (the first non-null one), with its key.
    pub fn task(&self) -> Option<(&str, &Map<String, Value>)> {
        let obj = self.content.as_object()?;
        obj.iter().find_map(|(k, v)| match v {
            Value::Object(m) if k.ends_with("Task") => Some((k.as_str(), m)),
            _ => None,
        })
    }
}

impl lenient::LenientDe for AiResult {
    fn lenient<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Self>, D::Error> {
        Value::deserialize(d).map(AiResult::from_value)
    }
}

impl AiResult {
    /// The entry for a JSON object; `None` for anything else (lists skip such elements).
    pub(crate) fn from_value(v: Value) -> Option<AiResult> {
        if !v.is_object() {
            return None;
        }
        let r#type = v.get("Type").and_then(Value::as_str).map(str::to_owned);
        Some(AiResult { r#type, content: v })
    }

    /// A list of entries as the lenient model reads one: `None` unless `v` is an array,
    /// elements that are not objects skipped.
    pub(crate) fn list_from(v: &Value) -> Option<Vec<AiResult>> {
        let items = v.as_array()?;
        let objects = items.iter().filter(|e| e.is_object());
        Some(objects.cloned().filter_map(AiResult::from_value).collect())
    }
}

model! {
    /// `WorkflowTask`: the payload of `EventType` = `WorkflowTask`.
    #[derive(Debug)]
    pub struct WorkflowTask {
        /// e.g. `1253112233-WorkflowTask-<32 hex>t2`.
        pub task_id: String,
        /// PROCESSING | FINISH.
        pub status: String,
        /// Deprecated at this level (subtasks carry errors), still honoured when non-zero.
        pub err_code: i64,
        /// Error code string; not in the SDK model at this level, honoured when non-empty.
        pub err_code_ext: String,
        /// Deprecated at this level.
        pub message: String,
        /// Source media.
        pub input_info: MediaInputInfo,
        /// Source metadata.
        pub meta_data: MediaMetaData,
        /// Media-processing subtasks.
        pub media_process_result_set: Vec<MediaProcessTaskResult>,
        /// Content review results.
        pub ai_content_review_result_set: Vec<AiResult>,
        /// Content analysis results.
        pub ai_analysis_result_set: Vec<AiResult>,
        /// Content recognition results.
        pub ai_recognition_result_set: Vec<AiResult>,
        /// Quality control result (`ScheduleQualityControlTaskResult`), kept raw.
        pub ai_quality_control_task_result: Value,
        /// Smart subtitles results.
        pub smart_subtitles_task_result: Vec<AiResult>,
        /// Smart erase result, kept raw.
        pub smart_erase_task_result: Value,
        /// AI dubbing result, kept raw.
        #[serde(rename = "AiDubbingTaskResult")]
        pub ai_dubbing_task_result: Value,
    }
}

model! {
    /// `EditMediaTask`: the payload of `EventType` = `EditMediaTask`.
    #[derive(Debug)]
    pub struct EditMediaTask {
        /// Task id.
        pub task_id: String,
        /// PROCESSING | FINISH.
        pub status: String,
        /// 0 = success.
        pub err_code: i64,
        /// Error code string; not in the SDK model, honoured when non-empty.
        pub err_code_ext: String,
        /// Error message.
        pub message: String,
        /// Inputs.
        pub input: EditMediaTaskInput,
        /// Output, null on failure.
        pub output: EditMediaTaskOutput,
    }
}

model! {
    /// `EditMediaTaskInput`.
    #[derive(Debug)]
    pub struct EditMediaTaskInput {
        /// Clips, in order.
        pub file_info_set: Vec<EditMediaFileInfo>,
    }
}

model! {
    /// `EditMediaFileInfo`.
    #[derive(Debug)]
    pub struct EditMediaFileInfo {
        /// Source media.
        pub input_info: MediaInputInfo,
        /// Seconds.
        pub start_time_offset: f64,
        /// Seconds.
        pub end_time_offset: f64,
        /// Clip id.
        pub id: String,
    }
}

model! {
    /// `EditMediaTaskOutput`.
    #[derive(Debug)]
    pub struct EditMediaTaskOutput {
        /// Storage of the output.
        pub output_storage: TaskOutputStorage,
        /// Object path.
        pub path: String,
        /// Output metadata.
        pub meta_data: MediaMetaData,
    }
}

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

impl MediaProcessTaskResult {
    /// The filled subtask results of this entry, in the SDK's field order. MPS fills the
    /// one `Type` names; `CoverBySnapshot` and unknown types fill none.
    pub fn subtasks(&self) -> impl Iterator<Item = &dyn SubtaskResult> {
        let all: [Option<&dyn SubtaskResult>; 6] = [
            self.transcode_task
                .as_ref()
                .map(|t| t as &dyn SubtaskResult),
            self.animated_graphic_task
                .as_ref()
                .map(|t| t as &dyn SubtaskResult),
            self.snapshot_by_time_offset_task
                .as_ref()
                .map(|t| t as &dyn SubtaskResult),
            self.sample_snapshot_task
                .as_ref()
                .map(|t| t as &dyn SubtaskResult),
            self.image_sprite_task
                .as_ref()
                .map(|t| t as &dyn SubtaskResult),
            self.adaptive_dynamic_streaming_task
                .as_ref()
                .map(|t| t as &dyn SubtaskResult),
        ];
        all.into_iter().flatten()
    }
}
