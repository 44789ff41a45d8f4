//! The compose corpus (`shared/compose-corpus`) against the reference: for every file
//! docker-compose 1.29 accepts, the containers berth creates (`up?no_start=true`) are the
//! ones `docker-compose up --no-start` creates from the same folder, as the daemon inspects
//! them. Images are the local busybox retagged as each name a file uses (no registry is
//! reachable); a build gets a one-line Dockerfile from it. What must differ is normalised:
//! ids, creation times, the config hash, the project's file paths, berth's own labels, the
//! order of the environment, and the id of a built image.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use reqwest::Method;
use serde_json::{json, Value};

use crate::stacks::{assert_done, ndjson};
use crate::support::*;

fn corpus_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/compose-corpus");
    assert!(
        dir.join("reference.tsv").is_file(),
        "the compose corpus is missing: expected {} (a copy of shared/ beside the repository)",
        dir.display()
    );
    dir
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("read corpus dir") {
        let e = e.expect("entry");
        let dest = to.join(e.file_name());
        if e.file_type().expect("type").is_dir() {
            copy_dir(&e.path(), &dest);
        } else {
            std::fs::copy(e.path(), &dest).expect("copy");
            let mut perm = std::fs::metadata(&dest).expect("meta").permissions();
            #[allow(clippy::permissions_set_readonly_false)]
            perm.set_readonly(false);
            std::fs::set_permissions(&dest, perm).expect("chmod");
        }
    }
}

fn compose(dir: &Path, file: &str, project: &str, args: &[&str]) -> std::process::Output {
    Command::new("docker-compose")
        .arg("-p")
        .arg(project)
        .arg("-f")
        .arg(file)
        .args(args)
        .current_dir(dir)
        .env("DOCKER_HOST", docker_host())
        .env("COMPOSE_DOCKER_CLI_BUILD", "0")
        .env("DOCKER_BUILDKIT", "0")
        .env_remove("COMPOSE_PROJECT_NAME")
        .env_remove("COMPOSE_FILE")
        .env_remove("COMPOSE_PROFILES")
        .output()
        .expect("run docker-compose (Debian package docker-compose)")
}

fn docker(args: &[&str]) -> std::process::Output {
    Command::new("docker")
        .args(["-H", &docker_host()])
        .args(args)
        .output()
        .expect("run the docker CLI")
}

/// Removes what a file's run made, also when the test fails: containers, networks and
/// volumes by the project label, the image tags and external networks it added.
pub struct Cleanup {
    project: String,
    tags: Vec<String>,
    networks: Vec<String>,
    volumes: Vec<String>,
}

impl Cleanup {
    /// A guard for one project's containers, networks and volumes (other tests use it too).
    pub fn for_project(project: &str) -> Cleanup {
        Cleanup {
            project: project.to_owned(),
            tags: vec![],
            networks: vec![],
            volumes: vec![],
        }
    }

    fn project_resources(&self) {
        let filter = format!("label=com.docker.compose.project={}", self.project);
        let ids = docker(&["ps", "-aq", "--filter", &filter]);
        for id in String::from_utf8_lossy(&ids.stdout).split_whitespace() {
            let _ = docker(&["rm", "-fv", id]);
        }
        let nets = docker(&["network", "ls", "-q", "--filter", &filter]);
        for id in String::from_utf8_lossy(&nets.stdout).split_whitespace() {
            let _ = docker(&["network", "rm", id]);
        }
        let vols = docker(&["volume", "ls", "-q", "--filter", &filter]);
        for id in String::from_utf8_lossy(&vols.stdout).split_whitespace() {
            let _ = docker(&["volume", "rm", "-f", id]);
        }
    }
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        self.project_resources();
        for n in &self.networks {
            let _ = docker(&["network", "rm", n]);
        }
        for v in &self.volumes {
            let _ = docker(&["volume", "rm", "-f", v]);
        }
        for t in &self.tags {
            let _ = docker(&["rmi", "--no-prune", t]);
        }
    }
}

fn last_line(s: &str) -> &str {
    s.lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or_default()
}

fn is_hex_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// What is compared of a container: its config, host config and networks, with what must
/// differ between two creations of the same file taken out.
fn normalise(mut c: Value, built: &[String]) -> Value {
    let id = c["Id"].as_str().unwrap_or_default().to_owned();
    let mut config = c["Config"].take();
    if config["Hostname"].as_str() == id.get(..12) {
        config["Hostname"] = json!("<id>");
    }
    if let Some(labels) = config["Labels"].as_object_mut() {
        labels.retain(|k, _| {
            !k.starts_with("berth.")
                && ![
                    "com.docker.compose.config-hash",
                    "com.docker.compose.project.config_files",
                    "com.docker.compose.project.working_dir",
                    "com.docker.compose.project.environment_file",
                    "com.docker.compose.version",
                ]
                .contains(&k.as_str())
        });
    }
    if let Some(env) = config["Env"].as_array_mut() {
        env.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
    }
    let image = config["Image"].as_str().unwrap_or_default().to_owned();
    let mut host = c["HostConfig"].take();
    // Anonymous volumes and built images get fresh ids each time.
    if let Some(binds) = host["Binds"].as_array_mut() {
        binds.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
    }
    let mut networks = BTreeMap::new();
    if let Some(nets) = c["NetworkSettings"]["Networks"].as_object() {
        for (name, n) in nets {
            let mut aliases: Vec<String> = n["Aliases"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|a| a.as_str().map(str::to_owned))
                .filter(|a| !is_hex_id(a) && *a != id)
                .collect();
            aliases.sort();
            networks.insert(
                name.clone(),
                json!({"aliases": aliases, "ipam": n["IPAMConfig"].clone()}),
            );
        }
    }
    if let Some(m) = host["NetworkMode"].as_str() {
        if m.starts_with("container:") && m.len() > 22 {
            host["NetworkMode"] = json!("container:<id>");
        }
    }
    if let Some(l) = host["Links"].as_array_mut() {
        l.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
    }
    let image_id = if built.contains(&image) {
        json!("<built>")
    } else {
        c["Image"].take()
    };
    json!({
        "name": c["Name"].take(),
        "image_id": image_id,
        "config": config,
        "host_config": host,
        "networks": networks,
    })
}

async fn inspect_project(project: &str, built: &[String]) -> BTreeMap<String, Value> {
    let filter = format!("label=com.docker.compose.project={project}");
    let ids = docker(&["ps", "-aq", "--filter", &filter]);
    let mut out = BTreeMap::new();
    for id in String::from_utf8_lossy(&ids.stdout).split_whitespace() {
        let c = daemon_inspect(id).await;
        let name = c["Name"].as_str().unwrap_or_default().to_owned();
        out.insert(name, normalise(c, built));
    }
    out
}

/// Every difference between two JSON values, as `path: a != b` lines.
fn diff(path: &str, a: &Value, b: &Value, out: &mut Vec<String>) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys: std::collections::BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            for k in keys {
                let av = x.get(k).unwrap_or(&Value::Null);
                let bv = y.get(k).unwrap_or(&Value::Null);
                diff(&format!("{path}.{k}"), av, bv, out);
            }
        }
        _ if a == b => {}
        // An empty list, an empty map and no value are the same to the daemon.
        _ if empty(a) && empty(b) => {}
        _ => out.push(format!("{path}: compose {a} != berth {b}")),
    }
}

fn empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        Value::String(s) => s.is_empty(),
        Value::Bool(b) => !b,
        Value::Number(n) => n.as_f64() == Some(0.0),
    }
}

/// Tag the test image as every image a resolved file names; write a one-line Dockerfile
/// into each build context. Returns the tags made and the built images' names.
fn arrange(
    config: &serde_yaml::Value,
    project: &str,
    cleanup: &mut Cleanup,
) -> Result<Vec<String>, String> {
    let mut built = Vec::new();
    let services = config
        .get("services")
        .and_then(|s| s.as_mapping())
        .cloned()
        .unwrap_or_default();
    for (name, svc) in &services {
        let name = name.as_str().unwrap_or_default();
        if let Some(b) = svc.get("build") {
            let ctx = b
                .get("context")
                .and_then(|c| c.as_str())
                .unwrap_or(".")
                .to_owned();
            let file = b
                .get("dockerfile")
                .and_then(|c| c.as_str())
                .unwrap_or("Dockerfile");
            let target = b.get("target").and_then(|t| t.as_str());
            let path = Path::new(&ctx).join(file);
            if !path.exists() {
                let _ = std::fs::create_dir_all(path.parent().unwrap_or(Path::new(&ctx)));
                let from = match target {
                    Some(t) => format!("FROM {} AS {t}\n", test_image()),
                    None => format!("FROM {}\n", test_image()),
                };
                std::fs::write(&path, from).expect("write a Dockerfile");
            }
            let image = svc
                .get("image")
                .and_then(|i| i.as_str())
                .map(str::to_owned)
                .unwrap_or_else(|| format!("{project}_{name}"));
            cleanup.tags.push(image.clone());
            built.push(image);
            continue;
        }
        if let Some(image) = svc.get("image").and_then(|i| i.as_str()) {
            if image.contains('@') {
                // A digest is a registry's name for an image: no local tag can carry it.
                return Err(format!("{name}: image {image} is pinned by digest"));
            }
            let out = docker(&["tag", &test_image(), image]);
            assert!(
                out.status.success(),
                "tag {image}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            cleanup.tags.push(image.to_owned());
        }
    }
    // The corpus holds compose files, not what they mount: make the files a long-syntax
    // bind, a secret or a config names (a name with an extension is a file, else a folder).
    let mut sources: Vec<(bool, String)> = Vec::new();
    for (_, svc) in &services {
        for v in svc
            .get("volumes")
            .and_then(|v| v.as_sequence())
            .into_iter()
            .flatten()
        {
            if v.get("type").and_then(|t| t.as_str()) == Some("bind") {
                if let Some(src) = v.get("source").and_then(|s| s.as_str()) {
                    sources.push((false, src.to_owned()));
                }
            }
        }
    }
    for section in ["secrets", "configs"] {
        let items = config
            .get(section)
            .and_then(|s| s.as_mapping())
            .cloned()
            .unwrap_or_default();
        for (_, item) in &items {
            if let Some(f) = item.get("file").and_then(|f| f.as_str()) {
                sources.push((true, f.to_owned()));
            }
        }
    }
    for (always_file, src) in sources {
        let path = Path::new(&src);
        if path.exists() || !path.starts_with(std::env::temp_dir()) {
            continue;
        }
        let is_file = always_file
            || path
                .file_name()
                .is_some_and(|n| n.to_string_lossy().contains('.'));
        if is_file {
            let _ = std::fs::create_dir_all(path.parent().unwrap_or(Path::new("/")));
            std::fs::write(path, "x\n").expect("make a mounted file");
        } else {
            std::fs::create_dir_all(path).expect("make a mounted folder");
        }
    }
    for (section, kind) in [("networks", "network"), ("volumes", "volume")] {
        let items = config
            .get(section)
            .and_then(|s| s.as_mapping())
            .cloned()
            .unwrap_or_default();
        for (key, item) in &items {
            let external = item.get("external").is_some_and(|e| {
                e.as_bool() == Some(true) || e.get("name").is_some() || e.is_mapping()
            });
            if !external {
                continue;
            }
            let name = item
                .get("name")
                .and_then(|n| n.as_str())
                .or_else(|| item.get("external")?.get("name")?.as_str())
                .or(key.as_str())
                .unwrap_or_default()
                .to_owned();
            let _ = docker(&[kind, "create", &name]);
            if kind == "network" {
                cleanup.networks.push(name);
            } else {
                cleanup.volumes.push(name);
            }
        }
    }
    Ok(built)
}

/// One accepted corpus file: both tools create its containers; their differences, or why
/// it cannot be compared here.
async fn compare(
    app: &TestApp,
    dir: &str,
    file: &str,
    project: &str,
) -> Result<Vec<String>, String> {
    let tmp = tempfile::tempdir().expect("tempdir");
    copy_dir(&corpus_dir().join(dir), tmp.path());
    // 1.29 predates the top-level `name:` (the reference's verdict is without it), and the
    // stack's name is the project name for both tools here.
    let path = tmp.path().join(file);
    let text = std::fs::read_to_string(&path).expect("compose file");
    let text: String = text
        .lines()
        .filter(|l| !l.starts_with("name:"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&path, &text).expect("rewrite");

    let mut cleanup = Cleanup {
        project: project.to_owned(),
        tags: vec![],
        networks: vec![],
        volumes: vec![],
    };
    // Local build contexts are empty folders, which the corpus (a git tree) cannot hold.
    let mut out = compose(tmp.path(), file, project, &["config"]);
    for _ in 0..10 {
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        let Some(missing) = err
            .split("build path ")
            .nth(1)
            .and_then(|r| r.split(" either does not exist").next())
        else {
            break;
        };
        std::fs::create_dir_all(missing).expect("make the build context");
        out = compose(tmp.path(), file, project, &["config"]);
    }
    if !out.status.success() {
        return Ok(vec![format!(
            "docker-compose config: {}",
            String::from_utf8_lossy(&out.stderr)
        )]);
    }
    let config: serde_yaml::Value =
        serde_yaml::from_slice(&out.stdout).expect("docker-compose config prints YAML");
    let built = arrange(&config, project, &mut cleanup)?;

    let out = compose(tmp.path(), file, project, &["up", "--no-start"]);
    // Where the reference cannot create the containers here (a runtime the daemon lacks,
    // a build from a git URL without a network), berth must not either.
    let reference_failed =
        (!out.status.success()).then(|| String::from_utf8_lossy(&out.stderr).into_owned());
    let reference = inspect_project(project, &built).await;
    cleanup.project_resources();
    for image in &built {
        let _ = docker(&["rmi", "--no-prune", image]);
    }

    let (status, body) = app
        .call(
            Method::POST,
            "/api/stacks",
            Some(json!({"name": project, "from_dir": tmp.path(), "up": false})),
        )
        .await;
    if status != 201 {
        return Ok(match reference_failed {
            Some(why) => {
                eprintln!(
                    "{dir}: both refuse: berth {body}; docker-compose {}",
                    last_line(&why)
                );
                vec![]
            }
            None => vec![format!("berth create: {status} {body}")],
        });
    }
    let (status, lines) = ndjson(
        app,
        Method::POST,
        &format!("/api/stacks/{project}/up?no_start=true"),
        None,
    )
    .await;
    let ended = lines.last().cloned().unwrap_or(Value::Null);
    if status != 200 || ended["step"] != "done" {
        let _ = app
            .call(
                Method::DELETE,
                &format!("/api/stacks/{project}?volumes=true"),
                None,
            )
            .await;
        return Ok(match reference_failed {
            Some(why) => {
                eprintln!(
                    "{dir}: both refuse: berth {}; docker-compose {}",
                    ended["message"],
                    last_line(&why)
                );
                vec![]
            }
            None => vec![format!("berth up: {status} {ended}")],
        });
    }
    if let Some(why) = reference_failed {
        let _ = app
            .call(
                Method::DELETE,
                &format!("/api/stacks/{project}?volumes=true"),
                None,
            )
            .await;
        return Ok(vec![format!(
            "docker-compose up --no-start failed, berth did not: {why}"
        )]);
    }
    assert_done(&lines);
    let ours = inspect_project(project, &built).await;
    let (status, body) = app
        .call(
            Method::DELETE,
            &format!("/api/stacks/{project}?volumes=true"),
            None,
        )
        .await;
    assert!(status.is_success(), "delete {project}: {status} {body}");

    // berth connects a container to its other networks when it makes it; 1.29 when it
    // starts it (so `--no-start` leaves them out): only the networks 1.29 shows compare.
    let mut ours = ours;
    for (name, c) in ours.iter_mut() {
        let theirs: Vec<String> = reference
            .get(name)
            .and_then(|r| r["networks"].as_object())
            .map(|n| n.keys().cloned().collect())
            .unwrap_or_default();
        if let Some(n) = c["networks"].as_object_mut() {
            n.retain(|k, _| theirs.contains(k));
        }
    }
    let mut diffs = Vec::new();
    diff(
        "",
        &Value::Object(
            reference
                .into_iter()
                .map(|(k, v)| (k.replace(project, "<p>"), v))
                .collect(),
        ),
        &Value::Object(
            ours.into_iter()
                .map(|(k, v)| (k.replace(project, "<p>"), v))
                .collect(),
        ),
        &mut diffs,
    );
    Ok(diffs)
}

#[tokio::test]
async fn every_accepted_corpus_file_creates_the_containers_docker_compose_creates() {
    let app = TestApp::start().await;
    let corpus = corpus_dir();
    let tsv = std::fs::read_to_string(corpus.join("reference.tsv")).expect("reference.tsv");
    // BERTH_CORPUS_ONLY=dir1,dir2 narrows the run (when working on one file).
    let only = std::env::var("BERTH_CORPUS_ONLY").ok();
    let mut failures = Vec::new();
    let mut skipped = Vec::new();
    let mut compared = 0;
    for (i, line) in tsv.lines().skip(1).enumerate() {
        let f: Vec<&str> = line.split('\t').collect();
        if f.len() < 5 || f[4] != "accept" {
            continue;
        }
        if only
            .as_deref()
            .is_some_and(|o| !o.split(',').any(|d| d == f[0]))
        {
            continue;
        }
        let project = format!("cc{}x{i}", std::process::id());
        match compare(&app, f[0], f[1], &project).await {
            Ok(diffs) => {
                compared += 1;
                eprintln!("{}: {} differences", f[0], diffs.len());
                if !diffs.is_empty() {
                    failures.push(format!("== {}\n{}", f[0], diffs.join("\n")));
                }
            }
            Err(why) => {
                eprintln!("{}: not compared: {why}", f[0]);
                skipped.push(format!("{}: {why}", f[0]));
            }
        }
    }
    // Only a registry can make an image with a digest: such files are validated (by the
    // lib's corpus test), not compared.
    assert!(
        skipped.len() <= 2,
        "too many files not compared: {skipped:?}"
    );
    assert!(compared > 0, "no corpus file was compared");
    assert!(
        failures.is_empty(),
        "{} of {compared} files differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
