//! Roles and teams on every route that reaches the daemon, tokens, audit, session ends.

use std::time::Duration;

use futures::StreamExt;
use reqwest::{Client, Method};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::support::*;

/// Every mutating container route, as (method, path after /api/containers/{ref}), in an
/// order a running container can go through. Later routes add their rows here.
const CONTAINER_MUTATIONS: &[(&str, &str)] = &[
    ("POST", "/pause"),
    ("POST", "/unpause"),
    ("POST", "/stop?t=1"),
    ("POST", "/start"),
    ("POST", "/restart?t=1"),
    ("POST", "/kill"),
    ("DELETE", "?force=true"),
];

fn method(m: &str) -> Method {
    Method::from_bytes(m.as_bytes()).unwrap()
}

#[tokio::test]
async fn role_and_team_matrix_on_container_routes() {
    let app = TestApp::start().await;
    let TwoTeams {
        red,
        viewer,
        op_red,
        op_blue,
    } = app.two_teams().await;

    let name = unique("teamed");
    let id = make_container_labeled(&name, true, &[("berth.team", &red)]).await;
    let short = id[..12].to_string();

    for reference in [id.as_str(), short.as_str(), name.as_str()] {
        for (m, suffix) in CONTAINER_MUTATIONS {
            let url = app.url(&format!("/api/containers/{reference}{suffix}"));
            let got = send(&viewer, method(m), &url, None).await;
            assert_error(&got, 403, "forbidden");
            let got = send(&op_blue, method(m), &url, None).await;
            assert_error(&got, 404, "not_found");
        }
        // Reading another team's container is refused too, by any name.
        let got = send(
            &op_blue,
            Method::GET,
            &app.url(&format!("/api/containers/{reference}")),
            None,
        )
        .await;
        assert_error(&got, 404, "not_found");
    }
    assert_eq!(
        daemon_state(&id).await.as_deref(),
        Some("running"),
        "nothing was done"
    );

    // The team's operator may; the viewer may read.
    let got = send(
        &viewer,
        Method::GET,
        &app.url(&format!("/api/containers/{short}")),
        None,
    )
    .await;
    assert_eq!(got.0, 200);
    for (m, suffix) in CONTAINER_MUTATIONS {
        let url = app.url(&format!("/api/containers/{name}{suffix}"));
        let (status, body) = send(&op_red, method(m), &url, None).await;
        assert_eq!(status, 204, "{m} {suffix}: {body}");
    }
    assert_eq!(daemon_state(&id).await, None, "the operator removed it");
}

#[tokio::test]
async fn lists_and_events_show_only_the_teams_containers() {
    let app = TestApp::start().await;
    let red = unique("red");
    let blue = unique("blue");
    app.make_user(&format!("{red}-op"), "operator", &[&red])
        .await;
    app.make_user(&format!("{blue}-op"), "operator", &[&blue])
        .await;
    let op_red = app.client_as(&format!("{red}-op"), USER_PASSWORD).await;
    let op_blue = app.client_as(&format!("{blue}-op"), USER_PASSWORD).await;
    let red_name = unique("red-c");
    let red_id = make_container_labeled(&red_name, false, &[("berth.team", &red)]).await;
    let shared_name = unique("shared-c");
    let shared_id = make_container_labeled(&shared_name, false, &[("berth.shared", "true")]).await;

    let ids = |v: &serde_json::Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|r| r["id"].as_str().unwrap().to_owned())
            .collect()
    };
    let (_, red_list) = send(
        &op_red,
        Method::GET,
        &app.url("/api/containers?all=true"),
        None,
    )
    .await;
    let (_, blue_list) = send(
        &op_blue,
        Method::GET,
        &app.url("/api/containers?all=true"),
        None,
    )
    .await;
    let (_, admin_list) = app.get("/api/containers?all=true").await;
    assert!(ids(&red_list).contains(&red_id));
    assert!(
        !ids(&blue_list).contains(&red_id),
        "another team's container is hidden"
    );
    assert!(
        ids(&blue_list).contains(&shared_id),
        "a shared one is visible to all"
    );
    assert!(ids(&admin_list).contains(&red_id));

    // Events: blue's socket never hears of red's container.
    let ws_as = |user: String| {
        let app_url = app.port();
        async move {
            let cookie = {
                let r = Client::new()
                    .post(format!("http://127.0.0.1:{app_url}/api/auth/login"))
                    .json(&serde_json::json!({"username": user, "password": USER_PASSWORD}))
                    .send()
                    .await
                    .unwrap();
                r.headers()["set-cookie"]
                    .to_str()
                    .unwrap()
                    .split(';')
                    .next()
                    .unwrap()
                    .to_owned()
            };
            let mut req = format!("ws://127.0.0.1:{app_url}/api/events/ws")
                .into_client_request()
                .unwrap();
            req.headers_mut().insert("cookie", cookie.parse().unwrap());
            tokio_tungstenite::connect_async(req).await.unwrap().0
        }
    };
    let mut red_ws = ws_as(format!("{red}-op")).await;
    let mut blue_ws = ws_as(format!("{blue}-op")).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (status, _) = app.post(&format!("/api/containers/{red_id}/start")).await;
    assert_eq!(status, 204);
    assert_eq!(heard(&mut red_ws, &red_id).await, Some(true));
    assert_eq!(
        heard(&mut blue_ws, &red_id).await,
        None,
        "blue hears nothing of red"
    );

    remove_container(&red_id).await;
    remove_container(&shared_id).await;
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Whether a frame mentioning `id` arrives within 3 s (None: nothing arrived).
async fn heard(ws: &mut Ws, id: &str) -> Option<bool> {
    let fut = async {
        while let Some(Ok(msg)) = ws.next().await {
            if let tokio_tungstenite::tungstenite::Message::Text(t) = msg {
                if t.contains(id) {
                    return true;
                }
            }
        }
        false
    };
    tokio::time::timeout(Duration::from_secs(3), fut).await.ok()
}

#[tokio::test]
async fn logout_ends_the_users_other_sessions_and_websockets() {
    let app = TestApp::start().await;
    let other = app.client_as("admin", ADMIN_PASSWORD).await;
    let cookie = app.cookie_header("admin", ADMIN_PASSWORD).await;
    let mut req = format!("ws://127.0.0.1:{}/api/events/ws", app.port())
        .into_client_request()
        .unwrap();
    req.headers_mut().insert("cookie", cookie.parse().unwrap());
    let (mut ws, _) = tokio_tungstenite::connect_async(req).await.unwrap();

    let (status, _) = app.post("/api/auth/logout").await;
    assert_eq!(status, 204);
    let got = send(&other, Method::GET, &app.url("/api/auth/me"), None).await;
    assert_error(&got, 401, "unauthorized");
    let closed = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match ws.next().await {
                None | Some(Err(_)) => return,
                Some(Ok(tokio_tungstenite::tungstenite::Message::Close(_))) => return,
                Some(Ok(_)) => {}
            }
        }
    })
    .await;
    assert!(closed.is_ok(), "the open websocket was closed");
}

#[tokio::test]
async fn repeated_failures_are_throttled() {
    let app = TestApp::spawn(&docker_host()).await;
    for _ in 0..10 {
        assert_eq!(app.login("admin", "wrong-password").await.status(), 401);
    }
    let r = app.login("admin", ADMIN_PASSWORD).await;
    assert_eq!(r.status(), 429, "even the right password waits now");
    assert!(r.headers().contains_key("retry-after"));
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "too_many_attempts");
}

#[tokio::test]
async fn tokens_work_until_revoked() {
    let app = TestApp::start().await;
    let (status, created) = app
        .call(
            Method::POST,
            "/api/tokens",
            Some(serde_json::json!({"name": "ci"})),
        )
        .await;
    assert_eq!(status, 201);
    let token = created["token"].as_str().unwrap().to_owned();
    let id = created["id"].as_i64().unwrap();
    let bearer = |c: &Client| c.get(app.url("/api/auth/me")).bearer_auth(&token);
    let r = bearer(&Client::new()).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let me: serde_json::Value = r.json().await.unwrap();
    assert_eq!(me["username"], "admin");

    let (_, list) = app.get("/api/tokens").await;
    let row = list
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == id)
        .unwrap()
        .clone();
    assert!(
        row["last_used"].as_i64().is_some(),
        "last use recorded: {row}"
    );
    assert!(row.get("token").is_none(), "the secret is never listed");

    let (status, _) = app
        .call(Method::DELETE, &format!("/api/tokens/{id}"), None)
        .await;
    assert_eq!(status, 204);
    let r = bearer(&Client::new()).send().await.unwrap();
    assert_eq!(r.status(), 401, "a revoked token is refused");
    let r = Client::new()
        .get(app.url("/api/auth/me"))
        .bearer_auth("berth_made_up")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}

#[tokio::test]
async fn websocket_tickets_are_single_use() {
    let app = TestApp::start().await;
    let (status, t) = app.post("/api/auth/ws-ticket").await;
    assert_eq!(status, 200);
    let ticket = t["ticket"].as_str().unwrap().to_owned();
    let url = format!(
        "ws://127.0.0.1:{}/api/events/ws?ticket={ticket}",
        app.port()
    );
    assert!(tokio_tungstenite::connect_async(url.clone()).await.is_ok());
    match tokio_tungstenite::connect_async(url).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => assert_eq!(resp.status(), 401),
        other => panic!("a used ticket must be refused, got {:?}", other.map(|_| ())),
    }
}

#[tokio::test]
async fn user_admin_and_own_password() {
    let app = TestApp::start().await;
    let team = unique("t");
    let name = format!("{team}-u");
    app.make_user(&name, "operator", &[&team]).await;
    // Bad input names what is wrong.
    let got = app
        .call(Method::POST, "/api/users", Some(serde_json::json!({"username": "bad name", "password": "longenough", "role": "viewer"})))
        .await;
    assert_error(&got, 400, "invalid_username");
    let got = app
        .call(
            Method::POST,
            "/api/users",
            Some(serde_json::json!({"username": "shorty", "password": "x", "role": "viewer"})),
        )
        .await;
    assert_error(&got, 400, "weak_password");
    let got = app
        .call(Method::POST, "/api/users", Some(serde_json::json!({"username": "z1", "password": "longenough", "role": "viewer", "teams": ["no-such-team"]})))
        .await;
    assert_error(&got, 400, "unknown_team");
    let got = app
        .call(
            Method::POST,
            "/api/users",
            Some(serde_json::json!({"username": name, "password": "longenough", "role": "viewer"})),
        )
        .await;
    assert_error(&got, 409, "conflict");

    let user = app.client_as(&name, USER_PASSWORD).await;
    let second = app.client_as(&name, USER_PASSWORD).await;
    let got = send(&user, Method::GET, &app.url("/api/users"), None).await;
    assert_error(&got, 403, "forbidden");
    let got = send(
        &user,
        Method::PATCH,
        &app.url(&format!("/api/users/{name}")),
        Some(serde_json::json!({"role": "admin"})),
    )
    .await;
    assert_error(&got, 403, "forbidden");
    let got = send(
        &user,
        Method::PATCH,
        &app.url(&format!("/api/users/{name}")),
        Some(serde_json::json!({"password": "new-password-2", "current_password": "wrong"})),
    )
    .await;
    assert_error(&got, 400, "wrong_current_password");
    let (status, _) = send(
        &user,
        Method::PATCH,
        &app.url(&format!("/api/users/{name}")),
        Some(serde_json::json!({"password": "new-password-2", "current_password": USER_PASSWORD})),
    )
    .await;
    assert_eq!(status, 204);
    assert_eq!(
        send(&user, Method::GET, &app.url("/api/auth/me"), None)
            .await
            .0,
        200,
        "this session stays"
    );
    assert_eq!(
        send(&second, Method::GET, &app.url("/api/auth/me"), None)
            .await
            .0,
        401,
        "other sessions end"
    );

    // An admin disables the user: sessions end and login is refused.
    let (status, _) = app
        .call(
            Method::PATCH,
            &format!("/api/users/{name}"),
            Some(serde_json::json!({"disabled": true})),
        )
        .await;
    assert_eq!(status, 204);
    assert_eq!(
        send(&user, Method::GET, &app.url("/api/auth/me"), None)
            .await
            .0,
        401
    );
    assert_eq!(app.login(&name, "new-password-2").await.status(), 401);

    // The last admin cannot be demoted or deleted.
    let got = app
        .call(
            Method::PATCH,
            "/api/users/admin",
            Some(serde_json::json!({"role": "viewer"})),
        )
        .await;
    assert_error(&got, 409, "conflict");
    // An admin cannot delete or disable their own account (another admin can): a clear 400.
    let got = app.call(Method::DELETE, "/api/users/admin", None).await;
    assert_error(&got, 400, "self_delete");
    let got = app
        .call(
            Method::PATCH,
            "/api/users/admin",
            Some(serde_json::json!({"disabled": true})),
        )
        .await;
    assert_error(&got, 400, "self_disable");
    assert_eq!(app.get("/api/auth/me").await.0, 200, "still logged in");
    let (status, users) = app.get("/api/users").await;
    assert_eq!(status, 200);
    let row = users
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["username"] == name.as_str())
        .unwrap();
    assert_eq!(row["disabled"], true);
    assert_eq!(row["teams"], serde_json::json!([team]));
}

#[tokio::test]
async fn audit_rows_are_written() {
    let app = TestApp::start().await;
    let _ = app.login("admin", "wrong-once").await;
    let name = unique("audited");
    let id = make_container(&name, true).await;
    let (status, _) = app.post(&format!("/api/containers/{name}/stop?t=1")).await;
    assert_eq!(status, 204);
    let (status, _) = app.post("/api/containers/no-such-xyz/start").await;
    assert_eq!(status, 404);
    let (status, log) = app.get("/api/audit?limit=50").await;
    assert_eq!(status, 200);
    let rows = log.as_array().unwrap();
    let has = |action: &str, target: Option<&str>, result: &str| {
        rows.iter().any(|r| {
            r["action"] == action
                && r["result"] == result
                && target.is_none_or(|t| r["target"] == t)
        })
    };
    assert!(has("login", None, "ok"), "{log}");
    assert!(has("login", None, "denied"), "{log}");
    assert!(has("stop", Some(&name), "ok"), "{log}");
    assert!(has("start", Some("no-such-xyz"), "not_found"), "{log}");
    assert!(rows.iter().all(|r| r["at"].as_i64().unwrap() > 0));
    // From where: the client's address is kept with each action.
    assert!(
        rows.iter()
            .filter(|r| r["action"] == "stop")
            .all(|r| r["peer"] == "127.0.0.1"),
        "{log}"
    );
    let (_, filtered) = app.get("/api/audit?action=stop").await;
    assert!(filtered
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["action"] == "stop"));
    remove_container(&id).await;
}

/// The routes of issue 3 that reach a container: (method, path after /api/containers/{ref}).
/// Viewers and other teams' operators are refused, by full id, short id and name.
const CONTAINER_DEPTH_MUTATIONS: &[(&str, &str)] = &[("PUT", "/archive?path=/tmp")];
const CONTAINER_DEPTH_SOCKETS: &[&str] = &["/exec/ws?cmd=sh", "/attach/ws"];
const CONTAINER_DEPTH_READS: &[&str] = &[
    "/logs",
    "/top",
    "/files?path=/",
    "/archive?path=/etc/hostname",
    "/download?path=/etc/hostname",
];
const CONTAINER_DEPTH_READ_SOCKETS: &[&str] = &["/logs/ws", "/stats/ws"];

#[tokio::test]
async fn role_and_team_matrix_on_logs_exec_files_and_create() {
    let app = TestApp::start().await;
    let red = unique("red");
    let blue = unique("blue");
    let (viewer_name, red_name, blue_name) = (
        format!("{red}-viewer"),
        format!("{red}-op"),
        format!("{blue}-op"),
    );
    app.make_user(&viewer_name, "viewer", &[&red]).await;
    app.make_user(&red_name, "operator", &[&red]).await;
    app.make_user(&blue_name, "operator", &[&blue]).await;
    let viewer = app.client_as(&viewer_name, USER_PASSWORD).await;
    let op_red = app.client_as(&red_name, USER_PASSWORD).await;
    let op_blue = app.client_as(&blue_name, USER_PASSWORD).await;
    let viewer_cookie = app.cookie_header(&viewer_name, USER_PASSWORD).await;
    let blue_cookie = app.cookie_header(&blue_name, USER_PASSWORD).await;
    let red_cookie = app.cookie_header(&red_name, USER_PASSWORD).await;

    let name = unique("depth");
    let id = make_container_labeled(&name, true, &[("berth.team", &red)]).await;
    let short = id[..12].to_string();
    for reference in [id.as_str(), short.as_str(), name.as_str()] {
        for (m, suffix) in CONTAINER_DEPTH_MUTATIONS {
            let url = app.url(&format!("/api/containers/{reference}{suffix}"));
            assert_error(
                &send(&viewer, method(m), &url, None).await,
                403,
                "forbidden",
            );
            assert_error(
                &send(&op_blue, method(m), &url, None).await,
                404,
                "not_found",
            );
        }
        for suffix in CONTAINER_DEPTH_SOCKETS {
            let path = format!("/api/containers/{reference}{suffix}");
            assert_eq!(
                ws_with_cookie(&app, &viewer_cookie, &path).await.err(),
                Some(403),
                "{path}"
            );
            assert_eq!(
                ws_with_cookie(&app, &blue_cookie, &path).await.err(),
                Some(404),
                "{path}"
            );
        }
        for suffix in CONTAINER_DEPTH_READS {
            let url = app.url(&format!("/api/containers/{reference}{suffix}"));
            assert_error(
                &send(&op_blue, Method::GET, &url, None).await,
                404,
                "not_found",
            );
            let r = viewer.get(&url).send().await.unwrap();
            assert_eq!(r.status(), 200, "the team's viewer reads {suffix}");
        }
        for suffix in CONTAINER_DEPTH_READ_SOCKETS {
            let path = format!("/api/containers/{reference}{suffix}");
            assert_eq!(
                ws_with_cookie(&app, &blue_cookie, &path).await.err(),
                Some(404),
                "{path}"
            );
            assert!(
                ws_with_cookie(&app, &viewer_cookie, &path).await.is_ok(),
                "{path}"
            );
        }
    }
    // The team's operator may open a terminal.
    assert!(ws_with_cookie(
        &app,
        &red_cookie,
        &format!("/api/containers/{name}/exec/ws")
    )
    .await
    .is_ok());

    // Creating: viewers may not; an operator creates for their own team only, and may not
    // link another team's container or take host powers.
    let body = |extra: serde_json::Value| {
        let mut b = serde_json::json!({"image": test_image(), "cmd": ["true"], "start": false,
                                       "labels": {"berth-test": "1"}});
        b.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        b
    };
    let url = app.url("/api/containers");
    assert_error(
        &send(
            &viewer,
            Method::POST,
            &url,
            Some(body(serde_json::json!({}))),
        )
        .await,
        403,
        "forbidden",
    );
    assert_error(
        &send(
            &viewer,
            Method::POST,
            &app.url("/api/containers/run"),
            Some(body(serde_json::json!({}))),
        )
        .await,
        403,
        "forbidden",
    );
    assert_error(
        &send(
            &op_blue,
            Method::POST,
            &url,
            Some(body(serde_json::json!({"team": red}))),
        )
        .await,
        403,
        "forbidden",
    );
    assert_error(
        &send(
            &op_blue,
            Method::POST,
            &url,
            Some(body(serde_json::json!({"links": [format!("{name}:db")]}))),
        )
        .await,
        404,
        "not_found",
    );
    assert_error(
        &send(
            &op_blue,
            Method::POST,
            &url,
            Some(body(serde_json::json!({"privileged": true}))),
        )
        .await,
        403,
        "forbidden",
    );
    assert_error(
        &send(
            &op_blue,
            Method::POST,
            &url,
            Some(body(serde_json::json!({"binds": ["/etc:/host-etc:ro"]}))),
        )
        .await,
        403,
        "forbidden",
    );
    let (status, created) = send(
        &op_blue,
        Method::POST,
        &url,
        Some(body(serde_json::json!({}))),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let made = created["id"].as_str().unwrap().to_string();
    let labels = daemon_inspect(&made).await["Config"]["Labels"].clone();
    assert_eq!(
        labels["berth.team"],
        blue.as_str(),
        "stamped with the creator's team"
    );
    let (status, _) = send(
        &op_red,
        Method::GET,
        &app.url(&format!("/api/containers/{made}")),
        None,
    )
    .await;
    assert_eq!(status, 404, "red cannot see blue's new container");

    remove_container(&made).await;
    remove_container(&id).await;
}
