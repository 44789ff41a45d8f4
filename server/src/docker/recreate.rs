//! Recreate a container on a new image, health-gated, rolled back on failure: what a
//! container webhook and an image update do.
//!
//! The new container is made from the old one's inspect, as Watchtower does
//! (`pkg/container/container.go` `GetCreateConfig`): settings that only came from the old
//! image (its `ENV`, `CMD`, `ENTRYPOINT`, `WORKDIR`, labels, exposed ports, volumes) are left
//! out so the new image's take their place; everything the user set is kept. The body goes
//! through the one policy as the acting user, like every create. The old container is
//! stopped and renamed, not removed, until the new one has passed the health gate: a
//! failure stops and removes the new one and starts the old one again under its name.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use bollard::auth::DockerCredentials;
use bollard::models::{
    ContainerConfig, ContainerCreateBody, ContainerInspectResponse, EndpointSettings, HostConfig,
    ImageConfig, Mount, MountPointTypeEnum, MountTypeEnum, NetworkingConfig,
};
use bollard::query_parameters::{
    CreateContainerOptions, RenameContainerOptions, StartContainerOptions, StopContainerOptions,
};
use wire::Role;

use super::reference::Reference;
use super::stack_up::Progress;
use super::{progress, settle, Endpoint};
use crate::auth::access::{self, TEAM_LABEL};
use crate::auth::policy::resolve::{Create, Policy};
use crate::error::{AppError, AppResult};

/// What to deploy.
pub struct Plan {
    /// The image to run: the container's own reference, or it with another tag.
    pub image: String,
    pub pull: bool,
    /// Credentials of the image's registry (stored ones), for the pull.
    pub credentials: Option<DockerCredentials>,
    /// How long a container without a healthcheck must run without restarting.
    pub window: Duration,
}

/// The image reference a container was created with, and the same with `tag` instead of
/// its tag (or digest).
pub fn retag(image: &str, tag: Option<&str>) -> AppResult<String> {
    let Some(tag) = tag else {
        return Ok(image.to_owned());
    };
    let r = Reference::parse("image", image)?;
    Ok(format!("{}:{tag}", r.name))
}

/// Pull `image`, the daemon's progress reported; its id afterwards.
pub async fn pull(
    policy: Policy<'_>,
    image: &str,
    credentials: Option<DockerCredentials>,
    service: &str,
    progress: &Progress,
) -> AppResult<String> {
    let reference = Reference::parse("image", image)?;
    let target = reference.full();
    let fresh = policy
        .image_write(std::slice::from_ref(&target), true)
        .await?;
    progress
        .say(Some(service), "pull", format!("pulling {image}"))
        .await;
    let mut lines = progress::pull(policy.ep, reference, credentials).await?;
    let mut id = None;
    while let Some(line) = lines.recv().await {
        let line = line?;
        if let Some(done) = line.done {
            id = done.id;
            continue;
        }
        // Byte counts of layers are for progress bars, not for a log.
        if line.progress.is_some() || line.progress_detail.is_some() {
            continue;
        }
        let text = [line.id, line.status]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(": ");
        if !text.is_empty() {
            progress.say(Some(service), "pull", text).await;
        }
    }
    policy.image_written(&fresh, None).await?;
    match id {
        Some(id) => Ok(id),
        None => Ok(policy.image_use(image).await?.id),
    }
}

/// Redeploy the container `reference` on `plan.image`.
pub async fn redeploy(
    policy: Policy<'_>,
    reference: &str,
    plan: Plan,
    progress: &Progress,
) -> AppResult<()> {
    let ep = policy.ep;
    let old = access::container_info(policy.user, ep, reference, Role::Operator).await?;
    let old_id = old.id.clone().unwrap_or_default();
    let name = old
        .name
        .clone()
        .unwrap_or_default()
        .trim_start_matches('/')
        .to_owned();
    let old_image = old.image.clone().unwrap_or_default();
    let was_running = old.state.as_ref().and_then(|s| s.running) == Some(true);

    let new_image_id = if plan.pull {
        pull(
            policy,
            &plan.image,
            plan.credentials.clone(),
            &name,
            progress,
        )
        .await?
    } else {
        policy
            .image_use(&plan.image)
            .await
            .map_err(|e| crate::auth::policy::images::missing_for_use(&plan.image, e))?
            .id
    };
    let same_ref = old.config.as_ref().and_then(|c| c.image.as_deref()) == Some(&plan.image);
    if new_image_id == old_image && same_ref && was_running {
        progress
            .say(
                Some(&name),
                "keep",
                format!("{name} already runs {} ({})", plan.image, short(&old_image)),
            )
            .await;
        return Ok(());
    }

    let old_image_cfg = image_config(ep, &old_image).await;
    let (body, connects) = body_from(&old, old_image_cfg.as_ref(), &plan.image, policy.admin());
    let team = old
        .config
        .as_ref()
        .and_then(|c| c.labels.as_ref())
        .and_then(|l| l.get(TEAM_LABEL))
        .filter(|t| !t.is_empty())
        .cloned();
    let decided = policy
        .container(Create {
            body,
            team,
            berth_labels: HashMap::new(),
            connects: connects.iter().map(|(n, _)| n.clone()).collect(),
        })
        .await?;

    // Out of the way, not gone: the old container is what a failure goes back to.
    let parked = format!("{name}-berth-old-{}", short(&old_id));
    if was_running {
        stop(ep, &old_id).await?;
    }
    rename(ep, &old_id, &parked).await?;
    progress
        .say(
            Some(&name),
            "stop",
            format!("stopped {name} ({})", short(&old_image)),
        )
        .await;

    let attempt = async {
        let created = ep
            .call(|d| {
                let name = name.clone();
                let body = decided.body.clone();
                async move {
                    d.create_container(
                        Some(CreateContainerOptions {
                            name: Some(name),
                            platform: String::new(),
                        }),
                        body,
                    )
                    .await
                }
            })
            .await?;
        let new_id = created.id.clone();
        for (net, endpoint) in &connects {
            let req = bollard::models::NetworkConnectRequest {
                container: Some(new_id.clone()),
                endpoint_config: Some(endpoint.clone()),
            };
            let net = net.clone();
            ep.call(|d| async move { d.connect_network(&net, req).await })
                .await?;
        }
        let id = new_id.clone();
        ep.call(|d| async move { d.start_container(&id, None::<StartContainerOptions>).await })
            .await?;
        progress
            .say(
                Some(&name),
                "recreate",
                format!(
                    "started {name} on {} ({})",
                    plan.image,
                    short(&new_image_id)
                ),
            )
            .await;
        progress
            .say(
                Some(&name),
                "health",
                format!(
                    "waiting until {name} is healthy (or running {} s without restarting)",
                    plan.window.as_secs()
                ),
            )
            .await;
        Ok::<_, AppError>(new_id)
    };
    let new_id = match attempt.await {
        Ok(id) => match settle::settle(ep, &id, &name, plan.window).await {
            Ok(()) => Ok(id),
            Err(e) => Err((Some(id), e)),
        },
        Err(e) => Err((None, e)),
    };
    match new_id {
        Ok(_) => {
            super::stacks::remove_container(ep, &old_id, false).await?;
            progress
                .say(Some(&name), "health", format!("{name} is up"))
                .await;
            Ok(())
        }
        Err((made, e)) => {
            progress
                .say(Some(&name), "rollback", format!("{e}: rolling back"))
                .await;
            if let Some(id) = made {
                super::stacks::remove_container(ep, &id, false).await?;
            } else if let Ok(info) =
                access::container_info(policy.user, ep, &name, Role::Operator).await
            {
                // Made but not started (a connect or start failed): not the parked one.
                if info.id.as_deref() != Some(old_id.as_str()) {
                    super::stacks::remove_container(ep, &info.id.unwrap_or_default(), false)
                        .await?;
                }
            }
            rename(ep, &old_id, &name).await?;
            if was_running {
                let id = old_id.clone();
                ep.call(
                    |d| async move { d.start_container(&id, None::<StartContainerOptions>).await },
                )
                .await?;
            }
            progress
                .say(
                    Some(&name),
                    "rollback",
                    format!(
                        "rolled back: {name} runs {} again",
                        old.config
                            .as_ref()
                            .and_then(|c| c.image.clone())
                            .unwrap_or_else(|| short(&old_image).to_owned())
                    ),
                )
                .await;
            Err(rolled_back(e))
        }
    }
}

/// The deploy's failure, saying the old container is back.
fn rolled_back(e: AppError) -> AppError {
    AppError::coded(
        http::StatusCode::CONFLICT,
        if e.code() == "deploy_unhealthy" {
            "deploy_unhealthy"
        } else {
            "deploy_failed"
        },
        format!("{e} (rolled back to the previous container)"),
    )
}

pub fn short(id: &str) -> &str {
    let id = id.strip_prefix("sha256:").unwrap_or(id);
    &id[..id.len().min(12)]
}

async fn stop(ep: &Endpoint, id: &str) -> AppResult<()> {
    let id = id.to_owned();
    ep.call(|d| async move {
        d.stop_container(
            &id,
            Some(StopContainerOptions {
                t: Some(10),
                signal: None,
            }),
        )
        .await
    })
    .await
}

async fn rename(ep: &Endpoint, id: &str, name: &str) -> AppResult<()> {
    let (id, name) = (id.to_owned(), name.to_owned());
    ep.call(|d| async move {
        d.rename_container(&id, RenameContainerOptions { name })
            .await
    })
    .await
}

async fn image_config(ep: &Endpoint, id: &str) -> Option<ImageConfig> {
    let id = id.to_owned();
    ep.call(|d| async move { d.inspect_image(&id).await })
        .await
        .ok()
        .and_then(|i| i.config)
}

/// The create body of a container like `old` on `image`, and the networks it joins after
/// it is made (API 1.41 takes one at create).
pub fn body_from(
    old: &ContainerInspectResponse,
    image_cfg: Option<&ImageConfig>,
    image: &str,
    admin: bool,
) -> (ContainerCreateBody, Vec<(String, EndpointSettings)>) {
    let c: ContainerConfig = old.config.clone().unwrap_or_default();
    let img = image_cfg.cloned().unwrap_or_default();
    let old_id = old.id.clone().unwrap_or_default();
    let from_image = |mine: &Option<Vec<String>>, theirs: &Option<Vec<String>>| {
        if mine == theirs {
            None
        } else {
            mine.clone()
        }
    };
    let image_env: HashSet<&String> = img.env.iter().flatten().collect();
    let env: Vec<String> = c
        .env
        .iter()
        .flatten()
        .filter(|e| !image_env.contains(e))
        .cloned()
        .collect();
    let image_labels = img.labels.clone().unwrap_or_default();
    let labels: HashMap<String, String> = c
        .labels
        .clone()
        .unwrap_or_default()
        .into_iter()
        .filter(|(k, v)| image_labels.get(k) != Some(v))
        .collect();
    let minus = |mine: &Option<HashMap<String, HashMap<(), ()>>>,
                 theirs: &Option<HashMap<String, HashMap<(), ()>>>| {
        let theirs = theirs.clone().unwrap_or_default();
        let left: HashMap<_, _> = mine
            .clone()
            .unwrap_or_default()
            .into_iter()
            .filter(|(k, _)| !theirs.contains_key(k))
            .collect();
        (!left.is_empty()).then_some(left)
    };
    // The daemon names a container's host after its id unless told otherwise.
    let hostname = c
        .hostname
        .clone()
        .filter(|h| !h.is_empty() && !old_id.starts_with(h.as_str()));

    let mut hc: HostConfig = old.host_config.clone().unwrap_or_default();
    if !admin {
        // The daemon's default, reported back: the user could not have asked for `host`.
        hc.cgroupns_mode = None;
    }
    // Anonymous volumes (an image's `VOLUME` with no name given) stay with the service:
    // mounted on the new container by name, as Compose does.
    let named: HashSet<String> = hc
        .binds
        .iter()
        .flatten()
        .filter_map(|b| b.split(':').nth(1).map(str::to_owned))
        .chain(hc.mounts.iter().flatten().filter_map(|m| m.target.clone()))
        .collect();
    let mut mounts = hc.mounts.clone().unwrap_or_default();
    for m in old.mounts.iter().flatten() {
        let (Some(MountPointTypeEnum::VOLUME), Some(vol), Some(dest)) =
            (m.typ, m.name.as_ref(), m.destination.as_ref())
        else {
            continue;
        };
        if !named.contains(dest) {
            mounts.push(Mount {
                typ: Some(MountTypeEnum::VOLUME),
                source: Some(vol.clone()),
                target: Some(dest.clone()),
                read_only: m.rw.map(|rw| !rw),
                ..Default::default()
            });
        }
    }
    hc.mounts = (!mounts.is_empty()).then_some(mounts);

    // Networks: the primary one at create, the others connected after.
    let nets = old
        .network_settings
        .as_ref()
        .and_then(|n| n.networks.clone())
        .unwrap_or_default();
    let primary = hc.network_mode.clone().unwrap_or_default();
    let endpoint = |e: &EndpointSettings| EndpointSettings {
        ipam_config: e.ipam_config.clone(),
        aliases: e.aliases.as_ref().map(|a| {
            a.iter()
                .filter(|a| !old_id.starts_with(a.as_str()))
                .cloned()
                .collect()
        }),
        links: e.links.clone(),
        driver_opts: e.driver_opts.clone(),
        ..Default::default()
    };
    let mut endpoints = HashMap::new();
    let mut connects = Vec::new();
    let mut sorted: Vec<_> = nets.iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(b.0));
    for (net, e) in sorted {
        if *net == primary || (primary == "default" && net == "bridge") {
            endpoints.insert(net.clone(), endpoint(e));
        } else if !primary.starts_with("container:") && primary != "host" && primary != "none" {
            connects.push((net.clone(), endpoint(e)));
        }
    }

    let body = ContainerCreateBody {
        hostname,
        domainname: c.domainname.clone().filter(|d| !d.is_empty()),
        user: c
            .user
            .clone()
            .filter(|u| !u.is_empty() && Some(u) != img.user.as_ref()),
        attach_stdin: c.attach_stdin,
        attach_stdout: c.attach_stdout,
        attach_stderr: c.attach_stderr,
        exposed_ports: minus(&c.exposed_ports, &img.exposed_ports),
        tty: c.tty,
        open_stdin: c.open_stdin,
        stdin_once: c.stdin_once,
        env: (!env.is_empty()).then_some(env),
        cmd: from_image(&c.cmd, &img.cmd),
        healthcheck: if c.healthcheck == img.healthcheck {
            None
        } else {
            c.healthcheck.clone()
        },
        image: Some(image.to_owned()),
        volumes: minus(&c.volumes, &img.volumes),
        working_dir: c
            .working_dir
            .clone()
            .filter(|w| !w.is_empty() && Some(w) != img.working_dir.as_ref()),
        entrypoint: from_image(&c.entrypoint, &img.entrypoint),
        labels: Some(labels),
        stop_signal: c
            .stop_signal
            .clone()
            .filter(|s| Some(s) != img.stop_signal.as_ref()),
        stop_timeout: c.stop_timeout,
        host_config: Some(hc),
        networking_config: (!endpoints.is_empty()).then_some(NetworkingConfig {
            endpoints_config: Some(endpoints),
        }),
        ..Default::default()
    };
    (body, connects)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_switched_on_the_name() {
        assert_eq!(
            retag("127.0.0.1:5000/app:v1", Some("v2")).unwrap(),
            "127.0.0.1:5000/app:v2"
        );
        assert_eq!(retag("app", Some("2")).unwrap(), "app:2");
        assert_eq!(retag("app:1", None).unwrap(), "app:1");
    }

    #[test]
    fn what_came_from_the_image_is_left_to_the_new_one() {
        let old = ContainerInspectResponse {
            id: Some("abcdef0123456789".into()),
            config: Some(ContainerConfig {
                hostname: Some("abcdef012345".into()),
                env: Some(vec!["PATH=/bin".into(), "MINE=1".into()]),
                cmd: Some(vec!["sh".into()]),
                labels: Some(HashMap::from([
                    ("from.image".into(), "x".into()),
                    ("mine".into(), "y".into()),
                ])),
                ..Default::default()
            }),
            host_config: Some(HostConfig {
                network_mode: Some("default".into()),
                ..Default::default()
            }),
            ..Default::default()
        };
        let img = ImageConfig {
            env: Some(vec!["PATH=/bin".into()]),
            cmd: Some(vec!["sh".into()]),
            labels: Some(HashMap::from([("from.image".into(), "x".into())])),
            ..Default::default()
        };
        let (body, connects) = body_from(&old, Some(&img), "app:2", false);
        assert_eq!(body.image.as_deref(), Some("app:2"));
        assert_eq!(body.env, Some(vec!["MINE=1".to_string()]));
        assert_eq!(body.cmd, None);
        assert_eq!(body.hostname, None);
        assert_eq!(
            body.labels,
            Some(HashMap::from([("mine".to_string(), "y".to_string())]))
        );
        assert!(connects.is_empty());
    }
}
