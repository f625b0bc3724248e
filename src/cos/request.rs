//! A request as a value: built and signed without I/O, sent by the client.

use bytes::Bytes;
use reqwest::header::HeaderMap;
use reqwest::Method;

/// One HTTP request; `Host` is sent by the HTTP layer from `url`. No `Debug`: the
/// headers hold the signature and the session token.
pub(crate) struct Request {
    pub(crate) method: Method,
    /// Absolute URL, path percent-encoded.
    pub(crate) url: String,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
}
