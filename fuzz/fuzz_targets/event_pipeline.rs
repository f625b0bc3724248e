//! Any bytes through parse -> record -> key: never a panic, every key obeys the key rules,
//! and with redaction on every credential-named key holds `"***"` or `null`.
#![no_main]

use chrono::{DateTime, Utc};
use libfuzzer_sys::fuzz_target;
use mps_cos_backup::digest::digest;
use mps_cos_backup::key::{check_archive_key, KeyParts, KeyTemplate, DEFAULT_TEMPLATE};
use mps_cos_backup::{event, record};

fuzz_target!(|data: &[u8]| {
    let Ok(parsed) = event::parse(data) else {
        return;
    };
    let received: DateTime<Utc> = DateTime::UNIX_EPOCH;
    let rec = record::build(&parsed, received, Some("req"), record::RecordSource::Trigger, true);
    let body = serde_json::to_vec(&rec).expect("a record always serializes");
    let back: serde_json::Value = serde_json::from_slice(&body).expect("record is JSON");
    assert_no_secret(&back["event"]);

    let tpl = KeyTemplate::parse(DEFAULT_TEMPLATE).expect("default template");
    let digest = digest(&rec.event);
    let key = tpl
        .render(&KeyParts {
            prefix: "mps-events/",
            event_type: parsed.event_type(),
            task_id: parsed.task_id(),
            status: parsed.status(),
            outcome: rec.outcome,
            time: parsed.event_time().unwrap_or(received),
            offset: chrono::FixedOffset::east_opt(8 * 3600).expect("offset"),
            digest: &digest,
        })
        .expect("every event renders a key");
    check_archive_key(&key).expect("key obeys the rules");
});

fn assert_no_secret(v: &serde_json::Value) {
    match v {
        serde_json::Value::Object(m) => {
            for (k, v) in m {
                if record::is_credential_key(k) {
                    assert!(
                        v.is_null() || v.as_str() == Some(record::REDACTED),
                        "credential left at {k}"
                    );
                } else {
                    assert_no_secret(v);
                }
            }
        }
        serde_json::Value::Array(a) => a.iter().for_each(assert_no_secret),
        _ => {}
    }
}
