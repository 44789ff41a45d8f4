//! App templates (issue 16): lists in Portainer's v2 and v3 formats, Yacht's, and berth's own
//! are read into one model (`parse`), and a template's variables are resolved against what a
//! user typed in its form (`vars`). Templates are data: nothing here renders HTML.

pub mod builtin;
pub mod catalog;
pub mod deploy;
pub mod fetch;
pub mod parse;
pub mod vars;

use serde::Serialize;

/// What a template makes when it is deployed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Container,
    Stack,
}

/// One choice of a select variable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Choice {
    pub text: String,
    pub value: String,
}

/// One variable the deploy form asks for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Variable {
    pub name: String,
    pub label: String,
    pub description: String,
    pub default: Option<String>,
    /// Non-empty: the form offers a select of these values only.
    pub select: Vec<Choice>,
    pub required: bool,
    /// Portainer's `preset`: fixed by the template, not shown in the form.
    pub preset: bool,
}

/// A bind or volume of a container template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Mount {
    pub container: String,
    /// A host path (a bind); `None` makes an anonymous volume.
    pub bind: Option<String>,
    pub readonly: bool,
}

/// A container template's body, close to what container create receives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ContainerSpec {
    pub image: String,
    /// `"8080:80/tcp"`, `"80/tcp"` (published on a random port) as Docker writes them.
    pub ports: Vec<String>,
    pub mounts: Vec<Mount>,
    pub command: Option<String>,
    pub restart_policy: Option<String>,
    pub privileged: bool,
    pub labels: Vec<(String, String)>,
}

/// What is deployed: a container, or a compose file for the stack engine.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase", tag = "type")]
pub enum Body {
    Container(ContainerSpec),
    Compose { content: String },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Template {
    /// Unique within its source (the v3 `id` when given, else derived from the title).
    pub id: String,
    pub title: String,
    pub description: String,
    pub note: String,
    pub categories: Vec<String>,
    /// Only an http(s) URL is kept; the UI shows it as an `<img>` and nothing else.
    pub logo: Option<String>,
    pub kind: Kind,
    pub variables: Vec<Variable>,
    pub body: Body,
}

/// A template of a list that could not be read; the rest of the list still is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TemplateError {
    /// Position in the list, from 0.
    pub index: usize,
    /// The template's title when it had one.
    pub title: Option<String>,
    pub message: String,
}

/// A whole list as read: the templates that were understood and an error for each that was not.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Parsed {
    pub format: &'static str,
    pub templates: Vec<Template>,
    pub errors: Vec<TemplateError>,
}
