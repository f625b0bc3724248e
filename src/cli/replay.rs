//! `replay`: archived events sent again to one target, oldest first, with the forwarding
//! code's delivery and retry rules, a bounded number at once.
//!
//! stdout: one JSON line per record (`key`, `ok`, `attempts`, `error`); stderr: a
//! progress bar when it is a terminal, then a one-line summary.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use clap::Args;
use serde_json::json;

use super::error::{CliError, EXIT_FAILED};
use super::output::{count, note, time_text};
use super::read::{
    filters, report, setup, source_failed, AnySource, FilterArgs, Setup, SourceArgs,
};
use crate::archive::replay::{dispatch, event_of, load, Queued, KEEP_BYTES, WINDOW};
use crate::archive::{Finder, Found, SourceError};
use crate::forward::target::{parse_targets, Target};
use crate::forward::{Forwarder, ForwarderConfig};

/// Exit code of a replay stopped by SIGINT or SIGTERM.
const EXIT_INTERRUPTED: u8 = 130;

/// Time one record may take to be delivered, retries included (the forwarding rules retry
/// within a deadline; a replay has no invocation to take one from).
const RECORD_TIME: Duration = Duration::from_secs(60);

/// `replay`.
#[derive(Debug, Args)]
pub(crate) struct ReplayArgs {
    /// Where to send: scf:[NAMESPACE/]FUNCTION[:QUALIFIER] or an http(s):// URL
    #[arg(long, value_name = "TARGET")]
    to: String,
    #[command(flatten)]
    filters: FilterArgs,
    #[command(flatten)]
    source: SourceArgs,
    /// List what would be sent, in order, and send nothing
    #[arg(long)]
    dry_run: bool,
    /// Send records whose content no longer matches the digest in their key (as stored:
    /// never re-signed)
    #[arg(long)]
    allow_modified: bool,
    /// Records read and sent at once
    #[arg(long, value_name = "N", default_value_t = 8,
          value_parser = clap::value_parser!(u16).range(1..=256))]
    concurrency: u16,
}

/// The one target of `--to`, in `ARCHIVE_FORWARD`'s syntax.
fn check_target(to: &str) -> Result<(), String> {
    match parse_targets(to).map_err(|e| format!("--to: {e}"))?.len() {
        1 => Ok(()),
        0 => Err("--to needs a target".into()),
        _ => Err("--to takes one target".into()),
    }
}

/// How one record ended.
struct Sent<'a> {
    item: &'a Queued,
    attempts: u32,
    error: Option<String>,
}

/// A progress bar on stderr when it is a terminal (records done, failures); hidden
/// otherwise (logs, pipes, CI). The total is not known while the listing streams.
fn progress() -> indicatif::ProgressBar {
    if !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new_spinner();
    if let Ok(style) =
        indicatif::ProgressStyle::with_template("{spinner} {pos} replayed, {msg} [{elapsed}]")
    {
        bar.set_style(style);
    }
    bar.set_message("0 failed");
    bar
}

/// What a replay did so far.
#[derive(Default)]
struct Tally {
    sent: u64,
    failed: u64,
    unreadable: u64,
    unwritten: Option<std::io::Error>,
    /// The first record, in replay order, not sent when the replay was stopped: key, key
    /// date, time.
    first_not_sent: Option<(String, Option<NaiveDate>, Option<DateTime<Utc>>)>,
}

impl Tally {
    /// Writes one line on stdout. An output that cannot be written must not stop the
    /// replay half way; a closed pipe (`| head`) is no failure, any other write error
    /// fails the run at the end.
    fn line(&mut self, bar: &indicatif::ProgressBar, line: &serde_json::Value) {
        bar.suspend(|| {
            let mut out = std::io::stdout().lock();
            if let Err(e) = writeln!(out, "{line}") {
                if e.kind() != std::io::ErrorKind::BrokenPipe && self.unwritten.is_none() {
                    self.unwritten = Some(e);
                }
            }
        });
    }
}

/// The next window of records to order together: the found callbacks of one key date,
/// at most about [`WINDOW`] of them (a window is closed between two tasks, so one task's
/// records of a date stay in one window unless it alone holds twice as many).
/// Once `stop` says so, the window ends with what it has (at least one record, to name
/// the first one not sent).
fn next_window(
    setup: &Setup,
    finder: &mut Finder<'_, AnySource>,
    peeked: &mut Option<Found>,
    stop: &dyn Fn() -> bool,
) -> Result<Vec<Found>, SourceError> {
    let mut batch: Vec<Found> = Vec::new();
    loop {
        if !batch.is_empty() && stop() {
            return Ok(batch);
        }
        let f = match peeked.take() {
            Some(f) => f,
            None => match setup.rt.block_on(finder.next())? {
                Some(f) => f,
                None => return Ok(batch),
            },
        };
        if let Some(last) = batch.last() {
            let full = batch.len() >= WINDOW && last.fields.task_id != f.fields.task_id;
            if last.fields.date != f.fields.date || full || batch.len() >= 2 * WINDOW {
                *peeked = Some(f);
                return Ok(batch);
            }
        }
        batch.push(f);
    }
}

/// The forwarders of a replay: one re-signing URL callbacks when `FORWARD_NOTIFY_KEY`
/// is set, one sending them as stored (for modified records).
struct Senders {
    signed: Forwarder,
    as_stored: Forwarder,
}

/// Sends one record's event to `target`: how it ended.
async fn send_one<'q>(
    source: &AnySource,
    senders: &Senders,
    target: &Target,
    item: &'q Queued,
) -> Sent<'q> {
    let forwarder = if item.modified {
        &senders.as_stored
    } else {
        &senders.signed
    };
    let event = match event_of(source, item).await {
        Ok(e) => e,
        Err(e) => {
            return Sent {
                item,
                attempts: 0,
                error: Some(e),
            }
        }
    };
    match forwarder
        .deliver(target, &event, Instant::now() + RECORD_TIME)
        .await
    {
        Ok(d) => Sent {
            item,
            attempts: d.attempts,
            error: None,
        },
        Err(e) => Sent {
            item,
            attempts: e.attempts(),
            error: Some(crate::text::one_line(&e.to_string())),
        },
    }
}

/// Sets `stop` on the first SIGINT or SIGTERM (while the runtime runs, which is whenever
/// the replay waits on anything).
fn watch_signals(setup: &Setup, stop: &Arc<AtomicBool>) -> Result<(), CliError> {
    use tokio::signal::unix::{signal, SignalKind};
    let _in_runtime = setup.rt.enter();
    let cannot = |e: std::io::Error| {
        CliError::failed(&format!(
            "cannot watch for signals: {}",
            crate::text::error_chain(&e)
        ))
    };
    let mut int = signal(SignalKind::interrupt()).map_err(cannot)?;
    let mut term = signal(SignalKind::terminate()).map_err(cannot)?;
    let stop = stop.clone();
    setup.rt.spawn(async move {
        tokio::select! {
            _ = int.recv() => {}
            _ = term.recv() => {}
        }
        stop.store(true, Ordering::Relaxed);
    });
    Ok(())
}

/// `replay`: the archived events, oldest first, to one target.
pub(crate) fn replay(args: ReplayArgs) -> Result<ExitCode, CliError> {
    check_target(&args.to).map_err(|e| CliError::usage(&e))?;
    // The target is configured as ARCHIVE_FORWARD would be: the same validation, Cloud
    // API settings, credentials and FORWARD_NOTIFY_KEY as the function's forwarding.
    // A dry run sends nothing, so it needs no Cloud API settings or credentials for
    // the target: the target is only checked and named.
    let (setup, forward) = setup(args.source, (!args.dry_run).then_some(args.to.as_str()))?;
    let filters = filters(&args.filters, &setup)?;
    let target = if args.dry_run {
        parse_targets(&args.to)
            .ok()
            .and_then(|t| t.into_iter().next())
    } else {
        forward.targets.first().cloned()
    };
    let Some(target) = target else {
        return Err(CliError::usage("--to needs a target"));
    };
    let forwarder = if args.dry_run {
        None
    } else {
        // A modified record is sent as stored: never signed anew with
        // FORWARD_NOTIFY_KEY, which would vouch for content the archive cannot.
        let as_stored = ForwarderConfig {
            notify_key: None,
            ..forward.clone()
        };
        let new = |cfg| {
            Forwarder::new(setup.http.clone(), cfg).map_err(|e| CliError::usage(&e.to_string()))
        };
        Some(Senders {
            signed: new(forward)?,
            as_stored: new(as_stored)?,
        })
    };
    // SIGINT/SIGTERM: nothing new starts, what is in flight finishes and is reported.
    let stop = Arc::new(AtomicBool::new(false));
    watch_signals(&setup, &stop)?;
    let stopped = || stop.load(Ordering::Relaxed);
    let limit = usize::from(args.concurrency);
    let mut finder = setup
        .rt
        .block_on(Finder::start(&setup.source, &setup.layout, &filters))
        .map_err(source_failed)?;
    let bar = progress();
    let started = Instant::now();
    let mut tally = Tally::default();
    let mut peeked = None;
    loop {
        let batch =
            next_window(&setup, &mut finder, &mut peeked, &stopped).map_err(source_failed)?;
        let Some(first) = batch.first() else { break };
        let first = (first.key.clone(), first.fields.date, None);
        if stopped() {
            tally.first_not_sent = Some(first);
            break;
        }
        let keep = if args.dry_run { 0 } else { KEEP_BYTES };
        let Some(items) = setup.rt.block_on(load(
            &setup.source,
            batch,
            limit,
            keep,
            args.allow_modified,
            &stopped,
        )) else {
            tally.first_not_sent = Some(first);
            break;
        };
        let Some(forwarder) = &forwarder else {
            for i in &items {
                let (ok, error) = match &i.event {
                    Ok(_) => (true, None),
                    Err(e) => (false, Some(e.as_str())),
                };
                if ok {
                    tally.sent += 1;
                } else {
                    tally.unreadable += 1;
                }
                let mut line = json!({
                    "key": i.key,
                    "ok": ok,
                    "attempts": 0,
                    "error": error,
                    "event_time": time_text(i.time),
                    "dry_run": true,
                });
                if i.modified {
                    line["modified"] = json!(true);
                }
                tally.line(&bar, &line);
            }
            continue;
        };
        let send = |item| send_one(&setup.source, forwarder, &target, item);
        let not_started =
            setup
                .rt
                .block_on(dispatch(&items, limit, &stopped, send, |s: Sent<'_>| {
                    if s.error.is_some() {
                        tally.failed += 1;
                        bar.set_message(format!("{} failed", tally.failed));
                    } else {
                        tally.sent += 1;
                    }
                    let mut line = json!({
                        "key": s.item.key,
                        "ok": s.error.is_none(),
                        "attempts": s.attempts,
                        "error": s.error,
                    });
                    if s.item.modified {
                        line["modified"] = json!(true);
                    }
                    tally.line(&bar, &line);
                    bar.inc(1);
                }));
        if let Some(i) = not_started {
            let q = &items[i];
            tally.first_not_sent = Some((q.key.clone(), q.date, q.time));
            break;
        }
    }
    bar.finish_and_clear();
    let found = setup.rt.block_on(finder.finish()).map_err(source_failed)?;
    report(&setup, &found);
    let secs = started.elapsed().as_secs_f64();
    if args.dry_run {
        note(&format!(
            "dry run: {} would be sent to {target}, {} cannot be read; nothing sent",
            count(tally.sent, "record", "records"),
            tally.unreadable
        ));
    } else {
        note(&format!(
            "replay to {target}: {} sent, {} failed, in {secs:.1} s",
            count(tally.sent, "record", "records"),
            tally.failed
        ));
    }
    if let Some(e) = &tally.unwritten {
        note(&format!(
            "cannot write the output: {}",
            crate::text::error_chain(e)
        ));
    }
    if let Some((key, date, time)) = &tally.first_not_sent {
        // Its time when it was read (records of that same instant already sent go
        // again), else its key date.
        let resume = match (time_text(*time), date) {
            (Some(t), _) => format!("; resume with --since {t}"),
            (None, Some(d)) => format!("; resume with --since {d}"),
            (None, None) => String::new(),
        };
        note(&format!(
            "interrupted: the records in flight finished; first record not sent: {key}{resume}"
        ));
        return Ok(ExitCode::from(EXIT_INTERRUPTED));
    }
    let ok = tally.failed == 0 && tally.unreadable == 0 && tally.unwritten.is_none();
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_FAILED)
    })
}
