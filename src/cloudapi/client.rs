//! The I/O of the Cloud API: sends signed calls of any service through the process's
//! [`HttpClient`], retrying inside the deadline; SCF `Invoke` is one of them.

use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use http::Uri;

use super::call::{
    build_request, parse_answer, ApiAnswer, ApiCall, ApiFailure, ApiTarget, BuildError, Class,
};
use super::invoke::{invoke_call, Invoked, QualifiedFunction};
use crate::credentials::Credentials;
use crate::retry::{retry, GaveUp, Jitter, RetryPolicy};
use crate::transport::{Bounds, HttpClient};

/// Largest Cloud API answer read. An `Invoke` answer is well under 1 KiB, but a
/// `DescribeTaskDetail` carries a whole task, as large as the callback it rebuilds (events
/// are bounded at 8 MiB too).
const MAX_ANSWER: usize = 8 * 1024 * 1024;

/// A successful call: the answer (as sent, or read into what the action returns, such as
/// [`Invoked`]) and the attempts it took.
#[derive(Debug, Clone, PartialEq)]
pub struct Answered<A = ApiAnswer> {
    /// The answer.
    pub answer: A,
    /// Attempts made, 1-based.
    pub attempts: u32,
}

/// Why a call failed. `Display` is one line naming the code, message and request id, never
/// a secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallError {
    /// Refused before sending (too large, not UTF-8, invalid endpoint or region).
    #[error("not sent: {0}")]
    NotSent(#[from] BuildError),
    /// Sent and given up: the API refused the credentials themselves
    /// (`AuthFailure.SecretIdNotFound`, `.TokenFailure`, `.InvalidSecretId`; the process
    /// should report, then exit so a fresh instance gets fresh role credentials), the role
    /// lacks the permission ([`ApiCall::permission`]; final for this call while the process
    /// goes on), a final answer (e.g. `ResourceNotFound.Function`, a 4xx, a redirect), every
    /// attempt failed, or the deadline left no time for another.
    #[error(transparent)]
    GaveUp(#[from] GaveUp<ApiFailure>),
}

impl CallError {
    /// Attempts made (0 when nothing was sent).
    pub fn attempts(&self) -> u32 {
        match self {
            CallError::NotSent(_) => 0,
            CallError::GaveUp(g) => g.attempts,
        }
    }

    /// Whether the credentials were refused: the caller should end the process after
    /// reporting.
    pub fn is_credentials_rejected(&self) -> bool {
        matches!(self, CallError::GaveUp(g) if g.is_credentials_rejected())
    }

    /// Whether the deadline ended it before an answer did.
    pub(crate) fn is_out_of_time(&self) -> bool {
        matches!(self, CallError::GaveUp(g) if g.is_out_of_time())
    }

    /// The last failure, when an attempt was made.
    pub fn last_failure(&self) -> Option<&ApiFailure> {
        match self {
            CallError::NotSent(_) => None,
            CallError::GaveUp(g) => g.last_failure(),
        }
    }
}

/// Where and as whom calls are sent.
#[derive(Debug, Clone)]
pub struct CloudApiConfig {
    /// The service's endpoint (`FORWARD_SCF_ENDPOINT`, `MPS_ENDPOINT`, ...).
    pub endpoint: Uri,
    /// `X-TC-Region` (`FORWARD_SCF_REGION`, `MPS_REGION`, ...).
    pub region: String,
    /// The role's credentials.
    pub credentials: Credentials,
}

/// Cloud API client of one endpoint (one service) over the process's HTTP client. Cheap to
/// clone: clones share the learned clock offset.
#[derive(Debug, Clone)]
pub struct CloudApiClient {
    http: HttpClient,
    cfg: CloudApiConfig,
    policy: RetryPolicy,
    jitter: Jitter,
    /// Server time minus local time, seconds, learned from the `Date` of an
    /// `AuthFailure.SignatureExpire` answer; shared by clones.
    clock_offset: Arc<AtomicI64>,
    /// Values masked in answers besides the credentials ([`Self::masking`]).
    also_secret: Arc<Vec<String>>,
}

impl CloudApiClient {
    /// The default endpoint of SCF's API.
    pub(crate) const DEFAULT_ENDPOINT: &'static str = "https://scf.tencentcloudapi.com";

    /// A client with the default retry policy.
    pub(crate) fn new(http: HttpClient, cfg: CloudApiConfig) -> CloudApiClient {
        CloudApiClient::with_policy(http, cfg, RetryPolicy::default())
    }

    /// A client with explicit retry knobs.
    pub fn with_policy(
        http: HttpClient,
        cfg: CloudApiConfig,
        policy: RetryPolicy,
    ) -> CloudApiClient {
        CloudApiClient {
            http,
            cfg,
            policy,
            jitter: Jitter::new(),
            clock_offset: Arc::new(AtomicI64::new(0)),
            also_secret: Arc::new(Vec::new()),
        }
    }

    /// The client, also masking `secrets` wherever an answer echoes them (values a request
    /// carries, such as a function's environment). Masked in the whole answer before its
    /// message is cut to length, so no part of one survives at the cut.
    pub fn masking(mut self, secrets: Vec<String>) -> CloudApiClient {
        self.also_secret = Arc::new(secrets);
        self
    }

    /// Invokes `function` asynchronously with `callback` as its event (see [`Self::call`]).
    pub async fn invoke(
        &self,
        function: &QualifiedFunction,
        callback: &[u8],
        deadline: Instant,
    ) -> Result<Answered<Invoked>, CallError> {
        let call = invoke_call(function, callback)?;
        let answered = self.call(&call, deadline).await?;
        Ok(Answered {
            answer: Invoked::from(answered.answer),
            attempts: answered.attempts,
        })
    }

    /// Sends `call`, retrying retryable failures until `deadline`. Each attempt is signed
    /// anew with the current time; a timestamp the API finds too far from its clock is signed
    /// again once with the time of the answer's `Date`.
    pub(crate) async fn call(
        &self,
        call: &ApiCall,
        deadline: Instant,
    ) -> Result<Answered, CallError> {
        // Refuse what can never be sent before spending an attempt on it.
        self.request(call)?;
        let resigned = AtomicBool::new(false);
        let what = format!("{}:{}", call.service, call.action);
        let result = retry(
            &self.policy,
            &self.jitter,
            deadline,
            &what,
            |_, attempt_deadline| self.attempt(call, attempt_deadline, &resigned),
        )
        .await;
        match result {
            Ok((answer, attempts)) => Ok(Answered { answer, attempts }),
            Err(gave_up) => Err(CallError::GaveUp(
                gave_up.needing(|| call.permission.clone()),
            )),
        }
    }

    fn request(&self, call: &ApiCall) -> Result<crate::transport::Request, BuildError> {
        let timestamp = local_unix()
            .saturating_add(self.clock_offset.load(Ordering::Relaxed))
            .max(0) as u64;
        let target = ApiTarget {
            endpoint: &self.cfg.endpoint,
            region: &self.cfg.region,
            credentials: &self.cfg.credentials,
        };
        build_request(&target, call, timestamp)
    }

    async fn attempt(
        &self,
        call: &ApiCall,
        deadline: Instant,
        resigned: &AtomicBool,
    ) -> Result<ApiAnswer, (Class, ApiFailure)> {
        let req = self.request(call).map_err(|e| {
            let f = ApiFailure::Transport {
                detail: format!("not sent: {e}"),
                retryable: false,
            };
            (Class::Final, f)
        })?;
        let bounds = Bounds {
            max_body: MAX_ANSWER,
            deadline: Some(deadline),
        };
        let answer = self.http.send(req, bounds).await.map_err(|e| {
            let f = ApiFailure::Transport {
                detail: self.cfg.credentials.scrub(&e.to_string()),
                retryable: e.is_retryable(),
            };
            (f.class(), f)
        })?;
        let status = answer.status.as_u16();
        parse_answer(status, &answer.body).map_err(|f| {
            let f = match f {
                ApiFailure::Api { .. } => self.scrubbed(status, &answer.body).unwrap_or(f),
                ApiFailure::Malformed { detail } => ApiFailure::Malformed {
                    detail: self.cfg.credentials.scrub(&detail),
                },
                other => other,
            };
            if f.is_clock_error() && !resigned.swap(true, Ordering::Relaxed) {
                let offset = answer
                    .header("date")
                    .and_then(|d| chrono::DateTime::parse_from_rfc2822(d.trim()).ok())
                    .map(|d| d.timestamp() - local_unix());
                if let Some(offset) = offset {
                    self.clock_offset.store(offset, Ordering::Relaxed);
                    tracing::warn!(
                        service = call.service,
                        action = call.action,
                        clock_offset_secs = offset,
                        reason = %f,
                        "the Cloud API says the request time is off; signing again with the server's clock"
                    );
                    return (Class::ReSign, f);
                }
            }
            (f.class(), f)
        })
    }

    /// The failure read from `body` after every echo of a secret in it became `***`. The
    /// whole body is scrubbed before the message is cut to length, so no part of a secret
    /// survives at a cut. `None` when the body holds no secret.
    fn scrubbed(&self, status: u16, body: &[u8]) -> Option<ApiFailure> {
        let text = String::from_utf8_lossy(body);
        let also = self.also_secret.iter().map(String::as_str);
        let clean = self.cfg.credentials.scrub_also(&text, also);
        if clean == text {
            return None;
        }
        parse_answer(status, clean.as_bytes()).err()
    }
}

fn local_unix() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}
