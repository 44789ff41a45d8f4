//! Who is asking: sessions, API tokens and websocket tickets, the `CurrentUser` extractor,
//! and the origin guard.

pub mod access;
pub mod hosts;
pub mod origin;
pub mod password;
pub mod policy;
pub mod sessions;
pub mod sockets;
pub mod throttle;
pub mod tickets;

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::{header, request::Parts};
use tower_sessions::Session;
use wire::Role;

use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::store;

/// Session keys: the user's id, the user's session epoch at login, the login time.
pub const SESSION_USER: &str = "uid";
pub const SESSION_EPOCH: &str = "epoch";
pub const SESSION_LOGIN_AT: &str = "login_at";
/// When the session last showed activity (unix seconds): rewriting it from time to time
/// saves the session and so pushes its idle expiry back.
pub const SESSION_SEEN: &str = "seen";

/// How the request proved who it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    Session,
    Token,
    Ticket,
    /// A deploy webhook acting as the user who made it.
    Webhook,
}

/// The user behind a request. Extracting it is the authentication check: a handler that
/// takes a `CurrentUser` answers 401 without a valid session, token or ticket.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    pub id: i64,
    pub username: String,
    pub role: Role,
    pub teams: Vec<String>,
    pub via: Via,
    /// The client's address (see [`Peer`]), for the audit log.
    pub peer: Option<String>,
}

impl CurrentUser {
    /// The one-line role check: `user.require(Role::Operator)?;`.
    pub fn require(&self, role: Role) -> AppResult<()> {
        if self.role >= role {
            Ok(())
        } else {
            Err(AppError::Forbidden(format!(
                "this needs the {} role; {} is {}",
                role.as_str(),
                self.username,
                self.role.as_str()
            )))
        }
    }

    pub fn me(&self) -> wire::Me {
        wire::Me {
            username: self.username.clone(),
            role: self.role,
            teams: self.teams.clone(),
        }
    }
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = AppError;

    /// Authenticates once per request: the user is kept in the request's extensions, so
    /// the `Daemon` extractor (which decides who may use an environment) and the handler
    /// see the same user, and a one-time ticket is spent only once.
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> AppResult<Self> {
        if let Some(user) = parts.extensions.get::<CurrentUser>() {
            return Ok(user.clone());
        }
        let mut user = authenticate(parts, state).await?;
        // The role on the environment this request is for (roles per environment): every
        // `user.require(..)` and every policy decision downstream sees the limited role.
        if let Some(ep) = state
            .daemons
            .get(crate::docker::environment::requested(parts))
        {
            user.role = ep.role_for(&user);
        }
        parts.extensions.insert(user.clone());
        Ok(user)
    }
}

async fn authenticate(parts: &mut Parts, state: &AppState) -> AppResult<CurrentUser> {
    {
        let Ok(Peer(peer)) = Peer::from_request_parts(parts, state).await;
        // 1. A personal API token.
        if let Some(auth) = parts.headers.get(header::AUTHORIZATION) {
            let secret = auth
                .to_str()
                .ok()
                .and_then(|v| v.strip_prefix("Bearer "))
                .ok_or_else(|| AppError::Unauthorized("use Authorization: Bearer TOKEN".into()))?;
            let uid = store::tokens::use_secret(&state.db, secret.trim())
                .await?
                .ok_or_else(|| AppError::Unauthorized("this token is invalid or revoked".into()))?;
            return load(state, uid, Via::Token, peer)
                .await
                .map(|(user, _)| user);
        }
        // 2. A one-time websocket ticket.
        if let Some(ticket) = parts.uri.query().and_then(|q| {
            q.split('&')
                .find_map(|kv| kv.strip_prefix("ticket="))
                .map(str::to_owned)
        }) {
            let ticket = state
                .tickets
                .redeem(&ticket)
                .ok_or_else(|| AppError::Unauthorized("this ticket is used or expired".into()))?;
            if !is_websocket_upgrade(parts) {
                return Err(AppError::Unauthorized(
                    "a websocket ticket only opens a websocket (a GET with Upgrade: websocket); \
                     use a session or a token for anything else"
                        .into(),
                ));
            }
            if let Some(path) = &ticket.path {
                if path != parts.uri.path() {
                    return Err(AppError::Unauthorized(format!(
                        "this ticket was issued for {path}, not {}",
                        parts.uri.path()
                    )));
                }
            }
            let (user, epoch) = load(state, ticket.user_id, Via::Ticket, peer).await?;
            if epoch != ticket.epoch {
                return Err(AppError::Unauthorized(
                    "this ticket was issued before its user's sessions were ended".into(),
                ));
            }
            return Ok(user);
        }
        // 3. The session cookie.
        let session = Session::from_request_parts(parts, state)
            .await
            .map_err(|(_, msg)| AppError::Internal(anyhow::anyhow!("session layer: {msg}")))?;
        let uid: Option<i64> = session.get(SESSION_USER).await.map_err(session_error)?;
        let Some(uid) = uid else {
            return Err(AppError::Unauthorized("log in first".into()));
        };
        let epoch: i64 = session
            .get(SESSION_EPOCH)
            .await
            .map_err(session_error)?
            .unwrap_or(-1);
        let login_at: i64 = session
            .get(SESSION_LOGIN_AT)
            .await
            .map_err(session_error)?
            .unwrap_or(0);
        let loaded = load(state, uid, Via::Session, peer).await;
        let row_epoch = loaded.as_ref().ok().map(|(_, epoch)| *epoch);
        let user = loaded.map(|(user, _)| user);
        let expired = now() - login_at > state.config.session_max_hours * 3600;
        if user.is_err() || row_epoch != Some(epoch) || expired {
            session.flush().await.map_err(session_error)?;
            return Err(match user {
                Err(e) => e,
                Ok(_) if expired => {
                    AppError::Unauthorized("the session expired: log in again".into())
                }
                Ok(_) => AppError::Unauthorized("the session was ended: log in again".into()),
            });
        }
        // The idle timeout counts from the last save of the session, and an unchanged session
        // is not saved; so mark activity now and then (not on every request: each save is
        // a database write), often enough that an active session never goes idle.
        let seen: i64 = session
            .get(SESSION_SEEN)
            .await
            .map_err(session_error)?
            .unwrap_or(login_at);
        let now = now();
        if now - seen >= (state.config.session_idle_minutes * 60 / 4).clamp(1, 60) {
            session
                .insert(SESSION_SEEN, now)
                .await
                .map_err(session_error)?;
        }
        user
    }
}

impl axum::extract::OptionalFromRequestParts<AppState> for CurrentUser {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> AppResult<Option<Self>> {
        match <CurrentUser as FromRequestParts<AppState>>::from_request_parts(parts, state).await {
            Ok(user) => Ok(Some(user)),
            Err(AppError::Unauthorized(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// Read the user afresh on every request, so a role change or a disabled account takes
/// effect at once rather than when the session expires. Also returns the user's session
/// epoch (one query for both: this runs on every request).
async fn load(
    state: &AppState,
    uid: i64,
    via: Via,
    peer: Option<String>,
) -> AppResult<(CurrentUser, i64)> {
    let Some((row, teams)) = store::users::with_teams(&state.db, uid).await? else {
        return Err(AppError::Unauthorized(
            "this account no longer exists".into(),
        ));
    };
    if row.disabled {
        return Err(AppError::Unauthorized("this account is disabled".into()));
    }
    let user = CurrentUser {
        id: row.id,
        role: row.role(),
        username: row.username,
        teams,
        via,
        peer,
    };
    Ok((user, row.session_epoch))
}

/// The user a webhook acts as, read afresh at every call: a disabled or deleted user's
/// webhooks are refused (403), as are those of a user who is no longer an operator.
pub async fn webhook_owner(
    state: &AppState,
    uid: i64,
    endpoint: &str,
    peer: Option<String>,
) -> AppResult<CurrentUser> {
    let mut user = match load(state, uid, Via::Webhook, peer).await {
        Ok((user, _)) => user,
        Err(AppError::Unauthorized(why)) => {
            return Err(AppError::coded(
                axum::http::StatusCode::FORBIDDEN,
                "webhook_owner_disabled",
                format!("the user this webhook acts as cannot act any more: {why}"),
            ))
        }
        Err(e) => return Err(e),
    };
    // As the owner is on the hook's environment now (roles per environment).
    if let Some(ep) = state.daemons.get(endpoint) {
        user.role = ep.role_for(&user);
    }
    user.require(Role::Operator)?;
    Ok(user)
}

/// A websocket handshake: a GET whose `Upgrade` names `websocket`.
fn is_websocket_upgrade(parts: &Parts) -> bool {
    parts.method == axum::http::Method::GET
        && parts
            .headers
            .get_all(header::UPGRADE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .any(|p| p.trim().eq_ignore_ascii_case("websocket"))
}

pub fn session_error(err: tower_sessions::session::Error) -> AppError {
    AppError::Internal(anyhow::anyhow!("session store: {err}"))
}

/// End every session of a user, their unused websocket tickets, and close their open
/// websockets.
pub async fn end_sessions(state: &AppState, user_id: i64) -> AppResult<()> {
    store::users::bump_epoch(&state.db, user_id).await?;
    state.tickets.forget_user(user_id);
    let _ = state.revoked.send(user_id);
    Ok(())
}

/// Resolves when this user's sessions are ended: websocket handlers `select!` on it to
/// close their socket.
pub fn until_revoked(state: &AppState, user_id: i64) -> impl std::future::Future<Output = ()> {
    let mut rx = state.revoked.subscribe();
    async move {
        loop {
            match rx.recv().await {
                Ok(id) if id == user_id => return,
                Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                Err(tokio::sync::broadcast::error::RecvError::Closed) => {
                    std::future::pending::<()>().await
                }
            }
        }
    }
}

/// The client's address: the TCP peer, or — only when that peer is a trusted proxy — the
/// address the proxy reports in `X-Forwarded-For` (its right-most entry, the one the proxy
/// itself added; entries to its left are whatever the client claimed).
pub struct Peer(pub Option<String>);

impl FromRequestParts<AppState> for Peer {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let tcp: Option<IpAddr> = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip());
        let Some(tcp) = tcp else {
            return Ok(Peer(None));
        };
        if state.config.trusted_proxies.contains(&tcp) {
            let forwarded = parts
                .headers
                .get("x-forwarded-for")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.rsplit(',').next())
                .and_then(|v| v.trim().parse::<IpAddr>().ok());
            if let Some(ip) = forwarded {
                return Ok(Peer(Some(ip.to_string())));
            }
        }
        Ok(Peer(Some(tcp.to_string())))
    }
}
