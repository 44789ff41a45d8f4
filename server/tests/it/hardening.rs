//! Issue 12's other holes: websocket tickets, password guessing, slow clients, websocket
//! limits and memory, DNS rebinding, tokens after a new password or a disable.

use std::time::{Duration, Instant};

use futures::StreamExt;
use reqwest::{Client, Method, StatusCode};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Error as WsError;

use crate::support::*;

/// The longest per-username delay berth may impose (`auth::throttle::MAX_DELAY`).
const MAX_DELAY_SECS: u64 = 30;

async fn ticket(app: &TestApp, body: Option<Value>) -> String {
    let (status, t) = app.call(Method::POST, "/api/auth/ws-ticket", body).await;
    assert_eq!(status, 200, "{t}");
    t["ticket"].as_str().expect("a ticket").to_owned()
}

/// Open a websocket with no cookie; the status and body if refused.
async fn ws_plain(app: &TestApp, path_and_query: &str) -> Result<Ws, (u16, String)> {
    let req = format!("ws://127.0.0.1:{}{path_and_query}", app.port())
        .into_client_request()
        .unwrap();
    ws_request(req).await
}

async fn ws_request(
    req: tokio_tungstenite::tungstenite::handshake::client::Request,
) -> Result<Ws, (u16, String)> {
    match tokio_tungstenite::connect_async(req).await {
        Ok((ws, _)) => Ok(ws),
        Err(WsError::Http(resp)) => Err((
            resp.status().as_u16(),
            String::from_utf8_lossy(resp.body().as_deref().unwrap_or_default()).into_owned(),
        )),
        Err(e) => panic!("websocket: {e}"),
    }
}

async fn ws_cookie(app: &TestApp, cookie: &str, path: &str) -> Result<Ws, (u16, String)> {
    let mut req = format!("ws://127.0.0.1:{}{path}", app.port())
        .into_client_request()
        .unwrap();
    req.headers_mut().insert("cookie", cookie.parse().unwrap());
    ws_request(req).await
}

#[tokio::test]
async fn tickets_open_only_a_websocket() {
    let app = TestApp::start().await;
    let anon = Client::new();

    // Not a way to mint a permanent token (the hole): any non-websocket use is refused...
    let t = ticket(&app, None).await;
    let got = send(
        &anon,
        Method::POST,
        &app.url(&format!("/api/tokens?ticket={t}")),
        Some(json!({"name": "stolen"})),
    )
    .await;
    assert_error(&got, 401, "unauthorized");
    // ...and burns the ticket.
    let refused = ws_plain(&app, &format!("/api/events/ws?ticket={t}")).await;
    assert_eq!(refused.err().map(|e| e.0), Some(401), "burnt by the misuse");

    // A GET without the upgrade is not a websocket either.
    let t = ticket(&app, None).await;
    let got = send(
        &anon,
        Method::GET,
        &app.url(&format!("/api/auth/me?ticket={t}")),
        None,
    )
    .await;
    assert_error(&got, 401, "unauthorized");
    assert!(
        got.1["error"]["message"]
            .as_str()
            .unwrap()
            .contains("websocket"),
        "{}",
        got.1
    );

    // Without a path it opens any websocket, once.
    let t = ticket(&app, None).await;
    assert!(ws_plain(&app, &format!("/api/events/ws?ticket={t}"))
        .await
        .is_ok());

    // With a path, only that one.
    let body = Some(json!({"path": "/api/events/ws"}));
    let t = ticket(&app, body.clone()).await;
    let other = ws_plain(&app, &format!("/api/containers/nope/stats/ws?ticket={t}")).await;
    let (status, msg) = other.expect_err("another path is refused");
    assert_eq!(status, 401);
    assert!(msg.contains("/api/events/ws"), "{msg}");
    let t = ticket(&app, body).await;
    assert!(ws_plain(&app, &format!("/api/events/ws?ticket={t}"))
        .await
        .is_ok());

    // Not a path: refused when asked for.
    let got = app
        .call(
            Method::POST,
            "/api/auth/ws-ticket",
            Some(json!({"path": "api/events/ws?x=1"})),
        )
        .await;
    assert_error(&got, 400, "invalid_path");
}

#[tokio::test]
async fn tickets_die_with_their_users_sessions() {
    let app = TestApp::start().await;
    let name = unique("tk");
    app.make_user(&name, "viewer", &[]).await;
    let user = app.client_as(&name, USER_PASSWORD).await;
    let issue = |c: Client| {
        let url = app.url("/api/auth/ws-ticket");
        async move {
            let (status, t) = send(&c, Method::POST, &url, None).await;
            assert_eq!(status, 200, "{t}");
            t["ticket"].as_str().unwrap().to_owned()
        }
    };

    // Logout.
    let t = issue(user.clone()).await;
    let (status, _) = send(&user, Method::POST, &app.url("/api/auth/logout"), None).await;
    assert_eq!(status, 204);
    let got = ws_plain(&app, &format!("/api/events/ws?ticket={t}")).await;
    assert_eq!(got.err().map(|e| e.0), Some(401), "after a logout");

    // A role change by an admin.
    let user = app.client_as(&name, USER_PASSWORD).await;
    let t = issue(user.clone()).await;
    let (status, _) = app
        .call(
            Method::PATCH,
            &format!("/api/users/{name}"),
            Some(json!({"role": "operator"})),
        )
        .await;
    assert_eq!(status, 204);
    let got = ws_plain(&app, &format!("/api/events/ws?ticket={t}")).await;
    assert_eq!(got.err().map(|e| e.0), Some(401), "after a role change");

    // An unaffected ticket still works (the refusals above are not a broken ticket path).
    let user = app.client_as(&name, USER_PASSWORD).await;
    let t = issue(user).await;
    assert!(ws_plain(&app, &format!("/api/events/ws?ticket={t}"))
        .await
        .is_ok());
}

/// Log in; on 429 wait what `Retry-After` says (asserting the cap) and try again.
async fn login_waiting(c: &Client, url: &str, user: &str, pw: &str, xff: Option<&str>) -> u16 {
    loop {
        let mut req = c.post(url).json(&json!({"username": user, "password": pw}));
        if let Some(ip) = xff {
            req = req.header("x-forwarded-for", ip);
        }
        let r = req.send().await.expect("login");
        if r.status() != StatusCode::TOO_MANY_REQUESTS {
            return r.status().as_u16();
        }
        let wait: u64 = r.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!(
            (1..=MAX_DELAY_SECS).contains(&wait),
            "a short, capped delay, not a lock: {wait} s"
        );
        tokio::time::sleep(Duration::from_secs(wait)).await;
    }
}

#[tokio::test]
async fn bad_logins_slow_guessing_but_never_lock_the_right_password_out() {
    // The proxy flag lets one test speak from two addresses.
    let app = TestApp::start_with(&["--trusted-proxy".into(), "127.0.0.1".into()]).await;
    let name = unique("victim");
    app.make_user(&name, "viewer", &[]).await;
    let url = app.url("/api/auth/login");
    let c = Client::new();

    // 12 bad tries from one client: each is answered (401), after the delays berth asks.
    let started = Instant::now();
    for _ in 0..12 {
        assert_eq!(
            login_waiting(&c, &url, &name, "wrong-guess", None).await,
            401
        );
    }
    // Guessing is slowed: past the free tries, each further one had to wait.
    let r = c
        .post(&url)
        .json(&json!({"username": &name, "password": "wrong-guess"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429, "the 13th guess waits");
    // The right password from the same client gets in within the capped delay.
    let before = Instant::now();
    assert_eq!(
        login_waiting(&c, &url, &name, USER_PASSWORD, None).await,
        200
    );
    assert!(
        before.elapsed() <= Duration::from_secs(MAX_DELAY_SECS + 2),
        "in after at most the cap"
    );
    assert!(started.elapsed() < Duration::from_secs(60));

    // Again 12 bad tries from an attacker's address; the real user at another address is
    // not held up at all.
    for _ in 0..12 {
        let got = login_waiting(&c, &url, &name, "wrong-guess", Some("198.51.100.7")).await;
        assert_eq!(got, 401);
    }
    let r = c
        .post(&url)
        .header("x-forwarded-for", "203.0.113.9")
        .json(&json!({"username": &name, "password": USER_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "the victim's own address gets in at once");
}

#[tokio::test]
async fn wrong_current_passwords_are_throttled_like_logins() {
    let app = TestApp::start().await;
    let name = unique("pw");
    app.make_user(&name, "operator", &[]).await;
    let user = app.client_as(&name, USER_PASSWORD).await;
    let url = app.url(&format!("/api/users/{name}"));
    let change = |current: &str| {
        send(
            &user,
            Method::PATCH,
            &url,
            Some(json!({"password": "brand-new-password", "current_password": current})),
        )
    };
    for _ in 0..10 {
        assert_error(&change("wrong-guess").await, 400, "wrong_current_password");
    }
    let r = user
        .patch(&url)
        .json(&json!({"password": "brand-new-password", "current_password": "wrong-again"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429, "the 11th guess waits, as a login would");
    let wait: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=MAX_DELAY_SECS).contains(&wait), "{wait}");
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "too_many_attempts");
    // The same count as logins: a login for that name waits too.
    assert_eq!(app.login(&name, USER_PASSWORD).await.status(), 429);

    // After the delay, the right current password works.
    tokio::time::sleep(Duration::from_secs(wait)).await;
    let (status, body) = change(USER_PASSWORD).await;
    assert_eq!(status, 204, "{body}");
}

#[tokio::test]
async fn tokens_die_with_a_new_password_or_a_disable() {
    let app = TestApp::start().await;
    let name = unique("tok");
    app.make_user(&name, "operator", &[]).await;
    let user = app.client_as(&name, USER_PASSWORD).await;
    let make_token = || async {
        let (status, t) = send(
            &user,
            Method::POST,
            &app.url("/api/tokens"),
            Some(json!({"name": "ci"})),
        )
        .await;
        assert_eq!(status, 201, "{t}");
        t["token"].as_str().unwrap().to_owned()
    };
    let me = |token: String| {
        let url = app.url("/api/auth/me");
        async move {
            Client::new()
                .get(url)
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .status()
        }
    };

    // The owner's own password change.
    let token = make_token().await;
    assert_eq!(me(token.clone()).await, 200);
    let (status, _) = send(
        &user,
        Method::PATCH,
        &app.url(&format!("/api/users/{name}")),
        Some(json!({"password": "second-password", "current_password": USER_PASSWORD})),
    )
    .await;
    assert_eq!(status, 204);
    assert_eq!(me(token).await, 401, "after a new password");

    // A disable by an admin; re-enabling does not bring the token back.
    let token = make_token().await;
    assert_eq!(me(token.clone()).await, 200);
    let user_path = format!("/api/users/{name}");
    let patch = |disabled: bool| {
        app.call(
            Method::PATCH,
            &user_path,
            Some(json!({ "disabled": disabled })),
        )
    };
    assert_eq!(patch(true).await.0, 204);
    assert_eq!(me(token.clone()).await, 401, "while disabled");
    assert_eq!(patch(false).await.0, 204);
    assert_eq!(me(token).await, 401, "revoked, not suspended");
    let (_, list) = app.get("/api/tokens").await;
    assert!(
        !list
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["username"] == name.as_str()),
        "gone from the list: {list}"
    );

    // An admin's reset of the password revokes too.
    let user = app.client_as(&name, "second-password").await;
    let (status, t) = send(
        &user,
        Method::POST,
        &app.url("/api/tokens"),
        Some(json!({"name": "ci"})),
    )
    .await;
    assert_eq!(status, 201);
    let token = t["token"].as_str().unwrap().to_owned();
    let (status, _) = app
        .call(
            Method::PATCH,
            &format!("/api/users/{name}"),
            Some(json!({"password": "third-password"})),
        )
        .await;
    assert_eq!(status, 204);
    assert_eq!(me(token).await, 401, "after an admin's reset");
}

/// Wait until the server closes this connection (a read returns 0 or fails).
async fn closed_by_server(mut tcp: TcpStream) {
    let mut buf = [0u8; 1024];
    loop {
        match tcp.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
    }
}

#[tokio::test]
async fn slowloris_connections_are_dropped() {
    let app = TestApp::spawn(&docker_host()).await;
    let addr = format!("127.0.0.1:{}", app.port());
    let mut conns = Vec::new();
    for i in 0..100 {
        let mut tcp = TcpStream::connect(&addr).await.unwrap();
        match i % 4 {
            // A head that never ends.
            0 => tcp
                .write_all(b"GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: 1")
                .await
                .unwrap(),
            // The start of an HTTP/2 preface, then nothing.
            1 => tcp.write_all(b"PRI * HTTP/2.0\r\n").await.unwrap(),
            // A kept-alive connection: one request, then no next one.
            2 => {
                tcp.write_all(b"GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                    .await
                    .unwrap();
            }
            // Nothing at all.
            _ => {}
        }
        conns.push(tcp);
    }
    let started = Instant::now();
    // Meanwhile berth serves others.
    assert_eq!(app.get("/api/health").await.0, 200);
    let all = futures::future::join_all(conns.into_iter().map(closed_by_server));
    tokio::time::timeout(Duration::from_secs(30), all)
        .await
        .expect("every half-open connection is dropped within 30 s");
    eprintln!("100 slow connections dropped after {:?}", started.elapsed());
}

#[tokio::test]
async fn a_stalled_body_is_ended_and_a_flowing_upload_is_not() {
    let dir = tempfile::tempdir().unwrap();
    let share = format!("up={}:rw", dir.path().display());
    let app = TestApp::start_with(&[
        "--body-idle-seconds".into(),
        "2".into(),
        "--share".into(),
        share,
    ])
    .await;

    // A body that stops after a few bytes: 408, and the connection is closed.
    let mut tcp = TcpStream::connect(("127.0.0.1", app.port())).await.unwrap();
    tcp.write_all(
        b"POST /api/auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
          Content-Length: 100\r\n\r\n{\"username\":",
    )
    .await
    .unwrap();
    let started = Instant::now();
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(15), tcp.read_to_end(&mut answer))
        .await
        .expect("answered and closed well before 15 s")
        .unwrap();
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("request_timeout"), "{answer}");
    assert!(started.elapsed() >= Duration::from_secs(2));

    // An upload that takes 6 s in all, a piece every 500 ms: never idle for 2 s.
    let boundary = "berthboundary";
    let head = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"slow.bin\"\r\n\
         Content-Type: application/octet-stream\r\n\r\n"
    );
    let tail = format!("\r\n--{boundary}--\r\n");
    let chunk = vec![b'x'; 10_000];
    let pieces = futures::stream::iter(0..14).then(move |i| {
        let (head, tail, chunk) = (head.clone(), tail.clone(), chunk.clone());
        async move {
            let bytes = match i {
                0 => head.into_bytes(),
                13 => tail.into_bytes(),
                _ => {
                    tokio::time::sleep(Duration::from_millis(500)).await;
                    chunk
                }
            };
            Ok::<_, std::io::Error>(bytes)
        }
    });
    let started = Instant::now();
    let r = app
        .client
        .put(app.url("/api/shares/up/upload?path=/"))
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(reqwest::Body::wrap_stream(pieces))
        .send()
        .await
        .unwrap();
    let status = r.status();
    let body: Value = r.json().await.unwrap_or(Value::Null);
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["bytes"], 12 * 10_000, "{body}");
    assert!(started.elapsed() >= Duration::from_secs(5), "it was slow");
    assert_eq!(
        std::fs::metadata(dir.path().join("slow.bin"))
            .unwrap()
            .len(),
        120_000
    );
}

#[tokio::test]
async fn websockets_per_user_are_capped_and_the_count_given_back() {
    let app = TestApp::start_with(&["--max-websockets-per-user".into(), "3".into()]).await;
    let cookie = app.cookie_header("admin", ADMIN_PASSWORD).await;
    let mut open = Vec::new();
    for _ in 0..3 {
        open.push(ws_cookie(&app, &cookie, "/api/events/ws").await.unwrap());
    }
    let (status, msg) = ws_cookie(&app, &cookie, "/api/events/ws")
        .await
        .expect_err("the 4th is refused");
    assert_eq!(status, 429);
    assert!(
        msg.contains("too_many_websockets") && msg.contains("--max-websockets-per-user"),
        "{msg}"
    );
    // Another user is not affected.
    let name = unique("ws");
    app.make_user(&name, "viewer", &[]).await;
    let other = app.cookie_header(&name, USER_PASSWORD).await;
    let mut theirs = ws_cookie(&app, &other, "/api/events/ws").await.unwrap();
    let _ = theirs.close(None).await;

    // A socket closed by the client gives its place back.
    let mut first = open.remove(0);
    first.close(None).await.unwrap();
    while first.next().await.is_some() {}
    let again = eventually(|| ws_cookie(&app, &cookie, "/api/events/ws")).await;
    open.push(again);

    // One dropped without a close (the TCP connection just goes) does too.
    drop(open.remove(0));
    open.push(eventually(|| ws_cookie(&app, &cookie, "/api/events/ws")).await);

    // Sockets ended by a logout give theirs back.
    let (status, _) = app.post("/api/auth/logout").await;
    assert_eq!(status, 204);
    for mut ws in open {
        while let Some(Ok(_)) = ws.next().await {}
    }
    let cookie = app.cookie_header("admin", ADMIN_PASSWORD).await;
    for _ in 0..3 {
        eventually(|| ws_cookie(&app, &cookie, "/api/events/ws")).await;
    }
}

/// Retry opening a websocket for a few seconds (a close takes a moment to be counted).
async fn eventually<F, Fut>(open: F) -> Ws
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<Ws, (u16, String)>>,
{
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match open().await {
            Ok(ws) => return ws,
            Err((429, _)) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(100)).await
            }
            Err(e) => panic!("websocket refused: {e:?}"),
        }
    }
}

fn rss_kb(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

#[tokio::test]
async fn memory_is_given_back_after_websockets_close() {
    const N: usize = 350;
    let app = TestApp::start_with(&["--max-websockets-per-user".into(), "1000".into()]).await;
    let cookie = app.cookie_header("admin", ADMIN_PASSWORD).await;
    let name = unique("mem");
    let id = make_container(&name, true).await;
    let paths = [
        "/api/events/ws".to_owned(),
        format!("/api/containers/{id}/logs/ws?follow=true&tail=10"),
        format!("/api/containers/{id}/stats/ws"),
    ];
    // Warm up: every kind of socket once, so lazily made things are counted in the baseline.
    for p in &paths {
        let mut ws = ws_cookie(&app, &cookie, p).await.unwrap();
        let _ = tokio::time::timeout(Duration::from_secs(2), ws.next()).await;
        let _ = ws.close(None).await;
    }
    tokio::time::sleep(Duration::from_secs(4)).await;
    let baseline = rss_kb(app.pid());

    let mut open = Vec::new();
    for i in 0..N {
        open.push(
            ws_cookie(&app, &cookie, &paths[i % paths.len()])
                .await
                .unwrap(),
        );
    }
    // Let the streams start (a stats frame comes every second).
    tokio::time::sleep(Duration::from_secs(3)).await;
    let peak = rss_kb(app.pid());
    for mut ws in open {
        let _ = ws.close(None).await;
    }
    // Back near the baseline within a few seconds.
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut after = rss_kb(app.pid());
    while after > baseline + 12 * 1024 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(500)).await;
        after = rss_kb(app.pid());
    }
    eprintln!("RSS: baseline {baseline} kB, {N} sockets open {peak} kB, after closing {after} kB");
    remove_container(&id).await;
    assert!(
        after <= baseline + 12 * 1024,
        "RSS baseline {baseline} kB, open {peak} kB, after closing {after} kB"
    );
}

#[tokio::test]
async fn public_url_refuses_other_host_names() {
    let app = TestApp::start_with_port(|port| {
        vec![
            "--public-url".into(),
            format!("http://127.0.0.1:{port},https://berth.example.com"),
        ]
    })
    .await;
    assert_eq!(app.get("/api/auth/me").await.0, 200, "its own name works");

    // A page on a name that resolves to berth (DNS rebinding) sends that name.
    for path in ["/api/auth/me", "/api/health", "/", "/files/"] {
        let r = app
            .client
            .get(app.url(path))
            .header("host", "rebind.evil.example:8080")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 421, "{path}");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["error"]["code"], "unknown_host", "{body}");
        let msg = body["error"]["message"].as_str().unwrap();
        assert!(msg.contains("--public-url"), "names the setting: {msg}");
    }
    // Websockets too.
    let cookie = app.cookie_header("admin", ADMIN_PASSWORD).await;
    let mut req = format!("ws://127.0.0.1:{}/api/events/ws", app.port())
        .into_client_request()
        .unwrap();
    req.headers_mut().insert("cookie", cookie.parse().unwrap());
    req.headers_mut()
        .insert("host", "rebind.evil.example".parse().unwrap());
    assert_eq!(ws_request(req).await.err().map(|e| e.0), Some(421));

    // The public name itself (as a proxy passing the browser's Host would send it).
    let r = Client::new()
        .get(app.url("/api/health"))
        .header("host", "berth.example.com")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    // Behind a proxy that sends its own Host, the public origin passes the origin check.
    let r = Client::new()
        .post(app.url("/api/auth/logout"))
        .header("cookie", &cookie)
        .header("origin", "https://berth.example.com")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let r = Client::new()
        .post(app.url("/api/auth/logout"))
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
}

#[tokio::test]
async fn without_public_url_any_host_name_is_answered_as_before() {
    let app = TestApp::spawn(&docker_host()).await;
    let r = Client::new()
        .get(app.url("/api/health"))
        .header("host", "anything.example")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}
