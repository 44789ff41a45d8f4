//! What a Docker API call may do, decided by berth: the call is matched to a kind berth
//! understands, every id or name in it resolved and checked as the UI's routes do, every
//! body that makes something handed to the one policy, and the request rewritten to what
//! the daemon will receive (full ids, decided bodies).

use std::collections::HashMap;

use axum::body::Body;
use axum::http::{HeaderMap, Method};
use bollard::models::{ContainerCreateBody, NetworkCreateRequest, VolumeCreateOptions};
use futures::TryStreamExt;
use http_body_util::BodyExt;
use serde_json::Value;
use wire::Role;

use super::filter::Filter;
use crate::auth::access::{self, TEAM_LABEL};
use crate::auth::policy;
use crate::auth::policy::resolve::{no_such_volume, Create, Policy};
use crate::auth::CurrentUser;
use crate::docker::{networks, tar_gate, Endpoint};
use crate::error::{AppError, AppResult};
use crate::stacks::labels::PROJECT;
use crate::state::AppState;

/// A create body is small: a container's config, a network's, a volume's.
const MAX_JSON: usize = 1 << 20;

/// One call of the Docker API, as the client sent it.
pub struct Call {
    pub method: Method,
    /// `v1.41`, or empty for an unversioned path.
    version: String,
    /// The path after the version, split and decoded.
    segs: Vec<String>,
    query: String,
}

impl Call {
    pub fn new(method: &Method, rest: &str, query: &str) -> Call {
        let mut parts: Vec<String> = rest
            .split('/')
            .filter(|s| !s.is_empty())
            .map(|s| {
                percent_encoding::percent_decode_str(s)
                    .decode_utf8_lossy()
                    .into_owned()
            })
            .collect();
        let version = match parts.first() {
            Some(v)
                if v.starts_with('v') && v[1..].split('.').all(|n| n.parse::<u32>().is_ok()) =>
            {
                parts.remove(0)
            }
            _ => String::new(),
        };
        Call {
            method: method.clone(),
            version,
            segs: parts,
            query: query.to_owned(),
        }
    }

    /// `POST /containers/x/start`, for the audit log and messages.
    pub fn describe(&self) -> String {
        format!("{} /{}", self.method, self.segs.join("/"))
    }

    /// The daemon's path for these segments (encoded), with `query`.
    fn path_of(&self, segs: &[&str], query: &str) -> String {
        let mut p = String::new();
        if !self.version.is_empty() {
            p.push('/');
            p.push_str(&self.version);
        }
        for s in segs {
            p.push('/');
            p.push_str(&percent_encoding::utf8_percent_encode(s, SEGMENT).to_string());
        }
        if !query.is_empty() {
            p.push('?');
            p.push_str(query);
        }
        p
    }

    fn path(&self) -> String {
        let segs: Vec<&str> = self.segs.iter().map(String::as_str).collect();
        self.path_of(&segs, &self.query)
    }

    fn params(&self) -> Vec<(String, String)> {
        serde_urlencoded::from_str(&self.query).unwrap_or_default()
    }

    fn param(&self, key: &str) -> Option<String> {
        self.params()
            .into_iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
    }

    fn params_named(&self, key: &str) -> Vec<String> {
        self.params()
            .into_iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v)
            .collect()
    }
}

/// What a path segment may carry unencoded (image names keep `:` and `@`).
const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b':')
    .remove(b'@')
    .remove(b'~');

/// What to record once the daemon has answered yes.
pub enum After {
    None,
    /// These tags are now the user's team's.
    Record(Vec<String>),
    /// A commit: these tags and the new image's id (from the answer's `Id`).
    RecordCommit(Vec<String>),
    /// An image removal: forget what the answer says was untagged.
    Untag,
}

/// A decided call: what to send the daemon, and what to do with its answer.
pub struct Plan {
    pub path: String,
    pub body: Body,
    pub filter: Filter,
    pub audit: Option<(&'static str, String)>,
    pub after: After,
}

fn refuse(message: String) -> AppError {
    AppError::Forbidden(message)
}

async fn read_json<T: serde::de::DeserializeOwned>(body: Body, what: &str) -> AppResult<T> {
    let bytes = http_body_util::Limited::new(body, MAX_JSON)
        .collect()
        .await
        .map_err(|e| AppError::bad_request("invalid_body", format!("{what}: {e}")))?
        .to_bytes();
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return serde_json::from_slice(b"{}")
            .map_err(|e| AppError::bad_request("invalid_json", format!("{what}: {e}")));
    }
    serde_json::from_slice(&bytes)
        .map_err(|e| AppError::bad_request("invalid_json", format!("{what}: {e}")))
}

fn json_body<T: serde::Serialize>(v: &T) -> AppResult<Body> {
    serde_json::to_vec(v)
        .map(Body::from)
        .map_err(|e| AppError::Internal(e.into()))
}

/// A name the CLI sends for a team's project (`com.docker.compose.project`), claimed for
/// the user's team; the Compose labels then stand as berth's own.
async fn compose_labels(
    state: &AppState,
    p: &Policy<'_>,
    labels: &HashMap<String, String>,
    team: &str,
) -> AppResult<HashMap<String, String>> {
    let compose: HashMap<String, String> = labels
        .iter()
        .filter(|(k, _)| k.starts_with("com.docker.compose."))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if let Some(project) = compose.get(PROJECT).filter(|p| !p.is_empty()) {
        p.claim_project(project, team).await?;
        // A stack berth keeps files for is its team's, running or not.
        if p.user.role != Role::Admin {
            if let Ok(name) = crate::stacks::check_name(project) {
                if let Some(f) = crate::stacks::files::read(&state.config.data_dir, name).await? {
                    if f.meta.team.as_deref() != Some(team) {
                        return Err(AppError::Conflict(format!(
                            "the Compose project {project} is another team's stack: choose another project name (docker-compose -p NAME)"
                        )));
                    }
                }
            }
        }
    }
    Ok(compose)
}

/// The team a non-admin's new resource goes to (their first, or the `berth.team` label they
/// set); an admin's: the label's, or none.
fn team_of(user: &CurrentUser, labels: &HashMap<String, String>) -> AppResult<String> {
    let mut l = labels.clone();
    policy::stamp_team(user, &mut l, None)?;
    Ok(l.get(TEAM_LABEL).cloned().unwrap_or_default())
}

pub async fn decide(
    state: &AppState,
    user: &CurrentUser,
    ep: &std::sync::Arc<Endpoint>,
    call: &Call,
    _headers: &HeaderMap,
    body: Body,
) -> AppResult<Plan> {
    let p = Policy::new(user, ep, &state.db);
    let admin = user.role == Role::Admin;
    let segs: Vec<&str> = call.segs.iter().map(String::as_str).collect();
    let m = call.method.as_str();
    let plan = |body: Body, filter: Filter, audit: Option<(&'static str, String)>| Plan {
        path: call.path(),
        body,
        filter,
        audit,
        after: After::None,
    };
    let changes = m != "GET" && m != "HEAD";
    match (m, segs.as_slice()) {
        ("GET" | "HEAD", ["_ping"]) | ("GET", ["version"]) | ("GET", ["info"]) => {
            Ok(plan(body, Filter::None, None))
        }
        ("GET", ["containers", "json"]) => Ok(plan(body, Filter::Containers, None)),
        ("POST", ["containers", "create"]) => {
            user.require(Role::Operator)?;
            let mut b: ContainerCreateBody = read_json(body, "the container's config").await?;
            let labels = b.labels.take().unwrap_or_default();
            let team = team_of(user, &labels)?;
            let berth_labels = compose_labels(state, &p, &labels, &team).await?;
            b.labels = Some(labels);
            let target = call
                .param("name")
                .unwrap_or_else(|| b.image.clone().unwrap_or_default());
            // A 404 on create makes the CLI pull the image: only a missing image may say so;
            // a missing (or another team's) network, volume or container is a 400.
            let decided = p
                .container(Create {
                    body: b,
                    team: Some(team).filter(|t| !t.is_empty()),
                    berth_labels,
                    connects: Vec::new(),
                })
                .await
                .map_err(|e| match e {
                    AppError::NotFound(m) => AppError::bad_request("not_found", m),
                    other => other,
                })?;
            Ok(plan(json_body(&decided.body)?, Filter::None, Some(("create", target))))
        }
        (_, ["containers", "prune"]) => {
            user.require(Role::Admin)?;
            Ok(plan(body, Filter::None, Some(("container_prune", String::new()))))
        }
        (_, ["containers", id, rest @ ..]) => {
            let action = rest.first().copied().unwrap_or("");
            let role = match (m, action) {
                ("GET" | "HEAD", _) | ("POST", "wait") => Role::Viewer,
                _ => Role::Operator,
            };
            let known = matches!(
                (m, action),
                ("GET", "json" | "logs" | "top" | "stats" | "changes" | "export" | "archive")
                    | ("HEAD", "archive")
                    | ("PUT", "archive")
                    | ("DELETE", "")
                    | (
                        "POST",
                        "start" | "stop" | "restart" | "kill" | "pause" | "unpause" | "wait"
                            | "resize" | "attach" | "exec" | "rename" | "update"
                    )
            );
            if !known && !admin {
                return Err(refuse(format!(
                    "berth does not pass {} through for non-admins",
                    call.describe()
                )));
            }
            let c = access::container(user, ep, id, role).await?;
            let mut new_segs = vec!["containers", c.id.as_str()];
            new_segs.extend(rest.iter().copied());
            let path = call.path_of(&new_segs, &call.query);
            let body = match (m, action) {
                ("POST", "exec") if !admin => {
                    let v: Value = read_json(body, "the exec's config").await?;
                    if v["Privileged"] == Value::Bool(true) {
                        return Err(refuse(
                            "only an admin may exec with privileged (docker exec --privileged)".into(),
                        ));
                    }
                    json_body(&v)?
                }
                ("POST", "update") if !admin => {
                    let v: Value = read_json(body, "the update").await?;
                    for key in ["Devices", "DeviceRequests", "DeviceCgroupRules"] {
                        if v[key].as_array().is_some_and(|a| !a.is_empty()) {
                            return Err(refuse(format!(
                                "only an admin may give a container host devices ({key})"
                            )));
                        }
                    }
                    if v["CgroupParent"].as_str().is_some_and(|s| !s.is_empty()) {
                        return Err(refuse("only an admin may set a cgroup parent".into()));
                    }
                    json_body(&v)?
                }
                _ => body,
            };
            let audit = changes
                .then(|| (container_action(m, action), c.id.clone()))
                .filter(|(a, _)| !a.is_empty());
            Ok(Plan {
                path,
                body,
                filter: Filter::None,
                audit,
                after: After::None,
            })
        }
        ("POST", ["commit"]) => {
            user.require(Role::Operator)?;
            let container = call.param("container").unwrap_or_default();
            let c = access::container(user, ep, &container, Role::Operator).await?;
            let tags: Vec<String> = call
                .param("repo")
                .filter(|r| !r.is_empty())
                .map(|r| format!("{r}:{}", call.param("tag").filter(|t| !t.is_empty()).unwrap_or_else(|| "latest".into())))
                .into_iter()
                .collect();
            p.image_write(&tags, false).await?;
            let mut params = call.params();
            for (k, v) in params.iter_mut() {
                if k == "container" {
                    *v = c.id.clone();
                }
            }
            let query = serde_urlencoded::to_string(&params).unwrap_or_default();
            Ok(Plan {
                path: call.path_of(&["commit"], &query),
                body,
                filter: Filter::Json,
                audit: Some(("commit", c.id)),
                after: After::RecordCommit(tags),
            })
        }
        (_, ["exec", id, action]) => {
            let id = (*id).to_owned();
            let info = ep
                .call(|d| async move { d.inspect_exec(&id).await })
                .await?;
            let role = if m == "GET" { Role::Viewer } else { Role::Operator };
            access::container(user, ep, info.container_id.as_deref().unwrap_or(""), role).await?;
            if !matches!((m, *action), ("POST", "start" | "resize") | ("GET", "json")) && !admin {
                return Err(refuse(format!("berth does not pass {} through", call.describe())));
            }
            Ok(plan(body, Filter::None, None))
        }
        ("GET", ["images", "json"]) => Ok(plan(body, Filter::Images, None)),
        ("POST", ["images", "create"]) => {
            user.require(Role::Operator)?;
            if call.param("fromSrc").is_some() && !admin {
                return Err(refuse("only an admin may import images (docker import)".into()));
            }
            let image = call.param("fromImage").unwrap_or_default();
            let tag = call.param("tag").filter(|t| !t.is_empty());
            let reference = match tag {
                Some(t) if t.starts_with("sha256:") => format!("{image}@{t}"),
                Some(t) => format!("{image}:{t}"),
                None => image.clone(),
            };
            let fresh = p.image_write(std::slice::from_ref(&reference), true).await?;
            Ok(Plan {
                after: After::Record(fresh),
                ..plan(body, Filter::None, Some(("image_pull", reference)))
            })
        }
        ("POST", ["images", "load"]) => {
            user.require(Role::Operator)?;
            let gated = gate_load(state, user, ep, body);
            Ok(plan(gated, Filter::None, Some(("image_load", "upload".into()))))
        }
        ("GET", ["images", "get"]) => {
            for n in call.params_named("names") {
                p.image_use(&n).await?;
            }
            Ok(plan(body, Filter::None, None))
        }
        ("GET", ["images", "search"]) => Ok(plan(body, Filter::None, None)),
        (_, ["images", "prune"]) | (_, ["build", "prune"]) => {
            user.require(Role::Admin)?;
            Ok(plan(body, Filter::None, Some(("image_prune", String::new()))))
        }
        ("POST", ["build"]) => {
            user.require(Role::Operator)?;
            if !admin {
                if call.param("networkmode").is_some_and(|n| n == "host") {
                    return Err(refuse(
                        "only an admin may build with the host's network (--network host)".into(),
                    ));
                }
                if call.param("cgroupparent").is_some_and(|c| !c.is_empty()) {
                    return Err(refuse("only an admin may build with a cgroup parent".into()));
                }
                if call.param("remote").is_some_and(|r| !r.is_empty()) {
                    return Err(refuse(
                        "berth builds only from a context it can read: send the context, not a remote URL".into(),
                    ));
                }
            }
            let tags = call.params_named("t");
            p.image_write(&tags, false).await?;
            let dockerfile = call
                .param("dockerfile")
                .filter(|d| !d.is_empty())
                .unwrap_or_else(|| "Dockerfile".into());
            let args: HashMap<String, String> = call
                .param("buildargs")
                .and_then(|a| serde_json::from_str::<HashMap<String, Option<String>>>(&a).ok())
                .map(|m| m.into_iter().filter_map(|(k, v)| v.map(|v| (k, v))).collect())
                .unwrap_or_default();
            let gated = gate_build(state, user, ep, body, dockerfile, args);
            Ok(Plan {
                after: After::Record(tags.clone()),
                ..plan(gated, Filter::None, Some(("image_build", tags.join(","))))
            })
        }
        (_, ["images", rest @ ..]) if !rest.is_empty() => image_call(call, &p, m, rest, body).await,
        ("GET", ["networks"]) => Ok(plan(body, Filter::Networks, None)),
        ("POST", ["networks", "create"]) => {
            let mut b: NetworkCreateRequest = read_json(body, "the network").await?;
            policy::check_network_create(user, b.driver.as_deref())?;
            let labels = b.labels.take().unwrap_or_default();
            let team = team_of(user, &labels)?;
            let compose = compose_labels(state, &p, &labels, &team).await?;
            let mut own = policy::own_labels(user, labels, None)?;
            own.extend(compose);
            b.labels = Some(own);
            networks::check_name_free(ep, &b.name).await?;
            let name = b.name.clone();
            Ok(plan(json_body(&b)?, Filter::None, Some(("network_create", name))))
        }
        (_, ["networks", "prune"]) => {
            user.require(Role::Admin)?;
            Ok(plan(body, Filter::None, Some(("network_prune", String::new()))))
        }
        (_, ["networks", id, rest @ ..]) => {
            let net = p.network(id).await?;
            let net_id = net.id.clone().unwrap_or_default();
            let builtin = net
                .name
                .as_deref()
                .is_some_and(|n| matches!(n, "bridge" | "host" | "none"));
            match (m, rest) {
                ("GET", []) => Ok(Plan {
                    path: call.path_of(&["networks", &net_id], &call.query),
                    ..plan(body, Filter::NetworkMembers, None)
                }),
                ("DELETE", []) => {
                    user.require(Role::Operator)?;
                    if builtin {
                        return Err(refuse("the daemon's own networks cannot be removed".into()));
                    }
                    Ok(Plan {
                        path: call.path_of(&["networks", &net_id], &call.query),
                        ..plan(body, Filter::None, Some(("network_remove", net_id.clone())))
                    })
                }
                ("POST", [action @ ("connect" | "disconnect")]) => {
                    user.require(Role::Operator)?;
                    let mut v: Value = read_json(body, "the connection").await?;
                    let container = v["Container"].as_str().unwrap_or_default().to_owned();
                    let c = access::container(user, ep, &container, Role::Operator).await?;
                    v["Container"] = Value::String(c.id.clone());
                    let audit = if *action == "connect" {
                        "network_connect"
                    } else {
                        "network_disconnect"
                    };
                    Ok(Plan {
                        path: call.path_of(&["networks", &net_id, action], &call.query),
                        ..plan(json_body(&v)?, Filter::None, Some((audit, format!("{net_id} {}", c.id))))
                    })
                }
                _ => Err(refuse(format!("berth does not pass {} through", call.describe()))),
            }
        }
        ("GET", ["volumes"]) => Ok(plan(body, Filter::Volumes, None)),
        ("POST", ["volumes", "create"]) => {
            let mut b: VolumeCreateOptions = read_json(body, "the volume").await?;
            let opts = b.driver_opts.clone().unwrap_or_default();
            policy::check_volume_create(user, b.driver.as_deref(), &opts)?;
            let labels = b.labels.take().unwrap_or_default();
            let team = team_of(user, &labels)?;
            let compose = compose_labels(state, &p, &labels, &team).await?;
            let mut own = policy::own_labels(user, labels, None)?;
            own.extend(compose);
            b.labels = Some(own);
            let name = b.name.clone().unwrap_or_default();
            Ok(plan(json_body(&b)?, Filter::None, Some(("volume_create", name))))
        }
        (_, ["volumes", "prune"]) => {
            user.require(Role::Admin)?;
            Ok(plan(body, Filter::None, Some(("volume_prune", String::new()))))
        }
        (_, ["volumes", name]) => {
            let role = if changes { Role::Operator } else { Role::Viewer };
            user.require(role)?;
            let n = (*name).to_owned();
            let v = ep.call(|d| async move { d.inspect_volume(&n).await }).await?;
            let labels = v.labels.into_iter().collect();
            if !user.can_see_map(&labels) {
                return Err(no_such_volume(name));
            }
            let audit = (m == "DELETE").then(|| ("volume_remove", (*name).to_owned()));
            Ok(plan(body, Filter::None, audit))
        }
        ("GET", ["system", "df"]) => Ok(plan(body, Filter::Df, None)),
        ("GET", ["events"]) => Ok(plan(body, Filter::Events, None)),
        ("POST", ["auth"]) => {
            user.require(Role::Operator)?;
            Ok(plan(body, Filter::None, None))
        }
        (_, ["session"]) if !admin => Err(refuse(
            "berth does not pass BuildKit sessions through: build with DOCKER_BUILDKIT=0 (the classic builder)".into(),
        )),
        _ if !admin && matches!(segs.first(), Some(&("services" | "tasks" | "secrets" | "configs"))) => {
            swarm_call(call, &p, m, &segs, body).await
        }
        // `docker service ps` and `docker node ls` read the nodes; changing them (and the
        // swarm itself, whose answer carries the join tokens) is the admin's.
        ("GET", ["nodes", ..]) if !admin => {
            user.require(Role::Viewer)?;
            Ok(plan(body, Filter::None, None))
        }
        (_, [kind, ..])
            if !admin
                && matches!(
                    *kind,
                    "plugins" | "swarm" | "nodes" | "distribution"
                ) =>
        {
            Err(refuse(format!(
                "berth passes {kind} calls through for admins only; {} is {}",
                user.username,
                user.role.as_str()
            )))
        }
        _ if admin => Ok(plan(
            body,
            Filter::None,
            changes.then(|| ("docker_api", call.describe())),
        )),
        _ => Err(refuse(format!(
            "berth does not pass {} through for {}s: it needs the admin role",
            call.describe(),
            user.role.as_str()
        ))),
    }
}

/// Services, tasks, secrets and configs for a non-admin: every id resolved and checked
/// as `/api/services` does, every create and update body decided by the one policy.
async fn swarm_call(
    call: &Call,
    p: &Policy<'_>,
    m: &str,
    segs: &[&str],
    body: Body,
) -> AppResult<Plan> {
    let user = p.user;
    let plan =
        |path: String, body: Body, filter: Filter, audit: Option<(&'static str, String)>| Plan {
            path,
            body,
            filter,
            audit,
            after: After::None,
        };
    let same = call.path();
    match (m, segs) {
        ("GET", ["services"]) | ("GET", ["secrets"]) | ("GET", ["configs"]) => {
            user.require(Role::Viewer)?;
            Ok(plan(same, body, Filter::SwarmObjects, None))
        }
        ("GET", ["tasks"]) => {
            user.require(Role::Viewer)?;
            Ok(plan(same, body, Filter::Tasks, None))
        }
        ("GET", ["tasks", id]) => {
            user.require(Role::Viewer)?;
            let tid = (*id).to_owned();
            let t = crate::docker::swarm::call(p.ep, |d| async move { d.inspect_task(&tid).await })
                .await?;
            let labels: std::collections::BTreeMap<String, String> = t
                .spec
                .and_then(|s| s.container_spec)
                .and_then(|c| c.labels)
                .unwrap_or_default()
                .into_iter()
                .collect();
            if !user.can_see_map(&labels) {
                return Err(AppError::NotFound(format!("task {id} not found")));
            }
            Ok(plan(same, body, Filter::None, None))
        }
        ("POST", ["services", "create"]) => {
            user.require(Role::Operator)?;
            let spec: bollard::models::ServiceSpec = read_json(body, "the service's spec").await?;
            let team = team_of(user, &spec.labels.clone().unwrap_or_default())?;
            let name = spec.name.clone().unwrap_or_default();
            let decided = p
                .service(spec, Some(team.as_str()).filter(|t| !t.is_empty()))
                .await?;
            Ok(plan(
                same,
                json_body(&decided.spec)?,
                Filter::None,
                Some(("service_create", name)),
            ))
        }
        (_, ["services", id, rest @ ..]) => {
            let action = rest.first().copied().unwrap_or("");
            let role = if m == "GET" {
                Role::Viewer
            } else {
                Role::Operator
            };
            if !matches!(
                (m, action),
                ("GET", "" | "logs") | ("DELETE", "") | ("POST", "update")
            ) {
                return Err(refuse(format!(
                    "berth does not pass {} through",
                    call.describe()
                )));
            }
            let s = p.service_ref(id, role).await?;
            let sid = s.id.clone().unwrap_or_default();
            let mut new_segs = vec!["services", sid.as_str()];
            new_segs.extend(rest.iter().copied());
            let path = call.path_of(&new_segs, &call.query);
            match (m, action) {
                ("POST", "update") => {
                    let spec: bollard::models::ServiceSpec =
                        read_json(body, "the service's spec").await?;
                    let body = if call.param("rollback").is_some_and(|r| r == "previous") {
                        p.service_rollback(&s).await?;
                        json_body(&spec)?
                    } else {
                        json_body(&p.service_update(&s, spec).await?)?
                    };
                    Ok(plan(
                        path,
                        body,
                        Filter::None,
                        Some(("service_update", sid)),
                    ))
                }
                ("DELETE", _) => Ok(plan(
                    path,
                    body,
                    Filter::None,
                    Some(("service_remove", sid)),
                )),
                _ => Ok(plan(path, body, Filter::None, None)),
            }
        }
        ("POST", [kind @ ("secrets" | "configs"), "create"]) => {
            user.require(Role::Operator)?;
            let mut v: Value = read_json(body, "the spec").await?;
            let labels: HashMap<String, String> =
                serde_json::from_value(v["Labels"].take()).unwrap_or_default();
            if v.get("Driver").is_some_and(|d| !d.is_null()) {
                return Err(refuse("only an admin may use a secret driver".into()));
            }
            v["Labels"] = serde_json::to_value(policy::own_labels(user, labels, None)?)
                .map_err(|e| AppError::Internal(e.into()))?;
            let name = v["Name"].as_str().unwrap_or_default().to_owned();
            let audit = if *kind == "secrets" {
                "secret_create"
            } else {
                "config_create"
            };
            Ok(plan(
                same,
                json_body(&v)?,
                Filter::None,
                Some((audit, name)),
            ))
        }
        (_, [kind @ ("secrets" | "configs"), id]) if m == "GET" || m == "DELETE" => {
            let role = if m == "GET" {
                Role::Viewer
            } else {
                Role::Operator
            };
            user.require(role)?;
            let found = if *kind == "secrets" {
                p.secret(id).await?.id
            } else {
                p.config(id).await?.id
            };
            let fid = found.unwrap_or_default();
            let path = call.path_of(&[kind, fid.as_str()], &call.query);
            let audit = (m == "DELETE").then(|| {
                (
                    if *kind == "secrets" {
                        "secret_remove"
                    } else {
                        "config_remove"
                    },
                    fid.clone(),
                )
            });
            let filter = if m == "GET" {
                Filter::SwarmObjects
            } else {
                Filter::None
            };
            Ok(plan(path, body, filter, audit))
        }
        _ => Err(refuse(format!(
            "berth does not pass {} through for {}s: it needs the admin role",
            call.describe(),
            user.role.as_str()
        ))),
    }
}

/// The audit action of a container call, as the UI names them.
fn container_action(method: &str, action: &str) -> &'static str {
    match (method, action) {
        ("DELETE", "") => "remove",
        ("POST", "start") => "start",
        ("POST", "stop") => "stop",
        ("POST", "restart") => "restart",
        ("POST", "kill") => "kill",
        ("POST", "pause") => "pause",
        ("POST", "unpause") => "unpause",
        ("POST", "attach") => "attach",
        ("POST", "exec") => "exec",
        ("POST", "rename") => "rename",
        ("POST", "update") => "update",
        ("PUT", "archive") => "upload",
        _ => "",
    }
}

/// `/images/{name}/{json|history|push|tag|get}` and `DELETE /images/{name}`: names may
/// have slashes (`127.0.0.1:5000/team/app:1`).
async fn image_call(
    call: &Call,
    p: &Policy<'_>,
    m: &str,
    rest: &[&str],
    body: Body,
) -> AppResult<Plan> {
    let (name, action) = match (m, rest) {
        ("DELETE", all) => (all.join("/"), ""),
        (_, [.., last]) => (rest[..rest.len() - 1].join("/"), *last),
        _ => (String::new(), ""),
    };
    let plan = |filter, audit, after| Plan {
        path: call.path(),
        body,
        filter,
        audit,
        after,
    };
    match (m, action) {
        ("GET", "json" | "history" | "get") => {
            p.image_use(&name).await?;
            Ok(plan(Filter::None, None, After::None))
        }
        ("POST", "push") => {
            p.user.require(Role::Operator)?;
            let reference = match call.param("tag").filter(|t| !t.is_empty()) {
                Some(t) => format!("{name}:{t}"),
                None => name.clone(),
            };
            p.image_use(&reference).await?;
            Ok(plan(
                Filter::None,
                Some(("image_push", reference)),
                After::None,
            ))
        }
        ("POST", "tag") => {
            p.user.require(Role::Operator)?;
            p.image_use(&name).await?;
            let repo = call.param("repo").unwrap_or_default();
            let tag = call
                .param("tag")
                .filter(|t| !t.is_empty())
                .unwrap_or_else(|| "latest".into());
            let new_tag = format!("{repo}:{tag}");
            p.image_write(std::slice::from_ref(&new_tag), false).await?;
            Ok(plan(
                Filter::None,
                Some(("image_tag", format!("{name} as {new_tag}"))),
                After::Record(vec![new_tag]),
            ))
        }
        ("DELETE", "") => {
            p.image_remove(&name).await?;
            Ok(plan(
                Filter::Json,
                Some(("image_remove", name.clone())),
                After::Untag,
            ))
        }
        _ if p.user.role == Role::Admin => Ok(plan(
            Filter::None,
            Some(("docker_api", call.describe())),
            After::None,
        )),
        _ => Err(refuse(format!(
            "berth does not pass {} through",
            call.describe()
        ))),
    }
}

/// After the daemon said yes: record or forget image ownership.
pub async fn after(
    state: &AppState,
    user: &CurrentUser,
    ep: &Endpoint,
    after: &After,
    answer: Option<&[u8]>,
) -> AppResult<()> {
    let p = Policy::new(user, ep, &state.db);
    match after {
        After::None => Ok(()),
        After::Record(tags) => p.image_written(tags, None).await,
        After::RecordCommit(tags) => {
            let id = answer
                .and_then(|a| serde_json::from_slice::<Value>(a).ok())
                .and_then(|v| v["Id"].as_str().map(str::to_owned));
            p.image_written(tags, id.as_deref()).await
        }
        After::Untag => {
            let untagged: Vec<String> = answer
                .and_then(|a| serde_json::from_slice::<Vec<Value>>(a).ok())
                .unwrap_or_default()
                .iter()
                .filter_map(|v| v["Untagged"].as_str().map(str::to_owned))
                .collect();
            p.image_untagged(&untagged).await
        }
    }
}

/// A `docker load` archive, its tags judged from its manifest before the daemon has it all.
fn gate_load(
    state: &AppState,
    user: &CurrentUser,
    ep: &std::sync::Arc<Endpoint>,
    body: Body,
) -> Body {
    let (state, user, ep) = (state.clone(), user.clone(), ep.clone());
    let judge = move |captured: tar_gate::Captured| -> tar_gate::Verdict {
        Box::pin(async move {
            let p = Policy::new(&user, &ep, &state.db);
            let tags = crate::routes::images::archive_tags(&captured);
            let res = async {
                p.image_write(&tags, false).await?;
                p.image_written(&tags, None).await
            }
            .await;
            res.map_err(|e| e.to_string())
        })
    };
    let input = TryStreamExt::map_err(body.into_data_stream(), std::io::Error::other);
    Body::from_stream(tar_gate::gate(
        Box::pin(input),
        vec!["manifest.json".into(), "repositories".into()],
        judge,
    ))
}

/// A build context, its Dockerfile's bases judged before the daemon has it all.
fn gate_build(
    state: &AppState,
    user: &CurrentUser,
    ep: &std::sync::Arc<Endpoint>,
    body: Body,
    dockerfile: String,
    args: HashMap<String, String>,
) -> Body {
    let (state, user, ep) = (state.clone(), user.clone(), ep.clone());
    let df = dockerfile.clone();
    let judge = move |captured: tar_gate::Captured| -> tar_gate::Verdict {
        Box::pin(async move {
            if user.role == Role::Admin {
                return Ok(());
            }
            if captured.contains_key(&format!("!{df}")) {
                return Err(format!(
                    "{df} must be a plain file of at most 1 MiB in the context"
                ));
            }
            let p = Policy::new(&user, &ep, &state.db);
            match captured.get(&df) {
                Some(text) => p
                    .build_from(&String::from_utf8_lossy(text), &args)
                    .await
                    .map_err(|e| e.to_string()),
                None => Ok(()),
            }
        })
    };
    let input = TryStreamExt::map_err(body.into_data_stream(), std::io::Error::other);
    Body::from_stream(tar_gate::gate(Box::pin(input), vec![dockerfile], judge))
}
