//! Command line: runtime mode (no arguments), `invoke`, `--help`, `--version`.

use std::ffi::OsString;
use std::process::ExitCode;

/// Runs the command line and returns the process exit code.
pub fn main(_args: Vec<OsString>) -> ExitCode {
    todo!()
}
