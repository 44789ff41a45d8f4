//! Test hosts: N more Docker daemons, each in a network namespace of its own (`cargo xtask
//! hosts N`, and `cargo xtask test` for the environment tests).
//!
//! Host `i` (1-based) is the namespace `berth-h{i}`, joined to ours by a veth pair
//! `bh{i}` (here, 10.231.{i}.1/24) and `bh{i}ns` (there, 10.231.{i}.2/24). Inside it run a
//! `dockerd` with its own data root, exec root, pidfile, unix socket, `docker0` (the
//! namespace's own) and a TCP listener with mutual TLS on 10.231.{i}.2:2376, and an
//! `sshd` on 10.231.{i}.2:22 that lets in one key and sets `DOCKER_HOST` for
//! `docker system dial-stdio`. Certificates (openssl) and ssh keys (ssh-keygen) are made
//! here, with some wrong ones for the tests. Traffic goes only to those addresses.
//!
//! Everything started is stopped by pid, and the namespaces deleted, when the guard drops
//! or a signal arrives; what an aborted run left is cleaned up at start, by pidfile and by
//! namespace name. `hosts.json` in the root describes it all for the tests
//! (`BERTH_TEST_HOSTS`).

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

use crate::daemon::{pid_alive, read_pid, send};
use crate::say;

/// Short: containerd's socket lives under the exec root, and unix socket paths stay
/// under 108 bytes.
pub const ROOT: &str = "/tmp/bh";
/// The most hosts: their subnets are 10.231.1.0/24 … 10.231.9.0/24.
const MAX: usize = 9;

/// Hosts we started; taken out (and stopped) by the guard's drop or by the signal thread.
static ACTIVE: Mutex<Vec<usize>> = Mutex::new(Vec::new());

/// Keeps the hosts up while it lives.
pub struct Guard {
    /// `hosts.json`.
    pub file: PathBuf,
}

impl Drop for Guard {
    fn drop(&mut self) {
        stop_all();
    }
}

fn netns(i: usize) -> String {
    format!("berth-h{i}")
}

fn dir(i: usize) -> PathBuf {
    Path::new(ROOT).join(i.to_string())
}

fn addr(i: usize) -> String {
    format!("10.231.{i}.2")
}

fn pki() -> PathBuf {
    Path::new(ROOT).join("pki")
}

/// Starts `n` hosts (after cleaning up any left over), writes `hosts.json`, and returns
/// the guard that stops them.
pub fn start(n: usize) -> Result<Guard> {
    if n == 0 || n > MAX {
        bail!("hosts: give a number from 1 to {MAX}");
    }
    for i in 1..=MAX {
        cleanup(i);
    }
    // Keys and certificates are made afresh each time (ssh-keygen will not overwrite).
    let _ = fs::remove_dir_all(pki());
    fs::create_dir_all(ROOT)?;
    let guard = Guard {
        file: Path::new(ROOT).join("hosts.json"),
    };
    make_pki(n)?;
    let mut hosts = Vec::new();
    for i in 1..=n {
        lock().push(i);
        hosts.push(start_one(i)?);
    }
    let p = pki();
    let s = |f: &str| p.join(f).display().to_string();
    let doc = serde_json::json!({
        "hosts": hosts,
        "pki": {
            "ca": s("ca.pem"), "cert": s("client.pem"), "key": s("client-key.pem"),
            "other_ca": s("other-ca.pem"),
            "other_cert": s("other-client.pem"), "other_key": s("other-client-key.pem"),
            "expired_cert": s("expired-client.pem"), "expired_key": s("expired-client-key.pem"),
            "ssh_key": s("id_ed25519"), "ssh_wrong_key": s("id_wrong"),
            "wrong_known_hosts": s("wrong_known_hosts"),
        }
    });
    fs::write(&guard.file, serde_json::to_string_pretty(&doc)?)?;
    Ok(guard)
}

fn lock() -> std::sync::MutexGuard<'static, Vec<usize>> {
    ACTIVE.lock().unwrap_or_else(|p| p.into_inner())
}

/// Stops every host we started (the signal thread calls this too).
pub fn stop_all() {
    let started: Vec<usize> = std::mem::take(&mut *lock());
    if started.is_empty() {
        return;
    }
    for i in started {
        say!("stopping test host {i}");
        cleanup(i);
    }
    // The test keys and the description of hosts that are gone.
    let _ = fs::remove_dir_all(pki());
    let _ = fs::remove_file(Path::new(ROOT).join("hosts.json"));
    let _ = fs::remove_dir(ROOT);
}

/// `cargo xtask hosts N`: start them, print where they are, wait for Ctrl-C.
pub fn run(args: &[String]) -> Result<std::process::ExitCode> {
    let n: usize = match args {
        [] => 2,
        [n] => n.parse().context("hosts: N must be a number")?,
        _ => bail!("usage: cargo xtask hosts [N]"),
    };
    let mut signals = signal_hook::iterator::Signals::new([
        signal_hook::consts::SIGINT,
        signal_hook::consts::SIGTERM,
        signal_hook::consts::SIGHUP,
    ])?;
    let guard = start(n)?;
    say!(
        "{n} test host(s) are up; BERTH_TEST_HOSTS={}",
        guard.file.display()
    );
    for i in 1..=n {
        say!(
            "  h{i}: tcp://{}:2376 (mutual TLS, {}), ssh://root@{}, unix://{}/docker.sock",
            addr(i),
            pki().display(),
            addr(i),
            dir(i).display()
        );
    }
    say!("Ctrl-C stops them");
    signals.forever().next();
    drop(guard);
    Ok(std::process::ExitCode::SUCCESS)
}

pub(crate) fn sh(cmd: &mut Command) -> Result<()> {
    output(cmd).map(drop)
}

/// Runs `cmd` to its end; its standard output, or an error with its standard error.
pub(crate) fn output(cmd: &mut Command) -> Result<String> {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("cannot run {cmd:?}"))?;
    if !out.status.success() {
        bail!(
            "{cmd:?} failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

pub(crate) fn ip(args: &[&str]) -> Result<()> {
    sh(Command::new("ip").args(args))
}

fn quiet(cmd: &mut Command) {
    let _ = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

/// Stops what host `i` runs (ours by pidfile and command line) and deletes its namespace
/// and link; safe to call when nothing is there.
fn cleanup(i: usize) {
    cleanup_dir(&dir(i));
    quiet(Command::new("ip").args(["netns", "del", &netns(i)]));
    quiet(Command::new("ip").args(["link", "del", &format!("bh{i}")]));
}

/// Stops the daemons (and sshd) whose files are in `d`, by pidfile and only when their
/// command line names `d`, unmounts what a killed dockerd left there, removes `d`.
pub(crate) fn cleanup_dir(d: &Path) {
    let marker = d.display().to_string();
    let pidfiles = [
        d.join("ssh/sshd.pid"),
        d.join("docker.pid"),
        d.join("x/containerd/containerd.pid"),
    ];
    for pf in &pidfiles {
        if let Some(pid) = read_pid(&pf.display().to_string()) {
            if ours(pid, &marker) {
                stop_pid(pid);
            }
        }
    }
    // A dockerd that had to be killed leaves its mounts (overlays, the netns files).
    if let Ok(mounts) = fs::read_to_string("/proc/self/mounts") {
        let prefix = format!("{marker}/");
        let mut points: Vec<&str> = mounts
            .lines()
            .filter_map(|l| l.split_whitespace().nth(1))
            .filter(|m| m.starts_with(&prefix))
            .collect();
        points.sort_by_key(|m| std::cmp::Reverse(m.len()));
        for m in points {
            quiet(Command::new("umount").args(["-l", m]));
        }
    }
    if d.exists() {
        let _ = fs::remove_dir_all(d);
    }
}

fn ours(pid: i32, marker: &str) -> bool {
    fs::read(format!("/proc/{pid}/cmdline"))
        .map(|c| String::from_utf8_lossy(&c).contains(marker))
        .unwrap_or(false)
        && pid_alive(pid)
}

/// SIGCONT (a test may have stopped it), SIGTERM, then SIGKILL after 20 s.
fn stop_pid(pid: i32) {
    send(pid, libc::SIGCONT);
    send(pid, libc::SIGTERM);
    let deadline = Instant::now() + Duration::from_secs(20);
    while pid_alive(pid) {
        if Instant::now() > deadline {
            send(pid, libc::SIGKILL);
            thread::sleep(Duration::from_millis(200));
            break;
        }
        thread::sleep(Duration::from_millis(100));
    }
}

fn openssl(args: &[&str]) -> Result<()> {
    sh(Command::new("openssl").args(args).current_dir(pki()))
}

/// A key and a certificate signed by `ca` (`ca.pem`, `ca-key.pem` in pki/), with the
/// given extensions.
fn issue(ca: &str, name: &str, cn: &str, ext: &str) -> Result<()> {
    let key = format!("{name}-key.pem");
    let csr = format!("{name}.csr");
    let ext_file = format!("{name}.ext");
    fs::write(pki().join(&ext_file), ext)?;
    openssl(&[
        "req",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
        &key,
        "-out",
        &csr,
        "-subj",
        &format!("/CN={cn}"),
    ])?;
    openssl(&[
        "x509",
        "-req",
        "-in",
        &csr,
        "-CA",
        &format!("{ca}.pem"),
        "-CAkey",
        &format!("{ca}-key.pem"),
        "-CAcreateserial",
        "-days",
        "30",
        "-extfile",
        &ext_file,
        "-out",
        &format!("{name}.pem"),
    ])
}

fn make_ca(name: &str) -> Result<()> {
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
        &format!("{name}-key.pem"),
        "-out",
        &format!("{name}.pem"),
        "-days",
        "30",
        "-subj",
        &format!("/CN=berth test {name}"),
    ])
}

const CLIENT_EXT: &str = "extendedKeyUsage = clientAuth\n";

/// The CA, a server certificate per host, the client's, and wrong ones: another CA and a
/// client of it, an expired client of the right CA (`openssl ca` sets the dates), and
/// ssh keys (the right one, a wrong one, a wrong host key).
fn make_pki(n: usize) -> Result<()> {
    fs::create_dir_all(pki())?;
    make_ca("ca")?;
    make_ca("other-ca")?;
    for i in 1..=n {
        issue(
            "ca",
            &format!("server{i}"),
            &addr(i),
            &format!(
                "subjectAltName = IP:{}\nextendedKeyUsage = serverAuth\n",
                addr(i)
            ),
        )?;
    }
    issue("ca", "client", "berth", CLIENT_EXT)?;
    issue("other-ca", "other-client", "berth", CLIENT_EXT)?;
    // Expired: `openssl ca` takes explicit dates.
    fs::write(pki().join("index.txt"), "")?;
    fs::write(pki().join("serial"), "1000\n")?;
    fs::write(
        pki().join("ca.cnf"),
        "[ca]\ndefault_ca = d\n[d]\ndatabase = index.txt\nserial = serial\n\
         new_certs_dir = .\ndefault_md = sha256\npolicy = p\ncopy_extensions = none\n\
         x509_extensions = e\n[p]\ncommonName = supplied\n[e]\nextendedKeyUsage = clientAuth\n",
    )?;
    openssl(&[
        "req",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
        "expired-client-key.pem",
        "-out",
        "expired-client.csr",
        "-subj",
        "/CN=berth",
    ])?;
    openssl(&[
        "ca",
        "-batch",
        "-config",
        "ca.cnf",
        "-cert",
        "ca.pem",
        "-keyfile",
        "ca-key.pem",
        "-startdate",
        "20200101000000Z",
        "-enddate",
        "20200102000000Z",
        "-in",
        "expired-client.csr",
        "-out",
        "expired-client.pem",
        "-notext",
    ])?;
    for key in ["id_ed25519", "id_wrong", "wrong_host"] {
        sh(Command::new("ssh-keygen")
            .args(["-q", "-t", "ed25519", "-N", "", "-C", "berth-test", "-f"])
            .arg(pki().join(key)))?;
    }
    fs::copy(pki().join("id_ed25519.pub"), pki().join("authorized_keys"))?;
    let wrong = fs::read_to_string(pki().join("wrong_host.pub"))?;
    let wrong_key = wrong
        .split_whitespace()
        .take(2)
        .collect::<Vec<_>>()
        .join(" ");
    let lines: String = (1..=n)
        .map(|i| format!("{} {wrong_key}\n", addr(i)))
        .collect();
    fs::write(pki().join("wrong_known_hosts"), lines)?;
    Ok(())
}

/// Starts host `i`; returns its row of `hosts.json`.
fn start_one(i: usize) -> Result<serde_json::Value> {
    let d = dir(i);
    let ns = netns(i);
    let (veth, peer) = (format!("bh{i}"), format!("bh{i}ns"));
    fs::create_dir_all(d.join("ssh"))?;
    ip(&["netns", "add", &ns])?;
    ip(&["link", "add", &veth, "type", "veth", "peer", "name", &peer])?;
    ip(&["link", "set", &peer, "netns", &ns])?;
    ip(&["addr", "add", &format!("10.231.{i}.1/24"), "dev", &veth])?;
    ip(&["link", "set", &veth, "up"])?;
    let in_ns = |args: &[&str]| -> Result<()> {
        let mut all = vec!["netns", "exec", &ns, "ip"];
        all.extend_from_slice(args);
        ip(&all)
    };
    in_ns(&["addr", "add", &format!("{}/24", addr(i)), "dev", &peer])?;
    in_ns(&["link", "set", &peer, "up"])?;
    in_ns(&["link", "set", "lo", "up"])?;

    let p = pki();
    let log = fs::File::create(d.join("dockerd.log"))?;
    let sock = format!("unix://{}/docker.sock", d.display());
    // nsenter, not `ip netns exec`: that one also makes a mount namespace with a fresh
    // /sys, where the cgroup file systems dockerd needs are not mounted.
    let netns_path = format!("--net=/var/run/netns/{ns}");
    let child = Command::new("nsenter")
        .args([netns_path.as_str(), "--", "dockerd"])
        .arg("--data-root")
        .arg(d.join("data"))
        .arg("--exec-root")
        .arg(d.join("x"))
        .arg("--pidfile")
        .arg(d.join("docker.pid"))
        .args(["-H", &sock, "-H", &format!("tcp://{}:2376", addr(i))])
        .arg("--tlsverify")
        .arg(format!("--tlscacert={}", p.join("ca.pem").display()))
        .arg(format!(
            "--tlscert={}",
            p.join(format!("server{i}.pem")).display()
        ))
        .arg(format!(
            "--tlskey={}",
            p.join(format!("server{i}-key.pem")).display()
        ))
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .process_group(0)
        .spawn()
        .context("cannot start dockerd in the namespace")?;
    // nsenter execs dockerd in place: the child's pid is dockerd's.
    let pid = child.id() as i32;
    crate::daemon::wait_until_up(&sock, pid, &d.join("dockerd.log"), &format!("host {i}"))?;
    crate::images::ensure(&sock)?;

    // sshd: a host key of its own, the one authorized key, DOCKER_HOST for dial-stdio.
    let ssh = d.join("ssh");
    sh(Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(ssh.join("host_key")))?;
    fs::write(
        ssh.join("sshd_config"),
        format!(
            "ListenAddress {a}\nPort 22\nHostKey {k}\nPidFile {pf}\n\
             AuthorizedKeysFile {ak}\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n\
             UsePAM no\nStrictModes no\nPermitRootLogin prohibit-password\n\
             SetEnv DOCKER_HOST={sock}\nLogLevel ERROR\n",
            a = addr(i),
            k = ssh.join("host_key").display(),
            pf = ssh.join("sshd.pid").display(),
            ak = p.join("authorized_keys").display(),
        ),
    )?;
    fs::create_dir_all("/run/sshd")?;
    let sshd_log = fs::File::create(ssh.join("sshd.log"))?;
    let sshd = Command::new("nsenter")
        .args([
            netns_path.as_str(),
            "--",
            "/usr/sbin/sshd",
            "-D",
            "-e",
            "-f",
        ])
        .arg(ssh.join("sshd_config"))
        .stdin(Stdio::null())
        .stdout(sshd_log.try_clone()?)
        .stderr(sshd_log)
        .process_group(0)
        .spawn()
        .context("cannot start sshd (is openssh-server installed?)")?;
    let host_pub = fs::read_to_string(ssh.join("host_key.pub"))?;
    let host_key = host_pub
        .split_whitespace()
        .take(2)
        .collect::<Vec<_>>()
        .join(" ");
    let known_hosts = format!("{} {host_key}\n", addr(i));
    fs::write(ssh.join("known_hosts"), &known_hosts)?;
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect_timeout(
        &format!("{}:22", addr(i)).parse()?,
        Duration::from_millis(500),
    )
    .is_err()
    {
        if Instant::now() > deadline {
            bail!("sshd of host {i} does not listen");
        }
        thread::sleep(Duration::from_millis(100));
    }
    say!(
        "test host {i} is up: dockerd pid {pid}, sshd pid {}",
        sshd.id()
    );
    Ok(serde_json::json!({
        "name": format!("h{i}"),
        "addr": addr(i),
        "tcp": format!("tcp://{}:2376", addr(i)),
        "unix": sock,
        "ssh": format!("ssh://root@{}", addr(i)),
        "known_hosts": known_hosts,
        "dockerd_pid": pid,
        "sshd_pid": sshd.id(),
        "netns": ns,
        "veth": veth,
    }))
}
