//! What an object key may be, in two strengths, and what a key prefix may be.
//!
//! - [`check_cos_key`]: what a request can carry to COS unchanged. URL parsers collapse dot
//!   segments and COS refuses some shapes, so a key that breaks these rules would silently
//!   name another object, or none. The COS client checks every key it sends with it, keys
//!   other programs wrote included.
//! - [`check_archive_key`]: what this archive writes. The COS rules, and what a tool
//!   mirroring the bucket onto a disk can write without surprises: no empty path segment, no
//!   backslash. The same rule keeps every key of the local mirror inside its directory.
//! - [`check_prefix`]: what `COS_KEY_PREFIX` may be, so that every key it starts obeys the
//!   archive's rules.

/// Longest object key COS accepts, in bytes.
pub(crate) const MAX_KEY_BYTES: usize = 850;

/// Longest `COS_KEY_PREFIX`, in bytes: the whole key is capped at [`MAX_KEY_BYTES`], and the
/// prefix must leave room for the rest of it.
pub(crate) const MAX_PREFIX_BYTES: usize = 256;

/// The rule a key breaks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid object key: {0}")]
pub struct KeyError(pub(crate) &'static str);

/// The rule a key prefix breaks; the text is the rule alone, so the caller can name the
/// setting and the value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub(crate) struct PrefixError(&'static str);

/// Refuses keys COS or any URL parser on the way would change or refuse: the rules of the
/// request path, which [`check_archive_key`] makes stricter.
pub(crate) fn check_cos_key(key: &str) -> Result<(), KeyError> {
    if key.is_empty() {
        return Err(KeyError("empty"));
    }
    if key.len() > MAX_KEY_BYTES {
        return Err(KeyError("more than 850 bytes"));
    }
    if key.starts_with('/') {
        return Err(KeyError("starts with '/'"));
    }
    if key.chars().any(char::is_control) {
        return Err(KeyError("contains a control character"));
    }
    // URL parsers collapse dot segments, which would silently change the key.
    if key.split('/').any(|seg| seg == "." || seg == "..") {
        return Err(KeyError("has a '.' or '..' path segment"));
    }
    Ok(())
}

/// Checks the rules every key of the archive meets (README "Object keys"): at most 850
/// bytes, no leading `/`, no control character or `\`, no empty, `.` or `..` segment.
pub fn check_archive_key(key: &str) -> Result<(), KeyError> {
    check_cos_key(key)?;
    if key.contains('\\') {
        return Err(KeyError("contains '\\'"));
    }
    if key.split('/').any(str::is_empty) {
        return Err(KeyError("has an empty path segment"));
    }
    Ok(())
}

/// Checks a `COS_KEY_PREFIX`: the archive's key rules for the start of a key, which may end
/// in `/` (keys continue after it) and be empty, and at most [`MAX_PREFIX_BYTES`] long.
pub(crate) fn check_prefix(prefix: &str) -> Result<(), PrefixError> {
    if prefix.len() > MAX_PREFIX_BYTES {
        return Err(PrefixError("is longer than 256 bytes"));
    }
    if prefix.starts_with('/') {
        return Err(PrefixError("must not start with `/`"));
    }
    if prefix.chars().any(char::is_control) {
        return Err(PrefixError("contains control characters"));
    }
    if prefix.contains('\\') {
        return Err(PrefixError("contains `\\`"));
    }
    let segments: Vec<&str> = prefix.split('/').collect();
    // The last piece is what keys continue with (empty when the prefix ends in `/`).
    let inner = &segments[..segments.len() - 1];
    if inner.iter().any(|s| s.is_empty()) {
        return Err(PrefixError("has an empty path segment (`//`)"));
    }
    if segments.iter().any(|s| *s == "." || *s == "..") {
        return Err(PrefixError("has a `.` or `..` path segment"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_that_would_be_rewritten_are_refused() {
        for key in ["", "/a", "a/../b", "./a", "a/.", "a\nb", &"x".repeat(851)] {
            assert!(check_cos_key(key).is_err(), "{key:?} should be refused");
        }
        for key in [
            "a",
            "a/b.c",
            "..a/b..",
            "a b/+~(*)%?#&=/视频.json",
            "trailing/",
            &"x".repeat(850),
        ] {
            assert!(check_cos_key(key).is_ok(), "{key:?} should be accepted");
        }
    }

    #[test]
    fn the_archive_refuses_what_a_disk_mirror_cannot_hold() {
        for key in ["a//b", "trailing/", "a\\b", "", "../x"] {
            assert!(check_archive_key(key).is_err(), "{key:?} should be refused");
        }
        for key in ["a/b.c", "..a/b..", "a b/视频.json", &"x".repeat(850)] {
            assert!(check_archive_key(key).is_ok(), "{key:?} should be accepted");
        }
    }

    #[test]
    fn the_limits_are_spelled_as_their_constants() {
        let e = check_cos_key(&"x".repeat(MAX_KEY_BYTES + 1)).unwrap_err();
        assert_eq!(e.0, format!("more than {MAX_KEY_BYTES} bytes"));
        let e = check_prefix(&"p".repeat(MAX_PREFIX_BYTES + 1)).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!("is longer than {MAX_PREFIX_BYTES} bytes")
        );
        assert!(check_prefix(&"p".repeat(MAX_PREFIX_BYTES)).is_ok());
        assert!(check_prefix("").is_ok() && check_prefix("a/b/").is_ok());
    }
}
