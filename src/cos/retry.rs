//! How many attempts, how long each, and how long to wait between them.
//!
//! Backoff uses full jitter (uniform below an exponentially growing ceiling): concurrent
//! writers that failed together spread out instead of retrying in lockstep.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Retry and time-budget knobs; the defaults suit SCF's few-second budgets.
#[derive(Debug, Clone)]
pub(crate) struct RetryPolicy {
    /// Most attempts per PUT.
    pub(crate) max_attempts: u32,
    /// First backoff ceiling; doubles per retry.
    pub(crate) base_backoff: Duration,
    /// Largest backoff ceiling.
    pub(crate) max_backoff: Duration,
    /// Longest single attempt.
    pub(crate) max_attempt_time: Duration,
    /// An attempt is not started with less time than this left.
    pub(crate) min_attempt_time: Duration,
    /// Time kept free before the deadline so the caller can still report the error.
    pub(crate) reserve: Duration,
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

impl RetryPolicy {
    /// The time budget of the next attempt with `remaining` left, or None when too little is
    /// left to start one. A hanging attempt gets at most half of what is left, so there is
    /// room for one more.
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

/// The random source of backoff jitter: xorshift64*, seeded from the clock. Shared by
/// concurrent PUTs; a racing update only costs a little randomness.
#[derive(Debug)]
pub(crate) struct Jitter(AtomicU64);

impl Jitter {
    /// A source seeded from the wall clock.
    pub(crate) fn from_clock() -> Jitter {
        let seed = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0x9E37_79B9_7F4A_7C15);
        // xorshift never leaves zero.
        Jitter(AtomicU64::new(seed | 1))
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
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn backoff_is_below_a_doubling_capped_ceiling() {
        let p = RetryPolicy::default();
        let j = Jitter::from_clock();
        for attempt in 1..30 {
            let ceiling = (Duration::from_millis(50) * 2u32.pow((attempt - 1).min(20)))
                .min(Duration::from_secs(1));
            for _ in 0..50 {
                assert!(p.backoff(attempt, j.next()) <= ceiling);
            }
        }
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
        let j = Jitter::from_clock();
        let draws: std::collections::HashSet<u64> = (0..100).map(|_| j.next()).collect();
        assert_eq!(draws.len(), 100);
    }
}
