//! Logs: both streams apart, follow across a restart, the text download, a slow client's
//! "skipped" marker, and a daemon outage (through a socket proxy the test can cut).

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use futures::{SinkExt, StreamExt};
use reqwest::Method;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

use crate::proxy::DaemonRelay;
use crate::support::*;

/// A logs socket whose frames are read item by item: what follows a match in the same
/// frame is kept for the next call.
struct Reader {
    ws: Ws,
    pending: VecDeque<Value>,
}

impl Reader {
    async fn open(app: &TestApp, path: &str) -> Reader {
        Reader {
            ws: ws_admin(app, path).await,
            pending: VecDeque::new(),
        }
    }

    /// The same over a connection with a small receive buffer: a client that reads slowly
    /// cannot hide behind megabytes of kernel buffers.
    async fn slow(app: &TestApp, path: &str) -> Reader {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        let cookie = app.cookie_header("admin", ADMIN_PASSWORD).await;
        let addr: std::net::SocketAddr = format!("127.0.0.1:{}", app.port()).parse().unwrap();
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.set_recv_buffer_size(8 * 1024).unwrap();
        let tcp = socket.connect(addr).await.unwrap();
        let mut req = format!("ws://{addr}{path}").into_client_request().unwrap();
        req.headers_mut().insert("cookie", cookie.parse().unwrap());
        let stream = tokio_tungstenite::MaybeTlsStream::Plain(tcp);
        let (ws, _) = tokio_tungstenite::client_async(req, stream).await.unwrap();
        Reader {
            ws,
            pending: VecDeque::new(),
        }
    }

    async fn next(&mut self) -> Option<Value> {
        loop {
            if let Some(v) = self.pending.pop_front() {
                return Some(v);
            }
            let Ok(Message::Text(text)) = self.ws.next().await? else {
                continue;
            };
            match serde_json::from_str(&text).unwrap() {
                Value::Array(items) => self.pending.extend(items),
                other => self.pending.push_back(other),
            }
        }
    }
}

/// Every item until `pred` is true for one (included); panics after `within`.
async fn until(
    r: &mut Reader,
    within: Duration,
    mut pred: impl FnMut(&Value) -> bool,
) -> Vec<Value> {
    let mut seen = Vec::new();
    let res = tokio::time::timeout(within, async {
        while let Some(item) = r.next().await {
            let hit = pred(&item);
            seen.push(item);
            if hit {
                return true;
            }
        }
        false
    })
    .await;
    assert!(
        matches!(res, Ok(true)),
        "not seen within {within:?}; got {:?}",
        seen.iter().rev().take(20).collect::<Vec<_>>()
    );
    seen
}

fn line_is(v: &Value, stream: &str, line: &str) -> bool {
    v["stream"] == stream && v["line"] == line
}

async fn run_labeled(app: &TestApp, name: &str, script: &str) -> String {
    let (status, created) = app
        .call(
            Method::POST,
            "/api/containers",
            Some(
                json!({"image": test_image(), "name": name, "cmd": ["sh", "-c", script],
                        "labels": {"berth-test": "1"}}),
            ),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    created["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn logs_keep_streams_apart_and_follow_a_restart() {
    let app = TestApp::start().await;
    let name = unique("logs");
    let id = run_labeled(
        &app,
        &name,
        "echo out-line; echo err-line >&2; trap 'exit 0' TERM; while true; do sleep 1; done",
    )
    .await;
    let mut ws = Reader::open(
        &app,
        &format!("/api/containers/{name}/logs/ws?timestamps=true&tail=all"),
    )
    .await;
    // Both streams, each marked; their order between them is the daemon's business.
    let (mut out, mut err) = (None, None);
    until(&mut ws, Duration::from_secs(10), |v| {
        if line_is(v, "stdout", "out-line") {
            out = Some(v.clone());
        }
        if line_is(v, "stderr", "err-line") {
            err = Some(v.clone());
        }
        out.is_some() && err.is_some()
    })
    .await;
    let out = out.unwrap();
    assert!(
        out["ts"].as_str().is_some_and(|t| t.starts_with("20")),
        "{out}"
    );

    // A restart: the same socket goes on with the new run's output.
    let (status, _) = app.post(&format!("/api/containers/{id}/restart?t=1")).await;
    assert_eq!(status, 204);
    let (mut restarted, mut again) = (false, false);
    until(&mut ws, Duration::from_secs(15), |v| {
        restarted |= v["berth"] == "restarted";
        again |= line_is(v, "stdout", "out-line");
        restarted && again
    })
    .await;

    // The download: both runs' lines, as text, with times when asked.
    let text = app
        .client
        .get(app.url(&format!("/api/containers/{id}/logs?timestamps=true")))
        .send()
        .await
        .unwrap();
    assert_eq!(text.status(), 200);
    assert!(text.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .contains("attachment"));
    let text = text.text().await.unwrap();
    assert_eq!(text.matches("out-line").count(), 2, "{text}");
    assert_eq!(text.matches("err-line").count(), 2, "{text}");
    assert!(text.lines().all(|l| l.starts_with("20")), "{text}");
    let (_, tail) = app.get(&format!("/api/containers/{id}/logs?tail=2")).await;
    let mut last_two: Vec<&str> = tail.as_str().unwrap_or("").lines().collect();
    last_two.sort();
    assert_eq!(
        last_two,
        ["err-line", "out-line"],
        "the last run's two lines"
    );
    assert_error(
        &app.get(&format!("/api/containers/{id}/logs?tail=lots"))
            .await,
        400,
        "invalid_tail",
    );
    remove_container(&id).await;
}

#[tokio::test]
async fn a_tty_containers_output_arrives_line_by_line() {
    let app = TestApp::start().await;
    let name = unique("logs-tty");
    // A TTY's log is raw bytes (`\r\n` line ends, no stream frames), the last line without
    // its end; and it stops, so the stream's end is seen too.
    let (status, created) = app
        .call(
            Method::POST,
            "/api/containers",
            Some(json!({"image": test_image(), "name": name, "tty": true,
                        "cmd": ["sh", "-c", "echo tty-one; echo tty-two >&2; printf tty-last"],
                        "labels": {"berth-test": "1"}})),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap().to_string();
    let mut ws = Reader::open(
        &app,
        &format!("/api/containers/{id}/logs/ws?timestamps=true"),
    )
    .await;
    let seen = until(&mut ws, Duration::from_secs(15), |v| {
        v["berth"] == "stopped"
    })
    .await;
    let lines: Vec<&str> = seen.iter().filter_map(|v| v["line"].as_str()).collect();
    assert_eq!(lines, ["tty-one", "tty-two", "tty-last"], "{seen:?}");
    assert!(seen
        .iter()
        .filter(|v| v["line"].is_string())
        .all(|v| v["stream"] == "stdout" && v["ts"].as_str().is_some_and(|t| t.starts_with("20"))));
    remove_container(&id).await;
}

#[tokio::test]
async fn a_client_that_cannot_keep_up_gets_a_skipped_marker() {
    let app = TestApp::start().await;
    let name = unique("noisy");
    // Created, not started: the socket waits for it, so all its output is live output.
    let (status, created) = app
        .call(
            Method::POST,
            "/api/containers",
            Some(json!({"image": test_image(), "name": name, "start": false,
                        "cmd": ["sh", "-c", "seq 1 300000; echo last-line"],
                        "labels": {"berth-test": "1"}})),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap().to_string();
    let mut ws = Reader::slow(&app, &format!("/api/containers/{id}/logs/ws")).await;
    until(&mut ws, Duration::from_secs(5), |v| v["berth"] == "stopped").await;
    let (status, _) = app.post(&format!("/api/containers/{id}/start")).await;
    assert_eq!(status, 204);
    // Read nothing for a while: the server must drop, not hoard.
    tokio::time::sleep(Duration::from_secs(6)).await;
    let mut lines = 0u64;
    let mut skipped = 0u64;
    let seen = until(&mut ws, Duration::from_secs(60), |v| {
        if v["stream"] == "stdout" {
            lines += 1;
        }
        skipped += v["count"]
            .as_u64()
            .filter(|_| v["berth"] == "skipped")
            .unwrap_or(0);
        v["berth"] == "stopped"
    })
    .await;
    assert!(
        skipped > 0,
        "some lines were skipped: {lines} lines arrived"
    );
    let last = seen.iter().rev().find(|v| v["stream"] == "stdout").unwrap();
    assert_eq!(last["line"], "last-line", "the newest output still arrives");
    assert!(
        lines + skipped >= 300_001,
        "every line is either sent or counted: {lines} + {skipped}"
    );
    remove_container(&id).await;
}

#[tokio::test]
async fn logs_say_when_the_daemon_goes_and_resume_when_it_returns() {
    let mut relay = DaemonRelay::start();
    let app = TestApp::spawn(&relay.host()).await;
    app.login("admin", ADMIN_PASSWORD).await;
    let name = unique("ticker");
    let id = run_labeled(
        &app,
        &name,
        "i=0; trap 'exit 0' TERM; while true; do echo tick-$i; i=$((i+1)); sleep 0.2; done",
    )
    .await;
    let mut ws = Reader::open(&app, &format!("/api/containers/{id}/logs/ws")).await;
    let seen = until(&mut ws, Duration::from_secs(10), |v| {
        line_is(v, "stdout", "tick-3")
    })
    .await;
    let mut ticks: Vec<u64> = seen.iter().filter_map(tick).collect();

    relay.cut();
    let seen = until(&mut ws, Duration::from_secs(15), |v| {
        v["berth"] == "daemon_lost"
    })
    .await;
    ticks.extend(seen.iter().filter_map(tick));
    tokio::time::sleep(Duration::from_secs(2)).await;
    relay.restore();
    let seen = until(&mut ws, Duration::from_secs(15), |v| {
        v["berth"] == "daemon_back"
    })
    .await;
    ticks.extend(seen.iter().filter_map(tick));
    let seen = until(&mut ws, Duration::from_secs(15), |v| {
        tick(v).is_some_and(|n| n > 25)
    })
    .await;
    ticks.extend(seen.iter().filter_map(tick));
    // Resumed where it was: nothing twice, and what the container wrote meanwhile arrives.
    assert!(
        ticks.windows(2).all(|w| w[1] == w[0] + 1),
        "every line once, in order, none lost: {ticks:?}"
    );
    let start = Instant::now();
    remove_container(&id).await;
    assert!(start.elapsed() < Duration::from_secs(30));
}

fn tick(v: &Value) -> Option<u64> {
    v["line"].as_str()?.strip_prefix("tick-")?.parse().ok()
}

#[tokio::test]
async fn a_closed_client_socket_is_fine() {
    let app = TestApp::start().await;
    let name = unique("logs-close");
    let id = make_container(&name, true).await;
    let mut ws = ws_admin(&app, &format!("/api/containers/{id}/logs/ws")).await;
    ws.send(Message::Close(None)).await.unwrap();
    let (status, _) = app.get("/api/health").await;
    assert_eq!(status, 200);
    remove_container(&id).await;
}

/// Removes a container when the test ends, also when it fails.
struct Gone(String);

impl Drop for Gone {
    fn drop(&mut self) {
        let host = std::env::var("BERTH_TEST_DOCKER_HOST").unwrap_or_default();
        let _ = std::process::Command::new("docker")
            .args(["-H", &host, "rm", "-f", &self.0])
            .output();
    }
}

#[tokio::test]
async fn older_lines_come_a_page_at_a_time_in_order() {
    let app = TestApp::start().await;
    let name = unique("uxpages-pages");
    // The daemon orders lines of two pipes as it read them, so the numbered lines go to
    // one stream and a last line, well after them, to the other.
    let id = run_labeled(
        &app,
        &name,
        "i=1; while [ $i -le 3000 ]; do echo line-$i; i=$((i+1)); done; sleep 1; echo oops >&2",
    )
    .await;
    let _gone = Gone(id.clone());
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (_, c) = app.get(&format!("/api/containers/{id}")).await;
        if c.to_string().contains("exited") || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let numbers = |page: &Value| -> Vec<u64> {
        page["lines"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|l| {
                l["line"]
                    .as_str()
                    .unwrap()
                    .strip_prefix("line-")?
                    .parse()
                    .ok()
            })
            .collect()
    };
    let (status, newest) = app
        .get(&format!("/api/containers/{id}/logs/page?lines=501"))
        .await;
    assert_eq!(status, 200, "{newest}");
    assert_eq!(numbers(&newest), (2501..=3000).collect::<Vec<_>>());
    assert_eq!(newest["more"], true);
    assert_eq!(newest["lines"][500]["stream"], "stderr");
    assert_eq!(newest["lines"][500]["line"], "oops");
    let first_ts = newest["lines"][0]["ts"].as_str().unwrap().to_string();

    let (status, older) = app
        .get(&format!(
            "/api/containers/{id}/logs/page?lines=500&before={first_ts}"
        ))
        .await;
    assert_eq!(status, 200, "{older}");
    assert_eq!(numbers(&older), (2001..=2500).collect::<Vec<_>>());
    let ts = older["lines"][0]["ts"].as_str().unwrap().to_string();

    let (_, rest) = app
        .get(&format!(
            "/api/containers/{id}/logs/page?lines=5000&before={ts}"
        ))
        .await;
    assert_eq!(numbers(&rest), (1..=2000).collect::<Vec<_>>());
    assert_eq!(rest["more"], false, "the first line was reached");

    let (_, only_out) = app
        .get(&format!(
            "/api/containers/{id}/logs/page?lines=3&stderr=false"
        ))
        .await;
    assert_eq!(numbers(&only_out), [2998, 2999, 3000]);
    let (_, only_err) = app
        .get(&format!("/api/containers/{id}/logs/page?stdout=false"))
        .await;
    assert_eq!(only_err["lines"].as_array().unwrap().len(), 1, "{only_err}");

    let (status, bad) = app
        .get(&format!("/api/containers/{id}/logs/page?before=yesterday"))
        .await;
    assert_eq!(status, 400);
    assert_eq!(bad["error"]["code"], "invalid_before", "{bad}");
    let (status, bad) = app
        .get(&format!("/api/containers/{id}/logs/page?lines=0"))
        .await;
    assert_eq!(status, 400);
    assert_eq!(bad["error"]["code"], "invalid_lines", "{bad}");
}
