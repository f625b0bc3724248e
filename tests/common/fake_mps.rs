//! Fake MPS Cloud API (`DescribeTasks`, `DescribeTaskDetail`, version `2019-06-12`) on
//! loopback, that VERIFIES every request's TC3 signature with service `mps` (through
//! [`super::fake_cloudapi::check_tc3`], the fake's own signer, nothing from the crate).
//!
//! It holds a list of tasks ([`FakeTask`]), lists the finished ones whose `CreateTime`
//! lies in `StartTime`..=`EndTime` a `Limit` (at most 100) at a time with an opaque
//! `ScrollToken`, and answers `DescribeTaskDetail` with the task's structure in its
//! type's field (every other type's field `null`, as the API does) and a
//! `TaskNotifyConfig` holding a `NotifyKey`. Faults (after verification): a scripted queue,
//! else seeded random `RequestLimitExceeded`, `InternalError` and HTTP 502/503. Each
//! request can be held for [`FakeMpsOptions::delay`] before it is answered, so the most
//! requests in flight at once ([`FakeMpsStats::max_in_flight`]) shows the client's bound.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};

use super::fake_cloudapi::{check_tc3, Tc3Expect};
use super::http::{serve_with, Reply, Request, Response, Server, Writes};
use super::seeded::{lock, pick, Faults, Seeded};

/// How the fake is set up.
#[derive(Debug, Clone)]
pub struct FakeMpsOptions {
    /// Expected SecretId.
    pub secret_id: String,
    /// Key signatures are verified with.
    pub secret_key: String,
    /// Required `X-TC-Token`, when set.
    pub session_token: Option<String>,
    /// Expected `X-TC-Region`.
    pub region: String,
    /// Probability of `RequestLimitExceeded` on a verified request.
    pub throttle: f64,
    /// Probability of `InternalError`.
    pub internal_error: f64,
    /// Probability of an HTTP 502/503 from a gateway.
    pub http_5xx: f64,
    /// Time each request is held before it is answered.
    pub delay: Duration,
    /// Seed of the fault PRNG.
    pub seed: u64,
}

impl Default for FakeMpsOptions {
    fn default() -> Self {
        FakeMpsOptions {
            secret_id: "AKIDfakeMps000000000000000000000000".into(),
            secret_key: "fakeMpsSecretKey0000000000000000".into(),
            session_token: Some("fake-mps-session-token-000000".into()),
            region: "ap-guangzhou".into(),
            throttle: 0.0,
            internal_error: 0.0,
            http_5xx: 0.0,
            delay: Duration::ZERO,
            seed: 7,
        }
    }
}

/// One injected fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MpsFault {
    /// `RequestLimitExceeded` inside an HTTP 200.
    Throttle,
    /// `InternalError` inside an HTTP 200.
    InternalError,
    /// An HTTP status with an HTML body.
    Http(u16),
    /// Any API error code inside an HTTP 200.
    ApiError(String),
}

/// A task MPS knows.
#[derive(Debug, Clone)]
pub struct FakeTask {
    /// `TaskId`.
    pub task_id: String,
    /// `TaskType` as `DescribeTasks` lists it (`LiveProcessTask` for a live stream).
    pub list_type: String,
    /// `TaskType` of the detail (`LiveStreamProcessTask` for a live stream).
    pub detail_type: String,
    /// The detail field holding the structure (`ExtractBlindWatermarkTask` for a watermark).
    pub detail_field: String,
    /// `Status`.
    pub status: String,
    /// `CreateTime`, ISO 8601.
    pub create_time: String,
    /// `FinishTime`, ISO 8601 (`0000-00-00T00:00:00Z` while unfinished).
    pub finish_time: String,
    /// `SessionId`.
    pub session_id: String,
    /// `SessionContext`.
    pub session_context: String,
    /// The task structure (what the callback carries), as JSON text so every number
    /// stays as written.
    pub task: String,
}

impl FakeTask {
    /// The callback MPS sends when this task ends, as a URL notification: the envelope
    /// field of its type, `SessionId`, `SessionContext`, and the delivery's `Timestamp` and
    /// `Sign`, written out by hand (not by the crate's rebuild).
    pub fn callback(&self) -> String {
        let field = match self.detail_type.as_str() {
            "ExtractBlindWatermark" => "ExtractBlindWatermarkTask".to_string(),
            "LiveStreamProcessTask" => "LiveStreamProcessTask".to_string(),
            t => format!("{t}Event"),
        };
        format!(
            r#"{{"EventType":{},"{field}":{},"SessionId":{},"SessionContext":{},"Timestamp":1764000600,"Sign":"a485038d35a648a9b1c6615d4ad4211f"}}"#,
            json!(self.detail_type),
            self.task,
            json!(self.session_id),
            json!(self.session_context)
        )
    }
}

/// Counters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FakeMpsStats {
    /// Requests received.
    pub requests: u64,
    /// `DescribeTasks` answered with a page.
    pub pages: u64,
    /// `DescribeTaskDetail` answered with a detail.
    pub details: u64,
    /// Faults injected.
    pub faults: u64,
    /// Requests that failed verification.
    pub verification_failures: u64,
    /// Most requests held at once.
    pub max_in_flight: usize,
}

struct State {
    opts: FakeMpsOptions,
    host: String,
    tasks: Vec<FakeTask>,
    faults: Faults<MpsFault>,
    stats: FakeMpsStats,
    failures: Vec<String>,
    /// Task ids whose detail was asked for, in order.
    detail_asks: Vec<String>,
}

/// A running fake MPS endpoint; stops when dropped.
pub struct FakeMps {
    server: Server,
    state: Arc<Mutex<State>>,
}

impl FakeMps {
    /// Starts the fake on a fresh loopback port with `tasks`.
    pub async fn start(opts: FakeMpsOptions, tasks: Vec<FakeTask>) -> FakeMps {
        let state = Arc::new(Mutex::new(State {
            faults: Faults::new(opts.seed),
            opts,
            host: String::new(),
            tasks,
            stats: FakeMpsStats::default(),
            failures: Vec::new(),
            detail_asks: Vec::new(),
        }));
        let in_flight = Arc::new(AtomicUsize::new(0));
        let shared = state.clone();
        let server = serve_with("127.0.0.1:0", Writes::from_env(), move |req| {
            let state = shared.clone();
            let in_flight = in_flight.clone();
            async move {
                let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                let delay = {
                    let mut st = lock(&state);
                    st.stats.max_in_flight = st.stats.max_in_flight.max(now);
                    st.opts.delay
                };
                if !delay.is_zero() {
                    tokio::time::sleep(delay).await;
                }
                let reply = handle(&mut lock(&state), req);
                in_flight.fetch_sub(1, Ordering::SeqCst);
                reply
            }
        })
        .await;
        lock(&state).host = server.addr.to_string();
        FakeMps { server, state }
    }

    /// `http://127.0.0.1:PORT` (`MPS_ENDPOINT`).
    pub fn url(&self) -> String {
        self.server.url()
    }

    /// The options in force.
    pub fn options(&self) -> FakeMpsOptions {
        lock(&self.state).opts.clone()
    }

    /// Counters.
    pub fn stats(&self) -> FakeMpsStats {
        lock(&self.state).stats.clone()
    }

    /// One line per request that failed verification.
    pub fn verification_failures(&self) -> Vec<String> {
        lock(&self.state).failures.clone()
    }

    /// Task ids whose detail was answered, in order.
    pub fn detail_asks(&self) -> Vec<String> {
        lock(&self.state).detail_asks.clone()
    }

    /// Queues faults for the next verified requests.
    pub fn push_faults(&self, faults: impl IntoIterator<Item = MpsFault>) {
        lock(&self.state).faults.push(faults);
    }

    /// Replaces the random fault rates and the delay.
    pub fn set_faults(&self, throttle: f64, internal_error: f64, http_5xx: f64) {
        let mut st = lock(&self.state);
        st.opts.throttle = throttle;
        st.opts.internal_error = internal_error;
        st.opts.http_5xx = http_5xx;
    }

    /// Holds every later request this long.
    pub fn set_delay(&self, delay: Duration) {
        lock(&self.state).opts.delay = delay;
    }

    /// The environment the binary needs to reach this fake.
    pub fn env(&self) -> Vec<(String, String)> {
        let o = self.options();
        let mut env = vec![
            ("MPS_ENDPOINT".to_string(), self.url()),
            ("MPS_REGION".to_string(), o.region),
            ("TENCENTCLOUD_SECRETID".to_string(), o.secret_id),
            ("TENCENTCLOUD_SECRETKEY".to_string(), o.secret_key),
        ];
        if let Some(t) = o.session_token {
            env.push(("TENCENTCLOUD_SESSIONTOKEN".to_string(), t));
        }
        env
    }
}

fn api_error(st: &State, code: &str, message: &str) -> Reply {
    let body = json!({
        "Response": {
            "Error": {"Code": code, "Message": message},
            "RequestId": format!("fake-mps-err-{:06}", st.stats.requests),
        }
    });
    Reply::Send(Response::new(200, body.to_string()).header("Content-Type", "application/json"))
}

fn answer(st: &State, fields: String) -> Reply {
    let body = format!(
        r#"{{"Response":{{{fields},"RequestId":"fake-mps-{:06}"}}}}"#,
        st.stats.requests
    );
    Reply::Send(Response::new(200, body).header("Content-Type", "application/json"))
}

fn random_fault(rng: &mut Seeded, o: &FakeMpsOptions) -> Option<MpsFault> {
    let x = rng.draw();
    let status = if rng.draw() < 0.5 { 502 } else { 503 };
    pick(
        x,
        [
            (o.throttle, MpsFault::Throttle),
            (o.internal_error, MpsFault::InternalError),
            (o.http_5xx, MpsFault::Http(status)),
        ],
    )
}

/// The detail field names the API sends (all `null` but the task's own).
const DETAIL_FIELDS: [&str; 6] = [
    "WorkflowTask",
    "EditMediaTask",
    "ScheduleTask",
    "LiveStreamProcessTask",
    "ExtractBlindWatermarkTask",
    "LiveScheduleTask",
];

fn handle(st: &mut State, req: Request) -> Reply {
    st.stats.requests += 1;
    let checked = check_tc3(
        &req,
        &Tc3Expect {
            host: &st.host,
            service: "mps",
            version: "2019-06-12",
            region: &st.opts.region,
            secret_id: &st.opts.secret_id,
            secret_key: &st.opts.secret_key,
            session_token: st.opts.session_token.as_deref(),
            clock_skew_secs: 0,
        },
    );
    let action = match checked {
        Ok(a) if a == "DescribeTasks" || a == "DescribeTaskDetail" => a,
        Ok(a) => {
            st.stats.verification_failures += 1;
            st.failures
                .push(format!("InvalidAction: X-TC-Action {a:?}"));
            return api_error(st, "InvalidAction", &format!("X-TC-Action {a:?}"));
        }
        Err((code, message)) => {
            st.stats.verification_failures += 1;
            st.failures.push(format!("{code}: {message}"));
            return api_error(st, code, &message);
        }
    };
    let params: Value = match serde_json::from_slice(&req.body) {
        Ok(v @ Value::Object(_)) => v,
        _ => {
            st.stats.verification_failures += 1;
            st.failures.push("body is not a JSON object".into());
            return api_error(st, "InvalidParameter", "body is not a JSON object");
        }
    };
    let opts = st.opts.clone();
    if let Some(fault) = st.faults.next(|rng| random_fault(rng, &opts)) {
        st.stats.faults += 1;
        return match fault {
            MpsFault::Throttle => api_error(st, "RequestLimitExceeded", "too many requests"),
            MpsFault::InternalError => api_error(st, "InternalError", "internal error"),
            MpsFault::ApiError(code) => api_error(st, &code, "scripted error"),
            MpsFault::Http(status) => Reply::Send(
                Response::new(status, "<html><body>gateway error</body></html>")
                    .header("Content-Type", "text/html"),
            ),
        };
    }
    match action.as_str() {
        "DescribeTasks" => describe_tasks(st, &params),
        _ => describe_task_detail(st, &params),
    }
}

fn describe_tasks(st: &mut State, p: &Value) -> Reply {
    let text = |k: &str| p.get(k).and_then(Value::as_str);
    let limit = p.get("Limit").and_then(Value::as_u64).unwrap_or(10);
    if !(1..=100).contains(&limit) {
        st.stats.verification_failures += 1;
        st.failures.push(format!("Limit {limit}"));
        return api_error(st, "InvalidParameterValue.Limit", "Limit must be 1..100");
    }
    let time = |k: &str| {
        text(k).and_then(|t| {
            chrono::DateTime::parse_from_rfc3339(t)
                .ok()
                .filter(|_| t.ends_with('Z'))
        })
    };
    let (Some(start), Some(end)) = (time("StartTime"), time("EndTime")) else {
        st.stats.verification_failures += 1;
        st.failures.push(format!("StartTime/EndTime {p}"));
        return api_error(
            st,
            "InvalidParameterValue.Time",
            "ISO 8601 UTC times required",
        );
    };
    let status = text("Status");
    let matching: Vec<&FakeTask> = st
        .tasks
        .iter()
        .filter(|t| status.is_none_or(|s| s == t.status))
        .filter(|t| {
            chrono::DateTime::parse_from_rfc3339(&t.create_time)
                .is_ok_and(|c| c >= start && c <= end)
        })
        .collect();
    // The token is opaque to clients: the offset, disguised.
    let from = match text("ScrollToken") {
        None | Some("") => 0,
        Some(tok) => match tok.strip_prefix("scroll-").and_then(|n| n.parse().ok()) {
            Some(n) => n,
            None => {
                st.stats.verification_failures += 1;
                st.failures.push(format!("ScrollToken {tok:?}"));
                return api_error(st, "InvalidParameterValue.ScrollToken", "unknown token");
            }
        },
    };
    let to = (from + limit as usize).min(matching.len());
    let set: Vec<Value> = matching[from.min(to)..to]
        .iter()
        .map(|t| {
            json!({
                "TaskId": t.task_id, "TaskType": t.list_type, "CreateTime": t.create_time,
                "BeginProcessTime": t.create_time, "FinishTime": t.finish_time,
                "SubTaskTypes": ["Transcode"],
            })
        })
        .collect();
    let token = if to < matching.len() {
        format!("scroll-{to}")
    } else {
        String::new()
    };
    let fields = format!(
        r#""TaskSet":{},"ScrollToken":{},"TotalCount":{}"#,
        Value::Array(set),
        json!(token),
        matching.len()
    );
    st.stats.pages += 1;
    answer(st, fields)
}

fn describe_task_detail(st: &mut State, p: &Value) -> Reply {
    let Some(id) = p.get("TaskId").and_then(Value::as_str) else {
        return api_error(st, "MissingParameter", "TaskId");
    };
    let Some(t) = st.tasks.iter().find(|t| t.task_id == id).cloned() else {
        return api_error(st, "ResourceNotFound.TaskNotExist", "task not found");
    };
    let mut fields = format!(
        r#""TaskType":{},"Status":{},"CreateTime":{},"BeginProcessTime":{},"FinishTime":{}"#,
        json!(t.detail_type),
        json!(t.status),
        json!(t.create_time),
        json!(t.create_time),
        json!(t.finish_time)
    );
    for f in DETAIL_FIELDS {
        let v = if f == t.detail_field {
            t.task.as_str()
        } else {
            "null"
        };
        fields.push_str(&format!(r#","{f}":{v}"#));
    }
    fields.push_str(&format!(
        r#","TaskNotifyConfig":{{"NotifyType":"URL","NotifyUrl":"https://hooks.example.com/mps","NotifyKey":"fake-notify-key"}},"TasksPriority":0,"SessionId":{},"SessionContext":{},"ExtInfo":"""#,
        json!(t.session_id),
        json!(t.session_context)
    ));
    st.stats.details += 1;
    st.detail_asks.push(t.task_id.clone());
    answer(st, fields)
}
