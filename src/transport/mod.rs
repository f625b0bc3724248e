//! The process's one HTTP/1.1 client: every request of the runtime API, COS, the Cloud API
//! and webhooks goes through [`HttpClient::send`].
//!
//! What it guarantees, whatever the server does:
//! - **No redirect is followed.** A 3xx answer is [`TransportError::Redirect`], naming the
//!   status and the `Location` host, and nothing is sent anywhere else: a record, a session
//!   token or a signed request never reaches a host that was not configured.
//! - **Every body read is bounded** ([`Bounds::max_body`]) and every exchange can carry a
//!   deadline (connect, send, headers and body together): an endless or huge answer is an
//!   error with memory flat, never an out-of-memory kill or an overrun.
//! - **How the server segments its answer does not matter**: see the `connect` module for why each
//!   read acknowledges at once.
//!
//! Requests are plain values ([`Request`]) so the modules that build and sign them stay free
//! of I/O; connections are kept alive and pooled per host.
//!
//! Here: requests, answers and bounds as values. `client` sends them, `connect` opens the
//! connections, `error` says why an exchange failed, `url` parses configured URLs.

mod client;
mod connect;
mod error;
mod url;

use std::time::Instant;

use bytes::Bytes;

pub use http::{header, HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri};

pub use client::HttpClient;
pub use error::{reason_phrase, status_line, TransportError};
pub(crate) use url::{host_header, parse_url, UrlError, UrlShape};

/// A request as a value: built (and signed) without I/O, sent by [`HttpClient::send`].
///
/// Its `Debug` shows the method, the URI without its query, the header names and the body's
/// length: header values (signatures, session tokens), queries and bodies (callbacks with
/// credentials inside) never reach a log line through it.
#[derive(Clone)]
pub struct Request {
    /// Method.
    pub(crate) method: Method,
    /// Absolute URI: `http` or `https`, host, optional port, path and query.
    pub(crate) uri: Uri,
    /// Headers; `Host` is derived from `uri` (see [`host_header`]) when absent.
    pub headers: HeaderMap,
    /// Body (cheap to clone for a retry).
    pub body: Bytes,
}

impl Request {
    /// A request with no headers and an empty body.
    pub fn new(method: Method, uri: Uri) -> Request {
        Request {
            method,
            uri,
            headers: HeaderMap::new(),
            body: Bytes::new(),
        }
    }
}

impl std::fmt::Debug for Request {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let shown = format!(
            "{}://{}{}{}",
            self.uri.scheme_str().unwrap_or(""),
            self.uri.authority().map_or("", |a| a.as_str()),
            self.uri.path(),
            if self.uri.query().is_some() {
                "?…"
            } else {
                ""
            }
        );
        f.debug_struct("Request")
            .field("method", &self.method)
            .field("uri", &shown)
            .field("headers", &self.headers.keys().collect::<Vec<_>>())
            .field("body_bytes", &self.body.len())
            .finish()
    }
}

/// An answer, its body read completely within the bounds.
#[derive(Debug, Clone)]
pub struct Answer {
    /// Status (never 3xx: those are errors).
    pub status: StatusCode,
    /// Headers as received.
    pub(crate) headers: HeaderMap,
    /// Body.
    pub body: Bytes,
}

impl Answer {
    /// A header's value when it is present and visible ASCII.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// How much an exchange may read and for how long.
#[derive(Debug, Clone, Copy)]
pub struct Bounds {
    /// Largest body accepted; a larger one is [`TransportError::BodyTooLarge`].
    pub max_body: usize,
    /// When the whole exchange must be over; `None` waits as long as it takes (long polls).
    pub deadline: Option<Instant>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_shows_no_header_value_query_or_body() {
        let mut req = Request::new(
            Method::PUT,
            "https://b.example/k?token=querysecret"
                .parse()
                .expect("uri"),
        );
        req.headers.insert(
            "x-cos-security-token",
            HeaderValue::from_static("headersecret"),
        );
        req.body = Bytes::from_static(b"{\"SecretKey\":\"bodysecret\"}");
        let shown = format!("{req:?}");
        for secret in ["querysecret", "headersecret", "bodysecret"] {
            assert!(!shown.contains(secret), "{shown}");
        }
        assert!(shown.contains("x-cos-security-token") && shown.contains("https://b.example/k?…"));
    }
}
