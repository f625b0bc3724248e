//! CosClient against the verifying fake COS on loopback: happy path, every retry and
//! rejection class, refused credentials, clock skew, deadlines, redirects, endless answers,
//! awkward keys, secrets, and 1,000 PUTs under faults.
mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use common::fake_cos::{
    bucket_at, in_secs, obj, Endless, EndlessCos, FakeCos, FakeCosOptions, Fault, FaultRates,
};
use mps_cos_backup::cos::{CosClient, CosError, Endpoint, PutObject, StorageClass};
use mps_cos_backup::credentials::Credentials;
use mps_cos_backup::retry::{Ending, GaveUp};
use mps_cos_backup::transport::HttpClient;

fn opts_with_token() -> FakeCosOptions {
    FakeCosOptions {
        secret_id: "AKIDsecretIdValueXYZ1234567890abcd".into(),
        secret_key: "SecretKeyValue-QWERTY-0987654321zz".into(),
        session_token: Some("SessionTokenValue-should-never-leak-77".into()),
        ..FakeCosOptions::default()
    }
}

/// The HTTP client the process uses.
fn http() -> HttpClient {
    HttpClient::new()
}

fn client_for(cos: &FakeCos) -> CosClient {
    CosClient::new(http(), cos.bucket(), cos.credentials())
}

fn assert_clean(cos: &FakeCos) {
    let f = cos.verification_failures();
    assert!(f.is_empty(), "fake COS rejected requests: {f:#?}");
}

#[tokio::test]
async fn happy_path_stores_exact_bytes_with_metadata_storage_class_and_token() {
    let cos = FakeCos::start(opts_with_token()).await;
    let class = StorageClass::parse("STANDARD_IA").expect("storage class");
    let bucket = cos.bucket().with_storage_class(Some(class));
    let client = CosClient::new(http(), bucket, cos.credentials());
    let body = br#"{"schema":"mps-cos-backup/record/v1","task_id":"2400-WorkflowTask-x"}"#;
    let meta = [("event-type", "WorkflowTask"), ("task-status", "FINISH")];
    let o = PutObject {
        key: "mps-events/WorkflowTask/2024/05/01/t.finish.0123456789abcdef.json",
        body: Bytes::from_static(body),
        content_type: "application/json",
        metadata: &meta,
    };
    let out = client.put_object(&o, in_secs(5)).await.expect("put");
    assert_eq!(out.attempts, 1);
    assert_eq!(out.crc64, mps_cos_backup::cos::crc64::crc64(body));
    assert!(out.request_id.is_some());
    assert_clean(&cos);
    let stored = cos.object(o.key).expect("stored");
    assert_eq!(stored.body, body);
    assert_eq!(stored.content_type, "application/json");
    assert_eq!(stored.storage_class.as_deref(), Some("STANDARD_IA"));
    assert_eq!(
        stored.metadata,
        vec![
            ("event-type".to_string(), "WorkflowTask".to_string()),
            ("task-status".to_string(), "FINISH".to_string())
        ]
    );
    assert_eq!(stored.put_count, 1);
    // ETag is the MD5 of the body, quotes stripped.
    assert_eq!(out.etag.len(), 32);
    assert!(!out.etag.contains('"'));
    let req = &cos.requests()[0];
    assert!(req
        .headers
        .iter()
        .any(|(k, v)| k.eq_ignore_ascii_case("x-cos-security-token")
            && v == "SessionTokenValue-should-never-leak-77"));
}

#[tokio::test]
async fn each_retryable_class_is_retried_and_ends_stored() {
    let cases = [
        Fault::InternalError,
        Fault::SlowDown,
        Fault::ServiceUnavailable,
        Fault::BadGateway,
        Fault::GatewayTimeout,
        Fault::Reset,
        Fault::Stall(Duration::from_secs(30)),
        Fault::WrongCrc,
        Fault::MissingCrc,
        Fault::ResetAfterStore,
        Fault::TooManyRequests,
        Fault::RequestTimeout,
    ];
    for fault in cases {
        let cos = FakeCos::start(opts_with_token()).await;
        let client = client_for(&cos);
        cos.push_faults([fault.clone(), fault.clone()]);
        let body = format!("body for {fault:?}");
        let o = obj("retry/key.json", body.as_bytes());
        let out = client
            .put_object(&o, in_secs(4))
            .await
            .unwrap_or_else(|e| panic!("{fault:?}: {e}"));
        assert_eq!(out.attempts, 3, "{fault:?}");
        assert_eq!(cos.request_count(), 3, "{fault:?}");
        assert_clean(&cos);
        let stored = cos.object("retry/key.json").expect("stored");
        assert_eq!(stored.body, body.as_bytes(), "{fault:?}: stored bytes");
    }
}

#[tokio::test]
async fn non_retryable_classes_fail_after_exactly_one_attempt() {
    // (fault, text of the error, whether it says the credentials were refused)
    let cases = [
        // A missing permission: final for this write, the credentials are good.
        (Fault::AccessDenied, "403 AccessDenied", false),
        (Fault::InvalidAccessKeyId, "403 InvalidAccessKeyId", true),
        (
            Fault::Status(
                400,
                "ExpiredToken".into(),
                "The provided token has expired.".into(),
            ),
            "400 ExpiredToken",
            true,
        ),
        (
            Fault::Status(
                403,
                "AccessDenied".into(),
                "the security token is invalid".into(),
            ),
            "403 AccessDenied",
            true,
        ),
        // A wrong secret key: a fresh instance would read the same one.
        (
            Fault::SignatureDoesNotMatch,
            "403 SignatureDoesNotMatch",
            false,
        ),
        (
            Fault::Status(401, "Unauthorized".into(), "x".into()),
            "401 Unauthorized",
            false,
        ),
        (
            Fault::Status(403, "UserNotFound".into(), "x".into()),
            "403 UserNotFound",
            false,
        ),
        (Fault::NoSuchBucket, "404 NoSuchBucket", false),
        (Fault::InvalidObjectName, "400 InvalidObjectName", false),
        (Fault::KeyTooLong, "400 KeyTooLong", false),
        (Fault::EntityTooLarge, "400 EntityTooLarge", false),
        (
            Fault::Status(409, "PathConflict".into(), "conflict".into()),
            "409 PathConflict: conflict",
            false,
        ),
    ];
    for (fault, want, credentials) in cases {
        let cos = FakeCos::start(opts_with_token()).await;
        let client = client_for(&cos);
        cos.push_faults([fault.clone()]);
        let err = client
            .put_object(&obj("k", b"x"), in_secs(4))
            .await
            .expect_err("must fail");
        assert_eq!(err.attempts(), 1, "{fault:?}");
        assert_eq!(cos.request_count(), 1, "{fault:?}");
        assert_eq!(
            err.is_credentials_rejected(),
            credentials,
            "{fault:?}: {err}"
        );
        let msg = err.to_string();
        let lead = if fault == Fault::AccessDenied {
            format!(
                "COS PUT refused after 1 attempt(s): the role lacks cos:PutObject on {}/k: ",
                cos.bucket().name()
            )
        } else if credentials {
            "COS PUT credentials refused after 1 attempt(s): ".to_string()
        } else {
            "COS PUT rejected after 1 attempt(s): ".to_string()
        };
        assert!(msg.starts_with(&lead), "{msg}");
        assert!(msg.contains(want), "{msg} should contain {want}");
        // Where: bucket, key and host.
        let host = cos.url().trim_start_matches("http://").to_string();
        assert!(
            msg.contains(&format!("{}/k", cos.bucket().name())) && msg.contains(&host),
            "{msg} should name {}/k and {host}",
            cos.bucket().name()
        );
        // Both ids an operator needs for a ticket.
        assert!(msg.contains("(request id NjQfake"), "{msg}");
        assert!(msg.contains(", trace id trace"), "{msg}");
        assert!(!msg.contains('\n'));
        assert!(cos.object("k").is_none());
        assert_clean(&cos);
    }
}

#[tokio::test]
async fn an_expired_token_is_refused_credentials_after_its_writes_and_not_retried() {
    let cos = FakeCos::start(FakeCosOptions {
        token_expires_after_writes: Some(3),
        ..opts_with_token()
    })
    .await;
    let client = client_for(&cos);
    for i in 0..3 {
        let key = format!("ok/{i}");
        client
            .put_object(&obj(&key, b"x"), in_secs(4))
            .await
            .unwrap_or_else(|e| panic!("{key}: {e}"));
    }
    let started = Instant::now();
    let err = client
        .put_object(&obj("late", b"x"), in_secs(4))
        .await
        .expect_err("token ran out");
    assert!(err.is_credentials_rejected(), "{err}");
    assert_eq!(err.attempts(), 1, "{err}");
    assert!(started.elapsed() < Duration::from_secs(1), "not retried");
    let msg = err.to_string();
    assert!(
        msg.starts_with(
            "COS PUT credentials refused after 1 attempt(s): 403 InvalidAccessKeyId: \
             The security token you provided has expired."
        ),
        "{msg}"
    );
    assert!(!msg.contains("SessionTokenValue"), "{msg}");
    let store_err = mps_cos_backup::store::StoreError::from(err);
    assert!(store_err.credentials_rejected());
    assert_eq!(cos.request_count(), 4);
    assert_eq!(cos.stats().token_expired, 1);
    assert!(cos.object("late").is_none());
    assert_clean(&cos);
}

#[tokio::test]
async fn clock_skew_is_corrected_from_the_server_date_and_resigned() {
    for skew in [3600i64, -3600] {
        let cos = FakeCos::start(FakeCosOptions {
            clock_skew_secs: skew,
            ..opts_with_token()
        })
        .await;
        let client = client_for(&cos);
        let out = client
            .put_object(&obj("skew/a", b"one"), in_secs(4))
            .await
            .unwrap_or_else(|e| panic!("skew {skew}: {e}"));
        assert_eq!(out.attempts, 2, "skew {skew}");
        assert!(
            (client.clock_offset_secs() - skew).abs() <= 2,
            "offset learned"
        );
        assert_eq!(cos.stats().skew_rejections, 1);
        // The learned offset sticks: the next PUT needs one attempt.
        let out = client
            .put_object(&obj("skew/b", b"two"), in_secs(4))
            .await
            .expect("second put");
        assert_eq!(out.attempts, 1);
        assert_eq!(cos.object("skew/a").expect("a").body, b"one");
        assert_clean(&cos);
    }
}

#[tokio::test]
async fn skew_is_retried_only_once() {
    let cos = FakeCos::start(opts_with_token()).await;
    let client = client_for(&cos);
    cos.push_faults([Fault::RequestTimeTooSkewed, Fault::RequestExpired]);
    let err = client
        .put_object(&obj("k", b"x"), in_secs(4))
        .await
        .expect_err("second skew is final");
    assert_eq!(err.attempts(), 2);
    assert!(err.to_string().contains("Request has expired"), "{err}");
    assert_clean(&cos);
}

#[tokio::test]
async fn permanent_503_returns_before_the_deadline() {
    let cos = FakeCos::start(FakeCosOptions {
        rates: FaultRates {
            slow_down: 1.0,
            ..FaultRates::default()
        },
        ..opts_with_token()
    })
    .await;
    let client = client_for(&cos);
    let deadline = in_secs(2);
    let err = client
        .put_object(&obj("k", b"x"), deadline)
        .await
        .expect_err("never succeeds");
    let now = Instant::now();
    assert!(
        now < deadline,
        "returned {:?} after the deadline",
        now - deadline
    );
    assert!(err.attempts() >= 2, "{err}");
    assert_eq!(err.attempts() as usize, cos.request_count());
    let msg = err.to_string();
    assert!(
        msg.contains("503 SlowDown: Please reduce your request rate."),
        "{msg}"
    );
    assert!(matches!(
        err,
        CosError::GaveUp {
            gave_up: GaveUp {
                ending: Ending::Exhausted(_) | Ending::OutOfTime(_),
                ..
            },
            ..
        }
    ));
    assert_clean(&cos);
}

#[tokio::test]
async fn permanent_stall_returns_before_the_deadline() {
    let cos = FakeCos::start(FakeCosOptions {
        rates: FaultRates {
            stall: 1.0,
            stall_for: Duration::from_secs(30),
            ..FaultRates::default()
        },
        ..opts_with_token()
    })
    .await;
    let client = client_for(&cos);
    let deadline = in_secs(2);
    let err = client
        .put_object(&obj("k", b"x"), deadline)
        .await
        .expect_err("never answers");
    let now = Instant::now();
    assert!(
        now < deadline,
        "returned {:?} after the deadline",
        now - deadline
    );
    let msg = err.to_string();
    assert!(msg.starts_with("COS PUT out of time after "), "{msg}");
    assert!(msg.contains("no answer from 127.0.0.1:"), "{msg}");
    assert!(cos.object("k").is_none());
}

#[tokio::test]
async fn a_deadline_already_too_close_sends_nothing() {
    let cos = FakeCos::start(opts_with_token()).await;
    let client = client_for(&cos);
    let err = client
        .put_object(&obj("k", b"x"), Instant::now() + Duration::from_millis(50))
        .await
        .expect_err("no time");
    assert_eq!(err.attempts(), 0);
    assert_eq!(cos.request_count(), 0);
    assert!(err.to_string().contains("out of time after 0 attempt(s);"));
}

#[tokio::test]
async fn awkward_keys_are_stored_under_exactly_the_right_key() {
    let cos = FakeCos::start(opts_with_token()).await;
    let client = client_for(&cos);
    let keys = [
        "视频/任务 2024/腾讯云(1).json",
        "a b/c+d~e(f)*g%h?i#j&k=l.json",
        "100%/%20literal/%2F.json",
        "dir/a b+c~(1)*.txt",
        "emoji/🎬.json",
        "quote\"s'and;semi:colon,comma@at!bang$dollar[x]{y}|pipe^caret`tick.json",
        "..dots../...json",
        "trailing/",
    ];
    for (i, key) in keys.iter().enumerate() {
        let body = format!("body {i}");
        client
            .put_object(&obj(key, body.as_bytes()), in_secs(4))
            .await
            .unwrap_or_else(|e| panic!("{key}: {e}"));
        let stored = cos.object(key).unwrap_or_else(|| {
            panic!(
                "{key:?} not stored; have {:?}",
                cos.objects().keys().collect::<Vec<_>>()
            )
        });
        assert_eq!(stored.body, body.as_bytes());
    }
    assert_eq!(cos.objects().len(), keys.len());
    assert_clean(&cos);
}

#[tokio::test]
async fn keys_a_url_would_rewrite_are_refused_without_sending() {
    let cos = FakeCos::start(opts_with_token()).await;
    let client = client_for(&cos);
    for key in ["", "/abs", "a/../b", "a/./b", "ctl\u{1}x"] {
        let err = client
            .put_object(&obj(key, b"x"), in_secs(4))
            .await
            .expect_err("refused");
        assert_eq!(err.attempts(), 0);
        assert!(err
            .to_string()
            .starts_with("COS PUT refused before sending: invalid object key"));
    }
    assert_eq!(cos.request_count(), 0);
}

#[tokio::test]
async fn no_credential_appears_in_any_error() {
    let o = opts_with_token();
    let secrets = [
        o.secret_id.clone(),
        o.secret_key.clone(),
        o.session_token.clone().unwrap_or_default(),
    ];
    let cos = FakeCos::start(o.clone()).await;
    let client = client_for(&cos);
    let mut errors: Vec<CosError> = Vec::new();
    // Rejected, with a server that echoes the SecretId and token back.
    cos.push_faults([Fault::Status(
        403,
        "AccessDenied".into(),
        format!("key {} token {} denied", secrets[0], secrets[2]),
    )]);
    errors.push(
        client
            .put_object(&obj("k", b"x"), in_secs(3))
            .await
            .expect_err("rejected"),
    );
    // Retries exhausted on 5xx.
    cos.set_rates(FaultRates {
        internal_error: 1.0,
        ..FaultRates::default()
    });
    errors.push(
        client
            .put_object(&obj("k", b"x"), in_secs(2))
            .await
            .expect_err("5xx"),
    );
    // Wrong signature (verification failure inside the fake).
    let bad = Credentials::new(secrets[0].clone(), "not-the-key", Some(secrets[2].clone()));
    let bad_client = CosClient::new(http(), cos.bucket(), bad);
    cos.set_rates(FaultRates::default());
    errors.push(
        bad_client
            .put_object(&obj("k", b"x"), in_secs(2))
            .await
            .expect_err("bad sig"),
    );
    // Transport errors: nothing listens there.
    let dead = cos
        .bucket()
        .with_endpoint(Endpoint::parse("http://127.0.0.1:1").expect("endpoint"));
    let dead_client = CosClient::new(http(), dead, cos.credentials());
    errors.push(
        dead_client
            .put_object(&obj("k", b"x"), in_secs(1))
            .await
            .expect_err("refused"),
    );
    for e in &errors {
        let shown = format!("{e} || {e:?}");
        for s in &secrets {
            assert!(!shown.contains(s.as_str()), "secret leaked: {shown}");
        }
        assert!(!e.to_string().contains('\n'));
        assert!(!shown.contains("q-signature"), "{shown}");
    }
    assert!(errors[0].to_string().contains("key *** token *** denied"));
    assert!(errors[2].to_string().contains("SignatureDoesNotMatch"));
    assert!(
        errors[3].to_string().contains("connection error"),
        "{}",
        errors[3]
    );
    // Only the deliberately wrong key tripped the fake's verification.
    assert_eq!(cos.verification_failures().len(), 1);
}

/// 1,000 PUTs, 30% 5xx and 10% resets, 3 s deadline each, 50 at a time: each is stored
/// exactly or fails, in time.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn thousand_puts_under_faults_each_stored_exactly_or_failed_in_time() {
    let cos = Arc::new(
        FakeCos::start(FakeCosOptions {
            rates: FaultRates {
                internal_error: 0.15,
                slow_down: 0.15,
                reset: 0.10,
                ..FaultRates::default()
            },
            seed: 42,
            ..opts_with_token()
        })
        .await,
    );
    let client = client_for(&cos);
    let sem = Arc::new(tokio::sync::Semaphore::new(50));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for i in 0..1000u32 {
        let client = client.clone();
        let sem = sem.clone();
        tasks.push(tokio::spawn(async move {
            let _permit = sem.acquire_owned().await.expect("semaphore");
            let key = format!("bar/{i:04}.json");
            let body = format!(
                "{{\"n\":{i},\"pad\":\"{}\"}}",
                "x".repeat((i % 97) as usize)
            );
            let deadline = Instant::now() + Duration::from_secs(3);
            let res = client
                .put_object(&obj(&key, body.as_bytes()), deadline)
                .await;
            let finished = Instant::now();
            (key, body, res, finished <= deadline)
        }));
    }
    let (mut ok, mut failed, mut attempts) = (0u32, 0u32, 0u32);
    let mut failure_lines = Vec::new();
    for t in tasks {
        let (key, body, res, in_time) = t.await.expect("task");
        assert!(in_time, "{key} overran its deadline");
        match res {
            Ok(out) => {
                ok += 1;
                attempts += out.attempts;
                let stored = cos
                    .object(&key)
                    .unwrap_or_else(|| panic!("{key} not stored"));
                assert_eq!(stored.body, body.as_bytes(), "{key} stored bytes differ");
            }
            Err(e) => {
                failed += 1;
                attempts += e.attempts();
                assert!(e.attempts() >= 1, "{key}: {e}");
                let line = e.to_string();
                assert!(
                    line.starts_with("COS PUT failed after ")
                        || line.starts_with("COS PUT out of time after "),
                    "{key}: unexpected error class: {line}"
                );
                failure_lines.push(line);
            }
        }
    }
    let stats = cos.stats();
    println!(
        "bar test: succeeded {ok} / failed {failed} / total attempts {attempts} \
         (fake saw {} requests, {} faults) in {:?}",
        stats.requests,
        stats.faults,
        started.elapsed()
    );
    for line in &failure_lines {
        println!("  failed: {line}");
    }
    assert_eq!(ok + failed, 1000);
    assert_eq!(
        u64::from(attempts),
        stats.requests,
        "every attempt reached the fake"
    );
    assert!(stats.faults > 0, "faults were injected");
    assert_clean(&cos);
}

#[tokio::test]
async fn bad_metadata_is_refused_without_sending() {
    let cos = FakeCos::start(opts_with_token()).await;
    let client = client_for(&cos);
    let big = "v".repeat(2100);
    let cases: [&[(&str, &str)]; 4] = [
        &[("bad name", "v")],
        &[("under_score", "v")],
        &[("note", "line\nbreak")],
        &[("big", big.as_str())],
    ];
    for meta in cases {
        let o = PutObject {
            metadata: meta,
            ..obj("k", b"x")
        };
        let err = client
            .put_object(&o, in_secs(3))
            .await
            .expect_err("refused");
        assert_eq!(err.attempts(), 0, "{meta:?}");
        assert!(
            err.to_string()
                .starts_with("COS PUT refused before sending: metadata"),
            "{err}"
        );
    }
    assert_eq!(cos.request_count(), 0);
}

#[tokio::test]
async fn a_redirect_is_final_and_nothing_reaches_the_other_host() {
    for status in [301, 302, 303, 307, 308] {
        let cos = FakeCos::start(opts_with_token()).await;
        let other = FakeCos::start(opts_with_token()).await;
        let client = client_for(&cos);
        cos.push_faults([Fault::Redirect(status, format!("{}/k", other.url()))]);
        let err = client
            .put_object(&obj("k", b"record"), in_secs(4))
            .await
            .expect_err("a redirect is not a confirmed write");
        assert_eq!(err.attempts(), 1, "{status}: {err}");
        assert!(!err.is_credentials_rejected(), "{status}: {err}");
        let msg = err.to_string();
        let want = format!(
            "COS PUT rejected after 1 attempt(s): {status} redirect to {}",
            other.addr().ip()
        );
        assert!(msg.starts_with(&want), "{msg}");
        assert!(!msg.contains("SessionTokenValue"), "{msg}");
        assert_eq!(
            other.request_count(),
            0,
            "{status}: the other host got a request"
        );
        assert_eq!(cos.request_count(), 1);
        assert!(cos.objects().is_empty() && other.objects().is_empty());
        assert_clean(&cos);
    }
}

#[tokio::test]
async fn a_redirect_back_to_the_same_host_is_not_a_loop() {
    let cos = FakeCos::start(opts_with_token()).await;
    let client = client_for(&cos);
    cos.push_faults([Fault::Redirect(307, format!("{}/k", cos.url()))]);
    let err = client
        .put_object(&obj("k", b"x"), in_secs(4))
        .await
        .expect_err("redirect");
    assert!(err.to_string().contains("307 redirect to"), "{err}");
    assert_eq!(cos.request_count(), 1);
}

/// Resident memory of this process, KiB.
fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

#[tokio::test]
async fn an_endless_answer_is_cut_at_a_small_bound_within_the_deadline() {
    let o = opts_with_token();
    let creds = Credentials::new(
        o.secret_id.clone(),
        o.secret_key.clone(),
        o.session_token.clone(),
    );
    for mode in [Endless::Ok, Endless::Error(503), Endless::Error(500)] {
        let server = EndlessCos::start(mode).await;
        let bucket = bucket_at("examplebucket-1250000000", &server.url());
        let client = CosClient::new(http(), bucket, creds.clone());
        let rss_before = rss_kib();
        let started = Instant::now();
        let deadline = in_secs(3);
        let err = client
            .put_object(&obj("k", b"record"), deadline)
            .await
            .expect_err("an endless answer confirms nothing");
        assert!(Instant::now() < deadline, "{mode:?}: past the deadline");
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{mode:?}: took {:?}",
            started.elapsed()
        );
        let msg = err.to_string();
        assert!(
            msg.starts_with(
                "COS PUT rejected after 1 attempt(s): answer body longer than 65536 bytes"
            ),
            "{mode:?}: {msg}"
        );
        assert_eq!(
            err.attempts(),
            1,
            "{mode:?}: an endless body is not retried"
        );
        assert_eq!(server.connections(), 1);
        // Other tests run beside this one: the bound is loose, the failure it guards
        // against is gigabytes.
        let grown_kib = rss_kib().saturating_sub(rss_before);
        assert!(grown_kib < 32 * 1024, "{mode:?}: RSS grew {grown_kib} KiB");
        assert!(
            server.body_bytes_sent() < 64 << 20,
            "{mode:?}: the server wrote {} bytes",
            server.body_bytes_sent()
        );
    }
}

#[tokio::test]
async fn every_way_of_writing_an_answer_is_read_quickly() {
    use common::http::Writes;
    for writes in [
        Writes::Single,
        Writes::Split,
        Writes::Chunked,
        Writes::Close,
    ] {
        let cos = FakeCos::start(FakeCosOptions {
            writes,
            ..opts_with_token()
        })
        .await;
        let client = client_for(&cos);
        // Success answers and error answers (which have a body) alike.
        cos.push_faults([Fault::SlowDown, Fault::TooManyRequests]);
        let started = Instant::now();
        for i in 0..20 {
            let key = format!("w/{i}");
            let out = client
                .put_object(&obj(&key, b"x"), in_secs(4))
                .await
                .unwrap_or_else(|e| panic!("{writes:?}: {e}"));
            assert_eq!(out.attempts, if i == 0 { 3 } else { 1 }, "{writes:?}");
        }
        // 22 exchanges; a 40 ms stall on each would take about 900 ms, backoff aside.
        let took = started.elapsed();
        assert!(took < Duration::from_millis(600), "{writes:?}: {took:?}");
        assert_clean(&cos);
    }
}
