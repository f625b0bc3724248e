//! What every Tencent Cloud client needs: the role's credentials (`TENCENTCLOUD_SECRETID`,
//! `_SECRETKEY`, `_SESSIONTOKEN`), a region (a client's own variable, else
//! `TENCENTCLOUD_REGION`) and a Cloud API endpoint. COS, `scf:` forwarding, reconcile and
//! deploy all read them here, so a secret is checked, and kept out of errors, by one rule.

use crate::cos;
use crate::credentials::Credentials;
use crate::transport::{Uri, UrlError, UrlShape};

use super::env::{err, get_set, ConfigError};

/// `var`, else `TENCENTCLOUD_REGION`: which variable gave it, and the value, checked.
pub(super) fn region<F>(
    get: &F,
    var: &'static str,
) -> Result<Option<(&'static str, String)>, ConfigError>
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
pub(super) fn credentials<F>(get: &F) -> Result<Option<Credentials>, ConfigError>
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

/// The role's credentials from `TENCENTCLOUD_SECRETID`, `_SECRETKEY` and `_SESSIONTOKEN`;
/// `None` when no secret id is set. Errors never show a value.
pub(crate) fn credentials_from_env<F>(get: F) -> Result<Option<Credentials>, ConfigError>
where
    F: Fn(&str) -> Option<String>,
{
    credentials(&get)
}

/// A Cloud API endpoint variable (`var`): an `http(s)://host[:port]` base URL, nothing more.
pub(crate) fn cloud_api_endpoint(var: &'static str, raw: &str) -> Result<Uri, ConfigError> {
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

#[cfg(test)]
mod tests {
    use crate::config::test_env::{fails_on, ok, ID, KEY, TOKEN};

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
}
