//! What reconcile asks MPS and what it checks: the MPS endpoint and region
//! (`MPS_ENDPOINT`, `MPS_REGION`) with the role's credentials, the window and grace
//! (`RECONCILE_WINDOW`, `RECONCILE_GRACE`, spans like `24h`) and `RECONCILE_FORWARD`.
//! Without a region or credentials runtime mode still starts: a timer event then fails
//! naming what is missing.

use crate::cloudapi::client::CloudApiConfig;
use crate::transport::Uri;

use super::cloud::{cloud_api_endpoint, credentials, region};
use super::env::{err, get_set, switch, ConfigError};

/// How reconcile asks MPS and what it checks (`MPS_*`, `RECONCILE_*`).
#[derive(Debug, Clone)]
pub(crate) struct ReconcileConfig {
    /// `MPS_ENDPOINT`, `MPS_REGION` and the credentials; `None` when no region or no
    /// credentials are set (runtime mode starts all the same; a timer event then fails
    /// naming [`ReconcileConfig::mps_missing`]).
    pub(crate) mps: Option<CloudApiConfig>,
    /// Why [`ReconcileConfig::mps`] is `None`.
    pub(crate) mps_missing: Option<ConfigError>,
    /// `RECONCILE_WINDOW`.
    pub(crate) window: std::time::Duration,
    /// `RECONCILE_GRACE`.
    pub(crate) grace: std::time::Duration,
    /// `RECONCILE_FORWARD`.
    pub(crate) forward: bool,
}

impl ReconcileConfig {
    /// Reads `MPS_*` and `RECONCILE_*` through `get`. A malformed value is an error; a missing
    /// region or missing credentials leave [`ReconcileConfig::mps`] unset.
    pub(crate) fn from_env<F>(get: F) -> Result<ReconcileConfig, ConfigError>
    where
        F: Fn(&str) -> Option<String>,
    {
        reconcile_config(&get)
    }

    /// The MPS endpoint, or the configuration error that says what is missing.
    pub(crate) fn require_mps(&self) -> Result<&CloudApiConfig, ConfigError> {
        match (&self.mps, &self.mps_missing) {
            (Some(m), _) => Ok(m),
            (None, Some(e)) => Err(e.clone()),
            (None, None) => Err(err("MPS_REGION", "is required")),
        }
    }
}

/// The longest reconcile window: MPS keeps its task list for 7 days.
pub(crate) const MAX_RECONCILE_WINDOW: std::time::Duration =
    std::time::Duration::from_secs(7 * 24 * 3600);

/// `MPS_ENDPOINT`, `MPS_REGION` (else `TENCENTCLOUD_REGION`), the credentials,
/// `RECONCILE_WINDOW`, `RECONCILE_GRACE` and `RECONCILE_FORWARD`.
pub(super) fn reconcile_config<F>(get: &F) -> Result<ReconcileConfig, ConfigError>
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
    let forward = switch(get, "RECONCILE_FORWARD", false)?;
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
pub(crate) fn parse_span(v: &str) -> Option<std::time::Duration> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::test_env::{env, fails_on, ok};

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
}
