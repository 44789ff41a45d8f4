//! App templates: lists in Portainer's and Yacht's formats served over HTTP on loopback (and
//! uploaded as files), listed, and deployed as containers and stacks through the same policy
//! as the direct paths.

use std::collections::HashMap;
use std::sync::Arc;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::stacks::{assert_done, ndjson};
use crate::support::*;

/// A tiny HTTP server on 127.0.0.1 answering GET `path` with its body (404 otherwise); it
/// ends with the test (the task is aborted on drop).
pub struct ListServer {
    pub base: String,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for ListServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

pub async fn serve(files: &[(&str, String)]) -> ListServer {
    let files: Arc<HashMap<String, String>> = Arc::new(
        files
            .iter()
            .map(|(p, b)| ((*p).to_owned(), b.clone()))
            .collect(),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            let files = files.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                    match sock.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                }
                let head = String::from_utf8_lossy(&buf);
                let path = head.split_whitespace().nth(1).unwrap_or("/").to_owned();
                let (status, body) = match files.get(&path) {
                    Some(b) => ("200 OK", b.clone()),
                    None => ("404 Not Found", "not here".to_owned()),
                };
                let resp = format!(
                    "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = sock.write_all(resp.as_bytes()).await;
                let _ = sock.shutdown().await;
            });
        }
    });
    ListServer { base, task }
}

/// Containers and stacks a test made, removed at its end (also on failure).
#[derive(Default)]
pub struct Made {
    pub containers: Vec<String>,
    pub stacks: Vec<String>,
    pub volumes: Vec<String>,
}

fn quiet(args: &[&str]) -> String {
    let out = std::process::Command::new("docker")
        .args(["-H", &docker_host()])
        .args(args)
        .output();
    out.map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default()
}

impl Drop for Made {
    fn drop(&mut self) {
        for c in &self.containers {
            quiet(&["rm", "-f", "-v", c]);
        }
        for s in &self.stacks {
            let ids = quiet(&[
                "ps",
                "-aq",
                "--filter",
                &format!("label=com.docker.compose.project={s}"),
            ]);
            for id in ids.split_whitespace() {
                quiet(&["rm", "-f", "-v", id]);
            }
            quiet(&["network", "rm", &format!("{s}_default")]);
            let vols = quiet(&[
                "volume",
                "ls",
                "-q",
                "--filter",
                &format!("label=com.docker.compose.project={s}"),
            ]);
            for v in vols.split_whitespace() {
                quiet(&["volume", "rm", "-f", v]);
            }
        }
        for v in &self.volumes {
            quiet(&["volume", "rm", "-f", v]);
        }
    }
}

const IDLE: &str = "sh -c 'trap \"exit 0\" TERM; while true; do sleep 1; done'";

fn portainer_v2(image: &str) -> String {
    json!({"version": "2", "templates": [
        {"type": 1, "title": "Idle box", "description": "busybox idling", "image": image,
         "command": IDLE,
         "env": [
            {"name": "GREETING", "label": "Greeting"},
            {"name": "MODE", "label": "Mode", "select": [
                {"text": "Fast", "value": "fast", "default": true}, {"text": "Slow", "value": "slow"}]},
            {"name": "FIXED", "label": "Fixed", "default": "yes", "preset": true}
         ],
         "ports": ["80/tcp"],
         "volumes": [{"container": "/data"}]},
        {"type": 1, "title": "Host root", "image": image, "command": IDLE,
         "privileged": true, "volumes": [{"container": "/host", "bind": "/"}]},
        {"type": 1, "description": "no title: skipped, named in the errors"}
    ]})
    .to_string()
}

fn portainer_v3(image: &str) -> String {
    json!({"version": "3", "templates": [
        {"id": 7, "type": 1, "title": "Seven", "image": image}
    ]})
    .to_string()
}

fn yacht(image: &str) -> String {
    json!([
        {"type": 1, "title": "Yacht box", "image": image,
         "ports": [{"WebUI": "8080/tcp"}], "env": [{"name": "TZ", "default": "UTC"}]}
    ])
    .to_string()
}

fn berth_list(image: &str) -> String {
    let compose = "services:\n  app:\n    image: ${IMAGE}\n    command: [\"sh\", \"-c\", \"trap 'exit 0' TERM; while true; do sleep 1; done\"]\n    environment:\n      MSG: ${MSG}\n";
    let hostile = "services:\n  app:\n    image: ${IMAGE}\n    volumes:\n      - /:/host\n";
    json!({"berth": 1, "templates": [
        {"id": "idle-stack", "kind": "stack", "title": "Idle stack", "compose": compose,
         "variables": [{"name": "IMAGE", "default": image}, {"name": "MSG", "label": "Message", "required": true}]},
        {"id": "root-stack", "kind": "stack", "title": "Root stack", "compose": hostile,
         "variables": [{"name": "IMAGE", "default": image}]}
    ]})
    .to_string()
}

async fn add_url(app: &TestApp, url: &str) -> (StatusCode, Value) {
    app.call(
        Method::POST,
        "/api/templates/sources",
        Some(json!({ "url": url })),
    )
    .await
}

async fn templates(app: &TestApp) -> Vec<Value> {
    let (status, body) = app.get("/api/templates").await;
    assert_eq!(status, 200, "{body}");
    body.as_array().unwrap().clone()
}

fn by_title<'a>(all: &'a [Value], source: &str, title: &str) -> &'a Value {
    all.iter()
        .find(|t| t["source"] == source && t["title"] == title)
        .unwrap_or_else(|| panic!("no {title:?} of source {source} in {all:#?}"))
}

#[tokio::test]
async fn lists_from_a_url_and_from_files_are_listed_and_removed() {
    let app = TestApp::start().await;
    let img = test_image();
    let srv = serve(&[
        ("/portainer.json", portainer_v2(&img)),
        ("/v3.json", portainer_v3(&img)),
        ("/yacht.json", yacht(&img)),
        ("/nope.json", "<html>not a list</html>".into()),
    ])
    .await;

    // The built-ins are there before any source.
    let all = templates(&app).await;
    assert!(
        all.iter()
            .any(|t| t["id"] == "berth-redis-cluster" && t["source"] == "builtin"),
        "{all:#?}"
    );

    let (status, v2) = add_url(&app, &format!("{}/portainer.json", srv.base)).await;
    assert_eq!(status, 201, "{v2}");
    assert_eq!(v2["format"], "portainer-v2");
    assert_eq!(v2["templates"], 2);
    assert_eq!(v2["errors"][0]["index"], 2, "{v2}");
    let (status, v3) = add_url(&app, &format!("{}/v3.json", srv.base)).await;
    assert_eq!(status, 201, "{v3}");
    let (status, ya) = add_url(&app, &format!("{}/yacht.json", srv.base)).await;
    assert_eq!(
        (status.as_u16(), ya["format"].as_str()),
        (201, Some("yacht"))
    );

    // The same Yacht list uploaded as a file (multipart) and as JSON content.
    let form = reqwest::multipart::Form::new()
        .text("name", "my yacht file")
        .part(
            "file",
            reqwest::multipart::Part::text(yacht(&img)).file_name("yacht.json"),
        );
    let r = app
        .client
        .post(app.url("/api/templates/sources"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let up: Value = r.json().await.unwrap();
    assert_eq!(
        (up["name"].as_str(), up["url"].as_str()),
        (Some("my yacht file"), None)
    );
    let (status, inline) = app
        .call(
            Method::POST,
            "/api/templates/sources",
            Some(json!({"content": yacht(&img), "name": "pasted"})),
        )
        .await;
    assert_eq!(status, 201, "{inline}");

    let all = templates(&app).await;
    let v2id = v2["id"].as_str().unwrap();
    let idle = by_title(&all, v2id, "Idle box");
    assert_eq!(idle["kind"], "container");
    let vars: Vec<&str> = idle["variables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["name"].as_str().unwrap())
        .collect();
    assert_eq!(vars, ["GREETING", "MODE"], "presets are not asked for");
    assert_eq!(idle["variables"][0]["required"], true);
    assert_eq!(idle["variables"][1]["default"], "fast");
    assert_eq!(idle["variables"][1]["select"][1]["value"], "slow");
    // v3's numeric id is kept.
    let seven = by_title(&all, v3["id"].as_str().unwrap(), "Seven");
    assert_eq!(seven["id"], format!("{}-7", v3["id"].as_str().unwrap()));
    by_title(&all, up["id"].as_str().unwrap(), "Yacht box");
    let (status, one) = app
        .get(&format!("/api/templates/{}", idle["id"].as_str().unwrap()))
        .await;
    assert_eq!((status.as_u16(), &one["title"]), (200, &json!("Idle box")));
    let (status, sources) = app.get("/api/templates/sources").await;
    assert_eq!(status, 200);
    assert_eq!(sources.as_array().unwrap().len(), 5, "{sources}");

    // What fails says what: a 404 page, a closed port, a page that is not a list, no URL.
    let got = add_url(&app, &format!("{}/missing.json", srv.base)).await;
    assert_error(&got, 400, "source_fetch_failed");
    assert!(got.1["error"]["message"].as_str().unwrap().contains("404"));
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let got = add_url(&app, &format!("http://127.0.0.1:{closed}/list.json")).await;
    assert_error(&got, 400, "source_fetch_failed");
    let got = add_url(&app, &format!("{}/nope.json", srv.base)).await;
    assert_error(&got, 400, "source_unreadable");
    assert!(got.1["error"]["message"]
        .as_str()
        .unwrap()
        .contains("nope.json"));
    assert_error(
        &add_url(&app, "ftp://127.0.0.1/x").await,
        400,
        "invalid_url",
    );
    let got = app
        .call(Method::POST, "/api/templates/sources", Some(json!({})))
        .await;
    assert_error(&got, 400, "invalid_source");

    // Everyone logged in reads; only admins add or remove.
    let viewer_name = unique("tplv");
    app.make_user(&viewer_name, "viewer", &[]).await;
    let viewer = app.client_as(&viewer_name, USER_PASSWORD).await;
    let (status, _) = send(&viewer, Method::GET, &app.url("/api/templates"), None).await;
    assert_eq!(status, 200);
    let op_name = unique("tplop");
    let team = unique("tplteam");
    app.make_user(&op_name, "operator", &[&team]).await;
    let op = app.client_as(&op_name, USER_PASSWORD).await;
    let (status, _) = send(
        &op,
        Method::POST,
        &app.url("/api/templates/sources"),
        Some(json!({"url": format!("{}/yacht.json", srv.base)})),
    )
    .await;
    assert_eq!(status, 403);
    let path = format!("/api/templates/sources/{v2id}");
    let (status, _) = send(&op, Method::DELETE, &app.url(&path), None).await;
    assert_eq!(status, 403);

    let (status, _) = app.call(Method::DELETE, &path, None).await;
    assert_eq!(status, 204);
    let all = templates(&app).await;
    assert!(!all.iter().any(|t| t["source"] == v2id), "{all:#?}");
    assert_error(
        &app.call(Method::DELETE, &path, None).await,
        404,
        "not_found",
    );
}

#[tokio::test]
async fn a_container_template_deploys_and_a_hostile_one_is_refused() {
    let app = TestApp::start().await;
    let img = test_image();
    let srv = serve(&[("/portainer.json", portainer_v2(&img))]).await;
    let (status, src) = add_url(&app, &format!("{}/portainer.json", srv.base)).await;
    assert_eq!(status, 201, "{src}");
    let all = templates(&app).await;
    let sid = src["id"].as_str().unwrap();
    let idle = by_title(&all, sid, "Idle box")["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let root = by_title(&all, sid, "Host root")["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut made = Made::default();
    let name = unique("templates-box");
    made.containers.push(name.clone());
    made.volumes.push(format!("{name}_data"));

    let op_name = unique("tplop");
    let team = unique("tplteam");
    app.make_user(&op_name, "operator", &[&team]).await;
    let op = app.client_as(&op_name, USER_PASSWORD).await;
    let viewer_name = unique("tplv");
    app.make_user(&viewer_name, "viewer", &[&team]).await;
    let viewer = app.client_as(&viewer_name, USER_PASSWORD).await;
    let deploy = |id: &str| app.url(&format!("/api/templates/{id}/deploy"));

    // A required variable missing, a select value outside its choices: 400 naming each.
    let got = send(
        &op,
        Method::POST,
        &deploy(&idle),
        Some(json!({"name": name})),
    )
    .await;
    assert_error(&got, 400, "invalid_variable");
    assert!(
        got.1["error"]["message"]
            .as_str()
            .unwrap()
            .contains("GREETING"),
        "{}",
        got.1
    );
    let got = send(
        &op,
        Method::POST,
        &deploy(&idle),
        Some(json!({"name": name, "variables": {"GREETING": "hi", "MODE": "warp"}})),
    )
    .await;
    assert_error(&got, 400, "invalid_variable");
    assert!(got.1["error"]["message"].as_str().unwrap().contains("MODE"));

    // A viewer cannot deploy.
    let body = json!({"name": name, "variables": {"GREETING": "hello there"}});
    let (status, _) = send(&viewer, Method::POST, &deploy(&idle), Some(body.clone())).await;
    assert_eq!(status, 403);

    // The operator deploys it: it runs with the form's values as its environment.
    let (status, out) = send(&op, Method::POST, &deploy(&idle), Some(body)).await;
    assert_eq!(status, 201, "{out}");
    assert_eq!(out["kind"], "container");
    let id = out["id"].as_str().unwrap();
    assert_eq!(daemon_state(id).await.as_deref(), Some("running"));
    let inspect = daemon_inspect(id).await;
    let env: Vec<&str> = inspect["Config"]["Env"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    for want in ["GREETING=hello there", "MODE=fast", "FIXED=yes"] {
        assert!(env.contains(&want), "{want} in {env:?}");
    }
    assert!(
        inspect["HostConfig"]["PortBindings"]["80/tcp"].is_array(),
        "{inspect}"
    );
    // A second deploy under the same name is a conflict, not a 5xx.
    let (status, _) = send(
        &op,
        Method::POST,
        &deploy(&idle),
        Some(json!({"name": name, "variables": {"GREETING": "again"}})),
    )
    .await;
    assert_eq!(status, 409);

    // A template binding the host's / and asking privileged mode gives an operator nothing
    // the direct path would not: 403 naming the power.
    let hostile = unique("templates-root");
    made.containers.push(hostile.clone());
    let got = send(
        &op,
        Method::POST,
        &deploy(&root),
        Some(json!({"name": hostile})),
    )
    .await;
    assert_eq!(got.0, 403, "{}", got.1);
    let msg = got.1["error"]["message"].as_str().unwrap();
    assert!(msg.contains("privileged") || msg.contains("bind"), "{msg}");
    let (status, list) = app.get("/api/containers?all=true").await;
    assert_eq!(status, 200);
    assert!(!list.to_string().contains(&hostile), "nothing was made");

    let got = send(
        &op,
        Method::POST,
        &deploy("no-such"),
        Some(json!({"name": "x"})),
    )
    .await;
    assert_eq!(got.0, 404);
}

#[tokio::test]
async fn a_compose_template_deploys_a_stack_with_its_variables() {
    let app = TestApp::start().await;
    let img = test_image();
    let (status, src) = app
        .call(
            Method::POST,
            "/api/templates/sources",
            Some(json!({"content": berth_list(&img), "name": "ours"})),
        )
        .await;
    assert_eq!(status, 201, "{src}");
    assert_eq!(src["format"], "berth");
    let sid = src["id"].as_str().unwrap();
    let stack_id = format!("{sid}-idle-stack");
    let root_id = format!("{sid}-root-stack");
    let mut made = Made::default();
    let name = unique("templates-stack").replace('-', "_");
    made.stacks.push(name.clone());
    let op_name = unique("tplop");
    let team = unique("tplteam");
    app.make_user(&op_name, "operator", &[&team]).await;
    let op = app.client_as(&op_name, USER_PASSWORD).await;

    let got = send(
        &op,
        Method::POST,
        &app.url(&format!("/api/templates/{stack_id}/deploy")),
        Some(json!({"name": name})),
    )
    .await;
    assert_error(&got, 400, "invalid_variable");
    assert!(got.1["error"]["message"].as_str().unwrap().contains("MSG"));

    // Deployed by the admin's client through ndjson progress; it runs with the value.
    let (status, lines) = ndjson(
        &app,
        Method::POST,
        &format!("/api/templates/{stack_id}/deploy"),
        Some(json!({"name": name, "variables": {"MSG": "it's a \"test\" $HOME"}})),
    )
    .await;
    assert_eq!(status, 201, "{lines:#?}");
    assert_done(&lines);
    let (status, detail) = app.get(&format!("/api/stacks/{name}")).await;
    assert_eq!(status, 200, "{detail}");
    let ids = docker_cli(&[
        "ps",
        "-q",
        "--filter",
        &format!("label=com.docker.compose.project={name}"),
    ]);
    let id = ids.split_whitespace().next().expect("a running service");
    let inspect = daemon_inspect(id).await;
    assert!(
        inspect["Config"]["Env"]
            .as_array()
            .unwrap()
            .contains(&json!("MSG=it's a \"test\" $HOME")),
        "{}",
        inspect["Config"]["Env"]
    );

    // A compose template binding / is refused for an operator as the stack path refuses it.
    let hostile = unique("templates-rootstack").replace('-', "_");
    made.stacks.push(hostile.clone());
    let got = send(
        &op,
        Method::POST,
        &app.url(&format!("/api/templates/{root_id}/deploy")),
        Some(json!({"name": hostile})),
    )
    .await;
    assert_eq!(got.0, 403, "{}", got.1);
    assert!(
        got.1["error"]["message"].as_str().unwrap().contains('/'),
        "{}",
        got.1
    );
}
