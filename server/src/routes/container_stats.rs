//! `GET /api/containers/{id}/top` (`docker top`) and `GET .../stats/ws` (`docker stats`,
//! one daemon stream per container shared by every viewer).

use std::time::Duration;

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::response::Response;
use axum::Json;
use futures::{SinkExt, StreamExt};
use serde::Deserialize;
use tokio::sync::broadcast;
use utoipa_axum::{router::OpenApiRouter, routes};
use wire::Role;

use crate::auth::{access, sockets, CurrentUser};
use crate::docker::containers;
use crate::docker::Daemon;
use crate::error::{AppResult, PathArgs, QueryArgs};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(top))
        .routes(routes!(stats_ws))
}

#[derive(Debug, Deserialize)]
pub struct TopArgs {
    ps_args: Option<String>,
}

/// The container's processes, as `docker top` (`{"titles":[..],"processes":[[..]]}`).
#[utoipa::path(get, path = "/api/containers/{id}/top", tag = "containers",
    params(("id" = String, Path, description = "container id, short id or name"),
           ("ps_args" = Option<String>, Query, description = "ps options, default -ef")),
    responses((status = 200, description = "titles and process rows", body = wire::TopResult),
              (status = 409, description = "the container is not running")))]
pub async fn top(
    user: CurrentUser,
    daemon: Daemon,
    PathArgs(id): PathArgs<String>,
    QueryArgs(args): QueryArgs<TopArgs>,
) -> AppResult<Json<wire::TopResult>> {
    let c = access::container(&user, &daemon, &id, Role::Viewer).await?;
    Ok(Json(containers::top(&daemon, &c.id, args.ps_args).await?))
}

/// Live stats: JSON text frames `wire::StatsFrame`, about one a second while it runs.
#[utoipa::path(get, path = "/api/containers/{id}/stats/ws", tag = "containers",
    params(("id" = String, Path, description = "container id, short id or name")),
    responses((status = 101, description = "websocket of JSON text frames")))]
pub async fn stats_ws(
    State(state): State<AppState>,
    user: CurrentUser,
    Daemon(ep): Daemon,
    PathArgs(id): PathArgs<String>,
    ws: WebSocketUpgrade,
) -> AppResult<Response> {
    // Counted from here; the count goes with the socket (or with this request).
    let revoked = sockets::open(&state, &user)?;
    let c = access::container(&user, &ep, &id, Role::Viewer).await?;
    let rx = ep.subscribe_stats(&c.id);
    Ok(ws.on_upgrade(move |socket| async move {
        tokio::select! {
            _ = forward(socket, rx) => {}
            _ = revoked => {}
            // The client reconnects, and is told the host's state.
            _ = ep.went_down() => {}
        }
    }))
}

async fn forward(socket: WebSocket, mut rx: broadcast::Receiver<axum::extract::ws::Utf8Bytes>) {
    let (mut sink, mut incoming) = socket.split();
    let mut ping = tokio::time::interval(Duration::from_secs(15));
    loop {
        tokio::select! {
            frame = rx.recv() => match frame {
                Ok(text) => {
                    if sink.send(Message::Text(text)).await.is_err() {
                        break;
                    }
                }
                // Behind: the next frame is as good as the missed ones.
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => break,
            },
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
