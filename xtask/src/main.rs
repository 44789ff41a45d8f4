//! `cargo xtask`: berth's build, run, test and bench orchestration, in Rust so that it runs
//! wherever cargo does (the matklad xtask pattern). `cargo xtask help` lists the commands.

mod app_images;
mod bench;
mod daemon;
mod deps;
mod frontend;
mod fuzz;
mod hosts;
mod images;
mod run;
mod swarm;
mod test;

use std::{
    env,
    ffi::OsString,
    os::unix::process::ExitStatusExt,
    path::{Path, PathBuf},
    process::{Command, ExitCode, ExitStatus},
    sync::OnceLock,
};

use anyhow::{bail, Context, Result};

const USAGE: &str = "\
usage: cargo xtask <command>

  build            build the UI (wasm) and then target/release/berth, which embeds it
  ui               build only the UI into target/ui and print its sizes (gzip)
  run [-- FLAGS]   build, then run target/release/berth FLAGS; when no Docker daemon
                   answers: as root, start a private one for berth (stopped on exit),
                   otherwise print how to point berth at one
  test [-- ARGS]   install what the tests need, build, start a private dockerd, run
                   every test (ARGS go to the test binaries: names, --nocapture), stop it
  bench [--quick] [GROUP...]
                   build, then run the benchmarks against the private dockerd and
                   nginx; print the table and update BENCHMARKS.md. GROUPs: weight,
                   list, load, logs, exec, stats, files (default: all)
  template-images  (for developers) make the built-in templates' images (redis:7, nginx:stable, ...)
                   from Debian packages on BERTH_TEST_DOCKER_HOST, as `test` does; cached by tag
  fuzz             (for developers) schemathesis against a debug berth on the private
                   dockerd (or BERTH_TEST_DOCKER_HOST), as `test` runs it after the tests
  hosts [N]        (for developers) start N (default 2) more dockerds, each in a network
                   namespace with mutual TLS and sshd, write /tmp/bh/hosts.json
                   (BERTH_TEST_HOSTS), and wait; Ctrl-C stops them and deletes the namespaces
  swarm [--index N] [--prefix P]
                   (for developers) start a test Swarm: three dockerds in network namespaces
                   on one bridge, a manager and two workers, write /tmp/bs{N}/swarm.json
                   (BERTH_TEST_SWARM), and wait; Ctrl-C stops it. N (1-9, default 1) and P
                   (namespace prefix) let two clusters run side by side
  dockerd          (for developers) start the private dockerd and the test image, print
                   the variables tests read, and wait; Ctrl-C stops the daemon
";

/// Prints a progress line, prefixed so it stands out among cargo's and the tests' output.
macro_rules! say {
    ($($arg:tt)*) => { println!("xtask: {}", format_args!($($arg)*)) };
}
pub(crate) use say;

fn main() -> ExitCode {
    let args: Vec<String> = env::args().skip(1).collect();
    match dispatch(&args) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("xtask: error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn dispatch(args: &[String]) -> Result<ExitCode> {
    let (command, rest) = match args.split_first() {
        Some((command, rest)) => (command.as_str(), rest),
        None => ("help", &[][..]),
    };
    match command {
        "build" => {
            no_arguments(command, rest)?;
            build()?;
            Ok(ExitCode::SUCCESS)
        }
        "ui" => {
            no_arguments(command, rest)?;
            frontend::build_ui()?;
            Ok(ExitCode::SUCCESS)
        }
        "template-images" => {
            no_arguments(command, rest)?;
            let host = env::var("BERTH_TEST_DOCKER_HOST")
                .context("BERTH_TEST_DOCKER_HOST names the daemon to make the images on")?;
            app_images::ensure(&host)?;
            Ok(ExitCode::SUCCESS)
        }
        "run" => run::run(rest),
        "test" => test::run(rest),
        "bench" => bench::run(rest),
        "hosts" => hosts::run(rest),
        "swarm" => swarm::run(rest),
        "dockerd" => {
            no_arguments(command, rest)?;
            test::dockerd()
        }
        "fuzz" => {
            no_arguments(command, rest)?;
            test::fuzz()
        }
        "help" | "-h" | "--help" => {
            print!("{USAGE}");
            Ok(ExitCode::SUCCESS)
        }
        other => bail!("unknown command `{other}`\n\n{USAGE}"),
    }
}

fn no_arguments(command: &str, rest: &[String]) -> Result<()> {
    if !rest.is_empty() {
        bail!("`cargo xtask {command}` takes no arguments (got {rest:?})");
    }
    Ok(())
}

/// `cargo xtask build`: the UI first, because the server embeds `target/ui/` when it compiles.
pub(crate) fn build() -> Result<PathBuf> {
    let ui = frontend::build_ui()?;
    let grew = target_dir()?.join(frontend::UI_GREW);
    if grew.exists() {
        say!("the UI has new files; cleaning berth (release) so that it embeds them");
        status(cargo().args(["clean", "--release", "-p", "berth"]))?;
    }
    say!("building berth (release)");
    status(
        cargo()
            .args(["build", "--release", "-p", "berth"])
            .env("BERTH_UI_DIR", &ui),
    )?;
    let _ = std::fs::remove_file(&grew);
    let bin = target_dir()?.join("release/berth");
    say!("built {}", bin.display());
    Ok(bin)
}

/// The workspace root: xtask lives one level below it.
pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask is inside the workspace")
}

/// Cargo's target directory, honouring CARGO_TARGET_DIR and config files (asked of cargo
/// itself rather than guessed).
pub fn target_dir() -> Result<&'static Path> {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    if let Some(dir) = DIR.get() {
        return Ok(dir);
    }
    let out = cargo()
        .args(["metadata", "--format-version", "1", "--no-deps"])
        .output()
        .context("could not run `cargo metadata`")?;
    if !out.status.success() {
        bail!(
            "`cargo metadata` failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let meta: serde_json::Value =
        serde_json::from_slice(&out.stdout).context("`cargo metadata` printed invalid JSON")?;
    let dir = meta["target_directory"]
        .as_str()
        .context("`cargo metadata` gave no target_directory")?;
    Ok(DIR.get_or_init(|| PathBuf::from(dir)))
}

/// A `cargo` command run from the workspace root, using the cargo that runs us.
pub fn cargo() -> Command {
    let mut cmd = Command::new(env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo")));
    cmd.current_dir(root());
    cmd
}

/// Runs a command with inherited stdio and fails unless it succeeds.
pub fn status(cmd: &mut Command) -> Result<()> {
    let line = command_line(cmd);
    let status = cmd
        .status()
        .with_context(|| format!("could not start `{line}`"))?;
    if !status.success() {
        bail!("`{line}` failed ({status})");
    }
    Ok(())
}

/// The command as a person would type it, for messages.
pub fn command_line(cmd: &Command) -> String {
    std::iter::once(cmd.get_program())
        .chain(cmd.get_args())
        .map(|s| s.to_string_lossy())
        .collect::<Vec<_>>()
        .join(" ")
}

/// A child's exit status as our own: its code, or 128 + the signal that killed it, as a shell does.
pub fn exit_code(status: ExitStatus) -> ExitCode {
    let code = status
        .code()
        .or_else(|| status.signal().map(|sig| 128 + sig))
        .unwrap_or(1);
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}
