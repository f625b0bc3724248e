//! Refusals through the real binary in runtime mode: a missing permission (COS `AccessDenied`,
//! Cloud API `AuthFailure.UnauthorizedOperation`) is an error post for that event only, naming
//! the action the role lacks and on what, and the instance takes the next event; a refusal of
//! the credentials themselves (an expired token) still ends the instance with exit 1.
mod common;

use std::time::Duration;

use serde_json::Value;

use common::binary::Binary;
use common::fake_cloudapi::{ApiFault, FakeCloudApi};
use common::fake_cos::{FakeCos, Fault};
use common::fake_runtime::{FakeRuntime, Kind};
use common::fixtures;
use common::scf_platform::{assert_clean, env_for, role_cloud_api, set_env, start, BUCKET};

const WAIT: Duration = Duration::from_secs(10);
const TARGET: &str = "scf:default/biz-handler:$LATEST";

fn body(v: &Value) -> Vec<u8> {
    serde_json::to_vec(v).expect("serialize event")
}

/// No line of the binary says it stops the instance.
fn assert_no_stop_line(bin: &Binary) {
    let stops: Vec<String> = bin
        .json_lines()
        .iter()
        .filter(|l| {
            l["message"]
                .as_str()
                .is_some_and(|m| m.contains("stopping this instance"))
        })
        .map(ToString::to_string)
        .collect();
    assert!(stops.is_empty(), "{stops:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cos_access_denied_fails_that_event_and_the_instance_takes_the_next() {
    let (rt, cos) = start().await;
    let mut bin = Binary::start(&[], &env_for(&rt, &cos));
    let event = fixtures::json("workflow-url-input.json");
    cos.push_faults([Fault::AccessDenied]);
    rt.push_event(body(&event));
    // The platform's retry of the same event, once the policy is fixed.
    rt.push_event(body(&event));
    let outs = rt.wait_results(2, WAIT).await;
    assert_eq!(outs[0].kind, Kind::Error, "{}", outs[0].text());
    assert_eq!(outs[1].kind, Kind::Response, "{}", outs[1].text());
    let key = outs[1].json()["key"]
        .as_str()
        .expect("the response names the key")
        .to_string();
    let t = outs[0].text();
    assert!(
        t.contains(&format!("the role lacks cos:PutObject on {BUCKET}/{key}")),
        "names the action and the object: {t}"
    );
    assert!(t.contains("403 AccessDenied"), "{t}");
    assert!(!t.contains("credentials"), "not a credentials refusal: {t}");
    assert_eq!(cos.request_count(), 2, "not retried within the invocation");
    assert!(bin.exited().is_none(), "{}", bin.output_tail(5));
    assert_no_stop_line(&bin);
    bin.stop(Duration::from_secs(3)).await;
    assert_clean(&rt, &cos);
}

/// A runtime, a COS, a Cloud API expecting the role's credentials, and the binary forwarding
/// every callback to [`TARGET`].
async fn forwarding() -> (FakeRuntime, FakeCos, FakeCloudApi, Binary) {
    let (rt, cos) = start().await;
    let api = role_cloud_api().await;
    let mut env = env_for(&rt, &cos);
    set_env(&mut env, "ARCHIVE_FORWARD", "scf:biz-handler");
    set_env(&mut env, "FORWARD_SCF_ENDPOINT", &api.url());
    set_env(&mut env, "FORWARD_SCF_REGION", "ap-guangzhou");
    let bin = Binary::start(&[], &env);
    (rt, cos, api, bin)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scf_unauthorized_operation_fails_that_event_and_the_instance_takes_the_next() {
    let (rt, cos, api, mut bin) = forwarding().await;
    api.push_faults([ApiFault::ApiErrorWithMessage(
        "AuthFailure.UnauthorizedOperation".into(),
        "you are not authorized to perform operation (scf:InvokeFunction)".into(),
    )]);
    rt.push_event(body(&fixtures::json("workflow-url-input.json")));
    rt.push_event(body(&fixtures::json("minimal.json")));
    let outs = rt.wait_results(2, WAIT).await;
    assert_eq!(outs[0].kind, Kind::Error, "{}", outs[0].text());
    let t = outs[0].text();
    assert!(
        t.contains(&format!("the role lacks scf:InvokeFunction on {TARGET}")),
        "names the action and the target: {t}"
    );
    assert!(t.contains("AuthFailure.UnauthorizedOperation"), "{t}");
    assert_eq!(outs[1].kind, Kind::Response, "{}", outs[1].text());
    assert_eq!(
        api.deliveries().len(),
        1,
        "the second callback was forwarded"
    );
    assert!(bin.exited().is_none(), "{}", bin.output_tail(5));
    assert_no_stop_line(&bin);
    bin.stop(Duration::from_secs(3)).await;
    assert_clean(&rt, &cos);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scf_expired_token_still_ends_the_instance() {
    let (rt, cos, api, mut bin) = forwarding().await;
    api.push_faults([ApiFault::TokenExpired]);
    rt.push_event(body(&fixtures::json("workflow-url-input.json")));
    // Left for the fresh instance the platform starts: never taken by this one.
    rt.push_event(body(&fixtures::json("minimal.json")));
    let outs = rt.wait_results(1, WAIT).await;
    assert_eq!(outs[0].kind, Kind::Error);
    let t = outs[0].text();
    assert!(
        t.contains("credentials refused") && t.contains("AuthFailure.TokenFailure"),
        "{t}"
    );
    let status = bin.wait_exit_async(Duration::from_secs(5)).await;
    assert_eq!(
        status.and_then(|s| s.code()),
        Some(1),
        "{}",
        bin.output_tail(5)
    );
    assert_eq!(rt.results().len(), 1, "the second event is not taken");
    assert_clean(&rt, &cos);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invoke_goes_on_after_a_missing_permission_and_stops_at_refused_credentials() {
    let cos = FakeCos::start(common::scf_platform::cos_options()).await;
    let dir = std::env::temp_dir().join(format!("mcb-refusals-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let files: Vec<String> = ["a", "b", "c"]
        .iter()
        .map(|name| {
            let mut v = fixtures::json("minimal.json");
            v["Tag"] = Value::String((*name).to_string());
            let path = dir.join(format!("{name}.json"));
            std::fs::write(&path, body(&v)).expect("write event");
            path.to_str().expect("utf-8 path").to_string()
        })
        .collect();
    let mut args = vec!["invoke"];
    args.extend(files.iter().map(String::as_str));
    let env = common::scf_platform::cos_env(&cos);

    // A missing permission fails that file only.
    cos.push_faults([Fault::AccessDenied]);
    let out = Binary::start(&args, &env).into_output(WAIT);
    assert_eq!(out.status.code(), Some(1));
    let lines: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON result line"))
        .collect();
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert_eq!(lines[0]["ok"], false);
    let error = lines[0]["error"].as_str().unwrap_or_default();
    assert!(
        error.contains(&format!("the role lacks cos:PutObject on {BUCKET}/")),
        "{error}"
    );
    assert!(
        lines[1]["ok"] == true && lines[2]["ok"] == true,
        "{lines:?}"
    );

    // Refused credentials stop before the remaining files.
    cos.push_faults([Fault::InvalidAccessKeyId]);
    let out = Binary::start(&args, &env).into_output(WAIT);
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    assert!(stdout.contains("credentials refused"), "{stdout}");
    let _ = std::fs::remove_dir_all(&dir);
}
