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

mod connect;

use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioTimer};

pub use http::{header, HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri};

use crate::text::{error_chain, one_line};

/// A request as a value: built (and signed) without I/O, sent by [`HttpClient::send`].
///
/// Its `Debug` shows the method, the URI without its query, the header names and the body's
/// length: header values (signatures, session tokens), queries and bodies (callbacks with
/// credentials inside) never reach a log line through it.
#[derive(Clone)]
pub struct Request {
    /// Method.
    pub method: Method,
    /// Absolute URI: `http` or `https`, host, optional port, path and query.
    pub uri: Uri,
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
    pub headers: HeaderMap,
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

/// How one exchange reads its answer.
struct Read {
    /// Largest body accepted.
    max_body: usize,
    /// When the whole exchange must be over (head, then body).
    deadline: Option<Instant>,
    /// How long the body may take once the head is in; replaces `deadline` for the body.
    body_time: Option<Duration>,
    /// Statuses whose head is the whole answer (see [`HttpClient::send_status`]).
    head_suffices: Option<fn(StatusCode) -> bool>,
}

/// How long the body of an answer whose status is the whole answer
/// ([`HttpClient::send_status`]) is waited for: one that ends in time leaves the connection
/// reusable; a slower one is dropped with its connection.
const ACCEPTED_BODY_GRACE: Duration = Duration::from_millis(500);

/// How long an idle pooled connection is kept before it is closed.
const POOL_IDLE: Duration = Duration::from_secs(60);

/// Sends [`Request`]s over pooled keep-alive connections. Cheap to clone; one per process.
#[derive(Clone)]
pub struct HttpClient {
    inner: Client<connect::Connector, Full<Bytes>>,
}

impl std::fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HttpClient")
    }
}

impl Default for HttpClient {
    fn default() -> Self {
        HttpClient::new()
    }
}

impl HttpClient {
    /// A client; opens nothing until the first request (TLS roots load on first `https`).
    pub fn new() -> HttpClient {
        let inner = Client::builder(TokioExecutor::new())
            .pool_timer(TokioTimer::new())
            .pool_idle_timeout(POOL_IDLE)
            .build(connect::Connector);
        HttpClient { inner }
    }

    /// Sends `req` and reads its answer within `bounds`.
    pub async fn send(&self, req: Request, bounds: Bounds) -> Result<Answer, TransportError> {
        self.exchange(
            req,
            Read {
                max_body: bounds.max_body,
                deadline: bounds.deadline,
                body_time: None,
                head_suffices: None,
            },
        )
        .await
    }

    /// Like [`HttpClient::send`], for a receiver whose status is its whole answer: when the
    /// answer's head carries a status `head_suffices` accepts, its body is read for at most
    /// [`ACCEPTED_BODY_GRACE`] within the bounds, and a body that is cut short, trickles
    /// past that or is longer than the bound does not fail the exchange (the answer then
    /// has an empty body). Other statuses are read as [`HttpClient::send`] reads them.
    pub async fn send_status(
        &self,
        req: Request,
        bounds: Bounds,
        head_suffices: fn(StatusCode) -> bool,
    ) -> Result<Answer, TransportError> {
        self.exchange(
            req,
            Read {
                max_body: bounds.max_body,
                deadline: bounds.deadline,
                body_time: None,
                head_suffices: Some(head_suffices),
            },
        )
        .await
    }

    /// A long poll: waits for the answer's head as long as it takes, then reads its body
    /// within `body_time` ([`TransportError::TimedOut`] past it: the head was in, so only the
    /// body can be late).
    pub async fn long_poll(
        &self,
        req: Request,
        max_body: usize,
        body_time: Duration,
    ) -> Result<Answer, TransportError> {
        self.exchange(
            req,
            Read {
                max_body,
                deadline: None,
                body_time: Some(body_time),
                head_suffices: None,
            },
        )
        .await
    }

    async fn exchange(&self, req: Request, read: Read) -> Result<Answer, TransportError> {
        check_uri(&req.uri).map_err(TransportError::InvalidRequest)?;
        let host = shown_host(&req.uri);
        let timed_out = || TransportError::TimedOut { host: host.clone() };
        let mut out = http::Request::new(Full::new(req.body));
        *out.method_mut() = req.method;
        *out.uri_mut() = req.uri;
        *out.headers_mut() = req.headers;
        let head = async {
            self.inner.request(out).await.map_err(|e| {
                let (host, detail) = (host.clone(), error_chain(&e));
                if e.is_connect() {
                    TransportError::Connect { host, detail }
                } else {
                    TransportError::Io { host, detail }
                }
            })
        };
        let resp = match read.deadline {
            Some(d) => tokio::time::timeout_at(d.into(), head)
                .await
                .map_err(|_| timed_out())??,
            None => head.await?,
        };
        let (parts, mut body) = resp.into_parts();
        if parts.status.is_redirection() {
            return Err(TransportError::Redirect {
                status: parts.status.as_u16(),
                location_host: location_host(&parts.headers),
            });
        }
        let max_body = read.max_body;
        let too_large = || TransportError::BodyTooLarge {
            limit: max_body,
            status: parts.status.as_u16(),
        };
        let declared = parts
            .headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        let capacity = declared.map_or(0, |n| n as usize).min(max_body);
        let whole_body = async {
            if declared.is_some_and(|n| n > max_body as u64) {
                return Err(too_large());
            }
            let mut buf = BytesMut::with_capacity(capacity);
            while let Some(frame) = body.frame().await {
                let frame = frame.map_err(|e| TransportError::Io {
                    host: host.clone(),
                    detail: error_chain(&e),
                })?;
                if let Ok(data) = frame.into_data() {
                    if buf.len() + data.len() > max_body {
                        return Err(too_large());
                    }
                    buf.extend_from_slice(&data);
                }
            }
            Ok(buf.freeze())
        };
        let head_suffices = read.head_suffices.is_some_and(|ok| ok(parts.status));
        let body_by = match (read.body_time, read.deadline) {
            (Some(t), _) => Some(Instant::now() + t),
            (None, d) => d,
        };
        // Only to keep the connection reusable is such a body read at all: a short wait.
        let body_by = match (head_suffices, body_by) {
            (true, by) => {
                let grace = Instant::now() + ACCEPTED_BODY_GRACE;
                Some(by.map_or(grace, |by| by.min(grace)))
            }
            (false, by) => by,
        };
        let body = match body_by {
            Some(by) => tokio::time::timeout_at(by.into(), whole_body)
                .await
                .map_err(|_| timed_out())
                .and_then(|r| r),
            None => whole_body.await,
        };
        let body = match body {
            Ok(body) => body,
            // The status was the answer: what its body does changes nothing.
            Err(_) if head_suffices => Bytes::new(),
            Err(e) => return Err(e),
        };
        Ok(Answer {
            status: parts.status,
            headers: parts.headers,
            body,
        })
    }
}

/// The host of `uri` as error lines name it: as the `Host` header writes it, `host`, or
/// `host:port` when the port is not the scheme's default.
fn shown_host(uri: &Uri) -> String {
    host_header(uri)
        .map(|h| one_line(&h))
        .unwrap_or_else(|| "an unnamed host".to_string())
}

/// The host a `Location` header names (absolute URIs only), for the redirect error.
fn location_host(headers: &HeaderMap) -> Option<String> {
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

/// What a configured URL may carry after its host and port.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UrlShape {
    /// A base URL: nothing after the authority but an optional `/` (endpoints).
    Base,
    /// A path and a query too (webhook targets).
    WithPath,
}

/// Why a configured URL cannot be used. `Display` is the reason alone, never the URL (a
/// query or userinfo may hold a secret): callers name the variable or entry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlError {
    /// A `#...` part: never sent, so it can mean nothing to the receiver.
    #[error("a URL fragment (#...) is never sent; remove it")]
    Fragment,
    /// Spaces or control characters.
    #[error("a URL cannot contain spaces or control characters")]
    Whitespace,
    /// Not a URI at all.
    #[error("not a valid URL: {0}")]
    Invalid(String),
    /// Another scheme than `http` or `https`, or none.
    #[error("not an absolute http or https URL")]
    Scheme,
    /// `user:password@host`: not sent by the HTTP layer, and a secret in every log line.
    #[error(
        "credentials in a URL (user:password@) are not sent; use a secret in the query instead"
    )]
    UserInfo,
    /// No host.
    #[error("the URL has no host")]
    NoHost,
    /// A port that is not one.
    #[error("{0}")]
    Port(String),
    /// A base URL with a path or a query.
    #[error("a base URL must not have a path or query")]
    NotBase,
}

/// The one parser of URLs given in configuration (`COS_ENDPOINT`, the Cloud API endpoints,
/// webhook targets): `http` or `https`, a host, a real port, no userinfo, no fragment, no
/// whitespace, and for a [`UrlShape::Base`] nothing after the authority but `/`.
pub fn parse_url(raw: &str, shape: UrlShape) -> Result<Uri, UrlError> {
    let raw = raw.trim();
    // The URI type refuses a fragment with an unhelpful message: name it first.
    if raw.contains('#') {
        return Err(UrlError::Fragment);
    }
    if raw.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(UrlError::Whitespace);
    }
    let uri: Uri = raw
        .parse()
        .map_err(|e: http::uri::InvalidUri| UrlError::Invalid(e.to_string()))?;
    if !matches!(uri.scheme_str(), Some("http" | "https")) {
        return Err(UrlError::Scheme);
    }
    if uri.authority().is_some_and(|a| a.as_str().contains('@')) {
        return Err(UrlError::UserInfo);
    }
    if uri.host().is_none_or(str::is_empty) {
        return Err(UrlError::NoHost);
    }
    check_uri(&uri).map_err(UrlError::Port)?;
    if shape == UrlShape::Base && (uri.query().is_some() || !matches!(uri.path(), "" | "/")) {
        return Err(UrlError::NotBase);
    }
    Ok(uri)
}

/// Whether a request can go to `uri` exactly as written: an `http` or `https` scheme, a
/// host, and a port that is a port. `http::Uri` accepts `host:99999` and then reports no
/// port at all, which would silently send to the scheme's default port instead.
pub fn check_uri(uri: &Uri) -> Result<(), String> {
    if !matches!(uri.scheme_str(), Some("http" | "https")) || uri.host().is_none_or(str::is_empty) {
        return Err("the URI needs an http or https scheme and a host".into());
    }
    let authority = uri.authority().map_or("", |a| a.as_str());
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, hp)| hp);
    let port = match host_port.strip_prefix('[') {
        Some(v6) => v6.split_once("]:").map(|(_, p)| p),
        None => host_port.rsplit_once(':').map(|(_, p)| p),
    };
    if port.is_some_and(|p| p.parse::<u16>().is_err()) {
        return Err("the URI's port is not a number from 0 to 65535".into());
    }
    Ok(())
}

/// `host`, or `host:port` when the port is not the scheme's default: the `Host` header
/// sent, and so the value signers must sign.
pub fn host_header(uri: &Uri) -> Option<String> {
    let host = uri.host()?;
    let default_port = match uri.scheme_str() {
        Some("https") => Some(443),
        Some("http") => Some(80),
        _ => None,
    };
    Some(match uri.port_u16() {
        Some(port) if Some(port) != default_port => format!("{host}:{port}"),
        _ => host.to_string(),
    })
}

/// An IPv6 literal without its URI brackets.
fn strip_brackets(host: &str) -> &str {
    host.strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configured_urls_follow_one_set_of_rules() {
        use UrlShape::{Base, WithPath};
        for ok in [
            "https://h.example",
            "http://127.0.0.1:9000/",
            " https://[::1]:8443 ",
        ] {
            assert!(parse_url(ok, Base).is_ok(), "{ok}");
        }
        assert!(parse_url("https://h.example/hook?token=t", WithPath).is_ok());
        let cases = [
            ("https://h.example/x#frag", WithPath, UrlError::Fragment),
            ("https://h.example/a b", WithPath, UrlError::Whitespace),
            ("ftp://h.example", Base, UrlError::Scheme),
            ("h.example", Base, UrlError::Scheme),
            ("https://u:p@h.example", Base, UrlError::UserInfo),
            ("https://h.example/x", Base, UrlError::NotBase),
            ("https://h.example/?q=1", Base, UrlError::NotBase),
        ];
        for (raw, shape, want) in cases {
            assert_eq!(parse_url(raw, shape), Err(want), "{raw}");
        }
        assert!(matches!(
            parse_url("https://h.example:99999", Base),
            Err(UrlError::Port(_))
        ));
        assert!(matches!(
            parse_url("https://", Base),
            Err(UrlError::Invalid(_) | UrlError::NoHost)
        ));
        // The reason never carries the URL (a query or userinfo may hold a secret).
        let e = parse_url("https://user:pw9X@h.example/?k=s3kr1t", WithPath).unwrap_err();
        assert!(!e.to_string().contains("pw9X") && !e.to_string().contains("s3kr1t"));
    }

    #[test]
    fn host_header_has_a_port_only_when_not_default() {
        let h = |u: &str| host_header(&u.parse::<Uri>().expect("uri"));
        assert_eq!(
            h("https://b-1.cos.ap-x.myqcloud.com/k").as_deref(),
            Some("b-1.cos.ap-x.myqcloud.com")
        );
        assert_eq!(h("https://b:443/").as_deref(), Some("b"));
        assert_eq!(h("http://127.0.0.1:80/").as_deref(), Some("127.0.0.1"));
        assert_eq!(
            h("http://127.0.0.1:9000/").as_deref(),
            Some("127.0.0.1:9000")
        );
        assert_eq!(h("https://[::1]:8443/").as_deref(), Some("[::1]:8443"));
    }

    #[test]
    fn ports_out_of_range_and_missing_hosts_are_refused() {
        let check = |u: &str| check_uri(&u.parse::<Uri>().expect("uri"));
        assert!(check("https://h.example:99999/x").is_err());
        assert!(check("http://h.example:65535/x").is_ok());
        assert!(check("https://h.example/x").is_ok());
        assert!(check("https://[::1]:8443/x").is_ok());
        assert!(check("https://[::1]:99999/x").is_err());
        assert!(check("ftp://h.example/x").is_err());
        assert!(check("/relative").is_err());
    }

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
