//! mps-cos-backup: archives Tencent Cloud MPS task callbacks into COS from an SCF custom runtime.
//!
//! Data flows one way:
//! `runtime` (SCF runtime API loop) -> `handler` (one event) -> `event` (typed parse)
//! -> `record` (normalize, redact) -> `layout` (object key) -> `store` (`cos` | `local`).
//! `config` turns the environment into a validated [`config::Config`] once, at start.

pub mod archive;
pub mod cli;
pub mod cloudapi;
pub mod config;
pub mod cos;
pub mod credentials;
pub mod event;
pub mod forward;
pub mod handler;
pub mod layout;
pub mod logging;
pub mod record;
pub mod runtime;
pub mod store;
pub mod text;
pub mod transport;
