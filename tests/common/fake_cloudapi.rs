//! Fake Tencent Cloud API endpoint for SCF `Invoke`, on loopback, that VERIFIES every request.
//!
//! Verification uses this file's own TC3-HMAC-SHA256 implementation (nothing from the crate):
//! method and path, `Content-Type`, `Host`, `X-TC-Action: Invoke`, `X-TC-Version:
//! 2018-04-16`, `X-TC-Region`, `X-TC-Timestamp` within 5 minutes of the fake's clock,
//! `X-TC-Token` (present and equal when the fake has a token, absent otherwise), the
//! `Authorization` format, credential scope, signed header set (must include content-type and
//! host) and signature; then the body: `InvocationType` `Event`, a `ClientContext` string of at
//! most 128 KiB (131072 bytes) that is a JSON object, and, when the fake knows its functions,
//! an existing target. Failures are answered as the API does, an `Error` inside an HTTP 200
//! (`AuthFailure.SignatureFailure`, `AuthFailure.TokenFailure`, `AuthFailure.SignatureExpire`,
//! `AuthFailure.SecretIdNotFound`, `InvalidParameterValue.*`, `ResourceNotFound.Function`), and
//! recorded in [`FakeCloudApi::verification_failures`].
//!
//! A verified request then meets fault injection: the scripted queue
//! ([`FakeCloudApi::push_faults`]) first, else seeded random [`ApiFaultRates`]. Without a
//! fault, the invocation is recorded ([`FakeCloudApi::deliveries`]) and answered with a
//! `FunctionRequestId` and a `RequestId`.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use super::http::{Reply, Request, Response, Server, Writes};
use super::seeded::{lock, pick, serve_state, Faults, Seeded};

/// How the fake is set up.
#[derive(Debug, Clone)]
pub struct FakeCloudApiOptions {
    /// Expected SecretId.
    pub secret_id: String,
    /// Key the fake verifies signatures with.
    pub secret_key: String,
    /// When set, `X-TC-Token` must be present and equal; when unset it must be absent.
    pub session_token: Option<String>,
    /// Expected `X-TC-Region`.
    pub region: String,
    /// When set, only these `(namespace, name, qualifier)` exist; others are
    /// `ResourceNotFound.Function`. When unset, every function exists.
    pub functions: Option<Vec<(String, String, String)>>,
    /// The fake's clock = real clock + this many seconds.
    pub clock_skew_secs: i64,
    /// Seeded random faults on verified requests when the script is empty.
    pub rates: ApiFaultRates,
    /// Seed of the fault PRNG.
    pub seed: u64,
}

impl Default for FakeCloudApiOptions {
    fn default() -> Self {
        FakeCloudApiOptions {
            secret_id: "AKIDfakeCloudApi00000000000000000000".into(),
            secret_key: "fakeCloudApiSecretKey00000000000".into(),
            session_token: None,
            region: "ap-guangzhou".into(),
            functions: None,
            clock_skew_secs: 0,
            rates: ApiFaultRates::default(),
            seed: 1,
        }
    }
}

/// Probabilities (summed in this order) of faults on a verified request.
#[derive(Debug, Clone, Default)]
pub struct ApiFaultRates {
    /// `InternalError` inside an HTTP 200; not delivered.
    pub internal_error: f64,
    /// HTTP 502 or 503 with an HTML body (a gateway); not delivered.
    pub http_5xx: f64,
    /// TCP reset before answering; not delivered.
    pub reset: f64,
    /// Delivered, then the connection is reset: the answer is lost.
    pub reset_after_delivery: f64,
    /// Stall for `stall_for`, then close; not delivered.
    pub stall: f64,
    /// How long a random stall lasts.
    pub stall_for: Duration,
}

/// One injected fault.
#[derive(Debug, Clone, PartialEq)]
pub enum ApiFault {
    /// `InternalError` inside an HTTP 200.
    InternalError,
    /// `RequestLimitExceeded` inside an HTTP 200.
    RequestLimitExceeded,
    /// `ResourceUnavailable.Function` inside an HTTP 200 (retryable).
    ResourceUnavailable,
    /// `AuthFailure.TokenFailure` (forced): the token expired.
    TokenExpired,
    /// Any API error code inside an HTTP 200.
    ApiError(String),
    /// An API error code and message inside an HTTP 200 (a message may echo what was sent).
    ApiErrorWithMessage(String, String),
    /// An HTTP status with an HTML body.
    Http(u16),
    /// 302 to another host.
    Redirect,
    /// TCP reset before answering.
    Reset,
    /// Deliver, then reset.
    ResetAfterDelivery,
    /// Wait, then close without answering.
    Stall(Duration),
}

/// One invocation the fake accepted (recorded before the answer, which may be lost).
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    /// `Namespace` (`default` when absent).
    pub namespace: String,
    /// `FunctionName`.
    pub name: String,
    /// `Qualifier` (`$LATEST` when absent).
    pub qualifier: String,
    /// `ClientContext`, as the target function receives it.
    pub client_context: String,
    /// The `RequestId` answered.
    pub request_id: String,
}

/// Counters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FakeCloudApiStats {
    /// Requests received.
    pub requests: u64,
    /// Invocations recorded.
    pub delivered: u64,
    /// Faults injected.
    pub faults: u64,
    /// Requests that failed verification.
    pub verification_failures: u64,
    /// Signatures that did not verify.
    pub signature_failures: u64,
}

struct State {
    opts: FakeCloudApiOptions,
    host: String,
    deliveries: Vec<Delivery>,
    failures: Vec<String>,
    faults: Faults<ApiFault>,
    stats: FakeCloudApiStats,
}

/// A running fake Cloud API endpoint; stops when dropped.
pub struct FakeCloudApi {
    server: Server,
    state: Arc<Mutex<State>>,
}

impl FakeCloudApi {
    /// Starts the fake on a fresh loopback port.
    pub async fn start(opts: FakeCloudApiOptions) -> FakeCloudApi {
        let state = Arc::new(Mutex::new(State {
            faults: Faults::new(opts.seed),
            opts,
            host: String::new(),
            deliveries: Vec::new(),
            failures: Vec::new(),
            stats: FakeCloudApiStats::default(),
        }));
        let server = serve_state(Writes::from_env(), &state, handle).await;
        lock(&state).host = server.addr.to_string();
        FakeCloudApi { server, state }
    }

    /// `http://127.0.0.1:PORT` (the endpoint to configure).
    pub fn url(&self) -> String {
        self.server.url()
    }

    /// The Host a client must send and sign.
    pub fn host(&self) -> String {
        self.server.addr.to_string()
    }

    /// The options (credentials, region) in force.
    pub fn options(&self) -> FakeCloudApiOptions {
        lock(&self.state).opts.clone()
    }

    /// Every recorded invocation, in order.
    pub fn deliveries(&self) -> Vec<Delivery> {
        lock(&self.state).deliveries.clone()
    }

    /// Counters.
    pub fn stats(&self) -> FakeCloudApiStats {
        lock(&self.state).stats.clone()
    }

    /// One line per request that failed verification.
    pub fn verification_failures(&self) -> Vec<String> {
        lock(&self.state).failures.clone()
    }

    /// Queues faults for the next verified requests.
    pub fn push_faults(&self, faults: impl IntoIterator<Item = ApiFault>) {
        lock(&self.state).faults.push(faults);
    }

    /// Replaces the random fault rates.
    pub fn set_rates(&self, rates: ApiFaultRates) {
        lock(&self.state).opts.rates = rates;
    }
}

// ---------- the fake's own TC3-HMAC-SHA256 (independent of the crate) ----------

fn hex_lower(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    bytes
        .iter()
        .flat_map(|b| {
            [
                DIGITS[(b >> 4) as usize] as char,
                DIGITS[(b & 15) as usize] as char,
            ]
        })
        .collect()
}

fn mac(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut m = Hmac::<Sha256>::new_from_slice(key).expect("hmac key");
    m.update(data);
    m.finalize().into_bytes().to_vec()
}

/// Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm).
fn civil_date(timestamp: i64) -> String {
    let z = timestamp.div_euclid(86_400) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

/// The TC3 signature of a POST to `/` with these signed `(name, value)` headers, computed
/// from scratch. Public so selftests can sign requests the crate would refuse to build.
pub fn tc3_signature(
    secret_key: &str,
    timestamp: i64,
    signed: &[(String, String)],
    body: &[u8],
) -> String {
    tc3_signature_for("scf", secret_key, timestamp, signed, body)
}

/// [`tc3_signature`] in the credential scope of any `service` (`scf`, `cam`, `mps`).
pub fn tc3_signature_for(
    service: &str,
    secret_key: &str,
    timestamp: i64,
    signed: &[(String, String)],
    body: &[u8],
) -> String {
    let mut sorted: Vec<(String, String)> = signed
        .iter()
        .map(|(k, v)| (k.trim().to_lowercase(), v.trim().to_lowercase()))
        .collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    let names: Vec<&str> = sorted.iter().map(|(k, _)| k.as_str()).collect();
    let mut canonical = String::from("POST\n/\n\n");
    for (k, v) in &sorted {
        canonical += &format!("{k}:{v}\n");
    }
    canonical += &format!(
        "\n{}\n{}",
        names.join(";"),
        hex_lower(&Sha256::digest(body))
    );
    let date = civil_date(timestamp);
    let to_sign = format!(
        "TC3-HMAC-SHA256\n{timestamp}\n{date}/{service}/tc3_request\n{}",
        hex_lower(&Sha256::digest(canonical.as_bytes()))
    );
    let k_date = mac(format!("TC3{secret_key}").as_bytes(), date.as_bytes());
    let k_service = mac(&k_date, service.as_bytes());
    let k_signing = mac(&k_service, b"tc3_request");
    hex_lower(&mac(&k_signing, to_sign.as_bytes()))
}

/// A complete `Authorization` value for a request signed with [`tc3_signature`].
pub fn tc3_authorization(
    secret_id: &str,
    secret_key: &str,
    timestamp: i64,
    signed: &[(String, String)],
    body: &[u8],
) -> String {
    let mut names: Vec<String> = signed.iter().map(|(k, _)| k.to_lowercase()).collect();
    names.sort();
    format!(
        "TC3-HMAC-SHA256 Credential={secret_id}/{}/scf/tc3_request, SignedHeaders={}, Signature={}",
        civil_date(timestamp),
        names.join(";"),
        tc3_signature(secret_key, timestamp, signed, body)
    )
}

fn now_secs(skew: i64) -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
        + skew
}

fn api_error(st: &mut State, code: &str, message: &str) -> Reply {
    let body = serde_json::json!({
        "Response": {
            "Error": {"Code": code, "Message": message},
            "RequestId": format!("fake-err-{:06}", st.stats.requests),
        }
    });
    Reply::Send(
        Response::new(200, body.to_string())
            .header("Content-Type", "application/json")
            .header("Date", http_date(now_secs(st.opts.clock_skew_secs))),
    )
}

/// An RFC 2822 `Date` header value of the fake's (possibly skewed) clock, as the API sends.
fn http_date(secs: i64) -> String {
    chrono::DateTime::from_timestamp(secs, 0)
        .unwrap_or_default()
        .format("%a, %d %b %Y %H:%M:%S GMT")
        .to_string()
}

struct Rejection {
    code: &'static str,
    message: String,
}

fn reject(code: &'static str, message: impl Into<String>) -> Rejection {
    Rejection {
        code,
        message: message.into(),
    }
}

/// The invocation a request asks for, once every check passed.
struct Invocation {
    namespace: String,
    name: String,
    qualifier: String,
    client_context: String,
}

fn verify(st: &State, req: &Request) -> Result<Invocation, Rejection> {
    if req.method != "POST" || req.path() != "/" || !req.query().is_empty() {
        return Err(reject(
            "InvalidParameter",
            format!("expected POST /, got {} {}", req.method, req.target),
        ));
    }
    let header = |name: &str| req.header(name).unwrap_or("");
    if header("content-type") != "application/json; charset=utf-8" {
        return Err(reject(
            "InvalidParameter",
            format!("Content-Type {:?}", header("content-type")),
        ));
    }
    if header("host") != st.host {
        return Err(reject(
            "InvalidParameter",
            format!("Host {:?}", header("host")),
        ));
    }
    if header("x-tc-action") != "Invoke" {
        return Err(reject(
            "InvalidAction",
            format!("X-TC-Action {:?}", header("x-tc-action")),
        ));
    }
    if header("x-tc-version") != "2018-04-16" {
        return Err(reject(
            "NoSuchVersion",
            format!("X-TC-Version {:?}", header("x-tc-version")),
        ));
    }
    if header("x-tc-region") != st.opts.region {
        return Err(reject(
            "InvalidParameterValue.Region",
            format!("X-TC-Region {:?}", header("x-tc-region")),
        ));
    }
    let timestamp: i64 = header("x-tc-timestamp")
        .parse()
        .map_err(|_| reject("MissingParameter", "X-TC-Timestamp"))?;
    let now = now_secs(st.opts.clock_skew_secs);
    if (now - timestamp).abs() > 300 {
        return Err(reject(
            "AuthFailure.SignatureExpire",
            format!("X-TC-Timestamp {timestamp} is more than 5 minutes from {now}"),
        ));
    }
    match (&st.opts.session_token, req.header("x-tc-token")) {
        (Some(want), Some(got)) if want == got => {}
        (None, None) => {}
        (Some(_), None) => return Err(reject("AuthFailure.TokenFailure", "X-TC-Token missing")),
        (_, Some(_)) => return Err(reject("AuthFailure.TokenFailure", "X-TC-Token invalid")),
    }
    // Authorization: TC3-HMAC-SHA256 Credential=ID/DATE/scf/tc3_request, SignedHeaders=a;b, Signature=hex
    let auth = header("authorization");
    let rest = auth
        .strip_prefix("TC3-HMAC-SHA256 ")
        .ok_or_else(|| reject("AuthFailure.InvalidAuthorization", "not TC3-HMAC-SHA256"))?;
    let mut credential = None;
    let mut signed_headers = None;
    let mut signature = None;
    for part in rest.split(", ") {
        match part.split_once('=') {
            Some(("Credential", v)) => credential = Some(v),
            Some(("SignedHeaders", v)) => signed_headers = Some(v),
            Some(("Signature", v)) => signature = Some(v),
            _ => {
                return Err(reject(
                    "AuthFailure.InvalidAuthorization",
                    format!("part {part:?}"),
                ))
            }
        }
    }
    let (Some(credential), Some(signed_headers), Some(signature)) =
        (credential, signed_headers, signature)
    else {
        return Err(reject("AuthFailure.InvalidAuthorization", "missing part"));
    };
    let scope: Vec<&str> = credential.split('/').collect();
    if scope.len() != 4 || scope[2] != "scf" || scope[3] != "tc3_request" {
        return Err(reject(
            "AuthFailure.InvalidAuthorization",
            format!("credential scope {credential:?}"),
        ));
    }
    if scope[0] != st.opts.secret_id {
        return Err(reject("AuthFailure.SecretIdNotFound", "unknown SecretId"));
    }
    if scope[1] != civil_date(timestamp) {
        return Err(reject(
            "AuthFailure.SignatureFailure",
            format!("scope date {} is not the UTC date of {timestamp}", scope[1]),
        ));
    }
    let names: Vec<&str> = signed_headers.split(';').collect();
    if !names.contains(&"content-type") || !names.contains(&"host") {
        return Err(reject(
            "AuthFailure.SignatureFailure",
            format!("SignedHeaders {signed_headers:?} lacks content-type or host"),
        ));
    }
    let mut signed = Vec::new();
    for n in &names {
        let v = req.header(n).ok_or_else(|| {
            reject(
                "AuthFailure.SignatureFailure",
                format!("signed header {n} not sent"),
            )
        })?;
        signed.push((n.to_string(), v.to_string()));
    }
    let expected = tc3_signature(&st.opts.secret_key, timestamp, &signed, &req.body);
    if signature != expected {
        return Err(reject(
            "AuthFailure.SignatureFailure",
            "The provided credentials could not be validated. Please check your signature is correct.",
        ));
    }
    // Body.
    let body: serde_json::Value = serde_json::from_slice(&req.body)
        .map_err(|e| reject("InvalidParameter", format!("body is not JSON: {e}")))?;
    let text = |k: &str| body.get(k).and_then(|v| v.as_str());
    let name = text("FunctionName")
        .ok_or_else(|| reject("MissingParameter", "FunctionName"))?
        .to_string();
    if text("InvocationType") != Some("Event") {
        return Err(reject(
            "InvalidParameterValue.InvocationType",
            format!("InvocationType {:?}", body.get("InvocationType")),
        ));
    }
    let client_context = text("ClientContext")
        .ok_or_else(|| {
            reject(
                "InvalidParameterValue.ClientContext",
                "ClientContext must be a string",
            )
        })?
        .to_string();
    if client_context.len() > 128 * 1024 {
        return Err(reject(
            "InvalidParameterValue.ClientContext",
            format!(
                "ClientContext of {} bytes exceeds 128 KB for asynchronous invocation",
                client_context.len()
            ),
        ));
    }
    if !serde_json::from_str::<serde_json::Value>(&client_context).is_ok_and(|v| v.is_object()) {
        return Err(reject(
            "InvalidParameterValue.ClientContext",
            "ClientContext is not a JSON object",
        ));
    }
    let namespace = text("Namespace").unwrap_or("default").to_string();
    let qualifier = text("Qualifier").unwrap_or("$LATEST").to_string();
    if let Some(known) = &st.opts.functions {
        let id = (namespace.clone(), name.clone(), qualifier.clone());
        if !known.contains(&id) {
            return Err(reject(
                "ResourceNotFound.Function",
                format!("function {namespace}/{name}:{qualifier} does not exist"),
            ));
        }
    }
    Ok(Invocation {
        namespace,
        name,
        qualifier,
        client_context,
    })
}

fn random_fault(rng: &mut Seeded, r: &ApiFaultRates) -> Option<ApiFault> {
    let x = rng.draw();
    let status = if rng.draw() < 0.5 { 502 } else { 503 };
    pick(
        x,
        [
            (r.internal_error, ApiFault::InternalError),
            (r.http_5xx, ApiFault::Http(status)),
            (r.reset, ApiFault::Reset),
            (r.reset_after_delivery, ApiFault::ResetAfterDelivery),
            (r.stall, ApiFault::Stall(r.stall_for)),
        ],
    )
}

fn deliver(st: &mut State, inv: Invocation) -> String {
    st.stats.delivered += 1;
    let request_id = format!("fake-req-{:06}", st.stats.requests);
    st.deliveries.push(Delivery {
        namespace: inv.namespace,
        name: inv.name,
        qualifier: inv.qualifier,
        client_context: inv.client_context,
        request_id: request_id.clone(),
    });
    request_id
}

fn handle(st: &mut State, req: Request) -> Reply {
    st.stats.requests += 1;
    let inv = match verify(st, &req) {
        Ok(inv) => inv,
        Err(r) => {
            st.stats.verification_failures += 1;
            if r.code == "AuthFailure.SignatureFailure" {
                st.stats.signature_failures += 1;
            }
            let line = format!("{}: {}", r.code, r.message);
            st.failures.push(line);
            return api_error(st, r.code, &r.message);
        }
    };
    let fault = st.faults.next(|rng| random_fault(rng, &st.opts.rates));
    if fault.is_some() {
        st.stats.faults += 1;
    }
    match fault {
        None => {
            let request_id = deliver(st, inv);
            let body = serde_json::json!({
                "Response": {
                    "Result": {
                        "FunctionRequestId": format!("fn-{request_id}"),
                        "Duration": 0, "BillDuration": 0, "MemUsage": 0, "InvokeResult": 0,
                        "RetMsg": "", "ErrMsg": "", "Log": "",
                    },
                    "RequestId": request_id,
                }
            });
            Reply::Send(
                Response::new(200, body.to_string())
                    .header("Content-Type", "application/json")
                    .header("Date", http_date(now_secs(st.opts.clock_skew_secs))),
            )
        }
        Some(ApiFault::InternalError) => api_error(st, "InternalError", "internal error"),
        Some(ApiFault::RequestLimitExceeded) => {
            api_error(st, "RequestLimitExceeded", "too many requests")
        }
        Some(ApiFault::ResourceUnavailable) => api_error(
            st,
            "ResourceUnavailable.Function",
            "function is being updated",
        ),
        Some(ApiFault::TokenExpired) => {
            api_error(st, "AuthFailure.TokenFailure", "the token has expired")
        }
        Some(ApiFault::ApiError(code)) => api_error(st, &code, "scripted error"),
        Some(ApiFault::ApiErrorWithMessage(code, message)) => api_error(st, &code, &message),
        Some(ApiFault::Http(status)) => Reply::Send(
            Response::new(status, "<html><body>gateway error</body></html>")
                .header("Content-Type", "text/html"),
        ),
        Some(ApiFault::Redirect) => {
            Reply::Send(Response::new(302, "").header("Location", "http://elsewhere.example/steal"))
        }
        Some(ApiFault::Reset) => Reply::Reset,
        Some(ApiFault::ResetAfterDelivery) => {
            deliver(st, inv);
            Reply::Reset
        }
        Some(ApiFault::Stall(d)) => Reply::Stall(d),
    }
}

/// What [`check_tc3`] expects of a request to one service's endpoint.
#[derive(Debug, Clone, Copy)]
pub struct Tc3Expect<'a> {
    /// The `Host` the client must send and sign.
    pub host: &'a str,
    /// Service of the credential scope (`scf`, `cam`).
    pub service: &'a str,
    /// `X-TC-Version`.
    pub version: &'a str,
    /// `X-TC-Region`.
    pub region: &'a str,
    /// Expected SecretId.
    pub secret_id: &'a str,
    /// Key the signature is checked with.
    pub secret_key: &'a str,
    /// When set, `X-TC-Token` must equal it; when unset it must be absent.
    pub session_token: Option<&'a str>,
    /// The checker's clock = real clock + this many seconds.
    pub clock_skew_secs: i64,
}

/// Checks a Cloud API 3.0 request to any service as the API does (method, path, headers,
/// timestamp, token, `Authorization` format, scope with `expect.service`, signed headers and
/// signature, with this file's own TC3): the `X-TC-Action` when it passes, else the error
/// code and message the API would answer.
pub fn check_tc3(req: &Request, expect: &Tc3Expect<'_>) -> Result<String, (&'static str, String)> {
    if req.method != "POST" || req.path() != "/" || !req.query().is_empty() {
        return Err((
            "InvalidParameter",
            format!("expected POST /, got {} {}", req.method, req.target),
        ));
    }
    let header = |name: &str| req.header(name).unwrap_or("");
    if header("content-type") != "application/json; charset=utf-8" {
        return Err((
            "InvalidParameter",
            format!("Content-Type {:?}", header("content-type")),
        ));
    }
    if header("host") != expect.host {
        return Err(("InvalidParameter", format!("Host {:?}", header("host"))));
    }
    if header("x-tc-version") != expect.version {
        return Err((
            "NoSuchVersion",
            format!("X-TC-Version {:?}", header("x-tc-version")),
        ));
    }
    if header("x-tc-region") != expect.region {
        return Err((
            "InvalidParameterValue.Region",
            format!("X-TC-Region {:?}", header("x-tc-region")),
        ));
    }
    let timestamp: i64 = header("x-tc-timestamp")
        .parse()
        .map_err(|_| ("MissingParameter", "X-TC-Timestamp".to_string()))?;
    let now = now_secs(expect.clock_skew_secs);
    if (now - timestamp).abs() > 300 {
        return Err((
            "AuthFailure.SignatureExpire",
            format!("X-TC-Timestamp {timestamp} is more than 5 minutes from {now}"),
        ));
    }
    match (expect.session_token, req.header("x-tc-token")) {
        (Some(want), Some(got)) if want == got => {}
        (None, None) => {}
        (Some(_), None) => return Err(("AuthFailure.TokenFailure", "X-TC-Token missing".into())),
        (_, Some(_)) => return Err(("AuthFailure.TokenFailure", "X-TC-Token invalid".into())),
    }
    let bad_auth = |m: String| ("AuthFailure.InvalidAuthorization", m);
    let rest = header("authorization")
        .strip_prefix("TC3-HMAC-SHA256 ")
        .ok_or_else(|| bad_auth("not TC3-HMAC-SHA256".into()))?;
    let (mut credential, mut signed_headers, mut signature) = (None, None, None);
    for part in rest.split(", ") {
        match part.split_once('=') {
            Some(("Credential", v)) => credential = Some(v),
            Some(("SignedHeaders", v)) => signed_headers = Some(v),
            Some(("Signature", v)) => signature = Some(v),
            _ => return Err(bad_auth(format!("part {part:?}"))),
        }
    }
    let (Some(credential), Some(signed_headers), Some(signature)) =
        (credential, signed_headers, signature)
    else {
        return Err(bad_auth("missing part".into()));
    };
    let scope: Vec<&str> = credential.split('/').collect();
    if scope.len() != 4 || scope[2] != expect.service || scope[3] != "tc3_request" {
        return Err(bad_auth(format!(
            "credential scope {credential:?} is not of service {}",
            expect.service
        )));
    }
    if scope[0] != expect.secret_id {
        return Err(("AuthFailure.SecretIdNotFound", "unknown SecretId".into()));
    }
    if scope[1] != civil_date(timestamp) {
        return Err((
            "AuthFailure.SignatureFailure",
            format!("scope date {} is not the UTC date of {timestamp}", scope[1]),
        ));
    }
    let names: Vec<&str> = signed_headers.split(';').collect();
    if !names.contains(&"content-type") || !names.contains(&"host") {
        return Err((
            "AuthFailure.SignatureFailure",
            format!("SignedHeaders {signed_headers:?} lacks content-type or host"),
        ));
    }
    let mut signed = Vec::new();
    for n in &names {
        let v = req.header(n).ok_or_else(|| {
            (
                "AuthFailure.SignatureFailure",
                format!("signed header {n} not sent"),
            )
        })?;
        signed.push((n.to_string(), v.to_string()));
    }
    let expected = tc3_signature_for(
        expect.service,
        expect.secret_key,
        timestamp,
        &signed,
        &req.body,
    );
    if signature != expected {
        return Err((
            "AuthFailure.SignatureFailure",
            "The provided credentials could not be validated. Please check your signature is correct.".into(),
        ));
    }
    Ok(header("x-tc-action").to_string())
}
