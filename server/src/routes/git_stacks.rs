//! Git-backed stacks: `POST /api/stacks` with `"git"` (see [`create`]), and
//! `POST /api/stacks/{name}/git/pull`, `PATCH /api/stacks/{name}/git`. The stack itself is
//! a managed stack like any other (its compose file copied into the data dir from the
//! commit that runs); what follows the repository is in `stacks::gitsync` and `gitpoll`.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use utoipa_axum::{router::OpenApiRouter, routes};
use wire::Role;

use crate::auth::policy::{self, resolve::Policy};
use crate::auth::CurrentUser;
use crate::docker::{stack_up, stacks as dstacks, Daemon, Endpoint};
use crate::error::{AppError, AppResult, JsonBody, PathArgs};
use crate::stacks::gitpoll::{self, Actor};
use crate::stacks::{check_name, files, gitsync, ops};
use crate::state::AppState;
use crate::store::{audit, git_stacks};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(pull))
        .routes(routes!(patch))
}

const DEFAULT_PATH: &str = "docker-compose.yml";
const DEFAULT_REF: &str = "main";

/// `POST /api/stacks` with `git`: fetch the ref, check the commit out, compile and
/// authorize its compose file (every problem a 400 naming the field, before anything is
/// kept), then keep the stack and bring it up, answering with the ndjson progress as a
/// compose stack's creation does.
pub async fn create(
    state: AppState,
    user: CurrentUser,
    ep: std::sync::Arc<Endpoint>,
    req: wire::CreateStack,
) -> AppResult<Response> {
    let name = check_name(&req.name)?.to_owned();
    user.require(Role::Operator)?;
    let git = req.git.clone().unwrap_or_default();
    for (field, given) in [
        ("compose", req.compose.is_some()),
        ("env", req.env.is_some()),
        ("from_dir", req.from_dir.is_some()),
    ] {
        if given {
            return Err(AppError::bad_request(
                "invalid_git_stack",
                format!("{field}: a Git stack takes its compose file (and .env) from the repository; leave {field} out"),
            ));
        }
    }
    let url = git.url.trim().to_owned();
    gitsync::check_url(&user, &url)?;
    let git_ref = git.git_ref.clone().unwrap_or_else(|| DEFAULT_REF.into());
    gitsync::check_ref(&git_ref)?;
    let path = git.path.clone().unwrap_or_else(|| DEFAULT_PATH.into());
    gitsync::check_path(&path)?;
    let poll = gitsync::check_poll(git.poll_seconds.unwrap_or(0))?;
    let sealed = match &git.credentials {
        Some(c) => {
            gitsync::check_credentials(&url, c)?;
            Some(gitsync::seal(&state, c)?)
        }
        None => None,
    };
    let data = state.config.data_dir.clone();
    if files::read(&data, &name).await?.is_some() {
        return Err(AppError::Conflict(format!("a stack named {name} exists")));
    }
    if !dstacks::containers(&ep, Some(&name)).await?.is_empty() {
        return Err(AppError::Conflict(format!(
            "a Compose project named {name} already has containers on this daemon"
        )));
    }
    let mut team_labels = Default::default();
    policy::stamp_team(&user, &mut team_labels, req.team.as_deref())?;
    let meta = files::Meta {
        team: team_labels.get(crate::auth::access::TEAM_LABEL).cloned(),
        working_dir: None,
        endpoint: (ep.name != crate::docker::LOCAL).then(|| ep.name.clone()),
        ..Default::default()
    };
    let root = gitsync::root(&data, &name)?;
    // Whatever a failed creation fetched is not kept.
    let _ = tokio::fs::remove_dir_all(&root).await;
    let prepared = async {
        let fetched =
            gitsync::fetch(&data, &name, &url, &git_ref, git.credentials.as_ref()).await?;
        let p = gitsync::prepare(&data, &name, &path, fetched, meta).await?;
        stack_up::authorize(&user, &p.project, &gitsync::up_options(&p.files, false))?;
        Ok::<_, AppError>(p)
    }
    .await;
    let p = match prepared {
        Ok(p) => p,
        Err(e) => {
            let _ = tokio::fs::remove_dir_all(&root).await;
            let res: AppResult<()> = Err(e);
            audit::outcome(&state.db, &user, "stack_create", &name, &res).await;
            let Err(e) = res else {
                unreachable!("an error")
            };
            return Err(e);
        }
    };
    let row = git_stacks::Row {
        name: name.clone(),
        endpoint: ep.name.clone(),
        url,
        git_ref,
        path,
        poll_seconds: poll,
        credentials: sealed,
        created_by: user.id,
        commit_id: None,
        commit_summary: None,
        last_poll: None,
        last_result: None,
        last_error: None,
        error_commit: None,
        last_job: None,
        created_at: 0,
    };
    git_stacks::insert(&state.db, &row).await?;
    let f = files::write(
        &data,
        &name,
        &p.files.compose,
        p.files.env.as_deref(),
        &p.files.meta,
    )
    .await?;
    let record = |result: &'static str| {
        let db = state.db.clone();
        let name = name.clone();
        let (commit, summary) = (p.fetched.commit.clone(), p.fetched.summary.clone());
        move |err: Option<String>| async move {
            let ok = err.is_none();
            let _ = git_stacks::record(
                &db,
                &name,
                &git_stacks::Outcome {
                    result: if ok { result } else { "failed" },
                    deployed: ok.then_some((commit.as_str(), summary.as_str())),
                    error: err.as_deref(),
                    error_commit: (!ok).then_some(commit.as_str()),
                    job: None,
                },
            )
            .await;
        }
    };
    if req.up == Some(false) {
        // Kept, not deployed: the first pull deploys it.
        audit::outcome(&state.db, &user, "stack_create", &name, &Ok(())).await;
        let detail = super::stacks::detail_of(&state, &ep, &user, &name).await?;
        return Ok((StatusCode::CREATED, Json(detail)).into_response());
    }
    let done = record("deployed");
    let who = user.clone();
    let db = state.db.clone();
    let project = p.project;
    Ok(ops::stream(
        &state,
        &user,
        "stack_create",
        &name,
        StatusCode::CREATED,
        move |progress| async move {
            let policy = Policy::new(&who, &ep, &db);
            let res =
                stack_up::up(policy, &project, gitsync::up_options(&f, false), &progress).await;
            done(res.as_ref().err().map(|e| e.to_string())).await;
            res
        },
    ))
}

/// The Git stack `name` if the user may reach it with `role`.
async fn git_stack(
    state: &AppState,
    user: &CurrentUser,
    ep: &Endpoint,
    name: &str,
    role: Role,
) -> AppResult<git_stacks::Row> {
    check_name(name)?;
    let f = files::read_on(&state.config.data_dir, name, &ep.name).await?;
    ops::access(user, ep, name, f.as_ref(), role).await?;
    git_stacks::get(&state.db, name)
        .await?
        .filter(|r| r.endpoint == ep.name)
        .ok_or_else(|| AppError::NotFound(format!("{name} is not a Git stack")))
}

/// Poll now: fetch the ref and redeploy what changed (everything with `force`; pulling
/// the images first with `pull_images`), as a job followed at `GET /api/jobs/{id}`.
#[utoipa::path(post, path = "/api/stacks/{name}/git/pull", tag = "stacks",
    params(("name" = String, Path, description = "stack name")),
    request_body = wire::GitPull,
    responses((status = 202, description = "the job", body = wire::JobStarted),
              (status = 404, description = "no such Git stack"), (status = 429, description = "too many jobs queued for this stack")))]
pub async fn pull(
    State(state): State<AppState>,
    user: CurrentUser,
    headers: HeaderMap,
    Daemon(ep): Daemon,
    PathArgs(name): PathArgs<String>,
    body: axum::body::Bytes,
) -> AppResult<(StatusCode, Json<wire::JobStarted>)> {
    // The body is optional: no body is `{}`.
    let req: wire::GitPull = if body.iter().all(u8::is_ascii_whitespace) {
        Default::default()
    } else {
        crate::error::parse_object(&body)?
    };
    let started = audit::audited(&state.db, &user, "stack_git_pull", &name, async {
        let row = git_stack(&state, &user, &ep, &name, Role::Operator).await?;
        gitpoll::submit(
            &state,
            &row,
            Actor::User(user.clone()),
            req.force,
            req.pull_images,
            None,
        )
        .ok_or_else(|| super::jobs::queue_full(&name))
    })
    .await?;
    Ok(super::jobs::started(&state, &headers, started))
}

/// Change a Git stack's ref, compose path, poll interval or credentials (or forget the
/// ssh host key learnt on first use). A new ref is
/// fetched first (an unknown one is a 400); the next poll deploys it.
#[utoipa::path(patch, path = "/api/stacks/{name}/git", tag = "stacks",
    params(("name" = String, Path, description = "stack name")),
    request_body = wire::PatchGit,
    responses((status = 200, description = "the stack", body = wire::StackDetail),
              (status = 400, description = "a bad field, named"), (status = 404, description = "no such Git stack")))]
pub async fn patch(
    State(state): State<AppState>,
    user: CurrentUser,
    Daemon(ep): Daemon,
    PathArgs(name): PathArgs<String>,
    JsonBody(req): JsonBody<wire::PatchGit>,
) -> AppResult<Json<wire::StackDetail>> {
    audit::audited(&state.db, &user, "stack_git_update", &name, async {
        let before = git_stack(&state, &user, &ep, &name, Role::Operator).await?;
        let row = &before;
        if let Some(c) = &req.credentials {
            gitsync::check_credentials(&row.url, c)?;
        }
        if req.reset_host_key {
            gitsync::reset_host_key(&state.config.data_dir, &name).await?;
        }
        if let Some(r) = &req.git_ref {
            gitsync::check_ref(r)?;
            // With the credentials it will poll with (the new ones if given).
            let creds = match (&req.credentials, req.remove_credentials) {
                (Some(c), _) => Some(c.clone()),
                (None, true) => None,
                (None, false) => row
                    .credentials
                    .as_deref()
                    .map(|s| gitsync::open(&state, s))
                    .transpose()?,
            };
            gitsync::fetch(&state.config.data_dir, &name, &row.url, r, creds.as_ref()).await?;
        }
        if let Some(p) = &req.path {
            gitsync::check_path(p)?;
        }
        let poll = req.poll_seconds.map(gitsync::check_poll).transpose()?;
        let sealed = match (&req.credentials, req.remove_credentials) {
            (Some(_), true) => {
                return Err(AppError::bad_request(
                    "invalid_git_stack",
                    "credentials and remove_credentials: give one of them",
                ))
            }
            (Some(c), false) => Some(Some(gitsync::seal(&state, c)?)),
            (None, true) => Some(None),
            (None, false) => None,
        };
        git_stacks::update(
            &state.db,
            &name,
            req.git_ref.as_deref(),
            req.path.as_deref(),
            poll,
            sealed.as_ref().map(|s| s.as_deref()),
        )
        .await?;
        // A new ref or file is deployed now (a new file at the same commit too).
        if req.git_ref.is_some() || req.path.is_some() {
            if let Some(row) = git_stacks::get(&state.db, &name).await? {
                // A new file at the same commit deploys only when forced.
                let force = req.path.as_ref().is_some_and(|p| *p != before.path);
                gitpoll::submit(&state, &row, Actor::User(user.clone()), force, false, None);
            }
        }
        Ok(())
    })
    .await?;
    Ok(Json(
        super::stacks::detail_of(&state, &ep, &user, &name).await?,
    ))
}
