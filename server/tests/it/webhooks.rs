//! Deploy webhooks and jobs against a real daemon and Debian's `docker-registry` on
//! 127.0.0.1: a stack follows a tag pushed with the docker CLI, a broken image fails the
//! job and is rolled back, concurrent calls run one deploy at a time, bad and revoked
//! secrets are refused and audited, a disabled owner's hook is refused, and a container
//! hook switches tags and survives the recreate.

use std::io::Write;
use std::process::{Command, Stdio};

use reqwest::{Client, Method};
use serde_json::{json, Value};

use crate::registry_server::TestRegistry;
use crate::support::*;

/// `docker ARGS`, its output; failures (already gone) are fine for cleanup.
fn quiet_docker(args: &[&str]) -> String {
    Command::new("docker")
        .args(["-H", &docker_host()])
        .args(args)
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default()
}

/// Build `tag` from a Dockerfile on the test image (no network needed).
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
        "build {tag}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

const IDLE: &str = "trap 'exit 0' TERM; while true; do sleep 1; done";
/// An image whose entrypoint fails whatever the command: the "broken image" of a deploy.
const BROKEN: &str = "ENTRYPOINT [\"sh\", \"-c\", \"echo this image is broken; exit 3\"]";

/// What a test made, removed when it ends (also on failure).
#[derive(Default)]
struct Made {
    stacks: Vec<String>,
    containers: Vec<String>,
    images: Vec<String>,
}

impl Drop for Made {
    fn drop(&mut self) {
        for s in &self.stacks {
            let ids = quiet_docker(&[
                "ps",
                "-aq",
                "--filter",
                &format!("label=com.docker.compose.project={s}"),
            ]);
            for id in ids.split_whitespace() {
                quiet_docker(&["rm", "-f", id]);
            }
            quiet_docker(&["network", "rm", &format!("{s}_default")]);
        }
        for c in &self.containers {
            // Parked old containers of a recreate carry the name as a prefix.
            let ids = quiet_docker(&["ps", "-aq", "--filter", &format!("name={c}")]);
            for id in ids.split_whitespace() {
                quiet_docker(&["rm", "-f", id]);
            }
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

pub(crate) async fn make_hook(
    c: &Client,
    app: &TestApp,
    kind: &str,
    target: &str,
) -> (String, String) {
    let (status, body) = send(
        c,
        Method::POST,
        &app.url("/api/webhooks"),
        Some(json!({"kind": kind, "target": target})),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let secret = body["secret"].as_str().unwrap().to_owned();
    assert!(secret.len() >= 40, "{body}");
    assert!(body["url"]
        .as_str()
        .unwrap()
        .ends_with(&format!("/api/hooks/{}", body["id"].as_str().unwrap())));
    (body["id"].as_str().unwrap().to_owned(), secret)
}

/// Call a hook as a CI job would: no session, the secret in a header.
pub(crate) async fn call(app: &TestApp, id: &str, secret: &str, query: &str) -> (u16, Value) {
    let r = Client::new()
        .post(app.url(&format!("/api/hooks/{id}{query}")))
        .header("X-Berth-Secret", secret)
        .send()
        .await
        .expect("hook call");
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// Wait for a job's end with the webhook's secret, as a CI job would.
pub(crate) async fn wait_job(app: &TestApp, job: &str, secret: &str) -> Value {
    let r = Client::new()
        .get(app.url(&format!("/api/jobs/{job}?wait=240")))
        .header("X-Berth-Secret", secret)
        .send()
        .await
        .expect("job");
    assert_eq!(r.status(), 200);
    let j: Value = r.json().await.unwrap();
    assert!(
        j["state"] == "succeeded" || j["state"] == "failed",
        "the job ended: {j:#}"
    );
    j
}

async fn image_of(container: &str) -> (String, String, String) {
    let c = daemon_inspect(container).await;
    (
        c["Config"]["Image"].as_str().unwrap_or_default().to_owned(),
        c["Id"].as_str().unwrap_or_default().to_owned(),
        c["State"]["Status"].as_str().unwrap_or_default().to_owned(),
    )
}

/// A registry with `repo:v1`, `:v2` and a broken `:v3` pushed by the docker CLI; only v1 is
/// left on the daemon, so the others come by pull.
async fn registry_with_tags(made: &mut Made) -> (TestRegistry, String) {
    let registry = TestRegistry::start(false).await;
    let repo = format!("{}/berth-it/{}", registry.host(), unique("hook"));
    build(&format!("{repo}:v1"), "LABEL berth.it.version=1");
    build(&format!("{repo}:v2"), "LABEL berth.it.version=2");
    build(&format!("{repo}:v3"), BROKEN);
    for v in ["v1", "v2", "v3"] {
        let image = format!("{repo}:{v}");
        made.images.push(image.clone());
        docker_cli(&["push", &image]);
    }
    for v in ["v2", "v3"] {
        docker_cli(&["rmi", &format!("{repo}:{v}")]);
    }
    (registry, repo)
}

async fn make_stack(app: &TestApp, made: &mut Made, repo: &str) -> String {
    let name = unique("hookstack");
    made.stacks.push(name.clone());
    let compose = format!(
        "services:\n  app:\n    image: {repo}:${{TAG:-v1}}\n    command: [\"sh\", \"-c\", \"{IDLE}\"]\n"
    );
    let (status, body) = app
        .call(
            Method::POST,
            "/api/stacks",
            Some(json!({"name": name, "compose": compose, "env": "# deployed by webhooks\nTAG=v1\n"})),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let (_, c) = (status, image_of(&format!("{name}_app_1")).await);
    assert_eq!(c.0, format!("{repo}:v1"));
    name
}

#[tokio::test]
async fn a_stack_hook_deploys_a_pushed_tag_and_rolls_back_a_broken_one() {
    let mut made = Made::default();
    let (_registry, repo) = registry_with_tags(&mut made).await;
    let app = TestApp::start().await;
    let stack = make_stack(&app, &mut made, &repo).await;
    let container = format!("{stack}_app_1");
    let (hook, secret) = make_hook(&app.client, &app, "stack", &stack).await;

    // v2 was pushed: the hook pulls it, recreates the service, and the job says so.
    let (status, started) = call(&app, &hook, &secret, "?tag=v2&settle=2").await;
    assert_eq!(status, 202, "{started}");
    let job = wait_job(&app, started["job"].as_str().unwrap(), &secret).await;
    assert_eq!(job["state"], "succeeded", "{job:#}");
    let log = job["log"].to_string();
    assert!(
        log.contains("TAG=v2") && log.contains("recreate"),
        "{job:#}"
    );
    let (image, v2_id, state) = image_of(&container).await;
    assert_eq!(
        (image.as_str(), state.as_str()),
        (format!("{repo}:v2").as_str(), "running")
    );
    let (_, detail) = app.get(&format!("/api/stacks/{stack}")).await;
    assert!(
        detail["env"].as_str().unwrap().contains("TAG=v2"),
        "{detail}"
    );
    assert!(
        detail["env"]
            .as_str()
            .unwrap()
            .contains("# deployed by webhooks"),
        "the rest of .env stays"
    );

    // v3 is broken: the job fails, says why, and v2 runs again.
    let (status, started) = call(&app, &hook, &secret, "?tag=v3&settle=2").await;
    assert_eq!(status, 202, "{started}");
    let job_id = started["job"].as_str().unwrap().to_owned();
    let job = wait_job(&app, &job_id, &secret).await;
    assert_eq!(job["state"], "failed", "{job:#}");
    assert_eq!(job["error"]["code"], "deploy_unhealthy", "{job:#}");
    let message = job["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("exited with code 3") && message.contains("this image is broken"),
        "{message}"
    );
    assert!(message.contains("rolled back"), "{message}");
    let (image, _, state) = image_of(&container).await;
    assert_eq!(
        (image.as_str(), state.as_str()),
        (format!("{repo}:v2").as_str(), "running")
    );
    let (_, detail) = app.get(&format!("/api/stacks/{stack}")).await;
    assert!(
        detail["env"].as_str().unwrap().contains("TAG=v2"),
        "{detail}"
    );
    assert_ne!(
        image_of(&container).await.1,
        v2_id,
        "a fresh v2 container, made by the rollback"
    );

    // The stream of a job: its lines, then its end.
    let r = Client::new()
        .get(app.url(&format!("/api/jobs/{job_id}/stream")))
        .header("X-Berth-Secret", &secret)
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["content-type"], "application/x-ndjson");
    let text = r.text().await.unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(lines.len() > 3, "{text}");
    assert_eq!(lines.last().unwrap()["end"]["state"], "failed", "{text}");
    assert!(lines.iter().any(|l| l["step"] == "rollback"), "{text}");

    // Jobs are listed for the webhook's page, to its owner.
    let (status, jobs) = app.get(&format!("/api/jobs?webhook={hook}")).await;
    assert_eq!(status, 200);
    assert_eq!(jobs.as_array().unwrap().len(), 2, "{jobs}");
    // Without a session and without the secret: 401.
    let r = Client::new()
        .get(app.url(&format!("/api/jobs/{job_id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let r = Client::new()
        .get(app.url(&format!("/api/jobs/{job_id}")))
        .header("X-Berth-Secret", "whs_wrong")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}

#[tokio::test]
async fn concurrent_calls_run_one_deploy_at_a_time() {
    let mut made = Made::default();
    let (_registry, repo) = registry_with_tags(&mut made).await;
    let app = TestApp::start().await;
    let stack = make_stack(&app, &mut made, &repo).await;
    let (hook, secret) = make_hook(&app.client, &app, "stack", &stack).await;

    let calls = (0..4).map(|_| call(&app, &hook, &secret, "?tag=v2&settle=2"));
    let answers = futures::future::join_all(calls).await;
    let mut ids: Vec<String> = answers
        .iter()
        .map(|(status, body)| {
            assert_eq!(*status, 202, "{body}");
            body["job"].as_str().unwrap().to_owned()
        })
        .collect();
    ids.dedup();
    let mut distinct = ids.clone();
    distinct.sort();
    distinct.dedup();
    assert!(
        distinct.len() <= 2,
        "equal calls coalesce into the running job and one follow-up: {ids:?}"
    );
    let mut jobs = Vec::new();
    for id in &distinct {
        jobs.push(wait_job(&app, id, &secret).await);
    }
    jobs.sort_by_key(|j| j["log"][0]["at"].as_i64().unwrap_or_default());
    for j in &jobs {
        assert_eq!(j["state"], "succeeded", "{j:#}");
    }
    // Never two at once: each starts after the previous one's last line.
    for pair in jobs.windows(2) {
        let end = pair[0]["log"].as_array().unwrap().last().unwrap()["at"]
            .as_i64()
            .unwrap();
        let start = pair[1]["log"][0]["at"].as_i64().unwrap();
        assert!(start >= end, "jobs overlapped: {:#}", json!(pair));
    }
    // One deploy changed the stack; a follow-up found it up to date.
    let recreated = jobs
        .iter()
        .filter(|j| {
            j["log"]
                .as_array()
                .unwrap()
                .iter()
                .any(|l| l["step"] == "recreate")
        })
        .count();
    assert_eq!(recreated, 1, "{:#}", json!(jobs));
    assert_eq!(
        image_of(&format!("{stack}_app_1")).await.0,
        format!("{repo}:v2")
    );
}

#[tokio::test]
async fn bad_and_revoked_secrets_are_refused_and_audited() {
    let mut made = Made::default();
    let app = TestApp::start().await;
    let name = unique("hookc");
    made.containers.push(name.clone());
    let (status, body) = app
        .call(
            Method::POST,
            "/api/containers",
            Some(json!({"image": test_image(), "name": name, "cmd": ["sh", "-c", IDLE], "labels": {"berth-test": "1"}})),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let (hook, secret) = make_hook(&app.client, &app, "container", &name).await;

    // No secret, a wrong one, an unknown hook: 401, and each is in the audit log.
    let none = Client::new()
        .post(app.url(&format!("/api/hooks/{hook}")))
        .send()
        .await
        .unwrap();
    assert_eq!(none.status(), 401);
    let (status, body) = call(&app, &hook, "whs_not-the-secret", "").await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["error"]["code"], "unauthorized");
    let (status, _) = call(&app, "wh_nosuchhook", &secret, "").await;
    assert_eq!(status, 401);

    // The right one works (nothing to change: the job says it kept the container).
    let (status, started) = call(&app, &hook, &secret, "?pull=false").await;
    assert_eq!(status, 202, "{started}");
    let job = wait_job(&app, started["job"].as_str().unwrap(), &secret).await;
    assert_eq!(job["state"], "succeeded", "{job:#}");
    assert!(job["log"].to_string().contains("already runs"), "{job:#}");

    // Rotated: the old secret is refused, the new one works.
    let (status, rotated) = app.post(&format!("/api/webhooks/{hook}/rotate")).await;
    assert_eq!(status, 200, "{rotated}");
    let fresh = rotated["secret"].as_str().unwrap().to_owned();
    assert_ne!(fresh, secret);
    assert_eq!(call(&app, &hook, &secret, "?pull=false").await.0, 401);
    let (status, started) = call(&app, &hook, &fresh, "?pull=false").await;
    assert_eq!(status, 202);
    wait_job(&app, started["job"].as_str().unwrap(), &fresh).await;

    // Revoked: refused.
    let (status, _) = app
        .call(Method::DELETE, &format!("/api/webhooks/{hook}"), None)
        .await;
    assert_eq!(status, 204);
    assert_eq!(call(&app, &hook, &fresh, "?pull=false").await.0, 401);
    let (_, listed) = app.get("/api/webhooks").await;
    assert!(!listed.to_string().contains(&hook), "{listed}");
    assert!(
        !listed.to_string().contains("whs_"),
        "secrets never listed: {listed}"
    );

    let (status, audit) = app.get("/api/audit?action=webhook_call&limit=50").await;
    assert_eq!(status, 200);
    let entries = audit.as_array().unwrap();
    let refused = entries
        .iter()
        .filter(|e| e["result"] == "unauthorized")
        .count();
    assert!(refused >= 5, "every refused call is audited: {audit:#}");
    assert!(
        entries
            .iter()
            .any(|e| e["result"] == "ok" && e["user"] == "admin"),
        "an accepted call is audited as its owner: {audit:#}"
    );
}

#[tokio::test]
async fn a_container_hook_switches_tags_survives_recreates_and_stops_with_its_owner() {
    let mut made = Made::default();
    let app = TestApp::start().await;
    let team = unique("hookteam");
    let op = format!("{team}-op");
    app.make_user(&op, "operator", &[&team]).await;
    let op_client = app.client_as(&op, USER_PASSWORD).await;
    let repo = unique("hook-local");
    for (v, extra) in [
        ("v1", "LABEL berth.it.version=1"),
        ("v2", "LABEL berth.it.version=2"),
        ("v3", BROKEN),
    ] {
        build(&format!("{repo}:{v}"), extra);
        made.images.push(format!("{repo}:{v}"));
    }
    let name = unique("hookc");
    made.containers.push(name.clone());
    let (status, body) = send(
        &op_client,
        Method::POST,
        &app.url("/api/containers"),
        Some(
            json!({"image": format!("{repo}:v1"), "name": name, "cmd": ["sh", "-c", IDLE],
                    "env": ["KEEP=me"], "labels": {"berth-test": "1"}}),
        ),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let (hook, secret) = make_hook(&op_client, &app, "container", &name).await;

    // ?tag=v2 (local images: pull=false): a new container of the same name on v2, with
    // what the user set kept and the team label berth set.
    let (status, started) = call(&app, &hook, &secret, "?tag=v2&pull=false&settle=1").await;
    assert_eq!(status, 202, "{started}");
    let job = wait_job(&app, started["job"].as_str().unwrap(), &secret).await;
    assert_eq!(job["state"], "succeeded", "{job:#}");
    let c = daemon_inspect(&name).await;
    assert_eq!(c["Config"]["Image"], format!("{repo}:v2"));
    assert!(
        c["Config"]["Env"].to_string().contains("KEEP=me"),
        "{}",
        c["Config"]
    );
    assert_eq!(c["Config"]["Labels"]["berth.team"], team.as_str());
    let v2_id = c["Id"].as_str().unwrap().to_owned();

    // The webhook still works after the recreate; v3 is broken: failed, v2 back.
    let (status, started) = call(&app, &hook, &secret, "?tag=v3&pull=false&settle=1").await;
    assert_eq!(status, 202, "{started}");
    let job = wait_job(&app, started["job"].as_str().unwrap(), &secret).await;
    assert_eq!(job["state"], "failed", "{job:#}");
    assert!(
        job["error"]["message"]
            .as_str()
            .unwrap()
            .contains("exited with code 3"),
        "{job:#}"
    );
    let (image, id, state) = image_of(&name).await;
    assert_eq!(
        (image, id, state),
        (format!("{repo}:v2"), v2_id, "running".to_owned()),
        "the old container is back"
    );
    let left = quiet_docker(&["ps", "-aq", "--filter", &format!("name={name}-berth-old")]);
    assert!(left.trim().is_empty(), "no parked container left: {left}");

    // The owner is disabled: the hook is refused, and audited.
    let (status, body) = app
        .call(
            Method::PATCH,
            &format!("/api/users/{op}"),
            Some(json!({"disabled": true})),
        )
        .await;
    assert_eq!(status, 204, "{body}");
    let (status, body) = call(&app, &hook, &secret, "?tag=v2&pull=false").await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["error"]["code"], "webhook_owner_disabled");
    let (_, audit) = app.get("/api/audit?action=webhook_call&limit=10").await;
    assert!(
        audit.to_string().contains("webhook_owner_disabled"),
        "{audit:#}"
    );
}

/// GitHub's `X-Hub-Signature-256` of `body` with `key`, as `openssl` computes it.
fn github_signature(key: &str, body: &str) -> String {
    let mut child = Command::new("openssl")
        .args(["dgst", "-sha256", "-hmac", key])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("openssl");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(body.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    format!("sha256={}", text.trim().rsplit(' ').next().unwrap())
}

#[tokio::test]
async fn github_signatures_and_gitlab_tokens_are_checked() {
    let mut made = Made::default();
    let app = TestApp::start().await;
    let name = unique("hookgh");
    made.containers.push(name.clone());
    let (status, body) = app
        .call(
            Method::POST,
            "/api/containers",
            Some(json!({"image": test_image(), "name": name, "cmd": ["sh", "-c", IDLE], "labels": {"berth-test": "1"}})),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let (status, hook) = app
        .call(
            Method::POST,
            "/api/webhooks",
            Some(json!({"kind": "container", "target": name, "github": true})),
        )
        .await;
    assert_eq!(status, 201, "{hook}");
    assert_eq!(hook["webhook"]["github"], true);
    let id = hook["id"].as_str().unwrap();
    let secret = hook["secret"].as_str().unwrap();
    let event = r#"{"ref":"refs/heads/main","after":"0123abcd"}"#;
    let post = |headers: Vec<(&'static str, String)>, body: &'static str| {
        let mut req = Client::new()
            .post(app.url(&format!("/api/hooks/{id}?pull=false")))
            .header("content-type", "application/json")
            .body(body);
        for (k, v) in headers {
            req = req.header(k, v);
        }
        async move { req.send().await.unwrap().status().as_u16() }
    };
    // The right signature of this body; the same signature over another body; a wrong key.
    let good = github_signature(secret, event);
    assert_eq!(
        post(vec![("X-Hub-Signature-256", good.clone())], event).await,
        202
    );
    assert_eq!(
        post(vec![("X-Hub-Signature-256", good)], r#"{"ref":"x"}"#).await,
        401
    );
    let forged = github_signature("not-the-secret", event);
    assert_eq!(
        post(vec![("X-Hub-Signature-256", forged)], event).await,
        401
    );
    // GitLab sends the secret itself.
    assert_eq!(
        post(vec![("X-Gitlab-Token", secret.to_owned())], event).await,
        202
    );
    assert_eq!(
        post(vec![("X-Gitlab-Token", "nope".to_owned())], event).await,
        401
    );
    // A hook without "github" has no key to check an HMAC with.
    let (plain, _) = make_hook(&app.client, &app, "container", &name).await;
    let r = Client::new()
        .post(app.url(&format!("/api/hooks/{plain}")))
        .header("X-Hub-Signature-256", github_signature(secret, event))
        .body(event)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    // Let the accepted jobs end before the container goes.
    let (_, jobs) = app.get(&format!("/api/jobs?webhook={id}")).await;
    for j in jobs.as_array().unwrap() {
        app.get(&format!("/api/jobs/{}?wait=60", j["id"].as_str().unwrap()))
            .await;
    }
}

#[tokio::test]
async fn a_stack_hook_pulls_from_a_registry_behind_htpasswd_with_stored_credentials() {
    let mut made = Made::default();
    let registry = TestRegistry::start(true).await;
    let app = TestApp::start().await;
    let (status, reg) = app
        .call(
            Method::POST,
            "/api/registries",
            Some(
                json!({"name": unique("hook-reg"), "url": format!("http://{}", registry.host()),
                        "username": crate::registry_server::USER,
                        "password": crate::registry_server::PASSWORD}),
            ),
        )
        .await;
    assert_eq!(status, 201, "{reg}");
    let repo = format!("{}/berth-it/{}", registry.host(), unique("hookauth"));
    for v in ["v1", "v2"] {
        let image = format!("{repo}:{v}");
        made.images.push(image.clone());
        build(&image, &format!("LABEL berth.it.version={v}"));
        // Pushed through berth with the stored credentials (the docker CLI has none).
        let (status, lines) =
            crate::imgkit::ndjson_json(&app, "/api/images/push", json!({"image": image})).await;
        assert_eq!(status, 200);
        assert!(lines.last().unwrap()["error"].is_null(), "{lines:?}");
    }
    docker_cli(&["rmi", &format!("{repo}:v2")]);
    let stack = make_stack(&app, &mut made, &repo).await;
    let (hook, secret) = make_hook(&app.client, &app, "stack", &stack).await;
    let (status, started) = call(&app, &hook, &secret, "?tag=v2&settle=1").await;
    assert_eq!(status, 202, "{started}");
    let job = wait_job(&app, started["job"].as_str().unwrap(), &secret).await;
    assert_eq!(job["state"], "succeeded", "{job:#}");
    assert_eq!(
        image_of(&format!("{stack}_app_1")).await.0,
        format!("{repo}:v2")
    );
}
