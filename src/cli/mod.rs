//! Command line: runtime mode (no arguments), `invoke`, the archive readers (`ls`, `get`,
//! `stats`, `replay`), `reconcile`, `deploy`, `--help`, `--version`.
//!
//! Every command returns `Result<ExitCode, CliError>`, and [`main`] is the one place that
//! tells a failure: a command never prints its own error and then exits, so each failure
//! is said once, in one format, and its exit code comes with it.
//!
//! ```text
//! mod       main: parse, run the command, report its error
//! args      clap's view of the command line: subcommands, help texts, usage errors
//! runtime   runtime mode                invoke    event files, as runtime mode would
//! function  one event told apart by its shape (Function URL request, timer, callback)
//! timer     the timer event: reconcile inside the invocation's deadline
//! ls, get, stats, replay                the readers, on read (flags, source, search)
//! reconcile, deploy                     the other commands
//! start     logging, configuration, async runtime, handler, --local checked
//! output    stdout lines and tables, notes on stderr
//! error     CliError: the exit code and what is said
//! ```

mod args;
mod deploy;
mod error;
mod function;
mod get;
mod invoke;
mod ls;
mod output;
mod read;
mod reconcile;
mod replay;
mod runtime;
mod start;
mod stats;
mod timer;

use std::ffi::OsString;
use std::process::ExitCode;

use tracing::error;

use crate::logging::{self, LogConfig};
use args::Cmd;
use error::CliError;

/// Runs the command line and returns the process exit code.
pub fn main(args: Vec<OsString>) -> ExitCode {
    match run(args) {
        Ok(code) => code,
        Err(e) => {
            report(&e);
            e.exit_code()
        }
    }
}

fn run(args: Vec<OsString>) -> Result<ExitCode, CliError> {
    // Runtime mode is how SCF starts the function: it must not pay for argument parsing.
    if args.is_empty() {
        return runtime::runtime_mode();
    }
    match args::parse(args) {
        Err(e) => args::usage_error(&e),
        Ok(Cmd::Invoke(a)) => invoke::invoke_mode(a),
        Ok(Cmd::Ls(a)) => ls::ls(a),
        Ok(Cmd::Get(a)) => get::get(a),
        Ok(Cmd::Stats(a)) => stats::stats(a),
        Ok(Cmd::Replay(a)) => replay::replay(a),
        Ok(Cmd::Reconcile(a)) => reconcile::reconcile(a),
        Ok(Cmd::Deploy(a)) => deploy::deploy(a),
    }
}

/// Tells a command's failure, once: a line on stderr, or an error event in the log.
fn report(e: &CliError) {
    match e {
        CliError::Line { .. } | CliError::Deploy { .. } => eprintln!("{e}"),
        CliError::Log { what, error, .. } => error!(error = %error, "{what}"),
        CliError::Config {
            error,
            log,
            to_stderr,
        } => {
            // The one configuration line must appear even under LOG_LEVEL=off or a typo'd
            // filter, so it goes through a subscriber of the same format that lets errors
            // through.
            let always = LogConfig {
                filter: "error".to_string(),
                ..LogConfig::clone(log)
            };
            let sub = if *to_stderr {
                logging::subscriber(&always, std::io::stderr)
            } else {
                logging::subscriber(&always, std::io::stdout)
            };
            tracing::subscriber::with_default(sub, || error!(error = %error, "cannot start"));
        }
    }
}
