//! Object keys: everything the archive knows about them, in one place.
//!
//! The handler writes keys and every reader reads them back; both sides must agree on the
//! same rules, so they live together here:
//!
//! - `template`: `COS_KEY_TEMPLATE` parsed and checked once, then rendered from an event's
//!   type, task, status, outcome, date and digest ([`KeyTemplate`], [`KeyParts`]).
//! - `sanitize`: the text an event supplies, made safe inside one key segment.
//! - `read`: a key read back into its fields through the template ([`KeyFields`],
//!   [`Piece`]), for the read side.
//! - `rules`: what a key may be, for COS and for the archive, and what a key prefix may be
//!   ([`check_archive_key`]).
//! - `local`: a key as a file of the local mirror.
//!
//! The digest a key ends with is [`crate::digest`]'s. The COS client checks its keys here,
//! so nothing in this module depends on COS.

mod local;
mod read;
mod rules;
mod sanitize;
mod template;

pub(crate) use local::{key_path, TEMP_PREFIX};
pub(crate) use read::{KeyFields, Piece};
pub use rules::{check_archive_key, KeyError};
pub(crate) use rules::{check_cos_key, check_prefix};
pub(crate) use sanitize::{sanitize, MAX_EVENT_TYPE_BYTES, MAX_STATUS_BYTES, MAX_TASK_ID_BYTES};
pub use template::{KeyParts, KeyTemplate, TemplateError, DEFAULT_TEMPLATE, OLD_DEFAULT_TEMPLATE};
