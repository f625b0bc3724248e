//! The archive pipeline end to end: the real binary, started through `bootstrap`, serving
//! events from a fake SCF runtime API and storing them in a verifying fake COS.
//!
//! Expected keys, records and redaction are computed here from README "Object keys" and
//! "The archive record", independently of the crate's code.
mod common;

use std::collections::HashSet;
use std::time::Duration;

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use serde_json::Value;

use common::binary::Binary;
use common::fake_cos::{FakeCos, Fault, FaultRates, StoredObject};
use common::fake_runtime::{FakeRuntime, Kind, Outcome};
use common::fixtures;
use common::scf_platform::{
    assert_clean, assert_free_of, check_key, check_segment, cos_env, cos_options, env_for,
    redacted, set_env, start, verify_success, FileName, BUCKET, CREDENTIALS,
};

const WAIT: Duration = Duration::from_secs(10);
const PREFIX: &str = "mps-events/";

// ---------- README "Object keys" and "The archive record", restated independently ----------

/// The latest parsable `FinishTime` anywhere in the event.
fn latest_finish_time(event: &Value) -> Option<DateTime<Utc>> {
    fn walk(v: &Value, best: &mut Option<DateTime<Utc>>) {
        match v {
            Value::Object(m) => {
                for (k, val) in m {
                    if k == "FinishTime" {
                        if let Some(t) = val
                            .as_str()
                            .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
                        {
                            let t = t.with_timezone(&Utc);
                            *best = Some(best.map_or(t, |b| b.max(t)));
                        }
                    }
                    walk(val, best);
                }
            }
            Value::Array(a) => a.iter().for_each(|x| walk(x, best)),
            _ => {}
        }
    }
    let mut best = None;
    walk(event, &mut best);
    best
}

/// TaskId and Status of a typed event (WorkflowTask / EditMediaTask).
fn task_and_status(event: &Value) -> (Option<&str>, Option<&str>) {
    let body = match event["EventType"].as_str() {
        Some("WorkflowTask") => &event["WorkflowTaskEvent"],
        Some("EditMediaTask") => &event["EditMediaTaskEvent"],
        _ => &Value::Null,
    };
    (body["TaskId"].as_str(), body["Status"].as_str())
}

fn is_typed(event: &Value) -> bool {
    matches!(
        event["EventType"].as_str(),
        Some("WorkflowTask") | Some("EditMediaTask")
    )
}

/// Checks a key against the default layout ([`check_key`]'s rules, then the parts predicted
/// from the event: for typed events every part exactly). `days` are the acceptable dates when
/// the event carries no time (receipt: today around the test).
fn check_predicted_key(key: &str, event: &Value, offset: FixedOffset, days: &[NaiveDate]) {
    let FileName { task, status, .. } = check_key(key).unwrap_or_else(|e| panic!("{key:?}: {e}"));
    let rest = key
        .strip_prefix(PREFIX)
        .unwrap_or_else(|| panic!("{key} lacks the prefix"));
    let segs: Vec<&str> = rest.split('/').collect();
    assert_eq!(segs.len(), 5, "event_type/yyyy/mm/dd/file: {key}");

    let date = format!("{}/{}/{}", segs[1], segs[2], segs[3]);
    let expected_dates: Vec<String> = match latest_finish_time(event) {
        Some(t) => vec![t.with_timezone(&offset).format("%Y/%m/%d").to_string()],
        None => days
            .iter()
            .map(|d| d.format("%Y/%m/%d").to_string())
            .collect(),
    };
    assert!(
        expected_dates.contains(&date),
        "{key}: date {date}, expected one of {expected_dates:?}"
    );

    if is_typed(event) {
        assert_eq!(segs[0], event["EventType"].as_str().unwrap(), "{key}");
        let (t, s) = task_and_status(event);
        // Fixture task ids are already safe, so they appear verbatim.
        assert_eq!(task, t.unwrap_or("no-task-id"), "{key}");
        assert_eq!(
            status,
            s.map(|s| s.to_lowercase())
                .unwrap_or_else(|| "unknown".into()),
            "{key}"
        );
    } else if let Some(et) = event["EventType"].as_str() {
        assert_eq!(segs[0], et, "{key}");
    }
}

fn today_range(offset: FixedOffset, before: DateTime<Utc>) -> Vec<NaiveDate> {
    vec![
        before.with_timezone(&offset).date_naive(),
        Utc::now().with_timezone(&offset).date_naive(),
    ]
}

/// Checks a success answer and the object it names; returns the key.
fn check_stored(
    out: &Outcome,
    cos: &FakeCos,
    event: &Value,
    offset: FixedOffset,
    days: &[NaiveDate],
) -> String {
    assert_eq!(out.kind, Kind::Response, "answer: {}", out.text());
    let r = out.json();
    for f in ["bucket", "key", "etag", "bytes", "attempts"] {
        assert!(r.get(f).is_some(), "response lacks {f}: {r}");
    }
    assert_eq!(r["bucket"], BUCKET, "{r}");
    let attempts = r["attempts"].as_u64().expect("attempts");
    assert!(attempts >= 1, "{r}");
    // The object is at the key, with the answered length and MD5, holding the redacted event.
    let key = verify_success(cos, &r, event).unwrap_or_else(|e| panic!("{e}"));
    check_predicted_key(&key, event, offset, days);
    let obj: StoredObject = cos.object(&key).expect("verified above");
    assert_eq!(obj.content_type, "application/json");
    check_record(&obj, event, out);
    let rec: Value = serde_json::from_slice(&obj.body).expect("record is JSON");
    let name = check_key(&key).unwrap_or_else(|e| panic!("{key:?}: {e}"));
    assert_eq!(
        rec["outcome"], name.outcome,
        "{key}: the key's outcome is the record's"
    );
    key
}

fn meta<'a>(obj: &'a StoredObject, name: &str) -> Option<&'a str> {
    obj.metadata
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn check_record(obj: &StoredObject, event: &Value, out: &Outcome) {
    let rec: Value = serde_json::from_slice(&obj.body).expect("record is JSON");
    assert_eq!(rec["schema"], "mps-cos-backup/record/v1");
    let (clean, _) = redacted(event);
    assert_eq!(
        rec["event"], clean,
        "event redacted and otherwise unchanged"
    );
    assert_eq!(rec["request_id"], out.request_id.as_str());
    let meta_type = meta(obj, "event-type").expect("x-cos-meta-event-type");
    let meta_status = meta(obj, "task-status").expect("x-cos-meta-task-status");
    // Runtime mode: the MPS trigger delivered it.
    assert_eq!(rec["source"], "trigger");
    let meta_outcome = meta(obj, "task-outcome").expect("x-cos-meta-task-outcome");
    assert_eq!(rec["outcome"], meta_outcome);
    assert!(DateTime::parse_from_rfc3339(rec["received_at"].as_str().unwrap()).is_ok());
    if is_typed(event) {
        let (t, s) = task_and_status(event);
        assert_eq!(rec["event_type"], event["EventType"]);
        assert_eq!(meta_type, event["EventType"].as_str().unwrap());
        assert_eq!(rec["task_id"].as_str(), t);
        assert_eq!(rec["status"].as_str(), s);
        assert_eq!(meta_status, s.unwrap_or("unknown"));
    }
}

fn utc() -> FixedOffset {
    FixedOffset::east_opt(0).unwrap()
}

fn body(v: &Value) -> Vec<u8> {
    serde_json::to_vec(v).unwrap()
}

/// The third-party `secrets` found in events, and the role credentials.
fn with_credentials(secrets: &[String]) -> Vec<&str> {
    secrets
        .iter()
        .map(String::as_str)
        .chain(CREDENTIALS)
        .collect()
}

// ---------- tests ----------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_fixture_is_archived_once_at_its_spec_key_redacted() {
    let (rt, cos) = start().await;
    let mut bin = Binary::start(&[], &env_for(&rt, &cos));
    let before = Utc::now();
    let fx = fixtures::all();
    let mut all_secrets = Vec::new();
    for (_, ev) in &fx {
        all_secrets.extend(redacted(ev).1);
        rt.push_event(body(ev));
    }
    assert!(
        !all_secrets.is_empty(),
        "fixtures carry third-party secrets to redact"
    );
    let outs = rt.wait_results(fx.len(), Duration::from_secs(20)).await;
    let days = today_range(utc(), before);
    let mut keys = HashSet::new();
    for ((name, ev), out) in fx.iter().zip(&outs) {
        let key = check_stored(out, &cos, ev, utc(), &days);
        // How the failing fixtures ended, in the key and in the metadata.
        let want = match name.as_str() {
            "editmedia-finish-failed.json" => Some("failed"),
            "workflow-finish-subtask-failed.json" | "workflow-ai-review.json" => Some("partial"),
            "workflow-processing.json" => Some("running"),
            "workflow-finish-success.json" => Some("ok"),
            _ => None,
        };
        if let Some(want) = want {
            let name = check_key(&key).unwrap_or_else(|e| panic!("{key:?}: {e}"));
            assert_eq!(name.outcome, want, "{key}");
            let obj = cos.object(&key).expect("stored");
            assert_eq!(meta(&obj, "task-outcome"), Some(want), "{key}");
        }
        assert!(keys.insert(key), "{name}: distinct fixtures, distinct keys");
    }
    assert_eq!(outs.len(), fx.len(), "exactly one answer per event");
    let objects = cos.objects();
    assert_eq!(objects.len(), fx.len(), "one object per event");
    for (k, o) in &objects {
        assert_free_of(
            &String::from_utf8_lossy(&o.body),
            &with_credentials(&all_secrets),
            k,
        );
        assert_eq!(o.put_count, 1, "{k}");
    }
    bin.stop(Duration::from_secs(3)).await;
    bin.assert_never_wrote(&with_credentials(&all_secrets));
    assert_clean(&rt, &cos);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redelivery_and_restart_store_one_object_and_succeed_every_time() {
    let (rt, cos) = start().await;
    let ev = fixtures::json("workflow-s3-input.json");
    let mut bin = Binary::start(&[], &env_for(&rt, &cos));
    rt.push_event(body(&ev));
    rt.push_event(body(&ev));
    let outs = rt.wait_results(2, WAIT).await;
    let days = today_range(utc(), Utc::now());
    // Each delivery rewrites the same key (the record names its request id), so only the
    // latest answer describes the bytes stored now.
    assert_eq!(outs[0].kind, Kind::Response, "{}", outs[0].text());
    let k1 = outs[0].json()["key"].as_str().unwrap().to_string();
    let k2 = check_stored(&outs[1], &cos, &ev, utc(), &days);
    assert_eq!(k1, k2);
    bin.stop(Duration::from_secs(3)).await;
    rt.assert_clean();

    // A fresh instance (new process, new runtime API) gets the same event once more.
    let rt2 = FakeRuntime::start().await;
    let mut bin2 = Binary::start(&[], &env_for(&rt2, &cos));
    rt2.push_event(body(&ev));
    let outs2 = rt2.wait_results(1, WAIT).await;
    let k3 = check_stored(&outs2[0], &cos, &ev, utc(), &days);
    assert_eq!(k1, k3);
    assert_eq!(cos.objects().len(), 1, "one object for three deliveries");
    bin2.stop(Duration::from_secs(3)).await;
    assert_clean(&rt2, &cos);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn processing_then_finish_of_one_task_are_two_objects() {
    let (rt, cos) = start().await;
    let finish = fixtures::json("workflow-finish-success.json");
    let mut processing = finish.clone();
    processing["WorkflowTaskEvent"]["Status"] = "PROCESSING".into();
    let mut bin = Binary::start(&[], &env_for(&rt, &cos));
    rt.push_event(body(&processing));
    rt.push_event(body(&finish));
    let outs = rt.wait_results(2, WAIT).await;
    let days = today_range(utc(), Utc::now());
    let kp = check_stored(&outs[0], &cos, &processing, utc(), &days);
    let kf = check_stored(&outs[1], &cos, &finish, utc(), &days);
    assert_ne!(kp, kf);
    assert!(kp.contains(".processing.") && kf.contains(".finish."));
    assert_eq!(cos.objects().len(), 2);
    bin.stop(Duration::from_secs(3)).await;
    assert_clean(&rt, &cos);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cos_outage_gives_error_posts_and_nothing_stored_then_recovery_stores() {
    let (rt, cos) = start().await;
    let mut bin = Binary::start(&[], &env_for(&rt, &cos));
    let events = [
        fixtures::json("workflow-finish-success.json"),
        fixtures::json("editmedia-finish-success.json"),
    ];
    let limit = Some(1500);
    let style = common::fake_runtime::HeaderStyle::Lower;

    // Every request answered 503.
    cos.set_rates(FaultRates {
        service_unavailable: 1.0,
        ..FaultRates::default()
    });
    rt.push_event_with(body(&events[0]), limit, style);
    let outs = rt.wait_results(1, WAIT).await;
    // Every connection reset.
    cos.set_rates(FaultRates {
        reset: 1.0,
        ..FaultRates::default()
    });
    rt.push_event_with(body(&events[1]), limit, style);
    let outs = {
        let _ = outs;
        rt.wait_results(2, WAIT).await
    };
    for (o, why) in outs.iter().zip(["503", "connection"]) {
        assert_eq!(o.kind, Kind::Error, "{}", o.text());
        let t = o.text();
        assert!(t.contains("COS"), "names COS: {t}");
        assert!(t.contains(why), "names the failure {why}: {t}");
        assert!(!t.contains('\n'));
    }
    assert!(cos.stats().requests >= 2, "COS was tried");
    assert!(cos.objects().is_empty(), "nothing stored during the outage");

    // COS recovers; the platform delivers the same events again.
    cos.set_rates(FaultRates::default());
    for ev in &events {
        rt.push_event_with(body(ev), limit, style);
    }
    let outs = rt.wait_results(4, WAIT).await;
    let days = today_range(utc(), Utc::now());
    for (o, ev) in outs[2..].iter().zip(&events) {
        check_stored(o, &cos, ev, utc(), &days);
    }
    assert_eq!(cos.objects().len(), 2);
    bin.stop(Duration::from_secs(3)).await;
    assert_clean(&rt, &cos);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_credentials_are_posted_after_one_attempt_then_the_instance_stops() {
    let (rt, cos) = start().await;
    let mut bin = Binary::start(&[], &env_for(&rt, &cos));
    cos.push_faults([Fault::InvalidAccessKeyId]);
    rt.push_event(body(&fixtures::json("workflow-url-input.json")));
    // Left for the fresh instance the platform starts: never taken by this one.
    rt.push_event(body(&fixtures::json("minimal.json")));
    let outs = rt.wait_results(1, WAIT).await;
    assert_eq!(outs[0].kind, Kind::Error);
    let t = outs[0].text();
    assert!(
        t.contains("InvalidAccessKeyId") && t.contains("COS") && t.contains("credentials refused"),
        "{t}"
    );
    assert_eq!(cos.request_count(), 1, "not retried: {t}");
    assert!(cos.objects().is_empty());
    let status = bin.wait_exit_async(Duration::from_secs(5)).await;
    assert_eq!(
        status.and_then(|s| s.code()),
        Some(1),
        "{}",
        bin.output_tail(5)
    );
    assert_eq!(rt.results().len(), 1, "the second event is not taken");
    let stops: Vec<String> = bin
        .json_lines()
        .iter()
        .filter(|l| {
            l["level"] == "ERROR"
                && l["message"]
                    .as_str()
                    .is_some_and(|m| m.contains("stopping this instance"))
        })
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        stops.len(),
        1,
        "one line says why the instance stops: {stops:?}"
    );
    assert_clean(&rt, &cos);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn non_object_bodies_are_error_posts_and_the_loop_goes_on() {
    let (rt, cos) = start().await;
    let mut bin = Binary::start(&[], &env_for(&rt, &cos));
    let bad: [&[u8]; 6] = [b"[1]", b"42", b"not json", b"", b"\xff\xfe{", b"null"];
    for b in bad {
        rt.push_event(b.to_vec());
    }
    let good = fixtures::json("minimal.json");
    rt.push_event(body(&good));
    let outs = rt.wait_results(bad.len() + 1, WAIT).await;
    for (o, b) in outs.iter().zip(bad) {
        assert_eq!(o.kind, Kind::Error, "{:?}", String::from_utf8_lossy(b));
        assert!(
            o.text().starts_with("event is not a JSON object"),
            "{:?} -> {}",
            String::from_utf8_lossy(b),
            o.text()
        );
    }
    check_stored(
        &outs[bad.len()],
        &cos,
        &good,
        utc(),
        &today_range(utc(), Utc::now()),
    );
    assert_eq!(cos.objects().len(), 1);
    assert_eq!(cos.request_count(), 1, "bad bodies never reach COS");
    bin.stop(Duration::from_secs(3)).await;
    assert_clean(&rt, &cos);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn event_type_filter_acknowledges_and_skips_other_types() {
    let (rt, cos) = start().await;
    let mut env = env_for(&rt, &cos);
    set_env(&mut env, "ARCHIVE_EVENT_TYPES", "EditMediaTask");
    let mut bin = Binary::start(&[], &env);
    let wf = fixtures::json("workflow-finish-success.json");
    let em = fixtures::json("editmedia-finish-failed.json");
    rt.push_event(body(&wf));
    rt.push_event(body(&em));
    let outs = rt.wait_results(2, WAIT).await;
    assert_eq!(outs[0].kind, Kind::Response, "{}", outs[0].text());
    assert!(
        outs[0].text().contains("skipped"),
        "skip is said: {}",
        outs[0].text()
    );
    check_stored(&outs[1], &cos, &em, utc(), &today_range(utc(), Utc::now()));
    assert_eq!(cos.objects().len(), 1, "the WorkflowTask was not stored");
    assert_eq!(cos.request_count(), 1);
    bin.stop(Duration::from_secs(3)).await;
    assert_clean(&rt, &cos);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn utc_offset_moves_the_date_directories() {
    let (rt, cos) = start().await;
    let mut env = env_for(&rt, &cos);
    set_env(&mut env, "ARCHIVE_UTC_OFFSET", "+08:00");
    let mut bin = Binary::start(&[], &env);
    // 20:00 UTC on New Year's Eve is already the next year in Beijing; the TaskId is hostile.
    let crafted: Value = serde_json::json!({
        "EventType": "WorkflowTask",
        "WorkflowTaskEvent": {
            "TaskId": "../../etc/passwd x",
            "Status": "FINISH",
            "MediaProcessResultSet": [
                {"Type": "Transcode", "TranscodeTask": {"Status": "SUCCESS", "FinishTime": "2019-12-31T20:00:00Z"}},
                {"Type": "SampleSnapshot", "SampleSnapshotTask": {"Status": "SUCCESS", "FinishTime": "2019-12-31T19:00:00Z"}}
            ]
        }
    });
    let sprites = fixtures::json("workflow-image-sprites.json"); // FinishTime 2026-03-23T19:31:04.250Z
    rt.push_event(body(&crafted));
    rt.push_event(body(&sprites));
    let outs = rt.wait_results(2, WAIT).await;
    let cst = FixedOffset::east_opt(8 * 3600).unwrap();
    let k0 = outs[0].json()["key"].as_str().unwrap().to_string();
    assert!(
        k0.starts_with("mps-events/WorkflowTask/2020/01/01/"),
        "{k0}"
    );
    let task = k0
        .rsplit('/')
        .next()
        .unwrap()
        .split(".finish.")
        .next()
        .unwrap();
    check_segment("task id", task, 96).unwrap_or_else(|e| panic!("{k0}: {e}"));
    assert!(task.contains("passwd"), "{k0}");
    let obj = cos.object(&k0).expect("crafted event stored");
    check_record(&obj, &crafted, &outs[0]);
    let k1 = check_stored(&outs[1], &cos, &sprites, cst, &[]);
    assert!(
        k1.starts_with("mps-events/WorkflowTask/2026/03/24/"),
        "{k1}"
    );
    bin.stop(Duration::from_secs(3)).await;
    assert_clean(&rt, &cos);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invoke_stores_into_a_cos_bucket() {
    let cos = FakeCos::start(cos_options()).await;
    let file = fixtures::dir().join("workflow-s3-input.json");
    let ev = fixtures::json("workflow-s3-input.json");
    let mut bin = Binary::start(&["invoke", file.to_str().unwrap()], &cos_env(&cos));
    let status = bin.wait_exit_async(Duration::from_secs(10)).await;
    let lines = bin.json_lines();
    assert_eq!(
        status.and_then(|s| s.code()),
        Some(0),
        "stdout: {lines:#?}, stderr: {:#?}",
        bin.stderr_lines()
    );
    let results: Vec<&Value> = lines.iter().filter(|l| l.get("ok").is_some()).collect();
    assert_eq!(results.len(), 1, "{lines:#?}");
    assert_eq!(results[0]["ok"], true, "{}", results[0]);
    assert_eq!(results[0]["file"], file.to_str().unwrap());
    let key = results[0]["result"]["key"].as_str().unwrap();
    check_predicted_key(key, &ev, utc(), &[]);
    let obj = cos.object(key).expect("stored in the fake bucket");
    assert_eq!(
        obj.body.len() as u64,
        results[0]["result"]["bytes"].as_u64().unwrap()
    );
    let rec: Value = serde_json::from_slice(&obj.body).unwrap();
    let (clean, secrets) = redacted(&ev);
    assert_eq!(rec["event"], clean);
    bin.assert_never_wrote(&with_credentials(&secrets));
    assert_free_of(
        &String::from_utf8_lossy(&obj.body),
        &with_credentials(&secrets),
        key,
    );
    assert!(cos.verification_failures().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn odd_but_json_object_events_are_stored_under_safe_keys() {
    let (rt, cos) = start().await;
    let mut bin = Binary::start(&[], &env_for(&rt, &cos));
    let before = Utc::now();
    let events = [
        serde_json::json!({}),
        serde_json::json!({"EventType": 5, "Foo": "bar"}),
        serde_json::json!({"EventType": "../../x y", "Password": "hunter2-secret"}),
        serde_json::json!({"EventType": "WorkflowTask", "WorkflowTaskEvent": "not an object"}),
        serde_json::json!({"EventType": "EditMediaTask", "EditMediaTaskEvent": {"TaskId": 7, "Status": ["x"]}}),
    ];
    for ev in &events {
        rt.push_event(body(ev));
    }
    let outs = rt.wait_results(events.len(), WAIT).await;
    let days = today_range(utc(), before);
    let mut keys = HashSet::new();
    for (o, ev) in outs.iter().zip(&events) {
        assert_eq!(o.kind, Kind::Response, "{ev}: {}", o.text());
        let key = o.json()["key"].as_str().unwrap().to_string();
        let rest = key.strip_prefix(PREFIX).expect("prefix");
        let segs: Vec<&str> = rest.split('/').collect();
        assert_eq!(segs.len(), 5, "{key}");
        check_segment("event type", segs[0], 64).unwrap_or_else(|e| panic!("{key}: {e}"));
        let date = format!("{}/{}/{}", segs[1], segs[2], segs[3]);
        assert!(
            days.iter()
                .any(|d| d.format("%Y/%m/%d").to_string() == date),
            "{key}"
        );
        assert!(segs[4].ends_with(".json") && !key.contains(".."), "{key}");
        let obj = cos.object(&key).expect("stored");
        let rec: Value = serde_json::from_slice(&obj.body).unwrap();
        assert_eq!(rec["event"], redacted(ev).0, "{key}");
        assert!(!String::from_utf8_lossy(&obj.body).contains("hunter2-secret"));
        assert!(keys.insert(key));
    }
    bin.stop(Duration::from_secs(3)).await;
    bin.assert_never_wrote(&["hunter2-secret"]);
    assert_clean(&rt, &cos);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn key_prefix_and_storage_class_reach_cos() {
    let (rt, cos) = start().await;
    let mut env = env_for(&rt, &cos);
    set_env(&mut env, "COS_KEY_PREFIX", "audit/mps/");
    set_env(&mut env, "COS_STORAGE_CLASS", "STANDARD_IA");
    let mut bin = Binary::start(&[], &env);
    let ev = fixtures::json("workflow-adaptive-streaming.json"); // latest FinishTime 2026-03-22T01:11:30Z
    rt.push_event(body(&ev));
    let outs = rt.wait_results(1, WAIT).await;
    assert_eq!(outs[0].kind, Kind::Response, "{}", outs[0].text());
    let key = outs[0].json()["key"].as_str().unwrap().to_string();
    assert!(
        key.starts_with("audit/mps/WorkflowTask/2026/03/22/1253112233-WorkflowTask-8cb043b2dace9afc0680e6bae5cd316ft2.finish."),
        "{key}"
    );
    let obj = cos.object(&key).expect("stored");
    assert_eq!(obj.storage_class.as_deref(), Some("STANDARD_IA"));
    bin.stop(Duration::from_secs(3)).await;
    assert_clean(&rt, &cos);
}
