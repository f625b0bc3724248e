//! The function itself: `GetFunction`, then created from the zip or its code and then its
//! configuration updated, each change waited out until the function is `Active` again, and
//! its asynchronous retries set. A change refused on a retry while the first attempt's
//! change is applied is sent again once the function is `Active`.

use std::time::Instant;

use super::{usage, Deploy, DeployError, ASYNC_MSG_TTL_S, ASYNC_RETRIES};
use crate::cloudapi::call::{ApiCall, BuildError};
use crate::cloudapi::client::CallError;
use crate::cloudapi::scf::{self, FunctionSettings, FunctionState};
use crate::retry::{Ending, GaveUp};
use crate::text::one_line;

impl Deploy<'_> {
    /// The function step; with `--plan` the changes it would make are added to `changes`.
    /// Returns whether the function is new (absent before this deploy).
    pub(super) async fn function(
        &self,
        step: &mut dyn FnMut(&str),
        changes: &mut Vec<String>,
    ) -> Result<bool, DeployError> {
        let plan = self.p.opts.plan;
        let f = &self.p.function;
        let existing = self.function_state().await?;
        let created = existing.is_none();
        match &existing {
            None => step(&format!("GetFunction: {} does not exist", self.name())),
            Some(s) => step(&format!(
                "GetFunction: {} exists ({})",
                self.name(),
                s.status
            )),
        }
        let settings = self.settings();
        if plan {
            changes.push(match existing {
                None => format!(
                    "create function {} from {} ({} bytes), {} MB, {} s, {} variables",
                    self.name(),
                    self.p.opts.zip.display(),
                    self.p.zip_bytes,
                    settings.memory_mb,
                    settings.timeout_s,
                    settings.environment.len()
                ),
                Some(_) => format!(
                    "update the code of {} from {} ({} bytes), then its configuration ({} MB, {} s, {} variables)",
                    self.name(),
                    self.p.opts.zip.display(),
                    self.p.zip_bytes,
                    settings.memory_mb,
                    settings.timeout_s,
                    settings.environment.len()
                ),
            });
            changes.push(format!(
                "set asynchronous retries to {ASYNC_RETRIES}, kept {ASYNC_MSG_TTL_S} s"
            ));
        } else if created {
            self.create(
                &self.scf,
                scf::create_function(f, &settings, &self.p.zip_base64),
                |code| code.starts_with("ResourceInUse.Function"),
            )
            .await?;
            step(&format!(
                "CreateFunction: {} ({} bytes of zip)",
                self.name(),
                self.p.zip_bytes
            ));
            self.wait_active(step).await?;
        } else {
            if !existing
                .as_ref()
                .is_some_and(|s| s.is_active() || s.is_failed())
            {
                self.wait_active(step).await?;
            }
            self.update(scf::update_function_code(f, &self.p.zip_base64), step)
                .await?;
            step(&format!(
                "UpdateFunctionCode: {} ({} bytes of zip)",
                self.name(),
                self.p.zip_bytes
            ));
            self.wait_active(step).await?;
            self.update(scf::update_function_configuration(f, &settings), step)
                .await?;
            step(&format!(
                "UpdateFunctionConfiguration: {} MB, {} s, {} variables{}",
                settings.memory_mb,
                settings.timeout_s,
                settings.environment.len(),
                settings
                    .role
                    .as_deref()
                    .map(|r| format!(", role {r}"))
                    .unwrap_or_default()
            ));
            self.wait_active(step).await?;
        }
        if !plan {
            self.send(
                &self.scf,
                scf::update_event_invoke_config(f, ASYNC_RETRIES, ASYNC_MSG_TTL_S),
            )
            .await?;
            step(&format!(
                "UpdateFunctionEventInvokeConfig: {ASYNC_RETRIES} retries within {ASYNC_MSG_TTL_S} s"
            ));
        }
        Ok(created)
    }

    /// `GetFunction`: `None` when absent.
    async fn function_state(&self) -> Result<Option<FunctionState>, DeployError> {
        match self
            .send(&self.scf, scf::get_function(&self.p.function))
            .await
        {
            Ok(a) => Self::typed("GetFunction", a).map(Some),
            Err(DeployError::Api { error, .. })
                if error.last_failure().is_some_and(scf::is_function_absent)
                    && matches!(
                        *error,
                        CallError::GaveUp(GaveUp {
                            ending: Ending::Rejected(_),
                            ..
                        })
                    ) =>
            {
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    /// Polls `GetFunction` until `Active`; a `*Failed` state or the time limit is an error.
    async fn wait_active(&self, step: &mut dyn FnMut(&str)) -> Result<(), DeployError> {
        let waiting = self.p.opts.waiting;
        let start = Instant::now();
        loop {
            let state = self.function_state().await?.ok_or_else(|| {
                DeployError::Function(format!("function {} disappeared", self.name()))
            })?;
            if state.is_active() {
                step(&format!(
                    "wait: {} is Active after {:.1} s",
                    self.name(),
                    start.elapsed().as_secs_f64()
                ));
                return Ok(());
            }
            if state.is_failed() {
                return Err(DeployError::Function(format!(
                    "function {} is {}: {}",
                    self.name(),
                    state.status,
                    one_line(&state.reasons())
                )));
            }
            if start.elapsed() + waiting.interval > waiting.limit {
                return Err(DeployError::Function(format!(
                    "function {} still {} after {:.1} s; run deploy again later",
                    self.name(),
                    state.status,
                    start.elapsed().as_secs_f64()
                )));
            }
            tokio::time::sleep(waiting.interval).await;
        }
    }

    /// [`Self::send`] of a change to the function, which then becomes `Updating`. A retry
    /// after a lost answer is refused while the first attempt's change is applied; then the
    /// function is waited for and the same change, harmless to repeat, sent again (a few
    /// times at most: each resend may lose its answer too).
    fn settings(&self) -> FunctionSettings {
        FunctionSettings {
            memory_mb: self.p.opts.memory_mb,
            timeout_s: self.p.opts.timeout_s,
            environment: self.p.environment.clone(),
            role: self.role_name(),
            description: "Archives MPS task callbacks into COS (mps-cos-backup)".into(),
        }
    }

    async fn update(
        &self,
        call: Result<ApiCall, BuildError>,
        step: &mut dyn FnMut(&str),
    ) -> Result<(), DeployError> {
        const RESENDS: u32 = 4;
        let call = call.map_err(|e| usage(e.to_string()))?;
        let mut resends = 0;
        loop {
            match self.send(&self.scf, Ok(call.clone())).await {
                Ok(_) => return Ok(()),
                Err(DeployError::Api { error, .. })
                    if resends < RESENDS
                        && error.attempts() > 1
                        && error
                            .last_failure()
                            .and_then(|f| f.code())
                            .is_some_and(is_busy) =>
                {
                    resends += 1;
                    step(&format!(
                        "{}: refused on a retry while the function changes; waiting to send it again",
                        call.action
                    ));
                    self.wait_active(step).await?;
                }
                Err(e) => return Err(e),
            }
        }
    }
}

/// Whether an API code refuses a change because the function is being changed
/// (`FailedOperation.*` / `ResourceInUse.*` while `Creating` or `Updating`).
fn is_busy(code: &str) -> bool {
    code.starts_with("FailedOperation.UpdateFunction") || code.starts_with("ResourceInUse.Function")
}
