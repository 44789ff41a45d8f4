//! Images, builds and registries: what `/api/images*` and `/api/registries*` send and take.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

/// A row of `GET /api/images`: full ids and digests; the UI shortens them itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ImageSummary {
    /// `sha256:` and 64 hex digits.
    pub id: String,
    pub repo_tags: Vec<String>,
    pub repo_digests: Vec<String>,
    /// Bytes.
    pub size: i64,
    /// Unix seconds.
    pub created: i64,
    /// Containers (running or not) made from this image.
    pub containers: i64,
    /// No tag: what `docker image prune` removes.
    pub dangling: bool,
    pub labels: BTreeMap<String, String>,
}

/// `POST /api/images/pull` and `POST /api/images/push`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PullRequest {
    /// `name[:tag|@digest]`, Docker Hub style (`nginx`, `library/nginx:1`) or with a
    /// registry host (`registry.example.com:5000/team/app:2`).
    pub image: String,
    /// A stored registry's id: its credentials are used, and a name without a host is
    /// taken from that registry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registry: Option<i64>,
}

/// `POST /api/images/{id}/tag`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct TagRequest {
    pub repo: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
}

/// What removing one image did, as `docker rmi` prints it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RemovedImage {
    pub untagged: Vec<String>,
    pub deleted: Vec<String>,
}

/// `POST /api/images/remove`: several at once.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RemoveImages {
    pub images: Vec<String>,
    #[serde(default)]
    pub force: bool,
}

/// One image of `POST /api/images/remove`: what it did, or why it could not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RemoveOutcome {
    pub image: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub removed: Option<RemovedImage>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorDetailLite>,
}

/// An error of one item of a batch, shaped as the envelope's inner object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorDetailLite {
    pub code: String,
    pub message: String,
}

/// `POST /api/images/prune`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PruneImages {
    /// Every image no container uses, not only untagged ones (`docker image prune -a`).
    #[serde(default)]
    pub all: bool,
    /// Only say what would go.
    #[serde(default)]
    pub dry_run: bool,
    /// `label=k=v`, `label!=k`, `until=24h`: the daemon's prune filters.
    #[serde(default)]
    pub filters: BTreeMap<String, Vec<String>>,
}

/// The answer to `POST /api/images/prune` (`dry_run`: what would go and an estimate).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PruneResult {
    pub dry_run: bool,
    /// Images (ids, with their tags when they had some).
    pub images: Vec<PrunedImage>,
    pub untagged: Vec<String>,
    pub deleted: Vec<String>,
    /// Bytes.
    pub space_reclaimed: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PrunedImage {
    pub id: String,
    pub repo_tags: Vec<String>,
    pub size: i64,
}

/// `POST /api/containers/{id}/commit`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CommitRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repo: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    /// Dockerfile instructions applied to the new image: `CMD ["sh"]`, `ENV A=1`, `EXPOSE 80`.
    #[serde(default)]
    pub changes: Vec<String>,
    /// Pause the container while committing (the default, as `docker commit`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pause: Option<bool>,
}

/// `{"id"}` of a new image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CommitResult {
    pub id: String,
}

/// One line of a progress stream (pull, push, build, load): the daemon's own JSON, passed
/// through; fields the daemon leaves out stay out.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProgressLine {
    /// A layer id for pulls and pushes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// `Downloading`, `Extracting`, `Pull complete`, ...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub progress: Option<String>,
    #[serde(
        default,
        rename = "progressDetail",
        skip_serializing_if = "Option::is_none"
    )]
    pub progress_detail: Option<ProgressDetail>,
    /// Build output text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aux: Option<serde_json::Value>,
    /// The end of a stream that failed: the contract's error object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorDetailLite>,
    /// The end of a stream that worked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub done: Option<StreamDone>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProgressDetail {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<i64>,
}

/// What a finished pull, push, build or load produced.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StreamDone {
    /// The image id (`sha256:...`) of a pull or build.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The reference pulled or pushed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// The manifest digest of a push.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    /// Tags a build applied.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// Images a load brought in (`name:tag`, or an id when the tar named none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub loaded: Vec<String>,
}

/// A row of `GET /api/registries`. The password is never sent back: only whether one is set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RegistryInfo {
    pub id: i64,
    pub name: String,
    /// `https://registry.example.com`, `http://127.0.0.1:5000`, or a bare `host:port`.
    pub url: String,
    /// The `host[:port]` image references start with (`docker.io` for Docker Hub).
    pub host: String,
    pub username: Option<String>,
    pub has_password: bool,
    /// Set when the URL is plain HTTP and the daemon does not trust this host for it: what
    /// to change in the daemon's settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub insecure_hint: Option<String>,
}

/// `POST /api/registries`; as `PATCH /api/registries/{id}` every field is optional, and a
/// missing password keeps the stored one (an empty one removes it).
#[derive(Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RegistryInput {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
}

impl fmt::Debug for RegistryInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RegistryInput")
            .field("name", &self.name)
            .field("url", &self.url)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<hidden>"))
            .finish()
    }
}

/// A repository of `GET /api/registries/{id}/catalog`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CatalogEntry {
    pub repository: String,
    pub tags: Vec<String>,
}

/// `GET /api/registries/daemon`: how the daemon treats registries (from `docker info`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DaemonRegistries {
    /// Registries and CIDRs the daemon talks plain HTTP to (`insecure-registries`).
    pub insecure_registries: Vec<String>,
    pub mirrors: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_debug_hides_password() {
        let r = RegistryInput {
            password: Some("s3cret".into()),
            ..Default::default()
        };
        assert!(!format!("{r:?}").contains("s3cret"));
    }

    #[test]
    fn progress_lines_keep_the_daemon_field_names() {
        let line: ProgressLine = serde_json::from_str(
            r#"{"status":"Downloading","id":"abc","progressDetail":{"current":5,"total":10}}"#,
        )
        .unwrap();
        assert_eq!(line.progress_detail.unwrap().total, Some(10));
        let end = ProgressLine {
            done: Some(StreamDone {
                id: Some("sha256:1".into()),
                ..Default::default()
            }),
            ..Default::default()
        };
        assert_eq!(
            serde_json::to_string(&end).unwrap(),
            r#"{"done":{"id":"sha256:1"}}"#
        );
    }
}
