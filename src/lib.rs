//! mps-cos-backup: archives Tencent Cloud MPS task callbacks into COS from an SCF custom
//! runtime, forwards each one to the consumers MPS can no longer call, and reads the archive
//! back.
//!
//! Data flows one way; no module imports one above it:
//!
//! ```text
//! cli       commands; wires the pieces together
//! runtime   SCF runtime API client and loop (knows nothing of MPS)
//! reconcile MPS's task list against the archive; missing callbacks rebuilt, through handler
//! handler   one event: parse -> record -> key, then store and forward at once
//! event -> record -> layout      typed MPS model; normalized, redacted record; key <-> fields
//! store (cos | local)            forward (scf: Invoke | webhook)      archive (read side)
//! cos       COS requests built and signed without I/O, answers parsed, one client loop
//! cloudapi  TC3 signer and SCF Invoke client
//! transport, retry   the one HTTP layer (no redirects, bounded bodies, immediate ACKs);
//!           attempts and full-jitter backoff inside a deadline
//! config, logging, credentials, text   environment -> typed settings; shared helpers
//! ```

#![warn(missing_docs, unreachable_pub, rust_2018_idioms)]

pub mod archive;
pub mod cli;
pub mod cloudapi;
pub mod config;
pub mod cos;
pub mod credentials;
pub mod event;
pub mod forward;
pub mod handler;
pub mod http;
pub mod layout;
pub mod logging;
pub mod reconcile;
pub mod record;
pub mod retry;
pub mod runtime;
pub mod store;
pub mod text;
pub mod transport;
