//! [`HttpClient`]: requests sent over pooled keep-alive connections, redirects refused,
//! bodies read within their bound and deadline.

use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioTimer};

use super::connect;
use super::error::{location_host, shown_host};
use super::url::check_uri;
use super::{header, Answer, Bounds, Request, StatusCode, TransportError};
use crate::text::error_chain;

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

impl Read {
    /// Reading within `bounds`, the body under the same deadline as the head.
    fn within(bounds: Bounds, head_suffices: Option<fn(StatusCode) -> bool>) -> Read {
        Read {
            max_body: bounds.max_body,
            deadline: bounds.deadline,
            body_time: None,
            head_suffices,
        }
    }
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
        self.exchange(req, Read::within(bounds, None)).await
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
        self.exchange(req, Read::within(bounds, Some(head_suffices)))
            .await
    }

    /// A long poll: waits for the answer's head as long as it takes, then reads its body
    /// within `body_time` ([`TransportError::TimedOut`] past it: the head was in, so only the
    /// body can be late).
    pub(crate) async fn long_poll(
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
