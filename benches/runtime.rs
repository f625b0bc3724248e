//! One runtime-loop iteration over loopback HTTP against the fake SCF runtime API:
//! event queued -> `next` delivers -> trivial handler -> response post recorded.
#[path = "../tests/common/mod.rs"]
mod common;

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use common::fake_runtime::FakeRuntime;
use criterion::{criterion_group, criterion_main, Criterion};
use mps_cos_backup::runtime::{run, Context, Handler};

struct Echo;

impl Handler for Echo {
    async fn handle(&self, ctx: Context, event: Bytes) -> Result<serde_json::Value, String> {
        Ok(serde_json::json!({ "request_id": ctx.request_id, "bytes": event.len() }))
    }
}

fn loop_iteration(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let fake = rt.block_on(FakeRuntime::start());
    let url = fake.url();
    rt.spawn(async move {
        let _ = run(
            &url,
            reqwest::Client::new(),
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
