//! A compose file's text → the `docker-compose-types` model, or every problem found, each
//! with its line where it can be known.
//!
//! Order: YAML syntax (serde_yaml, with positions), then every key berth does not implement
//! is named ("not supported yet") rather than silently ignored, then variables are
//! interpolated from the `.env` text, then the typed model is read.

use std::collections::HashMap;

use docker_compose_types::Compose;
use serde_yaml::{Mapping, Value};
use wire::ComposeProblem;

use super::interpolate::interpolate;
use super::locate::line_of;

/// What a compose text parsed into.
pub struct Parsed {
    pub compose: Compose,
    /// Variables from the `.env` text.
    pub vars: HashMap<String, String>,
}

/// Keys berth implements, per place in the file. `x-` keys (extensions) are always allowed.
const TOP: &[&str] = &["version", "name", "services", "networks", "volumes"];
const SERVICE: &[&str] = &[
    "build",
    "image",
    "container_name",
    "restart",
    "environment",
    "env_file",
    "ports",
    "volumes",
    "command",
    "entrypoint",
    "working_dir",
    "networks",
    "depends_on",
    "labels",
    "healthcheck",
    "hostname",
    "user",
    "tty",
    "stdin_open",
    "privileged",
];
const BUILD: &[&str] = &["context", "dockerfile", "args"];
const HEALTHCHECK: &[&str] = &[
    "test",
    "interval",
    "timeout",
    "retries",
    "start_period",
    "disable",
];
const SERVICE_NETWORK: &[&str] = &["ipv4_address", "aliases"];
const PORT_LONG: &[&str] = &["target", "published", "host_ip", "protocol", "mode"];
const VOLUME_LONG: &[&str] = &["type", "source", "target", "read_only"];
const DEPENDS_LONG: &[&str] = &["condition"];
const NETWORK: &[&str] = &[
    "driver",
    "driver_opts",
    "ipam",
    "internal",
    "labels",
    "external",
    "name",
];
const IPAM: &[&str] = &["driver", "config"];
const IPAM_CONFIG: &[&str] = &["subnet", "gateway"];
const VOLUME: &[&str] = &["driver", "driver_opts", "labels", "external", "name"];

pub fn problem(text: &str, path: &[&str], kind: &str, message: String) -> ComposeProblem {
    ComposeProblem {
        line: line_of(text, path),
        column: None,
        path: path.join("."),
        kind: kind.into(),
        message,
    }
}

/// Parse `.env` text (`KEY=value` lines, as Compose reads them).
pub fn env_vars(env: Option<&str>) -> Result<HashMap<String, String>, ComposeProblem> {
    let mut vars = HashMap::new();
    let Some(env) = env else {
        return Ok(vars);
    };
    for item in dotenvy::from_read_iter(env.as_bytes()) {
        match item {
            Ok((k, v)) => {
                vars.insert(k, v);
            }
            Err(e) => {
                return Err(ComposeProblem {
                    line: None,
                    column: None,
                    path: ".env".into(),
                    kind: "invalid".into(),
                    message: format!(".env: {e}"),
                });
            }
        }
    }
    Ok(vars)
}

/// Parse a compose text with its `.env` text.
pub fn parse(text: &str, env: Option<&str>) -> Result<Parsed, Vec<ComposeProblem>> {
    let vars = env_vars(env).map_err(|p| vec![p])?;
    let root: Value = serde_yaml::from_str(text).map_err(|e| vec![yaml_problem(&e, "syntax")])?;
    let Value::Mapping(root) = root else {
        return Err(vec![problem(
            text,
            &[],
            "invalid",
            "a compose file is a mapping with a `services:` key".into(),
        )]);
    };
    // Version 1 files (no `services:`, no `version:`) list services at the top level.
    let v1 = !root.contains_key("services") && !root.contains_key("version");
    let mut root = if v1 {
        let mut m = Mapping::new();
        m.insert("services".into(), Value::Mapping(root));
        m
    } else {
        root
    };

    let mut problems = Vec::new();
    let text_path = |path: &[&str]| -> Vec<String> {
        // In a v1 file the text has no `services:` line.
        let skip = usize::from(v1 && path.first() == Some(&"services"));
        path[skip..].iter().map(|s| s.to_string()).collect()
    };
    let mut unsupported = |path: Vec<String>| {
        let p: Vec<&str> = path.iter().map(String::as_str).collect();
        let in_text = text_path(&p);
        let in_text: Vec<&str> = in_text.iter().map(String::as_str).collect();
        problems.push(ComposeProblem {
            line: line_of(text, &in_text),
            column: None,
            path: p.join("."),
            kind: "unsupported".into(),
            message: format!("{} is not supported yet", p.join(".")),
        });
    };
    check_keys(&root, &[], &mut unsupported);
    if !problems.is_empty() {
        return Err(problems);
    }

    normalise(&mut root);
    let mut root = Value::Mapping(root);
    if let Err(msg) = interpolate_values(&mut root, &vars) {
        return Err(vec![problem(text, &[], "invalid", msg)]);
    }
    match serde_yaml::from_value::<Compose>(root) {
        Ok(compose) => Ok(Parsed { compose, vars }),
        Err(e) => {
            // from_value knows no positions: read the text itself for a located message.
            let located = if v1 {
                None
            } else {
                serde_yaml::from_str::<Compose>(text).err()
            };
            Err(vec![yaml_problem(
                located.as_ref().unwrap_or(&e),
                "invalid",
            )])
        }
    }
}

fn yaml_problem(e: &serde_yaml::Error, kind: &str) -> ComposeProblem {
    let loc = e.location();
    let mut message = e.to_string();
    // serde's "data did not match any variant of untagged enum X" means "wrong shape here".
    if message.contains("untagged enum") {
        message = message.replace(
            "data did not match any variant of untagged enum",
            "this value has the wrong shape for",
        );
    }
    ComposeProblem {
        line: loc.as_ref().map(|l| l.line() as u32),
        column: loc.as_ref().map(|l| l.column() as u32),
        path: String::new(),
        kind: kind.into(),
        message,
    }
}

fn keys(m: &Mapping) -> impl Iterator<Item = (String, &Value)> {
    m.iter().map(|(k, v)| {
        let k = match k {
            Value::String(s) => s.clone(),
            other => serde_yaml::to_string(other)
                .unwrap_or_default()
                .trim()
                .to_owned(),
        };
        (k, v)
    })
}

fn at(path: &[String], key: &str) -> Vec<String> {
    let mut p = path.to_vec();
    p.push(key.to_owned());
    p
}

/// Name every key outside the supported tables.
fn check_keys(root: &Mapping, _path: &[String], out: &mut impl FnMut(Vec<String>)) {
    let allowed = |table: &[&str], key: &str| key.starts_with("x-") || table.contains(&key);
    let check_map =
        |v: &Value, table: &[&str], path: Vec<String>, out: &mut dyn FnMut(Vec<String>)| {
            if let Value::Mapping(m) = v {
                for (k, _) in keys(m) {
                    if !allowed(table, &k) {
                        out(at(&path, &k));
                    }
                }
            }
        };
    for (k, v) in keys(root) {
        let top = vec![k.clone()];
        if !allowed(TOP, &k) {
            out(top);
            continue;
        }
        let Value::Mapping(section) = v else { continue };
        match k.as_str() {
            "services" => {
                for (name, svc) in keys(section) {
                    let sp = vec!["services".to_string(), name.clone()];
                    check_map(svc, SERVICE, sp.clone(), out);
                    let Value::Mapping(svc) = svc else { continue };
                    for (key, val) in keys(svc) {
                        let kp = at(&sp, &key);
                        match key.as_str() {
                            "build" => check_map(val, BUILD, kp, out),
                            "healthcheck" => check_map(val, HEALTHCHECK, kp, out),
                            "depends_on" => {
                                if let Value::Mapping(m) = val {
                                    for (dep, d) in keys(m) {
                                        check_map(d, DEPENDS_LONG, at(&kp, &dep), out);
                                    }
                                }
                            }
                            "networks" => {
                                if let Value::Mapping(m) = val {
                                    for (net, n) in keys(m) {
                                        check_map(n, SERVICE_NETWORK, at(&kp, &net), out);
                                    }
                                }
                            }
                            "ports" | "volumes" => {
                                let table = if key == "ports" {
                                    PORT_LONG
                                } else {
                                    VOLUME_LONG
                                };
                                if let Value::Sequence(items) = val {
                                    for item in items {
                                        check_map(item, table, kp.clone(), out);
                                    }
                                }
                            }
                            _ => {}
                        }
                    }
                }
            }
            "networks" => {
                for (name, net) in keys(section) {
                    let np = vec!["networks".to_string(), name.clone()];
                    check_map(net, NETWORK, np.clone(), out);
                    if let Some(ipam) = net.get("ipam") {
                        check_map(ipam, IPAM, at(&np, "ipam"), out);
                        if let Some(Value::Sequence(cfgs)) = ipam.get("config") {
                            for c in cfgs {
                                check_map(c, IPAM_CONFIG, at(&at(&np, "ipam"), "config"), out);
                            }
                        }
                    }
                }
            }
            "volumes" => {
                for (name, vol) in keys(section) {
                    check_map(vol, VOLUME, vec!["volumes".to_string(), name.clone()], out);
                }
            }
            _ => {}
        }
    }
}

/// Compose reads numbers and booleans as strings where it expects strings (`- 80` as a
/// port, `version: 2` as a label value); the typed model does not, so make them strings.
fn normalise(root: &mut Mapping) {
    fn stringify(v: &mut Value) {
        let s = match v {
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            _ => return,
        };
        *v = Value::String(s);
    }
    fn stringify_map_values(v: Option<&mut Value>) {
        if let Some(Value::Mapping(m)) = v {
            m.values_mut().for_each(stringify);
        }
    }
    fn stringify_seq(v: Option<&mut Value>) {
        if let Some(Value::Sequence(s)) = v {
            s.iter_mut().for_each(stringify);
        }
    }
    if let Some(Value::Mapping(services)) = root.get_mut("services") {
        for svc in services.values_mut() {
            let Value::Mapping(svc) = svc else { continue };
            stringify_seq(svc.get_mut("ports"));
            stringify_map_values(svc.get_mut("labels"));
            if let Some(Value::Mapping(b)) = svc.get_mut("build") {
                if !b.contains_key("context") {
                    b.insert("context".into(), ".".into());
                }
                stringify_map_values(b.get_mut("args"));
            }
            if let Some(Value::Mapping(hc)) = svc.get_mut("healthcheck") {
                for k in ["interval", "timeout", "start_period"] {
                    if let Some(v) = hc.get_mut(k) {
                        stringify(v);
                    }
                }
            }
            for key in ["command", "entrypoint"] {
                stringify_seq(svc.get_mut(key));
            }
        }
    }
    for section in ["networks", "volumes"] {
        if let Some(Value::Mapping(items)) = root.get_mut(section) {
            for item in items.values_mut() {
                if let Value::Mapping(item) = item {
                    stringify_map_values(item.get_mut("labels"));
                    stringify_map_values(item.get_mut("driver_opts"));
                }
            }
        }
    }
}

/// Interpolate every string value (keys stay as written, as in Compose).
fn interpolate_values(v: &mut Value, vars: &HashMap<String, String>) -> Result<(), String> {
    match v {
        Value::String(s) => {
            *s = interpolate(s, vars)?;
        }
        Value::Sequence(items) => {
            for item in items {
                interpolate_values(item, vars)?;
            }
        }
        Value::Mapping(m) => {
            for (_, item) in m.iter_mut() {
                interpolate_values(item, vars)?;
            }
        }
        Value::Tagged(t) => interpolate_values(&mut t.value, vars)?,
        _ => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syntax_errors_have_lines() {
        let err = parse("services:\n  web:\n    image: [x\n", None)
            .err()
            .unwrap();
        assert_eq!(err[0].kind, "syntax");
        assert!(err[0].line.is_some(), "{err:?}");
    }

    #[test]
    fn unsupported_keys_are_named_with_lines() {
        let text = "services:\n  web:\n    image: x\n    secrets: [a]\n    build:\n      context: .\n      target: t\nconfigs: {}\n";
        let err = parse(text, None).err().unwrap();
        let paths: Vec<_> = err.iter().map(|p| (p.path.as_str(), p.line)).collect();
        assert!(
            paths.contains(&("services.web.secrets", Some(4))),
            "{paths:?}"
        );
        assert!(
            paths.contains(&("services.web.build.target", Some(7))),
            "{paths:?}"
        );
        assert!(paths.contains(&("configs", Some(8))), "{paths:?}");
        assert!(err.iter().all(|p| p.message.contains("not supported yet")));
    }

    #[test]
    fn v1_files_and_numbers_and_variables() {
        let text = "web:\n  image: nginx:${TAG:-1}\n  ports:\n    - 80\n    - \"${P}:81\"\n  labels:\n    n: 2\n";
        let parsed = parse(text, Some("P=8080\n")).unwrap();
        let web = parsed.compose.services.0["web"].clone().unwrap();
        assert_eq!(web.image.as_deref(), Some("nginx:1"));
        assert_eq!(
            web.ports,
            docker_compose_types::Ports::Short(vec!["80".into(), "8080:81".into()])
        );
    }
}
