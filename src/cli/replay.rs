//! `replay`: archived events sent again to one target, oldest first, with the forwarding
//! code's delivery and retry rules, a bounded number at once.
//!
//! stdout: one JSON line per record (`key`, `ok`, `attempts`, `error`); stderr: a
//! progress bar when it is a terminal, then a one-line summary.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use bytes::Bytes;
use clap::Args;
use serde_json::json;

use super::read::{
    count, emit, fail, filters, find, note, setup, time_text, FilterArgs, SourceArgs,
};
use super::{EXIT_FAILED, EXIT_USAGE};
use crate::archive::replay::{bounded, load, Queued};
use crate::forward::target::{parse_targets, Target};
use crate::forward::Forwarder;

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

/// A progress bar on stderr when it is a terminal; hidden otherwise (logs, pipes, CI).
fn progress(total: usize) -> indicatif::ProgressBar {
    if std::io::stderr().is_terminal() {
        indicatif::ProgressBar::new(total as u64)
    } else {
        indicatif::ProgressBar::hidden()
    }
}

/// `replay`: the archived events, oldest first, to one target.
pub(crate) fn replay(args: ReplayArgs) -> ExitCode {
    let run = || -> Result<bool, ExitCode> {
        check_target(&args.to).map_err(|e| fail(EXIT_USAGE, &e))?;
        // The target is configured as ARCHIVE_FORWARD would be: the same validation, Cloud
        // API settings, credentials and FORWARD_NOTIFY_KEY as the function's forwarding.
        let (setup, forward) = setup(args.source, Some(&args.to))?;
        let filters = filters(&args.filters, &setup.layout)?;
        let Some(target) = forward.targets.first().cloned() else {
            return Err(fail(EXIT_USAGE, "--to needs a target"));
        };
        let forwarder = if args.dry_run {
            None
        } else {
            Some(
                Forwarder::new(setup.http.clone(), forward)
                    .map_err(|e| fail(EXIT_USAGE, &e.to_string()))?,
            )
        };
        let found = find(&setup, &filters)?;
        let limit = usize::from(args.concurrency);
        let items = setup.rt.block_on(load(&setup.source, &found.found, limit));
        let Some(forwarder) = forwarder else {
            return Ok(dry_run(&items, &target));
        };
        let bar = progress(items.len());
        let started = Instant::now();
        let (mut sent, mut failed) = (0u64, 0u64);
        let mut unwritten: Option<std::io::Error> = None;
        let stdout = std::io::stdout();
        let sends = items.iter().map(|item| {
            let (forwarder, target) = (&forwarder, &target);
            async move {
                match &item.event {
                    Err(e) => Sent {
                        item,
                        attempts: 0,
                        error: Some(e.clone()),
                    },
                    Ok(event) => {
                        let event: Bytes = event.clone();
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
                }
            }
        });
        setup.rt.block_on(bounded(sends, limit, |s: Sent<'_>| {
            if s.error.is_some() {
                failed += 1;
            } else {
                sent += 1;
            }
            let line = json!({
                "key": s.item.key,
                "ok": s.error.is_none(),
                "attempts": s.attempts,
                "error": s.error,
            });
            bar.suspend(|| {
                // An output that cannot be written must not stop the replay half way; a closed
                // pipe (`| head`) is no failure, any other write error fails the run at the end.
                let mut out = stdout.lock();
                if let Err(e) = writeln!(out, "{line}") {
                    if e.kind() != std::io::ErrorKind::BrokenPipe && unwritten.is_none() {
                        unwritten = Some(e);
                    }
                }
            });
            bar.inc(1);
        }));
        bar.finish_and_clear();
        let secs = started.elapsed().as_secs_f64();
        note(&format!(
            "replay to {target}: {} sent, {} failed, in {secs:.1} s",
            count(sent, "record", "records"),
            failed
        ));
        if let Some(e) = &unwritten {
            note(&format!(
                "cannot write the output: {}",
                crate::text::error_chain(e)
            ));
        }
        Ok(failed == 0 && unwritten.is_none())
    };
    match run() {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(EXIT_FAILED),
        Err(code) => code,
    }
}

/// `--dry-run`: what would be sent, in order; nothing is sent. True when every record
/// could be read.
fn dry_run(items: &[Queued], target: &Target) -> bool {
    let failed = items.iter().filter(|i| i.event.is_err()).count();
    let written = emit(items.iter().map(|i| {
        let (ok, error) = match &i.event {
            Ok(_) => (true, None),
            Err(e) => (false, Some(e.as_str())),
        };
        json!({
            "key": i.key,
            "ok": ok,
            "attempts": 0,
            "error": error,
            "event_time": time_text(i.time),
            "dry_run": true,
        })
        .to_string()
    }));
    note(&format!(
        "dry run: {} would be sent to {target}, {failed} cannot be read; nothing sent",
        count((items.len() - failed) as u64, "record", "records"),
    ));
    failed == 0 && written.is_ok()
}
