//! Ownership everywhere: a hostile operator of team red tries every way to reach team blue's
//! networks, volumes, stacks and images, or the host through a reference — through the
//! create form, run-once, the stack engine (first up and recreate), network connect, tags,
//! saves and builds — and is refused with the answer a missing resource gets, or a 403/409
//! naming what is wrong. The owners (and admins) still can.

use reqwest::{Client, Method, StatusCode};
use serde_json::{json, Value};

use crate::imgkit::tar_of;
use crate::support::*;

const IDLE: &str = "trap 'exit 0' TERM; while true; do sleep 1; done";

/// A streamed answer (ndjson) as one client: status and lines.
async fn lines(
    c: &Client,
    url: &str,
    body: reqwest::Body,
    ctype: &str,
) -> (StatusCode, Vec<Value>) {
    let resp = c
        .post(url)
        .header("content-type", ctype)
        .body(body)
        .send()
        .await
        .expect("request");
    let status = resp.status();
    let text = resp.text().await.expect("body");
    if !status.is_success() {
        return (
            status,
            vec![serde_json::from_str(&text).unwrap_or(Value::Null)],
        );
    }
    let out = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("line {l:?}: {e}")))
        .collect();
    (status, out)
}

/// The error a stream (or its answer) ended with: its code and message.
fn stream_error(status: StatusCode, lines: &[Value]) -> (String, String) {
    let last = lines.last().cloned().unwrap_or(Value::Null);
    // A failure before the stream started is the answer itself, as one line.
    let err = last["error"].clone();
    assert!(
        !err.is_null(),
        "expected a failure, got {status}: {lines:#?}"
    );
    (
        err["code"].as_str().unwrap_or_default().to_owned(),
        err["message"].as_str().unwrap_or_default().to_owned(),
    )
}

fn stream_ok(status: StatusCode, lines: &[Value]) {
    assert!(status.is_success(), "{status}: {lines:#?}");
    let last = lines.last().expect("lines");
    assert!(
        last["error"].is_null() && last["step"] != "error",
        "the stream failed: {lines:#?}"
    );
}

async fn stack_up(
    c: &Client,
    app: &TestApp,
    name: &str,
    compose: &str,
) -> (StatusCode, Vec<Value>) {
    lines(
        c,
        &app.url("/api/stacks"),
        json!({"name": name, "compose": compose}).to_string().into(),
        "application/json",
    )
    .await
}

async fn run_container(c: &Client, app: &TestApp, body: Value) -> (StatusCode, Value) {
    send(c, Method::POST, &app.url("/api/containers"), Some(body)).await
}

/// What a test made on the daemon, removed when it ends (also when it fails): containers by
/// a label of the test's own, stacks with their networks and volumes, named networks and
/// volumes. Each test has its own, so parallel tests never remove each other's.
struct Made {
    tag: String,
    stacks: std::sync::Mutex<Vec<String>>,
    networks: std::sync::Mutex<Vec<String>>,
    volumes: std::sync::Mutex<Vec<String>>,
}

impl Made {
    fn new() -> Made {
        Made {
            tag: unique("own"),
            stacks: Default::default(),
            networks: Default::default(),
            volumes: Default::default(),
        }
    }

    fn stack(&self, name: &str) -> String {
        self.stacks.lock().unwrap().push(name.to_owned());
        name.to_owned()
    }

    fn network(&self, name: &str) -> String {
        self.networks.lock().unwrap().push(name.to_owned());
        name.to_owned()
    }

    fn volume(&self, name: &str) -> String {
        self.volumes.lock().unwrap().push(name.to_owned());
        name.to_owned()
    }

    /// A create body for an idle container of `image`, labelled as this test's.
    fn idle(&self, image: &str, extra: Value) -> Value {
        let mut body = json!({"image": image, "cmd": ["sh", "-c", IDLE]});
        if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
            b.extend(e.clone());
        }
        let labels = body["labels"].as_object().cloned().unwrap_or_default();
        let mut labels = labels;
        labels.insert("berth-it".into(), json!(self.tag));
        body["labels"] = Value::Object(labels);
        body
    }
}

/// `docker ARGS` on the test daemon, its output; failures (already gone) are fine here.
fn quiet_docker(args: &[&str]) -> String {
    std::process::Command::new("docker")
        .args(["-H", &docker_host()])
        .args(args)
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default()
}

fn remove_labelled(filter: &str) {
    let ids = quiet_docker(&["ps", "-aq", "--filter", filter]);
    let ids: Vec<&str> = ids.split_whitespace().collect();
    if !ids.is_empty() {
        let mut args = vec!["rm", "-f", "-v"];
        args.extend(ids);
        quiet_docker(&args);
    }
}

impl Drop for Made {
    fn drop(&mut self) {
        remove_labelled(&format!("label=berth-it={}", self.tag));
        let stacks = self.stacks.lock().map(|s| s.clone()).unwrap_or_default();
        for s in &stacks {
            remove_labelled(&format!("label=com.docker.compose.project={s}"));
        }
        for s in &stacks {
            for n in quiet_docker(&[
                "network",
                "ls",
                "-q",
                "--filter",
                &format!("label=com.docker.compose.project={s}"),
            ])
            .split_whitespace()
            {
                quiet_docker(&["network", "rm", n]);
            }
            quiet_docker(&["network", "rm", &format!("{s}_default")]);
            for v in quiet_docker(&[
                "volume",
                "ls",
                "-q",
                "--filter",
                &format!("label=com.docker.compose.project={s}"),
            ])
            .split_whitespace()
            {
                quiet_docker(&["volume", "rm", v]);
            }
        }
        for n in self.networks.lock().map(|s| s.clone()).unwrap_or_default() {
            quiet_docker(&["network", "rm", &n]);
        }
        for v in self.volumes.lock().map(|s| s.clone()).unwrap_or_default() {
            quiet_docker(&["volume", "rm", "-f", &v]);
        }
    }
}

/// The (status, code) a request gets, for comparing a foreign resource with a missing one.
fn shape(got: &(StatusCode, Value)) -> (u16, Value) {
    (got.0.as_u16(), got.1["error"]["code"].clone())
}

#[tokio::test]
async fn another_teams_network_is_a_missing_one() {
    let app = TestApp::start().await;
    let t = app.two_teams().await;
    let made = Made::new();
    let net = made.network(&unique("blue-net"));
    let (s, created) = send(
        &t.op_blue,
        Method::POST,
        &app.url("/api/networks"),
        Some(json!({"name": net})),
    )
    .await;
    assert_eq!(s, 201, "{created}");
    let net_id = created["id"].as_str().unwrap().to_owned();
    let missing = unique("no-such-net");

    // The create form, by name and by id prefix, and run-once: as if it did not exist.
    let by_missing = run_container(
        &t.op_red,
        &app,
        made.idle(&test_image(), json!({"network": missing})),
    )
    .await;
    assert_eq!(by_missing.0, 404, "{}", by_missing.1);
    for reference in [net.clone(), net_id[..12].to_owned()] {
        let got = run_container(
            &t.op_red,
            &app,
            made.idle(&test_image(), json!({"network": reference})),
        )
        .await;
        assert_eq!(shape(&got), shape(&by_missing), "{}", got.1);
    }
    let (s, l) = lines(
        &t.op_red,
        &app.url("/api/containers/run"),
        json!({"image": test_image(), "cmd": ["true"], "network": net})
            .to_string()
            .into(),
        "application/json",
    )
    .await;
    assert_eq!(s, 404, "{l:?}");

    // Connecting one's own container to it.
    let (s, mine) = run_container(&t.op_red, &app, made.idle(&test_image(), json!({}))).await;
    assert_eq!(s, 201, "{mine}");
    let mine = mine["id"].as_str().unwrap().to_owned();
    let got = send(
        &t.op_red,
        Method::POST,
        &app.url(&format!("/api/networks/{net}/connect")),
        Some(json!({"container": mine})),
    )
    .await;
    assert_eq!(got.0, 404, "{}", got.1);

    // A stack, external by name, on first up and on a recreate.
    let stack = made.stack(&unique("redext"));
    let ext = format!(
        "services:\n  a:\n    image: {}\n    command: [\"sh\", \"-c\", \"{IDLE}\"]\n    networks: [n]\nnetworks:\n  n:\n    external: true\n    name: {net}\n",
        test_image()
    );
    let (s, l) = stack_up(&t.op_red, &app, &stack, &ext).await;
    let (code, msg) = stream_error(s, &l);
    assert_eq!(code, "missing_external_network", "{msg}");
    let stack2 = made.stack(&unique("redrec"));
    let plain = format!(
        "services:\n  a:\n    image: {}\n    command: [\"sh\", \"-c\", \"{IDLE}\"]\n",
        test_image()
    );
    let (s, l) = stack_up(&t.op_red, &app, &stack2, &plain).await;
    stream_ok(s, &l);
    let (s, b) = send(
        &t.op_red,
        Method::PUT,
        &app.url(&format!("/api/stacks/{stack2}")),
        Some(json!({"compose": ext})),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    let (s, l) = lines(
        &t.op_red,
        &app.url(&format!("/api/stacks/{stack2}/up")),
        "".into(),
        "application/json",
    )
    .await;
    let (code, _) = stream_error(s, &l);
    assert_eq!(code, "missing_external_network");

    // Blue's network is blue's to use, and an admin's.
    let (s, b) = run_container(
        &t.op_blue,
        &app,
        made.idle(&test_image(), json!({"network": net})),
    )
    .await;
    assert_eq!(s, 201, "{b}");
    let (s, b) = app
        .call(
            Method::POST,
            "/api/containers",
            Some(made.idle(&test_image(), json!({"network": net}))),
        )
        .await;
    assert_eq!(s, 201, "{b}");

    // The built-in bridge stays usable, and lists none of blue's containers to red.
    let (s, b) = run_container(
        &t.op_red,
        &app,
        made.idle(&test_image(), json!({"network": "bridge"})),
    )
    .await;
    assert_eq!(s, 201, "{b}");
    let (s, blue_c) = run_container(&t.op_blue, &app, made.idle(&test_image(), json!({}))).await;
    assert_eq!(s, 201);
    let blue_c = blue_c["id"].as_str().unwrap().to_owned();
    let (_, bridge) = send(
        &t.op_red,
        Method::GET,
        &app.url("/api/networks/bridge"),
        None,
    )
    .await;
    let members = bridge["Containers"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    assert!(
        !members.contains_key(&blue_c),
        "red sees blue's container on bridge"
    );
    let (_, list) = send(&t.op_red, Method::GET, &app.url("/api/networks"), None).await;
    let bridge = list
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["name"] == "bridge")
        .unwrap();
    assert!(!bridge.to_string().contains(&blue_c));
    assert!(
        !list.to_string().contains(&net),
        "blue's network is not listed to red"
    );
}

#[tokio::test]
async fn another_teams_volume_and_host_reaching_volumes_are_not_mounted() {
    let app = TestApp::start().await;
    let t = app.two_teams().await;
    let made = Made::new();
    let vol = made.volume(&unique("blue-vol"));
    let (s, b) = send(
        &t.op_blue,
        Method::POST,
        &app.url("/api/volumes"),
        Some(json!({"name": vol})),
    )
    .await;
    assert_eq!(s, 201, "{b}");

    let mount = |name: &str| json!({"volumes": [{"name": name, "target": "/data"}]});
    let got = run_container(&t.op_red, &app, made.idle(&test_image(), mount(&vol))).await;
    assert_error(&got, 409, "conflict");
    assert!(got.1["error"]["message"].as_str().unwrap().contains(&vol));

    // Through the stack engine: external by name (as missing), and by `name:` alone (409).
    let ext = format!(
        "services:\n  a:\n    image: {}\n    command: [\"sh\", \"-c\", \"{IDLE}\"]\n    volumes: [\"v:/data\"]\nvolumes:\n  v:\n    external: true\n    name: {vol}\n",
        test_image()
    );
    let (s, l) = stack_up(&t.op_red, &app, &made.stack(&unique("redvol")), &ext).await;
    assert_eq!(stream_error(s, &l).0, "missing_external_volume");
    let named = ext.replace("    external: true\n", "");
    let (s, l) = stack_up(&t.op_red, &app, &made.stack(&unique("redvol")), &named).await;
    let (code, msg) = stream_error(s, &l);
    assert_eq!(code, "conflict", "{msg}");
    assert!(msg.contains(&vol), "{msg}");

    // Nor browsed: as missing.
    let foreign = send(
        &t.op_red,
        Method::GET,
        &app.url(&format!("/api/volumes/{vol}/files")),
        None,
    )
    .await;
    let none = send(
        &t.op_red,
        Method::GET,
        &app.url(&format!("/api/volumes/{}/files", unique("novol"))),
        None,
    )
    .await;
    assert_eq!(foreign.0, 404, "{}", foreign.1);
    assert_eq!(shape(&foreign), shape(&none));

    // Blue mounts its own.
    let (s, b) = run_container(&t.op_blue, &app, made.idle(&test_image(), mount(&vol))).await;
    assert_eq!(s, 201, "{b}");

    // An admin's shared volume that binds a host folder is a host power to mount.
    let dir = tempfile::tempdir().unwrap();
    let hostvol = made.volume(&unique("hostvol"));
    let (s, b) = app
        .call(
            Method::POST,
            "/api/volumes",
            Some(json!({
                "name": hostvol,
                "options": {"type": "none", "o": "bind", "device": dir.path().to_str().unwrap()},
                "labels": {"berth.shared": "true"}
            })),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    let got = run_container(&t.op_red, &app, made.idle(&test_image(), mount(&hostvol))).await;
    assert_error(&got, 403, "forbidden");
    // Browsing it would read the host folder too.
    std::fs::write(dir.path().join("host-secret"), "x").unwrap();
    let got = send(
        &t.op_red,
        Method::GET,
        &app.url(&format!("/api/volumes/{hostvol}/files")),
        None,
    )
    .await;
    assert_error(&got, 403, "forbidden");
    assert!(got.1["error"]["message"]
        .as_str()
        .unwrap()
        .contains(&hostvol));
    let ext_host = ext.replace(&vol, &hostvol);
    let (s, l) = stack_up(&t.op_red, &app, &made.stack(&unique("redhost")), &ext_host).await;
    assert_eq!(stream_error(s, &l).0, "forbidden");
    // As a `Mounts` entry of a volume type, through the same form's binds? Binds are host
    // paths and refused outright; the admin may.
    let (s, b) = app
        .call(
            Method::POST,
            "/api/containers",
            Some(made.idle(&test_image(), mount(&hostvol))),
        )
        .await;
    assert_eq!(s, 201, "{b}");
}

#[tokio::test]
async fn a_stacks_names_cannot_be_squatted() {
    let app = TestApp::start().await;
    let t = app.two_teams().await;
    let made = Made::new();
    let stack = made.stack(&unique("bluestack"));
    let compose = format!(
        "services:\n  a:\n    image: {}\n    command: [\"sh\", \"-c\", \"{IDLE}\"]\n    volumes: [\"data:/data\"]\nvolumes:\n  data: {{}}\n",
        test_image()
    );

    // Red makes the default network ahead of blue, even with Compose's labels on it.
    let (s, b) = send(
        &t.op_red,
        Method::POST,
        &app.url("/api/networks"),
        Some(json!({"name": format!("{stack}_default"),
                    "labels": {"com.docker.compose.project": stack, "com.docker.compose.network": "default"}})),
    )
    .await;
    assert_eq!(s, 201, "{b}");
    let (s, l) = stack_up(&t.op_blue, &app, &stack, &compose).await;
    let (code, msg) = stream_error(s, &l);
    assert_eq!(code, "conflict", "{msg}");
    assert!(msg.contains(&format!("{stack}_default")), "{msg}");
    let (s, b) = send(
        &t.op_red,
        Method::DELETE,
        &app.url(&format!("/api/networks/{stack}_default")),
        None,
    )
    .await;
    assert_eq!(s, 204, "{b}");

    // Then the data volume.
    let (s, b) = send(
        &t.op_red,
        Method::POST,
        &app.url("/api/volumes"),
        Some(json!({"name": format!("{stack}_data")})),
    )
    .await;
    assert_eq!(s, 201, "{b}");
    let (s, l) = lines(
        &t.op_blue,
        &app.url(&format!("/api/stacks/{stack}/up")),
        "".into(),
        "application/json",
    )
    .await;
    let (code, msg) = stream_error(s, &l);
    assert_eq!(code, "conflict", "{msg}");
    assert!(msg.contains(&format!("{stack}_data")), "{msg}");
    let (s, _) = send(
        &t.op_red,
        Method::DELETE,
        &app.url(&format!("/api/volumes/{stack}_data")),
        None,
    )
    .await;
    assert_eq!(s, 204);

    // With the names free, blue's stack comes up with its own network and volume.
    let (s, l) = lines(
        &t.op_blue,
        &app.url(&format!("/api/stacks/{stack}/up")),
        "".into(),
        "application/json",
    )
    .await;
    stream_ok(s, &l);
    let vol = daemon()
        .await
        .inspect_volume(&format!("{stack}_data"))
        .await
        .unwrap();
    assert_ne!(
        vol.labels.get("berth.team").map(String::as_str),
        Some(t.red.as_str())
    );

    // A container labelled with blue's project by red does not join it or lock blue out.
    let (s, b) = run_container(
        &t.op_red,
        &app,
        made.idle(&test_image(), json!({"labels": {"com.docker.compose.project": stack, "com.docker.compose.service": "a"}})),
    )
    .await;
    assert_eq!(s, 201, "{b}");
    let labels = daemon_inspect(b["id"].as_str().unwrap()).await["Config"]["Labels"].clone();
    assert!(
        labels.get("com.docker.compose.project").is_none(),
        "{labels}"
    );
    let (s, b) = send(
        &t.op_blue,
        Method::GET,
        &app.url(&format!("/api/stacks/{stack}")),
        None,
    )
    .await;
    assert_eq!(s, 200, "{b}");
    // Red neither sees blue's stack nor learns it exists.
    let foreign = send(
        &t.op_red,
        Method::GET,
        &app.url(&format!("/api/stacks/{stack}")),
        None,
    )
    .await;
    let missing = send(
        &t.op_red,
        Method::GET,
        &app.url(&format!("/api/stacks/{}", unique("nostack"))),
        None,
    )
    .await;
    assert_eq!(shape(&foreign), shape(&missing));
    // Validating against blue's folder reads nothing of it.
    let probe = json!({"compose": "services:\n  a:\n    image: x\n    env_file: .env\n"});
    let mut a = probe.clone();
    a["name"] = json!(stack);
    let mut b = probe.clone();
    b["name"] = json!(unique("nostack"));
    let va = send(
        &t.op_red,
        Method::POST,
        &app.url("/api/stacks/validate"),
        Some(a),
    )
    .await;
    let vb = send(
        &t.op_red,
        Method::POST,
        &app.url("/api/stacks/validate"),
        Some(b),
    )
    .await;
    assert_eq!(va, vb);
}

/// Build an image as `c` from busybox with these Dockerfile lines.
async fn build_as(
    c: &Client,
    app: &TestApp,
    tag: &str,
    dockerfile: &str,
) -> (StatusCode, Vec<Value>) {
    lines(
        c,
        &app.url(&format!("/api/images/build?t={tag}")),
        tar_of(&[("Dockerfile", dockerfile)]).into(),
        "application/x-tar",
    )
    .await
}

#[tokio::test]
async fn image_labels_and_tags_decide_nothing_and_belong_to_their_team() {
    let app = TestApp::start().await;
    let t = app.two_teams().await;
    let made = Made::new();
    let base = test_image();

    // Red bakes berth's and Compose's labels into an image.
    let evil = format!("{}:1", unique("red-evil"));
    let df = format!(
        "FROM {base}\nLABEL berth.team={} berth.shared=true com.docker.compose.project=someproj\n",
        t.red
    );
    let (s, l) = build_as(&t.op_red, &app, &evil, &df).await;
    stream_ok(s, &l);
    // An admin runs it: it stays the admin's, not red's.
    let (s, b) = app
        .call(
            Method::POST,
            "/api/containers",
            Some(made.idle(&evil, json!({}))),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    let admins = b["id"].as_str().unwrap().to_owned();
    let labels = daemon_inspect(&admins).await["Config"]["Labels"].clone();
    assert_eq!(labels["berth.team"], "", "{labels}");
    assert_eq!(labels["berth.shared"], "false", "{labels}");
    assert_eq!(labels["com.docker.compose.project"], "", "{labels}");
    for path in [
        format!("/api/containers/{admins}"),
        format!("/api/containers/{}", &admins[..12]),
    ] {
        let got = send(&t.op_red, Method::GET, &app.url(&path), None).await;
        assert_error(&got, 404, "not_found");
    }
    let (_, stacks) = app.get("/api/stacks").await;
    assert!(!stacks
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s["name"] == "" || s["name"] == "someproj"));

    // Blue's own tag.
    let repo = unique("bluepriv");
    let blue_tag = format!("{repo}:1");
    let (s, l) = build_as(
        &t.op_blue,
        &app,
        &blue_tag,
        &format!("FROM {base}\nLABEL secret=blue\n"),
    )
    .await;
    stream_ok(s, &l);

    // Red cannot see, inspect, save, run, build from, untag or overwrite it; nor can a viewer.
    let (_, list) = send(&t.op_red, Method::GET, &app.url("/api/images"), None).await;
    assert!(!list.to_string().contains(&repo), "listed to red");
    let missing = format!("{}:1", unique("nosuch"));
    for who in [&t.op_red, &t.viewer] {
        for path in [
            format!("/api/images/{}", crate::imgkit::enc(&blue_tag)),
            format!("/api/images/save?names={}", crate::imgkit::enc(&blue_tag)),
        ] {
            let got = send(who, Method::GET, &app.url(&path), None).await;
            let none = send(
                who,
                Method::GET,
                &app.url(&path.replace(&blue_tag, &missing)),
                None,
            )
            .await;
            assert_eq!(got.0, 404, "{path}: {}", got.1);
            assert_eq!(shape(&got), shape(&none), "{path}");
        }
    }
    let got = run_container(&t.op_red, &app, made.idle(&blue_tag, json!({}))).await;
    assert_error(&got, 404, "image_not_found");
    let (s, l) = build_as(
        &t.op_red,
        &app,
        &format!("{}:1", unique("red-from")),
        &format!("FROM {blue_tag}\n"),
    )
    .await;
    assert_eq!(stream_error(s, &l).0, "image_not_found");
    let (s, l) = build_as(
        &t.op_red,
        &app,
        &format!("{}:1", unique("red-copy")),
        &format!("FROM {base}\nCOPY --from={blue_tag} / /stolen\n"),
    )
    .await;
    assert_eq!(stream_error(s, &l).0, "image_not_found");
    let got = send(
        &t.op_red,
        Method::DELETE,
        &app.url(&format!("/api/images/{}", crate::imgkit::enc(&blue_tag))),
        None,
    )
    .await;
    assert_eq!(got.0, 404, "{}", got.1);
    let got = send(
        &t.op_red,
        Method::POST,
        &app.url(&format!("/api/images/{}/tag", crate::imgkit::enc(&evil))),
        Some(json!({"repo": repo, "tag": "1"})),
    )
    .await;
    assert_error(&got, 409, "conflict");
    let (s, l) = build_as(&t.op_red, &app, &blue_tag, &format!("FROM {base}\n")).await;
    assert_eq!(stream_error(s, &l).0, "conflict");
    // Nor a shared image everyone runs.
    let got = send(
        &t.op_red,
        Method::POST,
        &app.url(&format!("/api/images/{}/tag", crate::imgkit::enc(&evil))),
        Some(json!({"repo": base.split(':').next().unwrap(), "tag": base.split(':').nth(1).unwrap_or("latest")})),
    )
    .await;
    assert_error(&got, 409, "conflict");
    let got = send(
        &t.op_red,
        Method::DELETE,
        &app.url(&format!("/api/images/{}", crate::imgkit::enc(&base))),
        None,
    )
    .await;
    assert_error(&got, 403, "forbidden");

    // Nor brought back by loading an archive that carries blue's tag, or by a commit.
    let resp = app
        .client
        .get(app.url(&format!(
            "/api/images/save?names={}",
            crate::imgkit::enc(&blue_tag)
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let archive = resp.bytes().await.unwrap().to_vec();
    let (s, l) = lines(
        &t.op_red,
        &app.url("/api/images/load"),
        archive.clone().into(),
        "application/x-tar",
    )
    .await;
    let (code, msg) = stream_error(s, &l);
    assert_eq!(code, "conflict", "{msg}");
    assert!(msg.contains(&blue_tag), "{msg}");
    let (s, mine) = run_container(&t.op_red, &app, made.idle(&base, json!({"start": false}))).await;
    assert_eq!(s, 201, "{mine}");
    let got = send(
        &t.op_red,
        Method::POST,
        &app.url(&format!(
            "/api/containers/{}/commit",
            mine["id"].as_str().unwrap()
        )),
        Some(json!({"repo": repo, "tag": "1"})),
    )
    .await;
    assert_error(&got, 409, "conflict");
    // Blue loads its own archive back.
    let (s, l) = lines(
        &t.op_blue,
        &app.url("/api/images/load"),
        archive.into(),
        "application/x-tar",
    )
    .await;
    stream_ok(s, &l);

    // Blue still has its image, runs it and builds from it; red's own image is red's.
    assert!(crate::imgkit::image_id(&blue_tag).await.is_some());
    let (s, b) = run_container(&t.op_blue, &app, made.idle(&blue_tag, json!({}))).await;
    assert_eq!(s, 201, "{b}");
    let (s, l) = build_as(
        &t.op_blue,
        &app,
        &format!("{repo}:2"),
        &format!("FROM {blue_tag}\n"),
    )
    .await;
    stream_ok(s, &l);
    let got = send(
        &t.op_red,
        Method::DELETE,
        &app.url(&format!(
            "/api/images/{}?force=true",
            crate::imgkit::enc(&evil)
        )),
        None,
    )
    .await;
    assert_eq!(got.0, 200, "{}", got.1);
    for tag in [blue_tag, format!("{repo}:2")] {
        crate::imgkit::drop_image(&tag).await;
    }
}

#[tokio::test]
async fn container_references_are_resolved_and_owned() {
    let app = TestApp::start().await;
    let t = app.two_teams().await;
    let made = Made::new();
    let name = unique("bluec");
    let (s, b) = run_container(
        &t.op_blue,
        &app,
        made.idle(&test_image(), json!({"name": name})),
    )
    .await;
    assert_eq!(s, 201, "{b}");
    let id = b["id"].as_str().unwrap().to_owned();

    // Links by name, with a leading slash, by id prefix: as missing containers.
    for target in [name.clone(), format!("/{name}"), id[..12].to_owned()] {
        let got = run_container(
            &t.op_red,
            &app,
            made.idle(&test_image(), json!({"links": [format!("{target}:db")]})),
        )
        .await;
        assert_error(&got, 404, "not_found");
    }
    // Joining its network namespace through a stack.
    let compose = format!(
        "services:\n  a:\n    image: {}\n    command: [\"sh\", \"-c\", \"{IDLE}\"]\n    network_mode: \"container:{name}\"\n",
        test_image()
    );
    let (s, l) = stack_up(&t.op_red, &app, &made.stack(&unique("rednet")), &compose).await;
    if s.is_success() && l.last().is_some_and(|l| l["step"] == "done") {
        panic!("red joined blue's container's namespace: {l:#?}");
    }
    // Blue may link to its own.
    let (s, b) = run_container(
        &t.op_blue,
        &app,
        made.idle(&test_image(), json!({"links": [format!("{name}:db")]})),
    )
    .await;
    assert_eq!(s, 201, "{b}");
}
