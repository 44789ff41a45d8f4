//! Command line and environment: every flag of `shared/CONTRACT.md`, each also an env var.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "berth", version, about = "berth: a web console for Docker")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub config: Config,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Ask a running berth (at --listen) whether it is healthy; exit 0 if so. For container
    /// healthchecks: needs no shell and no curl in the image.
    Healthcheck,
}

/// How berth runs. Built from flags and environment by clap; tests build it directly.
#[derive(Debug, Clone, clap::Args)]
pub struct Config {
    /// Address to serve the UI and API on.
    #[arg(
        long,
        env = "BERTH_LISTEN",
        default_value = "127.0.0.1:8080",
        global = true
    )]
    pub listen: SocketAddr,

    /// The Docker daemon: unix:///path/to/docker.sock, tcp://host:port or http://host:port.
    #[arg(
        long,
        env = "DOCKER_HOST",
        default_value = "unix:///var/run/docker.sock"
    )]
    pub docker_host: String,

    /// A docker CLI config folder (`~/.docker`) whose contexts (`contexts/meta/*/meta.json`
    /// and their TLS files) are added as environments at start, once: a context whose name
    /// is taken already is left alone.
    #[arg(long, env = "BERTH_IMPORT_DOCKER_CONTEXTS")]
    pub import_docker_contexts: Option<PathBuf>,

    /// Where the SQLite database and secrets live.
    #[arg(long, env = "BERTH_DATA_DIR", default_value = "./berth-data")]
    pub data_dir: PathBuf,

    /// A host folder published as an autoindex: NAME=PATH, or NAME=PATH:rw for a writable one.
    #[arg(long = "share", env = "BERTH_SHARES", value_delimiter = ',')]
    pub shares: Vec<String>,

    /// How the volume file browser reaches a volume's files: `direct` reads the volume's
    /// mount point on this machine, `daemon` goes through a helper container and the
    /// daemon's archive API, `auto` reads directly when the daemon is local and the mount
    /// point is readable, else goes through the daemon.
    #[arg(long, env = "BERTH_VOLUME_ACCESS", value_enum, default_value_t = VolumeAccess::Auto)]
    pub volume_access: VolumeAccess,

    /// The image of the (never started) helper container used to reach a volume through
    /// the daemon. Default: any image already on the daemon (nothing is pulled).
    #[arg(long, env = "BERTH_HELPER_IMAGE")]
    pub helper_image: Option<String>,

    /// A session ends after this many minutes without a request.
    #[arg(long, env = "BERTH_SESSION_IDLE_MINUTES", default_value_t = 8 * 60)]
    pub session_idle_minutes: i64,

    /// A session ends this many hours after login, however active.
    #[arg(long, env = "BERTH_SESSION_MAX_HOURS", default_value_t = 7 * 24)]
    pub session_max_hours: i64,

    /// Send the session cookie only over HTTPS (`Secure`, named `__Host-berth_session`).
    /// Turn on when berth is served over HTTPS, directly or behind a proxy.
    #[arg(long, env = "BERTH_SECURE_COOKIES")]
    pub secure_cookies: bool,

    /// A reverse proxy whose `X-Forwarded-For` is believed (repeatable). Without it the
    /// TCP peer address is the client's address, whatever headers say.
    #[arg(
        long = "trusted-proxy",
        env = "BERTH_TRUSTED_PROXIES",
        value_delimiter = ','
    )]
    pub trusted_proxies: Vec<std::net::IpAddr>,

    /// The URL people reach berth at, e.g. https://berth.example.com (repeatable, or a
    /// comma-separated list). When set, a request for any other host name is refused (421):
    /// a foreign name resolving to berth (DNS rebinding) gets nothing. The origin check
    /// accepts these origins too.
    #[arg(
        long = "public-url",
        env = "BERTH_PUBLIC_URL",
        value_delimiter = ',',
        value_parser = PublicUrl::parse
    )]
    pub public_urls: Vec<PublicUrl>,

    /// The most websockets (logs, terminals, events, stats) one user may have open at once.
    #[arg(long, env = "BERTH_MAX_WEBSOCKETS_PER_USER", default_value_t = 64)]
    pub max_websockets_per_user: usize,

    /// A connection that has not sent a complete request head this many seconds after it
    /// opened (or after its previous request) is closed: slow or idle clients hold nothing.
    #[arg(long, env = "BERTH_HEADER_TIMEOUT_SECONDS", default_value_t = 15,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub header_timeout_seconds: u64,

    /// A request body that sends nothing for this many seconds is ended with 408. A body
    /// that keeps flowing (a long upload) may take as long as it needs.
    #[arg(long, env = "BERTH_BODY_IDLE_SECONDS", default_value_t = 30,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub body_idle_seconds: u64,

    /// Ask the registries whether the images of the local daemon's containers have moved on
    /// every this many minutes (0: only when someone looks at `/api/updates`).
    #[arg(long, env = "BERTH_UPDATE_CHECK_MINUTES", default_value_t = 360)]
    pub update_check_minutes: u64,
}

/// One `--public-url`: scheme, host and port (the path, if any, does not matter).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicUrl {
    pub https: bool,
    /// Lower case; an IPv6 address in brackets.
    pub host: String,
    pub port: u16,
}

impl PublicUrl {
    pub fn parse(text: &str) -> Result<PublicUrl, String> {
        let bad =
            |why: &str| format!("--public-url {text:?}: {why} (e.g. https://berth.example.com)");
        let uri: http::Uri = text.trim().parse().map_err(|_| bad("not a URL"))?;
        let https = match uri.scheme_str() {
            Some(s) if s.eq_ignore_ascii_case("https") => true,
            Some(s) if s.eq_ignore_ascii_case("http") => false,
            _ => return Err(bad("it needs http:// or https://")),
        };
        let authority = uri.authority().ok_or_else(|| bad("it has no host"))?;
        if authority.as_str().contains('@') {
            return Err(bad("it must not carry a user or password"));
        }
        let host = authority.host().to_ascii_lowercase();
        if host.is_empty() {
            return Err(bad("it has no host"));
        }
        let port = authority.port_u16().unwrap_or(if https { 443 } else { 80 });
        Ok(PublicUrl { https, host, port })
    }

    /// Whether a `Host` header (`name`, `name:port`, `[v6]:port`) names this URL's host.
    pub fn matches_host(&self, host: &str) -> bool {
        // A `Host` never carries user info; `user@name` is somebody playing.
        if host.contains('@') {
            return false;
        }
        let Ok(authority) = host.trim().parse::<http::uri::Authority>() else {
            return false;
        };
        let port = authority
            .port_u16()
            .unwrap_or(if self.https { 443 } else { 80 });
        authority.host().eq_ignore_ascii_case(&self.host) && port == self.port
    }

    /// Whether an `Origin` header names this URL's origin.
    pub fn matches_origin(&self, origin: &str) -> bool {
        PublicUrl::parse(origin).is_ok_and(|o| o == *self)
    }

    /// The `Host` header a request for this URL carries.
    pub fn host_header(&self) -> String {
        let default = if self.https { 443 } else { 80 };
        if self.port == default {
            self.host.clone()
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

impl std::fmt::Display for PublicUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let scheme = if self.https { "https" } else { "http" };
        write!(f, "{scheme}://{}", self.host_header())
    }
}

/// `--volume-access`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum VolumeAccess {
    Auto,
    Direct,
    Daemon,
}
