//! Per-host health: a background loop per environment, with its own timeout and backoff,
//! keeps `up`, `down since … (last error)` or `paused`. Handlers read the cached state, so a
//! request for a down host answers at once, and no host waits on another.

use std::sync::{Arc, Weak};
use std::time::Duration;

use wire::EnvStatus;

use super::Endpoint;
use crate::error::AppError;

/// One check (connect, version, info) may take this long before the host counts as down.
pub const CHECK_TIMEOUT: Duration = Duration::from_secs(3);
/// How often an `up` host is checked.
const UP_EVERY: Duration = Duration::from_secs(2);
/// A down host is retried after 1 s, then twice as long each time, up to this.
const BACKOFF_MAX: Duration = Duration::from_secs(8);

/// What the last check found.
#[derive(Debug, Clone)]
pub struct Health {
    pub status: EnvStatus,
    /// Unix seconds since this status.
    pub since: i64,
    pub error: Option<String>,
    pub engine_version: Option<String>,
    pub api_version: Option<String>,
    pub swarm: bool,
    pub containers: Option<i64>,
    pub running: Option<i64>,
    pub images: Option<i64>,
}

impl Health {
    pub fn new(paused: bool) -> Self {
        Health {
            status: if paused {
                EnvStatus::Paused
            } else {
                EnvStatus::Unknown
            },
            since: now(),
            error: None,
            engine_version: None,
            api_version: None,
            swarm: false,
            containers: None,
            running: None,
            images: None,
        }
    }
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

impl Endpoint {
    pub fn health(&self) -> Health {
        self.health
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Why requests are refused now, if they are: paused, or down with the last error.
    pub fn unavailable(&self) -> Option<String> {
        let h = self.health.read().unwrap_or_else(|p| p.into_inner());
        match h.status {
            EnvStatus::Paused => Some(format!(
                "environment {:?} is paused: an admin stopped using it",
                self.name
            )),
            EnvStatus::Down => Some(format!(
                "environment {:?} is down since {}: {}",
                self.name,
                httpdate::fmt_http_date(
                    std::time::UNIX_EPOCH + Duration::from_secs(h.since.max(0) as u64)
                ),
                h.error.as_deref().unwrap_or("it does not answer")
            )),
            EnvStatus::Up | EnvStatus::Unknown => None,
        }
    }

    /// A request saw the host fail: it is down from now, until its loop finds it back.
    pub fn mark_down(&self, why: &str) {
        let mut h = self.health.write().unwrap_or_else(|p| p.into_inner());
        if h.status == EnvStatus::Paused {
            return;
        }
        if h.status != EnvStatus::Down {
            h.status = EnvStatus::Down;
            h.since = now();
            if self.builtin {
                tracing::warn!("{}", no_daemon_warning(&self.host, why));
            } else {
                tracing::warn!("environment {} is down: {why}", self.name);
            }
        }
        h.error = Some(why.to_owned());
        drop(h);
        self.status_tx.send_replace(EnvStatus::Down);
    }

    fn mark_up(&self, found: Health) {
        let mut h = self.health.write().unwrap_or_else(|p| p.into_inner());
        let since = if h.status == EnvStatus::Up {
            h.since
        } else {
            if h.status == EnvStatus::Down {
                tracing::info!("environment {} is back", self.name);
            }
            now()
        };
        *h = Health { since, ..found };
        drop(h);
        self.status_tx.send_replace(EnvStatus::Up);
    }

    /// Waits, at most `limit`, for the first check of a host just added or edited, so the
    /// admin who saved it reads its state (up, or down and why) instead of "checking".
    pub async fn settled(&self, limit: Duration) {
        if self.paused {
            return;
        }
        let mut rx = self.status_tx.subscribe();
        let _ = tokio::time::timeout(limit, rx.wait_for(|s| *s != EnvStatus::Unknown)).await;
    }

    /// Starts the health loop (paused hosts have none: they are not contacted at all).
    pub(super) fn start_health(self: &Arc<Self>) {
        if self.paused {
            return;
        }
        let weak = Arc::downgrade(self);
        tokio::spawn(run(weak));
    }

    /// One full check: a fresh connection when there is no client, then the version and
    /// counts (`docker version`, `docker info`).
    pub async fn check(&self) -> Result<Health, AppError> {
        within(async {
            let client = self.connect().await?;
            let (version, info) =
                tokio::try_join!(client.version(), client.info()).map_err(AppError::from)?;
            let swarm = info
                .swarm
                .as_ref()
                .and_then(|s| s.local_node_state.as_ref())
                .is_some_and(|s| s.to_string() == "active");
            Ok(Health {
                status: EnvStatus::Up,
                since: 0,
                error: None,
                engine_version: version.version,
                api_version: Some(client.client_version().to_string()),
                swarm,
                containers: info.containers,
                running: info.containers_running,
                images: info.images,
            })
        })
        .await
    }

    /// A light check between full ones: `GET /_ping`, keeping the last counts.
    async fn ping(&self) -> Result<Health, AppError> {
        within(async {
            let client = self.connect().await?;
            client.ping().await.map_err(AppError::from)?;
            Ok(Health {
                status: EnvStatus::Up,
                ..self.health()
            })
        })
        .await
    }
}

/// The warning for the built-in environment (`--docker-host`): on a fresh machine it is
/// the only daemon, and without it berth can do nothing, so say which daemon was tried and
/// how to get one.
pub fn no_daemon_warning(host: &str, why: &str) -> String {
    format!(
        "no Docker daemon answers at {host} (--docker-host / DOCKER_HOST): {why}. berth \
         keeps running and retrying, but can show and do nothing until one answers. Start \
         Docker there (Debian: `sudo apt-get install docker.io && sudo systemctl start \
         docker`), or point berth at a running daemon: --docker-host \
         unix:///path/to/docker.sock, or DOCKER_HOST=tcp://HOST:2375 (`cargo xtask run` \
         as root starts a private daemon for berth)"
    )
}

/// `f`, or "down" after [`CHECK_TIMEOUT`].
async fn within(
    f: impl std::future::Future<Output = Result<Health, AppError>>,
) -> Result<Health, AppError> {
    tokio::time::timeout(CHECK_TIMEOUT, f).await.map_err(|_| {
        AppError::DockerUnavailable(format!("no answer within {} s", CHECK_TIMEOUT.as_secs()))
    })?
}

/// Every how many checks of an `up` host the full one (version, counts) runs.
const FULL_EVERY: u32 = 10;

async fn run(weak: Weak<Endpoint>) {
    let mut backoff = Duration::from_secs(1);
    let mut n: u32 = 0;
    loop {
        let Some(ep) = weak.upgrade() else {
            return;
        };
        // A full check when the host was not up (or every FULL_EVERY): a ping otherwise.
        let full = ep.health().status != EnvStatus::Up || n == 0;
        n = (n + 1) % FULL_EVERY;
        let res = if full {
            ep.check().await
        } else {
            ep.ping().await
        };
        let wait = match res {
            Ok(found) => {
                ep.mark_up(found);
                backoff = Duration::from_secs(1);
                UP_EVERY
            }
            Err(e) => {
                ep.reset().await;
                let why = match e {
                    AppError::DockerUnavailable(m) => m,
                    other => other.to_string(),
                };
                ep.mark_down(&why);
                let wait = backoff;
                backoff = (backoff * 2).min(BACKOFF_MAX);
                wait
            }
        };
        // Not holding the endpoint while asleep: a removed environment's loop ends.
        drop(ep);
        tokio::time::sleep(wait).await;
    }
}
