//! berth's model of a Compose project: what `up` creates, with every name resolved and every
//! path checked. Built from the typed compose model; nothing here talks to the daemon.

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
    pub mounts: Vec<MountSpec>,
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
    pub depends_on: Vec<Dependency>,
    pub labels: BTreeMap<String, String>,
    pub healthcheck: Option<HealthSpec>,
}

#[derive(Debug, Clone, Serialize)]
pub struct BuildSpec {
    /// Absolute, inside the project's folder.
    pub context: PathBuf,
    /// Relative to the context.
    pub dockerfile: String,
    pub args: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct PortSpec {
    pub host_ip: Option<String>,
    pub host_port: Option<String>,
    pub container_port: u16,
    pub protocol: String,
}

#[derive(Debug, Clone, Serialize)]
pub enum MountSource {
    /// An absolute host path.
    Bind(String),
    /// A volume's daemon name.
    Volume(String),
    Anonymous,
    Tmpfs,
}

#[derive(Debug, Clone, Serialize)]
pub struct MountSpec {
    pub source: MountSource,
    pub target: String,
    pub read_only: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct ServiceNetwork {
    pub key: String,
    pub name: String,
    pub ipv4: Option<String>,
    pub aliases: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Dependency {
    pub service: String,
    /// `condition: service_healthy`: wait for its healthcheck to pass.
    pub healthy: bool,
}

/// Durations in nanoseconds, as the daemon takes them.
#[derive(Debug, Clone, Serialize)]
pub struct HealthSpec {
    pub test: Vec<String>,
    pub interval: Option<i64>,
    pub timeout: Option<i64>,
    pub retries: Option<i64>,
    pub start_period: Option<i64>,
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
struct Problems<'a> {
    text: &'a str,
    list: Vec<ComposeProblem>,
}

impl Problems<'_> {
    fn add(&mut self, path: &[&str], message: impl Into<String>) {
        self.list
            .push(problem(self.text, path, "invalid", message.into()));
    }
}

/// A path from the file, relative to the project's folder, that must stay inside it.
fn inside(working_dir: &Path, rel: &str) -> Result<PathBuf, String> {
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
    let mut uses_default_network = false;
    for (sname, svc) in &compose.services.0 {
        let svc = svc.clone().unwrap_or_default();
        let sp = ["services", sname.as_str()];
        let at = |k: &'static str| [sp[0], sp[1], k];
        if !valid_service_name(sname) {
            problems.add(
                &sp,
                format!("service name {sname:?} may only have letters, digits, '.', '_' and '-'"),
            );
        }

        let build = match &svc.build_ {
            None => None,
            Some(step) => {
                let (context, dockerfile, args) = match step {
                    dc::BuildStep::Simple(ctx) => (ctx.clone(), None, None),
                    dc::BuildStep::Advanced(b) => {
                        (b.context.clone(), b.dockerfile.clone(), b.args.clone())
                    }
                };
                let dockerfile = dockerfile.unwrap_or_else(|| "Dockerfile".into());
                match (
                    inside(origin.working_dir, &context),
                    inside(Path::new("/"), &dockerfile),
                ) {
                    (Ok(context), Ok(_)) => Some(BuildSpec {
                        context,
                        dockerfile,
                        args: build_args(args.as_ref(), &parsed.vars),
                    }),
                    (Err(e), _) => {
                        problems.add(
                            &[sp[0], sp[1], "build", "context"],
                            format!("build context {e}"),
                        );
                        None
                    }
                    (_, Err(e)) => {
                        problems.add(
                            &[sp[0], sp[1], "build", "dockerfile"],
                            format!("dockerfile {e}"),
                        );
                        None
                    }
                }
            }
        };
        let image = match (&svc.image, &svc.build_) {
            (Some(i), _) if !i.trim().is_empty() => i.trim().to_owned(),
            (_, Some(_)) => format!("{pname}_{sname}"),
            _ => {
                problems.add(&sp, format!("service {sname} needs an image or a build"));
                String::new()
            }
        };

        let mut environment = Vec::new();
        if let Some(files) = &svc.env_file {
            let files = match files {
                dc::StringOrList::Simple(s) => vec![s.clone()],
                dc::StringOrList::List(l) => l.clone(),
            };
            for f in files {
                match inside(origin.working_dir, &f).and_then(|p| {
                    std::fs::read_to_string(&p).map_err(|e| format!("{f:?} cannot be read: {e}"))
                }) {
                    Ok(text) => match super::parse::env_vars(Some(&text)) {
                        Ok(vars) => {
                            let mut vars: Vec<_> = vars.into_iter().collect();
                            vars.sort();
                            environment.extend(vars.into_iter().map(|(k, v)| format!("{k}={v}")));
                        }
                        Err(p) => problems.add(&at("env_file"), format!("{f}: {}", p.message)),
                    },
                    Err(e) => problems.add(&at("env_file"), format!("env_file {e}")),
                }
            }
        }
        match &svc.environment {
            dc::Environment::List(items) => {
                for item in items {
                    match item.split_once('=') {
                        Some(_) => environment.push(item.clone()),
                        None => {
                            if let Some(v) = parsed.vars.get(item) {
                                environment.push(format!("{item}={v}"));
                            }
                        }
                    }
                }
            }
            dc::Environment::KvPair(map) => {
                for (k, v) in map {
                    match v {
                        Some(v) => environment.push(format!("{k}={v}")),
                        None => {
                            if let Some(v) = parsed.vars.get(k) {
                                environment.push(format!("{k}={v}"));
                            }
                        }
                    }
                }
            }
        }

        let mut ports = Vec::new();
        match &svc.ports {
            dc::Ports::Short(items) => {
                for item in items {
                    match parse_port(item) {
                        Ok(p) => ports.push(p),
                        Err(e) => problems.add(&at("ports"), e),
                    }
                }
            }
            dc::Ports::Long(items) => {
                for p in items {
                    ports.push(PortSpec {
                        host_ip: p.host_ip.clone(),
                        host_port: p.published.as_ref().map(|p| match p {
                            dc::PublishedPort::Single(n) => n.to_string(),
                            dc::PublishedPort::Range(r) => r.clone(),
                        }),
                        container_port: p.target,
                        protocol: p.protocol.clone().unwrap_or_else(|| "tcp".into()),
                    });
                }
            }
        }

        let mut mounts = Vec::new();
        for v in &svc.volumes {
            let m = match v {
                dc::Volumes::Simple(s) => parse_volume(s),
                dc::Volumes::Advanced(a) => Ok(match a._type.as_str() {
                    "bind" => (
                        a.source.clone().unwrap_or_default(),
                        a.target.clone(),
                        a.read_only,
                        "bind",
                    ),
                    "volume" => (
                        a.source.clone().unwrap_or_default(),
                        a.target.clone(),
                        a.read_only,
                        "volume",
                    ),
                    "tmpfs" => (String::new(), a.target.clone(), false, "tmpfs"),
                    other => {
                        problems.add(
                            &at("volumes"),
                            format!("volume type {other:?} is not supported yet"),
                        );
                        continue;
                    }
                }),
            };
            let (source, target, read_only, kind) = match m {
                Ok(m) => m,
                Err(e) => {
                    problems.add(&at("volumes"), e);
                    continue;
                }
            };
            if !target.starts_with('/') {
                problems.add(
                    &at("volumes"),
                    format!("mount target {target:?} must be an absolute path in the container"),
                );
                continue;
            }
            let source = match kind {
                "tmpfs" => MountSource::Tmpfs,
                _ if source.is_empty() => MountSource::Anonymous,
                _ if source.starts_with('/') => MountSource::Bind(source),
                _ if source == "~" || source.starts_with("~/") => {
                    let home = std::env::var("HOME").unwrap_or_else(|_| "/root".into());
                    MountSource::Bind(format!("{home}{}", &source[1..]))
                }
                _ if source.starts_with('.') || kind == "bind" => {
                    match inside(origin.working_dir, &source) {
                        Ok(p) => MountSource::Bind(p.to_string_lossy().into_owned()),
                        Err(e) => {
                            problems.add(&at("volumes"), format!("bind source {e}"));
                            continue;
                        }
                    }
                }
                _ => match volumes.iter().find(|v| v.key == source) {
                    Some(v) => MountSource::Volume(v.name.clone()),
                    None => {
                        problems.add(&at("volumes"), format!(
                            "named volume {source:?} is used by service {sname} but not declared under the top-level volumes:"
                        ));
                        continue;
                    }
                },
            };
            mounts.push(MountSpec {
                source,
                target,
                read_only,
            });
        }

        let mut service_networks = Vec::new();
        let declared: Vec<(String, Option<dc::AdvancedNetworkSettings>)> = match &svc.networks {
            dc::Networks::Simple(names) => names.iter().map(|n| (n.clone(), None)).collect(),
            dc::Networks::Advanced(adv) => adv
                .0
                .iter()
                .map(|(n, s)| (n.clone(), s.clone().into()))
                .collect(),
        };
        if declared.is_empty() {
            uses_default_network = true;
            service_networks.push(ServiceNetwork {
                key: "default".into(),
                name: String::new(), // resolved below, once `default` is known
                ipv4: None,
                aliases: vec![],
            });
        }
        for (key, settings) in declared {
            if key == "default" {
                uses_default_network = true;
            } else if !networks.iter().any(|n| n.key == key) {
                problems.add(&at("networks"), format!(
                    "network {key:?} is used by service {sname} but not declared under the top-level networks:"
                ));
                continue;
            }
            let settings = settings.unwrap_or(dc::AdvancedNetworkSettings {
                ipv4_address: None,
                ipv6_address: None,
                aliases: vec![],
            });
            if let Some(ip) = &settings.ipv4_address {
                if ip.parse::<std::net::Ipv4Addr>().is_err() {
                    problems.add(
                        &at("networks"),
                        format!("ipv4_address {ip:?} is not an IPv4 address"),
                    );
                }
            }
            service_networks.push(ServiceNetwork {
                key,
                name: String::new(),
                ipv4: settings.ipv4_address.clone(),
                aliases: settings.aliases.clone(),
            });
        }

        let depends_on = match &svc.depends_on {
            dc::DependsOnOptions::Simple(names) => names
                .iter()
                .map(|s| Dependency {
                    service: s.clone(),
                    healthy: false,
                })
                .collect(),
            dc::DependsOnOptions::Conditional(map) => {
                let mut deps = Vec::new();
                for (s, cond) in map {
                    match cond.condition.as_str() {
                        "service_started" => deps.push(Dependency { service: s.clone(), healthy: false }),
                        "service_healthy" => deps.push(Dependency { service: s.clone(), healthy: true }),
                        other => problems.add(&at("depends_on"), format!(
                            "depends_on condition {other:?} is not supported yet (use service_started or service_healthy)"
                        )),
                    }
                }
                deps
            }
        };

        if let Some(r) = &svc.restart {
            let base = r.split(':').next().unwrap_or_default();
            if !["no", "always", "unless-stopped", "on-failure"].contains(&base) {
                problems.add(
                    &at("restart"),
                    format!(
                        "restart {r:?} is not one of no, always, unless-stopped, on-failure[:N]"
                    ),
                );
            }
        }
        let healthcheck = match &svc.healthcheck {
            Some(h) => match health(h) {
                Ok(h) => h,
                Err(e) => {
                    problems.add(&at("healthcheck"), e);
                    None
                }
            },
            None => None,
        };
        let mut words = |what: &'static str, s: &str| -> Option<Vec<String>> {
            let split = shlex::split(s);
            if split.is_none() {
                problems.add(&at(what), format!("{what} {s:?} has an unclosed quote"));
            }
            split
        };
        let command = match &svc.command {
            Some(dc::Command::Simple(s)) => words("command", s),
            Some(dc::Command::Args(a)) => Some(a.clone()),
            None => None,
        };
        let entrypoint = match &svc.entrypoint {
            Some(dc::Entrypoint::Simple(s)) => words("entrypoint", s),
            Some(dc::Entrypoint::List(a)) => Some(a.clone()),
            None => None,
        };

        services.push(ServiceSpec {
            name: sname.clone(),
            image,
            build,
            container_name: svc.container_name.clone(),
            restart: svc.restart.clone(),
            environment,
            ports,
            mounts,
            command,
            entrypoint,
            working_dir: svc.working_dir.clone(),
            hostname: svc.hostname.clone(),
            user: svc.user.clone(),
            tty: svc.tty,
            stdin_open: svc.stdin_open,
            privileged: svc.privileged,
            networks: service_networks,
            depends_on,
            labels: labels(&svc.labels),
            healthcheck,
        });
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

fn build_args(
    args: Option<&dc::BuildArgs>,
    vars: &HashMap<String, String>,
) -> BTreeMap<String, String> {
    let pair = |item: &str| match item.split_once('=') {
        Some((k, v)) => Some((k.to_owned(), v.to_owned())),
        None => vars.get(item).map(|v| (item.to_owned(), v.clone())),
    };
    match args {
        None => BTreeMap::new(),
        Some(dc::BuildArgs::Simple(s)) => pair(s).into_iter().collect(),
        Some(dc::BuildArgs::List(l)) => l.iter().filter_map(|i| pair(i)).collect(),
        Some(dc::BuildArgs::KvPair(m)) => m.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
    }
}

/// `[HOST_IP:][HOST_PORT:]CONTAINER_PORT[/PROTOCOL]`.
pub fn parse_port(s: &str) -> Result<PortSpec, String> {
    let (spec, protocol) = match s.rsplit_once('/') {
        Some((spec, proto)) if ["tcp", "udp", "sctp"].contains(&proto) => (spec, proto),
        Some(_) => return Err(format!("port {s:?}: the protocol must be tcp, udp or sctp")),
        None => (s, "tcp"),
    };
    let parts: Vec<&str> = spec.rsplitn(3, ':').collect();
    let container = parts[0];
    let container_port = container
        .parse::<u16>()
        .ok()
        .filter(|p| *p > 0)
        .ok_or_else(|| {
            format!("port {s:?}: {container:?} is not a port number (ranges are not supported yet)")
        })?;
    let host_port = parts
        .get(1)
        .filter(|p| !p.is_empty())
        .map(|p| p.to_string());
    if let Some(hp) = &host_port {
        if hp.parse::<u16>().is_err() {
            return Err(format!(
                "port {s:?}: {hp:?} is not a port number (ranges are not supported yet)"
            ));
        }
    }
    let host_ip = parts
        .get(2)
        .map(|ip| ip.trim_start_matches('[').trim_end_matches(']').to_string());
    if let Some(ip) = &host_ip {
        if ip.parse::<std::net::IpAddr>().is_err() {
            return Err(format!("port {s:?}: {ip:?} is not an IP address"));
        }
    }
    Ok(PortSpec {
        host_ip,
        host_port,
        container_port,
        protocol: protocol.into(),
    })
}

/// `SOURCE:TARGET[:MODE]` or `TARGET`: (source, target, read_only, kind).
fn parse_volume(s: &str) -> Result<(String, String, bool, &'static str), String> {
    let parts: Vec<&str> = s.split(':').collect();
    let (source, target, mode) = match parts.as_slice() {
        [target] => ("", *target, ""),
        [source, target] => (*source, *target, ""),
        [source, target, mode] => (*source, *target, *mode),
        _ => return Err(format!("volume {s:?} is not SOURCE:TARGET[:ro|rw]")),
    };
    let mut read_only = false;
    for m in mode.split(',').filter(|m| !m.is_empty()) {
        match m {
            "ro" => read_only = true,
            "rw" | "z" | "Z" => {}
            other => {
                return Err(format!(
                    "volume {s:?}: mode {other:?} is not supported yet (use ro or rw)"
                ))
            }
        }
    }
    Ok((source.to_owned(), target.to_owned(), read_only, "auto"))
}

/// Go's duration syntax (`1m30s`, `500ms`), as Compose takes it, in nanoseconds.
/// Hand-written: a handful of lines, and the crates for it read a different syntax.
pub fn duration_ns(s: &str) -> Result<i64, String> {
    let bad = || format!("{s:?} is not a duration like 30s, 1m30s or 500ms");
    let mut total: f64 = 0.0;
    let mut rest = s.trim();
    if rest.is_empty() {
        return Err(bad());
    }
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(bad)?;
        let n: f64 = rest[..num_len].parse().map_err(|_| bad())?;
        rest = &rest[num_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let factor = match &rest[..unit_len] {
            "h" => 3.6e12,
            "m" => 6e10,
            "s" => 1e9,
            "ms" => 1e6,
            "us" | "µs" => 1e3,
            "ns" => 1.0,
            _ => return Err(bad()),
        };
        total += n * factor;
        rest = &rest[unit_len..];
    }
    Ok(total as i64)
}

fn health(h: &dc::Healthcheck) -> Result<Option<HealthSpec>, String> {
    if h.disable {
        return Ok(Some(HealthSpec {
            test: vec!["NONE".into()],
            interval: None,
            timeout: None,
            retries: None,
            start_period: None,
        }));
    }
    let test = match &h.test {
        Some(dc::HealthcheckTest::Single(s)) => vec!["CMD-SHELL".into(), s.clone()],
        Some(dc::HealthcheckTest::Multiple(v)) => v.clone(),
        None => vec![],
    };
    let d = |v: &Option<String>| v.as_deref().map(duration_ns).transpose();
    Ok(Some(HealthSpec {
        test,
        interval: d(&h.interval)?,
        timeout: d(&h.timeout)?,
        retries: (h.retries > 0).then_some(h.retries),
        start_period: d(&h.start_period)?,
    }))
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
mod tests {
    use super::*;
    use crate::stacks::parse::parse;

    fn load(text: &str) -> Result<Project, Vec<ComposeProblem>> {
        let parsed = parse(text, None)?;
        project(
            &parsed,
            &Origin {
                name: "demo",
                working_dir: Path::new("/data/stacks/demo"),
                text,
            },
        )
    }

    #[test]
    fn ports_parse() {
        assert_eq!(parse_port("80").unwrap().host_port, None);
        let p = parse_port("127.0.0.1:8080:80/udp").unwrap();
        assert_eq!(
            (
                p.host_ip.as_deref(),
                p.host_port.as_deref(),
                p.container_port,
                p.protocol.as_str()
            ),
            (Some("127.0.0.1"), Some("8080"), 80, "udp")
        );
        assert!(parse_port("x:80").is_err());
        assert!(parse_port("8000-8010:80").is_err());
    }

    #[test]
    fn durations() {
        assert_eq!(duration_ns("1m30s").unwrap(), 90_000_000_000);
        assert_eq!(duration_ns("500ms").unwrap(), 500_000_000);
        assert!(duration_ns("5 minutes").is_err());
    }

    #[test]
    fn the_seed_example_loads_in_order() {
        let text = r#"
services:
  web:
    build: { context: ./, dockerfile: Dockerfile }
    image: web:1
    restart: always
    depends_on: [db]
    environment:
      TZ: Asia/Shanghai
    ports: ["3306:3306"]
    volumes: ["data:/data", "./conf:/etc/conf:ro"]
    networks:
      back: { ipv4_address: 172.30.0.10 }
  db:
    image: db
    environment: ["A=1"]
    command: sh -c 'sleep 1'
    networks: [back]
networks:
  back:
    ipam: { config: [{ subnet: 172.30.0.0/24 }] }
volumes:
  data: {}
"#;
        let p = load(text).unwrap();
        let names: Vec<_> = p.services.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["db", "web"]);
        let web = &p.services[1];
        assert_eq!(
            web.build.as_ref().unwrap().context,
            Path::new("/data/stacks/demo")
        );
        assert!(matches!(&web.mounts[0].source, MountSource::Volume(n) if n == "demo_data"));
        assert!(
            matches!(&web.mounts[1].source, MountSource::Bind(n) if n == "/data/stacks/demo/conf")
        );
        assert!(web.mounts[1].read_only);
        assert_eq!(web.networks[0].name, "demo_back");
        assert_eq!(web.networks[0].ipv4.as_deref(), Some("172.30.0.10"));
        assert_eq!(
            p.services[0].command.as_ref().unwrap(),
            &["sh", "-c", "sleep 1"]
        );
        assert!(p.networks.iter().all(|n| n.key != "default"));
    }

    #[test]
    fn paths_may_not_leave_the_folder() {
        for bad in [
            "services: { a: { build: ../x } }",
            "services: { a: { build: /etc } }",
            "services: { a: { image: x, volumes: ['../up:/x'] } }",
            "services: { a: { image: x, env_file: ../secret.env } }",
            "services: { a: { image: x, env_file: /etc/passwd } }",
            "services: { a: { build: { context: ., dockerfile: ../../Dockerfile } } }",
        ] {
            let err = load(bad)
                .err()
                .unwrap_or_else(|| panic!("{bad} should fail"));
            assert!(
                err.iter()
                    .any(|p| p.message.contains("folder") || p.message.contains("absolute")),
                "{bad}: {err:?}"
            );
        }
    }

    #[test]
    fn semantic_errors() {
        let err = load("services: { a: { image: x, depends_on: [b] } }")
            .err()
            .unwrap();
        assert!(err[0].message.contains("does not define"), "{err:?}");
        let err = load(
            "services: { a: { image: x, depends_on: [b] }, b: { image: y, depends_on: [a] } }",
        )
        .err()
        .unwrap();
        assert!(err[0].message.contains("cycle"), "{err:?}");
        let err = load("services: { a: { image: x, volumes: ['nope:/x'] } }")
            .err()
            .unwrap();
        assert!(err[0].message.contains("not declared"), "{err:?}");
        let err = load("services: { a: { } }").err().unwrap();
        assert!(err[0].message.contains("image or a build"), "{err:?}");
    }
}
