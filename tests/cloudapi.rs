//! The SCF `Invoke` client against the verifying fake Cloud API on loopback: delivery byte for
//! byte, every retry class, credentials rejected, final errors, the 128 KiB limit, deadlines,
//! secrets; and selftests showing the fake refuses what a wrong client would send.
mod common;

use std::time::{Duration, Instant};

use common::fake_cloudapi::{
    tc3_authorization, ApiFault, ApiFaultRates, FakeCloudApi, FakeCloudApiOptions,
};
use mps_cos_backup::cloudapi::client::{Answered, CallError, CloudApiClient, CloudApiConfig};
use mps_cos_backup::cloudapi::invoke::{
    build_request, BuildError, InvokeInput, Invoked, QualifiedFunction, MAX_EVENT_CLIENT_CONTEXT,
};
use mps_cos_backup::credentials::Credentials;
use mps_cos_backup::retry::{Ending, GaveUp, RetryPolicy};
use mps_cos_backup::transport::{Bounds, HttpClient, Method, Request, Uri};

const TOKEN: &str = "SessionToken-must-never-leak-4242";

fn opts() -> FakeCloudApiOptions {
    FakeCloudApiOptions {
        session_token: Some(TOKEN.into()),
        ..FakeCloudApiOptions::default()
    }
}

fn fast_policy() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 8,
        base_backoff: Duration::from_millis(5),
        max_backoff: Duration::from_millis(40),
        max_attempt_time: Duration::from_secs(2),
        min_attempt_time: Duration::from_millis(50),
        reserve: Duration::from_millis(20),
    }
}

fn creds(o: &FakeCloudApiOptions) -> Credentials {
    Credentials::new(&o.secret_id, &o.secret_key, o.session_token.clone())
}

fn client(api: &FakeCloudApi, credentials: Credentials) -> CloudApiClient {
    CloudApiClient::with_policy(
        HttpClient::new(),
        CloudApiConfig {
            endpoint: api.url().parse().unwrap(),
            region: api.options().region,
            credentials,
        },
        fast_policy(),
    )
}

fn function() -> QualifiedFunction {
    QualifiedFunction::new("default", "biz-handler", "$LATEST").unwrap()
}

/// Invokes [`function`] with `callback` through a new client holding the fake's credentials.
async fn invoke(
    api: &FakeCloudApi,
    callback: &[u8],
    deadline: Instant,
) -> Result<Answered<Invoked>, CallError> {
    client(api, creds(&api.options()))
        .invoke(&function(), callback, deadline)
        .await
}

fn in_secs(s: u64) -> Instant {
    Instant::now() + Duration::from_secs(s)
}

const CALLBACK: &str = "{\"EventType\":\"WorkflowTask\",\"WorkflowTaskEvent\":{\"TaskId\":\"24000022-WorkflowTask-b20a8d9\",\"Status\":\"FINISH\",\"Big\":123456789012345678901234567890,\"F\":1.50,\"Text\":\"é \\\" \\\\ \\u0001 </\"}}\n";

fn assert_clean(api: &FakeCloudApi) {
    let f = api.verification_failures();
    assert!(f.is_empty(), "fake Cloud API rejected requests: {f:#?}");
}

#[tokio::test]
async fn delivers_the_callback_byte_for_byte_with_the_session_token() {
    let api = FakeCloudApi::start(opts()).await;
    let done = invoke(&api, CALLBACK.as_bytes(), in_secs(5)).await.unwrap();
    assert_eq!(done.attempts, 1);
    assert_clean(&api);
    let d = api.deliveries();
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].client_context.as_bytes(), CALLBACK.as_bytes());
    assert_eq!(
        (
            d[0].namespace.as_str(),
            d[0].name.as_str(),
            d[0].qualifier.as_str()
        ),
        ("default", "biz-handler", "$LATEST")
    );
    assert_eq!(done.answer.request_id, d[0].request_id);
    assert_eq!(
        done.answer.function_request_id.as_deref(),
        Some(format!("fn-{}", d[0].request_id).as_str())
    );
}

#[tokio::test]
async fn long_term_keys_send_no_token() {
    let o = FakeCloudApiOptions::default();
    let api = FakeCloudApi::start(o.clone()).await;
    let f = QualifiedFunction::new("prod", "consumer_1", "live").unwrap();
    let done = client(&api, creds(&o))
        .invoke(&f, b"{}", in_secs(5))
        .await
        .unwrap();
    assert_eq!(done.attempts, 1);
    assert_clean(&api);
    let d = &api.deliveries()[0];
    assert_eq!(
        (d.namespace.as_str(), d.qualifier.as_str()),
        ("prod", "live")
    );
}

#[tokio::test]
async fn retryable_answers_are_retried() {
    let api = FakeCloudApi::start(opts()).await;
    api.push_faults([
        ApiFault::InternalError,
        ApiFault::RequestLimitExceeded,
        ApiFault::ResourceUnavailable,
        ApiFault::ApiError("InternalError.System".into()),
        ApiFault::Http(502),
        ApiFault::Http(429),
        ApiFault::Reset,
    ]);
    let done = invoke(&api, CALLBACK.as_bytes(), in_secs(10))
        .await
        .unwrap();
    assert_eq!(done.attempts, 8);
    assert_clean(&api);
    assert_eq!(api.deliveries().len(), 1);
}

#[tokio::test]
async fn a_stall_costs_one_attempt_not_the_deadline() {
    let api = FakeCloudApi::start(opts()).await;
    api.push_faults([ApiFault::Stall(Duration::from_secs(30))]);
    let started = Instant::now();
    let done = invoke(&api, CALLBACK.as_bytes(), in_secs(3)).await.unwrap();
    assert_eq!(done.attempts, 2);
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[tokio::test]
async fn a_lost_answer_is_redelivered_at_least_once() {
    let api = FakeCloudApi::start(opts()).await;
    api.push_faults([ApiFault::ResetAfterDelivery]);
    let done = invoke(&api, CALLBACK.as_bytes(), in_secs(5)).await.unwrap();
    assert_eq!(done.attempts, 2);
    let d = api.deliveries();
    assert_eq!(d.len(), 2);
    assert!(d.iter().all(|d| d.client_context == CALLBACK));
}

#[tokio::test]
async fn wrong_secret_key_is_final_at_once_without_stopping_the_instance() {
    let o = opts();
    let api = FakeCloudApi::start(o.clone()).await;
    let bad = Credentials::new(&o.secret_id, "wrong-secret-key-value", Some(TOKEN.into()));
    let err = client(&api, bad)
        .invoke(&function(), CALLBACK.as_bytes(), in_secs(5))
        .await
        .unwrap_err();
    // A fresh instance would read the same key: final for this callback, the process goes on.
    assert!(!err.is_credentials_rejected(), "{err}");
    assert_eq!(err.attempts(), 1);
    let text = err.to_string();
    assert!(
        text.starts_with("rejected after 1 attempt(s): AuthFailure.SignatureFailure: "),
        "{text}"
    );
    assert!(text.contains("(request id fake-err-"), "{text}");
    for secret in ["wrong-secret-key-value", TOKEN, &o.secret_key] {
        assert!(!text.contains(secret) && !format!("{err:?}").contains(secret));
    }
    assert_eq!(api.stats().signature_failures, 1);
    assert!(api.deliveries().is_empty());
}

#[tokio::test]
async fn expired_token_is_credentials_rejected() {
    let api = FakeCloudApi::start(opts()).await;
    api.push_faults([ApiFault::TokenExpired]);
    let err = invoke(&api, CALLBACK.as_bytes(), in_secs(5))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            CallError::GaveUp(GaveUp {
                attempts: 1,
                ending: Ending::CredentialsRejected(_)
            })
        ),
        "{err}"
    );
    assert_eq!(
        err.last_failure().and_then(|f| f.code()),
        Some("AuthFailure.TokenFailure")
    );
}

#[tokio::test]
async fn a_missing_permission_is_final_and_names_the_action_and_target() {
    let api = FakeCloudApi::start(opts()).await;
    api.push_faults([ApiFault::ApiErrorWithMessage(
        "AuthFailure.UnauthorizedOperation".into(),
        "you are not authorized to perform operation (scf:InvokeFunction)".into(),
    )]);
    let err = invoke(&api, CALLBACK.as_bytes(), in_secs(5))
        .await
        .unwrap_err();
    assert!(!err.is_credentials_rejected(), "{err}");
    assert!(
        matches!(
            err,
            CallError::GaveUp(GaveUp {
                attempts: 1,
                ending: Ending::PermissionDenied { .. }
            })
        ),
        "{err}"
    );
    let text = err.to_string();
    assert!(
        text.starts_with(
            "refused after 1 attempt(s): the role lacks scf:InvokeFunction on \
             scf:default/biz-handler:$LATEST: AuthFailure.UnauthorizedOperation: "
        ),
        "{text}"
    );
    assert_eq!(api.stats().requests, 1, "not retried");
}

#[tokio::test]
async fn a_skewed_clock_is_signed_again_once_with_the_server_time() {
    // The API's clock is 20 minutes ahead: the first request is too old for it.
    let api = FakeCloudApi::start(FakeCloudApiOptions {
        clock_skew_secs: 1200,
        ..opts()
    })
    .await;
    let c = client(&api, creds(&api.options()));
    let done = c
        .invoke(&function(), CALLBACK.as_bytes(), in_secs(5))
        .await
        .unwrap();
    assert_eq!(done.attempts, 2);
    assert_eq!(api.deliveries().len(), 1);
    // The learned offset stays: the next invocation is right the first time.
    let again = c
        .invoke(&function(), CALLBACK.as_bytes(), in_secs(5))
        .await
        .unwrap();
    assert_eq!(again.attempts, 1);
    // A clock the API still refuses after one correction is final, not retried for ever.
    api.push_faults([
        ApiFault::ApiError("AuthFailure.SignatureExpire".into()),
        ApiFault::ApiError("AuthFailure.SignatureExpire".into()),
        ApiFault::ApiError("AuthFailure.SignatureExpire".into()),
    ]);
    let err = c
        .invoke(&function(), CALLBACK.as_bytes(), in_secs(5))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            CallError::GaveUp(GaveUp {
                attempts: 2,
                ending: Ending::Rejected(_)
            })
        ),
        "{err}"
    );
    assert!(!err.is_credentials_rejected());
}

#[tokio::test]
async fn unknown_function_is_final_and_named() {
    let api = FakeCloudApi::start(FakeCloudApiOptions {
        functions: Some(vec![("default".into(), "other".into(), "$LATEST".into())]),
        ..opts()
    })
    .await;
    let err = invoke(&api, CALLBACK.as_bytes(), in_secs(5))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            CallError::GaveUp(GaveUp {
                attempts: 1,
                ending: Ending::Rejected(_)
            })
        ),
        "{err}"
    );
    let text = err.to_string();
    assert!(
        text.starts_with("rejected after 1 attempt(s): ResourceNotFound.Function: function default/biz-handler:$LATEST does not exist (request id "),
        "{text}"
    );
}

#[tokio::test]
async fn redirects_are_final_and_not_followed() {
    let api = FakeCloudApi::start(opts()).await;
    api.push_faults([ApiFault::Redirect]);
    let err = invoke(&api, CALLBACK.as_bytes(), in_secs(5))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            CallError::GaveUp(GaveUp {
                attempts: 1,
                ending: Ending::Rejected(_)
            })
        ),
        "{err}"
    );
    assert!(err.to_string().contains("302"), "{err}");
    assert!(err.to_string().contains("elsewhere.example"), "{err}");
}

#[tokio::test]
async fn too_large_is_refused_before_sending() {
    let api = FakeCloudApi::start(opts()).await;
    let mut big = String::from("{\"p\":\"");
    big.push_str(&"x".repeat(MAX_EVENT_CLIENT_CONTEXT));
    big.push_str("\"}");
    let err = invoke(&api, big.as_bytes(), in_secs(5)).await.unwrap_err();
    assert!(
        matches!(err, CallError::NotSent(BuildError::TooLarge { .. })),
        "{err}"
    );
    assert_eq!(err.attempts(), 0);
    assert_eq!(api.stats().requests, 0);
}

#[tokio::test]
async fn persistent_failure_ends_inside_the_deadline() {
    let api = FakeCloudApi::start(FakeCloudApiOptions {
        rates: ApiFaultRates {
            internal_error: 1.0,
            ..Default::default()
        },
        ..opts()
    })
    .await;
    let started = Instant::now();
    let deadline = Instant::now() + Duration::from_millis(400);
    let err = invoke(&api, CALLBACK.as_bytes(), deadline)
        .await
        .unwrap_err();
    assert!(
        Instant::now() <= deadline,
        "overran by {:?}",
        started.elapsed()
    );
    assert!(
        matches!(
            err,
            CallError::GaveUp(GaveUp {
                ending: Ending::OutOfTime(_) | Ending::Exhausted(_),
                ..
            })
        ),
        "{err}"
    );
    assert!(err.to_string().contains("InternalError"), "{err}");
}

#[tokio::test]
async fn under_random_faults_every_invocation_is_delivered() {
    let api = FakeCloudApi::start(FakeCloudApiOptions {
        rates: ApiFaultRates {
            internal_error: 0.15,
            http_5xx: 0.05,
            reset: 0.05,
            stall: 0.02,
            stall_for: Duration::from_secs(5),
            ..Default::default()
        },
        seed: 7,
        ..opts()
    })
    .await;
    let c = client(&api, creds(&api.options()));
    for i in 0..40 {
        let cb = format!("{{\"EventType\":\"WorkflowTask\",\"N\":{i}}}");
        c.invoke(&function(), cb.as_bytes(), in_secs(10))
            .await
            .unwrap();
    }
    assert_clean(&api);
    let got: Vec<String> = api
        .deliveries()
        .into_iter()
        .map(|d| d.client_context)
        .collect();
    assert_eq!(got.len(), 40);
    assert!(api.stats().faults > 0);
}

// ---------- selftests: the fake refuses what a wrong client would send ----------

fn endpoint(api: &FakeCloudApi) -> Uri {
    api.url().parse().unwrap()
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn good_request(api: &FakeCloudApi, callback: &[u8]) -> Request {
    let o = api.options();
    build_request(&InvokeInput {
        endpoint: &endpoint(api),
        region: &o.region,
        credentials: &creds(&o),
        function: &function(),
        callback,
        timestamp: now(),
    })
    .unwrap()
}

async fn send(req: Request) -> serde_json::Value {
    let answer = HttpClient::new()
        .send(
            req,
            Bounds {
                max_body: 1 << 20,
                deadline: Some(in_secs(5)),
            },
        )
        .await
        .unwrap();
    assert_eq!(answer.status.as_u16(), 200);
    serde_json::from_slice(&answer.body).unwrap()
}

fn code(v: &serde_json::Value) -> Option<&str> {
    v["Response"]["Error"]["Code"].as_str()
}

#[tokio::test]
async fn fake_accepts_the_crate_request_and_refuses_a_tampered_body() {
    let api = FakeCloudApi::start(opts()).await;
    let v = send(good_request(&api, b"{\"a\":1}")).await;
    assert_eq!(code(&v), None, "{v}");
    let mut req = good_request(&api, b"{\"a\":1}");
    req.body = bytes::Bytes::from(
        String::from_utf8(req.body.to_vec())
            .unwrap()
            .replace("{\\\"a\\\":1}", "{\\\"a\\\":2}"),
    );
    let v = send(req).await;
    assert_eq!(code(&v), Some("AuthFailure.SignatureFailure"), "{v}");
    assert_eq!(api.deliveries().len(), 1);
}

#[tokio::test]
async fn fake_refuses_a_missing_or_wrong_token_and_bad_headers() {
    let api = FakeCloudApi::start(opts()).await;
    let mut req = good_request(&api, b"{}");
    req.headers.remove("x-tc-token");
    assert_eq!(code(&send(req).await), Some("AuthFailure.TokenFailure"));
    let mut req = good_request(&api, b"{}");
    req.headers.insert("x-tc-token", "other".parse().unwrap());
    assert_eq!(code(&send(req).await), Some("AuthFailure.TokenFailure"));
    let mut req = good_request(&api, b"{}");
    req.headers
        .insert("x-tc-region", "ap-beijing".parse().unwrap());
    assert_eq!(code(&send(req).await), Some("InvalidParameterValue.Region"));
    let mut req = good_request(&api, b"{}");
    req.headers
        .insert("x-tc-version", "2017-01-01".parse().unwrap());
    assert_eq!(code(&send(req).await), Some("NoSuchVersion"));
    let mut req = good_request(&api, b"{}");
    req.headers
        .insert("x-tc-action", "ListFunctions".parse().unwrap());
    // x-tc-action is signed: changing it breaks the signature first or the action check.
    assert!(code(&send(req).await).is_some());
    assert!(api.deliveries().is_empty());
    assert_eq!(api.verification_failures().len(), 5);
}

#[tokio::test]
async fn fake_refuses_an_old_timestamp_even_when_correctly_signed() {
    let api = FakeCloudApi::start(opts()).await;
    let o = api.options();
    let req = build_request(&InvokeInput {
        endpoint: &endpoint(&api),
        region: &o.region,
        credentials: &creds(&o),
        function: &function(),
        callback: b"{}",
        timestamp: now() - 301,
    })
    .unwrap();
    assert_eq!(code(&send(req).await), Some("AuthFailure.SignatureExpire"));
}

#[tokio::test]
async fn fake_refuses_an_oversized_client_context_signed_with_its_own_signer() {
    let api = FakeCloudApi::start(opts()).await;
    let o = api.options();
    let mut big = String::from("{\"p\":\"");
    big.push_str(&"x".repeat(MAX_EVENT_CLIENT_CONTEXT));
    big.push_str("\"}");
    let body = serde_json::json!({
        "FunctionName": "biz-handler", "InvocationType": "Event",
        "Namespace": "default", "Qualifier": "$LATEST", "ClientContext": big,
    })
    .to_string();
    let ts = now() as i64;
    let ct = "application/json; charset=utf-8";
    let signed = vec![
        ("content-type".to_string(), ct.to_string()),
        ("host".to_string(), api.host()),
    ];
    let mut req = Request::new(Method::POST, endpoint(&api));
    req.headers.insert("content-type", ct.parse().unwrap());
    req.headers.insert("host", api.host().parse().unwrap());
    req.headers.insert("x-tc-action", "Invoke".parse().unwrap());
    req.headers
        .insert("x-tc-version", "2018-04-16".parse().unwrap());
    req.headers.insert("x-tc-region", o.region.parse().unwrap());
    req.headers
        .insert("x-tc-timestamp", ts.to_string().parse().unwrap());
    req.headers.insert("x-tc-token", TOKEN.parse().unwrap());
    let auth = tc3_authorization(&o.secret_id, &o.secret_key, ts, &signed, body.as_bytes());
    req.headers.insert("authorization", auth.parse().unwrap());
    req.body = body.into();
    let v = send(req).await;
    assert_eq!(code(&v), Some("InvalidParameterValue.ClientContext"), "{v}");
    assert!(api.deliveries().is_empty());
}

#[test]
fn fake_signer_agrees_with_the_reference_vector() {
    // The fake's own TC3 code reproduces the reference's vector 2, so it is a fair judge.
    let payload = r#"{"FunctionName":"biz-handler","InvocationType":"Event","Namespace":"default","Qualifier":"$LATEST","ClientContext":"{\"EventType\":\"WorkflowTask\",\"WorkflowTaskEvent\":{\"TaskId\":\"t1\",\"Status\":\"FINISH\"}}"}"#;
    let signed = vec![
        (
            "content-type".to_string(),
            "application/json; charset=utf-8".to_string(),
        ),
        ("host".to_string(), "scf.tencentcloudapi.com".to_string()),
        ("x-tc-action".to_string(), "Invoke".to_string()),
    ];
    assert_eq!(
        common::fake_cloudapi::tc3_signature(
            "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE",
            1764000000,
            &signed,
            payload.as_bytes()
        ),
        "3261c3dbfa565d433b89d1dfd58e28030147762429640269a1a1a74bfb8f2541"
    );
}

#[tokio::test]
async fn secrets_echoed_by_the_api_are_masked_even_at_the_cut() {
    let o = opts();
    let api = FakeCloudApi::start(o.clone()).await;
    // The echo sits where the message is cut to length: no part of it may survive.
    let message = format!(
        "{} token {TOKEN} key {} id {}",
        "x".repeat(280),
        o.secret_key,
        o.secret_id
    );
    api.push_faults([ApiFault::ApiErrorWithMessage(
        "InvalidParameter".into(),
        message,
    )]);
    let err = invoke(&api, CALLBACK.as_bytes(), in_secs(5))
        .await
        .unwrap_err();
    let text = format!("{err} {err:?}");
    assert!(text.contains("InvalidParameter: xxx"), "{text}");
    for part in [&TOKEN[..8], &TOKEN[TOKEN.len() - 8..], &o.secret_key[..8]] {
        assert!(!text.contains(part), "{part} in {text}");
    }
    // Whole echoes are masked too, the SecretId included, as COS errors mask it.
    api.push_faults([ApiFault::ApiErrorWithMessage(
        "InvalidParameter".into(),
        format!("id {} key {}", o.secret_id, o.secret_key),
    )]);
    let err = invoke(&api, CALLBACK.as_bytes(), in_secs(5))
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("InvalidParameter: id *** key ***"),
        "{err}"
    );
}
