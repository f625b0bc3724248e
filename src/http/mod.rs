//! MPS URL notifications through the function's Function URL: request -> auth -> handler ->
//! response object.
//!
//! SCF hands an HTTP request to an event function as a JSON event with a string
//! `httpMethod` (the Function URL shape; API Gateway's adds `requestContext`,
//! `queryStringParameters` and `isBase64Encoded`), and turns the function's answer
//! `{"statusCode","headers","body"}` into the HTTP response. The invocation is synchronous
//! and never retried by the platform, so every request gets a status, never an error post:
//!
//! | status | when |
//! | --- | --- |
//! | 200 | archived and forwarded (or its type is not archived) |
//! | 400 | the body is not a notification (not JSON, not an object, no `EventType` / `NotificationType`) |
//! | 401 | token or signature missing, wrong or expired, or no authentication configured |
//! | 405 | a method other than POST |
//! | 413 | a body over 6 MB |
//! | 500 | the archive or a forward failed (MPS may send again: the archive is idempotent) |
//!
//! The archived and forwarded callback is the request body (decoded when base64), never the
//! wrapper, so a URL callback and a trigger callback with the same content are one record.

pub mod auth;

use base64::Engine as _;
use bytes::Bytes;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use tracing::{info, warn};

use crate::handler::{Handled, Handler, Invocation};
use crate::record::RecordSource;
use crate::store::Store;
use crate::text::{error_chain, one_line};
use auth::{AuthRefusal, CallbackAuth};

/// Largest notification accepted (SCF's own limit for a synchronous request body).
pub(crate) const MAX_BODY_BYTES: usize = 6 * 1000 * 1000;

/// Only the field that tells an HTTP request from a callback; everything else is skipped
/// without being kept, so a trigger callback pays one pass over its bytes and no copy.
#[derive(Deserialize)]
struct Probe {
    #[serde(rename = "httpMethod", default)]
    http_method: Option<Value>,
}

/// Whether `event` is an HTTP request (a JSON object with a string `httpMethod`) rather than
/// a callback from the MPS trigger.
pub(crate) fn is_request(event: &[u8]) -> bool {
    // Every trigger callback comes through here: a scan for the key's bytes spares them the
    // parse. (An escaped spelling of the key would be missed; no platform writes one.)
    const KEY: &[u8] = b"\"httpMethod\"";
    if !event.windows(KEY.len()).any(|w| w == KEY) {
        return false;
    }
    // A derived struct also takes a JSON array (field by position), hence the first byte.
    starts_object(event)
        && serde_json::from_slice::<Probe>(event)
            .is_ok_and(|p| matches!(p.http_method, Some(Value::String(_))))
}

/// Whether the first byte that is not whitespace opens a JSON object.
fn starts_object(bytes: &[u8]) -> bool {
    bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{')
}

/// One HTTP request as the function sees it, from either event shape.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct UrlRequest {
    /// `httpMethod`, uppercased.
    method: String,
    /// The `token` query parameter, when there is one.
    token: Option<String>,
    /// The body as sent (still base64 when `base64` is set); `None` when absent.
    body: Option<String>,
    /// `isBase64Encoded`.
    base64: bool,
    /// The caller's address as the platform reports it, for the log.
    source: String,
}

impl UrlRequest {
    /// Reads the request out of an HTTP event; `None` when the event is not one.
    pub(crate) fn parse(event: &[u8]) -> Option<UrlRequest> {
        let Ok(Value::Object(mut map)) = serde_json::from_slice::<Value>(event) else {
            return None;
        };
        let method = match map.get("httpMethod") {
            Some(Value::String(m)) => m.to_ascii_uppercase(),
            _ => return None,
        };
        let token = ["queryString", "queryStringParameters"]
            .iter()
            .find_map(|q| map.get(*q).and_then(|q| first_string(q.get("token")?)));
        let base64 = match map.get("isBase64Encoded") {
            Some(Value::Bool(b)) => *b,
            Some(Value::String(s)) => s.eq_ignore_ascii_case("true"),
            _ => false,
        };
        let source = source_address(&map);
        let body = match map.remove("body") {
            Some(Value::String(s)) => Some(s),
            _ => None,
        };
        Some(UrlRequest {
            method,
            token,
            body,
            base64,
            source,
        })
    }
}

/// A query value: a string, or the first string of a repeated parameter.
fn first_string(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Array(items) => items.iter().find_map(|i| i.as_str().map(str::to_string)),
        _ => None,
    }
}

/// The caller's address for log lines: API Gateway's `requestContext.sourceIp`, else the
/// first `X-Forwarded-For` entry, else `X-Real-IP` (header names in any case), cut short
/// and made printable since the caller controls it.
fn source_address(map: &Map<String, Value>) -> String {
    let from_context = map
        .get("requestContext")
        .and_then(|c| c.get("sourceIp"))
        .and_then(Value::as_str);
    let header = |name: &str| {
        map.get("headers")
            .and_then(Value::as_object)
            .and_then(|h| h.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)))
            .and_then(|(_, v)| v.as_str())
    };
    let found = from_context
        .or_else(|| header("x-forwarded-for").and_then(|v| v.split(',').next()))
        .or_else(|| header("x-real-ip"))
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .unwrap_or("unknown");
    found.chars().filter(|c| !c.is_control()).take(64).collect()
}

/// The response object SCF turns into the HTTP answer.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct UrlResponse {
    /// HTTP status.
    pub(crate) status: u16,
    /// The JSON body.
    pub(crate) body: Value,
    /// A server refused this instance's credentials while handling the request: once the
    /// caller has its status, the instance should end so a fresh one gets fresh credentials.
    pub(crate) credentials_refused: bool,
}

impl UrlResponse {
    fn refused(status: u16, reason: &str) -> UrlResponse {
        UrlResponse {
            status,
            body: json!({ "ok": false, "error": reason }),
            credentials_refused: false,
        }
    }

    /// `{"statusCode","headers","body"}` with the body as a JSON string.
    pub(crate) fn into_value(self) -> Value {
        let mut headers = Map::new();
        headers.insert("Content-Type".into(), "application/json".into());
        if self.status == 405 {
            headers.insert("Allow".into(), "POST".into());
        }
        json!({
            "statusCode": self.status,
            "headers": headers,
            "body": self.body.to_string(),
        })
    }
}

/// What the body of an authenticated-so-far request turned out to be.
enum Body {
    /// A notification: its bytes, `Timestamp` and `Sign`.
    Notification {
        bytes: Bytes,
        timestamp: Option<u64>,
        sign: Option<String>,
    },
    /// Refused with this status and reason.
    Refused(u16, String),
}

/// Decodes and checks the body: at most [`MAX_BODY_BYTES`], a JSON object with a string
/// `EventType` or `NotificationType`.
fn read_body(req: UrlRequest) -> Body {
    let Some(raw) = req.body else {
        return Body::Refused(400, "no body: expected an MPS notification".into());
    };
    // Base64 grows a body by a third; refuse before decoding what is too large anyway.
    let encoded_limit = if req.base64 {
        MAX_BODY_BYTES / 3 * 4 + 4
    } else {
        MAX_BODY_BYTES
    };
    if raw.len() > encoded_limit {
        return Body::Refused(413, format!("body over {MAX_BODY_BYTES} bytes"));
    }
    let bytes = if req.base64 {
        match base64::engine::general_purpose::STANDARD.decode(raw.trim()) {
            Ok(b) => b,
            Err(e) => return Body::Refused(400, format!("body is not valid base64: {e}")),
        }
    } else {
        raw.into_bytes()
    };
    if bytes.len() > MAX_BODY_BYTES {
        return Body::Refused(413, format!("body over {MAX_BODY_BYTES} bytes"));
    }
    #[derive(Deserialize)]
    struct Head {
        #[serde(rename = "EventType", default)]
        event_type: Option<Value>,
        #[serde(rename = "NotificationType", default)]
        notification_type: Option<Value>,
        #[serde(rename = "Timestamp", default)]
        timestamp: Option<Value>,
        #[serde(rename = "Sign", default)]
        sign: Option<Value>,
    }
    // One pass: the head's four fields are kept, the rest is only checked to be JSON.
    if !starts_object(&bytes) {
        return Body::Refused(400, "body is not a JSON object".into());
    }
    let head = match serde_json::from_slice::<Head>(&bytes) {
        Ok(h) => h,
        Err(e) => return Body::Refused(400, one_line(&format!("body is not JSON: {e}"))),
    };
    let is_str = |v: &Option<Value>| matches!(v, Some(Value::String(s)) if !s.is_empty());
    if !is_str(&head.event_type) && !is_str(&head.notification_type) {
        return Body::Refused(
            400,
            "body is not an MPS notification: no EventType or NotificationType".into(),
        );
    }
    let timestamp = match head.timestamp {
        Some(Value::Number(n)) => n.as_u64(),
        Some(Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    };
    let sign = match head.sign {
        Some(Value::String(s)) => Some(s),
        _ => None,
    };
    Body::Notification {
        bytes: Bytes::from(bytes),
        timestamp,
        sign,
    }
}

/// A request refused before anything was stored: its status, the reason the caller and the
/// log get (never a secret), and the caller's address for the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// 400, 401, 405 or 413.
    pub status: u16,
    /// What was wrong, one line.
    pub reason: String,
    /// The caller's address as the platform reported it.
    pub(crate) source: String,
}

/// Checks method, token, body and signature of one HTTP event at `now_unix`, without I/O:
/// `None` when `event` is not an HTTP request, else the notification to archive (the request
/// body, decoded) or why it is refused.
pub fn admit(event: &[u8], auth: &CallbackAuth, now_unix: u64) -> Option<Result<Bytes, Refusal>> {
    if !is_request(event) {
        return None;
    }
    let req = UrlRequest::parse(event)?;
    Some(admit_request(req, auth, now_unix))
}

fn admit_request(req: UrlRequest, auth: &CallbackAuth, now_unix: u64) -> Result<Bytes, Refusal> {
    let source = req.source.clone();
    let refuse = |status: u16, reason: String| Refusal {
        status,
        reason,
        source: source.clone(),
    };
    if req.method != "POST" {
        let method: String = req
            .method
            .chars()
            .filter(|c| c.is_ascii_graphic())
            .take(16)
            .collect();
        return Err(refuse(
            405,
            format!("method {method} not allowed: MPS notifications are POSTed"),
        ));
    }
    auth.check_token(req.token.as_deref())
        .map_err(|why| refuse(401, why.to_string()))?;
    let (bytes, timestamp, sign) = match read_body(req) {
        Body::Notification {
            bytes,
            timestamp,
            sign,
        } => (bytes, timestamp, sign),
        Body::Refused(status, reason) => return Err(refuse(status, reason)),
    };
    auth.check_sign(timestamp, sign.as_deref(), now_unix)
        .map_err(|why: AuthRefusal| refuse(401, why.to_string()))?;
    Ok(bytes)
}

/// Answers one HTTP event: [`admit`], then archives and forwards the notification through
/// `handler`. Never fails: every outcome is a status. `None` when `event` is not an HTTP
/// request.
pub(crate) async fn serve<S: Store>(
    handler: &Handler<S>,
    auth: &CallbackAuth,
    event: &[u8],
    inv: &Invocation<'_>,
    now_unix: u64,
) -> Option<UrlResponse> {
    let notification = match admit(event, auth, now_unix)? {
        Ok(n) => n,
        Err(r) => {
            warn!(status = r.status, reason = %r.reason, source = %r.source, "HTTP callback refused");
            return Some(UrlResponse::refused(r.status, &r.reason));
        }
    };
    // A request the platform delivered is a URL callback; one read from a file by `invoke`
    // keeps that source.
    let inv = Invocation {
        source: match inv.source {
            RecordSource::Invoke => RecordSource::Invoke,
            _ => RecordSource::Url,
        },
        ..*inv
    };
    Some(match handler.handle(notification, &inv).await {
        Ok(handled) => {
            info!(key = handled.key.as_deref(), "HTTP callback archived");
            UrlResponse {
                status: 200,
                body: accepted(handled),
                credentials_refused: false,
            }
        }
        // The handler logged the failure; the caller gets the same one line.
        Err(e) => UrlResponse {
            credentials_refused: e.credentials_rejected(),
            ..UrlResponse::refused(500, &error_chain(&e))
        },
    })
}

fn accepted(handled: Handled) -> Value {
    let mut body = json!({
        "ok": true,
        "key": handled.key,
        "forwarded": handled.forwarded,
    });
    if let (Some(why), Some(obj)) = (handled.skipped, body.as_object_mut()) {
        obj.insert("skipped".into(), Value::String(why));
    }
    body
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(event: Value) -> UrlRequest {
        UrlRequest::parse(&serde_json::to_vec(&event).unwrap()).expect("an HTTP event")
    }

    #[test]
    fn tells_http_requests_from_callbacks() {
        assert!(is_request(br#"{"httpMethod":"POST","body":"{}"}"#));
        assert!(is_request(
            br#"{"body":"x","httpMethod":"get","headers":{}}"#
        ));
        for not in [
            &br#"{"EventType":"WorkflowTask","WorkflowTaskEvent":{"TaskId":"t"}}"#[..],
            br#"{"httpMethod":7}"#,
            br#"{"httpMethod":null}"#,
            br#"{"Type":"Timer","Time":"2026-12-05T06:00:00Z"}"#,
            br#"["httpMethod"]"#,
            b"not json",
            b"",
        ] {
            assert!(!is_request(not), "{}", String::from_utf8_lossy(not));
        }
        // A nested httpMethod (inside SessionContext, say) is not a request.
        assert!(!is_request(
            br#"{"EventType":"X","Ext":{"httpMethod":"POST"}}"#
        ));
    }

    #[test]
    fn reads_both_event_shapes() {
        let url = req(json!({
            "httpMethod": "post", "path": "/", "body": "{}",
            "headers": {"X-Forwarded-For": "203.0.113.9, 10.0.0.1"},
            "queryString": {"token": "abc"}
        }));
        assert_eq!(url.method, "POST");
        assert_eq!(url.token.as_deref(), Some("abc"));
        assert_eq!(url.source, "203.0.113.9");
        assert!(!url.base64);
        let gw = req(json!({
            "httpMethod": "POST", "body": "e30=", "isBase64Encoded": true,
            "requestContext": {"sourceIp": "198.51.100.4"},
            "queryStringParameters": {"token": ["first", "second"]},
            "headers": {"x-real-ip": "192.0.2.1"}
        }));
        assert_eq!(gw.token.as_deref(), Some("first"));
        assert_eq!(gw.source, "198.51.100.4");
        assert!(gw.base64);
        let bare = req(json!({"httpMethod": "POST"}));
        assert_eq!(
            (bare.token, bare.body, bare.source.as_str()),
            (None, None, "unknown")
        );
    }

    fn body_of(event: Value) -> Body {
        read_body(req(event))
    }

    fn refused(b: Body) -> (u16, String) {
        match b {
            Body::Refused(s, r) => (s, r),
            Body::Notification { .. } => panic!("expected a refusal"),
        }
    }

    #[test]
    fn body_must_be_a_notification() {
        for (body, status) in [
            (json!({"httpMethod": "POST"}), 400),
            (json!({"httpMethod": "POST", "body": "not json"}), 400),
            (json!({"httpMethod": "POST", "body": "[1]"}), 400),
            (json!({"httpMethod": "POST", "body": "{\"a\":1}"}), 400),
            (
                json!({"httpMethod": "POST", "body": "{\"EventType\":\"\"}"}),
                400,
            ),
            (
                json!({"httpMethod": "POST", "body": "!!", "isBase64Encoded": true}),
                400,
            ),
            (
                json!({"httpMethod": "POST", "body": "x".repeat(MAX_BODY_BYTES + 1)}),
                413,
            ),
        ] {
            assert_eq!(refused(body_of(body.clone())).0, status, "{body:.80}");
        }
        let b64 = base64::engine::general_purpose::STANDARD
            .encode(br#"{"NotificationType":"ProcessEof","Timestamp":"1764000600","Sign":"ab"}"#);
        match body_of(json!({"httpMethod": "POST", "body": b64, "isBase64Encoded": true})) {
            Body::Notification {
                bytes,
                timestamp,
                sign,
            } => {
                assert!(bytes.starts_with(b"{\"NotificationType\""));
                assert_eq!(timestamp, Some(1_764_000_600));
                assert_eq!(sign.as_deref(), Some("ab"));
            }
            Body::Refused(s, r) => panic!("{s} {r}"),
        }
    }

    #[test]
    fn admit_checks_method_then_token_then_body_then_sign() {
        use crate::forward::webhook::{mps_sign, NotifyKey};
        let key = NotifyKey::new("hs-notify-key").unwrap();
        let auth = CallbackAuth {
            token: auth::CallbackToken::new("t0k3n-0123456789abcdef"),
            notify_key: Some(key.clone()),
            allow_unsigned: false,
        };
        let now = 1_764_000_000;
        let body = json!({"EventType": "ScheduleTask", "Timestamp": now + 600,
            "Sign": mps_sign(now + 600, &key)})
        .to_string();
        let event = |method: &str, token: &str, body: &str| {
            serde_json::to_vec(&json!({"httpMethod": method, "body": body,
                "queryString": {"token": token}}))
            .unwrap()
        };
        let status = |ev: Vec<u8>| match admit(&ev, &auth, now) {
            Some(Ok(_)) => 200,
            Some(Err(r)) => r.status,
            None => 0,
        };
        let good = "t0k3n-0123456789abcdef";
        assert_eq!(status(event("POST", good, &body)), 200);
        assert_eq!(status(event("PUT", "bad", "x")), 405, "method first");
        assert_eq!(
            status(event("POST", "bad", "x")),
            401,
            "token before the body"
        );
        assert_eq!(status(event("POST", good, "x")), 400);
        let unsigned = json!({"EventType": "ScheduleTask"}).to_string();
        assert_eq!(status(event("POST", good, &unsigned)), 401);
        assert_eq!(status(br#"{"EventType":"WorkflowTask"}"#.to_vec()), 0);
        match admit(&event("POST", good, &body), &auth, now) {
            Some(Ok(admitted)) => assert_eq!(&admitted[..], body.as_bytes(), "the body, unchanged"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn response_object_has_the_function_url_shape() {
        let v = UrlResponse::refused(405, "method GET not allowed").into_value();
        assert_eq!(v["statusCode"], 405);
        assert_eq!(v["headers"]["Content-Type"], "application/json");
        assert_eq!(v["headers"]["Allow"], "POST");
        let body: Value = serde_json::from_str(v["body"].as_str().unwrap()).unwrap();
        assert_eq!(
            body,
            json!({"ok": false, "error": "method GET not allowed"})
        );
    }
}
