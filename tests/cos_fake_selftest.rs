//! The fake COS must refuse what real COS refuses: hand-built requests (not the crate's
//! client or signer), each broken in one way, are rejected and recorded as failures. Its
//! hostile modes (expiring tokens, redirects, endless answers, split writes) are checked
//! here with the same hand-built requests, so client tests can trust them.
mod common;

use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use common::fake_cos::{
    cos_encode, expected_signature, Endless, EndlessCos, FakeCos, FakeCosOptions, Fault,
};
use common::http::Writes;
use common::seeded::{pick, Seeded};
use md5::{Digest, Md5};

/// A hand-made PUT: headers sent, which of them are signed, and the key time.
struct RawPut {
    path: String,
    body: Vec<u8>,
    headers: Vec<(String, String)>,
    signed: Vec<String>,
    key_time: String,
    secret_key: String,
    secret_id: String,
    /// A header value replaced after signing (what a tampering proxy would do).
    tamper: Option<(&'static str, &'static str)>,
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs() as i64
}

impl RawPut {
    fn valid(cos: &FakeCos, o: &FakeCosOptions, key: &str, body: &[u8]) -> RawPut {
        let md5 = base64::engine::general_purpose::STANDARD.encode(Md5::digest(body));
        let mut headers = vec![
            ("Host".to_string(), cos.host()),
            ("Content-Type".to_string(), "text/plain".to_string()),
            ("Content-Length".to_string(), body.len().to_string()),
            ("Content-MD5".to_string(), md5),
            ("x-cos-meta-note".to_string(), "hello world".to_string()),
        ];
        if let Some(t) = &o.session_token {
            headers.push(("x-cos-security-token".to_string(), t.clone()));
        }
        let signed = headers.iter().map(|(k, _)| k.to_lowercase()).collect();
        let path = key.split('/').map(cos_encode).collect::<Vec<_>>().join("/");
        RawPut {
            path: format!("/{path}"),
            body: body.to_vec(),
            headers,
            signed,
            key_time: format!("{};{}", now() - 60, now() + 600),
            secret_key: o.secret_key.clone(),
            secret_id: o.secret_id.clone(),
            tamper: None,
        }
    }

    fn authorization(&self, decoded_path: &str) -> String {
        let mut list = self.signed.clone();
        list.sort();
        let signed_headers: Vec<(String, String)> = list
            .iter()
            .map(|n| {
                let v = self
                    .headers
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(n))
                    .map(|(_, v)| v.clone())
                    .unwrap_or_default();
                (n.clone(), v)
            })
            .collect();
        let sig = expected_signature(
            &self.secret_key,
            &self.key_time,
            "PUT",
            decoded_path,
            &[],
            &signed_headers,
        );
        format!(
            "q-sign-algorithm=sha1&q-ak={}&q-sign-time={kt}&q-key-time={kt}&q-header-list={}&q-url-param-list=&q-signature={sig}",
            self.secret_id,
            list.join(";"),
            kt = self.key_time
        )
    }

    /// The PUT, ready to send with `client`.
    fn request(
        &self,
        client: &reqwest::Client,
        cos: &FakeCos,
        decoded_path: &str,
    ) -> reqwest::RequestBuilder {
        let mut req = client
            .put(format!("{}{}", cos.url(), self.path))
            .body(self.body.clone())
            .header("Authorization", self.authorization(decoded_path));
        for (k, v) in &self.headers {
            let v = match self.tamper {
                Some((name, value)) if name.eq_ignore_ascii_case(k) => value,
                _ => v.as_str(),
            };
            // reqwest sends the real Host itself; an explicit one is sent only when it differs.
            if !k.eq_ignore_ascii_case("host") || v != cos.host() {
                req = req.header(k.as_str(), v);
            }
        }
        req
    }

    async fn send(&self, cos: &FakeCos, decoded_path: &str) -> (u16, String) {
        let resp = self
            .request(&reqwest::Client::new(), cos, decoded_path)
            .send()
            .await
            .expect("send");
        let status = resp.status().as_u16();
        (status, resp.text().await.expect("body"))
    }
}

fn opts() -> FakeCosOptions {
    FakeCosOptions {
        session_token: Some("TOKEN123".into()),
        ..FakeCosOptions::default()
    }
}

#[tokio::test]
async fn a_correct_hand_signed_put_is_stored() {
    let o = opts();
    let cos = FakeCos::start(o.clone()).await;
    let put = RawPut::valid(&cos, &o, "dir/a b+c~(1)*.txt", b"ObjectContent");
    let (status, _) = put.send(&cos, "/dir/a b+c~(1)*.txt").await;
    assert_eq!(status, 200);
    assert!(cos.verification_failures().is_empty());
    let stored = cos.object("dir/a b+c~(1)*.txt").expect("stored");
    assert_eq!(stored.body, b"ObjectContent");
}

#[tokio::test]
async fn returns_the_reference_crc_and_md5_etag() {
    let o = opts();
    let cos = FakeCos::start(o.clone()).await;
    let put = RawPut::valid(&cos, &o, "k", b"ObjectContent");
    let resp = put
        .request(&reqwest::Client::new(), &cos, "/k")
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.headers()["x-cos-hash-crc64ecma"],
        "2900061071848923409"
    );
    assert_eq!(
        resp.headers()["etag"],
        "\"990fdf561f35e45de4e930149bc9b47a\""
    );
    assert!(resp.headers().contains_key("x-cos-request-id"));
    assert!(resp.headers().contains_key("date"));
}

#[tokio::test]
async fn each_broken_request_is_refused_and_recorded() {
    type Breaker = fn(&mut RawPut);
    let cases: Vec<(&str, u16, &str, Breaker)> = vec![
        ("wrong secret", 403, "SignatureDoesNotMatch", |p| {
            p.secret_key = "wrong".into()
        }),
        ("wrong secret id", 403, "InvalidAccessKeyId", |p| {
            p.secret_id = "AKIDother".into()
        }),
        ("body differs from MD5", 400, "BadDigest", |p| {
            p.body = b"ObjectContenT".to_vec()
        }),
        ("no Content-MD5", 400, "InvalidDigest", |p| {
            p.headers.retain(|(k, _)| k != "Content-MD5");
            p.signed.retain(|k| k != "content-md5");
        }),
        (
            "x-cos header not signed",
            403,
            "SignatureDoesNotMatch",
            |p| p.signed.retain(|k| k != "x-cos-meta-note"),
        ),
        (
            "content-type not signed",
            403,
            "SignatureDoesNotMatch",
            |p| p.signed.retain(|k| k != "content-type"),
        ),
        (
            "header value changed after signing",
            403,
            "SignatureDoesNotMatch",
            |p| {
                p.tamper = Some(("x-cos-meta-note", "hello there"));
            },
        ),
        (
            "content type changed after signing",
            403,
            "SignatureDoesNotMatch",
            |p| {
                p.tamper = Some(("Content-Type", "text/html"));
            },
        ),
        (
            "sent and signed for another host",
            400,
            "InvalidArgument",
            |p| {
                p.headers[0].1 = "other.example:80".into();
            },
        ),
        ("wrong token", 403, "InvalidAccessKeyId", |p| {
            for (k, v) in p.headers.iter_mut() {
                if k == "x-cos-security-token" {
                    *v = "OTHER".into();
                }
            }
        }),
        ("unencoded ( in path", 400, "InvalidURI", |p| {
            p.path = "/a%20b(1)".into();
        }),
    ];
    for (name, status, code, breaker) in cases {
        let o = opts();
        let cos = FakeCos::start(o.clone()).await;
        let mut put = RawPut::valid(&cos, &o, "a b", b"ObjectContent");
        breaker(&mut put);
        let (got, body) = put.send(&cos, "/a b").await;
        assert_eq!(got, status, "{name}: {body}");
        assert!(
            body.contains(&format!("<Code>{code}</Code>")),
            "{name}: {body}"
        );
        assert_eq!(cos.verification_failures().len(), 1, "{name}");
        assert!(cos.objects().is_empty(), "{name}");
    }
}

#[tokio::test]
async fn key_time_outside_the_fake_clock_is_too_skewed_or_expired() {
    let o = opts();
    let cos = FakeCos::start(o.clone()).await;
    let mut put = RawPut::valid(&cos, &o, "k", b"x");
    put.key_time = format!("{};{}", now() + 100, now() + 700);
    let (status, body) = put.send(&cos, "/k").await;
    assert_eq!(status, 403);
    assert!(body.contains("<Code>RequestTimeTooSkewed</Code>"), "{body}");
    put.key_time = format!("{};{}", now() - 700, now() - 100);
    let (status, body) = put.send(&cos, "/k").await;
    assert_eq!(status, 403);
    assert!(body.contains("Request has expired"), "{body}");
    assert_eq!(cos.stats().skew_rejections, 2);
    assert!(cos.objects().is_empty());
}

#[tokio::test]
async fn a_token_runs_out_after_its_writes() {
    let o = FakeCosOptions {
        token_expires_after_writes: Some(2),
        ..opts()
    };
    let cos = FakeCos::start(o.clone()).await;
    for key in ["a", "b"] {
        let put = RawPut::valid(&cos, &o, key, b"ObjectContent");
        let (status, body) = put.send(&cos, &format!("/{key}")).await;
        assert_eq!(status, 200, "{key}: {body}");
    }
    let put = RawPut::valid(&cos, &o, "c", b"ObjectContent");
    let (status, body) = put.send(&cos, "/c").await;
    assert_eq!(status, 403);
    assert!(body.contains("<Code>InvalidAccessKeyId</Code>"), "{body}");
    assert!(
        body.contains("<Message>The security token you provided has expired.</Message>"),
        "{body}"
    );
    assert!(body.contains("<TraceId>"), "{body}");
    assert_eq!(cos.stats().token_expired, 1);
    assert!(cos.verification_failures().is_empty(), "not a client error");
    assert!(cos.object("c").is_none());
}

#[tokio::test]
async fn a_redirect_fault_answers_3xx_with_location_and_stores_nothing() {
    let o = opts();
    let cos = FakeCos::start(o.clone()).await;
    cos.push_faults([Fault::Redirect(308, "http://127.0.0.1:9/elsewhere".into())]);
    let put = RawPut::valid(&cos, &o, "k", b"ObjectContent");
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let resp = put.request(&client, &cos, "/k").send().await.expect("send");
    assert_eq!(resp.status(), 308);
    assert_eq!(resp.headers()["location"], "http://127.0.0.1:9/elsewhere");
    assert!(cos.objects().is_empty());
}

#[tokio::test]
async fn every_way_of_writing_answers_carries_the_same_answer() {
    for writes in [
        Writes::Single,
        Writes::Split,
        Writes::Chunked,
        Writes::Close,
    ] {
        let o = FakeCosOptions { writes, ..opts() };
        let cos = FakeCos::start(o.clone()).await;
        let put = RawPut::valid(&cos, &o, "k", b"ObjectContent");
        let (status, _) = put.send(&cos, "/k").await;
        assert_eq!(status, 200, "{writes:?}");
        cos.push_faults([Fault::SlowDown]);
        let (status, body) = put.send(&cos, "/k").await;
        assert_eq!(status, 503, "{writes:?}");
        assert!(body.contains("<Code>SlowDown</Code>"), "{writes:?}: {body}");
    }
}

#[tokio::test]
async fn endless_answers_have_integrity_headers_and_never_end() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    for mode in [Endless::Ok, Endless::Error(503)] {
        let server = EndlessCos::start(mode).await;
        let mut stream = tokio::net::TcpStream::connect(server.addr)
            .await
            .expect("connect");
        stream
            .write_all(b"PUT /k HTTP/1.1\r\nHost: x\r\nContent-Length: 13\r\n\r\nObjectContent")
            .await
            .expect("write");
        let mut got = Vec::new();
        let mut chunk = [0u8; 65536];
        while got.len() < 4 << 20 {
            let n = stream.read(&mut chunk).await.expect("read");
            assert!(n > 0, "{mode:?}: the answer ended");
            got.extend_from_slice(&chunk[..n]);
        }
        let head = String::from_utf8_lossy(&got[..512]).to_string();
        match mode {
            Endless::Ok => {
                assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
                // The reference CRC-64 and MD5 of `ObjectContent`.
                assert!(
                    head.contains("x-cos-hash-crc64ecma: 2900061071848923409\r\n"),
                    "{head}"
                );
                assert!(
                    head.contains("ETag: \"990fdf561f35e45de4e930149bc9b47a\"\r\n"),
                    "{head}"
                );
            }
            Endless::Error(_) => assert!(head.starts_with("HTTP/1.1 503 "), "{head}"),
        }
        assert!(head.contains("Transfer-Encoding: chunked\r\n"), "{head}");
        assert_eq!(server.connections(), 1);
    }
}

/// The first draws for a few seeds, as the fakes' own splitmix64 copies drew them before
/// `Seeded` replaced them (computed from that code at 2dde4ec): seeded suites keep their
/// fault sequences.
#[test]
fn seeded_draws_the_sequence_the_fakes_drew_before() {
    let before: [(u64, [f64; 4]); 5] = [
        (
            0,
            [
                0.5665615751722809,
                0.7457817572627011,
                0.9710027535867962,
                0.4443592170557721,
            ],
        ),
        (
            1,
            [
                0.43152799704850997,
                0.026433771592597743,
                0.9708819781538285,
                0.10634669156721244,
            ],
        ),
        (
            7,
            [
                0.771546556331567,
                0.24568894884013137,
                0.9520306913678265,
                0.39646797562881353,
            ],
        ),
        (
            42,
            [
                0.23636053487376962,
                0.656235529232191,
                0.8689089421239031,
                0.8393313170115863,
            ],
        ),
        (
            u64::MAX,
            [
                0.0,
                0.8833108082136426,
                0.43152799704850997,
                0.026433771592597743,
            ],
        ),
    ];
    for (seed, draws) in before {
        let mut rng = Seeded::new(seed);
        let now: Vec<u64> = (0..4).map(|_| rng.draw().to_bits()).collect();
        let then: Vec<u64> = draws.iter().map(|d| d.to_bits()).collect();
        assert_eq!(now, then, "seed {seed}");
    }
}

#[test]
fn pick_takes_the_first_entry_whose_running_sum_exceeds_the_draw() {
    let table = || [(0.25, 'a'), (0.0, 'b'), (0.25, 'c')];
    assert_eq!(pick(0.0, table()), Some('a'));
    assert_eq!(pick(0.24, table()), Some('a'));
    assert_eq!(pick(0.25, table()), Some('c'));
    assert_eq!(pick(0.49, table()), Some('c'));
    assert_eq!(pick(0.5, table()), None);
    assert_eq!(pick(0.99, table()), None);
}
