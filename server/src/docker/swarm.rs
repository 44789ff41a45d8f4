//! Swarm calls on a manager: the cluster, nodes, services, tasks, secrets and configs.
//!
//! bollard 0.19 speaks most of them; configs it lacks, so those go over a plain connection
//! ([`raw_json`]) with the API version the endpoint's client negotiated. A daemon that is
//! not a manager answers every call with 503 "This node is not a swarm manager": that
//! becomes 409 `not_a_swarm_manager`, saying what to do, on every route.

use axum::http::{header, Method, Request, StatusCode};
use bollard::models::{Config, ConfigSpec};
use http_body_util::BodyExt;
use hyper_util::rt::TokioIo;

use super::Endpoint;
use crate::error::{AppError, AppResult};

/// The code of a call on a daemon that is not a swarm manager.
pub const NOT_A_MANAGER: &str = "not_a_swarm_manager";

/// The most of a JSON answer read (lists of configs are small).
const MAX_ANSWER: usize = 16 << 20;

/// The error for an environment whose daemon is not a manager, naming what to do.
pub fn not_a_manager(ep: &Endpoint, daemon: &str) -> AppError {
    AppError::coded(
        StatusCode::CONFLICT,
        NOT_A_MANAGER,
        format!(
            "environment {:?} is not a swarm manager ({daemon}): choose an environment whose \
             daemon is a manager, or, as admin, make this one a swarm (POST /api/swarm/init)",
            ep.name
        ),
    )
}

/// A daemon error from a swarm call, with "not a manager" told as such.
pub fn map_err(ep: &Endpoint, e: AppError) -> AppError {
    let text = e.to_string();
    if text.contains("not a swarm manager") || text.contains("not part of a swarm") {
        not_a_manager(ep, text.trim())
    } else {
        e
    }
}

/// A bollard call on a manager ([`Endpoint::call`] with [`map_err`]).
pub async fn call<T, F, Fut>(ep: &Endpoint, f: F) -> AppResult<T>
where
    F: FnOnce(bollard::Docker) -> Fut,
    Fut: std::future::Future<Output = Result<T, bollard::errors::Error>>,
{
    ep.call(f).await.map_err(|e| map_err(ep, e))
}

/// One request over a plain connection: `path` without the version prefix; the answer's
/// body (an error status maps as bollard's would).
pub async fn raw_json(
    ep: &Endpoint,
    method: Method,
    path: &str,
    body: Option<Vec<u8>>,
) -> AppResult<bytes::Bytes> {
    let version = ep.client().await?.client_version();
    let io = ep.dial().await?;
    let unavailable = |e: hyper::Error| AppError::DockerUnavailable(format!("{}: {e}", ep.name));
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(io))
        .await
        .map_err(unavailable)?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    let req = Request::builder()
        .method(method)
        .uri(format!("/v{version}{path}"))
        .header(header::HOST, "docker")
        .header(header::CONTENT_TYPE, "application/json")
        .body(http_body_util::Full::new(bytes::Bytes::from(
            body.unwrap_or_default(),
        )))
        .map_err(|e| AppError::Internal(e.into()))?;
    let response = sender.send_request(req).await.map_err(unavailable)?;
    let status = response.status();
    let bytes = http_body_util::Limited::new(response.into_body(), MAX_ANSWER)
        .collect()
        .await
        .map_err(|e| AppError::Docker(format!("the daemon's answer could not be read: {e}")))?
        .to_bytes();
    if status.is_success() {
        return Ok(bytes);
    }
    #[derive(serde::Deserialize)]
    struct Message {
        message: String,
    }
    let message = serde_json::from_slice::<Message>(&bytes)
        .map(|m| m.message)
        .unwrap_or_else(|_| String::from_utf8_lossy(&bytes).trim().to_owned());
    Err(map_err(
        ep,
        AppError::from(bollard::errors::Error::DockerResponseServerError {
            status_code: status.as_u16(),
            message,
        }),
    ))
}

fn decode<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> AppResult<T> {
    serde_json::from_slice(bytes)
        .map_err(|e| AppError::Docker(format!("the daemon's answer is not what the API says: {e}")))
}

fn segment(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// `GET /configs`.
pub async fn list_configs(ep: &Endpoint) -> AppResult<Vec<Config>> {
    decode(&raw_json(ep, Method::GET, "/configs", None).await?)
}

/// `GET /configs/{id}` (an id, a name or an id prefix, as the daemon resolves them).
pub async fn inspect_config(ep: &Endpoint, reference: &str) -> AppResult<Config> {
    let path = format!("/configs/{}", segment(reference));
    decode(&raw_json(ep, Method::GET, &path, None).await?)
}

/// `POST /configs/create`; the new config's id.
pub async fn create_config(ep: &Endpoint, spec: &ConfigSpec) -> AppResult<String> {
    let body = serde_json::to_vec(spec).map_err(|e| AppError::Internal(e.into()))?;
    let answer: bollard::models::IdResponse =
        decode(&raw_json(ep, Method::POST, "/configs/create", Some(body)).await?)?;
    Ok(answer.id)
}

/// `DELETE /configs/{id}`.
pub async fn delete_config(ep: &Endpoint, id: &str) -> AppResult<()> {
    let path = format!("/configs/{}", segment(id));
    raw_json(ep, Method::DELETE, &path, None).await.map(|_| ())
}

/// `POST /swarm/update` with the cluster's own spec and version, asking for new join
/// tokens (bollard 0.19 has no `update_swarm`, so this goes over [`raw_json`] as the
/// docker CLI's `swarm join-token --rotate` does: inspect, then update with the same spec).
pub async fn rotate_join_tokens(ep: &Endpoint, worker: bool, manager: bool) -> AppResult<()> {
    let swarm = call(ep, |d| async move { d.inspect_swarm().await }).await?;
    let version = swarm
        .version
        .as_ref()
        .and_then(|v| v.index)
        .unwrap_or_default();
    let spec = swarm.spec.unwrap_or_default();
    let body = serde_json::to_vec(&spec).map_err(|e| AppError::Internal(e.into()))?;
    let path = format!(
        "/swarm/update?version={version}&rotateWorkerToken={worker}&rotateManagerToken={manager}"
    );
    raw_json(ep, Method::POST, &path, Some(body))
        .await
        .map(|_| ())
}

/// A service's `PreviousSpec` (what a rollback brings back), which bollard's `Service`
/// does not carry.
pub async fn previous_spec(
    ep: &Endpoint,
    id: &str,
) -> AppResult<Option<bollard::models::ServiceSpec>> {
    #[derive(serde::Deserialize)]
    struct Inspect {
        #[serde(rename = "PreviousSpec")]
        previous_spec: Option<bollard::models::ServiceSpec>,
    }
    let path = format!("/services/{}", segment(id));
    let i: Inspect = decode(&raw_json(ep, Method::GET, &path, None).await?)?;
    Ok(i.previous_spec)
}
