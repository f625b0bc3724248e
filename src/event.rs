//! Typed model of the MPS notification (`ParseNotification` shape) and its parser.
//!
//! OWNER: event/record helper. The items below are the agreed interface.

use chrono::{DateTime, Utc};
use serde_json::Value;

/// Why a body could not be taken as an event (only when it is not a JSON object).
#[derive(Debug, thiserror::Error)]
pub enum EventError {
    /// Not UTF-8 / not JSON / truncated.
    #[error("event is not a JSON object: {0}")]
    NotJson(String),
    /// Valid JSON but an array, number, string, bool or null.
    #[error("event is not a JSON object: got {0}")]
    NotObject(&'static str),
}

/// The typed view of an event, as far as it could be understood.
#[derive(Debug, Clone)]
pub enum Event {
    /// `EventType` = `WorkflowTask` with a usable `WorkflowTaskEvent`.
    WorkflowTask(Box<()>),
    /// `EditMediaTask` with a usable `EditMediaTaskEvent`.
    EditMediaTask(Box<()>),
    /// Anything else: unknown type, or a known type whose body did not fit the model.
    Other,
}

/// A parsed event: the typed view plus the original JSON object, so nothing is lost.
#[derive(Debug, Clone)]
pub struct ParsedEvent {
    /// The original JSON object, exactly as received (after JSON parsing).
    pub raw: Value,
    /// Typed view.
    pub event: Event,
    /// Why the typed parse fell back to [`Event::Other`] for a known type (logged at warn).
    pub warning: Option<String>,
}

impl ParsedEvent {
    /// `EventType` string, or `unrecognized` when absent / not a string.
    pub fn event_type(&self) -> &str {
        todo!()
    }
    /// TaskId of the task the event is about, as sent.
    pub fn task_id(&self) -> Option<&str> {
        todo!()
    }
    /// Status of the task, as sent.
    pub fn status(&self) -> Option<&str> {
        todo!()
    }
    /// The event's own time: the latest subtask `FinishTime`.
    pub fn event_time(&self) -> Option<DateTime<Utc>> {
        todo!()
    }
}

/// Parses a raw invocation body. Fails only when the body is not a JSON object.
pub fn parse(_body: &[u8]) -> Result<ParsedEvent, EventError> {
    todo!()
}
