//! `docker info`, `docker version`, health and the dashboard summary.

use bollard::query_parameters::ListVolumesOptions;
use serde_json::Value;

use super::Endpoint;
use crate::error::{AppError, AppResult};

/// The daemon's `GET /info`, passed through as JSON.
pub async fn info(ep: &Endpoint) -> AppResult<Value> {
    let info = ep.call(|d| async move { d.info().await }).await?;
    serde_json::to_value(info).map_err(|e| AppError::Internal(e.into()))
}

/// The daemon's `GET /version`, passed through as JSON.
pub async fn version(ep: &Endpoint) -> AppResult<Value> {
    let version = ep.call(|d| async move { d.version().await }).await?;
    serde_json::to_value(version).map_err(|e| AppError::Internal(e.into()))
}

/// Health: whether the daemon answers, and which engine it is.
pub async fn health(ep: &Endpoint) -> wire::Health {
    match ep.call(|d| async move { d.version().await }).await {
        Ok(v) => wire::Health {
            status: "ok".into(),
            docker: wire::DockerHealth {
                reachable: true,
                version: v.version,
                api_version: v.api_version,
            },
        },
        Err(_) => wire::Health {
            status: "degraded".into(),
            docker: wire::DockerHealth {
                reachable: false,
                version: None,
                api_version: None,
            },
        },
    }
}

/// What the dashboard shows: three daemon calls made concurrently.
pub async fn summary(ep: &Endpoint) -> AppResult<wire::SystemSummary> {
    let (info, version, volumes) = tokio::try_join!(
        ep.call(|d| async move { d.info().await }),
        ep.call(|d| async move { d.version().await }),
        ep.call(|d| async move { d.list_volumes(None::<ListVolumesOptions>).await }),
    )?;
    Ok(wire::SystemSummary {
        version: version.version.unwrap_or_default(),
        api_version: version.api_version.unwrap_or_default(),
        os: info.operating_system.unwrap_or_default(),
        kernel: info.kernel_version.unwrap_or_default(),
        cpus: info.ncpu.unwrap_or_default(),
        memory: info.mem_total.unwrap_or_default(),
        containers: info.containers.unwrap_or_default(),
        running: info.containers_running.unwrap_or_default(),
        paused: info.containers_paused.unwrap_or_default(),
        stopped: info.containers_stopped.unwrap_or_default(),
        images: info.images.unwrap_or_default(),
        volumes: volumes.volumes.map(|v| v.len() as i64).unwrap_or_default(),
    })
}
