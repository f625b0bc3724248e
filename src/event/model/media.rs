//! The pieces every task family shares: where the source media came from
//! (`MediaInputInfo`), where a result was written (`TaskOutputStorage`) and what a media file
//! is (`MediaMetaData` and its streams). The S3 variants carry third-party credentials, so
//! their `Debug` prints `***` in place of the secrets.

use std::fmt;

use crate::event::lenient;

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
