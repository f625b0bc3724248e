//! Forwarding of every callback to the configured targets.

pub mod target;
pub mod webhook;
