//! MPS's own task list (service `mps`, version `2019-06-12`) without I/O: `DescribeTasks` and
//! `DescribeTaskDetail` as [`ApiCall`] values, their answers read into typed values.
//!
//! Field names are the API's (`tencentcloud.mps.v20190612.models`): `TaskSet`,
//! `ScrollToken`, `TotalCount`; `TaskSimpleInfo` {`TaskId`, `TaskType`, `CreateTime`,
//! `BeginProcessTime`, `FinishTime`, `SubTaskTypes`}; the detail's `TaskType`, `Status`,
//! `FinishTime`, `SessionId`, `SessionContext` and one task structure named after its type.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::call::{ApiAnswer, ApiCall, ApiFailure, BuildError};

/// Cloud API service of MPS (credential scope, host name).
pub(crate) const SERVICE: &str = "mps";
/// `X-TC-Version` of the MPS API.
pub(crate) const VERSION: &str = "2019-06-12";
/// Default endpoint (`MPS_ENDPOINT`).
pub(crate) const DEFAULT_ENDPOINT: &str = "https://mps.tencentcloudapi.com";
/// The largest page `DescribeTasks` returns.
pub(crate) const PAGE_LIMIT: u32 = 100;
/// How far back MPS keeps its task list.
pub(crate) const RETENTION_DAYS: i64 = 7;

/// `DescribeTasks` parameters (only those reconcile sends).
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct DescribeTasksParams<'a> {
    status: &'a str,
    limit: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    scroll_token: Option<&'a str>,
    start_time: String,
    end_time: String,
}

fn iso(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// One page of the tasks that finished between `start` and `end` (ISO 8601, UTC), 100 at a
/// time; `scroll_token` continues after the previous page.
pub(crate) fn describe_tasks(
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    scroll_token: Option<&str>,
) -> Result<ApiCall, BuildError> {
    let params = DescribeTasksParams {
        status: "FINISH",
        limit: PAGE_LIMIT,
        scroll_token: scroll_token.filter(|t| !t.is_empty()),
        start_time: iso(start),
        end_time: iso(end),
    };
    ApiCall::new(
        SERVICE,
        VERSION,
        "DescribeTasks",
        &params,
        "mps:DescribeTasks",
    )
}

/// The detail of one task.
pub(crate) fn describe_task_detail(task_id: &str) -> Result<ApiCall, BuildError> {
    #[derive(Serialize)]
    struct Params<'a> {
        #[serde(rename = "TaskId")]
        task_id: &'a str,
    }
    ApiCall::new(
        SERVICE,
        VERSION,
        "DescribeTaskDetail",
        &Params { task_id },
        "mps:DescribeTaskDetail",
    )
}

/// A task as `DescribeTasks` lists it (`TaskSimpleInfo`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TaskSummary {
    /// `TaskId`.
    pub(crate) task_id: String,
    /// `TaskType` (`WorkflowTask`, `EditMediaTask`, `ScheduleTask`, `LiveProcessTask`, ...).
    pub(crate) task_type: String,
    /// `CreateTime`, when it is a time.
    pub(crate) create_time: Option<DateTime<Utc>>,
    /// `FinishTime`; `None` while unfinished (`0000-00-00T00:00:00Z`) or unreadable.
    pub(crate) finish_time: Option<DateTime<Utc>>,
}

/// One page of `DescribeTasks`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TaskPage {
    /// The page's tasks.
    pub(crate) tasks: Vec<TaskSummary>,
    /// Where the next page starts; `None` on the last page (empty or absent).
    pub(crate) scroll_token: Option<String>,
    /// `TotalCount`, when sent.
    pub(crate) total_count: Option<u64>,
    /// The answer's `RequestId`.
    pub(crate) request_id: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawPage {
    #[serde(default)]
    task_set: Option<Vec<RawSummary>>,
    #[serde(default)]
    scroll_token: Option<String>,
    #[serde(default)]
    total_count: Option<u64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawSummary {
    task_id: String,
    #[serde(default)]
    task_type: Option<String>,
    #[serde(default)]
    create_time: Option<String>,
    #[serde(default)]
    finish_time: Option<String>,
}

/// An ISO 8601 time as MPS writes it (`2026-12-05T06:00:00Z`); the zero time
/// `0000-00-00T00:00:00Z` and anything unreadable are `None`.
pub(crate) fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text.trim())
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// Reads a `DescribeTasks` answer. A page without `TaskSet` is an empty page.
pub(crate) fn read_tasks_page(answer: ApiAnswer) -> Result<TaskPage, ApiFailure> {
    let request_id = answer.request_id.clone();
    let raw: RawPage = answer.into_typed()?;
    let tasks = raw
        .task_set
        .unwrap_or_default()
        .into_iter()
        .map(|t| TaskSummary {
            task_id: t.task_id,
            task_type: t.task_type.unwrap_or_default(),
            create_time: t.create_time.as_deref().and_then(parse_time),
            finish_time: t.finish_time.as_deref().and_then(parse_time),
        })
        .collect();
    Ok(TaskPage {
        tasks,
        scroll_token: raw.scroll_token.filter(|t| !t.is_empty()),
        total_count: raw.total_count,
        request_id,
    })
}

/// A task's detail (`DescribeTaskDetail`): what a callback is rebuilt from.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct TaskDetail {
    /// `TaskType` (`WorkflowTask`, `EditMediaTask`, `ScheduleTask`, `LiveStreamProcessTask`,
    /// `ExtractBlindWatermark`, ...).
    pub(crate) task_type: String,
    /// `Status`.
    pub(crate) status: Option<String>,
    /// `FinishTime`, when it is a time.
    pub(crate) finish_time: Option<DateTime<Utc>>,
    /// `SessionId`, as sent (`Value::Null` when absent).
    pub(crate) session_id: Value,
    /// `SessionContext`, as sent (`Value::Null` when absent).
    pub(crate) session_context: Value,
    /// The name of the field that held the task structure (e.g. `ExtractBlindWatermarkTask`).
    pub(crate) task_field: Option<String>,
    /// The task structure itself, every number exactly as sent; `None` when the answer has
    /// no non-null structure for its type.
    pub(crate) task: Option<Value>,
    /// The answer's `RequestId`.
    pub(crate) request_id: String,
}

/// The detail field that holds a task of `task_type`: the type's own name (`WorkflowTask`,
/// `ScheduleTask`, `LiveStreamProcessTask`, ...), or with `Task` appended
/// (`ExtractBlindWatermark` -> `ExtractBlindWatermarkTask`).
fn task_field_candidates(task_type: &str) -> [String; 2] {
    [task_type.to_string(), format!("{task_type}Task")]
}

/// Reads a `DescribeTaskDetail` answer.
pub(crate) fn read_task_detail(answer: ApiAnswer) -> Result<TaskDetail, ApiFailure> {
    let request_id = answer.request_id;
    let mut response: Map<String, Value> = answer.response;
    let task_type = match response.get("TaskType") {
        Some(Value::String(t)) if !t.is_empty() => t.clone(),
        _ => {
            return Err(ApiFailure::Malformed {
                detail: "DescribeTaskDetail answer without a TaskType".into(),
            })
        }
    };
    let text = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_string);
    let status = text(response.get("Status"));
    let finish_time = text(response.get("FinishTime")).and_then(|t| parse_time(&t));
    let mut task_field = None;
    let mut task = None;
    for field in task_field_candidates(&task_type) {
        if let Some(v @ Value::Object(_)) = response.remove(&field) {
            task_field = Some(field);
            task = Some(v);
            break;
        }
    }
    Ok(TaskDetail {
        session_id: response.remove("SessionId").unwrap_or(Value::Null),
        session_context: response.remove("SessionContext").unwrap_or(Value::Null),
        task_type,
        status,
        finish_time,
        task_field,
        task,
        request_id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloudapi::call::parse_answer;

    fn at(s: &str) -> DateTime<Utc> {
        parse_time(s).unwrap()
    }

    #[test]
    fn describe_tasks_asks_for_finished_tasks_a_hundred_at_a_time() {
        let call = describe_tasks(
            at("2026-12-04T06:00:00Z"),
            at("2026-12-05T06:00:00+00:00"),
            None,
        )
        .unwrap();
        assert_eq!((call.service, call.version), ("mps", "2019-06-12"));
        assert_eq!(call.action, "DescribeTasks");
        assert_eq!(call.permission, "mps:DescribeTasks");
        assert_eq!(
            std::str::from_utf8(&call.params).unwrap(),
            r#"{"Status":"FINISH","Limit":100,"StartTime":"2026-12-04T06:00:00Z","EndTime":"2026-12-05T06:00:00Z"}"#
        );
        let next = describe_tasks(
            at("2026-12-04T06:00:00Z"),
            at("2026-12-05T06:00:00Z"),
            Some("tok-2"),
        )
        .unwrap();
        let v: Value = serde_json::from_slice(&next.params).unwrap();
        assert_eq!(v["ScrollToken"], "tok-2");
        // An empty token is the end of the list, never sent.
        let empty = describe_tasks(
            at("2026-12-04T06:00:00Z"),
            at("2026-12-05T06:00:00Z"),
            Some(""),
        )
        .unwrap();
        let v: Value = serde_json::from_slice(&empty.params).unwrap();
        assert!(v.get("ScrollToken").is_none());
        let detail = describe_task_detail("1250000000-WorkflowTask-abc").unwrap();
        assert_eq!(detail.action, "DescribeTaskDetail");
        assert_eq!(detail.permission, "mps:DescribeTaskDetail");
        assert_eq!(
            &detail.params[..],
            br#"{"TaskId":"1250000000-WorkflowTask-abc"}"#
        );
    }

    /// A page as the API answers it (SDK field names), with an unfinished task's zero time.
    #[test]
    fn a_recorded_page_is_read() {
        let body = br#"{"Response":{"TaskSet":[
            {"TaskId":"1250000000-WorkflowTask-a1t0","TaskType":"WorkflowTask","CreateTime":"2026-12-05T01:00:00Z","BeginProcessTime":"2026-12-05T01:00:01Z","FinishTime":"2026-12-05T01:02:03Z","SubTaskTypes":["Transcode"]},
            {"TaskId":"1250000000-EditMediaTask-b2t0","TaskType":"EditMediaTask","CreateTime":"2026-12-05T02:00:00Z","BeginProcessTime":"0000-00-00T00:00:00Z","FinishTime":"0000-00-00T00:00:00Z","SubTaskTypes":[]}
        ],"ScrollToken":"next-1","TotalCount":250,"RequestId":"req-1"}}"#;
        let page = read_tasks_page(parse_answer(200, body).unwrap()).unwrap();
        assert_eq!(page.tasks.len(), 2);
        assert_eq!(page.tasks[0].task_id, "1250000000-WorkflowTask-a1t0");
        assert_eq!(page.tasks[0].task_type, "WorkflowTask");
        assert_eq!(page.tasks[0].finish_time, Some(at("2026-12-05T01:02:03Z")));
        assert_eq!(page.tasks[1].finish_time, None);
        assert_eq!(page.scroll_token.as_deref(), Some("next-1"));
        assert_eq!(page.total_count, Some(250));
        assert_eq!(page.request_id, "req-1");
        let last =
            br#"{"Response":{"TaskSet":[],"ScrollToken":"","TotalCount":0,"RequestId":"req-2"}}"#;
        let page = read_tasks_page(parse_answer(200, last).unwrap()).unwrap();
        assert!(page.tasks.is_empty() && page.scroll_token.is_none());
        let bad = br#"{"Response":{"TaskSet":[{"TaskType":"WorkflowTask"}],"RequestId":"r"}}"#;
        assert!(matches!(
            read_tasks_page(parse_answer(200, bad).unwrap()),
            Err(ApiFailure::Malformed { .. })
        ));
    }

    #[test]
    fn a_recorded_detail_is_read_with_its_numbers_exact() {
        let body = br#"{"Response":{"TaskType":"WorkflowTask","Status":"FINISH","CreateTime":"2026-12-05T01:00:00Z","BeginProcessTime":"2026-12-05T01:00:01Z","FinishTime":"2026-12-05T01:02:03Z",
            "EditMediaTask":null,
            "WorkflowTask":{"TaskId":"1250000000-WorkflowTask-a1t0","Status":"FINISH","ErrCode":0,"Message":"","MetaData":{"Duration":1.50,"Size":123456789012345678901234}},
            "ScheduleTask":null,"LiveStreamProcessTask":null,"ExtractBlindWatermarkTask":null,
            "TaskNotifyConfig":{"NotifyType":"URL","NotifyUrl":"https://x.example/cb","NotifyKey":"k"},
            "TasksPriority":0,"SessionId":"s-1","SessionContext":"ctx","ExtInfo":"","RequestId":"req-9"}}"#;
        let d = read_task_detail(parse_answer(200, body).unwrap()).unwrap();
        assert_eq!(d.task_type, "WorkflowTask");
        assert_eq!(d.status.as_deref(), Some("FINISH"));
        assert_eq!(d.finish_time, Some(at("2026-12-05T01:02:03Z")));
        assert_eq!(d.task_field.as_deref(), Some("WorkflowTask"));
        assert_eq!(d.session_id, Value::String("s-1".into()));
        assert_eq!(d.session_context, Value::String("ctx".into()));
        assert_eq!(
            serde_json::to_string(&d.task.unwrap()["MetaData"]).unwrap(),
            r#"{"Duration":1.50,"Size":123456789012345678901234}"#
        );

        let wm = br#"{"Response":{"TaskType":"ExtractBlindWatermark","Status":"FINISH","FinishTime":"2026-12-05T01:02:03Z","WorkflowTask":null,"ExtractBlindWatermarkTask":{"TaskId":"w1","Status":"FINISH"},"RequestId":"r"}}"#;
        let d = read_task_detail(parse_answer(200, wm).unwrap()).unwrap();
        assert_eq!(d.task_field.as_deref(), Some("ExtractBlindWatermarkTask"));
        assert_eq!(d.session_id, Value::Null);

        let empty = br#"{"Response":{"TaskType":"ScheduleTask","Status":"FINISH","ScheduleTask":null,"RequestId":"r"}}"#;
        let d = read_task_detail(parse_answer(200, empty).unwrap()).unwrap();
        assert!(d.task.is_none() && d.task_field.is_none());

        let untyped = br#"{"Response":{"Status":"FINISH","RequestId":"r"}}"#;
        assert!(matches!(
            read_task_detail(parse_answer(200, untyped).unwrap()),
            Err(ApiFailure::Malformed { .. })
        ));
    }
}
