//! Swarm: the cluster, nodes, services, tasks, secrets and configs (`/api/swarm`,
//! `/api/nodes`, `/api/services`, `/api/secrets`, `/api/configs`), on an environment whose
//! daemon is a manager.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// `GET /api/swarm`: the cluster as its manager sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SwarmSummary {
    pub id: String,
    pub created: Option<String>,
    pub nodes: u32,
    pub managers: u32,
    /// The leader's host name.
    pub leader: Option<String>,
    /// Sum of the nodes' CPUs (cores) and memory (bytes).
    pub cpus: f64,
    pub memory_bytes: i64,
    /// Admins only: `docker swarm join --token …` for each role.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub join_tokens: Option<JoinTokens>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct JoinTokens {
    pub worker: String,
    pub manager: String,
}

/// `POST /api/swarm/rotate` (admin): `docker swarm join-token --rotate` for either role or
/// both; the answer is the new [`JoinTokens`]. A node that already joined stays; only the
/// old token stops working for new joins.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SwarmRotate {
    #[serde(default)]
    pub worker: bool,
    #[serde(default)]
    pub manager: bool,
}

/// `POST /api/swarm/init` (admin): `docker swarm init`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SwarmInit {
    /// `--advertise-addr` (an address or interface); the daemon picks one if it can.
    #[serde(default)]
    pub advertise_addr: Option<String>,
    /// `--listen-addr`, default `0.0.0.0:2377`.
    #[serde(default)]
    pub listen_addr: Option<String>,
}

/// A row of `GET /api/nodes`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NodeSummary {
    pub id: String,
    pub hostname: String,
    /// `manager` or `worker`.
    pub role: String,
    /// `active`, `pause` or `drain`.
    pub availability: String,
    /// `ready`, `down`, `unknown`, `disconnected`.
    pub state: String,
    pub addr: Option<String>,
    pub engine_version: Option<String>,
    pub leader: bool,
    /// A manager's reachability (`reachable`, `unreachable`).
    pub reachability: Option<String>,
    pub cpus: f64,
    pub memory_bytes: i64,
    pub labels: BTreeMap<String, String>,
}

/// `PATCH /api/nodes/{id}` (admin): what to change; the rest stays.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NodeUpdate {
    /// `active`, `pause` or `drain`.
    #[serde(default)]
    pub availability: Option<String>,
    /// `manager` or `worker` (promote, demote).
    #[serde(default)]
    pub role: Option<String>,
    /// The node's labels, replaced as a whole.
    #[serde(default)]
    pub labels: Option<BTreeMap<String, String>>,
}

/// A port a service publishes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ServicePort {
    /// The port inside the task's container.
    pub target: u16,
    /// The port on the nodes; the swarm picks one (30000+) when absent.
    #[serde(default)]
    pub published: Option<u16>,
    /// `tcp` (default), `udp` or `sctp`.
    #[serde(default)]
    pub protocol: Option<String>,
    /// `ingress` (default: every node answers, the routing mesh) or `host` (only the
    /// nodes running a task).
    #[serde(default)]
    pub mode: Option<String>,
}

/// A mount of a service's tasks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ServiceMount {
    /// `volume` (default), `bind` (admins) or `tmpfs`.
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    /// The volume's name or the host path; none for tmpfs (or an anonymous volume).
    #[serde(default)]
    pub source: Option<String>,
    pub target: String,
    #[serde(default)]
    pub read_only: bool,
}

/// A secret or config a service's tasks get as a file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ServiceFile {
    /// The secret's or config's name (or id).
    pub name: String,
    /// Where: a file name under `/run/secrets/` for a secret (default: its name), an
    /// absolute path for a config (default `/NAME`).
    #[serde(default)]
    pub target: Option<String>,
}

/// `POST /api/services`: `docker service create` as a form.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateService {
    pub name: String,
    pub image: String,
    /// `replicated` (default) or `global`.
    #[serde(default)]
    pub mode: Option<String>,
    /// Replicated mode: how many tasks (default 1).
    #[serde(default)]
    pub replicas: Option<u64>,
    /// Replaces the image's entrypoint (`docker service create --entrypoint`).
    #[serde(default)]
    pub entrypoint: Option<Vec<String>>,
    /// The command's arguments (`docker service create IMAGE ARGS…`).
    #[serde(default)]
    pub cmd: Option<Vec<String>>,
    /// `KEY=VALUE`.
    #[serde(default)]
    pub env: Vec<String>,
    #[serde(default)]
    pub workdir: Option<String>,
    #[serde(default)]
    pub user: Option<String>,
    #[serde(default)]
    pub hostname: Option<String>,
    #[serde(default)]
    pub ports: Vec<ServicePort>,
    #[serde(default)]
    pub mounts: Vec<ServiceMount>,
    /// Networks (overlay) the tasks join, by name or id.
    #[serde(default)]
    pub networks: Vec<String>,
    /// Placement constraints, `node.role==worker`, `node.labels.zone==a`.
    #[serde(default)]
    pub constraints: Vec<String>,
    /// Spread over the values of these node labels (`node.labels.zone`).
    #[serde(default)]
    pub spread: Vec<String>,
    #[serde(default)]
    pub secrets: Vec<ServiceFile>,
    #[serde(default)]
    pub configs: Vec<ServiceFile>,
    /// Limits: CPUs (`0.5`) and memory in bytes.
    #[serde(default)]
    pub cpus: Option<f64>,
    #[serde(default)]
    pub memory_bytes: Option<i64>,
    /// `any` (default), `on-failure` or `none`.
    #[serde(default)]
    pub restart: Option<String>,
    /// Rolling updates: tasks at once (default 1), seconds between batches, what a
    /// failed update does (`pause`, `continue`, `rollback`), `stop-first` or `start-first`.
    #[serde(default)]
    pub update_parallelism: Option<u64>,
    #[serde(default)]
    pub update_delay_seconds: Option<u64>,
    #[serde(default)]
    pub update_failure_action: Option<String>,
    #[serde(default)]
    pub update_order: Option<String>,
    /// Added capabilities (admins).
    #[serde(default)]
    pub cap_add: Vec<String>,
    /// Swarm services cannot be privileged: refused, naming what to use instead.
    #[serde(default)]
    pub privileged: bool,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// The owning team (a non-admin's default: their first).
    #[serde(default)]
    pub team: Option<String>,
}

/// `POST /api/services/{id}/update`: what changes (a rolling update); the rest stays.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UpdateService {
    #[serde(default)]
    pub image: Option<String>,
    /// Replaces the whole environment.
    #[serde(default)]
    pub env: Option<Vec<String>>,
    #[serde(default)]
    pub cmd: Option<Vec<String>>,
    #[serde(default)]
    pub replicas: Option<u64>,
    /// Replaces the mounts (judged as at create).
    #[serde(default)]
    pub mounts: Option<Vec<ServiceMount>>,
    /// Replaces the secrets.
    #[serde(default)]
    pub secrets: Option<Vec<ServiceFile>>,
    /// Replaces the configs.
    #[serde(default)]
    pub configs: Option<Vec<ServiceFile>>,
    /// Replaces the networks.
    #[serde(default)]
    pub networks: Option<Vec<String>>,
    /// Restart every task even if nothing else changed (`--force`).
    #[serde(default)]
    pub force: bool,
}

/// `POST /api/services/{id}/scale`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ScaleService {
    pub replicas: u64,
}

/// A row of `GET /api/services`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ServiceSummary {
    pub id: String,
    pub name: String,
    pub image: String,
    /// `replicated`, `global`, `replicated-job` or `global-job`.
    pub mode: String,
    /// Replicated mode: the replicas asked for.
    pub replicas: Option<u64>,
    /// Tasks running and tasks wanted, as `docker service ls` counts them.
    pub running: u64,
    pub desired: u64,
    pub ports: Vec<ServicePort>,
    /// The rolling update's state (`updating`, `completed`, `paused`, `rollback_started`,
    /// `rollback_completed`…) and its message.
    pub update_state: Option<String>,
    pub update_message: Option<String>,
    pub team: Option<String>,
    pub created: Option<String>,
    pub updated: Option<String>,
    pub labels: BTreeMap<String, String>,
}

/// A row of `GET /api/services/{id}/tasks`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TaskSummary {
    pub id: String,
    /// `SERVICE.SLOT` (replicated) or `SERVICE.NODE` (global), as `docker service ps`.
    pub name: String,
    pub slot: Option<i64>,
    pub node_id: Option<String>,
    pub node: Option<String>,
    pub image: String,
    /// `new`, `pending`, `assigned`, `preparing`, `starting`, `running`, `complete`,
    /// `failed`, `shutdown`, `rejected`, `orphaned`, `remove`.
    pub state: String,
    pub desired_state: String,
    pub message: Option<String>,
    pub error: Option<String>,
    pub container_id: Option<String>,
    pub created: Option<String>,
    pub updated: Option<String>,
    /// The task's service (its name, `STACK_web` in a stack).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
}

/// `POST /api/secrets` and `POST /api/configs`: the value is sent once, never returned.
#[derive(Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateSwarmFile {
    pub name: String,
    /// The value, as text.
    pub data: String,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// The owning team (a non-admin's default: their first).
    #[serde(default)]
    pub team: Option<String>,
}

impl std::fmt::Debug for CreateSwarmFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreateSwarmFile")
            .field("name", &self.name)
            .field("data", &"<hidden>")
            .field("labels", &self.labels)
            .field("team", &self.team)
            .finish()
    }
}

/// A row of `GET /api/secrets` or `GET /api/configs`: metadata only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SwarmFileSummary {
    pub id: String,
    pub name: String,
    pub team: Option<String>,
    pub created: Option<String>,
    pub updated: Option<String>,
    pub labels: BTreeMap<String, String>,
}
