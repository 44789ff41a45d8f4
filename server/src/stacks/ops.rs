//! What the stack routes share: compiling a stack's files into a project (or a 400 naming
//! every problem), deciding who may touch a stack, and streaming a long operation's
//! progress as ndjson.

use std::path::Path;

use axum::body::Body;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use bollard::models::ContainerSummary;
use futures::StreamExt;
use tokio::sync::mpsc;
use wire::{ComposeProblem, Role};

use super::files::{self, StackFiles};
use super::model::{self, Origin, Project};
use super::parse;
use crate::auth::CurrentUser;
use crate::docker::stack_spec::ProjectLabels;
use crate::docker::stack_up::Progress;
use crate::docker::{stacks as dstacks, Endpoint};
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::store::audit;

/// Parse and resolve a compose text; every problem found, or the project.
pub fn compile(
    name: &str,
    compose: &str,
    env: Option<&str>,
    working_dir: &Path,
) -> Result<Project, Vec<ComposeProblem>> {
    compile_with(name, compose, env, working_dir, None)
}

/// `compile`, starting the services of `profiles` (default: the `.env`'s `COMPOSE_PROFILES`).
pub fn compile_with(
    name: &str,
    compose: &str,
    env: Option<&str>,
    working_dir: &Path,
    profiles: Option<&[String]>,
) -> Result<Project, Vec<ComposeProblem>> {
    let parsed = parse::parse_in(compose, env, Some(working_dir), profiles)?;
    model::project(
        &parsed,
        &Origin {
            name,
            working_dir,
            text: compose,
        },
    )
}

/// Every profile the services of a compose text name (for the editor's profile choice).
pub fn profiles_of(compose: &str) -> Vec<String> {
    let Ok(serde_yaml::Value::Mapping(root)) = serde_yaml::from_str(compose) else {
        return vec![];
    };
    let services = root.get("services").and_then(serde_yaml::Value::as_mapping);
    let mut out: Vec<String> = services
        .into_iter()
        .flat_map(|s| s.values())
        .filter_map(|svc| svc.get("profiles").and_then(serde_yaml::Value::as_sequence))
        .flatten()
        .filter_map(|p| p.as_str().map(str::to_owned))
        .collect();
    out.sort();
    out.dedup();
    out
}

/// The problems as one message a person can act on.
pub fn describe(problems: &[ComposeProblem]) -> String {
    problems
        .iter()
        .map(|p| match p.line {
            Some(l) => format!("line {l}: {}", p.message),
            None => p.message.clone(),
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// `compile`, with problems as a 400 `invalid_compose` (or `unsupported_compose`).
pub fn compile_or_400(
    name: &str,
    compose: &str,
    env: Option<&str>,
    working_dir: &Path,
) -> AppResult<Project> {
    if compose.len() > files::MAX_FILE {
        return Err(AppError::TooLarge(format!(
            "the compose file is larger than {} bytes",
            files::MAX_FILE
        )));
    }
    compile(name, compose, env, working_dir).map_err(|problems| {
        let code = if problems.iter().all(|p| p.kind == "unsupported") {
            "unsupported_compose"
        } else {
            "invalid_compose"
        };
        AppError::bad_request(code, describe(&problems))
    })
}

/// The project of a managed stack as stored.
pub fn project_of(name: &str, f: &StackFiles) -> AppResult<Project> {
    compile_or_400(name, &f.compose, f.env.as_deref(), &f.working_dir())
}

/// Compose's project labels for a managed stack's containers.
pub fn project_labels(f: &StackFiles) -> ProjectLabels {
    ProjectLabels {
        config_files: Some(f.compose_path().to_string_lossy().into_owned()),
        working_dir: Some(f.working_dir().to_string_lossy().into_owned()),
        environment_file: f
            .env
            .as_ref()
            .map(|_| f.dir.join(files::ENV_FILE).to_string_lossy().into_owned()),
    }
}

/// Check the user may reach this stack with `role`; its containers. A managed stack is
/// judged by its team; a project berth has no files for, by every container's team label.
pub async fn access(
    user: &CurrentUser,
    ep: &Endpoint,
    name: &str,
    files: Option<&StackFiles>,
    role: Role,
) -> AppResult<Vec<ContainerSummary>> {
    user.require(role)?;
    let cs = dstacks::containers(ep, Some(name)).await?;
    match files {
        Some(f) => {
            // Another team's stack answers as a missing one.
            if !dstacks::visible(user, f.meta.team.as_deref(), false) {
                return Err(AppError::NotFound(format!("no stack named {name}")));
            }
            // Containers another team added under this project name stay out of reach.
            dstacks::check_all(user, &cs, role)?;
        }
        None if cs.is_empty() => {
            return Err(AppError::NotFound(format!("no stack named {name}")));
        }
        None => {
            let seen = cs.iter().any(|c| {
                user.can_see(|k| c.labels.as_ref().and_then(|l| l.get(k)).map(String::as_str))
            });
            if !seen {
                return Err(AppError::NotFound(format!("no stack named {name}")));
            }
            dstacks::check_all(user, &cs, role)?
        }
    }
    Ok(cs)
}

/// Run a long stack operation, answering at once with its progress as ndjson: one
/// `wire::StackProgress` a line, the last `{"step":"done"}` or `{"step":"error","error":..}`.
/// The operation goes on if the client goes away; the audit log records how it ended.
pub fn stream<F, Fut>(
    state: &AppState,
    user: &CurrentUser,
    action: &'static str,
    target: &str,
    status: StatusCode,
    work: F,
) -> Response
where
    F: FnOnce(Progress) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = AppResult<()>> + Send + 'static,
{
    let (tx, rx) = mpsc::channel::<wire::StackProgress>(64);
    let progress = Progress(tx.clone());
    let db = state.db.clone();
    let user = user.clone();
    let target = target.to_owned();
    tokio::spawn(async move {
        let res = work(progress).await;
        audit::outcome(&db, &user, action, &target, &res).await;
        let last = match res {
            Ok(()) => wire::StackProgress {
                step: "done".into(),
                message: format!("{action} {target}: done"),
                ..Default::default()
            },
            Err(e) => wire::StackProgress {
                step: "error".into(),
                message: e.to_string(),
                error: Some(e.body().error),
                ..Default::default()
            },
        };
        let _ = tx.send(last).await;
    });
    let body = tokio_stream_of(rx).map(|p| {
        let mut line = serde_json::to_vec(&p).unwrap_or_default();
        line.push(b'\n');
        Ok::<_, std::io::Error>(line)
    });
    (
        status,
        [(header::CONTENT_TYPE, "application/x-ndjson")],
        Body::from_stream(body),
    )
        .into_response()
}

fn tokio_stream_of<T: Send + 'static>(
    mut rx: mpsc::Receiver<T>,
) -> impl futures::Stream<Item = T> + Send {
    futures::stream::poll_fn(move |cx| rx.poll_recv(cx))
}
