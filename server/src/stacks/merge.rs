//! `include` and `extends`: other compose files inside the stack's folder, and services
//! built on other services, merged as Compose merges them. Everything happens on YAML
//! values, after each file's merge keys and variables are applied, with every relative path
//! of a file in a subfolder rewritten to be relative to the stack's folder (so the checks
//! that paths stay inside it apply to all of them).
//!
//! Merge rules (the specification's "merge" section): mappings merge key by key, the
//! extending side winning; `environment`, `labels`, `sysctls`… given as lists are read as
//! mappings first; sequences such as `ports`, `expose`, `dns`, `cap_add` are appended
//! without duplicates (`volumes`, `devices`, `tmpfs` keyed by their target); `command`,
//! `entrypoint` and everything else scalar is replaced.

use std::collections::HashMap;
use std::path::{Component, Path};

use serde_yaml::{Mapping, Value};

use super::interpolate::interpolate;

/// Loads the other files of a stack (for `include` and `extends.file`).
pub struct Loader<'a> {
    /// The stack's folder: no file outside it is read.
    pub root: &'a Path,
    pub vars: &'a HashMap<String, String>,
    /// Files being included, outermost first (to refuse cycles).
    pub including: Vec<String>,
}

/// `dir` joined with `p`, lexically, relative to the stack's folder; `Err` when it leaves it.
pub fn join_rel(dir: &str, p: &str) -> Result<String, String> {
    if Path::new(p).is_absolute() {
        return Err(format!(
            "{p:?} is an absolute path: it must be relative to the stack's folder"
        ));
    }
    let mut parts: Vec<String> = Vec::new();
    for c in Path::new(dir).join(p).components() {
        match c {
            Component::Normal(s) => parts.push(s.to_string_lossy().into_owned()),
            Component::CurDir => {}
            Component::ParentDir => {
                if parts.pop().is_none() {
                    return Err(format!("{p:?} leaves the stack's folder"));
                }
            }
            Component::RootDir | Component::Prefix(_) => {
                return Err(format!("{p:?} leaves the stack's folder"))
            }
        }
    }
    Ok(if parts.is_empty() {
        ".".into()
    } else {
        format!("./{}", parts.join("/"))
    })
}

fn parent_of(rel: &str) -> String {
    Path::new(rel)
        .parent()
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_default()
}

impl Loader<'_> {
    /// Read a file of the stack, its merge keys applied and its values interpolated.
    pub fn read(&self, rel: &str) -> Result<Mapping, String> {
        let path = self.root.join(rel);
        let meta = std::fs::metadata(&path).map_err(|e| format!("{rel}: {e}"))?;
        if meta.len() > super::files::MAX_FILE as u64 {
            return Err(format!(
                "{rel} is larger than {} bytes",
                super::files::MAX_FILE
            ));
        }
        // Resolved, it must still be inside the folder (a symlink could lead out).
        let real = std::fs::canonicalize(&path).map_err(|e| format!("{rel}: {e}"))?;
        let root = std::fs::canonicalize(self.root).map_err(|e| format!("{rel}: {e}"))?;
        if !real.starts_with(&root) {
            return Err(format!("{rel} leaves the stack's folder"));
        }
        let text = std::fs::read_to_string(&real).map_err(|e| format!("{rel}: {e}"))?;
        let mut v: Value = serde_yaml::from_str(&text).map_err(|e| format!("{rel}: {e}"))?;
        v.apply_merge().map_err(|e| format!("{rel}: {e}"))?;
        interpolate_all(&mut v, self.vars).map_err(|e| format!("{rel}: {e}"))?;
        match v {
            Value::Mapping(m) => Ok(m),
            _ => Err(format!("{rel} is not a compose file (a mapping)")),
        }
    }
}

/// Interpolate every string value (keys stay as written, as in Compose).
pub fn interpolate_all(v: &mut Value, vars: &HashMap<String, String>) -> Result<(), String> {
    match v {
        Value::String(s) => *s = interpolate(s, vars)?,
        Value::Sequence(items) => {
            for item in items {
                interpolate_all(item, vars)?;
            }
        }
        Value::Mapping(m) => {
            for (_, item) in m.iter_mut() {
                interpolate_all(item, vars)?;
            }
        }
        Value::Tagged(t) => interpolate_all(&mut t.value, vars)?,
        _ => {}
    }
    Ok(())
}

/// Apply the top-level `include:` of `root` (a file in folder `dir`, relative to the stack's).
pub fn include(root: &mut Mapping, dir: &str, loader: &mut Loader) -> Result<(), String> {
    let Some(list) = root.remove("include") else {
        return Ok(());
    };
    let entries = match list {
        Value::Sequence(s) => s,
        Value::Null => vec![],
        other => vec![other],
    };
    for entry in entries {
        let (paths, project_dir) = match &entry {
            Value::String(p) => (vec![p.clone()], None),
            Value::Mapping(m) => {
                let paths = match m.get("path") {
                    Some(Value::String(p)) => vec![p.clone()],
                    Some(Value::Sequence(ps)) => ps
                        .iter()
                        .filter_map(|p| p.as_str().map(str::to_owned))
                        .collect(),
                    _ => return Err("include: each entry needs a path".into()),
                };
                let pd = m
                    .get("project_directory")
                    .and_then(Value::as_str)
                    .map(str::to_owned);
                (paths, pd)
            }
            _ => return Err("include: each entry is a path or a mapping with path".into()),
        };
        for p in paths {
            let rel = join_rel(dir, &p).map_err(|e| format!("include {e}"))?;
            if loader.including.contains(&rel) {
                return Err(format!(
                    "include: {} includes itself (through {})",
                    rel,
                    loader.including.join(" → ")
                ));
            }
            let mut other = loader.read(&rel).map_err(|e| format!("include {e}"))?;
            let sub_dir = match &project_dir {
                Some(pd) => join_rel(dir, pd).map_err(|e| format!("include {e}"))?,
                None => parent_of(&rel),
            };
            // Its own paths first; what it includes in turn comes rebased already.
            rebase_file(&mut other, &sub_dir)?;
            loader.including.push(rel.clone());
            include(&mut other, &parent_of(&rel), loader)?;
            extends(&mut other, loader)?;
            loader.including.pop();
            for section in ["services", "networks", "volumes", "secrets", "configs"] {
                let Some(Value::Mapping(theirs)) = other.remove(section) else {
                    continue;
                };
                let ours = root
                    .entry(section.into())
                    .or_insert_with(|| Value::Mapping(Mapping::new()));
                if ours.is_null() {
                    *ours = Value::Mapping(Mapping::new());
                }
                let Value::Mapping(ours) = ours else { continue };
                for (k, v) in theirs {
                    if ours.contains_key(&k) {
                        return Err(format!(
                            "{section}.{} is defined both here and in the included {rel}",
                            k.as_str().unwrap_or_default()
                        ));
                    }
                    ours.insert(k, v);
                }
            }
        }
    }
    Ok(())
}

/// Rewrite the relative paths of a file in folder `dir` to be relative to the stack's.
pub fn rebase_file(root: &mut Mapping, dir: &str) -> Result<(), String> {
    if dir.is_empty() || dir == "." {
        return Ok(());
    }
    if let Some(Value::Mapping(services)) = root.get_mut("services") {
        for (_, svc) in services.iter_mut() {
            if let Value::Mapping(svc) = svc {
                rebase_service(svc, dir)?;
            }
        }
    }
    for section in ["secrets", "configs"] {
        if let Some(Value::Mapping(items)) = root.get_mut(section) {
            for (_, item) in items.iter_mut() {
                if let Some(Value::String(f)) = item.get_mut("file") {
                    *f = join_rel(dir, f)?;
                }
            }
        }
    }
    Ok(())
}

fn rebase_service(svc: &mut Mapping, dir: &str) -> Result<(), String> {
    let fix = |s: &mut String| -> Result<(), String> {
        *s = join_rel(dir, s)?;
        Ok(())
    };
    match svc.get_mut("build") {
        Some(Value::String(ctx)) => fix(ctx)?,
        Some(Value::Mapping(b)) => match b.get_mut("context") {
            Some(Value::String(ctx)) => fix(ctx)?,
            None => {
                b.insert("context".into(), Value::String(join_rel(dir, ".")?));
            }
            _ => {}
        },
        _ => {}
    }
    match svc.get_mut("env_file") {
        Some(Value::String(f)) => fix(f)?,
        Some(Value::Sequence(fs)) => {
            for f in fs {
                match f {
                    Value::String(f) => fix(f)?,
                    Value::Mapping(m) => {
                        if let Some(Value::String(p)) = m.get_mut("path") {
                            fix(p)?;
                        }
                    }
                    _ => {}
                }
            }
        }
        _ => {}
    }
    if let Some(Value::Mapping(ext)) = svc.get_mut("extends") {
        if let Some(Value::String(f)) = ext.get_mut("file") {
            fix(f)?;
        }
    }
    if let Some(Value::Sequence(vols)) = svc.get_mut("volumes") {
        for v in vols {
            match v {
                Value::String(s) if s.starts_with('.') => {
                    let (src, rest) = s.split_once(':').unwrap_or((s.as_str(), ""));
                    let src = join_rel(dir, src)?;
                    *s = if rest.is_empty() {
                        src
                    } else {
                        format!("{src}:{rest}")
                    };
                }
                Value::Mapping(m) if m.get("type").and_then(Value::as_str) == Some("bind") => {
                    if let Some(Value::String(src)) = m.get_mut("source") {
                        if !src.starts_with('/') && !src.starts_with('~') {
                            fix(src)?;
                        }
                    }
                }
                _ => {}
            }
        }
    }
    Ok(())
}

/// Resolve every service's `extends` in `root`'s services (paths already rebased).
pub fn extends(root: &mut Mapping, loader: &Loader) -> Result<(), String> {
    let Some(Value::Mapping(services)) = root.get("services").cloned() else {
        return Ok(());
    };
    let mut resolved = Mapping::new();
    let mut cache: HashMap<String, Mapping> = HashMap::new();
    for (name, _) in &services {
        let n = name.as_str().unwrap_or_default().to_owned();
        let mut chain = Vec::new();
        let svc = extended(&n, &services, "", loader, &mut chain, &mut cache)?;
        resolved.insert(name.clone(), Value::Mapping(svc));
    }
    root.insert("services".into(), Value::Mapping(resolved));
    Ok(())
}

fn extended(
    name: &str,
    services: &Mapping,
    file: &str,
    loader: &Loader,
    chain: &mut Vec<String>,
    cache: &mut HashMap<String, Mapping>,
) -> Result<Mapping, String> {
    let id = format!("{file}#{name}");
    if chain.contains(&id) {
        chain.push(id);
        return Err(format!("extends forms a cycle: {}", chain.join(" → ")));
    }
    let mut svc = match services.get(name) {
        Some(Value::Mapping(m)) => m.clone(),
        Some(Value::Null) => Mapping::new(),
        Some(_) => return Err(format!("service {name} is not a mapping")),
        None if file.is_empty() => {
            return Err(format!(
                "extends names service {name:?}, which is not defined"
            ))
        }
        None => {
            return Err(format!(
                "extends names service {name:?}, which {file} does not define"
            ))
        }
    };
    let Some(ext) = svc.remove("extends") else {
        return Ok(svc);
    };
    let (base_name, base_file) = match &ext {
        Value::String(s) => (s.clone(), None),
        Value::Mapping(m) => (
            m.get("service")
                .and_then(Value::as_str)
                .ok_or_else(|| format!("service {name}: extends needs a service"))?
                .to_owned(),
            m.get("file").and_then(Value::as_str).map(str::to_owned),
        ),
        _ => {
            return Err(format!(
                "service {name}: extends is a service name or a mapping"
            ))
        }
    };
    chain.push(id);
    let base = match base_file {
        None => extended(&base_name, services, file, loader, chain, cache)?,
        Some(f) => {
            let rel = join_rel("", &f).map_err(|e| format!("extends file {e}"))?;
            let key = format!("{rel}#{base_name}");
            match cache.get(&key) {
                Some(b) => b.clone(),
                None => {
                    let mut other = loader.read(&rel).map_err(|e| format!("extends {e}"))?;
                    rebase_file(&mut other, &parent_of(&rel))?;
                    let theirs = match other.get("services") {
                        Some(Value::Mapping(s)) => s.clone(),
                        // A version 1 file lists services at its top.
                        _ => other.clone(),
                    };
                    let b = extended(&base_name, &theirs, &rel, loader, chain, cache)?;
                    cache.insert(key, b.clone());
                    b
                }
            }
        }
    };
    chain.pop();
    Ok(merge_service(base, svc))
}

/// Keys whose list form (`- K=V`) is a mapping.
const MAP_LISTS: &[&str] = &["environment", "labels", "sysctls", "annotations", "args"];
/// Sequences merged keyed by their target (the part after the first `:` of the short form).
const BY_TARGET: &[&str] = &["volumes", "devices", "tmpfs"];
/// Sequences that are replaced, not appended.
const REPLACED: &[&str] = &["command", "entrypoint", "test", "profiles"];

fn as_map(v: Value) -> Value {
    match v {
        Value::Sequence(items) => {
            let mut m = Mapping::new();
            for i in items {
                if let Value::String(s) = i {
                    match s.split_once('=') {
                        Some((k, v)) => m.insert(k.into(), Value::String(v.into())),
                        None => m.insert(s.into(), Value::Null),
                    };
                }
            }
            Value::Mapping(m)
        }
        other => other,
    }
}

fn target_of(v: &Value) -> String {
    match v {
        Value::String(s) => {
            let parts: Vec<&str> = s.split(':').collect();
            match parts.len() {
                1 => parts[0].to_owned(),
                _ => parts[1].to_owned(),
            }
        }
        Value::Mapping(m) => m
            .get("target")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
        other => serde_yaml::to_string(other).unwrap_or_default(),
    }
}

/// `over` on top of `base`, by the merge rules above.
pub fn merge_service(base: Mapping, over: Mapping) -> Mapping {
    let mut out = base;
    for (k, v) in over {
        let key = k.as_str().unwrap_or_default().to_owned();
        let merged = match out.remove(&k) {
            None => v,
            Some(old) => merge_value(&key, old, v),
        };
        out.insert(k, merged);
    }
    out
}

fn merge_value(key: &str, old: Value, new: Value) -> Value {
    let (old, new) = if MAP_LISTS.contains(&key) {
        (as_map(old), as_map(new))
    } else {
        (old, new)
    };
    match (old, new) {
        (Value::Mapping(a), Value::Mapping(b)) => {
            let mut out = a;
            for (k, v) in b {
                let sub = k.as_str().unwrap_or_default().to_owned();
                let merged = match out.remove(&k) {
                    None => v,
                    Some(old) => merge_value(&sub, old, v),
                };
                out.insert(k, merged);
            }
            Value::Mapping(out)
        }
        (Value::Sequence(a), Value::Sequence(b)) if !REPLACED.contains(&key) => {
            let mut out: Vec<Value> = Vec::new();
            if BY_TARGET.contains(&key) {
                let targets: Vec<String> = b.iter().map(target_of).collect();
                out.extend(a.into_iter().filter(|v| !targets.contains(&target_of(v))));
                out.extend(b);
            } else {
                for v in a.into_iter().chain(b) {
                    if !out.contains(&v) {
                        out.push(v);
                    }
                }
            }
            Value::Sequence(out)
        }
        (_, new) => new,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(text: &str) -> Mapping {
        serde_yaml::from_str(text).unwrap()
    }

    fn loader<'a>(root: &'a Path, vars: &'a HashMap<String, String>) -> Loader<'a> {
        Loader {
            root,
            vars,
            including: vec![],
        }
    }

    #[test]
    fn paths_join_inside_the_folder() {
        assert_eq!(join_rel("sub", "./data").unwrap(), "./sub/data");
        assert_eq!(join_rel("sub", "../x").unwrap(), "./x");
        assert_eq!(join_rel("", ".").unwrap(), ".");
        assert!(join_rel("sub", "../../x").is_err());
        assert!(join_rel("", "/etc").is_err());
    }

    #[test]
    fn merge_rules() {
        let base = map("image: a\nenvironment: [A=1, B=2]\nports: ['80']\ncommand: [x, y]\nvolumes: ['d:/data', '/e:/etc']\nlabels: { l: 1 }\n");
        let over = map("environment: { B: 3 }\nports: ['81', '80']\ncommand: [z]\nvolumes: ['e:/data']\nlabels: [m=2]\n");
        let m = merge_service(base, over);
        let want = map("image: a\nenvironment: { A: '1', B: 3 }\nports: ['80', '81']\ncommand: [z]\nvolumes: ['/e:/etc', 'e:/data']\nlabels: { l: 1, m: '2' }\n");
        assert_eq!(m, want);
    }

    #[test]
    fn extends_in_the_file_and_from_another_and_cycles() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("common")).unwrap();
        std::fs::write(
            dir.path().join("common/base.yml"),
            "services:\n  base:\n    image: base:${TAG}\n    build: .\n    env_file: base.env\n    volumes: ['./conf:/conf']\n",
        )
        .unwrap();
        let vars = HashMap::from([("TAG".to_string(), "7".to_string())]);
        let l = loader(dir.path(), &vars);
        let mut root = map("services:\n  a:\n    extends: { service: b }\n    ports: ['1']\n  b:\n    extends: { file: common/base.yml, service: base }\n    ports: ['2']\n");
        extends(&mut root, &l).unwrap();
        let a = root["services"]["a"].clone();
        assert_eq!(a["image"], Value::String("base:7".into()));
        assert_eq!(a["build"], Value::String("./common".into()));
        assert_eq!(a["env_file"], Value::String("./common/base.env".into()));
        assert_eq!(a["volumes"][0], Value::String("./common/conf:/conf".into()));
        assert_eq!(
            a["ports"],
            serde_yaml::from_str::<Value>("['2', '1']").unwrap()
        );

        let mut cyc = map("services:\n  a: { extends: b }\n  b: { extends: a }\n");
        assert!(extends(&mut cyc, &l).unwrap_err().contains("cycle"));
        let mut out = map("services:\n  a: { extends: { file: ../x.yml, service: b } }\n");
        assert!(extends(&mut out, &l).unwrap_err().contains("leaves"));
        let mut missing = map("services:\n  a: { extends: nope }\n");
        assert!(extends(&mut missing, &l)
            .unwrap_err()
            .contains("not defined"));
    }

    #[test]
    fn include_merges_and_refuses_cycles_and_escapes() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("db")).unwrap();
        std::fs::write(
            dir.path().join("db/compose.yml"),
            "services:\n  db:\n    image: pg\n    volumes: ['./data:/data']\nvolumes:\n  v: {}\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("loop.yml"),
            "include: [loop.yml]\nservices: {}\n",
        )
        .unwrap();
        let vars = HashMap::new();
        let mut l = loader(dir.path(), &vars);
        let mut root = map("include: [db/compose.yml]\nservices:\n  web: { image: w }\n");
        include(&mut root, "", &mut l).unwrap();
        assert_eq!(
            root["services"]["db"]["volumes"][0],
            Value::String("./db/data:/data".into())
        );
        assert!(root["volumes"].get("v").is_some());
        assert!(root.get("include").is_none());

        let mut dup = map("include: [db/compose.yml]\nservices:\n  db: { image: w }\n");
        assert!(include(&mut dup, "", &mut l).unwrap_err().contains("both"));
        let mut cyc = map("include: [loop.yml]\nservices: {}\n");
        assert!(include(&mut cyc, "", &mut l)
            .unwrap_err()
            .contains("itself"));
        let mut out = map("include: [../other/compose.yml]\n");
        assert!(include(&mut out, "", &mut l)
            .unwrap_err()
            .contains("leaves"));
    }
}
