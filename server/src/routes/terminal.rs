//! `GET /api/containers/{id}/exec/ws` (`docker exec -it`) and `GET .../attach/ws`
//! (`docker attach`): binary frames carry terminal bytes both ways; text frames are
//! `wire::TermControl` (`resize` from the client; `exit`, `detached`, `error` from us).

use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::response::Response;
use bytes::Bytes;
use futures::{SinkExt, StreamExt};
use serde::Deserialize;
use tokio::io::AsyncWriteExt;
use tokio::sync::mpsc;
use utoipa_axum::{router::OpenApiRouter, routes};
use wire::{Role, TermControl};

use crate::auth::{access, sockets, CurrentUser};
use crate::docker::terminal::{self, ExecRequest, Session};
use crate::docker::{Daemon, Endpoint};
use crate::error::{AppError, AppResult, PathArgs, QueryArgs};
use crate::state::AppState;
use crate::store::audit;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(exec_ws))
        .routes(routes!(attach_ws))
}

#[derive(Debug, Deserialize)]
pub struct ExecArgs {
    /// `sh`, `bash -l`, or a JSON array `["sh","-c","..."]`.
    cmd: Option<String>,
    tty: Option<bool>,
    user: Option<String>,
    workdir: Option<String>,
    cols: Option<u16>,
    rows: Option<u16>,
}

#[derive(Debug, Deserialize)]
pub struct AttachArgs {
    cols: Option<u16>,
    rows: Option<u16>,
}

fn parse_cmd(cmd: Option<&str>) -> AppResult<Vec<String>> {
    let cmd = cmd.map(str::trim).filter(|c| !c.is_empty()).unwrap_or("sh");
    let words = if cmd.starts_with('[') {
        serde_json::from_str::<Vec<String>>(cmd).map_err(|e| {
            AppError::bad_request(
                "invalid_cmd",
                format!("cmd: not a JSON list of strings: {e}"),
            )
        })?
    } else {
        cmd.split_whitespace().map(str::to_string).collect()
    };
    if words.is_empty() || words[0].is_empty() {
        return Err(AppError::bad_request(
            "invalid_cmd",
            "cmd: a command is needed",
        ));
    }
    Ok(words)
}

/// A process in the container with a terminal (`docker exec -it ID sh`). Closing the
/// socket ends the process.
#[utoipa::path(get, path = "/api/containers/{id}/exec/ws", tag = "containers",
    params(("id" = String, Path, description = "container id, short id or name"),
           ("cmd" = Option<String>, Query, description = "the command (default sh); words split on spaces, or a JSON list"),
           ("tty" = Option<bool>, Query, description = "allocate a tty (default true)"),
           ("user" = Option<String>, Query, description = "user[:group] to run as"),
           ("workdir" = Option<String>, Query), ("cols" = Option<u16>, Query), ("rows" = Option<u16>, Query)),
    responses((status = 101, description = "binary terminal frames both ways"),
              (status = 409, description = "the container is not running")))]
pub async fn exec_ws(
    State(state): State<AppState>,
    user: CurrentUser,
    Daemon(ep): Daemon,
    PathArgs(id): PathArgs<String>,
    QueryArgs(args): QueryArgs<ExecArgs>,
    ws: WebSocketUpgrade,
) -> AppResult<Response> {
    // Counted from here; the count goes with the socket (or with this request).
    let revoked = sockets::open(&state, &user)?;
    let res = async {
        let c = access::container(&user, &ep, &id, Role::Operator).await?;
        let req = ExecRequest {
            cmd: parse_cmd(args.cmd.as_deref())?,
            user: args.user.clone(),
            tty: args.tty.unwrap_or(true),
            workdir: args.workdir.clone(),
        };
        terminal::exec(&ep, &c.id, req).await
    }
    .await;
    // A session is not Sync, so the outcome is recorded from its code.
    let code = res.as_ref().err().map_or("ok", AppError::code);
    log(&state, &user, "exec", &id, code).await;
    let session = res?;
    let size = args.cols.zip(args.rows);
    Ok(ws.on_upgrade(move |socket| serve(socket, session, ep, size, revoked)))
}

/// The container's main process (`docker attach`); ctrl-p ctrl-q detaches and leaves it
/// running.
#[utoipa::path(get, path = "/api/containers/{id}/attach/ws", tag = "containers",
    params(("id" = String, Path, description = "container id, short id or name"),
           ("cols" = Option<u16>, Query), ("rows" = Option<u16>, Query)),
    responses((status = 101, description = "binary terminal frames both ways"),
              (status = 409, description = "the container is not running")))]
pub async fn attach_ws(
    State(state): State<AppState>,
    user: CurrentUser,
    Daemon(ep): Daemon,
    PathArgs(id): PathArgs<String>,
    QueryArgs(args): QueryArgs<AttachArgs>,
    ws: WebSocketUpgrade,
) -> AppResult<Response> {
    // Counted from here; the count goes with the socket (or with this request).
    let revoked = sockets::open(&state, &user)?;
    let res = async {
        let c = access::container(&user, &ep, &id, Role::Operator).await?;
        terminal::attach(&ep, &c.id).await
    }
    .await;
    // A session is not Sync, so the outcome is recorded from its code.
    let code = res.as_ref().err().map_or("ok", AppError::code);
    log(&state, &user, "attach", &id, code).await;
    let session = res?;
    let size = args.cols.zip(args.rows);
    Ok(ws.on_upgrade(move |socket| serve(socket, session, ep, size, revoked)))
}

async fn log(state: &AppState, user: &CurrentUser, action: &str, id: &str, result: &str) {
    audit::record(
        &state.db,
        audit::Entry {
            user: Some(&user.username),
            action,
            target: Some(id),
            result,
            peer: None,
        },
    )
    .await;
}

async fn serve(
    socket: WebSocket,
    session: Session,
    ep: Arc<Endpoint>,
    size: Option<(u16, u16)>,
    revoked: impl std::future::Future<Output = ()>,
) {
    let target = session.target.clone();
    if let Some((cols, rows)) = size {
        let _ = terminal::resize(&ep, &target, cols, rows).await;
    }
    tokio::select! {
        _ = bridge(socket, session, &ep) => {}
        _ = revoked => {}
        // The host stopped answering: the terminal ends rather than freezing.
        _ = ep.went_down() => {}
    }
    // Off the socket's task: ending an exec may take a second or two.
    tokio::spawn(async move { terminal::end(&ep, &target).await });
}

async fn bridge(socket: WebSocket, session: Session, ep: &Endpoint) {
    let Session {
        target,
        mut output,
        input,
    } = session;
    let (mut sink, mut incoming) = socket.split();
    // Keystrokes go through their own task, so a process that does not read its input
    // never stalls its output.
    let (in_tx, mut in_rx) = mpsc::channel::<Bytes>(64);
    let writer = tokio::spawn(async move {
        let mut input = input;
        while let Some(bytes) = in_rx.recv().await {
            if input.write_all(&bytes).await.is_err() || input.flush().await.is_err() {
                break;
            }
        }
        let _ = input.shutdown().await;
    });
    let mut ping = tokio::time::interval(Duration::from_secs(15));
    loop {
        tokio::select! {
            out = output.next() => match out {
                Some(Ok(out)) => {
                    if sink.send(Message::Binary(out.into_bytes())).await.is_err() {
                        break;
                    }
                }
                Some(Err(_)) | None => {
                    let end = terminal::outcome(ep, &target).await;
                    if let Ok(json) = serde_json::to_string(&end) {
                        let _ = sink.send(Message::Text(json.into())).await;
                    }
                    let _ = sink.send(Message::Close(None)).await;
                    break;
                }
            },
            msg = incoming.next() => match msg {
                Some(Ok(Message::Binary(bytes))) => {
                    if in_tx.send(bytes).await.is_err() {
                        break;
                    }
                }
                Some(Ok(Message::Text(text))) => {
                    if let Ok(TermControl::Resize { cols, rows }) = serde_json::from_str(&text) {
                        let _ = terminal::resize(ep, &target, cols, rows).await;
                    }
                }
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
    drop(in_tx);
    // The writer ends once its queue drains; a stuck write is not waited for.
    if tokio::time::timeout(Duration::from_secs(1), writer)
        .await
        .is_err()
    {
        tracing::debug!("terminal input writer did not finish");
    }
}
