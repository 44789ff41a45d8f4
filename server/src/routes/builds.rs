//! `POST /api/images/build`: `docker build` from an uploaded context.
//!
//! The body is the context: a tar or gzip tar, or `multipart/form-data` with, in order, an
//! optional `dockerfile_text` field (the in-page editor's Dockerfile), optional `context`
//! file parts (tar or tar.gz archives) and file parts whose file name is their path in the
//! context (a folder upload sends `src/main.rs`). `.dockerignore` is applied before the
//! daemon sees anything; see `buildctx`.

use std::collections::HashMap;

use axum::extract::{FromRequest, Multipart, Request, State};
use axum::http::header;
use axum::response::Response;
use bollard::query_parameters::{BuildImageOptions, BuilderVersion};
use futures::{StreamExt, TryStreamExt};
use serde::Deserialize;
use tokio::sync::mpsc;
use utoipa_axum::{router::OpenApiRouter, routes};
use wire::Role;

use super::ndjson::{self, Audit};
use crate::auth::policy::resolve::Policy;
use crate::auth::CurrentUser;
use crate::buildctx::{self, Msg};
use crate::docker::reference::Reference;
use crate::docker::{progress, tar_gate, Daemon};
use crate::error::{AppError, AppResult, QueryArgs};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    // A context can be gigabytes: it streams through, so no body limit applies here.
    OpenApiRouter::new()
        .routes(routes!(build))
        .layer(axum::extract::DefaultBodyLimit::disable())
}

#[derive(Debug, Deserialize)]
pub struct BuildQuery {
    /// Tags, comma-separated (`app:1,app:latest`).
    t: Option<String>,
    dockerfile: Option<String>,
    /// A JSON object of build args: `{"VERSION":"1.2"}`.
    buildargs: Option<String>,
    #[serde(default)]
    nocache: bool,
    target: Option<String>,
    /// Remove intermediate containers whatever happens (`--force-rm`).
    #[serde(default)]
    forcerm: bool,
    /// A JSON object of labels.
    labels: Option<String>,
    /// Always try to pull newer base images.
    #[serde(default)]
    pull: bool,
}

fn json_map(field: &'static str, text: Option<&str>) -> AppResult<Option<HashMap<String, String>>> {
    match text.map(str::trim).filter(|t| !t.is_empty()) {
        None => Ok(None),
        Some(t) => serde_json::from_str::<HashMap<String, String>>(t)
            .map(Some)
            .map_err(|e| {
                AppError::bad_request(
                    if field == "buildargs" {
                        "invalid_buildargs"
                    } else {
                        "invalid_labels"
                    },
                    format!("{field}: expected a JSON object of strings such as {{\"KEY\":\"value\"}} ({e})"),
                )
            }),
    }
}

fn dockerfile_path(q: Option<&str>) -> AppResult<String> {
    let raw = q
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .unwrap_or("Dockerfile");
    let cleaned = buildctx::ignore::clean(raw);
    if raw.starts_with('/') || cleaned == "." || cleaned == ".." || cleaned.starts_with("../") {
        return Err(AppError::bad_request(
            "invalid_dockerfile",
            format!("dockerfile: {raw:?} must be a path inside the context, such as Dockerfile or docker/Dockerfile.prod"),
        ));
    }
    Ok(cleaned)
}

/// `docker build [--force-rm] [-t NAME:TAG]... [-f PATH] [--build-arg K=V]... [--target T]`.
#[utoipa::path(post, path = "/api/images/build", tag = "images",
    params(("t" = Option<String>, Query, description = "tags, comma-separated"),
           ("dockerfile" = Option<String>, Query, description = "the Dockerfile's path in the context"),
           ("buildargs" = Option<String>, Query, description = "JSON object of build args"),
           ("nocache" = Option<bool>, Query, description = "do not use the build cache"),
           ("target" = Option<String>, Query, description = "the stage to build"),
           ("forcerm" = Option<bool>, Query, description = "remove intermediate containers even when the build fails"),
           ("labels" = Option<String>, Query, description = "JSON object of labels"),
           ("pull" = Option<bool>, Query, description = "pull newer base images")),
    request_body(content = super::Binary, content_type = "application/x-tar", description = "the context: tar, tar.gz, or multipart files"),
    responses((status = 200, description = "application/x-ndjson build output, ending with done.id or error"),
              (status = 400, description = "bad option, or a context that is not a tar")))]
pub async fn build(
    State(state): State<AppState>,
    user: CurrentUser,
    Daemon(daemon): Daemon,
    QueryArgs(q): QueryArgs<BuildQuery>,
    request: Request,
) -> AppResult<Response> {
    user.require(Role::Operator)?;
    let policy = Policy::new(&user, &daemon, &state.db);
    let mut tags = Vec::new();
    for t in q.t.as_deref().unwrap_or("").split(',').map(str::trim) {
        if !t.is_empty() {
            let r = Reference::parse("t", t)?;
            if r.digest.is_some() {
                return Err(AppError::bad_request(
                    "invalid_reference",
                    "t: a tag cannot have a digest",
                ));
            }
            tags.push(r);
        }
    }
    let dockerfile = dockerfile_path(q.dockerfile.as_deref())?;
    let buildargs = json_map("buildargs", q.buildargs.as_deref())?;
    // The tags it writes are decided now; what it builds from, when the Dockerfile passes.
    let tag_names: Vec<String> = tags.iter().map(Reference::full).collect();
    policy.image_write(&tag_names, false).await?;
    let labels = json_map("labels", q.labels.as_deref())?;
    let target = q.target.as_deref().map(str::trim).unwrap_or("").to_owned();
    if !target.is_empty()
        && !target
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
    {
        return Err(AppError::bad_request(
            "invalid_target",
            format!("target: {target:?} is not a stage name"),
        ));
    }

    let multipart = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    let mut filter = buildctx::spawn(buildctx::Options {
        dockerfile: dockerfile.clone(),
        spool_dir: state.config.data_dir.join("tmp"),
    });
    let input = filter.input.clone();
    drop(filter.input);
    if multipart {
        let form = Multipart::from_request(request, &state)
            .await
            .map_err(|e| AppError::bad_request("invalid_multipart", e.body_text()))?;
        tokio::spawn(feed_multipart(form, input, dockerfile.clone()));
    } else {
        tokio::spawn(feed_archive(request.into_body(), input));
    }

    // The first chunk comes once the context proved to be one (or failed to).
    let first = match filter.output.recv().await {
        Some(Ok(chunk)) => chunk,
        Some(Err(e)) => return Err(AppError::bad_request("invalid_context", e.to_string())),
        None => {
            return Err(AppError::bad_request(
                "invalid_context",
                "the build context is empty",
            ))
        }
    };
    let rest = futures::stream::unfold(filter.output, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    });
    let context = futures::stream::once(async move { Ok(first) }).chain(rest);
    let refusal = progress::Refusal::default();
    let context = tar_gate::gate(
        Box::pin(context),
        vec![dockerfile.clone()],
        judge_bases(
            state.clone(),
            user.clone(),
            daemon.clone(),
            dockerfile.clone(),
            buildargs.clone().unwrap_or_default(),
            refusal.clone(),
        ),
    );
    policy.image_written(&tag_names, None).await?;

    let mut tags = tags.into_iter();
    let first_tag = tags.next();
    let target_name = first_tag
        .as_ref()
        .map(Reference::full)
        .unwrap_or_else(|| "untagged build".into());
    let opts = BuildImageOptions {
        dockerfile,
        t: first_tag.map(|r| r.full()),
        nocache: q.nocache,
        rm: true,
        forcerm: q.forcerm,
        buildargs,
        labels,
        target,
        pull: q.pull.then(|| "1".to_owned()),
        version: BuilderVersion::BuilderV1,
        ..Default::default()
    };
    let lines = progress::build(
        &daemon,
        opts,
        context,
        tags.collect(),
        filter.error,
        refusal,
    )
    .await?;
    let audit = Audit {
        db: state.db.clone(),
        user,
        action: "image_build",
        target: target_name,
    };
    ndjson::respond(lines, audit).await
}

/// The verdict on what a build's Dockerfile builds from, once it has passed by: a base
/// image of another team's stops the upload before the daemon has the whole context.
fn judge_bases(
    state: AppState,
    user: CurrentUser,
    ep: std::sync::Arc<crate::docker::Endpoint>,
    dockerfile: String,
    args: HashMap<String, String>,
    refusal: progress::Refusal,
) -> impl FnOnce(tar_gate::Captured) -> tar_gate::Verdict + Send + 'static {
    move |captured| {
        Box::pin(async move {
            let policy = Policy::new(&user, &ep, &state.db);
            let res = if user.role == Role::Admin {
                Ok(())
            } else if captured.contains_key(&format!("!{dockerfile}")) {
                Err(AppError::bad_request(
                    "invalid_dockerfile",
                    format!("{dockerfile} must be a plain file of at most 1 MiB in the context (not a link)"),
                ))
            } else {
                match captured.get(&dockerfile) {
                    Some(text) => {
                        policy
                            .build_from(&String::from_utf8_lossy(text), &args)
                            .await
                    }
                    // The daemon says it is missing.
                    None => Ok(()),
                }
            };
            res.map_err(|e| {
                let why = e.to_string();
                if let Ok(mut slot) = refusal.lock() {
                    *slot = Some(e);
                }
                why
            })
        })
    }
}

/// A raw tar or tar.gz body, chunk by chunk.
async fn feed_archive(body: axum::body::Body, tx: mpsc::Sender<Msg>) {
    if tx.send(Msg::Archive).await.is_err() {
        return;
    }
    let mut stream = body.into_data_stream();
    loop {
        let msg = match stream.next().await {
            Some(Ok(chunk)) => Msg::Chunk(chunk),
            Some(Err(e)) => Msg::Failed(format!("the upload broke off: {e}")),
            None => Msg::End,
        };
        let last = matches!(msg, Msg::End | Msg::Failed(_));
        if tx.send(msg).await.is_err() || last {
            return;
        }
    }
}

/// Multipart parts in order: `dockerfile_text`, archives in `context`, files by path.
async fn feed_multipart(mut form: Multipart, tx: mpsc::Sender<Msg>, dockerfile: String) {
    let failed = |e: axum::extract::multipart::MultipartError| {
        Msg::Failed(format!(
            "the upload is not valid multipart: {}",
            e.body_text()
        ))
    };
    loop {
        let field = match form.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => return,
            Err(e) => {
                let _ = tx.send(failed(e)).await;
                return;
            }
        };
        let name = field.name().unwrap_or("").to_owned();
        let file_name = field.file_name().map(str::to_owned);
        if name == "dockerfile_text" {
            match field.text().await {
                Ok(text) if text.trim().is_empty() => continue,
                Ok(data) => {
                    let msg = Msg::Text {
                        path: dockerfile.clone(),
                        data,
                    };
                    if tx.send(msg).await.is_err() {
                        return;
                    }
                    continue;
                }
                Err(e) => {
                    let _ = tx.send(failed(e)).await;
                    return;
                }
            }
        }
        let head = match (name.as_str(), file_name) {
            ("context", _) => Msg::Archive,
            (_, Some(path)) if !path.is_empty() => Msg::File { path },
            // A text field that is not ours: nothing to send.
            _ => continue,
        };
        if tx.send(head).await.is_err() {
            return;
        }
        let mut chunks = field.map_err(failed);
        loop {
            let msg = match chunks.next().await {
                Some(Ok(chunk)) => Msg::Chunk(chunk),
                Some(Err(m)) => m,
                None => Msg::End,
            };
            let stop = matches!(msg, Msg::Failed(_));
            let end = matches!(msg, Msg::End);
            if tx.send(msg).await.is_err() || stop {
                return;
            }
            if end {
                break;
            }
        }
    }
}
