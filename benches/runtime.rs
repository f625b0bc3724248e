//! One runtime-loop iteration over loopback HTTP against the fake SCF runtime API:
//! event queued -> `next` delivers -> trivial handler -> response post recorded.
#[path = "../tests/common/mod.rs"]
mod common;

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use common::fake_runtime::FakeRuntime;
use criterion::{criterion_group, criterion_main, Criterion};
use mps_cos_backup::runtime::{run, Context, Diagnostic, Function};
use mps_cos_backup::transport::{HttpClient, Uri};

struct Echo;

#[derive(Debug, thiserror::Error)]
#[error("never")]
struct Never;

impl Diagnostic for Never {}

impl Function for Echo {
    type Error = Never;

    async fn call(&self, ctx: Context, event: Bytes) -> Result<serde_json::Value, Never> {
        Ok(serde_json::json!({ "request_id": ctx.request_id, "bytes": event.len() }))
    }
}

fn loop_iteration(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let fake = rt.block_on(FakeRuntime::start());
    let url: Uri = fake.url().parse().expect("fake runtime URL");
    rt.spawn(async move {
        let _ = run(
            &url,
            HttpClient::new(),
            Arc::new(Echo),
            std::future::pending::<()>(),
        )
        .await;
    });
    let event =
        br#"{"EventType":"WorkflowTask","WorkflowTaskEvent":{"TaskId":"t-1","Status":"FINISH"}}"#;
    let mut answered = 0usize;
    c.bench_function("runtime_loop_iteration_loopback", |b| {
        b.iter(|| {
            fake.push_event(event.to_vec());
            answered += 1;
            rt.block_on(fake.wait_answered(answered, Duration::from_secs(10)));
        })
    });
    assert!(fake.violations().is_empty(), "{:?}", fake.violations());
}

criterion_group!(benches, loop_iteration);
criterion_main!(benches);
