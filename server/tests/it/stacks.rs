//! Compose stacks: berth's engine against the real daemon, checked with the daemon itself and
//! with Debian's `docker-compose` (1.29), which must see berth's stacks as its own and whose
//! stacks berth must see.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use futures::StreamExt;
use reqwest::Method;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

use crate::support::*;

/// A request whose answer is ndjson progress; status and the parsed lines.
pub async fn ndjson(
    app: &TestApp,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Vec<Value>) {
    let mut req = app.client.request(method, app.url(path));
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.expect("request");
    let status = resp.status().as_u16();
    let text = resp.text().await.expect("body");
    let lines = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|_| Value::String(l.to_owned())))
        .collect();
    (status, lines)
}

/// Assert an ndjson progress ended with `done`.
pub fn assert_done(lines: &[Value]) {
    let last = lines.last().expect("some progress");
    assert_eq!(last["step"], "done", "progress: {lines:#?}");
    assert!(
        !lines.iter().any(|l| l["step"] == "error"),
        "progress: {lines:#?}"
    );
}

/// `docker-compose` against the private daemon.
pub fn compose_cli(cwd: &Path, args: &[&str]) -> std::process::Output {
    let out = Command::new("docker-compose")
        .args(args)
        .current_dir(cwd)
        .env("DOCKER_HOST", docker_host())
        .env_remove("COMPOSE_PROJECT_NAME")
        .output()
        .expect("run docker-compose (Debian package docker-compose)");
    out
}

/// A /24 no other test of this run picks: 10.213.N.0/24.
pub fn subnet() -> (String, String) {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let n = (std::process::id() * 7 + N.fetch_add(1, Ordering::Relaxed)) % 250 + 1;
    (format!("10.213.{n}.0/24"), format!("10.213.{n}"))
}

async fn container_id(name: &str) -> Option<String> {
    let d = daemon().await;
    d.inspect_container(
        name,
        None::<bollard::query_parameters::InspectContainerOptions>,
    )
    .await
    .ok()
    .and_then(|c| c.id)
}

async fn open_logs(
    app: &TestApp,
    name: &str,
) -> tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>> {
    let cookie = app.cookie_header("admin", ADMIN_PASSWORD).await;
    let mut req = format!(
        "ws://127.0.0.1:{}/api/stacks/{name}/logs/ws?tail=all",
        app.port()
    )
    .into_client_request()
    .unwrap();
    req.headers_mut().insert("cookie", cookie.parse().unwrap());
    tokio_tungstenite::connect_async(req)
        .await
        .expect("the logs websocket opens")
        .0
}

/// Read log frames until every `(service, text)` was seen.
async fn wait_for_lines(
    ws: &mut tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
    want: &[(&str, &str)],
) {
    let mut missing: Vec<(String, String)> = want
        .iter()
        .map(|(s, t)| (s.to_string(), t.to_string()))
        .collect();
    tokio::time::timeout(Duration::from_secs(20), async {
        while let Some(Ok(msg)) = ws.next().await {
            if let Message::Text(text) = msg {
                let lines: Vec<Value> = serde_json::from_str(&text).expect("a JSON array");
                for l in lines {
                    missing.retain(|(s, t)| {
                        !(l["service"] == s.as_str()
                            && l["line"].as_str().unwrap_or("").contains(t.as_str()))
                    });
                }
                if missing.is_empty() {
                    return;
                }
            }
        }
        panic!("the logs socket closed; still missing {missing:?}");
    })
    .await
    .expect("the log lines within 20 s");
}

const IDLE: &str = "trap 'exit 0' TERM; while true; do sleep 1; done";

#[tokio::test]
async fn two_services_with_network_addresses_volume_and_build_come_up_and_go_down() {
    let app = TestApp::start().await;
    let name = unique("stk");
    let (subnet, prefix) = subnet();
    let image = format!("berth-test-stack/{name}-web:1");
    let folder = tempfile::tempdir().unwrap();
    std::fs::create_dir(folder.path().join("web")).unwrap();
    std::fs::write(
        folder.path().join("web/Dockerfile"),
        format!(
            "FROM {}\nCOPY hello.txt /hello.txt\nLABEL berth-test=1\n",
            test_image()
        ),
    )
    .unwrap();
    std::fs::write(folder.path().join("web/hello.txt"), "built by berth\n").unwrap();
    let compose = format!(
        r#"services:
  web:
    build:
      context: ./web
      dockerfile: Dockerfile
    image: {image}
    depends_on: [db]
    command: ["sh", "-c", "cat /hello.txt; echo web-ready; {IDLE}"]
    networks:
      back:
        ipv4_address: {prefix}.10
    volumes:
      - data:/data
    labels:
      berth-test: "1"
  db:
    image: {busybox}
    environment:
      - ROLE=db
    command: sh -c "echo $$ROLE-ready; {IDLE}"
    restart: unless-stopped
    networks:
      back:
        ipv4_address: {prefix}.11
networks:
  back:
    ipam:
      config:
        - subnet: {subnet}
volumes:
  data: {{}}
"#,
        busybox = test_image()
    );
    std::fs::write(folder.path().join("docker-compose.yml"), &compose).unwrap();

    let (status, lines) = ndjson(
        &app,
        Method::POST,
        "/api/stacks",
        Some(json!({"name": name, "from_dir": folder.path()})),
    )
    .await;
    assert_eq!(status, 201, "{lines:#?}");
    assert_done(&lines);
    let steps: Vec<(String, String)> = lines
        .iter()
        .map(|l| {
            (
                l["service"].as_str().unwrap_or("").to_owned(),
                l["step"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    assert!(steps.contains(&("web".into(), "build".into())), "{steps:?}");
    let db_created = steps
        .iter()
        .position(|s| s == &("db".to_string(), "create".to_string()));
    let web_created = steps
        .iter()
        .position(|s| s == &("web".to_string(), "create".to_string()));
    assert!(
        db_created < web_created && db_created.is_some(),
        "db starts before web: {steps:?}"
    );

    // The daemon has what the file says, under Compose's names and labels.
    let d = daemon().await;
    let web = d
        .inspect_container(
            &format!("{name}_web_1"),
            None::<bollard::query_parameters::InspectContainerOptions>,
        )
        .await
        .expect("web runs under Compose's name");
    let labels = web.config.as_ref().unwrap().labels.clone().unwrap();
    assert_eq!(labels["com.docker.compose.project"], name.as_str());
    assert_eq!(labels["com.docker.compose.service"], "web");
    assert_eq!(labels["com.docker.compose.oneoff"], "False");
    assert_eq!(labels["com.docker.compose.container-number"], "1");
    assert!(labels["com.docker.compose.config-hash"].len() == 64);
    assert!(labels["com.docker.compose.project.config_files"].ends_with("docker-compose.yml"));
    let nets = web.network_settings.unwrap().networks.unwrap();
    assert_eq!(
        nets[&format!("{name}_back")].ip_address.as_deref(),
        Some(format!("{prefix}.10").as_str())
    );
    let vol = d
        .inspect_volume(&format!("{name}_data"))
        .await
        .expect("the named volume");
    assert_eq!(vol.labels["com.docker.compose.project"], name.as_str());

    // docker-compose sees the stack as its own.
    let files = app.data_dir().join("stacks").join(&name);
    let out = compose_cli(
        folder.path(),
        &[
            "-f",
            files.join("docker-compose.yml").to_str().unwrap(),
            "--project-directory",
            folder.path().to_str().unwrap(),
            "-p",
            &name,
            "ps",
        ],
    );
    let ps = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "docker-compose ps: {ps}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for c in [format!("{name}_web_1"), format!("{name}_db_1")] {
        let row = ps
            .lines()
            .find(|l| l.starts_with(&c))
            .unwrap_or_else(|| panic!("{c} in:\n{ps}"));
        assert!(row.contains("Up"), "{row}");
    }

    // berth's own views.
    let (_, list) = app.get("/api/stacks").await;
    let row = list
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == name.as_str())
        .expect("listed");
    assert_eq!(row["managed"], true);
    assert_eq!(row["status"], "running", "{row}");
    assert_eq!(row["services"], json!(["db", "web"]));
    let (status, detail) = app.get(&format!("/api/stacks/{name}")).await;
    assert_eq!(status, 200);
    let web_state = detail["services"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["service"] == "web")
        .unwrap();
    assert_eq!(web_state["status"], "running");
    assert_eq!(
        web_state["containers"][0]["networks"][format!("{name}_back")],
        format!("{prefix}.10")
    );

    // Merged logs, tagged by service.
    let mut ws = open_logs(&app, &name).await;
    wait_for_lines(
        &mut ws,
        &[
            ("web", "built by berth"),
            ("web", "web-ready"),
            ("db", "db-ready"),
        ],
    )
    .await;
    drop(ws);

    // Down, with volumes: nothing of the stack is left on the daemon.
    let (status, down) = app
        .post(&format!("/api/stacks/{name}/down?volumes=true"))
        .await;
    assert_eq!(status, 200, "{down}");
    assert_eq!(down["containers"].as_array().unwrap().len(), 2, "{down}");
    assert_eq!(container_id(&format!("{name}_web_1")).await, None);
    assert_eq!(container_id(&format!("{name}_db_1")).await, None);
    assert!(d
        .inspect_network(
            &format!("{name}_back"),
            None::<bollard::query_parameters::InspectNetworkOptions>
        )
        .await
        .is_err());
    assert!(d.inspect_volume(&format!("{name}_data")).await.is_err());
    let (_, detail) = app.get(&format!("/api/stacks/{name}")).await;
    assert_eq!(detail["status"], "down");

    let (status, _) = app
        .call(Method::DELETE, &format!("/api/stacks/{name}"), None)
        .await;
    assert_eq!(status, 200);
    assert!(!files.exists(), "the stack's folder is gone");
    let _ = d
        .remove_image(
            &image,
            None::<bollard::query_parameters::RemoveImageOptions>,
            None,
        )
        .await;
}

#[tokio::test]
async fn a_stack_started_by_docker_compose_is_listed_and_controlled() {
    let app = TestApp::start().await;
    let name = unique("cli");
    let folder = tempfile::tempdir().unwrap();
    std::fs::write(
        folder.path().join("docker-compose.yml"),
        format!(
            "version: '3'\nservices:\n  app:\n    image: {}\n    command: [\"sh\", \"-c\", \"echo cli-says-hi; {IDLE}\"]\n    labels:\n      berth-test: '1'\n",
            test_image()
        ),
    )
    .unwrap();
    let out = compose_cli(folder.path(), &["-p", &name, "up", "-d"]);
    assert!(
        out.status.success(),
        "docker-compose up: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let cname = format!("{name}_app_1");

    let (_, list) = app.get("/api/stacks").await;
    let row = list
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == name.as_str())
        .expect("the CLI's stack is listed");
    assert_eq!(row["managed"], false);
    assert_eq!(row["status"], "running");
    assert_eq!(row["services"], json!(["app"]));

    let mut ws = open_logs(&app, &name).await;
    wait_for_lines(&mut ws, &[("app", "cli-says-hi")]).await;
    drop(ws);

    let (status, body) = app.post(&format!("/api/stacks/{name}/stop")).await;
    assert_eq!(status, 204, "{body}");
    assert_eq!(daemon_state(&cname).await.as_deref(), Some("exited"));
    let (status, _) = app.post(&format!("/api/stacks/{name}/restart")).await;
    assert_eq!(status, 204);
    assert_eq!(daemon_state(&cname).await.as_deref(), Some("running"));

    // berth has no file for it: it cannot deploy it, and says so.
    let (status, lines) = ndjson(&app, Method::POST, &format!("/api/stacks/{name}/up"), None).await;
    assert_eq!(status, 409, "{lines:?}");

    let out = compose_cli(folder.path(), &["-p", &name, "ps"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains(&cname));
    let (status, _) = app.post(&format!("/api/stacks/{name}/down")).await;
    assert_eq!(status, 200);
    assert_eq!(daemon_state(&cname).await, None);
    let (_, list) = app.get("/api/stacks").await;
    assert!(!list
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s["name"] == name.as_str()));
}

#[tokio::test]
async fn editing_one_service_recreates_only_that_service() {
    let app = TestApp::start().await;
    let name = unique("edit");
    let file = |greeting: &str| {
        format!(
            "services:\n  keep:\n    image: {img}\n    command: [\"sh\", \"-c\", \"{IDLE}\"]\n  change:\n    image: {img}\n    environment:\n      GREETING: {greeting}\n    command: [\"sh\", \"-c\", \"{IDLE}\"]\n",
            img = test_image()
        )
    };
    let (status, lines) = ndjson(
        &app,
        Method::POST,
        "/api/stacks",
        Some(json!({"name": name, "compose": file("hello")})),
    )
    .await;
    assert_eq!(status, 201, "{lines:#?}");
    assert_done(&lines);
    let keep_before = container_id(&format!("{name}_keep_1"))
        .await
        .expect("keep runs");
    let change_before = container_id(&format!("{name}_change_1"))
        .await
        .expect("change runs");

    // Up again without changes: nothing is recreated.
    let (_, lines) = ndjson(&app, Method::POST, &format!("/api/stacks/{name}/up"), None).await;
    assert_done(&lines);
    assert!(
        lines.iter().filter(|l| l["step"] == "keep").count() == 2,
        "{lines:#?}"
    );

    let (status, saved) = app
        .call(
            Method::PUT,
            &format!("/api/stacks/{name}"),
            Some(json!({"compose": file("bonjour")})),
        )
        .await;
    assert_eq!(status, 200, "{saved}");
    assert!(saved["compose"].as_str().unwrap().contains("bonjour"));
    let (_, lines) = ndjson(&app, Method::POST, &format!("/api/stacks/{name}/up"), None).await;
    assert_done(&lines);
    let step_of = |svc: &str| {
        lines
            .iter()
            .find(|l| l["service"] == svc)
            .map(|l| l["step"].as_str().unwrap().to_owned())
    };
    assert_eq!(step_of("keep").as_deref(), Some("keep"), "{lines:#?}");
    assert_eq!(step_of("change").as_deref(), Some("recreate"), "{lines:#?}");
    assert_eq!(
        container_id(&format!("{name}_keep_1")).await.as_deref(),
        Some(keep_before.as_str())
    );
    let change_after = container_id(&format!("{name}_change_1"))
        .await
        .expect("change runs again");
    assert_ne!(change_after, change_before);
    let d = daemon().await;
    let env = d
        .inspect_container(
            &change_after,
            None::<bollard::query_parameters::InspectContainerOptions>,
        )
        .await
        .unwrap()
        .config
        .unwrap()
        .env
        .unwrap();
    assert!(env.contains(&"GREETING=bonjour".to_string()), "{env:?}");

    let (status, _) = app
        .call(
            Method::DELETE,
            &format!("/api/stacks/{name}?volumes=true"),
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(container_id(&format!("{name}_keep_1")).await, None);
}

#[tokio::test]
async fn names_and_paths_that_leave_the_stack_folder_are_refused() {
    let app = TestApp::start().await;
    let compose = format!("services:\n  a:\n    image: {}\n", test_image());
    for bad in ["../evil", "..", "a/b", "Evil", ".hidden", "../../etc"] {
        let got = app
            .call(
                Method::POST,
                "/api/stacks",
                Some(json!({"name": bad, "compose": compose})),
            )
            .await;
        assert_error(&got, 400, "invalid_stack_name");
    }
    assert_error(
        &app.get("/api/stacks/..%2F..%2Fetc").await,
        400,
        "invalid_stack_name",
    );
    assert_error(
        &app.post("/api/stacks/..%2Fx/up").await,
        400,
        "invalid_stack_name",
    );
    assert!(!app.data_dir().join("evil").exists());
    assert!(!app.data_dir().parent().unwrap().join("evil").exists());

    let name = unique("paths");
    for (file, what) in [
        ("services:\n  a:\n    build: ../outside\n", "build context"),
        ("services:\n  a:\n    build:\n      context: /etc\n", "absolute"),
        (&format!("services:\n  a:\n    image: {}\n    env_file: /etc/passwd\n", test_image()), "absolute"),
        (&format!("services:\n  a:\n    image: {}\n    env_file: ../../secret.env\n", test_image()), "folder"),
        (&format!("services:\n  a:\n    image: {}\n    volumes: ['../x:/x']\n", test_image()), "folder"),
        ("include:\n  - ../other.yml\nservices:\n  a:\n    image: x\n", "leaves the stack's folder"),
        ("services:\n  a:\n    image: x\n    extends:\n      file: /etc/compose.yml\n      service: b\n", "absolute path"),
        ("services:\n  a:\n    image: x\n    secrets: [s]\nsecrets:\n  s:\n    file: ../../pw\n", "folder"),
    ] {
        let got = app
            .call(Method::POST, "/api/stacks", Some(json!({"name": name, "compose": file})))
            .await;
        assert_eq!(got.0, 400, "{file}: {}", got.1);
        let msg = got.1["error"]["message"].as_str().unwrap();
        assert!(msg.contains(what), "{file}: {msg}");
        assert!(msg.contains("line "), "a line number: {msg}");
    }
    assert!(
        !app.data_dir().join("stacks").join(&name).exists(),
        "nothing was written"
    );

    // The editor's check: every problem with its line.
    for (compose, path, line) in [
        (
            "services:\n  a:\n    image: x\n    secrets: [s]\n",
            "services.a.secrets",
            4,
        ),
        (
            "services:\n  a:\n    image: x\n    healthcheck:\n      test: [CMD, 'true']\n      start_interval: 1s\n      start_intervall: 1s\n",
            "services.a.healthcheck.start_intervall",
            7,
        ),
    ] {
        let (status, check) = app
            .call(
                Method::POST,
                "/api/stacks/validate",
                Some(json!({ "compose": compose })),
            )
            .await;
        assert_eq!(status, 200);
        assert_eq!(check["ok"], false);
        let problems = check["problems"].as_array().unwrap();
        assert!(
            problems
                .iter()
                .any(|p| p["path"] == path && p["line"] == line),
            "{check}"
        );
    }
    let (_, check) = app
        .call(
            Method::POST,
            "/api/stacks/validate",
            Some(json!({"compose": "services:\n  a:\n    image: [x\n"})),
        )
        .await;
    assert_eq!(check["problems"][0]["kind"], "syntax");
    assert!(check["problems"][0]["line"].as_u64().is_some(), "{check}");
}

#[tokio::test]
async fn an_operators_stack_with_a_host_bind_is_refused() {
    let app = TestApp::start().await;
    let team = unique("team");
    let op_name = unique("op");
    app.make_user(&op_name, "operator", &[&team]).await;
    let op = app.client_as(&op_name, USER_PASSWORD).await;
    let name = unique("bind");
    for volumes in ["['/etc:/host-etc:ro']", "['./conf:/conf']", "['~/:/dir']"] {
        let compose = format!(
            "services:\n  a:\n    image: {}\n    volumes: {volumes}\n",
            test_image()
        );
        let got = send(
            &op,
            Method::POST,
            &app.url("/api/stacks"),
            Some(json!({"name": name, "compose": compose})),
        )
        .await;
        assert_eq!(got.0, 403, "{volumes}: {}", got.1);
        assert!(
            got.1["error"]["message"]
                .as_str()
                .unwrap()
                .contains("host path"),
            "{}",
            got.1
        );
    }
    assert!(
        !app.data_dir().join("stacks").join(&name).exists(),
        "nothing was written"
    );
    assert_eq!(container_id(&format!("{name}_a_1")).await, None);

    // The same operator may run a stack with a named volume, stamped with their team.
    let compose = format!(
        "services:\n  a:\n    image: {}\n    command: [\"sh\", \"-c\", \"{IDLE}\"]\n    volumes: ['data:/data']\nvolumes:\n  data: {{}}\n",
        test_image()
    );
    let resp = op
        .post(app.url("/api/stacks"))
        .json(&json!({"name": name, "compose": compose}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let text = resp.text().await.unwrap();
    assert!(text.lines().last().unwrap().contains("\"done\""), "{text}");
    let d = daemon().await;
    let c = d
        .inspect_container(
            &format!("{name}_a_1"),
            None::<bollard::query_parameters::InspectContainerOptions>,
        )
        .await
        .unwrap();
    assert_eq!(
        c.config.unwrap().labels.unwrap()["berth.team"],
        team.as_str()
    );
    let got = send(
        &op,
        Method::DELETE,
        &app.url(&format!("/api/stacks/{name}?volumes=true")),
        None,
    )
    .await;
    assert_eq!(got.0, 200, "{}", got.1);
}

#[tokio::test]
async fn an_operators_host_powers_are_refused_with_the_key_and_its_line() {
    let app = TestApp::start().await;
    let team = unique("team");
    let op_name = unique("op");
    app.make_user(&op_name, "operator", &[&team]).await;
    let op = app.client_as(&op_name, USER_PASSWORD).await;
    let name = unique("powers");
    let _made = crate::compose_corpus::Cleanup::for_project(&name);
    let image = test_image();
    for (extra, key, line) in [
        ("    cap_add: [NET_ADMIN]\n", "cap_add", 5),
        ("    network_mode: host\n", "network_mode", 5),
        ("    devices: ['/dev/net/tun']\n", "devices", 5),
        ("    sysctls: { net.core.somaxconn: 1024 }\n", "sysctls", 5),
        ("    pid: host\n", "pid", 5),
        ("    security_opt: ['seccomp:unconfined']\n", "security_opt", 5),
        (
            "    deploy:\n      resources:\n        reservations:\n          devices: [{ capabilities: [gpu] }]\n",
            "deploy",
            5,
        ),
    ] {
        let compose = format!(
            "services:\n  other:\n    image: {image}\n  web:\n{extra}    image: {image}\n"
        );
        let got = send(
            &op,
            Method::POST,
            &app.url("/api/stacks"),
            Some(json!({"name": name, "compose": compose})),
        )
        .await;
        assert_eq!(got.0, 403, "{key}: {}", got.1);
        let msg = got.1["error"]["message"].as_str().unwrap_or_default();
        assert!(
            msg.contains(&format!("line {line}: service web ({key})")),
            "{key}: {msg}"
        );
        assert!(!msg.contains("not supported"), "{msg}");
    }
    assert!(!app.data_dir().join("stacks").join(&name).exists());
}

#[tokio::test]
async fn service_network_mode_replicas_and_no_start() {
    let app = TestApp::start().await;
    let team = unique("team");
    let op_name = unique("op");
    app.make_user(&op_name, "operator", &[&team]).await;
    let op = app.client_as(&op_name, USER_PASSWORD).await;
    let name = unique("netmode").replace('-', "");
    let _made = crate::compose_corpus::Cleanup::for_project(&name);
    let image = test_image();
    let compose = format!(
        "x-base: &base\n  image: {image}\n  command: [\"sh\", \"-c\", \"{IDLE}\"]\nservices:\n  vpn:\n    <<: *base\n  app:\n    <<: *base\n    network_mode: service:vpn\n    deploy:\n      replicas: 2\n      resources: {{ limits: {{ memory: 64m, pids: 50 }} }}\n"
    );
    let got = send(
        &op,
        Method::POST,
        &app.url("/api/stacks"),
        Some(json!({"name": name, "compose": compose, "up": false})),
    )
    .await;
    assert_eq!(got.0, 201, "{}", got.1);
    let resp = op
        .post(app.url(&format!("/api/stacks/{name}/up?no_start=true")))
        .send()
        .await
        .unwrap();
    let text = resp.text().await.unwrap();
    assert!(
        text.lines().last().unwrap_or_default().contains("\"done\""),
        "{text}"
    );
    let vpn = daemon_inspect(&format!("{name}_vpn_1")).await;
    for n in 1..=2 {
        let c = daemon_inspect(&format!("{name}_app_{n}")).await;
        assert_eq!(c["State"]["Status"], "created");
        assert_eq!(
            c["HostConfig"]["NetworkMode"],
            format!("container:{}", vpn["Id"].as_str().unwrap())
        );
        assert_eq!(c["HostConfig"]["Memory"], 64 << 20);
        assert_eq!(c["HostConfig"]["PidsLimit"], 50);
        assert_eq!(
            c["Config"]["Labels"]["com.docker.compose.container-number"],
            n.to_string()
        );
    }
    // Another team's operator cannot join this stack's container's network namespace.
    let other_team = unique("team");
    let other = unique("op");
    app.make_user(&other, "operator", &[&other_team]).await;
    let other = app.client_as(&other, USER_PASSWORD).await;
    let theirs = unique("thief").replace('-', "");
    let _theirs = crate::compose_corpus::Cleanup::for_project(&theirs);
    let got = send(
        &other,
        Method::POST,
        &app.url("/api/stacks"),
        Some(json!({"name": theirs, "compose": format!(
            "services:\n  s:\n    image: {image}\n    network_mode: container:{name}_vpn_1\n"
        )})),
    )
    .await;
    // Another team's container answers as a missing one.
    let last = got.1.to_string().to_lowercase();
    assert!(
        got.0 == 404 || last.contains("no such container"),
        "{}: {last}",
        got.0
    );
    assert_eq!(container_id(&format!("{theirs}_s_1")).await, None);
    let _ = send(
        &other,
        Method::DELETE,
        &app.url(&format!("/api/stacks/{theirs}?volumes=true")),
        None,
    )
    .await;
    let got = send(
        &op,
        Method::DELETE,
        &app.url(&format!("/api/stacks/{name}?volumes=true")),
        None,
    )
    .await;
    assert_eq!(got.0, 200, "{}", got.1);
}

#[tokio::test]
async fn secrets_and_configs_from_content_and_environment_are_in_the_container() {
    let app = TestApp::start().await;
    let team = unique("team");
    let op_name = unique("op");
    app.make_user(&op_name, "operator", &[&team]).await;
    let op = app.client_as(&op_name, USER_PASSWORD).await;
    let name = unique("secrets").replace('-', "");
    let _made = crate::compose_corpus::Cleanup::for_project(&name);
    let compose = format!(
        "services:\n  a:\n    image: {}\n    secrets: [{{ source: token, target: api-token, mode: 0400 }}]\n    configs: [{{ source: conf, target: /etc/app.conf }}]\nsecrets:\n  token: {{ environment: TOKEN }}\nconfigs:\n  conf: {{ content: \"port = 8080\" }}\n",
        test_image()
    );
    let got = send(
        &op,
        Method::POST,
        &app.url("/api/stacks"),
        Some(json!({"name": name, "compose": compose, "env": "TOKEN = s3cret  # a comment\n", "up": false})),
    )
    .await;
    assert_eq!(got.0, 201, "{}", got.1);
    let resp = op
        .post(app.url(&format!("/api/stacks/{name}/up?no_start=true")))
        .send()
        .await
        .unwrap();
    let text = resp.text().await.unwrap();
    assert!(
        text.lines().last().unwrap_or_default().contains("\"done\""),
        "{text}"
    );
    let cname = format!("{name}_a_1");
    for (path, want) in [
        ("/run/secrets/api-token", "s3cret"),
        ("/etc/app.conf", "port = 8080"),
    ] {
        let out = std::process::Command::new("docker")
            .args(["-H", &docker_host(), "cp", &format!("{cname}:{path}"), "-"])
            .output()
            .expect("docker cp");
        assert!(
            out.status.success(),
            "{path}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mut archive = tar::Archive::new(out.stdout.as_slice());
        let mut entry = archive.entries().unwrap().next().unwrap().unwrap();
        let mut content = String::new();
        std::io::Read::read_to_string(&mut entry, &mut content).unwrap();
        assert_eq!(content, want, "{path}");
    }
    let got = send(
        &op,
        Method::DELETE,
        &app.url(&format!("/api/stacks/{name}?volumes=true")),
        None,
    )
    .await;
    assert_eq!(got.0, 200, "{}", got.1);
}
