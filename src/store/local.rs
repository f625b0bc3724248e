//! A directory that mirrors bucket keys: `invoke` without a bucket, and tests.

/// Why a local write failed.
#[derive(Debug, thiserror::Error)]
pub enum LocalError {
    /// Placeholder.
    #[error("local store: {0}")]
    Io(String),
}
