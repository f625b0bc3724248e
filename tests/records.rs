//! Records built from the fixtures in `fixtures/`, checked against expected values written
//! out here, plus property tests of parsing and redaction on arbitrary JSON objects.
//! Redaction is checked against the independent oracle in `tests/common`.
mod common;

use std::error::Error;
use std::path::PathBuf;

use chrono::{DateTime, TimeZone, Utc};
use common::scf_platform::{is_credential_key as is_cred, redacted};
use mps_cos_backup::digest::digest;
use mps_cos_backup::event::{parse, Event, ParsedEvent};
use mps_cos_backup::record::{build, build_owned, redact, Record, RecordSource, SCHEMA};
use proptest::prelude::*;
use serde_json::{json, Map, Value};

const APP_SRC: &str = "vod-src-1253112233";
const APP_OUT: &str = "vod-out-1253112233";
const GZ: &str = "ap-guangzhou";

fn received() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 30, 4, 5, 6)
        .single()
        .unwrap_or_default()
}

fn load(name: &str) -> (Vec<u8>, ParsedEvent) {
    let path: PathBuf = [
        env!("CARGO_MANIFEST_DIR"),
        "fixtures",
        &format!("{name}.json"),
    ]
    .iter()
    .collect();
    let body = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let parsed = parse(&body).unwrap_or_else(|e| panic!("{name}: {e}"));
    (body, parsed)
}

/// Builds the record, checks the parts common to all fixtures, returns the normalized view.
fn record_of(name: &str, typed: &str) -> (Record, Value) {
    let (body, parsed) = load(name);
    let kind = match parsed.event {
        Event::WorkflowTask(_) => "WorkflowTask",
        Event::EditMediaTask(_) => "EditMediaTask",
        Event::ScheduleTask(_) => "ScheduleTask",
        Event::ExtractBlindWatermark(_) => "ExtractBlindWatermark",
        Event::BatchTask(_) => "BatchTask",
        Event::LiveStreamProcess(_) => "LiveStreamProcess",
        Event::Other => "Other",
    };
    assert_eq!(kind, typed, "{name}: typed view ({:?})", parsed.warning);
    assert_eq!(parsed.warning, None, "{name}");
    let rec = build(
        &parsed,
        received(),
        Some("req-7f3a"),
        RecordSource::Invoke,
        true,
    );
    let ser = serde_json::to_vec(&rec).unwrap_or_default();
    let v: Value = serde_json::from_slice(&ser).unwrap_or_default();
    assert_eq!(v["schema"], SCHEMA);
    assert_eq!(v["received_at"], "2026-03-30T04:05:06Z");
    assert_eq!(v["request_id"], "req-7f3a");
    assert_eq!(v["source"], "invoke");
    let keys: Vec<&str> = v
        .as_object()
        .map(|m| m.keys().map(String::as_str).collect())
        .unwrap_or_default();
    let mut want = vec![
        "schema",
        "event_type",
        "task_id",
        "status",
        "outcome",
        "source",
        "event_time",
        "received_at",
        "request_id",
        "error",
        "session_id",
        "session_context",
        "inputs",
        "outputs",
        "event",
    ];
    want.sort_unstable();
    assert_eq!(keys, want, "{name}: record field names");
    // No secret of the original event survives anywhere in the stored body.
    let raw: Value = serde_json::from_slice(&body).unwrap_or_default();
    let (_, secrets) = redacted(&raw);
    let text = String::from_utf8_lossy(&ser);
    for s in &secrets {
        assert!(!text.contains(s.as_str()), "{name}: secret leaked");
    }
    (rec, v)
}

fn norm(v: &Value) -> Value {
    json!({
        "event_type": v["event_type"], "task_id": v["task_id"], "status": v["status"],
        "outcome": v["outcome"],
        "event_time": v["event_time"], "error": v["error"], "session_id": v["session_id"],
        "session_context": v["session_context"], "inputs": v["inputs"], "outputs": v["outputs"],
    })
}

fn cos(object: &str) -> Value {
    json!({"type": "cos", "bucket": APP_SRC, "region": GZ, "object": object})
}

fn out_cos() -> Value {
    json!({"type": "cos", "bucket": APP_OUT, "region": GZ})
}

fn ok_out(kind: &str, paths: &[&str]) -> Value {
    json!({"kind": kind, "status": "SUCCESS", "storage": out_cos(), "paths": paths, "error": null})
}

#[test]
fn fixture_workflow_finish_success() {
    let (rec, v) = record_of("workflow-finish-success", "WorkflowTask");
    let sample: Vec<String> = (0..37)
        .map(|i| format!("/sample/launch-keynote_10_{i}.jpg"))
        .collect();
    let expected = json!({
        "event_type": "WorkflowTask",
        "task_id": "1253112233-WorkflowTask-ad5061d07ac0942454541884ba6a770ft2",
        "status": "FINISH",
        "outcome": "ok",
        "event_time": "2026-03-14T08:19:40Z",
        "error": null,
        "session_id": "keynote-2026-0314",
        "session_context": "{\"uploader\":\"studio-a\",\"ticket\":4411}",
        "inputs": [cos("/uploads/2026/03/14/launch-keynote.mp4")],
        "outputs": [
            ok_out("Transcode", &["/transcode/launch-keynote_100030.mp4"]),
            ok_out("Transcode", &["/transcode/launch-keynote_100040.mp4"]),
            ok_out("SnapshotByTimeOffset", &[
                "/snapshot/launch-keynote_10_0.jpg", "/snapshot/launch-keynote_10_1.jpg",
                "/snapshot/launch-keynote_10_2.jpg", "/snapshot/launch-keynote_10_3.jpg",
                "/snapshot/launch-keynote_10_4.jpg"]),
            {"kind": "SampleSnapshot", "status": "SUCCESS", "storage": out_cos(), "paths": sample, "error": null},
            ok_out("ImageSprites", &["/sprite/launch-keynote_10_0.jpg", "/sprite/launch-keynote_10_1.jpg", "/sprite/launch-keynote_10.vtt"]),
            ok_out("AnimatedGraphics", &["/gif/launch-keynote_20000.gif"]),
            {"kind": "CoverBySnapshot", "status": null, "storage": null, "paths": [], "error": null},
        ],
    });
    assert_eq!(norm(&v), expected);
    assert_eq!(
        rec.event_time.map(|t| t.timestamp()),
        Some(
            Utc.with_ymd_and_hms(2026, 3, 14, 8, 19, 40)
                .single()
                .map_or(0, |t| t.timestamp())
        )
    );
}

#[test]
fn fixture_workflow_finish_subtask_failed() {
    let (_, v) = record_of("workflow-finish-subtask-failed", "WorkflowTask");
    let err = json!({"code": "SourceFileError", "message": "Source file error: video stream could not be decoded"});
    let expected = json!({
        "event_type": "WorkflowTask",
        "task_id": "1253112233-WorkflowTask-50ba7adcf1eedb6ac748ff0de751c22dt2",
        "status": "FINISH",
        "outcome": "partial",
        "event_time": "2026-03-15T02:10:09Z",
        "error": err,
        "session_id": "", "session_context": "",
        "inputs": [cos("/uploads/2026/03/15/broken-upload.mov")],
        "outputs": [
            {"kind": "Transcode", "status": "FAIL", "storage": out_cos(), "paths": [], "error": err},
            ok_out("SnapshotByTimeOffset", &["/uploads/2026/03/15/broken-upload_snapshotByTimeOffset_10_0.jpg"]),
        ],
    });
    assert_eq!(norm(&v), expected);
}

#[test]
fn fixture_workflow_processing() {
    let (_, v) = record_of("workflow-processing", "WorkflowTask");
    let expected = json!({
        "event_type": "WorkflowTask",
        "task_id": "1253112233-WorkflowTask-4374990dedc873c6a9417a355a2ac4cft2",
        "status": "PROCESSING",
        "outcome": "running",
        "event_time": null,
        "error": null,
        "session_id": "", "session_context": "",
        "inputs": [cos("/uploads/2026/03/16/vlog-ep12.mp4")],
        "outputs": [
            {"kind": "Transcode", "status": "PROCESSING", "storage": out_cos(), "paths": [], "error": null},
            {"kind": "AnimatedGraphics", "status": "PROCESSING", "storage": out_cos(), "paths": [], "error": null},
        ],
    });
    assert_eq!(norm(&v), expected);
}

#[test]
fn fixture_workflow_ai_review() {
    let (_, v) = record_of("workflow-ai-review", "WorkflowTask");
    let err = json!({"code": "InternalError", "message": "internal error, please retry"});
    let ai = |k: &str| json!({"kind": k, "status": "SUCCESS", "storage": null, "paths": [], "error": null});
    let expected = json!({
        "event_type": "WorkflowTask",
        "task_id": "1253112233-WorkflowTask-88b9bb84f363bfdc72563cfc8bf7ddd7t2",
        "status": "FINISH",
        "outcome": "partial",
        "event_time": null,
        "error": err,
        "session_id": "ugc-8841", "session_context": "",
        "inputs": [cos("/ugc/2026/03/17/clip-8841.mp4")],
        "outputs": [
            ai("AiContentReview/Porn"),
            ai("AiContentReview/Terrorism"),
            {"kind": "AiContentReview/Political", "status": "FAIL", "storage": null, "paths": [], "error": err},
        ],
    });
    assert_eq!(norm(&v), expected);
}

#[test]
fn fixture_workflow_ai_analysis() {
    let (_, v) = record_of("workflow-ai-analysis", "WorkflowTask");
    let ai = |k: &str| json!({"kind": k, "status": "SUCCESS", "storage": null, "paths": [], "error": null});
    let expected = json!({
        "event_type": "WorkflowTask",
        "task_id": "1253112233-WorkflowTask-d4b65238e39827f6b74f199523126d65t2",
        "status": "FINISH",
        "outcome": "ok",
        "event_time": null,
        "error": null,
        "session_id": "", "session_context": "",
        "inputs": [cos("/sports/2026/03/18/match-highlights.mp4")],
        "outputs": [
            ai("AiAnalysis/Classification"),
            ok_out("AiAnalysis/Cover", &["/ai/cover/match-highlights_cover_0.jpg", "/ai/cover/match-highlights_cover_1.jpg"]),
            ai("AiAnalysis/Tag"),
        ],
    });
    assert_eq!(norm(&v), expected);
}

#[test]
fn fixture_workflow_ai_recognition() {
    let (_, v) = record_of("workflow-ai-recognition", "WorkflowTask");
    let ai = |k: &str| json!({"kind": k, "status": "SUCCESS", "storage": null, "paths": [], "error": null});
    let expected = json!({
        "event_type": "WorkflowTask",
        "task_id": "1253112233-WorkflowTask-5b0e356c25c84cdbb16bf9c05f18b41ft2",
        "status": "FINISH",
        "outcome": "ok",
        "event_time": null,
        "error": null,
        "session_id": "", "session_context": "",
        "inputs": [cos("/meetings/2026/03/19/quarterly-review.mp4")],
        "outputs": [
            ai("AiRecognition/FaceRecognition"),
            ok_out("AiRecognition/AsrFullTextRecognition", &["/ai/asr/quarterly-review.vtt"]),
            ai("AiRecognition/OcrFullTextRecognition"),
        ],
    });
    assert_eq!(norm(&v), expected);
}

#[test]
fn fixture_workflow_url_input() {
    let (_, v) = record_of("workflow-url-input", "WorkflowTask");
    let expected = json!({
        "event_type": "WorkflowTask",
        "task_id": "1253112233-WorkflowTask-97c93b573a930b0aa79e8bc4808c4ce4t2",
        "status": "FINISH",
        "outcome": "ok",
        "event_time": null,
        "error": null,
        "session_id": "replay-42", "session_context": "",
        "inputs": [{"type": "url", "url": "https://media.example.com/live/replay/2026-03-20/match-42.mp4?sign=abc123"}],
        "outputs": [ok_out("Transcode", &["/url-import/match-42_100020.mp4"])],
    });
    assert_eq!(norm(&v), expected);
}

#[test]
fn fixture_workflow_s3_input_is_redacted() {
    let (rec, v) = record_of("workflow-s3-input", "WorkflowTask");
    let s3 = json!({"type": "aws-s3", "bucket": "acme-media-out", "region": "us-east-1"});
    let expected = json!({
        "event_type": "WorkflowTask",
        "task_id": "1253112233-WorkflowTask-4f79a2e5c00ff74373321a11dfe8c2c0t2",
        "status": "FINISH",
        "outcome": "ok",
        "event_time": "2026-03-21T06:00:31Z",
        "error": null,
        "session_id": "acme-trailer", "session_context": "",
        "inputs": [{"type": "aws-s3", "bucket": "acme-media-ingest", "region": "us-east-1", "object": "raw/2026/03/21/trailer-final.mov"}],
        "outputs": [
            {"kind": "Transcode", "status": "SUCCESS", "storage": s3, "paths": ["/s3-out/trailer-final_100040.mp4"], "error": null},
            {"kind": "SnapshotByTimeOffset", "status": "SUCCESS", "storage": s3, "paths": ["/s3-out/trailer-final_snap_0.jpg"], "error": null},
        ],
    });
    assert_eq!(norm(&v), expected);
    let text = serde_json::to_string(&rec).expect("the record serializes");
    for secret in [
        "AKIAIOSFODNN7EXAMPLE",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "AKIAI44QH8DHBEXAMPLE",
        "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY",
        // JSON escapes `/` never, but check the escaped form too in case that changes.
        "wJalrXUtnFEMI\\/K7MDENG",
    ] {
        assert!(!text.contains(secret), "secret {secret:.4}... leaked");
    }
    let s3in = &v["event"]["WorkflowTaskEvent"]["InputInfo"]["S3InputInfo"];
    assert_eq!(
        (&s3in["S3SecretId"], &s3in["S3SecretKey"]),
        (&json!("***"), &json!("***"))
    );
    assert_eq!(s3in["S3Bucket"], "acme-media-ingest");
    // 2 in the input + 2 in each of 4 storages (2 subtask inputs, 2 subtask outputs).
    let (_, parsed) = load("workflow-s3-input");
    let mut raw = parsed.raw.clone();
    assert_eq!(redact(&mut raw), 10);
    assert_eq!(raw, rec.event);
    // Debug output of the record and the parsed event never shows the secrets either.
    let dbg = format!("{rec:?} {parsed:?}");
    assert!(
        !dbg.contains("EXAMPLEKEY") && !dbg.contains("AKIA"),
        "{dbg}"
    );
    // Unredacted build keeps the original event exactly.
    let plain = build(&parsed, received(), None, RecordSource::Invoke, false);
    assert_eq!(plain.event, parsed.raw);
    assert_eq!(plain.request_id, None);
}

#[test]
fn fixture_workflow_adaptive_streaming() {
    let (_, v) = record_of("workflow-adaptive-streaming", "WorkflowTask");
    let expected = json!({
        "event_type": "WorkflowTask",
        "task_id": "1253112233-WorkflowTask-8cb043b2dace9afc0680e6bae5cd316ft2",
        "status": "FINISH",
        "outcome": "ok",
        "event_time": "2026-03-22T01:11:30Z",
        "error": null,
        "session_id": "course-07", "session_context": "",
        "inputs": [cos("/courses/2026/course-07.mp4")],
        "outputs": [
            ok_out("AdaptiveDynamicStreaming", &["/abr/course-07_adaptive.m3u8"]),
            ok_out("AdaptiveDynamicStreaming", &["/abr/course-07_adaptive.mpd"]),
        ],
    });
    assert_eq!(norm(&v), expected);
}

#[test]
fn fixture_workflow_image_sprites() {
    let (_, v) = record_of("workflow-image-sprites", "WorkflowTask");
    let expected = json!({
        "event_type": "WorkflowTask",
        "task_id": "1253112233-WorkflowTask-8677db5f1d63bb3c8d981acf327244a0t2",
        "status": "FINISH",
        "outcome": "ok",
        "event_time": "2026-03-23T19:31:04.250Z",
        "error": null,
        "session_id": "", "session_context": "",
        "inputs": [cos("/movies/movie-night.mkv")],
        "outputs": [ok_out("ImageSprites", &[
            "/sprite/movie-night_10_000.jpg", "/sprite/movie-night_10_001.jpg",
            "/sprite/movie-night_10_002.jpg", "/sprite/movie-night_10.vtt"])],
    });
    assert_eq!(norm(&v), expected);
}

#[test]
fn fixture_editmedia_finish_success() {
    let (_, v) = record_of("editmedia-finish-success", "EditMediaTask");
    let expected = json!({
        "event_type": "EditMediaTask",
        "task_id": "1253112233-EditMediaTask-9a644eeee489be0a4ee65bd8d71a97f4t2",
        "status": "FINISH",
        "outcome": "ok",
        "event_time": null,
        "error": null,
        "session_id": "edit-991", "session_context": "cut-for-web",
        "inputs": [cos("/raw/interview-take3.mp4")],
        "outputs": [{"kind": "EditMedia", "status": "FINISH", "storage": out_cos(), "paths": ["/edited/interview-take3-cut.mp4"], "error": null}],
    });
    assert_eq!(norm(&v), expected);
}

#[test]
fn fixture_editmedia_finish_failed() {
    let (_, v) = record_of("editmedia-finish-failed", "EditMediaTask");
    let err = json!({"code": "40000", "message": "Source file is not accessible: 404 Not Found"});
    let expected = json!({
        "event_type": "EditMediaTask",
        "task_id": "1253112233-EditMediaTask-10de24f231a4fff540dc1fd0080c2797t2",
        "status": "FINISH",
        "outcome": "failed",
        "event_time": null,
        "error": err,
        "session_id": "", "session_context": "",
        "inputs": [cos("/raw/missing-file.mp4")],
        "outputs": [{"kind": "EditMedia", "status": "FINISH", "storage": null, "paths": [], "error": err}],
    });
    assert_eq!(norm(&v), expected);
}

#[test]
fn fixture_editmedia_multi_file() {
    let (_, v) = record_of("editmedia-multi-file", "EditMediaTask");
    let expected = json!({
        "event_type": "EditMediaTask",
        "task_id": "1253112233-EditMediaTask-cee6196e44ba05a8c05be35daf892bfat2",
        "status": "FINISH",
        "outcome": "ok",
        "event_time": null,
        "error": null,
        "session_id": "ep-5", "session_context": "",
        "inputs": [cos("/raw/intro.mp4"), cos("/raw/main.mp4"), {"type": "url", "url": "https://cdn.example.com/outro.mp4"}],
        "outputs": [{"kind": "EditMedia", "status": "FINISH", "storage": out_cos(), "paths": ["/edited/episode-5-full.mp4"], "error": null}],
    });
    assert_eq!(norm(&v), expected);
}

#[test]
fn fixture_unknown_event_type() {
    let (rec, v) = record_of("unknown-event-type", "Other");
    let expected = json!({
        "event_type": "LiveScheduleTask",
        "task_id": "1253112233-LiveScheduleTask-d0dbe915091d400bd8ee7f27f0791303t0",
        "status": "FINISH",
        "outcome": "unknown",
        "event_time": null,
        "error": null,
        "session_id": "live-7", "session_context": "",
        "inputs": [],
        "outputs": [],
    });
    assert_eq!(norm(&v), expected);
    assert_eq!(rec.event["ExtInfo"], "{\"region\":\"ap-shanghai\"}");
}

#[test]
fn fixture_minimal() {
    let (_, v) = record_of("minimal", "WorkflowTask");
    let expected = json!({
        "event_type": "WorkflowTask",
        "task_id": "1253112233-WorkflowTask-dc43e863c176e9b9f2a0b6054b24bd1at2",
        "status": null,
        "outcome": "unknown",
        "event_time": null,
        "error": null,
        "session_id": null, "session_context": null,
        "inputs": [],
        "outputs": [],
    });
    assert_eq!(norm(&v), expected);
}

#[test]
fn every_fixture_has_a_test_and_some_are_large() {
    let dir: PathBuf = [env!("CARGO_MANIFEST_DIR"), "fixtures"].iter().collect();
    let mut names: Vec<(String, u64)> = std::fs::read_dir(&dir)
        .map(|d| {
            d.flatten()
                .filter_map(|e| {
                    let n = e.file_name().to_string_lossy().into_owned();
                    let n = n.strip_suffix(".json")?.to_owned();
                    Some((n, e.metadata().map(|m| m.len()).unwrap_or(0)))
                })
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    let src = include_str!("records.rs");
    for (n, _) in &names {
        let test = format!("fn fixture_{}", n.replace('-', "_"));
        let prefix = test.clone() + "(";
        let alt = test + "_is_redacted(";
        assert!(
            src.contains(&prefix) || src.contains(&alt),
            "no test for fixture {n}"
        );
    }
    assert!(names.len() >= 15, "{names:?}");
    assert!(names.iter().filter(|(_, l)| *l >= 10 * 1024).count() >= 2);
}

// ---------- property tests ----------

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z]{0,8}",
        prop::sample::select(vec![
            "S3SecretId",
            "S3SecretKey",
            "s3secretid",
            "SessionToken",
            "Token",
            "password",
            "NotifyKey",
            "streamKEY",
            "xsecretid",
            "TokenType",
            "EventType",
            "TaskId",
            "Status",
            "ErrCode",
            "ErrCodeExt",
            "Message",
            "FinishTime",
            "InputInfo",
            "Type",
            "CosInputInfo",
            "S3InputInfo",
            "MediaProcessResultSet",
            "TranscodeTask",
            "Output",
            "Path",
            "SessionId",
            "WorkflowTaskEvent",
            "EditMediaTaskEvent",
            "FileInfoSet",
            "ScheduleTaskEvent",
            "ActivityResultSet",
            "ActivityResItem",
            "ActivityType",
            "RecognitionTask",
            "ExtractBlindWatermarkTask",
            "IsDetected",
            "BatchTaskEvent",
            "InputInfos",
            "ProcessEofInfo",
            "NotificationType",
        ])
        .prop_map(str::to_owned),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        // Numbers no 64-bit type holds exactly, or spelled unlike serde_json would.
        prop::sample::select(vec![
            "123456789012345678901234567890",
            "-98765432109876543210",
            "1.50",
            "-0",
            "1e400",
            "2.5e-3",
            "0.30000000000000000001",
        ])
        .prop_map(|t| serde_json::from_str::<Value>(t).unwrap_or_default()),
        "[a-z0-9 /._:-]{0,12}".prop_map(Value::String),
        prop::sample::select(vec![
            "WorkflowTask",
            "EditMediaTask",
            "FAIL",
            "COS",
            "2026-01-02T03:04:05Z",
            ""
        ])
        .prop_map(Value::from),
    ];
    leaf.prop_recursive(5, 96, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::btree_map(key(), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn json_object() -> impl Strategy<Value = Value> {
    (
        prop::collection::btree_map(key(), json_value(), 0..8),
        prop::option::of(prop::sample::select(vec![
            "WorkflowTask",
            "EditMediaTask",
            "ScheduleTask",
            "ExtractBlindWatermark",
            "BatchTask",
            // No EventType but a NotificationType: a live-stream notification.
            "ProcessEof",
        ])),
    )
        .prop_map(|(m, t)| {
            let mut m: Map<String, Value> = m.into_iter().collect();
            match t {
                Some("ProcessEof") => {
                    m.remove("EventType");
                    m.insert("NotificationType".into(), "ProcessEof".into());
                }
                Some(t) => {
                    m.insert("EventType".into(), t.into());
                }
                None => {}
            }
            Value::Object(m)
        })
}

/// Gives every value under a credential key a unique, recognisable secret, in the shape it
/// had: a string, a list of strings, an object of strings (numbers, booleans and nulls keep
/// their value; a secret inside them would not be text).
fn plant_secrets(v: &mut Value, n: &mut usize) {
    match v {
        Value::Object(m) => {
            for (k, c) in m.iter_mut() {
                if is_cred(k) {
                    *n += 1;
                    let secret = Value::String(format!("SECRET{n}Q"));
                    match c {
                        Value::String(_) => *c = secret,
                        Value::Array(_) => *c = json!([secret, {"v": secret}]),
                        Value::Object(_) => *c = json!({"v": secret, "w": [secret]}),
                        _ => {}
                    }
                } else {
                    plant_secrets(c, n);
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|c| plant_secrets(c, n)),
        _ => {}
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 256,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn any_object_parses_and_builds(v in json_object()) {
        let body = serde_json::to_vec(&v).unwrap_or_default();
        let parsed = parse(&body).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let rec = build(&parsed, received(), None, RecordSource::Invoke, true);
        prop_assert_eq!(&rec.event, &redacted(&parsed.raw).0);
        prop_assert!(serde_json::to_vec(&rec).is_ok());
        let plain = build(&parsed, received(), None, RecordSource::Invoke, false);
        prop_assert_eq!(&plain.event, &parsed.raw);
        // Every number, like everything else, is archived as sent.
        let archived = serde_json::to_vec(&plain.event).unwrap_or_default();
        prop_assert_eq!(String::from_utf8_lossy(&archived), String::from_utf8_lossy(&body));
    }

    #[test]
    fn redaction_leaves_no_secret_and_is_idempotent(v in json_object()) {
        let mut v = v;
        let mut n = 0;
        plant_secrets(&mut v, &mut n);
        let body = serde_json::to_vec(&v).unwrap_or_default();
        let parsed = parse(&body).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let rec = build(&parsed, received(), Some("r"), RecordSource::Invoke, true);
        let text = serde_json::to_string(&rec).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert!(!text.is_empty());
        prop_assert!(!text.contains("SECRET"), "{}", text);
        let dbg = format!("{:?}{:?}", rec, parsed);
        prop_assert!(!dbg.contains("SECRET"));
        let mut again = rec.event.clone();
        prop_assert_eq!(redact(&mut again), 0);
        prop_assert_eq!(&again, &rec.event);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        match parse(&bytes) {
            Ok(p) => prop_assert!(p.raw.is_object()),
            Err(e) => {
                let m = e.to_string();
                prop_assert!(
                    (m.starts_with("event is not a JSON object: ") || m.starts_with("event nests deeper"))
                        && !m.contains('\n'),
                    "{}",
                    m
                );
            }
        }
    }

    #[test]
    fn mutated_fixture_keeps_typed_view(idx in 0usize..7, path_pick in any::<prop::sample::Index>(), new in json_value()) {
        let name = [
            "workflow-finish-success", "workflow-s3-input", "editmedia-multi-file", "workflow-ai-review",
            "url/schedule-task-activity-failed", "url/extract-blind-watermark", "url/batch-task",
        ][idx];
        let (_, parsed) = load(name);
        let mut raw = parsed.raw.clone();
        // Replace one scalar inside the task payload by an arbitrary value.
        let mut pointers = Vec::new();
        for top in ["/WorkflowTaskEvent", "/EditMediaTaskEvent", "/ScheduleTaskEvent",
            "/ExtractBlindWatermarkTask", "/BatchTaskEvent"] {
            if let Some(t) = raw.pointer(top).filter(|t| t.is_object()) {
                scalar_pointers(t, top.to_owned(), &mut pointers);
            }
        }
        prop_assume!(!pointers.is_empty());
        let target = &pointers[path_pick.index(pointers.len())];
        if let Some(slot) = raw.pointer_mut(target) {
            *slot = new;
        }
        let body = serde_json::to_vec(&raw).unwrap_or_default();
        let p = parse(&body).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert!(!matches!(p.event, Event::Other), "typed view lost: {:?}", p.warning);
        let _ = build(&p, received(), None, RecordSource::Invoke, true);
    }
}

/// JSON pointers of every scalar below `v` (keys here never contain `/` or `~`).
fn scalar_pointers(v: &Value, at: String, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => m
            .iter()
            .for_each(|(k, c)| scalar_pointers(c, format!("{at}/{k}"), out)),
        Value::Array(a) => a
            .iter()
            .enumerate()
            .for_each(|(i, c)| scalar_pointers(c, format!("{at}/{i}"), out)),
        _ => out.push(at),
    }
}

#[test]
fn every_truncation_of_a_fixture_is_a_clean_error() {
    let (body, _) = load("editmedia-finish-failed");
    let end = body.iter().rposition(|b| *b == b'}').unwrap_or(0);
    for cut in 0..end {
        let prefix = &body[..cut];
        // A prefix that is still a complete object cannot exist before the final `}`.
        match parse(prefix) {
            Ok(_) => panic!("prefix of {cut} bytes parsed"),
            Err(e) => {
                let m = e.to_string();
                assert!(m.starts_with("event is not a JSON object: "), "{m}");
                assert!(!m.contains('\n') && !m.contains('\r'), "{m}");
            }
        }
    }
    assert!(parse(&body).is_ok());
    let mut bom = b"\xEF\xBB\xBF".to_vec();
    bom.extend_from_slice(&body);
    assert!(parse(&bom).is_ok());
}

#[test]
fn build_owned_equals_build() {
    for name in [
        "workflow-s3-input",
        "editmedia-multi-file",
        "unknown-event-type",
    ] {
        let (_, parsed) = load(name);
        let a = serde_json::to_value(build(
            &parsed,
            received(),
            Some("x"),
            RecordSource::Invoke,
            true,
        ))
        .unwrap_or_default();
        let b = serde_json::to_value(build_owned(
            parsed,
            received(),
            Some("x"),
            RecordSource::Invoke,
            true,
        ))
        .unwrap_or_default();
        assert_eq!(a, b, "{name}");
        assert_ne!(a, Value::Null);
    }
}

#[test]
fn every_fixture_keeps_its_digest() {
    // Digests of the fixtures (credentials masked, as the handler hashes them) computed by
    // the version that read numbers into 64-bit types: the keys of archived callbacks stay.
    for (name, want) in [
        ("editmedia-finish-failed", "52edd4197e11f773"),
        ("editmedia-finish-success", "306461a2e36841ea"),
        ("editmedia-multi-file", "68364926cc062ad6"),
        ("minimal", "7d304c746b2c04c5"),
        ("unknown-event-type", "874015bf25b116fa"),
        ("workflow-adaptive-streaming", "953ffa832571bc22"),
        ("workflow-ai-analysis", "f0dc642329e78af9"),
        ("workflow-ai-recognition", "c33200d897cab708"),
        ("workflow-ai-review", "4004fea0d1ad4b31"),
        ("workflow-finish-subtask-failed", "237187f02b3b186f"),
        ("workflow-finish-success", "28b3babf19fd06f7"),
        ("workflow-image-sprites", "8f0836050ef56e6f"),
        ("workflow-processing", "c502ecfe6d647405"),
        ("workflow-s3-input", "65a7013c27cd9706"),
        ("workflow-url-input", "9568b37c1e520343"),
    ] {
        let (_, parsed) = load(name);
        let mut masked = parsed.raw.clone();
        redact(&mut masked);
        assert_eq!(digest(&masked), want, "{name}");
    }
}

#[test]
fn numbers_are_archived_as_sent() -> Result<(), Box<dyn Error>> {
    let body = br#"{"EventType":"WorkflowTask","WorkflowTaskEvent":{"TaskId":"n-1","MetaData":{"Size":123456789012345678901234567890,"Duration":0.1,"Bitrate":1.0E+2,"Width":12345678901234567890123,"Height":-0.0}},"Big":123456789012345678901234567890,"Tiny":1e-400,"Huge":1e400,"NegZero":-0,"Plain":1.50,"Max":18446744073709551615,"Min":-9223372036854775808}"#;
    let parsed = parse(body)?;
    let Event::WorkflowTask(t) = &parsed.event else {
        return Err(format!("typed view lost: {:?}", parsed.warning).into());
    };
    // The typed view reads what fits its field types and leaves the rest out.
    let md = t.meta_data.clone().unwrap_or_default();
    assert_eq!(
        (md.size, md.duration, md.bitrate, md.width, md.height),
        (None, Some(0.1), Some(100), None, Some(0))
    );
    let rec: Value = serde_json::from_slice(&serde_json::to_vec(&build(
        &parsed,
        received(),
        None,
        RecordSource::Invoke,
        true,
    ))?)?;
    let archived = serde_json::to_string(&rec["event"])?;
    // serde_json spells every exponent `e` with a sign: `1.0E+2` is archived as `1.0e+2` and
    // `1e400` as `1e+400`, the same value; every other byte of each number is as sent.
    for number in [
        r#""Size":123456789012345678901234567890"#,
        r#""Duration":0.1"#,
        r#""Bitrate":1.0e+2"#,
        r#""Width":12345678901234567890123"#,
        r#""Height":-0.0"#,
        r#""Big":123456789012345678901234567890"#,
        r#""Tiny":1e-400"#,
        r#""Huge":1e+400"#,
        r#""NegZero":-0"#,
        r#""Plain":1.50"#,
        r#""Max":18446744073709551615"#,
        r#""Min":-9223372036854775808"#,
    ] {
        assert!(archived.contains(number), "{number} not in {archived}");
    }
    Ok(())
}

#[test]
fn credentials_of_every_type_are_redacted() -> Result<(), Box<dyn Error>> {
    let body = br#"{"EventType":"Custom","Token":["a"],"SecretKey":{"v":"x"},"s3secretid":5,
        "NotifyKey":true,"StreamKey":null,"Password":"","TokenType":"bearer",
        "Outputs":[[{"S3OutputStorage":{"S3SecretId":"AKID9","S3Bucket":"b"}}],[{"AccessToken":[{"t":"y"}]}]]}"#;
    let parsed = parse(body)?;
    let rec = build(&parsed, received(), None, RecordSource::Invoke, true);
    let want = json!({
        "EventType": "Custom", "Token": "***", "SecretKey": "***", "s3secretid": "***",
        "NotifyKey": "***", "StreamKey": null, "Password": "***", "TokenType": "bearer",
        "Outputs": [[{"S3OutputStorage": {"S3SecretId": "***", "S3Bucket": "b"}}], [{"AccessToken": "***"}]],
    });
    assert_eq!(rec.event, want);
    assert_eq!(rec.event, redacted(&parsed.raw).0, "crate and oracle agree");
    let mut again = rec.event.clone();
    assert_eq!(redact(&mut again), 0);
    Ok(())
}

/// The parsed event's `Debug` shows no credential, wherever in the typed view it sits.
#[test]
fn parsed_event_debug_shows_no_credential() -> Result<(), Box<dyn std::error::Error>> {
    let body = br#"{"EventType":"WorkflowTask","WorkflowTaskEvent":{"TaskId":"t","Status":"FINISH",
        "SmartEraseTaskResult":{"Input":{"OutputStorage":{"S3OutputStorage":{"S3SecretId":"eraseIdSecret","S3SecretKey":"eraseKeySecret"}}}},
        "MediaProcessResultSet":[{"Type":"Transcode","TranscodeTask":{"Status":"SUCCESS",
            "Input":{"RawParameter":{"x":{"SessionToken":"rawTokenSecret"}}}}}]}}"#;
    let parsed = mps_cos_backup::event::parse(body)?;
    let shown = format!("{parsed:?}");
    for secret in ["eraseIdSecret", "eraseKeySecret", "rawTokenSecret"] {
        assert!(!shown.contains(secret), "{shown}");
    }
    assert!(shown.contains("WorkflowTask"), "{shown}");
    Ok(())
}

/// What a URL notification fixture must normalize to.
struct UrlCase {
    fixture: &'static str,
    typed: &'static str,
    event_type: &'static str,
    task_id: &'static str,
    status: Value,
    outcome: &'static str,
    inputs: usize,
    event_time: Value,
    error_code: Value,
}

/// The notifications that come only by URL: each kind's typed view, key fields, outcome and
/// normalized inputs and errors, from the SDK-shaped fixtures in `fixtures/url/`.
#[test]
fn url_notifications_have_typed_views_and_outcomes() {
    const SCHEDULE: &str = "ScheduleTask";
    const LIVE: &str = "LiveStreamProcess";
    const LIVE_TASK: &str = "live-1250000000-5f6e7d8c9b0a";
    let cases = [
        UrlCase {
            fixture: "url/schedule-task-finish",
            typed: SCHEDULE,
            event_type: SCHEDULE,
            task_id: "1250000000-ScheduleTask-7f3c2a9e4b5d4e0f8a1b2c3d4e5f6a7bt0",
            status: json!("FINISH"),
            outcome: "ok",
            inputs: 1,
            event_time: json!("2026-11-24T02:13:41Z"),
            error_code: Value::Null,
        },
        UrlCase {
            fixture: "url/schedule-task-activity-failed",
            typed: SCHEDULE,
            event_type: SCHEDULE,
            task_id: "1250000000-ScheduleTask-0c1d2e3f405162738495a6b7c8d9e0f1t0",
            status: json!("FINISH"),
            outcome: "partial",
            inputs: 1,
            event_time: json!("2026-11-24T02:13:41Z"),
            error_code: json!("ResourceNotFound.Template"),
        },
        UrlCase {
            fixture: "url/extract-blind-watermark",
            typed: "ExtractBlindWatermark",
            event_type: "ExtractBlindWatermark",
            task_id: "1250000000-ExtractBlindWatermark-9a8b7c6d5e4f30211203f4e5d6c7b8a9t0",
            status: json!("FINISH"),
            outcome: "ok",
            inputs: 1,
            event_time: Value::Null,
            error_code: Value::Null,
        },
        // No TaskId and no Status: the SessionId stands in, the outcome is unknown.
        UrlCase {
            fixture: "url/batch-task",
            typed: "BatchTask",
            event_type: "BatchTask",
            task_id: "batch-subtitles-2026-11-24",
            status: Value::Null,
            outcome: "unknown",
            inputs: 2,
            event_time: Value::Null,
            error_code: Value::Null,
        },
        UrlCase {
            fixture: "url/live-process-eof-failed",
            typed: LIVE,
            event_type: LIVE,
            task_id: LIVE_TASK,
            status: json!("ProcessEof"),
            outcome: "failed",
            inputs: 0,
            event_time: Value::Null,
            error_code: json!("-2001"),
        },
        UrlCase {
            fixture: "url/live-ai-review",
            typed: LIVE,
            event_type: LIVE,
            task_id: LIVE_TASK,
            status: json!("AiReviewResult"),
            outcome: "ok",
            inputs: 0,
            event_time: Value::Null,
            error_code: Value::Null,
        },
    ];
    for c in cases {
        let name = c.fixture;
        let (_, v) = record_of(name, c.typed);
        assert_eq!(v["event_type"], c.event_type, "{name}");
        assert_eq!(v["task_id"], c.task_id, "{name}");
        assert_eq!(v["status"], c.status, "{name}");
        assert_eq!(v["outcome"], c.outcome, "{name}");
        assert_eq!(
            v["inputs"].as_array().map(Vec::len),
            Some(c.inputs),
            "{name}"
        );
        assert_eq!(v["event_time"], c.event_time, "{name}");
        assert_eq!(v["error"]["code"], c.error_code, "{name}");
    }
    // A schedule's activities are its outputs, media results with their paths.
    let (_, v) = record_of("url/schedule-task-finish", SCHEDULE);
    assert_eq!(v["outputs"][0]["kind"], "Transcode");
    assert_eq!(
        v["outputs"][0]["paths"],
        json!(["/out/launch/launch_100030.mp4"])
    );
    assert_eq!(
        v["outputs"][1]["paths"],
        json!(["/out/launch/snap_1000.jpg"])
    );
}
