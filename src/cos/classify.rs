//! What to do after a failed attempt, decided from what COS said and nothing else.

use super::error::{ErrorBody, Failure};

/// The next step after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Class {
    /// Worth another attempt inside the deadline: the server or the network hiccuped.
    Retry,
    /// The signature's time window is off: sign again with the server's clock (once).
    ReSign,
    /// COS refused the credentials; no attempt with the same keys can succeed.
    CredentialsRejected,
    /// Nothing retrying could fix.
    Final,
}

/// Classifies one failed attempt.
pub(crate) fn classify(failure: &Failure) -> Class {
    match failure {
        Failure::Status { status, error } => classify_status(*status, error),
        // COS confirmed a write, but not of these bytes (or did not say): write again.
        Failure::Integrity { .. } => Class::Retry,
        Failure::Timeout { .. } => Class::Retry,
        // A damaged download or a garbled listing: the next answer may be whole.
        Failure::Corrupt { .. } | Failure::Malformed { .. } => Class::Retry,
        Failure::Transport { retryable, .. } => {
            if *retryable {
                Class::Retry
            } else {
                Class::Final
            }
        }
        // Following a redirect would hand the record and token to another host; an endless
        // body will be endless the next time too.
        Failure::Redirect { .. } | Failure::BodyTooLarge { .. } => Class::Final,
    }
}

/// Classifies an error answer from its status and parsed XML body.
pub(crate) fn classify_status(status: u16, error: &ErrorBody) -> Class {
    let code = error.code.as_deref();
    // COS answers a signature whose key time does not cover its clock with 403
    // RequestTimeTooSkewed, or 403 AccessDenied "Request has expired".
    let expired = status == 403
        && error
            .message
            .as_deref()
            .is_some_and(|m| m.to_ascii_lowercase().contains("request has expired"));
    if code == Some("RequestTimeTooSkewed") || expired {
        return Class::ReSign;
    }
    // Any other 401/403 (AccessDenied, InvalidAccessKeyId, SignatureDoesNotMatch, an expired
    // token...): the instance's temporary keys may have run out.
    if matches!(status, 401 | 403) {
        return Class::CredentialsRejected;
    }
    let retry_code = matches!(
        code,
        Some("SlowDown" | "ServiceUnavailable" | "InternalError")
    );
    // 400 RequestTimeout: COS gave up reading our body in time, which a new attempt can fix.
    let timed_out = status == 400 && code == Some("RequestTimeout");
    if retry_code || timed_out || matches!(status, 429 | 500 | 502 | 503 | 504) {
        Class::Retry
    } else {
        Class::Final
    }
}

/// Server time minus local time, seconds, from an RFC 2822 `Date` header.
pub(crate) fn clock_offset(server_date: &str, local_unix: i64) -> Option<i64> {
    let server = chrono::DateTime::parse_from_rfc2822(server_date.trim())
        .ok()?
        .timestamp();
    Some(server - local_unix)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cos::recorded::*;
    use std::time::Duration;

    fn class_of(status: u16, body: &str) -> Class {
        classify(&Failure::Status {
            status,
            error: Box::new(ErrorBody::parse(body.as_bytes())),
        })
    }

    #[test]
    fn recorded_answers_fall_in_their_class() {
        let cases = [
            (503, SLOW_DOWN, Class::Retry),
            (500, INTERNAL_ERROR, Class::Retry),
            (503, SERVICE_UNAVAILABLE, Class::Retry),
            (400, REQUEST_TIMEOUT, Class::Retry),
            (429, TOO_MANY_REQUESTS, Class::Retry),
            (403, TIME_TOO_SKEWED, Class::ReSign),
            (403, REQUEST_EXPIRED, Class::ReSign),
            (403, ACCESS_DENIED, Class::CredentialsRejected),
            (403, SIGNATURE_DOES_NOT_MATCH, Class::CredentialsRejected),
            (403, TOKEN_EXPIRED, Class::CredentialsRejected),
            (401, ACCESS_DENIED, Class::CredentialsRejected),
            (404, NO_SUCH_BUCKET, Class::Final),
            (400, INVALID_OBJECT_NAME, Class::Final),
        ];
        for (status, body, want) in cases {
            let e = ErrorBody::parse(body.as_bytes());
            assert_eq!(class_of(status, body), want, "{status} {:?}", e.code);
            assert_eq!(e.trace_id.as_deref(), Some(TRACE_ID));
            assert!(e.request_id.is_some());
        }
    }

    #[test]
    fn answers_without_an_xml_body_are_classed_by_status() {
        for (status, want) in [
            (500, Class::Retry),
            (502, Class::Retry),
            (503, Class::Retry),
            (504, Class::Retry),
            (429, Class::Retry),
            (401, Class::CredentialsRejected),
            (403, Class::CredentialsRejected),
            (400, Class::Final),
            (404, Class::Final),
            (409, Class::Final),
            (501, Class::Final),
        ] {
            assert_eq!(class_of(status, "<html>proxy</html>"), want, "{status}");
        }
        // RequestTimeout is retryable only as COS sends it: 400 with that code.
        let other_400 = "<Error><Code>InvalidArgument</Code></Error>";
        assert_eq!(class_of(400, other_400), Class::Final);
    }

    #[test]
    fn failures_without_an_answer() {
        let cases = [
            (
                Failure::Integrity {
                    expected: 1,
                    got: Some(2),
                    request_id: None,
                },
                Class::Retry,
            ),
            (
                Failure::Timeout {
                    after: Duration::from_secs(1),
                },
                Class::Retry,
            ),
            (
                Failure::Transport {
                    detail: "reset".into(),
                    retryable: true,
                },
                Class::Retry,
            ),
            (
                Failure::Transport {
                    detail: "invalid request".into(),
                    retryable: false,
                },
                Class::Final,
            ),
            (
                Failure::Redirect {
                    status: 301,
                    location_host: None,
                },
                Class::Final,
            ),
            (Failure::BodyTooLarge { limit: 10 }, Class::Final),
        ];
        for (f, want) in cases {
            assert_eq!(classify(&f), want, "{f}");
        }
    }

    #[test]
    fn clock_offset_from_a_date_header() {
        let local = 1_557_989_151; // Thu, 16 May 2019 06:45:51 GMT
        assert_eq!(
            clock_offset("Thu, 16 May 2019 07:45:51 GMT", local),
            Some(3600)
        );
        assert_eq!(
            clock_offset("Thu, 16 May 2019 05:45:51 GMT", local),
            Some(-3600)
        );
        assert_eq!(clock_offset("yesterday", local), None);
    }
}
