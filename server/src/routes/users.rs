//! Users and teams (admin), and a user's own password.

use std::collections::HashMap;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use tower_sessions::Session;
use utoipa_axum::{router::OpenApiRouter, routes};
use wire::Role;

use crate::auth::{end_sessions, password, session_error, CurrentUser, Via, SESSION_EPOCH};
use crate::error::{AppError, AppResult, JsonBody, PathArgs};
use crate::state::AppState;
use crate::store::{self, audit};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(patch, delete))
        .routes(routes!(list_teams, create_team))
        .routes(routes!(delete_team))
}

/// Names of users and teams: they end up in labels and logs, so keep them plain.
fn check_name(kind: &'static str, name: &str) -> AppResult<()> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
        && name.as_bytes()[0].is_ascii_alphanumeric();
    if ok {
        Ok(())
    } else {
        Err(AppError::bad_request(
            if kind == "user" { "invalid_username" } else { "invalid_team" },
            format!(
                "{kind} name {name:?} is not allowed: use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit"
            ),
        ))
    }
}

async fn check_teams_exist(state: &AppState, teams: &[String]) -> AppResult<()> {
    let known = store::teams::names(&state.db).await?;
    if let Some(missing) = teams.iter().find(|t| !known.contains(t)) {
        return Err(AppError::bad_request(
            "unknown_team",
            format!("there is no team {missing:?}: create it first"),
        ));
    }
    Ok(())
}

async fn record(state: &AppState, user: &CurrentUser, action: &str, target: &str) {
    audit::record(
        &state.db,
        audit::Entry {
            user: Some(&user.username),
            action,
            target: Some(target),
            result: "ok",
            peer: user.peer.clone(),
        },
    )
    .await;
}

/// Every user (admin).
#[utoipa::path(get, path = "/api/users", tag = "users",
    responses((status = 200, description = "users with role, teams and state", body = Vec<wire::UserInfo>), (status = 403, description = "not an admin")))]
pub async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
) -> AppResult<Json<Vec<wire::UserInfo>>> {
    user.require(Role::Admin)?;
    let rows = store::users::all(&state.db).await?;
    let mut teams: HashMap<i64, Vec<String>> = HashMap::new();
    for (uid, team) in store::users::all_memberships(&state.db).await? {
        teams.entry(uid).or_default().push(team);
    }
    Ok(Json(
        rows.into_iter()
            .map(|r| wire::UserInfo {
                role: r.role(),
                teams: teams.remove(&r.id).unwrap_or_default(),
                username: r.username,
                disabled: r.disabled,
                created_at: r.created_at,
            })
            .collect(),
    ))
}

/// Create a user (admin).
#[utoipa::path(post, path = "/api/users", tag = "users",
    request_body = wire::CreateUser,
    responses((status = 201, description = "created", body = wire::UserInfo), (status = 400, description = "bad name, weak password or unknown team"),
              (status = 409, description = "the name is taken")))]
pub async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    JsonBody(req): JsonBody<wire::CreateUser>,
) -> AppResult<(StatusCode, Json<wire::UserInfo>)> {
    user.require(Role::Admin)?;
    check_name("user", &req.username)?;
    password::check_strength(&req.password)?;
    check_teams_exist(&state, &req.teams).await?;
    if store::users::by_name(&state.db, &req.username)
        .await?
        .is_some()
    {
        return Err(AppError::Conflict(format!(
            "user {:?} exists",
            req.username
        )));
    }
    let hash = password::hash(req.password.clone()).await?;
    let id = store::users::insert(&state.db, &req.username, &hash, req.role).await?;
    store::users::set_teams(&state.db, id, &req.teams).await?;
    record(&state, &user, "user_create", &req.username).await;
    Ok((
        StatusCode::CREATED,
        Json(wire::UserInfo {
            username: req.username,
            role: req.role,
            teams: req.teams,
            disabled: false,
            created_at: 0,
        }),
    ))
}

/// Change a user. Admins change anything; a user changes their own password, giving the
/// current one (throttled as a login is). A new password, role or a disable ends the user's
/// other sessions; a new password or a disable also revokes the user's API tokens.
#[utoipa::path(patch, path = "/api/users/{name}", tag = "users",
    request_body = wire::PatchUser,
    params(("name" = String, Path, description = "username")),
    responses((status = 204, description = "changed"), (status = 400, description = "weak password or wrong current password"),
              (status = 403, description = "not allowed"), (status = 404, description = "no such user"),
              (status = 409, description = "would leave no admin"),
              (status = 429, description = "too many wrong current passwords: as for a login")))]
pub async fn patch(
    State(state): State<AppState>,
    user: CurrentUser,
    session: Session,
    PathArgs(name): PathArgs<String>,
    JsonBody(req): JsonBody<wire::PatchUser>,
) -> AppResult<StatusCode> {
    // Before the lookup: a non-admin learns nothing of other users, not even whether one
    // of that name exists (the same 403 for a colleague and for nobody).
    if user.role != Role::Admin && name != user.username {
        return Err(AppError::Forbidden(
            "only an admin may change other users, roles, teams or disabled state".into(),
        ));
    }
    let target = store::users::by_name(&state.db, &name)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no user {name:?}")))?;
    let is_self = target.id == user.id;
    if user.role != Role::Admin {
        let only_password = req.role.is_none() && req.teams.is_none() && req.disabled.is_none();
        if !is_self || !only_password {
            return Err(AppError::Forbidden(
                "only an admin may change other users, roles, teams or disabled state".into(),
            ));
        }
    }
    // Locking oneself out is never what was meant: another admin can do it if it must be.
    if is_self && req.disabled == Some(true) {
        return Err(AppError::bad_request(
            "self_disable",
            "you cannot disable your own account: ask another admin",
        ));
    }
    // Checked before anything changes: a refused request changes nothing.
    let losing_admin = target.role() == Role::Admin
        && (req.role.is_some_and(|r| r != Role::Admin) || req.disabled == Some(true));
    if losing_admin && store::users::count_active_admins(&state.db).await? <= 1 {
        return Err(AppError::Conflict(
            "this is the last admin: make another admin first".into(),
        ));
    }
    if let Some(teams) = &req.teams {
        check_teams_exist(&state, teams).await?;
    }
    let mut end = false;
    // A new password or a disable also revokes the user's API tokens: whoever knew the old
    // password may have made one (role changes keep them: roles are read on every request).
    let mut revoke_tokens = false;
    if let Some(new) = &req.password {
        password::check_strength(new)?;
        if user.role != Role::Admin || is_self {
            // A guess at the current password is a guess at the login password: the same
            // throttle, the same counts (a stolen session must not guess faster than a login).
            let attempt = state
                .throttle
                .begin(user.peer.as_deref(), &target.username)
                .map_err(AppError::TooManyAttempts)?;
            let current = req.current_password.clone().unwrap_or_default();
            if !password::verify(Some(target.password_hash.clone()), current).await {
                attempt.failed();
                audit::record(
                    &state.db,
                    audit::Entry {
                        user: Some(&user.username),
                        action: "user_update",
                        target: Some(&name),
                        result: "wrong_current_password",
                        peer: user.peer.clone(),
                    },
                )
                .await;
                return Err(AppError::bad_request(
                    "wrong_current_password",
                    "the current password is wrong",
                ));
            }
            attempt.succeeded();
        }
        let hash = password::hash(new.clone()).await?;
        store::users::set_password(&state.db, target.id, &hash).await?;
        end = true;
        revoke_tokens = true;
    }
    if let Some(role) = req.role {
        if role != target.role() {
            store::users::set_role(&state.db, target.id, role).await?;
            end = true;
        }
    }
    if let Some(teams) = &req.teams {
        store::users::set_teams(&state.db, target.id, teams).await?;
    }
    if let Some(disabled) = req.disabled {
        store::users::set_disabled(&state.db, target.id, disabled).await?;
        end |= disabled;
        revoke_tokens |= disabled;
    }
    if revoke_tokens {
        let n = store::tokens::delete_all_of(&state.db, target.id).await?;
        if n > 0 {
            record(&state, &user, "token_revoke", &format!("all {n} of {name}")).await;
        }
    }
    if end {
        end_sessions(&state, target.id).await?;
        // Changing one's own password keeps this session: it moves to the new epoch.
        if is_self && user.via == Via::Session && req.role.is_none() && req.disabled != Some(true) {
            if let Some(row) = store::users::by_id(&state.db, target.id).await? {
                session.cycle_id().await.map_err(session_error)?;
                session
                    .insert(SESSION_EPOCH, row.session_epoch)
                    .await
                    .map_err(session_error)?;
            }
        }
    }
    record(&state, &user, "user_update", &name).await;
    Ok(StatusCode::NO_CONTENT)
}

/// Delete a user (admin).
#[utoipa::path(delete, path = "/api/users/{name}", tag = "users",
    params(("name" = String, Path, description = "username")),
    responses((status = 204, description = "deleted"), (status = 400, description = "one's own account"),
              (status = 404, description = "no such user"),
              (status = 409, description = "the last admin")))]
pub async fn delete(
    State(state): State<AppState>,
    user: CurrentUser,
    PathArgs(name): PathArgs<String>,
) -> AppResult<StatusCode> {
    user.require(Role::Admin)?;
    let target = store::users::by_name(&state.db, &name)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no user {name:?}")))?;
    if target.id == user.id {
        return Err(AppError::bad_request(
            "self_delete",
            "you cannot delete your own account: ask another admin",
        ));
    }
    if target.role() == Role::Admin
        && !target.disabled
        && store::users::count_active_admins(&state.db).await? <= 1
    {
        return Err(AppError::Conflict("this is the last admin".into()));
    }
    end_sessions(&state, target.id).await?;
    store::users::delete(&state.db, target.id).await?;
    record(&state, &user, "user_delete", &name).await;
    Ok(StatusCode::NO_CONTENT)
}

/// Teams with their members: all of them for an admin, one's own otherwise.
#[utoipa::path(get, path = "/api/teams", tag = "users",
    responses((status = 200, description = "teams and members", body = Vec<wire::TeamInfo>)))]
pub async fn list_teams(
    State(state): State<AppState>,
    user: CurrentUser,
) -> AppResult<Json<Vec<wire::TeamInfo>>> {
    let mut teams: Vec<wire::TeamInfo> = Vec::new();
    for (team, member) in store::teams::with_members(&state.db).await? {
        if user.role != Role::Admin && !user.teams.contains(&team) {
            continue;
        }
        match teams.last_mut() {
            Some(t) if t.name == team => t.members.extend(member),
            _ => teams.push(wire::TeamInfo {
                name: team,
                members: member.into_iter().collect(),
            }),
        }
    }
    Ok(Json(teams))
}

/// Create a team (admin).
#[utoipa::path(post, path = "/api/teams", tag = "users",
    request_body = wire::CreateTeam,
    responses((status = 201, description = "created"), (status = 409, description = "exists")))]
pub async fn create_team(
    State(state): State<AppState>,
    user: CurrentUser,
    JsonBody(req): JsonBody<wire::CreateTeam>,
) -> AppResult<StatusCode> {
    user.require(Role::Admin)?;
    check_name("team", &req.name)?;
    if !store::teams::create(&state.db, &req.name).await? {
        return Err(AppError::Conflict(format!("team {:?} exists", req.name)));
    }
    record(&state, &user, "team_create", &req.name).await;
    Ok(StatusCode::CREATED)
}

/// Delete a team (admin). Its resources keep their label and become admin-only.
#[utoipa::path(delete, path = "/api/teams/{name}", tag = "users",
    params(("name" = String, Path, description = "team name")),
    responses((status = 204, description = "deleted"), (status = 404, description = "no such team")))]
pub async fn delete_team(
    State(state): State<AppState>,
    user: CurrentUser,
    PathArgs(name): PathArgs<String>,
) -> AppResult<StatusCode> {
    user.require(Role::Admin)?;
    if !store::teams::delete(&state.db, &name).await? {
        return Err(AppError::NotFound(format!("no team {name:?}")));
    }
    record(&state, &user, "team_delete", &name).await;
    Ok(StatusCode::NO_CONTENT)
}
