//! SCF custom-runtime API client and the invocation loop. Knows nothing about MPS or COS.
//!
//! Protocol (see `reference/scf-runtime.md`): `POST /runtime/init/ready` once, then
//! `GET /runtime/invocation/next` (long poll, no timeout) and one `POST .../response` or
//! `POST .../error` per invocation, strictly one invocation at a time.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use chrono::{DateTime, Utc};
use reqwest::header::HeaderMap;
use tracing::{debug, error, info, warn, Instrument};

/// One invocation, as the runtime API described it.
#[derive(Debug, Clone)]
pub struct Context {
    /// `request_id` header (empty when absent).
    pub request_id: String,
    /// `memory_limit_in_mb` header.
    pub memory_limit_mb: Option<u64>,
    /// `time_limit_in_ms` header.
    pub time_limit: Duration,
    /// When the event arrived (monotonic).
    pub arrived: Instant,
    /// When the event arrived (wall clock).
    pub received_at: DateTime<Utc>,
    /// Time by which the handler must be done: arrival + time limit - safety margin.
    pub deadline: Instant,
}

/// Handles one event; `Ok` becomes a response post, `Err` (one line) an error post.
pub trait Handler: Send + Sync + 'static {
    /// Handles one invocation.
    fn handle(
        &self,
        ctx: Context,
        event: Bytes,
    ) -> impl Future<Output = Result<serde_json::Value, String>> + Send;
}

/// Why the loop stopped abnormally.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    /// The runtime API stayed unreachable.
    #[error("runtime API unreachable: {0}")]
    Unreachable(String),
    /// The runtime API address does not make valid URLs.
    #[error("runtime API address {0:?} is not a usable base URL")]
    BadAddress(String),
}

/// Time limit assumed when `time_limit_in_ms` is missing or unusable (SCF's smallest common default).
pub const DEFAULT_TIME_LIMIT: Duration = Duration::from_millis(3000);

/// Margin kept between the handler's deadline and the platform's kill time, so the answer can
/// still be posted: 10 % of the time limit, clamped to [50 ms, 500 ms].
pub fn safety_margin(time_limit: Duration) -> Duration {
    (time_limit / 10).clamp(Duration::from_millis(50), Duration::from_millis(500))
}

/// Tuning of [`run_with`]; [`RunOptions::default`] is what [`run`] uses.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// How long the runtime API may stay unreachable before the loop gives up (10 s).
    pub give_up_after: Duration,
    /// First pause between retries (50 ms); doubles each time.
    pub backoff_initial: Duration,
    /// Longest pause between retries (1 s).
    pub backoff_max: Duration,
    /// Per-attempt limit for posts (5 s), so a stalled connection is retried instead of hanging.
    /// `next` has none: it is a long poll.
    pub post_timeout: Duration,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            give_up_after: Duration::from_secs(10),
            backoff_initial: Duration::from_millis(50),
            backoff_max: Duration::from_secs(1),
            post_timeout: Duration::from_secs(5),
        }
    }
}

/// Posts `init/ready`, then serves invocations until `shutdown` resolves (`Ok`) or the API is lost (`Err`).
///
/// `api_base` is `http://host:port`. `http` must have no overall timeout (`next` long-polls).
pub async fn run<H, S>(
    api_base: &str,
    http: reqwest::Client,
    handler: Arc<H>,
    shutdown: S,
) -> Result<(), RuntimeError>
where
    H: Handler,
    S: Future<Output = ()>,
{
    run_with(api_base, http, handler, shutdown, RunOptions::default()).await
}

/// [`run`] with explicit [`RunOptions`].
///
/// Shutdown while waiting for an event returns at once; shutdown while an invocation is being
/// handled lets it finish and posts its answer first.
pub async fn run_with<H, S>(
    api_base: &str,
    http: reqwest::Client,
    handler: Arc<H>,
    shutdown: S,
    options: RunOptions,
) -> Result<(), RuntimeError>
where
    H: Handler,
    S: Future<Output = ()>,
{
    let api = Api::new(api_base, http, options)?;
    let mut shutdown = std::pin::pin!(shutdown);

    // `shutdown` is polled first so signal handlers it installs exist before we announce readiness.
    tokio::select! {
        biased;
        _ = &mut shutdown => {
            info!("shutdown requested before init finished");
            return Ok(());
        }
        ready = api.ready() => ready?,
    }

    loop {
        // Only the wait for an event is abandoned on shutdown: once its headers are in, the
        // event is ours and is handled and answered before stopping.
        let resp = tokio::select! {
            biased;
            _ = &mut shutdown => {
                info!("shutdown requested while idle; stopping");
                return Ok(());
            }
            next = api.next() => next?,
        };
        let arrived = Instant::now();
        let received_at = Utc::now();
        let headers = resp.headers().clone();
        let event = match resp.bytes().await {
            Ok(event) => event,
            Err(e) => {
                // The invocation is ours but its event never arrived whole: an error answer has
                // the platform deliver it again now instead of after a full time-out.
                let line = one_line(&format!("could not read the event body: {}", chain(&e)));
                error!(error = %line, "reading an event from invocation/next failed");
                api.answer(Answer::Error(line)).await?;
                continue;
            }
        };
        let ctx = context(&headers, arrived, received_at);
        let span = tracing::info_span!("invocation", request_id = %ctx.request_id);
        let stopping = invoke(&api, handler.clone(), ctx, event, shutdown.as_mut())
            .instrument(span)
            .await?;
        if stopping {
            info!("shutdown requested during an invocation; its answer is posted, stopping");
            return Ok(());
        }
    }
}

/// Resolves on SIGTERM or SIGINT. Handlers are installed when first polled; failing to install
/// one is logged and the other still works (if neither can be installed, never resolves).
pub async fn shutdown_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let term = signal(SignalKind::terminate());
    let int = signal(SignalKind::interrupt());
    match (term, int) {
        (Ok(mut term), Ok(mut int)) => {
            tokio::select! {
                _ = term.recv() => info!("SIGTERM received"),
                _ = int.recv() => info!("SIGINT received"),
            }
        }
        (Ok(mut term), Err(e)) => {
            warn!(error = %e, "cannot install a SIGINT handler; only SIGTERM stops the runtime");
            term.recv().await;
            info!("SIGTERM received");
        }
        (Err(e), Ok(mut int)) => {
            warn!(error = %e, "cannot install a SIGTERM handler; only SIGINT stops the runtime");
            int.recv().await;
            info!("SIGINT received");
        }
        (Err(e), Err(_)) => {
            error!(error = %e, "cannot install SIGTERM/SIGINT handlers; the runtime stops only when killed");
            std::future::pending::<()>().await;
        }
    }
}

/// Handles one invocation and posts its one answer. Returns whether shutdown was requested meanwhile.
async fn invoke<H, S>(
    api: &Api,
    handler: Arc<H>,
    ctx: Context,
    event: Bytes,
    mut shutdown: std::pin::Pin<&mut S>,
) -> Result<bool, RuntimeError>
where
    H: Handler,
    S: Future<Output = ()>,
{
    let started = Instant::now();
    let deadline = ctx.deadline;
    let time_limit = ctx.time_limit;
    if ctx.request_id.is_empty() {
        warn!("invocation has no request_id header");
    }
    // A panic inside the spawned task surfaces as a JoinError instead of unwinding through the loop.
    let mut task = tokio::spawn(
        async move { handler.handle(ctx, event).await }.instrument(tracing::Span::current()),
    );
    let mut stopping = false;
    let joined = loop {
        tokio::select! {
            joined = &mut task => break Some(joined),
            _ = tokio::time::sleep_until(deadline.into()) => {
                task.abort();
                break None;
            }
            _ = shutdown.as_mut(), if !stopping => {
                stopping = true;
                info!("shutdown requested; finishing the invocation in flight");
            }
        }
    };
    let (outcome, answer) = match joined {
        Some(Ok(Ok(value))) => match serde_json::to_vec(&value) {
            Ok(body) => ("response", Answer::Response(body)),
            Err(e) => (
                "error",
                Answer::Error(format!("handler result is not serializable: {e}")),
            ),
        },
        Some(Ok(Err(line))) => ("error", Answer::Error(one_line(&line))),
        Some(Err(join)) if join.is_panic() => {
            let message = panic_message(join.into_panic());
            ("panic", Answer::Error(one_line(&format!("handler panicked: {message}"))))
        }
        Some(Err(_)) => ("error", Answer::Error("handler was cancelled".to_string())),
        None => (
            "timeout",
            Answer::Error(format!(
                "handler did not finish within the time limit of {} ms (less a {} ms safety margin)",
                time_limit.as_millis(),
                safety_margin(time_limit).as_millis()
            )),
        ),
    };
    let failure = match &answer {
        Answer::Error(line) => Some(line.clone()),
        Answer::Response(_) => None,
    };
    api.answer(answer).await?;
    let duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    // One line per invocation at the default level: a handler reports its successes in its own
    // terms (and a second line per event costs about a fifth of the CPU of an event), so the
    // runtime's own summary of a success is debug; failures are always summarized here.
    match failure {
        None => debug!(outcome, duration_ms, "invocation done"),
        Some(error) => warn!(outcome, duration_ms, error = %error, "invocation done"),
    }
    Ok(stopping)
}

enum Answer {
    Response(Vec<u8>),
    Error(String),
}

/// Builds the [`Context`] from the `next` response headers (names are case-insensitive in `HeaderMap`).
fn context(headers: &HeaderMap, arrived: Instant, received_at: DateTime<Utc>) -> Context {
    let text = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|v| !v.is_empty())
    };
    let request_id = text("request_id").unwrap_or_default().to_string();
    let memory_limit_mb = text("memory_limit_in_mb").and_then(|v| v.parse().ok());
    let time_limit = match text("time_limit_in_ms").map(|v| (v, v.parse::<u64>())) {
        Some((_, Ok(ms))) if ms > 0 => Duration::from_millis(ms),
        Some((raw, _)) => {
            warn!(
                time_limit_in_ms = raw,
                default_ms = DEFAULT_TIME_LIMIT.as_millis() as u64,
                "unusable time_limit_in_ms header; assuming the default"
            );
            DEFAULT_TIME_LIMIT
        }
        None => {
            warn!(
                default_ms = DEFAULT_TIME_LIMIT.as_millis() as u64,
                "no time_limit_in_ms header; assuming the default"
            );
            DEFAULT_TIME_LIMIT
        }
    };
    Context {
        request_id,
        memory_limit_mb,
        time_limit,
        arrived,
        received_at,
        deadline: arrived + time_limit.saturating_sub(safety_margin(time_limit)),
    }
}

fn panic_message(payload: Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = payload.downcast_ref::<&'static str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "(non-string panic payload)".to_string()
    }
}

/// The platform shows error posts as one line; keep them so.
fn one_line(s: &str) -> String {
    let line: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let line = line.trim();
    if line.is_empty() {
        "handler failed without a message".to_string()
    } else {
        line.to_string()
    }
}

/// A failure worth retrying (transport, or a bad answer to `next`).
struct Transient(String);

/// The error and its sources on one line (reqwest's own Display hides the cause).
fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

/// One runtime API endpoint: its URL, parsed once, and how log lines name it.
struct Endpoint {
    url: reqwest::Url,
    what: &'static str,
}

struct Api {
    ready: Endpoint,
    next: Endpoint,
    response: Endpoint,
    error: Endpoint,
    http: reqwest::Client,
    options: RunOptions,
}

impl Api {
    /// Parses the four endpoint URLs once, so no request re-parses its URL.
    fn new(base: &str, http: reqwest::Client, options: RunOptions) -> Result<Api, RuntimeError> {
        let base = base.trim_end_matches('/');
        let endpoint = |what: &'static str| {
            // `what` is "METHOD /path": the path is what follows the space.
            let path = what.split_once(' ').map_or(what, |(_, p)| p);
            reqwest::Url::parse(&format!("{base}{path}"))
                .map(|url| Endpoint { url, what })
                .map_err(|_| RuntimeError::BadAddress(base.to_string()))
        };
        Ok(Api {
            ready: endpoint("POST /runtime/init/ready")?,
            next: endpoint("GET /runtime/invocation/next")?,
            response: endpoint("POST /runtime/invocation/response")?,
            error: endpoint("POST /runtime/invocation/error")?,
            http,
            options,
        })
    }

    async fn ready(&self) -> Result<(), RuntimeError> {
        self.post(&self.ready, Bytes::from_static(b" ")).await
    }

    /// Long-polls until an event's headers arrive (the body is read by the caller).
    async fn next(&self) -> Result<reqwest::Response, RuntimeError> {
        self.retrying(self.next.what, || async {
            let resp = self
                .http
                .get(self.next.url.clone())
                .send()
                .await
                .map_err(|e| Transient(chain(&e)))?;
            let status = resp.status();
            if !status.is_success() {
                // Nothing else to do with a refused poll but to poll again.
                let body = resp.text().await.unwrap_or_default();
                return Err(Transient(format!(
                    "status {status}: {}",
                    one_line(&body).chars().take(200).collect::<String>()
                )));
            }
            Ok(resp)
        })
        .await
    }

    async fn answer(&self, answer: Answer) -> Result<(), RuntimeError> {
        match answer {
            Answer::Response(body) => self.post(&self.response, Bytes::from(body)).await,
            Answer::Error(line) => self.post(&self.error, Bytes::from(line)).await,
        }
    }

    /// Posts `body`; transport failures and 5xx are retried, a 4xx answer is logged and accepted.
    async fn post(&self, to: &Endpoint, body: Bytes) -> Result<(), RuntimeError> {
        let what = to.what;
        let (status, text) = self
            .retrying(what, || async {
                let resp = self
                    .http
                    .post(to.url.clone())
                    .timeout(self.options.post_timeout)
                    .body(body.clone())
                    .send()
                    .await
                    .map_err(|e| Transient(chain(&e)))?;
                let status = resp.status();
                // A 5xx means the platform did not record the answer: sending it again is the
                // only way the invocation gets one. A 4xx is a verdict on the answer itself.
                if status.is_server_error() {
                    return Err(Transient(format!("runtime API answered {status}")));
                }
                // The answer's body only matters for the log line; losing it is harmless.
                let text = resp.text().await.unwrap_or_default();
                Ok((status, text))
            })
            .await?;
        if !status.is_success() {
            error!(
                status = status.as_u16(),
                answer = %one_line(&text).chars().take(200).collect::<String>(),
                "runtime API refused {what}"
            );
        }
        Ok(())
    }

    /// Runs `attempt` until it succeeds, backing off, for at most `give_up_after` after the first failure.
    async fn retrying<T, F, Fut>(&self, what: &str, mut attempt: F) -> Result<T, RuntimeError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, Transient>>,
    {
        let mut first_failure: Option<Instant> = None;
        let mut delay = self.options.backoff_initial;
        let mut failures = 0u32;
        loop {
            match attempt().await {
                Ok(v) => {
                    if failures > 0 {
                        info!(failures, "{what} succeeded after retrying");
                    }
                    return Ok(v);
                }
                Err(Transient(reason)) => {
                    failures += 1;
                    // Measured from the first failure: a long poll may idle for minutes before
                    // its connection drops, and that wait is not the API being unreachable.
                    let since = *first_failure.get_or_insert_with(Instant::now);
                    let elapsed = since.elapsed();
                    if elapsed + delay > self.options.give_up_after {
                        return Err(RuntimeError::Unreachable(format!(
                            "{what} failed {failures} times over {} ms, last: {reason}",
                            elapsed.as_millis()
                        )));
                    }
                    warn!(
                        failures,
                        retry_in_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
                        error = %reason,
                        "{what} failed; retrying"
                    );
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(self.options.backoff_max);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::{HeaderName, HeaderValue};

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(
                HeaderName::from_static(k),
                HeaderValue::from_str(v).expect("header value"),
            );
        }
        h
    }

    #[test]
    fn endpoints_are_parsed_once_from_the_base() {
        let api = Api::new(
            "http://127.0.0.1:9001/",
            reqwest::Client::new(),
            RunOptions::default(),
        )
        .expect("valid base");
        assert_eq!(
            api.next.url.as_str(),
            "http://127.0.0.1:9001/runtime/invocation/next"
        );
        assert_eq!(api.ready.what, "POST /runtime/init/ready");
        assert_eq!(
            api.error.url.as_str(),
            "http://127.0.0.1:9001/runtime/invocation/error"
        );
        let bad = Api::new("http://[::1", reqwest::Client::new(), RunOptions::default());
        assert!(matches!(bad, Err(RuntimeError::BadAddress(_))));
    }

    #[test]
    fn margin_is_ten_percent_clamped() {
        assert_eq!(
            safety_margin(Duration::from_millis(100)),
            Duration::from_millis(50)
        );
        assert_eq!(
            safety_margin(Duration::from_millis(3000)),
            Duration::from_millis(300)
        );
        assert_eq!(
            safety_margin(Duration::from_secs(900)),
            Duration::from_millis(500)
        );
    }

    #[test]
    fn context_from_headers() {
        let now = Instant::now();
        let ctx = context(
            &headers(&[
                ("request_id", " abc-1 "),
                ("memory_limit_in_mb", "128"),
                ("time_limit_in_ms", "2000"),
            ]),
            now,
            Utc::now(),
        );
        assert_eq!(ctx.request_id, "abc-1");
        assert_eq!(ctx.memory_limit_mb, Some(128));
        assert_eq!(ctx.time_limit, Duration::from_millis(2000));
        assert_eq!(ctx.deadline, now + Duration::from_millis(1800));
    }

    #[test]
    fn missing_or_bad_time_limit_uses_default() {
        let now = Instant::now();
        for h in [
            headers(&[]),
            headers(&[("time_limit_in_ms", "soon")]),
            headers(&[("time_limit_in_ms", "0")]),
            headers(&[("time_limit_in_ms", "-5")]),
        ] {
            let ctx = context(&h, now, Utc::now());
            assert_eq!(ctx.time_limit, DEFAULT_TIME_LIMIT);
            assert_eq!(ctx.deadline, now + Duration::from_millis(2700));
            assert_eq!(ctx.request_id, "");
            assert_eq!(ctx.memory_limit_mb, None);
        }
    }

    #[test]
    fn error_lines_are_single_lines() {
        assert_eq!(one_line("a\nb\r\nc\t"), "a b  c");
        assert_eq!(one_line(" \n "), "handler failed without a message");
    }
}
