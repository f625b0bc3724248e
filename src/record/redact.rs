//! Credential redaction: the value of every credential-named key in an event, at any
//! depth, replaced with `"***"` before the event is archived or forwarded.

use serde_json::Value;

/// Replacement written over credential values.
pub const REDACTED: &str = "***";

/// Replaces, in place and at any depth, the value of every credential-named key (see
/// [`is_credential_key`]) with [`REDACTED`]; returns how many values it replaced.
///
/// The value's type does not matter: a string, number, boolean, array or object under such
/// a key becomes `"***"` as a whole, because a secret can hide in any of them
/// (`"Token": ["..."]`, `"SecretKey": {"v": "..."}`). `null` stays `null`: it carries
/// nothing, and keeping it tells a reader the field was empty. A value that already is
/// `"***"` is neither replaced nor counted, so redacting twice changes nothing.
pub fn redact(value: &mut Value) -> usize {
    // Explicit stack: events may nest up to the parser's limit, this never recurses.
    let mut count = 0;
    let mut stack: Vec<&mut Value> = vec![value];
    while let Some(v) = stack.pop() {
        match v {
            Value::Object(m) => {
                for (k, child) in m.iter_mut() {
                    if is_credential_key(k) {
                        let masked = match child {
                            Value::Null => true,
                            Value::String(s) => s == REDACTED,
                            _ => false,
                        };
                        if !masked {
                            *child = Value::String(REDACTED.to_owned());
                            count += 1;
                        }
                    } else if child.is_object() || child.is_array() {
                        stack.push(child);
                    }
                }
            }
            Value::Array(a) => stack.extend(a.iter_mut().filter(|c| c.is_object() || c.is_array())),
            _ => {}
        }
    }
    count
}

/// True when a key names a credential: it ends, compared case-insensitively, in `SecretId`,
/// `SecretKey`, `Token`, `Password`, `NotifyKey` or `StreamKey` (`S3SecretId`, `s3secretkey`,
/// `SessionToken`; not `TokenType`).
pub fn is_credential_key(name: &str) -> bool {
    const SUFFIXES: [&str; 6] = [
        "secretid",
        "secretkey",
        "token",
        "password",
        "notifykey",
        "streamkey",
    ];
    let b = name.as_bytes();
    SUFFIXES
        .iter()
        .any(|s| b.len() >= s.len() && b[b.len() - s.len()..].eq_ignore_ascii_case(s.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn credential_keys() {
        for k in [
            "S3SecretId",
            "s3secretkey",
            "SECRETID",
            "Token",
            "SessionToken",
            "x-password",
            "NotifyKey",
            "streamKEY",
        ] {
            assert!(is_credential_key(k), "{k}");
        }
        for k in [
            "",
            "Secret",
            "SecretIdx",
            "Tokens",
            "Key",
            "Bucket",
            "TokenType",
            "ToKe",
        ] {
            assert!(!is_credential_key(k), "{k}");
        }
    }

    #[test]
    fn redact_counts_and_rules() {
        let mut v = json!({
            "S3SecretId": "AKID1", "S3SecretKey": "", "Token": 123, "Password": null,
            "NotifyKey": true, "deep": [{"a": {"StreamKey": "sk"}}, {"x": [{"secretid": 4.5}]}],
            "SessionToken": {"Inner": "kept", "InnerToken": "gone"}, "Plain": "AKID1",
            "AccessToken": ["a", {"b": 1}], "StreamKeys": "not a credential key"
        });
        assert_eq!(redact(&mut v), 8);
        assert_eq!(
            v,
            json!({
                "S3SecretId": "***", "S3SecretKey": "***", "Token": "***", "Password": null,
                "NotifyKey": "***", "deep": [{"a": {"StreamKey": "***"}}, {"x": [{"secretid": "***"}]}],
                "SessionToken": "***", "Plain": "AKID1",
                "AccessToken": "***", "StreamKeys": "not a credential key"
            })
        );
        assert_eq!(redact(&mut v), 0, "idempotent");
    }

    #[test]
    fn redact_deep_value_does_not_overflow() {
        let mut v = json!("SecretToken-leaf");
        for _ in 0..500 {
            v = json!({ "Token": "t", "n": [v] });
        }
        assert_eq!(redact(&mut v), 500);
    }
}
