//! A compose file's text → berth's reading of it, or every problem found, each with its
//! line where it can be known.
//!
//! Order, as Compose does it: YAML syntax (serde_yaml, with positions) and merge keys
//! (`<<: *anchor`); every key outside the Compose specification refused with its line;
//! variables interpolated from the `.env` text; `include` and `extends` applied (other
//! files inside the stack's folder); services outside the chosen profiles dropped. Then the
//! `docker-compose-types` model is read for the keys it models well, and `raw` keeps the
//! whole file for the rest (`model` reads both).

use std::collections::HashMap;
use std::path::Path;

use docker_compose_types::Compose;
use serde_yaml::{Mapping, Value};
use wire::ComposeProblem;

use super::locate::line_of;
use super::merge::{self, Loader};

/// What a compose text parsed into.
pub struct Parsed {
    /// The typed model of the keys read through it (see [`TYPED`]).
    pub compose: Compose,
    /// The whole file, services at `services:` (a version 1 file too), after merge keys,
    /// interpolation, `include`, `extends` and profiles.
    pub raw: Mapping,
    /// Variables from the `.env` text.
    pub vars: HashMap<String, String>,
    /// A version 1 file (services at the top, no `services:` line in the text).
    pub v1: bool,
}

/// The service keys read through `docker-compose-types`; every other key is read from `raw`
/// (the typed model's shapes for them are narrower than the specification's).
const TYPED: &[&str] = &[
    "image",
    "container_name",
    "restart",
    "environment",
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
const TYPED_NETWORK: &[&str] = &[
    "driver",
    "driver_opts",
    "ipam",
    "internal",
    "labels",
    "external",
    "name",
    "attachable",
    "enable_ipv6",
];
const TYPED_SERVICE_NETWORK: &[&str] = &["ipv4_address", "ipv6_address", "aliases"];

pub fn problem(text: &str, path: &[&str], kind: &str, message: String) -> ComposeProblem {
    ComposeProblem {
        line: line_of(text, path),
        column: None,
        path: path.join("."),
        kind: kind.into(),
        message,
    }
}

/// Parse `.env` text as Compose reads it.
pub fn env_vars(env: Option<&str>) -> Result<HashMap<String, String>, ComposeProblem> {
    let Some(env) = env else {
        return Ok(HashMap::new());
    };
    super::envfile::vars(env).map_err(|(line, message)| ComposeProblem {
        line: Some(line),
        column: None,
        path: ".env".into(),
        kind: "invalid".into(),
        message: format!(".env line {line}: {message}"),
    })
}

/// The profiles chosen: `COMPOSE_PROFILES` of the `.env` (comma separated), as Compose reads it.
pub fn active_profiles(vars: &HashMap<String, String>) -> Vec<String> {
    vars.get("COMPOSE_PROFILES")
        .map(|p| {
            p.split(',')
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect()
        })
        .unwrap_or_default()
}

/// Parse a compose text with its `.env` text (no other files; the `.env`'s profiles).
pub fn parse(text: &str, env: Option<&str>) -> Result<Parsed, Vec<ComposeProblem>> {
    parse_in(text, env, None, None)
}

/// Parse a compose text of a stack whose folder is `dir` (where `include` and
/// `extends.file` are read), starting the services of `profiles` (default: the `.env`'s
/// `COMPOSE_PROFILES`) and those without profiles.
pub fn parse_in(
    text: &str,
    env: Option<&str>,
    dir: Option<&Path>,
    profiles: Option<&[String]>,
) -> Result<Parsed, Vec<ComposeProblem>> {
    let vars = env_vars(env).map_err(|p| vec![p])?;
    let mut root: Value =
        serde_yaml::from_str(text).map_err(|e| vec![yaml_problem(&e, "syntax")])?;
    if let Err(e) = root.apply_merge() {
        return Err(vec![problem(
            text,
            &[],
            "invalid",
            format!("merge key (<<): {e}"),
        )]);
    }
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
    let text_path = |path: &[String]| -> Vec<String> {
        // In a v1 file the text has no `services:` line.
        let skip = usize::from(v1 && path.first().map(String::as_str) == Some("services"));
        path[skip..].to_vec()
    };
    let located = |path: &[String], kind: &str, message: String| {
        let in_text = text_path(path);
        let in_text: Vec<&str> = in_text.iter().map(String::as_str).collect();
        ComposeProblem {
            line: line_of(text, &in_text),
            column: None,
            path: path.join("."),
            kind: kind.into(),
            message,
        }
    };

    let unknown = super::keys::unknown(&root);
    if !unknown.is_empty() {
        return Err(unknown
            .iter()
            .map(|p| {
                let key = p.last().cloned().unwrap_or_default();
                let at = p[..p.len() - 1].join(".");
                let msg = if at.is_empty() {
                    format!("{key} is not a key of a compose file")
                } else {
                    format!("{}: {key} is not a Compose key here ({at})", p.join("."))
                };
                located(p, "invalid", msg)
            })
            .collect());
    }

    // Interpolate each top-level section apart, so an error names where it is.
    for (k, v) in root.iter_mut() {
        let key = k.as_str().unwrap_or_default().to_owned();
        let mut err = None;
        if let (
            Value::Mapping(items),
            "services" | "networks" | "volumes" | "secrets" | "configs",
        ) = (&mut *v, key.as_str())
        {
            for (name, item) in items.iter_mut() {
                if let Err(e) = merge::interpolate_all(item, &vars) {
                    err = Some((
                        vec![key.clone(), name.as_str().unwrap_or_default().into()],
                        e,
                    ));
                    break;
                }
            }
        } else if let Err(e) = merge::interpolate_all(v, &vars) {
            err = Some((vec![key.clone()], e));
        }
        if let Some((path, e)) = err {
            return Err(vec![located(&path, "invalid", e)]);
        }
    }

    let no_dir = Path::new("/nonexistent-stack-folder");
    let mut loader = Loader {
        root: dir.unwrap_or(no_dir),
        vars: &vars,
        including: vec![],
    };
    if let Err(e) = merge::include(&mut root, "", &mut loader) {
        return Err(vec![located(&["include".into()], "invalid", e)]);
    }
    if let Err(e) = merge::extends(&mut root, &loader) {
        return Err(vec![located(&["services".into()], "invalid", e)]);
    }

    let chosen = profiles
        .map(<[String]>::to_vec)
        .unwrap_or_else(|| active_profiles(&vars));
    if let Some(Value::Mapping(services)) = root.get_mut("services") {
        services.retain(|_, svc| enabled(svc, &chosen));
    }

    normalise(&mut root);
    let typed = typed_copy(&root);
    match serde_yaml::from_value::<Compose>(Value::Mapping(typed)) {
        Ok(compose) => Ok(Parsed {
            compose,
            raw: root,
            vars,
            v1,
        }),
        Err(e) => {
            // from_value knows no positions: read the text itself for a located message.
            let located = if v1 {
                None
            } else {
                serde_yaml::from_str::<Compose>(text).err()
            };
            let e = match &located {
                Some(l) if l.location().is_some() => l,
                _ => &e,
            };
            Err(vec![yaml_problem(e, "invalid")])
        }
    }
}

/// Whether a service runs with these profiles chosen: it has none, or one of them (`*`: all).
fn enabled(svc: &Value, chosen: &[String]) -> bool {
    match svc.get("profiles") {
        Some(Value::Sequence(p)) if !p.is_empty() => p.iter().any(|p| {
            p.as_str()
                .is_some_and(|p| chosen.iter().any(|c| c == p || c == "*"))
        }),
        _ => true,
    }
}

/// The part of the file read through the typed model.
fn typed_copy(root: &Mapping) -> Mapping {
    let mut out = Mapping::new();
    if let Some(Value::Mapping(services)) = root.get("services") {
        let mut s = Mapping::new();
        for (name, svc) in services {
            let mut t = Mapping::new();
            if let Value::Mapping(svc) = svc {
                for (k, v) in svc {
                    if k.as_str().is_some_and(|k| TYPED.contains(&k)) {
                        t.insert(k.clone(), v.clone());
                    }
                }
                if let Some(Value::Mapping(nets)) = t.get_mut("networks") {
                    for (_, n) in nets.iter_mut() {
                        if let Value::Mapping(n) = n {
                            n.retain(|k, _| {
                                k.as_str()
                                    .is_some_and(|k| TYPED_SERVICE_NETWORK.contains(&k))
                            });
                        }
                    }
                }
            }
            s.insert(name.clone(), Value::Mapping(t));
        }
        out.insert("services".into(), Value::Mapping(s));
    }
    if let Some(Value::Mapping(nets)) = root.get("networks") {
        let mut n = nets.clone();
        for (_, net) in n.iter_mut() {
            if let Value::Mapping(net) = net {
                net.retain(|k, _| k.as_str().is_some_and(|k| TYPED_NETWORK.contains(&k)));
                if let Some(Value::Mapping(ipam)) = net.get_mut("ipam") {
                    ipam.remove("options");
                    if let Some(Value::Sequence(cfgs)) = ipam.get_mut("config") {
                        for c in cfgs.iter_mut() {
                            if let Value::Mapping(c) = c {
                                c.retain(|k, _| {
                                    matches!(k.as_str(), Some("subnet") | Some("gateway"))
                                });
                            }
                        }
                    }
                }
            }
        }
        out.insert("networks".into(), Value::Mapping(n));
    }
    if let Some(v) = root.get("volumes") {
        out.insert("volumes".into(), v.clone());
    }
    out
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
            stringify_map_values(svc.get_mut("labels"));
            // `depends_on: { db: {} }`: the condition defaults to service_started.
            if let Some(Value::Mapping(deps)) = svc.get_mut("depends_on") {
                for d in deps.values_mut() {
                    if d.is_null() {
                        *d = Value::Mapping(Mapping::new());
                    }
                    if let Value::Mapping(d) = d {
                        d.entry("condition".into())
                            .or_insert_with(|| "service_started".into());
                    }
                }
            }
            if let Some(Value::Mapping(hc)) = svc.get_mut("healthcheck") {
                for k in ["interval", "timeout", "start_period", "start_interval"] {
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
    fn unknown_keys_are_refused_with_their_lines() {
        let text = "services:\n  web:\n    image: x\n    depends_on:\n      db:\n        condition: service_started\n  db:\n    image: y\n    secrets: [a]\n    imagee: z\n    build:\n      context: .\n      targt: t\nconfig: {}\n";
        let err = parse(text, None).err().unwrap();
        let paths: Vec<_> = err.iter().map(|p| (p.path.as_str(), p.line)).collect();
        assert_eq!(
            paths,
            [
                ("config", Some(14)),
                ("services.db.imagee", Some(10)),
                ("services.db.build.targt", Some(13)),
            ]
        );
        assert!(err.iter().all(|p| p.kind == "invalid"), "{err:?}");
    }

    #[test]
    fn merge_keys_and_anchors() {
        let text = "x-common: &common\n  image: base\n  restart: always\n  environment: { A: 1 }\nservices:\n  a:\n    <<: *common\n  b:\n    <<: *common\n    image: other\n";
        let p = parse(text, None).unwrap();
        let a = p.compose.services.0["a"].clone().unwrap();
        let b = p.compose.services.0["b"].clone().unwrap();
        assert_eq!(a.image.as_deref(), Some("base"));
        assert_eq!(b.image.as_deref(), Some("other"));
        assert_eq!(b.restart.as_deref(), Some("always"));
    }

    #[test]
    fn profiles_choose_services() {
        let text = "services:\n  web: { image: w }\n  debug: { image: d, profiles: [dev] }\n  all: { image: a, profiles: [ops, dev] }\n";
        let names = |p: Parsed| -> Vec<String> { p.compose.services.0.keys().cloned().collect() };
        assert_eq!(names(parse(text, None).unwrap()), ["web"]);
        assert_eq!(
            names(parse(text, Some("COMPOSE_PROFILES=dev\n")).unwrap()),
            ["web", "debug", "all"]
        );
        let ops = ["ops".to_string()];
        assert_eq!(
            names(parse_in(text, None, None, Some(&ops)).unwrap()),
            ["web", "all"]
        );
    }

    #[test]
    fn interpolation_errors_name_the_service() {
        let text = "services:\n  web:\n    image: x\n  db:\n    image: ${TAG:?set TAG}\n";
        let err = parse(text, None).err().unwrap();
        assert_eq!(err[0].line, Some(4), "{err:?}");
        assert!(err[0].message.contains("set TAG"));
    }

    #[test]
    fn v1_files_and_numbers_and_variables() {
        let text = "web:\n  image: nginx:${TAG:-1}\n  ports:\n    - 80\n    - \"${P}:81\"\n  labels:\n    n: 2\n";
        let parsed = parse(text, Some("P=8080\n")).unwrap();
        let web = parsed.compose.services.0["web"].clone().unwrap();
        assert_eq!(web.image.as_deref(), Some("nginx:1"));
        assert!(parsed.v1);
        assert_eq!(
            parsed.raw["services"]["web"]["ports"][1],
            Value::String("8080:81".into())
        );
    }
}
