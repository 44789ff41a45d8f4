//! `/api/networks`: list, create, inspect, connect, disconnect, remove, prune.

use std::collections::HashSet;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde_json::Value;
use utoipa_axum::{router::OpenApiRouter, routes};
use wire::Role;

use bollard::query_parameters::ListContainersOptions;

use crate::auth::policy::{
    self,
    resolve::{no_such_network, Policy},
};
use crate::auth::{access, CurrentUser};
use crate::docker::{networks, Daemon, Endpoint};
use crate::error::{AppError, AppResult, JsonBody, PathArgs};
use crate::state::AppState;
use crate::store::audit;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(inspect, remove))
        .routes(routes!(connect))
        .routes(routes!(disconnect))
        .routes(routes!(prune))
}

/// Whether a user may see a network: the daemon's own (`bridge`, `host`, `none`) to all,
/// others by team label.
fn visible(user: &CurrentUser, n: &wire::NetworkSummary) -> bool {
    n.builtin || user.can_see_map(&n.labels)
}

/// Resolve a network the user may reach with `role`; its full id. Another team's answers
/// as a missing one.
async fn reach(
    user: &CurrentUser,
    ep: &Endpoint,
    reference: &str,
    role: Role,
) -> AppResult<String> {
    user.require(role)?;
    let n = networks::summary(networks::inspect_raw(ep, reference).await?);
    if !visible(user, &n) {
        return Err(no_such_network(reference));
    }
    Ok(n.id)
}

/// The ids of the containers a non-admin may see (None: an admin sees all). A network
/// everyone may use (`bridge`) lists only those: its other members are other teams'.
async fn visible_containers(
    user: &CurrentUser,
    ep: &Endpoint,
) -> AppResult<Option<HashSet<String>>> {
    if user.role == Role::Admin {
        return Ok(None);
    }
    let all = ep
        .call(|d| async move {
            d.list_containers(Some(ListContainersOptions {
                all: true,
                ..Default::default()
            }))
            .await
        })
        .await?;
    Ok(Some(
        all.into_iter()
            .filter(|c| {
                user.can_see(|k| c.labels.as_ref().and_then(|l| l.get(k)).map(String::as_str))
            })
            .filter_map(|c| c.id)
            .collect(),
    ))
}

/// Networks with their containers and addresses.
#[utoipa::path(get, path = "/api/networks", tag = "networks",
    responses((status = 200, description = "the networks", body = Vec<wire::NetworkSummary>)))]
pub async fn list(user: CurrentUser, daemon: Daemon) -> AppResult<Json<Vec<wire::NetworkSummary>>> {
    let (rows, seen) =
        tokio::try_join!(networks::list(&daemon), visible_containers(&user, &daemon))?;
    let mut rows = rows;
    rows.retain(|n| visible(&user, n));
    if let Some(seen) = seen {
        for n in &mut rows {
            n.containers.retain(|c| seen.contains(&c.id));
        }
    }
    Ok(Json(rows))
}

/// `docker network create` (driver, subnet, gateway, IP range, internal, labels).
#[utoipa::path(post, path = "/api/networks", tag = "networks",
    request_body = wire::CreateNetwork,
    responses((status = 201, description = "`{\"id\"}`"), (status = 400, description = "bad field"),
              (status = 409, description = "the name is taken")))]
pub async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    daemon: Daemon,
    JsonBody(req): JsonBody<wire::CreateNetwork>,
) -> AppResult<(StatusCode, Json<Value>)> {
    let res = audit::audited(&state.db, &user, "network_create", &req.name, async {
        policy::check_network_create(&user, req.driver.as_deref())?;
        networks::validate(&req)?;
        let labels = policy::own_labels(&user, req.labels.clone(), req.team.as_deref())?;
        networks::create(&daemon, &req, labels).await
    })
    .await;
    Ok((StatusCode::CREATED, Json(serde_json::json!({ "id": res? }))))
}

/// `docker network inspect`.
#[utoipa::path(get, path = "/api/networks/{id}", tag = "networks",
    params(("id" = String, Path, description = "network id or name")),
    responses((status = 200, description = "the daemon's inspect JSON"), (status = 404, description = "no such network")))]
pub async fn inspect(
    user: CurrentUser,
    daemon: Daemon,
    PathArgs(id): PathArgs<String>,
) -> AppResult<Json<Value>> {
    let id = reach(&user, &daemon, &id, Role::Viewer).await?;
    let mut json = networks::inspect(&daemon, &id).await?;
    if let Some(seen) = visible_containers(&user, &daemon).await? {
        if let Some(members) = json.get_mut("Containers").and_then(Value::as_object_mut) {
            members.retain(|id, _| seen.contains(id));
        }
    }
    Ok(Json(json))
}

/// `docker network rm`.
#[utoipa::path(delete, path = "/api/networks/{id}", tag = "networks",
    params(("id" = String, Path, description = "network id or name")),
    responses((status = 204, description = "removed"), (status = 404, description = "no such network"),
              (status = 409, description = "containers still use it")))]
pub async fn remove(
    State(state): State<AppState>,
    user: CurrentUser,
    daemon: Daemon,
    PathArgs(id): PathArgs<String>,
) -> AppResult<StatusCode> {
    let res = audit::audited(&state.db, &user, "network_remove", &id, async {
        let full = reach(&user, &daemon, &id, Role::Operator).await?;
        networks::remove(&daemon, &full).await
    })
    .await;
    res.map(|()| StatusCode::NO_CONTENT)
}

/// `docker network connect [--ip ADDR] NETWORK CONTAINER`.
#[utoipa::path(post, path = "/api/networks/{id}/connect", tag = "networks",
    request_body = wire::ConnectNetwork,
    params(("id" = String, Path, description = "network id or name")),
    responses((status = 204, description = "connected"), (status = 400, description = "bad address")))]
pub async fn connect(
    State(state): State<AppState>,
    user: CurrentUser,
    daemon: Daemon,
    PathArgs(id): PathArgs<String>,
    JsonBody(req): JsonBody<wire::ConnectNetwork>,
) -> AppResult<StatusCode> {
    let res = async {
        user.require(Role::Operator)?;
        // Joining a network is a reference like one in a create body: the one policy decides.
        let policy = Policy::new(&user, &daemon, &state.db);
        let net = policy.network(&id).await?.id.unwrap_or_default();
        let c = access::container(&user, &daemon, &req.container, Role::Operator).await?;
        networks::connect(&daemon, &net, &c.id, req.ipv4.as_deref(), &req.aliases).await
    }
    .await;
    audit::outcome(
        &state.db,
        &user,
        "network_connect",
        &format!("{id} {}", req.container),
        &res,
    )
    .await;
    res.map(|()| StatusCode::NO_CONTENT)
}

/// `docker network disconnect [-f] NETWORK CONTAINER`.
#[utoipa::path(post, path = "/api/networks/{id}/disconnect", tag = "networks",
    request_body = wire::DisconnectNetwork,
    params(("id" = String, Path, description = "network id or name")),
    responses((status = 204, description = "disconnected")))]
pub async fn disconnect(
    State(state): State<AppState>,
    user: CurrentUser,
    daemon: Daemon,
    PathArgs(id): PathArgs<String>,
    JsonBody(req): JsonBody<wire::DisconnectNetwork>,
) -> AppResult<StatusCode> {
    let res = async {
        let net = reach(&user, &daemon, &id, Role::Operator).await?;
        let c = access::container(&user, &daemon, &req.container, Role::Operator).await?;
        networks::disconnect(&daemon, &net, &c.id, req.force).await
    }
    .await;
    audit::outcome(
        &state.db,
        &user,
        "network_disconnect",
        &format!("{id} {}", req.container),
        &res,
    )
    .await;
    res.map(|()| StatusCode::NO_CONTENT)
}

/// A JSON body that may be left out entirely (a prune without filters): its default then.
pub struct MaybeJson<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned + Default> axum::extract::FromRequest<S>
    for MaybeJson<T>
{
    type Rejection = AppError;

    async fn from_request(req: axum::extract::Request, state: &S) -> AppResult<Self> {
        let body = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(crate::error::body_rejection)?;
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(MaybeJson(T::default()));
        }
        crate::error::parse_object(&body).map(MaybeJson)
    }
}

/// `POST /api/networks/prune` and `POST /api/volumes/prune`: only things with these labels.
#[derive(Debug, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PruneBody {
    #[serde(default)]
    pub labels: Vec<String>,
}

/// `docker network prune [--filter label=..]` (admin).
#[utoipa::path(post, path = "/api/networks/prune", tag = "networks",
    request_body = PruneBody,
    responses((status = 200, description = "what was removed", body = wire::Pruned)))]
pub async fn prune(
    State(state): State<AppState>,
    user: CurrentUser,
    daemon: Daemon,
    MaybeJson(body): MaybeJson<PruneBody>,
) -> AppResult<Json<wire::Pruned>> {
    let labels = body.labels;
    let res = audit::audited(
        &state.db,
        &user,
        "network_prune",
        &labels.join(","),
        async {
            user.require(Role::Admin)?;
            networks::prune(&daemon, &labels).await
        },
    )
    .await;
    res.map(Json)
}
