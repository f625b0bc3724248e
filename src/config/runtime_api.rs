//! Where runtime mode asks SCF for events: `SCF_RUNTIME_API` and `SCF_RUNTIME_API_PORT`,
//! set by SCF, checked to make a plain `http://host:port` base URL.

use crate::transport::Uri;

use super::env::{err, get_set, ConfigError};

pub(super) fn runtime_api<F>(get: &F) -> Result<Uri, ConfigError>
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

#[cfg(test)]
mod tests {
    use crate::config::test_env::{fails_on, ok};

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
}
