//! Tencent Cloud API 3.0 for SCF `Invoke`: a pure TC3-HMAC-SHA256 signer ([`sign`]) and pure
//! request building and answer parsing ([`invoke`]).

pub mod invoke;
pub mod sign;
