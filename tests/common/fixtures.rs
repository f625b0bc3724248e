//! The sample MPS callbacks in `fixtures/` (README "Set up"), read the same way by every suite.
#![allow(dead_code)]

use std::path::PathBuf;

use serde_json::Value;

/// The fixture folder.
pub fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

/// Every `*.json` fixture's path, sorted; panics when the set is not there (at least 12).
pub fn paths() -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir())
        .expect("fixtures dir")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    out.sort();
    assert!(out.len() >= 12, "fixtures present: {out:?}");
    out
}

/// Every fixture as (file name, parsed JSON), sorted by name.
pub fn all() -> Vec<(String, Value)> {
    paths()
        .into_iter()
        .map(|p| {
            let name = p
                .file_name()
                .expect("file name")
                .to_string_lossy()
                .into_owned();
            let v = serde_json::from_slice(&std::fs::read(&p).expect("read fixture"))
                .unwrap_or_else(|e| panic!("fixture {name} is not JSON: {e}"));
            (name, v)
        })
        .collect()
}

/// The bytes of fixture `name` (a file name in the folder).
pub fn bytes(name: &str) -> Vec<u8> {
    std::fs::read(dir().join(name)).unwrap_or_else(|e| panic!("fixture {name}: {e}"))
}

/// Fixture `name`, parsed.
pub fn json(name: &str) -> Value {
    serde_json::from_slice(&bytes(name)).unwrap_or_else(|e| panic!("fixture {name}: {e}"))
}
