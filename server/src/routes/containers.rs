//! `/api/containers`: list, inspect, lifecycle, remove.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::Value;
use utoipa_axum::{router::OpenApiRouter, routes};
use wire::Role;

use crate::auth::{access, CurrentUser};
use crate::docker::containers::{self, Action};
use crate::docker::Daemon;
use crate::error::{AppResult, PathArgs, QueryArgs};
use crate::state::AppState;
use crate::store::audit;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(inspect, remove))
        .routes(routes!(act))
}

#[derive(Debug, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    all: bool,
}

/// `docker ps [-a]`.
#[utoipa::path(get, path = "/api/containers", tag = "containers",
    params(("all" = Option<bool>, Query, description = "include stopped containers")),
    responses((status = 200, description = "the containers", body = Vec<wire::ContainerSummary>), (status = 503, description = "daemon unreachable")))]
pub async fn list(
    user: CurrentUser,
    daemon: Daemon,
    QueryArgs(q): QueryArgs<ListQuery>,
) -> AppResult<Json<Vec<wire::ContainerSummary>>> {
    let mut rows = containers::list(&daemon, q.all).await?;
    rows.retain(|c| user.can_see_map(&c.labels));
    Ok(Json(rows))
}

/// `docker inspect`.
#[utoipa::path(get, path = "/api/containers/{id}", tag = "containers",
    params(("id" = String, Path, description = "container id, short id or name")),
    responses((status = 200, description = "the daemon's inspect JSON"), (status = 404, description = "no such container")))]
pub async fn inspect(
    user: CurrentUser,
    daemon: Daemon,
    PathArgs(id): PathArgs<String>,
) -> AppResult<Json<Value>> {
    let c = access::container(&user, &daemon, &id, Role::Viewer).await?;
    Ok(Json(containers::inspect(&daemon, &c.id).await?))
}

#[derive(Debug, Deserialize)]
pub struct ActQuery {
    /// Seconds to wait before killing, for stop and restart.
    t: Option<i32>,
}

/// start, stop, restart, kill, pause or unpause.
#[utoipa::path(post, path = "/api/containers/{id}/{action}", tag = "containers",
    params(("id" = String, Path, description = "container id, short id or name"),
           ("action" = String, Path, description = "start, stop, restart, kill, pause or unpause"),
           ("t" = Option<i32>, Query, description = "stop/restart: seconds before SIGKILL")),
    responses((status = 204, description = "done"), (status = 404, description = "no such container"),
              (status = 409, description = "the container's state refuses it")))]
pub async fn act(
    State(state): State<AppState>,
    user: CurrentUser,
    daemon: Daemon,
    PathArgs((id, action)): PathArgs<(String, String)>,
    QueryArgs(q): QueryArgs<ActQuery>,
) -> AppResult<StatusCode> {
    let action = Action::parse(&action)?;
    let res = match access::container(&user, &daemon, &id, Role::Operator).await {
        Ok(c) => containers::act(&daemon, &c.id, action, q.t).await,
        Err(e) => Err(e),
    };
    audit::outcome(&state.db, &user, action.as_str(), &id, &res).await;
    res.map(|()| StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize)]
pub struct RemoveQuery {
    #[serde(default)]
    force: bool,
    #[serde(default)]
    volumes: bool,
}

/// `docker rm [-f] [-v]`.
#[utoipa::path(delete, path = "/api/containers/{id}", tag = "containers",
    params(("id" = String, Path, description = "container id, short id or name"),
           ("force" = Option<bool>, Query, description = "kill it first if running"),
           ("volumes" = Option<bool>, Query, description = "remove its anonymous volumes")),
    responses((status = 204, description = "removed"), (status = 404, description = "no such container"),
              (status = 409, description = "running, and force not given")))]
pub async fn remove(
    State(state): State<AppState>,
    user: CurrentUser,
    daemon: Daemon,
    PathArgs(id): PathArgs<String>,
    QueryArgs(q): QueryArgs<RemoveQuery>,
) -> AppResult<StatusCode> {
    let res = match access::container(&user, &daemon, &id, Role::Operator).await {
        Ok(c) => containers::remove(&daemon, &c.id, q.force, q.volumes).await,
        Err(e) => Err(e),
    };
    audit::outcome(&state.db, &user, "remove", &id, &res).await;
    res.map(|()| StatusCode::NO_CONTENT)
}
