//! CosClient logging: retries and rejections are logged, secrets never are.
//! Its own test binary: tracing caches per-callsite interest process-wide, so a scoped
//! subscriber would miss events that parallel tests registered first.
mod common;

use std::sync::Arc;

use common::fake_cos::{in_secs, obj, FakeCos, FakeCosOptions, Fault};
use mps_cos_backup::cos::CosClient;
use mps_cos_backup::transport::HttpClient;

/// Captures log lines written through tracing during one test.
#[derive(Clone, Default)]
struct LogBuf(Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for LogBuf {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("log buffer").extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "current_thread")]
async fn retries_are_logged_without_secrets() {
    let buf = LogBuf::default();
    let writer = buf.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let o = FakeCosOptions {
        secret_id: "AKIDlogTestSecretId0123456789".into(),
        secret_key: "logTestSecretKey-abcdefghijk".into(),
        session_token: Some("logTestSessionToken-xyz".into()),
        ..FakeCosOptions::default()
    };
    let cos = FakeCos::start(o.clone()).await;
    let client = CosClient::new(HttpClient::new(), cos.bucket(), cos.credentials());
    cos.push_faults([
        Fault::Status(503, "SlowDown".into(), format!("slow for {}", o.secret_id)),
        Fault::Reset,
        Fault::WrongCrc,
        Fault::RequestTimeTooSkewed,
    ]);
    client
        .put_object(&obj("logged/k", b"body"), in_secs(4))
        .await
        .expect("stored in the end");
    cos.push_faults([Fault::AccessDenied]);
    client
        .put_object(&obj("logged/k2", b"body"), in_secs(4))
        .await
        .expect_err("denied");
    let logs = String::from_utf8(buf.0.lock().expect("log buffer").clone()).expect("utf-8");
    assert!(logs.contains("retrying"), "{logs}");
    assert!(logs.contains("re-signing"), "{logs}");
    assert!(
        logs.contains("COS PUT refused after 1 attempt(s): the role lacks cos:PutObject on"),
        "{logs}"
    );
    for secret in [
        &o.secret_id,
        &o.secret_key,
        o.session_token.as_ref().expect("token"),
    ] {
        assert!(!logs.contains(secret.as_str()), "secret in logs: {logs}");
    }
    assert!(!logs.contains("q-signature"), "{logs}");
    assert!(cos.verification_failures().is_empty());
}
