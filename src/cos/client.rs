//! PUT Object over one shared reqwest client, with integrity checks and deadline-aware retries.

use std::fmt;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use md5::{Digest, Md5};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

use super::crc64::crc64;
use super::sign::{encode_key_path, sign, KeyTime, SignRequest};
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

/// Why one attempt failed; displays as one line without any credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// COS (or a proxy) answered with a non-200 status.
    Status {
        /// HTTP status.
        status: u16,
        /// `<Code>` of the XML error body.
        code: Option<String>,
        /// `<Message>` of the XML error body (one line, truncated).
        message: Option<String>,
        /// `<RequestId>` or the `x-cos-request-id` header.
        request_id: Option<String>,
        /// `<TraceId>`.
        trace_id: Option<String>,
    },
    /// 200, but the returned CRC-64 is missing or differs from the body's.
    Integrity {
        /// CRC-64 of the body sent.
        expected: u64,
        /// `x-cos-hash-crc64ecma` as received (None when absent or unparsable).
        got: Option<u64>,
        /// `x-cos-request-id`.
        request_id: Option<String>,
    },
    /// No complete answer within the attempt's time budget.
    Timeout {
        /// The attempt's budget.
        after: Duration,
    },
    /// Connect, reset, or other transport error.
    Transport {
        /// What reqwest said (no URL).
        detail: String,
    },
}

impl Failure {
    /// COS error code, when there is one.
    pub fn code(&self) -> Option<&str> {
        match self {
            Failure::Status { code, .. } => code.as_deref(),
            _ => None,
        }
    }

    /// HTTP status, when there was an answer.
    pub fn status(&self) -> Option<u16> {
        match self {
            Failure::Status { status, .. } => Some(*status),
            _ => None,
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Status {
                status,
                code,
                message,
                request_id,
                ..
            } => {
                write!(f, "{status}")?;
                match code {
                    Some(c) => write!(f, " {c}")?,
                    None => {
                        let canon = reqwest::StatusCode::from_u16(*status)
                            .ok()
                            .and_then(|s| s.canonical_reason());
                        if let Some(r) = canon {
                            write!(f, " {r}")?;
                        }
                    }
                }
                if let Some(m) = message {
                    write!(f, ": {m}")?;
                }
                if let Some(id) = request_id {
                    write!(f, " (request id {id})")?;
                }
                Ok(())
            }
            Failure::Integrity {
                expected,
                got,
                request_id,
            } => {
                match got {
                    Some(g) => write!(
                        f,
                        "integrity check failed: COS returned x-cos-hash-crc64ecma {g}, body sent has {expected}"
                    )?,
                    None => write!(
                        f,
                        "integrity check failed: COS answered 200 without a valid x-cos-hash-crc64ecma"
                    )?,
                }
                if let Some(id) = request_id {
                    write!(f, " (request id {id})")?;
                }
                Ok(())
            }
            Failure::Timeout { after } => {
                write!(f, "no answer within {} ms", after.as_millis())
            }
            Failure::Transport { detail } => write!(f, "connection error: {detail}"),
        }
    }
}

/// Why a PUT failed; displays as one line, never with a credential.
#[derive(Debug, thiserror::Error)]
pub enum CosError {
    /// Every allowed attempt failed with a retryable failure.
    #[error("COS PUT failed after {attempts} attempts: {last}")]
    Failed {
        /// Attempts made.
        attempts: u32,
        /// Last reason.
        last: Failure,
    },
    /// COS refused the request in a way retrying cannot fix.
    #[error("COS PUT rejected: {failure}")]
    Rejected {
        /// Attempts made.
        attempts: u32,
        /// What COS said.
        failure: Failure,
    },
    /// Not enough time was left before the deadline for another attempt.
    #[error("COS PUT gave up before the deadline after {attempts} attempts: {}", last.as_ref().map(|l| l.to_string()).unwrap_or_else(|| "no time left for a first attempt".to_string()))]
    DeadlineExhausted {
        /// Attempts made.
        attempts: u32,
        /// Last reason, if any attempt was made.
        last: Option<Failure>,
    },
    /// The object key or metadata cannot be sent as-is.
    #[error("COS PUT refused before sending: {reason}")]
    InvalidRequest {
        /// What is wrong.
        reason: String,
    },
}

impl CosError {
    /// Attempts made before this error (0 when nothing was sent).
    pub fn attempts(&self) -> u32 {
        match self {
            CosError::Failed { attempts, .. }
            | CosError::Rejected { attempts, .. }
            | CosError::DeadlineExhausted { attempts, .. } => *attempts,
            CosError::InvalidRequest { .. } => 0,
        }
    }

    /// The last attempt's failure, if any.
    pub fn last_failure(&self) -> Option<&Failure> {
        match self {
            CosError::Failed { last, .. } => Some(last),
            CosError::Rejected { failure, .. } => Some(failure),
            CosError::DeadlineExhausted { last, .. } => last.as_ref(),
            CosError::InvalidRequest { .. } => None,
        }
    }
}

/// Retry and time-budget knobs; the defaults suit SCF's few-second budgets.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Most attempts per PUT.
    pub max_attempts: u32,
    /// First backoff ceiling; doubles per retry (full jitter below it).
    pub base_backoff: Duration,
    /// Largest backoff ceiling.
    pub max_backoff: Duration,
    /// Longest single attempt.
    pub max_attempt_time: Duration,
    /// An attempt is not started with less time than this left.
    pub min_attempt_time: Duration,
    /// Time kept free before the deadline so the caller can still report the error.
    pub reserve: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 8,
            base_backoff: Duration::from_millis(50),
            max_backoff: Duration::from_secs(1),
            max_attempt_time: Duration::from_secs(10),
            min_attempt_time: Duration::from_millis(200),
            reserve: Duration::from_millis(100),
        }
    }
}

/// COS client for one bucket.
#[derive(Debug, Clone)]
pub struct CosClient {
    http: reqwest::Client,
    cfg: CosConfig,
    policy: RetryPolicy,
    /// Server time minus local time, seconds, learned from a RequestTimeTooSkewed answer.
    clock_offset: Arc<AtomicI64>,
    /// xorshift state for backoff jitter.
    rng: Arc<AtomicU64>,
}

/// How one attempt ended, when it did not succeed.
enum AttemptError {
    Retry(Failure),
    Fatal(Failure),
    Skewed(Failure, Option<i64>),
}

const SKEW_BEFORE: u64 = 60;
const SKEW_WINDOW: u64 = 600;
const MAX_MESSAGE: usize = 300;
const MAX_ERROR_BODY: usize = 16 * 1024;

impl CosClient {
    /// Builds a client on the process's shared reqwest client.
    pub fn new(http: reqwest::Client, cfg: CosConfig) -> Self {
        Self::with_policy(http, cfg, RetryPolicy::default())
    }

    /// Like [`CosClient::new`] with explicit retry knobs.
    pub fn with_policy(http: reqwest::Client, cfg: CosConfig, policy: RetryPolicy) -> Self {
        let seed = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0x9E37_79B9_7F4A_7C15)
            | 1;
        CosClient {
            http,
            cfg,
            policy,
            clock_offset: Arc::new(AtomicI64::new(0)),
            rng: Arc::new(AtomicU64::new(seed)),
        }
    }

    /// Bucket name.
    pub fn bucket(&self) -> &str {
        &self.cfg.bucket
    }

    /// Server-minus-local clock offset in seconds, as learned from COS.
    pub fn clock_offset_secs(&self) -> i64 {
        self.clock_offset.load(Ordering::Relaxed)
    }

    /// PUTs one object; succeeds only when COS confirmed the exact bytes before `deadline`.
    pub async fn put_object(
        &self,
        obj: &Object<'_>,
        deadline: Instant,
    ) -> Result<PutOutcome, CosError> {
        validate_key(obj.key)?;
        let prepared = self.prepare(obj)?;
        let policy = &self.policy;
        let budget_end = deadline
            .checked_sub(policy.reserve)
            .unwrap_or_else(Instant::now);
        let mut attempts: u32 = 0;
        let mut skew_retry_used = false;
        let mut last: Option<Failure> = None;
        loop {
            let remaining = budget_end.saturating_duration_since(Instant::now());
            if remaining < policy.min_attempt_time {
                return Err(CosError::DeadlineExhausted { attempts, last });
            }
            // Leave room for at least one more attempt when a try hangs.
            let attempt_time = if remaining >= policy.min_attempt_time * 2 {
                (remaining / 2)
                    .max(policy.min_attempt_time)
                    .min(policy.max_attempt_time)
            } else {
                remaining
            };
            attempts += 1;
            let result = tokio::time::timeout(
                attempt_time,
                self.attempt(obj, &prepared, deadline, attempts),
            )
            .await
            .unwrap_or(Err(AttemptError::Retry(Failure::Timeout {
                after: attempt_time,
            })));
            let failure = match result {
                Ok(out) => return Ok(out),
                Err(AttemptError::Fatal(f)) => {
                    tracing::warn!(key = obj.key, attempt = attempts, reason = %f, "COS PUT rejected");
                    return Err(CosError::Rejected {
                        attempts,
                        failure: f,
                    });
                }
                Err(AttemptError::Skewed(f, server_offset)) => {
                    if skew_retry_used {
                        return Err(CosError::Rejected {
                            attempts,
                            failure: f,
                        });
                    }
                    skew_retry_used = true;
                    if let Some(off) = server_offset {
                        self.clock_offset.store(off, Ordering::Relaxed);
                    }
                    tracing::warn!(
                        key = obj.key,
                        attempt = attempts,
                        clock_offset_secs = self.clock_offset_secs(),
                        reason = %f,
                        "COS says the signature time is off; re-signing with the server's clock"
                    );
                    last = Some(f);
                    continue;
                }
                Err(AttemptError::Retry(f)) => f,
            };
            if attempts >= policy.max_attempts {
                tracing::warn!(key = obj.key, attempt = attempts, reason = %failure, "COS PUT failed; no attempts left");
                return Err(CosError::Failed {
                    attempts,
                    last: failure,
                });
            }
            let backoff = self.backoff(attempts);
            if Instant::now() + backoff + policy.min_attempt_time > budget_end {
                tracing::warn!(key = obj.key, attempt = attempts, reason = %failure, "COS PUT failed; not enough time left to retry");
                return Err(CosError::DeadlineExhausted {
                    attempts,
                    last: Some(failure),
                });
            }
            tracing::debug!(
                key = obj.key,
                attempt = attempts,
                backoff_ms = backoff.as_millis() as u64,
                reason = %failure,
                "COS PUT attempt failed; retrying"
            );
            last = Some(failure);
            tokio::time::sleep(backoff).await;
        }
    }

    /// Full-jitter exponential backoff: uniform in [0, min(max, base * 2^(n-1))].
    fn backoff(&self, attempt: u32) -> Duration {
        let p = &self.policy;
        let shift = attempt.saturating_sub(1).min(20);
        let ceiling = p
            .base_backoff
            .saturating_mul(1u32 << shift)
            .min(p.max_backoff);
        let ceiling_us = ceiling.as_micros() as u64;
        if ceiling_us == 0 {
            return Duration::ZERO;
        }
        Duration::from_micros(self.next_random() % (ceiling_us + 1))
    }

    fn next_random(&self) -> u64 {
        // xorshift64*; racing updates only cost a little randomness.
        let mut x = self.rng.load(Ordering::Relaxed);
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.rng.store(x, Ordering::Relaxed);
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn prepare(&self, obj: &Object<'_>) -> Result<Prepared, CosError> {
        let base = self.cfg.endpoint.trim_end_matches('/');
        let url_s = format!("{base}/{}", encode_key_path(obj.key));
        let url = reqwest::Url::parse(&url_s).map_err(|e| CosError::InvalidRequest {
            reason: format!("endpoint {base:?} does not make a valid URL: {e}"),
        })?;
        let host = host_header(&url).ok_or_else(|| CosError::InvalidRequest {
            reason: format!("endpoint {base:?} has no host"),
        })?;
        let mut headers: Vec<(String, String)> = vec![
            ("host".into(), host),
            ("content-type".into(), obj.content_type.to_string()),
            ("content-length".into(), obj.body.len().to_string()),
            (
                "content-md5".into(),
                base64::engine::general_purpose::STANDARD.encode(Md5::digest(&obj.body)),
            ),
        ];
        let mut meta_total = 0usize;
        for (name, value) in obj.metadata {
            if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
                return Err(CosError::InvalidRequest {
                    reason: format!("metadata name {name:?} must be letters, digits and '-'"),
                });
            }
            if value.chars().any(|c| c.is_control()) {
                return Err(CosError::InvalidRequest {
                    reason: format!("metadata {name:?} has a control character in its value"),
                });
            }
            // COS limits: 2 KB per metadata header, 4 KB together.
            let size = "x-cos-meta-".len() + name.len() + value.len();
            meta_total += size;
            if size > 2048 || meta_total > 4096 {
                return Err(CosError::InvalidRequest {
                    reason: format!(
                        "metadata {name:?} exceeds COS size limits (2 KB each, 4 KB in all)"
                    ),
                });
            }
            headers.push((
                format!("x-cos-meta-{}", name.to_ascii_lowercase()),
                value.to_string(),
            ));
        }
        if let Some(class) = &self.cfg.storage_class {
            headers.push(("x-cos-storage-class".into(), class.clone()));
        }
        if let Some(token) = &self.cfg.credentials.session_token {
            headers.push(("x-cos-security-token".into(), token.clone()));
        }
        if obj.content_type.chars().any(|c| c.is_control()) {
            return Err(CosError::InvalidRequest {
                reason: "content type has a control character".into(),
            });
        }
        // The SecretId travels in Authorization; a value that cannot be a header is a config error.
        if HeaderValue::from_str(&self.cfg.credentials.secret_id).is_err() {
            return Err(CosError::InvalidRequest {
                reason: "the SecretId contains characters not allowed in an HTTP header".into(),
            });
        }
        let mut header_map = HeaderMap::with_capacity(headers.len() + 1);
        for (k, v) in headers.iter().skip(1) {
            let name =
                HeaderName::from_bytes(k.as_bytes()).map_err(|_| CosError::InvalidRequest {
                    reason: format!("header name {k:?} is not valid"),
                })?;
            let value = HeaderValue::from_str(v).map_err(|_| CosError::InvalidRequest {
                reason: format!("value of header {k:?} is not a valid header value"),
            })?;
            header_map.insert(name, value);
        }
        Ok(Prepared {
            url,
            path: format!("/{}", obj.key),
            headers,
            header_map,
            crc: crc64(&obj.body),
        })
    }

    fn now_unix(&self) -> u64 {
        let local = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        local
            .saturating_add(self.clock_offset.load(Ordering::Relaxed))
            .max(0) as u64
    }

    async fn attempt(
        &self,
        obj: &Object<'_>,
        prep: &Prepared,
        deadline: Instant,
        attempt: u32,
    ) -> Result<PutOutcome, AttemptError> {
        let now = self.now_unix();
        let until_deadline = deadline.saturating_duration_since(Instant::now()).as_secs() + 60;
        let key_time = KeyTime {
            start: now.saturating_sub(SKEW_BEFORE),
            end: now + SKEW_WINDOW.max(until_deadline),
        };
        let signed_headers: Vec<(&str, &str)> = prep
            .headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let creds = &self.cfg.credentials;
        let signed = sign(
            &SignRequest {
                method: "PUT",
                path: &prep.path,
                query: &[],
                headers: &signed_headers,
            },
            &creds.secret_id,
            &creds.secret_key,
            key_time,
        );
        let mut headers = prep.header_map.clone();
        let auth = HeaderValue::from_str(&signed.authorization).map_err(|_| {
            AttemptError::Fatal(Failure::Transport {
                detail: "the secret id cannot be sent in an HTTP header".into(),
            })
        })?;
        headers.insert(reqwest::header::AUTHORIZATION, auth);
        let resp = self
            .http
            .put(prep.url.clone())
            .headers(headers)
            .body(obj.body.clone())
            .send()
            .await
            .map_err(|e| AttemptError::Retry(self.transport_failure(e)))?;
        let status = resp.status().as_u16();
        let header = |name: &str| {
            resp.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(|s| s.trim().to_string())
        };
        let request_id = header("x-cos-request-id");
        if status == 200 {
            let etag = header("etag")
                .map(|e| e.trim_matches('"').to_string())
                .unwrap_or_default();
            let got = header("x-cos-hash-crc64ecma").and_then(|v| v.parse::<u64>().ok());
            // Drain the (empty) body so the connection goes back to the pool.
            let _ = resp.bytes().await;
            return if got == Some(prep.crc) {
                Ok(PutOutcome {
                    etag,
                    request_id,
                    crc64: prep.crc,
                    attempts: attempt,
                })
            } else {
                Err(AttemptError::Retry(Failure::Integrity {
                    expected: prep.crc,
                    got,
                    request_id,
                }))
            };
        }
        let server_date = header("date");
        let body = read_limited(resp).await;
        let failure = self.parse_error(status, &body, request_id);
        Err(self.classify(failure, server_date.as_deref()))
    }

    fn transport_failure(&self, e: reqwest::Error) -> Failure {
        let e = e.without_url();
        let mut detail = e.to_string();
        let mut source = std::error::Error::source(&e);
        while let Some(s) = source {
            detail.push_str(": ");
            detail.push_str(&s.to_string());
            source = s.source();
        }
        Failure::Transport {
            detail: self.scrub(&one_line(&detail)),
        }
    }

    fn parse_error(&self, status: u16, body: &str, header_request_id: Option<String>) -> Failure {
        let field = |name: &str| xml_field(body, name).map(|v| self.scrub(&one_line(&v)));
        Failure::Status {
            status,
            code: field("Code"),
            message: field("Message"),
            request_id: field("RequestId").or(header_request_id.map(|v| self.scrub(&v))),
            trace_id: field("TraceId"),
        }
    }

    fn classify(&self, f: Failure, server_date: Option<&str>) -> AttemptError {
        let (status, code, message) = match &f {
            Failure::Status {
                status,
                code,
                message,
                ..
            } => (*status, code.as_deref(), message.as_deref()),
            _ => return AttemptError::Retry(f),
        };
        let expired = status == 403
            && message.is_some_and(|m| m.to_ascii_lowercase().contains("request has expired"));
        if code == Some("RequestTimeTooSkewed") || expired {
            let offset = server_date.and_then(|d| {
                let server = chrono::DateTime::parse_from_rfc2822(d).ok()?.timestamp();
                let local = SystemTime::now().duration_since(UNIX_EPOCH).ok()?.as_secs() as i64;
                Some(server - local)
            });
            return AttemptError::Skewed(f, offset);
        }
        let retry_code = matches!(
            code,
            Some("SlowDown") | Some("ServiceUnavailable") | Some("InternalError")
        );
        if retry_code || matches!(status, 500 | 502 | 503 | 504) {
            AttemptError::Retry(f)
        } else {
            AttemptError::Fatal(f)
        }
    }

    /// Replaces any credential that a server might echo back.
    fn scrub(&self, s: &str) -> String {
        let c = &self.cfg.credentials;
        let mut out = s.to_string();
        for secret in [
            Some(&c.secret_id),
            Some(&c.secret_key),
            c.session_token.as_ref(),
        ]
        .into_iter()
        .flatten()
        {
            if !secret.is_empty() && out.contains(secret.as_str()) {
                out = out.replace(secret.as_str(), "***");
            }
        }
        out
    }
}

/// Everything about a PUT that does not change between attempts.
struct Prepared {
    url: reqwest::Url,
    /// Decoded path with its leading `/`, as signed.
    path: String,
    /// Signed headers, lowercase names; `host` first (reqwest sends it itself).
    headers: Vec<(String, String)>,
    /// The same headers minus `host`, ready to send.
    header_map: HeaderMap,
    crc: u64,
}

/// The Host value reqwest sends: the host, plus `:port` only when it is not the scheme's default.
fn host_header(url: &reqwest::Url) -> Option<String> {
    let host = url.host_str()?;
    Some(match url.port() {
        Some(p) => format!("{host}:{p}"),
        None => host.to_string(),
    })
}

/// Rejects keys that COS or a URL parser would change or refuse.
fn validate_key(key: &str) -> Result<(), CosError> {
    let bad = |why: &str| {
        Err(CosError::InvalidRequest {
            reason: format!("invalid object key: {why}"),
        })
    };
    if key.is_empty() {
        return bad("empty");
    }
    if key.len() > 850 {
        return bad("longer than 850 bytes");
    }
    if key.starts_with('/') {
        return bad("starts with '/'");
    }
    if key.chars().any(|c| c.is_control()) {
        return bad("contains a control character");
    }
    // URL parsers collapse dot segments, which would silently change the key.
    if key.split('/').any(|seg| seg == "." || seg == "..") {
        return bad("contains a '.' or '..' segment");
    }
    Ok(())
}

async fn read_limited(mut resp: reqwest::Response) -> String {
    let mut buf: Vec<u8> = Vec::new();
    while let Ok(Some(chunk)) = resp.chunk().await {
        let room = MAX_ERROR_BODY.saturating_sub(buf.len());
        buf.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if buf.len() >= MAX_ERROR_BODY {
            break;
        }
    }
    String::from_utf8_lossy(&buf).into_owned()
}

/// Text of the first `<name>...</name>` element, entity-decoded; None when absent or empty.
fn xml_field(body: &str, name: &str) -> Option<String> {
    let open = format!("<{name}>");
    let close = format!("</{name}>");
    let start = body.find(&open)? + open.len();
    let len = body[start..].find(&close)?;
    let raw = body[start..start + len].trim();
    let raw = raw
        .strip_prefix("<![CDATA[")
        .and_then(|r| r.strip_suffix("]]>"))
        .unwrap_or(raw);
    if raw.is_empty() {
        return None;
    }
    Some(
        raw.replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&apos;", "'")
            .replace("&amp;", "&"),
    )
}

/// Collapses whitespace runs (newlines included) and truncates to a sane length.
fn one_line(s: &str) -> String {
    let mut out = String::with_capacity(s.len().min(MAX_MESSAGE));
    for word in s.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    if out.len() > MAX_MESSAGE {
        let mut cut = MAX_MESSAGE;
        while !out.is_char_boundary(cut) {
            cut -= 1;
        }
        out.truncate(cut);
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_fields_are_extracted_and_decoded() {
        let body = "<?xml version='1.0' encoding='utf-8' ?>\n<Error>\n<Code>SlowDown</Code>\n\
                    <Message>Please reduce &amp; retry</Message>\n<Resource>x</Resource>\n\
                    <RequestId>NjQ1</RequestId>\n<TraceId>abc</TraceId>\n</Error>";
        assert_eq!(xml_field(body, "Code").as_deref(), Some("SlowDown"));
        assert_eq!(
            xml_field(body, "Message").as_deref(),
            Some("Please reduce & retry")
        );
        assert_eq!(xml_field(body, "RequestId").as_deref(), Some("NjQ1"));
        assert_eq!(xml_field(body, "TraceId").as_deref(), Some("abc"));
        assert_eq!(xml_field(body, "Missing"), None);
        assert_eq!(xml_field("<Code></Code>", "Code"), None);
        assert_eq!(xml_field("<Code>unterminated", "Code"), None);
    }

    #[test]
    fn failure_display_is_one_line_with_code_and_request_id() {
        let f = Failure::Status {
            status: 503,
            code: Some("SlowDown".into()),
            message: Some(one_line("Please reduce\nyour request rate")),
            request_id: Some("NjQ".into()),
            trace_id: None,
        };
        let e = CosError::Failed {
            attempts: 4,
            last: f,
        };
        assert_eq!(
            e.to_string(),
            "COS PUT failed after 4 attempts: 503 SlowDown: Please reduce your request rate (request id NjQ)"
        );
        let bare = Failure::Status {
            status: 502,
            code: None,
            message: None,
            request_id: None,
            trace_id: None,
        };
        assert_eq!(bare.to_string(), "502 Bad Gateway");
        let g = CosError::DeadlineExhausted {
            attempts: 0,
            last: None,
        };
        assert_eq!(
            g.to_string(),
            "COS PUT gave up before the deadline after 0 attempts: no time left for a first attempt"
        );
    }

    #[test]
    fn keys_that_would_be_rewritten_are_refused() {
        for key in ["", "/a", "a/../b", "./a", "a/.", "a\nb", &"x".repeat(851)] {
            assert!(validate_key(key).is_err(), "{key:?} should be refused");
        }
        for key in ["a", "a/b.c", "..a/b..", "a b/+~(*)%?#&=/视频.json"] {
            assert!(validate_key(key).is_ok(), "{key:?} should be accepted");
        }
    }

    #[test]
    fn host_header_has_a_port_only_when_not_default() {
        let h = |u: &str| host_header(&reqwest::Url::parse(u).expect("url"));
        assert_eq!(
            h("https://b-125.cos.ap-guangzhou.myqcloud.com/k").as_deref(),
            Some("b-125.cos.ap-guangzhou.myqcloud.com")
        );
        assert_eq!(h("https://b.example:443/k").as_deref(), Some("b.example"));
        assert_eq!(h("http://b.example:80/k").as_deref(), Some("b.example"));
        assert_eq!(
            h("https://b.example:8443/k").as_deref(),
            Some("b.example:8443")
        );
        assert_eq!(
            h("http://127.0.0.1:9000/k").as_deref(),
            Some("127.0.0.1:9000")
        );
        assert_eq!(h("http://[::1]:9000/k").as_deref(), Some("[::1]:9000"));
    }

    #[test]
    fn one_line_truncates_on_a_char_boundary() {
        let long = "视".repeat(200);
        let s = one_line(&long);
        assert!(s.len() <= MAX_MESSAGE + '…'.len_utf8());
        assert!(s.ends_with('…'));
    }
}
