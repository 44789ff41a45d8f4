//! Nothing outside a share's root is read, listed or written, however the path is spelled.

use reqwest::Method;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::*;

/// One request exactly as written (no client-side URL normalisation, which would already
/// fold `..` and `%2e%2e` away): status and body.
async fn raw_get(app: &TestApp, cookie: &str, target: &str) -> (u16, String) {
    let mut s = tokio::net::TcpStream::connect(("127.0.0.1", app.port()))
        .await
        .unwrap();
    let req = format!(
        "GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: {cookie}\r\nAccept: */*\r\nConnection: close\r\n\r\n"
    );
    s.write_all(req.as_bytes()).await.unwrap();
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).await.unwrap();
    let text = String::from_utf8_lossy(&buf).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (status, text)
}

/// The traversal corpus, as paths after `/files/pub/`.
const CORPUS: &[&str] = &[
    "../outside/secret.txt",
    "../../etc/passwd",
    "%2e%2e/outside/secret.txt",
    "%2E%2E/outside/secret.txt",
    ".%2e/outside/secret.txt",
    "%252e%252e/outside/secret.txt",
    "%252e%252e%252foutside%252fsecret.txt",
    "..%2foutside%2fsecret.txt",
    "..%2Foutside/secret.txt",
    "docs/..%2f..%2foutside/secret.txt",
    "docs/%2e%2e/%2e%2e/outside/secret.txt",
    "..\\outside\\secret.txt",
    "..%5coutside%5csecret.txt",
    "%5c..%5c..%5coutside%5csecret.txt",
    "hello.txt%00.png",
    "%00/../outside/secret.txt",
    "/etc/passwd",
    "%2fetc%2fpasswd",
    "%2Fetc/passwd",
    "out/passwd",
    "out/",
    "out",
    "out2/secret.txt",
    "out2/",
    "up/outside/secret.txt",
    "up/",
    "up/share/up/outside/secret.txt",
    "inside/../../outside/secret.txt",
    "dangling",
];

fn leaked(body: &str) -> bool {
    body.contains(SECRET) || body.contains("root:x:0:0")
}

#[tokio::test]
async fn traversal_corpus_is_refused_on_files_routes() {
    let t = tree();
    let app = app_for(&t).await;
    let cookie = app.cookie_header("admin", ADMIN_PASSWORD).await;
    // The control: the fixture really is there and readable through the share.
    let (status, body) = raw_get(&app, &cookie, "/files/pub/hello.txt").await;
    assert_eq!(status, 200, "{body}");
    let (status, _) = raw_get(&app, &cookie, "/files/pub/inside/readme.txt").await;
    assert_eq!(status, 200, "a symlink that stays inside works");

    for attempt in CORPUS {
        for suffix in ["", "?format=json", "?format=tar"] {
            let target = format!("/files/pub/{attempt}{suffix}");
            let (status, body) = raw_get(&app, &cookie, &target).await;
            assert!(
                matches!(status, 400 | 403 | 404),
                "{target} must be refused, got {status}: {body}"
            );
            assert!(!leaked(&body), "{target} leaked: {body}");
        }
    }
    // Another share's name cannot be used to climb either.
    for target in [
        "/files/../etc/passwd",
        "/files/%2e%2e/etc/passwd",
        "/files/pub%2f..%2f../outside/secret.txt",
    ] {
        let (status, body) = raw_get(&app, &cookie, target).await;
        assert!(!leaked(&body), "{target}: {status} {body}");
        assert_ne!(status, 200, "{target}");
    }
}

#[tokio::test]
async fn traversal_corpus_is_refused_on_the_share_api() {
    let t = tree();
    let app = app_for(&t).await;
    for p in [
        "../outside",
        "../outside/secret.txt",
        "/../outside/secret.txt",
        "docs/../../outside/secret.txt",
        "out",
        "out/passwd",
        "out2",
        "out2/secret.txt",
        "up",
        "up/outside/secret.txt",
        "a\\..\\..\\outside",
        "hello.txt\0",
        "dangling",
    ] {
        let q = urlencode(p);
        for route in ["files", "download"] {
            let (status, body) = app.get(&format!("/api/shares/pub/{route}?path={q}")).await;
            assert!(
                matches!(status.as_u16(), 400 | 403 | 404),
                "{route} {p:?}: {status} {body}"
            );
            assert!(!leaked(&body.to_string()), "{route} {p:?} leaked: {body}");
        }
    }
    // Writes through links are refused and nothing appears outside.
    let part = |name: &str| {
        reqwest::multipart::Form::new().part(
            "file",
            reqwest::multipart::Part::bytes(b"planted".to_vec()).file_name(name.to_owned()),
        )
    };
    for (dir, name) in [
        ("", "dangling"),
        ("out2", "planted.txt"),
        ("up/outside", "planted.txt"),
        ("", "../outside/planted.txt"),
        ("", "../../planted.txt"),
        ("", "/tmp/planted.txt"),
    ] {
        let r = app
            .client
            .put(app.url(&format!("/api/shares/rw/upload?path={}", urlencode(dir))))
            .multipart(part(name))
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        assert!(
            matches!(status, 400 | 403 | 409),
            "upload {dir:?}/{name:?}: {status}"
        );
        assert!(
            !t.outside().join("planted.txt").exists(),
            "{dir:?}/{name:?} wrote outside"
        );
    }
    assert!(
        std::fs::symlink_metadata(t.share().join("dangling"))
            .unwrap()
            .file_type()
            .is_symlink(),
        "the dangling link is untouched"
    );
    // mkdir, rename and delete cannot leave either.
    for (method, path, body) in [
        (Method::POST, "/api/shares/rw/mkdir?path=out2/newdir", None),
        (Method::POST, "/api/shares/rw/mkdir?path=up/escaped", None),
        (
            Method::DELETE,
            "/api/shares/rw/files?path=out2/secret.txt",
            None,
        ),
        (Method::DELETE, "/api/shares/rw/files?path=up/outside", None),
        (
            Method::POST,
            "/api/shares/rw/rename",
            Some(serde_json::json!({"from": "out2/secret.txt", "to": "stolen.txt"})),
        ),
        (
            Method::POST,
            "/api/shares/rw/rename",
            Some(serde_json::json!({"from": "hello.txt", "to": "up/outside/hello.txt"})),
        ),
    ] {
        let (status, resp) = app.call(method.clone(), path, body).await;
        assert!(
            matches!(status.as_u16(), 400 | 403 | 404),
            "{method} {path}: {status} {resp}"
        );
    }
    assert!(t.outside().join("secret.txt").exists());
    assert!(!t.outside().join("newdir").exists());
    assert!(!t.dir.path().join("escaped").exists());
    assert!(!t.outside().join("hello.txt").exists());
    assert!(t.share().join("hello.txt").exists());
}

/// A symlink swapped in while requests run never lets one through: the kernel resolves
/// each open beneath the root, so there is no check-then-open window to win.
#[tokio::test]
async fn symlink_swaps_during_requests_never_escape() {
    let t = tree();
    let app = app_for(&t).await;
    let share = t.share();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flipper = {
        let stop = stop.clone();
        let share = share.clone();
        let outside = t.outside();
        std::thread::spawn(move || {
            let real = share.join("swap");
            let tmp_link = share.join("swap.tmp");
            std::fs::create_dir_all(&real).unwrap();
            std::fs::write(real.join("secret.txt"), "inside copy").unwrap();
            let mut n = 0u32;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                // Alternate a real folder and a symlink to the outside under one name.
                let _ = std::fs::remove_file(&tmp_link);
                std::os::unix::fs::symlink(&outside, &tmp_link).unwrap();
                let _ = std::fs::rename(&real, share.join(format!("held{n}")));
                let _ = std::fs::rename(&tmp_link, &real);
                let _ = std::fs::remove_file(&real);
                let _ = std::fs::rename(share.join(format!("held{n}")), &real);
                n = n.wrapping_add(1) % 4;
            }
        })
    };
    let cookie = app.cookie_header("admin", ADMIN_PASSWORD).await;
    for _ in 0..200 {
        for target in ["/files/pub/swap/secret.txt", "/files/pub/swap/"] {
            let (_, body) = raw_get(&app, &cookie, target).await;
            assert!(!body.contains(SECRET), "{target} leaked during a swap");
        }
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    flipper.join().unwrap();
}

pub fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}
