//! Replay order and bounded concurrency: every record read (concurrently), ordered oldest
//! first, then handed to a sender with at most N in flight.
//!
//! Sending is the caller's (the forwarding code's target and retry rules); this module only
//! decides what is sent, in which order, and how many at once.

use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::task::Poll;

use bytes::Bytes;
use chrono::{DateTime, Utc};

use super::record;
use super::source::Source;
use super::Found;

/// One record to replay: its time, and the event to send (or why it cannot be sent).
#[derive(Debug, Clone)]
pub struct Queued {
    /// Object key.
    pub key: String,
    /// The record's `event_time`, else its `received_at`; `None` when unreadable.
    pub time: Option<DateTime<Utc>>,
    /// The archived event, as stored; or why the record cannot be replayed (one line).
    pub event: Result<Bytes, String>,
}

/// Reads every record of `found` (at most `concurrency` at once) and orders them for a
/// replay: oldest first by `event_time` (else `received_at`), then key. A record that
/// cannot be read keeps its place at the end with its error, so it fails on its own and the
/// rest go on.
pub async fn load<S: Source>(source: &S, found: &[Found], concurrency: usize) -> Vec<Queued> {
    let mut out = Vec::with_capacity(found.len());
    let reads = found.iter().map(|f| async move {
        let (time, event) = match source.get(&f.key).await {
            Err(e) => (None, Err(crate::text::error_chain(&e))),
            Ok(body) => match record::parse(&body) {
                Err(e) => (None, Err(format!("record {:?}: {e}", f.key))),
                Ok(rec) => (rec.time(), Ok(body.slice_ref(rec.event.get().as_bytes()))),
            },
        };
        Queued {
            key: f.key.clone(),
            time,
            event,
        }
    });
    bounded(reads, concurrency, |q| out.push(q)).await;
    order(&mut out);
    out
}

/// Replay order: records with a time first, oldest first; ties and timeless records by key.
pub fn order(items: &mut [Queued]) {
    items.sort_by(|a, b| {
        (a.time.is_none(), a.time, &a.key).cmp(&(b.time.is_none(), b.time, &b.key))
    });
}

/// Runs the futures of `tasks` with at most `limit` in flight, started in order, handing
/// each output to `done` as it completes. The futures may borrow from the caller: they are
/// polled here, not spawned.
pub async fn bounded<I, F, R>(tasks: I, limit: usize, mut done: impl FnMut(R))
where
    I: IntoIterator<Item = F>,
    F: Future<Output = R>,
{
    let mut tasks = tasks.into_iter();
    let limit = limit.max(1);
    let mut running: Vec<Pin<Box<F>>> = Vec::with_capacity(limit);
    loop {
        while running.len() < limit {
            match tasks.next() {
                Some(t) => running.push(Box::pin(t)),
                None => break,
            }
        }
        if running.is_empty() {
            return;
        }
        let out = poll_fn(|cx| {
            for i in 0..running.len() {
                if let Poll::Ready(r) = running[i].as_mut().poll(cx) {
                    // Order among the running does not matter: they are already started.
                    drop(running.swap_remove(i));
                    return Poll::Ready(r);
                }
            }
            Poll::Pending
        })
        .await;
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
            time: time.map(|t| DateTime::parse_from_rfc3339(t).unwrap().with_timezone(&Utc)),
            event: Ok(Bytes::new()),
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
