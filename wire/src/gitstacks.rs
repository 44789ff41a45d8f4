//! Git-backed stacks: `POST /api/stacks` with `"git"`, `GET /api/stacks/{name}`'s `git`,
//! `POST /api/stacks/{name}/git/pull` and `PATCH /api/stacks/{name}/git`.

use serde::{Deserialize, Serialize};

/// Where a stack's compose file comes from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct GitSource {
    /// `https://`, `ssh://` (or `user@host:path`), `git://`, `http://` to loopback, or
    /// (admins) `file:///path`.
    pub url: String,
    /// A branch or a tag (default `main`).
    #[serde(default, rename = "ref")]
    pub git_ref: Option<String>,
    /// The compose file in the repository (default `docker-compose.yml`); its folder is
    /// where relative paths and the `.env` are read.
    #[serde(default)]
    pub path: Option<String>,
    /// Poll every N seconds (at least 5); 0 or none: only on a pull or a webhook call.
    #[serde(default)]
    pub poll_seconds: Option<u64>,
    #[serde(default)]
    pub credentials: Option<GitCredentials>,
}

/// What the repository asks for; sealed at rest and never sent back. One kind at a time:
/// a token (`username` optional), a `username` and `password`, or an `ssh_key` (ssh://,
/// with an optional `known_hosts`).
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct GitCredentials {
    #[serde(default)]
    pub username: Option<String>,
    /// An HTTPS access token (sent as the password of `username`, `x-access-token` if none).
    #[serde(default)]
    pub token: Option<String>,
    /// An HTTPS password (with `username`).
    #[serde(default)]
    pub password: Option<String>,
    /// An SSH private key (OpenSSH / PEM text, without a passphrase).
    #[serde(default)]
    pub ssh_key: Option<String>,
    /// OpenSSH `known_hosts` lines for ssh://: only these host keys are trusted. Without
    /// them, the key the server shows first is kept and a different one later is refused.
    #[serde(default)]
    pub known_hosts: Option<String>,
}

impl GitCredentials {
    /// `token`, `password`, `ssh_key`, or None when nothing is given.
    pub fn kind(&self) -> Option<&'static str> {
        if self.ssh_key.is_some() {
            Some("ssh_key")
        } else if self.token.is_some() {
            Some("token")
        } else if self.password.is_some() {
            Some("password")
        } else {
            None
        }
    }
}

impl std::fmt::Debug for GitCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GitCredentials")
            .field("username", &self.username)
            .field("token", &self.token.as_ref().map(|_| "<hidden>"))
            .field("password", &self.password.as_ref().map(|_| "<hidden>"))
            .field("ssh_key", &self.ssh_key.as_ref().map(|_| "<hidden>"))
            .field("known_hosts", &self.known_hosts)
            .finish()
    }
}

/// A Git stack as `GET /api/stacks/{name}` shows it (never its credentials).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GitState {
    pub url: String,
    #[serde(rename = "ref")]
    pub git_ref: String,
    pub path: String,
    /// 0: no polling.
    pub poll_seconds: u64,
    /// Whether credentials are stored (they are never shown).
    pub has_credentials: bool,
    /// Their kind (`token`, `password`, `ssh_key`) and user, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials_kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials_user: Option<String>,
    /// For ssh://: the server's host keys berth trusts (`known_hosts` lines), learnt on the
    /// first fetch or given with the credentials.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_keys: Option<String>,
    /// The commit that is deployed, and its first message line.
    pub commit: Option<String>,
    pub summary: Option<String>,
    /// When the last poll ended (unix seconds), and how: `deployed`, `unchanged` or `failed`.
    pub last_poll: Option<i64>,
    pub last_result: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The commit a failed poll was about (a bad compose file in it, say).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_commit: Option<String>,
    /// When the next poll is due (unix seconds), if it polls.
    pub next_poll: Option<i64>,
    /// The job of the last poll (`GET /api/jobs/{id}`).
    pub last_job: Option<String>,
}

/// `POST /api/stacks/{name}/git/pull`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct GitPull {
    /// Redeploy even when the commit did not change.
    #[serde(default)]
    pub force: bool,
    /// Pull the services' images before deploying.
    #[serde(default)]
    pub pull_images: bool,
}

/// `PATCH /api/stacks/{name}/git`: what is not given stays.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PatchGit {
    #[serde(default, rename = "ref")]
    pub git_ref: Option<String>,
    #[serde(default)]
    pub path: Option<String>,
    #[serde(default)]
    pub poll_seconds: Option<u64>,
    /// New credentials; `remove_credentials` forgets them.
    #[serde(default)]
    pub credentials: Option<GitCredentials>,
    #[serde(default)]
    pub remove_credentials: bool,
    /// Forget the ssh host key learnt on first use (after the server's key changed on
    /// purpose); the next fetch learns the new one.
    #[serde(default)]
    pub reset_host_key: bool,
}
