//! The archive readers `ls`, `get` and `stats`, over COS or the local mirror, and what
//! `replay` shares with them (source, filters, output).
//!
//! Output goes to stdout (a table, or one JSON object a line with `--json`); notes (what
//! was skipped, which types exist) and errors go to stderr, one line each.

use std::io::{BufWriter, IsTerminal, Write};
use std::ops::ControlFlow;
use std::path::PathBuf;
use std::process::ExitCode;

use bytes::Bytes;
use chrono::{DateTime, FixedOffset, NaiveDate, SecondsFormat, Utc};
use clap::Args;
use serde_json::json;

use super::{tokio_runtime, EXIT_FAILED, EXIT_USAGE};
use crate::archive::record;
use crate::archive::{
    self, Bound, CosSource, Finder, Findings, Found, KeyLayout, LocalSource, Page, Source,
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
    /// From, inclusive: a day (YYYY-MM-DD, the date in the key) or an RFC 3339 time such
    /// as 2026-11-24T02:00:00+08:00 (held to the record's event_time, else received_at)
    #[arg(long, value_name = "DATE|TIME", value_parser = bound_arg)]
    since: Option<Bound>,
    /// Until, inclusive: a day (YYYY-MM-DD) or an RFC 3339 time, as --since
    #[arg(long, value_name = "DATE|TIME", value_parser = bound_arg)]
    until: Option<Bound>,
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
    /// Local mirror of the bucket, read when COS_BUCKET is unset; must be an existing
    /// directory
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

fn bound_arg(s: &str) -> Result<Bound, String> {
    Bound::parse(s).map_err(|e| e.to_string())
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

    async fn list_page(
        &self,
        prefix: &str,
        delimiter: Option<char>,
        marker: Option<&str>,
    ) -> Result<Page, SourceError> {
        match self {
            AnySource::Local(s) => s.list_page(prefix, delimiter, marker).await,
            AnySource::Cos(s) => s.list_page(prefix, delimiter, marker).await,
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
    /// `ARCHIVE_UTC_OFFSET`: the offset key dates are written in.
    pub(super) offset: FixedOffset,
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

/// Makes every large buffer (records run up to 32 MiB) its own mapping, returned to the
/// kernel when freed. glibc otherwise raises its mmap threshold after the first large
/// free and serves later large buffers from the heap, where fragmentation can hold a
/// record's size more than once: the readers' memory bound would depend on luck.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn large_buffers_mapped() {
    // SAFETY: mallopt only tunes the allocator; it is called before the readers allocate
    // anything large, and a refusal (return 0) leaves the defaults.
    // A fixed threshold also stops glibc adjusting the trim threshold: keep up to 8 MiB
    // of freed heap instead of giving back (and faulting in again) every small record's.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 8 << 20);
    }
}

/// Other allocators (musl with mimalloc in the deployed binary) return memory themselves.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn large_buffers_mapped() {}

/// Reads the configuration (with `ARCHIVE_FORWARD` replaced by `forward_to` when given,
/// so a replay target is configured exactly as the function's forwarding is) and opens
/// the source it names.
pub(super) fn setup(
    source: SourceArgs,
    forward_to: Option<&str>,
) -> Result<(Setup, ForwardConfig), ExitCode> {
    large_buffers_mapped();
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
        None => {
            // A mirror that is not there is an error, not an empty archive.
            if let Some(why) = super::local_dir_problem(&source.local) {
                return Err(fail(EXIT_USAGE, &why));
            }
            AnySource::Local(LocalSource::new(source.local))
        }
        Some(cos) => AnySource::Cos(Box::new(CosSource::new(CosClient::new(
            http.clone(),
            cos.bucket,
            cos.credentials,
        )))),
    };
    Ok((
        Setup {
            layout,
            offset: cfg.archive.utc_offset,
            source,
            rt,
            http,
        },
        cfg.forward,
    ))
}

pub(super) fn filters(args: &FilterArgs, setup: &Setup) -> Result<archive::Filters, ExitCode> {
    let layout = &setup.layout;
    let day = |b: Option<Bound>| b.map(|b| b.day(setup.offset));
    let time = |b: Option<Bound>| b.and_then(|b| b.time());
    let f = archive::Filters::new(
        day(args.since),
        day(args.until),
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
    .and_then(|f| f.with_times(time(args.since), time(args.until)))
    .and_then(|f| f.check_template(&layout.template).map(|()| f));
    f.map_err(|e| fail(EXIT_USAGE, &e.to_string()))
}

/// Hands each callback the filters want to `each`, by date then key, as the listing
/// goes (nothing is collected), until `each` breaks; then reports on stderr what was
/// skipped. A source that fails mid-way is a one-line error, exit 1, after what was
/// already handed out.
pub(super) fn each_found(
    setup: &Setup,
    filters: &archive::Filters,
    mut each: impl FnMut(Found) -> ControlFlow<()>,
) -> Result<Findings, ExitCode> {
    let source_error = |e: SourceError| fail(EXIT_FAILED, &crate::text::error_chain(&e));
    if filters.needs_records(&setup.layout.template) {
        note(
            "COS_KEY_TEMPLATE has no {outcome}: the record of each candidate is read to learn \
             its outcome (slower than a key filter)",
        );
    }
    let mut finder = setup
        .rt
        .block_on(Finder::start(&setup.source, &setup.layout, filters))
        .map_err(source_error)?;
    while let Some(f) = setup.rt.block_on(finder.next()).map_err(source_error)? {
        if each(f).is_break() {
            break;
        }
    }
    let found = setup.rt.block_on(finder.finish()).map_err(source_error)?;
    report(setup, &found);
    Ok(found)
}

/// Notes on stderr what a search skipped or could not match, and when the source holds
/// nothing at all under the key prefix (a wrong bucket or prefix, not an empty result).
pub(super) fn report(setup: &Setup, found: &Findings) {
    if found.listed == 0 {
        let prefix = &setup.layout.prefix;
        if let Ok(true) = setup
            .rt
            .block_on(archive::holds_nothing(&setup.source, prefix))
        {
            note(&format!(
                "{} holds nothing under the prefix {prefix:?} (COS_KEY_PREFIX)",
                setup.source.location()
            ));
        }
    }
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

/// Rows of a table taken to size its columns before the first line is written; later
/// rows keep those widths (a longer cell pushes its line out, the table goes on).
const TABLE_SAMPLE: usize = 256;

/// An aligned table written as its rows come: the columns are sized on the header and
/// the first [`TABLE_SAMPLE`] rows; the last column is not padded.
struct Table<W: Write> {
    out: W,
    header: Vec<String>,
    sample: Vec<Vec<String>>,
    widths: Option<Vec<usize>>,
}

impl<W: Write> Table<W> {
    fn new(out: W, header: &[&str]) -> Table<W> {
        Table {
            out,
            header: header.iter().map(|h| h.to_string()).collect(),
            sample: Vec::new(),
            widths: None,
        }
    }

    fn row(&mut self, row: Vec<String>) -> std::io::Result<()> {
        if self.widths.is_some() {
            return self.write(&row);
        }
        self.sample.push(row);
        if self.sample.len() >= TABLE_SAMPLE {
            self.start()?;
        }
        Ok(())
    }

    /// Sizes the columns on what was sampled and writes it.
    fn start(&mut self) -> std::io::Result<()> {
        let mut widths: Vec<usize> = self.header.iter().map(|h| h.chars().count()).collect();
        for r in &self.sample {
            for (w, c) in widths.iter_mut().zip(r) {
                *w = (*w).max(c.chars().count());
            }
        }
        self.widths = Some(widths);
        let header = self.header.clone();
        self.write(&header)?;
        for r in std::mem::take(&mut self.sample) {
            self.write(&r)?;
        }
        Ok(())
    }

    fn write(&mut self, cells: &[String]) -> std::io::Result<()> {
        let widths = self.widths.as_deref().unwrap_or_default();
        let mut s = String::new();
        let last = cells.len().saturating_sub(1);
        for (i, c) in cells.iter().enumerate() {
            s.push_str(c);
            if i < last {
                let w = widths.get(i).copied().unwrap_or(0);
                let pad = w.saturating_sub(c.chars().count()) + 2;
                s.extend(std::iter::repeat_n(' ', pad));
            }
        }
        writeln!(self.out, "{s}")
    }

    /// Writes what is still sampled and flushes.
    fn finish(mut self) -> std::io::Result<()> {
        if self.widths.is_none() {
            self.start()?;
        }
        self.out.flush()
    }
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

/// Remembers the first write error; breaks the listing on it.
fn written(slot: &mut Option<std::io::Error>, r: std::io::Result<()>) -> ControlFlow<()> {
    match r {
        Ok(()) => ControlFlow::Continue(()),
        Err(e) => {
            *slot = Some(e);
            ControlFlow::Break(())
        }
    }
}

/// `ls`: one line per archived callback, written as the listing goes.
pub(crate) fn ls(args: LsArgs) -> ExitCode {
    let run = || -> Result<(), ExitCode> {
        let (setup, _) = setup(args.source, None)?;
        let filters = filters(&args.filters, &setup)?;
        let stdout = std::io::stdout();
        let mut error = None;
        let mut n = 0u64;
        if args.json {
            let mut out = BufWriter::new(stdout.lock());
            each_found(&setup, &filters, |f| {
                written(&mut error, writeln!(out, "{}", found_json(&f)))
            })?;
            if error.is_none() {
                error = out.flush().err();
            }
        } else {
            let mut table = Table::new(
                BufWriter::new(stdout.lock()),
                &[
                    "DATE",
                    "TYPE",
                    "STATUS",
                    "OUTCOME",
                    "SIZE",
                    "LAST_MODIFIED",
                    "KEY",
                ],
            );
            each_found(&setup, &filters, |f| {
                n += 1;
                let row = vec![
                    opt_date(f.fields.date),
                    f.fields.event_type.unwrap_or_else(|| "-".into()),
                    f.fields.status.unwrap_or_else(|| "-".into()),
                    opt_outcome(f.fields.outcome),
                    f.size.to_string(),
                    time_text(f.last_modified).unwrap_or_else(|| "-".into()),
                    f.key,
                ];
                written(&mut error, table.row(row))
            })?;
            if error.is_none() {
                error = table.finish().err();
            }
            if error.is_none() {
                note(&count(n, "callback", "callbacks"));
            }
        }
        written_or_exit(error.map_or(Ok(()), Err))
    };
    run().err().unwrap_or(ExitCode::SUCCESS)
}

/// `stats`: counts per date, event type, status and outcome (counters only: nothing else
/// is held).
pub(crate) fn stats(args: StatsArgs) -> ExitCode {
    let run = || -> Result<(), ExitCode> {
        let (setup, _) = setup(args.source, None)?;
        let filters = filters(&args.filters, &setup)?;
        let mut counter = archive::Counter::default();
        each_found(&setup, &filters, |f| {
            counter.add(&f);
            ControlFlow::Continue(())
        })?;
        let rows = counter.rows();
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
            let mut table = Table::new(
                BufWriter::new(std::io::stdout().lock()),
                &["DATE", "TYPE", "STATUS", "OUTCOME", "COUNT"],
            );
            let total: u64 = rows.iter().map(|r| r.count).sum();
            let written = rows
                .into_iter()
                .map(|r| {
                    vec![
                        opt_date(r.date),
                        r.event_type.unwrap_or_else(|| "-".into()),
                        r.status.unwrap_or_else(|| "-".into()),
                        opt_outcome(r.outcome),
                        r.count.to_string(),
                    ]
                })
                .chain(std::iter::once(vec![
                    "total".into(),
                    String::new(),
                    String::new(),
                    String::new(),
                    total.to_string(),
                ]))
                .try_for_each(|r| table.row(r))
                .and_then(|()| table.finish());
            written_or_exit(written)?;
        }
        Ok(())
    };
    run().err().unwrap_or(ExitCode::SUCCESS)
}

/// `text` (JSON, already checked) indented two spaces a level: only whitespace between
/// tokens changes, so keys keep their order and numbers and strings their exact text.
fn pretty_json(text: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 2);
    let mut depth = 0usize;
    let (mut in_string, mut escaped) = (false, false);
    let newline = |out: &mut Vec<u8>, depth: usize| {
        out.push(b'\n');
        out.extend(std::iter::repeat_n(b' ', depth * 2));
    };
    let mut i = 0;
    while i < text.len() {
        let c = text[i];
        i += 1;
        if in_string {
            out.push(c);
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            b' ' | b'\n' | b'\r' | b'\t' => {}
            b'"' => {
                in_string = true;
                out.push(c);
            }
            b'{' | b'[' => {
                out.push(c);
                // An empty object or array stays on its line.
                let next = text[i..].iter().position(|b| !b.is_ascii_whitespace());
                let close = if c == b'{' { b'}' } else { b']' };
                if next.is_some_and(|n| text[i + n] == close) {
                    out.push(close);
                    i += next.unwrap_or(0) + 1;
                } else {
                    depth += 1;
                    newline(&mut out, depth);
                }
            }
            b'}' | b']' => {
                depth = depth.checked_sub(1)?;
                newline(&mut out, depth);
                out.push(c);
            }
            b',' => {
                out.push(c);
                newline(&mut out, depth);
            }
            b':' => out.extend_from_slice(b": "),
            _ => out.push(c),
        }
    }
    (depth == 0 && !in_string).then_some(out)
}

/// `get`: one record, or its event, on stdout: indented when stdout is a terminal, else
/// one line.
pub(crate) fn get(args: GetArgs) -> ExitCode {
    let run = || -> Result<(), ExitCode> {
        let (setup, _) = setup(args.source, None)?;
        let body = setup
            .rt
            .block_on(setup.source.get(&args.key))
            .map_err(|e| fail(EXIT_FAILED, &crate::text::error_chain(&e)))?;
        let rec = record::parse(&body).map_err(|e| fail(EXIT_FAILED, &e.about(&args.key)))?;
        // A key the template cannot read has no digest to hold the record to.
        let modified = match setup.layout.template.read(&setup.layout.prefix, &args.key) {
            None => false,
            Some(fields) => record::is_modified(rec.event, &fields.digest)
                .map_err(|e| fail(EXIT_FAILED, &e.about(&args.key)))?,
        };
        let text: &[u8] = if args.event {
            rec.event.get().as_bytes()
        } else {
            body.trim_ascii_end()
        };
        let stdout = std::io::stdout();
        // For a person, indented; for a pipe, the stored line as it is.
        let pretty = if stdout.is_terminal() {
            pretty_json(text)
        } else {
            None
        };
        let mut out = stdout.lock();
        let written = out
            .write_all(pretty.as_deref().unwrap_or(text))
            .and_then(|()| out.write_all(b"\n"))
            .and_then(|()| out.flush());
        written_or_exit(written)?;
        if modified {
            return Err(fail(
                EXIT_FAILED,
                &format!(
                    "warning: record {:?} is modified: its content no longer matches the digest in its key",
                    args.key
                ),
            ));
        }
        Ok(())
    };
    run().err().unwrap_or(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::pretty_json;

    #[test]
    fn pretty_json_changes_only_whitespace() {
        let text = br#"{"z":1.50,"a":{"s":"x\"y{},[]:","e":{},"l":[],"n":[1,123456789012345678901234567890]}}"#;
        let pretty = String::from_utf8(pretty_json(text).unwrap()).unwrap();
        assert_eq!(
            pretty,
            "{\n  \"z\": 1.50,\n  \"a\": {\n    \"s\": \"x\\\"y{},[]:\",\n    \"e\": {},\n    \"l\": [],\n    \"n\": [\n      1,\n      123456789012345678901234567890\n    ]\n  }\n}"
        );
        let back: serde_json::Value = serde_json::from_str(&pretty).unwrap();
        assert_eq!(
            back,
            serde_json::from_slice::<serde_json::Value>(text).unwrap()
        );
    }
}
