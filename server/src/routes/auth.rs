//! Login, logout, who am I, password change, websocket tickets.

use axum::body::Body;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use tower_sessions::Session;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::auth::{
    end_sessions, password, session_error, tickets, CurrentUser, Peer, Via, SESSION_EPOCH,
    SESSION_LOGIN_AT, SESSION_USER,
};
use crate::error::{AppError, AppResult, JsonBody};
use crate::state::AppState;
use crate::store::{self, audit};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(login))
        .routes(routes!(logout))
        .routes(routes!(me))
        .routes(routes!(ws_ticket))
}

/// Log in with a username and password; sets the session cookie.
#[utoipa::path(post, path = "/api/auth/login", tag = "auth",
    request_body = wire::LoginRequest,
    responses((status = 200, description = "logged in: the user", body = wire::Me), (status = 401, description = "wrong username or password"),
              (status = 429, description = "too many failed attempts from this address or for this user")))]
pub async fn login(
    State(state): State<AppState>,
    Peer(peer): Peer,
    session: Session,
    JsonBody(req): JsonBody<wire::LoginRequest>,
) -> AppResult<Json<wire::Me>> {
    let denied = |result: &'static str| audit::Entry {
        user: Some(&req.username),
        action: "login",
        target: None,
        result,
        peer: peer.clone(),
    };
    let attempt = match state.throttle.begin(peer.as_deref(), &req.username) {
        Ok(attempt) => attempt,
        Err(wait) => {
            audit::record(&state.db, denied("throttled")).await;
            return Err(AppError::TooManyAttempts(wait));
        }
    };
    let row = store::users::by_name(&state.db, &req.username).await?;
    let stored = row.as_ref().map(|r| r.password_hash.clone());
    // Same answer, same work, for an unknown user and a wrong password.
    let ok = password::verify(stored, req.password.clone()).await;
    let row = match row {
        Some(row) if ok && !row.disabled => row,
        _ => {
            attempt.failed();
            audit::record(&state.db, denied("denied")).await;
            return Err(AppError::Unauthorized("wrong username or password".into()));
        }
    };
    attempt.succeeded();
    // A new id at login: a session id planted before login is worth nothing after it.
    session.cycle_id().await.map_err(session_error)?;
    session
        .insert(SESSION_USER, row.id)
        .await
        .map_err(session_error)?;
    session
        .insert(SESSION_EPOCH, row.session_epoch)
        .await
        .map_err(session_error)?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default();
    session
        .insert(SESSION_LOGIN_AT, now)
        .await
        .map_err(session_error)?;
    audit::record(
        &state.db,
        audit::Entry {
            user: Some(&row.username),
            action: "login",
            target: None,
            result: "ok",
            peer,
        },
    )
    .await;
    let teams = store::users::teams_of(&state.db, row.id).await?;
    Ok(Json(wire::Me {
        username: row.username.clone(),
        role: row.role(),
        teams,
    }))
}

/// Log out: ends this user's sessions everywhere and closes their websockets.
#[utoipa::path(post, path = "/api/auth/logout", tag = "auth",
    responses((status = 204, description = "logged out")))]
pub async fn logout(
    State(state): State<AppState>,
    user: Option<CurrentUser>,
    session: Session,
) -> AppResult<StatusCode> {
    if let Some(user) = user {
        if user.via == Via::Session {
            end_sessions(&state, user.id).await?;
            audit::record(
                &state.db,
                audit::Entry {
                    user: Some(&user.username),
                    action: "logout",
                    target: None,
                    result: "ok",
                    peer: user.peer.clone(),
                },
            )
            .await;
        }
    }
    session.flush().await.map_err(session_error)?;
    Ok(StatusCode::NO_CONTENT)
}

/// The logged-in user.
#[utoipa::path(get, path = "/api/auth/me", tag = "auth",
    responses((status = 200, description = "the user, role and teams", body = wire::Me), (status = 401, description = "no session")))]
pub async fn me(user: CurrentUser) -> Json<wire::Me> {
    Json(user.me())
}

/// A one-time ticket for opening a websocket with `?ticket=` (valid 30 s): it opens one
/// websocket, at `path` if the (optional) body names one, and nothing else.
#[utoipa::path(post, path = "/api/auth/ws-ticket", tag = "auth",
    request_body(content = wire::WsTicketRequest, description = "optional (an empty body is fine): the websocket path the ticket is for"),
    responses((status = 200, description = "the ticket", body = wire::WsTicket), (status = 400, description = "a bad body or path"),
              (status = 401, description = "no session or token")))]
pub async fn ws_ticket(
    State(state): State<AppState>,
    user: CurrentUser,
    body: Body,
) -> AppResult<Json<wire::WsTicket>> {
    // The body is optional (plain `POST` with nothing works), so no JSON extractor.
    let body = axum::body::to_bytes(body, 64 * 1024)
        .await
        .map_err(|e| AppError::bad_request("invalid_json", format!("cannot read the body: {e}")))?;
    let req: wire::WsTicketRequest = if body.iter().all(u8::is_ascii_whitespace) {
        Default::default()
    } else {
        serde_json::from_slice(&body)
            .map_err(|e| AppError::bad_request("invalid_json", format!("bad body: {e}")))?
    };
    if let Some(path) = &req.path {
        if !path.starts_with('/') || path.contains(['?', '#']) {
            return Err(AppError::bad_request(
                "invalid_path",
                format!("{path:?} is not a path: give one like /api/events/ws, without a query"),
            ));
        }
    }
    // The epoch now: a logout or password change after this ends the ticket too.
    let epoch = store::users::by_id(&state.db, user.id)
        .await?
        .map(|row| row.session_epoch)
        .ok_or_else(|| AppError::Unauthorized("this account no longer exists".into()))?;
    let ticket = state.tickets.issue(tickets::Ticket {
        user_id: user.id,
        epoch,
        path: req.path,
    });
    Ok(Json(wire::WsTicket {
        ticket,
        expires_in: tickets::TTL.as_secs(),
    }))
}
