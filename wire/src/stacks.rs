//! Compose stacks: `/api/stacks`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{ErrorDetail, PortMapping};

/// A row of `GET /api/stacks`: a stack berth keeps files for, or a Compose project the
/// daemon has containers of (started by the compose CLI, say).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StackSummary {
    pub name: String,
    /// Service names: from the file for managed stacks, from container labels otherwise.
    pub services: Vec<String>,
    /// `running` (every container runs), `partial`, `stopped` (containers, none running)
    /// or `down` (no containers).
    pub status: String,
    /// berth keeps this stack's compose file (and can edit and deploy it).
    pub managed: bool,
    pub containers: usize,
    pub running: usize,
    pub team: Option<String>,
    /// `compose` (containers on one daemon) or `swarm` (services on a swarm, as
    /// `docker stack deploy` makes them).
    #[serde(default = "compose_mode")]
    pub mode: String,
    /// A swarm stack: its services with their running and desired tasks.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub swarm_services: Vec<SwarmStackService>,
}

fn compose_mode() -> String {
    "compose".into()
}

/// One service of a swarm stack, as `docker stack services` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SwarmStackService {
    /// The service's key in the compose file (`web`).
    pub service: String,
    /// The swarm service's name (`STACK_web`) and id, for `/api/services/{id}`.
    pub name: String,
    pub id: String,
    pub image: String,
    /// `replicated` or `global`.
    pub mode: String,
    /// Tasks running and tasks wanted.
    pub running: u64,
    pub desired: u64,
    /// The swarm's version of the service: it moves on each update.
    pub version: u64,
}

/// `GET /api/stacks/{name}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StackDetail {
    pub name: String,
    pub managed: bool,
    pub status: String,
    /// The compose file's text (managed stacks).
    pub compose: Option<String>,
    /// The `.env` file's text (managed stacks).
    pub env: Option<String>,
    /// Where relative paths (build contexts, binds) resolve.
    pub working_dir: Option<String>,
    pub team: Option<String>,
    pub services: Vec<ServiceState>,
    /// A Git-backed stack: its source and how its polls went.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub git: Option<crate::GitState>,
    /// `compose` or `swarm`.
    #[serde(default = "compose_mode")]
    pub mode: String,
    /// A swarm stack: its services with their running and desired tasks.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub swarm_services: Vec<SwarmStackService>,
}

/// One service of a stack and its containers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ServiceState {
    pub service: String,
    /// The image the file names (or the one berth builds for it).
    pub image: Option<String>,
    /// `running`, `partial`, `stopped` or `down`, as for stacks.
    pub status: String,
    pub containers: Vec<StackContainer>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StackContainer {
    pub id: String,
    pub name: String,
    pub state: String,
    pub status: String,
    pub image: String,
    pub ports: Vec<PortMapping>,
    /// Network name → IPv4 address.
    pub networks: BTreeMap<String, String>,
}

/// `POST /api/stacks`: from the editor (`compose`, optional `env`), or, for an admin, from
/// a folder on the server (`from_dir`, whose compose file and `.env` are copied; relative
/// paths keep resolving in that folder).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateStack {
    pub name: String,
    #[serde(default)]
    pub compose: Option<String>,
    #[serde(default)]
    pub env: Option<String>,
    #[serde(default)]
    pub from_dir: Option<String>,
    /// The team owning the stack (a non-admin: one of theirs; default their first).
    #[serde(default)]
    pub team: Option<String>,
    /// Bring it up right away (default true).
    #[serde(default)]
    pub up: Option<bool>,
    /// Take the compose file from a Git repository (and follow it).
    #[serde(default)]
    pub git: Option<crate::GitSource>,
    /// `compose` (default) or `swarm`: deploy the file to the environment's swarm as
    /// `docker stack deploy` does (its daemon must be a manager).
    #[serde(default)]
    pub mode: Option<String>,
}

/// `PUT /api/stacks/{name}`: new file contents (validated before anything is written).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SaveStack {
    pub compose: String,
    #[serde(default)]
    pub env: Option<String>,
}

/// `POST /api/stacks/validate`: check a compose text without saving it.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ValidateCompose {
    pub compose: String,
    #[serde(default)]
    pub env: Option<String>,
    /// The stack being edited, if it exists: its folder is where `env_file` and build
    /// contexts are looked up.
    #[serde(default)]
    pub name: Option<String>,
    /// The profiles to check with (as `COMPOSE_PROFILES`); default: the `.env`'s.
    #[serde(default)]
    pub profiles: Option<Vec<String>>,
}

/// What is wrong with a compose file, where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ComposeProblem {
    /// 1-based, when known.
    pub line: Option<u32>,
    pub column: Option<u32>,
    /// Where in the file, e.g. `services.web.healthcheck`.
    pub path: String,
    /// `syntax`, `invalid`, or `ignored` (a warning: accepted, not applied).
    pub kind: String,
    pub message: String,
}

/// The answer to `POST /api/stacks/validate`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ComposeCheck {
    pub ok: bool,
    pub problems: Vec<ComposeProblem>,
    /// The services the chosen profiles start, in start order.
    pub services: Vec<String>,
    /// What the file asks for that berth accepts but does not apply (kind `ignored`).
    #[serde(default)]
    pub warnings: Vec<ComposeProblem>,
    /// Every profile the file's services name.
    #[serde(default)]
    pub profiles: Vec<String>,
}

/// One line of the ndjson progress of create, up and pull.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StackProgress {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    /// `network`, `volume`, `build`, `pull`, `create`, `recreate`, `start`, `keep`,
    /// `remove`, `done`, or `error`.
    pub step: String,
    pub message: String,
    /// The daemon's progress text for pulls and builds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub progress: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorDetail>,
}

/// The answer to `POST /api/stacks/{name}/down` and `DELETE /api/stacks/{name}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StackDown {
    pub containers: Vec<String>,
    pub networks: Vec<String>,
    pub volumes: Vec<String>,
    /// A swarm stack: the services, secrets and configs removed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub services: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub secrets: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub configs: Vec<String>,
}

/// One line of `GET /api/stacks/{name}/logs/ws` (frames carry a JSON array of these).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StackLogLine {
    pub service: String,
    pub container: String,
    /// `stdout`, `stderr`, or `berth` for berth's own notices (a container came or went,
    /// lines were skipped for a slow reader).
    pub stream: String,
    pub line: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ts: Option<String>,
}
