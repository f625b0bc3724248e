//! The fake runtime API itself must verify the protocol: it flags misuse instead of blessing it.
mod common;

use std::time::Duration;

use common::fake_runtime::{FakeRuntime, HeaderStyle, Kind};

const T: Duration = Duration::from_secs(5);

#[tokio::test]
async fn flags_protocol_misuse() {
    let rt = FakeRuntime::start().await;
    let c = reqwest::Client::new();
    let url = rt.url();
    // An answer with nothing in flight, then `next` before ready, then an empty ready.
    let r = c
        .post(format!("{url}/runtime/invocation/response"))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let id = rt.push_event_with(b"{}".to_vec(), Some(1500), HeaderStyle::Capitalized);
    let r = c
        .get(format!("{url}/runtime/invocation/next"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["request_id"], id.as_str());
    assert_eq!(r.headers()["time_limit_in_ms"], "1500");
    let r = c
        .post(format!("{url}/runtime/init/ready"))
        .body("")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    // Two answers, multi-line error.
    c.post(format!("{url}/runtime/invocation/error"))
        .body("a\nb")
        .send()
        .await
        .unwrap();
    c.post(format!("{url}/runtime/invocation/error"))
        .body("again")
        .send()
        .await
        .unwrap();
    let v = rt.violations();
    assert_eq!(v.len(), 6, "{v:#?}");
    for needle in [
        "no invocation in flight",
        "before init/ready",
        "empty body",
        "after invocation/next",
        "not one line",
    ] {
        assert!(
            v.iter().any(|s| s.contains(needle)),
            "{needle} missing from {v:#?}"
        );
    }
    let out = rt.results();
    assert_eq!(out.len(), 1);
    assert_eq!(
        (out[0].request_id.as_str(), out[0].kind),
        (id.as_str(), Kind::Error)
    );
}

#[tokio::test]
async fn clean_exchange_and_down_up() {
    let rt = FakeRuntime::start().await;
    let c = reqwest::Client::new();
    let url = rt.url();
    c.post(format!("{url}/runtime/init/ready"))
        .body(" ")
        .send()
        .await
        .unwrap();
    let poll = tokio::spawn({
        let c = c.clone();
        let url = url.clone();
        async move {
            c.get(format!("{url}/runtime/invocation/next"))
                .send()
                .await
                .unwrap()
        }
    });
    rt.wait_idle_poll(T).await;
    let id = rt.push_event(br#"{"a":1}"#.to_vec());
    let r = poll.await.unwrap();
    assert_eq!(r.headers()["request_id"], id.as_str());
    assert_eq!(r.headers()["memory_limit_in_mb"], "128");
    assert_eq!(r.text().await.unwrap(), r#"{"a":1}"#);
    c.post(format!("{url}/runtime/invocation/response"))
        .body(r#"{"ok":true}"#)
        .send()
        .await
        .unwrap();
    let out = rt.wait_results(1, T).await;
    assert_eq!(out[0].json()["ok"], true);
    rt.assert_clean();

    rt.go_down().await;
    assert!(c
        .get(format!("{url}/runtime/invocation/next"))
        .send()
        .await
        .is_err());
    rt.come_back().await;
    c.post(format!("{url}/runtime/init/ready"))
        .body(" ")
        .send()
        .await
        .unwrap();
    assert_eq!(rt.ready_count(), 2);
    assert!(rt.violations().iter().any(|v| v.contains("2 times")));
}
