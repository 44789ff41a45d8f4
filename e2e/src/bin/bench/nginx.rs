//! The reference for shares: Debian's nginx serving the same folders on loopback, with a
//! config generated into a temporary directory; started in its own process group and
//! stopped by its pid.

use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

pub struct Nginx {
    pub base: String,
    child: Child,
    _dir: tempfile::TempDir,
}

fn bin() -> String {
    std::env::var("BERTH_NGINX").unwrap_or_else(|_| "/usr/sbin/nginx".into())
}

/// `nginx/1.22.1`, or "not installed".
pub fn version() -> String {
    Command::new(bin())
        .arg("-v")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stderr).trim().to_owned())
        .and_then(|v| v.rsplit(' ').next().map(str::to_owned))
        .unwrap_or_else(|| "not installed".into())
}

impl Nginx {
    /// Serves `download` at `/dl/` and `index` at `/html/` (autoindex) and `/json/`
    /// (autoindex_format json).
    pub async fn start(download: &Path, index: &Path) -> Result<Nginx> {
        let dir = tempfile::tempdir()?;
        let port = crate::berth::free_port()?;
        let tmp = dir.path().display();
        let conf = format!(
            "worker_processes 1;
daemon off;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    sendfile on;
    default_type application/octet-stream;
    client_body_temp_path {tmp}/client_body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    server {{
        listen 127.0.0.1:{port};
        location /dl/ {{ alias {dl}/; }}
        location /html/ {{ alias {index}/; autoindex on; }}
        location /json/ {{ alias {index}/; autoindex on; autoindex_format json; }}
    }}
}}
",
            dl = download.display(),
            index = index.display(),
        );
        let conf_path = dir.path().join("nginx.conf");
        std::fs::write(&conf_path, conf)?;
        let child = Command::new(bin())
            .arg("-p")
            .arg(dir.path())
            .arg("-c")
            .arg(&conf_path)
            .arg("-e")
            .arg(dir.path().join("error.log"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .process_group(0)
            .spawn()
            .with_context(|| format!("cannot start {} (Debian package nginx-light)", bin()))?;
        let mut nginx = Nginx {
            base: format!("http://127.0.0.1:{port}"),
            child,
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                return Ok(nginx);
            }
            if let Ok(Some(status)) = nginx.child.try_wait() {
                let log = std::fs::read_to_string(nginx._dir.path().join("error.log"))
                    .unwrap_or_default();
                bail!("nginx exited ({status}): {log}");
            }
            if Instant::now() > deadline {
                bail!("nginx did not listen on {port} within 10 s");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let pid = self.child.id() as i32;
        // The master by its pid (SIGTERM: fast shutdown, it ends its worker); the group
        // it leads only if it does not go.
        if pid > 1 {
            #[allow(unsafe_code)]
            // SAFETY: kill(2) on the exact pid of the nginx we started.
            unsafe {
                libc::kill(pid, libc::SIGTERM);
            }
            let deadline = Instant::now() + Duration::from_secs(5);
            while Instant::now() < deadline {
                if matches!(self.child.try_wait(), Ok(Some(_))) {
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            #[allow(unsafe_code)]
            // SAFETY: killpg(2) on the group created for this nginx (its pid, > 1).
            unsafe {
                libc::killpg(pid, libc::SIGKILL);
            }
        }
        let _ = self.child.wait();
    }
}
