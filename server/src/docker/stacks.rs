//! Compose projects on the daemon, found by their labels: whoever started them (berth or
//! the compose CLI). Listing, per-service state, stop/start/restart and down.

use std::collections::{BTreeMap, HashMap};

use bollard::models::ContainerSummary;
use bollard::query_parameters::{
    ListContainersOptions, ListNetworksOptions, ListVolumesOptions, RemoveContainerOptions,
    RestartContainerOptions, StartContainerOptions, StopContainerOptions,
};

use super::Endpoint;
use crate::auth::access::TEAM_LABEL;
use crate::auth::CurrentUser;
use crate::error::{AppError, AppResult};
use crate::stacks::labels;

/// Every container of one project (or of every project), running or not, one-off ones too.
pub async fn containers(ep: &Endpoint, project: Option<&str>) -> AppResult<Vec<ContainerSummary>> {
    let filter = match project {
        Some(p) => labels::filter(labels::PROJECT, p),
        None => labels::PROJECT.to_owned(),
    };
    let opts = ListContainersOptions {
        all: true,
        filters: Some(HashMap::from([("label".to_owned(), vec![filter])])),
        ..Default::default()
    };
    let mut rows = ep
        .call(|d| async move { d.list_containers(Some(opts)).await })
        .await?;
    rows.sort_by_key(name_of);
    Ok(rows)
}

pub fn label<'a>(c: &'a ContainerSummary, key: &str) -> Option<&'a str> {
    c.labels
        .as_ref()
        .and_then(|l| l.get(key))
        .map(String::as_str)
}

pub fn name_of(c: &ContainerSummary) -> String {
    c.names
        .as_ref()
        .and_then(|n| n.first())
        .map(|n| n.trim_start_matches('/').to_owned())
        .unwrap_or_else(|| c.id.clone().unwrap_or_default())
}

fn running(c: &ContainerSummary) -> bool {
    c.state.map(|s| s.to_string()) == Some("running".into())
}

/// `running`, `partial`, `stopped` or `down`.
pub fn status_of(containers: &[&ContainerSummary]) -> String {
    let up = containers.iter().filter(|c| running(c)).count();
    match (containers.len(), up) {
        (0, _) => "down",
        (n, u) if n == u => "running",
        (_, 0) => "stopped",
        _ => "partial",
    }
    .into()
}

/// What berth knows of a managed stack, for the list.
pub struct Managed {
    pub name: String,
    pub services: Vec<String>,
    pub team: Option<String>,
}

/// Whether a user may see a stack: its team (from berth's record, or its containers' team
/// label) is theirs, or they are admin. A project the compose CLI started carries no team
/// label: only admins see it.
pub fn visible(user: &CurrentUser, team: Option<&str>, shared: bool) -> bool {
    let mut l = BTreeMap::new();
    if let Some(t) = team {
        l.insert(TEAM_LABEL.to_owned(), t.to_owned());
    }
    if shared {
        l.insert(crate::auth::access::SHARED_LABEL.to_owned(), "true".into());
    }
    user.can_see_map(&l)
}

/// Every stack: the managed ones (with or without containers) and every other project the
/// daemon has containers of. Filtered to what `user` may see.
pub async fn list(
    ep: &Endpoint,
    user: &CurrentUser,
    managed: Vec<Managed>,
) -> AppResult<Vec<wire::StackSummary>> {
    let all = containers(ep, None).await?;
    let mut by_project: BTreeMap<String, Vec<&ContainerSummary>> = BTreeMap::new();
    for c in &all {
        // An empty project is berth blanking an image's `LABEL com.docker.compose.project`.
        if let Some(p) = label(c, labels::PROJECT).filter(|p| !p.is_empty()) {
            by_project.entry(p.to_owned()).or_default().push(c);
        }
    }
    let mut out = Vec::new();
    for m in &managed {
        let cs = by_project.remove(&m.name).unwrap_or_default();
        if !visible(user, m.team.as_deref(), false) {
            continue;
        }
        out.push(summary(
            &m.name,
            &cs,
            Some(m.services.clone()),
            true,
            m.team.clone(),
        ));
    }
    for (name, cs) in by_project {
        if !cs
            .iter()
            .all(|c| user.can_see(|k| c.labels.as_ref().and_then(|l| l.get(k)).map(String::as_str)))
        {
            continue;
        }
        let team = cs
            .iter()
            .find_map(|c| label(c, TEAM_LABEL))
            .map(str::to_owned);
        out.push(summary(&name, &cs, None, false, team));
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

fn summary(
    name: &str,
    cs: &[&ContainerSummary],
    services: Option<Vec<String>>,
    managed: bool,
    team: Option<String>,
) -> wire::StackSummary {
    let services = services.unwrap_or_else(|| {
        let mut s: Vec<String> = cs
            .iter()
            .filter_map(|c| label(c, labels::SERVICE).map(str::to_owned))
            .collect();
        s.sort();
        s.dedup();
        s
    });
    wire::StackSummary {
        name: name.to_owned(),
        services,
        status: status_of(cs),
        managed,
        containers: cs.len(),
        running: cs.iter().filter(|c| running(c)).count(),
        team,
        mode: "compose".into(),
        swarm_services: vec![],
    }
}

/// Per-service state: the services of the file (in order) and of the containers.
pub fn services(cs: &[ContainerSummary], declared: &[(String, String)]) -> Vec<wire::ServiceState> {
    let mut order: Vec<(String, Option<String>)> = declared
        .iter()
        .map(|(s, i)| (s.clone(), Some(i.clone())))
        .collect();
    for c in cs {
        if let Some(s) = label(c, labels::SERVICE) {
            if !order.iter().any(|(o, _)| o == s) {
                order.push((s.to_owned(), None));
            }
        }
    }
    order
        .into_iter()
        .map(|(service, image)| {
            let mine: Vec<&ContainerSummary> = cs
                .iter()
                .filter(|c| label(c, labels::SERVICE) == Some(service.as_str()))
                .collect();
            wire::ServiceState {
                status: status_of(&mine),
                image: image.or_else(|| mine.first().and_then(|c| c.image.clone())),
                containers: mine.into_iter().map(stack_container).collect(),
                service,
            }
        })
        .collect()
}

fn stack_container(c: &ContainerSummary) -> wire::StackContainer {
    let networks = c
        .network_settings
        .as_ref()
        .and_then(|n| n.networks.as_ref())
        .map(|n| {
            n.iter()
                .map(|(k, v)| (k.clone(), v.ip_address.clone().unwrap_or_default()))
                .collect()
        })
        .unwrap_or_default();
    wire::StackContainer {
        id: c.id.clone().unwrap_or_default(),
        name: name_of(c),
        state: c.state.map(|s| s.to_string()).unwrap_or_default(),
        status: c.status.clone().unwrap_or_default(),
        image: c.image.clone().unwrap_or_default(),
        ports: c
            .ports
            .iter()
            .flatten()
            .map(|p| wire::PortMapping {
                host_ip: p.ip.clone(),
                host_port: p.public_port,
                container_port: p.private_port,
                protocol: p.typ.map(|t| t.to_string()).unwrap_or_else(|| "tcp".into()),
            })
            .collect(),
        networks,
    }
}

/// Refuse unless the user may act (with `role`) on every one of these containers.
pub fn check_all(user: &CurrentUser, cs: &[ContainerSummary], role: wire::Role) -> AppResult<()> {
    user.require(role)?;
    for c in cs {
        let ok = user.can_see(|k| c.labels.as_ref().and_then(|l| l.get(k)).map(String::as_str));
        if !ok {
            return Err(AppError::Forbidden(format!(
                "container {} of this stack belongs to another team than {}'s",
                name_of(c),
                user.username
            )));
        }
    }
    Ok(())
}

/// Stop, start or restart every container of a project (dependencies first on start).
pub async fn act(ep: &Endpoint, cs: &[ContainerSummary], action: &str) -> AppResult<()> {
    for c in cs {
        let id = c.id.clone().unwrap_or_default();
        match action {
            "stop" => {
                ep.call(|d| async move {
                    d.stop_container(
                        &id,
                        Some(StopContainerOptions {
                            // No timeout: the daemon waits the container's own (`stop_grace_period`, 10 s by default).
                            t: None,
                            signal: None,
                        }),
                    )
                    .await
                })
                .await?
            }
            "start" => {
                ep.call(
                    |d| async move { d.start_container(&id, None::<StartContainerOptions>).await },
                )
                .await?
            }
            _ => {
                ep.call(|d| async move {
                    d.restart_container(
                        &id,
                        Some(RestartContainerOptions {
                            // No timeout: the daemon waits the container's own (`stop_grace_period`, 10 s by default).
                            t: None,
                            signal: None,
                        }),
                    )
                    .await
                })
                .await?
            }
        }
    }
    Ok(())
}

/// Remove a container, stopping it first (with its `stop_grace_period`, 10 s by default). `volumes`: its
/// anonymous volumes go too (a `down -v`); otherwise they are left, as Compose leaves them.
pub async fn remove_container(ep: &Endpoint, id: &str, volumes: bool) -> AppResult<()> {
    let id1 = id.to_owned();
    let _ = ep
        .call(|d| async move {
            d.stop_container(
                &id1,
                Some(StopContainerOptions {
                    // No timeout: the daemon waits the container's own (`stop_grace_period`, 10 s by default).
                    t: None,
                    signal: None,
                }),
            )
            .await
        })
        .await;
    let id2 = id.to_owned();
    match ep
        .call(|d| async move {
            d.remove_container(
                &id2,
                Some(RemoveContainerOptions {
                    force: true,
                    v: volumes,
                    link: false,
                }),
            )
            .await
        })
        .await
    {
        Ok(()) | Err(AppError::NotFound(_)) => Ok(()),
        Err(e) => Err(e),
    }
}

/// `docker-compose down [-v]`: the project's containers, then its networks, then (if asked)
/// its volumes — each found by the project label, so a CLI-started project goes too.
pub async fn down(
    ep: &Endpoint,
    project: &str,
    cs: &[ContainerSummary],
    volumes: bool,
) -> AppResult<wire::StackDown> {
    let mut out = wire::StackDown::default();
    for c in cs {
        remove_container(ep, c.id.as_deref().unwrap_or_default(), volumes).await?;
        out.containers.push(name_of(c));
    }
    let filter = HashMap::from([(
        "label".to_owned(),
        vec![labels::filter(labels::PROJECT, project)],
    )]);
    let f = filter.clone();
    let nets = ep
        .call(|d| async move {
            d.list_networks(Some(ListNetworksOptions { filters: Some(f) }))
                .await
        })
        .await?;
    for n in nets {
        let name = n.name.clone().unwrap_or_default();
        let id = n.id.clone().unwrap_or_default();
        match ep
            .call(|d| async move { d.remove_network(&id).await })
            .await
        {
            Ok(()) | Err(AppError::NotFound(_)) => out.networks.push(name),
            Err(e) => return Err(e),
        }
    }
    if volumes {
        let f = filter.clone();
        let vols = ep
            .call(|d| async move {
                d.list_volumes(Some(ListVolumesOptions { filters: Some(f) }))
                    .await
            })
            .await?;
        for v in vols.volumes.unwrap_or_default() {
            let name = v.name.clone();
            match ep
                .call(|d| async move {
                    d.remove_volume(
                        &name,
                        None::<bollard::query_parameters::RemoveVolumeOptions>,
                    )
                    .await
                })
                .await
            {
                Ok(()) | Err(AppError::NotFound(_)) => out.volumes.push(v.name),
                Err(e) => return Err(e),
            }
        }
    }
    Ok(out)
}
