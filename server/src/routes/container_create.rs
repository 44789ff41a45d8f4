//! `POST /api/containers` (`docker create`/`docker run -d`) and `POST /api/containers/run`
//! (`docker run --rm`, its output streamed as ndjson).

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use futures::StreamExt;
use tokio::sync::mpsc;
use utoipa_axum::{router::OpenApiRouter, routes};
use wire::Role;

use crate::auth::policy::{self, resolve::Policy};
use crate::auth::CurrentUser;
use crate::docker::create::{self, Plan};
use crate::docker::{run, Daemon, Endpoint};
use crate::error::{AppResult, JsonBody};
use crate::state::AppState;
use crate::store::audit;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create))
        .routes(routes!(run_once))
}

/// Validate the request into a body, then hand it to the one policy, which resolves and
/// decides everything it names; what comes back is what the daemon receives.
async fn prepare(
    state: &AppState,
    user: &CurrentUser,
    ep: &Endpoint,
    req: &wire::CreateContainer,
) -> AppResult<Plan> {
    user.require(Role::Operator)?;
    let plan = create::plan(req)?;
    let decided = Policy::new(user, ep, &state.db)
        .container(policy::resolve::Create {
            body: plan.body,
            team: req.team.clone(),
            berth_labels: Default::default(),
            connects: Vec::new(),
        })
        .await?;
    Ok(Plan {
        name: plan.name,
        body: decided.body,
    })
}

fn target_of(req: &wire::CreateContainer) -> String {
    req.name.clone().unwrap_or_else(|| req.image.clone())
}

/// Create a container (and start it unless `start` is false), as `docker run -d`.
#[utoipa::path(post, path = "/api/containers", tag = "containers",
    request_body(content = wire::CreateContainer, description = "wire::CreateContainer: image, name, cmd, entrypoint, env, workdir, ports, binds, volumes, privileged, tty, open_stdin, links, network, ipv4, restart, labels, auto_remove, start, team", content_type = "application/json"),
    responses((status = 201, description = "{\"id\",\"warnings\"}", body = wire::CreatedContainer),
              (status = 400, description = "a field is wrong; the message names it"),
              (status = 403, description = "a host power or another team's resource"),
              (status = 404, description = "image_not_found: pull the image first"),
              (status = 409, description = "the name is taken")))]
pub async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    daemon: Daemon,
    JsonBody(req): JsonBody<wire::CreateContainer>,
) -> AppResult<(StatusCode, Json<wire::CreatedContainer>)> {
    create_audited(&state, &user, &daemon, &req)
        .await
        .map(|c| (StatusCode::CREATED, Json(c)))
}

/// What `POST /api/containers` does (also for container templates): policy, create,
/// start unless `start` is false, audited.
pub async fn create_audited(
    state: &AppState,
    user: &CurrentUser,
    daemon: &Endpoint,
    req: &wire::CreateContainer,
) -> AppResult<wire::CreatedContainer> {
    audit::audited(&state.db, user, "create", &target_of(req), async {
        let plan = prepare(state, user, daemon, req).await?;
        let (id, warnings) = create::create(daemon, plan).await?;
        if req.start.unwrap_or(true) {
            let sid = id.clone();
            let started = daemon
                .call(|d| async move {
                    d.start_container(
                        &sid,
                        None::<bollard::query_parameters::StartContainerOptions>,
                    )
                    .await
                })
                .await;
            if let Err(e) = started {
                // Leave nothing half-made behind: the form can simply be sent again.
                create::discard(daemon, &id).await;
                return Err(e);
            }
        }
        Ok(wire::CreatedContainer { id, warnings })
    })
    .await
}

/// Run a container to completion: ndjson lines `{"id"}`, then `{"stream","line"}` as it
/// writes, then `{"exit_code"}` (or `{"error"}`). Removed at the end unless `auto_remove`
/// is false; leaving early kills it.
#[utoipa::path(post, path = "/api/containers/run", tag = "containers",
    request_body(content = wire::CreateContainer, description = "wire::CreateContainer, as for POST /api/containers", content_type = "application/json"),
    responses((status = 200, description = "application/x-ndjson: the run's output and exit code"),
              (status = 400, description = "a field is wrong"), (status = 404, description = "image_not_found")))]
pub async fn run_once(
    State(state): State<AppState>,
    user: CurrentUser,
    Daemon(ep): Daemon,
    JsonBody(req): JsonBody<wire::CreateContainer>,
) -> AppResult<Response> {
    let remove = req.auto_remove.unwrap_or(true);
    let res = audit::audited(&state.db, &user, "run", &target_of(&req), async {
        let mut plan = prepare(&state, &user, &ep, &req).await?;
        // berth removes it itself after reading the output: the daemon's auto-remove could
        // take it away before its logs and exit code are read.
        if let Some(hc) = plan.body.host_config.as_mut() {
            hc.auto_remove = None;
        }
        create::create(&ep, plan).await
    })
    .await;
    let (id, _) = res?;
    let (tx, rx) = mpsc::channel::<wire::RunLine>(256);
    tokio::spawn(run::drive(ep.clone(), id, remove, tx));
    let body = futures::stream::unfold(rx, |mut rx| async move {
        let line = rx.recv().await?;
        let mut json = serde_json::to_vec(&line).unwrap_or_default();
        json.push(b'\n');
        Some((Ok::<_, std::io::Error>(bytes::Bytes::from(json)), rx))
    })
    .boxed();
    Ok((
        [
            (header::CONTENT_TYPE, "application/x-ndjson"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        Body::from_stream(body),
    )
        .into_response())
}
