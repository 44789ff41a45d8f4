//! A template and a form's values turned into what the direct paths receive: a container
//! template becomes the body of `POST /api/containers`, a compose template the compose text
//! and `.env` of `POST /api/stacks`. Nothing here decides access: those paths' policy does,
//! on exactly what they would receive from a hand-written request.

use std::collections::BTreeMap;

use super::vars::{self, substitute, FieldError};
use super::{ContainerSpec, Template};
use crate::error::AppError;

/// The values of every variable, or a 400 naming each variable that is wrong.
pub fn values(
    t: &Template,
    given: &BTreeMap<String, String>,
) -> Result<BTreeMap<String, String>, AppError> {
    vars::resolve(&t.variables, given).map_err(|errs| {
        let named: Vec<String> = errs
            .iter()
            .map(|FieldError { field, message }| format!("variable {field}: {message}"))
            .collect();
        AppError::bad_request("invalid_variable", named.join("; "))
    })
}

/// `.env` text giving each value as written: single-quoted (literal), or double-quoted
/// with `\`, `"` and `$` escaped when the value holds a `'`.
pub fn env_text(values: &BTreeMap<String, String>) -> String {
    let mut out = String::new();
    for (k, v) in values {
        if !v.contains('\'') {
            out.push_str(&format!("{k}='{v}'\n"));
        } else {
            let esc = v
                .replace('\\', "\\\\")
                .replace('"', "\\\"")
                .replace('$', "$$");
            out.push_str(&format!("{k}=\"{esc}\"\n"));
        }
    }
    out
}

/// A volume name for a container template's unnamed volume: `{name}_{path}` as Compose
/// names a project's volumes, so a redeploy under the same name finds its data again.
fn volume_name(container: &str, path: &str) -> String {
    let tail: String = path
        .trim_matches('/')
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    format!(
        "{container}_{}",
        if tail.is_empty() { "data" } else { &tail }
    )
}

/// `"8080:80/tcp"` or `"80/udp"` (as `parse` checked them) as a port of the create body.
fn port(s: &str) -> Result<wire::PortSpec, AppError> {
    let (ports, proto) = s.split_once('/').unwrap_or((s, "tcp"));
    let bad = || AppError::bad_request("invalid_template", format!("port {s:?} is not valid"));
    let num = |p: &str| p.parse::<u16>().map_err(|_| bad());
    let (host, ctr) = match ports.split_once(':') {
        Some((h, c)) => (Some(num(h)? as i64), num(c)?),
        None => (None, num(ports)?),
    };
    Ok(wire::PortSpec {
        host_ip: None,
        host_port: host,
        container_port: ctr as i64,
        protocol: Some(proto.to_owned()),
    })
}

/// The create body of a container template: its variables become the container's
/// environment (as Portainer's `env` does) and fill `{{NAME}}` markers in its strings.
pub fn container(
    spec: &ContainerSpec,
    name: &str,
    values: &BTreeMap<String, String>,
    team: Option<String>,
) -> Result<wire::CreateContainer, AppError> {
    let sub = |s: &str| substitute(s, values);
    let mut binds = Vec::new();
    let mut volumes = Vec::new();
    for m in &spec.mounts {
        let target = sub(&m.container);
        match &m.bind {
            Some(host) => {
                let ro = if m.readonly { ":ro" } else { "" };
                binds.push(format!("{}:{target}{ro}", sub(host)));
            }
            None => volumes.push(wire::VolumeSpec {
                name: volume_name(name, &target),
                target,
                read_only: m.readonly,
            }),
        }
    }
    let cmd = match &spec.command {
        Some(c) => Some(shlex::split(&sub(c)).ok_or_else(|| {
            AppError::bad_request(
                "invalid_template",
                format!("the template's command {c:?} has an unclosed quote"),
            )
        })?),
        None => None,
    };
    // `berth.*` labels are the policy's to set: a template's own are passed as written and
    // the policy replaces any it reserves.
    let labels: BTreeMap<String, String> = spec
        .labels
        .iter()
        .map(|(k, v)| (k.clone(), sub(v)))
        .collect();
    Ok(wire::CreateContainer {
        image: sub(&spec.image),
        name: Some(name.to_owned()),
        cmd,
        env: values
            .iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| format!("{k}={v}"))
            .collect(),
        ports: spec
            .ports
            .iter()
            .map(|p| port(p))
            .collect::<Result<_, _>>()?,
        binds,
        volumes,
        privileged: spec.privileged,
        restart: spec.restart_policy.clone(),
        labels,
        team,
        ..Default::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::templates::Mount;

    #[test]
    fn a_container_template_becomes_a_create_body() {
        let spec = ContainerSpec {
            image: "nginx:{{TAG}}".into(),
            ports: vec!["8080:80/tcp".into(), "53/udp".into()],
            mounts: vec![
                Mount {
                    container: "/data".into(),
                    bind: None,
                    readonly: false,
                },
                Mount {
                    container: "/etc/x".into(),
                    bind: Some("/srv/{{TAG}}".into()),
                    readonly: true,
                },
            ],
            command: Some("sh -c 'echo hi'".into()),
            restart_policy: Some("always".into()),
            privileged: false,
            labels: vec![],
        };
        let values: BTreeMap<_, _> = [("TAG".to_owned(), "1".to_owned())].into();
        let c = container(&spec, "web", &values, None).unwrap();
        assert_eq!(c.image, "nginx:1");
        assert_eq!(c.binds, ["/srv/1:/etc/x:ro"]);
        assert_eq!(c.volumes[0].name, "web_data");
        assert_eq!(c.cmd.unwrap(), ["sh", "-c", "echo hi"]);
        assert_eq!(c.env, ["TAG=1"]);
        assert_eq!(c.ports[0].host_port, Some(8080));
        assert_eq!(c.ports[1].protocol.as_deref(), Some("udp"));
    }

    #[test]
    fn env_text_quotes_what_compose_would_read_otherwise() {
        let values: BTreeMap<_, _> = [
            ("A".to_owned(), "x #y $z".to_owned()),
            ("B".to_owned(), "it's \"$q\"".to_owned()),
        ]
        .into();
        let text = env_text(&values);
        let parsed = crate::stacks::envfile::parse(&text).unwrap();
        assert_eq!(parsed[0].1.as_deref(), Some("x #y $z"));
        assert_eq!(parsed[1].1.as_deref(), Some("it's \"$q\""));
    }
}
