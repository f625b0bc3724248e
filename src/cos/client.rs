//! PUT Object over one shared reqwest client, with integrity checks and deadline-aware retries.

use std::time::Instant;

use crate::config::CosConfig;
use crate::store::Object;

/// What COS confirmed.
#[derive(Debug, Clone)]
pub struct PutOutcome {
    /// `ETag` as returned (quotes stripped).
    pub etag: String,
    /// `x-cos-request-id`.
    pub request_id: Option<String>,
    /// CRC-64 confirmed by COS (equal to ours).
    pub crc64: u64,
    /// Attempts made, 1-based.
    pub attempts: u32,
}

/// Why a PUT failed; displays as one line, never with a credential.
#[derive(Debug, thiserror::Error)]
pub enum CosError {
    /// Placeholder until the COS helper fills this in.
    #[error("COS PUT failed after {attempts} attempts: {reason}")]
    Failed {
        /// Attempts made.
        attempts: u32,
        /// Last reason.
        reason: String,
    },
}

/// COS client for one bucket.
#[derive(Debug, Clone)]
pub struct CosClient {
    http: reqwest::Client,
    cfg: CosConfig,
}

impl CosClient {
    /// Builds a client on the process's shared reqwest client.
    pub fn new(http: reqwest::Client, cfg: CosConfig) -> Self {
        CosClient { http, cfg }
    }

    /// Bucket name.
    pub fn bucket(&self) -> &str {
        &self.cfg.bucket
    }

    /// PUTs one object; succeeds only when COS confirmed the exact bytes before `deadline`.
    pub async fn put_object(
        &self,
        _obj: &Object<'_>,
        _deadline: Instant,
    ) -> Result<PutOutcome, CosError> {
        let _ = &self.http;
        todo!()
    }
}
