//! Tencent Cloud API 3.0 for SCF `Invoke`: a pure TC3-HMAC-SHA256 signer ([`sign`]), pure
//! request building and answer parsing ([`invoke`]), retries inside a deadline
//! ([`crate::retry`]),
//! and the one module that does I/O ([`client`]).

pub mod client;
pub mod invoke;
pub mod sign;
