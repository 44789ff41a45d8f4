//! Deploying a plan: [`prepare`] decides everything, [`apply`] makes it.

use std::collections::HashMap;

use base64::Engine;
use bollard::models::{ConfigSpec, NetworkCreateRequest, SecretSpec, Service, ServiceSpec};
use bollard::query_parameters::{InspectServiceOptions, UpdateServiceOptions};
use sha2::Digest;

use super::{namespace_of, services};
use crate::auth::access::TEAM_LABEL;
use crate::auth::policy::{self, resolve::Policy, services as spolicy};
use crate::docker::stack_up::Progress;
use crate::docker::{networks, swarm};
use crate::error::{AppError, AppResult};
use crate::stacks::swarm::{diff, FileRef, Plan, ServicePlan, NAMESPACE_LABEL};

/// The daemon's limit for a secret's or config's value.
const MAX_VALUE: u64 = 500 * 1024;
/// The digest of a secret's or config's value, on the object berth made: the swarm never
/// gives a value back and cannot change one in place, so a redeploy tells a changed value
/// by this label.
const VALUE_LABEL: &str = "berth.value-sha256";

/// Whether a label map names this stack and team (an admin's "no team" is `""`).
fn made_for(found: &HashMap<String, String>, stack: &str, team: Option<&str>) -> bool {
    found.get(NAMESPACE_LABEL).map(String::as_str) == Some(stack)
        && found.get(TEAM_LABEL).map(String::as_str).unwrap_or("") == team.unwrap_or("")
}

fn taken(kind: &str, name: &str, stack: &str) -> AppError {
    AppError::Conflict(format!(
        "a {kind} named {name} already exists and was not made for stack {stack} by its team: \
         rename the stack, remove the {kind}, or declare it `external: true` if it is yours"
    ))
}

/// A secret or config the stack makes: its name, labels and value.
struct NewFile {
    name: String,
    labels: HashMap<String, String>,
    data: Vec<u8>,
}

/// Everything decided: what to create, and each service with the one it replaces.
pub struct Prepared {
    plan: Plan,
    team: Option<String>,
    networks: Vec<NetworkCreateRequest>,
    secrets: Vec<NewFile>,
    configs: Vec<NewFile>,
    services: Vec<(ServicePlan, Option<Service>)>,
    /// The stack's services the file no longer has (removed only when pruning).
    orphans: Vec<Service>,
}

async fn read_file(kind: &str, f: &FileRef) -> AppResult<Vec<u8>> {
    let bad = |why: String| {
        AppError::bad_request(
            "invalid_swarm_stack",
            format!("{kind}s.{}.file: {why}", f.key),
        )
    };
    if let (None, Some(c)) = (&f.file, &f.content) {
        if c.is_empty() || c.len() as u64 > MAX_VALUE {
            return Err(AppError::bad_request(
                "invalid_swarm_stack",
                format!("{kind}s.{}: a value of 1 byte to 500 KiB", f.key),
            ));
        }
        return Ok(c.clone().into_bytes());
    }
    let path = f
        .file
        .as_ref()
        .ok_or_else(|| bad("a file, environment, content or external: true is needed".into()))?;
    let meta = tokio::fs::metadata(path)
        .await
        .map_err(|e| bad(format!("{} cannot be read: {e}", path.display())))?;
    if !meta.is_file() || meta.len() == 0 || meta.len() > MAX_VALUE {
        return Err(bad(format!(
            "{} must be a file of 1 byte to 500 KiB",
            path.display()
        )));
    }
    tokio::fs::read(path)
        .await
        .map_err(|e| bad(format!("{} cannot be read: {e}", path.display())))
}

/// Secrets or configs of the plan: external ones must be the caller's; the stack's own
/// are kept when they exist (made for this stack) and made from their files otherwise.
async fn files_to_make(
    p: &Policy<'_>,
    kind: &str,
    refs: &[FileRef],
    stack: &str,
    team: Option<&str>,
) -> AppResult<Vec<NewFile>> {
    let mut out = Vec::new();
    for f in refs {
        let found = if kind == "secret" {
            match swarm::call(p.ep, |d| {
                let n = f.name.clone();
                async move { d.inspect_secret(&n).await }
            })
            .await
            {
                Ok(s) => Some(s.spec.and_then(|s| s.labels).unwrap_or_default()),
                Err(AppError::NotFound(_)) => None,
                Err(e) => return Err(e),
            }
        } else {
            match swarm::inspect_config(p.ep, &f.name).await {
                Ok(c) => Some(c.spec.and_then(|s| s.labels).unwrap_or_default()),
                Err(AppError::NotFound(_)) => None,
                Err(e) => return Err(e),
            }
        };
        if f.external {
            // The caller's (or shared); another team's answers as a missing one.
            if kind == "secret" {
                p.secret(&f.name).await?;
            } else {
                p.config(&f.name).await?;
            }
            continue;
        }
        let data = read_file(kind, f).await?;
        let digest = format!("{:x}", sha2::Sha256::digest(&data));
        match found {
            Some(labels) if made_for(&labels, stack, team) => {
                if labels.get(VALUE_LABEL).is_some_and(|d| *d != digest) {
                    return Err(AppError::Conflict(format!(
                        "{kind}s.{key}: {name} holds another value, and a swarm {kind} cannot \
                         change in place: give the new value a new name in the file (`name: \
                         {name}_v2`), or remove the stack first",
                        key = f.key,
                        name = f.name
                    )));
                }
            }
            Some(_) => return Err(taken(kind, &f.name, stack)),
            None => {
                let mut labels = policy::own_labels(p.user, f.labels.clone(), team)?;
                labels.insert(VALUE_LABEL.into(), digest);
                out.push(NewFile {
                    name: f.name.clone(),
                    labels,
                    data,
                })
            }
        }
    }
    Ok(out)
}

/// The spec with the references the stack has yet to make left out: what the policy can
/// judge before anything exists.
fn without(
    spec: &ServiceSpec,
    nets: &[NetworkCreateRequest],
    secrets: &[NewFile],
    configs: &[NewFile],
) -> ServiceSpec {
    let mut s = spec.clone();
    if let Some(t) = s.task_template.as_mut() {
        if let Some(n) = t.networks.as_mut() {
            n.retain(|a| !nets.iter().any(|x| Some(&x.name) == a.target.as_ref()));
        }
        if let Some(c) = t.container_spec.as_mut() {
            if let Some(list) = c.secrets.as_mut() {
                list.retain(|r| {
                    !secrets
                        .iter()
                        .any(|x| Some(&x.name) == r.secret_name.as_ref())
                });
            }
            if let Some(list) = c.configs.as_mut() {
                list.retain(|r| {
                    !configs
                        .iter()
                        .any(|x| Some(&x.name) == r.config_name.as_ref())
                });
            }
        }
    }
    s
}

/// Decide the whole deploy of `plan` for the stack's `team`; nothing is created.
pub async fn prepare(p: &Policy<'_>, plan: Plan, team: Option<&str>) -> AppResult<Prepared> {
    let stack = plan.stack.clone();
    // A manager, or 409 `not_a_swarm_manager` before anything else.
    let running = services(p.ep, Some(&stack)).await?;
    let wanted: Vec<String> = plan
        .services
        .iter()
        .filter_map(|s| s.spec.name.clone())
        .collect();
    let mut orphans = Vec::new();
    for s in running {
        let name = super::name_of(&s);
        if !wanted.contains(&name) {
            // Only what the caller could remove themselves.
            orphans.push(p.service_ref(&name, wire::Role::Operator).await?);
        }
    }
    for s in &plan.services {
        spolicy::check_stack_privileged(p.user, &s.key, s.privileged)?;
    }

    let mut nets = Vec::new();
    for n in &plan.networks {
        if n.external {
            match p.network(&n.name).await {
                Ok(_) => continue,
                Err(AppError::NotFound(_)) => {
                    return Err(AppError::bad_request(
                        "missing_external_network",
                        format!("network {} is declared external but does not exist", n.name),
                    ))
                }
                Err(e) => return Err(e),
            }
        }
        match networks::inspect_raw(p.ep, &n.name).await {
            Ok(found) => {
                if !made_for(&found.labels.clone().unwrap_or_default(), &stack, team) {
                    return Err(taken("network", &n.name, &stack));
                }
                p.network(&n.name).await?;
                continue;
            }
            Err(AppError::NotFound(_)) => {}
            Err(e) => return Err(e),
        }
        policy::check_network_create(p.user, Some(n.driver.as_str()))?;
        nets.push(NetworkCreateRequest {
            name: n.name.clone(),
            driver: Some(n.driver.clone()),
            scope: Some("swarm".into()),
            attachable: Some(n.attachable),
            internal: Some(n.internal),
            options: Some(n.driver_opts.clone()),
            labels: Some(policy::own_labels(p.user, n.labels.clone(), team)?),
            ..Default::default()
        });
    }
    let secrets = files_to_make(p, "secret", &plan.secrets, &stack, team).await?;
    let configs = files_to_make(p, "config", &plan.configs, &stack, team).await?;

    let mut services = Vec::new();
    for s in &plan.services {
        let name = s.spec.name.clone().unwrap_or_default();
        let found = match swarm::call(p.ep, |d| {
            let n = name.clone();
            async move { d.inspect_service(&n, None::<InspectServiceOptions>).await }
        })
        .await
        {
            Ok(found) => Some(found),
            Err(AppError::NotFound(_)) => None,
            Err(e) => return Err(e),
        };
        let current = match found {
            Some(f) if namespace_of(&f).as_deref() == Some(stack.as_str()) => {
                // Another team's answers as a missing one; an operator of the stack's
                // team reaches it.
                Some(p.service_ref(&name, wire::Role::Operator).await?)
            }
            Some(_) => return Err(taken("service", &name, &stack)),
            None => None,
        };
        // The one policy, on what it can judge now; the full decision is made again on
        // apply, with the stack's own networks, secrets and configs made.
        let spec = without(&s.spec, &nets, &secrets, &configs);
        match &current {
            Some(c) => {
                p.service_update(c, spec).await?;
            }
            None => {
                p.service(spec, team).await?;
            }
        }
        services.push((s.clone(), current));
    }
    Ok(Prepared {
        plan,
        team: team.map(str::to_owned),
        networks: nets,
        secrets,
        configs,
        services,
        orphans,
    })
}

/// What a deploy did, by service key.
#[derive(Debug, Default)]
pub struct Deployed {
    pub created: Vec<String>,
    pub updated: Vec<String>,
    pub kept: Vec<String>,
    /// Services of the stack no longer in the file: removed with `prune`, kept otherwise
    /// (as `docker stack deploy` without `--prune`).
    pub pruned: Vec<String>,
    pub left: Vec<String>,
}

/// Make what [`prepare`] decided, telling `progress` each step; with `prune`, remove the
/// stack's services the file no longer has.
pub async fn apply(
    p: &Policy<'_>,
    prep: Prepared,
    prune: bool,
    progress: &Progress,
) -> AppResult<Deployed> {
    let ep = p.ep;
    for w in &prep.plan.warnings {
        progress.say(None, "warning", w.clone()).await;
    }
    for n in prep.networks {
        let name = n.name.clone();
        {
            let _creating = networks::CREATING.lock().await;
            networks::check_name_free(ep, &name).await?;
            swarm::call(ep, |d| async move { d.create_network(n).await }).await?;
        }
        progress
            .say(None, "network", format!("created network {name}"))
            .await;
    }
    for s in prep.secrets {
        let spec = SecretSpec {
            name: Some(s.name.clone()),
            labels: Some(s.labels),
            data: Some(base64::engine::general_purpose::STANDARD.encode(&s.data)),
            ..Default::default()
        };
        swarm::call(ep, |d| async move { d.create_secret(spec).await }).await?;
        progress
            .say(None, "secret", format!("created secret {}", s.name))
            .await;
    }
    for c in prep.configs {
        let spec = ConfigSpec {
            name: Some(c.name.clone()),
            labels: Some(c.labels),
            data: Some(base64::engine::general_purpose::STANDARD.encode(&c.data)),
            ..Default::default()
        };
        swarm::create_config(ep, &spec).await?;
        progress
            .say(None, "config", format!("created config {}", c.name))
            .await;
    }

    let mut done = Deployed::default();
    for (s, current) in prep.services {
        let name = s.spec.name.clone().unwrap_or_default();
        match current {
            None => {
                let decided = p.service(s.spec, prep.team.as_deref()).await?;
                swarm::call(
                    ep,
                    |d| async move { d.create_service(decided.spec, None).await },
                )
                .await?;
                progress
                    .say(Some(&s.key), "create", format!("created service {name}"))
                    .await;
                done.created.push(s.key);
            }
            Some(current) => {
                let running = current.spec.clone().unwrap_or_default();
                let mut spec = p.service_update(&current, s.spec).await?;
                diff::for_update(&mut spec, &running);
                if !diff::changed(&spec, &running) {
                    progress
                        .say(Some(&s.key), "keep", format!("{name} is up to date"))
                        .await;
                    done.kept.push(s.key);
                    continue;
                }
                let id = current.id.clone().unwrap_or_default();
                let version = current
                    .version
                    .as_ref()
                    .and_then(|v| v.index)
                    .unwrap_or_default() as i32;
                let opts = UpdateServiceOptions {
                    version,
                    ..Default::default()
                };
                swarm::call(ep, |d| async move {
                    d.update_service(&id, spec, opts, None).await
                })
                .await?;
                progress
                    .say(Some(&s.key), "update", format!("updated service {name}"))
                    .await;
                done.updated.push(s.key);
            }
        }
    }
    for o in prep.orphans {
        let name = super::name_of(&o);
        if prune {
            let id = o.id.clone().unwrap_or_default();
            match swarm::call(ep, |d| async move { d.delete_service(&id).await }).await {
                Ok(()) | Err(AppError::NotFound(_)) => {}
                Err(e) => return Err(e),
            }
            progress
                .say(
                    None,
                    "remove",
                    format!("removed service {name}: not in the file"),
                )
                .await;
            done.pruned.push(name);
        } else {
            progress
                .say(
                    None,
                    "keep",
                    format!("{name} is not in the file and keeps running (prune removes it)"),
                )
                .await;
            done.left.push(name);
        }
    }
    Ok(done)
}
