//! `docker info`, `docker version`, and the dashboard's summary.

use axum::Json;
use serde_json::Value;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::auth::CurrentUser;
use crate::docker::{system, Daemon};
use crate::error::AppResult;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(info))
        .routes(routes!(version))
        .routes(routes!(summary))
}

/// The daemon's `docker info`.
#[utoipa::path(get, path = "/api/system/info", tag = "system",
    responses((status = 200, description = "the daemon's info JSON"), (status = 503, description = "daemon unreachable")))]
pub async fn info(_user: CurrentUser, daemon: Daemon) -> AppResult<Json<Value>> {
    Ok(Json(system::info(&daemon).await?))
}

/// The daemon's `docker version`.
#[utoipa::path(get, path = "/api/system/version", tag = "system",
    responses((status = 200, description = "the daemon's version JSON"), (status = 503, description = "daemon unreachable")))]
pub async fn version(_user: CurrentUser, daemon: Daemon) -> AppResult<Json<Value>> {
    Ok(Json(system::version(&daemon).await?))
}

/// Engine version and counts of containers, images and volumes, for the dashboard.
#[utoipa::path(get, path = "/api/system/summary", tag = "system",
    responses((status = 200, description = "engine version and counts", body = wire::SystemSummary), (status = 503, description = "daemon unreachable")))]
pub async fn summary(_user: CurrentUser, daemon: Daemon) -> AppResult<Json<wire::SystemSummary>> {
    Ok(Json(system::summary(&daemon).await?))
}
