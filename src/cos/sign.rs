//! Pure COS request signer (q-sign-algorithm=sha1): no I/O, time passed in.

use std::fmt::Write as _;

use hmac::{Hmac, Mac};
use sha1::{Digest, Sha1};

use crate::text::hex;

type HmacSha1 = Hmac<Sha1>;

/// Signature validity window, Unix seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyTime {
    /// Start, Unix seconds.
    pub start: u64,
    /// End, Unix seconds.
    pub end: u64,
}

impl std::fmt::Display for KeyTime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{};{}", self.start, self.end)
    }
}

/// What is signed.
#[derive(Debug, Clone)]
pub struct SignRequest<'a> {
    /// HTTP method, any case.
    pub method: &'a str,
    /// Decoded object path with its leading `/`.
    pub path: &'a str,
    /// Query parameters (decoded name, decoded value).
    pub query: &'a [(&'a str, &'a str)],
    /// Headers to sign (name any case, value as sent).
    pub headers: &'a [(&'a str, &'a str)],
}

/// Every intermediate value, so test vectors can pin each step.
#[derive(Clone, PartialEq, Eq)]
pub struct Signed {
    /// hex(HMAC-SHA1(SecretKey, KeyTime)).
    pub(crate) sign_key: String,
    /// `k1=v1&...` of the query.
    pub(crate) http_parameters: String,
    /// `k1;k2` of the query.
    pub(crate) url_param_list: String,
    /// `k1=v1&...` of the headers.
    pub(crate) http_headers: String,
    /// `k1;k2` of the headers.
    pub(crate) header_list: String,
    /// The HttpString.
    pub(crate) http_string: String,
    /// hex(SHA1(HttpString)).
    pub(crate) http_string_sha1: String,
    /// The final signature.
    pub signature: String,
    /// The full `Authorization` header value.
    pub authorization: String,
}

impl std::fmt::Debug for Signed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The SignKey signs any request until the key time ends: never print it.
        f.debug_struct("Signed")
            .field("sign_key", &"***")
            .field("header_list", &self.header_list)
            .field("url_param_list", &self.url_param_list)
            .field("http_string_sha1", &self.http_string_sha1)
            .field("signature", &self.signature)
            .finish_non_exhaustive()
    }
}

const HEX_UPPER: &[u8; 16] = b"0123456789ABCDEF";

fn unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~')
}

fn encode_into(out: &mut String, s: &str, keep_slash: bool) {
    for &b in s.as_bytes() {
        if unreserved(b) || (keep_slash && b == b'/') {
            out.push(b as char);
        } else {
            out.push('%');
            out.push(HEX_UPPER[usize::from(b >> 4)] as char);
            out.push(HEX_UPPER[usize::from(b & 0x0f)] as char);
        }
    }
}

/// COS `enc()`: UTF-8 bytes outside `A-Z a-z 0-9 - _ . ~` become uppercase `%XX` (space is `%20`).
pub(crate) fn enc(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    encode_into(&mut out, s, false);
    out
}

/// Request-path form of an object key: like [`enc`] but `/` is kept (no leading `/` added).
pub(crate) fn encode_key_path(key: &str) -> String {
    let mut out = String::with_capacity(key.len() + 8);
    encode_into(&mut out, key, true);
    out
}

fn hmac_sha1_hex(key: &[u8], msg: &[u8]) -> String {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = match HmacSha1::new_from_slice(key) {
        Ok(m) => m,
        Err(_) => unreachable!("HMAC-SHA1 takes keys of any length"),
    };
    mac.update(msg);
    hex(&mac.finalize().into_bytes())
}

/// `(k1=v1&k2=v2, k1;k2)` over `enc(name).lower()` / `enc(value)`, sorted by encoded name.
fn canonical(pairs: &[(&str, &str)]) -> (String, String) {
    let mut encoded: Vec<(String, String)> = pairs
        .iter()
        .map(|(k, v)| (enc(k).to_ascii_lowercase(), enc(v)))
        .collect();
    encoded.sort();
    let mut joined = String::new();
    let mut list = String::new();
    for (i, (k, v)) in encoded.iter().enumerate() {
        if i > 0 {
            joined.push('&');
            list.push(';');
        }
        joined.push_str(k);
        joined.push('=');
        joined.push_str(v);
        list.push_str(k);
    }
    (joined, list)
}

/// Signs `req` with the given key pair and key time.
pub fn sign(req: &SignRequest<'_>, secret_id: &str, secret_key: &str, key_time: KeyTime) -> Signed {
    let key_time_s = key_time.to_string();
    let sign_key = hmac_sha1_hex(secret_key.as_bytes(), key_time_s.as_bytes());
    let (http_parameters, url_param_list) = canonical(req.query);
    let (http_headers, header_list) = canonical(req.headers);
    let http_string = format!(
        "{}\n{}\n{}\n{}\n",
        req.method.to_ascii_lowercase(),
        req.path,
        http_parameters,
        http_headers
    );
    let http_string_sha1 = hex(&Sha1::digest(http_string.as_bytes()));
    let string_to_sign = format!("sha1\n{key_time_s}\n{http_string_sha1}\n");
    let signature = hmac_sha1_hex(sign_key.as_bytes(), string_to_sign.as_bytes());
    let mut authorization = String::with_capacity(256);
    // Writing into a String cannot fail.
    let _ = write!(
        authorization,
        "q-sign-algorithm=sha1&q-ak={secret_id}&q-sign-time={key_time_s}&q-key-time={key_time_s}\
         &q-header-list={header_list}&q-url-param-list={url_param_list}&q-signature={signature}"
    );
    Signed {
        sign_key,
        http_parameters,
        url_param_list,
        http_headers,
        header_list,
        http_string,
        http_string_sha1,
        signature,
        authorization,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A_ID: &str = "AKIDQjz3ltompVjBni5LitkWHFlFpwkn9U5q";
    const A_KEY: &str = "BQYIM75p8x0iWVFSIgqEKwFprpRSVHlz";
    const HOST_A: &str = "examplebucket-1250000000.cos.ap-beijing.myqcloud.com";

    #[test]
    fn vector_a_official_put() {
        let headers = [
            ("Date", "Thu, 16 May 2019 06:45:51 GMT"),
            ("Host", HOST_A),
            ("Content-Type", "text/plain"),
            ("Content-Length", "13"),
            ("Content-MD5", "mQ/fVh815F3k6TAUm8m0eg=="),
            ("x-cos-acl", "private"),
            ("x-cos-grant-read", "uin=\"100000000011\""),
        ];
        let req = SignRequest {
            method: "PUT",
            path: "/exampleobject(腾讯云)",
            query: &[],
            headers: &headers,
        };
        let kt = KeyTime {
            start: 1557989151,
            end: 1557996351,
        };
        let s = sign(&req, A_ID, A_KEY, kt);
        assert_eq!(s.sign_key, "eb2519b498b02ac213cb1f3d1a3d27a3b3c9bc5f");
        assert_eq!(
            s.header_list,
            "content-length;content-md5;content-type;date;host;x-cos-acl;x-cos-grant-read"
        );
        assert_eq!(
            s.http_headers,
            "content-length=13&content-md5=mQ%2FfVh815F3k6TAUm8m0eg%3D%3D&content-type=text%2Fplain\
             &date=Thu%2C%2016%20May%202019%2006%3A45%3A51%20GMT\
             &host=examplebucket-1250000000.cos.ap-beijing.myqcloud.com&x-cos-acl=private\
             &x-cos-grant-read=uin%3D%22100000000011%22"
        );
        assert_eq!(s.http_parameters, "");
        assert_eq!(s.url_param_list, "");
        assert_eq!(
            s.http_string,
            format!("put\n/exampleobject(腾讯云)\n\n{}\n", s.http_headers)
        );
        assert_eq!(
            s.http_string_sha1,
            "8b2751e77f43a0995d6e9eb9477f4b685cca4172"
        );
        assert_eq!(s.signature, "3b8851a11a569213c17ba8fa7dcf2abec6935172");
        assert_eq!(
            s.authorization,
            format!(
                "q-sign-algorithm=sha1&q-ak={A_ID}&q-sign-time=1557989151;1557996351\
                 &q-key-time=1557989151;1557996351&q-header-list={}&q-url-param-list=\
                 &q-signature=3b8851a11a569213c17ba8fa7dcf2abec6935172",
                s.header_list
            )
        );
        // The request line form of the same key.
        assert_eq!(
            encode_key_path("exampleobject(腾讯云)"),
            "exampleobject%28%E8%85%BE%E8%AE%AF%E4%BA%91%29"
        );
    }

    #[test]
    fn vector_b_official_get_with_query() {
        let headers = [("Date", "Thu, 16 May 2019 06:55:53 GMT"), ("Host", HOST_A)];
        let query = [
            ("response-content-type", "application/octet-stream"),
            ("response-cache-control", "max-age=600"),
        ];
        let req = SignRequest {
            method: "GET",
            path: "/exampleobject(腾讯云)",
            query: &query,
            headers: &headers,
        };
        let kt = KeyTime {
            start: 1557989753,
            end: 1557996953,
        };
        let s = sign(&req, A_ID, A_KEY, kt);
        assert_eq!(s.sign_key, "937914bf490e9e8c189836aad2052e4feeb35eaf");
        assert_eq!(
            s.url_param_list,
            "response-cache-control;response-content-type"
        );
        assert_eq!(
            s.http_parameters,
            "response-cache-control=max-age%3D600&response-content-type=application%2Foctet-stream"
        );
        assert_eq!(s.header_list, "date;host");
        assert_eq!(
            s.http_headers,
            format!("date=Thu%2C%2016%20May%202019%2006%3A55%3A53%20GMT&host={HOST_A}")
        );
        assert_eq!(
            s.http_string_sha1,
            "54ecfe22f59d3514fdc764b87a32d8133ea611e6"
        );
        assert_eq!(s.signature, "01681b8c9d798a678e43b685a9f1bba0f6c0e012");
        assert!(s
            .authorization
            .contains("&q-url-param-list=response-cache-control;response-content-type&"));
    }

    #[test]
    fn vector_c_go_sdk() {
        let headers = [
            ("Host", "testbucket-125000000.cos.ap-guangzhou.myqcloud.com"),
            (
                "x-cos-content-sha1",
                "db8ac1c259eb89d4a131b253bacfca5f319d54f2",
            ),
            ("x-cos-stroage-class", "nearline"),
        ];
        let req = SignRequest {
            method: "PUT",
            path: "/testfile2",
            query: &[],
            headers: &headers,
        };
        let kt = KeyTime {
            start: 1480932292,
            end: 1481012292,
        };
        let s = sign(
            &req,
            "QmFzZTY0IGlzIGEgZ2VuZXJp",
            "AKIDZfbOA78asKUYBcXFrJD0a1ICvR98JM",
            kt,
        );
        assert_eq!(s.sign_key, "95d110a8ead64cac52083100db75b7e3f369e72f");
        assert_eq!(s.header_list, "host;x-cos-content-sha1;x-cos-stroage-class");
        assert_eq!(
            s.http_headers,
            "host=testbucket-125000000.cos.ap-guangzhou.myqcloud.com\
             &x-cos-content-sha1=db8ac1c259eb89d4a131b253bacfca5f319d54f2\
             &x-cos-stroage-class=nearline"
        );
        assert_eq!(
            s.http_string_sha1,
            "113b22e92b74237531fafbfc8bb9e67be55645c7"
        );
        assert_eq!(s.signature, "ce4ac0ecbcdb30538b3fee0a97cc6389694ce53a");
        assert_eq!(
            s.authorization,
            "q-sign-algorithm=sha1&q-ak=QmFzZTY0IGlzIGEgZ2VuZXJp&q-sign-time=1480932292;1481012292\
             &q-key-time=1480932292;1481012292&q-header-list=host;x-cos-content-sha1;x-cos-stroage-class\
             &q-url-param-list=&q-signature=ce4ac0ecbcdb30538b3fee0a97cc6389694ce53a"
        );
    }

    #[test]
    fn vector_d_odd_key_and_session_token() {
        let key = "dir/a b+c~(1)*.txt";
        assert_eq!(encode_key_path(key), "dir/a%20b%2Bc~%281%29%2A.txt");
        let path = format!("/{key}");
        let headers = [
            ("Content-Type", "text/plain"),
            ("Content-MD5", "mQ/fVh815F3k6TAUm8m0eg=="),
            ("Content-Length", "13"),
            ("x-cos-meta-note", "hello world"),
            ("x-cos-security-token", "TOKEN123"),
            ("Host", HOST_A),
        ];
        let req = SignRequest {
            method: "put",
            path: &path,
            query: &[],
            headers: &headers,
        };
        let kt = KeyTime {
            start: 1557989151,
            end: 1557996411,
        };
        let s = sign(&req, A_ID, A_KEY, kt);
        assert_eq!(
            s.http_string,
            "put\n/dir/a b+c~(1)*.txt\n\ncontent-length=13&content-md5=mQ%2FfVh815F3k6TAUm8m0eg%3D%3D\
             &content-type=text%2Fplain&host=examplebucket-1250000000.cos.ap-beijing.myqcloud.com\
             &x-cos-meta-note=hello%20world&x-cos-security-token=TOKEN123\n"
        );
        assert_eq!(
            s.http_string_sha1,
            "ef7eaef6c39bf6cb44c74a142cb1427f140b07c4"
        );
        assert_eq!(s.sign_key, "847fdbea9b0ad4186531512d39e6995388eeead7");
        assert_eq!(
            s.header_list,
            "content-length;content-md5;content-type;host;x-cos-meta-note;x-cos-security-token"
        );
        assert_eq!(s.signature, "eedf0253289338c08f3d6bf293d8fae745247f03");
    }

    #[test]
    fn enc_encodes_every_reserved_byte_in_uppercase_hex() {
        assert_eq!(enc("a b"), "a%20b");
        assert_eq!(enc("+"), "%2B");
        assert_eq!(enc("~-_."), "~-_.");
        assert_eq!(enc("(*)"), "%28%2A%29");
        assert_eq!(enc("%"), "%25");
        assert_eq!(enc("?#&="), "%3F%23%26%3D");
        assert_eq!(enc("/"), "%2F");
        assert_eq!(enc("é"), "%C3%A9");
        assert_eq!(enc("腾讯"), "%E8%85%BE%E8%AE%AF");
        assert_eq!(enc(""), "");
        assert_eq!(enc("AZaz09"), "AZaz09");
    }

    #[test]
    fn key_path_keeps_slashes_and_encodes_awkward_characters() {
        assert_eq!(encode_key_path("a/b c/d"), "a/b%20c/d");
        assert_eq!(encode_key_path("x+y~z"), "x%2By~z");
        assert_eq!(encode_key_path("p(1)*q"), "p%281%29%2Aq");
        assert_eq!(encode_key_path("100%"), "100%25");
        assert_eq!(encode_key_path("q?a=1&b#c"), "q%3Fa%3D1%26b%23c");
        assert_eq!(
            encode_key_path("视频/任务.json"),
            "%E8%A7%86%E9%A2%91/%E4%BB%BB%E5%8A%A1.json"
        );
    }

    #[test]
    fn signed_path_is_decoded_and_header_names_are_lowercased_and_sorted() {
        let headers = [
            ("X-Cos-Meta-B", "2"),
            ("HOST", "h"),
            ("x-cos-meta-a", "1 +"),
        ];
        let req = SignRequest {
            method: "Put",
            path: "/a b+(c)",
            query: &[("Z", ""), ("a", "x y")],
            headers: &headers,
        };
        let kt = KeyTime { start: 1, end: 2 };
        let s = sign(&req, "id", "key", kt);
        assert_eq!(s.header_list, "host;x-cos-meta-a;x-cos-meta-b");
        assert_eq!(s.http_headers, "host=h&x-cos-meta-a=1%20%2B&x-cos-meta-b=2");
        assert_eq!(s.url_param_list, "a;z");
        assert_eq!(s.http_parameters, "a=x%20y&z=");
        assert!(s.http_string.starts_with("put\n/a b+(c)\na=x%20y&z=\n"));
        // A different key or window gives a different signature.
        let other = sign(&req, "id", "key2", kt);
        assert_ne!(other.signature, s.signature);
        let later = sign(&req, "id", "key", KeyTime { start: 1, end: 3 });
        assert_ne!(later.signature, s.signature);
    }
}
