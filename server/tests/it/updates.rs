//! Image update detection against Debian's `docker-registry` on 127.0.0.1, without and with
//! stored credentials: a new digest under the same tag is seen (after a refresh: answers
//! are cached), a pinned digest, a locally built image and an opted-out container are shown
//! as such, a registry that refuses is an error row, and an update job brings the container
//! to the new digest.

use std::io::Write;
use std::process::{Command, Stdio};

use reqwest::Method;
use serde_json::{json, Value};

use crate::imgkit::ndjson_json;
use crate::registry_server::{TestRegistry, PASSWORD, USER};
use crate::support::*;

const IDLE: &str = "trap 'exit 0' TERM; while true; do sleep 1; done";

fn quiet_docker(args: &[&str]) -> String {
    Command::new("docker")
        .args(["-H", &docker_host()])
        .args(args)
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default()
}

fn build(tag: &str, extra: &str) {
    let dockerfile = format!("FROM {}\n{extra}\n", test_image());
    let mut child = Command::new("docker")
        .args(["-H", &docker_host(), "build", "-q", "-t", tag, "-"])
        .env("DOCKER_BUILDKIT", "0")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("docker build");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(dockerfile.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[derive(Default)]
struct Made {
    containers: Vec<String>,
    networks: Vec<String>,
    images: Vec<String>,
}

impl Drop for Made {
    fn drop(&mut self) {
        for c in &self.containers {
            let ids = quiet_docker(&["ps", "-aq", "--filter", &format!("name={c}")]);
            for id in ids.split_whitespace() {
                quiet_docker(&["rm", "-f", id]);
            }
        }
        for n in &self.networks {
            quiet_docker(&["network", "rm", n]);
        }
        for i in &self.images {
            quiet_docker(&["rmi", "-f", i]);
            // Earlier builds under the tag, left with only their pushed digest.
            let repo = i.rsplit_once(':').map(|(r, _)| r).unwrap_or(i);
            let refs = quiet_docker(&[
                "images",
                "--digests",
                "--format",
                "{{.Repository}}@{{.Digest}}",
                repo,
            ]);
            for r in refs.split_whitespace().filter(|r| !r.ends_with("@<none>")) {
                quiet_docker(&["rmi", r]);
            }
        }
    }
}

async fn run(app: &TestApp, made: &mut Made, image: &str, labels: Value) -> String {
    let name = unique("upd");
    made.containers.push(name.clone());
    let (status, body) = app
        .call(
            Method::POST,
            "/api/containers",
            Some(
                json!({"image": image, "name": name, "cmd": ["sh", "-c", IDLE], "labels": labels}),
            ),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    name
}

async fn row(app: &TestApp, name: &str, refresh: bool) -> Value {
    let (status, rows) = app.get(&format!("/api/updates?refresh={refresh}")).await;
    assert_eq!(status, 200, "{rows}");
    rows.as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == name)
        .cloned()
        .unwrap_or_else(|| panic!("{name} is listed: {rows:#}"))
}

#[tokio::test]
async fn a_new_digest_under_the_same_tag_is_seen_and_updated_to() {
    let mut made = Made::default();
    let registry = TestRegistry::start(false).await;
    let app = TestApp::start().await;
    let image = format!("{}/berth-it/{}:latest", registry.host(), unique("upd"));
    made.images.push(image.clone());
    build(&image, "LABEL berth.it.version=1");
    docker_cli(&["push", &image]);
    let name = run(&app, &mut made, &image, json!({"berth-test": "1"})).await;

    let r = row(&app, &name, true).await;
    assert_eq!(r["status"], "current", "{r:#}");
    assert_eq!(r["running_digest"], r["registry_digest"], "{r:#}");
    assert_eq!(r["update_available"], false);
    let first = r["running_digest"].as_str().unwrap().to_owned();

    // Something new is pushed under the same tag.
    build(&image, "LABEL berth.it.version=2");
    docker_cli(&["push", &image]);
    let cached = row(&app, &name, false).await;
    assert_eq!(
        cached["status"], "current",
        "answers are cached: {cached:#}"
    );
    let r = row(&app, &name, true).await;
    assert_eq!(r["status"], "available", "{r:#}");
    assert_eq!(r["update_available"], true);
    assert_eq!(r["running_digest"], first.as_str());
    assert_ne!(r["registry_digest"], first.as_str());

    // Pinned, local and opted-out containers are shown as such.
    let pinned_ref = format!("{}@{first}", image.rsplit_once(':').unwrap().0);
    let pinned = run(&app, &mut made, &pinned_ref, json!({})).await;
    assert_eq!(row(&app, &pinned, false).await["status"], "pinned");
    let local = unique("upd-local");
    made.images.push(format!("{local}:1"));
    build(&format!("{local}:1"), "LABEL berth.it.local=1");
    let local_c = run(&app, &mut made, &format!("{local}:1"), json!({})).await;
    assert_eq!(row(&app, &local_c, false).await["status"], "local");
    let out = run(&app, &mut made, &image, json!({"berth-update": "false"})).await;
    assert_eq!(row(&app, &out, false).await["status"], "opted_out");

    // Update: a job that pulls, recreates and checks the container is up.
    let (status, started) = app
        .post(&format!("/api/containers/{name}/update?settle=1"))
        .await;
    assert_eq!(status, 202, "{started}");
    let (status, job) = app
        .get(&format!(
            "/api/jobs/{}?wait=120",
            started["job"].as_str().unwrap()
        ))
        .await;
    assert_eq!(status, 200);
    assert_eq!(job["state"], "succeeded", "{job:#}");
    let r = row(&app, &name, true).await;
    assert_eq!(r["status"], "current", "{r:#}");
    assert_ne!(r["running_digest"], first.as_str());
}

#[tokio::test]
async fn stored_credentials_are_used_and_a_refusal_is_shown() {
    let mut made = Made::default();
    let registry = TestRegistry::start(true).await;
    let app = TestApp::start().await;
    let (status, reg) = app
        .call(
            Method::POST,
            "/api/registries",
            Some(
                json!({"name": unique("upd-reg"), "url": format!("http://{}", registry.host()),
                        "username": USER, "password": PASSWORD}),
            ),
        )
        .await;
    assert_eq!(status, 201, "{reg}");
    let repo = format!("{}/berth-it/{}", registry.host(), unique("upd"));
    let image = format!("{repo}:latest");
    made.images.push(image.clone());
    build(&image, "LABEL berth.it.version=1");
    // Pushed through berth, with the stored credentials (the CLI has none).
    let (status, lines) = ndjson_json(&app, "/api/images/push", json!({"image": image})).await;
    assert_eq!(status, 200);
    assert!(lines.last().unwrap()["error"].is_null(), "{lines:?}");
    let name = run(&app, &mut made, &image, json!({})).await;
    let r = row(&app, &name, true).await;
    assert_eq!(r["status"], "current", "{r:#}");

    build(&image, "LABEL berth.it.version=2");
    let (_, lines) = ndjson_json(&app, "/api/images/push", json!({"image": image})).await;
    assert!(lines.last().unwrap()["error"].is_null(), "{lines:?}");
    let r = row(&app, &name, true).await;
    assert_eq!(r["status"], "available", "{r:#}");

    // Without the stored credentials the registry refuses: an error row that says so.
    let (status, _) = app
        .call(
            Method::DELETE,
            &format!("/api/registries/{}", reg["id"]),
            None,
        )
        .await;
    assert_eq!(status, 204);
    let r = row(&app, &name, true).await;
    assert_eq!(r["status"], "error", "{r:#}");
    assert!(r["error"].as_str().unwrap().contains("refused"), "{r:#}");
}

#[tokio::test]
async fn a_host_wide_update_queues_a_job_per_stack_and_container() {
    let mut made = Made::default();
    let registry = TestRegistry::start(false).await;
    let app = TestApp::start().await;
    // As an operator of a fresh team: a host-wide update is of what the caller may deploy,
    // and other tests' containers on this daemon are not theirs.
    let team = unique("updteam");
    let op = format!("{team}-op");
    app.make_user(&op, "operator", &[&team]).await;
    let op = app.client_as(&op, USER_PASSWORD).await;
    let image = format!("{}/berth-it/{}:latest", registry.host(), unique("upd"));
    made.images.push(image.clone());
    build(&image, "LABEL berth.it.version=1");
    docker_cli(&["push", &image]);
    let name = unique("upd");
    made.containers.push(name.clone());
    let (status, body) = send(
        &op,
        Method::POST,
        &app.url("/api/containers"),
        Some(json!({"image": image, "name": name, "cmd": ["sh", "-c", IDLE]})),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let stack = unique("updstack");
    made.containers.push(format!("{stack}_"));
    made.networks.push(format!("{stack}_default"));
    let compose = format!(
        "services:\n  app:\n    image: {image}\n    command: [\"sh\", \"-c\", \"{IDLE}\"]\n"
    );
    let (status, body) = send(
        &op,
        Method::POST,
        &app.url("/api/stacks"),
        Some(json!({"name": stack, "compose": compose})),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    build(&image, "LABEL berth.it.version=2");
    docker_cli(&["push", &image]);
    let new_digest = row(&app, &name, true).await["registry_digest"].clone();

    let (status, queued) = send(
        &op,
        Method::POST,
        &app.url("/api/updates/apply?settle=1"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{queued}");
    let mine: Vec<&Value> = queued
        .as_array()
        .unwrap()
        .iter()
        .filter(|q| q["target"] == name.as_str() || q["target"] == stack.as_str())
        .collect();
    assert_eq!(
        mine.len(),
        2,
        "one job for the container, one for the stack: {queued:#}"
    );
    for q in mine {
        let job = q["job"]["job"].as_str().unwrap_or_else(|| panic!("{q}"));
        let (_, ended) = app.get(&format!("/api/jobs/{job}?wait=120")).await;
        assert_eq!(ended["state"], "succeeded", "{ended:#}");
    }
    assert_eq!(row(&app, &name, false).await["running_digest"], new_digest);
    assert_eq!(
        row(&app, &format!("{stack}_app_1"), false).await["running_digest"],
        new_digest
    );
    // The stack on its own: nothing new, so its job keeps what runs.
    let (status, started) = app
        .post(&format!("/api/stacks/{stack}/update?settle=1"))
        .await;
    assert_eq!(status, 202, "{started}");
    let (_, ended) = app
        .get(&format!(
            "/api/jobs/{}?wait=120",
            started["job"].as_str().unwrap()
        ))
        .await;
    assert_eq!(ended["state"], "succeeded", "{ended:#}");
    assert!(ended["log"].to_string().contains("up to date"), "{ended:#}");
    let (status, _) = app
        .call(Method::DELETE, &format!("/api/stacks/{stack}"), None)
        .await;
    assert_eq!(status, 200);
}
