//! mps-cos-backup: archives Tencent Cloud MPS task callbacks into COS from an SCF custom
//! runtime, forwards each one to the consumers MPS can no longer call, and reads the archive
//! back.
//!
//! Data flows one way; no module imports one above it:
//!
//! ```text
//! cli       commands; wires the pieces together (with config, the wiring layer under it:
//!           environment -> validated settings and the clients they configure)
//! runtime   SCF runtime API client and loop (knows nothing of MPS)
//! reconcile MPS's task list against the archive; missing callbacks rebuilt, through handler
//! http      Function URL request -> auth (token, MPS Sign) -> handler -> response object
//! handler   one event: parse -> record -> key, then store and forward at once
//! store (cos | local)            forward (scf: Invoke | webhook)      archive (read side)
//! cos       COS requests built and signed without I/O, answers parsed, one client
//! cloudapi  TC3 signer, any action as a value, one client for every service
//! key       object keys: template rendered and read back, sanitizing, the key rules
//!           (COS's, the archive's, the prefix's), keys as local mirror paths
//! event -> record -> digest      typed MPS model; normalized, redacted record; content digest
//! transport, retry   the one HTTP layer (no redirects, bounded bodies, immediate ACKs);
//!           the one attempt engine: attempts, time budget, full-jitter backoff, re-signing
//! logging, credentials, text   the log subscriber; the role's keys; shared helpers
//! ```

#![warn(missing_docs, unreachable_pub, rust_2018_idioms)]

pub mod archive;
pub mod cli;
pub mod cloudapi;
pub mod config;
pub mod cos;
pub mod credentials;
pub(crate) mod deploy;
pub mod digest;
pub mod event;
pub mod forward;
pub mod handler;
pub mod http;
pub mod key;
pub mod logging;
pub mod reconcile;
pub mod record;
pub mod retry;
pub mod runtime;
pub mod store;
pub(crate) mod text;
pub mod transport;
