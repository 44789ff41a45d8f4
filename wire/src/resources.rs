//! Networks, volumes, and the system's disk usage and clean-up: `/api/networks`,
//! `/api/volumes`, `/api/system/df`, `/api/system/prune`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// A row of `GET /api/networks` (also `GET /api/networks/{id}` answers with the daemon's
/// inspect JSON).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NetworkSummary {
    pub id: String,
    pub name: String,
    pub driver: String,
    pub scope: String,
    pub internal: bool,
    pub subnets: Vec<NetworkSubnet>,
    pub labels: BTreeMap<String, String>,
    pub containers: Vec<NetworkMember>,
    /// `bridge`, `host` and `none`: made by the daemon, never removed.
    pub builtin: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NetworkSubnet {
    pub subnet: Option<String>,
    pub gateway: Option<String>,
    pub ip_range: Option<String>,
}

/// A container attached to a network, with its addresses there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NetworkMember {
    pub id: String,
    pub name: String,
    pub ipv4: Option<String>,
    pub ipv6: Option<String>,
    pub mac: Option<String>,
}

/// `POST /api/networks`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateNetwork {
    pub name: String,
    #[serde(default)]
    pub driver: Option<String>,
    #[serde(default)]
    pub subnet: Option<String>,
    #[serde(default)]
    pub gateway: Option<String>,
    #[serde(default)]
    pub ip_range: Option<String>,
    #[serde(default)]
    pub internal: bool,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    #[serde(default)]
    pub team: Option<String>,
}

/// `POST /api/networks/{id}/connect`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ConnectNetwork {
    pub container: String,
    #[serde(default)]
    pub ipv4: Option<String>,
    #[serde(default)]
    pub aliases: Vec<String>,
}

/// `POST /api/networks/{id}/disconnect`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct DisconnectNetwork {
    pub container: String,
    #[serde(default)]
    pub force: bool,
}

/// What a prune removed (or, for a preview, would remove).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Pruned {
    pub deleted: Vec<String>,
    pub space_reclaimed: i64,
}

/// A row of `GET /api/volumes`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VolumeSummary {
    pub name: String,
    pub driver: String,
    pub mountpoint: String,
    pub created_at: Option<String>,
    pub labels: BTreeMap<String, String>,
    pub options: BTreeMap<String, String>,
    /// Bytes, when the daemon reports it (`?size=true`; local volumes).
    pub size: Option<i64>,
    /// Names of the containers that mount it, running or not.
    pub containers: Vec<String>,
}

/// `POST /api/volumes`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateVolume {
    pub name: String,
    #[serde(default)]
    pub driver: Option<String>,
    #[serde(default)]
    pub options: BTreeMap<String, String>,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    #[serde(default)]
    pub team: Option<String>,
}

/// `GET /api/system/df`: `docker system df`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DiskUsage {
    pub images: DiskUsageRow,
    pub containers: DiskUsageRow,
    pub volumes: DiskUsageRow,
    pub build_cache: DiskUsageRow,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DiskUsageRow {
    pub count: i64,
    /// In use (by a container, for images and volumes; running, for containers).
    pub active: i64,
    /// Bytes.
    pub size: i64,
    /// Bytes a prune would free.
    pub reclaimable: i64,
}

/// `POST /api/system/prune`: `docker system prune [-a] [--volumes] [--filter label=..]`.
/// With `dry_run` nothing is removed: the answer is the preview.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SystemPrune {
    #[serde(default)]
    pub volumes: bool,
    /// Every image no container uses, not only dangling ones.
    #[serde(default)]
    pub all: bool,
    #[serde(default)]
    pub dry_run: bool,
    /// Only things with these labels (`key` or `key=value`), as `--filter label=`.
    #[serde(default)]
    pub labels: Vec<String>,
}

/// What `POST /api/system/prune` removed, or would remove.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SystemPruned {
    pub dry_run: bool,
    /// `name (id)` of each container.
    pub containers: Vec<String>,
    pub images: Vec<String>,
    pub networks: Vec<String>,
    pub volumes: Vec<String>,
    /// Build cache entries (left alone when labels are given: they carry none).
    pub build_cache: i64,
    /// Bytes freed (a preview: what the listed things take).
    pub space_reclaimed: i64,
}
