//! Automation: deploy webhooks and the jobs they start (issue 16).

use serde::{Deserialize, Serialize};

use crate::ErrorDetail;

/// What a webhook redeploys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum WebhookKind {
    Container,
    Stack,
    Service,
}

impl WebhookKind {
    pub fn as_str(self) -> &'static str {
        match self {
            WebhookKind::Container => "container",
            WebhookKind::Stack => "stack",
            WebhookKind::Service => "service",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "container" => Some(WebhookKind::Container),
            "stack" => Some(WebhookKind::Stack),
            "service" => Some(WebhookKind::Service),
            _ => None,
        }
    }
}

/// `POST /api/webhooks`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateWebhook {
    pub kind: WebhookKind,
    /// A container (name, id or id prefix; kept by name, so the webhook survives a
    /// recreate) or a stack name.
    pub target: String,
    /// The daemon (environment) the target lives on; `local` if not given.
    #[serde(default)]
    pub endpoint: Option<String>,
    /// Also accept GitHub's `X-Hub-Signature-256` (the secret is then kept sealed, since an
    /// HMAC can only be checked with the key itself).
    #[serde(default)]
    pub github: bool,
    /// Stacks: the `.env` variable `?tag=` sets (default `TAG`).
    #[serde(default)]
    pub tag_variable: Option<String>,
}

/// A webhook as listed; never its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WebhookInfo {
    pub id: String,
    pub kind: WebhookKind,
    pub target: String,
    pub endpoint: String,
    /// The URL to call (`POST`), with the secret in `X-Berth-Secret`.
    pub url: String,
    /// Who it acts as.
    pub owner: String,
    pub github: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag_variable: Option<String>,
    pub created_at: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_called: Option<i64>,
}

/// The answer to creating or rotating a webhook: the secret, shown this once.
#[derive(Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewWebhook {
    pub id: String,
    pub url: String,
    pub secret: String,
    pub webhook: WebhookInfo,
}

impl std::fmt::Debug for NewWebhook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewWebhook")
            .field("id", &self.id)
            .field("url", &self.url)
            .field("secret", &"<hidden>")
            .finish()
    }
}

/// The answer to a webhook call: the job it started (or joined), at once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct JobStarted {
    pub job: String,
    /// The job's URL (`GET`, with a session, a token or the webhook's secret).
    pub url: String,
    /// True when the call joined a job for the same target and parameters that had not
    /// started yet, rather than queueing another.
    pub joined: bool,
}

/// Where a job is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum JobState {
    Queued,
    Running,
    Succeeded,
    Failed,
}

impl JobState {
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Running => "running",
            JobState::Succeeded => "succeeded",
            JobState::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Self {
        match s {
            "queued" => JobState::Queued,
            "running" => JobState::Running,
            "succeeded" => JobState::Succeeded,
            _ => JobState::Failed,
        }
    }

    pub fn finished(self) -> bool {
        matches!(self, JobState::Succeeded | JobState::Failed)
    }
}

/// One line of a job's log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct JobLine {
    /// Unix milliseconds.
    pub at: i64,
    /// `pull`, `create`, `recreate`, `keep`, `health`, `rollback`, ... (the stack engine's
    /// steps, and the job's own).
    pub step: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    pub message: String,
}

/// `GET /api/jobs/{id}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Job {
    pub id: String,
    /// `container` or `stack`.
    pub kind: String,
    pub target: String,
    pub endpoint: String,
    pub state: JobState,
    pub log: Vec<JobLine>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorDetail>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook: Option<String>,
    /// Who it ran as.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    pub created_at: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<i64>,
}

/// A line of `GET /api/jobs/{id}/stream`: a log line, and last the job as it ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(untagged)]
pub enum JobFrame {
    Line(JobLine),
    End { end: Box<Job> },
}

/// One row of `GET /api/updates`: does the registry have something newer under the tag a
/// container runs?
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UpdateInfo {
    /// The container's id.
    pub container: String,
    pub name: String,
    /// The image reference it was created with.
    pub image: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub running_digest: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registry_digest: Option<String>,
    pub update_available: bool,
    /// `current`, `available`, `pinned` (runs a digest: nothing to check), `local` (built
    /// or loaded here, never pulled: no registry to ask), `opted_out` (label
    /// `berth-update=false`), `missing` (the registry has no such tag) or `error`.
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The stack (Compose project) the container belongs to, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stack: Option<String>,
    /// When the registry was last asked (unix seconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checked_at: Option<i64>,
}

/// One target of `POST /api/updates/apply`: its job, or why none was queued.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UpdateQueued {
    /// `container` or `stack`.
    pub kind: String,
    pub target: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job: Option<JobStarted>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorDetail>,
}
