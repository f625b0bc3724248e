//! Arbitrary methods, paths, query parameters and headers through the signer: never a
//! panic, deterministic, and the Authorization value stays a single header-safe line.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mps_cos_backup::cos::sign::{sign, KeyTime, SignRequest};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut parts = text.split('\u{0}');
    let method = parts.next().unwrap_or("PUT");
    let path = parts.next().unwrap_or("/");
    let rest: Vec<&str> = parts.collect();
    let pairs: Vec<(&str, &str)> = rest
        .chunks(2)
        .map(|c| (c[0], c.get(1).copied().unwrap_or("")))
        .collect();
    let (query, headers) = pairs.split_at(pairs.len() / 2);
    let req = SignRequest {
        method,
        path,
        query,
        headers,
    };
    let kt = KeyTime {
        start: 1_557_989_151,
        end: 1_557_996_351,
    };
    // Control characters in the key cannot survive percent-encoding, so finding it means a leak.
    let secret = "\u{1}sk\u{2}";
    let a = sign(&req, "AKIDexample", secret, kt);
    let b = sign(&req, "AKIDexample", secret, kt);
    assert_eq!(a, b, "signing is deterministic");
    assert_eq!(a.signature.len(), 40);
    assert!(
        a.authorization.bytes().all(|c| (0x20..0x7f).contains(&c)),
        "header-safe"
    );
    assert!(
        !a.authorization.contains(secret),
        "secret key never in the header"
    );
});
