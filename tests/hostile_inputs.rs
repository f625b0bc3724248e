//! Hostile event bodies through the real binary (started by `bootstrap`) and the runtime
//! loop, against the fake runtime API and the verifying fake COS.
//!
//! Each input must end in a one-line error post starting `event is not a JSON object`, or in
//! a stored object whose key obeys README "Object keys" and whose archived event is the input
//! (after redaction); after each one a normal event must still succeed, and the process must
//! be alive at the end with no protocol violation and no COS verification failure.
mod common;

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use common::binary::Binary;
use common::fake_cos::FakeCos;
use common::fake_runtime::{FakeRuntime, Kind, Outcome};
use common::fixtures;
use common::scf_platform::{cos_options, env_for, verify_success, CREDENTIALS};

const WAIT: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, Copy, PartialEq)]
enum Expect {
    /// Not a JSON object: an error post (README "How it works", "Which events are stored").
    Error,
    /// Every JSON object is stored.
    Stored,
    /// The README does not say; either clean outcome is acceptable.
    Either,
}

fn workflow_with_task_id(task_id: Value) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "EventType": "WorkflowTask",
        "WorkflowTaskEvent": {
            "TaskId": task_id,
            "Status": "FINISH",
            "ErrCode": 0,
            "Message": "",
        }
    }))
    .expect("serialize")
}

fn cases() -> Vec<(&'static str, Vec<u8>, Expect)> {
    use Expect::*;
    let valid = fixtures::bytes("workflow-finish-success.json");
    let mut bom = b"\xEF\xBB\xBF".to_vec();
    bom.extend_from_slice(&fixtures::bytes("editmedia-finish-success.json"));
    let deep = {
        let mut s = String::from("{\"EventType\":\"WorkflowTask\",\"Deep\":");
        s.push_str(&"[".repeat(10_000));
        s.push_str(&"]".repeat(10_000));
        s.push('}');
        s.into_bytes()
    };
    let deep_objects = {
        let mut s = String::new();
        for _ in 0..10_000 {
            s.push_str("{\"a\":");
        }
        s.push('1');
        s.push_str(&"}".repeat(10_000));
        s.into_bytes()
    };
    let big = serde_json::to_vec(&json!({
        "EventType": "WorkflowTask",
        "WorkflowTaskEvent": {
            "TaskId": "1253112233-WorkflowTask-big-message",
            "Status": "FINISH",
            "ErrCode": 70000,
            "Message": "x".repeat(120 * 1024),
        }
    }))
    .expect("serialize");
    assert!(big.len() > 120 * 1024 && big.len() < 128 * 1024);
    vec![
        ("empty body", Vec::new(), Error),
        ("not json", b"not json".to_vec(), Error),
        ("array", b"[1,2]".to_vec(), Error),
        ("number", b"42".to_vec(), Error),
        ("string", b"\"str\"".to_vec(), Error),
        ("null", b"null".to_vec(), Error),
        ("truncated", valid[..valid.len() / 2].to_vec(), Error),
        (
            "invalid utf-8",
            b"{\"EventType\":\"Workflow\xff\xfeTask\"}".to_vec(),
            Error,
        ),
        ("lone 0xff byte", vec![0xff], Error),
        ("bom + valid event", bom, Either),
        ("10,000-deep arrays in an object", deep, Either),
        ("10,000-deep objects", deep_objects, Either),
        (
            "duplicate keys",
            br#"{"EventType":"WorkflowTask","EventType":"EditMediaTask","WorkflowTaskEvent":{"TaskId":"dup-a","TaskId":"dup-b","Status":"FINISH"}}"#.to_vec(),
            Either,
        ),
        ("120 KB event", big, Stored),
        ("task id ../", workflow_with_task_id(json!("../../etc/passwd")), Stored),
        ("task id ..", workflow_with_task_id(json!("..")), Stored),
        ("task id .", workflow_with_task_id(json!(".")), Stored),
        ("task id empty", workflow_with_task_id(json!("")), Stored),
        ("task id /", workflow_with_task_id(json!("/a/b//c/")), Stored),
        (
            "task id control chars",
            workflow_with_task_id(json!("a\u{0}b\u{1f}c\nd\re\u{7f}f\u{85}")),
            Stored,
        ),
        ("task id 2000 chars", workflow_with_task_id(json!("t".repeat(2000))), Stored),
        (
            "task id 2000 CJK chars",
            workflow_with_task_id(json!("任".repeat(2000))),
            Stored,
        ),
        ("task id percent", workflow_with_task_id(json!("%2e%2E%2F%00%%")), Stored),
        ("task id CJK", workflow_with_task_id(json!("任务-编号-①")), Stored),
        ("task id number", workflow_with_task_id(json!(1234567890)), Stored),
        ("task id object", workflow_with_task_id(json!({"x": "../y"})), Stored),
        ("task id null", workflow_with_task_id(Value::Null), Stored),
        (
            "event type ../",
            br#"{"EventType":"../../x","WorkflowTaskEvent":{"TaskId":"et-1"}}"#.to_vec(),
            Stored,
        ),
        (
            "event type .",
            br#"{"EventType":".","WorkflowTaskEvent":{"TaskId":"et-2"}}"#.to_vec(),
            Stored,
        ),
        (
            "event type long + slashes",
            serde_json::to_vec(&json!({"EventType": "a/".repeat(600), "X": 1})).expect("json"),
            Stored,
        ),
        (
            "status hostile",
            br#"{"EventType":"WorkflowTask","WorkflowTaskEvent":{"TaskId":"st-1","Status":"../\u0000/FIN.ISH"}}"#.to_vec(),
            Stored,
        ),
        ("empty object", b"{}".to_vec(), Stored),
        (
            "credentials to redact",
            br#"{"EventType":"WorkflowTask","WorkflowTaskEvent":{"TaskId":"red-1","InputInfo":{"S3InputInfo":{"S3SecretId":"AKIAEXAMPLE","S3SecretKey":"shh"}}},"Token":"t0k"}"#.to_vec(),
            Stored,
        ),
        (
            "credentials in other cases, as numbers, empty",
            br#"{"EventType":"WorkflowTask","WorkflowTaskEvent":{"TaskId":"red-2","SessionTOKEN":"upper-case-t0ken","streamkey":"lower-case-streamkey","NotifyKey":987654321,"Password":"","ApiToken":null}}"#.to_vec(),
            Stored,
        ),
    ]
}

/// A normal event, distinct each time (its own TaskId).
fn normal(n: usize) -> Vec<u8> {
    let mut v: Value = serde_json::from_slice(&fixtures::bytes("workflow-finish-success.json"))
        .expect("fixture JSON");
    v["WorkflowTaskEvent"]["TaskId"] = json!(format!("1253112233-WorkflowTask-normal-{n:03}"));
    serde_json::to_vec(&v).expect("serialize")
}

async fn answer(rt: &FakeRuntime, id: &str, instance: &mut Binary) -> Outcome {
    let deadline = Instant::now() + WAIT;
    loop {
        if let Some(o) = rt.results().into_iter().find(|o| o.request_id == id) {
            return o;
        }
        if let Some(status) = instance.exited() {
            panic!(
                "the binary died ({status}); log tail:\n{}",
                instance.output_tail(20)
            );
        }
        if Instant::now() > deadline {
            instance.kill().await;
            panic!(
                "no answer for {id} within {WAIT:?}; log tail:\n{}",
                instance.output_tail(20)
            );
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_bodies_end_in_one_line_errors_or_safe_objects_and_the_loop_lives_on() {
    let started = Instant::now();
    let rt = FakeRuntime::start().await;
    let cos = FakeCos::start(cos_options()).await;
    let mut instance = Binary::start(&[], &env_for(&rt, &cos));

    let mut problems = Vec::new();
    let mut stored = 0;
    let mut errors = 0;
    for (n, (name, body, expect)) in cases().into_iter().enumerate() {
        let id = rt.push_event(body.clone());
        let o = answer(&rt, &id, &mut instance).await;
        match o.kind {
            Kind::Error => {
                errors += 1;
                let text = o.text();
                println!("{name:>32}: error  {}", truncate(&text, 110));
                if expect == Expect::Stored {
                    problems.push(format!(
                        "{name}: expected a stored object, got error {text:?}"
                    ));
                } else if !text.starts_with("event is not a JSON object")
                    && text != "event nests deeper than 128 levels; refusing to parse it"
                {
                    problems.push(format!("{name}: error post {text:?}"));
                } else if text.contains('\n') || text.len() > 1000 {
                    problems.push(format!("{name}: error post not one short line"));
                }
            }
            Kind::Response => {
                stored += 1;
                let resp = o.json();
                println!(
                    "{name:>32}: stored {} ({} bytes)",
                    truncate(resp["key"].as_str().unwrap_or("?"), 110),
                    resp["bytes"]
                );
                if expect == Expect::Error {
                    problems.push(format!("{name}: expected an error post, got {resp}"));
                }
                let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&body);
                match serde_json::from_slice::<Value>(body) {
                    Ok(original) => {
                        if let Err(e) = verify_success(&cos, &resp, &original) {
                            problems.push(format!("{name}: {e}"));
                        }
                    }
                    Err(e) => problems.push(format!(
                        "{name}: stored although serde_json rejects it ({e})"
                    )),
                }
            }
        }
        // The loop must still serve a normal event.
        let id = rt.push_event(normal(n));
        let o = answer(&rt, &id, &mut instance).await;
        let original: Value = serde_json::from_slice(&normal(n)).expect("json");
        match o.kind {
            Kind::Response => {
                if let Err(e) = verify_success(&cos, &o.json(), &original) {
                    problems.push(format!("normal event after {name}: {e}"));
                }
            }
            Kind::Error => problems.push(format!("normal event after {name} failed: {}", o.text())),
        }
    }
    let alive = instance.exited().is_none();
    instance.kill().await;
    println!(
        "hostile inputs: {} cases ({stored} stored, {errors} error posts) in {:.2} s",
        stored + errors,
        started.elapsed().as_secs_f64()
    );

    assert!(problems.is_empty(), "{problems:#?}");
    assert!(
        alive,
        "the binary must still be running; log tail:\n{}",
        instance.output_tail(40)
    );
    rt.assert_clean();
    assert!(
        cos.verification_failures().is_empty(),
        "{:#?}",
        cos.verification_failures()
    );
    // Neither the role's credentials nor a secret from the events reached the log.
    let from_events = [
        "AKIAEXAMPLE",
        "\"shh\"",
        "t0k",
        "upper-case-t0ken",
        "lower-case-streamkey",
        "987654321",
    ];
    instance.assert_never_wrote(&[&CREDENTIALS[..], &from_events[..]].concat());
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(n).collect::<String>())
    }
}
