//! The private dockerd the tests talk to, and the signal handling that makes sure it stops.
//!
//! It lives under a fixed, short root (`/tmp/berth-test`) because dockerd puts containerd's
//! unix socket under `--exec-root`, and socket paths must stay under 108 bytes. The data
//! root persists between runs, so pulled and built images are reused. The system daemon at
//! /var/run/docker.sock is never touched.

use std::{
    env,
    fs::{self, File},
    os::unix::process::CommandExt,
    path::Path,
    process::{Child, Command, Stdio},
    sync::{
        atomic::{AtomicI32, Ordering},
        Mutex,
    },
    thread,
    time::{Duration, Instant},
};

use anyhow::{bail, Context, Result};
use signal_hook::{
    consts::{SIGHUP, SIGINT, SIGTERM},
    iterator::Signals,
};

use crate::say;

const ROOT: &str = "/tmp/berth-test";
const HOST: &str = "unix:///tmp/berth-test/docker.sock";
const PIDFILE: &str = "/tmp/berth-test/docker.pid";
const LOG: &str = "/tmp/berth-test/dockerd.log";
const CONTAINERD_PIDFILE: &str = "/tmp/berth-test/exec/containerd/containerd.pid";

/// The daemon we started or adopted; whoever takes it out (the guard's drop, or the signal
/// thread) stops it while holding the lock, so the other waits for the stop to finish.
static ACTIVE: Mutex<Option<Running>> = Mutex::new(None);
/// The process group of the child that runs in the foreground (cargo test and the test
/// binaries it starts), to pass our signals on to.
static FOREGROUND: AtomicI32 = AtomicI32::new(0);

/// Keeps the daemon up while it lives; dropping it (also on error or panic) stops the daemon.
pub struct Guard {
    /// What to give `docker -H` and the tests.
    pub host: String,
}

impl Drop for Guard {
    fn drop(&mut self) {
        stop_active();
    }
}

/// Starts the private daemon, adopts one left over from an aborted run, or, when
/// `BERTH_TEST_DOCKER_HOST` is set, uses that daemon and starts nothing.
pub fn start() -> Result<Guard> {
    if let Ok(host) = env::var("BERTH_TEST_DOCKER_HOST") {
        say!("using the daemon at BERTH_TEST_DOCKER_HOST={host}; not starting one");
        return Ok(Guard { host });
    }
    fs::create_dir_all(ROOT).with_context(|| format!("could not create {ROOT}"))?;
    let guard = Guard { host: HOST.into() };

    if let Some(pid) = leftover_pid() {
        let running = Running { child: None, pid };
        if answers(HOST) {
            say!("reusing the private dockerd left running by an earlier run (pid {pid})");
            *lock() = Some(running);
            return Ok(guard);
        }
        say!("a private dockerd (pid {pid}) is left over but does not answer; stopping it");
        running.stop(Duration::from_secs(20));
    }
    // dockerd refuses to start while the pidfile names any process, even an unrelated one
    // that reused the number, or a zombie nobody reaped yet; ours is gone, so it is stale.
    let _ = fs::remove_file(PIDFILE);
    stop_leftover_containerd();
    if Path::new("/var/run/docker.sock").exists() {
        say!("note: /var/run/docker.sock exists; if a system dockerd runs, both share docker0");
    }

    say!("starting a private dockerd under {ROOT} (log: {LOG})");
    let log = File::create(LOG).with_context(|| format!("could not create {LOG}"))?;
    let child = Command::new("dockerd")
        .args(["--host", HOST, "--pidfile", PIDFILE])
        .arg("--data-root")
        .arg(format!("{ROOT}/data"))
        .arg("--exec-root")
        .arg(format!("{ROOT}/exec"))
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        // Its own process group: a Ctrl-C at the terminal reaches us, not dockerd, and we
        // stop it in order (containers first) instead of it dying mid-test.
        .process_group(0)
        .spawn()
        .context("could not start dockerd (is docker.io installed?)")?;
    let pid = child.id() as i32;
    *lock() = Some(Running {
        child: Some(child),
        pid,
    });

    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if answers(HOST) {
            say!("dockerd is up (pid {pid})");
            return Ok(guard);
        }
        let alive = lock().as_mut().is_some_and(Running::alive);
        if !alive || Instant::now() > deadline {
            let why = if alive {
                "did not answer within 60 s"
            } else {
                "exited"
            };
            bail!("dockerd {why}; the end of {LOG}:\n{}", log_tail(40));
        }
        thread::sleep(Duration::from_millis(250));
    }
}

/// Stops on SIGINT, SIGTERM and SIGHUP: passes the signal to the foreground group, stops the
/// daemon, and exits as a shell would (128 + signal). Call before starting anything.
pub fn stop_on_signals() -> Result<()> {
    let mut signals = Signals::new([SIGINT, SIGTERM, SIGHUP]).context("signal handlers")?;
    thread::spawn(move || {
        if let Some(sig) = signals.forever().next() {
            say!("interrupted (signal {sig}); stopping");
            let group = FOREGROUND.load(Ordering::SeqCst);
            if group > 1 && group != own_process_group() {
                kill_group(group, sig);
            }
            crate::hosts::stop_all();
            crate::swarm::stop_all();
            stop_active();
            std::process::exit(128 + sig);
        }
    });
    Ok(())
}

/// Records the process group that gets our signals (0: none): a child started with
/// `process_group(0)`, whose group id is its pid.
pub fn set_foreground_group(pgid: u32) {
    FOREGROUND.store(pgid as i32, Ordering::SeqCst);
}

/// Whether a daemon answers at `host`, within 10 s (a hung daemon must not hang us).
pub fn answers(host: &str) -> bool {
    let Ok(mut child) = Command::new("docker")
        .args(["-H", host, "version", "--format", "{{.Server.Version}}"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
    else {
        return false;
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return status.success(),
            Ok(None) if Instant::now() < deadline => thread::sleep(Duration::from_millis(50)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return false;
            }
        }
    }
}

fn lock() -> std::sync::MutexGuard<'static, Option<Running>> {
    ACTIVE
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn stop_active() {
    let mut active = lock();
    if let Some(running) = active.take() {
        say!("stopping the private dockerd (pid {})", running.pid);
        running.stop(Duration::from_secs(30));
    }
}

/// A dockerd of ours: our child, or (`child: None`) one adopted from an earlier run.
struct Running {
    child: Option<Child>,
    pid: i32,
}

impl Running {
    fn alive(&mut self) -> bool {
        match &mut self.child {
            Some(child) => matches!(child.try_wait(), Ok(None)),
            None => pid_alive(self.pid),
        }
    }

    /// SIGTERM (dockerd stops its containers and containerd), then SIGKILL after `grace`.
    fn stop(mut self, grace: Duration) {
        send(self.pid, libc::SIGTERM);
        if !self.wait_exit(grace) {
            say!("dockerd did not stop within {grace:?}; killing it");
            // Kill its whole group when it leads one of its own, as ours do (never group 0
            // or 1, nor ours). Its containerd has a group of its own: handled below.
            let pgid = process_group_of(self.pid);
            if pgid > 1 && pgid == self.pid && pgid != own_process_group() {
                kill_group(pgid, libc::SIGKILL);
            }
            send(self.pid, libc::SIGKILL);
            self.wait_exit(Duration::from_secs(5));
        }
        stop_leftover_containerd();
    }

    fn wait_exit(&mut self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        while self.alive() {
            if Instant::now() > deadline {
                return false;
            }
            thread::sleep(Duration::from_millis(100));
        }
        true
    }
}

/// Stops a containerd that outlived its dockerd, and removes its pidfile: dockerd would
/// otherwise try to reuse whatever pid the file names, even a dead or zombie containerd, and
/// give up after waiting for its socket. Normally containerd exits with dockerd.
fn stop_leftover_containerd() {
    if let Some(pid) = read_pid(CONTAINERD_PIDFILE).filter(|&pid| is_ours(pid, "containerd")) {
        say!("stopping the containerd left behind (pid {pid})");
        send(pid, libc::SIGTERM);
        let deadline = Instant::now() + Duration::from_secs(10);
        while pid_alive(pid) && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(100));
        }
        if pid_alive(pid) {
            send(pid, libc::SIGKILL);
        }
    }
    let _ = fs::remove_file(CONTAINERD_PIDFILE);
}

/// The pid in our pidfile, if it is a live dockerd of ours.
fn leftover_pid() -> Option<i32> {
    read_pid(PIDFILE).filter(|&pid| is_ours(pid, "dockerd"))
}

pub(crate) fn read_pid(path: &str) -> Option<i32> {
    let pid: i32 = fs::read_to_string(path).ok()?.trim().parse().ok()?;
    (pid > 1).then_some(pid)
}

/// Whether `pid` is alive and its command line names `program` and our root.
fn is_ours(pid: i32, program: &str) -> bool {
    let Ok(cmdline) = fs::read(format!("/proc/{pid}/cmdline")) else {
        return false;
    };
    let cmdline = String::from_utf8_lossy(&cmdline);
    pid_alive(pid) && cmdline.contains(program) && cmdline.contains(ROOT)
}

/// Waits (at most 60 s) until the dockerd `pid` answers on `sock`; if it exits or never
/// answers, the error names `what` and ends with the last lines of its `log`.
pub(crate) fn wait_until_up(sock: &str, pid: i32, log: &std::path::Path, what: &str) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !answers(sock) {
        if !pid_alive(pid) || Instant::now() > deadline {
            let log = fs::read_to_string(log).unwrap_or_default();
            let tail: Vec<&str> = log.lines().rev().take(20).collect();
            bail!(
                "dockerd of {what} did not come up:\n{}",
                tail.into_iter().rev().collect::<Vec<_>>().join("\n")
            );
        }
        thread::sleep(Duration::from_millis(250));
    }
    Ok(())
}

/// Alive and not a zombie: an adopted daemon is not our child, and if nothing reaps it, its
/// zombie would otherwise look alive forever.
pub(crate) fn pid_alive(pid: i32) -> bool {
    match fs::read_to_string(format!("/proc/{pid}/stat")) {
        // The state follows the command name, which is in parentheses and may contain spaces.
        Ok(stat) => stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .is_some_and(|state| state != "Z" && state != "X"),
        Err(_) => false,
    }
}

fn log_tail(lines: usize) -> String {
    let log = fs::read_to_string(LOG).unwrap_or_default();
    let all: Vec<&str> = log.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

// The only unsafe code in xtask: thin wrappers over libc calls that take plain integers and
// touch no memory of ours. Only exact pids go to kill(2); killpg(2) only gets a group > 1.

#[allow(unsafe_code)]
pub(crate) fn send(pid: i32, sig: i32) {
    if pid > 1 {
        // SAFETY: kill(2) has no memory-safety preconditions.
        unsafe { libc::kill(pid, sig) };
    }
}

#[allow(unsafe_code)]
fn kill_group(pgid: i32, sig: i32) {
    if pgid > 1 {
        // SAFETY: killpg(3) has no memory-safety preconditions.
        unsafe { libc::killpg(pgid, sig) };
    }
}

#[allow(unsafe_code)]
fn process_group_of(pid: i32) -> i32 {
    // SAFETY: getpgid(2) has no memory-safety preconditions.
    unsafe { libc::getpgid(pid) }
}

#[allow(unsafe_code)]
fn own_process_group() -> i32 {
    // SAFETY: getpgrp(2) has no memory-safety preconditions and cannot fail.
    unsafe { libc::getpgrp() }
}
