//! A plain connection to a daemon's socket, for what berth speaks itself instead of through
//! bollard: followed logs ([`super::log_reader`]) and the Docker API passed through
//! (`crate::dockerapi`), hijacked streams included.

use std::io;

use tokio::io::{AsyncRead, AsyncWrite};

use super::Endpoint;
use crate::error::{AppError, AppResult};

/// A byte stream to a daemon.
pub trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// Connect to `ep`'s daemon; the stream and the `Host` header to send on it. A daemon that
/// cannot be reached is [`AppError::DockerUnavailable`].
pub async fn connect(ep: &Endpoint) -> AppResult<(Box<dyn Io>, String)> {
    let unavailable = |e: io::Error| AppError::DockerUnavailable(format!("{}: {e}", ep.host));
    if let Some(path) = unix_path(&ep.host) {
        let s = tokio::net::UnixStream::connect(path).await.map_err(|e| {
            if e.kind() == io::ErrorKind::NotFound {
                AppError::DockerUnavailable(format!("no socket at {path}"))
            } else {
                unavailable(e)
            }
        })?;
        Ok((Box::new(s), "docker".into()))
    } else if let Some(addr) = tcp_addr(&ep.host) {
        let s = tokio::net::TcpStream::connect(addr)
            .await
            .map_err(unavailable)?;
        let _ = s.set_nodelay(true);
        Ok((Box::new(s), addr.to_string()))
    } else {
        Err(AppError::DockerUnavailable(format!(
            "unsupported DOCKER_HOST {:?}",
            ep.host
        )))
    }
}

fn unix_path(host: &str) -> Option<&str> {
    host.strip_prefix("unix://")
        .or_else(|| host.starts_with('/').then_some(host))
}

fn tcp_addr(host: &str) -> Option<&str> {
    let rest = host
        .strip_prefix("tcp://")
        .or_else(|| host.strip_prefix("http://"))?;
    Some(rest.split('/').next().unwrap_or(rest))
}
