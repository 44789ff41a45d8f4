//! Containers in depth: create and run (`docker run`), logs, terminals, top, stats, files.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// `POST /api/containers` and `POST /api/containers/run`: what `docker run` takes.
/// Everything but `image` is optional.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[serde(default)]
pub struct CreateContainer {
    pub image: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Replaces the image's CMD when given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cmd: Option<Vec<String>>,
    /// Replaces the image's ENTRYPOINT when given; an empty list clears it
    /// (`--entrypoint ""`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entrypoint: Option<Vec<String>>,
    /// `KEY=value` entries.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub env: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub workdir: Option<String>,
    /// `-u user[:group]`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ports: Vec<PortSpec>,
    /// `/abs/host:/path/in/container[:ro]`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub binds: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub volumes: Vec<VolumeSpec>,
    #[serde(skip_serializing_if = "is_false")]
    pub privileged: bool,
    #[serde(skip_serializing_if = "is_false")]
    pub tty: bool,
    #[serde(skip_serializing_if = "is_false")]
    pub open_stdin: bool,
    /// `name:alias` (legacy links, default bridge only).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub network: Option<String>,
    /// A fixed address on `network`, which must be a user-defined network.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ipv4: Option<String>,
    /// `no`, `always`, `unless-stopped`, `on-failure` or `on-failure:N`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub restart: Option<String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// `--rm`. For `POST /api/containers/run` it defaults to true.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auto_remove: Option<bool>,
    /// Start right after creating (default true).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start: Option<bool>,
    /// The team that owns it (`berth.team`); a non-admin's first team when not given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub team: Option<String>,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// A published port: `-p [host_ip:][host_port:]container_port[/protocol]`.
/// Numbers are wide so that an out-of-range port gets a clear 400, not a parse error.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PortSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_ip: Option<String>,
    /// None or 0: the daemon picks a free port, as `-p 80` does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_port: Option<i64>,
    pub container_port: i64,
    /// `tcp` (default), `udp` or `sctp`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<String>,
}

impl PortSpec {
    /// Parses what `docker run -p` takes: `80`, `8080:80`, `127.0.0.1:8080:80/udp`,
    /// `127.0.0.1::80`, `[::1]:8080:80`.
    pub fn parse(spec: &str) -> Result<PortSpec, String> {
        let spec = spec.trim();
        let (rest, protocol) = match spec.rsplit_once('/') {
            Some((rest, proto)) => (rest, Some(proto.to_ascii_lowercase())),
            None => (spec, None),
        };
        let num = |s: &str, what: &str| -> Result<i64, String> {
            s.parse::<i64>()
                .map_err(|_| format!("{what} {s:?} in {spec:?} is not a number"))
        };
        // The container port is after the last colon; an IPv6 host address is in brackets.
        let (front, container) = match rest.rsplit_once(':') {
            Some((front, c)) => (Some(front), c),
            None => (None, rest),
        };
        let container_port = num(container, "the container port")?;
        let (host_ip, host_port) = match front {
            None => (None, None),
            Some(front) => match front.rsplit_once(':') {
                Some((ip, port)) => {
                    let ip = ip.trim_start_matches('[').trim_end_matches(']');
                    let port = if port.is_empty() {
                        None
                    } else {
                        Some(num(port, "the host port")?)
                    };
                    (Some(ip.to_string()).filter(|s| !s.is_empty()), port)
                }
                None if front.is_empty() => (None, None),
                None => (None, Some(num(front, "the host port")?)),
            },
        };
        Ok(PortSpec {
            host_ip,
            host_port,
            container_port,
            protocol,
        })
    }

    /// Back to `-p` form.
    pub fn to_flag(&self) -> String {
        let mut s = String::new();
        if let Some(ip) = self.host_ip.as_deref().filter(|s| !s.is_empty()) {
            if ip.contains(':') {
                s.push_str(&format!("[{ip}]:"));
            } else {
                s.push_str(&format!("{ip}:"));
            }
            if let Some(p) = self.host_port.filter(|p| *p != 0) {
                s.push_str(&p.to_string());
            }
            s.push(':');
        } else if let Some(p) = self.host_port.filter(|p| *p != 0) {
            s.push_str(&format!("{p}:"));
        }
        s.push_str(&self.container_port.to_string());
        if let Some(proto) = self.protocol.as_deref().filter(|p| *p != "tcp") {
            s.push_str(&format!("/{proto}"));
        }
        s
    }
}

/// A named volume mounted into the container (`-v name:/target[:ro]`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct VolumeSpec {
    pub name: String,
    pub target: String,
    #[serde(default)]
    pub read_only: bool,
}

/// The answer to `POST /api/containers`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreatedContainer {
    pub id: String,
    pub warnings: Vec<String>,
}

/// One line of `POST /api/containers/run` (`application/x-ndjson`): first `{"id"}`, then
/// `{"stream","line"}` as the container writes, and last `{"exit_code"}` or `{"error"}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct RunLine {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stream: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<crate::ErrorDetail>,
}

/// A log line of `GET /api/containers/{id}/logs/ws` (sent batched, as a JSON array).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LogLine {
    /// `stdout` or `stderr` (`stdout` for a tty container, whose streams are one).
    pub stream: String,
    pub line: String,
    /// RFC 3339 with nanoseconds, when `timestamps=true`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ts: Option<String>,
}

/// `GET /api/containers/{id}/logs/page`: the lines just before a moment, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LogPage {
    pub lines: Vec<LogLine>,
    /// Whether older lines than the first of `lines` may exist.
    pub more: bool,
}

/// What else the logs socket says, tagged `berth` like [`crate::StreamNotice`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "berth", rename_all = "snake_case")]
pub enum LogNotice {
    /// The client did not keep up: this many lines were dropped here.
    Skipped { count: u64 },
    /// The container stopped; the stream goes on when it starts again.
    Stopped {
        #[serde(default)]
        exit_code: Option<i64>,
    },
    /// The container runs again; new output follows.
    Restarted,
    /// The daemon cannot be reached; the server keeps trying.
    DaemonLost { message: String },
    /// The daemon answers again; the stream goes on from where it was.
    DaemonBack,
    /// Everything asked for was sent (`follow=false`).
    End,
}

/// Text frames on the terminal sockets (`exec/ws`, `attach/ws`). Binary frames carry the
/// terminal's bytes; the client sends `resize`, the server `exit`, `detached` or `error`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum TermControl {
    Resize {
        cols: u16,
        rows: u16,
    },
    /// The process ended (exec) or the container stopped (attach).
    Exit {
        #[serde(default)]
        code: Option<i64>,
    },
    /// ctrl-p ctrl-q: detached, the container keeps running.
    Detached,
    Error {
        message: String,
    },
}

/// A frame of `GET /api/containers/{id}/stats/ws`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StatsFrame {
    pub cpu_percent: f64,
    pub mem_usage: u64,
    pub mem_limit: u64,
    pub net_rx: u64,
    pub net_tx: u64,
    pub blk_read: u64,
    pub blk_write: u64,
    pub pids: u64,
    /// When the daemon read these (unix milliseconds).
    #[serde(default)]
    pub ts: i64,
}

/// `GET /api/containers/{id}/top`, as `docker top`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TopResult {
    pub titles: Vec<String>,
    pub processes: Vec<Vec<String>>,
}

/// Quote one word for a POSIX shell, only when it needs it.
pub fn shell_quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./:=,@%+".contains(&b));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

impl CreateContainer {
    /// The equivalent `docker run` command line (`run_once`: as `POST /api/containers/run`).
    pub fn docker_run(&self, run_once: bool) -> String {
        let mut words: Vec<String> = vec!["docker".into(), "run".into()];
        let mut flag = |f: &str, v: Option<&str>| {
            words.push(f.to_string());
            if let Some(v) = v {
                words.push(shell_quote(v));
            }
        };
        let start = self.start.unwrap_or(true);
        let rm = self.auto_remove.unwrap_or(run_once);
        if !run_once && start {
            flag("-d", None);
        }
        if rm {
            flag("--rm", None);
        }
        match (self.open_stdin, self.tty) {
            (true, true) => flag("-it", None),
            (true, false) => flag("-i", None),
            (false, true) => flag("-t", None),
            _ => {}
        }
        if let Some(name) = self.name.as_deref().filter(|s| !s.is_empty()) {
            flag("--name", Some(name));
        }
        if self.privileged {
            flag("--privileged", None);
        }
        if let Some(u) = self.user.as_deref().filter(|s| !s.is_empty()) {
            flag("-u", Some(u));
        }
        if let Some(h) = self.hostname.as_deref().filter(|s| !s.is_empty()) {
            flag("-h", Some(h));
        }
        if let Some(w) = self.workdir.as_deref().filter(|s| !s.is_empty()) {
            flag("-w", Some(w));
        }
        for e in &self.env {
            flag("-e", Some(e));
        }
        for p in &self.ports {
            flag("-p", Some(&p.to_flag()));
        }
        for b in &self.binds {
            flag("-v", Some(b));
        }
        for v in &self.volumes {
            let ro = if v.read_only { ":ro" } else { "" };
            flag("-v", Some(&format!("{}:{}{ro}", v.name, v.target)));
        }
        for l in &self.links {
            flag("--link", Some(l));
        }
        if let Some(n) = self.network.as_deref().filter(|s| !s.is_empty()) {
            flag("--network", Some(n));
        }
        if let Some(ip) = self.ipv4.as_deref().filter(|s| !s.is_empty()) {
            flag("--ip", Some(ip));
        }
        if let Some(r) = self
            .restart
            .as_deref()
            .filter(|s| !s.is_empty() && *s != "no")
        {
            flag("--restart", Some(r));
        }
        for (k, v) in &self.labels {
            flag("-l", Some(&format!("{k}={v}")));
        }
        if let Some(ep) = &self.entrypoint {
            let joined = ep.join(" ");
            flag("--entrypoint", Some(&joined));
        }
        words.push(shell_quote(&self.image));
        for c in self.cmd.iter().flatten() {
            words.push(shell_quote(c));
        }
        if !run_once && !start {
            words[1] = "create".into();
            words.retain(|w| w != "-d");
        }
        words.join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn port_specs_parse_like_docker_run() {
        let p = PortSpec::parse("80").unwrap();
        assert_eq!((p.host_ip, p.host_port, p.container_port), (None, None, 80));
        let p = PortSpec::parse("8080:80").unwrap();
        assert_eq!((p.host_port, p.container_port), (Some(8080), 80));
        let p = PortSpec::parse("127.0.0.1:8080:80/udp").unwrap();
        assert_eq!(p.host_ip.as_deref(), Some("127.0.0.1"));
        assert_eq!(p.protocol.as_deref(), Some("udp"));
        let p = PortSpec::parse("127.0.0.1::80").unwrap();
        assert_eq!((p.host_port, p.container_port), (None, 80));
        let p = PortSpec::parse("[::1]:9000:90").unwrap();
        assert_eq!(p.host_ip.as_deref(), Some("::1"));
        assert_eq!(p.to_flag(), "[::1]:9000:90");
        assert!(PortSpec::parse("x:80").is_err());
        assert_eq!(
            PortSpec::parse("1.2.3.4:8080:80/udp").unwrap().to_flag(),
            "1.2.3.4:8080:80/udp"
        );
    }

    #[test]
    fn docker_run_preview() {
        let c = CreateContainer {
            image: "gcc".into(),
            cmd: Some(vec!["make".into(), "all".into()]),
            binds: vec!["/home/me/src:/src".into()],
            workdir: Some("/src".into()),
            env: vec!["A=b c".into()],
            ..Default::default()
        };
        assert_eq!(
            c.docker_run(true),
            "docker run --rm -w /src -e 'A=b c' -v /home/me/src:/src gcc make all"
        );
        let c = CreateContainer {
            image: "nginx".into(),
            name: Some("web".into()),
            ports: vec![PortSpec::parse("8080:80").unwrap()],
            entrypoint: Some(vec![]),
            tty: true,
            open_stdin: true,
            restart: Some("always".into()),
            ..Default::default()
        };
        assert_eq!(
            c.docker_run(false),
            "docker run -d -it --name web -p 8080:80 --restart always --entrypoint '' nginx"
        );
    }

    #[test]
    fn notices_are_tagged() {
        let n = serde_json::to_string(&LogNotice::Skipped { count: 3 }).unwrap();
        assert_eq!(n, r#"{"berth":"skipped","count":3}"#);
        let r: TermControl =
            serde_json::from_str(r#"{"type":"resize","cols":80,"rows":24}"#).unwrap();
        assert_eq!(r, TermControl::Resize { cols: 80, rows: 24 });
    }
}
