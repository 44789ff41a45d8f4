//! `GET /api/stacks/{name}/logs/ws`: every service's logs, merged, live.

use std::time::Duration;

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::response::Response;
use futures::{SinkExt, StreamExt};
use serde::Deserialize;
use tokio::sync::mpsc;
use utoipa_axum::{router::OpenApiRouter, routes};
use wire::Role;

use crate::auth::{sockets, CurrentUser};
use crate::docker::stack_logs::{self, LogRequest};
use crate::docker::Daemon;
use crate::error::{AppResult, PathArgs, QueryArgs};
use crate::stacks::{check_name, files, ops};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(logs_ws))
}

#[derive(Debug, Deserialize)]
pub struct LogsQuery {
    /// Lines of history per container (default 100; `all` for everything).
    tail: Option<String>,
    #[serde(default)]
    timestamps: bool,
}

/// How many lines one frame carries at most, and how long lines wait to be batched.
const BATCH: usize = 500;
const BATCH_WAIT: Duration = Duration::from_millis(250);

/// Text frames, each a JSON array of `wire::StackLogLine`.
#[utoipa::path(get, path = "/api/stacks/{name}/logs/ws", tag = "stacks",
    params(("name" = String, Path, description = "stack name"),
           ("tail" = Option<String>, Query, description = "lines of history per container"),
           ("timestamps" = Option<bool>, Query, description = "add the daemon's timestamps")),
    responses((status = 101, description = "websocket of JSON arrays of log lines"), (status = 404, description = "no such stack")))]
pub async fn logs_ws(
    State(state): State<AppState>,
    user: CurrentUser,
    Daemon(ep): Daemon,
    PathArgs(name): PathArgs<String>,
    QueryArgs(q): QueryArgs<LogsQuery>,
    ws: WebSocketUpgrade,
) -> AppResult<Response> {
    // Counted from here; the count goes with the socket (or with this request).
    let revoked = sockets::open(&state, &user)?;
    check_name(&name)?;
    let f = files::read_on(&state.config.data_dir, &name, &ep.name).await?;
    super::swarm_stacks::refuse_compose_only(
        &user,
        &ep,
        &name,
        f.as_ref(),
        "following its containers' logs",
    )
    .await?;
    ops::access(&user, &ep, &name, f.as_ref(), Role::Viewer).await?;
    let tail = match q.tail.as_deref() {
        None => "100".to_owned(),
        Some("all") => "all".to_owned(),
        Some(n) => n.parse::<u32>().map(|n| n.to_string()).map_err(|_| {
            crate::error::AppError::bad_request(
                "invalid_tail",
                format!("tail {n:?} is not a number or all"),
            )
        })?,
    };
    let req = LogRequest {
        project: name,
        tail,
        timestamps: q.timestamps,
    };
    Ok(ws.on_upgrade(move |socket| async move {
        let (tx, rx) = mpsc::channel(1024);
        let follower = tokio::spawn(stack_logs::follow(ep.clone(), user, req, tx));
        tokio::select! {
            _ = forward(socket, rx) => {}
            _ = revoked => {}
            // The host stopped answering: end here rather than hang on its connections.
            _ = ep.went_down() => {}
        }
        follower.abort();
    }))
}

async fn forward(socket: WebSocket, mut rx: mpsc::Receiver<wire::StackLogLine>) {
    let (mut sink, mut incoming) = socket.split();
    let mut ping = tokio::time::interval(Duration::from_secs(15));
    let mut batch: Vec<wire::StackLogLine> = Vec::new();
    let mut flush = tokio::time::interval(BATCH_WAIT);
    loop {
        tokio::select! {
            line = rx.recv(), if batch.len() < BATCH => match line {
                Some(l) => batch.push(l),
                None => break,
            },
            _ = flush.tick(), if !batch.is_empty() => {
                let text = serde_json::to_string(&batch).unwrap_or_default();
                batch.clear();
                if sink.send(Message::Text(text.into())).await.is_err() {
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
