//! `/api/images`: list, inspect, history, tag, remove, prune, save, load, pull, push, and
//! `POST /api/containers/{id}/commit`. Builds are in `routes/builds.rs`.
//!
//! Images carry no team: every user sees them. Reading (and downloading with save) needs a
//! session; pulling, pushing, tagging, loading, committing and removing need an operator;
//! pruning needs an admin, since it removes what other teams may want.

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use futures::TryStreamExt;
use serde::Deserialize;
use serde_json::Value;
use utoipa_axum::{router::OpenApiRouter, routes};
use wire::Role;

use super::ndjson::{self, Audit};
use crate::auth::{access, CurrentUser};
use crate::docker::reference::{registry_of, Reference, DOCKER_HUB};
use crate::docker::{images, progress, Daemon};
use crate::error::{AppError, AppResult, JsonBody, PathArgs, QueryArgs};
use crate::registry;
use crate::state::AppState;
use crate::store::audit;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(inspect, remove))
        .routes(routes!(history))
        .routes(routes!(tag))
        .routes(routes!(remove_many))
        .routes(routes!(prune))
        .routes(routes!(save))
        .routes(routes!(load))
        .routes(routes!(pull))
        .routes(routes!(push))
        .routes(routes!(commit))
}

/// `docker images --no-trunc`, with container counts.
#[utoipa::path(get, path = "/api/images", tag = "images",
    responses((status = 200, description = "the images, ids untruncated", body = Vec<wire::ImageSummary>), (status = 503, description = "daemon unreachable")))]
pub async fn list(_user: CurrentUser, daemon: Daemon) -> AppResult<Json<Vec<wire::ImageSummary>>> {
    Ok(Json(images::list(&daemon).await?))
}

/// `docker image inspect` (a name with `/` is sent as `%2F`).
#[utoipa::path(get, path = "/api/images/{id}", tag = "images",
    params(("id" = String, Path, description = "image id or reference")),
    responses((status = 200, description = "the daemon's inspect JSON"), (status = 404, description = "no such image")))]
pub async fn inspect(
    _user: CurrentUser,
    daemon: Daemon,
    PathArgs(id): PathArgs<String>,
) -> AppResult<Json<Value>> {
    Ok(Json(images::inspect(&daemon, &id).await?))
}

/// `docker history --no-trunc`.
#[utoipa::path(get, path = "/api/images/{id}/history", tag = "images",
    params(("id" = String, Path, description = "image id or reference")),
    responses((status = 200, description = "the layers, newest first"), (status = 404, description = "no such image")))]
pub async fn history(
    _user: CurrentUser,
    daemon: Daemon,
    PathArgs(id): PathArgs<String>,
) -> AppResult<Json<Value>> {
    Ok(Json(images::history(&daemon, &id).await?))
}

/// `docker tag IMAGE REPO[:TAG]`.
#[utoipa::path(post, path = "/api/images/{id}/tag", tag = "images",
    request_body = wire::TagRequest,
    params(("id" = String, Path, description = "image id or reference")),
    responses((status = 201, description = "tagged"), (status = 400, description = "bad repo or tag"), (status = 404, description = "no such image")))]
pub async fn tag(
    State(state): State<AppState>,
    user: CurrentUser,
    daemon: Daemon,
    PathArgs(id): PathArgs<String>,
    JsonBody(req): JsonBody<wire::TagRequest>,
) -> AppResult<StatusCode> {
    user.require(Role::Operator)?;
    let res = images::tag(&daemon, &id, &req.repo, req.tag.as_deref()).await;
    let target = format!(
        "{id} as {}:{}",
        req.repo,
        req.tag.as_deref().unwrap_or("latest")
    );
    audit::outcome(&state.db, &user, "image_tag", &target, &res).await;
    res.map(|()| StatusCode::CREATED)
}

#[derive(Debug, Deserialize)]
pub struct RemoveQuery {
    #[serde(default)]
    force: bool,
}

/// `docker rmi [-f]`: what was untagged and deleted.
#[utoipa::path(delete, path = "/api/images/{id}", tag = "images",
    params(("id" = String, Path, description = "image id or reference"),
           ("force" = Option<bool>, Query, description = "remove even if tagged several times or used by a stopped container")),
    responses((status = 200, description = "untagged and deleted", body = wire::RemovedImage), (status = 404, description = "no such image"),
              (status = 409, description = "in use")))]
pub async fn remove(
    State(state): State<AppState>,
    user: CurrentUser,
    daemon: Daemon,
    PathArgs(id): PathArgs<String>,
    QueryArgs(q): QueryArgs<RemoveQuery>,
) -> AppResult<Json<wire::RemovedImage>> {
    user.require(Role::Operator)?;
    let res = images::remove(&daemon, &id, q.force).await;
    audit::outcome(&state.db, &user, "image_remove", &id, &res).await;
    res.map(Json)
}

/// `docker rmi [-f] A B ...`: each image's outcome.
#[utoipa::path(post, path = "/api/images/remove", tag = "images",
    request_body = wire::RemoveImages,
    responses((status = 200, description = "one outcome per image", body = Vec<wire::RemoveOutcome>)))]
pub async fn remove_many(
    State(state): State<AppState>,
    user: CurrentUser,
    daemon: Daemon,
    JsonBody(req): JsonBody<wire::RemoveImages>,
) -> AppResult<Json<Vec<wire::RemoveOutcome>>> {
    user.require(Role::Operator)?;
    if req.images.is_empty() {
        return Err(AppError::bad_request(
            "invalid_images",
            "images: name at least one image",
        ));
    }
    let mut out = Vec::with_capacity(req.images.len());
    // One after the other: removing an image can change what the next removal finds.
    for image in req.images {
        let res = images::remove(&daemon, &image, req.force).await;
        audit::outcome(&state.db, &user, "image_remove", &image, &res).await;
        out.push(match res {
            Ok(removed) => wire::RemoveOutcome {
                image,
                removed: Some(removed),
                error: None,
            },
            Err(e) => {
                let body = e.body();
                wire::RemoveOutcome {
                    image,
                    removed: None,
                    error: Some(wire::ErrorDetailLite {
                        code: body.error.code,
                        message: body.error.message,
                    }),
                }
            }
        });
    }
    Ok(Json(out))
}

/// `docker image prune [-a]`; with `dry_run`, what it would remove and about how much space.
#[utoipa::path(post, path = "/api/images/prune", tag = "images",
    request_body = wire::PruneImages,
    responses((status = 200, description = "removed (or would remove) and space reclaimed", body = wire::PruneResult),
              (status = 403, description = "pruning needs an admin")))]
pub async fn prune(
    State(state): State<AppState>,
    user: CurrentUser,
    daemon: Daemon,
    JsonBody(req): JsonBody<wire::PruneImages>,
) -> AppResult<Json<wire::PruneResult>> {
    if req.dry_run {
        return Ok(Json(images::prune(&daemon, &req).await?));
    }
    user.require(Role::Admin)?;
    let res = images::prune(&daemon, &req).await;
    let target = if req.all {
        "unused images"
    } else {
        "dangling images"
    };
    audit::outcome(&state.db, &user, "image_prune", target, &res).await;
    res.map(Json)
}

#[derive(Debug, Deserialize)]
pub struct SaveQuery {
    names: String,
}

/// `docker save -o`: a tar of the images, streamed from the daemon as it makes it.
#[utoipa::path(get, path = "/api/images/save", tag = "images",
    params(("names" = String, Query, description = "comma-separated image ids or references")),
    responses((status = 200, description = "application/x-tar"), (status = 404, description = "no such image")))]
pub async fn save(
    _user: CurrentUser,
    daemon: Daemon,
    QueryArgs(q): QueryArgs<SaveQuery>,
) -> AppResult<Response> {
    let names: Vec<String> = q
        .names
        .split(',')
        .map(|n| n.trim().to_owned())
        .filter(|n| !n.is_empty())
        .collect();
    let stream = images::save(&daemon, &names).await?;
    let file = match names.as_slice() {
        [one] => one
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                    c
                } else {
                    '_'
                }
            })
            .collect::<String>(),
        _ => "images".to_owned(),
    };
    Ok((
        [
            (header::CONTENT_TYPE, "application/x-tar".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file}.tar\""),
            ),
        ],
        Body::from_stream(stream),
    )
        .into_response())
}

/// `docker load -i`: the tar (or gzip tar) body streams into the daemon; ndjson progress.
#[utoipa::path(post, path = "/api/images/load", tag = "images",
    request_body(content = super::Binary, content_type = "application/x-tar", description = "an image archive made by docker save"),
    responses((status = 200, description = "application/x-ndjson progress, ending with done.loaded"),
              (status = 400, description = "not an image archive")))]
pub async fn load(
    State(state): State<AppState>,
    user: CurrentUser,
    daemon: Daemon,
    body: Body,
) -> AppResult<Response> {
    user.require(Role::Operator)?;
    let archive = body.into_data_stream().map_err(std::io::Error::other);
    let lines = progress::load(&daemon, archive).await?;
    let audit = Audit {
        db: state.db.clone(),
        user,
        action: "image_load",
        target: "upload".into(),
    };
    ndjson::respond(lines, audit).await
}

/// The reference to act on and the credentials for it: those of the registry named by
/// id (a name without a host is then taken from that registry), or of the stored
/// registry whose host the name starts with.
async fn resolve(
    state: &AppState,
    req: &wire::PullRequest,
) -> AppResult<(Reference, Option<bollard::auth::DockerCredentials>)> {
    let mut reference = Reference::parse("image", &req.image)?;
    let row = match req.registry {
        Some(id) => {
            let row = registry::get(state, id).await?;
            let names_hub = registry_of(&reference.name) == DOCKER_HUB
                && !reference.name.starts_with("docker.io/");
            if names_hub && row.host != DOCKER_HUB {
                reference.name = format!("{}/{}", row.host, reference.name);
            }
            Some(row)
        }
        None => registry::matching(state, &reference.registry_host()).await?,
    };
    let creds = match &row {
        Some(r) => registry::docker_credentials(state, r)?,
        None => None,
    };
    Ok((reference, creds))
}

/// `docker pull`: per-layer progress as ndjson.
#[utoipa::path(post, path = "/api/images/pull", tag = "images",
    request_body = wire::PullRequest,
    responses((status = 200, description = "application/x-ndjson progress, ending with done or error"),
              (status = 400, description = "invalid reference"), (status = 403, description = "the registry refused the credentials"),
              (status = 404, description = "no such image"), (status = 502, description = "the registry does not answer")))]
pub async fn pull(
    State(state): State<AppState>,
    user: CurrentUser,
    daemon: Daemon,
    JsonBody(req): JsonBody<wire::PullRequest>,
) -> AppResult<Response> {
    user.require(Role::Operator)?;
    let (reference, creds) = resolve(&state, &req).await?;
    let target = reference.full();
    let lines = progress::pull(&daemon, reference, creds).await?;
    let audit = Audit {
        db: state.db.clone(),
        user,
        action: "image_pull",
        target,
    };
    ndjson::respond(lines, audit).await
}

/// `docker push`, with the stored credentials of the image's registry.
#[utoipa::path(post, path = "/api/images/push", tag = "images",
    request_body = wire::PullRequest,
    responses((status = 200, description = "application/x-ndjson progress, ending with done.digest or error"),
              (status = 400, description = "invalid reference"), (status = 403, description = "the registry refused the credentials"),
              (status = 404, description = "no such local image"), (status = 502, description = "the registry does not answer")))]
pub async fn push(
    State(state): State<AppState>,
    user: CurrentUser,
    daemon: Daemon,
    JsonBody(req): JsonBody<wire::PullRequest>,
) -> AppResult<Response> {
    user.require(Role::Operator)?;
    let (reference, creds) = resolve(&state, &req).await?;
    if reference.digest.is_some() {
        return Err(AppError::bad_request(
            "invalid_reference",
            "image: push a name:tag, not a digest",
        ));
    }
    let target = reference.full();
    let lines = progress::push(&daemon, reference, creds).await?;
    let audit = Audit {
        db: state.db.clone(),
        user,
        action: "image_push",
        target,
    };
    ndjson::respond(lines, audit).await
}

/// `docker commit`: a new image from a container the user may reach as an operator.
/// The body is read after the access check, so a refused user learns nothing from it.
#[utoipa::path(post, path = "/api/containers/{id}/commit", tag = "images",
    params(("id" = String, Path, description = "container id, short id or name")),
    request_body(content = wire::CommitRequest, content_type = "application/json", description = "{repo, tag, message, author, changes: [\"CMD ...\"], pause}"),
    responses((status = 201, description = "{\"id\"} of the new image", body = wire::CommitResult), (status = 400, description = "bad repo, tag or change"),
              (status = 403, description = "not allowed"), (status = 404, description = "no such container")))]
pub async fn commit(
    State(state): State<AppState>,
    user: CurrentUser,
    daemon: Daemon,
    PathArgs(id): PathArgs<String>,
    body: Bytes,
) -> AppResult<(StatusCode, Json<wire::CommitResult>)> {
    let res = audit::audited(&state.db, &user, "commit", &id, async {
        let c = access::container(&user, &daemon, &id, Role::Operator).await?;
        let req: wire::CommitRequest = if body.iter().all(u8::is_ascii_whitespace) {
            wire::CommitRequest::default()
        } else {
            crate::error::parse_object(&body)?
        };
        images::commit(&daemon, &c.id, &req).await
    })
    .await;
    res.map(|r| (StatusCode::CREATED, Json(r)))
}
