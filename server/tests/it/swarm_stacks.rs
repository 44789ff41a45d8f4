//! Swarm stacks (`POST /api/stacks` with `"mode":"swarm"`, as `docker stack deploy`) on
//! the real three-node cluster of `cargo xtask swarm` (`BERTH_TEST_SWARM`), set up as
//! `swarm_api.rs` does: a replicated and a global service reach every node, a secret of
//! the file reaches the tasks, a redeploy updates only the service that changed, removal
//! leaves nothing; and what the policy or the swarm refuses is refused before anything is
//! made.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use reqwest::{Client, Method};
use serde_json::{json, Value};

use crate::support::*;
use crate::swarm_api::{docker, running, start, Swarm};

const NS: &str = "com.docker.stack.namespace";
const IDLE: &str = r#"["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"]"#;

/// A request whose answer is ndjson progress: status and the parsed lines (or the JSON
/// error as one line).
async fn ndjson_as(c: &Client, url: &str, body: Value) -> (u16, Vec<Value>) {
    let resp = c.post(url).json(&body).send().await.expect("request");
    let status = resp.status().as_u16();
    let text = resp.text().await.expect("body");
    let lines = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|_| Value::String(l.to_owned())))
        .collect();
    (status, lines)
}

/// What the manager has with the stack's namespace label, by kind (`service`,
/// `network`, `secret`, `config`).
fn on_swarm(s: &Swarm, kind: &str, stack: &str) -> Vec<String> {
    let (ok, out) = docker(
        &s.manager(),
        &[
            kind,
            "ls",
            "--filter",
            &format!("label={NS}={stack}"),
            "--format",
            "{{.Name}}",
        ],
    );
    assert!(ok, "{kind} ls: {out}");
    out.lines().map(str::to_owned).collect()
}

/// Nothing of the stack on the manager (a removed network may take a moment to leave the
/// manager's list).
fn nothing_made(s: &Swarm, stack: &str) {
    for kind in ["service", "network", "secret", "config"] {
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut left = on_swarm(s, kind, stack);
        while !left.is_empty() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(500));
            left = on_swarm(s, kind, stack);
        }
        assert_eq!(left, Vec::<String>::new(), "no {kind} of {stack} is left");
    }
}

/// `GET /api/stacks/{name}/tasks` until `pred` holds.
async fn tasks_until(
    app: &TestApp,
    c: &Client,
    stack: &str,
    what: &str,
    pred: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    crate::swarm_api::tasks_at_until(app, c, &format!("/api/stacks/{stack}/tasks"), what, pred)
        .await
}

fn of_service<'a>(tasks: &'a [Value], service: &str) -> Vec<&'a Value> {
    running(tasks)
        .into_iter()
        .filter(|t| t["service"] == service)
        .collect()
}

fn nodes_of(tasks: &[&Value]) -> BTreeSet<String> {
    tasks
        .iter()
        .filter_map(|t| t["node"].as_str().map(str::to_owned))
        .collect()
}

/// The versions of the stack's services, by key, from its detail.
async fn versions(app: &TestApp, stack: &str) -> Vec<(String, u64)> {
    let (status, d) = app.get(&format!("/api/stacks/{stack}")).await;
    assert_eq!(status, 200, "{d}");
    let mut v: Vec<(String, u64)> = d["swarm_services"]
        .as_array()
        .expect("swarm services")
        .iter()
        .map(|s| {
            (
                s["service"].as_str().unwrap().to_owned(),
                s["version"].as_u64().unwrap(),
            )
        })
        .collect();
    v.sort();
    v
}

fn compose(image: &str, stage: &str) -> String {
    format!(
        "services:\n  web:\n    image: {image}\n    command: {IDLE}\n    environment: [STAGE={stage}]\n    \
         secrets: [token]\n    deploy:\n      replicas: 3\n      placement: {{ max_replicas_per_node: 1 }}\n  \
         agent:\n    image: {image}\n    command: {IDLE}\n    deploy: {{ mode: global }}\n\
         secrets:\n  token:\n    file: ./token.txt\n"
    )
}

#[tokio::test]
async fn swarm_stacks_deploy_on_every_node_redeploy_what_changed_and_remove() {
    let (s, app, t, mut clean) = start().await;
    let stack = unique("sst").replace('-', "");
    clean.services = vec![format!("{stack}_web"), format!("{stack}_agent")];
    clean.secrets = vec![format!("{stack}_token")];
    clean.networks = vec![format!("{stack}_default")];
    // The stack's folder on the server (an admin's from_dir), with the secret's file.
    let dir = tempfile::tempdir().expect("a folder");
    let value = format!("token-{}", std::process::id());
    std::fs::write(dir.path().join("token.txt"), &value).unwrap();
    std::fs::write(
        dir.path().join("docker-compose.yml"),
        compose(&s.image(), "one"),
    )
    .unwrap();
    let (status, lines) = ndjson_as(
        &app.client,
        &app.url("/api/stacks"),
        json!({"name": stack, "mode": "swarm", "from_dir": dir.path(), "team": t.red}),
    )
    .await;
    assert_eq!(status, 201, "{lines:#?}");
    assert_eq!(lines.last().unwrap()["step"], "done", "{lines:#?}");
    for want in [
        format!("created network {stack}_default"),
        format!("created secret {stack}_token"),
        format!("created service {stack}_web"),
        format!("created service {stack}_agent"),
    ] {
        assert!(
            lines.iter().any(|l| l["message"] == want.as_str()),
            "{want}: {lines:#?}"
        );
    }

    // Three replicas, one per node, and the global service on all three nodes.
    let all: BTreeSet<String> = (1..=3).map(|k| s.node_name(k)).collect();
    let web = format!("{stack}_web");
    let agent = format!("{stack}_agent");
    let tasks = tasks_until(&app, &t.op_red, &stack, "every task runs", |ts| {
        of_service(ts, &web).len() == 3 && of_service(ts, &agent).len() == 3
    })
    .await;
    assert_eq!(nodes_of(&of_service(&tasks, &web)), all, "{tasks:#?}");
    assert_eq!(nodes_of(&of_service(&tasks, &agent)), all, "{tasks:#?}");
    let task = of_service(&tasks, &web)[0];
    assert!(
        task["name"]
            .as_str()
            .unwrap()
            .starts_with(&format!("{web}.")),
        "{task}"
    );

    // The secret of the file is in the task, read through its node's daemon.
    let node = task["node"].as_str().unwrap();
    let k = (1..=3).find(|k| s.node_name(*k) == node).unwrap();
    let sock = s.sockets()[k - 1].clone();
    let cid = task["container_id"].as_str().expect("a container");
    let (ok, out) = docker(&sock, &["exec", cid, "cat", "/run/secrets/token"]);
    assert!(ok, "{out}");
    assert_eq!(out, value);

    // Listed for its team, with running and desired replicas; not for another team.
    let (status, list) = send(&t.op_red, Method::GET, &app.url("/api/stacks"), None).await;
    assert_eq!(status, 200, "{list}");
    let row = list
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == stack.as_str())
        .cloned()
        .unwrap_or_else(|| panic!("{stack} is listed: {list}"));
    assert_eq!(row["mode"], "swarm", "{row}");
    assert_eq!(row["team"], t.red.as_str(), "{row}");
    assert_eq!(row["status"], "running", "{row}");
    let web_row = row["swarm_services"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["service"] == "web")
        .cloned()
        .expect("web");
    assert_eq!(
        (web_row["running"].as_u64(), web_row["desired"].as_u64()),
        (Some(3), Some(3))
    );
    let (_, theirs) = send(&t.op_blue, Method::GET, &app.url("/api/stacks"), None).await;
    assert!(
        theirs
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["name"] != stack.as_str()),
        "{theirs}"
    );
    for path in ["", "/tasks"] {
        let f = send(
            &t.op_blue,
            Method::GET,
            &app.url(&format!("/api/stacks/{stack}{path}")),
            None,
        )
        .await;
        let m = send(
            &t.op_blue,
            Method::GET,
            &app.url(&format!("/api/stacks/nosuchstack{path}")),
            None,
        )
        .await;
        assert_eq!(
            (f.0.as_u16(), &f.1["error"]["code"]),
            (404, &m.1["error"]["code"]),
            "{path}: {}",
            f.1
        );
    }
    // The detail: mode, file, services.
    let (status, d) = send(
        &t.op_red,
        Method::GET,
        &app.url(&format!("/api/stacks/{stack}")),
        None,
    )
    .await;
    assert_eq!(status, 200, "{d}");
    assert_eq!(d["mode"], "swarm");
    assert!(d["compose"].as_str().unwrap().contains("STAGE=one"), "{d}");
    assert_eq!(d["swarm_services"].as_array().unwrap().len(), 2, "{d}");

    // A Compose action answers what to do instead.
    for (method, path) in [(Method::POST, "/restart"), (Method::POST, "/up")] {
        let got = send(
            &t.op_red,
            method,
            &app.url(&format!("/api/stacks/{stack}{path}")),
            None,
        )
        .await;
        assert_error(&got, 409, "swarm_stack");
        assert!(
            got.1["error"]["message"]
                .as_str()
                .unwrap()
                .contains("PUT /api/stacks/"),
            "{}",
            got.1
        );
    }

    // The same file again changes nothing; one service changed updates that one only.
    let before = versions(&app, &stack).await;
    let (status, body) = send(
        &app.client,
        Method::PUT,
        &app.url(&format!("/api/stacks/{stack}")),
        Some(json!({"compose": compose(&s.image(), "one")})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(versions(&app, &stack).await, before, "nothing changed");
    let (status, body) = send(
        &app.client,
        Method::PUT,
        &app.url(&format!("/api/stacks/{stack}")),
        Some(json!({"compose": compose(&s.image(), "two")})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let after = versions(&app, &stack).await;
    assert_eq!(
        after[0], before[0],
        "agent is not updated: {before:?} {after:?}"
    );
    assert_eq!(after[1].0, "web");
    assert!(
        after[1].1 > before[1].1,
        "web is updated: {before:?} {after:?}"
    );
    let (_, inspect) = app.get(&format!("/api/services/{web}")).await;
    let env = inspect["Spec"]["TaskTemplate"]["ContainerSpec"]["Env"].to_string();
    assert!(env.contains("STAGE=two"), "{env}");
    // A secret's value cannot change in place: a new value asks for a new name.
    std::fs::write(dir.path().join("token.txt"), "another value").unwrap();
    let got = send(
        &app.client,
        Method::PUT,
        &app.url(&format!("/api/stacks/{stack}")),
        Some(json!({"compose": compose(&s.image(), "three")})),
    )
    .await;
    assert_error(&got, 409, "conflict");
    assert!(
        got.1["error"]["message"]
            .as_str()
            .unwrap()
            .contains("new name"),
        "{}",
        got.1
    );
    let (_, d) = app.get(&format!("/api/stacks/{stack}")).await;
    assert!(
        d["compose"].as_str().unwrap().contains("STAGE=two"),
        "the refused file is not kept: {d}"
    );
    let (_, inspect) = app.get(&format!("/api/services/{web}")).await;
    let env = inspect["Spec"]["TaskTemplate"]["ContainerSpec"]["Env"].to_string();
    assert!(!env.contains("STAGE=three"), "nothing was deployed: {env}");

    // Removed: services, then its network and secret.
    let (status, down) = send(
        &t.op_red,
        Method::DELETE,
        &app.url(&format!("/api/stacks/{stack}")),
        None,
    )
    .await;
    assert_eq!(status, 200, "{down}");
    assert_eq!(down["services"].as_array().map(Vec::len), Some(2), "{down}");
    assert_eq!(
        down["networks"],
        json!([format!("{stack}_default")]),
        "{down}"
    );
    assert_eq!(down["secrets"], json!([format!("{stack}_token")]), "{down}");
    nothing_made(&s, &stack);
    // Gone already: the cleanup has nothing to wait for.
    clean.services.clear();
    clean.secrets.clear();
    clean.networks.clear();
    let (status, _) = app.get(&format!("/api/stacks/{stack}")).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn swarm_stacks_refuse_powers_and_keys_before_anything_is_made() {
    let (s, app, t, mut clean) = start().await;
    let image = s.image();
    // Blue's secret, which red's file names as external.
    let blue_secret = unique("sst-blue");
    clean.secrets.push(blue_secret.clone());
    let (status, body) = send(
        &t.op_blue,
        Method::POST,
        &app.url("/api/secrets"),
        Some(json!({"name": blue_secret, "data": "blue only"})),
    )
    .await;
    assert_eq!(status, 201, "{body}");

    let ok_service = format!("  ok:\n    image: {image}\n    command: {IDLE}\n");
    let refused = [
        (
            "privileged",
            format!("  bad:\n    image: {image}\n    privileged: true\n"),
            403,
            "forbidden",
            "privileged",
        ),
        (
            "host bind",
            format!("  bad:\n    image: {image}\n    volumes: [\"/etc:/host\"]\n"),
            403,
            "forbidden",
            "bind",
        ),
        (
            "another team's secret",
            format!(
                "  bad:\n    image: {image}\n    secrets: [theirs]\nsecrets:\n  theirs:\n    external: true\n    name: {blue_secret}\n"
            ),
            404,
            "not_found",
            "not found",
        ),
        (
            "a key the swarm refuses",
            format!("  bad:\n    image: {image}\n    mem_limit: 1g\n"),
            400,
            "invalid_swarm_stack",
            "mem_limit: Set resource limits using deploy.resources",
        ),
        (
            "deploy: replicas of a global service",
            format!("  bad:\n    image: {image}\n    deploy: {{ mode: global, replicas: 2 }}\n"),
            400,
            "invalid_swarm_stack",
            "services.bad.deploy.replicas",
        ),
        (
            "deploy: a restart condition",
            format!(
                "  bad:\n    image: {image}\n    deploy: {{ restart_policy: {{ condition: sometimes }} }}\n"
            ),
            400,
            "invalid_swarm_stack",
            "deploy.restart_policy.condition",
        ),
    ];
    for (what, bad, status, code, words) in refused {
        let stack = unique("sstno").replace('-', "");
        // The file's services are in order: `ok` first, so it would be made first.
        let text = format!("services:\n{ok_service}{bad}");
        let (got, lines) = ndjson_as(
            &t.op_red,
            &app.url("/api/stacks"),
            json!({"name": stack, "mode": "swarm", "compose": text}),
        )
        .await;
        let err = lines.first().cloned().unwrap_or(Value::Null);
        assert_eq!(got, status, "{what}: {lines:#?}");
        assert_eq!(err["error"]["code"], code, "{what}: {err}");
        let message = err["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains(words), "{what}: {message}");
        nothing_made(&s, &stack);
        let (status, _) = send(
            &t.op_red,
            Method::GET,
            &app.url(&format!("/api/stacks/{stack}")),
            None,
        )
        .await;
        assert_eq!(status, 404, "{what}: no files were kept");
    }

    // An unknown mode; a viewer; a daemon that is no manager.
    let text = format!("services:\n{ok_service}");
    let got = send(
        &t.op_red,
        Method::POST,
        &app.url("/api/stacks"),
        Some(json!({"name": unique("sstm"), "mode": "kubernetes", "compose": text})),
    )
    .await;
    assert_error(&got, 400, "invalid_mode");
    let got = send(
        &t.viewer,
        Method::POST,
        &app.url("/api/stacks"),
        Some(json!({"name": unique("sstv"), "mode": "swarm", "compose": text})),
    )
    .await;
    assert_eq!(got.0, 403, "{}", got.1);
    let plain = TestApp::start().await;
    let got = plain
        .call(
            Method::POST,
            "/api/stacks",
            Some(json!({"name": unique("sstp"), "mode": "swarm", "compose": text})),
        )
        .await;
    assert_error(&got, 409, "not_a_swarm_manager");
}

#[tokio::test]
async fn swarm_stacks_and_the_docker_cli_see_each_others_stacks() {
    let (s, app, t, mut clean) = start().await;
    let image = s.image();
    let ours = unique("sstours").replace('-', "");
    let cli = unique("sstcli").replace('-', "");
    clean.services = vec![format!("{ours}_web"), format!("{cli}_app")];
    clean.networks = vec![format!("{ours}_default"), format!("{cli}_default")];
    clean.secrets = vec![format!("{ours}_token")];
    clean.configs = vec![format!("{ours}_conf")];
    // The secret's value from the stack's .env, the config's in the file: an operator's
    // stack from the editor has no folder of files.
    let token = format!("op-token-{}", std::process::id());
    let env = format!("TOKEN={token}\n");
    let text = |replicas: u32, extra: &str| {
        format!(
            "services:\n  web:\n    image: {image}\n    command: {IDLE}\n{extra}    secrets: [token]\n    \
             configs: [{{ source: conf, target: /etc/app.conf }}]\n    deploy: {{ replicas: {replicas} }}\n\
             secrets:\n  token:\n    environment: TOKEN\nconfigs:\n  conf:\n    content: listen-here\n"
        )
    };
    let (status, lines) = ndjson_as(
        &t.op_red,
        &app.url("/api/stacks"),
        json!({"name": ours, "mode": "swarm", "compose": text(1, ""), "env": env}),
    )
    .await;
    assert_eq!(status, 201, "{lines:#?}");
    assert_eq!(lines.last().unwrap()["step"], "done", "{lines:#?}");
    let tasks = tasks_until(&app, &t.op_red, &ours, "the task runs", |ts| {
        of_service(ts, &format!("{ours}_web")).len() == 1
    })
    .await;
    let task = of_service(&tasks, &format!("{ours}_web"))[0].clone();
    let k = (1..=3)
        .find(|k| task["node"] == s.node_name(*k).as_str())
        .unwrap();
    let sock = s.sockets()[k - 1].clone();
    let cid = task["container_id"]
        .as_str()
        .expect("a container")
        .to_owned();
    for (path, want) in [
        ("/run/secrets/token", token.as_str()),
        ("/etc/app.conf", "listen-here"),
    ] {
        let (ok, out) = docker(&sock, &["exec", &cid, "cat", path]);
        assert!(ok, "{out}");
        assert_eq!(out, want, "{path}");
    }
    // The docker CLI sees it as a stack of its own.
    let (ok, out) = docker(&s.manager(), &["stack", "ls", "--format", "{{.Name}}"]);
    assert!(ok && out.lines().any(|l| l == ours), "{out}");
    let (ok, out) = docker(
        &s.manager(),
        &["stack", "services", &ours, "--format", "{{.Name}}"],
    );
    assert!(ok, "{out}");
    assert_eq!(out.trim(), format!("{ours}_web"));

    // The operator's redeploy is judged as the create was: a power is refused and the
    // service is left as it was; a change of replicas is deployed.
    let before = versions(&app, &ours).await;
    let got = send(
        &t.op_red,
        Method::PUT,
        &app.url(&format!("/api/stacks/{ours}")),
        Some(json!({"compose": text(1, "    cap_add: [SYS_ADMIN]\n"), "env": env})),
    )
    .await;
    assert_error(&got, 403, "forbidden");
    assert_eq!(versions(&app, &ours).await, before);
    let (status, d) = send(
        &t.op_red,
        Method::GET,
        &app.url(&format!("/api/stacks/{ours}")),
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert!(
        !d["compose"].as_str().unwrap().contains("cap_add"),
        "the refused file is not kept"
    );
    let (status, d) = send(
        &t.op_red,
        Method::PUT,
        &app.url(&format!("/api/stacks/{ours}")),
        Some(json!({"compose": text(2, ""), "env": env})),
    )
    .await;
    assert_eq!(status, 200, "{d}");
    let updated = d["swarm_services"][0]["version"]
        .as_u64()
        .expect("a version");
    assert!(
        updated > before[0].1,
        "the answer shows the updated service: {d}"
    );
    tasks_until(&app, &t.op_red, &ours, "two replicas run", |ts| {
        of_service(ts, &format!("{ours}_web")).len() == 2
    })
    .await;

    // A service taken out of the file keeps running, unless the redeploy prunes.
    let extra = format!("  extra:\n    image: {image}\n    command: {IDLE}\n");
    let with_extra =
        text(2, "").replacen("secrets:\n  token", &format!("{extra}secrets:\n  token"), 1);
    clean.services.push(format!("{ours}_extra"));
    let keys = |d: &Value| -> Vec<String> {
        let mut k: Vec<String> = d["swarm_services"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["service"].as_str().unwrap().to_owned())
            .collect();
        k.sort();
        k
    };
    for (query, file, want) in [
        ("", &with_extra, vec!["extra", "web"]),
        ("", &text(2, ""), vec!["extra", "web"]),
        ("?prune=true", &text(2, ""), vec!["web"]),
    ] {
        let (status, d) = send(
            &t.op_red,
            Method::PUT,
            &app.url(&format!("/api/stacks/{ours}{query}")),
            Some(json!({"compose": file, "env": env})),
        )
        .await;
        assert_eq!(status, 200, "{d}");
        assert_eq!(keys(&d), want, "PUT{query}: {d}");
    }
    assert_eq!(on_swarm(&s, "service", &ours), vec![format!("{ours}_web")]);

    // A stack the CLI deployed: listed (for admins: it has no team), with its tasks.
    let dir = tempfile::tempdir().expect("a folder");
    let file = dir.path().join("stack.yml");
    std::fs::write(
        &file,
        format!("services:\n  app:\n    image: {image}\n    command: {IDLE}\n"),
    )
    .unwrap();
    let (ok, out) = docker(
        &s.manager(),
        &[
            "stack",
            "deploy",
            "--resolve-image",
            "never",
            "-c",
            file.to_str().unwrap(),
            &cli,
        ],
    );
    assert!(ok, "{out}");
    let (status, list) = app.get("/api/stacks").await;
    assert_eq!(status, 200);
    let row = list
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == cli.as_str())
        .cloned()
        .unwrap_or_else(|| panic!("{cli} is listed: {list}"));
    assert_eq!(
        (row["mode"].as_str(), row["managed"].as_bool()),
        (Some("swarm"), Some(false)),
        "{row}"
    );
    assert_eq!(row["services"], json!(["app"]), "{row}");
    tasks_until(&app, &app.client, &cli, "the CLI's task runs", |ts| {
        of_service(ts, &format!("{cli}_app")).len() == 1
    })
    .await;
    let (status, _) = send(
        &t.op_red,
        Method::GET,
        &app.url(&format!("/api/stacks/{cli}")),
        None,
    )
    .await;
    assert_eq!(status, 404, "a stack without a team is the admins'");

    // Both removed through berth; the CLI sees neither.
    for (c, name) in [(&t.op_red, &ours), (&app.client, &cli)] {
        let (status, down) = send(
            c,
            Method::DELETE,
            &app.url(&format!("/api/stacks/{name}")),
            None,
        )
        .await;
        assert_eq!(status, 200, "{down}");
        nothing_made(&s, name);
    }
    let (ok, out) = docker(&s.manager(), &["stack", "ls", "--format", "{{.Name}}"]);
    assert!(ok && !out.lines().any(|l| l == ours || l == cli), "{out}");
    clean.services.clear();
    clean.networks.clear();
    clean.secrets.clear();
    clean.configs.clear();
}
