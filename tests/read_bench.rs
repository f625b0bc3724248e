//! Benchmark of the archive readers on a large local mirror: peak memory (the kernel's
//! `ru_maxrss` of the finished process) and records per second of `ls`, `stats` and
//! `replay --dry-run`. Ignored by default; README "Reading the archive back" shows the
//! figures and the command:
//!
//! ```text
//! cargo test --release --test read_bench -- --ignored --nocapture
//! MCB_BENCH_BIN=/path/to/other/mps-cos-backup cargo test --release --test read_bench -- --ignored --nocapture
//! ```
//!
//! `MCB_BENCH_BIN` runs another build of the binary (an older version) on the same mirror.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use mps_cos_backup::digest::digest;
use serde_json::{json, Value};

/// Small records in the mirror.
const RECORDS: u64 = 20_000;
/// Large records (5 MB each) among them.
const LARGE: u64 = 5;
const LARGE_BYTES: usize = 5 * 1024 * 1024;

fn event(task: &str, finish: &str, filler: usize) -> Value {
    json!({
        "EventType": "WorkflowTask",
        "WorkflowTaskEvent": {
            "TaskId": task,
            "Status": "FINISH",
            "ErrCode": 0,
            "Message": "",
            "InputInfo": {"Type": "COS", "CosInputInfo": {
                "Bucket": "media-1250000000", "Region": "ap-guangzhou",
                "Object": format!("/input/{task}.mp4")}},
            "MediaProcessResultSet": [{"Type": "Transcode", "TranscodeTask": {
                "Status": "SUCCESS", "ErrCode": 0, "Message": "SUCCESS",
                "Output": {"OutputStorage": {"Type": "COS"},
                           "Path": format!("/output/{task}.mp4"),
                           "Definition": 100030, "Duration": 12.5},
                "FinishTime": finish}}],
            "Notes": "x".repeat(filler)
        }
    })
}

/// Writes the mirror: `RECORDS` WorkflowTask records over ten days (three callbacks per
/// task), `LARGE` of them 5 MB.
fn build_mirror(root: &Path) {
    let _ = std::fs::remove_dir_all(root);
    for i in 0..RECORDS {
        let day = 20 + (i % 10);
        let task = format!("1253112233-WorkflowTask-{:032x}t2", i / 3);
        let secs = (i * 7919) % 86_400;
        let time = format!(
            "2026-11-{day:02}T{:02}:{:02}:{:02}Z",
            secs / 3600,
            (secs / 60) % 60,
            secs % 60
        );
        let filler = if i % (RECORDS / LARGE) == 7 {
            LARGE_BYTES
        } else {
            200
        };
        let ev = event(&task, &time, filler);
        let d = digest(&ev);
        let rec = json!({
            "schema": "mps-cos-backup/record/v1",
            "event_type": "WorkflowTask",
            "task_id": task,
            "status": "FINISH",
            "outcome": "ok",
            "source": "trigger",
            "event_time": time,
            "received_at": time,
            "request_id": format!("req-{i}"),
            "error": null,
            "event": ev,
        });
        let dir = root.join(format!("mps-events/WorkflowTask/2026/11/{day:02}"));
        std::fs::create_dir_all(&dir).unwrap();
        let key = format!("{task}.finish.ok.{d}.json");
        std::fs::write(dir.join(key), serde_json::to_vec(&rec).unwrap()).unwrap();
    }
}

/// Peak resident set (KiB) of a process, from `/proc/<pid>/status` `VmHWM` (the kernel's
/// high-water mark), read until the process ends.
fn vm_hwm(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

struct Run {
    lines: u64,
    took: Duration,
    peak_kib: u64,
    code: Option<i32>,
    stderr: String,
}

/// Runs `bin args --local root`, counting stdout lines; polls the peak RSS until it exits.
fn measure(bin: &Path, root: &Path, args: &[&str]) -> Run {
    let started = Instant::now();
    let mut child = Command::new(bin)
        .args(args)
        .arg("--local")
        .arg(root)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the binary");
    let pid = child.id();
    let out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let counter = std::thread::spawn(move || BufReader::new(out).lines().count() as u64);
    let errs = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let mut peak = 0;
    let status = loop {
        if let Some(kib) = vm_hwm(pid) {
            peak = peak.max(kib);
        }
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    Run {
        lines: counter.join().unwrap(),
        took: started.elapsed(),
        peak_kib: peak,
        code: status.code(),
        stderr: errs.join().unwrap(),
    }
}

#[test]
#[ignore = "benchmark: cargo test --release --test read_bench -- --ignored --nocapture"]
fn bench_readers_on_a_large_mirror() {
    let bin: PathBuf = std::env::var_os("MCB_BENCH_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_mps-cos-backup")));
    let root = std::env::temp_dir().join(format!("mcb-read-bench-{}", std::process::id()));
    build_mirror(&root);
    println!("BENCH binary: {}", bin.display());
    println!("BENCH mirror: {RECORDS} records, {LARGE} of 5 MB");
    let commands: [&[&str]; 3] = [
        &["ls", "--json"],
        &["stats"],
        &["replay", "--to", "http://127.0.0.1:9/hook", "--dry-run"],
    ];
    for args in commands {
        let r = measure(&bin, &root, args);
        assert_eq!(r.code, Some(0), "{args:?}: {}", r.stderr);
        println!(
            "BENCH {:<24} {:>6} lines  {:>7.2} s  {:>9.0} records/s  peak RSS {:>6.1} MiB",
            args[..args.len().min(2)].join(" "),
            r.lines,
            r.took.as_secs_f64(),
            RECORDS as f64 / r.took.as_secs_f64(),
            r.peak_kib as f64 / 1024.0
        );
    }
    let _ = std::fs::remove_dir_all(&root);
}
