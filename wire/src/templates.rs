//! App templates (issue 16): the catalogue, its sources, and a deploy request.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// One choice of a select variable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TemplateChoice {
    pub text: String,
    pub value: String,
}

/// A variable the deploy form asks for (presets are not listed: the template fixes them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TemplateVariable {
    pub name: String,
    pub label: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub default: Option<String>,
    /// Non-empty: only these values are accepted.
    #[serde(default)]
    pub select: Vec<TemplateChoice>,
    pub required: bool,
}

/// A template of the catalogue (`GET /api/templates`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TemplateInfo {
    /// `berth-…` for the built-ins, `{source id}-{template id}` for a source's.
    pub id: String,
    /// `builtin`, or the id of the source it came from.
    pub source: String,
    /// The source's name (`berth` for the built-ins).
    pub source_name: String,
    pub title: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub note: String,
    #[serde(default)]
    pub categories: Vec<String>,
    #[serde(default)]
    pub logo: Option<String>,
    /// `container` or `stack`.
    pub kind: String,
    pub variables: Vec<TemplateVariable>,
    /// A container template's image (with `{{VAR}}` markers as written).
    #[serde(default)]
    pub image: Option<String>,
    /// A stack template's compose file (variables as `${VAR}`).
    #[serde(default)]
    pub compose: Option<String>,
    /// Set when the template cannot run here as it is (e.g. its upstream image is not
    /// available locally); the form still deploys it with another image.
    #[serde(default)]
    pub unavailable: Option<String>,
}

/// A template of a source's list that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TemplateListError {
    /// Position in the list, from 0.
    pub index: usize,
    #[serde(default)]
    pub title: Option<String>,
    pub message: String,
}

/// A source of templates: a list fetched from a URL or uploaded as a file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TemplateSource {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub url: Option<String>,
    /// `portainer-v2`, `portainer-v3`, `yacht` or `berth`.
    pub format: String,
    pub templates: usize,
    /// Templates of the list that were skipped, and why.
    #[serde(default)]
    pub errors: Vec<TemplateListError>,
    pub added_at: i64,
    #[serde(default)]
    pub added_by: Option<String>,
}

/// `POST /api/templates/sources` as JSON: a `url` berth fetches, or a list's `content`
/// (an uploaded file) with an optional `name`. A multipart form with a `file` also works.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AddTemplateSource {
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub content: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
}

/// `POST /api/templates/{id}/deploy`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct DeployTemplate {
    /// The container's or the stack's name.
    pub name: String,
    #[serde(default)]
    pub variables: BTreeMap<String, String>,
    /// The environment to deploy on (default: the request's, `local`).
    #[serde(default)]
    pub endpoint: Option<String>,
    /// The owning team (a non-admin: one of theirs; default their first).
    #[serde(default)]
    pub team: Option<String>,
}

/// The answer to deploying a container template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeployedContainer {
    /// Always `container`.
    pub kind: String,
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub warnings: Vec<String>,
}
