//! The MPS notification (`ParseNotification` shape): its typed view and the parser.
//!
//! [`parse()`] keeps the original JSON object in [`ParsedEvent::raw`], every number exactly as
//! sent, and reads a typed view of the two event types this crate understands
//! (`WorkflowTask`, `EditMediaTask`) from it. The view is lenient: a field of an unexpected
//! type reads as `None`, any JSON object is an event, and nothing about its shape makes
//! parsing fail.
//!
//! Here: the typed view ([`Event`]) and what is read off a parsed event whatever its kind
//! (type, task id, status, session, time). The parser is in `parse`; the SDK-shaped data in
//! `model` (the trigger events and the pieces all kinds share) and `notify` (the kinds that
//! come by URL), read leniently through `lenient`.

use std::fmt;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

mod lenient;
#[macro_use]
mod model;
mod notify;
mod parse;

pub(crate) use model::*;
pub(crate) use notify::*;
pub use parse::{parse, EventError};

/// The typed view of an event, as far as it could be understood.
#[derive(Debug, Clone)]
pub enum Event {
    /// `EventType` = `WorkflowTask` with a usable `WorkflowTaskEvent`.
    WorkflowTask(Box<WorkflowTask>),
    /// `EditMediaTask` with a usable `EditMediaTaskEvent`.
    EditMediaTask(Box<EditMediaTask>),
    /// `ScheduleTask` with a usable `ScheduleTaskEvent`.
    ScheduleTask(Box<ScheduleTask>),
    /// `ExtractBlindWatermark` with a usable `ExtractBlindWatermarkTask`.
    ExtractBlindWatermark(Box<ExtractBlindWatermarkTask>),
    /// `BatchTask` with a usable `BatchTaskEvent`.
    BatchTask(Box<BatchSubTaskResult>),
    /// A live-stream notification: no `EventType`, a string `NotificationType`.
    LiveStreamProcess(Box<LiveStreamNotification>),
    /// Anything else: unknown type, or a known type whose body did not fit the model.
    Other,
}

/// A parsed event: the typed view plus the original JSON object, so nothing is lost.
#[derive(Clone)]
pub struct ParsedEvent {
    /// The original JSON object, exactly as received (after JSON parsing).
    pub raw: Value,
    /// Typed view.
    pub event: Event,
    /// Why the typed parse fell back to [`Event::Other`] for a known type (logged at warn).
    pub warning: Option<String>,
}

impl fmt::Debug for ParsedEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `raw` and parts of the typed view (raw parameters, AI and erase results with their
        // storage) may hold third-party credentials: only the kind of view is printed.
        let view = match &self.event {
            Event::WorkflowTask(_) => "WorkflowTask",
            Event::EditMediaTask(_) => "EditMediaTask",
            Event::ScheduleTask(_) => "ScheduleTask",
            Event::ExtractBlindWatermark(_) => "ExtractBlindWatermark",
            Event::BatchTask(_) => "BatchTask",
            Event::LiveStreamProcess(_) => "LiveStreamProcess",
            Event::Other => "Other",
        };
        f.debug_struct("ParsedEvent")
            .field("event_type", &self.event_type())
            .field("task_id", &self.task_id())
            .field("status", &self.status())
            .field("view", &view)
            .field("warning", &self.warning)
            .finish_non_exhaustive()
    }
}

/// Best-effort task object of an event whose type has no typed model.
///
/// Rule: the top-level object under `<EventType>Event`, else `<EventType>Task`, else the
/// first top-level key (in key order) ending in `TaskEvent` or `Task` whose value is an
/// object carrying a string `TaskId`; else the top-level object itself.
fn other_task_object<'a>(
    raw: &'a Map<String, Value>,
    event_type: Option<&str>,
) -> &'a Map<String, Value> {
    if let Some(t) = event_type.filter(|t| !t.is_empty()) {
        for suffix in ["Event", "Task"] {
            let key = format!("{t}{suffix}");
            if let Some(Value::Object(m)) = raw.get(&key) {
                return m;
            }
        }
    }
    raw.iter()
        .find_map(|(k, v)| match v {
            Value::Object(m)
                if (k.ends_with("TaskEvent") || k.ends_with("Task"))
                    && m.get("TaskId").is_some_and(Value::is_string) =>
            {
                Some(m)
            }
            _ => None,
        })
        .unwrap_or(raw)
}

fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s.trim())
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

impl ParsedEvent {
    /// `EventType` string; `LiveStreamProcess` for a live-stream notification (which has a
    /// `NotificationType` instead); else `unrecognized` when absent / not a string / empty.
    pub fn event_type(&self) -> &str {
        match self.raw.get("EventType") {
            Some(Value::String(s)) if !s.is_empty() => s,
            _ if matches!(self.event, Event::LiveStreamProcess(_)) => LIVE_STREAM_EVENT_TYPE,
            _ => "unrecognized",
        }
    }

    fn raw_task_str(&self, key: &str) -> Option<&str> {
        let obj = self.raw.as_object()?;
        let t = self.raw.get("EventType").and_then(Value::as_str);
        other_task_object(obj, t).get(key).and_then(Value::as_str)
    }

    /// TaskId of the task the event is about, as sent (typed task, else best effort on raw).
    /// A `BatchTask` has none: its `SessionId` stands in for it.
    pub fn task_id(&self) -> Option<&str> {
        match &self.event {
            Event::WorkflowTask(t) => t.task_id.as_deref(),
            Event::EditMediaTask(t) => t.task_id.as_deref(),
            Event::ScheduleTask(t) => t.task_id.as_deref(),
            Event::ExtractBlindWatermark(t) => t.task_id.as_deref(),
            Event::BatchTask(_) => self.session_id().filter(|s| !s.is_empty()),
            Event::LiveStreamProcess(n) => n.task_id.as_deref(),
            Event::Other => self.raw_task_str("TaskId"),
        }
    }

    /// Status of the task, as sent (typed task, else best effort on raw). A live-stream
    /// notification's is its `NotificationType`; a `BatchTask` has none.
    pub fn status(&self) -> Option<&str> {
        match &self.event {
            Event::WorkflowTask(t) => t.status.as_deref(),
            Event::EditMediaTask(t) => t.status.as_deref(),
            Event::ScheduleTask(t) => t.status.as_deref(),
            Event::ExtractBlindWatermark(t) => t.status.as_deref(),
            Event::BatchTask(_) => None,
            Event::LiveStreamProcess(n) => n.notification_type.as_deref(),
            Event::Other => self.raw_task_str("Status"),
        }
    }

    /// `SessionId` when it is a string.
    pub(crate) fn session_id(&self) -> Option<&str> {
        self.raw.get("SessionId").and_then(Value::as_str)
    }

    /// `SessionContext` when it is a string.
    pub(crate) fn session_context(&self) -> Option<&str> {
        self.raw.get("SessionContext").and_then(Value::as_str)
    }

    /// The event's own time: the latest parsable subtask `FinishTime` (WorkflowTask:
    /// media-processing subtasks, AI result tasks, smart erase, dubbing; ScheduleTask: its
    /// activities). `None` otherwise.
    pub fn event_time(&self) -> Option<DateTime<Utc>> {
        let mut latest: Option<DateTime<Utc>> = None;
        let mut see = |s: Option<&str>| {
            if let Some(ts) = s.and_then(parse_time) {
                latest = Some(latest.map_or(ts, |l| l.max(ts)));
            }
        };
        let t = match &self.event {
            Event::WorkflowTask(t) => t,
            Event::ScheduleTask(t) => {
                for item in t.activity_result_set.iter().flatten() {
                    let Some(item) = &item.activity_res_item else {
                        continue;
                    };
                    if let Some(media) = item.media() {
                        see(media.finish_time());
                    } else if let Some((_, raw)) = item.raw() {
                        see(raw.get("FinishTime").and_then(Value::as_str));
                    }
                }
                return latest;
            }
            _ => return None,
        };
        let subtasks = t.media_process_result_set.iter().flatten();
        for sub in subtasks.flat_map(MediaProcessTaskResult::subtasks) {
            see(sub.finish_time());
        }
        for set in [
            &t.ai_content_review_result_set,
            &t.ai_analysis_result_set,
            &t.ai_recognition_result_set,
            &t.smart_subtitles_task_result,
        ] {
            for ai in set.iter().flatten() {
                see(ai
                    .task()
                    .and_then(|(_, m)| m.get("FinishTime"))
                    .and_then(Value::as_str));
            }
        }
        for v in [
            &t.ai_quality_control_task_result,
            &t.smart_erase_task_result,
            &t.ai_dubbing_task_result,
        ] {
            see(v
                .as_ref()
                .and_then(|v| v.get("FinishTime"))
                .and_then(Value::as_str));
        }
        latest
    }
}

/// The `event_type` of live-stream notifications, which carry no `EventType`.
pub(crate) const LIVE_STREAM_EVENT_TYPE: &str = "LiveStreamProcess";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_type_fallbacks() {
        for (body, t) in [
            (&br#"{}"#[..], "unrecognized"),
            (br#"{"EventType":""}"#, "unrecognized"),
            (br#"{"EventType":5}"#, "unrecognized"),
            (br#"{"EventType":"BatchTask"}"#, "BatchTask"),
        ] {
            let p = parse(body).map_err(|e| e.to_string());
            assert_eq!(p.map(|p| p.event_type().to_owned()), Ok(t.to_owned()));
        }
    }

    #[test]
    fn other_types_task_id_rule() -> Result<(), EventError> {
        let p = parse(br#"{"EventType":"ExtractBlindWatermark","ExtractBlindWatermarkTask":{"TaskId":"x-1","Status":"FINISH"},"AaaTaskEvent":{"TaskId":"no"}}"#)?;
        assert_eq!((p.task_id(), p.status()), (Some("x-1"), Some("FINISH")));
        let p = parse(br#"{"EventType":"Zed","LiveScheduleTaskEvent":{"TaskId":"l-1","Status":"PROCESSING"}}"#)?;
        assert_eq!((p.task_id(), p.status()), (Some("l-1"), Some("PROCESSING")));
        let p = parse(br#"{"TaskId":"top","Status":"S"}"#)?;
        assert_eq!((p.task_id(), p.status()), (Some("top"), Some("S")));
        Ok(())
    }

    #[test]
    fn event_time_is_latest_parsable_finish_time() {
        let body = br#"{"EventType":"WorkflowTask","WorkflowTaskEvent":{"MediaProcessResultSet":[
            {"Type":"Transcode","TranscodeTask":{"FinishTime":"2026-01-01T00:00:09+08:00"}},
            {"Type":"SampleSnapshot","SampleSnapshotTask":{"FinishTime":"2026-01-01T00:00:05Z"}},
            {"Type":"ImageSprites","ImageSpriteTask":{"FinishTime":"0000-00-00T00:00:00Z"}},
            {"Type":"AnimatedGraphics","AnimatedGraphicTask":{"FinishTime":17}}],
            "AiAnalysisResultSet":[{"Type":"Cover","CoverTask":{"FinishTime":"2026-01-01T00:00:04Z"}}],
            "SmartEraseTaskResult":{"FinishTime":"2026-01-01T00:00:06.5Z"}}}"#;
        let p = parse(body).map_err(|e| e.to_string());
        let t = p.ok().and_then(|p| p.event_time()).map(|t| t.to_rfc3339());
        assert_eq!(t.as_deref(), Some("2026-01-01T00:00:06.500+00:00"));
        let none = parse(br#"{"EventType":"EditMediaTask","EditMediaTaskEvent":{"FinishTime":"2026-01-01T00:00:06Z"}}"#);
        assert_eq!(none.ok().and_then(|p| p.event_time()), None);
    }

    #[test]
    fn debug_hides_s3_secrets() {
        let p = parse(br#"{"EventType":"WorkflowTask","WorkflowTaskEvent":{"InputInfo":{"Type":"AWS-S3","S3InputInfo":{"S3Bucket":"b","S3SecretId":"AKIDSECRET1","S3SecretKey":"SECRETKEY2"}}}}"#)
            .map_err(|e| e.to_string());
        let dbg = format!("{p:?}");
        assert!(dbg.contains("WorkflowTask"), "{dbg}");
        assert!(
            !dbg.contains("AKIDSECRET1") && !dbg.contains("SECRETKEY2"),
            "{dbg}"
        );
    }
}
