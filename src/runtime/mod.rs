//! The SCF custom runtime: the runtime API client and the invocation loop. Knows nothing
//! about MPS or COS: it hands each event to a [`Function`] and posts what it returns.
//!
//! The loop posts `init/ready` once, then takes one event at a time from `next`, gives the
//! function until the event's deadline, and posts exactly one answer: the function's value,
//! or its error as one line (a panic and a timeout included). A function error that says
//! the instance cannot go on (its credentials were rejected) is posted, then the loop
//! stops so the platform starts a fresh instance (README: How it works).

mod api;
mod context;

use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use chrono::Utc;
use tracing::{debug, error, info, warn, Instrument};

pub use api::{RunOptions, MAX_EVENT_BYTES};
pub use context::{safety_margin, Context, DEFAULT_TIME_LIMIT};

use crate::text::{error_chain, one_line, panic_message};
use crate::transport::{HttpClient, Uri};
use api::{Reply, RuntimeApi};

/// What the platform calls a function: turns one event into one answer.
pub trait Function: Send + Sync + 'static {
    /// Why an event could not be handled.
    type Error: Diagnostic;

    /// Handles one invocation; `Ok` becomes the response post, `Err` the error post.
    fn call(
        &self,
        ctx: Context,
        event: Bytes,
    ) -> impl Future<Output = Result<serde_json::Value, Self::Error>> + Send;

    /// Asked after a response (not an error) was posted: why this instance must stop now,
    /// when it must. An invocation whose caller must get an answer whatever happened (an
    /// HTTP request) answers even when its credentials were refused, then stops here.
    fn stops_after_response(&self) -> Option<String> {
        None
    }
}

/// A function's error as the runtime reports it: one line (its `Display` and sources), and
/// whether the instance can go on.
pub trait Diagnostic: std::error::Error + Send + 'static {
    /// Why this instance must stop once the error is posted, when it must (for example its
    /// temporary credentials were rejected: only a fresh instance gets fresh ones).
    fn stops_instance(&self) -> Option<String> {
        None
    }
}

/// Why the loop stopped abnormally.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    /// The runtime API stayed unreachable.
    #[error("runtime API unreachable: {0}")]
    Unreachable(String),
    /// The runtime API address does not make valid URIs.
    #[error("runtime API address {0:?} is not a usable base URI")]
    BadAddress(String),
    /// The function said this instance cannot go on; its error was posted.
    #[error("stopping this instance: {0}")]
    Stopped(String),
}

/// Posts `init/ready`, then serves invocations until `shutdown` resolves (`Ok`), the API is
/// lost or the function stops the instance (`Err`).
///
/// `api_base` is `http://host:port`.
pub async fn run<F, S>(
    api_base: &Uri,
    http: HttpClient,
    function: Arc<F>,
    shutdown: S,
) -> Result<(), RuntimeError>
where
    F: Function,
    S: Future<Output = ()>,
{
    run_with(api_base, http, function, shutdown, RunOptions::default()).await
}

/// [`run`] with explicit [`RunOptions`].
///
/// Shutdown while waiting for an event returns at once; shutdown while an invocation is being
/// handled lets it finish and posts its answer first.
pub async fn run_with<F, S>(
    api_base: &Uri,
    http: HttpClient,
    function: Arc<F>,
    shutdown: S,
    options: RunOptions,
) -> Result<(), RuntimeError>
where
    F: Function,
    S: Future<Output = ()>,
{
    let api = RuntimeApi::new(api_base, http, options)?;
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
        // Only the wait for an event is abandoned on shutdown: once it is in, the event is
        // ours and is handled and answered before stopping.
        let delivery = tokio::select! {
            biased;
            _ = &mut shutdown => {
                info!("shutdown requested while idle; stopping");
                return Ok(());
            }
            next = api.next() => next?,
        };
        let arrived = Instant::now();
        let ctx = Context::from_headers(&delivery.headers, arrived, Utc::now());
        let span = tracing::info_span!("invocation", request_id = %ctx.request_id);
        let event = match delivery.body {
            Ok(event) => event,
            Err(why) => {
                // The invocation is ours but its event cannot be taken: an error answer has the
                // platform deal with it now instead of after a full time-out.
                let line = one_line(&format!("could not read the event: {why}"));
                span.in_scope(|| error!(error = %line, "event refused"));
                api.answer(Reply::Error(line)).await?;
                continue;
            }
        };
        let turn = invoke(&api, function.clone(), ctx, event, shutdown.as_mut())
            .instrument(span)
            .await?;
        match turn {
            Turn::Continue => {}
            Turn::ShutdownRequested => {
                info!("shutdown requested during an invocation; its answer is posted, stopping");
                return Ok(());
            }
            Turn::Stop(why) => {
                error!(reason = %why, "stopping this instance so the platform starts a fresh one");
                return Err(RuntimeError::Stopped(why));
            }
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

/// What the loop does after an invocation was answered.
enum Turn {
    Continue,
    ShutdownRequested,
    Stop(String),
}

/// Handles one invocation and posts its one answer.
async fn invoke<F, S>(
    api: &RuntimeApi,
    function: Arc<F>,
    ctx: Context,
    event: Bytes,
    mut shutdown: std::pin::Pin<&mut S>,
) -> Result<Turn, RuntimeError>
where
    F: Function,
    S: Future<Output = ()>,
{
    let started = Instant::now();
    let deadline = ctx.deadline;
    let time_limit = ctx.time_limit;
    if ctx.request_id.is_empty() {
        warn!("invocation has no request_id header");
    }
    // A panic inside the spawned task surfaces as a JoinError instead of unwinding through the loop.
    let called = function.clone();
    let mut task = tokio::spawn(
        async move { called.call(ctx, event).await }.instrument(tracing::Span::current()),
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
    let mut stop = None;
    let (outcome, answer) = match joined {
        Some(Ok(Ok(value))) => match serde_json::to_vec(&value) {
            Ok(body) => {
                stop = function.stops_after_response();
                ("response", Reply::Response(body))
            }
            Err(e) => (
                "error",
                Reply::Error(format!("handler result is not serializable: {e}")),
            ),
        },
        Some(Ok(Err(e))) => {
            stop = e.stops_instance();
            let line = error_chain(&e);
            let line = if line.is_empty() {
                "handler failed without a message".to_string()
            } else {
                line
            };
            ("error", Reply::Error(line))
        }
        Some(Err(join)) if join.is_panic() => {
            let message = panic_message(join.into_panic().as_ref());
            ("panic", Reply::Error(format!("handler panicked: {message}")))
        }
        Some(Err(_)) => ("error", Reply::Error("handler was cancelled".to_string())),
        None => (
            "timeout",
            Reply::Error(format!(
                "handler did not finish within the time limit of {} ms (less a {} ms safety margin)",
                time_limit.as_millis(),
                safety_margin(time_limit).as_millis()
            )),
        ),
    };
    let failure = match &answer {
        Reply::Error(line) => Some(line.clone()),
        Reply::Response(_) => None,
    };
    api.answer(answer).await?;
    let duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    // One line per invocation at the default level: the function reports its successes in its
    // own terms (and a second line per event costs about a fifth of the CPU of an event), so
    // the runtime's own summary of a success is debug; failures are always summarized here.
    match failure {
        None => debug!(outcome, duration_ms, "invocation done"),
        Some(error) => warn!(outcome, duration_ms, error = %error, "invocation done"),
    }
    Ok(match (stop, stopping) {
        (Some(why), _) => Turn::Stop(why),
        (None, true) => Turn::ShutdownRequested,
        (None, false) => Turn::Continue,
    })
}
