//! The real binary, started through `bootstrap` as SCF starts it: usage, configuration
//! errors (one line naming the variable, exit 2, nothing posted) and `invoke`.
mod common;

use std::error::Error;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::binary::{Binary, Package};
use common::fixtures;
use common::http::{serve, Reply, Response};
use common::scf_platform::{BUCKET, CREDENTIALS, REGION, SECRET_ID, SECRET_KEY, TOKEN};

type TestResult = Result<(), Box<dyn Error>>;

/// Every run here ends on its own in well under a second; this only bounds a hang.
const EXIT: Duration = Duration::from_secs(20);

/// Runs `bootstrap args...` in `pkg` to its end; the exit code and what it wrote are on the
/// returned value.
fn run(pkg: &Package, args: &[&str], env: &[(&str, &str)]) -> (Option<i32>, Binary) {
    let mut bin = Binary::start_in(pkg, args, env);
    let status = bin.wait_exit(EXIT).expect("bootstrap exits");
    (status.code(), bin)
}

fn good_env(api_host: &str, api_port: &str) -> Vec<(&'static str, String)> {
    vec![
        ("COS_BUCKET", BUCKET.to_string()),
        ("COS_REGION", REGION.to_string()),
        ("TENCENTCLOUD_SECRETID", SECRET_ID.to_string()),
        ("TENCENTCLOUD_SECRETKEY", SECRET_KEY.to_string()),
        ("TENCENTCLOUD_SESSIONTOKEN", TOKEN.to_string()),
        ("SCF_RUNTIME_API", api_host.to_string()),
        ("SCF_RUNTIME_API_PORT", api_port.to_string()),
    ]
}

#[test]
fn help_and_version_exit_zero_and_unknown_arguments_exit_two() {
    let pkg = Package::new("cli");
    let (code, bin) = run(&pkg, &["--help"], &[]);
    assert_eq!(code, Some(0));
    let text = bin.stdout_lines().join("\n");
    assert!(text.contains("mps-cos-backup invoke"), "{text}");

    let (code, bin) = run(&pkg, &["--version"], &[]);
    assert_eq!(code, Some(0));
    assert_eq!(
        bin.stdout_lines().join("\n").trim(),
        format!("mps-cos-backup {}", env!("CARGO_PKG_VERSION"))
    );

    for args in [&["frobnicate"][..], &["--nope"], &["invoke", "--local"]] {
        let (code, bin) = run(&pkg, args, &[]);
        assert_eq!(code, Some(2), "{args:?}");
        let err = bin.stderr_lines();
        assert_eq!(err.len(), 1, "one line: {err:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_configuration_error_is_one_line_exit_two_and_nothing_is_posted() -> TestResult {
    let hits = Arc::new(AtomicUsize::new(0));
    let seen = hits.clone();
    let api = serve(move |_req| {
        seen.fetch_add(1, Ordering::SeqCst);
        async { Reply::Send(Response::new(200, "")) }
    })
    .await;
    let host = api.addr.ip().to_string();
    let port = api.addr.port().to_string();
    let pkg = Package::new("cli");

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
        let mut bin = Binary::start_in(&pkg, &[], &env);
        let status = bin.wait_exit_async(EXIT).await.expect("bootstrap exits");
        let lines = bin.stdout_lines();
        let stdout = lines.join("\n");
        assert_eq!(status.code(), Some(2), "{var}={value:?}: {stdout}");
        assert_eq!(
            lines.len(),
            1,
            "{var}={value:?}: exactly one log line, got {stdout}"
        );
        assert!(
            lines[0].contains(var),
            "{var}={value:?}: the line names the variable: {stdout}"
        );
        let line: serde_json::Value = serde_json::from_str(&lines[0])?;
        assert_eq!(line["level"], "ERROR", "{stdout}");
        bin.assert_never_wrote(&CREDENTIALS);
    }
    assert_eq!(
        hits.load(Ordering::SeqCst),
        0,
        "nothing may reach the runtime API before config is valid"
    );
    Ok(())
}

#[test]
fn invoke_archives_fixtures_into_a_local_directory_without_credentials() -> TestResult {
    let pkg = Package::new("cli");
    // `invoke` writes below its working directory, the package folder.
    let local_cos = pkg.dir().join("local-cos");
    let files: Vec<String> = fixtures::paths()
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    let bad = pkg.dir().join("bad.json");
    std::fs::write(&bad, b"[1,2,3]")?;
    let mut args = vec!["invoke"];
    args.extend(files.iter().map(String::as_str));
    args.push(bad.to_str().ok_or("temp dir path is not UTF-8")?);

    let (code, bin) = run(&pkg, &args, &[("ARCHIVE_UTC_OFFSET", "+08:00")]);
    assert_eq!(code, Some(1), "one bad file makes exit 1");
    let stdout = bin.stdout_lines().join("\n");
    let lines = bin.json_lines();
    assert_eq!(lines.len(), files.len() + 1, "{stdout}");
    for (line, file) in lines.iter().zip(&files) {
        assert_eq!(line["file"], file.as_str());
        assert_eq!(line["ok"], true, "{line}");
        let key = line["result"]["key"].as_str().ok_or("result has a key")?;
        let stored = std::fs::read(local_cos.join(key))?;
        assert_eq!(Some(stored.len() as u64), line["result"]["bytes"].as_u64());
        let record: serde_json::Value = serde_json::from_slice(&stored)?;
        assert_eq!(record["schema"], "mps-cos-backup/record/v1");
        let mut event: serde_json::Value = serde_json::from_slice(&std::fs::read(file)?)?;
        mps_cos_backup::record::redact(&mut event);
        assert_eq!(record["event"], event);
    }
    let last = lines.last().ok_or("no output")?;
    assert_eq!(last["ok"], false);
    assert_eq!(last["error"], "event is not a JSON object: got an array");

    // The same files again: same keys, no new objects.
    let before = walk(&local_cos)?.len();
    let (code, _) = run(
        &pkg,
        &args[..args.len() - 1],
        &[("ARCHIVE_UTC_OFFSET", "+08:00")],
    );
    assert_eq!(code, Some(0));
    assert_eq!(
        walk(&local_cos)?.len(),
        before,
        "re-archiving makes no duplicates"
    );
    Ok(())
}

fn walk(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir)? {
        let p = e?.path();
        if p.is_dir() {
            out.extend(walk(&p)?);
        } else {
            out.push(p);
        }
    }
    Ok(out)
}

#[test]
fn a_configuration_error_is_logged_even_when_logging_is_off() {
    let pkg = Package::new("cli");
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
        let (code, bin) = run(&pkg, &[], &env);
        assert_eq!(code, Some(2), "{filter_var}={value}");
        let lines = bin.stdout_lines();
        let stdout = lines.join("\n");
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
fn invoke_reads_stdin_for_dash_and_for_no_files() -> TestResult {
    let pkg = Package::new("cli");
    let event =
        br#"{"EventType":"EditMediaTask","EditMediaTaskEvent":{"TaskId":"t-1","Status":"FINISH"}}"#;
    for args in [&["invoke", "-"][..], &["invoke"]] {
        let no_env: [(&str, &str); 0] = [];
        let mut bin = Binary::start_with_input(&pkg, args, &no_env, event);
        let status = bin.wait_exit(EXIT).ok_or("bootstrap did not exit")?;
        assert_eq!(status.code(), Some(0), "{args:?}");
        let lines = bin.json_lines();
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert_eq!(lines[0]["file"], "-");
        let key = lines[0]["result"]["key"]
            .as_str()
            .ok_or("result has a key")?;
        assert!(
            key.starts_with("mps-events/EditMediaTask/") && key.contains("/t-1.finish."),
            "{key}"
        );
        assert!(pkg.dir().join("local-cos").join(key).is_file());
    }
    Ok(())
}

/// `invoke` whose result lines cannot be written (a full disk) still archives every event,
/// then says so and exits 1: the results are lost, so the run did not succeed.
#[test]
fn invoke_with_an_output_that_cannot_be_written_exits_one() -> TestResult {
    let pkg = Package::new("cli-full");
    let local = pkg.dir().join("mirror");
    // An explicit --local must exist.
    std::fs::create_dir_all(&local)?;
    let event = pkg.dir().join("event.json");
    std::fs::write(&event, serde_json::to_vec(&fixtures::json("minimal.json"))?)?;
    let full = std::fs::OpenOptions::new().write(true).open("/dev/full")?;
    let out = std::process::Command::new(pkg.dir().join("bootstrap"))
        .args(["invoke", "--local"])
        .arg(&local)
        .arg(&event)
        .current_dir(pkg.dir())
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .stdout(full)
        .output()?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("cannot write the output"), "{stderr}");
    assert_eq!(walk(&local)?.len(), 1, "the event is archived all the same");
    Ok(())
}

/// `help` and `help COMMAND` work as `--help` does; every command's help has an example and
/// names the environment variables it reads.
#[test]
fn help_subcommand_and_each_commands_help_has_examples_and_its_environment() {
    let pkg = Package::new("cli-help");
    let (code, bin) = run(&pkg, &["help"], &[]);
    assert_eq!(code, Some(0), "{}", bin.output_tail(3));
    let text = bin.stdout_lines().join("\n");
    for cmd in ["invoke", "ls", "get", "stats", "replay", "deploy"] {
        assert!(text.contains(&format!("  {cmd} ")), "{cmd}: {text}");
    }
    // Each command's variables, beyond the bucket and the credentials every one reads.
    let own: [(&str, &[&str]); 6] = [
        ("invoke", &["ARCHIVE_FORWARD", "COS_KEY_TEMPLATE"]),
        ("ls", &["COS_KEY_PREFIX", "ARCHIVE_UTC_OFFSET"]),
        ("get", &["COS_REGION"]),
        ("stats", &["COS_KEY_TEMPLATE"]),
        (
            "replay",
            &[
                "FORWARD_NOTIFY_KEY",
                "FORWARD_SCF_ENDPOINT",
                "FORWARD_SCF_REGION",
            ],
        ),
        (
            "deploy",
            &[
                "TENCENTCLOUD_REGION",
                "DEPLOY_SCF_ENDPOINT",
                "DEPLOY_CAM_ENDPOINT",
            ],
        ),
    ];
    for (cmd, vars) in own {
        let (code, by_flag) = run(&pkg, &[cmd, "--help"], &[]);
        assert_eq!(code, Some(0), "{cmd} --help");
        let (code, by_help) = run(&pkg, &["help", cmd], &[]);
        assert_eq!(code, Some(0), "help {cmd}");
        let text = by_flag.stdout_lines().join("\n");
        assert_eq!(text, by_help.stdout_lines().join("\n"), "help {cmd}");
        assert!(
            text.contains(&format!("Usage: mps-cos-backup {cmd}")),
            "{text}"
        );
        assert!(text.contains("Examples:"), "{cmd}: {text}");
        assert!(
            text.contains(&format!("\n  mps-cos-backup {cmd} ")),
            "{cmd}: an example of the command itself: {text}"
        );
        for var in [
            "COS_BUCKET",
            "TENCENTCLOUD_SECRETID",
            "TENCENTCLOUD_SECRETKEY",
        ]
        .iter()
        .chain(vars)
        {
            assert!(text.contains(var), "{cmd} --help names {var}: {text}");
        }
    }
    let (code, bin) = run(&pkg, &["help", "frobnicate"], &[]);
    assert_eq!(code, Some(2), "{}", bin.output_tail(3));
}
