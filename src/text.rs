//! Small text helpers shared by every module: hex, one-line error text, error chains.
//!
//! Error posts, log fields and CLI errors are read as single lines; these helpers are the
//! one place that decides what "one line" means, so every edge of the program agrees.

use std::error::Error;

/// Longest one-line message kept; longer ones are cut on a character boundary with `…`.
/// One error post may name the archive's failure (with bucket, key and host) and every
/// failed forward target, each with what its server said: 1 KiB holds that, still one line.
pub(crate) const MAX_LINE: usize = 1024;

/// Lowercase hex of `bytes`. On every signature's path, so a table rather than `write!`.
pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}

/// `s` on one line: whitespace runs and control characters become one space, the ends are
/// trimmed, and the result is cut to [`MAX_LINE`] bytes on a character boundary (`…` marks
/// the cut). Servers' error bodies and panic messages go through here before they reach a
/// log line or an error post.
pub(crate) fn one_line(s: &str) -> String {
    one_line_within(s, MAX_LINE)
}

/// [`one_line`] cut to at most `max` bytes (plus the `…` that marks a cut), for fields kept
/// shorter than a whole line (an API's error code or message).
pub(crate) fn one_line_within(s: &str, max: usize) -> String {
    let mut out = String::with_capacity(s.len().min(max + 4));
    let words = s.split(|c: char| c.is_whitespace() || c.is_control());
    for word in words.filter(|w| !w.is_empty()) {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
        if out.len() > max {
            break;
        }
    }
    if out.len() > max {
        let mut cut = max;
        while !out.is_char_boundary(cut) {
            cut -= 1;
        }
        out.truncate(cut);
        out.push('…');
    }
    out
}

/// An error and all its sources, joined with `: `, on one line. Many libraries' `Display`
/// hides the cause (a reset shows as "error sending request"); the chain names it.
pub(crate) fn error_chain(e: &dyn Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        // Some errors repeat their source's text in their own; say it once.
        if !out.ends_with(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    one_line(&out)
}

/// `bytes` without a leading UTF-8 byte order mark. A BOM is not part of a JSON text (RFC 8259
/// section 8.1: senders must not add one, parsers may ignore it); some tools write one anyway.
pub(crate) fn strip_bom(bytes: &[u8]) -> &[u8] {
    bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes)
}

/// Secrets shorter than this are masked only where they stand as a whole word: searched for
/// inside other words, a short secret would garble any message that happens to contain its
/// letters (`f***iled`), and a value that short is no secret worth the damage.
pub(crate) const MIN_EMBEDDED_SECRET: usize = 8;

/// `text` with every occurrence of each secret replaced by `***`, the whole value at once.
/// Longer secrets go first, so a secret containing a shorter one is never half masked.
/// A secret shorter than [`MIN_EMBEDDED_SECRET`] bytes is replaced only where neither
/// neighbour is a letter, a digit or `_`.
pub(crate) fn mask_secrets<'a>(text: &str, secrets: impl IntoIterator<Item = &'a str>) -> String {
    let mut secrets: Vec<&str> = secrets.into_iter().filter(|s| !s.is_empty()).collect();
    secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
    secrets.dedup();
    let mut out = text.to_string();
    for secret in secrets {
        if !out.contains(secret) {
            continue;
        }
        out = if secret.len() >= MIN_EMBEDDED_SECRET {
            out.replace(secret, "***")
        } else {
            replace_whole_words(&out, secret)
        };
    }
    out
}

/// `text` with the occurrences of `word` that no letter, digit or `_` touches replaced by `***`.
fn replace_whole_words(text: &str, word: &str) -> String {
    let is_word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for (at, _) in text.match_indices(word) {
        if at < last {
            continue;
        }
        let before = text[..at].chars().next_back();
        let after = text[at + word.len()..].chars().next();
        if is_word(before) || is_word(after) {
            continue;
        }
        out.push_str(&text[last..at]);
        out.push_str("***");
        last = at + word.len();
    }
    out.push_str(&text[last..]);
    out
}

/// The message of a caught panic (`&str` or `String` payloads), for an error post.
pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&'static str>() {
        one_line(s)
    } else if let Some(s) = payload.downcast_ref::<String>() {
        one_line(s)
    } else {
        "(non-string panic payload)".to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_is_lowercase_and_two_digits_a_byte() {
        assert_eq!(hex(&[0x00, 0x0f, 0xab, 0xff]), "000fabff");
        assert_eq!(hex(&[]), "");
    }

    #[test]
    fn one_line_collapses_whitespace_and_controls() {
        assert_eq!(one_line("  a\r\n\tb \u{7}c  "), "a b c");
        assert_eq!(one_line(""), "");
    }

    #[test]
    fn one_line_cuts_on_a_char_boundary() {
        let long = "é".repeat(MAX_LINE);
        let line = one_line(&long);
        assert!(line.ends_with('…'));
        assert!(line.len() <= MAX_LINE + '…'.len_utf8());
        assert!(line.trim_end_matches('…').chars().all(|c| c == 'é'));
    }

    #[test]
    fn error_chain_names_every_source_once() {
        #[derive(Debug)]
        struct Outer(std::io::Error);
        impl std::fmt::Display for Outer {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("error sending request")
            }
        }
        impl Error for Outer {
            fn source(&self) -> Option<&(dyn Error + 'static)> {
                Some(&self.0)
            }
        }
        let e = Outer(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "connection reset\nby peer",
        ));
        assert_eq!(
            error_chain(&e),
            "error sending request: connection reset by peer"
        );
    }

    #[test]
    fn only_a_leading_bom_is_stripped() {
        assert_eq!(strip_bom(b"\xEF\xBB\xBF{}"), b"{}");
        assert_eq!(strip_bom(b"{}\xEF\xBB\xBF"), b"{}\xEF\xBB\xBF");
        assert_eq!(strip_bom(b"\xEF\xBB"), b"\xEF\xBB");
    }

    #[test]
    fn long_secrets_are_masked_wherever_they_appear() {
        let token = "tokenValue0123456789";
        assert_eq!(
            mask_secrets(&format!("a={token}&b=x{token}y"), [token]),
            "a=***&b=x***y"
        );
        assert_eq!(mask_secrets("nothing here", [token]), "nothing here");
    }

    #[test]
    fn short_secrets_are_masked_only_as_whole_words() {
        // A one-letter or short key must not garble the message around it.
        assert_eq!(
            mask_secrets("request failed: key a refused", ["a"]),
            "request failed: key *** refused"
        );
        assert_eq!(mask_secrets("failed", ["fa", "i"]), "failed");
        assert_eq!(
            mask_secrets("key=abc123, then abc123x and xabc123", ["abc123"]),
            "key=***, then abc123x and xabc123"
        );
        assert_eq!(mask_secrets("\"abc123\"", ["abc123"]), "\"***\"");
        assert_eq!(mask_secrets("abc123", ["abc123"]), "***");
        assert_eq!(
            mask_secrets("é_abc123 abc123é", ["abc123"]),
            "é_abc123 abc123é"
        );
        // Exactly the threshold is searched for inside words.
        assert_eq!(mask_secrets("xABCDEFGHx", ["ABCDEFGH"]), "x***x");
    }

    #[test]
    fn a_secret_inside_a_longer_one_does_not_leave_part_of_the_longer() {
        let long = "AKIDsecretvalue-with-abc-inside";
        assert_eq!(
            mask_secrets(&format!("id {long} and abc"), ["abc", long, ""]),
            "id *** and ***"
        );
    }

    #[test]
    fn panic_messages_of_both_payload_kinds() {
        let a: Box<dyn std::any::Any + Send> = Box::new("static str");
        let b: Box<dyn std::any::Any + Send> = Box::new(String::from("a\nstring"));
        let c: Box<dyn std::any::Any + Send> = Box::new(42u8);
        assert_eq!(panic_message(a.as_ref()), "static str");
        assert_eq!(panic_message(b.as_ref()), "a string");
        assert_eq!(panic_message(c.as_ref()), "(non-string panic payload)");
    }
}
