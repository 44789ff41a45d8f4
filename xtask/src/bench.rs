//! `cargo xtask bench`: builds the UI, release berth and the bench binary (e2e's
//! `src/bin/bench`), uses the private test daemon exactly as `cargo xtask test` does
//! (BERTH_TEST_DOCKER_HOST wins), runs the bench, which prints the table and rewrites the
//! generated part of BENCHMARKS.md. The benches themselves live in the e2e crate so xtask
//! stays light.

use std::{os::unix::process::CommandExt, process::Command, process::ExitCode};

use anyhow::{bail, Context, Result};

use crate::{build, cargo, daemon, deps, exit_code, hosts, images, root, say, status, target_dir};

const GROUPS: &[&str] = &[
    "weight", "list", "load", "logs", "exec", "stats", "files", "envs",
];

/// `cargo xtask bench [--quick] [GROUP...]`: every group unless some are named.
pub fn run(args: &[String]) -> Result<ExitCode> {
    let (mut quick, mut only) = (false, Vec::new());
    for arg in args.iter().filter(|a| *a != "--") {
        match arg.as_str() {
            "--quick" => quick = true,
            g if GROUPS.contains(&g) => only.push(g),
            other => bail!(
                "`cargo xtask bench` takes --quick and benchmark groups ({}); got `{other}`",
                GROUPS.join(", ")
            ),
        }
    }
    daemon::stop_on_signals()?;
    deps::ensure()?;
    let berth = build()?;
    say!("building the bench (release)");
    status(cargo().args(["build", "--release", "-p", "e2e", "--bin", "bench"]))?;
    let bench = target_dir()?.join("release/bench");

    let daemon = daemon::start()?;
    images::ensure(&daemon.host)?;
    // Two daemons in network namespaces for the environments group (issue 14).
    let hosts = if only.is_empty() || only.contains(&"envs") {
        Some(hosts::start(2)?)
    } else {
        None
    };

    let mut cmd = Command::new(&bench);
    if let Some(hosts) = &hosts {
        cmd.env("BERTH_TEST_HOSTS", &hosts.file);
    }
    cmd.env("BERTH_TEST_DOCKER_HOST", &daemon.host)
        .env("BERTH_BIN", &berth)
        .env("BERTH_UI_DIR", target_dir()?.join("ui"))
        .env("BERTH_BENCH_OUT", root().join("BENCHMARKS.md"))
        .env("BERTH_BENCH_ONLY", only.join(","));
    for (name, default) in [
        ("BERTH_TEST_IMAGE", images::TEST_IMAGE),
        ("BERTH_CHROMIUM", deps::CHROMIUM),
        ("BERTH_CHROMEDRIVER", deps::CHROMEDRIVER),
    ] {
        if std::env::var_os(name).is_none() {
            cmd.env(name, default);
        }
    }
    if quick {
        cmd.env("BERTH_BENCH_QUICK", "1");
    }
    say!("running {}", bench.display());
    // Its own group, as the tests: our signals reach it (and the browsers it starts), and
    // it removes its containers before it exits.
    let mut child = cmd
        .current_dir(root())
        .process_group(0)
        .spawn()
        .with_context(|| format!("could not start {}", bench.display()))?;
    daemon::set_foreground_group(child.id());
    let done = child.wait().context("waiting for the bench")?;
    daemon::set_foreground_group(0);
    drop(hosts);
    drop(daemon);
    Ok(exit_code(done))
}
