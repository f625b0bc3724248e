//! Forwarding's settings: the targets of `ARCHIVE_FORWARD`, the notify key that re-signs
//! webhook bodies (`FORWARD_NOTIFY_KEY`), and for `scf:` targets the Cloud API endpoint,
//! region and credentials. A target that is the running function itself is refused here,
//! at start, rather than found out as a loop of invocations.

use crate::cloudapi::client::{CloudApiClient, CloudApiConfig};
use crate::cloudapi::invoke::QualifiedFunction;
use crate::forward::target::{parse_targets, Target};
use crate::forward::webhook::NotifyKey;
use crate::forward::ForwarderConfig;
use crate::transport::Uri;

use super::cloud::{cloud_api_endpoint, credentials, region};
use super::env::{err, get_set, ConfigError};

/// Where every callback is also delivered (`ARCHIVE_FORWARD`), and how.
pub(crate) type ForwardConfig = ForwarderConfig;

/// `ARCHIVE_FORWARD` and what its targets need: the notify key for URLs, the Cloud API
/// endpoint, region and credentials for `scf:` targets.
pub(super) fn forward_config<F>(get: &F) -> Result<ForwardConfig, ConfigError>
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
    let own_namespace = get_set(get, "SCF_NAMESPACE")
        .unwrap_or_else(|| QualifiedFunction::DEFAULT_NAMESPACE.to_string());
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

#[cfg(test)]
mod tests {
    use crate::config::test_env::{fails_on, ok};

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

        // The notify key is taken as it is and never shown.
        let c = ok(&[("FORWARD_NOTIFY_KEY", "notifyKeyValue42")]);
        assert!(c.forward.notify_key.is_some());
        assert!(!format!("{c:?}").contains("notifyKeyValue42"));
    }
}
