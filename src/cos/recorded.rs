//! COS XML error bodies as COS sends them, one per class the client must tell apart.
//! The fake COS in `tests/common/fake_cos.rs` answers with the same shapes.

/// Builds a body the way COS lays it out: XML declaration, tab-indented fields.
macro_rules! cos_error {
    ($code:literal, $message:literal, $id:literal) => {
        concat!(
            "<?xml version='1.0' encoding='utf-8' ?>\n<Error>\n",
            "\t<Code>",
            $code,
            "</Code>\n\t<Message>",
            $message,
            "</Message>\n",
            "\t<Resource>examplebucket-1250000000.cos.ap-guangzhou.myqcloud.com/mps-events/k.json</Resource>\n",
            "\t<RequestId>",
            $id,
            "</RequestId>\n",
            "\t<TraceId>OGVmYzZiMmQzYjA2OWNhODk0NTRkMTBiOWVmMDAxODc0OWRkZjk0ZDM1NmI1M2E2MTRlY2MzZDhmNmI5MWI1OTBjNTE3NjMx</TraceId>\n",
            "</Error>"
        )
    };
}

pub(crate) const TRACE_ID: &str =
    "OGVmYzZiMmQzYjA2OWNhODk0NTRkMTBiOWVmMDAxODc0OWRkZjk0ZDM1NmI1M2E2MTRlY2MzZDhmNmI5MWI1OTBjNTE3NjMx";

pub(crate) const SLOW_DOWN: &str = cos_error!(
    "SlowDown",
    "Please reduce your request rate.",
    "NjU1ZDk4YjJfMTdhMjJhMDlfMjc0NF8xYTM4"
);
pub(crate) const INTERNAL_ERROR: &str = cos_error!(
    "InternalError",
    "We encountered an internal error. Please try again.",
    "NjU1ZDk4YjJfMWNhMjJhMDlfMmI0Ml8xYjQw"
);
pub(crate) const SERVICE_UNAVAILABLE: &str = cos_error!(
    "ServiceUnavailable",
    "Service is unable to handle request.",
    "NjU1ZDk4YjJfZjhiMjJhMDlfNDYxZl8xYWZm"
);
pub(crate) const REQUEST_TIMEOUT: &str = cos_error!(
    "RequestTimeout",
    "Your socket connection to the server was not read from or written to within the timeout period.",
    "NjU1ZDk4YjJfOTBhMjJhMDlfMzE1Ml8xYmM0"
);
pub(crate) const TOO_MANY_REQUESTS: &str = cos_error!(
    "TooManyRequests",
    "The number of requests exceeds the frequency limit.",
    "NjU1ZDk4YjJfMTNhMjJhMDlfMjg3MF8xYjEx"
);
pub(crate) const ACCESS_DENIED: &str = cos_error!(
    "AccessDenied",
    "Access Denied.",
    "NjU1ZDk4YjJfNmRhMjJhMDlfMjY0Y18xYTYz"
);
pub(crate) const SIGNATURE_DOES_NOT_MATCH: &str = cos_error!(
    "SignatureDoesNotMatch",
    "The Signature you specified is invalid.",
    "NjU1ZDk4YjJfNzFhMjJhMDlfMmQ1Zl8xYjY3"
);
pub(crate) const TOKEN_EXPIRED: &str = cos_error!(
    "InvalidAccessKeyId",
    "The security token you provided has expired.",
    "NjU1ZDk4YjJfYjFhMjJhMDlfMzQ3Ml8xYzAx"
);
pub(crate) const NO_SUCH_BUCKET: &str = cos_error!(
    "NoSuchBucket",
    "The specified bucket does not exist.",
    "NjU1ZDk4YjJfYzhhMjJhMDlfMzYwNV8xYzE5"
);
pub(crate) const INVALID_OBJECT_NAME: &str = cos_error!(
    "InvalidObjectName",
    "The object name is invalid.",
    "NjU1ZDk4YjJfZDNhMjJhMDlfMzZkN18xYzJh"
);
pub(crate) const TIME_TOO_SKEWED: &str = cos_error!(
    "RequestTimeTooSkewed",
    "The difference between the request time and the server's time is too large.",
    "NjU1ZDk4YjJfZTVhMjJhMDlfMzc5OF8xYzNi"
);
pub(crate) const REQUEST_EXPIRED: &str = cos_error!(
    "AccessDenied",
    "Request has expired",
    "NjU1ZDk4YjJfZjdhMjJhMDlfMzg1NV8xYzRj"
);
pub(crate) const INVALID_ACCESS_KEY_ID: &str = cos_error!(
    "InvalidAccessKeyId",
    "The Access Key Id you provided does not exist in our records.",
    "NjU1ZDk4YjJfMDhhMjJhMDlfMzkxMl8xYzVk"
);
pub(crate) const EXPIRED_TOKEN: &str = cos_error!(
    "ExpiredToken",
    "The provided token has expired.",
    "NjU1ZDk4YjJfMTlhMjJhMDlfMzljNF8xYzZl"
);
pub(crate) const INVALID_TOKEN: &str = cos_error!(
    "InvalidToken",
    "The provided token is malformed or otherwise invalid.",
    "NjU1ZDk4YjJfMmFhMjJhMDlfM2E3Nl8xYzdm"
);
pub(crate) const INVALID_SECURITY_TOKEN: &str = cos_error!(
    "InvalidSecurityToken",
    "The security token included in the request is invalid.",
    "NjU1ZDk4YjJfM2JhMjJhMDlfM2IyOF8xYzkw"
);
pub(crate) const ACCESS_DENIED_TOKEN: &str = cos_error!(
    "AccessDenied",
    "The security token you provided has expired.",
    "NjU1ZDk4YjJfNGNhMjJhMDlfM2JkYV8xY2Ex"
);
