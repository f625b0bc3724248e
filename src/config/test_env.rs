//! The unit tests' environment: a map of variables, a complete runtime-mode environment
//! with overrides, and the checks that it is accepted, or refused naming the variable in
//! one line.

use std::collections::HashMap;

use super::{ConfigError, RuntimeConfig};

pub(super) const ID: &str = "AKIDsecretIdValue0001";
pub(super) const KEY: &str = "secretKeyValue0002";
pub(super) const TOKEN: &str = "sessionTokenValue0003";

pub(super) fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |k: &str| map.get(k).cloned()
}

/// A complete runtime-mode environment, with overrides (`""` = explicitly empty = unset).
pub(super) fn runtime_env(
    over: &[(&'static str, &'static str)],
) -> impl Fn(&str) -> Option<String> {
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

pub(super) fn ok(over: &[(&'static str, &'static str)]) -> RuntimeConfig {
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

pub(super) fn fails_on(var: &str, over: &[(&'static str, &'static str)]) -> String {
    let e = fails(over);
    assert_eq!(e.var, var, "wrong variable blamed: {e}");
    let line = e.to_string();
    assert!(!line.contains('\n'), "error must be one line: {line:?}");
    assert!(line.contains(var), "error must name the variable: {line}");
    line
}
