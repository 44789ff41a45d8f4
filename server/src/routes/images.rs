//! `/api/images`: list, inspect, history, tag, remove, prune, save, load, pull, push, and
//! `POST /api/containers/{id}/commit`. Builds are in `routes/builds.rs`.
//!
//! Image tags have owners (`auth::policy::images`): a user sees, inspects, saves, pushes and
//! runs shared tags and their teams' tags, and another team's image answers as a missing
//! one. Pulling, pushing, tagging, loading, committing and removing need an operator, and
//! each tag they write or take away is decided by the one policy; pruning needs an admin,
//! since it removes what other teams may want.

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
use crate::auth::policy::resolve::Policy;
use crate::auth::{access, CurrentUser};
use crate::docker::reference::{check_image, registry_of, Reference, DOCKER_HUB};
use crate::docker::{images, progress, tar_gate, Daemon};
use crate::error::{AppError, AppResult, JsonBody, PathArgs, QueryArgs};
use crate::registry;
use crate::state::AppState;
use crate::store::{audit, image_owners};

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
pub async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
    daemon: Daemon,
) -> AppResult<Json<Vec<wire::ImageSummary>>> {
    let (rows, owners) = tokio::try_join!(images::list(&daemon), async {
        Ok(image_owners::all(&state.db, &daemon.name)
            .await?
            .into_iter()
            .collect::<std::collections::HashMap<_, _>>())
    })?;
    let policy = Policy::new(&user, &daemon, &state.db);
    let rows = rows
        .into_iter()
        .filter_map(|mut row| {
            row.repo_tags = policy.visible_tags(&owners, &row.id, &row.repo_tags)?;
            Some(row)
        })
        .collect();
    Ok(Json(rows))
}

/// `docker image inspect` (a name with `/` is sent as `%2F`).
#[utoipa::path(get, path = "/api/images/{id}", tag = "images",
    params(("id" = String, Path, description = "image id or reference")),
    responses((status = 200, description = "the daemon's inspect JSON"), (status = 404, description = "no such image")))]
pub async fn inspect(
    State(state): State<AppState>,
    user: CurrentUser,
    daemon: Daemon,
    PathArgs(id): PathArgs<String>,
) -> AppResult<Json<Value>> {
    check_image("id", &id)?;
    Policy::new(&user, &daemon, &state.db)
        .image_use(&id)
        .await?;
    Ok(Json(images::inspect(&daemon, &id).await?))
}

/// `docker history --no-trunc`.
#[utoipa::path(get, path = "/api/images/{id}/history", tag = "images",
    params(("id" = String, Path, description = "image id or reference")),
    responses((status = 200, description = "the layers, newest first"), (status = 404, description = "no such image")))]
pub async fn history(
    State(state): State<AppState>,
    user: CurrentUser,
    daemon: Daemon,
    PathArgs(id): PathArgs<String>,
) -> AppResult<Json<Value>> {
    check_image("id", &id)?;
    Policy::new(&user, &daemon, &state.db)
        .image_use(&id)
        .await?;
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
    let new_tag = format!("{}:{}", req.repo, req.tag.as_deref().unwrap_or("latest"));
    let target = format!("{id} as {new_tag}");
    let policy = Policy::new(&user, &daemon, &state.db);
    let res = async {
        check_image("id", &id)?;
        policy.image_use(&id).await?;
        policy
            .image_write(std::slice::from_ref(&new_tag), false)
            .await?;
        images::tag(&daemon, &id, &req.repo, req.tag.as_deref()).await?;
        policy
            .image_written(std::slice::from_ref(&new_tag), None)
            .await
    }
    .await;
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
    let res = remove_one(&Policy::new(&user, &daemon, &state.db), &id, q.force).await;
    audit::outcome(&state.db, &user, "image_remove", &id, &res).await;
    res.map(Json)
}

/// Remove (or untag) one image the policy lets this user take away.
async fn remove_one(
    policy: &Policy<'_>,
    image: &str,
    force: bool,
) -> AppResult<wire::RemovedImage> {
    check_image("image", image)?;
    policy.image_remove(image).await?;
    let removed = images::remove(policy.ep, image, force).await?;
    policy.image_untagged(&removed.untagged).await?;
    Ok(removed)
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
    let policy = Policy::new(&user, &daemon, &state.db);
    // One after the other: removing an image can change what the next removal finds.
    for image in req.images {
        let res = remove_one(&policy, &image, req.force).await;
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
    State(state): State<AppState>,
    user: CurrentUser,
    daemon: Daemon,
    QueryArgs(q): QueryArgs<SaveQuery>,
) -> AppResult<Response> {
    let names: Vec<String> = q
        .names
        .split(',')
        .map(|n| n.trim().to_owned())
        .filter(|n| !n.is_empty())
        .collect();
    let policy = Policy::new(&user, &daemon, &state.db);
    for n in &names {
        check_image("names", n)?;
        policy.image_use(n).await?;
    }
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
    Daemon(daemon): Daemon,
    body: Body,
) -> AppResult<Response> {
    user.require(Role::Operator)?;
    let archive = body.into_data_stream().map_err(std::io::Error::other);
    // The tags an archive brings are in its manifest: decided before the daemon has the
    // whole archive (it tags nothing before that).
    let refusal = progress::Refusal::default();
    let judge = {
        let (state, user, ep, refusal) =
            (state.clone(), user.clone(), daemon.clone(), refusal.clone());
        move |captured: tar_gate::Captured| -> tar_gate::Verdict {
            Box::pin(async move {
                let policy = Policy::new(&user, &ep, &state.db);
                let tags = archive_tags(&captured);
                let res = async {
                    policy.image_write(&tags, false).await?;
                    policy.image_written(&tags, None).await
                }
                .await;
                res.map_err(|e| {
                    let why = e.to_string();
                    if let Ok(mut slot) = refusal.lock() {
                        *slot = Some(e);
                    }
                    why
                })
            })
        }
    };
    let archive = tar_gate::gate(
        Box::pin(archive),
        vec!["manifest.json".into(), "repositories".into()],
        judge,
    );
    let lines = progress::load(&daemon, archive, refusal).await?;
    let audit = Audit {
        db: state.db.clone(),
        user,
        action: "image_load",
        target: "upload".into(),
    };
    ndjson::respond(lines, audit).await
}

/// The tags an image archive would set: `manifest.json`'s `RepoTags`, and the legacy
/// `repositories` file's `{"repo": {"tag": id}}`.
pub fn archive_tags(captured: &tar_gate::Captured) -> Vec<String> {
    let mut tags = Vec::new();
    if let Some(m) = captured.get("manifest.json") {
        if let Ok(Value::Array(items)) = serde_json::from_slice::<Value>(m) {
            for item in items {
                for t in item["RepoTags"].as_array().into_iter().flatten() {
                    tags.extend(t.as_str().map(str::to_owned));
                }
            }
        }
    }
    if let Some(r) = captured.get("repositories") {
        if let Ok(Value::Object(repos)) = serde_json::from_slice::<Value>(r) {
            for (repo, t) in repos {
                for tag in t.as_object().into_iter().flat_map(|o| o.keys()) {
                    tags.push(format!("{repo}:{tag}"));
                }
            }
        }
    }
    tags
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
    let policy = Policy::new(&user, &daemon, &state.db);
    let fresh = policy
        .image_write(std::slice::from_ref(&target), true)
        .await?;
    policy.image_written(&fresh, None).await?;
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
    Policy::new(&user, &daemon, &state.db)
        .image_use(&target)
        .await?;
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
        let policy = Policy::new(&user, &daemon, &state.db);
        let tags: Vec<String> = req
            .repo
            .as_deref()
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .map(|r| format!("{r}:{}", req.tag.as_deref().unwrap_or("latest")))
            .into_iter()
            .collect();
        policy.image_write(&tags, false).await?;
        let made = images::commit(&daemon, &c.id, &req).await?;
        policy.image_written(&tags, Some(&made.id)).await?;
        Ok(made)
    })
    .await;
    res.map(|r| (StatusCode::CREATED, Json(r)))
}
