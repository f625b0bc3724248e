//! tracing-subscriber set-up: JSON lines (default) or text, to stdout.
//!
//! OWNER: runtime/config helper.

use crate::config::LogConfig;

/// Installs the global subscriber, writing to stdout (SCF collects it) or stderr (`invoke`, whose stdout carries results).
pub fn init(_cfg: &LogConfig, _to_stderr: bool) {
    todo!()
}
