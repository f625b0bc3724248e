//! Test support shared by the integration tests: a tiny HTTP/1.1 server and the fakes built on it.
#![allow(dead_code)]

pub mod binary;
pub mod fake_cloudapi;
pub mod fake_cos;
pub mod fake_runtime;
pub mod fake_webhook;
pub mod http;
pub mod scf_platform;
