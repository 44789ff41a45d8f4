//! Personal API tokens and the audit log.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use utoipa_axum::{router::OpenApiRouter, routes};
use wire::Role;

use crate::auth::CurrentUser;
use crate::error::{AppError, AppResult, JsonBody, PathArgs, QueryArgs};
use crate::state::AppState;
use crate::store::{self, audit};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(revoke))
        .routes(routes!(audit_log))
}

/// Make a token acting as the caller, with the caller's role. The secret is shown once.
#[utoipa::path(post, path = "/api/tokens", tag = "tokens",
    request_body = wire::CreateToken,
    responses((status = 201, description = "the new token, shown this once", body = wire::NewToken)))]
pub async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    JsonBody(req): JsonBody<wire::CreateToken>,
) -> AppResult<(StatusCode, Json<wire::NewToken>)> {
    let name = req.name.trim();
    if name.is_empty() || name.len() > 100 {
        return Err(AppError::bad_request(
            "invalid_token_name",
            "a token needs a name of 1-100 characters",
        ));
    }
    let secret = store::tokens::new_secret();
    let id = store::tokens::create(&state.db, user.id, name, &secret).await?;
    audit::record(
        &state.db,
        audit::Entry {
            user: Some(&user.username),
            action: "token_create",
            target: Some(name),
            result: "ok",
            peer: user.peer.clone(),
        },
    )
    .await;
    Ok((
        StatusCode::CREATED,
        Json(wire::NewToken {
            id,
            name: name.to_owned(),
            token: secret,
        }),
    ))
}

/// One's own tokens (an admin sees everyone's), with when each was last used.
#[utoipa::path(get, path = "/api/tokens", tag = "tokens",
    responses((status = 200, description = "tokens, never their secrets", body = Vec<wire::TokenInfo>)))]
pub async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
) -> AppResult<Json<Vec<wire::TokenInfo>>> {
    let owner = (user.role != Role::Admin).then_some(user.id);
    Ok(Json(store::tokens::list(&state.db, owner).await?))
}

/// Revoke a token: one's own, or any as an admin.
#[utoipa::path(delete, path = "/api/tokens/{id}", tag = "tokens",
    params(("id" = i64, Path, description = "token id")),
    responses((status = 204, description = "revoked"), (status = 404, description = "no such token of yours")))]
pub async fn revoke(
    State(state): State<AppState>,
    user: CurrentUser,
    PathArgs(id): PathArgs<i64>,
) -> AppResult<StatusCode> {
    let owner = (user.role != Role::Admin).then_some(user.id);
    if !store::tokens::delete(&state.db, id, owner).await? {
        return Err(AppError::NotFound(format!("no token {id} of yours")));
    }
    audit::record(
        &state.db,
        audit::Entry {
            user: Some(&user.username),
            action: "token_revoke",
            target: Some(&id.to_string()),
            result: "ok",
            peer: user.peer.clone(),
        },
    )
    .await;
    Ok(StatusCode::NO_CONTENT)
}

/// The audit log, newest first (admin). Filter by `user`, `action`, `since` (unix seconds).
#[utoipa::path(get, path = "/api/audit", tag = "audit",
    params(("limit" = Option<i64>, Query, description = "at most this many (default 200)"),
           ("user" = Option<String>, Query, description = "only this user's"),
           ("action" = Option<String>, Query, description = "only this action"),
           ("since" = Option<i64>, Query, description = "only from this unix time on")),
    responses((status = 200, description = "entries", body = Vec<wire::AuditEntry>), (status = 403, description = "not an admin")))]
pub async fn audit_log(
    State(state): State<AppState>,
    user: CurrentUser,
    QueryArgs(filter): QueryArgs<audit::Filter>,
) -> AppResult<Json<Vec<wire::AuditEntry>>> {
    user.require(Role::Admin)?;
    Ok(Json(audit::query(&state.db, &filter).await?))
}
