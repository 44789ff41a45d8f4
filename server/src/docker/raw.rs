//! A plain connection to a daemon, for what berth speaks itself instead of through bollard:
//! the Docker API passed through (`crate::dockerapi`), hijacked streams included. It dials
//! as every other call does (unix, tcp, mutual TLS or ssh: `docker::transport`).

use super::Endpoint;
use crate::error::AppResult;

pub use super::transport::Io;

/// Connect to `ep`'s daemon; the stream and the `Host` header to send on it. A daemon that
/// cannot be reached (or is down or paused) is `AppError::DockerUnavailable`.
pub async fn connect(ep: &Endpoint) -> AppResult<(Box<dyn Io>, String)> {
    Ok((ep.dial().await?, "docker".into()))
}
