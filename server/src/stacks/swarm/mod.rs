//! A compose file deployed to a swarm as `docker stack deploy` deploys it. The docker CLI
//! converts compose to services itself (`cli/compose/convert`), so berth does too: the file
//! is read by berth's one compose reader (`parse`, `model`), then `keys` judges the keys a
//! swarm refuses or ignores, with the CLI's words, and `convert` makes each service's spec.
//!
//! Names are scoped as the CLI scopes them: `STACK_KEY` for services, networks (the default
//! network is `STACK_default`, an overlay), volumes, secrets and configs, unless the file
//! names them or they are external; everything carries `com.docker.stack.namespace`.

pub mod convert;
pub mod diff;
pub mod keys;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use bollard::models::ServiceSpec;
use serde_yaml::{Mapping, Value};

use super::model::values::scalar;
use super::model::{self, inside, Origin};
use super::{ops, parse};

/// The label that ties a swarm object to its stack.
pub const NAMESPACE_LABEL: &str = "com.docker.stack.namespace";
/// The image the file asked for (the daemon may pin a digest in the spec).
pub const IMAGE_LABEL: &str = "com.docker.stack.image";

/// A network the stack uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkPlan {
    pub key: String,
    pub name: String,
    pub external: bool,
    /// `overlay` unless the file says otherwise.
    pub driver: String,
    pub attachable: bool,
    pub internal: bool,
    pub labels: HashMap<String, String>,
    pub driver_opts: HashMap<String, String>,
}

/// A secret or config of the stack: its key in the file and the swarm object's name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileRef {
    pub key: String,
    pub name: String,
    pub external: bool,
    /// `file:`, inside the stack's folder.
    pub file: Option<PathBuf>,
    /// The value itself, from `environment:` (a variable of the `.env`) or `content:`,
    /// as Compose reads them: how a stack made from the editor carries its secrets.
    pub content: Option<String>,
    pub labels: HashMap<String, String>,
}

/// One service to create or update.
#[derive(Debug, Clone)]
pub struct ServicePlan {
    /// The service's key in the file.
    pub key: String,
    pub spec: ServiceSpec,
    /// `privileged: true`: the CLI drops it, berth's policy still judges who asked.
    pub privileged: bool,
}

/// Everything `docker stack deploy` would create, and what it would print about the file.
#[derive(Debug, Clone)]
pub struct Plan {
    pub stack: String,
    pub services: Vec<ServicePlan>,
    pub networks: Vec<NetworkPlan>,
    pub secrets: Vec<FileRef>,
    pub configs: Vec<FileRef>,
    /// "Ignoring unsupported options: …" and "Ignoring deprecated options: …".
    pub warnings: Vec<String>,
}

fn top_files(
    root: &Mapping,
    key: &str,
    stack: &str,
    dir: &Path,
    vars: &HashMap<String, String>,
) -> Result<Vec<FileRef>, String> {
    let mut out = Vec::new();
    for (k, v) in root
        .get(key)
        .and_then(Value::as_mapping)
        .into_iter()
        .flatten()
    {
        let k = scalar(k).unwrap_or_default();
        let external = v.get("external").and_then(Value::as_bool).unwrap_or(false);
        let name = v.get("name").and_then(scalar).unwrap_or_else(|| {
            if external {
                k.clone()
            } else {
                format!("{stack}_{k}")
            }
        });
        let content = match (v.get("environment").and_then(scalar), v.get("content")) {
            (Some(var), _) => Some(vars.get(&var).cloned().ok_or_else(|| {
                format!("{key}.{k}.environment: {var} is not set (add it to the stack's .env)")
            })?),
            (None, Some(c)) => Some(scalar(c).unwrap_or_default()),
            (None, None) => None,
        };
        let file = match v.get("file").and_then(scalar) {
            Some(f) => Some(inside(dir, &f).map_err(|e| format!("{key}.{k}.file: {e}"))?),
            None if external || content.is_some() => None,
            None => {
                return Err(format!(
                    "{key}.{k}: a swarm {} needs a file:, environment:, content: or external: true",
                    key.trim_end_matches('s')
                ))
            }
        };
        let mut labels: HashMap<String, String> = match v.get("labels") {
            Some(l) => model::values::map(Some(l), '=')?.into_iter().collect(),
            None => HashMap::new(),
        };
        labels.insert(NAMESPACE_LABEL.into(), stack.into());
        out.push(FileRef {
            key: k,
            name,
            external,
            file,
            content,
            labels,
        });
    }
    Ok(out)
}

/// Read a compose text (with its `.env`) of stack `stack` in folder `dir` into what a
/// swarm deploy sends; a refusal is one message a person can act on, as the CLI words it.
pub fn plan(stack: &str, text: &str, env: Option<&str>, dir: &Path) -> Result<Plan, String> {
    super::check_name(stack).map_err(|e| e.to_string())?;
    // The CLI judges the keys on the file as written, before `extends` is applied.
    let written: Mapping = match serde_yaml::from_str::<Value>(text) {
        Ok(Value::Mapping(m)) => m,
        Ok(_) => return Err("a compose file is a mapping with a `services:` key".into()),
        Err(e) => return Err(format!("the compose file is not YAML: {e}")),
    };
    let verdict = keys::judge(&written);
    if let Some(r) = verdict.refusal() {
        return Err(r);
    }
    let parsed = parse::parse_in(text, env, Some(dir), None).map_err(|p| ops::describe(&p))?;
    let project = model::project(
        &parsed,
        &Origin {
            name: stack,
            working_dir: dir,
            text,
        },
    )
    .map_err(|p| ops::describe(&p))?;

    let networks: Vec<NetworkPlan> = project
        .networks
        .iter()
        .filter(|n| {
            project
                .services
                .iter()
                .any(|s| s.networks.iter().any(|sn| sn.key == n.key))
        })
        .map(|n| {
            let mut labels: HashMap<String, String> = n.labels.clone().into_iter().collect();
            labels.insert(NAMESPACE_LABEL.into(), stack.into());
            let raw = parsed
                .raw
                .get("networks")
                .and_then(|m| m.get(n.key.as_str()));
            NetworkPlan {
                key: n.key.clone(),
                name: n.name.clone(),
                external: n.external,
                driver: n.driver.clone().unwrap_or_else(|| "overlay".into()),
                attachable: raw
                    .and_then(|r| r.get("attachable"))
                    .and_then(Value::as_bool)
                    .unwrap_or(false),
                internal: n.internal,
                labels,
                driver_opts: n.driver_opts.clone().into_iter().collect(),
            }
        })
        .collect();
    let secrets = top_files(&parsed.raw, "secrets", stack, dir, &parsed.vars)?;
    let configs = top_files(&parsed.raw, "configs", stack, dir, &parsed.vars)?;
    let net_names: HashMap<String, String> = networks
        .iter()
        .map(|n| (n.key.clone(), n.name.clone()))
        .collect();
    let cx = convert::Cx {
        stack,
        networks: &net_names,
        secrets: &secrets,
        configs: &configs,
    };

    let empty = Mapping::new();
    let mut services = Vec::new();
    for svc in &project.services {
        let raw = parsed
            .raw
            .get("services")
            .and_then(|s| s.get(svc.name.as_str()))
            .and_then(Value::as_mapping)
            .unwrap_or(&empty);
        if raw.get("image").is_none() {
            return Err(format!(
                "invalid image reference for service {}: no image specified",
                svc.name
            ));
        }
        let spec =
            convert::service(&cx, svc, raw).map_err(|e| format!("services.{}.{e}", svc.name))?;
        services.push(ServicePlan {
            key: svc.name.clone(),
            spec,
            privileged: svc.privileged,
        });
    }
    services.sort_by(|a, b| a.key.cmp(&b.key));
    Ok(Plan {
        stack: stack.into(),
        services,
        networks,
        secrets,
        configs,
        warnings: verdict.warnings(),
    })
}

#[cfg(test)]
mod tests;
