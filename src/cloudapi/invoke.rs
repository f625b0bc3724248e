//! SCF `Invoke` (Cloud API 3.0, version 2018-04-16) without I/O: the target function, the
//! signed request as a value, and the answer read from status and body bytes.

use std::fmt;

use http::Uri;
use serde::Serialize;

use super::call::{self, ApiCall, ApiTarget};
pub use super::call::{ApiFailure, BuildError, Class, CONTENT_TYPE_JSON};
use crate::credentials::Credentials;
use crate::transport::Request;

/// Cloud API service of SCF (credential scope, host name).
pub(crate) const SERVICE: &str = "scf";
/// `X-TC-Action`.
pub(crate) const ACTION: &str = "Invoke";
/// `X-TC-Version` of the SCF API.
pub(crate) const VERSION: &str = "2018-04-16";
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

/// The function an `Invoke` targets: namespace, name and qualifier (version or alias), where
/// [`crate::cloudapi::scf::FunctionRef`] names a function without a qualifier. The fields are
/// validated against SCF's naming rules by [`QualifiedFunction::new`], so a value of this type
/// is always sendable.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct QualifiedFunction {
    namespace: String,
    name: String,
    qualifier: String,
}

/// A function reference that breaks SCF's naming rules.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {what} {value:?}: {rule}")]
pub struct NameError {
    /// `function name`, `namespace` or `qualifier`.
    pub(crate) what: &'static str,
    /// The value as given.
    pub(crate) value: String,
    /// The rule it breaks.
    pub(crate) rule: &'static str,
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

impl QualifiedFunction {
    /// Default namespace.
    pub(crate) const DEFAULT_NAMESPACE: &'static str = "default";
    /// Default qualifier: the unpublished latest code.
    pub(crate) const LATEST: &'static str = "$LATEST";

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
    ) -> Result<QualifiedFunction, NameError> {
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
        Ok(QualifiedFunction {
            namespace,
            name,
            qualifier,
        })
    }

    /// Namespace (`default` unless given).
    pub(crate) fn namespace(&self) -> &str {
        &self.namespace
    }

    /// Function name.
    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    /// Version or alias (`$LATEST` unless given).
    pub(crate) fn qualifier(&self) -> &str {
        &self.qualifier
    }
}

impl fmt::Display for QualifiedFunction {
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
    pub function: &'a QualifiedFunction,
    /// The callback exactly as received (a UTF-8 JSON document).
    pub callback: &'a [u8],
    /// `X-TC-Timestamp`, UNIX seconds.
    pub timestamp: u64,
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

/// The `Invoke` of `callback` on `function` as an `Event` (asynchronous) invocation, with
/// `ClientContext` = the callback as a string, so the target receives it byte for byte.
pub(crate) fn invoke_call(
    function: &QualifiedFunction,
    callback: &[u8],
) -> Result<ApiCall, BuildError> {
    let text = std::str::from_utf8(callback).map_err(|e| BuildError::NotUtf8 {
        offset: e.valid_up_to(),
    })?;
    if text.len() > MAX_EVENT_CLIENT_CONTEXT {
        return Err(BuildError::TooLarge {
            size: text.len(),
            limit: MAX_EVENT_CLIENT_CONTEXT,
        });
    }
    let body = InvokeBody {
        function_name: function.name(),
        invocation_type: "Event",
        namespace: function.namespace(),
        qualifier: function.qualifier(),
        client_context: text,
    };
    ApiCall::new(
        SERVICE,
        VERSION,
        ACTION,
        &body,
        format!("scf:InvokeFunction on {function}"),
    )
}

/// Builds the signed `Invoke` of `input.callback` (see [`invoke_call`]).
pub fn build_request(input: &InvokeInput<'_>) -> Result<Request, BuildError> {
    let call = invoke_call(input.function, input.callback)?;
    let target = ApiTarget {
        endpoint: input.endpoint,
        region: input.region,
        credentials: input.credentials,
    };
    call::build_request(&target, &call, input.timestamp)
}

/// A successful `Invoke`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invoked {
    /// The API's `RequestId`.
    pub request_id: String,
    /// `Result.FunctionRequestId`: the id of the invocation the target will run.
    pub function_request_id: Option<String>,
}

/// Reads an `Invoke` answer (see [`call::parse_answer`]); `Result.FunctionRequestId` names
/// the invocation the target will run.
#[cfg(test)]
pub(crate) fn parse_response(status: u16, body: &[u8]) -> Result<Invoked, ApiFailure> {
    call::parse_answer(status, body).map(Invoked::from)
}

impl From<call::ApiAnswer> for Invoked {
    fn from(answer: call::ApiAnswer) -> Invoked {
        let function_request_id = answer
            .response
            .get("Result")
            .and_then(|r| r.get("FunctionRequestId"))
            .and_then(|v| v.as_str())
            .map(str::to_owned);
        Invoked {
            request_id: answer.request_id,
            function_request_id,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::Method;

    const ID: &str = "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE";
    const KEY: &str = "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE";
    const CALLBACK: &str =
        r#"{"EventType":"WorkflowTask","WorkflowTaskEvent":{"TaskId":"t1","Status":"FINISH"}}"#;

    fn function() -> QualifiedFunction {
        QualifiedFunction::new("default", "biz-handler", "$LATEST").unwrap()
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
        assert!(QualifiedFunction::new("default", "ab", "$LATEST").is_ok());
        assert!(QualifiedFunction::new("default", "a".repeat(60), "$LATEST").is_ok());
        assert!(QualifiedFunction::new("ns-1", "biz_handler-2", "12").is_ok());
        assert!(QualifiedFunction::new("default", "f1", "prod").is_ok());
        assert!(QualifiedFunction::new("default", "f1", "$DEFAULT").is_ok());
        assert!(
            QualifiedFunction::new("default", "f1", "a-").is_ok(),
            "aliases may end with - or _"
        );
        for bad in ["a", "1ab", "ab-", "ab_", "a.b", "a b", "", "é1"] {
            let e = QualifiedFunction::new("default", bad, "$LATEST").unwrap_err();
            assert_eq!(e.what, "function name", "{bad}");
        }
        assert!(QualifiedFunction::new("default", "a".repeat(61), "$LATEST").is_err());
        for bad in ["", "1ns", "ns-", "n/s"] {
            assert_eq!(
                QualifiedFunction::new(bad, "ab", "$LATEST")
                    .unwrap_err()
                    .what,
                "namespace"
            );
        }
        for bad in ["", "$latest", "01", "1a", "a.b", "$X"] {
            assert_eq!(
                QualifiedFunction::new("default", "ab", bad)
                    .unwrap_err()
                    .what,
                "qualifier",
                "{bad}"
            );
        }
        assert!(QualifiedFunction::new("default", "ab", "a".repeat(65)).is_err());
        assert_eq!(
            QualifiedFunction::new("default", "ab", "$LATEST")
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
            ("AuthFailure.UnauthorizedOperation", Class::PermissionDenied),
            ("AuthFailure.InvalidAuthorization", Class::Final),
            ("ResourceNotFound.Function", Class::Final),
            ("InvalidParameterValue.ClientContext", Class::Final),
            ("UnauthorizedOperation.CAM", Class::PermissionDenied),
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
        assert!(!ApiFailure::Status { status: 403 }.is_permission_denied());
    }

    #[test]
    fn http_statuses_and_garbage() {
        assert_eq!(
            parse_response(502, b"<html>bad gateway</html>").unwrap_err(),
            ApiFailure::Status { status: 502 }
        );
        assert_eq!(ApiFailure::Status { status: 502 }.class(), Class::Retry);
        assert_eq!(ApiFailure::Status { status: 429 }.class(), Class::Retry);
        assert_eq!(ApiFailure::Status { status: 404 }.class(), Class::Final);
        assert_eq!(
            ApiFailure::Status { status: 503 }.to_string(),
            "HTTP 503 Service Unavailable"
        );
        let m = parse_response(200, b"<html>").unwrap_err();
        assert_eq!(m.class(), Class::Final);
        assert!(m.to_string().starts_with("not a Cloud API answer"));
        assert!(matches!(
            parse_response(200, br#"{"Response":{}}"#),
            Err(ApiFailure::Malformed { .. })
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
