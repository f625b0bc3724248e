//! End-to-end loopback benchmark: the RELEASE binary, started through `bootstrap` from a
//! package-like folder, against the fake SCF runtime API and the verifying fake COS, side by
//! side with the Python peer (`bench/python-peer/peer.py`, cos-python-sdk-v5).
//!
//! ```sh
//! sh bench/python-peer/setup.sh && cargo build --release && \
//!   cargo run --release --example loopback_bench -- --events 2000 --starts 20
//! ```
//!
//! Options: `--events N` (2000), `--starts N` (20), `--peer python|none` (python),
//! `--python PATH` (default `target/python-peer-venv/bin/python`, made by `setup.sh`),
//! `--binary PATH` (default `target/release/mps-cos-backup`; e.g. an unstripped build to profile),
//! `--server-writes single|split|chunked|close|mixed` (single): how the fakes write each answer;
//! `split` writes headers and body in two writes with Nagle on, as Python's `http.server` does;
//! `--forward none|scf|webhook|both` (none): also forward every callback to a fake SCF function
//! (through the verifying fake Cloud API), a fake webhook, or both (the Python peer does not
//! forward: use `--peer none`); `--channel trigger|url` (trigger): hand the binary trigger
//! callbacks, or the same callbacks as Function URL requests (token in the query, body signed
//! with a fresh MPS `Sign`, `CALLBACK_TOKEN` and `CALLBACK_NOTIFY_KEY` set), so that the cost of
//! the HTTP path shows beside the trigger path (the Python peer has no HTTP path: `--peer none`).
//!
//! Measures per peer: cold start (spawn -> `init/ready` received by the fake, fresh process each
//! time, killed after ready), events/s (N events queued upfront, first push -> last answer),
//! CPU per event (utime+stime from `/proc/<pid>/stat`, after ready -> after the last answer),
//! latency (the fake's `next` response -> arrival of the answer post), peak RSS (`VmHWM`).
//! It also checks the run: N objects stored, no COS verification failures, no runtime API
//! protocol violations, no error posts. Figures are reported, never asserted; the table is
//! printed and written to `target/loopback-bench-<server-writes>-forward-<forward>.json`.
#[path = "../tests/common/mod.rs"]
mod common;

use std::collections::HashMap;
use std::error::Error;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant, SystemTime};

use common::fake_cloudapi::{FakeCloudApi, FakeCloudApiOptions};
use common::fake_cos::FakeCos;
use common::fake_runtime::{FakeRuntime, Kind};
use common::fake_webhook::{FakeWebhook, FakeWebhookOptions};
use common::scf_platform;
use serde_json::{json, Value};
use tokio::process::{Child, Command};

type BoxError = Box<dyn Error + Send + Sync>;

const USAGE: &str =
    "usage: loopback_bench [--events N] [--starts N] [--peer python|none] [--python PATH] [--binary PATH] [--server-writes single|split|chunked|close|mixed] [--forward none|scf|webhook|both] [--channel trigger|url]";
const FIXTURE: &str = "fixtures/workflow-adaptive-streaming.json";
/// How long a process may take to post `init/ready`.
const READY_TIMEOUT: Duration = Duration::from_secs(30);

struct Args {
    events: usize,
    starts: usize,
    python: bool,
    python_path: Option<PathBuf>,
    binary: Option<PathBuf>,
    server_writes: String,
    forward: String,
    channel: String,
}

fn parse_args() -> Result<Args, lexopt::Error> {
    use lexopt::prelude::*;
    let mut args = Args {
        events: 2000,
        starts: 20,
        python: true,
        python_path: None,
        binary: None,
        server_writes: "single".into(),
        forward: "none".into(),
        channel: "trigger".into(),
    };
    let mut parser = lexopt::Parser::from_env();
    while let Some(arg) = parser.next()? {
        match arg {
            Long("events") => args.events = parser.value()?.parse()?,
            Long("starts") => args.starts = parser.value()?.parse()?,
            Long("peer") => {
                let v: String = parser.value()?.parse()?;
                args.python = match v.as_str() {
                    "python" => true,
                    "none" => false,
                    _ => return Err(format!("--peer must be python or none, not {v:?}").into()),
                };
            }
            Long("python") => args.python_path = Some(parser.value()?.into()),
            Long("binary") => args.binary = Some(parser.value()?.into()),
            Long("server-writes") => {
                let v: String = parser.value()?.parse()?;
                if !["single", "split", "chunked", "close", "mixed"].contains(&v.as_str()) {
                    return Err(format!(
                        "--server-writes must be single, split, chunked, close or mixed, not {v:?}"
                    )
                    .into());
                }
                args.server_writes = v;
            }
            Long("forward") => {
                let v: String = parser.value()?.parse()?;
                if !["none", "scf", "webhook", "both"].contains(&v.as_str()) {
                    return Err(
                        format!("--forward must be none, scf, webhook or both, not {v:?}").into(),
                    );
                }
                args.forward = v;
            }
            Long("channel") => {
                let v: String = parser.value()?.parse()?;
                if !["trigger", "url"].contains(&v.as_str()) {
                    return Err(format!("--channel must be trigger or url, not {v:?}").into());
                }
                args.channel = v;
            }
            Long("help") | Short('h') => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            _ => return Err(arg.unexpected()),
        }
    }
    if args.channel == "url" && args.python {
        return Err("--channel url needs --peer none (the Python peer has no HTTP path)".into());
    }
    if args.events == 0 || args.starts == 0 {
        return Err("--events and --starts must be at least 1".into());
    }
    Ok(args)
}

/// How to start one function implementation.
struct Peer {
    name: &'static str,
    program: PathBuf,
    args: Vec<String>,
    cwd: PathBuf,
    log: File,
}

impl Peer {
    fn spawn(
        &self,
        rt: &FakeRuntime,
        cos: &FakeCos,
        extra: &[(String, String)],
    ) -> Result<Child, BoxError> {
        let mut cmd = Command::new(&self.program);
        cmd.args(&self.args)
            .current_dir(&self.cwd)
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .envs(scf_platform::env_for(rt, cos))
            .envs(extra.iter().cloned())
            // The function's default (info) unless the caller asks to see the cost of logging.
            .env(
                "LOG_LEVEL",
                std::env::var("BENCH_LOG_LEVEL").unwrap_or_else(|_| "info".into()),
            )
            .stdin(Stdio::null())
            .stdout(Stdio::from(self.log.try_clone()?))
            .stderr(Stdio::from(self.log.try_clone()?))
            .kill_on_drop(true);
        Ok(cmd.spawn()?)
    }
}

/// Waits until the process posted `init/ready` and parked its first `next`; returns when the
/// fake received `init/ready`.
async fn wait_ready(peer: &str, rt: &FakeRuntime, child: &mut Child) -> Result<Instant, BoxError> {
    tokio::select! {
        _ = rt.wait_idle_poll(READY_TIMEOUT) => {}
        status = child.wait() => {
            return Err(format!("{peer} exited before ready ({}); see its log", status?).into());
        }
    }
    rt.calls()
        .iter()
        .find(|c| c.path == "/runtime/init/ready")
        .map(|c| c.at)
        .ok_or_else(|| format!("{peer}: next parked but no init/ready recorded").into())
}

async fn stop(child: &mut Child) -> Result<(), BoxError> {
    child.start_kill()?;
    tokio::time::timeout(Duration::from_secs(5), child.wait()).await??;
    Ok(())
}

/// (utime, stime) of a process in milliseconds, from `/proc/<pid>/stat`.
fn cpu_ms(pid: u32, clk_tck: f64) -> Result<(f64, f64), BoxError> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // Fields after the parenthesised command name start at field 3 (state); utime is 14.
    let rest = stat
        .rsplit_once(')')
        .map(|(_, r)| r)
        .ok_or("malformed /proc stat")?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| -> Result<f64, BoxError> {
        Ok(fields.get(i).ok_or("short /proc stat")?.parse::<f64>()?)
    };
    Ok((ticks(11)? * 1000.0 / clk_tck, ticks(12)? * 1000.0 / clk_tck))
}

/// Peak resident set size (`VmHWM`) in KiB.
fn vm_hwm_kib(pid: u32) -> Result<f64, BoxError> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let line = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .ok_or("no VmHWM")?;
    Ok(line
        .split_whitespace()
        .nth(1)
        .ok_or("malformed VmHWM")?
        .parse()?)
}

fn clk_tck() -> f64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100.0)
}

/// Nearest-rank percentile of sorted values.
fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = (p * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn sorted(mut v: Vec<f64>) -> Vec<f64> {
    v.sort_by(f64::total_cmp);
    v
}

/// The Function URL token and notify key of `--channel url` runs.
const URL_TOKEN: &str = "benchToken-0123456789abcdef";
const URL_NOTIFY_KEY: &str = "benchNotifyKey";

/// `event` as MPS would POST it to the Function URL: signed (expiry an hour ahead), with the
/// token in the query, inside the Function URL event.
fn as_url_request(event: &[u8]) -> Result<Vec<u8>, BoxError> {
    use md5::{Digest, Md5};
    let mut body: Value = serde_json::from_slice(event)?;
    let expiry = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)?
        .as_secs()
        + 3600;
    let sign: String = Md5::digest(format!("{expiry}{URL_NOTIFY_KEY}").as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    body["Timestamp"] = json!(expiry);
    body["Sign"] = json!(sign);
    Ok(serde_json::to_vec(&json!({
        "httpMethod": "POST",
        "path": "/",
        "headers": {"content-type": "application/json", "x-forwarded-for": "203.0.113.7"},
        "queryString": {"token": URL_TOKEN},
        // Pretty, as the trigger events are, so both paths handle callbacks of one size.
        "body": serde_json::to_string_pretty(&body)?,
    }))?)
}

/// The archive answer inside a response post: the post itself for a trigger callback, the
/// JSON body of the response object for an HTTP request (`None` when its status is not 200).
fn archive_answer(post: &[u8]) -> Option<Value> {
    let v: Value = serde_json::from_slice(post).ok()?;
    match v.get("statusCode") {
        None => Some(v),
        Some(s) if s == 200 => serde_json::from_str(v["body"].as_str()?).ok(),
        Some(_) => None,
    }
}

/// N distinct ~5 KB WorkflowTask events: the fixture with a distinct TaskId each.
fn make_events(root: &Path, n: usize) -> Result<Vec<Vec<u8>>, BoxError> {
    let text = std::fs::read_to_string(root.join(FIXTURE))?;
    let base: Value = serde_json::from_str(&text)?;
    let task_id = base["WorkflowTaskEvent"]["TaskId"]
        .as_str()
        .ok_or("fixture has no WorkflowTaskEvent.TaskId")?
        .to_string();
    (0..n)
        .map(|i| {
            let mut ev = base.clone();
            ev["WorkflowTaskEvent"]["TaskId"] = Value::String(format!("{task_id}-b{i:06}"));
            Ok(serde_json::to_vec_pretty(&ev)?)
        })
        .collect()
}

#[derive(Default)]
struct Metrics {
    cold_p50_ms: f64,
    cold_p90_ms: f64,
    events_per_s: f64,
    cpu_ms_per_event: f64,
    cpu_user_ms_per_event: f64,
    cpu_sys_ms_per_event: f64,
    lat_p50_ms: f64,
    lat_p99_ms: f64,
    peak_rss_mib: f64,
    objects: usize,
    cos_puts: u64,
    verification_failures: Vec<String>,
    violations: Vec<String>,
    error_posts: usize,
    unknown_keys: usize,
}

impl Metrics {
    fn correct(&self, n: usize) -> bool {
        self.objects == n
            && self.verification_failures.is_empty()
            && self.violations.is_empty()
            && self.error_posts == 0
            && self.unknown_keys == 0
    }

    fn to_json(&self, n: usize) -> Value {
        json!({
            "cold_start_p50_ms": self.cold_p50_ms,
            "cold_start_p90_ms": self.cold_p90_ms,
            "events_per_s": self.events_per_s,
            "cpu_ms_per_event": self.cpu_ms_per_event,
            "cpu_user_ms_per_event": self.cpu_user_ms_per_event,
            "cpu_sys_ms_per_event": self.cpu_sys_ms_per_event,
            "latency_p50_ms": self.lat_p50_ms,
            "latency_p99_ms": self.lat_p99_ms,
            "peak_rss_mib": self.peak_rss_mib,
            "objects_stored": self.objects,
            "cos_puts": self.cos_puts,
            "verification_failures": self.verification_failures,
            "protocol_violations": self.violations,
            "error_posts": self.error_posts,
            "answers_naming_unstored_keys": self.unknown_keys,
            "correct": self.correct(n),
        })
    }
}

/// The forward targets of a run: fakes without faults, and the environment that names them.
struct Targets {
    api: Option<FakeCloudApi>,
    hook: Option<FakeWebhook>,
    env: Vec<(String, String)>,
}

impl Targets {
    async fn start(which: &str) -> Targets {
        let api = if matches!(which, "scf" | "both") {
            Some(
                FakeCloudApi::start(FakeCloudApiOptions {
                    secret_id: scf_platform::SECRET_ID.into(),
                    secret_key: scf_platform::SECRET_KEY.into(),
                    session_token: Some(scf_platform::TOKEN.into()),
                    ..FakeCloudApiOptions::default()
                })
                .await,
            )
        } else {
            None
        };
        let hook = if matches!(which, "webhook" | "both") {
            Some(FakeWebhook::start(FakeWebhookOptions::default()).await)
        } else {
            None
        };
        let mut list = Vec::new();
        let mut env = Vec::new();
        if let Some(api) = &api {
            list.push("scf:bench-consumer".to_string());
            env.push(("FORWARD_SCF_ENDPOINT".to_string(), api.url()));
            env.push(("FORWARD_SCF_REGION".to_string(), "ap-guangzhou".to_string()));
        }
        if let Some(hook) = &hook {
            list.push(format!("{}/mps", hook.url()));
        }
        if !list.is_empty() {
            env.push(("ARCHIVE_FORWARD".to_string(), list.join(",")));
        }
        Targets { api, hook, env }
    }

    /// Callbacks each target accepted.
    fn delivered(&self) -> Vec<(&'static str, u64)> {
        let mut out = Vec::new();
        if let Some(api) = &self.api {
            out.push(("scf", api.stats().delivered));
        }
        if let Some(hook) = &self.hook {
            out.push(("webhook", hook.stats().delivered));
        }
        out
    }
}

async fn measure(
    peer: &Peer,
    events: &[Vec<u8>],
    starts: usize,
    forward: &str,
    channel_env: &[(String, String)],
) -> Result<Metrics, BoxError> {
    let mut targets = Targets::start(forward).await;
    targets.env.extend(channel_env.iter().cloned());
    let clk = clk_tck();
    let mut m = Metrics::default();

    // Cold starts: a fresh fake runtime and a fresh process each time.
    let cos = FakeCos::start(scf_platform::cos_options()).await;
    let mut colds = Vec::with_capacity(starts);
    for _ in 0..starts {
        let rt = FakeRuntime::start().await;
        let spawned = Instant::now();
        let mut child = peer.spawn(&rt, &cos, &targets.env)?;
        let ready = wait_ready(peer.name, &rt, &mut child).await?;
        stop(&mut child).await?;
        colds.push(ready.duration_since(spawned).as_secs_f64() * 1e3);
        m.violations.extend(rt.violations());
    }
    let colds = sorted(colds);
    m.cold_p50_ms = percentile(&colds, 0.5);
    m.cold_p90_ms = percentile(&colds, 0.9);
    drop(cos);

    // Throughput run: one process, every event queued upfront.
    let n = events.len();
    let cos = FakeCos::start(scf_platform::cos_options()).await;
    let rt = FakeRuntime::start().await;
    let mut child = peer.spawn(&rt, &cos, &targets.env)?;
    let pid = child.id().ok_or("child has no pid")?;
    wait_ready(peer.name, &rt, &mut child).await?;
    let cpu0 = cpu_ms(pid, clk)?;
    let first_push = Instant::now();
    for ev in events {
        rt.push_event(ev.clone());
    }
    let timeout = Duration::from_secs(30) + Duration::from_millis(50) * n as u32;
    tokio::select! {
        _ = rt.wait_answered(n, timeout) => {}
        status = child.wait() => {
            return Err(format!("{} exited during the run ({}); see its log", peer.name, status?).into());
        }
    }
    // Let it finish the last post and park its next poll, so its CPU is all accounted for.
    rt.wait_idle_poll(Duration::from_secs(10)).await;
    let cpu1 = cpu_ms(pid, clk)?;
    let hwm = vm_hwm_kib(pid)?;
    stop(&mut child).await?;

    let outcomes = rt.results();
    let last = outcomes.iter().map(|o| o.at).max().ok_or("no answers")?;
    m.events_per_s = n as f64 / last.duration_since(first_push).as_secs_f64();
    m.cpu_user_ms_per_event = (cpu1.0 - cpu0.0) / n as f64;
    m.cpu_sys_ms_per_event = (cpu1.1 - cpu0.1) / n as f64;
    m.cpu_ms_per_event = m.cpu_user_ms_per_event + m.cpu_sys_ms_per_event;
    m.peak_rss_mib = hwm / 1024.0;
    let delivered: HashMap<String, Instant> = rt
        .deliveries()
        .into_iter()
        .map(|d| (d.request_id, d.at))
        .collect();
    let lats = sorted(
        outcomes
            .iter()
            .filter_map(|o| {
                delivered
                    .get(&o.request_id)
                    .map(|d| o.at.duration_since(*d))
            })
            .map(|d| d.as_secs_f64() * 1e3)
            .collect(),
    );
    m.lat_p50_ms = percentile(&lats, 0.5);
    m.lat_p99_ms = percentile(&lats, 0.99);

    let objects = cos.objects();
    m.objects = objects.len();
    m.cos_puts = cos.stats().requests;
    m.verification_failures = cos.verification_failures();
    m.violations.extend(rt.violations());
    // An HTTP request refused or failed (a status other than 200) counts as an error too.
    m.error_posts = outcomes
        .iter()
        .filter(|o| o.kind == Kind::Error || archive_answer(&o.body).is_none())
        .count();
    m.unknown_keys = outcomes
        .iter()
        .filter(|o| o.kind == Kind::Response)
        .filter(|o| {
            let v = archive_answer(&o.body).unwrap_or(Value::Null);
            !v["key"].as_str().is_some_and(|k| objects.contains_key(k))
        })
        .count();
    for (target, got) in targets.delivered() {
        if got != n as u64 {
            m.violations
                .push(format!("{target} target accepted {got} callbacks of {n}"));
        }
    }
    if let Some(e) = outcomes.iter().find(|o| o.kind == Kind::Error) {
        eprintln!("{}: first error post: {}", peer.name, e.text());
    }
    Ok(m)
}

/// A deploy-package-like folder: `bootstrap` and the release binary side by side.
fn package(root: &Path, binary: &Path) -> Result<PathBuf, BoxError> {
    let dir = root
        .join("target")
        .join(format!("loopback-bench-pkg-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    std::fs::copy(root.join("bootstrap"), dir.join("bootstrap"))?;
    std::os::unix::fs::symlink(binary, dir.join("mps-cos-backup"))?;
    Ok(dir)
}

fn newest_mtime(dir: &Path) -> Option<SystemTime> {
    let mut newest = None;
    for entry in std::fs::read_dir(dir).ok()?.flatten() {
        let path = entry.path();
        let t = if path.is_dir() {
            newest_mtime(&path)
        } else {
            entry.metadata().ok()?.modified().ok()
        };
        newest = newest.max(t);
    }
    newest
}

fn machine() -> String {
    let cpus = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    format!("{cpus} vCPU, {model}")
}

struct Row {
    name: &'static str,
    unit: &'static str,
    rust: f64,
    python: Option<f64>,
    /// true: larger is better (ratio = rust / python); false: ratio = python / rust.
    higher_better: bool,
}

impl Row {
    fn ratio(&self) -> Option<f64> {
        let p = self.python?;
        Some(if self.higher_better {
            self.rust / p
        } else {
            p / self.rust
        })
    }
}

fn rows(r: &Metrics, p: Option<&Metrics>) -> Vec<Row> {
    let row = |name, unit, f: fn(&Metrics) -> f64, higher_better| Row {
        name,
        unit,
        rust: f(r),
        python: p.map(f),
        higher_better,
    };
    vec![
        row("cold start p50", "ms", |m| m.cold_p50_ms, false),
        row("cold start p90", "ms", |m| m.cold_p90_ms, false),
        row("throughput", "events/s", |m| m.events_per_s, true),
        row("CPU per event", "ms", |m| m.cpu_ms_per_event, false),
        row("  of which user", "ms", |m| m.cpu_user_ms_per_event, false),
        row("  of which kernel", "ms", |m| m.cpu_sys_ms_per_event, false),
        row("latency p50", "ms", |m| m.lat_p50_ms, false),
        row("latency p99", "ms", |m| m.lat_p99_ms, false),
        row("peak RSS (VmHWM)", "MiB", |m| m.peak_rss_mib, false),
    ]
}

/// (bar, value, met?) for the performance targets in README; reported, never asserted.
fn bars(r: &Metrics, p: Option<&Metrics>) -> Vec<(String, bool)> {
    let mut out = vec![
        (
            format!("CPU/event < 0.15 ms: {:.4} ms", r.cpu_ms_per_event),
            r.cpu_ms_per_event < 0.15,
        ),
        (
            format!("cold start < 5 ms: p50 {:.2} ms", r.cold_p50_ms),
            r.cold_p50_ms < 5.0,
        ),
        (
            format!("peak RSS < 8 MB: {:.2} MiB", r.peak_rss_mib),
            r.peak_rss_mib * 1024.0 * 1024.0 < 8e6,
        ),
    ];
    if let Some(p) = p {
        let x = |a: f64, b: f64| a / b;
        let cpu = x(p.cpu_ms_per_event, r.cpu_ms_per_event);
        let cold = x(p.cold_p50_ms, r.cold_p50_ms);
        let rss = x(p.peak_rss_mib, r.peak_rss_mib);
        out.push((format!("CPU/event >= 20x lower: {cpu:.1}x"), cpu >= 20.0));
        out.push((
            format!("cold start >= 30x faster (p50): {cold:.1}x"),
            cold >= 30.0,
        ));
        out.push((format!("peak RSS >= 4x lower: {rss:.1}x"), rss >= 4.0));
    }
    out
}

fn fmt(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0}")
    } else if v >= 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.4}")
    }
}

fn table(rows: &[Row]) -> String {
    let mut s = String::from(
        "| metric | mps-cos-backup | python peer | ratio |\n| --- | ---: | ---: | ---: |\n",
    );
    for r in rows {
        let py = r.python.map(fmt).unwrap_or_else(|| "-".into());
        let ratio = r
            .ratio()
            .map(|x| format!("{x:.1}x"))
            .unwrap_or_else(|| "-".into());
        s.push_str(&format!(
            "| {} ({}) | {} | {} | {} |\n",
            r.name,
            r.unit,
            fmt(r.rust),
            py,
            ratio
        ));
    }
    s
}

async fn run(args: Args) -> Result<bool, BoxError> {
    // Every fake reads this when it starts serving (tests/common/http.rs).
    std::env::set_var("FAKE_HTTP_WRITES", &args.server_writes);
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let binary = args
        .binary
        .clone()
        .unwrap_or_else(|| root.join("target/release/mps-cos-backup"));
    let built = std::fs::metadata(&binary)
        .and_then(|m| m.modified())
        .map_err(|e| {
            format!(
                "{}: {e}; run `cargo build --release` first",
                binary.display()
            )
        })?;
    if newest_mtime(&root.join("src")).is_some_and(|src| src > built) {
        eprintln!(
            "warning: src/ is newer than {}; run `cargo build --release`",
            binary.display()
        );
    }
    let python = match (&args.python_path, args.python) {
        (_, false) => None,
        (Some(p), true) => Some(p.clone()),
        (None, true) => Some(root.join("target/python-peer-venv/bin/python")),
    };
    if let Some(p) = &python {
        if !p.exists() {
            return Err(format!(
                "{} not found: run `sh bench/python-peer/setup.sh`, pass --python PATH or --peer none",
                p.display()
            )
            .into());
        }
    }

    let mut events = make_events(&root, args.events)?;
    let mut channel_env = Vec::new();
    if args.channel == "url" {
        events = events
            .iter()
            .map(|e| as_url_request(e))
            .collect::<Result<_, _>>()?;
        channel_env.push(("CALLBACK_TOKEN".to_string(), URL_TOKEN.to_string()));
        channel_env.push((
            "CALLBACK_NOTIFY_KEY".to_string(),
            URL_NOTIFY_KEY.to_string(),
        ));
    }
    let n = events.len();
    let avg_bytes = events.iter().map(Vec::len).sum::<usize>() as f64 / n as f64;
    let pkg = package(&root, &binary)?;
    let log_dir = root.join("target");
    println!(
        "loopback bench: {n} WorkflowTask events (~{avg_bytes:.0} B each) through the {} channel, \
         {} cold starts, servers write answers: {}, forward: {}; {}",
        args.channel,
        args.starts,
        args.server_writes,
        args.forward,
        machine()
    );

    let rust_peer = Peer {
        name: "mps-cos-backup",
        program: pkg.join("bootstrap"),
        args: Vec::new(),
        cwd: pkg.clone(),
        log: File::create(log_dir.join("loopback-bench-mps-cos-backup.log"))?,
    };
    let rust = measure(
        &rust_peer,
        &events,
        args.starts,
        &args.forward,
        &channel_env,
    )
    .await;
    let _ = std::fs::remove_dir_all(&pkg);
    let rust = rust?;
    let py = match python {
        Some(p) => {
            let peer = Peer {
                name: "python peer",
                program: p,
                args: vec!["peer.py".into()],
                cwd: root.join("bench/python-peer"),
                log: File::create(log_dir.join("loopback-bench-python-peer.log"))?,
            };
            Some(measure(&peer, &events, args.starts, "none", &[]).await?)
        }
        None => None,
    };

    let rows = rows(&rust, py.as_ref());
    let bars = bars(&rust, py.as_ref());
    println!("\n{}", table(&rows));
    for (name, met) in &bars {
        println!("bar {}: {name}", if *met { "met   " } else { "MISSED" });
    }
    let mut all_correct = true;
    for (name, m) in
        std::iter::once(("mps-cos-backup", &rust)).chain(py.iter().map(|m| ("python peer", m)))
    {
        let ok = m.correct(n);
        all_correct &= ok;
        println!(
            "check {name}: {} objects stored of {n}, {} COS PUTs, {} verification failures, \
             {} protocol violations, {} error posts, {} answers naming unstored keys: {}",
            m.objects,
            m.cos_puts,
            m.verification_failures.len(),
            m.violations.len(),
            m.error_posts,
            m.unknown_keys,
            if ok { "OK" } else { "FAILED" }
        );
        for f in m.verification_failures.iter().take(3) {
            println!("  verification failure: {f}");
        }
        for v in m.violations.iter().take(3) {
            println!("  protocol violation: {v}");
        }
    }

    let report = json!({
        "machine": machine(),
        "events": n,
        "event_bytes_avg": avg_bytes,
        "starts": args.starts,
        "server_writes": args.server_writes,
        "forward": args.forward,
        "channel": args.channel,
        "mps_cos_backup": rust.to_json(n),
        "python_peer": py.as_ref().map(|m| m.to_json(n)),
        "ratios": rows.iter().map(|r| json!({"metric": r.name, "unit": r.unit, "ratio": r.ratio()})).collect::<Vec<_>>(),
        "bars": bars.iter().map(|(b, met)| json!({"bar": b, "met": met})).collect::<Vec<_>>(),
        "table_markdown": table(&rows),
    });
    let out = root.join(format!(
        "target/loopback-bench-{}-forward-{}{}.json",
        args.server_writes,
        args.forward,
        if args.channel == "url" { "-url" } else { "" }
    ));
    std::fs::write(&out, serde_json::to_string_pretty(&report)?)?;
    println!("written {}", out.display());
    Ok(all_correct)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("loopback_bench: {e}\n{USAGE}");
            std::process::exit(2);
        }
    };
    match run(args).await {
        Ok(true) => {}
        Ok(false) => {
            eprintln!("loopback_bench: correctness checks failed (see above)");
            std::process::exit(1);
        }
        Err(e) => {
            eprintln!("loopback_bench: {e}");
            std::process::exit(1);
        }
    }
}
