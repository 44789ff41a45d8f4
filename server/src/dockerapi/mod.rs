//! The Docker Engine API, passed through per user: `DOCKER_HOST=tcp://HOST:PORT/docker/ENV`
//! for the docker CLI and docker-compose, authenticated by the user's berth token (sent as
//! `Authorization: Bearer …` through `HttpHeaders` in `~/.docker/config.json`).
//!
//! Deny by default: every call is matched to what berth understands ([`decide`]), every id
//! or name resolved and checked as in the UI, every create body (containers, networks,
//! volumes), build and image write handed to the one policy (`auth::policy`), lists
//! filtered to what the user may see, and every state change audited. What berth does not
//! understand is refused with a Docker-shaped error (`{"message": …}`) the CLI prints.
//! Admins pass through everything (audited).

mod decide;
mod filter;
mod forward;

use axum::body::Body;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use axum::Router;

use crate::auth::CurrentUser;
use crate::error::AppError;
use crate::state::AppState;
use crate::store::audit;

pub use decide::Plan;

/// `/docker/{environment}/…`: the Docker API of that environment.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/docker/{env}", any(handle))
        .route("/docker/{env}/{*rest}", any(handle))
        // Builds, loads and `docker cp` stream whole contexts and archives through.
        .layer(axum::extract::DefaultBodyLimit::disable())
}

/// A Docker-shaped error: the CLI prints `message` as `Error response from daemon: …`.
pub fn docker_error(status: StatusCode, message: impl Into<String>) -> Response {
    let body = serde_json::json!({ "message": message.into() }).to_string();
    let mut r = (status, body).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

fn from_app_error(e: &AppError) -> Response {
    let status = e.status();
    let message = match e {
        AppError::Internal(_) => "berth hit an internal error; its log has details".to_owned(),
        other => other.to_string(),
    };
    if status.is_server_error() {
        tracing::warn!(code = e.code(), "docker api: {e}");
    }
    docker_error(status, message)
}

async fn handle(State(state): State<AppState>, req: Request) -> Response {
    let (mut parts, body) = req.into_parts();
    let user = match CurrentUser::from_request_parts(&mut parts, &state).await {
        Ok(u) => u,
        Err(e) => {
            return docker_error(
                StatusCode::UNAUTHORIZED,
                format!(
                    "berth: {e}. Send a berth API token: put {{\"HttpHeaders\": {{\"Authorization\": \"Bearer TOKEN\"}}}} in ~/.docker/config.json (berth's account page shows it)"
                ),
            )
        }
    };
    let path = parts.uri.path().to_owned();
    let mut segs = path.trim_start_matches('/').splitn(3, '/');
    let (_, env, rest) = (
        segs.next(),
        segs.next().unwrap_or(""),
        segs.next().unwrap_or(""),
    );
    // An environment given to some teams only is a missing one to everyone else. (The
    // user's role is already the one on this environment: `requested` reads this path.)
    let ep = match state.daemons.get(env) {
        Some(ep) if ep.teams.is_empty() || ep.open_to(&user) => ep,
        _ => {
            return docker_error(
                StatusCode::NOT_FOUND,
                format!("berth has no environment named {env:?}"),
            )
        }
    };
    let query = parts.uri.query().unwrap_or("").to_owned();
    let method = parts.method.clone();
    let call = decide::Call::new(&method, rest, &query);
    let plan = match decide::decide(&state, &user, &ep, &call, &parts.headers, body).await {
        Ok(p) => p,
        Err(e) => {
            if method != Method::GET && method != Method::HEAD {
                let res: Result<(), _> = Err(e);
                audit::outcome(&state.db, &user, "docker_api", &call.describe(), &res).await;
                return res
                    .map_or_else(|e| from_app_error(&e), |()| StatusCode::OK.into_response());
            }
            return from_app_error(&e);
        }
    };
    let upgrade = parts
        .headers
        .get(header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("tcp"));
    let client_upgrade = upgrade
        .then(|| parts.extensions.remove::<hyper::upgrade::OnUpgrade>())
        .flatten();
    let sent = forward::send(
        &ep,
        method.clone(),
        &plan.path,
        &parts.headers,
        plan.body,
        upgrade,
    )
    .await;
    let answer = match sent {
        Ok(a) => a,
        Err(e) => return from_app_error(&e),
    };
    if let Some(action) = plan.audit.as_ref() {
        let status = match &answer {
            forward::Answer::Plain(r) => r.status(),
            forward::Answer::Upgraded { .. } => StatusCode::SWITCHING_PROTOCOLS,
        };
        let res: Result<(), AppError> = if status.is_success() || status.is_informational() {
            Ok(())
        } else {
            Err(AppError::Docker(format!("the daemon answered {status}")))
        };
        audit::outcome(&state.db, &user, action.0, &action.1, &res).await;
    }
    match answer {
        forward::Answer::Upgraded { response, daemon } => {
            let out = forward::switching(&response);
            if let Some(client) = client_upgrade {
                forward::join(client, daemon);
            }
            out
        }
        forward::Answer::Plain(response) => match plan.filter {
            filter::Filter::None => {
                let status = response.status();
                let out = forward::stream_back(response);
                if status.is_success() {
                    if let Err(e) = decide::after(&state, &user, &ep, &plan.after, None).await {
                        tracing::warn!("docker api: recording ownership: {e}");
                    }
                }
                out
            }
            filter::Filter::Events => filter::events(&user, response),
            f => match forward::collect(response, 256 << 20).await {
                Ok((status, headers, bytes)) => {
                    let bytes = if status.is_success() {
                        if let Err(e) =
                            decide::after(&state, &user, &ep, &plan.after, Some(&bytes)).await
                        {
                            tracing::warn!("docker api: recording ownership: {e}");
                        }
                        filter::apply(&state, &user, &ep, &f, bytes).await
                    } else {
                        bytes
                    };
                    let mut out = Response::new(Body::from(bytes));
                    *out.status_mut() = status;
                    for (k, v) in &headers {
                        if k != header::CONTENT_LENGTH && k != header::TRANSFER_ENCODING {
                            out.headers_mut().append(k.clone(), v.clone());
                        }
                    }
                    out
                }
                Err(e) => from_app_error(&e),
            },
        },
    }
}
