//! Reading one variable: the empty string counts as unset, and a problem is a
//! [`ConfigError`] naming the variable, in one line. The on/off switches share one reader
//! (`switch`).

/// A configuration problem: names the variable and what is wrong, one line.
#[derive(Debug, Clone, thiserror::Error)]
#[error("invalid configuration: {var}: {reason}")]
pub struct ConfigError {
    /// Variable name.
    pub(crate) var: &'static str,
    /// What is wrong (never contains a secret value).
    pub(crate) reason: String,
}

/// A [`ConfigError`] for `var` with a reason that shows no value.
pub(super) fn err(var: &'static str, reason: &str) -> ConfigError {
    ConfigError {
        var,
        reason: reason.to_string(),
    }
}

/// A variable's value, with the empty string counting as unset.
pub(super) fn get_set<F>(get: &F, var: &str) -> Option<String>
where
    F: Fn(&str) -> Option<String>,
{
    get(var).filter(|v| !v.is_empty())
}

/// An on/off switch (`var`): `default` when unset, else on/off, true/false, 1/0 or yes/no,
/// in any case.
pub(super) fn switch<F>(get: &F, var: &'static str, default: bool) -> Result<bool, ConfigError>
where
    F: Fn(&str) -> Option<String>,
{
    match get_set(get, var) {
        None => Ok(default),
        Some(v) => parse_bool(&v).ok_or_else(|| ConfigError {
            var,
            reason: format!("{v:?} is not one of on/off, true/false, 1/0, yes/no"),
        }),
    }
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
}
