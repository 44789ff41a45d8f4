//! Arranging the daemon for a browser test with the plain docker CLI (Debian's docker.io).

use std::process::Command;

fn docker() -> Command {
    let host = std::env::var("BERTH_TEST_DOCKER_HOST").expect("BERTH_TEST_DOCKER_HOST");
    let mut c = Command::new("docker");
    c.args(["-H", &host]);
    c
}

/// `docker run -d --name NAME busybox` idling; returns the id.
pub fn run_idle(name: &str) -> String {
    run_idle_labeled(name, &[])
}

/// The same with extra `--label K=V`s (e.g. `berth.team=TEAM`).
pub fn run_idle_labeled(name: &str, labels: &[(&str, &str)]) -> String {
    let image =
        std::env::var("BERTH_TEST_IMAGE").unwrap_or_else(|_| "berth-test/busybox:latest".into());
    run_idle_image(name, &image, labels)
}

/// An idling container of `image`.
pub fn run_idle_image(name: &str, image: &str, labels: &[(&str, &str)]) -> String {
    let mut cmd = docker();
    cmd.args(["run", "-d", "--name", name, "--label", "berth-test=1"]);
    for (k, v) in labels {
        cmd.args(["--label", &format!("{k}={v}")]);
    }
    let out = cmd
        .arg(image)
        .args([
            "sh",
            "-c",
            "trap 'exit 0' TERM; while true; do sleep 1; done",
        ])
        .output()
        .expect("docker run");
    assert!(out.status.success(), "docker run: {out:?}");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// `docker inspect -f {{.State.Status}}`.
pub fn state(name: &str) -> String {
    let out = docker()
        .args(["inspect", "-f", "{{.State.Status}}", name])
        .output()
        .expect("docker inspect");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

pub fn remove(name: &str) {
    let _ = docker().args(["rm", "-f", name]).output();
}

/// `docker volume create --label berth-test=1 NAME`; returns its mount point.
pub fn volume_create(name: &str) -> String {
    let out = docker()
        .args(["volume", "create", "--label", "berth-test=1", name])
        .output()
        .expect("docker volume create");
    assert!(out.status.success(), "docker volume create: {out:?}");
    let out = docker()
        .args(["volume", "inspect", "-f", "{{.Mountpoint}}", name])
        .output()
        .expect("docker volume inspect");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

pub fn volume_remove(name: &str) {
    let _ = docker().args(["volume", "rm", "-f", name]).output();
}

/// `docker build -t TAG -` from a Dockerfile text (no context).
pub fn build(tag: &str, dockerfile: &str) {
    use std::io::Write;
    let mut child = docker()
        .args(["build", "-q", "-t", tag, "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("docker build");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(dockerfile.as_bytes())
        .expect("write the Dockerfile");
    assert!(
        child.wait().expect("docker build").success(),
        "docker build {tag}"
    );
}

/// `docker push TAG`.
pub fn push(tag: &str) {
    let out = docker().args(["push", tag]).output().expect("docker push");
    assert!(out.status.success(), "docker push: {out:?}");
}

/// `docker rmi -f IMAGE` (whatever it finds).
pub fn remove_image(image: &str) {
    let _ = docker().args(["rmi", "-f", image]).output();
}

/// Remove every image of a repository, by tag and by digest (a pushed image that lost its
/// tag to a newer build keeps its digest reference).
pub fn remove_repository(repo: &str) {
    let refs = docker()
        .args([
            "images",
            "--digests",
            "--format",
            "{{.Repository}}:{{.Tag}} {{.Repository}}@{{.Digest}}",
            repo,
        ])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    for r in refs
        .split_whitespace()
        .filter(|r| !r.ends_with(":<none>") && !r.ends_with("@<none>"))
    {
        let _ = docker().args(["rmi", r]).output();
    }
}

/// Names of containers whose name contains `part`.
pub fn names_like(part: &str) -> Vec<String> {
    let out = docker()
        .args([
            "ps",
            "-a",
            "--format",
            "{{.Names}}",
            "--filter",
            &format!("name={part}"),
        ])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    out.split_whitespace().map(str::to_owned).collect()
}

/// The image id a container runs.
pub fn image_of(name: &str) -> String {
    let out = docker()
        .args(["inspect", "-f", "{{.Image}}", name])
        .output()
        .expect("docker inspect");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// Whether the daemon has this image.
pub fn has_image(image: &str) -> bool {
    docker()
        .args(["image", "inspect", image])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

/// Remove a Compose project's containers and networks (a stack a test deployed).
pub fn remove_project(project: &str) {
    let filter = format!("label=com.docker.compose.project={project}");
    let ids = docker()
        .args(["ps", "-aq", "--filter", &filter])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    for id in ids.split_whitespace() {
        let _ = docker().args(["rm", "-f", "-v", id]).output();
    }
    let nets = docker()
        .args(["network", "ls", "-q", "--filter", &filter])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    for id in nets.split_whitespace() {
        let _ = docker().args(["network", "rm", id]).output();
    }
}

/// `docker run -d --name NAME busybox sh -c SCRIPT`, labelled `berth-test=1`; returns the id.
pub fn run_script(name: &str, script: &str) -> String {
    let image =
        std::env::var("BERTH_TEST_IMAGE").unwrap_or_else(|_| "berth-test/busybox:latest".into());
    let out = docker()
        .args([
            "run",
            "-d",
            "--name",
            name,
            "--label",
            "berth-test=1",
            &image,
        ])
        .args(["sh", "-c", script])
        .output()
        .expect("docker run");
    assert!(out.status.success(), "docker run: {out:?}");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// Removes the container with this name when dropped (also when a test fails).
pub struct Removed(pub String);

impl Drop for Removed {
    fn drop(&mut self) {
        remove(&self.0);
    }
}
