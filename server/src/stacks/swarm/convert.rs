//! One compose service → the Swarm `ServiceSpec` that `docker stack deploy` sends, built
//! from berth's model of the service (image, process, environment, mounts, healthcheck,
//! runtime) and the file's `deploy:`, `ports:`, `networks:`, `secrets:` and `configs:`,
//! which only a swarm reads.

use std::collections::HashMap;

use bollard::models::{
    EndpointPortConfig, EndpointSpec, HealthConfig, Limit, Mount, MountTypeEnum,
    MountVolumeOptions, NetworkAttachmentConfig, ResourceObject, ResourcesUlimits, ServiceSpec,
    ServiceSpecMode, ServiceSpecModeReplicated, TaskSpec, TaskSpecContainerSpec,
    TaskSpecContainerSpecConfigs, TaskSpecContainerSpecDnsConfig, TaskSpecContainerSpecFile,
    TaskSpecContainerSpecFile1, TaskSpecContainerSpecSecrets, TaskSpecPlacement,
    TaskSpecPlacementPreferences, TaskSpecPlacementSpread, TaskSpecResources,
    TaskSpecRestartPolicy,
};
use serde_yaml::{Mapping, Value};

use super::{FileRef, IMAGE_LABEL, NAMESPACE_LABEL};
use crate::stacks::model::values::{bytes, duration, int, number, scalar};
use crate::stacks::model::{parse_port, MountSource, ServiceSpec as Service};

/// What converting one service needs from the stack.
pub struct Cx<'a> {
    pub stack: &'a str,
    /// Network key → daemon name.
    pub networks: &'a HashMap<String, String>,
    pub secrets: &'a [FileRef],
    pub configs: &'a [FileRef],
}

fn ns_label(stack: &str) -> HashMap<String, String> {
    HashMap::from([(NAMESPACE_LABEL.to_owned(), stack.to_owned())])
}

/// Read a value with the shape serde gives the daemon's type (the update and rollback
/// configs, enums as the API spells them).
fn typed<T: serde::de::DeserializeOwned>(key: &str, v: serde_json::Value) -> Result<T, String> {
    serde_json::from_value(v).map_err(|e| format!("{key}: {e}"))
}

fn ns(key: &str, v: &Value) -> Result<i64, String> {
    match v {
        Value::String(s) => duration(&Value::String(s.clone())),
        other => duration(other),
    }
    .map_err(|e| format!("{key}: {e}"))
}

/// `update_config` / `rollback_config` in the API's JSON shape.
fn update_json(key: &str, m: &Mapping) -> Result<serde_json::Value, String> {
    let mut o = serde_json::Map::new();
    for (k, v) in m {
        let k = k.as_str().unwrap_or_default();
        let at = format!("deploy.{key}.{k}");
        let (name, val) = match k {
            "parallelism" => (
                "Parallelism",
                int(v).map_err(|e| format!("{at}: {e}"))?.into(),
            ),
            "delay" => ("Delay", ns(&at, v)?.into()),
            "monitor" => ("Monitor", ns(&at, v)?.into()),
            "max_failure_ratio" => (
                "MaxFailureRatio",
                number(v).map_err(|e| format!("{at}: {e}"))?.into(),
            ),
            "failure_action" => ("FailureAction", scalar(v).unwrap_or_default().into()),
            "order" => ("Order", scalar(v).unwrap_or_default().into()),
            other => return Err(format!("deploy.{key}: {other:?} is not a key of {key}")),
        };
        o.insert(name.into(), val);
    }
    Ok(serde_json::Value::Object(o))
}

fn restart_policy(
    deploy: &Mapping,
    restart: Option<&str>,
) -> Result<Option<TaskSpecRestartPolicy>, String> {
    if let Some(Value::Mapping(p)) = deploy.get("restart_policy") {
        let mut o = serde_json::Map::new();
        for (k, v) in p {
            let k = k.as_str().unwrap_or_default();
            let at = format!("deploy.restart_policy.{k}");
            match k {
                "condition" => {
                    let c = scalar(v).unwrap_or_default();
                    if !["none", "on-failure", "any"].contains(&c.as_str()) {
                        return Err(format!("{at}: {c:?} is not none, on-failure or any"));
                    }
                    o.insert("Condition".into(), c.into());
                }
                "delay" => drop(o.insert("Delay".into(), ns(&at, v)?.into())),
                "window" => drop(o.insert("Window".into(), ns(&at, v)?.into())),
                "max_attempts" => drop(o.insert(
                    "MaxAttempts".into(),
                    int(v).map_err(|e| format!("{at}: {e}"))?.into(),
                )),
                other => {
                    return Err(format!(
                        "deploy.restart_policy: {other:?} is not a key of restart_policy"
                    ))
                }
            }
        }
        return typed("deploy.restart_policy", serde_json::Value::Object(o)).map(Some);
    }
    // Without `deploy.restart_policy` the CLI still reads `restart:` into the policy.
    let Some(r) = restart else { return Ok(None) };
    let (cond, max) = match r.split_once(':') {
        Some(("on-failure", n)) => ("on-failure", n.parse::<i64>().ok()),
        _ => match r {
            "no" => ("none", None),
            "always" | "unless-stopped" => ("any", None),
            "on-failure" => ("on-failure", None),
            other => {
                return Err(format!(
                    "restart: {other:?} is not no, always, unless-stopped or on-failure[:N]"
                ))
            }
        },
    };
    Ok(Some(TaskSpecRestartPolicy {
        condition: typed("restart", cond.into())?,
        max_attempts: max,
        ..Default::default()
    }))
}

fn resources(deploy: &Mapping) -> Result<Option<TaskSpecResources>, String> {
    let Some(Value::Mapping(r)) = deploy.get("resources") else {
        return Ok(None);
    };
    let part = |k: &str| r.get(k).and_then(Value::as_mapping);
    let cpus = |m: &Mapping, at: &str| -> Result<Option<i64>, String> {
        m.get("cpus")
            .map(|c| {
                number(c)
                    .map(|c| (c * 1e9) as i64)
                    .map_err(|e| format!("{at}.cpus: {e}"))
            })
            .transpose()
    };
    let mem = |m: &Mapping, at: &str| -> Result<Option<i64>, String> {
        m.get("memory")
            .map(|c| bytes(c).map_err(|e| format!("{at}.memory: {e}")))
            .transpose()
    };
    let limits = match part("limits") {
        Some(l) => Some(Limit {
            nano_cpus: cpus(l, "deploy.resources.limits")?,
            memory_bytes: mem(l, "deploy.resources.limits")?,
            pids: l.get("pids").map(int).transpose()?,
        }),
        None => None,
    };
    let reservations = match part("reservations") {
        Some(l) => Some(ResourceObject {
            nano_cpus: cpus(l, "deploy.resources.reservations")?,
            memory_bytes: mem(l, "deploy.resources.reservations")?,
            generic_resources: None,
        }),
        None => None,
    };
    Ok(Some(TaskSpecResources {
        limits,
        reservations,
    }))
}

fn placement(deploy: &Mapping) -> Result<Option<TaskSpecPlacement>, String> {
    let Some(Value::Mapping(p)) = deploy.get("placement") else {
        return Ok(None);
    };
    let constraints = p
        .get("constraints")
        .and_then(Value::as_sequence)
        .map(|c| c.iter().filter_map(scalar).collect());
    let preferences = p.get("preferences").and_then(Value::as_sequence).map(|ps| {
        ps.iter()
            .filter_map(|x| x.get("spread").and_then(scalar))
            .map(|s| TaskSpecPlacementPreferences {
                spread: Some(TaskSpecPlacementSpread {
                    spread_descriptor: Some(s),
                }),
            })
            .collect()
    });
    let max_replicas = p
        .get("max_replicas_per_node")
        .map(|m| int(m).map_err(|e| format!("deploy.placement.max_replicas_per_node: {e}")))
        .transpose()?;
    Ok(Some(TaskSpecPlacement {
        constraints,
        preferences,
        max_replicas,
        platforms: None,
    }))
}

fn mode(deploy: &Mapping, svc: &Service) -> Result<ServiceSpecMode, String> {
    let replicas = match deploy.get("replicas") {
        Some(r) => Some(int(r).map_err(|e| format!("deploy.replicas: {e}"))?),
        None => None,
    };
    match deploy.get("mode").and_then(scalar).as_deref() {
        None | Some("replicated") => Ok(ServiceSpecMode {
            replicated: Some(ServiceSpecModeReplicated {
                replicas: Some(replicas.unwrap_or(svc.replicas.max(1) as i64)),
            }),
            ..Default::default()
        }),
        Some("global") if replicas.is_some() => Err(
            "deploy.replicas: a global service runs one task per node and takes no replicas".into(),
        ),
        Some("global") => Ok(ServiceSpecMode {
            global: Some(HashMap::new()),
            ..Default::default()
        }),
        Some(other) => Err(format!(
            "deploy.mode: {other:?} is not replicated or global"
        )),
    }
}

/// `ports:` as the service's endpoint: the short syntax publishes through the ingress
/// mesh; the long one may say `mode: host`.
fn ports(raw: &Mapping) -> Result<Vec<EndpointPortConfig>, String> {
    let mut out = Vec::new();
    for p in raw
        .get("ports")
        .and_then(Value::as_sequence)
        .into_iter()
        .flatten()
    {
        match p {
            Value::Mapping(m) => {
                let target = m
                    .get("target")
                    .map(int)
                    .transpose()?
                    .ok_or("ports: a long-syntax port needs a target")?;
                let published = match m.get("published").and_then(scalar) {
                    Some(s) => Some(
                        s.parse::<i64>()
                            .map_err(|_| format!("ports: published {s:?} is not a port"))?,
                    ),
                    None => None,
                };
                let proto = m
                    .get("protocol")
                    .and_then(scalar)
                    .unwrap_or_else(|| "tcp".into());
                let mode = m
                    .get("mode")
                    .and_then(scalar)
                    .unwrap_or_else(|| "ingress".into());
                out.push(EndpointPortConfig {
                    protocol: typed("ports.protocol", proto.into())?,
                    target_port: Some(target),
                    published_port: published,
                    publish_mode: typed("ports.mode", mode.into())?,
                    name: m.get("name").and_then(scalar),
                });
            }
            other => {
                let s = scalar(other).unwrap_or_default();
                for spec in parse_port(&s)? {
                    let published = match spec.host_port.as_deref() {
                        None => None,
                        Some(h) => Some(h.parse::<i64>().map_err(|_| {
                            format!("port {s:?}: a swarm publishes one port, not the range {h}")
                        })?),
                    };
                    out.push(EndpointPortConfig {
                        protocol: typed("ports", spec.protocol.into())?,
                        target_port: Some(spec.container_port.into()),
                        published_port: published,
                        publish_mode: typed("ports", "ingress".into())?,
                        name: None,
                    });
                }
            }
        }
    }
    Ok(out)
}

/// A secret or config in a task: (object name, file name, uid, gid, mode).
type Mounted = (String, String, String, String, u32);

/// `secrets:` / `configs:` of a service: references to the stack's (scoped) objects,
/// mounted at `/run/secrets/NAME` or `/NAME` unless a target is given.
fn file_refs(raw: &Mapping, key: &str, known: &[FileRef]) -> Result<Vec<Mounted>, String> {
    let mut out = Vec::new();
    for r in raw
        .get(key)
        .and_then(Value::as_sequence)
        .into_iter()
        .flatten()
    {
        let (source, m) = match r {
            Value::Mapping(m) => (
                m.get("source").and_then(scalar).unwrap_or_default(),
                Some(m),
            ),
            other => (scalar(other).unwrap_or_default(), None),
        };
        let Some(f) = known.iter().find(|f| f.key == source) else {
            return Err(format!(
                "{key}: {source:?} is not declared under the top-level {key}:"
            ));
        };
        let get = |k: &str| m.and_then(|m| m.get(k)).and_then(scalar);
        let target = get("target").unwrap_or_else(|| source.clone());
        // A quoted mode (`"0440"`) is octal as the CLI reads it; `0o440` is YAML's octal.
        let mode = match m.and_then(|m| m.get("mode")) {
            Some(Value::String(s)) => u32::from_str_radix(s.trim_start_matches("0o"), 8)
                .map_err(|_| format!("{key}.mode: {s:?} is not an octal file mode"))?,
            Some(v) => int(v).map_err(|e| format!("{key}.mode: {e}"))? as u32,
            None => 0o444,
        };
        out.push((
            f.name.clone(),
            target,
            get("uid").unwrap_or_else(|| "0".into()),
            get("gid").unwrap_or_else(|| "0".into()),
            mode,
        ));
    }
    Ok(out)
}

fn mounts(svc: &Service, stack: &str) -> Vec<Mount> {
    svc.mounts
        .iter()
        // A secret's or config's file is a swarm secret or config here, not a bind.
        .filter(|m| !m.must_exist)
        .map(|m| {
            let (typ, source) = match &m.source {
                MountSource::Bind(p) => (MountTypeEnum::BIND, Some(p.clone())),
                MountSource::Volume(v) => (MountTypeEnum::VOLUME, Some(v.clone())),
                MountSource::Anonymous => (MountTypeEnum::VOLUME, None),
                MountSource::Tmpfs => (MountTypeEnum::TMPFS, None),
            };
            Mount {
                target: Some(m.target.clone()),
                volume_options: (typ == MountTypeEnum::VOLUME).then(|| MountVolumeOptions {
                    labels: Some(ns_label(stack)),
                    no_copy: Some(m.flags.iter().any(|f| f == "nocopy")),
                    ..Default::default()
                }),
                source,
                typ: Some(typ),
                read_only: Some(m.read_only),
                ..Default::default()
            }
        })
        .collect()
}

/// The spec of one service, named `STACK_SERVICE`.
pub fn service(cx: &Cx, svc: &Service, raw: &Mapping) -> Result<ServiceSpec, String> {
    let empty = Mapping::new();
    let deploy = raw
        .get("deploy")
        .and_then(Value::as_mapping)
        .unwrap_or(&empty);
    let mut env = svc.environment.clone();
    env.sort();
    let mut labels = ns_label(cx.stack);
    labels.extend(svc.labels.iter().map(|(k, v)| (k.clone(), v.clone())));
    labels.insert(NAMESPACE_LABEL.into(), cx.stack.into());
    let mut service_labels: HashMap<String, String> = match deploy.get("labels") {
        Some(l) => crate::stacks::model::values::map(Some(l), '=')?
            .into_iter()
            .collect(),
        None => HashMap::new(),
    };
    service_labels.insert(NAMESPACE_LABEL.into(), cx.stack.into());
    service_labels.insert(IMAGE_LABEL.into(), svc.image.clone());

    let r = &svc.runtime;
    let secrets = file_refs(raw, "secrets", cx.secrets)?
        .into_iter()
        .map(
            |(name, target, uid, gid, mode)| TaskSpecContainerSpecSecrets {
                file: Some(TaskSpecContainerSpecFile {
                    name: Some(target),
                    uid: Some(uid),
                    gid: Some(gid),
                    mode: Some(mode),
                }),
                secret_id: None,
                secret_name: Some(name),
            },
        )
        .collect::<Vec<_>>();
    let configs = file_refs(raw, "configs", cx.configs)?
        .into_iter()
        .map(
            |(name, target, uid, gid, mode)| TaskSpecContainerSpecConfigs {
                file: Some(TaskSpecContainerSpecFile1 {
                    name: Some(if target.starts_with('/') {
                        target
                    } else {
                        format!("/{target}")
                    }),
                    uid: Some(uid),
                    gid: Some(gid),
                    mode: Some(mode),
                }),
                config_name: Some(name),
                ..Default::default()
            },
        )
        .collect::<Vec<_>>();
    let container = TaskSpecContainerSpec {
        image: Some(svc.image.clone()),
        labels: Some(labels),
        command: svc.entrypoint.clone(),
        args: svc.command.clone(),
        hostname: svc.hostname.clone(),
        env: Some(env),
        dir: svc.working_dir.clone(),
        user: svc.user.clone(),
        groups: (!r.group_add.is_empty()).then(|| r.group_add.clone()),
        tty: Some(svc.tty),
        open_stdin: Some(svc.stdin_open),
        read_only: Some(r.read_only),
        mounts: Some(mounts(svc, cx.stack)),
        stop_signal: r.stop_signal.clone(),
        stop_grace_period: r.stop_timeout.map(|s| s * 1_000_000_000),
        health_check: svc.healthcheck.as_ref().map(|h| HealthConfig {
            test: Some(h.test.clone()),
            interval: h.interval,
            timeout: h.timeout,
            retries: h.retries,
            start_period: h.start_period,
            start_interval: h.start_interval,
        }),
        // `extra_hosts` `name:ip` becomes the `/etc/hosts` line `ip name`.
        hosts: (!r.extra_hosts.is_empty()).then(|| {
            r.extra_hosts
                .iter()
                .filter_map(|h| h.split_once([':', '=']).map(|(n, ip)| format!("{ip} {n}")))
                .collect()
        }),
        dns_config: (!(r.dns.is_empty() && r.dns_search.is_empty() && r.dns_opt.is_empty())).then(
            || TaskSpecContainerSpecDnsConfig {
                nameservers: Some(r.dns.clone()),
                search: Some(r.dns_search.clone()),
                options: Some(r.dns_opt.clone()),
            },
        ),
        secrets: Some(secrets),
        configs: Some(configs),
        init: r.init,
        sysctls: (!r.sysctls.is_empty()).then(|| r.sysctls.clone().into_iter().collect()),
        capability_add: (!r.cap_add.is_empty()).then(|| r.cap_add.clone()),
        capability_drop: (!r.cap_drop.is_empty()).then(|| r.cap_drop.clone()),
        ulimits: (!r.ulimits.is_empty()).then(|| {
            r.ulimits
                .iter()
                .map(|u| ResourcesUlimits {
                    name: Some(u.name.clone()),
                    soft: Some(u.soft),
                    hard: Some(u.hard),
                })
                .collect()
        }),
        oom_score_adj: r.oom_score_adj,
        ..Default::default()
    };

    // Every network is attached with the service's name as an alias, as the CLI does.
    let mut networks: Vec<NetworkAttachmentConfig> = svc
        .networks
        .iter()
        .map(|n| {
            let mut aliases = vec![svc.name.clone()];
            aliases.extend(n.aliases.iter().cloned());
            NetworkAttachmentConfig {
                target: cx
                    .networks
                    .get(&n.key)
                    .cloned()
                    .or_else(|| Some(n.name.clone())),
                aliases: Some(aliases),
                driver_opts: None,
            }
        })
        .collect();
    networks.sort_by(|a, b| a.target.cmp(&b.target));

    let endpoint_mode = deploy.get("endpoint_mode").and_then(scalar);
    let ports = ports(raw)?;
    let update_config = match deploy.get("update_config").and_then(Value::as_mapping) {
        Some(m) => Some(typed(
            "deploy.update_config",
            update_json("update_config", m)?,
        )?),
        None => None,
    };
    let rollback_config = match deploy.get("rollback_config").and_then(Value::as_mapping) {
        Some(m) => Some(typed(
            "deploy.rollback_config",
            update_json("rollback_config", m)?,
        )?),
        None => None,
    };
    Ok(ServiceSpec {
        name: Some(format!("{}_{}", cx.stack, svc.name)),
        labels: Some(service_labels),
        task_template: Some(TaskSpec {
            container_spec: Some(container),
            resources: resources(deploy)?,
            restart_policy: restart_policy(deploy, svc.restart.as_deref())?,
            placement: placement(deploy)?,
            networks: Some(networks),
            log_driver: r
                .log_driver
                .as_ref()
                .map(|d| bollard::models::TaskSpecLogDriver {
                    name: Some(d.clone()),
                    options: Some(r.log_opts.clone().into_iter().collect()),
                }),
            ..Default::default()
        }),
        mode: Some(mode(deploy, svc)?),
        update_config,
        rollback_config,
        networks: None,
        endpoint_spec: Some(EndpointSpec {
            mode: match endpoint_mode {
                Some(m) => typed("deploy.endpoint_mode", m.into())?,
                None => None,
            },
            ports: Some(ports),
        }),
    })
}
