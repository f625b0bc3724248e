//! The read side: find archived callbacks by date, type, status, task and outcome, read
//! them back, count them.
//!
//! Everything here is pure except the [`Source`] (a bucket or its local mirror):
//! [`plan`] decides which prefixes a set of [`Filters`] needs, [`find`] runs the plan
//! against a source, reads each key back through the template
//! ([`crate::layout::KeyTemplate::read`]), drops what the filters do not want, lists each
//! digest once and orders the rest by date then key; [`stats`] counts what was found.
//! [`record`] reads a stored record without re-serializing its event; [`replay`] orders
//! records for sending and bounds how many are in flight; [`outcome`] reads the outcome
//! from the records when the keys do not carry it. The sources: [`LocalSource`]
//! (the mirror `invoke` writes) and [`CosSource`] (GET Bucket, GET Object).

pub mod cos;
pub mod filters;
pub mod local;
pub mod outcome;
pub mod plan;
pub mod record;
pub mod replay;
pub mod source;

use std::collections::{BTreeMap, HashSet};

use chrono::{DateTime, NaiveDate, Utc};

pub use cos::CosSource;
pub use filters::{parse_date, FilterError, Filters};
pub use local::LocalSource;
pub use source::{Entry, Listing, Source, SourceError};

use crate::layout::{KeyFields, KeyTemplate};
use crate::record::Outcome;
use plan::{Plan, Step};

/// How keys are laid out: `COS_KEY_PREFIX` and `COS_KEY_TEMPLATE`.
#[derive(Debug, Clone)]
pub struct KeyLayout {
    /// `COS_KEY_PREFIX`.
    pub prefix: String,
    /// `COS_KEY_TEMPLATE`.
    pub template: KeyTemplate,
}

/// One archived callback found by [`find`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// Object key.
    pub key: String,
    /// What the key says.
    pub fields: KeyFields,
    /// Object size in bytes.
    pub size: u64,
    /// When the object was last written, when the source says.
    pub last_modified: Option<DateTime<Utc>>,
}

/// What a search found, and what it passed over.
#[derive(Debug, Clone, Default)]
pub struct Findings {
    /// Callbacks wanted, one per digest, by date then key.
    pub found: Vec<Found>,
    /// Keys under the listed prefixes that the template cannot read (another
    /// application's objects, an older layout); skipped.
    pub unreadable: u64,
    /// Keys left out because an earlier key has the same digest (a callback redelivered
    /// across midnight is stored under two dates).
    pub duplicates: u64,
    /// Listings asked for (delimiter and full ones).
    pub listings: u64,
    /// Requests the listings took (pages).
    pub requests: u64,
    /// `--type` values with no folder in the archive (only known when the template puts
    /// the type in its own folder).
    pub unknown_types: Vec<String>,
    /// The event types the archive holds, when some `--type` matched no folder.
    pub held_types: Vec<String>,
    /// Records read to learn their outcome (an outcome filter over keys without one).
    pub records_read: u64,
    /// Records left out because their outcome could not be read from them.
    pub unreadable_records: u64,
}

/// Listings asked for at once: the plan's prefixes are independent, and a range of days
/// is many small requests whose latency adds up when asked one by one.
const LISTINGS_AT_ONCE: usize = 8;

/// Finds the archived callbacks `filters` wants, asking `source` only for the prefixes
/// they need (up to eight listings at a time).
pub async fn find<S: Source>(
    source: &S,
    layout: &KeyLayout,
    filters: &Filters,
) -> Result<Findings, SourceError> {
    let plan = Plan::new(&layout.template, &layout.prefix, filters);
    let mut out = Findings::default();
    let mut by_key: BTreeMap<String, Found> = BTreeMap::new();
    let mut steps = plan.start();
    // Each round runs every step known so far; discoveries add the next round's steps.
    while !steps.is_empty() {
        let round = std::mem::take(&mut steps);
        let mut first_error = None;
        let asks = round.into_iter().map(|step| async move {
            let listing = match &step {
                Step::Discover(walk) => source.list(walk.prefix(), Some('/')).await,
                Step::List(prefix) => source.list(prefix, None).await,
            };
            (step, listing)
        });
        replay::bounded(asks, LISTINGS_AT_ONCE, |(step, listing)| {
            let listing = match listing {
                Ok(l) => l,
                Err(e) => {
                    first_error.get_or_insert(e);
                    return;
                }
            };
            out.listings += 1;
            out.requests += listing.requests;
            match step {
                Step::Discover(walk) => steps.extend(plan.resume(&walk, &listing.folders)),
                Step::List(_) => {
                    for e in listing.entries {
                        match layout.template.read(&layout.prefix, &e.key) {
                            None => out.unreadable += 1,
                            Some(fields) if filters.matches(&fields) => {
                                by_key.insert(
                                    e.key.clone(),
                                    Found {
                                        key: e.key,
                                        fields,
                                        size: e.size,
                                        last_modified: e.last_modified,
                                    },
                                );
                            }
                            Some(_) => {}
                        }
                    }
                }
            }
        })
        .await;
        if let Some(e) = first_error {
            return Err(e);
        }
    }
    let (found, duplicates) = dedupe(by_key.into_values().collect());
    out.found = found;
    out.duplicates = duplicates;
    if filters.needs_records(&layout.template) {
        let resolved = outcome::resolve(source, std::mem::take(&mut out.found), filters).await?;
        out.found = resolved.found;
        out.records_read = resolved.read;
        out.unreadable_records = resolved.unreadable;
    }
    if !filters.types().is_empty() {
        check_types(source, &plan, filters, &mut out).await?;
    }
    Ok(out)
}

/// When a `--type` found nothing, asks once which event-type folders exist, so the
/// caller can say so: a type that matches no folder is a likely typo, not an error.
async fn check_types<S: Source>(
    source: &S,
    plan: &Plan<'_>,
    filters: &Filters,
    out: &mut Findings,
) -> Result<(), SourceError> {
    let seen: HashSet<&str> = out
        .found
        .iter()
        .filter_map(|f| f.fields.event_type.as_deref())
        .collect();
    if filters.types().iter().all(|t| seen.contains(t.as_str())) {
        return Ok(());
    }
    let Some(root) = plan.types_root() else {
        return Ok(());
    };
    let listing = source.list(&root, Some('/')).await?;
    out.listings += 1;
    out.requests += listing.requests;
    let held: Vec<String> = listing
        .folders
        .iter()
        .filter_map(|f| f.strip_prefix(root.as_str())?.strip_suffix('/'))
        .map(str::to_string)
        .collect();
    out.unknown_types = filters
        .types()
        .iter()
        .filter(|t| !held.contains(t))
        .cloned()
        .collect();
    if !out.unknown_types.is_empty() {
        out.held_types = held;
    }
    Ok(())
}

/// Orders `found` by date then key and keeps the first key of each digest; returns the
/// kept ones and how many were dropped.
pub fn dedupe(mut found: Vec<Found>) -> (Vec<Found>, u64) {
    found.sort_by(|a, b| (a.fields.date, &a.key).cmp(&(b.fields.date, &b.key)));
    let mut seen = HashSet::with_capacity(found.len());
    let before = found.len();
    found.retain(|f| seen.insert(f.fields.digest.clone()));
    let dropped = (before - found.len()) as u64;
    (found, dropped)
}

/// One line of [`stats`]: how many callbacks of one type, status and outcome one day holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatRow {
    /// Key date (`None` when the template has no date).
    pub date: Option<NaiveDate>,
    /// Event type as in the key (`None` when the template has none).
    pub event_type: Option<String>,
    /// Status as in the key (`None` when the template has none).
    pub status: Option<String>,
    /// Outcome as in the key, or as read from the record (`None` when neither says).
    pub outcome: Option<Outcome>,
    /// Callbacks.
    pub count: u64,
}

/// Counts `found` per date, event type, status and outcome, in that order.
pub fn stats(found: &[Found]) -> Vec<StatRow> {
    type Group<'a> = (
        Option<NaiveDate>,
        Option<&'a str>,
        Option<&'a str>,
        Option<Outcome>,
    );
    let mut counts: BTreeMap<Group<'_>, u64> = BTreeMap::new();
    for f in found {
        let k = (
            f.fields.date,
            f.fields.event_type.as_deref(),
            f.fields.status.as_deref(),
            f.fields.outcome,
        );
        *counts.entry(k).or_default() += 1;
    }
    counts
        .into_iter()
        .map(|((date, t, s, outcome), count)| StatRow {
            date,
            event_type: t.map(str::to_string),
            status: s.map(str::to_string),
            outcome,
            count,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::DEFAULT_TEMPLATE;
    use std::sync::Mutex;

    /// An in-memory bucket that records every listing asked for.
    struct Mem {
        keys: Vec<String>,
        asked: Mutex<Vec<(String, Option<char>)>>,
    }

    impl Mem {
        fn new(keys: &[&str]) -> Mem {
            let mut keys: Vec<String> = keys.iter().map(|k| k.to_string()).collect();
            keys.sort();
            Mem {
                keys,
                asked: Mutex::new(Vec::new()),
            }
        }
        fn asked(&self) -> Vec<(String, Option<char>)> {
            self.asked.lock().unwrap().clone()
        }
    }

    impl Source for Mem {
        fn location(&self) -> &str {
            "memory"
        }
        async fn list(&self, prefix: &str, delim: Option<char>) -> Result<Listing, SourceError> {
            self.asked.lock().unwrap().push((prefix.to_string(), delim));
            let entries = self
                .keys
                .iter()
                .filter(|k| k.starts_with(prefix))
                .map(|k| Entry {
                    key: k.clone(),
                    size: k.len() as u64,
                    last_modified: None,
                })
                .collect();
            Ok(source::roll_up(prefix, entries, delim))
        }
        async fn get(&self, key: &str) -> Result<bytes::Bytes, SourceError> {
            Err(SourceError::NotFound {
                key: key.into(),
                location: "memory".into(),
            })
        }
    }

    fn layout() -> KeyLayout {
        KeyLayout {
            prefix: "mps-events/".into(),
            template: KeyTemplate::parse(DEFAULT_TEMPLATE).unwrap(),
        }
    }

    const D1: &str = "00000000000000d1";
    const D2: &str = "00000000000000d2";
    const D3: &str = "00000000000000d3";

    fn bucket() -> Mem {
        Mem::new(&[
            &format!("mps-events/WorkflowTask/2026/11/24/t1.finish.ok.{D1}.json"),
            // The same callback redelivered after midnight.
            &format!("mps-events/WorkflowTask/2026/11/25/t1.finish.ok.{D1}.json"),
            &format!("mps-events/WorkflowTask/2026/11/24/t2.processing.running.{D2}.json"),
            &format!("mps-events/EditMediaTask/2026/11/25/e1.finish.failed.{D3}.json"),
            "mps-events/WorkflowTask/2026/11/24/notes.txt",
            "other-app/WorkflowTask/2026/11/24/x.json",
        ])
    }

    fn keys(f: &Findings) -> Vec<&str> {
        f.found.iter().map(|x| x.key.as_str()).collect()
    }

    fn day(s: &str) -> Option<NaiveDate> {
        Some(parse_date(s).unwrap())
    }

    #[tokio::test]
    async fn one_day_of_one_type_is_one_listing() {
        let src = bucket();
        let f = Filters::new(
            day("2026-11-24"),
            day("2026-11-24"),
            &["WorkflowTask".into()],
            None,
            None,
        )
        .unwrap();
        let got = find(&src, &layout(), &f).await.unwrap();
        assert_eq!(
            keys(&got),
            [
                format!("mps-events/WorkflowTask/2026/11/24/t1.finish.ok.{D1}.json"),
                format!("mps-events/WorkflowTask/2026/11/24/t2.processing.running.{D2}.json"),
            ]
        );
        assert_eq!(got.unreadable, 1);
        assert_eq!(
            src.asked(),
            [("mps-events/WorkflowTask/2026/11/24/".to_string(), None)]
        );
    }

    #[tokio::test]
    async fn a_digest_is_listed_once_under_its_first_date() {
        let src = bucket();
        let got = find(&src, &layout(), &Filters::default()).await.unwrap();
        assert_eq!(got.duplicates, 1);
        assert_eq!(
            keys(&got),
            [
                format!("mps-events/WorkflowTask/2026/11/24/t1.finish.ok.{D1}.json"),
                format!("mps-events/WorkflowTask/2026/11/24/t2.processing.running.{D2}.json"),
                format!("mps-events/EditMediaTask/2026/11/25/e1.finish.failed.{D3}.json"),
            ],
            "by date, then key"
        );
        assert_eq!(
            src.asked(),
            [
                ("mps-events/".to_string(), Some('/')),
                ("mps-events/EditMediaTask/".to_string(), None),
                ("mps-events/WorkflowTask/".to_string(), None),
            ]
        );
        // Asking for the second day alone shows the redelivered copy.
        let f = Filters::new(day("2026-11-25"), None, &[], None, None).unwrap();
        let got = find(&bucket(), &layout(), &f).await.unwrap();
        assert_eq!(got.found.len(), 2);
        assert_eq!(got.duplicates, 0);
    }

    #[tokio::test]
    async fn status_and_task_filters() {
        let f = Filters::new(None, None, &[], Some("PROCESSING"), None).unwrap();
        let got = find(&bucket(), &layout(), &f).await.unwrap();
        assert_eq!(
            keys(&got),
            [format!(
                "mps-events/WorkflowTask/2026/11/24/t2.processing.running.{D2}.json"
            )]
        );
        let f = Filters::new(None, None, &[], None, Some("e1")).unwrap();
        let got = find(&bucket(), &layout(), &f).await.unwrap();
        assert_eq!(got.found.len(), 1);
    }

    #[tokio::test]
    async fn outcomes_are_filtered_on_the_key() {
        let f = Filters::default().with_outcomes(&[Outcome::Failed, Outcome::Running]);
        let got = find(&bucket(), &layout(), &f).await.unwrap();
        assert_eq!(
            keys(&got),
            [
                format!("mps-events/WorkflowTask/2026/11/24/t2.processing.running.{D2}.json"),
                format!("mps-events/EditMediaTask/2026/11/25/e1.finish.failed.{D3}.json"),
            ]
        );
        assert_eq!(got.records_read, 0, "the keys say it");
        let rows = stats(&got.found);
        let outcomes: Vec<Option<Outcome>> = rows.iter().map(|r| r.outcome).collect();
        assert_eq!(outcomes, [Some(Outcome::Running), Some(Outcome::Failed)]);
    }

    #[tokio::test]
    async fn an_unknown_type_names_the_types_held() {
        let src = bucket();
        let f = Filters::new(None, None, &["workflowtask".into()], None, None).unwrap();
        let got = find(&src, &layout(), &f).await.unwrap();
        assert!(got.found.is_empty());
        assert_eq!(got.unknown_types, ["workflowtask"]);
        assert_eq!(got.held_types, ["EditMediaTask", "WorkflowTask"]);
        // A known type with nothing in range is no typo.
        let f = Filters::new(
            day("2020-01-01"),
            day("2020-01-01"),
            &["WorkflowTask".into()],
            None,
            None,
        )
        .unwrap();
        let got = find(&bucket(), &layout(), &f).await.unwrap();
        assert!(got.found.is_empty() && got.unknown_types.is_empty());
    }

    #[tokio::test]
    async fn stats_count_per_date_type_and_status() {
        let got = find(&bucket(), &layout(), &Filters::default())
            .await
            .unwrap();
        let rows = stats(&got.found);
        let total: u64 = rows.iter().map(|r| r.count).sum();
        assert_eq!(total, got.found.len() as u64);
        assert_eq!(
            rows[0],
            StatRow {
                date: day("2026-11-24"),
                event_type: Some("WorkflowTask".into()),
                status: Some("finish".into()),
                outcome: Some(Outcome::Ok),
                count: 1
            }
        );
        assert_eq!(rows.len(), 3);
    }
}
