//! One service of the file → its [`ServiceSpec`]: image and build, environment, ports,
//! mounts, networks, dependencies, healthcheck, process, and the runtime keys.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use docker_compose_types as dc;
use serde_yaml::{Mapping, Value};

use super::mounts::{self, Ctx};
use super::values::{boolean, bytes, duration_ns, list, map, scalar};
use super::{
    inside, labels, BuildSpec, Dependency, HealthSpec, Problems, ServiceNetwork, ServiceSpec,
    VolumeSpec,
};
use crate::stacks::locate::line_of;

pub struct In<'a> {
    pub project: &'a str,
    pub working_dir: &'a Path,
    pub text: &'a str,
    pub v1: bool,
    pub vars: &'a HashMap<String, String>,
    pub volumes: &'a [VolumeSpec],
    pub root: &'a Mapping,
}

/// Read service `name`; problems go to `problems`, ignored keys to `ignored`.
pub fn read(
    cx: &In,
    name: &str,
    typed: &dc::Service,
    raw: &Mapping,
    problems: &mut Problems,
    ignored: &mut Vec<String>,
) -> ServiceSpec {
    let sp = ["services", name];
    let add = |problems: &mut Problems, key: &str, msg: String| {
        problems.add(&[sp[0], sp[1], key], msg);
    };

    let mut lines = BTreeMap::new();
    for (k, _) in raw {
        if let Some(k) = k.as_str() {
            let path: Vec<&str> = if cx.v1 {
                vec![name, k]
            } else {
                vec![sp[0], name, k]
            };
            if let Some(l) = line_of(cx.text, &path) {
                lines.insert(k.to_owned(), l);
            }
        }
    }

    let build = match raw.get("build") {
        None | Some(Value::Null) => None,
        Some(b) => match build(cx, b, ignored) {
            Ok(b) => Some(b),
            Err((key, e)) => {
                problems.add(&[sp[0], sp[1], "build", key], e);
                None
            }
        },
    };
    let image = match (&typed.image, &build) {
        (Some(i), _) if !i.trim().is_empty() => i.trim().to_owned(),
        // Compose 1.x names a built image `{project}_{service}`.
        (_, Some(_)) => format!("{}_{name}", cx.project),
        _ => {
            if !raw.contains_key("build") {
                problems.add(&sp, format!("service {name} needs an image or a build"));
            }
            String::new()
        }
    };

    let environment = environment(cx, typed, raw, problems, name);

    let ports = super::ports::ports(raw.get("ports")).unwrap_or_else(|e| {
        add(problems, "ports", e);
        vec![]
    });
    let expose = super::ports::expose(raw.get("expose")).unwrap_or_else(|e| {
        add(problems, "expose", e);
        vec![]
    });

    let ctx = Ctx {
        working_dir: cx.working_dir,
        volumes: cx.volumes,
        service: name,
    };
    let mut mount_list = Vec::new();
    for m in mounts::volumes(&ctx, raw.get("volumes")) {
        match m {
            Ok(m) => mount_list.push(m),
            Err(e) => add(problems, "volumes", e),
        }
    }
    let mut files = Vec::new();
    for kind in ["secrets", "configs"] {
        match mounts::files(
            &ctx,
            kind,
            raw.get(kind),
            cx.root.get(kind),
            cx.vars,
            ignored,
        ) {
            Ok((binds, copies)) => {
                mount_list.extend(binds);
                files.extend(copies);
            }
            Err(e) => add(problems, kind, e),
        }
    }

    let mut key_problems = Vec::new();
    let (runtime, deploy) = super::runtime::read(raw, &mut key_problems, ignored);
    for (key, msg) in key_problems {
        add(problems, &key, msg);
    }

    let network_mode = raw
        .get("network_mode")
        .or_else(|| raw.get("net"))
        .and_then(scalar);
    let networks = networks(typed, raw, problems, name);
    if network_mode.is_some() && raw.contains_key("networks") {
        add(
            problems,
            "network_mode",
            format!("service {name}: network_mode and networks cannot be combined"),
        );
    }

    let mut depends_on = depends_on(typed, problems, name, cx.root);
    let implied = |svc: &str, deps: &mut Vec<Dependency>| {
        if !deps.iter().any(|d| d.service == svc) {
            deps.push(Dependency {
                service: svc.to_owned(),
                healthy: false,
                completed: false,
                required: true,
            });
        }
    };
    let mut links = Vec::new();
    for l in list(raw.get("links")).unwrap_or_default() {
        let (svc, alias) = l.split_once(':').unwrap_or((&l, &l));
        implied(svc, &mut depends_on);
        links.push((svc.to_owned(), alias.to_owned()));
    }
    let external_links = list(raw.get("external_links")).unwrap_or_default();
    let mut volumes_from = Vec::new();
    for v in list(raw.get("volumes_from")).unwrap_or_default() {
        if let Some(c) = v.strip_prefix("container:") {
            volumes_from.push(super::VolumesFrom::Container(c.to_owned()));
        } else {
            let (svc, mode) = match v.rsplit_once(':') {
                Some((s, m)) if m == "ro" || m == "rw" => (s.to_owned(), Some(m.to_owned())),
                _ => (v.clone(), None),
            };
            implied(&svc, &mut depends_on);
            volumes_from.push(super::VolumesFrom::Service(svc, mode));
        }
    }
    for mode in [&network_mode, &runtime.pid, &runtime.ipc] {
        if let Some(svc) = mode.as_deref().and_then(|m| m.strip_prefix("service:")) {
            implied(svc, &mut depends_on);
        }
    }

    let restart = typed.restart.clone().or(deploy.restart);
    if let Some(r) = &restart {
        let base = r.split(':').next().unwrap_or_default();
        if !["no", "always", "unless-stopped", "on-failure"].contains(&base) {
            add(
                problems,
                "restart",
                format!("restart {r:?} is not one of no, always, unless-stopped, on-failure[:N]"),
            );
        }
    }
    let replicas = match (deploy.replicas, raw.get("scale")) {
        (Some(n), _) => n,
        (None, Some(s)) => super::values::int(s).map(|n| n.max(0) as u32).unwrap_or(1),
        (None, None) => 1,
    };
    if replicas > 1 && typed.container_name.is_some() {
        add(
            problems,
            "container_name",
            format!("service {name}: a container_name cannot be given to {replicas} replicas"),
        );
    }

    let healthcheck = match &typed.healthcheck {
        Some(h) => health(h).unwrap_or_else(|e| {
            add(problems, "healthcheck", e);
            None
        }),
        None => None,
    };
    let mut words = |what: &str, s: &str| -> Option<Vec<String>> {
        let split = shlex::split(s);
        if split.is_none() {
            add(
                problems,
                what,
                format!("{what} {s:?} has an unclosed quote"),
            );
        }
        split
    };
    let command = match &typed.command {
        Some(dc::Command::Simple(s)) => words("command", s),
        Some(dc::Command::Args(a)) => Some(a.clone()),
        None => None,
    };
    let entrypoint = match &typed.entrypoint {
        Some(dc::Entrypoint::Simple(s)) => words("entrypoint", s),
        Some(dc::Entrypoint::List(a)) => Some(a.clone()),
        None => None,
    };
    let pull_policy = raw.get("pull_policy").and_then(scalar);
    if let Some(p) = &pull_policy {
        if ![
            "always",
            "never",
            "missing",
            "if_not_present",
            "build",
            "daily",
            "weekly",
        ]
        .contains(&p.as_str())
            && !p.starts_with("every_")
        {
            add(
                problems,
                "pull_policy",
                format!("pull_policy {p:?} is not always, never, missing or build"),
            );
        }
    }

    ServiceSpec {
        name: name.to_owned(),
        image,
        build,
        container_name: typed.container_name.clone(),
        restart,
        environment,
        ports,
        expose,
        mounts: mount_list,
        files,
        command,
        entrypoint,
        working_dir: typed.working_dir.clone(),
        hostname: typed.hostname.clone(),
        user: typed.user.clone(),
        tty: typed.tty,
        stdin_open: typed.stdin_open,
        privileged: typed.privileged,
        networks,
        network_mode,
        links,
        external_links,
        volumes_from,
        depends_on,
        labels: labels(&typed.labels),
        healthcheck,
        runtime,
        replicas,
        pull_policy,
        lines,
    }
}

fn build(
    cx: &In,
    b: &Value,
    ignored: &mut Vec<String>,
) -> Result<BuildSpec, (&'static str, String)> {
    let empty = Mapping::new();
    let (context, m) = match b {
        Value::Mapping(m) => (
            m.get("context")
                .and_then(scalar)
                .unwrap_or_else(|| ".".into()),
            m,
        ),
        other => (
            scalar(other).ok_or(("context", "build is a path or a mapping".to_string()))?,
            &empty,
        ),
    };
    let context =
        inside(cx.working_dir, &context).map_err(|e| ("context", format!("build context {e}")))?;
    let dockerfile = m
        .get("dockerfile")
        .and_then(scalar)
        .unwrap_or_else(|| "Dockerfile".into());
    inside(Path::new("/"), &dockerfile).map_err(|e| ("dockerfile", format!("dockerfile {e}")))?;
    if m.contains_key("dockerfile_inline") {
        return Err((
            "dockerfile_inline",
            "build.dockerfile_inline: write the Dockerfile into the stack's folder instead (not supported)".into(),
        ));
    }
    let args = map(m.get("args"), '=')
        .map_err(|e| ("args", format!("build.args: {e}")))?
        .into_iter()
        // `- KEY` alone takes the value from the environment (the stack's `.env`).
        .filter_map(|(k, v)| {
            let listed_bare = matches!(m.get("args"), Some(Value::Sequence(s))
                if s.iter().any(|i| i.as_str() == Some(k.as_str())));
            if listed_bare || (v.is_empty() && matches!(m.get("args"), Some(Value::Mapping(mm)) if mm.get(k.as_str()).is_some_and(Value::is_null))) {
                cx.vars.get(&k).map(|v| (k, v.clone()))
            } else {
                Some((k, v))
            }
        })
        .collect();
    for k in [
        "ssh",
        "cache_to",
        "secrets",
        "tags",
        "platforms",
        "additional_contexts",
        "provenance",
        "sbom",
        "entitlements",
        "isolation",
        "privileged",
        "ulimits",
    ] {
        if m.contains_key(k) {
            ignored.push(format!(
                "build.{k}: not sent with the build (the daemon's classic builder)"
            ));
        }
    }
    Ok(BuildSpec {
        context,
        dockerfile,
        args,
        target: m.get("target").and_then(scalar),
        labels: map(m.get("labels"), '=').map_err(|e| ("labels", format!("build.labels: {e}")))?,
        cache_from: list(m.get("cache_from")).map_err(|e| ("cache_from", e))?,
        network: m.get("network").and_then(scalar),
        extra_hosts: list(m.get("extra_hosts")).map_err(|e| ("extra_hosts", e))?,
        shm_size: m
            .get("shm_size")
            .map(bytes)
            .transpose()
            .map_err(|e| ("shm_size", e))?,
        no_cache: m
            .get("no_cache")
            .map(boolean)
            .transpose()
            .map_err(|e| ("no_cache", e))?
            .unwrap_or(false),
        pull: m
            .get("pull")
            .map(boolean)
            .transpose()
            .map_err(|e| ("pull", e))?
            .unwrap_or(false),
    })
}

fn environment(
    cx: &In,
    typed: &dc::Service,
    raw: &Mapping,
    problems: &mut Problems,
    name: &str,
) -> Vec<String> {
    // The last value of a key wins: env files in order, then `environment:`.
    let mut env: Vec<(String, String)> = Vec::new();
    let set = |k: String, v: String, env: &mut Vec<(String, String)>| match env
        .iter_mut()
        .find(|(ek, _)| *ek == k)
    {
        Some(e) => e.1 = v,
        None => env.push((k, v)),
    };
    let at = ["services", name, "env_file"];
    let files: Vec<(String, bool)> = match raw.get("env_file") {
        None | Some(Value::Null) => vec![],
        Some(Value::Sequence(items)) => items
            .iter()
            .filter_map(|i| match i {
                Value::Mapping(m) => Some((
                    m.get("path").and_then(scalar)?,
                    m.get("required")
                        .map(|r| boolean(r).unwrap_or(true))
                        .unwrap_or(true),
                )),
                other => scalar(other).map(|s| (s, true)),
            })
            .collect(),
        Some(other) => scalar(other).map(|s| vec![(s, true)]).unwrap_or_default(),
    };
    for (f, required) in files {
        let text = inside(cx.working_dir, &f).and_then(|p| match std::fs::read_to_string(&p) {
            Ok(t) => Ok(Some(t)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !required => Ok(None),
            Err(e) => Err(format!("{f:?} cannot be read: {e}")),
        });
        match text {
            Ok(Some(text)) => match crate::stacks::envfile::parse(&text) {
                Ok(entries) => {
                    for (k, v) in entries {
                        match v {
                            Some(v) => set(k, v, &mut env),
                            None => {
                                if let Some(v) = cx.vars.get(&k) {
                                    set(k, v.clone(), &mut env);
                                }
                            }
                        }
                    }
                }
                Err((line, e)) => problems.add(&at, format!("{f} line {line}: {e}")),
            },
            Ok(None) => {}
            Err(e) => problems.add(&at, format!("env_file {e}")),
        }
    }
    match &typed.environment {
        dc::Environment::List(items) => {
            for item in items {
                match item.split_once('=') {
                    Some((k, v)) => set(k.to_owned(), v.to_owned(), &mut env),
                    None => {
                        if let Some(v) = cx.vars.get(item) {
                            set(item.clone(), v.clone(), &mut env);
                        }
                    }
                }
            }
        }
        dc::Environment::KvPair(m) => {
            for (k, v) in m {
                match v {
                    Some(v) => set(k.clone(), v.to_string(), &mut env),
                    None => {
                        if let Some(v) = cx.vars.get(k) {
                            set(k.clone(), v.clone(), &mut env);
                        }
                    }
                }
            }
        }
    }
    env.into_iter().map(|(k, v)| format!("{k}={v}")).collect()
}

fn networks(
    typed: &dc::Service,
    raw: &Mapping,
    problems: &mut Problems,
    name: &str,
) -> Vec<ServiceNetwork> {
    let declared: Vec<(String, Option<dc::AdvancedNetworkSettings>)> = match &typed.networks {
        dc::Networks::Simple(names) => names.iter().map(|n| (n.clone(), None)).collect(),
        dc::Networks::Advanced(adv) => adv
            .0
            .iter()
            .map(|(n, s)| (n.clone(), s.clone().into()))
            .collect(),
    };
    let mut out = Vec::new();
    for (key, settings) in declared {
        let settings = settings.unwrap_or_default();
        if let Some(ip) = &settings.ipv4_address {
            if ip.parse::<std::net::Ipv4Addr>().is_err() {
                problems.add(
                    &["services", name, "networks"],
                    format!("ipv4_address {ip:?} is not an IPv4 address"),
                );
            }
        }
        let priority = raw
            .get("networks")
            .and_then(|n| n.get(key.as_str()))
            .and_then(|n| n.get("priority"))
            .and_then(|p| super::values::int(p).ok())
            .unwrap_or(0);
        out.push(ServiceNetwork {
            key,
            name: String::new(),
            ipv4: settings.ipv4_address.clone(),
            aliases: settings.aliases.clone(),
            priority,
        });
    }
    out
}

fn depends_on(
    typed: &dc::Service,
    problems: &mut Problems,
    name: &str,
    root: &Mapping,
) -> Vec<Dependency> {
    let defined = |s: &str| root.get("services").and_then(|v| v.get(s)).is_some();
    match &typed.depends_on {
        dc::DependsOnOptions::Simple(names) => names
            .iter()
            .map(|s| Dependency {
                service: s.clone(),
                healthy: false,
                completed: false,
                required: true,
            })
            .collect(),
        dc::DependsOnOptions::Conditional(map) => {
            let mut deps = Vec::new();
            for (s, cond) in map {
                let required = cond.required.unwrap_or(true);
                // `required: false`: a service that is not there (another profile) is skipped.
                if !required && !defined(s) {
                    continue;
                }
                let (healthy, completed) = match cond.condition.as_str() {
                    "service_started" => (false, false),
                    "service_healthy" => (true, false),
                    "service_completed_successfully" => (false, true),
                    other => {
                        problems.add(
                            &["services", name, "depends_on"],
                            format!(
                                "depends_on condition {other:?} is not service_started, service_healthy or service_completed_successfully"
                            ),
                        );
                        continue;
                    }
                };
                deps.push(Dependency {
                    service: s.clone(),
                    healthy,
                    completed,
                    required,
                });
            }
            deps
        }
    }
}

fn health(h: &dc::Healthcheck) -> Result<Option<HealthSpec>, String> {
    if h.disable {
        return Ok(Some(HealthSpec {
            test: vec!["NONE".into()],
            interval: None,
            timeout: None,
            retries: None,
            start_period: None,
            start_interval: None,
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
        start_interval: d(&h.start_interval)?,
    }))
}
