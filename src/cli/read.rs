//! The archive readers `ls`, `get` and `stats`, over COS or the local mirror, and what
//! `replay` shares with them (source, filters, output).
//!
//! Output goes to stdout (a table, or one JSON object a line with `--json`); notes (what
//! was skipped, which types exist) and errors go to stderr, one line each.

use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use bytes::Bytes;
use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use clap::Args;
use serde_json::json;

use super::{tokio_runtime, EXIT_FAILED, EXIT_USAGE};
use crate::archive::record::{self, RecordError};
use crate::archive::{
    self, parse_date, CosSource, Findings, Found, KeyLayout, Listing, LocalSource, Source,
    SourceError, StatRow,
};
use crate::config::{log_config_lenient, Config, ForwardConfig};
use crate::cos::CosClient;
use crate::logging;
use crate::record::Outcome;
use crate::transport::HttpClient;

/// The filters every reader shares (README: Reading the archive back).
#[derive(Debug, Args)]
pub(crate) struct FilterArgs {
    /// First day, inclusive: the date in the key (YYYY-MM-DD)
    #[arg(long, value_name = "DATE", value_parser = date_arg)]
    since: Option<NaiveDate>,
    /// Last day, inclusive: the date in the key (YYYY-MM-DD)
    #[arg(long, value_name = "DATE", value_parser = date_arg)]
    until: Option<NaiveDate>,
    /// Event type, as its folder is named, e.g. WorkflowTask (repeatable)
    #[arg(long = "type", value_name = "TYPE")]
    types: Vec<String>,
    /// Status, as in the key (case-insensitive), e.g. finish
    #[arg(long, value_name = "STATUS")]
    status: Option<String>,
    /// Task id, as in the event or as in the key
    #[arg(long = "task", value_name = "TASK_ID")]
    task: Option<String>,
    /// How the task ended: ok, failed, partial, running, unknown (repeatable or a comma
    /// list; case-insensitive)
    #[arg(long = "outcome", value_name = "OUTCOME", value_delimiter = ',', value_parser = outcome_arg)]
    outcomes: Vec<Outcome>,
    /// Callbacks of tasks that failed wholly or in part: --outcome failed,partial
    #[arg(long)]
    failed: bool,
}

/// Where the archive is read from when COS_BUCKET is unset.
#[derive(Debug, Args)]
pub(crate) struct SourceArgs {
    /// Local mirror of the bucket, read when COS_BUCKET is unset
    #[arg(long, value_name = "DIR", default_value = "./local-cos")]
    local: PathBuf,
}

/// `ls`.
#[derive(Debug, Args)]
pub(crate) struct LsArgs {
    #[command(flatten)]
    filters: FilterArgs,
    #[command(flatten)]
    source: SourceArgs,
    /// One JSON object a line: key, date, event_type, task_id, status, outcome, digest,
    /// size, last_modified
    #[arg(long)]
    json: bool,
}

/// `get`.
#[derive(Debug, Args)]
pub(crate) struct GetArgs {
    /// Object key, as `ls` shows it
    #[arg(value_name = "KEY")]
    key: String,
    /// Print only the archived event (the callback as received, credentials masked)
    #[arg(long)]
    event: bool,
    #[command(flatten)]
    source: SourceArgs,
}

/// `stats`.
#[derive(Debug, Args)]
pub(crate) struct StatsArgs {
    #[command(flatten)]
    filters: FilterArgs,
    #[command(flatten)]
    source: SourceArgs,
    /// One JSON object a line: date, event_type, status, outcome, count
    #[arg(long)]
    json: bool,
}

fn date_arg(s: &str) -> Result<NaiveDate, String> {
    parse_date(s).map_err(|e| e.to_string())
}

fn outcome_arg(s: &str) -> Result<Outcome, String> {
    Outcome::parse(s.trim()).ok_or_else(|| {
        let names: Vec<&str> = Outcome::ALL.iter().map(|o| o.as_str()).collect();
        format!("expected one of {}", names.join(", "))
    })
}

/// A note or an error for the operator: one line on stderr.
pub(super) fn note(text: &str) {
    eprintln!("mps-cos-backup: {}", crate::text::one_line(text));
}

pub(super) fn fail(code: u8, text: &str) -> ExitCode {
    note(text);
    ExitCode::from(code)
}

/// The source the configuration names: COS when `COS_BUCKET` is set, else the mirror.
pub(super) enum AnySource {
    Local(LocalSource),
    // Boxed: one source per process, and the COS client is much larger than a path.
    Cos(Box<CosSource>),
}

impl Source for AnySource {
    fn location(&self) -> &str {
        match self {
            AnySource::Local(s) => s.location(),
            AnySource::Cos(s) => s.location(),
        }
    }

    async fn list(&self, prefix: &str, delimiter: Option<char>) -> Result<Listing, SourceError> {
        match self {
            AnySource::Local(s) => s.list(prefix, delimiter).await,
            AnySource::Cos(s) => s.list(prefix, delimiter).await,
        }
    }

    async fn get(&self, key: &str) -> Result<Bytes, SourceError> {
        match self {
            AnySource::Local(s) => s.get(key).await,
            AnySource::Cos(s) => s.get(key).await,
        }
    }
}

/// What every reader starts with: configuration, key layout, source, and the runtime the
/// source runs on.
pub(super) struct Setup {
    pub(super) layout: KeyLayout,
    pub(super) source: AnySource,
    pub(super) rt: tokio::runtime::Runtime,
    pub(super) http: HttpClient,
}

/// The environment as readers see it: the COS client's warnings (a missing key, a retry
/// given up) are its caller's business here, and the reader reports the outcome itself, so
/// the log shows errors only unless `LOG_LEVEL` or `RUST_LOG` asks for more.
fn reader_env(name: &str) -> Option<String> {
    let value = std::env::var(name).ok().filter(|v| !v.is_empty());
    if name == "LOG_LEVEL" && value.is_none() {
        return Some("error".to_string());
    }
    value
}

/// Reads the configuration (with `ARCHIVE_FORWARD` replaced by `forward_to` when given,
/// so a replay target is configured exactly as the function's forwarding is) and opens
/// the source it names.
pub(super) fn setup(
    source: SourceArgs,
    forward_to: Option<&str>,
) -> Result<(Setup, ForwardConfig), ExitCode> {
    logging::init(&log_config_lenient(reader_env), true);
    let get = |name: &str| match (name, forward_to) {
        ("ARCHIVE_FORWARD", Some(to)) => Some(to.to_string()),
        ("ARCHIVE_FORWARD", None) => None,
        _ => reader_env(name),
    };
    let cfg = Config::from_env(get).map_err(|e| fail(EXIT_USAGE, &e.to_string()))?;
    let layout = KeyLayout {
        prefix: cfg.archive.key_prefix.clone(),
        template: cfg.archive.key_template.clone(),
    };
    let rt = tokio_runtime()?;
    let http = {
        // The HTTP client's pool and timers belong to the runtime.
        let _in_runtime = rt.enter();
        HttpClient::new()
    };
    let source = match cfg.cos {
        None => AnySource::Local(LocalSource::new(source.local)),
        Some(cos) => AnySource::Cos(Box::new(CosSource::new(CosClient::new(
            http.clone(),
            cos.bucket,
            cos.credentials,
        )))),
    };
    Ok((
        Setup {
            layout,
            source,
            rt,
            http,
        },
        cfg.forward,
    ))
}

pub(super) fn filters(args: &FilterArgs, layout: &KeyLayout) -> Result<archive::Filters, ExitCode> {
    let f = archive::Filters::new(
        args.since,
        args.until,
        &args.types,
        args.status.as_deref(),
        args.task.as_deref(),
    )
    .map(|f| {
        let mut outcomes = args.outcomes.clone();
        if args.failed {
            outcomes.extend([Outcome::Failed, Outcome::Partial]);
        }
        f.with_outcomes(&outcomes)
    })
    .and_then(|f| f.check_template(&layout.template).map(|()| f));
    f.map_err(|e| fail(EXIT_USAGE, &e.to_string()))
}

/// Runs [`archive::find`] and reports on stderr what it skipped.
pub(super) fn find(setup: &Setup, filters: &archive::Filters) -> Result<Findings, ExitCode> {
    if filters.needs_records(&setup.layout.template) {
        note(
            "COS_KEY_TEMPLATE has no {outcome}: the record of each candidate is read to learn \
             its outcome (slower than a key filter)",
        );
    }
    let found = setup
        .rt
        .block_on(archive::find(&setup.source, &setup.layout, filters))
        .map_err(|e| fail(EXIT_FAILED, &crate::text::error_chain(&e)))?;
    if !found.unknown_types.is_empty() {
        let held = if found.held_types.is_empty() {
            "none".to_string()
        } else {
            found.held_types.join(", ")
        };
        note(&format!(
            "--type {} matches no event-type folder in {}; the archive holds: {held}",
            found.unknown_types.join(", "),
            setup.source.location()
        ));
    }
    if found.unreadable > 0 {
        note(&format!(
            "skipped {} that COS_KEY_TEMPLATE cannot read (other objects under the prefix)",
            count(found.unreadable, "key", "keys")
        ));
    }
    if found.unreadable_records > 0 {
        note(&format!(
            "left out {} whose outcome could not be read",
            count(found.unreadable_records, "record", "records")
        ));
    }
    if found.duplicates > 0 {
        note(&format!(
            "left out {} repeating a digest listed under an earlier date (a redelivery)",
            count(found.duplicates, "key", "keys")
        ));
    }
    Ok(found)
}

pub(super) fn count(n: impl Into<u64>, one: &str, many: &str) -> String {
    let n = n.into();
    format!("{n} {}", if n == 1 { one } else { many })
}

/// An outcome for a table cell; `-` when the key has none and no record was read.
fn opt_outcome(o: Option<Outcome>) -> String {
    o.map_or_else(|| "-".to_string(), |o| o.as_str().to_string())
}

fn opt_date(d: Option<NaiveDate>) -> String {
    d.map_or_else(|| "-".to_string(), |d| d.to_string())
}

pub(super) fn time_text(t: Option<DateTime<Utc>>) -> Option<String> {
    t.map(|t| t.to_rfc3339_opts(SecondsFormat::Secs, true))
}

/// Writes lines to stdout; a closed pipe (`| head`) ends the output quietly.
/// Writes `lines` to stdout. A closed pipe (`| head`) ends the output quietly; any other
/// write error (a full disk) is a one-line error and exit 1, never a silent success.
pub(super) fn emit(lines: impl Iterator<Item = String>) -> Result<(), ExitCode> {
    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let written = lines
        .map(|line| writeln!(out, "{line}"))
        .find(Result::is_err)
        .unwrap_or(Ok(()))
        .and_then(|()| out.flush());
    written_or_exit(written)
}

/// `Ok` for a write that worked or met a closed pipe; else the one-line error, exit 1.
pub(super) fn written_or_exit(written: std::io::Result<()>) -> Result<(), ExitCode> {
    match written {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(fail(
            EXIT_FAILED,
            &format!("cannot write the output: {}", crate::text::error_chain(&e)),
        )),
        _ => Ok(()),
    }
}

/// Pads each column to its widest cell; the last column is not padded.
fn table(header: &[&str], rows: &[Vec<String>]) -> Vec<String> {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for r in rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let mut s = String::new();
        let last = cells.len().saturating_sub(1);
        for (i, (c, w)) in cells.iter().zip(&widths).enumerate() {
            s.push_str(c);
            if i < last {
                let pad = w - c.chars().count() + 2;
                s.extend(std::iter::repeat_n(' ', pad));
            }
        }
        s
    };
    let mut out = vec![line(header.to_vec())];
    out.extend(
        rows.iter()
            .map(|r| line(r.iter().map(String::as_str).collect())),
    );
    out
}

fn found_json(f: &Found) -> String {
    json!({
        "key": f.key,
        "date": f.fields.date.map(|d| d.to_string()),
        "event_type": f.fields.event_type,
        "task_id": f.fields.task_id,
        "status": f.fields.status,
        "outcome": f.fields.outcome,
        "digest": f.fields.digest,
        "size": f.size,
        "last_modified": time_text(f.last_modified),
    })
    .to_string()
}

/// `ls`: one line per archived callback.
pub(crate) fn ls(args: LsArgs) -> ExitCode {
    let run = || -> Result<(), ExitCode> {
        let (setup, _) = setup(args.source, None)?;
        let filters = filters(&args.filters, &setup.layout)?;
        let found = find(&setup, &filters)?;
        if args.json {
            emit(found.found.iter().map(found_json))?;
        } else {
            let rows: Vec<Vec<String>> = found
                .found
                .iter()
                .map(|f| {
                    vec![
                        opt_date(f.fields.date),
                        f.fields.event_type.clone().unwrap_or_else(|| "-".into()),
                        f.fields.status.clone().unwrap_or_else(|| "-".into()),
                        opt_outcome(f.fields.outcome),
                        f.size.to_string(),
                        time_text(f.last_modified).unwrap_or_else(|| "-".into()),
                        f.key.clone(),
                    ]
                })
                .collect();
            emit(
                table(
                    &[
                        "DATE",
                        "TYPE",
                        "STATUS",
                        "OUTCOME",
                        "SIZE",
                        "LAST_MODIFIED",
                        "KEY",
                    ],
                    &rows,
                )
                .into_iter(),
            )?;
            note(&count(found.found.len() as u64, "callback", "callbacks"));
        }
        Ok(())
    };
    run().err().unwrap_or(ExitCode::SUCCESS)
}

/// `stats`: counts per date, event type, status and outcome.
pub(crate) fn stats(args: StatsArgs) -> ExitCode {
    let run = || -> Result<(), ExitCode> {
        let (setup, _) = setup(args.source, None)?;
        let filters = filters(&args.filters, &setup.layout)?;
        let found = find(&setup, &filters)?;
        let rows = archive::stats(&found.found);
        if args.json {
            emit(rows.iter().map(|r: &StatRow| {
                json!({
                    "date": r.date.map(|d| d.to_string()),
                    "event_type": r.event_type,
                    "status": r.status,
                    "outcome": r.outcome,
                    "count": r.count,
                })
                .to_string()
            }))?;
        } else {
            let mut cells: Vec<Vec<String>> = rows
                .iter()
                .map(|r| {
                    vec![
                        opt_date(r.date),
                        r.event_type.clone().unwrap_or_else(|| "-".into()),
                        r.status.clone().unwrap_or_else(|| "-".into()),
                        opt_outcome(r.outcome),
                        r.count.to_string(),
                    ]
                })
                .collect();
            let total: u64 = rows.iter().map(|r| r.count).sum();
            cells.push(vec![
                "total".into(),
                String::new(),
                String::new(),
                String::new(),
                total.to_string(),
            ]);
            let header = ["DATE", "TYPE", "STATUS", "OUTCOME", "COUNT"];
            emit(table(&header, &cells).into_iter())?;
        }
        Ok(())
    };
    run().err().unwrap_or(ExitCode::SUCCESS)
}

/// Why `get` or a replayed record failed, with the key.
fn record_error(key: &str, e: &RecordError) -> String {
    format!("record {key:?}: {e}")
}

/// `get`: one record, or its event, on stdout.
pub(crate) fn get(args: GetArgs) -> ExitCode {
    let run = || -> Result<(), ExitCode> {
        let (setup, _) = setup(args.source, None)?;
        let body = setup
            .rt
            .block_on(setup.source.get(&args.key))
            .map_err(|e| fail(EXIT_FAILED, &crate::text::error_chain(&e)))?;
        let rec =
            record::parse(&body).map_err(|e| fail(EXIT_FAILED, &record_error(&args.key, &e)))?;
        let text: &[u8] = if args.event {
            rec.event.get().as_bytes()
        } else {
            body.trim_ascii_end()
        };
        let mut out = std::io::stdout().lock();
        let written = out
            .write_all(text)
            .and_then(|()| out.write_all(b"\n"))
            .and_then(|()| out.flush());
        written_or_exit(written)
    };
    run().err().unwrap_or(ExitCode::SUCCESS)
}
