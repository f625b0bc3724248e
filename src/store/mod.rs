//! Where records go: a trait with a COS and a local-directory implementation (and, for the
//! handler's tests, one in memory).

mod cos;
pub(crate) mod local;
#[cfg(test)]
pub(crate) mod memory;

use std::future::Future;
use std::time::Instant;

use bytes::Bytes;

/// One object to write.
#[derive(Debug, Clone)]
pub struct Object<'a> {
    /// Object key (decoded, no leading `/`).
    pub key: &'a str,
    /// Body bytes.
    pub body: Bytes,
    /// `Content-Type`.
    pub(crate) content_type: &'a str,
    /// `x-cos-meta-<name>` pairs (name without the prefix).
    pub(crate) metadata: &'a [(&'a str, &'a str)],
}

/// What the store confirmed.
#[derive(Debug, Clone)]
pub struct Stored {
    /// Entity tag of the stored object.
    pub etag: String,
    /// Attempts made.
    pub attempts: u32,
}

/// Why a write failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// COS said no, or never answered in time.
    #[error(transparent)]
    Cos(#[from] crate::cos::CosError),
    /// The local directory write failed.
    #[error(transparent)]
    Local(#[from] local::LocalError),
}

impl StoreError {
    /// The store refused this process's credentials: no later write can succeed, and the
    /// process should end so that a fresh one starts with fresh credentials.
    pub fn credentials_rejected(&self) -> bool {
        match self {
            StoreError::Cos(e) => e.is_credentials_rejected(),
            StoreError::Local(_) => false,
        }
    }
}

/// Puts bytes at a key, durably, before a deadline.
pub trait Store: Send + Sync + 'static {
    /// Bucket name, or the directory for the local store.
    fn location(&self) -> &str;
    /// Writes one object; `Ok` only once the bytes are durably stored.
    fn put(
        &self,
        obj: Object<'_>,
        deadline: Instant,
    ) -> impl Future<Output = Result<Stored, StoreError>> + Send;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cos::{CosError, CosFailure, ErrorBody};
    use crate::retry::{Ending, GaveUp};

    #[test]
    fn only_refused_cos_credentials_say_so() {
        let failure = CosFailure::Status {
            status: 403,
            error: Box::new(ErrorBody::default()),
        };
        let gave_up = |ending| {
            StoreError::from(CosError::GaveUp {
                op: "PUT",
                at: "".into(),
                gave_up: GaveUp {
                    attempts: 1,
                    ending,
                },
            })
        };
        let refused = gave_up(Ending::CredentialsRejected(failure.clone()));
        assert!(refused.credentials_rejected());
        let rejected = gave_up(Ending::Rejected(failure));
        assert!(!rejected.credentials_rejected());
        assert!(!StoreError::from(local::LocalError::Deadline).credentials_rejected());
    }
}
