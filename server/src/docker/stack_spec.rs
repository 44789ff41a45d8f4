//! A stack service → the exact container create body the daemon receives, with Compose's
//! labels; the config hash that decides whether a container must be recreated.

use std::collections::HashMap;

use bollard::models::{
    ContainerCreateBody, DeviceMapping, DeviceRequest, EndpointIpamConfig, EndpointSettings,
    HealthConfig, HostConfig, HostConfigCgroupnsModeEnum, HostConfigLogConfig, Mount,
    MountBindOptions, MountBindOptionsPropagationEnum, MountTmpfsOptions, MountTypeEnum,
    MountVolumeOptions, NetworkingConfig, PortBinding, ResourcesUlimits, RestartPolicy,
    RestartPolicyNameEnum,
};
use sha2::{Digest, Sha256};

use crate::stacks::labels;
use crate::stacks::model::{MountSource, Project, ServiceSpec, VolumesFrom};

/// Compose's project-level labels, the same on every container of a stack.
#[derive(Debug, Clone, Default)]
pub struct ProjectLabels {
    pub config_files: Option<String>,
    pub working_dir: Option<String>,
    pub environment_file: Option<String>,
}

/// The name of replica `n` (from 1): the file's `container_name`, or Compose 1.x's
/// `{project}_{service}_{n}`.
pub fn container_name(project: &str, svc: &ServiceSpec, n: u32) -> String {
    svc.container_name
        .clone()
        .unwrap_or_else(|| format!("{project}_{}_{n}", svc.name))
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
    n: u32,
) -> HashMap<String, String> {
    let mut l = HashMap::new();
    l.insert(labels::PROJECT.into(), project.name.clone());
    l.insert(labels::SERVICE.into(), svc.name.clone());
    l.insert(labels::CONTAINER_NUMBER.into(), n.to_string());
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

/// The create body for a service's replica. Networks past the first are connected after
/// create (API 1.41 takes one endpoint at create time). `refs` names the containers other
/// services run as (for `links` and `volumes_from`).
pub fn create_body(
    project: &str,
    svc: &ServiceSpec,
    labels: HashMap<String, String>,
    refs: &HashMap<String, String>,
) -> ContainerCreateBody {
    let mut exposed: HashMap<String, HashMap<(), ()>> = HashMap::new();
    let mut bindings: HashMap<String, Option<Vec<PortBinding>>> = HashMap::new();
    for e in &svc.expose {
        exposed.insert(e.clone(), HashMap::new());
    }
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
    let rt = &svc.runtime;
    let mut binds = Vec::new();
    let mut mounts = Vec::new();
    let mut anonymous: HashMap<String, HashMap<(), ()>> = HashMap::new();
    let mut tmpfs: HashMap<String, String> = rt.tmpfs.clone().into_iter().collect();
    for m in &svc.mounts {
        let mut mode = vec![if m.read_only { "ro" } else { "rw" }.to_owned()];
        mode.extend(m.flags.iter().cloned());
        match &m.source {
            _ if m.long => mounts.push(long_mount(m)),
            MountSource::Bind(src) | MountSource::Volume(src) => {
                // Compose 1.x also lists every mount's target in `Volumes`.
                anonymous.insert(m.target.clone(), HashMap::new());
                binds.push(format!("{src}:{}:{}", m.target, mode.join(",")))
            }
            MountSource::Anonymous => {
                anonymous.insert(m.target.clone(), HashMap::new());
            }
            MountSource::Tmpfs => {
                tmpfs.insert(m.target.clone(), m.tmpfs.clone().unwrap_or_default());
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
    let network_mode = svc
        .network_mode
        .clone()
        .or_else(|| first.map(|n| n.name.clone()));
    let links: Vec<String> = svc
        .links
        .iter()
        .map(|(s, alias)| {
            let c = refs
                .get(s)
                .cloned()
                .unwrap_or_else(|| format!("{project}_{s}_1"));
            format!("{c}:{alias}")
        })
        .chain(svc.external_links.iter().map(|l| {
            if l.contains(':') {
                l.clone()
            } else {
                format!("{l}:{l}")
            }
        }))
        .collect();
    let volumes_from: Vec<String> = svc
        .volumes_from
        .iter()
        .map(|v| match v {
            VolumesFrom::Container(c) => c.clone(),
            VolumesFrom::Service(s, mode) => {
                let c = refs
                    .get(s)
                    .cloned()
                    .unwrap_or_else(|| format!("{project}_{s}_1"));
                match mode {
                    Some(m) => format!("{c}:{m}"),
                    None => c,
                }
            }
        })
        .collect();
    let some_vec = |v: &Vec<String>| (!v.is_empty()).then(|| v.clone());
    let some_map = |m: &std::collections::BTreeMap<String, String>| {
        (!m.is_empty()).then(|| m.clone().into_iter().collect::<HashMap<_, _>>())
    };
    // `hostname: a.example.com` is a host name and a domain name, as Compose splits it.
    let (hostname, domainname) = match svc.hostname.as_deref().map(|h| h.split_once('.')) {
        Some(Some((h, d))) if rt.domainname.is_none() => (Some(h.to_owned()), Some(d.to_owned())),
        _ => (svc.hostname.clone(), rt.domainname.clone()),
    };
    ContainerCreateBody {
        image: Some(svc.image.clone()),
        hostname,
        domainname,
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
        stop_signal: rt.stop_signal.clone(),
        stop_timeout: rt.stop_timeout,
        mac_address: rt.mac_address.clone(),
        healthcheck: svc.healthcheck.as_ref().map(|h| HealthConfig {
            test: Some(h.test.clone()),
            interval: h.interval,
            timeout: h.timeout,
            retries: h.retries,
            start_period: h.start_period,
            start_interval: h.start_interval,
        }),
        host_config: Some(HostConfig {
            binds: (!binds.is_empty()).then_some(binds),
            mounts: (!mounts.is_empty()).then_some(mounts),
            port_bindings: (!bindings.is_empty()).then_some(bindings),
            restart_policy,
            network_mode,
            privileged: svc.privileged.then_some(true),
            tmpfs: (!tmpfs.is_empty()).then_some(tmpfs),
            links: (!links.is_empty()).then_some(links),
            volumes_from: (!volumes_from.is_empty()).then_some(volumes_from),
            cap_add: some_vec(&rt.cap_add),
            cap_drop: some_vec(&rt.cap_drop),
            devices: (!rt.devices.is_empty()).then(|| {
                rt.devices
                    .iter()
                    .map(|d| DeviceMapping {
                        path_on_host: Some(d.host.clone()),
                        path_in_container: Some(d.container.clone()),
                        cgroup_permissions: Some(d.permissions.clone()),
                    })
                    .collect()
            }),
            device_cgroup_rules: some_vec(&rt.device_cgroup_rules),
            device_requests: (!rt.device_requests.is_empty()).then(|| {
                rt.device_requests
                    .iter()
                    .map(|r| DeviceRequest {
                        driver: r.driver.clone(),
                        count: r.count,
                        device_ids: (!r.device_ids.is_empty()).then(|| r.device_ids.clone()),
                        capabilities: Some(vec![r.capabilities.clone()]),
                        options: (!r.options.is_empty())
                            .then(|| r.options.clone().into_iter().collect()),
                    })
                    .collect()
            }),
            security_opt: some_vec(&rt.security_opt),
            readonly_rootfs: rt.read_only.then_some(true),
            init: rt.init,
            extra_hosts: some_vec(&rt.extra_hosts),
            dns: some_vec(&rt.dns),
            dns_search: some_vec(&rt.dns_search),
            dns_options: some_vec(&rt.dns_opt),
            sysctls: some_map(&rt.sysctls),
            ulimits: (!rt.ulimits.is_empty()).then(|| {
                rt.ulimits
                    .iter()
                    .map(|u| ResourcesUlimits {
                        name: Some(u.name.clone()),
                        soft: Some(u.soft),
                        hard: Some(u.hard),
                    })
                    .collect()
            }),
            log_config: rt.log_driver.as_ref().map(|d| HostConfigLogConfig {
                typ: Some(d.clone()),
                config: some_map(&rt.log_opts),
            }),
            pid_mode: rt.pid.clone(),
            ipc_mode: rt.ipc.clone(),
            uts_mode: rt.uts.clone(),
            userns_mode: rt.userns_mode.clone(),
            cgroupns_mode: rt.cgroup.as_deref().and_then(|c| match c {
                "host" => Some(HostConfigCgroupnsModeEnum::HOST),
                "private" => Some(HostConfigCgroupnsModeEnum::PRIVATE),
                _ => None,
            }),
            cgroup_parent: rt.cgroup_parent.clone(),
            runtime: rt.runtime.clone(),
            shm_size: rt.shm_size,
            memory: rt.memory,
            memory_reservation: rt.memory_reservation,
            memory_swap: rt.memory_swap,
            memory_swappiness: rt.memory_swappiness,
            oom_kill_disable: rt.oom_kill_disable,
            oom_score_adj: rt.oom_score_adj,
            cpu_shares: rt.cpu_shares,
            cpu_quota: rt.cpu_quota,
            cpu_period: rt.cpu_period,
            cpu_realtime_period: rt.cpu_rt_period,
            cpu_realtime_runtime: rt.cpu_rt_runtime,
            cpuset_cpus: rt.cpuset.clone(),
            nano_cpus: rt.nano_cpus,
            pids_limit: rt.pids_limit,
            group_add: some_vec(&rt.group_add),
            storage_opt: some_map(&rt.storage_opt),
            volume_driver: rt.volume_driver.clone(),
            ..Default::default()
        }),
        networking_config,
        ..Default::default()
    }
}

/// A long-syntax volume (or a secret's file) as a `Mounts` entry, as Compose sends it.
fn long_mount(m: &crate::stacks::model::MountSpec) -> Mount {
    let (typ, source) = match &m.source {
        MountSource::Bind(s) => (MountTypeEnum::BIND, Some(s.clone())),
        MountSource::Volume(s) => (MountTypeEnum::VOLUME, Some(s.clone())),
        MountSource::Anonymous => (MountTypeEnum::VOLUME, None),
        MountSource::Tmpfs => (MountTypeEnum::TMPFS, None),
    };
    let propagation = m.flags.iter().find_map(|f| match f.as_str() {
        "shared" => Some(MountBindOptionsPropagationEnum::SHARED),
        "rshared" => Some(MountBindOptionsPropagationEnum::RSHARED),
        "slave" => Some(MountBindOptionsPropagationEnum::SLAVE),
        "rslave" => Some(MountBindOptionsPropagationEnum::RSLAVE),
        "private" => Some(MountBindOptionsPropagationEnum::PRIVATE),
        "rprivate" => Some(MountBindOptionsPropagationEnum::RPRIVATE),
        _ => None,
    });
    let size = m.tmpfs.as_deref().and_then(|t| {
        t.split(',')
            .find_map(|o| o.strip_prefix("size="))
            .and_then(|s| s.parse::<i64>().ok())
    });
    Mount {
        target: Some(m.target.clone()),
        source,
        typ: Some(typ),
        read_only: Some(m.read_only),
        bind_options: propagation.map(|p| MountBindOptions {
            propagation: Some(p),
            ..Default::default()
        }),
        volume_options: m
            .flags
            .iter()
            .any(|f| f == "nocopy")
            .then(|| MountVolumeOptions {
                no_copy: Some(true),
                ..Default::default()
            }),
        tmpfs_options: size.map(|s| MountTmpfsOptions {
            size_bytes: Some(s),
            ..Default::default()
        }),
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
