//! `/api/secrets` and `/api/configs`: swarm secrets and configs, owned by a team like
//! everything berth makes (their `berth.team` label). A value goes in once and is never
//! sent back (for configs too: the daemon would return it, berth does not).

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use base64::Engine;
use bollard::models::{ConfigSpec, SecretSpec};
use serde_json::Value;
use utoipa_axum::{router::OpenApiRouter, routes};
use wire::Role;

use crate::auth::access::TEAM_LABEL;
use crate::auth::policy::{self, resolve::Policy};
use crate::auth::CurrentUser;
use crate::docker::{swarm, Daemon};
use crate::error::{AppError, AppResult, JsonBody, PathArgs};
use crate::state::AppState;
use crate::store::audit;

/// The daemon's limit for a secret's or config's value.
const MAX_VALUE: usize = 500 * 1024;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_secrets, create_secret))
        .routes(routes!(remove_secret))
        .routes(routes!(list_configs, create_config))
        .routes(routes!(remove_config))
}

fn row(
    id: Option<String>,
    name: Option<String>,
    labels: Option<std::collections::HashMap<String, String>>,
    created: Option<String>,
    updated: Option<String>,
) -> wire::SwarmFileSummary {
    let labels: std::collections::BTreeMap<String, String> =
        labels.unwrap_or_default().into_iter().collect();
    wire::SwarmFileSummary {
        id: id.unwrap_or_default(),
        name: name.unwrap_or_default(),
        team: labels.get(TEAM_LABEL).cloned().filter(|t| !t.is_empty()),
        created,
        updated,
        labels,
    }
}

fn check(req: &wire::CreateSwarmFile, what: &str) -> AppResult<()> {
    let name_ok = !req.name.is_empty()
        && req.name.len() <= 64
        && req
            .name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
        && req
            .name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric());
    if !name_ok {
        return Err(AppError::bad_request(
            "invalid_name",
            format!(
                "name: {:?} is not a {what} name (up to 64 letters, digits, '_', '.', '-', starting with a letter or digit)",
                req.name
            ),
        ));
    }
    if req.data.is_empty() || req.data.len() > MAX_VALUE {
        return Err(AppError::bad_request(
            "invalid_data",
            format!("data: a {what}'s value is 1 byte to 500 KiB"),
        ));
    }
    Ok(())
}

fn created(id: String) -> (StatusCode, Json<Value>) {
    (StatusCode::CREATED, Json(serde_json::json!({ "id": id })))
}

/// The secrets the caller may see (metadata only).
#[utoipa::path(get, path = "/api/secrets", tag = "swarm",
    responses((status = 200, description = "the secrets", body = Vec<wire::SwarmFileSummary>),
              (status = 409, description = "not_a_swarm_manager")))]
pub async fn list_secrets(
    user: CurrentUser,
    daemon: Daemon,
) -> AppResult<Json<Vec<wire::SwarmFileSummary>>> {
    user.require(Role::Viewer)?;
    let all = swarm::call(&daemon, |d| async move {
        d.list_secrets(None::<bollard::query_parameters::ListSecretsOptions>)
            .await
    })
    .await?;
    let mut rows: Vec<wire::SwarmFileSummary> = all
        .into_iter()
        .map(|s| {
            let spec = s.spec.unwrap_or_default();
            row(s.id, spec.name, spec.labels, s.created_at, s.updated_at)
        })
        .filter(|r| user.role == Role::Admin || user.can_see_map(&r.labels))
        .collect();
    rows.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(Json(rows))
}

/// `docker secret create`: the value is stored by the swarm and never shown again.
#[utoipa::path(post, path = "/api/secrets", tag = "swarm",
    request_body = wire::CreateSwarmFile,
    responses((status = 201, description = "`{\"id\"}`"), (status = 400, description = "bad field"),
              (status = 409, description = "the name is taken, or not_a_swarm_manager")))]
pub async fn create_secret(
    State(state): State<AppState>,
    user: CurrentUser,
    daemon: Daemon,
    JsonBody(req): JsonBody<wire::CreateSwarmFile>,
) -> AppResult<(StatusCode, Json<Value>)> {
    user.require(Role::Operator)?;
    check(&req, "secret")?;
    let id = audit::audited(&state.db, &user, "secret_create", &req.name, async {
        let labels = policy::own_labels(&user, req.labels.clone(), req.team.as_deref())?;
        let spec = SecretSpec {
            name: Some(req.name.clone()),
            labels: Some(labels),
            data: Some(base64::engine::general_purpose::STANDARD.encode(&req.data)),
            ..Default::default()
        };
        swarm::call(&daemon, |d| async move { d.create_secret(spec).await }).await
    })
    .await?;
    Ok(created(id.id))
}

/// `docker secret rm`.
#[utoipa::path(delete, path = "/api/secrets/{id}", tag = "swarm",
    params(("id" = String, Path, description = "secret id or name")),
    responses((status = 204, description = "removed"), (status = 404, description = "no such secret"),
              (status = 409, description = "a service uses it")))]
pub async fn remove_secret(
    State(state): State<AppState>,
    user: CurrentUser,
    daemon: Daemon,
    PathArgs(id): PathArgs<String>,
) -> AppResult<StatusCode> {
    user.require(Role::Operator)?;
    audit::audited(&state.db, &user, "secret_remove", &id, async {
        let s = Policy::new(&user, &daemon, &state.db).secret(&id).await?;
        let sid = s.id.unwrap_or_default();
        swarm::call(&daemon, |d| async move { d.delete_secret(&sid).await })
            .await
            .map_err(in_use)
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The daemon's 400 "secret … is in use by the following service: …" is a conflict.
fn in_use(e: AppError) -> AppError {
    match e {
        AppError::BadRequest { message, .. } if message.contains("in use") => {
            AppError::Conflict(format!("{message}: remove it from those services first"))
        }
        other => other,
    }
}

/// The configs the caller may see (metadata only).
#[utoipa::path(get, path = "/api/configs", tag = "swarm",
    responses((status = 200, description = "the configs", body = Vec<wire::SwarmFileSummary>),
              (status = 409, description = "not_a_swarm_manager")))]
pub async fn list_configs(
    user: CurrentUser,
    daemon: Daemon,
) -> AppResult<Json<Vec<wire::SwarmFileSummary>>> {
    user.require(Role::Viewer)?;
    let mut rows: Vec<wire::SwarmFileSummary> = swarm::list_configs(&daemon)
        .await?
        .into_iter()
        .map(|c| {
            let spec = c.spec.unwrap_or_default();
            row(c.id, spec.name, spec.labels, c.created_at, c.updated_at)
        })
        .filter(|r| user.role == Role::Admin || user.can_see_map(&r.labels))
        .collect();
    rows.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(Json(rows))
}

/// `docker config create`: berth never sends the value back.
#[utoipa::path(post, path = "/api/configs", tag = "swarm",
    request_body = wire::CreateSwarmFile,
    responses((status = 201, description = "`{\"id\"}`"), (status = 400, description = "bad field"),
              (status = 409, description = "the name is taken, or not_a_swarm_manager")))]
pub async fn create_config(
    State(state): State<AppState>,
    user: CurrentUser,
    daemon: Daemon,
    JsonBody(req): JsonBody<wire::CreateSwarmFile>,
) -> AppResult<(StatusCode, Json<Value>)> {
    user.require(Role::Operator)?;
    check(&req, "config")?;
    let id = audit::audited(&state.db, &user, "config_create", &req.name, async {
        let labels = policy::own_labels(&user, req.labels.clone(), req.team.as_deref())?;
        let spec = ConfigSpec {
            name: Some(req.name.clone()),
            labels: Some(labels),
            data: Some(base64::engine::general_purpose::STANDARD.encode(&req.data)),
            ..Default::default()
        };
        swarm::create_config(&daemon, &spec).await
    })
    .await?;
    Ok(created(id))
}

/// `docker config rm`.
#[utoipa::path(delete, path = "/api/configs/{id}", tag = "swarm",
    params(("id" = String, Path, description = "config id or name")),
    responses((status = 204, description = "removed"), (status = 404, description = "no such config"),
              (status = 409, description = "a service uses it")))]
pub async fn remove_config(
    State(state): State<AppState>,
    user: CurrentUser,
    daemon: Daemon,
    PathArgs(id): PathArgs<String>,
) -> AppResult<StatusCode> {
    user.require(Role::Operator)?;
    audit::audited(&state.db, &user, "config_remove", &id, async {
        let c = Policy::new(&user, &daemon, &state.db).config(&id).await?;
        swarm::delete_config(&daemon, &c.id.unwrap_or_default())
            .await
            .map_err(in_use)
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
