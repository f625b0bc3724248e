//! Forwarding through the real binary: 150 callbacks, each archived in COS and forwarded to
//! an SCF function (through the verifying fake Cloud API) and to a webhook that checks MPS
//! signatures, while the targets fail 20 % of requests (5xx / `InternalError`) and reset 5 %
//! of connections, and COS fails 10 %. The test plays the platform (2 retries after an error).
//!
//! What must hold: every event ends archived; every event answered with success had already
//! reached every target, the function byte for byte as received and the webhook as received
//! but for its fresh `Timestamp`/`Sign`; no TC3 signature was rejected; no credential or
//! notify key reached the binary's output.
mod common;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use common::binary::Binary;
use common::fake_cloudapi::{ApiFaultRates, FakeCloudApi, FakeCloudApiOptions};
use common::fake_cos::{FakeCos, FaultRates};
use common::fake_runtime::{FakeRuntime, HeaderStyle, Kind};
use common::fake_webhook::{without_signature, FakeWebhook, FakeWebhookOptions, HookFaultRates};
use common::fixtures;
use common::scf_platform::{
    assert_clean, cos_options, env_for, role_cloud_api, role_cloud_api_options, set_env,
    verify_success, CREDENTIALS, SECRET_ID, SECRET_KEY, TOKEN,
};
use serde_json::Value;

const EVENTS: usize = 150;
const TIME_LIMIT_MS: u64 = 3000;
const MAX_DELIVERIES: u32 = 3;
const NOTIFY_KEY: &str = "suiteNotifyKeyValue0000";
const SUITE_LIMIT: Duration = Duration::from_secs(90);

fn events() -> Vec<Vec<u8>> {
    let all = fixtures::all();
    (0..EVENTS)
        .map(|i| {
            let (_, mut v) = all[i % all.len()].clone();
            if let Some(obj) = v.as_object_mut() {
                obj.insert(
                    "SessionId".into(),
                    Value::String(format!("fwd-session-{i:03}")),
                );
            }
            serde_json::to_vec(&v).expect("serialize event")
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_callback_is_archived_and_forwarded_before_success() {
    let started = Instant::now();
    let rt = FakeRuntime::start().await;
    let mut cos_opts = cos_options();
    cos_opts.seed = 0xf0d0;
    cos_opts.rates = FaultRates {
        internal_error: 0.05,
        slow_down: 0.03,
        reset: 0.02,
        ..FaultRates::default()
    };
    let cos = FakeCos::start(cos_opts).await;
    let api = FakeCloudApi::start(FakeCloudApiOptions {
        region: "ap-guangzhou".into(),
        functions: Some(vec![(
            "default".into(),
            "biz-handler".into(),
            "$LATEST".into(),
        )]),
        rates: ApiFaultRates {
            internal_error: 0.10,
            http_5xx: 0.10,
            reset: 0.05,
            ..ApiFaultRates::default()
        },
        seed: 0xa91,
        ..role_cloud_api_options()
    })
    .await;
    let hook = FakeWebhook::start(FakeWebhookOptions {
        notify_key: Some(NOTIFY_KEY.into()),
        rates: HookFaultRates {
            http_5xx: 0.20,
            reset: 0.05,
            ..HookFaultRates::default()
        },
        seed: 0x40c,
    })
    .await;

    let mut env = env_for(&rt, &cos);
    let webhook_url = format!("{}/mps/callback", hook.url());
    set_env(
        &mut env,
        "ARCHIVE_FORWARD",
        &format!("scf:biz-handler,{webhook_url}"),
    );
    set_env(&mut env, "FORWARD_SCF_ENDPOINT", &api.url());
    set_env(&mut env, "FORWARD_SCF_REGION", "ap-guangzhou");
    set_env(&mut env, "FORWARD_NOTIFY_KEY", NOTIFY_KEY);
    let mut bin = Binary::start(&[], &env);

    let bodies = events();
    let originals: Vec<Value> = bodies
        .iter()
        .map(|b| serde_json::from_slice(b).expect("event JSON"))
        .collect();
    let mut by_id: HashMap<String, usize> = HashMap::new();
    let mut deliveries = [0u32; EVENTS];
    let mut done = [false; EVENTS];
    let deliver = |i: usize, deliveries: &mut [u32; EVENTS]| {
        let id = rt.push_event_with(bodies[i].clone(), Some(TIME_LIMIT_MS), HeaderStyle::Lower);
        deliveries[i] += 1;
        id
    };
    for i in 0..EVENTS {
        let id = deliver(i, &mut deliveries);
        by_id.insert(id, i);
    }

    let (mut seen, mut error_posts, mut problems) = (0usize, 0u32, Vec::new());
    while done.iter().any(|d| !d) {
        assert!(
            started.elapsed() < SUITE_LIMIT,
            "suite exceeded {SUITE_LIMIT:?}; log tail:\n{}",
            bin.output_tail(10)
        );
        if let Some(status) = bin.exited() {
            panic!("the binary died ({status}):\n{}", bin.output_tail(10));
        }
        let outcomes = rt.results();
        for o in &outcomes[seen..] {
            let i = by_id[&o.request_id];
            match o.kind {
                Kind::Response => {
                    let answer = o.json();
                    if let Err(e) = verify_success(&cos, &answer, &originals[i]) {
                        problems.push(format!("event {i}: {e}"));
                    }
                    // At the moment success is seen, both targets must hold the callback.
                    let sent = String::from_utf8_lossy(&bodies[i]).into_owned();
                    if !api.deliveries().iter().any(|d| d.client_context == sent) {
                        problems.push(format!("event {i}: success before the function got it"));
                    }
                    let unsigned = without_signature(&bodies[i]);
                    let hooked = hook
                        .delivered()
                        .iter()
                        .any(|b| unsigned.is_some() && without_signature(b) == unsigned);
                    if !hooked {
                        problems.push(format!("event {i}: success before the webhook got it"));
                    }
                    let forwarded = answer["forwarded"].as_array().map_or(0, Vec::len);
                    if forwarded != 2 {
                        problems.push(format!("event {i}: answer lists {forwarded} forwards"));
                    }
                    done[i] = true;
                }
                Kind::Error => {
                    error_posts += 1;
                    if deliveries[i] < MAX_DELIVERIES {
                        let id = deliver(i, &mut deliveries);
                        by_id.insert(id, i);
                    } else {
                        problems.push(format!("event {i} lost: {}", o.text()));
                        done[i] = true;
                    }
                }
            }
        }
        seen = outcomes.len();
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    bin.stop(Duration::from_secs(5)).await;

    let api_stats = api.stats();
    let hook_stats = hook.stats();
    println!(
        "forwarding suite: {EVENTS} events in {:.1} s; error posts {error_posts}; COS {:?}; \
         Cloud API {api_stats:?}; webhook {hook_stats:?}",
        started.elapsed().as_secs_f64(),
        cos.stats(),
    );
    assert!(problems.is_empty(), "{problems:#?}");
    assert_eq!(api_stats.signature_failures, 0, "TC3 signatures rejected");
    assert!(
        api.verification_failures().is_empty(),
        "{:?}",
        api.verification_failures()
    );
    assert!(
        hook.verification_failures().is_empty(),
        "{:?}",
        hook.verification_failures()
    );
    assert!(
        api_stats.faults > 0 && hook_stats.faults > 0,
        "faults were injected"
    );
    let mut secrets: Vec<&str> = CREDENTIALS.to_vec();
    // The notify key, and the webhook URL's query (a receiver's token).
    secrets.extend([NOTIFY_KEY, "hook-secret-token"]);
    bin.assert_never_wrote(&secrets);
    assert_clean(&rt, &cos);
}

/// `invoke` forwards as runtime mode does; a callback too large for an asynchronous `Invoke`
/// (128 KB, possible only through `invoke`) fails for that target with a clear error, while
/// the archive write and the other target still happen.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invoke_forwards_and_a_callback_too_large_for_invoke_is_still_archived() {
    let api = role_cloud_api().await;
    let hook = FakeWebhook::start(FakeWebhookOptions::default()).await;
    let dir = std::env::temp_dir().join(format!("mcb-fwd-invoke-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut big = fixtures::json("minimal.json");
    big["SessionContext"] = Value::String("x".repeat(140 * 1024));
    let small = fixtures::json("minimal.json");
    let files = [("big.json", &big), ("small.json", &small)];
    for (name, v) in files {
        std::fs::create_dir_all(&dir).expect("temp dir");
        std::fs::write(dir.join(name), serde_json::to_vec(v).expect("json")).expect("write");
    }
    let env = [
        ("TENCENTCLOUD_SECRETID", SECRET_ID.to_string()),
        ("TENCENTCLOUD_SECRETKEY", SECRET_KEY.to_string()),
        ("TENCENTCLOUD_SESSIONTOKEN", TOKEN.to_string()),
        ("TENCENTCLOUD_REGION", "ap-guangzhou".to_string()),
        ("FORWARD_SCF_ENDPOINT", api.url()),
        ("ARCHIVE_FORWARD", format!("scf:biz-handler,{}", hook.url())),
    ];
    let local = dir.join("mirror");
    // An explicit --local must be an existing directory.
    std::fs::create_dir_all(&local).expect("mirror dir");
    let (big_file, small_file) = (dir.join("big.json"), dir.join("small.json"));
    let args = [
        "invoke",
        "--local",
        local.to_str().expect("utf-8 path"),
        big_file.to_str().expect("utf-8 path"),
        small_file.to_str().expect("utf-8 path"),
    ];
    let mut bin = Binary::start(&args, &env);
    let status = bin.wait_exit_async(Duration::from_secs(20)).await;
    assert_eq!(
        status.and_then(|s| s.code()),
        Some(1),
        "{}",
        bin.output_tail(5)
    );
    let results: Vec<Value> = bin
        .stdout_lines()
        .iter()
        .map(|l| serde_json::from_str(l).expect("one JSON result line per event"))
        .collect();
    assert_eq!(results.len(), 2, "{results:?}");
    assert_eq!(results[0]["ok"], false);
    let error = results[0]["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("scf:default/biz-handler") && error.contains("131072-byte"),
        "the error names the target and the limit: {error}"
    );
    assert_eq!(results[1]["ok"], true, "{}", results[1]);
    assert_eq!(
        results[1]["result"]["forwarded"].as_array().map(Vec::len),
        Some(2)
    );
    // Both records are in the mirror; the big one reached the webhook but not the function.
    let stored = walk(&local);
    assert_eq!(stored.len(), 2, "{stored:?}");
    assert_eq!(api.deliveries().len(), 1);
    assert_eq!(hook.delivered().len(), 2);
    let _ = std::fs::remove_dir_all(&dir);
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

/// A target that is the running function itself would turn one callback into invocations
/// without end: runtime mode refuses it at start (exit 2, before `init/ready`, so the platform
/// keeps the event), whatever qualifier the target names, and invokes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_target_that_is_the_function_itself_is_refused_at_start() {
    let (rt, cos) = common::scf_platform::start().await;
    let api = role_cloud_api().await;
    for (namespace, target) in [
        (None, "scf:mps-archive"),
        (None, "scf:default/mps-archive:prod"),
        (Some("media"), "scf:media/mps-archive:$LATEST"),
    ] {
        rt.push_event(fixtures::bytes("minimal.json"));
        let mut env = env_for(&rt, &cos);
        set_env(&mut env, "SCF_FUNCTIONNAME", "mps-archive");
        set_env(&mut env, "TENCENTCLOUD_REGION", "ap-guangzhou");
        if let Some(ns) = namespace {
            set_env(&mut env, "SCF_NAMESPACE", ns);
        }
        set_env(&mut env, "ARCHIVE_FORWARD", target);
        set_env(&mut env, "FORWARD_SCF_ENDPOINT", &api.url());
        let mut bin = Binary::start(&[], &env);
        let status = bin.wait_exit_async(Duration::from_secs(10)).await;
        assert_eq!(
            status.and_then(|s| s.code()),
            Some(2),
            "{target}: {}",
            bin.output_tail(5)
        );
        let out = bin.output_tail(5);
        assert!(
            out.contains("ARCHIVE_FORWARD") && out.contains("this function itself"),
            "{target}: the line names the variable and why: {out}"
        );
    }
    assert_eq!(rt.ready_count(), 0, "refused before init/ready");
    assert!(api.deliveries().is_empty(), "nothing was invoked");
    assert!(cos.objects().is_empty(), "nothing was stored");
}
