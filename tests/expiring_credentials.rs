//! Temporary credentials that run out while an instance lives: 200 events, each instance's
//! session token good for 40 writes, the test playing the SCF platform (fresh credentials for
//! every instance it starts, 2 retries after an error post).
//!
//! What must hold: every event ends archived, no invocation overruns its time limit, and the
//! instance that meets a refused token posts one error and stops, so there are no more error
//! posts than instances started.
mod common;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use common::binary::{Binary, Package};
use common::fake_cos::FakeCos;
use common::fake_runtime::{FakeRuntime, HeaderStyle, Kind};
use common::fixtures;
use common::scf_platform::{assert_clean, cos_options, env_for, set_env, verify_success};
use serde_json::Value;

const EVENTS: usize = 200;
const WRITES_PER_TOKEN: u64 = 40;
const TIME_LIMIT_MS: u64 = 3000;
const MAX_DELIVERIES: u32 = 3;
const SUITE_LIMIT: Duration = Duration::from_secs(60);

fn events() -> Vec<Value> {
    let base = fixtures::json("workflow-finish-success.json");
    (0..EVENTS)
        .map(|i| {
            let mut v = base.clone();
            v["WorkflowTaskEvent"]["TaskId"] = Value::String(format!("expiring-{i:03}"));
            v
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_event_is_archived_across_expiring_tokens() {
    let started = Instant::now();
    let rt = FakeRuntime::start().await;
    let mut opts = cos_options();
    opts.token_expires_after_writes = Some(WRITES_PER_TOKEN);
    let cos = FakeCos::start(opts).await;
    let pkg = Package::new("expiring");

    let originals = events();
    let mut by_id: HashMap<String, usize> = HashMap::new();
    let mut deliveries = vec![0u32; EVENTS];
    let mut done = [false; EVENTS];
    let deliver = |i: usize, deliveries: &mut Vec<u32>, by_id: &mut HashMap<String, usize>| {
        let body = serde_json::to_vec(&originals[i]).expect("serialize event");
        let id = rt.push_event_with(body, Some(TIME_LIMIT_MS), HeaderStyle::Lower);
        by_id.insert(id, i);
        deliveries[i] += 1;
    };
    for i in 0..EVENTS {
        deliver(i, &mut deliveries, &mut by_id);
    }

    let mut instances = 1u32;
    let token = |n: u32| format!("expiringSessionToken{n:04}");
    cos.issue_token(&token(instances));
    let mut env = env_for(&rt, &cos);
    set_env(&mut env, "TENCENTCLOUD_SESSIONTOKEN", &token(instances));
    let mut bin = Binary::start_in(&pkg, &[], &env);

    let (mut seen, mut error_posts, mut overruns) = (0usize, 0u32, Vec::new());
    let mut problems = Vec::new();
    while done.iter().any(|d| !d) {
        assert!(
            started.elapsed() < SUITE_LIMIT,
            "suite exceeded {SUITE_LIMIT:?}: {} of {EVENTS} done, {instances} instances, \
             {error_posts} error posts; log tail:\n{}",
            done.iter().filter(|d| **d).count(),
            bin.output_tail(10)
        );
        let delivered: HashMap<String, Instant> = rt
            .deliveries()
            .into_iter()
            .map(|d| (d.request_id, d.at))
            .collect();
        let outcomes = rt.results();
        for o in &outcomes[seen..] {
            let i = by_id[&o.request_id];
            let took = o.at.duration_since(delivered[&o.request_id]);
            if took > Duration::from_millis(TIME_LIMIT_MS) {
                overruns.push(format!("event {i} answered after {took:?}"));
            }
            match o.kind {
                Kind::Response => match verify_success(&cos, &o.json(), &originals[i]) {
                    Ok(_) => done[i] = true,
                    Err(e) => problems.push(format!("event {i}: {e}")),
                },
                Kind::Error => {
                    error_posts += 1;
                    let text = o.text();
                    if !text.contains("credentials refused") {
                        problems.push(format!("event {i}: unexpected error {text:?}"));
                    }
                    if deliveries[i] < MAX_DELIVERIES {
                        deliver(i, &mut deliveries, &mut by_id);
                    } else {
                        problems.push(format!("event {i}: lost after {MAX_DELIVERIES} deliveries"));
                        done[i] = true;
                    }
                }
            }
        }
        seen = outcomes.len();
        // The instance stopped itself: the platform starts a fresh one with fresh credentials.
        if let Some(status) = bin.exited() {
            assert_eq!(status.code(), Some(1), "{}", bin.output_tail(5));
            rt.restart_instance();
            instances += 1;
            cos.issue_token(&token(instances));
            set_env(&mut env, "TENCENTCLOUD_SESSIONTOKEN", &token(instances));
            bin = Binary::start_in(&pkg, &[], &env);
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    bin.kill().await;

    println!(
        "expiring credentials: {EVENTS} events, {instances} instances, {error_posts} error \
         posts, {} COS objects in {:.1} s",
        cos.objects().len(),
        started.elapsed().as_secs_f64()
    );
    assert!(problems.is_empty(), "{problems:#?}");
    assert!(overruns.is_empty(), "{overruns:#?}");
    assert_eq!(cos.objects().len(), EVENTS);
    assert!(
        error_posts <= instances,
        "{error_posts} error posts from {instances} instances"
    );
    // 200 writes at 40 a token: at least 5 tokens were used.
    assert!(instances >= 5, "{instances} instances");
    assert_clean(&rt, &cos);
}
