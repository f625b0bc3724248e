//! Fake COS: a PUT Object endpoint on loopback that VERIFIES every request.
//!
//! Every request is checked independently of the crate's code, with this file's own
//! implementation of the COS sha1 signing algorithm and the secret key: Authorization
//! format, signed header set (host, content-type, content-length, content-md5 and every
//! `x-cos-*` header sent), signature, key time covering the fake's "now", session token,
//! Host, Content-MD5 and Content-Length. A failing check is answered the way COS does
//! (403 SignatureDoesNotMatch, 400 BadDigest, ...) and recorded in
//! [`FakeCos::verification_failures`], so a test can assert there were none.
//!
//! A verified request then meets fault injection: first the scripted queue
//! ([`FakeCos::push_faults`]), else seeded random [`FaultRates`]. Without a fault the object
//! is stored under the percent-decoded path (no leading `/`) and answered 200 with `ETag`,
//! `x-cos-request-id`, `x-cos-hash-crc64ecma` and `Date`. Error answers have the XML body
//! COS sends (`Code`, `Message`, `Resource`, `RequestId`, `TraceId`).
//!
//! [`EndlessCos`] is a separate, raw server whose answers never end, for body bounds.
//!
//! ```ignore
//! let cos = FakeCos::start(FakeCosOptions::default()).await;
//! let client = CosClient::new(http, cos.bucket(), cos.credentials());
//! cos.push_faults([Fault::SlowDown, Fault::Reset]);
//! // ... put ...
//! assert!(cos.verification_failures().is_empty());
//! assert_eq!(cos.object("k").unwrap().body, b"...");
//! ```

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use hmac::{Hmac, Mac};
use md5::Md5;
use sha1::{Digest, Sha1};

use super::http::{Reply, Request, Response, Server, Writes};
use super::seeded::{lock, pick, serve_state, Faults, Seeded};
use mps_cos_backup::cos::{Bucket, Endpoint, PutObject};
use mps_cos_backup::credentials::Credentials;

/// How the fake is set up.
#[derive(Debug, Clone)]
pub struct FakeCosOptions {
    /// Bucket name reported in [`FakeCos::bucket`] (the fake serves any path).
    pub bucket: String,
    /// Expected `q-ak`.
    pub secret_id: String,
    /// Key used to verify signatures.
    pub secret_key: String,
    /// When set, `x-cos-security-token` must be present and equal; when unset it must be absent.
    pub session_token: Option<String>,
    /// The fake's clock = real clock + this many seconds (simulates a skewed client).
    pub clock_skew_secs: i64,
    /// Seeded random faults applied to verified requests when the script is empty.
    pub rates: FaultRates,
    /// Seed of the fault PRNG (same seed, same sequence of draws).
    pub seed: u64,
    /// The session token runs out after this many stored writes: every later request is
    /// answered 403 InvalidAccessKeyId "The security token you provided has expired.", as
    /// COS answers temporary keys past their lifetime.
    pub token_expires_after_writes: Option<u64>,
    /// How answers are written (one segment, headers and body apart with Nagle on, ...).
    pub writes: Writes,
}

impl Default for FakeCosOptions {
    fn default() -> Self {
        FakeCosOptions {
            bucket: "examplebucket-1250000000".into(),
            secret_id: "AKIDfakeSecretId0000000000000000000".into(),
            secret_key: "fakeSecretKey0000000000000000000".into(),
            session_token: None,
            clock_skew_secs: 0,
            rates: FaultRates::default(),
            seed: 1,
            token_expires_after_writes: None,
            writes: Writes::from_env(),
        }
    }
}

/// Probabilities (0.0..=1.0, summed in this order) of faults on a verified request.
#[derive(Debug, Clone, Default)]
pub struct FaultRates {
    /// 500 InternalError.
    pub internal_error: f64,
    /// 503 SlowDown.
    pub slow_down: f64,
    /// 503 ServiceUnavailable.
    pub service_unavailable: f64,
    /// TCP reset, nothing stored.
    pub reset: f64,
    /// Stall for `stall_for`, then close; nothing stored.
    pub stall: f64,
    /// How long a random stall lasts.
    pub stall_for: Duration,
    /// Store a corrupted copy and answer 200 with its (wrong) CRC.
    pub wrong_crc: f64,
    /// 403 RequestTimeTooSkewed.
    pub time_skewed: f64,
    /// 403 AccessDenied.
    pub access_denied: f64,
}

/// One injected fault.
#[derive(Debug, Clone, PartialEq)]
pub enum Fault {
    /// 500 InternalError.
    InternalError,
    /// 502 without an XML body (a proxy).
    BadGateway,
    /// 503 SlowDown.
    SlowDown,
    /// 503 ServiceUnavailable.
    ServiceUnavailable,
    /// 504 without an XML body.
    GatewayTimeout,
    /// TCP reset before answering; nothing stored.
    Reset,
    /// Store the object, then reset: the write happened but the answer was lost.
    ResetAfterStore,
    /// Wait, then close without answering; nothing stored.
    Stall(Duration),
    /// Store a corrupted copy (one bit flipped) and answer 200 with its CRC.
    WrongCrc,
    /// Store the object and answer 200 without `x-cos-hash-crc64ecma`.
    MissingCrc,
    /// 403 RequestTimeTooSkewed (Date header = the fake's clock).
    RequestTimeTooSkewed,
    /// 403 AccessDenied "Request has expired".
    RequestExpired,
    /// 403 AccessDenied.
    AccessDenied,
    /// 403 InvalidAccessKeyId.
    InvalidAccessKeyId,
    /// 403 SignatureDoesNotMatch (forced, even for a correct signature).
    SignatureDoesNotMatch,
    /// 404 NoSuchBucket.
    NoSuchBucket,
    /// 400 InvalidObjectName.
    InvalidObjectName,
    /// 400 KeyTooLong.
    KeyTooLong,
    /// 400 EntityTooLarge.
    EntityTooLarge,
    /// 429 TooManyRequests.
    TooManyRequests,
    /// 400 RequestTimeout: COS gave up reading the body.
    RequestTimeout,
    /// A redirect (301, 302, 303, 307, 308) to this `Location`; nothing stored.
    Redirect(u16, String),
    /// Any status with an XML error code and message.
    Status(u16, String, String),
}

/// An object as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredObject {
    /// Bytes stored.
    pub body: Vec<u8>,
    /// `Content-Type` sent.
    pub content_type: String,
    /// `x-cos-meta-<name>` headers as (lowercase name without the prefix, value).
    pub metadata: Vec<(String, String)>,
    /// `x-cos-storage-class`, if sent.
    pub storage_class: Option<String>,
    /// How many PUTs stored this key (including corrupted ones).
    pub put_count: u32,
}

/// One request as seen by the fake.
#[derive(Debug, Clone)]
pub struct RecordedRequest {
    /// Method.
    pub method: String,
    /// Request target, still encoded.
    pub target: String,
    /// Decoded key, when the path decoded to UTF-8.
    pub key: Option<String>,
    /// Headers as received.
    pub headers: Vec<(String, String)>,
    /// Body length.
    pub body_len: usize,
    /// What the fake did: `"stored"`, a fault name, or a verification error code.
    pub outcome: String,
}

/// Counters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FakeCosStats {
    /// Requests received.
    pub requests: u64,
    /// Requests that stored an object (including corrupted or unanswered ones).
    pub stored: u64,
    /// Requests answered 200.
    pub ok: u64,
    /// Faults injected (scripted or random).
    pub faults: u64,
    /// Requests that failed verification (should stay 0 for a correct client).
    pub verification_failures: u64,
    /// Requests refused because the key time did not cover the fake's clock.
    pub skew_rejections: u64,
    /// Requests refused because the session token had run out.
    pub token_expired: u64,
}

struct State {
    opts: FakeCosOptions,
    host: String,
    objects: HashMap<String, StoredObject>,
    requests: Vec<RecordedRequest>,
    failures: Vec<String>,
    faults: Faults<Fault>,
    stats: FakeCosStats,
    /// Writes stored with the current session token (see `token_expires_after_writes`).
    token_writes: u64,
    /// How listings without a delimiter are answered.
    list_mode: ListMode,
    /// Keys made up so far by [`ListMode::Endless`].
    endless_keys: u64,
}

/// How GET Bucket answers a listing without a delimiter (delimiter listings always answer
/// from the stored objects).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ListMode {
    /// From the stored objects.
    #[default]
    Stored,
    /// Every page `IsTruncated` `true` with no key and no `NextMarker`: a listing that
    /// says "more" forever without giving any.
    TruncatedEmpty,
    /// Every page full (1,000 made-up keys `{prefix}2026/11/24/t{n}.finish.ok.{n:016x}.json`,
    /// after the marker) and truncated: a listing without end.
    Endless,
}

/// A running fake COS bucket endpoint; stops when dropped.
pub struct FakeCos {
    server: Server,
    state: Arc<Mutex<State>>,
}

impl FakeCos {
    /// Starts the fake on a fresh loopback port.
    pub async fn start(opts: FakeCosOptions) -> FakeCos {
        let writes = opts.writes;
        let state = Arc::new(Mutex::new(State {
            faults: Faults::new(opts.seed),
            opts,
            host: String::new(),
            objects: HashMap::new(),
            requests: Vec::new(),
            failures: Vec::new(),
            stats: FakeCosStats::default(),
            token_writes: 0,
            list_mode: ListMode::Stored,
            endless_keys: 0,
        }));
        let server = serve_state(writes, &state, handle).await;
        lock(&state).host = server.addr.to_string();
        FakeCos { server, state }
    }

    /// Base URL, e.g. `http://127.0.0.1:PORT` (the bucket's endpoint).
    pub fn url(&self) -> String {
        self.server.url()
    }

    /// The loopback address it listens on.
    pub fn addr(&self) -> std::net::SocketAddr {
        self.server.addr
    }

    /// The Host value a client must send and sign (`127.0.0.1:PORT`).
    pub fn host(&self) -> String {
        self.server.addr.to_string()
    }

    /// The fake's bucket, reached at this fake.
    pub fn bucket(&self) -> Bucket {
        let name = lock(&self.state).opts.bucket.clone();
        bucket_at(&name, &self.url())
    }

    /// The credentials the fake accepts.
    pub fn credentials(&self) -> Credentials {
        let st = lock(&self.state);
        Credentials::new(
            st.opts.secret_id.clone(),
            st.opts.secret_key.clone(),
            st.opts.session_token.clone(),
        )
    }

    /// All stored objects by key.
    pub fn objects(&self) -> HashMap<String, StoredObject> {
        lock(&self.state).objects.clone()
    }

    /// One stored object.
    pub fn object(&self, key: &str) -> Option<StoredObject> {
        lock(&self.state).objects.get(key).cloned()
    }

    /// Every request received, in order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.state).requests.clone()
    }

    /// Number of requests received.
    pub fn request_count(&self) -> usize {
        lock(&self.state).requests.len()
    }

    /// Counters.
    pub fn stats(&self) -> FakeCosStats {
        lock(&self.state).stats.clone()
    }

    /// One line per request that failed verification (empty for a correct client).
    pub fn verification_failures(&self) -> Vec<String> {
        lock(&self.state).failures.clone()
    }

    /// Queues faults for the next verified requests, in order.
    pub fn push_faults(&self, faults: impl IntoIterator<Item = Fault>) {
        lock(&self.state).faults.push(faults);
    }

    /// Replaces the random fault rates.
    pub fn set_rates(&self, rates: FaultRates) {
        lock(&self.state).opts.rates = rates;
    }

    /// Puts an object straight into the bucket, without a request (another application's
    /// objects, large archives for benchmarks).
    pub fn insert_object(&self, key: &str, body: &[u8], content_type: &str) {
        lock(&self.state).objects.insert(
            key.to_string(),
            StoredObject {
                body: body.to_vec(),
                content_type: content_type.to_string(),
                metadata: Vec::new(),
                storage_class: None,
                put_count: 0,
            },
        );
    }

    /// Requests with this method received (`GET`, `PUT`), and how many of them were
    /// listings (GET on the bucket root).
    pub fn count_method(&self, method: &str) -> (usize, usize) {
        let st = lock(&self.state);
        let of: Vec<&RecordedRequest> = st.requests.iter().filter(|r| r.method == method).collect();
        let lists = of
            .iter()
            .filter(|r| r.target.starts_with("/?") || r.target == "/")
            .count();
        (of.len(), lists)
    }

    /// Hands out fresh temporary credentials, as SCF does to each new instance: from now on
    /// only `token` is accepted, and its write allowance starts again.
    pub fn issue_token(&self, token: &str) {
        let mut st = lock(&self.state);
        st.opts.session_token = Some(token.to_string());
        st.token_writes = 0;
    }

    /// Shifts the fake's clock relative to the real one.
    pub fn set_clock_skew(&self, secs: i64) {
        lock(&self.state).opts.clock_skew_secs = secs;
    }

    /// Answers listings without a delimiter as `mode` says from now on.
    pub fn set_list_mode(&self, mode: ListMode) {
        lock(&self.state).list_mode = mode;
    }
}

// ---------- the fake's own COS signing algorithm (independent of the crate) ----------

/// Percent-encodes per COS: unreserved `A-Za-z0-9-_.~` kept, everything else `%XX` uppercase.
pub fn cos_encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// Decodes `%XX` sequences; None on a malformed escape or non-UTF-8 result.
pub fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn hmac_hex(key: &[u8], msg: &str) -> String {
    let mut mac = Hmac::<Sha1>::new_from_slice(key).expect("hmac key");
    mac.update(msg.as_bytes());
    to_hex(&mac.finalize().into_bytes())
}

fn to_hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Computes the expected `q-signature` for a request.
pub fn expected_signature(
    secret_key: &str,
    key_time: &str,
    method: &str,
    decoded_path: &str,
    params: &[(String, String)],
    headers: &[(String, String)],
) -> String {
    let canon = |pairs: &[(String, String)]| {
        let mut v: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, val)| (cos_encode(k).to_lowercase(), cos_encode(val)))
            .collect();
        v.sort();
        v.iter()
            .map(|(k, val)| format!("{k}={val}"))
            .collect::<Vec<_>>()
            .join("&")
    };
    let http_string = format!(
        "{}\n{}\n{}\n{}\n",
        method.to_lowercase(),
        decoded_path,
        canon(params),
        canon(headers)
    );
    let sha = to_hex(&Sha1::digest(http_string.as_bytes()));
    let string_to_sign = format!("sha1\n{key_time}\n{sha}\n");
    let sign_key = hmac_hex(secret_key.as_bytes(), key_time);
    hmac_hex(sign_key.as_bytes(), &string_to_sign)
}

// ---------- request handling ----------

fn crc64_xz(data: &[u8]) -> u64 {
    crc::Crc::<u64>::new(&crc::CRC_64_XZ).checksum(data)
}

fn now_secs(skew: i64) -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
        + skew
}

fn http_date(secs: i64) -> String {
    chrono::DateTime::from_timestamp(secs, 0)
        .unwrap_or_default()
        .format("%a, %d %b %Y %H:%M:%S GMT")
        .to_string()
}

fn error_reply(st: &mut State, status: u16, code: &str, message: &str, resource: &str) -> Reply {
    let n = st.stats.requests;
    let request_id = format!("NjQfake{n:08}");
    let body = format!(
        "<?xml version='1.0' encoding='utf-8' ?>\n<Error>\n\t<Code>{code}</Code>\n\t<Message>{}</Message>\n\
         \t<Resource>{}</Resource>\n\t<RequestId>{request_id}</RequestId>\n\t<TraceId>trace{n}</TraceId>\n</Error>",
        xml_escape(message),
        xml_escape(resource)
    );
    let date = http_date(now_secs(st.opts.clock_skew_secs));
    Reply::Send(
        Response::new(status, body)
            .header("Content-Type", "application/xml")
            .header("x-cos-request-id", request_id)
            .header("Date", date),
    )
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Why verification failed: (status, code, detail for the log).
struct Rejection(u16, &'static str, String);

/// The parts of a q-sign `Authorization` header, checked the same way for every request:
/// the seven fields in order, sha1, the expected SecretId, equal sign and key times, a
/// 40-hex signature, and a lowercase sorted header list.
struct Authorization<'r> {
    fields: Vec<(&'r str, &'r str)>,
    key_time: &'r str,
    start: i64,
    end: i64,
    header_list: Vec<&'r str>,
}

impl<'r> Authorization<'r> {
    fn field(&self, name: &str) -> &'r str {
        self.fields
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| *v)
            .unwrap_or("")
    }

    /// The signed headers with the values sent; every header in `always` and every
    /// `x-cos-*` header sent must be among them.
    fn signed_headers(
        &self,
        req: &Request,
        always: &[&str],
    ) -> Result<Vec<(String, String)>, Rejection> {
        let mut must_sign: Vec<String> = always.iter().map(|s| s.to_string()).collect();
        must_sign.extend(
            req.headers
                .iter()
                .map(|(k, _)| k.to_lowercase())
                .filter(|k| k.starts_with("x-cos-")),
        );
        for name in &must_sign {
            if !self.header_list.contains(&name.as_str()) {
                return Err(Rejection(
                    403,
                    "SignatureDoesNotMatch",
                    format!("{name} is sent but not signed"),
                ));
            }
        }
        let mut signed = Vec::new();
        for name in &self.header_list {
            match req.header(name) {
                Some(v) => signed.push((name.to_string(), v.to_string())),
                None => {
                    return Err(Rejection(
                        403,
                        "SignatureDoesNotMatch",
                        format!("signed header {name} not sent"),
                    ))
                }
            }
        }
        Ok(signed)
    }
}

fn authorization<'r>(st: &State, req: &'r Request) -> Result<Authorization<'r>, Rejection> {
    let reject = |s, c, d: String| Err(Rejection(s, c, d));
    let auth = req.header("authorization").unwrap_or_default();
    let fields: Vec<(&str, &str)> = auth
        .split('&')
        .map(|kv| kv.split_once('=').unwrap_or((kv, "")))
        .collect();
    let names: Vec<&str> = fields.iter().map(|(k, _)| *k).collect();
    let expected_names = [
        "q-sign-algorithm",
        "q-ak",
        "q-sign-time",
        "q-key-time",
        "q-header-list",
        "q-url-param-list",
        "q-signature",
    ];
    if names != expected_names {
        return reject(
            403,
            "AccessDenied",
            format!("Authorization fields {names:?}"),
        );
    }
    let mut parsed = Authorization {
        fields,
        key_time: "",
        start: 0,
        end: 0,
        header_list: Vec::new(),
    };
    if parsed.field("q-sign-algorithm") != "sha1" {
        return reject(403, "AccessDenied", "q-sign-algorithm not sha1".into());
    }
    if parsed.field("q-ak") != st.opts.secret_id {
        return reject(
            403,
            "InvalidAccessKeyId",
            "q-ak is not the expected SecretId".into(),
        );
    }
    let key_time = parsed.field("q-key-time");
    if parsed.field("q-sign-time") != key_time {
        return reject(403, "AccessDenied", "q-sign-time != q-key-time".into());
    }
    let Some((start, end)) = key_time
        .split_once(';')
        .and_then(|(a, b)| Some((a.parse::<i64>().ok()?, b.parse::<i64>().ok()?)))
    else {
        return reject(403, "AccessDenied", format!("q-key-time {key_time:?}"));
    };
    if parsed.field("q-signature").len() != 40 {
        return reject(
            403,
            "AccessDenied",
            "q-signature is not 40 hex chars".into(),
        );
    }
    // Header list: lowercase and sorted.
    let header_list: Vec<&str> = parsed
        .field("q-header-list")
        .split(';')
        .filter(|s| !s.is_empty())
        .collect();
    let mut sorted = header_list.clone();
    sorted.sort();
    if sorted != header_list || header_list.iter().any(|h| *h != h.to_lowercase()) {
        return reject(
            403,
            "SignatureDoesNotMatch",
            format!("q-header-list {header_list:?} not lowercase/sorted"),
        );
    }
    parsed.key_time = key_time;
    parsed.start = start;
    parsed.end = end;
    parsed.header_list = header_list;
    Ok(parsed)
}

/// The session token: required and equal when the fake expects one, absent otherwise.
fn check_token(st: &State, req: &Request) -> Result<(), Rejection> {
    let why = match (&st.opts.session_token, req.header("x-cos-security-token")) {
        (Some(want), Some(got)) if want == got => return Ok(()),
        (None, None) => return Ok(()),
        (Some(_), _) => "x-cos-security-token missing or wrong",
        (None, Some(_)) => "unexpected security token",
    };
    Err(Rejection(403, "InvalidAccessKeyId", why.into()))
}

/// The signature's key time against the fake's (possibly skewed) clock, as COS answers.
fn check_window(st: &State, start: i64, end: i64) -> Result<(), Rejection> {
    let now = now_secs(st.opts.clock_skew_secs);
    if now < start {
        return Err(Rejection(
            403,
            "RequestTimeTooSkewed",
            format!("key time starts {start}, now {now}"),
        ));
    }
    if now > end {
        return Err(Rejection(
            403,
            "AccessDenied",
            format!("Request has expired: ends {end}, now {now}"),
        ));
    }
    Ok(())
}

fn verify(st: &State, req: &Request) -> Result<String, Rejection> {
    let reject = |s, c, d: String| Err(Rejection(s, c, d));
    if req.method != "PUT" {
        return reject(405, "MethodNotAllowed", format!("method {}", req.method));
    }
    let raw_path = req.path();
    let Some(path) = percent_decode(raw_path) else {
        return reject(
            400,
            "InvalidURI",
            format!("path {raw_path:?} does not decode"),
        );
    };
    // Only unreserved characters, '/', and %XX may appear raw in the request line.
    if let Some(c) = raw_path
        .bytes()
        .find(|b| !(b.is_ascii_alphanumeric() || b"-_.~/%".contains(b)))
    {
        return reject(
            400,
            "InvalidURI",
            format!("path {raw_path:?} has unencoded byte {:?}", c as char),
        );
    }
    let key = path.trim_start_matches('/').to_string();
    if !path.starts_with('/') || key.is_empty() {
        return reject(400, "InvalidObjectName", format!("path {raw_path:?}"));
    }
    // Each of these must appear exactly once.
    for name in [
        "host",
        "content-length",
        "content-type",
        "content-md5",
        "authorization",
    ] {
        let n = req
            .headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(name))
            .count();
        if n != 1 {
            let code = if name == "content-md5" {
                "InvalidDigest"
            } else if name == "authorization" {
                "AccessDenied"
            } else {
                "InvalidArgument"
            };
            let status = if name == "authorization" { 403 } else { 400 };
            return reject(status, code, format!("header {name} appears {n} times"));
        }
    }
    if req.header("transfer-encoding").is_some() {
        return reject(400, "InvalidArgument", "chunked upload".into());
    }
    let host = req.header("host").unwrap_or_default();
    if host != st.host {
        return reject(
            400,
            "InvalidArgument",
            format!("Host {host:?} != {:?}", st.host),
        );
    }
    let len = req.header("content-length").unwrap_or_default();
    if len.parse::<usize>().ok() != Some(req.body.len()) {
        return reject(
            400,
            "IncompleteBody",
            format!("Content-Length {len} but body has {} bytes", req.body.len()),
        );
    }
    let md5 = base64::engine::general_purpose::STANDARD.encode(Md5::digest(&req.body));
    let sent_md5 = req.header("content-md5").unwrap_or_default();
    if sent_md5 != md5 {
        return reject(400, "BadDigest", format!("Content-MD5 {sent_md5} != {md5}"));
    }

    // Authorization: exact field order as COS documents it.
    let auth = authorization(st, req)?;
    let field = |n: &str| auth.field(n);
    let (key_time, start, end) = (auth.key_time, auth.start, auth.end);
    let signed_headers = auth.signed_headers(
        req,
        &["host", "content-type", "content-length", "content-md5"],
    )?;
    let mut params = Vec::new();
    for kv in req.query().split('&').filter(|s| !s.is_empty()) {
        let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
        match (percent_decode(k), percent_decode(v)) {
            (Some(k), Some(v)) => params.push((k, v)),
            _ => return reject(400, "InvalidURI", format!("query {kv:?}")),
        }
    }
    let param_list: Vec<String> = {
        let mut v: Vec<String> = params
            .iter()
            .map(|(k, _)| cos_encode(k).to_lowercase())
            .collect();
        v.sort();
        v
    };
    if field("q-url-param-list") != param_list.join(";") {
        return reject(
            403,
            "SignatureDoesNotMatch",
            "q-url-param-list does not match the query".into(),
        );
    }
    let want = expected_signature(
        &st.opts.secret_key,
        key_time,
        &req.method,
        &path,
        &params,
        &signed_headers,
    );
    if field("q-signature") != want {
        return reject(
            403,
            "SignatureDoesNotMatch",
            format!("signature mismatch for key {key:?}"),
        );
    }

    check_token(st, req)?;

    if let Some(n) = st.opts.token_expires_after_writes {
        if st.opts.session_token.is_some() && st.token_writes >= n {
            return Err(Rejection(
                403,
                "InvalidAccessKeyId",
                "The security token you provided has expired.".into(),
            ));
        }
    }

    // Time last: a correct client with a skewed clock is not a verification failure.
    check_window(st, start, end)?;
    Ok(key)
}

fn random_fault(rng: &mut Seeded, r: &FaultRates) -> Option<Fault> {
    pick(
        rng.draw(),
        [
            (r.internal_error, Fault::InternalError),
            (r.slow_down, Fault::SlowDown),
            (r.service_unavailable, Fault::ServiceUnavailable),
            (r.reset, Fault::Reset),
            (r.stall, Fault::Stall(r.stall_for)),
            (r.wrong_crc, Fault::WrongCrc),
            (r.time_skewed, Fault::RequestTimeTooSkewed),
            (r.access_denied, Fault::AccessDenied),
        ],
    )
}

fn store(st: &mut State, key: &str, req: &Request, body: Vec<u8>) -> u64 {
    let crc = crc64_xz(&body);
    let metadata = req
        .headers
        .iter()
        .filter_map(|(k, v)| {
            let k = k.to_lowercase();
            k.strip_prefix("x-cos-meta-")
                .map(|n| (n.to_string(), v.clone()))
        })
        .collect();
    let put_count = st.objects.get(key).map(|o| o.put_count).unwrap_or(0) + 1;
    st.objects.insert(
        key.to_string(),
        StoredObject {
            body,
            content_type: req.header("content-type").unwrap_or_default().to_string(),
            metadata,
            storage_class: req.header("x-cos-storage-class").map(str::to_string),
            put_count,
        },
    );
    st.stats.stored += 1;
    st.token_writes += 1;
    crc
}

fn ok_reply(st: &mut State, body: &[u8], crc: Option<u64>) -> Reply {
    st.stats.ok += 1;
    let etag = format!("\"{}\"", to_hex(&Md5::digest(body)));
    let mut resp = Response::new(200, Vec::new())
        .header("ETag", etag)
        .header("x-cos-request-id", format!("NjQok{:08}", st.stats.requests))
        .header("Date", http_date(now_secs(st.opts.clock_skew_secs)));
    if let Some(c) = crc {
        resp = resp.header("x-cos-hash-crc64ecma", c.to_string());
    }
    Reply::Send(resp)
}

fn handle(st: &mut State, req: Request) -> Reply {
    if req.method == "GET" {
        return handle_read(st, req);
    }
    st.stats.requests += 1;
    let key = percent_decode(req.path()).map(|p| p.trim_start_matches('/').to_string());
    let mut record = RecordedRequest {
        method: req.method.clone(),
        target: req.target.clone(),
        key,
        headers: req.headers.clone(),
        body_len: req.body.len(),
        outcome: String::new(),
    };
    let resource = req.path().to_string();
    let reply = match verify(st, &req) {
        Err(Rejection(status, code, detail)) => {
            let token_expired = detail.starts_with("The security token");
            if code == "RequestTimeTooSkewed" || detail.starts_with("Request has expired") {
                st.stats.skew_rejections += 1;
            } else if token_expired {
                st.stats.token_expired += 1;
            } else {
                st.stats.verification_failures += 1;
                st.failures
                    .push(format!("{} {}: {code}: {detail}", req.method, req.target));
            }
            record.outcome = code.to_string();
            let message = if detail.starts_with("Request has expired") || token_expired {
                detail.split(':').next().unwrap_or_default().to_string()
            } else {
                format!("verification failed: {code}")
            };
            error_reply(st, status, code, &message, &resource)
        }
        Ok(key) => {
            let fault = st.faults.next(|rng| random_fault(rng, &st.opts.rates));
            if fault.is_some() {
                st.stats.faults += 1;
            }
            record.outcome = fault
                .as_ref()
                .map(|f| format!("{f:?}"))
                .unwrap_or_else(|| "stored".into());
            apply(st, fault, &key, &req, &resource)
        }
    };
    st.requests.push(record);
    reply
}

fn apply(st: &mut State, fault: Option<Fault>, key: &str, req: &Request, resource: &str) -> Reply {
    let xml = |st: &mut State, status: u16, code: &str, msg: &str| {
        error_reply(st, status, code, msg, resource)
    };
    match fault {
        None => {
            let crc = store(st, key, req, req.body.clone());
            ok_reply(st, &req.body, Some(crc))
        }
        Some(Fault::InternalError) => xml(
            st,
            500,
            "InternalError",
            "We encountered an internal error. Please try again.",
        ),
        Some(Fault::BadGateway) => Reply::Send(Response::new(502, "<html>bad gateway</html>")),
        Some(Fault::GatewayTimeout) => Reply::Send(Response::new(504, "")),
        Some(Fault::SlowDown) => xml(st, 503, "SlowDown", "Please reduce your request rate."),
        Some(Fault::ServiceUnavailable) => xml(
            st,
            503,
            "ServiceUnavailable",
            "Service is unable to handle request.",
        ),
        Some(Fault::Reset) => Reply::Reset,
        Some(Fault::ResetAfterStore) => {
            store(st, key, req, req.body.clone());
            Reply::Reset
        }
        Some(Fault::Stall(d)) => Reply::Stall(d),
        Some(Fault::WrongCrc) => {
            let mut corrupted = req.body.clone();
            match corrupted.first_mut() {
                Some(b) => *b ^= 0x01,
                None => corrupted.push(0),
            }
            let crc = store(st, key, req, corrupted.clone());
            ok_reply(st, &corrupted, Some(crc))
        }
        Some(Fault::MissingCrc) => {
            store(st, key, req, req.body.clone());
            ok_reply(st, &req.body, None)
        }
        Some(Fault::RequestTimeTooSkewed) => xml(
            st,
            403,
            "RequestTimeTooSkewed",
            "The difference between the request time and the server's time is too large.",
        ),
        Some(Fault::RequestExpired) => xml(st, 403, "AccessDenied", "Request has expired"),
        Some(Fault::AccessDenied) => xml(st, 403, "AccessDenied", "Access Denied."),
        Some(Fault::InvalidAccessKeyId) => xml(
            st,
            403,
            "InvalidAccessKeyId",
            "The Access Key Id you provided does not exist in our records.",
        ),
        Some(Fault::SignatureDoesNotMatch) => xml(
            st,
            403,
            "SignatureDoesNotMatch",
            "The Signature you specified is invalid.",
        ),
        Some(Fault::NoSuchBucket) => xml(
            st,
            404,
            "NoSuchBucket",
            "The specified bucket does not exist.",
        ),
        Some(Fault::InvalidObjectName) => {
            xml(st, 400, "InvalidObjectName", "The object name is invalid.")
        }
        Some(Fault::KeyTooLong) => xml(st, 400, "KeyTooLong", "Your key is too long."),
        Some(Fault::EntityTooLarge) => xml(
            st,
            400,
            "EntityTooLarge",
            "Your proposed upload exceeds the maximum allowed object size.",
        ),
        Some(Fault::TooManyRequests) => xml(
            st,
            429,
            "TooManyRequests",
            "The number of requests exceeds the frequency limit.",
        ),
        Some(Fault::RequestTimeout) => xml(
            st,
            400,
            "RequestTimeout",
            "Your socket connection to the server was not read from or written to within the timeout period.",
        ),
        Some(Fault::Redirect(status, location)) => Reply::Send(
            Response::new(status, "<html>moved</html>")
                .header("Location", location)
                .header("Content-Type", "text/html"),
        ),
        Some(Fault::Status(status, code, msg)) => xml(st, status, &code, &msg),
    }
}

/// A bucket named `name` reached at `url`.
pub fn bucket_at(name: &str, url: &str) -> Bucket {
    match (Bucket::new(name, "ap-guangzhou"), Endpoint::parse(url)) {
        (Ok(b), Ok(e)) => b.with_endpoint(e),
        (b, e) => panic!("fake COS bucket {name} at {url}: {b:?} {e:?}"),
    }
}

/// A JSON object to PUT with the client under test.
pub fn obj<'a>(key: &'a str, body: &[u8]) -> PutObject<'a> {
    PutObject {
        key,
        body: bytes::Bytes::copy_from_slice(body),
        content_type: "application/json",
        metadata: &[],
    }
}

/// A deadline `s` seconds from now.
pub fn in_secs(s: u64) -> std::time::Instant {
    std::time::Instant::now() + Duration::from_secs(s)
}

/// How an [`EndlessCos`] answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endless {
    /// 200 with the right `x-cos-hash-crc64ecma` and `ETag`, then a chunked body that never ends.
    Ok,
    /// This error status with an XML `Content-Type`, then a chunked body that never ends.
    Error(u16),
}

/// A COS stand-in whose answers never end: it reads a request, answers headers a client
/// would accept, then writes body bytes until the client goes away. A raw server of its
/// own, so no generic server can bound or fix the answer.
pub struct EndlessCos {
    /// Bound loopback address.
    pub addr: std::net::SocketAddr,
    sent: Arc<std::sync::atomic::AtomicU64>,
    requests: Arc<std::sync::atomic::AtomicU64>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for EndlessCos {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl EndlessCos {
    /// Starts one on a fresh loopback port.
    pub async fn start(mode: Endless) -> EndlessCos {
        use std::sync::atomic::{AtomicU64, Ordering};
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let addr = listener.local_addr().expect("local addr");
        let sent = Arc::new(AtomicU64::new(0));
        let requests = Arc::new(AtomicU64::new(0));
        let (sent2, requests2) = (sent.clone(), requests.clone());
        let task = tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let sent = sent2.clone();
                requests2.fetch_add(1, Ordering::Relaxed);
                tokio::spawn(async move {
                    let mut buf = Vec::new();
                    let mut chunk = [0u8; 8192];
                    let head_end = loop {
                        if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                            break p + 4;
                        }
                        match stream.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                    };
                    let head = String::from_utf8_lossy(&buf[..head_end]).to_lowercase();
                    let len: usize = head
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .and_then(|v| v.trim().parse().ok())
                        .unwrap_or(0);
                    while buf.len() < head_end + len {
                        match stream.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                    }
                    let body = &buf[head_end..head_end + len];
                    let head = match mode {
                        Endless::Ok => format!(
                            "HTTP/1.1 200 OK\r\nETag: \"{}\"\r\nx-cos-request-id: NjQendless\r\n\
                             x-cos-hash-crc64ecma: {}\r\nTransfer-Encoding: chunked\r\n\r\n",
                            to_hex(&Md5::digest(body)),
                            crc64_xz(body)
                        ),
                        Endless::Error(status) => format!(
                            "HTTP/1.1 {status} Status\r\nContent-Type: application/xml\r\n\
                             x-cos-request-id: NjQendless\r\nTransfer-Encoding: chunked\r\n\r\n"
                        ),
                    };
                    if stream.write_all(head.as_bytes()).await.is_err() {
                        return;
                    }
                    let filler = "<Error><Code>SlowDown</Code></Error>".repeat(450);
                    let piece = format!("{:x}\r\n{filler}\r\n", filler.len());
                    while stream.write_all(piece.as_bytes()).await.is_ok() {
                        sent.fetch_add(filler.len() as u64, Ordering::Relaxed);
                    }
                });
            }
        });
        EndlessCos {
            addr,
            sent,
            requests,
            task,
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Body bytes written so far, over every connection.
    pub fn body_bytes_sent(&self) -> u64 {
        self.sent.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Connections accepted.
    pub fn connections(&self) -> u64 {
        self.requests.load(std::sync::atomic::Ordering::Relaxed)
    }
}

// ---------- reading: GET Bucket (list objects) and GET Object ----------

/// Checks a GET the way COS does: Authorization fields, `host` and every `x-cos-*` header
/// signed, every query parameter in `q-url-param-list`, the signature, the session token,
/// then the key time.
fn verify_read(st: &State, req: &Request) -> Result<(String, Vec<(String, String)>), Rejection> {
    let reject = |s, c, d: String| Err(Rejection(s, c, d));
    let raw_path = req.path();
    let Some(path) = percent_decode(raw_path) else {
        return reject(
            400,
            "InvalidURI",
            format!("path {raw_path:?} does not decode"),
        );
    };
    if let Some(c) = raw_path
        .bytes()
        .find(|b| !(b.is_ascii_alphanumeric() || b"-_.~/%".contains(b)))
    {
        return reject(
            400,
            "InvalidURI",
            format!("path {raw_path:?} has unencoded byte {:?}", c as char),
        );
    }
    if req.header("host").unwrap_or_default() != st.host {
        return reject(400, "InvalidArgument", "Host header".into());
    }
    let mut params = Vec::new();
    for kv in req.query().split('&').filter(|s| !s.is_empty()) {
        let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
        // Only unreserved characters and %XX may appear raw in a query value.
        if v.bytes()
            .any(|b| !(b.is_ascii_alphanumeric() || b"-_.~%".contains(&b)))
        {
            return reject(
                400,
                "InvalidURI",
                format!("query value {v:?} is not encoded"),
            );
        }
        match (percent_decode(k), percent_decode(v)) {
            (Some(k), Some(v)) => params.push((k, v)),
            _ => return reject(400, "InvalidURI", format!("query {kv:?}")),
        }
    }
    let auth = authorization(st, req)?;
    let field = |n: &str| auth.field(n);
    let (key_time, start, end) = (auth.key_time, auth.start, auth.end);
    let signed_headers = auth.signed_headers(req, &["host"])?;
    let mut param_list: Vec<String> = params
        .iter()
        .map(|(k, _)| cos_encode(k).to_lowercase())
        .collect();
    param_list.sort();
    if field("q-url-param-list") != param_list.join(";") {
        return reject(
            403,
            "SignatureDoesNotMatch",
            "q-url-param-list does not match the query".into(),
        );
    }
    let want = expected_signature(
        &st.opts.secret_key,
        key_time,
        "GET",
        &path,
        &params,
        &signed_headers,
    );
    if field("q-signature") != want {
        return reject(
            403,
            "SignatureDoesNotMatch",
            format!("signature mismatch for GET {path:?}"),
        );
    }
    check_token(st, req)?;
    check_window(st, start, end)?;
    Ok((path, params))
}

fn handle_read(st: &mut State, req: Request) -> Reply {
    st.stats.requests += 1;
    let key = percent_decode(req.path()).map(|p| p.trim_start_matches('/').to_string());
    let mut record = RecordedRequest {
        method: req.method.clone(),
        target: req.target.clone(),
        key,
        headers: req.headers.clone(),
        body_len: req.body.len(),
        outcome: String::new(),
    };
    let resource = req.path().to_string();
    let reply = match verify_read(st, &req) {
        Err(Rejection(status, code, detail)) => {
            if code == "RequestTimeTooSkewed" || detail.starts_with("Request has expired") {
                st.stats.skew_rejections += 1;
            } else {
                st.stats.verification_failures += 1;
                st.failures
                    .push(format!("GET {}: {code}: {detail}", req.target));
            }
            record.outcome = code.to_string();
            error_reply(
                st,
                status,
                code,
                &format!("verification failed: {code}"),
                &resource,
            )
        }
        Ok((path, params)) => {
            let fault = st.faults.next(|rng| random_fault(rng, &st.opts.rates));
            if fault.is_some() {
                st.stats.faults += 1;
            }
            record.outcome = fault
                .as_ref()
                .map(|f| format!("{f:?}"))
                .unwrap_or_else(|| "read".into());
            if path == "/" {
                list_reply(st, fault, &params, &resource)
            } else {
                get_reply(st, fault, path.trim_start_matches('/'), &resource)
            }
        }
    };
    st.requests.push(record);
    reply
}

/// The answer to a faulted read, or None when the fault only changes a successful answer.
fn read_fault(st: &mut State, fault: &Fault, resource: &str) -> Option<Reply> {
    let xml = |st: &mut State, status: u16, code: &str, msg: &str| {
        Some(error_reply(st, status, code, msg, resource))
    };
    match fault {
        Fault::WrongCrc | Fault::MissingCrc => None,
        Fault::Reset | Fault::ResetAfterStore => Some(Reply::Reset),
        Fault::Stall(d) => Some(Reply::Stall(*d)),
        Fault::BadGateway => Some(Reply::Send(Response::new(502, "<html>bad gateway</html>"))),
        Fault::GatewayTimeout => Some(Reply::Send(Response::new(504, ""))),
        Fault::InternalError => xml(
            st,
            500,
            "InternalError",
            "We encountered an internal error.",
        ),
        Fault::SlowDown => xml(st, 503, "SlowDown", "Please reduce your request rate."),
        Fault::ServiceUnavailable => xml(
            st,
            503,
            "ServiceUnavailable",
            "Service is unable to handle request.",
        ),
        Fault::TooManyRequests => xml(st, 429, "TooManyRequests", "Too many requests."),
        Fault::RequestTimeTooSkewed => xml(
            st,
            403,
            "RequestTimeTooSkewed",
            "The difference between the request time and the server's time is too large.",
        ),
        Fault::RequestExpired => xml(st, 403, "AccessDenied", "Request has expired"),
        Fault::AccessDenied => xml(st, 403, "AccessDenied", "Access Denied."),
        Fault::InvalidAccessKeyId => xml(
            st,
            403,
            "InvalidAccessKeyId",
            "The Access Key Id you provided does not exist in our records.",
        ),
        Fault::SignatureDoesNotMatch => xml(
            st,
            403,
            "SignatureDoesNotMatch",
            "The Signature you specified is invalid.",
        ),
        Fault::NoSuchBucket => xml(
            st,
            404,
            "NoSuchBucket",
            "The specified bucket does not exist.",
        ),
        Fault::Redirect(status, location) => Some(Reply::Send(
            Response::new(*status, "<html>moved</html>").header("Location", location.clone()),
        )),
        Fault::Status(status, code, msg) => xml(st, *status, code, msg),
        other => xml(st, 400, "InvalidRequest", &format!("{other:?}")),
    }
}

fn get_reply(st: &mut State, fault: Option<Fault>, key: &str, resource: &str) -> Reply {
    if let Some(reply) = fault.as_ref().and_then(|f| read_fault(st, f, resource)) {
        return reply;
    }
    let Some(obj) = st.objects.get(key).cloned() else {
        return error_reply(
            st,
            404,
            "NoSuchKey",
            "The specified key does not exist.",
            resource,
        );
    };
    st.stats.ok += 1;
    let crc = crc64_xz(&obj.body);
    let mut body = obj.body.clone();
    if fault == Some(Fault::WrongCrc) {
        // Damaged on the way: the header describes the stored bytes, the body differs.
        match body.first_mut() {
            Some(b) => *b ^= 0x01,
            None => body.push(0),
        }
    }
    let mut resp = Response::new(200, body)
        .header("Content-Type", obj.content_type.clone())
        .header("ETag", format!("\"{}\"", to_hex(&Md5::digest(&obj.body))))
        .header(
            "x-cos-request-id",
            format!("NjQget{:08}", st.stats.requests),
        )
        .header("Date", http_date(now_secs(st.opts.clock_skew_secs)));
    if fault != Some(Fault::MissingCrc) {
        resp = resp.header("x-cos-hash-crc64ecma", crc.to_string());
    }
    for (k, v) in &obj.metadata {
        resp = resp.header(&format!("x-cos-meta-{k}"), v.clone());
    }
    Reply::Send(resp)
}

/// GET Bucket: keys after `marker` under `prefix`, in byte order, rolled up at `delimiter`,
/// at most `max-keys` entries (objects and common prefixes together) a page.
fn list_reply(
    st: &mut State,
    fault: Option<Fault>,
    params: &[(String, String)],
    resource: &str,
) -> Reply {
    if let Some(reply) = fault.as_ref().and_then(|f| read_fault(st, f, resource)) {
        return reply;
    }
    let param = |n: &str| params.iter().find(|(k, _)| k == n).map(|(_, v)| v.as_str());
    let prefix = param("prefix").unwrap_or("");
    let marker = param("marker").unwrap_or("");
    let delimiter = param("delimiter").filter(|d| !d.is_empty());
    let url = param("encoding-type") == Some("url");
    let max_keys = param("max-keys")
        .and_then(|m| m.parse::<usize>().ok())
        .unwrap_or(1000)
        .clamp(1, 1000);
    let made_up: Vec<String>;
    let mut keys: Vec<&String> = match (st.list_mode, delimiter) {
        (ListMode::TruncatedEmpty, None) => {
            st.stats.ok += 1;
            let xml = format!(
                "<?xml version='1.0' encoding='utf-8' ?>\n<ListBucketResult><Name>{}</Name>\
                 <Prefix>{}</Prefix><Marker>{}</Marker><MaxKeys>{max_keys}</MaxKeys>\
                 <IsTruncated>true</IsTruncated></ListBucketResult>",
                st.opts.bucket,
                xml_escape(prefix),
                xml_escape(marker)
            );
            return Reply::Send(Response::new(200, xml).header("Content-Type", "application/xml"));
        }
        (ListMode::Endless, None) => {
            let start = st.endless_keys;
            st.endless_keys += max_keys as u64;
            made_up = (start..start + max_keys as u64)
                .map(|n| format!("{prefix}2026/11/24/t{n:012}.finish.ok.{n:016x}.json"))
                .collect();
            made_up.iter().collect()
        }
        _ => st
            .objects
            .keys()
            .filter(|k| k.starts_with(prefix) && k.as_str() > marker)
            .collect(),
    };
    keys.sort();
    let endless = st.list_mode == ListMode::Endless && delimiter.is_none();
    let mut contents: Vec<(String, usize, String)> = Vec::new();
    let mut prefixes: Vec<String> = Vec::new();
    let mut last = String::new();
    let mut truncated = false;
    for k in keys {
        // A marker that is a common prefix skips everything under it.
        if delimiter.is_some()
            && marker.ends_with(delimiter.unwrap_or(""))
            && !marker.is_empty()
            && k.starts_with(marker)
        {
            continue;
        }
        let rolled = delimiter.and_then(|d| {
            k[prefix.len()..]
                .find(d)
                .map(|i| k[..prefix.len() + i + d.len()].to_string())
        });
        if let Some(cp) = &rolled {
            if prefixes.last() == Some(cp) {
                continue;
            }
        }
        if contents.len() + prefixes.len() == max_keys {
            truncated = true;
            break;
        }
        match rolled {
            Some(cp) => {
                last = cp.clone();
                prefixes.push(cp);
            }
            None => {
                last = k.clone();
                match st.objects.get(k.as_str()) {
                    Some(obj) => {
                        contents.push((k.clone(), obj.body.len(), to_hex(&Md5::digest(&obj.body))))
                    }
                    None => contents.push((k.clone(), 2, to_hex(&Md5::digest(b"{}")))),
                }
            }
        }
    }
    let name = |s: &str| if url { cos_encode(s) } else { xml_escape(s) };
    let mut xml = String::from("<?xml version='1.0' encoding='utf-8' ?>\n<ListBucketResult>");
    xml.push_str(&format!("<Name>{}</Name>", st.opts.bucket));
    if url {
        xml.push_str("<EncodingType>url</EncodingType>");
    }
    xml.push_str(&format!(
        "<Prefix>{}</Prefix><Marker>{}</Marker><MaxKeys>{max_keys}</MaxKeys>",
        name(prefix),
        name(marker)
    ));
    if let Some(d) = delimiter {
        xml.push_str(&format!("<Delimiter>{}</Delimiter>", name(d)));
    }
    let truncated = truncated || endless;
    xml.push_str(&format!("<IsTruncated>{truncated}</IsTruncated>"));
    if truncated {
        xml.push_str(&format!("<NextMarker>{}</NextMarker>", name(&last)));
    }
    let modified = chrono::DateTime::from_timestamp(now_secs(st.opts.clock_skew_secs), 0)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%S.000Z");
    for (k, size, etag) in &contents {
        xml.push_str(&format!(
            "<Contents><Key>{}</Key><LastModified>{modified}</LastModified><ETag>&quot;{etag}&quot;</ETag><Size>{size}</Size>\
             <Owner><ID>1250000000</ID><DisplayName>1250000000</DisplayName></Owner><StorageClass>STANDARD</StorageClass></Contents>",
            name(k)
        ));
    }
    for p in &prefixes {
        xml.push_str(&format!(
            "<CommonPrefixes><Prefix>{}</Prefix></CommonPrefixes>",
            name(p)
        ));
    }
    xml.push_str("</ListBucketResult>");
    st.stats.ok += 1;
    Reply::Send(
        Response::new(200, xml)
            .header("Content-Type", "application/xml")
            .header(
                "x-cos-request-id",
                format!("NjQlist{:08}", st.stats.requests),
            )
            .header("Date", http_date(now_secs(st.opts.clock_skew_secs))),
    )
}
