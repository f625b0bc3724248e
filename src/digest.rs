//! The content digest: what makes two deliveries of one callback the same object.
//!
//! A key ends in 16 hex characters of SHA-1 over the event's canonical JSON (keys sorted,
//! compact), so a callback MPS delivers twice lands on one key while two different callbacks
//! of one task never share it. The digest leaves out what belongs to the delivery rather than
//! to the event (`Timestamp`, `Sign`) and is taken over the redacted event, so neither a
//! re-signed delivery nor `ARCHIVE_REDACT` moves a key.
//!
//! The writer hashes as it walks the value (no canonical text is built), and numbers are
//! written the way earlier versions wrote them ([`digest_number`]), so archives written by
//! them keep their keys.

use std::borrow::Cow;

use serde_json::{Number, Value};
use sha1::{Digest, Sha1};

/// Length of a digest, in hex characters (the key template's `{digest}`).
pub(crate) const DIGEST_HEX: usize = 16;

/// Top-level envelope fields about the delivery, not the event: `Timestamp` is the signature's
/// expiry and `Sign` its MD5, so a callback MPS re-signs must still get the same key.
const DELIVERY_FIELDS: [&str; 2] = ["Timestamp", "Sign"];

/// 16 hex chars of SHA-1 over the event's canonical JSON (keys sorted, compact), leaving out
/// the top-level delivery fields `Timestamp` and `Sign`.
///
/// Callers pass the event with credentials already masked, so the digest never depends on
/// a secret (and does not change when `ARCHIVE_REDACT` is toggled).
///
/// Numbers are written as `digest_number` says, so a callback archived by an earlier
/// version, which kept numbers as 64-bit values, keeps its key when it is delivered again.
pub fn digest(event: &Value) -> String {
    digest_with(event, false)
}

/// [`digest`] of `event` as [`crate::record::redact`] would leave it, without changing or
/// copying it: the value of every credential-named key that is not `null` is hashed as
/// `"***"`. The handler uses it when `ARCHIVE_REDACT=off` keeps the secrets in the record,
/// so the key is the same as with redaction on.
pub(crate) fn digest_masked(event: &Value) -> String {
    digest_with(event, true)
}

fn digest_with(event: &Value, mask: bool) -> String {
    let mut hasher = Sha1::new();
    let mut w = HashWriter(&mut hasher);
    match event {
        Value::Object(m) => write_object(
            m.iter()
                .filter(|(k, _)| !DELIVERY_FIELDS.contains(&k.as_str())),
            &mut w,
            mask,
        ),
        other => write_canonical(other, &mut w, mask),
    }
    let out = hasher.finalize();
    crate::text::hex(&out[..DIGEST_HEX / 2])
}

/// Compact JSON of `v`; serde_json's `Map` is ordered by key (no `preserve_order`), so the
/// text is canonical. Recursion is bounded by the parser's nesting limit.
fn write_canonical(v: &Value, w: &mut HashWriter<'_>, mask: bool) {
    use std::io::Write as _;
    // Writing into a hasher cannot fail; the results are ignored.
    match v {
        Value::Null => {
            let _ = w.write_all(b"null");
        }
        Value::Bool(b) => {
            let _ = w.write_all(if *b { b"true" } else { b"false" });
        }
        Value::Number(n) => {
            let _ = w.write_all(digest_number(n).as_bytes());
        }
        // serde_json's own string escaping, as before numbers were kept exactly.
        Value::String(s) => {
            let _ = serde_json::to_writer(&mut *w, s);
        }
        Value::Array(a) => {
            let _ = w.write_all(b"[");
            for (i, item) in a.iter().enumerate() {
                if i > 0 {
                    let _ = w.write_all(b",");
                }
                write_canonical(item, w, mask);
            }
            let _ = w.write_all(b"]");
        }
        Value::Object(m) => write_object(m.iter(), w, mask),
    }
}

fn write_object<'a>(
    entries: impl Iterator<Item = (&'a String, &'a Value)>,
    w: &mut HashWriter<'_>,
    mask: bool,
) {
    use std::io::Write as _;
    let _ = w.write_all(b"{");
    for (i, (k, v)) in entries.enumerate() {
        if i > 0 {
            let _ = w.write_all(b",");
        }
        let _ = serde_json::to_writer(&mut *w, k);
        let _ = w.write_all(b":");
        if mask && !v.is_null() && crate::record::is_credential_key(k) {
            // The redaction rule: any value but null becomes "***".
            let _ = serde_json::to_writer(&mut *w, crate::record::REDACTED);
        } else {
            write_canonical(v, w, mask);
        }
    }
    let _ = w.write_all(b"}");
}

/// The text a number contributes to the digest.
///
/// Earlier versions read every number into a `u64`, an `i64` or else the nearest `f64`, and
/// hashed that value as serde_json writes it (`1.50` as `1.5`, `1E5` as `100000.0`, `-0` as
/// `-0.0`). That text is kept whenever it has the number's exact value, so keys do not move;
/// when the old reading lost digits (integers past 64 bits, more digits than an `f64`
/// holds) the number's own text is hashed instead, so two callbacks that differ only there
/// no longer share a digest.
pub(crate) fn digest_number(n: &Number) -> Cow<'_, str> {
    let text = n.as_str();
    if written_as_is(text) || n.is_u64() || (n.is_i64() && text != "-0") {
        return Cow::Borrowed(text);
    }
    let old = text
        .parse::<f64>()
        .ok()
        .and_then(Number::from_f64)
        .map(|f| f.as_str().to_owned());
    match old {
        Some(old) if old == text || same_decimal(&old, text) => Cow::Owned(old),
        _ => Cow::Borrowed(text),
    }
}

/// Fast path of [`digest_number`] for the common float: true when earlier versions wrote
/// `text` unchanged. That holds for a decimal without exponent whose fraction has no trailing
/// zero (but `.0`), of at most 15 significant digits (an `f64` gives those back) and between
/// 1e-4 and 1e15, where serde_json writes floats without an exponent.
fn written_as_is(text: &str) -> bool {
    let t = text.strip_prefix('-').unwrap_or(text);
    let Some((int, frac)) = t.split_once('.') else {
        return false;
    };
    let digits_only = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits_only(int) || !digits_only(frac) || (frac.ends_with('0') && frac != "0") {
        return false;
    }
    if int == "0" {
        let significant = frac.trim_start_matches('0');
        frac.len() - significant.len() <= 3 && significant.len() <= 15
    } else {
        int.len() + frac.len() <= 15
    }
}

/// True when two JSON number texts denote the same decimal value (with the same sign).
fn same_decimal(a: &str, b: &str) -> bool {
    matches!((decimal(a), decimal(b)), (Some(x), Some(y)) if x == y)
}

/// A JSON number text as (negative, significant digits, power of ten of the last digit).
fn decimal(text: &str) -> Option<(bool, String, i64)> {
    let (neg, t) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (mantissa, exp) = match t.find(['e', 'E']) {
        Some(i) => (&t[..i], t[i + 1..].parse::<i64>().ok()?),
        None => (t, 0),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits: String = int.chars().chain(frac.chars()).collect();
    let no_trailing = digits.trim_end_matches('0');
    let significant = no_trailing.trim_start_matches('0');
    if significant.is_empty() {
        return Some((neg, String::new(), 0));
    }
    let trailing = i64::try_from(digits.len() - no_trailing.len()).ok()?;
    let frac_len = i64::try_from(frac.len()).ok()?;
    let exp = exp.checked_sub(frac_len)?.checked_add(trailing)?;
    Some((neg, significant.to_owned(), exp))
}

struct HashWriter<'a>(&'a mut Sha1);

impl std::io::Write for HashWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn masking_while_hashing_equals_hashing_the_redacted_event() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures");
        let mut events: Vec<Value> = Vec::new();
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_file() {
                let body = std::fs::read(&path).unwrap_or_default();
                events.extend(serde_json::from_slice::<Value>(&body).ok());
            }
        }
        events.push(serde_json::json!({
            "EventType": "X", "Timestamp": 1, "Sign": "s",
            "Token": null, "SecretKey": {"v": ["a"]}, "S3SecretId": 7, "TokenType": "keep",
            "List": [{"Password": "p", "n": [1.50, {"NotifyKey": "k"}]}], "Done": "***"
        }));
        assert!(events.len() > 10);
        for raw in events {
            let mut redacted = raw.clone();
            crate::record::redact(&mut redacted);
            assert_eq!(digest_masked(&raw), digest(&redacted), "{raw:.120}");
        }
    }

    #[test]
    fn digest_is_stable_and_order_insensitive() {
        let a: Value = serde_json::from_str(r#"{"A":1,"B":{"x":[1,2],"y":"z"}}"#).unwrap();
        let b: Value = serde_json::from_str(r#"{ "B": {"y":"z","x":[1,2]}, "A": 1 }"#).unwrap();
        assert_eq!(digest(&a), digest(&b));
        assert_eq!(digest(&a).len(), 16);
        assert!(digest(&a).chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(
            digest(&a),
            digest(&json!({"A": 2, "B": {"x": [1, 2], "y": "z"}}))
        );
    }

    #[test]
    fn digest_keeps_the_values_earlier_versions_hashed() {
        // Digests computed by the version that read numbers as u64 / i64 / f64: a callback
        // archived then gets the same key now.
        for (event, want) in [
            (r#"{"a":1.50}"#, "40511316b2450809"),
            (r#"{"a":1E5}"#, "804f77a640efd4cc"),
            (r#"{"a":1e21}"#, "539f17f774675eee"),
            (r#"{"a":-0}"#, "0a51bbfc43ff2fdb"),
            (r#"{"a":0.1}"#, "c8f33a5d987a778e"),
            (r#"{"a":-0.0,"b":1e-7,"c":1.0E+2}"#, "f049da6549d0ae07"),
        ] {
            let v: Value = serde_json::from_str(event).unwrap();
            assert_eq!(digest(&v), want, "{event}");
        }
    }

    #[test]
    fn digest_tells_apart_numbers_an_f64_cannot() {
        // Earlier versions hashed both as 1.2345678901234568e+29 (c0ade5412ab7f276).
        let a: Value = serde_json::from_str(r#"{"a":123456789012345678901234567890}"#).unwrap();
        let b: Value = serde_json::from_str(r#"{"a":123456789012345678901234567891}"#).unwrap();
        assert_ne!(digest(&a), digest(&b));
        assert_ne!(digest(&a), "c0ade5412ab7f276");
        let n = |t: &str| serde_json::from_str::<Number>(t).unwrap();
        assert_eq!(
            digest_number(&n("18446744073709551616")),
            "18446744073709551616"
        );
        assert_eq!(
            digest_number(&n("0.30000000000000000001")),
            "0.30000000000000000001"
        );
        assert_eq!(digest_number(&n("1e400")), "1e+400");
        assert_eq!(digest_number(&n("12.50")), "12.5");
        assert_eq!(digest_number(&n("-7")), "-7");
    }

    #[test]
    fn fast_path_agrees_with_the_old_reading() {
        // Every text the fast path accepts must be exactly what parse-then-format gives.
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let mut accepted = 0;
        for _ in 0..200_000 {
            let r = next();
            let int_len = (r % 17) as usize;
            let frac_len = 1 + ((r >> 8) % 17) as usize;
            let lead = ((r >> 16) % 6) as usize;
            let mut text = String::new();
            if r >> 63 == 1 {
                text.push('-');
            }
            if int_len == 0 {
                text.push('0');
            } else {
                text.push(char::from(b'1' + (next() % 9) as u8));
                (1..int_len).for_each(|_| text.push(char::from(b'0' + (next() % 10) as u8)));
            }
            text.push('.');
            (0..lead.min(frac_len)).for_each(|_| text.push('0'));
            (lead.min(frac_len)..frac_len)
                .for_each(|_| text.push(char::from(b'0' + (next() % 10) as u8)));
            if !written_as_is(&text) {
                continue;
            }
            accepted += 1;
            let old = text
                .parse::<f64>()
                .ok()
                .and_then(Number::from_f64)
                .map(|f| f.as_str().to_owned());
            assert_eq!(old.as_deref(), Some(text.as_str()));
        }
        assert!(accepted > 10_000, "{accepted}");
        for edge in ["0.0", "-0.0", "60.0", "0.0001", "99999999999999.0", "0.5"] {
            assert!(written_as_is(edge), "{edge}");
        }
        for other in [
            "1.50",
            "0.00001",
            "1000000000000000.0",
            "1e5",
            "7",
            "0.1234567890123456",
        ] {
            assert!(!written_as_is(other), "{other}");
        }
    }
}
