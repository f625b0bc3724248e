//! Reading the archive back from COS: the verifying fake COS answers GET Bucket (pages,
//! url encoding, delimiter) and GET Object (CRC-64), with faults; the bucket and the local
//! mirror must give the same answers for the same events.
mod common;

use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use common::binary::{Binary, Package};
use common::fake_cos::{bucket_at, FakeCos, Fault, FaultRates};
use common::scf_platform::{cos_env, cos_options, BUCKET, CREDENTIALS};
use mps_cos_backup::archive::{self, CosSource, Filters, KeyLayout, Source, SourceError};
use mps_cos_backup::cos::CosClient;
use mps_cos_backup::key::{KeyTemplate, DEFAULT_TEMPLATE};
use mps_cos_backup::transport::HttpClient;

const BIN: &str = env!("CARGO_BIN_EXE_mps-cos-backup");
const FIXTURE: &str = include_str!("../fixtures/workflow-finish-success.json");
/// A prefix with a space, `&`, `%` and CJK: every name crosses URLs and XML encoded.
const PREFIX: &str = "归档 a&b%20c/";

/// Runs the binary through `bootstrap` in `pkg` (its working directory, where the local
/// mirror lives) with exactly `env` (plus PATH), off the test's runtime so the fakes keep
/// `ls` of one day of one type: the query that must take a single list request.
const ONE_DAY_ONE_TYPE: [&str; 8] = [
    "ls",
    "--json",
    "--since",
    "2026-11-24",
    "--until",
    "2026-11-24",
    "--type",
    "WorkflowTask",
];

/// answering; its output as a process `Output`.
async fn run(pkg: &Package, args: &[&str], env: &[(String, String)]) -> Output {
    let bin = Binary::start_in(pkg, args, env);
    tokio::task::spawn_blocking(move || bin.into_output(Duration::from_secs(120)))
        .await
        .expect("the waiting thread ends")
}

fn json_lines(o: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l:?}: {e}")))
        .collect()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn event(task: &str, date: &str, status: &str) -> String {
    let orig = "1253112233-WorkflowTask-ad5061d07ac0942454541884ba6a770ft2";
    FIXTURE
        .replace(
            &format!("\"{orig}\""),
            &serde_json::to_string(task).unwrap(),
        )
        .replace("2026-03-14T", &format!("{date}T"))
        .replacen(
            "\"Status\": \"FINISH\"",
            &format!("\"Status\": \"{status}\""),
            1,
        )
}

fn events() -> Vec<String> {
    let mut out = Vec::new();
    for day in 20..=28 {
        for (i, status) in ["FINISH", "PROCESSING", "FAIL"].iter().enumerate() {
            out.push(event(
                &format!("t{day}-{i} 任务&%"),
                &format!("2026-11-{day}"),
                status,
            ));
        }
    }
    out.push(include_str!("../fixtures/editmedia-finish-success.json").to_string());
    out
}

fn env_with(base: &[(String, String)], extra: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut env = base.to_vec();
    for (k, v) in extra {
        env.retain(|(n, _)| n != k);
        env.push((k.to_string(), v.to_string()));
    }
    env
}

/// Archives `events()` with `invoke` into `env`'s store.
async fn archive_events(dir: &Package, env: &[(String, String)]) {
    let mut args = vec!["invoke".to_string()];
    for (i, e) in events().iter().enumerate() {
        let f = dir.dir().join(format!("e{i}.json"));
        std::fs::write(&f, e).unwrap();
        args.push(f.display().to_string());
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = run(dir, &args, env).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

/// The fields of `ls --json` that do not depend on when or where a record was written.
fn stable(lines: &[Value]) -> Vec<Value> {
    lines
        .iter()
        .map(|l| {
            let mut l = l.clone();
            let o = l.as_object_mut().unwrap();
            o.remove("last_modified");
            o.remove("size");
            l
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bucket_and_the_local_mirror_give_the_same_answers() {
    let cos = FakeCos::start(cos_options()).await;
    let pkg = Package::new("read-same");
    let dir = &pkg;
    let base = [("ARCHIVE_UTC_OFFSET", "+08:00"), ("COS_KEY_PREFIX", PREFIX)];
    let cos_env = env_with(&cos_env(&cos), &base);
    let local_env = env_with(&[], &base);
    archive_events(dir, &cos_env).await;
    archive_events(dir, &local_env).await;
    // Another application's objects in the same bucket, and a stray file under the prefix.
    for i in 0..600 {
        cos.insert_object(
            &format!("other-app/{i:04}.bin"),
            b"x",
            "application/octet-stream",
        );
    }
    cos.insert_object(
        &format!("{PREFIX}WorkflowTask/notes.txt"),
        b"x",
        "text/plain",
    );
    let stray = dir
        .dir()
        .join("local-cos")
        .join(PREFIX)
        .join("WorkflowTask/notes.txt");
    std::fs::write(stray, "x").unwrap();

    let filters: [&[&str]; 7] = [
        &[],
        &["--since", "2026-11-21", "--until", "2026-11-23"],
        &[
            "--since",
            "2026-11-24",
            "--until",
            "2026-11-24",
            "--type",
            "WorkflowTask",
        ],
        &["--status", "fail"],
        &["--task", "t22-1 任务&%"],
        &["--since", "2026-11-27"],
        &[
            "--type",
            "EditMediaTask",
            "--type",
            "WorkflowTask",
            "--until",
            "2026-11-22",
        ],
    ];
    for f in filters {
        let mut args = vec!["ls", "--json"];
        args.extend_from_slice(f);
        let from_cos = run(dir, &args, &cos_env).await;
        let from_local = run(dir, &args, &local_env).await;
        assert_eq!(
            from_cos.status.code(),
            Some(0),
            "{f:?}: {}",
            stderr(&from_cos)
        );
        assert_eq!(
            from_local.status.code(),
            Some(0),
            "{f:?}: {}",
            stderr(&from_local)
        );
        let (a, b) = (json_lines(&from_cos), json_lines(&from_local));
        assert!(!a.is_empty() || f == ["--since", "2026-11-27"], "{f:?}");
        assert_eq!(stable(&a), stable(&b), "{f:?}");
        let mut args = vec!["stats", "--json"];
        args.extend_from_slice(f);
        let (sa, sb) = (
            run(dir, &args, &cos_env).await,
            run(dir, &args, &local_env).await,
        );
        assert_eq!(json_lines(&sa), json_lines(&sb), "{f:?}");
        let total: u64 = json_lines(&sa)
            .iter()
            .map(|r| r["count"].as_u64().unwrap())
            .sum();
        assert_eq!(total, a.len() as u64, "stats add up to ls: {f:?}");
    }
    let all = json_lines(&run(dir, &["ls", "--json"], &cos_env).await);
    assert_eq!(all.len(), events().len());
    let key = all[3]["key"].as_str().unwrap();
    for extra in [&[][..], &["--event"]] {
        let mut args = vec!["get", key];
        args.extend_from_slice(extra);
        let a = run(dir, &args, &cos_env).await;
        let b = run(dir, &args, &local_env).await;
        assert_eq!(a.status.code(), Some(0), "{}", stderr(&a));
        let (va, vb): (Value, Value) = (
            serde_json::from_slice(&a.stdout).unwrap(),
            serde_json::from_slice(&b.stdout).unwrap(),
        );
        if extra.is_empty() {
            assert_eq!(va["event"], vb["event"]);
            assert_eq!(va["task_id"], vb["task_id"]);
        } else {
            assert_eq!(va, vb);
        }
    }
    let v = cos.verification_failures();
    assert!(v.is_empty(), "{v:#?}");
    let logs: String = cos.requests().iter().map(|r| format!("{r:?}\n")).collect();
    assert!(!logs.is_empty());
    for secret in &CREDENTIALS[1..] {
        let out = run(dir, &["ls"], &cos_env).await;
        assert!(!String::from_utf8_lossy(&out.stdout).contains(secret));
        assert!(!stderr(&out).contains(secret));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_day_of_one_type_is_one_list_request_and_the_other_app_is_never_listed() {
    let cos = FakeCos::start(cos_options()).await;
    let pkg = Package::new("read-one");
    let dir = &pkg;
    let env = env_with(&cos_env(&cos), &[("ARCHIVE_UTC_OFFSET", "+08:00")]);
    archive_events(dir, &env).await;
    for i in 0..600 {
        cos.insert_object(
            &format!("other-app/{i:04}.bin"),
            b"x",
            "application/octet-stream",
        );
    }
    let before = cos.count_method("GET");
    let out = run(dir, &ONE_DAY_ONE_TYPE, &env).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(json_lines(&out).len(), 3);
    let after = cos.count_method("GET");
    assert_eq!(after.1 - before.1, 1, "one listing request");
    for r in cos.requests().iter().filter(|r| r.method == "GET") {
        assert!(!r.target.contains("other-app"), "{}", r.target);
        assert!(
            r.target.contains("prefix=mps-events"),
            "never the whole bucket: {}",
            r.target
        );
    }
    // By status: the type folders first (one request), then one listing per type.
    let before = cos.count_method("GET");
    let out = run(dir, &["ls", "--json", "--status", "fail"], &env).await;
    assert_eq!(json_lines(&out).len(), 9);
    let after = cos.count_method("GET");
    assert_eq!(
        after.1 - before.1,
        3,
        "types + WorkflowTask + EditMediaTask"
    );
}

fn client(cos: &FakeCos) -> CosClient {
    CosClient::new(
        HttpClient::new(),
        bucket_at(BUCKET, &cos.url()),
        cos.credentials(),
    )
}

fn layout() -> KeyLayout {
    KeyLayout {
        prefix: PREFIX.into(),
        template: KeyTemplate::parse(DEFAULT_TEMPLATE).unwrap(),
    }
}

/// `n` archived-looking keys of one day, with CJK, spaces, `&` and `%` in their prefix.
fn seed_day(cos: &FakeCos, n: usize) -> Vec<String> {
    let keys: Vec<String> = (0..n)
        .map(|i| {
            format!(
                "{PREFIX}WorkflowTask/2026/11/24/task-{i:05}.finish.ok.{:016x}.json",
                i
            )
        })
        .collect();
    for k in &keys {
        cos.insert_object(k, b"{\"event\":{}}", "application/json");
    }
    keys
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listings_follow_next_marker_across_pages() {
    let cos = FakeCos::start(cos_options()).await;
    let keys = seed_day(&cos, 2_500);
    let c = client(&cos);
    let out = c
        .list_objects(
            &format!("{PREFIX}WorkflowTask/"),
            None,
            1000,
            Duration::from_secs(30),
        )
        .await
        .unwrap();
    assert_eq!(out.pages, 3);
    let got: Vec<&str> = out.objects.iter().map(|o| o.key.as_str()).collect();
    assert_eq!(got, keys.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(out
        .objects
        .iter()
        .all(|o| o.size == 12 && o.last_modified.is_some()));

    // Folders across small pages: NextMarker is then a common prefix.
    for t in ["A", "B b", "C&c", "D%d", "E任务"] {
        for i in 0..3 {
            cos.insert_object(
                &format!("{PREFIX}{t}/2026/{i}.json"),
                b"{}",
                "application/json",
            );
        }
    }
    let out = c
        .list_objects(PREFIX, Some('/'), 2, Duration::from_secs(30))
        .await
        .unwrap();
    assert_eq!(
        out.prefixes,
        ["A", "B b", "C&c", "D%d", "E任务", "WorkflowTask"]
            .iter()
            .map(|t| format!("{PREFIX}{t}/"))
            .collect::<Vec<_>>()
    );
    assert_eq!(out.pages, 3);
    assert!(out.objects.is_empty());
    assert!(
        cos.verification_failures().is_empty(),
        "{:#?}",
        cos.verification_failures()
    );

    // Through the archive: one day, 2,500 callbacks, three pages, in key order.
    let f = Filters::new(
        Some(archive::parse_date("2026-11-24").unwrap()),
        Some(archive::parse_date("2026-11-24").unwrap()),
        &["WorkflowTask".into()],
        None,
        None,
    )
    .unwrap();
    let found = archive::find(&CosSource::new(c), &layout(), &f)
        .await
        .unwrap();
    assert_eq!(found.found.len(), 2_500);
    assert_eq!((found.listings, found.requests), (1, 3));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_go_through_a_quarter_of_faulty_answers() {
    let cos = FakeCos::start(cos_options()).await;
    let keys = seed_day(&cos, 1_200);
    let src = CosSource::new(client(&cos));
    let clean = archive::find(&src, &layout(), &Filters::default())
        .await
        .unwrap();
    assert_eq!(clean.found.len(), 1_200);
    cos.set_rates(FaultRates {
        internal_error: 0.06,
        slow_down: 0.06,
        service_unavailable: 0.04,
        reset: 0.05,
        stall: 0.02,
        stall_for: Duration::from_millis(50),
        wrong_crc: 0.02,
        ..FaultRates::default()
    });
    let start = Instant::now();
    let faulty = archive::find(&src, &layout(), &Filters::default())
        .await
        .unwrap();
    let keys_of =
        |f: &archive::Findings| -> Vec<String> { f.found.iter().map(|x| x.key.clone()).collect() };
    assert!(
        keys_of(&faulty) == keys_of(&clean),
        "the same keys despite faults"
    );
    for k in keys.iter().take(40) {
        assert_eq!(&src.get(k).await.unwrap()[..], b"{\"event\":{}}");
    }
    assert!(cos.stats().faults > 0);
    assert!(cos.verification_failures().is_empty());
    assert!(start.elapsed() < Duration::from_secs(60));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_damaged_download_is_retried_and_a_missing_key_is_named() {
    let cos = FakeCos::start(cos_options()).await;
    let keys = seed_day(&cos, 1);
    let src = CosSource::new(client(&cos));
    cos.push_faults([Fault::WrongCrc, Fault::Reset, Fault::SlowDown]);
    assert_eq!(&src.get(&keys[0]).await.unwrap()[..], b"{\"event\":{}}");
    assert_eq!(
        cos.count_method("GET").0,
        4,
        "three faults, then the good answer"
    );

    let e = src.get(&format!("{PREFIX}nope.json")).await.unwrap_err();
    assert!(matches!(e, SourceError::NotFound { .. }), "{e}");
    assert_eq!(
        e.to_string(),
        format!("no object \"{PREFIX}nope.json\" in bucket {BUCKET}")
    );
    cos.push_faults([Fault::AccessDenied]);
    let e = src.get(&keys[0]).await.unwrap_err().to_string();
    assert!(
        e.contains(&format!(
            "the role lacks cos:GetObject on {BUCKET}/{}",
            keys[0]
        )) && e.contains("AccessDenied"),
        "{e}"
    );
    for secret in CREDENTIALS {
        assert!(!e.contains(secret));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_reports_cos_read_errors_in_one_line() {
    let cos = FakeCos::start(cos_options()).await;
    let pkg = Package::new("read-errors");
    let dir = &pkg;
    let env = cos_env(&cos);
    let out = run(
        dir,
        &["get", "mps-events/WorkflowTask/2026/11/24/x.json"],
        &env,
    )
    .await;
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out).trim(),
        "mps-cos-backup: no object \"mps-events/WorkflowTask/2026/11/24/x.json\" in bucket archive-1250000000"
    );
    cos.insert_object(
        "mps-events/WorkflowTask/2026/11/24/bad.json",
        b"{\"event\":",
        "application/json",
    );
    let out = run(
        dir,
        &["get", "mps-events/WorkflowTask/2026/11/24/bad.json"],
        &env,
    )
    .await;
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("not valid JSON"), "{}", stderr(&out));
    assert_eq!(stderr(&out).lines().count(), 1);
    cos.push_faults([Fault::NoSuchBucket]);
    let out = run(dir, &["ls"], &env).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("NoSuchBucket"), "{}", stderr(&out));
    assert!(cos.verification_failures().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_lists_through_a_quarter_of_faulty_reads() {
    let cos = FakeCos::start(cos_options()).await;
    let pkg = Package::new("read-faulty-cli");
    let dir = &pkg;
    let env = env_with(&cos_env(&cos), &[("ARCHIVE_UTC_OFFSET", "+08:00")]);
    archive_events(dir, &env).await;
    let args = [
        "ls",
        "--json",
        "--since",
        "2026-11-19",
        "--until",
        "2026-12-31",
    ];
    let clean = run(dir, &args, &env).await;
    assert_eq!(clean.status.code(), Some(0), "{}", stderr(&clean));
    cos.set_rates(FaultRates {
        internal_error: 0.08,
        slow_down: 0.08,
        reset: 0.05,
        stall: 0.02,
        stall_for: Duration::from_millis(50),
        wrong_crc: 0.02,
        ..FaultRates::default()
    });
    for _ in 0..3 {
        let faulty = run(dir, &args, &env).await;
        assert_eq!(faulty.status.code(), Some(0), "{}", stderr(&faulty));
        assert_eq!(stable(&json_lines(&faulty)), stable(&json_lines(&clean)));
    }
    assert!(cos.stats().faults > 0);
    assert!(cos.verification_failures().is_empty());
}

// ---------- replay ----------

use common::fake_cloudapi::{ApiFaultRates, FakeCloudApi, FakeCloudApiOptions};
use common::fake_webhook::{FakeWebhook, FakeWebhookOptions, HookFaultRates};

/// The archived events of `env`'s archive, as `get --event` prints them, by key.
async fn archived_events(dir: &Package, env: &[(String, String)]) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for l in json_lines(&run(dir, &["ls", "--json"], env).await) {
        let key = l["key"].as_str().unwrap().to_string();
        let ev = run(dir, &["get", &key, "--event"], env).await;
        out.push((key, serde_json::from_slice(&ev.stdout).unwrap()));
    }
    out
}

fn sorted(mut v: Vec<Value>) -> Vec<Value> {
    v.sort_by_key(|x| x.to_string());
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replay_to_a_flaky_webhook_delivers_every_record_and_nothing_else() {
    let hook = FakeWebhook::start(FakeWebhookOptions {
        rates: HookFaultRates {
            http_5xx: 0.10,
            reset: 0.05,
            ..HookFaultRates::default()
        },
        seed: 7,
        ..FakeWebhookOptions::default()
    })
    .await;
    let pkg = Package::new("read-replay-hook");
    let dir = &pkg;
    let env = env_with(&[], &[("ARCHIVE_UTC_OFFSET", "+08:00")]);
    archive_events(dir, &env).await;
    let want = archived_events(dir, &env).await;

    // A dry run sends nothing.
    let url = format!("{}/mps", hook.url());
    let out = run(dir, &["replay", "--to", &url, "--dry-run"], &env).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(json_lines(&out).len(), want.len());
    assert_eq!(hook.stats().requests, 0, "dry run sent something");

    let out = run(dir, &["replay", "--to", &url, "--concurrency", "4"], &env).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let lines = json_lines(&out);
    assert_eq!(lines.len(), want.len());
    assert!(lines
        .iter()
        .all(|l| l["ok"] == true && l["error"].is_null()));
    assert!(
        lines.iter().any(|l| l["attempts"].as_u64() > Some(1)),
        "faults were retried"
    );
    let delivered: Vec<Value> = hook
        .delivered()
        .iter()
        .map(|b| serde_json::from_slice(b).unwrap())
        .collect();
    assert_eq!(
        sorted(delivered),
        sorted(want.iter().map(|(_, e)| e.clone()).collect()),
        "each record arrives once, nothing else"
    );
    assert!(hook.verification_failures().is_empty());
    assert!(
        stderr(&out).contains(&format!("{} records sent, 0 failed", want.len())),
        "{}",
        stderr(&out)
    );

    // Filters choose what is replayed; order is oldest first.
    let before = hook.delivered().len();
    let out = run(
        dir,
        &[
            "replay",
            "--to",
            &url,
            "--since",
            "2026-11-24",
            "--until",
            "2026-11-25",
            "--concurrency",
            "1",
        ],
        &env,
    )
    .await;
    assert_eq!(out.status.code(), Some(0));
    let got = &hook.delivered()[before..];
    assert_eq!(got.len(), 6);
    let times: Vec<String> = got
        .iter()
        .map(|b| {
            let v: Value = serde_json::from_slice(b).unwrap();
            v["WorkflowTaskEvent"]["MediaProcessResultSet"][0]["TranscodeTask"]["Output"]
                ["FinishTime"]
                .as_str()
                .map(str::to_string)
                .unwrap_or_default()
        })
        .collect();
    let mut s = times.clone();
    s.sort();
    assert_eq!(times, s, "oldest first with one in flight");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replay_to_a_function_and_failures_count() {
    let api = FakeCloudApi::start(FakeCloudApiOptions {
        rates: ApiFaultRates {
            internal_error: 0.1,
            ..ApiFaultRates::default()
        },
        ..FakeCloudApiOptions::default()
    })
    .await;
    let o = api.options();
    let pkg = Package::new("read-replay-scf");
    let dir = &pkg;
    let env = env_with(
        &[],
        &[
            ("ARCHIVE_UTC_OFFSET", "+08:00"),
            ("FORWARD_SCF_ENDPOINT", &api.url()),
            ("FORWARD_SCF_REGION", &o.region),
            ("TENCENTCLOUD_SECRETID", &o.secret_id),
            ("TENCENTCLOUD_SECRETKEY", &o.secret_key),
        ],
    );
    archive_events(dir, &env).await;
    let want = archived_events(dir, &env).await;
    let out = run(dir, &["replay", "--to", "scf:ops/consumer:live"], &env).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let got: Vec<Value> = api
        .deliveries()
        .iter()
        .map(|d| {
            assert_eq!(
                (d.namespace.as_str(), d.name.as_str(), d.qualifier.as_str()),
                ("ops", "consumer", "live")
            );
            serde_json::from_str(&d.client_context).unwrap()
        })
        .collect();
    assert_eq!(
        sorted(got),
        sorted(want.iter().map(|(_, e)| e.clone()).collect())
    );
    assert!(api.verification_failures().is_empty());

    // A record that cannot be read fails alone; the others are sent; exit 1.
    let key = &want[2].0;
    std::fs::write(dir.dir().join("local-cos").join(key), b"{\"event\":{").unwrap();
    let before = api.deliveries().len();
    let out = run(dir, &["replay", "--to", "scf:consumer"], &env).await;
    assert_eq!(out.status.code(), Some(1));
    let lines = json_lines(&out);
    let bad: Vec<&Value> = lines.iter().filter(|l| l["ok"] == false).collect();
    assert_eq!(bad.len(), 1);
    assert_eq!(bad[0]["key"], key.as_str());
    assert!(bad[0]["error"].as_str().unwrap().contains("not valid JSON"));
    assert_eq!(api.deliveries().len() - before, want.len() - 1);

    // Usage errors: exit 2, one line.
    for (args, needle) in [
        (&["replay", "--to", "ftp://x"][..], "--to"),
        (&["replay", "--to", "scf:aa,scf:bb"], "one target"),
        (
            &["replay", "--to", "scf:aa", "--concurrency", "0"],
            "--concurrency",
        ),
    ] {
        let out = run(dir, args, &env).await;
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert_eq!(stderr(&out).lines().count(), 1, "{}", stderr(&out));
        assert!(stderr(&out).contains(needle), "{}", stderr(&out));
    }
}

// ---------- benchmarks (reported, not asserted): cargo test --release --test archive -- --ignored --nocapture ----------

/// The binary to measure: `MCB_BIN` (e.g. a release build), else the test build's.
fn bench_bin() -> String {
    std::env::var("MCB_BIN").unwrap_or_else(|_| BIN.to_string())
}

async fn timed(dir: &Package, args: &[&str], env: &[(String, String)]) -> (Output, Duration) {
    let mut cmd = Command::new(bench_bin());
    cmd.args(args)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .current_dir(dir.dir())
        .stdin(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    tokio::task::spawn_blocking(move || {
        let start = Instant::now();
        let out = cmd.output().unwrap();
        (out, start.elapsed())
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark: run with --ignored --nocapture"]
async fn bench_ls_50k_keys_and_replay_10k_records() {
    let cos = FakeCos::start(cos_options()).await;
    let pkg = Package::new("read-bench");
    let dir = &pkg;
    let env = cos_env(&cos);
    let body = br#"{"event_time":"2026-11-24T00:00:00Z","event":{"EventType":"WorkflowTask"}}"#;
    for i in 0..50_000u64 {
        let (ty, day) = (
            ["WorkflowTask", "EditMediaTask"][(i % 2) as usize],
            1 + (i / 2) % 25,
        );
        cos.insert_object(
            &format!(
                "mps-events/{ty}/2026/11/{day:02}/1253112233-{ty}-{i:032x}t2.finish.{i:016x}.json"
            ),
            body,
            "application/json",
        );
    }
    for i in 0..600 {
        cos.insert_object(
            &format!("other-app/{i:04}.bin"),
            b"x",
            "application/octet-stream",
        );
    }
    let before = cos.count_method("GET").0;
    let (out, took) = timed(dir, &["ls", "--json"], &env).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let n = String::from_utf8_lossy(&out.stdout).lines().count();
    let requests = cos.count_method("GET").0 - before;
    println!(
        "BENCH ls: {n} keys in {:.2} s, {requests} list requests",
        took.as_secs_f64()
    );
    let (out, took) = timed(dir, &ONE_DAY_ONE_TYPE, &env).await;
    println!(
        "BENCH ls one day of one type: {} keys in {:.3} s",
        String::from_utf8_lossy(&out.stdout).lines().count(),
        took.as_secs_f64()
    );

    // 10,000 records in a local mirror, replayed to a local webhook.
    let hook = FakeWebhook::start(FakeWebhookOptions::default()).await;
    let root = dir
        .dir()
        .join("local-cos/mps-events/WorkflowTask/2026/11/24");
    std::fs::create_dir_all(&root).unwrap();
    for i in 0..10_000u64 {
        let rec = format!(
            r#"{{"event_time":"2026-11-24T{:02}:{:02}:{:02}Z","event":{{"EventType":"WorkflowTask","WorkflowTaskEvent":{{"TaskId":"t{i}","Status":"FINISH"}}}}}}"#,
            (i / 3600) % 24,
            (i / 60) % 60,
            i % 60
        );
        std::fs::write(root.join(format!("t{i}.finish.{i:016x}.json")), rec).unwrap();
    }
    let local: Vec<(String, String)> = Vec::new();
    let url = format!("{}/hook", hook.url());
    for c in ["8", "32"] {
        let before = hook.delivered().len();
        let (out, took) = timed(dir, &["replay", "--to", &url, "--concurrency", c], &local).await;
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let sent = hook.delivered().len() - before;
        println!(
            "BENCH replay --concurrency {c}: {sent} records in {:.2} s = {:.0} records/s",
            took.as_secs_f64(),
            sent as f64 / took.as_secs_f64()
        );
    }
}
