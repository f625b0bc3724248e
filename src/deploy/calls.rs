//! One Cloud API call of a deploy, its answer read into a type, and a creation made safe to
//! retry: when the first attempt's answer was lost, the retry is refused because the thing
//! now exists, and that refusal is the creation's success.

use std::time::{Duration, Instant};

use super::{usage, Deploy, DeployError};
use crate::cloudapi::call::{ApiAnswer, ApiCall, BuildError};
use crate::cloudapi::client::{CallError, CloudApiClient};
use crate::retry::{Ending, GaveUp};

/// Time one call may take, retries included: an upload of 50 MB on a slow line.
const CALL_TIME: Duration = Duration::from_secs(300);

impl Deploy<'_> {
    pub(super) async fn send(
        &self,
        client: &CloudApiClient,
        call: Result<ApiCall, BuildError>,
    ) -> Result<ApiAnswer, DeployError> {
        let call = call.map_err(|e| usage(e.to_string()))?;
        client
            .call(&call, Instant::now() + CALL_TIME)
            .await
            .map(|a| a.answer)
            .map_err(|error| DeployError::Api {
                action: call.action,
                error: Box::new(error),
            })
    }

    /// [`Self::send`] of a creation. When an attempt is retried after its answer was lost
    /// (an `InternalError` or a broken connection once the API had acted), the retry is
    /// refused because the thing now exists: that refusal (`exists`) after more than one
    /// attempt is the creation's success.
    pub(super) async fn create(
        &self,
        client: &CloudApiClient,
        call: Result<ApiCall, BuildError>,
        exists: fn(&str) -> bool,
    ) -> Result<(), DeployError> {
        match self.send(client, call).await {
            Ok(_) => Ok(()),
            Err(DeployError::Api { error, .. })
                if error.attempts() > 1
                    && error
                        .last_failure()
                        .and_then(|f| f.code())
                        .is_some_and(exists) =>
            {
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    pub(super) fn typed<T: serde::de::DeserializeOwned>(
        action: &'static str,
        answer: ApiAnswer,
    ) -> Result<T, DeployError> {
        answer.into_typed().map_err(|failure| DeployError::Api {
            action,
            error: Box::new(CallError::GaveUp(GaveUp {
                attempts: 1,
                ending: Ending::Rejected(failure),
            })),
        })
    }
}
