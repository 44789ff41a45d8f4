//! Git-backed stacks (issue 16): the repository of a stack is a bare clone in the data dir,
//! fetched with gix (no `git` binary), and the tree of the commit a ref names is written into
//! a folder the stack engine deploys from. Everything here is blocking; callers run it on a
//! blocking thread and give it an interrupt flag they raise on a timeout.

use std::any::Any;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};

use anyhow::{anyhow, bail, Context};

/// The commit a fetch found for a ref: its full id and the first line of its message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetched {
    pub commit: String,
    pub summary: String,
}

/// How a fetch authenticates. HTTP(S) takes `basic` (a user and a token or password); ssh
/// takes a private key and always a known-hosts file: either the one the user gave
/// (`strict`: only its keys are trusted) or the stack's own, which learns the first key a
/// server shows and refuses a different one later (trust on first use).
#[derive(Default)]
pub struct Access {
    pub basic: Option<(String, String)>,
    pub ssh_key: Option<String>,
    pub known_hosts: Option<KnownHosts>,
}

pub struct KnownHosts {
    pub file: PathBuf,
    pub strict: bool,
}

impl std::fmt::Debug for Access {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Access")
            .field("basic", &self.basic.as_ref().map(|(u, _)| u))
            .field("ssh_key", &self.ssh_key.is_some())
            .finish()
    }
}

/// A shell word: gix runs `core.sshCommand` through `sh -c`, as git does.
fn sh_quote(p: &Path) -> String {
    format!("'{}'", p.display().to_string().replace('\'', "'\\''"))
}

/// The ssh command line for a fetch: only the given key (`IdentitiesOnly`, no agent), no
/// user or system ssh config, no prompt (`BatchMode`), host keys from the stack's file only.
fn ssh_command(key: Option<&Path>, known: &KnownHosts) -> String {
    let mut cmd = String::from(
        "ssh -F /dev/null -o BatchMode=yes -o ConnectTimeout=20 -o GlobalKnownHostsFile=/dev/null",
    );
    match key {
        Some(k) => {
            cmd += &format!(
                " -o IdentitiesOnly=yes -o IdentityAgent=none -i {}",
                sh_quote(k)
            )
        }
        None => cmd += " -o IdentitiesOnly=yes -o IdentityAgent=none -o IdentityFile=none",
    }
    cmd += &format!(
        " -o UserKnownHostsFile={} -o StrictHostKeyChecking={}",
        sh_quote(&known.file),
        if known.strict { "yes" } else { "accept-new" }
    );
    cmd
}

/// gix's HTTP client trusts the webpki roots (Mozilla's list), nothing from the host.
fn http_options(repo: &gix::Repository, url: &str) -> anyhow::Result<Option<Box<dyn Any>>> {
    use gix_transport::client::blocking_io::http;
    let Some(mut opts) = repo
        .transport_options(url, None)
        .map_err(|e| anyhow!("transport options: {e}"))?
    else {
        return Ok(None);
    };
    if let Some(o) = opts.downcast_mut::<http::Options>() {
        let roots = rustls::RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        };
        let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .map_err(|e| anyhow!("TLS: {e}"))?
        .with_root_certificates(roots)
        .with_no_client_auth();
        let configure: Box<http::reqwest::ConfigureClientFn> =
            Box::new(move |b| Ok(b.tls_backend_preconfigured(tls.clone())));
        o.backend = Some(Arc::new(Mutex::new(http::reqwest::Options {
            configure_client: Some(configure),
            configure_request: None,
        })));
    }
    Ok(Some(opts))
}

/// Fetches `url` into the bare repository `repo_dir` (made on first use) and resolves `refname`
/// (a branch, a tag or a full ref name) to a commit. Branches are kept as
/// `refs/remotes/origin/*`, tags as `refs/tags/*`, both forced so a rewritten branch is followed.
pub fn fetch(
    repo_dir: &Path,
    url: &str,
    refname: &str,
    access: &Access,
    interrupt: &AtomicBool,
) -> anyhow::Result<Fetched> {
    let mut repo = if repo_dir.join("HEAD").exists() {
        gix::open(repo_dir).map_err(|e| anyhow!("cannot open {}: {e}", repo_dir.display()))?
    } else {
        std::fs::create_dir_all(repo_dir)
            .with_context(|| format!("cannot create {}", repo_dir.display()))?;
        gix::init_bare(repo_dir).map_err(|e| anyhow!("cannot create a repository: {e}"))?
    };
    // The key lives in a 0600 file (tempfile's default mode) only while ssh runs.
    let key_file = match &access.ssh_key {
        Some(k) => {
            let mut f = tempfile::NamedTempFile::new().context("key file")?;
            let mut text = k.trim().replace("\r\n", "\n");
            text.push('\n');
            f.write_all(text.as_bytes()).context("key file")?;
            f.flush().context("key file")?;
            Some(f)
        }
        None => None,
    };
    if let Some(known) = &access.known_hosts {
        let cmd = ssh_command(key_file.as_ref().map(|f| f.path()), known);
        let mut config = repo.config_snapshot_mut();
        config
            .set_raw_value(gix::config::tree::Core::SSH_COMMAND, cmd.as_str())
            .map_err(|e| anyhow!("ssh command: {e}"))?;
        config
            .set_raw_value(gix::config::tree::Ssh::VARIANT, "ssh")
            .map_err(|e| anyhow!("ssh variant: {e}"))?;
        config.commit().map_err(|e| anyhow!("ssh config: {e}"))?;
    }
    let remote = repo
        .remote_at(url)
        .map_err(|e| anyhow!("{url:?} is not a repository URL: {e}"))?
        .with_refspecs(
            [
                "+refs/heads/*:refs/remotes/origin/*",
                "+refs/tags/*:refs/tags/*",
            ],
            gix::remote::Direction::Fetch,
        )
        .map_err(|e| anyhow!("refspec: {e}"))?;
    let mut connection = remote
        .connect(gix::remote::Direction::Fetch)
        .map_err(|e| anyhow!("cannot reach {url}: {e}"))?;
    if let Some(opts) = http_options(&repo, url)? {
        connection.set_transport_options(opts);
    }
    // Only what the stack holds: never the server's credential helpers, never a prompt.
    let basic = access.basic.clone();
    connection.set_credentials(move |action| match (&action, &basic) {
        (gix::credentials::helper::Action::Get(ctx), Some((user, pass))) => {
            Ok(Some(gix::credentials::protocol::Outcome {
                credentials: gix::sec::identity::Credentials::UsernamePassword {
                    username: user.clone(),
                    password: pass.clone(),
                    oauth_refresh_token: None,
                },
                next: ctx.clone().into(),
            }))
        }
        _ => Ok(None),
    });
    connection
        .prepare_fetch(gix::progress::Discard, Default::default())
        .map_err(|e| anyhow!("cannot list the refs of {url}: {e:#}"))?
        .receive(gix::progress::Discard, interrupt)
        .map_err(|e| anyhow!("fetching {url} failed: {e:#}"))?;
    drop(key_file);
    resolve(&repo, refname)
}

/// The commit `refname` names in the fetched repository.
fn resolve(repo: &gix::Repository, refname: &str) -> anyhow::Result<Fetched> {
    let candidates = [
        format!("refs/remotes/origin/{refname}"),
        format!("refs/tags/{refname}"),
        refname.strip_prefix("refs/heads/").map_or_else(
            || refname.to_string(),
            |b| format!("refs/remotes/origin/{b}"),
        ),
    ];
    for name in &candidates {
        let Ok(Some(reference)) = repo.try_find_reference(name.as_str()) else {
            continue;
        };
        let commit = reference
            .into_fully_peeled_id()
            .map_err(|e| anyhow!("{refname}: {e}"))?
            .object()
            .map_err(|e| anyhow!("{refname}: {e}"))?
            .peel_to_commit()
            .map_err(|e| anyhow!("{refname} does not name a commit: {e}"))?;
        let summary = commit
            .message()
            .map(|m| m.summary().to_string())
            .unwrap_or_default();
        return Ok(Fetched {
            commit: commit.id.to_string(),
            summary,
        });
    }
    bail!("the repository has no branch or tag {refname:?}")
}

/// Writes the tree of `commit` into `dest` (which must not exist yet): files, executable bits
/// and symbolic links; submodules are skipped. Names that could leave the folder are refused.
pub fn checkout(repo_dir: &Path, commit: &str, dest: &Path) -> anyhow::Result<()> {
    let repo =
        gix::open(repo_dir).map_err(|e| anyhow!("cannot open {}: {e}", repo_dir.display()))?;
    let id = gix::ObjectId::from_hex(commit.as_bytes()).context("commit id")?;
    let tree = repo
        .find_commit(id)
        .map_err(|e| anyhow!("commit {commit}: {e}"))?
        .tree()
        .map_err(|e| anyhow!("tree of {commit}: {e}"))?;
    std::fs::create_dir(dest).with_context(|| format!("cannot create {}", dest.display()))?;
    write_tree(&repo, tree.id, dest)
}

fn write_tree(repo: &gix::Repository, tree: gix::ObjectId, dest: &Path) -> anyhow::Result<()> {
    let object = repo
        .find_object(tree)
        .map_err(|e| anyhow!("tree {tree}: {e}"))?;
    let tree = object.into_tree();
    let decoded = tree
        .decode()
        .map_err(|e| anyhow!("tree {}: {e}", tree.id))?;
    for entry in &decoded.entries {
        let name = std::str::from_utf8(entry.filename)
            .map_err(|_| anyhow!("a file name in the repository is not UTF-8"))?;
        if name.is_empty() || name == "." || name == ".." || name.contains(['/', '\\', '\0']) {
            bail!("the repository holds a file named {name:?}, which berth does not check out");
        }
        let path = dest.join(name);
        let oid = entry.oid.to_owned();
        if entry.mode.is_tree() {
            std::fs::create_dir(&path)?;
            write_tree(repo, oid, &path)?;
        } else if entry.mode.is_link() {
            let target = repo.find_object(oid).map_err(|e| anyhow!("{name}: {e}"))?;
            let target = std::str::from_utf8(&target.data)
                .map_err(|_| anyhow!("the link {name} is not UTF-8"))?;
            std::os::unix::fs::symlink(target, &path)?;
        } else if entry.mode.is_blob() {
            let blob = repo.find_object(oid).map_err(|e| anyhow!("{name}: {e}"))?;
            std::fs::write(&path, &blob.data)?;
            if entry.mode.is_executable() {
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    fn git(dir: &Path, args: &[&str]) {
        let status = Command::new("git")
            .args([
                "-c",
                "user.name=t",
                "-c",
                "user.email=t@t",
                "-c",
                "init.defaultBranch=main",
            ])
            .args(args)
            .current_dir(dir)
            .status()
            .unwrap();
        assert!(status.success(), "git {args:?}");
    }

    /// git-daemon on a free loopback port serving `base`, stopped by pid on drop.
    struct Daemon(std::process::Child);
    impl Drop for Daemon {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }

    fn free_port() -> u16 {
        std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    }

    #[test]
    fn follows_commits_pushed_to_a_git_daemon() {
        let tmp = tempfile::tempdir().unwrap();
        let base = tmp.path().join("srv");
        std::fs::create_dir(&base).unwrap();
        git(&base, &["init", "--bare", "-q", "app.git"]);
        let work = tmp.path().join("work");
        std::fs::create_dir(&work).unwrap();
        git(&work, &["init", "-q"]);
        std::fs::create_dir(work.join("deploy")).unwrap();
        std::fs::write(
            work.join("deploy/compose.yml"),
            "services: {a: {image: x}}\n",
        )
        .unwrap();
        git(&work, &["add", "."]);
        git(&work, &["commit", "-q", "-m", "first version"]);
        git(&work, &["tag", "v1"]);
        let bare = base.join("app.git");
        let bare = bare.to_str().unwrap();
        git(&work, &["push", "-q", bare, "main", "v1"]);

        let port = free_port();
        // git-daemon itself (not the `git daemon` wrapper, whose child would outlive a kill).
        let exec_path = Command::new("git")
            .arg("--exec-path")
            .output()
            .unwrap()
            .stdout;
        let exec_path = String::from_utf8(exec_path).unwrap();
        let daemon = Daemon(
            Command::new(Path::new(exec_path.trim()).join("git-daemon"))
                .args([
                    "--reuseaddr",
                    "--export-all",
                    "--listen=127.0.0.1",
                    &format!("--port={port}"),
                    &format!("--base-path={}", base.display()),
                ])
                .spawn()
                .unwrap(),
        );
        let url = format!("git://127.0.0.1:{port}/app.git");
        let repo_dir = tmp.path().join("clone");
        let stop = AtomicBool::new(false);
        let mut first = None;
        for _ in 0..50 {
            match fetch(&repo_dir, &url, "main", &Access::default(), &stop) {
                Ok(f) => {
                    first = Some(f);
                    break;
                }
                Err(_) => std::thread::sleep(std::time::Duration::from_millis(100)),
            }
        }
        let first = first.expect("the daemon answers");
        assert_eq!(first.summary, "first version");
        checkout(&repo_dir, &first.commit, &tmp.path().join("out1")).unwrap();
        assert_eq!(
            std::fs::read_to_string(tmp.path().join("out1/deploy/compose.yml")).unwrap(),
            "services: {a: {image: x}}\n"
        );

        std::fs::write(
            work.join("deploy/compose.yml"),
            "services: {b: {image: y}}\n",
        )
        .unwrap();
        git(&work, &["commit", "-q", "-am", "second version"]);
        git(&work, &["push", "-q", bare, "main"]);
        let second = fetch(&repo_dir, &url, "main", &Access::default(), &stop).unwrap();
        assert_eq!(second.summary, "second version");
        assert_ne!(second.commit, first.commit);
        checkout(&repo_dir, &second.commit, &tmp.path().join("out2")).unwrap();
        assert_eq!(
            std::fs::read_to_string(tmp.path().join("out2/deploy/compose.yml")).unwrap(),
            "services: {b: {image: y}}\n"
        );
        // The tag still names the first commit.
        assert_eq!(
            fetch(&repo_dir, &url, "v1", &Access::default(), &stop).unwrap(),
            first
        );

        let err = fetch(&repo_dir, &url, "nope", &Access::default(), &stop).unwrap_err();
        assert!(
            err.to_string().contains("no branch or tag \"nope\""),
            "{err}"
        );
        drop(daemon);
        let err = fetch(&repo_dir, &url, "main", &Access::default(), &stop).unwrap_err();
        assert!(err.to_string().contains("cannot reach"), "{err}");
    }
}
