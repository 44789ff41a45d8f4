//! Login, logout and who am I.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use tower_sessions::Session;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::auth::{password, session_error, CurrentUser, Peer, SESSION_USER};
use crate::error::{AppError, AppResult, JsonBody};
use crate::state::AppState;
use crate::store::{self, audit};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(login))
        .routes(routes!(logout))
        .routes(routes!(me))
}

/// Log in with a username and password; sets the session cookie.
#[utoipa::path(post, path = "/api/auth/login", tag = "auth",
    responses((status = 200, description = "logged in: the user"), (status = 401, description = "wrong username or password")))]
pub async fn login(
    State(state): State<AppState>,
    Peer(peer): Peer,
    session: Session,
    JsonBody(req): JsonBody<wire::LoginRequest>,
) -> AppResult<Json<wire::Me>> {
    let row = store::users::by_name(&state.db, &req.username).await?;
    let stored = row.as_ref().map(|r| r.password_hash.clone());
    // Same answer, same work, for an unknown user and a wrong password.
    let ok = password::verify(stored, req.password).await;
    let row = match row {
        Some(row) if ok && !row.disabled => row,
        _ => {
            audit::record(
                &state.db,
                audit::Entry {
                    user: Some(&req.username),
                    action: "login",
                    target: None,
                    result: "denied",
                    peer,
                },
            )
            .await;
            return Err(AppError::Unauthorized("wrong username or password".into()));
        }
    };
    // A new id at login: a session id planted before login is worth nothing after it.
    session.cycle_id().await.map_err(session_error)?;
    session
        .insert(SESSION_USER, row.id)
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

/// End this session.
#[utoipa::path(post, path = "/api/auth/logout", tag = "auth",
    responses((status = 204, description = "logged out")))]
pub async fn logout(session: Session) -> AppResult<StatusCode> {
    session.flush().await.map_err(session_error)?;
    Ok(StatusCode::NO_CONTENT)
}

/// The logged-in user.
#[utoipa::path(get, path = "/api/auth/me", tag = "auth",
    responses((status = 200, description = "the user, role and teams"), (status = 401, description = "no session")))]
pub async fn me(user: CurrentUser) -> Json<wire::Me> {
    Json(user.me())
}
