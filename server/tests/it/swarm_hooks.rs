//! A deploy webhook of a Swarm service, on the test swarm: a CI call with `?tag=` rolls the
//! service over to the tag and the job says it succeeded once the swarm finished; a broken
//! image fails the update, which berth rolls back, and the job fails saying so. Another
//! team's operator cannot make a webhook for the service.

use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};

use crate::support::*;
use crate::swarm_api::{create_service, docker, running, start, tasks_until};
use crate::webhooks::{call, make_hook, wait_job};

#[tokio::test]
async fn swarm_hooks_a_service_hook_rolls_to_a_tag_and_rolls_back_a_broken_one() {
    let (s, app, t, mut clean) = start().await;
    // Two tags of the test image on every node (no registry: each node has them).
    let base = s.image().replace(":latest", "");
    let tag = |v: &str| format!("hook{v}-{}", std::process::id());
    for v in ["1", "2"] {
        for sock in s.sockets() {
            let full = format!("{base}:{}", tag(v));
            let (ok, out) = docker(&sock, &["tag", &s.image(), &full]);
            assert!(ok, "{out}");
            clean.tags.push((sock, full));
        }
    }
    // And a broken one, on every node: its entrypoint exits at once.
    for sock in s.sockets() {
        let full = format!("{base}:{}", tag("bad"));
        build_on(
            &sock,
            &format!("FROM {}\nENTRYPOINT [\"false\"]\n", s.image()),
            &full,
        );
        clean.tags.push((sock, full));
    }
    let name = unique("swarm-hook");
    clean.services.push(name.clone());
    let id = create_service(
        &app,
        &t.op_red,
        json!({"name": name, "image": format!("{base}:{}", tag("1")), "replicas": 2,
               "cmd": ["sleep", "3600"]}),
    )
    .await;
    tasks_until(&app, &t.op_red, &id, "two tasks run", |ts| {
        running(ts).len() == 2
    })
    .await;

    // Another team's operator does not see the service to make a hook of.
    let (status, body) = send(
        &t.op_blue,
        Method::POST,
        &app.url("/api/webhooks"),
        Some(json!({"kind": "service", "target": name})),
    )
    .await;
    assert_eq!(status, 404, "{body}");

    let (hook, secret) = make_hook(&t.op_red, &app, "service", &name).await;
    let (status, _) = call(&app, &hook, "whs_wrong", "?tag=x").await;
    assert_eq!(status, 401);

    // A new tag: the job follows the rolling update to its end.
    let (status, started) = call(&app, &hook, &secret, &format!("?tag={}", tag("2"))).await;
    assert_eq!(status, 202, "{started}");
    let job = wait_job(&app, started["job"].as_str().unwrap(), &secret).await;
    assert_eq!(job["state"], "succeeded", "{job:#}");
    let log = job["log"].to_string();
    assert!(log.contains("rolling update"), "{log}");
    let want = format!("{base}:{}", tag("2"));
    let tasks = tasks_until(&app, &t.op_red, &id, "two tasks run the new tag", |ts| {
        let r = running(ts);
        r.len() == 2 && r.iter().all(|t| t["image"] == want.as_str())
    })
    .await;
    assert_eq!(running(&tasks).len(), 2);

    // A broken tag: its tasks fail, the swarm pauses the update, berth rolls it back, the
    // job fails saying so.
    let (status, started) = call(&app, &hook, &secret, &format!("?tag={}", tag("bad"))).await;
    assert_eq!(status, 202, "{started}");
    let job = wait_job(&app, started["job"].as_str().unwrap(), &secret).await;
    assert_eq!(job["state"], "failed", "{job:#}");
    let error = job["error"].to_string();
    assert!(error.contains("rolled back"), "{error}");
    let (status, svc) = send(
        &t.op_red,
        Method::GET,
        &app.url(&format!("/api/services/{id}")),
        None,
    )
    .await;
    assert_eq!(status, 200, "{svc}");
    let image = image_in(&svc);
    assert!(
        image.starts_with(&want),
        "back on {want}: {image} in {svc:#}"
    );
    tasks_until(
        &app,
        &t.op_red,
        &id,
        "two tasks run the old tag again",
        |ts| {
            let r = running(ts);
            r.len() == 2 && r.iter().all(|t| t["image"] == want.as_str())
        },
    )
    .await;
    // Both calls are in the audit log, as the owner.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (_, audit) = app.get("/api/audit?limit=50").await;
    let deploys = audit
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "webhook_deploy" && e["target"].to_string().contains(&name))
        .count();
    assert!(deploys >= 2, "{audit:#}");
}

/// The image a service's spec names, wherever the inspect puts it.
fn image_in(svc: &Value) -> String {
    for path in [
        &["image"][..],
        &["spec", "task_template", "container_spec", "image"][..],
        &["Spec", "TaskTemplate", "ContainerSpec", "Image"][..],
    ] {
        let mut v = svc;
        for k in path {
            v = &v[*k];
        }
        if let Some(s) = v.as_str() {
            return s.to_owned();
        }
    }
    String::new()
}

/// `docker build` of a Dockerfile given as text (no context) on one node.
fn build_on(sock: &str, dockerfile: &str, tag: &str) {
    use std::io::Write;
    let mut child = std::process::Command::new("docker")
        .args(["-H", sock, "build", "-q", "-t", tag, "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
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
        "build {tag} on {sock}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}
