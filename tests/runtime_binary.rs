//! The SCF custom runtime at the binary level: the real binary started through `bootstrap`
//! against a fake runtime API (which checks the protocol) and a verifying fake COS.
mod common;

use std::time::{Duration, Instant};

use serde_json::Value;

use common::binary::{field, message, Binary};
use common::fake_cos::{FakeCos, Fault, FaultRates};
use common::fake_runtime::{HeaderStyle, Kind};
use common::fixtures;
use common::scf_platform::{
    assert_clean, cos_env, cos_options, env_for, set_env, start, CREDENTIALS,
};

const WAIT: Duration = Duration::from_secs(10);

fn event(task: &str) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "EventType": "EditMediaTask",
        "EditMediaTaskEvent": {"TaskId": task, "Status": "FINISH", "ErrCode": 0, "Message": ""}
    }))
    .unwrap()
}

fn stored_key(rt_answer: &common::fake_runtime::Outcome) -> String {
    assert_eq!(rt_answer.kind, Kind::Response, "{}", rt_answer.text());
    rt_answer.json()["key"]
        .as_str()
        .expect("key in response")
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ready_is_posted_once_before_the_first_next() {
    let (rt, cos) = start().await;
    let mut bin = Binary::start(&[], &env_for(&rt, &cos));
    rt.push_event(event("t-ready-1"));
    rt.push_event(event("t-ready-2"));
    rt.wait_results(2, WAIT).await;
    rt.wait_idle_poll(WAIT).await;
    let log = rt.call_log();
    assert_eq!(log[0], "POST /runtime/init/ready", "{log:#?}");
    assert_eq!(
        log.iter()
            .filter(|c| *c == "POST /runtime/init/ready")
            .count(),
        1,
        "{log:#?}"
    );
    assert_eq!(log[1], "GET /runtime/invocation/next", "{log:#?}");
    assert_eq!(rt.ready_count(), 1);
    let calls = rt.calls();
    assert!(calls[0].at <= calls[1].at);
    bin.stop(Duration::from_secs(3)).await;
    assert_clean(&rt, &cos);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn header_names_in_any_case_are_understood() {
    let (rt, cos) = start().await;
    let mut bin = Binary::start(&[], &env_for(&rt, &cos));
    // A time limit of 1000 ms must be honoured whatever the header spelling: with COS down,
    // the error comes well before the 3000 ms default would allow.
    cos.set_rates(FaultRates {
        service_unavailable: 1.0,
        ..FaultRates::default()
    });
    let mut n = 0;
    for style in [HeaderStyle::Capitalized, HeaderStyle::Upper] {
        let id = rt.push_event_with(event("t-case"), Some(1000), style);
        n += 1;
        let outs = rt.wait_results(n, WAIT).await;
        let d = rt.deliveries();
        let o = &outs[n - 1];
        assert_eq!(o.request_id, id);
        assert_eq!(o.kind, Kind::Error, "{}", o.text());
        let took = o.at - d[n - 1].at;
        assert!(
            took < Duration::from_millis(2000),
            "{style:?}: time limit header ignored, answered after {took:?}"
        );
    }
    cos.set_rates(FaultRates::default());
    for style in [HeaderStyle::Capitalized, HeaderStyle::Upper] {
        let id = rt.push_event_with(event(&format!("t-case-{style:?}")), Some(3000), style);
        n += 1;
        let outs = rt.wait_results(n, WAIT).await;
        let key = stored_key(&outs[n - 1]);
        let rec: Value = serde_json::from_slice(&cos.object(&key).expect("stored").body).unwrap();
        assert_eq!(
            rec["request_id"],
            id.as_str(),
            "{style:?}: request id header read"
        );
    }
    bin.stop(Duration::from_secs(3)).await;
    assert_clean(&rt, &cos);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runtime_api_down_at_start_then_up_and_down_mid_run() {
    let (rt, cos) = start().await;
    rt.go_down().await;
    let mut bin = Binary::start(&[], &env_for(&rt, &cos));
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(bin.exited().is_none(), "gave up too early");
    let up = Instant::now();
    rt.come_back().await;
    rt.push_event(event("t-late-start"));
    let outs = rt.wait_results(1, WAIT).await;
    stored_key(&outs[0]);
    assert!(
        rt.calls()[0].at >= up,
        "ready posted only once the API was up"
    );

    // Down briefly while the binary waits for the next event.
    rt.wait_idle_poll(WAIT).await;
    rt.go_down().await;
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert!(bin.exited().is_none(), "exited on a brief outage");
    rt.come_back().await;
    rt.push_event(event("t-after-blip"));
    let outs = rt.wait_results(2, WAIT).await;
    stored_key(&outs[1]);
    assert_eq!(cos.objects().len(), 2);
    bin.stop(Duration::from_secs(3)).await;
    assert_clean(&rt, &cos);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runtime_api_never_reachable_exits_one_within_bounds() {
    let cos = FakeCos::start(cos_options()).await;
    // A port nobody listens on.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut env = cos_env(&cos);
    set_env(&mut env, "SCF_RUNTIME_API", "127.0.0.1");
    set_env(&mut env, "SCF_RUNTIME_API_PORT", &port.to_string());
    let started = Instant::now();
    let mut bin = Binary::start(&[], &env);
    let status = bin.wait_exit_async(Duration::from_secs(16)).await;
    let took = started.elapsed();
    assert_eq!(
        status.and_then(|s| s.code()),
        Some(1),
        "after {took:?}: {status:?}; stdout {:#?}",
        bin.stdout_lines()
    );
    assert!(took >= Duration::from_secs(5), "retried a while: {took:?}");
    let lines = bin.json_lines();
    let last = lines.last().expect("says why");
    assert_eq!(last["level"], "ERROR", "{last}");
    assert!(last.to_string().contains("unreachable"), "{last}");
    assert_eq!(cos.request_count(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_while_idle_exits_zero_promptly() {
    let (rt, cos) = start().await;
    let mut bin = Binary::start(&[], &env_for(&rt, &cos));
    rt.wait_idle_poll(WAIT).await;
    let t = Instant::now();
    bin.sigterm();
    let status = bin.wait_exit_async(Duration::from_secs(2)).await;
    assert_eq!(
        status.and_then(|s| s.code()),
        Some(0),
        "{status:?} after {:?}",
        t.elapsed()
    );
    assert!(rt.results().is_empty());
    assert_clean(&rt, &cos);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_during_an_invocation_answers_it_then_exits_zero() {
    let (rt, cos) = start().await;
    let mut bin = Binary::start(&[], &env_for(&rt, &cos));
    rt.wait_idle_poll(WAIT).await;
    cos.push_faults([Fault::Stall(Duration::from_millis(1000))]);
    rt.push_event_with(event("t-in-flight"), Some(5000), HeaderStyle::Lower);
    rt.wait_deliveries(1, WAIT).await;
    // Wait until the PUT is actually at COS (stalling), then stop.
    let deadline = Instant::now() + WAIT;
    while cos.request_count() == 0 {
        assert!(Instant::now() < deadline, "PUT never reached COS");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(
        rt.results().is_empty(),
        "still in flight when SIGTERM is sent"
    );
    let term_at = Instant::now();
    bin.sigterm();
    let outs = rt.wait_results(1, WAIT).await;
    assert!(outs[0].at > term_at);
    let status = bin.wait_exit_async(Duration::from_secs(5)).await;
    assert_eq!(
        status.and_then(|s| s.code()),
        Some(0),
        "{status:?}; stdout {:#?}",
        bin.stdout_lines()
    );
    assert_eq!(outs.len(), 1);
    // The stall ends in a closed connection; a retry within the time limit stores the event.
    let key = stored_key(&outs[0]);
    assert!(cos.object(&key).is_some());
    assert_eq!(
        rt.call_log()
            .iter()
            .filter(|c| *c == "GET /runtime/invocation/next")
            .count(),
        1,
        "no new event is fetched after SIGTERM"
    );
    assert_clean(&rt, &cos);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stdout_is_json_lines_without_credentials_and_logs_each_archived_event() {
    let (rt, cos) = start().await;
    let mut bin = Binary::start(&[], &env_for(&rt, &cos));
    let s3 = fixtures::bytes("workflow-s3-input.json");
    // The first PUT meets a SlowDown and is retried.
    cos.push_faults([Fault::SlowDown]);
    rt.push_event(s3);
    rt.push_event(event("t-log-1"));
    rt.push_event(b"[1]".to_vec());
    rt.push_event(event("t-log-2"));
    let outs = rt.wait_results(4, WAIT).await;
    bin.stop(Duration::from_secs(3)).await;

    let stored: Vec<(String, u64)> = outs
        .iter()
        .filter(|o| o.kind == Kind::Response)
        .map(|o| {
            let j = o.json();
            (
                j["key"].as_str().unwrap().to_string(),
                j["attempts"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(stored.len(), 3);
    assert_eq!(stored[0].1, 2, "the SlowDown was retried once");
    assert_eq!((stored[1].1, stored[2].1), (1, 1));

    let lines = bin.json_lines();
    let text = bin.stdout_lines().join("\n");
    // The role's credentials, and the S3 keys inside the fixture's input.
    let s3_keys = [
        "AKIAIOSFODNN7EXAMPLE",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "AKIAI44QH8DHBEXAMPLE",
        "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY",
    ];
    bin.assert_never_wrote(&[&CREDENTIALS[..], &s3_keys[..]].concat());
    let archived: Vec<&Value> = lines
        .iter()
        .filter(|l| message(l) == Some("event archived"))
        .collect();
    assert_eq!(archived.len(), stored.len(), "{text}");
    for (line, (key, attempts)) in archived.iter().zip(&stored) {
        assert_eq!(
            field(line, "key").and_then(Value::as_str),
            Some(key.as_str()),
            "{line}"
        );
        assert_eq!(
            field(line, "attempts").and_then(Value::as_u64),
            Some(*attempts),
            "{line}"
        );
        let bytes = field(line, "bytes").and_then(Value::as_u64).expect("bytes");
        assert_eq!(bytes as usize, cos.object(key).unwrap().body.len());
        assert!(
            field(line, "duration_ms").is_some_and(Value::is_u64),
            "{line}"
        );
    }
    assert!(
        lines
            .iter()
            .any(|l| l["level"] == "WARN" && l.to_string().contains("not a JSON object")),
        "the rejected body is logged: {text}"
    );
    assert_clean(&rt, &cos);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigint_while_idle_exits_zero_too() {
    let (rt, cos) = start().await;
    let mut bin = Binary::start(&[], &env_for(&rt, &cos));
    rt.wait_idle_poll(WAIT).await;
    bin.signal("INT");
    let status = bin.wait_exit_async(Duration::from_secs(2)).await;
    assert_eq!(status.and_then(|s| s.code()), Some(0), "{status:?}");
    assert_clean(&rt, &cos);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reset_answer_posts_are_retried_and_the_answer_arrives() {
    use common::fake_runtime::{Endpoint, Fault as ApiFault};
    let (rt, cos) = start().await;
    let mut bin = Binary::start(&[], &env_for(&rt, &cos));
    rt.wait_idle_poll(WAIT).await;
    rt.inject_faults(Endpoint::Response, ApiFault::Reset, 2);
    rt.inject_faults(Endpoint::Error, ApiFault::Reset, 1);
    rt.push_event(event("t-post-retry"));
    rt.push_event(b"42".to_vec());
    rt.push_event(event("t-post-retry-2"));
    let outs = rt.wait_results(3, WAIT).await;
    assert_eq!(
        outs.iter().map(|o| o.kind).collect::<Vec<_>>(),
        [Kind::Response, Kind::Error, Kind::Response]
    );
    let faulted = rt.calls().iter().filter(|c| c.faulted).count();
    assert_eq!(faulted, 3, "{:#?}", rt.call_log());
    assert_eq!(cos.objects().len(), 2);
    bin.stop(Duration::from_secs(3)).await;
    assert_clean(&rt, &cos);
}

/// A 5xx on an answer post means the platform did not record the answer (a proxy or a
/// restarting runtime API); like a reset, it should be retried.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_error_on_an_answer_post_is_retried() {
    use common::fake_runtime::{Endpoint, Fault as ApiFault};
    let (rt, cos) = start().await;
    let mut bin = Binary::start(&[], &env_for(&rt, &cos));
    rt.wait_idle_poll(WAIT).await;
    rt.inject_faults(Endpoint::Response, ApiFault::Status(502), 1);
    rt.inject_faults(Endpoint::Error, ApiFault::Status(503), 1);
    let first = rt.push_event(event("t-5xx"));
    let second = rt.push_event(b"42".to_vec());
    let outs = rt.wait_results(2, WAIT).await;
    assert_eq!(
        outs.iter()
            .map(|o| (o.request_id.clone(), o.kind))
            .collect::<Vec<_>>(),
        [(first, Kind::Response), (second, Kind::Error)]
    );
    bin.stop(Duration::from_secs(3)).await;
    assert_clean(&rt, &cos);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_cos_put_is_answered_within_the_time_limit() {
    let (rt, cos) = start().await;
    let mut bin = Binary::start(&[], &env_for(&rt, &cos));
    rt.wait_idle_poll(WAIT).await;
    cos.set_rates(FaultRates {
        stall: 1.0,
        stall_for: Duration::from_secs(5),
        ..FaultRates::default()
    });
    rt.push_event_with(event("t-stall"), Some(1500), HeaderStyle::Lower);
    let outs = rt.wait_results(1, WAIT).await;
    let took = outs[0].at - rt.deliveries()[0].at;
    assert_eq!(outs[0].kind, Kind::Error, "{}", outs[0].text());
    assert!(outs[0].text().contains("COS"), "{}", outs[0].text());
    assert!(
        took < Duration::from_millis(1500),
        "answered after the platform's kill time: {took:?}"
    );
    assert!(cos.objects().is_empty());
    bin.stop(Duration::from_secs(3)).await;
    assert_clean(&rt, &cos);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_while_the_runtime_api_is_down_exits_zero() {
    let (rt, cos) = start().await;
    let mut bin = Binary::start(&[], &env_for(&rt, &cos));
    rt.wait_idle_poll(WAIT).await;
    rt.go_down().await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    bin.sigterm();
    let status = bin.wait_exit_async(Duration::from_secs(2)).await;
    assert_eq!(status.and_then(|s| s.code()), Some(0), "{status:?}");
    rt.come_back().await;
    assert_clean(&rt, &cos);
}
