//! Each built-in template deployed from the images `cargo xtask test` makes from Debian
//! packages under the templates' own names (`redis:7`, `nginx:stable`, ... see
//! xtask/src/app_images.rs; nothing is pulled), and its service answering. Jenkins and GitLab
//! CE have no Debian package: their templates are marked unavailable, checked here.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{json, Value};

use crate::stacks::{assert_done, ndjson};
use crate::support::*;
use crate::templates::Made;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Deploy built-in `id` as stack `name` with these variables, as admin; the progress ends done.
async fn deploy(app: &TestApp, made: &mut Made, id: &str, name: &str, vars: Value) {
    made.stacks.push(name.to_owned());
    let (status, lines) = ndjson(
        app,
        Method::POST,
        &format!("/api/templates/{id}/deploy"),
        Some(json!({"name": name, "variables": vars})),
    )
    .await;
    assert_eq!(
        status, 201,
        "{id}: {lines:#?} (images missing? run `cargo xtask template-images`)"
    );
    assert_done(&lines);
}

/// The containers of one service of a stack.
fn service(stack: &str, svc: &str) -> Vec<String> {
    docker_cli(&[
        "ps",
        "-aq",
        "--filter",
        &format!("label=com.docker.compose.project={stack}"),
        "--filter",
        &format!("label=com.docker.compose.service={svc}"),
    ])
    .split_whitespace()
    .map(str::to_owned)
    .collect()
}

/// Wait until `check` gives Some, or fail with what it last saw.
async fn until<T>(what: &str, within: u64, mut check: impl FnMut() -> Result<T, String>) -> T {
    let deadline = Instant::now() + Duration::from_secs(within);
    loop {
        match check() {
            Ok(v) => return v,
            Err(last) if Instant::now() > deadline => panic!("{what}: {last}"),
            Err(_) => tokio::time::sleep(Duration::from_millis(500)).await,
        }
    }
}

fn docker_out(args: &[&str]) -> Result<String, String> {
    let out = std::process::Command::new("docker")
        .args(["-H", &docker_host()])
        .args(args)
        .output()
        .map_err(|e| e.to_string())?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if out.status.success() {
        Ok(text)
    } else {
        Err(text)
    }
}

/// The logs of a run-once service after it exited 0.
async fn run_output(stack: &str, svc: &str) -> String {
    until(&format!("{stack}/{svc} exits 0"), 120, || {
        let id = service(stack, svc).pop().ok_or("no container")?;
        let state = docker_out(&[
            "inspect",
            "-f",
            "{{.State.Status}} {{.State.ExitCode}}",
            &id,
        ])?;
        if state.trim() == "exited 0" {
            docker_out(&["logs", &id])
        } else {
            Err(state)
        }
    })
    .await
}

#[tokio::test]
async fn builtin_python_runner_runs_python() {
    let app = TestApp::start().await;
    let mut made = Made::default();
    let name = unique("templates-py").replace('-', "_");
    let cmd = "python3 -c 'import sys; print(\"py\", 6 * 7, sys.version_info[0])'";
    deploy(
        &app,
        &mut made,
        "berth-python",
        &name,
        json!({"COMMAND": cmd}),
    )
    .await;
    let out = run_output(&name, "run").await;
    assert!(out.contains("py 42 3"), "{out}");
}

#[tokio::test]
async fn builtin_gcc_runner_compiles_and_runs_c() {
    let app = TestApp::start().await;
    let mut made = Made::default();
    let name = unique("templates-gcc").replace('-', "_");
    let cmd = "printf '#include <stdio.h>\\nint main(void){puts(6*7 == 42 ? \"compiled 42\" : \"bad\");return 0;}\\n' > main.c && gcc main.c -o main && ./main";
    deploy(&app, &mut made, "berth-gcc", &name, json!({"COMMAND": cmd})).await;
    let out = run_output(&name, "run").await;
    assert!(out.contains("compiled 42"), "{out}");
}

#[tokio::test]
async fn builtin_nginx_autoindex_lists_a_host_folder() {
    let app = TestApp::start().await;
    let mut made = Made::default();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("notes-from-templates.txt"), "hello").unwrap();
    let port = free_port();
    let name = unique("templates-nginx").replace('-', "_");
    let folder = dir.path().to_str().unwrap();
    let vars = json!({"FOLDER": folder, "PORT": port.to_string()});
    deploy(&app, &mut made, "berth-nginx-autoindex", &name, vars).await;
    let url = format!("http://127.0.0.1:{port}/");
    let page = poll_http(&url, |b| b.contains("notes-from-templates.txt")).await;
    assert!(page.contains("Index of /"), "{page}");
    let file = poll_http(&format!("{url}notes-from-templates.txt"), |b| b == "hello").await;
    assert_eq!(file, "hello");
}

/// GET `url` until the body satisfies `ok` (60 s).
async fn poll_http(url: &str, ok: impl Fn(&str) -> bool) -> String {
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut last = String::new();
    while Instant::now() < deadline {
        if let Ok(r) = client.get(url).send().await {
            last = r.text().await.unwrap_or_default();
            if ok(&last) {
                return last;
            }
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    panic!("{url} never answered as expected; last: {last}");
}

#[tokio::test]
async fn builtin_redis_cluster_is_created_with_six_nodes() {
    let app = TestApp::start().await;
    let mut made = Made::default();
    let name = unique("templates-redis").replace('-', "_");
    let vars = json!({"PORT": free_port().to_string()});
    deploy(&app, &mut made, "berth-redis-cluster", &name, vars).await;
    run_output(&name, "create").await;
    let node = service(&name, "redis-1").pop().expect("redis-1");
    let info = until("cluster_state:ok", 60, || {
        let info = docker_out(&["exec", &node, "redis-cli", "cluster", "info"])?;
        if info.contains("cluster_state:ok") {
            Ok(info)
        } else {
            Err(info)
        }
    })
    .await;
    assert!(info.contains("cluster_known_nodes:6"), "{info}");
    // A key written through one node is read back through the cluster.
    let set = docker_out(&[
        "exec",
        &node,
        "redis-cli",
        "-c",
        "set",
        "berth",
        "templates",
    ])
    .unwrap();
    assert!(set.contains("OK"), "{set}");
    let other = service(&name, "redis-4").pop().expect("redis-4");
    let got = docker_out(&["exec", &other, "redis-cli", "-c", "get", "berth"]).unwrap();
    assert!(got.contains("templates"), "{got}");
}

#[tokio::test]
async fn builtin_haproxy_balances_over_the_web_replicas() {
    let app = TestApp::start().await;
    let mut made = Made::default();
    let port = free_port();
    let name = unique("templates-haproxy").replace('-', "_");
    let vars = json!({"PORT": port.to_string(), "REPLICAS": "3"});
    deploy(&app, &mut made, "berth-haproxy", &name, vars).await;
    assert_eq!(service(&name, "web").len(), 3, "three replicas");
    let url = format!("http://127.0.0.1:{port}/");
    poll_http(&url, |b| !b.trim().is_empty() && !b.contains("503")).await;
    let client = reqwest::Client::new();
    let mut seen = std::collections::BTreeSet::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while seen.len() < 3 && Instant::now() < deadline {
        if let Ok(r) = client.get(&url).send().await {
            if r.status() == 200 {
                seen.insert(r.text().await.unwrap_or_default().trim().to_owned());
            }
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(seen.len(), 3, "answers from every replica: {seen:?}");
}

#[tokio::test]
async fn builtin_registry_takes_a_push_with_its_htpasswd_login() {
    let app = TestApp::start().await;
    let mut made = Made::default();
    let port = free_port();
    let name = unique("templates-registry").replace('-', "_");
    let vars = json!({"PORT": port.to_string(), "USER": "ci", "PASSWORD": "s3cret-pw"});
    deploy(&app, &mut made, "berth-registry", &name, vars).await;
    let url = format!("http://127.0.0.1:{port}/v2/");
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    let anon = loop {
        match client.get(&url).send().await {
            Ok(r) => break r.status().as_u16(),
            Err(e) if Instant::now() > deadline => panic!("{url}: {e}"),
            Err(_) => tokio::time::sleep(Duration::from_millis(500)).await,
        }
    };
    assert_eq!(anon, 401, "no login, no registry");
    let authed = client
        .get(&url)
        .basic_auth("ci", Some("s3cret-pw"))
        .send()
        .await
        .unwrap();
    assert_eq!(authed.status(), 200);
    // The docker CLI logs in (its own config dir, not the machine's) and pushes.
    let cfg = tempfile::tempdir().unwrap();
    let cfg = cfg.path().to_str().unwrap().to_owned();
    let host = format!("127.0.0.1:{port}");
    let tag = format!("{host}/templates-push:1");
    docker_cli(&[
        "--config",
        &cfg,
        "login",
        &host,
        "-u",
        "ci",
        "-p",
        "s3cret-pw",
    ]);
    docker_cli(&["tag", &test_image(), &tag]);
    let pushed = docker_out(&["--config", &cfg, "push", &tag]);
    let _ = docker_out(&["rmi", &tag]);
    let pushed = pushed.unwrap();
    assert!(pushed.contains("digest: sha256:"), "{pushed}");
    let tags = client
        .get(format!("http://{host}/v2/templates-push/tags/list"))
        .basic_auth("ci", Some("s3cret-pw"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(tags.contains("\"1\""), "{tags}");
}

#[tokio::test]
async fn builtin_mysql_answers_a_query() {
    let app = TestApp::start().await;
    let mut made = Made::default();
    let name = unique("templates-mysql").replace('-', "_");
    let vars = json!({"ROOT_PASSWORD": "root-pw-1", "PORT": free_port().to_string()});
    deploy(&app, &mut made, "berth-mysql", &name, vars).await;
    let id = service(&name, "mysql").pop().expect("the mysql container");
    let out = until("mysql answers", 120, || {
        docker_out(&[
            "exec",
            &id,
            "mariadb",
            "-h",
            "127.0.0.1",
            "--protocol=tcp",
            "-uroot",
            "-proot-pw-1",
            "-N",
            "-e",
            "SELECT 6*7",
        ])
    })
    .await;
    assert_eq!(out.trim(), "42");
}

#[tokio::test]
async fn jenkins_and_gitlab_are_marked_as_needing_their_upstream_images() {
    let app = TestApp::start().await;
    for id in ["berth-jenkins", "berth-gitlab-ce"] {
        let (status, t) = app.get(&format!("/api/templates/{id}")).await;
        assert_eq!(status, 200, "{t}");
        let why = t["unavailable"].as_str().unwrap_or_default();
        assert!(
            why.contains("upstream") && why.contains("Debian"),
            "{id}: {t}"
        );
    }
    let (_, t) = app.get("/api/templates/berth-mysql").await;
    assert!(t["unavailable"].is_null(), "{t}");
}
