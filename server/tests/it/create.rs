//! `POST /api/containers` and `POST /api/containers/run`: every `docker run` option,
//! checked against the daemon's own inspect output.

use reqwest::Method;
use serde_json::{json, Value};

use crate::support::*;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap()
}

async fn create(app: &TestApp, body: Value) -> (reqwest::StatusCode, Value) {
    app.call(Method::POST, "/api/containers", Some(body)).await
}

#[tokio::test]
async fn create_applies_every_option() {
    let app = TestApp::start().await;
    let name = unique("create-all");
    let volume = unique("vol");
    let host_dir = tempfile::tempdir().unwrap();
    let host_path = host_dir.path().to_str().unwrap().to_string();
    let port = free_port();
    let (status, created) = create(
        &app,
        json!({
            "image": test_image(),
            "name": name,
            "cmd": ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"],
            "env": ["GREETING=hello world", "EMPTY="],
            "workdir": "/srv",
            "user": "1000:1000",
            "hostname": "berth-host",
            "ports": [
                {"host_ip": "127.0.0.1", "host_port": port, "container_port": 80},
                {"container_port": 53, "protocol": "udp"}
            ],
            "binds": [format!("{host_path}:/data:ro")],
            "volumes": [{"name": volume, "target": "/vol", "read_only": false}],
            "privileged": true,
            "tty": true,
            "open_stdin": true,
            "restart": "on-failure:2",
            "labels": {"berth-test": "1", "purpose": "create-all"},
        }),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap().to_string();
    assert!(created["warnings"].is_array());

    let info = daemon_inspect(&id).await;
    assert_eq!(info["Name"], format!("/{name}"));
    assert_eq!(info["State"]["Status"], "running", "started by default");
    let cfg = &info["Config"];
    assert_eq!(cfg["Cmd"][0], "sh");
    let env: Vec<&str> = cfg["Env"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        env.contains(&"GREETING=hello world") && env.contains(&"EMPTY="),
        "{env:?}"
    );
    assert_eq!(cfg["WorkingDir"], "/srv");
    assert_eq!(cfg["User"], "1000:1000");
    assert_eq!(cfg["Hostname"], "berth-host");
    assert_eq!(cfg["Tty"], true);
    assert_eq!(cfg["OpenStdin"], true);
    assert_eq!(cfg["Labels"]["purpose"], "create-all");
    let hc = &info["HostConfig"];
    assert_eq!(hc["Privileged"], true);
    assert_eq!(hc["RestartPolicy"]["Name"], "on-failure");
    assert_eq!(hc["RestartPolicy"]["MaximumRetryCount"], 2);
    assert_eq!(hc["PortBindings"]["80/tcp"][0]["HostIp"], "127.0.0.1");
    assert_eq!(
        hc["PortBindings"]["80/tcp"][0]["HostPort"],
        port.to_string()
    );
    // `-p 53/udp`: any free host port, as docker run does.
    assert_eq!(hc["PortBindings"]["53/udp"][0]["HostPort"], "");
    let published = &info["NetworkSettings"]["Ports"]["53/udp"][0]["HostPort"];
    assert!(
        published
            .as_str()
            .is_some_and(|p| p.parse::<u16>().unwrap_or(0) > 0),
        "{published}"
    );
    let mounts = info["Mounts"].as_array().unwrap();
    let bind = mounts.iter().find(|m| m["Destination"] == "/data").unwrap();
    assert_eq!(bind["Type"], "bind");
    assert_eq!(bind["Source"], host_path.as_str());
    assert_eq!(bind["RW"], false);
    let vol = mounts.iter().find(|m| m["Destination"] == "/vol").unwrap();
    assert_eq!(vol["Type"], "volume");
    assert_eq!(vol["Name"], volume.as_str());
    assert_eq!(vol["RW"], true);

    remove_container(&id).await;
    docker_cli(&["volume", "rm", &volume]);
}

#[tokio::test]
async fn entrypoint_can_be_replaced_or_cleared_and_start_can_wait() {
    let app = TestApp::start().await;
    // An image of our own with an entrypoint, made by commit (no registry needed).
    let base = unique("ep-base");
    let base_id = make_container(&base, false).await;
    let image = format!("berth-test/{}:ep", unique("ep").to_lowercase());
    docker_cli(&[
        "commit",
        "--change",
        r#"ENTRYPOINT ["echo", "from-entrypoint"]"#,
        &base,
        &image,
    ]);
    remove_container(&base_id).await;

    let name = unique("ep-cleared");
    let (status, created) = create(
        &app,
        json!({"image": image, "name": name, "entrypoint": [], "cmd": ["echo", "plain"],
               "start": false, "auto_remove": true, "labels": {"berth-test": "1"}}),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap().to_string();
    let info = daemon_inspect(&id).await;
    assert_eq!(
        info["State"]["Status"], "created",
        "start: false leaves it created"
    );
    assert!(
        info["Config"]["Entrypoint"]
            .as_array()
            .is_none_or(|e| e.is_empty()),
        "entrypoint cleared: {}",
        info["Config"]["Entrypoint"]
    );
    assert_eq!(info["Path"], "echo");
    assert_eq!(info["Args"], json!(["plain"]));
    assert_eq!(info["HostConfig"]["AutoRemove"], true);
    remove_container(&id).await;

    let name = unique("ep-replaced");
    let (status, created) = create(
        &app,
        json!({"image": image, "name": name, "entrypoint": ["printf", "%s-"], "cmd": ["a", "b"],
               "start": false, "labels": {"berth-test": "1"}}),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap().to_string();
    let info = daemon_inspect(&id).await;
    assert_eq!(info["Path"], "printf");
    assert_eq!(info["Args"], json!(["%s-", "a", "b"]));
    remove_container(&id).await;
    docker_cli(&["rmi", &image]);
}

#[tokio::test]
async fn network_fixed_ip_and_links() {
    let app = TestApp::start().await;
    let net = unique("net");
    // A /24 of its own in 10.0.0.0/8, picked from the process id and a counter.
    let third = (std::process::id() % 200) as u8 + 20;
    let subnet = format!("10.{}.{third}.0/24", 180 + (rand_byte() % 60));
    let prefix = subnet.trim_end_matches("0/24").to_string();
    docker_cli(&[
        "network",
        "create",
        "--subnet",
        &subnet,
        "--label",
        "berth-test=1",
        &net,
    ]);

    let name = unique("fixed-ip");
    let ip = format!("{prefix}77");
    let (status, created) = create(
        &app,
        json!({"image": test_image(), "name": name, "network": net, "ipv4": ip,
               "cmd": ["sleep", "30"], "labels": {"berth-test": "1"}}),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap().to_string();
    let info = daemon_inspect(&id).await;
    assert_eq!(info["HostConfig"]["NetworkMode"], net.as_str());
    let ep = &info["NetworkSettings"]["Networks"][net.as_str()];
    assert_eq!(ep["IPAMConfig"]["IPv4Address"], ip.as_str());
    assert_eq!(ep["IPAddress"], ip.as_str());
    remove_container(&id).await;
    docker_cli(&["network", "rm", &net]);

    // Links: on the default bridge, `--link target:alias`.
    let target = unique("link-target");
    let target_id = make_container(&target, true).await;
    let name = unique("linker");
    let (status, created) = create(
        &app,
        json!({"image": test_image(), "name": name, "links": [format!("{target}:db")],
               "cmd": ["sleep", "30"], "labels": {"berth-test": "1"}}),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap().to_string();
    let info = daemon_inspect(&id).await;
    assert_eq!(
        info["HostConfig"]["Links"],
        json!([format!("/{target}:/{name}/db")])
    );
    remove_container(&id).await;

    // On a user-defined network the link is that network's (as `docker run --network`
    // makes it): the daemon ignores HostConfig.Links there.
    let net = unique("linknet");
    docker_cli(&["network", "create", "--label", "berth-test=1", &net]);
    docker_cli(&["network", "connect", &net, &target]);
    let name = unique("linker-net");
    let (status, created) = create(
        &app,
        json!({"image": test_image(), "name": name, "network": net,
               "links": [format!("{target}:db")],
               "cmd": ["sleep", "30"], "labels": {"berth-test": "1"}}),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap().to_string();
    let info = daemon_inspect(&id).await;
    assert_eq!(
        info["NetworkSettings"]["Networks"][net.as_str()]["Links"],
        json!([format!("{target}:db")])
    );
    remove_container(&id).await;
    remove_container(&target_id).await;
    docker_cli(&["network", "rm", &net]);
}

fn rand_byte() -> u8 {
    use std::time::{SystemTime, UNIX_EPOCH};
    (SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .subsec_nanos()
        % 251) as u8
}

#[tokio::test]
async fn bad_inputs_get_400s_that_name_the_field() {
    let app = TestApp::start().await;
    let img = test_image();
    let cases = [
        (
            json!({"image": img, "binds": ["relative/dir:/src"]}),
            "invalid_bind",
            "binds[0]",
        ),
        (
            json!({"image": img, "ports": [{"container_port": 80, "host_port": 70000}]}),
            "invalid_port",
            "host_port",
        ),
        (
            json!({"image": img, "ports": [{"container_port": 0}]}),
            "invalid_port",
            "container_port",
        ),
        (
            json!({"image": img, "restart": "sometimes"}),
            "invalid_restart",
            "restart",
        ),
        (
            json!({"image": img, "name": "no spaces/allowed"}),
            "invalid_name",
            "name",
        ),
        (
            json!({"image": img, "env": ["JUSTAKEY"]}),
            "invalid_env",
            "env[0]",
        ),
        (
            json!({"image": img, "workdir": "relative"}),
            "invalid_workdir",
            "workdir",
        ),
        (
            json!({"image": img, "ipv4": "10.1.2.3"}),
            "invalid_ipv4",
            "ipv4",
        ),
        (
            json!({"image": img, "auto_remove": true, "restart": "always"}),
            "invalid_restart",
            "restart",
        ),
        (json!({"name": "x1"}), "invalid_image", "image"),
    ];
    for (body, code, field) in cases {
        let got = create(&app, body.clone()).await;
        assert_error(&got, 400, code);
        let msg = got.1["error"]["message"].as_str().unwrap();
        assert!(
            msg.contains(field),
            "{body}: the message names {field}: {msg}"
        );
    }
    let got = create(&app, json!({"image": "berth-test/never-pulled:nope"})).await;
    assert_error(&got, 404, "image_not_found");
    let got = app
        .call(
            Method::POST,
            "/api/containers/run",
            Some(json!({"image": "berth-test/never-pulled:nope"})),
        )
        .await;
    assert_error(&got, 404, "image_not_found");
    // A name that is taken: the daemon's conflict.
    let name = unique("taken");
    let id = make_container(&name, false).await;
    let got = create(&app, json!({"image": img, "name": name})).await;
    assert_error(&got, 409, "conflict");
    remove_container(&id).await;
}

#[tokio::test]
async fn run_once_streams_output_and_reports_the_exit_code() {
    let app = TestApp::start().await;
    // As `docker run --rm -v dir:/src -w /src gcc make`: a script in a host folder.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("build.sh"),
        "echo compiling; echo 'warning: careful' >&2; echo done > /src/out.txt; exit 3\n",
    )
    .unwrap();
    let name = unique("run-once");
    let resp = app
        .client
        .post(app.url("/api/containers/run"))
        .json(&json!({
            "image": test_image(), "name": name,
            "binds": [format!("{}:/src", dir.path().display())], "workdir": "/src",
            "cmd": ["sh", "build.sh"], "labels": {"berth-test": "1"},
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "application/x-ndjson");
    let text = resp.text().await.unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let id = lines[0]["id"].as_str().expect("first the id").to_string();
    assert!(
        lines.contains(&json!({"stream": "stdout", "line": "compiling"})),
        "{text}"
    );
    assert!(
        lines.contains(&json!({"stream": "stderr", "line": "warning: careful"})),
        "{text}"
    );
    assert_eq!(lines.last().unwrap(), &json!({"exit_code": 3}), "{text}");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("out.txt")).unwrap(),
        "done\n"
    );
    // Removed afterwards, like --rm.
    let mut gone = false;
    for _ in 0..50 {
        if daemon_state(&id).await.is_none() {
            gone = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(gone, "the run-once container was removed");
}
