//! `GET /api/events/ws`: daemon events reach the browser as they happen.

use std::time::Duration;

use futures::StreamExt;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

use crate::support::*;

async fn open_ws(
    app: &TestApp,
    origin: Option<&str>,
) -> Result<
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
    tokio_tungstenite::tungstenite::Error,
> {
    let cookie = app.cookie_header("admin", ADMIN_PASSWORD).await;
    let mut req = format!("ws://127.0.0.1:{}/api/events/ws", app.port())
        .into_client_request()
        .unwrap();
    req.headers_mut().insert("cookie", cookie.parse().unwrap());
    if let Some(o) = origin {
        req.headers_mut().insert("origin", o.parse().unwrap());
    }
    tokio_tungstenite::connect_async(req)
        .await
        .map(|(ws, _)| ws)
}

#[tokio::test]
async fn container_events_arrive_live() {
    let app = TestApp::start().await;
    let name = unique("events");
    let id = make_container(&name, false).await;
    let mut ws = open_ws(&app, Some(&app.base))
        .await
        .expect("websocket opens");
    // Give the hub a moment to open the daemon stream, then act.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (status, _) = app.post(&format!("/api/containers/{id}/start")).await;
    assert_eq!(status, 204);

    let got = tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(Ok(msg)) = ws.next().await {
            if let Message::Text(text) = msg {
                let ev: serde_json::Value = serde_json::from_str(&text).unwrap();
                if ev["type"] == "container" && ev["id"] == id.as_str() && ev["action"] == "start" {
                    return ev;
                }
            }
        }
        panic!("the socket closed before the start event");
    })
    .await
    .expect("a start event within 10 s");
    assert_eq!(got["attributes"]["name"], name.as_str());
    remove_container(&id).await;
}

#[tokio::test]
async fn websocket_needs_session_and_same_origin() {
    let app = TestApp::start().await;
    match open_ws(&app, Some("http://evil.example")).await {
        Ok(_) => panic!("a foreign origin must be refused"),
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => assert_eq!(resp.status(), 403),
        Err(other) => panic!("expected a 403, got {other}"),
    }
    let req = format!("ws://127.0.0.1:{}/api/events/ws", app.port())
        .into_client_request()
        .unwrap();
    match tokio_tungstenite::connect_async(req).await {
        Ok(_) => panic!("no session must be refused"),
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => assert_eq!(resp.status(), 401),
        Err(other) => panic!("expected a 401, got {other}"),
    }
}
