//! The real binary, started through `bootstrap` as SCF starts it: usage, configuration
//! errors (one line naming the variable, exit 2, nothing posted) and `invoke`.
mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use common::binary::package;
use common::http::{serve, Reply, Response};

const SECRET_ID: &str = "AKIDcliTestSecretId0000000000000";
const SECRET_KEY: &str = "cliTestSecretKeyValue00000000000";
const TOKEN: &str = "cliTestSessionTokenValue";

fn bootstrap(pkg: &Path, args: &[&str], env: &[(&str, &str)], cwd: &Path) -> Output {
    let mut cmd = Command::new(pkg.join("bootstrap"));
    cmd.args(args)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .current_dir(cwd);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.stdin(Stdio::null()).output().unwrap()
}

fn good_env(api_host: &str, api_port: &str) -> Vec<(&'static str, String)> {
    vec![
        ("COS_BUCKET", "archive-1250000000".to_string()),
        ("COS_REGION", "ap-guangzhou".to_string()),
        ("TENCENTCLOUD_SECRETID", SECRET_ID.to_string()),
        ("TENCENTCLOUD_SECRETKEY", SECRET_KEY.to_string()),
        ("TENCENTCLOUD_SESSIONTOKEN", TOKEN.to_string()),
        ("SCF_RUNTIME_API", api_host.to_string()),
        ("SCF_RUNTIME_API_PORT", api_port.to_string()),
    ]
}

#[test]
fn help_and_version_exit_zero_and_unknown_arguments_exit_two() {
    let pkg = package();
    let out = bootstrap(&pkg, &["--help"], &[], &pkg);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("mps-cos-backup invoke"), "{text}");

    let out = bootstrap(&pkg, &["--version"], &[], &pkg);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("mps-cos-backup {}", env!("CARGO_PKG_VERSION"))
    );

    for args in [&["frobnicate"][..], &["--nope"], &["invoke", "--local"]] {
        let out = bootstrap(&pkg, args, &[], &pkg);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.lines().count(), 1, "one line: {err}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_configuration_error_is_one_line_exit_two_and_nothing_is_posted() {
    let hits = Arc::new(AtomicUsize::new(0));
    let seen = hits.clone();
    let api = serve(move |_req| {
        seen.fetch_add(1, Ordering::SeqCst);
        async { Reply::Send(Response::new(200, "")) }
    })
    .await;
    let host = api.addr.ip().to_string();
    let port = api.addr.port().to_string();
    let pkg = package();

    let cases: Vec<(&str, Option<&str>)> = vec![
        ("COS_BUCKET", None),
        ("COS_BUCKET", Some("no_appid")),
        ("COS_BUCKET", Some("UPPER-1250000000")),
        ("COS_REGION", Some("Guangzhou!")),
        ("COS_ENDPOINT", Some("ftp://example.com")),
        ("COS_ENDPOINT", Some("not a url")),
        ("COS_KEY_PREFIX", Some("/abs/")),
        ("COS_KEY_TEMPLATE", Some("{prefix}{task_id}.json")),
        ("COS_KEY_TEMPLATE", Some("{prefix}{bogus}{digest}")),
        ("COS_STORAGE_CLASS", Some("PLATINUM")),
        ("ARCHIVE_UTC_OFFSET", Some("+25:00")),
        ("ARCHIVE_UTC_OFFSET", Some("Beijing")),
        ("ARCHIVE_REDACT", Some("maybe")),
        ("LOG_FORMAT", Some("xml")),
        ("TENCENTCLOUD_SECRETID", None),
        ("TENCENTCLOUD_SECRETKEY", None),
        ("SCF_RUNTIME_API", None),
        ("SCF_RUNTIME_API_PORT", Some("http")),
    ];
    for (var, value) in cases {
        let mut env = good_env(&host, &port);
        env.retain(|(k, _)| *k != var);
        if let Some(v) = value {
            env.push((var, v.to_string()));
        }
        let pkg2 = pkg.clone();
        let out = tokio::task::spawn_blocking(move || {
            let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
            bootstrap(&pkg2, &[], &env, &pkg2)
        })
        .await
        .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(2), "{var}={value:?}: {stdout}");
        let lines: Vec<&str> = stdout.lines().collect();
        assert_eq!(
            lines.len(),
            1,
            "{var}={value:?}: exactly one log line, got {stdout}"
        );
        assert!(
            lines[0].contains(var),
            "{var}={value:?}: the line names the variable: {stdout}"
        );
        let line: serde_json::Value =
            serde_json::from_str(lines[0]).expect("JSON log line by default");
        assert_eq!(line["level"], "ERROR", "{stdout}");
        for secret in [SECRET_ID, SECRET_KEY, TOKEN] {
            assert!(!stdout.contains(secret), "{var}: secret in output");
        }
    }
    assert_eq!(
        hits.load(Ordering::SeqCst),
        0,
        "nothing may reach the runtime API before config is valid"
    );
}

#[test]
fn invoke_archives_fixtures_into_a_local_directory_without_credentials() {
    let pkg = package();
    let work = pkg.join("work");
    std::fs::create_dir_all(&work).unwrap();
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let mut files: Vec<String> = std::fs::read_dir(&fixtures)
        .unwrap()
        .map(|e| e.unwrap().path().display().to_string())
        .filter(|p| p.ends_with(".json"))
        .collect();
    files.sort();
    assert!(files.len() >= 12, "fixtures present");
    let bad = work.join("bad.json");
    std::fs::write(&bad, b"[1,2,3]").unwrap();
    let mut args = vec!["invoke"];
    args.extend(files.iter().map(String::as_str));
    args.push(bad.to_str().unwrap());

    let out = bootstrap(&pkg, &args, &[("ARCHIVE_UTC_OFFSET", "+08:00")], &work);
    assert_eq!(out.status.code(), Some(1), "one bad file makes exit 1");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON line per event"))
        .collect();
    assert_eq!(lines.len(), files.len() + 1, "{stdout}");
    for (line, file) in lines.iter().zip(&files) {
        assert_eq!(line["file"], file.as_str());
        assert_eq!(line["ok"], true, "{line}");
        let key = line["result"]["key"].as_str().unwrap();
        let stored = std::fs::read(work.join("local-cos").join(key)).expect("object file written");
        assert_eq!(
            stored.len() as u64,
            line["result"]["bytes"].as_u64().unwrap()
        );
        let record: serde_json::Value = serde_json::from_slice(&stored).unwrap();
        assert_eq!(record["schema"], "mps-cos-backup/record/v1");
        assert_eq!(
            record["event"],
            serde_json::from_slice::<serde_json::Value>(&std::fs::read(file).unwrap())
                .map(|mut v| {
                    mps_cos_backup::record::redact(&mut v);
                    v
                })
                .unwrap()
        );
    }
    let last = lines.last().unwrap();
    assert_eq!(last["ok"], false);
    assert_eq!(last["error"], "event is not a JSON object: got an array");

    // The same files again: same keys, no new objects.
    let count = |dir: &Path| walk(dir).len();
    let before = count(&work.join("local-cos"));
    let out = bootstrap(
        &pkg,
        &args[..args.len() - 1],
        &[("ARCHIVE_UTC_OFFSET", "+08:00")],
        &work,
    );
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        count(&work.join("local-cos")),
        before,
        "re-archiving makes no duplicates"
    );
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn a_configuration_error_is_logged_even_when_logging_is_off() {
    let pkg = package();
    for (filter_var, text) in [
        ("RUST_LOG", false),
        ("LOG_LEVEL", false),
        ("LOG_FORMAT", true),
    ] {
        let value = if text { "text" } else { "off" };
        let env = [
            (filter_var, value),
            (
                "RUST_LOG",
                if filter_var == "RUST_LOG" { "off" } else { "" },
            ),
            ("TENCENTCLOUD_SECRETID", SECRET_ID),
            ("TENCENTCLOUD_SECRETKEY", SECRET_KEY),
            ("SCF_RUNTIME_API", "127.0.0.1"),
            ("SCF_RUNTIME_API_PORT", "9"),
        ];
        let out = bootstrap(&pkg, &[], &env, &pkg);
        assert_eq!(out.status.code(), Some(2), "{filter_var}={value}");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let lines: Vec<&str> = stdout.lines().collect();
        assert_eq!(lines.len(), 1, "{filter_var}={value}: {stdout}");
        assert!(lines[0].contains("COS_BUCKET"), "{stdout}");
        assert_eq!(
            lines[0].starts_with('{'),
            !text,
            "format honoured: {stdout}"
        );
    }
}

#[test]
fn invoke_reads_stdin_for_dash_and_for_no_files() {
    use std::io::Write;
    let pkg = package();
    let work = pkg.join("stdin-work");
    std::fs::create_dir_all(&work).unwrap();
    for args in [&["invoke", "-"][..], &["invoke"]] {
        let mut child = Command::new(pkg.join("bootstrap"))
            .args(args)
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .current_dir(&work)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(br#"{"EventType":"EditMediaTask","EditMediaTaskEvent":{"TaskId":"t-1","Status":"FINISH"}}"#)
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{args:?}");
        let line: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(line["file"], "-");
        let key = line["result"]["key"].as_str().unwrap();
        assert!(
            key.starts_with("mps-events/EditMediaTask/") && key.contains("/t-1.finish."),
            "{key}"
        );
        assert!(work.join("local-cos").join(key).is_file());
    }
}
