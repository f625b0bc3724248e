//! The Forwarder against the verifying fakes: every target gets every callback byte for byte
//! (re-signed as MPS does when a notify key is set), faults are retried, final answers name
//! their target, and no secret reaches a Debug or error text.
mod common;

use std::time::{Duration, Instant};

use bytes::Bytes;
use common::fake_cloudapi::{ApiFault, ApiFaultRates, FakeCloudApi, FakeCloudApiOptions};
use common::fake_webhook::{
    mps_signature, FakeWebhook, FakeWebhookOptions, HookFault, HookFaultRates,
};
use mps_cos_backup::cloudapi::client::CloudApiConfig;
use mps_cos_backup::credentials::Credentials;
use mps_cos_backup::forward::target::parse_targets;
use mps_cos_backup::forward::webhook::NotifyKey;
use mps_cos_backup::forward::{Forwarder, ForwarderConfig};
use mps_cos_backup::retry::RetryPolicy;
use mps_cos_backup::transport::HttpClient;

const TOKEN: &str = "SessionToken-forward-never-leak-99";
const KEY: &str = "notify-key-never-leak-31337";

fn fast_policy() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 10,
        base_backoff: Duration::from_millis(5),
        max_backoff: Duration::from_millis(40),
        max_attempt_time: Duration::from_secs(2),
        min_attempt_time: Duration::from_millis(50),
        reserve: Duration::from_millis(20),
    }
}

async fn fakes(api_rates: ApiFaultRates, hook: FakeWebhookOptions) -> (FakeCloudApi, FakeWebhook) {
    let api = FakeCloudApi::start(FakeCloudApiOptions {
        session_token: Some(TOKEN.into()),
        rates: api_rates,
        seed: 11,
        ..FakeCloudApiOptions::default()
    })
    .await;
    (api, FakeWebhook::start(hook).await)
}

fn forwarder(api: &FakeCloudApi, hook: &FakeWebhook, key: Option<&str>) -> Forwarder {
    let o = api.options();
    Forwarder::new(
        HttpClient::new(),
        ForwarderConfig {
            targets: parse_targets(&format!("scf:biz-handler, {}", hook.url())).unwrap(),
            scf: Some(CloudApiConfig {
                endpoint: api.url().parse().unwrap(),
                region: o.region.clone(),
                credentials: Credentials::new(&o.secret_id, &o.secret_key, o.session_token),
            }),
            notify_key: key.and_then(NotifyKey::new),
            policy: fast_policy(),
        },
    )
    .unwrap()
}

/// A callback as MPS sends it: a (stale) signature, numbers no float can hold, odd spacing.
fn callback(i: usize) -> Bytes {
    Bytes::from(format!(
        "{{\"EventType\":\"WorkflowTask\", \"WorkflowTaskEvent\": {{\"TaskId\":\"task-{i:04}\",\"Status\":\"FINISH\",\"Big\":123456789012345678901234567890{i},\"F\":1.50}},\n \"Timestamp\":1700000000,\"Sign\":\"00000000000000000000000000000000\"}}"
    ))
}

/// The re-signed `body` with its `Timestamp` and `Sign` values put back to `original`'s:
/// equal to `original` byte for byte when only those two values changed.
fn unsign(body: &[u8], original: &[u8]) -> Vec<u8> {
    fn value_at(b: &[u8], key: &str) -> std::ops::Range<usize> {
        let needle = format!("\"{key}\":");
        let start = b
            .windows(needle.len())
            .rposition(|w| w == needle.as_bytes())
            .expect("key present")
            + needle.len();
        let end = start
            + b[start..]
                .iter()
                .position(|c| matches!(c, b',' | b'}'))
                .expect("value end");
        start..end
    }
    let mut out = body.to_vec();
    for key in ["Sign", "Timestamp"] {
        let theirs = value_at(&out, key);
        let ours = value_at(original, key);
        out.splice(theirs, original[ours].iter().copied());
    }
    out
}

#[tokio::test]
async fn every_target_gets_every_callback_under_faults() {
    let (api, hook) = fakes(
        ApiFaultRates {
            internal_error: 0.15,
            http_5xx: 0.05,
            reset: 0.05,
            reset_after_delivery: 0.02,
            ..Default::default()
        },
        FakeWebhookOptions {
            notify_key: Some(KEY.into()),
            rates: HookFaultRates {
                http_5xx: 0.2,
                reset: 0.05,
                reset_after_delivery: 0.02,
                ..Default::default()
            },
            seed: 5,
        },
    )
    .await;
    let fwd = forwarder(&api, &hook, Some(KEY));
    let n = 40;
    for i in 0..n {
        let cb = callback(i);
        let results = fwd
            .forward(&cb, Instant::now() + Duration::from_secs(10))
            .await;
        assert_eq!(results.len(), 2);
        for r in &results {
            let d = r.as_ref().unwrap_or_else(|e| panic!("{e}"));
            assert!(d.attempts >= 1);
            assert!(d.request_id.is_some());
        }
        // Delivered before the answer: the last delivery of each target is this callback.
        let last = api.deliveries().pop().unwrap();
        assert_eq!(last.client_context.as_bytes(), &cb[..]);
        let body = hook.delivered().pop().unwrap();
        assert_eq!(
            unsign(&body, &cb),
            cb.to_vec(),
            "only Timestamp and Sign change"
        );
    }
    assert!(
        api.verification_failures().is_empty(),
        "{:?}",
        api.verification_failures()
    );
    assert_eq!(api.stats().signature_failures, 0);
    assert!(
        hook.verification_failures().is_empty(),
        "{:?}",
        hook.verification_failures()
    );
    assert!(api.stats().faults > 0 && hook.stats().faults > 0);
    assert!(api.deliveries().len() >= n && hook.delivered().len() >= n);
}

#[tokio::test]
async fn without_a_key_the_webhook_gets_the_exact_bytes() {
    let (api, hook) = fakes(ApiFaultRates::default(), FakeWebhookOptions::default()).await;
    let fwd = forwarder(&api, &hook, None);
    let cb = callback(1);
    let results = fwd
        .forward(&cb, Instant::now() + Duration::from_secs(5))
        .await;
    assert!(results.iter().all(Result::is_ok));
    assert_eq!(hook.delivered(), vec![cb.to_vec()]);
    let sent = &hook.received()[0];
    assert_eq!(sent.header("content-type"), Some("application/json"));
    assert_eq!(sent.target, "/hook?token=hook-secret-token");
}

#[tokio::test]
async fn resigned_callbacks_pass_an_mps_signature_check() {
    let (api, hook) = fakes(
        ApiFaultRates::default(),
        FakeWebhookOptions {
            notify_key: Some(KEY.into()),
            ..Default::default()
        },
    )
    .await;
    let fwd = forwarder(&api, &hook, Some(KEY));
    // No Timestamp or Sign in the callback: both are added.
    let cb = Bytes::from_static(
        b"{\"EventType\":\"EditMediaTask\",\"EditMediaTaskEvent\":{\"TaskId\":\"e1\"}}",
    );
    let results = fwd
        .forward(&cb, Instant::now() + Duration::from_secs(5))
        .await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    let body: serde_json::Value = serde_json::from_slice(&hook.delivered()[0]).unwrap();
    let ts = body["Timestamp"].as_u64().unwrap();
    assert_eq!(body["Sign"], mps_signature(ts, KEY));
    assert!(hook.verification_failures().is_empty());
    // A receiver with another key refuses it: the check is real.
    let other = FakeWebhook::start(FakeWebhookOptions {
        notify_key: Some("another-key".into()),
        ..Default::default()
    })
    .await;
    let fwd = forwarder(&api, &other, Some(KEY));
    let results = fwd
        .forward(&cb, Instant::now() + Duration::from_secs(5))
        .await;
    let err = results[1].as_ref().unwrap_err();
    assert_eq!(err.attempts(), 1);
    assert!(err.to_string().contains("HTTP 401"), "{err}");
}

#[tokio::test]
async fn final_answers_name_the_target_and_others_still_get_the_callback() {
    let (api, hook) = fakes(ApiFaultRates::default(), FakeWebhookOptions::default()).await;
    hook.push_faults([HookFault::Status(404)]);
    let fwd = forwarder(&api, &hook, Some(KEY));
    let results = fwd
        .forward(&callback(2), Instant::now() + Duration::from_secs(5))
        .await;
    assert!(results[0].is_ok());
    let err = results[1].as_ref().unwrap_err();
    let port = hook
        .url()
        .split(':')
        .nth(2)
        .unwrap()
        .split('/')
        .next()
        .unwrap()
        .to_string();
    assert_eq!(
        err.to_string(),
        format!("forward to http://127.0.0.1:{port}/hook?… rejected after 1 attempt(s): HTTP 404 Not Found")
    );
    assert!(!err.is_credentials_rejected());
}

#[tokio::test]
async fn redirects_are_not_followed() {
    let (api, hook) = fakes(ApiFaultRates::default(), FakeWebhookOptions::default()).await;
    hook.push_faults([HookFault::Redirect]);
    let fwd = forwarder(&api, &hook, None);
    let results = fwd
        .forward(&callback(3), Instant::now() + Duration::from_secs(5))
        .await;
    let err = results[1].as_ref().unwrap_err();
    assert_eq!(err.attempts(), 1);
    assert!(err.to_string().contains("307"), "{err}");
    assert_eq!(hook.stats().requests, 1);
}

#[tokio::test]
async fn credentials_rejected_is_flagged_and_no_secret_is_shown() {
    let (api, hook) = fakes(ApiFaultRates::default(), FakeWebhookOptions::default()).await;
    api.push_faults([ApiFault::TokenExpired]);
    let fwd = forwarder(&api, &hook, Some(KEY));
    let results = fwd
        .forward(&callback(4), Instant::now() + Duration::from_secs(5))
        .await;
    let err = results[0].as_ref().unwrap_err();
    assert!(err.is_credentials_rejected());
    assert!(err.to_string().starts_with(
        "forward to scf:default/biz-handler:$LATEST credentials refused after 1 attempt(s): AuthFailure.TokenFailure"
    ), "{err}");
    let o = api.options();
    let shown = format!("{err} {err:?} {fwd:?} {results:?}");
    for secret in [TOKEN, KEY, o.secret_key.as_str(), "hook-secret-token"] {
        assert!(!shown.contains(secret), "{secret} in {shown}");
    }
}

#[tokio::test]
async fn a_stalled_target_does_not_hold_back_the_other() {
    let (api, hook) = fakes(ApiFaultRates::default(), FakeWebhookOptions::default()).await;
    hook.push_faults([HookFault::Stall(Duration::from_secs(30))]);
    let fwd = forwarder(&api, &hook, None);
    let started = Instant::now();
    let deadline = started + Duration::from_secs(2);
    let results = fwd.forward(&callback(5), deadline).await;
    assert!(Instant::now() <= deadline);
    assert!(results[0].is_ok());
    // The webhook's first attempt timed out at half the budget; the second succeeded.
    assert_eq!(results[1].as_ref().map(|d| d.attempts).unwrap(), 2);
    assert_eq!(api.deliveries().len(), 1);
}

/// A callback that starts with a UTF-8 byte order mark is forwarded without it: re-signed for
/// the URL target (which could not be done with the mark in front, so every redelivery
/// failed) and handed to the function as the JSON document itself.
#[tokio::test]
async fn a_leading_byte_order_mark_is_left_out_and_the_callback_is_re_signed() {
    let (api, hook) = fakes(
        ApiFaultRates::default(),
        FakeWebhookOptions {
            notify_key: Some(KEY.into()),
            ..Default::default()
        },
    )
    .await;
    let fwd = forwarder(&api, &hook, Some(KEY));
    let plain = callback(7);
    let mut with_bom = b"\xEF\xBB\xBF".to_vec();
    with_bom.extend_from_slice(&plain);
    let results = fwd
        .forward(
            &Bytes::from(with_bom),
            Instant::now() + Duration::from_secs(5),
        )
        .await;
    for r in &results {
        assert!(r.is_ok(), "{r:?}");
    }
    assert!(
        hook.verification_failures().is_empty(),
        "{:?}",
        hook.verification_failures()
    );
    let delivered = hook.delivered();
    assert_eq!(delivered.len(), 1);
    assert_eq!(unsign(&delivered[0], &plain), plain.to_vec());
    let d = api.deliveries();
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].client_context.as_bytes(), &plain[..]);
}

/// A 2xx answer means the receiver accepted the callback, whatever its body does next: a
/// body cut short or trickling past the deadline is one accepted delivery, not a failure
/// retried (which delivered the callback again on every attempt).
#[tokio::test]
async fn a_2xx_whose_body_is_cut_short_or_trickles_is_one_accepted_delivery() {
    for fault in [
        HookFault::CutShortBody,
        HookFault::TrickleBody(Duration::from_millis(200)),
    ] {
        let hook = FakeWebhook::start(FakeWebhookOptions::default()).await;
        let fwd = Forwarder::new(
            HttpClient::new(),
            ForwarderConfig {
                targets: parse_targets(&hook.url()).unwrap(),
                policy: fast_policy(),
                ..ForwarderConfig::default()
            },
        )
        .unwrap();
        hook.push_faults([fault.clone()]);
        let started = Instant::now();
        // The 64-byte trickle would take 12.8 s: far past this deadline.
        let deadline = started + Duration::from_secs(3);
        let results = fwd.forward(&callback(1), deadline).await;
        let delivery = results[0]
            .as_ref()
            .unwrap_or_else(|e| panic!("{fault:?}: {e}"));
        assert_eq!(delivery.attempts, 1, "{fault:?}");
        assert_eq!(hook.delivered().len(), 1, "{fault:?}");
        assert_eq!(hook.stats().requests, 1, "{fault:?}: not sent again");
        assert_eq!(
            delivery.request_id.as_deref(),
            Some("hook-000001"),
            "{fault:?}"
        );
        assert!(started.elapsed() < Duration::from_secs(2), "{fault:?}");
    }
}
