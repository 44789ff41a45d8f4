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
pub mod environments;
pub mod events;
pub mod git_stacks;
pub mod health;
pub mod images;
pub mod jobs;
pub mod ndjson;
pub mod networks;
pub mod registries;
pub mod services;
pub mod shares;
pub mod stack_logs;
pub mod stacks;
pub mod swarm;
pub mod swarm_files;
pub mod swarm_stacks;
pub mod system;
pub mod templates;
pub mod terminal;
pub mod tokens;
pub mod updates;
pub mod users;
pub mod volume_files;
pub mod volumes;
pub mod webhooks;

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use percent_encoding::percent_decode_str;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

use crate::error::AppError;
use crate::state::AppState;

/// How the document describes a binary request body (a tar archive): `type: string,
/// format: binary`. Never built: handlers stream the body itself.
pub struct Binary;

impl utoipa::PartialSchema for Binary {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Binary)))
            .into()
    }
}

impl utoipa::ToSchema for Binary {}

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
        .merge(git_stacks::router())
        .merge(stack_logs::router())
        .merge(swarm_stacks::router())
        .merge(networks::router())
        .merge(volumes::router())
        .merge(disk::router())
        .merge(environments::router())
        .merge(webhooks::router())
        .merge(jobs::router())
        .merge(updates::router())
        .merge(swarm::router())
        .merge(services::router())
        .merge(swarm_files::router())
        .merge(templates::router())
        .split_for_parts();
    let api = std::sync::Arc::new(api);
    router
        .layer(axum::middleware::from_fn(refuse_control_chars))
        .merge(autoindex::router())
        .merge(crate::dockerapi::router())
        .route(
            "/api/openapi.json",
            get(move || {
                let api = api.clone();
                async move { Json(api.as_ref().clone()) }
            }),
        )
}

/// A control character (NUL, newline, ...) in an API path or query names nothing berth or
/// the daemon knows: 400 here, before it reaches a daemon URL (where a NUL made bollard
/// fail to build the request: a 502) or a file name.
async fn refuse_control_chars(req: Request, next: Next) -> Response {
    let bad = |s: &str| percent_decode_str(s).any(|b| b < 0x20 || b == 0x7f);
    let uri = req.uri();
    if bad(uri.path()) || uri.query().is_some_and(bad) {
        return AppError::bad_request(
            "invalid_characters",
            "the path or query holds a control character (such as %00): no name has one",
        )
        .into_response();
    }
    next.run(req).await
}
