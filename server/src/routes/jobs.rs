//! `/api/jobs`: what an automated deploy did and how it ended. Readable with a session or
//! token (an admin's, or the user the job ran as), or — for a CI pipeline that has only
//! that — with the secret of the webhook that started it, in `X-Berth-Secret`.

use std::time::Duration;

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::Json;
use futures::StreamExt;
use serde::Deserialize;
use utoipa_axum::{router::OpenApiRouter, routes};
use wire::Role;

use crate::auth::CurrentUser;
use crate::error::{AppError, AppResult, PathArgs, QueryArgs};
use crate::state::AppState;
use crate::store;

/// The 202 answer of a route that started (or joined) a job: its id and where to follow it.
pub fn started(
    state: &AppState,
    headers: &HeaderMap,
    started: crate::jobs::Submitted,
) -> (axum::http::StatusCode, Json<wire::JobStarted>) {
    let (job, joined) = match started {
        crate::jobs::Submitted::New(j) => (j, false),
        crate::jobs::Submitted::Joined(j) => (j, true),
    };
    let url = format!(
        "{}/api/jobs/{job}",
        super::webhooks::base_url(state, headers)
    );
    (
        axum::http::StatusCode::ACCEPTED,
        Json(wire::JobStarted { job, url, joined }),
    )
}

/// The 429 of a target whose queue of jobs is full.
pub fn queue_full(target: &str) -> AppError {
    AppError::coded(
        axum::http::StatusCode::TOO_MANY_REQUESTS,
        "too_many_jobs",
        format!(
            "{} deploys of {target} are queued already: wait for one to end",
            crate::jobs::MAX_QUEUED
        ),
    )
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(get_one))
        .routes(routes!(stream))
}

fn no_such(id: &str) -> AppError {
    AppError::NotFound(format!("no job {id}"))
}

/// The job, if the caller may read it. Without a session or token, the secret of the
/// job's webhook; with neither, 401.
async fn readable(
    state: &AppState,
    user: Option<&CurrentUser>,
    headers: &HeaderMap,
    id: &str,
) -> AppResult<wire::Job> {
    let job = state.jobs.get(&state.db, id).await?;
    if let Some(user) = user {
        return match job {
            Some(j) if user.role == Role::Admin || j.user.as_deref() == Some(&user.username) => {
                Ok(j)
            }
            _ => Err(no_such(id)),
        };
    }
    let refused = || {
        AppError::Unauthorized(
            "log in, use a token, or send the secret of the webhook that started this job in X-Berth-Secret".into(),
        )
    };
    if headers.get("x-berth-secret").is_none() {
        return Err(refused());
    }
    let job = job.ok_or_else(refused)?;
    let hook = match &job.webhook {
        Some(w) => store::webhooks::get(&state.db, w).await?,
        None => None,
    };
    match hook {
        Some(row) if super::webhooks::verify(state, &row, headers, &[]) => Ok(job),
        _ => Err(refused()),
    }
}

#[derive(Debug, Deserialize)]
pub struct GetQuery {
    /// Wait up to this many seconds for the job to end (at most 600).
    #[serde(default)]
    wait: Option<u64>,
}

/// A job: its state, log and (when it failed) error.
#[utoipa::path(get, path = "/api/jobs/{id}", tag = "automation",
    params(("id" = String, Path, description = "job id"),
           ("wait" = Option<u64>, Query, description = "wait up to this many seconds (at most 600) for the job to end")),
    responses((status = 200, description = "the job", body = wire::Job),
              (status = 401, description = "no session, token or webhook secret"), (status = 404, description = "no such job of yours")))]
pub async fn get_one(
    State(state): State<AppState>,
    user: Option<CurrentUser>,
    headers: HeaderMap,
    PathArgs(id): PathArgs<String>,
    QueryArgs(q): QueryArgs<GetQuery>,
) -> AppResult<Json<wire::Job>> {
    let job = readable(&state, user.as_ref(), &headers, &id).await?;
    let wait = Duration::from_secs(q.wait.unwrap_or(0).min(600));
    if job.state.finished() || wait.is_zero() {
        return Ok(Json(job));
    }
    let Some(live) = state.jobs.live(&id) else {
        return Ok(Json(state.jobs.get(&state.db, &id).await?.unwrap_or(job)));
    };
    let mut changes = live.subscribe();
    let _ = tokio::time::timeout(wait, async {
        while !live.snapshot().state.finished() {
            if changes.changed().await.is_err() {
                break;
            }
        }
    })
    .await;
    Ok(Json(live.snapshot()))
}

/// A job's log as ndjson while it runs: one `JobLine` a line, from the first, and last
/// `{"end": job}`.
#[utoipa::path(get, path = "/api/jobs/{id}/stream", tag = "automation",
    params(("id" = String, Path, description = "job id")),
    responses((status = 200, description = "application/x-ndjson: log lines, then {\"end\": job}"),
              (status = 401, description = "no session, token or webhook secret"), (status = 404, description = "no such job of yours")))]
pub async fn stream(
    State(state): State<AppState>,
    user: Option<CurrentUser>,
    headers: HeaderMap,
    PathArgs(id): PathArgs<String>,
) -> AppResult<Response> {
    let job = readable(&state, user.as_ref(), &headers, &id).await?;
    let live = state.jobs.live(&id);
    let frames = futures::stream::unfold(
        (0usize, Some(job), live, false),
        move |(sent, stored, live, ended)| async move {
            if ended {
                return None;
            }
            let Some(live) = live else {
                // Ended before we looked: everything at once.
                let job = stored?;
                let mut lines: Vec<wire::JobFrame> = job
                    .log
                    .iter()
                    .skip(sent)
                    .cloned()
                    .map(wire::JobFrame::Line)
                    .collect();
                lines.push(wire::JobFrame::End { end: Box::new(job) });
                return Some((lines, (0, None, None, true)));
            };
            let mut changes = live.subscribe();
            loop {
                let now = live.snapshot();
                if now.log.len() > sent || now.state.finished() {
                    let mut out: Vec<wire::JobFrame> = now
                        .log
                        .iter()
                        .skip(sent)
                        .cloned()
                        .map(wire::JobFrame::Line)
                        .collect();
                    let next = now.log.len();
                    let done = now.state.finished();
                    if done {
                        out.push(wire::JobFrame::End { end: Box::new(now) });
                    }
                    return Some((out, (next, None, Some(live), done)));
                }
                if changes.changed().await.is_err() {
                    return Some((vec![], (sent, None, None, true)));
                }
            }
        },
    )
    .flat_map(futures::stream::iter)
    .map(|frame| {
        let mut line = serde_json::to_vec(&frame).unwrap_or_default();
        line.push(b'\n');
        Ok::<_, std::io::Error>(line)
    });
    Ok((
        [(header::CONTENT_TYPE, "application/x-ndjson")],
        Body::from_stream(frames),
    )
        .into_response())
}

#[derive(Debug, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    webhook: Option<String>,
    #[serde(default)]
    limit: Option<i64>,
}

/// Recent jobs, newest first: an admin's view is every job, anyone else's the jobs that ran
/// as them.
#[utoipa::path(get, path = "/api/jobs", tag = "automation",
    params(("webhook" = Option<String>, Query, description = "only this webhook's"),
           ("limit" = Option<i64>, Query, description = "at most this many (default 50)")),
    responses((status = 200, description = "the jobs", body = Vec<wire::Job>)))]
pub async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
    QueryArgs(q): QueryArgs<ListQuery>,
) -> AppResult<Json<Vec<wire::Job>>> {
    let limit = q.limit.unwrap_or(50);
    let mut jobs = store::jobs::list(&state.db, q.webhook.as_deref(), limit).await?;
    jobs.retain(|j| user.role == Role::Admin || j.user.as_deref() == Some(&user.username));
    // Live jobs are newer than what the database has.
    for j in &mut jobs {
        if let Some(l) = state.jobs.live(&j.id) {
            *j = l.snapshot();
        }
    }
    Ok(Json(jobs))
}
