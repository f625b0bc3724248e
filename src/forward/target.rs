//! `ARCHIVE_FORWARD`: the targets every callback is also delivered to.
//!
//! Syntax: comma-separated entries, each `scf:[NAMESPACE/]FUNCTION[:QUALIFIER]` (namespace
//! `default`, qualifier `$LATEST` when omitted) or an `http://` / `https://` URL. Whitespace
//! around entries is ignored; a value that is empty or blank means no target. A comma inside
//! a URL must be written `%2C`.
//!
//! Decisions:
//! - URLs with credentials (`user:pass@host`) are refused: the HTTP layer does not turn them
//!   into an `Authorization` header, so they would be dropped silently. Fragments (`#...`)
//!   are refused too: they are never sent, so they cannot mean anything to the receiver.
//! - Shown forms ([`Target`]'s `Display`, errors) never contain a URL's query string (shown
//!   as `?…`) or userinfo, where secrets such as access tokens usually live. The path is
//!   shown: put a receiver's secret in the query, not the path, if logs must not carry it.
//! - Duplicates are compared after defaults are applied (`scf:f` = `scf:default/f:$LATEST`),
//!   and URLs by scheme, host (case-insensitively), port, path and query.

use std::fmt;

use http::Uri;

use crate::transport::UrlShape;

use crate::cloudapi::invoke::{NameError, QualifiedFunction};

/// One forwarding target. `Debug` shows URLs as `Display` does, without their query.
#[derive(Clone, PartialEq, Eq)]
pub enum Target {
    /// An SCF function, invoked asynchronously through the Cloud API.
    Scf(QualifiedFunction),
    /// An HTTP(S) endpoint that receives the callback as a POST.
    Url(Uri),
}

impl fmt::Debug for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Scf(func) => f.debug_tuple("Scf").field(func).finish(),
            Target::Url(_) => f.debug_tuple("Url").field(&self.to_string()).finish(),
        }
    }
}

impl fmt::Display for Target {
    /// `scf:NAMESPACE/FUNCTION:QUALIFIER` (defaults spelled out), or the URL without its
    /// query (`?…` marks one).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Scf(func) => func.fmt(f),
            Target::Url(uri) => {
                let scheme = uri.scheme_str().unwrap_or("");
                let host = uri.host().unwrap_or("");
                write!(f, "{scheme}://{host}")?;
                if let Some(port) = uri.port_u16() {
                    write!(f, ":{port}")?;
                }
                f.write_str(uri.path())?;
                if uri.query().is_some() {
                    f.write_str("?…")?;
                }
                Ok(())
            }
        }
    }
}

/// A malformed `ARCHIVE_FORWARD`: names the entry (its shown form) and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("entry {position} {entry:?}: {reason}")]
pub struct TargetError {
    /// 1-based position of the entry in the list.
    pub(crate) position: usize,
    /// The entry as given, query and userinfo removed.
    pub(crate) entry: String,
    /// What is wrong with it.
    pub(crate) reason: String,
}

/// The entry as it may be shown: no query, no fragment, no userinfo, no control characters.
fn shown_entry(entry: &str) -> String {
    let (base, cut) = match entry.find(['?', '#']) {
        Some(i) => (&entry[..i], true),
        None => (entry, false),
    };
    let base = match base.find("://") {
        Some(i) => {
            let (scheme, rest) = base.split_at(i + 3);
            let authority_end = rest.find('/').unwrap_or(rest.len());
            match rest[..authority_end].rfind('@') {
                Some(at) => format!("{scheme}***@{}", &rest[at + 1..]),
                None => base.to_string(),
            }
        }
        None => base.to_string(),
    };
    let mut out: String = base.chars().filter(|c| !c.is_control()).collect();
    if cut {
        out.push('…');
    }
    out
}

impl std::str::FromStr for Target {
    type Err = String;

    /// Parses one entry (already trimmed); the error is the reason only.
    fn from_str(entry: &str) -> Result<Target, String> {
        if let Some(rest) = entry.strip_prefix("scf:") {
            return parse_scf(rest).map(Target::Scf).map_err(|e| e.to_string());
        }
        let lower = entry.get(..8).unwrap_or(entry).to_ascii_lowercase();
        if lower.starts_with("http://") || lower.starts_with("https://") {
            return parse_url(entry).map(Target::Url);
        }
        Err("unknown kind of target: expected scf:[NAMESPACE/]FUNCTION[:QUALIFIER] or an http:// or https:// URL".into())
    }
}

fn parse_scf(rest: &str) -> Result<QualifiedFunction, NameError> {
    let (namespace, rest) = rest
        .split_once('/')
        .unwrap_or((QualifiedFunction::DEFAULT_NAMESPACE, rest));
    let (name, qualifier) = rest
        .split_once(':')
        .unwrap_or((rest, QualifiedFunction::LATEST));
    QualifiedFunction::new(namespace, name, qualifier)
}

fn parse_url(entry: &str) -> Result<Uri, String> {
    crate::transport::parse_url(entry, UrlShape::WithPath).map_err(|e| e.to_string())
}

/// Parses `ARCHIVE_FORWARD`. Empty entries, unknown kinds, malformed targets and duplicates
/// are errors naming the entry; an empty or blank value is no target at all.
pub fn parse_targets(value: &str) -> Result<Vec<Target>, TargetError> {
    if value.trim().is_empty() {
        return Ok(Vec::new());
    }
    let mut targets: Vec<Target> = Vec::new();
    for (i, raw) in value.split(',').enumerate() {
        let entry = raw.trim();
        let error = |reason: String| TargetError {
            position: i + 1,
            entry: shown_entry(entry),
            reason,
        };
        if entry.is_empty() {
            return Err(error(
                "empty entry (two commas in a row, or one at an end)".into(),
            ));
        }
        let target: Target = entry.parse().map_err(error)?;
        if let Some(j) = targets.iter().position(|t| *t == target) {
            return Err(error(format!("duplicate of entry {} ({target})", j + 1)));
        }
        targets.push(target);
    }
    Ok(targets)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scf(ns: &str, name: &str, q: &str) -> Target {
        Target::Scf(QualifiedFunction::new(ns, name, q).unwrap())
    }

    #[test]
    fn scf_forms_with_defaults() {
        let t = parse_targets("scf:biz-handler, scf:prod/biz:3 ,scf:f1:live,scf:ns/f2").unwrap();
        assert_eq!(
            t,
            vec![
                scf("default", "biz-handler", "$LATEST"),
                scf("prod", "biz", "3"),
                scf("default", "f1", "live"),
                scf("ns", "f2", "$LATEST"),
            ]
        );
        assert_eq!(t[0].to_string(), "scf:default/biz-handler:$LATEST");
        assert_eq!(t[1].to_string(), "scf:prod/biz:3");
    }

    #[test]
    fn urls_are_parsed_and_shown_without_query() {
        let t = parse_targets("https://hooks.example.com/mps?token=s3cret,http://127.0.0.1:8080")
            .unwrap();
        assert_eq!(t.len(), 2);
        assert_eq!(t[0].to_string(), "https://hooks.example.com/mps?…");
        assert_eq!(t[1].to_string(), "http://127.0.0.1:8080/");
        let Target::Url(u) = &t[0] else { panic!() };
        assert_eq!(
            u.query(),
            Some("token=s3cret"),
            "the query is kept for sending"
        );
        assert!(!format!("{t:?}").contains("s3cret"), "{t:?}");
    }

    #[test]
    fn blank_means_none() {
        assert_eq!(parse_targets("").unwrap(), vec![]);
        assert_eq!(parse_targets("  ").unwrap(), vec![]);
    }

    #[test]
    fn errors_name_the_entry_and_never_its_secrets() {
        let cases: [(&str, usize, &str, &str); 12] = [
            ("scf:ab,,scf:bc", 2, "", "empty entry"),
            ("scf:ab,", 2, "", "empty entry"),
            ("ftp://x/y", 1, "ftp://x/y", "unknown kind"),
            ("lambda:fn", 1, "lambda:fn", "unknown kind"),
            ("scf:1bad", 1, "scf:1bad", "invalid function name"),
            ("scf:ns/fn:", 1, "scf:ns/fn:", "invalid qualifier"),
            ("scf:-ns/fn", 1, "scf:-ns/fn", "invalid namespace"),
            ("scf:a/b/c", 1, "scf:a/b/c", "invalid function name"),
            (
                "scf:fn,scf:default/fn:$LATEST",
                2,
                "scf:default/fn:$LATEST",
                "duplicate of entry 1",
            ),
            (
                "https://H.example/x?k=1,https://h.example/x?k=1",
                2,
                "https://h.example/x…",
                "duplicate of entry 1 (https://h.example/x?…)",
            ),
            (
                "https://user:pw@h.example/x?k=v",
                1,
                "https://***@h.example/x…",
                "credentials",
            ),
            (
                "https://h.example/x#secretfrag",
                1,
                "https://h.example/x…",
                "fragment",
            ),
        ];
        for (value, position, entry, reason) in cases {
            let e = parse_targets(value).unwrap_err();
            assert_eq!(e.position, position, "{value}");
            assert_eq!(e.entry, entry, "{value}");
            assert!(e.reason.contains(reason), "{value}: {}", e.reason);
            let line = e.to_string();
            for secret in ["pw", "k=1", "k=v", "secretfrag"] {
                assert!(!line.contains(secret), "{line}");
            }
        }
        assert!(parse_targets("https:///x").is_err());
        assert!(parse_targets("https://h/a b").is_err());
    }
}
