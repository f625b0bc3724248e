//! `replay` through the binary against receivers that watch the order: one task's
//! callbacks are never in flight together and arrive in their order whatever
//! `--concurrency`, through failures and retries; SIGINT stops it cleanly.
mod common;

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::process::Output;
use std::time::Duration;

use serde_json::{json, Value};

use common::binary::{run_to_end as run, stderr_of as stderr, Binary, Package};
use common::order_hook::{OrderHook, OrderHookOptions};
use mps_cos_backup::digest::digest;

fn json_lines(o: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l:?}: {e}")))
        .collect()
}

/// Writes one record into the local mirror under `pkg` as `invoke` would (the key's
/// digest is the event's): task `task`, place `seq` in it, at `time` (UTC). Returns the
/// key.
fn put_record(pkg: &Package, task: &str, seq: u64, time: &str) -> String {
    let event = json!({
        "EventType": "WorkflowTask",
        "Seq": seq,
        "WorkflowTaskEvent": {"TaskId": task, "Status": "PROCESSING", "Seq": seq},
    });
    let d = digest(&event);
    let record = json!({
        "schema": "mps-cos-backup/record/v1",
        "event_type": "WorkflowTask",
        "task_id": task,
        "status": "PROCESSING",
        "outcome": "running",
        "source": "trigger",
        "event_time": time,
        "received_at": time,
        "event": event,
    });
    let date = &time[..10];
    let key = format!(
        "mps-events/WorkflowTask/{}/{task}.processing.running.{d}.json",
        date.replace('-', "/")
    );
    write_key(pkg.dir(), &key, &serde_json::to_vec(&record).unwrap());
    key
}

fn write_key(dir: &Path, key: &str, body: &[u8]) {
    let path = dir.join("local-cos").join(key);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, body).unwrap();
}

/// Six tasks of five callbacks each, their times interleaved across two days.
fn tasks(pkg: &Package) -> Vec<String> {
    let tasks: Vec<String> = (0..6).map(|t| format!("task-{t}")).collect();
    for (t, task) in tasks.iter().enumerate() {
        for seq in 0..5u64 {
            // task-t's callback seq at minute (seq * 10 + t): tasks interleave in time.
            let minute = seq * 10 + t as u64;
            let day = if seq < 3 { 24 } else { 25 };
            let time = format!("2026-11-{day}T{:02}:{:02}:00Z", 20 + seq % 3, minute % 60);
            put_record(pkg, task, seq, &time);
        }
    }
    tasks
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_tasks_callbacks_are_never_in_flight_together_and_arrive_in_order() {
    let pkg = Package::new("replay-order");
    let tasks = tasks(&pkg);
    let slow: HashMap<String, Duration> = [
        ("task-0".to_string(), Duration::from_millis(120)),
        ("task-3".to_string(), Duration::from_millis(60)),
    ]
    .into();
    let fail_first: HashSet<(String, u64)> = [
        ("task-0".to_string(), 1),
        ("task-2".to_string(), 0),
        ("task-2".to_string(), 3),
        ("task-5".to_string(), 4),
    ]
    .into();
    for concurrency in ["8", "3"] {
        let hook = OrderHook::start(OrderHookOptions {
            delay: Duration::from_millis(10),
            slow: slow.clone(),
            fail_first: fail_first.clone(),
        })
        .await;
        let out = run(
            &pkg,
            &["replay", "--to", &hook.url(), "--concurrency", concurrency],
            &[("ARCHIVE_UTC_OFFSET", "+00:00")],
        )
        .await;
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        assert_eq!(
            hook.overlaps(),
            Vec::<String>::new(),
            "--concurrency {concurrency}"
        );
        let delivered = hook.delivered();
        assert_eq!(delivered.len(), 30, "each callback delivered once");
        for task in &tasks {
            let seqs: Vec<u64> = delivered
                .iter()
                .filter(|(t, _)| t == task)
                .map(|(_, s)| *s)
                .collect();
            assert_eq!(
                seqs,
                [0, 1, 2, 3, 4],
                "{task} with --concurrency {concurrency}"
            );
        }
        assert!(hook.peak() > 1, "other tasks go on at the same time");
        let lines = json_lines(&out);
        assert_eq!(lines.len(), 30);
        let retried: Vec<&Value> = lines.iter().filter(|l| l["attempts"] == 2).collect();
        assert_eq!(retried.len(), 4, "{lines:?}");
        assert!(lines.iter().all(|l| l["ok"] == true));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigint_lets_the_sends_in_flight_finish_and_names_where_to_resume() {
    let pkg = Package::new("replay-sigint");
    for i in 0..20u64 {
        let time = format!("2026-11-24T10:{:02}:00Z", 59 - i);
        put_record(&pkg, &format!("task-{i:02}"), 0, &time);
    }
    let env = [("ARCHIVE_UTC_OFFSET", "+00:00")];
    let hook = OrderHook::start(OrderHookOptions {
        delay: Duration::from_millis(400),
        ..OrderHookOptions::default()
    })
    .await;
    let dry = run(&pkg, &["replay", "--to", &hook.url(), "--dry-run"], &env).await;
    let order: Vec<String> = json_lines(&dry)
        .iter()
        .map(|l| l["key"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(order.len(), 20);
    let bin = Binary::start_in(
        &pkg,
        &["replay", "--to", &hook.url(), "--concurrency", "4"],
        &env,
    );
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while hook.in_flight() < 4 {
        assert!(std::time::Instant::now() < deadline, "no sends started");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    bin.signal("INT");
    let out = tokio::task::spawn_blocking(move || bin.into_output(Duration::from_secs(60)))
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(130), "{}", stderr(&out));
    let lines = json_lines(&out);
    let sent: Vec<&str> = lines.iter().map(|l| l["key"].as_str().unwrap()).collect();
    // The ones in flight finished and were reported; nothing started after the signal.
    assert!((4..20).contains(&sent.len()), "{sent:?}");
    assert!(lines.iter().all(|l| l["ok"] == true), "{lines:?}");
    assert_eq!(hook.started(), sent.len());
    assert_eq!(hook.delivered().len(), sent.len());
    assert_eq!(hook.in_flight(), 0);
    let first_not_sent = order.iter().find(|k| !sent.contains(&k.as_str())).unwrap();
    let err = stderr(&out);
    assert!(
        err.contains(&format!("first record not sent: {first_not_sent}")),
        "{err}"
    );
    // The --since it names resumes exactly there: that record and every later one.
    let since = err
        .split("--since ")
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_string();
    assert!(since.starts_with("2026-11-24T10:"), "{err}");
    let resumed = run(
        &pkg,
        &[
            "replay",
            "--to",
            &hook.url(),
            "--dry-run",
            "--since",
            &since,
        ],
        &env,
    )
    .await;
    let pos = order.iter().position(|k| k == first_not_sent).unwrap();
    let keys: Vec<String> = json_lines(&resumed)
        .iter()
        .map(|l| l["key"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(keys, order[pos..]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_record_changed_after_archiving_is_reported_and_not_sent_unless_allowed() {
    let pkg = Package::new("replay-modified");
    let keys: Vec<String> = (0..3u64)
        .map(|i| {
            put_record(
                &pkg,
                &format!("task-{i}"),
                0,
                &format!("2026-11-24T10:0{i}:00Z"),
            )
        })
        .collect();
    // Someone edits the second record's event in place; its key keeps the old digest.
    let path = pkg.dir().join("local-cos").join(&keys[1]);
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(
        &path,
        text.replace(
            "\"Status\":\"PROCESSING\",\"TaskId\"",
            "\"Status\":\"FINISH\",\"TaskId\"",
        ),
    )
    .unwrap();
    assert_ne!(std::fs::read_to_string(&path).unwrap(), text);

    let out = run(&pkg, &["get", &keys[1]], &[] as &[(&str, &str)]).await;
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("is modified"), "{}", stderr(&out));
    assert_eq!(stderr(&out).lines().count(), 1);
    assert!(String::from_utf8_lossy(&out.stdout).contains("FINISH"));
    let out = run(&pkg, &["get", &keys[0]], &[] as &[(&str, &str)]).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));

    let env = [("FORWARD_NOTIFY_KEY", "notify-key-0123456789")];
    let hook = OrderHook::start(OrderHookOptions::default()).await;
    let out = run(&pkg, &["replay", "--to", &hook.url()], &env).await;
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let lines = json_lines(&out);
    let bad: Vec<&Value> = lines.iter().filter(|l| l["ok"] == false).collect();
    assert_eq!(bad.len(), 1, "{lines:?}");
    assert_eq!(bad[0]["key"], keys[1].as_str());
    assert_eq!(bad[0]["modified"], true, "{lines:?}");
    assert!(bad[0]["error"].as_str().unwrap().starts_with("modified"));
    assert_eq!(hook.delivered().len(), 2, "the modified record is not sent");

    let dry = run(&pkg, &["replay", "--to", &hook.url(), "--dry-run"], &env).await;
    assert!(stdout_has_modified(&dry, &keys[1]));

    let hook = OrderHook::start(OrderHookOptions::default()).await;
    let out = run(
        &pkg,
        &["replay", "--to", &hook.url(), "--allow-modified"],
        &env,
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let bodies = hook.bodies();
    assert_eq!(bodies.len(), 3);
    for b in &bodies {
        let modified = b["WorkflowTaskEvent"]["Status"] == "FINISH";
        // Records that match their key are signed anew; the modified one goes as stored.
        assert_eq!(b.get("Sign").is_none(), modified, "{b}");
    }
}

fn stdout_has_modified(o: &Output, key: &str) -> bool {
    json_lines(o)
        .iter()
        .any(|l| l["key"] == key && l["modified"] == true && l["ok"] == false)
}
