//! Environment -> validated, typed configuration, read once at start.
//!
//! Each command reads what it needs: [`RuntimeConfig`] (runtime mode: COS and the runtime
//! API required) or [`Config`] (the other commands: COS only when `COS_BUCKET` is set).
//! Every value is parsed into its type here, once; a bad one is a [`ConfigError`] naming
//! the variable and never echoing a secret (README: Configuration).
//!
//! This file holds the entry points, which read the groups of variables in a fixed order (the
//! first bad value is the one reported), the list of variables a function is deployed with,
//! and the logging variables (also read leniently, before validation, to set up the logger
//! that then reports what validation finds). Each group is read in its own file:
//!
//! ```text
//! env          one variable: the empty string is unset; ConfigError; on/off switches
//! cloud        the role's credentials, a region, a Cloud API endpoint (every client's needs)
//! cos          COS_BUCKET and the bucket's region, endpoint and storage class
//! archive      COS_KEY_PREFIX, COS_KEY_TEMPLATE, ARCHIVE_UTC_OFFSET, the event filter, redaction
//! forward      ARCHIVE_FORWARD and what its targets need; never a forward to the function itself
//! callback     how Function URL callbacks authenticate (CALLBACK_*)
//! reconcile    MPS_* and RECONCILE_*: the MPS endpoint, window, grace, spans
//! runtime_api  where runtime mode asks SCF for events (SCF_RUNTIME_API, its port)
//! ```

mod archive;
mod callback;
mod cloud;
mod cos;
mod env;
mod forward;
mod reconcile;
mod runtime_api;
#[cfg(test)]
mod test_env;

use crate::handler::ArchiveConfig;
use crate::http::auth::CallbackAuth;
use crate::logging::LogConfig;
use crate::transport::Uri;
use archive::archive_config;
use callback::callback_config;
use cos::cos_config;
use env::{err, get_set};
use forward::forward_config;
use reconcile::reconcile_config;
use runtime_api::runtime_api;

pub(crate) use cloud::{cloud_api_endpoint, credentials_from_env};
pub(crate) use cos::CosConfig;
pub(crate) use env::ConfigError;
pub(crate) use forward::ForwardConfig;
pub(crate) use reconcile::ReconcileConfig;

/// What every command reads: COS when `COS_BUCKET` is set, the key layout and filters, logging.
#[derive(Debug, Clone)]
pub(crate) struct Config {
    /// COS target; `None` without `COS_BUCKET` (commands then use a local directory).
    pub(crate) cos: Option<CosConfig>,
    /// Key layout, redaction, filters.
    pub(crate) archive: ArchiveConfig,
    /// Forward targets (empty when `ARCHIVE_FORWARD` is unset).
    pub(crate) forward: ForwardConfig,
    /// How HTTP callbacks authenticate (`CALLBACK_*`).
    pub(crate) callback: CallbackAuth,
    /// Logging.
    pub(crate) log: LogConfig,
}

/// Runtime mode's configuration: COS and the runtime API are required.
#[derive(Debug, Clone)]
pub struct RuntimeConfig {
    /// `http://$SCF_RUNTIME_API:$SCF_RUNTIME_API_PORT`.
    pub(crate) runtime_api: Uri,
    /// COS target.
    pub(crate) cos: CosConfig,
    /// Key layout, redaction, filters.
    pub(crate) archive: ArchiveConfig,
    /// Forward targets (empty when `ARCHIVE_FORWARD` is unset).
    pub(crate) forward: ForwardConfig,
    /// How HTTP callbacks authenticate (`CALLBACK_*`).
    pub(crate) callback: CallbackAuth,
    /// Logging, validated: runtime mode sets its logger up before validation from the
    /// lenient reading ([`log_config_lenient`]), which is this value whenever validation
    /// passes, so only the tests read it back.
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) log: LogConfig,
    /// What the timer trigger reconciles, and against which MPS endpoint.
    pub(crate) reconcile: ReconcileConfig,
}

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

impl Config {
    /// Reads and validates the configuration through `get` (normally `std::env::var`).
    pub(crate) fn from_env<F>(get: F) -> Result<Config, ConfigError>
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
pub(crate) struct Platform<'a> {
    /// Region (`TENCENTCLOUD_REGION` in the function).
    pub(crate) region: &'a str,
    /// Namespace (`SCF_NAMESPACE`).
    pub(crate) namespace: &'a str,
    /// Function name (`SCF_FUNCTIONNAME`).
    pub(crate) function: &'a str,
}

impl RuntimeConfig {
    /// Validates the environment a function is about to be deployed with (`get` sees only
    /// those variables) by runtime mode's own rules, as the function will see it on
    /// `platform`: what SCF sets there (runtime API, role credentials, region, name) is
    /// supplied with placeholders and the real region, name and namespace, so nothing the
    /// deployer cannot set is required, and a forward to the function itself is refused.
    pub(crate) fn for_deploy<F>(
        get: F,
        platform: &Platform<'_>,
    ) -> Result<RuntimeConfig, ConfigError>
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
pub(crate) fn log_config_lenient<F>(get: F) -> LogConfig
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::archive::DEFAULT_KEY_PREFIX;
    use crate::config::test_env::{env, fails_on, ok, ID, KEY, TOKEN};
    use crate::key::{KeyTemplate, DEFAULT_TEMPLATE};
    use crate::logging::LogFormat;

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
