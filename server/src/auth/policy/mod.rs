//! The one policy: what a user may ask the daemon to create or change.
//!
//! Two halves. This module judges *powers* on the parsed body the daemon will receive
//! (bollard's `ContainerCreateBody`): privileged mode, host namespaces, capabilities, devices
//! and host paths — through `Binds`, `Mounts` or volume driver options — are admin powers.
//! [`resolve`] judges *references*: every network, volume, container, image and stack name a
//! request names is turned into the resource the daemon will use, and its owner checked.
//! Every path that makes or changes a workload (the create form and run-once, the stack
//! engine's networks, volumes and containers, network connect) goes through
//! [`resolve::Policy`]; nothing else decides. The anchors in this field shipped their worst
//! bugs exactly where one of those was forgotten on one path.

pub mod build;
pub mod images;
pub mod resolve;
pub mod services;

use std::collections::HashMap;

use bollard::models::{ContainerCreateBody, HostConfig, MountTypeEnum};
use wire::Role;

use super::access::TEAM_LABEL;
use super::CurrentUser;
use crate::error::{AppError, AppResult};

/// Labels only berth sets: its own (`berth.*`) and Compose's project labels. Whatever a
/// request body, a compose file's `labels:` or an image's `LABEL` says for these is replaced
/// by what berth decides from who creates the resource.
pub fn reserved_label(key: &str) -> bool {
    key.starts_with("berth.") || key.starts_with("com.docker.compose.")
}

fn refuse(what: &str) -> AppError {
    AppError::Forbidden(format!("only an admin may create containers with {what}"))
}

/// A namespace mode that joins the host's namespace. (`container:X` joins another
/// container's: [`resolve`] checks X is the user's.)
fn host_namespace(mode: Option<&str>) -> bool {
    mode.is_some_and(|m| m == "host")
}

/// Volume driver options that make a "volume" a host path (`-o type=none -o o=bind -o device=/`).
pub fn volume_options_reach_host(opts: &HashMap<String, String>) -> bool {
    opts.keys()
        .any(|k| k == "device" || k == "o" || k == "type")
}

/// Refuse a container create body that needs host-level powers, unless the user is admin.
/// This judges powers only; [`resolve::Policy::container`] also resolves what the body
/// names, and is what every create path calls.
pub fn check_container_create(user: &CurrentUser, body: &ContainerCreateBody) -> AppResult<()> {
    user.require(Role::Operator)?;
    if user.role == Role::Admin {
        return Ok(());
    }
    let Some(hc) = body.host_config.as_ref() else {
        return Ok(());
    };
    check_host_config(hc)
}

fn check_host_config(hc: &HostConfig) -> AppResult<()> {
    if hc.privileged == Some(true) {
        return Err(refuse("privileged mode (privileged)"));
    }
    for (field, mode) in [
        ("network_mode", hc.network_mode.as_deref()),
        ("pid_mode", hc.pid_mode.as_deref()),
        ("ipc_mode", hc.ipc_mode.as_deref()),
        ("uts_mode", hc.uts_mode.as_deref()),
        ("userns_mode", hc.userns_mode.as_deref()),
    ] {
        if host_namespace(mode) {
            return Err(refuse(&format!(
                "the host's namespace ({field}={})",
                mode.unwrap_or_default()
            )));
        }
    }
    if hc.cgroupns_mode.is_some_and(|m| m.to_string() == "host") {
        return Err(refuse("the host's cgroup namespace (cgroupns_mode=host)"));
    }
    if hc.cap_add.as_ref().is_some_and(|c| !c.is_empty()) {
        return Err(refuse("added capabilities (cap_add)"));
    }
    if hc.devices.as_ref().is_some_and(|d| !d.is_empty())
        || hc
            .device_cgroup_rules
            .as_ref()
            .is_some_and(|d| !d.is_empty())
    {
        return Err(refuse("host devices (devices)"));
    }
    if hc.device_requests.as_ref().is_some_and(|d| !d.is_empty()) {
        return Err(refuse("GPUs or other device requests (device_requests)"));
    }
    // Even a namespaced sysctl tunes the kernel for the container beyond what its limits
    // say (and `net.*` ones change how the host's network stack treats it): an admin's call.
    if let Some(key) = hc.sysctls.as_ref().and_then(|s| s.keys().min()) {
        return Err(refuse(&format!("kernel parameters (sysctls: {key})")));
    }
    for bind in hc.binds.iter().flatten() {
        let source = bind.split(':').next().unwrap_or_default();
        // A bind whose source is a path (not a volume name) is a host folder.
        if source.starts_with('/') || source.starts_with('.') || source.contains('/') {
            return Err(refuse(&format!(
                "a host path bind-mounted (binds: {source})"
            )));
        }
    }
    for m in hc.mounts.iter().flatten() {
        match m.typ {
            Some(MountTypeEnum::VOLUME) | Some(MountTypeEnum::TMPFS) | None => {}
            Some(other) => {
                return Err(refuse(&format!(
                    "a {other} mount (mounts: {})",
                    m.source.as_deref().unwrap_or_default()
                )))
            }
        }
        if let Some(cfg) = m
            .volume_options
            .as_ref()
            .and_then(|v| v.driver_config.as_ref())
        {
            if cfg.name.as_deref().is_some_and(|n| n != "local") {
                return Err(refuse("a volume driver other than local (mounts)"));
            }
            if cfg.options.as_ref().is_some_and(volume_options_reach_host) {
                return Err(refuse("volume driver options that reach the host (mounts)"));
            }
        }
    }
    if hc
        .volume_driver
        .as_deref()
        .is_some_and(|d| !d.is_empty() && d != "local")
    {
        return Err(refuse("a volume driver other than local (volume_driver)"));
    }
    if hc.cgroup_parent.as_deref().is_some_and(|p| !p.is_empty()) {
        return Err(refuse("a cgroup parent (cgroup_parent)"));
    }
    if hc
        .runtime
        .as_deref()
        .is_some_and(|r| !r.is_empty() && r != "runc")
    {
        return Err(refuse("another runtime (runtime)"));
    }
    for opt in hc.security_opt.iter().flatten() {
        if opt.contains("unconfined") || opt.contains("disable") {
            return Err(refuse(&format!(
                "relaxed security options (security_opt: {opt})"
            )));
        }
    }
    Ok(())
}

/// Refuse a volume create that points a "volume" at a host path, unless admin.
pub fn check_volume_create(
    user: &CurrentUser,
    driver: Option<&str>,
    opts: &HashMap<String, String>,
) -> AppResult<()> {
    user.require(Role::Operator)?;
    if user.role == Role::Admin {
        return Ok(());
    }
    if driver.is_some_and(|d| !d.is_empty() && d != "local") {
        return Err(AppError::Forbidden(
            "only an admin may create volumes with a driver other than local".into(),
        ));
    }
    if volume_options_reach_host(opts) {
        return Err(AppError::Forbidden(
            "only an admin may create volumes with driver options (type, o, device) that reach the host".into(),
        ));
    }
    Ok(())
}

/// Refuse a network driver that attaches to host interfaces (macvlan, ipvlan and their
/// kin), unless admin. `bridge` and, on a swarm, `overlay` (VXLAN between the nodes, no
/// host interface) are everyone's.
pub fn check_network_create(user: &CurrentUser, driver: Option<&str>) -> AppResult<()> {
    user.require(Role::Operator)?;
    let driver = driver.filter(|d| !d.is_empty()).unwrap_or("bridge");
    if driver != "bridge" && driver != "overlay" && user.role != Role::Admin {
        return Err(AppError::Forbidden(format!(
            "only an admin may create {driver} networks"
        )));
    }
    Ok(())
}

/// The labels of a network, volume or container a user creates: theirs, less the reserved
/// ones, with the owning team set by berth (and `berth.shared` kept only from an admin).
pub fn own_labels(
    user: &CurrentUser,
    labels: impl IntoIterator<Item = (String, String)>,
    requested_team: Option<&str>,
) -> AppResult<HashMap<String, String>> {
    let mut l: HashMap<String, String> = labels.into_iter().collect();
    let shared = user.role == Role::Admin
        && l.get(super::access::SHARED_LABEL).map(String::as_str) == Some("true");
    stamp_team(user, &mut l, requested_team)?;
    let team = l.get(TEAM_LABEL).cloned().unwrap_or_default();
    l.retain(|k, _| !reserved_label(k));
    l.insert(TEAM_LABEL.into(), team);
    l.insert(super::access::SHARED_LABEL.into(), shared.to_string());
    Ok(l)
}

/// Put the owning team's label on something a user creates. A non-admin creates for one of
/// their own teams (the one asked for, or their first); an admin may name any team or none.
pub fn stamp_team(
    user: &CurrentUser,
    labels: &mut HashMap<String, String>,
    requested: Option<&str>,
) -> AppResult<()> {
    let requested = requested
        .or_else(|| labels.get(TEAM_LABEL).map(String::as_str))
        .map(str::to_owned);
    if user.role == Role::Admin {
        match requested {
            Some(team) => {
                labels.insert(TEAM_LABEL.into(), team);
            }
            // No team: admins only. Set, empty, so an image's `LABEL berth.team=…` cannot
            // hand the container to a team.
            None => {
                labels.insert(TEAM_LABEL.into(), String::new());
            }
        }
        return Ok(());
    }
    let team = match requested {
        Some(team) if user.teams.contains(&team) => team,
        Some(team) => {
            return Err(AppError::Forbidden(format!(
                "{} is not in team {team:?}",
                user.username
            )))
        }
        None => user.teams.first().cloned().ok_or_else(|| {
            AppError::Forbidden(format!(
                "{} is in no team: an admin must add them to one before they can create anything",
                user.username
            ))
        })?,
    };
    labels.insert(TEAM_LABEL.into(), team);
    // Only an admin shares.
    labels.remove(super::access::SHARED_LABEL);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use bollard::models::{Mount, MountVolumeOptions, MountVolumeOptionsDriverConfig};

    fn user(role: Role) -> CurrentUser {
        CurrentUser {
            id: 2,
            username: "op".into(),
            role,
            teams: vec!["web".into()],
            via: crate::auth::Via::Session,
            peer: None,
        }
    }

    fn with(hc: HostConfig) -> ContainerCreateBody {
        ContainerCreateBody {
            host_config: Some(hc),
            ..Default::default()
        }
    }

    #[test]
    fn operators_get_no_host_powers() {
        let op = user(Role::Operator);
        let bad = [
            HostConfig {
                privileged: Some(true),
                ..Default::default()
            },
            HostConfig {
                network_mode: Some("host".into()),
                ..Default::default()
            },
            HostConfig {
                pid_mode: Some("host".into()),
                ..Default::default()
            },
            HostConfig {
                ipc_mode: Some("host".into()),
                ..Default::default()
            },
            HostConfig {
                cap_add: Some(vec!["SYS_ADMIN".into()]),
                ..Default::default()
            },
            HostConfig {
                binds: Some(vec!["/etc:/host-etc:ro".into()]),
                ..Default::default()
            },
            HostConfig {
                binds: Some(vec!["./x:/x".into()]),
                ..Default::default()
            },
            HostConfig {
                mounts: Some(vec![Mount {
                    typ: Some(MountTypeEnum::BIND),
                    source: Some("/".into()),
                    target: Some("/host".into()),
                    ..Default::default()
                }]),
                ..Default::default()
            },
            HostConfig {
                mounts: Some(vec![Mount {
                    typ: Some(MountTypeEnum::VOLUME),
                    source: Some("v".into()),
                    target: Some("/v".into()),
                    volume_options: Some(MountVolumeOptions {
                        driver_config: Some(MountVolumeOptionsDriverConfig {
                            name: Some("local".into()),
                            options: Some(HashMap::from([
                                ("type".into(), "none".into()),
                                ("o".into(), "bind".into()),
                                ("device".into(), "/".into()),
                            ])),
                        }),
                        ..Default::default()
                    }),
                    ..Default::default()
                }]),
                ..Default::default()
            },
            HostConfig {
                security_opt: Some(vec!["seccomp=unconfined".into()]),
                ..Default::default()
            },
            HostConfig {
                sysctls: Some(HashMap::from([(
                    "net.core.somaxconn".into(),
                    "1024".into(),
                )])),
                ..Default::default()
            },
            HostConfig {
                device_requests: Some(vec![bollard::models::DeviceRequest {
                    count: Some(-1),
                    capabilities: Some(vec![vec!["gpu".into()]]),
                    ..Default::default()
                }]),
                ..Default::default()
            },
            HostConfig {
                devices: Some(vec![bollard::models::DeviceMapping {
                    path_on_host: Some("/dev/net/tun".into()),
                    ..Default::default()
                }]),
                ..Default::default()
            },
            HostConfig {
                runtime: Some("nvidia".into()),
                ..Default::default()
            },
            HostConfig {
                cgroup_parent: Some("/system.slice".into()),
                ..Default::default()
            },
            HostConfig {
                uts_mode: Some("host".into()),
                ..Default::default()
            },
        ];
        for hc in bad {
            let body = with(hc.clone());
            assert!(check_container_create(&op, &body).is_err(), "{hc:?}");
            assert!(check_container_create(&user(Role::Admin), &body).is_ok());
        }
        let fine = with(HostConfig {
            binds: Some(vec!["data:/data".into()]),
            network_mode: Some("mynet".into()),
            // Taking powers away, limits, logging and DNS are everyone's.
            cap_drop: Some(vec!["ALL".into()]),
            security_opt: Some(vec!["no-new-privileges:true".into()]),
            memory: Some(1 << 30),
            pids_limit: Some(100),
            readonly_rootfs: Some(true),
            dns: Some(vec!["1.1.1.1".into()]),
            extra_hosts: Some(vec!["a:1.2.3.4".into()]),
            init: Some(true),
            ..Default::default()
        });
        assert!(check_container_create(&op, &fine).is_ok());
        assert!(check_container_create(&user(Role::Viewer), &fine).is_err());
    }

    #[test]
    fn team_stamping() {
        let op = user(Role::Operator);
        let mut labels = HashMap::new();
        stamp_team(&op, &mut labels, None).unwrap();
        assert_eq!(labels[TEAM_LABEL], "web");
        let mut labels = HashMap::new();
        assert!(stamp_team(&op, &mut labels, Some("db")).is_err());
        let mut labels = HashMap::from([(TEAM_LABEL.to_string(), "db".to_string())]);
        assert!(
            stamp_team(&op, &mut labels, None).is_err(),
            "a label cannot smuggle a team"
        );
        let loner = CurrentUser {
            teams: vec![],
            ..user(Role::Operator)
        };
        assert!(stamp_team(&loner, &mut HashMap::new(), None).is_err());
    }
}
