//! [`TransportError`]: why an exchange failed, as one line that names the host concerned
//! and never a query or a header value; and the status lines error messages use.

use http::{header, HeaderMap, StatusCode, Uri};

use super::url::{host_header, strip_brackets};
use crate::text::one_line;

/// Why an exchange failed; each displays as one line without URL query or header values.
/// Failures of the exchange itself name the host they concern (`host`, or `host:port` when the
/// port is not the scheme's default), so a misspelled endpoint or region shows in the line.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    /// The request cannot be sent as built (scheme, host, header).
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// No connection could be opened (resolution, refusal, TLS handshake).
    #[error("could not connect to {host}: {detail}")]
    Connect {
        /// The host as the request named it.
        host: String,
        /// What failed.
        detail: String,
    },
    /// The connection broke during the exchange (reset, closed early).
    #[error("connection to {host} failed: {detail}")]
    Io {
        /// The host as the request named it.
        host: String,
        /// What failed.
        detail: String,
    },
    /// The deadline passed before the answer was complete.
    #[error("no complete answer from {host} before the deadline")]
    TimedOut {
        /// The host as the request named it.
        host: String,
    },
    /// The server answered with a redirect, which is never followed.
    #[error("answered {status} redirecting to {}; redirects are not followed", .location_host.as_deref().unwrap_or("an unnamed location"))]
    Redirect {
        /// The 3xx status.
        status: u16,
        /// Host named by `Location`, when it names one.
        location_host: Option<String>,
    },
    /// The answer's body is larger than the bound.
    #[error("answer body is larger than {limit} bytes; not read further")]
    BodyTooLarge {
        /// The bound that was passed.
        limit: usize,
        /// The answer's status: a receiver may accept a request and still answer at length.
        status: u16,
    },
}

impl TransportError {
    /// Whether sending again may succeed: connection failures and timeouts, not a refused
    /// request, a redirect or an oversized answer.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            TransportError::Connect { .. }
                | TransportError::Io { .. }
                | TransportError::TimedOut { .. }
        )
    }
}

/// The host of `uri` as error lines name it: as the `Host` header writes it, `host`, or
/// `host:port` when the port is not the scheme's default.
pub(super) fn shown_host(uri: &Uri) -> String {
    host_header(uri)
        .map(|h| one_line(&h))
        .unwrap_or_else(|| "an unnamed host".to_string())
}

/// The host a `Location` header names (absolute URIs only), for the redirect error.
pub(super) fn location_host(headers: &HeaderMap) -> Option<String> {
    let location = headers.get(header::LOCATION)?.to_str().ok()?;
    let uri: Uri = location.trim().parse().ok()?;
    uri.host().map(|h| one_line(strip_brackets(h)))
}

/// The standard reason phrase of an HTTP status (`Service Unavailable`), when it has one:
/// what error lines add to a status whose answer said nothing readable.
pub fn reason_phrase(status: u16) -> Option<&'static str> {
    StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
}

/// `HTTP 503 Service Unavailable` (or `HTTP 599` for a status without a phrase).
pub fn status_line(status: u16) -> String {
    match reason_phrase(status) {
        Some(r) => format!("HTTP {status} {r}"),
        None => format!("HTTP {status}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    #[test]
    fn redirect_names_the_location_host_only() {
        let mut h = HeaderMap::new();
        h.insert(
            header::LOCATION,
            HeaderValue::from_static("https://evil.example:8443/p?token=secret"),
        );
        assert_eq!(location_host(&h).as_deref(), Some("evil.example"));
        h.insert(header::LOCATION, HeaderValue::from_static("/relative?x=1"));
        assert_eq!(location_host(&h), None);
        let e = TransportError::Redirect {
            status: 307,
            location_host: Some("evil.example".into()),
        };
        assert_eq!(
            e.to_string(),
            "answered 307 redirecting to evil.example; redirects are not followed"
        );
        assert!(!e.is_retryable());
    }

    #[test]
    fn retryable_classes() {
        let (host, detail) = ("h".to_string(), "reset".to_string());
        assert!(TransportError::Io { host, detail }.is_retryable());
        let e = TransportError::Connect {
            host: "b-1.cos.ap-guangzho.myqcloud.com".into(),
            detail: "dns error: failed to lookup address information".into(),
        };
        assert!(e.is_retryable());
        assert_eq!(
            e.to_string(),
            "could not connect to b-1.cos.ap-guangzho.myqcloud.com: dns error: failed to lookup address information"
        );
        assert!(TransportError::TimedOut { host: "h".into() }.is_retryable());
        assert!(!TransportError::BodyTooLarge {
            limit: 1,
            status: 200
        }
        .is_retryable());
        assert!(!TransportError::InvalidRequest("x".into()).is_retryable());
    }
}
