//! COS hot path: signing one PUT and the CRC-64 of a typical record.
use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use mps_cos_backup::cos::crc64::crc64;
use mps_cos_backup::cos::sign::{sign, KeyTime, SignRequest};

fn sign_one_put(c: &mut Criterion) {
    // The header set CosClient signs for a record PUT with a session token.
    let headers = [
        (
            "host",
            "examplebucket-1250000000.cos.ap-guangzhou.myqcloud.com",
        ),
        ("content-type", "application/json"),
        ("content-length", "10240"),
        ("content-md5", "mQ/fVh815F3k6TAUm8m0eg=="),
        ("x-cos-meta-event-type", "WorkflowTask"),
        ("x-cos-meta-task-status", "FINISH"),
        (
            "x-cos-security-token",
            "TOKEN-0123456789abcdef0123456789abcdef0123456789abcdef",
        ),
    ];
    let path =
        "/mps-events/WorkflowTask/2024/05/01/2400000-WorkflowTask-abc.finish.0123456789abcdef.json";
    let kt = KeyTime {
        start: 1_714_521_600,
        end: 1_714_522_200,
    };
    c.bench_function("sign one PUT", |b| {
        b.iter(|| {
            let req = SignRequest {
                method: "PUT",
                path: black_box(path),
                query: &[],
                headers: black_box(&headers),
            };
            black_box(sign(
                &req,
                "AKIDQjz3ltompVjBni5LitkWHFlFpwkn9U5q",
                "BQYIM75p8x0iWVFSIgqEKwFprpRSVHlz",
                kt,
            ))
        })
    });
}

fn crc64_10k(c: &mut Criterion) {
    let body: Vec<u8> = (0..10 * 1024).map(|i| (i * 31 % 251) as u8).collect();
    let mut g = c.benchmark_group("crc64");
    g.throughput(Throughput::Bytes(body.len() as u64));
    g.bench_function("crc64 of 10 KB", |b| {
        b.iter(|| black_box(crc64(black_box(&body))))
    });
    g.finish();
}

criterion_group!(benches, sign_one_put, crc64_10k);
criterion_main!(benches);
