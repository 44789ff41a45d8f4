//! `docker create` / `docker run`: a `wire::CreateContainer` checked field by field and
//! turned into the exact `ContainerCreateBody` the daemon receives (and the access policy
//! judges). Every refusal names the field and says what is wrong.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};

use bollard::models::{
    ContainerCreateBody, EndpointIpamConfig, EndpointSettings, HostConfig, NetworkingConfig,
    PortBinding, RestartPolicy, RestartPolicyNameEnum,
};
use bollard::query_parameters::{CreateContainerOptions, RemoveContainerOptions};

use super::Endpoint;
use crate::error::{AppError, AppResult};

fn bad(code: &'static str, message: String) -> AppError {
    AppError::bad_request(code, message)
}

/// What the daemon accepts as a container or volume name (`[a-zA-Z0-9][a-zA-Z0-9_.-]+`).
pub fn valid_name(name: &str) -> bool {
    let b = name.as_bytes();
    b.len() >= 2
        && b.len() <= 255
        && b[0].is_ascii_alphanumeric()
        && b[1..]
            .iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-'))
}

/// A validated request: the name (if any) and the body for the daemon.
pub struct Plan {
    pub name: Option<String>,
    pub body: ContainerCreateBody,
}

/// Check every field of a create request and build the daemon's body.
pub fn plan(req: &wire::CreateContainer) -> AppResult<Plan> {
    let image = req.image.trim();
    if image.is_empty() {
        return Err(bad(
            "invalid_image",
            "image: an image name is required".into(),
        ));
    }
    if image.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(bad(
            "invalid_image",
            format!("image: {image:?} is not an image reference"),
        ));
    }
    let name = match req.name.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(n) => {
            let n = n.strip_prefix('/').unwrap_or(n);
            if !valid_name(n) {
                return Err(bad(
                    "invalid_name",
                    format!("name: {n:?} is not a valid container name: use at least two of a-z, A-Z, 0-9, _ . - starting with a letter or digit"),
                ));
            }
            Some(n.to_string())
        }
        None => None,
    };
    for (i, e) in req.env.iter().enumerate() {
        match e.split_once('=') {
            Some((k, _)) if !k.is_empty() && !k.contains(char::is_whitespace) => {}
            _ => {
                return Err(bad(
                    "invalid_env",
                    format!("env[{i}]: {e:?} must be KEY=value"),
                ))
            }
        }
    }
    let workdir = req
        .workdir
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty());
    if let Some(w) = workdir {
        if !w.starts_with('/') {
            return Err(bad(
                "invalid_workdir",
                format!("workdir: {w:?} must be an absolute path"),
            ));
        }
    }

    // Ports, as `docker run -p`: no host port means "any free port", no host ip "all".
    let mut exposed: HashMap<String, HashMap<(), ()>> = HashMap::new();
    let mut bindings: HashMap<String, Option<Vec<PortBinding>>> = HashMap::new();
    for (i, p) in req.ports.iter().enumerate() {
        if !(1..=65535).contains(&p.container_port) {
            return Err(bad(
                "invalid_port",
                format!(
                    "ports[{i}].container_port: {} is out of range 1-65535",
                    p.container_port
                ),
            ));
        }
        let host_port = p.host_port.unwrap_or(0);
        if !(0..=65535).contains(&host_port) {
            return Err(bad(
                "invalid_port",
                format!("ports[{i}].host_port: {host_port} is out of range 1-65535"),
            ));
        }
        let proto = p.protocol.as_deref().unwrap_or("tcp").to_ascii_lowercase();
        if !matches!(proto.as_str(), "tcp" | "udp" | "sctp") {
            return Err(bad(
                "invalid_port",
                format!("ports[{i}].protocol: {proto:?} is not tcp, udp or sctp"),
            ));
        }
        let host_ip = p.host_ip.as_deref().map(str::trim).unwrap_or("");
        if !host_ip.is_empty() && host_ip.parse::<IpAddr>().is_err() {
            return Err(bad(
                "invalid_port",
                format!("ports[{i}].host_ip: {host_ip:?} is not an IP address"),
            ));
        }
        let key = format!("{}/{proto}", p.container_port);
        exposed.insert(key.clone(), HashMap::new());
        bindings
            .entry(key)
            .or_insert_with(|| Some(Vec::new()))
            .get_or_insert_with(Vec::new)
            .push(PortBinding {
                host_ip: Some(host_ip.to_string()),
                host_port: Some(if host_port == 0 {
                    String::new()
                } else {
                    host_port.to_string()
                }),
            });
    }

    let mut binds = Vec::new();
    for (i, b) in req.binds.iter().enumerate() {
        binds.push(check_bind(i, b)?);
    }
    for (i, v) in req.volumes.iter().enumerate() {
        if !valid_name(&v.name) {
            return Err(bad(
                "invalid_volume",
                format!("volumes[{i}].name: {:?} is not a valid volume name", v.name),
            ));
        }
        if !v.target.starts_with('/') {
            return Err(bad(
                "invalid_volume",
                format!(
                    "volumes[{i}].target: {:?} must be an absolute path",
                    v.target
                ),
            ));
        }
        let ro = if v.read_only { ":ro" } else { "" };
        binds.push(format!("{}:{}{ro}", v.name, v.target));
    }

    let mut links = Vec::new();
    for (i, l) in req.links.iter().enumerate() {
        let (target, alias) = l.split_once(':').unwrap_or((l, l));
        let target = target.strip_prefix('/').unwrap_or(target);
        if !valid_name(target) || !valid_name(alias) {
            return Err(bad(
                "invalid_link",
                format!("links[{i}]: {l:?} must be container_name:alias"),
            ));
        }
        links.push(format!("{target}:{alias}"));
    }

    let network = req
        .network
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty());
    let ipv4 = match req.ipv4.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(ip) => {
            let ip: Ipv4Addr = ip.parse().map_err(|_| {
                bad(
                    "invalid_ipv4",
                    format!("ipv4: {ip:?} is not an IPv4 address"),
                )
            })?;
            match network {
                Some(n)
                    if !matches!(n, "bridge" | "default" | "host" | "none")
                        && !n.starts_with("container:") => {}
                _ => {
                    return Err(bad(
                        "invalid_ipv4",
                        "ipv4: a fixed address needs a user-defined network (network)".into(),
                    ))
                }
            }
            Some(ip)
        }
    };
    if let Some(n) = network {
        let plain = n.strip_prefix("container:").unwrap_or(n);
        let one_char = plain.len() == 1 && plain.as_bytes()[0].is_ascii_alphanumeric();
        if !(valid_name(plain) || one_char) {
            return Err(bad(
                "invalid_network",
                format!("network: {n:?} is not a network name"),
            ));
        }
    }

    let restart = match req.restart.as_deref().map(str::trim).unwrap_or("") {
        "" | "no" => None,
        other => Some(restart_policy(other)?),
    };
    let auto_remove = req.auto_remove.unwrap_or(false);
    if auto_remove && restart.is_some() {
        return Err(bad(
            "invalid_restart",
            "restart: a container removed when it stops (auto_remove) cannot have a restart policy"
                .into(),
        ));
    }
    for k in req.labels.keys() {
        if k.trim().is_empty() {
            return Err(bad("invalid_label", "labels: a label needs a key".into()));
        }
    }
    let user = req.user.as_deref().map(str::trim).filter(|s| !s.is_empty());
    let hostname = req
        .hostname
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty());

    // On a user-defined network the daemon ignores `HostConfig.Links`: links belong to
    // that network's endpoint (what `docker run --network N --link ...` sends).
    let user_network = network.filter(|n| {
        !matches!(*n, "bridge" | "default" | "host" | "none") && !n.starts_with("container:")
    });
    let links = Some(links).filter(|l| !l.is_empty());
    let (host_links, endpoint_links) = match user_network {
        Some(_) => (None, links),
        None => (links, None),
    };
    let host_config = HostConfig {
        binds: Some(binds).filter(|b| !b.is_empty()),
        port_bindings: Some(bindings).filter(|b| !b.is_empty()),
        privileged: req.privileged.then_some(true),
        links: host_links,
        network_mode: network.map(str::to_string),
        restart_policy: restart,
        auto_remove: auto_remove.then_some(true),
        ..Default::default()
    };
    // A fixed address (checked above to be on a user-defined network) and links go to
    // the network's endpoint.
    let networking_config = match (network, ipv4.is_some() || endpoint_links.is_some()) {
        (Some(n), true) => Some(NetworkingConfig {
            endpoints_config: Some(HashMap::from([(
                n.to_string(),
                EndpointSettings {
                    ipam_config: ipv4.map(|ip| EndpointIpamConfig {
                        ipv4_address: Some(ip.to_string()),
                        ..Default::default()
                    }),
                    links: endpoint_links,
                    ..Default::default()
                },
            )])),
        }),
        _ => None,
    };
    let body = ContainerCreateBody {
        image: Some(image.to_string()),
        cmd: req.cmd.clone(),
        entrypoint: req.entrypoint.clone(),
        env: Some(req.env.clone()).filter(|e| !e.is_empty()),
        working_dir: workdir.map(str::to_string),
        user: user.map(str::to_string),
        hostname: hostname.map(str::to_string),
        exposed_ports: Some(exposed).filter(|e| !e.is_empty()),
        tty: Some(req.tty),
        open_stdin: Some(req.open_stdin),
        // `-i` on a detached container: stdin stays open for a later attach.
        attach_stdin: Some(false),
        attach_stdout: Some(true),
        attach_stderr: Some(true),
        labels: Some(req.labels.clone().into_iter().collect()),
        host_config: Some(host_config),
        networking_config,
        ..Default::default()
    };
    Ok(Plan { name, body })
}

fn check_bind(i: usize, bind: &str) -> AppResult<String> {
    let parts: Vec<&str> = bind.split(':').collect();
    let (host, target, mode) = match parts[..] {
        [h, t] => (h, t, None),
        [h, t, m] => (h, t, Some(m)),
        _ => {
            return Err(bad(
                "invalid_bind",
                format!("binds[{i}]: {bind:?} must be /abs/host/path:/path/in/container[:ro]"),
            ))
        }
    };
    if !host.starts_with('/') {
        return Err(bad(
            "invalid_bind",
            format!("binds[{i}]: the host path {host:?} is relative; it must be absolute (start with /). Named volumes go in volumes"),
        ));
    }
    if !target.starts_with('/') {
        return Err(bad(
            "invalid_bind",
            format!("binds[{i}]: the container path {target:?} must be absolute"),
        ));
    }
    if let Some(m) = mode {
        let ok = m.split(',').all(|o| {
            matches!(
                o,
                "ro" | "rw"
                    | "z"
                    | "Z"
                    | "shared"
                    | "rshared"
                    | "slave"
                    | "rslave"
                    | "private"
                    | "rprivate"
                    | "nocopy"
            )
        });
        if !ok {
            return Err(bad(
                "invalid_bind",
                format!("binds[{i}]: unknown mode {m:?}: use ro or rw"),
            ));
        }
    }
    Ok(bind.to_string())
}

fn restart_policy(s: &str) -> AppResult<RestartPolicy> {
    let unknown = || {
        bad(
            "invalid_restart",
            format!("restart: unknown policy {s:?}: use no, always, unless-stopped, on-failure or on-failure:N"),
        )
    };
    let (name, count) = match s.split_once(':') {
        Some(("on-failure", n)) => (
            RestartPolicyNameEnum::ON_FAILURE,
            Some(
                n.parse::<i64>()
                    .ok()
                    .filter(|n| *n >= 0)
                    .ok_or_else(unknown)?,
            ),
        ),
        Some(_) => return Err(unknown()),
        None => match s {
            "always" => (RestartPolicyNameEnum::ALWAYS, None),
            "unless-stopped" => (RestartPolicyNameEnum::UNLESS_STOPPED, None),
            "on-failure" => (RestartPolicyNameEnum::ON_FAILURE, None),
            _ => return Err(unknown()),
        },
    };
    Ok(RestartPolicy {
        name: Some(name),
        maximum_retry_count: count,
    })
}

/// Create the container; returns its id and the daemon's warnings.
pub async fn create(ep: &Endpoint, plan: Plan) -> AppResult<(String, Vec<String>)> {
    // The policy found the image; one that went away since is caught below.
    let opts = CreateContainerOptions {
        name: plan.name.clone(),
        platform: String::new(),
    };
    let body = plan.body;
    let res = ep
        .call(|d| async move { d.create_container(Some(opts), body).await })
        .await;
    match res {
        Ok(r) => Ok((r.id, r.warnings)),
        // The image went away between the check and the create.
        Err(AppError::NotFound(m)) if m.to_lowercase().contains("image") => {
            Err(AppError::Missing {
                code: "image_not_found",
                message: m,
            })
        }
        // A daemon 400 is a field we did not catch: keep its words, say it is the daemon's.
        Err(AppError::BadRequest { message, .. }) => Err(bad("invalid_container_config", message)),
        Err(e) => Err(e),
    }
}

/// Remove a container berth just made (failed start, finished run-once).
pub async fn discard(ep: &Endpoint, id: &str) {
    let id = id.to_string();
    let _ = ep
        .call(|d| async move {
            d.remove_container(
                &id,
                Some(RemoveContainerOptions {
                    force: true,
                    v: true,
                    link: false,
                }),
            )
            .await
        })
        .await;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req() -> wire::CreateContainer {
        wire::CreateContainer {
            image: "busybox".into(),
            ..Default::default()
        }
    }

    fn code(r: AppResult<Plan>) -> &'static str {
        match r {
            Err(e) => e.code(),
            Ok(_) => "ok",
        }
    }

    #[test]
    fn bad_fields_are_named() {
        let cases: Vec<(wire::CreateContainer, &str)> = vec![
            (
                wire::CreateContainer {
                    image: "".into(),
                    ..req()
                },
                "invalid_image",
            ),
            (
                wire::CreateContainer {
                    name: Some("a b".into()),
                    ..req()
                },
                "invalid_name",
            ),
            (
                wire::CreateContainer {
                    name: Some("x".into()),
                    ..req()
                },
                "invalid_name",
            ),
            (
                wire::CreateContainer {
                    env: vec!["NOEQ".into()],
                    ..req()
                },
                "invalid_env",
            ),
            (
                wire::CreateContainer {
                    workdir: Some("src".into()),
                    ..req()
                },
                "invalid_workdir",
            ),
            (
                wire::CreateContainer {
                    binds: vec!["./src:/src".into()],
                    ..req()
                },
                "invalid_bind",
            ),
            (
                wire::CreateContainer {
                    binds: vec!["/src:src".into()],
                    ..req()
                },
                "invalid_bind",
            ),
            (
                wire::CreateContainer {
                    binds: vec!["/src:/src:xx".into()],
                    ..req()
                },
                "invalid_bind",
            ),
            (
                wire::CreateContainer {
                    ports: vec![wire::PortSpec {
                        container_port: 70000,
                        ..Default::default()
                    }],
                    ..req()
                },
                "invalid_port",
            ),
            (
                wire::CreateContainer {
                    ports: vec![wire::PortSpec {
                        container_port: 80,
                        host_port: Some(-1),
                        ..Default::default()
                    }],
                    ..req()
                },
                "invalid_port",
            ),
            (
                wire::CreateContainer {
                    restart: Some("sometimes".into()),
                    ..req()
                },
                "invalid_restart",
            ),
            (
                wire::CreateContainer {
                    ipv4: Some("10.0.0.2".into()),
                    ..req()
                },
                "invalid_ipv4",
            ),
            (
                wire::CreateContainer {
                    links: vec!["a b:c".into()],
                    ..req()
                },
                "invalid_link",
            ),
        ];
        for (r, want) in cases {
            assert_eq!(code(plan(&r)), want, "{r:?}");
        }
    }

    #[test]
    fn ports_default_like_docker_run() {
        let r = wire::CreateContainer {
            ports: vec![
                wire::PortSpec::parse("80").unwrap(),
                wire::PortSpec::parse("127.0.0.1:8080:81/udp").unwrap(),
            ],
            entrypoint: Some(vec![]),
            restart: Some("on-failure:3".into()),
            ..req()
        };
        let p = plan(&r).unwrap();
        let hc = p.body.host_config.unwrap();
        let b = hc.port_bindings.unwrap();
        let any = &b["80/tcp"].as_ref().unwrap()[0];
        assert_eq!(any.host_ip.as_deref(), Some(""));
        assert_eq!(any.host_port.as_deref(), Some(""));
        let udp = &b["81/udp"].as_ref().unwrap()[0];
        assert_eq!(udp.host_port.as_deref(), Some("8080"));
        assert_eq!(p.body.entrypoint, Some(vec![]));
        assert_eq!(hc.restart_policy.unwrap().maximum_retry_count, Some(3));
    }
}
