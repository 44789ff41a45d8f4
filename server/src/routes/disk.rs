//! `GET /api/system/df` and `POST /api/system/prune` (with `dry_run` for the preview).

use axum::extract::State;
use axum::Json;
use utoipa_axum::{router::OpenApiRouter, routes};
use wire::Role;

use super::networks::MaybeJson;
use crate::auth::CurrentUser;
use crate::docker::{disk, Daemon};
use crate::error::AppResult;
use crate::state::AppState;
use crate::store::audit;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(df))
        .routes(routes!(prune))
}

/// `docker system df`: images, containers, volumes, build cache.
#[utoipa::path(get, path = "/api/system/df", tag = "system",
    responses((status = 200, description = "count, size and reclaimable space of each", body = wire::DiskUsage)))]
pub async fn df(_user: CurrentUser, daemon: Daemon) -> AppResult<Json<wire::DiskUsage>> {
    Ok(Json(disk::df(&daemon).await?))
}

/// `docker system prune [-a] [--volumes] [--filter label=..]` (admin). `{"dry_run": true}`
/// answers what would go, removing nothing.
#[utoipa::path(post, path = "/api/system/prune", tag = "system",
    request_body = wire::SystemPrune,
    responses((status = 200, description = "what was (or would be) removed and the space reclaimed", body = wire::SystemPruned),
              (status = 403, description = "not an admin")))]
pub async fn prune(
    State(state): State<AppState>,
    user: CurrentUser,
    daemon: Daemon,
    MaybeJson(req): MaybeJson<wire::SystemPrune>,
) -> AppResult<Json<wire::SystemPruned>> {
    user.require(Role::Admin)?;
    if req.dry_run {
        return Ok(Json(disk::preview(&daemon, &req).await?));
    }
    let res = disk::prune(&daemon, &req).await;
    let target = format!(
        "volumes={} all={} labels={}",
        req.volumes,
        req.all,
        req.labels.join(",")
    );
    audit::outcome(&state.db, &user, "system_prune", &target, &res).await;
    res.map(Json)
}
