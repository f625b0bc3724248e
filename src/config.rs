//! Environment -> validated, typed configuration, read once at start.
//!
//! Each command reads what it needs: [`RuntimeConfig`] (runtime mode: COS and the runtime
//! API required) or [`Config`] (the other commands: COS only when `COS_BUCKET` is set).
//! Every value is parsed into its type here, once; a bad one is a [`ConfigError`] naming
//! the variable and never echoing a secret (README: Configuration).

use chrono::{FixedOffset, Offset, Utc};

use crate::cloudapi::client::{CloudApiClient, CloudApiConfig};
use crate::cloudapi::invoke::Function;
use crate::cos::{self, Bucket, BucketError, Endpoint, StorageClass};
use crate::credentials::Credentials;
use crate::forward::target::{parse_targets, Target};
use crate::forward::webhook::NotifyKey;
use crate::forward::ForwarderConfig;
use crate::handler::ArchiveConfig;
use crate::http::auth::{CallbackAuth, CallbackToken};
use crate::key::{check_prefix, KeyTemplate, DEFAULT_TEMPLATE};
use crate::logging::LogConfig;
#[cfg(test)]
use crate::logging::LogFormat;
use crate::transport::{Uri, UrlError, UrlShape};

/// Where and how objects are written in COS.
#[derive(Debug, Clone)]
pub struct CosConfig {
    /// The bucket: name, region, endpoint, storage class.
    pub bucket: Bucket,
    /// Role credentials.
    pub credentials: Credentials,
}

/// Where every callback is also delivered (`ARCHIVE_FORWARD`), and how.
pub type ForwardConfig = ForwarderConfig;

/// What every command reads: COS when `COS_BUCKET` is set, the key layout and filters, logging.
#[derive(Debug, Clone)]
pub struct Config {
    /// COS target; `None` without `COS_BUCKET` (commands then use a local directory).
    pub cos: Option<CosConfig>,
    /// Key layout, redaction, filters.
    pub archive: ArchiveConfig,
    /// Forward targets (empty when `ARCHIVE_FORWARD` is unset).
    pub forward: ForwardConfig,
    /// How HTTP callbacks authenticate (`CALLBACK_*`).
    pub callback: CallbackAuth,
    /// Logging.
    pub log: LogConfig,
}

/// Runtime mode's configuration: COS and the runtime API are required.
#[derive(Debug, Clone)]
pub struct RuntimeConfig {
    /// `http://$SCF_RUNTIME_API:$SCF_RUNTIME_API_PORT`.
    pub runtime_api: Uri,
    /// COS target.
    pub cos: CosConfig,
    /// Key layout, redaction, filters.
    pub archive: ArchiveConfig,
    /// Forward targets (empty when `ARCHIVE_FORWARD` is unset).
    pub forward: ForwardConfig,
    /// How HTTP callbacks authenticate (`CALLBACK_*`).
    pub callback: CallbackAuth,
    /// Logging.
    pub log: LogConfig,
    /// What the timer trigger reconciles, and against which MPS endpoint.
    pub reconcile: ReconcileConfig,
}

/// How reconcile asks MPS and what it checks (`MPS_*`, `RECONCILE_*`).
#[derive(Debug, Clone)]
pub struct ReconcileConfig {
    /// `MPS_ENDPOINT`, `MPS_REGION` and the credentials; `None` when no region or no
    /// credentials are set (runtime mode starts all the same; a timer event then fails
    /// naming [`ReconcileConfig::mps_missing`]).
    pub mps: Option<CloudApiConfig>,
    /// Why [`ReconcileConfig::mps`] is `None`.
    pub mps_missing: Option<ConfigError>,
    /// `RECONCILE_WINDOW`.
    pub window: std::time::Duration,
    /// `RECONCILE_GRACE`.
    pub grace: std::time::Duration,
    /// `RECONCILE_FORWARD`.
    pub forward: bool,
}

impl ReconcileConfig {
    /// Reads `MPS_*` and `RECONCILE_*` through `get`. A malformed value is an error; a missing
    /// region or missing credentials leave [`ReconcileConfig::mps`] unset.
    pub fn from_env<F>(get: F) -> Result<ReconcileConfig, ConfigError>
    where
        F: Fn(&str) -> Option<String>,
    {
        reconcile_config(&get)
    }

    /// The MPS endpoint, or the configuration error that says what is missing.
    pub fn require_mps(&self) -> Result<&CloudApiConfig, ConfigError> {
        match (&self.mps, &self.mps_missing) {
            (Some(m), _) => Ok(m),
            (None, Some(e)) => Err(e.clone()),
            (None, None) => Err(err("MPS_REGION", "is required")),
        }
    }
}

/// The longest reconcile window: MPS keeps its task list for 7 days.
pub const MAX_RECONCILE_WINDOW: std::time::Duration = std::time::Duration::from_secs(7 * 24 * 3600);

/// The variables of the configuration table a function reads from its environment, as a
/// deploy copies them from the deploying shell: never the credentials (`TENCENTCLOUD_*`,
/// from the role) nor what SCF sets itself (`SCF_*`). `RUST_LOG`, which runtime mode honours
/// too, is left out: it is a developer's shell setting, not the function's.
pub const FUNCTION_VARIABLES: &[&str] = &[
    "COS_BUCKET",
    "COS_REGION",
    "COS_ENDPOINT",
    "COS_KEY_PREFIX",
    "COS_KEY_TEMPLATE",
    "COS_STORAGE_CLASS",
    "ARCHIVE_UTC_OFFSET",
    "ARCHIVE_EVENT_TYPES",
    "ARCHIVE_REDACT",
    "ARCHIVE_FORWARD",
    "FORWARD_NOTIFY_KEY",
    "FORWARD_SCF_ENDPOINT",
    "FORWARD_SCF_REGION",
    "CALLBACK_NOTIFY_KEY",
    "CALLBACK_TOKEN",
    "CALLBACK_ALLOW_UNSIGNED",
    "MPS_ENDPOINT",
    "MPS_REGION",
    "RECONCILE_WINDOW",
    "RECONCILE_GRACE",
    "RECONCILE_FORWARD",
    "LOG_FORMAT",
    "LOG_LEVEL",
];

/// A configuration problem: names the variable and what is wrong, one line.
#[derive(Debug, Clone, thiserror::Error)]
#[error("invalid configuration: {var}: {reason}")]
pub struct ConfigError {
    /// Variable name.
    pub var: &'static str,
    /// What is wrong (never contains a secret value).
    pub reason: String,
}

/// The documented default of `COS_KEY_PREFIX`.
pub const DEFAULT_KEY_PREFIX: &str = "mps-events/";

impl Config {
    /// Reads and validates the configuration through `get` (normally `std::env::var`).
    pub fn from_env<F>(get: F) -> Result<Config, ConfigError>
    where
        F: Fn(&str) -> Option<String>,
    {
        let log = log_config(&get)?;
        let cos = match get_set(&get, "COS_BUCKET") {
            None => None,
            Some(bucket) => Some(cos_config(&get, &bucket)?),
        };
        let archive = archive_config(&get)?;
        let forward = forward_config(&get)?;
        let callback = callback_config(&get)?;
        Ok(Config {
            cos,
            archive,
            forward,
            callback,
            log,
        })
    }
}

impl RuntimeConfig {
    /// Reads and validates runtime mode's configuration through `get`.
    pub fn from_env<F>(get: F) -> Result<RuntimeConfig, ConfigError>
    where
        F: Fn(&str) -> Option<String>,
    {
        let runtime_api = runtime_api(&get)?;
        if get_set(&get, "COS_BUCKET").is_none() {
            return Err(err(
                "COS_BUCKET",
                "is required (`<name>-<appid>`, e.g. `archive-1250000000`)",
            ));
        }
        let reconcile = reconcile_config(&get)?;
        let Config {
            cos,
            archive,
            forward,
            callback,
            log,
        } = Config::from_env(get)?;
        let cos = cos.ok_or_else(|| err("COS_BUCKET", "is required"))?;
        Ok(RuntimeConfig {
            runtime_api,
            cos,
            archive,
            forward,
            callback,
            log,
            reconcile,
        })
    }
}

/// Where SCF will run a function: what the platform adds to the environment it is deployed
/// with (its region, name and namespace, the runtime API and the role's credentials).
#[derive(Debug, Clone, Copy)]
pub struct Platform<'a> {
    /// Region (`TENCENTCLOUD_REGION` in the function).
    pub region: &'a str,
    /// Namespace (`SCF_NAMESPACE`).
    pub namespace: &'a str,
    /// Function name (`SCF_FUNCTIONNAME`).
    pub function: &'a str,
}

impl RuntimeConfig {
    /// Validates the environment a function is about to be deployed with (`get` sees only
    /// those variables) by runtime mode's own rules, as the function will see it on
    /// `platform`: what SCF sets there (runtime API, role credentials, region, name) is
    /// supplied with placeholders and the real region, name and namespace, so nothing the
    /// deployer cannot set is required, and a forward to the function itself is refused.
    pub fn for_deploy<F>(get: F, platform: &Platform<'_>) -> Result<RuntimeConfig, ConfigError>
    where
        F: Fn(&str) -> Option<String>,
    {
        RuntimeConfig::from_env(|var: &str| match var {
            "SCF_RUNTIME_API" => Some("127.0.0.1".into()),
            "SCF_RUNTIME_API_PORT" => Some("9001".into()),
            "TENCENTCLOUD_SECRETID" => Some("AKIDplaceholder-of-the-role".into()),
            "TENCENTCLOUD_SECRETKEY" | "TENCENTCLOUD_SESSIONTOKEN" => {
                Some("placeholder-of-the-role".into())
            }
            "TENCENTCLOUD_REGION" => Some(platform.region.into()),
            "SCF_FUNCTIONNAME" => Some(platform.function.into()),
            "SCF_NAMESPACE" => Some(platform.namespace.into()),
            _ if var.starts_with("TENCENTCLOUD_") || var.starts_with("SCF_") => None,
            _ => get(var),
        })
    }
}

/// Logging settings for use before validation: anything unusable silently falls back to the
/// default (validation reports it afterwards, through the logger this sets up).
pub fn log_config_lenient<F>(get: F) -> LogConfig
where
    F: Fn(&str) -> Option<String>,
{
    let (format, rust_log, log_level) = log_vars(&get);
    LogConfig::parse_lenient(format.as_deref(), rust_log.as_deref(), log_level.as_deref())
}

fn log_vars<F>(get: &F) -> (Option<String>, Option<String>, Option<String>)
where
    F: Fn(&str) -> Option<String>,
{
    (
        get_set(get, "LOG_FORMAT"),
        get_set(get, "RUST_LOG"),
        get_set(get, "LOG_LEVEL"),
    )
}

fn log_config<F>(get: &F) -> Result<LogConfig, ConfigError>
where
    F: Fn(&str) -> Option<String>,
{
    let (format, rust_log, log_level) = log_vars(get);
    LogConfig::parse(format.as_deref(), rust_log.as_deref(), log_level.as_deref()).map_err(|e| {
        ConfigError {
            var: e.var,
            reason: e.reason,
        }
    })
}

fn archive_config<F>(get: &F) -> Result<ArchiveConfig, ConfigError>
where
    F: Fn(&str) -> Option<String>,
{
    let key_prefix = match get_set(get, "COS_KEY_PREFIX") {
        None => DEFAULT_KEY_PREFIX.to_string(),
        Some(p) => {
            check_prefix(&p).map_err(|e| ConfigError {
                var: "COS_KEY_PREFIX",
                reason: format!("{p:?} {e}"),
            })?;
            p
        }
    };
    let template = get_set(get, "COS_KEY_TEMPLATE");
    let key_template = KeyTemplate::parse(template.as_deref().unwrap_or(DEFAULT_TEMPLATE))
        .and_then(|t| t.check_with_prefix(&key_prefix).map(|()| t))
        .map_err(|e| ConfigError {
            var: "COS_KEY_TEMPLATE",
            reason: format!("{e} (with COS_KEY_PREFIX {key_prefix:?})"),
        })?;
    let utc_offset = match get_set(get, "ARCHIVE_UTC_OFFSET") {
        None => Utc.fix(),
        Some(v) => parse_offset(&v).ok_or_else(|| ConfigError {
            var: "ARCHIVE_UTC_OFFSET",
            reason: format!(
                "{v:?} is not an offset like `+08:00`, `-05:30`, `Z` or `UTC` within ±14:00"
            ),
        })?,
    };
    let event_types = get_set(get, "ARCHIVE_EVENT_TYPES").and_then(|v| {
        let list: Vec<String> = v
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect();
        (!list.is_empty()).then_some(list)
    });
    let redact = match get_set(get, "ARCHIVE_REDACT") {
        None => true,
        Some(v) => parse_bool(&v).ok_or_else(|| ConfigError {
            var: "ARCHIVE_REDACT",
            reason: format!("{v:?} is not one of on/off, true/false, 1/0, yes/no"),
        })?,
    };
    Ok(ArchiveConfig {
        key_prefix,
        key_template,
        utc_offset,
        event_types,
        redact,
    })
}

/// Shortest `CALLBACK_TOKEN` accepted: it is the one secret that covers the body.
const MIN_TOKEN_LEN: usize = 16;

/// `CALLBACK_TOKEN`, `CALLBACK_NOTIFY_KEY` and `CALLBACK_ALLOW_UNSIGNED`. The token travels
/// in the `NotifyUrl`'s query, so it is limited to characters a URL carries unescaped, and it
/// must be long enough to be a secret.
fn callback_config<F>(get: &F) -> Result<CallbackAuth, ConfigError>
where
    F: Fn(&str) -> Option<String>,
{
    let token = match get_set(get, "CALLBACK_TOKEN") {
        None => None,
        Some(t) => {
            let unreserved = t
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'));
            if !unreserved || t.len() < MIN_TOKEN_LEN {
                return Err(err(
                    "CALLBACK_TOKEN",
                    &format!(
                        "must be at least {MIN_TOKEN_LEN} letters, digits, '-', '.', '_' or '~' \
                         (value not shown); e.g. the output of `openssl rand -hex 24`"
                    ),
                ));
            }
            CallbackToken::new(t)
        }
    };
    let notify_key = get_set(get, "CALLBACK_NOTIFY_KEY").and_then(NotifyKey::new);
    let allow_unsigned = match get_set(get, "CALLBACK_ALLOW_UNSIGNED") {
        None => false,
        Some(v) => parse_bool(&v).ok_or_else(|| ConfigError {
            var: "CALLBACK_ALLOW_UNSIGNED",
            reason: format!("{v:?} is not one of on/off, true/false, 1/0, yes/no"),
        })?,
    };
    Ok(CallbackAuth {
        token,
        notify_key,
        allow_unsigned,
    })
}

fn err(var: &'static str, reason: &str) -> ConfigError {
    ConfigError {
        var,
        reason: reason.to_string(),
    }
}

/// A variable's value, with the empty string counting as unset.
fn get_set<F>(get: &F, var: &str) -> Option<String>
where
    F: Fn(&str) -> Option<String>,
{
    get(var).filter(|v| !v.is_empty())
}

fn runtime_api<F>(get: &F) -> Result<Uri, ConfigError>
where
    F: Fn(&str) -> Option<String>,
{
    let host = get_set(get, "SCF_RUNTIME_API").ok_or_else(|| {
        err(
            "SCF_RUNTIME_API",
            "is required in runtime mode (set by SCF)",
        )
    })?;
    let port = get_set(get, "SCF_RUNTIME_API_PORT").ok_or_else(|| {
        err(
            "SCF_RUNTIME_API_PORT",
            "is required in runtime mode (set by SCF)",
        )
    })?;
    let port: u16 = port
        .parse()
        .ok()
        .filter(|p| *p != 0)
        .ok_or_else(|| ConfigError {
            var: "SCF_RUNTIME_API_PORT",
            reason: format!("{port:?} is not a TCP port (1-65535)"),
        })?;
    let bad_host = || ConfigError {
        var: "SCF_RUNTIME_API",
        reason: format!("{host:?} is not a host name or IP address"),
    };
    if host
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || "/?#@".contains(c))
    {
        return Err(bad_host());
    }
    // A bare IPv6 literal needs brackets inside a URL.
    let host_part = if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]")
    } else {
        host.clone()
    };
    let base = format!("http://{host_part}:{port}");
    match base.parse::<Uri>() {
        Ok(u) if u.host().is_some_and(|h| !h.is_empty()) && u.path() == "/" => Ok(u),
        _ => Err(bad_host()),
    }
}

fn cos_config<F>(get: &F, name: &str) -> Result<CosConfig, ConfigError>
where
    F: Fn(&str) -> Option<String>,
{
    let blame = |var: &'static str| {
        move |e: BucketError| ConfigError {
            var,
            reason: e.to_string(),
        }
    };
    if let Err(e @ BucketError::Name(_)) = Bucket::new(name, "ap-guangzhou") {
        return Err(blame("COS_BUCKET")(e));
    }
    let (region_var, region) = region(get, "COS_REGION")?.ok_or_else(|| {
        err(
            "COS_REGION",
            "is required when COS is used (and TENCENTCLOUD_REGION is not set either)",
        )
    })?;
    let mut bucket = Bucket::new(name, &region).map_err(blame(region_var))?;
    if let Some(e) = get_set(get, "COS_ENDPOINT") {
        bucket = bucket.with_endpoint(Endpoint::parse(&e).map_err(blame("COS_ENDPOINT"))?);
    }
    if let Some(c) = get_set(get, "COS_STORAGE_CLASS") {
        let class = StorageClass::parse(&c).map_err(blame("COS_STORAGE_CLASS"))?;
        bucket = bucket.with_storage_class(Some(class));
    }
    let credentials = credentials(get)?
        .ok_or_else(|| err("TENCENTCLOUD_SECRETID", "is required when COS is used"))?;
    Ok(CosConfig {
        bucket,
        credentials,
    })
}

/// `var`, else `TENCENTCLOUD_REGION`: which variable gave it, and the value, checked.
fn region<F>(get: &F, var: &'static str) -> Result<Option<(&'static str, String)>, ConfigError>
where
    F: Fn(&str) -> Option<String>,
{
    let Some((var, region)) = get_set(get, var)
        .map(|r| (var, r))
        .or_else(|| get_set(get, "TENCENTCLOUD_REGION").map(|r| ("TENCENTCLOUD_REGION", r)))
    else {
        return Ok(None);
    };
    cos::check_region(&region).map_err(|e| ConfigError {
        var,
        reason: e.to_string(),
    })?;
    Ok(Some((var, region)))
}

/// The role's credentials; `None` when no secret id is set. A secret id without its key is
/// an error.
fn credentials<F>(get: &F) -> Result<Option<Credentials>, ConfigError>
where
    F: Fn(&str) -> Option<String>,
{
    let Some(secret_id) = secret(get, "TENCENTCLOUD_SECRETID")? else {
        return Ok(None);
    };
    let secret_key = secret(get, "TENCENTCLOUD_SECRETKEY")?.ok_or_else(|| {
        err(
            "TENCENTCLOUD_SECRETKEY",
            "is required with TENCENTCLOUD_SECRETID",
        )
    })?;
    let session_token = secret(get, "TENCENTCLOUD_SESSIONTOKEN")?;
    Ok(Some(Credentials::new(secret_id, secret_key, session_token)))
}

/// `ARCHIVE_FORWARD` and what its targets need: the notify key for URLs, the Cloud API
/// endpoint, region and credentials for `scf:` targets.
fn forward_config<F>(get: &F) -> Result<ForwardConfig, ConfigError>
where
    F: Fn(&str) -> Option<String>,
{
    let targets = match get_set(get, "ARCHIVE_FORWARD") {
        None => Vec::new(),
        Some(v) => parse_targets(&v).map_err(|e| ConfigError {
            var: "ARCHIVE_FORWARD",
            reason: e.to_string(),
        })?,
    };
    let notify_key = get_set(get, "FORWARD_NOTIFY_KEY").and_then(NotifyKey::new);
    let scf = if targets.iter().any(|t| matches!(t, Target::Scf(_))) {
        let endpoint = match get_set(get, "FORWARD_SCF_ENDPOINT") {
            None => Uri::from_static(CloudApiClient::DEFAULT_ENDPOINT),
            Some(e) => api_endpoint(&e)?,
        };
        let (_, region) = region(get, "FORWARD_SCF_REGION")?.ok_or_else(|| {
            err(
                "FORWARD_SCF_REGION",
                "is required for scf: targets (and TENCENTCLOUD_REGION is not set either)",
            )
        })?;
        refuse_self_target(get, &targets, &region)?;
        let credentials = credentials(get)?
            .ok_or_else(|| err("TENCENTCLOUD_SECRETID", "is required for scf: targets"))?;
        Some(CloudApiConfig {
            endpoint,
            region,
            credentials,
        })
    } else {
        None
    };
    Ok(ForwarderConfig {
        targets,
        scf,
        notify_key,
        policy: Default::default(),
    })
}

/// Refuses an `scf:` target that is the running function itself: every callback it forwards
/// would invoke it again, which forwards again, without end and on the account's bill.
///
/// The running function is `SCF_FUNCTIONNAME` in `SCF_NAMESPACE` (`default` when unset), in
/// the region SCF runs it (`TENCENTCLOUD_REGION`). The qualifier does not matter: every
/// version and alias of the function runs this same forwarding. Outside SCF (no
/// `SCF_FUNCTIONNAME`, as for `invoke` on a workstation) there is no self to call. When the
/// function's own region is unknown the target is taken to be in it: refusing a doubtful
/// target costs a configuration change, accepting a real loop costs money on every event.
fn refuse_self_target<F>(
    get: &F,
    targets: &[Target],
    target_region: &str,
) -> Result<(), ConfigError>
where
    F: Fn(&str) -> Option<String>,
{
    let Some(own_name) = get_set(get, "SCF_FUNCTIONNAME") else {
        return Ok(());
    };
    let own_namespace =
        get_set(get, "SCF_NAMESPACE").unwrap_or_else(|| Function::DEFAULT_NAMESPACE.to_string());
    let same_region = get_set(get, "TENCENTCLOUD_REGION")
        .is_none_or(|own_region| own_region.trim() == target_region);
    let itself = targets.iter().find_map(|t| match t {
        Target::Scf(f)
            if same_region
                && f.name() == own_name.trim()
                && f.namespace() == own_namespace.trim() =>
        {
            Some(f)
        }
        _ => None,
    });
    match itself {
        None => Ok(()),
        Some(f) => Err(err(
            "ARCHIVE_FORWARD",
            &format!(
                "target {f} is this function itself (SCF_FUNCTIONNAME {own_name:?} in namespace \
                 {own_namespace:?}, region {target_region}): every callback would invoke it \
                 again without end; forward to another function"
            ),
        )),
    }
}

/// `FORWARD_SCF_ENDPOINT`: an `http(s)://host[:port]` base URL, nothing more.
fn api_endpoint(raw: &str) -> Result<Uri, ConfigError> {
    cloud_api_endpoint("FORWARD_SCF_ENDPOINT", raw)
}

/// The role's credentials from `TENCENTCLOUD_SECRETID`, `_SECRETKEY` and `_SESSIONTOKEN`;
/// `None` when no secret id is set. Errors never show a value.
pub fn credentials_from_env<F>(get: F) -> Result<Option<Credentials>, ConfigError>
where
    F: Fn(&str) -> Option<String>,
{
    credentials(&get)
}

/// A Cloud API endpoint variable (`var`): an `http(s)://host[:port]` base URL, nothing more.
pub fn cloud_api_endpoint(var: &'static str, raw: &str) -> Result<Uri, ConfigError> {
    let service = match var {
        "DEPLOY_CAM_ENDPOINT" => "cam",
        "MPS_ENDPOINT" => "mps",
        _ => "scf",
    };
    let bad = |why: &str| ConfigError {
        var,
        reason: format!("{why}; expected a base URL like `https://{service}.tencentcloudapi.com`"),
    };
    crate::transport::parse_url(raw, UrlShape::Base).map_err(|e| match e {
        UrlError::NotBase | UrlError::Fragment => bad("must not have a path, query or fragment"),
        other => bad(&other.to_string()),
    })
}

/// `MPS_ENDPOINT`, `MPS_REGION` (else `TENCENTCLOUD_REGION`), the credentials,
/// `RECONCILE_WINDOW`, `RECONCILE_GRACE` and `RECONCILE_FORWARD`.
fn reconcile_config<F>(get: &F) -> Result<ReconcileConfig, ConfigError>
where
    F: Fn(&str) -> Option<String>,
{
    let endpoint = match get_set(get, "MPS_ENDPOINT") {
        None => Uri::from_static(crate::cloudapi::mps::DEFAULT_ENDPOINT),
        Some(e) => cloud_api_endpoint("MPS_ENDPOINT", &e)?,
    };
    let window = match get_set(get, "RECONCILE_WINDOW") {
        None => std::time::Duration::from_secs(24 * 3600),
        Some(v) => match parse_span(&v) {
            Some(d) if !d.is_zero() && d <= MAX_RECONCILE_WINDOW => d,
            Some(_) => {
                return Err(ConfigError {
                    var: "RECONCILE_WINDOW",
                    reason: format!("{v:?} is outside 1s..7d (MPS keeps its task list for 7 days)"),
                })
            }
            None => return Err(span_error("RECONCILE_WINDOW", &v)),
        },
    };
    let grace = match get_set(get, "RECONCILE_GRACE") {
        None => std::time::Duration::from_secs(600),
        Some(v) => match parse_span(&v) {
            Some(d) if d <= MAX_RECONCILE_WINDOW => d,
            Some(_) => {
                return Err(ConfigError {
                    var: "RECONCILE_GRACE",
                    reason: format!("{v:?} is longer than 7d"),
                })
            }
            None => return Err(span_error("RECONCILE_GRACE", &v)),
        },
    };
    let forward = match get_set(get, "RECONCILE_FORWARD") {
        None => false,
        Some(v) => parse_bool(&v).ok_or_else(|| ConfigError {
            var: "RECONCILE_FORWARD",
            reason: format!("{v:?} is not one of on/off, true/false, 1/0, yes/no"),
        })?,
    };
    let region = region(get, "MPS_REGION")?;
    let credentials = credentials(get)?;
    let (mps, mps_missing) = match (region, credentials) {
        (Some((_, region)), Some(credentials)) => (
            Some(CloudApiConfig {
                endpoint,
                region,
                credentials,
            }),
            None,
        ),
        (None, _) => (
            None,
            Some(err(
                "MPS_REGION",
                "is required to ask MPS for its tasks (and TENCENTCLOUD_REGION is not set either)",
            )),
        ),
        (_, None) => (
            None,
            Some(err(
                "TENCENTCLOUD_SECRETID",
                "is required to ask MPS for its tasks",
            )),
        ),
    };
    Ok(ReconcileConfig {
        mps,
        mps_missing,
        window,
        grace,
        forward,
    })
}

fn span_error(var: &'static str, v: &str) -> ConfigError {
    ConfigError {
        var,
        reason: format!("{v:?} is not a duration like `90m`, `24h` or `7d` (units s, m, h, d)"),
    }
}

/// A span like `90m`, `24h`, `7d` or `30s` (one whole number and one unit; `0` alone is
/// zero).
pub fn parse_span(v: &str) -> Option<std::time::Duration> {
    let v = v.trim();
    if v == "0" {
        return Some(std::time::Duration::ZERO);
    }
    let unit = v.chars().last()?;
    let secs = match unit {
        's' => 1,
        'm' => 60,
        'h' => 3600,
        'd' => 86_400,
        _ => return None,
    };
    let digits = &v[..v.len() - 1];
    if digits.is_empty() || digits.len() > 9 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: u64 = digits.parse().ok()?;
    Some(std::time::Duration::from_secs(n * secs))
}

/// A credential: must be sendable in an HTTP header. Errors never echo the value.
fn secret<F>(get: &F, var: &'static str) -> Result<Option<String>, ConfigError>
where
    F: Fn(&str) -> Option<String>,
{
    match get_set(get, var) {
        None => Ok(None),
        Some(v) if v.bytes().all(|b| b.is_ascii_graphic()) => Ok(Some(v)),
        Some(_) => Err(err(
            var,
            "contains spaces, control or non-ASCII characters (value not shown)",
        )),
    }
}

fn parse_offset(v: &str) -> Option<FixedOffset> {
    let v = v.trim();
    if v.eq_ignore_ascii_case("z") || v.eq_ignore_ascii_case("utc") {
        return Some(Utc.fix());
    }
    let bytes = v.as_bytes();
    if bytes.len() != 6 || bytes[3] != b':' {
        return None;
    }
    let sign = match bytes[0] {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let digits = |s: &str| -> Option<i32> {
        (s.len() == 2 && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse().ok())
            .flatten()
    };
    let hh = digits(&v[1..3])?;
    let mm = digits(&v[4..6])?;
    if mm >= 60 || hh * 60 + mm > 14 * 60 {
        return None;
    }
    FixedOffset::east_opt(sign * (hh * 3600 + mm * 60))
}

fn parse_bool(v: &str) -> Option<bool> {
    match v.trim().to_ascii_lowercase().as_str() {
        "on" | "true" | "1" | "yes" => Some(true),
        "off" | "false" | "0" | "no" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    const ID: &str = "AKIDsecretIdValue0001";
    const KEY: &str = "secretKeyValue0002";
    const TOKEN: &str = "sessionTokenValue0003";

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k: &str| map.get(k).cloned()
    }

    /// A complete runtime-mode environment, with overrides (`""` = explicitly empty = unset).
    fn runtime_env(over: &[(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        let mut pairs: Vec<(&str, &str)> = vec![
            ("COS_BUCKET", "archive-1250000000"),
            ("TENCENTCLOUD_REGION", "ap-guangzhou"),
            ("TENCENTCLOUD_SECRETID", ID),
            ("TENCENTCLOUD_SECRETKEY", KEY),
            ("TENCENTCLOUD_SESSIONTOKEN", TOKEN),
            ("SCF_RUNTIME_API", "9.0.0.1"),
            ("SCF_RUNTIME_API_PORT", "9001"),
        ];
        for (k, v) in over {
            pairs.retain(|(pk, _)| pk != k);
            pairs.push((k, v));
        }
        env(&pairs)
    }

    fn ok(over: &[(&'static str, &'static str)]) -> RuntimeConfig {
        match RuntimeConfig::from_env(runtime_env(over)) {
            Ok(c) => c,
            Err(e) => panic!("expected a valid configuration, got: {e}"),
        }
    }

    fn fails(over: &[(&'static str, &'static str)]) -> ConfigError {
        match RuntimeConfig::from_env(runtime_env(over)) {
            Ok(c) => panic!("expected an error, got {c:?}"),
            Err(e) => e,
        }
    }

    fn fails_on(var: &str, over: &[(&'static str, &'static str)]) -> String {
        let e = fails(over);
        assert_eq!(e.var, var, "wrong variable blamed: {e}");
        let line = e.to_string();
        assert!(!line.contains('\n'), "error must be one line: {line:?}");
        assert!(line.contains(var), "error must name the variable: {line}");
        line
    }

    #[test]
    fn runtime_defaults() {
        let c = ok(&[]);
        let cos = c.cos;
        assert_eq!(cos.bucket.name(), "archive-1250000000");
        assert_eq!(cos.bucket.region(), "ap-guangzhou");
        assert_eq!(
            cos.bucket.endpoint().to_string(),
            "https://archive-1250000000.cos.ap-guangzhou.myqcloud.com"
        );
        assert_eq!(cos.bucket.storage_class().map(|c| c.as_str()), None);
        assert_eq!(cos.credentials.secret_id(), ID);
        assert_eq!(cos.credentials.secret_key(), KEY);
        assert_eq!(cos.credentials.session_token(), Some(TOKEN));
        assert_eq!(c.archive.key_prefix, "mps-events/");
        assert_eq!(
            c.archive.key_template,
            KeyTemplate::parse(DEFAULT_TEMPLATE).expect("default template")
        );
        assert_eq!(c.archive.utc_offset.local_minus_utc(), 0);
        assert_eq!(c.archive.event_types, None);
        assert!(c.archive.redact);
        assert_eq!(c.log.format, LogFormat::Json);
        assert_eq!(c.log.filter, "info");
        assert_eq!(c.runtime_api.to_string(), "http://9.0.0.1:9001/");
    }

    #[test]
    fn empty_strings_count_as_unset() {
        let c = ok(&[
            ("COS_REGION", ""),
            ("COS_ENDPOINT", ""),
            ("COS_KEY_PREFIX", ""),
            ("COS_KEY_TEMPLATE", ""),
            ("COS_STORAGE_CLASS", ""),
            ("ARCHIVE_UTC_OFFSET", ""),
            ("ARCHIVE_EVENT_TYPES", ""),
            ("ARCHIVE_REDACT", ""),
            ("TENCENTCLOUD_SESSIONTOKEN", ""),
            ("LOG_FORMAT", ""),
            ("LOG_LEVEL", ""),
            ("RUST_LOG", ""),
        ]);
        let cos = c.cos;
        assert_eq!(cos.bucket.region(), "ap-guangzhou");
        assert_eq!(cos.credentials.session_token(), None);
        assert_eq!(c.archive.key_prefix, DEFAULT_KEY_PREFIX);
        assert_eq!(
            c.archive.key_template,
            KeyTemplate::parse(DEFAULT_TEMPLATE).expect("default template")
        );
        assert_eq!(c.archive.event_types, None);
        assert!(c.archive.redact);
        assert_eq!(c.log.filter, "info");
        fails_on("COS_BUCKET", &[("COS_BUCKET", "")]);
        fails_on("TENCENTCLOUD_SECRETID", &[("TENCENTCLOUD_SECRETID", "")]);
    }

    #[test]
    fn bucket_is_required_in_runtime_mode_and_validated() {
        let line = fails_on("COS_BUCKET", &[("COS_BUCKET", "")]);
        assert!(line.contains("required"), "{line}");
        for bad in [
            "archive",
            "Archive-1250000000",
            "archive-",
            "-1250000000",
            "archive-12a5",
            "arch_ive-1250000000",
            "archive--1250000000",
            "archive.x-1250000000",
            "a-very-long-bucket-name-that-goes-on-and-on-and-on-1250000000",
        ] {
            let line = fails_on("COS_BUCKET", &[("COS_BUCKET", bad)]);
            assert!(line.contains(bad), "a bad bucket is echoed to help: {line}");
        }
        for good in ["a-1", "my-archive-2-1250000000", "x9-1250000000"] {
            let bucket = ok(&[("COS_BUCKET", good)]).cos.bucket.name().to_string();
            assert_eq!(bucket, good);
        }
    }

    #[test]
    fn invoke_mode_without_bucket_needs_no_cos_settings() {
        let get = env(&[]);
        let c = Config::from_env(&get).expect("valid");
        assert!(c.cos.is_none());
        // With a bucket, invoke mode needs the same COS settings as runtime mode.
        let get = env(&[("COS_BUCKET", "archive-1250000000")]);
        let e = Config::from_env(&get).expect_err("region missing");
        assert_eq!(e.var, "COS_REGION");
        let get = env(&[
            ("COS_BUCKET", "archive-1250000000"),
            ("COS_REGION", "ap-shanghai"),
            ("TENCENTCLOUD_SECRETID", ID),
            ("TENCENTCLOUD_SECRETKEY", KEY),
        ]);
        let c = Config::from_env(&get).expect("valid");
        assert_eq!(
            c.cos.map(|c| c.bucket.region().to_string()).as_deref(),
            Some("ap-shanghai")
        );
    }

    #[test]
    fn region_defaults_to_tencentcloud_region_and_is_validated() {
        let c = ok(&[("COS_REGION", "na-siliconvalley")]);
        assert_eq!(c.cos.bucket.region(), "na-siliconvalley");
        let c = ok(&[
            ("COS_REGION", "ap-shanghai-fsi"),
            ("TENCENTCLOUD_REGION", ""),
        ]);
        let cos = c.cos;
        assert_eq!(cos.bucket.region(), "ap-shanghai-fsi");
        assert_eq!(
            cos.bucket.endpoint().to_string(),
            "https://archive-1250000000.cos.ap-shanghai-fsi.myqcloud.com"
        );
        fails_on("COS_REGION", &[("TENCENTCLOUD_REGION", "")]);
        for bad in [
            "guangzhou",
            "AP-guangzhou",
            "ap_guangzhou",
            "ap-",
            "-ap",
            "ap--x",
            "ap-gz/x",
            "ap guangzhou",
        ] {
            let line = fails_on("COS_REGION", &[("COS_REGION", bad)]);
            assert!(line.contains(bad), "{line}");
        }
        fails_on(
            "TENCENTCLOUD_REGION",
            &[("TENCENTCLOUD_REGION", "Guangzhou")],
        );
    }

    #[test]
    fn endpoint_is_validated_and_normalized() {
        let e = |v: &'static str| ok(&[("COS_ENDPOINT", v)]).cos.bucket.endpoint().to_string();
        assert_eq!(e("http://127.0.0.1:9000"), "http://127.0.0.1:9000");
        assert_eq!(e("http://127.0.0.1:9000/"), "http://127.0.0.1:9000");
        assert_eq!(
            e("https://archive-1250000000.cos.accelerate.myqcloud.com/"),
            "https://archive-1250000000.cos.accelerate.myqcloud.com"
        );
        assert_eq!(
            e("https://Backup.Example.com:443"),
            "https://backup.example.com"
        );
        for bad in [
            "archive.cos.ap-guangzhou.myqcloud.com",
            "ftp://example.com",
            "https://example.com/?x=1",
            "https://example.com/#frag",
            "https://example.com/sub/dir",
            "http://",
            "https://user:pw@example.com",
        ] {
            fails_on("COS_ENDPOINT", &[("COS_ENDPOINT", bad)]);
        }
        let line = fails_on(
            "COS_ENDPOINT",
            &[("COS_ENDPOINT", "https://AKID:hunter2@example.com")],
        );
        assert!(!line.contains("hunter2"), "{line}");
    }

    #[test]
    fn key_prefix_is_validated() {
        assert_eq!(ok(&[("COS_KEY_PREFIX", "a/b/")]).archive.key_prefix, "a/b/");
        assert_eq!(
            ok(&[("COS_KEY_PREFIX", "events-")]).archive.key_prefix,
            "events-"
        );
        for bad in [
            "/abs/", "a//b/", "a/../b/", "./a/", "a/./", "a\\b/", "a\tb/", "..", "a/..",
        ] {
            fails_on("COS_KEY_PREFIX", &[("COS_KEY_PREFIX", bad)]);
        }
        let long: &'static str = Box::leak("p".repeat(300).into_boxed_str());
        fails_on("COS_KEY_PREFIX", &[("COS_KEY_PREFIX", long)]);
    }

    #[test]
    fn key_template_is_checked_with_the_real_prefix() {
        let over = [
            ("COS_KEY_PREFIX", "a/"),
            ("COS_KEY_TEMPLATE", "x{prefix}/{digest}"),
        ];
        let e = RuntimeConfig::from_env(runtime_env(&over)).unwrap_err();
        assert_eq!(e.var, "COS_KEY_TEMPLATE");
        assert!(e.to_string().contains("empty path segment"), "{e}");
        let over = [
            ("COS_KEY_PREFIX", "a"),
            ("COS_KEY_TEMPLATE", "x{prefix}/{digest}"),
        ];
        let c = RuntimeConfig::from_env(runtime_env(&over)).unwrap();
        assert_eq!(c.archive.key_prefix, "a");
        let d = format!("{c:?}");
        assert!(
            !d.contains(KEY) && !d.contains(ID) && !d.contains(TOKEN),
            "{d}"
        );
    }

    #[test]
    fn key_template_must_contain_digest() {
        let line = fails_on(
            "COS_KEY_TEMPLATE",
            &[("COS_KEY_TEMPLATE", "{prefix}{event_type}/{task_id}.json")],
        );
        assert!(line.contains("{digest}"), "{line}");
        // Through the public entry point too: the check happens before the template is parsed.
        let e = RuntimeConfig::from_env(runtime_env(&[(
            "COS_KEY_TEMPLATE",
            "{prefix}{task_id}.json",
        )]))
        .expect_err("no digest");
        assert_eq!(e.var, "COS_KEY_TEMPLATE");
    }

    #[test]
    fn storage_class_is_case_insensitive_and_normalized() {
        for class in crate::cos::STORAGE_CLASSES {
            let lower: &'static str = Box::leak(class.to_ascii_lowercase().into_boxed_str());
            let got = ok(&[("COS_STORAGE_CLASS", lower)])
                .cos
                .bucket
                .storage_class()
                .map(|c| c.as_str());
            assert_eq!(got, Some(*class));
        }
        let line = fails_on("COS_STORAGE_CLASS", &[("COS_STORAGE_CLASS", "GLACIER")]);
        assert!(
            line.contains("GLACIER") && line.contains("STANDARD_IA"),
            "{line}"
        );
    }

    #[test]
    fn utc_offset_forms_and_range() {
        let off = |v: &'static str| {
            ok(&[("ARCHIVE_UTC_OFFSET", v)])
                .archive
                .utc_offset
                .local_minus_utc()
        };
        assert_eq!(off("+08:00"), 8 * 3600);
        assert_eq!(off("-05:30"), -(5 * 3600 + 30 * 60));
        assert_eq!(off("+14:00"), 14 * 3600);
        assert_eq!(off("-14:00"), -14 * 3600);
        assert_eq!(off("Z"), 0);
        assert_eq!(off("utc"), 0);
        assert_eq!(off("+00:00"), 0);
        for bad in [
            "+14:01", "+15:00", "08:00", "+8:00", "+08", "+0800", "+08:60", "+08:0x", "local",
        ] {
            let line = fails_on("ARCHIVE_UTC_OFFSET", &[("ARCHIVE_UTC_OFFSET", bad)]);
            assert!(line.contains(bad), "{line}");
        }
    }

    #[test]
    fn event_types_list() {
        let types = |v: &'static str| ok(&[("ARCHIVE_EVENT_TYPES", v)]).archive.event_types;
        assert_eq!(
            types(" WorkflowTask , ,EditMediaTask,"),
            Some(vec![
                "WorkflowTask".to_string(),
                "EditMediaTask".to_string()
            ])
        );
        assert_eq!(
            types("WorkflowTask"),
            Some(vec!["WorkflowTask".to_string()])
        );
        assert_eq!(types(" , ,"), None);
    }

    #[test]
    fn redact_switch() {
        for (v, want) in [
            ("on", true),
            ("ON", true),
            ("true", true),
            ("1", true),
            ("Yes", true),
            ("off", false),
            ("False", false),
            ("0", false),
            ("no", false),
        ] {
            assert_eq!(ok(&[("ARCHIVE_REDACT", v)]).archive.redact, want, "{v}");
        }
        fails_on("ARCHIVE_REDACT", &[("ARCHIVE_REDACT", "maybe")]);
    }

    #[test]
    fn credentials_required_and_never_echoed() {
        fails_on("TENCENTCLOUD_SECRETID", &[("TENCENTCLOUD_SECRETID", "")]);
        fails_on("TENCENTCLOUD_SECRETKEY", &[("TENCENTCLOUD_SECRETKEY", "")]);
        let c = ok(&[("TENCENTCLOUD_SESSIONTOKEN", "")]);
        assert_eq!(c.cos.credentials.session_token(), None);
        for (var, value) in [
            ("TENCENTCLOUD_SECRETID", "AKID with space"),
            ("TENCENTCLOUD_SECRETKEY", "key\nwith-newline"),
            ("TENCENTCLOUD_SESSIONTOKEN", "tok\u{e9}n"),
        ] {
            let line = fails_on(var, &[(var, value)]);
            assert!(!line.contains(value), "secret echoed: {line}");
            assert!(!line.contains("with"), "secret echoed: {line}");
        }
    }

    #[test]
    fn debug_output_never_shows_secrets() {
        let c = ok(&[]);
        let text = format!("{c:?} {:#?}", c.cos);
        for secret in [ID, KEY, TOKEN] {
            assert!(!text.contains(secret), "secret in Debug output: {text}");
        }
        assert!(text.contains("archive-1250000000"));
    }

    #[test]
    fn log_settings() {
        let c = ok(&[("LOG_FORMAT", "TEXT"), ("LOG_LEVEL", "debug")]);
        assert_eq!(c.log.format, LogFormat::Text);
        assert_eq!(c.log.filter, "debug");
        let c = ok(&[
            ("LOG_LEVEL", "debug"),
            ("RUST_LOG", "warn,mps_cos_backup=trace"),
        ]);
        assert_eq!(c.log.filter, "warn,mps_cos_backup=trace");
        assert_eq!(ok(&[("LOG_FORMAT", "json")]).log.format, LogFormat::Json);
        fails_on("LOG_FORMAT", &[("LOG_FORMAT", "xml")]);
        fails_on("LOG_LEVEL", &[("LOG_LEVEL", "loud=")]);
        fails_on("LOG_LEVEL", &[("LOG_LEVEL", "infoo")]);
        fails_on("LOG_LEVEL", &[("LOG_LEVEL", "[{")]);
        assert_eq!(
            ok(&[("LOG_LEVEL", "WARN,hyper=off")]).log.filter,
            "WARN,hyper=off"
        );
        // RUST_LOG keeps EnvFilter's own meaning (a bare target is allowed there).
        assert_eq!(
            ok(&[("RUST_LOG", "mps_cos_backup")]).log.filter,
            "mps_cos_backup"
        );
        fails_on("RUST_LOG", &[("RUST_LOG", "info,x=notalevel")]);
    }

    #[test]
    fn lenient_log_config_falls_back_silently() {
        let l = log_config_lenient(env(&[]));
        assert_eq!((l.format, l.filter.as_str()), (LogFormat::Json, "info"));
        let l = log_config_lenient(env(&[("LOG_FORMAT", "xml"), ("LOG_LEVEL", "loud=")]));
        assert_eq!((l.format, l.filter.as_str()), (LogFormat::Json, "info"));
        let l = log_config_lenient(env(&[
            ("LOG_FORMAT", "text"),
            ("RUST_LOG", "info,x=notalevel"),
            ("LOG_LEVEL", "warn"),
        ]));
        assert_eq!((l.format, l.filter.as_str()), (LogFormat::Text, "warn"));
    }

    #[test]
    fn forwarding_settings_are_validated_naming_the_variable() {
        let c = ok(&[]);
        assert!(c.forward.targets.is_empty() && c.forward.scf.is_none());
        let c = ok(&[(
            "ARCHIVE_FORWARD",
            "scf:media/on-done:prod, https://hooks.example.com/mps?token=t",
        )]);
        assert_eq!(c.forward.targets.len(), 2);
        let scf = c
            .forward
            .scf
            .expect("scf: targets get a Cloud API configuration");
        assert_eq!(scf.region, "ap-guangzhou");
        assert_eq!(scf.endpoint.to_string(), "https://scf.tencentcloudapi.com/");
        for bad in [
            "scf:",
            "ftp://x.example/",
            "https://a.example/,https://a.example/",
            "https://a.example/,,scf:fn",
            "https://h.example:99999/x",
        ] {
            let line = fails_on("ARCHIVE_FORWARD", &[("ARCHIVE_FORWARD", bad)]);
            assert!(!line.contains("token=t"), "{line}");
        }
        let scf_target = ("ARCHIVE_FORWARD", "scf:consumer");
        for bad in [
            "ftp://scf.example",
            "https://scf.example/path",
            "https://scf.example:99999",
        ] {
            fails_on(
                "FORWARD_SCF_ENDPOINT",
                &[scf_target, ("FORWARD_SCF_ENDPOINT", bad)],
            );
        }
        fails_on(
            "FORWARD_SCF_REGION",
            &[
                scf_target,
                ("TENCENTCLOUD_REGION", ""),
                ("COS_REGION", "ap-guangzhou"),
            ],
        );
        fails_on(
            "FORWARD_SCF_REGION",
            &[scf_target, ("FORWARD_SCF_REGION", "Guangzhou")],
        );
        // In SCF, a target that is the running function itself would invoke it for ever:
        // whatever its qualifier, in the function's namespace (`default` when unset).
        let own = [
            ("SCF_FUNCTIONNAME", "mps-archive"),
            ("TENCENTCLOUD_REGION", "ap-guangzhou"),
        ];
        for target in [
            "scf:mps-archive",
            "scf:default/mps-archive:$LATEST",
            "scf:mps-archive:prod",
            "https://a.example/,scf:mps-archive:7",
        ] {
            let line = fails_on(
                "ARCHIVE_FORWARD",
                &[own[0], own[1], ("ARCHIVE_FORWARD", target)],
            );
            assert!(line.contains("this function itself"), "{line}");
        }
        let in_ns = [own[0], own[1], ("SCF_NAMESPACE", "media")];
        fails_on(
            "ARCHIVE_FORWARD",
            &[
                in_ns[0],
                in_ns[1],
                in_ns[2],
                ("ARCHIVE_FORWARD", "scf:media/mps-archive"),
            ],
        );
        // Another namespace, another name or another region is another function.
        for (extra, target) in [
            (("SCF_NAMESPACE", "media"), "scf:mps-archive"),
            (("SCF_NAMESPACE", "default"), "scf:media/mps-archive"),
            (("SCF_NAMESPACE", "default"), "scf:mps-archive-consumer"),
            (("FORWARD_SCF_REGION", "ap-shanghai"), "scf:mps-archive"),
        ] {
            let c = ok(&[own[0], own[1], extra, ("ARCHIVE_FORWARD", target)]);
            assert_eq!(c.forward.targets.len(), 1);
        }
        // Outside SCF there is no function to call itself.
        ok(&[("ARCHIVE_FORWARD", "scf:mps-archive")]);

        // HTTP callbacks: a token must be a long, URL-safe secret; none of the three is shown.
        let c = ok(&[
            ("CALLBACK_TOKEN", "tok-0123456789abcdef"),
            ("CALLBACK_NOTIFY_KEY", "callbackKeyValue9"),
            ("CALLBACK_ALLOW_UNSIGNED", "on"),
        ]);
        assert!(c.callback.token.is_some() && c.callback.notify_key.is_some());
        assert!(c.callback.allow_unsigned);
        let shown = format!("{c:?}");
        assert!(!shown.contains("tok-0123456789abcdef") && !shown.contains("callbackKeyValue9"));
        assert!(!ok(&[]).callback.allow_unsigned);
        for bad in ["short", "has space 0123456789", "amp&0123456789abcdef"] {
            let line = fails_on("CALLBACK_TOKEN", &[("CALLBACK_TOKEN", bad)]);
            assert!(!line.contains(bad), "{line}");
        }
        fails_on(
            "CALLBACK_ALLOW_UNSIGNED",
            &[("CALLBACK_ALLOW_UNSIGNED", "sometimes")],
        );

        // The notify key is taken as it is and never shown.
        let c = ok(&[("FORWARD_NOTIFY_KEY", "notifyKeyValue42")]);
        assert!(c.forward.notify_key.is_some());
        assert!(!format!("{c:?}").contains("notifyKeyValue42"));
    }

    #[test]
    fn runtime_api_address() {
        fails_on("SCF_RUNTIME_API", &[("SCF_RUNTIME_API", "")]);
        fails_on("SCF_RUNTIME_API_PORT", &[("SCF_RUNTIME_API_PORT", "")]);
        for bad in ["0", "65536", "90a", "-1"] {
            let line = fails_on("SCF_RUNTIME_API_PORT", &[("SCF_RUNTIME_API_PORT", bad)]);
            assert!(line.contains(bad), "{line}");
        }
        for bad in ["http://host", "host/x", "a b", "user@host"] {
            fails_on("SCF_RUNTIME_API", &[("SCF_RUNTIME_API", bad)]);
        }
        let api = |h: &'static str| ok(&[("SCF_RUNTIME_API", h)]).runtime_api.to_string();
        assert_eq!(api("localhost"), "http://localhost:9001/");
        assert_eq!(api("::1"), "http://[::1]:9001/");
    }

    #[test]
    fn error_display_is_one_line_naming_the_variable() {
        let e = ConfigError {
            var: "COS_BUCKET",
            reason: "is required".into(),
        };
        assert_eq!(
            e.to_string(),
            "invalid configuration: COS_BUCKET: is required"
        );
    }

    #[test]
    fn reconcile_settings_default_and_are_validated() {
        let c = ok(&[]).reconcile;
        assert_eq!(c.window, std::time::Duration::from_secs(24 * 3600));
        assert_eq!(c.grace, std::time::Duration::from_secs(600));
        assert!(!c.forward);
        let mps = c.require_mps().expect("region and credentials are set");
        assert_eq!(mps.endpoint.to_string(), "https://mps.tencentcloudapi.com/");
        assert_eq!(mps.region, "ap-guangzhou");
        let c = ok(&[
            ("RECONCILE_WINDOW", "90m"),
            ("RECONCILE_GRACE", "0"),
            ("RECONCILE_FORWARD", "on"),
            ("MPS_REGION", "ap-shanghai"),
            ("MPS_ENDPOINT", "http://127.0.0.1:9000"),
        ])
        .reconcile;
        assert_eq!(c.window, std::time::Duration::from_secs(90 * 60));
        assert_eq!(c.grace, std::time::Duration::ZERO);
        assert!(c.forward);
        let mps = c.mps.expect("mps");
        assert_eq!(mps.region, "ap-shanghai");
        assert_eq!(mps.endpoint.to_string(), "http://127.0.0.1:9000/");
        assert_eq!(
            ok(&[("RECONCILE_WINDOW", "7d")]).reconcile.window.as_secs(),
            7 * 86_400
        );
        for bad in [
            "8d", "169h", "0", "0m", "24", "h", "1.5h", "-1h", "24 h", "1w",
        ] {
            let line = fails_on("RECONCILE_WINDOW", &[("RECONCILE_WINDOW", bad)]);
            assert!(line.contains(bad), "{line}");
        }
        for bad in ["8d", "ten", "10x"] {
            fails_on("RECONCILE_GRACE", &[("RECONCILE_GRACE", bad)]);
        }
        fails_on("RECONCILE_FORWARD", &[("RECONCILE_FORWARD", "maybe")]);
        fails_on("MPS_REGION", &[("MPS_REGION", "Shanghai")]);
        for bad in [
            "mps.tencentcloudapi.com",
            "https://x.example/path",
            "ftp://x",
        ] {
            fails_on("MPS_ENDPOINT", &[("MPS_ENDPOINT", bad)]);
        }
    }

    #[test]
    fn reconcile_without_region_or_credentials_starts_and_says_what_is_missing() {
        // Runtime mode needs COS_REGION then; MPS has no region of its own.
        let c = ok(&[("TENCENTCLOUD_REGION", ""), ("COS_REGION", "ap-guangzhou")]).reconcile;
        let e = c.require_mps().expect_err("no region");
        assert_eq!(e.var, "MPS_REGION");
        let get = env(&[("MPS_REGION", "ap-guangzhou")]);
        let c = ReconcileConfig::from_env(&get).expect("valid");
        assert_eq!(
            c.require_mps().expect_err("no credentials").var,
            "TENCENTCLOUD_SECRETID"
        );
    }

    #[test]
    fn spans() {
        let s = |v| parse_span(v).map(|d| d.as_secs());
        assert_eq!(s("30s"), Some(30));
        assert_eq!(s("90m"), Some(5400));
        assert_eq!(s(" 24h "), Some(86_400));
        assert_eq!(s("7d"), Some(604_800));
        assert_eq!(s("0"), Some(0));
        for bad in ["", "d", "1.5h", "+1h", "1H", "1hh", "9999999999d"] {
            assert_eq!(s(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_deployed_environment_is_checked_by_the_runtime_rules_without_platform_variables() {
        let platform = Platform {
            region: "ap-shanghai",
            namespace: "default",
            function: "mps-cos-backup",
        };
        let cfg =
            RuntimeConfig::for_deploy(env(&[("COS_BUCKET", "archive-1250000000")]), &platform)
                .unwrap();
        assert_eq!(cfg.cos.bucket.region(), "ap-shanghai");
        let missing = RuntimeConfig::for_deploy(env(&[]), &platform).unwrap_err();
        assert_eq!(missing.var, "COS_BUCKET");
        // What the deploying shell holds of the platform's variables is not what SCF sets.
        let shell = env(&[
            ("COS_BUCKET", "archive-1250000000"),
            ("TENCENTCLOUD_REGION", "bad region"),
        ]);
        assert!(RuntimeConfig::for_deploy(shell, &platform).is_ok());
        let looping = env(&[
            ("COS_BUCKET", "archive-1250000000"),
            ("ARCHIVE_FORWARD", "scf:mps-cos-backup"),
        ]);
        let e = RuntimeConfig::for_deploy(looping, &platform).unwrap_err();
        assert_eq!(e.var, "ARCHIVE_FORWARD");
        let bad = env(&[
            ("COS_BUCKET", "archive-1250000000"),
            ("CALLBACK_TOKEN", "short"),
        ]);
        assert_eq!(
            RuntimeConfig::for_deploy(bad, &platform).unwrap_err().var,
            "CALLBACK_TOKEN"
        );
    }
}
