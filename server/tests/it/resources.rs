//! Networks, volumes, `docker system df` and `system prune` (with its preview). Prunes here
//! only ever touch what the test labelled itself: the daemon is shared.

use reqwest::Method;
use serde_json::json;

use crate::stacks::subnet;
use crate::support::*;

#[tokio::test]
async fn networks_create_connect_with_a_fixed_address_disconnect_remove() {
    let app = TestApp::start().await;
    let name = unique("net");
    let (subnet, prefix) = subnet();
    let (status, created) = app
        .call(
            Method::POST,
            "/api/networks",
            Some(json!({
                "name": name, "subnet": subnet, "gateway": format!("{prefix}.1"),
                "ip_range": format!("{prefix}.128/25"), "labels": {"berth-test": "1"}
            })),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();

    let c = unique("netc");
    let cid = make_container(&c, true).await;
    let (status, body) = app
        .call(
            Method::POST,
            &format!("/api/networks/{name}/connect"),
            Some(json!({"container": c, "ipv4": format!("{prefix}.42")})),
        )
        .await;
    assert_eq!(status, 204, "{body}");

    let (_, list) = app.get("/api/networks").await;
    let row = list
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["id"] == id.as_str())
        .expect("listed");
    assert_eq!(row["subnets"][0]["subnet"], subnet.as_str());
    assert_eq!(row["subnets"][0]["gateway"], format!("{prefix}.1"));
    assert_eq!(row["subnets"][0]["ip_range"], format!("{prefix}.128/25"));
    assert_eq!(row["labels"]["berth-test"], "1");
    let member = &row["containers"][0];
    assert_eq!(member["name"], c.as_str());
    assert!(
        member["ipv4"]
            .as_str()
            .unwrap()
            .starts_with(&format!("{prefix}.42/")),
        "{member}"
    );
    assert!(list
        .as_array()
        .unwrap()
        .iter()
        .any(|n| n["name"] == "bridge" && n["builtin"] == true));

    let (status, inspect) = app.get(&format!("/api/networks/{id}")).await;
    assert_eq!(status, 200);
    assert_eq!(inspect["Name"], name.as_str());

    // In use: removing is a conflict until it is disconnected.
    assert_error(
        &app.call(Method::DELETE, &format!("/api/networks/{name}"), None)
            .await,
        409,
        "conflict",
    );
    let (status, _) = app
        .call(
            Method::POST,
            &format!("/api/networks/{id}/disconnect"),
            Some(json!({"container": cid})),
        )
        .await;
    assert_eq!(status, 204);
    let (status, _) = app
        .call(Method::DELETE, &format!("/api/networks/{id}"), None)
        .await;
    assert_eq!(status, 204);
    assert_error(
        &app.get(&format!("/api/networks/{id}")).await,
        404,
        "not_found",
    );

    // Bad input names the field.
    for (body, code) in [
        (json!({"name": "x y"}), "invalid_network_name"),
        (
            json!({"name": unique("n"), "subnet": "10.0.0.0"}),
            "invalid_subnet",
        ),
        (
            json!({"name": unique("n"), "subnet": "10.213.0.0/24", "gateway": "nope"}),
            "invalid_gateway",
        ),
    ] {
        assert_error(
            &app.call(Method::POST, "/api/networks", Some(body)).await,
            400,
            code,
        );
    }
    remove_container(&cid).await;
}

#[tokio::test]
async fn volumes_list_users_create_remove_and_host_options_are_admin_only() {
    let app = TestApp::start().await;
    let name = unique("vol");
    let (status, body) = app
        .call(
            Method::POST,
            "/api/volumes",
            Some(json!({"name": name, "labels": {"berth-test": "1"}})),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    // A container that mounts it shows as its user.
    let c = unique("volc");
    let d = daemon().await;
    let created = d
        .create_container(
            Some(bollard::query_parameters::CreateContainerOptions {
                name: Some(c.clone()),
                platform: String::new(),
            }),
            bollard::models::ContainerCreateBody {
                image: Some(test_image()),
                labels: Some([("berth-test".to_string(), "1".to_string())].into()),
                host_config: Some(bollard::models::HostConfig {
                    binds: Some(vec![format!("{name}:/data")]),
                    ..Default::default()
                }),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let (status, list) = app.get("/api/volumes?size=true").await;
    assert_eq!(status, 200);
    let row = list
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == name.as_str())
        .expect("listed");
    assert_eq!(row["driver"], "local");
    assert_eq!(row["labels"]["berth-test"], "1");
    assert_eq!(row["containers"], json!([c]));
    assert!(
        row["size"].as_i64().is_some(),
        "local volume sizes are reported: {row}"
    );
    let (status, inspect) = app.get(&format!("/api/volumes/{name}")).await;
    assert_eq!(status, 200);
    assert_eq!(inspect["Name"], name.as_str());

    assert_error(
        &app.call(Method::DELETE, &format!("/api/volumes/{name}"), None)
            .await,
        409,
        "conflict",
    );
    remove_container(&created.id).await;
    let (status, _) = app
        .call(Method::DELETE, &format!("/api/volumes/{name}"), None)
        .await;
    assert_eq!(status, 204);
    assert_error(
        &app.get(&format!("/api/volumes/{name}")).await,
        404,
        "not_found",
    );
    assert_error(
        &app.get("/api/volumes/..%2Fx").await,
        400,
        "invalid_volume_name",
    );

    // An operator may not point a volume at the host.
    let team = unique("vt");
    let op = unique("vop");
    app.make_user(&op, "operator", &[&team]).await;
    let opc = app.client_as(&op, USER_PASSWORD).await;
    let got = send(
        &opc,
        Method::POST,
        &app.url("/api/volumes"),
        Some(json!({"name": unique("hostvol"), "options": {"type": "none", "o": "bind", "device": "/etc"}})),
    )
    .await;
    assert_eq!(got.0, 403, "{}", got.1);
    let mine = unique("opvol");
    let got = send(
        &opc,
        Method::POST,
        &app.url("/api/volumes"),
        Some(json!({"name": mine})),
    )
    .await;
    assert_eq!(got.0, 201, "{}", got.1);
    let v = d.inspect_volume(&mine).await.unwrap();
    assert_eq!(
        v.labels["berth.team"],
        team.as_str(),
        "stamped with the team"
    );
    let got = send(
        &opc,
        Method::DELETE,
        &app.url(&format!("/api/volumes/{mine}")),
        None,
    )
    .await;
    assert_eq!(got.0, 204);
}

#[tokio::test]
async fn system_df_and_a_prune_previewed_then_done_by_label() {
    let app = TestApp::start().await;
    let (status, df) = app.get("/api/system/df").await;
    assert_eq!(status, 200);
    assert!(df["images"]["count"].as_i64().unwrap() >= 1, "{df}");
    for k in ["images", "containers", "volumes", "build_cache"] {
        assert!(df[k]["size"].as_i64().is_some(), "{df}");
    }

    // Things labelled for this test only: a stopped container, a network, a volume.
    let mark = unique("prune");
    let label = format!("berth-prune-test={mark}");
    let c = unique("prunec");
    let cid = make_container_labeled(&c, false, &[("berth-prune-test", &mark)]).await;
    let net = unique("prunenet");
    let (status, _) = app
        .call(
            Method::POST,
            "/api/networks",
            Some(json!({"name": net, "labels": {"berth-prune-test": mark}})),
        )
        .await;
    assert_eq!(status, 201);
    let vol = unique("prunevol");
    let (status, _) = app
        .call(
            Method::POST,
            "/api/volumes",
            Some(json!({"name": vol, "labels": {"berth-prune-test": mark}})),
        )
        .await;
    assert_eq!(status, 201);

    let (status, preview) = app
        .call(
            Method::POST,
            "/api/system/prune",
            Some(json!({"volumes": true, "dry_run": true, "labels": [label]})),
        )
        .await;
    assert_eq!(status, 200, "{preview}");
    assert_eq!(preview["dry_run"], true);
    assert_eq!(
        preview["containers"].as_array().unwrap().len(),
        1,
        "{preview}"
    );
    assert!(preview["containers"][0].as_str().unwrap().starts_with(&c));
    assert_eq!(preview["networks"], json!([net]));
    assert_eq!(preview["volumes"], json!([vol]));
    assert_eq!(
        preview["build_cache"], 0,
        "build cache has no labels: left alone"
    );
    assert!(
        daemon_state(&cid).await.is_some(),
        "a preview removes nothing"
    );

    // Only an admin prunes.
    let op = unique("pop");
    let team = unique("pt");
    app.make_user(&op, "operator", &[&team]).await;
    let opc = app.client_as(&op, USER_PASSWORD).await;
    let got = send(
        &opc,
        Method::POST,
        &app.url("/api/system/prune"),
        Some(json!({"labels": [label]})),
    )
    .await;
    assert_eq!(got.0, 403);

    let (status, done) = app
        .call(
            Method::POST,
            "/api/system/prune",
            Some(json!({"volumes": true, "labels": [label]})),
        )
        .await;
    assert_eq!(status, 200, "{done}");
    assert_eq!(done["dry_run"], false);
    assert_eq!(done["containers"], json!([cid]));
    assert_eq!(done["networks"], json!([net]));
    assert_eq!(done["volumes"], json!([vol]));
    assert_eq!(daemon_state(&cid).await, None);
    assert_error(
        &app.get(&format!("/api/networks/{net}")).await,
        404,
        "not_found",
    );
    assert_error(
        &app.get(&format!("/api/volumes/{vol}")).await,
        404,
        "not_found",
    );
}

#[tokio::test]
async fn openapi_describes_stacks_networks_volumes_and_system_routes() {
    let app = TestApp::spawn(&docker_host()).await;
    let (status, doc) = app.get("/api/openapi.json").await;
    assert_eq!(status, 200);
    let paths = doc["paths"].as_object().unwrap();
    for p in [
        "/api/stacks",
        "/api/stacks/validate",
        "/api/stacks/{name}",
        "/api/stacks/{name}/{action}",
        "/api/stacks/{name}/logs/ws",
        "/api/networks",
        "/api/networks/{id}",
        "/api/networks/{id}/connect",
        "/api/networks/{id}/disconnect",
        "/api/networks/prune",
        "/api/volumes",
        "/api/volumes/{name}",
        "/api/volumes/prune",
        "/api/system/df",
        "/api/system/prune",
    ] {
        assert!(paths.contains_key(p), "{p} is described");
    }
}
