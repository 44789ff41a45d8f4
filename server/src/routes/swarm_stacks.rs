//! Swarm stacks under `/api/stacks`: `POST` with `"mode":"swarm"` deploys a compose file
//! as `docker stack deploy` does; list, detail, `PUT` (redeploy, updating only what
//! changed), `DELETE` (`docker stack rm`) and `GET .../tasks` (`docker stack ps`). The
//! compose routes in `stacks.rs` hand a swarm stack over to these; actions that only
//! make sense for containers answer 409 `swarm_stack`, saying what to do instead.
//!
//! A stack berth deployed keeps its files in the data dir (marked `swarm`); one the docker
//! CLI deployed is found by its services' `com.docker.stack.namespace` label.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use bollard::models::Service;
use utoipa_axum::{router::OpenApiRouter, routes};
use wire::{EnvStatus, Role};

use crate::auth::access::TEAM_LABEL;
use crate::auth::policy::{self, resolve::Policy};
use crate::auth::CurrentUser;
use crate::docker::stack_up::Progress;
use crate::docker::{stacks as dstacks, swarm_stack as engine, Daemon, Endpoint};
use crate::error::{AppError, AppResult, PathArgs};
use crate::stacks::files::{self, StackFiles};
use crate::stacks::{check_name, swarm};
use crate::state::AppState;
use crate::store::audit;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(tasks))
}

/// The code of a compose-only action asked of a swarm stack.
pub const SWARM_STACK: &str = "swarm_stack";

/// `compose` or `swarm` from a create request; 400 `invalid_mode` otherwise.
pub fn is_swarm(req: &wire::CreateStack) -> AppResult<bool> {
    match req.mode.as_deref() {
        None | Some("compose") => Ok(false),
        Some("swarm") if req.git.is_some() => Err(AppError::bad_request(
            "invalid_mode",
            "mode: a Git stack deploys with compose; for a swarm stack send the file's text (compose) with \"mode\":\"swarm\"",
        )),
        Some("swarm") => Ok(true),
        Some(other) => Err(AppError::bad_request(
            "invalid_mode",
            format!("mode: {other:?} is not compose or swarm"),
        )),
    }
}

fn no_stack(name: &str) -> AppError {
    AppError::NotFound(format!("no stack named {name}"))
}

/// Whether the host may be a manager now (before its first check, it may).
fn maybe_manager(ep: &Endpoint) -> bool {
    let h = ep.health();
    h.swarm || h.status != EnvStatus::Up
}

/// The services of swarm stack `name` if it is one the user reaches with `role`; `None`
/// when `name` is no swarm stack (a Compose one, or nothing). Another team's answers as
/// a missing one.
pub async fn find(
    user: &CurrentUser,
    ep: &Endpoint,
    name: &str,
    f: Option<&StackFiles>,
    role: Role,
) -> AppResult<Option<Vec<Service>>> {
    let svcs = match f {
        Some(f) if f.meta.swarm => {
            if !dstacks::visible(user, f.meta.team.as_deref(), false) {
                return Err(no_stack(name));
            }
            engine::services_if_manager(ep, Some(name)).await?
        }
        Some(_) => return Ok(None),
        None if !maybe_manager(ep) => return Ok(None),
        None => {
            let svcs = engine::services_if_manager(ep, Some(name)).await?;
            if svcs.is_empty() {
                return Ok(None);
            }
            if !svcs.iter().any(|s| user.can_see_map(&engine::labels_of(s))) {
                return Err(no_stack(name));
            }
            svcs
        }
    };
    user.require(role)?;
    // Services another team put under this namespace stay out of reach.
    if role != Role::Viewer && !svcs.iter().all(|s| user.can_see_map(&engine::labels_of(s))) {
        return Err(no_stack(name));
    }
    Ok(Some(
        svcs.into_iter()
            .filter(|s| user.can_see_map(&engine::labels_of(s)))
            .collect(),
    ))
}

/// 409 `swarm_stack` when `name` is a swarm stack: `what` is for Compose stacks.
pub async fn refuse_compose_only(
    user: &CurrentUser,
    ep: &Endpoint,
    name: &str,
    f: Option<&StackFiles>,
    what: &str,
) -> AppResult<()> {
    match find(user, ep, name, f, Role::Viewer).await? {
        None => Ok(()),
        Some(_) => Err(AppError::coded(
            StatusCode::CONFLICT,
            SWARM_STACK,
            format!(
                "stack {name} runs on the swarm: {what} is for Compose stacks. Redeploy it with \
                 PUT /api/stacks/{name} (its compose file), remove it with DELETE \
                 /api/stacks/{name}, see its tasks at GET /api/stacks/{name}/tasks, and scale, \
                 update or follow the logs of a service through /api/services/{{id}}"
            ),
        )),
    }
}

fn plan_of(name: &str, compose: &str, env: Option<&str>, f: &StackFiles) -> AppResult<swarm::Plan> {
    if compose.len() > files::MAX_FILE {
        return Err(AppError::TooLarge(format!(
            "the compose file is larger than {} bytes",
            files::MAX_FILE
        )));
    }
    swarm::plan(name, compose, env, &f.working_dir())
        .map_err(|e| AppError::bad_request("invalid_swarm_stack", e))
}

/// `POST /api/stacks` with `"mode":"swarm"`: decided in full before anything is made,
/// then deployed; the answer is the ndjson progress (with `"up": false`, saved only: the
/// stack, and a `PUT` deploys it).
pub async fn create(
    state: AppState,
    user: CurrentUser,
    ep: Arc<Endpoint>,
    req: wire::CreateStack,
) -> AppResult<Response> {
    let name = check_name(&req.name)?.to_owned();
    user.require(Role::Operator)?;
    let data = &state.config.data_dir;
    if files::read(data, &name).await?.is_some() {
        return Err(AppError::Conflict(format!("a stack named {name} exists")));
    }
    if !engine::services(&ep, Some(&name)).await?.is_empty() {
        return Err(AppError::Conflict(format!(
            "a swarm stack named {name} already has services on this swarm"
        )));
    }
    if !dstacks::containers(&ep, Some(&name)).await?.is_empty() {
        return Err(AppError::Conflict(format!(
            "a Compose project named {name} already has containers on this daemon"
        )));
    }
    let (compose, env, working_dir) = match &req.from_dir {
        Some(dir) => {
            user.require(Role::Admin)?;
            let (path, compose, env) = files::from_folder(dir).await?;
            (
                req.compose.clone().unwrap_or(compose),
                req.env.clone().or(env),
                Some(path),
            )
        }
        None => {
            let compose = req.compose.clone().ok_or_else(|| {
                AppError::bad_request(
                    "missing_compose",
                    "give compose (the file's text) or from_dir",
                )
            })?;
            (compose, req.env.clone(), None)
        }
    };
    let mut team_labels = Default::default();
    policy::stamp_team(&user, &mut team_labels, req.team.as_deref())?;
    let meta = files::Meta {
        team: team_labels.get(TEAM_LABEL).cloned(),
        working_dir,
        endpoint: (ep.name != crate::docker::LOCAL).then(|| ep.name.clone()),
        swarm: true,
    };
    let f = StackFiles {
        dir: files::dir(data, &name)?,
        compose,
        env,
        meta,
    };
    let decided = async {
        let plan = plan_of(&name, &f.compose, f.env.as_deref(), &f)?;
        let p = Policy::new(&user, &ep, &state.db);
        engine::prepare(&p, plan, f.meta.team.as_deref()).await
    }
    .await;
    if decided.is_err() {
        audit::outcome(&state.db, &user, "stack_create", &name, &decided).await;
    }
    let prepared = decided?;
    let f = files::write(data, &name, &f.compose, f.env.as_deref(), &f.meta).await?;
    if req.up == Some(false) {
        audit::outcome(&state.db, &user, "stack_create", &name, &Ok(())).await;
        let detail = detail_of(&name, Some(&f), &[]);
        return Ok((StatusCode::CREATED, Json(detail)).into_response());
    }
    let who = user.clone();
    let db = state.db.clone();
    Ok(crate::stacks::ops::stream(
        &state,
        &user,
        "stack_create",
        &name,
        StatusCode::CREATED,
        move |progress| async move {
            let p = Policy::new(&who, &ep, &db);
            engine::apply(&p, prepared, false, &progress)
                .await
                .map(|_| ())
        },
    ))
}

/// The rows of the swarm stacks the user may see: berth's (from their files) and every
/// other namespace on the manager. One services call for the whole host.
pub async fn list(
    ep: &Endpoint,
    user: &CurrentUser,
    managed: Vec<dstacks::Managed>,
) -> AppResult<Vec<wire::StackSummary>> {
    let all = if maybe_manager(ep) {
        engine::services_if_manager(ep, None).await?
    } else {
        vec![]
    };
    let mut by_stack: BTreeMap<String, Vec<Service>> = BTreeMap::new();
    for s in all {
        if let Some(ns) = engine::namespace_of(&s).filter(|n| !n.is_empty()) {
            by_stack.entry(ns).or_default().push(s);
        }
    }
    let summary = |name: &str, svcs: &[Service], managed: bool, team: Option<String>| {
        let rows: Vec<wire::SwarmStackService> =
            svcs.iter().map(|s| engine::row(name, s)).collect();
        wire::StackSummary {
            name: name.to_owned(),
            services: rows.iter().map(|r| r.service.clone()).collect(),
            status: engine::status_of(&rows),
            managed,
            containers: rows.iter().map(|r| r.desired as usize).sum(),
            running: rows.iter().map(|r| r.running as usize).sum(),
            team,
            mode: "swarm".into(),
            swarm_services: rows,
        }
    };
    let mut out = Vec::new();
    for m in managed {
        let svcs = by_stack.remove(&m.name).unwrap_or_default();
        if !dstacks::visible(user, m.team.as_deref(), false) {
            continue;
        }
        let mut row = summary(&m.name, &svcs, true, m.team.clone());
        // Services of the file not deployed (yet) are listed too.
        for s in m.services {
            if !row.services.contains(&s) {
                row.services.push(s);
            }
        }
        out.push(row);
    }
    for (name, svcs) in by_stack {
        if !svcs.iter().all(|s| user.can_see_map(&engine::labels_of(s))) {
            continue;
        }
        let team = svcs
            .iter()
            .find_map(|s| engine::labels_of(s).get(TEAM_LABEL).cloned())
            .filter(|t| !t.is_empty());
        out.push(summary(&name, &svcs, false, team));
    }
    Ok(out)
}

/// The detail of a swarm stack the user reached (`svcs` from [`find`]).
pub fn detail_of(name: &str, f: Option<&StackFiles>, svcs: &[Service]) -> wire::StackDetail {
    let rows: Vec<wire::SwarmStackService> = svcs.iter().map(|s| engine::row(name, s)).collect();
    let mut services: Vec<wire::ServiceState> = rows
        .iter()
        .map(|r| wire::ServiceState {
            service: r.service.clone(),
            image: Some(r.image.clone()),
            status: engine::status_of(std::slice::from_ref(r)),
            containers: vec![],
        })
        .collect();
    if let Some(plan) =
        f.and_then(|f| swarm::plan(name, &f.compose, f.env.as_deref(), &f.working_dir()).ok())
    {
        for s in plan.services {
            if !services.iter().any(|x| x.service == s.key) {
                services.push(wire::ServiceState {
                    service: s.key,
                    image: s
                        .spec
                        .task_template
                        .and_then(|t| t.container_spec)
                        .and_then(|c| c.image),
                    status: "down".into(),
                    containers: vec![],
                });
            }
        }
    }
    wire::StackDetail {
        name: name.to_owned(),
        managed: f.is_some(),
        status: engine::status_of(&rows),
        compose: f.map(|f| f.compose.clone()),
        env: f.and_then(|f| f.env.clone()),
        working_dir: f.map(|f| f.working_dir().to_string_lossy().into_owned()),
        team: f.and_then(|f| f.meta.team.clone()).or_else(|| {
            svcs.iter()
                .find_map(|s| engine::labels_of(s).get(TEAM_LABEL).cloned())
        }),
        services,
        git: None,
        mode: "swarm".into(),
        swarm_services: rows,
    }
}

/// `PUT /api/stacks/{name}` of a swarm stack: the new file is decided in full, saved, and
/// deployed; only the services whose spec changed are updated, and with `prune` the
/// services the file no longer has are removed (`docker stack deploy --prune`).
pub async fn save(
    state: &AppState,
    user: &CurrentUser,
    ep: &Endpoint,
    name: &str,
    f: StackFiles,
    req: wire::SaveStack,
    prune: bool,
) -> AppResult<wire::StackDetail> {
    let data = &state.config.data_dir;
    audit::audited(&state.db, user, "stack_save", name, async {
        find(user, ep, name, Some(&f), Role::Operator)
            .await?
            .ok_or_else(|| no_stack(name))?;
        let plan = plan_of(name, &req.compose, req.env.as_deref(), &f)?;
        let p = Policy::new(user, ep, &state.db);
        let prepared = engine::prepare(&p, plan, f.meta.team.as_deref()).await?;
        let f = files::write(data, name, &req.compose, req.env.as_deref(), &f.meta).await?;
        // Nobody reads this progress: the answer is the stack as it now is.
        let (tx, _) = tokio::sync::mpsc::channel(1);
        engine::apply(&p, prepared, prune, &Progress(tx)).await?;
        let svcs = engine::services(ep, Some(name)).await?;
        Ok(detail_of(name, Some(&f), &svcs))
    })
    .await
}

/// `DELETE /api/stacks/{name}` of a swarm stack (`docker stack rm`).
pub async fn delete(
    state: &AppState,
    user: &CurrentUser,
    ep: &Endpoint,
    name: &str,
    f: Option<&StackFiles>,
    svcs: Vec<Service>,
) -> AppResult<wire::StackDown> {
    audit::audited(&state.db, user, "stack_delete", name, async {
        let down = engine::remove(ep, name, &svcs).await?;
        if f.is_some() {
            files::remove(&state.config.data_dir, name).await?;
        }
        Ok(down)
    })
    .await
}

/// `docker stack ps`: every task of a swarm stack's services, with its node.
#[utoipa::path(get, path = "/api/stacks/{name}/tasks", tag = "stacks",
    params(("name" = String, Path, description = "stack name")),
    responses((status = 200, description = "the tasks", body = Vec<wire::TaskSummary>),
              (status = 404, description = "no such stack"),
              (status = 409, description = "a Compose stack (it has containers, not tasks)")))]
pub async fn tasks(
    State(state): State<AppState>,
    user: CurrentUser,
    daemon: Daemon,
    PathArgs(name): PathArgs<String>,
) -> AppResult<Response> {
    check_name(&name)?;
    let f = files::read_on(&state.config.data_dir, &name, &daemon.name).await?;
    match find(&user, &daemon, &name, f.as_ref(), Role::Viewer).await? {
        Some(svcs) => Ok(Json(engine::tasks(&daemon, &svcs).await?).into_response()),
        None => {
            // A Compose stack the user may see has containers, not tasks.
            crate::stacks::ops::access(&user, &daemon, &name, f.as_ref(), Role::Viewer).await?;
            Err(AppError::coded(
                StatusCode::CONFLICT,
                "compose_stack",
                format!(
                    "stack {name} is a Compose stack: its containers are in GET /api/stacks/{name}"
                ),
            ))
        }
    }
}
