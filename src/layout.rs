//! Object keys: `COS_KEY_TEMPLATE` rendered from an event's type, task, status, outcome, date
//! and digest.
//!
//! Every part that comes from an event is made safe here, so that a hostile `TaskId` can
//! never climb out of the prefix, hide in an empty segment or break a tool that mirrors the
//! bucket onto a disk.

use std::borrow::Cow;

use chrono::{DateTime, FixedOffset, Utc};
use serde_json::{Number, Value};
use sha1::{Digest, Sha1};

use crate::record::Outcome;

/// Default `COS_KEY_TEMPLATE`: the outcome in the key makes "what failed" a listing.
pub const DEFAULT_TEMPLATE: &str =
    "{prefix}{event_type}/{yyyy}/{mm}/{dd}/{task_id}.{status}.{outcome}.{digest}.json";

/// The default `COS_KEY_TEMPLATE` of earlier versions, without `{outcome}`: archives written
/// with it are read by setting `COS_KEY_TEMPLATE` to it.
pub const OLD_DEFAULT_TEMPLATE: &str =
    "{prefix}{event_type}/{yyyy}/{mm}/{dd}/{task_id}.{status}.{digest}.json";

/// Longest sanitized task id, in bytes.
pub(crate) const MAX_TASK_ID_BYTES: usize = 96;
/// Longest sanitized event type, in bytes (key segment and metadata value).
pub(crate) const MAX_EVENT_TYPE_BYTES: usize = 64;
/// Longest sanitized status, in bytes (key part and metadata value).
pub(crate) const MAX_STATUS_BYTES: usize = 32;
const DIGEST_HEX: usize = 16;

/// A parsed `COS_KEY_TEMPLATE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyTemplate {
    parts: Vec<Part>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Prefix,
    EventType,
    Yyyy,
    Mm,
    Dd,
    Hh,
    TaskId,
    Status,
    Digest,
    Outcome,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Literal(String),
    Field(Field),
}

/// Why a template or a key is unusable.
#[derive(Debug, thiserror::Error)]
pub enum LayoutError {
    /// The template cannot be used; the text says why.
    #[error("{0}")]
    Template(String),
    /// A rendered key broke a key rule (only reachable through an unusual prefix or template).
    #[error("object key rejected: {0}")]
    Key(String),
}

/// Everything a key is made of, as it comes from the event.
#[derive(Debug, Clone, Copy)]
pub struct KeyParts<'a> {
    /// `COS_KEY_PREFIX`.
    pub prefix: &'a str,
    /// The event's type (`unrecognized` when it has none).
    pub event_type: &'a str,
    /// TaskId as sent, if any.
    pub task_id: Option<&'a str>,
    /// Status as sent, if any.
    pub status: Option<&'a str>,
    /// How the task ended.
    pub outcome: Outcome,
    /// Date of the key: the event's own time, else receipt.
    pub time: DateTime<Utc>,
    /// Offset in which the date is written.
    pub offset: FixedOffset,
    /// Content digest (see [`digest`]).
    pub digest: &'a str,
}

impl KeyTemplate {
    /// Parses and validates a template (must contain `{digest}`).
    pub fn parse(template: &str) -> Result<KeyTemplate, LayoutError> {
        let mut parts = Vec::new();
        let mut rest = template;
        while let Some(open) = rest.find('{') {
            if open > 0 {
                parts.push(Part::Literal(rest[..open].to_string()));
            }
            let after = &rest[open + 1..];
            let close = after
                .find('}')
                .ok_or_else(|| LayoutError::Template("unclosed '{' in key template".into()))?;
            let name = &after[..close];
            let field = match name {
                "prefix" => Field::Prefix,
                "event_type" => Field::EventType,
                "yyyy" => Field::Yyyy,
                "mm" => Field::Mm,
                "dd" => Field::Dd,
                "hh" => Field::Hh,
                "task_id" => Field::TaskId,
                "status" => Field::Status,
                "digest" => Field::Digest,
                "outcome" => Field::Outcome,
                other => {
                    return Err(LayoutError::Template(format!(
                        "unknown placeholder {{{other}}} (known: prefix, event_type, yyyy, mm, dd, hh, task_id, status, outcome, digest)"
                    )))
                }
            };
            parts.push(Part::Field(field));
            rest = &after[close + 1..];
        }
        if !rest.is_empty() {
            parts.push(Part::Literal(rest.to_string()));
        }
        for p in &parts {
            if let Part::Literal(l) = p {
                if l.contains('}') {
                    return Err(LayoutError::Template("stray '}' in key template".into()));
                }
            }
        }
        if !parts.contains(&Part::Field(Field::Digest)) {
            return Err(LayoutError::Template(
                "key template must contain {digest} (keys must differ for different events)".into(),
            ));
        }
        let tpl = KeyTemplate { parts };
        // Render the longest possible key once, so a bad template fails at start, not per event.
        tpl.check_with_prefix("")?;
        Ok(tpl)
    }

    /// Checks that the longest key this template can make with `prefix` obeys the key rules.
    pub(crate) fn check_with_prefix(&self, prefix: &str) -> Result<(), LayoutError> {
        let worst = KeyParts {
            prefix,
            event_type: &"E".repeat(MAX_EVENT_TYPE_BYTES),
            task_id: Some(&"T".repeat(MAX_TASK_ID_BYTES)),
            status: Some(&"s".repeat(MAX_STATUS_BYTES)),
            outcome: Outcome::Partial,
            time: DateTime::<Utc>::UNIX_EPOCH,
            offset: utc(),
            digest: &"0".repeat(DIGEST_HEX),
        };
        self.render(&worst)
            .map(|_| ())
            .map_err(|e| LayoutError::Template(format!("key template makes unusable keys: {e}")))
    }

    /// Renders the key for one event; the same parts always give the same key.
    pub fn render(&self, p: &KeyParts<'_>) -> Result<String, LayoutError> {
        let local = p.time.with_timezone(&p.offset);
        let mut key = String::with_capacity(160);
        for part in &self.parts {
            match part {
                Part::Literal(l) => key.push_str(l),
                Part::Field(f) => match f {
                    Field::Prefix => key.push_str(p.prefix),
                    Field::EventType => {
                        push_safe(&mut key, p.event_type, MAX_EVENT_TYPE_BYTES, "unrecognized")
                    }
                    Field::Yyyy => key.push_str(&local.format("%Y").to_string()),
                    Field::Mm => key.push_str(&local.format("%m").to_string()),
                    Field::Dd => key.push_str(&local.format("%d").to_string()),
                    Field::Hh => key.push_str(&local.format("%H").to_string()),
                    Field::TaskId => push_safe(
                        &mut key,
                        p.task_id.unwrap_or(""),
                        MAX_TASK_ID_BYTES,
                        "no-task-id",
                    ),
                    Field::Status => {
                        // No dots: `<task_id>.<status>.<digest>.json` must split unambiguously.
                        let lower = p
                            .status
                            .unwrap_or("")
                            .to_ascii_lowercase()
                            .replace('.', "_");
                        push_safe(&mut key, &lower, MAX_STATUS_BYTES, "unknown")
                    }
                    Field::Digest => key.push_str(p.digest),
                    Field::Outcome => key.push_str(p.outcome.as_str()),
                },
            }
        }
        check_key(&key)?;
        Ok(key)
    }
}

fn utc() -> FixedOffset {
    FixedOffset::east_opt(0).unwrap_or_else(|| unreachable!("zero offset is valid"))
}

/// Makes one event-supplied value safe as (part of) a single key segment.
///
/// Characters outside `A-Z a-z 0-9 . _ -` become `_`, a `.` right after a `.` becomes `_`
/// (so no `..` survives), a `.` at either end becomes `_`, the result is capped at `max`
/// bytes, and an empty value is replaced by `fallback`.
pub(crate) fn sanitize(value: &str, max: usize, fallback: &str) -> String {
    let mut out = String::with_capacity(value.len().min(max));
    push_safe(&mut out, value, max, fallback);
    out
}

fn push_safe(out: &mut String, value: &str, max: usize, fallback: &str) {
    let start = out.len();
    let mut prev_dot = false;
    for c in value.chars() {
        if out.len() - start >= max {
            break;
        }
        let c = match c {
            'A'..='Z' | 'a'..='z' | '0'..='9' | '_' | '-' => c,
            '.' if !prev_dot => '.',
            _ => '_',
        };
        prev_dot = c == '.';
        out.push(c);
    }
    // A dot at either end could meet a '.' of the template and form `..`.
    if out[start..].starts_with('.') {
        out.replace_range(start..start + 1, "_");
    }
    if out.len() > start && out.ends_with('.') {
        out.pop();
        out.push('_');
    }
    if out.len() == start {
        out.push_str(fallback);
    }
}

/// Checks the rules every key must meet (README "Object keys"): at most 850 bytes, no
/// leading `/`, no control character or `\`, no empty, `.` or `..` segment.
pub fn check_key(key: &str) -> Result<(), LayoutError> {
    crate::store::check_key(key).map_err(|e| LayoutError::Key(e.to_string()))
}

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
pub fn digest_masked(event: &Value) -> String {
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

// ---------- reading keys back: the template in reverse ----------

/// One piece of a key template, in order, as readers of the archive walk it
/// ([`KeyTemplate::pieces`]): literal text or a placeholder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Piece<'a> {
    /// Text copied into every key.
    Literal(&'a str),
    /// `{prefix}`: `COS_KEY_PREFIX`.
    Prefix,
    /// `{event_type}`.
    EventType,
    /// `{yyyy}`.
    Year,
    /// `{mm}`.
    Month,
    /// `{dd}`.
    Day,
    /// `{hh}`.
    Hour,
    /// `{task_id}` (sanitized).
    TaskId,
    /// `{status}` (lowercase, sanitized).
    Status,
    /// `{digest}`.
    Digest,
    /// `{outcome}`.
    Outcome,
}

/// What a key says about its callback, read back through the template
/// ([`KeyTemplate::read`]). A field the template does not contain is `None`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyFields {
    /// `{yyyy}/{mm}/{dd}`: the key's date (in `ARCHIVE_UTC_OFFSET`); `None` unless the
    /// template has all three.
    pub date: Option<chrono::NaiveDate>,
    /// `{hh}`, 0-23.
    pub hour: Option<u32>,
    /// `{event_type}` as in the key.
    pub event_type: Option<String>,
    /// `{task_id}` as in the key (sanitized: not always the event's TaskId).
    pub task_id: Option<String>,
    /// `{status}` as in the key (lowercase).
    pub status: Option<String>,
    /// `{outcome}`; `None` when the template has none.
    pub outcome: Option<Outcome>,
    /// `{digest}`: the same callback always has the same digest.
    pub digest: String,
}

impl Field {
    /// Shortest and longest text the field renders to, and the bytes it can contain.
    fn shape(self) -> (usize, usize, fn(u8) -> bool) {
        fn safe(b: u8) -> bool {
            b.is_ascii_alphanumeric() || b"._-".contains(&b)
        }
        fn safe_no_dot(b: u8) -> bool {
            b.is_ascii_alphanumeric() || b"_-".contains(&b)
        }
        fn digit(b: u8) -> bool {
            b.is_ascii_digit()
        }
        fn lower_hex(b: u8) -> bool {
            b.is_ascii_digit() || (b'a'..=b'f').contains(&b)
        }
        fn lower(b: u8) -> bool {
            b.is_ascii_lowercase()
        }
        match self {
            Field::EventType => (1, MAX_EVENT_TYPE_BYTES, safe),
            Field::TaskId => (1, MAX_TASK_ID_BYTES, safe),
            Field::Status => (1, MAX_STATUS_BYTES, safe_no_dot),
            Field::Yyyy => (4, 4, digit),
            Field::Mm | Field::Dd | Field::Hh => (2, 2, digit),
            Field::Digest => (DIGEST_HEX, DIGEST_HEX, lower_hex),
            // `ok` to `partial`/`running`/`unknown`; `read` keeps only the names it knows.
            Field::Outcome => (2, 7, lower),
            // Matched as a literal (the configured prefix), never through its shape.
            Field::Prefix => (0, 0, safe),
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// Text captured for each field while a key is matched; index = `Field as usize`.
type Captures<'k> = [Option<&'k str>; 10];

impl KeyTemplate {
    /// The template's pieces in order, so readers can tell which key prefixes a set of
    /// filters needs.
    pub fn pieces(&self) -> impl Iterator<Item = Piece<'_>> + '_ {
        self.parts.iter().map(|p| match p {
            Part::Literal(l) => Piece::Literal(l),
            Part::Field(f) => match f {
                Field::Prefix => Piece::Prefix,
                Field::EventType => Piece::EventType,
                Field::Yyyy => Piece::Year,
                Field::Mm => Piece::Month,
                Field::Dd => Piece::Day,
                Field::Hh => Piece::Hour,
                Field::TaskId => Piece::TaskId,
                Field::Status => Piece::Status,
                Field::Digest => Piece::Digest,
                Field::Outcome => Piece::Outcome,
            },
        })
    }

    /// Whether keys carry a whole date (`{yyyy}`, `{mm}` and `{dd}`), so they can be
    /// filtered by date.
    pub fn is_dated(&self) -> bool {
        [Field::Yyyy, Field::Mm, Field::Dd]
            .iter()
            .all(|f| self.parts.contains(&Part::Field(*f)))
    }

    /// Reads a key back into its fields, with `prefix` as `{prefix}`; `None` when this
    /// template (with this prefix) cannot have made the key: another application's object,
    /// a key of an older template, an impossible date.
    ///
    /// The fields a template renders can touch (`{task_id}.{status}` with dots in the task
    /// id), so matching backtracks; every field is bounded in length, so a key costs at most
    /// a few hundred steps.
    pub fn read(&self, prefix: &str, key: &str) -> Option<KeyFields> {
        let mut caps: Captures<'_> = [None; 10];
        if !self.match_from(prefix, key, 0, 0, &mut caps) {
            return None;
        }
        let get = |f: Field| caps[f.index()];
        let num = |f: Field| get(f).and_then(|s| s.parse::<u32>().ok());
        let date = match (num(Field::Yyyy), num(Field::Mm), num(Field::Dd)) {
            (Some(y), Some(m), Some(d)) => Some(chrono::NaiveDate::from_ymd_opt(
                i32::try_from(y).ok()?,
                m,
                d,
            )?),
            _ => None,
        };
        // A key with a month but no day (template without {dd}) still needs a real month.
        if num(Field::Mm).is_some_and(|m| !(1..=12).contains(&m)) {
            return None;
        }
        let hour = num(Field::Hh);
        if hour.is_some_and(|h| h > 23) {
            return None;
        }
        let outcome = match get(Field::Outcome) {
            Some(text) => Some(Outcome::parse(text).filter(|o| o.as_str() == text)?),
            None => None,
        };
        Some(KeyFields {
            date,
            hour,
            event_type: get(Field::EventType).map(str::to_string),
            task_id: get(Field::TaskId).map(str::to_string),
            status: get(Field::Status).map(str::to_string),
            outcome,
            digest: get(Field::Digest)?.to_string(),
        })
    }

    fn match_from<'k>(
        &self,
        prefix: &str,
        key: &'k str,
        part: usize,
        pos: usize,
        caps: &mut Captures<'k>,
    ) -> bool {
        let Some(p) = self.parts.get(part) else {
            return pos == key.len();
        };
        let rest = &key.as_bytes()[pos..];
        let literal = match p {
            Part::Literal(l) => Some(l.as_str()),
            Part::Field(Field::Prefix) => Some(prefix),
            Part::Field(_) => None,
        };
        if let Some(l) = literal {
            return rest.starts_with(l.as_bytes())
                && self.match_from(prefix, key, part + 1, pos + l.len(), caps);
        }
        let Part::Field(f) = p else { return false };
        let slot = f.index();
        // A field used twice must read the same both times.
        if let Some(seen) = caps[slot] {
            return rest.starts_with(seen.as_bytes())
                && self.match_from(prefix, key, part + 1, pos + seen.len(), caps);
        }
        let (min, max, allowed) = f.shape();
        let run = rest.iter().take(max).take_while(|b| allowed(**b)).count();
        if run < min {
            return false;
        }
        // Longest first: a task id swallows its own dots before the status is tried.
        for len in (min..=run).rev() {
            // The run is ASCII, so `pos + len` is a character boundary.
            let candidate = &key[pos..pos + len];
            // What `sanitize` writes never has `..` or a dot at either end: a key with one was
            // not written by this archive.
            let sanitized = matches!(f, Field::TaskId | Field::EventType | Field::Status);
            if sanitized
                && (candidate.contains("..")
                    || candidate.starts_with('.')
                    || candidate.ends_with('.'))
            {
                continue;
            }
            caps[slot] = Some(candidate);
            if self.match_from(prefix, key, part + 1, pos + len, caps) {
                return true;
            }
        }
        caps[slot] = None;
        false
    }
}

#[cfg(test)]
mod tests {

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

    use super::*;
    use chrono::TimeZone;
    use serde_json::json;

    fn parts<'a>(task: Option<&'a str>, status: Option<&'a str>) -> KeyParts<'a> {
        KeyParts {
            prefix: "mps-events/",
            event_type: "WorkflowTask",
            task_id: task,
            status,
            outcome: Outcome::Ok,
            time: Utc.with_ymd_and_hms(2026, 11, 23, 17, 30, 0).unwrap(),
            offset: utc(),
            digest: "0123456789abcdef",
        }
    }

    fn default_tpl() -> KeyTemplate {
        KeyTemplate::parse(DEFAULT_TEMPLATE).unwrap()
    }

    #[test]
    fn read_refuses_task_ids_sanitize_never_writes() {
        let tpl = default_tpl();
        let good = "mps-events/WorkflowTask/2026/11/24/a.b.finish.ok.0123456789abcdef.json";
        assert_eq!(
            tpl.read("mps-events/", good)
                .and_then(|f| f.task_id)
                .as_deref(),
            Some("a.b")
        );
        for bad in [
            "mps-events/WorkflowTask/2026/11/24/a..b.finish.ok.0123456789abcdef.json",
            "mps-events/WorkflowTask/2026/11/24/.ab.finish.ok.0123456789abcdef.json",
            "mps-events/Work..flow/2026/11/24/ab.finish.ok.0123456789abcdef.json",
        ] {
            assert_eq!(tpl.read("mps-events/", bad), None, "{bad}");
        }
    }

    #[test]
    fn default_template_renders_spec_layout() {
        let key = default_tpl()
            .render(&parts(
                Some("1253112233-WorkflowTask-abc123t2"),
                Some("FINISH"),
            ))
            .unwrap();
        assert_eq!(
            key,
            "mps-events/WorkflowTask/2026/11/23/1253112233-WorkflowTask-abc123t2.finish.ok.0123456789abcdef.json"
        );
    }

    #[test]
    fn date_follows_the_configured_offset() {
        let mut p = parts(Some("t"), Some("FINISH"));
        p.offset = FixedOffset::east_opt(8 * 3600).unwrap();
        let tpl = KeyTemplate::parse("{yyyy}/{mm}/{dd}/{hh}/{digest}").unwrap();
        // 17:30 UTC on the 23rd is 01:30 on the 24th in Beijing.
        assert_eq!(tpl.render(&p).unwrap(), "2026/11/24/01/0123456789abcdef");
    }

    #[test]
    fn missing_task_and_status_use_fallbacks() {
        let key = default_tpl().render(&parts(None, None)).unwrap();
        assert!(
            key.ends_with("/no-task-id.unknown.ok.0123456789abcdef.json"),
            "{key}"
        );
        let key = default_tpl().render(&parts(Some(""), Some(""))).unwrap();
        assert!(
            key.ends_with("/no-task-id.unknown.ok.0123456789abcdef.json"),
            "{key}"
        );
    }

    #[test]
    fn hostile_task_ids_stay_inside_one_segment() {
        let hostile = [
            "../../etc/passwd",
            "/abs/path",
            "..",
            ".",
            "a/../b",
            "a\u{0}b\r\nc\u{7f}",
            "%2e%2e%2f",
            "任务-1",
            "a\\b",
            "...",
            " ",
        ];
        for t in hostile {
            let key = default_tpl()
                .render(&parts(Some(t), Some("FINISH")))
                .unwrap();
            check_key(&key).unwrap();
            let segs: Vec<&str> = key.split('/').collect();
            assert_eq!(segs.len(), 6, "{t:?} -> {key}");
            let name = segs[5];
            assert!(!name.contains(".."), "{t:?} -> {key}");
            assert!(
                name.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c)),
                "{t:?} -> {key}"
            );
        }
        assert_eq!(sanitize("../../x", 96, "f"), "___.__x");
        assert_eq!(sanitize("..", 96, "f"), "__");
        assert_eq!(sanitize(".", 96, "f"), "_");
        assert_eq!(sanitize("", 96, "f"), "f");
        assert_eq!(sanitize("a.b-c_D9", 96, "f"), "a.b-c_D9");
        assert_eq!(sanitize("任务", 96, "f"), "__");
    }

    #[test]
    fn long_task_ids_are_capped_and_keys_stay_under_the_limit() {
        let long = "x".repeat(2000);
        let key = default_tpl()
            .render(&parts(Some(&long), Some(&"S".repeat(500))))
            .unwrap();
        let name = key.rsplit('/').next().unwrap();
        assert!(name.starts_with(&"x".repeat(MAX_TASK_ID_BYTES)));
        assert!(!name.starts_with(&"x".repeat(MAX_TASK_ID_BYTES + 1)));
        assert!(key.len() <= crate::cos::MAX_KEY_BYTES);
    }

    #[test]
    fn status_is_lowercased_so_callbacks_of_one_task_differ() {
        let a = default_tpl()
            .render(&parts(Some("t"), Some("PROCESSING")))
            .unwrap();
        let b = default_tpl()
            .render(&parts(Some("t"), Some("FINISH")))
            .unwrap();
        assert!(a.contains(".processing."));
        let odd = default_tpl()
            .render(&parts(Some("t"), Some("fin.ISH")))
            .unwrap();
        assert!(
            odd.ends_with("/t.fin_ish.ok.0123456789abcdef.json"),
            "{odd}"
        );
        assert!(b.contains(".finish."));
        assert_ne!(a, b);
    }

    #[test]
    fn templates_are_validated() {
        for (tpl, want) in [
            ("{prefix}{task_id}.json", "must contain {digest}"),
            ("{prefix}{nope}/{digest}", "unknown placeholder {nope}"),
            ("{prefix}{digest", "unclosed"),
            ("{prefix}}{digest}", "stray"),
            ("/{digest}", "starts with '/'"),
            ("a//{digest}", "empty path segment"),
            ("a/../{digest}", "'..' path segment"),
            ("{task_id}/{digest}\n", "control character"),
        ] {
            let err = KeyTemplate::parse(tpl).unwrap_err().to_string();
            assert!(err.contains(want), "{tpl:?}: {err}");
        }
        let huge = format!("{}{{digest}}", "a/".repeat(420));
        assert!(KeyTemplate::parse(&huge)
            .unwrap_err()
            .to_string()
            .contains("more than 850"));
    }

    #[test]
    fn template_and_prefix_are_checked_together() {
        let tpl = KeyTemplate::parse("x{prefix}/{digest}").unwrap();
        tpl.check_with_prefix("a").unwrap();
        let err = tpl.check_with_prefix("a/").unwrap_err().to_string();
        assert!(err.contains("empty path segment"), "{err}");
        default_tpl()
            .check_with_prefix(&"p/".repeat(320))
            .unwrap_err();
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

    fn fields(
        date: (i32, u32, u32),
        event_type: &str,
        task_id: &str,
        status: &str,
        digest: &str,
    ) -> KeyFields {
        KeyFields {
            date: chrono::NaiveDate::from_ymd_opt(date.0, date.1, date.2),
            hour: None,
            event_type: Some(event_type.into()),
            task_id: Some(task_id.into()),
            status: Some(status.into()),
            outcome: Some(Outcome::Ok),
            digest: digest.into(),
        }
    }

    #[test]
    fn read_reverses_render_for_the_default_template() {
        let tpl = default_tpl();
        for (task, status) in [
            (Some("1253112233-WorkflowTask-abc123t2"), Some("FINISH")),
            (Some("a.b.c"), Some("PROCESSING")),
            (Some("x.finish"), Some("finish")),
            (Some("任务 & 100%"), Some("fin.ISH")),
            (None, None),
            (Some(&*"y".repeat(500)), Some("S")),
        ] {
            let key = tpl.render(&parts(task, status)).unwrap();
            let got = tpl
                .read("mps-events/", &key)
                .unwrap_or_else(|| panic!("{key}"));
            let want_task = sanitize(task.unwrap_or(""), MAX_TASK_ID_BYTES, "no-task-id");
            let want_status = sanitize(
                &status.unwrap_or("").to_ascii_lowercase().replace('.', "_"),
                MAX_STATUS_BYTES,
                "unknown",
            );
            assert_eq!(
                got,
                fields(
                    (2026, 11, 23),
                    "WorkflowTask",
                    &want_task,
                    &want_status,
                    "0123456789abcdef"
                ),
                "{key}"
            );
        }
    }

    #[test]
    fn read_rejects_keys_the_template_cannot_make() {
        let tpl = default_tpl();
        let d = "0123456789abcdef";
        for key in [
            format!("other-app/WorkflowTask/2026/11/23/t.finish.ok.{d}.json"),
            format!("mps-events/WorkflowTask/2026/13/23/t.finish.ok.{d}.json"),
            format!("mps-events/WorkflowTask/2026/02/30/t.finish.ok.{d}.json"),
            format!("mps-events/WorkflowTask/2026/11/23/t.finish.ok.{d}.json.bak"),
            "mps-events/WorkflowTask/2026/11/23/t.finish.ok.0123456789ABCDEF.json".to_string(),
            "mps-events/WorkflowTask/2026/11/23/t.finish.ok.0123.json".to_string(),
            format!("mps-events/Work/flow/2026/11/23/t.finish.ok.{d}.json"),
            format!("mps-events/WorkflowTask/2026/11/23/t a.finish.ok.{d}.json"),
            format!("mps-events/WorkflowTask/26/11/23/t.finish.ok.{d}.json"),
            format!("mps-events/WorkflowTask/2026/11/23/.finish.ok.{d}.json"),
            // An outcome this archive never writes, or not in lowercase.
            format!("mps-events/WorkflowTask/2026/11/23/t.finish.bad.{d}.json"),
            format!("mps-events/WorkflowTask/2026/11/23/t.finish.OK.{d}.json"),
            // A key of the old default: its template reads it, this one does not.
            format!("mps-events/WorkflowTask/2026/11/23/t.finish.{d}.json"),
            "mps-events/".to_string(),
            String::new(),
        ] {
            assert_eq!(tpl.read("mps-events/", &key), None, "{key}");
        }
        // Under another prefix the same key is foreign.
        let key = format!("mps-events/WorkflowTask/2026/11/23/t.finish.ok.{d}.json");
        assert!(tpl.read("mps-events/", &key).is_some());
        assert_eq!(tpl.read("archive/", &key), None);
    }

    #[test]
    fn read_handles_custom_templates() {
        let tpl = KeyTemplate::parse("{prefix}{yyyy}{mm}{dd}/{hh}/{event_type}-{digest}").unwrap();
        let got = tpl
            .read("p/", "p/20261124/07/EditMediaTask-00000000000000ff")
            .unwrap();
        assert_eq!(got.date, chrono::NaiveDate::from_ymd_opt(2026, 11, 24));
        assert_eq!(got.hour, Some(7));
        assert_eq!(got.event_type.as_deref(), Some("EditMediaTask"));
        assert_eq!((got.task_id, got.status, got.outcome), (None, None, None));
        assert_eq!(got.digest, "00000000000000ff");
        assert_eq!(tpl.read("p/", "p/20261124/24/E-00000000000000ff"), None);
        assert!(tpl.is_dated());

        // Without a whole date, keys are read without one.
        let tpl = KeyTemplate::parse("{yyyy}/{mm}/{digest}").unwrap();
        assert!(!tpl.is_dated());
        let got = tpl.read("", "2026/11/00000000000000ff").unwrap();
        assert_eq!(got.date, None);
        assert_eq!(tpl.read("", "2026/00/00000000000000ff"), None);

        // A field used twice must agree with itself.
        let tpl = KeyTemplate::parse("{event_type}/{digest}/{event_type}").unwrap();
        assert!(tpl.read("", "A/00000000000000ff/A").is_some());
        assert_eq!(tpl.read("", "A/00000000000000ff/B"), None);
    }

    #[test]
    fn outcome_is_written_and_read_back() {
        let tpl = default_tpl();
        for outcome in Outcome::ALL {
            let mut p = parts(Some("a.finish.ok"), Some("FINISH"));
            p.outcome = outcome;
            let key = tpl.render(&p).unwrap();
            assert!(key.ends_with(&format!(".finish.{outcome}.0123456789abcdef.json")));
            let got = tpl.read("mps-events/", &key).unwrap();
            assert_eq!(got.outcome, Some(outcome), "{key}");
            assert_eq!(got.task_id.as_deref(), Some("a.finish.ok"), "{key}");
        }
    }

    #[test]
    fn the_old_default_template_still_reads_its_keys() {
        let old = KeyTemplate::parse(OLD_DEFAULT_TEMPLATE).unwrap();
        let key = "mps-events/WorkflowTask/2026/11/23/t.x.finish.0123456789abcdef.json";
        let got = old.read("mps-events/", key).unwrap();
        assert_eq!(got.task_id.as_deref(), Some("t.x"));
        assert_eq!(got.status.as_deref(), Some("finish"));
        assert_eq!(got.outcome, None);
        assert_eq!(
            old.render(&parts(Some("t.x"), Some("FINISH"))).unwrap(),
            key
        );
    }

    #[test]
    fn pieces_show_the_template_in_order() {
        let tpl = KeyTemplate::parse("{prefix}{event_type}/{yyyy}/x-{digest}").unwrap();
        assert_eq!(
            tpl.pieces().collect::<Vec<_>>(),
            vec![
                Piece::Prefix,
                Piece::EventType,
                Piece::Literal("/"),
                Piece::Year,
                Piece::Literal("/x-"),
                Piece::Digest
            ]
        );
    }
}
