//! berth deployed by its own `docker-compose.yml`: brought up by berth's stack engine and by
//! `docker-compose`, the image built from the repo's Dockerfile on the private daemon (base
//! `berth-test/runtime:latest`, made by xtask), and `/api/health` answering from inside the
//! container through a port published on 127.0.0.1 only. The daemon's socket folder given to
//! the container is the private daemon's, never the host's /var/run.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::json;

use crate::stacks::{assert_done, ndjson};
use crate::support::*;

const RUNTIME_IMAGE: &str = "berth-test/runtime:latest";

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the workspace root")
        .to_path_buf()
}

/// The debug `berth` as a path inside the repo (the build context).
fn binary_in_repo() -> String {
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_berth"));
    bin.strip_prefix(repo_root())
        .unwrap_or_else(|_| {
            panic!(
                "{} must be inside the repo to be in the build context",
                bin.display()
            )
        })
        .to_string_lossy()
        .into_owned()
}

/// The socket folder of the private daemon, to mount into the container.
fn socket_dir() -> String {
    let host = docker_host();
    let sock = host.trim_start_matches("unix://");
    let dir = Path::new(sock)
        .parent()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    assert_ne!(dir, "/var/run", "tests never mount the host's /var/run");
    assert_ne!(dir, "/run", "tests never mount the host's /run");
    assert_eq!(Path::new(sock).file_name().unwrap(), "docker.sock");
    dir
}

async fn require_runtime_image() {
    let d = daemon().await;
    d.inspect_image(RUNTIME_IMAGE)
        .await
        .unwrap_or_else(|_| panic!("{RUNTIME_IMAGE} is missing: `cargo xtask test` makes it"));
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The variables docker-compose.yml reads, for a test deployment.
fn env_for(image: &str, port: u16) -> Vec<(&'static str, String)> {
    vec![
        ("BERTH_BASE", RUNTIME_IMAGE.into()),
        ("BERTH_BIN", binary_in_repo()),
        ("BERTH_IMAGE", image.into()),
        ("BERTH_PUBLISH", format!("127.0.0.1:{port}")),
        ("BERTH_DOCKER_DIR", socket_dir()),
        ("BERTH_ADMIN_PASSWORD", "selfhost-pw".into()),
        ("BERTH_HEALTH_INTERVAL", "1s".into()),
    ]
}

/// Wait for the containerised berth to answer `/api/health` with the daemon reachable,
/// and for the daemon to call its healthcheck (`berth healthcheck`) healthy.
async fn wait_healthy(port: u16, container: &str) {
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut last = String::new();
    loop {
        if let Ok(r) = client
            .get(format!("http://127.0.0.1:{port}/api/health"))
            .send()
            .await
        {
            let body: serde_json::Value = r.json().await.unwrap_or_default();
            if body["status"] == "ok" && body["docker"]["reachable"] == true {
                break;
            }
            last = body.to_string();
        }
        assert!(
            Instant::now() < deadline,
            "no healthy /api/health on 127.0.0.1:{port}: {last}"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let d = daemon().await;
    loop {
        let c = d
            .inspect_container(
                container,
                None::<bollard::query_parameters::InspectContainerOptions>,
            )
            .await
            .expect("the berth container");
        let health = c
            .state
            .and_then(|s| s.health)
            .and_then(|h| h.status)
            .map(|s| s.to_string());
        if health.as_deref() == Some("healthy") {
            // Published on loopback only.
            let ports = c.host_config.unwrap().port_bindings.unwrap();
            let b = &ports["8080/tcp"].as_ref().unwrap()[0];
            assert_eq!(b.host_ip.as_deref(), Some("127.0.0.1"));
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the container's healthcheck is {health:?}"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

#[tokio::test]
async fn berth_runs_from_its_own_compose_file_with_berths_engine_and_with_docker_compose() {
    require_runtime_image().await;
    let app = TestApp::start().await;
    let d = daemon().await;

    // 1. berth's own stack engine, from the repo folder.
    let name = unique("selfhost");
    let image = format!("berth-test/berth-self:{name}");
    let port = free_port();
    let env: String = env_for(&image, port)
        .into_iter()
        .map(|(k, v)| format!("{k}={v}\n"))
        .collect();
    let (status, lines) = ndjson(
        &app,
        Method::POST,
        "/api/stacks",
        Some(json!({"name": name, "from_dir": repo_root(), "env": env})),
    )
    .await;
    assert_eq!(status, 201, "{lines:#?}");
    assert_done(&lines);
    wait_healthy(port, &format!("{name}_berth_1")).await;
    let (status, down) = app
        .post(&format!("/api/stacks/{name}/down?volumes=true"))
        .await;
    assert_eq!(status, 200, "{down}");
    assert_eq!(down["volumes"], json!([format!("{name}_berth-data")]));
    let (status, _) = app
        .call(Method::DELETE, &format!("/api/stacks/{name}"), None)
        .await;
    assert_eq!(status, 200);
    let _ = d
        .remove_image(
            &image,
            None::<bollard::query_parameters::RemoveImageOptions>,
            None,
        )
        .await;

    // 2. docker-compose, from the same folder and file.
    let name = unique("selfcli");
    let image = format!("berth-test/berth-self:{name}");
    let port = free_port();
    let mut cmd = std::process::Command::new("docker-compose");
    cmd.args(["-p", &name, "up", "-d", "--build"])
        .current_dir(repo_root())
        .env("DOCKER_HOST", docker_host());
    for (k, v) in env_for(&image, port) {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("docker-compose");
    assert!(
        out.status.success(),
        "docker-compose up: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    wait_healthy(port, &format!("{name}_berth_1")).await;
    // berth lists the CLI's deployment of itself.
    let (_, list) = app.get("/api/stacks").await;
    assert!(list
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s["name"] == name.as_str() && s["managed"] == false));
    let mut down = std::process::Command::new("docker-compose");
    down.args(["-p", &name, "down", "-v"])
        .current_dir(repo_root())
        .env("DOCKER_HOST", docker_host());
    for (k, v) in env_for(&image, port) {
        down.env(k, v);
    }
    let out = down.output().expect("docker-compose down");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let _ = d
        .remove_image(
            &image,
            None::<bollard::query_parameters::RemoveImageOptions>,
            None,
        )
        .await;
}
