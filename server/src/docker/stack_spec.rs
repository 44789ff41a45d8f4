//! A stack service → the exact container create body the daemon receives, with Compose's
//! labels; the config hash that decides whether a container must be recreated.

use std::collections::HashMap;

use bollard::models::{
    ContainerCreateBody, EndpointIpamConfig, EndpointSettings, HealthConfig, HostConfig,
    NetworkingConfig, PortBinding, RestartPolicy, RestartPolicyNameEnum,
};
use sha2::{Digest, Sha256};

use crate::stacks::labels;
use crate::stacks::model::{MountSource, Project, ServiceSpec};

/// Compose's project-level labels, the same on every container of a stack.
#[derive(Debug, Clone, Default)]
pub struct ProjectLabels {
    pub config_files: Option<String>,
    pub working_dir: Option<String>,
    pub environment_file: Option<String>,
}

/// The container name: the file's `container_name`, or Compose 1.x's `{project}_{service}_1`.
pub fn container_name(project: &str, svc: &ServiceSpec) -> String {
    svc.container_name
        .clone()
        .unwrap_or_else(|| format!("{project}_{}_1", svc.name))
}

/// The config hash: the resolved service and the image id it runs. A new image (after a
/// pull or a build) or any change to the service makes a new hash.
pub fn config_hash(svc: &ServiceSpec, image_id: &str) -> String {
    let mut h = Sha256::new();
    h.update(serde_json::to_vec(svc).unwrap_or_default());
    h.update(b"\0");
    h.update(image_id.as_bytes());
    format!("{:x}", h.finalize())
}

/// The labels Compose itself puts on a service's container (the hash is added by the
/// caller). The file's own `labels:` are the service's; these are set over them.
pub fn compose_labels(
    project: &Project,
    svc: &ServiceSpec,
    pl: &ProjectLabels,
) -> HashMap<String, String> {
    let mut l = HashMap::new();
    l.insert(labels::PROJECT.into(), project.name.clone());
    l.insert(labels::SERVICE.into(), svc.name.clone());
    l.insert(labels::CONTAINER_NUMBER.into(), "1".into());
    l.insert(labels::ONEOFF.into(), "False".into());
    l.insert(labels::VERSION.into(), labels::COMPOSE_VERSION.into());
    for (k, v) in [
        (labels::CONFIG_FILES, &pl.config_files),
        (labels::WORKING_DIR, &pl.working_dir),
        (labels::ENVIRONMENT_FILE, &pl.environment_file),
    ] {
        if let Some(v) = v {
            l.insert(k.into(), v.clone());
        }
    }
    l
}

/// The file's own labels of a service.
pub fn service_labels(svc: &ServiceSpec) -> HashMap<String, String> {
    svc.labels
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// The create body for a service. Networks past the first are connected after create (API
/// 1.41 takes one endpoint at create time).
pub fn create_body(svc: &ServiceSpec, labels: HashMap<String, String>) -> ContainerCreateBody {
    let mut exposed: HashMap<String, HashMap<(), ()>> = HashMap::new();
    let mut bindings: HashMap<String, Option<Vec<PortBinding>>> = HashMap::new();
    for p in &svc.ports {
        let key = format!("{}/{}", p.container_port, p.protocol);
        exposed.insert(key.clone(), HashMap::new());
        let entry = bindings.entry(key).or_insert_with(|| Some(vec![]));
        if let Some(list) = entry {
            list.push(PortBinding {
                host_ip: p.host_ip.clone(),
                host_port: Some(p.host_port.clone().unwrap_or_default()),
            });
        }
    }
    let mut binds = Vec::new();
    let mut anonymous: HashMap<String, HashMap<(), ()>> = HashMap::new();
    let mut tmpfs = HashMap::new();
    for m in &svc.mounts {
        let mode = if m.read_only { "ro" } else { "rw" };
        match &m.source {
            MountSource::Bind(src) | MountSource::Volume(src) => {
                binds.push(format!("{src}:{}:{mode}", m.target))
            }
            MountSource::Anonymous => {
                anonymous.insert(m.target.clone(), HashMap::new());
            }
            MountSource::Tmpfs => {
                tmpfs.insert(m.target.clone(), String::new());
            }
        }
    }
    let restart_policy = svc.restart.as_deref().map(|r| {
        let (name, count) = match r.split_once(':') {
            Some((n, c)) => (n, c.parse().ok()),
            None => (r, None),
        };
        RestartPolicy {
            name: Some(match name {
                "always" => RestartPolicyNameEnum::ALWAYS,
                "unless-stopped" => RestartPolicyNameEnum::UNLESS_STOPPED,
                "on-failure" => RestartPolicyNameEnum::ON_FAILURE,
                _ => RestartPolicyNameEnum::NO,
            }),
            maximum_retry_count: count,
        }
    });
    let first = svc.networks.first();
    let networking_config = first.map(|n| NetworkingConfig {
        endpoints_config: Some(HashMap::from([(n.name.clone(), endpoint(svc, n))])),
    });
    ContainerCreateBody {
        image: Some(svc.image.clone()),
        hostname: svc.hostname.clone(),
        user: svc.user.clone(),
        env: Some(svc.environment.clone()),
        cmd: svc.command.clone(),
        entrypoint: svc.entrypoint.clone(),
        working_dir: svc.working_dir.clone(),
        tty: Some(svc.tty),
        open_stdin: Some(svc.stdin_open),
        exposed_ports: (!exposed.is_empty()).then_some(exposed),
        volumes: (!anonymous.is_empty()).then_some(anonymous),
        labels: Some(labels),
        healthcheck: svc.healthcheck.as_ref().map(|h| HealthConfig {
            test: Some(h.test.clone()),
            interval: h.interval,
            timeout: h.timeout,
            retries: h.retries,
            start_period: h.start_period,
            start_interval: None,
        }),
        host_config: Some(HostConfig {
            binds: (!binds.is_empty()).then_some(binds),
            port_bindings: (!bindings.is_empty()).then_some(bindings),
            restart_policy,
            network_mode: first.map(|n| n.name.clone()),
            privileged: svc.privileged.then_some(true),
            tmpfs: (!tmpfs.is_empty()).then_some(tmpfs),
            ..Default::default()
        }),
        networking_config,
        ..Default::default()
    }
}

/// A service's endpoint on one of its networks: its fixed address, and its name and
/// aliases for the network's DNS, as Compose registers them.
pub fn endpoint(svc: &ServiceSpec, n: &crate::stacks::model::ServiceNetwork) -> EndpointSettings {
    let mut aliases = vec![svc.name.clone()];
    aliases.extend(n.aliases.iter().cloned());
    EndpointSettings {
        aliases: Some(aliases),
        ipam_config: n.ipv4.as_ref().map(|ip| EndpointIpamConfig {
            ipv4_address: Some(ip.clone()),
            ..Default::default()
        }),
        ..Default::default()
    }
}
