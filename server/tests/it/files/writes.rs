//! Writable shares: upload, new folder, rename, delete; who may.

use reqwest::Method;

use super::safety::urlencode;
use super::*;

fn form(files: &[(&str, &[u8])]) -> reqwest::multipart::Form {
    let mut f = reqwest::multipart::Form::new();
    for (name, body) in files {
        f = f.part(
            "file",
            reqwest::multipart::Part::bytes(body.to_vec()).file_name(name.to_string()),
        );
    }
    f
}

#[tokio::test]
async fn upload_then_download_round_trips_and_edits_work() {
    let t = tree();
    let app = app_for(&t).await;
    let payload: Vec<u8> = (0..300_000u32).map(|i| (i * 7 % 256) as u8).collect();
    let r = app
        .client
        .put(app.url("/api/shares/rw/upload?path=/docs"))
        .multipart(form(&[
            ("blob.bin", &payload),
            ("nested/note.txt", b"note"),
        ]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let res: serde_json::Value = r.json().await.unwrap();
    assert_eq!(
        res["written"],
        serde_json::json!(["/docs/blob.bin", "/docs/nested/note.txt"])
    );
    assert_eq!(res["bytes"], payload.len() as u64 + 4);

    // Through the autoindex and the API, the same bytes come back.
    let got = app
        .client
        .get(app.url("/files/pub/docs/blob.bin"))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(got.as_ref(), &payload[..]);
    let r = app
        .client
        .get(app.url("/api/shares/pub/download?path=/docs/nested/note.txt"))
        .send()
        .await
        .unwrap();
    assert!(r.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with("attachment"));
    assert_eq!(r.text().await.unwrap(), "note");
    let (status, list) = app.get("/api/shares/pub/files?path=/docs").await;
    assert_eq!(status, 200);
    let blob = list
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == "blob.bin")
        .expect("listed");
    assert_eq!(blob["kind"], "file");
    assert_eq!(blob["size"], payload.len() as u64);
    // No temporary upload files are left behind.
    assert!(list
        .as_array()
        .unwrap()
        .iter()
        .all(|e| !e["name"].as_str().unwrap().starts_with(".berth-upload")));

    // Replacing a file is allowed; uploading onto a folder is not.
    let r = app
        .client
        .put(app.url("/api/shares/rw/upload?path=docs"))
        .multipart(form(&[("blob.bin", b"v2")]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        std::fs::read(t.share().join("docs/blob.bin")).unwrap(),
        b"v2"
    );
    let r = app
        .client
        .put(app.url("/api/shares/rw/upload?path=/"))
        .multipart(form(&[("docs", b"x")]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409);

    // New folder, rename, delete.
    let (s, _) = app
        .call(Method::POST, "/api/shares/rw/mkdir?path=/fresh", None)
        .await;
    assert_eq!(s, 201);
    let got = app
        .call(Method::POST, "/api/shares/rw/mkdir?path=/fresh", None)
        .await;
    assert_error(&got, 409, "conflict");
    let (s, _) = app
        .call(
            Method::POST,
            "/api/shares/rw/rename",
            Some(serde_json::json!({"from": "/docs/blob.bin", "to": "/fresh/moved.bin"})),
        )
        .await;
    assert_eq!(s, 204);
    assert_eq!(
        std::fs::read(t.share().join("fresh/moved.bin")).unwrap(),
        b"v2"
    );
    let got = app
        .call(
            Method::POST,
            "/api/shares/rw/rename",
            Some(serde_json::json!({"from": "/hello.txt", "to": "/fresh/moved.bin"})),
        )
        .await;
    assert_error(&got, 409, "conflict");
    let (s, _) = app
        .call(
            Method::DELETE,
            &format!("/api/shares/rw/files?path={}", urlencode("/docs/nested")),
            None,
        )
        .await;
    assert_eq!(s, 204);
    assert!(!t.share().join("docs/nested").exists());
    let (s, _) = app
        .call(Method::DELETE, "/api/shares/rw/files?path=/fresh", None)
        .await;
    assert_eq!(s, 204);
    assert!(!t.share().join("fresh").exists());
    let got = app
        .call(Method::DELETE, "/api/shares/rw/files?path=/", None)
        .await;
    assert_error(&got, 400, "invalid_path");

    // Deleting a symlink removes the link, not its target.
    let (s, _) = app
        .call(Method::DELETE, "/api/shares/rw/files?path=/out2", None)
        .await;
    assert_eq!(s, 204);
    assert!(t.outside().join("secret.txt").exists());
}

#[tokio::test]
async fn read_only_shares_and_viewers_cannot_write() {
    let t = tree();
    let app = app_for(&t).await;
    let team = unique("files-team");
    app.make_user(&format!("{team}-viewer"), "viewer", &[&team])
        .await;
    let viewer = app
        .client_as(&format!("{team}-viewer"), USER_PASSWORD)
        .await;

    // The read-only share refuses everyone, admin included.
    let r = app
        .client
        .put(app.url("/api/shares/pub/upload?path=/"))
        .multipart(form(&[("x.txt", b"x")]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let got = app
        .call(Method::POST, "/api/shares/pub/mkdir?path=/nope", None)
        .await;
    assert_error(&got, 403, "forbidden");
    let got = app
        .call(
            Method::DELETE,
            "/api/shares/pub/files?path=/hello.txt",
            None,
        )
        .await;
    assert_error(&got, 403, "forbidden");

    // A viewer reads and downloads a writable share, but does not change it.
    let r = viewer
        .get(app.url("/files/rw/hello.txt"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = viewer
        .put(app.url("/api/shares/rw/upload?path=/"))
        .multipart(form(&[("x.txt", b"x")]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let got = send(
        &viewer,
        Method::DELETE,
        &app.url("/api/shares/rw/files?path=/hello.txt"),
        None,
    )
    .await;
    assert_error(&got, 403, "forbidden");
    assert!(t.share().join("hello.txt").exists());
    assert!(!t.share().join("x.txt").exists());
}
