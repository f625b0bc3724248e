//! Error lines through the real binary name what they concern: the host that could not be
//! reached (a misspelled region or endpoint shows in the line), and the target.
mod common;

use std::time::Duration;

use common::binary::Binary;
use common::fake_runtime::{FakeRuntime, HeaderStyle, Kind};
use common::fixtures;
use common::scf_platform::{set_env, SECRET_ID, SECRET_KEY, TOKEN};

const WAIT: Duration = Duration::from_secs(15);

/// A loopback port nobody listens on (bound, then released).
fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_hosts_are_named_in_the_error_post() {
    let rt = FakeRuntime::start().await;
    let (cos_port, scf_port, hook_port) = (closed_port(), closed_port(), closed_port());
    let mut env = vec![
        ("COS_BUCKET".to_string(), "archive-1250000000".to_string()),
        ("COS_REGION".into(), "ap-guangzhou".into()),
        (
            "COS_ENDPOINT".into(),
            format!("http://127.0.0.1:{cos_port}"),
        ),
        ("TENCENTCLOUD_SECRETID".into(), SECRET_ID.into()),
        ("TENCENTCLOUD_SECRETKEY".into(), SECRET_KEY.into()),
        ("TENCENTCLOUD_SESSIONTOKEN".into(), TOKEN.into()),
        ("SCF_RUNTIME_API".into(), rt.host()),
        ("SCF_RUNTIME_API_PORT".into(), rt.port().to_string()),
    ];
    set_env(
        &mut env,
        "ARCHIVE_FORWARD",
        &format!("scf:biz-handler,http://127.0.0.1:{hook_port}/hook"),
    );
    set_env(
        &mut env,
        "FORWARD_SCF_ENDPOINT",
        &format!("http://127.0.0.1:{scf_port}"),
    );
    set_env(&mut env, "FORWARD_SCF_REGION", "ap-guangzhou");
    let mut bin = Binary::start(&[], &env);
    let event = serde_json::to_vec(&fixtures::json("minimal.json")).expect("json");
    rt.push_event_with(event, Some(2000), HeaderStyle::Lower);
    let outs = rt.wait_results(1, WAIT).await;
    assert_eq!(outs[0].kind, Kind::Error, "{}", outs[0].text());
    let t = outs[0].text();
    for port in [cos_port, scf_port, hook_port] {
        assert!(
            t.contains(&format!("could not connect to 127.0.0.1:{port}: ")),
            "names 127.0.0.1:{port}: {t}"
        );
    }
    assert!(
        t.contains("forward to scf:default/biz-handler:$LATEST"),
        "{t}"
    );
    assert!(
        t.contains(&format!("forward to http://127.0.0.1:{hook_port}/hook")),
        "{t}"
    );
    bin.stop(Duration::from_secs(3)).await;
    rt.assert_clean();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invoke_names_the_cos_host_it_could_not_reach() {
    let port = closed_port();
    let dir = std::env::temp_dir().join(format!("mcb-error-lines-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("event.json");
    std::fs::write(
        &file,
        serde_json::to_vec(&fixtures::json("minimal.json")).expect("json"),
    )
    .expect("write");
    let env = [
        ("COS_BUCKET", "archive-1250000000".to_string()),
        ("COS_REGION", "ap-guangzhou".to_string()),
        ("COS_ENDPOINT", format!("http://127.0.0.1:{port}")),
        ("TENCENTCLOUD_SECRETID", SECRET_ID.to_string()),
        ("TENCENTCLOUD_SECRETKEY", SECRET_KEY.to_string()),
        ("TENCENTCLOUD_SESSIONTOKEN", TOKEN.to_string()),
    ];
    let bin = Binary::start(&["invoke", file.to_str().expect("utf-8")], &env);
    let out = bin.into_output(WAIT);
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(&format!("could not connect to 127.0.0.1:{port}: ")),
        "{stdout}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
