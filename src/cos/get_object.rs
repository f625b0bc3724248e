//! GET Object without I/O: the request, signed per attempt, and a pure reader that checks
//! the body against `x-cos-hash-crc64ecma`.

use std::time::Instant;

use bytes::Bytes;

use super::client::{CosClient, Operation};
use super::crc64::crc64;
use super::error::{CosError, CosFailure};
use super::list_objects::{signed_get, status_failure};
use super::sign::KeyTime;
use crate::credentials::Credentials;
use crate::key::check_cos_key;
use crate::transport::{Answer, Request, Uri};

/// Largest object read: archive records are a callback and its summary, far below this;
/// a larger answer is refused while it is read, never held whole.
pub(crate) const MAX_OBJECT_BYTES: usize = 32 * 1024 * 1024;

/// The request of one object.
pub(crate) struct GetRequest {
    key: String,
    uri: Uri,
    path: String,
    host: String,
}

/// What one successful GET answered.
pub(crate) struct Got {
    body: Bytes,
    crc64: Option<u64>,
    etag: Option<String>,
    request_id: Option<String>,
}

impl Operation for GetRequest {
    type Output = Got;
    const NAME: &'static str = "GET";
    const ACTION: &'static str = "cos:GetObject";
    const MAX_BODY: usize = MAX_OBJECT_BYTES;

    fn key(&self) -> &str {
        &self.key
    }

    fn request(&self, creds: &Credentials, key_time: KeyTime) -> Request {
        signed_get(&self.uri, &self.path, &[], &self.host, creds, key_time)
    }

    fn read(&self, answer: &Answer) -> Result<Got, CosFailure> {
        if answer.status.as_u16() != 200 {
            return Err(status_failure(answer));
        }
        read_object(answer)
    }
}

/// Reads a 200 answer to GET Object: the body must have the CRC-64 COS gives for it.
pub(crate) fn read_object(answer: &Answer) -> Result<Got, CosFailure> {
    let header = |name: &str| {
        answer
            .header(name)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let request_id = header("x-cos-request-id");
    // Every object the archive writes has one (simple PUT): a download without it cannot be
    // checked, and a reader must not pass an unchecked record on as good.
    let expected = match header("x-cos-hash-crc64ecma") {
        None => {
            return Err(CosFailure::Malformed {
                detail: "no x-cos-hash-crc64ecma in the answer: the download cannot be checked"
                    .into(),
            })
        }
        Some(v) => Some(v.parse::<u64>().map_err(|_| CosFailure::Malformed {
            detail: format!(
                "x-cos-hash-crc64ecma {:?} is not a number",
                crate::text::one_line(&v)
            ),
        })?),
    };
    if let Some(expected) = expected {
        let got = crc64(&answer.body);
        if got != expected {
            return Err(CosFailure::Corrupt {
                expected,
                got,
                request_id,
            });
        }
    }
    Ok(Got {
        body: answer.body.clone(),
        crc64: expected,
        etag: header("etag").map(|e| e.trim_matches('"').to_string()),
        request_id,
    })
}

impl CosClient {
    /// Reads one object, retrying as PUT does, within `deadline`; the body is checked
    /// against `x-cos-hash-crc64ecma` (a damaged or cut download is retried). The body is
    /// what callers use; the ids and the attempts go to the log.
    pub(crate) async fn get_object(&self, key: &str, deadline: Instant) -> Result<Bytes, CosError> {
        check_cos_key(key).map_err(|e| CosError::InvalidRequest {
            op: "GET",
            reason: e.to_string(),
        })?;
        let uri = self
            .bucket()
            .object_uri(key)
            .ok_or_else(|| CosError::InvalidRequest {
                op: "GET",
                reason: "the key does not make a valid URI".into(),
            })?;
        let req = GetRequest {
            key: key.to_string(),
            uri,
            path: format!("/{key}"),
            host: self.bucket().endpoint().authority().to_string(),
        };
        let (got, attempts) = self.run(&req, deadline).await?;
        tracing::debug!(key, attempts, etag = ?got.etag, request_id = ?got.request_id,
            crc64 = ?got.crc64, "COS GET");
        Ok(got.body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::{HeaderMap, HeaderValue, StatusCode};

    fn answer(body: &'static [u8], crc: Option<&'static str>) -> Answer {
        let mut headers = HeaderMap::new();
        if let Some(c) = crc {
            headers.insert("x-cos-hash-crc64ecma", HeaderValue::from_static(c));
        }
        headers.insert("etag", HeaderValue::from_static("\"abc\""));
        Answer {
            status: StatusCode::OK,
            headers,
            body: Bytes::from_static(body),
        }
    }

    #[test]
    fn a_body_must_match_its_crc() {
        let got = read_object(&answer(b"ObjectContent", Some("2900061071848923409"))).unwrap();
        assert_eq!(got.body, Bytes::from_static(b"ObjectContent"));
        assert_eq!(got.crc64, Some(2900061071848923409));
        assert_eq!(got.etag.as_deref(), Some("abc"));
        let e = read_object(&answer(b"ObjectContenT", Some("2900061071848923409")))
            .err()
            .unwrap();
        assert!(matches!(e, CosFailure::Corrupt { .. }), "{e}");
        assert!(e
            .to_string()
            .contains("x-cos-hash-crc64ecma is 2900061071848923409"));
        assert!(read_object(&answer(b"x", Some("nope"))).is_err());
        // The archive writes every object with a simple PUT, which always has a CRC: an answer
        // without one (a proxy stripped it) cannot be checked and is not passed on as good.
        let e = read_object(&answer(b"x", None)).err().unwrap();
        assert!(e.to_string().contains("cannot be checked"), "{e}");
    }
}
