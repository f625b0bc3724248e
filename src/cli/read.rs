//! What the archive readers (`ls`, `get`, `stats`, `replay`) share: the flags that choose
//! callbacks and the source, the source itself (COS or the local mirror) opened from the
//! configuration, and the search that hands out what the filters want.
//!
//! Results go to stdout; notes (what was skipped, which types exist) and errors go to
//! stderr, one line each.

use std::ops::ControlFlow;
use std::path::PathBuf;

use bytes::Bytes;
use chrono::FixedOffset;
use clap::Args;

use super::error::CliError;
use super::output::{count, note};
use super::start::{local_dir_problem, tokio_runtime};
use crate::archive::{
    self, Bound, CosSource, Finder, Findings, Found, KeyLayout, LocalSource, Page, Source,
    SourceError,
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

fn bound_arg(s: &str) -> Result<Bound, String> {
    Bound::parse(s).map_err(|e| e.to_string())
}

fn outcome_arg(s: &str) -> Result<Outcome, String> {
    Outcome::parse(s.trim()).ok_or_else(|| {
        let names: Vec<&str> = Outcome::ALL.iter().map(|o| o.as_str()).collect();
        format!("expected one of {}", names.join(", "))
    })
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
) -> Result<(Setup, ForwardConfig), CliError> {
    large_buffers_mapped();
    logging::init(&log_config_lenient(reader_env), true);
    let get = |name: &str| match (name, forward_to) {
        ("ARCHIVE_FORWARD", Some(to)) => Some(to.to_string()),
        ("ARCHIVE_FORWARD", None) => None,
        _ => reader_env(name),
    };
    let cfg = Config::from_env(get).map_err(|e| CliError::usage(&e.to_string()))?;
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
            if let Some(why) = local_dir_problem(&source.local) {
                return Err(CliError::usage(&why));
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

pub(super) fn filters(args: &FilterArgs, setup: &Setup) -> Result<archive::Filters, CliError> {
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
    f.map_err(|e| CliError::usage(&e.to_string()))
}

/// A source that failed: its error chain, exit 1.
pub(super) fn source_failed(e: SourceError) -> CliError {
    CliError::failed(&crate::text::error_chain(&e))
}

/// Hands each callback the filters want to `each`, by date then key, as the listing
/// goes (nothing is collected), until `each` breaks; then reports on stderr what was
/// skipped. A source that fails mid-way is a one-line error, exit 1, after what was
/// already handed out.
pub(super) fn each_found(
    setup: &Setup,
    filters: &archive::Filters,
    mut each: impl FnMut(Found) -> ControlFlow<()>,
) -> Result<Findings, CliError> {
    if filters.needs_records(&setup.layout.template) {
        note(
            "COS_KEY_TEMPLATE has no {outcome}: the record of each candidate is read to learn \
             its outcome (slower than a key filter)",
        );
    }
    let mut finder = setup
        .rt
        .block_on(Finder::start(&setup.source, &setup.layout, filters))
        .map_err(source_failed)?;
    while let Some(f) = setup.rt.block_on(finder.next()).map_err(source_failed)? {
        if each(f).is_break() {
            break;
        }
    }
    let found = setup.rt.block_on(finder.finish()).map_err(source_failed)?;
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
