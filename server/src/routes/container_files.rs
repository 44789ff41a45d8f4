//! `docker cp` in and out: `GET /api/containers/{id}/files?path=` (a folder listing),
//! `GET .../archive?path=` (a tar, streamed) and `PUT .../archive?path=DIR` (a tar body or
//! multipart files, streamed into the container; constant memory either way).

use std::io::SeekFrom;

use axum::body::Body;
use axum::extract::{DefaultBodyLimit, FromRequest, Multipart, Request, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use bytes::Bytes;
use futures::{Stream, StreamExt, TryStreamExt};
use serde::Deserialize;
use tokio::io::{AsyncSeekExt, AsyncWriteExt};
use tokio_util::io::ReaderStream;
use utoipa_axum::{router::OpenApiRouter, routes};
use wire::Role;

use crate::auth::{access, CurrentUser};
use crate::docker::files;
use crate::docker::Daemon;
use crate::error::{AppError, AppResult, PathArgs, QueryArgs};
use crate::state::AppState;
use crate::store::audit;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(download_file))
        .routes(routes!(download, upload))
        // Uploads are streamed (or spooled to disk), never held in memory: no size limit.
        .layer(DefaultBodyLimit::disable())
}

#[derive(Debug, Deserialize)]
pub struct PathQuery {
    path: Option<String>,
}

impl PathQuery {
    fn path(&self, default: &str) -> AppResult<String> {
        files::check_path(self.path.as_deref().unwrap_or(default))
    }
}

/// The entries of a folder in the container (running or stopped).
#[utoipa::path(get, path = "/api/containers/{id}/files", tag = "containers",
    params(("id" = String, Path, description = "container id, short id or name"),
           ("path" = Option<String>, Query, description = "absolute folder path, default /")),
    responses((status = 200, description = "[{name, kind, size, mode, mtime, link_target?}]", body = Vec<wire::FileEntry>),
              (status = 400, description = "not_a_directory or a relative path"),
              (status = 404, description = "path_not_found")))]
pub async fn list(
    user: CurrentUser,
    daemon: Daemon,
    PathArgs(id): PathArgs<String>,
    QueryArgs(q): QueryArgs<PathQuery>,
) -> AppResult<Json<Vec<wire::FileEntry>>> {
    let c = access::container(&user, &daemon, &id, Role::Viewer).await?;
    let path = q.path("/")?;
    Ok(Json(files::list(&daemon, &c.id, &path).await?))
}

/// A tar of a file or folder of the container, streamed (`docker cp ID:PATH -`).
#[utoipa::path(get, path = "/api/containers/{id}/archive", tag = "containers",
    params(("id" = String, Path, description = "container id, short id or name"),
           ("path" = String, Query, description = "absolute path")),
    responses((status = 200, description = "application/x-tar"), (status = 404, description = "path_not_found")))]
pub async fn download(
    user: CurrentUser,
    daemon: Daemon,
    PathArgs(id): PathArgs<String>,
    QueryArgs(q): QueryArgs<PathQuery>,
) -> AppResult<Response> {
    let c = access::container(&user, &daemon, &id, Role::Viewer).await?;
    let path = q.path("/")?;
    let tar = files::download(&daemon, &c.id, &path).await?;
    let base = path
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .filter(|s| !s.is_empty())
        .unwrap_or("root");
    // Only safe characters in the header; the tar itself carries the real names.
    let base: String = base
        .chars()
        .map(|ch| {
            if ch.is_ascii_alphanumeric() || "._-".contains(ch) {
                ch
            } else {
                '_'
            }
        })
        .collect();
    Ok((
        [
            (header::CONTENT_TYPE, "application/x-tar".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{base}.tar\""),
            ),
        ],
        Body::from_stream(tar),
    )
        .into_response())
}

/// One file of the container itself (not a tar), streamed out of the daemon's archive.
#[utoipa::path(get, path = "/api/containers/{id}/download", tag = "containers",
    params(("id" = String, Path, description = "container id, short id or name"),
           ("path" = String, Query, description = "absolute path of a regular file")),
    responses((status = 200, description = "the file's bytes, typed by its name"),
              (status = 400, description = "is_a_directory, not_a_file or a relative path"),
              (status = 404, description = "path_not_found")))]
pub async fn download_file(
    user: CurrentUser,
    daemon: Daemon,
    PathArgs(id): PathArgs<String>,
    QueryArgs(q): QueryArgs<PathQuery>,
) -> AppResult<Response> {
    use crate::files::serve;
    use axum::http::HeaderValue;
    let c = access::container(&user, &daemon, &id, Role::Viewer).await?;
    let path = q.path("/")?;
    let file = files::download_file(&daemon, &c.id, &path).await?;
    let mut r = Body::from_stream(file.body).into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(file.size));
    if let Ok(v) = HeaderValue::from_str(&serve::content_type(&file.name)) {
        h.insert(header::CONTENT_TYPE, v);
    }
    h.insert(header::CONTENT_DISPOSITION, serve::attachment(&file.name));
    serve::harden(h);
    Ok(r)
}

/// Extract into folder `path`: a tar body (`Content-Type: application/x-tar`), or
/// `multipart/form-data` whose files land in `path` under their own names.
#[utoipa::path(put, path = "/api/containers/{id}/archive", tag = "containers",
    params(("id" = String, Path, description = "container id, short id or name"),
           ("path" = String, Query, description = "absolute folder path to extract into")),
    request_body(content = super::Binary, content_type = "application/x-tar", description = "a tar, or multipart/form-data files"),
    responses((status = 204, description = "extracted"), (status = 404, description = "path_not_found"),
              (status = 400, description = "not a folder, or a broken archive")))]
pub async fn upload(
    State(state): State<AppState>,
    user: CurrentUser,
    daemon: Daemon,
    PathArgs(id): PathArgs<String>,
    QueryArgs(q): QueryArgs<PathQuery>,
    req: Request,
) -> AppResult<StatusCode> {
    let res = async {
        let c = access::container(&user, &daemon, &id, Role::Operator).await?;
        let path = q.path("/")?;
        let multipart = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("multipart/form-data"));
        if multipart {
            let form = Multipart::from_request(req, &state)
                .await
                .map_err(|e| AppError::bad_request("invalid_multipart", e.body_text()))?;
            let tar = tar_of_parts(form).await?;
            files::upload(&daemon, &c.id, &path, tar).await
        } else {
            let body = req
                .into_body()
                .into_data_stream()
                .map_err(std::io::Error::other);
            files::upload(&daemon, &c.id, &path, body).await
        }
    }
    .await;
    let target = format!("{id}:{}", q.path.as_deref().unwrap_or("/"));
    audit::outcome(&state.db, &user, "upload", &target, &res).await;
    res.map(|()| StatusCode::NO_CONTENT)
}

/// Spool each uploaded file to an anonymous temporary file (a tar header needs the size
/// first), then stream header, data and padding for each: memory stays constant whatever
/// the files weigh.
async fn tar_of_parts(
    mut form: Multipart,
) -> AppResult<impl Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static> {
    let broken = |e: axum::extract::multipart::MultipartError| {
        AppError::bad_request("invalid_multipart", e.body_text())
    };
    let io = |e: std::io::Error| AppError::Internal(e.into());
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let mut parts = Vec::new();
    while let Some(mut field) = form.next_field().await.map_err(broken)? {
        let Some(name) = field.file_name().map(str::to_string) else {
            continue;
        };
        let file = tempfile::tempfile().map_err(io)?;
        let mut file = tokio::fs::File::from_std(file);
        let mut size = 0u64;
        while let Some(chunk) = field.chunk().await.map_err(broken)? {
            size += chunk.len() as u64;
            file.write_all(&chunk).await.map_err(io)?;
        }
        file.flush().await.map_err(io)?;
        file.seek(SeekFrom::Start(0)).await.map_err(io)?;
        let header = files::file_header(&name, size, now)?;
        parts.push((header, file, size));
    }
    if parts.is_empty() {
        return Err(AppError::bad_request(
            "invalid_multipart",
            "the form has no files",
        ));
    }
    let entries = futures::stream::iter(parts).flat_map(|(header, file, size)| {
        futures::stream::once(async move { Ok(Bytes::copy_from_slice(&header)) })
            .chain(ReaderStream::new(file))
            .chain(futures::stream::once(
                async move { Ok(files::padding(size)) },
            ))
    });
    // Two zero blocks end a tar.
    let end = futures::stream::once(async { Ok(Bytes::from(vec![0u8; 1024])) });
    Ok(entries.chain(end))
}
