//! `GET /api/events/ws`: the daemon's events, live, as JSON text frames.

use std::time::Duration;

use std::sync::Arc;

use axum::extract::ws::{Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::response::Response;
use futures::{SinkExt, StreamExt};
use tokio::sync::broadcast;
use utoipa_axum::{router::OpenApiRouter, routes};

use axum::extract::State;

use crate::auth::{sockets, CurrentUser};
use crate::docker::events::Frame;
use crate::docker::Daemon;
use crate::error::AppResult;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(events_ws))
}

/// Daemon events (`wire::DaemonEvent`) and daemon lost/back notices (`wire::StreamNotice`).
#[utoipa::path(get, path = "/api/events/ws", tag = "system",
    responses((status = 101, description = "websocket of JSON text frames"), (status = 401, description = "no session")))]
pub async fn events_ws(
    State(state): State<AppState>,
    user: CurrentUser,
    Daemon(ep): Daemon,
    ws: WebSocketUpgrade,
) -> AppResult<Response> {
    let revoked = sockets::open(&state, &user)?;
    // Subscribe before the upgrade completes so no event between the two is missed.
    let rx = ep.subscribe_events();
    Ok(ws.on_upgrade(move |socket| async move {
        // Logout, a password change or a disable elsewhere closes this socket too.
        tokio::select! {
            _ = forward(socket, rx, user) => {}
            _ = revoked => {}
        }
    }))
}

/// Whether this user may see an event: container events by the container's team label
/// (the daemon puts a container's labels in the event's attributes), image events to all;
/// node events to all (everyone on the environment reads its nodes, `GET /api/nodes`);
/// service events by the service's labels, looked up when the event came (a removed
/// service's only to admins); network and volume events carry no labels, so only admins
/// get them.
fn visible(user: &CurrentUser, frame: &Frame) -> bool {
    match &frame.event {
        None => true,
        Some(ev) if ev.kind == "container" => user.can_see_map(&ev.attributes),
        Some(ev) if ev.kind == "image" || ev.kind == "node" => true,
        Some(ev) if ev.kind == "service" => {
            user.role == wire::Role::Admin
                || frame.owner.as_ref().is_some_and(|l| user.can_see_map(l))
        }
        Some(_) => user.role == wire::Role::Admin,
    }
}

async fn forward(socket: WebSocket, mut rx: broadcast::Receiver<Arc<Frame>>, user: CurrentUser) {
    let (mut sink, mut incoming) = socket.split();
    let mut ping = tokio::time::interval(Duration::from_secs(15));
    loop {
        tokio::select! {
            frame = rx.recv() => {
                let text = match frame {
                    Ok(frame) if visible(&user, &frame) => frame.text.clone(),
                    Ok(_) => continue,
                    // Too slow to keep up: it missed events, so tell it to reload its lists.
                    Err(broadcast::error::RecvError::Lagged(_)) => {
                        Utf8Bytes::from_static(r#"{"berth":"daemon_back"}"#)
                    }
                    Err(broadcast::error::RecvError::Closed) => break,
                };
                if sink.send(Message::Text(text)).await.is_err() {
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
