//! What a task of MPS's list looks like in the archive, and its callback rebuilt from its
//! detail, without I/O.

use serde_json::{Map, Value};

use crate::cloudapi::mps::TaskDetail;
use crate::event::LIVE_STREAM_EVENT_TYPE;

/// Why a callback cannot be rebuilt from a task's detail.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum RebuildError {
    /// The detail holds no structure for its task type.
    #[error("DescribeTaskDetail (request id {request_id}) holds no {task_type} structure to rebuild the callback from")]
    NoTask {
        /// The detail's `TaskType`.
        task_type: String,
        /// The answer's `RequestId`.
        request_id: String,
    },
    /// The callback cannot be serialized.
    #[error("rebuilt callback cannot be serialized: {0}")]
    Serialize(String),
}

/// The field of a callback that carries a task of `task_type`: `<TaskType>Event`, but for the
/// two types whose notifications name it otherwise (`ExtractBlindWatermarkTask`,
/// `LiveStreamProcessTask`).
pub(crate) fn callback_field(task_type: &str) -> String {
    match task_type {
        "ExtractBlindWatermark" => "ExtractBlindWatermarkTask".to_string(),
        "LiveStreamProcessTask" => "LiveStreamProcessTask".to_string(),
        t => format!("{t}Event"),
    }
}

/// The callback MPS sends when the task of `detail` ends: `{"EventType": <TaskType>,
/// "<TaskType>Event": <the task>, "SessionId", "SessionContext"}`, the task exactly as the
/// detail gives it (every number as sent). Delivery fields (`Timestamp`, `Sign`) are not part
/// of it: they belong to one delivery and do not count towards the key's digest.
pub(crate) fn rebuild_callback(detail: &TaskDetail) -> Result<Vec<u8>, RebuildError> {
    let Some(task) = &detail.task else {
        return Err(RebuildError::NoTask {
            task_type: detail.task_type.clone(),
            request_id: detail.request_id.clone(),
        });
    };
    let mut callback = Map::new();
    callback.insert(
        "EventType".to_string(),
        Value::String(detail.task_type.clone()),
    );
    callback.insert(callback_field(&detail.task_type), task.clone());
    callback.insert("SessionId".to_string(), text_or_empty(&detail.session_id));
    callback.insert(
        "SessionContext".to_string(),
        text_or_empty(&detail.session_context),
    );
    serde_json::to_vec(&Value::Object(callback)).map_err(|e| RebuildError::Serialize(e.to_string()))
}

/// Callbacks carry `SessionId` and `SessionContext` as strings, empty when unset.
fn text_or_empty(v: &Value) -> Value {
    match v {
        Value::Null => Value::String(String::new()),
        other => other.clone(),
    }
}

/// The event types under which the archive files the callbacks of a task that
/// `DescribeTasks` lists as `task_type`. A live-stream task (`LiveProcessTask` in the list,
/// `LiveStreamProcessTask` in its detail) notifies as `LiveStreamProcess`; its rebuilt
/// callback is filed under its detail's type.
pub(crate) fn archive_types(task_type: &str) -> Vec<String> {
    match task_type {
        "LiveProcessTask" | "LiveStreamProcessTask" | "LiveStreamProcess" => vec![
            LIVE_STREAM_EVENT_TYPE.to_string(),
            "LiveStreamProcessTask".to_string(),
        ],
        t => vec![t.to_string()],
    }
}

/// Whether a record of `event_type` with key status `status` (lowercase) says its task
/// ended: `finish`, or for a live stream the `ProcessEof` notification.
pub(crate) fn is_end(event_type: &str, status: &str) -> bool {
    status == "finish" || (event_type == LIVE_STREAM_EVENT_TYPE && status == "processeof")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event;

    fn detail(task_type: &str, field: &str, task: &str) -> TaskDetail {
        TaskDetail {
            task_type: task_type.into(),
            status: Some("FINISH".into()),
            finish_time: None,
            session_id: Value::String("s-1".into()),
            session_context: Value::Null,
            task_field: Some(field.into()),
            task: Some(serde_json::from_str(task).unwrap()),
            request_id: "req-1".into(),
        }
    }

    #[test]
    fn callbacks_are_rebuilt_in_the_notification_shape() {
        let d = detail(
            "WorkflowTask",
            "WorkflowTask",
            r#"{"TaskId":"1250000000-WorkflowTask-a1t0","Status":"FINISH","ErrCode":0,"MetaData":{"Duration":1.50}}"#,
        );
        let body = rebuild_callback(&d).unwrap();
        let v: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["EventType"], "WorkflowTask");
        assert_eq!(
            v["WorkflowTaskEvent"]["TaskId"],
            "1250000000-WorkflowTask-a1t0"
        );
        assert_eq!(v["SessionId"], "s-1");
        assert_eq!(v["SessionContext"], "");
        assert!(String::from_utf8(body.clone()).unwrap().contains("1.50"));
        let parsed = event::parse(&body).unwrap();
        assert!(matches!(parsed.event, event::Event::WorkflowTask(_)));
        assert_eq!(parsed.task_id(), Some("1250000000-WorkflowTask-a1t0"));
        assert_eq!(parsed.status(), Some("FINISH"));

        for (task_type, field, want) in [
            ("EditMediaTask", "EditMediaTask", "EditMediaTaskEvent"),
            ("ScheduleTask", "ScheduleTask", "ScheduleTaskEvent"),
            (
                "ExtractBlindWatermark",
                "ExtractBlindWatermarkTask",
                "ExtractBlindWatermarkTask",
            ),
            (
                "LiveStreamProcessTask",
                "LiveStreamProcessTask",
                "LiveStreamProcessTask",
            ),
        ] {
            let d = detail(
                task_type,
                field,
                r#"{"TaskId":"t-1","Status":"FINISH","ErrCode":0}"#,
            );
            let v: Value = serde_json::from_slice(&rebuild_callback(&d).unwrap()).unwrap();
            assert_eq!(v[want]["TaskId"], "t-1", "{task_type}");
            let parsed = event::parse(&rebuild_callback(&d).unwrap()).unwrap();
            assert_eq!(parsed.event_type(), task_type);
            assert_eq!(parsed.task_id(), Some("t-1"), "{task_type}");
            assert_eq!(parsed.status(), Some("FINISH"), "{task_type}");
        }
        let none = TaskDetail {
            task: None,
            ..detail("ScheduleTask", "ScheduleTask", "{}")
        };
        let e = rebuild_callback(&none).unwrap_err().to_string();
        assert!(e.contains("ScheduleTask") && e.contains("req-1"), "{e}");
    }

    #[test]
    fn archive_types_and_end_statuses() {
        assert_eq!(archive_types("WorkflowTask"), ["WorkflowTask"]);
        assert_eq!(
            archive_types("LiveProcessTask"),
            ["LiveStreamProcess", "LiveStreamProcessTask"]
        );
        assert!(is_end("WorkflowTask", "finish"));
        assert!(!is_end("WorkflowTask", "processing"));
        assert!(is_end("LiveStreamProcess", "processeof"));
        assert!(!is_end("WorkflowTask", "processeof"));
    }
}
