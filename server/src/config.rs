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
}

/// `--volume-access`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum VolumeAccess {
    Auto,
    Direct,
    Daemon,
}
