//! The archive readers on archives too large to hold: listings stream (output before the
//! listing ends, bounded memory), listings that stop moving are refused, keys that are not
//! records are skipped and counted. Against the verifying fake COS, through the binary.
mod common;

use std::time::{Duration, Instant};

use common::binary::{run_to_end as run, stderr_of as stderr, Binary, Package};
use common::fake_cos::{FakeCos, ListMode};
use common::scf_platform::{cos_env, cos_options, BUCKET};

/// Peak resident memory of a running process, KiB (`VmHWM`).
fn peak_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_listing_that_says_more_forever_without_keys_is_an_error_after_three_pages() {
    let cos = FakeCos::start(cos_options()).await;
    cos.set_list_mode(ListMode::TruncatedEmpty);
    let pkg = Package::new("read-barren");
    let env = cos_env(&cos);
    let before = cos.count_method("GET").1;
    let out = run(&pkg, &["ls", "--type", "WorkflowTask"], &env).await;
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains(&format!("bucket {BUCKET}"))
            && err.contains("\"mps-events/WorkflowTask/\"")
            && err.contains("truncated pages add no key"),
        "{err}"
    );
    assert_eq!(
        cos.count_method("GET").1 - before,
        3,
        "three pages, then stop"
    );
    assert!(cos.verification_failures().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endless_listing_streams_in_bounded_memory() {
    let cos = FakeCos::start(cos_options()).await;
    cos.set_list_mode(ListMode::Endless);
    let pkg = Package::new("read-endless");
    let env = cos_env(&cos);
    let mut bin = Binary::start_in(&pkg, &["ls", "--json", "--type", "WorkflowTask"], &env);
    let deadline = Instant::now() + Duration::from_secs(120);
    // Lines arrive while the listing goes on; a reader that collects first prints nothing.
    let mut lines = 0;
    while lines < 30_000 {
        assert!(bin.exited().is_none(), "ls ended: {}", bin.output_tail(5));
        assert!(Instant::now() < deadline, "only {lines} lines in time");
        tokio::time::sleep(Duration::from_millis(50)).await;
        lines = bin.stdout_lines().len();
    }
    let peak = peak_kib(bin.pid());
    bin.sigterm();
    assert!(peak > 0 && peak < 64 * 1024, "peak RSS {peak} KiB");
    let first: serde_json::Value = serde_json::from_str(&bin.stdout_lines()[0]).unwrap();
    assert_eq!(
        first["key"],
        "mps-events/WorkflowTask/2026/11/24/t000000000000.finish.ok.0000000000000000.json"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_the_template_cannot_read_are_skipped_and_counted() {
    let cos = FakeCos::start(cos_options()).await;
    let pkg = Package::new("read-unreadable");
    let env = cos_env(&cos);
    let good = "mps-events/WorkflowTask/2026/11/24/t1.finish.ok.00000000000000d1.json";
    cos.insert_object(good, b"{\"event\":{}}", "application/json");
    for bad in [
        "mps-events/WorkflowTask/2026/11/24/notes.txt",
        "mps-events/WorkflowTask/2026/13/24/t1.finish.ok.00000000000000d2.json",
        "mps-events/WorkflowTask/2026/11/24/t1.finish.ok.not-a-digest.json",
    ] {
        cos.insert_object(bad, b"x", "text/plain");
    }
    let out = run(&pkg, &["ls", "--json"], &env).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    assert!(stdout.contains(good));
    assert!(
        stderr(&out).contains("skipped 3 keys that COS_KEY_TEMPLATE cannot read"),
        "{}",
        stderr(&out)
    );
}

/// A record body with these times (`null` when `None`).
fn record(event_time: Option<&str>, received_at: &str) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "schema": "mps-cos-backup/record/v1",
        "event_time": event_time,
        "received_at": received_at,
        "event": {"EventType": "WorkflowTask"},
    }))
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn times_as_bounds_read_only_the_records_of_the_boundary_days() {
    let cos = FakeCos::start(cos_options()).await;
    let pkg = Package::new("read-times");
    let mut env = cos_env(&cos);
    env.push(("ARCHIVE_UTC_OFFSET".into(), "+08:00".into()));
    // (key date, name, event_time, received_at); key dates are in +08:00.
    let records = [
        (
            "2026/11/23",
            "a",
            Some("2026-11-22T17:59:59Z"),
            "2026-11-22T18:00:00Z",
        ),
        (
            "2026/11/23",
            "b",
            Some("2026-11-22T18:00:00Z"),
            "2026-11-22T18:00:01Z",
        ),
        ("2026/11/23", "c", None, "2026-11-23T01:00:00Z"),
        ("2026/11/23", "d", None, "2026-11-22T17:00:00Z"),
        (
            "2026/11/24",
            "e",
            Some("2026-11-23T17:00:00Z"),
            "2026-11-23T17:00:00Z",
        ),
        (
            "2026/11/24",
            "f",
            Some("2026-11-24T15:00:00Z"),
            "2026-11-24T15:00:00Z",
        ),
        (
            "2026/11/25",
            "g",
            Some("2026-11-24T16:30:00Z"),
            "2026-11-24T16:30:00Z",
        ),
        (
            "2026/11/25",
            "h",
            Some("2026-11-24T16:30:01Z"),
            "2026-11-24T16:30:01Z",
        ),
        (
            "2026/11/26",
            "i",
            Some("2026-11-25T17:00:00Z"),
            "2026-11-25T17:00:00Z",
        ),
    ];
    for (i, (day, name, et, ra)) in records.iter().enumerate() {
        cos.insert_object(
            &format!("mps-events/WorkflowTask/{day}/{name}.finish.ok.{i:016x}.json"),
            &record(*et, ra),
            "application/json",
        );
    }
    let gets = |cos: &FakeCos| {
        let (all, lists) = cos.count_method("GET");
        all - lists
    };
    let before = gets(&cos);
    let out = run(
        &pkg,
        &[
            "ls",
            "--json",
            "--since",
            "2026-11-23T02:00:00+08:00",
            "--until",
            "2026-11-25T00:30:00+08:00",
        ],
        &env,
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let names: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            let key = v["key"].as_str().unwrap().to_string();
            key.rsplit('/').next().unwrap()[..1].to_string()
        })
        .collect();
    // b: event_time at the bound; c: no event_time, received after; e, f: a day between;
    // g: event_time at the bound.
    assert_eq!(names, ["b", "c", "e", "f", "g"]);
    // Only the records of the two boundary days were read (a, b, c, d, g, h).
    assert_eq!(gets(&cos) - before, 6);

    // A time bound on both ends of one day.
    let out = run(
        &pkg,
        &[
            "ls",
            "--json",
            "--since",
            "2026-11-24T23:00:00Z",
            "--until",
            "2026-11-22T18:00:00Z",
        ],
        &env,
    )
    .await;
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("is after --until"),
        "{}",
        stderr(&out)
    );
    let out = run(&pkg, &["ls", "--since", "2026-11-24T25:00:00Z"], &env).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("RFC 3339"), "{}", stderr(&out));
}
