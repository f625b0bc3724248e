//! What the verifying fakes (`fake_cos`, `fake_cloudapi`, `fake_webhook`) share: fault
//! injection (a scripted queue, else the seeded PRNG and a weighted pick), the poison-tolerant
//! lock on their state (`fake_runtime` and `binary` take theirs with it too), and serving a
//! handler under that lock.
//!
//! Same seed, same sequence of draws: a seeded suite meets the same faults on every run.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};

use super::http::{serve_with, Reply, Request, Server, Writes};

/// A splitmix64 generator seeded from a fake's `seed` option.
#[derive(Debug, Clone)]
pub struct Seeded(u64);

impl Seeded {
    /// The generator for `seed` (any value, 0 included).
    pub fn new(seed: u64) -> Seeded {
        Seeded(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    /// The next draw, uniform in `0.0..1.0` (53 bits).
    pub fn draw(&mut self) -> f64 {
        // splitmix64
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// The first entry of `table` whose probability, summed with those before it, exceeds the
/// draw `x`; `None` when the probabilities run out first (no fault).
pub fn pick<T>(x: f64, table: impl IntoIterator<Item = (f64, T)>) -> Option<T> {
    let mut acc = 0.0;
    for (p, item) in table {
        acc += p;
        if x < acc {
            return Some(item);
        }
    }
    None
}

/// A fake's faults: the scripted queue first, else a seeded random one.
#[derive(Debug, Clone)]
pub struct Faults<F> {
    script: VecDeque<F>,
    rng: Seeded,
}

impl<F> Faults<F> {
    /// An empty script and the generator for `seed`.
    pub fn new(seed: u64) -> Faults<F> {
        Faults {
            script: VecDeque::new(),
            rng: Seeded::new(seed),
        }
    }

    /// Queues faults for the next requests, in order.
    pub fn push(&mut self, faults: impl IntoIterator<Item = F>) {
        self.script.extend(faults);
    }

    /// The fault for this request: the next scripted one, else what `random` draws.
    pub fn next(&mut self, random: impl FnOnce(&mut Seeded) -> Option<F>) -> Option<F> {
        self.script.pop_front().or_else(|| random(&mut self.rng))
    }
}

/// Locks `state`, taking it over from a test that panicked while holding it, so that test's
/// own failure is the one reported.
pub fn lock<T>(state: &Mutex<T>) -> MutexGuard<'_, T> {
    state.lock().unwrap_or_else(|p| p.into_inner())
}

/// Serves `handle` on a fresh loopback port, writing answers as `writes` says; each request
/// is handled with `state` locked.
pub async fn serve_state<S: Send + 'static>(
    writes: Writes,
    state: &Arc<Mutex<S>>,
    handle: fn(&mut S, Request) -> Reply,
) -> Server {
    let state = state.clone();
    serve_with("127.0.0.1:0", writes, move |req| {
        let state = state.clone();
        async move { handle(&mut lock(&state), req) }
    })
    .await
}
