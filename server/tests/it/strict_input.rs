//! Bad input is the client's: strict JSON bodies, control characters, ambiguous prefixes,
//! daemon answers that are not failures, unique network names, and an OpenAPI document
//! that describes every body with its schema.

use reqwest::Method;
use serde_json::{json, Value};

use crate::support::*;

#[tokio::test]
async fn bodies_must_be_objects_of_known_fields() {
    let app = TestApp::start().await;
    // `[]` once became a struct of defaults: a real prune.
    let got = app
        .call(Method::POST, "/api/images/prune", Some(json!([])))
        .await;
    assert_error(&got, 400, "invalid_json");
    assert!(got.1["error"]["message"]
        .as_str()
        .unwrap()
        .contains("array"));
    let got = app
        .call(Method::POST, "/api/volumes/prune", Some(json!([])))
        .await;
    assert_error(&got, 400, "invalid_json");

    let got = app
        .call(
            Method::POST,
            "/api/images/prune",
            Some(json!({"dry_run": true, "everything": true})),
        )
        .await;
    assert_error(&got, 400, "invalid_json");
    let message = got.1["error"]["message"].as_str().unwrap();
    assert!(message.contains("unknown field `everything`"), "{message}");

    let got = app
        .call(
            Method::POST,
            "/api/containers",
            Some(json!({"image": test_image(), "ports": [{"container_port": "eighty"}]})),
        )
        .await;
    assert_error(&got, 400, "invalid_json");
    let message = got.1["error"]["message"].as_str().unwrap();
    assert!(message.contains("ports[0].container_port"), "{message}");

    let got = app
        .call(
            Method::POST,
            "/api/networks/prune",
            Some(json!({"label": ["x"]})),
        )
        .await;
    assert_error(&got, 400, "invalid_json");
    // An empty body is still "no filters" where the body is optional: it parses, and an
    // operator is then refused for the role (never sent as admin: that would prune).
    let op = unique("pruneop");
    app.make_user(&op, "operator", &[&unique("pt")]).await;
    let opc = app.client_as(&op, USER_PASSWORD).await;
    let got = send(&opc, Method::POST, &app.url("/api/networks/prune"), None).await;
    assert_error(&got, 403, "forbidden");
}

#[tokio::test]
async fn control_characters_and_bad_ps_args_are_400() {
    let app = TestApp::start().await;
    for path in [
        "/api/containers/a%00b",
        "/api/images/x%0Ay",
        "/api/volumes/v%00",
        "/api/containers?all=%00",
    ] {
        let got = app.get(path).await;
        assert_error(&got, 400, "invalid_characters");
    }
    let name = unique("top");
    let id = make_container(&name, true).await;
    for args in ["--bogus", "-o%20comm"] {
        let got = app
            .get(&format!("/api/containers/{id}/top?ps_args={args}"))
            .await;
        assert_error(&got, 400, "invalid_ps_args");
    }
    let (status, body) = app
        .get(&format!("/api/containers/{id}/top?ps_args=-ef"))
        .await;
    assert_eq!(status, 200, "{body}");

    // Unpausing a running container: the daemon says 500 "is not paused"; it is a state.
    let got = app.post(&format!("/api/containers/{id}/unpause")).await;
    assert_error(&got, 409, "conflict");
    remove_container(&id).await;
}

#[tokio::test]
async fn an_ambiguous_prefix_is_400() {
    let app = TestApp::start().await;
    // Seventeen ids: two of them share their first hex digit.
    let mut ids = Vec::new();
    for _ in 0..17 {
        ids.push(make_container(&unique("amb"), false).await);
    }
    let mut firsts: Vec<char> = ids.iter().filter_map(|i| i.chars().next()).collect();
    firsts.sort_unstable();
    let shared = firsts
        .windows(2)
        .find(|w| w[0] == w[1])
        .map(|w| w[0])
        .expect("a shared first digit");
    let got = app.get(&format!("/api/containers/{shared}")).await;
    assert_error(&got, 400, "ambiguous");
    let got = app.post(&format!("/api/containers/{shared}/start")).await;
    assert_error(&got, 400, "ambiguous");
    for id in ids {
        remove_container(&id).await;
    }
}

#[tokio::test]
async fn network_names_are_unique_and_daemon_refusals_keep_their_meaning() {
    let app = TestApp::start().await;
    let name = unique("dupnet");
    // A /24 of its own (by pid) in a range no other test uses.
    let subnet = format!("10.241.{}.0/24", std::process::id() % 250);
    let (status, body) = app
        .call(
            Method::POST,
            "/api/networks",
            Some(json!({"name": name, "subnet": subnet})),
        )
        .await;
    assert_eq!(status, 201, "{body}");

    let got = app
        .call(Method::POST, "/api/networks", Some(json!({"name": name})))
        .await;
    assert_error(&got, 409, "conflict");
    assert!(
        got.1["error"]["message"].as_str().unwrap().contains(&name),
        "the message names the network: {}",
        got.1
    );
    let (_, list) = app.get("/api/networks").await;
    let same = list
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["name"] == name.as_str())
        .count();
    assert_eq!(same, 1, "no second network of that name");

    // The daemon's 403 ("Pool overlaps ...") is not berth's `forbidden`.
    let other = unique("overlap");
    let got = app
        .call(
            Method::POST,
            "/api/networks",
            Some(json!({"name": other, "subnet": subnet})),
        )
        .await;
    assert_error(&got, 409, "docker_forbidden");
    assert!(
        got.1["error"]["message"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .contains("overlap"),
        "the daemon's message is kept: {}",
        got.1
    );
    let (status, body) = app
        .call(Method::DELETE, &format!("/api/networks/{name}"), None)
        .await;
    assert_eq!(status, 204, "{body}");
}

#[tokio::test]
async fn the_document_describes_every_json_body_with_its_schema() {
    let app = TestApp::start().await;
    let (status, doc) = app.get("/api/openapi.json").await;
    assert_eq!(status, 200);
    let mut checked = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let Some(content) = op["requestBody"]["content"].as_object() else {
                continue;
            };
            for (ct, media) in content {
                let schema = &media["schema"];
                if ct == "application/json" {
                    let name = schema["$ref"].as_str().unwrap_or_else(|| {
                        panic!("{method} {path}: the JSON body has no schema: {schema}")
                    });
                    let name = name.rsplit('/').next().unwrap();
                    let def: &Value = &doc["components"]["schemas"][name];
                    assert_eq!(def["type"], "object", "{method} {path}: {def}");
                    assert_eq!(
                        def["additionalProperties"], false,
                        "{method} {path}: {name} denies unknown fields"
                    );
                } else {
                    let name = schema["$ref"].as_str().unwrap_or_default();
                    let def = &doc["components"]["schemas"][name.rsplit('/').next().unwrap()];
                    assert_eq!(def["format"], "binary", "{method} {path} {ct}: {schema}");
                }
                checked += 1;
            }
        }
    }
    assert!(checked >= 30, "only {checked} bodies described");
    let list = &doc["paths"]["/api/containers"]["get"]["responses"]["200"]["content"]
        ["application/json"]["schema"];
    assert_eq!(list["type"], "array", "answers have schemas too: {list}");
}
