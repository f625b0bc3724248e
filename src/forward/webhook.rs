//! URL targets without I/O: the POST of a callback as a value, re-signed the way MPS signs
//! its URL callbacks when a notify key is configured, and the answer's classification.
//!
//! Re-signing splices bytes: the top-level `Timestamp` and `Sign` values are replaced in
//! place (every occurrence, should a key be repeated) or appended before the closing `}`;
//! every other byte of the callback is kept, so numbers stay exactly as MPS wrote them
//! whatever `serde_json` features the crate enables, and key order and spacing are kept.

use std::fmt;

use bytes::Bytes;
use http::header::{HeaderValue, CONTENT_TYPE, HOST};
use http::{HeaderMap, Method, Uri};
use md5::{Digest, Md5};

use crate::cloudapi::invoke::Class;
use crate::text::hex;
use crate::transport::{host_header, Request};

/// How long a re-signed callback stays valid, as MPS does: `Timestamp` = now + 600 s.
pub const SIGNATURE_VALIDITY_SECS: u64 = 600;

/// `FORWARD_NOTIFY_KEY`: the key MPS signatures are made with. Never shown: `Debug` hides
/// it and there is no `Display`.
#[derive(Clone, PartialEq, Eq)]
pub struct NotifyKey(String);

impl NotifyKey {
    /// The key, or `None` when empty (an empty variable means no re-signing).
    pub fn new(key: impl Into<String>) -> Option<NotifyKey> {
        let key = key.into();
        (!key.is_empty()).then_some(NotifyKey(key))
    }
}

impl fmt::Debug for NotifyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NotifyKey(***)")
    }
}

/// MPS's URL-callback signature: lowercase hex MD5 of the decimal `timestamp` followed by
/// the key.
pub(crate) fn mps_sign(timestamp: u64, key: &NotifyKey) -> String {
    let mut md5 = Md5::new();
    md5.update(timestamp.to_string().as_bytes());
    md5.update(key.0.as_bytes());
    hex(&md5.finalize())
}

/// Why a callback cannot be re-signed (nothing was sent).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResignError {
    /// Not a JSON document.
    #[error("callback is not valid JSON: {0}")]
    NotJson(String),
    /// JSON, but not an object: there is no top level to put `Timestamp` and `Sign` in.
    #[error("callback is not a JSON object; it cannot carry Timestamp and Sign")]
    NotObject,
}

/// Byte ranges of one top-level member.
struct Member {
    key: String,
    value: std::ops::Range<usize>,
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while matches!(b.get(i), Some(b' ' | b'\t' | b'\n' | b'\r')) {
        i += 1;
    }
    i
}

/// End (exclusive) of the string starting at `b[i] == '"'`.
fn string_end(b: &[u8], mut i: usize) -> usize {
    i += 1;
    while let Some(&c) = b.get(i) {
        match c {
            b'\\' => i += 2,
            b'"' => return i + 1,
            _ => i += 1,
        }
    }
    b.len()
}

/// End (exclusive) of the value starting at `i`. The document is already known to be valid
/// JSON, so this only has to find boundaries, never to diagnose.
fn value_end(b: &[u8], i: usize) -> usize {
    match b.get(i) {
        Some(b'"') => string_end(b, i),
        Some(b'{' | b'[') => {
            let mut depth = 0usize;
            let mut j = i;
            while let Some(&c) = b.get(j) {
                match c {
                    b'"' => {
                        j = string_end(b, j);
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return j + 1;
                        }
                    }
                    _ => {}
                }
                j += 1;
            }
            b.len()
        }
        _ => {
            let mut j = i;
            while !matches!(
                b.get(j),
                None | Some(b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r')
            ) {
                j += 1;
            }
            j
        }
    }
}

/// `(offset of '{', offset of its '}', members)` of a document that is a valid JSON object.
fn top_level(b: &[u8]) -> Option<(usize, usize, Vec<Member>)> {
    let open = skip_ws(b, 0);
    if b.get(open) != Some(&b'{') {
        return None;
    }
    let mut members = Vec::new();
    let mut i = skip_ws(b, open + 1);
    if b.get(i) == Some(&b'}') {
        return Some((open, i, members));
    }
    loop {
        let key_end = string_end(b, i);
        // Keys may be written with escapes (`"Time\u0073tamp"`): compare decoded keys.
        let key: String = serde_json::from_slice(b.get(i..key_end)?).ok()?;
        i = skip_ws(b, key_end);
        if b.get(i) != Some(&b':') {
            return None;
        }
        let start = skip_ws(b, i + 1);
        let end = value_end(b, start);
        members.push(Member {
            key,
            value: start..end,
        });
        i = skip_ws(b, end);
        match b.get(i) {
            Some(b',') => i = skip_ws(b, i + 1),
            Some(b'}') => return Some((open, i, members)),
            _ => return None,
        }
    }
}

/// The callback with its top-level `Timestamp` set to `timestamp` (a JSON number) and `Sign`
/// to [`mps_sign`] of it; every other byte unchanged.
pub(crate) fn resign(
    callback: &[u8],
    key: &NotifyKey,
    timestamp: u64,
) -> Result<Vec<u8>, ResignError> {
    serde_json::from_slice::<serde::de::IgnoredAny>(callback)
        .map_err(|e| ResignError::NotJson(e.to_string()))?;
    let (open, close, members) = top_level(callback).ok_or(ResignError::NotObject)?;
    let ts_value = timestamp.to_string();
    let sign_value = format!("\"{}\"", mps_sign(timestamp, key));
    let replacement = |m: &Member| match m.key.as_str() {
        "Timestamp" => Some(ts_value.as_str()),
        "Sign" => Some(sign_value.as_str()),
        _ => None,
    };
    let mut out = Vec::with_capacity(callback.len() + 80);
    let mut copied = 0;
    let (mut has_ts, mut has_sign) = (false, false);
    for m in &members {
        if let Some(new) = replacement(m) {
            has_ts |= m.key == "Timestamp";
            has_sign |= m.key == "Sign";
            out.extend_from_slice(&callback[copied..m.value.start]);
            out.extend_from_slice(new.as_bytes());
            copied = m.value.end;
        }
    }
    // Missing members go right after the last value (or after `{`), before any whitespace.
    let insert_at = members.last().map_or(open + 1, |m| m.value.end);
    out.extend_from_slice(&callback[copied..insert_at]);
    let mut first = members.is_empty();
    for (missing, name, value) in [
        (!has_ts, "Timestamp", &ts_value),
        (!has_sign, "Sign", &sign_value),
    ] {
        if missing {
            if !first {
                out.push(b',');
            }
            first = false;
            out.extend_from_slice(format!("\"{name}\":{value}").as_bytes());
        }
    }
    out.extend_from_slice(&callback[insert_at..close]);
    out.extend_from_slice(&callback[close..]);
    Ok(out)
}

/// Why a webhook request cannot be built (nothing was sent).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookBuildError {
    /// Re-signing failed.
    #[error(transparent)]
    Resign(#[from] ResignError),
    /// The URL has no host the Host header can carry.
    #[error("the URL has no usable host")]
    NoHost,
}

/// The POST of `callback` to `url`: `Content-Type: application/json`, the callback as
/// received, or re-signed with `key` and `now_unix` + [`SIGNATURE_VALIDITY_SECS`].
pub(crate) fn build_request(
    url: &Uri,
    callback: &Bytes,
    key: Option<&NotifyKey>,
    now_unix: u64,
) -> Result<Request, WebhookBuildError> {
    let body = match key {
        Some(key) => Bytes::from(resign(
            callback,
            key,
            now_unix.saturating_add(SIGNATURE_VALIDITY_SECS),
        )?),
        None => callback.clone(),
    };
    let host = host_header(url).ok_or(WebhookBuildError::NoHost)?;
    let mut headers = HeaderMap::with_capacity(2);
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(
        HOST,
        HeaderValue::from_str(&host).map_err(|_| WebhookBuildError::NoHost)?,
    );
    Ok(Request {
        method: Method::POST,
        uri: url.clone(),
        headers,
        body,
    })
}

/// Class of a webhook's answer status: `None` for success (any 2xx); 429 and 5xx are
/// retried; anything else (4xx, a 1xx final answer) is final. Redirects never get here: the
/// transport refuses them.
pub(crate) fn classify_status(status: u16) -> Option<Class> {
    match status {
        200..=299 => None,
        429 | 500..=599 => Some(Class::Retry),
        _ => Some(Class::Final),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> NotifyKey {
        NotifyKey::new("hs-notify-key").unwrap()
    }

    #[test]
    fn reference_vector() {
        assert_eq!(
            mps_sign(1764000600, &key()),
            "a485038d35a648a9b1c6615d4ad4211f"
        );
    }

    #[test]
    fn key_is_hidden_and_empty_means_none() {
        assert_eq!(format!("{:?}", key()), "NotifyKey(***)");
        assert_eq!(NotifyKey::new(""), None);
    }

    fn resigned(input: &str) -> String {
        String::from_utf8(resign(input.as_bytes(), &key(), 1764000600).unwrap()).unwrap()
    }

    const SIGN: &str = "a485038d35a648a9b1c6615d4ad4211f";

    #[test]
    fn existing_fields_are_replaced_in_place_and_nothing_else_moves() {
        let input = "{ \"EventType\" : \"WorkflowTask\",\n  \"Timestamp\": 1700000000,\"Big\":123456789012345678901234567890,\"F\":1.50e0,\n  \"Sign\" : \"old\", \"Nested\":{\"Timestamp\":1,\"Sign\":\"keep\",\"s\":\"}\\\"{\"},\"Arr\":[{\"Sign\":2}] }\n";
        let expected = format!(
            "{{ \"EventType\" : \"WorkflowTask\",\n  \"Timestamp\": 1764000600,\"Big\":123456789012345678901234567890,\"F\":1.50e0,\n  \"Sign\" : \"{SIGN}\", \"Nested\":{{\"Timestamp\":1,\"Sign\":\"keep\",\"s\":\"}}\\\"{{\"}},\"Arr\":[{{\"Sign\":2}}] }}\n"
        );
        assert_eq!(resigned(input), expected);
    }

    #[test]
    fn missing_fields_are_appended_after_the_last_member() {
        assert_eq!(
            resigned("{\"a\":1}"),
            format!("{{\"a\":1,\"Timestamp\":1764000600,\"Sign\":\"{SIGN}\"}}")
        );
        assert_eq!(
            resigned(" { \"a\" : [1,2] } \n"),
            format!(" {{ \"a\" : [1,2],\"Timestamp\":1764000600,\"Sign\":\"{SIGN}\" }} \n")
        );
        assert_eq!(
            resigned("{}"),
            format!("{{\"Timestamp\":1764000600,\"Sign\":\"{SIGN}\"}}")
        );
        assert_eq!(
            resigned("{ }"),
            format!("{{\"Timestamp\":1764000600,\"Sign\":\"{SIGN}\" }}")
        );
        // Only one of the two present: the other is appended.
        assert_eq!(
            resigned("{\"Sign\":null,\"b\":true}"),
            format!("{{\"Sign\":\"{SIGN}\",\"b\":true,\"Timestamp\":1764000600}}")
        );
    }

    #[test]
    fn escaped_and_repeated_keys_are_all_replaced() {
        let out = resigned("{\"Time\\u0073tamp\":\"x\",\"Timestamp\":2}");
        assert_eq!(
            out,
            format!(
                "{{\"Time\\u0073tamp\":1764000600,\"Timestamp\":1764000600,\"Sign\":\"{SIGN}\"}}"
            )
        );
    }

    #[test]
    fn result_is_json_that_a_receiver_verifies() {
        let input = r#"{"EventType":"EditMediaTask","EditMediaTaskEvent":{"TaskId":"t","Status":"FINISH"},"Timestamp":0,"Sign":""}"#;
        let out = resign(input.as_bytes(), &key(), 1764000600).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        let ts = v["Timestamp"].as_u64().unwrap();
        assert_eq!(v["Sign"].as_str().unwrap(), mps_sign(ts, &key()));
        assert_eq!(v["EditMediaTaskEvent"]["Status"], "FINISH");
    }

    #[test]
    fn non_objects_are_refused() {
        assert!(matches!(
            resign(b"[1]", &key(), 1),
            Err(ResignError::NotObject)
        ));
        assert!(matches!(
            resign(b"\"s\"", &key(), 1),
            Err(ResignError::NotObject)
        ));
        assert!(matches!(
            resign(b"{\"a\":", &key(), 1),
            Err(ResignError::NotJson(_))
        ));
        assert!(matches!(
            resign(b"", &key(), 1),
            Err(ResignError::NotJson(_))
        ));
    }

    #[test]
    fn request_as_received_or_resigned() {
        let url: Uri = "http://127.0.0.1:8080/hook?token=x".parse().unwrap();
        let body = Bytes::from_static(b"{\"a\":1}");
        let req = build_request(&url, &body, None, 1764000000).unwrap();
        assert_eq!(req.method, Method::POST);
        assert_eq!(req.uri, url);
        assert_eq!(req.body, body);
        assert_eq!(req.headers["content-type"], "application/json");
        assert_eq!(req.headers["host"], "127.0.0.1:8080");
        let req = build_request(&url, &body, Some(&key()), 1764000000).unwrap();
        assert_eq!(
            req.body,
            format!("{{\"a\":1,\"Timestamp\":1764000600,\"Sign\":\"{SIGN}\"}}")
        );
        assert!(!format!("{req:?}").contains("hs-notify-key"));
    }

    #[test]
    fn statuses() {
        for s in [200, 201, 202, 204, 299] {
            assert_eq!(classify_status(s), None, "{s}");
        }
        for s in [429, 500, 502, 503, 504] {
            assert_eq!(classify_status(s), Some(Class::Retry), "{s}");
        }
        for s in [100, 400, 401, 403, 404, 410, 413] {
            assert_eq!(classify_status(s), Some(Class::Final), "{s}");
        }
    }
}
