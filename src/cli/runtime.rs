//! Runtime mode (no arguments): how SCF starts the function, through ./bootstrap. The
//! configuration is read once, then the runtime loop hands each event to the function
//! until the runtime API goes away.

use std::process::ExitCode;
use std::sync::Arc;

use super::error::{CliError, EXIT_FAILED};
use super::function::HandlerFunction;
use super::start::{handler, reconcile_handler, start, tokio_runtime};
use super::timer;
use crate::config::RuntimeConfig;
use crate::cos::CosClient;
use crate::runtime::{self, RuntimeError};
use crate::transport::HttpClient;

pub(super) fn runtime_mode() -> Result<ExitCode, CliError> {
    let cfg = start(false, RuntimeConfig::from_env)?;
    let rt = tokio_runtime()?;
    rt.block_on(async move {
        let http = HttpClient::new();
        let cos = CosClient::new(http.clone(), cfg.cos.bucket, cfg.cos.credentials);
        let timer = timer::Timer::new(
            &http,
            &cfg.reconcile,
            reconcile_handler(
                &http,
                cos.clone(),
                &cfg.archive,
                &cfg.forward,
                &cfg.reconcile,
            )?,
            crate::archive::CosSource::new(cos.clone()),
        );
        let handler = handler(&http, cos, cfg.archive, cfg.forward)?;
        let function = Arc::new(HandlerFunction::new(handler, cfg.callback, timer));
        match runtime::run(&cfg.runtime_api, http, function, runtime::shutdown_signal()).await {
            Ok(()) => Ok(ExitCode::SUCCESS),
            // The loop logged why in one line already.
            Err(RuntimeError::Stopped(_)) => Ok(ExitCode::from(EXIT_FAILED)),
            Err(e) => Err(CliError::Log {
                code: EXIT_FAILED,
                what: "runtime loop stopped",
                error: e.to_string(),
            }),
        }
    })
}
