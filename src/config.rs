//! Environment -> validated [`Config`], read once at start.
//!
//! OWNER: runtime/config helper. Types below are the agreed interface; keep field names.

use std::fmt;

use chrono::FixedOffset;

use crate::layout::KeyTemplate;

/// Which command is starting: decides what is required.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// SCF runtime mode: `COS_BUCKET`, region, credentials and the runtime API address are required.
    Runtime,
    /// `invoke`: COS is used only when `COS_BUCKET` is set; no runtime API.
    Invoke,
}

/// Credentials of the execution role; `Debug` never shows the values.
#[derive(Clone)]
pub struct Credentials {
    /// `TENCENTCLOUD_SECRETID`.
    pub secret_id: String,
    /// `TENCENTCLOUD_SECRETKEY`.
    pub secret_key: String,
    /// `TENCENTCLOUD_SESSIONTOKEN`, absent for long-term keys.
    pub session_token: Option<String>,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("secret_id", &"***")
            .field("secret_key", &"***")
            .field("session_token", &self.session_token.as_ref().map(|_| "***"))
            .finish()
    }
}

/// Where and how objects are written in COS.
#[derive(Debug, Clone)]
pub struct CosConfig {
    /// `<name>-<appid>`.
    pub bucket: String,
    /// e.g. `ap-guangzhou`.
    pub region: String,
    /// Base URL of the bucket without a trailing `/`, e.g. `https://b-125.cos.ap-guangzhou.myqcloud.com`.
    pub endpoint: String,
    /// `x-cos-storage-class` value when set.
    pub storage_class: Option<String>,
    /// Role credentials.
    pub credentials: Credentials,
}

/// How events become objects (shared by the COS and local stores).
#[derive(Debug, Clone)]
pub struct ArchiveConfig {
    /// `COS_KEY_PREFIX`.
    pub key_prefix: String,
    /// `COS_KEY_TEMPLATE`, parsed.
    pub key_template: KeyTemplate,
    /// `ARCHIVE_UTC_OFFSET`.
    pub utc_offset: FixedOffset,
    /// `ARCHIVE_EVENT_TYPES`; `None` = all.
    pub event_types: Option<Vec<String>>,
    /// `ARCHIVE_REDACT`.
    pub redact: bool,
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// One JSON object per line (default).
    Json,
    /// Human-readable lines.
    Text,
}

/// Logging settings.
#[derive(Debug, Clone)]
pub struct LogConfig {
    /// `LOG_FORMAT`.
    pub format: LogFormat,
    /// Filter directive: `RUST_LOG` if set, else `LOG_LEVEL`, else `info`.
    pub filter: String,
}

/// The whole validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// COS target; `None` only in invoke mode without `COS_BUCKET`.
    pub cos: Option<CosConfig>,
    /// Key layout, redaction, filters.
    pub archive: ArchiveConfig,
    /// Logging.
    pub log: LogConfig,
    /// `http://$SCF_RUNTIME_API:$SCF_RUNTIME_API_PORT`, runtime mode only.
    pub runtime_api: Option<String>,
}

/// A configuration problem: names the variable and what is wrong, one line.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration: {var}: {reason}")]
pub struct ConfigError {
    /// Variable name.
    pub var: &'static str,
    /// What is wrong (never contains a secret value).
    pub reason: String,
}

impl LogConfig {
    /// Logging settings read before validation, falling back to defaults silently.
    pub fn from_env_lenient<F: Fn(&str) -> Option<String>>(_get: F) -> LogConfig {
        todo!()
    }
}

impl Config {
    /// Reads and validates the configuration through `get` (normally `std::env::var`).
    pub fn from_env<F>(_get: F, _mode: Mode) -> Result<Config, ConfigError>
    where
        F: Fn(&str) -> Option<String>,
    {
        todo!("config helper")
    }
}
