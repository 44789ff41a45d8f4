//! `/api/services`: swarm services on the environment's manager. Create and every update
//! (scale, image/env, rollback) go through the one policy (`auth::policy::services`);
//! another team's service answers as a missing one; viewers read.

use std::collections::HashMap;

use axum::extract::ws::WebSocketUpgrade;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use bollard::models::{
    EndpointPortConfig, EndpointSpec, Limit, Mount, MountTypeEnum, NetworkAttachmentConfig,
    Service, ServiceSpec, ServiceSpecMode, ServiceSpecModeReplicated, ServiceSpecUpdateConfig,
    TaskSpec, TaskSpecContainerSpec, TaskSpecContainerSpecConfigs, TaskSpecContainerSpecFile,
    TaskSpecContainerSpecFile1, TaskSpecContainerSpecSecrets, TaskSpecPlacement,
    TaskSpecPlacementPreferences, TaskSpecPlacementSpread, TaskSpecResources,
    TaskSpecRestartPolicy,
};
use bollard::query_parameters::{ListServicesOptions, ListTasksOptions, UpdateServiceOptions};
use serde::de::DeserializeOwned;
use serde_json::Value;
use tokio::sync::mpsc;
use utoipa_axum::{router::OpenApiRouter, routes};
use wire::Role;

use super::container_logs::{forward, LogsArgs, CHANNEL, READ_BUFFER};
use crate::auth::access::TEAM_LABEL;
use crate::auth::policy::resolve::Policy;
use crate::auth::{sockets, CurrentUser};
use crate::docker::{service_logs, swarm, Daemon, Endpoint};
use crate::error::{AppError, AppResult, JsonBody, PathArgs, QueryArgs};
use crate::state::AppState;
use crate::store::audit;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(inspect, remove))
        .routes(routes!(scale))
        .routes(routes!(update))
        .routes(routes!(rollback))
        .routes(routes!(tasks))
        .routes(routes!(logs_ws))
}

/// A string the API spells as an enum (`"drain"`, `"on-failure"`), or 400 naming `field`.
fn word<T: DeserializeOwned>(field: &str, v: &str, allowed: &str) -> AppResult<T> {
    serde_json::from_value(Value::String(v.to_owned())).map_err(|_| {
        AppError::bad_request(
            "invalid_field",
            format!("{field}: {v:?} is not one of {allowed}"),
        )
    })
}

fn mount(m: &wire::ServiceMount) -> AppResult<Mount> {
    let typ = match m.kind.as_deref().unwrap_or("volume") {
        "volume" => MountTypeEnum::VOLUME,
        "bind" => MountTypeEnum::BIND,
        "tmpfs" => MountTypeEnum::TMPFS,
        other => {
            return Err(AppError::bad_request(
                "invalid_mount",
                format!("mounts.type: {other:?} is not volume, bind or tmpfs"),
            ))
        }
    };
    if !m.target.starts_with('/') {
        return Err(AppError::bad_request(
            "invalid_mount",
            format!("mounts.target: {:?} must be an absolute path", m.target),
        ));
    }
    if typ == MountTypeEnum::BIND && !m.source.as_deref().is_some_and(|s| s.starts_with('/')) {
        return Err(AppError::bad_request(
            "invalid_mount",
            "mounts.source: a bind mount needs an absolute host path",
        ));
    }
    Ok(Mount {
        typ: Some(typ),
        source: m.source.clone().filter(|s| !s.is_empty()),
        target: Some(m.target.clone()),
        read_only: Some(m.read_only),
        ..Default::default()
    })
}

fn secret(f: &wire::ServiceFile) -> TaskSpecContainerSpecSecrets {
    TaskSpecContainerSpecSecrets {
        file: Some(TaskSpecContainerSpecFile {
            name: Some(f.target.clone().unwrap_or_else(|| f.name.clone())),
            uid: Some("0".into()),
            gid: Some("0".into()),
            mode: Some(0o444),
        }),
        secret_name: Some(f.name.clone()),
        ..Default::default()
    }
}

fn config(f: &wire::ServiceFile) -> TaskSpecContainerSpecConfigs {
    TaskSpecContainerSpecConfigs {
        file: Some(TaskSpecContainerSpecFile1 {
            name: Some(f.target.clone().unwrap_or_else(|| format!("/{}", f.name))),
            uid: Some("0".into()),
            gid: Some("0".into()),
            mode: Some(0o444),
        }),
        config_name: Some(f.name.clone()),
        ..Default::default()
    }
}

fn networks(names: &[String]) -> Option<Vec<NetworkAttachmentConfig>> {
    Some(
        names
            .iter()
            .map(|n| NetworkAttachmentConfig {
                target: Some(n.clone()),
                ..Default::default()
            })
            .collect(),
    )
}

/// The spec `docker service create` would send for the form.
fn spec_of(req: &wire::CreateService) -> AppResult<ServiceSpec> {
    crate::docker::volumes::check_name(&req.name).map_err(|_| {
        AppError::bad_request(
            "invalid_name",
            format!(
                "name: {:?} is not a service name (letters, digits, '_', '.', '-')",
                req.name
            ),
        )
    })?;
    if req.image.trim().is_empty() {
        return Err(AppError::bad_request(
            "invalid_image",
            "image: an image is required",
        ));
    }
    if req.privileged {
        return Err(AppError::Forbidden(
            "a swarm service cannot be privileged (privileged): an admin may add the capabilities it needs (cap_add)".into(),
        ));
    }
    for e in &req.env {
        if !e.contains('=') || e.starts_with('=') {
            return Err(AppError::bad_request(
                "invalid_env",
                format!("env: {e:?} is not KEY=VALUE"),
            ));
        }
    }
    let mode = match req.mode.as_deref().unwrap_or("replicated") {
        "replicated" => ServiceSpecMode {
            replicated: Some(ServiceSpecModeReplicated {
                replicas: Some(req.replicas.unwrap_or(1) as i64),
            }),
            ..Default::default()
        },
        "global" if req.replicas.is_none() => ServiceSpecMode {
            global: Some(HashMap::new()),
            ..Default::default()
        },
        "global" => {
            return Err(AppError::bad_request(
                "invalid_replicas",
                "replicas: a global service runs one task per node; leave replicas out",
            ))
        }
        other => {
            return Err(AppError::bad_request(
                "invalid_mode",
                format!("mode: {other:?} is not replicated or global"),
            ))
        }
    };
    let mut ports = Vec::new();
    for p in &req.ports {
        if p.target == 0 {
            return Err(AppError::bad_request(
                "invalid_port",
                "ports.target: a port from 1 to 65535",
            ));
        }
        ports.push(EndpointPortConfig {
            target_port: Some(i64::from(p.target)),
            published_port: p.published.map(i64::from),
            protocol: Some(word(
                "ports.protocol",
                p.protocol.as_deref().unwrap_or("tcp"),
                "tcp, udp, sctp",
            )?),
            publish_mode: Some(word(
                "ports.mode",
                p.mode.as_deref().unwrap_or("ingress"),
                "ingress, host",
            )?),
            ..Default::default()
        });
    }
    let mounts = req
        .mounts
        .iter()
        .map(mount)
        .collect::<AppResult<Vec<_>>>()?;
    let restart = match req.restart.as_deref() {
        None => None,
        Some(r) => Some(TaskSpecRestartPolicy {
            condition: Some(word("restart", r, "any, on-failure, none")?),
            ..Default::default()
        }),
    };
    let update_config = ServiceSpecUpdateConfig {
        parallelism: Some(req.update_parallelism.unwrap_or(1) as i64),
        delay: req.update_delay_seconds.map(|s| s as i64 * 1_000_000_000),
        failure_action: req
            .update_failure_action
            .as_deref()
            .map(|a| word("update_failure_action", a, "pause, continue, rollback"))
            .transpose()?,
        order: req
            .update_order
            .as_deref()
            .map(|o| word("update_order", o, "stop-first, start-first"))
            .transpose()?,
        ..Default::default()
    };
    if let Some(c) = req.cpus.filter(|c| *c <= 0.0) {
        return Err(AppError::bad_request(
            "invalid_cpus",
            format!("cpus: {c} must be more than 0"),
        ));
    }
    let limits = (req.cpus.is_some() || req.memory_bytes.is_some()).then(|| Limit {
        nano_cpus: req.cpus.map(|c| (c * 1e9) as i64),
        memory_bytes: req.memory_bytes,
        ..Default::default()
    });
    Ok(ServiceSpec {
        name: Some(req.name.clone()),
        labels: Some(req.labels.clone().into_iter().collect()),
        mode: Some(mode),
        update_config: Some(update_config),
        endpoint_spec: Some(EndpointSpec {
            ports: Some(ports),
            ..Default::default()
        }),
        task_template: Some(TaskSpec {
            container_spec: Some(TaskSpecContainerSpec {
                image: Some(req.image.clone()),
                command: req.entrypoint.clone(),
                args: req.cmd.clone(),
                env: Some(req.env.clone()),
                dir: req.workdir.clone(),
                user: req.user.clone(),
                hostname: req.hostname.clone(),
                mounts: Some(mounts),
                secrets: Some(req.secrets.iter().map(secret).collect()),
                configs: Some(req.configs.iter().map(config).collect()),
                capability_add: (!req.cap_add.is_empty()).then(|| req.cap_add.clone()),
                ..Default::default()
            }),
            networks: networks(&req.networks),
            placement: Some(TaskSpecPlacement {
                constraints: Some(req.constraints.clone()),
                preferences: Some(
                    req.spread
                        .iter()
                        .map(|s| TaskSpecPlacementPreferences {
                            spread: Some(TaskSpecPlacementSpread {
                                spread_descriptor: Some(s.clone()),
                            }),
                        })
                        .collect(),
                ),
                ..Default::default()
            }),
            resources: limits.map(|l| TaskSpecResources {
                limits: Some(l),
                ..Default::default()
            }),
            restart_policy: restart,
            ..Default::default()
        }),
        ..Default::default()
    })
}

fn summary(s: Service) -> wire::ServiceSummary {
    let spec = s.spec.unwrap_or_default();
    let labels: std::collections::BTreeMap<String, String> = spec
        .labels
        .clone()
        .unwrap_or_default()
        .into_iter()
        .collect();
    let mode = spec.mode.clone().unwrap_or_default();
    let (mode_name, replicas) = if let Some(r) = mode.replicated {
        ("replicated", r.replicas.map(|n| n.max(0) as u64))
    } else if mode.global.is_some() {
        ("global", None)
    } else if mode.replicated_job.is_some() {
        ("replicated-job", None)
    } else {
        ("global-job", None)
    };
    let status = s.service_status.unwrap_or_default();
    let ports = s
        .endpoint
        .and_then(|e| e.ports)
        .unwrap_or_default()
        .into_iter()
        .map(|p| wire::ServicePort {
            target: p.target_port.unwrap_or(0) as u16,
            published: p.published_port.map(|n| n as u16),
            protocol: p.protocol.map(|x| x.to_string()),
            mode: p.publish_mode.map(|x| x.to_string()),
        })
        .collect();
    let image = spec
        .task_template
        .and_then(|t| t.container_spec)
        .and_then(|c| c.image)
        .unwrap_or_default();
    wire::ServiceSummary {
        id: s.id.unwrap_or_default(),
        name: spec.name.unwrap_or_default(),
        // The daemon may have pinned a digest: show the name asked for.
        image: image.split('@').next().unwrap_or_default().to_owned(),
        mode: mode_name.into(),
        replicas,
        running: status.running_tasks.unwrap_or(0),
        desired: status.desired_tasks.unwrap_or(0),
        ports,
        update_state: s
            .update_status
            .as_ref()
            .and_then(|u| u.state)
            .map(|x| x.to_string()),
        update_message: s.update_status.and_then(|u| u.message),
        team: labels.get(TEAM_LABEL).cloned().filter(|t| !t.is_empty()),
        created: s.created_at,
        updated: s.updated_at,
        labels,
    }
}

/// The services the caller may see, with running and desired task counts.
#[utoipa::path(get, path = "/api/services", tag = "swarm",
    responses((status = 200, description = "the services", body = Vec<wire::ServiceSummary>),
              (status = 409, description = "not_a_swarm_manager")))]
pub async fn list(user: CurrentUser, daemon: Daemon) -> AppResult<Json<Vec<wire::ServiceSummary>>> {
    user.require(Role::Viewer)?;
    let all = swarm::call(&daemon, |d| async move {
        d.list_services(Some(ListServicesOptions {
            status: Some(true),
            ..Default::default()
        }))
        .await
    })
    .await?;
    let mut rows: Vec<wire::ServiceSummary> = all
        .into_iter()
        .map(summary)
        .filter(|s| user.role == Role::Admin || user.can_see_map(&s.labels))
        .collect();
    rows.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(Json(rows))
}

/// `docker service create`, judged by the policy; the image is never resolved against a
/// registry (no registry auth, no digest pinning: the nodes use the image they have).
#[utoipa::path(post, path = "/api/services", tag = "swarm",
    request_body = wire::CreateService,
    responses((status = 201, description = "`{\"id\",\"warnings\"}`"), (status = 400, description = "bad field"),
              (status = 403, description = "a host power"), (status = 404, description = "image, network, secret or config not found"),
              (status = 409, description = "not_a_swarm_manager, or the name is taken")))]
pub async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    daemon: Daemon,
    JsonBody(req): JsonBody<wire::CreateService>,
) -> AppResult<(StatusCode, Json<Value>)> {
    user.require(Role::Operator)?;
    let res = audit::audited(&state.db, &user, "service_create", &req.name, async {
        let spec = spec_of(&req)?;
        let p = Policy::new(&user, &daemon, &state.db);
        let decided = p.service(spec, req.team.as_deref()).await?;
        let spec = decided.spec;
        swarm::call(
            &daemon,
            |d| async move { d.create_service(spec, None).await },
        )
        .await
    })
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(serde_json::json!({
            "id": res.id.unwrap_or_default(),
            "warnings": res.warnings.unwrap_or_default(),
        })),
    ))
}

/// The daemon's inspect JSON of a service.
#[utoipa::path(get, path = "/api/services/{id}", tag = "swarm",
    params(("id" = String, Path, description = "service id, name or id prefix")),
    responses((status = 200, description = "the daemon's inspect JSON"), (status = 404, description = "no such service")))]
pub async fn inspect(
    State(state): State<AppState>,
    user: CurrentUser,
    daemon: Daemon,
    PathArgs(id): PathArgs<String>,
) -> AppResult<Json<Service>> {
    let p = Policy::new(&user, &daemon, &state.db);
    Ok(Json(p.service_ref(&id, Role::Viewer).await?))
}

/// `docker service rm`.
#[utoipa::path(delete, path = "/api/services/{id}", tag = "swarm",
    params(("id" = String, Path, description = "service id, name or id prefix")),
    responses((status = 204, description = "removed"), (status = 404, description = "no such service")))]
pub async fn remove(
    State(state): State<AppState>,
    user: CurrentUser,
    daemon: Daemon,
    PathArgs(id): PathArgs<String>,
) -> AppResult<StatusCode> {
    audit::audited(&state.db, &user, "service_remove", &id, async {
        let p = Policy::new(&user, &daemon, &state.db);
        let s = p.service_ref(&id, Role::Operator).await?;
        let sid = s.id.unwrap_or_default();
        swarm::call(&daemon, |d| async move { d.delete_service(&sid).await }).await
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Send the updated spec of `current`, decided by the policy (as every change is).
pub(crate) async fn send_update(
    p: &Policy<'_>,
    ep: &Endpoint,
    current: &Service,
    spec: ServiceSpec,
    rollback: bool,
    credentials: Option<bollard::auth::DockerCredentials>,
) -> AppResult<Value> {
    let spec = if rollback {
        p.service_rollback(current).await?;
        spec
    } else {
        p.service_update(current, spec).await?
    };
    let id = current.id.clone().unwrap_or_default();
    let version = current
        .version
        .as_ref()
        .and_then(|v| v.index)
        .unwrap_or_default() as i32;
    let opts = UpdateServiceOptions {
        version,
        rollback: rollback.then(|| "previous".to_owned()),
        ..Default::default()
    };
    let res = swarm::call(ep, |d| async move {
        d.update_service(&id, spec, opts, credentials).await
    })
    .await?;
    Ok(serde_json::json!({ "warnings": res.warnings.unwrap_or_default() }))
}

/// `docker service scale SERVICE=N`.
#[utoipa::path(post, path = "/api/services/{id}/scale", tag = "swarm",
    params(("id" = String, Path, description = "service id, name or id prefix")),
    request_body = wire::ScaleService,
    responses((status = 200, description = "`{\"warnings\"}`"), (status = 400, description = "a global service"),
              (status = 404, description = "no such service")))]
pub async fn scale(
    State(state): State<AppState>,
    user: CurrentUser,
    daemon: Daemon,
    PathArgs(id): PathArgs<String>,
    JsonBody(req): JsonBody<wire::ScaleService>,
) -> AppResult<Json<Value>> {
    let res = audit::audited(&state.db, &user, "service_scale", &id, async {
        let p = Policy::new(&user, &daemon, &state.db);
        let current = p.service_ref(&id, Role::Operator).await?;
        let mut spec = current.spec.clone().unwrap_or_default();
        match spec.mode.as_mut().and_then(|m| m.replicated.as_mut()) {
            Some(r) => r.replicas = Some(req.replicas as i64),
            None => {
                return Err(AppError::bad_request(
                    "invalid_replicas",
                    "replicas: only a replicated service scales (a global one runs a task on every node)",
                ))
            }
        }
        send_update(&p, &daemon, &current, spec, false, None).await
    })
    .await?;
    Ok(Json(res))
}

/// A rolling update: image, environment, command, replicas, mounts, secrets, configs,
/// networks; `force` restarts every task.
#[utoipa::path(post, path = "/api/services/{id}/update", tag = "swarm",
    params(("id" = String, Path, description = "service id, name or id prefix")),
    request_body = wire::UpdateService,
    responses((status = 200, description = "`{\"warnings\"}`"), (status = 400, description = "bad field"),
              (status = 403, description = "a host power"), (status = 404, description = "no such service")))]
pub async fn update(
    State(state): State<AppState>,
    user: CurrentUser,
    daemon: Daemon,
    PathArgs(id): PathArgs<String>,
    JsonBody(req): JsonBody<wire::UpdateService>,
) -> AppResult<Json<Value>> {
    let res = audit::audited(&state.db, &user, "service_update", &id, async {
        let p = Policy::new(&user, &daemon, &state.db);
        let current = p.service_ref(&id, Role::Operator).await?;
        let mut spec = current.spec.clone().unwrap_or_default();
        let task = spec.task_template.get_or_insert_with(Default::default);
        if req.force {
            task.force_update = Some(task.force_update.unwrap_or(0) + 1);
        }
        if let Some(n) = &req.networks {
            task.networks = networks(n);
        }
        let c = task.container_spec.get_or_insert_with(Default::default);
        if let Some(image) = &req.image {
            if image.trim().is_empty() {
                return Err(AppError::bad_request(
                    "invalid_image",
                    "image: an image is required",
                ));
            }
            c.image = Some(image.clone());
        }
        if let Some(env) = &req.env {
            if let Some(e) = env.iter().find(|e| !e.contains('=') || e.starts_with('=')) {
                return Err(AppError::bad_request(
                    "invalid_env",
                    format!("env: {e:?} is not KEY=VALUE"),
                ));
            }
            c.env = Some(env.clone());
        }
        if let Some(cmd) = &req.cmd {
            c.args = Some(cmd.clone());
        }
        if let Some(m) = &req.mounts {
            c.mounts = Some(m.iter().map(mount).collect::<AppResult<Vec<_>>>()?);
        }
        if let Some(s) = &req.secrets {
            c.secrets = Some(s.iter().map(secret).collect());
        }
        if let Some(s) = &req.configs {
            c.configs = Some(s.iter().map(config).collect());
        }
        if let Some(n) = req.replicas {
            match spec.mode.as_mut().and_then(|m| m.replicated.as_mut()) {
                Some(r) => r.replicas = Some(n as i64),
                None => {
                    return Err(AppError::bad_request(
                        "invalid_replicas",
                        "replicas: only a replicated service scales",
                    ))
                }
            }
        }
        send_update(&p, &daemon, &current, spec, false, None).await
    })
    .await?;
    Ok(Json(res))
}

/// `docker service rollback`: back to the previous spec, itself judged by the policy.
#[utoipa::path(post, path = "/api/services/{id}/rollback", tag = "swarm",
    params(("id" = String, Path, description = "service id, name or id prefix")),
    responses((status = 200, description = "`{\"warnings\"}`"), (status = 404, description = "no such service"),
              (status = 409, description = "no previous spec")))]
pub async fn rollback(
    State(state): State<AppState>,
    user: CurrentUser,
    daemon: Daemon,
    PathArgs(id): PathArgs<String>,
) -> AppResult<Json<Value>> {
    let res = audit::audited(&state.db, &user, "service_rollback", &id, async {
        let p = Policy::new(&user, &daemon, &state.db);
        let current = p.service_ref(&id, Role::Operator).await?;
        let spec = current.spec.clone().unwrap_or_default();
        send_update(&p, &daemon, &current, spec, true, None).await
    })
    .await?;
    Ok(Json(res))
}

/// `docker service ps`: the service's tasks with their node, state and error.
#[utoipa::path(get, path = "/api/services/{id}/tasks", tag = "swarm",
    params(("id" = String, Path, description = "service id, name or id prefix")),
    responses((status = 200, description = "the tasks", body = Vec<wire::TaskSummary>), (status = 404, description = "no such service")))]
pub async fn tasks(
    State(state): State<AppState>,
    user: CurrentUser,
    daemon: Daemon,
    PathArgs(id): PathArgs<String>,
) -> AppResult<Json<Vec<wire::TaskSummary>>> {
    let p = Policy::new(&user, &daemon, &state.db);
    let s = p.service_ref(&id, Role::Viewer).await?;
    let sid = s.id.clone().unwrap_or_default();
    let name = s.spec.and_then(|s| s.name).unwrap_or_default();
    let filters = HashMap::from([("service".to_owned(), vec![sid])]);
    let (all, nodes) = tokio::try_join!(
        swarm::call(&daemon, |d| async move {
            d.list_tasks(Some(ListTasksOptions {
                filters: Some(filters),
            }))
            .await
        }),
        swarm::call(&daemon, |d| async move {
            d.list_nodes(None::<bollard::query_parameters::ListNodesOptions>)
                .await
        }),
    )?;
    let hostnames: HashMap<String, String> = nodes
        .into_iter()
        .filter_map(|n| Some((n.id?, n.description?.hostname?)))
        .collect();
    let mut rows: Vec<wire::TaskSummary> = all
        .into_iter()
        .map(|t| crate::docker::swarm_stack::task_row(t, &name, &hostnames))
        .collect();
    rows.sort_by(|a, b| (a.slot, &b.updated).cmp(&(b.slot, &a.updated)));
    Ok(Json(rows))
}

/// Live logs of every task, merged: text frames, each a JSON array of
/// `{"stream","line","ts"?,"task","node"}` lines and `{"berth":...}` notices (skipped,
/// daemon_lost, end).
#[utoipa::path(get, path = "/api/services/{id}/logs/ws", tag = "swarm",
    params(("id" = String, Path, description = "service id, name or id prefix"),
           ("follow" = Option<bool>, Query, description = "keep streaming (default true)"),
           ("tail" = Option<String>, Query, description = "last N lines per task, or all"),
           ("since" = Option<i64>, Query, description = "unix seconds"),
           ("timestamps" = Option<bool>, Query, description = "add ts to each line"),
           ("stdout" = Option<bool>, Query), ("stderr" = Option<bool>, Query)),
    responses((status = 101, description = "websocket of JSON text frames"), (status = 404, description = "no such service")))]
pub async fn logs_ws(
    State(state): State<AppState>,
    user: CurrentUser,
    Daemon(ep): Daemon,
    PathArgs(id): PathArgs<String>,
    QueryArgs(args): QueryArgs<LogsArgs>,
    ws: WebSocketUpgrade,
) -> AppResult<Response> {
    let revoked = sockets::open(&state, &user)?;
    let s = Policy::new(&user, &ep, &state.db)
        .service_ref(&id, Role::Viewer)
        .await?;
    let q = args.query(true)?;
    let tty = s
        .spec
        .as_ref()
        .and_then(|s| s.task_template.as_ref())
        .and_then(|t| t.container_spec.as_ref())
        .and_then(|c| c.tty)
        .unwrap_or(false);
    let sid = s.id.unwrap_or_default();
    Ok(ws
        .read_buffer_size(READ_BUFFER)
        .on_upgrade(move |socket| async move {
            let (tx, rx) = mpsc::channel(CHANNEL);
            let pump = tokio::spawn(service_logs::pump(ep, sid, q, tty, tx));
            tokio::select! {
                _ = forward(socket, rx) => {}
                _ = revoked => {}
            }
            pump.abort();
        }))
}
