//! `/api/shares`: declare shares (admin), and the JSON file API behind the app's share
//! browser: list, download, upload, new folder, rename, delete.

use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, Multipart, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::Response;
use axum::Json;
use serde::Deserialize;
use utoipa_axum::{router::OpenApiRouter, routes};
use wire::Role;

use crate::auth::CurrentUser;
use crate::error::{AppError, AppResult, JsonBody, PathArgs, QueryArgs};
use crate::files::path::{RelPath, Root};
use crate::files::shares::{self, Share};
use crate::files::{local, write};
use crate::state::AppState;
use crate::store::{self, audit};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(remove))
        .routes(routes!(files, delete_file))
        .routes(routes!(download))
        .routes(routes!(mkdir))
        .routes(routes!(rename))
        // Uploads stream to disk: no body limit (axum's default is 2 MB).
        .merge(
            OpenApiRouter::new()
                .routes(routes!(upload))
                .layer(DefaultBodyLimit::disable()),
        )
}

/// The shares this user may see (all of them for an admin, with their host paths).
#[utoipa::path(get, path = "/api/shares", tag = "shares",
    responses((status = 200, description = "[{name, path, writable, teams, source}]", body = Vec<wire::Share>)))]
pub async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
) -> AppResult<Json<Vec<wire::Share>>> {
    let all = shares::all(&state).await?;
    Ok(Json(
        all.iter()
            .filter(|s| s.visible_to(&user))
            .map(|s| s.wire(&user))
            .collect(),
    ))
}

/// Publish a host folder (admin).
#[utoipa::path(post, path = "/api/shares", tag = "shares",
    request_body(content = wire::ShareCreate, description = "{name, path, writable, teams}", content_type = "application/json"),
    responses((status = 201, description = "the share", body = wire::Share), (status = 400, description = "bad name, path or team"),
              (status = 409, description = "the name is taken")))]
pub async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    JsonBody(body): JsonBody<wire::ShareCreate>,
) -> AppResult<(StatusCode, Json<wire::Share>)> {
    let res = create_inner(&state, &user, body.clone()).await;
    audit::outcome(&state.db, &user, "share_create", &body.name, &res).await;
    res.map(|s| (StatusCode::CREATED, Json(s.wire(&user))))
}

async fn create_inner(
    state: &AppState,
    user: &CurrentUser,
    body: wire::ShareCreate,
) -> AppResult<Share> {
    user.require(Role::Admin)?;
    shares::check_name(&body.name).map_err(|m| AppError::bad_request("invalid_share_name", m))?;
    let path = shares::check_path(&body.path)
        .map_err(|m| AppError::bad_request("invalid_share_path", m))?;
    let known = store::teams::names(&state.db).await?;
    if let Some(t) = body.teams.iter().find(|t| !known.contains(t)) {
        return Err(AppError::bad_request(
            "unknown_team",
            format!("teams: there is no team {t:?}"),
        ));
    }
    if state.shares.iter().any(|s| s.name == body.name) {
        return Err(AppError::Conflict(format!(
            "a share named {:?} is declared with --share",
            body.name
        )));
    }
    let path_text = path.to_str().ok_or_else(|| {
        AppError::bad_request("invalid_share_path", "share path must be valid UTF-8")
    })?;
    if !store::shares::insert(&state.db, &body.name, path_text, body.writable, &body.teams).await? {
        return Err(AppError::Conflict(format!(
            "a share named {:?} exists",
            body.name
        )));
    }
    Ok(Share {
        name: body.name,
        path,
        writable: body.writable,
        teams: body.teams,
        from_flag: false,
    })
}

/// Stop publishing a share (admin). Shares from `--share` flags cannot be removed here.
#[utoipa::path(delete, path = "/api/shares/{name}", tag = "shares",
    params(("name" = String, Path, description = "share name")),
    responses((status = 204, description = "removed"), (status = 404, description = "no such share"),
              (status = 409, description = "declared with a --share flag")))]
pub async fn remove(
    State(state): State<AppState>,
    user: CurrentUser,
    PathArgs(name): PathArgs<String>,
) -> AppResult<StatusCode> {
    let res = audit::audited(&state.db, &user, "share_remove", &name, async {
        user.require(Role::Admin)?;
        if state.shares.iter().any(|s| s.name == name) {
            return Err(AppError::Conflict(format!(
                "share {name:?} is declared with --share: remove the flag and restart berth"
            )));
        }
        if !store::shares::delete(&state.db, &name).await? {
            return Err(AppError::NotFound(format!("no share named {name:?}")));
        }
        Ok(())
    })
    .await;
    res.map(|()| StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize)]
pub struct PathQuery {
    #[serde(default)]
    path: String,
}

async fn open(state: &AppState, user: &CurrentUser, name: &str) -> AppResult<(Share, Arc<Root>)> {
    let share = shares::find(state, user, name).await?;
    let root = Arc::new(share.open()?);
    Ok((share, root))
}

/// The share's root, if this user may write to it.
async fn open_for_writing(
    state: &AppState,
    user: &CurrentUser,
    name: &str,
) -> AppResult<Arc<Root>> {
    let (share, root) = open(state, user, name).await?;
    share.check_write(user)?;
    Ok(root)
}

/// A folder's entries: `[{name, kind, size, mode, mtime, link_target?}]`.
#[utoipa::path(get, path = "/api/shares/{name}/files", tag = "shares",
    params(("name" = String, Path, description = "share name"), ("path" = Option<String>, Query, description = "folder, `/` by default")),
    responses((status = 200, description = "the entries", body = Vec<wire::FileEntry>), (status = 404, description = "no such share or folder")))]
pub async fn files(
    State(state): State<AppState>,
    user: CurrentUser,
    PathArgs(name): PathArgs<String>,
    QueryArgs(q): QueryArgs<PathQuery>,
) -> AppResult<Json<Vec<wire::FileEntry>>> {
    let rel = RelPath::parse(&q.path)?;
    let (_, root) = open(&state, &user, &name).await?;
    Ok(Json(local::list_wire(root, rel).await?))
}

/// A file (as an attachment, with ranges) or a folder (as a streamed tar).
#[utoipa::path(get, path = "/api/shares/{name}/download", tag = "shares",
    params(("name" = String, Path, description = "share name"), ("path" = String, Query, description = "file or folder")),
    responses((status = 200, description = "the file, or application/x-tar for a folder")))]
pub async fn download(
    State(state): State<AppState>,
    user: CurrentUser,
    method: Method,
    headers: HeaderMap,
    PathArgs(name): PathArgs<String>,
    QueryArgs(q): QueryArgs<PathQuery>,
) -> AppResult<Response> {
    let rel = RelPath::parse(&q.path)?;
    let (_, root) = open(&state, &user, &name).await?;
    local::download(root, rel, &headers, method == Method::HEAD).await
}

/// Upload files (`multipart/form-data`, file parts; a part named `sub/a.txt` lands in
/// `sub/`) into the folder `path` of a writable share.
#[utoipa::path(put, path = "/api/shares/{name}/upload", tag = "shares",
    request_body(content = super::Binary, content_type = "application/x-tar", description = "a tar, or multipart/form-data files"),
    params(("name" = String, Path, description = "share name"), ("path" = Option<String>, Query, description = "target folder")),
    responses((status = 200, description = "{written, bytes}", body = wire::UploadResult), (status = 403, description = "read-only share or viewer"),
              (status = 409, description = "a target is a folder or a symlink")))]
pub async fn upload(
    State(state): State<AppState>,
    user: CurrentUser,
    PathArgs(name): PathArgs<String>,
    QueryArgs(q): QueryArgs<PathQuery>,
    form: Multipart,
) -> AppResult<Json<wire::UploadResult>> {
    let target = format!("{name}:{}", q.path);
    let res = audit::audited(&state.db, &user, "share_upload", &target, async {
        let rel = RelPath::parse(&q.path)?;
        let root = open_for_writing(&state, &user, &name).await?;
        write::upload(root, rel, form).await
    })
    .await;
    res.map(Json)
}

/// Make a folder.
#[utoipa::path(post, path = "/api/shares/{name}/mkdir", tag = "shares",
    params(("name" = String, Path, description = "share name"), ("path" = String, Query, description = "the new folder")),
    responses((status = 201, description = "made"), (status = 409, description = "exists")))]
pub async fn mkdir(
    State(state): State<AppState>,
    user: CurrentUser,
    PathArgs(name): PathArgs<String>,
    QueryArgs(q): QueryArgs<PathQuery>,
) -> AppResult<StatusCode> {
    let target = format!("{name}:{}", q.path);
    let res = audit::audited(&state.db, &user, "share_mkdir", &target, async {
        let rel = RelPath::parse(&q.path)?;
        let root = open_for_writing(&state, &user, &name).await?;
        write::mkdir(root, rel).await
    })
    .await;
    res.map(|()| StatusCode::CREATED)
}

/// Rename or move a file or folder within the share; never replaces anything.
#[utoipa::path(post, path = "/api/shares/{name}/rename", tag = "shares",
    params(("name" = String, Path, description = "share name")),
    request_body(content = wire::RenameRequest, description = "{from, to}", content_type = "application/json"),
    responses((status = 204, description = "renamed"), (status = 409, description = "the target exists")))]
pub async fn rename(
    State(state): State<AppState>,
    user: CurrentUser,
    PathArgs(name): PathArgs<String>,
    JsonBody(body): JsonBody<wire::RenameRequest>,
) -> AppResult<StatusCode> {
    let res = async {
        let from = RelPath::parse(&body.from)?;
        let to = RelPath::parse(&body.to)?;
        let root = open_for_writing(&state, &user, &name).await?;
        write::rename(root, from, to).await
    }
    .await;
    let target = format!("{name}:{} -> {}", body.from, body.to);
    audit::outcome(&state.db, &user, "share_rename", &target, &res).await;
    res.map(|()| StatusCode::NO_CONTENT)
}

/// Delete a file, a symlink (not what it points to) or a folder with its contents.
#[utoipa::path(delete, path = "/api/shares/{name}/files", tag = "shares",
    params(("name" = String, Path, description = "share name"), ("path" = String, Query, description = "what to delete")),
    responses((status = 204, description = "deleted"), (status = 404, description = "not there")))]
pub async fn delete_file(
    State(state): State<AppState>,
    user: CurrentUser,
    PathArgs(name): PathArgs<String>,
    QueryArgs(q): QueryArgs<PathQuery>,
) -> AppResult<StatusCode> {
    let target = format!("{name}:{}", q.path);
    let res = audit::audited(&state.db, &user, "share_delete", &target, async {
        let rel = RelPath::parse(&q.path)?;
        let root = open_for_writing(&state, &user, &name).await?;
        write::delete(root, rel).await
    })
    .await;
    res.map(|()| StatusCode::NO_CONTENT)
}
