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

pub mod cos;
pub mod filters;
pub mod local;
pub mod outcome;
pub mod plan;
pub mod record;
pub mod replay;
pub mod source;

use std::collections::{BTreeMap, BTreeSet, HashSet, VecDeque};

use chrono::{DateTime, NaiveDate, Utc};

pub use cos::CosSource;
pub use filters::{parse_date, Bound, FilterError, Filters};
pub use local::LocalSource;
use source::Pager;
pub use source::{Entry, Listing, Page, Source, SourceError};

use crate::key::{KeyFields, KeyTemplate};
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
    /// Keys the listings returned, wanted or not.
    pub listed: u64,
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

/// One listing of the plan, read a page at a time.
struct Cursor {
    pager: Pager,
    /// Wanted callbacks of the pages read so far, not yet handed out (one page at most).
    ready: VecDeque<Found>,
}

/// The digests seen on the current key date and the day before.
///
/// The same callback gets the same digest, and its key date is its own time (else the
/// time of receipt), so a digest repeats only when a callback is redelivered across
/// midnight: under two adjacent dates. Remembering two dates is therefore as good as
/// remembering the whole archive, and bounded by what two days hold. A template without
/// a date cannot tell days apart; then up to [`UNDATED_DIGESTS`] digests are remembered.
#[derive(Debug, Default)]
struct DigestWindow {
    date: Option<NaiveDate>,
    today: HashSet<u64>,
    yesterday: HashSet<u64>,
}

/// Digests remembered when keys carry no date (about 16 MiB).
const UNDATED_DIGESTS: usize = 1 << 20;

impl DigestWindow {
    /// True the first time `digest` is seen on `date` or the day before. Dates come in
    /// order.
    fn first(&mut self, date: Option<NaiveDate>, digest: &str) -> bool {
        if date != self.date {
            let adjacent = match (self.date, date) {
                (Some(prev), Some(d)) => prev.succ_opt() == Some(d),
                _ => false,
            };
            self.yesterday = if adjacent {
                std::mem::take(&mut self.today)
            } else {
                HashSet::new()
            };
            self.today.clear();
            self.date = date;
        }
        if date.is_none() && self.today.len() >= UNDATED_DIGESTS {
            self.today.clear();
        }
        // Templates make digests 16 hex digits: one u64.
        let d = u64::from_str_radix(digest, 16).unwrap_or_else(|_| {
            use std::hash::BuildHasher;
            std::hash::BuildHasherDefault::<std::collections::hash_map::DefaultHasher>::default()
                .hash_one(digest)
        });
        !self.yesterday.contains(&d) && self.today.insert(d)
    }
}

/// The archived callbacks a set of filters wants, one at a time, by date then key, each
/// digest once, in bounded memory.
///
/// The plan's listings are read a page at a time and merged. A listing yields its keys
/// in key order, which is date-then-key order when the template's date comes right after
/// the listed prefix (the default template lists one event type, or one of its years,
/// months or days). A listing whose prefix fixes a date is only opened when the merge
/// reaches that date, so a year's range holds a page per event type, not per day. What
/// is held: one page (1,000 keys) per open listing and the digests of two days
/// (a callback repeats only across adjacent dates).
pub struct Finder<'a, S: Source> {
    source: &'a S,
    layout: &'a KeyLayout,
    filters: &'a Filters,
    types_root: Option<String>,
    /// Listings not opened yet, by the first date they can hold (undated first).
    waiting: VecDeque<(String, Option<NaiveDate>)>,
    open: Vec<Cursor>,
    window: DigestWindow,
    /// Event types of the callbacks handed out (to tell a `--type` typo).
    types_seen: BTreeSet<String>,
    /// Callbacks of boundary days held to the `--since`/`--until` times, in order.
    checked: VecDeque<Found>,
    /// With an outcome filter over keys without one: callbacks whose records were read
    /// and whose outcome is wanted, in order.
    outcomes_read: Option<VecDeque<Found>>,
    out: Findings,
}

/// Records of a boundary day read together to check their times (a bounded number of
/// them, and of bytes, at once).
const CHECKED_AT_ONCE: usize = 64;

impl<'a, S: Source> Finder<'a, S> {
    /// Runs the folder discovery the plan needs (small delimiter listings, up to eight at
    /// a time) and gets ready to list.
    pub async fn start(
        source: &'a S,
        layout: &'a KeyLayout,
        filters: &'a Filters,
    ) -> Result<Finder<'a, S>, SourceError> {
        let plan = Plan::new(&layout.template, &layout.prefix, filters);
        let mut out = Findings::default();
        let mut lists = Vec::new();
        let mut steps = plan.start();
        // Each round runs every discovery known so far; folders found add the next round's.
        while !steps.is_empty() {
            let mut discover = Vec::new();
            for step in std::mem::take(&mut steps) {
                match step {
                    Step::List(prefix, from) => lists.push((prefix, from)),
                    Step::Discover(walk) => discover.push(walk),
                }
            }
            let mut first_error = None;
            let asks = discover.into_iter().map(|walk| async move {
                let listing = source.list(walk.prefix(), Some('/')).await;
                (walk, listing)
            });
            replay::bounded(asks, LISTINGS_AT_ONCE, |(walk, listing)| match listing {
                Ok(l) => {
                    out.listings += 1;
                    out.requests += l.requests;
                    steps.extend(plan.resume(&walk, &l.folders));
                }
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            })
            .await;
            if let Some(e) = first_error {
                return Err(e);
            }
        }
        lists.sort_by(|a, b| (a.1, &a.0).cmp(&(b.1, &b.0)));
        lists.dedup();
        Ok(Finder {
            source,
            layout,
            filters,
            types_root: plan.types_root(),
            waiting: lists.into(),
            open: Vec::new(),
            window: DigestWindow::default(),
            types_seen: BTreeSet::new(),
            checked: VecDeque::new(),
            outcomes_read: filters.needs_records(&layout.template).then(VecDeque::new),
            out,
        })
    }

    /// The next wanted callback, by date then key; `None` at the end.
    ///
    /// With an outcome filter over keys that do not carry the outcome, the records of a run
    /// of candidates (a bounded number) are read and only those whose outcome the filters
    /// want are handed out, each with its outcome filled in ([`outcome::resolve`]).
    pub async fn next(&mut self) -> Result<Option<Found>, SourceError> {
        if self.outcomes_read.is_none() {
            return self.next_in_times().await;
        }
        loop {
            if let Some(f) = self.outcomes_read.as_mut().and_then(VecDeque::pop_front) {
                return Ok(Some(f));
            }
            let mut run = Vec::new();
            while run.len() < CHECKED_AT_ONCE {
                match self.next_in_times().await? {
                    Some(f) => run.push(f),
                    None => break,
                }
            }
            if run.is_empty() {
                return Ok(None);
            }
            let resolved = outcome::resolve(self.source, run, self.filters).await?;
            self.out.records_read += resolved.read;
            self.out.unreadable_records += resolved.unreadable;
            if let Some(q) = self.outcomes_read.as_mut() {
                q.extend(resolved.found);
            }
        }
    }

    /// The next callback the key filters and the `--since`/`--until` times want.
    async fn next_in_times(&mut self) -> Result<Option<Found>, SourceError> {
        loop {
            if let Some(f) = self.checked.pop_front() {
                return Ok(Some(f));
            }
            let Some(f) = self.next_unique().await? else {
                return Ok(None);
            };
            if !self.filters.needs_time(f.fields.date) {
                return Ok(Some(f));
            }
            // A run of boundary-day records is read and held to the times; what follows
            // the run keeps its place after it.
            let mut run = vec![f];
            let mut tail = None;
            while run.len() < CHECKED_AT_ONCE {
                match self.next_unique().await? {
                    Some(g) if self.filters.needs_time(g.fields.date) => run.push(g),
                    other => {
                        tail = other;
                        break;
                    }
                }
            }
            let kept = self.within_times(run).await;
            self.checked.extend(kept);
            self.checked.extend(tail);
        }
    }

    /// The records of `run` whose time (`event_time`, else `received_at`) is within the
    /// `--since`/`--until` times, in order. A record that cannot be read is kept: nothing
    /// says it is outside, and whoever reads it next reports why it cannot be read.
    async fn within_times(&self, run: Vec<Found>) -> Vec<Found> {
        let (source, filters) = (self.source, self.filters);
        let mut keep = vec![true; run.len()];
        let reads = run.iter().enumerate().map(|(i, f)| {
            let read = async move {
                let time = match source.get(&f.key).await {
                    Ok(body) => record::parse(&body).ok().and_then(|r| r.time()),
                    Err(_) => None,
                };
                (i, filters.time_matches(time))
            };
            (f.size, read)
        });
        replay::bounded_weighted(
            reads,
            LISTINGS_AT_ONCE,
            replay::IN_FLIGHT_BYTES,
            |(i, ok)| keep[i] = ok,
        )
        .await;
        run.into_iter()
            .zip(keep)
            .filter_map(|(f, k)| k.then_some(f))
            .collect()
    }

    /// The next wanted key, each digest once (dates not yet held to times).
    async fn next_unique(&mut self) -> Result<Option<Found>, SourceError> {
        loop {
            let Some(f) = self.next_listed().await? else {
                return Ok(None);
            };
            if self.window.first(f.fields.date, &f.fields.digest) {
                if let Some(t) = &f.fields.event_type {
                    if !self.types_seen.contains(t) {
                        self.types_seen.insert(t.clone());
                    }
                }
                return Ok(Some(f));
            }
            self.out.duplicates += 1;
        }
    }

    /// The next wanted key of the merged listings, duplicates included.
    async fn next_listed(&mut self) -> Result<Option<Found>, SourceError> {
        loop {
            // Every open listing shows its next key, or is dropped at its end.
            let mut i = 0;
            while i < self.open.len() {
                if self.open[i].ready.is_empty() && !self.fill(i).await? {
                    let done = self.open.swap_remove(i);
                    self.out.requests += done.pager.requests;
                } else {
                    i += 1;
                }
            }
            let best = self
                .open
                .iter()
                .enumerate()
                .filter_map(|(i, c)| c.ready.front().map(|f| (i, f)))
                .min_by(|(_, a), (_, b)| order_key(a).cmp(&order_key(b)))
                .map(|(i, f)| (i, f.fields.date));
            // A listing that may hold something as early as the best key opens first.
            let due = match (best, self.waiting.front()) {
                (_, None) => false,
                (None, Some(_)) => true,
                (Some((_, date)), Some((_, from))) => match (date, from) {
                    (Some(d), Some(from)) => *from <= d,
                    _ => true,
                },
            };
            if due {
                self.open_due(best.and_then(|(_, d)| d)).await?;
                continue;
            }
            return Ok(best.and_then(|(i, _)| self.open[i].ready.pop_front()));
        }
    }

    /// Opens the waiting listings that may hold keys dated `date` or earlier (with no
    /// date: the next one and those starting on its date), up to eight at a time.
    async fn open_due(&mut self, date: Option<NaiveDate>) -> Result<(), SourceError> {
        let due_by = date.or_else(|| self.waiting.front().and_then(|(_, from)| *from));
        let mut due = Vec::new();
        while let Some((_, from)) = self.waiting.front() {
            let is_due = match (from, due_by) {
                (None, _) => true,
                (Some(from), Some(by)) => *from <= by,
                (Some(_), None) => due.is_empty(),
            };
            if !is_due || due.len() >= LISTINGS_AT_ONCE {
                break;
            }
            if let Some((prefix, _)) = self.waiting.pop_front() {
                due.push(Cursor {
                    pager: Pager::new(&prefix, None),
                    ready: VecDeque::new(),
                });
            }
        }
        let (source, layout, filters) = (self.source, self.layout, self.filters);
        let mut first_error = None;
        let mut opened = Vec::new();
        let firsts = due.into_iter().map(|mut c| async move {
            let got = c.pager.next(source).await;
            (c, got)
        });
        replay::bounded(firsts, LISTINGS_AT_ONCE, |(c, got)| match got {
            Ok(page) => opened.push((c, page)),
            Err(e) => {
                first_error.get_or_insert(e);
            }
        })
        .await;
        if let Some(e) = first_error {
            return Err(e);
        }
        for (mut c, page) in opened {
            self.out.listings += 1;
            if let Some(page) = page {
                self.out.listed += page.entries.len() as u64;
                self.out.unreadable += take_page(layout, filters, page, &mut c.ready);
            }
            self.open.push(c);
        }
        Ok(())
    }

    /// Reads pages of open listing `i` until it has a wanted key; false at its end.
    async fn fill(&mut self, i: usize) -> Result<bool, SourceError> {
        let (source, layout, filters) = (self.source, self.layout, self.filters);
        let c = &mut self.open[i];
        while c.ready.is_empty() {
            match c.pager.next(source).await? {
                Some(page) => {
                    self.out.listed += page.entries.len() as u64;
                    self.out.unreadable += take_page(layout, filters, page, &mut c.ready);
                }
                None => return Ok(false),
            }
        }
        Ok(true)
    }

    /// What the search passed over so far (`found` is left empty).
    pub fn counts(&self) -> &Findings {
        &self.out
    }

    /// Ends the search: when a `--type` found nothing, asks once which event-type
    /// folders exist, so the caller can say so (a likely typo, not an error).
    pub async fn finish(mut self) -> Result<Findings, SourceError> {
        for c in std::mem::take(&mut self.open) {
            self.out.requests += c.pager.requests;
        }
        let filters = self.filters;
        if filters.types().is_empty() || filters.types().iter().all(|t| self.types_seen.contains(t))
        {
            return Ok(self.out);
        }
        let Some(root) = self.types_root.take() else {
            return Ok(self.out);
        };
        let listing = self.source.list(&root, Some('/')).await?;
        let out = &mut self.out;
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
        Ok(self.out)
    }
}

/// Whether `source` holds no object at all under `prefix` (one page asked for): an
/// archive that is not there, rather than filters that match nothing.
pub async fn holds_nothing<S: Source>(source: &S, prefix: &str) -> Result<bool, SourceError> {
    let page = source.list_page(prefix, Some('/'), None).await?;
    Ok(page.entries.is_empty() && page.folders.is_empty())
}

/// The order callbacks are listed in: date, then key.
fn order_key(f: &Found) -> (Option<NaiveDate>, &str) {
    (f.fields.date, f.key.as_str())
}

/// Reads a page's keys through the template into `ready`, keeping what the filters want;
/// how many keys the template could not read.
fn take_page(
    layout: &KeyLayout,
    filters: &Filters,
    page: Page,
    ready: &mut VecDeque<Found>,
) -> u64 {
    let mut unreadable = 0;
    for e in page.entries {
        match layout.template.read(&layout.prefix, &e.key) {
            None => unreadable += 1,
            Some(fields) if filters.matches(&fields) => ready.push_back(Found {
                key: e.key,
                fields,
                size: e.size,
                last_modified: e.last_modified,
            }),
            Some(_) => {}
        }
    }
    unreadable
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
    let mut c = Counter::default();
    found.iter().for_each(|f| c.add(f));
    c.rows()
}

/// Counts callbacks per date, event type, status and outcome as they are found: memory
/// grows with the groups (days times types times statuses times outcomes), not with the
/// callbacks.
#[derive(Debug, Default)]
pub struct Counter {
    counts: BTreeMap<Group, u64>,
}

/// What [`Counter`] counts by: date, event type, status, outcome.
type Group = (
    Option<NaiveDate>,
    Option<String>,
    Option<String>,
    Option<Outcome>,
);

impl Counter {
    /// Counts one callback.
    pub fn add(&mut self, f: &Found) {
        let k = (
            f.fields.date,
            f.fields.event_type.clone(),
            f.fields.status.clone(),
            f.fields.outcome,
        );
        *self.counts.entry(k).or_default() += 1;
    }

    /// The counts, by date, event type, status and outcome.
    pub fn rows(self) -> Vec<StatRow> {
        self.counts
            .into_iter()
            .map(|((date, event_type, status, outcome), count)| StatRow {
                date,
                event_type,
                status,
                outcome,
                count,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::key::DEFAULT_TEMPLATE;
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
