//! The real binary started through `bootstrap` from a package-like folder, as SCF starts it
//! (README: "Deploy"): everything it writes captured line by line, and a guard that kills it
//! if a test fails. Every suite that runs the binary starts it through [`Binary`].
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::scf_platform::assert_free_of;
use super::seeded::lock;

/// A deploy-package-like folder under the temp dir: `bootstrap` and the binary side by side.
/// Clones share the folder; the last one dropped removes it.
#[derive(Clone)]
pub struct Package(Arc<PackageDir>);

struct PackageDir(PathBuf);

impl Drop for PackageDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl Package {
    /// A fresh package folder with `tag` in its name, so a suite's leftovers are easy to spot.
    pub fn new(tag: &str) -> Package {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "mcb-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create package dir");
        let pkg = Package(Arc::new(PackageDir(dir)));
        std::fs::copy(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("bootstrap"),
            pkg.dir().join("bootstrap"),
        )
        .expect("copy bootstrap");
        // option_env!: this module is also compiled into benches/examples, where only
        // integration tests get the variable; those callers never start the binary.
        let Some(bin) = option_env!("CARGO_BIN_EXE_mps-cos-backup") else {
            panic!("only integration tests start the binary through this helper");
        };
        std::os::unix::fs::symlink(bin, pkg.dir().join("mps-cos-backup")).expect("symlink binary");
        pkg
    }

    /// The folder; also the working directory of every binary started from it (SCF's `/var/user`).
    pub fn dir(&self) -> &Path {
        &self.0 .0
    }
}

/// Which pipe a captured line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    /// Standard output (SCF collects it as the function's log).
    Stdout,
    /// Standard error.
    Stderr,
}

/// One line the binary wrote.
#[derive(Debug, Clone)]
pub struct Line {
    /// 0 for the first start, then one more per [`Binary::restart`].
    pub start: usize,
    /// The pipe it came from.
    pub stream: Stream,
    /// The line without its newline; bytes that are not UTF-8 are replaced, not dropped.
    pub text: String,
}

/// `bootstrap args...` (which `exec`s the binary) running in a [`Package`], with exactly the
/// given environment plus `PATH`. Stdout and stderr are captured in memory for the whole life
/// of the value, across restarts. Killed when dropped, so a failing test leaves no child.
pub struct Binary {
    pkg: Package,
    args: Vec<String>,
    env: Vec<(String, String)>,
    stdin: Option<Vec<u8>>,
    child: Child,
    status: Option<ExitStatus>,
    starts: usize,
    lines: Arc<Mutex<Vec<Line>>>,
    readers: Vec<std::thread::JoinHandle<()>>,
}

impl Binary {
    /// Starts `bootstrap args...` in a fresh package of its own.
    pub fn start<K: AsRef<str>, V: AsRef<str>>(args: &[&str], env: &[(K, V)]) -> Binary {
        Binary::start_in(&Package::new("bin"), args, env)
    }

    /// Starts `bootstrap args...` in `pkg` (several binaries may share one package).
    pub fn start_in<K: AsRef<str>, V: AsRef<str>>(
        pkg: &Package,
        args: &[&str],
        env: &[(K, V)],
    ) -> Binary {
        Binary::launch(pkg, args, env, None)
    }

    /// [`Self::start_in`] with `input` written to stdin, which is then closed.
    pub fn start_with_input<K: AsRef<str>, V: AsRef<str>>(
        pkg: &Package,
        args: &[&str],
        env: &[(K, V)],
        input: &[u8],
    ) -> Binary {
        Binary::launch(pkg, args, env, Some(input.to_vec()))
    }

    fn launch<K: AsRef<str>, V: AsRef<str>>(
        pkg: &Package,
        args: &[&str],
        env: &[(K, V)],
        stdin: Option<Vec<u8>>,
    ) -> Binary {
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| (k.as_ref().to_string(), v.as_ref().to_string()))
            .collect();
        let lines = Arc::new(Mutex::new(Vec::new()));
        let (child, readers) = spawn(pkg, &args, &env, stdin.as_deref(), 0, &lines);
        Binary {
            pkg: pkg.clone(),
            args,
            env,
            stdin,
            child,
            status: None,
            starts: 1,
            lines,
            readers,
        }
    }

    /// SIGKILLs the process if it still runs (as the platform does to an instance that overran
    /// its time limit) and starts it again: same package, arguments, environment and input.
    /// Lines of earlier starts stay captured.
    pub fn restart(&mut self) {
        self.kill_and_reap();
        let (child, readers) = spawn(
            &self.pkg,
            &self.args,
            &self.env,
            self.stdin.as_deref(),
            self.starts,
            &self.lines,
        );
        self.child = child;
        self.readers.extend(readers);
        self.status = None;
        self.starts += 1;
    }

    /// The package it runs in.
    pub fn package(&self) -> &Package {
        &self.pkg
    }

    /// Process id (bootstrap `exec`s, so this is the binary's).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends `signal` (a name `kill(1)` knows: `TERM`, `INT`, ...).
    pub fn signal(&self, signal: &str) {
        let ok = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.pid().to_string())
            .status()
            .expect("run kill")
            .success();
        assert!(ok, "kill -{signal} {} failed", self.pid());
    }

    /// Sends SIGTERM, as SCF does when it retires an instance.
    pub fn sigterm(&self) {
        self.signal("TERM");
    }

    /// Whether the process has exited (without waiting).
    pub fn exited(&mut self) -> Option<ExitStatus> {
        if self.status.is_none() {
            self.status = self.child.try_wait().expect("try_wait");
        }
        self.status
    }

    /// Waits at most `timeout` for the exit; `None` when still running (the guard kills it
    /// later). Once it returns `Some`, every line the process wrote is captured.
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

    /// Async form of [`Self::wait_exit`] (does not block the test's runtime while waiting).
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

    /// SIGKILL, then waits (bounded) until the process is reaped and its output read.
    pub async fn kill(&mut self) {
        if self.exited().is_none() {
            let _ = self.child.kill();
        }
        if self.wait_exit_async(Duration::from_secs(5)).await.is_none() {
            panic!("binary not reaped 5 s after SIGKILL");
        }
    }

    fn kill_and_reap(&mut self) {
        if self.exited().is_none() {
            let _ = self.child.kill();
            self.status = self.child.wait().ok();
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
            "exit after SIGTERM: {status:?}; output:\n{}",
            self.output_tail(40)
        );
    }

    /// Every line captured so far, from every start, in the order each pipe delivered them.
    pub fn lines(&self) -> Vec<Line> {
        lock(&self.lines).clone()
    }

    fn texts(&self, stream: Stream) -> Vec<String> {
        self.lines()
            .into_iter()
            .filter(|l| l.stream == stream)
            .map(|l| l.text)
            .collect()
    }

    /// Lines written to stdout so far.
    pub fn stdout_lines(&self) -> Vec<String> {
        self.texts(Stream::Stdout)
    }

    /// Lines written to stderr so far.
    pub fn stderr_lines(&self) -> Vec<String> {
        self.texts(Stream::Stderr)
    }

    /// Stdout lines parsed as JSON; panics naming the first line that is not a JSON object.
    /// Waits for the process to end (at most `timeout`) and returns what it wrote, each line
    /// ending in `\n`, as a process `Output`.
    pub fn into_output(mut self, timeout: Duration) -> std::process::Output {
        let status = self.wait_exit(timeout).expect("the binary exits");
        let join = |lines: Vec<String>| {
            lines
                .iter()
                .map(|l| format!("{l}\n"))
                .collect::<String>()
                .into_bytes()
        };
        std::process::Output {
            status,
            stdout: join(self.stdout_lines()),
            stderr: join(self.stderr_lines()),
        }
    }

    pub fn json_lines(&self) -> Vec<serde_json::Value> {
        self.stdout_lines()
            .iter()
            .map(|l| match serde_json::from_str::<serde_json::Value>(l) {
                Ok(v) if v.is_object() => v,
                _ => panic!("stdout line is not a JSON object: {l:?}"),
            })
            .collect()
    }

    /// The last `n` lines of both pipes, for failure messages.
    pub fn output_tail(&self, n: usize) -> String {
        let lines = self.lines();
        lines[lines.len().saturating_sub(n)..]
            .iter()
            .map(|l| l.text.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Panics if any of `secrets` is in anything the binary wrote (both pipes, every start),
    /// or if it wrote nothing at all: a check of no output would pass vacuously.
    pub fn assert_never_wrote(&self, secrets: &[&str]) {
        let all: Vec<String> = self.lines().into_iter().map(|l| l.text).collect();
        assert_free_of(&all.join("\n"), secrets, "the binary's output");
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

impl Drop for Binary {
    fn drop(&mut self) {
        self.kill_and_reap();
    }
}

/// Spawns `bootstrap` in `pkg` with a reader thread per pipe appending to `into`.
fn spawn(
    pkg: &Package,
    args: &[String],
    env: &[(String, String)],
    input: Option<&[u8]>,
    start: usize,
    into: &Arc<Mutex<Vec<Line>>>,
) -> (Child, Vec<std::thread::JoinHandle<()>>) {
    let mut cmd = Command::new(pkg.dir().join("bootstrap"));
    cmd.args(args)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .current_dir(pkg.dir())
        .stdin(if input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = spawn_retrying(&mut cmd);
    let mut readers = vec![
        collect(
            child.stdout.take().expect("stdout piped"),
            Stream::Stdout,
            start,
            into.clone(),
        ),
        collect(
            child.stderr.take().expect("stderr piped"),
            Stream::Stderr,
            start,
            into.clone(),
        ),
    ];
    if let Some(input) = input {
        // From a thread: a large input must not block the test while the child is busy.
        let mut pipe = child.stdin.take().expect("stdin piped");
        let input = input.to_vec();
        readers.push(std::thread::spawn(move || {
            let _ = pipe.write_all(&input);
        }));
    }
    (child, readers)
}

fn collect(
    pipe: impl std::io::Read + Send + 'static,
    stream: Stream,
    start: usize,
    into: Arc<Mutex<Vec<Line>>>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let mut reader = BufReader::new(pipe);
        let mut buf = Vec::new();
        loop {
            buf.clear();
            match reader.read_until(b'\n', &mut buf) {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    let line = buf.strip_suffix(b"\n").unwrap_or(&buf);
                    let text = String::from_utf8_lossy(line).into_owned();
                    lock(&into).push(Line {
                        start,
                        stream,
                        text,
                    });
                }
            }
        }
    })
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

/// Spawns `cmd`, retrying while the kernel answers ETXTBSY: a package's freshly copied
/// `bootstrap` can still be open for writing in a child that another test thread forked and
/// has not yet exec'd.
fn spawn_retrying(cmd: &mut Command) -> Child {
    const ETXTBSY: i32 = 26;
    let mut tries = 0;
    loop {
        match cmd.spawn() {
            Ok(child) => return child,
            Err(e) if e.raw_os_error() == Some(ETXTBSY) && tries < 100 => {
                tries += 1;
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            Err(e) => panic!("spawn bootstrap: {e}"),
        }
    }
}

/// Runs the binary in `pkg` with exactly `env` to its end (at most 120 s), off the test's
/// runtime so the fakes it talks to keep answering.
pub async fn run_to_end<K: AsRef<str>, V: AsRef<str>>(
    pkg: &Package,
    args: &[&str],
    env: &[(K, V)],
) -> std::process::Output {
    let bin = Binary::start_in(pkg, args, env);
    tokio::task::spawn_blocking(move || bin.into_output(Duration::from_secs(120)))
        .await
        .expect("the waiting thread ends")
}

/// A finished run's stderr, as text.
pub fn stderr_of(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}
