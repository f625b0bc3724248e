//! `runtime::run` against the fake SCF runtime API, in process.
mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use common::fake_runtime::{Endpoint, FakeRuntime, Fault, HeaderStyle, Kind};
use mps_cos_backup::runtime::{
    run_with, safety_margin, shutdown_signal, Context, Diagnostic, Function, RunOptions,
    RuntimeError, DEFAULT_TIME_LIMIT,
};
use mps_cos_backup::transport::{HttpClient, Uri};
use tokio::sync::{oneshot, Notify};
use tokio::task::JoinHandle;

/// Generous bound for anything that should happen "soon": a hang fails the test, speed does not.
const T: Duration = Duration::from_secs(10);

/// A scripted failure: its text is the error line; `stop:` ones ask to stop the instance.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct ScriptError(String);

impl Diagnostic for ScriptError {
    fn stops_instance(&self) -> Option<String> {
        self.0.strip_prefix("stop:").map(str::to_string)
    }
}

/// Acts on the event text: `ok`, `err:<line>`, `panic:<msg>`, `wait` (until released),
/// `sleep:<ms>`, `stop:<why>` (an error that stops the instance).
#[derive(Default)]
struct Scripted {
    seen: Mutex<Vec<Context>>,
    release: Notify,
}

impl Function for Scripted {
    type Error = ScriptError;

    async fn call(&self, ctx: Context, event: Bytes) -> Result<serde_json::Value, ScriptError> {
        self.seen.lock().unwrap().push(ctx.clone());
        let text = String::from_utf8_lossy(&event).into_owned();
        if let Some(line) = text.strip_prefix("err:") {
            return Err(ScriptError(line.to_string()));
        }
        if text.starts_with("stop:") {
            return Err(ScriptError(text));
        }
        if let Some(msg) = text.strip_prefix("panic:") {
            panic!("{msg}");
        }
        if text == "wait" {
            self.release.notified().await;
        }
        if let Some(ms) = text.strip_prefix("sleep:") {
            tokio::time::sleep(Duration::from_millis(ms.parse().unwrap())).await;
        }
        Ok(serde_json::json!({ "request_id": ctx.request_id, "event": text }))
    }
}

impl Scripted {
    fn contexts(&self) -> Vec<Context> {
        self.seen.lock().unwrap().clone()
    }

    /// Waits until the handler has been entered `n` times.
    async fn wait_started(&self, n: usize) {
        tokio::time::timeout(T, async {
            while self.seen.lock().unwrap().len() < n {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
        .await
        .expect("handler was not called");
    }
}

struct Running {
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<Result<(), RuntimeError>>,
}

impl Running {
    fn stop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }

    async fn finished(self) -> Result<(), RuntimeError> {
        tokio::time::timeout(T, self.task)
            .await
            .expect("runtime loop did not return")
            .expect("runtime loop task panicked")
    }
}

fn fast_opts(give_up_after: Duration) -> RunOptions {
    RunOptions {
        give_up_after,
        ..RunOptions::default()
    }
}

fn start(rt: &FakeRuntime, handler: Arc<Scripted>, opts: RunOptions) -> Running {
    let (tx, rx) = oneshot::channel::<()>();
    let url = rt.url();
    let task = tokio::spawn(async move {
        let shutdown = async move {
            let _ = rx.await;
        };
        let url: Uri = url.parse().expect("fake runtime URL");
        run_with(&url, HttpClient::new(), handler, shutdown, opts).await
    });
    Running {
        stop: Some(tx),
        task,
    }
}

#[tokio::test]
async fn ready_once_before_next_then_response() {
    let rt = FakeRuntime::start().await;
    let h = Arc::new(Scripted::default());
    let mut running = start(&rt, h.clone(), RunOptions::default());
    let a = rt.push_event("ok");
    let b = rt.push_event("ok");
    let out = rt.wait_results(2, T).await;
    rt.wait_idle_poll(T).await;
    running.stop();
    running.finished().await.expect("clean stop");

    assert_eq!(rt.ready_count(), 1);
    let log = rt.call_log();
    assert_eq!(log[0], "POST /runtime/init/ready");
    assert_eq!(log[1], "GET /runtime/invocation/next");
    assert_eq!(
        &log[1..5],
        [
            "GET /runtime/invocation/next",
            "POST /runtime/invocation/response",
            "GET /runtime/invocation/next",
            "POST /runtime/invocation/response",
        ]
    );
    for (o, id) in out.iter().zip([&a, &b]) {
        assert_eq!(o.kind, Kind::Response);
        assert_eq!(&o.request_id, id);
        assert_eq!(
            o.json(),
            serde_json::json!({"request_id": id, "event": "ok"})
        );
    }
    rt.assert_clean();
}

#[tokio::test]
async fn handler_error_becomes_one_error_line() {
    let rt = FakeRuntime::start().await;
    let h = Arc::new(Scripted::default());
    let mut running = start(&rt, h, RunOptions::default());
    let id = rt.push_event("err:event is not a JSON object:\nexpected value at line 1");
    let out = rt.wait_results(1, T).await;
    assert_eq!(out[0].kind, Kind::Error);
    assert_eq!(out[0].request_id, id);
    assert_eq!(
        out[0].text(),
        "event is not a JSON object: expected value at line 1"
    );
    running.stop();
    running.finished().await.expect("clean stop");
    rt.assert_clean();
}

#[tokio::test]
async fn invocation_headers_match_in_any_case() {
    let rt = FakeRuntime::start().await;
    let h = Arc::new(Scripted::default());
    let mut running = start(&rt, h.clone(), RunOptions::default());
    let styles = [
        HeaderStyle::Lower,
        HeaderStyle::Capitalized,
        HeaderStyle::Upper,
    ];
    let ids: Vec<String> = styles
        .iter()
        .enumerate()
        .map(|(i, s)| rt.push_event_with("ok", Some(1000 + i as u64), *s))
        .collect();
    let out = rt.wait_results(3, T).await;
    let seen = h.contexts();
    for (i, id) in ids.iter().enumerate() {
        assert_eq!(&out[i].request_id, id);
        assert_eq!(&seen[i].request_id, id, "style {:?}", styles[i]);
        assert_eq!(seen[i].memory_limit_mb, Some(128));
        assert_eq!(seen[i].time_limit, Duration::from_millis(1000 + i as u64));
    }
    running.stop();
    running.finished().await.expect("clean stop");
    rt.assert_clean();
}

#[tokio::test]
async fn deadline_is_arrival_plus_limit_minus_margin() {
    let rt = FakeRuntime::start().await;
    let h = Arc::new(Scripted::default());
    let mut running = start(&rt, h.clone(), RunOptions::default());
    rt.push_event_with("ok", Some(2000), HeaderStyle::Lower);
    rt.push_event_with("ok", None, HeaderStyle::Lower);
    rt.push_raw(
        "bad-limit".into(),
        "ok",
        vec![
            ("request_id".into(), "bad-limit".into()),
            ("time_limit_in_ms".into(), "soon".into()),
        ],
    );
    rt.wait_results(3, T).await;
    let deliveries = rt.deliveries();
    let seen = h.contexts();
    let limits = [
        Duration::from_millis(2000),
        DEFAULT_TIME_LIMIT,
        DEFAULT_TIME_LIMIT,
    ];
    for ((ctx, d), limit) in seen.iter().zip(&deliveries).zip(limits) {
        assert_eq!(ctx.time_limit, limit);
        assert_eq!(ctx.deadline, ctx.arrived + limit - safety_margin(limit));
        // Arrival is stamped when the event is read, not long after the fake sent it.
        let lag = ctx.arrived.saturating_duration_since(d.at);
        assert!(lag < Duration::from_secs(1), "arrival stamped {lag:?} late");
        assert!(ctx.arrived >= d.at);
    }
    assert_eq!(seen[2].request_id, "bad-limit");
    running.stop();
    running.finished().await.expect("clean stop");
    rt.assert_clean();
}

#[tokio::test]
async fn panicking_handler_never_stops_the_loop() {
    let rt = FakeRuntime::start().await;
    let h = Arc::new(Scripted::default());
    let mut running = start(&rt, h, RunOptions::default());
    let ids: Vec<String> = (0..4)
        .map(|i| rt.push_event(format!("panic:boom {i}\nmore")))
        .collect();
    let ok = rt.push_event("ok");
    let out = rt.wait_results(5, T).await;
    for (i, id) in ids.iter().enumerate() {
        assert_eq!(&out[i].request_id, id);
        assert_eq!(out[i].kind, Kind::Error);
        assert_eq!(out[i].text(), format!("handler panicked: boom {i} more"));
    }
    assert_eq!(
        (out[4].request_id.as_str(), out[4].kind),
        (ok.as_str(), Kind::Response)
    );
    running.stop();
    running.finished().await.expect("clean stop");
    rt.assert_clean();
}

#[tokio::test]
async fn handler_past_its_deadline_gets_an_error_post() {
    let rt = FakeRuntime::start().await;
    let h = Arc::new(Scripted::default());
    let mut running = start(&rt, h, RunOptions::default());
    // 200 ms limit, 50 ms margin; the handler would take a minute.
    let id = rt.push_event_with("sleep:60000", Some(200), HeaderStyle::Lower);
    let out = rt.wait_results(1, T).await;
    assert_eq!(
        (out[0].request_id.as_str(), out[0].kind),
        (id.as_str(), Kind::Error)
    );
    assert!(
        out[0]
            .text()
            .contains("did not finish within the time limit of 200 ms"),
        "{}",
        out[0].text()
    );
    let next = rt.push_event("ok");
    let out = rt.wait_results(2, T).await;
    assert_eq!(
        (out[1].request_id.as_str(), out[1].kind),
        (next.as_str(), Kind::Response)
    );
    running.stop();
    running.finished().await.expect("clean stop");
    rt.assert_clean();
}

#[tokio::test]
async fn api_down_at_start_then_back() {
    let rt = FakeRuntime::start().await;
    rt.go_down().await;
    let h = Arc::new(Scripted::default());
    let mut running = start(&rt, h, RunOptions::default());
    // Let it fail a few times against a closed port before the API appears.
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(rt.ready_count(), 0);
    rt.come_back().await;
    let id = rt.push_event("ok");
    let out = rt.wait_results(1, T).await;
    assert_eq!(
        (out[0].request_id.as_str(), out[0].kind),
        (id.as_str(), Kind::Response)
    );
    assert_eq!(rt.ready_count(), 1);
    running.stop();
    running.finished().await.expect("clean stop");
    rt.assert_clean();
}

#[tokio::test]
async fn api_down_mid_run_while_idle_and_while_answering() {
    let rt = FakeRuntime::start().await;
    let h = Arc::new(Scripted::default());
    let mut running = start(&rt, h.clone(), RunOptions::default());
    rt.push_event("ok");
    rt.wait_results(1, T).await;

    // Down while the loop is parked in `next`.
    rt.wait_idle_poll(T).await;
    rt.go_down().await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    rt.come_back().await;
    let second = rt.push_event("ok");
    let out = rt.wait_results(2, T).await;
    assert_eq!(
        (out[1].request_id.as_str(), out[1].kind),
        (second.as_str(), Kind::Response)
    );

    // Down while an invocation is in flight: its answer must land once the API is back.
    let third = rt.push_event("wait");
    h.wait_started(3).await;
    rt.go_down().await;
    h.release.notify_one();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let refused = rt.refused_while_down();
    assert!(
        refused > 0,
        "the answer post should have been attempted while down"
    );
    rt.come_back().await;
    let out = rt.wait_results(3, T).await;
    assert_eq!(
        (out[2].request_id.as_str(), out[2].kind),
        (third.as_str(), Kind::Response)
    );
    assert_eq!(rt.ready_count(), 1);
    running.stop();
    running.finished().await.expect("clean stop");
    rt.assert_clean();
}

#[tokio::test]
async fn api_down_for_good_at_start_is_an_error() {
    let rt = FakeRuntime::start().await;
    rt.go_down().await;
    let running = start(
        &rt,
        Arc::new(Scripted::default()),
        fast_opts(Duration::from_secs(1)),
    );
    let err = running.finished().await.expect_err("must give up");
    assert!(
        matches!(&err, RuntimeError::Unreachable(why) if why.contains("/runtime/init/ready")),
        "expected Unreachable naming init/ready, got {err}"
    );
    assert!(!err.to_string().contains('\n'));
    assert_eq!(rt.ready_count(), 0);
    assert!(
        rt.calls().is_empty(),
        "nothing can have reached a closed port"
    );
}

#[tokio::test]
async fn api_down_for_good_mid_run_is_an_error() {
    let rt = FakeRuntime::start().await;
    let h = Arc::new(Scripted::default());
    let running = start(&rt, h, fast_opts(Duration::from_secs(1)));
    rt.push_event("ok");
    rt.wait_results(1, T).await;
    rt.wait_idle_poll(T).await;
    rt.go_down().await;
    let err = running.finished().await.expect_err("must give up");
    assert!(
        err.to_string().contains("/runtime/invocation/next"),
        "{err}"
    );
    rt.assert_clean();
}

#[tokio::test]
async fn refused_polls_and_lost_posts_are_retried() {
    let rt = FakeRuntime::start().await;
    rt.inject_faults(Endpoint::Ready, Fault::Reset, 2);
    rt.inject_faults(Endpoint::Next, Fault::Status(503), 3);
    rt.inject_faults(Endpoint::Next, Fault::Reset, 1);
    rt.inject_faults(Endpoint::Response, Fault::Reset, 2);
    let h = Arc::new(Scripted::default());
    let mut running = start(&rt, h, RunOptions::default());
    let id = rt.push_event("ok");
    let out = rt.wait_results(1, T).await;
    assert_eq!(
        (out[0].request_id.as_str(), out[0].kind),
        (id.as_str(), Kind::Response)
    );
    let faulted = rt.calls().iter().filter(|c| c.faulted).count();
    assert_eq!(faulted, 8);
    assert_eq!(rt.ready_count(), 1);
    running.stop();
    running.finished().await.expect("clean stop");
    rt.assert_clean();
}

#[tokio::test]
async fn stalled_answer_post_is_retried_once_it_times_out() {
    let rt = FakeRuntime::start().await;
    rt.inject_faults(Endpoint::Error, Fault::Stall(Duration::from_secs(30)), 1);
    let opts = RunOptions {
        post_timeout: Duration::from_millis(300),
        ..RunOptions::default()
    };
    let mut running = start(&rt, Arc::new(Scripted::default()), opts);
    let id = rt.push_event("err:no bucket");
    let out = rt.wait_results(1, T).await;
    assert_eq!(
        (out[0].request_id.as_str(), out[0].kind),
        (id.as_str(), Kind::Error)
    );
    assert_eq!(out[0].text(), "no bucket");
    let error_posts = rt
        .call_log()
        .iter()
        .filter(|c| *c == "POST /runtime/invocation/error")
        .count();
    assert_eq!(error_posts, 2, "{:?}", rt.call_log());
    running.stop();
    running.finished().await.expect("clean stop");
    rt.assert_clean();
}

#[tokio::test]
async fn refused_answer_post_is_logged_not_retried() {
    let rt = FakeRuntime::start().await;
    rt.inject_faults(Endpoint::Response, Fault::Status(400), 1);
    let h = Arc::new(Scripted::default());
    let mut running = start(&rt, h, RunOptions::default());
    rt.push_event("ok");
    rt.wait_deliveries(1, T).await;
    // A second event is delivered only after the loop moved on from the refused post.
    let second = rt.push_event("ok");
    let out = rt.wait_results(1, T).await;
    assert_eq!(out[0].request_id, second);
    let posts = rt
        .call_log()
        .iter()
        .filter(|c| *c == "POST /runtime/invocation/response")
        .count();
    assert_eq!(posts, 2, "{:?}", rt.call_log());
    running.stop();
    running.finished().await.expect("clean stop");
    // The first invocation was never answered; the fake rightly reports `next` while it was open.
    let v = rt.violations();
    assert_eq!(v.len(), 1, "{v:?}");
    assert!(v[0].contains("unanswered"));
}

#[tokio::test]
async fn shutdown_while_idle_returns_ok() {
    let rt = FakeRuntime::start().await;
    let mut running = start(&rt, Arc::new(Scripted::default()), RunOptions::default());
    rt.wait_idle_poll(T).await;
    running.stop();
    running.finished().await.expect("clean stop");
    assert_eq!(rt.ready_count(), 1);
    rt.assert_clean();
}

#[tokio::test]
async fn shutdown_during_invocation_posts_its_answer_first() {
    let rt = FakeRuntime::start().await;
    let h = Arc::new(Scripted::default());
    let mut running = start(&rt, h.clone(), RunOptions::default());
    let id = rt.push_event("wait");
    h.wait_started(1).await;
    rt.push_event("ok");
    running.stop();
    // The loop must still be waiting for the handler, not gone.
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(
        !running.task.is_finished(),
        "returned before the invocation finished"
    );
    h.release.notify_one();
    running.finished().await.expect("clean stop");
    let out = rt.results();
    assert_eq!(out.len(), 1);
    assert_eq!(
        (out[0].request_id.as_str(), out[0].kind),
        (id.as_str(), Kind::Response)
    );
    assert_eq!(
        rt.call_log().last().map(String::as_str),
        Some("POST /runtime/invocation/response")
    );
    assert_eq!(rt.queued(), 1, "no new event may be taken after shutdown");
    rt.assert_clean();
}

#[tokio::test]
async fn shutdown_signal_resolves_on_sigterm() {
    let mut signal = Box::pin(shutdown_signal());
    // Poll once so the handlers are installed before the signal is sent.
    tokio::select! {
        biased;
        _ = &mut signal => panic!("resolved without a signal"),
        _ = tokio::task::yield_now() => {}
    }
    let status = tokio::process::Command::new("kill")
        .args(["-TERM", &std::process::id().to_string()])
        .status()
        .await
        .expect("run kill");
    assert!(status.success());
    tokio::time::timeout(T, signal)
        .await
        .expect("shutdown_signal did not resolve on SIGTERM");
}

/// A long poll that idles longer than the give-up window and then drops is one failure, not
/// an unreachable API: the window counts from the first failure.
#[tokio::test]
async fn a_poll_that_idles_past_the_give_up_window_then_drops_is_retried() {
    let rt = FakeRuntime::start().await;
    rt.inject_faults(Endpoint::Next, Fault::Stall(Duration::from_millis(1500)), 1);
    let mut running = start(
        &rt,
        Arc::new(Scripted::default()),
        fast_opts(Duration::from_secs(1)),
    );
    tokio::time::sleep(Duration::from_millis(1700)).await;
    let id = rt.push_event("ok");
    let out = rt.wait_results(1, T).await;
    assert_eq!(
        (out[0].request_id.as_str(), out[0].kind),
        (id.as_str(), Kind::Response)
    );
    running.stop();
    running.finished().await.expect("clean stop");
    rt.assert_clean();
}

#[tokio::test]
async fn an_error_that_stops_the_instance_is_posted_then_the_loop_ends() {
    let rt = FakeRuntime::start().await;
    let h = Arc::new(Scripted::default());
    let running = start(&rt, h.clone(), RunOptions::default());
    let a = rt.push_event("ok");
    let b = rt.push_event("stop:credentials rejected");
    rt.push_event("ok");
    let out = rt.wait_results(2, T).await;
    let err = running.finished().await.expect_err("the loop must stop");
    assert!(
        matches!(err, RuntimeError::Stopped(ref why) if why == "credentials rejected"),
        "{err}"
    );
    assert_eq!(
        (out[0].request_id.as_str(), out[0].kind),
        (a.as_str(), Kind::Response)
    );
    assert_eq!(
        (out[1].request_id.as_str(), out[1].kind),
        (b.as_str(), Kind::Error)
    );
    assert_eq!(out[1].text(), "stop:credentials rejected");
    // The third event is left for the next instance: never taken, never answered.
    assert_eq!(h.contexts().len(), 2);
    assert_eq!(rt.results().len(), 2);
    rt.assert_clean();
}

#[tokio::test]
async fn an_event_larger_than_the_bound_is_refused_and_the_loop_goes_on() {
    let rt = FakeRuntime::start().await;
    let h = Arc::new(Scripted::default());
    let mut running = start(&rt, h.clone(), RunOptions::default());
    let big = rt.push_event(vec![b'x'; mps_cos_backup::runtime::MAX_EVENT_BYTES + 1]);
    let small = rt.push_event("ok");
    let out = rt.wait_results(2, T).await;
    running.stop();
    running.finished().await.expect("clean stop");
    assert_eq!(
        (out[0].request_id.as_str(), out[0].kind),
        (big.as_str(), Kind::Error)
    );
    assert!(
        out[0].text().contains("larger than 8388608 bytes"),
        "{}",
        out[0].text()
    );
    assert_eq!(
        (out[1].request_id.as_str(), out[1].kind),
        (small.as_str(), Kind::Response)
    );
    // The function never saw the oversized event.
    assert_eq!(h.contexts().len(), 1);
    rt.assert_clean();
}

/// A runtime API that sends an event's head and the start of its body, then stalls: the
/// invocation is answered with an error post once the body is late, and the loop goes on.
#[tokio::test]
async fn an_event_body_that_stalls_after_its_head_gets_an_error_post() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (posted_tx, mut posted_rx) = tokio::sync::mpsc::unbounded_channel::<(String, String)>();
    let nexts = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            let posted = posted_tx.clone();
            let nexts = nexts.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                loop {
                    // One request: head, then its Content-Length body.
                    let head_end = loop {
                        if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                            break p + 4;
                        }
                        let mut chunk = [0u8; 4096];
                        match s.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                    };
                    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
                    let len: usize = head
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase()
                                .strip_prefix("content-length:")
                                .map(|v| v.trim().parse().unwrap_or(0))
                        })
                        .unwrap_or(0);
                    while buf.len() < head_end + len {
                        let mut chunk = [0u8; 4096];
                        match s.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                    }
                    let body = String::from_utf8_lossy(&buf[head_end..head_end + len]).to_string();
                    buf.drain(..head_end + len);
                    let path = head.split(' ').nth(1).unwrap_or("").to_string();
                    if path.ends_with("/invocation/next") {
                        if nexts.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0 {
                            let _ = s
                                .write_all(b"HTTP/1.1 200 OK\r\nrequest_id: slow-1\r\ntime_limit_in_ms: 3000\r\nContent-Length: 100\r\n\r\n{\"Ev")
                                .await;
                        }
                        // The rest never comes; later polls wait for ever.
                        std::future::pending::<()>().await;
                    }
                    let _ = posted.send((path, body));
                    let _ = s
                        .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
                        .await;
                }
            });
        }
    });
    let opts = RunOptions {
        event_body_time: Duration::from_millis(300),
        ..RunOptions::default()
    };
    let base: Uri = format!("http://{addr}").parse().expect("uri");
    let handler = Arc::new(Scripted::default());
    let (stop_tx, stop_rx) = oneshot::channel::<()>();
    let seen = handler.clone();
    let task = tokio::spawn(async move {
        let shutdown = async move {
            let _ = stop_rx.await;
        };
        run_with(&base, HttpClient::new(), seen, shutdown, opts).await
    });
    let mut posts = Vec::new();
    while posts.len() < 2 {
        let post = tokio::time::timeout(T, posted_rx.recv())
            .await
            .expect("the runtime posts within the time limit")
            .expect("server alive");
        posts.push(post);
    }
    assert_eq!(posts[0].0, "/runtime/init/ready");
    assert_eq!(posts[1].0, "/runtime/invocation/error");
    assert!(
        posts[1].1.contains("did not arrive within 300 ms"),
        "{}",
        posts[1].1
    );
    assert!(
        handler.contexts().is_empty(),
        "the function never saw a partial event"
    );
    let _ = stop_tx.send(());
    let done = tokio::time::timeout(T, task).await.expect("loop stops");
    assert!(matches!(done, Ok(Ok(()))), "{done:?}");
}
