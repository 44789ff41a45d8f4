//! Teams and roles on stacks, networks and volumes: another team's operator and a viewer are
//! refused on every route that changes something, whatever name they use.

use reqwest::Method;
use serde_json::json;

use crate::stacks::assert_done;
use crate::support::*;

const IDLE: &str = "trap 'exit 0' TERM; while true; do sleep 1; done";

#[tokio::test]
async fn another_teams_operator_and_a_viewer_cannot_touch_a_stack() {
    let app = TestApp::start().await;
    let TwoTeams {
        red,
        viewer,
        op_red,
        op_blue,
    } = app.two_teams().await;

    let name = unique("teamstack");
    let compose = format!(
        "services:\n  a:\n    image: {}\n    command: [\"sh\", \"-c\", \"{IDLE}\"]\n",
        test_image()
    );
    let resp = op_red
        .post(app.url("/api/stacks"))
        .json(&json!({"name": name, "compose": compose}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let lines: Vec<serde_json::Value> = resp
        .text()
        .await
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_done(&lines);
    let cname = format!("{name}_a_1");

    // Blue's operator neither sees nor touches it.
    let (_, list) = send(&op_blue, Method::GET, &app.url("/api/stacks"), None).await;
    assert!(!list
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s["name"] == name.as_str()));
    assert_error(
        &send(
            &op_blue,
            Method::GET,
            &app.url(&format!("/api/stacks/{name}")),
            None,
        )
        .await,
        404,
        "not_found",
    );
    for (m, path) in [
        (Method::POST, format!("/api/stacks/{name}/stop")),
        (Method::POST, format!("/api/stacks/{name}/restart")),
        (Method::POST, format!("/api/stacks/{name}/down")),
        (Method::POST, format!("/api/stacks/{name}/up")),
        (Method::PUT, format!("/api/stacks/{name}")),
        (Method::DELETE, format!("/api/stacks/{name}")),
    ] {
        let body = (m == Method::PUT).then(|| json!({"compose": compose}));
        // Another team's operator is answered as if there were no such stack; the
        // team's viewer lacks the role.
        let got = send(&op_blue, m.clone(), &app.url(&path), body.clone()).await;
        assert_error(&got, 404, "not_found");
        let got = send(&viewer, m.clone(), &app.url(&path), body.clone()).await;
        assert_error(&got, 403, "forbidden");
    }
    assert_eq!(
        daemon_state(&cname).await.as_deref(),
        Some("running"),
        "nothing was done"
    );

    // Red's viewer reads it; red's operator runs it.
    let (status, detail) = send(
        &viewer,
        Method::GET,
        &app.url(&format!("/api/stacks/{name}")),
        None,
    )
    .await;
    assert_eq!(status, 200, "{detail}");
    assert_eq!(detail["team"], red.as_str());
    let (status, _) = send(
        &op_red,
        Method::POST,
        &app.url(&format!("/api/stacks/{name}/stop")),
        None,
    )
    .await;
    assert_eq!(status, 204);
    assert_eq!(daemon_state(&cname).await.as_deref(), Some("exited"));

    // Networks: blue cannot connect red's container to its network, by any name of it.
    let cid = {
        let (_, d) = send(
            &op_red,
            Method::GET,
            &app.url(&format!("/api/stacks/{name}")),
            None,
        )
        .await;
        d["services"][0]["containers"][0]["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let net = unique("bluenet");
    let got = send(
        &op_blue,
        Method::POST,
        &app.url("/api/networks"),
        Some(json!({"name": net})),
    )
    .await;
    assert_eq!(got.0, 201, "{}", got.1);
    for reference in [cid.as_str(), &cid[..12], cname.as_str()] {
        let got = send(
            &op_blue,
            Method::POST,
            &app.url(&format!("/api/networks/{net}/connect")),
            Some(json!({"container": reference})),
        )
        .await;
        assert_error(&got, 404, "not_found");
        let got = send(
            &viewer,
            Method::POST,
            &app.url(&format!("/api/networks/{net}/connect")),
            Some(json!({"container": reference})),
        )
        .await;
        assert_error(&got, 403, "forbidden");
    }
    // Red cannot remove blue's network; blue can.
    assert_error(
        &send(
            &op_red,
            Method::DELETE,
            &app.url(&format!("/api/networks/{net}")),
            None,
        )
        .await,
        404,
        "not_found",
    );
    let got = send(
        &op_blue,
        Method::DELETE,
        &app.url(&format!("/api/networks/{net}")),
        None,
    )
    .await;
    assert_eq!(got.0, 204);
    // Operators may not create networks on host interfaces.
    let got = send(
        &op_blue,
        Method::POST,
        &app.url("/api/networks"),
        Some(json!({"name": unique("mac"), "driver": "macvlan"})),
    )
    .await;
    assert_error(&got, 403, "forbidden");

    let got = send(
        &op_red,
        Method::DELETE,
        &app.url(&format!("/api/stacks/{name}")),
        None,
    )
    .await;
    assert_eq!(got.0, 200);
    assert_eq!(daemon_state(&cname).await, None);
}
