//! Retries inside a deadline, for every client of the process (COS, the Cloud API, webhooks,
//! the runtime API once its first attempt failed): how many attempts, how long each may take,
//! and how long to wait between them; and [`GaveUp`], how attempts that did not succeed
//! ended, said the same way for each.
//!
//! Backoff uses full jitter (uniform below an exponentially growing ceiling), so clients that
//! failed together spread out instead of retrying in lockstep. An attempt gets at most half
//! of the time left when that leaves room for one more, so one hanging exchange cannot eat
//! the whole budget.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// What to do after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// Try again, after a backoff, if the deadline allows: the server or the network hiccuped.
    Retry,
    /// Try again at once, without a backoff: the request was signed with a time the server
    /// finds off, and the next attempt signs with the server's clock. The attempt decides
    /// that it happens once (a second clock error is final).
    ReSign,
    /// The credentials were refused: after reporting, the process should stop so a fresh
    /// instance starts with fresh role credentials.
    CredentialsRejected,
    /// The credentials are good but the role may not do this: final for this request (fresh
    /// credentials of the same role would be refused alike); the instance goes on.
    PermissionDenied,
    /// Do not try again.
    Final,
}

/// Retry and time-budget knobs; the defaults suit SCF's few-second budgets.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Most attempts per delivery.
    pub max_attempts: u32,
    /// First backoff ceiling; doubles per retry (full jitter below it).
    pub base_backoff: Duration,
    /// Largest backoff ceiling.
    pub max_backoff: Duration,
    /// Longest single attempt.
    pub max_attempt_time: Duration,
    /// An attempt is not started with less time than this left.
    pub min_attempt_time: Duration,
    /// Time kept free before the deadline so the caller can still report the error.
    pub reserve: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 8,
            base_backoff: Duration::from_millis(50),
            max_backoff: Duration::from_secs(1),
            max_attempt_time: Duration::from_secs(10),
            min_attempt_time: Duration::from_millis(200),
            reserve: Duration::from_millis(100),
        }
    }
}

/// An operation that was attempted and gave up: how many attempts it took and how it
/// ended. Every client's error (COS, the Cloud API, webhooks) carries one, so "failed after
/// N attempts" is said in one place, the same way for each.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GaveUp<E> {
    /// Attempts made (0 when the deadline left no room for a first one).
    pub attempts: u32,
    /// How it ended.
    pub ending: Ending<E>,
}

/// How a retried operation ended without success.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ending<E> {
    /// A failure retrying cannot fix ([`Class::Final`]).
    Rejected(E),
    /// The credentials themselves were refused ([`Class::CredentialsRejected`]).
    CredentialsRejected(E),
    /// The role lacks a permission ([`Class::PermissionDenied`]); `permission` names it
    /// (action and resource) when the client knows it ([`GaveUp::needing`]).
    PermissionDenied {
        /// The CAM action and resource the request needs.
        permission: Option<Box<str>>,
        /// What the server said.
        failure: E,
    },
    /// Every allowed attempt failed; the last failure.
    Exhausted(E),
    /// Too little time was left for another attempt; the last failure, if any attempt was
    /// made.
    OutOfTime(Option<E>),
}

impl<E> GaveUp<E> {
    fn new(attempts: u32, ending: Ending<E>) -> GaveUp<E> {
        GaveUp { attempts, ending }
    }

    /// The same, naming the permission a [`Ending::PermissionDenied`] lacked.
    pub(crate) fn needing(mut self, permission: impl FnOnce() -> String) -> GaveUp<E> {
        if let Ending::PermissionDenied {
            permission: named, ..
        } = &mut self.ending
        {
            *named = Some(permission().into());
        }
        self
    }

    /// The last failure, when an attempt was made.
    pub(crate) fn last_failure(&self) -> Option<&E> {
        match &self.ending {
            Ending::Rejected(f)
            | Ending::CredentialsRejected(f)
            | Ending::PermissionDenied { failure: f, .. }
            | Ending::Exhausted(f) => Some(f),
            Ending::OutOfTime(last) => last.as_ref(),
        }
    }

    /// Whether the credentials themselves were refused: after reporting, the process should
    /// stop so a fresh instance starts with fresh role credentials.
    pub(crate) fn is_credentials_rejected(&self) -> bool {
        matches!(self.ending, Ending::CredentialsRejected(_))
    }

    /// Whether it ended for want of time rather than on an answer.
    pub(crate) fn is_out_of_time(&self) -> bool {
        matches!(self.ending, Ending::OutOfTime(_))
    }
}

impl<E: std::fmt::Display> std::fmt::Display for GaveUp<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self.attempts;
        match &self.ending {
            Ending::Rejected(e) => write!(f, "rejected after {n} attempt(s): {e}"),
            Ending::CredentialsRejected(e) => {
                write!(f, "credentials refused after {n} attempt(s): {e}")
            }
            Ending::PermissionDenied {
                permission: Some(p),
                failure,
            } => write!(
                f,
                "refused after {n} attempt(s): the role lacks {p}: {failure}"
            ),
            Ending::PermissionDenied {
                permission: None,
                failure,
            } => write!(f, "refused after {n} attempt(s): {failure}"),
            Ending::Exhausted(e) => write!(f, "failed after {n} attempts: {e}"),
            Ending::OutOfTime(None) => write!(f, "out of time after {n} attempt(s)"),
            Ending::OutOfTime(Some(e)) => write!(f, "out of time after {n} attempt(s): {e}"),
        }
    }
}

impl<E: std::fmt::Display + std::fmt::Debug> std::error::Error for GaveUp<E> {}

impl RetryPolicy {
    /// The time budget of the next attempt with `remaining` left, or None when too little is
    /// left to start one: half of what is left when that leaves room for another attempt.
    pub(crate) fn attempt_time(&self, remaining: Duration) -> Option<Duration> {
        if remaining < self.min_attempt_time {
            None
        } else if remaining >= self.min_attempt_time * 2 {
            Some(
                (remaining / 2)
                    .max(self.min_attempt_time)
                    .min(self.max_attempt_time),
            )
        } else {
            Some(remaining)
        }
    }

    /// Backoff after failed attempt `attempt` (1-based): uniform in
    /// `[0, min(max, base * 2^(attempt-1))]`, drawn from `random`.
    pub(crate) fn backoff(&self, attempt: u32, random: u64) -> Duration {
        let shift = attempt.saturating_sub(1).min(20);
        let ceiling = self
            .base_backoff
            .saturating_mul(1u32 << shift)
            .min(self.max_backoff);
        let ceiling_us = u64::try_from(ceiling.as_micros()).unwrap_or(u64::MAX);
        if ceiling_us == 0 {
            return Duration::ZERO;
        }
        Duration::from_micros(random % ceiling_us.saturating_add(1))
    }
}

/// Full-jitter randomness: xorshift64* seeded from the clock, shared by concurrent
/// attempts. Racing updates only cost a little randomness.
#[derive(Debug, Clone)]
pub(crate) struct Jitter(Arc<AtomicU64>);

impl Jitter {
    /// A source seeded from the wall clock.
    pub(crate) fn new() -> Jitter {
        let seed = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0x9E37_79B9_7F4A_7C15)
            | 1;
        Jitter(Arc::new(AtomicU64::new(seed)))
    }

    /// The next draw.
    pub(crate) fn next(&self) -> u64 {
        let mut x = self.0.load(Ordering::Relaxed);
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0.store(x, Ordering::Relaxed);
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A backoff for `attempt` under `policy`, drawn from this source.
    pub(crate) fn backoff(&self, policy: &RetryPolicy, attempt: u32) -> Duration {
        policy.backoff(attempt, self.next())
    }
}

/// Runs `attempt` until it succeeds, fails with a class other than [`Class::Retry`], runs
/// out of attempts, or the deadline (less the policy's reserve) leaves no room for another
/// try. `attempt` gets its attempt number (1-based) and the instant its exchange must be
/// over: half the time left when that leaves room for one more attempt, so one hanging
/// exchange cannot eat the whole budget. `target` names what is retried in log lines.
pub(crate) async fn retry<T, E, F, Fut>(
    policy: &RetryPolicy,
    jitter: &Jitter,
    deadline: Instant,
    target: &(dyn std::fmt::Display + Sync),
    mut attempt: F,
) -> Result<(T, u32), GaveUp<E>>
where
    E: std::fmt::Display,
    F: FnMut(u32, Instant) -> Fut,
    Fut: Future<Output = Result<T, (Class, E)>>,
{
    let budget_end = deadline
        .checked_sub(policy.reserve)
        .unwrap_or_else(Instant::now);
    let mut attempts: u32 = 0;
    let mut last: Option<E> = None;
    loop {
        let remaining = budget_end.saturating_duration_since(Instant::now());
        let Some(attempt_time) = policy.attempt_time(remaining) else {
            return Err(GaveUp::new(attempts, Ending::OutOfTime(last)));
        };
        attempts += 1;
        let failure = match attempt(attempts, Instant::now() + attempt_time).await {
            Ok(v) => return Ok((v, attempts)),
            Err((Class::Retry, e)) => e,
            Err((Class::ReSign, e)) => {
                tracing::debug!(target = %target, attempt = attempts, reason = %e,
                    "attempt failed on the clock; signing again at once");
                last = Some(e);
                continue;
            }
            Err((class, failure)) => {
                let ending = match class {
                    Class::CredentialsRejected => Ending::CredentialsRejected(failure),
                    Class::PermissionDenied => Ending::PermissionDenied {
                        permission: None,
                        failure,
                    },
                    Class::Final | Class::Retry | Class::ReSign => Ending::Rejected(failure),
                };
                return Err(GaveUp::new(attempts, ending));
            }
        };
        if attempts >= policy.max_attempts {
            return Err(GaveUp::new(attempts, Ending::Exhausted(failure)));
        }
        let backoff = jitter.backoff(policy, attempts);
        if Instant::now() + backoff + policy.min_attempt_time > budget_end {
            return Err(GaveUp::new(attempts, Ending::OutOfTime(Some(failure))));
        }
        tracing::debug!(
            target = %target,
            attempt = attempts,
            backoff_ms = backoff.as_millis() as u64,
            reason = %failure,
            "attempt failed; retrying"
        );
        last = Some(failure);
        tokio::time::sleep(backoff).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    fn fast() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 4,
            base_backoff: Duration::from_millis(1),
            max_backoff: Duration::from_millis(2),
            max_attempt_time: Duration::from_millis(100),
            min_attempt_time: Duration::from_millis(10),
            reserve: Duration::from_millis(5),
        }
    }

    fn rt() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap()
    }

    #[test]
    fn attempt_time_leaves_room_for_another_attempt() {
        let p = RetryPolicy::default();
        assert_eq!(p.attempt_time(Duration::from_millis(199)), None);
        assert_eq!(
            p.attempt_time(Duration::from_millis(300)),
            Some(Duration::from_millis(300))
        );
        assert_eq!(
            p.attempt_time(Duration::from_secs(3)),
            Some(Duration::from_millis(1500))
        );
        assert_eq!(
            p.attempt_time(Duration::from_secs(60)),
            Some(Duration::from_secs(10))
        );
    }

    #[test]
    fn backoff_is_exact_for_a_given_draw() {
        let p = RetryPolicy::default();
        assert_eq!(
            p.backoff(1, u64::MAX),
            Duration::from_micros(u64::MAX % 50_001)
        );
        let zero = RetryPolicy {
            base_backoff: Duration::ZERO,
            ..RetryPolicy::default()
        };
        assert_eq!(zero.backoff(3, 12345), Duration::ZERO);
    }

    #[test]
    fn jitter_draws_differ() {
        let j = Jitter::new();
        let draws: std::collections::HashSet<u64> = (0..100).map(|_| j.next()).collect();
        assert_eq!(draws.len(), 100);
    }

    #[test]
    fn backoff_stays_under_its_ceiling() {
        let j = Jitter::new();
        let p = RetryPolicy::default();
        for attempt in 1..30 {
            let ceiling = (p.base_backoff * 2u32.pow(attempt.min(20) - 1)).min(p.max_backoff);
            assert!(j.backoff(&p, attempt) <= ceiling);
        }
    }

    #[test]
    fn retries_until_success_then_counts_attempts() {
        let calls = Cell::new(0);
        let r = rt().block_on(retry(
            &fast(),
            &Jitter::new(),
            Instant::now() + Duration::from_secs(5),
            &"t",
            |n, _| {
                calls.set(n);
                async move {
                    if n < 3 {
                        Err((Class::Retry, "busy"))
                    } else {
                        Ok("done")
                    }
                }
            },
        ));
        assert_eq!(r, Ok(("done", 3)));
    }

    #[test]
    fn final_and_credential_classes_stop_at_once() {
        for class in [Class::Final, Class::CredentialsRejected] {
            let r: Result<((), u32), _> = rt().block_on(retry(
                &fast(),
                &Jitter::new(),
                Instant::now() + Duration::from_secs(5),
                &"t",
                |_, _| async move { Err((class, "no")) },
            ));
            let ending = match class {
                Class::Final => Ending::Rejected("no"),
                _ => Ending::CredentialsRejected("no"),
            };
            assert_eq!(r, Err(GaveUp::new(1, ending)));
        }
    }

    #[test]
    fn attempts_and_time_are_bounded() {
        let r: Result<((), u32), _> = rt().block_on(retry(
            &fast(),
            &Jitter::new(),
            Instant::now() + Duration::from_secs(5),
            &"t",
            |_, _| async { Err((Class::Retry, "busy")) },
        ));
        assert_eq!(r, Err(GaveUp::new(4, Ending::Exhausted("busy"))));
        let r: Result<((), u32), GaveUp<&str>> = rt().block_on(retry(
            &fast(),
            &Jitter::new(),
            Instant::now() + Duration::from_millis(12),
            &"t",
            |_, _| async { Err((Class::Retry, "busy")) },
        ));
        assert_eq!(r, Err(GaveUp::new(0, Ending::OutOfTime(None))));
    }

    #[test]
    fn every_ending_is_one_line_naming_the_attempts() {
        let cases = [
            (
                GaveUp::new(1, Ending::Rejected("404")),
                "rejected after 1 attempt(s): 404",
            ),
            (
                GaveUp::new(1, Ending::CredentialsRejected("expired")),
                "credentials refused after 1 attempt(s): expired",
            ),
            (
                GaveUp::new(
                    1,
                    Ending::PermissionDenied {
                        permission: None,
                        failure: "403",
                    },
                )
                .needing(|| "cos:PutObject on b/k".into()),
                "refused after 1 attempt(s): the role lacks cos:PutObject on b/k: 403",
            ),
            (
                GaveUp::new(
                    2,
                    Ending::PermissionDenied {
                        permission: None,
                        failure: "403",
                    },
                ),
                "refused after 2 attempt(s): 403",
            ),
            (
                GaveUp::new(4, Ending::Exhausted("503")),
                "failed after 4 attempts: 503",
            ),
            (
                GaveUp::new(0, Ending::OutOfTime(None)),
                "out of time after 0 attempt(s)",
            ),
            (
                GaveUp::new(3, Ending::OutOfTime(Some("slow"))),
                "out of time after 3 attempt(s): slow",
            ),
        ];
        for (gave_up, line) in cases {
            assert_eq!(gave_up.to_string(), line);
        }
        let other = GaveUp::new(1, Ending::Rejected("x")).needing(|| unreachable!());
        assert_eq!(other.last_failure(), Some(&"x"));
        assert!(!other.is_credentials_rejected() && !other.is_out_of_time());
        assert_eq!(
            GaveUp::<&str>::new(0, Ending::OutOfTime(None)).last_failure(),
            None
        );
    }
}
