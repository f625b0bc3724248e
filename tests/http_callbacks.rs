//! MPS URL notifications through the Function URL, through the real binary: the platform (a
//! verifying fake runtime API) hands the binary Function URL and API Gateway events; every
//! request is answered with a response object and the status SPEC names, only authenticated
//! notifications reach the archive (a verifying fake COS) and the forward target, and no
//! token, key or signature reaches the log, even at `LOG_LEVEL=trace`.
//!
//! The signatures are computed here from the rule (MD5 of `Timestamp` and the key, hex), not
//! with the crate's code, so a wrong rule in the crate cannot bless itself.
mod common;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use md5::{Digest, Md5};
use serde_json::{json, Value};

use common::binary::Binary;
use common::fake_cos::Fault;
use common::fake_runtime::Kind;
use common::fake_webhook::{FakeWebhook, FakeWebhookOptions};
use common::fixtures;
use common::scf_platform::{assert_clean, env_for, set_env, start, CREDENTIALS};

const WAIT: Duration = Duration::from_secs(20);
const TOKEN: &str = "urlTokenValue-0123456789abcdef";
const KEY: &str = "callbackNotifyKey-Value42";

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn sign(timestamp: u64, key: &str) -> String {
    let digest = Md5::digest(format!("{timestamp}{key}").as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// A ScheduleTask notification as MPS POSTs it, signed with `key` (expiry `timestamp`).
fn schedule(task: &str, timestamp: u64, key: &str) -> Value {
    json!({
        "EventType": "ScheduleTask",
        "WorkflowTaskEvent": null,
        "EditMediaTaskEvent": null,
        "ScheduleTaskEvent": {
            "TaskId": task,
            "Status": "FINISH",
            "ErrCode": 0,
            "Message": "",
            "InputInfo": {"Type": "COS", "CosInputInfo": {"Bucket": "in-1250000000", "Region": "ap-guangzhou", "Object": "/raw/a.mp4"}},
            "ActivityResultSet": []
        },
        "SessionId": format!("session-{task}"),
        "SessionContext": "",
        "Timestamp": timestamp,
        "Sign": sign(timestamp, key)
    })
}

/// A live-stream `ProcessEof` notification, signed.
fn live_eof(task: &str, timestamp: u64, key: &str) -> Value {
    json!({
        "NotificationType": "ProcessEof",
        "TaskId": task,
        "ProcessEofInfo": {"ErrCode": 0, "Message": "success"},
        "SessionId": "",
        "SessionContext": "",
        "Timestamp": timestamp,
        "Sign": sign(timestamp, key)
    })
}

/// The Function URL event around `body`, with `token` in its query when given.
fn url_event(method: &str, body: &str, token: Option<&str>) -> Vec<u8> {
    let mut ev = json!({
        "httpMethod": method,
        "path": "/",
        "headers": {"content-type": "application/json", "x-forwarded-for": "203.0.113.7"},
        "body": body,
    });
    if let Some(t) = token {
        ev["queryString"] = json!({ "token": t });
    }
    serde_json::to_vec(&ev).expect("event")
}

/// The API Gateway shape: base64 body, `queryStringParameters`, `requestContext`.
fn gateway_event(body: &str, token: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "httpMethod": "POST",
        "path": "/mps",
        "headers": {"Content-Type": "application/json"},
        "queryStringParameters": {"token": token},
        "requestContext": {"sourceIp": "198.51.100.20", "stage": "release"},
        "isBase64Encoded": true,
        "body": base64::engine::general_purpose::STANDARD.encode(body),
    }))
    .expect("event")
}

/// The status and body of a response object the binary posted.
fn answer(out: &common::fake_runtime::Outcome) -> (u64, Value) {
    assert_eq!(
        out.kind,
        Kind::Response,
        "an HTTP request is never an error post: {}",
        out.text()
    );
    let v = out.json();
    assert_eq!(v["headers"]["Content-Type"], "application/json", "{v}");
    let body: Value = serde_json::from_str(v["body"].as_str().expect("body is a string"))
        .unwrap_or_else(|e| panic!("body is JSON ({e}): {v}"));
    (v["statusCode"].as_u64().expect("statusCode"), body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_request_gets_its_status_and_only_authentic_notifications_are_archived() {
    let (rt, cos) = start().await;
    let hook = FakeWebhook::start(FakeWebhookOptions::default()).await;
    let mut env = env_for(&rt, &cos);
    set_env(&mut env, "CALLBACK_TOKEN", TOKEN);
    set_env(&mut env, "CALLBACK_NOTIFY_KEY", KEY);
    set_env(&mut env, "ARCHIVE_FORWARD", &hook.url());
    set_env(&mut env, "LOG_LEVEL", "trace");
    let mut bin = Binary::start(&[], &env);

    let fresh = now() + 600;
    let valid = schedule("1250000000-ScheduleTask-aaaa", fresh, KEY).to_string();
    let valid_gw = schedule("1250000000-ScheduleTask-bbbb", fresh, KEY).to_string();
    let valid_live = live_eof("live-task-cccc", fresh, KEY).to_string();
    let expired_ts = now() - 301;
    let expired = schedule("1250000000-ScheduleTask-dddd", expired_ts, KEY).to_string();
    let forged = schedule("1250000000-ScheduleTask-eeee", fresh, "not-the-key").to_string();
    let mut unsigned = schedule("1250000000-ScheduleTask-ffff", fresh, KEY);
    unsigned.as_object_mut().map(|o| o.remove("Sign"));
    let huge = format!(
        "{{\"EventType\":\"ScheduleTask\",\"Pad\":\"{}\"}}",
        "x".repeat(6_000_001)
    );

    // (event, expected status, what the error must name)
    let cases: Vec<(Vec<u8>, u64, &str)> = vec![
        (url_event("POST", &valid, Some(TOKEN)), 200, ""),
        (gateway_event(&valid_gw, TOKEN), 200, ""),
        (url_event("POST", &valid_live, Some(TOKEN)), 200, ""),
        (
            url_event("POST", &forged, Some(TOKEN)),
            401,
            "signature wrong",
        ),
        (
            url_event("POST", &expired, Some(TOKEN)),
            401,
            "signature expired",
        ),
        (
            url_event("POST", &unsigned.to_string(), Some(TOKEN)),
            401,
            "signature missing",
        ),
        (
            url_event("POST", &valid, Some("wrong-token-0123456789")),
            401,
            "token wrong",
        ),
        (url_event("POST", &valid, None), 401, "token missing"),
        (url_event("GET", "", Some(TOKEN)), 405, "method GET"),
        (
            url_event("POST", "not json at all", Some(TOKEN)),
            400,
            "not a JSON object",
        ),
        (
            url_event("POST", "{\"EventType\":", Some(TOKEN)),
            400,
            "not JSON",
        ),
        (
            url_event("POST", "[1,2]", Some(TOKEN)),
            400,
            "not a JSON object",
        ),
        (
            url_event("POST", "{\"hello\":1}", Some(TOKEN)),
            400,
            "not an MPS notification",
        ),
        (url_event("POST", &huge, Some(TOKEN)), 413, "6000000"),
    ];
    for (ev, _, _) in &cases {
        rt.push_event(ev.clone());
    }
    // A trigger callback in the same instance is still a callback.
    rt.push_event(fixtures::bytes("workflow-finish-success.json"));
    let outs = rt.wait_results(cases.len() + 1, WAIT).await;
    assert_eq!(outs.len(), cases.len() + 1, "{}", bin.output_tail(10));

    let mut keys = Vec::new();
    for (i, ((_, status, names), out)) in cases.iter().zip(&outs).enumerate() {
        let (got, body) = answer(out);
        assert_eq!(got, *status, "case {i}: {body}");
        if *status == 200 {
            assert_eq!(body["ok"], true, "case {i}: {body}");
            let key = body["key"].as_str().expect("key").to_string();
            assert_eq!(
                body["forwarded"].as_array().map(Vec::len),
                Some(1),
                "{body}"
            );
            keys.push(key);
        } else {
            assert_eq!(body["ok"], false, "case {i}: {body}");
            let error = body["error"].as_str().unwrap_or_default();
            assert!(
                error.contains(names),
                "case {i}: {error:?} should name {names:?}"
            );
            assert!(!error.contains(KEY) && !error.contains(TOKEN), "{error}");
        }
    }
    let trigger = outs.last().expect("trigger answer");
    assert_eq!(trigger.kind, Kind::Response);
    assert!(
        trigger.json()["key"].as_str().is_some(),
        "{}",
        trigger.text()
    );

    // Exactly the three authentic notifications and the trigger callback are archived; each
    // record holds the notification itself (never the HTTP wrapper).
    let objects = cos.objects();
    assert_eq!(objects.len(), 4, "{:?}", objects.keys().collect::<Vec<_>>());
    let bodies = [&valid, &valid_gw, &valid_live];
    for (key, sent) in keys.iter().zip(bodies) {
        let stored = objects.get(key).unwrap_or_else(|| panic!("{key} stored"));
        let record: Value = serde_json::from_slice(&stored.body).expect("record");
        let sent: Value = serde_json::from_str(sent).expect("sent");
        assert_eq!(record["event"], sent, "{key}");
        assert_eq!(record["source"], "url", "{key}");
        assert!(record["event"].get("httpMethod").is_none());
    }
    // The webhook got the three notifications byte for byte and the trigger callback.
    let delivered = hook.delivered();
    assert_eq!(delivered.len(), 4);
    for sent in bodies {
        assert!(
            delivered.iter().any(|d| d == sent.as_bytes()),
            "forwarded as received: {sent:.60}"
        );
    }

    bin.stop(Duration::from_secs(3)).await;
    let mut secrets: Vec<String> = vec![TOKEN.into(), KEY.into()];
    for v in [&valid, &valid_gw, &valid_live, &expired] {
        let v: Value = serde_json::from_str(v).expect("json");
        secrets.push(v["Sign"].as_str().expect("sign").to_string());
    }
    let secrets: Vec<&str> = secrets
        .iter()
        .map(String::as_str)
        .chain(CREDENTIALS)
        .collect();
    bin.assert_never_wrote(&secrets);
    // Each refusal is one warn line naming the reason and the caller's address.
    let refusals: Vec<_> = bin
        .lines()
        .into_iter()
        .filter(|l| l.text.contains("HTTP callback refused"))
        .collect();
    assert_eq!(
        refusals.len(),
        cases.len() - 3,
        "one line per refused request"
    );
    assert!(
        refusals
            .iter()
            .all(|l| l.text.contains("203.0.113.7") && l.text.contains("WARN")),
        "{:?}",
        refusals.first().map(|l| &l.text)
    );
    assert_clean(&rt, &cos);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_token_or_key_http_callbacks_are_refused_unless_unsigned_is_allowed() {
    let (rt, cos) = start().await;
    let body = schedule("1250000000-ScheduleTask-open", now() + 600, KEY).to_string();

    let mut bin = Binary::start(&[], &env_for(&rt, &cos));
    rt.push_event(url_event("POST", &body, None));
    let outs = rt.wait_results(1, WAIT).await;
    let (status, answer_body) = answer(&outs[0]);
    assert_eq!(status, 401, "{answer_body}");
    assert!(answer_body["error"]
        .as_str()
        .unwrap_or_default()
        .contains("CALLBACK_TOKEN"));
    assert!(cos.objects().is_empty(), "nothing stored");
    bin.stop(Duration::from_secs(3)).await;

    let (rt, cos) = start().await;
    let mut env = env_for(&rt, &cos);
    set_env(&mut env, "CALLBACK_ALLOW_UNSIGNED", "on");
    let mut bin = Binary::start(&[], &env);
    rt.push_event(url_event("POST", &body, None));
    let outs = rt.wait_results(1, WAIT).await;
    let (status, answer_body) = answer(&outs[0]);
    assert_eq!(status, 200, "{answer_body}");
    assert_eq!(cos.objects().len(), 1);
    bin.stop(Duration::from_secs(3)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_archive_failure_is_a_500_not_an_error_post() {
    let (rt, cos) = start().await;
    let mut env = env_for(&rt, &cos);
    set_env(&mut env, "CALLBACK_TOKEN", TOKEN);
    // COS refuses the write for good (NoSuchBucket is final: no retry).
    cos.push_faults([Fault::NoSuchBucket]);
    let mut bin = Binary::start(&[], &env);
    let body = schedule("1250000000-ScheduleTask-fail", now() + 600, KEY).to_string();
    rt.push_event(url_event("POST", &body, Some(TOKEN)));
    let outs = rt.wait_results(1, WAIT).await;
    let (status, answer_body) = answer(&outs[0]);
    assert_eq!(status, 500, "{answer_body}");
    assert_eq!(answer_body["ok"], false);
    let error = answer_body["error"].as_str().unwrap_or_default();
    assert!(error.contains("NoSuchBucket"), "{error}");
    assert!(cos.objects().is_empty());
    assert!(bin.exited().is_none(), "the instance goes on");
    bin.stop(Duration::from_secs(3)).await;
}

/// `invoke` handles a Function URL event file as runtime mode would: the response object is
/// its result, and a refused request (nothing archived) fails the run.
#[test]
fn invoke_answers_a_function_url_event_as_runtime_mode_would() {
    let dir = std::env::temp_dir().join(format!("mcb-http-invoke-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    let fixture = fixtures::dir().join("url/function-url-schedule-task.json");
    let local = dir.join("mirror");
    std::fs::create_dir_all(&local).expect("mirror dir");
    let args = [
        "invoke",
        "--local",
        local.to_str().expect("utf-8"),
        fixture.to_str().expect("utf-8"),
    ];
    let run = |extra: &[(&str, &str)]| {
        let mut env: Vec<(String, String)> = vec![("LOG_LEVEL".into(), "error".into())];
        env.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        Binary::start(&args, &env).into_output(WAIT)
    };
    let refused = run(&[]);
    assert_eq!(refused.status.code(), Some(1));
    let line: Value = serde_json::from_slice(&refused.stdout).expect("one JSON line");
    assert_eq!(
        (line["ok"].as_bool(), line["result"]["statusCode"].as_u64()),
        (Some(false), Some(401))
    );
    assert!(!local.exists() || std::fs::read_dir(&local).map(|d| d.count()).unwrap_or(0) == 0);

    let accepted = run(&[("CALLBACK_ALLOW_UNSIGNED", "on")]);
    assert_eq!(
        accepted.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&accepted.stderr)
    );
    let line: Value = serde_json::from_slice(&accepted.stdout).expect("one JSON line");
    assert_eq!(line["result"]["statusCode"], 200, "{line}");
    let body: Value =
        serde_json::from_str(line["result"]["body"].as_str().expect("body")).expect("json body");
    let key = body["key"].as_str().expect("key");
    assert!(key.starts_with("mps-events/ScheduleTask/"), "{key}");
    assert!(local.join(key).is_file(), "{key} in the mirror");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Any shape of event through admission: no panic, a status SPEC lists, a one-line reason,
/// and an admitted body that the event parser takes.
mod admission {
    use mps_cos_backup::event;
    use mps_cos_backup::http::{admit, auth::CallbackAuth};
    use proptest::prelude::*;
    use serde_json::{json, Value};

    fn scalar() -> impl Strategy<Value = Value> {
        prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            "[ -~]{0,24}".prop_map(Value::String),
            Just(json!("{\"EventType\":\"ScheduleTask\"}")),
            Just(json!("{\"NotificationType\":\"ProcessEof\",\"TaskId\":7}")),
            Just(json!("eyJFdmVudFR5cGUiOiJYIn0=")),
            Just(json!("POST")),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

        #[test]
        fn any_wrapper_is_admitted_or_refused_cleanly(
            method in scalar(), body in scalar(), b64 in scalar(), query in scalar(),
            headers in scalar(), drop in prop::collection::vec(any::<bool>(), 5),
        ) {
            let mut ev = serde_json::Map::new();
            for (i, (k, v)) in [
                ("httpMethod", method), ("body", body), ("isBase64Encoded", b64),
                ("queryString", json!({"token": query})), ("headers", json!({"X-Forwarded-For": headers})),
            ].into_iter().enumerate() {
                if !drop[i] {
                    ev.insert(k.to_string(), v);
                }
            }
            let bytes = serde_json::to_vec(&Value::Object(ev)).unwrap_or_default();
            let auth = CallbackAuth { allow_unsigned: true, ..CallbackAuth::default() };
            match admit(&bytes, &auth, 1_764_000_000) {
                None => {}
                Some(Ok(notification)) => {
                    prop_assert!(event::parse(&notification).is_ok());
                }
                Some(Err(r)) => {
                    prop_assert!(matches!(r.status, 400 | 401 | 405 | 413), "{:?}", r);
                    prop_assert!(!r.reason.contains('\n'));
                }
            }
        }
    }
}

/// Every kind of URL notification (the SDK-shaped samples in `fixtures/url/`), signed anew
/// and POSTed through the Function URL: each is archived with `source` `url`, its own typed
/// event type, status and outcome in the record and in the key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_notification_kind_is_archived_with_its_type_and_outcome() {
    let (rt, cos) = start().await;
    let mut env = env_for(&rt, &cos);
    set_env(&mut env, "CALLBACK_TOKEN", TOKEN);
    set_env(&mut env, "CALLBACK_NOTIFY_KEY", KEY);
    let mut bin = Binary::start(&[], &env);
    // (fixture, event_type, status segment of the key, outcome)
    let kinds = [
        ("schedule-task-finish", "ScheduleTask", "finish", "ok"),
        (
            "schedule-task-activity-failed",
            "ScheduleTask",
            "finish",
            "partial",
        ),
        (
            "extract-blind-watermark",
            "ExtractBlindWatermark",
            "finish",
            "ok",
        ),
        ("batch-task", "BatchTask", "unknown", "unknown"),
        (
            "live-process-eof-failed",
            "LiveStreamProcess",
            "processeof",
            "failed",
        ),
        (
            "live-ai-review",
            "LiveStreamProcess",
            "aireviewresult",
            "ok",
        ),
    ];
    let expiry = now() + 600;
    for (name, ..) in &kinds {
        let mut body = fixtures::json(&format!("url/{name}.json"));
        body["Timestamp"] = json!(expiry);
        body["Sign"] = json!(sign(expiry, KEY));
        rt.push_event(url_event("POST", &body.to_string(), Some(TOKEN)));
    }
    let outs = rt.wait_results(kinds.len(), WAIT).await;
    let objects = cos.objects();
    for ((name, event_type, status, outcome), out) in kinds.iter().zip(&outs) {
        let (code, body) = answer(out);
        assert_eq!(code, 200, "{name}: {body}");
        let key = body["key"].as_str().unwrap_or_default();
        let prefix = format!("mps-events/{event_type}/");
        assert!(key.starts_with(&prefix), "{name}: {key}");
        assert!(
            key.contains(&format!(".{status}.{outcome}.")),
            "{name}: {key}"
        );
        let record: Value = serde_json::from_slice(&objects[key].body).expect("record");
        assert_eq!(record["source"], "url", "{name}");
        assert_eq!(record["event_type"], *event_type, "{name}");
        assert_eq!(record["outcome"], *outcome, "{name}");
    }
    bin.stop(Duration::from_secs(3)).await;
    bin.assert_never_wrote(&[TOKEN, KEY]);
    assert_clean(&rt, &cos);
}

/// Refused credentials while archiving an HTTP callback: the caller still gets its status
/// (500, a response post, never an error post), and then the instance ends (exit 1) so the
/// platform starts a fresh one with fresh role credentials, as it does for a trigger
/// callback. A missing permission, by contrast, is that request's failure only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_credentials_are_answered_then_end_the_instance() {
    let (rt, cos) = start().await;
    let mut env = env_for(&rt, &cos);
    set_env(&mut env, "CALLBACK_TOKEN", TOKEN);
    cos.push_faults([Fault::AccessDenied, Fault::InvalidAccessKeyId]);
    let mut bin = Binary::start(&[], &env);
    for task in ["perm", "creds"] {
        let body = schedule(&format!("1250000000-ScheduleTask-{task}"), now() + 600, KEY);
        rt.push_event(url_event("POST", &body.to_string(), Some(TOKEN)));
    }
    let outs = rt.wait_results(2, WAIT).await;
    let (status, body) = answer(&outs[0]);
    assert_eq!(status, 500, "{body}");
    assert!(
        body["error"]
            .as_str()
            .unwrap_or_default()
            .contains("cos:PutObject"),
        "{body}"
    );
    let (status, body) = answer(&outs[1]);
    assert_eq!(status, 500, "{body}");
    let exit = bin.wait_exit_async(Duration::from_secs(5)).await;
    assert_eq!(
        exit.and_then(|s| s.code()),
        Some(1),
        "{}",
        bin.output_tail(5)
    );
    assert!(cos.objects().is_empty());
}
