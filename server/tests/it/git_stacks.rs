//! Git-backed stacks against a real `git daemon` on 127.0.0.1 and the real daemon: a stack
//! follows commits pushed to a bare repository (only the changed service is recreated), a
//! bad commit keeps the old deployment and is shown with its error, a forced pull repairs
//! drift, a webhook pulls before it redeploys; bad input is a 400 naming the field, and a
//! viewer or another team's operator are refused. Credentials never come back.

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::Duration;

use reqwest::{Client, Method};
use serde_json::{json, Value};

use crate::support::*;

const IDLE: &str = "trap 'exit 0' TERM; while true; do sleep 1; done";

pub(crate) fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args([
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@t",
            "-c",
            "init.defaultBranch=main",
        ])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("git");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// A bare repository served by git-daemon on a free loopback port, a work tree to commit
/// in; the daemon is ended by its pid on drop, the folders with the tempdir.
struct Repo {
    _tmp: tempfile::TempDir,
    work: PathBuf,
    bare: String,
    daemon: Child,
    url: String,
}

impl Drop for Repo {
    fn drop(&mut self) {
        let _ = self.daemon.kill();
        let _ = self.daemon.wait();
    }
}

impl Repo {
    fn start() -> Repo {
        let tmp = tempfile::tempdir().unwrap();
        let base = tmp.path().join("srv");
        std::fs::create_dir(&base).unwrap();
        git(&base, &["init", "--bare", "-q", "app.git"]);
        let work = tmp.path().join("work");
        std::fs::create_dir_all(work.join("deploy")).unwrap();
        git(&work, &["init", "-q"]);
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let exec = git(tmp.path(), &["--exec-path"]);
        // git-daemon itself, not the `git daemon` wrapper (whose child would outlive a kill).
        let daemon = Command::new(Path::new(&exec).join("git-daemon"))
            .args([
                "--reuseaddr",
                "--export-all",
                "--listen=127.0.0.1",
                &format!("--port={port}"),
                &format!("--base-path={}", base.display()),
            ])
            .spawn()
            .expect("git-daemon");
        let bare = base.join("app.git").to_string_lossy().into_owned();
        Repo {
            work,
            bare,
            daemon,
            url: format!("git://127.0.0.1:{port}/app.git"),
            _tmp: tmp,
        }
    }

    /// Commit `compose` as deploy/compose.yml and push it; the commit id.
    fn push(&self, compose: &str, message: &str) -> String {
        std::fs::write(self.work.join("deploy/compose.yml"), compose).unwrap();
        git(&self.work, &["add", "."]);
        git(
            &self.work,
            &["commit", "-q", "--allow-empty", "-m", message],
        );
        git(&self.work, &["push", "-q", &self.bare, "main"]);
        git(&self.work, &["rev-parse", "HEAD"])
    }

    /// Wait until git-daemon answers.
    async fn ready(&self) {
        let addr = self
            .url
            .trim_start_matches("git://")
            .split('/')
            .next()
            .unwrap()
            .to_owned();
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(&addr).await.is_ok() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("git-daemon does not answer on {addr}");
    }
}

pub(crate) fn compose(greeting: &str) -> String {
    format!(
        "services:\n  app:\n    image: {img}\n    command: [\"sh\", \"-c\", \"{IDLE}\"]\n    environment:\n      GREETING: {greeting}\n  other:\n    image: {img}\n    command: [\"sh\", \"-c\", \"{IDLE}\"]\n",
        img = test_image()
    )
}

/// Removes the stack's containers and network on drop (also on failure).
pub(crate) struct Cleanup(pub(crate) String);
impl Drop for Cleanup {
    fn drop(&mut self) {
        let ids = docker_cli_quiet(&[
            "ps",
            "-aq",
            "--filter",
            &format!("label=com.docker.compose.project={}", self.0),
        ]);
        for id in ids.split_whitespace() {
            docker_cli_quiet(&["rm", "-f", id]);
        }
        docker_cli_quiet(&["network", "rm", &format!("{}_default", self.0)]);
    }
}

fn docker_cli_quiet(args: &[&str]) -> String {
    Command::new("docker")
        .args(["-H", &docker_host()])
        .args(args)
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default()
}

pub(crate) async fn container(name: &str) -> (String, Vec<String>) {
    let c = daemon_inspect(name).await;
    let env = c["Config"]["Env"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    (c["Id"].as_str().unwrap_or_default().to_owned(), env)
}

/// Poll the stack's GET until `pred` holds on its `git` (or fail after `secs`).
pub(crate) async fn until(
    app: &TestApp,
    name: &str,
    secs: u64,
    what: &str,
    pred: impl Fn(&Value) -> bool,
) -> Value {
    let mut last = Value::Null;
    for _ in 0..secs * 4 {
        let (s, body) = app.get(&format!("/api/stacks/{name}")).await;
        assert_eq!(s, 200, "{body}");
        if pred(&body["git"]) {
            return body;
        }
        last = body;
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    panic!("{what}: not within {secs} s; last: {:#}", last["git"]);
}

pub(crate) async fn wait_job(c: &Client, app: &TestApp, job: &str) -> Value {
    let (s, j) = send(
        c,
        Method::GET,
        &app.url(&format!("/api/jobs/{job}?wait=120")),
        None,
    )
    .await;
    assert_eq!(s, 200, "{j}");
    assert!(
        j["state"] == "succeeded" || j["state"] == "failed",
        "ended: {j:#}"
    );
    j
}

#[tokio::test]
async fn a_git_stack_follows_pushed_commits_and_keeps_running_through_a_bad_one() {
    let repo = Repo::start();
    let first = repo.push(&compose("one"), "first");
    repo.ready().await;
    let app = TestApp::start().await;
    let name = unique("gitstacks");
    let _clean = Cleanup(name.clone());

    let (s, body) = app
        .call(
            Method::POST,
            "/api/stacks",
            Some(json!({"name": name, "git": {"url": repo.url, "ref": "main", "path": "deploy/compose.yml", "poll_seconds": 5}})),
        )
        .await;
    assert_eq!(s, 201, "{body}");
    assert!(
        body.as_str()
            .unwrap_or_default()
            .contains("\"step\":\"done\""),
        "{body}"
    );
    let (app_id, env) = container(&format!("{name}_app_1")).await;
    assert!(env.contains(&"GREETING=one".to_string()), "{env:?}");
    let (other_id, _) = container(&format!("{name}_other_1")).await;

    let (_, detail) = app.get(&format!("/api/stacks/{name}")).await;
    let g = &detail["git"];
    assert_eq!(g["commit"], first, "{g:#}");
    assert_eq!(g["url"], repo.url);
    assert_eq!(g["ref"], "main");
    assert_eq!(g["path"], "deploy/compose.yml");
    assert_eq!(g["last_result"], "deployed");
    assert_eq!(g["summary"], "first");
    assert!(g["next_poll"].as_i64().is_some(), "{g:#}");
    assert!(detail["compose"]
        .as_str()
        .unwrap()
        .contains("GREETING: one"));

    // A new commit: the poll deploys it, recreating only the service that changed.
    let second = repo.push(&compose("two"), "say two");
    until(&app, &name, 40, "the poll deploys the second commit", |g| {
        g["commit"] == second
    })
    .await;
    let (app_id2, env) = container(&format!("{name}_app_1")).await;
    assert!(env.contains(&"GREETING=two".to_string()), "{env:?}");
    assert_ne!(app_id2, app_id, "the changed service is recreated");
    assert_eq!(
        container(&format!("{name}_other_1")).await.0,
        other_id,
        "the other one is not"
    );

    // A bad commit: the old deployment stays; the error and the commit are shown.
    let bad = repo.push("services:\n  app: [not, a, service\n", "broken file");
    let detail = until(&app, &name, 40, "the bad commit is reported", |g| {
        g["last_result"] == "failed" && g["error_commit"] == bad
    })
    .await;
    let g = &detail["git"];
    assert_eq!(g["commit"], second, "the deployed commit stays: {g:#}");
    assert!(g["error"].as_str().unwrap().contains(&bad[..10]), "{g:#}");
    let (id_now, env) = container(&format!("{name}_app_1")).await;
    assert_eq!(id_now, app_id2);
    assert!(env.contains(&"GREETING=two".to_string()));
    assert_eq!(
        daemon_inspect(&format!("{name}_app_1")).await["State"]["Status"],
        "running"
    );

    // Fixed again; then stop polling and drift: a pull finds nothing new, a forced one
    // brings the removed container back.
    let fixed = repo.push(&compose("two"), "fix the file");
    until(&app, &name, 40, "the fix is deployed", |g| {
        g["commit"] == fixed
    })
    .await;
    let (s, d) = app
        .call(
            Method::PATCH,
            &format!("/api/stacks/{name}/git"),
            Some(json!({"poll_seconds": 0})),
        )
        .await;
    assert_eq!(s, 200, "{d}");
    assert_eq!(d["git"]["poll_seconds"], 0);
    assert!(d["git"]["next_poll"].is_null(), "{d:#}");
    docker_cli_quiet(&["rm", "-f", &format!("{name}_other_1")]);
    let admin = app.client_as("admin", ADMIN_PASSWORD).await;
    let (s, started) = app
        .call(Method::POST, &format!("/api/stacks/{name}/git/pull"), None)
        .await;
    assert_eq!(s, 202, "{started}");
    let j = wait_job(&admin, &app, started["job"].as_str().unwrap()).await;
    assert_eq!(j["state"], "succeeded", "{j:#}");
    let (_, d) = app.get(&format!("/api/stacks/{name}")).await;
    assert_eq!(d["git"]["last_result"], "unchanged", "{d:#}");
    assert_eq!(d["git"]["last_job"], started["job"]);
    let (s, started) = app
        .call(
            Method::POST,
            &format!("/api/stacks/{name}/git/pull"),
            Some(json!({"force": true})),
        )
        .await;
    assert_eq!(s, 202, "{started}");
    let j = wait_job(&admin, &app, started["job"].as_str().unwrap()).await;
    assert_eq!(j["state"], "succeeded", "{j:#}");
    assert_eq!(
        daemon_inspect(&format!("{name}_other_1")).await["State"]["Status"],
        "running"
    );

    // A CI calls the stack's webhook after a push: it pulls first, then redeploys.
    let (s, hook) = app
        .call(
            Method::POST,
            "/api/webhooks",
            Some(json!({"kind": "stack", "target": name})),
        )
        .await;
    assert_eq!(s, 201, "{hook}");
    // The commit also brings a second compose file, deployed later by a PATCH of the path.
    std::fs::write(repo.work.join("deploy/other.yml"), compose("four")).unwrap();
    let third = repo.push(&compose("three"), "say three");
    let r = Client::new()
        .post(app.url(&format!(
            "/api/hooks/{}?pull=false",
            hook["id"].as_str().unwrap()
        )))
        .header("X-Berth-Secret", hook["secret"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    let started: Value = r.json().await.unwrap();
    let j = wait_job(&admin, &app, started["job"].as_str().unwrap()).await;
    assert_eq!(j["state"], "succeeded", "{j:#}");
    let (_, env) = container(&format!("{name}_app_1")).await;
    assert!(env.contains(&"GREETING=three".to_string()), "{env:?}");
    let (_, d) = app.get(&format!("/api/stacks/{name}")).await;
    assert_eq!(d["git"]["commit"], third);

    // Another file of the same commit: the PATCH deploys it at once (forced, since the
    // commit did not change).
    let (s, d) = app
        .call(
            Method::PATCH,
            &format!("/api/stacks/{name}/git"),
            Some(json!({"path": "deploy/other.yml"})),
        )
        .await;
    assert_eq!(s, 200, "{d}");
    let mut env = Vec::new();
    for _ in 0..160 {
        env = container(&format!("{name}_app_1")).await.1;
        if env.contains(&"GREETING=four".to_string()) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert!(
        env.contains(&"GREETING=four".to_string()),
        "the new path's file was not deployed: {env:?}"
    );

    // Removing the stack removes what follows the repository.
    let (s, _) = app
        .call(Method::DELETE, &format!("/api/stacks/{name}"), None)
        .await;
    assert_eq!(s, 200);
    let (s, _) = app
        .call(Method::POST, &format!("/api/stacks/{name}/git/pull"), None)
        .await;
    assert_eq!(s, 404);
    assert!(!app.data_dir().join("git").join(&name).exists());
}

#[tokio::test]
async fn git_stacks_refuse_bad_input_strangers_and_never_show_credentials() {
    let repo = Repo::start();
    repo.push(&compose("one"), "first");
    repo.ready().await;
    let app = TestApp::start().await;
    let name = unique("gitstacks");
    let _clean = Cleanup(name.clone());
    let create = |git: Value| json!({"name": name, "git": git});
    let cases = [
        (
            json!({"url": "ftp://example.com/app.git"}),
            400,
            "unsupported_git_url",
            "https://",
        ),
        (json!({"url": "nothing"}), 400, "invalid_git_url", "git.url"),
        (
            json!({"url": repo.url, "path": "../etc/passwd"}),
            400,
            "invalid_git_path",
            "git.path",
        ),
        (
            json!({"url": repo.url, "ref": "a..b"}),
            400,
            "invalid_git_ref",
            "git.ref",
        ),
        (
            json!({"url": repo.url, "poll_seconds": 1}),
            400,
            "invalid_poll_seconds",
            "git.poll_seconds",
        ),
        (
            json!({"url": repo.url, "ref": "nope"}),
            400,
            "unknown_git_ref",
            "git.ref",
        ),
        (
            json!({"url": repo.url, "path": "missing.yml"}),
            400,
            "missing_compose",
            "git.path",
        ),
        (
            json!({"url": repo.url, "credentials": {"token": "SECRET-TOKEN-1234"}}),
            400,
            "unsupported_git_credentials",
            "git.credentials",
        ),
    ];
    for (git, status, code, names) in cases {
        let got = app
            .call(Method::POST, "/api/stacks", Some(create(git.clone())))
            .await;
        assert_error(&got, status, code);
        let m = got.1["error"]["message"].as_str().unwrap();
        assert!(m.contains(names), "{git}: {m}");
        assert!(!got.1.to_string().contains("SECRET-TOKEN"), "{}", got.1);
    }
    let got = app
        .call(
            Method::POST,
            "/api/stacks",
            Some(json!({"name": name, "compose": "services: {}", "git": {"url": repo.url}})),
        )
        .await;
    assert_error(&got, 400, "invalid_git_stack");
    assert!(
        !app.data_dir().join("git").join(&name).exists(),
        "nothing is kept of a refused stack"
    );

    // An operator of red makes one; a file:// URL is for admins only.
    let t = app.two_teams().await;
    let (s, body) = send(
        &t.op_red,
        Method::POST,
        &app.url("/api/stacks"),
        Some(create(json!({"url": "file:///etc"}))),
    )
    .await;
    assert_eq!(s, 403, "{body}");
    let r = t
        .op_red
        .post(app.url("/api/stacks"))
        .json(&create(
            json!({"url": repo.url, "path": "deploy/compose.yml"}),
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    assert!(r.text().await.unwrap().contains("\"step\":\"done\""));
    let (s, d) = send(
        &t.op_red,
        Method::GET,
        &app.url(&format!("/api/stacks/{name}")),
        None,
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(d["team"], t.red.as_str());
    assert_eq!(d["git"]["has_credentials"], false);
    let pull = app.url(&format!("/api/stacks/{name}/git/pull"));
    let patch = app.url(&format!("/api/stacks/{name}/git"));
    let (s, _) = send(
        &t.viewer,
        Method::GET,
        &app.url(&format!("/api/stacks/{name}")),
        None,
    )
    .await;
    assert_eq!(s, 200, "a viewer of red sees it");
    let (s, _) = send(&t.viewer, Method::POST, &pull, None).await;
    assert_eq!(s, 403, "a viewer may not pull");
    let (s, _) = send(
        &t.viewer,
        Method::PATCH,
        &patch,
        Some(json!({"poll_seconds": 60})),
    )
    .await;
    assert_eq!(s, 403, "a viewer may not change it");
    for (m, url) in [
        (Method::GET, app.url(&format!("/api/stacks/{name}"))),
        (Method::POST, pull.clone()),
    ] {
        let (s, _) = send(&t.op_blue, m, &url, None).await;
        assert_eq!(s, 404, "another team's operator does not see it");
    }
    let (s, _) = send(
        &t.op_blue,
        Method::PATCH,
        &patch,
        Some(json!({"poll_seconds": 60})),
    )
    .await;
    assert_eq!(s, 404);
    let (s, d) = send(
        &t.op_red,
        Method::PATCH,
        &patch,
        Some(json!({"ref": "nope"})),
    )
    .await;
    assert_eq!(s, 400, "{d}");
    assert!(
        d["error"]["message"].as_str().unwrap().contains("git.ref"),
        "{d}"
    );
    let (s, d) = send(
        &t.op_red,
        Method::PATCH,
        &patch,
        Some(json!({"credentials": {"ssh_key": "SECRET-KEY-5678"}})),
    )
    .await;
    assert_eq!(s, 400, "{d}");
    assert!(!d.to_string().contains("SECRET-KEY"), "{d}");
    let (s, d) = send(
        &t.op_red,
        Method::PATCH,
        &patch,
        Some(json!({"poll_seconds": 60})),
    )
    .await;
    assert_eq!(s, 200, "{d}");
    assert_eq!(d["git"]["poll_seconds"], 60);
    assert!(d["git"]["next_poll"].as_i64().is_some());
    let (s, _) = send(
        &t.op_red,
        Method::DELETE,
        &app.url(&format!("/api/stacks/{name}")),
        None,
    )
    .await;
    assert_eq!(s, 200);
}
