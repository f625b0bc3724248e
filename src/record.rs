//! The archive record (SPEC "Object body") and credential redaction.
//!
//! OWNER: event/record helper. The items below are the agreed interface.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

use crate::event::ParsedEvent;

/// Value of the record's `schema` field.
pub const SCHEMA: &str = "mps-cos-backup/record/v1";

/// Replacement written over credential values.
pub const REDACTED: &str = "***";

/// One archived callback, serialized as the object body.
#[derive(Debug, Clone, Serialize)]
pub struct Record {
    /// Always [`SCHEMA`].
    pub schema: &'static str,
    /// The original event (redacted when configured).
    pub event: Value,
}

/// Builds the record. `redact` replaces credential values in `event`.
pub fn build(
    _parsed: &ParsedEvent,
    _received_at: DateTime<Utc>,
    _request_id: Option<&str>,
    _redact: bool,
) -> Record {
    todo!()
}

/// Replaces, in place and at any depth, string values of credential-named keys; returns how many.
pub fn redact(_value: &mut Value) -> usize {
    todo!()
}

/// True when a key names a credential (`...SecretId`, `...SecretKey`, `...Token`, `...Password`, `...NotifyKey`, `...StreamKey`).
pub fn is_credential_key(_name: &str) -> bool {
    todo!()
}
