//! The archive readers (`ls`, `get`, `stats`, `replay --dry-run`) over a local mirror that
//! the binary itself wrote with `invoke --local`, exactly as an operator would use them.

mod common;

use std::process::Output;
use std::time::Duration;

use serde_json::Value;

use common::binary::{Binary, Package};
use common::fixtures;
const FIXTURE: &str = include_str!("../fixtures/workflow-finish-success.json");

/// A fresh package folder (bootstrap beside the binary); the binary's working directory,
/// so `./local-cos` is inside it.
fn workdir(tag: &str) -> Package {
    Package::new(&format!("read-{tag}"))
}

/// Runs `bootstrap args...` in `pkg` with exactly `env` (plus PATH) to its end; its output
/// as a process `Output`.
fn run(pkg: &Package, args: &[&str], env: &[(&str, &str)]) -> Output {
    Binary::start_in(pkg, args, env).into_output(Duration::from_secs(120))
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn json_lines(o: &Output) -> Vec<Value> {
    stdout(o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l:?}: {e}")))
        .collect()
}

/// A WorkflowTask callback of `task` with `status`, finished on `date` (UTC, 08:xx).
fn event(task: &str, date: &str, status: &str) -> String {
    let orig_task = "1253112233-WorkflowTask-ad5061d07ac0942454541884ba6a770ft2";
    let task = serde_json::to_string(task).unwrap();
    FIXTURE
        .replace(&format!("\"{orig_task}\""), &task)
        .replace("2026-03-14T", &format!("{date}T"))
        .replacen(
            "\"Status\": \"FINISH\"",
            &format!("\"Status\": \"{status}\""),
            1,
        )
}

/// Archives `events` into `dir/local-cos` through `invoke`, with `env`.
fn archive(dir: &Package, events: &[String], env: &[(&str, &str)]) {
    let mut args = vec!["invoke".to_string()];
    for (i, e) in events.iter().enumerate() {
        let f = dir.dir().join(format!("event-{i}.json"));
        std::fs::write(&f, e).unwrap();
        args.push(f.display().to_string());
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = run(dir, &args, env);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

const OFFSET: (&str, &str) = ("ARCHIVE_UTC_OFFSET", "+08:00");

fn sample(dir: &Package) {
    archive(
        dir,
        &[
            event("task-a", "2026-11-23", "FINISH"),
            event("task-a", "2026-11-24", "PROCESSING"),
            event("task-b", "2026-11-24", "FINISH"),
            event("任务 & 100% done", "2026-11-24", "FINISH"),
            event("task-c", "2026-11-25", "FAIL"),
            event("task-d", "2026-12-01", "FINISH"),
        ],
        &[OFFSET],
    );
    // An EditMediaTask: no time of its own, so dated by its receipt.
    let edit = include_str!("../fixtures/editmedia-finish-success.json");
    archive(dir, &[edit.to_string()], &[OFFSET]);
}

fn keys(lines: &[Value]) -> Vec<String> {
    lines
        .iter()
        .map(|l| l["key"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn ls_lists_every_callback_by_date_then_key_with_all_fields() {
    let dir = workdir("ls");
    sample(&dir);
    let out = run(&dir, &["ls", "--json"], &[OFFSET]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 7, "{}", stdout(&out));
    let mut sorted = lines.clone();
    sorted.sort_by(|a, b| {
        (a["date"].as_str(), a["key"].as_str()).cmp(&(b["date"].as_str(), b["key"].as_str()))
    });
    assert_eq!(sorted, lines, "ordered by date then key");
    for l in &lines {
        let key = l["key"].as_str().unwrap();
        let file = dir.dir().join("local-cos").join(key);
        assert_eq!(
            l["size"].as_u64(),
            Some(std::fs::metadata(&file).unwrap().len())
        );
        assert!(l["last_modified"].as_str().unwrap().ends_with('Z'));
        let date = l["date"].as_str().unwrap().replace('-', "/");
        assert!(key.contains(&date), "{key} {date}");
        for f in ["event_type", "task_id", "status", "outcome", "digest"] {
            assert!(l[f].is_string(), "{f} in {l}");
        }
        assert!(key.contains(&format!(
            "{}.{}.{}.{}.json",
            l["task_id"].as_str().unwrap(),
            l["status"].as_str().unwrap(),
            l["outcome"].as_str().unwrap(),
            l["digest"].as_str().unwrap()
        )));
    }
    let task = lines
        .iter()
        .find(|l| l["key"].as_str().unwrap().contains("done"))
        .unwrap();
    assert_eq!(task["task_id"], "_____100__done", "as in the key");

    // The text form: an aligned table, one line per callback after the header.
    let out = run(&dir, &["ls"], &[OFFSET]);
    let text = stdout(&out);
    let rows: Vec<&str> = text.lines().collect();
    assert_eq!(rows.len(), 8, "{text}");
    assert!(rows[0].starts_with("DATE"), "{text}");
    let outcome_col = rows[0].find("OUTCOME").unwrap();
    for (row, l) in rows[1..].iter().zip(&lines) {
        let cell = row[outcome_col..].split(' ').next().unwrap();
        assert_eq!(cell, l["outcome"].as_str().unwrap(), "{text}");
    }
    let key_col = rows[0].find("KEY").unwrap();
    for (row, key) in rows[1..].iter().zip(keys(&lines)) {
        assert_eq!(&row[key_col..], key, "{text}");
    }
    assert!(stderr(&out).contains("7 callbacks"), "{}", stderr(&out));
}

#[test]
fn filters_select_by_date_type_status_and_task() {
    let dir = workdir("filters");
    sample(&dir);
    let ls = |args: &[&str]| {
        let mut a = vec!["ls", "--json"];
        a.extend_from_slice(args);
        let out = run(&dir, &a, &[OFFSET]);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
        json_lines(&out)
    };
    let day = ls(&["--since", "2026-11-24", "--until", "2026-11-24"]);
    assert_eq!(day.len(), 3);
    assert!(day.iter().all(|l| l["date"] == "2026-11-24"));
    let typed = ls(&[
        "--since",
        "2026-11-24",
        "--until",
        "2026-11-24",
        "--type",
        "WorkflowTask",
    ]);
    assert_eq!(keys(&typed), keys(&day));
    assert_eq!(ls(&["--type", "EditMediaTask"]).len(), 1);
    assert_eq!(
        ls(&["--type", "EditMediaTask", "--type", "WorkflowTask"]).len(),
        7
    );
    let finished = ls(&["--status", "FINISH"]);
    assert!(finished.iter().all(|l| l["status"] == "finish"));
    assert_eq!(finished.len(), 5);
    assert_eq!(ls(&["--status", "fail"]).len(), 1);
    // A task id as the event has it, or as the key shows it.
    assert_eq!(ls(&["--task", "任务 & 100% done"]).len(), 1);
    assert_eq!(ls(&["--task", "_____100__done"]).len(), 1);
    assert_eq!(ls(&["--task", "task-a"]).len(), 2);
    // The EditMediaTask fixture is dated by its receipt (today): compare with the full list.
    let all = ls(&[]);
    let between = |lo: &str, hi: &str| -> Vec<String> {
        keys(&all)
            .into_iter()
            .zip(&all)
            .filter(|(_, l)| {
                let d = l["date"].as_str().unwrap();
                d >= lo && d <= hi
            })
            .map(|(k, _)| k)
            .collect()
    };
    for (args, lo, hi) in [
        (&["--since", "2026-11-25"][..], "2026-11-25", "9999-12-31"),
        (&["--until", "2026-11-23"], "0000-01-01", "2026-11-23"),
        (
            &["--since", "2026-12-01", "--until", "2026-12-31"],
            "2026-12-01",
            "2026-12-31",
        ),
        (&["--since", "2030-01-01"], "2030-01-01", "9999-12-31"),
        (
            &["--since", "2025-11-24", "--until", "2026-11-24"],
            "2025-11-24",
            "2026-11-24",
        ),
    ] {
        assert_eq!(keys(&ls(args)), between(lo, hi), "{args:?}");
    }
    assert_eq!(between("2026-11-23", "2026-11-23").len(), 1);
}

#[test]
fn stats_add_up_to_ls() {
    let dir = workdir("stats");
    sample(&dir);
    for filter in [
        &[][..],
        &["--since", "2026-11-24"],
        &["--type", "WorkflowTask"],
    ] {
        let mut a = vec!["stats", "--json"];
        a.extend_from_slice(filter);
        let rows = json_lines(&run(&dir, &a, &[OFFSET]));
        let mut a = vec!["ls", "--json"];
        a.extend_from_slice(filter);
        let listed = json_lines(&run(&dir, &a, &[OFFSET]));
        let total: u64 = rows.iter().map(|r| r["count"].as_u64().unwrap()).sum();
        assert_eq!(total, listed.len() as u64, "{filter:?}");
        for r in &rows {
            let n = listed
                .iter()
                .filter(|l| {
                    l["date"] == r["date"]
                        && l["event_type"] == r["event_type"]
                        && l["status"] == r["status"]
                        && l["outcome"] == r["outcome"]
                })
                .count();
            assert_eq!(r["count"].as_u64(), Some(n as u64), "{r}");
        }
    }
    let out = run(&dir, &["stats"], &[OFFSET]);
    let text = stdout(&out);
    assert!(text.starts_with("DATE"), "{text}");
    let last = text.lines().last().unwrap();
    assert!(last.starts_with("total") && last.ends_with(" 7"), "{text}");
}

/// Archives every bundled fixture into `dir/local-cos` with `invoke`, as README "Set up" does.
fn invoke_fixtures(dir: &Package, env: &[(&str, &str)]) {
    let mut args = vec!["invoke".to_string()];
    args.extend(fixtures::paths().iter().map(|p| p.display().to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = run(dir, &args, env);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

/// Task ids of the fixtures whose tasks did not wholly succeed, by outcome.
const FAILED_TASK: &str = "1253112233-EditMediaTask-10de24f231a4fff540dc1fd0080c2797t2"; // editmedia-finish-failed
const PARTIAL_TASKS: [&str; 2] = [
    "1253112233-WorkflowTask-50ba7adcf1eedb6ac748ff0de751c22dt2", // workflow-finish-subtask-failed
    "1253112233-WorkflowTask-88b9bb84f363bfdc72563cfc8bf7ddd7t2", // workflow-ai-review
];

fn task_ids(lines: &[Value]) -> Vec<String> {
    let mut ids: Vec<String> = lines
        .iter()
        .map(|l| l["task_id"].as_str().unwrap_or("?").to_string())
        .collect();
    ids.sort();
    ids
}

#[test]
fn what_failed_is_a_listing_of_the_keys() {
    let dir = workdir("failed");
    invoke_fixtures(&dir, &[]);
    let ls = |args: &[&str]| {
        let mut a = vec!["ls", "--json"];
        a.extend_from_slice(args);
        let out = run(&dir, &a, &[]);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
        // The key says it: no record is read.
        assert!(!stderr(&out).contains("is read"), "{}", stderr(&out));
        json_lines(&out)
    };
    let mut want: Vec<String> = PARTIAL_TASKS.iter().map(|t| t.to_string()).collect();
    want.push(FAILED_TASK.to_string());
    want.sort();
    let failed = ls(&["--failed"]);
    assert_eq!(task_ids(&failed), want);
    for l in &failed {
        let o = l["outcome"].as_str().unwrap();
        assert!(o == "failed" || o == "partial", "{l}");
        assert!(
            l["key"].as_str().unwrap().contains(&format!(".{o}.")),
            "{l}"
        );
    }
    // The same set, however it is asked for.
    for args in [
        &["--outcome", "failed,partial"][..],
        &["--outcome", "PARTIAL", "--outcome", "Failed"],
        &["--outcome", "failed", "--failed"],
    ] {
        assert_eq!(task_ids(&ls(args)), want, "{args:?}");
    }
    assert_eq!(task_ids(&ls(&["--outcome", "failed"])), [FAILED_TASK]);
    let running = ls(&["--outcome", "running"]);
    assert_eq!(running.len(), 1);
    assert_eq!(running[0]["status"], "processing");
    // With the other filters: the failed fixture of one type and day.
    let day = failed
        .iter()
        .find(|l| l["task_id"] == PARTIAL_TASKS[0])
        .unwrap()["date"]
        .as_str()
        .unwrap()
        .to_string();
    let one = ls(&[
        "--failed",
        "--type",
        "WorkflowTask",
        "--since",
        &day,
        "--until",
        &day,
    ]);
    assert_eq!(task_ids(&one), [PARTIAL_TASKS[0]]);

    // The record says the same, and that `invoke` archived it.
    let key = ls(&["--outcome", "failed"])[0]["key"]
        .as_str()
        .unwrap()
        .to_string();
    let record: Value = serde_json::from_slice(&run(&dir, &["get", &key], &[]).stdout).unwrap();
    assert_eq!(
        (&record["outcome"], &record["source"]),
        (&Value::from("failed"), &Value::from("invoke"))
    );

    // Counts per outcome: stats agrees with ls on every row.
    let rows = json_lines(&run(&dir, &["stats", "--json"], &[]));
    let count = |o: &str| -> u64 {
        rows.iter()
            .filter(|r| r["outcome"] == o)
            .map(|r| r["count"].as_u64().unwrap())
            .sum()
    };
    let all = ls(&[]);
    for o in ["ok", "failed", "partial", "running", "unknown"] {
        let n = all.iter().filter(|l| l["outcome"] == o).count() as u64;
        assert_eq!(count(o), n, "{o}");
    }
    assert_eq!(
        (count("failed"), count("partial"), count("running")),
        (1, 2, 1)
    );
    assert_eq!(
        count("unknown"),
        2,
        "minimal (no Status) and the untyped LiveScheduleTask"
    );
    let rows = json_lines(&run(&dir, &["stats", "--json", "--failed"], &[]));
    assert!(rows
        .iter()
        .all(|r| r["outcome"] == "failed" || r["outcome"] == "partial"));
    let text = stdout(&run(&dir, &["stats", "--failed"], &[]));
    assert!(text.lines().next().unwrap().contains("OUTCOME"), "{text}");
    assert!(text.lines().last().unwrap().ends_with(" 3"), "{text}");

    // replay shares the filter.
    let out = run(
        &dir,
        &[
            "replay",
            "--to",
            "http://127.0.0.1:9/never",
            "--dry-run",
            "--failed",
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let mut sent: Vec<String> = json_lines(&out)
        .iter()
        .map(|l| l["key"].as_str().unwrap().to_string())
        .collect();
    sent.sort();
    let mut failed_keys: Vec<String> = failed
        .iter()
        .map(|l| l["key"].as_str().unwrap().to_string())
        .collect();
    failed_keys.sort();
    assert_eq!(sent, failed_keys);

    // A value that is not an outcome: one line naming the five.
    let out = run(&dir, &["ls", "--outcome", "fail"], &[]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("ok, failed, partial, running, unknown"),
        "{err}"
    );
}

/// Every reader example of README.md, run as printed on the mirror `invoke fixtures/*.json`
/// writes, finds something: the examples and the bundled samples agree. (Examples that
/// would send, and the `KEY` placeholder, are left out.)
#[test]
fn readme_examples_run_on_the_bundled_fixtures() {
    let dir = workdir("readme");
    invoke_fixtures(&dir, &[]);
    let readme = include_str!("../README.md");
    let mut ran = 0;
    for line in readme.lines() {
        let Some(cmd) = line.strip_prefix("mps-cos-backup ") else {
            continue;
        };
        let cmd = cmd.split(" #").next().unwrap_or(cmd);
        let args: Vec<&str> = cmd.split_whitespace().collect();
        let sends = args[0] == "replay" && !args.contains(&"--dry-run");
        // reconcile asks MPS, which needs credentials and an endpoint: tests/reconcile.rs.
        if sends || args.contains(&"KEY") || args[0] == "invoke" || args[0] == "reconcile" {
            continue;
        }
        let out = run(&dir, &args, &[]);
        assert_eq!(out.status.code(), Some(0), "{cmd}: {}", stderr(&out));
        let text = stdout(&out);
        let rows = if args.contains(&"--json") || args[0] == "get" || args[0] == "replay" {
            text.lines().count()
        } else {
            // A table: rows after the header.
            text.lines().count().saturating_sub(1)
        };
        assert!(rows > 0, "{cmd} found nothing: {text} {}", stderr(&out));
        ran += 1;
    }
    assert!(ran >= 7, "README reader examples found: {ran}");
}

#[test]
fn an_archive_of_the_old_layout_is_filtered_by_reading_its_records() {
    const OLD: &str = "{prefix}{event_type}/{yyyy}/{mm}/{dd}/{task_id}.{status}.{digest}.json";
    let dir = workdir("old-layout");
    let env = [("COS_KEY_TEMPLATE", OLD)];
    invoke_fixtures(&dir, &env);
    let ls = |args: &[&str]| {
        let mut a = vec!["ls", "--json"];
        a.extend_from_slice(args);
        let out = run(&dir, &a, &env);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
        out
    };
    // Without an outcome filter nothing is read and the outcome is not known.
    let out = ls(&[]);
    let all = json_lines(&out);
    assert_eq!(all.len(), fixtures::paths().len());
    assert!(
        all.iter().all(|l| l["outcome"].is_null()),
        "{}",
        stdout(&out)
    );
    assert!(!all[0]["key"].as_str().unwrap().contains(".ok."));
    assert!(!stderr(&out).contains("is read"), "{}", stderr(&out));

    // A record of a version without outcomes: the outcome comes from its event.
    let failed_key = all.iter().find(|l| l["task_id"] == FAILED_TASK).unwrap()["key"]
        .as_str()
        .unwrap()
        .to_string();
    let file = dir.dir().join("local-cos").join(&failed_key);
    let mut record: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    let fields = record.as_object_mut().unwrap();
    assert!(fields.remove("outcome").is_some() && fields.remove("source").is_some());
    std::fs::write(&file, serde_json::to_vec(&record).unwrap()).unwrap();

    let out = ls(&["--outcome", "failed"]);
    let lines = json_lines(&out);
    assert_eq!(task_ids(&lines), [FAILED_TASK]);
    assert_eq!(lines[0]["outcome"], "failed");
    let err = stderr(&out);
    assert_eq!(
        err.matches("COS_KEY_TEMPLATE has no {outcome}").count(),
        1,
        "said once: {err}"
    );
    assert!(err.contains("record of each candidate is read"), "{err}");

    let failed = json_lines(&ls(&["--failed"]));
    let mut want: Vec<String> = PARTIAL_TASKS.iter().map(|t| t.to_string()).collect();
    want.push(FAILED_TASK.to_string());
    want.sort();
    assert_eq!(task_ids(&failed), want);
    assert!(failed.iter().all(|l| l["outcome"].is_string()));

    // stats reads them the same way; a record that cannot be read is left out and counted.
    let rows = json_lines(&run(&dir, &["stats", "--json", "--failed"], &env));
    let total: u64 = rows.iter().map(|r| r["count"].as_u64().unwrap()).sum();
    assert_eq!(total, 3);
    std::fs::write(&file, b"{\"outcome\":").unwrap();
    let out = run(&dir, &["stats", "--json", "--failed"], &env);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let total: u64 = json_lines(&out)
        .iter()
        .map(|r| r["count"].as_u64().unwrap())
        .sum();
    assert_eq!(total, 2);
    assert!(
        stderr(&out).contains("left out 1 record whose outcome could not be read"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn get_prints_the_record_or_its_event_exactly() {
    let dir = workdir("get");
    sample(&dir);
    let lines = json_lines(&run(&dir, &["ls", "--json", "--task", "task-b"], &[OFFSET]));
    let key = lines[0]["key"].as_str().unwrap();
    let stored = std::fs::read(dir.dir().join("local-cos").join(key)).unwrap();
    let out = run(&dir, &["get", key], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(out.stdout.trim_ascii_end(), stored.trim_ascii_end());
    let out = run(&dir, &["get", key, "--event"], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let record: Value = serde_json::from_slice(&stored).unwrap();
    let event: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(event, record["event"]);
    assert_eq!(event["WorkflowTaskEvent"]["TaskId"], "task-b");
}

#[test]
fn keys_with_spaces_ampersands_percents_and_cjk_are_read_back() {
    let dir = workdir("odd");
    let prefix = "归档 a&b%20c/";
    let env = [OFFSET, ("COS_KEY_PREFIX", prefix)];
    archive(&dir, &[event("t1", "2026-11-24", "FINISH")], &env);
    let out = run(&dir, &["ls", "--json", "--since", "2026-11-24"], &env);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 1);
    let key = lines[0]["key"].as_str().unwrap();
    assert!(
        key.starts_with("归档 a&b%20c/WorkflowTask/2026/11/24/t1.finish."),
        "{key}"
    );
    let out = run(&dir, &["get", key, "--event"], &env);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // Under the default prefix nothing is there.
    let out = run(&dir, &["ls", "--json"], &[OFFSET]);
    assert_eq!(json_lines(&out).len(), 0);
}

#[test]
fn a_callback_redelivered_across_midnight_is_listed_once() {
    let dir = workdir("midnight");
    sample(&dir);
    let lines = json_lines(&run(&dir, &["ls", "--json", "--task", "task-b"], &[OFFSET]));
    let key = lines[0]["key"].as_str().unwrap().to_string();
    let copy = key.replace("/2026/11/24/", "/2026/11/25/");
    let root = dir.dir().join("local-cos");
    std::fs::create_dir_all(root.join(&copy).parent().unwrap()).unwrap();
    std::fs::copy(root.join(&key), root.join(&copy)).unwrap();

    let out = run(&dir, &["ls", "--json"], &[OFFSET]);
    let all = keys(&json_lines(&out));
    assert_eq!(all.len(), 7, "still 7 callbacks");
    assert!(all.contains(&key) && !all.contains(&copy));
    assert!(
        stderr(&out).contains("left out 1 key repeating a digest"),
        "{}",
        stderr(&out)
    );
    let rows = json_lines(&run(&dir, &["stats", "--json"], &[OFFSET]));
    assert_eq!(
        rows.iter()
            .map(|r| r["count"].as_u64().unwrap())
            .sum::<u64>(),
        7
    );
    // The day after, alone, shows the copy.
    let out = run(
        &dir,
        &[
            "ls",
            "--json",
            "--since",
            "2026-11-25",
            "--until",
            "2026-11-25",
        ],
        &[OFFSET],
    );
    assert!(keys(&json_lines(&out)).contains(&copy));
}

#[test]
fn bad_input_gets_one_clear_line() {
    let dir = workdir("bad");
    sample(&dir);
    let one_line = |o: &Output, code: i32, needle: &str| {
        let err = stderr(o);
        assert_eq!(o.status.code(), Some(code), "{err}");
        assert_eq!(err.lines().count(), 1, "one line: {err}");
        assert!(err.contains(needle), "{needle:?} in {err}");
    };
    for bad in ["2026-02-30", "2026/11/24", "24-11-2026", "yesterday"] {
        let out = run(&dir, &["ls", "--since", bad], &[]);
        one_line(&out, 2, "expected YYYY-MM-DD");
        let out = run(&dir, &["stats", "--until", bad], &[]);
        one_line(&out, 2, &format!("{bad:?}"));
    }
    let out = run(
        &dir,
        &["ls", "--since", "2026-11-25", "--until", "2026-11-24"],
        &[],
    );
    one_line(&out, 2, "--since 2026-11-25 is after --until 2026-11-24");
    let out = run(&dir, &["ls", "--bogus"], &[]);
    one_line(&out, 2, "--bogus");
    let out = run(&dir, &["get"], &[]);
    one_line(&out, 2, "KEY");

    let out = run(
        &dir,
        &["get", "mps-events/WorkflowTask/2026/11/24/nope.json"],
        &[],
    );
    one_line(
        &out,
        1,
        "no object \"mps-events/WorkflowTask/2026/11/24/nope.json\"",
    );
    assert!(out.stdout.is_empty());

    // A record that is not valid JSON (a truncated copy) fails `get` and nothing else.
    let lines = json_lines(&run(&dir, &["ls", "--json", "--task", "task-c"], &[OFFSET]));
    let key = lines[0]["key"].as_str().unwrap();
    let file = dir.dir().join("local-cos").join(key);
    let body = std::fs::read(&file).unwrap();
    std::fs::write(&file, &body[..body.len() / 2]).unwrap();
    let out = run(&dir, &["get", key], &[]);
    one_line(&out, 1, "not valid JSON");
    assert!(stderr(&out).contains(key));
    assert_eq!(
        json_lines(&run(&dir, &["ls", "--json"], &[OFFSET])).len(),
        7
    );

    // A type the archive does not hold: not an error, and it says which it holds.
    let out = run(&dir, &["ls", "--type", "workflowtask"], &[OFFSET]);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        stderr(&out).contains(
            "--type workflowtask matches no event-type folder in local mirror ./local-cos; the archive holds: EditMediaTask, WorkflowTask"
        ),
        "{}",
        stderr(&out)
    );
    // A filter the template cannot answer.
    let out = run(
        &dir,
        &["ls", "--status", "finish"],
        &[(
            "COS_KEY_TEMPLATE",
            "{prefix}{event_type}/{yyyy}/{mm}/{dd}/{digest}.json",
        )],
    );
    one_line(
        &out,
        2,
        "--status cannot be used: COS_KEY_TEMPLATE has no {status}",
    );
}

#[test]
fn objects_the_template_cannot_read_are_skipped_and_counted() {
    let dir = workdir("foreign");
    sample(&dir);
    let root = dir.dir().join("local-cos");
    for k in [
        "mps-events/WorkflowTask/2026/11/24/readme.txt",
        "mps-events/WorkflowTask/notes.json",
        "other-app/WorkflowTask/2026/11/24/x.json",
    ] {
        std::fs::create_dir_all(root.join(k).parent().unwrap()).unwrap();
        std::fs::write(root.join(k), "x").unwrap();
    }
    let out = run(&dir, &["ls", "--json"], &[OFFSET]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(json_lines(&out).len(), 7);
    assert!(
        stderr(&out).contains("skipped 2 keys that COS_KEY_TEMPLATE cannot read"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn replay_dry_run_lists_oldest_first_and_sends_nothing() {
    let dir = workdir("replay");
    sample(&dir);
    let out = run(
        &dir,
        &["replay", "--to", "http://127.0.0.1:9/never", "--dry-run"],
        &[OFFSET],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 7);
    let times: Vec<&str> = lines
        .iter()
        .map(|l| l["event_time"].as_str().unwrap())
        .collect();
    let mut sorted = times.clone();
    sorted.sort();
    assert_eq!(times, sorted, "oldest first");
    assert!(lines
        .iter()
        .all(|l| l["ok"] == true && l["dry_run"] == true));
    assert!(stderr(&out).contains("nothing sent"), "{}", stderr(&out));

    // An unreadable record fails on its own; the rest are still listed; exit 1.
    let key = lines[3]["key"].as_str().unwrap();
    std::fs::write(dir.dir().join("local-cos").join(key), "{\"event\":").unwrap();
    let out = run(
        &dir,
        &["replay", "--to", "http://127.0.0.1:9/never", "--dry-run"],
        &[OFFSET],
    );
    assert_eq!(out.status.code(), Some(1));
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 7);
    let bad: Vec<&Value> = lines.iter().filter(|l| l["ok"] == false).collect();
    assert_eq!(bad.len(), 1);
    assert_eq!(bad[0]["key"], key);
    assert!(bad[0]["error"].as_str().unwrap().contains("not valid JSON"));
}

#[test]
fn every_command_has_help() {
    let dir = workdir("help");
    for (cmd, needle) in [
        ("ls", "--since <DATE|TIME>"),
        ("get", "--event"),
        ("stats", "--json"),
        ("replay", "--dry-run"),
        ("invoke", "--local <DIR>"),
    ] {
        let out = run(&dir, &[cmd, "--help"], &[]);
        assert_eq!(out.status.code(), Some(0), "{cmd}");
        assert!(stdout(&out).contains(needle), "{cmd}: {}", stdout(&out));
    }
    let out = run(&dir, &["--help"], &[]);
    for cmd in ["invoke", "ls", "get", "stats", "replay"] {
        assert!(stdout(&out).contains(cmd), "{}", stdout(&out));
    }
}

/// An output that cannot be written (a full disk) is an error, never a silent success.
#[test]
fn output_that_cannot_be_written_fails_the_command() {
    let dir = workdir("full");
    sample(&dir);
    let lines = json_lines(&run(&dir, &["ls", "--json"], &[OFFSET]));
    let key = lines[0]["key"].as_str().expect("key").to_string();
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .expect("/dev/full");
    for args in [
        vec!["ls", "--json"],
        vec!["stats"],
        vec!["get", key.as_str()],
    ] {
        let out = std::process::Command::new(dir.dir().join("bootstrap"))
            .args(&args)
            .current_dir(dir.dir())
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .env("ARCHIVE_UTC_OFFSET", OFFSET.1)
            .stdout(full.try_clone().expect("clone /dev/full"))
            .output()
            .expect("run bootstrap");
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("cannot write the output"),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
