//! Parse + normalize + serialize of one event: the per-invocation CPU cost of the archive.
use std::hint::black_box;

use chrono::Utc;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use mps_cos_backup::{event, record};

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/fixtures/{name}.json", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn bench(c: &mut Criterion) {
    let now = Utc::now();
    let mut g = c.benchmark_group("record");
    for name in [
        "workflow-ai-recognition",
        "workflow-finish-success",
        "workflow-s3-input",
        "editmedia-multi-file",
    ] {
        let body = fixture(name);
        g.throughput(Throughput::Bytes(body.len() as u64));
        g.bench_function(format!("parse_build_serialize/{name}"), |b| {
            b.iter(|| {
                let parsed = event::parse(black_box(&body)).ok();
                let rec = parsed.map(|p| {
                    record::build(&p, now, Some("req"), record::RecordSource::Trigger, true)
                });
                black_box(rec.and_then(|r| serde_json::to_vec(&r).ok()))
            })
        });
    }
    // MPS sends compact JSON; the fixtures are pretty-printed for review.
    for name in ["workflow-finish-success", "workflow-ai-recognition"] {
        let pretty = fixture(name);
        let body = serde_json::from_slice::<serde_json::Value>(&pretty)
            .ok()
            .and_then(|v| serde_json::to_vec(&v).ok())
            .unwrap_or_default();
        g.throughput(Throughput::Bytes(body.len() as u64));
        g.bench_function(format!("compact/{name}/{}B", body.len()), |b| {
            b.iter(|| {
                let parsed = event::parse(black_box(&body)).ok();
                let rec = parsed.map(|p| {
                    record::build(&p, now, Some("req"), record::RecordSource::Trigger, true)
                });
                black_box(rec.and_then(|r| serde_json::to_vec(&r).ok()))
            })
        });
        g.bench_function(format!("compact_owned/{name}/{}B", body.len()), |b| {
            b.iter(|| {
                let parsed = event::parse(black_box(&body)).ok();
                let rec = parsed.map(|p| {
                    record::build_owned(p, now, Some("req"), record::RecordSource::Trigger, true)
                });
                black_box(rec.and_then(|r| serde_json::to_vec(&r).ok()))
            })
        });
    }
    // Stages of a compact ~10 KB WorkflowTask, to see where the time goes.
    let body = serde_json::from_slice::<serde_json::Value>(&fixture("workflow-finish-success"))
        .ok()
        .and_then(|v| serde_json::to_vec(&v).ok())
        .unwrap_or_default();
    let parsed = event::parse(&body).ok();
    g.bench_function("stage/json_to_value", |b| {
        b.iter(|| black_box(serde_json::from_slice::<serde_json::Value>(black_box(&body)).ok()))
    });
    g.bench_function("stage/json_to_value_str", |b| {
        b.iter(|| {
            let s = std::str::from_utf8(black_box(&body)).unwrap_or_default();
            black_box(serde_json::from_str::<serde_json::Value>(s).ok())
        })
    });
    g.bench_function("stage/parse", |b| {
        b.iter(|| black_box(event::parse(black_box(&body)).ok()))
    });
    if let Some(p) = &parsed {
        g.bench_function("stage/build", |b| {
            b.iter(|| {
                black_box(record::build(
                    black_box(p),
                    now,
                    Some("req"),
                    record::RecordSource::Trigger,
                    true,
                ))
            })
        });
        g.bench_function("stage/clone_raw", |b| b.iter(|| black_box(p.raw.clone())));
        let rec = record::build(p, now, Some("req"), record::RecordSource::Trigger, true);
        g.bench_function("stage/serialize", |b| {
            b.iter(|| black_box(serde_json::to_vec(black_box(&rec)).ok()))
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
