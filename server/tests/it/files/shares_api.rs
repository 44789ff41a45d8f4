//! `GET|POST /api/shares`, `DELETE /api/shares/{name}`: admin-declared shares, team
//! visibility, flag shares read-only, bad flags stop the start.

use reqwest::Method;
use serde_json::json;

use super::*;

#[tokio::test]
async fn shares_api_teams_and_flags() {
    let t = tree();
    let app = app_for(&t).await;
    let red = unique("share-red");
    let blue = unique("share-blue");
    app.make_user(&format!("{red}-op"), "operator", &[&red])
        .await;
    app.make_user(&format!("{blue}-op"), "operator", &[&blue])
        .await;
    let op_red = app.client_as(&format!("{red}-op"), USER_PASSWORD).await;
    let op_blue = app.client_as(&format!("{blue}-op"), USER_PASSWORD).await;
    let name = unique("reds");
    let docs = t.share().join("docs").display().to_string();

    // Bad input is named.
    for (body, code) in [
        (json!({"name": "../x", "path": docs}), "invalid_share_name"),
        (
            json!({"name": "ok", "path": "relative/p"}),
            "invalid_share_path",
        ),
        (
            json!({"name": "ok", "path": "/no/such/folder/here"}),
            "invalid_share_path",
        ),
        (
            json!({"name": "ok", "path": docs, "teams": ["no-such-team-x"]}),
            "unknown_team",
        ),
    ] {
        let got = app.call(Method::POST, "/api/shares", Some(body)).await;
        assert_error(&got, 400, code);
    }
    // Only admins declare shares.
    let got = send(
        &op_red,
        Method::POST,
        &app.url("/api/shares"),
        Some(json!({"name": name, "path": docs})),
    )
    .await;
    assert_error(&got, 403, "forbidden");

    let (status, body) = app
        .call(
            Method::POST,
            "/api/shares",
            Some(json!({"name": name, "path": docs, "writable": true, "teams": [red]})),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["source"], "api");
    assert_eq!(body["writable"], true);
    let got = app
        .call(
            Method::POST,
            "/api/shares",
            Some(json!({"name": name, "path": docs})),
        )
        .await;
    assert_error(&got, 409, "conflict");
    let got = app
        .call(
            Method::POST,
            "/api/shares",
            Some(json!({"name": "pub", "path": docs})),
        )
        .await;
    assert_error(&got, 409, "conflict");

    // Admin sees all with paths; red sees its share and the open ones, without paths; blue
    // does not see red's, and cannot reach it by name.
    let (_, all) = app.get("/api/shares").await;
    let names: Vec<&str> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"pub") && names.contains(&"rw") && names.contains(&name.as_str()));
    let flag = all
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "pub")
        .unwrap();
    assert_eq!(flag["source"], "flag");
    assert_eq!(
        flag["path"],
        t.share().canonicalize().unwrap().display().to_string()
    );
    let (_, reds) = send(&op_red, Method::GET, &app.url("/api/shares"), None).await;
    let mine = reds
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == name.as_str())
        .expect("visible to red");
    assert_eq!(mine["path"], "", "host paths are for admins");
    let (_, blues) = send(&op_blue, Method::GET, &app.url("/api/shares"), None).await;
    assert!(blues
        .as_array()
        .unwrap()
        .iter()
        .all(|s| s["name"] != name.as_str()));
    assert!(blues.as_array().unwrap().iter().any(|s| s["name"] == "pub"));

    let r = op_red
        .get(app.url(&format!("/files/{name}/readme.txt")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.unwrap(), "read me\n");
    let r = op_blue
        .get(app.url(&format!("/files/{name}/readme.txt")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let got = send(
        &op_blue,
        Method::GET,
        &app.url(&format!("/api/shares/{name}/files")),
        None,
    )
    .await;
    assert_error(&got, 404, "not_found");
    // The share's own root is all that is served: its parent stays out of reach.
    let (status, _) = app.get(&format!("/api/shares/{name}/files?path=..")).await;
    assert_eq!(status, 400);

    // Removing: flag shares stay, API shares go.
    let got = app.call(Method::DELETE, "/api/shares/pub", None).await;
    assert_error(&got, 409, "conflict");
    let got = send(
        &op_red,
        Method::DELETE,
        &app.url(&format!("/api/shares/{name}")),
        None,
    )
    .await;
    assert_error(&got, 403, "forbidden");
    let (status, _) = app
        .call(Method::DELETE, &format!("/api/shares/{name}"), None)
        .await;
    assert_eq!(status, 204);
    let r = op_red
        .get(app.url(&format!("/files/{name}/")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let got = app
        .call(Method::DELETE, &format!("/api/shares/{name}"), None)
        .await;
    assert_error(&got, 404, "not_found");

    // The audit log has it.
    let (_, audit) = app.get("/api/audit?limit=50").await;
    let actions: Vec<&str> = audit
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert!(actions.contains(&"share_create") && actions.contains(&"share_remove"));
}

#[tokio::test]
async fn a_bad_share_flag_stops_the_start_with_a_clear_message() {
    let data = tempfile::tempdir().unwrap();
    for (flag, says) in [
        ("nopath", "expected NAME=PATH"),
        ("x=relative/dir", "must be absolute"),
        ("x=/no/such/dir/anywhere", "/no/such/dir/anywhere"),
        ("bad/name=/tmp", "share name"),
    ] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_berth"))
            .args([
                "--listen",
                "127.0.0.1:0",
                "--docker-host",
                "unix:///nonexistent.sock",
            ])
            .arg("--data-dir")
            .arg(data.path())
            .args(["--share", flag])
            .env("RUST_LOG", "error")
            .env("NO_COLOR", "1")
            .output()
            .expect("run berth");
        assert!(!out.status.success(), "{flag} must stop berth");
        let err = String::from_utf8_lossy(&out.stderr).into_owned()
            + &String::from_utf8_lossy(&out.stdout);
        assert!(
            err.contains("--share") && err.contains(says),
            "{flag}: {err}"
        );
    }
}

#[tokio::test]
async fn the_files_routes_are_in_the_openapi_description() {
    let t = tree();
    let app = app_for(&t).await;
    let (status, api) = app.get("/api/openapi.json").await;
    assert_eq!(status, 200);
    for path in [
        "/api/shares",
        "/api/shares/{name}",
        "/api/shares/{name}/files",
        "/api/shares/{name}/download",
        "/api/shares/{name}/upload",
        "/api/shares/{name}/mkdir",
        "/api/shares/{name}/rename",
        "/api/volumes/{name}/files",
        "/api/volumes/{name}/download",
        "/api/volumes/{name}/upload",
        "/api/volumes/{name}/mkdir",
    ] {
        assert!(api["paths"].get(path).is_some(), "{path} is described");
    }
}
