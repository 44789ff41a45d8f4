//! Shares and the `/files` autoindex: pages, JSON, serving, path safety, writes, memory.

mod autoindex;
mod big;
mod safety;
mod shares_api;
mod writes;

use std::path::{Path, PathBuf};

use reqwest::Client;

use crate::support::*;

pub const XSS_NAME: &str = "<img src=x onerror=alert(1)>.txt";
pub const SECRET: &str = "TOPSECRET-outside-the-share";

/// A prepared tree: `share/` (what is published) beside `outside/` (what must never be
/// reached), with symlinks that try to get from one to the other.
pub struct Tree {
    pub dir: tempfile::TempDir,
}

impl Tree {
    pub fn share(&self) -> PathBuf {
        self.dir.path().join("share")
    }
    pub fn outside(&self) -> PathBuf {
        self.dir.path().join("outside")
    }
}

pub fn tree() -> Tree {
    let dir = tempfile::tempdir().expect("temp dir");
    let share = dir.path().join("share");
    let outside = dir.path().join("outside");
    let w = |p: &Path, body: &[u8]| std::fs::write(p, body).expect("write fixture");
    std::fs::create_dir_all(share.join("docs/sub")).unwrap();
    std::fs::create_dir_all(share.join("empty")).unwrap();
    std::fs::create_dir_all(&outside).unwrap();
    w(&outside.join("secret.txt"), SECRET.as_bytes());
    w(&share.join("hello.txt"), b"hello world\n");
    w(&share.join("docs/readme.txt"), b"read me\n");
    w(&share.join("docs/sub/deep.txt"), b"deep\n");
    w(
        &share.join("page.html"),
        b"<script>alert(document.cookie)</script>",
    );
    w(
        &share.join("pic.svg"),
        b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>",
    );
    w(&share.join(XSS_NAME), b"just text\n");
    w(&share.join("a b & c.txt"), b"spaces\n");
    let bytes: Vec<u8> = (0..1000u32).map(|i| (i % 251) as u8).collect();
    w(&share.join("thousand.bin"), &bytes);
    use std::os::unix::fs::symlink;
    symlink("/etc", share.join("out")).unwrap();
    symlink("../outside", share.join("out2")).unwrap();
    symlink("..", share.join("up")).unwrap();
    symlink("docs", share.join("inside")).unwrap();
    symlink(outside.join("planted.txt"), share.join("dangling")).unwrap();
    tree_set_mtime(&share.join("hello.txt"), 1_700_000_000);
    Tree { dir }
}

fn tree_set_mtime(p: &Path, secs: i64) {
    let f = std::fs::File::options().write(true).open(p).unwrap();
    f.set_modified(std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs as u64))
        .unwrap();
}

/// berth publishing the tree as `pub` (read-only) and `rw` (writable, the same folder).
pub async fn app_for(t: &Tree) -> TestApp {
    let share = t.share().display().to_string();
    TestApp::start_with(&[
        "--share".into(),
        format!("pub={share}"),
        "--share".into(),
        format!("rw={share}:rw"),
    ])
    .await
}

/// A logged-in admin client that does not follow redirects.
pub async fn no_redirects(app: &TestApp) -> Client {
    let c = Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = c
        .post(app.url("/api/auth/login"))
        .json(&serde_json::json!({"username": "admin", "password": ADMIN_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    c
}
