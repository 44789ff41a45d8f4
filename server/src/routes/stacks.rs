//! `/api/stacks`: Compose stacks. Managed stacks keep their files in the data dir; projects
//! the compose CLI started are listed and can be stopped, restarted, followed and taken down.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use utoipa_axum::{router::OpenApiRouter, routes};
use wire::Role;

use crate::auth::policy::{self, resolve::Policy};
use crate::auth::CurrentUser;
use crate::docker::stack_up::{self, UpOptions};
use crate::docker::{stacks as dstacks, Daemon};
use crate::error::{AppError, AppResult, JsonBody, PathArgs, QueryArgs};
use crate::stacks::{check_name, files, ops};
use crate::state::AppState;
use crate::store::audit;

use super::swarm_stacks;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(validate))
        .routes(routes!(detail, save, delete))
        .routes(routes!(act))
}

/// Every stack the user may see: managed ones and Compose projects found on the daemon.
#[utoipa::path(get, path = "/api/stacks", tag = "stacks",
    responses((status = 200, description = "the stacks", body = Vec<wire::StackSummary>)))]
pub async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
    daemon: Daemon,
) -> AppResult<Json<Vec<wire::StackSummary>>> {
    let mut managed = Vec::new();
    let mut swarm_managed = Vec::new();
    for name in files::list(&state.config.data_dir).await? {
        if let Some(f) = files::read_on(&state.config.data_dir, &name, &daemon.name).await? {
            if f.meta.swarm {
                let services = crate::stacks::swarm::plan(
                    &name,
                    &f.compose,
                    f.env.as_deref(),
                    &f.working_dir(),
                )
                .map(|p| p.services.into_iter().map(|s| s.key).collect())
                .unwrap_or_default();
                swarm_managed.push(dstacks::Managed {
                    name,
                    services,
                    team: f.meta.team.clone(),
                });
                continue;
            }
            let services = ops::compile(&name, &f.compose, f.env.as_deref(), &f.working_dir())
                .map(|p| p.services.into_iter().map(|s| s.name).collect())
                .unwrap_or_default();
            managed.push(dstacks::Managed {
                name,
                services,
                team: f.meta.team.clone(),
            });
        }
    }
    let mut rows = dstacks::list(&daemon, &user, managed).await?;
    rows.extend(swarm_stacks::list(&daemon, &user, swarm_managed).await?);
    rows.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(Json(rows))
}

/// Check a compose text without saving it: every problem, with its line.
#[utoipa::path(post, path = "/api/stacks/validate", tag = "stacks",
    request_body = wire::ValidateCompose,
    responses((status = 200, description = "`ok` and the problems found", body = wire::ComposeCheck)))]
pub async fn validate(
    State(state): State<AppState>,
    user: CurrentUser,
    daemon: Daemon,
    JsonBody(req): JsonBody<wire::ValidateCompose>,
) -> AppResult<Json<wire::ComposeCheck>> {
    // An existing stack's folder, so `env_file:` and build contexts are found; otherwise a
    // folder that does not exist (paths are still checked, files just are not there yet).
    // Only a stack the user may open: another team's folder is not read for them.
    let existing = match req.name.as_deref().map(check_name) {
        Some(Ok(n)) => match files::read_on(&state.config.data_dir, n, &daemon.name).await? {
            Some(f)
                if ops::access(&user, &daemon, n, Some(&f), Role::Viewer)
                    .await
                    .is_ok() =>
            {
                Some(f)
            }
            _ => None,
        },
        _ => None,
    };
    let name = existing
        .as_ref()
        .and(req.name.as_deref())
        .unwrap_or("stack");
    let dir = existing
        .as_ref()
        .map(|f| f.working_dir())
        .unwrap_or_else(|| std::path::PathBuf::from("/stack"));
    Ok(Json(
        match ops::compile_with(
            name,
            &req.compose,
            req.env.as_deref(),
            &dir,
            req.profiles.as_deref(),
        ) {
            Ok(p) => wire::ComposeCheck {
                ok: true,
                problems: vec![],
                services: p.services.into_iter().map(|s| s.name).collect(),
                warnings: p.warnings,
                profiles: ops::profiles_of(&req.compose),
            },
            Err(problems) => wire::ComposeCheck {
                ok: false,
                problems,
                services: vec![],
                warnings: vec![],
                profiles: ops::profiles_of(&req.compose),
            },
        },
    ))
}

/// Create a stack (from the editor, or an admin's folder on the server) and bring it up:
/// the answer is the ndjson progress of `up`, or, with `"up": false`, the stack. With
/// `"mode":"swarm"` the file is deployed to the environment's swarm as `docker stack
/// deploy` does (ndjson progress of the deploy).
#[utoipa::path(post, path = "/api/stacks", tag = "stacks",
    request_body = wire::CreateStack,
    responses((status = 201, description = "created; ndjson progress of up (or of the swarm deploy)"),
              (status = 400, description = "bad name, mode (invalid_mode) or compose file (invalid_compose, invalid_swarm_stack)"),
              (status = 403, description = "a power the caller may not use"),
              (status = 409, description = "exists, or not_a_swarm_manager")))]
pub async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    Daemon(ep): Daemon,
    JsonBody(req): JsonBody<wire::CreateStack>,
) -> AppResult<Response> {
    if swarm_stacks::is_swarm(&req)? {
        return swarm_stacks::create(state, user, ep, req).await;
    }
    if req.git.is_some() {
        return super::git_stacks::create(state, user, ep, req).await;
    }
    let name = check_name(&req.name)?.to_owned();
    user.require(Role::Operator)?;
    let data = &state.config.data_dir;
    if files::read(data, &name).await?.is_some() {
        return Err(AppError::Conflict(format!("a stack named {name} exists")));
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
    let dir = files::dir(data, &name)?;
    let wd = working_dir.clone().unwrap_or_else(|| dir.clone());
    let project = ops::compile_or_400(&name, &compose, env.as_deref(), &wd)?;
    let mut team_labels = Default::default();
    policy::stamp_team(&user, &mut team_labels, req.team.as_deref())?;
    let team = team_labels.get(crate::auth::access::TEAM_LABEL).cloned();
    let meta = files::Meta {
        team,
        working_dir,
        endpoint: (ep.name != crate::docker::LOCAL).then(|| ep.name.clone()),
        ..Default::default()
    };
    let f = files::StackFiles {
        dir,
        compose,
        env,
        meta,
    };
    let opts = up_options(&f, false, false);
    let res = stack_up::authorize(&user, &project, &opts);
    if res.is_err() {
        audit::outcome(&state.db, &user, "stack_create", &name, &res).await;
    }
    res?;
    let f = files::write(data, &name, &f.compose, f.env.as_deref(), &f.meta).await?;
    if req.up == Some(false) {
        audit::outcome(&state.db, &user, "stack_create", &name, &Ok(())).await;
        let detail = detail_of(&state, &ep, &user, &name).await?;
        return Ok((StatusCode::CREATED, Json(detail)).into_response());
    }
    let who = user.clone();
    let db = state.db.clone();
    Ok(ops::stream(
        &state,
        &user,
        "stack_create",
        &name,
        StatusCode::CREATED,
        move |progress| async move {
            let policy = Policy::new(&who, &ep, &db);
            stack_up::up(policy, &project, up_options(&f, false, false), &progress).await
        },
    ))
}

fn up_options(f: &files::StackFiles, pull: bool, build: bool) -> UpOptions {
    UpOptions {
        pull,
        build,
        no_start: false,
        team: f.meta.team.clone(),
        labels: ops::project_labels(f),
    }
}

pub async fn detail_of(
    state: &AppState,
    ep: &crate::docker::Endpoint,
    user: &CurrentUser,
    name: &str,
) -> AppResult<wire::StackDetail> {
    let f = files::read_on(&state.config.data_dir, name, &ep.name).await?;
    if let Some(svcs) = swarm_stacks::find(user, ep, name, f.as_ref(), Role::Viewer).await? {
        return Ok(swarm_stacks::detail_of(name, f.as_ref(), &svcs));
    }
    let cs = ops::access(user, ep, name, f.as_ref(), Role::Viewer).await?;
    let declared: Vec<(String, String)> = f
        .as_ref()
        .and_then(|f| ops::project_of(name, f).ok())
        .map(|p| p.services.into_iter().map(|s| (s.name, s.image)).collect())
        .unwrap_or_default();
    let refs: Vec<_> = cs.iter().collect();
    Ok(wire::StackDetail {
        name: name.to_owned(),
        managed: f.is_some(),
        status: dstacks::status_of(&refs),
        compose: f.as_ref().map(|f| f.compose.clone()),
        env: f.as_ref().and_then(|f| f.env.clone()),
        working_dir: f
            .as_ref()
            .map(|f| f.working_dir().to_string_lossy().into_owned())
            .or_else(|| {
                cs.iter()
                    .find_map(|c| dstacks::label(c, crate::stacks::labels::WORKING_DIR))
                    .map(str::to_owned)
            }),
        team: f.as_ref().and_then(|f| f.meta.team.clone()).or_else(|| {
            cs.iter()
                .find_map(|c| dstacks::label(c, crate::auth::access::TEAM_LABEL))
                .map(str::to_owned)
        }),
        services: dstacks::services(&cs, &declared),
        git: match f {
            Some(_) => crate::store::git_stacks::get(&state.db, name)
                .await?
                .map(|r| crate::stacks::gitsync::state_of(state, &r)),
            None => None,
        },
        mode: "compose".into(),
        swarm_services: vec![],
    })
}

/// A stack's compose text and per-service containers.
#[utoipa::path(get, path = "/api/stacks/{name}", tag = "stacks",
    params(("name" = String, Path, description = "stack name")),
    responses((status = 200, description = "the stack", body = wire::StackDetail), (status = 404, description = "no such stack")))]
pub async fn detail(
    State(state): State<AppState>,
    user: CurrentUser,
    daemon: Daemon,
    PathArgs(name): PathArgs<String>,
) -> AppResult<Json<wire::StackDetail>> {
    check_name(&name)?;
    Ok(Json(detail_of(&state, &daemon, &user, &name).await?))
}

/// Replace a managed stack's compose file (and `.env`). Checked before anything is written;
/// `POST .../up` deploys it. A swarm stack is redeployed at once: only the services whose
/// spec changed are updated.
#[utoipa::path(put, path = "/api/stacks/{name}", tag = "stacks",
    request_body = wire::SaveStack,
    params(("name" = String, Path, description = "stack name"),
           ("prune" = Option<bool>, Query, description = "a swarm stack: remove the services the file no longer has")),
    responses((status = 200, description = "saved", body = wire::StackDetail), (status = 400, description = "bad compose file")))]
pub async fn save(
    State(state): State<AppState>,
    user: CurrentUser,
    daemon: Daemon,
    PathArgs(name): PathArgs<String>,
    QueryArgs(q): QueryArgs<SaveQuery>,
    JsonBody(req): JsonBody<wire::SaveStack>,
) -> AppResult<Json<wire::StackDetail>> {
    check_name(&name)?;
    let data = &state.config.data_dir;
    let f = files::read_on(data, &name, &daemon.name)
        .await?
        .ok_or_else(|| {
            AppError::NotFound(format!("berth keeps no files for a stack named {name}"))
        })?;
    if f.meta.swarm {
        return Ok(Json(
            swarm_stacks::save(&state, &user, &daemon, &name, f, req, q.prune).await?,
        ));
    }
    let res = audit::audited(&state.db, &user, "stack_save", &name, async {
        ops::access(&user, &daemon, &name, Some(&f), Role::Operator).await?;
        let project =
            ops::compile_or_400(&name, &req.compose, req.env.as_deref(), &f.working_dir())?;
        stack_up::authorize(&user, &project, &up_options(&f, false, false))?;
        files::write(data, &name, &req.compose, req.env.as_deref(), &f.meta).await
    })
    .await;
    res?;
    Ok(Json(detail_of(&state, &daemon, &user, &name).await?))
}

#[derive(Debug, Deserialize)]
pub struct SaveQuery {
    /// A swarm stack: remove the services the file no longer has.
    #[serde(default)]
    prune: bool,
}

#[derive(Debug, Deserialize)]
pub struct DownQuery {
    #[serde(default)]
    volumes: bool,
}

/// Take a stack down and forget its files.
#[utoipa::path(delete, path = "/api/stacks/{name}", tag = "stacks",
    params(("name" = String, Path, description = "stack name"),
           ("volumes" = Option<bool>, Query, description = "remove its volumes too")),
    responses((status = 200, description = "what was removed", body = wire::StackDown), (status = 404, description = "no such stack")))]
pub async fn delete(
    State(state): State<AppState>,
    user: CurrentUser,
    daemon: Daemon,
    PathArgs(name): PathArgs<String>,
    QueryArgs(q): QueryArgs<DownQuery>,
) -> AppResult<Json<wire::StackDown>> {
    check_name(&name)?;
    let data = &state.config.data_dir;
    let f = files::read_on(data, &name, &daemon.name).await?;
    if let Some(svcs) =
        swarm_stacks::find(&user, &daemon, &name, f.as_ref(), Role::Operator).await?
    {
        return Ok(Json(
            swarm_stacks::delete(&state, &user, &daemon, &name, f.as_ref(), svcs).await?,
        ));
    }
    let res = audit::audited(&state.db, &user, "stack_delete", &name, async {
        let cs = ops::access(&user, &daemon, &name, f.as_ref(), Role::Operator).await?;
        let down = dstacks::down(&daemon, &name, &cs, q.volumes).await?;
        files::remove(data, &name).await?;
        // A Git stack stops polling with its row gone; its clone goes too.
        crate::store::git_stacks::delete(&state.db, &name).await?;
        let _ = tokio::fs::remove_dir_all(crate::stacks::gitsync::root(data, &name)?).await;
        Ok(down)
    })
    .await;
    res.map(Json)
}

#[derive(Debug, Deserialize)]
pub struct ActQuery {
    #[serde(default)]
    volumes: bool,
    /// `up`: rebuild images that have `build:` even if present.
    #[serde(default)]
    build: bool,
    /// `up`: create the containers without starting them (`docker-compose up --no-start`).
    #[serde(default)]
    no_start: bool,
}

/// `up`, `pull` (pull images, then recreate what changed), `build` (rebuild, then recreate)
/// answer with ndjson progress; `down` with what was removed; `restart`, `stop`, `start`
/// with 204.
#[utoipa::path(post, path = "/api/stacks/{name}/{action}", tag = "stacks",
    params(("name" = String, Path, description = "stack name"),
           ("action" = String, Path, description = "up, pull, build, down, restart, stop or start"),
           ("volumes" = Option<bool>, Query, description = "down: remove volumes too"),
           ("build" = Option<bool>, Query, description = "up: rebuild images that have build:"),
           ("no_start" = Option<bool>, Query, description = "up: create the containers without starting them")),
    responses((status = 200, description = "ndjson progress (up, pull, build) or what down removed"),
              (status = 204, description = "restarted, stopped or started"), (status = 404, description = "no such stack")))]
pub async fn act(
    State(state): State<AppState>,
    user: CurrentUser,
    Daemon(ep): Daemon,
    PathArgs((name, action)): PathArgs<(String, String)>,
    QueryArgs(q): QueryArgs<ActQuery>,
) -> AppResult<Response> {
    check_name(&name)?;
    let f = files::read_on(&state.config.data_dir, &name, &ep.name).await?;
    swarm_stacks::refuse_compose_only(
        &user,
        &ep,
        &name,
        f.as_ref(),
        &format!("the {action} action"),
    )
    .await?;
    let audit_name = |a: &str| -> &'static str {
        match a {
            "up" => "stack_up",
            "pull" => "stack_pull",
            "build" => "stack_build",
            "down" => "stack_down",
            "restart" => "stack_restart",
            "stop" => "stack_stop",
            _ => "stack_start",
        }
    };
    match action.as_str() {
        "up" | "pull" | "build" => {
            let f = f.ok_or_else(|| {
                AppError::Conflict(format!(
                    "berth keeps no compose file for {name}: it can stop, restart and take it down, not deploy it"
                ))
            })?;
            ops::access(&user, &ep, &name, Some(&f), Role::Operator).await?;
            let project = ops::project_of(&name, &f)?;
            let mut opts = up_options(&f, action == "pull", action == "build" || q.build);
            opts.no_start = q.no_start;
            stack_up::authorize(&user, &project, &opts)?;
            let action_name = audit_name(&action);
            let who = user.clone();
            let db = state.db.clone();
            Ok(ops::stream(
                &state,
                &user,
                action_name,
                &name,
                StatusCode::OK,
                move |progress| async move {
                    stack_up::up(Policy::new(&who, &ep, &db), &project, opts, &progress).await
                },
            ))
        }
        "down" | "restart" | "stop" | "start" => {
            let res = async {
                let cs = ops::access(&user, &ep, &name, f.as_ref(), Role::Operator).await?;
                if action == "down" {
                    Ok(Some(dstacks::down(&ep, &name, &cs, q.volumes).await?))
                } else {
                    dstacks::act(&ep, &cs, &action).await.map(|()| None)
                }
            }
            .await;
            audit::outcome(&state.db, &user, audit_name(&action), &name, &res).await;
            Ok(match res? {
                Some(down) => Json(down).into_response(),
                None => StatusCode::NO_CONTENT.into_response(),
            })
        }
        other => Err(AppError::NotFound(format!(
            "unknown stack action {other:?}: use up, pull, build, down, restart, stop or start"
        ))),
    }
}
