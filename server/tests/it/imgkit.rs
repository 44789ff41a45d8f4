//! Helpers for the image, build and registry tests: ndjson answers, tar contexts, running
//! a container of a built image and reading what it prints.

use bollard::query_parameters::{
    CreateContainerOptions, LogsOptions, RemoveContainerOptions, RemoveImageOptions,
    StartContainerOptions, WaitContainerOptions,
};
use futures::StreamExt;
use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::support::*;

/// A streamed answer: its status, and its lines (or the error envelope as the only one).
pub async fn ndjson(
    app: &TestApp,
    method: Method,
    path: &str,
    body: reqwest::Body,
    content_type: &str,
) -> (StatusCode, Vec<Value>) {
    let resp = app
        .client
        .request(method, app.url(path))
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .expect("request");
    let status = resp.status();
    if status.is_success() {
        assert_eq!(
            resp.headers()["content-type"],
            "application/x-ndjson",
            "a stream of JSON lines"
        );
    }
    let text = resp.text().await.expect("body");
    let lines = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("line {l:?}: {e}")))
        .collect();
    (status, lines)
}

pub async fn ndjson_json(app: &TestApp, path: &str, body: Value) -> (StatusCode, Vec<Value>) {
    ndjson(
        app,
        Method::POST,
        path,
        body.to_string().into(),
        "application/json",
    )
    .await
}

/// The last line of a stream that must have worked: its `done` object.
pub fn done(status: StatusCode, lines: &[Value]) -> Value {
    assert_eq!(status, 200, "{lines:?}");
    let last = lines.last().expect("at least one line");
    assert!(last["error"].is_null(), "the stream failed: {last}");
    last["done"].clone()
}

/// The error a stream ended with: as the HTTP answer when the daemon failed at once, or
/// as the last line when it failed on the way.
pub fn failure(status: StatusCode, lines: &[Value]) -> Value {
    let last = lines.last().expect("at least one line");
    assert!(
        !status.is_success() || !last["error"].is_null(),
        "expected a failure, got {status}: {lines:?}"
    );
    last["error"].clone()
}

/// A tar of (path, content) files.
pub fn tar_of(files: &[(&str, &str)]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (path, text) in files {
        let mut h = tar::Header::new_gnu();
        h.set_size(text.len() as u64);
        h.set_mode(0o644);
        h.set_entry_type(tar::EntryType::Regular);
        b.append_data(&mut h, path, text.as_bytes()).unwrap();
    }
    b.into_inner().unwrap()
}

/// Build from a tar context; returns the status and lines.
pub async fn build_tar(app: &TestApp, query: &str, tar: Vec<u8>) -> (StatusCode, Vec<Value>) {
    ndjson(
        app,
        Method::POST,
        &format!("/api/images/build?{query}"),
        tar.into(),
        "application/x-tar",
    )
    .await
}

/// Run `cmd` in a new container of `image`, wait for it, and return what it printed.
pub async fn run_output(image: &str, cmd: &[&str]) -> String {
    let d = daemon().await;
    let name = unique("it-run");
    let body = bollard::models::ContainerCreateBody {
        image: Some(image.into()),
        cmd: Some(cmd.iter().map(|s| s.to_string()).collect()),
        labels: Some([("berth-test".to_string(), "1".to_string())].into()),
        ..Default::default()
    };
    let id = d
        .create_container(
            Some(CreateContainerOptions {
                name: Some(name),
                platform: String::new(),
            }),
            body,
        )
        .await
        .expect("create")
        .id;
    d.start_container(&id, None::<StartContainerOptions>)
        .await
        .expect("start");
    let mut wait = d.wait_container(&id, None::<WaitContainerOptions>);
    while wait.next().await.is_some() {}
    let mut logs = d.logs(
        &id,
        Some(LogsOptions {
            stdout: true,
            stderr: true,
            ..Default::default()
        }),
    );
    let mut out = String::new();
    while let Some(Ok(chunk)) = logs.next().await {
        out.push_str(&chunk.to_string());
    }
    let _ = d
        .remove_container(
            &id,
            Some(RemoveContainerOptions {
                force: true,
                ..Default::default()
            }),
        )
        .await;
    out
}

/// Remove an image behind the test's back (cleanup).
pub async fn drop_image(image: &str) {
    let _ = daemon()
        .await
        .remove_image(
            image,
            Some(RemoveImageOptions {
                force: true,
                noprune: false,
            }),
            None,
        )
        .await;
}

/// The daemon's id of an image, or None.
pub async fn image_id(image: &str) -> Option<String> {
    daemon()
        .await
        .inspect_image(image)
        .await
        .ok()
        .and_then(|i| i.id)
}

/// `/` in a path segment.
pub fn enc(s: &str) -> String {
    s.replace('/', "%2F")
}
