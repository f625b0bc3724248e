//! The one place COS is talked to: attempts of a prepared request, within the deadline.
//!
//! Everything else (request building, signing, answer parsing, classification, backoff)
//! is pure and lives beside this file; here are only the loop and the exchange. Each kind
//! of request is an [`Operation`]: PUT Object, GET Bucket and GET Object.

use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::bucket::Bucket;
use super::classify::{classify, clock_offset, Class};
use super::error::{CosError, CosFailure};
use super::sign::KeyTime;
use crate::credentials::Credentials;
use crate::retry::{retry, Jitter, RetryPolicy};
use crate::transport::{Answer, Bounds, HttpClient, Request, TransportError};

/// One kind of COS request as the attempt loop sees it: signed anew for every attempt (the
/// key time moves, and may be corrected from the server's clock), its answer read by a pure
/// function.
pub(crate) trait Operation {
    /// What a successful answer yields.
    type Output;
    /// The request's name in error lines and logs, e.g. `PUT`.
    const NAME: &'static str;
    /// The CAM action the role needs for it, e.g. `cos:PutObject`: named when COS answers
    /// `AccessDenied`.
    const ACTION: &'static str;
    /// Longest answer body read; a longer one is a final failure.
    const MAX_BODY: usize;
    /// The object key, for logs.
    fn key(&self) -> &str;
    /// The request of one attempt, signed for `key_time`.
    fn request(&self, creds: &Credentials, key_time: KeyTime) -> Request;
    /// Reads an answer: the output, or why the attempt failed.
    fn read(&self, answer: &Answer) -> Result<Self::Output, CosFailure>;
}

/// COS client for one bucket; cheap to clone (clones share the learned clock offset).
#[derive(Debug, Clone)]
pub struct CosClient {
    http: HttpClient,
    bucket: Bucket,
    credentials: Credentials,
    policy: RetryPolicy,
    /// Server time minus local time, seconds, learned from a RequestTimeTooSkewed answer.
    clock_offset: Arc<AtomicI64>,
    jitter: Jitter,
}

/// A signature is valid from this long before "now", for clocks slightly ahead of ours.
const SIGN_BEFORE_SECS: u64 = 60;
/// Shortest signature window; longer when the deadline is further away.
const SIGN_WINDOW_SECS: u64 = 600;

/// How one attempt ended, when it did not succeed.
struct AttemptFailed {
    failure: CosFailure,
    /// The answer's `Date`, to learn the server's clock from.
    server_date: Option<String>,
}

impl CosClient {
    /// A client for `bucket` on the process's shared HTTP client.
    pub fn new(http: HttpClient, bucket: Bucket, credentials: Credentials) -> Self {
        CosClient {
            http,
            bucket,
            credentials,
            policy: RetryPolicy::default(),
            clock_offset: Arc::new(AtomicI64::new(0)),
            jitter: Jitter::new(),
        }
    }

    /// The bucket written to.
    pub(crate) fn bucket(&self) -> &Bucket {
        &self.bucket
    }

    /// Server-minus-local clock offset in seconds, as learned from COS.
    pub fn clock_offset_secs(&self) -> i64 {
        self.clock_offset.load(Ordering::Relaxed)
    }

    /// The credentials requests are signed with.
    pub(super) fn credentials(&self) -> &Credentials {
        &self.credentials
    }

    /// Attempts `op` until it succeeds, fails for good, or the deadline comes too close;
    /// returns the output and the attempts made. The attempts, backoff and time budget are
    /// [`retry`]'s; an attempt signs anew (with the server's clock once COS said ours is off,
    /// which it may say once) and classifies its own failure.
    pub(super) async fn run<O: Operation>(
        &self,
        op: &O,
        deadline: Instant,
    ) -> Result<(O::Output, u32), CosError> {
        let name = O::NAME;
        let key = op.key();
        let at = CosError::location(self.bucket.name(), key, self.bucket.endpoint().authority());
        let resigned = AtomicBool::new(false);
        let what = format!("COS {name} {key}");
        let result = retry(
            &self.policy,
            &self.jitter,
            deadline,
            &what,
            |_, attempt_deadline| self.attempt(op, deadline, attempt_deadline, &resigned),
        )
        .await;
        let gave_up = match result {
            Ok(done) => return Ok(done),
            Err(gave_up) => {
                gave_up.needing(|| format!("{} on {}/{key}", O::ACTION, self.bucket.name()))
            }
        };
        let err = CosError::GaveUp {
            op: name,
            at,
            gave_up,
        };
        tracing::warn!(key, attempts = err.attempts(), reason = %err, "COS {name} failed");
        Err(err)
    }

    /// One attempt of `op`: signed for the operation's `deadline`, its exchange over by
    /// `attempt_deadline`; a failure comes with its class.
    async fn attempt<O: Operation>(
        &self,
        op: &O,
        deadline: Instant,
        attempt_deadline: Instant,
        resigned: &AtomicBool,
    ) -> Result<O::Output, (Class, CosFailure)> {
        let request = op.request(&self.credentials, self.key_time(deadline));
        let attempt_time = attempt_deadline.saturating_duration_since(Instant::now());
        let AttemptFailed {
            failure,
            server_date,
        } = match self.exchange(op, request, attempt_time).await {
            Ok(output) => return Ok(output),
            Err(failed) => failed,
        };
        let class = classify(&failure);
        if class != Class::ReSign {
            return Err((class, failure));
        }
        // A second clock error after signing with the server's time is not the clock.
        if resigned.swap(true, Ordering::Relaxed) {
            return Err((Class::Final, failure));
        }
        if let Some(off) = server_date
            .as_deref()
            .and_then(|d| clock_offset(d, local_unix()))
        {
            self.clock_offset.store(off, Ordering::Relaxed);
        }
        tracing::warn!(
            key = op.key(),
            clock_offset_secs = self.clock_offset_secs(),
            reason = %failure,
            "COS says the signature time is off; re-signing with the server's clock"
        );
        Err((Class::ReSign, failure))
    }

    /// The signature window of an attempt: from a minute ago (by the server's clock, as far
    /// as it is known) until the deadline has surely passed.
    fn key_time(&self, deadline: Instant) -> KeyTime {
        let now = local_unix()
            .saturating_add(self.clock_offset.load(Ordering::Relaxed))
            .max(0) as u64;
        let until_deadline = deadline.saturating_duration_since(Instant::now()).as_secs() + 60;
        KeyTime {
            start: now.saturating_sub(SIGN_BEFORE_SECS),
            end: now + SIGN_WINDOW_SECS.max(until_deadline),
        }
    }

    /// Sends one request of `op` and reads the answer, its body bounded, within `attempt_time`.
    async fn exchange<O: Operation>(
        &self,
        op: &O,
        request: Request,
        attempt_time: Duration,
    ) -> Result<O::Output, AttemptFailed> {
        let bounds = Bounds {
            max_body: O::MAX_BODY,
            deadline: Some(Instant::now() + attempt_time),
        };
        let answer = self.http.send(request, bounds).await.map_err(|e| {
            let failure = match e {
                TransportError::TimedOut { host } => CosFailure::Timeout {
                    after: attempt_time,
                    host,
                },
                TransportError::Redirect {
                    status,
                    location_host,
                } => CosFailure::Redirect {
                    status,
                    location_host,
                },
                TransportError::BodyTooLarge { limit, .. } => CosFailure::BodyTooLarge { limit },
                other @ (TransportError::Connect { .. }
                | TransportError::Io { .. }
                | TransportError::InvalidRequest(_)) => CosFailure::Transport {
                    retryable: other.is_retryable(),
                    detail: other.to_string(),
                },
            };
            AttemptFailed {
                failure: failure.scrubbed(&self.credentials),
                server_date: None,
            }
        })?;
        op.read(&answer).map_err(|failure| AttemptFailed {
            failure: failure.scrubbed(&self.credentials),
            server_date: answer.header("date").map(str::to_string),
        })
    }
}

fn local_unix() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}
