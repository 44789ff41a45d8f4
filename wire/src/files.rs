//! Files: shares (host folders published as an autoindex) and the file browsers of volumes
//! and containers.

use serde::{Deserialize, Serialize};

/// What a directory entry is. A symlink is reported as itself, not as what it points to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum FileKind {
    File,
    Dir,
    Symlink,
    Other,
}

/// One entry of a listing (`GET /api/volumes/{name}/files`, `GET /api/shares/{name}/files`,
/// `GET /api/containers/{id}/files`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FileEntry {
    pub name: String,
    pub kind: FileKind,
    /// Bytes, for files; 0 for everything else.
    pub size: u64,
    /// Permission bits (`0o7777` at most).
    pub mode: u32,
    /// Unix seconds.
    pub mtime: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link_target: Option<String>,
}

/// A share as `GET /api/shares` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Share {
    pub name: String,
    /// The host folder; only admins are told it (empty for others).
    pub path: String,
    pub writable: bool,
    /// Teams that may see it; empty means everyone logged in.
    pub teams: Vec<String>,
    /// `flag` (declared with `--share`, read-only in the API) or `api`.
    pub source: String,
}

/// `POST /api/shares`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ShareCreate {
    pub name: String,
    pub path: String,
    #[serde(default)]
    pub writable: bool,
    #[serde(default)]
    pub teams: Vec<String>,
}

/// `POST /api/{shares|volumes}/{name}/rename`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RenameRequest {
    pub from: String,
    pub to: String,
}

/// What an upload wrote: the paths created or replaced, relative to the tree's root.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UploadResult {
    pub written: Vec<String>,
    pub bytes: u64,
}
