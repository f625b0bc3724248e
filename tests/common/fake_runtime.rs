//! Fake SCF runtime API: queues events, long-polls `next`, records answers, and VERIFIES the protocol.
//!
//! ```ignore
//! let rt = FakeRuntime::start().await;
//! // point the runtime at rt.url() (or SCF_RUNTIME_API=rt.host(), SCF_RUNTIME_API_PORT=rt.port())
//! let id = rt.push_event(br#"{"EventType":"WorkflowTask"}"#.to_vec());
//! let outcomes = rt.wait_results(1, Duration::from_secs(5)).await;
//! assert_eq!(outcomes[0].request_id, id);
//! rt.assert_clean(); // no protocol violations
//! ```
//!
//! Protocol checks (each breach is recorded in [`FakeRuntime::violations`], never silently accepted):
//! `init/ready` must have a non-empty body, come exactly once, and before the first `next`;
//! `next` only after ready and only when no invocation is unanswered; a response/error post
//! only while an invocation is in flight, so at most one answer per invocation; an error body
//! is non-empty, one line of UTF-8; a response body is JSON; no unknown paths or methods.
//!
//! Caveat: a `next` long poll the client abandons stays parked here (the tiny server cannot see
//! the disconnect) and may take the next pushed event, like a delivery lost on a real platform.
#![allow(dead_code)]

use std::collections::{HashSet, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio::sync::Notify;

use super::http::{serve_on, Reply, Request, Response, Server};
use super::seeded::lock;

/// How the invocation header names are spelled on the wire (the runtime must match any case).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeaderStyle {
    /// `request_id`, `memory_limit_in_mb`, `time_limit_in_ms` (what SCF sends).
    Lower,
    /// `Request_Id`, `Memory_Limit_In_Mb`, `Time_Limit_In_Ms` (as some docs write them).
    Capitalized,
    /// `REQUEST_ID`, `MEMORY_LIMIT_IN_MB`, `TIME_LIMIT_IN_MS`.
    Upper,
}

impl HeaderStyle {
    fn apply(self, name: &str) -> String {
        match self {
            HeaderStyle::Lower => name.to_string(),
            HeaderStyle::Upper => name.to_ascii_uppercase(),
            HeaderStyle::Capitalized => name
                .split('_')
                .map(|w| {
                    let mut c = w.chars();
                    match c.next() {
                        Some(f) => f.to_ascii_uppercase().to_string() + c.as_str(),
                        None => String::new(),
                    }
                })
                .collect::<Vec<_>>()
                .join("_"),
        }
    }
}

/// Which answer an invocation got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `POST /runtime/invocation/response`.
    Response,
    /// `POST /runtime/invocation/error`.
    Error,
}

/// One answer, as received.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// Request id of the invocation that was in flight when the answer came.
    pub request_id: String,
    /// Response or error.
    pub kind: Kind,
    /// Body as posted.
    pub body: Vec<u8>,
    /// When the fake received it.
    pub at: Instant,
}

impl Outcome {
    /// Body as text (lossy).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// Body as JSON; panics with the body when it is not JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("answer body is not JSON ({e}): {:?}", self.text()))
    }
}

/// One request the fake processed (requests refused while down are not logged, only counted).
#[derive(Debug, Clone)]
pub struct Call {
    /// HTTP method.
    pub method: String,
    /// Request path.
    pub path: String,
    /// Whether an injected fault answered it instead of the protocol.
    pub faulted: bool,
    /// When it arrived.
    pub at: Instant,
}

/// One event handed out by `next`.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// Its request id.
    pub request_id: String,
    /// When the fake sent it (just before writing the response).
    pub at: Instant,
}

/// A runtime API endpoint, for fault injection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    /// `POST /runtime/init/ready`.
    Ready,
    /// `GET /runtime/invocation/next`.
    Next,
    /// `POST /runtime/invocation/response`.
    Response,
    /// `POST /runtime/invocation/error`.
    Error,
}

/// What an injected fault does to a request (the protocol state is left untouched).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Answer with this status and an empty body.
    Status(u16),
    /// Reset the connection without answering.
    Reset,
    /// Hold the request this long, then close the connection without answering.
    Stall(Duration),
}

struct Queued {
    request_id: String,
    body: Vec<u8>,
    headers: Vec<(String, String)>,
}

#[derive(Default)]
struct State {
    queue: VecDeque<Queued>,
    in_flight: Option<String>,
    answered: HashSet<String>,
    outcomes: Vec<Outcome>,
    calls: Vec<Call>,
    deliveries: Vec<Delivery>,
    violations: Vec<String>,
    faults: Vec<(Endpoint, Fault, usize)>,
    ready_count: usize,
    polls_parked: usize,
    refused_while_down: usize,
    down: bool,
    seq: u64,
    /// Bumped by [`FakeRuntime::restart_instance`]; polls parked by an older instance are dropped.
    generation: u64,
    /// Index in `calls` where the current instance began (for the ready-before-next check).
    instance_start: usize,
    timed_out: Vec<String>,
}

struct Shared {
    state: Mutex<State>,
    changed: Notify,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }

    async fn handle(self: Arc<Self>, req: Request) -> Reply {
        let endpoint = match (req.method.as_str(), req.path()) {
            ("POST", "/runtime/init/ready") => Some(Endpoint::Ready),
            ("GET", "/runtime/invocation/next") => Some(Endpoint::Next),
            ("POST", "/runtime/invocation/response") => Some(Endpoint::Response),
            ("POST", "/runtime/invocation/error") => Some(Endpoint::Error),
            _ => None,
        };
        {
            let mut st = self.lock();
            if st.down {
                st.refused_while_down += 1;
                return Reply::Reset;
            }
            let fault = endpoint.and_then(|ep| {
                let slot = st.faults.iter_mut().find(|(e, _, n)| *e == ep && *n > 0)?;
                slot.2 -= 1;
                Some(slot.1)
            });
            st.calls.push(Call {
                method: req.method.clone(),
                path: req.path().to_string(),
                faulted: fault.is_some(),
                at: Instant::now(),
            });
            match fault {
                Some(Fault::Reset) => return Reply::Reset,
                Some(Fault::Stall(d)) => return Reply::Stall(d),
                Some(Fault::Status(s)) => return Reply::Send(Response::new(s, Vec::new())),
                None => {}
            }
        }
        self.changed.notify_waiters();
        let reply = match endpoint {
            Some(Endpoint::Ready) => self.ready(&req),
            Some(Endpoint::Next) => return self.next().await,
            Some(Endpoint::Response) => self.answer(&req, Kind::Response),
            Some(Endpoint::Error) => self.answer(&req, Kind::Error),
            None => {
                self.lock()
                    .violations
                    .push(format!("unknown request {} {}", req.method, req.target));
                Reply::Send(Response::new(404, "not found"))
            }
        };
        self.changed.notify_waiters();
        reply
    }

    fn ready(&self, req: &Request) -> Reply {
        let mut st = self.lock();
        st.ready_count += 1;
        if st.ready_count > 1 {
            let n = st.ready_count;
            st.violations.push(format!("init/ready posted {n} times"));
        }
        if st.calls[st.instance_start..]
            .iter()
            .any(|c| c.path == "/runtime/invocation/next")
        {
            st.violations
                .push("init/ready posted after invocation/next".to_string());
        }
        if req.body.is_empty() {
            st.violations
                .push("init/ready posted with an empty body".to_string());
            return Reply::Send(Response::new(400, "empty body"));
        }
        Reply::Send(Response::new(200, ""))
    }

    async fn next(self: Arc<Self>) -> Reply {
        let generation = {
            let mut st = self.lock();
            if st.ready_count == 0 {
                st.violations
                    .push("invocation/next before init/ready".to_string());
            }
            if let Some(id) = st.in_flight.clone() {
                st.violations
                    .push(format!("invocation/next while {id} is unanswered"));
            }
            st.polls_parked += 1;
            st.generation
        };
        self.changed.notify_waiters();
        loop {
            let notified = self.changed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            {
                let mut st = self.lock();
                if st.down || st.generation != generation {
                    st.polls_parked -= 1;
                    drop(st);
                    self.changed.notify_waiters();
                    return Reply::Reset;
                }
                if let Some(ev) = st.queue.pop_front() {
                    st.polls_parked -= 1;
                    st.in_flight = Some(ev.request_id.clone());
                    st.deliveries.push(Delivery {
                        request_id: ev.request_id.clone(),
                        at: Instant::now(),
                    });
                    drop(st);
                    self.changed.notify_waiters();
                    let mut resp = Response::new(200, ev.body);
                    for (k, v) in ev.headers {
                        resp = resp.header(&k, v);
                    }
                    return Reply::Send(resp);
                }
            }
            notified.await;
        }
    }

    fn answer(&self, req: &Request, kind: Kind) -> Reply {
        let mut st = self.lock();
        let what = match kind {
            Kind::Response => "response",
            Kind::Error => "error",
        };
        let Some(id) = st.in_flight.take() else {
            let last = st.outcomes.last().map(|o| o.request_id.clone());
            st.violations.push(format!(
                "{what} posted with no invocation in flight (last answered: {last:?})"
            ));
            return Reply::Send(Response::new(400, "no invocation in flight"));
        };
        if !st.answered.insert(id.clone()) {
            st.violations.push(format!("{id} answered twice"));
        }
        match kind {
            Kind::Error => match std::str::from_utf8(&req.body) {
                Ok(t) if t.trim().is_empty() => st
                    .violations
                    .push(format!("error post for {id} has an empty body")),
                Ok(t) if t.contains('\n') || t.contains('\r') => st
                    .violations
                    .push(format!("error post for {id} is not one line: {t:?}")),
                Ok(_) => {}
                Err(_) => st
                    .violations
                    .push(format!("error post for {id} is not UTF-8")),
            },
            Kind::Response => {
                if serde_json::from_slice::<serde_json::Value>(&req.body).is_err() {
                    st.violations.push(format!(
                        "response post for {id} is not JSON: {:?}",
                        String::from_utf8_lossy(&req.body)
                    ));
                }
            }
        }
        st.outcomes.push(Outcome {
            request_id: id,
            kind,
            body: req.body.clone(),
            at: Instant::now(),
        });
        Reply::Send(Response::new(200, ""))
    }
}

/// A running fake runtime API on a loopback port; stops when dropped.
pub struct FakeRuntime {
    shared: Arc<Shared>,
    addr: SocketAddr,
    server: tokio::sync::Mutex<Option<Server>>,
}

impl FakeRuntime {
    /// Starts on a fresh loopback port.
    pub async fn start() -> FakeRuntime {
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            changed: Notify::new(),
        });
        let server = Self::serve(shared.clone(), "127.0.0.1:0").await;
        FakeRuntime {
            shared,
            addr: server.addr,
            server: tokio::sync::Mutex::new(Some(server)),
        }
    }

    async fn serve(shared: Arc<Shared>, addr: &str) -> Server {
        serve_on(addr, move |req| shared.clone().handle(req)).await
    }

    /// `http://127.0.0.1:PORT`: the `api_base` for `runtime::run`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Value for `SCF_RUNTIME_API`.
    pub fn host(&self) -> String {
        self.addr.ip().to_string()
    }

    /// Value for `SCF_RUNTIME_API_PORT`.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Queues an event with SCF-like headers (lowercase names, 3000 ms limit); returns its request id.
    pub fn push_event(&self, body: impl Into<Vec<u8>>) -> String {
        self.push_event_with(body, Some(3000), HeaderStyle::Lower)
    }

    /// Queues an event with a chosen time limit (`None` = header absent) and header-name spelling.
    pub fn push_event_with(
        &self,
        body: impl Into<Vec<u8>>,
        time_limit_ms: Option<u64>,
        style: HeaderStyle,
    ) -> String {
        let id = self.next_request_id();
        let mut headers = vec![
            (style.apply("request_id"), id.clone()),
            (style.apply("memory_limit_in_mb"), "128".to_string()),
            ("Content-Type".to_string(), "application/json".to_string()),
        ];
        if let Some(ms) = time_limit_ms {
            headers.push((style.apply("time_limit_in_ms"), ms.to_string()));
        }
        self.push_raw(id.clone(), body, headers);
        id
    }

    /// Queues an event with exactly these response headers; `request_id` is what the fake
    /// attributes answers to (it need not appear in `headers`).
    pub fn push_raw(
        &self,
        request_id: String,
        body: impl Into<Vec<u8>>,
        headers: Vec<(String, String)>,
    ) {
        self.shared.lock().queue.push_back(Queued {
            request_id,
            body: body.into(),
            headers,
        });
        self.shared.changed.notify_waiters();
    }

    fn next_request_id(&self) -> String {
        let mut st = self.shared.lock();
        st.seq += 1;
        format!("fake-{:04}-{:08x}", st.seq, std::process::id())
    }

    /// Makes the next `count` requests to `endpoint` fail with `fault` (before any protocol effect).
    pub fn inject_faults(&self, endpoint: Endpoint, fault: Fault, count: usize) {
        self.shared.lock().faults.push((endpoint, fault, count));
    }

    /// Waits until at least `n` answers arrived and returns all of them; panics on timeout.
    pub async fn wait_results(&self, n: usize, timeout: Duration) -> Vec<Outcome> {
        self.wait_until(timeout, &format!("{n} answers"), |st| {
            (st.outcomes.len() >= n).then(|| st.outcomes.clone())
        })
        .await
    }

    /// Like [`Self::wait_results`] without copying the answers (for loops and benchmarks).
    pub async fn wait_answered(&self, n: usize, timeout: Duration) {
        self.wait_until(timeout, &format!("{n} answers"), |st| {
            (st.outcomes.len() >= n).then_some(())
        })
        .await
    }

    /// Waits until a `next` long poll is parked (the runtime is idle); panics on timeout.
    pub async fn wait_idle_poll(&self, timeout: Duration) {
        self.wait_until(timeout, "a parked invocation/next", |st| {
            (st.polls_parked > 0).then_some(())
        })
        .await
    }

    /// Waits until `n` events were delivered by `next`; panics on timeout.
    pub async fn wait_deliveries(&self, n: usize, timeout: Duration) -> Vec<Delivery> {
        self.wait_until(timeout, &format!("{n} deliveries"), |st| {
            (st.deliveries.len() >= n).then(|| st.deliveries.clone())
        })
        .await
    }

    async fn wait_until<T>(
        &self,
        timeout: Duration,
        what: &str,
        mut check: impl FnMut(&State) -> Option<T>,
    ) -> T {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let notified = self.shared.changed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if let Some(v) = check(&self.shared.lock()) {
                return v;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                let st = self.shared.lock();
                panic!(
                    "fake runtime: timed out after {timeout:?} waiting for {what}; answers: {}, \
                     deliveries: {}, queued: {}, calls: {:?}, violations: {:?}",
                    st.outcomes.len(),
                    st.deliveries.len(),
                    st.queue.len(),
                    st.calls
                        .iter()
                        .map(|c| format!("{} {}", c.method, c.path))
                        .collect::<Vec<_>>(),
                    st.violations
                );
            }
        }
    }

    /// All answers so far, in arrival order.
    pub fn results(&self) -> Vec<Outcome> {
        self.shared.lock().outcomes.clone()
    }

    /// Events handed out so far, in order.
    pub fn deliveries(&self) -> Vec<Delivery> {
        self.shared.lock().deliveries.clone()
    }

    /// How many `init/ready` posts were processed.
    pub fn ready_count(&self) -> usize {
        self.shared.lock().ready_count
    }

    /// Chronological log of processed requests.
    pub fn calls(&self) -> Vec<Call> {
        self.shared.lock().calls.clone()
    }

    /// The call log as `"METHOD /path"` strings, for ordering assertions.
    pub fn call_log(&self) -> Vec<String> {
        self.calls()
            .iter()
            .map(|c| format!("{} {}", c.method, c.path))
            .collect()
    }

    /// Events still queued (not yet delivered).
    pub fn queued(&self) -> usize {
        self.shared.lock().queue.len()
    }

    /// Requests reset because the fake was down.
    pub fn refused_while_down(&self) -> usize {
        self.shared.lock().refused_while_down
    }

    /// Protocol breaches seen so far.
    pub fn violations(&self) -> Vec<String> {
        self.shared.lock().violations.clone()
    }

    /// Panics listing the protocol breaches, if any.
    pub fn assert_clean(&self) {
        let v = self.violations();
        assert!(v.is_empty(), "runtime API protocol violations: {v:#?}");
    }

    /// The request id of the invocation handed out and not yet answered, if any.
    pub fn in_flight(&self) -> Option<String> {
        self.shared.lock().in_flight.clone()
    }

    /// Emulates the platform killing the instance (a timeout) and starting a fresh one: the
    /// invocation in flight is abandoned as timed out and returned, polls parked by the old
    /// instance are dropped (reset) so they cannot swallow an event, and the new instance must
    /// post `init/ready` again before its first `next`. Call it only after the old process is gone.
    pub fn restart_instance(&self) -> Option<String> {
        let mut st = self.shared.lock();
        let abandoned = st.in_flight.take();
        if let Some(id) = &abandoned {
            st.answered.insert(id.clone());
            st.timed_out.push(id.clone());
        }
        st.generation += 1;
        st.ready_count = 0;
        st.instance_start = st.calls.len();
        drop(st);
        self.shared.changed.notify_waiters();
        abandoned
    }

    /// Request ids abandoned by [`Self::restart_instance`], in order.
    pub fn timed_out(&self) -> Vec<String> {
        self.shared.lock().timed_out.clone()
    }

    /// Stops listening and resets every request (parked polls included) until [`Self::come_back`].
    /// Queued events and the invocation in flight are kept.
    pub async fn go_down(&self) {
        self.shared.lock().down = true;
        self.shared.changed.notify_waiters();
        drop(self.server.lock().await.take());
        // Aborting the accept task is asynchronous: wait until the port really refuses.
        for _ in 0..200 {
            if tokio::net::TcpStream::connect(self.addr).await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        panic!(
            "fake runtime: port {} still accepts after go_down",
            self.addr
        );
    }

    /// Listens again on the same port.
    pub async fn come_back(&self) {
        let mut server = self.server.lock().await;
        if server.is_some() {
            return;
        }
        for _ in 0..200 {
            if std::net::TcpListener::bind(self.addr).is_ok() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        *server = Some(Self::serve(self.shared.clone(), &self.addr.to_string()).await);
        self.shared.lock().down = false;
        self.shared.changed.notify_waiters();
    }
}
