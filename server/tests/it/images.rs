//! Images against the real daemon: list, inspect, history, tag, remove, save → load,
//! prune (label-filtered: the daemon is shared), commit.

use reqwest::Method;
use serde_json::json;

use crate::imgkit::*;
use crate::support::*;

/// A small image of our own (a unique label makes a unique id), tagged `tag`.
async fn own_image(app: &TestApp, tag: &str, label: &str) -> String {
    let dockerfile = format!(
        "FROM {}\nLABEL berth-it-image=\"{label}\"\nRUN echo {label} > /made-by-build\n",
        test_image()
    );
    let (status, lines) = build_tar(
        app,
        &format!("t={tag}"),
        tar_of(&[("Dockerfile", dockerfile.as_str())]),
    )
    .await;
    done(status, &lines)["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn list_inspect_history_and_tag() {
    let app = TestApp::start().await;
    let name = unique("berth-it-list");
    let tag = format!("{name}:v1");
    let id = own_image(&app, &tag, &name).await;
    let container = make_container(&unique("uses-image"), false).await;

    let (status, rows) = app.get("/api/images").await;
    assert_eq!(status, 200);
    let row = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == id.as_str())
        .expect("the built image is listed");
    assert!(id.starts_with("sha256:") && id.len() == 71, "full id: {id}");
    assert_eq!(row["repo_tags"], json!([tag]));
    assert_eq!(row["dangling"], false);
    assert_eq!(row["containers"], 0);
    assert!(row["size"].as_i64().unwrap() > 0);
    assert_eq!(row["labels"]["berth-it-image"], name.as_str());
    let busybox = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|r| {
            r["repo_tags"]
                .as_array()
                .unwrap()
                .contains(&json!(test_image()))
        })
        .expect("the test image");
    assert!(
        busybox["containers"].as_i64().unwrap() >= 1,
        "a container uses it"
    );

    let (status, info) = app.get(&format!("/api/images/{}", enc(&tag))).await;
    assert_eq!(status, 200, "{info}");
    assert_eq!(info["Id"], id.as_str());
    let (status, history) = app.get(&format!("/api/images/{id}/history")).await;
    assert_eq!(status, 200);
    assert!(history.as_array().unwrap().len() >= 2, "{history}");

    // Tag it again, then bad tags.
    let (status, _) = app
        .call(
            Method::POST,
            &format!("/api/images/{id}/tag"),
            Some(json!({"repo": name, "tag": "v2"})),
        )
        .await;
    assert_eq!(status, 201);
    assert_eq!(
        image_id(&format!("{name}:v2")).await.as_deref(),
        Some(id.as_str())
    );
    let got = app
        .call(
            Method::POST,
            &format!("/api/images/{id}/tag"),
            Some(json!({"repo": "Bad Name", "tag": "v3"})),
        )
        .await;
    assert_error(&got, 400, "invalid_reference");
    let got = app
        .call(
            Method::POST,
            &format!("/api/images/{id}/tag"),
            Some(json!({"repo": name, "tag": "bad tag"})),
        )
        .await;
    assert_error(&got, 400, "invalid_tag");
    let got = app.get("/api/images/sha256:0000000000000000dead").await;
    assert_error(&got, 404, "not_found");

    // Removing several at once: one untag each, then the last deletes.
    let (status, out) = app
        .call(
            Method::POST,
            "/api/images/remove",
            Some(json!({"images": [format!("{name}:v2"), tag, "no-such-image-berth:1"]})),
        )
        .await;
    assert_eq!(status, 200, "{out}");
    assert_eq!(out[0]["removed"]["untagged"], json!([format!("{name}:v2")]));
    assert!(out[1]["removed"]["deleted"]
        .as_array()
        .unwrap()
        .contains(&json!(id)));
    assert_eq!(out[2]["error"]["code"], "not_found");
    assert_eq!(image_id(&id).await, None, "the daemon no longer has it");
    remove_container(&container).await;
}

#[tokio::test]
async fn save_remove_load_keeps_the_image_id() {
    let app = TestApp::start().await;
    let name = unique("berth-it-save");
    let tag = format!("{name}:1");
    let id = own_image(&app, &tag, &name).await;

    let resp = app
        .client
        .get(app.url(&format!("/api/images/save?names={}", enc(&tag))))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "application/x-tar");
    assert!(resp.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .contains("attachment"));
    let tar = resp.bytes().await.unwrap();
    let names: Vec<String> = tar::Archive::new(&tar[..])
        .entries()
        .unwrap()
        .map(|e| e.unwrap().path().unwrap().display().to_string())
        .collect();
    assert!(names.iter().any(|n| n == "manifest.json"), "{names:?}");

    let (status, removed) = app
        .call(Method::DELETE, &format!("/api/images/{}", enc(&tag)), None)
        .await;
    assert_eq!(status, 200, "{removed}");
    assert!(removed["deleted"].as_array().unwrap().contains(&json!(id)));
    assert_eq!(image_id(&tag).await, None);

    let (status, lines) = ndjson(
        &app,
        Method::POST,
        "/api/images/load",
        tar.to_vec().into(),
        "application/x-tar",
    )
    .await;
    let done = done(status, &lines);
    assert_eq!(done["loaded"], json!([tag]));
    assert_eq!(
        image_id(&tag).await.as_deref(),
        Some(id.as_str()),
        "same id"
    );

    // Unknown names and a body that is not an image archive.
    let got = app
        .get("/api/images/save?names=no-such-image-berth:1")
        .await;
    assert_error(&got, 404, "not_found");
    let got = app.get("/api/images/save?names=").await;
    assert_error(&got, 400, "invalid_names");
    let (status, lines) = ndjson(
        &app,
        Method::POST,
        "/api/images/load",
        b"not a tar at all".repeat(200_000).into(),
        "application/x-tar",
    )
    .await;
    assert_eq!(status, 400, "{lines:?}");
    assert_eq!(lines[0]["error"]["code"], "invalid_archive");
    drop_image(&tag).await;
}

#[tokio::test]
async fn prune_previews_then_removes_only_what_the_filter_names() {
    let app = TestApp::start().await;
    let mark = unique("berth-it-prune");
    // Two dangling images (built untagged) and one tagged, all with our label.
    let mut dangling = Vec::new();
    for n in 0..2 {
        let dockerfile = format!(
            "FROM {}\nLABEL berth-it-prune=\"{mark}\"\nRUN echo {n} > /n\n",
            test_image()
        );
        let (status, lines) =
            build_tar(&app, "", tar_of(&[("Dockerfile", dockerfile.as_str())])).await;
        dangling.push(done(status, &lines)["id"].as_str().unwrap().to_owned());
    }
    let tagged_name = format!("{mark}:kept");
    let dockerfile = format!("FROM {}\nLABEL berth-it-prune=\"{mark}\"\n", test_image());
    let (status, lines) = build_tar(
        &app,
        &format!("t={tagged_name}"),
        tar_of(&[("Dockerfile", dockerfile.as_str())]),
    )
    .await;
    let tagged = done(status, &lines)["id"].as_str().unwrap().to_owned();

    let filter = json!({"label": [format!("berth-it-prune={mark}")]});
    let (status, preview) = app
        .call(
            Method::POST,
            "/api/images/prune",
            Some(json!({"dry_run": true, "filters": filter})),
        )
        .await;
    assert_eq!(status, 200, "{preview}");
    let mut ids: Vec<&str> = preview["images"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    ids.sort();
    let mut want: Vec<&str> = dangling.iter().map(String::as_str).collect();
    want.sort();
    assert_eq!(ids, want, "the preview names the dangling ones only");
    assert!(preview["space_reclaimed"].as_i64().unwrap() > 0);
    assert!(
        image_id(&dangling[0]).await.is_some(),
        "a preview removes nothing"
    );

    // A viewer may look, not prune.
    let viewer = unique("viewer");
    app.make_user(&viewer, "viewer", &[]).await;
    let c = app.client_as(&viewer, USER_PASSWORD).await;
    let got = send(
        &c,
        Method::POST,
        &app.url("/api/images/prune"),
        Some(json!({"filters": filter})),
    )
    .await;
    assert_error(&got, 403, "forbidden");

    let (status, pruned) = app
        .call(
            Method::POST,
            "/api/images/prune",
            Some(json!({"filters": filter})),
        )
        .await;
    assert_eq!(status, 200, "{pruned}");
    for id in &dangling {
        assert!(pruned["deleted"].as_array().unwrap().contains(&json!(id)));
        assert_eq!(image_id(id).await, None);
    }
    assert!(
        image_id(&tagged).await.is_some(),
        "tagged images stay without all"
    );

    // `all` takes unused tagged images too — still only ours.
    let (status, pruned) = app
        .call(
            Method::POST,
            "/api/images/prune",
            Some(json!({"all": true, "filters": filter})),
        )
        .await;
    assert_eq!(status, 200, "{pruned}");
    assert!(pruned["untagged"]
        .as_array()
        .unwrap()
        .contains(&json!(tagged_name)));
    assert_eq!(image_id(&tagged).await, None);
    assert!(image_id(&test_image()).await.is_some(), "nothing else went");

    let got = app
        .call(
            Method::POST,
            "/api/images/prune",
            Some(json!({"filters": {"dangling": ["false"]}})),
        )
        .await;
    assert_error(&got, 400, "invalid_filter");
}

#[tokio::test]
async fn commit_a_container_with_changes() {
    let app = TestApp::start().await;
    let name = unique("commit-src");
    let d = daemon().await;
    let body = bollard::models::ContainerCreateBody {
        image: Some(test_image()),
        cmd: Some(vec![
            "sh".into(),
            "-c".into(),
            "echo committed-content > /made-here; trap 'exit 0' TERM; while true; do sleep 1; done"
                .into(),
        ]),
        labels: Some([("berth-test".to_string(), "1".to_string())].into()),
        ..Default::default()
    };
    let id = d
        .create_container(
            Some(bollard::query_parameters::CreateContainerOptions {
                name: Some(name.clone()),
                platform: String::new(),
            }),
            body,
        )
        .await
        .unwrap()
        .id;
    d.start_container(
        &id,
        None::<bollard::query_parameters::StartContainerOptions>,
    )
    .await
    .unwrap();
    // Wait for the file to exist.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;

    let repo = unique("berth-it-commit");
    let (status, out) = app
        .call(
            Method::POST,
            &format!("/api/containers/{name}/commit"),
            Some(json!({
                "repo": repo, "tag": "v1", "message": "made by a test", "author": "berth it",
                "changes": ["ENV COMMITTED=yes", "CMD [\"cat\", \"/made-here\"]", "EXPOSE 8080"]
            })),
        )
        .await;
    assert_eq!(status, 201, "{out}");
    let new_id = out["id"].as_str().unwrap().to_owned();
    let info = d.inspect_image(&format!("{repo}:v1")).await.unwrap();
    assert_eq!(info.id.as_deref(), Some(new_id.as_str()));
    assert_eq!(info.author.as_deref(), Some("berth it"));
    assert_eq!(info.comment.as_deref(), Some("made by a test"));
    let config = info.config.unwrap();
    assert!(config.env.unwrap().contains(&"COMMITTED=yes".to_string()));
    assert!(config.exposed_ports.unwrap().contains_key("8080/tcp"));
    // The new image runs its new CMD, and has the container's file.
    let printed = run_output(&format!("{repo}:v1"), &[]).await;
    assert_eq!(printed.trim(), "committed-content");

    let got = app
        .call(
            Method::POST,
            &format!("/api/containers/{name}/commit"),
            Some(json!({"repo": "Not Valid"})),
        )
        .await;
    assert_error(&got, 400, "invalid_reference");
    let got = app
        .call(
            Method::POST,
            &format!("/api/containers/{name}/commit"),
            Some(json!({"repo": repo, "changes": ["NOTAN INSTRUCTION x"]})),
        )
        .await;
    assert_eq!(got.0, 400, "{:?}", got.1);
    let got = app
        .call(
            Method::POST,
            "/api/containers/no-such-container-x/commit",
            Some(json!({})),
        )
        .await;
    assert_error(&got, 404, "not_found");

    remove_container(&id).await;
    drop_image(&format!("{repo}:v1")).await;
}

#[tokio::test]
async fn commit_is_checked_like_every_container_route() {
    let app = TestApp::start().await;
    let TwoTeams {
        red,
        viewer,
        op_red,
        op_blue,
    } = app.two_teams().await;
    let name = unique("commit-teamed");
    let id = make_container_labeled(&name, false, &[("berth.team", &red)]).await;
    let repo = unique("berth-it-commit-team");
    let body = json!({"repo": repo, "tag": "x"});
    for reference in [id.as_str(), &id[..12], name.as_str()] {
        let url = app.url(&format!("/api/containers/{reference}/commit"));
        let got = send(&viewer, Method::POST, &url, Some(body.clone())).await;
        assert_error(&got, 403, "forbidden");
        let got = send(&op_blue, Method::POST, &url, Some(body.clone())).await;
        assert_error(&got, 404, "not_found");
    }
    assert_eq!(
        image_id(&format!("{repo}:x")).await,
        None,
        "nothing was made"
    );
    let url = app.url(&format!("/api/containers/{name}/commit"));
    let (status, out) = send(&op_red, Method::POST, &url, Some(body)).await;
    assert_eq!(status, 201, "{out}");
    remove_container(&id).await;
    drop_image(&format!("{repo}:x")).await;
}

#[tokio::test]
async fn image_routes_are_described_and_need_a_session() {
    let app = TestApp::spawn(&docker_host()).await;
    let (status, doc) = app.get("/api/openapi.json").await;
    assert_eq!(status, 200);
    let paths = doc["paths"].as_object().unwrap();
    for p in [
        "/api/images",
        "/api/images/{id}",
        "/api/images/{id}/history",
        "/api/images/{id}/tag",
        "/api/images/remove",
        "/api/images/prune",
        "/api/images/pull",
        "/api/images/push",
        "/api/images/save",
        "/api/images/load",
        "/api/images/build",
        "/api/containers/{id}/commit",
        "/api/registries",
        "/api/registries/{id}",
        "/api/registries/{id}/catalog",
        "/api/registries/{id}/tags",
        "/api/registries/daemon",
    ] {
        assert!(paths.contains_key(p), "{p} is described");
    }
    // Not logged in: every one of them is a 401.
    for (m, p) in [
        (Method::GET, "/api/images"),
        (Method::GET, "/api/images/save?names=x"),
        (Method::POST, "/api/images/pull"),
        (Method::POST, "/api/images/build"),
        (Method::POST, "/api/images/load"),
        (Method::GET, "/api/registries"),
        (Method::GET, "/api/registries/1/catalog"),
    ] {
        let got = app.call(m, p, None).await;
        assert_error(&got, 401, "unauthorized");
    }
}
