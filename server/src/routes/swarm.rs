//! `/api/swarm` and `/api/nodes`: the cluster of the environment's manager. Everyone who
//! may use the environment sees the cluster and its nodes; changing them is the admin's
//! (nodes are the cluster's machines, not a team's). A daemon that is not a manager
//! answers 409 `not_a_swarm_manager`.

use std::collections::HashMap;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use bollard::models::{Node, NodeSpecAvailabilityEnum, NodeSpecRoleEnum, SwarmInitRequest};
use bollard::query_parameters::{DeleteNodeOptions, UpdateNodeOptions};
use serde::Deserialize;
use serde_json::Value;
use utoipa_axum::{router::OpenApiRouter, routes};
use wire::Role;

use crate::auth::CurrentUser;
use crate::docker::{swarm, Daemon};
use crate::error::{AppError, AppResult, JsonBody, PathArgs, QueryArgs};
use crate::state::AppState;
use crate::store::audit;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(summary))
        .routes(routes!(init))
        .routes(routes!(rotate))
        .routes(routes!(nodes))
        .routes(routes!(update_node, remove_node))
}

fn node_row(n: Node) -> wire::NodeSummary {
    let desc = n.description.unwrap_or_default();
    let res = desc.resources.unwrap_or_default();
    let spec = n.spec.unwrap_or_default();
    let status = n.status.unwrap_or_default();
    let manager = n.manager_status;
    wire::NodeSummary {
        id: n.id.unwrap_or_default(),
        hostname: desc.hostname.unwrap_or_default(),
        role: spec.role.map(|r| r.to_string()).unwrap_or_default(),
        availability: spec.availability.map(|a| a.to_string()).unwrap_or_default(),
        state: status.state.map(|s| s.to_string()).unwrap_or_default(),
        addr: status.addr.filter(|a| !a.is_empty()),
        engine_version: desc.engine.and_then(|e| e.engine_version),
        leader: manager.as_ref().and_then(|m| m.leader).unwrap_or(false),
        reachability: manager.and_then(|m| m.reachability).map(|r| r.to_string()),
        cpus: res.nano_cpus.unwrap_or(0) as f64 / 1e9,
        memory_bytes: res.memory_bytes.unwrap_or(0),
        labels: spec.labels.unwrap_or_default().into_iter().collect(),
    }
}

async fn list_nodes(ep: &crate::docker::Endpoint) -> AppResult<Vec<Node>> {
    swarm::call(ep, |d| async move {
        d.list_nodes(None::<bollard::query_parameters::ListNodesOptions>)
            .await
    })
    .await
}

/// The cluster: nodes, managers, the leader, CPU and memory totals; join tokens for admins.
#[utoipa::path(get, path = "/api/swarm", tag = "swarm",
    responses((status = 200, description = "the cluster", body = wire::SwarmSummary),
              (status = 409, description = "not_a_swarm_manager")))]
pub async fn summary(user: CurrentUser, daemon: Daemon) -> AppResult<Json<wire::SwarmSummary>> {
    user.require(Role::Viewer)?;
    let s = swarm::call(&daemon, |d| async move { d.inspect_swarm().await }).await?;
    let nodes: Vec<wire::NodeSummary> = list_nodes(&daemon)
        .await?
        .into_iter()
        .map(node_row)
        .collect();
    let join_tokens = (user.role == Role::Admin)
        .then_some(s.join_tokens)
        .flatten()
        .map(|t| wire::JoinTokens {
            worker: t.worker.unwrap_or_default(),
            manager: t.manager.unwrap_or_default(),
        });
    Ok(Json(wire::SwarmSummary {
        id: s.id.unwrap_or_default(),
        created: s.created_at,
        nodes: nodes.len() as u32,
        managers: nodes.iter().filter(|n| n.role == "manager").count() as u32,
        leader: nodes.iter().find(|n| n.leader).map(|n| n.hostname.clone()),
        cpus: nodes.iter().map(|n| n.cpus).sum(),
        memory_bytes: nodes.iter().map(|n| n.memory_bytes).sum(),
        join_tokens,
    }))
}

/// `docker swarm init` on the environment's daemon (admin).
#[utoipa::path(post, path = "/api/swarm/init", tag = "swarm",
    request_body = wire::SwarmInit,
    responses((status = 201, description = "`{\"node_id\"}`"),
              (status = 409, description = "already part of a swarm")))]
pub async fn init(
    State(state): State<AppState>,
    user: CurrentUser,
    daemon: Daemon,
    JsonBody(req): JsonBody<wire::SwarmInit>,
) -> AppResult<(StatusCode, Json<Value>)> {
    user.require(Role::Admin)?;
    let res = audit::audited(&state.db, &user, "swarm_init", &daemon.name, async {
        let body = SwarmInitRequest {
            listen_addr: Some(
                req.listen_addr
                    .clone()
                    .filter(|a| !a.is_empty())
                    .unwrap_or_else(|| "0.0.0.0:2377".into()),
            ),
            advertise_addr: req.advertise_addr.clone().filter(|a| !a.is_empty()),
            ..Default::default()
        };
        daemon
            .call(|d| async move { d.init_swarm(body).await })
            .await
            .map_err(|e| match e {
                // 503 "This node is already part of a swarm."
                AppError::Docker(m) if m.contains("already part of a swarm") => {
                    AppError::Conflict(m)
                }
                other => other,
            })
    })
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(serde_json::json!({ "node_id": res })),
    ))
}

/// New join tokens for workers, managers or both (admin): after a token leaked, or to
/// close the door behind the last node that joined. Nodes already in the swarm stay.
#[utoipa::path(post, path = "/api/swarm/rotate", tag = "swarm",
    request_body = wire::SwarmRotate,
    responses((status = 200, description = "the join tokens now", body = wire::JoinTokens),
              (status = 400, description = "neither worker nor manager asked for"),
              (status = 403, description = "not an admin"),
              (status = 409, description = "not_a_swarm_manager")))]
pub async fn rotate(
    State(state): State<AppState>,
    user: CurrentUser,
    daemon: Daemon,
    JsonBody(req): JsonBody<wire::SwarmRotate>,
) -> AppResult<Json<wire::JoinTokens>> {
    user.require(Role::Admin)?;
    if !req.worker && !req.manager {
        return Err(AppError::bad_request(
            "nothing_to_rotate",
            "say which join token to rotate: {\"worker\": true}, {\"manager\": true} or both",
        ));
    }
    let what = match (req.worker, req.manager) {
        (true, true) => "worker+manager",
        (true, false) => "worker",
        _ => "manager",
    };
    let tokens = audit::audited(&state.db, &user, "swarm_rotate", what, async {
        swarm::rotate_join_tokens(&daemon, req.worker, req.manager).await?;
        swarm::call(&daemon, |d| async move { d.inspect_swarm().await }).await
    })
    .await?
    .join_tokens
    .unwrap_or_default();
    Ok(Json(wire::JoinTokens {
        worker: tokens.worker.unwrap_or_default(),
        manager: tokens.manager.unwrap_or_default(),
    }))
}

/// The cluster's nodes (`docker node ls`).
#[utoipa::path(get, path = "/api/nodes", tag = "swarm",
    responses((status = 200, description = "the nodes", body = Vec<wire::NodeSummary>),
              (status = 409, description = "not_a_swarm_manager")))]
pub async fn nodes(user: CurrentUser, daemon: Daemon) -> AppResult<Json<Vec<wire::NodeSummary>>> {
    user.require(Role::Viewer)?;
    let mut rows: Vec<wire::NodeSummary> = list_nodes(&daemon)
        .await?
        .into_iter()
        .map(node_row)
        .collect();
    rows.sort_by(|a, b| a.hostname.cmp(&b.hostname));
    Ok(Json(rows))
}

/// Availability (`active`, `pause`, `drain`), role (promote/demote) and labels (admin).
#[utoipa::path(patch, path = "/api/nodes/{id}", tag = "swarm",
    params(("id" = String, Path, description = "node id or host name")),
    request_body = wire::NodeUpdate,
    responses((status = 200, description = "the node", body = wire::NodeSummary),
              (status = 400, description = "bad field"), (status = 404, description = "no such node")))]
pub async fn update_node(
    State(state): State<AppState>,
    user: CurrentUser,
    daemon: Daemon,
    PathArgs(id): PathArgs<String>,
    JsonBody(req): JsonBody<wire::NodeUpdate>,
) -> AppResult<Json<wire::NodeSummary>> {
    user.require(Role::Admin)?;
    let availability = match req.availability.as_deref() {
        None => None,
        Some("active") => Some(NodeSpecAvailabilityEnum::ACTIVE),
        Some("pause") => Some(NodeSpecAvailabilityEnum::PAUSE),
        Some("drain") => Some(NodeSpecAvailabilityEnum::DRAIN),
        Some(other) => {
            return Err(AppError::bad_request(
                "invalid_availability",
                format!("availability: {other:?} is not active, pause or drain"),
            ))
        }
    };
    let role = match req.role.as_deref() {
        None => None,
        Some("manager") => Some(NodeSpecRoleEnum::MANAGER),
        Some("worker") => Some(NodeSpecRoleEnum::WORKER),
        Some(other) => {
            return Err(AppError::bad_request(
                "invalid_role",
                format!("role: {other:?} is not manager or worker"),
            ))
        }
    };
    let res = audit::audited(&state.db, &user, "node_update", &id, async {
        let n = id.clone();
        let node = swarm::call(&daemon, |d| async move { d.inspect_node(&n).await }).await?;
        let node_id = node.id.clone().unwrap_or_default();
        let version = node
            .version
            .as_ref()
            .and_then(|v| v.index)
            .unwrap_or_default() as i64;
        let mut spec = node.spec.clone().unwrap_or_default();
        if availability.is_some() {
            spec.availability = availability;
        }
        if role.is_some() {
            spec.role = role;
        }
        if let Some(labels) = req.labels.clone() {
            spec.labels = Some(labels.into_iter().collect::<HashMap<_, _>>());
        }
        let nid = node_id.clone();
        swarm::call(&daemon, |d| async move {
            d.update_node(&nid, spec, UpdateNodeOptions { version })
                .await
        })
        .await?;
        swarm::call(&daemon, |d| async move { d.inspect_node(&node_id).await }).await
    })
    .await?;
    Ok(Json(node_row(res)))
}

#[derive(Debug, Deserialize)]
pub struct RemoveQuery {
    /// Remove a node that is not down (`docker node rm --force`).
    #[serde(default)]
    force: bool,
}

/// `docker node rm` (admin): a node that is down, or any with `force=true`.
#[utoipa::path(delete, path = "/api/nodes/{id}", tag = "swarm",
    params(("id" = String, Path, description = "node id or host name"),
           ("force" = Option<bool>, Query, description = "remove a node that is not down")),
    responses((status = 204, description = "removed"), (status = 404, description = "no such node"),
              (status = 409, description = "the node is not down")))]
pub async fn remove_node(
    State(state): State<AppState>,
    user: CurrentUser,
    daemon: Daemon,
    PathArgs(id): PathArgs<String>,
    QueryArgs(q): QueryArgs<RemoveQuery>,
) -> AppResult<StatusCode> {
    user.require(Role::Admin)?;
    audit::audited(&state.db, &user, "node_remove", &id, async {
        let n = id.clone();
        swarm::call(&daemon, |d| async move {
            d.delete_node(&n, Some(DeleteNodeOptions { force: q.force }))
                .await
        })
        .await
        .map_err(|e| match e {
            // 400 "node … is not down and can't be removed"
            AppError::BadRequest { message, .. } if message.contains("is not down") => {
                AppError::Conflict(format!(
                    "{message}: drain it and stop its daemon first, or remove it with force=true"
                ))
            }
            other => other,
        })
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
