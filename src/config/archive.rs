//! How callbacks are archived: the key layout (`COS_KEY_PREFIX`, `COS_KEY_TEMPLATE`, the
//! template checked with the real prefix), the offset key dates are written in
//! (`ARCHIVE_UTC_OFFSET`), which event types are kept (`ARCHIVE_EVENT_TYPES`) and whether
//! credentials are redacted (`ARCHIVE_REDACT`).

use chrono::{FixedOffset, Offset, Utc};

use crate::handler::ArchiveConfig;
use crate::key::{check_prefix, KeyTemplate, DEFAULT_TEMPLATE};

use super::env::{err, get_set, switch, ConfigError};

/// The documented default of `COS_KEY_PREFIX`.
pub(crate) const DEFAULT_KEY_PREFIX: &str = "mps-events/";

pub(super) fn archive_config<F>(get: &F) -> Result<ArchiveConfig, ConfigError>
where
    F: Fn(&str) -> Option<String>,
{
    let key_prefix = match get_set(get, "COS_KEY_PREFIX") {
        None => DEFAULT_KEY_PREFIX.to_string(),
        Some(p) => {
            check_prefix(&p).map_err(|e| err("COS_KEY_PREFIX", &format!("{p:?} {e}")))?;
            p
        }
    };
    let template = get_set(get, "COS_KEY_TEMPLATE");
    let key_template = KeyTemplate::parse(template.as_deref().unwrap_or(DEFAULT_TEMPLATE))
        .and_then(|t| t.check_with_prefix(&key_prefix).map(|()| t))
        .map_err(|e| ConfigError {
            var: "COS_KEY_TEMPLATE",
            reason: format!("{e} (with COS_KEY_PREFIX {key_prefix:?})"),
        })?;
    let utc_offset = match get_set(get, "ARCHIVE_UTC_OFFSET") {
        None => Utc.fix(),
        Some(v) => parse_offset(&v).ok_or_else(|| ConfigError {
            var: "ARCHIVE_UTC_OFFSET",
            reason: format!(
                "{v:?} is not an offset like `+08:00`, `-05:30`, `Z` or `UTC` within ±14:00"
            ),
        })?,
    };
    let event_types = get_set(get, "ARCHIVE_EVENT_TYPES").and_then(|v| {
        let list: Vec<String> = v
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect();
        (!list.is_empty()).then_some(list)
    });
    let redact = switch(get, "ARCHIVE_REDACT", true)?;
    Ok(ArchiveConfig {
        key_prefix,
        key_template,
        utc_offset,
        event_types,
        redact,
    })
}

fn parse_offset(v: &str) -> Option<FixedOffset> {
    let v = v.trim();
    if v.eq_ignore_ascii_case("z") || v.eq_ignore_ascii_case("utc") {
        return Some(Utc.fix());
    }
    let bytes = v.as_bytes();
    if bytes.len() != 6 || bytes[3] != b':' {
        return None;
    }
    let sign = match bytes[0] {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let digits = |s: &str| -> Option<i32> {
        (s.len() == 2 && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse().ok())
            .flatten()
    };
    let hh = digits(&v[1..3])?;
    let mm = digits(&v[4..6])?;
    if mm >= 60 || hh * 60 + mm > 14 * 60 {
        return None;
    }
    FixedOffset::east_opt(sign * (hh * 3600 + mm * 60))
}

#[cfg(test)]
mod tests {
    use crate::config::test_env::{fails_on, ok, runtime_env, ID, KEY, TOKEN};
    use crate::config::RuntimeConfig;

    #[test]
    fn key_prefix_is_validated() {
        assert_eq!(ok(&[("COS_KEY_PREFIX", "a/b/")]).archive.key_prefix, "a/b/");
        assert_eq!(
            ok(&[("COS_KEY_PREFIX", "events-")]).archive.key_prefix,
            "events-"
        );
        for bad in [
            "/abs/", "a//b/", "a/../b/", "./a/", "a/./", "a\\b/", "a\tb/", "..", "a/..",
        ] {
            fails_on("COS_KEY_PREFIX", &[("COS_KEY_PREFIX", bad)]);
        }
        let long: &'static str = Box::leak("p".repeat(300).into_boxed_str());
        fails_on("COS_KEY_PREFIX", &[("COS_KEY_PREFIX", long)]);
    }

    #[test]
    fn key_template_is_checked_with_the_real_prefix() {
        let over = [
            ("COS_KEY_PREFIX", "a/"),
            ("COS_KEY_TEMPLATE", "x{prefix}/{digest}"),
        ];
        let e = RuntimeConfig::from_env(runtime_env(&over)).unwrap_err();
        assert_eq!(e.var, "COS_KEY_TEMPLATE");
        assert!(e.to_string().contains("empty path segment"), "{e}");
        let over = [
            ("COS_KEY_PREFIX", "a"),
            ("COS_KEY_TEMPLATE", "x{prefix}/{digest}"),
        ];
        let c = RuntimeConfig::from_env(runtime_env(&over)).unwrap();
        assert_eq!(c.archive.key_prefix, "a");
        let d = format!("{c:?}");
        assert!(
            !d.contains(KEY) && !d.contains(ID) && !d.contains(TOKEN),
            "{d}"
        );
    }

    #[test]
    fn key_template_must_contain_digest() {
        let line = fails_on(
            "COS_KEY_TEMPLATE",
            &[("COS_KEY_TEMPLATE", "{prefix}{event_type}/{task_id}.json")],
        );
        assert!(line.contains("{digest}"), "{line}");
        // Through the public entry point too: the check happens before the template is parsed.
        let e = RuntimeConfig::from_env(runtime_env(&[(
            "COS_KEY_TEMPLATE",
            "{prefix}{task_id}.json",
        )]))
        .expect_err("no digest");
        assert_eq!(e.var, "COS_KEY_TEMPLATE");
    }

    #[test]
    fn utc_offset_forms_and_range() {
        let off = |v: &'static str| {
            ok(&[("ARCHIVE_UTC_OFFSET", v)])
                .archive
                .utc_offset
                .local_minus_utc()
        };
        assert_eq!(off("+08:00"), 8 * 3600);
        assert_eq!(off("-05:30"), -(5 * 3600 + 30 * 60));
        assert_eq!(off("+14:00"), 14 * 3600);
        assert_eq!(off("-14:00"), -14 * 3600);
        assert_eq!(off("Z"), 0);
        assert_eq!(off("utc"), 0);
        assert_eq!(off("+00:00"), 0);
        for bad in [
            "+14:01", "+15:00", "08:00", "+8:00", "+08", "+0800", "+08:60", "+08:0x", "local",
        ] {
            let line = fails_on("ARCHIVE_UTC_OFFSET", &[("ARCHIVE_UTC_OFFSET", bad)]);
            assert!(line.contains(bad), "{line}");
        }
    }

    #[test]
    fn event_types_list() {
        let types = |v: &'static str| ok(&[("ARCHIVE_EVENT_TYPES", v)]).archive.event_types;
        assert_eq!(
            types(" WorkflowTask , ,EditMediaTask,"),
            Some(vec![
                "WorkflowTask".to_string(),
                "EditMediaTask".to_string()
            ])
        );
        assert_eq!(
            types("WorkflowTask"),
            Some(vec!["WorkflowTask".to_string()])
        );
        assert_eq!(types(" , ,"), None);
    }

    #[test]
    fn redact_switch() {
        for (v, want) in [
            ("on", true),
            ("ON", true),
            ("true", true),
            ("1", true),
            ("Yes", true),
            ("off", false),
            ("False", false),
            ("0", false),
            ("no", false),
        ] {
            assert_eq!(ok(&[("ARCHIVE_REDACT", v)]).archive.redact, want, "{v}");
        }
        fails_on("ARCHIVE_REDACT", &[("ARCHIVE_REDACT", "maybe")]);
    }
}
