//! SCF custom-runtime API client and the invocation loop. Knows nothing about MPS or COS.
//!
//! OWNER: runtime/config helper. The items below are the agreed interface.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use chrono::{DateTime, Utc};

/// One invocation, as the runtime API described it.
#[derive(Debug, Clone)]
pub struct Context {
    /// `request_id` header (empty when absent).
    pub request_id: String,
    /// `memory_limit_in_mb` header.
    pub memory_limit_mb: Option<u64>,
    /// `time_limit_in_ms` header.
    pub time_limit: Duration,
    /// When the event arrived (monotonic).
    pub arrived: Instant,
    /// When the event arrived (wall clock).
    pub received_at: DateTime<Utc>,
    /// Time by which the handler must be done: arrival + time limit - safety margin.
    pub deadline: Instant,
}

/// Handles one event; `Ok` becomes a response post, `Err` (one line) an error post.
pub trait Handler: Send + Sync + 'static {
    /// Handles one invocation.
    fn handle(
        &self,
        ctx: Context,
        event: Bytes,
    ) -> impl Future<Output = Result<serde_json::Value, String>> + Send;
}

/// Why the loop stopped abnormally.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    /// The runtime API stayed unreachable.
    #[error("runtime API unreachable: {0}")]
    Unreachable(String),
}

/// Posts `init/ready`, then serves invocations until SIGTERM/SIGINT (`Ok`) or the API is lost (`Err`).
pub async fn run<H: Handler, S: Future<Output = ()>>(
    _api_base: &str,
    _http: reqwest::Client,
    _handler: Arc<H>,
    _shutdown: S,
) -> Result<(), RuntimeError> {
    todo!()
}

/// Resolves on SIGTERM or SIGINT.
pub async fn shutdown_signal() {
    todo!()
}
