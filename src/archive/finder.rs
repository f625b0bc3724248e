//! [`Finder`]: the archived callbacks a set of filters wants, one at a time, by date then
//! key, each digest once, in bounded memory: the plan's listings read a page at a time and
//! merged, a listing opened only when the merge reaches its date.

use std::collections::{BTreeSet, VecDeque};

use chrono::NaiveDate;

use super::digests::DigestWindow;
use super::plan::{Plan, Step};
use super::source::Pager;
use super::{outcome, record, replay};
use super::{Filters, Findings, Found, KeyLayout, Page, Source, SourceError};

/// Listings asked for at once: the plan's prefixes are independent, and a range of days
/// is many small requests whose latency adds up when asked one by one.
const LISTINGS_AT_ONCE: usize = 8;

/// One listing of the plan, read a page at a time.
struct Cursor {
    pager: Pager,
    /// Wanted callbacks of the pages read so far, not yet handed out (one page at most).
    ready: VecDeque<Found>,
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
pub(crate) struct Finder<'a, S: Source> {
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
    pub(crate) async fn start(
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
    pub(crate) async fn next(&mut self) -> Result<Option<Found>, SourceError> {
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

    /// Ends the search: when a `--type` found nothing, asks once which event-type
    /// folders exist, so the caller can say so (a likely typo, not an error).
    pub(crate) async fn finish(mut self) -> Result<Findings, SourceError> {
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
