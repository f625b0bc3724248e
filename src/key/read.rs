//! Reading keys back: the template in reverse.
//!
//! The read side (`ls`, `get`, `stats`, `replay`, `reconcile`) lists keys and must tell,
//! from a key alone, what callback it holds: its date, type, task, status, outcome and
//! digest ([`KeyFields`]). [`KeyTemplate::read`] matches a key against the template, each
//! placeholder against the shape it renders to (a date is digits, a digest 16 lowercase hex
//! characters, a task id what sanitizing leaves), and refuses a key the template cannot have
//! made: another application's object, a key of an older template, an impossible date.
//! [`KeyTemplate::pieces`] shows the template itself, so readers can plan which key prefixes
//! a set of filters needs.

use super::sanitize::{MAX_EVENT_TYPE_BYTES, MAX_STATUS_BYTES, MAX_TASK_ID_BYTES};
use super::template::{Field, KeyTemplate, Part};
use crate::digest::DIGEST_HEX;
use crate::record::Outcome;

/// One piece of a key template, in order, as readers of the archive walk it
/// ([`KeyTemplate::pieces`]): literal text or a placeholder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Piece<'a> {
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
pub(crate) struct KeyFields {
    /// `{yyyy}/{mm}/{dd}`: the key's date (in `ARCHIVE_UTC_OFFSET`); `None` unless the
    /// template has all three.
    pub(crate) date: Option<chrono::NaiveDate>,
    /// `{hh}`, 0-23.
    pub(crate) hour: Option<u32>,
    /// `{event_type}` as in the key.
    pub(crate) event_type: Option<String>,
    /// `{task_id}` as in the key (sanitized: not always the event's TaskId).
    pub(crate) task_id: Option<String>,
    /// `{status}` as in the key (lowercase).
    pub(crate) status: Option<String>,
    /// `{outcome}`; `None` when the template has none.
    pub(crate) outcome: Option<Outcome>,
    /// `{digest}`: the same callback always has the same digest.
    pub(crate) digest: String,
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
    pub(crate) fn pieces(&self) -> impl Iterator<Item = Piece<'_>> + '_ {
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
    pub(crate) fn is_dated(&self) -> bool {
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
    pub(crate) fn read(&self, prefix: &str, key: &str) -> Option<KeyFields> {
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
    use super::*;
    use crate::key::sanitize::sanitize;
    use crate::key::template::tests::{default_tpl, parts};
    use crate::key::OLD_DEFAULT_TEMPLATE;

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
