//! Test support shared by the integration tests: a tiny HTTP/1.1 server (`http`), the fakes
//! built on it (`fake_runtime`, `fake_cos`, `fake_cloudapi`, `fake_webhook`, and
//! `fake_deploy_api` for SCF and CAM management, `fake_mps` for MPS's task list; all but the runtime take fault injection
//! and locking from `seeded`; `order_hook` watches replay order), the real binary as SCF
//! starts it (`binary`) and the platform around it with independent checks of what it stored
//! (`scf_platform`), and the sample callbacks (`fixtures`).
#![allow(dead_code)]

pub mod binary;
pub mod fake_cloudapi;
pub mod fake_cos;
pub mod fake_deploy_api;
pub mod fake_mps;
pub mod fake_runtime;
pub mod fake_webhook;
pub mod fixtures;
pub mod http;
pub mod order_hook;
pub mod scf_platform;
pub mod seeded;
