//! `ports:` (short `[IP:][HOST[-HOST]:]PORT[-PORT][/PROTO]` and long syntax) and `expose:`.

use serde::Serialize;
use serde_yaml::Value;

use super::values::scalar;

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct PortSpec {
    pub host_ip: Option<String>,
    /// A port, a range (`8000-8010`: the daemon picks one) or none (any free port).
    pub host_port: Option<String>,
    pub container_port: u16,
    pub protocol: String,
}

fn range(s: &str, what: &str, whole: &str) -> Result<(u16, u16), String> {
    let bad = || format!("port {whole:?}: {s:?} is not a {what} port or range");
    let (a, b) = match s.split_once('-') {
        Some((a, b)) => (a, b),
        None => (s, s),
    };
    let a: u16 = a.trim().parse().map_err(|_| bad())?;
    let b: u16 = b.trim().parse().map_err(|_| bad())?;
    if a == 0 || b < a {
        return Err(bad());
    }
    Ok((a, b))
}

fn protocol(p: &str, whole: &str) -> Result<String, String> {
    let p = p.to_ascii_lowercase();
    if ["tcp", "udp", "sctp"].contains(&p.as_str()) {
        Ok(p)
    } else {
        Err(format!(
            "port {whole:?}: the protocol must be tcp, udp or sctp"
        ))
    }
}

/// Bindings of one container port range to a host port (range), pairing ports one to one.
fn bind(
    host_ip: Option<String>,
    host: Option<&str>,
    container: (u16, u16),
    proto: &str,
    whole: &str,
) -> Result<Vec<PortSpec>, String> {
    let count = container.1 - container.0;
    let hosts: Vec<Option<String>> = match host {
        None => vec![None; count as usize + 1],
        Some(h) => {
            let (a, b) = range(h, "host", whole)?;
            if count == 0 {
                vec![Some(if a == b {
                    a.to_string()
                } else {
                    format!("{a}-{b}")
                })]
            } else if b - a == count {
                (a..=b).map(|p| Some(p.to_string())).collect()
            } else {
                return Err(format!(
                    "port {whole:?}: the host and container ranges differ in length"
                ));
            }
        }
    };
    Ok((container.0..=container.1)
        .zip(hosts)
        .map(|(c, h)| PortSpec {
            host_ip: host_ip.clone(),
            host_port: h,
            container_port: c,
            protocol: proto.to_owned(),
        })
        .collect())
}

/// One short-syntax entry.
pub fn parse_port(s: &str) -> Result<Vec<PortSpec>, String> {
    let (spec, proto) = match s.rsplit_once('/') {
        Some((spec, p)) => (spec, protocol(p, s)?),
        None => (s, "tcp".to_owned()),
    };
    // An IPv6 host address is written in brackets: `[::1]:8080:80`.
    let (host_ip, rest) = match spec.strip_prefix('[') {
        Some(r) => match r.split_once("]:") {
            Some((ip, rest)) => (Some(ip.to_owned()), rest),
            None => {
                return Err(format!(
                    "port {s:?}: the [ of an IPv6 address is not closed"
                ))
            }
        },
        None => (None, spec),
    };
    let parts: Vec<&str> = rest.rsplitn(3, ':').collect();
    let (container, host, ip) = match parts.as_slice() {
        [c] => (*c, None, host_ip),
        [c, h] if host_ip.is_some() => (*c, Some(*h), host_ip),
        // `:80` (a variable that was not set) is refused, as Compose refuses it.
        [_, ""] => return Err(format!("port {s:?}: the host port before ':' is empty")),
        [c, h] => (*c, Some(*h), None),
        [c, h, ip] if host_ip.is_none() => (*c, Some(*h), Some(ip.to_string())),
        _ => return Err(format!("port {s:?} is not [IP:][HOST:]PORT[/PROTOCOL]")),
    };
    if let Some(ip) = &ip {
        if ip.parse::<std::net::IpAddr>().is_err() {
            return Err(format!("port {s:?}: {ip:?} is not an IP address"));
        }
    }
    let host = host.filter(|h| !h.is_empty());
    bind(ip, host, range(container, "container", s)?, &proto, s)
}

/// `ports:` of a service.
pub fn ports(v: Option<&Value>) -> Result<Vec<PortSpec>, String> {
    let Some(Value::Sequence(items)) = v else {
        return match v {
            None | Some(Value::Null) => Ok(vec![]),
            Some(_) => Err("ports is a list".into()),
        };
    };
    let mut out = Vec::new();
    for item in items {
        match item {
            Value::Mapping(m) => {
                let target = m
                    .get("target")
                    .and_then(scalar)
                    .ok_or("a long-syntax port needs a target")?;
                let whole = format!("target {target}");
                let proto = match m.get("protocol").and_then(scalar) {
                    Some(p) => protocol(&p, &whole)?,
                    None => "tcp".into(),
                };
                let published = m
                    .get("published")
                    .and_then(scalar)
                    .filter(|p| !p.is_empty());
                let ip = m.get("host_ip").and_then(scalar);
                out.extend(bind(
                    ip,
                    published.as_deref(),
                    range(&target, "container", &whole)?,
                    &proto,
                    &whole,
                )?);
            }
            // A bare number is a container port; `- 80:80` may be a number in YAML 1.1 (base 60).
            other => {
                let s = scalar(other).ok_or_else(|| format!("port {other:?} is not a string"))?;
                out.extend(parse_port(&s)?);
            }
        }
    }
    Ok(out)
}

/// `expose:` entries as the daemon's `PORT/PROTO` keys.
pub fn expose(v: Option<&Value>) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    for s in super::values::list(v)? {
        let (spec, proto) = match s.rsplit_once('/') {
            Some((spec, p)) => (spec, protocol(p, &s)?),
            None => (s.as_str(), "tcp".to_owned()),
        };
        let (a, b) = range(spec, "container", &s)?;
        out.extend((a..=b).map(|p| format!("{p}/{proto}")));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn y(s: &str) -> Value {
        serde_yaml::from_str(s).unwrap()
    }

    #[test]
    fn short_syntax_with_ranges() {
        let p = &parse_port("127.0.0.1:8080:80/udp").unwrap()[0];
        assert_eq!(
            (
                p.host_ip.as_deref(),
                p.host_port.as_deref(),
                p.container_port,
                p.protocol.as_str()
            ),
            (Some("127.0.0.1"), Some("8080"), 80, "udp")
        );
        assert_eq!(parse_port("80").unwrap()[0].host_port, None);
        let r = parse_port("8000-8002:9000-9002").unwrap();
        assert_eq!(r.len(), 3);
        assert_eq!(
            (r[2].host_port.as_deref(), r[2].container_port),
            (Some("8002"), 9002)
        );
        let r = parse_port("8000-8010:80").unwrap();
        assert_eq!(r[0].host_port.as_deref(), Some("8000-8010"));
        let r = parse_port("[::1]:53:53/udp").unwrap();
        assert_eq!(r[0].host_ip.as_deref(), Some("::1"));
        assert_eq!(parse_port("3000-3001").unwrap().len(), 2);
        for bad in [
            "x:80",
            "1080=1080",
            "8000-8001:80-85",
            "80/icmp",
            "0",
            "1.2.3:80:80",
        ] {
            assert!(parse_port(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn long_syntax_takes_quoted_numbers() {
        let p = ports(Some(&y(
            "[{ target: '3000', published: '8080', host_ip: 127.0.0.1 }, { target: 53, protocol: udp }, 9000]",
        )))
        .unwrap();
        assert_eq!(p[0].container_port, 3000);
        assert_eq!(p[0].host_port.as_deref(), Some("8080"));
        assert_eq!((p[1].container_port, p[1].protocol.as_str()), (53, "udp"));
        assert_eq!(p[2].container_port, 9000);
        assert_eq!(
            expose(Some(&y("[80, '90-91/udp']"))).unwrap(),
            ["80/tcp", "90/udp", "91/udp"]
        );
    }
}
