//! The fake HTTP server must itself behave: keep-alive, bodies, resets.
mod common;

use common::http::{serve, Reply, Response};

#[tokio::test]
async fn serves_bodies_over_keep_alive_and_resets_on_demand() {
    let server = serve(|req| async move {
        if req.path() == "/reset" {
            Reply::Reset
        } else {
            Reply::Send(Response::new(200, req.body).header("X-Method", req.method))
        }
    })
    .await;
    let client = reqwest::Client::new();
    for i in 0..3 {
        let resp = client
            .post(format!("{}/echo", server.url()))
            .body(format!("hello {i}"))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        assert_eq!(resp.headers()["x-method"], "POST");
        assert_eq!(resp.text().await.unwrap(), format!("hello {i}"));
    }
    let err = client.get(format!("{}/reset", server.url())).send().await;
    assert!(err.is_err(), "a reset must surface as a transport error");
}
