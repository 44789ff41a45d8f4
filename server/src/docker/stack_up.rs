//! `docker-compose up -d` with bollard: networks, volumes, images (built from the stack's
//! folder or pulled), then containers in `depends_on` order, recreating only services whose
//! config hash changed. Every step is reported on a progress channel (ndjson for the API).
//! Images are `stack_images`, the waits between containers and the files written into them
//! `stack_waits`.
//!
//! Authorization: before anything is created, every body's powers are checked (so a save
//! is refused what an `up` would be); then every network, volume, image and container the
//! stack makes or names goes through the one policy (`auth::policy::resolve::Policy`), and
//! the daemon receives exactly the bodies it returns. Networks and volumes of the project
//! that already exist are adopted only when they carry this project's label and team:
//! another team cannot squat `stack_default` or `stack_data` ahead of a deployment.

use std::collections::HashMap;

use bollard::models::{
    ContainerCreateBody, Ipam, IpamConfig, NetworkCreateRequest, VolumeCreateOptions,
};
use bollard::query_parameters::{
    CreateContainerOptions, InspectNetworkOptions, StartContainerOptions,
};
use tokio::sync::mpsc;

use super::stack_spec::{self, ProjectLabels};
use super::stacks::{self as dstacks, label};
use crate::auth::access::TEAM_LABEL;
use crate::auth::policy::resolve::{Create, Policy};
use crate::auth::{policy, CurrentUser};
use crate::error::{AppError, AppResult};
use crate::stacks::labels;
use crate::stacks::model::{Project, ServiceSpec};

/// Where progress goes. A reader that went away does not stop the deployment.
#[derive(Clone)]
pub struct Progress(pub mpsc::Sender<wire::StackProgress>);

impl Progress {
    pub async fn say(&self, service: Option<&str>, step: &str, message: impl Into<String>) {
        let _ = self
            .0
            .send(wire::StackProgress {
                service: service.map(str::to_owned),
                step: step.into(),
                message: message.into(),
                ..Default::default()
            })
            .await;
    }

    pub(super) async fn progress(
        &self,
        service: &str,
        step: &str,
        message: String,
        progress: Option<String>,
    ) {
        let _ = self
            .0
            .send(wire::StackProgress {
                service: Some(service.to_owned()),
                step: step.into(),
                message,
                progress,
                ..Default::default()
            })
            .await;
    }
}

pub struct UpOptions {
    /// Pull every image that is not built, even if present (`pull`).
    pub pull: bool,
    /// Build every image that has `build:`, even if present.
    pub build: bool,
    /// Create the containers without starting them (`docker-compose up --no-start`).
    pub no_start: bool,
    /// The team the stack belongs to.
    pub team: Option<String>,
    pub labels: ProjectLabels,
}

/// One container `up` would make: a service's replica.
struct Prepared<'a> {
    svc: &'a ServiceSpec,
    name: String,
    body: ContainerCreateBody,
    berth_labels: HashMap<String, String>,
}

/// The containers the services run as, by service (their first replica).
fn refs(project: &Project) -> HashMap<String, String> {
    project
        .services
        .iter()
        .map(|s| {
            (
                s.name.clone(),
                stack_spec::container_name(&project.name, s, 1),
            )
        })
        .collect()
}

/// A refusal of a power names the compose key that asks for it, with its line.
fn with_line(svc: &ServiceSpec, e: AppError) -> AppError {
    let AppError::Forbidden(m) = e else {
        return e;
    };
    // The policy's words name the daemon's field; the file's key is what the user wrote.
    const KEYS: &[(&str, &str)] = &[
        ("(privileged)", "privileged"),
        ("network_mode=", "network_mode"),
        ("pid_mode=", "pid"),
        ("ipc_mode=", "ipc"),
        ("uts_mode=", "uts"),
        ("userns_mode=", "userns_mode"),
        ("cgroupns_mode", "cgroup"),
        ("(cap_add)", "cap_add"),
        ("(devices)", "devices"),
        ("(device_requests)", "deploy"),
        ("(binds:", "volumes"),
        ("(mounts", "volumes"),
        ("(volume_driver)", "volume_driver"),
        ("(cgroup_parent)", "cgroup_parent"),
        ("(runtime)", "runtime"),
        ("(security_opt", "security_opt"),
        ("(sysctls", "sysctls"),
    ];
    let mut key = KEYS
        .iter()
        .find(|(needle, _)| m.contains(needle))
        .map(|(_, k)| *k);
    // A host path may come from `secrets:`/`configs:` files as well as `volumes:`.
    if key == Some("volumes") && !svc.lines.contains_key("volumes") {
        key = ["secrets", "configs"]
            .into_iter()
            .find(|k| svc.lines.contains_key(*k));
    }
    if key == Some("devices") && !svc.lines.contains_key("devices") {
        key = ["gpus", "deploy", "device_cgroup_rules"]
            .into_iter()
            .find(|k| svc.lines.contains_key(*k));
    }
    if key == Some("deploy") && !svc.lines.contains_key("deploy") {
        key = Some("gpus");
    }
    if key == Some("network_mode") && !svc.lines.contains_key("network_mode") {
        key = Some("net");
    }
    match key.and_then(|k| svc.lines.get(k).map(|l| (k, l))) {
        Some((k, line)) => {
            AppError::Forbidden(format!("line {line}: service {} ({k}): {m}", svc.name))
        }
        None => AppError::Forbidden(format!("service {}: {m}", svc.name)),
    }
}

/// Check everything `up` would create against the user's powers; nothing touches the daemon.
fn prepare<'a>(
    user: &CurrentUser,
    project: &'a Project,
    opts: &UpOptions,
) -> AppResult<Vec<Prepared<'a>>> {
    let mut out = Vec::new();
    let refs = refs(project);
    for svc in &project.services {
        for n in 1..=svc.replicas {
            let berth_labels = stack_spec::compose_labels(project, svc, &opts.labels, n);
            let body =
                stack_spec::create_body(&project.name, svc, stack_spec::service_labels(svc), &refs);
            let mut stamped = HashMap::new();
            policy::stamp_team(user, &mut stamped, opts.team.as_deref())?;
            policy::check_container_create(user, &body).map_err(|e| with_line(svc, e))?;
            out.push(Prepared {
                svc,
                name: stack_spec::container_name(&project.name, svc, n),
                body,
                berth_labels,
            });
        }
    }
    // A secret's or config's file must be there, as Compose requires.
    for svc in &project.services {
        for m in svc.mounts.iter().filter(|m| m.must_exist) {
            if let crate::stacks::model::MountSource::Bind(path) = &m.source {
                if !std::path::Path::new(path).exists() {
                    return Err(AppError::bad_request(
                        "missing_secret_file",
                        format!(
                            "service {}: the file {path} for {} does not exist",
                            svc.name, m.target
                        ),
                    ));
                }
            }
        }
    }
    for v in project.volumes.iter().filter(|v| !v.external) {
        let opts: HashMap<String, String> = v.driver_opts.clone().into_iter().collect();
        policy::check_volume_create(user, v.driver.as_deref(), &opts)?;
    }
    for n in project.networks.iter().filter(|n| !n.external) {
        policy::check_network_create(user, n.driver.as_deref())?;
    }
    Ok(out)
}

/// Refuse now what `up` would refuse: for a save or a create, before any file is written.
pub fn authorize(user: &CurrentUser, project: &Project, opts: &UpOptions) -> AppResult<()> {
    prepare(user, project, opts).map(|_| ())
}

/// A body without what names the project's own containers (`network_mode:
/// container:<ours>`, links and `volumes_from` to them): those do not exist before the first
/// `up`, so they are decided just before the container is made, on the full body.
fn without_own_refs(body: &ContainerCreateBody, ours: &[String]) -> ContainerCreateBody {
    let mut b = body.clone();
    let is_ours = |s: &str| {
        let name = s.split(':').next().unwrap_or_default();
        ours.iter().any(|o| o == name)
    };
    if let Some(hc) = b.host_config.as_mut() {
        if hc
            .network_mode
            .as_deref()
            .and_then(|m| m.strip_prefix("container:"))
            .is_some_and(is_ours)
        {
            hc.network_mode = None;
        }
        for mode in [&mut hc.pid_mode, &mut hc.ipc_mode] {
            if mode
                .as_deref()
                .and_then(|m| m.strip_prefix("container:"))
                .is_some_and(is_ours)
            {
                *mode = None;
            }
        }
        if let Some(l) = hc.links.as_mut() {
            l.retain(|l| !is_ours(l));
        }
        if let Some(v) = hc.volumes_from.as_mut() {
            v.retain(|v| !is_ours(v));
        }
    }
    b
}

/// Bring a project up. Errors before the first daemon change leave the daemon untouched.
pub async fn up(
    policy: Policy<'_>,
    project: &Project,
    opts: UpOptions,
    progress: &Progress,
) -> AppResult<()> {
    let ep = policy.ep;
    let user = policy.user;
    let prepared = prepare(user, project, &opts)?;
    networks(policy, project, &opts, progress).await?;
    volumes(policy, project, &opts, progress).await?;

    // Images first, all of them: a missing image fails the deployment before any container
    // is replaced.
    let mut image_ids = HashMap::new();
    for svc in &project.services {
        let id = super::stack_images::image(policy, svc, &opts, progress).await?;
        image_ids.insert(svc.name.clone(), id);
    }
    // Then every container's body through the policy, before any container changes (what
    // names the project's own containers is decided again, in full, when they exist).
    let ours: Vec<String> = prepared.iter().map(|p| p.name.clone()).collect();
    for p in &prepared {
        policy
            .container(create_of(p, &opts, without_own_refs(&p.body, &ours)))
            .await
            .map_err(|e| in_service(&p.svc.name, e))?;
    }

    let existing = dstacks::containers(ep, Some(&project.name)).await?;
    let mut i = 0;
    while i < prepared.len() {
        let svc = prepared[i].svc;
        let replicas: Vec<&Prepared> = prepared[i..]
            .iter()
            .take_while(|p| p.svc.name == svc.name)
            .collect();
        i += replicas.len();
        if !opts.no_start {
            super::stack_waits::wait_for_dependencies(ep, project, svc, progress).await?;
        }
        let hash = stack_spec::config_hash(svc, &image_ids[&svc.name]);
        let mine: Vec<_> = existing
            .iter()
            .filter(|c| label(c, labels::SERVICE) == Some(svc.name.as_str()))
            .filter(|c| label(c, labels::ONEOFF) != Some("True"))
            .collect();
        let current = mine
            .iter()
            .filter(|c| label(c, labels::CONFIG_HASH) == Some(hash.as_str()))
            .count();
        if current == mine.len() && mine.len() == replicas.len() {
            for c in &mine {
                let id = c.id.clone().unwrap_or_default();
                if c.state.map(|s| s.to_string()) == Some("running".into()) || opts.no_start {
                    progress.say(Some(&svc.name), "keep", "up to date").await;
                } else {
                    ep.call(|d| async move {
                        d.start_container(&id, None::<StartContainerOptions>).await
                    })
                    .await?;
                    progress.say(Some(&svc.name), "start", "started").await;
                }
            }
            continue;
        }
        let step = if mine.is_empty() {
            "create"
        } else {
            "recreate"
        };
        for c in &mine {
            dstacks::remove_container(ep, c.id.as_deref().unwrap_or_default(), false).await?;
        }
        for p in replicas {
            // The full body, now that the project's containers it names exist.
            let decided = policy
                .container(create_of(p, &opts, p.body.clone()))
                .await
                .map_err(|e| in_service(&svc.name, e))?;
            let mut body = decided.body;
            if let Some(l) = body.labels.as_mut() {
                l.insert(labels::CONFIG_HASH.into(), hash.clone());
            }
            let name = p.name.clone();
            let platform = svc.runtime.platform.clone().unwrap_or_default();
            let created = ep
                .call(|d| {
                    let name = name.clone();
                    async move {
                        d.create_container(
                            Some(CreateContainerOptions {
                                name: Some(name),
                                platform,
                            }),
                            body,
                        )
                        .await
                    }
                })
                .await?;
            for n in svc.networks.iter().skip(1) {
                let req = bollard::models::NetworkConnectRequest {
                    container: Some(created.id.clone()),
                    endpoint_config: Some(stack_spec::endpoint(svc, n)),
                };
                let net = n.name.clone();
                ep.call(|d| async move { d.connect_network(&net, req).await })
                    .await?;
            }
            super::stack_waits::copy_files(ep, &created.id, svc).await?;
            if !opts.no_start {
                let id = created.id.clone();
                ep.call(
                    |d| async move { d.start_container(&id, None::<StartContainerOptions>).await },
                )
                .await?;
            }
            progress
                .say(Some(&svc.name), step, format!("{step}d {name}"))
                .await;
        }
    }

    // Containers of services the file no longer has.
    for c in &existing {
        let service = label(c, labels::SERVICE).unwrap_or_default();
        if !project.services.iter().any(|s| s.name == service) {
            dstacks::remove_container(ep, c.id.as_deref().unwrap_or_default(), false).await?;
            progress
                .say(
                    Some(service),
                    "remove",
                    format!("removed {} (no longer in the file)", dstacks::name_of(c)),
                )
                .await;
        }
    }
    Ok(())
}

fn create_of(p: &Prepared, opts: &UpOptions, body: ContainerCreateBody) -> Create {
    Create {
        body,
        team: opts.team.clone(),
        berth_labels: p.berth_labels.clone(),
        connects: p
            .svc
            .networks
            .iter()
            .skip(1)
            .map(|n| n.name.clone())
            .collect(),
    }
}

/// A refusal about one service names it.
pub(super) fn in_service(service: &str, e: AppError) -> AppError {
    match e {
        AppError::Forbidden(m) => AppError::Forbidden(format!("service {service}: {m}")),
        AppError::NotFound(m) => AppError::NotFound(format!("service {service}: {m}")),
        AppError::Conflict(m) => AppError::Conflict(format!("service {service}: {m}")),
        other => other,
    }
}

/// An existing network or volume of the project is adopted only when it is this stack's:
/// labelled with this project and owned by the stack's team. Anything else of that name is
/// a 409 naming it, never used: another team could otherwise create `stack_data` before
/// the stack is deployed and read what it writes.
fn adoptable(
    kind: &str,
    name: &str,
    project: &str,
    team: Option<&str>,
    found: &HashMap<String, String>,
) -> AppResult<()> {
    let theirs_team = found.get(TEAM_LABEL).map(String::as_str).unwrap_or("");
    let same_project = found.get(labels::PROJECT).map(String::as_str) == Some(project);
    if same_project && theirs_team == team.unwrap_or("") {
        return Ok(());
    }
    Err(AppError::Conflict(format!(
        "a {kind} named {name} already exists and was not made for this stack by its team: \
         rename the stack, remove the {kind}, or declare it `external: true` if it is yours"
    )))
}

async fn networks(
    policy: Policy<'_>,
    project: &Project,
    opts: &UpOptions,
    progress: &Progress,
) -> AppResult<()> {
    let ep = policy.ep;
    for n in &project.networks {
        let missing = || {
            AppError::bad_request(
                "missing_external_network",
                format!("network {} is declared external but does not exist", n.name),
            )
        };
        if n.external {
            // Another team's answers as a missing one.
            match policy.network(&n.name).await {
                Ok(_) => continue,
                Err(AppError::NotFound(_)) => return Err(missing()),
                Err(e) => return Err(e),
            }
        }
        let name = n.name.clone();
        let found = ep
            .call(|d| async move {
                d.inspect_network(&name, None::<InspectNetworkOptions>)
                    .await
            })
            .await;
        match found {
            Ok(existing) => {
                let labels = existing.labels.unwrap_or_default();
                adoptable(
                    "network",
                    &n.name,
                    &project.name,
                    opts.team.as_deref(),
                    &labels,
                )?;
                continue;
            }
            Err(AppError::NotFound(_)) => {}
            Err(e) => return Err(e),
        }
        policy::check_network_create(policy.user, n.driver.as_deref())?;
        let mut l: HashMap<String, String> = n.labels.clone().into_iter().collect();
        l.retain(|k, _| !policy::reserved_label(k));
        l.insert(labels::PROJECT.into(), project.name.clone());
        l.insert(labels::NETWORK.into(), n.key.clone());
        l.insert(labels::VERSION.into(), labels::COMPOSE_VERSION.into());
        policy::stamp_team(policy.user, &mut l, opts.team.as_deref())?;
        let req = NetworkCreateRequest {
            name: n.name.clone(),
            driver: Some(n.driver.clone().unwrap_or_else(|| "bridge".into())),
            internal: Some(n.internal),
            options: Some(n.driver_opts.clone().into_iter().collect()),
            labels: Some(l),
            ipam: (!n.ipam.is_empty() || n.ipam_driver.is_some()).then(|| Ipam {
                driver: n.ipam_driver.clone(),
                config: Some(
                    n.ipam
                        .iter()
                        .map(|(subnet, gateway)| IpamConfig {
                            subnet: Some(subnet.clone()),
                            gateway: gateway.clone(),
                            ..Default::default()
                        })
                        .collect(),
                ),
                options: None,
            }),
            ..Default::default()
        };
        // Two networks of one name make both unusable by name ("ambiguous"); the daemon
        // 20.10 allows it, so the name is checked under the lock every create takes.
        {
            let _creating = crate::docker::networks::CREATING.lock().await;
            crate::docker::networks::check_name_free(ep, &n.name).await?;
            ep.call(|d| async move { d.create_network(req).await })
                .await?;
        }
        progress
            .say(None, "network", format!("created network {}", n.name))
            .await;
    }
    Ok(())
}

async fn volumes(
    policy: Policy<'_>,
    project: &Project,
    opts: &UpOptions,
    progress: &Progress,
) -> AppResult<()> {
    let ep = policy.ep;
    for v in &project.volumes {
        if v.external {
            // Mountable by this user (theirs or shared, not reaching the host), or missing.
            match policy.volume(&v.name, "", None, false).await {
                Ok(()) => continue,
                Err(AppError::NotFound(_)) => {
                    return Err(AppError::bad_request(
                        "missing_external_volume",
                        format!("volume {} is declared external but does not exist", v.name),
                    ))
                }
                Err(e) => return Err(e),
            }
        }
        let name = v.name.clone();
        match ep
            .call(|d| async move { d.inspect_volume(&name).await })
            .await
        {
            Ok(existing) => {
                adoptable(
                    "volume",
                    &v.name,
                    &project.name,
                    opts.team.as_deref(),
                    &existing.labels,
                )?;
                // Ours, but made before with options that reach the host: mounting it is
                // still a host power.
                policy.volume(&v.name, "", None, false).await?;
                continue;
            }
            Err(AppError::NotFound(_)) => {}
            Err(e) => return Err(e),
        }
        let opts_map: HashMap<String, String> = v.driver_opts.clone().into_iter().collect();
        policy::check_volume_create(policy.user, v.driver.as_deref(), &opts_map)?;
        let mut l: HashMap<String, String> = v.labels.clone().into_iter().collect();
        l.retain(|k, _| !policy::reserved_label(k));
        l.insert(labels::PROJECT.into(), project.name.clone());
        l.insert(labels::VOLUME.into(), v.key.clone());
        l.insert(labels::VERSION.into(), labels::COMPOSE_VERSION.into());
        policy::stamp_team(policy.user, &mut l, opts.team.as_deref())?;
        let req = VolumeCreateOptions {
            name: Some(v.name.clone()),
            driver: v.driver.clone(),
            driver_opts: Some(opts_map),
            labels: Some(l),
            ..Default::default()
        };
        ep.call(|d| async move { d.create_volume(req).await })
            .await?;
        progress
            .say(None, "volume", format!("created volume {}", v.name))
            .await;
    }
    Ok(())
}
