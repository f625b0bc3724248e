//! Reconcile: asks MPS which tasks finished in a window, finds those the archive holds no
//! end record of, and archives their callbacks rebuilt from `DescribeTaskDetail` through the
//! handler (`source` `reconcile`), so a callback MPS never delivered is still archived.
//!
//! Requests to MPS: one `DescribeTasks` per 100 tasks, in order (`ScrollToken`), then one
//! `DescribeTaskDetail` per missing task, at most [`MPS_IN_FLIGHT`] at once. The archive is
//! listed for the key dates the window needs only ([`dates_to_list`]).

pub(crate) mod rebuild;

use std::collections::{BTreeSet, HashSet};
use std::time::{Duration, Instant};

use chrono::{DateTime, FixedOffset, NaiveDate, SecondsFormat, Utc};
use serde::Serialize;
use tracing::{info, warn};

use crate::archive::{self, KeyLayout, Source, SourceError};
use crate::cloudapi::client::{CallError, CloudApiClient};
use crate::cloudapi::mps::{self, TaskSummary};
use crate::handler::{Handler, Invocation};
use crate::key::{sanitize, Piece, MAX_EVENT_TYPE_BYTES, MAX_TASK_ID_BYTES};
use crate::record::RecordSource;
use crate::retry::{Ending, GaveUp};
use crate::store::Store;
use crate::text::error_chain;

pub(crate) use rebuild::{archive_types, is_end, rebuild_callback};

/// MPS requests in flight at once.
pub(crate) const MPS_IN_FLIGHT: usize = 4;

/// The time span asked about: tasks `DescribeTasks` lists between `start` and `end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Window {
    /// `StartTime`.
    pub(crate) start: DateTime<Utc>,
    /// `EndTime`.
    pub(crate) end: DateTime<Utc>,
}

/// What happened to one missing task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Action {
    /// Its rebuilt callback was archived (and forwarded, when asked).
    Recovered,
    /// A dry run: it would have been.
    WouldRecover,
    /// It could not be: see the error.
    Failed,
}

/// One task MPS finished that the archive held no end record of.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct MissingTask {
    /// `TaskId`.
    pub(crate) task_id: String,
    /// `TaskType` as `DescribeTasks` lists it.
    pub(crate) task_type: String,
    /// `FinishTime` (RFC 3339), when MPS gave one.
    pub(crate) finish_time: Option<String>,
    /// The key its record was (or would be) stored under.
    pub(crate) key: Option<String>,
    /// What was done.
    pub(crate) action: Action,
    /// Why it failed.
    pub(crate) error: Option<String>,
}

/// Counts of one run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub(crate) struct Summary {
    /// Finished tasks MPS listed in the window.
    pub(crate) tasks: u64,
    /// Of those, tasks the archive holds an end record of.
    pub(crate) present: u64,
    /// Missing tasks whose callback was archived.
    pub(crate) recovered: u64,
    /// Missing tasks a dry run would have archived.
    pub(crate) would_recover: u64,
    /// Missing tasks that could not be archived.
    pub(crate) failed: u64,
    /// Tasks that finished within `RECONCILE_GRACE`: left to their own callback.
    pub(crate) skipped_grace: u64,
    /// Tasks of a type `ARCHIVE_EVENT_TYPES` leaves out.
    pub(crate) skipped_type: u64,
    /// Tasks not checked because the deadline came first (with `listed_all` false, also
    /// those `TotalCount` says were not listed yet).
    pub(crate) not_checked: u64,
    /// Whether `DescribeTasks` was read to its last page.
    pub(crate) listed_all: bool,
    /// `DescribeTasks` calls made.
    pub(crate) list_requests: u64,
    /// `DescribeTaskDetail` calls made.
    pub(crate) detail_requests: u64,
    /// First key date of the archive listed (`YYYY-MM-DD`).
    pub(crate) first_date: Option<String>,
    /// Last key date of the archive listed.
    pub(crate) last_date: Option<String>,
    /// Whether a server refused the credentials themselves while recovering a task (they
    /// may have expired: only a fresh instance gets fresh ones).
    #[serde(skip)]
    pub(crate) credentials_rejected: bool,
}

/// Why a run could not finish.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ReconcileError {
    /// `DescribeTasks` failed (after its retries).
    #[error("DescribeTasks failed at {host}: {source}")]
    List {
        /// The MPS endpoint's host.
        host: String,
        /// What failed.
        source: CallError,
    },
    /// MPS answered the same `ScrollToken` twice: the listing would never end.
    #[error("DescribeTasks at {host} answered the ScrollToken it was given: the listing does not advance")]
    Stuck {
        /// The MPS endpoint's host.
        host: String,
    },
    /// The archive could not be listed.
    #[error("cannot list the archive: {0}")]
    Archive(#[from] SourceError),
    /// The key template cannot tell which tasks the archive holds.
    #[error("COS_KEY_TEMPLATE has no {0}: reconcile cannot tell which tasks the archive holds")]
    Template(&'static str),
}

impl ReconcileError {
    /// Whether MPS refused the credentials themselves.
    pub(crate) fn credentials_rejected(&self) -> bool {
        matches!(self, ReconcileError::List { source, .. } if source.is_credentials_rejected())
    }
}

/// One run's settings.
#[derive(Debug, Clone)]
pub(crate) struct Run {
    /// The window asked about.
    pub(crate) window: Window,
    /// Now (tasks that finished after `now - grace` are skipped).
    pub(crate) now: DateTime<Utc>,
    /// `RECONCILE_GRACE`.
    pub(crate) grace: Duration,
    /// Write and forward nothing; report what would be recovered.
    pub(crate) dry_run: bool,
    /// When everything must be done (the timer's deadline; far off for the command).
    pub(crate) deadline: Instant,
    /// No new request is started with less time than this left before the deadline.
    pub(crate) margin: Duration,
}

/// The pieces a run works with: MPS, the archive's read side, and the handler that writes.
pub(crate) struct Reconciler<'a, S, R> {
    /// MPS's endpoint.
    pub(crate) mps: &'a CloudApiClient,
    /// Where rebuilt callbacks are archived (and forwarded, when it forwards).
    pub(crate) handler: &'a Handler<S>,
    /// The archive as the readers see it.
    pub(crate) source: &'a R,
    /// The MPS endpoint's host, for error lines.
    pub(crate) host: String,
}

/// The key dates (in `offset`) to list to find the end records of `tasks`: from the day
/// before the earliest of the window's start and the tasks' creation, to the day after the
/// latest of the window's end and `now`. A callback is dated by its own time, which lies
/// between its task's creation and end, else by its receipt, which lies between its end and
/// now: a callback rebuilt by an earlier run is dated by that run.
pub(crate) fn dates_to_list(
    window: &Window,
    tasks: &[&TaskSummary],
    now: DateTime<Utc>,
    offset: FixedOffset,
) -> (NaiveDate, NaiveDate) {
    let first = tasks
        .iter()
        .filter_map(|t| t.create_time)
        .fold(window.start, DateTime::min);
    let last = window.end.max(now);
    let day = |t: DateTime<Utc>| t.with_timezone(&offset).date_naive();
    (
        day(first).pred_opt().unwrap_or(day(first)),
        day(last).succ_opt().unwrap_or(day(last)),
    )
}

/// The archived end records of `types` between `dates` whose task is one of `wanted` (task
/// ids as keys show them): (event type, task id).
///
/// The readers' plan names the prefixes the dates and types need; each is read a page at a
/// time ([`archive::source::Pager`], with its guard against listings that do not advance),
/// and only wanted tasks are kept, so memory follows MPS's list, not the archive. (The
/// streaming [`archive::Finder`] would also order and dedupe, which a set does not need;
/// its futures cannot be shown `Send`, which the runtime's timer requires.)
async fn ended_tasks<R: Source>(
    source: &R,
    layout: &KeyLayout,
    dates: (NaiveDate, NaiveDate),
    types: &[String],
    wanted: &HashSet<String>,
) -> Result<HashSet<(String, String)>, ReconcileError> {
    use archive::plan::{Plan, Step};
    use archive::source::Pager;
    let filters = archive::Filters::new(Some(dates.0), Some(dates.1), types, None, None)
        .map_err(|_| ReconcileError::Template("{yyyy}/{mm}/{dd}"))?;
    let plan = Plan::new(&layout.template, &layout.prefix, &filters);
    let mut ended = HashSet::new();
    let mut steps = plan.start();
    while let Some(step) = steps.pop() {
        match step {
            Step::Discover(walk) => {
                let mut pager = Pager::new(walk.prefix(), Some('/'));
                let mut folders = Vec::new();
                while let Some(page) = pager.next(source).await? {
                    folders.extend(page.folders);
                }
                steps.extend(plan.resume(&walk, &folders));
            }
            Step::List(prefix, _) => {
                let mut pager = Pager::new(&prefix, None);
                while let Some(page) = pager.next(source).await? {
                    for e in page.entries {
                        let Some(f) = layout.template.read(&layout.prefix, &e.key) else {
                            continue;
                        };
                        if !filters.matches(&f) {
                            continue;
                        }
                        if let (Some(t), Some(id), Some(status)) =
                            (f.event_type, f.task_id, f.status)
                        {
                            if is_end(&t, &status) && wanted.contains(&id) {
                                ended.insert((t, id));
                            }
                        }
                    }
                }
            }
        }
    }
    Ok(ended)
}

/// What became of one missing task.
enum Checked {
    /// Settled; and whether the credentials themselves were refused.
    Done(MissingTask, bool),
    NotChecked,
}

impl<S: Store, R: Source> Reconciler<'_, S, R> {
    /// Runs once over `run.window`, handing each missing task's line to `report` as it is
    /// settled.
    pub(crate) async fn run(
        &self,
        run: &Run,
        mut report: impl FnMut(&MissingTask),
    ) -> Result<Summary, ReconcileError> {
        let cfg = self.handler.archive_config();
        let layout = KeyLayout {
            prefix: cfg.key_prefix.clone(),
            template: cfg.key_template.clone(),
        };
        let has = |want: fn(&Piece<'_>) -> bool| layout.template.pieces().any(|p| want(&p));
        for (placeholder, present) in [
            ("{task_id}", has(|p| matches!(p, Piece::TaskId))),
            ("{status}", has(|p| matches!(p, Piece::Status))),
            ("{event_type}", has(|p| matches!(p, Piece::EventType))),
            ("{yyyy}/{mm}/{dd}", layout.template.is_dated()),
        ] {
            if !present {
                return Err(ReconcileError::Template(placeholder));
            }
        }
        let mut summary = Summary::default();
        let tasks = self.list(run, &mut summary).await?;
        let grace_from = run.now - chrono::Duration::from_std(run.grace).unwrap_or_default();
        let mut seen = HashSet::new();
        let mut candidates: Vec<&TaskSummary> = Vec::new();
        for t in &tasks {
            if !seen.insert(t.task_id.as_str()) {
                continue;
            }
            summary.tasks += 1;
            if t.finish_time.is_some_and(|f| f > grace_from) {
                summary.skipped_grace += 1;
            } else if !archive_types(&t.task_type)
                .iter()
                .any(|a| self.handler.archives_type(a))
            {
                summary.skipped_type += 1;
            } else {
                candidates.push(t);
            }
        }
        if candidates.is_empty() {
            return Ok(summary);
        }
        let dates = dates_to_list(&run.window, &candidates, run.now, cfg.utc_offset);
        summary.first_date = Some(dates.0.to_string());
        summary.last_date = Some(dates.1.to_string());
        let types: Vec<String> = candidates
            .iter()
            .flat_map(|t| archive_types(&t.task_type))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let key_id = |t: &TaskSummary| sanitize(&t.task_id, MAX_TASK_ID_BYTES, "no-task-id");
        let wanted: HashSet<String> = candidates.iter().map(|t| key_id(t)).collect();
        let listing = ended_tasks(self.source, &layout, dates, &types, &wanted);
        let ended = match tokio::time::timeout_at((run.deadline - run.margin).into(), listing).await
        {
            Ok(ended) => ended?,
            // The archive could not be listed in time: nothing was checked.
            Err(_) => {
                summary.not_checked += candidates.len() as u64;
                return Ok(summary);
            }
        };
        let missing: Vec<&TaskSummary> = candidates
            .into_iter()
            .filter(|t| {
                let id = key_id(t);
                let held = archive_types(&t.task_type)
                    .into_iter()
                    .map(|a| sanitize(&a, MAX_EVENT_TYPE_BYTES, "unrecognized"))
                    .any(|a| ended.contains(&(a, id.clone())));
                if held {
                    summary.present += 1;
                }
                !held
            })
            .collect();
        info!(
            tasks = summary.tasks,
            present = summary.present,
            missing = missing.len(),
            first_date = %dates.0,
            last_date = %dates.1,
            "reconcile: archive listed"
        );
        let mut recovered_types = BTreeSet::new();
        let checks: Vec<_> = missing.into_iter().map(|t| self.recover(run, t)).collect();
        let mut settled: Vec<Checked> = Vec::new();
        archive::replay::bounded(checks, MPS_IN_FLIGHT, |c| settled.push(c)).await;
        for c in settled {
            match c {
                Checked::NotChecked => summary.not_checked += 1,
                Checked::Done(m, rejected) => {
                    summary.detail_requests += 1;
                    summary.credentials_rejected |= rejected;
                    match m.action {
                        Action::Recovered => {
                            summary.recovered += 1;
                            recovered_types.insert(m.task_type.clone());
                        }
                        Action::WouldRecover => summary.would_recover += 1,
                        Action::Failed => summary.failed += 1,
                    }
                    report(&m);
                }
            }
        }
        if summary.recovered > 0 {
            let types: Vec<String> = recovered_types.into_iter().collect();
            warn!(
                recovered = summary.recovered,
                tasks = summary.tasks,
                task_types = %types.join(","),
                "reconcile recovered {} of {} finished tasks",
                summary.recovered,
                summary.tasks,
            );
        }
        Ok(summary)
    }

    /// Every finished task of the window, page by page. When the deadline comes first, the
    /// tasks listed so far, with `summary.listed_all` false and `summary.not_checked` what
    /// `TotalCount` says is left.
    async fn list(
        &self,
        run: &Run,
        summary: &mut Summary,
    ) -> Result<Vec<TaskSummary>, ReconcileError> {
        let mut tasks = Vec::new();
        let mut token: Option<String> = None;
        let mut total: Option<u64> = None;
        let stop = |tasks: Vec<TaskSummary>, total: Option<u64>, summary: &mut Summary| {
            summary.not_checked += total.unwrap_or(0).saturating_sub(tasks.len() as u64);
            tasks
        };
        loop {
            if Instant::now() + run.margin >= run.deadline {
                return Ok(stop(tasks, total, summary));
            }
            let call = mps::describe_tasks(run.window.start, run.window.end, token.as_deref())
                .map_err(|e| self.list_error(CallError::NotSent(e)))?;
            summary.list_requests += 1;
            let answered = match self.mps.call(&call, run.deadline - run.margin).await {
                Ok(a) => a,
                Err(e) if e.is_out_of_time() => return Ok(stop(tasks, total, summary)),
                Err(e) => return Err(self.list_error(e)),
            };
            let page = mps::read_tasks_page(answered.answer).map_err(|f| {
                self.list_error(CallError::GaveUp(GaveUp {
                    attempts: answered.attempts,
                    ending: Ending::Rejected(f),
                }))
            })?;
            total = page.total_count.or(total);
            tasks.extend(page.tasks);
            match page.scroll_token {
                None => {
                    summary.listed_all = true;
                    return Ok(tasks);
                }
                Some(next) if token.as_deref() == Some(next.as_str()) => {
                    return Err(ReconcileError::Stuck {
                        host: self.host.clone(),
                    })
                }
                Some(next) => token = Some(next),
            }
        }
    }

    fn list_error(&self, source: CallError) -> ReconcileError {
        ReconcileError::List {
            host: self.host.clone(),
            source,
        }
    }

    /// Fetches one missing task's detail and archives its rebuilt callback (or, in a dry
    /// run, says under which key it would).
    async fn recover(&self, run: &Run, t: &TaskSummary) -> Checked {
        if Instant::now() + run.margin >= run.deadline {
            return Checked::NotChecked;
        }
        let mut line = MissingTask {
            task_id: t.task_id.clone(),
            task_type: t.task_type.clone(),
            finish_time: t
                .finish_time
                .map(|f| f.to_rfc3339_opts(SecondsFormat::Secs, true)),
            key: None,
            action: Action::Failed,
            error: None,
        };
        let call = match mps::describe_task_detail(&t.task_id) {
            Ok(c) => c,
            Err(e) => {
                line.error = Some(format!("DescribeTaskDetail not sent: {e}"));
                return Checked::Done(line, false);
            }
        };
        let detail = match self.mps.call(&call, run.deadline - run.margin).await {
            Ok(a) => mps::read_task_detail(a.answer).map_err(|f| f.to_string()),
            // The deadline came first: the next run checks this task again.
            Err(e) if e.is_out_of_time() => return Checked::NotChecked,
            Err(e) if e.is_credentials_rejected() => {
                line.error = Some(format!(
                    "DescribeTaskDetail at {}: {}",
                    self.host,
                    error_chain(&e)
                ));
                return Checked::Done(line, true);
            }
            Err(e) => Err(error_chain(&e)),
        };
        let detail = match detail {
            Ok(d) => d,
            Err(e) => {
                line.error = Some(format!("DescribeTaskDetail at {}: {e}", self.host));
                return Checked::Done(line, false);
            }
        };
        let body = match rebuild_callback(&detail) {
            Ok(b) => b,
            Err(e) => {
                line.error = Some(e.to_string());
                return Checked::Done(line, false);
            }
        };
        let inv = Invocation {
            request_id: Some(detail.request_id.as_str()),
            received_at: Utc::now(),
            source: RecordSource::Reconcile,
            deadline: run.deadline,
        };
        if run.dry_run {
            match self.handler.key_for(&body, &inv) {
                Ok(key) => {
                    line.key = key;
                    line.action = Action::WouldRecover;
                }
                Err(e) => line.error = Some(error_chain(&e)),
            }
            return Checked::Done(line, false);
        }
        let mut rejected = false;
        match self.handler.handle(body.into(), &inv).await {
            Ok(h) => {
                line.key = h.key;
                line.action = Action::Recovered;
            }
            Err(e) => {
                rejected = e.credentials_rejected();
                line.error = Some(error_chain(&e));
            }
        }
        Checked::Done(line, rejected)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn task(create: &str) -> TaskSummary {
        TaskSummary {
            task_id: "t".into(),
            task_type: "WorkflowTask".into(),
            create_time: Some(t(create)),
            finish_time: None,
        }
    }

    #[test]
    fn the_dates_listed_cover_the_window_its_tasks_and_now_with_a_day_either_side() {
        let window = Window {
            start: t("2026-12-04T06:00:00Z"),
            end: t("2026-12-05T06:00:00Z"),
        };
        let utc = FixedOffset::east_opt(0).unwrap();
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        let now = t("2026-12-05T06:00:30Z");
        assert_eq!(
            dates_to_list(&window, &[], now, utc),
            (d("2026-12-03"), d("2026-12-06"))
        );
        // A task created before the window, and a later now (an --until in the past).
        let early = task("2026-12-02T23:00:00Z");
        assert_eq!(
            dates_to_list(&window, &[&early], t("2026-12-07T01:00:00Z"), utc),
            (d("2026-12-01"), d("2026-12-08"))
        );
        // Dated in ARCHIVE_UTC_OFFSET: 2026-12-04T06:00Z is 14:00 in Beijing, and
        // 2026-12-05T18:00Z is already the 6th there.
        let bj = FixedOffset::east_opt(8 * 3600).unwrap();
        assert_eq!(
            dates_to_list(&window, &[], t("2026-12-05T18:00:00Z"), bj),
            (d("2026-12-03"), d("2026-12-07"))
        );
    }
}
