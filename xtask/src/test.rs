//! `cargo xtask test` (the README's and CI's test command) and `cargo xtask dockerd`.
//!
//! Order matters: everything that compiles runs before the daemon starts, so a compile
//! error fails fast and the daemon is up only while tests run. The daemon's guard stops it
//! on every way out: success, failure, panic, and (through the signal thread) Ctrl-C/SIGTERM.

use std::{
    env, ffi::OsString, os::unix::process::CommandExt, path::Path, process::ExitCode, thread,
    time::Duration,
};

use anyhow::{bail, Context, Result};

use crate::{
    cargo, command_line, daemon, deps, exit_code, frontend, fuzz, hosts, images, say, status,
    swarm, target_dir,
};

/// The cargo arguments that select every test; the frontend is wasm-only.
const TEST_ARGS: &[&str] = &["test", "--workspace", "--exclude", "frontend"];

/// Runs the whole suite against a private dockerd; `args` go to the test binaries
/// (`cargo xtask test -- --nocapture some_name`).
pub fn run(args: &[String]) -> Result<ExitCode> {
    let args = match args.first().map(String::as_str) {
        Some("--") => &args[1..],
        _ => args,
    };
    daemon::stop_on_signals()?;
    deps::ensure()?;
    let ui = frontend::build_ui()?;

    say!("building berth (debug) and the tests");
    status(
        cargo()
            .args(["build", "-p", "berth"])
            .env("BERTH_UI_DIR", &ui),
    )?;
    status(
        cargo()
            .args(TEST_ARGS)
            .arg("--no-run")
            .env("BERTH_UI_DIR", &ui),
    )?;

    let daemon = daemon::start()?;
    images::ensure(&daemon.host)?;
    images::smoke_test(&daemon.host)?;
    // The built-in templates' images (minutes the first time, cached by tag after).
    crate::app_images::ensure(&daemon.host)?;
    // Two more daemons in network namespaces, for the environment tests (issue 14).
    let hosts = hosts::start(2)?;
    // A Swarm of three more daemons, for the Swarm tests (issue 15); index 9 keeps it
    // apart from the clusters developers start with `cargo xtask swarm`.
    let cluster = swarm::Cluster {
        prefix: "berth-st".into(),
        index: 9,
    };
    let swarm = swarm::start(&cluster, &daemon.host)?;

    let mut cmd = cargo();
    // --no-fail-fast: one failing test binary must not hide what the others would report.
    cmd.args(TEST_ARGS)
        .arg("--no-fail-fast")
        .arg("--")
        .arg("--test-threads=4")
        .args(args)
        .envs(test_env(&daemon.host, &ui)?)
        .env("BERTH_TEST_HOSTS", &hosts.file)
        .env("BERTH_TEST_SWARM", &swarm.file);
    say!("running {}", command_line(&cmd));
    // A group of its own, so that a signal to us alone (a CI timeout's SIGTERM) also reaches
    // the test binaries and the browsers they start, not only cargo: we pass it on to the group.
    let mut child = cmd
        .process_group(0)
        .spawn()
        .context("could not start `cargo test`")?;
    daemon::set_foreground_group(child.id());
    let tested = child.wait().context("waiting for `cargo test`")?;
    daemon::set_foreground_group(0);
    drop(swarm);
    drop(hosts);

    // After the tests, on the same daemon: nothing else runs on it meanwhile.
    let fuzzed = fuzz::run(&daemon.host, &target_dir()?.join("debug/berth"));
    drop(daemon);
    if let Err(e) = &fuzzed {
        say!("schemathesis failed: {e:#}");
    }
    if tested.success() && fuzzed.is_ok() {
        say!("all tests passed");
    } else if !tested.success() {
        say!("tests failed ({tested})");
    }
    match (tested.success(), fuzzed) {
        (false, _) => Ok(exit_code(tested)),
        (true, Err(_)) => Ok(ExitCode::FAILURE),
        (true, Ok(())) => Ok(ExitCode::SUCCESS),
    }
}

/// `cargo xtask fuzz`: only the schemathesis run of `test`, against a fresh debug berth.
pub fn fuzz() -> Result<ExitCode> {
    daemon::stop_on_signals()?;
    deps::ensure()?;
    say!("building berth (debug)");
    status(cargo().args(["build", "-p", "berth"]))?;
    let daemon = daemon::start()?;
    images::ensure(&daemon.host)?;
    fuzz::run(&daemon.host, &target_dir()?.join("debug/berth"))?;
    Ok(ExitCode::SUCCESS)
}

/// `cargo xtask dockerd`: the private daemon and test image for running tests by hand
/// (e.g. one e2e test from an editor). Ctrl-C stops the daemon.
pub fn dockerd() -> Result<ExitCode> {
    daemon::stop_on_signals()?;
    deps::ensure()?;
    let daemon = daemon::start()?;
    images::ensure(&daemon.host)?;
    images::smoke_test(&daemon.host)?;
    let target = target_dir()?;

    say!("ready; the tests read these (BERTH_BIN needs `cargo build -p berth`,");
    say!("BERTH_UI_DIR needs `cargo xtask build`):");
    for (name, value) in test_env(&daemon.host, &target.join("ui"))? {
        println!("export {}={}", name, value.to_string_lossy());
    }
    say!("press Ctrl-C to stop the daemon");
    loop {
        thread::sleep(Duration::from_secs(5));
        if !daemon::answers(&daemon.host) {
            bail!("the daemon at {} stopped answering", daemon.host);
        }
    }
}

/// The variables the tests read. Each may be preset by the caller, who then wins.
fn test_env(host: &str, ui: &Path) -> Result<Vec<(&'static str, OsString)>> {
    let target = target_dir()?;
    let defaults: [(&str, OsString); 6] = [
        ("BERTH_TEST_DOCKER_HOST", host.into()),
        ("BERTH_TEST_IMAGE", images::TEST_IMAGE.into()),
        ("BERTH_BIN", target.join("debug/berth").into()),
        ("BERTH_CHROMEDRIVER", deps::CHROMEDRIVER.into()),
        ("BERTH_CHROMIUM", deps::CHROMIUM.into()),
        ("BERTH_UI_DIR", ui.into()),
    ];
    Ok(defaults
        .into_iter()
        .map(|(name, default)| (name, env::var_os(name).unwrap_or(default)))
        .collect())
}
