//! A real Docker registry for tests: Debian's `docker-registry` (distribution 2.x) on a free
//! 127.0.0.1 port, storage and config in a temp dir, optionally behind htpasswd auth.
//! The test daemon trusts 127.0.0.0/8 registries over plain HTTP.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const REGISTRY_BIN: &str = "/usr/bin/docker-registry";
pub const USER: &str = "berth-it";
pub const PASSWORD: &str = "registry-pw-1";

pub struct TestRegistry {
    pub port: u16,
    child: Child,
    _dir: tempfile::TempDir,
}

impl TestRegistry {
    /// A registry; with `auth`, only `USER`/`PASSWORD` may use it.
    pub async fn start(auth: bool) -> TestRegistry {
        let dir = tempfile::tempdir().expect("temp dir");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free port");
        let mut auth_yml = String::new();
        if auth {
            let out = Command::new("htpasswd")
                .args(["-Bbn", USER, PASSWORD])
                .output()
                .expect("htpasswd (apache2-utils) runs");
            assert!(out.status.success(), "htpasswd failed");
            let path = dir.path().join("htpasswd");
            std::fs::write(&path, &out.stdout).unwrap();
            auth_yml = format!(
                "auth:\n  htpasswd:\n    realm: berth-test\n    path: {}\n",
                path.display()
            );
        }
        let config = format!(
            "version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\n\
             storage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\n\
             http:\n  addr: 127.0.0.1:{port}\n  secret: berth-test-secret\n{auth_yml}",
            dir.path().join("data").display()
        );
        let config_path = dir.path().join("config.yml");
        std::fs::write(&config_path, config).unwrap();
        let child = Command::new(REGISTRY_BIN)
            .arg("serve")
            .arg(&config_path)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start docker-registry");
        let registry = TestRegistry {
            port,
            child,
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(r) = reqwest::get(format!("http://127.0.0.1:{port}/v2/")).await {
                if r.status() == 200 || r.status() == 401 {
                    break;
                }
            }
            assert!(
                Instant::now() < deadline,
                "docker-registry did not answer on 127.0.0.1:{port}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        registry
    }

    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
}

impl Drop for TestRegistry {
    fn drop(&mut self) {
        // Our own child, by its pid.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
