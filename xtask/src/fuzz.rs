//! schemathesis against the running berth's own `/api/openapi.json`: generated requests,
//! valid and invalid, for every described route, and not one may get a 5xx. Part of
//! `cargo xtask test`, after the integration tests and on the same daemon; alone it is
//! `cargo xtask fuzz`.
//!
//! Two passes share one berth (its own data dir, so its users, shares and registries are
//! throwaway):
//! - as **admin** (a token): users, teams, tokens, audit, auth, shares, registries and the
//!   system routes. These only reach berth's database or read the daemon.
//! - as an **operator of a team of its own** (a token): containers, images, networks,
//!   volumes, stacks. Generated ids like `a` or `0` are prefixes of real ids, and the
//!   daemon is shared with other tests (and, while developing, with other people's): as
//!   this operator, everything not made by the run is another team's and refused, so the
//!   fuzzer can hit every route that changes things without touching what it did not make.
//!   What it made carries its team's label and is removed at the end.
//!
//! Left out, and why (`EXCLUDED`): what would send traffic off this machine (pull, push,
//! build, creating a stack, which pulls what the file names, a registry's catalog and tag
//! deletion, which call the URL a generated registry names), what changes the daemon for
//! everyone (image removal and tagging: images have no team; system prune, which as admin
//! removes other tests' things), what writes to host folders (a share's upload, mkdir,
//! rename and delete: an admin may share `/`), and logout.

use std::{
    fs,
    io::{Read, Write},
    net::{TcpListener, TcpStream},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    thread,
    time::{Duration, Instant},
};

use anyhow::{bail, Context, Result};

use crate::{command_line, say, status, target_dir};

/// The schemathesis release the run is pinned to (its CLI changed between majors).
const SCHEMATHESIS: &str = "schemathesis==4.32.5";
const ADMIN_PASSWORD: &str = "fuzz-admin-password";
const OPERATOR_PASSWORD: &str = "fuzz-operator-password";

/// Operations left out (`METHOD /path`, as schemathesis names them), with why.
const EXCLUDED: &[(&str, &str)] = &[
    ("POST /api/auth/logout", "ends the caller's sessions"),
    (
        "POST /api/system/prune",
        "as admin, removes other tests' containers, images, networks and volumes",
    ),
    (
        "GET /api/registries/{id}/catalog",
        "calls the URL a generated registry names: off this machine",
    ),
    (
        "DELETE /api/registries/{id}/tags",
        "calls the URL a generated registry names: off this machine",
    ),
    (
        "PUT /api/shares/{name}/upload",
        "writes into a host folder (an admin may share /)",
    ),
    ("POST /api/shares/{name}/mkdir", "writes into a host folder"),
    (
        "POST /api/shares/{name}/rename",
        "writes into a host folder",
    ),
    (
        "DELETE /api/shares/{name}/files",
        "deletes in a host folder",
    ),
    (
        "POST /api/images/pull",
        "reaches registries off this machine",
    ),
    (
        "POST /api/images/push",
        "reaches registries off this machine",
    ),
    (
        "POST /api/images/build",
        "pulls base images (pull=true) and runs generated Dockerfiles",
    ),
    (
        "POST /api/stacks",
        "deploying a generated compose file pulls the images it names",
    ),
    (
        "DELETE /api/images/{id}",
        "images have no team: would remove images other tests run",
    ),
    (
        "POST /api/images/remove",
        "images have no team: would remove images other tests run",
    ),
    (
        "POST /api/images/{id}/tag",
        "images have no team: would tag images other tests use",
    ),
];

/// The tags each pass covers.
const ADMIN_TAGS: &str = "^(auth|users|tokens|audit|shares|registries|system)$";
const OPERATOR_TAGS: &str = "^(containers|images|networks|volumes|stacks)$";

/// Install schemathesis (once), start berth against `docker_host`, run both passes.
pub fn run(docker_host: &str, berth_bin: &Path) -> Result<()> {
    let st = install()?;
    let started = Instant::now();
    let berth = Berth::start(berth_bin, docker_host)?;
    let admin = berth.token("admin", ADMIN_PASSWORD)?;
    let team = format!("fuzz-{}", std::process::id());
    berth.admin_json(
        &admin,
        "POST",
        "/api/teams",
        &format!(r#"{{"name":"{team}"}}"#),
    )?;
    let user = format!("{team}-op");
    berth.admin_json(
        &admin,
        "POST",
        "/api/users",
        &format!(
            r#"{{"username":"{user}","password":"{OPERATOR_PASSWORD}","role":"operator","teams":["{team}"]}}"#
        ),
    )?;
    let operator = berth.token(&user, OPERATOR_PASSWORD)?;

    let hooks = target_dir()?.join("schemathesis-hooks.py");
    fs::write(&hooks, HOOKS)?;
    let passes = [
        ("admin", ADMIN_TAGS, &admin),
        ("operator", OPERATOR_TAGS, &operator),
    ];
    let mut failed = Vec::new();
    for (who, tags, token) in passes {
        say!("schemathesis as {who} on the routes tagged {tags}");
        let mut cmd = schemathesis(&st, &hooks, &berth, token, tags);
        say!(
            "running {}",
            command_line(&cmd).replace(token.as_str(), "TOKEN")
        );
        match cmd.status() {
            Ok(s) if s.success() => {}
            Ok(s) => failed.push(format!("as {who}: {s}")),
            Err(e) => failed.push(format!("as {who}: could not start schemathesis: {e}")),
        }
    }
    clean_up(docker_host, &team);
    say!("schemathesis took {} s", started.elapsed().as_secs());
    if !failed.is_empty() {
        let log = berth.log.display().to_string();
        drop(berth);
        bail!(
            "schemathesis found server errors ({}); berth's log: {log}",
            failed.join("; ")
        );
    }
    Ok(())
}

/// A virtualenv under the target dir with schemathesis in it; made once, reused after.
fn install() -> Result<PathBuf> {
    let venv = target_dir()?.join("schemathesis-venv");
    let st = venv.join("bin/st");
    let marker = venv.join("berth-installed");
    if st.exists() && fs::read_to_string(&marker).is_ok_and(|m| m == SCHEMATHESIS) {
        return Ok(st);
    }
    say!("installing {SCHEMATHESIS} into {}", venv.display());
    // Debian's python3 (python3-venv brings ensurepip, see deps.rs), not whatever is
    // first on PATH.
    status(
        Command::new("/usr/bin/python3")
            .args(["-m", "venv", "--clear"])
            .arg(&venv),
    )?;
    status(Command::new(venv.join("bin/pip")).args([
        "install",
        "--quiet",
        "--disable-pip-version-check",
        SCHEMATHESIS,
    ]))?;
    fs::write(&marker, SCHEMATHESIS)?;
    Ok(st)
}

/// schemathesis has no serializer for `application/x-tar` (tar uploads, image loads,
/// build contexts): it sends the generated bytes as it does for octet-stream.
const HOOKS: &str = "import schemathesis\n\
schemathesis.serializer.alias(\"application/x-tar\", \"application/octet-stream\")\n";

fn schemathesis(st: &Path, hooks: &Path, berth: &Berth, token: &str, tags: &str) -> Command {
    let mut cmd = Command::new(st);
    // Its cache (.schemathesis/) goes beside the hooks, in the target dir, not the tree.
    if let Some(dir) = hooks.parent() {
        cmd.current_dir(dir);
    }
    cmd.arg("run")
        .arg(format!("{}/api/openapi.json", berth.base))
        .args(["--url", &berth.base])
        .args(["--checks", "not_a_server_error"])
        .args(["--header", &format!("Authorization: Bearer {token}")])
        .args(["--include-tag-regex", tags])
        // Bounded: a few examples per operation, each request at most 20 s, and the run
        // as a whole in about two minutes on two cores.
        .args(["--phases", "examples,coverage,fuzzing"])
        .args(["--max-examples", "60"])
        .args(["--request-timeout", "20"])
        // One worker: Debian 12's Python 3.11.2 fails "AST constructor recursion depth
        // mismatch" when hypothesis describes strategies in several threads at once.
        .args(["--workers", "1"])
        .args(["--seed", "12"])
        .args(["--suppress-health-check", "all"])
        .args(["--no-shrink"])
        .args(["--warnings", "off"])
        .env("SCHEMATHESIS_HOOKS", hooks)
        .env("NO_COLOR", "1");
    for (name, _) in EXCLUDED {
        cmd.args(["--exclude-name", name]);
    }
    cmd
}

/// Remove what the operator pass made: everything carrying its team's label.
fn clean_up(docker_host: &str, team: &str) {
    let label = format!("label=berth.team={team}");
    let docker = |args: &[&str]| -> Vec<String> {
        Command::new("docker")
            .args(["-H", docker_host])
            .args(args)
            .stderr(Stdio::null())
            .output()
            .map(|o| {
                String::from_utf8_lossy(&o.stdout)
                    .split_whitespace()
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    };
    for (list, remove) in [
        (&["ps", "-aq", "--filter"][..], &["rm", "-f", "-v"][..]),
        (
            &["network", "ls", "-q", "--filter"][..],
            &["network", "rm"][..],
        ),
        (
            &["volume", "ls", "-q", "--filter"][..],
            &["volume", "rm", "-f"][..],
        ),
    ] {
        let mut args = list.to_vec();
        args.push(&label);
        let ids = docker(&args);
        if !ids.is_empty() {
            let mut rm: Vec<&str> = remove.to_vec();
            rm.extend(ids.iter().map(String::as_str));
            docker(&rm);
        }
    }
}

/// A berth of the fuzz run's own: its data dir, a free loopback port, its log in a file.
struct Berth {
    base: String,
    addr: String,
    child: Child,
    log: PathBuf,
    _data: TempDir,
}

impl Berth {
    fn start(bin: &Path, docker_host: &str) -> Result<Berth> {
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let addr = format!("127.0.0.1:{port}");
        let data = TempDir::new()?;
        let log = target_dir()?.join("schemathesis-berth.log");
        let child = Command::new(bin)
            .args(["--listen", &addr, "--docker-host", docker_host])
            .arg("--data-dir")
            .arg(&data.0)
            .env("BERTH_ADMIN_PASSWORD", ADMIN_PASSWORD)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(fs::File::create(&log)?)
            .spawn()
            .with_context(|| format!("could not start {}", bin.display()))?;
        let berth = Berth {
            base: format!("http://{addr}"),
            addr,
            child,
            log,
            _data: data,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while !matches!(
            berth.request("GET", "/api/health", &[], ""),
            Ok((200, _, _))
        ) {
            if Instant::now() > deadline {
                bail!("berth did not answer /api/health within 20 s");
            }
            thread::sleep(Duration::from_millis(100));
        }
        Ok(berth)
    }

    /// Log in and make an API token: schemathesis sends it on every request.
    fn token(&self, user: &str, password: &str) -> Result<String> {
        let login = format!(r#"{{"username":"{user}","password":"{password}"}}"#);
        let (code, headers, _) = self.request("POST", "/api/auth/login", &[], &login)?;
        if code != 200 {
            bail!("login as {user}: {code}");
        }
        let cookie = headers
            .lines()
            .find_map(|l| {
                let (name, value) = l.split_once(':')?;
                name.eq_ignore_ascii_case("set-cookie")
                    .then(|| value.trim().split(';').next().unwrap_or("").to_owned())
            })
            .context("login set no cookie")?;
        let (code, _, body) = self.request(
            "POST",
            "/api/tokens",
            &[("Cookie", &cookie)],
            r#"{"name":"schemathesis"}"#,
        )?;
        if code != 201 {
            bail!("a token for {user}: {code} {body}");
        }
        let token: serde_json::Value = serde_json::from_str(&body)?;
        token["token"]
            .as_str()
            .map(str::to_owned)
            .context("no token in the answer")
    }

    fn admin_json(&self, token: &str, method: &str, path: &str, body: &str) -> Result<()> {
        let auth = format!("Bearer {token}");
        let (code, _, text) = self.request(method, path, &[("Authorization", &auth)], body)?;
        if !(200..300).contains(&code) {
            bail!("{method} {path}: {code} {text}");
        }
        Ok(())
    }

    /// One HTTP/1.1 request on its own connection: status, header block, body. Written by
    /// hand: three requests to a loopback server do not justify an HTTP client in xtask.
    fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> Result<(u16, String, String)> {
        let mut s = TcpStream::connect(&self.addr)?;
        s.set_read_timeout(Some(Duration::from_secs(30)))?;
        let mut req = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n",
            self.addr
        );
        for (k, v) in headers {
            req.push_str(&format!("{k}: {v}\r\n"));
        }
        if !body.is_empty() {
            req.push_str(&format!(
                "Content-Type: application/json\r\nContent-Length: {}\r\n",
                body.len()
            ));
        }
        req.push_str("\r\n");
        req.push_str(body);
        s.write_all(req.as_bytes())?;
        let mut raw = Vec::new();
        s.read_to_end(&mut raw)?;
        let text = String::from_utf8_lossy(&raw).into_owned();
        let (head, rest) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
        let code = head
            .split_whitespace()
            .nth(1)
            .and_then(|c| c.parse().ok())
            .context("not an HTTP answer")?;
        Ok((code, head.to_owned(), rest.to_owned()))
    }
}

impl Drop for Berth {
    fn drop(&mut self) {
        // Our own child, by its pid.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A directory removed on drop (xtask has no tempfile dependency).
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Result<TempDir> {
        let dir = std::env::temp_dir().join(format!("berth-fuzz-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir)?;
        Ok(TempDir(dir))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}
