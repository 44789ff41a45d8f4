//! `GET /api/containers/{id}/logs/ws` (live, batched JSON frames) and
//! `GET /api/containers/{id}/logs` (a text download, streamed) and
//! `GET /api/containers/{id}/logs/page` (the lines before a moment, for "load older").

use std::time::Duration;

use axum::body::Body;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use futures::{SinkExt, StreamExt};
use serde::Deserialize;
use tokio::sync::mpsc;
use utoipa_axum::{router::OpenApiRouter, routes};
use wire::Role;

use crate::auth::{access, sockets, CurrentUser};
use crate::docker::log_page::{self, PageQuery};
use crate::docker::logs::{self, Item, LogQuery};
use crate::docker::Daemon;
use crate::error::{AppError, AppResult, PathArgs, QueryArgs};
use crate::state::AppState;

/// Batches held between the daemon and a socket (each the lines of one read of the daemon's
/// stream, 64 KiB at most): with the pump's few hundred held-back lines, the most a slow
/// client costs in memory.
pub(crate) const CHANNEL: usize = 8;
/// A frame takes queued batches along until it has this many lines (one batch may be
/// bigger). Nothing waits for more: a quiet container's line leaves at once, and while the
/// socket is busy lines queue up, so frames grow exactly when that helps.
const BATCH_LINES: usize = 1000;
/// What tungstenite reads from the client at once (its default is 128 KiB).
pub(crate) const READ_BUFFER: usize = 4 * 1024;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(logs_ws))
        .routes(routes!(download))
        .routes(routes!(page))
}

#[derive(Debug, Deserialize)]
pub struct LogsArgs {
    follow: Option<bool>,
    /// `all` or a number.
    tail: Option<String>,
    /// Unix seconds.
    since: Option<i64>,
    #[serde(default)]
    timestamps: bool,
    stdout: Option<bool>,
    stderr: Option<bool>,
}

impl LogsArgs {
    pub(crate) fn query(self, follow_default: bool) -> AppResult<LogQuery> {
        let tail = match self.tail.as_deref().map(str::trim) {
            None | Some("") | Some("all") => "all".to_string(),
            Some(n) => match n.parse::<u64>() {
                Ok(n) => n.to_string(),
                Err(_) => {
                    return Err(AppError::bad_request(
                        "invalid_tail",
                        format!("tail: {n:?} is not a number of lines or \"all\""),
                    ))
                }
            },
        };
        let since = self.since.unwrap_or(0);
        if since < 0 {
            return Err(AppError::bad_request(
                "invalid_since",
                "since: must be unix seconds (0 or more)",
            ));
        }
        Ok(LogQuery {
            follow: self.follow.unwrap_or(follow_default),
            tail,
            since,
            timestamps: self.timestamps,
            stdout: self.stdout.unwrap_or(true),
            stderr: self.stderr.unwrap_or(true),
        })
    }
}

/// Live logs: text frames, each a JSON array of `{"stream","line","ts"?}` lines and
/// `{"berth":...}` notices (skipped, stopped, restarted, daemon_lost, daemon_back, end).
#[utoipa::path(get, path = "/api/containers/{id}/logs/ws", tag = "containers",
    params(("id" = String, Path, description = "container id, short id or name"),
           ("follow" = Option<bool>, Query, description = "keep streaming (default true)"),
           ("tail" = Option<String>, Query, description = "last N lines, or all"),
           ("since" = Option<i64>, Query, description = "unix seconds"),
           ("timestamps" = Option<bool>, Query, description = "add ts to each line"),
           ("stdout" = Option<bool>, Query), ("stderr" = Option<bool>, Query)),
    responses((status = 101, description = "websocket of JSON text frames"), (status = 404, description = "no such container")))]
pub async fn logs_ws(
    State(state): State<AppState>,
    user: CurrentUser,
    Daemon(ep): Daemon,
    PathArgs(id): PathArgs<String>,
    QueryArgs(args): QueryArgs<LogsArgs>,
    ws: WebSocketUpgrade,
) -> AppResult<Response> {
    // Counted from here; the count goes with the socket (or with this request).
    let revoked = sockets::open(&state, &user)?;
    let c = access::container(&user, &ep, &id, Role::Viewer).await?;
    let q = args.query(true)?;
    // The client only sends pings and a close: a small read buffer, as tungstenite zeroes
    // all of it at every read attempt (one with each frame sent, as both halves are polled).
    Ok(ws
        .read_buffer_size(READ_BUFFER)
        .on_upgrade(move |socket| async move {
            let (tx, rx) = mpsc::channel(CHANNEL);
            // A host that stops answering is told as an outage by the pump (and the
            // stream resumes when it is back).
            let pump = tokio::spawn(logs::pump(ep, c.id, q, tx));
            tokio::select! {
                _ = forward(socket, rx) => {}
                _ = revoked => {}
            }
            // The receiver is gone, so the pump ends at its next line; don't wait for one.
            pump.abort();
        }))
}

/// One frame: a JSON array of the batch, written straight into one buffer.
fn encode(batch: &[Item]) -> String {
    let mut out = Vec::with_capacity(batch.len() * 80 + 2);
    out.push(b'[');
    for item in batch {
        let mark = out.len();
        if mark > 1 {
            out.push(b',');
        }
        let written = match item {
            Item::Line(l) => serde_json::to_writer(&mut out, l),
            Item::Notice(n) => serde_json::to_writer(&mut out, n),
        };
        if written.is_err() {
            out.truncate(mark);
        }
    }
    out.push(b']');
    String::from_utf8(out).unwrap_or_else(|_| "[]".into())
}

pub(crate) async fn forward(socket: WebSocket, mut rx: mpsc::Receiver<logs::Batch>) {
    let (mut sink, mut incoming) = socket.split();
    let mut ping = tokio::time::interval(Duration::from_secs(15));
    loop {
        tokio::select! {
            first = rx.recv() => {
                let Some(mut batch) = first else {
                    let _ = sink.send(Message::Close(None)).await;
                    break;
                };
                while batch.len() < BATCH_LINES {
                    match rx.try_recv() {
                        Ok(more) => batch.extend(more),
                        Err(_) => break,
                    }
                }
                // A slow client makes this wait; meanwhile the pump counts what it drops.
                if sink.send(Message::Text(encode(&batch).into())).await.is_err() {
                    break;
                }
            }
            msg = incoming.next() => match msg {
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => break,
                Some(Ok(_)) => {}
            },
            _ = ping.tick() => {
                if sink.send(Message::Ping(Default::default())).await.is_err() {
                    break;
                }
            }
        }
    }
}

/// The logs as a text download (`docker logs [-t] [--tail N] [--since T] > file`).
#[utoipa::path(get, path = "/api/containers/{id}/logs", tag = "containers",
    params(("id" = String, Path, description = "container id, short id or name"),
           ("tail" = Option<String>, Query, description = "last N lines, or all"),
           ("since" = Option<i64>, Query, description = "unix seconds"),
           ("timestamps" = Option<bool>, Query, description = "prefix each line with its time")),
    responses((status = 200, description = "text/plain, streamed"), (status = 404, description = "no such container")))]
pub async fn download(
    user: CurrentUser,
    Daemon(ep): Daemon,
    PathArgs(id): PathArgs<String>,
    QueryArgs(args): QueryArgs<LogsArgs>,
) -> AppResult<Response> {
    let c = access::container(&user, &ep, &id, Role::Viewer).await?;
    let q = args.query(false)?;
    let client = ep.client().await?;
    let short: String = c.id.chars().take(12).collect();
    let body = Body::from_stream(logs::text(client, c.id, q));
    Ok((
        [
            (
                header::CONTENT_TYPE,
                "text/plain; charset=utf-8".to_string(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{short}.log\""),
            ),
        ],
        body,
    )
        .into_response())
}

#[derive(Debug, Deserialize)]
pub struct PageArgs {
    /// RFC 3339: lines strictly older than this (the `ts` of the oldest line shown).
    before: Option<String>,
    /// Unix seconds: none older than this.
    since: Option<i64>,
    /// How many lines (default 500, at most 5000).
    lines: Option<usize>,
    stdout: Option<bool>,
    stderr: Option<bool>,
}

/// The newest lines written before `before` (or before now), oldest first, with their
/// timestamps: what "load older" adds above the lines already shown.
#[utoipa::path(get, path = "/api/containers/{id}/logs/page", tag = "containers",
    params(("id" = String, Path, description = "container id, short id or name"),
           ("before" = Option<String>, Query, description = "RFC 3339: lines strictly older than this"),
           ("since" = Option<i64>, Query, description = "unix seconds: none older than this"),
           ("lines" = Option<usize>, Query, description = "how many (default 500, at most 5000)"),
           ("stdout" = Option<bool>, Query), ("stderr" = Option<bool>, Query)),
    responses((status = 200, body = wire::LogPage), (status = 400, description = "a bad moment or count"),
              (status = 404, description = "no such container")))]
pub async fn page(
    user: CurrentUser,
    Daemon(ep): Daemon,
    PathArgs(id): PathArgs<String>,
    QueryArgs(args): QueryArgs<PageArgs>,
) -> AppResult<Json<wire::LogPage>> {
    let c = access::container(&user, &ep, &id, Role::Viewer).await?;
    let before = match args.before.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(ts) => Some(log_page::parse_moment(ts).ok_or_else(|| {
            AppError::bad_request(
                "invalid_before",
                format!("before: {ts:?} is not an RFC 3339 time such as 2026-01-02T03:04:05Z"),
            )
        })?),
    };
    let lines = args.lines.unwrap_or(500);
    if lines == 0 || lines > log_page::MAX_LINES {
        return Err(AppError::bad_request(
            "invalid_lines",
            format!(
                "lines: {lines} is not between 1 and {}",
                log_page::MAX_LINES
            ),
        ));
    }
    let since = args.since.unwrap_or(0);
    if since < 0 {
        return Err(AppError::bad_request(
            "invalid_since",
            "since: must be unix seconds (0 or more)",
        ));
    }
    let q = PageQuery {
        before,
        since,
        lines,
        stdout: args.stdout.unwrap_or(true),
        stderr: args.stderr.unwrap_or(true),
    };
    Ok(Json(log_page::page(&ep, &c.id, &q).await?))
}
