//! Environments: the daemons berth manages (issue 14). Secrets (TLS key, SSH key) go in
//! and never come back: a row says only whether one is stored.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A host's state, as its health loop last saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum EnvStatus {
    /// Not checked yet (berth just started, or the host was just added).
    Unknown,
    Up,
    Down,
    /// An admin stopped using it without deleting it.
    Paused,
}

/// A row of `GET /api/environments`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EnvironmentInfo {
    pub name: String,
    /// `unix:///…`, `tcp://host:port` or `ssh://user@host[:port]`.
    pub url: String,
    pub status: EnvStatus,
    /// Why it is down: the last error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Unix seconds: since when it is in this status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub engine_version: Option<String>,
    /// The API version berth negotiated with it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,
    pub swarm: bool,
    /// Teams that may use it; empty: everyone.
    pub teams: Vec<String>,
    /// The most a member of a team may do here (`viewer` or `operator`), whatever their
    /// own role; `"*"` for everyone whose teams are not listed. Admins are not limited.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub roles: std::collections::BTreeMap<String, crate::Role>,
    /// Mutual TLS: whether a CA, client certificate and key are stored.
    pub tls: bool,
    /// The daemon's certificate is not checked: unsafe.
    pub skip_verify: bool,
    pub has_ssh_key: bool,
    pub paused: bool,
    /// From `--docker-host` (or `DOCKER_HOST`): it cannot be removed or renamed.
    pub builtin: bool,
    /// Counts from the last check.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub containers: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub running: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub images: Option<i64>,
}

/// PEM text of a mutual-TLS client: the CA that signed the daemon's certificate, the
/// client certificate and its key.
#[derive(Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct TlsInput {
    pub ca: String,
    pub cert: String,
    pub key: String,
}

impl fmt::Debug for TlsInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsInput")
            .field("ca", &self.ca.len())
            .field("cert", &self.cert.len())
            .field("key", &"<hidden>")
            .finish()
    }
}

/// `POST /api/environments`; as `PATCH /api/environments/{name}` every field is optional
/// (`tls: null` removes the stored TLS material, a missing one keeps it).
#[derive(Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct EnvironmentInput {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<TlsInput>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skip_verify: Option<bool>,
    /// A private key in OpenSSH format, for `ssh://`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ssh_key: Option<String>,
    /// The `known_hosts` line(s) of the host; without them the host key is refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ssh_known_hosts: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub teams: Option<Vec<String>>,
    /// Replaces the role limits: `{"team": "viewer"|"operator", "*": …}` (see
    /// [`EnvironmentInfo::roles`]); `{}` removes them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roles: Option<std::collections::BTreeMap<String, crate::Role>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paused: Option<bool>,
}

impl fmt::Debug for EnvironmentInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EnvironmentInput")
            .field("name", &self.name)
            .field("url", &self.url)
            .field("tls", &self.tls)
            .field("skip_verify", &self.skip_verify)
            .field("ssh_key", &self.ssh_key.as_ref().map(|_| "<hidden>"))
            .field("teams", &self.teams)
            .field("roles", &self.roles)
            .field("paused", &self.paused)
            .finish()
    }
}

/// `POST /api/environments/{name}/test` (or `/api/environments/test` with a body): what
/// a connection attempt found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConnectionTest {
    pub ok: bool,
    /// Which step failed: `url`, `dns`, `connect`, `tls`, `ssh`, `api_version`, `auth`,
    /// `timeout`, `daemon`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stage: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub engine_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,
    pub millis: u64,
}

/// A row of `GET /api/environments/containers`: containers of every host the caller may
/// use, each host's answer or its state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HostContainers {
    pub environment: String,
    pub status: EnvStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub containers: Vec<crate::ContainerSummary>,
}
