//! `/api/updates`: which containers' tags have moved on in their registries, and
//! `POST /api/containers/{id}/update`: a job that pulls, recreates health-gated, and rolls
//! back on failure (the same job queue as webhooks: one deploy of a target at a time).

use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use serde::Deserialize;
use utoipa_axum::{router::OpenApiRouter, routes};
use wire::Role;

use crate::auth::policy::resolve::Policy;
use crate::auth::CurrentUser;
use crate::docker::{Daemon, Endpoint};
use crate::error::{AppError, AppResult, PathArgs, QueryArgs};
use crate::jobs::{self, Submitted};
use crate::state::AppState;
use crate::store::audit;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(update))
        .routes(routes!(update_stack))
        .routes(routes!(apply))
}

#[derive(Debug, Deserialize)]
pub struct ListQuery {
    /// Ask the registries again instead of using answers of the last few minutes.
    #[serde(default)]
    refresh: bool,
}

/// Every container the caller may see, with its running and registry digests.
#[utoipa::path(get, path = "/api/updates", tag = "automation",
    params(("refresh" = Option<bool>, Query, description = "ask the registries again (answers are kept 5 minutes)")),
    responses((status = 200, description = "one row per container", body = Vec<wire::UpdateInfo>)))]
pub async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
    daemon: Daemon,
    QueryArgs(q): QueryArgs<ListQuery>,
) -> AppResult<Json<Vec<wire::UpdateInfo>>> {
    Ok(Json(
        crate::updates::check(&state, Some(&user), &daemon, q.refresh).await?,
    ))
}

#[derive(Debug, Deserialize)]
pub struct UpdateQuery {
    /// Seconds a container without a healthcheck must run without restarting (default 5).
    #[serde(default)]
    settle: Option<u64>,
}

/// Update a container to what its tag names in the registry now: pull, recreate, wait
/// until healthy (or running `settle` s without restarting), else roll back.
#[utoipa::path(post, path = "/api/containers/{id}/update", tag = "automation",
    params(("id" = String, Path, description = "container id, short id or name"),
           ("settle" = Option<u64>, Query, description = "seconds without a restart that count as up (default 5)")),
    responses((status = 202, description = "the job", body = wire::JobStarted),
              (status = 403, description = "not allowed"), (status = 404, description = "no such container"),
              (status = 409, description = "a container of a stack: update the stack")))]
pub async fn update(
    State(state): State<AppState>,
    user: CurrentUser,
    Daemon(ep): Daemon,
    headers: HeaderMap,
    PathArgs(id): PathArgs<String>,
    QueryArgs(q): QueryArgs<UpdateQuery>,
) -> AppResult<(StatusCode, Json<wire::JobStarted>)> {
    let settle = q.settle.unwrap_or(5).min(600);
    let started = audit::audited(&state.db, &user, "container_update", &id, async {
        user.require(Role::Operator)?;
        let name = jobs::container::target_name(Policy::new(&user, &ep, &state.db), &id).await?;
        queue_container(&state, &user, ep.clone(), name, settle)
    })
    .await?;
    Ok(super::jobs::started(&state, &headers, started))
}

/// Queue the update job of a standalone container (its name checked by the caller).
fn queue_container(
    state: &AppState,
    user: &CurrentUser,
    ep: Arc<Endpoint>,
    name: String,
    settle: u64,
) -> AppResult<Submitted> {
    let target = name.clone();
    let spec = jobs::Spec {
        kind: "container",
        target: name.clone(),
        endpoint: ep.name.clone(),
        webhook: None,
        user: Some(user.username.clone()),
        params: serde_json::json!(["update", settle]).to_string(),
    };
    let st = state.clone();
    let user = user.clone();
    let work = move |live: Arc<jobs::Live>| async move {
        let (progress, pump) = live.progress();
        let plan = jobs::container::Plan {
            tag: None,
            pull: true,
            window: Duration::from_secs(settle),
        };
        let policy = Policy::new(&user, &ep, &st.db);
        let res = jobs::container::redeploy(&st, policy, &name, plan, &progress).await;
        drop(progress);
        let _ = pump.await;
        audit::outcome(&st.db, &user, "container_update_done", &name, &res).await;
        res
    };
    state
        .jobs
        .submit(&state.db, spec, work)
        .ok_or_else(|| super::jobs::queue_full(&target))
}

/// Queue the update job of a stack berth manages: pull every service's image, `up` (only
/// what changed is recreated), health gate, roll back on failure.
fn queue_stack(
    state: &AppState,
    user: &CurrentUser,
    ep: Arc<Endpoint>,
    name: String,
    settle: u64,
) -> AppResult<Submitted> {
    let target = name.clone();
    let spec = jobs::Spec {
        kind: "stack",
        target: name.clone(),
        endpoint: ep.name.clone(),
        webhook: None,
        user: Some(user.username.clone()),
        params: serde_json::json!(["update", settle]).to_string(),
    };
    let st = state.clone();
    let user = user.clone();
    let work = move |live: Arc<jobs::Live>| async move {
        let (progress, pump) = live.progress();
        let plan = jobs::stack::Plan {
            variables: Default::default(),
            pull: true,
            window: Duration::from_secs(settle),
        };
        let policy = Policy::new(&user, &ep, &st.db);
        let res = jobs::stack::redeploy(&st, policy, &name, plan, &progress).await;
        drop(progress);
        let _ = pump.await;
        audit::outcome(&st.db, &user, "stack_update_done", &name, &res).await;
        res
    };
    state
        .jobs
        .submit(&state.db, spec, work)
        .ok_or_else(|| super::jobs::queue_full(&target))
}

/// A stack the user may deploy and berth keeps files for.
async fn stack_target(
    state: &AppState,
    user: &CurrentUser,
    ep: &Endpoint,
    name: &str,
) -> AppResult<String> {
    let name = crate::stacks::check_name(name)?;
    let f = crate::stacks::files::read(&state.config.data_dir, name).await?;
    crate::stacks::ops::access(user, ep, name, f.as_ref(), Role::Operator).await?;
    if f.is_none() {
        return Err(AppError::Conflict(format!(
            "berth keeps no compose file for {name}: update it where it was deployed from"
        )));
    }
    Ok(name.to_owned())
}

/// Update a stack berth manages: pull, recreate what changed, health gate, roll back.
#[utoipa::path(post, path = "/api/stacks/{name}/update", tag = "automation",
    params(("name" = String, Path, description = "stack name"),
           ("settle" = Option<u64>, Query, description = "seconds without a restart that count as up (default 5)")),
    responses((status = 202, description = "the job", body = wire::JobStarted),
              (status = 403, description = "not allowed"), (status = 404, description = "no such stack"),
              (status = 409, description = "a stack berth keeps no files for")))]
pub async fn update_stack(
    State(state): State<AppState>,
    user: CurrentUser,
    Daemon(ep): Daemon,
    headers: HeaderMap,
    PathArgs(name): PathArgs<String>,
    QueryArgs(q): QueryArgs<UpdateQuery>,
) -> AppResult<(StatusCode, Json<wire::JobStarted>)> {
    let settle = q.settle.unwrap_or(5).min(600);
    let started = audit::audited(&state.db, &user, "stack_update", &name, async {
        let name = stack_target(&state, &user, &ep, &name).await?;
        queue_stack(&state, &user, ep.clone(), name, settle)
    })
    .await?;
    Ok(super::jobs::started(&state, &headers, started))
}

/// Update everything of this daemon that has an update, of what the caller may deploy:
/// one job per standalone container, one per stack berth manages. What cannot be queued is
/// answered with why, not skipped.
#[utoipa::path(post, path = "/api/updates/apply", tag = "automation",
    params(("settle" = Option<u64>, Query, description = "seconds without a restart that count as up (default 5)")),
    responses((status = 200, description = "a job, or why not, per target", body = Vec<wire::UpdateQueued>)))]
pub async fn apply(
    State(state): State<AppState>,
    user: CurrentUser,
    Daemon(ep): Daemon,
    headers: HeaderMap,
    QueryArgs(q): QueryArgs<UpdateQuery>,
) -> AppResult<Json<Vec<wire::UpdateQueued>>> {
    user.require(Role::Operator)?;
    let settle = q.settle.unwrap_or(5).min(600);
    let rows = crate::updates::check(&state, Some(&user), &ep, true).await?;
    let mut stacks = std::collections::BTreeSet::new();
    let mut out = Vec::new();
    for r in rows.into_iter().filter(|r| r.update_available) {
        let (kind, target, res) = match &r.stack {
            Some(s) if !stacks.insert(s.clone()) => continue,
            Some(s) => {
                let res = async {
                    let name = stack_target(&state, &user, &ep, s).await?;
                    queue_stack(&state, &user, ep.clone(), name, settle)
                }
                .await;
                ("stack", s.clone(), res)
            }
            None => {
                let res = async {
                    let policy = Policy::new(&user, &ep, &state.db);
                    let name = jobs::container::target_name(policy, &r.container).await?;
                    queue_container(&state, &user, ep.clone(), name, settle)
                }
                .await;
                ("container", r.name.clone(), res)
            }
        };
        let action = if kind == "stack" {
            "stack_update"
        } else {
            "container_update"
        };
        audit::outcome(&state.db, &user, action, &target, &res).await;
        out.push(match res {
            Ok(started) => wire::UpdateQueued {
                kind: kind.into(),
                target,
                job: Some(super::jobs::started(&state, &headers, started).1 .0),
                error: None,
            },
            Err(e) => wire::UpdateQueued {
                kind: kind.into(),
                target,
                job: None,
                error: Some(e.body().error),
            },
        });
    }
    Ok(Json(out))
}
