//! Any bytes as a Function URL event through admission: never a panic; an admitted request is
//! a JSON object notification of at most 6 MB that the event parser takes, and a refusal is
//! one line with a status SPEC lists.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mps_cos_backup::event;
use mps_cos_backup::http::{admit, auth::CallbackAuth};

fuzz_target!(|data: &[u8]| {
    // Unsigned callbacks allowed, so that bodies get past authentication and are checked.
    let auth = CallbackAuth {
        allow_unsigned: true,
        ..CallbackAuth::default()
    };
    match admit(data, &auth, 1_764_000_000) {
        None => {}
        Some(Ok(body)) => {
            assert!(body.len() <= 6_000_000);
            event::parse(&body).expect("an admitted body is a JSON object");
        }
        Some(Err(refusal)) => {
            assert!(matches!(refusal.status, 400 | 401 | 405 | 413), "{refusal:?}");
            assert!(!refusal.reason.contains('\n'), "{refusal:?}");
        }
    }
});
