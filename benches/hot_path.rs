//! The whole per-event hot path minus the network: parse, record, redact, digest, key,
//! serialize, handed to an in-memory store. Run: `cargo bench --bench hot_path`.

use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use mps_cos_backup::handler::ArchiveConfig;
use mps_cos_backup::handler::{Handler, Invocation};
use mps_cos_backup::key::{KeyTemplate, DEFAULT_TEMPLATE};
use mps_cos_backup::store::{Object, Store, StoreError, Stored};

/// Keeps the last body so the work cannot be optimized away.
struct MemStore(std::sync::Mutex<usize>);

impl Store for MemStore {
    fn location(&self) -> &str {
        "mem"
    }
    async fn put(&self, obj: Object<'_>, _deadline: Instant) -> Result<Stored, StoreError> {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) += obj.body.len() + obj.key.len();
        Ok(Stored {
            etag: String::new(),
            attempts: 1,
        })
    }
}

fn largest_fixture() -> (String, Vec<u8>) {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures");
    let mut best = (String::new(), Vec::new());
    for e in std::fs::read_dir(dir).expect("fixtures/") {
        let p = e.expect("entry").path();
        if !p.is_file() {
            continue;
        }
        let body = std::fs::read(&p).expect("fixture");
        if body.len() > best.1.len() {
            best = (p.display().to_string(), body);
        }
    }
    best
}

fn bench(c: &mut Criterion) {
    let (name, body) = largest_fixture();
    eprintln!("hot_path: {} ({} bytes)", name, body.len());
    let cfg = ArchiveConfig {
        key_prefix: "mps-events/".into(),
        key_template: KeyTemplate::parse(DEFAULT_TEMPLATE).expect("template"),
        utc_offset: chrono::FixedOffset::east_opt(8 * 3600).expect("offset"),
        event_types: None,
        redact: true,
    };
    let handler = Handler::new(MemStore(std::sync::Mutex::new(0)), cfg);
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let mut g = c.benchmark_group("handler");
    g.throughput(Throughput::Bytes(body.len() as u64));
    g.bench_function("archive_largest_fixture_to_memory", |b| {
        b.iter_batched(
            || {
                let inv = Invocation {
                    request_id: Some("bench"),
                    received_at: chrono::Utc::now(),
                    source: mps_cos_backup::record::RecordSource::Trigger,
                    deadline: Instant::now() + Duration::from_secs(3),
                };
                (bytes::Bytes::from(body.clone()), inv)
            },
            |(event, inv)| rt.block_on(handler.handle(event, &inv)).expect("handled"),
            BatchSize::SmallInput,
        )
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
