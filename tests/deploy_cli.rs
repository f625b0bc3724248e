//! `mps-cos-backup deploy` through the real binary against fake SCF and CAM APIs that check
//! TC3 signatures per service, every request field against the official SDK's request
//! models, and refuse changes while a function is `Creating` or `Updating` as SCF does.
mod common;

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{json, Value};

use common::binary::{Binary, Package};
use common::fake_deploy_api::{FakeDeployApi, FakeDeployOptions, Trigger};

const WAIT: Duration = Duration::from_secs(120);
const BUCKET: &str = "archive-1250000000";
const CALLBACK_TOKEN: &str = "cbTokenValue-0123456789abcdef";
const CALLBACK_NOTIFY_KEY: &str = "cbNotifyKeyValue-98765";
const FORWARD_NOTIFY_KEY: &str = "fwdNotifyKeyValue-13579";

/// A stored zip of `(name, unix mode, content)`, as zip tools write it (CRC-32 included).
fn zip(files: &[(&str, u32, &[u8])]) -> Vec<u8> {
    let crc32 = crc::Crc::<u32>::new(&crc::CRC_32_ISO_HDLC);
    let mut out = Vec::new();
    let mut central = Vec::new();
    for (name, mode, content) in files {
        let offset = out.len() as u32;
        let crc = crc32.checksum(content);
        let len = (content.len() as u32).to_le_bytes();
        let name_len = (name.len() as u16).to_le_bytes();
        out.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
        out.extend_from_slice(&[20, 0, 0, 0, 0, 0, 0, 0, 0x21, 0x50]);
        out.extend_from_slice(&crc.to_le_bytes());
        out.extend_from_slice(&len);
        out.extend_from_slice(&len);
        out.extend_from_slice(&name_len);
        out.extend_from_slice(&[0, 0]);
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(content);
        central.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
        central.extend_from_slice(&[20, 3, 20, 0, 0, 0, 0, 0, 0, 0, 0x21, 0x50]);
        central.extend_from_slice(&crc.to_le_bytes());
        central.extend_from_slice(&len);
        central.extend_from_slice(&len);
        central.extend_from_slice(&name_len);
        central.extend_from_slice(&[0; 8]);
        central.extend_from_slice(&(mode << 16).to_le_bytes());
        central.extend_from_slice(&offset.to_le_bytes());
        central.extend_from_slice(name.as_bytes());
    }
    let cd_offset = out.len() as u32;
    out.extend_from_slice(&central);
    out.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(&(files.len() as u16).to_le_bytes());
    out.extend_from_slice(&(files.len() as u16).to_le_bytes());
    out.extend_from_slice(&(central.len() as u32).to_le_bytes());
    out.extend_from_slice(&cd_offset.to_le_bytes());
    out.extend_from_slice(&[0, 0]);
    out
}

/// A deployable zip whose binary is `binary`, written into the package folder.
fn package_zip(pkg: &Package, file: &str, binary: &[u8]) -> (PathBuf, Vec<u8>) {
    let bytes = zip(&[
        (
            "bootstrap",
            0o100_755,
            b"#!/bin/sh\nexec ./mps-cos-backup \"$@\"\n",
        ),
        ("mps-cos-backup", 0o100_755, binary),
    ]);
    let path = pkg.dir().join(file);
    std::fs::write(&path, &bytes).expect("write zip");
    (path, bytes)
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// The deploying shell: the account's keys, the endpoints, the function's configuration.
fn shell(api: &FakeDeployApi, extra: &[(&str, &str)]) -> Vec<(String, String)> {
    let o = api.options();
    let mut env: Vec<(String, String)> = vec![
        ("TENCENTCLOUD_SECRETID".into(), o.secret_id),
        ("TENCENTCLOUD_SECRETKEY".into(), o.secret_key),
        ("TENCENTCLOUD_REGION".into(), o.region),
        ("DEPLOY_SCF_ENDPOINT".into(), api.scf_url()),
        ("DEPLOY_CAM_ENDPOINT".into(), api.cam_url()),
        ("COS_BUCKET".into(), BUCKET.into()),
        ("LOG_LEVEL".into(), "warn".into()),
        // What the deploying machine may hold that is not the function's.
        ("SCF_RUNTIME_API".into(), "10.0.0.1".into()),
        ("RUST_BACKTRACE".into(), "1".into()),
    ];
    if let Some(t) = o.session_token {
        env.push(("TENCENTCLOUD_SESSIONTOKEN".into(), t));
    }
    for (k, v) in extra {
        env.retain(|(ek, _)| ek != k);
        env.push((k.to_string(), v.to_string()));
    }
    env
}

struct Run {
    out: Output,
    secs: f64,
    bin: Binary,
}

fn deploy(pkg: &Package, zip: &Path, args: &[&str], env: &[(String, String)]) -> Run {
    let mut all = vec![
        "deploy",
        "--zip",
        zip.to_str().expect("utf-8 path"),
        "--poll-interval-ms",
        "20",
    ];
    all.extend_from_slice(args);
    let started = Instant::now();
    let mut bin = Binary::start_in(pkg, &all, env);
    let status = bin.wait_exit(WAIT).expect("deploy ends");
    let secs = started.elapsed().as_secs_f64();
    let join = |l: Vec<String>| {
        l.iter()
            .map(|l| format!("{l}\n"))
            .collect::<String>()
            .into_bytes()
    };
    let out = Output {
        status,
        stdout: join(bin.stdout_lines()),
        stderr: join(bin.stderr_lines()),
    };
    Run { out, secs, bin }
}

fn stderr(r: &Run) -> String {
    String::from_utf8_lossy(&r.out.stderr).into_owned()
}

fn summary(r: &Run) -> Value {
    assert!(
        r.out.status.success(),
        "deploy failed: {:?}\n{}",
        r.out.status,
        stderr(r)
    );
    let text = String::from_utf8_lossy(&r.out.stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 1, "one summary line on stdout: {text}");
    serde_json::from_str(lines[0]).expect("summary is JSON")
}

fn secrets(api: &FakeDeployApi) -> Vec<String> {
    let o = api.options();
    vec![
        o.secret_key,
        o.session_token.unwrap_or_default(),
        CALLBACK_TOKEN.into(),
        CALLBACK_NOTIFY_KEY.into(),
        FORWARD_NOTIFY_KEY.into(),
    ]
}

fn assert_no_secret(r: &Run, api: &FakeDeployApi) {
    let s = secrets(api);
    let refs: Vec<&str> = s.iter().map(String::as_str).collect();
    r.bin.assert_never_wrote(&refs);
}

fn env_of(f: &common::fake_deploy_api::Func) -> Vec<(String, String)> {
    f.config["Environment"]["Variables"]
        .as_array()
        .expect("variables")
        .iter()
        .map(|v| {
            (
                v["Key"].as_str().unwrap_or("").to_string(),
                v["Value"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

const MUTATING: &[&str] = &[
    "CreateFunction",
    "UpdateFunctionCode",
    "UpdateFunctionConfiguration",
    "UpdateFunctionEventInvokeConfig",
    "CreateTrigger",
    "UpdateTrigger",
    "CreateRole",
    "CreatePolicy",
    "UpdatePolicy",
    "AttachRolePolicy",
];

/// What `--plan` may call.
const READS: &[&str] = &[
    "GetFunction",
    "ListTriggers",
    "GetRole",
    "GetUserAppId",
    "ListAttachedRolePolicies",
    "GetPolicy",
];

fn assert_clean(api: &FakeDeployApi) {
    assert_eq!(api.verification_failures(), Vec::<String>::new());
    assert_eq!(api.refusals(), Vec::<String>::new());
}

/// First deploy creates the function, its retries and triggers; a second with a new zip
/// updates it in place, never duplicating a trigger; output never holds a secret.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_deploy_creates_and_a_second_updates_in_place() {
    let api = FakeDeployApi::start(FakeDeployOptions {
        roles: vec!["archive-role".into()],
        ..Default::default()
    })
    .await;
    let pkg = Package::new("deploy");
    let (zip1, bytes1) = package_zip(&pkg, "one.zip", b"\x7fELF one");
    let env = shell(
        &api,
        &[
            ("CALLBACK_TOKEN", CALLBACK_TOKEN),
            ("CALLBACK_NOTIFY_KEY", CALLBACK_NOTIFY_KEY),
            ("FORWARD_NOTIFY_KEY", FORWARD_NOTIFY_KEY),
            ("ARCHIVE_FORWARD", "https://hooks.example.com/mps"),
            ("COS_KEY_PREFIX", "cb/"),
        ],
    );
    let args = [
        "--role",
        "archive-role",
        "--url",
        "--memory",
        "128",
        "--timeout",
        "30",
    ];
    let first = deploy(&pkg, &zip1, &args, &env);
    let s = summary(&first);
    println!("deploy (create) against the fake: {:.2} s", first.secs);
    assert_eq!(s["function"], "mps-cos-backup");
    assert_eq!(s["namespace"], "default");
    assert_eq!(s["region"], "ap-guangzhou");
    assert_eq!(s["created"], true);
    assert!(s.get("updated").is_none());
    let url = format!(
        "https://{}-fakeurl.ap-guangzhou.tencentscf.com",
        api.options().appid
    );
    assert_eq!(s["url"], url.as_str());
    let manual = s["manual"].to_string();
    assert!(manual.contains("MPS trigger"), "{manual}");
    assert!(
        manual.contains(&format!("{url}/?token=<the value of CALLBACK_TOKEN>")),
        "{manual}"
    );
    assert!(manual.contains("CALLBACK_NOTIFY_KEY"), "{manual}");
    let f = api.function("default", "mps-cos-backup").expect("created");
    assert_eq!(f.status, "Active");
    assert_eq!(f.zip_base64, b64(&bytes1));
    assert_eq!(f.config["Runtime"], "CustomRuntime");
    assert_eq!(f.config["Handler"], "bootstrap");
    assert_eq!(f.config["Type"], "Event");
    assert_eq!(f.config["MemorySize"], 128);
    assert_eq!(f.config["Timeout"], 30);
    assert_eq!(f.config["Role"], "archive-role");
    let mut vars = env_of(&f);
    vars.sort();
    let keys: Vec<&str> = vars.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        keys,
        [
            "ARCHIVE_FORWARD",
            "CALLBACK_NOTIFY_KEY",
            "CALLBACK_TOKEN",
            "COS_BUCKET",
            "COS_KEY_PREFIX",
            "FORWARD_NOTIFY_KEY",
            "LOG_LEVEL"
        ],
        "the configuration's variables, never TENCENTCLOUD_* or SCF_*"
    );
    assert!(vars.contains(&("CALLBACK_TOKEN".into(), CALLBACK_TOKEN.into())));
    assert_eq!(
        f.async_config,
        Some(json!({"RetryConfig": [{"RetryNum": 2}], "MsgTTL": 21600}))
    );
    let kinds: Vec<(String, String, String)> = f
        .triggers
        .iter()
        .map(|t| (t.kind.clone(), t.name.clone(), t.enable.clone()))
        .collect();
    assert_eq!(
        kinds,
        [
            ("timer".into(), "reconcile-hourly".into(), "OPEN".into()),
            ("http".into(), "function-url".into(), "OPEN".into())
        ]
    );
    assert_eq!(f.triggers[0].desc, "0 0 * * * * *");
    let desc: Value = serde_json::from_str(&f.triggers[1].desc).expect("http desc");
    assert_eq!(desc["AuthType"], "NONE");
    assert_eq!(desc["NetConfig"]["EnableExtranet"], true);
    assert_clean(&api);
    assert_no_secret(&first, &api);
    let err = stderr(&first);
    for step in [
        "CreateFunction",
        "UpdateFunctionEventInvokeConfig",
        "CreateTrigger",
        "Active",
    ] {
        assert!(err.contains(step), "no {step} line in:\n{err}");
    }

    // The console binds the MPS trigger; a new zip updates in place.
    api.bind(
        "default",
        "mps-cos-backup",
        Trigger {
            name: "mps-workflow".into(),
            kind: "mps".into(),
            desc: "{\"eventType\":\"WorkflowTask\"}".into(),
            qualifier: "$LATEST".into(),
            enable: "OPEN".into(),
        },
    );
    let before = api.applied().len();
    let (zip2, bytes2) = package_zip(&pkg, "two.zip", b"\x7fELF two");
    let second = deploy(&pkg, &zip2, &args, &env);
    let s = summary(&second);
    println!("deploy (update) against the fake: {:.2} s", second.secs);
    assert_eq!(s["updated"], true);
    assert!(s.get("created").is_none());
    assert_eq!(s["url"], url.as_str());
    assert!(!s["manual"].to_string().contains("bind the MPS trigger"));
    let actions: Vec<String> = api.applied()[before..].to_vec();
    let changes: Vec<&String> = actions
        .iter()
        .filter(|a| MUTATING.contains(&a.as_str()))
        .collect();
    assert_eq!(
        changes,
        [
            "UpdateFunctionCode",
            "UpdateFunctionConfiguration",
            "UpdateFunctionEventInvokeConfig"
        ],
        "{actions:?}"
    );
    let f = api
        .function("default", "mps-cos-backup")
        .expect("still there");
    assert_eq!(f.zip_base64, b64(&bytes2));
    assert_eq!(f.triggers.len(), 3, "no duplicate: {:?}", f.triggers);
    assert_eq!(
        s["triggers"],
        json!([{"name":"reconcile-hourly","type":"timer","action":"unchanged"},
               {"name":"function-url","type":"http","action":"unchanged"}])
    );
    assert_clean(&api);
    assert_no_secret(&second, &api);

    // Without reconcile the timer is turned off, not left running or duplicated.
    let third = deploy(&pkg, &zip2, &["--no-reconcile"], &env);
    let s = summary(&third);
    assert_eq!(
        s["triggers"],
        json!([{"name":"reconcile-hourly","type":"timer","action":"disabled"}])
    );
    let f = api
        .function("default", "mps-cos-backup")
        .expect("still there");
    assert_eq!(f.triggers[0].enable, "CLOSE");
    assert_eq!(f.triggers.len(), 3);
    assert_eq!(
        f.config["Role"], "archive-role",
        "an update without --role keeps the role"
    );
    assert_clean(&api);
}

/// A configuration runtime mode would refuse is never deployed: exit 2 naming the variable,
/// and not one request.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_configuration_makes_no_api_call() {
    let api = FakeDeployApi::start(FakeDeployOptions::default()).await;
    let pkg = Package::new("deploy-config");
    let (zip, _) = package_zip(&pkg, "ok.zip", b"\x7fELF");
    let cases: &[(&[(&str, &str)], &str)] = &[
        (&[("COS_BUCKET", "")], "COS_BUCKET"),
        (&[("COS_BUCKET", "no_appid")], "COS_BUCKET"),
        (
            &[("COS_KEY_TEMPLATE", "{prefix}{task_id}.json")],
            "COS_KEY_TEMPLATE",
        ),
        (&[("CALLBACK_TOKEN", "short")], "CALLBACK_TOKEN"),
        (
            &[("ARCHIVE_FORWARD", "scf:mps-cos-backup")],
            "ARCHIVE_FORWARD",
        ),
        (&[("ARCHIVE_UTC_OFFSET", "Beijing")], "ARCHIVE_UTC_OFFSET"),
        (&[("LOG_FORMAT", "xml")], "LOG_FORMAT"),
        (&[("TENCENTCLOUD_SECRETKEY", "")], "TENCENTCLOUD_SECRETKEY"),
        (&[("DEPLOY_SCF_ENDPOINT", "ftp://x")], "DEPLOY_SCF_ENDPOINT"),
    ];
    for (extra, var) in cases {
        let r = deploy(&pkg, &zip, &[], &shell(&api, extra));
        assert_eq!(r.out.status.code(), Some(2), "{extra:?}: {}", stderr(&r));
        let err = stderr(&r);
        assert_eq!(err.lines().count(), 1, "one line: {err}");
        assert!(err.contains(var), "{extra:?} should name {var}: {err}");
        assert!(r.out.stdout.is_empty());
    }
    for args in [
        &["--url"][..],
        &["--memory", "100"],
        &["--timeout", "901"],
        &["--region", "moon"],
    ] {
        let r = deploy(&pkg, &zip, args, &shell(&api, &[]));
        assert_eq!(r.out.status.code(), Some(2), "{args:?}: {}", stderr(&r));
    }
    assert_eq!(api.requests(), 0, "no request at all");
}

/// A zip SCF could not start is never uploaded: exit 2, not one request.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_zip_makes_no_api_call() {
    let api = FakeDeployApi::start(FakeDeployOptions::default()).await;
    let pkg = Package::new("deploy-zip");
    let write = |name: &str, bytes: Vec<u8>| {
        let p = pkg.dir().join(name);
        std::fs::write(&p, bytes).expect("write");
        p
    };
    let cases = [
        (
            write(
                "noexec.zip",
                zip(&[
                    ("bootstrap", 0o100_644, b"#!/bin/sh\n"),
                    ("mps-cos-backup", 0o100_755, b""),
                ]),
            ),
            "bootstrap is not an executable",
        ),
        (
            write(
                "nobin.zip",
                zip(&[("bootstrap", 0o100_755, b"#!/bin/sh\n")]),
            ),
            "no mps-cos-backup at its root",
        ),
        (
            write(
                "nested.zip",
                zip(&[
                    ("dist/bootstrap", 0o100_755, b""),
                    ("dist/mps-cos-backup", 0o100_755, b""),
                ]),
            ),
            "no bootstrap at its root",
        ),
        (
            write("text.zip", b"not a zip at all".to_vec()),
            "not a zip file",
        ),
        (pkg.dir().join("absent.zip"), "absent.zip"),
    ];
    for (path, want) in &cases {
        let r = deploy(&pkg, path, &[], &shell(&api, &[]));
        assert_eq!(r.out.status.code(), Some(2), "{}", stderr(&r));
        assert!(stderr(&r).contains(want), "{want}: {}", stderr(&r));
    }
    assert_eq!(api.requests(), 0);
}

/// `--plan` reads (GetFunction, ListTriggers, GetRole) and changes nothing, before and after
/// a deploy.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plan_changes_nothing() {
    let api = FakeDeployApi::start(FakeDeployOptions::default()).await;
    let pkg = Package::new("deploy-plan");
    let (zip, bytes) = package_zip(&pkg, "ok.zip", b"\x7fELF");
    let env = shell(&api, &[("CALLBACK_TOKEN", CALLBACK_TOKEN)]);
    let r = deploy(&pkg, &zip, &["--plan", "--create-role", "--url"], &env);
    let s = summary(&r);
    assert_eq!(s["plan"], true);
    assert_eq!(s["would_create"], true);
    let changes = s["changes"].to_string();
    assert!(
        changes.contains("create role mps-cos-backup-role"),
        "{changes}"
    );
    assert!(
        changes.contains("create function default/mps-cos-backup"),
        "{changes}"
    );
    assert!(changes.contains("reconcile-hourly"), "{changes}");
    assert!(api.function("default", "mps-cos-backup").is_none());
    assert!(api.roles().is_empty());
    let applied = api.applied();
    assert!(
        applied.iter().all(|a| READS.contains(&a.as_str())),
        "{applied:?}"
    );
    assert_no_secret(&r, &api);

    let made = deploy(&pkg, &zip, &["--create-role"], &env);
    summary(&made);
    let before = api.applied().len();
    let (zip2, _) = package_zip(&pkg, "two.zip", b"\x7fELF two");
    let r = deploy(&pkg, &zip2, &["--plan", "--create-role", "--url"], &env);
    let s = summary(&r);
    assert_eq!(s["would_update"], true);
    assert_eq!(
        s["triggers"],
        json!([{"name":"reconcile-hourly","type":"timer","action":"unchanged"},
               {"name":"function-url","type":"http","action":"would create"}])
    );
    let reads = &api.applied()[before..];
    assert!(
        reads.iter().all(|a| READS.contains(&a.as_str())),
        "{reads:?}"
    );
    let f = api.function("default", "mps-cos-backup").expect("deployed");
    assert_eq!(f.zip_base64, b64(&bytes), "the plan left the code alone");
    assert_eq!(f.triggers.len(), 1);
    assert_clean(&api);
}

/// `--create-role` creates one role trusting SCF with the policy derived from the
/// configuration, attaches it and gives it to the function; a second run reuses it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_role_makes_one_least_privilege_role() {
    let api = FakeDeployApi::start(FakeDeployOptions::default()).await;
    let pkg = Package::new("deploy-role");
    let (zip, _) = package_zip(&pkg, "ok.zip", b"\x7fELF");
    let env = shell(
        &api,
        &[
            ("COS_KEY_PREFIX", "mps/"),
            (
                "ARCHIVE_FORWARD",
                "scf:jobs/on-done:prod,https://hooks.example.com/x",
            ),
            ("FORWARD_SCF_REGION", "ap-shanghai"),
        ],
    );
    let first = deploy(
        &pkg,
        &zip,
        &["--create-role", "--function", "archiver"],
        &env,
    );
    let s = summary(&first);
    assert_eq!(s["role"], "archiver-role");
    let roles = api.roles();
    assert_eq!(roles.len(), 1);
    let role = &roles["archiver-role"];
    assert_eq!(
        role.trust,
        json!({"version":"2.0","statement":[{"action":"name/sts:AssumeRole","effect":"allow",
            "principal":{"service":["scf.qcloud.com"]}}]})
    );
    let policies = api.policies();
    assert_eq!(policies.len(), 1);
    let (id, (_, doc)) = policies.iter().next().expect("one policy");
    assert_eq!(role.policies, [*id]);
    assert_eq!(
        *doc,
        json!({"version":"2.0","statement":[
            {"effect":"allow","action":["name/cos:PutObject","name/cos:GetBucket"],
             "resource":["qcs::cos:ap-guangzhou:uid/1250000000:archive-1250000000/mps/*"]},
            {"effect":"allow","action":["name/scf:InvokeFunction"],
             "resource":["qcs::scf:ap-shanghai:uin/100000000001:namespace/jobs/function/on-done"]},
            {"effect":"allow","action":["name/mps:DescribeTasks","name/mps:DescribeTaskDetail"],
             "resource":["*"]}]})
    );
    let f = api.function("default", "archiver").expect("created");
    assert_eq!(f.config["Role"], "archiver-role");

    let second = deploy(
        &pkg,
        &zip,
        &["--create-role", "--function", "archiver", "--no-reconcile"],
        &env,
    );
    summary(&second);
    assert_eq!(api.roles().len(), 1);
    assert_eq!(api.policies().len(), 1);
    let count = |action: &str| api.applied().iter().filter(|a| *a == action).count();
    assert_eq!(count("CreateRole"), 1);
    assert_eq!(count("CreatePolicy"), 1);
    // The policy follows the configuration: without reconcile, no MPS reads.
    assert_eq!(count("UpdatePolicy"), 1);
    let (_, doc) = api.policies().into_values().next().expect("one policy");
    assert_eq!(doc["statement"].as_array().map(Vec::len), Some(2), "{doc}");
    assert!(!doc.to_string().contains("mps:"), "{doc}");
    // Nothing changed: nothing is written.
    let third = deploy(
        &pkg,
        &zip,
        &["--create-role", "--function", "archiver", "--no-reconcile"],
        &env,
    );
    summary(&third);
    assert_eq!(count("UpdatePolicy"), 1);
    assert_eq!(count("AttachRolePolicy"), 1);
    assert_clean(&api);
}

/// A role left without its policy (a run that stopped half-way, or made by hand) gets the
/// derived policy attached; nothing is created twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_role_completes_a_role_without_its_policy() {
    let api = FakeDeployApi::start(FakeDeployOptions {
        roles: vec!["mps-cos-backup-role".into()],
        ..Default::default()
    })
    .await;
    let pkg = Package::new("deploy-role-half");
    let (zip, _) = package_zip(&pkg, "ok.zip", b"\x7fELF");
    let r = deploy(&pkg, &zip, &["--create-role"], &shell(&api, &[]));
    summary(&r);
    let roles = api.roles();
    let policies = api.policies();
    assert_eq!(policies.len(), 1);
    let id = *policies.keys().next().expect("one policy");
    assert_eq!(roles["mps-cos-backup-role"].policies, [id]);
    assert_eq!(policies[&id].0, "mps-cos-backup-role-policy");
    assert!(!api.applied().iter().any(|a| a == "CreateRole"));
    assert_clean(&api);

    // A policy of that name left unattached is found, brought up to date and attached.
    let api = FakeDeployApi::start(FakeDeployOptions {
        policies: vec!["mps-cos-backup-role-policy".into()],
        ..Default::default()
    })
    .await;
    let r = deploy(&pkg, &zip, &["--create-role"], &shell(&api, &[]));
    summary(&r);
    let policies = api.policies();
    assert_eq!(policies.len(), 1);
    let (id, (_, doc)) = policies.iter().next().expect("one policy");
    assert!(doc.to_string().contains("name/cos:PutObject"), "{doc}");
    assert_eq!(api.roles()["mps-cos-backup-role"].policies, [*id]);
    assert_eq!(api.verification_failures(), Vec::<String>::new());
}

/// One call in ten fails transiently (throttling, internal errors), or changes are applied
/// but their answers lost: the deploy retries, takes a creation refused as existing after a
/// retry for done, and ends in the same state as without faults.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transient_failures_give_the_same_result() {
    let mut states = Vec::new();
    // Seeds 1 and 2 lose the answers of creations (role, policy, function, trigger) and of
    // updates of the function (and of their resends).
    for (rate, lost, seed) in [(0.0, 0.0, 11), (0.1, 0.0, 11), (0.0, 0.5, 1), (0.0, 0.5, 2)] {
        let api = FakeDeployApi::start(FakeDeployOptions {
            transient_rate: rate,
            lost_answer_rate: lost,
            seed,
            ..Default::default()
        })
        .await;
        let pkg = Package::new("deploy-faults");
        let (zip, _) = package_zip(&pkg, "ok.zip", b"\x7fELF");
        let env = shell(&api, &[("CALLBACK_TOKEN", CALLBACK_TOKEN)]);
        let mut summaries = Vec::new();
        for args in [
            &["--create-role", "--url"][..],
            &["--create-role", "--url"][..],
        ] {
            let r = deploy(&pkg, &zip, args, &env);
            summaries.push(summary(&r));
            assert_no_secret(&r, &api);
        }
        let faults = api.calls().iter().filter(|c| c.transient).count();
        let lost_answers = api.calls().iter().filter(|c| c.lost).count();
        if rate > 0.0 {
            assert!(faults >= 2, "the fake failed {faults} calls");
            println!("{faults} of {} calls failed transiently", api.calls().len());
            assert_clean(&api);
        }
        if lost > 0.0 {
            assert!(lost_answers >= 2, "the fake lost {lost_answers} answers");
            let which: Vec<String> = api
                .calls()
                .into_iter()
                .filter(|c| c.lost)
                .map(|c| c.action)
                .collect();
            println!("{lost_answers} answers lost after the change: {which:?}");
            assert_eq!(api.verification_failures(), Vec::<String>::new());
        }
        let f = api.function("default", "mps-cos-backup").expect("deployed");
        let vars = env_of(&f);
        states.push((
            summaries,
            f.status,
            f.zip_base64,
            vars,
            f.triggers,
            f.async_config,
            api.roles().keys().cloned().collect::<Vec<_>>(),
            api.policies()
                .values()
                .map(|(n, d)| (n.clone(), d.clone()))
                .collect::<Vec<_>>(),
        ));
    }
    for other in &states[1..] {
        assert_eq!(&states[0], other);
    }
}

/// A function that ends `CreateFailed` is an error naming its `StatusReasons`; an API
/// refusal is one line with the action, the code and the request id.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_are_one_line_with_what_the_api_said() {
    let api = FakeDeployApi::start(FakeDeployOptions {
        create_fails: Some((
            "UnknownError".into(),
            "bootstrap exited with code 127".into(),
        )),
        ..Default::default()
    })
    .await;
    let pkg = Package::new("deploy-fail");
    let (zip, _) = package_zip(&pkg, "ok.zip", b"\x7fELF");
    let r = deploy(&pkg, &zip, &[], &shell(&api, &[]));
    assert_eq!(r.out.status.code(), Some(1));
    let err = stderr(&r);
    let last = err.lines().last().unwrap_or("");
    assert!(
        last.contains("CreateFailed") && last.contains("bootstrap exited with code 127"),
        "{err}"
    );

    let api = FakeDeployApi::start(FakeDeployOptions::default()).await;
    let r = deploy(&pkg, &zip, &["--role", "no-such-role"], &shell(&api, &[]));
    assert_eq!(r.out.status.code(), Some(1));
    let err = stderr(&r);
    let last = err.lines().last().unwrap_or("");
    assert!(
        last.contains("CreateFunction")
            && last.contains("InvalidParameterValue.Role")
            && last.contains("request id fake-deploy-"),
        "{err}"
    );
    assert!(r.out.stdout.is_empty());
}

/// An API message that quotes the request (the environment with its secrets) is printed
/// with every secret masked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_echoed_by_the_api_are_masked() {
    let api = FakeDeployApi::start(FakeDeployOptions {
        echo_error: Some("CreateFunction".into()),
        ..Default::default()
    })
    .await;
    let pkg = Package::new("deploy-echo");
    let (zip, _) = package_zip(&pkg, "ok.zip", b"\x7fELF");
    let env = shell(
        &api,
        &[
            ("CALLBACK_TOKEN", CALLBACK_TOKEN),
            ("CALLBACK_NOTIFY_KEY", CALLBACK_NOTIFY_KEY),
            ("FORWARD_NOTIFY_KEY", FORWARD_NOTIFY_KEY),
        ],
    );
    let r = deploy(&pkg, &zip, &["--url"], &env);
    assert_eq!(r.out.status.code(), Some(1));
    let err = stderr(&r);
    let last = err.lines().last().unwrap_or("");
    assert!(
        last.contains("CreateFunction") && last.contains("InvalidParameterValue"),
        "{err}"
    );
    assert!(
        last.contains("CALLBACK_TOKEN") && last.contains("***"),
        "the echo is there: {err}"
    );
    assert_no_secret(&r, &api);
}

/// A function that stays `Creating` past the wait limit is an error naming its state.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_wait_for_active_has_a_limit() {
    let api = FakeDeployApi::start(FakeDeployOptions {
        transition: Duration::from_secs(30),
        ..Default::default()
    })
    .await;
    let pkg = Package::new("deploy-slow");
    let (zip, _) = package_zip(&pkg, "ok.zip", b"\x7fELF");
    let r = deploy(&pkg, &zip, &["--wait-limit-ms", "300"], &shell(&api, &[]));
    assert_eq!(r.out.status.code(), Some(1));
    let err = stderr(&r);
    assert!(
        err.lines()
            .last()
            .unwrap_or("")
            .contains("still Creating after"),
        "{err}"
    );
    assert!(r.secs < 10.0, "gave up in time: {} s", r.secs);
}
