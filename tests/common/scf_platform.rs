//! The SCF platform around the binary in end-to-end suites: the function's environment (one
//! set of role credentials, the bucket, the runtime API address) pointing it at a
//! [`FakeRuntime`] and a [`FakeCos`], and independent checks of what it answered and stored
//! (the rules of README "Object keys", "Configuration" and "The archive record", restated
//! here rather than taken from the crate, so a bug there cannot bless itself).
#![allow(dead_code)]

use base64::Engine as _;
use md5::{Digest, Md5};
use serde_json::Value;

use super::fake_cloudapi::{FakeCloudApi, FakeCloudApiOptions};
use super::fake_cos::{FakeCos, FakeCosOptions};
use super::fake_mps::{FakeMps, FakeMpsOptions};
use super::fake_runtime::FakeRuntime;

/// Role secret id handed to the binary (and expected by the fake COS).
pub const SECRET_ID: &str = "AKIDtestSecretId0000000000000000";
/// Role secret key.
pub const SECRET_KEY: &str = "testSecretKeyValue00000000000000";
/// Role session token: SCF always hands a function temporary credentials, so the fake COS
/// insists on one.
pub const TOKEN: &str = "testSessionTokenValue00000000000";
/// The three role credentials, none of which may ever be logged.
pub const CREDENTIALS: [&str; 3] = [SECRET_ID, SECRET_KEY, TOKEN];
/// Bucket served by the fake COS.
pub const BUCKET: &str = "archive-1250000000";
/// Region given to the binary.
pub const REGION: &str = "ap-guangzhou";

/// Options for a fake COS that expects the credentials [`cos_env`] passes to the binary.
pub fn cos_options() -> FakeCosOptions {
    FakeCosOptions {
        bucket: BUCKET.into(),
        secret_id: SECRET_ID.into(),
        secret_key: SECRET_KEY.into(),
        session_token: Some(TOKEN.into()),
        ..FakeCosOptions::default()
    }
}

/// The environment pointing the binary at `cos` with the role credentials, and no runtime API
/// (enough for `invoke`).
pub fn cos_env(cos: &FakeCos) -> Vec<(String, String)> {
    vec![
        ("COS_BUCKET".into(), BUCKET.into()),
        ("COS_REGION".into(), REGION.into()),
        ("COS_ENDPOINT".into(), cos.url()),
        ("TENCENTCLOUD_SECRETID".into(), SECRET_ID.into()),
        ("TENCENTCLOUD_SECRETKEY".into(), SECRET_KEY.into()),
        ("TENCENTCLOUD_SESSIONTOKEN".into(), TOKEN.into()),
    ]
}

/// Runtime-mode environment: [`cos_env`] plus the address of the runtime API `rt`.
pub fn env_for(rt: &FakeRuntime, cos: &FakeCos) -> Vec<(String, String)> {
    let mut env = cos_env(cos);
    set_env(&mut env, "SCF_RUNTIME_API", &rt.host());
    set_env(&mut env, "SCF_RUNTIME_API_PORT", &rt.port().to_string());
    env
}

/// Replaces or adds one variable.
pub fn set_env(env: &mut Vec<(String, String)>, name: &str, value: &str) {
    env.retain(|(k, _)| k != name);
    env.push((name.into(), value.into()));
}

/// A fake runtime API and a fake COS (with [`cos_options`]) on loopback.
pub async fn start() -> (FakeRuntime, FakeCos) {
    (
        FakeRuntime::start().await,
        FakeCos::start(cos_options()).await,
    )
}

/// A fake Cloud API's options expecting the role's credentials, the ones the binary signs
/// with (add the rest with `..role_cloud_api_options()`).
pub fn role_cloud_api_options() -> FakeCloudApiOptions {
    FakeCloudApiOptions {
        secret_id: SECRET_ID.into(),
        secret_key: SECRET_KEY.into(),
        session_token: Some(TOKEN.into()),
        ..FakeCloudApiOptions::default()
    }
}

/// A fake Cloud API on loopback with [`role_cloud_api_options`].
pub async fn role_cloud_api() -> FakeCloudApi {
    FakeCloudApi::start(role_cloud_api_options()).await
}

/// A fake MPS's options expecting the role's credentials (add the rest with
/// `..role_mps_options()`).
pub fn role_mps_options() -> FakeMpsOptions {
    FakeMpsOptions {
        secret_id: SECRET_ID.into(),
        secret_key: SECRET_KEY.into(),
        session_token: Some(TOKEN.into()),
        ..FakeMpsOptions::default()
    }
}

/// Runtime-mode environment ([`env_for`]) whose reconcile asks `mps` in [`REGION`].
pub fn reconcile_env(rt: &FakeRuntime, cos: &FakeCos, mps: &FakeMps) -> Vec<(String, String)> {
    let mut env = env_for(rt, cos);
    set_env(&mut env, "MPS_ENDPOINT", &mps.url());
    set_env(&mut env, "TENCENTCLOUD_REGION", REGION);
    env
}

/// Neither fake saw a protocol violation or a request that failed verification.
pub fn assert_clean(rt: &FakeRuntime, cos: &FakeCos) {
    rt.assert_clean();
    let v = cos.verification_failures();
    assert!(v.is_empty(), "fake COS verification failures: {v:#?}");
}

/// Panics naming the first of `secrets` found in `text` (`what` names the text), and when
/// `text` is empty: a leak check of nothing would pass vacuously.
pub fn assert_free_of(text: &str, secrets: &[&str], what: &str) {
    assert!(
        !text.is_empty(),
        "{what} is empty: nothing to check for secrets"
    );
    for s in secrets {
        assert!(!s.is_empty(), "an empty secret matches everything");
        assert!(!text.contains(s), "{what} contains the secret {s:?}");
    }
}

/// Redaction as README "Configuration" (`ARCHIVE_REDACT`) states it, implemented here
/// independently of the crate: the value of every key that ends in a credential suffix
/// (compared case-insensitively), at any depth and whatever its type, becomes `"***"`; a
/// `null` stays `null` (it carries nothing).
pub fn redact(v: &mut Value) {
    *v = redacted(v).0;
}

/// Credential key suffixes of README "Configuration" (`ARCHIVE_REDACT`).
pub const SECRET_SUFFIXES: [&str; 6] = [
    "SecretId",
    "SecretKey",
    "Token",
    "Password",
    "NotifyKey",
    "StreamKey",
];

/// True when `key` ends in one of [`SECRET_SUFFIXES`], ignoring ASCII case.
pub fn is_credential_key(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    SECRET_SUFFIXES
        .iter()
        .any(|s| key.ends_with(&s.to_ascii_lowercase()))
}

/// The event redacted as [`redact`] does, and every non-empty string and number (in its JSON
/// spelling) the redaction removed, for leak checks on whatever text the function produced.
pub fn redacted(event: &Value) -> (Value, Vec<String>) {
    fn strings(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::String(s) if !s.is_empty() && s != "***" => out.push(s.clone()),
            Value::Number(n) => out.push(n.to_string()),
            Value::Array(a) => a.iter().for_each(|x| strings(x, out)),
            Value::Object(m) => m.values().for_each(|x| strings(x, out)),
            _ => {}
        }
    }
    fn walk(v: &mut Value, secrets: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                for (k, val) in m.iter_mut() {
                    if is_credential_key(k) && !val.is_null() {
                        strings(val, secrets);
                        *val = Value::String("***".into());
                    } else {
                        walk(val, secrets);
                    }
                }
            }
            Value::Array(a) => a.iter_mut().for_each(|x| walk(x, secrets)),
            _ => {}
        }
    }
    let mut out = event.clone();
    let mut secrets = Vec::new();
    walk(&mut out, &mut secrets);
    (out, secrets)
}

/// The parts of a key's file name under the default template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileName<'a> {
    /// The sanitized task id.
    pub task: &'a str,
    /// The sanitized, lowercase status.
    pub status: &'a str,
    /// How the task ended: `ok`, `failed`, `partial`, `running` or `unknown`.
    pub outcome: &'a str,
    /// 16 lowercase hex characters.
    pub digest: &'a str,
}

/// Checks a key against README "Object keys" (default template) and returns the parts of its
/// file name; `Err` says which rule broke.
pub fn check_key(key: &str) -> Result<FileName<'_>, String> {
    if key.len() > 850 {
        return Err(format!("key is {} bytes (> 850)", key.len()));
    }
    if key.starts_with('/') {
        return Err("key starts with '/'".into());
    }
    if key.chars().any(char::is_control) {
        return Err("key has a control character".into());
    }
    for seg in key.split('/') {
        if seg.is_empty() || seg == ".." || seg == "." {
            return Err(format!("key has segment {seg:?}"));
        }
    }
    // The file name is `{task_id}.{status}.{outcome}.{digest}.json`; status, outcome and
    // digest hold no dot.
    let file = key.rsplit('/').next().unwrap_or(key);
    let parts: Vec<&str> = file.rsplitn(5, '.').collect();
    if parts.len() != 5 || parts[0] != "json" {
        return Err(format!(
            "file name {file:?} is not task.status.outcome.digest.json"
        ));
    }
    let name = FileName {
        task: parts[4],
        status: parts[3],
        outcome: parts[2],
        digest: parts[1],
    };
    if !["ok", "failed", "partial", "running", "unknown"].contains(&name.outcome) {
        return Err(format!("outcome {:?} is not one of the five", name.outcome));
    }
    let lower_hex = |b: u8| b.is_ascii_digit() || (b'a'..=b'f').contains(&b);
    if name.digest.len() != 16 || !name.digest.bytes().all(lower_hex) {
        return Err(format!(
            "digest {:?} is not 16 lowercase hex chars",
            name.digest
        ));
    }
    check_segment("task id", name.task, 96)?;
    check_segment("status", name.status, 32)?;
    if name.status.to_lowercase() != name.status {
        return Err(format!("status {:?} is not lowercase", name.status));
    }
    Ok(name)
}

/// A sanitized key part: 1..=`max` bytes of `A-Z a-z 0-9 . _ -`, without `..`.
pub fn check_segment(what: &str, part: &str, max: usize) -> Result<(), String> {
    if part.is_empty() || part.len() > max {
        return Err(format!("{what} segment is {} bytes", part.len()));
    }
    if let Some(c) = part
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || "._-".contains(*c)))
    {
        return Err(format!("{what} segment has {c:?}"));
    }
    if part.contains("..") {
        return Err(format!("{what} segment contains '..'"));
    }
    Ok(())
}

/// Verifies a success answer NOW against the fake bucket: the object is at the answered key,
/// its bytes are exactly those answered (length and MD5 = ETag), the key obeys [`check_key`] and
/// the archived `event` is `original` after [`redact`]. Returns the key.
pub fn verify_success(cos: &FakeCos, answer: &Value, original: &Value) -> Result<String, String> {
    let key = answer["key"]
        .as_str()
        .ok_or_else(|| format!("success without a key: {answer}"))?;
    check_key(key).map_err(|e| format!("{key:?}: {e}"))?;
    let obj = cos
        .object(key)
        .ok_or_else(|| format!("success for {key:?} but no object there"))?;
    if answer["bytes"].as_u64() != Some(obj.body.len() as u64) {
        return Err(format!(
            "{key:?}: answered {} bytes, stored {}",
            answer["bytes"],
            obj.body.len()
        ));
    }
    let hex = md5_hex(&obj.body);
    let etag = answer["etag"]
        .as_str()
        .ok_or_else(|| format!("{key:?}: success without an etag: {answer}"))?
        .trim_matches('"');
    if etag != hex {
        return Err(format!(
            "{key:?}: answered etag {etag}, stored bytes have MD5 {hex} ({})",
            base64::engine::general_purpose::STANDARD.encode(Md5::digest(&obj.body))
        ));
    }
    let record: Value = serde_json::from_slice(&obj.body)
        .map_err(|e| format!("{key:?}: stored body is not JSON: {e}"))?;
    let mut want = original.clone();
    redact(&mut want);
    if record["event"] != want {
        return Err(format!(
            "{key:?}: archived event differs from the redacted original"
        ));
    }
    if record["schema"] != "mps-cos-backup/record/v1" {
        return Err(format!("{key:?}: schema {}", record["schema"]));
    }
    Ok(key.to_string())
}

/// Lowercase hex MD5 of `bytes`: what COS answers as the ETag of a single-part upload.
pub fn md5_hex(bytes: &[u8]) -> String {
    Md5::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
