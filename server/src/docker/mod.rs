//! The only place that talks to the daemon: through bollard, and for followed logs
//! straight over its socket ([`log_reader`]).
//!
//! A daemon is an [`Endpoint`]; which one a request talks to is chosen per request by the
//! [`Daemon`] extractor (today there is one, `local`; several hosts or a swarm add entries to
//! [`Daemons`] without touching handlers).

pub mod containers;
pub mod create;
pub mod disk;
pub mod events;
pub mod files;
pub mod images;
pub mod log_reader;
pub mod logs;
pub mod networks;
pub mod progress;
pub mod reference;
pub mod run;
pub mod stack_images;
pub mod stack_logs;
pub mod stack_spec;
pub mod stack_up;
pub mod stack_waits;
pub mod stacks;
pub mod stats;
pub mod system;
pub mod tar_gate;
pub mod terminal;
pub mod volume_files;
pub mod volumes;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use bollard::Docker;
use tokio::sync::Mutex;

use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// The name of the daemon berth was started against.
pub const LOCAL: &str = "local";

/// How long connecting and negotiating the API version may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// One Docker daemon berth can drive.
pub struct Endpoint {
    pub name: String,
    pub host: String,
    /// A client whose API version was negotiated with the daemon, made on first use so a
    /// daemon that is missing at start (or comes back later) is picked up by itself.
    client: Mutex<Option<Docker>>,
    pub events: events::EventHub,
    pub stats: stats::StatsHub,
}

impl Endpoint {
    pub fn new(name: &str, host: &str) -> Arc<Self> {
        Arc::new(Endpoint {
            name: name.to_owned(),
            host: host.to_owned(),
            client: Mutex::new(None),
            events: events::EventHub::new(),
            stats: stats::StatsHub::default(),
        })
    }

    /// A client for this daemon, or 503 if it cannot be reached.
    pub async fn client(&self) -> AppResult<Docker> {
        let mut cached = self.client.lock().await;
        if let Some(client) = cached.as_ref() {
            return Ok(client.clone());
        }
        let client = tokio::time::timeout(CONNECT_TIMEOUT, connect(&self.host))
            .await
            .map_err(|_| {
                AppError::DockerUnavailable(format!("{} did not answer in time", self.host))
            })??;
        *cached = Some(client.clone());
        Ok(client)
    }

    /// Forget the negotiated client after a connection failure, so the next request
    /// negotiates again with whatever daemon answers then (it may have been upgraded).
    pub async fn reset(&self) {
        *self.client.lock().await = None;
    }

    /// Run a daemon call; a connection failure resets the client and becomes a 503.
    pub async fn call<T, F, Fut>(&self, f: F) -> AppResult<T>
    where
        F: FnOnce(Docker) -> Fut,
        Fut: std::future::Future<Output = Result<T, bollard::errors::Error>>,
    {
        let client = self.client().await?;
        match f(client).await {
            Ok(v) => Ok(v),
            Err(err) => {
                let err = AppError::from(err);
                if matches!(err, AppError::DockerUnavailable(_)) {
                    self.reset().await;
                }
                Err(err)
            }
        }
    }
}

async fn connect(host: &str) -> AppResult<Docker> {
    let unavailable = |e: bollard::errors::Error| AppError::from(e);
    let client = if let Some(path) = host.strip_prefix("unix://") {
        Docker::connect_with_unix(path, 120, bollard::API_DEFAULT_VERSION)
    } else if host.starts_with("tcp://") || host.starts_with("http://") {
        Docker::connect_with_http(host, 120, bollard::API_DEFAULT_VERSION)
    } else if host.starts_with('/') {
        Docker::connect_with_unix(host, 120, bollard::API_DEFAULT_VERSION)
    } else {
        return Err(AppError::DockerUnavailable(format!(
            "unsupported DOCKER_HOST {host:?}: use unix:///path, tcp://host:port or http://host:port"
        )));
    }
    .map_err(unavailable)?;
    // Debian's engine 20.10 speaks API 1.41 and refuses newer clients: agree on the
    // highest version both sides know.
    client.negotiate_version().await.map_err(unavailable)
}

/// Every daemon this berth manages, by name.
pub struct Daemons {
    endpoints: HashMap<String, Arc<Endpoint>>,
}

impl Daemons {
    pub fn new(local_host: &str) -> Self {
        let mut endpoints = HashMap::new();
        endpoints.insert(LOCAL.to_owned(), Endpoint::new(LOCAL, local_host));
        Daemons { endpoints }
    }

    pub fn get(&self, name: &str) -> Option<Arc<Endpoint>> {
        self.endpoints.get(name).cloned()
    }

    pub fn local(&self) -> Arc<Endpoint> {
        self.endpoints[LOCAL].clone()
    }
}

/// The daemon a request talks to: the `X-Berth-Endpoint` header or `endpoint` query
/// parameter, `local` when neither is given.
pub struct Daemon(pub Arc<Endpoint>);

impl FromRequestParts<AppState> for Daemon {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> AppResult<Self> {
        let from_header = parts
            .headers
            .get("x-berth-endpoint")
            .and_then(|v| v.to_str().ok());
        let from_query = parts
            .uri
            .query()
            .and_then(|q| q.split('&').find_map(|kv| kv.strip_prefix("endpoint=")));
        let name = from_header.or(from_query).unwrap_or(LOCAL);
        state
            .daemons
            .get(name)
            .map(Daemon)
            .ok_or_else(|| AppError::NotFound(format!("no daemon endpoint named {name:?}")))
    }
}

impl std::ops::Deref for Daemon {
    type Target = Endpoint;
    fn deref(&self) -> &Endpoint {
        &self.0
    }
}
