//! Who is asking: sessions, the `CurrentUser` extractor, and the origin guard.

pub mod access;
pub mod origin;
pub mod password;
pub mod policy;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use tower_sessions::Session;
use wire::Role;

use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::store;

/// The session key holding the logged-in user's id.
pub const SESSION_USER: &str = "uid";

/// The user behind a request. Extracting it is the authentication check: a handler that
/// takes a `CurrentUser` answers 401 without a valid session.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    pub id: i64,
    pub username: String,
    pub role: Role,
    pub teams: Vec<String>,
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

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> AppResult<Self> {
        let session = Session::from_request_parts(parts, state)
            .await
            .map_err(|(_, msg)| AppError::Internal(anyhow::anyhow!("session layer: {msg}")))?;
        let uid: Option<i64> = session.get(SESSION_USER).await.map_err(session_error)?;
        let Some(uid) = uid else {
            return Err(AppError::Unauthorized("log in first".into()));
        };
        // The user is read on every request, so a role change or a disabled account takes
        // effect at once rather than when the session expires.
        let Some(row) = store::users::by_id(&state.db, uid).await? else {
            session.flush().await.map_err(session_error)?;
            return Err(AppError::Unauthorized(
                "this account no longer exists".into(),
            ));
        };
        if row.disabled {
            session.flush().await.map_err(session_error)?;
            return Err(AppError::Unauthorized("this account is disabled".into()));
        }
        let teams = store::users::teams_of(&state.db, row.id).await?;
        Ok(CurrentUser {
            id: row.id,
            role: row.role(),
            username: row.username,
            teams,
        })
    }
}

pub fn session_error(err: tower_sessions::session::Error) -> AppError {
    AppError::Internal(anyhow::anyhow!("session store: {err}"))
}

/// The address of the client, as the TCP connection says (never a forwarded header).
pub struct Peer(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for Peer {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Peer(
            parts
                .extensions
                .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
                .map(|c| c.0.ip().to_string()),
        ))
    }
}
