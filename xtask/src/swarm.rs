//! A test Swarm cluster: three Docker daemons, each in a network namespace of its own,
//! one manager and two workers (`cargo xtask swarm [--index N] [--prefix P]`, and
//! `cargo xtask test` for the Swarm tests).
//!
//! Cluster `N` (1 to 9; two clusters with different indexes run side by side) has its
//! files under `/tmp/bs{N}` and the namespaces `{P}{N}-1` (the manager), `{P}{N}-2` and
//! `{P}{N}-3` (`P` is `berth-s` unless given). A bridge `bs{N}br` here (10.232.{N}.1/24)
//! carries the three veths `bs{N}v{k}`, whose peers in the namespaces have
//! 10.232.{N}.1{k}: swarm's ports (2377/tcp, 7946 tcp+udp, 4789/udp, so the overlay
//! networks too) go between the namespaces over it. Each namespace runs a `dockerd` with
//! its own data root, exec root, pidfile, `docker0` and unix socket
//! (`/tmp/bs{N}/{k}/docker.sock`, which berth reaches). The test image is copied into every
//! daemon by `docker save | docker load` from the development daemon.
//!
//! Everything started is stopped by pid, the namespaces, links and the one FORWARD rule
//! deleted, when the guard drops or a signal arrives; what an aborted run left is cleaned
//! at start, by pidfile and by name. `/tmp/bs{N}/swarm.json` describes the cluster for the
//! tests (`BERTH_TEST_SWARM`).

use std::{
    fs,
    os::unix::process::CommandExt,
    path::{Path, PathBuf},
    process::{Command, Stdio},
    sync::Mutex,
    thread,
    time::{Duration, Instant},
};

use anyhow::{bail, Context, Result};

use crate::hosts::{cleanup_dir, ip, output, sh};
use crate::say;

/// Three nodes: the first is the manager.
const NODES: usize = 3;

/// Which cluster: `index` picks the files, subnet and link names; `prefix` the namespaces.
#[derive(Clone, Debug)]
pub struct Cluster {
    pub prefix: String,
    pub index: usize,
}

impl Default for Cluster {
    fn default() -> Self {
        Cluster {
            prefix: "berth-s".into(),
            index: 1,
        }
    }
}

impl Cluster {
    fn root(&self) -> PathBuf {
        PathBuf::from(format!("/tmp/bs{}", self.index))
    }
    fn dir(&self, k: usize) -> PathBuf {
        self.root().join(k.to_string())
    }
    fn netns(&self, k: usize) -> String {
        format!("{}{}-{k}", self.prefix, self.index)
    }
    fn bridge(&self) -> String {
        format!("bs{}br", self.index)
    }
    fn veth(&self, k: usize) -> String {
        format!("bs{}v{k}", self.index)
    }
    fn addr(&self, k: usize) -> String {
        format!("10.232.{}.1{k}", self.index)
    }
    fn sock(&self, k: usize) -> String {
        format!("unix://{}/docker.sock", self.dir(k).display())
    }
    /// `swarm.json`.
    pub fn file(&self) -> PathBuf {
        self.root().join("swarm.json")
    }
    fn forward_rule(&self) -> Vec<String> {
        let br = self.bridge();
        ["FORWARD", "-i", &br, "-o", &br, "-j", "ACCEPT"]
            .map(String::from)
            .to_vec()
    }
}

/// Clusters we started; stopped by the guard's drop or by the signal thread.
static ACTIVE: Mutex<Vec<Cluster>> = Mutex::new(Vec::new());

fn lock() -> std::sync::MutexGuard<'static, Vec<Cluster>> {
    ACTIVE.lock().unwrap_or_else(|p| p.into_inner())
}

/// Keeps the cluster up while it lives.
pub struct Guard {
    pub cluster: Cluster,
    /// `swarm.json`.
    pub file: PathBuf,
}

impl Drop for Guard {
    fn drop(&mut self) {
        let mut active = lock();
        active.retain(|c| c.index != self.cluster.index);
        drop(active);
        stop(&self.cluster);
    }
}

/// Stops every cluster we started (the signal thread calls this too).
pub fn stop_all() {
    let started: Vec<Cluster> = std::mem::take(&mut *lock());
    for c in started {
        stop(&c);
    }
}

fn stop(c: &Cluster) {
    say!("stopping test swarm {}", c.index);
    cleanup(c);
    let _ = fs::remove_file(c.file());
    let _ = fs::remove_file(c.root().join("image.tar"));
    let _ = fs::remove_dir(c.root());
}

fn cleanup(c: &Cluster) {
    for k in 1..=NODES {
        cleanup_dir(&c.dir(k));
        let _ = Command::new("ip")
            .args(["netns", "del", &c.netns(k)])
            .stderr(Stdio::null())
            .status();
        let _ = Command::new("ip")
            .args(["link", "del", &c.veth(k)])
            .stderr(Stdio::null())
            .status();
    }
    let _ = Command::new("ip")
        .args(["link", "del", &c.bridge()])
        .stderr(Stdio::null())
        .status();
    // The rule may be there more than once after aborted runs.
    for _ in 0..10 {
        let deleted = Command::new("iptables")
            .arg("-D")
            .args(c.forward_rule())
            .stderr(Stdio::null())
            .status();
        if !matches!(deleted, Ok(s) if s.success()) {
            break;
        }
    }
}

/// Starts the cluster (after cleaning up what a run with the same index left), copies the
/// test image from the daemon at `image_from` into every node, writes `swarm.json`.
pub fn start(c: &Cluster, image_from: &str) -> Result<Guard> {
    if c.index == 0 || c.index > 9 {
        bail!("swarm: --index is a number from 1 to 9");
    }
    if c.prefix.is_empty()
        || c.prefix.len() > 20
        || !c
            .prefix
            .chars()
            .all(|ch| ch.is_ascii_alphanumeric() || ch == '-')
    {
        bail!("swarm: --prefix is 1 to 20 letters, digits or dashes");
    }
    cleanup(c);
    let _ = fs::remove_dir_all(c.root());
    fs::create_dir_all(c.root())?;
    lock().push(c.clone());
    let guard = Guard {
        cluster: c.clone(),
        file: c.file(),
    };
    let br = c.bridge();
    ip(&["link", "add", &br, "type", "bridge"])?;
    ip(&[
        "addr",
        "add",
        &format!("10.232.{}.1/24", c.index),
        "dev",
        &br,
    ])?;
    ip(&["link", "set", &br, "up"])?;
    // Bridged frames pass the host's FORWARD chain (br_netfilter), whose policy the
    // development daemon sets to DROP: let the cluster's own traffic through.
    sh(Command::new("iptables").arg("-I").args(c.forward_rule()))?;

    let image = c.root().join("image.tar");
    sh(Command::new("docker")
        .args(["-H", image_from, "save", "-o"])
        .arg(&image)
        .arg(crate::images::TEST_IMAGE))
    .context("cannot save the test image from the development daemon")?;

    let mut pids = Vec::new();
    for k in 1..=NODES {
        pids.push(start_node(c, k, &image)?);
    }
    let manager = c.sock(1);
    sh(Command::new("docker").args([
        "-H",
        &manager,
        "swarm",
        "init",
        "--advertise-addr",
        &c.addr(1),
        "--listen-addr",
        &format!("{}:2377", c.addr(1)),
    ]))?;
    let token = output(Command::new("docker").args([
        "-H",
        &manager,
        "swarm",
        "join-token",
        "-q",
        "worker",
    ]))?;
    for k in 2..=NODES {
        sh(Command::new("docker").args([
            "-H",
            &c.sock(k),
            "swarm",
            "join",
            "--token",
            token.trim(),
            "--advertise-addr",
            &c.addr(k),
            "--listen-addr",
            &format!("{}:2377", c.addr(k)),
            &format!("{}:2377", c.addr(1)),
        ]))?;
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let ready = output(Command::new("docker").args([
            "-H",
            &manager,
            "node",
            "ls",
            "--format",
            "{{.Status}}",
        ]))?;
        if ready.lines().filter(|l| l.trim() == "Ready").count() == NODES {
            break;
        }
        if Instant::now() > deadline {
            bail!("swarm {}: not every node is ready: {ready}", c.index);
        }
        thread::sleep(Duration::from_millis(500));
    }
    let nodes: Vec<serde_json::Value> = (1..=NODES)
        .map(|k| {
            let id = output(Command::new("docker").args([
                "-H",
                &c.sock(k),
                "info",
                "--format",
                "{{.Swarm.NodeID}}",
            ]))
            .unwrap_or_default();
            serde_json::json!({
                "name": format!("{}{}-{k}", c.prefix, c.index),
                "role": if k == 1 { "manager" } else { "worker" },
                "unix": c.sock(k),
                "addr": c.addr(k),
                "netns": c.netns(k),
                "dockerd_pid": pids[k - 1],
                "node_id": id.trim(),
            })
        })
        .collect();
    let doc = serde_json::json!({
        "index": c.index,
        "prefix": c.prefix,
        "manager": c.sock(1),
        "image": crate::images::TEST_IMAGE,
        "nodes": nodes,
    });
    fs::write(&guard.file, serde_json::to_string_pretty(&doc)?)?;
    say!(
        "test swarm {} is up: manager {manager}, {}",
        c.index,
        guard.file.display()
    );
    Ok(guard)
}

/// Node `k`: its namespace on the bridge, its dockerd (hostname = the namespace, so that
/// the nodes have distinct names), the test image loaded. Returns dockerd's pid.
fn start_node(c: &Cluster, k: usize, image: &Path) -> Result<i32> {
    let d = c.dir(k);
    let ns = c.netns(k);
    let (veth, peer) = (c.veth(k), format!("bs{}p{k}", c.index));
    fs::create_dir_all(&d)?;
    ip(&["netns", "add", &ns])?;
    ip(&["link", "add", &veth, "type", "veth", "peer", "name", &peer])?;
    ip(&["link", "set", &peer, "netns", &ns])?;
    ip(&["link", "set", &veth, "master", &c.bridge()])?;
    ip(&["link", "set", &veth, "up"])?;
    let in_ns = |args: &[&str]| -> Result<()> {
        let mut all = vec!["netns", "exec", &ns, "ip"];
        all.extend_from_slice(args);
        ip(&all)
    };
    in_ns(&["link", "set", &peer, "name", "eth0"])?;
    in_ns(&["addr", "add", &format!("{}/24", c.addr(k)), "dev", "eth0"])?;
    in_ns(&["link", "set", "eth0", "up"])?;
    in_ns(&["link", "set", "lo", "up"])?;
    in_ns(&[
        "route",
        "add",
        "default",
        "via",
        &format!("10.232.{}.1", c.index),
    ])?;

    let log = fs::File::create(d.join("dockerd.log"))?;
    let sock = c.sock(k);
    // nsenter, not `ip netns exec` (see hosts.rs); a UTS namespace of
    // its own so that each node has its own name (swarm's node names are host names).
    let netns_path = format!("--net=/var/run/netns/{ns}");
    let child = Command::new("nsenter")
        .args([
            netns_path.as_str(),
            "--",
            "unshare",
            "--uts",
            "--",
            "sh",
            "-c",
        ])
        .arg(format!("hostname {ns} && exec \"$0\" \"$@\""))
        .arg("dockerd")
        .arg("--data-root")
        .arg(d.join("data"))
        .arg("--exec-root")
        .arg(d.join("x"))
        .arg("--pidfile")
        .arg(d.join("docker.pid"))
        .args(["-H", &sock])
        // A task's image is used as it is when the node has it: without this, every task
        // first tries to pull it from its registry (here: a public one, never reachable,
        // and never to be asked), and waits about 20 s in "Preparing" for the failure.
        .env("DOCKER_SERVICE_PREFER_OFFLINE_IMAGE", "1")
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .process_group(0)
        .spawn()
        .context("cannot start dockerd in the namespace")?;
    let pid = child.id() as i32;
    crate::daemon::wait_until_up(
        &sock,
        pid,
        &d.join("dockerd.log"),
        &format!("swarm node {k}"),
    )?;
    sh(Command::new("docker")
        .args(["-H", &sock, "load", "-q", "-i"])
        .arg(image))?;
    Ok(pid)
}

/// `cargo xtask swarm [--index N] [--prefix P]`: start it, print where it is, wait for Ctrl-C.
pub fn run(args: &[String]) -> Result<std::process::ExitCode> {
    let mut c = Cluster::default();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match (a.as_str(), it.next()) {
            ("--index", Some(n)) => c.index = n.parse().context("swarm: --index takes a number")?,
            ("--prefix", Some(p)) => c.prefix = p.clone(),
            _ => bail!("usage: cargo xtask swarm [--index N] [--prefix P]"),
        }
    }
    let mut signals = signal_hook::iterator::Signals::new([
        signal_hook::consts::SIGINT,
        signal_hook::consts::SIGTERM,
        signal_hook::consts::SIGHUP,
    ])?;
    let from = std::env::var("BERTH_TEST_DOCKER_HOST")
        .unwrap_or_else(|_| "unix:///tmp/berth-test/docker.sock".into());
    let guard = start(&c, &from)?;
    say!("BERTH_TEST_SWARM={}", guard.file.display());
    say!("Ctrl-C stops it");
    signals.forever().next();
    drop(guard);
    Ok(std::process::ExitCode::SUCCESS)
}
