//! A unix-socket relay in front of the real daemon socket, so a test can make the daemon
//! "go away" and "come back" for one berth without touching the daemon other tests use.
//! Nothing is mocked: every byte berth sends reaches the real daemon while the relay is up.

use std::path::PathBuf;
use std::sync::Arc;

use tokio::net::{UnixListener, UnixStream};
use tokio::sync::Notify;
use tokio::task::JoinHandle;

pub struct DaemonRelay {
    dir: tempfile::TempDir,
    target: PathBuf,
    cut: Arc<Notify>,
    task: Option<JoinHandle<()>>,
}

impl DaemonRelay {
    /// A relay to the test daemon, up.
    pub fn start() -> DaemonRelay {
        let host = crate::support::docker_host();
        let target = PathBuf::from(host.trim_start_matches("unix://"));
        let mut relay = DaemonRelay {
            dir: tempfile::tempdir().expect("temp dir"),
            target,
            cut: Arc::new(Notify::new()),
            task: None,
        };
        relay.restore();
        relay
    }

    pub fn socket(&self) -> PathBuf {
        self.dir.path().join("docker.sock")
    }

    /// `unix://...` for berth's `--docker-host`.
    pub fn host(&self) -> String {
        format!("unix://{}", self.socket().display())
    }

    /// The daemon vanishes: the socket file goes and every open connection is dropped.
    pub fn cut(&mut self) {
        self.cut.notify_waiters();
        if let Some(t) = self.task.take() {
            t.abort();
        }
        let _ = std::fs::remove_file(self.socket());
    }

    /// The daemon is back.
    pub fn restore(&mut self) {
        let _ = std::fs::remove_file(self.socket());
        let listener = UnixListener::bind(self.socket()).expect("bind the relay socket");
        let target = self.target.clone();
        let cut = self.cut.clone();
        self.task = Some(tokio::spawn(async move {
            loop {
                let Ok((mut client, _)) = listener.accept().await else {
                    return;
                };
                let target = target.clone();
                let cut = cut.clone();
                tokio::spawn(async move {
                    let Ok(mut upstream) = UnixStream::connect(&target).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut upstream) => {}
                        _ = cut.notified() => {}
                    }
                });
            }
        }));
    }
}

impl Drop for DaemonRelay {
    fn drop(&mut self) {
        self.cut();
    }
}
