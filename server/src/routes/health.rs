//! `GET /api/health`: no session needed, for load balancers and `berth healthcheck`.

use axum::extract::State;
use axum::Json;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(health))
}

/// Whether berth runs and whether the daemon answers.
#[utoipa::path(get, path = "/api/health", tag = "system",
    responses((status = 200, description = "`status` is ok, or degraded when the daemon is unreachable", body = wire::Health)))]
pub async fn health(State(state): State<AppState>) -> Json<wire::Health> {
    Json(crate::docker::system::health(&state.daemons.local()).await)
}
