//! Environments: one [`Endpoint`] per daemon, the live registry of them ([`Daemons`]), and
//! the per-request [`Daemon`] extractor that picks one and checks the caller may use it.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use bollard::Docker;
use tokio::sync::Mutex;

use super::health::Health;
use super::transport::{Ssh, Transport};
use super::{events, stats, tls};
use crate::auth::CurrentUser;
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::store::environments::Row;

/// The name of the daemon berth was started against.
pub const LOCAL: &str = "local";

/// How long connecting and negotiating the API version may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// One Docker daemon berth can drive.
pub struct Endpoint {
    pub name: String,
    /// The URL it was given: `unix:///…`, `tcp://…`, `ssh://…`.
    pub host: String,
    pub(super) transport: Arc<Transport>,
    /// A client whose API version was negotiated with the daemon, made on first use so a
    /// daemon that is missing at start (or comes back later) is picked up by itself.
    client: Mutex<Option<Docker>>,
    pub(super) health: RwLock<Health>,
    /// The status, for calls in flight to give up when the health loop finds the host gone.
    pub(super) status_tx: tokio::sync::watch::Sender<wire::EnvStatus>,
    /// Teams that may use it; empty: everyone.
    pub teams: Vec<String>,
    /// Team (or `*`) → the most its members may do here; see [`Endpoint::role_for`].
    pub roles: std::collections::BTreeMap<String, wire::Role>,
    pub paused: bool,
    /// `local`: from the command line, not stored.
    pub builtin: bool,
    pub tls: bool,
    pub skip_verify: bool,
    pub has_ssh_key: bool,
    pub events: events::EventHub,
    pub stats: stats::StatsHub,
}

impl Endpoint {
    /// An endpoint for `url` without TLS or keys (tests, and `--docker-host` without
    /// `DOCKER_TLS_VERIFY`). Its health loop is not started.
    pub fn new(name: &str, url: &str) -> Arc<Self> {
        let row = Row {
            name: name.to_owned(),
            url: url.to_owned(),
            teams: "[]".into(),
            roles: "{}".into(),
            ..Row::default()
        };
        Arc::new(Self::build(&row, Settings::default(), name == LOCAL))
    }

    fn build(row: &Row, secrets: Settings, builtin: bool) -> Self {
        let tls = row.tls_ca.is_some() && row.tls_cert.is_some() && row.tls_key.is_some();
        let transport = match transport_for(row, secrets) {
            Ok(t) => t,
            Err(why) => Transport::Broken(why),
        };
        Endpoint {
            name: row.name.clone(),
            host: row.url.clone(),
            transport: Arc::new(transport),
            client: Mutex::new(None),
            health: RwLock::new(Health::new(row.paused)),
            status_tx: tokio::sync::watch::channel(wire::EnvStatus::Unknown).0,
            teams: row.teams(),
            roles: row.roles(),
            paused: row.paused,
            builtin,
            tls,
            skip_verify: row.skip_verify,
            has_ssh_key: row.ssh_key.is_some(),
            events: events::EventHub::new(),
            stats: stats::StatsHub::default(),
        }
    }

    /// A stored environment, its keys opened with the data dir's key.
    pub fn from_row(row: &Row, data_dir: &Path) -> Arc<Self> {
        let open = |sealed: &Option<String>| -> Result<Option<String>, String> {
            sealed
                .as_deref()
                .map(|s| crate::registry::secret::open(data_dir, s).map_err(|e| format!("{e:#}")))
                .transpose()
        };
        let secrets = match (open(&row.tls_key), open(&row.ssh_key)) {
            (Ok(tls_key), Ok(ssh_key)) => Settings { tls_key, ssh_key },
            (Err(e), _) | (_, Err(e)) => {
                let mut ep = Self::build(row, Settings::default(), false);
                ep.transport = Arc::new(Transport::Broken(e));
                return Arc::new(ep);
            }
        };
        Arc::new(Self::build(row, secrets, false))
    }

    /// Whether `user` may use this environment: admins always, others when it is open to
    /// everyone or to one of their teams.
    pub fn open_to(&self, user: &CurrentUser) -> bool {
        user.role == wire::Role::Admin
            || self.teams.is_empty()
            || self.teams.iter().any(|t| user.teams.contains(t))
    }

    /// The role `user` has on this environment: their own, limited by the most any of their
    /// teams may do here (the highest limit among their teams that have one, else the `*`
    /// limit, else none). Admins are never limited: they manage the environments.
    pub fn role_for(&self, user: &CurrentUser) -> wire::Role {
        if user.role == wire::Role::Admin || self.roles.is_empty() {
            return user.role;
        }
        let limit = user
            .teams
            .iter()
            .filter_map(|t| self.roles.get(t))
            .max()
            .or_else(|| self.roles.get("*"));
        match limit {
            Some(l) => user.role.min(*l),
            None => user.role,
        }
    }

    /// A client for this daemon, or 503 at once if its health loop found it down (or an
    /// admin paused it): a request never waits for a host known to be away.
    pub async fn client(&self) -> AppResult<Docker> {
        if let Some(why) = self.unavailable() {
            return Err(AppError::DockerUnavailable(why));
        }
        self.connect().await
    }

    /// The negotiated client, made now if there is none (within [`CONNECT_TIMEOUT`]).
    pub(super) async fn connect(&self) -> AppResult<Docker> {
        let mut cached = self.client.lock().await;
        if let Some(client) = cached.as_ref() {
            return Ok(client.clone());
        }
        let client = tokio::time::timeout(CONNECT_TIMEOUT, self.negotiate())
            .await
            .map_err(|_| {
                AppError::DockerUnavailable(format!(
                    "{}: {} did not answer within {} s",
                    self.name,
                    self.host,
                    CONNECT_TIMEOUT.as_secs()
                ))
            })??;
        *cached = Some(client.clone());
        Ok(client)
    }

    async fn negotiate(&self) -> AppResult<Docker> {
        let client = match &*self.transport {
            // The local socket keeps bollard's pooled client (the hot path); TCP, TLS and
            // ssh go through our dialer, whose errors say which step failed.
            Transport::Unix(path) => Docker::connect_with_unix(
                &path.to_string_lossy(),
                120,
                bollard::API_DEFAULT_VERSION,
            ),
            Transport::Broken(why) => return Err(AppError::DockerUnavailable(why.clone())),
            _ => self.transport.docker(),
        }
        .map_err(AppError::from)?;
        // Engine 20.10 speaks API 1.41 and refuses newer clients, a current engine refuses
        // versions below its minimum: agree on the highest version both sides know.
        client.negotiate_version().await.map_err(AppError::from)
    }

    /// Forget the negotiated client after a connection failure, so the next request
    /// negotiates again with whatever daemon answers then (it may have been upgraded).
    pub async fn reset(&self) {
        *self.client.lock().await = None;
    }

    /// Run a daemon call; a connection failure resets the client, marks the host down
    /// (its health loop brings it back) and becomes a 503.
    pub async fn call<T, F, Fut>(&self, f: F) -> AppResult<T>
    where
        F: FnOnce(Docker) -> Fut,
        Fut: std::future::Future<Output = Result<T, bollard::errors::Error>>,
    {
        let client = self.client().await?;
        // A call to a host that stops answering midway ends when its health loop marks it
        // down, not when the client's 120 s timeout runs out.
        let mut status = self.status_tx.subscribe();
        let res = tokio::select! {
            res = f(client) => res,
            _ = status.wait_for(|s| *s == wire::EnvStatus::Down) => {
                return Err(AppError::DockerUnavailable(
                    self.unavailable()
                        .unwrap_or_else(|| format!("environment {:?} is down", self.name)),
                ));
            }
        };
        match res {
            Ok(v) => Ok(v),
            Err(err) => {
                let err = AppError::from(err);
                if let AppError::DockerUnavailable(why) = &err {
                    self.reset().await;
                    self.mark_down(why);
                }
                Err(err)
            }
        }
    }

    /// Resolves when the health loop marks this host down: open streams (logs, exec,
    /// stats) end then, instead of hanging on a connection nobody answers any more.
    pub async fn went_down(&self) {
        let mut status = self.status_tx.subscribe();
        let _ = status.wait_for(|s| *s == wire::EnvStatus::Down).await;
    }

    /// Opens a raw connection to the daemon (the log reader speaks HTTP over it itself).
    pub async fn dial(&self) -> AppResult<Box<dyn super::transport::Io>> {
        if let Some(why) = self.unavailable() {
            return Err(AppError::DockerUnavailable(why));
        }
        self.transport
            .dial()
            .await
            .map_err(|e| AppError::DockerUnavailable(format!("{}: {e}", self.name)))
    }

    /// Whether the host is on this machine's file system (a unix socket).
    pub fn is_unix(&self) -> bool {
        matches!(&*self.transport, Transport::Unix(_))
    }
}

/// The opened secrets of an environment.
#[derive(Default)]
struct Settings {
    tls_key: Option<String>,
    ssh_key: Option<String>,
}

/// How to reach `row.url`.
fn transport_for(row: &Row, secrets: Settings) -> Result<Transport, String> {
    let url = row.url.trim();
    if let Some(path) = url.strip_prefix("unix://") {
        return Ok(Transport::Unix(path.into()));
    }
    if url.starts_with('/') {
        return Ok(Transport::Unix(url.into()));
    }
    if let Some(rest) = url
        .strip_prefix("tcp://")
        .or_else(|| url.strip_prefix("http://"))
        .or_else(|| url.strip_prefix("https://"))
    {
        let authority = rest.split('/').next().unwrap_or(rest);
        let tls_material = match (&row.tls_ca, &row.tls_cert, &secrets.tls_key) {
            (Some(ca), Some(cert), Some(key)) => Some((ca, cert, key)),
            _ => None,
        };
        let (host, port) = split_port(authority);
        if host.is_empty() {
            return Err(format!("{url:?}: no host name"));
        }
        return match tls_material {
            None if row.skip_verify => Err(
                "skip_verify needs the client certificate and key (tls.cert, tls.key): \
                 the daemon's --tlsverify asks for them"
                    .into(),
            ),
            None => Ok(Transport::Tcp(format!("{host}:{}", port.unwrap_or(2375)))),
            Some((ca, cert, key)) => {
                let config = tls::client_config(ca, cert, key, row.skip_verify)?;
                Ok(Transport::Tls {
                    addr: format!("{host}:{}", port.unwrap_or(2376)),
                    server_name: tls::server_name(host.trim_matches(['[', ']']))?,
                    config: Arc::new(config),
                })
            }
        };
    }
    if let Some(rest) = url.strip_prefix("ssh://") {
        let authority = rest.split('/').next().unwrap_or(rest);
        let (dest, port) = split_port(authority);
        if dest.is_empty() || dest.starts_with('-') || dest.chars().any(char::is_whitespace) {
            return Err(format!("{url:?}: give ssh://user@host[:port]"));
        }
        let key = secrets
            .ssh_key
            .map(|k| secret_file(&k))
            .transpose()
            .map_err(|e| format!("cannot keep the ssh key: {e}"))?;
        let known_hosts = row
            .ssh_known_hosts
            .as_deref()
            .map(secret_file)
            .transpose()
            .map_err(|e| format!("cannot keep known_hosts: {e}"))?;
        return Ok(Transport::Ssh(Ssh {
            dest: dest.to_owned(),
            port,
            key,
            known_hosts,
        }));
    }
    Err(format!(
        "unsupported URL {url:?}: use unix:///path, tcp://host:port or ssh://user@host[:port]"
    ))
}

/// `host:port` → (host, port); an IPv6 `[::1]:2376` keeps its brackets.
fn split_port(authority: &str) -> (&str, Option<u16>) {
    match authority.rsplit_once(':') {
        Some((host, port)) if !host.ends_with(':') && port.parse::<u16>().is_ok() => {
            (host, port.parse().ok())
        }
        _ => (authority, None),
    }
}

/// A file only berth can read, for what `ssh` must read from a path: in memory
/// (/dev/shm) where there is one, removed when the environment is.
fn secret_file(text: &str) -> std::io::Result<tempfile::NamedTempFile> {
    use std::io::Write;
    let dir = Path::new("/dev/shm");
    let mut f = if dir.is_dir() {
        tempfile::Builder::new()
            .prefix("berth-ssh-")
            .tempfile_in(dir)?
    } else {
        tempfile::Builder::new().prefix("berth-ssh-").tempfile()?
    };
    let mut text = text.replace("\r\n", "\n");
    if !text.ends_with('\n') {
        text.push('\n');
    }
    f.write_all(text.as_bytes())?;
    f.flush()?;
    Ok(f)
}

/// Every daemon this berth manages, by name: a live registry, changed by the
/// environments API while requests run.
pub struct Daemons {
    endpoints: RwLock<HashMap<String, Arc<Endpoint>>>,
}

impl Daemons {
    /// `local` only, without its health loop (see [`Daemons::start`]).
    pub fn new(local_host: &str) -> Self {
        let mut endpoints = HashMap::new();
        endpoints.insert(LOCAL.to_owned(), Endpoint::new(LOCAL, local_host));
        Daemons {
            endpoints: RwLock::new(endpoints),
        }
    }

    /// `local` from `--docker-host`, with mutual TLS when `DOCKER_TLS_VERIFY` is set (the
    /// CA, cert and key from `DOCKER_CERT_PATH`, as the docker CLI reads them), and every
    /// stored environment; each gets its health loop.
    pub async fn start(
        local_host: &str,
        db: &sqlx::SqlitePool,
        data_dir: &Path,
    ) -> anyhow::Result<Self> {
        let local = local_from_env(local_host)?;
        let daemons = Daemons::new(local_host);
        daemons.put(local);
        for row in crate::store::environments::list(db).await? {
            if row.name == LOCAL {
                continue;
            }
            daemons.put(Endpoint::from_row(&row, data_dir));
        }
        Ok(daemons)
    }

    fn map(&self) -> std::sync::RwLockReadGuard<'_, HashMap<String, Arc<Endpoint>>> {
        self.endpoints.read().unwrap_or_else(|p| p.into_inner())
    }

    pub fn get(&self, name: &str) -> Option<Arc<Endpoint>> {
        self.map().get(name).cloned()
    }

    pub fn local(&self) -> Arc<Endpoint> {
        self.get(LOCAL)
            .unwrap_or_else(|| Endpoint::new(LOCAL, "unix:///var/run/docker.sock"))
    }

    /// Every environment, by name.
    pub fn all(&self) -> Vec<Arc<Endpoint>> {
        let mut all: Vec<_> = self.map().values().cloned().collect();
        all.sort_by(|a, b| (a.name != LOCAL, &a.name).cmp(&(b.name != LOCAL, &b.name)));
        all
    }

    /// Adds or replaces an environment and starts its health loop (the one it replaces
    /// ends with it: its loop holds only a weak reference).
    pub fn put(&self, ep: Arc<Endpoint>) {
        ep.start_health();
        self.endpoints
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(ep.name.clone(), ep);
    }

    pub fn remove(&self, name: &str) -> Option<Arc<Endpoint>> {
        self.endpoints
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .remove(name)
    }
}

/// `local` as the docker CLI would reach it from the environment: `DOCKER_TLS_VERIFY`
/// turns on mutual TLS with `DOCKER_CERT_PATH/{ca,cert,key}.pem` (default `~/.docker`).
fn local_from_env(local_host: &str) -> anyhow::Result<Arc<Endpoint>> {
    let verify = std::env::var("DOCKER_TLS_VERIFY")
        .ok()
        .filter(|v| !v.is_empty() && v != "0");
    if verify.is_none() || !local_host.starts_with("tcp://") {
        return Ok(Endpoint::new(LOCAL, local_host));
    }
    let dir = std::env::var_os("DOCKER_CERT_PATH")
        .map(std::path::PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".docker")))
        .unwrap_or_else(|| ".docker".into());
    let read = |f: &str| {
        let p = dir.join(f);
        std::fs::read_to_string(&p).map_err(|e| {
            anyhow::anyhow!(
                "DOCKER_TLS_VERIFY is set but {} cannot be read: {e}",
                p.display()
            )
        })
    };
    let row = Row {
        name: LOCAL.into(),
        url: local_host.into(),
        tls_ca: Some(read("ca.pem")?),
        tls_cert: Some(read("cert.pem")?),
        teams: "[]".into(),
        roles: "{}".into(),
        ..Row::default()
    };
    let secrets = Settings {
        tls_key: Some(read("key.pem")?),
        ssh_key: None,
    };
    tracing::info!(
        "local: mutual TLS with the certificates in {}",
        dir.display()
    );
    Ok(Arc::new(Endpoint::build(&row, secrets, true)))
}

/// The name of the environment a request asks for: the Docker API pass-through's
/// `/docker/{env}/…` path, else the `X-Berth-Endpoint` header or the `endpoint` query
/// parameter, `local` when none is given.
pub fn requested(parts: &Parts) -> &str {
    if let Some(rest) = parts.uri.path().strip_prefix("/docker/") {
        return rest.split('/').next().unwrap_or(LOCAL);
    }
    let from_header = parts
        .headers
        .get("x-berth-endpoint")
        .and_then(|v| v.to_str().ok());
    let from_query = parts
        .uri
        .query()
        .and_then(|q| q.split('&').find_map(|kv| kv.strip_prefix("endpoint=")));
    from_header.or(from_query).unwrap_or(LOCAL)
}

/// The daemon a request talks to: the `X-Berth-Endpoint` header or `endpoint` query
/// parameter, `local` when neither is given. An environment given to some teams only is
/// answered as missing to everyone else (404), so nobody learns of hosts they may not use.
pub struct Daemon(pub Arc<Endpoint>);

impl FromRequestParts<AppState> for Daemon {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> AppResult<Self> {
        let name = requested(parts).to_owned();
        let missing = || AppError::NotFound(format!("no daemon endpoint named {name:?}"));
        let ep = state.daemons.get(&name).ok_or_else(missing)?;
        if !ep.teams.is_empty() {
            let user = CurrentUser::from_request_parts(parts, state).await?;
            if !ep.open_to(&user) {
                return Err(missing());
            }
        }
        Ok(Daemon(ep))
    }
}

impl std::ops::Deref for Daemon {
    type Target = Endpoint;
    fn deref(&self) -> &Endpoint {
        &self.0
    }
}
