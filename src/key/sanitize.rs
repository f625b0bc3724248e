//! Making an event's text safe inside a key.
//!
//! `EventType`, `TaskId` and `Status` come from whoever sent the callback. Before they become
//! part of a key (or an object's metadata) each is cut down to a small, safe alphabet, so a
//! hostile `TaskId` can never climb out of the prefix, hide in an empty segment or break a
//! tool that mirrors the bucket onto a disk. Readers of the archive rely on the same shape:
//! a key part with `..` or a dot at either end was not written here.

/// Longest sanitized task id, in bytes.
pub(crate) const MAX_TASK_ID_BYTES: usize = 96;
/// Longest sanitized event type, in bytes (key segment and metadata value).
pub(crate) const MAX_EVENT_TYPE_BYTES: usize = 64;
/// Longest sanitized status, in bytes (key part and metadata value).
pub(crate) const MAX_STATUS_BYTES: usize = 32;

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

/// [`sanitize`], appended to `out` (a key being rendered) instead of a new string.
pub(super) fn push_safe(out: &mut String, value: &str, max: usize, fallback: &str) {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_safe_alphabet_survives() {
        assert_eq!(sanitize("../../x", 96, "f"), "___.__x");
        assert_eq!(sanitize("..", 96, "f"), "__");
        assert_eq!(sanitize(".", 96, "f"), "_");
        assert_eq!(sanitize("", 96, "f"), "f");
        assert_eq!(sanitize("a.b-c_D9", 96, "f"), "a.b-c_D9");
        assert_eq!(sanitize("任务", 96, "f"), "__");
    }
}
