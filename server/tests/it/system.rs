//! Health, info, version, summary, the UI shell, and a daemon that is not there.

use crate::support::*;

#[tokio::test]
async fn health_info_version_summary() {
    let app = TestApp::start().await;
    let (status, health) = app.get("/api/health").await;
    assert_eq!(status, 200);
    assert_eq!(health["status"], "ok");
    assert_eq!(health["docker"]["reachable"], true);
    let api = health["docker"]["api_version"].as_str().unwrap().to_owned();
    assert!(api.starts_with("1."), "{api}");

    let (status, info) = app.get("/api/system/info").await;
    assert_eq!(status, 200);
    assert!(info["ServerVersion"].is_string(), "{info}");
    let (status, version) = app.get("/api/system/version").await;
    assert_eq!(status, 200);
    assert_eq!(version["ApiVersion"], api.as_str());

    let (status, summary) = app.get("/api/system/summary").await;
    assert_eq!(status, 200);
    assert_eq!(summary["api_version"], api.as_str());
    assert!(
        summary["images"].as_i64().unwrap() >= 1,
        "the test image exists: {summary}"
    );
}

#[tokio::test]
async fn missing_daemon_is_503_and_degraded() {
    let dir = tempfile::tempdir().unwrap();
    let host = format!("unix://{}/nothing-here.sock", dir.path().display());
    let app = TestApp::spawn(&host).await;
    app.login("admin", ADMIN_PASSWORD).await;
    let (status, health) = app.get("/api/health").await;
    assert_eq!(status, 200);
    assert_eq!(health["status"], "degraded");
    assert_eq!(health["docker"]["reachable"], false);
    for path in ["/api/containers", "/api/system/info", "/api/system/summary"] {
        assert_error(&app.get(path).await, 503, "docker_unavailable");
    }
    assert_error(
        &app.post("/api/containers/x/start").await,
        503,
        "docker_unavailable",
    );
}

#[tokio::test]
async fn openapi_describes_the_routes() {
    let app = TestApp::spawn(&docker_host()).await;
    let (status, doc) = app.get("/api/openapi.json").await;
    assert_eq!(status, 200);
    let paths = doc["paths"].as_object().unwrap();
    for p in [
        "/api/health",
        "/api/auth/login",
        "/api/auth/logout",
        "/api/auth/me",
        "/api/containers",
        "/api/containers/{id}",
        "/api/containers/{id}/{action}",
        "/api/events/ws",
        "/api/system/info",
    ] {
        assert!(paths.contains_key(p), "{p} is described");
    }
}

#[tokio::test]
async fn healthcheck_subcommand() {
    let app = TestApp::spawn(&docker_host()).await;
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_berth"))
        .args([
            "healthcheck",
            "--listen",
            &format!("127.0.0.1:{}", app.port()),
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{:?}", out);
    assert!(String::from_utf8_lossy(&out.stdout).contains("\"status\":\"ok\""));
    drop(app);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_berth"))
        .args(["healthcheck", "--listen", "127.0.0.1:9"])
        .output()
        .unwrap();
    assert!(!out.status.success());
}

#[tokio::test]
async fn unknown_api_path_is_a_json_404_and_other_paths_get_the_app() {
    let app = TestApp::spawn(&docker_host()).await;
    assert_error(&app.get("/api/no-such-route").await, 404, "not_found");
    let r = app.client.get(app.url("/containers")).send().await.unwrap();
    // The SPA shell (or, in a build without the UI, a 503 saying how to build it).
    if r.status() == 200 {
        let csp = r
            .headers()
            .get("content-security-policy")
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned();
        assert!(csp.contains("default-src 'self'"));
        assert!(r.text().await.unwrap().contains("berth"));
    } else {
        assert_eq!(r.status(), 503);
    }
}

#[tokio::test]
async fn a_daemon_that_vanishes_and_returns_is_picked_up_again() {
    use crate::proxy::DaemonRelay;
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;

    let mut relay = DaemonRelay::start();
    let app = TestApp::spawn(&relay.host()).await;
    app.login("admin", ADMIN_PASSWORD).await;
    assert_eq!(app.get("/api/containers").await.0, 200);

    let cookie = app.cookie_header("admin", ADMIN_PASSWORD).await;
    let mut req = format!("ws://127.0.0.1:{}/api/events/ws", app.port())
        .into_client_request()
        .unwrap();
    req.headers_mut().insert("cookie", cookie.parse().unwrap());
    let (mut ws, _) = tokio_tungstenite::connect_async(req).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;

    relay.cut();
    let (_, health) = app.get("/api/health").await;
    assert_eq!(health["status"], "degraded");
    assert_error(&app.get("/api/containers").await, 503, "docker_unavailable");

    assert_eq!(
        next_notice(&mut ws).await,
        "daemon_lost",
        "the page is told"
    );

    relay.restore();
    assert_eq!(next_notice(&mut ws).await, "daemon_back", "and told again");
    let (_, health) = app.get("/api/health").await;
    assert_eq!(health["status"], "ok", "berth recovered by itself");
    assert_eq!(app.get("/api/containers").await.0, 200);
}

/// The next berth notice (`daemon_lost`, `daemon_back`) on an events socket, within 15 s.
async fn next_notice(
    ws: &mut tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
) -> String {
    use futures::StreamExt;
    let fut = async {
        while let Some(Ok(msg)) = ws.next().await {
            if let tokio_tungstenite::tungstenite::Message::Text(t) = msg {
                let v: serde_json::Value = serde_json::from_str(&t).unwrap();
                if let Some(kind) = v["berth"].as_str() {
                    return kind.to_owned();
                }
            }
        }
        String::from("closed")
    };
    tokio::time::timeout(std::time::Duration::from_secs(15), fut)
        .await
        .unwrap_or_else(|_| String::from("nothing within 15 s"))
}
