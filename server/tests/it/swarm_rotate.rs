//! `POST /api/swarm/rotate` on the real cluster of `cargo xtask swarm` (`BERTH_TEST_SWARM`):
//! an admin gets new join tokens for the role asked for (the manager's daemon agrees), the
//! other role's token stays; nobody else may, and a body asking for nothing says what to ask.

use std::process::Command;

use reqwest::Method;
use serde_json::{json, Value};

use crate::support::*;

fn manager() -> String {
    let path = std::env::var("BERTH_TEST_SWARM").expect(
        "BERTH_TEST_SWARM is not set: run the tests with `cargo xtask test`, or start a \
         cluster with `cargo xtask swarm --index 2` and set BERTH_TEST_SWARM=/tmp/bs2/swarm.json",
    );
    let doc: Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("swarm.json")).expect("json");
    doc["manager"].as_str().expect("manager").to_owned()
}

/// `docker swarm join-token -q ROLE` on the manager itself.
fn daemon_token(manager: &str, role: &str) -> String {
    let out = Command::new("docker")
        .args(["-H", manager, "swarm", "join-token", "-q", role])
        .output()
        .expect("run docker");
    assert!(out.status.success(), "{out:?}");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

fn tokens(cluster: &Value) -> (String, String) {
    let t = &cluster["join_tokens"];
    (
        t["worker"].as_str().expect("a worker token").to_owned(),
        t["manager"].as_str().expect("a manager token").to_owned(),
    )
}

#[tokio::test]
async fn swarm_api_rotate_join_tokens_as_admin_only() {
    let _shared = SWARM.read().await;
    let manager = manager();
    let app = TestApp::spawn(&manager).await;
    app.login("admin", ADMIN_PASSWORD).await;
    let t = app.two_teams().await;

    let (status, cluster) = app.get("/api/swarm").await;
    assert_eq!(status, 200, "{cluster}");
    let (worker, manager_token) = tokens(&cluster);
    assert_eq!(worker, daemon_token(&manager, "worker"));

    // The worker's token only.
    let (status, rotated) = app
        .call(
            Method::POST,
            "/api/swarm/rotate",
            Some(json!({"worker": true})),
        )
        .await;
    assert_eq!(status, 200, "{rotated}");
    let new_worker = rotated["worker"].as_str().expect("worker").to_owned();
    assert!(new_worker.starts_with("SWMTKN-"), "{rotated}");
    assert_ne!(new_worker, worker, "a new worker token");
    assert_eq!(
        rotated["manager"],
        manager_token.as_str(),
        "the manager's stays"
    );
    assert_eq!(
        daemon_token(&manager, "worker"),
        new_worker,
        "the daemon hands out the new one"
    );
    let (_, cluster) = app.get("/api/swarm").await;
    assert_eq!(
        tokens(&cluster),
        (new_worker.clone(), manager_token.clone())
    );

    // Both.
    let (status, rotated) = app
        .call(
            Method::POST,
            "/api/swarm/rotate",
            Some(json!({"worker": true, "manager": true})),
        )
        .await;
    assert_eq!(status, 200, "{rotated}");
    assert_ne!(rotated["worker"], new_worker.as_str());
    assert_ne!(rotated["manager"], manager_token.as_str());
    assert_eq!(
        rotated["manager"].as_str(),
        Some(daemon_token(&manager, "manager").as_str())
    );
    // The cluster is whole: three nodes, still ready.
    let (_, nodes) = app.get("/api/nodes").await;
    let nodes = nodes.as_array().expect("nodes");
    assert_eq!(nodes.len(), 3, "{nodes:?}");
    assert!(nodes.iter().all(|n| n["state"] == "ready"), "{nodes:?}");

    // Asking for nothing says what to ask for; an unknown field is named.
    let got = app
        .call(Method::POST, "/api/swarm/rotate", Some(json!({})))
        .await;
    assert_error(&got, 400, "nothing_to_rotate");
    let got = app
        .call(
            Method::POST,
            "/api/swarm/rotate",
            Some(json!({"workers": true})),
        )
        .await;
    assert_eq!(got.0, 400, "{}", got.1);

    // Nobody but an admin, and their tokens are unchanged.
    let before = daemon_token(&manager, "worker");
    for c in [&t.viewer, &t.op_red] {
        let got = send(
            c,
            Method::POST,
            &app.url("/api/swarm/rotate"),
            Some(json!({"worker": true})),
        )
        .await;
        assert_error(&got, 403, "forbidden");
    }
    assert_eq!(daemon_token(&manager, "worker"), before);
}
