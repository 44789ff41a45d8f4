//! The types that cross the network between berth's server and its browser app.
//!
//! Serde only: no axum, bollard, leptos or tokio here, so the WASM frontend and the server
//! decode exactly the same structs. Field names follow `shared/CONTRACT.md`.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

pub mod files;
pub use files::*;
pub mod containers;
pub use containers::*;
pub mod images;
pub use images::*;
pub mod resources;
pub use resources::*;
pub mod stacks;
pub use stacks::*;
pub mod environments;
pub use environments::*;
pub mod automation;
pub use automation::*;
pub mod gitstacks;
pub use gitstacks::*;
pub mod swarm;
pub use swarm::*;
pub mod templates;
pub use templates::*;

/// The error envelope every JSON error carries: `{"error":{"code","message"}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

/// What went wrong: a stable snake_case `code` for programs, a `message` for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorDetail {
    pub code: String,
    pub message: String,
}

impl ErrorBody {
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            error: ErrorDetail {
                code: code.into(),
                message: message.into(),
            },
        }
    }
}

/// `POST /api/auth/login`.
#[derive(Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

// A password never reaches a log line through `{:?}`.
impl fmt::Debug for LoginRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoginRequest")
            .field("username", &self.username)
            .field("password", &"<hidden>")
            .finish()
    }
}

/// What a user may do. Ordered: a higher role includes the lower ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Viewer,
    Operator,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Operator => "operator",
            Role::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "viewer" => Some(Role::Viewer),
            "operator" => Some(Role::Operator),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }
}

/// `GET /api/auth/me`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Me {
    pub username: String,
    pub role: Role,
    pub teams: Vec<String>,
}

/// `GET /api/health`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Health {
    /// `"ok"` or `"degraded"` (the daemon is unreachable).
    pub status: String,
    pub docker: DockerHealth,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DockerHealth {
    pub reachable: bool,
    pub version: Option<String>,
    pub api_version: Option<String>,
}

/// A published port of a container, as in `docker ps`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PortMapping {
    pub host_ip: Option<String>,
    pub host_port: Option<u16>,
    pub container_port: u16,
    pub protocol: String,
}

/// A row of `GET /api/containers`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ContainerSummary {
    /// The full 64-hex id.
    pub id: String,
    /// Names without the daemon's leading `/`.
    pub names: Vec<String>,
    pub image: String,
    /// `created`, `running`, `paused`, `restarting`, `removing`, `exited` or `dead`.
    pub state: String,
    /// The daemon's human status, e.g. `Up 5 minutes`.
    pub status: String,
    /// Unix seconds.
    pub created: i64,
    pub ports: Vec<PortMapping>,
    pub labels: BTreeMap<String, String>,
    /// Its addresses on its networks (IPv4, then global IPv6), by network name; empty
    /// while it is not running. From the list call itself: no per-container inspect.
    #[serde(default)]
    pub ips: Vec<String>,
}

impl ContainerSummary {
    /// The name people know the container by.
    pub fn display_name(&self) -> &str {
        self.names
            .first()
            .map(String::as_str)
            .unwrap_or_else(|| &self.id[..self.id.len().min(12)])
    }
}

/// `GET /api/system/summary`: what the dashboard shows, gathered in one request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SystemSummary {
    pub version: String,
    pub api_version: String,
    pub os: String,
    pub kernel: String,
    pub cpus: i64,
    pub memory: i64,
    pub containers: i64,
    pub running: i64,
    pub paused: i64,
    pub stopped: i64,
    pub images: i64,
    pub volumes: i64,
}

/// One frame of `GET /api/events/ws`: a daemon event, trimmed to what a console needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DaemonEvent {
    /// `container`, `image`, `network`, `volume`, ...
    #[serde(rename = "type")]
    pub kind: String,
    /// `start`, `die`, `pause`, `destroy`, ...
    pub action: String,
    /// The actor's id (a container's full id for container events).
    pub id: String,
    pub attributes: BTreeMap<String, String>,
    /// Unix seconds.
    pub time: i64,
}

/// Frames the server sends on the events socket besides daemon events, so the UI can say
/// when the daemon is gone and when it is back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "berth", rename_all = "snake_case")]
pub enum StreamNotice {
    /// The daemon stream ended or could not be opened; the server keeps retrying.
    DaemonLost { message: String },
    /// The daemon answers again; lists should be reloaded.
    DaemonBack,
}

/// A row of `GET /api/users`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserInfo {
    pub username: String,
    pub role: Role,
    pub teams: Vec<String>,
    pub disabled: bool,
    /// Unix seconds.
    pub created_at: i64,
}

/// `POST /api/users`.
#[derive(Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateUser {
    pub username: String,
    pub password: String,
    pub role: Role,
    #[serde(default)]
    pub teams: Vec<String>,
}

impl fmt::Debug for CreateUser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CreateUser")
            .field("username", &self.username)
            .field("password", &"<hidden>")
            .field("role", &self.role)
            .field("teams", &self.teams)
            .finish()
    }
}

/// `PATCH /api/users/{name}`: every field optional. An admin may change anything; a user
/// may change only their own password, and must give `current_password` to do so.
#[derive(Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PatchUser {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_password: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub teams: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disabled: Option<bool>,
}

impl fmt::Debug for PatchUser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PatchUser")
            .field("password", &self.password.as_ref().map(|_| "<hidden>"))
            .field("role", &self.role)
            .field("teams", &self.teams)
            .field("disabled", &self.disabled)
            .finish()
    }
}

/// A row of `GET /api/teams`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TeamInfo {
    pub name: String,
    pub members: Vec<String>,
}

/// `POST /api/teams`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateTeam {
    pub name: String,
}

/// `POST /api/tokens`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateToken {
    pub name: String,
}

/// The answer to `POST /api/tokens`: the secret, shown this once.
#[derive(Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewToken {
    pub id: i64,
    pub name: String,
    pub token: String,
}

impl fmt::Debug for NewToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewToken")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("token", &"<hidden>")
            .finish()
    }
}

/// A row of `GET /api/tokens` (never the secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TokenInfo {
    pub id: i64,
    pub name: String,
    pub username: String,
    pub created_at: i64,
    pub last_used: Option<i64>,
}

/// A row of `GET /api/audit`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditEntry {
    /// Unix seconds.
    pub at: i64,
    pub user: Option<String>,
    pub action: String,
    pub target: Option<String>,
    pub result: String,
    pub peer: Option<String>,
}

/// The optional body of `POST /api/auth/ws-ticket`: `path` limits the ticket to the
/// websocket at that path (e.g. `/api/events/ws`); without it the ticket opens any one.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct WsTicketRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
}

/// `POST /api/auth/ws-ticket`: a one-time, short-lived ticket a websocket can present as
/// `?ticket=` when it cannot send the session cookie or an Authorization header.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WsTicket {
    pub ticket: String,
    pub expires_in: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn login_debug_hides_password() {
        let req = LoginRequest {
            username: "admin".into(),
            password: "hunter2".into(),
        };
        let shown = format!("{req:?}");
        assert!(shown.contains("admin"));
        assert!(!shown.contains("hunter2"));
    }

    #[test]
    fn error_envelope_shape() {
        let json = serde_json::to_value(ErrorBody::new("not_found", "no such container")).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"error":{"code":"not_found","message":"no such container"}})
        );
    }

    #[test]
    fn notice_is_tagged() {
        let json = serde_json::to_string(&StreamNotice::DaemonBack).unwrap();
        assert_eq!(json, r#"{"berth":"daemon_back"}"#);
    }

    #[test]
    fn roles_are_ordered() {
        assert!(Role::Admin > Role::Operator && Role::Operator > Role::Viewer);
        assert_eq!(Role::parse("operator"), Some(Role::Operator));
        assert_eq!(Role::parse("root"), None);
    }
}
