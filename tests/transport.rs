//! The HTTP layer against servers that write answers every way real servers do, redirect,
//! stall, and send bodies without end.
mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use common::http::{serve_with, Reply, Response, Writes};
use mps_cos_backup::transport::{Bounds, HttpClient, Method, Request, TransportError, Uri};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn bounds(max_body: usize) -> Bounds {
    Bounds {
        max_body,
        deadline: Some(Instant::now() + Duration::from_secs(10)),
    }
}

fn post(url: &str, body: &'static [u8]) -> Result<Request, Box<dyn std::error::Error>> {
    let mut req = Request::new(Method::POST, url.parse::<Uri>()?);
    req.body = Bytes::from_static(body);
    Ok(req)
}

/// Every way of writing an answer gives the same bytes, over reused connections.
#[tokio::test]
async fn every_answer_shape_reads_the_same() -> TestResult {
    for writes in [
        Writes::Single,
        Writes::Split,
        Writes::Chunked,
        Writes::Close,
        Writes::Mixed,
    ] {
        let server = serve_with("127.0.0.1:0", writes, |req| async move {
            let mut body = req.body.clone();
            body.extend_from_slice(&vec![b'x'; 3000]);
            Reply::Send(Response::new(200, body).header("X-Seen", req.method))
        })
        .await;
        let client = HttpClient::new();
        for i in 0..6 {
            let answer = client
                .send(
                    post(&format!("{}/echo", server.url()), b"hello")?,
                    bounds(1 << 20),
                )
                .await?;
            assert_eq!(answer.status, 200, "{writes:?} answer {i}");
            assert_eq!(answer.header("x-seen"), Some("POST"));
            assert_eq!(answer.body.len(), 5 + 3000, "{writes:?} answer {i}");
            assert!(answer.body.starts_with(b"hello"));
        }
    }
    Ok(())
}

/// No 3xx is followed, whatever its status; the other host receives nothing.
#[tokio::test]
async fn redirects_are_errors_and_nothing_reaches_the_other_host() -> TestResult {
    let elsewhere_hits = Arc::new(AtomicUsize::new(0));
    let hits = elsewhere_hits.clone();
    let elsewhere = serve_with("127.0.0.1:0", Writes::Single, move |_req| {
        hits.fetch_add(1, Ordering::SeqCst);
        async { Reply::Send(Response::new(200, "stolen")) }
    })
    .await;
    let location = format!("{}/next?token=secret", elsewhere.url());
    for status in [301u16, 302, 303, 307, 308] {
        let location = location.clone();
        let server = serve_with("127.0.0.1:0", Writes::Mixed, move |_req| {
            let location = location.clone();
            async move { Reply::Send(Response::new(status, "").header("Location", location)) }
        })
        .await;
        let err = HttpClient::new()
            .send(
                post(&format!("{}/k", server.url()), b"record")?,
                bounds(1024),
            )
            .await
            .err()
            .ok_or("a redirect must be an error")?;
        match &err {
            TransportError::Redirect {
                status: s,
                location_host,
            } => {
                assert_eq!(*s, status);
                assert_eq!(location_host.as_deref(), Some("127.0.0.1"));
            }
            other => return Err(format!("{status}: expected a redirect error, got {other}").into()),
        }
        assert!(!err.is_retryable());
        assert!(!err.to_string().contains("secret"), "{err}");
    }
    assert_eq!(elsewhere_hits.load(Ordering::SeqCst), 0);
    Ok(())
}

/// Serves one raw answer head, then `body` forever (chunked or with a huge length).
async fn endless(head: &'static str) -> Result<String, Box<dyn std::error::Error>> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let _ = s.read(&mut buf).await;
                if s.write_all(head.as_bytes()).await.is_err() {
                    return;
                }
                let chunk = if head.contains("chunked") {
                    format!("4000\r\n{}\r\n", "y".repeat(0x4000)).into_bytes()
                } else {
                    vec![b'y'; 0x4000]
                };
                // Bounded so the test's server stops by itself: 4 GiB is "without end" here.
                for _ in 0..(1u32 << 18) {
                    if s.write_all(&chunk).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    Ok(format!("http://{addr}/"))
}

#[tokio::test]
async fn endless_bodies_stop_at_the_bound() -> TestResult {
    let client = HttpClient::new();
    for head in [
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 99999999999\r\n\r\n",
        "HTTP/1.1 500 Internal Server Error\r\nConnection: close\r\n\r\n",
    ] {
        let url = endless(head).await?;
        let started = Instant::now();
        let err = client
            .send(post(&url, b"x")?, bounds(64 * 1024))
            .await
            .err()
            .ok_or("an endless body must be an error")?;
        assert!(
            matches!(err, TransportError::BodyTooLarge { limit: 65536, .. }),
            "{head:?}: {err}"
        );
        assert!(started.elapsed() < Duration::from_secs(10));
    }
    Ok(())
}

#[tokio::test]
async fn a_stalled_server_ends_at_the_deadline() -> TestResult {
    let server = serve_with("127.0.0.1:0", Writes::Single, |_req| async {
        Reply::Stall(Duration::from_secs(30))
    })
    .await;
    let deadline = Instant::now() + Duration::from_millis(300);
    let err = HttpClient::new()
        .send(
            post(&server.url(), b"x")?,
            Bounds {
                max_body: 1024,
                deadline: Some(deadline),
            },
        )
        .await
        .err()
        .ok_or("a stall must be an error")?;
    assert!(matches!(err, TransportError::TimedOut { .. }), "{err}");
    assert!(
        err.to_string()
            .contains("no complete answer from 127.0.0.1:"),
        "{err}"
    );
    assert!(err.is_retryable());
    Ok(())
}

#[tokio::test]
async fn resets_and_refusals_are_retryable() -> TestResult {
    let server = serve_with("127.0.0.1:0", Writes::Single, |_req| async { Reply::Reset }).await;
    let client = HttpClient::new();
    let err = client
        .send(post(&server.url(), b"x")?, bounds(1024))
        .await
        .err()
        .ok_or("a reset must be an error")?;
    assert!(matches!(err, TransportError::Io { .. }), "{err}");
    assert!(err.is_retryable());
    // The line names the host the exchange was with.
    let host = server
        .url()
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_string();
    assert!(
        err.to_string()
            .starts_with(&format!("connection to {host} failed: ")),
        "{err}"
    );
    // A port nobody listens on.
    let closed = TcpListener::bind("127.0.0.1:0").await?.local_addr()?;
    let err = client
        .send(post(&format!("http://{closed}/"), b"x")?, bounds(1024))
        .await
        .err()
        .ok_or("a refused connection must be an error")?;
    assert!(matches!(err, TransportError::Connect { .. }), "{err}");
    assert!(err.is_retryable());
    assert!(
        err.to_string()
            .starts_with(&format!("could not connect to {closed}: ")),
        "{err}"
    );
    Ok(())
}

#[tokio::test]
async fn other_schemes_are_refused_before_sending() -> TestResult {
    let err = HttpClient::new()
        .send(post("ftp://127.0.0.1/x", b"x")?, bounds(1024))
        .await
        .err()
        .ok_or("ftp must be refused")?;
    assert!(matches!(err, TransportError::InvalidRequest(_)), "{err}");
    Ok(())
}

/// `send_status`: for an accepted status the head is the answer, so a body cut short or
/// trickling past the deadline does not fail the exchange; `send` still reads the whole
/// answer, and a refused status is read as `send` reads it.
#[tokio::test]
async fn send_status_takes_an_accepted_head_as_the_answer() -> TestResult {
    let is_2xx = |s: mps_cos_backup::transport::StatusCode| s.is_success();
    for (status, trickle) in [(200, false), (200, true), (503, false), (503, true)] {
        let server = serve_with("127.0.0.1:0", Writes::Single, move |_req| async move {
            let resp = Response::new(status, vec![b'x'; 64]);
            if trickle {
                Reply::Trickle(resp, Duration::from_millis(100))
            } else {
                Reply::CutShort(resp, 10)
            }
        })
        .await;
        let client = HttpClient::new();
        let limit = || Bounds {
            max_body: 1024,
            deadline: Some(Instant::now() + Duration::from_secs(1)),
        };
        let started = Instant::now();
        let got = client
            .send_status(post(&server.url(), b"x")?, limit(), is_2xx)
            .await;
        if status == 200 {
            let answer = got.map_err(|e| format!("{status} trickle={trickle}: {e}"))?;
            assert_eq!(answer.status.as_u16(), 200);
            assert!(started.elapsed() < Duration::from_millis(900));
        } else {
            assert!(got.is_err(), "{status} trickle={trickle}");
        }
        let whole = client.send(post(&server.url(), b"x")?, limit()).await;
        assert!(
            whole.is_err(),
            "send reads the whole body: {status} trickle={trickle}"
        );
    }
    Ok(())
}
