//! Pure TC3-HMAC-SHA256 signer for Tencent Cloud API 3.0: no I/O, the time is passed in.
//!
//! Every intermediate value of the algorithm is returned so tests can pin each step against
//! the reference vectors (`shared/reference/cloud-api-tc3.md`).

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use crate::credentials::Credentials;
use crate::text::hex;

type HmacSha256 = Hmac<Sha256>;

/// The algorithm name, first word of the `Authorization` value and of the string to sign.
pub(crate) const ALGORITHM: &str = "TC3-HMAC-SHA256";

/// What is signed. Cloud API 3.0 POST requests sign path `/` and an empty query.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SignInput<'a> {
    /// HTTP method, sent uppercase (`POST`).
    pub(crate) method: &'a str,
    /// Canonical URI, `/` for every Cloud API call.
    pub(crate) path: &'a str,
    /// Canonical query string, empty for POST.
    pub(crate) query: &'a str,
    /// Headers to sign (name any case, value as sent). Must include `content-type` and `host`.
    pub(crate) headers: &'a [(&'a str, &'a str)],
    /// The body bytes exactly as sent.
    pub(crate) payload: &'a [u8],
    /// Service name of the credential scope (`scf`).
    pub(crate) service: &'a str,
    /// `X-TC-Timestamp`, UNIX seconds; also gives the scope's UTC date.
    pub(crate) timestamp: u64,
}

/// Every intermediate value of one signature. Holds no secret: the derived keys stay inside
/// [`sign`], so `Debug` may show everything.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Tc3Signed {
    /// Lowercase hex SHA-256 of the payload.
    pub(crate) hashed_payload: String,
    /// `name:value\n` of each signed header, names and values lowercased and trimmed, sorted.
    pub(crate) canonical_headers: String,
    /// The signed header names joined with `;`.
    pub(crate) signed_headers: String,
    /// The canonical request.
    pub(crate) canonical_request: String,
    /// Lowercase hex SHA-256 of the canonical request.
    pub(crate) hashed_canonical_request: String,
    /// UTC date of the timestamp, `YYYY-MM-DD`.
    pub(crate) date: String,
    /// `date/service/tc3_request`.
    pub(crate) credential_scope: String,
    /// The string to sign.
    pub(crate) string_to_sign: String,
    /// Lowercase hex signature.
    pub(crate) signature: String,
    /// The whole `Authorization` header value.
    pub authorization: String,
}

/// Why a signature cannot be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignError {
    /// The timestamp is outside the calendar chrono can represent.
    #[error("timestamp {0} has no calendar date")]
    BadTimestamp(u64),
}

fn hmac_sha256(key: &[u8], msg: &[u8]) -> [u8; 32] {
    let mut mac = match HmacSha256::new_from_slice(key) {
        Ok(m) => m,
        Err(_) => unreachable!("HMAC-SHA256 takes keys of any length"),
    };
    mac.update(msg);
    mac.finalize().into_bytes().into()
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// UTC calendar date of a UNIX timestamp, `YYYY-MM-DD`.
pub(crate) fn utc_date(timestamp: u64) -> Result<String, SignError> {
    let secs = i64::try_from(timestamp).map_err(|_| SignError::BadTimestamp(timestamp))?;
    chrono::DateTime::from_timestamp(secs, 0)
        .map(|t| t.format("%Y-%m-%d").to_string())
        .ok_or(SignError::BadTimestamp(timestamp))
}

/// `(canonical headers, signed headers)`: names and values lowercased and trimmed, sorted by
/// name. The reference lowercases values too (the official SDKs do), so `X-TC-Action: Invoke`
/// is signed as `x-tc-action:invoke`.
fn canonical_headers(headers: &[(&str, &str)]) -> (String, String) {
    let mut pairs: Vec<(String, String)> = headers
        .iter()
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_ascii_lowercase()))
        .collect();
    pairs.sort();
    let mut canonical = String::new();
    let mut signed = String::new();
    for (i, (k, v)) in pairs.iter().enumerate() {
        canonical.push_str(k);
        canonical.push(':');
        canonical.push_str(v);
        canonical.push('\n');
        if i > 0 {
            signed.push(';');
        }
        signed.push_str(k);
    }
    (canonical, signed)
}

/// Signs `input` with `credentials` (the session token, when any, is sent as `X-TC-Token`
/// by the caller and is not part of the signature).
pub(crate) fn sign(
    input: &SignInput<'_>,
    credentials: &Credentials,
) -> Result<Tc3Signed, SignError> {
    let date = utc_date(input.timestamp)?;
    let hashed_payload = sha256_hex(input.payload);
    let (canonical_headers, signed_headers) = canonical_headers(input.headers);
    let canonical_request = format!(
        "{}\n{}\n{}\n{}\n{}\n{}",
        input.method, input.path, input.query, canonical_headers, signed_headers, hashed_payload
    );
    let hashed_canonical_request = sha256_hex(canonical_request.as_bytes());
    let credential_scope = format!("{date}/{}/tc3_request", input.service);
    let string_to_sign = format!(
        "{ALGORITHM}\n{}\n{credential_scope}\n{hashed_canonical_request}",
        input.timestamp
    );
    let secret_date = hmac_sha256(
        format!("TC3{}", credentials.secret_key()).as_bytes(),
        date.as_bytes(),
    );
    let secret_service = hmac_sha256(&secret_date, input.service.as_bytes());
    let secret_signing = hmac_sha256(&secret_service, b"tc3_request");
    let signature = hex(&hmac_sha256(&secret_signing, string_to_sign.as_bytes()));
    let authorization = format!(
        "{ALGORITHM} Credential={}/{credential_scope}, SignedHeaders={signed_headers}, Signature={signature}",
        credentials.secret_id()
    );
    Ok(Tc3Signed {
        hashed_payload,
        canonical_headers,
        signed_headers,
        canonical_request,
        hashed_canonical_request,
        date,
        credential_scope,
        string_to_sign,
        signature,
        authorization,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE";
    const KEY: &str = "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE";
    const HOST: &str = "scf.tencentcloudapi.com";
    const CT: &str = "application/json; charset=utf-8";
    const PAYLOAD: &str = r#"{"FunctionName":"biz-handler","InvocationType":"Event","Namespace":"default","Qualifier":"$LATEST","ClientContext":"{\"EventType\":\"WorkflowTask\",\"WorkflowTaskEvent\":{\"TaskId\":\"t1\",\"Status\":\"FINISH\"}}"}"#;
    const HASHED_PAYLOAD: &str = "d0a4bdfbcc4348766ef7a3e75e212745ab5e702aa6b95876762d98e4d3a7cca8";

    fn input<'a>(headers: &'a [(&'a str, &'a str)]) -> SignInput<'a> {
        SignInput {
            method: "POST",
            path: "/",
            query: "",
            headers,
            payload: PAYLOAD.as_bytes(),
            service: "scf",
            timestamp: 1764000000,
        }
    }

    #[test]
    fn vector_1_content_type_and_host() {
        let creds = Credentials::new(ID, KEY, None);
        let s = sign(&input(&[("Content-Type", CT), ("Host", HOST)]), &creds).unwrap();
        assert_eq!(s.hashed_payload, HASHED_PAYLOAD);
        assert_eq!(
            s.canonical_headers,
            "content-type:application/json; charset=utf-8\nhost:scf.tencentcloudapi.com\n"
        );
        assert_eq!(s.signed_headers, "content-type;host");
        assert_eq!(
            s.canonical_request,
            format!(
                "POST\n/\n\ncontent-type:application/json; charset=utf-8\nhost:scf.tencentcloudapi.com\n\ncontent-type;host\n{HASHED_PAYLOAD}"
            )
        );
        assert_eq!(
            s.hashed_canonical_request,
            "6fe70ab9fb50aa23f489cd1faf3b0d22dc4b073d53c7c41687b9e6dc3cd6480b"
        );
        assert_eq!(s.date, "2025-11-24");
        assert_eq!(s.credential_scope, "2025-11-24/scf/tc3_request");
        assert_eq!(
            s.string_to_sign,
            "TC3-HMAC-SHA256\n1764000000\n2025-11-24/scf/tc3_request\n\
             6fe70ab9fb50aa23f489cd1faf3b0d22dc4b073d53c7c41687b9e6dc3cd6480b"
        );
        assert_eq!(
            s.signature,
            "4c1e395560c3796eeebe83cdc30056d504f35bc1d9d40ee873c292c6d1e9d960"
        );
        assert_eq!(
            s.authorization,
            "TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE/2025-11-24/scf/tc3_request, \
             SignedHeaders=content-type;host, \
             Signature=4c1e395560c3796eeebe83cdc30056d504f35bc1d9d40ee873c292c6d1e9d960"
        );
    }

    #[test]
    fn vector_2_with_x_tc_action_lowercased() {
        let creds = Credentials::new(ID, KEY, Some("any-token".into()));
        // Order and case of the input do not matter: names are sorted and lowercased.
        let headers = [
            ("X-TC-Action", "Invoke"),
            ("Host", HOST),
            ("Content-Type", CT),
        ];
        let s = sign(&input(&headers), &creds).unwrap();
        assert_eq!(s.hashed_payload, HASHED_PAYLOAD);
        assert_eq!(
            s.canonical_headers,
            "content-type:application/json; charset=utf-8\nhost:scf.tencentcloudapi.com\nx-tc-action:invoke\n"
        );
        assert_eq!(s.signed_headers, "content-type;host;x-tc-action");
        assert_eq!(
            s.canonical_request,
            format!(
                "POST\n/\n\ncontent-type:application/json; charset=utf-8\nhost:scf.tencentcloudapi.com\nx-tc-action:invoke\n\ncontent-type;host;x-tc-action\n{HASHED_PAYLOAD}"
            )
        );
        assert_eq!(
            s.hashed_canonical_request,
            "d5f97897514b596da55aecaf4b7007dae94a1a60a167cf7ea916f216d99ebfb2"
        );
        assert_eq!(s.credential_scope, "2025-11-24/scf/tc3_request");
        assert_eq!(
            s.string_to_sign,
            "TC3-HMAC-SHA256\n1764000000\n2025-11-24/scf/tc3_request\n\
             d5f97897514b596da55aecaf4b7007dae94a1a60a167cf7ea916f216d99ebfb2"
        );
        assert_eq!(
            s.signature,
            "3261c3dbfa565d433b89d1dfd58e28030147762429640269a1a1a74bfb8f2541"
        );
        assert_eq!(
            s.authorization,
            "TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE/2025-11-24/scf/tc3_request, \
             SignedHeaders=content-type;host;x-tc-action, \
             Signature=3261c3dbfa565d433b89d1dfd58e28030147762429640269a1a1a74bfb8f2541"
        );
        // The token is not signed, and no secret appears in any intermediate value.
        let shown = format!("{s:?}");
        assert!(!shown.contains(KEY) && !shown.contains("any-token"));
    }

    #[test]
    fn scope_date_is_the_utc_date_and_changes_at_midnight() {
        assert_eq!(utc_date(0).unwrap(), "1970-01-01");
        assert_eq!(utc_date(1764028799).unwrap(), "2025-11-24");
        assert_eq!(utc_date(1764028800).unwrap(), "2025-11-25");
        assert_eq!(utc_date(u64::MAX), Err(SignError::BadTimestamp(u64::MAX)));
    }

    #[test]
    fn key_body_and_time_each_change_the_signature() {
        let headers = [("Content-Type", CT), ("Host", HOST)];
        let base = sign(&input(&headers), &Credentials::new(ID, KEY, None)).unwrap();
        let other_key = sign(&input(&headers), &Credentials::new(ID, "k2", None)).unwrap();
        assert_ne!(base.signature, other_key.signature);
        let mut later = input(&headers);
        later.timestamp += 1;
        assert_ne!(
            base.signature,
            sign(&later, &Credentials::new(ID, KEY, None))
                .unwrap()
                .signature
        );
        let mut body = input(&headers);
        body.payload = b"{}";
        assert_ne!(
            base.signature,
            sign(&body, &Credentials::new(ID, KEY, None))
                .unwrap()
                .signature
        );
    }
}
