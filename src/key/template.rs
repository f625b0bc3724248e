//! `COS_KEY_TEMPLATE`: parsed once, rendered once per event.
//!
//! A template is literal text and placeholders (`{prefix}`, `{event_type}`, `{yyyy}`,
//! `{mm}`, `{dd}`, `{hh}`, `{task_id}`, `{status}`, `{outcome}`, `{digest}`). Parsing checks
//! it completely: it must contain `{digest}` (so different events never share a key), and
//! the longest key it can make must obey the archive's key rules, so a bad template fails at
//! start and never on an event. Rendering fills each placeholder from [`KeyParts`], every
//! part that comes from the event sanitized first.

use chrono::{DateTime, FixedOffset, Utc};

use super::rules::{check_archive_key, KeyError};
use super::sanitize::{push_safe, MAX_EVENT_TYPE_BYTES, MAX_STATUS_BYTES, MAX_TASK_ID_BYTES};
use crate::digest::DIGEST_HEX;
use crate::record::Outcome;

/// Default `COS_KEY_TEMPLATE`: the outcome in the key makes "what failed" a listing.
pub const DEFAULT_TEMPLATE: &str =
    "{prefix}{event_type}/{yyyy}/{mm}/{dd}/{task_id}.{status}.{outcome}.{digest}.json";

/// The default `COS_KEY_TEMPLATE` of earlier versions, without `{outcome}`: archives written
/// with it are read by setting `COS_KEY_TEMPLATE` to it.
pub const OLD_DEFAULT_TEMPLATE: &str =
    "{prefix}{event_type}/{yyyy}/{mm}/{dd}/{task_id}.{status}.{digest}.json";

/// A parsed `COS_KEY_TEMPLATE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyTemplate {
    pub(super) parts: Vec<Part>,
}

/// A placeholder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Field {
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

/// One piece of a parsed template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Part {
    Literal(String),
    Field(Field),
}

/// Why a template cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    /// The template does not parse, or has no `{digest}`; the text says why.
    #[error("{0}")]
    Invalid(String),
    /// The longest key the template makes (with the prefix) breaks a key rule.
    #[error("key template makes unusable keys: {0}")]
    Unusable(KeyError),
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
    /// Content digest (see [`crate::digest::digest`]).
    pub digest: &'a str,
}

impl KeyTemplate {
    /// Parses and validates a template (must contain `{digest}`).
    pub fn parse(template: &str) -> Result<KeyTemplate, TemplateError> {
        let mut parts = Vec::new();
        let mut rest = template;
        while let Some(open) = rest.find('{') {
            if open > 0 {
                parts.push(Part::Literal(rest[..open].to_string()));
            }
            let after = &rest[open + 1..];
            let close = after
                .find('}')
                .ok_or_else(|| TemplateError::Invalid("unclosed '{' in key template".into()))?;
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
                    return Err(TemplateError::Invalid(format!(
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
                    return Err(TemplateError::Invalid("stray '}' in key template".into()));
                }
            }
        }
        if !parts.contains(&Part::Field(Field::Digest)) {
            return Err(TemplateError::Invalid(
                "key template must contain {digest} (keys must differ for different events)".into(),
            ));
        }
        let tpl = KeyTemplate { parts };
        // Render the longest possible key once, so a bad template fails at start, not per event.
        tpl.check_with_prefix("")?;
        Ok(tpl)
    }

    /// Checks that the longest key this template can make with `prefix` obeys the key rules.
    pub(crate) fn check_with_prefix(&self, prefix: &str) -> Result<(), TemplateError> {
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
            .map_err(TemplateError::Unusable)
    }

    /// Renders the key for one event; the same parts always give the same key.
    pub fn render(&self, p: &KeyParts<'_>) -> Result<String, KeyError> {
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
        check_archive_key(&key)?;
        Ok(key)
    }
}

fn utc() -> FixedOffset {
    FixedOffset::east_opt(0).unwrap_or_else(|| unreachable!("zero offset is valid"))
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::key::check_archive_key;
    use chrono::TimeZone;

    /// The parts of one WorkflowTask callback, 2026-11-23 17:30 UTC, digest `0123...ef`.
    pub(in crate::key) fn parts<'a>(
        task: Option<&'a str>,
        status: Option<&'a str>,
    ) -> KeyParts<'a> {
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

    pub(in crate::key) fn default_tpl() -> KeyTemplate {
        KeyTemplate::parse(DEFAULT_TEMPLATE).unwrap()
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
            check_archive_key(&key).unwrap();
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
        assert!(key.len() <= crate::key::rules::MAX_KEY_BYTES);
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
}
