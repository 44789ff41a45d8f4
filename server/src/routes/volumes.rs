//! `/api/volumes`: list, create, inspect, remove, prune. (Browsing a volume's files is
//! `routes::volume_files`.)

use std::collections::HashMap;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::Value;
use utoipa_axum::{router::OpenApiRouter, routes};
use wire::Role;

use super::networks::{MaybeJson, PruneBody};
use crate::auth::policy::{self, resolve::no_such_volume};
use crate::auth::CurrentUser;
use crate::docker::{volumes, Daemon, Endpoint};
use crate::error::{AppResult, JsonBody, PathArgs, QueryArgs};
use crate::state::AppState;
use crate::store::audit;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(inspect, remove))
        .routes(routes!(prune))
}

/// Check the user may reach a volume with `role`.
async fn reach(user: &CurrentUser, ep: &Endpoint, name: &str, role: Role) -> AppResult<()> {
    user.require(role)?;
    let v = volumes::inspect_raw(ep, name).await?;
    let labels = v.labels.into_iter().collect();
    if user.can_see_map(&labels) {
        Ok(())
    } else {
        Err(no_such_volume(name))
    }
}

#[derive(Debug, Deserialize)]
pub struct ListQuery {
    /// Measure each volume (slower: the daemon walks them).
    #[serde(default)]
    size: bool,
}

/// Volumes with the containers that use each (and sizes with `size=true`).
#[utoipa::path(get, path = "/api/volumes", tag = "volumes",
    params(("size" = Option<bool>, Query, description = "measure each volume")),
    responses((status = 200, description = "the volumes", body = Vec<wire::VolumeSummary>)))]
pub async fn list(
    user: CurrentUser,
    daemon: Daemon,
    QueryArgs(q): QueryArgs<ListQuery>,
) -> AppResult<Json<Vec<wire::VolumeSummary>>> {
    let mut rows = volumes::list(&daemon, q.size).await?;
    rows.retain(|v| user.can_see_map(&v.labels));
    Ok(Json(rows))
}

/// `docker volume create` (driver, options, labels). Options that reach the host are admin's.
#[utoipa::path(post, path = "/api/volumes", tag = "volumes",
    request_body = wire::CreateVolume,
    responses((status = 201, description = "`{\"name\"}`"), (status = 400, description = "bad name"),
              (status = 403, description = "host-reaching options")))]
pub async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    daemon: Daemon,
    JsonBody(req): JsonBody<wire::CreateVolume>,
) -> AppResult<(StatusCode, Json<Value>)> {
    let res = audit::audited(&state.db, &user, "volume_create", &req.name, async {
        volumes::check_name(&req.name)?;
        let opts: HashMap<String, String> = req.options.clone().into_iter().collect();
        policy::check_volume_create(&user, req.driver.as_deref(), &opts)?;
        let labels = policy::own_labels(&user, req.labels.clone(), req.team.as_deref())?;
        volumes::create(&daemon, &req, labels).await
    })
    .await;
    Ok((
        StatusCode::CREATED,
        Json(serde_json::json!({ "name": res? })),
    ))
}

/// `docker volume inspect`.
#[utoipa::path(get, path = "/api/volumes/{name}", tag = "volumes",
    params(("name" = String, Path, description = "volume name")),
    responses((status = 200, description = "the daemon's inspect JSON"), (status = 404, description = "no such volume")))]
pub async fn inspect(
    user: CurrentUser,
    daemon: Daemon,
    PathArgs(name): PathArgs<String>,
) -> AppResult<Json<Value>> {
    reach(&user, &daemon, &name, Role::Viewer).await?;
    Ok(Json(volumes::inspect(&daemon, &name).await?))
}

#[derive(Debug, Deserialize)]
pub struct RemoveQuery {
    #[serde(default)]
    force: bool,
}

/// `docker volume rm [-f]`.
#[utoipa::path(delete, path = "/api/volumes/{name}", tag = "volumes",
    params(("name" = String, Path, description = "volume name"),
           ("force" = Option<bool>, Query, description = "remove even if in use")),
    responses((status = 204, description = "removed"), (status = 409, description = "in use")))]
pub async fn remove(
    State(state): State<AppState>,
    user: CurrentUser,
    daemon: Daemon,
    PathArgs(name): PathArgs<String>,
    QueryArgs(q): QueryArgs<RemoveQuery>,
) -> AppResult<StatusCode> {
    let res = audit::audited(&state.db, &user, "volume_remove", &name, async {
        reach(&user, &daemon, &name, Role::Operator).await?;
        volumes::remove(&daemon, &name, q.force).await
    })
    .await;
    res.map(|()| StatusCode::NO_CONTENT)
}

/// `docker volume prune [--filter label=..]` (admin).
#[utoipa::path(post, path = "/api/volumes/prune", tag = "volumes",
    request_body = PruneBody,
    responses((status = 200, description = "what was removed and the space reclaimed", body = wire::Pruned)))]
pub async fn prune(
    State(state): State<AppState>,
    user: CurrentUser,
    daemon: Daemon,
    MaybeJson(body): MaybeJson<PruneBody>,
) -> AppResult<Json<wire::Pruned>> {
    let labels = body.labels;
    let res = audit::audited(&state.db, &user, "volume_prune", &labels.join(","), async {
        user.require(Role::Admin)?;
        volumes::prune(&daemon, &labels).await
    })
    .await;
    res.map(Json)
}
