//! Reconcile through the binary against a fake MPS API that verifies TC3 signatures (service
//! `mps`), pages with `ScrollToken`, throttles and fails about 15% of requests, and holds a
//! few hundred tasks of several types, some of them delivered as callbacks first: the
//! `reconcile` command over the local mirror, and the timer event in runtime mode against
//! the fake runtime and the fake COS.

mod common;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::Value;

use common::binary::{Binary, Package};
use common::fake_mps::{FakeMps, FakeMpsOptions, FakeTask};
use common::fake_runtime::{HeaderStyle, Kind};
use common::scf_platform;

fn iso(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// The task structure of each kind, as the SDK models name its fields; numbers written as
/// MPS writes them (`12.50`, an integer past 64 bits).
fn task_json(kind: &str, id: &str, finish: &str) -> String {
    match kind {
        "WorkflowTask" => format!(
            r#"{{"TaskId":"{id}","Status":"FINISH","ErrCode":0,"Message":"SUCCESS","InputInfo":{{"Type":"COS","CosInputInfo":{{"Bucket":"media-in-1250000000","Region":"ap-guangzhou","Object":"/in/{id}.mp4"}},"UrlInputInfo":null,"S3InputInfo":null}},"MetaData":{{"Duration":12.50,"Size":123456789012345678901234,"Width":1920}},"MediaProcessResultSet":[{{"Type":"Transcode","TranscodeTask":{{"Status":"SUCCESS","ErrCodeExt":"","ErrCode":0,"Message":"","Input":{{"Definition":100030}},"Output":{{"OutputStorage":{{"Type":"COS","CosOutputStorage":{{"Bucket":"media-out-1250000000","Region":"ap-guangzhou"}}}},"Path":"/out/{id}.mp4","Size":1048576,"Duration":12.50}},"BeginProcessTime":"{finish}","FinishTime":"{finish}"}}}}],"AiContentReviewResultSet":[],"AiAnalysisResultSet":[],"AiRecognitionResultSet":[]}}"#
        ),
        "EditMediaTask" => format!(
            r#"{{"TaskId":"{id}","Status":"FINISH","ErrCode":0,"Message":"","Input":{{"FileInfoSet":[{{"InputInfo":{{"Type":"COS","CosInputInfo":{{"Bucket":"media-in-1250000000","Region":"ap-guangzhou","Object":"/clip/{id}.mp4"}}}},"StartTimeOffset":0.0,"EndTimeOffset":30.25}}]}},"Output":{{"Path":"/edit/{id}.mp4","Duration":30.25}}}}"#
        ),
        "ScheduleTask" => format!(
            r#"{{"TaskId":"{id}","Status":"FINISH","ErrCode":0,"Message":"","InputInfo":{{"Type":"COS","CosInputInfo":{{"Bucket":"media-in-1250000000","Region":"ap-guangzhou","Object":"/sch/{id}.mp4"}}}},"ActivityResultSet":[{{"ActivityType":"Transcode","ActivityResItem":{{"TranscodeTask":{{"Status":"SUCCESS","ErrCode":0,"Message":"","Output":{{"Path":"/sch-out/{id}.mp4"}},"FinishTime":"{finish}"}}}}}}]}}"#
        ),
        "ExtractBlindWatermark" => format!(
            r#"{{"TaskId":"{id}","Status":"FINISH","ErrCode":0,"Message":"SUCCESS","InputInfo":{{"Type":"COS","CosInputInfo":{{"Bucket":"media-in-1250000000","Region":"ap-guangzhou","Object":"/wm/{id}.mp4"}}}},"Type":"blind-basic","IsDetected":true,"Result":"wm-7f3c","ExtractBlindWatermarkConfig":{{"SegmentDuration":10}}}}"#
        ),
        _ => format!(
            r#"{{"TaskId":"{id}","Status":"FINISH","ErrCode":0,"Message":"","Url":"rtmp://live.example.com/app/{id}"}}"#
        ),
    }
}

/// `n` finished tasks created over the last 23 hours (the last `grace` of them finished a
/// minute ago), of five kinds.
fn tasks(n: usize, grace: usize, now: DateTime<Utc>) -> Vec<FakeTask> {
    let kinds = [
        (
            "WorkflowTask",
            "WorkflowTask",
            "WorkflowTask",
            "WorkflowTask",
        ),
        (
            "EditMediaTask",
            "EditMediaTask",
            "EditMediaTask",
            "EditMediaTask",
        ),
        (
            "WorkflowTask",
            "WorkflowTask",
            "WorkflowTask",
            "WorkflowTask",
        ),
        (
            "ScheduleTask",
            "ScheduleTask",
            "ScheduleTask",
            "ScheduleTask",
        ),
        (
            "ExtractBlindWatermark",
            "ExtractBlindWatermark",
            "ExtractBlindWatermark",
            "ExtractBlindWatermarkTask",
        ),
        (
            "LiveStreamProcessTask",
            "LiveProcessTask",
            "LiveStreamProcessTask",
            "LiveStreamProcessTask",
        ),
    ];
    (0..n)
        .map(|i| {
            let (kind, list_type, detail_type, field) = kinds[i % kinds.len()];
            let id = format!("1250000000-{detail_type}-{i:032x}t0");
            let (create, finish) = if i >= n - grace {
                (
                    now - chrono::Duration::seconds(150),
                    now - chrono::Duration::seconds(60),
                )
            } else {
                let create = now - chrono::Duration::hours(23)
                    + chrono::Duration::seconds((i as i64) * 22 * 3600 / n as i64);
                (create, create + chrono::Duration::seconds(90))
            };
            FakeTask {
                task_id: id.clone(),
                list_type: list_type.into(),
                detail_type: detail_type.into(),
                detail_field: field.into(),
                status: "FINISH".into(),
                create_time: iso(create),
                finish_time: iso(finish),
                session_id: format!("session-{i}"),
                session_context: if i % 4 == 0 {
                    String::new()
                } else {
                    format!("{{\"job\":{i}}}")
                },
                task: task_json(kind, &id, &iso(finish)),
            }
        })
        .collect()
}

/// The callback with its delivery fields left out, as a value.
fn without_delivery(callback: &str) -> Value {
    let mut v: Value = serde_json::from_str(callback).unwrap();
    let m = v.as_object_mut().unwrap();
    m.remove("Timestamp");
    m.remove("Sign");
    v
}

/// Every record under `root`: key -> record.
fn records(root: &Path) -> BTreeMap<String, Value> {
    fn walk(dir: &Path, root: &Path, out: &mut BTreeMap<String, Value>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, root, out);
            } else if p.extension().is_some_and(|x| x == "json") {
                let key = p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
                let body = std::fs::read(&p).unwrap();
                out.insert(key, serde_json::from_slice(&body).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}

fn run(pkg: &Package, args: &[&str], env: &[(String, String)]) -> Output {
    Binary::start_in(pkg, args, env).into_output(Duration::from_secs(180))
}

fn lines(o: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l:?}: {e}")))
        .collect()
}

/// The summary: the JSON line on stderr that has `tasks`.
fn summary(o: &Output) -> Value {
    String::from_utf8_lossy(&o.stderr)
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|v| v.get("tasks").is_some() && v.get("present").is_some())
        .unwrap_or_else(|| {
            panic!(
                "no summary on stderr: {}",
                String::from_utf8_lossy(&o.stderr)
            )
        })
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Archives `callbacks` into `local` with `invoke`; the key of each.
fn deliver(pkg: &Package, local: &Path, callbacks: &[String]) -> Vec<String> {
    let mut args = vec![
        "invoke".to_string(),
        "--local".into(),
        local.display().to_string(),
    ];
    for (i, c) in callbacks.iter().enumerate() {
        let f = pkg.dir().join(format!("cb-{i}.json"));
        std::fs::write(&f, c).unwrap();
        args.push(f.display().to_string());
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = run(pkg, &args, &[]);
    assert!(out.status.success(), "invoke failed: {}", stderr(&out));
    lines(&out)
        .iter()
        .map(|l| l["result"]["key"].as_str().expect("a key").to_string())
        .collect()
}

fn env_for(mps: &FakeMps) -> Vec<(String, String)> {
    let mut env = mps.env();
    env.push(("LOG_FORMAT".into(), "text".into()));
    env
}

const TASKS: usize = 300;
const GRACE: usize = 6;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconcile_archives_every_finished_task_the_archive_lacks() {
    let now = Utc::now();
    let all = tasks(TASKS, GRACE, now);
    let mps = FakeMps::start(
        FakeMpsOptions {
            throttle: 0.06,
            internal_error: 0.05,
            http_5xx: 0.04,
            delay: Duration::from_millis(15),
            ..FakeMpsOptions::default()
        },
        all.clone(),
    )
    .await;
    let pkg = Package::new("reconcile");
    let local: PathBuf = pkg.dir().join("mirror");
    std::fs::create_dir_all(&local).unwrap();
    let settled = &all[..TASKS - GRACE];
    let in_grace = &all[TASKS - GRACE..];

    // A third were delivered; a few others only got their PROCESSING callback, which is
    // not an end.
    let delivered: Vec<&FakeTask> = settled.iter().step_by(3).collect();
    let mut callbacks: Vec<String> = delivered.iter().map(|t| t.callback()).collect();
    let processing: Vec<&FakeTask> = settled.iter().skip(1).step_by(7).take(10).collect();
    for t in &processing {
        callbacks.push(
            t.callback()
                .replace(r#""Status":"FINISH""#, r#""Status":"PROCESSING""#),
        );
    }
    let keys = deliver(&pkg, &local, &callbacks);
    let delivered_keys: HashMap<&str, &str> = delivered
        .iter()
        .zip(&keys)
        .map(|(t, k)| (t.task_id.as_str(), k.as_str()))
        .collect();
    let before = records(&local);
    let missing: HashSet<&str> = settled
        .iter()
        .filter(|t| !delivered_keys.contains_key(t.task_id.as_str()))
        .map(|t| t.task_id.as_str())
        .collect();

    let env = env_for(&mps);
    let local_arg = local.display().to_string();

    // A dry run says what it would recover and writes nothing.
    let dry = run(
        &pkg,
        &["reconcile", "--dry-run", "--local", &local_arg],
        &env,
    );
    assert!(dry.status.success(), "{}", stderr(&dry));
    let dry_lines = lines(&dry);
    assert_eq!(dry_lines.len(), missing.len(), "{}", stderr(&dry));
    for l in &dry_lines {
        assert_eq!(l["action"], "would-recover", "{l}");
        assert!(missing.contains(l["task_id"].as_str().unwrap()), "{l}");
        assert!(
            l["key"].as_str().is_some_and(|k| k.contains(".finish.")),
            "{l}"
        );
    }
    assert_eq!(records(&local), before, "a dry run wrote something");

    // The run recovers each missing task, once.
    let out = run(&pkg, &["reconcile", "--local", &local_arg], &env);
    assert!(out.status.success(), "{}", stderr(&out));
    let s = summary(&out);
    assert_eq!(s["tasks"], TASKS as u64, "{s}");
    assert_eq!(s["present"], delivered.len() as u64, "{s}");
    assert_eq!(s["recovered"], missing.len() as u64, "{s}");
    assert_eq!(s["failed"], 0, "{s}");
    assert_eq!(s["skipped_grace"], GRACE as u64, "{s}");
    assert!(
        stderr(&out).contains(&format!(
            "reconcile recovered {} of {TASKS} finished tasks",
            missing.len()
        )),
        "{}",
        stderr(&out)
    );
    let out_lines = lines(&out);
    assert_eq!(out_lines.len(), missing.len());
    let recovered_keys: HashMap<String, String> = out_lines
        .iter()
        .map(|l| {
            assert_eq!(l["action"], "recovered", "{l}");
            assert!(l["error"].is_null(), "{l}");
            (
                l["task_id"].as_str().unwrap().to_string(),
                l["key"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    // The dry run named the keys the run then wrote.
    for l in &dry_lines {
        assert_eq!(
            recovered_keys
                .get(l["task_id"].as_str().unwrap())
                .map(String::as_str),
            l["key"].as_str(),
            "{l}"
        );
    }

    // Every finished task of the window has its end record, equal to the callback MPS
    // would have sent; the grace-period ones are left alone.
    let after = records(&local);
    for t in settled {
        let key = recovered_keys
            .get(&t.task_id)
            .map(String::as_str)
            .or_else(|| delivered_keys.get(t.task_id.as_str()).copied())
            .unwrap_or_else(|| panic!("{} has no end record", t.task_id));
        let record = after
            .get(key)
            .unwrap_or_else(|| panic!("{key} not in the mirror"));
        assert_eq!(record["status"], "FINISH", "{key}");
        assert_eq!(record["task_id"], t.task_id.as_str(), "{key}");
        assert_eq!(
            without_delivery(&record["event"].to_string()),
            without_delivery(&t.callback()),
            "{key}"
        );
        let source = if recovered_keys.contains_key(&t.task_id) {
            "reconcile"
        } else {
            "invoke"
        };
        assert_eq!(record["source"], source, "{key}");
    }
    for t in in_grace {
        assert!(
            !after.values().any(|r| r["task_id"] == t.task_id.as_str()),
            "grace-period task {} was archived",
            t.task_id
        );
    }
    assert_eq!(after.len(), before.len() + missing.len());

    // A callback that arrives later with the same content lands on the same key.
    let late: Vec<&FakeTask> = settled
        .iter()
        .filter(|t| missing.contains(t.task_id.as_str()))
        .take(5)
        .collect();
    let late_keys = deliver(
        &pkg,
        &local,
        &late.iter().map(|t| t.callback()).collect::<Vec<_>>(),
    );
    for (t, k) in late.iter().zip(&late_keys) {
        assert_eq!(Some(k), recovered_keys.get(&t.task_id), "{}", t.task_id);
    }
    assert_eq!(records(&local).len(), after.len());

    // A second run finds everything.
    let again = run(&pkg, &["reconcile", "--local", &local_arg], &env);
    assert!(again.status.success(), "{}", stderr(&again));
    let s = summary(&again);
    assert_eq!(s["recovered"], 0, "{s}");
    assert_eq!(s["present"], settled.len() as u64, "{s}");
    assert!(lines(&again).is_empty());
    assert!(!stderr(&again).contains("reconcile recovered"));

    // The fake saw only good signatures, one page per 100 tasks and one detail per missing
    // task per run (the dry run and the run), never more than 4 requests at once, and
    // faults enough to matter.
    let st = mps.stats();
    assert!(
        mps.verification_failures().is_empty(),
        "{:?}",
        mps.verification_failures()
    );
    assert_eq!(st.pages, 3 * TASKS.div_ceil(100) as u64, "{st:?}");
    assert_eq!(st.details, 2 * missing.len() as u64, "{st:?}");
    let asked: HashSet<String> = mps.detail_asks().into_iter().collect();
    assert!(asked.iter().all(|id| missing.contains(id.as_str())));
    assert!(st.max_in_flight <= 4 && st.max_in_flight >= 2, "{st:?}");
    assert!(st.faults * 100 >= st.requests * 8, "too few faults: {st:?}");
}

#[test]
fn usage_errors_exit_2() {
    let pkg = Package::new("reconcile-usage");
    let local = pkg.dir().display().to_string();
    let env = vec![
        ("MPS_REGION".to_string(), "ap-guangzhou".to_string()),
        ("TENCENTCLOUD_SECRETID".into(), "AKIDx".into()),
        ("TENCENTCLOUD_SECRETKEY".into(), "key".into()),
    ];
    let eight_days = iso(Utc::now() - chrono::Duration::days(8));
    for (args, needle) in [
        (
            vec![
                "reconcile",
                "--since",
                eight_days.as_str(),
                "--local",
                &local,
            ],
            "7 days",
        ),
        (
            vec!["reconcile", "--since", "last week", "--local", &local],
            "RFC 3339",
        ),
        (
            vec!["reconcile", "--forward", "--local", &local],
            "ARCHIVE_FORWARD",
        ),
        (
            vec!["reconcile", "--local", "/nonexistent/mirror"],
            "no such directory",
        ),
    ] {
        let out = run(&pkg, &args, &env);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(needle), "{args:?}: {}", stderr(&out));
    }
    let out = run(&pkg, &["reconcile", "--local", &local], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("MPS_REGION"), "{}", stderr(&out));
    let help = run(&pkg, &["reconcile", "--help"], &[]);
    assert!(help.status.success());
    let text = String::from_utf8_lossy(&help.stdout);
    for word in [
        "Examples:",
        "RECONCILE_WINDOW",
        "RECONCILE_GRACE",
        "MPS_ENDPOINT",
        "--dry-run",
    ] {
        assert!(text.contains(word), "--help lacks {word}: {text}");
    }
}

/// The timer event in runtime mode: the same reconcile, answered with the summary; and a
/// deadline that comes first stops it with an error naming what was not checked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_timer_event_reconciles_inside_its_deadline() {
    let now = Utc::now();
    let all = tasks(120, 3, now);
    let (rt, cos) = scf_platform::start().await;
    let mps = FakeMps::start(
        FakeMpsOptions {
            throttle: 0.06,
            internal_error: 0.05,
            http_5xx: 0.04,
            ..scf_platform::role_mps_options()
        },
        all.clone(),
    )
    .await;
    let env = scf_platform::reconcile_env(&rt, &cos, &mps);
    let mut bin = Binary::start(&[], &env);

    // Some callbacks come through the trigger first.
    let settled = &all[..117];
    let delivered: Vec<&FakeTask> = settled.iter().step_by(4).collect();
    for t in &delivered {
        rt.push_event(t.callback());
    }
    rt.wait_results(delivered.len(), Duration::from_secs(30))
        .await;
    let timer = format!(
        r#"{{"Type":"Timer","TriggerName":"reconcile-hourly","Time":"{}","Message":""}}"#,
        iso(now)
    );
    rt.push_event_with(timer.clone(), Some(60_000), HeaderStyle::Lower);
    let results = rt
        .wait_results(delivered.len() + 1, Duration::from_secs(90))
        .await;
    let answer = results.last().unwrap();
    assert_eq!(answer.kind, Kind::Response, "{}", answer.text());
    let s = answer.json();
    assert_eq!(s["tasks"], 120, "{s}");
    assert_eq!(s["present"], delivered.len() as u64, "{s}");
    assert_eq!(s["recovered"], (117 - delivered.len()) as u64, "{s}");
    assert_eq!(s["skipped_grace"], 3, "{s}");
    assert_eq!(s["failed"], 0, "{s}");
    let objects = cos.objects();
    for t in settled {
        let held = objects.iter().any(|(k, o)| {
            k.contains(".finish.")
                && serde_json::from_slice::<Value>(&o.body).is_ok_and(|r| {
                    r["task_id"] == t.task_id.as_str()
                        && without_delivery(&r["event"].to_string())
                            == without_delivery(&t.callback())
                })
        });
        assert!(held, "{} has no end record in COS", t.task_id);
    }
    let reconciled = objects
        .values()
        .filter(|o| {
            serde_json::from_slice::<Value>(&o.body).is_ok_and(|r| r["source"] == "reconcile")
        })
        .count();
    assert_eq!(reconciled, 117 - delivered.len());

    // Next hour: nothing new; then a slow MPS and a short time limit: it stops in time,
    // saying how many tasks it did not check.
    rt.push_event_with(timer.clone(), Some(60_000), HeaderStyle::Lower);
    let results = rt
        .wait_results(delivered.len() + 2, Duration::from_secs(90))
        .await;
    let s = results.last().unwrap().json();
    assert_eq!(
        (s["recovered"].as_u64(), s["present"].as_u64()),
        (Some(0), Some(117)),
        "{s}"
    );

    scf_platform::assert_clean(&rt, &cos);
    assert!(
        mps.verification_failures().is_empty(),
        "{:?}",
        mps.verification_failures()
    );
    bin.stop(Duration::from_secs(5)).await;
    bin.assert_never_wrote(&scf_platform::CREDENTIALS);

    let more = tasks(60, 0, now - chrono::Duration::hours(1));
    let (rt, cos) = scf_platform::start().await;
    let slow = FakeMps::start(
        FakeMpsOptions {
            delay: Duration::from_millis(400),
            ..scf_platform::role_mps_options()
        },
        more,
    )
    .await;
    let env = scf_platform::reconcile_env(&rt, &cos, &slow);
    let mut bin = Binary::start(&[], &env);
    let started = std::time::Instant::now();
    rt.push_event_with(timer, Some(4_000), HeaderStyle::Lower);
    let results = rt.wait_results(1, Duration::from_secs(30)).await;
    let stopped = &results[0];
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(stopped.kind, Kind::Error, "{}", stopped.text());
    let text = stopped.text();
    assert!(
        text.contains("not checked") && text.contains("of 60 finished tasks"),
        "{text}"
    );
    // What it did recover before it stopped is archived.
    let reconciled = cos.objects().len();
    assert!(reconciled < 60, "{reconciled}");
    scf_platform::assert_clean(&rt, &cos);
    assert!(slow.verification_failures().is_empty());
    bin.stop(Duration::from_secs(5)).await;
    bin.assert_never_wrote(&scf_platform::CREDENTIALS);
}

/// Benchmark (ignored; `cargo test --release --test reconcile -- --ignored --nocapture`):
/// a window of 10,000 finished tasks, 9,000 of them archived already. Prints tasks checked
/// per second and MPS requests per missing task, and holds the request counts to their
/// targets: one `DescribeTasks` per 100 tasks, one `DescribeTaskDetail` per missing task.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore]
async fn bench_reconcile_ten_thousand_tasks() {
    const N: usize = 10_000;
    let now = Utc::now();
    let all = tasks(N, 0, now);
    let mps = FakeMps::start(
        FakeMpsOptions {
            delay: Duration::from_millis(
                std::env::var("BENCH_MPS_DELAY_MS")
                    .ok()
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(0),
            ),
            ..FakeMpsOptions::default()
        },
        all.clone(),
    )
    .await;
    let pkg = Package::new("reconcile-bench");
    let local: PathBuf = pkg.dir().join("mirror");
    std::fs::create_dir_all(&local).unwrap();
    let delivered: Vec<String> = all
        .iter()
        .enumerate()
        .filter(|(i, _)| i % 10 != 0)
        .map(|(_, t)| t.callback())
        .collect();
    let missing = N - delivered.len();
    let t0 = std::time::Instant::now();
    for chunk in delivered.chunks(2_000) {
        deliver(&pkg, &local, chunk);
    }
    eprintln!(
        "archived {} callbacks first in {:?}",
        delivered.len(),
        t0.elapsed()
    );
    let env = env_for(&mps);
    let local_arg = local.display().to_string();
    let started = std::time::Instant::now();
    let out = run(&pkg, &["reconcile", "--local", &local_arg], &env);
    let took = started.elapsed();
    assert!(out.status.success(), "{}", stderr(&out));
    let s = summary(&out);
    assert_eq!(s["recovered"], missing as u64, "{s}");
    let st = mps.stats();
    let again = std::time::Instant::now();
    let out2 = run(&pkg, &["reconcile", "--local", &local_arg], &env);
    let took2 = again.elapsed();
    assert!(out2.status.success());
    assert_eq!(summary(&out2)["recovered"], 0);
    eprintln!(
        "reconcile of {N} tasks ({missing} missing): {took:?}, {:.0} tasks checked/s; \
         DescribeTasks {} ({:.2} per 100 tasks), DescribeTaskDetail {} ({:.2} per missing task), \
         MPS requests per missing task {:.2}; second run (nothing missing): {took2:?}, {:.0} tasks/s; \
         key dates listed {}..{}",
        N as f64 / took.as_secs_f64(),
        st.pages,
        st.pages as f64 * 100.0 / N as f64,
        st.details,
        st.details as f64 / missing as f64,
        st.requests as f64 / missing as f64,
        N as f64 / took2.as_secs_f64(),
        s["first_date"],
        s["last_date"],
    );
    assert_eq!(st.pages, N.div_ceil(100) as u64);
    assert_eq!(st.details, missing as u64);
}

/// `--forward` hands each recovered callback to `ARCHIVE_FORWARD` as well, exactly the
/// callback archived; without it nothing is forwarded although `ARCHIVE_FORWARD` is set. A
/// refused `DescribeTasks` names the permission the role lacks and exits 1.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forward_and_refusals() {
    use common::fake_mps::MpsFault;
    use common::fake_webhook::{FakeWebhook, FakeWebhookOptions};
    let now = Utc::now();
    let all = tasks(12, 0, now);
    let mps = FakeMps::start(FakeMpsOptions::default(), all.clone()).await;
    let hook = FakeWebhook::start(FakeWebhookOptions::default()).await;
    let pkg = Package::new("reconcile-forward");
    let local = pkg.dir().join("mirror");
    std::fs::create_dir_all(&local).unwrap();
    let local_arg = local.display().to_string();
    let mut env = env_for(&mps);
    env.push(("ARCHIVE_FORWARD".into(), hook.url()));

    // Half of them without forwarding: nothing reaches the hook.
    let first = run(
        &pkg,
        &[
            "reconcile",
            "--local",
            &local_arg,
            "--until",
            &iso(now - chrono::Duration::hours(11)),
        ],
        &env,
    );
    assert!(first.status.success(), "{}", stderr(&first));
    let recovered_first = lines(&first).len();
    assert!(
        recovered_first > 0 && recovered_first < 12,
        "{recovered_first}"
    );
    assert!(hook.delivered().is_empty());

    let out = run(
        &pkg,
        &["reconcile", "--forward", "--local", &local_arg],
        &env,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let recovered = lines(&out);
    assert_eq!(recovered.len(), 12 - recovered_first);
    let delivered = hook.delivered();
    assert_eq!(delivered.len(), recovered.len());
    let archived = records(&local);
    for l in &recovered {
        let record = &archived[l["key"].as_str().unwrap()];
        let sent = delivered
            .iter()
            .map(|b| serde_json::from_slice::<Value>(b).unwrap())
            .find(|v| v.to_string().contains(l["task_id"].as_str().unwrap()))
            .expect("forwarded");
        assert_eq!(sent, record["event"], "{l}");
    }

    mps.push_faults([MpsFault::ApiError(
        "AuthFailure.UnauthorizedOperation".into(),
    )]);
    let refused = run(&pkg, &["reconcile", "--local", &local_arg], &env);
    assert_eq!(refused.status.code(), Some(1), "{}", stderr(&refused));
    let text = stderr(&refused);
    assert!(
        text.contains("mps:DescribeTasks") && text.contains(&mps.url().replace("http://", "")),
        "{text}"
    );
    // A timer event handed to invoke reconciles as runtime mode does: nothing is missing now.
    let timer = pkg.dir().join("timer.json");
    std::fs::write(
        &timer,
        format!(r#"{{"Type":"Timer","Time":"{}"}}"#, iso(Utc::now())),
    )
    .unwrap();
    let inv = run(
        &pkg,
        &[
            "invoke",
            "--local",
            &local_arg,
            &timer.display().to_string(),
        ],
        &env,
    );
    assert!(inv.status.success(), "{}", stderr(&inv));
    let result = &lines(&inv)[0]["result"];
    assert_eq!(
        (result["tasks"].as_u64(), result["present"].as_u64()),
        (Some(12), Some(12)),
        "{result}"
    );
    assert_eq!(records(&local).len(), 12);
    for secret in [
        mps.options().secret_key,
        mps.options().session_token.unwrap_or_default(),
    ] {
        assert!(!text.contains(&secret) && !String::from_utf8_lossy(&out.stderr).contains(&secret));
    }
}

/// MPS refusing the role's credentials themselves (they may have expired) fails the timer
/// event and ends the instance, so a fresh one gets fresh keys; a missing permission fails
/// the event only, naming it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_credentials_end_the_instance() {
    use common::fake_mps::MpsFault;
    let (rt, cos) = scf_platform::start().await;
    let mps = FakeMps::start(scf_platform::role_mps_options(), tasks(5, 0, Utc::now())).await;
    let env = scf_platform::reconcile_env(&rt, &cos, &mps);
    let mut bin = Binary::start(&[], &env);
    let timer = r#"{"Type":"Timer","TriggerName":"reconcile-hourly"}"#;
    mps.push_faults([MpsFault::ApiError(
        "AuthFailure.UnauthorizedOperation".into(),
    )]);
    rt.push_event_with(timer, Some(30_000), HeaderStyle::Lower);
    let results = rt.wait_results(1, Duration::from_secs(30)).await;
    assert_eq!(results[0].kind, Kind::Error);
    assert!(
        results[0].text().contains("mps:DescribeTasks"),
        "{}",
        results[0].text()
    );
    assert!(
        bin.exited().is_none(),
        "a missing permission must not end the instance"
    );
    mps.push_faults([MpsFault::ApiError("AuthFailure.TokenFailure".into())]);
    rt.push_event_with(timer, Some(30_000), HeaderStyle::Lower);
    let results = rt.wait_results(2, Duration::from_secs(30)).await;
    assert_eq!(results[1].kind, Kind::Error);
    assert!(
        results[1].text().contains("AuthFailure.TokenFailure"),
        "{}",
        results[1].text()
    );
    let status = bin.wait_exit_async(Duration::from_secs(10)).await;
    assert_eq!(status.and_then(|s| s.code()), Some(1));
    bin.assert_never_wrote(&scf_platform::CREDENTIALS);
}

/// The fake MPS verifies what it is sent: a request signed for another service's scope, or
/// with another key, is refused as the API refuses it; one signed for `mps` is answered.
#[tokio::test]
async fn the_fake_mps_checks_signatures() {
    use common::fake_cloudapi::{tc3_authorization, tc3_signature_for};
    let mps = FakeMps::start(FakeMpsOptions::default(), tasks(3, 0, Utc::now())).await;
    let o = mps.options();
    let host = mps.url().trim_start_matches("http://").to_string();
    let body = br#"{"Status":"FINISH","Limit":100,"StartTime":"2026-01-01T00:00:00Z","EndTime":"2030-01-01T00:00:00Z"}"#;
    let ts = Utc::now().timestamp();
    let signed = vec![
        (
            "content-type".to_string(),
            "application/json; charset=utf-8".to_string(),
        ),
        ("host".to_string(), host.clone()),
    ];
    let date = DateTime::from_timestamp(ts, 0).unwrap().format("%Y-%m-%d");
    let send = |authorization: String| {
        let url = mps.url();
        let token = o.session_token.clone().unwrap();
        async move {
            let answer = reqwest::Client::new()
                .post(format!("{url}/"))
                .header("content-type", "application/json; charset=utf-8")
                .header("x-tc-action", "DescribeTasks")
                .header("x-tc-version", "2019-06-12")
                .header("x-tc-region", "ap-guangzhou")
                .header("x-tc-timestamp", ts.to_string())
                .header("x-tc-token", token)
                .header("authorization", authorization)
                .body(body.to_vec())
                .send()
                .await
                .unwrap()
                .bytes()
                .await
                .unwrap();
            serde_json::from_slice::<Value>(&answer).unwrap()["Response"].clone()
        }
    };
    let scf_scope = send(tc3_authorization(
        &o.secret_id,
        &o.secret_key,
        ts,
        &signed,
        body,
    ))
    .await;
    assert_eq!(
        scf_scope["Error"]["Code"], "AuthFailure.InvalidAuthorization",
        "{scf_scope}"
    );
    let mps_auth = |key: &str| {
        format!(
            "TC3-HMAC-SHA256 Credential={}/{date}/mps/tc3_request, SignedHeaders=content-type;host, Signature={}",
            o.secret_id,
            tc3_signature_for("mps", key, ts, &signed, body)
        )
    };
    let wrong_key = send(mps_auth("another-key")).await;
    assert_eq!(
        wrong_key["Error"]["Code"], "AuthFailure.SignatureFailure",
        "{wrong_key}"
    );
    let good = send(mps_auth(&o.secret_key)).await;
    assert_eq!(good["TotalCount"], 3, "{good}");
    assert_eq!(mps.stats().verification_failures, 2);
}
