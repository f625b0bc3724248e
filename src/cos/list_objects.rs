//! GET Bucket (list objects) without I/O: the request of one page, signed per attempt, and
//! a pure reader of its `ListBucketResult`.
//!
//! Every page asks for `encoding-type=url`, so keys with any character travel safely
//! through XML; the reader percent-decodes `Key`, `Prefix`, `NextMarker` and the common
//! prefixes. [`CosClient::list_objects`] follows `NextMarker` to the last page.

use std::time::Instant;

use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::client::{CosClient, Operation};
use super::error::{CosError, CosFailure, ErrorBody};
use super::sign::{enc, sign, KeyTime, SignRequest};
use super::xml::{self, XmlError};
use crate::credentials::Credentials;
use crate::retry::{Ending, GaveUp};
use crate::transport::header::AUTHORIZATION;
use crate::transport::{Answer, HeaderMap, HeaderValue, Method, Request, Uri};

/// Most entries COS returns in one answer.
pub(crate) const MAX_KEYS: u32 = 1000;

/// Longest listing answer read: 1,000 entries of at most 850-byte keys, percent-encoded
/// (up to three bytes each), with their XML, stay well below this.
const MAX_LIST_BODY: usize = 8 * 1024 * 1024;

/// One object in a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedObject {
    /// Object key (decoded).
    pub key: String,
    /// Size in bytes.
    pub size: u64,
    /// `LastModified`.
    pub last_modified: Option<DateTime<Utc>>,
    /// `ETag`, quotes stripped.
    pub(crate) etag: Option<String>,
}

/// One page of a listing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ListPage {
    /// Objects, in key order.
    pub(crate) objects: Vec<ListedObject>,
    /// Common prefixes (with a delimiter), decoded.
    pub(crate) prefixes: Vec<String>,
    /// Whether more pages follow.
    pub(crate) truncated: bool,
    /// Where the next page starts (decoded), when truncated.
    pub next_marker: Option<String>,
}

/// A whole listing: every page of one prefix.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListOutcome {
    /// Objects, in key order.
    pub objects: Vec<ListedObject>,
    /// Common prefixes, in order, each once.
    pub prefixes: Vec<String>,
    /// Pages asked for.
    pub pages: u64,
    /// Attempts made over all pages.
    pub(crate) attempts: u64,
}

/// The request of one page: GET `/?delimiter&encoding-type=url&marker&max-keys&prefix`.
pub(crate) struct ListRequest {
    prefix: String,
    uri: Uri,
    /// Query parameters as signed (decoded values).
    query: Vec<(&'static str, String)>,
    host: String,
}

impl ListRequest {
    /// The request of the page after `marker` of the objects under `prefix`.
    pub(crate) fn new(
        client: &CosClient,
        prefix: &str,
        delimiter: Option<char>,
        marker: Option<&str>,
        max_keys: u32,
    ) -> Result<ListRequest, CosError> {
        let invalid = |reason: &str| CosError::InvalidRequest {
            op: "GET Bucket",
            reason: reason.to_string(),
        };
        if prefix.chars().any(char::is_control) || marker.is_some_and(|m| m.contains('\0')) {
            return Err(invalid("the prefix or marker has a control character"));
        }
        let mut query: Vec<(&'static str, String)> = Vec::with_capacity(5);
        if let Some(d) = delimiter {
            query.push(("delimiter", d.to_string()));
        }
        query.push(("encoding-type", "url".to_string()));
        if let Some(m) = marker.filter(|m| !m.is_empty()) {
            query.push(("marker", m.to_string()));
        }
        query.push(("max-keys", max_keys.clamp(1, MAX_KEYS).to_string()));
        if !prefix.is_empty() {
            query.push(("prefix", prefix.to_string()));
        }
        let qs: Vec<String> = query
            .iter()
            .map(|(k, v)| format!("{k}={}", enc(v)))
            .collect();
        let endpoint = client.bucket().endpoint();
        let uri = Uri::try_from(format!("{endpoint}/?{}", qs.join("&")))
            .map_err(|_| invalid("the prefix does not make a valid URI"))?;
        Ok(ListRequest {
            prefix: prefix.to_string(),
            uri,
            query,
            host: endpoint.authority().to_string(),
        })
    }
}

impl Operation for ListRequest {
    type Output = ListPage;
    const NAME: &'static str = "GET Bucket";
    const ACTION: &'static str = "cos:GetBucket";
    const MAX_BODY: usize = MAX_LIST_BODY;

    fn key(&self) -> &str {
        &self.prefix
    }

    fn request(&self, creds: &Credentials, key_time: KeyTime) -> Request {
        signed_get(&self.uri, "/", &self.query, &self.host, creds, key_time)
    }

    fn read(&self, answer: &Answer) -> Result<ListPage, CosFailure> {
        if answer.status.as_u16() != 200 {
            return Err(status_failure(answer));
        }
        parse_list(&answer.body)
    }
}

/// A signed GET of `uri` (path `path` as signed, `query` decoded): `host` and the session
/// token are the signed headers, as COS requires of every request.
pub(crate) fn signed_get(
    uri: &Uri,
    path: &str,
    query: &[(&str, String)],
    host: &str,
    creds: &Credentials,
    key_time: KeyTime,
) -> Request {
    // A token that cannot be a header value is not sent; COS then refuses the request as
    // unauthenticated, which names the problem (credentials) well enough.
    let token = creds
        .session_token()
        .and_then(|t| HeaderValue::from_str(t).ok());
    let mut headers: Vec<(&str, &str)> = vec![("host", host)];
    if let Some(t) = creds.session_token().filter(|_| token.is_some()) {
        headers.push(("x-cos-security-token", t));
    }
    let query: Vec<(&str, &str)> = query.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let signature = sign(
        &SignRequest {
            method: "GET",
            path,
            query: &query,
            headers: &headers,
        },
        creds.secret_id(),
        creds.secret_key(),
        key_time,
    );
    let mut out = HeaderMap::with_capacity(2);
    if let Ok(auth) = HeaderValue::from_str(&signature.authorization) {
        out.insert(AUTHORIZATION, auth);
    }
    if let Some(t) = token {
        out.insert("x-cos-security-token", t);
    }
    let mut req = Request::new(Method::GET, uri.clone());
    req.headers = out;
    req
}

/// The failure of a non-200 answer: its status and XML error body.
pub(crate) fn status_failure(answer: &Answer) -> CosFailure {
    let mut error = ErrorBody::parse(&answer.body);
    if error.request_id.is_none() {
        error.request_id = answer.header("x-cos-request-id").map(crate::text::one_line);
    }
    CosFailure::Status {
        status: answer.status.as_u16(),
        error: Box::new(error),
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListBucketResult {
    #[serde(default)]
    encoding_type: Option<String>,
    #[serde(default)]
    is_truncated: Option<String>,
    #[serde(default)]
    next_marker: Option<String>,
    #[serde(default)]
    contents: Vec<Contents>,
    #[serde(default)]
    common_prefixes: Vec<CommonPrefixes>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Contents {
    key: String,
    #[serde(default)]
    last_modified: Option<String>,
    #[serde(default, rename = "ETag")]
    etag: Option<String>,
    #[serde(default)]
    size: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CommonPrefixes {
    prefix: String,
}

/// Reads a `ListBucketResult`, decoding names when it says `EncodingType` `url`.
pub(crate) fn parse_list(body: &[u8]) -> Result<ListPage, CosFailure> {
    let malformed = |detail: String| CosFailure::Malformed {
        detail: crate::text::one_line(&detail),
    };
    let raw: ListBucketResult = xml::read(body, "ListBucketResult").map_err(|e| match e {
        XmlError::NotUtf8 => malformed("listing is not UTF-8".to_string()),
        XmlError::WrongRoot => malformed("not a ListBucketResult".to_string()),
        XmlError::Invalid(e) => malformed(format!("not a ListBucketResult: {e}")),
    })?;
    let url = raw
        .encoding_type
        .as_deref()
        .is_some_and(|e| e.eq_ignore_ascii_case("url"));
    let name = |s: &str| -> Result<String, CosFailure> {
        if url {
            percent_decode(s).ok_or_else(|| malformed(format!("name {s:?} does not decode")))
        } else {
            Ok(s.to_string())
        }
    };
    let truncated = match raw.is_truncated.as_deref().map(str::trim) {
        Some("true") => true,
        Some("false") | None => false,
        Some(other) => return Err(malformed(format!("IsTruncated is {other:?}"))),
    };
    let mut objects = Vec::with_capacity(raw.contents.len());
    for c in raw.contents {
        let size = match c.size.as_deref().map(str::trim) {
            None | Some("") => 0,
            Some(s) => s
                .parse::<u64>()
                .map_err(|_| malformed(format!("Size {s:?} is not a number")))?,
        };
        objects.push(ListedObject {
            key: name(&c.key)?,
            size,
            last_modified: c
                .last_modified
                .as_deref()
                .and_then(|t| DateTime::parse_from_rfc3339(t.trim()).ok())
                .map(|t| t.with_timezone(&Utc)),
            etag: c.etag.map(|e| e.trim().trim_matches('"').to_string()),
        });
    }
    let prefixes = raw
        .common_prefixes
        .iter()
        .map(|p| name(&p.prefix))
        .collect::<Result<Vec<_>, _>>()?;
    let next_marker = match raw.next_marker.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(m) => Some(name(m)?),
    };
    Ok(ListPage {
        objects,
        prefixes,
        truncated,
        next_marker,
    })
}

/// Decodes `%XX` escapes (any case); `None` for a broken escape or bytes that are not UTF-8.
/// `+` stays `+`: COS percent-encodes spaces.
pub(crate) fn percent_decode(s: &str) -> Option<String> {
    if !s.contains('%') {
        return Some(s.to_string());
    }
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            // from_str_radix would also take a sign (`%+A`): two hex digits only.
            if !hex.bytes().all(|c| c.is_ascii_hexdigit()) {
                return None;
            }
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

impl CosClient {
    /// One page of the objects under `prefix` after `marker` (at most `max_keys`), with its
    /// own retries and `page_time` to succeed in; the caller follows the markers.
    pub(crate) async fn list_page(
        &self,
        prefix: &str,
        delimiter: Option<char>,
        marker: Option<&str>,
        max_keys: u32,
        page_time: std::time::Duration,
    ) -> Result<ListPage, CosError> {
        let req = ListRequest::new(self, prefix, delimiter, marker, max_keys)?;
        let (page, _attempts) = self.run(&req, Instant::now() + page_time).await?;
        Ok(page)
    }

    /// Lists every object under `prefix` (with `delimiter`: the objects before the next
    /// delimiter, and the common prefixes beneath), following `NextMarker` to the last page.
    /// Each page has its own retries and `page_time` to succeed in.
    pub async fn list_objects(
        &self,
        prefix: &str,
        delimiter: Option<char>,
        max_keys: u32,
        page_time: std::time::Duration,
    ) -> Result<ListOutcome, CosError> {
        let mut out = ListOutcome::default();
        let mut marker: Option<String> = None;
        loop {
            let req = ListRequest::new(self, prefix, delimiter, marker.as_deref(), max_keys)?;
            let (page, attempts) = self.run(&req, Instant::now() + page_time).await?;
            out.pages += 1;
            out.attempts += u64::from(attempts);
            // When a page ends in a common prefix, the next may start with it again.
            for p in page.prefixes {
                if out.prefixes.last() != Some(&p) {
                    out.prefixes.push(p);
                }
            }
            // Without NextMarker (no delimiter), the next page starts after the last key.
            let next = page
                .next_marker
                .clone()
                .or_else(|| page.objects.last().map(|o| o.key.clone()));
            out.objects.extend(page.objects);
            if !page.truncated {
                return Ok(out);
            }
            match next {
                // Keys come in byte order: a marker that does not move forward would loop.
                Some(n) if marker.as_deref().is_none_or(|m| n.as_str() > m) => marker = Some(n),
                _ => {
                    return Err(CosError::GaveUp {
                        op: "GET Bucket",
                        at: CosError::location(
                            self.bucket().name(),
                            prefix,
                            self.bucket().endpoint().authority(),
                        ),
                        gave_up: GaveUp {
                            attempts,
                            ending: Ending::Rejected(CosFailure::Malformed {
                                detail: "truncated listing without a marker to go on from".into(),
                            }),
                        },
                    })
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_decoding_takes_two_hex_digits_only() {
        assert_eq!(percent_decode("a%20b%E4%B8%AD").as_deref(), Some("a b中"));
        assert_eq!(percent_decode("a+b").as_deref(), Some("a+b"));
        assert_eq!(percent_decode("%+A"), None);
        assert_eq!(percent_decode("%-1"), None);
        assert_eq!(percent_decode("%4"), None);
    }

    #[test]
    fn parses_a_url_encoded_page() {
        let xml = r#"<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult>
  <Name>examplebucket-1250000000</Name>
  <EncodingType>url</EncodingType>
  <Prefix>p%2F</Prefix>
  <Marker/>
  <MaxKeys>2</MaxKeys>
  <Delimiter>%2F</Delimiter>
  <IsTruncated>true</IsTruncated>
  <NextMarker>p%2FB%2F</NextMarker>
  <Contents>
    <Key>p%2Fa%20b%26c%25d%E4%BB%BB%E5%8A%A1.json</Key>
    <LastModified>2026-11-24T07:54:21.000Z</LastModified>
    <ETag>&quot;9c1d&quot;</ETag>
    <Size>1234</Size>
    <Owner><ID>1250000000</ID><DisplayName>1250000000</DisplayName></Owner>
    <StorageClass>STANDARD</StorageClass>
  </Contents>
  <CommonPrefixes><Prefix>p%2FA%2F</Prefix></CommonPrefixes>
  <CommonPrefixes><Prefix>p%2FB%2F</Prefix></CommonPrefixes>
</ListBucketResult>"#;
        let page = parse_list(xml.as_bytes()).unwrap();
        assert_eq!(page.objects.len(), 1);
        let o = &page.objects[0];
        assert_eq!(o.key, "p/a b&c%d任务.json");
        assert_eq!(o.size, 1234);
        assert_eq!(o.etag.as_deref(), Some("9c1d"));
        assert_eq!(
            o.last_modified.map(|t| t.to_rfc3339()),
            Some("2026-11-24T07:54:21+00:00".to_string())
        );
        assert_eq!(page.prefixes, ["p/A/", "p/B/"]);
        assert!(page.truncated);
        assert_eq!(page.next_marker.as_deref(), Some("p/B/"));
    }

    #[test]
    fn without_url_encoding_names_are_xml_text() {
        let xml = "<ListBucketResult><IsTruncated>false</IsTruncated>\
            <Contents><Key>a &amp; b%20.json</Key><Size>1</Size></Contents></ListBucketResult>";
        let page = parse_list(xml.as_bytes()).unwrap();
        assert_eq!(page.objects[0].key, "a & b%20.json");
        assert!(!page.truncated);
        // An empty listing.
        let page =
            parse_list(b"<ListBucketResult><IsTruncated>false</IsTruncated></ListBucketResult>")
                .unwrap();
        assert_eq!(page, ListPage::default());
    }

    #[test]
    fn interleaved_contents_and_prefixes() {
        let xml = "<ListBucketResult><EncodingType>url</EncodingType>\
            <Contents><Key>a</Key><Size>1</Size></Contents>\
            <CommonPrefixes><Prefix>b%2F</Prefix></CommonPrefixes>\
            <Contents><Key>c</Key><Size>2</Size></Contents></ListBucketResult>";
        let page = parse_list(xml.as_bytes()).unwrap();
        let keys: Vec<&str> = page.objects.iter().map(|o| o.key.as_str()).collect();
        assert_eq!(keys, ["a", "c"]);
        assert_eq!(page.prefixes, ["b/"]);
    }

    #[test]
    fn garbage_is_malformed_not_a_panic() {
        for bad in [
            &b"<html>oops</html>"[..],
            b"",
            b"<ListBucketResult><IsTruncated>maybe</IsTruncated></ListBucketResult>",
            b"<ListBucketResult><EncodingType>url</EncodingType><Contents><Key>%zz</Key></Contents></ListBucketResult>",
            b"<ListBucketResult><Contents><Key>a</Key><Size>-1</Size></Contents></ListBucketResult>",
            b"\xff\xfe",
            b"<ListBucketResult><Contents><Key>a</Key>",
        ] {
            let e = parse_list(bad).unwrap_err();
            assert!(matches!(e, CosFailure::Malformed { .. }), "{bad:?}: {e:?}");
            assert!(!e.to_string().contains('\n'));
        }
    }

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("a%2Fb%20c+d").as_deref(), Some("a/b c+d"));
        assert_eq!(percent_decode("%e4%bb%bb").as_deref(), Some("任"));
        assert_eq!(percent_decode("%4"), None);
        assert_eq!(percent_decode("%ff"), None);
    }
}
