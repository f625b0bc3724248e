//! Forwarding: every callback is also delivered, byte for byte as received, to the targets
//! of `ARCHIVE_FORWARD`, concurrently, each with its own retries inside the deadline. The one
//! exception is a leading UTF-8 byte order mark, which is not part of a JSON text: it is left
//! out, so a receiver's JSON parser (and re-signing, which must parse the callback) gets the
//! document itself.
//!
//! ```ignore
//! let forwarder = Forwarder::new(http.clone(), ForwarderConfig {
//!     targets: target::parse_targets(&value)?,
//!     scf: Some(CloudApiConfig { endpoint, region, credentials }),
//!     notify_key: webhook::NotifyKey::new(key),
//!     policy: RetryPolicy::default(),
//! })?;
//! for result in forwarder.forward(&callback, deadline).await { /* Delivery or ForwardError */ }
//! ```

pub mod target;
pub mod webhook;

use std::fmt;
use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::task::Poll;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use serde::Serialize;

use crate::cloudapi::client::{CallError, CloudApiClient, CloudApiConfig};
use crate::cloudapi::invoke::Class;
use crate::retry::{retry, GaveUp, Jitter, RetryPolicy};
use crate::text::one_line;
use crate::transport::{Bounds, HttpClient, StatusCode, Uri};
use target::Target;
use webhook::{NotifyKey, WebhookBuildError};

/// Largest webhook answer read. Receivers answer small bodies; a larger one ends the
/// attempt as a final failure (the transport reads no further and gives no status).
const MAX_WEBHOOK_ANSWER: usize = 1024 * 1024;

/// What a [`Forwarder`] needs besides the HTTP client.
#[derive(Debug, Clone, Default)]
pub struct ForwarderConfig {
    /// The targets, from [`target::parse_targets`].
    pub targets: Vec<Target>,
    /// Cloud API endpoint, region and credentials; required when a target is `scf:`.
    pub scf: Option<CloudApiConfig>,
    /// `FORWARD_NOTIFY_KEY`: URL targets get re-signed callbacks when set.
    pub notify_key: Option<NotifyKey>,
    /// Retry knobs, per target.
    pub policy: RetryPolicy,
}

/// A configuration that cannot forward.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("scf: targets ({first}) need the Cloud API region and credentials")]
pub struct SetupError {
    /// The first `scf:` target.
    pub(crate) first: String,
}

/// Delivers callbacks to every target. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Forwarder {
    targets: Vec<Target>,
    http: HttpClient,
    scf: Option<CloudApiClient>,
    notify_key: Option<NotifyKey>,
    policy: RetryPolicy,
    jitter: Jitter,
}

/// One successful delivery; serializes as `{"target","attempts","request_id"}` (the target
/// in its shown form).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Delivery {
    /// Where it went.
    #[serde(serialize_with = "shown")]
    pub(crate) target: Target,
    /// Attempts made, 1-based.
    pub attempts: u32,
    /// The Cloud API's `RequestId` for `scf:` targets; a URL target's `X-Request-Id` answer
    /// header when it sends one.
    pub request_id: Option<String>,
}

fn shown<S: serde::Serializer>(t: &Target, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(t)
}

/// Why one webhook attempt failed. `Display` is one line without the URL's query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WebhookFailure {
    /// The receiver answered a status other than 2xx.
    Status {
        /// HTTP status.
        status: u16,
    },
    /// No usable answer: connect, reset, timeout, redirect, oversized answer.
    Transport {
        /// What happened.
        detail: String,
        /// Whether trying again may help.
        retryable: bool,
    },
}

impl WebhookFailure {
    fn class(&self) -> Class {
        match self {
            WebhookFailure::Status { status } => {
                webhook::classify_status(*status).unwrap_or(Class::Final)
            }
            WebhookFailure::Transport {
                retryable: true, ..
            } => Class::Retry,
            WebhookFailure::Transport { .. } => Class::Final,
        }
    }
}

impl fmt::Display for WebhookFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WebhookFailure::Status { status } => {
                f.write_str(&crate::transport::status_line(*status))
            }
            WebhookFailure::Transport { detail, .. } => f.write_str(detail),
        }
    }
}

/// Why delivery to one target failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ForwardFailure {
    /// An `scf:` target.
    Invoke(CallError),
    /// A URL target that cannot be sent to (re-signing refused).
    NotSent(WebhookBuildError),
    /// A URL target was posted to and given up on: a final answer, every attempt failed,
    /// or the deadline left no time for another.
    Webhook(GaveUp<WebhookFailure>),
}

impl fmt::Display for ForwardFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ForwardFailure::Invoke(e) => e.fmt(f),
            ForwardFailure::NotSent(e) => write!(f, "not sent: {e}"),
            ForwardFailure::Webhook(g) => g.fmt(f),
        }
    }
}

/// A delivery that failed, naming its target. `Display`: `forward to TARGET <what>`, one
/// line, no secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("forward to {target} {failure}")]
pub struct ForwardError {
    /// The target.
    pub(crate) target: Target,
    /// What went wrong.
    pub failure: ForwardFailure,
}

impl ForwardError {
    /// Attempts made (0 when nothing was sent).
    pub fn attempts(&self) -> u32 {
        match &self.failure {
            ForwardFailure::Invoke(e) => e.attempts(),
            ForwardFailure::NotSent(_) => 0,
            ForwardFailure::Webhook(g) => g.attempts,
        }
    }

    /// The Cloud API refused the credentials: after reporting, the process should exit so
    /// a fresh instance starts with fresh role credentials.
    pub fn is_credentials_rejected(&self) -> bool {
        matches!(&self.failure, ForwardFailure::Invoke(e) if e.is_credentials_rejected())
    }
}

impl Forwarder {
    /// A forwarder over the process's HTTP client. Fails when an `scf:` target has no Cloud
    /// API configuration.
    pub fn new(http: HttpClient, cfg: ForwarderConfig) -> Result<Forwarder, SetupError> {
        let first_scf = cfg.targets.iter().find(|t| matches!(t, Target::Scf(_)));
        let scf = match (cfg.scf, first_scf) {
            (Some(api), Some(_)) => Some(CloudApiClient::with_policy(
                http.clone(),
                api,
                cfg.policy.clone(),
            )),
            (None, Some(t)) => {
                return Err(SetupError {
                    first: t.to_string(),
                })
            }
            (_, None) => None,
        };
        Ok(Forwarder {
            targets: cfg.targets,
            http,
            scf,
            notify_key: cfg.notify_key,
            policy: cfg.policy,
            jitter: Jitter::new(),
        })
    }

    /// Whether there is nothing to forward to.
    pub fn is_empty(&self) -> bool {
        self.targets.is_empty()
    }

    /// Delivers `callback` (the bytes as received) to every target concurrently; one result
    /// per target, in configuration order. Every target is tried even when another fails.
    pub async fn forward(
        &self,
        callback: &Bytes,
        deadline: Instant,
    ) -> Vec<Result<Delivery, ForwardError>> {
        join_all(
            self.targets
                .iter()
                .map(|t| self.deliver(t, callback, deadline))
                .collect(),
        )
        .await
    }

    /// Delivers `callback` to one target (also for `replay --to TARGET`), without a leading
    /// byte order mark.
    pub(crate) async fn deliver(
        &self,
        target: &Target,
        callback: &Bytes,
        deadline: Instant,
    ) -> Result<Delivery, ForwardError> {
        let callback = &callback.slice(callback.len() - crate::text::strip_bom(callback).len()..);
        let fail = |failure| ForwardError {
            target: target.clone(),
            failure,
        };
        match target {
            Target::Scf(function) => {
                let Some(api) = &self.scf else {
                    // `new` refuses scf: targets without a client; a target passed in from
                    // elsewhere may still lack one.
                    return Err(fail(ForwardFailure::Invoke(CallError::NotSent(
                        crate::cloudapi::invoke::BuildError::Invalid(
                            "no Cloud API region and credentials configured".into(),
                        ),
                    ))));
                };
                let done = api
                    .invoke(function, callback, deadline)
                    .await
                    .map_err(|e| fail(ForwardFailure::Invoke(e)))?;
                Ok(Delivery {
                    target: target.clone(),
                    attempts: done.attempts,
                    request_id: Some(done.answer.request_id),
                })
            }
            Target::Url(url) => self
                .post(url, callback, deadline)
                .await
                .map(|(request_id, attempts)| Delivery {
                    target: target.clone(),
                    attempts,
                    request_id,
                })
                .map_err(fail),
        }
    }

    async fn post(
        &self,
        url: &Uri,
        callback: &Bytes,
        deadline: Instant,
    ) -> Result<(Option<String>, u32), ForwardFailure> {
        // Check once that the callback can be re-signed before any attempt.
        webhook::build_request(url, callback, self.notify_key.as_ref(), now_unix())
            .map_err(ForwardFailure::NotSent)?;
        let shown = Target::Url(url.clone());
        let result = retry(
            &self.policy,
            &self.jitter,
            deadline,
            &shown,
            |_, attempt_deadline| self.post_once(url, callback, attempt_deadline),
        )
        .await;
        result.map_err(ForwardFailure::Webhook)
    }

    async fn post_once(
        &self,
        url: &Uri,
        callback: &Bytes,
        deadline: Instant,
    ) -> Result<Option<String>, (Class, WebhookFailure)> {
        // Signed anew each attempt: a retry late in the budget still has ~600 s of validity.
        let req = webhook::build_request(url, callback, self.notify_key.as_ref(), now_unix())
            .map_err(|e| {
                let f = WebhookFailure::Transport {
                    detail: format!("not sent: {e}"),
                    retryable: false,
                };
                (Class::Final, f)
            })?;
        let bounds = Bounds {
            max_body: MAX_WEBHOOK_ANSWER,
            deadline: Some(deadline),
        };
        // A 2xx head means the receiver accepted the callback, whatever its body does next
        // (cut short, trickling past the deadline, too long): failing it would deliver it
        // again, to every target, on every redelivery.
        let status = match self.http.send_status(req, bounds, accepted).await {
            Ok(answer) => {
                let status = answer.status.as_u16();
                if webhook::classify_status(status).is_none() {
                    return Ok(answer.header("x-request-id").map(one_line));
                }
                status
            }
            Err(e) => {
                let f = WebhookFailure::Transport {
                    detail: e.to_string(),
                    retryable: e.is_retryable(),
                };
                return Err((f.class(), f));
            }
        };
        let class = webhook::classify_status(status).unwrap_or(Class::Final);
        Err((class, WebhookFailure::Status { status }))
    }
}

/// Whether a webhook's status says it accepted the callback (any 2xx).
fn accepted(status: StatusCode) -> bool {
    webhook::classify_status(status.as_u16()).is_none()
}

fn now_unix() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Polls every future on the caller's task until all are done; outputs in input order.
/// (No task is spawned: a panic stays on the caller's task, where the handler catches it.)
async fn join_all<F: Future>(futures: Vec<F>) -> Vec<F::Output> {
    let mut futures: Vec<Pin<Box<F>>> = futures.into_iter().map(Box::pin).collect();
    let mut outputs: Vec<Option<F::Output>> = futures.iter().map(|_| None).collect();
    poll_fn(|cx| {
        let mut pending = false;
        for (future, output) in futures.iter_mut().zip(outputs.iter_mut()) {
            if output.is_none() {
                match future.as_mut().poll(cx) {
                    Poll::Ready(v) => *output = Some(v),
                    Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            Poll::Pending
        } else {
            Poll::Ready(())
        }
    })
    .await;
    outputs.into_iter().flatten().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloudapi::invoke::{ApiFailure, QualifiedFunction};
    use crate::retry::Ending;
    use std::time::Duration;

    #[test]
    fn join_all_runs_concurrently_and_keeps_order() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        let started = Instant::now();
        let out = rt.block_on(join_all(
            [30u64, 10, 20]
                .into_iter()
                .map(|ms| async move {
                    tokio::time::sleep(Duration::from_millis(ms)).await;
                    ms
                })
                .collect(),
        ));
        assert_eq!(out, vec![30, 10, 20]);
        // Run one after another they would take 60 ms; at once, about 30.
        assert!(started.elapsed() < Duration::from_millis(60));
    }

    #[test]
    fn scf_targets_need_a_cloud_api_configuration() {
        let targets = target::parse_targets("https://h.example/x,scf:fn1").unwrap();
        let e = Forwarder::new(
            HttpClient::new(),
            ForwarderConfig {
                targets,
                ..Default::default()
            },
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "scf: targets (scf:default/fn1:$LATEST) need the Cloud API region and credentials"
        );
    }

    #[test]
    fn errors_and_deliveries_display_and_serialize() {
        let target = Target::Scf(QualifiedFunction::new("default", "fn1", "$LATEST").unwrap());
        let e = ForwardError {
            target: target.clone(),
            failure: ForwardFailure::Invoke(CallError::GaveUp(GaveUp {
                attempts: 1,
                ending: Ending::CredentialsRejected(ApiFailure::Api {
                    status: 200,
                    code: "AuthFailure.TokenFailure".into(),
                    message: "token expired".into(),
                    request_id: Some("r-1".into()),
                }),
            })),
        };
        assert!(e.is_credentials_rejected());
        assert_eq!(
            e.to_string(),
            "forward to scf:default/fn1:$LATEST credentials refused after 1 attempt(s): \
             AuthFailure.TokenFailure: token expired (request id r-1)"
        );
        let url = target::parse_targets("https://h.example/x?token=secret").unwrap();
        let e = ForwardError {
            target: url[0].clone(),
            failure: ForwardFailure::Webhook(GaveUp {
                attempts: 1,
                ending: Ending::Rejected(WebhookFailure::Status { status: 404 }),
            }),
        };
        assert_eq!(
            e.to_string(),
            "forward to https://h.example/x?… rejected after 1 attempt(s): HTTP 404 Not Found"
        );
        assert!(!e.is_credentials_rejected());
        let d = Delivery {
            target: url[0].clone(),
            attempts: 2,
            request_id: None,
        };
        assert_eq!(
            serde_json::to_string(&d).unwrap(),
            r#"{"target":"https://h.example/x?…","attempts":2,"request_id":null}"#
        );
        let d = Delivery {
            target,
            attempts: 1,
            request_id: Some("r".into()),
        };
        assert_eq!(
            serde_json::to_string(&d).unwrap(),
            r#"{"target":"scf:default/fn1:$LATEST","attempts":1,"request_id":"r"}"#
        );
    }
}
