//! The archive readers (`ls`, `get`, `stats`, `replay --dry-run`) over a local mirror that
//! the binary itself wrote with `invoke --local`, exactly as an operator would use them.

mod common;

use std::process::Output;
use std::time::Duration;

use serde_json::Value;

use common::binary::{Binary, Package};
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
    // An EditMediaTask, dated by its own FinishTime.
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
        for f in ["event_type", "task_id", "status", "digest"] {
            assert!(l[f].is_string(), "{f} in {l}");
        }
        assert!(key.contains(&format!(
            "{}.{}.{}.json",
            l["task_id"].as_str().unwrap(),
            l["status"].as_str().unwrap(),
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
