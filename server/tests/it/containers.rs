//! Containers: list and each lifecycle action, checked against the daemon's own state.

use reqwest::Method;

use crate::support::*;

#[tokio::test]
async fn list_shows_running_and_all() {
    let app = TestApp::start().await;
    let running = unique("list-run");
    let stopped = unique("list-stop");
    let run_id = make_container(&running, true).await;
    let stop_id = make_container(&stopped, false).await;

    let (status, body) = app.get("/api/containers").await;
    assert_eq!(status, 200);
    let rows = body.as_array().expect("a list");
    let row = rows
        .iter()
        .find(|r| r["id"] == run_id.as_str())
        .expect("the running container is listed");
    assert_eq!(row["names"][0], running.as_str());
    assert_eq!(row["state"], "running");
    assert_eq!(row["image"], test_image().as_str());
    assert_eq!(row["labels"]["berth-test"], "1");
    assert!(row["created"].as_i64().unwrap() > 0);
    // The addresses come with the list (no inspect per row), the same the daemon reports.
    let inspected = daemon_inspect(&run_id).await;
    let want: Vec<String> = inspected["NetworkSettings"]["Networks"]
        .as_object()
        .expect("networks")
        .values()
        .filter_map(|n| n["IPAddress"].as_str())
        .filter(|ip| !ip.is_empty())
        .map(str::to_owned)
        .collect();
    assert!(!want.is_empty(), "a running container has an address");
    let got: Vec<String> = row["ips"]
        .as_array()
        .expect("ips")
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(got, want, "the list's ips are the container's addresses");
    assert!(
        !rows.iter().any(|r| r["id"] == stop_id.as_str()),
        "without all=true a stopped container is not listed"
    );

    let (_, all) = app.get("/api/containers?all=true").await;
    let row = all
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == stop_id.as_str())
        .expect("all=true lists the stopped container");
    assert_eq!(row["state"], "created");
    assert_eq!(
        row["ips"],
        serde_json::json!([]),
        "a created container has no address"
    );
    assert_eq!(row["id"].as_str().unwrap().len(), 64, "ids are untruncated");

    remove_container(&run_id).await;
    remove_container(&stop_id).await;
}

#[tokio::test]
async fn every_lifecycle_action_changes_the_daemon_state() {
    let app = TestApp::start().await;
    let name = unique("life");
    let id = make_container(&name, false).await;

    // Each step by name, short id or full id: the daemon resolves all three.
    let short = &id[..12];
    let steps: [(&str, &str, &str); 7] = [
        (name.as_str(), "start", "running"),
        (short, "pause", "paused"),
        (id.as_str(), "unpause", "running"),
        (name.as_str(), "stop?t=2", "exited"),
        (short, "restart?t=2", "running"),
        (id.as_str(), "kill", "exited"),
        (name.as_str(), "start", "running"),
    ];
    for (target, action, want) in steps {
        let (status, body) = app
            .post(&format!("/api/containers/{target}/{action}"))
            .await;
        assert_eq!(status, 204, "{action}: {body}");
        assert_eq!(
            daemon_state(&id).await.as_deref(),
            Some(want),
            "after {action} the daemon says"
        );
    }

    // Starting a running container is not an error: it is what was asked for.
    let (status, _) = app.post(&format!("/api/containers/{id}/start")).await;
    assert_eq!(status, 204);

    // Removing a running container without force is a conflict, with force it goes.
    let got = app
        .call(Method::DELETE, &format!("/api/containers/{id}"), None)
        .await;
    assert_error(&got, 409, "conflict");
    let (status, _) = app
        .call(
            Method::DELETE,
            &format!("/api/containers/{id}?force=true&volumes=true"),
            None,
        )
        .await;
    assert_eq!(status, 204);
    assert_eq!(
        daemon_state(&id).await,
        None,
        "the daemon no longer knows it"
    );
}

#[tokio::test]
async fn inspect_returns_the_daemons_json() {
    let app = TestApp::start().await;
    let name = unique("inspect");
    let id = make_container(&name, false).await;
    let (status, body) = app.get(&format!("/api/containers/{name}")).await;
    assert_eq!(status, 200);
    assert_eq!(body["Id"], id.as_str());
    assert_eq!(body["Name"], format!("/{name}"));
    assert_eq!(body["Config"]["Image"], test_image().as_str());
    remove_container(&id).await;
}

#[tokio::test]
async fn unknown_and_malformed_ids_get_clear_errors() {
    let app = TestApp::start().await;
    assert_error(
        &app.get("/api/containers/no-such-container-xyz").await,
        404,
        "not_found",
    );
    assert_error(
        &app.post("/api/containers/no-such-container-xyz/start")
            .await,
        404,
        "not_found",
    );
    // A name that would walk the daemon's URL elsewhere never reaches it.
    assert_error(
        &app.post("/api/containers/..%2F..%2Fimages/stop").await,
        400,
        "invalid_container",
    );
    let name = unique("badaction");
    let id = make_container(&name, false).await;
    assert_error(
        &app.post(&format!("/api/containers/{id}/explode")).await,
        404,
        "not_found",
    );
    remove_container(&id).await;
}
