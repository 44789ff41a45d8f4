//! Private registries against a real `docker-registry` on 127.0.0.1: stored credentials
//! (sealed, never returned), push, catalog and tags, remove locally, pull back; and what a
//! person sees when the registry is down, the password is wrong or the name is bad.

use reqwest::Method;
use serde_json::{json, Value};

use crate::imgkit::*;
use crate::registry_server::{TestRegistry, PASSWORD, USER};
use crate::support::*;

async fn add_registry(
    app: &TestApp,
    name: &str,
    url: &str,
    user: Option<&str>,
    pw: Option<&str>,
) -> i64 {
    let (status, body) = app
        .call(
            Method::POST,
            "/api/registries",
            Some(json!({"name": name, "url": url, "username": user, "password": pw})),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    assert!(body.get("password").is_none(), "never returned: {body}");
    body["id"].as_i64().unwrap()
}

/// Tag the test image into the registry under a unique repository.
async fn tag_into(app: &TestApp, host: &str) -> (String, String) {
    let repo = format!("{host}/berth-it/{}", unique("img"));
    let (status, body) = app
        .call(
            Method::POST,
            &format!("/api/images/{}/tag", enc(&test_image())),
            Some(json!({"repo": repo, "tag": "v1"})),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    (repo.clone(), format!("{repo}:v1"))
}

/// Lines with byte counts: what progress bars are drawn from.
fn progress_lines(lines: &[Value]) -> usize {
    lines
        .iter()
        .filter(|l| l["progressDetail"]["total"].as_i64().is_some_and(|t| t > 0))
        .count()
}

#[tokio::test]
async fn push_browse_remove_and_pull_back_with_credentials() {
    let registry = TestRegistry::start(true).await;
    let app = TestApp::start().await;
    let id = add_registry(
        &app,
        "it-auth",
        &format!("http://{}", registry.host()),
        Some(USER),
        Some(PASSWORD),
    )
    .await;
    let (status, rows) = app.get("/api/registries").await;
    assert_eq!(status, 200);
    let row = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == id)
        .unwrap();
    assert_eq!(row["host"], registry.host().as_str());
    assert_eq!(row["username"], USER);
    assert_eq!(row["has_password"], true);
    assert!(
        !rows.to_string().contains(PASSWORD),
        "the password never leaves"
    );

    // Push: credentials are found by the image's host.
    let (repo, image) = tag_into(&app, &registry.host()).await;
    let (status, lines) = ndjson_json(&app, "/api/images/push", json!({"image": image})).await;
    let pushed = done(status, &lines);
    assert!(
        pushed["digest"].as_str().unwrap().starts_with("sha256:"),
        "{pushed}"
    );
    assert!(progress_lines(&lines) >= 1, "progress: {lines:?}");

    // Browse.
    let (status, catalog) = app.get(&format!("/api/registries/{id}/catalog")).await;
    assert_eq!(status, 200, "{catalog}");
    let short = repo.split_once('/').unwrap().1;
    let entry = catalog
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["repository"] == short)
        .expect("the pushed repository is listed");
    assert_eq!(entry["tags"], json!(["v1"]));

    // Remove it here, pull it back: same image.
    let want = image_id(&test_image()).await.unwrap();
    let (status, removed) = app
        .call(
            Method::DELETE,
            &format!("/api/images/{}", enc(&image)),
            None,
        )
        .await;
    assert_eq!(status, 200, "{removed}");
    assert_eq!(removed["untagged"][0].as_str().unwrap(), image);
    assert_eq!(image_id(&image).await, None);
    let (status, lines) = ndjson_json(
        &app,
        "/api/images/pull",
        json!({"image": image, "registry": id}),
    )
    .await;
    let pulled = done(status, &lines);
    assert_eq!(pulled["id"], want.as_str());
    assert!(
        lines
            .iter()
            .any(|l| l["id"].is_string() && l["status"].is_string()),
        "per-layer lines: {lines:?}"
    );
    assert_eq!(image_id(&image).await.as_deref(), Some(want.as_str()));

    // The registry id alone names where a bare name comes from.
    let (status, lines) = ndjson_json(
        &app,
        "/api/images/pull",
        json!({"image": format!("{short}:v1"), "registry": id}),
    )
    .await;
    assert_eq!(done(status, &lines)["image"], image.as_str());

    // Delete the tag in the registry; the catalog no longer lists it.
    let (status, body) = app
        .call(
            Method::DELETE,
            &format!("/api/registries/{id}/tags?repository={short}&tag=v1"),
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (_, catalog) = app.get(&format!("/api/registries/{id}/catalog")).await;
    let entry = catalog
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["repository"] == short);
    assert!(entry.is_none_or(|e| e["tags"] == json!([])), "{catalog}");

    drop_image(&image).await;
}

#[tokio::test]
async fn an_open_registry_needs_no_credentials() {
    let registry = TestRegistry::start(false).await;
    let app = TestApp::start().await;
    let (_, image) = tag_into(&app, &registry.host()).await;
    let (status, lines) = ndjson_json(&app, "/api/images/push", json!({"image": image})).await;
    done(status, &lines);
    drop_image(&image).await;
    let (status, lines) = ndjson_json(&app, "/api/images/pull", json!({"image": image})).await;
    done(status, &lines);
    // A bare host: the catalog tries HTTPS, then plain HTTP, as the daemon does.
    let id = add_registry(&app, "it-open", &registry.host(), None, None).await;
    let (status, catalog) = app.get(&format!("/api/registries/{id}/catalog")).await;
    assert_eq!(status, 200, "{catalog}");
    assert!(!catalog.as_array().unwrap().is_empty());
    drop_image(&image).await;
}

#[tokio::test]
async fn wrong_credentials_a_dead_registry_and_bad_names() {
    let registry = TestRegistry::start(true).await;
    let app = TestApp::start().await;
    let id = add_registry(
        &app,
        "it-wrong",
        &format!("http://{}", registry.host()),
        Some(USER),
        Some("wrong-password"),
    )
    .await;
    let (_, image) = tag_into(&app, &registry.host()).await;
    let (status, lines) = ndjson_json(&app, "/api/images/push", json!({"image": image})).await;
    assert_eq!(
        failure(status, &lines)["code"],
        "registry_denied",
        "{lines:?}"
    );
    let got = app.get(&format!("/api/registries/{id}/catalog")).await;
    assert_error(&got, 403, "registry_denied");
    assert!(got.1["error"]["message"].as_str().unwrap().contains(USER));

    // Fix the password (PATCH keeps the rest): now it works.
    let (status, _) = app
        .call(
            Method::PATCH,
            &format!("/api/registries/{id}"),
            Some(json!({"password": PASSWORD})),
        )
        .await;
    assert_eq!(status, 200);
    let (status, lines) = ndjson_json(&app, "/api/images/push", json!({"image": image})).await;
    done(status, &lines);
    drop_image(&image).await;

    // Nothing listens there.
    let dead = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let (status, lines) = ndjson_json(
        &app,
        "/api/images/pull",
        json!({"image": format!("127.0.0.1:{dead}/berth-it/none:1")}),
    )
    .await;
    assert_eq!(status, 502, "{lines:?}");
    assert_eq!(lines[0]["error"]["code"], "registry_unreachable");
    let dead_id = add_registry(
        &app,
        "it-dead",
        &format!("http://127.0.0.1:{dead}"),
        None,
        None,
    )
    .await;
    let got = app.get(&format!("/api/registries/{dead_id}/catalog")).await;
    assert_error(&got, 502, "registry_unreachable");

    // Bad references never reach the daemon.
    for bad in ["Not Valid", "nginx:", "../x", ""] {
        let (status, lines) = ndjson_json(&app, "/api/images/pull", json!({"image": bad})).await;
        assert_eq!(status, 400, "{bad}");
        assert_eq!(lines[0]["error"]["code"], "invalid_reference", "{bad}");
    }
    // A missing image in a live registry.
    let (status, lines) = ndjson_json(
        &app,
        "/api/images/pull",
        json!({"image": format!("{}/berth-it/never-pushed:1", registry.host()), "registry": id}),
    )
    .await;
    assert_eq!(status, 404, "{lines:?}");
}

#[tokio::test]
async fn registries_are_admin_edited_and_passwords_sealed() {
    let app = TestApp::start().await;
    let got = app
        .call(
            Method::POST,
            "/api/registries",
            Some(json!({"url": "ftp://x"})),
        )
        .await;
    assert_error(&got, 400, "invalid_url");
    let id = add_registry(
        &app,
        "it-seal",
        "registry.example.com:5000",
        Some("u"),
        Some("sealed-pw-42"),
    )
    .await;
    let got = app
        .call(
            Method::POST,
            "/api/registries",
            Some(json!({"name": "it-seal", "url": "other.example.com"})),
        )
        .await;
    assert_error(&got, 409, "registry_exists");

    // At rest: not in the database in clear; the key file is private.
    let db = std::fs::read(app.data_dir().join("berth.db")).unwrap();
    let wal = std::fs::read(app.data_dir().join("berth.db-wal")).unwrap_or_default();
    let needle = b"sealed-pw-42";
    for bytes in [&db, &wal] {
        assert!(
            !bytes.windows(needle.len()).any(|w| w == needle),
            "no clear password"
        );
    }
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(app.data_dir().join("registry.key"))
            .unwrap()
            .permissions(),
    );
    assert_eq!(mode & 0o777, 0o600);

    // Edits: PUT works like PATCH; an empty password removes it.
    let (status, body) = app
        .call(
            Method::PUT,
            &format!("/api/registries/{id}"),
            Some(json!({"name": "it-seal-2", "password": ""})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["name"], "it-seal-2");
    assert_eq!(body["has_password"], false);
    assert_eq!(body["url"], "registry.example.com:5000");

    // Not for operators or viewers.
    let op = unique("op");
    app.make_user(&op, "operator", &[]).await;
    let c = app.client_as(&op, USER_PASSWORD).await;
    let got = send(
        &c,
        Method::POST,
        &app.url("/api/registries"),
        Some(json!({"url": "x.io"})),
    )
    .await;
    assert_error(&got, 403, "forbidden");
    let got = send(
        &c,
        Method::DELETE,
        &app.url(&format!("/api/registries/{id}")),
        None,
    )
    .await;
    assert_error(&got, 403, "forbidden");
    let (status, _) = send(&c, Method::GET, &app.url("/api/registries"), None).await;
    assert_eq!(status, 200, "everyone may read the list");

    let (status, _) = app
        .call(Method::DELETE, &format!("/api/registries/{id}"), None)
        .await;
    assert_eq!(status, 204);
    let got = app
        .call(Method::DELETE, &format!("/api/registries/{id}"), None)
        .await;
    assert_error(&got, 404, "not_found");

    // A plain-HTTP registry the daemon does not trust says which setting would allow it
    // (only stored: nothing is sent to that address); a loopback one needs nothing.
    let far = add_registry(&app, "it-far", "http://192.0.2.1:5000", None, None).await;
    let near = add_registry(&app, "it-near", "http://127.0.0.1:5000", None, None).await;
    let (_, rows) = app.get("/api/registries").await;
    let row = |id: i64| {
        rows.as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"] == id)
            .unwrap()
            .clone()
    };
    let hint = row(far)["insecure_hint"].as_str().unwrap().to_owned();
    assert!(
        hint.contains("\"192.0.2.1:5000\"") && hint.contains("insecure-registries"),
        "{hint}"
    );
    assert!(row(near).get("insecure_hint").is_none());

    // The daemon's own view: it trusts loopback registries over plain HTTP.
    let (status, view) = app.get("/api/registries/daemon").await;
    assert_eq!(status, 200);
    assert!(
        view["insecure_registries"]
            .as_array()
            .unwrap()
            .contains(&json!("127.0.0.0/8")),
        "{view}"
    );
}

/// A registry that wants bearer tokens, as Docker Hub and most hosted registries do:
/// a 401 with `WWW-Authenticate: Bearer realm=...,service=...,scope=...`, and a token
/// service that hands out a token for the right user and password. (The test registry
/// package has no token service of its own; this stands in for the registry, not the daemon.)
async fn bearer_registry() -> u16 {
    use axum::extract::Query;
    use axum::http::{header, HeaderMap, StatusCode};
    use axum::response::IntoResponse;
    use axum::routing::get;
    use axum::Json;
    use std::collections::HashMap;

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let challenge = move |scope: &str| {
        (
            StatusCode::UNAUTHORIZED,
            [(
                header::WWW_AUTHENTICATE,
                format!(
                    "Bearer realm=\"http://127.0.0.1:{port}/token\",service=\"fake-registry\",scope=\"{scope}\""
                ),
            )],
        )
            .into_response()
    };
    let authed = |h: &HeaderMap| {
        h.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) == Some("Bearer tok-123")
    };
    let app = axum::Router::new()
        .route(
            "/v2/_catalog",
            get(move |h: HeaderMap| async move {
                if !authed(&h) {
                    return challenge("registry:catalog:*");
                }
                Json(json!({"repositories": ["team/app"]})).into_response()
            }),
        )
        .route(
            "/v2/team/app/tags/list",
            get(move |h: HeaderMap| async move {
                if !authed(&h) {
                    return challenge("repository:team/app:pull");
                }
                Json(json!({"name": "team/app", "tags": ["2", "1"]})).into_response()
            }),
        )
        .route(
            "/token",
            get(
                |h: HeaderMap, Query(q): Query<HashMap<String, String>>| async move {
                    // "berth-it:registry-pw-1", as HTTP basic auth sends it.
                    let good = h.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok())
                        == Some("Basic YmVydGgtaXQ6cmVnaXN0cnktcHctMQ==");
                    if !good || q.get("service").map(String::as_str) != Some("fake-registry") {
                        return StatusCode::UNAUTHORIZED.into_response();
                    }
                    assert!(
                        q.contains_key("scope"),
                        "the scope of the challenge is asked for"
                    );
                    Json(json!({"token": "tok-123"})).into_response()
                },
            ),
        );
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    port
}

#[tokio::test]
async fn catalog_with_bearer_tokens() {
    let port = bearer_registry().await;
    let app = TestApp::start().await;
    let url = format!("http://127.0.0.1:{port}");
    let id = add_registry(&app, "it-bearer", &url, Some(USER), Some(PASSWORD)).await;
    let (status, catalog) = app.get(&format!("/api/registries/{id}/catalog")).await;
    assert_eq!(status, 200, "{catalog}");
    assert_eq!(
        catalog,
        json!([{"repository": "team/app", "tags": ["1", "2"]}])
    );

    let bad = add_registry(&app, "it-bearer-bad", &url, Some(USER), Some("nope")).await;
    let got = app.get(&format!("/api/registries/{bad}/catalog")).await;
    assert_error(&got, 403, "registry_denied");
}
