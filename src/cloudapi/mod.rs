//! Tencent Cloud API 3.0 for any service: a pure TC3-HMAC-SHA256 signer ([`sign`]), one call
//! as a value with its answer parsed and classified purely ([`call`]), SCF `Invoke` on top of
//! it ([`invoke`]), MPS's task list ([`mps`]), and the one module that does I/O ([`client`]): retries inside a deadline
//! ([`crate::retry`]), a clock error signed again once, secrets masked in every answer.
//! SCF's management actions ([`scf`]) and CAM's roles and policies ([`cam`]) are calls too.

pub(crate) mod call;
pub mod cam;
pub mod client;
pub mod invoke;
pub(crate) mod mps;
pub(crate) mod scf;
pub(crate) mod sign;
