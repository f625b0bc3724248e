//! mps-cos-backup: archives Tencent Cloud MPS task callbacks into COS from an SCF custom
//! runtime, forwards each one to the consumers MPS can no longer call, and reads the archive
//! back.
//!
//! Data flows one way. The modules, from the top of the house down: each imports only
//! modules listed below it, and no two import each other.
//!
//! ```text
//! cli        commands; wires the pieces; each returns Result<ExitCode, CliError>, told once
//! deploy     function, role and triggers through the Cloud API (`deploy`)
//! config     the wiring layer: environment -> validated settings and the clients they need
//! reconcile  MPS's task list against the archive; missing callbacks rebuilt, through handler
//! http       Function URL request -> auth (token, MPS Sign) -> handler -> response object
//! handler    one event: parse -> record -> key, then store and forward at once
//! archive    the read side: plan, list, filter, stream, replay
//! store      the Store trait: cos | local
//! cos        COS requests built and signed without I/O, answers parsed, one client
//! key        object keys: template rendered and read back, sanitizing, the key rules
//!            (COS's, the archive's, the prefix's), keys as local mirror paths
//! digest     the content digest a key ends with
//! forward    targets: scf (Invoke) | webhook (re-signed), delivered concurrently
//! record     the archive record: normalized, its outcome, redacted
//! cloudapi   TC3 signer, any action as a value, one client for every service
//! runtime    SCF runtime API client and loop (knows nothing of MPS)
//! event      the typed MPS model and its parser
//! transport  the one HTTP layer (no redirects, bounded bodies, immediate ACKs)
//! credentials  the role's keys and the one rule that scrubs them from error text
//! logging, retry, text  the log subscriber; the one attempt engine and GaveUp, the one
//!            "attempted and gave up" error; shared text helpers
//! ```
//!
//! The public items are what the binary, the benches, the tests and the fuzz targets use;
//! the rest is `pub(crate)`.

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
