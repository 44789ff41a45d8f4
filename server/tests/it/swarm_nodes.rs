//! Nodes going away under a running service, on the test swarm: an admin drains a worker
//! through berth and its tasks move to the other nodes; a worker's dockerd stops answering
//! (SIGSTOP) and berth shows the node down, the tasks rescheduled, and the node back when
//! it answers again. These tests have the cluster to themselves (`support::SWARM`).

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{json, Value};

use crate::support::*;
use crate::swarm_api::{create_service, docker, running, swarm, tasks_until, Cleanup, Swarm};

/// berth on the manager, logged in as admin, with the cluster to itself.
async fn alone() -> (
    tokio::sync::RwLockWriteGuard<'static, ()>,
    Swarm,
    TestApp,
    Cleanup,
) {
    let guard = SWARM.write().await;
    let s = swarm();
    let app = TestApp::spawn(&s.manager()).await;
    app.login("admin", ADMIN_PASSWORD).await;
    let mut clean = Cleanup::default();
    clean.manager = s.manager();
    (guard, s, app, clean)
}

/// The node `hostname` as `GET /api/nodes` shows it, once `pred` holds.
async fn node_until(
    app: &TestApp,
    hostname: &str,
    what: &str,
    pred: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let (status, nodes) = app.get("/api/nodes").await;
        assert_eq!(status, 200, "{nodes}");
        let node = nodes
            .as_array()
            .unwrap()
            .iter()
            .find(|n| n["hostname"] == hostname)
            .cloned()
            .unwrap_or_else(|| panic!("no node {hostname} in {nodes}"));
        if pred(&node) {
            return node;
        }
        assert!(Instant::now() < deadline, "{what}: {node:#}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Three replicas, one per node (the scheduler spreads them), running.
async fn three_replicas(s: &Swarm, app: &TestApp, clean: &mut Cleanup) -> (String, Vec<Value>) {
    let name = unique("swarm-nodes");
    clean.services.push(name.clone());
    let id = create_service(
        app,
        &app.client,
        json!({"name": name, "image": s.image(), "replicas": 3, "cmd": ["sleep", "3600"]}),
    )
    .await;
    let tasks = tasks_until(
        app,
        &app.client,
        &id,
        "three tasks run on three nodes",
        |ts| {
            let r = running(ts);
            let mut nodes: Vec<_> = r.iter().map(|t| t["node"].clone()).collect();
            nodes.sort_by_key(|n| n.to_string());
            nodes.dedup();
            r.len() == 3 && nodes.len() == 3
        },
    )
    .await;
    (id, tasks)
}

/// Puts a drained node back to active, also when the test fails (through the manager's
/// own socket: Drop cannot wait on the test's runtime).
struct Undrain {
    manager: String,
    node: String,
}

impl Drop for Undrain {
    fn drop(&mut self) {
        docker(
            &self.manager,
            &["node", "update", "--availability", "active", &self.node],
        );
    }
}

#[tokio::test]
async fn swarm_nodes_a_drained_worker_gives_its_tasks_to_the_others() {
    let (_alone, s, app, mut clean) = alone().await;
    let (id, _) = three_replicas(&s, &app, &mut clean).await;
    let worker = s.node_name(3);
    let node_id = s.node(3)["node_id"].as_str().unwrap().to_owned();

    let (status, node) = app
        .call(
            Method::PATCH,
            &format!("/api/nodes/{node_id}"),
            Some(json!({"availability": "drain"})),
        )
        .await;
    let _undrain = Undrain {
        manager: s.manager(),
        node: node_id.clone(),
    };
    assert_eq!(status, 200, "{node}");
    assert_eq!(node["availability"], "drain", "{node}");
    node_until(&app, &worker, "the list shows the node drained", |n| {
        n["availability"] == "drain" && n["state"] == "ready"
    })
    .await;
    let tasks = tasks_until(
        &app,
        &app.client,
        &id,
        "three tasks run, none on the drained node",
        |ts| {
            let r = running(ts);
            r.len() == 3 && r.iter().all(|t| t["node"] != worker.as_str())
        },
    )
    .await;
    // The task that ran there is shut down, not lost from the list.
    assert!(
        tasks
            .iter()
            .any(|t| t["node"] == worker.as_str() && t["desired_state"] == "shutdown"),
        "{tasks:#?}"
    );
    // A bad availability is refused with what is allowed.
    let got = app
        .call(
            Method::PATCH,
            &format!("/api/nodes/{node_id}"),
            Some(json!({"availability": "asleep"})),
        )
        .await;
    assert!(got.0.is_client_error(), "{:?}", got);
    assert!(got.1.to_string().contains("drain"), "{}", got.1);

    let (status, node) = app
        .call(
            Method::PATCH,
            &format!("/api/nodes/{node_id}"),
            Some(json!({"availability": "active"})),
        )
        .await;
    assert_eq!(status, 200, "{node}");
    assert_eq!(node["availability"], "active");
}

/// A signal to one process (a positive pid: never a group).
fn signal(pid: i32, sig: &str) -> bool {
    assert!(pid > 1, "pid {pid}");
    std::process::Command::new("kill")
        .args([&format!("-{sig}"), &pid.to_string()])
        .status()
        .is_ok_and(|s| s.success())
}

/// Sends SIGCONT to a stopped dockerd, also when the test fails.
struct Resume(i32);

impl Drop for Resume {
    fn drop(&mut self) {
        signal(self.0, "CONT");
    }
}

#[tokio::test]
async fn swarm_nodes_a_worker_that_stops_answering_is_shown_down_and_its_tasks_move() {
    let (_alone, s, app, mut clean) = alone().await;
    let (id, _) = three_replicas(&s, &app, &mut clean).await;
    let worker = s.node_name(2);
    let pid = s.node(2)["dockerd_pid"].as_i64().expect("dockerd_pid") as i32;
    // Only the test cluster's own dockerd: its command line names the node's socket.
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    let sock = s.sockets()[1].trim_start_matches("unix://").to_owned();
    assert!(
        String::from_utf8_lossy(&cmdline).contains(&sock),
        "pid {pid} is not the dockerd of {worker}"
    );

    // Resumed by `Resume` whatever happens.
    let resume = Resume(pid);
    assert!(signal(pid, "STOP"), "SIGSTOP to {pid}");
    let node = node_until(&app, &worker, "the node is shown down", |n| {
        n["state"] == "down"
    })
    .await;
    assert_eq!(node["availability"], "active", "{node}");
    // The cluster still answers at once, whatever the worker does.
    let t0 = Instant::now();
    let (status, cluster) = app.get("/api/swarm").await;
    assert_eq!(status, 200, "{cluster}");
    assert!(t0.elapsed() < Duration::from_secs(3), "{:?}", t0.elapsed());
    tasks_until(
        &app,
        &app.client,
        &id,
        "three tasks run on the nodes still up",
        |ts| {
            let r = running(ts);
            r.len() == 3 && r.iter().all(|t| t["node"] != worker.as_str())
        },
    )
    .await;

    drop(resume);
    node_until(&app, &worker, "the node is back", |n| n["state"] == "ready").await;
}
