//! The AI result entries of a WorkflowTask (content review, analysis, recognition, smart
//! subtitles), kept as raw JSON with their `Type` read out.

use std::fmt;

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::event::lenient;

/// One AI result entry (`AiContentReviewResult`, `AiAnalysisResult`, `AiRecognitionResult`,
/// `SmartSubtitlesResult`): its `Type` and the whole object kept as raw JSON, because the
/// dozens of AI task shapes change often and the archive keeps them verbatim anyway.
#[derive(Clone, Default, PartialEq)]
pub struct AiResult {
    /// The `Type` string, e.g. `Porn`, `Classification`, `FaceRecognition`.
    pub(crate) r#type: Option<String>,
    /// The whole entry, `Type` included.
    pub(crate) content: Value,
}

impl fmt::Debug for AiResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Content is arbitrary: show its shape only, never its values.
        let keys: Vec<&str> = match &self.content {
            Value::Object(m) => m.keys().map(String::as_str).collect(),
            _ => Vec::new(),
        };
        f.debug_struct("AiResult")
            .field("type", &self.r#type)
            .field("keys", &keys)
            .finish()
    }
}

impl AiResult {
    /// The filled `...Task` object of this entry (the first non-null one), with its key.
    pub(crate) fn task(&self) -> Option<(&str, &Map<String, Value>)> {
        let obj = self.content.as_object()?;
        obj.iter().find_map(|(k, v)| match v {
            Value::Object(m) if k.ends_with("Task") => Some((k.as_str(), m)),
            _ => None,
        })
    }
}

impl lenient::LenientDe for AiResult {
    fn lenient<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Self>, D::Error> {
        Value::deserialize(d).map(AiResult::from_value)
    }
}

impl AiResult {
    /// The entry for a JSON object; `None` for anything else (lists skip such elements).
    pub(crate) fn from_value(v: Value) -> Option<AiResult> {
        if !v.is_object() {
            return None;
        }
        let r#type = v.get("Type").and_then(Value::as_str).map(str::to_owned);
        Some(AiResult { r#type, content: v })
    }

    /// A list of entries as the lenient model reads one: `None` unless `v` is an array,
    /// elements that are not objects skipped.
    pub(crate) fn list_from(v: &Value) -> Option<Vec<AiResult>> {
        let items = v.as_array()?;
        let objects = items.iter().filter(|e| e.is_object());
        Some(objects.cloned().filter_map(AiResult::from_value).collect())
    }
}
