//! `volumes:` of a service (short `SOURCE:TARGET[:MODE]` and long syntax: bind, volume,
//! tmpfs), and `secrets:` / `configs:` mounted as Compose mounts them: a `file:` source
//! bind-mounted read-only (at `/run/secrets/NAME`, or `/NAME` for a config), an
//! `environment:` or `content:` source copied into the container once it is made.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use serde::Serialize;
use serde_yaml::{Mapping, Value};

use super::values::{boolean, bytes, int, scalar};
use super::{inside, VolumeSpec};

#[derive(Debug, Clone, Serialize)]
pub enum MountSource {
    /// An absolute host path.
    Bind(String),
    /// A volume's daemon name.
    Volume(String),
    Anonymous,
    Tmpfs,
}

#[derive(Debug, Clone, Serialize)]
pub struct MountSpec {
    pub source: MountSource,
    pub target: String,
    pub read_only: bool,
    /// Further `Binds` mode flags: propagation (`rshared`…), SELinux (`z`, `Z`), `nocopy`.
    pub flags: Vec<String>,
    /// A tmpfs's options (`size=…,mode=…`).
    pub tmpfs: Option<String>,
    /// `bind.create_host_path: false`: the host path must exist.
    pub no_create: bool,
    /// Written in the long syntax (or a secret or config): a `Mounts` entry, as Compose
    /// sends it, rather than a `Binds` one.
    pub long: bool,
    /// A secret's or config's file: it must exist when the stack comes up.
    pub must_exist: bool,
}

/// A file written into the container after it is made (a secret or config without a file).
#[derive(Debug, Clone, Serialize)]
pub struct FileCopy {
    pub target: String,
    pub content: String,
    pub mode: u32,
    pub uid: u64,
    pub gid: u64,
}

pub struct Ctx<'a> {
    pub working_dir: &'a Path,
    pub volumes: &'a [VolumeSpec],
    pub service: &'a str,
}

fn mount(source: MountSource, target: String, read_only: bool) -> MountSpec {
    MountSpec {
        source,
        target,
        read_only,
        flags: vec![],
        tmpfs: None,
        no_create: false,
        long: false,
        must_exist: false,
    }
}

/// A source that is a path: absolute, `~`, or relative to (and inside) the stack's folder.
fn host_path(ctx: &Ctx, source: &str) -> Result<String, String> {
    if source.starts_with('/') {
        return Ok(source.to_owned());
    }
    if source == "~" || source.starts_with("~/") {
        let home = std::env::var("HOME").unwrap_or_else(|_| "/root".into());
        return Ok(format!("{home}{}", &source[1..]));
    }
    inside(ctx.working_dir, source)
        .map(|p| p.to_string_lossy().into_owned())
        .map_err(|e| format!("bind source {e}"))
}

fn named(ctx: &Ctx, source: &str) -> Result<MountSource, String> {
    match ctx.volumes.iter().find(|v| v.key == source) {
        Some(v) => Ok(MountSource::Volume(v.name.clone())),
        None => Err(format!(
            "named volume {source:?} is used by service {} but not declared under the top-level volumes:",
            ctx.service
        )),
    }
}

fn is_path(source: &str) -> bool {
    source.starts_with('/') || source.starts_with('.') || source.starts_with('~')
}

fn short(ctx: &Ctx, s: &str) -> Result<MountSpec, String> {
    let parts: Vec<&str> = s.split(':').collect();
    let (source, target, mode) = match parts.as_slice() {
        [target] => ("", *target, ""),
        [source, target] => (*source, *target, ""),
        [source, target, mode] => (*source, *target, *mode),
        _ => return Err(format!("volume {s:?} is not SOURCE:TARGET[:MODE]")),
    };
    let mut read_only = false;
    let mut flags = Vec::new();
    for m in mode.split(',').filter(|m| !m.is_empty()) {
        match m {
            "ro" => read_only = true,
            "rw" => {}
            "z" | "Z" | "nocopy" | "shared" | "rshared" | "slave" | "rslave" | "private"
            | "rprivate" | "consistent" | "cached" | "delegated" => {
                if !matches!(m, "consistent" | "cached" | "delegated") {
                    flags.push(m.to_owned());
                }
            }
            other => return Err(format!("volume {s:?}: {other:?} is not a mount mode")),
        }
    }
    let source = if source.is_empty() {
        MountSource::Anonymous
    } else if is_path(source) {
        MountSource::Bind(host_path(ctx, source)?)
    } else {
        named(ctx, source)?
    };
    let mut m = mount(source, target.to_owned(), read_only);
    m.flags = flags;
    Ok(m)
}

fn long(ctx: &Ctx, m: &Mapping) -> Result<MountSpec, String> {
    let get = |k: &str| m.get(k).and_then(scalar);
    let typ = get("type").unwrap_or_else(|| "volume".into());
    let target = get("target").ok_or("a long-syntax volume needs a target")?;
    let read_only = m
        .get("read_only")
        .map(boolean)
        .transpose()?
        .unwrap_or(false);
    let source = get("source").unwrap_or_default();
    let mut out = match typ.as_str() {
        "bind" => {
            if source.is_empty() {
                return Err(format!("the bind mount at {target} needs a source"));
            }
            let path = host_path(ctx, &source)?;
            let mut spec = mount(MountSource::Bind(path), target, read_only);
            if let Some(b) = m.get("bind") {
                if let Some(p) = b.get("propagation").and_then(scalar) {
                    spec.flags.push(p);
                }
                if let Some(s) = b.get("selinux").and_then(scalar) {
                    spec.flags.push(s);
                }
                if let Some(c) = b.get("create_host_path") {
                    spec.no_create = !boolean(c)?;
                }
            }
            spec
        }
        "volume" => {
            let src = if source.is_empty() {
                MountSource::Anonymous
            } else {
                named(ctx, &source)?
            };
            let mut spec = mount(src, target, read_only);
            if let Some(n) = m.get("volume").and_then(|v| v.get("nocopy")) {
                if boolean(n)? {
                    spec.flags.push("nocopy".into());
                }
            }
            spec
        }
        "tmpfs" => {
            let mut spec = mount(MountSource::Tmpfs, target, read_only);
            let mut opts = Vec::new();
            if let Some(t) = m.get("tmpfs") {
                if let Some(size) = t.get("size") {
                    opts.push(format!("size={}", bytes(size)?));
                }
                if let Some(mode) = t.get("mode") {
                    // Written as an octal number (`mode: 1777`) or string.
                    opts.push(format!("mode={}", scalar(mode).unwrap_or_default()));
                }
            }
            if read_only {
                opts.push("ro".into());
            }
            spec.tmpfs = (!opts.is_empty()).then(|| opts.join(","));
            spec
        }
        other => {
            return Err(format!(
                "volume type {other:?} is not one berth mounts (bind, volume, tmpfs)"
            ))
        }
    };
    out.flags.dedup();
    out.long = true;
    Ok(out)
}

fn trim_slash(p: &str) -> String {
    let t = p.trim_end_matches('/');
    if t.is_empty() {
        "/".into()
    } else {
        t.to_owned()
    }
}

/// A service's `volumes:`.
pub fn volumes(ctx: &Ctx, v: Option<&Value>) -> Vec<Result<MountSpec, String>> {
    let Some(Value::Sequence(items)) = v else {
        return vec![];
    };
    items
        .iter()
        .map(|item| {
            let m = match item {
                Value::Mapping(m) => long(ctx, m),
                other => match scalar(other) {
                    Some(s) => short(ctx, &s),
                    None => Err(format!("volume {other:?} is not a string or a mapping")),
                },
            }?;
            let mut m = m;
            // `/etc/pihole/` and `/etc/pihole` are one path (Compose writes the latter).
            m.target = trim_slash(&m.target);
            if let MountSource::Bind(src) = &m.source {
                m.source = MountSource::Bind(trim_slash(src));
            }
            if !m.target.starts_with('/') {
                return Err(format!(
                    "mount target {:?} must be an absolute path in the container",
                    m.target
                ));
            }
            Ok(m)
        })
        .collect()
}

/// A service's `tmpfs:` (a path or a list, each `PATH[:OPTIONS]`).
pub fn tmpfs(v: Option<&Value>) -> Result<BTreeMap<String, String>, String> {
    let mut out = BTreeMap::new();
    for t in super::values::list(v)? {
        let (path, opts) = t.split_once(':').unwrap_or((t.as_str(), ""));
        if !path.starts_with('/') {
            return Err(format!("tmpfs {path:?} must be an absolute path"));
        }
        out.insert(path.to_owned(), opts.to_owned());
    }
    Ok(out)
}

/// What a service's `secrets:` or `configs:` mount: binds of files, and copies.
pub fn files(
    ctx: &Ctx,
    kind: &str,
    refs: Option<&Value>,
    top: Option<&Value>,
    vars: &HashMap<String, String>,
    ignored: &mut Vec<String>,
) -> Result<(Vec<MountSpec>, Vec<FileCopy>), String> {
    let mut binds = Vec::new();
    let mut copies = Vec::new();
    let Some(Value::Sequence(items)) = refs else {
        return Ok((binds, copies));
    };
    for item in items {
        let (source, target, uid, gid, mode) = match item {
            Value::Mapping(m) => (
                m.get("source")
                    .and_then(scalar)
                    .ok_or_else(|| format!("{kind}: an entry needs a source"))?,
                m.get("target").and_then(scalar),
                m.get("uid").map(int).transpose()?,
                m.get("gid").map(int).transpose()?,
                m.get("mode").map(int).transpose()?,
            ),
            other => (
                scalar(other).ok_or_else(|| format!("{kind}: {other:?} is not a name"))?,
                None,
                None,
                None,
                None,
            ),
        };
        let def = top.and_then(|t| t.get(source.as_str())).ok_or_else(|| {
            format!(
                "{kind} {source:?} is used by service {} but not declared under the top-level {kind}:",
                ctx.service
            )
        })?;
        let target = match (kind, target) {
            ("secrets", Some(t)) if t.starts_with('/') => t,
            ("secrets", Some(t)) => format!("/run/secrets/{t}"),
            ("secrets", None) => format!("/run/secrets/{source}"),
            (_, Some(t)) => t,
            (_, None) => format!("/{source}"),
        };
        if let Some(f) = def.get("file").and_then(scalar) {
            let path = host_path(ctx, &f).map_err(|e| format!("{kind} {source}: {e}"))?;
            let mut m = mount(MountSource::Bind(path), target, true);
            m.long = true;
            m.must_exist = true;
            binds.push(m);
            if uid.is_some() || gid.is_some() || mode.is_some() {
                ignored.push(format!(
                    "{kind}.{source}: uid, gid and mode of a file source (a bind mount keeps the file's own)"
                ));
            }
            continue;
        }
        let content = if let Some(env) = def.get("environment").and_then(scalar) {
            vars.get(&env).cloned().unwrap_or_default()
        } else if let Some(c) = def.get("content").and_then(scalar) {
            c
        } else if def.get("external").is_some() {
            ignored.push(format!(
                "{kind}.{source}: an external {kind} exists only in a swarm; nothing is mounted"
            ));
            continue;
        } else {
            return Err(format!(
                "{kind} {source} needs a file, environment or content source"
            ));
        };
        copies.push(FileCopy {
            target,
            content,
            mode: mode.map(|m| m as u32).unwrap_or(0o444),
            uid: uid.map(|u| u as u64).unwrap_or(0),
            gid: gid.map(|g| g as u64).unwrap_or(0),
        });
    }
    Ok((binds, copies))
}
