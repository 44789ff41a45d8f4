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
use crate::docker::Daemon;
use crate::error::{AppError, AppResult, PathArgs, QueryArgs};
use crate::jobs::{self, Submitted};
use crate::state::AppState;
use crate::store::audit;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(update))
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
        crate::updates::check(&state, &user, &daemon, q.refresh).await?,
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
    let started = audit::audited(&state.db, &user, "container_update", &id, async {
        user.require(Role::Operator)?;
        let name = jobs::container::target_name(Policy::new(&user, &ep, &state.db), &id).await?;
        let settle = q.settle.unwrap_or(5).min(600);
        let spec = jobs::Spec {
            kind: "container",
            target: name.clone(),
            endpoint: ep.name.clone(),
            webhook: None,
            user: Some(user.username.clone()),
            params: serde_json::json!(["update", settle]).to_string(),
        };
        let work = {
            let state = state.clone();
            let user = user.clone();
            move |live: Arc<jobs::Live>| async move {
                let (progress, pump) = live.progress();
                let plan = jobs::container::Plan {
                    tag: None,
                    pull: true,
                    window: Duration::from_secs(settle),
                };
                let res = jobs::container::redeploy(
                    &state,
                    Policy::new(&user, &ep, &state.db),
                    &name,
                    plan,
                    &progress,
                )
                .await;
                drop(progress);
                let _ = pump.await;
                audit::outcome(&state.db, &user, "container_update_done", &name, &res).await;
                res
            }
        };
        state.jobs.submit(&state.db, spec, work).ok_or_else(|| {
            AppError::coded(
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_jobs",
                "deploys of this container are queued already: wait for one to end",
            )
        })
    })
    .await?;
    let (job, joined) = match started {
        Submitted::New(j) => (j, false),
        Submitted::Joined(j) => (j, true),
    };
    let url = format!(
        "{}/api/jobs/{job}",
        super::webhooks::base_url(&state, &headers)
    );
    Ok((
        StatusCode::ACCEPTED,
        Json(wire::JobStarted { job, url, joined }),
    ))
}
