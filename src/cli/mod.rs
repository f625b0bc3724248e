//! Command line: runtime mode (no arguments), `invoke`, `--help`, `--version`.

use std::ffi::OsString;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use tokio::io::AsyncReadExt;
use tracing::error;

use crate::config::{log_config_lenient, Config, ConfigError, CosConfig, RuntimeConfig};
use crate::cos::{Bucket, CosClient, Endpoint, StorageClass};
use crate::credentials::Credentials;
use crate::handler::{Archiver, HandleError, Invocation};
use crate::logging::LogConfig;
use crate::runtime::{Context, Diagnostic, Function};
use crate::store::local::LocalStore;
use crate::store::Store;
use crate::transport::HttpClient;
use crate::{logging, runtime};

const USAGE: &str = "\
mps-cos-backup: archive Tencent Cloud MPS task callbacks into COS (SCF custom runtime)

Usage:
  mps-cos-backup                      runtime mode (started by SCF through ./bootstrap)
  mps-cos-backup invoke [OPTIONS] [FILE|-]...
                                      archive each event file as runtime mode would and
                                      print one JSON result line per event (no FILE: stdin)
  mps-cos-backup --help | --version

Invoke options:
  --local DIR   directory that mirrors the bucket when COS_BUCKET is unset [default: ./local-cos]

Configuration is read from the environment (COS_BUCKET, COS_REGION, ...); see README.md.
Exit codes: 0 normal end, 1 runtime API lost or an invoke failed, 2 bad configuration or usage.
";

/// Time one `invoke` event may take, as a generous stand-in for the function's time limit.
const INVOKE_TIME_LIMIT: Duration = Duration::from_secs(30);

const EXIT_FAILED: u8 = 1;
const EXIT_USAGE: u8 = 2;

enum Command {
    Runtime,
    Invoke { local: PathBuf, files: Vec<String> },
    Help,
    Version,
}

fn parse_args(args: Vec<OsString>) -> Result<Command, lexopt::Error> {
    use lexopt::prelude::*;
    let mut parser = lexopt::Parser::from_args(args);
    let mut invoke = false;
    let mut local = PathBuf::from("./local-cos");
    let mut files = Vec::new();
    while let Some(arg) = parser.next()? {
        match arg {
            Short('h') | Long("help") => return Ok(Command::Help),
            Short('V') | Long("version") => return Ok(Command::Version),
            Long("local") if invoke => local = parser.value()?.into(),
            Value(v) if !invoke => {
                if v == "invoke" {
                    invoke = true;
                } else {
                    return Err(lexopt::Error::from(format!(
                        "unknown command {:?} (expected no command or `invoke`)",
                        v.to_string_lossy()
                    )));
                }
            }
            Value(v) => files.push(v.string()?),
            _ => return Err(arg.unexpected()),
        }
    }
    Ok(if invoke {
        Command::Invoke { local, files }
    } else {
        Command::Runtime
    })
}

/// Runs the command line and returns the process exit code.
pub fn main(args: Vec<OsString>) -> ExitCode {
    let cmd = match parse_args(args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("mps-cos-backup: {e}; try --help");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    match cmd {
        Command::Help => {
            print!("{USAGE}");
            ExitCode::SUCCESS
        }
        Command::Version => {
            println!("mps-cos-backup {}", env!("CARGO_PKG_VERSION"));
            ExitCode::SUCCESS
        }
        Command::Runtime => runtime_mode(),
        Command::Invoke { local, files } => invoke_mode(local, files),
    }
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

/// The COS client for a validated configuration.
fn cos_client(http: HttpClient, cfg: CosConfig) -> Result<CosClient, ExitCode> {
    let bucket = Bucket::new(&cfg.bucket, &cfg.region).and_then(|b| {
        let class = cfg.storage_class.as_deref().map(StorageClass::parse);
        Ok(b.with_endpoint(Endpoint::parse(&cfg.endpoint)?)
            .with_storage_class(class.transpose()?))
    });
    let bucket = bucket.map_err(|e| {
        error!(error = %e, "invalid COS configuration");
        ExitCode::from(EXIT_USAGE)
    })?;
    let c = cfg.credentials;
    let creds = Credentials::new(c.secret_id, c.secret_key, c.session_token);
    Ok(CosClient::new(http, bucket, creds))
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
        let cos = match cos_client(http.clone(), cfg.cos) {
            Ok(c) => c,
            Err(code) => return code,
        };
        let function = Arc::new(ArchiveFunction(Archiver::new(cos, cfg.archive)));
        match runtime::run(&cfg.runtime_api, http, function, runtime::shutdown_signal()).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                error!(error = %e, "runtime loop stopped");
                ExitCode::from(EXIT_FAILED)
            }
        }
    })
}

fn invoke_mode(local: PathBuf, files: Vec<String>) -> ExitCode {
    let cfg = match start(true, Config::from_env) {
        Ok(c) => c,
        Err(code) => return code,
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
        let all_ok = match cfg.cos {
            Some(cos) => {
                let cos = match cos_client(HttpClient::new(), cos) {
                    Ok(c) => c,
                    Err(code) => return code,
                };
                invoke_all(&Archiver::new(cos, cfg.archive), &files).await
            }
            None => invoke_all(&Archiver::new(LocalStore::new(local), cfg.archive), &files).await,
        };
        if all_ok {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(EXIT_FAILED)
        }
    })
}

async fn read_input(file: &str) -> std::io::Result<Vec<u8>> {
    if file == "-" {
        let mut buf = Vec::new();
        tokio::io::stdin().read_to_end(&mut buf).await?;
        Ok(buf)
    } else {
        tokio::fs::read(file).await
    }
}

/// Archives each file in turn, printing one JSON line per event; true when all succeeded.
async fn invoke_all<S: Store>(archiver: &Archiver<S>, files: &[String]) -> bool {
    let mut all_ok = true;
    for file in files {
        let line = match read_input(file).await {
            Err(e) => Err(format!("cannot read {file}: {e}")),
            Ok(body) => {
                let inv = Invocation {
                    request_id: None,
                    received_at: chrono::Utc::now(),
                    deadline: Instant::now() + INVOKE_TIME_LIMIT,
                };
                archiver
                    .archive(&body, &inv)
                    .await
                    .map_err(|e| e.to_string())
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
    }
    all_ok
}

/// The archiver as the runtime sees it: one event in, the archive result or a typed error out.
struct ArchiveFunction<S>(Archiver<S>);

impl<S: Store> Function for ArchiveFunction<S> {
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
        let archived = self.0.archive(&event, &inv).await?;
        Ok(serde_json::to_value(archived)?)
    }
}

impl Diagnostic for HandleError {}
