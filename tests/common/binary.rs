//! The real binary started through `bootstrap` from a package-like folder, as SCF starts it,
//! with its stdout captured line by line and a guard that kills it if a test fails.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::fake_cos::{FakeCos, FakeCosOptions};
use super::fake_runtime::FakeRuntime;

/// Role credentials handed to the binary (and expected by the fake COS).
pub const SECRET_ID: &str = "AKIDpipelineTestSecretId00000000000";
/// Role secret key.
pub const SECRET_KEY: &str = "pipelineTestSecretKeyValue000000";
/// Role session token.
pub const TOKEN: &str = "pipelineTestSessionTokenValue0000";
/// Bucket name served by the fake.
pub const BUCKET: &str = "archive-1250000000";

/// Fake COS options matching the credentials given to the binary.
pub fn cos_options() -> FakeCosOptions {
    FakeCosOptions {
        bucket: BUCKET.into(),
        secret_id: SECRET_ID.into(),
        secret_key: SECRET_KEY.into(),
        session_token: Some(TOKEN.into()),
        ..FakeCosOptions::default()
    }
}

/// A deploy-package-like folder: `bootstrap` and the binary side by side.
pub fn package() -> PathBuf {
    package_named("bin-pkg")
}

/// [`package`] with `tag` in the folder name, so a suite's leftovers are easy to spot.
pub fn package_named(tag: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "mcb-{tag}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create package dir");
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("bootstrap"),
        dir.join("bootstrap"),
    )
    .expect("copy bootstrap");
    // option_env!: this module is also compiled into benches/examples, where only
    // integration tests get the variable; those callers never start the test binary.
    let Some(bin) = option_env!("CARGO_BIN_EXE_mps-cos-backup") else {
        panic!("only integration tests start the binary through this helper");
    };
    std::os::unix::fs::symlink(bin, dir.join("mps-cos-backup")).expect("symlink binary");
    dir
}

/// Environment for runtime mode against a fake COS, with the runtime API at `host:port`.
pub fn runtime_env(cos: &FakeCos, api_host: &str, api_port: u16) -> Vec<(String, String)> {
    vec![
        ("COS_BUCKET".into(), BUCKET.into()),
        ("COS_REGION".into(), "ap-guangzhou".into()),
        ("COS_ENDPOINT".into(), cos.url()),
        ("TENCENTCLOUD_SECRETID".into(), SECRET_ID.into()),
        ("TENCENTCLOUD_SECRETKEY".into(), SECRET_KEY.into()),
        ("TENCENTCLOUD_SESSIONTOKEN".into(), TOKEN.into()),
        ("SCF_RUNTIME_API".into(), api_host.into()),
        ("SCF_RUNTIME_API_PORT".into(), api_port.to_string()),
    ]
}

/// [`runtime_env`] for a running fake runtime API.
pub fn env_for(cos: &FakeCos, rt: &FakeRuntime) -> Vec<(String, String)> {
    runtime_env(cos, &rt.host(), rt.port())
}

/// Replaces or adds one variable.
pub fn set_env(env: &mut Vec<(String, String)>, name: &str, value: &str) {
    env.retain(|(k, _)| k != name);
    env.push((name.into(), value.into()));
}

/// A running `bootstrap` (exec'd into the binary); killed when dropped.
pub struct Running {
    child: Child,
    stdout: Arc<Mutex<Vec<String>>>,
    stderr: Arc<Mutex<Vec<String>>>,
    readers: Vec<std::thread::JoinHandle<()>>,
    status: Option<ExitStatus>,
    _pkg: PathBuf,
}

fn collect(
    pipe: impl std::io::Read + Send + 'static,
    into: Arc<Mutex<Vec<String>>>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        for line in BufReader::new(pipe).lines() {
            match line {
                Ok(l) => into.lock().unwrap_or_else(|p| p.into_inner()).push(l),
                Err(_) => break,
            }
        }
    })
}

impl Running {
    /// Starts `bootstrap args...` with exactly `env` (plus PATH), cwd = the package folder.
    pub fn start(args: &[&str], env: &[(String, String)]) -> Running {
        let pkg = package();
        let mut cmd = Command::new(pkg.join("bootstrap"));
        cmd.args(args)
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .current_dir(&pkg)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("spawn bootstrap");
        let stdout = Arc::new(Mutex::new(Vec::new()));
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let readers = vec![
            collect(child.stdout.take().expect("stdout piped"), stdout.clone()),
            collect(child.stderr.take().expect("stderr piped"), stderr.clone()),
        ];
        Running {
            child,
            stdout,
            stderr,
            readers,
            status: None,
            _pkg: pkg,
        }
    }

    /// Process id (bootstrap `exec`s, so this is the binary's).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends SIGTERM through `kill(1)`.
    pub fn sigterm(&self) {
        let ok = Command::new("kill")
            .arg("-TERM")
            .arg(self.pid().to_string())
            .status()
            .expect("run kill")
            .success();
        assert!(ok, "kill -TERM {} failed", self.pid());
    }

    /// Whether the process has exited (without waiting).
    pub fn exited(&mut self) -> Option<ExitStatus> {
        if self.status.is_none() {
            self.status = self.child.try_wait().expect("try_wait");
        }
        self.status
    }

    /// Waits at most `timeout` for the exit; `None` when still running (the guard kills it later).
    /// Blocking: call from `spawn_blocking` or a plain thread when fakes run on this runtime's
    /// only thread (multi-thread test runtimes are fine).
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(s) = self.exited() {
                self.join_readers();
                return Some(s);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Async form of [`Self::wait_exit`] (does not block the test's runtime).
    pub async fn wait_exit_async(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if let Some(s) = self.exited() {
                self.join_readers();
                return Some(s);
            }
            if tokio::time::Instant::now() >= deadline {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    fn join_readers(&mut self) {
        for r in self.readers.drain(..) {
            let _ = r.join();
        }
    }

    /// Stops the process with SIGTERM and asserts it exits 0 within `timeout`.
    pub async fn stop(&mut self, timeout: Duration) {
        self.sigterm();
        let status = self.wait_exit_async(timeout).await;
        assert_eq!(
            status.and_then(|s| s.code()),
            Some(0),
            "exit after SIGTERM: {status:?}; stdout: {:#?}",
            self.stdout_lines()
        );
    }

    /// Lines written to stdout so far.
    pub fn stdout_lines(&self) -> Vec<String> {
        self.stdout
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Lines written to stderr so far.
    pub fn stderr_lines(&self) -> Vec<String> {
        self.stderr
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Stdout lines parsed as JSON; panics naming the first line that is not a JSON object.
    pub fn json_lines(&self) -> Vec<serde_json::Value> {
        self.stdout_lines()
            .iter()
            .map(|l| match serde_json::from_str::<serde_json::Value>(l) {
                Ok(v) if v.is_object() => v,
                _ => panic!("stdout line is not a JSON object: {l:?}"),
            })
            .collect()
    }

    /// Waits until stdout holds a line containing `needle`.
    pub async fn wait_stdout(&self, needle: &str, timeout: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        while tokio::time::Instant::now() < deadline {
            if self.stdout_lines().iter().any(|l| l.contains(needle)) {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        false
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if self.exited().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        let _ = std::fs::remove_dir_all(&self._pkg);
    }
}

/// `message` of a JSON log line (flattened or nested under `fields`).
pub fn message(line: &serde_json::Value) -> Option<&str> {
    line.get("message")
        .or_else(|| line.get("fields").and_then(|f| f.get("message")))
        .and_then(|m| m.as_str())
}

/// A field of a JSON log line (flattened or nested under `fields`).
pub fn field<'a>(line: &'a serde_json::Value, name: &str) -> Option<&'a serde_json::Value> {
    line.get(name)
        .or_else(|| line.get("fields").and_then(|f| f.get(name)))
}

/// A fake runtime API and a fake COS (with [`cos_options`]) on loopback.
pub async fn start() -> (FakeRuntime, FakeCos) {
    (
        FakeRuntime::start().await,
        FakeCos::start(cos_options()).await,
    )
}

/// Neither fake saw a protocol violation or a request that failed verification.
pub fn assert_clean(rt: &FakeRuntime, cos: &FakeCos) {
    rt.assert_clean();
    let v = cos.verification_failures();
    assert!(v.is_empty(), "fake COS verification failures: {v:#?}");
}
