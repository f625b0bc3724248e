//! `mps-cos-backup deploy`: from the zip to a running function through the Cloud API
//! (SPEC "Deploy", `reference/scf-deploy.md`).
//!
//! Everything that can be checked locally is checked first ([`prepare`]: the zip, the
//! function's environment by runtime mode's own rules, the flags); only then are the steps
//! run, each one idempotent so that running the command again converges: the role, the
//! function (created, or its code and then its configuration updated, waiting for `Active`
//! between changes), its asynchronous retries, its triggers. `--plan` makes the read calls
//! only and reports what would change.

pub(crate) mod package;
pub(crate) mod policy;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{json, Value};

use crate::cloudapi::call::{ApiAnswer, ApiCall, BuildError};
use crate::cloudapi::cam;
use crate::cloudapi::client::{CallError, CloudApiClient, CloudApiConfig};
use crate::cloudapi::invoke::Function;
use crate::cloudapi::scf::{
    self, FunctionRef, FunctionSettings, FunctionState, TriggerInfo, TriggerSpec,
};
use crate::config::{
    cloud_api_endpoint, credentials_from_env, ConfigError, Platform, RuntimeConfig,
};
use crate::credentials::Credentials;
use crate::retry::{Ending, GaveUp, RetryPolicy};
use crate::text::one_line;
use crate::transport::{HttpClient, Uri};
use package::PackageError;
use policy::PolicyInputs;

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
/// Time one call may take, retries included: an upload of 50 MB on a slow line.
const CALL_TIME: Duration = Duration::from_secs(300);

/// How the function waits for `Active`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Waiting {
    /// Between two `GetFunction`.
    pub interval: Duration,
    /// Longest wait for one change.
    pub limit: Duration,
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
    pub zip: PathBuf,
    /// Function name.
    pub function: String,
    /// Namespace.
    pub namespace: String,
    /// Region, when given (else `TENCENTCLOUD_REGION`).
    pub region: Option<String>,
    /// Execution role.
    pub role: RoleChoice,
    /// Memory, MB.
    pub memory_mb: u32,
    /// Time limit, seconds.
    pub timeout_s: u32,
    /// Create the Function URL.
    pub url: bool,
    /// Run the hourly reconcile timer.
    pub reconcile: bool,
    /// Read only; report what would change.
    pub plan: bool,
    /// The wait for `Active`.
    pub waiting: Waiting,
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

fn usage(s: impl Into<String>) -> DeployError {
    DeployError::Usage(s.into())
}

/// Checks the flags, the zip and the function's environment (variables of the configuration
/// table read through `get`) and reads the credentials: nothing is sent.
pub(crate) fn prepare<F>(opts: Options, get: F) -> Result<Prepared, DeployError>
where
    F: Fn(&str) -> Option<String>,
{
    let set = |v: &str| get(v).filter(|s| !s.is_empty());
    let region = opts
        .region
        .clone()
        .or_else(|| set("TENCENTCLOUD_REGION"))
        .ok_or_else(|| usage("--region is required (or set TENCENTCLOUD_REGION)"))?;
    crate::cos::check_region(&region).map_err(|e| usage(format!("--region: {e}")))?;
    let checked = Function::new(opts.namespace.clone(), opts.function.clone(), QUALIFIER)
        .map_err(|e| usage(e.to_string()))?;
    let function = FunctionRef {
        namespace: checked.namespace().to_string(),
        name: checked.name().to_string(),
    };
    if !(opts.memory_mb == 64
        || (128..=3072).contains(&opts.memory_mb) && opts.memory_mb % 128 == 0)
    {
        return Err(usage(format!(
            "--memory {}: SCF offers 64, or 128 to 3072 in steps of 128",
            opts.memory_mb
        )));
    }
    if !(1..=900).contains(&opts.timeout_s) {
        return Err(usage(format!(
            "--timeout {}: must be 1 to 900 seconds",
            opts.timeout_s
        )));
    }
    if let RoleChoice::Named(r) = &opts.role {
        check_role_name(r)?;
    }
    let zip_path = opts.zip.display().to_string();
    let zip = std::fs::read(&opts.zip)
        .map_err(|e| usage(format!("{zip_path}: {e}; build it with scripts/package.sh")))?;
    package::check(&zip).map_err(|error| DeployError::Package {
        path: zip_path,
        error,
    })?;
    // The function's environment: the configuration table's variables the shell sets.
    let environment: Vec<(String, String)> = crate::config::FUNCTION_VARIABLES
        .iter()
        .filter_map(|v| set(v).map(|value| (v.to_string(), value)))
        .collect();
    let only_environment = |var: &str| {
        environment
            .iter()
            .find(|(k, _)| k == var)
            .map(|(_, v)| v.clone())
    };
    let platform = Platform {
        region: &region,
        namespace: &function.namespace,
        function: &function.name,
    };
    let config = RuntimeConfig::for_deploy(only_environment, &platform)?;
    if opts.url
        && config.callback.token.is_none()
        && config.callback.notify_key.is_none()
        && !config.callback.allow_unsigned
    {
        return Err(usage(
            "--url: set CALLBACK_TOKEN or CALLBACK_NOTIFY_KEY (or CALLBACK_ALLOW_UNSIGNED=on): \
             otherwise the function refuses every HTTP callback",
        ));
    }
    let credentials = credentials_from_env(&get)?.ok_or_else(|| {
        usage("TENCENTCLOUD_SECRETID and TENCENTCLOUD_SECRETKEY are required (the deploying account's keys)")
    })?;
    let endpoint = |var: &'static str, default: &str| match set(var) {
        None => default.parse::<Uri>().map_err(|e| usage(e.to_string())),
        Some(raw) => cloud_api_endpoint(var, &raw).map_err(DeployError::from),
    };
    let scf_endpoint = endpoint("DEPLOY_SCF_ENDPOINT", "https://scf.tencentcloudapi.com")?;
    let cam_endpoint = endpoint("DEPLOY_CAM_ENDPOINT", "https://cam.tencentcloudapi.com")?;
    let secrets = [
        "FORWARD_NOTIFY_KEY",
        "CALLBACK_TOKEN",
        "CALLBACK_NOTIFY_KEY",
    ]
    .iter()
    .filter_map(|v| only_environment(v))
    .collect();
    Ok(Prepared {
        region,
        function,
        config,
        environment,
        zip_base64: base64::engine::general_purpose::STANDARD.encode(&zip),
        zip_bytes: zip.len(),
        credentials,
        scf_endpoint,
        cam_endpoint,
        secrets,
        opts,
    })
}

/// CAM role names: 1 to 128 of letters, digits and `+=,.@_-`.
fn check_role_name(name: &str) -> Result<(), DeployError> {
    let ok = (1..=128).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+=,.@_-".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(usage(format!(
            "--role {:?}: a role name is 1 to 128 letters, digits and +=,.@_-",
            one_line(name)
        )))
    }
}

/// What one trigger step did.
#[derive(Debug, Clone, PartialEq, Eq)]
struct TriggerOutcome {
    name: String,
    kind: String,
    action: &'static str,
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
    async fn send(
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
    async fn create(
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

    /// [`Self::send`] of a change to the function, which then becomes `Updating`. A retry
    /// after a lost answer is refused while the first attempt's change is applied; then the
    /// function is waited for and the same change, harmless to repeat, sent again (a few
    /// times at most: each resend may lose its answer too).
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

    fn typed<T: serde::de::DeserializeOwned>(
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

    fn name(&self) -> String {
        format!("{}/{}", self.p.function.namespace, self.p.function.name)
    }

    fn role_name(&self) -> Option<String> {
        match &self.p.opts.role {
            RoleChoice::Keep => None,
            RoleChoice::Named(r) => Some(r.clone()),
            RoleChoice::Create => Some(format!("{}-role", self.p.function.name)),
        }
    }

    fn settings(&self) -> FunctionSettings {
        FunctionSettings {
            memory_mb: self.p.opts.memory_mb,
            timeout_s: self.p.opts.timeout_s,
            environment: self.p.environment.clone(),
            role: self.role_name(),
            description: "Archives MPS task callbacks into COS (mps-cos-backup)".into(),
        }
    }

    async fn list_triggers(&self) -> Result<Vec<TriggerInfo>, DeployError> {
        let mut all = Vec::new();
        loop {
            let offset = u32::try_from(all.len()).unwrap_or(u32::MAX);
            let a = self
                .send(&self.scf, scf::list_triggers(&self.p.function, offset))
                .await?;
            let page: scf::TriggerPage = Self::typed("ListTriggers", a)?;
            let got = page.triggers.len();
            all.extend(page.triggers);
            if got == 0 || all.len() >= page.total_count as usize {
                return Ok(all);
            }
        }
    }

    /// The id of the policy named `policy_name` among those `list` pages through, if any.
    async fn find_policy(
        &self,
        action: &'static str,
        list: impl Fn(u32) -> Result<ApiCall, BuildError>,
        policy_name: &str,
    ) -> Result<Option<u64>, DeployError> {
        let mut seen = 0usize;
        for page in 1.. {
            let a = self.send(&self.cam, list(page)).await?;
            let got: cam::PolicyPage = Self::typed(action, a)?;
            if let Some(p) = got.list.iter().find(|p| p.policy_name == policy_name) {
                return Ok(Some(p.policy_id));
            }
            seen += got.list.len();
            if got.list.is_empty() || seen >= got.total_num as usize {
                break;
            }
        }
        Ok(None)
    }

    /// With `--create-role`: the role `<function>-role` trusting SCF, and its policy
    /// `<role>-policy` holding the document derived from the configuration, attached. Each
    /// part is checked and only what is missing or different is changed, so a run that
    /// stopped half-way, or a configuration that changed, converges on the next run.
    async fn role(
        &self,
        step: &mut dyn FnMut(&str),
        changes: &mut Vec<String>,
    ) -> Result<(), DeployError> {
        if self.p.opts.role != RoleChoice::Create {
            return Ok(());
        }
        let Some(name) = self.role_name() else {
            return Ok(());
        };
        let plan = self.p.opts.plan;
        let exists = match self.send(&self.cam, cam::get_role(&name)).await {
            Ok(_) => true,
            Err(DeployError::Api { error, .. })
                if error.last_failure().is_some_and(cam::is_role_absent) =>
            {
                false
            }
            Err(e) => return Err(e),
        };
        step(&format!(
            "GetRole: role {name} {}",
            if exists { "exists" } else { "does not exist" }
        ));
        let uin = if policy::needs_uin(&self.p.config) {
            let a = self.send(&self.cam, cam::get_user_app_id()).await?;
            let account: cam::Account = Self::typed("GetUserAppId", a)?;
            Some(account.owner_uin)
        } else {
            None
        };
        let doc = policy::document(
            &self.p.config,
            &PolicyInputs {
                reconcile: self.p.opts.reconcile,
                owner_uin: uin.as_deref(),
            },
        );
        let policy_name = format!("{name}-policy");
        if !exists {
            if plan {
                changes.push(format!(
                    "create role {name} trusting scf.qcloud.com, with policy {policy_name}: {doc}"
                ));
                return Ok(());
            }
            self.create(
                &self.cam,
                cam::create_role(
                    &name,
                    &cam::scf_trust_policy(),
                    "Execution role of the mps-cos-backup function",
                ),
                |code| code.contains("RoleNameInUse"),
            )
            .await?;
            step(&format!("CreateRole: {name}, trusting scf.qcloud.com"));
            changes.push(format!("created role {name}"));
        }
        let attached = if exists {
            let role = name.clone();
            self.find_policy(
                "ListAttachedRolePolicies",
                move |page| cam::list_attached_role_policies(&role, page),
                &policy_name,
            )
            .await?
        } else {
            None
        };
        if let Some(id) = attached {
            let a = self.send(&self.cam, cam::get_policy(id)).await?;
            let current: cam::Policy = Self::typed("GetPolicy", a)?;
            let same =
                serde_json::from_str::<Value>(&current.policy_document).is_ok_and(|v| v == doc);
            if same {
                step(&format!("GetPolicy: {policy_name} on {name} is up to date"));
            } else if plan {
                changes.push(format!("update policy {policy_name} to {doc}"));
            } else {
                self.send(&self.cam, cam::update_policy(id, &doc.to_string()))
                    .await?;
                step(&format!("UpdatePolicy: {policy_name} (id {id}): {doc}"));
            }
            return Ok(());
        }
        if plan {
            changes.push(format!(
                "create policy {policy_name} and attach it to role {name}: {doc}"
            ));
            return Ok(());
        }
        let created = self
            .send(
                &self.cam,
                cam::create_policy(
                    &policy_name,
                    &doc.to_string(),
                    "What mps-cos-backup needs, derived from its configuration",
                ),
            )
            .await;
        let id = match created {
            Ok(a) => {
                let created: cam::CreatedPolicy = Self::typed("CreatePolicy", a)?;
                step(&format!(
                    "CreatePolicy: {policy_name} (id {}): {doc}",
                    created.policy_id
                ));
                created.policy_id
            }
            // Left by an earlier run that stopped before attaching it: bring it up to date.
            Err(DeployError::Api { error, .. })
                if error.last_failure().is_some_and(cam::is_policy_name_taken) =>
            {
                let keyword = policy_name.clone();
                let id = self
                    .find_policy(
                        "ListPolicies",
                        move |page| cam::list_policies(&keyword, page),
                        &policy_name,
                    )
                    .await?
                    .ok_or_else(|| {
                        DeployError::Function(format!(
                            "CreatePolicy says {policy_name} exists, but ListPolicies does not show it"
                        ))
                    })?;
                self.send(&self.cam, cam::update_policy(id, &doc.to_string()))
                    .await?;
                step(&format!(
                    "UpdatePolicy: {policy_name} (id {id}), found unattached: {doc}"
                ));
                id
            }
            Err(e) => return Err(e),
        };
        self.send(&self.cam, cam::attach_role_policy(id, &name))
            .await?;
        step(&format!("AttachRolePolicy: {policy_name} to {name}"));
        Ok(())
    }

    async fn run(&self, step: &mut dyn FnMut(&str)) -> Result<Value, DeployError> {
        let plan = self.p.opts.plan;
        let mut changes: Vec<String> = Vec::new();
        self.role(step, &mut changes).await?;
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
        let listed = if created {
            Vec::new()
        } else {
            self.list_triggers().await?
        };
        if !created {
            step(&format!("ListTriggers: {} trigger(s)", listed.len()));
        }
        let mut outcomes = Vec::new();
        for (want, existing) in self.desired_triggers(&listed) {
            let outcome = self
                .converge_trigger(want, existing, &mut changes, step)
                .await?;
            outcomes.extend(outcome);
        }
        let mut url = listed
            .iter()
            .find(|t| t.kind == "http" && t.qualifier == QUALIFIER)
            .and_then(|t| function_url(&t.trigger_desc));
        let mut mps_bound = listed.iter().any(|t| t.kind == "mps");
        if !plan
            && outcomes
                .iter()
                .any(|o| o.kind == "http" && o.action != "unchanged")
        {
            let after = self.list_triggers().await?;
            url = after
                .iter()
                .find(|t| t.kind == "http" && t.qualifier == QUALIFIER)
                .and_then(|t| function_url(&t.trigger_desc));
            mps_bound |= after.iter().any(|t| t.kind == "mps");
            step(&format!(
                "ListTriggers: Function URL {}",
                url.as_deref().unwrap_or("not shown yet")
            ));
        }
        Ok(self.summary(created, outcomes, url, mps_bound, changes))
    }

    /// The triggers this deploy wants, each with the listed trigger it replaces.
    fn desired_triggers<'l>(
        &self,
        listed: &'l [TriggerInfo],
    ) -> Vec<(TriggerSpec, Option<&'l TriggerInfo>)> {
        let mut out = Vec::new();
        let timer = listed
            .iter()
            .find(|t| t.kind == "timer" && t.trigger_name == TIMER_NAME);
        if self.p.opts.reconcile || timer.is_some_and(|t| t.enable == 1) {
            let enable = if self.p.opts.reconcile {
                "OPEN"
            } else {
                "CLOSE"
            };
            out.push((
                TriggerSpec {
                    trigger_name: TIMER_NAME.into(),
                    kind: "timer".into(),
                    trigger_desc: TIMER_CRON.into(),
                    qualifier: QUALIFIER.into(),
                    enable: enable.into(),
                },
                timer,
            ));
        }
        if self.p.opts.url {
            // One Function URL per version or alias, whatever its name.
            let existing = listed
                .iter()
                .find(|t| t.kind == "http" && t.qualifier == QUALIFIER);
            out.push((
                TriggerSpec {
                    trigger_name: existing
                        .map(|t| t.trigger_name.clone())
                        .unwrap_or_else(|| URL_NAME.into()),
                    kind: "http".into(),
                    trigger_desc: json!({
                        "AuthType": "NONE",
                        "NetConfig": {"EnableIntranet": false, "EnableExtranet": true}
                    })
                    .to_string(),
                    qualifier: QUALIFIER.into(),
                    enable: "OPEN".into(),
                },
                existing,
            ));
        }
        out
    }

    async fn converge_trigger(
        &self,
        want: TriggerSpec,
        existing: Option<&TriggerInfo>,
        changes: &mut Vec<String>,
        step: &mut dyn FnMut(&str),
    ) -> Result<Option<TriggerOutcome>, DeployError> {
        let what = format!("{} trigger {}", want.kind, want.trigger_name);
        let outcome = |action| {
            Some(TriggerOutcome {
                name: want.trigger_name.clone(),
                kind: want.kind.clone(),
                action,
            })
        };
        let Some(existing) = existing else {
            if self.p.opts.plan {
                changes.push(format!("create the {what} ({})", want.trigger_desc));
                return Ok(outcome("would create"));
            }
            self.create(
                &self.scf,
                scf::create_trigger(&self.p.function, &want),
                |code| code.starts_with("ResourceInUse.Trigger"),
            )
            .await?;
            step(&format!("CreateTrigger: {what} ({})", want.trigger_desc));
            return Ok(outcome("created"));
        };
        if trigger_matches(&want, existing) {
            step(&format!("{what}: unchanged"));
            return Ok(outcome("unchanged"));
        }
        let action = if want.enable == "CLOSE" {
            "disabled"
        } else {
            "updated"
        };
        if self.p.opts.plan {
            changes.push(format!(
                "update the {what} ({}, {})",
                want.trigger_desc, want.enable
            ));
            return Ok(outcome(if action == "disabled" {
                "would disable"
            } else {
                "would update"
            }));
        }
        self.send(&self.scf, scf::update_trigger(&self.p.function, &want))
            .await?;
        step(&format!(
            "UpdateTrigger: {what} ({}, {})",
            want.trigger_desc, want.enable
        ));
        Ok(outcome(action))
    }

    fn summary(
        &self,
        created: bool,
        triggers: Vec<TriggerOutcome>,
        url: Option<String>,
        mps_bound: bool,
        changes: Vec<String>,
    ) -> Value {
        let p = self.p;
        let mut manual = Vec::new();
        if created && self.role_name().is_none() {
            manual.push(
                "give the function an execution role (deploy again with --role NAME or \
                 --create-role): without one it has no credentials for COS"
                    .to_string(),
            );
        }
        if !mps_bound {
            manual.push(format!(
                "bind the MPS trigger in the SCF console (there is no public API for it): \
                 function {} in {} > Triggers > Create trigger > MPS, once for WorkflowTask \
                 and once for EditMediaTask",
                self.name(),
                p.region
            ));
        }
        if p.opts.url {
            let base = url
                .clone()
                .unwrap_or_else(|| "<the Function URL shown in the SCF console>".into());
            let mut line = if p.config.callback.token.is_some() {
                format!(
                    "set the NotifyUrl of the MPS tasks (TaskNotifyConfig, NotifyType URL) to \
                     {base}/?token=<the value of CALLBACK_TOKEN>"
                )
            } else {
                format!(
                    "set the NotifyUrl of the MPS tasks (TaskNotifyConfig, NotifyType URL) to {base}/"
                )
            };
            if p.config.callback.notify_key.is_some() {
                line.push_str(", with NotifyKey = the value of CALLBACK_NOTIFY_KEY");
            }
            manual.push(line);
        }
        let triggers: Vec<Value> = triggers
            .iter()
            .map(|t| json!({"name": t.name, "type": t.kind, "action": t.action}))
            .collect();
        let mut out = json!({
            "function": p.function.name,
            "namespace": p.function.namespace,
            "region": p.region,
            "triggers": triggers,
            "manual": manual,
        });
        let key = match (p.opts.plan, created) {
            (false, true) => "created",
            (false, false) => "updated",
            (true, true) => "would_create",
            (true, false) => "would_update",
        };
        out[key] = Value::Bool(true);
        if let Some(role) = self.role_name() {
            out["role"] = Value::String(role);
        }
        if let Some(url) = url {
            out["url"] = Value::String(url);
        }
        if p.opts.plan {
            out["plan"] = Value::Bool(true);
            out["changes"] = json!(changes);
        }
        out
    }
}

impl Prepared {
    /// `text` with every secret of the environment and the credentials masked.
    pub(crate) fn mask(&self, text: &str) -> String {
        self.credentials
            .scrub_also(text, self.secrets.iter().map(String::as_str))
    }
}

/// Whether an API code refuses a change because the function is being changed
/// (`FailedOperation.*` / `ResourceInUse.*` while `Creating` or `Updating`).
fn is_busy(code: &str) -> bool {
    code.starts_with("FailedOperation.UpdateFunction") || code.starts_with("ResourceInUse.Function")
}

/// Whether a listed trigger already is what `want` asks for.
fn trigger_matches(want: &TriggerSpec, have: &TriggerInfo) -> bool {
    let enabled = have.enable == 1;
    if enabled != (want.enable == "OPEN") || have.qualifier != want.qualifier {
        return false;
    }
    match want.kind.as_str() {
        "timer" => {
            // Listed back as {"cron":"..."}.
            let cron = serde_json::from_str::<Value>(&have.trigger_desc)
                .ok()
                .and_then(|v| v.get("cron").and_then(Value::as_str).map(str::to_owned))
                .unwrap_or_else(|| have.trigger_desc.clone());
            cron.trim() == want.trigger_desc
        }
        _ => {
            let (Ok(w), Ok(h)) = (
                serde_json::from_str::<Value>(&want.trigger_desc),
                serde_json::from_str::<Value>(&have.trigger_desc),
            ) else {
                return false;
            };
            w["AuthType"] == h["AuthType"] && w["NetConfig"] == h["NetConfig"]
        }
    }
}

/// The Function URL's address in a listed `http` trigger's description: the first
/// `https://` string in it at any depth (the field holding it is not documented).
fn function_url(desc: &str) -> Option<String> {
    fn find(v: &Value) -> Option<String> {
        match v {
            Value::String(s) if s.starts_with("https://") => {
                Some(s.trim_end_matches('/').to_string())
            }
            Value::Array(a) => a.iter().find_map(find),
            Value::Object(o) => o.values().find_map(find),
            _ => None,
        }
    }
    find(&serde_json::from_str(desc).ok()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;

    /// Every variable runtime mode reads is deployed (or deliberately not), so a variable
    /// added to the configuration cannot be silently left out of deployed functions.
    #[test]
    fn every_variable_runtime_mode_reads_is_deployed() {
        let asked = RefCell::new(Vec::new());
        let platform = Platform {
            region: "ap-guangzhou",
            namespace: "default",
            function: "f",
        };
        let get = |var: &str| {
            asked.borrow_mut().push(var.to_string());
            match var {
                "COS_BUCKET" => Some("archive-1250000000".to_string()),
                "ARCHIVE_FORWARD" => Some("scf:other,https://hooks.example.com/x".to_string()),
                _ => None,
            }
        };
        RuntimeConfig::for_deploy(get, &platform).unwrap();
        let asked = asked.into_inner();
        assert!(asked.len() > 10, "{asked:?}");
        for var in asked {
            assert!(
                crate::config::FUNCTION_VARIABLES.contains(&var.as_str()) || var == "RUST_LOG",
                "{var} is read by runtime mode but not deployed"
            );
        }
    }

    fn listed(kind: &str, desc: &str, enable: i64) -> TriggerInfo {
        TriggerInfo {
            kind: kind.into(),
            trigger_name: "t".into(),
            trigger_desc: desc.into(),
            enable,
            qualifier: QUALIFIER.into(),
        }
    }

    #[test]
    fn listed_triggers_are_compared_by_their_meaning() {
        let timer = TriggerSpec {
            trigger_name: TIMER_NAME.into(),
            kind: "timer".into(),
            trigger_desc: TIMER_CRON.into(),
            qualifier: QUALIFIER.into(),
            enable: "OPEN".into(),
        };
        assert!(trigger_matches(
            &timer,
            &listed("timer", r#"{"cron":"0 0 * * * * *"}"#, 1)
        ));
        assert!(!trigger_matches(
            &timer,
            &listed("timer", r#"{"cron":"0 0 * * * * *"}"#, 0)
        ));
        assert!(!trigger_matches(
            &timer,
            &listed("timer", r#"{"cron":"0 */5 * * * * *"}"#, 1)
        ));
        let url = TriggerSpec {
            kind: "http".into(),
            trigger_desc:
                r#"{"AuthType":"NONE","NetConfig":{"EnableIntranet":false,"EnableExtranet":true}}"#
                    .into(),
            ..timer
        };
        let have = r#"{"AuthType":"NONE","NetConfig":{"EnableExtranet":true,"EnableIntranet":false},"UrlConfig":{"Extranet":"https://1250000000-x.ap-guangzhou.tencentscf.com/"}}"#;
        assert!(trigger_matches(&url, &listed("http", have, 1)));
        assert_eq!(
            function_url(have).as_deref(),
            Some("https://1250000000-x.ap-guangzhou.tencentscf.com")
        );
        assert!(!trigger_matches(
            &url,
            &listed(
                "http",
                r#"{"AuthType":"CAM","NetConfig":{"EnableIntranet":false,"EnableExtranet":true}}"#,
                1
            )
        ));
    }
}
