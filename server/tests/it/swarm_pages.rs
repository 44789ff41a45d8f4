//! What the Swarm pages need from the server, on the real cluster of `cargo xtask swarm`
//! (`BERTH_TEST_SWARM`): `POST /api/swarm/rotate` (an admin gets new join tokens for the role
//! asked for, the manager's daemon agrees, the other role's token stays; nobody else may;
//! a body asking for nothing says what to ask), and the events socket carrying service
//! events to the service's team (not to another) and node events to everyone.

use std::process::Command;
use std::time::Duration;

use futures::StreamExt;
use reqwest::Method;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

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

/// `docker service rm` at the end, also on failure.
struct RemoveService(String, String);

impl Drop for RemoveService {
    fn drop(&mut self) {
        let _ = Command::new("docker")
            .args(["-H", &self.0, "service", "rm", &self.1])
            .output();
    }
}

/// Frames of an events socket until one satisfies `stop`; all of them, that one last.
async fn frames_until(ws: &mut Ws, what: &str, stop: impl Fn(&Value) -> bool) -> Vec<Value> {
    let mut seen = Vec::new();
    let got = tokio::time::timeout(Duration::from_secs(20), async {
        while let Some(Ok(msg)) = ws.next().await {
            if let Message::Text(text) = msg {
                let v: Value = serde_json::from_str(&text).unwrap_or_default();
                let done = stop(&v);
                seen.push(v);
                if done {
                    return;
                }
            }
        }
        panic!("the socket closed before {what}");
    })
    .await;
    assert!(got.is_ok(), "no {what} within 20 s; got {seen:#?}");
    seen
}

#[tokio::test]
async fn swarm_api_service_events_reach_the_services_team_and_node_events_everyone() {
    let _shared = SWARM.read().await;
    let manager = manager();
    let app = TestApp::spawn(&manager).await;
    app.login("admin", ADMIN_PASSWORD).await;
    let (red, blue) = (unique("red"), unique("blue"));
    let (red_op, blue_op) = (format!("{red}-op"), format!("{blue}-op"));
    app.make_user(&red_op, "operator", &[&red]).await;
    app.make_user(&blue_op, "operator", &[&blue]).await;
    let mut red_ws = ws_with_cookie(
        &app,
        &app.cookie_header(&red_op, USER_PASSWORD).await,
        "/api/events/ws",
    )
    .await
    .expect("red's events socket");
    let mut blue_ws = ws_with_cookie(
        &app,
        &app.cookie_header(&blue_op, USER_PASSWORD).await,
        "/api/events/ws",
    )
    .await
    .expect("blue's events socket");
    // Give the hub a moment to open the daemon stream, then act.
    tokio::time::sleep(Duration::from_millis(300)).await;

    let name = unique("swarm-events");
    let _gone = RemoveService(manager.clone(), name.clone());
    let image =
        std::env::var("BERTH_TEST_IMAGE").unwrap_or_else(|_| "berth-test/busybox:latest".into());
    let red_client = app.client_as(&red_op, USER_PASSWORD).await;
    let (status, created) = send(
        &red_client,
        Method::POST,
        &app.url("/api/services"),
        Some(json!({"name": name, "image": image, "replicas": 0})),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let ours = |v: &Value| v["type"] == "service" && v["attributes"]["name"] == name.as_str();
    frames_until(&mut red_ws, "red's service event", ours).await;

    // A node event after it: blue gets that, and never got red's service before it.
    let (_, nodes) = app.get("/api/nodes").await;
    let node = nodes
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["role"] == "manager")
        .cloned()
        .expect("the manager node");
    let id = node["id"].as_str().unwrap().to_owned();
    let mut labels = node["labels"].as_object().cloned().unwrap_or_default();
    let mark = format!("berth-events-{}", std::process::id());
    labels.insert(mark.clone(), json!("1"));
    let (status, _) = app
        .call(
            Method::PATCH,
            &format!("/api/nodes/{id}"),
            Some(json!({"labels": labels})),
        )
        .await;
    assert_eq!(status, 200);
    let seen = frames_until(&mut blue_ws, "a node event for blue", |v| {
        v["type"] == "node" && v["id"] == id.as_str()
    })
    .await;
    assert!(
        !seen.iter().any(ours),
        "another team's service event leaked: {seen:#?}"
    );
    frames_until(&mut red_ws, "a node event for red", |v| v["type"] == "node").await;

    labels.remove(&mark);
    let (status, _) = app
        .call(
            Method::PATCH,
            &format!("/api/nodes/{id}"),
            Some(json!({"labels": labels})),
        )
        .await;
    assert_eq!(status, 200);
}
