//! Exec and attach websockets, top, stats.

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use reqwest::Method;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

use crate::support::*;

/// Read terminal output until it contains `want`; returns everything read.
async fn read_until(ws: &mut Ws, want: &str, within: Duration) -> String {
    let mut out = String::new();
    let res = tokio::time::timeout(within, async {
        while let Some(Ok(msg)) = ws.next().await {
            match msg {
                Message::Binary(b) => out.push_str(&String::from_utf8_lossy(&b)),
                Message::Text(t) => out.push_str(&format!("\n[text {t}]\n")),
                Message::Close(_) => out.push_str("\n[close]\n"),
                _ => {}
            }
            if out.contains(want) {
                return true;
            }
        }
        false
    })
    .await;
    assert!(matches!(res, Ok(true)), "{want:?} not seen in {out:?}");
    out
}

async fn type_in(ws: &mut Ws, text: &str) {
    ws.send(Message::Binary(text.as_bytes().to_vec().into()))
        .await
        .unwrap();
}

async fn top_has(app: &TestApp, id: &str, needle: &str) -> bool {
    let (status, top) = app.get(&format!("/api/containers/{id}/top")).await;
    assert_eq!(status, 200, "{top}");
    top["processes"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p.to_string().contains(needle))
}

#[tokio::test]
async fn exec_runs_a_shell_and_closing_it_ends_the_process() {
    let app = TestApp::start().await;
    let name = unique("exec");
    let id = make_container(&name, true).await;
    let mut ws = ws_admin(
        &app,
        &format!("/api/containers/{name}/exec/ws?cmd=sh&tty=true&cols=100&rows=30"),
    )
    .await;
    type_in(&mut ws, "echo hello-$((6*7))\n").await;
    read_until(&mut ws, "hello-42", Duration::from_secs(10)).await;
    // The size given in the URL, then a resize frame.
    type_in(&mut ws, "stty size\n").await;
    read_until(&mut ws, "30 100", Duration::from_secs(5)).await;
    ws.send(Message::Text(
        r#"{"type":"resize","cols":120,"rows":40}"#.into(),
    ))
    .await
    .unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    type_in(&mut ws, "stty size\n").await;
    read_until(&mut ws, "40 120", Duration::from_secs(5)).await;

    // A long-running command, then the browser goes away.
    type_in(&mut ws, "sleep 4242\n").await;
    let mut seen = false;
    for _ in 0..50 {
        if top_has(&app, &id, "sleep 4242").await {
            seen = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(seen, "the command runs in the container");
    drop(ws);
    let mut gone = false;
    for _ in 0..100 {
        if !top_has(&app, &id, "sleep 4242").await {
            gone = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(gone, "closing the socket ended the exec's processes");
    remove_container(&id).await;
}

#[tokio::test]
async fn exec_reports_the_exit_code_and_user() {
    let app = TestApp::start().await;
    let name = unique("exec-exit");
    let id = make_container(&name, true).await;
    let cmd = "%5B%22sh%22%2C%22-c%22%2C%22id%20-u%3B%20exit%205%22%5D"; // ["sh","-c","id -u; exit 5"]
    let mut ws = ws_admin(
        &app,
        &format!("/api/containers/{id}/exec/ws?cmd={cmd}&tty=false&user=1234"),
    )
    .await;
    let out = read_until(&mut ws, "[close]", Duration::from_secs(10)).await;
    assert!(out.contains("1234"), "{out}");
    assert!(out.contains(r#"{"type":"exit","code":5}"#), "{out}");
    // A stopped container cannot exec: a clear error before any upgrade.
    let (status, _) = app.post(&format!("/api/containers/{id}/kill")).await;
    assert_eq!(status, 204);
    let cookie = app.cookie_header("admin", ADMIN_PASSWORD).await;
    let refused = ws_with_cookie(&app, &cookie, &format!("/api/containers/{id}/exec/ws")).await;
    assert_eq!(refused.err(), Some(409));
    remove_container(&id).await;
}

#[tokio::test]
async fn attach_detaches_with_ctrl_p_ctrl_q_and_leaves_it_running() {
    let app = TestApp::start().await;
    let name = unique("attach");
    let (status, created) = app
        .call(
            Method::POST,
            "/api/containers",
            Some(
                json!({"image": test_image(), "name": name, "tty": true, "open_stdin": true,
                        "cmd": ["sh"], "labels": {"berth-test": "1"}}),
            ),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap().to_string();
    let mut ws = ws_admin(&app, &format!("/api/containers/{name}/attach/ws")).await;
    type_in(&mut ws, "echo attached-$((40+2))\n").await;
    read_until(&mut ws, "attached-42", Duration::from_secs(10)).await;
    ws.send(Message::Binary(vec![0x10, 0x11].into()))
        .await
        .unwrap();
    let out = read_until(&mut ws, "[close]", Duration::from_secs(10)).await;
    assert!(out.contains(r#"{"type":"detached"}"#), "{out}");
    assert_eq!(
        daemon_state(&id).await.as_deref(),
        Some("running"),
        "still running"
    );
    remove_container(&id).await;
}

#[tokio::test]
async fn stats_frames_arrive_for_every_viewer() {
    let app = TestApp::start().await;
    let name = unique("stats");
    let id = make_container(&name, true).await;
    let mut a = ws_admin(&app, &format!("/api/containers/{name}/stats/ws")).await;
    let mut b = ws_admin(&app, &format!("/api/containers/{id}/stats/ws")).await;
    for ws in [&mut a, &mut b] {
        let frame = tokio::time::timeout(Duration::from_secs(15), async {
            loop {
                if let Some(Ok(Message::Text(t))) = ws.next().await {
                    break serde_json::from_str::<Value>(&t).unwrap();
                }
            }
        })
        .await
        .expect("a stats frame");
        for key in [
            "cpu_percent",
            "mem_usage",
            "mem_limit",
            "net_rx",
            "net_tx",
            "blk_read",
            "blk_write",
            "pids",
        ] {
            assert!(frame[key].is_number(), "{key} in {frame}");
        }
        assert!(frame["mem_limit"].as_u64().unwrap() > 0, "{frame}");
        assert!(frame["pids"].as_u64().unwrap() >= 1, "{frame}");
    }
    let (status, top) = app.get(&format!("/api/containers/{name}/top")).await;
    assert_eq!(status, 200);
    assert!(
        top["titles"].as_array().unwrap().iter().any(|t| t == "PID"),
        "{top}"
    );
    assert!(top_has(&app, &id, "while true").await, "{top}");
    remove_container(&id).await;
}
