//! berth's model of a Compose project: what `up` creates, with every name resolved and every
//! path checked. Built from the parsed file (`parse`); nothing here talks to the daemon.
//! By concern: `service` (one service), `ports`, `mounts` (volumes, secrets, configs),
//! `runtime` (host configuration and `deploy`), `values` (the shapes values come in).

mod mounts;
mod ports;
mod runtime;
mod service;
pub mod values;

pub use mounts::{FileCopy, MountSource, MountSpec};
pub use ports::{parse_port, PortSpec};
pub use runtime::{DeviceRequestSpec, DeviceSpec, Runtime, Ulimit};
pub use values::duration_ns;

use std::collections::{BTreeMap, HashMap};
use std::path::{Component, Path, PathBuf};

use docker_compose_types as dc;
use serde::Serialize;
use wire::ComposeProblem;

use super::parse::{problem, Parsed};

/// Where a project lives and what it is called.
pub struct Origin<'a> {
    pub name: &'a str,
    /// Relative paths (build contexts, binds, env files) resolve here and may not leave it.
    pub working_dir: &'a Path,
    /// The compose text, for line numbers in messages.
    pub text: &'a str,
}

#[derive(Debug, Clone)]
pub struct Project {
    pub name: String,
    pub services: Vec<ServiceSpec>,
    pub networks: Vec<NetworkSpec>,
    pub volumes: Vec<VolumeSpec>,
    /// What the file asks for that berth accepts but does not apply (swarm-only parts of
    /// `deploy`, …), each named, kind `ignored`.
    pub warnings: Vec<ComposeProblem>,
}

/// One service, fully resolved. Serialised (as JSON) into the config hash: any change to
/// what the container would be changes the hash, and only that service is recreated.
#[derive(Debug, Clone, Serialize)]
pub struct ServiceSpec {
    pub name: String,
    /// The image to run: the file's `image:`, or `{project}_{service}` for a build.
    pub image: String,
    pub build: Option<BuildSpec>,
    pub container_name: Option<String>,
    pub restart: Option<String>,
    pub environment: Vec<String>,
    pub ports: Vec<PortSpec>,
    /// `expose:` as `PORT/PROTO`.
    pub expose: Vec<String>,
    pub mounts: Vec<MountSpec>,
    /// Secrets and configs without a file, written into the container once it is made.
    pub files: Vec<FileCopy>,
    pub command: Option<Vec<String>>,
    pub entrypoint: Option<Vec<String>>,
    pub working_dir: Option<String>,
    pub hostname: Option<String>,
    pub user: Option<String>,
    pub tty: bool,
    pub stdin_open: bool,
    pub privileged: bool,
    /// Network key in the file, daemon name, fixed IPv4, aliases.
    pub networks: Vec<ServiceNetwork>,
    /// `network_mode` as the daemon takes it (`service:x` resolved to `container:NAME`).
    pub network_mode: Option<String>,
    /// (service, alias); resolved to container names in `links_resolved`.
    pub links: Vec<(String, String)>,
    pub external_links: Vec<String>,
    pub volumes_from: Vec<VolumesFrom>,
    pub depends_on: Vec<Dependency>,
    pub labels: BTreeMap<String, String>,
    pub healthcheck: Option<HealthSpec>,
    pub runtime: Runtime,
    /// How many containers (`deploy.replicas`, `scale`).
    pub replicas: u32,
    pub pull_policy: Option<String>,
    /// The line of each of the service's keys, for messages about them.
    #[serde(skip)]
    pub lines: BTreeMap<String, u32>,
}

/// `volumes_from:` a service of the project (with `ro`/`rw`) or a container.
#[derive(Debug, Clone, Serialize)]
pub enum VolumesFrom {
    Service(String, Option<String>),
    Container(String),
}

#[derive(Debug, Clone, Serialize)]
pub struct BuildSpec {
    /// Absolute, inside the project's folder.
    pub context: PathBuf,
    /// Relative to the context.
    pub dockerfile: String,
    pub args: BTreeMap<String, String>,
    pub target: Option<String>,
    pub labels: BTreeMap<String, String>,
    pub cache_from: Vec<String>,
    pub network: Option<String>,
    pub extra_hosts: Vec<String>,
    pub shm_size: Option<i64>,
    pub no_cache: bool,
    pub pull: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct ServiceNetwork {
    pub key: String,
    pub name: String,
    pub ipv4: Option<String>,
    pub aliases: Vec<String>,
    /// `priority`: the highest is the container's first network.
    pub priority: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Dependency {
    pub service: String,
    /// `condition: service_healthy`: wait for its healthcheck to pass.
    pub healthy: bool,
    /// `condition: service_completed_successfully`: wait for it to exit 0.
    pub completed: bool,
    pub required: bool,
}

/// Durations in nanoseconds, as the daemon takes them.
#[derive(Debug, Clone, Serialize)]
pub struct HealthSpec {
    pub test: Vec<String>,
    pub interval: Option<i64>,
    pub timeout: Option<i64>,
    pub retries: Option<i64>,
    pub start_period: Option<i64>,
    pub start_interval: Option<i64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct NetworkSpec {
    pub key: String,
    /// The daemon's name: `{project}_{key}`, or the file's `name:`.
    pub name: String,
    pub external: bool,
    pub driver: Option<String>,
    pub driver_opts: BTreeMap<String, String>,
    pub internal: bool,
    pub labels: BTreeMap<String, String>,
    /// (subnet, gateway)
    pub ipam: Vec<(String, Option<String>)>,
    pub ipam_driver: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct VolumeSpec {
    pub key: String,
    pub name: String,
    pub external: bool,
    pub driver: Option<String>,
    pub driver_opts: BTreeMap<String, String>,
    pub labels: BTreeMap<String, String>,
}

/// Collects problems with their place in the file.
pub struct Problems<'a> {
    text: &'a str,
    v1: bool,
    list: Vec<ComposeProblem>,
}

impl Problems<'_> {
    fn add(&mut self, path: &[&str], message: impl Into<String>) {
        // In a version 1 file the text has no `services:` line.
        let in_text = if self.v1 && path.first() == Some(&"services") {
            &path[1..]
        } else {
            path
        };
        let mut p = problem(self.text, in_text, "invalid", message.into());
        p.path = path.join(".");
        self.list.push(p);
    }
}

/// A path from the file, relative to the project's folder, that must stay inside it.
pub fn inside(working_dir: &Path, rel: &str) -> Result<PathBuf, String> {
    let p = Path::new(rel);
    if p.is_absolute() {
        return Err(format!(
            "{rel:?} is an absolute path: it must be relative to the stack's folder"
        ));
    }
    let mut out = working_dir.to_path_buf();
    for c in p.components() {
        match c {
            Component::Normal(part) => out.push(part),
            Component::CurDir => {}
            Component::ParentDir | Component::RootDir | Component::Prefix(_) => {
                return Err(format!(
                    "{rel:?} leaves the stack's folder: '..' is not allowed"
                ))
            }
        }
    }
    Ok(out)
}

/// Build berth's project from a parsed compose file.
pub fn project(parsed: &Parsed, origin: &Origin) -> Result<Project, Vec<ComposeProblem>> {
    let mut problems = Problems {
        text: origin.text,
        v1: parsed.v1,
        list: Vec::new(),
    };
    let compose = &parsed.compose;
    let pname = origin.name;

    let mut networks: Vec<NetworkSpec> = Vec::new();
    for (key, net) in &compose.networks.0 {
        let net: Option<dc::NetworkSettings> = net.clone().into();
        let net = net.unwrap_or_default();
        let external = match &net.external {
            Some(dc::ComposeNetwork::Bool(b)) => *b,
            Some(dc::ComposeNetwork::Detailed(_)) => true,
            None => false,
        };
        let name = match (&net.name, &net.external) {
            (_, Some(dc::ComposeNetwork::Detailed(d))) => d.name.clone(),
            (Some(n), _) => n.clone(),
            (None, _) if external => key.clone(),
            (None, _) => format!("{pname}_{key}"),
        };
        let ipam = net
            .ipam
            .as_ref()
            .map(|i| {
                i.config
                    .iter()
                    .map(|c| (c.subnet.clone(), c.gateway.clone()))
                    .collect()
            })
            .unwrap_or_default();
        networks.push(NetworkSpec {
            key: key.clone(),
            name,
            external,
            driver: net.driver.clone(),
            driver_opts: net
                .driver_opts
                .iter()
                .map(|(k, v)| {
                    (
                        k.clone(),
                        v.as_ref().map(|v| v.to_string()).unwrap_or_default(),
                    )
                })
                .collect(),
            internal: net.internal,
            labels: labels(&net.labels),
            ipam,
            ipam_driver: net.ipam.as_ref().and_then(|i| i.driver.clone()),
        });
    }

    let mut volumes: Vec<VolumeSpec> = Vec::new();
    for (key, vol) in &compose.volumes.0 {
        let vol: Option<dc::ComposeVolume> = vol.clone().into();
        let (external, ext_name) = match vol.as_ref().and_then(|v| v.external.as_ref()) {
            Some(dc::ExternalVolume::Bool(b)) => (*b, None),
            Some(dc::ExternalVolume::Name { name }) => (true, Some(name.clone())),
            None => (false, None),
        };
        let name = ext_name
            .or_else(|| vol.as_ref().and_then(|v| v.name.clone()))
            .unwrap_or_else(|| {
                if external {
                    key.clone()
                } else {
                    format!("{pname}_{key}")
                }
            });
        volumes.push(VolumeSpec {
            key: key.clone(),
            name,
            external,
            driver: vol.as_ref().and_then(|v| v.driver.clone()),
            driver_opts: vol
                .as_ref()
                .map(|v| {
                    v.driver_opts
                        .iter()
                        .map(|(k, v)| {
                            (
                                k.clone(),
                                v.as_ref().map(|v| v.to_string()).unwrap_or_default(),
                            )
                        })
                        .collect()
                })
                .unwrap_or_default(),
            labels: vol.as_ref().map(|v| labels(&v.labels)).unwrap_or_default(),
        });
    }

    if compose.services.0.is_empty() {
        problems.add(&["services"], "the file defines no services");
    }
    let mut services = Vec::new();
    let mut warnings = Vec::new();
    let mut uses_default_network = false;
    let cx = service::In {
        project: pname,
        working_dir: origin.working_dir,
        text: origin.text,
        v1: parsed.v1,
        vars: &parsed.vars,
        volumes: &volumes,
        root: &parsed.raw,
    };
    for (sname, svc) in &compose.services.0 {
        let svc = svc.clone().unwrap_or_default();
        let sp = ["services", sname.as_str()];
        if !valid_service_name(sname) {
            problems.add(
                &sp,
                format!("service name {sname:?} may only have letters, digits, '.', '_' and '-'"),
            );
        }

        let empty = serde_yaml::Mapping::new();
        let raw = parsed
            .raw
            .get("services")
            .and_then(|s| s.get(sname.as_str()))
            .and_then(serde_yaml::Value::as_mapping)
            .unwrap_or(&empty);
        let mut ignored = Vec::new();
        let mut spec = service::read(&cx, sname, &svc, raw, &mut problems, &mut ignored);
        for w in ignored {
            let key = w.split(['.', ':']).next().unwrap_or_default().to_owned();
            let mut p = problem(
                origin.text,
                &[sp[0], sp[1], key.as_str()],
                "ignored",
                format!("services.{sname}.{w}"),
            );
            p.path = format!("services.{sname}.{key}");
            warnings.push(p);
        }
        if spec.network_mode.is_none() {
            if spec.networks.is_empty() {
                spec.networks.push(ServiceNetwork {
                    key: "default".into(),
                    name: String::new(), // resolved below, once `default` is known
                    ipv4: None,
                    aliases: vec![],
                    priority: 0,
                });
            }
            for n in &spec.networks {
                if n.key == "default" {
                    uses_default_network = true;
                } else if !networks.iter().any(|d| d.key == n.key) {
                    problems.add(&[sp[0], sp[1], "networks"], format!(
                        "network {:?} is used by service {sname} but not declared under the top-level networks:", n.key
                    ));
                }
            }
        }
        services.push(spec);
    }

    if uses_default_network && !networks.iter().any(|n| n.key == "default") {
        networks.push(NetworkSpec {
            key: "default".into(),
            name: format!("{pname}_default"),
            external: false,
            driver: None,
            driver_opts: BTreeMap::new(),
            internal: false,
            labels: BTreeMap::new(),
            ipam: vec![],
            ipam_driver: None,
        });
    }
    let net_names: HashMap<String, String> = networks
        .iter()
        .map(|n| (n.key.clone(), n.name.clone()))
        .collect();
    for s in &mut services {
        for n in &mut s.networks {
            n.name = net_names.get(&n.key).cloned().unwrap_or_default();
        }
        // The first network is the one the container is made on: the highest priority, or
        // without priorities the first by name, as Compose picks it.
        if s.networks.iter().any(|n| n.priority != 0) {
            s.networks.sort_by_key(|n| std::cmp::Reverse(n.priority));
        } else {
            s.networks.sort_by(|a, b| a.name.cmp(&b.name));
        }
    }
    // References to other services become their (first) container's name.
    let first: HashMap<String, String> = services
        .iter()
        .map(|s| {
            (
                s.name.clone(),
                crate::docker::stack_spec::container_name(pname, s, 1),
            )
        })
        .collect();
    for s in &mut services {
        // `pid` and `ipc` may name a service too (`service:x`).
        for (key, mode) in [("pid", &mut s.runtime.pid), ("ipc", &mut s.runtime.ipc)] {
            if let Some(other) = mode.as_deref().and_then(|m| m.strip_prefix("service:")) {
                match first.get(other) {
                    Some(c) => *mode = Some(format!("container:{c}")),
                    None => problems.add(
                        &["services", &s.name, key],
                        format!("{key} {other:?}: the file defines no service {other}"),
                    ),
                }
            }
        }
        if let Some(other) = s
            .network_mode
            .as_deref()
            .and_then(|m| m.strip_prefix("service:"))
        {
            match first.get(other) {
                Some(c) => s.network_mode = Some(format!("container:{c}")),
                None => problems.add(
                    &["services", &s.name, "network_mode"],
                    format!("network_mode {other:?}: the file defines no service {other}"),
                ),
            }
        }
    }

    let order = match start_order(&services) {
        Ok(o) => o,
        Err(e) => {
            problems.add(&["services"], e);
            vec![]
        }
    };
    if !problems.list.is_empty() {
        return Err(problems.list);
    }
    let mut by_name: HashMap<String, ServiceSpec> =
        services.into_iter().map(|s| (s.name.clone(), s)).collect();
    let services = order
        .into_iter()
        .filter_map(|n| by_name.remove(&n))
        .collect();
    Ok(Project {
        name: pname.to_owned(),
        services,
        networks,
        volumes,
        warnings,
    })
}

fn valid_service_name(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

fn labels(l: &dc::Labels) -> BTreeMap<String, String> {
    match l {
        dc::Labels::List(items) => items
            .iter()
            .map(|i| match i.split_once('=') {
                Some((k, v)) => (k.to_owned(), v.to_owned()),
                None => (i.clone(), String::new()),
            })
            .collect(),
        dc::Labels::Map(m) => m.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
    }
}

/// Services in an order where each comes after what it depends on (file order otherwise).
fn start_order(services: &[ServiceSpec]) -> Result<Vec<String>, String> {
    let names: Vec<&str> = services.iter().map(|s| s.name.as_str()).collect();
    for s in services {
        for d in &s.depends_on {
            if !names.contains(&d.service.as_str()) {
                return Err(format!(
                    "service {} depends on {:?}, which the file does not define",
                    s.name, d.service
                ));
            }
        }
    }
    let mut done: Vec<String> = Vec::new();
    while done.len() < services.len() {
        let next = services.iter().find(|s| {
            !done.contains(&s.name) && s.depends_on.iter().all(|d| done.contains(&d.service))
        });
        match next {
            Some(s) => done.push(s.name.clone()),
            None => {
                let stuck: Vec<&str> = names
                    .iter()
                    .copied()
                    .filter(|n| !done.iter().any(|d| d == n))
                    .collect();
                return Err(format!(
                    "depends_on forms a cycle among: {}",
                    stuck.join(", ")
                ));
            }
        }
    }
    Ok(done)
}

#[cfg(test)]
mod tests;
