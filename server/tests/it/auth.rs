//! Login, sessions, and the refusal of requests without a session or from another origin.

use reqwest::{Client, Method};

use crate::support::*;

#[tokio::test]
async fn api_needs_a_session() {
    let app = TestApp::spawn(&docker_host()).await;
    for path in [
        "/api/containers",
        "/api/containers/x",
        "/api/system/info",
        "/api/system/version",
        "/api/system/summary",
        "/api/auth/me",
    ] {
        assert_error(&app.get(path).await, 401, "unauthorized");
    }
    assert_error(
        &app.post("/api/containers/x/stop").await,
        401,
        "unauthorized",
    );
    assert_error(
        &app.call(Method::DELETE, "/api/containers/x", None).await,
        401,
        "unauthorized",
    );
    // Health and the OpenAPI description need no session.
    assert_eq!(app.get("/api/health").await.0, 200);
    assert_eq!(app.get("/api/openapi.json").await.0, 200);
}

#[tokio::test]
async fn login_logout_and_me() {
    let app = TestApp::spawn(&docker_host()).await;
    let wrong = app.login("admin", "not-the-password").await;
    assert_eq!(wrong.status(), 401);
    let body: serde_json::Value = wrong.json().await.unwrap();
    assert_eq!(body["error"]["code"], "unauthorized");
    // An unknown user gets exactly the same answer.
    let unknown = app.login("nobody", "x").await;
    assert_eq!(unknown.status(), 401);
    let body2: serde_json::Value = unknown.json().await.unwrap();
    assert_eq!(body, body2);

    let ok = app.login("admin", ADMIN_PASSWORD).await;
    assert_eq!(ok.status(), 200);
    let cookie = ok
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Strict"), "{cookie}");

    let (status, me) = app.get("/api/auth/me").await;
    assert_eq!(status, 200);
    assert_eq!(me["username"], "admin");
    assert_eq!(me["role"], "admin");
    assert_eq!(me["teams"], serde_json::json!([]));

    let (status, _) = app.post("/api/auth/logout").await;
    assert_eq!(status, 204);
    assert_error(&app.get("/api/auth/me").await, 401, "unauthorized");
}

#[tokio::test]
async fn session_id_changes_at_login() {
    let app = TestApp::spawn(&docker_host()).await;
    // A cookie planted before login (here: a made-up one) must not become a session.
    let planted = "berth_session=AAAAAAAAAAAAAAAAAAAAAA";
    let r = Client::new()
        .post(app.url("/api/auth/login"))
        .header("cookie", planted)
        .json(&serde_json::json!({"username": "admin", "password": ADMIN_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let set = r
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(!set.starts_with(planted), "a fresh id is issued: {set}");
    let r = Client::new()
        .get(app.url("/api/auth/me"))
        .header("cookie", planted)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401, "the planted cookie is worth nothing");
}

#[tokio::test]
async fn foreign_origin_is_refused() {
    let app = TestApp::start().await;
    let name = unique("origin");
    let id = make_container(&name, true).await;
    let cookie = app.cookie_header("admin", ADMIN_PASSWORD).await;
    let r = Client::new()
        .post(app.url(&format!("/api/containers/{id}/stop")))
        .header("cookie", &cookie)
        .header("origin", "http://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "forbidden");
    assert_eq!(
        daemon_state(&id).await.as_deref(),
        Some("running"),
        "nothing happened"
    );

    // Its own origin passes.
    let r = Client::new()
        .post(app.url(&format!("/api/containers/{id}/stop?t=1")))
        .header("cookie", &cookie)
        .header("origin", app.base.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    remove_container(&id).await;
}

#[tokio::test]
async fn bad_login_bodies_get_the_envelope() {
    let app = TestApp::spawn(&docker_host()).await;
    let r = Client::new()
        .post(app.url("/api/auth/login"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "invalid_json");
}

#[tokio::test]
async fn an_active_session_stays_and_an_idle_one_ends() {
    let app = TestApp::start_with(&["--session-idle-minutes".into(), "1".into()]).await;
    // Busy for longer than the idle timeout: every request keeps the session alive.
    for _ in 0..5 {
        let (status, me) = app.get("/api/auth/me").await;
        assert_eq!(status, 200, "an active session is kept: {me}");
        tokio::time::sleep(std::time::Duration::from_secs(20)).await;
    }
    // Then idle for longer than the timeout.
    tokio::time::sleep(std::time::Duration::from_secs(65)).await;
    assert_error(&app.get("/api/auth/me").await, 401, "unauthorized");
}
