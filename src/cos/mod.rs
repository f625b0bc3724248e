//! COS XML API client, laid out so that only one file does I/O.
//!
//! - `bucket`: bucket, region, endpoint and storage class as parsed values (the keys it
//!   sends obey [`crate::key`]'s rules for COS).
//! - [`sign`]: the request signer (pure, time passed in); [`crc64`]: COS's CRC-64.
//! - `put_object`: a PUT checked, prepared and signed as a request value; its answer read
//!   by a pure function.
//! - `list_objects` (GET Bucket) and `get_object` (GET Object): the read side, one request
//!   file each, sharing the bucket, signer, error parsing, classes and client loop.
//! - `error`: what COS said (XML error bodies) and why a request failed; `classify`: what
//!   to do about it (the attempts and backoff are [`crate::retry`]'s).
//! - `xml`: the one XML reader (listings, error bodies).
//! - `client`: the attempts themselves, within the caller's deadline; each request file adds
//!   its method to [`CosClient`], so the client imports none of them.

mod bucket;
mod classify;
mod client;
pub mod crc64;
mod error;
mod get_object;
mod list_objects;
mod put_object;
#[cfg(test)]
mod recorded;
pub mod sign;
mod xml;

pub(crate) use bucket::check_region;
#[cfg(test)]
pub(crate) use bucket::STORAGE_CLASSES;
pub use bucket::{Bucket, BucketError, Endpoint, StorageClass};
pub use client::CosClient;
pub use error::{CosError, CosFailure, ErrorBody};
pub(crate) use get_object::MAX_OBJECT_BYTES;
pub(crate) use list_objects::MAX_KEYS;
pub use put_object::{PutObject, PutOutcome};
