//! The filters every reader shares: dates, event types, status, task id and outcome, as
//! the key shows them (the outcome, when the template has no `{outcome}`, as the record
//! says: see [`super::outcome`]).

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};

use crate::key::{
    sanitize, KeyFields, KeyTemplate, MAX_EVENT_TYPE_BYTES, MAX_STATUS_BYTES, MAX_TASK_ID_BYTES,
};
use crate::record::Outcome;

/// Why a set of filters cannot be used; one line, for the command line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FilterError {
    /// A date that is not a real `YYYY-MM-DD` date.
    #[error("invalid date {0:?}: expected YYYY-MM-DD (a real calendar date, e.g. 2026-11-24)")]
    Date(String),
    /// Neither a `YYYY-MM-DD` date nor an RFC 3339 time.
    #[error(
        "invalid date or time {0:?}: expected YYYY-MM-DD or an RFC 3339 time (e.g. 2026-11-24T02:00:00+08:00)"
    )]
    Bound(String),
    /// A `--since` time after the `--until` time.
    #[error("--since {since} is after --until {until}: the range is empty")]
    InvertedTimes {
        /// First instant asked for.
        since: String,
        /// Last instant asked for.
        until: String,
    },
    /// `--since` after `--until`.
    #[error("--since {since} is after --until {until}: the range is empty")]
    Inverted {
        /// First day asked for.
        since: NaiveDate,
        /// Last day asked for.
        until: NaiveDate,
    },
    /// A filter on a field the key template does not contain.
    #[error("{flag} cannot be used: COS_KEY_TEMPLATE has no {placeholder}")]
    NotInTemplate {
        /// The option given.
        flag: &'static str,
        /// The placeholder it needs.
        placeholder: &'static str,
    },
}

/// Parses a `YYYY-MM-DD` date strictly (four-digit year, two-digit month and day).
pub fn parse_date(text: &str) -> Result<NaiveDate, FilterError> {
    let bad = || FilterError::Date(text.to_string());
    let b = text.as_bytes();
    let shaped = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    if !shaped {
        return Err(bad());
    }
    let num = |r: std::ops::Range<usize>| text[r].parse::<u32>().map_err(|_| bad());
    let year = i32::try_from(num(0..4)?).map_err(|_| bad())?;
    NaiveDate::from_ymd_opt(year, num(5..7)?, num(8..10)?).ok_or_else(bad)
}

/// A `--since` or `--until` value: a key date, or an instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bound {
    /// `YYYY-MM-DD`: the date in the key.
    Day(NaiveDate),
    /// An RFC 3339 time: matched against the record's `event_time`, else `received_at`.
    Time(DateTime<FixedOffset>),
}

impl Bound {
    /// Reads `YYYY-MM-DD` or an RFC 3339 time.
    pub fn parse(text: &str) -> Result<Bound, FilterError> {
        if let Ok(d) = parse_date(text) {
            return Ok(Bound::Day(d));
        }
        if text.len() == 10 {
            // Shaped like a date: say what is wrong with it as a date.
            return parse_date(text).map(Bound::Day);
        }
        DateTime::parse_from_rfc3339(text)
            .map(Bound::Time)
            .map_err(|_| FilterError::Bound(text.to_string()))
    }

    /// The key date this bound falls on, keys being dated in `offset`.
    pub(crate) fn day(&self, offset: FixedOffset) -> NaiveDate {
        match self {
            Bound::Day(d) => *d,
            Bound::Time(t) => t.with_timezone(&offset).date_naive(),
        }
    }

    /// The instant, for a time.
    pub(crate) fn time(&self) -> Option<DateTime<Utc>> {
        match self {
            Bound::Day(_) => None,
            Bound::Time(t) => Some(t.with_timezone(&Utc)),
        }
    }
}

/// Which archived callbacks a reader wants. Values are compared with the key's fields, so
/// they are normalized the way keys are written: event types and task ids made safe,
/// statuses lowercased. A task id can be given as the event has it or as the key shows it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filters {
    since: Option<NaiveDate>,
    until: Option<NaiveDate>,
    types: Vec<String>,
    status: Option<String>,
    task: Option<String>,
    outcomes: Vec<Outcome>,
    /// `--since` as an instant: records of the first day are read and held to it.
    since_time: Option<DateTime<Utc>>,
    /// `--until` as an instant: records of the last day are read and held to it.
    until_time: Option<DateTime<Utc>>,
}

impl Filters {
    /// These filters, with `--since` and `--until` given as instants (their days are
    /// already the date bounds): the records of those boundary days are held to them.
    pub(crate) fn with_times(
        mut self,
        since: Option<DateTime<Utc>>,
        until: Option<DateTime<Utc>>,
    ) -> Result<Filters, FilterError> {
        if let (Some(s), Some(u)) = (since, until) {
            if s > u {
                return Err(FilterError::InvertedTimes {
                    since: s.to_rfc3339(),
                    until: u.to_rfc3339(),
                });
            }
        }
        self.since_time = since;
        self.until_time = until;
        Ok(self)
    }

    /// Whether a record whose key is dated `date` must be read to tell whether it is
    /// wanted: it lies on a boundary day of a `--since`/`--until` time.
    pub(crate) fn needs_time(&self, date: Option<NaiveDate>) -> bool {
        let Some(date) = date else { return false };
        (self.since_time.is_some() && self.since == Some(date))
            || (self.until_time.is_some() && self.until == Some(date))
    }

    /// Whether a record of time `t` (its `event_time`, else `received_at`) is within the
    /// `--since`/`--until` times. A record without a readable time is kept: nothing says
    /// it is outside.
    pub(crate) fn time_matches(&self, t: Option<DateTime<Utc>>) -> bool {
        let Some(t) = t else { return true };
        !(self.since_time.is_some_and(|s| t < s) || self.until_time.is_some_and(|u| t > u))
    }

    /// Filters from the command line's values; an inverted date range is an error.
    pub fn new(
        since: Option<NaiveDate>,
        until: Option<NaiveDate>,
        types: &[String],
        status: Option<&str>,
        task: Option<&str>,
    ) -> Result<Filters, FilterError> {
        if let (Some(since), Some(until)) = (since, until) {
            if since > until {
                return Err(FilterError::Inverted { since, until });
            }
        }
        let mut norm_types: Vec<String> = Vec::with_capacity(types.len());
        for t in types {
            let t = sanitize(t, MAX_EVENT_TYPE_BYTES, "unrecognized");
            if !norm_types.contains(&t) {
                norm_types.push(t);
            }
        }
        Ok(Filters {
            since,
            until,
            types: norm_types,
            status: status.map(normalize_status),
            task: task.map(|t| sanitize(t, MAX_TASK_ID_BYTES, "no-task-id")),
            outcomes: Vec::new(),
            since_time: None,
            until_time: None,
        })
    }

    /// The same filters, also wanting only callbacks with one of `outcomes` (none = all).
    pub(crate) fn with_outcomes(mut self, outcomes: &[Outcome]) -> Filters {
        let mut wanted = outcomes.to_vec();
        wanted.sort_unstable();
        wanted.dedup();
        self.outcomes = wanted;
        self
    }

    /// Outcomes wanted, sorted; empty = all.
    pub(crate) fn outcomes(&self) -> &[Outcome] {
        &self.outcomes
    }

    /// Whether a callback that ended with `outcome` is wanted.
    pub(crate) fn wants_outcome(&self, outcome: Outcome) -> bool {
        self.outcomes.is_empty() || self.outcomes.contains(&outcome)
    }

    /// Whether the outcome filter must read records: outcomes are asked for and keys of
    /// `template` do not carry them.
    pub(crate) fn needs_records(&self, template: &KeyTemplate) -> bool {
        !self.outcomes.is_empty() && !template.pieces().any(|p| p == crate::key::Piece::Outcome)
    }

    /// Checks that every filter given can be read from keys of `template`.
    pub(crate) fn check_template(&self, template: &KeyTemplate) -> Result<(), FilterError> {
        use crate::key::Piece;
        let has = |p: Piece<'_>| template.pieces().any(|q| q == p);
        let checks = [
            (
                self.since.is_some() || self.until.is_some(),
                template.is_dated(),
                "--since/--until",
                "{yyyy}/{mm}/{dd}",
            ),
            (
                !self.types.is_empty(),
                has(Piece::EventType),
                "--type",
                "{event_type}",
            ),
            (
                self.status.is_some(),
                has(Piece::Status),
                "--status",
                "{status}",
            ),
            (
                self.task.is_some(),
                has(Piece::TaskId),
                "--task",
                "{task_id}",
            ),
        ];
        for (given, present, flag, placeholder) in checks {
            if given && !present {
                return Err(FilterError::NotInTemplate { flag, placeholder });
            }
        }
        Ok(())
    }

    /// First day wanted (inclusive).
    pub(crate) fn since(&self) -> Option<NaiveDate> {
        self.since
    }

    /// Last day wanted (inclusive).
    pub(crate) fn until(&self) -> Option<NaiveDate> {
        self.until
    }

    /// Whether a date bound is given.
    pub(crate) fn has_dates(&self) -> bool {
        self.since.is_some() || self.until.is_some()
    }

    /// Event types wanted, normalized as keys show them; empty = all.
    pub(crate) fn types(&self) -> &[String] {
        &self.types
    }

    /// Status wanted, as keys show it (lowercase).
    pub(crate) fn status(&self) -> Option<&str> {
        self.status.as_deref()
    }

    /// Task id wanted, as keys show it.
    pub(crate) fn task(&self) -> Option<&str> {
        self.task.as_deref()
    }

    /// Whether the key read as `f` is wanted. A key without an outcome passes the outcome
    /// filter here: its record decides.
    pub(crate) fn matches(&self, f: &KeyFields) -> bool {
        if self.has_dates() {
            let Some(date) = f.date else { return false };
            if self.since.is_some_and(|s| date < s) || self.until.is_some_and(|u| date > u) {
                return false;
            }
        }
        if !self.types.is_empty()
            && !f
                .event_type
                .as_ref()
                .is_some_and(|t| self.types.contains(t))
        {
            return false;
        }
        if self.status.is_some() && f.status != self.status {
            return false;
        }
        if self.task.is_some() && f.task_id != self.task {
            return false;
        }
        if f.outcome.is_some_and(|o| !self.wants_outcome(o)) {
            return false;
        }
        true
    }
}

/// A status as the key template writes it: lowercase, no dots, made safe.
fn normalize_status(status: &str) -> String {
    sanitize(
        &status.to_ascii_lowercase().replace('.', "_"),
        MAX_STATUS_BYTES,
        "unknown",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn key(date: NaiveDate, ty: &str, task: &str, status: &str) -> KeyFields {
        KeyFields {
            date: Some(date),
            hour: None,
            event_type: Some(ty.into()),
            task_id: Some(task.into()),
            status: Some(status.into()),
            outcome: Some(Outcome::Ok),
            digest: "0123456789abcdef".into(),
        }
    }

    #[test]
    fn bounds_are_days_or_rfc3339_times_dated_in_the_key_offset() {
        let east = FixedOffset::east_opt(8 * 3600).unwrap();
        assert_eq!(Bound::parse("2026-11-24"), Ok(Bound::Day(d(2026, 11, 24))));
        let b = Bound::parse("2026-11-24T02:00:00+08:00").unwrap();
        assert_eq!(b.day(east), d(2026, 11, 24));
        assert_eq!(b.day(FixedOffset::east_opt(0).unwrap()), d(2026, 11, 23));
        assert_eq!(
            b.time().map(|t| t.to_rfc3339()),
            Some("2026-11-23T18:00:00+00:00".to_string())
        );
        assert!(matches!(
            Bound::parse("2026-02-30"),
            Err(FilterError::Date(_))
        ));
        for bad in ["2026-11-24T25:00:00Z", "2026-11-24 02:00", "yesterday"] {
            assert!(
                matches!(Bound::parse(bad), Err(FilterError::Bound(_))),
                "{bad}"
            );
        }
        let t = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
        let f = Filters::new(
            Some(d(2026, 11, 23)),
            Some(d(2026, 11, 25)),
            &[],
            None,
            None,
        )
        .unwrap()
        .with_times(Some(t("2026-11-23T10:00:00Z")), None)
        .unwrap();
        assert!(f.needs_time(Some(d(2026, 11, 23))));
        assert!(!f.needs_time(Some(d(2026, 11, 24))) && !f.needs_time(Some(d(2026, 11, 25))));
        assert!(f.time_matches(Some(t("2026-11-23T10:00:00Z"))));
        assert!(!f.time_matches(Some(t("2026-11-23T09:59:59Z"))));
        assert!(f.time_matches(None));
    }

    #[test]
    fn dates_are_strict() {
        assert_eq!(parse_date("2026-11-24"), Ok(d(2026, 11, 24)));
        assert_eq!(parse_date("2024-02-29"), Ok(d(2024, 2, 29)));
        for bad in [
            "2026-11-31",
            "2026-13-01",
            "2025-02-29",
            "2026-1-24",
            "26-11-24",
            "2026/11/24",
            "2026-11-24T00:00:00Z",
            " 2026-11-24",
            "",
            "yesterday",
            "２０２６-11-24",
        ] {
            let e = parse_date(bad).unwrap_err().to_string();
            assert!(
                e.contains("YYYY-MM-DD") && !e.contains('\n'),
                "{bad:?}: {e}"
            );
        }
    }

    #[test]
    fn an_inverted_range_is_an_error() {
        let e = Filters::new(
            Some(d(2026, 11, 25)),
            Some(d(2026, 11, 24)),
            &[],
            None,
            None,
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "--since 2026-11-25 is after --until 2026-11-24: the range is empty"
        );
        Filters::new(
            Some(d(2026, 11, 24)),
            Some(d(2026, 11, 24)),
            &[],
            None,
            None,
        )
        .unwrap();
    }

    #[test]
    fn matching_compares_normalized_values() {
        let f = Filters::new(
            Some(d(2026, 11, 1)),
            Some(d(2026, 11, 30)),
            &["WorkflowTask".into(), "WorkflowTask".into()],
            Some("FINISH"),
            Some("任务 1"),
        )
        .unwrap();
        assert_eq!(f.types(), ["WorkflowTask".to_string()]);
        assert_eq!(f.task(), Some("___1"));
        let good = key(d(2026, 11, 1), "WorkflowTask", "___1", "finish");
        assert!(f.matches(&good));
        for bad in [
            key(d(2026, 10, 31), "WorkflowTask", "___1", "finish"),
            key(d(2026, 12, 1), "WorkflowTask", "___1", "finish"),
            key(d(2026, 11, 2), "EditMediaTask", "___1", "finish"),
            key(d(2026, 11, 2), "WorkflowTask", "___1", "processing"),
            key(d(2026, 11, 2), "WorkflowTask", "___2", "finish"),
        ] {
            assert!(!f.matches(&bad), "{bad:?}");
        }
        assert!(Filters::default().matches(&good));
    }

    #[test]
    fn outcomes_match_the_key_or_wait_for_the_record() {
        let f =
            Filters::default().with_outcomes(&[Outcome::Partial, Outcome::Failed, Outcome::Failed]);
        assert_eq!(f.outcomes(), [Outcome::Failed, Outcome::Partial]);
        let mut k = key(d(2026, 11, 1), "WorkflowTask", "t", "finish");
        assert!(!f.matches(&k), "ok is not wanted");
        k.outcome = Some(Outcome::Partial);
        assert!(f.matches(&k));
        k.outcome = None;
        assert!(f.matches(&k), "the record decides");
        assert!(Filters::default().wants_outcome(Outcome::Unknown));
        let old = KeyTemplate::parse(crate::key::OLD_DEFAULT_TEMPLATE).unwrap();
        let new = KeyTemplate::parse(crate::key::DEFAULT_TEMPLATE).unwrap();
        assert!(f.needs_records(&old) && !f.needs_records(&new));
        assert!(!Filters::default().needs_records(&old));
        // Any template can be filtered on outcome: no placeholder is required.
        f.check_template(&old).unwrap();
    }

    #[test]
    fn filters_need_their_placeholder() {
        let tpl = KeyTemplate::parse("{prefix}{event_type}/{digest}.json").unwrap();
        let f = Filters::new(None, Some(d(2026, 1, 1)), &[], None, None).unwrap();
        assert_eq!(
            f.check_template(&tpl).unwrap_err().to_string(),
            "--since/--until cannot be used: COS_KEY_TEMPLATE has no {yyyy}/{mm}/{dd}"
        );
        let f = Filters::new(None, None, &[], Some("finish"), None).unwrap();
        assert!(f.check_template(&tpl).is_err());
        let f = Filters::new(None, None, &["A".into()], None, None).unwrap();
        f.check_template(&tpl).unwrap();
    }
}
