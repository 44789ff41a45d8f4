//! Git stacks with credentials against real servers on 127.0.0.1: `git http-backend`
//! behind a small CGI runner that asks for HTTP basic auth, and an `sshd` of its own (its
//! own config, host key and authorized_keys). A stack follows commits with the right token
//! or key; a wrong token is a failed poll naming the credentials; a changed host key is
//! refused until the stack is told to forget the old one. Secrets never come back.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};

use crate::git_stacks::{compose, container, git, until, wait_job, Cleanup};
use crate::support::*;
use e2e::gitserve::serve_http;

const TOKEN: &str = "SECRET-TOKEN-gitcreds-1";

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A bare repository `app.git` under `srv/` and a work tree to commit in.
struct Bare {
    tmp: tempfile::TempDir,
    work: PathBuf,
}

impl Bare {
    fn new() -> Bare {
        let tmp = tempfile::tempdir().unwrap();
        let base = tmp.path().join("srv");
        std::fs::create_dir(&base).unwrap();
        git(&base, &["init", "--bare", "-q", "app.git"]);
        let work = tmp.path().join("work");
        std::fs::create_dir_all(work.join("deploy")).unwrap();
        git(&work, &["init", "-q"]);
        Bare { tmp, work }
    }

    fn srv(&self) -> PathBuf {
        self.tmp.path().join("srv")
    }

    fn push(&self, compose: &str, message: &str) -> String {
        std::fs::write(self.work.join("deploy/compose.yml"), compose).unwrap();
        git(&self.work, &["add", "."]);
        git(
            &self.work,
            &["commit", "-q", "--allow-empty", "-m", message],
        );
        let bare = self.srv().join("app.git");
        git(&self.work, &["push", "-q", bare.to_str().unwrap(), "main"]);
        git(&self.work, &["rev-parse", "HEAD"])
    }
}

async fn pull(app: &TestApp, name: &str) -> Value {
    let (s, j) = app
        .call(Method::POST, &format!("/api/stacks/{name}/git/pull"), None)
        .await;
    assert_eq!(s, 202, "{j}");
    wait_job(&app.client, app, j["job"].as_str().unwrap()).await
}

#[tokio::test]
async fn a_git_stack_over_http_follows_commits_with_its_token_and_shows_a_wrong_one() {
    let repo = Bare::new();
    let first = repo.push(&compose("one"), "first");
    let url = serve_http(repo.srv(), "ci", TOKEN);
    let app = TestApp::start().await;
    let name = unique("gitcreds");
    let _clean = Cleanup(name.clone());
    let git = |creds: Value| json!({"name": name, "git": {"url": url, "path": "deploy/compose.yml", "credentials": creds}});

    // Without credentials, or with a wrong token: a 400 naming the credentials, nothing kept.
    for creds in [
        Value::Null,
        json!({"username": "ci", "token": "WRONG-TOKEN"}),
    ] {
        let got = app
            .call(Method::POST, "/api/stacks", Some(git(creds.clone())))
            .await;
        assert_error(&got, 400, "git_auth_failed");
        let m = got.1["error"]["message"].as_str().unwrap();
        assert!(m.contains("git.credentials"), "{creds}: {m}");
        assert!(!got.1.to_string().contains("WRONG-TOKEN"), "{}", got.1);
    }
    assert!(!app.data_dir().join("git").join(&name).exists());
    // Clear text off this machine is refused.
    let got = app
        .call(
            Method::POST,
            "/api/stacks",
            Some(json!({"name": name, "git": {"url": "http://192.0.2.1/app.git"}})),
        )
        .await;
    assert_error(&got, 400, "insecure_git_url");

    let (s, body) = app
        .call(
            Method::POST,
            "/api/stacks",
            Some(git(json!({"username": "ci", "token": TOKEN}))),
        )
        .await;
    assert_eq!(s, 201, "{body}");
    assert!(
        body.as_str()
            .unwrap_or_default()
            .contains("\"step\":\"done\""),
        "{body}"
    );
    let (_, env) = container(&format!("{name}_app_1")).await;
    assert!(env.contains(&"GREETING=one".to_string()), "{env:?}");
    let (_, d) = app.get(&format!("/api/stacks/{name}")).await;
    let g = &d["git"];
    assert_eq!(g["commit"], first, "{g:#}");
    assert_eq!(g["has_credentials"], true);
    assert_eq!(g["credentials_kind"], "token");
    assert_eq!(g["credentials_user"], "ci");
    assert!(!d.to_string().contains(TOKEN), "the token never comes back");

    // A new commit is followed with the stored token.
    let second = repo.push(&compose("two"), "say two");
    let j = pull(&app, &name).await;
    assert_eq!(j["state"], "succeeded", "{j:#}");
    until(&app, &name, 20, "the second commit runs", |g| {
        g["commit"] == second
    })
    .await;
    let (_, env) = container(&format!("{name}_app_1")).await;
    assert!(env.contains(&"GREETING=two".to_string()), "{env:?}");

    // A wrong token (the server's was rotated): the poll fails, shown on the stack.
    let (s, d) = app
        .call(
            Method::PATCH,
            &format!("/api/stacks/{name}/git"),
            Some(json!({"credentials": {"username": "ci", "password": "NOT-THE-TOKEN"}})),
        )
        .await;
    assert_eq!(s, 200, "{d}");
    assert_eq!(d["git"]["credentials_kind"], "password");
    repo.push(&compose("three"), "say three");
    let j = pull(&app, &name).await;
    assert_eq!(j["state"], "failed", "{j:#}");
    let g = until(&app, &name, 10, "the failed poll is recorded", |g| {
        g["last_result"] == "failed"
    })
    .await["git"]
        .clone();
    let err = g["error"].as_str().unwrap();
    assert!(err.contains("git.credentials"), "{err}");
    assert!(err.contains("refused the credentials"), "{err}");
    assert!(!g.to_string().contains("NOT-THE-TOKEN"), "{g}");
    assert_eq!(g["commit"], second, "the running commit stays");

    // The right token again: the poll deploys the third commit.
    let (s, _) = app
        .call(
            Method::PATCH,
            &format!("/api/stacks/{name}/git"),
            Some(json!({"credentials": {"username": "ci", "token": TOKEN}})),
        )
        .await;
    assert_eq!(s, 200);
    let j = pull(&app, &name).await;
    assert_eq!(j["state"], "succeeded", "{j:#}");
    let (_, env) = container(&format!("{name}_app_1")).await;
    assert!(env.contains(&"GREETING=three".to_string()), "{env:?}");
    let (s, _) = app
        .call(Method::DELETE, &format!("/api/stacks/{name}"), None)
        .await;
    assert_eq!(s, 200);
}

/// An sshd of the test's own on a free loopback port: its own config, host key and
/// authorized_keys; ended by its pid on drop.
struct Sshd {
    child: Child,
    port: u16,
}

impl Drop for Sshd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn keygen(path: &Path) -> String {
    let st = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", "gitcreds", "-f"])
        .arg(path)
        .status()
        .unwrap();
    assert!(st.success());
    std::fs::read_to_string(path).unwrap()
}

impl Sshd {
    async fn start(dir: &Path, host_key: &Path, port: u16) -> Sshd {
        let config = dir.join(format!("sshd_config_{port}"));
        std::fs::write(
            &config,
            format!(
                "Port {port}\nListenAddress 127.0.0.1\nHostKey {}\nAuthorizedKeysFile {}\n\
                 PasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\n\
                 StrictModes no\nPermitRootLogin prohibit-password\nPidFile none\n",
                host_key.display(),
                dir.join("authorized_keys").display()
            ),
        )
        .unwrap();
        let _ = std::fs::create_dir_all("/run/sshd");
        // Held by the guard at once, so a panic below still ends it.
        let sshd = Sshd {
            child: Command::new("/usr/sbin/sshd")
                .args(["-D", "-e", "-f"])
                .arg(&config)
                .stderr(Stdio::null())
                .spawn()
                .expect("sshd"),
            port,
        };
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                return sshd;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("sshd does not answer on {port}");
    }
}

#[tokio::test]
async fn a_git_stack_over_ssh_follows_a_commit_with_its_key_and_refuses_a_changed_host_key() {
    let repo = Bare::new();
    let first = repo.push(&compose("one"), "first");
    let keys = tempfile::tempdir().unwrap();
    let client_key = keygen(&keys.path().join("client"));
    std::fs::copy(
        keys.path().join("client.pub"),
        keys.path().join("authorized_keys"),
    )
    .unwrap();
    keygen(&keys.path().join("host1"));
    keygen(&keys.path().join("host2"));
    let port = free_port();
    let sshd = Sshd::start(keys.path(), &keys.path().join("host1"), port).await;
    let user = std::env::var("USER").unwrap_or_else(|_| "root".into());
    let url = format!(
        "ssh://{user}@127.0.0.1:{}{}",
        sshd.port,
        repo.srv().join("app.git").display()
    );
    let app = TestApp::start().await;
    let name = unique("gitcreds");
    let _clean = Cleanup(name.clone());

    // A key that is not authorized: refused naming the credentials.
    let stranger = keygen(&keys.path().join("stranger"));
    let got = app
        .call(
            Method::POST,
            "/api/stacks",
            Some(
                json!({"name": name, "git": {"url": url, "path": "deploy/compose.yml",
                        "credentials": {"ssh_key": stranger}}}),
            ),
        )
        .await;
    assert_error(&got, 400, "git_auth_failed");
    assert!(
        got.1["error"]["message"]
            .as_str()
            .unwrap()
            .contains("git.credentials"),
        "{}",
        got.1
    );

    let (s, body) = app
        .call(
            Method::POST,
            "/api/stacks",
            Some(
                json!({"name": name, "git": {"url": url, "path": "deploy/compose.yml",
                        "credentials": {"ssh_key": client_key}}}),
            ),
        )
        .await;
    assert_eq!(s, 201, "{body}");
    let (_, d) = app.get(&format!("/api/stacks/{name}")).await;
    let g = &d["git"];
    assert_eq!(g["commit"], first, "{g:#}");
    assert_eq!(g["credentials_kind"], "ssh_key");
    let host1 = std::fs::read_to_string(keys.path().join("host1.pub")).unwrap();
    let host1_key = host1.split_whitespace().nth(1).unwrap();
    assert!(
        g["host_keys"].as_str().unwrap().contains(host1_key),
        "the host key seen first is kept: {g:#}"
    );
    assert!(
        !d.to_string().contains("PRIVATE KEY"),
        "the key never comes back"
    );

    let second = repo.push(&compose("two"), "say two");
    let j = pull(&app, &name).await;
    assert_eq!(j["state"], "succeeded", "{j:#}");
    let (_, env) = container(&format!("{name}_app_1")).await;
    assert!(env.contains(&"GREETING=two".to_string()), "{env:?}");
    let (_, d) = app.get(&format!("/api/stacks/{name}")).await;
    assert_eq!(d["git"]["commit"], second);

    // The server comes back with another host key: refused, shown, the old commit runs.
    drop(sshd);
    let sshd = Sshd::start(keys.path(), &keys.path().join("host2"), port).await;
    repo.push(&compose("three"), "say three");
    let j = pull(&app, &name).await;
    assert_eq!(j["state"], "failed", "{j:#}");
    let (_, d) = app.get(&format!("/api/stacks/{name}")).await;
    let err = d["git"]["error"].as_str().unwrap_or_default().to_owned();
    assert!(err.contains("host key"), "{err}");
    assert!(err.contains("reset_host_key"), "says what to do: {err}");
    assert_eq!(d["git"]["commit"], second);

    // Told the change is expected, the stack learns the new key and follows again.
    let (s, d) = app
        .call(
            Method::PATCH,
            &format!("/api/stacks/{name}/git"),
            Some(json!({"reset_host_key": true})),
        )
        .await;
    assert_eq!(s, 200, "{d}");
    let j = pull(&app, &name).await;
    assert_eq!(j["state"], "succeeded", "{j:#}");
    let (_, env) = container(&format!("{name}_app_1")).await;
    assert!(env.contains(&"GREETING=three".to_string()), "{env:?}");
    let (_, d) = app.get(&format!("/api/stacks/{name}")).await;
    let host2 = std::fs::read_to_string(keys.path().join("host2.pub")).unwrap();
    assert!(d["git"]["host_keys"]
        .as_str()
        .unwrap()
        .contains(host2.split_whitespace().nth(1).unwrap()));

    // A known_hosts given with the key is the only trust: a wrong one is refused.
    let (s, _) = app
        .call(
            Method::PATCH,
            &format!("/api/stacks/{name}/git"),
            Some(json!({"credentials": {"ssh_key": client_key,
                        "known_hosts": format!("[127.0.0.1]:{port} {}", host1.trim())}})),
        )
        .await;
    assert_eq!(s, 200);
    let j = pull(&app, &name).await;
    assert_eq!(j["state"], "failed", "{j:#}");
    drop(sshd);
    let (s, _) = app
        .call(Method::DELETE, &format!("/api/stacks/{name}"), None)
        .await;
    assert_eq!(s, 200);
}
