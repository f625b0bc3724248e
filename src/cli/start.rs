//! What the commands that run the function (runtime mode, `invoke`, `reconcile`'s timer,
//! `deploy`) and the readers start with: logging and its panic hook, the configuration,
//! the async runtime, the handler with its forward targets, a `--local` mirror checked.
//!
//! Each step's failure is a [`CliError`] for [`super::main`] to report.

use std::path::Path;

use tracing::error;

use super::error::{CliError, EXIT_FAILED, EXIT_USAGE};
use crate::config::{log_config_lenient, ConfigError, ForwardConfig, ReconcileConfig};
use crate::forward::Forwarder;
use crate::handler::{ArchiveConfig, Handler};
use crate::logging;
use crate::store::Store;
use crate::transport::HttpClient;

/// The target of the CLI's own log events, wherever in it they are raised: one name for
/// operators to filter on (`RUST_LOG`).
pub(super) const LOG_TARGET: &str = "mps_cos_backup::cli";

pub(super) fn env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// Sets up logging, then reads the configuration with `read`; a bad one is one log line and
/// exit 2.
pub(super) fn start<T>(
    to_stderr: bool,
    read: impl FnOnce(fn(&str) -> Option<String>) -> Result<T, ConfigError>,
) -> Result<T, CliError> {
    let log = log_config_lenient(env);
    logging::init(&log, to_stderr);
    // The default hook prints several lines to stderr, which SCF does not collect; the
    // runtime turns the panic into an error post, and this puts one line in the log.
    std::panic::set_hook(Box::new(|info| {
        let msg = crate::text::panic_message(info.payload());
        let at = info
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()));
        error!(target: LOG_TARGET, panic = %msg, at, "panic");
    }));
    read(env).map_err(|error| CliError::Config {
        error,
        log: Box::new(log),
        to_stderr,
    })
}

pub(super) fn tokio_runtime() -> Result<tokio::runtime::Runtime, CliError> {
    // One thread: events come one at a time, and a single thread keeps start-up and RSS small.
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::Log {
            code: EXIT_FAILED,
            what: "cannot start the async runtime",
            error: e.to_string(),
        })
}

/// The handler for a store and the configured forward targets.
pub(super) fn handler<S: Store>(
    http: &HttpClient,
    store: S,
    archive: ArchiveConfig,
    forward: ForwardConfig,
) -> Result<Handler<S>, CliError> {
    let handler = Handler::new(store, archive);
    if forward.targets.is_empty() {
        return Ok(handler);
    }
    match Forwarder::new(http.clone(), forward) {
        Ok(f) => Ok(handler.forwarding(f)),
        Err(e) => Err(CliError::Log {
            code: EXIT_USAGE,
            what: "cannot start",
            error: e.to_string(),
        }),
    }
}

/// The handler that archives callbacks rebuilt by reconcile: forwarding only with
/// `RECONCILE_FORWARD=on`.
pub(super) fn reconcile_handler<S: Store>(
    http: &HttpClient,
    store: S,
    archive: &ArchiveConfig,
    forward: &ForwardConfig,
    reconcile: &ReconcileConfig,
) -> Result<Handler<S>, CliError> {
    if reconcile.forward {
        handler(http, store, archive.clone(), forward.clone())
    } else {
        Ok(Handler::new(store, archive.clone()))
    }
}

/// Why `path`, given as `--local`, cannot be the local mirror: it is not there, or not a
/// directory (a symbolic link to a directory is the user's own choice, and followed).
pub(super) fn local_dir_problem(path: &Path) -> Option<String> {
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
