//! `/api/registries`: stored registries (admin edits, everyone reads, passwords never
//! leave), the daemon's registry settings, and browsing a registry's catalog.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use utoipa_axum::{router::OpenApiRouter, routes};
use wire::Role;

use crate::auth::CurrentUser;
use crate::docker::reference::check_reference;
use crate::docker::Daemon;
use crate::error::{AppError, AppResult, JsonBody, PathArgs, QueryArgs};
use crate::registry::{self, secret};
use crate::state::AppState;
use crate::store::{audit, registries as store};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(update, update_put, remove))
        .routes(routes!(daemon_view))
        .routes(routes!(catalog))
        .routes(routes!(delete_tag))
}

/// Registries, without passwords.
#[utoipa::path(get, path = "/api/registries", tag = "registries",
    responses((status = 200, description = "the stored registries; passwords are never returned", body = Vec<wire::RegistryInfo>)))]
pub async fn list(
    State(state): State<AppState>,
    _user: CurrentUser,
    daemon: Daemon,
) -> AppResult<Json<Vec<wire::RegistryInfo>>> {
    let rows = store::list(&state.db).await?;
    let mut out: Vec<wire::RegistryInfo> = rows.iter().map(store::Row::info).collect();
    // Plain-HTTP registries the daemon would refuse get a hint; without a daemon, none.
    if out.iter().any(|r| r.url.starts_with("http://")) {
        if let Ok(view) = registry::daemon_view(&daemon).await {
            for r in out.iter_mut().filter(|r| r.url.starts_with("http://")) {
                if !registry::daemon_trusts_http(&view, &r.host) {
                    r.insecure_hint = Some(registry::insecure_hint(&r.host));
                }
            }
        }
    }
    Ok(Json(out))
}

fn check_name(name: &str) -> AppResult<String> {
    let name = name.trim();
    if name.is_empty() || name.len() > 100 || name.chars().any(char::is_control) {
        return Err(AppError::bad_request(
            "invalid_name",
            "name: give the registry a name of 1 to 100 characters",
        ));
    }
    Ok(name.to_owned())
}

fn seal(state: &AppState, password: Option<&str>) -> AppResult<Option<String>> {
    password
        .filter(|p| !p.is_empty())
        .map(|p| secret::seal(&state.config.data_dir, p))
        .transpose()
        .map_err(AppError::Internal)
}

async fn save(state: &AppState, row: store::Row, new: bool) -> AppResult<store::Row> {
    let res = if new {
        store::insert(&state.db, &row)
            .await
            .map(|id| store::Row { id, ..row })
    } else {
        store::update(&state.db, &row).await.map(|_| row)
    };
    res.map_err(|e| match &e {
        sqlx::Error::Database(d) if d.is_unique_violation() => registry::name_taken(""),
        _ => AppError::from(e),
    })
}

/// Add a registry (admin). The password is sealed with the data dir's key.
#[utoipa::path(post, path = "/api/registries", tag = "registries",
    request_body = wire::RegistryInput,
    responses((status = 201, description = "the registry, without its password", body = wire::RegistryInfo), (status = 400, description = "bad name or url"),
              (status = 409, description = "the name is taken")))]
pub async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    JsonBody(req): JsonBody<wire::RegistryInput>,
) -> AppResult<(StatusCode, Json<wire::RegistryInfo>)> {
    user.require(Role::Admin)?;
    let res = async {
        let (url, host) = registry::normalize(req.url.as_deref().unwrap_or(""))?;
        let name = check_name(req.name.as_deref().unwrap_or(&host))?;
        let row = store::Row {
            id: 0,
            name: name.clone(),
            url,
            host,
            username: req.username.clone().filter(|u| !u.is_empty()),
            password: seal(&state, req.password.as_deref())?,
        };
        save(&state, row, true).await.map_err(|e| match e {
            AppError::Coded {
                code: "registry_exists",
                ..
            } => registry::name_taken(&name),
            e => e,
        })
    }
    .await;
    let target = req.name.clone().or(req.url.clone()).unwrap_or_default();
    audit::outcome(&state.db, &user, "registry_create", &target, &res).await;
    res.map(|row| (StatusCode::CREATED, Json(row.info())))
}

/// Edit a registry (admin): fields left out stay; a missing password keeps the stored one,
/// an empty one removes it.
#[utoipa::path(patch, path = "/api/registries/{id}", tag = "registries",
    request_body = wire::RegistryInput,
    params(("id" = i64, Path, description = "registry id")),
    responses((status = 200, description = "the registry, without its password", body = wire::RegistryInfo), (status = 404, description = "no such registry")))]
pub async fn update(
    State(state): State<AppState>,
    user: CurrentUser,
    PathArgs(id): PathArgs<i64>,
    JsonBody(req): JsonBody<wire::RegistryInput>,
) -> AppResult<Json<wire::RegistryInfo>> {
    user.require(Role::Admin)?;
    let res = audit::audited(
        &state.db,
        &user,
        "registry_update",
        &id.to_string(),
        async {
            let mut row = registry::get(&state, id).await?;
            if let Some(url) = req.url.as_deref() {
                let (url, host) = registry::normalize(url)?;
                row.url = url;
                row.host = host;
            }
            if let Some(name) = req.name.as_deref() {
                row.name = check_name(name)?;
            }
            if let Some(u) = req.username.as_deref() {
                row.username = Some(u.to_owned()).filter(|u| !u.is_empty());
            }
            if let Some(p) = req.password.as_deref() {
                row.password = seal(&state, Some(p))?;
            }
            let name = row.name.clone();
            save(&state, row, false).await.map_err(|e| match e {
                AppError::Coded {
                    code: "registry_exists",
                    ..
                } => registry::name_taken(&name),
                e => e,
            })
        },
    )
    .await;
    res.map(|row| Json(row.info()))
}

/// The same as PATCH.
#[utoipa::path(put, path = "/api/registries/{id}", tag = "registries",
    request_body = wire::RegistryInput,
    params(("id" = i64, Path, description = "registry id")),
    responses((status = 200, description = "the registry, without its password", body = wire::RegistryInfo), (status = 404, description = "no such registry")))]
pub async fn update_put(
    state: State<AppState>,
    user: CurrentUser,
    id: PathArgs<i64>,
    body: JsonBody<wire::RegistryInput>,
) -> AppResult<Json<wire::RegistryInfo>> {
    update(state, user, id, body).await
}

/// Remove a registry and its stored credentials (admin).
#[utoipa::path(delete, path = "/api/registries/{id}", tag = "registries",
    params(("id" = i64, Path, description = "registry id")),
    responses((status = 204, description = "removed"), (status = 404, description = "no such registry")))]
pub async fn remove(
    State(state): State<AppState>,
    user: CurrentUser,
    PathArgs(id): PathArgs<i64>,
) -> AppResult<StatusCode> {
    user.require(Role::Admin)?;
    let res = match store::delete(&state.db, id).await {
        Ok(true) => Ok(()),
        Ok(false) => Err(AppError::NotFound(format!("no registry with id {id}"))),
        Err(e) => Err(e.into()),
    };
    audit::outcome(&state.db, &user, "registry_remove", &id.to_string(), &res).await;
    res.map(|()| StatusCode::NO_CONTENT)
}

/// How the daemon treats registries: its insecure (plain HTTP) registries and mirrors.
#[utoipa::path(get, path = "/api/registries/daemon", tag = "registries",
    responses((status = 200, description = "insecure_registries and mirrors from docker info", body = wire::DaemonRegistries)))]
pub async fn daemon_view(
    _user: CurrentUser,
    daemon: Daemon,
) -> AppResult<Json<wire::DaemonRegistries>> {
    Ok(Json(registry::daemon_view(&daemon).await?))
}

/// Repositories and their tags, through the registry's HTTP API with its stored credentials.
#[utoipa::path(get, path = "/api/registries/{id}/catalog", tag = "registries",
    params(("id" = i64, Path, description = "registry id")),
    responses((status = 200, description = "[{repository, tags}]", body = Vec<wire::CatalogEntry>), (status = 403, description = "the registry refused the credentials"),
              (status = 502, description = "the registry does not answer")))]
pub async fn catalog(
    State(state): State<AppState>,
    _user: CurrentUser,
    PathArgs(id): PathArgs<i64>,
) -> AppResult<Json<Vec<wire::CatalogEntry>>> {
    let client = registry::client(&state, id).await?;
    Ok(Json(client.catalog().await?))
}

#[derive(Debug, Deserialize)]
pub struct TagQuery {
    repository: String,
    tag: String,
}

/// Delete a tag's manifest from the registry (admin), where the registry allows deletes.
#[utoipa::path(delete, path = "/api/registries/{id}/tags", tag = "registries",
    params(("id" = i64, Path, description = "registry id"),
           ("repository" = String, Query, description = "repository name"),
           ("tag" = String, Query, description = "tag")),
    responses((status = 200, description = "{\"digest\"} deleted"), (status = 404, description = "no such tag"),
              (status = 409, description = "the registry does not allow deleting")))]
pub async fn delete_tag(
    State(state): State<AppState>,
    user: CurrentUser,
    PathArgs(id): PathArgs<i64>,
    QueryArgs(q): QueryArgs<TagQuery>,
) -> AppResult<Json<serde_json::Value>> {
    user.require(Role::Admin)?;
    let target = format!("{}:{}", q.repository, q.tag);
    let res = audit::audited(&state.db, &user, "registry_delete_tag", &target, async {
        // Only a repository name and a tag may reach the registry's URL.
        let repo = check_reference("repository", &q.repository)?;
        if repo.contains(':') || repo.contains('@') {
            return Err(AppError::bad_request(
                "invalid_reference",
                "repository: give the name alone; the tag goes in \"tag\"",
            ));
        }
        let tag = crate::docker::reference::check_tag(&q.tag)?;
        let client = registry::client(&state, id).await?;
        client.delete_tag(repo, tag).await
    })
    .await;
    res.map(|digest| Json(serde_json::json!({ "digest": digest })))
}
