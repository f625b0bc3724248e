//! What COS said when it said no, and why a request failed: typed, one line each, no secret.
//!
//! An operator opening a ticket with Tencent needs the request id and the trace id COS
//! returned, so both stay in the one-line text of every error.

use std::fmt;
use std::time::Duration;

use serde::Deserialize;

use super::xml;
use crate::credentials::Credentials;
use crate::retry::GaveUp;
use crate::text::one_line;

/// The fields of a COS XML error body
/// (`<Error><Code/><Message/><Resource/><RequestId/><TraceId/></Error>`), each on one line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ErrorBody {
    /// `<Code>`, e.g. `SlowDown`.
    pub(crate) code: Option<String>,
    /// `<Message>`.
    pub(crate) message: Option<String>,
    /// `<Resource>`: the bucket host and object path.
    pub(crate) resource: Option<String>,
    /// `<RequestId>`.
    pub(crate) request_id: Option<String>,
    /// `<TraceId>`.
    pub(crate) trace_id: Option<String>,
}

impl ErrorBody {
    /// Parses an XML error body; anything else (a proxy's HTML, nothing) gives empty fields.
    /// Fields keep their whole text (the body is bounded) so the client's scrubbing can find
    /// a whole secret before anything is cut to one line; an empty field is `None`.
    pub fn parse(body: &[u8]) -> ErrorBody {
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct Raw {
            code: Option<String>,
            message: Option<String>,
            resource: Option<String>,
            request_id: Option<String>,
            trace_id: Option<String>,
        }
        let Ok(raw) = xml::read::<Raw>(body, "Error") else {
            return ErrorBody::default();
        };
        let field = |v: Option<String>| v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
        ErrorBody {
            code: field(raw.code),
            message: field(raw.message),
            resource: field(raw.resource),
            request_id: field(raw.request_id),
            trace_id: field(raw.trace_id),
        }
    }

    /// Replaces every credential a server might echo back with `***`, then makes each field
    /// one line (in that order: cutting first could leave the start of a secret behind).
    pub(crate) fn scrubbed(self, creds: &Credentials) -> ErrorBody {
        let s = |v: Option<String>| v.map(|v| one_line(&creds.scrub(&v)));
        ErrorBody {
            code: s(self.code),
            message: s(self.message),
            resource: s(self.resource),
            request_id: s(self.request_id),
            trace_id: s(self.trace_id),
        }
    }
}

/// Why one attempt failed; displays as one line without any credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CosFailure {
    /// COS (or a proxy) answered with a status other than 200 and 3xx.
    Status {
        /// HTTP status.
        status: u16,
        /// The XML error body; `request_id` falls back to the `x-cos-request-id` header.
        /// Boxed: a failure is passed around far more often than it has a body.
        error: Box<ErrorBody>,
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
    /// A redirect: never followed, since the other host would get the record and the token.
    Redirect {
        /// 3xx status.
        status: u16,
        /// Host of `Location`, when there was one.
        location_host: Option<String>,
    },
    /// The answer's body was longer than a PUT answer or an error body can be.
    BodyTooLarge {
        /// The bound, bytes.
        limit: usize,
    },
    /// No complete answer within the attempt's time budget.
    Timeout {
        /// The attempt's budget.
        after: Duration,
        /// The host that did not answer (`host[:port]`).
        host: String,
    },
    /// 200, but the body is not what the request answers (a listing that is not a
    /// `ListBucketResult`, a key that does not decode).
    Malformed {
        /// What is wrong (no body text beyond a short excerpt of the parser's message).
        detail: String,
    },
    /// A downloaded object whose bytes do not have the CRC-64 COS gave for it: the body
    /// was damaged or cut on the way.
    Corrupt {
        /// `x-cos-hash-crc64ecma` of the answer.
        expected: u64,
        /// CRC-64 of the bytes received.
        got: u64,
        /// `x-cos-request-id`.
        request_id: Option<String>,
    },
    /// Connect, reset, or a request the HTTP layer refused to send.
    Transport {
        /// What the HTTP layer said (no URL, no header value).
        detail: String,
        /// Whether sending again may succeed (a refused request never does).
        retryable: bool,
    },
}

impl CosFailure {
    /// The same failure with every credential a server might echo back replaced by `***`.
    pub(crate) fn scrubbed(self, creds: &Credentials) -> CosFailure {
        let s = |v: Option<String>| v.map(|v| creds.scrub(&v));
        match self {
            CosFailure::Status { status, error } => CosFailure::Status {
                status,
                error: Box::new(error.scrubbed(creds)),
            },
            CosFailure::Integrity {
                expected,
                got,
                request_id,
            } => CosFailure::Integrity {
                expected,
                got,
                request_id: s(request_id),
            },
            CosFailure::Redirect {
                status,
                location_host,
            } => CosFailure::Redirect {
                status,
                location_host: s(location_host),
            },
            CosFailure::Transport { detail, retryable } => CosFailure::Transport {
                detail: creds.scrub(&detail),
                retryable,
            },
            CosFailure::Malformed { detail } => CosFailure::Malformed {
                detail: creds.scrub(&detail),
            },
            CosFailure::Corrupt {
                expected,
                got,
                request_id,
            } => CosFailure::Corrupt {
                expected,
                got,
                request_id: s(request_id),
            },
            other @ (CosFailure::BodyTooLarge { .. } | CosFailure::Timeout { .. }) => other,
        }
    }
}

/// ` (request id X, trace id Y)`, or the part that is known, or nothing.
fn write_ids(
    f: &mut fmt::Formatter<'_>,
    request: Option<&str>,
    trace: Option<&str>,
) -> fmt::Result {
    match (request, trace) {
        (Some(r), Some(t)) => write!(f, " (request id {r}, trace id {t})"),
        (Some(r), None) => write!(f, " (request id {r})"),
        (None, Some(t)) => write!(f, " (trace id {t})"),
        (None, None) => Ok(()),
    }
}

impl fmt::Display for CosFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CosFailure::Status { status, error } => {
                write!(f, "{status}")?;
                match &error.code {
                    Some(c) => write!(f, " {c}")?,
                    None => {
                        if let Some(r) = crate::transport::reason_phrase(*status) {
                            write!(f, " {r}")?;
                        }
                    }
                }
                if let Some(m) = &error.message {
                    write!(f, ": {m}")?;
                }
                write_ids(f, error.request_id.as_deref(), error.trace_id.as_deref())
            }
            CosFailure::Integrity {
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
                write_ids(f, request_id.as_deref(), None)
            }
            CosFailure::Redirect {
                status,
                location_host,
            } => match location_host {
                Some(h) => write!(f, "{status} redirect to {h} (not followed)"),
                None => write!(
                    f,
                    "{status} redirect without a usable Location (not followed)"
                ),
            },
            CosFailure::BodyTooLarge { limit } => {
                write!(
                    f,
                    "answer body longer than {limit} bytes (not read further)"
                )
            }
            CosFailure::Timeout { after, host } => {
                write!(f, "no answer from {host} within {} ms", after.as_millis())
            }
            CosFailure::Malformed { detail } => write!(f, "unreadable answer: {detail}"),
            CosFailure::Corrupt {
                expected,
                got,
                request_id,
            } => {
                write!(
                    f,
                    "integrity check failed: x-cos-hash-crc64ecma is {expected}, the body received has {got}"
                )?;
                write_ids(f, request_id.as_deref(), None)
            }
            CosFailure::Transport { detail, .. } => write!(f, "connection error: {detail}"),
        }
    }
}

/// Why a COS request failed; displays as one line, never with a credential.
///
/// `op` names the request (`PUT`), so the line says what failed.
#[derive(Debug, thiserror::Error)]
pub enum CosError {
    /// Sent and given up: COS refused the request in a way retrying cannot fix, refused the
    /// credentials themselves (an unknown or expired key or token: only a process started
    /// with fresh ones can succeed again), the role lacks the permission (final for this
    /// request while the process goes on), every attempt failed, or the deadline left no
    /// time for another.
    #[error("COS {op} {gave_up}; {at}")]
    GaveUp {
        /// The request, e.g. `PUT`.
        op: &'static str,
        /// Where: `<bucket>/<key> at <host>` ([`CosError::location`]).
        at: Box<str>,
        /// Attempts made, and how they ended.
        gave_up: GaveUp<CosFailure>,
    },
    /// The request cannot be sent as asked (key, metadata, credentials).
    #[error("COS {op} refused before sending: {reason}")]
    InvalidRequest {
        /// The request, e.g. `PUT`.
        op: &'static str,
        /// What is wrong.
        reason: String,
    },
}

impl CosError {
    /// Where a request went, as error lines name it: `<bucket>/<key> at <host>` (the key is
    /// the listing's prefix for GET Bucket).
    pub(crate) fn location(bucket: &str, key: &str, host: &str) -> Box<str> {
        format!("{bucket}/{key} at {host}").into()
    }

    /// Attempts made before this error (0 when nothing was sent).
    pub fn attempts(&self) -> u32 {
        match self {
            CosError::GaveUp { gave_up, .. } => gave_up.attempts,
            CosError::InvalidRequest { .. } => 0,
        }
    }

    /// COS refused the credentials themselves: the process should stop so a fresh instance
    /// gets new ones. A missing permission is not such a refusal.
    pub fn is_credentials_rejected(&self) -> bool {
        matches!(self, CosError::GaveUp { gave_up, .. } if gave_up.is_credentials_rejected())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cos::recorded;
    use crate::retry::Ending;

    /// A PUT of `b-1250000000/k` that gave up as `ending` after `attempts`.
    fn gave_up(attempts: u32, ending: Ending<CosFailure>) -> CosError {
        CosError::GaveUp {
            op: "PUT",
            at: "b-1250000000/k at b-1250000000.cos.ap-guangzhou.myqcloud.com".into(),
            gave_up: GaveUp { attempts, ending },
        }
    }

    #[test]
    fn xml_fields_are_extracted_and_decoded() {
        let body = "<?xml version='1.0' encoding='utf-8' ?>\n<Error>\n<Code>SlowDown</Code>\n\
                    <Message>Please reduce &amp; retry</Message>\n<Resource>x</Resource>\n\
                    <RequestId>NjQ1</RequestId>\n<TraceId>abc</TraceId>\n</Error>";
        let e = ErrorBody::parse(body.as_bytes());
        assert_eq!(e.code.as_deref(), Some("SlowDown"));
        assert_eq!(e.message.as_deref(), Some("Please reduce & retry"));
        assert_eq!(e.resource.as_deref(), Some("x"));
        assert_eq!(e.request_id.as_deref(), Some("NjQ1"));
        assert_eq!(e.trace_id.as_deref(), Some("abc"));
        let only = |xml: &str| ErrorBody::parse(xml.as_bytes());
        assert_eq!(only("<Error><Code></Code></Error>").code, None);
        assert_eq!(
            only("<Error><Code>  </Code><Message/></Error>"),
            ErrorBody::default()
        );
        assert_eq!(only("<Error><Code>unterminated"), ErrorBody::default());
        assert_eq!(only("<Code>NoRoot</Code>"), ErrorBody::default());
        let cdata = only("<Error><!-- c --><Message><![CDATA[a <b> & c]]></Message></Error>");
        assert_eq!(cdata.message.as_deref(), Some("a <b> & c"));
        assert_eq!(
            ErrorBody::parse(b"<html>bad gateway</html>"),
            ErrorBody::default()
        );
        assert_eq!(ErrorBody::parse(&[0xff, 0xfe]), ErrorBody::default());
    }

    #[test]
    fn a_recorded_body_keeps_request_and_trace_id_in_the_line() {
        let f = CosFailure::Status {
            status: 503,
            error: Box::new(ErrorBody::parse(recorded::SLOW_DOWN.as_bytes())),
        };
        assert_eq!(
            f.to_string(),
            "503 SlowDown: Please reduce your request rate. \
             (request id NjU1ZDk4YjJfMTdhMjJhMDlfMjc0NF8xYTM4, trace id \
             OGVmYzZiMmQzYjA2OWNhODk0NTRkMTBiOWVmMDAxODc0OWRkZjk0ZDM1NmI1M2E2MTRlY2MzZDhmNmI5MWI1OTBjNTE3NjMx)"
        );
    }

    #[test]
    fn failure_display_is_one_line_with_code_and_request_id() {
        let f = CosFailure::Status {
            status: 503,
            error: Box::new(ErrorBody {
                code: Some("SlowDown".into()),
                message: Some(one_line("Please reduce\nyour request rate")),
                request_id: Some("NjQ".into()),
                ..ErrorBody::default()
            }),
        };
        let e = gave_up(4, Ending::Exhausted(f));
        assert_eq!(
            e.to_string(),
            "COS PUT failed after 4 attempts: 503 SlowDown: Please reduce your request rate (request id NjQ); b-1250000000/k at b-1250000000.cos.ap-guangzhou.myqcloud.com"
        );
        let bare = CosFailure::Status {
            status: 502,
            error: Box::default(),
        };
        assert_eq!(bare.to_string(), "502 Bad Gateway");
        let g = gave_up(0, Ending::OutOfTime(None));
        assert_eq!(
            g.to_string(),
            "COS PUT out of time after 0 attempt(s); b-1250000000/k at b-1250000000.cos.ap-guangzhou.myqcloud.com"
        );
        let r = gave_up(
            1,
            Ending::Rejected(CosFailure::Redirect {
                status: 307,
                location_host: Some("other.example:8080".into()),
            }),
        );
        assert_eq!(
            r.to_string(),
            "COS PUT rejected after 1 attempt(s): 307 redirect to other.example:8080 (not followed); b-1250000000/k at b-1250000000.cos.ap-guangzhou.myqcloud.com"
        );
    }

    #[test]
    fn credentials_rejected_is_its_own_class() {
        let failure = CosFailure::Status {
            status: 403,
            error: Box::new(ErrorBody {
                code: Some("InvalidAccessKeyId".into()),
                ..ErrorBody::default()
            }),
        };
        let e = gave_up(1, Ending::CredentialsRejected(failure.clone()));
        assert!(e.is_credentials_rejected());
        assert_eq!(
            e.to_string(),
            "COS PUT credentials refused after 1 attempt(s): 403 InvalidAccessKeyId; b-1250000000/k at b-1250000000.cos.ap-guangzhou.myqcloud.com"
        );
        assert!(!gave_up(1, Ending::Rejected(failure.clone())).is_credentials_rejected());
        let denied = CosError::GaveUp {
            op: "PUT",
            at: "examplebucket-1250000000/mps-events/k.json at \
                 examplebucket-1250000000.cos.ap-guangzhou.myqcloud.com"
                .into(),
            gave_up: GaveUp {
                attempts: 1,
                ending: Ending::PermissionDenied {
                    permission: Some(
                        "cos:PutObject on examplebucket-1250000000/mps-events/k.json".into(),
                    ),
                    failure: CosFailure::Status {
                        status: 403,
                        error: Box::new(ErrorBody::parse(recorded::ACCESS_DENIED.as_bytes())),
                    },
                },
            },
        };
        assert!(!denied.is_credentials_rejected());
        assert_eq!(
            denied.to_string(),
            "COS PUT refused after 1 attempt(s): the role lacks cos:PutObject on \
             examplebucket-1250000000/mps-events/k.json: 403 AccessDenied: Access Denied. \
             (request id NjU1ZDk4YjJfNmRhMjJhMDlfMjY0Y18xYTYz, trace id \
             OGVmYzZiMmQzYjA2OWNhODk0NTRkMTBiOWVmMDAxODc0OWRkZjk0ZDM1NmI1M2E2MTRlY2MzZDhmNmI5MWI1OTBjNTE3NjMx); \
             examplebucket-1250000000/mps-events/k.json at \
             examplebucket-1250000000.cos.ap-guangzhou.myqcloud.com"
        );
    }

    #[test]
    fn echoed_credentials_are_scrubbed() {
        let creds = Credentials::new("AKIDid", "theKey", Some("theToken".into()));
        let body = "<Error><Code>AccessDenied</Code><Message>ak AKIDid token theToken key theKey\
                    </Message><RequestId>r</RequestId></Error>";
        let e = ErrorBody::parse(body.as_bytes()).scrubbed(&creds);
        assert_eq!(e.message.as_deref(), Some("ak *** token *** key ***"));
    }

    #[test]
    fn a_short_secret_does_not_garble_the_message() {
        let creds = Credentials::new("AKIDid", "a", Some("i".into()));
        let body = "<Error><Code>SlowDown</Code><Message>request failed, key a</Message></Error>";
        let e = ErrorBody::parse(body.as_bytes()).scrubbed(&creds);
        assert_eq!(e.code.as_deref(), Some("SlowDown"));
        assert_eq!(e.message.as_deref(), Some("request failed, key ***"));
    }
}
