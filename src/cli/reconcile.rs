//! `reconcile`: asks MPS which tasks finished in a window and archives the callbacks the
//! archive lacks (README: "Is anything missing?"); and the window a timer event asks for.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use chrono::{DateTime, FixedOffset, NaiveTime, TimeZone, Utc};
use clap::Args;

use super::error::CliError;
use super::read::AnySource;
use super::start::{local_dir_problem, tokio_runtime};
use crate::archive::{parse_date, CosSource, LocalSource, Source};
use crate::cloudapi::client::CloudApiClient;
use crate::cloudapi::mps::RETENTION_DAYS;
use crate::config::{log_config_lenient, Config, ReconcileConfig};
use crate::cos::CosClient;
use crate::forward::Forwarder;
use crate::handler::Handler;
use crate::logging;
use crate::reconcile::{Reconciler, Run, Summary, Window};
use crate::store::local::LocalStore;
use crate::store::Store;
use crate::transport::{host_header, HttpClient};

/// `reconcile`.
#[derive(Debug, Args)]
pub(crate) struct ReconcileArgs {
    /// Start of the window: an RFC 3339 time, or YYYY-MM-DD (that day's start in
    /// ARCHIVE_UTC_OFFSET); default: --until minus RECONCILE_WINDOW
    #[arg(long, value_name = "T")]
    since: Option<String>,
    /// End of the window: an RFC 3339 time, or YYYY-MM-DD (that day's end); default: now
    #[arg(long, value_name = "T")]
    until: Option<String>,
    /// Archive and forward nothing: list what would be recovered
    #[arg(long)]
    dry_run: bool,
    /// Also forward each recovered callback to ARCHIVE_FORWARD (as RECONCILE_FORWARD=on)
    #[arg(long)]
    forward: bool,
    /// Local mirror of the bucket, used when COS_BUCKET is unset
    #[arg(long, value_name = "DIR", default_value = "./local-cos")]
    local: PathBuf,
}

/// Time the command gives itself: it runs until done, but every request still needs a
/// deadline.
const COMMAND_TIME_LIMIT: Duration = Duration::from_secs(6 * 3600);

/// One end of the window as given on the command line; a date is its day's start (`end`
/// false) or its day's end (`end` true) in `offset`.
fn parse_bound(text: &str, offset: FixedOffset, end: bool) -> Result<DateTime<Utc>, String> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text.trim()) {
        return Ok(t.with_timezone(&Utc));
    }
    let date = parse_date(text.trim()).map_err(|_| {
        format!("invalid time {text:?}: expected an RFC 3339 time (2026-12-05T06:00:00+08:00) or YYYY-MM-DD")
    })?;
    let day = if end {
        date.succ_opt().unwrap_or(date)
    } else {
        date
    };
    offset
        .from_local_datetime(&day.and_time(NaiveTime::MIN))
        .single()
        .map(|t| t.with_timezone(&Utc))
        .ok_or_else(|| format!("invalid time {text:?}"))
}

/// The window the options ask for, at `now`: default the last `window`; never reaching
/// more than 7 days back (MPS keeps its task list no longer).
pub(super) fn command_window(
    since: Option<&str>,
    until: Option<&str>,
    window: Duration,
    offset: FixedOffset,
    now: DateTime<Utc>,
) -> Result<Window, String> {
    let span = chrono::Duration::from_std(window).map_err(|e| e.to_string())?;
    let end = match until {
        Some(u) => parse_bound(u, offset, true)?.min(now),
        None => now,
    };
    let start = match since {
        Some(s) => parse_bound(s, offset, false)?,
        None => end - span,
    };
    if start >= end {
        return Err(format!(
            "the window is empty: --since {} is not before --until {}",
            start.to_rfc3339(),
            end.to_rfc3339()
        ));
    }
    let oldest = now - chrono::Duration::days(RETENTION_DAYS);
    if start < oldest {
        return Err(format!(
            "the window starts at {}, more than {RETENTION_DAYS} days back: MPS keeps its task \
             list for {RETENTION_DAYS} days (start at {} or later)",
            start.to_rfc3339(),
            oldest.to_rfc3339()
        ));
    }
    Ok(Window { start, end })
}

/// The environment as `reconcile` sees it: warnings show by default (a recovered task is
/// one), other chatter only when `LOG_LEVEL` or `RUST_LOG` asks.
fn reconcile_env(name: &str) -> Option<String> {
    let value = std::env::var(name).ok().filter(|v| !v.is_empty());
    if name == "LOG_LEVEL" && value.is_none() {
        return Some("warn".to_string());
    }
    value
}

/// The summary line on stderr.
fn summary_line(summary: &Summary) -> String {
    serde_json::to_string(summary).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
}

pub(super) fn reconcile(args: ReconcileArgs) -> Result<ExitCode, CliError> {
    logging::init(&log_config_lenient(reconcile_env), true);
    let usage = |e: &dyn std::fmt::Display| CliError::usage(&e.to_string());
    let cfg = Config::from_env(reconcile_env).map_err(|e| usage(&e))?;
    let rcfg = ReconcileConfig::from_env(reconcile_env).map_err(|e| usage(&e))?;
    let mps = rcfg.require_mps().map_err(|e| usage(&e))?.clone();
    let now = Utc::now();
    let window = command_window(
        args.since.as_deref(),
        args.until.as_deref(),
        rcfg.window,
        cfg.archive.utc_offset,
        now,
    )
    .map_err(|e| CliError::usage(&e))?;
    let forward = (args.forward || rcfg.forward) && !args.dry_run;
    if forward && cfg.forward.targets.is_empty() {
        return Err(CliError::usage(
            "--forward (or RECONCILE_FORWARD=on) needs ARCHIVE_FORWARD: there is nowhere to forward to",
        ));
    }
    if cfg.cos.is_none() {
        if let Some(why) = local_dir_problem(&args.local) {
            return Err(CliError::usage(&why));
        }
    }
    let rt = tokio_runtime()?;
    rt.block_on(async move {
        let http = HttpClient::new();
        let host = host_header(&mps.endpoint).unwrap_or_default();
        let client = CloudApiClient::new(http.clone(), mps);
        let run = Run {
            window,
            now,
            grace: rcfg.grace,
            dry_run: args.dry_run,
            deadline: Instant::now() + COMMAND_TIME_LIMIT,
            margin: Duration::ZERO,
        };
        let forwarder = if forward {
            Some(Forwarder::new(http.clone(), cfg.forward).map_err(|e| usage(&e))?)
        } else {
            None
        };
        match cfg.cos {
            Some(cos) => {
                let cos = CosClient::new(http.clone(), cos.bucket, cos.credentials);
                let source = AnySource::Cos(Box::new(CosSource::new(cos.clone())));
                let handler = with_forwarder(Handler::new(cos, cfg.archive), forwarder);
                run_command(&client, &handler, &source, host, &run).await
            }
            None => {
                let source = AnySource::Local(LocalSource::new(args.local.clone()));
                let store = LocalStore::new(args.local);
                let handler = with_forwarder(Handler::new(store, cfg.archive), forwarder);
                run_command(&client, &handler, &source, host, &run).await
            }
        }
    })
}

fn with_forwarder<S: Store>(h: Handler<S>, forwarder: Option<Forwarder>) -> Handler<S> {
    match forwarder {
        Some(f) => h.forwarding(f),
        None => h,
    }
}

async fn run_command<S: Store, R: Source>(
    mps: &CloudApiClient,
    handler: &Handler<S>,
    source: &R,
    host: String,
    run: &Run,
) -> Result<ExitCode, CliError> {
    let reconciler = Reconciler {
        mps,
        handler,
        source,
        host,
    };
    let mut unwritten: Option<std::io::Error> = None;
    let result = reconciler
        .run(run, |line| {
            let text = serde_json::to_string(line).unwrap_or_default();
            let mut stdout = std::io::stdout().lock();
            if let Err(e) = writeln!(stdout, "{text}").and_then(|()| stdout.flush()) {
                if e.kind() != std::io::ErrorKind::BrokenPipe && unwritten.is_none() {
                    unwritten = Some(e);
                }
            }
        })
        .await;
    match result {
        Ok(summary) => {
            eprintln!("{}", summary_line(&summary));
            if let Some(e) = unwritten {
                return Err(CliError::failed(&format!("cannot write the results: {e}")));
            }
            if summary.failed > 0 {
                return Err(CliError::failed(&format!(
                    "{} missing task(s) could not be recovered; run again to retry them",
                    summary.failed
                )));
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => Err(CliError::failed(&crate::text::error_chain(&e))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn windows_from_the_command_line() {
        let now = t("2026-12-05T06:30:00Z");
        let day = Duration::from_secs(86_400);
        let utc = FixedOffset::east_opt(0).unwrap();
        let bj = FixedOffset::east_opt(8 * 3600).unwrap();
        let w = command_window(None, None, day, utc, now).unwrap();
        assert_eq!((w.start, w.end), (t("2026-12-04T06:30:00Z"), now));
        let w = command_window(Some("2026-12-03"), Some("2026-12-04"), day, bj, now).unwrap();
        assert_eq!(w.start, t("2026-12-02T16:00:00Z"));
        assert_eq!(w.end, t("2026-12-04T16:00:00Z"));
        // An end in the future is now; a time is taken as given.
        let w = command_window(
            Some("2026-12-05T01:00:00+08:00"),
            Some("2026-12-06"),
            day,
            utc,
            now,
        )
        .unwrap();
        assert_eq!((w.start, w.end), (t("2026-12-04T17:00:00Z"), now));
        let w = command_window(None, Some("2026-12-05T00:00:00Z"), day, utc, now).unwrap();
        assert_eq!(w.start, t("2026-12-04T00:00:00Z"));
        // Exactly 7 days back is allowed; a second more is not.
        assert!(command_window(Some("2026-11-28T06:30:00Z"), None, day, utc, now).is_ok());
        let e = command_window(Some("2026-11-28T06:29:59Z"), None, day, utc, now).unwrap_err();
        assert!(e.contains("7 days"), "{e}");
        assert!(command_window(Some("2026-11-20"), None, day, utc, now).is_err());
        let e = command_window(Some("2026-12-05"), Some("2026-12-04"), day, utc, now).unwrap_err();
        assert!(e.contains("empty"), "{e}");
        let e = command_window(Some("yesterday"), None, day, utc, now).unwrap_err();
        assert!(e.contains("RFC 3339"), "{e}");
    }
}
