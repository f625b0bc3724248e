//! How a task ended: the record's [`Outcome`], classified from the task's status, its own
//! error and its subtask results, and the one rule of what counts as failed (`error_of`).
//!
//! The rule: from the task's `Status` (case-insensitive): `WAITING` or `PROCESSING` is
//! `running`; `FAIL`, `FAILED` or `ERROR` is `failed`; `FINISH` or `SUCCESS` is `failed`
//! when the task itself failed (`ErrCode` non-zero or `ErrCodeExt` non-empty) or every
//! subtask result failed, `partial` when some failed and others did not, else `ok`; anything
//! else, no `Status`, or an event without a typed model, is `unknown`. A subtask result
//! counts when it has a status or an error, and failed by the `error` rule (`normalize`'s
//! docs). A `ScheduleTask` is classified the same way, its activities as the subtasks; the
//! other kinds that come by URL are in `notify`.

use std::fmt;

use serde::Serialize;

use super::{ErrorInfo, Output};

/// How a task ended, as the record's `outcome`, the key's `{outcome}` and the
/// `x-cos-meta-task-outcome` metadata show it (lowercase).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// Finished and nothing failed.
    Ok,
    /// The task failed, or every subtask result did.
    Failed,
    /// The task finished, some subtask results failed and others did not.
    Partial,
    /// Waiting or processing: not ended yet.
    Running,
    /// No typed model, no `Status`, or a `Status` this rule does not know.
    Unknown,
}

impl Outcome {
    /// Every outcome, in the order readers sort them.
    pub(crate) const ALL: [Outcome; 5] = [
        Outcome::Ok,
        Outcome::Failed,
        Outcome::Partial,
        Outcome::Running,
        Outcome::Unknown,
    ];

    /// The lowercase name.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Failed => "failed",
            Outcome::Partial => "partial",
            Outcome::Running => "running",
            Outcome::Unknown => "unknown",
        }
    }

    /// The outcome named `name` (case-insensitive).
    pub(crate) fn parse(name: &str) -> Option<Outcome> {
        Outcome::ALL
            .into_iter()
            .find(|o| o.as_str().eq_ignore_ascii_case(name))
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The outcome rule: the task's `Status`, whether the task itself failed, and its subtask
/// results (a result without status or error, like `CoverBySnapshot`'s, does not count).
pub(super) fn outcome_from(status: Option<&str>, task_failed: bool, results: &[Output]) -> Outcome {
    let Some(status) = status else {
        return Outcome::Unknown;
    };
    let is = |name: &str| status.eq_ignore_ascii_case(name);
    if is("WAITING") || is("PROCESSING") {
        return Outcome::Running;
    }
    if is("FAIL") || is("FAILED") || is("ERROR") {
        return Outcome::Failed;
    }
    if !is("FINISH") && !is("SUCCESS") {
        return Outcome::Unknown;
    }
    if task_failed {
        return Outcome::Failed;
    }
    let counted = results
        .iter()
        .filter(|o| o.status.is_some() || o.error.is_some());
    let (total, failed) = counted.fold((0usize, 0usize), |(n, f), o| {
        (n + 1, f + usize::from(o.error.is_some()))
    });
    match failed {
        0 => Outcome::Ok,
        f if f == total => Outcome::Failed,
        _ => Outcome::Partial,
    }
}

/// `{code, message}` when the (sub)task failed; see `normalize`'s docs. Task-level errors
/// have no `Status` to consult (`None`): a task's `Status` says whether it ended, not how.
pub(super) fn error_of(
    err_code: Option<i64>,
    message: Option<&str>,
    err_code_ext: Option<&str>,
    status: Option<&str>,
) -> Option<ErrorInfo> {
    let code_ext = err_code_ext.filter(|c| !c.is_empty());
    let num = err_code.filter(|c| *c != 0);
    let failed = code_ext.is_some()
        || num.is_some()
        || status.is_some_and(|s| s.eq_ignore_ascii_case("FAIL"));
    failed.then(|| ErrorInfo {
        code: code_ext
            .map(str::to_owned)
            .or_else(|| num.map(|n| n.to_string()))
            .unwrap_or_else(|| "FAIL".to_owned()),
        message: message.unwrap_or_default().to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{build, outcome, RecordSource};
    use chrono::{DateTime, Utc};
    use serde_json::{json, Value};

    fn outcome_of(body: &str) -> Outcome {
        match crate::event::parse(body.as_bytes()) {
            Ok(p) => {
                let built = build(
                    &p,
                    DateTime::<Utc>::UNIX_EPOCH,
                    None,
                    RecordSource::Invoke,
                    true,
                );
                assert_eq!(built.outcome, outcome(&p), "{body}");
                built.outcome
            }
            Err(e) => panic!("{body}: {e}"),
        }
    }

    /// A WorkflowTask event with task fields `task` and media subtasks `subs` (JSON text).
    fn workflow(task: &str, subs: &[&str]) -> String {
        let set: Vec<String> = subs
            .iter()
            .map(|s| format!(r#"{{"Type":"Transcode","TranscodeTask":{s}}}"#))
            .collect();
        format!(
            r#"{{"EventType":"WorkflowTask","WorkflowTaskEvent":{{"TaskId":"t"{task},"MediaProcessResultSet":[{}]}}}}"#,
            set.join(",")
        )
    }

    const OK: &str = r#"{"Status":"SUCCESS","ErrCode":0,"ErrCodeExt":""}"#;
    const FAIL: &str = r#"{"Status":"FAIL","ErrCode":0,"ErrCodeExt":"SourceFileError"}"#;

    #[test]
    fn workflow_outcomes() {
        let fin = r#","Status":"FINISH""#;
        for (task, subs, want) in [
            (fin, &[OK, OK][..], Outcome::Ok),
            (fin, &[][..], Outcome::Ok),
            (r#","Status":"success""#, &[OK][..], Outcome::Ok),
            // One subtask failed, another succeeded.
            (fin, &[FAIL, OK][..], Outcome::Partial),
            // Every subtask failed.
            (fin, &[FAIL, FAIL][..], Outcome::Failed),
            // The task's own error, whatever its subtasks say.
            (
                r#","Status":"FINISH","ErrCode":70000"#,
                &[OK][..],
                Outcome::Failed,
            ),
            (
                r#","Status":"FINISH","ErrCodeExt":"InternalError""#,
                &[OK][..],
                Outcome::Failed,
            ),
            (
                r#","Status":"FINISH","ErrCode":0,"ErrCodeExt":"""#,
                &[OK][..],
                Outcome::Ok,
            ),
            // A subtask fails by a non-zero ErrCode, a non-empty ErrCodeExt or Status FAIL,
            // in any case.
            (
                fin,
                &[r#"{"Status":"SUCCESS","ErrCode":30010}"#, OK][..],
                Outcome::Partial,
            ),
            (
                fin,
                &[r#"{"Status":"SUCCESS","ErrCodeExt":"X"}"#, OK][..],
                Outcome::Partial,
            ),
            (fin, &[r#"{"Status":"fail"}"#, OK][..], Outcome::Partial),
            // Still running.
            (r#","Status":"PROCESSING""#, &[FAIL][..], Outcome::Running),
            (r#","Status":"processing""#, &[][..], Outcome::Running),
            (r#","Status":"WAITING""#, &[][..], Outcome::Running),
            (r#","Status":"Waiting""#, &[][..], Outcome::Running),
            // A status that says failure.
            (r#","Status":"FAIL""#, &[OK][..], Outcome::Failed),
            (r#","Status":"failed""#, &[][..], Outcome::Failed),
            (r#","Status":"Error""#, &[][..], Outcome::Failed),
            // No status, one not listed, or one of the wrong type.
            ("", &[OK][..], Outcome::Unknown),
            (r#","Status":"PAUSED""#, &[][..], Outcome::Unknown),
            (r#","Status":7"#, &[][..], Outcome::Unknown),
        ] {
            let body = workflow(task, subs);
            assert_eq!(outcome_of(&body), want, "{body}");
        }
    }

    #[test]
    fn results_without_status_or_error_do_not_count() {
        // CoverBySnapshot has no result object: beside a failed transcode, nothing succeeded.
        let body = r#"{"EventType":"WorkflowTask","WorkflowTaskEvent":{"Status":"FINISH",
            "MediaProcessResultSet":[{"Type":"Transcode","TranscodeTask":{"Status":"FAIL"}},
            {"Type":"CoverBySnapshot"}]}}"#;
        assert_eq!(outcome_of(body), Outcome::Failed);
    }

    #[test]
    fn ai_results_are_subtask_results() {
        let body = r#"{"EventType":"WorkflowTask","WorkflowTaskEvent":{"Status":"FINISH",
            "MediaProcessResultSet":[{"Type":"Transcode","TranscodeTask":{"Status":"SUCCESS"}}],
            "AiContentReviewResultSet":[{"Type":"Porn","PornTask":{"Status":"FAIL","ErrCodeExt":"InternalError"}}]}}"#;
        assert_eq!(outcome_of(body), Outcome::Partial);
        let body = r#"{"EventType":"WorkflowTask","WorkflowTaskEvent":{"Status":"FINISH",
            "AiAnalysisResultSet":[{"Type":"Tag","TagTask":{"Status":"FAIL","ErrCode":10}}]}}"#;
        assert_eq!(outcome_of(body), Outcome::Failed);
    }

    #[test]
    fn edit_media_outcomes() {
        let edit = |task: &str| {
            format!(
                r#"{{"EventType":"EditMediaTask","EditMediaTaskEvent":{{"TaskId":"e"{task}}}}}"#
            )
        };
        for (task, want) in [
            (
                r#","Status":"FINISH","ErrCode":0,"Output":{"Path":"/a.mp4"}"#,
                Outcome::Ok,
            ),
            (
                r#","Status":"FINISH","ErrCode":40000,"Output":null"#,
                Outcome::Failed,
            ),
            (
                r#","Status":"FINISH","ErrCodeExt":"SourceError""#,
                Outcome::Failed,
            ),
            (r#","Status":"PROCESSING""#, Outcome::Running),
            (r#","Status":"finish""#, Outcome::Ok),
            ("", Outcome::Unknown),
        ] {
            let body = edit(task);
            assert_eq!(outcome_of(&body), want, "{body}");
        }
    }

    #[test]
    fn schedule_task_outcomes() {
        let sched = |task: &str, acts: &[&str]| {
            let acts: Vec<String> = acts
                .iter()
                .map(|t| format!(r#"{{"ActivityType":"Transcode","ActivityResItem":{{"TranscodeTask":{t},"ReviewTask":null}}}}"#))
                .collect();
            format!(
                r#"{{"EventType":"ScheduleTask","ScheduleTaskEvent":{{"TaskId":"s"{task},"ActivityResultSet":[{}]}}}}"#,
                acts.join(",")
            )
        };
        let fin = r#","Status":"FINISH","ErrCode":0"#;
        for (task, acts, want) in [
            (fin, &[OK, OK][..], Outcome::Ok),
            (fin, &[FAIL, OK][..], Outcome::Partial),
            (fin, &[FAIL][..], Outcome::Failed),
            (
                r#","Status":"FINISH","ErrCode":10"#,
                &[OK][..],
                Outcome::Failed,
            ),
            (r#","Status":"PROCESSING""#, &[][..], Outcome::Running),
            ("", &[OK][..], Outcome::Unknown),
        ] {
            let body = sched(task, acts);
            assert_eq!(outcome_of(&body), want, "{body}");
        }
        assert_eq!(
            outcome_of(r#"{"EventType":"ScheduleTask","ScheduleTaskEvent":null}"#),
            Outcome::Unknown
        );
    }

    #[test]
    fn events_without_a_typed_model_are_unknown() {
        for body in [
            r#"{"EventType":"LiveScheduleTask","LiveScheduleTaskEvent":{"TaskId":"l","Status":"FINISH"}}"#,
            r#"{"EventType":"WorkflowTask","WorkflowTaskEvent":null}"#,
            r#"{"Status":"FINISH"}"#,
        ] {
            assert_eq!(outcome_of(body), Outcome::Unknown, "{body}");
        }
    }

    #[test]
    fn outcome_and_source_names() {
        for o in Outcome::ALL {
            assert_eq!(serde_json::to_value(o).ok(), Some(json!(o.as_str())));
            assert_eq!(Outcome::parse(&o.as_str().to_ascii_uppercase()), Some(o));
        }
        assert_eq!(Outcome::parse("fail"), None);
        let names: Vec<Value> = [
            RecordSource::Trigger,
            RecordSource::Url,
            RecordSource::Reconcile,
            RecordSource::Invoke,
        ]
        .iter()
        .filter_map(|s| serde_json::to_value(s).ok())
        .collect();
        assert_eq!(
            names,
            [
                json!("trigger"),
                json!("url"),
                json!("reconcile"),
                json!("invoke")
            ]
        );
    }
}
