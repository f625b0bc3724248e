//! [`parse`]: a raw body to a [`ParsedEvent`]. The JSON object is kept whole, every number
//! exactly as sent; the typed view of a known event type is read from it, and a known type
//! whose task does not fit the model falls back to [`Event::Other`] with a warning instead
//! of failing. Only a body that is not a JSON object is an error ([`EventError`]).

use serde::Deserialize;
use serde_json::{Map, Value};

use super::{AiResult, Event, LiveStreamNotification, ParsedEvent, WorkflowTask};

/// Why a body could not be taken as an event (only when it is not a JSON object).
#[derive(Debug, thiserror::Error)]
pub enum EventError {
    /// Not UTF-8 / not JSON / truncated.
    #[error("event is not a JSON object: {0}")]
    NotJson(String),
    /// Valid JSON but an array, number, string, bool or null.
    #[error("event is not a JSON object: got {0}")]
    NotObject(&'static str),
    /// Nested deeper than the parser follows; refused rather than risking the stack.
    #[error("event nests deeper than {MAX_DEPTH} levels; refusing to parse it")]
    TooDeep,
}

/// Nesting depth the parser follows (serde_json's recursion limit); MPS events use under 10.
pub(crate) const MAX_DEPTH: usize = 128;

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Reads the typed task under `key`; `Err(warning)` when it is missing or not an object.
fn typed_task<T: for<'de> Deserialize<'de>>(
    raw: &Map<String, Value>,
    key: &str,
) -> Result<T, String> {
    match raw.get(key) {
        Some(v @ Value::Object(_)) => {
            T::deserialize(v).map_err(|e| format!("{key} does not fit the model: {e}"))
        }
        Some(v) => Err(format!("{key} is {}, not an object", kind_of(v))),
        None => Err(format!("{key} is absent")),
    }
}

/// The typed view of the task under `key`, wrapped by `variant`; [`Event::Other`] and the
/// warning when it does not fit.
fn typed<T: for<'de> Deserialize<'de>>(
    raw: &Map<String, Value>,
    key: &str,
    variant: fn(Box<T>) -> Event,
) -> (Event, Option<String>) {
    match typed_task::<T>(raw, key) {
        Ok(t) => (variant(Box::new(t)), None),
        Err(w) => (Event::Other, Some(w)),
    }
}

/// `WorkflowTask` fields whose entries the model keeps as raw JSON ([`AiResult`]).
const AI_RESULT_SETS: [&str; 4] = [
    "AiContentReviewResultSet",
    "AiAnalysisResultSet",
    "AiRecognitionResultSet",
    "SmartSubtitlesTaskResult",
];

/// [`typed_task`] for `WorkflowTaskEvent`, with its AI result lists cloned from the raw JSON
/// instead of rebuilt through serde. Read from a `Value`, every number passes serde_json's
/// number dispatch (each integer type tried, then float parsing and formatting), which made
/// the AI lists, full of scores, cost more than the rest of the event; a clone only copies.
/// The lists are taken out of `raw` for the typed read and put back unchanged.
fn typed_workflow(raw: &mut Map<String, Value>) -> Result<WorkflowTask, String> {
    const KEY: &str = "WorkflowTaskEvent";
    let mut sets: [Option<Value>; 4] = Default::default();
    if let Some(Value::Object(task)) = raw.get_mut(KEY) {
        for (slot, key) in sets.iter_mut().zip(AI_RESULT_SETS) {
            *slot = task.remove(key);
        }
    }
    let typed = typed_task::<WorkflowTask>(raw, KEY);
    let lists = sets
        .each_ref()
        .map(|v| v.as_ref().and_then(AiResult::list_from));
    if let Some(Value::Object(task)) = raw.get_mut(KEY) {
        for (v, key) in sets.into_iter().zip(AI_RESULT_SETS) {
            if let Some(v) = v {
                task.insert(key.to_owned(), v);
            }
        }
    }
    let mut t = typed?;
    let [review, analysis, recognition, subtitles] = lists;
    t.ai_content_review_result_set = review;
    t.ai_analysis_result_set = analysis;
    t.ai_recognition_result_set = recognition;
    t.smart_subtitles_task_result = subtitles;
    Ok(t)
}

/// Parses a raw invocation body. Fails only when the body is not a JSON object.
pub fn parse(body: &[u8]) -> Result<ParsedEvent, EventError> {
    let body = crate::text::strip_bom(body);
    // Validating UTF-8 once up front is cheaper than serde_json's per-string checks.
    let text = std::str::from_utf8(body)
        .map_err(|e| EventError::NotJson(format!("invalid UTF-8 at byte {}", e.valid_up_to())))?;
    let mut raw: Value = serde_json::from_str(text).map_err(|e| {
        // serde_json's Display is one line; keep it that way whatever it becomes.
        let text = e.to_string().replace(['\n', '\r'], " ");
        if text.starts_with("recursion limit exceeded") {
            EventError::TooDeep
        } else {
            EventError::NotJson(text)
        }
    })?;
    let obj = match &mut raw {
        Value::Object(m) => m,
        other => return Err(EventError::NotObject(kind_of(other))),
    };
    let event_type = obj.get("EventType").and_then(Value::as_str);
    let (event, warning) = if event_type == Some("WorkflowTask") {
        match typed_workflow(obj) {
            Ok(t) => (Event::WorkflowTask(Box::new(t)), None),
            Err(w) => (Event::Other, Some(w)),
        }
    } else if event_type == Some("EditMediaTask") {
        typed(obj, "EditMediaTaskEvent", Event::EditMediaTask)
    } else if event_type == Some("ScheduleTask") {
        typed(obj, "ScheduleTaskEvent", Event::ScheduleTask)
    } else if event_type == Some("ExtractBlindWatermark") {
        typed(
            obj,
            "ExtractBlindWatermarkTask",
            Event::ExtractBlindWatermark,
        )
    } else if event_type == Some("BatchTask") {
        typed(obj, "BatchTaskEvent", Event::BatchTask)
    } else if event_type.is_none()
        && matches!(obj.get("NotificationType"), Some(Value::String(t)) if !t.is_empty())
    {
        // The live-stream notification is its own object: no wrapper key to read.
        let typed = LiveStreamNotification::deserialize(&*obj)
            .map_err(|e| format!("live-stream notification does not fit the model: {e}"));
        match typed {
            Ok(n) => (Event::LiveStreamProcess(Box::new(n)), None),
            Err(w) => (Event::Other, Some(w)),
        }
    } else {
        (Event::Other, None)
    };
    Ok(ParsedEvent {
        raw,
        event,
        warning,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_objects_are_one_line_errors() {
        let cases: [(&[u8], &str); 9] = [
            (
                b"",
                "event is not a JSON object: EOF while parsing a value at line 1 column 0",
            ),
            (b"[1]", "event is not a JSON object: got an array"),
            (b"12", "event is not a JSON object: got a number"),
            (b"\"x\"", "event is not a JSON object: got a string"),
            (b"true", "event is not a JSON object: got a boolean"),
            (b"null", "event is not a JSON object: got null"),
            (
                b"hello",
                "event is not a JSON object: expected value at line 1 column 1",
            ),
            (
                b"{\"a\":",
                "event is not a JSON object: EOF while parsing a value at line 1 column 5",
            ),
            (
                b"{\"a\":\"\xff\"}",
                "event is not a JSON object: invalid UTF-8 at byte 6",
            ),
        ];
        for (body, want) in cases {
            let e = parse(body).err().map(|e| e.to_string());
            assert_eq!(e.as_deref(), Some(want), "body {body:?}");
        }
    }

    #[test]
    fn numbers_survive_exactly() -> Result<(), Box<dyn std::error::Error>> {
        let body = br#"{"EventType":"X","F":1.0715660391465826e-75,"G":0.1,"H":1.50,"I":-9007199254740993,"J":123456789012345678901234567890,"U":18446744073709551615}"#;
        let p = parse(body)?;
        assert_eq!(serde_json::to_string(&p.raw)?, std::str::from_utf8(body)?);
        Ok(())
    }

    #[test]
    fn numbers_past_f64_are_events_too() -> Result<(), Box<dyn std::error::Error>> {
        // Read into an f64, `1e400` used to refuse the whole event ("number out of range");
        // kept as text it is archived like any number (serde_json writes the exponent `e+`).
        let p = parse(br#"{"EventType":"X","A":1e400,"B":-1E400,"C":1e-400}"#)?;
        assert_eq!(
            serde_json::to_string(&p.raw)?,
            r#"{"A":1e+400,"B":-1e+400,"C":1e-400,"EventType":"X"}"#
        );
        Ok(())
    }

    #[test]
    fn serde_json_number_token_as_a_key_is_not_kept() -> Result<(), Box<dyn std::error::Error>> {
        // Known limit of serde_json's `arbitrary_precision`: an object whose only key is its
        // private number token is read as that number, or refused when the value is not a
        // number's text. No MPS event has such a key; this pins what happens if one does.
        let p = parse(br#"{"a":{"$serde_json::private::Number":"5"}}"#)?;
        assert_eq!(serde_json::to_string(&p.raw)?, r#"{"a":5}"#);
        let e = parse(br#"{"$serde_json::private::Number":"x"}"#).err();
        assert_eq!(
            e.map(|e| e.to_string()).as_deref(),
            Some("event is not a JSON object: invalid number at line 1 column 1")
        );
        Ok(())
    }

    #[test]
    fn ai_lists_read_as_the_derived_model_reads_them() -> Result<(), Box<dyn std::error::Error>> {
        let fixtures = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures");
        let mut bodies = Vec::new();
        for entry in std::fs::read_dir(fixtures)? {
            let path = entry?.path();
            if path.is_file() {
                bodies.push(std::fs::read(path)?);
            }
        }
        bodies.push(br#"{"EventType":"WorkflowTask","WorkflowTaskEvent":{"TaskId":"t",
            "AiAnalysisResultSet":[null,7,"x",{"Type":"Tag","TagTask":{"Status":"SUCCESS","Score":0.975}},{"NoType":1.50},[]],
            "AiContentReviewResultSet":"not a list","AiRecognitionResultSet":{"Type":"Face"},
            "SmartSubtitlesTaskResult":null}}"#.to_vec());
        for body in bodies {
            let p = parse(&body)?;
            let Event::WorkflowTask(fast) = &p.event else {
                continue;
            };
            let derived = WorkflowTask::deserialize(&p.raw["WorkflowTaskEvent"])?;
            assert_eq!(**fast, derived);
            // The lists went back into the archived JSON unchanged.
            let again: Value =
                serde_json::from_slice(body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&body))?;
            assert_eq!(p.raw, again);
        }
        Ok(())
    }

    #[test]
    fn bom_is_stripped() {
        let p = parse(b"\xEF\xBB\xBF{\"EventType\":\"X\"}").map_err(|e| e.to_string());
        assert_eq!(p.map(|p| p.event_type().to_owned()), Ok("X".to_owned()));
    }

    #[test]
    fn deep_nesting_is_rejected_without_overflow() {
        let mut s = String::from("{\"a\":");
        s.push_str(&"[".repeat(10_000));
        s.push_str(&"]".repeat(10_000));
        s.push('}');
        let e = parse(s.as_bytes()).err().map(|e| e.to_string());
        let e = e.unwrap_or_default();
        assert_eq!(
            e,
            "event nests deeper than 128 levels; refusing to parse it"
        );
        let deep_obj = "{\"a\":".repeat(10_000) + &"}".repeat(10_000);
        assert!(parse(deep_obj.as_bytes()).is_err());
    }

    #[test]
    fn lenient_scalars_keep_the_typed_view() -> Result<(), EventError> {
        let body = br#"{"EventType":"WorkflowTask","WorkflowTaskEvent":{
            "TaskId":"t1","Status":7,"ErrCode":"70000","Message":["x"],
            "MetaData":{"Duration":60,"Width":"wide","Height":720.0,"Size":1.5},
            "InputInfo":"cos",
            "MediaProcessResultSet":[17,{"Type":"Transcode","TranscodeTask":{"Status":"SUCCESS","Output":{"Path":"/a.mp4","Duration":"12.5"}}}]}}"#;
        let p = parse(body)?;
        assert_eq!(p.warning, None);
        let Event::WorkflowTask(t) = &p.event else {
            panic!("not typed: {:?}", p.event)
        };
        assert_eq!(t.task_id.as_deref(), Some("t1"));
        assert_eq!(t.status, None);
        assert_eq!(t.err_code, Some(70000));
        assert_eq!(t.message, None);
        assert_eq!(t.input_info, None);
        let md = t.meta_data.clone().unwrap_or_default();
        assert_eq!(
            (md.duration, md.width, md.height, md.size),
            (Some(60.0), None, Some(720), None)
        );
        let set = t.media_process_result_set.clone().unwrap_or_default();
        assert_eq!(set.len(), 1);
        let out = set[0]
            .transcode_task
            .as_ref()
            .and_then(|x| x.output.clone())
            .unwrap_or_default();
        assert_eq!(
            (out.path.as_deref(), out.duration),
            (Some("/a.mp4"), Some(12.5))
        );
        Ok(())
    }

    #[test]
    fn known_type_with_unusable_body_falls_back_with_warning() -> Result<(), EventError> {
        for (body, w) in [
            (
                &br#"{"EventType":"WorkflowTask","WorkflowTaskEvent":null}"#[..],
                "WorkflowTaskEvent is null, not an object",
            ),
            (
                br#"{"EventType":"WorkflowTask"}"#,
                "WorkflowTaskEvent is absent",
            ),
            (
                br#"{"EventType":"EditMediaTask","EditMediaTaskEvent":[1]}"#,
                "EditMediaTaskEvent is an array, not an object",
            ),
        ] {
            let p = parse(body)?;
            assert!(matches!(p.event, Event::Other));
            assert_eq!(p.warning.as_deref(), Some(w));
        }
        Ok(())
    }
}
