//! What to do after a failed attempt, decided from what COS said and nothing else.

use super::error::{CosFailure, ErrorBody};

pub(crate) use crate::retry::Class;

/// Classifies one failed attempt.
pub(crate) fn classify(failure: &CosFailure) -> Class {
    match failure {
        CosFailure::Status { status, error } => classify_status(*status, error),
        // COS confirmed a write, but not of these bytes (or did not say): write again.
        CosFailure::Integrity { .. } => Class::Retry,
        CosFailure::Timeout { .. } => Class::Retry,
        // A damaged download or a garbled listing: the next answer may be whole.
        CosFailure::Corrupt { .. } | CosFailure::Malformed { .. } => Class::Retry,
        CosFailure::Transport { retryable, .. } => {
            if *retryable {
                Class::Retry
            } else {
                Class::Final
            }
        }
        // Following a redirect would hand the record and token to another host; an endless
        // body will be endless the next time too.
        CosFailure::Redirect { .. } | CosFailure::BodyTooLarge { .. } => Class::Final,
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
    if credentials_refused(status, error) {
        return Class::CredentialsRejected;
    }
    if code == Some("AccessDenied") {
        return Class::PermissionDenied;
    }
    // Any other 401/403 is final for this request only. That includes SignatureDoesNotMatch:
    // the secret key does not sign what COS expects (a wrong TENCENTCLOUD_SECRETKEY or a
    // signing fault), and a fresh instance reads the same key and signs the same way, so
    // stopping would only turn every later event into a cold start. Keys that ran out are
    // answered with the codes `credentials_refused` knows.
    if matches!(status, 401 | 403) {
        return Class::Final;
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

/// Whether an answer refuses the credentials themselves, which may have expired:
/// `InvalidAccessKeyId`, `ExpiredToken`, `InvalidToken`, `InvalidSecurityToken*`, or a
/// 401/403 whose message is about the token or expired credentials. A missing permission
/// (`AccessDenied` for a role without the action) is not one: fresh credentials of the same
/// role would be refused alike.
fn credentials_refused(status: u16, error: &ErrorBody) -> bool {
    let code = error.code.as_deref().unwrap_or_default();
    if matches!(code, "InvalidAccessKeyId" | "ExpiredToken" | "InvalidToken")
        || code.starts_with("InvalidSecurityToken")
    {
        return true;
    }
    let message = error
        .message
        .as_deref()
        .unwrap_or_default()
        .to_ascii_lowercase();
    matches!(status, 401 | 403) && (message.contains("token") || message.contains("expired"))
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
        classify(&CosFailure::Status {
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
            (403, ACCESS_DENIED, Class::PermissionDenied),
            (401, ACCESS_DENIED, Class::PermissionDenied),
            (403, SIGNATURE_DOES_NOT_MATCH, Class::Final),
            (403, TOKEN_EXPIRED, Class::CredentialsRejected),
            (403, INVALID_ACCESS_KEY_ID, Class::CredentialsRejected),
            (400, EXPIRED_TOKEN, Class::CredentialsRejected),
            (400, INVALID_TOKEN, Class::CredentialsRejected),
            (403, INVALID_SECURITY_TOKEN, Class::CredentialsRejected),
            (403, ACCESS_DENIED_TOKEN, Class::CredentialsRejected),
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
            (401, Class::Final),
            (403, Class::Final),
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
    fn only_refusals_of_the_credentials_themselves_stop_the_instance() {
        let with = |code: &str, message: &str| {
            format!("<Error><Code>{code}</Code><Message>{message}</Message></Error>")
        };
        let cases = [
            // The message decides for codes that say nothing by themselves.
            (
                403,
                with("AccessDenied", "The security token is invalid."),
                Class::CredentialsRejected,
            ),
            (
                401,
                with("Unauthorized", "credentials have expired"),
                Class::CredentialsRejected,
            ),
            (
                403,
                with("AccessDenied", "Access Denied."),
                Class::PermissionDenied,
            ),
            (
                403,
                with("AccessDenied", "Request has expired"),
                Class::ReSign,
            ),
            (
                403,
                with("InvalidSecurityTokenFormat", "bad"),
                Class::CredentialsRejected,
            ),
            // A token word outside a 401/403 is not a refusal.
            (400, with("InvalidArgument", "token"), Class::Final),
            (
                403,
                with("AccountFrozen", "account is frozen"),
                Class::Final,
            ),
        ];
        for (status, body, want) in cases {
            assert_eq!(class_of(status, &body), want, "{status} {body}");
        }
    }

    #[test]
    fn failures_without_an_answer() {
        let cases = [
            (
                CosFailure::Integrity {
                    expected: 1,
                    got: Some(2),
                    request_id: None,
                },
                Class::Retry,
            ),
            (
                CosFailure::Timeout {
                    after: Duration::from_secs(1),
                    host: "b-1250000000.cos.ap-guangzhou.myqcloud.com".into(),
                },
                Class::Retry,
            ),
            (
                CosFailure::Transport {
                    detail: "reset".into(),
                    retryable: true,
                },
                Class::Retry,
            ),
            (
                CosFailure::Transport {
                    detail: "invalid request".into(),
                    retryable: false,
                },
                Class::Final,
            ),
            (
                CosFailure::Redirect {
                    status: 301,
                    location_host: None,
                },
                Class::Final,
            ),
            (CosFailure::BodyTooLarge { limit: 10 }, Class::Final),
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
