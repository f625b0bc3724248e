//! One Cloud API 3.0 call, for any service, without I/O: the signed request as a value
//! ([`build_request`]), and the answer read from status and body bytes ([`parse_answer`]),
//! its failures classified for retrying ([`ApiFailure::class`]).
//!
//! Every action of every service (`scf` `Invoke`, `mps` `DescribeTasks`, `cam` `CreateRole`,
//! ...) is a POST of JSON parameters to `/`, signed TC3-HMAC-SHA256 with the service in the
//! credential scope, and answered `{"Response": {...}}` with HTTP 200, errors included.

use std::fmt;

use bytes::Bytes;
use http::header::{HeaderValue, AUTHORIZATION, CONTENT_TYPE, HOST};
use http::{HeaderMap, Method, Uri};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::sign::{sign, SignError, SignInput};
use crate::credentials::Credentials;
pub use crate::retry::Class;
use crate::text::{one_line, one_line_within};
use crate::transport::{host_header, Request};

/// `Content-Type` of every Cloud API 3.0 POST.
pub const CONTENT_TYPE_JSON: &str = "application/json; charset=utf-8";

/// One action with its parameters: what [`build_request`] signs and sends.
#[derive(Debug, Clone)]
pub(crate) struct ApiCall {
    /// Service of the credential scope and host name (`scf`, `mps`, `cam`).
    pub(crate) service: &'static str,
    /// `X-TC-Version` of the service's API (`2018-04-16` for SCF).
    pub(crate) version: &'static str,
    /// `X-TC-Action` (`Invoke`, `DescribeTasks`, ...).
    pub(crate) action: &'static str,
    /// The parameters, a JSON object, exactly as sent and signed.
    pub(crate) params: Bytes,
    /// What a refusal for lack of permission names: the CAM action and the resource, e.g.
    /// `scf:InvokeFunction on scf:default/fn:$LATEST` or `mps:DescribeTasks`.
    pub(crate) permission: String,
}

impl ApiCall {
    /// A call whose parameters are `params` serialized.
    pub(crate) fn new<P: serde::Serialize>(
        service: &'static str,
        version: &'static str,
        action: &'static str,
        params: &P,
        permission: impl Into<String>,
    ) -> Result<ApiCall, BuildError> {
        let params = serde_json::to_vec(params)
            .map_err(|e| BuildError::Invalid(format!("parameters: {e}")))?;
        Ok(ApiCall {
            service,
            version,
            action,
            params: Bytes::from(params),
            permission: permission.into(),
        })
    }
}

/// Where and as whom a call is sent.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ApiTarget<'a> {
    /// Cloud API endpoint: scheme, host, optional port; path `/` (or a private prefix).
    pub(crate) endpoint: &'a Uri,
    /// `X-TC-Region`.
    pub(crate) region: &'a str,
    /// The credentials; the token, when any, is sent as `X-TC-Token`.
    pub credentials: &'a Credentials,
}

/// Why a request cannot be built; nothing was sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BuildError {
    /// The callback is larger than an asynchronous invocation accepts.
    #[error("callback of {size} bytes exceeds the {limit}-byte ClientContext limit of an asynchronous Invoke")]
    TooLarge {
        /// Callback size in bytes.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// `ClientContext` is a JSON string: the callback must be UTF-8.
    #[error("callback is not UTF-8 text (invalid byte at offset {offset}); ClientContext must be a string")]
    NotUtf8 {
        /// Offset of the first invalid byte.
        offset: usize,
    },
    /// The endpoint, region, parameters or a header value cannot be sent.
    #[error("invalid Cloud API request: {0}")]
    Invalid(String),
    /// The timestamp cannot be signed.
    #[error(transparent)]
    Sign(#[from] SignError),
}

fn header(value: &str) -> Result<HeaderValue, BuildError> {
    // Header values are never shown: the token must not reach an error text.
    HeaderValue::from_str(value)
        .map_err(|_| BuildError::Invalid("a header value has characters HTTP cannot carry".into()))
}

/// Builds the signed request of `call` to `target` at `timestamp` (UNIX seconds).
pub(crate) fn build_request(
    target: &ApiTarget<'_>,
    call: &ApiCall,
    timestamp: u64,
) -> Result<Request, BuildError> {
    let endpoint = target.endpoint;
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
    let region = target.region;
    if region.is_empty()
        || !region
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
    {
        return Err(BuildError::Invalid(format!(
            "region {:?} is not a region name",
            one_line(region)
        )));
    }
    let path = endpoint.path();
    let path = if path.is_empty() { "/" } else { path };
    let action = call.action.to_ascii_lowercase();
    let signed = sign(
        &SignInput {
            method: "POST",
            path,
            query: "",
            headers: &[
                ("content-type", CONTENT_TYPE_JSON),
                ("host", &host),
                ("x-tc-action", &action),
            ],
            payload: &call.params,
            service: call.service,
            timestamp,
        },
        target.credentials,
    )?;
    let mut headers = HeaderMap::with_capacity(8);
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE_JSON));
    headers.insert(HOST, header(&host)?);
    headers.insert("x-tc-action", HeaderValue::from_static(call.action));
    headers.insert("x-tc-version", HeaderValue::from_static(call.version));
    headers.insert("x-tc-timestamp", HeaderValue::from(timestamp));
    headers.insert("x-tc-region", header(region)?);
    if let Some(token) = target.credentials.session_token() {
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
        body: call.params.clone(),
    })
}

/// A successful answer: its `RequestId` and the rest of its `Response` object.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiAnswer {
    /// The API's `RequestId`.
    pub(crate) request_id: String,
    /// Every other field of `Response`, as sent.
    pub(crate) response: Map<String, Value>,
}

impl ApiAnswer {
    /// The `Response` read into `T` (field names as the API spells them); a shape that does
    /// not fit is an [`ApiFailure::Malformed`].
    pub(crate) fn into_typed<T: serde::de::DeserializeOwned>(self) -> Result<T, ApiFailure> {
        serde_json::from_value(Value::Object(self.response)).map_err(|e| ApiFailure::Malformed {
            detail: one_line_within(&format!("Response does not fit: {e}"), MAX_MESSAGE),
        })
    }
}

/// Why one Cloud API attempt did not succeed. `Display` is one line without any secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiFailure {
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

impl ApiFailure {
    /// Retry class (README: Forwarding, and every other Cloud API client): connection errors, timeouts, 5xx, 429 and the codes
    /// `InternalError*`, `RequestLimitExceeded*`, `ResourceUnavailable*` are retried; a refusal
    /// of the credentials themselves ([`ApiFailure::is_credentials_refused`]) is
    /// [`Class::CredentialsRejected`]; a permission the role lacks
    /// ([`ApiFailure::is_permission_denied`]) is [`Class::PermissionDenied`]; anything else is
    /// final (a clock error is signed again by the client, once, with the server's time).
    pub(crate) fn class(&self) -> Class {
        match self {
            ApiFailure::Api { code, .. } => {
                if self.is_credentials_refused() {
                    Class::CredentialsRejected
                } else if self.is_permission_denied() {
                    Class::PermissionDenied
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
            ApiFailure::Status { status } => {
                if *status == 429 || (500..600).contains(status) {
                    Class::Retry
                } else {
                    Class::Final
                }
            }
            ApiFailure::Malformed { .. } => Class::Final,
            ApiFailure::Transport { retryable, .. } => {
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
    pub(crate) fn is_credentials_refused(&self) -> bool {
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
    pub(crate) fn is_permission_denied(&self) -> bool {
        self.code().is_some_and(|c| {
            c == "AuthFailure.UnauthorizedOperation" || c.starts_with("UnauthorizedOperation")
        })
    }

    /// The request's timestamp is too far from the server's clock
    /// (`AuthFailure.SignatureExpire`): signing again with the server's time can succeed.
    pub(crate) fn is_clock_error(&self) -> bool {
        self.code() == Some("AuthFailure.SignatureExpire")
    }

    /// The API error code, when the API answered one.
    pub fn code(&self) -> Option<&str> {
        match self {
            ApiFailure::Api { code, .. } => Some(code),
            _ => None,
        }
    }

    /// The API's `RequestId`, when known.
    #[cfg(test)]
    pub(crate) fn request_id(&self) -> Option<&str> {
        match self {
            ApiFailure::Api { request_id, .. } => request_id.as_deref(),
            _ => None,
        }
    }
}

impl fmt::Display for ApiFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApiFailure::Api {
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
            ApiFailure::Status { status } => f.write_str(&crate::transport::status_line(*status)),
            ApiFailure::Malformed { detail } => write!(f, "not a Cloud API answer: {detail}"),
            ApiFailure::Transport { detail, .. } => f.write_str(detail),
        }
    }
}

#[derive(Deserialize)]
struct Envelope {
    #[serde(rename = "Response")]
    response: Map<String, Value>,
}

#[derive(Deserialize)]
struct ApiError {
    #[serde(rename = "Code")]
    code: String,
    #[serde(rename = "Message", default)]
    message: String,
}

/// Longest API message kept in a failure.
const MAX_MESSAGE: usize = 300;

/// Reads an answer. The API answers HTTP 200 for its errors too: success is a `Response`
/// with a `RequestId` and no `Error`.
pub(crate) fn parse_answer(status: u16, body: &[u8]) -> Result<ApiAnswer, ApiFailure> {
    let parsed: Option<Envelope> = serde_json::from_slice(body).ok();
    let Some(Envelope { mut response }) = parsed else {
        if status != 200 {
            return Err(ApiFailure::Status { status });
        }
        return Err(ApiFailure::Malformed {
            detail: format!(
                "HTTP 200 with a body that is not {{\"Response\": ...}} ({} bytes)",
                body.len()
            ),
        });
    };
    let request_id = match response.remove("RequestId") {
        Some(Value::String(id)) => Some(id),
        _ => None,
    };
    if let Some(error) = response.remove("Error") {
        let e: ApiError = serde_json::from_value(error).unwrap_or(ApiError {
            code: "UnknownError".into(),
            message: "the answer's Error has no Code".into(),
        });
        return Err(ApiFailure::Api {
            status,
            code: one_line_within(&e.code, 100),
            message: one_line_within(&e.message, MAX_MESSAGE),
            request_id: request_id.map(|r| one_line_within(&r, 100)),
        });
    }
    if status != 200 {
        return Err(ApiFailure::Status { status });
    }
    match request_id {
        Some(request_id) => Ok(ApiAnswer {
            request_id,
            response,
        }),
        None => Err(ApiFailure::Malformed {
            detail: "Response without RequestId".into(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE";
    const KEY: &str = "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE";

    fn describe_tasks() -> ApiCall {
        ApiCall {
            service: "mps",
            version: "2019-06-12",
            action: "DescribeTasks",
            params: Bytes::from_static(br#"{"Status":"FINISH","Limit":100}"#),
            permission: "mps:DescribeTasks".into(),
        }
    }

    /// Another service than the reference vectors' `scf`: the scope and the lowercased action
    /// change; the signature was computed with an independent implementation of the
    /// reference's algorithm (Python `hmac`/`hashlib`).
    #[test]
    fn any_service_is_signed_with_its_own_scope() {
        let creds = Credentials::new(ID, KEY, Some("tok".into()));
        let endpoint: Uri = "https://mps.tencentcloudapi.com".parse().unwrap();
        let target = ApiTarget {
            endpoint: &endpoint,
            region: "ap-guangzhou",
            credentials: &creds,
        };
        let req = build_request(&target, &describe_tasks(), 1_764_000_000).unwrap();
        let h = &req.headers;
        assert_eq!(
            h["authorization"],
            "TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE/2025-11-24/mps/tc3_request, \
             SignedHeaders=content-type;host;x-tc-action, \
             Signature=ba3c24942b93d41cdc3d561c4f642006f9b8a3ec9d58684b8628565e5b39d152"
        );
        assert_eq!(h["x-tc-action"], "DescribeTasks");
        assert_eq!(h["x-tc-version"], "2019-06-12");
        assert_eq!(h["x-tc-region"], "ap-guangzhou");
        assert_eq!(h["x-tc-token"], "tok");
        assert_eq!(&req.body[..], br#"{"Status":"FINISH","Limit":100}"#);
        let bad = ApiTarget {
            region: "ap guangzhou",
            ..target
        };
        assert!(matches!(
            build_request(&bad, &describe_tasks(), 1),
            Err(BuildError::Invalid(_))
        ));
    }

    #[test]
    fn answers_are_read_whatever_the_action() {
        let ok = parse_answer(
            200,
            br#"{"Response":{"TaskSet":[{"TaskId":"t"}],"ScrollToken":"","RequestId":"r-1"}}"#,
        )
        .unwrap();
        assert_eq!(ok.request_id, "r-1");
        assert_eq!(ok.response["TaskSet"][0]["TaskId"], "t");
        assert!(!ok.response.contains_key("RequestId"));
        #[derive(Deserialize)]
        struct Page {
            #[serde(rename = "TaskSet")]
            task_set: Vec<Value>,
        }
        assert_eq!(ok.clone().into_typed::<Page>().unwrap().task_set.len(), 1);
        #[derive(Debug, Deserialize)]
        #[allow(dead_code)]
        struct Wrong {
            #[serde(rename = "Missing")]
            missing: String,
        }
        assert!(matches!(
            ok.into_typed::<Wrong>(),
            Err(ApiFailure::Malformed { .. })
        ));
        let throttled = parse_answer(
            200,
            br#"{"Response":{"Error":{"Code":"RequestLimitExceeded","Message":"slow down"},"RequestId":"r-2"}}"#,
        )
        .unwrap_err();
        assert_eq!(throttled.class(), Class::Retry);
        assert_eq!(throttled.request_id(), Some("r-2"));
        let denied = parse_answer(
            200,
            br#"{"Response":{"Error":{"Code":"AuthFailure.UnauthorizedOperation","Message":"no"},"RequestId":"r-3"}}"#,
        )
        .unwrap_err();
        assert!(denied.is_permission_denied() && denied.class() == Class::PermissionDenied);
        assert_eq!(
            parse_answer(502, b"<html>bad gateway</html>").unwrap_err(),
            ApiFailure::Status { status: 502 }
        );
    }
}
