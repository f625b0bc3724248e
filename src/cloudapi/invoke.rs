//! SCF `Invoke` (Cloud API 3.0, version 2018-04-16) without I/O: the signed request as a value,
//! and the answer parsed and classified from status and body bytes.

use std::fmt;

use bytes::Bytes;
use http::header::{HeaderValue, AUTHORIZATION, CONTENT_TYPE, HOST};
use http::{HeaderMap, Method, Uri};
use serde::{Deserialize, Serialize};

use super::sign::{sign, SignError, SignInput};
use crate::credentials::Credentials;
use crate::text::one_line;
use crate::transport::{host_header, Request};

/// Cloud API service of SCF (credential scope, host name).
pub const SERVICE: &str = "scf";
/// `X-TC-Action`.
pub const ACTION: &str = "Invoke";
/// `X-TC-Version` of the SCF API.
pub const VERSION: &str = "2018-04-16";
/// `Content-Type` of every Cloud API 3.0 POST.
pub const CONTENT_TYPE_JSON: &str = "application/json; charset=utf-8";
/// Largest `ClientContext` of an asynchronous (`Event`) invocation: the API documents "128 KB",
/// read as KiB like every other SCF limit (the synchronous "6 MB" is 6 MiB). It is counted on
/// the callback itself, the parameter's value, not on its JSON-escaped form in the body.
pub const MAX_EVENT_CLIENT_CONTEXT: usize = 128 * 1024;

/// Shortest and longest function name (SCF `CreateFunction`).
const FUNCTION_NAME_LEN: (usize, usize) = (2, 60);
/// Namespaces: SCF documents no rule of its own; the function name's alphabet is used with
/// length 1..=60 so `default` and any console-created name pass (a wrong one is answered
/// `ResourceNotFound.Namespace` at the first forward).
const NAMESPACE_LEN: (usize, usize) = (1, 60);
/// Alias names: 1 to 64 letters, digits, `_` and `-`, starting with a letter (`CreateAlias`).
const ALIAS_LEN: (usize, usize) = (1, 64);

/// The function an `Invoke` targets. The fields are validated against SCF's naming rules by
/// [`Function::new`], so a value of this type is always sendable.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Function {
    namespace: String,
    name: String,
    qualifier: String,
}

/// A function reference that breaks SCF's naming rules.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {what} {value:?}: {rule}")]
pub struct NameError {
    /// `function name`, `namespace` or `qualifier`.
    pub what: &'static str,
    /// The value as given.
    pub value: String,
    /// The rule it breaks.
    pub rule: &'static str,
}

fn name_like(value: &str, len: (usize, usize), end_rule: bool) -> bool {
    let bytes = value.as_bytes();
    (len.0..=len.1).contains(&bytes.len())
        && bytes[0].is_ascii_alphabetic()
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || *b == b'-' || *b == b'_')
        && !(end_rule && matches!(bytes[bytes.len() - 1], b'-' | b'_'))
}

impl Function {
    /// Default namespace.
    pub const DEFAULT_NAMESPACE: &'static str = "default";
    /// Default qualifier: the unpublished latest code.
    pub const LATEST: &'static str = "$LATEST";

    /// A validated reference. Rules (SCF API documentation):
    /// - name: 2 to 60 letters, digits, `-` and `_`, starting with a letter, not ending with
    ///   `-` or `_`;
    /// - namespace: the same alphabet and ends, 1 to 60 characters;
    /// - qualifier: `$LATEST`, `$DEFAULT`, a version number (digits, no leading zero), or an
    ///   alias name (1 to 64 letters, digits, `_`, `-`, starting with a letter).
    pub fn new(
        namespace: impl Into<String>,
        name: impl Into<String>,
        qualifier: impl Into<String>,
    ) -> Result<Function, NameError> {
        let (namespace, name, qualifier) = (namespace.into(), name.into(), qualifier.into());
        if !name_like(&name, FUNCTION_NAME_LEN, true) {
            return Err(NameError {
                what: "function name",
                value: name,
                rule: "2 to 60 letters, digits, '-' or '_', starting with a letter, not ending with '-' or '_'",
            });
        }
        if !name_like(&namespace, NAMESPACE_LEN, true) {
            return Err(NameError {
                what: "namespace",
                value: namespace,
                rule: "1 to 60 letters, digits, '-' or '_', starting with a letter, not ending with '-' or '_'",
            });
        }
        let version = !qualifier.is_empty()
            && qualifier.len() <= 20
            && qualifier.bytes().all(|b| b.is_ascii_digit())
            && !qualifier.starts_with('0');
        let ok = qualifier == Self::LATEST
            || qualifier == "$DEFAULT"
            || version
            || name_like(&qualifier, ALIAS_LEN, false);
        if !ok {
            return Err(NameError {
                what: "qualifier",
                value: qualifier,
                rule: "$LATEST, $DEFAULT, a version number, or an alias (1 to 64 letters, digits, '-' or '_', starting with a letter)",
            });
        }
        Ok(Function {
            namespace,
            name,
            qualifier,
        })
    }

    /// Namespace (`default` unless given).
    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    /// Function name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Version or alias (`$LATEST` unless given).
    pub fn qualifier(&self) -> &str {
        &self.qualifier
    }
}

impl fmt::Display for Function {
    /// The full target form, defaults spelled out: `scf:default/name:$LATEST`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "scf:{}/{}:{}", self.namespace, self.name, self.qualifier)
    }
}

/// Everything one signed `Invoke` needs.
#[derive(Debug, Clone, Copy)]
pub struct InvokeInput<'a> {
    /// Cloud API endpoint: scheme, host, optional port; path `/` (or a private prefix).
    pub endpoint: &'a Uri,
    /// `X-TC-Region`.
    pub region: &'a str,
    /// The role's credentials; the token, when any, is sent as `X-TC-Token`.
    pub credentials: &'a Credentials,
    /// The target.
    pub function: &'a Function,
    /// The callback exactly as received (a UTF-8 JSON document).
    pub callback: &'a [u8],
    /// `X-TC-Timestamp`, UNIX seconds.
    pub timestamp: u64,
}

/// Why an `Invoke` request cannot be built; nothing was sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BuildError {
    /// The callback is larger than an asynchronous invocation accepts.
    #[error("callback of {size} bytes exceeds the {limit}-byte ClientContext limit of an asynchronous Invoke")]
    TooLarge {
        /// Callback size in bytes.
        size: usize,
        /// [`MAX_EVENT_CLIENT_CONTEXT`].
        limit: usize,
    },
    /// `ClientContext` is a JSON string: the callback must be UTF-8.
    #[error("callback is not UTF-8 text (invalid byte at offset {offset}); ClientContext must be a string")]
    NotUtf8 {
        /// Offset of the first invalid byte.
        offset: usize,
    },
    /// The endpoint, region or a header value cannot be sent.
    #[error("invalid Cloud API request: {0}")]
    Invalid(String),
    /// The timestamp cannot be signed.
    #[error(transparent)]
    Sign(#[from] SignError),
}

/// The body, fields in the order of the SDKs (and of the reference vector).
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct InvokeBody<'a> {
    function_name: &'a str,
    invocation_type: &'a str,
    namespace: &'a str,
    qualifier: &'a str,
    client_context: &'a str,
}

fn header(value: &str) -> Result<HeaderValue, BuildError> {
    // Header values are never shown: the token must not reach an error text.
    HeaderValue::from_str(value)
        .map_err(|_| BuildError::Invalid("a header value has characters HTTP cannot carry".into()))
}

/// Builds the signed `Invoke` of `input.callback` as an `Event` (asynchronous) invocation.
/// The body is JSON with `ClientContext` = the callback as a string, so the target receives
/// it byte for byte.
pub fn build_request(input: &InvokeInput<'_>) -> Result<Request, BuildError> {
    let text = std::str::from_utf8(input.callback).map_err(|e| BuildError::NotUtf8 {
        offset: e.valid_up_to(),
    })?;
    if text.len() > MAX_EVENT_CLIENT_CONTEXT {
        return Err(BuildError::TooLarge {
            size: text.len(),
            limit: MAX_EVENT_CLIENT_CONTEXT,
        });
    }
    let endpoint = input.endpoint;
    if !matches!(endpoint.scheme_str(), Some("http" | "https")) {
        return Err(BuildError::Invalid(
            "endpoint scheme must be http or https".into(),
        ));
    }
    if endpoint.query().is_some() {
        return Err(BuildError::Invalid("endpoint must not have a query".into()));
    }
    let host =
        host_header(endpoint).ok_or_else(|| BuildError::Invalid("endpoint has no host".into()))?;
    if input.region.is_empty()
        || !input
            .region
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
    {
        return Err(BuildError::Invalid(format!(
            "region {:?} is not a region name",
            one_line(input.region)
        )));
    }
    let body = serde_json::to_vec(&InvokeBody {
        function_name: input.function.name(),
        invocation_type: "Event",
        namespace: input.function.namespace(),
        qualifier: input.function.qualifier(),
        client_context: text,
    })
    .map_err(|e| BuildError::Invalid(format!("body: {e}")))?;
    let path = endpoint.path();
    let path = if path.is_empty() { "/" } else { path };
    let signed = sign(
        &SignInput {
            method: "POST",
            path,
            query: "",
            headers: &[
                ("content-type", CONTENT_TYPE_JSON),
                ("host", &host),
                ("x-tc-action", ACTION),
            ],
            payload: &body,
            service: SERVICE,
            timestamp: input.timestamp,
        },
        input.credentials,
    )?;
    let mut headers = HeaderMap::with_capacity(8);
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE_JSON));
    headers.insert(HOST, header(&host)?);
    headers.insert("x-tc-action", HeaderValue::from_static(ACTION));
    headers.insert("x-tc-version", HeaderValue::from_static(VERSION));
    headers.insert("x-tc-timestamp", HeaderValue::from(input.timestamp));
    headers.insert("x-tc-region", header(input.region)?);
    if let Some(token) = input.credentials.session_token() {
        let mut v = header(token)?;
        v.set_sensitive(true);
        headers.insert("x-tc-token", v);
    }
    let mut auth = header(&signed.authorization)?;
    auth.set_sensitive(true);
    headers.insert(AUTHORIZATION, auth);
    Ok(Request {
        method: Method::POST,
        uri: endpoint.clone(),
        headers,
        body: Bytes::from(body),
    })
}

/// A successful `Invoke`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invoked {
    /// The API's `RequestId`.
    pub request_id: String,
    /// `Result.FunctionRequestId`: the id of the invocation the target will run.
    pub function_request_id: Option<String>,
}

/// Why one `Invoke` attempt did not succeed. `Display` is one line without any secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The API answered with an `Error` (in an HTTP 200, usually).
    Api {
        /// HTTP status of the answer.
        status: u16,
        /// `Error.Code`, e.g. `ResourceNotFound.Function`.
        code: String,
        /// `Error.Message`, on one line.
        message: String,
        /// `RequestId`, when given.
        request_id: Option<String>,
    },
    /// A status other than 200 without a Cloud API error body (a gateway, a proxy).
    Status {
        /// HTTP status.
        status: u16,
    },
    /// HTTP 200 whose body is not a Cloud API answer: the endpoint is not the Cloud API.
    Malformed {
        /// What is wrong with it.
        detail: String,
    },
    /// No answer: connect, reset, timeout, redirect, or an answer too large.
    Transport {
        /// What happened (no URL query, no header value).
        detail: String,
        /// Whether trying again may help.
        retryable: bool,
    },
}

pub use crate::retry::Class;

impl Failure {
    /// Retry class (README: Forwarding): connection errors, timeouts, 5xx, 429 and the codes
    /// `InternalError*`, `RequestLimitExceeded*`, `ResourceUnavailable*` are retried; a refusal
    /// of the credentials themselves ([`Failure::is_credentials_refused`]) is
    /// [`Class::CredentialsRejected`]; anything else is final (a clock error is signed again
    /// by the client, once, with the server's time).
    pub fn class(&self) -> Class {
        match self {
            Failure::Api { code, .. } => {
                if self.is_credentials_refused() {
                    Class::CredentialsRejected
                } else if [
                    "InternalError",
                    "RequestLimitExceeded",
                    "ResourceUnavailable",
                ]
                .iter()
                .any(|p| code.starts_with(p))
                {
                    Class::Retry
                } else {
                    Class::Final
                }
            }
            Failure::Status { status } => {
                if *status == 429 || (500..600).contains(status) {
                    Class::Retry
                } else {
                    Class::Final
                }
            }
            Failure::Malformed { .. } => Class::Final,
            Failure::Transport { retryable, .. } => {
                if *retryable {
                    Class::Retry
                } else {
                    Class::Final
                }
            }
        }
    }

    /// The API refused the credentials themselves, which may have expired: an unknown or
    /// invalid SecretId, or a refused session token. Only fresh role credentials help.
    ///
    /// `AuthFailure.SignatureFailure` is not one: it says the secret key does not sign what
    /// the API expects for this SecretId (a wrong `TENCENTCLOUD_SECRETKEY`, or a signing
    /// fault). A fresh instance reads the same key and signs the same way, so stopping would
    /// only turn every later event into a cold start; keys that ran out are answered with
    /// the codes below instead.
    pub fn is_credentials_refused(&self) -> bool {
        matches!(
            self.code(),
            Some(
                "AuthFailure.SecretIdNotFound"
                    | "AuthFailure.TokenFailure"
                    | "AuthFailure.InvalidSecretId"
            )
        )
    }

    /// The role lacks the permission (`AuthFailure.UnauthorizedOperation`,
    /// `UnauthorizedOperation*`): final for this request, while the credentials are good.
    pub fn is_permission_denied(&self) -> bool {
        self.code().is_some_and(|c| {
            c == "AuthFailure.UnauthorizedOperation" || c.starts_with("UnauthorizedOperation")
        })
    }

    /// The request's timestamp is too far from the server's clock
    /// (`AuthFailure.SignatureExpire`): signing again with the server's time can succeed.
    pub fn is_clock_error(&self) -> bool {
        self.code() == Some("AuthFailure.SignatureExpire")
    }

    /// The API error code, when the API answered one.
    pub fn code(&self) -> Option<&str> {
        match self {
            Failure::Api { code, .. } => Some(code),
            _ => None,
        }
    }

    /// The API's `RequestId`, when known.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            Failure::Api { request_id, .. } => request_id.as_deref(),
            _ => None,
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Api {
                code,
                message,
                request_id,
                ..
            } => {
                write!(f, "{code}")?;
                if !message.is_empty() {
                    write!(f, ": {message}")?;
                }
                if let Some(id) = request_id {
                    write!(f, " (request id {id})")?;
                }
                Ok(())
            }
            Failure::Status { status } => {
                let reason = http::StatusCode::from_u16(*status)
                    .ok()
                    .and_then(|s| s.canonical_reason());
                match reason {
                    Some(r) => write!(f, "HTTP {status} {r}"),
                    None => write!(f, "HTTP {status}"),
                }
            }
            Failure::Malformed { detail } => write!(f, "not a Cloud API answer: {detail}"),
            Failure::Transport { detail, .. } => f.write_str(detail),
        }
    }
}

#[derive(Deserialize)]
struct Envelope {
    #[serde(rename = "Response")]
    response: ResponseBody,
}

#[derive(Deserialize)]
struct ResponseBody {
    #[serde(rename = "Error")]
    error: Option<ApiError>,
    #[serde(rename = "RequestId")]
    request_id: Option<String>,
    #[serde(rename = "Result")]
    result: Option<InvokeResult>,
}

#[derive(Deserialize)]
struct ApiError {
    #[serde(rename = "Code")]
    code: String,
    #[serde(rename = "Message", default)]
    message: String,
}

#[derive(Deserialize)]
struct InvokeResult {
    #[serde(rename = "FunctionRequestId")]
    function_request_id: Option<String>,
}

/// Longest API message kept in a failure.
const MAX_MESSAGE: usize = 300;

fn short(s: &str, max: usize) -> String {
    let line = one_line(s);
    if line.len() <= max {
        return line;
    }
    let mut cut = max;
    while !line.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}…", &line[..cut])
}

/// Reads an `Invoke` answer. The API answers HTTP 200 for its errors too: success is a
/// `Response` with a `RequestId` and no `Error`.
pub fn parse_response(status: u16, body: &[u8]) -> Result<Invoked, Failure> {
    let parsed: Option<Envelope> = serde_json::from_slice(body).ok();
    match parsed {
        Some(Envelope {
            response:
                ResponseBody {
                    error: Some(e),
                    request_id,
                    ..
                },
        }) => Err(Failure::Api {
            status,
            code: short(&e.code, 100),
            message: short(&e.message, MAX_MESSAGE),
            request_id: request_id.map(|r| short(&r, 100)),
        }),
        Some(Envelope { response }) if status == 200 => match response.request_id {
            Some(request_id) => Ok(Invoked {
                request_id,
                function_request_id: response.result.and_then(|r| r.function_request_id),
            }),
            None => Err(Failure::Malformed {
                detail: "Response without RequestId".into(),
            }),
        },
        _ if status != 200 => Err(Failure::Status { status }),
        Some(_) | None => Err(Failure::Malformed {
            detail: format!(
                "HTTP 200 with a body that is not {{\"Response\": ...}} ({} bytes)",
                body.len()
            ),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE";
    const KEY: &str = "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE";
    const CALLBACK: &str =
        r#"{"EventType":"WorkflowTask","WorkflowTaskEvent":{"TaskId":"t1","Status":"FINISH"}}"#;

    fn function() -> Function {
        Function::new("default", "biz-handler", "$LATEST").unwrap()
    }

    fn build(creds: &Credentials, callback: &[u8]) -> Result<Request, BuildError> {
        let endpoint: Uri = "https://scf.tencentcloudapi.com".parse().unwrap();
        build_request(&InvokeInput {
            endpoint: &endpoint,
            region: "ap-guangzhou",
            credentials: creds,
            function: &function(),
            callback,
            timestamp: 1764000000,
        })
    }

    #[test]
    fn request_reproduces_the_reference_vector_2() {
        let creds = Credentials::new(ID, KEY, None);
        let req = build(&creds, CALLBACK.as_bytes()).unwrap();
        // The body is byte for byte the vector's payload; with the same headers signed, the
        // signature is the vector's.
        assert_eq!(
            std::str::from_utf8(&req.body).unwrap(),
            r#"{"FunctionName":"biz-handler","InvocationType":"Event","Namespace":"default","Qualifier":"$LATEST","ClientContext":"{\"EventType\":\"WorkflowTask\",\"WorkflowTaskEvent\":{\"TaskId\":\"t1\",\"Status\":\"FINISH\"}}"}"#
        );
        let h = &req.headers;
        assert_eq!(
            h["authorization"],
            "TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE/2025-11-24/scf/tc3_request, \
             SignedHeaders=content-type;host;x-tc-action, \
             Signature=3261c3dbfa565d433b89d1dfd58e28030147762429640269a1a1a74bfb8f2541"
        );
        assert_eq!(req.method, Method::POST);
        assert_eq!(req.uri, "https://scf.tencentcloudapi.com/");
        assert_eq!(h["content-type"], "application/json; charset=utf-8");
        assert_eq!(h["host"], "scf.tencentcloudapi.com");
        assert_eq!(h["x-tc-action"], "Invoke");
        assert_eq!(h["x-tc-version"], "2018-04-16");
        assert_eq!(h["x-tc-timestamp"], "1764000000");
        assert_eq!(h["x-tc-region"], "ap-guangzhou");
        assert!(h.get("x-tc-token").is_none());
    }

    #[test]
    fn session_token_is_sent_and_hidden_from_debug() {
        let creds = Credentials::new(ID, KEY, Some("tok-secret".into()));
        let req = build(&creds, CALLBACK.as_bytes()).unwrap();
        assert_eq!(req.headers["x-tc-token"], "tok-secret");
        let shown = format!("{req:?}");
        assert!(
            !shown.contains("tok-secret") && !shown.contains(KEY),
            "{shown}"
        );
    }

    #[test]
    fn client_context_decodes_to_the_callback_byte_for_byte() {
        let creds = Credentials::new(ID, KEY, None);
        let odd = "{\"a\":\"\\u00e9 é \\\" \\\\ / \\n\",\"n\":123456789012345678901234567890,\"f\":1.50}\n";
        let req = build(&creds, odd.as_bytes()).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&req.body).unwrap();
        assert_eq!(v["ClientContext"].as_str().unwrap(), odd);
        assert_eq!(v["InvocationType"], "Event");
    }

    #[test]
    fn the_128_kib_limit_is_inclusive_and_checked_before_anything_else() {
        let creds = Credentials::new(ID, KEY, None);
        let pad = |n: usize| {
            let mut s = String::from("{\"p\":\"");
            s.push_str(&"x".repeat(n - s.len() - 2));
            s.push_str("\"}");
            s
        };
        assert!(build(&creds, pad(MAX_EVENT_CLIENT_CONTEXT).as_bytes()).is_ok());
        let err = build(&creds, pad(MAX_EVENT_CLIENT_CONTEXT + 1).as_bytes()).unwrap_err();
        assert_eq!(
            err,
            BuildError::TooLarge {
                size: 131073,
                limit: 131072
            }
        );
        assert_eq!(
            err.to_string(),
            "callback of 131073 bytes exceeds the 131072-byte ClientContext limit of an asynchronous Invoke"
        );
        assert_eq!(
            build(&creds, b"{\"a\":\"\xff\"}").unwrap_err(),
            BuildError::NotUtf8 { offset: 6 }
        );
    }

    #[test]
    fn non_default_port_is_in_host_and_endpoint_checks() {
        let creds = Credentials::new(ID, KEY, None);
        let f = function();
        let mk = |ep: &str, region: &str| {
            let endpoint: Uri = ep.parse().unwrap();
            build_request(&InvokeInput {
                endpoint: &endpoint,
                region,
                credentials: &creds,
                function: &f,
                callback: b"{}",
                timestamp: 1,
            })
        };
        let req = mk("http://127.0.0.1:9000", "ap-guangzhou").unwrap();
        assert_eq!(req.headers["host"], "127.0.0.1:9000");
        assert_eq!(req.uri, "http://127.0.0.1:9000/");
        let req = mk(
            "https://scf.ap-guangzhou.tencentcloudapi.com:443/",
            "ap-guangzhou",
        )
        .unwrap();
        assert_eq!(req.headers["host"], "scf.ap-guangzhou.tencentcloudapi.com");
        assert!(matches!(
            mk("ftp://h/", "ap-guangzhou"),
            Err(BuildError::Invalid(_))
        ));
        assert!(matches!(
            mk("https://h/?a=b", "ap-guangzhou"),
            Err(BuildError::Invalid(_))
        ));
        assert!(matches!(mk("https://h/", ""), Err(BuildError::Invalid(_))));
        assert!(matches!(
            mk("https://h/", "ap guangzhou"),
            Err(BuildError::Invalid(_))
        ));
    }

    #[test]
    fn function_names_follow_scf_rules() {
        assert!(Function::new("default", "ab", "$LATEST").is_ok());
        assert!(Function::new("default", "a".repeat(60), "$LATEST").is_ok());
        assert!(Function::new("ns-1", "biz_handler-2", "12").is_ok());
        assert!(Function::new("default", "f1", "prod").is_ok());
        assert!(Function::new("default", "f1", "$DEFAULT").is_ok());
        assert!(
            Function::new("default", "f1", "a-").is_ok(),
            "aliases may end with - or _"
        );
        for bad in ["a", "1ab", "ab-", "ab_", "a.b", "a b", "", "é1"] {
            let e = Function::new("default", bad, "$LATEST").unwrap_err();
            assert_eq!(e.what, "function name", "{bad}");
        }
        assert!(Function::new("default", "a".repeat(61), "$LATEST").is_err());
        for bad in ["", "1ns", "ns-", "n/s"] {
            assert_eq!(
                Function::new(bad, "ab", "$LATEST").unwrap_err().what,
                "namespace"
            );
        }
        for bad in ["", "$latest", "01", "1a", "a.b", "$X"] {
            assert_eq!(
                Function::new("default", "ab", bad).unwrap_err().what,
                "qualifier",
                "{bad}"
            );
        }
        assert!(Function::new("default", "ab", "a".repeat(65)).is_err());
        assert_eq!(
            Function::new("default", "ab", "$LATEST")
                .unwrap()
                .to_string(),
            "scf:default/ab:$LATEST"
        );
    }

    // Answers recorded in the API documentation's format.
    const OK: &str = r#"{"Response":{"Result":{"MemUsage":0,"Log":"","RetMsg":"","BillDuration":0,"FunctionRequestId":"9b27c4a6-0000-4f6c-9a2e-8f3c7d6c0a11","Duration":0,"ErrMsg":"","InvokeResult":0},"RequestId":"5e9d7b8c-1111-4a8e-b3f2-0c1d2e3f4a5b"}}"#;

    fn api_error(code: &str) -> String {
        format!(
            r#"{{"Response":{{"Error":{{"Code":"{code}","Message":"some message"}},"RequestId":"req-1"}}}}"#
        )
    }

    #[test]
    fn success_is_a_response_without_error() {
        let ok = parse_response(200, OK.as_bytes()).unwrap();
        assert_eq!(ok.request_id, "5e9d7b8c-1111-4a8e-b3f2-0c1d2e3f4a5b");
        assert_eq!(
            ok.function_request_id.as_deref(),
            Some("9b27c4a6-0000-4f6c-9a2e-8f3c7d6c0a11")
        );
        let bare = parse_response(200, br#"{"Response":{"RequestId":"r"}}"#).unwrap();
        assert_eq!(bare.function_request_id, None);
    }

    #[test]
    fn errors_in_http_200_are_failures_and_classified() {
        let cases = [
            ("InternalError", Class::Retry),
            ("InternalError.SystemError", Class::Retry),
            ("RequestLimitExceeded", Class::Retry),
            ("RequestLimitExceeded.UinLimitExceeded", Class::Retry),
            ("ResourceUnavailable", Class::Retry),
            (
                "ResourceUnavailable.FunctionInsufficientBalance",
                Class::Retry,
            ),
            ("AuthFailure.SignatureFailure", Class::Final),
            ("AuthFailure.SignatureExpire", Class::Final),
            ("AuthFailure.SecretIdNotFound", Class::CredentialsRejected),
            ("AuthFailure.TokenFailure", Class::CredentialsRejected),
            ("AuthFailure.InvalidSecretId", Class::CredentialsRejected),
            ("AuthFailure.UnauthorizedOperation", Class::Final),
            ("AuthFailure.InvalidAuthorization", Class::Final),
            ("ResourceNotFound.Function", Class::Final),
            ("InvalidParameterValue.ClientContext", Class::Final),
            ("UnauthorizedOperation.CAM", Class::Final),
            ("LimitExceeded", Class::Final),
        ];
        for (code, class) in cases {
            let f = parse_response(200, api_error(code).as_bytes()).unwrap_err();
            assert_eq!(f.class(), class, "{code}");
            assert_eq!(f.code(), Some(code));
            assert_eq!(f.request_id(), Some("req-1"));
            assert_eq!(
                f.to_string(),
                format!("{code}: some message (request id req-1)")
            );
        }
    }

    #[test]
    fn permission_and_clock_errors_are_told_apart_from_refused_credentials() {
        let f = |code: &str| parse_response(200, api_error(code).as_bytes()).unwrap_err();
        for code in [
            "AuthFailure.UnauthorizedOperation",
            "UnauthorizedOperation",
            "UnauthorizedOperation.CAM",
        ] {
            assert!(f(code).is_permission_denied(), "{code}");
            assert!(!f(code).is_credentials_refused(), "{code}");
        }
        for code in [
            "AuthFailure.SecretIdNotFound",
            "AuthFailure.TokenFailure",
            "AuthFailure.InvalidSecretId",
        ] {
            assert!(f(code).is_credentials_refused(), "{code}");
            assert!(!f(code).is_permission_denied(), "{code}");
        }
        assert!(f("AuthFailure.SignatureExpire").is_clock_error());
        assert!(!f("AuthFailure.SignatureFailure").is_clock_error());
        assert!(!f("AuthFailure.SignatureFailure").is_credentials_refused());
        assert!(!Failure::Status { status: 403 }.is_permission_denied());
    }

    #[test]
    fn http_statuses_and_garbage() {
        assert_eq!(
            parse_response(502, b"<html>bad gateway</html>").unwrap_err(),
            Failure::Status { status: 502 }
        );
        assert_eq!(Failure::Status { status: 502 }.class(), Class::Retry);
        assert_eq!(Failure::Status { status: 429 }.class(), Class::Retry);
        assert_eq!(Failure::Status { status: 404 }.class(), Class::Final);
        assert_eq!(
            Failure::Status { status: 503 }.to_string(),
            "HTTP 503 Service Unavailable"
        );
        let m = parse_response(200, b"<html>").unwrap_err();
        assert_eq!(m.class(), Class::Final);
        assert!(m.to_string().starts_with("not a Cloud API answer"));
        assert!(matches!(
            parse_response(200, br#"{"Response":{}}"#),
            Err(Failure::Malformed { .. })
        ));
        // An error body with another status still names the code.
        let f = parse_response(500, api_error("InternalError").as_bytes()).unwrap_err();
        assert_eq!(f.code(), Some("InternalError"));
    }

    #[test]
    fn failure_text_is_one_line_and_bounded() {
        let body = format!(
            r#"{{"Response":{{"Error":{{"Code":"InvalidParameter","Message":"line1\nline2 {}"}},"RequestId":"r"}}}}"#,
            "x".repeat(1000)
        );
        let text = parse_response(200, body.as_bytes())
            .unwrap_err()
            .to_string();
        assert!(!text.contains('\n'));
        assert!(text.len() < 450, "{}", text.len());
        assert!(text.starts_with("InvalidParameter: line1 line2 x"));
    }
}
