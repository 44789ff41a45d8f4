//! A unix-socket proxy in front of the real daemon that a test can cut and restore: how a
//! test makes "the daemon went away" happen without touching the shared daemon.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use tokio::net::{UnixListener, UnixStream};
use tokio::task::JoinHandle;

pub struct SocketProxy {
    _dir: tempfile::TempDir,
    path: PathBuf,
    upstream: PathBuf,
    /// The accept loop and every forwarding task: aborted together by `cut`.
    tasks: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl SocketProxy {
    pub async fn start(upstream: &str) -> SocketProxy {
        let dir = tempfile::tempdir().unwrap();
        let proxy = SocketProxy {
            path: dir.path().join("docker.sock"),
            _dir: dir,
            upstream: PathBuf::from(upstream.trim_start_matches("unix://")),
            tasks: Arc::default(),
        };
        proxy.restore().await;
        proxy
    }

    /// `unix://...` for berth's `--docker-host`.
    pub fn url(&self) -> String {
        format!("unix://{}", self.path.display())
    }

    /// Drop every connection and stop answering: to berth the daemon is gone.
    pub async fn cut(&self) {
        for t in self.tasks.lock().unwrap().drain(..) {
            t.abort();
        }
        let _ = std::fs::remove_file(&self.path);
    }

    /// Answer again.
    pub async fn restore(&self) {
        let _ = std::fs::remove_file(&self.path);
        let listener = UnixListener::bind(&self.path).unwrap();
        let upstream = self.upstream.clone();
        let tasks = self.tasks.clone();
        let accept = tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let upstream = upstream.clone();
                let conn = tokio::spawn(async move {
                    if let Ok(mut daemon) = UnixStream::connect(&upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut daemon).await;
                    }
                });
                tasks.lock().unwrap().push(conn);
            }
        });
        self.tasks.lock().unwrap().push(accept);
    }
}

impl Drop for SocketProxy {
    fn drop(&mut self) {
        for t in self.tasks.lock().unwrap().drain(..) {
            t.abort();
        }
    }
}
