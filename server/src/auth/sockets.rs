//! Open websockets, counted per user: each handler takes a [`LiveSocket`] before it
//! upgrades, and past `--max-websockets-per-user` the upgrade is refused with 429. A socket
//! holds server memory (buffers both ways, a daemon stream) for as long as it is open, so
//! one user (or one stolen token) must not open thousands.
//!
//! The count is held by a guard inside the socket's task: it is given back however the
//! socket ends (closed by the client, by a revocation, by an error, by a failed handshake
//! whose upgrade callback never runs).

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use axum::http::StatusCode;

use super::CurrentUser;
use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// Open websockets per user id.
#[derive(Default)]
pub struct Sockets {
    open: Arc<Mutex<HashMap<i64, usize>>>,
}

impl Sockets {
    /// How many websockets this user has open now.
    pub fn count(&self, user_id: i64) -> usize {
        lock(&self.open).get(&user_id).copied().unwrap_or(0)
    }
}

fn lock(open: &Mutex<HashMap<i64, usize>>) -> std::sync::MutexGuard<'_, HashMap<i64, usize>> {
    // Each change is one map operation: a poisoned lock still holds a consistent map.
    open.lock().unwrap_or_else(|p| p.into_inner())
}

/// One open (or opening) websocket of a user. As a future, it resolves when the user's
/// sessions are ended: handlers `select!` on it, as on [`super::until_revoked`].
pub struct LiveSocket {
    /// Held, not read: dropping it gives the count back.
    _slot: Slot,
    revoked: Pin<Box<dyn Future<Output = ()> + Send>>,
}

struct Slot {
    open: Arc<Mutex<HashMap<i64, usize>>>,
    user_id: i64,
}

/// Count a new websocket of this user, or refuse it (429) past the limit.
pub fn open(state: &AppState, user: &CurrentUser) -> AppResult<LiveSocket> {
    let max = state.config.max_websockets_per_user;
    {
        let mut open = lock(&state.sockets.open);
        let n = open.entry(user.id).or_default();
        if *n >= max {
            return Err(AppError::coded(
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_websockets",
                format!(
                    "{} already has {max} websockets open, the most one user may \
                     (--max-websockets-per-user): close some (other tabs, scripts) first",
                    user.username
                ),
            ));
        }
        *n += 1;
    }
    Ok(LiveSocket {
        _slot: Slot {
            open: state.sockets.open.clone(),
            user_id: user.id,
        },
        revoked: Box::pin(super::until_revoked(state, user.id)),
    })
}

impl Future for LiveSocket {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.revoked.as_mut().poll(cx)
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = lock(&self.open);
        if let Some(n) = open.get_mut(&self.user_id) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                open.remove(&self.user_id);
            }
        }
        drop(open);
        // A closed socket leaves its buffers free in the allocator; give them back.
        crate::memory::trim_soon();
    }
}
