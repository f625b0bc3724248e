//! Everything checked before the first call: the flags, the zip, the function's
//! environment by runtime mode's own rules, the endpoints and the credentials. Nothing is
//! sent; a deploy that would fail on any of these stops here with exit code 2.

use base64::Engine as _;

use super::{package, usage, DeployError, Options, Prepared, RoleChoice, QUALIFIER};
use crate::cloudapi::invoke::QualifiedFunction;
use crate::cloudapi::scf::FunctionRef;
use crate::config::{cloud_api_endpoint, credentials_from_env, Platform, RuntimeConfig};
use crate::text::one_line;
use crate::transport::Uri;

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
    let checked = QualifiedFunction::new(opts.namespace.clone(), opts.function.clone(), QUALIFIER)
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

impl Prepared {
    /// `text` with every secret of the environment and the credentials masked.
    pub(crate) fn mask(&self, text: &str) -> String {
        self.credentials
            .scrub_also(text, self.secrets.iter().map(String::as_str))
    }
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
}
