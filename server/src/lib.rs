//! berth: a web console for Docker. `app(state)` builds the whole HTTP service; the binary
//! and the integration tests both start from here.

pub mod auth;
pub mod buildctx;
pub mod config;
pub mod docker;
pub mod dockerapi;
pub mod error;
pub mod files;
pub mod jobs;
pub mod memory;
pub mod registry;
pub mod routes;
pub mod serve;
pub mod stacks;
pub mod state;
pub mod store;
pub mod templates;
pub mod ui;
pub mod updates;

use axum::Router;
use tower_http::trace::TraceLayer;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer};

pub use state::AppState;

/// The whole service: API, websockets, and the UI.
pub fn app(state: AppState) -> Router {
    // Over HTTPS the cookie is `Secure` and `__Host-` prefixed: browsers then refuse it from
    // plain HTTP and from any subdomain or path that tries to set it.
    let secure = state.config.secure_cookies;
    let sessions = SessionManagerLayer::new(state.sessions.clone())
        .with_name(if secure {
            "__Host-berth_session"
        } else {
            "berth_session"
        })
        .with_http_only(true)
        .with_same_site(SameSite::Strict)
        .with_secure(secure)
        .with_path("/")
        .with_expiry(Expiry::OnInactivity(time::Duration::minutes(
            state.config.session_idle_minutes,
        )));

    // Layer order (the last added runs first): the host check, then the origin guard, so a
    // request for a foreign host name or a forged cross-site one is refused before any
    // session is loaded or any handler runs; the body watch wraps the handlers.
    use axum::middleware::from_fn_with_state;
    routes::router()
        .fallback(ui::serve)
        .layer(sessions)
        .layer(from_fn_with_state(state.clone(), serve::body::guard))
        .layer(from_fn_with_state(state.clone(), auth::origin::guard))
        .layer(from_fn_with_state(state.clone(), auth::hosts::guard))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}
