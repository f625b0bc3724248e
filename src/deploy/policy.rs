//! The least-privilege policy of the function's role, derived from the configuration it is
//! deployed with: what runtime mode and the reconcile timer call, on exactly those resources.

use serde_json::{json, Value};

use crate::config::RuntimeConfig;
use crate::forward::target::Target;

/// What the policy needs besides the configuration.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PolicyInputs<'a> {
    /// Whether the hourly reconcile runs (it reads MPS's task list).
    pub(crate) reconcile: bool,
    /// The account's owner uin, which names SCF resources; `None` writes `<uin>` (a plan).
    pub(crate) owner_uin: Option<&'a str>,
}

/// Whether the configuration forwards to `scf:` targets (their resources name the uin).
pub(crate) fn needs_uin(cfg: &RuntimeConfig) -> bool {
    cfg.forward
        .targets
        .iter()
        .any(|t| matches!(t, Target::Scf(_)))
}

/// The policy document (CAM syntax 2.0): `cos:PutObject` and `cos:GetBucket` on the key
/// prefix, `scf:InvokeFunction` on each `scf:` target, the MPS task reads when reconcile is
/// on.
pub(crate) fn document(cfg: &RuntimeConfig, inputs: &PolicyInputs<'_>) -> Value {
    let bucket = &cfg.cos.bucket;
    let appid = bucket
        .name()
        .rsplit_once('-')
        .map(|(_, a)| a)
        .unwrap_or_default();
    let prefix_resource = format!(
        "qcs::cos:{}:uid/{appid}:{}/{}*",
        bucket.region(),
        bucket.name(),
        cfg.archive.key_prefix
    );
    let mut statements = vec![json!({
        "effect": "allow",
        "action": ["name/cos:PutObject", "name/cos:GetBucket"],
        "resource": [prefix_resource],
    })];
    let functions: Vec<String> = cfg
        .forward
        .targets
        .iter()
        .filter_map(|t| match t {
            Target::Scf(f) => Some(f),
            _ => None,
        })
        .map(|f| {
            let region = cfg
                .forward
                .scf
                .as_ref()
                .map(|s| s.region.as_str())
                .unwrap_or_default();
            format!(
                "qcs::scf:{region}:uin/{}:namespace/{}/function/{}",
                inputs.owner_uin.unwrap_or("<uin>"),
                f.namespace(),
                f.name()
            )
        })
        .collect();
    if !functions.is_empty() {
        statements.push(json!({
            "effect": "allow",
            "action": ["name/scf:InvokeFunction"],
            "resource": functions,
        }));
    }
    if inputs.reconcile {
        // MPS task reads are not scoped by resource.
        statements.push(json!({
            "effect": "allow",
            "action": ["name/mps:DescribeTasks", "name/mps:DescribeTaskDetail"],
            "resource": ["*"],
        }));
    }
    json!({"version": "2.0", "statement": statements})
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Platform;

    #[test]
    fn the_policy_names_the_prefix_the_targets_and_mps_reads() {
        let vars = [
            ("COS_BUCKET", "archive-1250000000"),
            ("COS_KEY_PREFIX", "cb/"),
            (
                "ARCHIVE_FORWARD",
                "scf:jobs/done:prod,https://hooks.example.com/x",
            ),
        ];
        let get = |k: &str| {
            vars.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        };
        let platform = Platform {
            region: "ap-guangzhou",
            namespace: "default",
            function: "mps-cos-backup",
        };
        let cfg = RuntimeConfig::for_deploy(get, &platform).unwrap();
        assert!(needs_uin(&cfg));
        let doc = document(
            &cfg,
            &PolicyInputs {
                reconcile: true,
                owner_uin: Some("100000000001"),
            },
        );
        assert_eq!(
            doc["statement"][0]["resource"][0],
            "qcs::cos:ap-guangzhou:uid/1250000000:archive-1250000000/cb/*"
        );
        assert_eq!(
            doc["statement"][1]["resource"],
            json!(["qcs::scf:ap-guangzhou:uin/100000000001:namespace/jobs/function/done"])
        );
        assert_eq!(
            doc["statement"][2]["action"][1],
            "name/mps:DescribeTaskDetail"
        );
        let without = document(
            &cfg,
            &PolicyInputs {
                reconcile: false,
                owner_uin: None,
            },
        );
        assert_eq!(without["statement"].as_array().unwrap().len(), 2);
    }
}
