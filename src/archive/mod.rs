//! The read side: find archived callbacks by date, type, status, task and outcome, read
//! them back, count them, in bounded memory whatever the archive holds.
//!
//! Everything here is pure except the [`Source`] (a bucket or its local mirror):
//! [`plan`] decides which prefixes a set of [`Filters`] needs; a [`Finder`] runs the plan
//! against a source a page at a time, reads each key back through the template
//! ([`crate::key::KeyTemplate::read`]), drops what the filters do not want, lists each
//! digest once and hands the rest out by date then key as the listings go ([`find`]
//! collects them, for small searches); a [`Counter`] counts them. [`record`] reads a
//! stored record without re-serializing its event and checks it against its key's
//! digest; [`replay`] orders records for sending (date by date, oldest first within a
//! date: its module docs give the exact guarantee) and bounds what is in flight;
//! [`outcome`] reads the outcome from the records when the keys do not carry it. The
//! sources: [`LocalSource`] (the mirror `invoke` writes) and [`CosSource`] (GET Bucket,
//! GET Object).

pub(crate) mod cos;
mod digests;
pub(crate) mod filters;
mod finder;
pub(crate) mod local;
pub(crate) mod outcome;
pub(crate) mod plan;
pub(crate) mod record;
pub mod replay;
pub mod source;
mod stats;

use chrono::{DateTime, Utc};

pub use cos::CosSource;
pub use filters::{parse_date, Bound, FilterError, Filters};
pub(crate) use finder::Finder;
pub use local::LocalSource;
pub use source::{Entry, Listing, Page, Source, SourceError};
#[cfg(test)]
use stats::stats;
pub(crate) use stats::{Counter, StatRow};

use crate::key::{KeyFields, KeyTemplate};

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
    pub(crate) fields: KeyFields,
    /// Object size in bytes.
    pub(crate) size: u64,
    /// When the object was last written, when the source says.
    pub(crate) last_modified: Option<DateTime<Utc>>,
}

/// What a search found, and what it passed over.
#[derive(Debug, Clone, Default)]
pub struct Findings {
    /// Callbacks wanted, one per digest, by date then key.
    pub found: Vec<Found>,
    /// Keys under the listed prefixes that the template cannot read (another
    /// application's objects, an older layout); skipped.
    pub(crate) unreadable: u64,
    /// Keys left out because an earlier key has the same digest (a callback redelivered
    /// across midnight is stored under two dates).
    pub(crate) duplicates: u64,
    /// Keys the listings returned, wanted or not.
    pub(crate) listed: u64,
    /// Listings asked for (delimiter and full ones).
    pub listings: u64,
    /// Requests the listings took (pages).
    pub requests: u64,
    /// `--type` values with no folder in the archive (only known when the template puts
    /// the type in its own folder).
    pub(crate) unknown_types: Vec<String>,
    /// The event types the archive holds, when some `--type` matched no folder.
    pub(crate) held_types: Vec<String>,
    /// Records read to learn their outcome (an outcome filter over keys without one).
    pub records_read: u64,
    /// Records left out because their outcome could not be read from them.
    pub unreadable_records: u64,
}

/// Finds the archived callbacks `filters` wants, all of them at once ([`Finder`] hands
/// out the same one at a time, in bounded memory).
pub async fn find<S: Source>(
    source: &S,
    layout: &KeyLayout,
    filters: &Filters,
) -> Result<Findings, SourceError> {
    let mut finder = Finder::start(source, layout, filters).await?;
    let mut found = Vec::new();
    while let Some(f) = finder.next().await? {
        found.push(f);
    }
    let mut out = finder.finish().await?;
    out.found = found;
    Ok(out)
}

/// Whether `source` holds no object at all under `prefix` (one page asked for): an
/// archive that is not there, rather than filters that match nothing.
pub(crate) async fn holds_nothing<S: Source>(
    source: &S,
    prefix: &str,
) -> Result<bool, SourceError> {
    let page = source.list_page(prefix, Some('/'), None).await?;
    Ok(page.entries.is_empty() && page.folders.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::key::DEFAULT_TEMPLATE;
    use crate::record::Outcome;
    use chrono::NaiveDate;
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
        async fn list_page(
            &self,
            prefix: &str,
            delim: Option<char>,
            marker: Option<&str>,
        ) -> Result<Page, SourceError> {
            self.asked.lock().unwrap().push((prefix.to_string(), delim));
            let entries = self
                .keys
                .iter()
                .filter(|k| k.starts_with(prefix) && marker.is_none_or(|m| k.as_str() > m))
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
