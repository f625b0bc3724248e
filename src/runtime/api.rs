//! The SCF runtime API: its four requests as values, sent with retries.
//!
//! `POST /runtime/init/ready` once, then `GET /runtime/invocation/next` (a long poll without
//! timeout) and one `POST .../response` or `POST .../error` per invocation, one invocation at
//! a time (README: How it works).

use std::future::Future;
use std::time::{Duration, Instant};

use bytes::Bytes;
use tracing::{error, info, warn};

use super::RuntimeError;
use crate::retry::{retry, Class, Ending, Jitter, RetryPolicy};
use crate::text::{error_chain, one_line};
use crate::transport::{
    header, Answer, Bounds, HeaderValue, HttpClient, Method, Request, TransportError, Uri,
};

/// Largest event accepted from `next`: SCF's largest (synchronous) event is 6 MB; the rest is
/// margin. A larger body is refused with an error post instead of filling the instance's memory.
pub const MAX_EVENT_BYTES: usize = 8 << 20;

/// Largest answer body read from the posts (the platform says little there).
const MAX_POST_ANSWER_BYTES: usize = 64 << 10;

/// An attempt is not started with less time than this left of `give_up_after`.
const MIN_ATTEMPT_TIME: Duration = Duration::from_millis(100);

/// Tuning of the runtime loop; [`RunOptions::default`] is what production uses.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// How long the runtime API may stay unreachable before the loop gives up (10 s).
    pub give_up_after: Duration,
    /// Ceiling of the first pause between retries (50 ms); doubles each time. Each pause is
    /// drawn below its ceiling (full jitter).
    pub backoff_initial: Duration,
    /// Largest ceiling of a pause between retries (1 s).
    pub backoff_max: Duration,
    /// Per-attempt limit for posts (5 s), so a stalled connection is retried instead of
    /// hanging; while retrying, at most half of what is left of `give_up_after`, so one
    /// stalled attempt cannot use it all. `next` has none: it is a long poll.
    pub post_timeout: Duration,
    /// How long an event's body may take once `next`'s head arrived (10 s; SCF's largest
    /// event is 6 MB, which takes milliseconds on the platform's network).
    pub event_body_time: Duration,
}

impl RunOptions {
    /// The attempts after a first failure: as many as fit in `give_up_after`, each exchange
    /// bounded by `post_timeout`, backing off from `backoff_initial` up to `backoff_max`.
    fn retry_policy(&self) -> RetryPolicy {
        RetryPolicy {
            max_attempts: u32::MAX,
            base_backoff: self.backoff_initial,
            max_backoff: self.backoff_max,
            max_attempt_time: self.post_timeout,
            min_attempt_time: MIN_ATTEMPT_TIME.min(self.post_timeout),
            reserve: Duration::ZERO,
        }
    }
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            give_up_after: Duration::from_secs(10),
            backoff_initial: Duration::from_millis(50),
            backoff_max: Duration::from_secs(1),
            post_timeout: Duration::from_secs(5),
            event_body_time: Duration::from_secs(10),
        }
    }
}

/// What an invocation is answered with: the reply posted to the runtime API.
#[derive(Debug)]
pub(crate) enum Reply {
    /// Body of `invocation/response`.
    Response(Vec<u8>),
    /// One line for `invocation/error`.
    Error(String),
}

/// One route of the runtime API: its URI, built once, and how log lines name it.
struct Route {
    uri: Uri,
    what: &'static str,
}

impl Route {
    fn new(base: &Uri, what: &'static str) -> Result<Route, RuntimeError> {
        // `what` is "METHOD /path": the path is what follows the space.
        let path = what.split_once(' ').map_or(what, |(_, p)| p);
        let base = base.to_string();
        let uri = format!("{}{path}", base.trim_end_matches('/'))
            .parse()
            .map_err(|_| RuntimeError::BadAddress(base))?;
        Ok(Route { uri, what })
    }

    fn request(&self, method: Method, body: Bytes) -> Request {
        let mut req = Request::new(method, self.uri.clone());
        if !body.is_empty() {
            req.headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
        }
        req.body = body;
        req
    }
}

/// A failure worth retrying (transport, or a bad answer to `next`).
struct Transient(String);

/// The runtime API client: routes built once, one HTTP client, retry options.
pub(crate) struct RuntimeApi {
    ready: Route,
    next: Route,
    response: Route,
    error: Route,
    http: HttpClient,
    options: RunOptions,
    jitter: Jitter,
}

/// An event as `next` delivered it.
pub(crate) struct NextEvent {
    /// `next`'s answer headers (request id, limits).
    pub(crate) headers: crate::transport::HeaderMap,
    /// The event body, or why it could not be read whole.
    pub(crate) body: Result<Bytes, String>,
}

impl RuntimeApi {
    /// The client for the runtime API at `base` (`http://host:port`).
    pub(crate) fn new(
        base: &Uri,
        http: HttpClient,
        options: RunOptions,
    ) -> Result<RuntimeApi, RuntimeError> {
        Ok(RuntimeApi {
            ready: Route::new(base, "POST /runtime/init/ready")?,
            next: Route::new(base, "GET /runtime/invocation/next")?,
            response: Route::new(base, "POST /runtime/invocation/response")?,
            error: Route::new(base, "POST /runtime/invocation/error")?,
            http,
            options,
            jitter: Jitter::new(),
        })
    }

    /// `init/ready`, with a one-space body (an empty one is rejected).
    pub(crate) async fn ready(&self) -> Result<(), RuntimeError> {
        self.post(&self.ready, Bytes::from_static(b" ")).await
    }

    /// Long-polls until an event arrives.
    ///
    /// The wait for the answer's head has no limit; its body must then arrive within
    /// [`RunOptions::event_body_time`]. An answer that is not 2xx is polled again. An event
    /// too large or too slow to arrive is still this instance's invocation: it comes back
    /// with the reason, to be answered with an error post. A connection lost before the
    /// whole answer arrived cannot be told from one lost before it started: it is polled again.
    pub(crate) async fn next(&self) -> Result<NextEvent, RuntimeError> {
        let body_time = self.options.event_body_time;
        self.retrying(self.next.what, |_| async {
            let req = self.next.request(Method::GET, Bytes::new());
            let refused = |why: String| {
                Ok(NextEvent {
                    headers: Default::default(),
                    body: Err(why),
                })
            };
            match self.http.long_poll(req, MAX_EVENT_BYTES, body_time).await {
                Ok(answer) if answer.status.is_success() => Ok(NextEvent {
                    headers: answer.headers,
                    body: Ok(answer.body),
                }),
                Ok(answer) => Err(Transient(refusal(&answer))),
                Err(TransportError::BodyTooLarge { limit, .. }) => refused(format!(
                    "the event is larger than {limit} bytes; refused unread"
                )),
                Err(TransportError::TimedOut { .. }) => refused(format!(
                    "the event's body did not arrive within {} ms of its head",
                    body_time.as_millis()
                )),
                Err(e) => Err(Transient(error_chain(&e))),
            }
        })
        .await
    }

    /// Posts the invocation's one answer.
    pub(crate) async fn answer(&self, answer: Reply) -> Result<(), RuntimeError> {
        match answer {
            Reply::Response(body) => self.post(&self.response, Bytes::from(body)).await,
            Reply::Error(line) => self.post(&self.error, Bytes::from(line)).await,
        }
    }

    /// Posts `body`; transport failures and 5xx are retried, a 4xx answer is logged and accepted.
    async fn post(&self, to: &Route, body: Bytes) -> Result<(), RuntimeError> {
        let what = to.what;
        let answer = self
            .retrying(what, |attempt_deadline| {
                let body = body.clone();
                async move {
                    let bounds = Bounds {
                        max_body: MAX_POST_ANSWER_BYTES,
                        deadline: Some(attempt_deadline),
                    };
                    let answer = match self.http.send(to.request(Method::POST, body), bounds).await
                    {
                        Ok(answer) => answer,
                        // The answer was posted; only the platform's reply to it is odd.
                        Err(TransportError::BodyTooLarge { .. }) => return Ok(None),
                        Err(e) => return Err(Transient(error_chain(&e))),
                    };
                    // A 5xx means the platform did not record the answer: sending it again is the
                    // only way the invocation gets one. A 4xx is a verdict on the answer itself.
                    if answer.status.is_server_error() {
                        return Err(Transient(format!("runtime API answered {}", answer.status)));
                    }
                    Ok(Some(answer))
                }
            })
            .await?;
        if let Some(answer) = answer.filter(|a| !a.status.is_success()) {
            error!(
                status = answer.status.as_u16(),
                answer = %one_line(&String::from_utf8_lossy(&answer.body)),
                "runtime API refused {what}"
            );
        }
        Ok(())
    }

    /// Runs `attempt` until it succeeds. The first attempt has no budget: a long poll may
    /// idle for minutes before its connection drops, and that wait is not the API being
    /// unreachable. From the first failure on, [`retry`] runs the attempts for at most
    /// `give_up_after`, with full-jitter backoff; `attempt` gets the instant its exchange
    /// must be over by (a long poll does not use it).
    async fn retrying<T, F, Fut>(&self, what: &str, mut attempt: F) -> Result<T, RuntimeError>
    where
        F: FnMut(Instant) -> Fut,
        Fut: Future<Output = Result<T, Transient>>,
    {
        let first = match attempt(Instant::now() + self.options.post_timeout).await {
            Ok(v) => return Ok(v),
            Err(Transient(reason)) => reason,
        };
        warn!(error = %first, "{what} failed; retrying");
        let since = Instant::now();
        let policy = self.options.retry_policy();
        // The same pause before the first retry as before every later one.
        tokio::time::sleep(self.jitter.backoff(&policy, 1)).await;
        let result = retry(
            &policy,
            &self.jitter,
            since + self.options.give_up_after,
            &what,
            |_, attempt_deadline| {
                let exchange = attempt(attempt_deadline);
                async move { exchange.await.map_err(|Transient(why)| (Class::Retry, why)) }
            },
        )
        .await;
        match result {
            Ok((v, retries)) => {
                info!(failures = retries, "{what} succeeded after retrying");
                Ok(v)
            }
            Err(mut gave_up) => {
                gave_up.attempts += 1;
                if gave_up.last_failure().is_none() {
                    gave_up.ending = Ending::OutOfTime(Some(first));
                }
                Err(RuntimeError::Unreachable(format!(
                    "{what} {gave_up} ({} ms after the first failure)",
                    since.elapsed().as_millis()
                )))
            }
        }
    }
}

/// One line for a refused poll: the status and the start of what the server said.
fn refusal(answer: &Answer) -> String {
    let text = one_line(&String::from_utf8_lossy(&answer.body));
    format!(
        "status {}: {}",
        answer.status,
        text.chars().take(200).collect::<String>()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_are_built_once_from_the_base() -> Result<(), Box<dyn std::error::Error>> {
        let base: Uri = "http://127.0.0.1:9001/".parse()?;
        let api = RuntimeApi::new(&base, HttpClient::new(), RunOptions::default())?;
        assert_eq!(
            api.next.uri.to_string(),
            "http://127.0.0.1:9001/runtime/invocation/next"
        );
        assert_eq!(api.ready.what, "POST /runtime/init/ready");
        assert_eq!(
            api.error.uri.to_string(),
            "http://127.0.0.1:9001/runtime/invocation/error"
        );
        Ok(())
    }
}
