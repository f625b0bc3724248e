//! A tiny SCF "platform" for end-to-end suites: deploy-package folder, the real binary started
//! through `bootstrap` against a [`FakeRuntime`] and a [`FakeCos`], SIGKILL on timeout, and the
//! SPEC checks applied to what the binary answered (key rules, redaction, stored bytes).
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use base64::Engine as _;
use md5::{Digest, Md5};
use serde_json::Value;
use tokio::process::{Child, Command};

use super::fake_cos::{FakeCos, FakeCosOptions};
use super::fake_runtime::FakeRuntime;

/// Session token the fake COS insists on (SCF always hands out temporary credentials).
pub const TOKEN: &str = "platformSessionTokenValue0000000";

/// Options for a fake COS that expects the credentials [`env_for`] passes to the binary.
pub fn cos_options() -> FakeCosOptions {
    FakeCosOptions {
        bucket: "archive-1250000000".into(),
        secret_id: "AKIDplatformSecretId000000000000".into(),
        secret_key: "platformSecretKeyValue0000000000".into(),
        session_token: Some(TOKEN.into()),
        ..FakeCosOptions::default()
    }
}

/// A deploy-package-like folder (`bootstrap` + the binary beside it) under the temp dir.
pub struct Package {
    /// The folder.
    pub dir: PathBuf,
}

impl Package {
    /// Creates a fresh package folder named after `tag`.
    pub fn new(tag: &str) -> Package {
        Package {
            dir: super::binary::package_named(tag),
        }
    }
}

impl Package {
    /// Everything every instance started from this package wrote (stdout and stderr).
    pub fn all_logs(&self) -> String {
        let mut names: Vec<PathBuf> = std::fs::read_dir(&self.dir)
            .map(|d| d.filter_map(|e| e.ok()).map(|e| e.path()).collect())
            .unwrap_or_default();
        names.retain(|p| p.extension().is_some_and(|x| x == "log"));
        names.sort();
        names
            .iter()
            .map(|p| std::fs::read_to_string(p).unwrap_or_default())
            .collect()
    }

    /// Panics if any instance's output contains one of the fake COS credentials.
    pub fn assert_no_credentials_logged(&self) {
        let logs = self.all_logs();
        let o = cos_options();
        for secret in [o.secret_key.as_str(), TOKEN] {
            assert!(!logs.contains(secret), "an instance logged a credential");
        }
        assert!(!logs.is_empty(), "instances wrote no log at all");
    }
}

impl Drop for Package {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Runtime-mode environment pointing the binary at the two fakes.
pub fn env_for(rt: &FakeRuntime, cos: &FakeCos) -> Vec<(String, String)> {
    let c = cos.cos_config();
    vec![
        ("PATH".into(), "/usr/bin:/bin".into()),
        ("COS_BUCKET".into(), c.bucket),
        ("COS_REGION".into(), c.region),
        ("COS_ENDPOINT".into(), cos.url()),
        ("TENCENTCLOUD_SECRETID".into(), c.credentials.secret_id),
        ("TENCENTCLOUD_SECRETKEY".into(), c.credentials.secret_key),
        ("TENCENTCLOUD_SESSIONTOKEN".into(), TOKEN.into()),
        ("SCF_RUNTIME_API".into(), rt.host()),
        ("SCF_RUNTIME_API_PORT".into(), rt.port().to_string()),
        ("LOG_FORMAT".into(), "json".into()),
    ]
}

/// One running instance of the binary; SIGKILLed when dropped (a failing test leaves no child).
pub struct Instance {
    child: Child,
    /// Where its stdout+stderr go.
    pub log: PathBuf,
}

impl Instance {
    /// Starts `bootstrap` from `pkg` (working directory = the package, like `/var/user`).
    pub fn spawn(pkg: &Package, env: &[(String, String)], n: usize) -> Instance {
        let log = pkg.dir.join(format!("instance-{n}.log"));
        let out = std::fs::File::create(&log).expect("create instance log");
        let err = out.try_clone().expect("clone log handle");
        let mut cmd = Command::new(pkg.dir.join("bootstrap"));
        cmd.env_clear()
            .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .current_dir(&pkg.dir)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .kill_on_drop(true);
        let child = cmd.spawn().expect("spawn bootstrap");
        Instance { child, log }
    }

    /// `None` while running, else how it ended.
    pub fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// SIGKILL, then wait (bounded) until the process is reaped.
    pub async fn kill(&mut self) {
        let _ = self.child.start_kill();
        match tokio::time::timeout(Duration::from_secs(5), self.child.wait()).await {
            Ok(_) => {}
            Err(_) => panic!("instance not reaped 5 s after SIGKILL"),
        }
    }

    /// Last `n` lines of the instance's log, for failure messages.
    pub fn log_tail(&self, n: usize) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(n)..].join("\n")
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

/// The event redacted as [`redact`] does, and every non-empty string the redaction removed
/// (for leak checks on whatever text the function produced).
pub fn redacted(event: &Value) -> (Value, Vec<String>) {
    fn strings(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::String(s) if !s.is_empty() && s != "***" => out.push(s.clone()),
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

/// Checks a key against SPEC "Object key"; `Err` says which rule broke.
pub fn check_key(key: &str) -> Result<(), String> {
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
    // Default template: the file name is `{task_id}.{status}.{digest}.json`.
    let file = key.rsplit('/').next().unwrap_or_default();
    let parts: Vec<&str> = file.rsplitn(4, '.').collect();
    if parts.len() != 4 || parts[0] != "json" {
        return Err(format!("file name {file:?} is not task.status.digest.json"));
    }
    let (digest, task) = (parts[1], parts[3]);
    if digest.len() != 16 || !digest.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(format!("digest {digest:?} is not 16 hex chars"));
    }
    if task.is_empty() || task.len() > 96 {
        return Err(format!("task id segment is {} bytes", task.len()));
    }
    if let Some(c) = task
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || "._-".contains(*c)))
    {
        return Err(format!("task id segment has {c:?}"));
    }
    if task.contains("..") {
        return Err("task id segment contains '..'".into());
    }
    Ok(())
}

/// Verifies a success answer NOW against the fake bucket: the object is at the answered key,
/// its bytes are exactly those answered (length and MD5 = ETag), the key obeys the SPEC and the
/// archived `event` is `original` after redaction. Returns the key.
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
    let md5 = Md5::digest(&obj.body);
    let hex: String = md5.iter().map(|b| format!("{b:02x}")).collect();
    let etag = answer["etag"]
        .as_str()
        .unwrap_or_default()
        .trim_matches('"');
    if etag != hex {
        return Err(format!(
            "{key:?}: answered etag {etag}, stored bytes have MD5 {hex} ({})",
            base64::engine::general_purpose::STANDARD.encode(md5)
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
