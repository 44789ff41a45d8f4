//! The keys the Compose specification defines, per place in a file. A key outside them is
//! refused with its line, as Compose refuses it ("Additional property … is not allowed");
//! `x-` keys (extensions) are allowed wherever a mapping of keys is.
//!
//! The tables follow the specification (compose-spec `schema/compose-spec.json`) and
//! Compose 1.29's v1/v2/v3 schemas (`net`, `cpu_count`… that the specification kept).

use serde_yaml::{Mapping, Value};

pub const TOP: &[&str] = &[
    "version", "name", "include", "services", "networks", "volumes", "secrets", "configs", "models",
];

pub const SERVICE: &[&str] = &[
    "annotations",
    "attach",
    "blkio_config",
    "build",
    "cap_add",
    "cap_drop",
    "cgroup",
    "cgroup_parent",
    "command",
    "configs",
    "container_name",
    "cpu_count",
    "cpu_percent",
    "cpu_period",
    "cpu_quota",
    "cpu_rt_period",
    "cpu_rt_runtime",
    "cpu_shares",
    "cpus",
    "cpuset",
    "credential_spec",
    "depends_on",
    "deploy",
    "develop",
    "device_cgroup_rules",
    "devices",
    "dns",
    "dns_opt",
    "dns_search",
    "domainname",
    "entrypoint",
    "env_file",
    "environment",
    "expose",
    "extends",
    "external_links",
    "extra_hosts",
    "gpus",
    "group_add",
    "healthcheck",
    "hostname",
    "image",
    "init",
    "ipc",
    "isolation",
    "labels",
    "label_file",
    "links",
    "logging",
    "mac_address",
    "mem_limit",
    "mem_reservation",
    "mem_swappiness",
    "memswap_limit",
    "models",
    "net",
    "network_mode",
    "networks",
    "oom_kill_disable",
    "oom_score_adj",
    "pid",
    "pids_limit",
    "platform",
    "ports",
    "post_start",
    "pre_stop",
    "privileged",
    "profiles",
    "provider",
    "pull_policy",
    "pull_refresh_after",
    "read_only",
    "restart",
    "runtime",
    "scale",
    "secrets",
    "security_opt",
    "shm_size",
    "stdin_open",
    "stop_grace_period",
    "stop_signal",
    "storage_opt",
    "sysctls",
    "tmpfs",
    "tty",
    "ulimits",
    "use_api_socket",
    "user",
    "userns_mode",
    "uts",
    "volume_driver",
    "volumes",
    "volumes_from",
    "working_dir",
];

const BUILD: &[&str] = &[
    "context",
    "dockerfile",
    "dockerfile_inline",
    "args",
    "ssh",
    "labels",
    "cache_from",
    "cache_to",
    "no_cache",
    "additional_contexts",
    "network",
    "provenance",
    "sbom",
    "pull",
    "target",
    "shm_size",
    "extra_hosts",
    "isolation",
    "privileged",
    "secrets",
    "tags",
    "ulimits",
    "platforms",
    "entitlements",
];
const HEALTHCHECK: &[&str] = &[
    "test",
    "interval",
    "timeout",
    "retries",
    "start_period",
    "start_interval",
    "disable",
];
const DEPLOY: &[&str] = &[
    "mode",
    "replicas",
    "labels",
    "update_config",
    "rollback_config",
    "resources",
    "restart_policy",
    "placement",
    "endpoint_mode",
];
const RESOURCES: &[&str] = &["limits", "reservations"];
const LIMITS: &[&str] = &["cpus", "memory", "pids", "devices", "generic_resources"];
const DEVICE_REQUEST: &[&str] = &["driver", "count", "device_ids", "capabilities", "options"];
const RESTART_POLICY: &[&str] = &["condition", "delay", "max_attempts", "window"];
const LOGGING: &[&str] = &["driver", "options"];
const PORT_LONG: &[&str] = &[
    "name",
    "target",
    "published",
    "host_ip",
    "protocol",
    "app_protocol",
    "mode",
];
const VOLUME_LONG: &[&str] = &[
    "type",
    "source",
    "target",
    "read_only",
    "consistency",
    "bind",
    "volume",
    "tmpfs",
    "image",
];
const VOLUME_BIND: &[&str] = &["propagation", "create_host_path", "recursive", "selinux"];
const VOLUME_VOLUME: &[&str] = &["nocopy", "subpath"];
const VOLUME_TMPFS: &[&str] = &["size", "mode"];
const DEPENDS_LONG: &[&str] = &["condition", "restart", "required"];
const SERVICE_NETWORK: &[&str] = &[
    "aliases",
    "ipv4_address",
    "ipv6_address",
    "link_local_ips",
    "mac_address",
    "driver_opts",
    "priority",
    "gw_priority",
    "interface_name",
];
const FILE_REF: &[&str] = &["source", "target", "uid", "gid", "mode"];
const EXTENDS: &[&str] = &["service", "file"];
const ENV_FILE: &[&str] = &["path", "required", "format"];
const NETWORK: &[&str] = &[
    "driver",
    "driver_opts",
    "ipam",
    "internal",
    "labels",
    "external",
    "name",
    "attachable",
    "enable_ipv4",
    "enable_ipv6",
];
const IPAM: &[&str] = &["driver", "config", "options"];
const IPAM_CONFIG: &[&str] = &["subnet", "ip_range", "gateway", "aux_addresses"];
const VOLUME: &[&str] = &["driver", "driver_opts", "labels", "external", "name"];
const SECRET: &[&str] = &[
    "file",
    "environment",
    "content",
    "external",
    "name",
    "labels",
    "driver",
    "driver_opts",
    "template_driver",
];
const INCLUDE: &[&str] = &["path", "project_directory", "env_file"];

/// A key outside the specification: its path from the root.
pub type Unknown = Vec<String>;

fn name(k: &Value) -> String {
    match k {
        Value::String(s) => s.clone(),
        other => serde_yaml::to_string(other)
            .unwrap_or_default()
            .trim()
            .to_owned(),
    }
}

fn at(path: &[String], key: &str) -> Vec<String> {
    let mut p = path.to_vec();
    p.push(key.to_owned());
    p
}

fn check(v: &Value, table: &[&str], path: &[String], out: &mut Vec<Unknown>) {
    if let Value::Mapping(m) = v {
        for (k, _) in m {
            let k = name(k);
            if !(k.starts_with("x-") || table.contains(&k.as_str())) {
                out.push(at(path, &k));
            }
        }
    }
}

/// Check a mapping's values, each against `table`.
fn each(v: &Value, table: &[&str], path: &[String], out: &mut Vec<Unknown>) {
    if let Value::Mapping(m) = v {
        for (k, item) in m {
            check(item, table, &at(path, &name(k)), out);
        }
    }
}

/// Check a sequence's mapping items against `table`.
fn items(v: &Value, table: &[&str], path: &[String], out: &mut Vec<Unknown>) {
    if let Value::Sequence(s) = v {
        for item in s {
            check(item, table, path, out);
        }
    }
}

/// Every key of `root` (a compose file, `services:` at its top) outside the specification.
pub fn unknown(root: &Mapping) -> Vec<Unknown> {
    let mut out = Vec::new();
    let rootv = Value::Mapping(root.clone());
    check(&rootv, TOP, &[], &mut out);
    let get = |m: &Mapping, k: &str| m.get(k).cloned().unwrap_or(Value::Null);
    if let Value::Sequence(inc) = get(root, "include") {
        for i in &inc {
            check(i, INCLUDE, &["include".into()], &mut out);
        }
    }
    each(
        &get(root, "networks"),
        NETWORK,
        &["networks".into()],
        &mut out,
    );
    if let Value::Mapping(nets) = get(root, "networks") {
        for (k, n) in &nets {
            let np = vec!["networks".to_string(), name(k), "ipam".into()];
            if let Some(ipam) = n.get("ipam") {
                check(ipam, IPAM, &np, &mut out);
                if let Some(cfg) = ipam.get("config") {
                    items(cfg, IPAM_CONFIG, &at(&np, "config"), &mut out);
                }
            }
        }
    }
    each(&get(root, "volumes"), VOLUME, &["volumes".into()], &mut out);
    each(&get(root, "secrets"), SECRET, &["secrets".into()], &mut out);
    each(&get(root, "configs"), SECRET, &["configs".into()], &mut out);
    let Value::Mapping(services) = get(root, "services") else {
        return out;
    };
    for (sname, svc) in &services {
        let sp = vec!["services".to_string(), name(sname)];
        check(svc, SERVICE, &sp, &mut out);
        let Value::Mapping(svc) = svc else { continue };
        for (key, val) in svc {
            let key = name(key);
            let kp = at(&sp, &key);
            match key.as_str() {
                "build" => check(val, BUILD, &kp, &mut out),
                "healthcheck" => check(val, HEALTHCHECK, &kp, &mut out),
                "logging" => check(val, LOGGING, &kp, &mut out),
                "extends" => check(val, EXTENDS, &kp, &mut out),
                "depends_on" => each(val, DEPENDS_LONG, &kp, &mut out),
                "networks" => each(val, SERVICE_NETWORK, &kp, &mut out),
                "ports" => items(val, PORT_LONG, &kp, &mut out),
                "secrets" | "configs" => items(val, FILE_REF, &kp, &mut out),
                "env_file" => items(val, ENV_FILE, &kp, &mut out),
                "volumes" => {
                    items(val, VOLUME_LONG, &kp, &mut out);
                    if let Value::Sequence(vs) = val {
                        for v in vs {
                            for (sub, table) in [
                                ("bind", VOLUME_BIND),
                                ("volume", VOLUME_VOLUME),
                                ("tmpfs", VOLUME_TMPFS),
                            ] {
                                if let Some(s) = v.get(sub) {
                                    check(s, table, &at(&kp, sub), &mut out);
                                }
                            }
                        }
                    }
                }
                "deploy" => {
                    check(val, DEPLOY, &kp, &mut out);
                    if let Some(r) = val.get("resources") {
                        let rp = at(&kp, "resources");
                        check(r, RESOURCES, &rp, &mut out);
                        for part in ["limits", "reservations"] {
                            if let Some(l) = r.get(part) {
                                check(l, LIMITS, &at(&rp, part), &mut out);
                                if let Some(d) = l.get("devices") {
                                    items(
                                        d,
                                        DEVICE_REQUEST,
                                        &at(&at(&rp, part), "devices"),
                                        &mut out,
                                    );
                                }
                            }
                        }
                    }
                    if let Some(r) = val.get("restart_policy") {
                        check(r, RESTART_POLICY, &at(&kp, "restart_policy"), &mut out);
                    }
                }
                _ => {}
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_keys_are_found_where_they_are() {
        let root: Mapping = serde_yaml::from_str(
            "services:\n  web:\n    image: x\n    imagee: y\n    x-any: 1\n    deploy:\n      resources:\n        limits: { memory: 1g, cpu: 2 }\n    ports: [{ target: 80, publish: 1 }]\nnetworks:\n  n: { drivr: bridge }\nfoo: 1\n",
        )
        .unwrap();
        let mut got: Vec<String> = unknown(&root).iter().map(|p| p.join(".")).collect();
        got.sort();
        assert_eq!(
            got,
            [
                "foo",
                "networks.n.drivr",
                "services.web.deploy.resources.limits.cpu",
                "services.web.imagee",
                "services.web.ports.publish"
            ]
        );
    }
}
