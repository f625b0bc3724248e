//! The prefix plan: which listings a set of filters needs, given the key template.
//!
//! The plan walks the template's pieces left to right, building a key prefix from what the
//! filters fix, and ends each branch with a listing of everything under its prefix:
//!
//! - `{prefix}` and literal text are copied.
//! - `{event_type}`: one branch per `--type`. Without `--type` the event-type folders are
//!   found with one delimiter listing (when the type is a whole path segment), so no listing
//!   ever spans the whole bucket.
//! - Dates (`{yyyy}`, then `{mm}`, then `{dd}`): one branch per year, month or day the
//!   range touches. A year or month the range covers entirely ends the branch there (one
//!   listing for the whole month: cheaper than one per day, and it returns nothing the
//!   range does not want); a month covered in part gets one prefix per day. An open range
//!   (`--since` or `--until` alone) finds its years with a delimiter listing. So one day of
//!   one type is exactly one prefix, e.g. `mps-events/WorkflowTask/2026/11/24/`.
//! - `{task_id}` and `{status}`: copied when filtered on (sanitized as keys are).
//! - `{outcome}`: one branch per `--outcome` when filtered on.
//! - Anything else (`{hh}`, `{digest}`, an unfiltered field) ends the branch.
//!
//! Every key a listing returns is still read through the template and filtered, so the plan
//! only decides how much is listed, never what is shown.

use chrono::{Datelike, NaiveDate};

use super::filters::Filters;
use crate::key::{KeyTemplate, Piece};

/// One thing to ask the source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Step {
    /// List every object under this prefix (no delimiter). The date, when known, is a
    /// lower bound of every key date under the prefix (the first day of the year, month
    /// or day it fixes), so a reader going through dates in order need not open the
    /// listing before then.
    List(String, Option<NaiveDate>),
    /// List the folders directly under [`Walk::prefix`] (delimiter `/`), then hand the
    /// folders found to [`Plan::resume`] with this walk.
    Discover(Walk),
}

/// Where a branch of the plan stands: the prefix so far and the next piece.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Walk {
    acc: String,
    part: usize,
    year: Option<i32>,
    month: Option<u32>,
    day: Option<u32>,
    /// Every date below this prefix is in range: date pieces need no further branching.
    dates_done: bool,
}

impl Walk {
    /// The prefix to list folders under.
    pub(crate) fn prefix(&self) -> &str {
        &self.acc
    }
}

/// The inclusive date range asked for; open ends are the calendar's ends.
#[derive(Debug, Clone, Copy)]
struct Range {
    lo: NaiveDate,
    hi: NaiveDate,
    open: bool,
}

/// Years a closed range may enumerate without asking the source which exist.
const MAX_ENUMERATED_YEARS: i32 = 50;

/// A plan for one set of filters over one key layout.
#[derive(Debug)]
pub(crate) struct Plan<'a> {
    pieces: Vec<Piece<'a>>,
    prefix: &'a str,
    filters: &'a Filters,
    range: Option<Range>,
}

impl<'a> Plan<'a> {
    /// The plan for `filters` over keys made by `template` with `prefix`.
    pub(crate) fn new(
        template: &'a KeyTemplate,
        prefix: &'a str,
        filters: &'a Filters,
    ) -> Plan<'a> {
        let range = filters.has_dates().then(|| Range {
            lo: filters.since().unwrap_or(NaiveDate::MIN),
            hi: filters.until().unwrap_or(NaiveDate::MAX),
            open: filters.since().is_none() || filters.until().is_none(),
        });
        Plan {
            pieces: template.pieces().collect(),
            prefix,
            filters,
            range,
        }
    }

    /// The first steps.
    pub(crate) fn start(&self) -> Vec<Step> {
        let mut out = Vec::new();
        self.advance(
            Walk {
                acc: String::new(),
                part: 0,
                year: None,
                month: None,
                day: None,
                dates_done: false,
            },
            &mut out,
        );
        out
    }

    /// The steps after a [`Step::Discover`] of `walk` found `folders` (common prefixes,
    /// each `walk.prefix() + value + "/"`). Folders whose value the field cannot hold or the
    /// filters do not want are dropped.
    pub(crate) fn resume(&self, walk: &Walk, folders: &[String]) -> Vec<Step> {
        let mut out = Vec::new();
        let piece = self.pieces.get(walk.part).copied();
        for folder in folders {
            let Some(value) = folder
                .strip_prefix(walk.acc.as_str())
                .and_then(|v| v.strip_suffix('/'))
            else {
                continue;
            };
            match piece {
                Some(Piece::EventType) if is_safe_segment(value) => {
                    self.advance(walk.with(value, walk.part + 1), &mut out);
                }
                Some(Piece::Year) => {
                    if let Some(y) = parse_year(value) {
                        self.year(walk.clone(), y, &mut out);
                    }
                }
                _ => {}
            }
        }
        out
    }

    /// The folder under which each event type has its own folder (`mps-events/` by
    /// default), when the template starts that way; used to tell which types exist.
    pub(crate) fn types_root(&self) -> Option<String> {
        let mut acc = String::new();
        for (i, p) in self.pieces.iter().enumerate() {
            match p {
                Piece::Literal(l) => acc.push_str(l),
                Piece::Prefix => acc.push_str(self.prefix),
                Piece::EventType => return self.whole_segment(&acc, i).then_some(acc),
                _ => return None,
            }
        }
        None
    }

    /// Whether the field at `part` fills a whole path segment after `acc`, so that a
    /// delimiter listing of `acc` finds its values.
    fn whole_segment(&self, acc: &str, part: usize) -> bool {
        (acc.is_empty() || acc.ends_with('/'))
            && matches!(self.pieces.get(part + 1), Some(Piece::Literal(l)) if l.starts_with('/'))
    }

    fn advance(&self, mut w: Walk, out: &mut Vec<Step>) {
        while let Some(piece) = self.pieces.get(w.part).copied() {
            match piece {
                Piece::Literal(l) => w.acc.push_str(l),
                Piece::Prefix => w.acc.push_str(self.prefix),
                Piece::EventType => {
                    let types = self.filters.types();
                    if !types.is_empty() {
                        for t in types {
                            self.advance(w.with(t, w.part + 1), out);
                        }
                    } else if self.whole_segment(&w.acc, w.part) {
                        out.push(Step::Discover(w));
                    } else {
                        out.push(w.list());
                    }
                    return;
                }
                Piece::TaskId | Piece::Status => {
                    let value = if piece == Piece::TaskId {
                        self.filters.task()
                    } else {
                        self.filters.status()
                    };
                    match value {
                        Some(v) => w.acc.push_str(v),
                        None => return out.push(w.list()),
                    }
                }
                Piece::Year => {
                    if let Some(y) = w.year {
                        w.acc.push_str(&format!("{y:04}"));
                    } else {
                        match self.range {
                            Some(r) if !w.dates_done => {
                                if !r.open && r.hi.year() - r.lo.year() < MAX_ENUMERATED_YEARS {
                                    for y in r.lo.year()..=r.hi.year() {
                                        self.year(w.clone(), y, out);
                                    }
                                } else if self.whole_segment(&w.acc, w.part) {
                                    out.push(Step::Discover(w));
                                } else {
                                    out.push(w.list());
                                }
                                return;
                            }
                            _ => return out.push(w.list()),
                        }
                    }
                }
                Piece::Month => match (w.month, w.year, self.range) {
                    (Some(m), _, _) => w.acc.push_str(&format!("{m:02}")),
                    (None, Some(y), Some(r)) if !w.dates_done => {
                        for m in 1..=12 {
                            let (Some(first), Some(last)) = (first_of(y, m), last_of(y, m)) else {
                                continue;
                            };
                            if last < r.lo || first > r.hi {
                                continue;
                            }
                            let mut next = w.with(&format!("{m:02}"), w.part + 1);
                            next.month = Some(m);
                            next.dates_done = first >= r.lo && last <= r.hi;
                            self.advance(next, out);
                        }
                        return;
                    }
                    _ => return out.push(w.list()),
                },
                Piece::Day => match (w.day, w.year, w.month, self.range) {
                    (Some(d), _, _, _) => w.acc.push_str(&format!("{d:02}")),
                    (None, Some(y), Some(m), Some(r)) if !w.dates_done => {
                        for d in 1..=31 {
                            let Some(date) = NaiveDate::from_ymd_opt(y, m, d) else {
                                continue;
                            };
                            if date < r.lo || date > r.hi {
                                continue;
                            }
                            let mut next = w.with(&format!("{d:02}"), w.part + 1);
                            next.day = Some(d);
                            next.dates_done = true;
                            self.advance(next, out);
                        }
                        return;
                    }
                    _ => return out.push(w.list()),
                },
                Piece::Outcome => {
                    let outcomes = self.filters.outcomes();
                    if outcomes.is_empty() {
                        return out.push(w.list());
                    }
                    for o in outcomes {
                        self.advance(w.with(o.as_str(), w.part + 1), out);
                    }
                    return;
                }
                Piece::Hour | Piece::Digest => return out.push(w.list()),
            }
            w.part += 1;
        }
        out.push(w.list());
    }

    /// Continues `w` (standing at a `{yyyy}` piece) with year `y`, if the range wants it.
    fn year(&self, w: Walk, y: i32, out: &mut Vec<Step>) {
        let Some(r) = self.range else { return };
        let (Some(first), Some(last)) = (first_of(y, 1), last_of(y, 12)) else {
            return;
        };
        if last < r.lo || first > r.hi {
            return;
        }
        let mut next = w.with(&format!("{y:04}"), w.part + 1);
        next.year = Some(y);
        next.dates_done = first >= r.lo && last <= r.hi;
        self.advance(next, out);
    }
}

impl Walk {
    /// The listing of everything under this walk's prefix.
    fn list(self) -> Step {
        let from = self.year.and_then(|y| {
            NaiveDate::from_ymd_opt(y, self.month.unwrap_or(1), self.day.unwrap_or(1))
        });
        Step::List(self.acc, from)
    }

    fn with(&self, value: &str, part: usize) -> Walk {
        let mut w = self.clone();
        w.acc.push_str(value);
        w.part = part;
        w
    }
}

fn first_of(y: i32, m: u32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(y, m, 1)
}

fn last_of(y: i32, m: u32) -> Option<NaiveDate> {
    let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
    NaiveDate::from_ymd_opt(ny, nm, 1)?.pred_opt()
}

fn parse_year(s: &str) -> Option<i32> {
    (s.len() == 4 && s.bytes().all(|b| b.is_ascii_digit()))
        .then(|| s.parse().ok())
        .flatten()
}

/// A folder name a key template could have written for an event type.
fn is_safe_segment(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::key::DEFAULT_TEMPLATE;

    fn d(s: &str) -> Option<NaiveDate> {
        Some(super::super::filters::parse_date(s).unwrap())
    }

    fn lists(steps: &[Step]) -> Vec<String> {
        steps
            .iter()
            .filter_map(|s| match s {
                Step::List(p, _) => Some(p.clone()),
                Step::Discover(_) => None,
            })
            .collect()
    }

    fn tpl() -> KeyTemplate {
        KeyTemplate::parse(DEFAULT_TEMPLATE).unwrap()
    }

    fn filters(
        since: &str,
        until: &str,
        types: &[&str],
        status: Option<&str>,
        task: Option<&str>,
    ) -> Filters {
        let types: Vec<String> = types.iter().map(|t| t.to_string()).collect();
        let opt = |s: &str| if s.is_empty() { None } else { d(s) };
        Filters::new(opt(since), opt(until), &types, status, task).unwrap()
    }

    #[test]
    fn one_day_of_one_type_is_one_prefix() {
        let t = tpl();
        let f = filters("2026-11-24", "2026-11-24", &["WorkflowTask"], None, None);
        let steps = Plan::new(&t, "mps-events/", &f).start();
        assert_eq!(
            steps,
            vec![Step::List(
                "mps-events/WorkflowTask/2026/11/24/".into(),
                d("2026-11-24")
            )]
        );
        // Task and status narrow it further.
        let f = filters(
            "2026-11-24",
            "2026-11-24",
            &["WorkflowTask"],
            Some("FINISH"),
            Some("t 1"),
        );
        assert_eq!(
            lists(&Plan::new(&t, "mps-events/", &f).start()),
            vec!["mps-events/WorkflowTask/2026/11/24/t_1.finish.".to_string()]
        );
    }

    #[test]
    fn outcomes_branch_once_the_key_reaches_them() {
        use crate::record::Outcome;
        let t = tpl();
        let f = filters(
            "2026-11-24",
            "2026-11-24",
            &["WorkflowTask"],
            Some("finish"),
            Some("t1"),
        )
        .with_outcomes(&[Outcome::Partial, Outcome::Failed]);
        assert_eq!(
            lists(&Plan::new(&t, "mps-events/", &f).start()),
            vec![
                "mps-events/WorkflowTask/2026/11/24/t1.finish.failed.".to_string(),
                "mps-events/WorkflowTask/2026/11/24/t1.finish.partial.".to_string(),
            ]
        );
        // Before {outcome}, an unfiltered task id ends the prefix: one listing, as without.
        let f = filters("2026-11-24", "2026-11-24", &["WorkflowTask"], None, None)
            .with_outcomes(&[Outcome::Failed]);
        assert_eq!(
            lists(&Plan::new(&t, "mps-events/", &f).start()),
            vec!["mps-events/WorkflowTask/2026/11/24/".to_string()]
        );
    }

    #[test]
    fn without_type_the_folders_are_discovered_first() {
        let t = tpl();
        let f = filters("2026-11-24", "2026-11-24", &[], None, None);
        let plan = Plan::new(&t, "mps-events/", &f);
        let steps = plan.start();
        let [Step::Discover(w)] = steps.as_slice() else {
            panic!("{steps:?}")
        };
        assert_eq!(w.prefix(), "mps-events/");
        let next = plan.resume(
            w,
            &[
                "mps-events/EditMediaTask/".into(),
                "mps-events/WorkflowTask/".into(),
                "mps-events/bad folder/".into(),
                "elsewhere/X/".into(),
            ],
        );
        assert_eq!(
            lists(&next),
            vec![
                "mps-events/EditMediaTask/2026/11/24/".to_string(),
                "mps-events/WorkflowTask/2026/11/24/".to_string()
            ]
        );
        assert_eq!(plan.types_root().as_deref(), Some("mps-events/"));
    }

    #[test]
    fn whole_months_and_years_are_one_prefix_each_partial_months_one_per_day() {
        let t = tpl();
        let f = filters("2025-12-30", "2027-02-02", &["A"], None, None);
        let got = lists(&Plan::new(&t, "p/", &f).start());
        let want: Vec<String> = [
            "p/A/2025/12/30/",
            "p/A/2025/12/31/",
            "p/A/2026/",
            "p/A/2027/01/",
            "p/A/2027/02/01/",
            "p/A/2027/02/02/",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        assert_eq!(got, want);
        // A whole month, across types.
        let f = filters("2024-02-01", "2024-02-29", &["A", "B"], None, None);
        assert_eq!(
            lists(&Plan::new(&t, "p/", &f).start()),
            vec!["p/A/2024/02/".to_string(), "p/B/2024/02/".to_string()]
        );
    }

    #[test]
    fn open_ranges_discover_their_years() {
        let t = tpl();
        let f = filters("2026-11-29", "", &["A"], None, None);
        let plan = Plan::new(&t, "p/", &f);
        let steps = plan.start();
        let [Step::Discover(w)] = steps.as_slice() else {
            panic!("{steps:?}")
        };
        assert_eq!(w.prefix(), "p/A/");
        let next = plan.resume(
            w,
            &[
                "p/A/2025/".into(),
                "p/A/2026/".into(),
                "p/A/2027/".into(),
                "p/A/x/".into(),
            ],
        );
        assert_eq!(
            lists(&next),
            vec![
                "p/A/2026/11/29/".to_string(),
                "p/A/2026/11/30/".to_string(),
                "p/A/2026/12/".to_string(),
                "p/A/2027/".to_string(),
            ]
        );
    }

    #[test]
    fn without_filters_each_type_folder_is_listed_whole() {
        let t = tpl();
        let f = Filters::default();
        let plan = Plan::new(&t, "mps-events/", &f);
        let steps = plan.start();
        let [Step::Discover(w)] = steps.as_slice() else {
            panic!("{steps:?}")
        };
        assert_eq!(
            lists(&plan.resume(w, &["mps-events/A/".into()])),
            vec!["mps-events/A/".to_string()]
        );
    }

    #[test]
    fn unusual_templates_fall_back_to_wider_prefixes() {
        // Type after the date, hour in the path.
        let t = KeyTemplate::parse("{prefix}{yyyy}{mm}{dd}/{hh}/{event_type}-{digest}").unwrap();
        let f = filters("2026-11-24", "2026-11-25", &["A"], None, None);
        assert_eq!(
            lists(&Plan::new(&t, "x/", &f).start()),
            vec!["x/20261124/".to_string(), "x/20261125/".to_string()]
        );
        let plan = Plan::new(&t, "x/", &f);
        assert_eq!(plan.types_root(), None);
        // Day before month: no date branching, everything under the prefix is read.
        let t = KeyTemplate::parse("{prefix}{dd}/{mm}/{yyyy}/{digest}").unwrap();
        assert_eq!(
            lists(&Plan::new(&t, "x/", &f).start()),
            vec!["x/".to_string()]
        );
        // Type not a whole segment: cannot be discovered, so the prefix is listed.
        let t = KeyTemplate::parse("{prefix}t-{event_type}/{digest}").unwrap();
        let f = Filters::default();
        assert_eq!(
            Plan::new(&t, "x/", &f).start(),
            vec![Step::List("x/t-".into(), None)]
        );
    }
}
