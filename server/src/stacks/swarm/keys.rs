//! The service keys `docker stack deploy` refuses, ignores or calls deprecated, named as
//! the docker CLI names them (its `cli/compose/types` lists, read on the file as written,
//! before `extends` is applied). Listed by hand: no crate carries the CLI's lists.

use serde_yaml::{Mapping, Value};

/// Keys the CLI drops with "Ignoring unsupported options: …".
pub const UNSUPPORTED: &[&str] = &[
    "build",
    "cgroupns_mode",
    "cgroup_parent",
    "devices",
    "domainname",
    "external_links",
    "ipc",
    "links",
    "mac_address",
    "network_mode",
    "pid",
    "privileged",
    "restart",
    "security_opt",
    "shm_size",
    "userns_mode",
];

/// Keys the CLI ignores with a reason ("Ignoring deprecated options: …").
pub const DEPRECATED: &[(&str, &str)] = &[
    (
        "container_name",
        "Setting the container name is not supported.",
    ),
    (
        "expose",
        "Exposing ports is unnecessary - services on the same network can access each other's containers on any port.",
    ),
];

/// Keys that make the CLI refuse the file.
pub const FORBIDDEN: &[(&str, &str)] = &[
    ("extends", "Support for `extends` is not implemented yet."),
    ("volume_driver", "Instead of setting the volume driver on the service, define a volume using the top-level `volumes` option and specify the driver there."),
    ("volumes_from", "To share a volume between services, define it using the top-level `volumes` option and reference it from each service that shares it using the service-level `volumes` option."),
    ("cpu_quota", "Set resource limits using deploy.resources"),
    ("cpu_shares", "Set resource limits using deploy.resources"),
    ("cpuset", "Set resource limits using deploy.resources"),
    ("mem_limit", "Set resource limits using deploy.resources"),
    ("memswap_limit", "Set resource limits using deploy.resources"),
];

/// What the file's service keys mean to `docker stack deploy`.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Verdict {
    /// Sorted, each once.
    pub unsupported: Vec<String>,
    /// `key: reason`, sorted.
    pub deprecated: Vec<String>,
    /// `key: reason`, sorted.
    pub forbidden: Vec<String>,
}

impl Verdict {
    /// The CLI's refusal, when a forbidden key is set.
    pub fn refusal(&self) -> Option<String> {
        (!self.forbidden.is_empty()).then(|| {
            format!(
                "compose file contains unsupported options:\n\n{}\n",
                self.forbidden.join("\n\n")
            )
        })
    }

    /// The CLI's warnings, as it prints them.
    pub fn warnings(&self) -> Vec<String> {
        let mut out = Vec::new();
        if !self.unsupported.is_empty() {
            out.push(format!(
                "Ignoring unsupported options: {}",
                self.unsupported.join(", ")
            ));
        }
        if !self.deprecated.is_empty() {
            out.push(format!(
                "Ignoring deprecated options:\n\n{}",
                self.deprecated.join("\n\n")
            ));
        }
        out
    }
}

/// Judge the services of a compose file as written (a YAML mapping with `services:`).
pub fn judge(root: &Mapping) -> Verdict {
    let empty = Mapping::new();
    let services = root
        .get("services")
        .and_then(Value::as_mapping)
        .unwrap_or(&empty);
    let set = |key: &str| {
        services
            .values()
            .filter_map(Value::as_mapping)
            .any(|s| s.contains_key(key))
    };
    let with_reason = |list: &[(&str, &str)]| {
        let mut v: Vec<String> = list
            .iter()
            .filter(|(k, _)| set(k))
            .map(|(k, why)| format!("{k}: {why}"))
            .collect();
        v.sort();
        v
    };
    let mut unsupported: Vec<String> = UNSUPPORTED
        .iter()
        .filter(|k| set(k))
        .map(|k| (*k).to_owned())
        .collect();
    unsupported.sort();
    Verdict {
        unsupported,
        deprecated: with_reason(DEPRECATED),
        forbidden: with_reason(FORBIDDEN),
    }
}
