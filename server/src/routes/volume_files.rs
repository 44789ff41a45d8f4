//! `/api/volumes/{name}/files|download|upload|mkdir`: a named volume's file browser.
//! Rights follow the volume's `berth.team` label: a viewer lists and downloads, an operator
//! of the team also uploads, makes folders and deletes. Every answer says how the volume
//! was reached in `X-Berth-Volume-Access: direct|daemon`.

use axum::extract::{DefaultBodyLimit, Multipart, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use utoipa_axum::{router::OpenApiRouter, routes};
use wire::Role;

use crate::auth::policy::resolve::Policy;
use crate::auth::CurrentUser;
use crate::docker::volume_files::{self, VolumeInfo};
use crate::docker::Daemon;
use crate::error::{AppResult, PathArgs, QueryArgs};
use crate::files::path::RelPath;
use crate::files::volume::{self, Tree};
use crate::state::AppState;
use crate::store::audit;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(files, delete_file))
        .routes(routes!(download))
        .routes(routes!(mkdir))
        .merge(
            OpenApiRouter::new()
                .routes(routes!(upload))
                .layer(DefaultBodyLimit::disable()),
        )
}

#[derive(Debug, Deserialize)]
pub struct PathQuery {
    #[serde(default)]
    path: String,
}

const MODE_HEADER: &str = "x-berth-volume-access";

/// Inspect the volume, check this user may reach it with `role`, and open the way in.
async fn open(
    state: &AppState,
    user: &CurrentUser,
    daemon: &Daemon,
    name: &str,
    role: Role,
) -> AppResult<Tree> {
    user.require(role)?;
    // Browsing a volume reaches what mounting it would: the one policy decides (another
    // team's is a missing one; one whose options bind a host folder is an admin's).
    let info: VolumeInfo = volume_files::inspect(daemon, name).await?;
    Policy::new(user, daemon, &state.db)
        .volume(name, "", None, false)
        .await?;
    volume::open(
        daemon.0.clone(),
        &info,
        state.config.volume_access,
        role >= Role::Operator,
        state.config.helper_image.as_deref(),
    )
    .await
}

fn with_mode(mut r: Response, mode: &'static str) -> Response {
    r.headers_mut()
        .insert(MODE_HEADER, HeaderValue::from_static(mode));
    r
}

/// A folder of the volume: `[{name, kind, size, mode, mtime, link_target?}]`.
#[utoipa::path(get, path = "/api/volumes/{name}/files", tag = "volumes",
    params(("name" = String, Path, description = "volume name"), ("path" = Option<String>, Query, description = "folder, `/` by default")),
    responses((status = 200, description = "the entries"), (status = 403, description = "another team's volume"),
              (status = 404, description = "no such volume or folder")))]
pub async fn files(
    State(state): State<AppState>,
    user: CurrentUser,
    daemon: Daemon,
    PathArgs(name): PathArgs<String>,
    QueryArgs(q): QueryArgs<PathQuery>,
) -> AppResult<Response> {
    let rel = RelPath::parse(&q.path)?;
    let tree = open(&state, &user, &daemon, &name, Role::Viewer).await?;
    let mode = tree.mode();
    let list = volume::list(&tree, rel).await?;
    Ok(with_mode(Json(list).into_response(), mode))
}

/// A file (attachment) or a folder (streamed tar).
#[utoipa::path(get, path = "/api/volumes/{name}/download", tag = "volumes",
    params(("name" = String, Path, description = "volume name"), ("path" = Option<String>, Query, description = "file or folder")),
    responses((status = 200, description = "the file, or application/x-tar for a folder")))]
pub async fn download(
    State(state): State<AppState>,
    user: CurrentUser,
    daemon: Daemon,
    method: Method,
    headers: HeaderMap,
    PathArgs(name): PathArgs<String>,
    QueryArgs(q): QueryArgs<PathQuery>,
) -> AppResult<Response> {
    let rel = RelPath::parse(&q.path)?;
    let tree = open(&state, &user, &daemon, &name, Role::Viewer).await?;
    let mode = tree.mode();
    let r = volume::download(tree, rel, &headers, method == Method::HEAD).await?;
    Ok(with_mode(r, mode))
}

/// Upload files (`multipart/form-data` file parts) into the folder `path`.
#[utoipa::path(put, path = "/api/volumes/{name}/upload", tag = "volumes",
    request_body(content = super::Binary, content_type = "application/x-tar", description = "a tar, or multipart/form-data files"),
    params(("name" = String, Path, description = "volume name"), ("path" = Option<String>, Query, description = "target folder")),
    responses((status = 200, description = "{written, bytes}"), (status = 403, description = "viewer, or another team's volume"),
              (status = 409, description = "a target is a folder or a symlink")))]
pub async fn upload(
    State(state): State<AppState>,
    user: CurrentUser,
    daemon: Daemon,
    PathArgs(name): PathArgs<String>,
    QueryArgs(q): QueryArgs<PathQuery>,
    form: Multipart,
) -> AppResult<Response> {
    let target = format!("{name}:{}", q.path);
    let res = audit::audited(&state.db, &user, "volume_upload", &target, async {
        let rel = RelPath::parse(&q.path)?;
        let tree = open(&state, &user, &daemon, &name, Role::Operator).await?;
        let mode = tree.mode();
        let spool = state.config.data_dir.join("tmp");
        Ok((volume::upload(tree, rel, form, spool).await?, mode))
    })
    .await;
    let (done, mode) = res?;
    Ok(with_mode(Json(done).into_response(), mode))
}

/// Make a folder.
#[utoipa::path(post, path = "/api/volumes/{name}/mkdir", tag = "volumes",
    params(("name" = String, Path, description = "volume name"), ("path" = String, Query, description = "the new folder")),
    responses((status = 201, description = "made"), (status = 409, description = "exists")))]
pub async fn mkdir(
    State(state): State<AppState>,
    user: CurrentUser,
    daemon: Daemon,
    PathArgs(name): PathArgs<String>,
    QueryArgs(q): QueryArgs<PathQuery>,
) -> AppResult<StatusCode> {
    let target = format!("{name}:{}", q.path);
    let res = audit::audited(&state.db, &user, "volume_mkdir", &target, async {
        let rel = RelPath::parse(&q.path)?;
        let tree = open(&state, &user, &daemon, &name, Role::Operator).await?;
        volume::mkdir(tree, rel).await
    })
    .await;
    res.map(|()| StatusCode::CREATED)
}

/// Delete a file, a symlink or a folder (needs direct access to the mount point).
#[utoipa::path(delete, path = "/api/volumes/{name}/files", tag = "volumes",
    params(("name" = String, Path, description = "volume name"), ("path" = String, Query, description = "what to delete")),
    responses((status = 204, description = "deleted"), (status = 409, description = "only possible with direct access")))]
pub async fn delete_file(
    State(state): State<AppState>,
    user: CurrentUser,
    daemon: Daemon,
    PathArgs(name): PathArgs<String>,
    QueryArgs(q): QueryArgs<PathQuery>,
) -> AppResult<StatusCode> {
    let target = format!("{name}:{}", q.path);
    let res = audit::audited(&state.db, &user, "volume_delete", &target, async {
        let rel = RelPath::parse(&q.path)?;
        let tree = open(&state, &user, &daemon, &name, Role::Operator).await?;
        volume::delete(tree, rel).await
    })
    .await;
    res.map(|()| StatusCode::NO_CONTENT)
}
