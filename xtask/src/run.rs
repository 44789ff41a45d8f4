//! `cargo xtask run [-- FLAGS]`: builds berth and starts it. On a fresh machine without a
//! reachable Docker daemon, berth alone could do nothing, so: as root, install Debian's
//! `docker.io` if needed and start the private daemon (as the tests do), give berth that
//! daemon and stop it when berth exits; otherwise print the exact commands that help.

use std::{
    env,
    os::unix::process::CommandExt,
    process::{Command, ExitCode},
};

use anyhow::{Context, Result};

use crate::{daemon, deps, exit_code, say};

/// The daemon berth will use: `--docker-host X` / `--docker-host=X` in its flags, else
/// DOCKER_HOST, else berth's default (the same order clap applies).
pub fn docker_host_of(args: &[String], docker_host_env: Option<&str>) -> String {
    let mut found = None;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        if arg == "--docker-host" {
            found = it.next().cloned();
        } else if let Some(v) = arg.strip_prefix("--docker-host=") {
            found = Some(v.to_owned());
        }
    }
    found
        .or_else(|| docker_host_env.filter(|v| !v.is_empty()).map(str::to_owned))
        .unwrap_or_else(|| "unix:///var/run/docker.sock".to_owned())
}

/// What `run` does about the daemon.
#[derive(Debug, PartialEq, Eq)]
pub enum Plan {
    /// It answers: start berth as asked.
    Use,
    /// Nothing answers, we are root, and berth was not pointed anywhere in particular:
    /// start the private daemon for berth.
    StartPrivate,
    /// Nothing answers and we cannot (or should not) fix it: say how, then start berth.
    Advise,
}

/// `chosen`: the caller named a daemon (flag or DOCKER_HOST); we do not override it.
pub fn plan(answers: bool, root: bool, chosen: bool) -> Plan {
    match (answers, root, chosen) {
        (true, _, _) => Plan::Use,
        (false, true, false) => Plan::StartPrivate,
        (false, _, _) => Plan::Advise,
    }
}

/// The advice printed when nothing answers at `host`.
pub fn advice(host: &str) -> String {
    format!(
        "no Docker daemon answers at {host}; berth will start but can do nothing until one \
         does.\n  to use a running daemon:    cargo xtask run -- --docker-host unix:///path/to/docker.sock\n  \
         \x20                            (or DOCKER_HOST=tcp://HOST:2375 cargo xtask run)\n  \
         to have xtask start one:    sudo cargo xtask run   (installs docker.io if missing and \
         starts a private dockerd under /tmp/berth-test, stopped on exit)\n  \
         to install Docker for good: sudo apt-get install docker.io && sudo systemctl start docker"
    )
}

pub fn run(args: &[String]) -> Result<ExitCode> {
    let args = match args.first().map(String::as_str) {
        Some("--") => &args[1..],
        _ => args,
    };
    let env_host = env::var("DOCKER_HOST").ok();
    let host = docker_host_of(args, env_host.as_deref());
    let chosen = args
        .iter()
        .any(|a| a == "--docker-host" || a.starts_with("--docker-host="))
        || env_host.as_deref().is_some_and(|v| !v.is_empty());
    let plan = plan(daemon::answers(&host), deps::is_root(), chosen);
    if plan == Plan::StartPrivate {
        // Before the build: a Ctrl-C during it must stop the daemon too.
        daemon::stop_on_signals()?;
    }
    let bin = crate::build()?;
    match plan {
        Plan::Use => {}
        Plan::Advise => say!("{}", advice(&host)),
        Plan::StartPrivate => {
            say!("no Docker daemon answers at {host}, and we are root: starting a private one for berth");
            deps::ensure_docker()?;
            let daemon = daemon::start()?;
            say!(
                "starting {} --docker-host {} {} (the daemon stops when berth exits)",
                bin.display(),
                daemon.host,
                args.join(" ")
            );
            let mut child = Command::new(&bin)
                .arg("--docker-host")
                .arg(&daemon.host)
                .args(args)
                .process_group(0)
                .spawn()
                .with_context(|| format!("could not start {}", bin.display()))?;
            daemon::set_foreground_group(child.id());
            let status = child.wait().context("waiting for berth")?;
            drop(daemon);
            return Ok(exit_code(status));
        }
    }
    say!("starting {} {}", bin.display(), args.join(" "));
    let err = Command::new(&bin).args(args).exec();
    Err(err).with_context(|| format!("could not start {}", bin.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn the_daemon_berth_will_use() {
        assert_eq!(docker_host_of(&[], None), "unix:///var/run/docker.sock");
        assert_eq!(docker_host_of(&[], Some("tcp://h:2375")), "tcp://h:2375");
        assert_eq!(docker_host_of(&[], Some("")), "unix:///var/run/docker.sock");
        assert_eq!(
            docker_host_of(&s(&["--docker-host", "unix:///a.sock"]), Some("tcp://h:1")),
            "unix:///a.sock"
        );
        assert_eq!(
            docker_host_of(
                &s(&["--listen", "0:1", "--docker-host=unix:///b.sock"]),
                None
            ),
            "unix:///b.sock"
        );
    }

    #[test]
    fn a_private_daemon_only_as_root_and_only_when_berth_was_not_pointed_elsewhere() {
        assert_eq!(plan(true, true, false), Plan::Use);
        assert_eq!(plan(true, false, true), Plan::Use);
        assert_eq!(plan(false, true, false), Plan::StartPrivate);
        assert_eq!(plan(false, true, true), Plan::Advise);
        assert_eq!(plan(false, false, false), Plan::Advise);
    }

    #[test]
    fn the_advice_names_the_socket_and_the_commands() {
        let a = advice("unix:///var/run/docker.sock");
        assert!(a.contains("unix:///var/run/docker.sock"));
        assert!(a.contains("cargo xtask run -- --docker-host"));
        assert!(a.contains("sudo cargo xtask run"));
        assert!(a.contains("apt-get install docker.io"));
    }
}
