//! PUT Object: checked and prepared once, signed per attempt with the time passed in, its
//! answer read by a pure function; [`CosClient::put_object`] hands it to the client's
//! attempts.

use std::time::Instant;

use base64::Engine as _;
use bytes::Bytes;
use md5::{Digest, Md5};

use super::bucket::Bucket;
use super::client::{CosClient, Operation};
use super::crc64::crc64;
use super::error::{CosError, CosFailure, ErrorBody};
use super::sign::{sign, KeyTime, SignRequest};
use crate::credentials::Credentials;
use crate::key::check_cos_key;
use crate::transport::header::AUTHORIZATION;
use crate::transport::{Answer, HeaderMap, HeaderName, HeaderValue, Method, Request, Uri};

/// The longest answer body read for a PUT: success answers are empty, error bodies are a
/// few hundred bytes. Anything longer is not COS talking.
pub(crate) const MAX_ANSWER_BODY: usize = 64 * 1024;

// COS limits on user metadata: 2 KB per header, 4 KB together.
const MAX_META_HEADER: usize = 2048;
const MAX_META_TOTAL: usize = 4096;

/// One object to write.
#[derive(Debug, Clone)]
pub struct PutObject<'a> {
    /// Object key (decoded, no leading `/`).
    pub key: &'a str,
    /// Body bytes.
    pub body: Bytes,
    /// `Content-Type`.
    pub content_type: &'a str,
    /// `x-cos-meta-<name>` pairs (name without the prefix).
    pub metadata: &'a [(&'a str, &'a str)],
}

/// What COS confirmed for one PUT.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Confirmed {
    /// `ETag`, quotes stripped.
    pub(crate) etag: String,
    /// `x-cos-request-id`.
    pub(crate) request_id: Option<String>,
}

/// A PUT checked and prepared: everything that does not change between attempts.
/// No `Debug`: the headers hold the session token.
pub(crate) struct PreparedPut {
    key: String,
    uri: Uri,
    /// Decoded path with its leading `/`, as signed.
    path: String,
    /// Signed headers, lowercase names; `host` first.
    signed: Vec<(String, String)>,
    /// The same headers minus `host` (the HTTP layer sends it from the URL), ready to send.
    headers: HeaderMap,
    body: Bytes,
    /// CRC-64 of the body, which COS must confirm.
    pub(crate) crc: u64,
}

fn invalid(reason: impl Into<String>) -> CosError {
    CosError::InvalidRequest {
        op: "PUT",
        reason: reason.into(),
    }
}

impl PreparedPut {
    /// Checks the key, metadata and credentials, and computes the headers.
    pub(crate) fn new(
        bucket: &Bucket,
        creds: &Credentials,
        obj: &PutObject<'_>,
    ) -> Result<PreparedPut, CosError> {
        check_cos_key(obj.key).map_err(|e| invalid(e.to_string()))?;
        if obj.content_type.chars().any(char::is_control) {
            return Err(invalid("content type has a control character"));
        }
        // The SecretId travels in Authorization; a value that cannot be a header is a config error.
        if HeaderValue::from_str(creds.secret_id()).is_err() {
            return Err(invalid(
                "the SecretId contains characters not allowed in an HTTP header",
            ));
        }
        let mut signed: Vec<(String, String)> = vec![
            ("host".into(), bucket.endpoint().authority().to_string()),
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
                return Err(invalid(format!(
                    "metadata name {name:?} must be letters, digits and '-'"
                )));
            }
            if value.chars().any(char::is_control) {
                return Err(invalid(format!(
                    "metadata {name:?} has a control character in its value"
                )));
            }
            let size = "x-cos-meta-".len() + name.len() + value.len();
            meta_total += size;
            if size > MAX_META_HEADER || meta_total > MAX_META_TOTAL {
                return Err(invalid(format!(
                    "metadata {name:?} exceeds COS size limits (2 KB each, 4 KB in all)"
                )));
            }
            signed.push((
                format!("x-cos-meta-{}", name.to_ascii_lowercase()),
                value.to_string(),
            ));
        }
        if let Some(class) = bucket.storage_class() {
            signed.push(("x-cos-storage-class".into(), class.as_str().to_string()));
        }
        if let Some(token) = creds.session_token() {
            signed.push(("x-cos-security-token".into(), token.to_string()));
        }
        let mut headers = HeaderMap::with_capacity(signed.len() + 1);
        for (k, v) in signed.iter().skip(1) {
            let name = HeaderName::from_bytes(k.as_bytes())
                .map_err(|_| invalid(format!("header name {k:?} is not valid")))?;
            // Never echo the value: it may be the session token.
            let value = HeaderValue::from_str(v).map_err(|_| {
                invalid(format!("value of header {k:?} is not a valid header value"))
            })?;
            headers.insert(name, value);
        }
        let uri = bucket
            .object_uri(obj.key)
            .ok_or_else(|| invalid("the key does not make a valid URI"))?;
        Ok(PreparedPut {
            key: obj.key.to_string(),
            uri,
            path: format!("/{}", obj.key),
            signed,
            headers,
            crc: crc64(&obj.body),
            body: obj.body.clone(),
        })
    }
}

impl Operation for PreparedPut {
    type Output = Confirmed;
    const NAME: &'static str = "PUT";
    const ACTION: &'static str = "cos:PutObject";
    const MAX_BODY: usize = MAX_ANSWER_BODY;

    fn key(&self) -> &str {
        &self.key
    }

    fn request(&self, creds: &Credentials, key_time: KeyTime) -> Request {
        let signed_headers: Vec<(&str, &str)> = self
            .signed
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let signature = sign(
            &SignRequest {
                method: "PUT",
                path: &self.path,
                query: &[],
                headers: &signed_headers,
            },
            creds.secret_id(),
            creds.secret_key(),
            key_time,
        );
        let mut headers = self.headers.clone();
        // Checked in `new`: the SecretId is a valid header value and the rest is ASCII.
        if let Ok(auth) = HeaderValue::from_str(&signature.authorization) {
            headers.insert(AUTHORIZATION, auth);
        }
        Request {
            method: Method::PUT,
            uri: self.uri.clone(),
            headers,
            body: self.body.clone(),
        }
    }

    fn read(&self, answer: &Answer) -> Result<Confirmed, CosFailure> {
        parse_answer(answer, self.crc)
    }
}

/// Reads COS's answer to a PUT: confirmed only on 200 with the CRC-64 of the bytes sent.
pub(crate) fn parse_answer(answer: &Answer, expected_crc: u64) -> Result<Confirmed, CosFailure> {
    let header = |name: &str| {
        answer
            .header(name)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let request_id = header("x-cos-request-id");
    let status = answer.status.as_u16();
    if status == 200 {
        let got = header("x-cos-hash-crc64ecma").and_then(|v| v.parse::<u64>().ok());
        return if got == Some(expected_crc) {
            Ok(Confirmed {
                etag: header("etag")
                    .map(|e| e.trim_matches('"').to_string())
                    .unwrap_or_default(),
                request_id,
            })
        } else {
            Err(CosFailure::Integrity {
                expected: expected_crc,
                got,
                request_id,
            })
        };
    }
    let mut error = ErrorBody::parse(&answer.body);
    if error.request_id.is_none() {
        error.request_id = request_id;
    }
    Err(CosFailure::Status {
        status,
        error: Box::new(error),
    })
}

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

impl CosClient {
    /// PUTs one object; succeeds only when COS confirmed the exact bytes before `deadline`.
    ///
    /// Retryable failures are retried with backoff while time remains; a skewed clock is
    /// corrected once from the server's `Date`; refused credentials end at once.
    pub async fn put_object(
        &self,
        obj: &PutObject<'_>,
        deadline: Instant,
    ) -> Result<PutOutcome, CosError> {
        let put = PreparedPut::new(self.bucket(), self.credentials(), obj)?;
        let (confirmed, attempts) = self.run(&put, deadline).await?;
        Ok(PutOutcome {
            etag: confirmed.etag,
            request_id: confirmed.request_id,
            crc64: put.crc,
            attempts,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cos::recorded;

    fn bucket() -> Bucket {
        match Bucket::new("examplebucket-1250000000", "ap-guangzhou") {
            Ok(b) => b,
            Err(e) => panic!("{e}"),
        }
    }

    fn answer(status: u16, pairs: &[(&'static str, &str)], body: &'static str) -> Answer {
        let mut headers = HeaderMap::new();
        for (k, v) in pairs {
            if let Ok(v) = HeaderValue::from_str(v) {
                headers.insert(*k, v);
            }
        }
        Answer {
            status: crate::transport::StatusCode::from_u16(status)
                .unwrap_or(crate::transport::StatusCode::IM_A_TEAPOT),
            headers,
            body: Bytes::from_static(body.as_bytes()),
        }
    }

    #[test]
    fn a_signed_put_carries_every_signed_header_and_the_token(
    ) -> Result<(), Box<dyn std::error::Error>> {
        let creds = Credentials::new("AKIDid", "key", Some("TOKEN".into()));
        let meta = [("event-type", "WorkflowTask")];
        let obj = PutObject {
            key: "a b/视频.json",
            body: Bytes::from_static(b"{}"),
            content_type: "application/json",
            metadata: &meta,
        };
        let put = PreparedPut::new(&bucket(), &creds, &obj)?;
        let req = put.request(&creds, KeyTime { start: 1, end: 2 });
        assert_eq!(req.method, Method::PUT);
        assert_eq!(
            req.uri.to_string(),
            "https://examplebucket-1250000000.cos.ap-guangzhou.myqcloud.com/a%20b/%E8%A7%86%E9%A2%91.json"
        );
        assert_eq!(req.headers["x-cos-security-token"], "TOKEN");
        assert_eq!(req.headers["x-cos-meta-event-type"], "WorkflowTask");
        assert_eq!(req.headers["content-md5"], "mZFLkyvTelC5g8XnyQrpOw==");
        let auth = req.headers[AUTHORIZATION].to_str()?;
        assert!(auth.contains(
            "&q-header-list=content-length;content-md5;content-type;host;x-cos-meta-event-type;x-cos-security-token&"
        ), "{auth}");
        assert!(!req.headers.contains_key("host"));
        assert_eq!(put.crc, crc64(b"{}"));
        Ok(())
    }

    #[test]
    fn bad_keys_and_metadata_are_refused() {
        let creds = Credentials::new("AKIDid", "key", None);
        let o = |key, metadata| PutObject {
            key,
            body: Bytes::new(),
            content_type: "application/json",
            metadata,
        };
        let refuse = |obj: PutObject<'_>| {
            PreparedPut::new(&bucket(), &creds, &obj)
                .err()
                .map(|e| e.to_string())
        };
        assert_eq!(
            refuse(o("a/../b", &[])).as_deref(),
            Some(
                "COS PUT refused before sending: invalid object key: has a '.' or '..' path segment"
            )
        );
        assert!(refuse(o("k", &[("under_score", "v")])).is_some());
        assert!(refuse(o("k", &[("note", "a\nb")])).is_some());
        let bad_id = Credentials::new("AKID\nid", "key", None);
        assert!(PreparedPut::new(&bucket(), &bad_id, &o("k", &[])).is_err());
    }

    #[test]
    fn a_200_confirms_only_with_the_right_crc() {
        let h = [
            ("etag", "\"abc\""),
            ("x-cos-request-id", "NjQ"),
            ("x-cos-hash-crc64ecma", "42"),
        ];
        assert_eq!(
            parse_answer(&answer(200, &h, ""), 42),
            Ok(Confirmed {
                etag: "abc".into(),
                request_id: Some("NjQ".into())
            })
        );
        assert_eq!(
            parse_answer(&answer(200, &h, ""), 43),
            Err(CosFailure::Integrity {
                expected: 43,
                got: Some(42),
                request_id: Some("NjQ".into())
            })
        );
        assert!(matches!(
            parse_answer(&answer(200, &[("etag", "\"abc\"")], ""), 42),
            Err(CosFailure::Integrity { got: None, .. })
        ));
    }

    #[test]
    fn error_answers_keep_code_request_and_trace_id() {
        let h = [("x-cos-request-id", "header-id")];
        let f = parse_answer(&answer(503, &h, recorded::SLOW_DOWN), 1);
        let Err(CosFailure::Status { status, error }) = f else {
            panic!("{f:?}");
        };
        assert_eq!(status, 503);
        assert_eq!(error.code.as_deref(), Some("SlowDown"));
        assert_eq!(
            error.request_id.as_deref(),
            Some("NjU1ZDk4YjJfMTdhMjJhMDlfMjc0NF8xYTM4")
        );
        assert_eq!(error.trace_id.as_deref(), Some(recorded::TRACE_ID));
        // A proxy's page: the header's request id is all there is.
        let f = parse_answer(&answer(502, &h, "<html>bad gateway</html>"), 1);
        assert_eq!(
            f.map_err(|f| f.to_string()),
            Err("502 Bad Gateway (request id header-id)".into())
        );
    }
}
