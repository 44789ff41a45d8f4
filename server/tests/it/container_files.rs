//! `docker cp` through berth: upload (multipart and tar), list, download, for running and
//! stopped containers.

use std::io::Read;

use reqwest::Method;
use serde_json::Value;

use crate::support::*;

/// The contents of `name` in a tar.
fn from_tar(bytes: &[u8], name: &str) -> Option<Vec<u8>> {
    let mut archive = tar::Archive::new(bytes);
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        if entry
            .path()
            .unwrap()
            .to_string_lossy()
            .trim_end_matches('/')
            == name
        {
            let mut data = Vec::new();
            entry.read_to_end(&mut data).unwrap();
            return Some(data);
        }
    }
    None
}

fn tar_of(name: &str, data: &[u8]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_gnu();
    h.set_size(data.len() as u64);
    h.set_mode(0o600);
    h.set_cksum();
    b.append_data(&mut h, name, data).unwrap();
    b.into_inner().unwrap()
}

async fn listing(app: &TestApp, id: &str, path: &str) -> Vec<Value> {
    let (status, list) = app
        .get(&format!("/api/containers/{id}/files?path={path}"))
        .await;
    assert_eq!(status, 200, "{list}");
    list.as_array().unwrap().clone()
}

async fn download(app: &TestApp, id: &str, path: &str) -> Vec<u8> {
    let r = app
        .client
        .get(app.url(&format!("/api/containers/{id}/archive?path={path}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/x-tar");
    r.bytes().await.unwrap().to_vec()
}

#[tokio::test]
async fn files_round_trip_in_running_and_stopped_containers() {
    let app = TestApp::start().await;
    let name = unique("files");
    let id = make_container(&name, true).await;

    // Multipart, as a browser sends it. A megabyte and a bit, not a multiple of 512.
    let big: Vec<u8> = (0..1_100_000u32).map(|i| (i % 251) as u8).collect();
    let form = reqwest::multipart::Form::new()
        .part(
            "file",
            reqwest::multipart::Part::bytes(b"hello from berth\n".to_vec()).file_name("hello.txt"),
        )
        .part(
            "file",
            reqwest::multipart::Part::bytes(big.clone()).file_name("big.bin"),
        );
    let r = app
        .client
        .put(app.url(&format!("/api/containers/{id}/archive?path=/tmp")))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204, "{}", r.text().await.unwrap());

    let list = listing(&app, &id, "/tmp").await;
    let hello = list
        .iter()
        .find(|e| e["name"] == "hello.txt")
        .expect("listed");
    assert_eq!(hello["kind"], "file");
    assert_eq!(hello["size"], 17);
    assert_eq!(hello["mode"], 0o644);
    assert!(hello["mtime"].as_i64().unwrap() > 1_600_000_000);
    let tar = download(&app, &id, "/tmp/big.bin").await;
    assert_eq!(
        from_tar(&tar, "big.bin").as_deref(),
        Some(big.as_slice()),
        "round trip"
    );

    // One file by itself: its own bytes, typed and named, not a tar.
    let r = app
        .client
        .get(app.url(&format!("/api/containers/{id}/download?path=/tmp/big.bin")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.headers()["content-length"],
        big.len().to_string().as_str()
    );
    assert_eq!(r.headers()["content-type"], "application/octet-stream");
    let disposition = r.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        disposition.contains("filename=\"big.bin\""),
        "{disposition}"
    );
    assert_eq!(
        r.bytes().await.unwrap().as_ref(),
        big.as_slice(),
        "the file itself"
    );
    let r = app
        .client
        .get(app.url(&format!(
            "/api/containers/{id}/download?path=/tmp/hello.txt"
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["content-type"], "text/plain; charset=utf-8");
    assert_eq!(r.text().await.unwrap(), "hello from berth\n");
    assert_error(
        &app.get(&format!("/api/containers/{id}/download?path=/tmp"))
            .await,
        400,
        "is_a_directory",
    );
    assert_error(
        &app.get(&format!("/api/containers/{id}/download?path=/tmp/nope"))
            .await,
        404,
        "path_not_found",
    );

    // The root lists folders first, with symlinks' targets.
    let root = listing(&app, &id, "/").await;
    assert!(
        root.iter()
            .any(|e| e["name"] == "etc" && e["kind"] == "dir"),
        "{root:?}"
    );

    // Stopped: still readable and writable, now with a tar body.
    let (status, _) = app.post(&format!("/api/containers/{id}/kill")).await;
    assert_eq!(status, 204);
    let r = app
        .client
        .put(app.url(&format!("/api/containers/{name}/archive?path=/tmp")))
        .header("content-type", "application/x-tar")
        .body(tar_of("notes.txt", b"while stopped"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204, "{}", r.text().await.unwrap());
    let tar = download(&app, &id, "/tmp").await;
    assert_eq!(
        from_tar(&tar, "tmp/notes.txt").as_deref(),
        Some(&b"while stopped"[..])
    );
    assert_eq!(
        from_tar(&tar, "tmp/hello.txt").as_deref(),
        Some(&b"hello from berth\n"[..])
    );

    // Clear errors.
    assert_error(
        &app.get(&format!("/api/containers/{id}/files?path=tmp"))
            .await,
        400,
        "invalid_path",
    );
    assert_error(
        &app.get(&format!("/api/containers/{id}/files?path=/no/such/dir"))
            .await,
        404,
        "path_not_found",
    );
    assert_error(
        &app.get(&format!("/api/containers/{id}/files?path=/tmp/hello.txt"))
            .await,
        400,
        "not_a_directory",
    );
    let got = app
        .call(
            Method::GET,
            &format!("/api/containers/{id}/archive?path=/nope"),
            None,
        )
        .await;
    assert_error(&got, 404, "path_not_found");
    remove_container(&id).await;
}
