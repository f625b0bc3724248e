//! Replay order and bounded work: the records of one key date read (a bounded number
//! and bytes at once), ordered oldest first, then sent with at most N in flight and never
//! two records of one task at the same time.
//!
//! The ordering guarantee: records are sent date by date (the key's date), and within a
//! date oldest first by `event_time` (else `received_at`), then key; records whose time
//! cannot be read come last in their date, by key. A key's date is the record's own time
//! (else its time of receipt) in `ARCHIVE_UTC_OFFSET`, so with the offset the archive was
//! written with this is oldest first across the whole replay. A date holding more than
//! [`WINDOW`] records is ordered in windows of about that many consecutive keys (a
//! window never splits one task's records of that date), so memory stays bounded
//! whatever a day holds.
//!
//! Sending is the caller's (the forwarding code's target and retry rules); this module only
//! decides what is sent, in which order, and how much at once.

use std::collections::HashSet;
use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::task::Poll;

use bytes::Bytes;
use chrono::{DateTime, NaiveDate, Utc};

use super::record;
use super::source::Source;
use super::Found;

/// Records ordered together: one date's, or this many consecutive keys of a larger date.
pub(crate) const WINDOW: usize = 10_000;

/// Bytes of records being read or sent at once (a record larger than this goes alone):
/// with the window's metadata, what keeps a replay under 64 MiB.
pub(crate) const IN_FLIGHT_BYTES: u64 = 8 * 1024 * 1024;

/// Bytes of read records kept between the ordering and the sending; records beyond are
/// read again when their turn comes.
pub(crate) const KEEP_BYTES: u64 = 8 * 1024 * 1024;

/// Records looked at past the first one not started, to find one of another task.
const LOOKAHEAD: usize = 512;

/// One record to replay: its time and task, and the event to send (or why it cannot be
/// sent).
#[derive(Debug, Clone)]
pub(crate) struct Queued {
    /// Object key.
    pub(crate) key: String,
    /// The key's date.
    pub(crate) date: Option<NaiveDate>,
    /// Object size, as listed.
    pub(crate) size: u64,
    /// The record's `event_time`, else its `received_at`; `None` when unreadable.
    pub(crate) time: Option<DateTime<Utc>>,
    /// The task the record is about (its `task_id`, else the key's); records of one task
    /// are never sent at the same time.
    pub(crate) task: Option<String>,
    /// The digest in the key.
    pub(crate) digest: String,
    /// The record's content no longer matches the digest in its key.
    pub(crate) modified: bool,
    /// The archived event, as stored (`None`: not kept, read again to send); or why the
    /// record cannot be replayed (one line).
    pub(crate) event: Result<Option<Bytes>, String>,
}

/// Why a modified record is not sent.
pub(crate) const MODIFIED: &str =
    "modified: the record no longer matches the digest in its key; not sent (--allow-modified sends it)";

/// Reads one window of records (`found`, in key order) and orders them for sending: at
/// most `concurrency` reads and [`IN_FLIGHT_BYTES`] at once, events kept up to `keep`
/// bytes in all. Each record is checked against the digest in its key: a modified one is
/// marked, and unless `allow_modified` it cannot be sent ([`MODIFIED`]). A record that
/// cannot be read keeps its place at the end of the window, with its error, so it fails
/// on its own and the rest go on. `None` when `stop` turned true before every record was
/// read.
pub(crate) async fn load<S: Source>(
    source: &S,
    found: Vec<Found>,
    concurrency: usize,
    keep: u64,
    allow_modified: bool,
    stop: &(dyn Fn() -> bool + Sync),
) -> Option<Vec<Queued>> {
    let mut out = Vec::with_capacity(found.len());
    let mut kept = 0u64;
    let mut stopped = false;
    let reads = found.into_iter().map(|f| {
        let weight = f.size;
        let read = async move {
            if stop() {
                return None;
            }
            let mut q = Queued {
                key: f.key,
                date: f.fields.date,
                size: f.size,
                time: None,
                task: f.fields.task_id,
                digest: f.fields.digest,
                modified: false,
                event: Err(String::new()),
            };
            q.event = match read_event(source, &q.key, &q.digest).await {
                Err(e) => Err(e),
                Ok(r) => {
                    q.time = r.time;
                    if r.task.is_some() {
                        q.task = r.task;
                    }
                    q.modified = r.modified;
                    if r.modified && !allow_modified {
                        Err(MODIFIED.to_string())
                    } else {
                        Ok(Some(r.event))
                    }
                }
            };
            Some(q)
        };
        (weight, read)
    });
    bounded_weighted(reads, concurrency, IN_FLIGHT_BYTES, |q: Option<Queued>| {
        let Some(mut q) = q else {
            stopped = true;
            return;
        };
        if matches!(q.event, Ok(Some(_))) {
            if kept + q.size > keep {
                q.event = Ok(None);
            } else {
                kept += q.size;
            }
        }
        out.push(q);
    })
    .await;
    if stopped {
        return None;
    }
    order(&mut out);
    Some(out)
}

/// A record as a replay reads it.
struct Read {
    time: Option<DateTime<Utc>>,
    task: Option<String>,
    modified: bool,
    event: Bytes,
}

/// Reads the record at `key` and checks it against `digest`, its key's; or why it cannot
/// be sent.
async fn read_event<S: Source>(source: &S, key: &str, digest: &str) -> Result<Read, String> {
    let body = source
        .get(key)
        .await
        .map_err(|e| crate::text::error_chain(&e))?;
    let rec = record::parse(&body).map_err(|e| e.about(key))?;
    let modified = record::is_modified(rec.event, digest).map_err(|e| e.about(key))?;
    Ok(Read {
        time: rec.time(),
        task: rec.task_id.clone(),
        modified,
        event: body.slice_ref(rec.event.get().as_bytes()),
    })
}

/// The event to send for `q`: the one kept, else read again (and checked again: a record
/// changed since it was ordered is not sent unless it was already known to be modified
/// and allowed).
pub(crate) async fn event_of<S: Source>(source: &S, q: &Queued) -> Result<Bytes, String> {
    match &q.event {
        Err(e) => Err(e.clone()),
        Ok(Some(event)) => Ok(event.clone()),
        Ok(None) => {
            let r = read_event(source, &q.key, &q.digest).await?;
            if r.modified && !q.modified {
                return Err(MODIFIED.to_string());
            }
            Ok(r.event)
        }
    }
}

/// Replay order within a window: records with a time first, oldest first; ties and
/// timeless records by key.
pub(crate) fn order(items: &mut [Queued]) {
    items.sort_by(|a, b| {
        (a.time.is_none(), a.time, &a.key).cmp(&(b.time.is_none(), b.time, &b.key))
    });
}

/// Sends `items` (in replay order) through `send`: at most `limit` and [`IN_FLIGHT_BYTES`]
/// at once (a larger record alone), started in order except that a record never starts
/// while an earlier record of its task is in flight or waiting: so a task's records
/// arrive in their order while other tasks go on. Each output goes to `done` as it
/// completes. Once `stop` says so, nothing new starts; those in flight finish. Returns the
/// index of the first record not started, if any.
pub(crate) async fn dispatch<'q, F, R>(
    items: &'q [Queued],
    limit: usize,
    stop: &dyn Fn() -> bool,
    mut send: impl FnMut(&'q Queued) -> F,
    mut done: impl FnMut(R),
) -> Option<usize>
where
    F: Future<Output = R>,
{
    let limit = limit.max(1);
    let mut started = vec![false; items.len()];
    let mut first = 0usize;
    let mut busy: HashSet<&str> = HashSet::new();
    let mut bytes = 0u64;
    let mut running: Vec<(usize, Pin<Box<F>>)> = Vec::with_capacity(limit);
    loop {
        while first < items.len() && started[first] {
            first += 1;
        }
        if !stop() {
            let mut blocked: HashSet<&str> = HashSet::new();
            let mut i = first;
            while running.len() < limit && i < items.len() && i < first + LOOKAHEAD {
                let q = &items[i];
                if started[i] {
                    i += 1;
                    continue;
                }
                let task = q.task.as_deref();
                if let Some(t) = task {
                    if busy.contains(t) || blocked.contains(t) {
                        blocked.insert(t);
                        i += 1;
                        continue;
                    }
                }
                if !running.is_empty() && bytes + q.size > IN_FLIGHT_BYTES {
                    break;
                }
                started[i] = true;
                bytes += q.size;
                if let Some(t) = task {
                    busy.insert(t);
                }
                running.push((i, Box::pin(send(q))));
                i += 1;
            }
        }
        if running.is_empty() {
            while first < items.len() && started[first] {
                first += 1;
            }
            return (first < items.len()).then_some(first);
        }
        let (i, out) = poll_fn(|cx| {
            for n in 0..running.len() {
                if let Poll::Ready(r) = running[n].1.as_mut().poll(cx) {
                    let (i, _) = running.swap_remove(n);
                    return Poll::Ready((i, r));
                }
            }
            Poll::Pending
        })
        .await;
        bytes -= items[i].size;
        if let Some(t) = items[i].task.as_deref() {
            busy.remove(t);
        }
        done(out);
    }
}

/// Runs the futures of `tasks` with at most `limit` in flight, started in order, handing
/// each output to `done` as it completes. The futures may borrow from the caller: they are
/// polled here, not spawned.
pub(crate) async fn bounded<I, F, R>(tasks: I, limit: usize, done: impl FnMut(R))
where
    I: IntoIterator<Item = F>,
    F: Future<Output = R>,
{
    // Zipped rather than mapped: a closure here would keep callers' futures from being
    // shown `Send` (the runtime's timer needs that of reconcile).
    bounded_weighted(std::iter::repeat(0).zip(tasks), limit, 0, done).await;
}

/// [`bounded`] with a weight per future (bytes): a future starts only while the weights
/// in flight stay within `max_weight`, or alone.
pub(crate) async fn bounded_weighted<I, F, R>(
    tasks: I,
    limit: usize,
    max_weight: u64,
    mut done: impl FnMut(R),
) where
    I: IntoIterator<Item = (u64, F)>,
    F: Future<Output = R>,
{
    let mut tasks = tasks.into_iter().peekable();
    let limit = limit.max(1);
    let mut weight = 0u64;
    let mut running: Vec<(u64, Pin<Box<F>>)> = Vec::with_capacity(limit);
    loop {
        while running.len() < limit {
            match tasks.peek() {
                Some((w, _)) if running.is_empty() || weight + w <= max_weight => {}
                _ => break,
            }
            if let Some((w, t)) = tasks.next() {
                weight += w;
                running.push((w, Box::pin(t)));
            }
        }
        if running.is_empty() {
            return;
        }
        let (w, out) = poll_fn(|cx| {
            for i in 0..running.len() {
                if let Poll::Ready(r) = running[i].1.as_mut().poll(cx) {
                    // Order among the running does not matter: they are already started.
                    let (w, _) = running.swap_remove(i);
                    return Poll::Ready((w, r));
                }
            }
            Poll::Pending
        })
        .await;
        weight -= w;
        done(out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;
    use std::time::Duration;

    fn q(key: &str, time: Option<&str>) -> Queued {
        Queued {
            key: key.into(),
            date: None,
            size: 1,
            time: time.map(|t| DateTime::parse_from_rfc3339(t).unwrap().with_timezone(&Utc)),
            task: None,
            digest: String::new(),
            modified: false,
            event: Ok(Some(Bytes::new())),
        }
    }

    #[test]
    fn oldest_first_then_key_unreadable_last() {
        let mut items = vec![
            q("d", None),
            q("c", Some("2026-11-24T10:00:00Z")),
            q("b", Some("2026-11-24T09:00:00Z")),
            q("a", Some("2026-11-24T10:00:00Z")),
            q("0", None),
        ];
        order(&mut items);
        let keys: Vec<&str> = items.iter().map(|i| i.key.as_str()).collect();
        assert_eq!(keys, ["b", "a", "c", "0", "d"]);
    }

    #[tokio::test]
    async fn at_most_limit_run_at_once_and_all_finish() {
        let running = Cell::new(0usize);
        let peak = Cell::new(0usize);
        let mut seen = Vec::new();
        let tasks = (0..20u64).map(|i| {
            let (running, peak) = (&running, &peak);
            async move {
                running.set(running.get() + 1);
                peak.set(peak.get().max(running.get()));
                tokio::time::sleep(Duration::from_millis(1 + (i * 7) % 5)).await;
                running.set(running.get() - 1);
                i
            }
        });
        bounded(tasks, 4, |i| seen.push(i)).await;
        seen.sort();
        assert_eq!(seen, (0..20).collect::<Vec<_>>());
        assert_eq!(peak.get(), 4);
    }
}
