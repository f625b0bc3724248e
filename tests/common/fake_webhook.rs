//! Fake webhook receiver (a URL forwarding target) on loopback.
//!
//! Records every body it receives. Checks, independently of the crate: `POST`,
//! `Content-Type: application/json`, a body that is a JSON object, and, when it has a notify
//! key, the MPS signature as a receiver checks it: a top-level integer `Timestamp` that has
//! not expired (and is at most 600 s + a little ahead), and `Sign` = lowercase hex
//! MD5(decimal Timestamp + key). A failing check is answered 401 (signature) or 400 and
//! recorded in [`FakeWebhook::verification_failures`].
//!
//! A verified request then meets fault injection (scripted queue, else seeded random
//! [`HookFaultRates`]); without one it is recorded as delivered and answered 200.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use md5::{Digest, Md5};

use super::http::{Reply, Request, Response, Server, Writes};
use super::seeded::{lock, pick, serve_state, Faults, Seeded};

/// How the fake is set up.
#[derive(Debug, Clone, Default)]
pub struct FakeWebhookOptions {
    /// When set, every body must carry a valid MPS signature made with this key.
    pub notify_key: Option<String>,
    /// Seeded random faults when the script is empty.
    pub rates: HookFaultRates,
    /// Seed of the fault PRNG.
    pub seed: u64,
}

/// Probabilities (summed in this order) of faults on a verified request.
#[derive(Debug, Clone, Default)]
pub struct HookFaultRates {
    /// 500, 502 or 503; not delivered.
    pub http_5xx: f64,
    /// TCP reset before answering; not delivered.
    pub reset: f64,
    /// Delivered, then reset: the answer is lost.
    pub reset_after_delivery: f64,
    /// Stall for `stall_for`, then close; not delivered.
    pub stall: f64,
    /// How long a random stall lasts.
    pub stall_for: Duration,
}

/// One injected fault.
#[derive(Debug, Clone, PartialEq)]
pub enum HookFault {
    /// Answer this status (not delivered unless 2xx).
    Status(u16),
    /// 307 to another host.
    Redirect,
    /// TCP reset before answering.
    Reset,
    /// Deliver, then reset.
    ResetAfterDelivery,
    /// Wait, then close without answering.
    Stall(Duration),
    /// Deliver, answer 200 with `Content-Length: 64`, send 10 body bytes, then close.
    CutShortBody,
    /// Deliver, answer 200 at once, then send its 64-byte body one byte every `Duration`.
    TrickleBody(Duration),
}

/// Counters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FakeWebhookStats {
    /// Requests received.
    pub requests: u64,
    /// Bodies recorded as delivered.
    pub delivered: u64,
    /// Faults injected.
    pub faults: u64,
    /// Requests that failed verification.
    pub verification_failures: u64,
}

struct State {
    opts: FakeWebhookOptions,
    delivered: Vec<Vec<u8>>,
    received: Vec<Request>,
    failures: Vec<String>,
    faults: Faults<HookFault>,
    stats: FakeWebhookStats,
}

/// A running fake receiver; stops when dropped.
pub struct FakeWebhook {
    server: Server,
    state: Arc<Mutex<State>>,
}

impl FakeWebhook {
    /// Starts the fake on a fresh loopback port.
    pub async fn start(opts: FakeWebhookOptions) -> FakeWebhook {
        let state = Arc::new(Mutex::new(State {
            faults: Faults::new(opts.seed),
            opts,
            delivered: Vec::new(),
            received: Vec::new(),
            failures: Vec::new(),
            stats: FakeWebhookStats::default(),
        }));
        let server = serve_state(Writes::from_env(), &state, handle).await;
        FakeWebhook { server, state }
    }

    /// URL of the hook, `http://127.0.0.1:PORT/hook?token=...` (the query stands for a
    /// secret a real receiver might use).
    pub fn url(&self) -> String {
        format!("{}/hook?token=hook-secret-token", self.server.url())
    }

    /// Bodies accepted (answered 2xx, or delivered then reset), in order.
    pub fn delivered(&self) -> Vec<Vec<u8>> {
        lock(&self.state).delivered.clone()
    }

    /// Every request received, verified or not.
    pub fn received(&self) -> Vec<Request> {
        lock(&self.state).received.clone()
    }

    /// Counters.
    pub fn stats(&self) -> FakeWebhookStats {
        lock(&self.state).stats.clone()
    }

    /// One line per request that failed verification.
    pub fn verification_failures(&self) -> Vec<String> {
        lock(&self.state).failures.clone()
    }

    /// Queues faults for the next verified requests.
    pub fn push_faults(&self, faults: impl IntoIterator<Item = HookFault>) {
        lock(&self.state).faults.push(faults);
    }
}

/// MPS's signature, computed here independently: md5(decimal timestamp + key), lowercase hex.
pub fn mps_signature(timestamp: u64, key: &str) -> String {
    let digest = Md5::digest(format!("{timestamp}{key}").as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// `body` with its top-level `Timestamp` and `Sign` removed, as a JSON value: what a
/// re-signed forward must equal once the signature is taken away.
pub fn without_signature(body: &[u8]) -> Option<serde_json::Value> {
    let mut v: serde_json::Value = serde_json::from_slice(body).ok()?;
    let obj = v.as_object_mut()?;
    obj.remove("Timestamp");
    obj.remove("Sign");
    Some(v)
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn verify(st: &State, req: &Request) -> Result<(), (u16, String)> {
    if req.method != "POST" {
        return Err((405, format!("method {}", req.method)));
    }
    if req.header("content-type") != Some("application/json") {
        return Err((
            415,
            format!("Content-Type {:?}", req.header("content-type")),
        ));
    }
    let body: serde_json::Value =
        serde_json::from_slice(&req.body).map_err(|e| (400, format!("body is not JSON: {e}")))?;
    if !body.is_object() {
        return Err((400, "body is not a JSON object".into()));
    }
    if let Some(key) = &st.opts.notify_key {
        let ts = body
            .get("Timestamp")
            .and_then(|v| v.as_u64())
            .ok_or((401, "Timestamp missing or not an integer".to_string()))?;
        let now = now_secs();
        if ts <= now {
            return Err((401, format!("Timestamp {ts} expired (now {now})")));
        }
        if ts > now + 600 + 5 {
            return Err((401, format!("Timestamp {ts} too far ahead (now {now})")));
        }
        let sign = body
            .get("Sign")
            .and_then(|v| v.as_str())
            .ok_or((401, "Sign missing".to_string()))?;
        if sign != mps_signature(ts, key) {
            return Err((401, "Sign does not match".into()));
        }
    }
    Ok(())
}

fn random_fault(rng: &mut Seeded, r: &HookFaultRates) -> Option<HookFault> {
    let x = rng.draw();
    let status = [500, 502, 503][(rng.draw() * 3.0) as usize % 3];
    pick(
        x,
        [
            (r.http_5xx, HookFault::Status(status)),
            (r.reset, HookFault::Reset),
            (r.reset_after_delivery, HookFault::ResetAfterDelivery),
            (r.stall, HookFault::Stall(r.stall_for)),
        ],
    )
}

fn handle(st: &mut State, req: Request) -> Reply {
    st.stats.requests += 1;
    st.received.push(req.clone());
    if let Err((status, why)) = verify(st, &req) {
        st.stats.verification_failures += 1;
        st.failures.push(format!("{status}: {why}"));
        return Reply::Send(Response::new(status, why));
    }
    let fault = st.faults.next(|rng| random_fault(rng, &st.opts.rates));
    if fault.is_some() {
        st.stats.faults += 1;
    }
    match fault {
        None => {
            st.stats.delivered += 1;
            st.delivered.push(req.body);
            Reply::Send(
                Response::new(200, "{\"ok\":true}")
                    .header("X-Request-Id", format!("hook-{:06}", st.stats.requests)),
            )
        }
        Some(HookFault::Status(s)) => {
            if (200..300).contains(&s) {
                st.stats.delivered += 1;
                st.delivered.push(req.body);
            }
            Reply::Send(Response::new(s, "scripted"))
        }
        Some(HookFault::Redirect) => {
            Reply::Send(Response::new(307, "").header("Location", "http://elsewhere.example/hook"))
        }
        Some(HookFault::Reset) => Reply::Reset,
        Some(HookFault::ResetAfterDelivery) => {
            st.stats.delivered += 1;
            st.delivered.push(req.body);
            Reply::Reset
        }
        Some(HookFault::Stall(d)) => Reply::Stall(d),
        Some(fault @ (HookFault::CutShortBody | HookFault::TrickleBody(_))) => {
            st.stats.delivered += 1;
            st.delivered.push(req.body);
            let resp = Response::new(200, vec![b'x'; 64])
                .header("X-Request-Id", format!("hook-{:06}", st.stats.requests));
            match fault {
                HookFault::TrickleBody(every) => Reply::Trickle(resp, every),
                _ => Reply::CutShort(resp, 10),
            }
        }
    }
}
