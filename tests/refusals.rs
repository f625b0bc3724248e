//! Refusals through the real binary in runtime mode: a missing permission (COS `AccessDenied`,
//! Cloud API `AuthFailure.UnauthorizedOperation`) is an error post for that event only, naming
//! the action the role lacks and on what, and the instance takes the next event; a refusal of
//! the credentials themselves (an expired token) still ends the instance with exit 1.
mod common;

use std::time::Duration;

use serde_json::Value;

use common::binary::Binary;
use common::fake_cloudapi::{ApiFault, FakeCloudApi, FakeCloudApiOptions};
use common::fake_cos::{FakeCos, Fault};
use common::fake_runtime::{FakeRuntime, Kind};
use common::fixtures;
use common::scf_platform::{
    assert_clean, env_for, set_env, start, BUCKET, SECRET_ID, SECRET_KEY, TOKEN,
};

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
    let api = FakeCloudApi::start(FakeCloudApiOptions {
        secret_id: SECRET_ID.into(),
        secret_key: SECRET_KEY.into(),
        session_token: Some(TOKEN.into()),
        ..FakeCloudApiOptions::default()
    })
    .await;
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
        t.contains("credentials rejected") && t.contains("AuthFailure.TokenFailure"),
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
