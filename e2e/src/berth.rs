//! The real `berth` binary on a free loopback port, against the private test daemon.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const ADMIN_PASSWORD: &str = "e2e-admin-pw";

pub struct Berth {
    pub base: String,
    child: Child,
    _data: tempfile::TempDir,
}

fn binary() -> PathBuf {
    if let Ok(p) = std::env::var("BERTH_BIN") {
        return p.into();
    }
    // `cargo xtask test` sets BERTH_BIN; by hand, the debug build of the workspace.
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/debug/berth")
}

impl Berth {
    pub async fn start() -> Berth {
        Berth::start_with(&[]).await
    }

    /// berth with extra flags (`--share NAME=PATH`, ...).
    pub async fn start_with(args: &[String]) -> Berth {
        Berth::start_with_env(args, &[]).await
    }

    /// berth with extra flags and environment variables.
    pub async fn start_with_env(args: &[String], envs: &[(&str, &str)]) -> Berth {
        let docker_host = std::env::var("BERTH_TEST_DOCKER_HOST")
            .expect("BERTH_TEST_DOCKER_HOST is not set: run the tests with `cargo xtask test`");
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free port");
        let data = tempfile::tempdir().expect("temp dir");
        let bin = binary();
        let child = Command::new(&bin)
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .args(["--docker-host", &docker_host])
            .arg("--data-dir")
            .arg(data.path())
            .args(args)
            .envs(envs.iter().copied())
            .env("BERTH_ADMIN_PASSWORD", ADMIN_PASSWORD)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
        let berth = Berth {
            base: format!("http://127.0.0.1:{port}"),
            child,
            _data: data,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(r) = reqwest::get(format!("{}/api/health", berth.base)).await {
                if r.status().is_success() {
                    break;
                }
            }
            assert!(Instant::now() < deadline, "berth did not come up");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        berth
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

impl Drop for Berth {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
