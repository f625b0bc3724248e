//! The timer trigger in runtime mode: `{"Type": "Timer", "Time": ...}` reconciles the
//! `RECONCILE_WINDOW` that ends at `Time` (else now) inside the invocation's deadline
//! (README: "Is anything missing?").

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Deserialize;
use tracing::{info, warn};

use crate::archive::Source;
use crate::cloudapi::client::CloudApiClient;
use crate::cloudapi::mps::RETENTION_DAYS;
use crate::config::{ConfigError, ReconcileConfig};
use crate::handler::{HandleError, Handler, Invocation};
use crate::reconcile::{ReconcileError, Reconciler, Run, Summary, Window};
use crate::store::Store;
use crate::transport::{host_header, HttpClient};

/// Time kept free before the deadline: no MPS request starts later, so the answer is
/// still posted in time.
const MARGIN: Duration = Duration::from_millis(1500);

/// What a timer event works with.
pub(super) struct Timer<S, R> {
    /// Writes rebuilt callbacks (forwarding them only with `RECONCILE_FORWARD=on`).
    pub(super) handler: Handler<S>,
    /// The archive's read side.
    pub(super) source: R,
    /// MPS, or why it cannot be asked.
    pub(super) mps: Result<(CloudApiClient, String), ConfigError>,
    /// `RECONCILE_WINDOW`.
    pub(super) window: Duration,
    /// `RECONCILE_GRACE`.
    pub(super) grace: Duration,
}

impl<S: Store, R: Source> Timer<S, R> {
    /// The timer's pieces: `handler` archives (and forwards, when reconcile forwards).
    pub(super) fn new(
        http: &HttpClient,
        cfg: &ReconcileConfig,
        handler: Handler<S>,
        source: R,
    ) -> Self {
        let mps = cfg.require_mps().map(|m| {
            let host = host_header(&m.endpoint).unwrap_or_default();
            (CloudApiClient::new(http.clone(), m.clone()), host)
        });
        Timer {
            handler,
            source,
            mps,
            window: cfg.window,
            grace: cfg.grace,
        }
    }
}

/// Why a dispatched event failed: a callback's error, or a timer's.
#[derive(Debug, thiserror::Error)]
pub(super) enum DispatchError {
    /// A callback (or HTTP request) could not be handled.
    #[error(transparent)]
    Handle(#[from] HandleError),
    /// The timer's reconcile could not run or finish.
    #[error("reconcile: {0}")]
    Reconcile(#[from] ReconcileError),
    /// MPS is not configured.
    #[error("reconcile: {0}")]
    Config(ConfigError),
    /// A timer event arrived where no reconcile is set up.
    #[error("a timer event reconciles only where MPS and the archive are configured")]
    NoTimer,
    /// The deadline came first.
    #[error(
        "reconcile stopped at the deadline: {not_checked} of {tasks} finished tasks not checked{} \
         ({recovered} recovered so far); the next run checks them again",
        if *.listed_all { "" } else { " (the task list was not read to its end)" }
    )]
    Stopped {
        /// Tasks not checked.
        not_checked: u64,
        /// Tasks listed.
        tasks: u64,
        /// Recovered before stopping.
        recovered: u64,
        /// Whether the list was read to its end.
        listed_all: bool,
    },
    /// Some missing tasks could not be recovered.
    #[error("reconcile: {failed} of {missing} missing tasks could not be recovered (first: {first}); the next run tries again")]
    Failed {
        /// Tasks that failed.
        failed: u64,
        /// Missing tasks.
        missing: u64,
        /// The first failure.
        first: String,
        /// Whether the credentials themselves were refused.
        rejected: bool,
    },
}

impl DispatchError {
    /// Whether a server refused this instance's credentials themselves.
    pub(super) fn credentials_rejected(&self) -> bool {
        match self {
            DispatchError::Handle(e) => e.credentials_rejected(),
            DispatchError::Reconcile(e) => e.credentials_rejected(),
            DispatchError::Failed { rejected, .. } => *rejected,
            _ => false,
        }
    }
}

#[derive(Deserialize)]
struct TimerEvent {
    #[serde(rename = "Type")]
    kind: Option<serde_json::Value>,
    #[serde(rename = "Time")]
    time: Option<serde_json::Value>,
}

/// When `event` is a timer event (`"Type": "Timer"`), its `Time` (`None` when absent or not
/// a time); `None` for every other event. MPS callbacks are large: only a body that
/// mentions `"Timer"` at all is parsed here.
pub(super) fn timer_event(event: &[u8]) -> Option<Option<DateTime<Utc>>> {
    const MARK: &[u8] = b"\"Timer\"";
    if !event.windows(MARK.len()).any(|w| w == MARK) {
        return None;
    }
    let e: TimerEvent = serde_json::from_slice(event).ok()?;
    if e.kind.as_ref().and_then(|k| k.as_str()) != Some("Timer") {
        return None;
    }
    Some(
        e.time
            .as_ref()
            .and_then(|t| t.as_str())
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
            .map(|t| t.with_timezone(&Utc)),
    )
}

/// The window a timer run checks: `window` ending at `time` (never after `now`), starting
/// no earlier than MPS keeps tasks.
pub(super) fn timer_window(
    time: Option<DateTime<Utc>>,
    window: Duration,
    now: DateTime<Utc>,
) -> Window {
    let end = time.unwrap_or(now).min(now);
    let span = chrono::Duration::from_std(window).unwrap_or_else(|_| chrono::Duration::days(1));
    let oldest = now - chrono::Duration::days(RETENTION_DAYS);
    let start = (end - span).max(oldest);
    Window {
        start,
        end: end.max(start),
    }
}

/// Runs one timer event: the summary, or why it did not finish.
pub(super) async fn run<S: Store, R: Source>(
    timer: &Timer<S, R>,
    time: Option<DateTime<Utc>>,
    inv: &Invocation<'_>,
) -> Result<Summary, DispatchError> {
    let (client, host) = timer
        .mps
        .as_ref()
        .map_err(|e| DispatchError::Config(e.clone()))?;
    let now = Utc::now();
    let window = timer_window(time, timer.window, now);
    let reconciler = Reconciler {
        mps: client,
        handler: &timer.handler,
        source: &timer.source,
        host: host.clone(),
    };
    let run = Run {
        window,
        now,
        grace: timer.grace,
        dry_run: false,
        deadline: inv.deadline,
        margin: MARGIN,
    };
    let mut first_failure: Option<String> = None;
    let summary = reconciler
        .run(&run, |line| {
            if let Some(e) = &line.error {
                warn!(task_id = %line.task_id, task_type = %line.task_type, error = %e, "reconcile could not recover a task");
                first_failure.get_or_insert_with(|| format!("{}: {e}", line.task_id));
            }
        })
        .await?;
    info!(
        tasks = summary.tasks,
        present = summary.present,
        recovered = summary.recovered,
        failed = summary.failed,
        skipped_grace = summary.skipped_grace,
        not_checked = summary.not_checked,
        window_start = %window.start.to_rfc3339(),
        window_end = %window.end.to_rfc3339(),
        "reconcile done"
    );
    if summary.not_checked > 0 || !summary.listed_all {
        return Err(DispatchError::Stopped {
            not_checked: summary.not_checked,
            tasks: summary.tasks,
            recovered: summary.recovered,
            listed_all: summary.listed_all,
        });
    }
    if summary.failed > 0 {
        return Err(DispatchError::Failed {
            failed: summary.failed,
            missing: summary.failed + summary.recovered,
            first: first_failure.unwrap_or_default(),
            rejected: summary.credentials_rejected,
        });
    }
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn timer_events_are_told_apart() {
        assert_eq!(
            timer_event(br#"{"Type":"Timer","TriggerName":"reconcile-hourly","Time":"2026-12-05T06:00:00Z","Message":""}"#),
            Some(Some(t("2026-12-05T06:00:00Z")))
        );
        assert_eq!(timer_event(br#"{"Type":"Timer"}"#), Some(None));
        assert_eq!(
            timer_event(br#"{"Type":"Timer","Time":"soon"}"#),
            Some(None)
        );
        assert_eq!(
            timer_event(br#"{"EventType":"WorkflowTask","Message":"Timer"}"#),
            None
        );
        assert_eq!(
            timer_event(br#"{"EventType":"WorkflowTask","SessionContext":"\"Timer\""}"#),
            None
        );
        assert_eq!(timer_event(br#"{"Type":"Cos","Note":"Timer"}"#), None);
        assert_eq!(timer_event(b"[\"Timer\"]"), None);
    }

    #[test]
    fn timer_windows_end_at_the_event_time() {
        let now = t("2026-12-05T06:00:05Z");
        let day = Duration::from_secs(86_400);
        let w = timer_window(Some(t("2026-12-05T06:00:00Z")), day, now);
        assert_eq!(
            (w.start, w.end),
            (t("2026-12-04T06:00:00Z"), t("2026-12-05T06:00:00Z"))
        );
        let w = timer_window(None, day, now);
        assert_eq!(w.end, now);
        // A time in the future is now; one redelivered days late starts no earlier than
        // MPS keeps tasks.
        assert_eq!(
            timer_window(Some(t("2026-12-06T00:00:00Z")), day, now).end,
            now
        );
        let w = timer_window(Some(t("2026-11-28T07:00:00Z")), day, now);
        assert_eq!(w.start, t("2026-11-28T06:00:05Z"));
        assert!(w.end >= w.start);
    }
}
