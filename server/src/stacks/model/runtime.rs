//! The service keys that become the container's host configuration: capabilities, devices,
//! namespaces, limits, logging, DNS, sysctls, ulimits, stop signal and grace period, init…
//! Read from the raw file; every one of them is judged later by the one policy on the
//! create body (`auth::policy`), never here.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_yaml::{Mapping, Value};

use super::values::{boolean, bytes, duration, int, list, map, number, scalar};

#[derive(Debug, Clone, Default, Serialize)]
pub struct DeviceRequestSpec {
    pub driver: Option<String>,
    /// -1: all.
    pub count: Option<i64>,
    pub device_ids: Vec<String>,
    pub capabilities: Vec<String>,
    pub options: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DeviceSpec {
    pub host: String,
    pub container: String,
    pub permissions: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Ulimit {
    pub name: String,
    pub soft: i64,
    pub hard: i64,
}

/// Everything of a service that is neither its process, its mounts nor its networks.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Runtime {
    pub cap_add: Vec<String>,
    pub cap_drop: Vec<String>,
    pub devices: Vec<DeviceSpec>,
    pub device_cgroup_rules: Vec<String>,
    pub device_requests: Vec<DeviceRequestSpec>,
    pub security_opt: Vec<String>,
    pub read_only: bool,
    pub init: Option<bool>,
    pub extra_hosts: Vec<String>,
    pub dns: Vec<String>,
    pub dns_search: Vec<String>,
    pub dns_opt: Vec<String>,
    pub sysctls: BTreeMap<String, String>,
    pub tmpfs: BTreeMap<String, String>,
    pub ulimits: Vec<Ulimit>,
    pub log_driver: Option<String>,
    pub log_opts: BTreeMap<String, String>,
    pub pid: Option<String>,
    pub ipc: Option<String>,
    pub uts: Option<String>,
    pub userns_mode: Option<String>,
    pub cgroup: Option<String>,
    pub cgroup_parent: Option<String>,
    pub runtime: Option<String>,
    pub isolation: Option<String>,
    pub shm_size: Option<i64>,
    pub memory: Option<i64>,
    pub memory_reservation: Option<i64>,
    pub memory_swap: Option<i64>,
    pub memory_swappiness: Option<i64>,
    pub oom_kill_disable: Option<bool>,
    pub oom_score_adj: Option<i64>,
    pub cpu_shares: Option<i64>,
    pub cpu_quota: Option<i64>,
    pub cpu_period: Option<i64>,
    pub cpu_rt_period: Option<i64>,
    pub cpu_rt_runtime: Option<i64>,
    pub cpuset: Option<String>,
    pub nano_cpus: Option<i64>,
    pub pids_limit: Option<i64>,
    pub stop_signal: Option<String>,
    /// Seconds.
    pub stop_timeout: Option<i64>,
    pub group_add: Vec<String>,
    pub domainname: Option<String>,
    pub mac_address: Option<String>,
    pub storage_opt: BTreeMap<String, String>,
    pub platform: Option<String>,
    pub volume_driver: Option<String>,
}

/// What `deploy:` decides on a single host besides the runtime limits.
#[derive(Debug, Clone, Default)]
pub struct Deploy {
    pub replicas: Option<u32>,
    /// `restart_policy` as a `restart:` value (`no`, `always`, `on-failure[:N]`).
    pub restart: Option<String>,
}

/// A problem at a key of the service (its name, for the line) and the message.
pub type KeyProblem = (String, String);

fn at<T>(key: &str, r: Result<T, String>, problems: &mut Vec<KeyProblem>) -> Option<T> {
    match r {
        Ok(v) => Some(v),
        Err(e) => {
            problems.push((key.to_owned(), format!("{key}: {e}")));
            None
        }
    }
}

fn devices(v: Option<&Value>) -> Result<Vec<DeviceSpec>, String> {
    let Some(Value::Sequence(items)) = v else {
        return Ok(vec![]);
    };
    items
        .iter()
        .map(|d| match d {
            Value::Mapping(m) => {
                let host = m
                    .get("source")
                    .and_then(scalar)
                    .ok_or("a device needs a source")?;
                Ok(DeviceSpec {
                    container: m
                        .get("target")
                        .and_then(scalar)
                        .unwrap_or_else(|| host.clone()),
                    permissions: m
                        .get("permissions")
                        .and_then(scalar)
                        .unwrap_or_else(|| "rwm".into()),
                    host,
                })
            }
            other => {
                let s = scalar(other).ok_or("a device is HOST[:CONTAINER[:PERMISSIONS]]")?;
                let parts: Vec<&str> = s.split(':').collect();
                let (host, container, perms) = match parts.as_slice() {
                    [h] => (*h, *h, "rwm"),
                    [h, c] if c.starts_with('/') => (*h, *c, "rwm"),
                    [h, p] => (*h, *h, *p),
                    [h, c, p] => (*h, *c, *p),
                    _ => {
                        return Err(format!(
                            "device {s:?} is not HOST[:CONTAINER[:PERMISSIONS]]"
                        ))
                    }
                };
                Ok(DeviceSpec {
                    host: host.into(),
                    container: container.into(),
                    permissions: perms.into(),
                })
            }
        })
        .collect()
}

fn device_requests(v: Option<&Value>) -> Result<Vec<DeviceRequestSpec>, String> {
    let Some(Value::Sequence(items)) = v else {
        return Ok(vec![]);
    };
    items
        .iter()
        .map(|d| {
            let count = match d.get("count") {
                None => None,
                Some(Value::String(s)) if s == "all" => Some(-1),
                Some(c) => Some(int(c)?),
            };
            let device_ids = list(d.get("device_ids"))?;
            Ok(DeviceRequestSpec {
                driver: d.get("driver").and_then(scalar),
                // Neither a count nor ids: all of them, as Compose asks.
                count: count.or(device_ids.is_empty().then_some(-1)),
                device_ids,
                capabilities: list(d.get("capabilities"))?,
                options: map(d.get("options"), '=')?,
            })
        })
        .collect()
}

/// `gpus: all` or a list of device requests.
fn gpus(v: Option<&Value>) -> Result<Vec<DeviceRequestSpec>, String> {
    match v {
        None | Some(Value::Null) => Ok(vec![]),
        Some(Value::String(s)) if s == "all" => Ok(vec![DeviceRequestSpec {
            count: Some(-1),
            capabilities: vec!["gpu".into()],
            ..Default::default()
        }]),
        Some(other) => {
            let mut reqs = device_requests(Some(other))?;
            for r in &mut reqs {
                if r.capabilities.is_empty() {
                    r.capabilities.push("gpu".into());
                }
            }
            Ok(reqs)
        }
    }
}

fn ulimits(v: Option<&Value>) -> Result<Vec<Ulimit>, String> {
    let Some(Value::Mapping(m)) = v else {
        return Ok(vec![]);
    };
    m.iter()
        .map(|(k, v)| {
            let name = scalar(k).ok_or("a ulimit name is a string")?;
            let (soft, hard) = match v {
                Value::Mapping(_) => (
                    int(v.get("soft").ok_or_else(|| format!("{name}: needs soft"))?)?,
                    int(v.get("hard").ok_or_else(|| format!("{name}: needs hard"))?)?,
                ),
                other => {
                    let n = int(other)?;
                    (n, n)
                }
            };
            Ok(Ulimit { name, soft, hard })
        })
        .collect()
}

/// Read the runtime keys of a service (and `deploy:`, whose limits win where both are set).
pub fn read(
    svc: &Mapping,
    problems: &mut Vec<KeyProblem>,
    ignored: &mut Vec<String>,
) -> (Runtime, Deploy) {
    let g = |k: &str| svc.get(k);
    let s = |k: &str| g(k).and_then(scalar);
    let mut r = Runtime {
        cap_add: at("cap_add", list(g("cap_add")), problems).unwrap_or_default(),
        cap_drop: at("cap_drop", list(g("cap_drop")), problems).unwrap_or_default(),
        devices: at("devices", devices(g("devices")), problems).unwrap_or_default(),
        device_cgroup_rules: at(
            "device_cgroup_rules",
            list(g("device_cgroup_rules")),
            problems,
        )
        .unwrap_or_default(),
        device_requests: at("gpus", gpus(g("gpus")), problems).unwrap_or_default(),
        security_opt: at("security_opt", list(g("security_opt")), problems).unwrap_or_default(),
        read_only: g("read_only")
            .and_then(|v| at("read_only", boolean(v), problems))
            .unwrap_or(false),
        init: g("init").and_then(|v| at("init", boolean(v), problems)),
        extra_hosts: at("extra_hosts", extra_hosts(g("extra_hosts")), problems).unwrap_or_default(),
        dns: at("dns", list(g("dns")), problems).unwrap_or_default(),
        dns_search: at("dns_search", list(g("dns_search")), problems).unwrap_or_default(),
        dns_opt: at("dns_opt", list(g("dns_opt")), problems).unwrap_or_default(),
        sysctls: at("sysctls", map(g("sysctls"), '='), problems).unwrap_or_default(),
        tmpfs: at("tmpfs", super::mounts::tmpfs(g("tmpfs")), problems).unwrap_or_default(),
        ulimits: at("ulimits", ulimits(g("ulimits")), problems).unwrap_or_default(),
        pid: s("pid"),
        ipc: s("ipc"),
        uts: s("uts"),
        userns_mode: s("userns_mode"),
        cgroup: s("cgroup"),
        cgroup_parent: s("cgroup_parent"),
        runtime: s("runtime"),
        isolation: s("isolation"),
        shm_size: g("shm_size").and_then(|v| at("shm_size", bytes(v), problems)),
        memory: g("mem_limit").and_then(|v| at("mem_limit", bytes(v), problems)),
        memory_reservation: g("mem_reservation")
            .and_then(|v| at("mem_reservation", bytes(v), problems)),
        memory_swap: g("memswap_limit").and_then(|v| at("memswap_limit", bytes(v), problems)),
        memory_swappiness: g("mem_swappiness").and_then(|v| at("mem_swappiness", int(v), problems)),
        oom_kill_disable: g("oom_kill_disable")
            .and_then(|v| at("oom_kill_disable", boolean(v), problems)),
        oom_score_adj: g("oom_score_adj").and_then(|v| at("oom_score_adj", int(v), problems)),
        cpu_shares: g("cpu_shares").and_then(|v| at("cpu_shares", int(v), problems)),
        cpu_quota: g("cpu_quota").and_then(|v| at("cpu_quota", int(v), problems)),
        cpu_period: g("cpu_period").and_then(|v| at("cpu_period", int(v), problems)),
        cpu_rt_period: g("cpu_rt_period").and_then(|v| at("cpu_rt_period", int(v), problems)),
        cpu_rt_runtime: g("cpu_rt_runtime").and_then(|v| at("cpu_rt_runtime", int(v), problems)),
        cpuset: s("cpuset"),
        nano_cpus: g("cpus")
            .and_then(|v| at("cpus", number(v), problems))
            .map(|c| (c * 1e9) as i64),
        pids_limit: g("pids_limit").and_then(|v| at("pids_limit", int(v), problems)),
        stop_signal: s("stop_signal"),
        stop_timeout: g("stop_grace_period")
            .and_then(|v| at("stop_grace_period", duration(v), problems))
            .map(|ns| ns / 1_000_000_000),
        group_add: at("group_add", list(g("group_add")), problems).unwrap_or_default(),
        domainname: s("domainname"),
        mac_address: s("mac_address"),
        storage_opt: at("storage_opt", map(g("storage_opt"), '='), problems).unwrap_or_default(),
        platform: s("platform"),
        volume_driver: s("volume_driver"),
        ..Default::default()
    };
    if let Some(Value::Mapping(l)) = g("logging") {
        r.log_driver = l.get("driver").and_then(scalar);
        r.log_opts = at("logging", map(l.get("options"), '='), problems).unwrap_or_default();
    }
    for k in [
        "blkio_config",
        "cpu_count",
        "cpu_percent",
        "credential_spec",
        "develop",
        "attach",
        "post_start",
        "pre_stop",
        "label_file",
        "annotations",
        "use_api_socket",
        "provider",
        "models",
        "pull_refresh_after",
    ] {
        if g(k).is_some() {
            ignored.push(format!("{k}: not applied by berth"));
        }
    }
    let deploy = match g("deploy") {
        Some(Value::Mapping(d)) => read_deploy(d, &mut r, problems, ignored),
        _ => Deploy::default(),
    };
    (r, deploy)
}

/// `extra_hosts` as a list (`host:ip`, `host=ip`) or a mapping, as the daemon's `host:ip`.
fn extra_hosts(v: Option<&Value>) -> Result<Vec<String>, String> {
    match v {
        Some(Value::Mapping(_)) => Ok(map(v, '=')?
            .into_iter()
            .map(|(h, ip)| format!("{h}:{ip}"))
            .collect()),
        _ => Ok(list(v)?
            .into_iter()
            .map(|e| match e.split_once('=') {
                Some((h, ip)) => format!("{h}:{ip}"),
                None => e,
            })
            .collect()),
    }
}

fn read_deploy(
    d: &Mapping,
    r: &mut Runtime,
    problems: &mut Vec<KeyProblem>,
    ignored: &mut Vec<String>,
) -> Deploy {
    let mut out = Deploy::default();
    if let Some(n) = d.get("replicas") {
        out.replicas = at("deploy", int(n), problems).map(|n| n.max(0) as u32);
    }
    if let Some(mode) = d.get("mode").and_then(scalar) {
        if mode != "replicated" {
            ignored.push(format!(
                "deploy.mode: {mode} (one host: the replicas are what runs)"
            ));
        }
    }
    for k in [
        "placement",
        "update_config",
        "rollback_config",
        "endpoint_mode",
        "labels",
    ] {
        if d.contains_key(k) {
            ignored.push(format!("deploy.{k}: swarm only"));
        }
    }
    if let Some(res) = d.get("resources") {
        if let Some(l) = res.get("limits") {
            if let Some(c) = l.get("cpus") {
                r.nano_cpus = at("deploy", number(c), problems).map(|c| (c * 1e9) as i64);
            }
            if let Some(m) = l.get("memory") {
                r.memory = at("deploy", bytes(m), problems);
            }
            if let Some(p) = l.get("pids") {
                r.pids_limit = at("deploy", int(p), problems);
            }
        }
        if let Some(rv) = res.get("reservations") {
            if let Some(m) = rv.get("memory") {
                r.memory_reservation = at("deploy", bytes(m), problems);
            }
            if rv.get("cpus").is_some() {
                ignored.push(
                    "deploy.resources.reservations.cpus: a single host reserves no CPU".into(),
                );
            }
            if rv.get("generic_resources").is_some() {
                ignored.push("deploy.resources.reservations.generic_resources: swarm only".into());
            }
            if let Some(devs) = rv.get("devices") {
                if let Some(reqs) = at("deploy", device_requests(Some(devs)), problems) {
                    r.device_requests.extend(reqs);
                }
            }
        }
    }
    if let Some(rp) = d.get("restart_policy") {
        let cond = rp
            .get("condition")
            .and_then(scalar)
            .unwrap_or_else(|| "any".into());
        let max = rp
            .get("max_attempts")
            .and_then(|m| at("deploy", int(m), problems));
        out.restart = Some(match cond.as_str() {
            "none" => "no".into(),
            "on-failure" => match max {
                Some(n) if n > 0 => format!("on-failure:{n}"),
                _ => "on-failure".into(),
            },
            _ => "always".into(),
        });
        for k in ["delay", "window"] {
            if rp.get(k).is_some() {
                ignored.push(format!("deploy.restart_policy.{k}: swarm only"));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn runtime(text: &str) -> (Runtime, Deploy, Vec<KeyProblem>, Vec<String>) {
        let m: Mapping = serde_yaml::from_str(text).unwrap();
        let (mut p, mut i) = (vec![], vec![]);
        let (r, d) = read(&m, &mut p, &mut i);
        (r, d, p, i)
    }

    #[test]
    fn keys_map_to_the_host_config() {
        let (r, _, p, _) = runtime(
            "cap_add: [NET_ADMIN]\ncap_drop: [ALL]\ndevices: ['/dev/net/tun', '/dev/a:/dev/b:r', { source: /dev/c, target: /dev/d, permissions: rw }]\nsecurity_opt: ['no-new-privileges:true']\nread_only: true\ninit: true\nextra_hosts: ['a:1.2.3.4', 'b=5.6.7.8']\ndns: 8.8.8.8\nsysctls: { net.core.somaxconn: 1024 }\ntmpfs: /run\nulimits: { nproc: 65535, nofile: { soft: 20000, hard: 40000 } }\nlogging: { driver: json-file, options: { max-size: 1m, max-file: 3 } }\nshm_size: 64m\nmem_limit: 1g\ncpus: 0.5\ncpu_shares: 512\npids_limit: 100\nstop_signal: SIGINT\nstop_grace_period: 1m30s\npid: host\nipc: shareable\n",
        );
        assert!(p.is_empty(), "{p:?}");
        assert_eq!(r.cap_add, ["NET_ADMIN"]);
        assert_eq!(r.devices[0].container, "/dev/net/tun");
        assert_eq!(
            (
                r.devices[1].container.as_str(),
                r.devices[1].permissions.as_str()
            ),
            ("/dev/b", "r")
        );
        assert_eq!(r.devices[2].container, "/dev/d");
        assert_eq!(r.extra_hosts, ["a:1.2.3.4", "b:5.6.7.8"]);
        assert_eq!(r.dns, ["8.8.8.8"]);
        assert_eq!(r.sysctls["net.core.somaxconn"], "1024");
        assert_eq!(r.tmpfs["/run"], "");
        assert_eq!((r.ulimits[0].soft, r.ulimits[1].hard), (65535, 40000));
        assert_eq!(r.log_opts["max-file"], "3");
        assert_eq!(r.shm_size, Some(64 << 20));
        assert_eq!(r.memory, Some(1 << 30));
        assert_eq!(r.nano_cpus, Some(500_000_000));
        assert_eq!(r.stop_timeout, Some(90));
        assert_eq!(r.pid.as_deref(), Some("host"));
        assert_eq!(r.init, Some(true));
    }

    #[test]
    fn deploy_on_one_host() {
        let (r, d, p, i) = runtime(
            "deploy:\n  replicas: 3\n  mode: replicated\n  placement: { constraints: [node.role==manager] }\n  resources:\n    limits: { cpus: '1.5', memory: 512M, pids: 50 }\n    reservations:\n      memory: 128M\n      devices: [{ driver: nvidia, count: 1, capabilities: [gpu] }, { capabilities: [gpu] }]\n  restart_policy: { condition: on-failure, max_attempts: 3, delay: 5s }\n",
        );
        assert!(p.is_empty(), "{p:?}");
        assert_eq!(d.replicas, Some(3));
        assert_eq!(d.restart.as_deref(), Some("on-failure:3"));
        assert_eq!(r.nano_cpus, Some(1_500_000_000));
        assert_eq!(r.memory, Some(512 << 20));
        assert_eq!(r.pids_limit, Some(50));
        assert_eq!(r.memory_reservation, Some(128 << 20));
        assert_eq!(r.device_requests.len(), 2);
        assert_eq!(r.device_requests[0].count, Some(1));
        assert_eq!(r.device_requests[1].count, Some(-1));
        assert!(i.iter().any(|w| w.starts_with("deploy.placement")), "{i:?}");
        assert!(
            i.iter().any(|w| w.contains("restart_policy.delay")),
            "{i:?}"
        );
        let (_, d, _, _) = runtime("deploy: { restart_policy: { condition: any } }\n");
        assert_eq!(d.restart.as_deref(), Some("always"));
        let (_, d, _, _) = runtime("deploy: { restart_policy: { condition: none } }\n");
        assert_eq!(d.restart.as_deref(), Some("no"));
        let (r, _, _, _) = runtime("gpus: all\n");
        assert_eq!(r.device_requests[0].count, Some(-1));
        let (_, _, p, _) = runtime("mem_limit: lots\n");
        assert_eq!(p[0].0, "mem_limit");
    }
}
