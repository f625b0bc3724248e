//! 300 distinct MPS events through the real binary (started by `bootstrap`) against a fake
//! COS that fails 45 % of PUTs (30 % 5xx, 10 % resets, 5 % stalls longer than
//! the time limit), with the test playing the SCF platform: asynchronous invocation, 2 retries
//! (3 deliveries at most) after an error post or a timeout, SIGKILL + restart of an instance
//! that overruns `time_limit_in_ms`.
//!
//! Nothing is weakened for the odds: every event must end archived. Why that is fair: with the
//! client's `RetryPolicy` (8 attempts, 50 ms..1 s full-jitter backoff, attempt time = half the
//! remaining budget, >= 200 ms) and a 2000 ms limit (1700 ms of PUT budget) a Monte Carlo of
//! the policy gives a per-delivery failure probability of about 1.1 %, so an event is lost
//! (3 failed deliveries) with p ~ 1.2e-6 and any of 300 with p ~ 4e-4. The fake's fault draws
//! are seeded (same seed, same sequence of faults); only the client's backoff jitter varies.
//!
//! The binary keeps its own deadline, so COS stalls alone never make it overrun the platform's
//! limit; three answer posts swallowed by the runtime API (stalled) do, which drives the
//! kill / restart / redeliver path (and an idempotent overwrite of an already stored key).
mod common;

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use serde_json::Value;

use common::binary::Binary;
use common::fake_cos::{FakeCos, FaultRates};
use common::fake_runtime::{Endpoint, FakeRuntime, Fault, HeaderStyle, Kind};
use common::fixtures;
use common::scf_platform::{cos_options, env_for, md5_hex, verify_success, CREDENTIALS};

const EVENTS: usize = 300;
const TIME_LIMIT_MS: u64 = 2000;
/// Past arrival + limit + this, the platform kills the instance.
const GRACE: Duration = Duration::from_millis(300);
/// SCF's default for asynchronous invocations: 2 retries.
const MAX_DELIVERIES: u32 = 3;
const SUITE_LIMIT: Duration = Duration::from_secs(90);
/// After this many successes the runtime API swallows one answer post (stalls it), so the
/// binary overruns its time limit and the platform's kill/restart/redeliver path really runs.
const SWALLOW_ANSWER_AT: [u32; 3] = [60, 160, 260];

/// 300 distinct events: the fixtures round-robin, each with its own TaskId.
fn events() -> Vec<Value> {
    let fixtures = fixtures::all();
    (0..EVENTS)
        .map(|i| {
            let (name, mut v) = fixtures[i % fixtures.len()].clone();
            let obj = v.as_object_mut().expect("fixture is an object");
            let mut set = 0;
            for (k, inner) in obj.iter_mut() {
                if k.ends_with("TaskEvent") {
                    if let Some(inner) = inner.as_object_mut() {
                        let old = inner
                            .get("TaskId")
                            .and_then(Value::as_str)
                            .unwrap_or("task")
                            .to_string();
                        inner.insert("TaskId".into(), Value::String(format!("{old}-f{i:03}")));
                        set += 1;
                    }
                }
            }
            assert!(set > 0, "{name}: no *TaskEvent object to give a TaskId");
            v
        })
        .collect()
}

#[derive(Default)]
struct Track {
    deliveries: u32,
    errors: u32,
    timeouts: u32,
    successes: u32,
    key: Option<String>,
    lost: bool,
}

#[derive(Default, Debug)]
struct Counts {
    deliveries: u32,
    error_posts: u32,
    retries: u32,
    timeouts: u32,
    restarts: u32,
    successes: u32,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_hundred_events_survive_cos_faults_retries_and_timeouts() {
    let started = Instant::now();
    let rt = FakeRuntime::start().await;
    let mut opts = cos_options();
    opts.seed = 0x5eed_2026;
    opts.rates = FaultRates {
        internal_error: 0.15,
        slow_down: 0.15,
        reset: 0.10,
        stall: 0.05,
        stall_for: Duration::from_secs(5),
        ..FaultRates::default()
    };
    let cos = FakeCos::start(opts).await;
    let env = env_for(&rt, &cos);

    let originals = events();
    let bodies: Vec<Vec<u8>> = originals
        .iter()
        .map(|v| serde_json::to_vec(v).expect("serialize event"))
        .collect();
    let mut track: Vec<Track> = (0..EVENTS).map(|_| Track::default()).collect();
    let mut by_id: HashMap<String, usize> = HashMap::new();
    let mut counts = Counts::default();

    let deliver = |i: usize,
                   track: &mut Vec<Track>,
                   by_id: &mut HashMap<String, usize>,
                   counts: &mut Counts| {
        let id = rt.push_event_with(bodies[i].clone(), Some(TIME_LIMIT_MS), HeaderStyle::Lower);
        by_id.insert(id, i);
        track[i].deliveries += 1;
        counts.deliveries += 1;
    };
    // A delivery ended in failure (error post or timeout): redeliver while retries are left.
    let failed = |i: usize,
                  track: &mut Vec<Track>,
                  by_id: &mut HashMap<String, usize>,
                  counts: &mut Counts| {
        if track[i].deliveries < MAX_DELIVERIES {
            counts.retries += 1;
            deliver(i, track, by_id, counts);
        } else {
            track[i].lost = true;
        }
    };

    let mut instance = Binary::start(&[], &env);
    for i in 0..EVENTS {
        deliver(i, &mut track, &mut by_id, &mut counts);
    }

    let mut seen = 0usize;
    let mut swallow = SWALLOW_ANSWER_AT.iter().peekable();
    let mut problems: Vec<String> = Vec::new();
    loop {
        let outcomes = rt.results();
        for o in &outcomes[seen..] {
            let i = *by_id
                .get(&o.request_id)
                .unwrap_or_else(|| panic!("answer for unknown request {}", o.request_id));
            match o.kind {
                Kind::Response => {
                    // Checked at the moment the answer is seen: the bucket must hold it already.
                    counts.successes += 1;
                    track[i].successes += 1;
                    match verify_success(&cos, &o.json(), &originals[i]) {
                        Ok(key) => {
                            if let Some(prev) = &track[i].key {
                                if *prev != key {
                                    problems.push(format!(
                                        "event {i}: answered key {key:?} after {prev:?}"
                                    ));
                                }
                            }
                            track[i].key = Some(key);
                        }
                        Err(e) => problems.push(format!("event {i} ({}): {e}", o.request_id)),
                    }
                }
                Kind::Error => {
                    counts.error_posts += 1;
                    track[i].errors += 1;
                    let text = o.text();
                    // The only failures this suite provokes: COS giving up, or the deadline.
                    if !text.starts_with("COS PUT ") && !text.contains("time limit") {
                        problems.push(format!("event {i}: unexpected error post {text:?}"));
                    }
                    failed(i, &mut track, &mut by_id, &mut counts);
                }
            }
        }
        seen = outcomes.len();
        if swallow.next_if(|&&n| counts.successes >= n).is_some() {
            rt.inject_faults(Endpoint::Response, Fault::Stall(Duration::from_secs(10)), 1);
        }

        // The platform's timeout: no answer by arrival + limit (+ grace) kills the instance.
        if let Some(id) = rt.in_flight() {
            let arrived = rt
                .deliveries()
                .iter()
                .rev()
                .find(|d| d.request_id == id)
                .map(|d| d.at)
                .expect("in-flight request was delivered");
            if arrived.elapsed() > Duration::from_millis(TIME_LIMIT_MS) + GRACE {
                instance.kill().await;
                // Let any answer already in the socket buffers land before judging.
                tokio::time::sleep(Duration::from_millis(50)).await;
                if let Some(abandoned) = rt.restart_instance() {
                    let i = by_id[&abandoned];
                    counts.timeouts += 1;
                    track[i].timeouts += 1;
                    failed(i, &mut track, &mut by_id, &mut counts);
                }
                counts.restarts += 1;
                instance.restart();
            }
        }
        if let Some(status) = instance.exited() {
            panic!(
                "the binary died on its own ({status}); log tail:\n{}",
                instance.output_tail(20)
            );
        }

        let open = track.iter().filter(|t| t.successes == 0 && !t.lost).count();
        if open == 0 {
            break;
        }
        if started.elapsed() > SUITE_LIMIT {
            instance.kill().await;
            panic!(
                "suite exceeded {SUITE_LIMIT:?} with {open} events open; counts {counts:?}; \
                 log tail:\n{}",
                instance.output_tail(20)
            );
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let elapsed = started.elapsed();
    let alive = instance.exited().is_none();
    instance.kill().await;

    let stats = cos.stats();
    let objects = cos.objects();
    let overwritten: Vec<(&String, u32)> = objects
        .iter()
        .filter(|(_, o)| o.put_count > 1)
        .map(|(k, o)| (k, o.put_count))
        .collect();
    let max_deliveries = track.iter().map(|t| t.deliveries).max().unwrap_or(0);
    println!(
        "fault suite: {EVENTS} events in {:.1} s; deliveries {}, error posts {}, retries {}, \
         timeouts {}, restarts {}, successes {}; max deliveries of one event {max_deliveries}; \
         COS PUT attempts {} (faults {}, stored {}, ok {}); objects {}; keys written more \
         than once {}; verification failures {}",
        elapsed.as_secs_f64(),
        counts.deliveries,
        counts.error_posts,
        counts.retries,
        counts.timeouts,
        counts.restarts,
        counts.successes,
        stats.requests,
        stats.faults,
        stats.stored,
        stats.ok,
        objects.len(),
        overwritten.len(),
        stats.verification_failures,
    );
    for (k, n) in &overwritten {
        println!("  overwritten (idempotent): {k} x{n}");
    }

    assert!(problems.is_empty(), "{problems:#?}");
    let lost: Vec<usize> = (0..EVENTS).filter(|&i| track[i].lost).collect();
    assert!(
        lost.is_empty(),
        "events lost after {MAX_DELIVERIES} failed deliveries: {lost:?}"
    );
    for (i, t) in track.iter().enumerate() {
        assert_eq!(
            t.successes, 1,
            "event {i} answered with success {} times",
            t.successes
        );
        let key = t.key.as_deref().expect("success has a key");
        // Final state of the bucket, too (a later overwrite must not have broken it).
        verify_success(
            &cos,
            &serde_json::json!({
                "key": key,
                "bytes": objects[key].body.len(),
                "etag": md5_hex(&objects[key].body),
            }),
            &originals[i],
        )
        .unwrap_or_else(|e| panic!("event {i} at the end: {e}"));
    }
    let keys: HashSet<&str> = track.iter().filter_map(|t| t.key.as_deref()).collect();
    assert_eq!(
        keys.len(),
        EVENTS,
        "distinct events must have distinct keys"
    );
    assert_eq!(
        objects.len(),
        EVENTS,
        "one object per distinct event, no strays or duplicates"
    );
    assert!(
        cos.verification_failures().is_empty(),
        "{:#?}",
        cos.verification_failures()
    );
    assert_eq!(stats.verification_failures, 0);
    rt.assert_clean();
    instance.assert_never_wrote(&CREDENTIALS);
    assert!(alive, "the binary must still be running at the end");
    // The faults really happened (the suite cannot pass vacuously).
    assert!(stats.faults > 100, "too few faults injected: {stats:?}");
    assert_eq!(
        counts.timeouts as usize,
        SWALLOW_ANSWER_AT.len(),
        "each swallowed answer must end in exactly one platform timeout"
    );
    assert_eq!(counts.restarts, counts.timeouts);
    assert_eq!(rt.timed_out().len(), SWALLOW_ANSWER_AT.len());
}
