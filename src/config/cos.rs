//! The COS target: `COS_BUCKET` (`<name>-<appid>`), its region (`COS_REGION`, else
//! `TENCENTCLOUD_REGION`), `COS_ENDPOINT`, `COS_STORAGE_CLASS` and the role's credentials.
//! The bucket's own rules live in [`crate::cos`]; a problem here blames the variable that
//! gave the bad value.

use crate::cos::{Bucket, BucketError, Endpoint, StorageClass};
use crate::credentials::Credentials;

use super::cloud::{credentials, region};
use super::env::{err, get_set, ConfigError};

/// Where and how objects are written in COS.
#[derive(Debug, Clone)]
pub(crate) struct CosConfig {
    /// The bucket: name, region, endpoint, storage class.
    pub(crate) bucket: Bucket,
    /// Role credentials.
    pub(crate) credentials: Credentials,
}

pub(super) fn cos_config<F>(get: &F, name: &str) -> Result<CosConfig, ConfigError>
where
    F: Fn(&str) -> Option<String>,
{
    let blame = |var: &'static str| {
        move |e: BucketError| ConfigError {
            var,
            reason: e.to_string(),
        }
    };
    if let Err(e @ BucketError::Name(_)) = Bucket::new(name, "ap-guangzhou") {
        return Err(blame("COS_BUCKET")(e));
    }
    let (region_var, region) = region(get, "COS_REGION")?.ok_or_else(|| {
        err(
            "COS_REGION",
            "is required when COS is used (and TENCENTCLOUD_REGION is not set either)",
        )
    })?;
    let mut bucket = Bucket::new(name, &region).map_err(blame(region_var))?;
    if let Some(e) = get_set(get, "COS_ENDPOINT") {
        bucket = bucket.with_endpoint(Endpoint::parse(&e).map_err(blame("COS_ENDPOINT"))?);
    }
    if let Some(c) = get_set(get, "COS_STORAGE_CLASS") {
        let class = StorageClass::parse(&c).map_err(blame("COS_STORAGE_CLASS"))?;
        bucket = bucket.with_storage_class(Some(class));
    }
    let credentials = credentials(get)?
        .ok_or_else(|| err("TENCENTCLOUD_SECRETID", "is required when COS is used"))?;
    Ok(CosConfig {
        bucket,
        credentials,
    })
}

#[cfg(test)]
mod tests {
    use crate::config::test_env::{env, fails_on, ok, ID, KEY};
    use crate::config::Config;

    #[test]
    fn bucket_is_required_in_runtime_mode_and_validated() {
        let line = fails_on("COS_BUCKET", &[("COS_BUCKET", "")]);
        assert!(line.contains("required"), "{line}");
        for bad in [
            "archive",
            "Archive-1250000000",
            "archive-",
            "-1250000000",
            "archive-12a5",
            "arch_ive-1250000000",
            "archive--1250000000",
            "archive.x-1250000000",
            "a-very-long-bucket-name-that-goes-on-and-on-and-on-1250000000",
        ] {
            let line = fails_on("COS_BUCKET", &[("COS_BUCKET", bad)]);
            assert!(line.contains(bad), "a bad bucket is echoed to help: {line}");
        }
        for good in ["a-1", "my-archive-2-1250000000", "x9-1250000000"] {
            let bucket = ok(&[("COS_BUCKET", good)]).cos.bucket.name().to_string();
            assert_eq!(bucket, good);
        }
    }

    #[test]
    fn invoke_mode_without_bucket_needs_no_cos_settings() {
        let get = env(&[]);
        let c = Config::from_env(&get).expect("valid");
        assert!(c.cos.is_none());
        // With a bucket, invoke mode needs the same COS settings as runtime mode.
        let get = env(&[("COS_BUCKET", "archive-1250000000")]);
        let e = Config::from_env(&get).expect_err("region missing");
        assert_eq!(e.var, "COS_REGION");
        let get = env(&[
            ("COS_BUCKET", "archive-1250000000"),
            ("COS_REGION", "ap-shanghai"),
            ("TENCENTCLOUD_SECRETID", ID),
            ("TENCENTCLOUD_SECRETKEY", KEY),
        ]);
        let c = Config::from_env(&get).expect("valid");
        assert_eq!(
            c.cos.map(|c| c.bucket.region().to_string()).as_deref(),
            Some("ap-shanghai")
        );
    }

    #[test]
    fn region_defaults_to_tencentcloud_region_and_is_validated() {
        let c = ok(&[("COS_REGION", "na-siliconvalley")]);
        assert_eq!(c.cos.bucket.region(), "na-siliconvalley");
        let c = ok(&[
            ("COS_REGION", "ap-shanghai-fsi"),
            ("TENCENTCLOUD_REGION", ""),
        ]);
        let cos = c.cos;
        assert_eq!(cos.bucket.region(), "ap-shanghai-fsi");
        assert_eq!(
            cos.bucket.endpoint().to_string(),
            "https://archive-1250000000.cos.ap-shanghai-fsi.myqcloud.com"
        );
        fails_on("COS_REGION", &[("TENCENTCLOUD_REGION", "")]);
        for bad in [
            "guangzhou",
            "AP-guangzhou",
            "ap_guangzhou",
            "ap-",
            "-ap",
            "ap--x",
            "ap-gz/x",
            "ap guangzhou",
        ] {
            let line = fails_on("COS_REGION", &[("COS_REGION", bad)]);
            assert!(line.contains(bad), "{line}");
        }
        fails_on(
            "TENCENTCLOUD_REGION",
            &[("TENCENTCLOUD_REGION", "Guangzhou")],
        );
    }

    #[test]
    fn endpoint_is_validated_and_normalized() {
        let e = |v: &'static str| ok(&[("COS_ENDPOINT", v)]).cos.bucket.endpoint().to_string();
        assert_eq!(e("http://127.0.0.1:9000"), "http://127.0.0.1:9000");
        assert_eq!(e("http://127.0.0.1:9000/"), "http://127.0.0.1:9000");
        assert_eq!(
            e("https://archive-1250000000.cos.accelerate.myqcloud.com/"),
            "https://archive-1250000000.cos.accelerate.myqcloud.com"
        );
        assert_eq!(
            e("https://Backup.Example.com:443"),
            "https://backup.example.com"
        );
        for bad in [
            "archive.cos.ap-guangzhou.myqcloud.com",
            "ftp://example.com",
            "https://example.com/?x=1",
            "https://example.com/#frag",
            "https://example.com/sub/dir",
            "http://",
            "https://user:pw@example.com",
        ] {
            fails_on("COS_ENDPOINT", &[("COS_ENDPOINT", bad)]);
        }
        let line = fails_on(
            "COS_ENDPOINT",
            &[("COS_ENDPOINT", "https://AKID:hunter2@example.com")],
        );
        assert!(!line.contains("hunter2"), "{line}");
    }

    #[test]
    fn storage_class_is_case_insensitive_and_normalized() {
        for class in crate::cos::STORAGE_CLASSES {
            let lower: &'static str = Box::leak(class.to_ascii_lowercase().into_boxed_str());
            let got = ok(&[("COS_STORAGE_CLASS", lower)])
                .cos
                .bucket
                .storage_class()
                .map(|c| c.as_str());
            assert_eq!(got, Some(*class));
        }
        let line = fails_on("COS_STORAGE_CLASS", &[("COS_STORAGE_CLASS", "GLACIER")]);
        assert!(
            line.contains("GLACIER") && line.contains("STANDARD_IA"),
            "{line}"
        );
    }
}
