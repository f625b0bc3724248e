//! Command line: runtime mode (no arguments), `invoke`, the archive readers (`ls`, `get`,
//! `stats`, `replay`), `--help`, `--version`.

mod read;
mod replay;

use std::ffi::OsString;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
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
use crate::logging::LogConfig;
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
  mps-cos-backup ls --since 2026-11-24 --until 2026-11-24 --type WorkflowTask
  mps-cos-backup ls --status fail --since 2026-11-24 --json
  mps-cos-backup get mps-events/WorkflowTask/2026/11/24/TASK.finish.DIGEST.json --event
  mps-cos-backup stats --since 2026-11-01 --until 2026-11-30
  mps-cos-backup replay --to https://hooks.example.com/mps --since 2026-11-24 --dry-run

Configuration is read from the environment (COS_BUCKET, COS_REGION, ...); see README.md.
Readers use COS when COS_BUCKET is set, else the local mirror (--local).
Exit codes: 0 normal end, 1 runtime API lost / an invoke, get or replay failed /
credentials rejected, 2 bad configuration or usage, 130 replay interrupted.";

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
    disable_help_subcommand = true,
    subcommand_required = true
)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// Archive each event file as runtime mode would; one JSON result line per event
    Invoke(InvokeArgs),
    /// List archived callbacks, ordered by date then key
    Ls(read::LsArgs),
    /// Print one archived record (or only its event)
    Get(read::GetArgs),
    /// Count archived callbacks per date, event type and status
    Stats(read::StatsArgs),
    /// Send archived callbacks to a target again, oldest first
    Replay(replay::ReplayArgs),
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
        let payload = info.payload();
        let msg = payload
            .downcast_ref::<&str>()
            .map(|s| (*s).to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "non-string panic payload".to_string());
        let at = info
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()));
        error!(panic = %msg.replace(['\n', '\r'], " "), at, "panic");
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
        let handler = match handler(&http, cos, cfg.archive, cfg.forward) {
            Ok(h) => h,
            Err(code) => return code,
        };
        let function = Arc::new(HandlerFunction(handler));
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
    let cfg = match start(true, Config::from_env) {
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
                match handler(&http, cos, cfg.archive, cfg.forward) {
                    Ok(h) => invoke_all(&h, &files).await,
                    Err(code) => return code,
                }
            }
            None => match handler(&http, LocalStore::new(local), cfg.archive, cfg.forward) {
                Ok(h) => invoke_all(&h, &files).await,
                Err(code) => return code,
            },
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
/// when all succeeded. Rejected credentials stop the run: every later event would fail the
/// same way.
async fn invoke_all<S: Store>(handler: &Handler<S>, files: &[String]) -> bool {
    let mut all_ok = true;
    for file in files {
        let mut stop = false;
        let line = match read_input(file).await {
            Err(e) => Err(format!("cannot read {file}: {e}")),
            Ok(body) => {
                let inv = Invocation {
                    request_id: None,
                    received_at: chrono::Utc::now(),
                    deadline: Instant::now() + INVOKE_TIME_LIMIT,
                };
                handler.handle(Bytes::from(body), &inv).await.map_err(|e| {
                    stop = e.credentials_rejected();
                    error_chain(&e)
                })
            }
        };
        let out = match line {
            Ok(a) => json!({ "file": file, "ok": true, "result": a }),
            Err(e) => {
                all_ok = false;
                json!({ "file": file, "ok": false, "error": e })
            }
        };
        // A closed stdout (`| head`) must not abort the remaining events mid-run.
        let mut stdout = std::io::stdout().lock();
        let _ = writeln!(stdout, "{out}").and_then(|()| stdout.flush());
        if stop {
            error!("credentials were rejected; stopping before the remaining events");
            break;
        }
    }
    all_ok
}

/// The handler as the runtime sees it: one event in, the result or a typed error out.
struct HandlerFunction<S>(Handler<S>);

impl<S: Store> Function for HandlerFunction<S> {
    type Error = HandleError;

    async fn call(
        &self,
        ctx: Context,
        event: bytes::Bytes,
    ) -> Result<serde_json::Value, HandleError> {
        let inv = Invocation {
            request_id: Some(ctx.request_id.as_str()).filter(|r| !r.is_empty()),
            received_at: ctx.received_at,
            deadline: ctx.deadline,
        };
        let handled = self.0.handle(event, &inv).await?;
        Ok(serde_json::to_value(handled)?)
    }
}

impl Diagnostic for HandleError {
    fn stops_instance(&self) -> Option<String> {
        self.credentials_rejected().then(|| {
            "a server rejected this instance's credentials (temporary keys may have expired); \
             a fresh instance gets fresh ones"
                .to_string()
        })
    }
}
