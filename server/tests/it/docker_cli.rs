//! The unmodified Debian `docker` CLI (20.10) and `docker-compose` 1.29 through berth's Docker
//! API endpoint (`DOCKER_HOST=tcp://127.0.0.1:PORT/docker/local`), each person with their own
//! token in `~/.docker/config.json`'s `HttpHeaders`: what a team's operator does every day
//! works, hijacked terminals included, and what they may not do is refused with the
//! daemon-style error the CLI prints.

use std::path::Path;
use std::process::{Command, Output, Stdio};

use reqwest::{Client, Method};
use serde_json::json;

use crate::registry_server::TestRegistry;
use crate::support::*;

/// Debian's docker CLI (a newer one may sit earlier in PATH).
const DOCKER: &str = "/usr/bin/docker";

/// A person's docker CLI pointed at berth with their token.
struct Cli {
    host: String,
    config: tempfile::TempDir,
}

impl Cli {
    async fn new(app: &TestApp, c: &Client) -> Cli {
        let (s, t) = send(
            c,
            Method::POST,
            &app.url("/api/tokens"),
            Some(json!({"name": "cli"})),
        )
        .await;
        assert_eq!(s, 201, "{t}");
        let config = tempfile::tempdir().unwrap();
        let token = t["token"].as_str().unwrap();
        std::fs::write(
            config.path().join("config.json"),
            json!({"HttpHeaders": {"Authorization": format!("Bearer {token}")}}).to_string(),
        )
        .unwrap();
        Cli {
            host: format!("tcp://127.0.0.1:{}/docker/local", app.port()),
            config,
        }
    }

    fn cmd(&self, program: &str) -> Command {
        let mut c = Command::new(program);
        c.env("DOCKER_HOST", &self.host)
            .env("DOCKER_CONFIG", self.config.path())
            .env("DOCKER_BUILDKIT", "0")
            .env_remove("DOCKER_TLS_VERIFY")
            .stdin(Stdio::null());
        c
    }

    fn run(&self, args: &[&str]) -> Output {
        self.cmd(DOCKER).args(args).output().expect("run docker")
    }

    /// Succeeds; its stdout.
    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "docker {args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Fails; its stderr (what the person reads).
    fn refused(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            !out.status.success(),
            "docker {args:?} should have been refused: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        String::from_utf8_lossy(&out.stderr).into_owned()
    }

    /// A command under a pseudo-terminal (`script`), fed `input` line by line after a pause;
    /// the terminal's output and the exit code.
    fn tty(&self, command: &str, input: &[&str]) -> (String, Option<i32>) {
        let mut child = self
            .cmd("script")
            .args(["-qec", command, "/dev/null"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("script");
        let mut stdin = child.stdin.take().unwrap();
        let lines: Vec<String> = input.iter().map(|s| s.to_string()).collect();
        let feeder = std::thread::spawn(move || {
            use std::io::Write;
            std::thread::sleep(std::time::Duration::from_secs(2));
            for l in lines {
                let _ = stdin.write_all(l.as_bytes());
                let _ = stdin.flush();
                std::thread::sleep(std::time::Duration::from_millis(800));
            }
            std::thread::sleep(std::time::Duration::from_secs(2));
        });
        let out = wait_bounded(child, 30);
        let _ = feeder.join();
        (
            String::from_utf8_lossy(&out.stdout).replace('\r', ""),
            out.status.code(),
        )
    }
}

/// Wait for a child at most `secs`, then kill it (by its own pid).
fn wait_bounded(mut child: std::process::Child, secs: u64) -> Output {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    loop {
        if child.try_wait().ok().flatten().is_some() || std::time::Instant::now() > deadline {
            let _ = child.kill();
            return child.wait_with_output().expect("output");
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

/// Remove what a test made by name, also when it fails.
struct Leftovers(Vec<(&'static str, String)>);

impl Drop for Leftovers {
    fn drop(&mut self) {
        for (kind, name) in &self.0 {
            let args: Vec<&str> = match *kind {
                "container" => vec!["rm", "-f", name],
                "network" => vec!["network", "rm", name],
                "volume" => vec!["volume", "rm", "-f", name],
                _ => vec!["rmi", "-f", name],
            };
            let _ = Command::new(DOCKER)
                .args(["-H", &docker_host()])
                .args(&args)
                .output();
        }
    }
}

fn compose(cli: &Cli, dir: &Path, project: &str, args: &[&str]) -> Output {
    cli.cmd("docker-compose")
        .current_dir(dir)
        .args(["-p", project])
        .args(args)
        .output()
        .expect("docker-compose")
}

#[tokio::test]
async fn an_operator_uses_the_docker_cli_through_berth() {
    let app = TestApp::start().await;
    let t = app.two_teams().await;
    let red = Cli::new(&app, &t.op_red).await;
    let image = test_image();
    let mut left = Leftovers(Vec::new());

    let v = red.ok(&["version", "--format", "{{.Server.APIVersion}}"]);
    assert!(v.trim().starts_with("1."), "the daemon's API version: {v}");

    // run -d, ps -a, logs -f -t, stats, exec, cp both ways.
    let name = unique("cli-run");
    left.0.push(("container", name.clone()));
    red.ok(&[
        "run",
        "-d",
        "--name",
        &name,
        &image,
        "sh",
        "-c",
        "i=0; while true; do echo line$i; i=$((i+1)); sleep 1; done",
    ]);
    assert!(red
        .ok(&["ps", "-a", "--format", "{{.Names}}"])
        .lines()
        .any(|l| l == name));
    let labels = daemon_inspect(&name).await["Config"]["Labels"].clone();
    assert_eq!(
        labels["berth.team"],
        t.red.as_str(),
        "made for the operator's team"
    );
    let logs = wait_bounded(
        red.cmd(DOCKER)
            .args(["logs", "-f", "-t", &name])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap(),
        3,
    );
    let logs = String::from_utf8_lossy(&logs.stdout);
    assert!(
        logs.lines().any(|l| l.contains("Z line0")),
        "followed with timestamps: {logs}"
    );
    let stats = red.ok(&[
        "stats",
        "--no-stream",
        "--format",
        "{{.Name}} {{.MemUsage}}",
        &name,
    ]);
    assert!(stats.starts_with(&name), "{stats}");
    assert_eq!(
        red.ok(&["exec", &name, "echo", "exec-ok"]).trim(),
        "exec-ok"
    );
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("in.txt"), "through berth").unwrap();
    red.ok(&[
        "cp",
        dir.path().join("in.txt").to_str().unwrap(),
        &format!("{name}:/tmp/in.txt"),
    ]);
    red.ok(&[
        "cp",
        &format!("{name}:/tmp/in.txt"),
        dir.path().join("out.txt").to_str().unwrap(),
    ]);
    assert_eq!(
        std::fs::read_to_string(dir.path().join("out.txt")).unwrap(),
        "through berth"
    );

    // run --rm with output; run -it through a terminal, with its exit code; exec -it.
    assert_eq!(
        red.ok(&["run", "--rm", &image, "echo", "hello-through-berth"])
            .trim(),
        "hello-through-berth"
    );
    let (out, code) = red.tty(
        &format!("{DOCKER} run -it --rm {image} sh"),
        &["echo typed-$((6*7))\n", "exit 3\n"],
    );
    assert!(out.contains("typed-42"), "the terminal echoes: {out}");
    assert_eq!(code, Some(3), "the exit code comes back: {out}");
    let (out, _) = red.tty(
        &format!("{DOCKER} exec -it {name} sh"),
        &["echo in-exec-$((2+3))\n", "exit\n"],
    );
    assert!(out.contains("in-exec-5"), "{out}");

    // attach, then ctrl-p ctrl-q: detached, still running.
    let attached = unique("cli-attach");
    left.0.push(("container", attached.clone()));
    red.ok(&["run", "-dit", "--name", &attached, &image, "sh"]);
    let _ = red.tty(&format!("{DOCKER} attach {attached}"), &["\u{10}\u{11}"]);
    assert_eq!(daemon_state(&attached).await.as_deref(), Some("running"));

    // build, images, tag, rmi.
    let ctx = tempfile::tempdir().unwrap();
    std::fs::write(
        ctx.path().join("Dockerfile"),
        format!("FROM {image}\nRUN echo built > /b\n"),
    )
    .unwrap();
    let repo = unique("cli-built");
    left.0.push(("image", format!("{repo}:1")));
    left.0.push(("image", format!("{repo}:2")));
    let built = red.ok(&[
        "build",
        "--force-rm",
        "-t",
        &format!("{repo}:1"),
        ctx.path().to_str().unwrap(),
    ]);
    assert!(built.contains("Successfully tagged"), "{built}");
    assert!(red.ok(&["images", "--no-trunc"]).contains(&repo));
    red.ok(&["tag", &format!("{repo}:1"), &format!("{repo}:2")]);
    assert!(red.ok(&["rmi", &format!("{repo}:2")]).contains("Untagged"));

    // pull and push against a registry.
    let registry = TestRegistry::start(false).await;
    let remote = format!("{}/{}:1", registry.host(), unique("cli-push"));
    left.0.push(("image", remote.clone()));
    red.ok(&["tag", &format!("{repo}:1"), &remote]);
    red.ok(&["push", &remote]);
    red.ok(&["rmi", &remote]);
    red.ok(&["pull", &remote]);

    // A network with a fixed address, a volume, system df.
    let net = unique("cli-net");
    left.0.push(("network", net.clone()));
    red.ok(&["network", "create", "--subnet", "172.30.231.0/24", &net]);
    let ip = red.ok(&[
        "run",
        "--rm",
        "--network",
        &net,
        "--ip",
        "172.30.231.9",
        &image,
        "ip",
        "-4",
        "addr",
        "show",
        "eth0",
    ]);
    assert!(ip.contains("172.30.231.9"), "{ip}");
    let vol = unique("cli-vol");
    left.0.push(("volume", vol.clone()));
    red.ok(&["volume", "create", &vol]);
    assert!(red.ok(&["system", "df"]).contains("Images"));

    // docker-compose up -d, ps, logs, down.
    let cdir = tempfile::tempdir().unwrap();
    std::fs::write(
        cdir.path().join("docker-compose.yml"),
        format!("services:\n  web:\n    image: {image}\n    command: [\"sh\", \"-c\", \"while true; do echo tick; sleep 1; done\"]\n"),
    )
    .unwrap();
    let project = unique("cliproj").replace('-', "");
    let up = compose(&red, cdir.path(), &project, &["up", "-d"]);
    assert!(
        up.status.success(),
        "{}",
        String::from_utf8_lossy(&up.stderr)
    );
    let ps = compose(&red, cdir.path(), &project, &["ps"]);
    assert!(String::from_utf8_lossy(&ps.stdout).contains(&format!("{project}_web_1")));
    std::thread::sleep(std::time::Duration::from_secs(2));
    let logs = compose(&red, cdir.path(), &project, &["logs", "--tail", "2"]);
    assert!(String::from_utf8_lossy(&logs.stdout).contains("tick"));
    let down = compose(&red, cdir.path(), &project, &["down"]);
    assert!(
        down.status.success(),
        "{}",
        String::from_utf8_lossy(&down.stderr)
    );

    // What was changed is in the audit log, as from the UI.
    let (_, audit) = app.get("/api/audit?limit=500").await;
    let actions: Vec<String> = audit
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            format!(
                "{} {}",
                r["action"].as_str().unwrap_or(""),
                r["target"].as_str().unwrap_or("")
            )
        })
        .collect();
    for want in [
        "create",
        "image_build",
        "image_push",
        "network_create",
        "volume_create",
    ] {
        assert!(
            actions.iter().any(|a| a.starts_with(want)),
            "{want} audited: {actions:?}"
        );
    }
    drop(registry);
}

#[tokio::test]
async fn what_a_person_may_not_do_is_refused_by_the_cli() {
    let app = TestApp::start().await;
    let t = app.two_teams().await;
    let red = Cli::new(&app, &t.op_red).await;
    let blue = Cli::new(&app, &t.op_blue).await;
    let viewer = Cli::new(&app, &t.viewer).await;
    let image = test_image();
    let mut left = Leftovers(Vec::new());

    // Blue's things.
    let theirs = unique("cli-blue");
    left.0.push(("container", theirs.clone()));
    let id = blue
        .ok(&["run", "-d", "--name", &theirs, &image, "sleep", "300"])
        .trim()
        .to_owned();
    let blue_net = unique("cli-bluenet");
    left.0.push(("network", blue_net.clone()));
    blue.ok(&["network", "create", &blue_net]);
    let blue_vol = unique("cli-bluevol");
    left.0.push(("volume", blue_vol.clone()));
    blue.ok(&["volume", "create", &blue_vol]);

    // Invisible to red, by id, prefix and name; absent from its lists.
    for reference in [id.as_str(), &id[..12], theirs.as_str()] {
        let err = red.refused(&["inspect", "--type", "container", reference]);
        assert!(err.contains("No such container"), "{reference}: {err}");
        let err = red.refused(&["stop", reference]);
        assert!(err.contains("No such container"), "{reference}: {err}");
    }
    assert!(!red.ok(&["ps", "-a"]).contains(&theirs));
    assert!(!red.ok(&["network", "ls"]).contains(&blue_net));
    assert!(!red.ok(&["volume", "ls"]).contains(&blue_vol));

    // Host powers and other teams' references.
    for (args, says) in [
        (
            vec!["run", "--rm", "--privileged", &image, "true"],
            "privileged",
        ),
        (
            vec!["run", "--rm", "-v", "/:/host", &image, "true"],
            "host path",
        ),
        (
            vec!["run", "--rm", "--network", "host", &image, "true"],
            "host",
        ),
        (
            vec!["run", "--rm", "--pid", "host", &image, "true"],
            "pid_mode",
        ),
        (
            vec!["run", "--rm", "--network", &blue_net, &image, "true"],
            "not found",
        ),
        (
            vec![
                "run",
                "--rm",
                "-v",
                &format!("{blue_vol}:/data"),
                &image,
                "true",
            ],
            &blue_vol,
        ),
        (
            vec!["exec", "--privileged", &theirs, "true"],
            "No such container",
        ),
        (
            vec![
                "plugin",
                "install",
                "--grant-all-permissions",
                "vieux/sshfs",
            ],
            "admin",
        ),
    ] {
        let err = red.refused(&args);
        assert!(err.contains(says), "{args:?}: {err}");
    }
    // A viewer reads but does not run.
    assert!(viewer.ok(&["ps", "-a"]).contains("CONTAINER ID"));
    let err = viewer.refused(&["run", "--rm", &image, "true"]);
    assert!(err.contains("operator"), "{err}");
    // Without a token: told what to do.
    let anonymous = Command::new(DOCKER)
        .env("DOCKER_HOST", &red.host)
        .env("DOCKER_CONFIG", tempfile::tempdir().unwrap().path())
        .args(["ps"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&anonymous.stderr).contains("HttpHeaders"));

    // Red's compose project cannot take blue's name.
    let cdir = tempfile::tempdir().unwrap();
    std::fs::write(
        cdir.path().join("docker-compose.yml"),
        format!("services:\n  web:\n    image: {image}\n    command: [\"sleep\", \"300\"]\n"),
    )
    .unwrap();
    let project = unique("cliblue").replace('-', "");
    left.0.push(("container", format!("{project}_web_1")));
    left.0.push(("network", format!("{project}_default")));
    let up = compose(&blue, cdir.path(), &project, &["up", "-d"]);
    assert!(
        up.status.success(),
        "{}",
        String::from_utf8_lossy(&up.stderr)
    );
    let up = compose(&red, cdir.path(), &project, &["up", "-d"]);
    assert!(!up.status.success(), "red joined blue's project");
    let _ = compose(&blue, cdir.path(), &project, &["down"]);
}
