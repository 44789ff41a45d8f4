//! The HTTP API, one module per resource. Every route is declared with `utoipa` so
//! `GET /api/openapi.json` is generated from the code itself.

pub mod auth;
pub mod autoindex;
pub mod builds;
pub mod container_create;
pub mod container_files;
pub mod container_logs;
pub mod container_stats;
pub mod containers;
pub mod disk;
pub mod events;
pub mod health;
pub mod images;
pub mod ndjson;
pub mod networks;
pub mod registries;
pub mod shares;
pub mod stack_logs;
pub mod stacks;
pub mod system;
pub mod terminal;
pub mod tokens;
pub mod users;
pub mod volume_files;
pub mod volumes;

use axum::routing::get;
use axum::{Json, Router};
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

use crate::state::AppState;

#[derive(OpenApi)]
#[openapi(info(
    title = "berth",
    description = "A web console for Docker. Errors are {\"error\":{\"code\",\"message\"}}."
))]
struct ApiDoc;

/// Every API route, plus `/api/openapi.json` describing them.
pub fn router() -> Router<AppState> {
    let (router, api) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(health::router())
        .merge(auth::router())
        .merge(system::router())
        .merge(containers::router())
        .merge(container_create::router())
        .merge(container_logs::router())
        .merge(terminal::router())
        .merge(container_stats::router())
        .merge(container_files::router())
        .merge(events::router())
        .merge(users::router())
        .merge(tokens::router())
        .merge(shares::router())
        .merge(volume_files::router())
        .merge(images::router())
        .merge(builds::router())
        .merge(registries::router())
        .merge(stacks::router())
        .merge(stack_logs::router())
        .merge(networks::router())
        .merge(volumes::router())
        .merge(disk::router())
        .split_for_parts();
    let api = std::sync::Arc::new(api);
    router.merge(autoindex::router()).route(
        "/api/openapi.json",
        get(move || {
            let api = api.clone();
            async move { Json(api.as_ref().clone()) }
        }),
    )
}
