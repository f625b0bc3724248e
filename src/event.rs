//! Typed model of the MPS notification (`ParseNotification` shape) and its parser.
//!
//! Field names and types follow the official SDK models (`tencentcloud.mps.v20190612.models`).
//! Every field is optional and lenient: a value of an unexpected JSON type becomes `None`
//! instead of failing the whole typed view, because a callback must never be lost over a
//! detail of its shape. The original JSON is always kept in [`ParsedEvent::raw`].

use std::fmt;

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{Map, Value};

/// Why a body could not be taken as an event (only when it is not a JSON object).
#[derive(Debug, thiserror::Error)]
pub enum EventError {
    /// Not UTF-8 / not JSON / truncated.
    #[error("event is not a JSON object: {0}")]
    NotJson(String),
    /// Valid JSON but an array, number, string, bool or null.
    #[error("event is not a JSON object: got {0}")]
    NotObject(&'static str),
    /// Nested deeper than the parser follows; refused rather than risking the stack.
    #[error("event nests deeper than {MAX_DEPTH} levels; refusing to parse it")]
    TooDeep,
}

/// Nesting depth the parser follows (serde_json's recursion limit); MPS events use under 10.
pub const MAX_DEPTH: usize = 128;

/// Lenient deserialization: values of an unexpected JSON type become `None`, never an error.
pub mod lenient {
    use std::fmt;
    use std::marker::PhantomData;

    use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
    use serde::Deserialize;

    /// A type that can be read from any JSON value, yielding `None` when the value does not fit.
    pub trait LenientDe: Sized {
        /// Reads `Self` from `d`; `Ok(None)` on a type mismatch. Errors only come from the
        /// underlying deserializer itself (which, for a `serde_json::Value`, does not fail).
        fn lenient<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Self>, D::Error>;
    }

    /// `deserialize_with` helper for every optional model field.
    pub fn opt<'de, D: Deserializer<'de>, T: LenientDe>(d: D) -> Result<Option<T>, D::Error> {
        T::lenient(d)
    }

    /// Wrapper used for list elements.
    struct Elem<T>(Option<T>);

    impl<'de, T: LenientDe> Deserialize<'de> for Elem<T> {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            T::lenient(d).map(Elem)
        }
    }

    fn drain_map<'de, A: MapAccess<'de>>(mut map: A) -> Result<(), A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(())
    }

    fn drain_seq<'de, A: SeqAccess<'de>>(mut seq: A) -> Result<(), A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(())
    }

    /// Generates the "anything else is None" visitor methods.
    macro_rules! mismatch_none {
        ($($skip:ident)*) => {
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
                d.deserialize_any(self)
            }
        };
    }

    /// A container where a scalar belongs: consume it, keep None.
    macro_rules! container_none {
        () => {
            fn visit_map<A: MapAccess<'de>>(self, m: A) -> Result<Self::Value, A::Error> {
                drain_map(m).map(|_| None)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, s: A) -> Result<Self::Value, A::Error> {
                drain_seq(s).map(|_| None)
            }
        };
    }

    struct StrV;
    impl<'de> Visitor<'de> for StrV {
        type Value = Option<String>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("any value")
        }
        mismatch_none!();
        container_none!();
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            Ok(Some(v.to_owned()))
        }
        fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
            Ok(Some(v))
        }
        fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
            Ok(None)
        }
    }

    impl LenientDe for String {
        fn lenient<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Self>, D::Error> {
            d.deserialize_any(StrV)
        }
    }

    /// Integers: JSON integers, whole floats, and decimal strings (`"ErrCode": "70000"`).
    struct IntV;
    impl<'de> Visitor<'de> for IntV {
        type Value = Option<i64>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("any value")
        }
        mismatch_none!();
        container_none!();
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            Ok(v.trim().parse::<i64>().ok())
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
            Ok(Some(v))
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
            Ok(i64::try_from(v).ok())
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
            let whole = v.fract() == 0.0 && v >= i64::MIN as f64 && v < i64::MAX as f64;
            Ok(whole.then_some(v as i64))
        }
    }

    impl LenientDe for i64 {
        fn lenient<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Self>, D::Error> {
            d.deserialize_any(IntV)
        }
    }

    /// Floats: any JSON number (`"Duration": 60` is common) and decimal strings.
    struct FloatV;
    impl<'de> Visitor<'de> for FloatV {
        type Value = Option<f64>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("any value")
        }
        mismatch_none!();
        container_none!();
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            Ok(v.trim().parse::<f64>().ok().filter(|f| f.is_finite()))
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
            Ok(Some(v as f64))
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
            Ok(Some(v as f64))
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
            Ok(Some(v))
        }
    }

    impl LenientDe for f64 {
        fn lenient<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Self>, D::Error> {
            d.deserialize_any(FloatV)
        }
    }

    /// Lists: a JSON array; elements that do not fit are skipped.
    struct SeqV<T>(PhantomData<T>);
    impl<'de, T: LenientDe> Visitor<'de> for SeqV<T> {
        type Value = Option<Vec<T>>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("any value")
        }
        mismatch_none!();
        fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_map<A: MapAccess<'de>>(self, m: A) -> Result<Self::Value, A::Error> {
            drain_map(m).map(|_| None)
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut s: A) -> Result<Self::Value, A::Error> {
            let mut out = Vec::with_capacity(s.size_hint().unwrap_or(0).min(64));
            while let Some(Elem(e)) = s.next_element::<Elem<T>>()? {
                out.extend(e);
            }
            Ok(Some(out))
        }
    }

    impl<T: LenientDe> LenientDe for Vec<T> {
        fn lenient<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Self>, D::Error> {
            d.deserialize_any(SeqV::<T>(PhantomData))
        }
    }

    /// Arbitrary JSON kept as is (AI result contents, undocumented sub-objects).
    impl LenientDe for serde_json::Value {
        fn lenient<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Self>, D::Error> {
            serde_json::Value::deserialize(d).map(|v| (!v.is_null()).then_some(v))
        }
    }

    /// Objects: a JSON object read with the type's (all-lenient) derived impl; else `None`.
    pub struct ObjV<T>(pub PhantomData<T>);
    impl<'de, T: Deserialize<'de>> Visitor<'de> for ObjV<T> {
        type Value = Option<T>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("any value")
        }
        mismatch_none!();
        fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_seq<A: SeqAccess<'de>>(self, s: A) -> Result<Self::Value, A::Error> {
            drain_seq(s).map(|_| None)
        }
        fn visit_map<A: MapAccess<'de>>(self, m: A) -> Result<Self::Value, A::Error> {
            T::deserialize(de::value::MapAccessDeserializer::new(m)).map(Some)
        }
    }
}

/// Declares a model struct whose fields are all `Option` and lenient, plus its [`lenient::LenientDe`].
macro_rules! model {
    ($(#[$m:meta])* pub struct $name:ident { $($(#[$fm:meta])* pub $field:ident : $ty:ty,)* }) => {
        $(#[$m])*
        #[derive(Clone, Default, PartialEq, Deserialize)]
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
        let v = Value::deserialize(d)?;
        Ok(match v {
            Value::Object(m) => {
                let r#type = m.get("Type").and_then(Value::as_str).map(str::to_owned);
                Some(AiResult {
                    r#type,
                    content: Value::Object(m),
                })
            }
            _ => None,
        })
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

model! {
    /// The notification envelope (`ParseNotification` response) without its task payloads.
    #[derive(Debug)]
    pub struct Envelope {
        /// WorkflowTask | EditMediaTask | ScheduleTask | ...
        pub event_type: String,
        /// Deduplication id set by the caller of the task.
        pub session_id: String,
        /// Opaque context set by the caller of the task.
        pub session_context: String,
        /// Signature expiry (unix seconds), not the event's time.
        pub timestamp: i64,
        /// `MD5(Timestamp + NotifyKey)`.
        pub sign: String,
        /// Request id, when present.
        pub request_id: String,
    }
}

/// The typed view of an event, as far as it could be understood.
#[derive(Debug, Clone)]
pub enum Event {
    /// `EventType` = `WorkflowTask` with a usable `WorkflowTaskEvent`.
    WorkflowTask(Box<WorkflowTask>),
    /// `EditMediaTask` with a usable `EditMediaTaskEvent`.
    EditMediaTask(Box<EditMediaTask>),
    /// Anything else: unknown type, or a known type whose body did not fit the model.
    Other,
}

/// A parsed event: the typed view plus the original JSON object, so nothing is lost.
#[derive(Clone)]
pub struct ParsedEvent {
    /// The original JSON object, exactly as received (after JSON parsing).
    pub raw: Value,
    /// Typed view.
    pub event: Event,
    /// Why the typed parse fell back to [`Event::Other`] for a known type (logged at warn).
    pub warning: Option<String>,
}

impl fmt::Debug for ParsedEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `raw` may hold third-party credentials: never print it.
        f.debug_struct("ParsedEvent")
            .field("event_type", &self.event_type())
            .field("task_id", &self.task_id())
            .field("status", &self.status())
            .field("event", &self.event)
            .field("warning", &self.warning)
            .finish_non_exhaustive()
    }
}

/// Best-effort task object of an event whose type has no typed model.
///
/// Rule: the top-level object under `<EventType>Event`, else `<EventType>Task`, else the
/// first top-level key (in key order) ending in `TaskEvent` or `Task` whose value is an
/// object carrying a string `TaskId`; else the top-level object itself.
fn other_task_object<'a>(
    raw: &'a Map<String, Value>,
    event_type: Option<&str>,
) -> &'a Map<String, Value> {
    if let Some(t) = event_type.filter(|t| !t.is_empty()) {
        for suffix in ["Event", "Task"] {
            let key = format!("{t}{suffix}");
            if let Some(Value::Object(m)) = raw.get(&key) {
                return m;
            }
        }
    }
    raw.iter()
        .find_map(|(k, v)| match v {
            Value::Object(m)
                if (k.ends_with("TaskEvent") || k.ends_with("Task"))
                    && m.get("TaskId").is_some_and(Value::is_string) =>
            {
                Some(m)
            }
            _ => None,
        })
        .unwrap_or(raw)
}

fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s.trim())
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

impl ParsedEvent {
    /// `EventType` string, or `unrecognized` when absent / not a string / empty.
    pub fn event_type(&self) -> &str {
        match self.raw.get("EventType") {
            Some(Value::String(s)) if !s.is_empty() => s,
            _ => "unrecognized",
        }
    }

    fn raw_task_str(&self, key: &str) -> Option<&str> {
        let obj = self.raw.as_object()?;
        let t = self.raw.get("EventType").and_then(Value::as_str);
        other_task_object(obj, t).get(key).and_then(Value::as_str)
    }

    /// TaskId of the task the event is about, as sent (typed task, else best effort on raw).
    pub fn task_id(&self) -> Option<&str> {
        match &self.event {
            Event::WorkflowTask(t) => t.task_id.as_deref(),
            Event::EditMediaTask(t) => t.task_id.as_deref(),
            Event::Other => self.raw_task_str("TaskId"),
        }
    }

    /// Status of the task, as sent (typed task, else best effort on raw).
    pub fn status(&self) -> Option<&str> {
        match &self.event {
            Event::WorkflowTask(t) => t.status.as_deref(),
            Event::EditMediaTask(t) => t.status.as_deref(),
            Event::Other => self.raw_task_str("Status"),
        }
    }

    /// `SessionId` when it is a string.
    pub fn session_id(&self) -> Option<&str> {
        self.raw.get("SessionId").and_then(Value::as_str)
    }

    /// `SessionContext` when it is a string.
    pub fn session_context(&self) -> Option<&str> {
        self.raw.get("SessionContext").and_then(Value::as_str)
    }

    /// The event's own time: the latest parsable subtask `FinishTime` (WorkflowTask only:
    /// media-processing subtasks, AI result tasks, smart erase, dubbing). `None` otherwise.
    pub fn event_time(&self) -> Option<DateTime<Utc>> {
        let Event::WorkflowTask(t) = &self.event else {
            return None;
        };
        let mut latest: Option<DateTime<Utc>> = None;
        let mut see = |s: Option<&str>| {
            if let Some(ts) = s.and_then(parse_time) {
                latest = Some(latest.map_or(ts, |l| l.max(ts)));
            }
        };
        for r in t.media_process_result_set.iter().flatten() {
            see(r
                .transcode_task
                .as_ref()
                .and_then(|x| x.finish_time.as_deref()));
            see(r
                .animated_graphic_task
                .as_ref()
                .and_then(|x| x.finish_time.as_deref()));
            see(r
                .snapshot_by_time_offset_task
                .as_ref()
                .and_then(|x| x.finish_time.as_deref()));
            see(r
                .sample_snapshot_task
                .as_ref()
                .and_then(|x| x.finish_time.as_deref()));
            see(r
                .image_sprite_task
                .as_ref()
                .and_then(|x| x.finish_time.as_deref()));
            see(r
                .adaptive_dynamic_streaming_task
                .as_ref()
                .and_then(|x| x.finish_time.as_deref()));
        }
        for set in [
            &t.ai_content_review_result_set,
            &t.ai_analysis_result_set,
            &t.ai_recognition_result_set,
            &t.smart_subtitles_task_result,
        ] {
            for ai in set.iter().flatten() {
                see(ai
                    .task()
                    .and_then(|(_, m)| m.get("FinishTime"))
                    .and_then(Value::as_str));
            }
        }
        for v in [
            &t.ai_quality_control_task_result,
            &t.smart_erase_task_result,
            &t.ai_dubbing_task_result,
        ] {
            see(v
                .as_ref()
                .and_then(|v| v.get("FinishTime"))
                .and_then(Value::as_str));
        }
        latest
    }
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Reads the typed task under `key`; `Err(warning)` when it is missing or not an object.
fn typed_task<T: for<'de> Deserialize<'de>>(
    raw: &Map<String, Value>,
    key: &str,
) -> Result<T, String> {
    match raw.get(key) {
        Some(v @ Value::Object(_)) => {
            T::deserialize(v).map_err(|e| format!("{key} does not fit the model: {e}"))
        }
        Some(v) => Err(format!("{key} is {}, not an object", kind_of(v))),
        None => Err(format!("{key} is absent")),
    }
}

/// Parses a raw invocation body. Fails only when the body is not a JSON object.
pub fn parse(body: &[u8]) -> Result<ParsedEvent, EventError> {
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    // Validating UTF-8 once up front is cheaper than serde_json's per-string checks.
    let text = std::str::from_utf8(body)
        .map_err(|e| EventError::NotJson(format!("invalid UTF-8 at byte {}", e.valid_up_to())))?;
    let raw: Value = serde_json::from_str(text).map_err(|e| {
        // serde_json's Display is one line; keep it that way whatever it becomes.
        let text = e.to_string().replace(['\n', '\r'], " ");
        if text.starts_with("recursion limit exceeded") {
            EventError::TooDeep
        } else {
            EventError::NotJson(text)
        }
    })?;
    let obj = match &raw {
        Value::Object(m) => m,
        other => return Err(EventError::NotObject(kind_of(other))),
    };
    let (event, warning) = match obj.get("EventType").and_then(Value::as_str) {
        Some("WorkflowTask") => match typed_task::<WorkflowTask>(obj, "WorkflowTaskEvent") {
            Ok(t) => (Event::WorkflowTask(Box::new(t)), None),
            Err(w) => (Event::Other, Some(w)),
        },
        Some("EditMediaTask") => match typed_task::<EditMediaTask>(obj, "EditMediaTaskEvent") {
            Ok(t) => (Event::EditMediaTask(Box::new(t)), None),
            Err(w) => (Event::Other, Some(w)),
        },
        _ => (Event::Other, None),
    };
    Ok(ParsedEvent {
        raw,
        event,
        warning,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_objects_are_one_line_errors() {
        let cases: [(&[u8], &str); 9] = [
            (
                b"",
                "event is not a JSON object: EOF while parsing a value at line 1 column 0",
            ),
            (b"[1]", "event is not a JSON object: got an array"),
            (b"12", "event is not a JSON object: got a number"),
            (b"\"x\"", "event is not a JSON object: got a string"),
            (b"true", "event is not a JSON object: got a boolean"),
            (b"null", "event is not a JSON object: got null"),
            (
                b"hello",
                "event is not a JSON object: expected value at line 1 column 1",
            ),
            (
                b"{\"a\":",
                "event is not a JSON object: EOF while parsing a value at line 1 column 5",
            ),
            (
                b"{\"a\":\"\xff\"}",
                "event is not a JSON object: invalid UTF-8 at byte 6",
            ),
        ];
        for (body, want) in cases {
            let e = parse(body).err().map(|e| e.to_string());
            assert_eq!(e.as_deref(), Some(want), "body {body:?}");
        }
    }

    #[test]
    fn numbers_survive_exactly() {
        let body = br#"{"EventType":"X","F":1.0715660391465826e-75,"G":0.1,"I":-9007199254740993,"U":18446744073709551615}"#;
        let p = parse(body).expect("parses");
        assert_eq!(
            serde_json::to_string(&p.raw).unwrap(),
            std::str::from_utf8(body).unwrap()
        );
    }

    #[test]
    fn bom_is_stripped() {
        let p = parse(b"\xEF\xBB\xBF{\"EventType\":\"X\"}").map_err(|e| e.to_string());
        assert_eq!(p.map(|p| p.event_type().to_owned()), Ok("X".to_owned()));
    }

    #[test]
    fn deep_nesting_is_rejected_without_overflow() {
        let mut s = String::from("{\"a\":");
        s.push_str(&"[".repeat(10_000));
        s.push_str(&"]".repeat(10_000));
        s.push('}');
        let e = parse(s.as_bytes()).err().map(|e| e.to_string());
        let e = e.unwrap_or_default();
        assert_eq!(
            e,
            "event nests deeper than 128 levels; refusing to parse it"
        );
        let deep_obj = "{\"a\":".repeat(10_000) + &"}".repeat(10_000);
        assert!(parse(deep_obj.as_bytes()).is_err());
    }

    #[test]
    fn lenient_scalars_keep_the_typed_view() {
        let body = br#"{"EventType":"WorkflowTask","WorkflowTaskEvent":{
            "TaskId":"t1","Status":7,"ErrCode":"70000","Message":["x"],
            "MetaData":{"Duration":60,"Width":"wide","Height":720.0,"Size":1.5},
            "InputInfo":"cos",
            "MediaProcessResultSet":[17,{"Type":"Transcode","TranscodeTask":{"Status":"SUCCESS","Output":{"Path":"/a.mp4","Duration":"12.5"}}}]}}"#;
        let p = parse(body).map_err(|e| e.to_string());
        let Ok(p) = p else { panic!("{p:?}") };
        assert_eq!(p.warning, None);
        let Event::WorkflowTask(t) = &p.event else {
            panic!("not typed: {:?}", p.event)
        };
        assert_eq!(t.task_id.as_deref(), Some("t1"));
        assert_eq!(t.status, None);
        assert_eq!(t.err_code, Some(70000));
        assert_eq!(t.message, None);
        assert_eq!(t.input_info, None);
        let md = t.meta_data.clone().unwrap_or_default();
        assert_eq!(
            (md.duration, md.width, md.height, md.size),
            (Some(60.0), None, Some(720), None)
        );
        let set = t.media_process_result_set.clone().unwrap_or_default();
        assert_eq!(set.len(), 1);
        let out = set[0]
            .transcode_task
            .as_ref()
            .and_then(|x| x.output.clone())
            .unwrap_or_default();
        assert_eq!(
            (out.path.as_deref(), out.duration),
            (Some("/a.mp4"), Some(12.5))
        );
    }

    #[test]
    fn known_type_with_unusable_body_falls_back_with_warning() {
        for (body, w) in [
            (
                &br#"{"EventType":"WorkflowTask","WorkflowTaskEvent":null}"#[..],
                "WorkflowTaskEvent is null, not an object",
            ),
            (
                br#"{"EventType":"WorkflowTask"}"#,
                "WorkflowTaskEvent is absent",
            ),
            (
                br#"{"EventType":"EditMediaTask","EditMediaTaskEvent":[1]}"#,
                "EditMediaTaskEvent is an array, not an object",
            ),
        ] {
            let p = parse(body).map_err(|e| e.to_string());
            let Ok(p) = p else { panic!("{p:?}") };
            assert!(matches!(p.event, Event::Other));
            assert_eq!(p.warning.as_deref(), Some(w));
        }
    }

    #[test]
    fn event_type_fallbacks() {
        for (body, t) in [
            (&br#"{}"#[..], "unrecognized"),
            (br#"{"EventType":""}"#, "unrecognized"),
            (br#"{"EventType":5}"#, "unrecognized"),
            (br#"{"EventType":"BatchTask"}"#, "BatchTask"),
        ] {
            let p = parse(body).map_err(|e| e.to_string());
            assert_eq!(p.map(|p| p.event_type().to_owned()), Ok(t.to_owned()));
        }
    }

    #[test]
    fn other_types_task_id_rule() {
        let p = parse(br#"{"EventType":"ExtractBlindWatermark","ExtractBlindWatermarkTask":{"TaskId":"x-1","Status":"FINISH"},"AaaTaskEvent":{"TaskId":"no"}}"#)
            .map_err(|e| e.to_string());
        let Ok(p) = p else { panic!("{p:?}") };
        assert_eq!((p.task_id(), p.status()), (Some("x-1"), Some("FINISH")));
        let p = parse(br#"{"EventType":"Zed","LiveScheduleTaskEvent":{"TaskId":"l-1","Status":"PROCESSING"}}"#)
            .map_err(|e| e.to_string());
        let Ok(p) = p else { panic!("{p:?}") };
        assert_eq!((p.task_id(), p.status()), (Some("l-1"), Some("PROCESSING")));
        let p = parse(br#"{"TaskId":"top","Status":"S"}"#).map_err(|e| e.to_string());
        let Ok(p) = p else { panic!("{p:?}") };
        assert_eq!((p.task_id(), p.status()), (Some("top"), Some("S")));
    }

    #[test]
    fn event_time_is_latest_parsable_finish_time() {
        let body = br#"{"EventType":"WorkflowTask","WorkflowTaskEvent":{"MediaProcessResultSet":[
            {"Type":"Transcode","TranscodeTask":{"FinishTime":"2026-01-01T00:00:09+08:00"}},
            {"Type":"SampleSnapshot","SampleSnapshotTask":{"FinishTime":"2026-01-01T00:00:05Z"}},
            {"Type":"ImageSprites","ImageSpriteTask":{"FinishTime":"0000-00-00T00:00:00Z"}},
            {"Type":"AnimatedGraphics","AnimatedGraphicTask":{"FinishTime":17}}],
            "AiAnalysisResultSet":[{"Type":"Cover","CoverTask":{"FinishTime":"2026-01-01T00:00:04Z"}}],
            "SmartEraseTaskResult":{"FinishTime":"2026-01-01T00:00:06.5Z"}}}"#;
        let p = parse(body).map_err(|e| e.to_string());
        let t = p.ok().and_then(|p| p.event_time()).map(|t| t.to_rfc3339());
        assert_eq!(t.as_deref(), Some("2026-01-01T00:00:06.500+00:00"));
        let none = parse(br#"{"EventType":"EditMediaTask","EditMediaTaskEvent":{"FinishTime":"2026-01-01T00:00:06Z"}}"#);
        assert_eq!(none.ok().and_then(|p| p.event_time()), None);
    }

    #[test]
    fn debug_hides_s3_secrets() {
        let p = parse(br#"{"EventType":"WorkflowTask","WorkflowTaskEvent":{"InputInfo":{"Type":"AWS-S3","S3InputInfo":{"S3Bucket":"b","S3SecretId":"AKIDSECRET1","S3SecretKey":"SECRETKEY2"}}}}"#)
            .map_err(|e| e.to_string());
        let dbg = format!("{p:?}");
        assert!(dbg.contains("s3_bucket"), "{dbg}");
        assert!(
            !dbg.contains("AKIDSECRET1") && !dbg.contains("SECRETKEY2"),
            "{dbg}"
        );
    }
}
