//! `invoke`: each event file handled as runtime mode would handle the event, into COS or
//! the local mirror, one JSON result line per event on stdout.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use bytes::Bytes;
use clap::Args;
use serde_json::json;
use tokio::io::AsyncReadExt;
use tracing::error;

use super::error::{CliError, EXIT_FAILED};
use super::function::dispatch;
use super::output::output_written;
use super::start::{
    handler, local_dir_problem, reconcile_handler, start, tokio_runtime, LOG_TARGET,
};
use super::timer;
use crate::config::{Config, ReconcileConfig};
use crate::cos::CosClient;
use crate::handler::{Handler, Invocation};
use crate::http::auth::CallbackAuth;
use crate::record::RecordSource;
use crate::runtime;
use crate::store::local::LocalStore;
use crate::store::Store;
use crate::text::error_chain;
use crate::transport::HttpClient;

/// Time one `invoke` event may take, as a generous stand-in for the function's time limit.
const INVOKE_TIME_LIMIT: Duration = Duration::from_secs(30);

/// The local mirror when `--local` is not given (`invoke` creates it when missing).
const DEFAULT_LOCAL: &str = "./local-cos";

#[derive(Debug, Args)]
pub(super) struct InvokeArgs {
    /// Directory that mirrors the bucket, used when COS_BUCKET is unset. Without --local,
    /// ./local-cos (created when missing); a DIR given must be an existing directory
    #[arg(long, value_name = "DIR")]
    local: Option<PathBuf>,
    /// Event files; `-` or none reads standard input
    #[arg(value_name = "FILE|-")]
    files: Vec<String>,
}

/// `invoke`: the event files (standard input for none or `-`) in turn; exit 1 when any
/// failed.
pub(super) fn invoke_mode(args: InvokeArgs) -> Result<ExitCode, CliError> {
    let (cfg, rcfg) = start(true, |get| {
        Ok((Config::from_env(get)?, ReconcileConfig::from_env(get)?))
    })?;
    // An explicit --local that is not there is a mistake (a typo would otherwise start a
    // new mirror somewhere); the default is created so a fresh checkout works.
    let local = match args.local {
        Some(dir) if cfg.cos.is_none() => match local_dir_problem(&dir) {
            Some(why) => return Err(CliError::usage(&why)),
            None => dir,
        },
        Some(dir) => dir,
        None => PathBuf::from(DEFAULT_LOCAL),
    };
    let rt = tokio_runtime()?;
    let files = if args.files.is_empty() {
        vec!["-".to_string()]
    } else {
        args.files
    };
    rt.block_on(async move {
        let http = HttpClient::new();
        let all_ok = match cfg.cos {
            Some(cos) => {
                let cos = CosClient::new(http.clone(), cos.bucket, cos.credentials);
                let timer = timer::Timer::new(
                    &http,
                    &rcfg,
                    reconcile_handler(&http, cos.clone(), &cfg.archive, &cfg.forward, &rcfg)?,
                    crate::archive::CosSource::new(cos.clone()),
                );
                let h = handler(&http, cos, cfg.archive, cfg.forward)?;
                invoke_all(&h, &cfg.callback, Some(&timer), &files).await?
            }
            None => {
                let store = LocalStore::new(local.clone());
                let timer = timer::Timer::new(
                    &http,
                    &rcfg,
                    reconcile_handler(
                        &http,
                        LocalStore::new(local.clone()),
                        &cfg.archive,
                        &cfg.forward,
                        &rcfg,
                    )?,
                    crate::archive::LocalSource::new(local),
                );
                let h = handler(&http, store, cfg.archive, cfg.forward)?;
                invoke_all(&h, &cfg.callback, Some(&timer), &files).await?
            }
        };
        Ok(if all_ok {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(EXIT_FAILED)
        })
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
/// when all succeeded, an error when a result line could not be written. Rejected
/// credentials stop the run: every later event would fail the same way.
async fn invoke_all<S: Store, T: Store, R: crate::archive::Source>(
    handler: &Handler<S>,
    auth: &CallbackAuth,
    timer: Option<&timer::Timer<T, R>>,
    files: &[String],
) -> Result<bool, CliError> {
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
                    source: RecordSource::Invoke,
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
            error!(
                target: LOG_TARGET,
                "credentials were rejected; stopping before the remaining events"
            );
            break;
        }
    }
    output_written(unwritten.map_or(Ok(()), Err))?;
    Ok(all_ok)
}
