//! Environments (issue 14) against real second and third daemons: the hosts of `cargo
//! xtask hosts` (network namespaces with a dockerd behind mutual TLS and an sshd), named by
//! `BERTH_TEST_HOSTS`. Host h1 is shared by the tests here; only
//! `environments_down_host_keeps_others_fast` uses h2, which it stops and resumes.

use std::time::{Duration, Instant};

use futures::StreamExt;
use reqwest::Method;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

use crate::support::*;

struct Hosts(Value);

fn hosts() -> Hosts {
    let path = std::env::var("BERTH_TEST_HOSTS").expect(
        "BERTH_TEST_HOSTS is not set: run the tests with `cargo xtask test`, or start the \
         hosts with `cargo xtask hosts 2` and set BERTH_TEST_HOSTS=/tmp/bh/hosts.json",
    );
    let text = std::fs::read_to_string(&path).expect("read BERTH_TEST_HOSTS");
    Hosts(serde_json::from_str(&text).expect("hosts.json"))
}

impl Hosts {
    fn host(&self, i: usize) -> &Value {
        &self.0["hosts"][i - 1]
    }

    fn pem(&self, what: &str) -> String {
        let path = self.0["pki"][what].as_str().expect("a pki path");
        std::fs::read_to_string(path).expect("read a pki file")
    }

    /// A TLS environment for host `i` with the given CA, client certificate and key.
    fn tls_body(&self, name: &str, i: usize, ca: &str, cert: &str, key: &str) -> Value {
        json!({
            "name": name,
            "url": self.host(i)["tcp"],
            "tls": {"ca": self.pem(ca), "cert": self.pem(cert), "key": self.pem(key)},
        })
    }

    fn ssh_body(&self, name: &str, i: usize, key: &str, known_hosts: &str) -> Value {
        json!({
            "name": name,
            "url": self.host(i)["ssh"],
            "ssh_key": self.pem(key),
            "ssh_known_hosts": known_hosts,
        })
    }
}

async fn add(app: &TestApp, body: Value) -> Value {
    let (status, env) = app
        .call(Method::POST, "/api/environments", Some(body))
        .await;
    assert_eq!(status, 201, "{env}");
    env
}

/// Waits until the environment's health loop says `status`.
async fn wait_status(app: &TestApp, name: &str, status: &str, within: Duration) -> Value {
    let deadline = Instant::now() + within;
    loop {
        let (_, list) = app.get("/api/environments").await;
        let env = list
            .as_array()
            .and_then(|l| l.iter().find(|e| e["name"] == name))
            .cloned()
            .unwrap_or(Value::Null);
        if env["status"] == status {
            return env;
        }
        assert!(
            Instant::now() < deadline,
            "{name} is not {status} within {within:?}: {env}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Runs a container that prints a marker on the environment, follows its logs through
/// berth until the marker shows, and removes it.
async fn run_and_follow(app: &TestApp, env: &str) {
    let name = unique("env-logs");
    let marker = unique("hello-from");
    // The host's own event hub: the create shows up on it.
    let mut events = ws_admin(app, &format!("/api/events/ws?endpoint={env}")).await;
    let (status, created) = app
        .call(
            Method::POST,
            &format!("/api/containers?endpoint={env}"),
            Some(json!({
                "image": test_image(),
                "name": name,
                "cmd": ["sh", "-c", format!("trap 'exit 0' TERM; while true; do echo {marker}; sleep 1; done")],
                "labels": {"berth-test": "1"},
            })),
        )
        .await;
    assert_eq!(status, 201, "create on {env}: {created}");
    let id = created["id"].as_str().expect("id").to_owned();
    let seen = tokio::time::timeout(Duration::from_secs(20), async {
        while let Some(Ok(msg)) = events.next().await {
            if let Message::Text(t) = msg {
                if t.contains(&name) || t.contains(&id) {
                    return true;
                }
            }
        }
        false
    })
    .await;
    assert_eq!(seen, Ok(true), "an event of {env} about the new container");
    drop(events);
    // It is on that host, not on local.
    let (status, _) = app
        .get(&format!("/api/containers/{id}?endpoint={env}"))
        .await;
    assert_eq!(status, 200);
    let (status, _) = app.get(&format!("/api/containers/{id}")).await;
    assert_eq!(status, 404, "the container must not be on local");

    // Its stats come from that host's hub.
    let mut stats = ws_admin(
        app,
        &format!("/api/containers/{id}/stats/ws?endpoint={env}"),
    )
    .await;
    let got = tokio::time::timeout(Duration::from_secs(20), async {
        while let Some(Ok(msg)) = stats.next().await {
            if matches!(msg, Message::Text(_)) {
                return true;
            }
        }
        false
    })
    .await;
    assert_eq!(got, Ok(true), "stats of a container on {env}");
    drop(stats);

    let mut ws = ws_admin(
        app,
        &format!("/api/containers/{id}/logs/ws?endpoint={env}&tail=all"),
    )
    .await;
    let found = tokio::time::timeout(Duration::from_secs(20), async {
        while let Some(Ok(msg)) = ws.next().await {
            if let Message::Text(t) = msg {
                if t.contains(&marker) {
                    return true;
                }
            }
        }
        false
    })
    .await;
    assert_eq!(found, Ok(true), "the log of {env} shows the marker");
    drop(ws);
    let (status, body) = app
        .call(
            Method::DELETE,
            &format!("/api/containers/{id}?force=true&endpoint={env}"),
            None,
        )
        .await;
    assert_eq!(status, 204, "{body}");
}

#[tokio::test]
async fn environments_tls_run_container_and_follow_logs() {
    let h = hosts();
    let app = TestApp::start().await;
    let env = add(&app, h.tls_body("tls1", 1, "ca", "cert", "key")).await;
    assert_eq!(env["tls"], true);
    let up = wait_status(&app, "tls1", "up", Duration::from_secs(10)).await;
    assert!(up["engine_version"].is_string(), "{up}");
    assert!(
        up["api_version"]
            .as_str()
            .is_some_and(|v| v.starts_with("1.")),
        "{up}"
    );
    // The key never comes back, in any answer.
    let (_, list) = app.get("/api/environments").await;
    assert!(!list.to_string().contains("PRIVATE KEY"), "{list}");
    run_and_follow(&app, "tls1").await;
    // Stored sealed: the database file does not hold the key in clear.
    let db = std::fs::read(app.data_dir().join("berth.db")).expect("berth.db");
    let key = h.pem("key");
    let body_line = key.lines().nth(1).expect("a key line");
    assert!(
        !String::from_utf8_lossy(&db).contains(body_line),
        "the TLS key is stored in clear"
    );
}

#[tokio::test]
async fn environments_ssh_run_container_and_follow_logs() {
    let h = hosts();
    let app = TestApp::start().await;
    let known = h.host(1)["known_hosts"]
        .as_str()
        .expect("known_hosts")
        .to_owned();
    let env = add(&app, h.ssh_body("ssh1", 1, "ssh_key", &known)).await;
    assert_eq!(env["has_ssh_key"], true);
    wait_status(&app, "ssh1", "up", Duration::from_secs(15)).await;
    run_and_follow(&app, "ssh1").await;
    // A terminal over ssh: an exec whose output comes back.
    let (status, created) = app
        .call(
            Method::POST,
            "/api/containers?endpoint=ssh1",
            Some(json!({
                "image": test_image(),
                "name": unique("env-exec"),
                "cmd": ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"],
                "labels": {"berth-test": "1"},
            })),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().expect("id").to_owned();
    let mut ws = ws_admin(
        &app,
        &format!("/api/containers/{id}/exec/ws?endpoint=ssh1&cmd=sh"),
    )
    .await;
    futures::SinkExt::send(
        &mut ws,
        Message::Binary(b"echo ex$((6*7))it\n".to_vec().into()),
    )
    .await
    .expect("send to the terminal");
    let seen = tokio::time::timeout(Duration::from_secs(15), async {
        let mut all = Vec::new();
        while let Some(Ok(msg)) = ws.next().await {
            match msg {
                Message::Binary(b) => all.extend_from_slice(&b),
                Message::Text(t) => all.extend_from_slice(t.as_bytes()),
                _ => {}
            }
            if String::from_utf8_lossy(&all).contains("ex42it") {
                return true;
            }
        }
        false
    })
    .await;
    assert_eq!(seen, Ok(true), "the terminal on ssh1 answers");
    drop(ws);
    let _ = app
        .call(
            Method::DELETE,
            &format!("/api/containers/{id}?force=true&endpoint=ssh1"),
            None,
        )
        .await;
}

async fn test_conn(app: &TestApp, body: Value) -> Value {
    let (status, res) = app
        .call(Method::POST, "/api/environments/test", Some(body))
        .await;
    assert_eq!(status, 200, "{res}");
    res
}

#[tokio::test]
async fn environments_connection_test_says_what_failed() {
    let h = hosts();
    let app = TestApp::start().await;
    let known = h.host(1)["known_hosts"]
        .as_str()
        .expect("known_hosts")
        .to_owned();

    let ok = test_conn(&app, h.tls_body("x", 1, "ca", "cert", "key")).await;
    assert_eq!(ok["ok"], true, "{ok}");
    assert!(ok["engine_version"].is_string(), "{ok}");

    let wrong_ca = test_conn(&app, h.tls_body("x", 1, "other_ca", "cert", "key")).await;
    assert_eq!(wrong_ca["ok"], false);
    assert_eq!(wrong_ca["stage"], "tls", "{wrong_ca}");
    let msg = wrong_ca["error"].as_str().unwrap_or_default();
    assert!(
        msg.contains("daemon's certificate") && msg.contains("not signed by the CA"),
        "{msg}"
    );

    // Skip verify takes any daemon certificate (the client one still counts), and says so.
    let mut skip = h.tls_body("x", 1, "other_ca", "cert", "key");
    skip["skip_verify"] = json!(true);
    let res = test_conn(&app, skip).await;
    assert_eq!(res["ok"], true, "{res}");

    for (cert, key) in [("other_cert", "other_key"), ("expired_cert", "expired_key")] {
        let res = test_conn(&app, h.tls_body("x", 1, "ca", cert, key)).await;
        assert_eq!(res["ok"], false, "{cert}: {res}");
        assert_eq!(res["stage"], "tls", "{cert}: {res}");
        let msg = res["error"].as_str().unwrap_or_default();
        assert!(
            msg.contains("refused berth's client certificate"),
            "{cert}: {msg}"
        );
    }

    let wrong_host_key =
        std::fs::read_to_string(h.0["pki"]["wrong_known_hosts"].as_str().expect("path"))
            .expect("wrong_known_hosts");
    let res = test_conn(&app, h.ssh_body("x", 1, "ssh_key", &wrong_host_key)).await;
    assert_eq!(res["stage"], "ssh", "{res}");
    assert!(
        res["error"]
            .as_str()
            .unwrap_or_default()
            .contains("host key"),
        "{res}"
    );

    let res = test_conn(&app, h.ssh_body("x", 1, "ssh_wrong_key", &known)).await;
    assert_eq!(res["stage"], "ssh", "{res}");
    assert!(
        res["error"]
            .as_str()
            .unwrap_or_default()
            .contains("key was refused"),
        "{res}"
    );

    let res = test_conn(&app, h.ssh_body("x", 1, "ssh_key", &known)).await;
    assert_eq!(res["ok"], true, "{res}");

    // Nothing listens there: refused, at once.
    let res = test_conn(&app, json!({"url": "tcp://127.0.0.1:9"})).await;
    assert_eq!(res["stage"], "connect", "{res}");

    // The API answers plain HTTP with a TLS daemon: a clear 400 for PEM that is not PEM.
    let (status, body) = app
        .call(
            Method::POST,
            "/api/environments",
            Some(json!({"name": "bad", "url": "tcp://10.231.1.2:2376",
                        "tls": {"ca": "nope", "cert": "nope", "key": "nope"}})),
        )
        .await;
    assert_eq!(status, 400, "{body}");
}

/// SIGSTOP and SIGCONT to the test host's dockerd (ours: `cargo xtask hosts` started it);
/// resumed on drop, also when the test fails.
struct Stopped(i32);

impl Stopped {
    fn new(pid: i32) -> Stopped {
        assert!(pid > 1);
        std::process::Command::new("kill")
            .args(["-STOP", &pid.to_string()])
            .status()
            .expect("kill -STOP");
        Stopped(pid)
    }
}

impl Drop for Stopped {
    fn drop(&mut self) {
        let _ = std::process::Command::new("kill")
            .args(["-CONT", &self.0.to_string()])
            .status();
    }
}

/// The median and the 95th percentile of `n` timings of a GET.
async fn timings(app: &TestApp, path: &str, n: usize) -> (Duration, Duration) {
    let mut all = Vec::new();
    for _ in 0..n {
        let start = Instant::now();
        let (status, body) = app.get(path).await;
        all.push(start.elapsed());
        assert_eq!(status, 200, "{path}: {body}");
    }
    all.sort();
    (all[n / 2], all[(n * 95 / 100).min(n - 1)])
}

#[tokio::test]
async fn environments_down_host_keeps_others_fast() {
    let h = hosts();
    let app = TestApp::start().await;
    add(&app, h.tls_body("a1", 1, "ca", "cert", "key")).await;
    add(&app, h.tls_body("b2", 2, "ca", "cert", "key")).await;
    wait_status(&app, "a1", "up", Duration::from_secs(10)).await;
    wait_status(&app, "b2", "up", Duration::from_secs(10)).await;

    // Warm: the first requests make the connection and fill caches.
    timings(&app, "/api/containers?all=true&endpoint=a1", 10).await;
    let (healthy_median, healthy_max) =
        timings(&app, "/api/containers?all=true&endpoint=a1", 60).await;

    // Streams open on b2 when it goes away: once it is marked down, the log stream says
    // the host is lost (and later that it is back), the stats stream ends.
    let (status, made) = app
        .call(
            Method::POST,
            "/api/containers?endpoint=b2",
            Some(json!({
                "image": test_image(),
                "name": unique("env-down-logs"),
                "cmd": ["sh", "-c", "trap 'exit 0' TERM; while true; do echo tick; sleep 1; done"],
                "labels": {"berth-test": "1"},
            })),
        )
        .await;
    assert_eq!(status, 201, "{made}");
    let b2_id = made["id"].as_str().expect("id").to_owned();
    let mut b2_logs = ws_admin(
        &app,
        &format!("/api/containers/{b2_id}/logs/ws?endpoint=b2&tail=all"),
    )
    .await;
    let ticked = tokio::time::timeout(Duration::from_secs(20), async {
        while let Some(Ok(msg)) = b2_logs.next().await {
            if matches!(&msg, Message::Text(t) if t.contains("tick")) {
                return true;
            }
        }
        false
    })
    .await;
    assert_eq!(ticked, Ok(true), "logs of b2 flow before the cut");
    let b2_stats = ws_admin(
        &app,
        &format!("/api/containers/{b2_id}/stats/ws?endpoint=b2"),
    )
    .await;
    let ends = |mut ws: Ws| {
        tokio::spawn(async move {
            let start = Instant::now();
            loop {
                match ws.next().await {
                    Some(Ok(Message::Close(_))) | Some(Err(_)) | None => break,
                    Some(Ok(_)) => {}
                }
            }
            start.elapsed()
        })
    };

    let pid = h.host(2)["dockerd_pid"].as_i64().expect("pid") as i32;
    let stopped = Stopped::new(pid);
    // The log stream's outage notices, timed from the cut.
    let logs_notices = tokio::spawn(async move {
        let start = Instant::now();
        let mut lost = None;
        while let Some(Ok(msg)) = b2_logs.next().await {
            if let Message::Text(t) = &msg {
                if lost.is_none() && t.contains("daemon_lost") {
                    lost = Some(start.elapsed());
                }
                if t.contains("daemon_back") {
                    return (lost, Some(start.elapsed()));
                }
            }
        }
        (lost, None)
    });
    let stats_end = ends(b2_stats);
    let cut = Instant::now();
    // A request already on its way to b2 ends when b2 is marked down, not after the
    // client's long timeout.
    let in_flight = {
        let client = app.client.clone();
        let url = app.url("/api/containers?endpoint=b2");
        tokio::spawn(async move {
            let start = Instant::now();
            let status = client.get(url).send().await.map(|r| r.status().as_u16());
            (status, start.elapsed())
        })
    };
    // Meanwhile host a1 and local keep answering at their pace.
    let (blackholed_median, blackholed_max) =
        timings(&app, "/api/containers?all=true&endpoint=a1", 60).await;
    let (_, local_max) = timings(&app, "/api/containers?all=true", 10).await;
    let down = wait_status(&app, "b2", "down", Duration::from_secs(8)).await;
    let marked = cut.elapsed();
    assert!(down["error"].is_string(), "{down}");
    // And once it is marked down (its health loop now backs off and retries).
    let (down_median, down_p95) = timings(&app, "/api/containers?all=true&endpoint=a1", 60).await;
    println!(
        "bench: container list on a1 (debug build): p50 {:.1} ms, p95 {:.1} ms with b2 \
         healthy; p50 {:.1} ms, p95 {:.1} ms with b2 just stopped; p50 {:.1} ms, p95 {:.1} ms \
         with b2 marked down; b2 marked down after {:.1} s",
        healthy_median.as_secs_f64() * 1e3,
        healthy_max.as_secs_f64() * 1e3,
        blackholed_median.as_secs_f64() * 1e3,
        blackholed_max.as_secs_f64() * 1e3,
        down_median.as_secs_f64() * 1e3,
        down_p95.as_secs_f64() * 1e3,
        marked.as_secs_f64()
    );
    assert!(
        blackholed_max < Duration::from_millis(1000)
            && down_p95 < Duration::from_millis(1000)
            && local_max < Duration::from_millis(1000),
        "a1 or local waited on b2: max {blackholed_max:?} / {local_max:?}"
    );
    assert!(
        blackholed_median < healthy_median * 3 + Duration::from_millis(20),
        "a1 slowed down: {healthy_median:?} → {blackholed_median:?}"
    );

    // The stats stream of b2 ended by itself, soon after it was marked down.
    let took = tokio::time::timeout(Duration::from_secs(5), stats_end)
        .await
        .expect("the stats stream of b2 is still open after it was marked down")
        .expect("stream task");
    assert!(
        took < Duration::from_secs(15),
        "stats stream ended after {took:?}"
    );

    let (status, took) = in_flight.await.expect("the in-flight request");
    assert_eq!(status.ok(), Some(503), "in flight to b2");
    assert!(
        took < Duration::from_secs(10),
        "in flight to b2 took {took:?}"
    );

    // The down host answers at once, with its state.
    let start = Instant::now();
    let (status, body) = app.get("/api/containers?endpoint=b2").await;
    assert!(
        start.elapsed() < Duration::from_millis(500),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(status, 503, "{body}");
    assert!(body.to_string().contains("down since"), "{body}");
    // The view of every host: what answered, and what did not.
    let start = Instant::now();
    let (status, all) = app.get("/api/environments/containers").await;
    assert!(
        start.elapsed() < Duration::from_secs(4),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(status, 200);
    let by = |name: &str| {
        all.as_array()
            .and_then(|l| l.iter().find(|r| r["environment"] == name))
            .cloned()
            .unwrap_or(Value::Null)
    };
    assert_eq!(by("a1")["status"], "up", "{all}");
    assert_eq!(by("local")["status"], "up", "{all}");
    assert_eq!(by("b2")["status"], "down", "{all}");

    // Back by itself, and the log stream with it.
    drop(stopped);
    wait_status(&app, "b2", "up", Duration::from_secs(20)).await;
    let (lost, back) = tokio::time::timeout(Duration::from_secs(20), logs_notices)
        .await
        .expect("the log stream of b2 never said it was back")
        .expect("log task");
    let lost = lost.expect("the log stream of b2 never said the host was lost");
    assert!(lost < Duration::from_secs(15), "daemon_lost after {lost:?}");
    assert!(back.is_some(), "daemon_back");
    let (status, body) = app.get("/api/containers?endpoint=b2").await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = app
        .call(
            Method::DELETE,
            &format!("/api/containers/{b2_id}?force=true&endpoint=b2"),
            None,
        )
        .await;
    assert_eq!(status, 204, "{body}");
}

#[tokio::test]
async fn environments_access_per_team_and_admin_edits() {
    let h = hosts();
    let app = TestApp::start().await;
    let teams = app.two_teams().await;
    let name = unique("teamenv").replace(['/', ':'], "-");
    let mut body = h.tls_body(&name, 1, "ca", "cert", "key");
    body["teams"] = json!([teams.red]);
    add(&app, body).await;
    wait_status(&app, &name, "up", Duration::from_secs(10)).await;

    let seen = |list: &Value| {
        list.as_array()
            .is_some_and(|l| l.iter().any(|e| e["name"] == name.as_str()))
    };
    let (_, red_list) = send(
        &teams.op_red,
        Method::GET,
        &app.url("/api/environments"),
        None,
    )
    .await;
    assert!(seen(&red_list), "{red_list}");
    let (_, blue_list) = send(
        &teams.op_blue,
        Method::GET,
        &app.url("/api/environments"),
        None,
    )
    .await;
    assert!(!seen(&blue_list), "{blue_list}");
    let path = app.url(&format!("/api/containers?endpoint={name}"));
    let (status, _) = send(&teams.op_red, Method::GET, &path, None).await;
    assert_eq!(status, 200);
    let (status, _) = send(&teams.op_blue, Method::GET, &path, None).await;
    assert_eq!(status, 404, "another team's host is answered as missing");
    // Only admins edit.
    let (status, _) = send(
        &teams.op_red,
        Method::DELETE,
        &app.url(&format!("/api/environments/{name}")),
        None,
    )
    .await;
    assert_eq!(status, 403);

    // Pause: answered at once as paused, without contacting the host.
    let (status, env) = app
        .call(
            Method::PATCH,
            &format!("/api/environments/{name}"),
            Some(json!({"paused": true})),
        )
        .await;
    assert_eq!(status, 200, "{env}");
    assert_eq!(env["status"], "paused");
    let (status, body) = app.get(&format!("/api/containers?endpoint={name}")).await;
    assert_eq!(status, 503);
    assert!(body.to_string().contains("paused"), "{body}");

    // Rename and resume, keeping the stored TLS material.
    let renamed = format!("{name}-b");
    let (status, env) = app
        .call(
            Method::PATCH,
            &format!("/api/environments/{name}"),
            Some(json!({"name": renamed, "paused": false})),
        )
        .await;
    assert_eq!(status, 200, "{env}");
    assert_eq!(env["tls"], true);
    wait_status(&app, &renamed, "up", Duration::from_secs(10)).await;
    let (status, _) = app.get(&format!("/api/containers?endpoint={name}")).await;
    assert_eq!(status, 404, "the old name is gone");

    // local cannot be removed; the others can.
    let (status, _) = app
        .call(Method::DELETE, "/api/environments/local", None)
        .await;
    assert_eq!(status, 409);
    let (status, _) = app
        .call(
            Method::DELETE,
            &format!("/api/environments/{renamed}"),
            None,
        )
        .await;
    assert_eq!(status, 204);
    let (_, list) = app.get("/api/environments").await;
    assert!(!list.to_string().contains(&renamed), "{list}");
}

#[tokio::test]
async fn environments_a_stack_belongs_to_one_host() {
    let h = hosts();
    let app = TestApp::start().await;
    add(&app, h.tls_body("st1", 1, "ca", "cert", "key")).await;
    wait_status(&app, "st1", "up", Duration::from_secs(10)).await;
    let name = format!("envstack{}", std::process::id());
    let compose = format!(
        "services:\n  idle:\n    image: {}\n    command: [\"sh\", \"-c\", \"trap 'exit 0' TERM; while true; do sleep 1; done\"]\n",
        test_image()
    );
    let (status, lines) = crate::stacks::ndjson(
        &app,
        Method::POST,
        "/api/stacks?endpoint=st1",
        Some(json!({"name": name, "compose": compose})),
    )
    .await;
    assert_eq!(status, 201, "{lines:#?}");
    let listed = |list: &Value| {
        list.as_array()
            .is_some_and(|l| l.iter().any(|s| s["name"] == name.as_str()))
    };
    let (_, on_host) = app.get("/api/stacks?endpoint=st1").await;
    assert!(listed(&on_host), "{on_host}");
    let (_, on_local) = app.get("/api/stacks").await;
    assert!(
        !listed(&on_local),
        "the stack shows on local too: {on_local}"
    );
    let (status, detail) = app.get(&format!("/api/stacks/{name}?endpoint=st1")).await;
    assert_eq!(status, 200, "{detail}");
    let (status, _) = app.get(&format!("/api/stacks/{name}")).await;
    assert_eq!(status, 404, "on local it is missing");

    // A webhook deploys the stack on its host; renaming the host takes both along.
    let (status, hook) = app
        .call(
            Method::POST,
            "/api/webhooks?endpoint=st1",
            Some(json!({"kind": "stack", "target": name, "endpoint": "st1"})),
        )
        .await;
    assert_eq!(status, 201, "{hook}");
    let (status, env) = app
        .call(
            Method::PATCH,
            "/api/environments/st1",
            Some(json!({"name": "st1-renamed"})),
        )
        .await;
    assert_eq!(status, 200, "{env}");
    wait_status(&app, "st1-renamed", "up", Duration::from_secs(10)).await;
    let (_, on_renamed) = app.get("/api/stacks?endpoint=st1-renamed").await;
    assert!(
        listed(&on_renamed),
        "the stack stayed behind on the old name: {on_renamed}"
    );
    let (status, detail) = app
        .get(&format!("/api/stacks/{name}?endpoint=st1-renamed"))
        .await;
    assert_eq!(status, 200, "{detail}");
    let (_, hooks) = app.get("/api/webhooks").await;
    let moved = hooks
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["id"] == hook["id"]);
    assert_eq!(
        moved.map(|w| w["endpoint"].clone()),
        Some(json!("st1-renamed")),
        "{hooks}"
    );

    let (status, body) = app
        .call(
            Method::DELETE,
            &format!("/api/stacks/{name}?endpoint=st1-renamed&volumes=true"),
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
}

/// Roles per environment: a team's members can be limited on one host (here: everyone but
/// red may only look at it), while keeping their own role everywhere else.
#[tokio::test]
async fn environments_roles_per_environment() {
    let h = hosts();
    let app = TestApp::start().await;
    let teams = app.two_teams().await;
    let name = unique("roleenv").replace(['/', ':'], "-");

    // Bad limits name what is wrong.
    for (roles, code) in [
        (json!({"no-such-team": "viewer"}), "unknown_team"),
        (json!({ teams.red.as_str(): "admin" }), "invalid_role"),
    ] {
        let mut body = h.tls_body(&name, 1, "ca", "cert", "key");
        body["roles"] = roles;
        let (status, err) = app
            .call(Method::POST, "/api/environments", Some(body))
            .await;
        assert_eq!(status, 400, "{err}");
        assert_eq!(err["error"]["code"], code, "{err}");
    }

    let mut body = h.tls_body(&name, 1, "ca", "cert", "key");
    body["roles"] = json!({ teams.red.as_str(): "operator", "*": "viewer" });
    let env = add(&app, body).await;
    assert_eq!(env["roles"]["*"], "viewer", "{env}");
    wait_status(&app, &name, "up", Duration::from_secs(10)).await;

    let make = |env: &str| {
        json!({
            "image": test_image(),
            "name": unique(&format!("role-{env}")),
            "cmd": ["sleep", "60"],
            "labels": {"berth-test": "1"},
        })
    };
    let mut made = Vec::new();
    // Red keeps its operator role here.
    let on = |env: &str| app.url(&format!("/api/containers?endpoint={env}"));
    let (status, c) = send(&teams.op_red, Method::POST, &on(&name), Some(make(&name))).await;
    assert_eq!(status, 201, "{c}");
    made.push((
        name.clone(),
        c["id"].as_str().unwrap_or_default().to_owned(),
    ));
    // Blue's operator is a viewer here: it sees, but cannot make.
    let (status, _) = send(&teams.op_blue, Method::GET, &on(&name), None).await;
    assert_eq!(status, 200);
    let (status, err) = send(&teams.op_blue, Method::POST, &on(&name), Some(make(&name))).await;
    assert_eq!(status, 403, "{err}");
    assert!(err.to_string().contains("viewer"), "names the role: {err}");
    // The same header form is limited the same way.
    let (status, _) = send_with_header(
        &teams.op_blue,
        &app.url("/api/containers"),
        ("x-berth-endpoint", &name),
        make(&name),
    )
    .await;
    assert_eq!(status, 403);
    // On the local host blue is still an operator.
    let (status, c) = send(
        &teams.op_blue,
        Method::POST,
        &on("local"),
        Some(make("local")),
    )
    .await;
    assert_eq!(status, 201, "{c}");
    made.push((
        "local".into(),
        c["id"].as_str().unwrap_or_default().to_owned(),
    ));

    // Lifting the limit takes effect at once.
    let (status, env) = app
        .call(
            Method::PATCH,
            &format!("/api/environments/{name}"),
            Some(json!({"roles": {}})),
        )
        .await;
    assert_eq!(status, 200, "{env}");
    assert!(env.get("roles").is_none(), "{env}");
    let (status, c) = send(&teams.op_blue, Method::POST, &on(&name), Some(make(&name))).await;
    assert_eq!(status, 201, "{c}");
    made.push((
        name.clone(),
        c["id"].as_str().unwrap_or_default().to_owned(),
    ));

    for (env, id) in made {
        let (status, _) = app
            .call(
                Method::DELETE,
                &format!("/api/containers/{id}?force=true&endpoint={env}"),
                None,
            )
            .await;
        assert_eq!(status, 204, "remove {id} on {env}");
    }
    let (status, _) = app
        .call(Method::DELETE, &format!("/api/environments/{name}"), None)
        .await;
    assert_eq!(status, 204);
}

async fn send_with_header(
    c: &reqwest::Client,
    url: &str,
    header: (&str, &str),
    body: Value,
) -> (reqwest::StatusCode, Value) {
    let res = c
        .post(url)
        .header(header.0, header.1)
        .json(&body)
        .send()
        .await
        .expect("send");
    let status = res.status();
    (status, res.json().await.unwrap_or(Value::Null))
}

/// Without the `ssh` program on berth's host, an ssh:// environment says what to install.
/// (The `dns` stage is not exercised: resolving a name that does not exist would ask the
/// machine's resolver, and the tests send traffic only to loopback and their namespaces.)
#[tokio::test]
async fn environments_ssh_missing_says_what_to_install() {
    let h = hosts();
    let empty = tempfile::tempdir().expect("temp dir");
    let path = empty.path().to_str().expect("utf-8 path").to_owned();
    let app = TestApp::start_with_env(&[("PATH", &path)]).await;
    let known = h.host(1)["known_hosts"]
        .as_str()
        .expect("known_hosts")
        .to_owned();
    let res = test_conn(&app, h.ssh_body("x", 1, "ssh_key", &known)).await;
    assert_eq!(res["ok"], false, "{res}");
    assert_eq!(res["stage"], "ssh", "{res}");
    let msg = res["error"].as_str().unwrap_or_default();
    assert!(
        msg.contains("ssh program is missing") && msg.contains("openssh-client"),
        "{msg}"
    );
    // Added anyway, it is shown down with the same reason, and other hosts are unaffected.
    let name = unique("nossh").replace(['/', ':'], "-");
    add(&app, h.ssh_body(&name, 1, "ssh_key", &known)).await;
    let down = wait_status(&app, &name, "down", Duration::from_secs(10)).await;
    assert!(
        down["error"].to_string().contains("openssh-client"),
        "{down}"
    );
    let (status, _) = app.get("/api/containers").await;
    assert_eq!(status, 200);
}
