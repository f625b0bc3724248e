//! COS XML API: a pure request signer, CRC-64/XZ, and a PUT Object client.
//!
//! OWNER: COS helper.

pub mod client;
pub mod crc64;
pub mod sign;

pub use client::{CosClient, CosError, Failure, PutOutcome, RetryPolicy};
