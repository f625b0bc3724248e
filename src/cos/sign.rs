//! Pure COS request signer (q-sign-algorithm=sha1): no I/O, time passed in.

/// Signature validity window, Unix seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyTime {
    /// Start, Unix seconds.
    pub start: u64,
    /// End, Unix seconds.
    pub end: u64,
}

/// What is signed.
#[derive(Debug, Clone)]
pub struct SignRequest<'a> {
    /// HTTP method, any case.
    pub method: &'a str,
    /// Decoded object path with its leading `/`.
    pub path: &'a str,
    /// Query parameters (decoded name, decoded value).
    pub query: &'a [(&'a str, &'a str)],
    /// Headers to sign (name any case, value as sent).
    pub headers: &'a [(&'a str, &'a str)],
}

/// Every intermediate value, so test vectors can pin each step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signed {
    /// hex(HMAC-SHA1(SecretKey, KeyTime)).
    pub sign_key: String,
    /// `k1=v1&...` of the query.
    pub http_parameters: String,
    /// `k1;k2` of the query.
    pub url_param_list: String,
    /// `k1=v1&...` of the headers.
    pub http_headers: String,
    /// `k1;k2` of the headers.
    pub header_list: String,
    /// The HttpString.
    pub http_string: String,
    /// hex(SHA1(HttpString)).
    pub http_string_sha1: String,
    /// The final signature.
    pub signature: String,
    /// The full `Authorization` header value.
    pub authorization: String,
}

/// Signs `req` with the given key pair and key time.
pub fn sign(
    _req: &SignRequest<'_>,
    _secret_id: &str,
    _secret_key: &str,
    _key_time: KeyTime,
) -> Signed {
    todo!()
}
