//! How a command fails: the exit code, and the one thing said about it.
//!
//! Commands return `Result<ExitCode, CliError>`. An `Ok` code is the end of a run that
//! has said all it has to say (a replay interrupted, an invoke with a failed event); an
//! `Err` is a failure still to be told, which [`super::main`] reports exactly once: as a
//! line on stderr for the operator, or as an error event in the log where a function's
//! failure to start belongs (SCF collects the log, not stderr).
//!
//! Messages are final when built: one line, and for `deploy` already masked, so nothing
//! secret reaches the place that prints them.

use std::process::ExitCode;

use crate::config::ConfigError;
use crate::logging::LogConfig;

/// A run that failed: an invoke, get, replay, reconcile or deploy failed, the output
/// could not be written, the runtime API was lost.
pub(crate) const EXIT_FAILED: u8 = 1;
/// Bad configuration or usage.
pub(crate) const EXIT_USAGE: u8 = 2;

/// A command's failure, with its exit code and what is said about it.
#[derive(Debug, thiserror::Error)]
pub(crate) enum CliError {
    /// `mps-cos-backup: <message>`, one line on stderr.
    #[error("mps-cos-backup: {message}")]
    Line {
        /// The exit code.
        code: u8,
        /// One line.
        message: String,
    },
    /// `mps-cos-backup deploy: <message>`, one line on stderr; the message is masked.
    #[error("mps-cos-backup deploy: {message}")]
    Deploy {
        /// The exit code ([`crate::deploy::DeployError::exit_code`]).
        code: u8,
        /// One line, secrets masked.
        message: String,
    },
    /// One error event in the log: `what`, with the error as its `error` field.
    #[error("{what}: {error}")]
    Log {
        /// The exit code.
        code: u8,
        /// The event's message, e.g. "cannot start".
        what: &'static str,
        /// Why.
        error: String,
    },
    /// The configuration cannot be used: one `cannot start` event in the log, written
    /// even when the log's own filter (perhaps the bad setting) would drop it. Exit 2.
    #[error("cannot start: {error}")]
    Config {
        /// What is wrong.
        error: ConfigError,
        /// The log as configured, for the event's format.
        log: Box<LogConfig>,
        /// The log goes to stderr (commands), not stdout (runtime mode).
        to_stderr: bool,
    },
}

impl CliError {
    /// Bad usage or configuration, exit 2: `text` as one line.
    pub(crate) fn usage(text: &str) -> CliError {
        CliError::Line {
            code: EXIT_USAGE,
            message: crate::text::one_line(text),
        }
    }

    /// A failed run, exit 1: `text` as one line.
    pub(crate) fn failed(text: &str) -> CliError {
        CliError::Line {
            code: EXIT_FAILED,
            message: crate::text::one_line(text),
        }
    }

    /// The process exit code.
    pub(crate) fn exit_code(&self) -> ExitCode {
        ExitCode::from(match self {
            CliError::Line { code, .. }
            | CliError::Deploy { code, .. }
            | CliError::Log { code, .. } => *code,
            CliError::Config { .. } => EXIT_USAGE,
        })
    }
}
