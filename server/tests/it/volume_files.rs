//! The volume file browser, both ways: reading the mount point directly and going through
//! a helper container and the daemon's archive API give the same answers.

use std::collections::HashMap;
use std::time::Duration;

use bollard::models::VolumeCreateOptions;
use bollard::query_parameters::{ListContainersOptions, RemoveVolumeOptions};
use reqwest::Method;
use serde_json::Value;

use crate::support::*;

struct Vol {
    name: String,
    mountpoint: std::path::PathBuf,
}

impl Drop for Vol {
    fn drop(&mut self) {
        let name = self.name.clone();
        // Our own volume, by name.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                let d = daemon().await;
                // Helper containers of this (uniquely named) volume that a berth killed at
                // the end of a test had no time to remove: ours, by their label.
                let filters =
                    HashMap::from([("label".to_string(), vec![format!("berth.volume={name}")])]);
                let left = d
                    .list_containers(Some(ListContainersOptions {
                        all: true,
                        filters: Some(filters),
                        ..Default::default()
                    }))
                    .await
                    .unwrap_or_default();
                for c in left {
                    if let Some(id) = c.id {
                        let _ = d
                            .remove_container(
                                &id,
                                Some(bollard::query_parameters::RemoveContainerOptions {
                                    force: true,
                                    v: true,
                                    link: false,
                                }),
                            )
                            .await;
                    }
                }
                for _ in 0..100 {
                    let gone = d
                        .remove_volume(&name, Some(RemoveVolumeOptions { force: true }))
                        .await;
                    if gone.is_ok() {
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            });
        })
        .join();
    }
}

async fn make_volume(team: &str) -> Vol {
    let name = unique("files-vol");
    let d = daemon().await;
    let v = d
        .create_volume(VolumeCreateOptions {
            name: Some(name.clone()),
            labels: Some(HashMap::from([
                ("berth-test".to_string(), "1".to_string()),
                ("berth.team".to_string(), team.to_string()),
            ])),
            ..Default::default()
        })
        .await
        .expect("create a test volume");
    let mp = std::path::PathBuf::from(v.mountpoint);
    let vol = Vol {
        name,
        mountpoint: mp.clone(),
    };
    let w = |p: &str, body: &[u8]| std::fs::write(mp.join(p), body).unwrap();
    std::fs::create_dir_all(mp.join("sub/deeper")).unwrap();
    std::fs::create_dir_all(mp.join("empty")).unwrap();
    w("a.txt", b"alpha\n");
    w("sub/b.bin", &[7u8; 5000]);
    w("sub/deeper/c.txt", b"see\n");
    w("<i>odd & name.txt", b"odd\n");
    std::os::unix::fs::symlink("/etc", mp.join("link")).unwrap();
    std::os::unix::fs::symlink("sub", mp.join("rel")).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(mp.join("a.txt"), std::fs::Permissions::from_mode(0o640)).unwrap();
    vol
}

fn helper_args(mode: &str) -> Vec<String> {
    vec![
        "--volume-access".into(),
        mode.into(),
        "--helper-image".into(),
        test_image(),
    ]
}

async fn list(app: &TestApp, vol: &str, path: &str) -> (String, Value) {
    let r = app
        .client
        .get(app.url(&format!("/api/volumes/{vol}/files?path={path}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "list {path}");
    let mode = r.headers()["x-berth-volume-access"]
        .to_str()
        .unwrap()
        .to_owned();
    (mode, r.json().await.unwrap())
}

async fn fetch(app: &TestApp, vol: &str, path: &str) -> (u16, Vec<u8>) {
    let r = app
        .client
        .get(app.url(&format!("/api/volumes/{vol}/download?path={path}")))
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.bytes().await.unwrap().to_vec())
}

fn tar_names(body: &[u8]) -> Vec<String> {
    let mut ar = tar::Archive::new(body);
    let mut v: Vec<String> = ar
        .entries()
        .unwrap()
        .map(|e| {
            e.unwrap()
                .path()
                .unwrap()
                .display()
                .to_string()
                .trim_end_matches('/')
                .to_owned()
        })
        .collect();
    v.sort();
    v
}

async fn upload(app: &TestApp, vol: &str, dir: &str, name: &str, body: &[u8]) -> (u16, Value) {
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(body.to_vec()).file_name(name.to_owned()),
    );
    let r = app
        .client
        .put(app.url(&format!("/api/volumes/{vol}/upload?path={dir}")))
        .multipart(form)
        .send()
        .await
        .unwrap();
    let s = r.status().as_u16();
    (s, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn volume_browsing_direct_and_through_the_daemon_agree() {
    let team = unique("vol-team");
    let v = make_volume(&team).await;
    let direct = TestApp::start_with(&helper_args("direct")).await;
    let through = TestApp::start_with(&helper_args("daemon")).await;

    for path in ["/", "/sub", "/sub/deeper", "/empty"] {
        let (m1, a) = list(&direct, &v.name, path).await;
        let (m2, b) = list(&through, &v.name, path).await;
        assert_eq!((m1.as_str(), m2.as_str()), ("direct", "daemon"));
        assert_eq!(a, b, "the same listing of {path} both ways");
    }
    let (_, root) = list(&direct, &v.name, "/").await;
    let names: Vec<&str> = root
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["empty", "sub", "<i>odd & name.txt", "a.txt", "link", "rel"]
    );
    let a = &root[3];
    assert_eq!(
        (a["kind"].as_str(), a["size"].as_u64(), a["mode"].as_u64()),
        (Some("file"), Some(6), Some(0o640))
    );
    let link = root
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == "link")
        .unwrap();
    assert_eq!(
        (link["kind"].as_str(), link["link_target"].as_str()),
        (Some("symlink"), Some("/etc"))
    );

    // Downloads: the same file, the same folder, both ways.
    for app in [&direct, &through] {
        assert_eq!(
            fetch(app, &v.name, "/a.txt").await,
            (200, b"alpha\n".to_vec())
        );
        assert_eq!(
            fetch(app, &v.name, "/sub/b.bin").await,
            (200, vec![7u8; 5000])
        );
        let (s, tar) = fetch(app, &v.name, "/sub").await;
        assert_eq!(s, 200);
        assert_eq!(
            tar_names(&tar),
            ["sub", "sub/b.bin", "sub/deeper", "sub/deeper/c.txt"]
        );
    }

    // Upload through one way, download through the other: round trips.
    let payload: Vec<u8> = (0..200_000u32).map(|i| (i % 253) as u8).collect();
    let (s, body) = upload(&through, &v.name, "/sub", "up.bin", &payload).await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(body["written"], serde_json::json!(["/sub/up.bin"]));
    assert_eq!(
        fetch(&direct, &v.name, "/sub/up.bin").await,
        (200, payload.clone())
    );
    assert_eq!(
        std::fs::read(v.mountpoint.join("sub/up.bin")).unwrap(),
        payload
    );
    let (s, _) = upload(&direct, &v.name, "/", "up2.txt", b"second").await;
    assert_eq!(s, 200);
    assert_eq!(
        fetch(&through, &v.name, "/up2.txt").await,
        (200, b"second".to_vec())
    );
    // Replacing a file through the daemon works too.
    let (s, _) = upload(&through, &v.name, "/", "up2.txt", b"third").await;
    assert_eq!(s, 200);
    assert_eq!(
        std::fs::read(v.mountpoint.join("up2.txt")).unwrap(),
        b"third"
    );

    // New folders both ways.
    for (app, dir) in [(&direct, "made-direct"), (&through, "made-daemon")] {
        let (s, body) = app
            .call(
                Method::POST,
                &format!("/api/volumes/{}/mkdir?path=/sub/{dir}", v.name),
                None,
            )
            .await;
        assert_eq!(s, 201, "{body}");
        assert!(v.mountpoint.join("sub").join(dir).is_dir());
        let got = app
            .call(
                Method::POST,
                &format!("/api/volumes/{}/mkdir?path=/sub/{dir}", v.name),
                None,
            )
            .await;
        assert_error(&got, 409, "conflict");
    }
    let (_, a) = list(&direct, &v.name, "/sub").await;
    let (_, b) = list(&through, &v.name, "/sub").await;
    assert_eq!(a, b);

    // Delete: directly yes; through the daemon it is refused with a reason.
    let got = through
        .call(
            Method::DELETE,
            &format!("/api/volumes/{}/files?path=/up2.txt", v.name),
            None,
        )
        .await;
    assert_error(&got, 409, "conflict");
    let (s, _) = direct
        .call(
            Method::DELETE,
            &format!("/api/volumes/{}/files?path=/up2.txt", v.name),
            None,
        )
        .await;
    assert_eq!(s, 204);
    assert!(!v.mountpoint.join("up2.txt").exists());

    // The helper containers are gone afterwards.
    let d = daemon().await;
    let mut left = usize::MAX;
    for _ in 0..50 {
        let filters = HashMap::from([(
            "label".to_string(),
            vec![format!("berth.volume={}", v.name)],
        )]);
        left = d
            .list_containers(Some(ListContainersOptions {
                all: true,
                filters: Some(filters),
                ..Default::default()
            }))
            .await
            .unwrap()
            .len();
        if left == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(left, 0, "helper containers are removed");
}

#[tokio::test]
async fn volume_paths_never_leave_the_volume_either_way() {
    let team = unique("vol-team");
    let v = make_volume(&team).await;
    for mode in ["direct", "daemon"] {
        let app = TestApp::start_with(&helper_args(mode)).await;
        for p in [
            "../",
            "..",
            "/../..",
            "sub/../../x",
            "link",
            "link/passwd",
            "link/",
            "a\\..\\..",
            "%2e%2e",
            "sub%2f..%2f..",
        ] {
            for route in ["files", "download"] {
                let (s, body) = app
                    .get(&format!("/api/volumes/{}/{route}?path={p}", v.name))
                    .await;
                assert!(
                    matches!(s.as_u16(), 400 | 403 | 404),
                    "{mode} {route} {p}: {s} {body}"
                );
                assert!(
                    !body.to_string().contains("root:x:0:0"),
                    "{mode} {route} {p} leaked"
                );
            }
        }
        // Following a link that stays inside works directly; through the daemon links are
        // never followed.
        let (s, _) = app
            .get(&format!("/api/volumes/{}/files?path=/rel", v.name))
            .await;
        assert_eq!(
            s.as_u16(),
            if mode == "direct" { 200 } else { 403 },
            "{mode}"
        );
        // Uploads onto a link or into one are refused.
        let (s, _) = upload(&app, &v.name, "/", "link", b"x").await;
        assert_eq!(s, 409, "{mode}: upload onto a symlink");
        let (s, _) = upload(&app, &v.name, "/link", "x.txt", b"x").await;
        assert!(matches!(s, 403 | 404), "{mode}: upload into a symlink: {s}");
        let (s, _) = upload(&app, &v.name, "/", "../escape.txt", b"x").await;
        assert_eq!(s, 400, "{mode}");
        assert!(std::fs::symlink_metadata(v.mountpoint.join("link"))
            .unwrap()
            .file_type()
            .is_symlink());
        assert!(!std::path::Path::new("/etc/x.txt").exists());
    }
}

#[tokio::test]
async fn volume_rights_follow_the_team_label() {
    let team = unique("vol-red");
    let other = unique("vol-blue");
    let v = make_volume(&team).await;
    let app = TestApp::start_with(&helper_args("direct")).await;
    app.make_user(&format!("{team}-viewer"), "viewer", &[&team])
        .await;
    app.make_user(&format!("{team}-op"), "operator", &[&team])
        .await;
    app.make_user(&format!("{other}-op"), "operator", &[&other])
        .await;
    let viewer = app
        .client_as(&format!("{team}-viewer"), USER_PASSWORD)
        .await;
    let op = app.client_as(&format!("{team}-op"), USER_PASSWORD).await;
    let stranger = app.client_as(&format!("{other}-op"), USER_PASSWORD).await;
    let url = |s: &str| app.url(&format!("/api/volumes/{}/{s}", v.name));

    let (s, _) = send(&viewer, Method::GET, &url("files?path=/"), None).await;
    assert_eq!(s, 200);
    let r = viewer
        .get(url("download?path=/a.txt"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let got = send(&viewer, Method::POST, &url("mkdir?path=/v"), None).await;
    assert_error(&got, 403, "forbidden");
    let got = send(&viewer, Method::DELETE, &url("files?path=/a.txt"), None).await;
    assert_error(&got, 403, "forbidden");
    for (m, u) in [
        (Method::GET, url("files?path=/")),
        (Method::GET, url("download?path=/a.txt")),
        (Method::POST, url("mkdir?path=/s")),
    ] {
        // Another team's volume answers as a missing one.
        let got = send(&stranger, m, &u, None).await;
        assert_error(&got, 404, "not_found");
    }
    let (s, _) = send(&op, Method::POST, &url("mkdir?path=/by-op"), None).await;
    assert_eq!(s, 201);
    let got = app
        .get(&format!("/api/volumes/{}/files", unique("no-such-volume")))
        .await;
    assert_error(&got, 404, "not_found");
    let got = app.get("/api/volumes/bad%2Fname/files").await;
    assert_error(&got, 400, "invalid_volume");
}
