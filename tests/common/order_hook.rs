//! A webhook receiver that watches the order callbacks arrive in: each body names its task
//! (`WorkflowTaskEvent.TaskId`) and its place in that task (`Seq`). It records when two
//! callbacks of one task are in flight at once, answers some first attempts 503 (so the
//! sender retries), holds some answers back (slow tasks), and counts the most requests in
//! flight together.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::http::{serve, Reply, Response, Server};

/// How the receiver behaves.
#[derive(Debug, Clone, Default)]
pub struct OrderHookOptions {
    /// How long every answer takes.
    pub delay: Duration,
    /// Tasks whose answers take this much longer.
    pub slow: HashMap<String, Duration>,
    /// (task, seq) whose first attempt is answered 503.
    pub fail_first: HashSet<(String, u64)>,
}

#[derive(Debug, Default)]
struct State {
    in_flight: HashMap<String, u32>,
    now: usize,
    peak: usize,
    overlaps: Vec<String>,
    attempts: HashMap<(String, u64), u32>,
    delivered: Vec<(String, u64)>,
    bodies: Vec<serde_json::Value>,
    started: usize,
}

/// The running receiver; stops when dropped.
pub struct OrderHook {
    server: Server,
    state: Arc<Mutex<State>>,
}

fn lock(s: &Mutex<State>) -> std::sync::MutexGuard<'_, State> {
    s.lock().unwrap_or_else(|p| p.into_inner())
}

impl OrderHook {
    /// Starts one on a fresh loopback port.
    pub async fn start(opts: OrderHookOptions) -> OrderHook {
        let state = Arc::new(Mutex::new(State::default()));
        let (st, opts) = (state.clone(), Arc::new(opts));
        let server = serve(move |req| {
            let (st, opts) = (st.clone(), opts.clone());
            async move {
                let Ok(body) = serde_json::from_slice::<serde_json::Value>(&req.body) else {
                    return Reply::Send(Response::new(400, "not JSON"));
                };
                let task = body["WorkflowTaskEvent"]["TaskId"]
                    .as_str()
                    .unwrap_or("")
                    .to_string();
                let seq = body["Seq"].as_u64().unwrap_or(u64::MAX);
                let fail = {
                    let mut s = lock(&st);
                    s.started += 1;
                    s.now += 1;
                    s.peak = s.peak.max(s.now);
                    let n = s.in_flight.entry(task.clone()).or_default();
                    *n += 1;
                    if *n > 1 {
                        s.overlaps.push(format!("{task} #{seq}"));
                    }
                    let a = s.attempts.entry((task.clone(), seq)).or_default();
                    *a += 1;
                    *a == 1 && opts.fail_first.contains(&(task.clone(), seq))
                };
                let wait = opts.delay + opts.slow.get(&task).copied().unwrap_or_default();
                tokio::time::sleep(wait).await;
                let mut s = lock(&st);
                s.now -= 1;
                if let Some(n) = s.in_flight.get_mut(&task) {
                    *n -= 1;
                }
                if fail {
                    return Reply::Send(Response::new(503, "try again"));
                }
                s.delivered.push((task, seq));
                s.bodies.push(body);
                Reply::Send(Response::new(200, "{\"ok\":true}"))
            }
        })
        .await;
        OrderHook { server, state }
    }

    /// `http://127.0.0.1:PORT/hook`.
    pub fn url(&self) -> String {
        format!("{}/hook", self.server.url())
    }

    /// (task, seq) accepted, in the order they were answered.
    pub fn delivered(&self) -> Vec<(String, u64)> {
        lock(&self.state).delivered.clone()
    }

    /// Bodies accepted, in the order they were answered.
    pub fn bodies(&self) -> Vec<serde_json::Value> {
        lock(&self.state).bodies.clone()
    }

    /// Callbacks that arrived while another of their task was in flight.
    pub fn overlaps(&self) -> Vec<String> {
        lock(&self.state).overlaps.clone()
    }

    /// Most requests in flight at once.
    pub fn peak(&self) -> usize {
        lock(&self.state).peak
    }

    /// Requests received so far.
    pub fn started(&self) -> usize {
        lock(&self.state).started
    }

    /// Requests being answered now.
    pub fn in_flight(&self) -> usize {
        lock(&self.state).now
    }
}
