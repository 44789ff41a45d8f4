//! `/api/environments`: the hosts berth manages (admin adds, edits, renames, pauses and
//! removes them; everyone sees those they may use), a connection test that says which
//! step failed, and the containers of every host at once.

use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use utoipa_axum::{router::OpenApiRouter, routes};
use wire::{EnvStatus, Role};

use crate::auth::CurrentUser;
use crate::docker::{containers, Endpoint, LOCAL};
use crate::error::{AppError, AppResult, JsonBody, PathArgs, QueryArgs};
use crate::registry::secret;
use crate::state::AppState;
use crate::store::{audit, environments as store};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(all_containers))
        .routes(routes!(update, remove))
        .routes(routes!(test_stored))
        .routes(routes!(test_new))
}

/// How long one host may take to answer its part of a list that spans hosts.
const PER_HOST: Duration = Duration::from_secs(3);

fn info(ep: &Endpoint) -> wire::EnvironmentInfo {
    let h = ep.health();
    wire::EnvironmentInfo {
        name: ep.name.clone(),
        url: ep.host.clone(),
        status: h.status,
        error: h.error,
        since: Some(h.since),
        engine_version: h.engine_version,
        api_version: h.api_version,
        swarm: h.swarm,
        teams: ep.teams.clone(),
        roles: ep.roles.clone(),
        tls: ep.tls,
        skip_verify: ep.skip_verify,
        has_ssh_key: ep.has_ssh_key,
        paused: ep.paused,
        builtin: ep.builtin,
        containers: h.containers,
        running: h.running,
        images: h.images,
    }
}

/// How long an add or edit waits for the host's first check before answering: a little
/// over the check's own timeout, so the answer says up, or down and why.
const SETTLE: std::time::Duration =
    std::time::Duration::from_secs(crate::docker::health::CHECK_TIMEOUT.as_secs() + 1);

/// The environments the caller may use, with their state as their health loops last saw
/// it: this never waits for a host.
#[utoipa::path(get, path = "/api/environments", tag = "environments",
    responses((status = 200, description = "the environments the caller may use", body = Vec<wire::EnvironmentInfo>)))]
pub async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
) -> AppResult<Json<Vec<wire::EnvironmentInfo>>> {
    Ok(Json(
        state
            .daemons
            .all()
            .iter()
            .filter(|ep| ep.open_to(&user))
            .map(|ep| info(ep))
            .collect(),
    ))
}

fn check_name(name: &str) -> AppResult<String> {
    let name = name.trim();
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && !name.starts_with(['-', '.']);
    if !ok || name == "all" || name == "containers" || name == "test" {
        return Err(AppError::bad_request(
            "invalid_name",
            "name: 1 to 64 letters, digits, '-', '_' or '.', not starting with '-' or '.', \
             and not all, containers or test",
        ));
    }
    Ok(name.to_owned())
}

fn check_url(url: &str) -> AppResult<String> {
    let url = url.trim();
    let ok = ["unix:///", "tcp://", "ssh://"]
        .iter()
        .any(|p| url.starts_with(p) && url.len() > p.len());
    if !ok || url.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(AppError::bad_request(
            "invalid_url",
            "url: give unix:///path/to/docker.sock, tcp://host:port or ssh://user@host[:port]",
        ));
    }
    Ok(url.to_owned())
}

fn check_teams(teams: &[String], known: &[String]) -> AppResult<String> {
    for t in teams {
        if !known.contains(t) {
            return Err(AppError::bad_request(
                "unknown_team",
                format!("teams: there is no team {t:?}"),
            ));
        }
    }
    serde_json::to_string(teams).map_err(|e| AppError::Internal(e.into()))
}

/// Role limits name known teams (or `*`) and limit to viewer or operator: an admin limit
/// would limit nothing, and admins are never limited.
fn check_roles(
    roles: &std::collections::BTreeMap<String, Role>,
    known: &[String],
) -> AppResult<String> {
    for (team, role) in roles {
        if team != "*" && !known.contains(team) {
            return Err(AppError::bad_request(
                "unknown_team",
                format!(
                    "roles: there is no team {team:?} (give a team's name, or * for everyone else)"
                ),
            ));
        }
        if *role == Role::Admin {
            return Err(AppError::bad_request(
                "invalid_role",
                format!("roles.{team}: a limit is viewer or operator; admins are never limited"),
            ));
        }
    }
    serde_json::to_string(roles).map_err(|e| AppError::Internal(e.into()))
}

fn seal(state: &AppState, text: &str) -> AppResult<String> {
    secret::seal(&state.config.data_dir, text).map_err(AppError::Internal)
}

/// Applies `req` to `row` (a new one or the stored one); secrets are sealed here.
async fn apply(
    state: &AppState,
    row: &mut store::Row,
    req: &wire::EnvironmentInput,
) -> AppResult<()> {
    if let Some(name) = req.name.as_deref() {
        row.name = check_name(name)?;
    }
    if let Some(url) = req.url.as_deref() {
        row.url = check_url(url)?;
    }
    if let Some(tls) = &req.tls {
        // Checked now, so a paste error is a 400 rather than a host that stays down.
        crate::docker::tls::client_config(&tls.ca, &tls.cert, &tls.key, false)
            .map_err(|e| AppError::bad_request("invalid_tls", e))?;
        row.tls_ca = Some(tls.ca.clone());
        row.tls_cert = Some(tls.cert.clone());
        row.tls_key = Some(seal(state, &tls.key)?);
    }
    if let Some(skip) = req.skip_verify {
        row.skip_verify = skip;
    }
    if let Some(key) = req.ssh_key.as_deref() {
        row.ssh_key = (!key.trim().is_empty())
            .then(|| seal(state, key))
            .transpose()?;
    }
    if let Some(kh) = req.ssh_known_hosts.as_deref() {
        row.ssh_known_hosts = Some(kh.to_owned()).filter(|k| !k.trim().is_empty());
    }
    if let Some(teams) = &req.teams {
        let known = crate::store::teams::names(&state.db).await?;
        row.teams = check_teams(teams, &known)?;
    }
    if let Some(roles) = &req.roles {
        let known = crate::store::teams::names(&state.db).await?;
        row.roles = check_roles(roles, &known)?;
    }
    if let Some(paused) = req.paused {
        row.paused = paused;
    }
    if row.skip_verify && row.tls_key.is_none() {
        return Err(AppError::bad_request(
            "invalid_tls",
            "skip_verify: give tls (the client certificate and key) too",
        ));
    }
    Ok(())
}

fn taken(name: &str) -> AppError {
    AppError::coded(
        StatusCode::CONFLICT,
        "environment_exists",
        format!("an environment named {name:?} exists already"),
    )
}

/// Add an environment (admin). Keys are sealed with the data dir's key and never sent back.
#[utoipa::path(post, path = "/api/environments", tag = "environments",
    request_body = wire::EnvironmentInput,
    responses((status = 201, description = "the environment, without its keys", body = wire::EnvironmentInfo),
              (status = 400, description = "bad name, url, TLS material or team"),
              (status = 409, description = "the name is taken")))]
pub async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    JsonBody(req): JsonBody<wire::EnvironmentInput>,
) -> AppResult<(StatusCode, Json<wire::EnvironmentInfo>)> {
    user.require(Role::Admin)?;
    let res = async {
        let mut row = store::Row {
            teams: "[]".into(),
            roles: "{}".into(),
            ..store::Row::default()
        };
        if req.name.is_none() || req.url.is_none() {
            return Err(AppError::bad_request(
                "invalid_environment",
                "give at least name and url",
            ));
        }
        apply(&state, &mut row, &req).await?;
        if row.name == LOCAL || state.daemons.get(&row.name).is_some() {
            return Err(taken(&row.name));
        }
        store::insert(&state.db, &row).await.map_err(|e| match &e {
            sqlx::Error::Database(d) if d.is_unique_violation() => taken(&row.name),
            _ => AppError::from(e),
        })?;
        let ep = Endpoint::from_row(&row, &state.config.data_dir);
        state.daemons.put(ep.clone());
        ep.settled(SETTLE).await;
        Ok(info(&ep))
    }
    .await;
    let target = req.name.clone().unwrap_or_default();
    audit::outcome(&state.db, &user, "environment_create", &target, &res).await;
    res.map(|i| (StatusCode::CREATED, Json(i)))
}

fn builtin(name: &str) -> AppError {
    AppError::Conflict(format!(
        "{name:?} is berth's own --docker-host: change it with that flag"
    ))
}

/// Edit, rename or pause an environment (admin): fields left out stay, keys left out are
/// kept. Its connection is made anew.
#[utoipa::path(patch, path = "/api/environments/{name}", tag = "environments",
    request_body = wire::EnvironmentInput,
    params(("name" = String, Path, description = "environment name")),
    responses((status = 200, description = "the environment, without its keys", body = wire::EnvironmentInfo),
              (status = 404, description = "no such environment"), (status = 409, description = "the new name is taken, or it is local")))]
pub async fn update(
    State(state): State<AppState>,
    user: CurrentUser,
    PathArgs(name): PathArgs<String>,
    JsonBody(req): JsonBody<wire::EnvironmentInput>,
) -> AppResult<Json<wire::EnvironmentInfo>> {
    user.require(Role::Admin)?;
    let res = async {
        if name == LOCAL {
            return Err(builtin(&name));
        }
        let mut row = store::get(&state.db, &name)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("no environment named {name:?}")))?;
        apply(&state, &mut row, &req).await?;
        if row.name != name && (row.name == LOCAL || state.daemons.get(&row.name).is_some()) {
            return Err(taken(&row.name));
        }
        store::update(&state.db, &name, &row).await?;
        let ep = Endpoint::from_row(&row, &state.config.data_dir);
        if row.name != name {
            state.daemons.remove(&name);
            crate::stacks::files::move_endpoint(&state.config.data_dir, &name, &row.name).await?;
        }
        state.daemons.put(ep.clone());
        ep.settled(SETTLE).await;
        Ok(info(&ep))
    }
    .await;
    audit::outcome(&state.db, &user, "environment_update", &name, &res).await;
    res.map(Json)
}

/// Remove an environment (admin): berth forgets it and its keys; the host is untouched.
#[utoipa::path(delete, path = "/api/environments/{name}", tag = "environments",
    params(("name" = String, Path, description = "environment name")),
    responses((status = 204, description = "removed"), (status = 404, description = "no such environment"),
              (status = 409, description = "it is local")))]
pub async fn remove(
    State(state): State<AppState>,
    user: CurrentUser,
    PathArgs(name): PathArgs<String>,
) -> AppResult<StatusCode> {
    user.require(Role::Admin)?;
    let res = async {
        if name == LOCAL {
            return Err(builtin(&name));
        }
        if !store::delete(&state.db, &name).await? {
            return Err(AppError::NotFound(format!("no environment named {name:?}")));
        }
        state.daemons.remove(&name);
        Ok(())
    }
    .await;
    audit::outcome(&state.db, &user, "environment_remove", &name, &res).await;
    res.map(|()| StatusCode::NO_CONTENT)
}

/// Try a connection now and say which step failed.
async fn try_connect(ep: &Endpoint) -> wire::ConnectionTest {
    let start = Instant::now();
    let res = ep.check().await;
    let millis = start.elapsed().as_millis() as u64;
    match res {
        Ok(h) => wire::ConnectionTest {
            ok: true,
            stage: None,
            error: None,
            engine_version: h.engine_version,
            api_version: h.api_version,
            millis,
        },
        Err(e) => {
            let message = match &e {
                AppError::DockerUnavailable(m) => m.clone(),
                other => other.to_string(),
            };
            wire::ConnectionTest {
                ok: false,
                stage: Some(stage_of(&message, &e).into()),
                error: Some(message),
                engine_version: None,
                api_version: None,
                millis,
            }
        }
    }
}

/// Which step a failure belongs to, from what the transport said.
fn stage_of(message: &str, e: &AppError) -> &'static str {
    let m = message.to_ascii_lowercase();
    if m.contains("cannot resolve") || m.contains("resolves to nothing") {
        "dns"
    } else if m.starts_with("tls") || m.contains(": tls") || m.contains("certificate") {
        "tls"
    } else if m.contains("ssh") || m.contains("host key") {
        "ssh"
    } else if m.contains("client version") || m.contains("api version") {
        "api_version"
    } else if m.contains("no answer within")
        || m.contains("did not answer")
        || m.contains("no connection within")
    {
        "timeout"
    } else if m.contains("cannot connect") || m.contains("refused") {
        "connect"
    } else if m.contains("unsupported url")
        || m.contains("give ssh://")
        || m.contains("no host name")
    {
        "url"
    } else if matches!(e, AppError::Unauthorized(_) | AppError::Forbidden(_))
        || m.contains("401")
        || m.contains("403")
    {
        "auth"
    } else {
        "daemon"
    }
}

/// Test a stored environment's connection (admin), whatever its health loop says.
#[utoipa::path(post, path = "/api/environments/{name}/test", tag = "environments",
    params(("name" = String, Path, description = "environment name")),
    responses((status = 200, description = "what a connection attempt found", body = wire::ConnectionTest),
              (status = 404, description = "no such environment")))]
pub async fn test_stored(
    State(state): State<AppState>,
    user: CurrentUser,
    PathArgs(name): PathArgs<String>,
) -> AppResult<Json<wire::ConnectionTest>> {
    user.require(Role::Admin)?;
    let ep = state
        .daemons
        .get(&name)
        .ok_or_else(|| AppError::NotFound(format!("no environment named {name:?}")))?;
    // A fresh endpoint: the test must not use (nor reset) the live one's connection.
    let fresh = match store::get(&state.db, &name).await? {
        Some(row) => Endpoint::from_row(&row, &state.config.data_dir),
        None => Endpoint::new(&ep.name, &ep.host),
    };
    Ok(Json(try_connect(&fresh).await))
}

/// Test settings before saving them (admin): the body of `POST /api/environments`.
#[utoipa::path(post, path = "/api/environments/test", tag = "environments",
    request_body = wire::EnvironmentInput,
    responses((status = 200, description = "what a connection attempt found", body = wire::ConnectionTest),
              (status = 400, description = "bad url or TLS material")))]
pub async fn test_new(
    State(state): State<AppState>,
    user: CurrentUser,
    JsonBody(req): JsonBody<wire::EnvironmentInput>,
) -> AppResult<Json<wire::ConnectionTest>> {
    user.require(Role::Admin)?;
    let mut row = store::Row {
        name: "test".into(),
        teams: "[]".into(),
        roles: "{}".into(),
        ..store::Row::default()
    };
    let req = wire::EnvironmentInput {
        name: None,
        teams: None,
        paused: None,
        ..req
    };
    apply(&state, &mut row, &req).await?;
    Ok(Json(
        try_connect(&Endpoint::from_row(&row, &state.config.data_dir)).await,
    ))
}

#[derive(Debug, Deserialize)]
pub struct AllQuery {
    #[serde(default)]
    all: bool,
}

/// The containers of every environment the caller may use, asked concurrently with a
/// timeout per host: what answered, and for the others their state and error.
#[utoipa::path(get, path = "/api/environments/containers", tag = "environments",
    params(("all" = Option<bool>, Query, description = "include stopped containers")),
    responses((status = 200, description = "per host: its containers, or why there are none", body = Vec<wire::HostContainers>)))]
pub async fn all_containers(
    State(state): State<AppState>,
    user: CurrentUser,
    QueryArgs(q): QueryArgs<AllQuery>,
) -> AppResult<Json<Vec<wire::HostContainers>>> {
    let hosts: Vec<_> = state
        .daemons
        .all()
        .into_iter()
        .filter(|ep| ep.open_to(&user))
        .collect();
    let answers = futures::future::join_all(hosts.iter().map(|ep| {
        let user = &user;
        async move {
            let res = tokio::time::timeout(PER_HOST, containers::list(ep, q.all)).await;
            let (status, error, mut rows) = match res {
                Ok(Ok(rows)) => (EnvStatus::Up, None, rows),
                Ok(Err(e)) => {
                    let h = ep.health();
                    let status = match h.status {
                        EnvStatus::Paused => EnvStatus::Paused,
                        _ => EnvStatus::Down,
                    };
                    (status, Some(e.to_string()), Vec::new())
                }
                Err(_) => (
                    EnvStatus::Down,
                    Some(format!("no answer within {} s", PER_HOST.as_secs())),
                    Vec::new(),
                ),
            };
            rows.retain(|c| user.can_see_map(&c.labels));
            wire::HostContainers {
                environment: ep.name.clone(),
                status,
                error,
                containers: rows,
            }
        }
    }))
    .await;
    Ok(Json(answers))
}
