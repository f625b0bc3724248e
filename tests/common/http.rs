//! A deliberately small HTTP/1.1 server for fakes: Content-Length bodies, keep-alive,
//! and the faults a real network produces (resets, stalls, early close).
//!
//! Real servers differ in how they write an answer, and a client must not care: [`Writes`]
//! picks one way per server (or rotates through all of them), and `FAKE_HTTP_WRITES`
//! (`single`, `split`, `chunked`, `close`, `mixed`) sets the default for every fake.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// A request as received.
#[derive(Debug, Clone)]
pub struct Request {
    /// Method, as sent.
    pub method: String,
    /// Request target (path and query, still percent-encoded).
    pub target: String,
    /// Headers in arrival order, names as sent.
    pub headers: Vec<(String, String)>,
    /// Body bytes.
    pub body: Vec<u8>,
}

impl Request {
    /// First header with this name, case-insensitively.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Path part of the target (before `?`), still encoded.
    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or("")
    }

    /// Query part of the target (after `?`), still encoded.
    pub fn query(&self) -> &str {
        self.target.split_once('?').map(|(_, q)| q).unwrap_or("")
    }
}

/// A response to send.
#[derive(Debug, Clone)]
pub struct Response {
    /// Status code.
    pub status: u16,
    /// Headers (Content-Length is added).
    pub headers: Vec<(String, String)>,
    /// Body.
    pub body: Vec<u8>,
}

impl Response {
    /// A response with a status and a body.
    pub fn new(status: u16, body: impl Into<Vec<u8>>) -> Self {
        Response {
            status,
            headers: Vec::new(),
            body: body.into(),
        }
    }

    /// Adds a header.
    pub fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_string(), value.into()));
        self
    }
}

/// What the server does with a request.
#[derive(Debug)]
pub enum Reply {
    /// Send this response and keep the connection.
    Send(Response),
    /// Abort the connection with a TCP reset (SO_LINGER 0), sending nothing.
    Reset,
    /// Wait this long, then close the connection without answering.
    Stall(Duration),
    /// Send the head of this response (its `Content-Length` = the whole body), then only the
    /// first `sent` bytes of its body, then close the connection.
    CutShort(Response, usize),
    /// Send the head of this response at once, then its body one byte every `Duration`.
    Trickle(Response, Duration),
}

/// How the server writes each answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Writes {
    /// Status line, headers and body in one write, `TCP_NODELAY` on: one segment.
    Single,
    /// Headers, then body, in two writes with Nagle's algorithm left on (as Python's
    /// `http.server` does): the body waits for the client's ACK of the headers.
    Split,
    /// `Transfer-Encoding: chunked`, each chunk (at most 1 KiB) its own write, Nagle on.
    Chunked,
    /// One segment with `Connection: close`, then the connection is closed.
    Close,
    /// Rotates through the four above, one answer at a time.
    Mixed,
}

impl Writes {
    /// `FAKE_HTTP_WRITES`, or [`Writes::Single`] when unset or unknown.
    pub fn from_env() -> Writes {
        match std::env::var("FAKE_HTTP_WRITES").as_deref() {
            Ok("split") => Writes::Split,
            Ok("chunked") => Writes::Chunked,
            Ok("close") => Writes::Close,
            Ok("mixed") => Writes::Mixed,
            _ => Writes::Single,
        }
    }

    /// The concrete way to write answer number `n` of the server.
    fn nth(self, n: usize) -> Writes {
        const ALL: [Writes; 4] = [
            Writes::Single,
            Writes::Split,
            Writes::Chunked,
            Writes::Close,
        ];
        match self {
            Writes::Mixed => ALL[n % ALL.len()],
            other => other,
        }
    }
}

/// A running server.
pub struct Server {
    /// Bound loopback address.
    pub addr: SocketAddr,
    task: JoinHandle<()>,
}

impl Server {
    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Serves `handler` on a fresh loopback port until the [`Server`] is dropped.
pub async fn serve<F, Fut>(handler: F) -> Server
where
    F: Fn(Request) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Reply> + Send + 'static,
{
    serve_on("127.0.0.1:0", handler).await
}

/// Like [`serve`] on a given address (to bring a server back on the same port).
pub async fn serve_on<F, Fut>(addr: &str, handler: F) -> Server
where
    F: Fn(Request) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Reply> + Send + 'static,
{
    serve_with(addr, Writes::from_env(), handler).await
}

/// Like [`serve_on`], writing answers as `writes` says.
pub async fn serve_with<F, Fut>(addr: &str, writes: Writes, handler: F) -> Server
where
    F: Fn(Request) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Reply> + Send + 'static,
{
    let answers = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let listener = TcpListener::bind(addr).await.expect("bind loopback");
    let addr = listener.local_addr().expect("local addr");
    let handler = Arc::new(handler);
    let task = tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let handler = handler.clone();
            let answers = answers.clone();
            tokio::spawn(async move {
                let _ = connection(stream, handler, writes, answers).await;
            });
        }
    });
    Server { addr, task }
}

async fn connection<F, Fut>(
    mut stream: TcpStream,
    handler: Arc<F>,
    writes: Writes,
    answers: Arc<std::sync::atomic::AtomicUsize>,
) -> std::io::Result<()>
where
    F: Fn(Request) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Reply> + Send + 'static,
{
    let mut buf: Vec<u8> = Vec::with_capacity(8192);
    loop {
        let head_end = loop {
            if let Some(pos) = find(&buf, b"\r\n\r\n") {
                break pos;
            }
            let mut chunk = [0u8; 8192];
            let n = stream.read(&mut chunk).await?;
            if n == 0 {
                return Ok(());
            }
            buf.extend_from_slice(&chunk[..n]);
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
        let mut lines = head.split("\r\n");
        let mut first = lines.next().unwrap_or("").split(' ');
        let method = first.next().unwrap_or("").to_string();
        let target = first.next().unwrap_or("").to_string();
        let headers: Vec<(String, String)> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
            .collect();
        let len: usize = headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
            .and_then(|(_, v)| v.parse().ok())
            .unwrap_or(0);
        let close = headers
            .iter()
            .any(|(k, v)| k.eq_ignore_ascii_case("connection") && v.eq_ignore_ascii_case("close"));
        buf.drain(..head_end + 4);
        while buf.len() < len {
            let mut chunk = [0u8; 8192];
            let n = stream.read(&mut chunk).await?;
            if n == 0 {
                return Ok(());
            }
            buf.extend_from_slice(&chunk[..n]);
        }
        let body: Vec<u8> = buf.drain(..len).collect();
        let req = Request {
            method,
            target,
            headers,
            body,
        };
        match handler(req).await {
            Reply::Send(resp) => {
                let n = answers.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let how = writes.nth(n);
                write_answer(&mut stream, &resp, how).await?;
                if close || how == Writes::Close {
                    return Ok(());
                }
            }
            Reply::Reset => {
                // SO_LINGER 0 makes close send RST: the one way to fake a reset. tokio deprecates
                // it because it blocks on close in general, which zero linger does not.
                #[allow(deprecated)]
                stream.set_linger(Some(Duration::ZERO))?;
                return Ok(());
            }
            Reply::Stall(d) => {
                tokio::time::sleep(d).await;
                return Ok(());
            }
            Reply::CutShort(resp, sent) => {
                stream.set_nodelay(true)?;
                stream.write_all(&raw_head(&resp)).await?;
                stream
                    .write_all(&resp.body[..sent.min(resp.body.len())])
                    .await?;
                stream.flush().await?;
                return Ok(());
            }
            Reply::Trickle(resp, every) => {
                stream.set_nodelay(true)?;
                stream.write_all(&raw_head(&resp)).await?;
                for byte in &resp.body {
                    tokio::time::sleep(every).await;
                    stream.write_all(std::slice::from_ref(byte)).await?;
                }
                stream.flush().await?;
            }
        }
    }
}

/// Writes one answer the way `how` says (never [`Writes::Mixed`]: that was resolved).
async fn write_answer(stream: &mut TcpStream, resp: &Response, how: Writes) -> std::io::Result<()> {
    // Nagle on for the split and chunked writers: that is what makes them hold a segment
    // until the previous one is acknowledged.
    stream.set_nodelay(matches!(how, Writes::Single | Writes::Close))?;
    let mut head = format!("HTTP/1.1 {} {}\r\n", resp.status, reason(resp.status));
    for (k, v) in &resp.headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    if how == Writes::Close {
        head.push_str("Connection: close\r\n");
    }
    if how == Writes::Chunked {
        head.push_str("Transfer-Encoding: chunked\r\n\r\n");
        stream.write_all(head.as_bytes()).await?;
        for chunk in resp.body.chunks(1024) {
            let mut piece = format!("{:x}\r\n", chunk.len()).into_bytes();
            piece.extend_from_slice(chunk);
            piece.extend_from_slice(b"\r\n");
            stream.write_all(&piece).await?;
        }
        stream.write_all(b"0\r\n\r\n").await?;
        return stream.flush().await;
    }
    head.push_str(&format!("Content-Length: {}\r\n\r\n", resp.body.len()));
    if how == Writes::Split {
        stream.write_all(head.as_bytes()).await?;
        stream.write_all(&resp.body).await?;
    } else {
        let mut all = head.into_bytes();
        all.extend_from_slice(&resp.body);
        stream.write_all(&all).await?;
    }
    stream.flush().await
}

/// Status line and headers of `resp` with a `Content-Length` of its whole body.
fn raw_head(resp: &Response) -> Vec<u8> {
    let mut head = format!("HTTP/1.1 {} {}\r\n", resp.status, reason(resp.status));
    for (k, v) in &resp.headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str(&format!("Content-Length: {}\r\n\r\n", resp.body.len()));
    head.into_bytes()
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        202 => "Accepted",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        409 => "Conflict",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Status",
    }
}
