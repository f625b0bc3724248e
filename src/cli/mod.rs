//! Command line: runtime mode (no arguments), `invoke`, the archive readers (`ls`, `get`,
//! `stats`, `replay`), `deploy`, `--help`, `--version`.

mod deploy;
mod read;
mod reconcile;
mod replay;
mod timer;

use std::ffi::OsString;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::{Args, Parser, Subcommand};
use serde_json::json;
use tokio::io::AsyncReadExt;
use tracing::error;

use crate::config::{log_config_lenient, Config, ConfigError, ForwardConfig, RuntimeConfig};
use crate::cos::CosClient;
use crate::forward::Forwarder;
use crate::handler::{ArchiveConfig, HandleError, Handler, Invocation};
use crate::http::auth::CallbackAuth;
use crate::logging::LogConfig;
use crate::record::Source;
use crate::runtime::{Context, Diagnostic, Function, RuntimeError};
use crate::store::local::LocalStore;
use crate::store::Store;
use crate::text::error_chain;
use crate::transport::HttpClient;
use crate::{logging, runtime};
use bytes::Bytes;

const AFTER_HELP: &str = "\
Without arguments it runs in runtime mode (SCF starts it so, through ./bootstrap).

Examples:
  mps-cos-backup invoke fixtures/*.json
  mps-cos-backup ls --since 2026-03-15 --until 2026-03-15 --type WorkflowTask
  mps-cos-backup ls --failed --since 2026-03-15 --json
  mps-cos-backup get mps-events/WorkflowTask/2026/03/15/TASK.finish.partial.DIGEST.json --event
  mps-cos-backup stats --since 2026-03-01 --until 2026-03-31
  mps-cos-backup replay --to https://hooks.example.com/mps --since 2026-03-21 --dry-run
  mps-cos-backup reconcile --dry-run
  mps-cos-backup deploy --create-role --plan

Configuration is read from the environment (COS_BUCKET, COS_REGION, ...); see README.md
and `mps-cos-backup help COMMAND` for what each command reads.
Readers use COS when COS_BUCKET is set, else the local mirror (--local).
Exit codes: 0 normal end, 1 runtime API lost / an invoke, get, replay, reconcile or deploy
failed / credentials rejected / output could not be written, 2 bad configuration or
usage, 130 replay interrupted.";

/// Where the archive readers find it, and as whom (`ls`, `get`, `stats`, `replay`).
macro_rules! reader_env {
    () => {
        "Environment:
  COS_BUCKET           read from this bucket (else the local mirror, --local)
  COS_REGION           its region (default TENCENTCLOUD_REGION); COS_ENDPOINT to override the host
  COS_KEY_PREFIX, COS_KEY_TEMPLATE, ARCHIVE_UTC_OFFSET
                       the key layout the function writes with
  TENCENTCLOUD_SECRETID, TENCENTCLOUD_SECRETKEY, TENCENTCLOUD_SESSIONTOKEN
                       credentials for COS (a role or a key allowed cos:GetBucket and cos:GetObject)
  LOG_LEVEL, LOG_FORMAT
                       diagnostics on stderr (errors only by default)"
    };
}

const INVOKE_HELP: &str = "\
Examples:
  mps-cos-backup invoke fixtures/workflow-finish-success.json
  cat event.json | mps-cos-backup invoke -
  COS_BUCKET=archive-1250000000 COS_REGION=ap-guangzhou mps-cos-backup invoke *.json

Environment: the function's own (see README.md \"Configuration\"):
  COS_BUCKET           store into this bucket (else into --local), with COS_REGION, COS_ENDPOINT,
                       COS_KEY_PREFIX, COS_KEY_TEMPLATE, COS_STORAGE_CLASS, ARCHIVE_UTC_OFFSET,
                       ARCHIVE_EVENT_TYPES, ARCHIVE_REDACT
  ARCHIVE_FORWARD      also forward each event (FORWARD_NOTIFY_KEY, FORWARD_SCF_ENDPOINT,
                       FORWARD_SCF_REGION)
  TENCENTCLOUD_SECRETID, TENCENTCLOUD_SECRETKEY, TENCENTCLOUD_SESSIONTOKEN
                       credentials for COS and scf: targets (not needed for --local alone)
  CALLBACK_TOKEN, CALLBACK_NOTIFY_KEY, CALLBACK_ALLOW_UNSIGNED
                       how a Function URL event file (an HTTP request) is authenticated
Exit 1 when an event failed, an HTTP request was answered with a status other than 2xx,
or the results could not be written.";

const LS_HELP: &str = concat!(
    "\
Examples:
  mps-cos-backup ls --since 2026-03-15 --until 2026-03-15 --type WorkflowTask
  mps-cos-backup ls --failed --since 2026-03-01 --json
  mps-cos-backup ls --outcome partial --type WorkflowTask
  mps-cos-backup ls --since 2026-03-21T02:00:00+08:00 --until 2026-03-23 --json

Lines are written as the listing goes (by date then key), in bounded memory.

",
    reader_env!()
);

const GET_HELP: &str = concat!(
    "\
Examples:
  mps-cos-backup get mps-events/WorkflowTask/2026/03/15/TASK.finish.partial.DIGEST.json
  mps-cos-backup get mps-events/WorkflowTask/2026/03/15/TASK.finish.partial.DIGEST.json --event

Indented on a terminal, one line otherwise. A record whose content no longer matches the
digest in its key is printed with a warning on stderr, exit 1.

",
    reader_env!()
);

const STATS_HELP: &str = concat!(
    "\
Examples:
  mps-cos-backup stats --since 2026-03-01 --until 2026-03-31
  mps-cos-backup stats --failed --type WorkflowTask --json

",
    reader_env!()
);

const REPLAY_HELP: &str = concat!(
    "\
Examples:
  mps-cos-backup replay --to https://hooks.example.com/mps --since 2026-03-21 --dry-run
  mps-cos-backup replay --to scf:media-jobs/on-transcode-done:prod --since 2026-03-21T02:00:00+08:00

Oldest first: date by date (the key's), within a date by event_time (else received_at),
then key. One task's records are never in flight together. SIGINT/SIGTERM: the sends in
flight finish, the summary names the first record not sent and the --since that resumes
there, exit 130.

",
    reader_env!(),
    "
  FORWARD_NOTIFY_KEY   re-sign callbacks sent to a URL target as MPS signs them
  FORWARD_SCF_ENDPOINT, FORWARD_SCF_REGION
                       Cloud API endpoint and region of scf: targets (default region
                       TENCENTCLOUD_REGION); the credentials need scf:InvokeFunction on them"
);

const RECONCILE_HELP: &str = "\
Asks MPS (DescribeTasks) which tasks finished in the window and archives the callback of
each one the archive holds no end record of, rebuilt from DescribeTaskDetail (source
reconcile). One JSON line per missing task on stdout (task_id, task_type, finish_time, key,
action: recovered | would-recover | failed, error); a summary on stderr (tasks, present,
recovered, failed, skipped_grace, ...). Exit 1 when any task failed, 2 when the window
reaches more than 7 days back (MPS keeps its task list for 7 days).

Examples:
  mps-cos-backup reconcile --dry-run
  mps-cos-backup reconcile --since 2026-12-04 --until 2026-12-04
  mps-cos-backup reconcile --since 2026-12-05T00:00:00+08:00 --forward
  mps-cos-backup reconcile --local ./local-cos

Environment:
  MPS_ENDPOINT, MPS_REGION
                       MPS's Cloud API (default https://mps.tencentcloudapi.com, region
                       TENCENTCLOUD_REGION)
  RECONCILE_WINDOW     the window when --since is not given (default 24h, at most 7d)
  RECONCILE_GRACE      tasks that finished less than this ago are left alone (default 10m)
  RECONCILE_FORWARD    on: forward recovered callbacks as --forward does
  COS_BUCKET           the archive (else the local mirror, --local), with COS_REGION,
                       COS_ENDPOINT, COS_KEY_PREFIX, COS_KEY_TEMPLATE, ARCHIVE_UTC_OFFSET,
                       ARCHIVE_EVENT_TYPES, ARCHIVE_REDACT
  ARCHIVE_FORWARD      where --forward sends (FORWARD_NOTIFY_KEY, FORWARD_SCF_ENDPOINT,
                       FORWARD_SCF_REGION)
  TENCENTCLOUD_SECRETID, TENCENTCLOUD_SECRETKEY, TENCENTCLOUD_SESSIONTOKEN
                       credentials allowed mps:DescribeTasks, mps:DescribeTaskDetail and, for
                       COS, cos:GetBucket and cos:PutObject
  LOG_LEVEL, LOG_FORMAT
                       diagnostics on stderr (warnings by default)";

/// Time one `invoke` event may take, as a generous stand-in for the function's time limit.
const INVOKE_TIME_LIMIT: Duration = Duration::from_secs(30);

const EXIT_FAILED: u8 = 1;
const EXIT_USAGE: u8 = 2;

/// Archive Tencent Cloud MPS task callbacks into COS (SCF custom runtime), and read them back.
#[derive(Debug, Parser)]
#[command(
    name = "mps-cos-backup",
    version,
    after_help = AFTER_HELP,
    subcommand_required = true
)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// Archive each event file as runtime mode would; one JSON result line per event
    #[command(after_help = INVOKE_HELP)]
    Invoke(InvokeArgs),
    /// List archived callbacks, ordered by date then key
    #[command(after_help = LS_HELP)]
    Ls(read::LsArgs),
    /// Print one archived record (or only its event)
    #[command(after_help = GET_HELP)]
    Get(read::GetArgs),
    /// Count archived callbacks per date, event type, status and outcome
    #[command(after_help = STATS_HELP)]
    Stats(read::StatsArgs),
    /// Send archived callbacks to a target again, oldest first
    #[command(after_help = REPLAY_HELP)]
    Replay(replay::ReplayArgs),
    /// Archive the callbacks of finished MPS tasks that the archive lacks
    #[command(after_help = RECONCILE_HELP)]
    Reconcile(reconcile::ReconcileArgs),
    /// Create or update the function, its role and triggers from the zip (Cloud API)
    #[command(after_help = deploy::DEPLOY_HELP)]
    Deploy(deploy::DeployArgs),
}

#[derive(Debug, Args)]
struct InvokeArgs {
    /// Directory that mirrors the bucket, used when COS_BUCKET is unset. Without --local,
    /// ./local-cos (created when missing); a DIR given must be an existing directory
    #[arg(long, value_name = "DIR")]
    local: Option<PathBuf>,
    /// Event files; `-` or none reads standard input
    #[arg(value_name = "FILE|-")]
    files: Vec<String>,
}

/// Runs the command line and returns the process exit code.
pub fn main(args: Vec<OsString>) -> ExitCode {
    // Runtime mode is how SCF starts the function: it must not pay for argument parsing.
    if args.is_empty() {
        return runtime_mode();
    }
    let argv = std::iter::once(OsString::from("mps-cos-backup")).chain(args);
    let cli = match Cli::try_parse_from(argv) {
        Ok(c) => c,
        Err(e) => return usage_error(&e),
    };
    match cli.command {
        Cmd::Invoke(a) => invoke_mode(a.local, a.files),
        Cmd::Ls(a) => read::ls(a),
        Cmd::Get(a) => read::get(a),
        Cmd::Stats(a) => read::stats(a),
        Cmd::Replay(a) => replay::replay(a),
        Cmd::Reconcile(a) => reconcile::reconcile(a),
        Cmd::Deploy(a) => deploy::deploy(a),
    }
}

/// Prints `--help`/`--version` (exit 0), or a usage error as one line on stderr (exit 2).
fn usage_error(e: &clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
        let _ = e.print();
        return ExitCode::SUCCESS;
    }
    // clap's message runs until the blank line before its usage block; some (missing
    // arguments) continue on indented lines, which one_line joins.
    let text = e.render().to_string();
    let message: Vec<&str> = text.lines().take_while(|l| !l.trim().is_empty()).collect();
    let message = message.join(" ");
    let message = message.strip_prefix("error: ").unwrap_or(&message);
    eprintln!(
        "mps-cos-backup: {}; try --help",
        crate::text::one_line(message)
    );
    ExitCode::from(EXIT_USAGE)
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// Sets up logging, then reads the configuration with `read`; a bad one is one log line and
/// exit 2.
fn start<T>(
    to_stderr: bool,
    read: impl FnOnce(fn(&str) -> Option<String>) -> Result<T, ConfigError>,
) -> Result<T, ExitCode> {
    let log = log_config_lenient(env);
    logging::init(&log, to_stderr);
    // The default hook prints several lines to stderr, which SCF does not collect; the
    // runtime turns the panic into an error post, and this puts one line in the log.
    std::panic::set_hook(Box::new(|info| {
        let msg = crate::text::panic_message(info.payload());
        let at = info
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()));
        error!(panic = %msg, at, "panic");
    }));
    read(env).map_err(|e| {
        // The one configuration line must appear even under LOG_LEVEL=off or a typo'd filter,
        // so it goes through a subscriber of the same format that lets errors through.
        let always = LogConfig {
            filter: "error".to_string(),
            ..log
        };
        let sub = if to_stderr {
            logging::subscriber(&always, std::io::stderr)
        } else {
            logging::subscriber(&always, std::io::stdout)
        };
        tracing::subscriber::with_default(sub, || error!(error = %e, "cannot start"));
        ExitCode::from(EXIT_USAGE)
    })
}

fn tokio_runtime() -> Result<tokio::runtime::Runtime, ExitCode> {
    // One thread: events come one at a time, and a single thread keeps start-up and RSS small.
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| {
            error!(error = %e, "cannot start the async runtime");
            ExitCode::from(EXIT_FAILED)
        })
}

/// The handler for a store and the configured forward targets.
fn handler<S: Store>(
    http: &HttpClient,
    store: S,
    archive: ArchiveConfig,
    forward: ForwardConfig,
) -> Result<Handler<S>, ExitCode> {
    let handler = Handler::new(store, archive);
    if forward.targets.is_empty() {
        return Ok(handler);
    }
    match Forwarder::new(http.clone(), forward) {
        Ok(f) => Ok(handler.forwarding(f)),
        Err(e) => {
            error!(error = %e, "cannot start");
            Err(ExitCode::from(EXIT_USAGE))
        }
    }
}

/// The handler that archives callbacks rebuilt by reconcile: forwarding only with
/// `RECONCILE_FORWARD=on`.
fn reconcile_handler<S: Store>(
    http: &HttpClient,
    store: S,
    archive: &ArchiveConfig,
    forward: &ForwardConfig,
    reconcile: &crate::config::ReconcileConfig,
) -> Result<Handler<S>, ExitCode> {
    if reconcile.forward {
        handler(http, store, archive.clone(), forward.clone())
    } else {
        Ok(Handler::new(store, archive.clone()))
    }
}

fn runtime_mode() -> ExitCode {
    let cfg = match start(false, RuntimeConfig::from_env) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let rt = match tokio_runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    rt.block_on(async move {
        let http = HttpClient::new();
        let cos = CosClient::new(http.clone(), cfg.cos.bucket, cfg.cos.credentials);
        let timer = match reconcile_handler(
            &http,
            cos.clone(),
            &cfg.archive,
            &cfg.forward,
            &cfg.reconcile,
        ) {
            Ok(h) => timer::Timer::new(
                &http,
                &cfg.reconcile,
                h,
                crate::archive::CosSource::new(cos.clone()),
            ),
            Err(code) => return code,
        };
        let handler = match handler(&http, cos, cfg.archive, cfg.forward) {
            Ok(h) => h,
            Err(code) => return code,
        };
        let function = Arc::new(HandlerFunction {
            handler,
            auth: cfg.callback,
            timer,
            credentials_refused: AtomicBool::new(false),
        });
        match runtime::run(&cfg.runtime_api, http, function, runtime::shutdown_signal()).await {
            Ok(()) => ExitCode::SUCCESS,
            // The loop logged why in one line already.
            Err(RuntimeError::Stopped(_)) => ExitCode::from(EXIT_FAILED),
            Err(e) => {
                error!(error = %e, "runtime loop stopped");
                ExitCode::from(EXIT_FAILED)
            }
        }
    })
}

/// The local mirror when `--local` is not given (`invoke` creates it when missing).
const DEFAULT_LOCAL: &str = "./local-cos";

/// Why `path`, given as `--local`, cannot be the local mirror: it is not there, or not a
/// directory (a symbolic link to a directory is the user's own choice, and followed).
pub(super) fn local_dir_problem(path: &std::path::Path) -> Option<String> {
    match std::fs::metadata(path) {
        Ok(m) if m.is_dir() => None,
        Ok(_) => Some(format!("--local {}: not a directory", path.display())),
        Err(e) => Some(format!(
            "--local {}: {}",
            path.display(),
            if e.kind() == std::io::ErrorKind::NotFound {
                "no such directory".to_string()
            } else {
                crate::text::error_chain(&e)
            }
        )),
    }
}

fn invoke_mode(local: Option<PathBuf>, files: Vec<String>) -> ExitCode {
    let (cfg, rcfg) = match start(true, |get| {
        Ok((
            Config::from_env(get)?,
            crate::config::ReconcileConfig::from_env(get)?,
        ))
    }) {
        Ok(c) => c,
        Err(code) => return code,
    };
    // An explicit --local that is not there is a mistake (a typo would otherwise start a
    // new mirror somewhere); the default is created so a fresh checkout works.
    let local = match local {
        Some(dir) if cfg.cos.is_none() => match local_dir_problem(&dir) {
            Some(why) => {
                eprintln!("mps-cos-backup: {}", crate::text::one_line(&why));
                return ExitCode::from(EXIT_USAGE);
            }
            None => dir,
        },
        Some(dir) => dir,
        None => PathBuf::from(DEFAULT_LOCAL),
    };
    let rt = match tokio_runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    let files = if files.is_empty() {
        vec!["-".to_string()]
    } else {
        files
    };
    rt.block_on(async move {
        let http = HttpClient::new();
        let all_ok = match cfg.cos {
            Some(cos) => {
                let cos = CosClient::new(http.clone(), cos.bucket, cos.credentials);
                let timer = match reconcile_handler(
                    &http,
                    cos.clone(),
                    &cfg.archive,
                    &cfg.forward,
                    &rcfg,
                ) {
                    Ok(h) => timer::Timer::new(
                        &http,
                        &rcfg,
                        h,
                        crate::archive::CosSource::new(cos.clone()),
                    ),
                    Err(code) => return code,
                };
                match handler(&http, cos, cfg.archive, cfg.forward) {
                    Ok(h) => invoke_all(&h, &cfg.callback, Some(&timer), &files).await,
                    Err(code) => return code,
                }
            }
            None => {
                let store = LocalStore::new(local.clone());
                let timer = match reconcile_handler(
                    &http,
                    LocalStore::new(local.clone()),
                    &cfg.archive,
                    &cfg.forward,
                    &rcfg,
                ) {
                    Ok(h) => {
                        timer::Timer::new(&http, &rcfg, h, crate::archive::LocalSource::new(local))
                    }
                    Err(code) => return code,
                };
                match handler(&http, store, cfg.archive, cfg.forward) {
                    Ok(h) => invoke_all(&h, &cfg.callback, Some(&timer), &files).await,
                    Err(code) => return code,
                }
            }
        };
        if all_ok {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(EXIT_FAILED)
        }
    })
}

/// One event file (or stdin for `-`), at most [`runtime::MAX_EVENT_BYTES`]: the bound runtime
/// mode applies, so a huge file is refused instead of filling memory.
async fn read_input(file: &str) -> std::io::Result<Vec<u8>> {
    let limit = runtime::MAX_EVENT_BYTES as u64;
    let mut buf = Vec::new();
    if file == "-" {
        tokio::io::stdin()
            .take(limit + 1)
            .read_to_end(&mut buf)
            .await?;
    } else {
        tokio::fs::File::open(file)
            .await?
            .take(limit + 1)
            .read_to_end(&mut buf)
            .await?;
    }
    if buf.len() as u64 > limit {
        return Err(std::io::Error::other(format!(
            "larger than {limit} bytes; an event is at most that"
        )));
    }
    Ok(buf)
}

/// Handles each file in turn as runtime mode would, printing one JSON line per event; true
/// when all succeeded and every result line was written. Rejected credentials stop the run:
/// every later event would fail the same way.
async fn invoke_all<S: Store, T: Store, R: crate::archive::Source>(
    handler: &Handler<S>,
    auth: &CallbackAuth,
    timer: Option<&timer::Timer<T, R>>,
    files: &[String],
) -> bool {
    let mut all_ok = true;
    let mut unwritten: Option<std::io::Error> = None;
    for file in files {
        let mut stop = false;
        let line = match read_input(file).await {
            Err(e) => Err(format!("cannot read {file}: {e}")),
            Ok(body) => {
                let inv = Invocation {
                    request_id: None,
                    received_at: chrono::Utc::now(),
                    source: Source::Invoke,
                    deadline: Instant::now() + INVOKE_TIME_LIMIT,
                };
                let refused = AtomicBool::new(false);
                let done = dispatch(
                    handler,
                    auth,
                    timer,
                    Bytes::from(body),
                    &inv,
                    Some(&refused),
                )
                .await
                .map_err(|e| {
                    stop = e.credentials_rejected();
                    error_chain(&e)
                });
                stop |= refused.into_inner();
                done
            }
        };
        let out = match line {
            // An HTTP request is always answered, but one refused or failed (a status other
            // than 2xx) archived nothing: the run reports it as failed.
            Ok(a)
                if a["statusCode"]
                    .as_u64()
                    .is_some_and(|s| !(200..300).contains(&s)) =>
            {
                all_ok = false;
                json!({ "file": file, "ok": false, "result": a })
            }
            Ok(a) => json!({ "file": file, "ok": true, "result": a }),
            Err(e) => {
                all_ok = false;
                json!({ "file": file, "ok": false, "error": e })
            }
        };
        // An output that cannot be written must not abort the remaining events mid-run (they
        // are archived all the same); as for the readers, a closed pipe (`| head`) is no
        // failure, and any other write error (a full disk) fails the run at the end.
        let mut stdout = std::io::stdout().lock();
        if let Err(e) = writeln!(stdout, "{out}").and_then(|()| stdout.flush()) {
            if e.kind() != std::io::ErrorKind::BrokenPipe && unwritten.is_none() {
                unwritten = Some(e);
            }
        }
        if stop {
            error!("credentials were rejected; stopping before the remaining events");
            break;
        }
    }
    match unwritten {
        Some(e) => read::written_or_exit(Err(e)).is_ok() && all_ok,
        None => all_ok,
    }
}

/// One event, told apart by its shape: an HTTP request through the Function URL is answered
/// with a response object (never an error: the caller must get a status); a timer event
/// (`"Type": "Timer"`) reconciles the archive against MPS; anything else is a callback from
/// the MPS trigger.
async fn dispatch<S: Store, T: Store, R: crate::archive::Source>(
    handler: &Handler<S>,
    auth: &CallbackAuth,
    timer: Option<&timer::Timer<T, R>>,
    event: Bytes,
    inv: &Invocation<'_>,
    refused: Option<&AtomicBool>,
) -> Result<serde_json::Value, timer::DispatchError> {
    let now = u64::try_from(inv.received_at.timestamp()).unwrap_or(0);
    if let Some(answer) = crate::http::serve(handler, auth, &event, inv, now).await {
        if answer.credentials_refused {
            if let Some(flag) = refused {
                flag.store(true, std::sync::atomic::Ordering::Relaxed);
            }
        }
        return Ok(answer.into_value());
    }
    if let Some(time) = timer::timer_event(&event) {
        let timer = timer.ok_or(timer::DispatchError::NoTimer)?;
        let summary = timer::run(timer, time, inv).await?;
        return Ok(serde_json::to_value(summary).map_err(HandleError::from)?);
    }
    let handled = handler.handle(event, inv).await?;
    Ok(serde_json::to_value(handled).map_err(HandleError::from)?)
}

/// The handler as the runtime sees it: one event in, the result or a typed error out.
struct HandlerFunction<S, T, R> {
    handler: Handler<S>,
    auth: CallbackAuth,
    timer: timer::Timer<T, R>,
    /// An HTTP request was answered after the credentials were refused: stop once answered.
    credentials_refused: AtomicBool,
}

impl<S: Store, T: Store, R: crate::archive::Source + Send + Sync + 'static> Function
    for HandlerFunction<S, T, R>
{
    type Error = timer::DispatchError;

    async fn call(
        &self,
        ctx: Context,
        event: bytes::Bytes,
    ) -> Result<serde_json::Value, timer::DispatchError> {
        let inv = Invocation {
            request_id: Some(ctx.request_id.as_str()).filter(|r| !r.is_empty()),
            received_at: ctx.received_at,
            source: Source::Trigger,
            deadline: ctx.deadline,
        };
        let refused = Some(&self.credentials_refused);
        dispatch(
            &self.handler,
            &self.auth,
            Some(&self.timer),
            event,
            &inv,
            refused,
        )
        .await
    }

    fn stops_after_response(&self) -> Option<String> {
        self.credentials_refused
            .swap(false, std::sync::atomic::Ordering::Relaxed)
            .then(|| {
                "an HTTP callback was answered 500 because a server rejected this instance's \
                 credentials (temporary keys may have expired); a fresh instance gets fresh ones"
                    .to_string()
            })
    }
}

impl Diagnostic for timer::DispatchError {
    fn stops_instance(&self) -> Option<String> {
        self.credentials_rejected().then(|| {
            "a server rejected this instance's credentials (temporary keys may have expired); \
             a fresh instance gets fresh ones"
                .to_string()
        })
    }
}
