//! Where readers read from: a `--local` mirror that is not there is a usage error (for
//! `invoke` too, when given), a bucket with nothing under the prefix says so, and the
//! local mirror never follows a symbolic link. Through the binary.
mod common;

use common::binary::{run_to_end as run, stderr_of as stderr, Package};
use common::fake_cos::FakeCos;
use common::scf_platform::{cos_env, cos_options, BUCKET};

const FIXTURE: &str = include_str!("../fixtures/workflow-finish-success.json");

const NO_ENV: [(&str, &str); 0] = [];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_local_mirror_that_is_not_there_is_a_usage_error() {
    let pkg = Package::new("src-missing");
    let missing = pkg.dir().join("no-such-mirror");
    let file = pkg.dir().join("a-file");
    std::fs::write(&file, "x").unwrap();
    let key = "mps-events/WorkflowTask/2026/11/24/t.finish.ok.0000000000000001.json";
    for (path, why) in [(&missing, "no such directory"), (&file, "not a directory")] {
        let p = path.to_str().unwrap();
        for args in [
            vec!["ls", "--local", p],
            vec!["stats", "--local", p],
            vec!["get", key, "--local", p],
            vec![
                "replay",
                "--to",
                "http://127.0.0.1:9/",
                "--dry-run",
                "--local",
                p,
            ],
            vec!["invoke", "--local", p],
        ] {
            let out = run(&pkg, &args, &NO_ENV).await;
            assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
            let err = stderr(&out);
            assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
            assert!(
                err.contains(&format!("--local {p}: {why}")),
                "{args:?}: {err}"
            );
        }
    }
    assert!(!missing.exists(), "an explicit --local is never created");
    // The default mirror is: the first command of the README works on a fresh checkout.
    let out = run(&pkg, &["ls"], &NO_ENV).await;
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("--local ./local-cos: no such directory"));
    let event = pkg.dir().join("event.json");
    std::fs::write(&event, FIXTURE).unwrap();
    let out = run(&pkg, &["invoke", event.to_str().unwrap()], &NO_ENV).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(pkg.dir().join("local-cos").is_dir());
    let out = run(&pkg, &["ls", "--json"], &NO_ENV).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bucket_with_nothing_under_the_prefix_says_so() {
    let cos = FakeCos::start(cos_options()).await;
    let pkg = Package::new("src-empty");
    let env = cos_env(&cos);
    cos.insert_object("other-app/x.json", b"{}", "application/json");
    for args in [&["ls"][..], &["stats"], &["ls", "--type", "WorkflowTask"]] {
        let out = run(&pkg, args, &env).await;
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
        assert!(
            stderr(&out).contains(&format!(
                "bucket {BUCKET} holds nothing under the prefix \"mps-events/\""
            )),
            "{args:?}: {}",
            stderr(&out)
        );
    }
    // Filters that match nothing in a bucket that holds records are no such case.
    cos.insert_object(
        "mps-events/WorkflowTask/2026/11/24/t.finish.ok.0000000000000001.json",
        b"{\"event\":{}}",
        "application/json",
    );
    let out = run(
        &pkg,
        &["ls", "--since", "2020-01-01", "--until", "2020-01-02"],
        &env,
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(!stderr(&out).contains("holds nothing"), "{}", stderr(&out));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_local_mirror_never_follows_a_symbolic_link() {
    let pkg = Package::new("src-symlink");
    let outside = pkg.dir().join("outside");
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(outside.join("secret.json"), "{\"event\":{\"secret\":1}}").unwrap();
    std::fs::write(
        outside.join("t.finish.ok.0000000000000003.json"),
        "{\"event\":{}}",
    )
    .unwrap();
    let day = pkg
        .dir()
        .join("local-cos/mps-events/WorkflowTask/2026/11/24");
    std::fs::create_dir_all(&day).unwrap();
    std::fs::write(
        day.join("t.finish.ok.0000000000000001.json"),
        "{\"event\":{}}",
    )
    .unwrap();
    let linked = "mps-events/WorkflowTask/2026/11/24/t.finish.ok.0000000000000002.json";
    std::os::unix::fs::symlink(
        outside.join("secret.json"),
        pkg.dir().join("local-cos").join(linked),
    )
    .unwrap();
    std::os::unix::fs::symlink(
        &outside,
        pkg.dir()
            .join("local-cos/mps-events/WorkflowTask/2026/11/25"),
    )
    .unwrap();

    let out = run(&pkg, &["get", linked], &NO_ENV).await;
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("symbolic link"), "{}", stderr(&out));
    assert!(out.stdout.is_empty());
    let through_dir = "mps-events/WorkflowTask/2026/11/25/t.finish.ok.0000000000000003.json";
    let out = run(&pkg, &["get", through_dir], &NO_ENV).await;
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("symbolic link"), "{}", stderr(&out));

    let out = run(&pkg, &["ls", "--json"], &NO_ENV).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let listed = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(listed.lines().count(), 1, "{listed}");
    assert!(listed.contains("t.finish.ok.0000000000000001.json"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_indents_for_a_terminal_and_a_dry_run_needs_no_credentials() {
    let pkg = Package::new("src-tty");
    let event = pkg.dir().join("event.json");
    std::fs::write(&event, FIXTURE).unwrap();
    let out = run(&pkg, &["invoke", event.to_str().unwrap()], &NO_ENV).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let result: serde_json::Value =
        serde_json::from_slice(out.stdout.split(|b| *b == b'\n').next().unwrap()).unwrap();
    let key = result["result"]["key"].as_str().unwrap().to_string();

    // Through a pipe: the stored line.
    let piped = run(&pkg, &["get", &key], &NO_ENV).await;
    assert_eq!(piped.status.code(), Some(0), "{}", stderr(&piped));
    assert_eq!(String::from_utf8_lossy(&piped.stdout).lines().count(), 1);
    // On a terminal (script(1) gives the binary a pseudo-terminal): indented, same JSON.
    let bin = pkg.dir().join("mps-cos-backup");
    let cmd = format!("{} get {key}", bin.display());
    let tty = std::process::Command::new("script")
        .args(["-qec", &cmd, "/dev/null"])
        .current_dir(pkg.dir())
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .output()
        .expect("script(1)");
    assert!(
        tty.status.success(),
        "{}",
        String::from_utf8_lossy(&tty.stderr)
    );
    let shown = String::from_utf8_lossy(&tty.stdout).replace("\r\n", "\n");
    assert!(shown.lines().count() > 20, "{shown}");
    assert!(
        shown.contains("\n  \"schema\": \"mps-cos-backup/record/v1\",\n"),
        "{shown}"
    );
    let a: serde_json::Value = serde_json::from_str(&shown).unwrap();
    let b: serde_json::Value = serde_json::from_slice(&piped.stdout).unwrap();
    assert_eq!(a, b);

    // A dry run to an scf: target sends nothing, so it asks for no Cloud API settings.
    let out = run(
        &pkg,
        &["replay", "--to", "scf:media/on-mps-event", "--dry-run"],
        &NO_ENV,
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 1);
    assert!(
        stderr(&out).contains("1 record would be sent to scf:media/on-mps-event"),
        "{}",
        stderr(&out)
    );
    // Sending does.
    let out = run(&pkg, &["replay", "--to", "scf:media/on-mps-event"], &NO_ENV).await;
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}
