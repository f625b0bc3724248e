//! `mps-cos-backup deploy`: from the zip to a running function through the Cloud API
//! (SPEC "Deploy", `reference/scf-deploy.md`).
//!
//! Everything that can be checked locally is checked first ([`prepare()`]: the zip, the
//! function's environment by runtime mode's own rules, the flags); only then are the steps
//! run, each one idempotent so that running the command again converges: the role, the
//! function (created, or its code and then its configuration updated, waiting for `Active`
//! between changes), its asynchronous retries, its triggers. `--plan` makes the read calls
//! only and reports what would change.
//!
//! The parts: `prepare` (the local checks), `calls` (one Cloud API call, and the creations
//! and changes made safe to retry), `role`, `function` (created or updated, waited for
//! until `Active`), `triggers`, `summary` (what the command prints at the end); `package`
//! checks the zip and `policy` derives the role's policy from the configuration.

mod calls;
mod function;
pub(crate) mod package;
pub(crate) mod policy;
mod prepare;
mod role;
mod summary;
mod triggers;

use std::path::PathBuf;
use std::time::Duration;

use serde_json::Value;

use crate::cloudapi::client::{CallError, CloudApiClient, CloudApiConfig};
use crate::cloudapi::scf::FunctionRef;
use crate::config::{ConfigError, RuntimeConfig};
use crate::credentials::Credentials;
use crate::retry::RetryPolicy;
use crate::transport::{HttpClient, Uri};
use package::PackageError;
pub(crate) use prepare::prepare;

/// The timer trigger that runs reconcile.
pub(crate) const TIMER_NAME: &str = "reconcile-hourly";
/// Every hour on the hour (SCF's 7-field cron, seconds first).
pub(crate) const TIMER_CRON: &str = "0 0 * * * * *";
/// Name of the Function URL trigger when one is created.
pub(crate) const URL_NAME: &str = "function-url";
/// The code every trigger fires: what a deploy uploads.
const QUALIFIER: &str = "$LATEST";
/// Asynchronous retries of a failed invocation, and how long SCF keeps trying (6 hours).
const ASYNC_RETRIES: u32 = 2;
const ASYNC_MSG_TTL_S: u32 = 21_600;

/// How the function waits for `Active`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Waiting {
    /// Between two `GetFunction`.
    pub(crate) interval: Duration,
    /// Longest wait for one change.
    pub(crate) limit: Duration,
}

impl Default for Waiting {
    fn default() -> Self {
        Waiting {
            interval: Duration::from_secs(1),
            limit: Duration::from_secs(300),
        }
    }
}

/// Which execution role the function gets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RoleChoice {
    /// None given: a new function gets none, an existing one keeps its own.
    Keep,
    /// An existing role by name.
    Named(String),
    /// Created (if absent) with the policy derived from the configuration.
    Create,
}

/// The command's options (SPEC "Deploy").
#[derive(Debug, Clone)]
pub(crate) struct Options {
    /// The deploy package.
    pub(crate) zip: PathBuf,
    /// Function name.
    pub(crate) function: String,
    /// Namespace.
    pub(crate) namespace: String,
    /// Region, when given (else `TENCENTCLOUD_REGION`).
    pub(crate) region: Option<String>,
    /// Execution role.
    pub(crate) role: RoleChoice,
    /// Memory, MB.
    pub(crate) memory_mb: u32,
    /// Time limit, seconds.
    pub(crate) timeout_s: u32,
    /// Create the Function URL.
    pub(crate) url: bool,
    /// Run the hourly reconcile timer.
    pub(crate) reconcile: bool,
    /// Read only; report what would change.
    pub(crate) plan: bool,
    /// The wait for `Active`.
    pub(crate) waiting: Waiting,
}

/// Why a deploy stopped. `Display` is one line without any secret (the caller masks the
/// environment's secrets once more, as they may come back in an API message).
#[derive(Debug, thiserror::Error)]
pub(crate) enum DeployError {
    /// A flag or variable is wrong (exit 2).
    #[error("{0}")]
    Usage(String),
    /// The function's environment would not start (exit 2).
    #[error("{0} (in the environment the function is deployed with)")]
    Config(#[from] ConfigError),
    /// The zip is not a package SCF can start (exit 2).
    #[error("{path}: {error}")]
    Package {
        /// The zip's path.
        path: String,
        /// What is wrong with it.
        error: PackageError,
    },
    /// A Cloud API call failed (exit 1).
    #[error("{action} failed: {error}")]
    Api {
        /// The action.
        action: &'static str,
        /// Why (boxed: it is much larger than the other variants).
        error: Box<CallError>,
    },
    /// The function did not become `Active` (exit 1).
    #[error("{0}")]
    Function(String),
}

impl DeployError {
    /// The exit code: 2 for what was refused before any call, 1 for what failed in the cloud.
    pub(crate) fn exit_code(&self) -> u8 {
        match self {
            DeployError::Usage(_) | DeployError::Config(_) | DeployError::Package { .. } => 2,
            DeployError::Api { .. } | DeployError::Function(_) => 1,
        }
    }
}

/// A [`DeployError::Usage`].
fn usage(s: impl Into<String>) -> DeployError {
    DeployError::Usage(s.into())
}

/// Everything checked before the first call.
pub(crate) struct Prepared {
    opts: Options,
    region: String,
    function: FunctionRef,
    config: RuntimeConfig,
    environment: Vec<(String, String)>,
    zip_base64: String,
    zip_bytes: usize,
    credentials: Credentials,
    scf_endpoint: Uri,
    cam_endpoint: Uri,
    /// Values never to print: the environment's secrets.
    secrets: Vec<String>,
}

/// Runs the steps; each step prints one line through `step`. Returns the summary.
pub(crate) async fn run(
    p: &Prepared,
    http: HttpClient,
    step: &mut dyn FnMut(&str),
) -> Result<Value, DeployError> {
    let policy = RetryPolicy {
        max_attempt_time: Duration::from_secs(120),
        ..RetryPolicy::default()
    };
    let client = |endpoint: &Uri| {
        CloudApiClient::with_policy(
            http.clone(),
            CloudApiConfig {
                endpoint: endpoint.clone(),
                region: p.region.clone(),
                credentials: p.credentials.clone(),
            },
            policy.clone(),
        )
        .masking(p.secrets.clone())
    };
    let d = Deploy {
        scf: client(&p.scf_endpoint),
        cam: client(&p.cam_endpoint),
        p,
    };
    d.run(step).await
}

struct Deploy<'a> {
    scf: CloudApiClient,
    cam: CloudApiClient,
    p: &'a Prepared,
}

impl Deploy<'_> {
    async fn run(&self, step: &mut dyn FnMut(&str)) -> Result<Value, DeployError> {
        let mut changes: Vec<String> = Vec::new();
        self.role(step, &mut changes).await?;
        let created = self.function(step, &mut changes).await?;
        let triggers = self.triggers(created, step, &mut changes).await?;
        Ok(self.summary(created, triggers, changes))
    }

    pub(super) fn name(&self) -> String {
        format!("{}/{}", self.p.function.namespace, self.p.function.name)
    }

    pub(super) fn role_name(&self) -> Option<String> {
        match &self.p.opts.role {
            RoleChoice::Keep => None,
            RoleChoice::Named(r) => Some(r.clone()),
            RoleChoice::Create => Some(format!("{}-role", self.p.function.name)),
        }
    }
}
