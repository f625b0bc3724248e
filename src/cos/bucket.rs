//! Where objects go: a bucket, its region, the base URL it is reached at, and the storage
//! class new objects get. Each is parsed once into a type that cannot hold a bad value, so
//! building a request later cannot fail on them.

use std::fmt;

use super::sign::encode_key_path;
use crate::transport::{host_header, Uri, UrlError, UrlShape};

/// Storage classes COS accepts in `x-cos-storage-class`.
pub(crate) const STORAGE_CLASSES: &[&str] = &[
    "STANDARD",
    "STANDARD_IA",
    "ARCHIVE",
    "DEEP_ARCHIVE",
    "INTELLIGENT_TIERING",
    "MAZ_STANDARD",
    "MAZ_STANDARD_IA",
    "MAZ_INTELLIGENT_TIERING",
];

// COS bounds the whole request domain to 60 characters; the bucket alone can never be longer.
const MAX_BUCKET_LEN: usize = 60;
const MAX_REGION_LEN: usize = 40;

/// Why a bucket, region, endpoint or storage class is unusable. The text is the reason
/// alone, so a caller can name the setting it came from.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BucketError {
    /// The bucket name is not `<name>-<appid>`.
    #[error("{0}")]
    Name(String),
    /// The region is not shaped like `ap-guangzhou`.
    #[error("{0}")]
    Region(String),
    /// The endpoint is not a plain `http(s)://host[:port]` base URL.
    #[error("{0}")]
    Endpoint(String),
    /// Not a storage class COS knows.
    #[error("{0}")]
    StorageClass(String),
}

/// The base URL of a bucket: scheme and authority, nothing else.
///
/// Object keys are signed as the path from the root, so a base URL with a path would break
/// every signature; a query or user info could carry a secret into a log line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    https: bool,
    /// `host` or `host:port` when the port is not the scheme's default: the Host header.
    authority: String,
}

impl Endpoint {
    /// Parses a base URL such as `https://b-125.cos.ap-guangzhou.myqcloud.com`.
    pub fn parse(raw: &str) -> Result<Endpoint, BucketError> {
        let bad = |why: String| {
            BucketError::Endpoint(format!(
                "{why}; expected a base URL like `https://bucket-125.cos.ap-guangzhou.myqcloud.com`"
            ))
        };
        let uri = crate::transport::parse_url(raw, UrlShape::Base).map_err(|e| match e {
            // The query could hold a token: name the problem, never the URL.
            UrlError::NotBase => bad("must not have a path or query".into()),
            other => bad(other.to_string()),
        })?;
        let https = uri.scheme_str() == Some("https");
        // `host` or `host:port`, the default port left out, exactly as the HTTP layer sends
        // Host; lowercase, as host names compare.
        let authority = match host_header(&uri) {
            Some(a) if !a.is_empty() => a.to_ascii_lowercase(),
            _ => return Err(bad(format!("{raw:?} has no host"))),
        };
        Ok(Endpoint { https, authority })
    }

    /// The endpoint COS gives every bucket: `https://<bucket>.cos.<region>.myqcloud.com`.
    fn default_for(name: &str, region: &str) -> Endpoint {
        Endpoint {
            https: true,
            authority: format!("{name}.cos.{region}.myqcloud.com"),
        }
    }

    /// `host` or `host:port`: the value sent (and signed) as `Host`.
    pub(crate) fn authority(&self) -> &str {
        &self.authority
    }

    /// `https` or `http`.
    pub(crate) fn scheme(&self) -> &'static str {
        if self.https {
            "https"
        } else {
            "http"
        }
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://{}", self.scheme(), self.authority)
    }
}

/// A storage class COS knows, uppercase.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StorageClass(&'static str);

impl StorageClass {
    /// Parses a storage class name in any case, e.g. `standard_ia`.
    pub fn parse(raw: &str) -> Result<StorageClass, BucketError> {
        let upper = raw.trim().to_ascii_uppercase();
        STORAGE_CLASSES
            .iter()
            .find(|c| **c == upper)
            .map(|c| StorageClass(c))
            .ok_or_else(|| {
                BucketError::StorageClass(format!(
                    "{raw:?} is not one of {}",
                    STORAGE_CLASSES.join(", ")
                ))
            })
    }

    /// The header value.
    pub(crate) fn as_str(&self) -> &'static str {
        self.0
    }
}

/// One bucket: `<name>-<appid>` in a region, reached at an endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bucket {
    name: String,
    region: String,
    endpoint: Endpoint,
    storage_class: Option<StorageClass>,
}

impl Bucket {
    /// A bucket at its default endpoint, with the bucket's default storage class.
    pub fn new(name: &str, region: &str) -> Result<Bucket, BucketError> {
        check_name(name)?;
        check_region(region)?;
        Ok(Bucket {
            endpoint: Endpoint::default_for(name, region),
            name: name.to_string(),
            region: region.to_string(),
            storage_class: None,
        })
    }

    /// The same bucket reached at another endpoint (accelerate, internal, custom, tests).
    pub fn with_endpoint(mut self, endpoint: Endpoint) -> Bucket {
        self.endpoint = endpoint;
        self
    }

    /// The same bucket, writing new objects with this storage class (`None`: bucket default).
    pub fn with_storage_class(mut self, class: Option<StorageClass>) -> Bucket {
        self.storage_class = class;
        self
    }

    /// `<name>-<appid>`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// e.g. `ap-guangzhou`.
    pub(crate) fn region(&self) -> &str {
        &self.region
    }

    /// Where requests go.
    pub(crate) fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// `x-cos-storage-class` of new objects, when not the bucket's default.
    pub(crate) fn storage_class(&self) -> Option<&StorageClass> {
        self.storage_class.as_ref()
    }

    /// The absolute URI of an object, its key percent-encoded per COS. None only for a key
    /// [`crate::key::check_cos_key`] refuses.
    pub(crate) fn object_uri(&self, key: &str) -> Option<Uri> {
        Uri::try_from(format!("{}/{}", self.endpoint, encode_key_path(key))).ok()
    }
}

fn check_name(bucket: &str) -> Result<(), BucketError> {
    let bad = |why: &str| {
        Err(BucketError::Name(format!(
            "{bucket:?} {why}; expected `<name>-<appid>`, e.g. `archive-1250000000`"
        )))
    };
    if bucket.len() > MAX_BUCKET_LEN {
        return bad(&format!("is longer than {MAX_BUCKET_LEN} characters"));
    }
    let Some((name, appid)) = bucket.rsplit_once('-') else {
        return bad("has no `-<appid>` suffix");
    };
    if appid.is_empty() || !appid.bytes().all(|b| b.is_ascii_digit()) {
        return bad("does not end in `-<appid>` (digits)");
    }
    if name.is_empty()
        || name.starts_with('-')
        || name.ends_with('-')
        || !name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        return bad("has a name that is not lowercase letters, digits and inner hyphens");
    }
    Ok(())
}

/// Checks a Tencent Cloud region name such as `ap-guangzhou` (COS and the Cloud API share them).
pub(crate) fn check_region(region: &str) -> Result<(), BucketError> {
    let mut parts = region.split('-');
    let first_ok = parts
        .next()
        .is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase()));
    let rest: Vec<&str> = parts.collect();
    let rest_ok = !rest.is_empty()
        && rest.iter().all(|p| {
            !p.is_empty()
                && p.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        });
    if first_ok && rest_ok && region.len() <= MAX_REGION_LEN {
        Ok(())
    } else {
        Err(BucketError::Region(format!(
            "{region:?} is not a COS region like `ap-guangzhou` or `na-siliconvalley`"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_endpoint_and_object_urls() -> Result<(), BucketError> {
        let b = Bucket::new("archive-1250000000", "ap-guangzhou")?;
        assert_eq!(
            b.endpoint().to_string(),
            "https://archive-1250000000.cos.ap-guangzhou.myqcloud.com"
        );
        let uri = |b: &Bucket, k: &str| b.object_uri(k).map(|u| u.to_string());
        assert_eq!(
            uri(&b, "视频/a b.json").as_deref(),
            Some("https://archive-1250000000.cos.ap-guangzhou.myqcloud.com/%E8%A7%86%E9%A2%91/a%20b.json")
        );
        let local = b.with_endpoint(Endpoint::parse("http://127.0.0.1:9000/")?);
        assert_eq!(uri(&local, "k").as_deref(), Some("http://127.0.0.1:9000/k"));
        assert_eq!(local.endpoint().authority(), "127.0.0.1:9000");
        Ok(())
    }

    #[test]
    fn endpoint_authority_has_a_port_only_when_not_default() -> Result<(), BucketError> {
        let a = |u: &str| Endpoint::parse(u).map(|e| e.authority().to_string());
        let shown = |u: &str| Endpoint::parse(u).map(|e| e.to_string());
        assert_eq!(shown("http://127.0.0.1:9000")?, "http://127.0.0.1:9000");
        assert_eq!(shown("http://127.0.0.1:9000/")?, "http://127.0.0.1:9000");
        assert_eq!(
            shown("https://Backup.Example.com:443")?,
            "https://backup.example.com"
        );
        assert_eq!(a("https://b.example:443")?, "b.example");
        assert_eq!(a("http://b.example:80")?, "b.example");
        assert_eq!(a("https://b.example:8443")?, "b.example:8443");
        assert_eq!(a("http://[::1]:9000")?, "[::1]:9000");
        Ok(())
    }

    #[test]
    fn endpoints_that_would_break_signing_or_leak_are_refused() {
        for raw in [
            "ftp://b.example",
            "http://",
            "archive.cos.ap-guangzhou.myqcloud.com",
            "https://user:pw@b.example",
            "https://b.example/prefix",
            "https://b.example/?token=x",
            "https://b.example/#f",
            "not a url",
            "b.example",
            "/path",
        ] {
            let e = Endpoint::parse(raw);
            assert!(matches!(e, Err(BucketError::Endpoint(_))), "{raw}: {e:?}");
        }
        for raw in [
            "https://b.example/?token=SECRET",
            "https://AKID:SECRET@b.example",
        ] {
            let shown = format!("{:?}", Endpoint::parse(raw));
            assert!(!shown.contains("SECRET"), "{shown}");
        }
    }

    #[test]
    fn bucket_names_regions_and_storage_classes() {
        assert!(Bucket::new("a-1", "ap-guangzhou").is_ok());
        assert!(Bucket::new("a-1", "ap-shanghai-fsi").is_ok());
        for name in [
            "archive",
            "Archive-125",
            "-a-125",
            "a--125x",
            "a-",
            &"a".repeat(61),
        ] {
            assert!(
                matches!(Bucket::new(name, "ap-guangzhou"), Err(BucketError::Name(_))),
                "{name}"
            );
        }
        for region in ["guangzhou", "ap-", "AP-guangzhou", "ap_guangzhou"] {
            assert!(
                matches!(Bucket::new("a-1", region), Err(BucketError::Region(_))),
                "{region}"
            );
        }
        assert_eq!(
            StorageClass::parse(" standard_ia ").map(|c| c.as_str()),
            Ok("STANDARD_IA")
        );
        assert!(matches!(
            StorageClass::parse("COLD"),
            Err(BucketError::StorageClass(_))
        ));
    }
}
