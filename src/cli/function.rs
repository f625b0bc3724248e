//! The function as SCF calls it: one event in, told apart by its shape (a Function URL
//! request, a timer event, an MPS callback), the result or a typed error out. Runtime mode
//! runs it under the runtime loop; `invoke` calls [`dispatch`] on event files.

use std::sync::atomic::AtomicBool;

use bytes::Bytes;

use super::timer;
use crate::handler::{HandleError, Handler, Invocation};
use crate::http::auth::CallbackAuth;
use crate::record::RecordSource;
use crate::runtime::{Context, Diagnostic, Function};
use crate::store::Store;

/// One event, told apart by its shape: an HTTP request through the Function URL is answered
/// with a response object (never an error: the caller must get a status); a timer event
/// (`"Type": "Timer"`) reconciles the archive against MPS; anything else is a callback from
/// the MPS trigger.
pub(super) async fn dispatch<S: Store, T: Store, R: crate::archive::Source>(
    handler: &Handler<S>,
    auth: &CallbackAuth,
    timer: Option<&timer::Timer<T, R>>,
    event: Bytes,
    inv: &Invocation<'_>,
    refused: Option<&AtomicBool>,
) -> Result<serde_json::Value, timer::DispatchError> {
    let now = u64::try_from(inv.received_at.timestamp()).unwrap_or(0);
    if let Some(answer) = crate::http::serve(handler, auth, &event, inv, now).await {
        if answer.credentials_refused {
            if let Some(flag) = refused {
                flag.store(true, std::sync::atomic::Ordering::Relaxed);
            }
        }
        return Ok(answer.into_value());
    }
    if let Some(time) = timer::timer_event(&event) {
        let timer = timer.ok_or(timer::DispatchError::NoTimer)?;
        let summary = timer::run(timer, time, inv).await?;
        return Ok(serde_json::to_value(summary).map_err(HandleError::from)?);
    }
    let handled = handler.handle(event, inv).await?;
    Ok(serde_json::to_value(handled).map_err(HandleError::from)?)
}

/// The handler as the runtime sees it: one event in, the result or a typed error out.
pub(super) struct HandlerFunction<S, T, R> {
    handler: Handler<S>,
    auth: CallbackAuth,
    timer: timer::Timer<T, R>,
    /// An HTTP request was answered after the credentials were refused: stop once answered.
    credentials_refused: AtomicBool,
}

impl<S, T, R> HandlerFunction<S, T, R> {
    pub(super) fn new(
        handler: Handler<S>,
        auth: CallbackAuth,
        timer: timer::Timer<T, R>,
    ) -> HandlerFunction<S, T, R> {
        HandlerFunction {
            handler,
            auth,
            timer,
            credentials_refused: AtomicBool::new(false),
        }
    }
}

impl<S: Store, T: Store, R: crate::archive::Source + Send + Sync + 'static> Function
    for HandlerFunction<S, T, R>
{
    type Error = timer::DispatchError;

    async fn call(
        &self,
        ctx: Context,
        event: Bytes,
    ) -> Result<serde_json::Value, timer::DispatchError> {
        let inv = Invocation {
            request_id: Some(ctx.request_id.as_str()).filter(|r| !r.is_empty()),
            received_at: ctx.received_at,
            source: RecordSource::Trigger,
            deadline: ctx.deadline,
        };
        let refused = Some(&self.credentials_refused);
        dispatch(
            &self.handler,
            &self.auth,
            Some(&self.timer),
            event,
            &inv,
            refused,
        )
        .await
    }

    fn stops_after_response(&self) -> Option<String> {
        self.credentials_refused
            .swap(false, std::sync::atomic::Ordering::Relaxed)
            .then(|| {
                "an HTTP callback was answered 500 because a server rejected this instance's \
                 credentials (temporary keys may have expired); a fresh instance gets fresh ones"
                    .to_string()
            })
    }
}

impl Diagnostic for timer::DispatchError {
    fn stops_instance(&self) -> Option<String> {
        self.credentials_rejected().then(|| {
            "a server rejected this instance's credentials (temporary keys may have expired); \
             a fresh instance gets fresh ones"
                .to_string()
        })
    }
}
