//! berth's Swarm routes against the real three-node cluster of `cargo xtask swarm`
//! (`BERTH_TEST_SWARM`): berth runs with the manager's socket as its `local` environment.
//! Services are made as an operator would make them, reached on a node's address, scaled
//! over the nodes, updated and rolled back; their logs followed; secrets and configs
//! mounted; and another team's operator, a viewer and host powers refused, through
//! `/api/services` and through the docker CLI on berth's Docker API.

use std::io::{Read, Write};
use std::process::Command;
use std::time::{Duration, Instant};

use futures::StreamExt;
use reqwest::{Client, Method};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

use crate::support::*;

pub(crate) struct Swarm(Value);

pub(crate) fn swarm() -> Swarm {
    let path = std::env::var("BERTH_TEST_SWARM").expect(
        "BERTH_TEST_SWARM is not set: run the tests with `cargo xtask test`, or start a \
         cluster with `cargo xtask swarm --index 2` and set BERTH_TEST_SWARM=/tmp/bs2/swarm.json",
    );
    Swarm(serde_json::from_str(&std::fs::read_to_string(path).expect("swarm.json")).expect("json"))
}

impl Swarm {
    /// Node `k` (1 is the manager) as `swarm.json` describes it.
    pub(crate) fn node(&self, k: usize) -> &Value {
        &self.0["nodes"][k - 1]
    }
    pub(crate) fn manager(&self) -> String {
        self.0["manager"].as_str().expect("manager").to_owned()
    }
    pub(crate) fn image(&self) -> String {
        self.0["image"].as_str().expect("image").to_owned()
    }
    pub(crate) fn sockets(&self) -> Vec<String> {
        self.0["nodes"]
            .as_array()
            .expect("nodes")
            .iter()
            .map(|n| n["unix"].as_str().expect("unix").to_owned())
            .collect()
    }
    pub(crate) fn node_name(&self, k: usize) -> String {
        self.0["nodes"][k - 1]["name"]
            .as_str()
            .expect("name")
            .to_owned()
    }
    pub(crate) fn addr_of(&self, hostname: &str) -> String {
        self.0["nodes"]
            .as_array()
            .expect("nodes")
            .iter()
            .find(|n| n["name"] == hostname)
            .and_then(|n| n["addr"].as_str())
            .unwrap_or_else(|| panic!("no node {hostname}"))
            .to_owned()
    }
    pub(crate) fn addr(&self, k: usize) -> String {
        self.0["nodes"][k - 1]["addr"]
            .as_str()
            .expect("addr")
            .to_owned()
    }
}

pub(crate) fn docker(host: &str, args: &[&str]) -> (bool, String) {
    let out = Command::new("docker")
        .arg("-H")
        .arg(host)
        .args(args)
        .output()
        .expect("run docker");
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// Removes what a test made on the cluster, also on failure.
#[derive(Default)]
pub(crate) struct Cleanup {
    pub(crate) manager: String,
    pub(crate) services: Vec<String>,
    pub(crate) secrets: Vec<String>,
    pub(crate) configs: Vec<String>,
    pub(crate) networks: Vec<String>,
    /// (node socket, tag) made on a node.
    pub(crate) tags: Vec<(String, String)>,
    /// The cluster shared with the other swarm tests (see `support::SWARM`), held until
    /// the clean-up above is done.
    pub(crate) _shared: Option<tokio::sync::RwLockReadGuard<'static, ()>>,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        for s in &self.services {
            docker(&self.manager, &["service", "rm", s]);
        }
        // Secrets, configs and networks are free once the tasks are gone.
        let deadline = Instant::now() + Duration::from_secs(60);
        for (kind, names) in [
            ("secret", &self.secrets),
            ("config", &self.configs),
            ("network", &self.networks),
        ] {
            for n in names {
                while !docker(&self.manager, &[kind, "rm", n]).0 && Instant::now() < deadline {
                    std::thread::sleep(Duration::from_millis(500));
                }
            }
        }
        for (sock, tag) in &self.tags {
            docker(sock, &["rmi", "-f", tag]);
        }
    }
}

/// berth on the manager's socket, logged in as admin, and two teams' users.
pub(crate) async fn start() -> (Swarm, TestApp, TwoTeams, Cleanup) {
    let s = swarm();
    let app = TestApp::spawn(&s.manager()).await;
    app.login("admin", ADMIN_PASSWORD).await;
    let teams = app.two_teams().await;
    let mut clean = Cleanup::default();
    clean.manager = s.manager();
    clean._shared = Some(SWARM.read().await);
    (s, app, teams, clean)
}

pub(crate) async fn create_service(app: &TestApp, c: &Client, body: Value) -> String {
    let (status, created) = send(c, Method::POST, &app.url("/api/services"), Some(body)).await;
    assert_eq!(status, 201, "service create: {created}");
    created["id"].as_str().expect("an id").to_owned()
}

/// The service's tasks, until `pred` holds for them.
pub(crate) async fn tasks_until(
    app: &TestApp,
    c: &Client,
    id: &str,
    what: &str,
    pred: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    tasks_at_until(app, c, &format!("/api/services/{id}/tasks"), what, pred).await
}

/// The tasks a route lists (a service's or a stack's), until `pred` holds for them.
pub(crate) async fn tasks_at_until(
    app: &TestApp,
    c: &Client,
    path: &str,
    what: &str,
    pred: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let (status, tasks) = send(c, Method::GET, &app.url(path), None).await;
        assert_eq!(status, 200, "{tasks}");
        let tasks = tasks.as_array().cloned().unwrap_or_default();
        if pred(&tasks) {
            return tasks;
        }
        assert!(Instant::now() < deadline, "{what}: {tasks:#?}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

pub(crate) fn running(tasks: &[Value]) -> Vec<&Value> {
    tasks
        .iter()
        .filter(|t| t["state"] == "running" && t["desired_state"] == "running")
        .collect()
}

/// `GET /passwd` of busybox httpd at addr:port, straight from this machine to a node.
fn http_get(addr: &str, port: u64) -> String {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let got = (|| -> std::io::Result<String> {
            let mut s = std::net::TcpStream::connect_timeout(
                &format!("{addr}:{port}").parse().unwrap(),
                Duration::from_secs(3),
            )?;
            s.set_read_timeout(Some(Duration::from_secs(5)))?;
            s.write_all(b"GET /passwd HTTP/1.0\r\n\r\n")?;
            let mut out = String::new();
            s.read_to_string(&mut out)?;
            Ok(out)
        })();
        match got {
            Ok(text) if text.contains("root:x:0:0") => return text,
            other => assert!(
                Instant::now() < deadline,
                "no answer from {addr}:{port}: {other:?}"
            ),
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

#[tokio::test]
async fn swarm_api_service_published_scaled_updated_and_rolled_back() {
    let (s, app, t, mut clean) = start().await;
    // A second tag of the test image on every node, to update to.
    let v2 = format!("{}-v2-{}", s.image(), std::process::id()).replace(":latest-", ":");
    for sock in s.sockets() {
        let (ok, out) = docker(&sock, &["tag", &s.image(), &v2]);
        assert!(ok, "{out}");
        clean.tags.push((sock, v2.clone()));
    }
    let name = unique("swarm-web");
    clean.services.push(name.clone());
    // Published in host mode: each node with a task answers on the port itself. (The
    // ingress routing mesh needs the kernel's IPVS, which the test machine may lack.)
    let port = 30000 + u64::from(std::process::id() % 2000);
    let id = create_service(
        &app,
        &t.op_red,
        json!({
            "name": name, "image": s.image(), "replicas": 1,
            "cmd": ["httpd", "-f", "-p", "8080", "-h", "/etc"],
            "env": ["STAGE=one"],
            "ports": [{"target": 8080, "published": port, "mode": "host"}],
        }),
    )
    .await;
    let tasks = tasks_until(&app, &t.op_red, &id, "one task runs", |ts| {
        running(ts).len() == 1
    })
    .await;
    let node = running(&tasks)[0]["node"].as_str().unwrap().to_owned();
    http_get(&s.addr_of(&node), port);

    let (status, list) = send(&t.op_red, Method::GET, &app.url("/api/services"), None).await;
    assert_eq!(status, 200);
    let row = list
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == id)
        .cloned()
        .expect("the service is listed for its team");
    assert_eq!(row["team"], t.red, "{row}");
    assert_eq!(row["mode"], "replicated");
    assert_eq!(row["ports"][0]["published"], port, "{row}");
    // The other team does not see it.
    let (_, theirs) = send(&t.op_blue, Method::GET, &app.url("/api/services"), None).await;
    assert!(
        theirs.as_array().unwrap().iter().all(|r| r["id"] != id),
        "{theirs}"
    );

    // Scale to 3: one task per node (a host port is taken once per node), each answering.
    let (status, body) = send(
        &t.op_red,
        Method::POST,
        &app.url(&format!("/api/services/{id}/scale")),
        Some(json!({"replicas": 3})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let tasks = tasks_until(&app, &t.op_red, &id, "three tasks run", |ts| {
        running(ts).len() == 3
    })
    .await;
    let nodes: std::collections::BTreeSet<String> = running(&tasks)
        .iter()
        .map(|t| t["node"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(nodes.len(), 3, "tasks spread over the nodes: {tasks:#?}");
    for k in 1..=3 {
        http_get(&s.addr(k), port);
    }

    // Update the image and the environment: a rolling update to the new tag.
    let (status, body) = send(
        &t.op_red,
        Method::POST,
        &app.url(&format!("/api/services/{id}/update")),
        Some(json!({"image": v2, "env": ["STAGE=two"]})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    tasks_until(
        &app,
        &t.op_red,
        &id,
        "three tasks run the new image",
        |ts| {
            let r = running(ts);
            r.len() == 3 && r.iter().all(|t| t["image"] == v2.as_str())
        },
    )
    .await;
    let (_, inspect) = send(
        &t.op_red,
        Method::GET,
        &app.url(&format!("/api/services/{id}")),
        None,
    )
    .await;
    let c = &inspect["Spec"]["TaskTemplate"]["ContainerSpec"];
    assert_eq!(c["Env"], json!(["STAGE=two"]), "{inspect}");
    assert_eq!(c["Labels"]["berth.team"], t.red, "tasks carry the team");
    http_get(&s.addr(2), port);

    // Roll back: the previous image and environment again.
    let (status, body) = send(
        &t.op_red,
        Method::POST,
        &app.url(&format!("/api/services/{id}/rollback")),
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    tasks_until(
        &app,
        &t.op_red,
        &id,
        "three tasks run the old image",
        |ts| {
            let r = running(ts);
            r.len() == 3 && r.iter().all(|t| t["image"] == s.image().as_str())
        },
    )
    .await;
    let (_, inspect) = send(
        &t.op_red,
        Method::GET,
        &app.url(&format!("/api/services/{id}")),
        None,
    )
    .await;
    assert_eq!(
        inspect["Spec"]["TaskTemplate"]["ContainerSpec"]["Env"],
        json!(["STAGE=one"]),
        "{inspect}"
    );

    let (status, _) = send(
        &t.op_red,
        Method::DELETE,
        &app.url(&format!("/api/services/{id}")),
        None,
    )
    .await;
    assert_eq!(status, 204);
}

#[tokio::test]
async fn swarm_api_secrets_and_configs_reach_the_tasks_and_logs_follow() {
    let (_s, app, t, mut clean) = start().await;
    let s = swarm();
    let secret = unique("swarm-secret");
    let config = unique("swarm-config");
    clean.secrets.push(secret.clone());
    clean.configs.push(config.clone());
    let value = format!("s3cret-{}", std::process::id());
    let conf = format!("listen-{}", std::process::id());
    for (path, name, data) in [
        ("/api/secrets", &secret, &value),
        ("/api/configs", &config, &conf),
    ] {
        let (status, body) = send(
            &t.op_red,
            Method::POST,
            &app.url(path),
            Some(json!({"name": name, "data": data})),
        )
        .await;
        assert_eq!(status, 201, "{path}: {body}");
        let (status, list) = send(&t.op_red, Method::GET, &app.url(path), None).await;
        assert_eq!(status, 200);
        let text = list.to_string();
        assert!(text.contains(name.as_str()), "{list}");
        assert!(
            !text.contains(data.as_str()),
            "the value is never returned: {list}"
        );
        let (_, other) = send(&t.op_blue, Method::GET, &app.url(path), None).await;
        assert!(!other.to_string().contains(name.as_str()), "{other}");
    }
    let name = unique("swarm-logs");
    clean.services.push(name.clone());
    let script = format!(
        "echo secret=$(cat /run/secrets/{secret}); echo config=$(cat /etc/app.conf); \
         i=0; while true; do i=$((i+1)); echo tick-$i; sleep 1; done"
    );
    let id = create_service(
        &app,
        &t.op_red,
        json!({
            "name": name, "image": s.image(), "replicas": 1,
            "cmd": ["sh", "-c", script],
            "secrets": [{"name": secret}],
            "configs": [{"name": config, "target": "/etc/app.conf"}],
        }),
    )
    .await;
    let tasks = tasks_until(&app, &t.op_red, &id, "the task runs", |ts| {
        running(ts).len() == 1
    })
    .await;
    let task_id = running(&tasks)[0]["id"].as_str().unwrap().to_owned();

    let cookie = app
        .cookie_header(&format!("{}-op", t.red), USER_PASSWORD)
        .await;
    let mut ws = ws_with_cookie(&app, &cookie, &format!("/api/services/{id}/logs/ws"))
        .await
        .expect("the logs socket opens");
    let mut seen: Vec<Value> = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    let want = |seen: &[Value]| {
        let lines: Vec<&str> = seen.iter().filter_map(|l| l["line"].as_str()).collect();
        lines.contains(&format!("secret={value}").as_str())
            && lines.contains(&format!("config={conf}").as_str())
            && lines.iter().filter(|l| l.starts_with("tick-")).count() >= 3
    };
    while !want(&seen) {
        assert!(Instant::now() < deadline, "service logs: {seen:#?}");
        let msg = tokio::time::timeout(Duration::from_secs(30), ws.next())
            .await
            .expect("a frame")
            .expect("open")
            .expect("a message");
        if let Message::Text(text) = msg {
            if let Value::Array(items) = serde_json::from_str(&text).unwrap() {
                seen.extend(items);
            }
        }
    }
    let tick = seen
        .iter()
        .find(|l| l["line"].as_str().is_some_and(|l| l.starts_with("tick-")))
        .unwrap();
    assert_eq!(
        tick["task"],
        task_id.as_str(),
        "each line names its task: {tick}"
    );
    assert!(
        tick["node"].as_str().is_some_and(|n| !n.is_empty()),
        "{tick}"
    );
    // Another team's operator gets the socket refused exactly as for a missing service.
    let (_, me) = send(&t.op_blue, Method::GET, &app.url("/api/auth/me"), None).await;
    let blue = app
        .cookie_header(me["username"].as_str().unwrap(), USER_PASSWORD)
        .await;
    let foreign = ws_with_cookie(&app, &blue, &format!("/api/services/{id}/logs/ws"))
        .await
        .err();
    let missing = ws_with_cookie(&app, &blue, "/api/services/nosuchservice/logs/ws")
        .await
        .err();
    assert_eq!(foreign, Some(404));
    assert_eq!(foreign, missing);

    // In use: removing the secret is a conflict until the service is gone.
    let (status, body) = send(
        &t.op_red,
        Method::DELETE,
        &app.url(&format!("/api/secrets/{secret}")),
        None,
    )
    .await;
    assert_eq!(status, 409, "{body}");
    let (status, _) = send(
        &t.op_red,
        Method::DELETE,
        &app.url(&format!("/api/services/{id}")),
        None,
    )
    .await;
    assert_eq!(status, 204);
}

#[tokio::test]
async fn swarm_api_another_team_a_viewer_and_host_powers_are_refused() {
    let (s, app, t, mut clean) = start().await;
    // Red's overlay network, secret and service.
    let net = unique("swarm-net");
    clean.networks.push(net.clone());
    let (status, body) = send(
        &t.op_red,
        Method::POST,
        &app.url("/api/networks"),
        Some(json!({"name": net, "driver": "overlay"})),
    )
    .await;
    assert_eq!(status, 201, "an operator makes an overlay network: {body}");
    let secret = unique("swarm-red-secret");
    clean.secrets.push(secret.clone());
    let (status, body) = send(
        &t.op_red,
        Method::POST,
        &app.url("/api/secrets"),
        Some(json!({"name": secret, "data": "red only"})),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let name = unique("swarm-red");
    clean.services.push(name.clone());
    let id = create_service(
        &app,
        &t.op_red,
        json!({
            "name": name, "image": s.image(),
            "cmd": ["sleep", "3600"], "networks": [net], "secrets": [{"name": secret}],
        }),
    )
    .await;

    // Blue: red's service answers as a missing one, on every route.
    let missing = "swarm-nosuchservice";
    for (method, path, body) in [
        (Method::GET, "", None),
        (Method::GET, "/tasks", None),
        (Method::POST, "/update", Some(json!({"env": ["A=1"]}))),
        (Method::POST, "/scale", Some(json!({"replicas": 2}))),
        (Method::POST, "/rollback", None),
        (Method::DELETE, "", None),
    ] {
        let f = send(
            &t.op_blue,
            method.clone(),
            &app.url(&format!("/api/services/{id}{path}")),
            body.clone(),
        )
        .await;
        let m = send(
            &t.op_blue,
            method.clone(),
            &app.url(&format!("/api/services/{missing}{path}")),
            body,
        )
        .await;
        assert_eq!(f.0, 404, "{method} {path}: {}", f.1);
        assert_eq!(
            f.1["error"]["code"], m.1["error"]["code"],
            "{method} {path}"
        );
    }
    // ... nor may blue mount red's secret or join red's network.
    let blue_svc = unique("swarm-blue");
    clean.services.push(blue_svc.clone());
    for (field, value, nothere) in [
        (
            "secrets",
            json!([{"name": secret}]),
            json!([{"name": "swarm-nosuchsecret"}]),
        ),
        ("networks", json!([net]), json!(["swarm-nosuchnet"])),
    ] {
        let mut body = json!({"name": blue_svc, "image": s.image(), "cmd": ["sleep", "60"]});
        body[field] = value;
        let f = send(
            &t.op_blue,
            Method::POST,
            &app.url("/api/services"),
            Some(body.clone()),
        )
        .await;
        body[field] = nothere;
        let m = send(
            &t.op_blue,
            Method::POST,
            &app.url("/api/services"),
            Some(body),
        )
        .await;
        assert_eq!(f.0, 404, "{field}: {}", f.1);
        assert_eq!(f.0, m.0, "{field}");
        let (fm, mm) = (
            f.1["error"]["message"].as_str().unwrap(),
            m.1["error"]["message"].as_str().unwrap(),
        );
        assert!(
            !fm.contains("another team") && fm.contains("not found"),
            "{fm} / {mm}"
        );
    }
    let (status, secrets) = send(
        &t.op_blue,
        Method::DELETE,
        &app.url(&format!("/api/secrets/{secret}")),
        None,
    )
    .await;
    assert_eq!(status, 404, "{secrets}");

    // Host powers: a bind mount of a host folder, added capabilities, at create and at
    // update of one's own service.
    for (power, extra) in [
        (
            "bind",
            json!({"mounts": [{"type": "bind", "source": "/etc", "target": "/host"}]}),
        ),
        ("capabilities", json!({"cap_add": ["CAP_SYS_ADMIN"]})),
        ("privileged", json!({"privileged": true})),
    ] {
        let mut body =
            json!({"name": unique("swarm-power"), "image": s.image(), "cmd": ["sleep", "60"]});
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        let got = send(
            &t.op_red,
            Method::POST,
            &app.url("/api/services"),
            Some(body),
        )
        .await;
        assert_error(&got, 403, "forbidden");
        assert!(
            got.1["error"]["message"].as_str().unwrap().contains(power),
            "the refusal names the power: {}",
            got.1
        );
    }
    let got = send(
        &t.op_red,
        Method::POST,
        &app.url(&format!("/api/services/{id}/update")),
        Some(json!({"mounts": [{"type": "bind", "source": "/", "target": "/host"}]})),
    )
    .await;
    assert_error(&got, 403, "forbidden");
    // The admin may (the same body passes the policy for an admin).
    let (status, body) = app
        .call(
            Method::POST,
            &format!("/api/services/{id}/update"),
            Some(json!({"mounts": [{"type": "bind", "source": "/etc", "target": "/host", "read_only": true}]})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    // An operator may not keep the admin's power while changing something else.
    let got = send(
        &t.op_red,
        Method::POST,
        &app.url(&format!("/api/services/{id}/update")),
        Some(json!({"env": ["B=2"]})),
    )
    .await;
    assert_error(&got, 403, "forbidden");

    // A viewer reads but changes nothing.
    let (status, _) = send(&t.viewer, Method::GET, &app.url("/api/services"), None).await;
    assert_eq!(status, 200);
    let got = send(
        &t.viewer,
        Method::POST,
        &app.url("/api/services"),
        Some(json!({"name": unique("swarm-viewer"), "image": s.image()})),
    )
    .await;
    assert_error(&got, 403, "forbidden");
    let got = send(
        &t.viewer,
        Method::POST,
        &app.url(&format!("/api/services/{id}/scale")),
        Some(json!({"replicas": 0})),
    )
    .await;
    assert_error(&got, 403, "forbidden");
    // Nodes are the admin's.
    let (status, nodes) = send(&t.viewer, Method::GET, &app.url("/api/nodes"), None).await;
    assert_eq!(status, 200);
    assert_eq!(nodes.as_array().unwrap().len(), 3, "{nodes}");
    let node = nodes[1]["id"].as_str().unwrap();
    let got = send(
        &t.op_red,
        Method::PATCH,
        &app.url(&format!("/api/nodes/{node}")),
        Some(json!({"availability": "drain"})),
    )
    .await;
    assert_error(&got, 403, "forbidden");
    // Bad input names the field.
    let got = send(
        &t.op_red,
        Method::POST,
        &app.url("/api/services"),
        Some(json!({"name": "x y", "image": s.image()})),
    )
    .await;
    assert_error(&got, 400, "invalid_name");
    let got = send(
        &t.op_red,
        Method::POST,
        &app.url("/api/services"),
        Some(json!({"name": unique("swarm-bad"), "image": s.image(), "mode": "sometimes"})),
    )
    .await;
    assert_error(&got, 400, "invalid_mode");
    let got = app
        .call(
            Method::PATCH,
            &format!("/api/nodes/{node}"),
            Some(json!({"availability": "asleep"})),
        )
        .await;
    assert_error(&got, 400, "invalid_availability");
}

#[tokio::test]
async fn swarm_api_cluster_nodes_and_a_daemon_that_is_no_manager() {
    let (_s, app, t, _clean) = start().await;
    let (status, cluster) = app.get("/api/swarm").await;
    assert_eq!(status, 200, "{cluster}");
    assert_eq!(cluster["nodes"], 3);
    assert_eq!(cluster["managers"], 1);
    assert!(
        cluster["leader"]
            .as_str()
            .is_some_and(|l| l.ends_with("-1")),
        "{cluster}"
    );
    assert!(cluster["join_tokens"]["worker"]
        .as_str()
        .is_some_and(|t| t.starts_with("SWMTKN-")));
    let (_, as_viewer) = send(&t.viewer, Method::GET, &app.url("/api/swarm"), None).await;
    assert!(
        as_viewer.get("join_tokens").is_none(),
        "tokens are the admin's: {as_viewer}"
    );
    // Labels on a worker (admin), then back.
    let (_, nodes) = app.get("/api/nodes").await;
    let worker = nodes
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["role"] == "worker")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, node) = app
        .call(
            Method::PATCH,
            &format!("/api/nodes/{worker}"),
            Some(json!({"labels": {"zone": "a"}})),
        )
        .await;
    assert_eq!(status, 200, "{node}");
    assert_eq!(node["labels"]["zone"], "a");
    assert_eq!(node["availability"], "active");
    let (status, _) = app
        .call(
            Method::PATCH,
            &format!("/api/nodes/{worker}"),
            Some(json!({"labels": {}})),
        )
        .await;
    assert_eq!(status, 200);
    // A node that is up is not removed without force.
    let got = app
        .call(Method::DELETE, &format!("/api/nodes/{worker}"), None)
        .await;
    assert_error(&got, 409, "conflict");

    // The development daemon is no manager: every swarm route says so, and what to do.
    let plain = TestApp::start().await;
    for path in [
        "/api/swarm",
        "/api/nodes",
        "/api/services",
        "/api/secrets",
        "/api/configs",
    ] {
        let got = plain.get(path).await;
        assert_error(&got, 409, "not_a_swarm_manager");
        assert!(
            got.1["error"]["message"]
                .as_str()
                .unwrap()
                .contains("swarm"),
            "{}",
            got.1
        );
    }
}

/// The docker CLI with a user's token, on berth's Docker API of `local` (the manager).
struct Cli {
    host: String,
    config: tempfile::TempDir,
}

impl Cli {
    async fn new(app: &TestApp, c: &Client) -> Cli {
        let (status, t) = send(
            c,
            Method::POST,
            &app.url("/api/tokens"),
            Some(json!({"name": "swarm-cli"})),
        )
        .await;
        assert_eq!(status, 201, "{t}");
        let config = tempfile::tempdir().unwrap();
        let token = t["token"].as_str().unwrap();
        std::fs::write(
            config.path().join("config.json"),
            json!({"HttpHeaders": {"Authorization": format!("Bearer {token}")}}).to_string(),
        )
        .unwrap();
        Cli {
            host: format!("tcp://127.0.0.1:{}/docker/local", app.port()),
            config,
        }
    }

    fn run(&self, args: &[&str]) -> (bool, String) {
        let out = Command::new("docker")
            .env("DOCKER_HOST", &self.host)
            .env("DOCKER_CONFIG", self.config.path())
            .env_remove("DOCKER_TLS_VERIFY")
            .args(args)
            .output()
            .expect("run docker");
        (
            out.status.success(),
            format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
        )
    }
}

/// The CLI's words for a missing service, secret or network.
fn missing(out: &str) -> bool {
    let out = out.to_lowercase();
    out.contains("not found") || out.contains("no such")
}

#[tokio::test]
async fn swarm_api_docker_cli_through_berth_is_judged_by_the_same_policy() {
    let (s, app, t, mut clean) = start().await;
    let red = Cli::new(&app, &t.op_red).await;
    let blue = Cli::new(&app, &t.op_blue).await;
    let name = unique("swarm-cli");
    clean.services.push(name.clone());
    let (ok, out) = red.run(&[
        "service",
        "create",
        "-d",
        "--name",
        &name,
        &s.image(),
        "sleep",
        "3600",
    ]);
    assert!(ok, "{out}");
    let (ok, out) = red.run(&["service", "ls", "--format", "{{.Name}}"]);
    assert!(ok && out.contains(&name), "{out}");
    // berth stamped the team on what the CLI sent.
    let (status, inspect) = app.get(&format!("/api/services/{name}")).await;
    assert_eq!(status, 200);
    assert_eq!(inspect["Spec"]["Labels"]["berth.team"], t.red, "{inspect}");

    // A host folder, added capabilities: refused, naming the power.
    let bad = unique("swarm-cli-bad");
    clean.services.push(bad.clone());
    let (ok, out) = red.run(&[
        "service",
        "create",
        "-d",
        "--name",
        &bad,
        "--mount",
        "type=bind,src=/,dst=/host",
        &s.image(),
        "sleep",
        "60",
    ]);
    assert!(!ok && out.contains("bind"), "{out}");
    let (ok, out) = red.run(&[
        "service",
        "create",
        "-d",
        "--name",
        &bad,
        "--cap-add",
        "SYS_ADMIN",
        &s.image(),
        "sleep",
        "60",
    ]);
    assert!(!ok && out.contains("capabilities"), "{out}");
    // ... and on update of one's own service.
    let (ok, out) = red.run(&[
        "service",
        "update",
        "-d",
        "--mount-add",
        "type=bind,src=/etc,dst=/host",
        &name,
    ]);
    assert!(!ok && out.contains("bind"), "{out}");
    let (ok, out) = red.run(&["service", "update", "-d", "--env-add", "A=1", &name]);
    assert!(ok, "{out}");

    // Blue sees nothing of red's, and cannot change it or mount red's secret.
    let (ok, out) = blue.run(&["service", "ls", "--format", "{{.Name}}"]);
    assert!(ok && !out.contains(&name), "{out}");
    let (ok, out) = blue.run(&["service", "inspect", &name]);
    assert!(!ok && missing(&out), "{out}");
    let (ok, out) = blue.run(&["service", "update", "-d", "--env-add", "B=1", &name]);
    assert!(!ok && missing(&out), "{out}");
    let (ok, out) = blue.run(&["service", "rm", &name]);
    assert!(!ok && missing(&out), "{out}");
    let secret = unique("swarm-cli-secret");
    clean.secrets.push(secret.clone());
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), "red value").unwrap();
    let (ok, out) = red.run(&["secret", "create", &secret, file.path().to_str().unwrap()]);
    assert!(ok, "{out}");
    let (ok, out) = blue.run(&["secret", "ls", "--format", "{{.Name}}"]);
    assert!(ok && !out.contains(&secret), "{out}");
    let steal = unique("swarm-cli-steal");
    clean.services.push(steal.clone());
    let (ok, out) = blue.run(&[
        "service",
        "create",
        "-d",
        "--name",
        &steal,
        "--secret",
        &secret,
        &s.image(),
        "sleep",
        "60",
    ]);
    assert!(!ok && missing(&out), "{out}");
    // Nodes and the swarm itself are the admin's to change.
    let (ok, out) = red.run(&["node", "update", "--availability", "drain", &s.node_name(2)]);
    assert!(!ok && out.contains("admin"), "{out}");
    let (ok, out) = red.run(&["swarm", "join-token", "worker"]);
    assert!(!ok, "{out}");
}
