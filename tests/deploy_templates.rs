//! The deploy templates (TCSAM `template.yaml`, Serverless `deploy/serverless.yml`) must configure
//! the function as README "Deploy" and "Configuration" describe it: only variables the
//! binary's configuration reads (recorded from it), no reserved platform variables, the custom runtime entry point, 64 MB, a plausible
//! timeout and both MPS triggers. Each check is also run against crafted bad input, so none of
//! them can pass vacuously.

use std::error::Error;

use serde_yaml::Value;

type TestResult = Result<(), Box<dyn Error>>;

const TCSAM: &str = include_str!("../template.yaml");
const SERVERLESS: &str = include_str!("../deploy/serverless.yml");

/// Every variable of the configuration table a function reads from its environment (what
/// `deploy` copies too), minus the credentials SCF sets.
const KNOWN: &[&str] = mps_cos_backup::config::FUNCTION_VARIABLES;

/// COS_REGION has a fallback in the code, but a template must not depend on the function's region.
const REQUIRED: &[&str] = &["COS_BUCKET", "COS_REGION"];

/// Prefixes of the variables SCF sets itself (the role's credentials, the runtime API address,
/// platform information): a template that set them would fight the platform or ship a secret.
const RESERVED_PREFIXES: &[&str] = &["TENCENTCLOUD_", "SCF_", "QCLOUD_"];

const MPS_EVENT_TYPES: &[&str] = &["WorkflowTask", "EditMediaTask"];

/// Up to 4 COS attempts with backoff must fit; below this the platform would kill healthy retries.
const MIN_TIMEOUT_SECS: u64 = 5;

/// What a template says about the function, independent of its dialect.
#[derive(Debug, Default)]
struct Deploy {
    env: Vec<(String, Value)>,
    handler: Option<String>,
    runtime: Option<String>,
    memory_mb: Option<u64>,
    timeout_secs: Option<u64>,
    mps_event_types: Vec<String>,
}

fn parse(text: &str) -> Result<Value, serde_yaml::Error> {
    serde_yaml::from_str(text)
}

fn get<'a>(v: &'a Value, key: &str) -> Option<&'a Value> {
    v.as_mapping().and_then(|m| m.get(key))
}

fn string(v: Option<&Value>) -> Option<String> {
    v.and_then(Value::as_str).map(str::to_owned)
}

/// Collects the entries of every `Environment.Variables` / `environment.variables` mapping, at any
/// depth, so variables set in `Globals` or in a second function are checked too.
fn collect_env(v: &Value, out: &mut Vec<(String, Value)>) {
    match v {
        Value::Mapping(m) => {
            for (k, child) in m {
                let key = k.as_str().unwrap_or_default();
                if key == "Environment" || key == "environment" {
                    let vars = get(child, "Variables").or_else(|| get(child, "variables"));
                    if let Some(Value::Mapping(vars)) = vars {
                        for (name, value) in vars {
                            let name = match name.as_str() {
                                Some(s) => s.to_owned(),
                                None => format!("{name:?}"),
                            };
                            out.push((name, value.clone()));
                        }
                    }
                }
                collect_env(child, out);
            }
        }
        Value::Sequence(items) => items.iter().for_each(|i| collect_env(i, out)),
        _ => {}
    }
}

/// Finds the (single) mapping whose `Type` is the TCSAM function type, at any depth.
fn find_tcsam_function(v: &Value) -> Option<&Value> {
    match v {
        Value::Mapping(m) => {
            if get(v, "Type").and_then(Value::as_str) == Some("TencentCloud::Serverless::Function")
            {
                return Some(v);
            }
            m.values().find_map(find_tcsam_function)
        }
        _ => None,
    }
}

fn from_tcsam(text: &str) -> Result<Deploy, serde_yaml::Error> {
    let doc = parse(text)?;
    let mut d = Deploy::default();
    collect_env(&doc, &mut d.env);
    let Some(props) = find_tcsam_function(&doc).and_then(|f| get(f, "Properties")) else {
        return Ok(d);
    };
    d.handler = string(get(props, "Handler"));
    d.runtime = string(get(props, "Runtime"));
    d.memory_mb = get(props, "MemorySize").and_then(Value::as_u64);
    d.timeout_secs = get(props, "Timeout").and_then(Value::as_u64);
    if let Some(Value::Mapping(events)) = get(props, "Events") {
        for event in events.values() {
            if get(event, "Type").and_then(Value::as_str) == Some("MPS") {
                let props = get(event, "Properties");
                if let Some(t) = string(props.and_then(|p| get(p, "EventType"))) {
                    d.mps_event_types.push(t);
                }
            }
        }
    }
    Ok(d)
}

fn from_serverless(text: &str) -> Result<Deploy, serde_yaml::Error> {
    let doc = parse(text)?;
    let mut d = Deploy::default();
    collect_env(&doc, &mut d.env);
    let Some(inputs) = get(&doc, "inputs") else {
        return Ok(d);
    };
    d.handler = string(get(inputs, "handler"));
    d.runtime = string(get(inputs, "runtime"));
    d.memory_mb = get(inputs, "memorySize").and_then(Value::as_u64);
    d.timeout_secs = get(inputs, "timeout").and_then(Value::as_u64);
    if let Some(Value::Sequence(events)) = get(inputs, "events") {
        for event in events {
            let params = get(event, "mps").and_then(|m| get(m, "parameters"));
            if let Some(t) = string(params.and_then(|p| get(p, "type"))) {
                d.mps_event_types.push(t);
            }
        }
    }
    Ok(d)
}

/// Everything wrong with a template, one line each; empty when it is right.
fn problems(d: &Deploy) -> Vec<String> {
    let mut out = Vec::new();
    for (name, value) in &d.env {
        if let Some(p) = RESERVED_PREFIXES.iter().find(|p| name.starts_with(*p)) {
            out.push(format!(
                "{name}: reserved platform variable (prefix {p}) must not be set"
            ));
        } else if !KNOWN.contains(&name.as_str()) {
            out.push(format!("{name}: not a variable the binary reads"));
        }
        match value.as_str() {
            Some(s) if !s.trim().is_empty() => {}
            Some(_) => out.push(format!("{name}: empty value")),
            None => out.push(format!("{name}: value is not a string: {value:?}")),
        }
    }
    for name in REQUIRED {
        if !d.env.iter().any(|(n, _)| n == name) {
            out.push(format!("{name}: required variable missing"));
        }
    }
    let names: Vec<&str> = d.env.iter().map(|(n, _)| n.as_str()).collect();
    for (i, name) in names.iter().enumerate() {
        if names[..i].contains(name) {
            out.push(format!("{name}: set twice"));
        }
    }
    if d.handler.as_deref() != Some("bootstrap") {
        out.push(format!(
            "handler is {:?}, expected \"bootstrap\"",
            d.handler
        ));
    }
    if d.runtime.as_deref() != Some("CustomRuntime") {
        out.push(format!(
            "runtime is {:?}, expected \"CustomRuntime\"",
            d.runtime
        ));
    }
    if d.memory_mb != Some(64) {
        out.push(format!("memory is {:?} MB, expected 64", d.memory_mb));
    }
    match d.timeout_secs {
        Some(t) if t >= MIN_TIMEOUT_SECS => {}
        other => out.push(format!(
            "timeout is {other:?} s, expected >= {MIN_TIMEOUT_SECS} s"
        )),
    }
    for t in MPS_EVENT_TYPES {
        let n = d.mps_event_types.iter().filter(|x| x == t).count();
        if n != 1 {
            out.push(format!("MPS trigger {t} appears {n} times, expected once"));
        }
    }
    for t in &d.mps_event_types {
        if !MPS_EVENT_TYPES.contains(&t.as_str()) {
            out.push(format!("MPS trigger {t}: unknown event type"));
        }
    }
    out
}

/// The names the binary's configuration asks its environment for, when every optional
/// part is switched on (an `scf:` target, so the Cloud API settings are read too): recorded
/// from the very code runtime mode runs, not searched for in its text.
fn names_the_binary_reads() -> Vec<String> {
    use mps_cos_backup::config::RuntimeConfig;
    use std::cell::RefCell;
    let env = [
        ("COS_BUCKET", "archive-1250000000"),
        ("TENCENTCLOUD_REGION", "ap-guangzhou"),
        ("TENCENTCLOUD_SECRETID", "AKIDexample"),
        ("TENCENTCLOUD_SECRETKEY", "secretExample"),
        ("SCF_RUNTIME_API", "127.0.0.1"),
        ("SCF_RUNTIME_API_PORT", "9001"),
        (
            "ARCHIVE_FORWARD",
            "scf:consumer,https://hooks.example.com/mps",
        ),
    ];
    let asked = RefCell::new(Vec::new());
    let result = RuntimeConfig::from_env(|name: &str| {
        asked.borrow_mut().push(name.to_string());
        env.iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.to_string())
    });
    if let Err(e) = result {
        panic!("the recording environment must be valid: {e}");
    }
    asked.into_inner()
}

/// Known variable names the binary never asks for.
fn not_read<'a>(known: &[&'a str], read: &[String]) -> Vec<&'a str> {
    known
        .iter()
        .copied()
        .filter(|name| !read.iter().any(|r| r == name))
        .collect()
}

#[test]
fn tcsam_template_configures_the_function_as_specified() -> TestResult {
    let d = from_tcsam(TCSAM)?;
    assert!(!d.env.is_empty(), "no environment found in template.yaml");
    let p = problems(&d);
    assert!(p.is_empty(), "template.yaml:\n{}", p.join("\n"));
    Ok(())
}

#[test]
fn serverless_config_configures_the_function_as_specified() -> TestResult {
    let d = from_serverless(SERVERLESS)?;
    assert!(
        !d.env.is_empty(),
        "no environment found in deploy/serverless.yml"
    );
    let p = problems(&d);
    assert!(p.is_empty(), "deploy/serverless.yml:\n{}", p.join("\n"));
    Ok(())
}

#[test]
fn both_templates_set_the_same_environment() -> TestResult {
    let mut a: Vec<_> = from_tcsam(TCSAM)?.env;
    let mut b: Vec<_> = from_serverless(SERVERLESS)?.env;
    a.sort_by(|x, y| x.0.cmp(&y.0));
    b.sort_by(|x, y| x.0.cmp(&y.0));
    assert_eq!(a, b, "template.yaml and deploy/serverless.yml disagree");
    Ok(())
}

/// The list above is only worth something if the binary really reads these names.
#[test]
fn every_known_variable_is_read_by_the_binary() {
    let read = names_the_binary_reads();
    let missing = not_read(KNOWN, &read);
    assert!(
        missing.is_empty(),
        "the configuration never reads: {}",
        missing.join(", ")
    );
}

#[test]
fn the_read_check_notices_a_name_nothing_reads() {
    let read = names_the_binary_reads();
    assert!(read.iter().any(|r| r == "COS_STORAGE_CLASS"));
    assert_eq!(
        not_read(&["COS_STORAGE_CLASS", "COS_STORAGE_KLASS"], &read),
        vec!["COS_STORAGE_KLASS"]
    );
}

#[test]
fn checks_reject_a_crafted_bad_tcsam_template() -> TestResult {
    let bad = r#"
Resources:
  default:
    Type: TencentCloud::Serverless::Namespace
    f:
      Type: TencentCloud::Serverless::Function
      Properties:
        CodeUri: ./
        Handler: index.main_handler
        Runtime: Python3.6
        MemorySize: 128
        Timeout: 3
        Environment:
          Variables:
            COS_BUCKET: "b-1250000000"
            TENCENTCLOUD_SECRETKEY: "leak"
            SCF_RUNTIME_API: "127.0.0.1"
            QCLOUD_X: "y"
            COS_BUKET: "typo"
            ARCHIVE_REDACT: true
        Events:
          wf:
            Type: MPS
            Properties:
              EventType: WorkflowTask
"#;
    let p = problems(&from_tcsam(bad)?).join("\n");
    for expected in [
        "TENCENTCLOUD_SECRETKEY: reserved",
        "SCF_RUNTIME_API: reserved",
        "QCLOUD_X: reserved",
        "COS_BUKET: not a variable the binary reads",
        "ARCHIVE_REDACT: value is not a string",
        "COS_REGION: required variable missing",
        "handler is Some(\"index.main_handler\")",
        "runtime is Some(\"Python3.6\")",
        "memory is Some(128) MB",
        "timeout is Some(3) s",
        "MPS trigger EditMediaTask appears 0 times",
    ] {
        assert!(p.contains(expected), "missing {expected:?} in:\n{p}");
    }
    assert!(!p.contains("WorkflowTask appears"), "{p}");
    Ok(())
}

#[test]
fn checks_reject_a_crafted_bad_serverless_config() -> TestResult {
    let bad = r#"
component: scf
name: x
inputs:
  handler: bootstrap
  runtime: CustomRuntime
  memorySize: 64
  environment:
    variables:
      COS_BUCKET: "b-1250000000"
      COS_REGION: ""
  events:
    - mps:
        parameters:
          type: WorkflowTask
    - mps:
        parameters:
          type: WorkflowTask
    - mps:
        parameters:
          type: TranscodeTask
"#;
    let p = problems(&from_serverless(bad)?).join("\n");
    for expected in [
        "COS_REGION: empty value",
        "timeout is None s",
        "MPS trigger WorkflowTask appears 2 times",
        "MPS trigger EditMediaTask appears 0 times",
        "MPS trigger TranscodeTask: unknown event type",
    ] {
        assert!(p.contains(expected), "missing {expected:?} in:\n{p}");
    }
    assert!(!p.contains("handler"), "{p}");
    assert!(!p.contains("memory"), "{p}");
    Ok(())
}

#[test]
fn variables_in_globals_are_checked_too() -> TestResult {
    let with_globals = format!(
        "Globals:\n  Function:\n    Environment:\n      Variables:\n        TENCENTCLOUD_SESSIONTOKEN: \"t\"\n{TCSAM}"
    );
    let p = problems(&from_tcsam(&with_globals)?).join("\n");
    assert!(p.contains("TENCENTCLOUD_SESSIONTOKEN: reserved"), "{p}");
    Ok(())
}

/// Both templates schedule the hourly reconcile and name what its role needs.
#[test]
fn templates_schedule_the_hourly_reconcile() -> TestResult {
    let tcsam = parse(TCSAM)?;
    let mut crons = Vec::new();
    fn walk(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Mapping(m) => {
                if get(v, "Type").and_then(Value::as_str) == Some("Timer") {
                    if let Some(c) = get(v, "Properties").and_then(|p| get(p, "CronExpression")) {
                        out.extend(c.as_str().map(str::to_string));
                    }
                }
                for x in m.values() {
                    walk(x, out);
                }
            }
            Value::Sequence(s) => s.iter().for_each(|x| walk(x, out)),
            _ => {}
        }
    }
    walk(&tcsam, &mut crons);
    assert_eq!(crons, ["0 0 * * * * *"], "TCSAM timer");
    let sls = parse(SERVERLESS)?;
    let events = get(&sls, "inputs").and_then(|i| get(i, "events"));
    let timers: Vec<&str> = match events {
        Some(Value::Sequence(s)) => s
            .iter()
            .filter_map(|e| get(e, "timer").and_then(|t| get(t, "parameters")))
            .filter_map(|p| get(p, "cronExpression").and_then(Value::as_str))
            .collect(),
        _ => Vec::new(),
    };
    assert_eq!(timers, ["0 0 * * * * *"], "serverless timer");
    for text in [TCSAM, SERVERLESS] {
        for permission in [
            "mps:DescribeTasks",
            "mps:DescribeTaskDetail",
            "cos:GetBucket",
        ] {
            assert!(
                text.contains(permission),
                "a template does not name {permission}"
            );
        }
    }
    Ok(())
}
