//! The measured side: the release `berth` binary on a free loopback port, logged in as
//! `admin` with a session cookie, as a browser would be.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{bail, Context, Result};
use reqwest::header::{HeaderMap, HeaderValue, COOKIE};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub const PASSWORD: &str = "bench-admin-pw";

pub type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

pub struct Berth {
    pub base: String,
    pub pid: u32,
    /// `berth_session=...`, for websockets and the browser.
    pub cookie: String,
    /// A client that sends the cookie (keep-alive, TCP_NODELAY as reqwest defaults).
    pub http: reqwest::Client,
    child: Child,
    _data: tempfile::TempDir,
}

pub fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

impl Berth {
    /// Starts `bin` against the daemon at `docker_host` with these `--share NAME=PATH`s.
    pub async fn start(
        bin: &Path,
        docker_host: &str,
        shares: &[(String, PathBuf)],
    ) -> Result<Berth> {
        let port = free_port()?;
        let data = tempfile::tempdir()?;
        let mut cmd = Command::new(bin);
        cmd.args(["--listen", &format!("127.0.0.1:{port}")])
            .args(["--docker-host", docker_host])
            .arg("--data-dir")
            .arg(data.path());
        for (name, path) in shares {
            cmd.arg("--share").arg(format!("{name}={}", path.display()));
        }
        // The fan-out benchmark opens hundreds of websockets as one user: above the default
        // per-user cap (a binary from before the cap has no such flag).
        if knows_flag(bin, "--max-websockets-per-user") {
            cmd.args(["--max-websockets-per-user", "10000"]);
        }
        let child = cmd
            .env("BERTH_ADMIN_PASSWORD", PASSWORD)
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .with_context(|| format!("cannot start {}", bin.display()))?;
        let pid = child.id();
        let base = format!("http://127.0.0.1:{port}");
        let mut berth = Berth {
            base,
            pid,
            cookie: String::new(),
            http: reqwest::Client::new(),
            child,
            _data: data,
        };
        let health = format!("{}/api/health", berth.base);
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(r) = reqwest::get(&health).await {
                if r.status().is_success() {
                    break;
                }
            }
            if let Ok(Some(status)) = berth.child.try_wait() {
                bail!("berth exited at start ({status})");
            }
            if tokio::time::Instant::now() > deadline {
                bail!("berth did not answer {health} within 30 s");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        berth.login().await?;
        Ok(berth)
    }

    async fn login(&mut self) -> Result<()> {
        let resp = reqwest::Client::new()
            .post(self.url("/api/auth/login"))
            .json(&serde_json::json!({ "username": "admin", "password": PASSWORD }))
            .send()
            .await?;
        if !resp.status().is_success() {
            bail!("login answered {}", resp.status());
        }
        let cookie = resp
            .headers()
            .get_all(reqwest::header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.contains("berth_session="))
            .and_then(|v| v.split(';').next())
            .context("login set no session cookie")?
            .to_owned();
        let mut headers = HeaderMap::new();
        headers.insert(COOKIE, HeaderValue::from_str(&cookie)?);
        self.http = reqwest::Client::builder()
            .default_headers(headers)
            .tcp_nodelay(true)
            .build()?;
        self.cookie = cookie;
        Ok(())
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Opens a websocket at `path` with the session cookie (no Origin: as a script would).
    pub async fn ws(&self, path: &str) -> Result<Ws> {
        let url = format!("ws://127.0.0.1:{}{path}", self.port());
        let mut req = url.as_str().into_client_request()?;
        req.headers_mut()
            .insert(COOKIE, HeaderValue::from_str(&self.cookie)?);
        let (ws, _) = tokio_tungstenite::connect_async_with_config(req, None, true)
            .await
            .with_context(|| format!("websocket {path}"))?;
        Ok(ws)
    }

    fn port(&self) -> &str {
        self.base.rsplit(':').next().unwrap_or("")
    }

    /// berth's resident memory, in bytes (VmRSS).
    pub fn rss(&self) -> Result<u64> {
        rss_of(self.pid)
    }

    pub fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

/// Whether `bin --help` lists `flag`.
pub fn knows_flag(bin: &Path, flag: &str) -> bool {
    Command::new(bin)
        .arg("--help")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains(flag))
}

pub fn rss_of(pid: u32) -> Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .context("no VmRSS")?;
    Ok(kb * 1024)
}

impl Drop for Berth {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
